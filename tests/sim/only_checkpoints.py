"""A job that writes checkpoints every epoch and never saves the final model."""
import os
import zipfile

ckpt_dir = os.environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints")
for epoch in (1, 2, 3):
    d = os.path.join(ckpt_dir, f"checkpoint-{epoch * 100}")
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(d, "model.pt"), "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
print("training done")
