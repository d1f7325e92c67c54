"""Python's tarfile as one reader of tests/readers_agree.rs.

One process serves every archive of the run. Each request is one line on stdin,
`<filter>\t<archive>\t<empty dir>` (`filter` is `data` or `fully_trusted`); the answer is one
JSON line on stdout:
  {"list": [member, ...] | null, "list_error": str | null,
   "tree": [node, ...] | null, "extract_error": str | null}
where a member, in archive order, is [name, kind, size, mode, link, sha256] as the header says
(`getmembers()` order; names are raw bytes, decoded with surrogateescape and encoded back, in
hex), and a node, sorted by name, is [name, kind, size, mode, link, sha256, group] for every
object under the dir after `extractall(dir, filter=...)`, walked with lstat; `group` is the
least name among the paths sharing the object's inode when there are several (hard links).
"""

import hashlib
import json
import os
import stat
import sys
import tarfile

KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CHRTYPE: "char-device",
    tarfile.BLKTYPE: "block-device",
}


def raw(name):
    return name.encode("utf-8", "surrogateescape").hex()


def sha_of(f):
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def listing(path):
    out = []
    with tarfile.open(path, "r|*", encoding="utf-8", errors="surrogateescape") as tf:
        for m in tf:
            kind = KINDS.get(m.type, "type-" + m.type.decode("latin-1"))
            sha = sha_of(tf.extractfile(m)) if m.isreg() else None
            link = raw(m.linkname) if (m.issym() or m.islnk()) else None
            out.append([raw(m.name), kind, m.size, m.mode, link, sha])
    return out


def walk(root):
    nodes = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            link = sha = None
            size = 0
            if stat.S_ISREG(st.st_mode):
                kind, size = "file", st.st_size
                with open(p, "rb") as f:
                    sha = sha_of(f)
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISDIR(st.st_mode):
                kind = "dir"
            elif stat.S_ISLNK(st.st_mode):
                kind, mode, link = "symlink", 0o777, os.readlink(p).hex()
            elif stat.S_ISFIFO(st.st_mode):
                kind = "fifo"
            elif stat.S_ISCHR(st.st_mode):
                kind = "char-device"
            elif stat.S_ISBLK(st.st_mode):
                kind = "block-device"
            else:
                kind = "other"
            nodes[rel] = [rel.hex(), kind, size, mode, link, sha, None]
    for names in inodes.values():
        if len(names) > 1:
            least = min(names).hex()
            for n in names:
                nodes[n][6] = least
    return [nodes[k] for k in sorted(nodes)]


def serve(line):
    flt, path, dest = line.rstrip("\n").split("\t")
    ans = {"list": None, "list_error": None, "tree": None, "extract_error": None}
    try:
        ans["list"] = listing(path)
    except Exception as e:  # the reply names what failed; the Rust side reports it
        ans["list_error"] = f"{type(e).__name__}: {e}"
    try:
        with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as tf:
            tf.extractall(dest, filter=flt)
    except Exception as e:
        ans["extract_error"] = f"{type(e).__name__}: {e}"
    try:
        ans["tree"] = walk(os.fsencode(dest))
    except Exception as e:
        ans["extract_error"] = f"walk: {type(e).__name__}: {e}"
    return ans


def main():
    if not hasattr(tarfile, "data_filter"):
        print(json.dumps({"hello": None, "why": "this tarfile has no extraction filters (PEP 706)"}), flush=True)
        return
    print(json.dumps({"hello": sys.version.split()[0]}), flush=True)
    for line in sys.stdin:
        print(json.dumps(serve(line)), flush=True)


if __name__ == "__main__":
    main()
