#!/usr/bin/env bash
# Peak RSS and wall time of `packtest diff` on two large .tar.gz archives that differ in one
# byte near the end of a big member (the worst case: both archives are read twice, once to
# compare every field and hash, once in lockstep to find the first differing byte).
#
#   benches/diff_rss.sh [GIB] [LIMIT_MIB]    (defaults: 8 GiB each, fail above 64 MiB)
#
# The archives are written cheaply (stored deflate blocks of pseudo-random data, so nothing
# is compressed on either side) under $BENCH_TMPDIR (default /var/tmp), and deleted at exit.
# It needs 2 x GIB of free disk. Exit 0 when the peak RSS is under the limit and the diff
# names the right member and byte.
set -euo pipefail
cd "$(dirname "$0")/.."
GIB="${1:-8}"
LIMIT_MIB="${2:-64}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/packtest
DIR="$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" packtest-diff-bench.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

# gen OUT GIB FLIP: a tar.gz with config.json and one GIB GiB weights member; FLIP >= 0
# flips that byte of the weights.
gen() {
  python3 - "$@" <<'PY'
import random, sys, tarfile, zlib, io
out, gib, flip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MIB = 1 << 20
size = gib << 30
block = random.Random(20).randbytes(MIB)
z = zlib.compressobj(0, zlib.DEFLATED, 31)  # gzip framing, stored blocks
with open(out, "wb") as f:
    def put(b):
        f.write(z.compress(b))
    def header(name, n):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = n, 0o644
        return ti.tobuf(tarfile.GNU_FORMAT)
    cfg = b'{"model_type": "bench"}\n'
    put(header("config.json", len(cfg)) + cfg + bytes(-len(cfg) % 512))
    put(header("model.safetensors", size))
    for i in range(size // MIB):
        chunk = bytearray(block)
        chunk[:8] = i.to_bytes(8, "little")  # every MiB differs from the others
        if 0 <= flip - i * MIB < MIB:
            chunk[flip - i * MIB] ^= 0xFF
        put(bytes(chunk))
    put(bytes(1024))  # end-of-archive marker
    f.write(z.flush())
PY
}
FLIP=$(( (GIB << 30) - (1 << 30) + 12345 ))
t0=$(date +%s)
gen "$DIR/a.tar.gz" "$GIB" -1
gen "$DIR/b.tar.gz" "$GIB" "$FLIP"
echo "generated 2 x $(du -h "$DIR/a.tar.gz" | cut -f1) in $(( $(date +%s) - t0 )) s"

set +e
/usr/bin/time -v "$BIN" diff "$DIR/a.tar.gz" "$DIR/b.tar.gz" >"$DIR/out.txt" 2>"$DIR/time.txt"
rc=$?
set -e
cat "$DIR/out.txt"
rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")
echo "packtest diff: exit $rc, peak RSS $(( rss_kib / 1024 )) MiB ($rss_kib KiB), wall $wall"
ok=1
[ "$rc" = 1 ] || { echo "FAIL: exit $rc, expected 1 (different)"; ok=0; }
grep -q "first difference at byte $FLIP" "$DIR/out.txt" || { echo "FAIL: byte $FLIP not named"; ok=0; }
[ "$rss_kib" -lt $(( LIMIT_MIB * 1024 )) ] || { echo "FAIL: peak RSS over $LIMIT_MIB MiB"; ok=0; }
[ "$ok" = 1 ] && echo "OK: under $LIMIT_MIB MiB"
[ "$ok" = 1 ]
