#!/usr/bin/env python3
"""A packager that stores every directory, the `./` root entry included, as 0700: what a
packager gets when it copies the model dir into a `mkdtemp()` dir or runs under umask 077.
Everything else is stored faithfully. A consumer that keeps directory modes (tar as root)
gives the server a tree another user cannot enter."""
import os
import sys
import tarfile

model_dir, output = sys.argv[1], sys.argv[2]


def private(ti):
    if ti.isdir():
        ti.mode = 0o700
    return ti


tmp = output + ".partial"
with tarfile.open(tmp, "w:gz") as t:
    t.add(model_dir, arcname=".", filter=private)
os.replace(tmp, output)
