#!/usr/bin/env bash
# Installs the real tools packtest's test suite compares against, and checks each is there:
# GNU tar, gzip, bsdtar, igzip, GNU time, setpriv (Debian), and pinned venvs with the SageMaker
# SDK, kserve-storage and sagemaker-training (PyPI), cached under target/. Idempotent: a second run takes seconds.
# The README's test command is `tests/setup.sh && cargo test`; `.ci/run` runs exactly that.
# The conformance suites fail, never skip, when one of these is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# GNU tar, gzip and Python's tarfile are read against packtest's output (tests/interop.rs),
# and GNU tar and Python are packagers under test.
need_apt=()
command -v tar >/dev/null || need_apt+=(tar)
command -v gzip >/dev/null || need_apt+=(gzip)
command -v python3 >/dev/null || need_apt+=(python3)
command -v igzip >/dev/null || need_apt+=(isal)
command -v bsdtar >/dev/null || need_apt+=(libarchive-tools)
python3 -c 'import venv' 2>/dev/null || need_apt+=(python3-venv)
# The hostile-input suites: /usr/bin/time measures peak RSS (tests/hostile_archives,
# tests/runner_robustness); setpriv runs permission cases as uid 65534 and mount makes the
# small tmpfs and the read-only bind mount (tests/hostile_fs; those cases skip without root).
[ -x /usr/bin/time ] || need_apt+=(time)
command -v setpriv >/dev/null || need_apt+=(util-linux)
command -v mount >/dev/null || need_apt+=(mount)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
tar --version | head -1
gzip --version | head -1
python3 -c 'import tarfile, sys; print("python", sys.version.split()[0], "with tarfile")'
igzip --version | head -1
bsdtar --version
# The real SageMaker SDK, pinned, for the conformance suite (tests/conformance).
tests/conformance/sdk-venv.sh
# The real KServe storage initializer (kserve-storage), pinned, for the consumer conformance
# matrix (tests/consumers), which also runs GNU tar, bsdtar, python3 and the SDK venv above.
tests/consumers/kserve-venv.sh
# The real SageMaker training toolkit (sagemaker-training), pinned, for `sim --toolkit` and the
# test that compares the environment it gives a script with sim's own (tests/sim.rs). Its C
# extension builds with gcc and the Python headers.
tests/sim/toolkit-venv.sh
# The real model libraries (safetensors, numpy, h5py, onnx, xgboost, scikit-learn, joblib) and
# picklescan, pinned, for the model-file integrity suite (tests/model_files.rs).
tests/formats/formats-venv.sh
