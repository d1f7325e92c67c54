#!/usr/bin/env bash
# The read side, one run, side by side: `packtest inspect` (every member listed with its sha256,
# CRC32, ISIZE and trailing bytes checked) against the tools that only list or only inflate:
# `igzip -dc | tar -t`, `tar -tzf`, `gzip -dc`, `igzip -dc`, `pigz -dc`, and rapidgzip (parallel
# inflate of one gzip member, from PyPI, pinned, in target/rapidgzip-venv) when it installs.
# Archives: a float-weights tree (WEIGHTS_MIB, default 768) and 20,000 4 KiB text files, packed
# by `packtest pack` and by `tar -czf`. Prints seconds, the ratio to `igzip -dc | tar -t`, and
# peak RSS. `inspect` also runs with PACKTEST_INFLATE_THREADS=1 (the gzip layer on one thread
# beside the tar parsing, no parallel inflate). With OLD_BIN=path, an older packtest binary gets
# a row too (before/after).
#
#   benches/read.sh [WEIGHTS_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-768}"
RAPIDGZIP_VERSION=0.16.2
RG=target/rapidgzip-venv
if ! "$RG/bin/rapidgzip" --version >/dev/null 2>&1; then
  python3 -m venv "$RG" >/dev/null && "$RG/bin/pip" install -q "rapidgzip==$RAPIDGZIP_VERSION" >/dev/null 2>&1 \
    || echo "rapidgzip $RAPIDGZIP_VERSION did not install; its row is left out"
fi
. benches/trees.sh

measure() { # label command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/t" bash -c "$*" >/dev/null 2>"$WORK/err" || { echo "$label failed: $(head -c 300 "$WORK/err")" >&2; return; }
  read -r secs rss < "$WORK/t"
  printf "%s\t%s\t%s\n" "$label" "$secs" "$rss"
}

# READ_QUICK=1 (for large sizes): only the archives packtest packs, and only the igzip | tar -t
# and packtest rows.
QUICK=${READ_QUICK:-}
for tree in weights small; do
  M="$WORK/$tree/opt/ml/model"
  "$BIN" pack "$M" -o "$WORK/$tree.packtest.tar.gz" 2>/dev/null
  MADE=packtest
  if [ -z "$QUICK" ]; then
    tar -czf "$WORK/$tree.tar-czf.tar.gz" -C "$M" .
    MADE="packtest tar-czf"
  fi
  for made in $MADE; do
    A="$WORK/$tree.$made.tar.gz"
    cat "$A" >/dev/null # in the page cache for every row alike
    echo
    echo "== $tree tree packed by $made: $(( $(stat -c %s "$A") / 1048576 )) MiB compressed"
    {
      measure "igzip -dc | tar -t" "igzip -dc '$A' | tar -tf -"
      measure "packtest inspect" "'$BIN' inspect '$A'"
      measure "inspect, 1 inflate thread" "PACKTEST_INFLATE_THREADS=1 '$BIN' inspect '$A'"
      [ -n "${OLD_BIN:-}" ] && measure "packtest inspect (OLD_BIN)" "'$OLD_BIN' inspect '$A'"
      if [ -z "$QUICK" ]; then
        measure "tar -tzf" "tar -tzf '$A'"
        measure "gzip -dc" "gzip -dc '$A'"
        measure "igzip -dc" "igzip -dc '$A'"
        measure "pigz -dc" "pigz -dc '$A'"
        [ -x "$RG/bin/rapidgzip" ] && measure "rapidgzip -d -P 2" "'$RG/bin/rapidgzip' -d -c -P 2 '$A'"
      fi
      true
    } > "$WORK/rows"
    python3 - "$WORK/rows" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if "\t" in l]
base = float(rows[0][1])
print(f"{'reader':<28}{'seconds':>9}{'/ igzip|tar -t':>16}{'peak RSS MiB':>14}")
for name, t, rss in rows:
    print(f"{name:<28}{float(t):>9.2f}{float(t) / base:>15.2f}x{int(rss) / 1024:>14.1f}")
PY
  done
done
