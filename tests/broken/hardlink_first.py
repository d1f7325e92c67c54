#!/usr/bin/env python3
"""A packager that stores each hard link BEFORE the member it links to: of every group of
names sharing an inode, the last name in sorted order is stored as the regular file, and the
others, which come first, as hard links to it. GNU tar and Python's tarfile extract in archive
order, so they fail on each link ("Cannot hard link to ...", KeyError). Everything else is
stored as `tar -czf OUT -C MODEL_DIR .` would store it."""
import os
import sys
import tarfile

model_dir, output = sys.argv[1], sys.argv[2]
paths = []
for root, dirs, files in os.walk(model_dir):
    paths.extend(os.path.join(root, n) for n in dirs + files)
paths.sort()

last = {}
for p in paths:
    st = os.lstat(p)
    if os.path.isfile(p) and not os.path.islink(p) and st.st_nlink > 1:
        last[(st.st_dev, st.st_ino)] = p

tmp = output + ".partial"
with tarfile.open(tmp, "w:gz", format=tarfile.GNU_FORMAT) as t:
    t.add(model_dir, arcname=".", recursive=False)
    for p in paths:
        arc = "./" + os.path.relpath(p, model_dir)
        st = os.lstat(p)
        key = (st.st_dev, st.st_ino)
        ti = t.gettarinfo(p, arcname=arc)
        if ti is None:  # a socket: may be left out
            continue
        if key in last:
            if last[key] != p:
                ti.type = tarfile.LNKTYPE
                ti.linkname = "./" + os.path.relpath(last[key], model_dir)
                ti.size = 0
                t.addfile(ti)
                continue
            ti.type = tarfile.REGTYPE
            ti.linkname = ""
            ti.size = st.st_size
        if ti.isreg():
            with open(p, "rb") as f:
                t.addfile(ti, f)
        else:
            t.addfile(ti)
os.replace(tmp, output)
