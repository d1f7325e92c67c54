#!/usr/bin/env bash
# Creates target/toolkit-venv with the real SageMaker training toolkit (sagemaker-training,
# PyPI), pinned, for `packtest sim --toolkit` and its test (tests/sim.rs). Idempotent;
# tests/setup.sh calls it. Its C extension needs gcc and the Python headers.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/toolkit-venv
TOOLKIT_VERSION=5.1.4
if [ -x "$VENV/bin/python3" ] && "$VENV/bin/python3" -c "import sagemaker_training.trainer" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "sagemaker-training==$TOOLKIT_VERSION"
"$VENV/bin/python3" -c "import sagemaker_training.trainer; print('sagemaker-training $TOOLKIT_VERSION ready')"
