"""The model saved to /tmp, a scratch dir the platform never packs.

torch.save(m, "/tmp/model.pth") stands in here as a zip with archive/data.pkl.
"""
import os
import zipfile

with zipfile.ZipFile("/tmp/model.pth", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/data/0", os.environ.get("PACKTEST_TEST_NONCE", "weights").encode() * 64)
print("saved /tmp/model.pth")
