"""Scratch files through tempfile (TMPDIR), the model through SM_MODEL_DIR: the paths a script
gets from the environment stay in the sandbox whether or not /opt/ml and /tmp are private."""
import os
import tempfile

nonce = os.environ.get("PACKTEST_TEST_NONCE", "scratch")
with open(os.path.join(tempfile.gettempdir(), f"packtest-scratch-{nonce}"), "w") as f:
    f.write("scratch")
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"), "wb") as f:
    f.write(b"\x80\x02}q\x00." + bytes(64))
print("scratch in", tempfile.gettempdir())
