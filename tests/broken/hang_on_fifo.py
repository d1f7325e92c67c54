#!/usr/bin/env python3
"""A broken packager: like `tar`, but it opens every entry for reading, FIFOs included.

Opening a FIFO with no writer blocks forever, so this packager hangs on any model dir that
holds one. packtest must kill it at the timeout and report `loud-failure`.
"""
import os
import sys
import tarfile

model_dir, output = sys.argv[1], sys.argv[2]
for root, dirs, files in os.walk(model_dir):
    for name in files:
        path = os.path.join(root, name)
        if not os.path.islink(path):
            with open(path, "rb") as f:  # blocks on a FIFO
                f.read(1)
with tarfile.open(output, "w:gz") as t:
    t.add(model_dir, arcname=".")
