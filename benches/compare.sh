#!/usr/bin/env bash
# One command, one run, side by side: packtest pack (the default, then every --level 0-9)
# against tar -cf (uncompressed, to a file; then with an fsync of it, as pack does), tar -czf,
# tar | gzip -N, tar | pigz -p 2, tar | igzip -T 2 -1, and Python tarfile "w:gz" (the SageMaker
# SDK's way), on a float-weights tree and on 20,000 small text files built with packtest's own
# generators. Prints MB/s, the time ratio of each tool to packtest's default and to tar -cf,
# peak RSS and output sizes, then the runner's throughput (benches/runner.sh). Installs pigz,
# isal and GNU time with apt when they are missing.
#
#   benches/compare.sh [WEIGHTS_MIB]    (default 768)
#
# GZIP_LEVELS_WEIGHTS (default "1 9") and GZIP_LEVELS_SMALL (default "1 2 3 4 5 6 7 8 9") pick
# the tar | gzip -N rows (tar -czf is -6; gzip -9 takes minutes on the weights). With
# PACKTEST_BEFORE=/path/to/an/older/packtest, every level is also run with that binary;
# COMPARE_ONLY=1 leaves out the runner's throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-768}"
. benches/trees.sh
cat > "$WORK/pytar.py" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[2], "w:gz") as t:
    t.add(sys.argv[1], arcname=".")
PY

measure() { # label outfile command...
  local label=$1 out=$2; shift 2
  sync
  /usr/bin/time -f "%e %M" -o "$WORK/t" bash -c "$*" >/dev/null 2>"$WORK/err" || { echo "$label failed: $(cat "$WORK/err")"; return; }
  read -r secs rss < "$WORK/t"
  printf "%s\t%s\t%s\t%s\n" "$label" "$secs" "$rss" "$(stat -c %s "$out")"
}

for tree in weights small; do
  M="$WORK/$tree/opt/ml/model"
  IN=$(du -sb "$M" | cut -f1)
  echo
  echo "== $tree tree: $((IN / 1048576)) MiB in $(find "$M" -type f | wc -l) files"
  if [ "$tree" = weights ]; then GZ_LEVELS=${GZIP_LEVELS_WEIGHTS:-1 9}; else GZ_LEVELS=${GZIP_LEVELS_SMALL:-1 2 3 4 5 6 7 8 9}; fi
  {
    measure "packtest pack" "$WORK/o1" "'$BIN' pack '$M' -o '$WORK/o1'"
    for n in 0 1 2 3 4 5 6 7 8 9; do
      measure "packtest --level $n" "$WORK/ol" "'$BIN' pack '$M' -o '$WORK/ol' --level $n"
    done
    if [ -n "${PACKTEST_BEFORE:-}" ]; then
      for n in 0 1 2 3 4 5 6 7 8 9; do
        measure "before --level $n" "$WORK/ol" "'$PACKTEST_BEFORE' pack '$M' -o '$WORK/ol' --level $n"
      done
    fi
    measure "tar -cf" "$WORK/o0" "tar -cf '$WORK/o0' -C '$M' ."
    measure "tar -cf; sync FILE" "$WORK/o0" "tar -cf '$WORK/o0' -C '$M' . && sync '$WORK/o0'"
    measure "tar -czf" "$WORK/o2" "tar -czf '$WORK/o2' -C '$M' ."
    for n in $GZ_LEVELS; do
      measure "tar | gzip -$n" "$WORK/og" "tar -cf - -C '$M' . | gzip -$n > '$WORK/og'"
    done
    measure "tar | pigz -p 2" "$WORK/o3" "tar -cf - -C '$M' . | pigz -p 2 > '$WORK/o3'"
    measure "tar | igzip -T 2 -1" "$WORK/o4" "tar -cf - -C '$M' . | igzip -T 2 -1 -c > '$WORK/o4'"
    measure "python tarfile w:gz" "$WORK/o5" "python3 '$WORK/pytar.py' '$M' '$WORK/o5'"
  } > "$WORK/rows"
  python3 - "$WORK/rows" "$IN" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if "\t" in l]
size_in = int(sys.argv[2])
base_t = float(rows[0][1])
tar_s = next((int(r[3]) for r in rows if r[0] == "tar -czf"), int(rows[0][3]))
tar_t = next((float(r[1]) for r in rows if r[0] == "tar -cf"), base_t)
print(f"{'tool':<22}{'seconds':>9}{'MB/s':>9}{'time / packtest':>17}{'time / tar -cf':>16}{'peak RSS MiB':>14}{'output bytes':>14}{'size / tar -czf':>17}")
for name, t, rss, size in rows:
    t = float(t)
    print(f"{name:<22}{t:>9.2f}{size_in / max(t, 0.01) / 1e6:>9.1f}{t / base_t:>16.2f}x{t / tar_t:>15.2f}x{int(rss) / 1024:>14.1f}{int(size):>14}{int(size) / tar_s:>16.4f}x")
PY
done
# Every reader accepts packtest's output (the small tree's archive is the last o1).
gzip -t "$WORK/o1" && echo "gzip -t: ok"
igzip -d -c "$WORK/o1" | tar -tf - >/dev/null && echo "igzip -d | tar -t: ok"
python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).getmembers(); print('python tarfile: ok')" "$WORK/o1"
[ -n "${COMPARE_ONLY:-}" ] && exit 0
echo
echo "== runner throughput"
benches/runner.sh 400
