#!/usr/bin/env bash
# Runner throughput: cases per second for --jobs 1 and --jobs 2, with the in-process reference
# packager and with GNU tar, and the runner's own overhead per case (case time minus the
# packager's time, from the JSON report). One run, side by side; report ratios, not seconds.
#
#   benches/runner.sh [CASES]      (default 400)
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-400}"
cargo build --release --quiet
BIN=target/release/packtest
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
row() { # name jobs json wall
  python3 - "$@" <<'PY'
import json, sys
name, jobs, path, wall = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
r = json.load(open(path))
res = r["results"]
case = sum(c["seconds"] for c in res)
pack = sum(c["packager_seconds"] for c in res)
n = len(res)
print(f"{name:<10} jobs={jobs}  {n} cases in {wall:6.2f}s  {n/wall:7.1f} cases/s  "
      f"runner overhead {1000*(case-pack)/n:6.2f} ms/case  packager {1000*pack/n:6.2f} ms/case")
PY
}
declare -A RATE
for pk in reference tar; do
  for j in 1 2; do
    args=(run --cases "$CASES" --seed 5 --jobs "$j" --quiet --no-shrink --no-scenarios --json "$OUT/$pk-$j.json")
    [ "$pk" = tar ] && args+=(--packager 'tar -czf {output} -C {model_dir} .')
    s=$(date +%s.%N); "$BIN" "${args[@]}" >/dev/null || true; e=$(date +%s.%N)
    wall=$(python3 -c "print($e-$s)")
    row "$pk" "$j" "$OUT/$pk-$j.json" "$wall"
    RATE[$pk-$j]=$(python3 -c "print(($CASES+1)/($e-$s))")
  done
done
for pk in reference tar; do
  python3 -c "print('$pk: --jobs 2 / --jobs 1 = %.2fx' % (${RATE[$pk-2]}/${RATE[$pk-1]}))"
done
