"""A job that fails and says why in /opt/ml/output/failure, as the toolkit expects."""
import os
import sys

out = os.path.dirname(os.environ["SM_OUTPUT_DATA_DIR"])
with open(os.path.join(out, "failure"), "w") as f:
    f.write("CUDA out of memory at epoch 3")
sys.exit(3)
