# Sourced by benches/compare.sh and benches/read.sh: installs pigz, isal and GNU time when
# missing, builds packtest in release, makes $WORK (removed on exit), and builds the two bench
# trees with packtest's own generators: $WORK/weights ($MIB MiB of float32 in one
# safetensors file) and $WORK/small (20,000 4 KiB text files in 100 dirs). Sets BIN and WORK.
# Needs MIB set and the repository root as the working directory.
need=()
command -v pigz >/dev/null || need+=(pigz)
command -v igzip >/dev/null || need+=(isal)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
BIN="$PWD/target/release/packtest"
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/packtest-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/weights.toml" <<TOML
[[entry]]
root = "model"
path = "model.safetensors"
kind = "file"
content = { seed = 1, size = $((MIB * 1048576)), fill = "floats" }
TOML
python3 - "$WORK/small.toml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(f'[[entry]]\nroot = "model"\npath = "d{i % 100:02d}/f{i:05d}.txt"\nkind = "file"\n'
                f'content = {{ seed = {i}, size = 4096, fill = "text" }}\n\n')
PY
"$BIN" materialize "$WORK/weights.toml" "$WORK/weights" >/dev/null
"$BIN" materialize "$WORK/small.toml" "$WORK/small" >/dev/null
