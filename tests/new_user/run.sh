#!/usr/bin/env bash
# A platform team's first hour, from an empty directory, following the README word for word:
# the blocks marked `<!-- new-user:FILE -->` in README.md are what a user copies, and this
# script copies exactly those (so the README cannot drift from what works).
# 1. Rust: `cargo new`, the README's Cargo.toml lines and its `cargo test` example, then
#    `cargo test` in the new crate, with one test of ours beside the README's: packtest's
#    debug-build tip does not fire under the README's profile lines (debug_tip.rs).
# 2. Python: the README's venv and `pip install` lines (pip builds the wheel from this checkout
#    with maturin, through pyproject.toml), its pytest example, then pytest; then the module's
#    own tests (tests/new_user/test_wheel.py) in that venv.
# The packager under test is a correct one, a tarfile packager that dereferences safely
# (tests/conformance/wrappers/py-deref-safe.py), saved as the user's `pack.py`.
# `.ci/run` runs this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# A fixed place under target/, so a second run reuses the new crate's build.
work="$ROOT/target/new-user"
rm -rf "$work"
mkdir -p "$work"
ln -s "$ROOT" "$work/packtest"

# The fenced block that follows `<!-- new-user:$1 -->` in the README.
readme_block() {
  python3 - "$ROOT/README.md" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- new-user:" + re.escape(sys.argv[2]) + r" -->\n```[a-z]*\n(.*?)```", text, re.S)
if not m:
    sys.exit(f"README.md has no block marked <!-- new-user:{sys.argv[2]} -->")
sys.stdout.write(m.group(1))
PY
}
user_lines() { grep -cv '^\s*\(#.*\|//.*\)\?$' "$1"; }

echo "== a new Rust crate with packtest as a dev-dependency ($(date +%T))"
cd "$work"
cargo new --quiet --lib our-packager
cd our-packager
cp "$ROOT/tests/conformance/wrappers/py-deref-safe.py" pack.py
readme_block Cargo.toml >> Cargo.toml
# Not a README step: packtest's own lock, so the dependencies built for packtest's tests in
# target/ are reused (a user's resolve may pick newer semver-compatible versions).
cp "$ROOT/Cargo.lock" .
mkdir -p tests
readme_block tests/packager.rs > tests/packager.rs
# Not a README step: the debug-build tip stays off with the README's profile lines.
cp "$ROOT/tests/new_user/debug_tip.rs" tests/debug_tip.rs
echo "the user's own lines: Cargo.toml $(readme_block Cargo.toml | user_lines /dev/stdin), tests/packager.rs $(user_lines tests/packager.rs)"
CARGO_TARGET_DIR="$ROOT/target" cargo test --quiet

echo "== a new Python project with packtest and pytest in a fresh venv ($(date +%T))"
mkdir "$work/our-py"
cd "$work/our-py"
cp "$ROOT/tests/conformance/wrappers/py-deref-safe.py" pack.py
readme_block setup.sh > "$work/setup.sh"
bash -euo pipefail "$work/setup.sh"
readme_block test_packager.py > test_packager.py
echo "the user's own lines: setup $(user_lines "$work/setup.sh"), test_packager.py $(user_lines test_packager.py)"
.venv/bin/python -m pytest -q -p no:cacheprovider test_packager.py

echo "== the Python module's own tests, against the installed wheel ($(date +%T))"
mkdir "$work/module-tests"
cp "$ROOT/tests/new_user/test_wheel.py" "$work/module-tests/"
cd "$work/module-tests"
PACKTEST_WRAPPERS="$ROOT/tests/conformance/wrappers" \
  "$work/our-py/.venv/bin/python" -m pytest -q -p no:cacheprovider test_wheel.py
