#!/usr/bin/env python3
"""A packager that does the right thing for SageMaker hosting, written the way a platform team
would: Python's tarfile with dereference=True, but refusing, before writing anything, every
symlink that leaves the model dir, dangles or loops, and every FIFO or device (hosting cannot
extract links, and a copy of outside bytes would leak data). Members are named relative to
the model dir, sorted; the archive is written to a temp file and renamed into place."""
import os
import stat
import sys
import tarfile
import tempfile

model_dir, output = os.path.abspath(sys.argv[1]), sys.argv[2]
real_root = os.path.realpath(model_dir)
problems = []


def check(path, stack):
    for name in sorted(os.listdir(path)):
        p = os.path.join(path, name)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            try:
                real = os.path.realpath(p, strict=True)
            except (OSError, RuntimeError) as e:
                problems.append(f"{p}: symlink cannot be resolved ({e.__class__.__name__})")
                continue
            if os.path.commonpath([real, real_root]) != real_root:
                problems.append(f"{p}: symlink leaves the model dir ({real})")
                continue
            if os.path.isdir(real):
                if any(os.path.commonpath([s, real]) == real for s in stack + [os.path.realpath(path)]):
                    problems.append(f"{p}: symlink to one of its own parent dirs")
                    continue
                check(real, stack + [os.path.realpath(path)])
            elif not os.path.isfile(real):
                problems.append(f"{p}: symlink to a special file")
        elif stat.S_ISDIR(st.st_mode):
            check(p, stack + [os.path.realpath(path)])
        elif stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            problems.append(f"{p}: a FIFO or device, which SageMaker hosting cannot extract")


check(model_dir, [])
if problems:
    for p in problems:
        print(f"py-deref-safe: refusing: {p}", file=sys.stderr)
    sys.exit(1)

fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(output)), prefix=".pack-")
os.close(fd)
try:
    with tarfile.open(tmp, "w:gz", dereference=True) as t:
        for name in sorted(os.listdir(model_dir)):
            p = os.path.join(model_dir, name)
            if stat.S_ISSOCK(os.lstat(p).st_mode):
                continue
            t.add(p, arcname=name, filter=lambda ti: None if ti.type not in (tarfile.REGTYPE, tarfile.DIRTYPE) else ti)
    os.rename(tmp, output)
except BaseException as e:
    os.unlink(tmp)
    print(f"py-deref-safe: {e}", file=sys.stderr)
    sys.exit(1)
