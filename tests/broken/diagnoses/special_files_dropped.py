#!/usr/bin/env python3
"""Diagnosis `special-files-dropped` (target `sagemaker`).

FIFOs and devices are silently skipped and the run exits 0 ("tar cannot hold pipes anyway"),
where the contract wants a loud failure: the model dir held something the archive lost.
Seen in hand-written walkers with `if not (os.path.isfile(p) or os.path.isdir(p)): continue`.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: special_files_dropped.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="special-files-dropped"))
