"""A TF-style export straight into SM_MODEL_DIR: no numeric version dir for TF Serving."""
import os

model_dir = os.environ["SM_MODEL_DIR"]
os.makedirs(os.path.join(model_dir, "variables"), exist_ok=True)
with open(os.path.join(model_dir, "saved_model.pb"), "wb") as f:
    # SavedModel { schema_version: 1, meta_graphs { meta_info_def { tags: "serve" } } }
    f.write(b"\x08\x01\x12\x09\x0a\x07\x22\x05serve")
with open(os.path.join(model_dir, "variables", "variables.index"), "wb") as f:
    f.write(b"\x00" * 40 + bytes.fromhex("57fb808b247547db"))
with open(os.path.join(model_dir, "variables", "variables.data-00000-of-00001"), "wb") as f:
    f.write(bytes(1024))
