#!/usr/bin/env bash
# Creates target/kserve-venv with the real KServe storage initializer (`kserve-storage` from
# PyPI, pinned, with its deps: boto3, google-cloud-storage, azure-*), for the consumer
# conformance matrix's `kserve` consumer (tests/consumers). Idempotent; tests/setup.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/kserve-venv
KSERVE_STORAGE_VERSION=0.21.0
check() {
  "$VENV/bin/python3" - "$KSERVE_STORAGE_VERSION" <<'PY'
import sys
from importlib.metadata import version
from kserve_storage.kserve_storage import Storage
assert callable(Storage._unpack_archive_file)
have = version("kserve-storage")
if have != sys.argv[1]:
    sys.exit(f"kserve-storage {have} installed, {sys.argv[1]} wanted")
PY
}
if [ -x "$VENV/bin/python3" ] && check 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "kserve-storage==$KSERVE_STORAGE_VERSION"
check
echo "kserve-storage $KSERVE_STORAGE_VERSION ready"
