#!/usr/bin/env python3
"""Measure GNU tar and Python tarfile on the hostile-archive corpus (not part of `cargo test`).

Dump the corpus, then run this as root inside a private mount namespace, so that the absolute
paths some cases write (/tmp/..., /etc/cron.d/...) land on throwaway tmpfs mounts:

    HOSTILE_DUMP=/var/tmp/hxdump cargo test --test hostile_archives dump -- --ignored
    unshare --mount --propagation private -- sh -c '
        mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /etc/cron.d &&
        mkdir -p /var/tmp/hxm && mount -t tmpfs -o size=256m tmpfs /var/tmp/hxm &&
        python3 tests/hostile_archives/other_readers.py /var/tmp/hxdump /var/tmp/hxm' > readers.jsonl

For each archive and each reader it records: the exit code or exception, whether anything was
written outside the destination (in the sandbox around it, in /tmp or in /etc/cron.d), whether
a device node or a setuid/setgid file was created, and how many bytes were written. Readers:
`tar -tvf` and `tar -xf` (GNU tar, as root), `tarfile` listing, `extractall()` with the 3.11
default (fully_trusted: what older SageMaker SDKs did) and with `filter="data"` (what the SDK's
`custom_extractall_tarfile` uses when available).
"""

import json
import os
import shutil
import stat
import subprocess
import sys

PY = sys.executable
DUMP, WORK = sys.argv[1], sys.argv[2]
WATCH = ["/tmp", "/etc/cron.d"]

PY_LIST = "import tarfile,sys\nwith tarfile.open(sys.argv[1]) as t: print(len(t.getmembers()))"
PY_X = (
    "import tarfile,sys\n"
    "with tarfile.open(sys.argv[1]) as t:\n"
    "    t.extractall(sys.argv[2]{})\n"
)


def tree(root, skip=None):
    out = set()
    for d, dirs, files in os.walk(root):
        if skip and os.path.abspath(d) == skip:
            dirs[:] = []
            continue
        for n in dirs + files:
            p = os.path.join(d, n)
            if skip and os.path.abspath(p) == skip:
                continue
            out.add(os.path.relpath(p, root))
    return out


def run(argv, timeout=60):
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout)
        err = p.stderr.decode(errors="replace").strip().splitlines()
        return p.returncode, (err[-1] if err else "")[:160]
    except subprocess.TimeoutExpired:
        return "timeout", ""


def extract(name, archive, argv_fn):
    outer = os.path.join(WORK, "outer")
    shutil.rmtree(outer, ignore_errors=True)
    dest = os.path.join(outer, "dest")
    os.makedirs(dest)
    with open(os.path.join(outer, "victim"), "w") as f:
        f.write("victim")
    before = {w: tree(w) for w in WATCH}
    rc, msg = run(argv_fn(archive, dest))
    escaped = sorted(tree(outer, skip=os.path.abspath(dest)) - {"victim"})
    with open(os.path.join(outer, "victim")) as f:
        if f.read() != "victim":
            escaped.append("victim overwritten")
    for w in WATCH:
        new = tree(w) - before[w]
        escaped += [os.path.join(w, n) for n in sorted(new)]
        for n in new:
            p = os.path.join(w, n)
            if os.path.islink(p) or os.path.isfile(p):
                os.unlink(p)
            elif os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
    devices, setid, size = [], [], 0
    for d, dirs, files in os.walk(dest):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                devices.append(os.path.relpath(p, dest))
            if stat.S_ISREG(st.st_mode):
                size += st.st_size
                if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    setid.append("%s %o" % (os.path.relpath(p, dest), st.st_mode & 0o7777))
    shutil.rmtree(outer, ignore_errors=True)
    return {"rc": rc, "msg": msg, "escaped": escaped, "devices": devices, "setid": setid, "bytes": size}


def main():
    index = {}
    with open(os.path.join(DUMP, "INDEX.tsv")) as f:
        for line in f:
            name, exit_code, error, problems = line.rstrip("\n").split("\t")
            index[name] = (int(exit_code), error, problems)
    for name in sorted(index):
        a = os.path.join(DUMP, name + ".tar.gz")
        if not os.path.exists(a):
            a = os.path.join(DUMP, name + ".tar")
        res = {"case": name, "packtest_exit": index[name][0], "packtest_error": index[name][1],
               "packtest_problems": index[name][2]}
        res["gnu_list"] = run(["tar", "-tvf", a])
        res["gnu_x"] = extract(name, a, lambda a, d: ["tar", "-xf", a, "-C", d])
        res["py_list"] = run([PY, "-c", PY_LIST, a])
        res["py_trusted"] = extract(name, a, lambda a, d: [PY, "-c", PY_X.format(""), a, d])
        res["py_data"] = extract(name, a, lambda a, d: [PY, "-c", PY_X.format(", filter='data'"), a, d])
        print(json.dumps(res), flush=True)


main()
