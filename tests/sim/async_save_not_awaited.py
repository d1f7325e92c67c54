"""An async save not awaited: a writer thread still writing model.safetensors when the script
exits (a daemon thread dies with the process), so the file stops short of what its header
promises. Standard library only: the safetensors header is written by hand."""
import json
import os
import struct
import threading
import time

model_dir = os.environ["SM_MODEL_DIR"]
n = 1 << 20
header = json.dumps({"w": {"dtype": "F32", "shape": [n // 4], "data_offsets": [0, n]}}).encode()


def save():
    with open(os.path.join(model_dir, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.write(bytes(4096))
        f.flush()
        time.sleep(30)  # the rest of the tensor bytes never come
        f.write(bytes(n - 4096))


threading.Thread(target=save, daemon=True).start()
time.sleep(0.5)
print("training done")  # and the process exits without joining the writer
