#!/usr/bin/env python3
"""Python's tarfile, the common hand-written packager: add(dir, arcname='.')."""
import sys
import tarfile

with tarfile.open(sys.argv[2], "w:gz") as t:
    t.add(sys.argv[1], arcname=".")
