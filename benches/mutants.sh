#!/usr/bin/env bash
# Mutation score of the judging core: runs cargo-mutants on harness/contract, harness/detect and
# harness/archive with the tests that cover them, then prints caught / missed / timeout /
# unviable and the score, caught / (caught + missed). Too slow for CI (each mutant is an
# incremental rebuild plus the test subset: about a minute on 2 cores), so .ci/run leaves it out.
#
#   benches/mutants.sh [CARGO-MUTANTS ARGS...]
#   benches/mutants.sh -f 'harness/contract/**'       # one module (replaces the default scope)
#   benches/mutants.sh --shard 1/8                     # one slice of the default scope
#
# Installs cargo-mutants (pinned) under target/tools when missing. Mutates the source tree in
# place (cargo-mutants puts every file back, even on Ctrl-C), so it refuses to start on a tree
# with uncommitted changes under harness/ unless MUTANTS_DIRTY_OK=1. Results: target/mutants/
# mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt, outcomes.json).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=27.1.0
TOOLS=target/tools
if ! "$TOOLS/bin/cargo-mutants" mutants --version 2>/dev/null | grep -qF "$VERSION"; then
  cargo install --locked --root "$TOOLS" --version "$VERSION" cargo-mutants
fi
export PATH="$PWD/$TOOLS/bin:$PATH"

if [ "${MUTANTS_DIRTY_OK:-0}" != 1 ] && git rev-parse --git-dir >/dev/null 2>&1 &&
  [ -n "$(git status --porcelain -- harness)" ]; then
  echo "benches/mutants.sh: uncommitted changes under harness/; commit them or set MUTANTS_DIRTY_OK=1" >&2
  exit 2
fi

scope=(-f 'harness/contract/**' -f 'harness/detect/**' -f 'harness/archive/**')
for a in "$@"; do
  case "$a" in -f | --file | --file=*) scope=() ;; esac
done
# The unit tests of the three modules, plus the integration tests that judge real archives
# with them and run in seconds (broken_packagers and readers_agree take over 30 s each, so a
# mutant they alone would catch shows as missed here: see README, Mutation testing).
# Given as --cargo-arg so the per-mutant build links only these test binaries. No --cap-lints:
# it changes RUSTFLAGS, which rebuilds every dependency.
tests=()
for t in --lib --test=check --test=scenarios --test=targets --test=detect_ground_truth \
  --test=roundtrip --test=streaming; do tests+=("--cargo-arg=$t"); done

status=0
# The gzip writer's unit tests take 11 s and judge nothing in scope: skipped.
cargo mutants --in-place --timeout 240 --build-timeout 900 --output target/mutants \
  "${tests[@]}" "${scope[@]}" "$@" -- -- --skip gzip:: || status=$?

out=target/mutants/mutants.out
count() { if [ -f "$out/$1.txt" ]; then grep -c . "$out/$1.txt" || true; else echo 0; fi; }
caught=$(count caught)
missed=$(count missed)
timeout=$(count timeout)
unviable=$(count unviable)
echo "caught $caught  missed $missed  timeout $timeout  unviable $unviable"
if [ $((caught + missed)) -gt 0 ]; then
  awk -v c="$caught" -v m="$missed" 'BEGIN { printf "score %.1f%% (caught / (caught + missed))\n", 100 * c / (c + m) }'
fi
[ "$missed" -gt 0 ] && { echo "missed:"; sed 's/^/  /' "$out/missed.txt"; }
# cargo-mutants exits 2 when a mutant was missed, 3 on a timeout: pass that on.
exit "$status"
