#!/usr/bin/env bash
# Repeated, interleaved runs on the float-weights tree, for figures that one noisy run cannot
# give: each round runs every row once (in an order shuffled per round), and the table shows
# each row's median wall time and median CPU time (user + sys) over the rounds, with ratios to
# tar -cf and to tar | igzip -T 2 -1.
#
#   PACKTEST_BEFORE=/path/to/older/packtest benches/pack_ab.sh [WEIGHTS_MIB] [ROUNDS]   (768, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-768}"
ROUNDS="${2:-5}"
. benches/trees.sh
M="$WORK/weights/opt/ml/model"
rows=("packtest pack::'$BIN' pack '$M' -o '$WORK/o1'"
      "packtest --level 1::'$BIN' pack '$M' -o '$WORK/o1' --level 1"
      "packtest --level 9::'$BIN' pack '$M' -o '$WORK/o1' --level 9")
[ -n "${PACKTEST_BEFORE:-}" ] && rows+=("before: pack::'$PACKTEST_BEFORE' pack '$M' -o '$WORK/o1'")
rows+=("tar -cf::tar -cf '$WORK/o0' -C '$M' ."
       "tar -cf; sync FILE::tar -cf '$WORK/o0' -C '$M' . && sync '$WORK/o0'"
       "tar | igzip -T 2 -1::tar -cf - -C '$M' . | igzip -T 2 -1 -c > '$WORK/o4'")
: > "$WORK/times"
n=${#rows[@]}
for r in $(seq "$ROUNDS"); do
  # Each round runs the rows in its own order (a permutation seeded by the round): a rotation
  # kept every row behind the same neighbour, and the row after the heaviest writer paid for it.
  for k in $(python3 -c "import random; o = list(range($n)); random.Random($r).shuffle(o); print(*o)"); do
    row=${rows[$k]}
    label=${row%%::*}
    sync
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" bash -c "${row#*::}" >/dev/null 2>"$WORK/err" \
      || { echo "$label failed: $(head -c 300 "$WORK/err")" >&2; exit 1; }
    printf "%s\t%s\n" "$label" "$(cat "$WORK/t")" >> "$WORK/times"
  done
done
echo "every run (label, wall s, user s, sys s):"
cat "$WORK/times"
python3 - "$WORK/times" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    label, t = line.rstrip("\n").split("\t")
    e, u, s = map(float, t.split())
    rows.setdefault(label, []).append((e, u + s))
med = {k: (st.median(x for x, _ in v), st.median(c for _, c in v), min(x for x, _ in v), max(x for x, _ in v)) for k, v in rows.items()}
tar, igz = med["tar -cf"][0], med["tar | igzip -T 2 -1"][0]
print(f"{'tool':<22}{'median s':>10}{'min-max s':>14}{'median CPU s':>14}{'/ tar -cf':>11}{'/ igzip -T2 -1':>16}")
for k, (e, c, lo, hi) in med.items():
    print(f"{k:<22}{e:>10.2f}{f'{lo:.2f}-{hi:.2f}':>14}{c:>14.2f}{e / tar:>10.2f}x{e / igz:>15.2f}x")
PY
