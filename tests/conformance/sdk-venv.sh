#!/usr/bin/env bash
# Creates target/sdk-venv with the real SageMaker Python SDK, pinned, for the conformance
# suite's `sagemaker-sdk` row. Idempotent; tests/setup.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/sdk-venv
SDK_VERSION=3.27.0
if [ -x "$VENV/bin/python3" ] && "$VENV/bin/python3" -c "import sagemaker.core.common_utils" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "sagemaker==$SDK_VERSION"
"$VENV/bin/python3" -c "import sagemaker.core.common_utils; print('sagemaker SDK $SDK_VERSION ready')"
