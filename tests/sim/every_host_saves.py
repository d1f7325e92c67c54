"""Every host saves model.pth with its own weights: the platform merges the hosts' model dirs
and one copy silently wins (P18). Each also saves model-<host>.pth, a name of its own, which
the merge keeps."""
import os
import zipfile

host = os.environ["SM_CURRENT_HOST"]
with zipfile.ZipFile("/opt/ml/model/model.pth", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/data/0", ("weights of " + host).encode() * 32)
with zipfile.ZipFile(f"/opt/ml/model/model-{host}.pth", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
print(host, "saved /opt/ml/model/model.pth")
