#!/usr/bin/env python3
"""Runs one REAL consumer of model.tar.gz on archives, for the consumer conformance matrix
(tests/consumers/main.rs).

    extract.py CONSUMER ARCHIVE DIR [ARCHIVE DIR ...]

Consumers:
  gnu-tar   `tar -xf ARCHIVE -C DIR` (GNU tar, as the current user)
  bsdtar    `bsdtar -xf ARCHIVE -C DIR` (libarchive-tools)
  py-data   `tarfile.open(ARCHIVE).extractall(DIR, filter="data")` (this python3)
  sm-sdk    the SageMaker SDK's `sagemaker.core.common_utils.custom_extractall_tarfile`, the
            extractor of local mode and `repack_model` (run with target/sdk-venv's python)
  kserve    kserve-storage's `Storage._unpack_archive_file(copy, "application/x-tar", DIR)`
            (run with target/kserve-venv's python; it deletes the file it is given, so it
            gets a copy made outside DIR)

DIR must not exist yet (it is created empty, mode 0755 under umask 022). For each pair one
JSON object is printed on its own line:

  {"consumer": ..., "archive": ..., "status": "ok" | "refused", "error": "...",
   "error_class": "ClassName" or "ClassName<-CauseClass" (Python) or "exit N" (tar),
   "tree": [{"path", "type", "mode", "sha256", "target", "linked"}...], "digest": "..."}

"refused" means the consumer failed: an exception from the Python consumers (the error is
"ClassName: message"), a non-zero exit from the tar programs (the error is their stderr;
they skip the members they refuse and go on, so the tree is what they did write).

The tree is DIR walked with lstat, never following a link and never opening anything but
regular files. Paths are relative to DIR (the root itself is "."), sorted by their bytes,
and written escaped: printable ASCII stays, a backslash becomes `\\\\`, every other byte
`\\xNN`. `type` is file, dir, symlink, fifo, char, block, socket or other; `mode` is the
permission bits with setuid/setgid/sticky, in octal (`-` for symlinks); `sha256` is set
for files (`size=N` instead for files over 64 MiB, not read); `target` is a symlink's target (escaped) or a device's `major,minor`; `linked` is,
for a file with more than one link, the first tree path sharing its inode, or `(outside)`
when none in the tree does. `digest` is the sha256 of the tree's lines
`type mode path sha256 target linked` (`-` for an empty field) joined by newlines: the Rust
side computes the same digest on its own walks.
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback


def esc(b: bytes) -> str:
    out = []
    for x in b:
        if x == 0x5C:
            out.append("\\\\")
        elif 0x20 <= x < 0x7F:
            out.append(chr(x))
        else:
            out.append("\\x%02x" % x)
    return "".join(out)


# Files over this size are not hashed (`sha256` is `size=N`): a lying tar header makes some
# consumers write a sparse file of gigabytes.
HASH_LIMIT = 64 << 20


def sha256_file(p: bytes) -> str:
    h = hashlib.sha256()
    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def walk(root: bytes):
    """(relative path bytes, lstat) for root and everything below it, never following links."""
    out = [(b".", os.lstat(root))]
    stack = [b""]
    while stack:
        rel = stack.pop()
        here = os.path.join(root, rel) if rel else root
        for name in os.listdir(here):
            r = os.path.join(rel, name) if rel else name
            st = os.lstat(os.path.join(root, r))
            out.append((r, st))
            if stat.S_ISDIR(st.st_mode):
                stack.append(r)
    return out


def kind(m: int) -> str:
    for test, name in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "dir"),
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "char"),
        (stat.S_ISBLK, "block"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(m):
            return name
    return "other"


def tree(root: bytes):
    entries = sorted(walk(root), key=lambda e: e[0])
    inodes = {}
    for rel, st in entries:
        if stat.S_ISREG(st.st_mode):
            inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    rows = []
    for rel, st in entries:
        t = kind(st.st_mode)
        row = {
            "path": esc(rel),
            "type": t,
            "mode": "-" if t == "symlink" else "%04o" % stat.S_IMODE(st.st_mode),
            "sha256": None,
            "target": None,
            "linked": None,
        }
        full = os.path.join(root, rel)
        if t == "file":
            row["sha256"] = (
                sha256_file(full) if st.st_size <= HASH_LIMIT else "size=%d" % st.st_size
            )
            if st.st_nlink > 1:
                group = inodes[(st.st_dev, st.st_ino)]
                row["linked"] = esc(group[0]) if len(group) > 1 else "(outside)"
        elif t == "symlink":
            row["target"] = esc(os.readlink(full))
        elif t in ("char", "block"):
            row["target"] = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        rows.append(row)
    return rows


def digest(rows) -> str:
    lines = [
        " ".join(
            r[k] or "-" for k in ("type", "mode", "path", "sha256", "target", "linked")
        )
        for r in rows
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def err_text(e: BaseException) -> str:
    text = "%s: %s" % (type(e).__name__, e)
    if e.__cause__ is not None:
        text += " (from %s)" % err_text(e.__cause__)
    return text


def err_class(e: BaseException) -> str:
    """The exception's class, and its cause's (`RuntimeError<-SpecialFileError`)."""
    name = type(e).__name__
    return name + ("<-" + err_class(e.__cause__) if e.__cause__ is not None else "")


def run_tar(prog, archive, dest):
    p = subprocess.run(
        [prog, "-xf", archive, "-C", dest],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    if p.returncode != 0:
        msg = p.stderr.decode("utf-8", "backslashreplace").strip()
        return "exit %d: %s" % (p.returncode, msg)
    return None


def run_py_data(archive, dest):
    import tarfile

    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")


def run_sm_sdk(archive, dest):
    import tarfile

    from sagemaker.core.common_utils import custom_extractall_tarfile

    with tarfile.open(archive) as t:
        custom_extractall_tarfile(t, dest)


def run_kserve(archive, dest):
    from kserve_storage.kserve_storage import Storage

    scratch = tempfile.mkdtemp(prefix="kserve-copy-")
    try:
        copy = os.path.join(scratch, "model.tar.gz")
        shutil.copyfile(archive, copy)
        Storage._unpack_archive_file(copy, "application/x-tar", dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


PYTHON_CONSUMERS = {"py-data": run_py_data, "sm-sdk": run_sm_sdk, "kserve": run_kserve}
TAR_CONSUMERS = {"gnu-tar": "tar", "bsdtar": "bsdtar"}


def version(consumer: str) -> str:
    if consumer in TAR_CONSUMERS:
        p = subprocess.run([TAR_CONSUMERS[consumer], "--version"], capture_output=True)
        return p.stdout.decode().splitlines()[0]
    from importlib.metadata import version as v

    py = "python " + sys.version.split()[0]
    if consumer == "sm-sdk":
        return "sagemaker %s (sagemaker-core %s), %s" % (v("sagemaker"), v("sagemaker-core"), py)
    if consumer == "kserve":
        return "kserve-storage %s, %s" % (v("kserve-storage"), py)
    return py


def one(consumer: str, archive: str, dest: str) -> dict:
    os.mkdir(dest, 0o755)
    error = error_class = None
    try:
        if consumer in TAR_CONSUMERS:
            error = run_tar(TAR_CONSUMERS[consumer], archive, dest)
            error_class = error and error.split(":")[0]
        else:
            PYTHON_CONSUMERS[consumer](archive, dest)
    except Exception as e:  # the consumer's failure is the datum
        error = err_text(e)
        error_class = err_class(e)
    rows = tree(os.fsencode(dest))
    return {
        "consumer": consumer,
        "archive": archive,
        "status": "ok" if error is None else "refused",
        "error": error,
        "error_class": error_class,
        "tree": rows,
        "digest": digest(rows),
    }


def main(argv) -> int:
    if len(argv) >= 2 and argv[1] == "--version" and len(argv) == 3:
        print(version(argv[2]))
        return 0
    if len(argv) < 4 or len(argv) % 2 != 0 or argv[1] not in {**PYTHON_CONSUMERS, **TAR_CONSUMERS}:
        print(__doc__, file=sys.stderr)
        return 2
    consumer = argv[1]
    os.umask(0o022)
    if consumer in PYTHON_CONSUMERS:
        # Fail here, once, when the consumer is not installed: that is not a refusal.
        try:
            version(consumer)
            PYTHON_CONSUMERS[consumer]  # noqa: B018
            if consumer == "sm-sdk":
                import sagemaker.core.common_utils  # noqa: F401
            elif consumer == "kserve":
                import kserve_storage.kserve_storage  # noqa: F401
        except Exception:
            traceback.print_exc()
            print("extract.py: consumer %s is not installed" % consumer, file=sys.stderr)
            return 3
    pairs = argv[2:]
    for i in range(0, len(pairs), 2):
        print(json.dumps(one(consumer, pairs[i], pairs[i + 1])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
