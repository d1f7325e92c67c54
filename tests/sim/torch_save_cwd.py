"""The classic silent failure: torch.save('./model.pt') writes to the working dir.

The job succeeds, SageMaker packs an empty /opt/ml/model, and the deploy fails days later.
This writes what torch.save writes (a zip with archive/data.pkl), with the standard library.
"""
import zipfile

with zipfile.ZipFile("./model.pt", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/data/0", bytes(4096))
print("saved ./model.pt")
