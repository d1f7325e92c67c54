#!/usr/bin/env python3
"""Diagnosis `special-files-read` (target `sagemaker`).

Logs an audit sha256 of every non-link entry before packing, and `open(p, "rb")` on a FIFO
blocks until a writer appears, which never happens: the packager hangs. The packing itself
would refuse the FIFO correctly. Shows with a short `--timeout`.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: special_files_read.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="special-files-read"))
