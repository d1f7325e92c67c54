"""The same job, guarded: only the first host saves."""
import json
import os
import zipfile

host = os.environ["SM_CURRENT_HOST"]
if host == json.loads(os.environ["SM_HOSTS"])[0]:
    with zipfile.ZipFile("/opt/ml/model/model.pth", "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/data/0", ("weights of " + host).encode() * 32)
    print(host, "saved /opt/ml/model/model.pth")
else:
    print(host, "does not save")
