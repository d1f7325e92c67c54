#!/usr/bin/env bash
# Peak RSS and wall time of `packtest check --archive` on a large .tar.gz of model files, read
# as one stream with every model member going through the integrity readers (never
# extracted): a safetensors file, a PyTorch zip (stored, with a `data.pkl` and one big
# storage entry whose CRC-32 is checked) and a joblib-style pickle with one big BINBYTES8.
#
#   benches/check_archive_rss.sh [GIB] [LIMIT_MIB]    (defaults: 4 GiB, fail above 64 MiB)
#
# The archive is written cheaply (stored deflate blocks) under $BENCH_TMPDIR (default
# /var/tmp) and deleted at exit; it needs GIB of free disk. Exit 0 when the peak RSS is under
# the limit and `check` reports no integrity finding (the files are whole).
set -euo pipefail
cd "$(dirname "$0")/.."
GIB="${1:-4}"
LIMIT_MIB="${2:-64}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/packtest
DIR="$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" packtest-check-bench.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

t0=$(date +%s)
python3 - "$DIR/model.tar.gz" "$GIB" <<'PY'
import json, random, struct, sys, tarfile, zlib
out, gib = sys.argv[1], int(sys.argv[2])
MIB = 1 << 20
block = random.Random(20).randbytes(MIB)
z = zlib.compressobj(0, zlib.DEFLATED, 31)  # gzip framing, stored blocks
f = open(out, "wb")
def put(b):
    f.write(z.compress(b))
def member(name, n):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode = n, 0o644
    put(ti.tobuf(tarfile.GNU_FORMAT))
def pad(n):
    put(bytes(-n % 512))
def chunks(n):
    for i in range(n // MIB):
        c = bytearray(block)
        c[:8] = i.to_bytes(8, "little")
        yield bytes(c)
quarter = (gib << 30) // 4
# safetensors: half the archive, one U8 tensor.
hdr = json.dumps({"w": {"dtype": "U8", "shape": [2 * quarter], "data_offsets": [0, 2 * quarter]}}).encode()
hdr += b" " * (-len(hdr) % 8)
head = struct.pack("<Q", len(hdr)) + hdr
member("model.safetensors", len(head) + 2 * quarter)
put(head)
for c in chunks(2 * quarter):
    put(c)
pad(len(head) + 2 * quarter)
# PyTorch zip, stored: data.pkl, version, data/0 (a quarter), central directory.
pkl = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02."
crc = 0
for c in chunks(quarter):
    crc = zlib.crc32(c, crc)
entries = [(b"archive/data.pkl", pkl, zlib.crc32(pkl)), (b"archive/version", b"3\n", zlib.crc32(b"3\n")), (b"archive/data/0", None, crc)]
def local(name, size, crc):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, size, size, len(name), 0) + name
zipbytes = []  # (bytes or None for the big data)
offs, pos = [], 0
for name, data, c in entries:
    size = len(data) if data is not None else quarter
    h = local(name, size, c)
    offs.append(pos)
    zipbytes.append(h)
    zipbytes.append(data)
    pos += len(h) + size
cd = b"".join(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, c, len(d) if d is not None else quarter, len(d) if d is not None else quarter, len(n), 0, 0, 0, 0, 0, o) + n for (n, d, c), o in zip(entries, offs))
eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 3, 3, len(cd), pos, 0)
total = pos + len(cd) + len(eocd)
member("model.pth", total)
for b in zipbytes:
    if b is None:
        for c in chunks(quarter):
            put(c)
    else:
        put(b)
put(cd + eocd)
pad(total)
# A pickle with one BINBYTES8 of a quarter.
n = quarter - 64
head = b"\x80\x04\x8c\x03arr\x94\x8e" + struct.pack("<Q", n)
member("model.joblib", len(head) + n + 2)
put(head)
left = n
for c in chunks(quarter):
    take = min(left, len(c))
    put(c[:take])
    left -= take
    if left == 0:
        break
put(b"\x86.")
pad(len(head) + n + 2)
put(bytes(1024))
f.write(z.flush())
f.close()
PY
echo "generated $(du -h "$DIR/model.tar.gz" | cut -f1) in $(( $(date +%s) - t0 )) s"

set +e
/usr/bin/time -v "$BIN" check --archive "$DIR/model.tar.gz" --target posix >"$DIR/out.txt" 2>"$DIR/time.txt"
rc=$?
set -e
rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$DIR/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")
echo "check --archive: exit $rc, peak RSS $(( rss_kib / 1024 )) MiB, wall $wall"
cat "$DIR/out.txt"
if grep -qE "model-file-|unsafe-pickle" "$DIR/out.txt"; then
  echo "FAIL: an integrity finding on whole files" >&2
  exit 1
fi
if [ "$(( rss_kib / 1024 ))" -ge "$LIMIT_MIB" ]; then
  echo "FAIL: peak RSS over $LIMIT_MIB MiB" >&2
  exit 1
fi
echo "ok"
