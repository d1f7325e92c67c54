"""A script that hard-codes the container path, as most do: torch.save(m, "/opt/ml/model/model.pth").

Stands in for torch.save with the standard library (a zip holding archive/data.pkl).
"""
import os
import zipfile

with zipfile.ZipFile("/opt/ml/model/model.pth", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/data/0", os.environ.get("PACKTEST_TEST_NONCE", "weights").encode() * 64)
print("saved /opt/ml/model/model.pth")
