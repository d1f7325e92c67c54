"""A script that reads config.json beside itself, as SageMaker copies the source dir to /opt/ml/code."""
import json
import os

with open("config.json") as f:  # relative: the job's cwd is /opt/ml/code
    cfg = json.load(f)
with open(os.path.join(os.environ["SM_MODEL_DIR"], cfg["model_name"]), "wb") as f:
    f.write(b"\x80\x02}q\x00." + bytes(cfg["size"]))
print("saved", cfg["model_name"])
