"""A correct PyTorch-style job: the model and its handler go under SM_MODEL_DIR."""
import os
import zipfile

model_dir = os.environ["SM_MODEL_DIR"]
with zipfile.ZipFile(os.path.join(model_dir, "model.pt"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/data/0", bytes(4096))
os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
with open(os.path.join(model_dir, "code", "inference.py"), "w") as f:
    f.write("def model_fn(model_dir):\n    return None\n")
print("saved to", model_dir)
