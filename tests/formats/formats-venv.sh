#!/usr/bin/env bash
# Creates target/formats-venv with the real libraries that write model files (safetensors,
# numpy, h5py, onnx, xgboost-cpu, scikit-learn, joblib) and the real `picklescan`, all pinned
# from PyPI, for the model-file integrity suite (tests/model_files.rs). No torch and no
# tensorflow: too large for CI's time budget. Idempotent; tests/setup.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/formats-venv
PINS=(
  "safetensors==0.8.0"
  "numpy==2.4.6"
  "picklescan==1.0.5"
  "h5py==3.16.0"
  "onnx==1.23.2"
  "xgboost-cpu==3.2.0"
  "scikit-learn==1.9.1"
  "joblib==1.6.0"
)
check() {
  "$VENV/bin/python3" - "${PINS[@]}" <<'PY'
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    have = version(name)
    if have != want:
        sys.exit(f"{name} {have} installed, {want} wanted")
import safetensors.numpy, numpy, h5py, onnx, xgboost, sklearn, joblib, picklescan.scanner
PY
}
if [ -x "$VENV/bin/python3" ] && check 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --only-binary=:all: "${PINS[@]}"
check
echo "formats venv ready: ${PINS[*]}"
