"""The output path comes from a hyperparameter: --hp model-file=NAME and --hp epochs=N.

Saves SM_MODEL_DIR/<model-file>; without the hyperparameter it saves ./model.pt in the working
dir, a save the platform never packs.
"""
import json
import os
import zipfile

hps = json.loads(os.environ["SM_HPS"])
epochs = hps.get("epochs", 1)
assert isinstance(epochs, int), f"epochs should be a number, got {epochs!r}"
assert os.environ.get("SM_HP_EPOCHS") == str(epochs)
with open("/opt/ml/input/config/hyperparameters.json") as f:
    assert json.load(f)["epochs"] == str(epochs), "hyperparameters.json holds strings"
name = hps.get("model-file")
out = os.path.join(os.environ["SM_MODEL_DIR"], name) if name else "model.pt"
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/data/0", bytes(64 * epochs))
print("saved", out, "after", epochs, "epochs")
