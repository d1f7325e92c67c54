#!/usr/bin/env python3
"""Diagnosis `partial-archive-left` (target `sagemaker`).

Writes the archive in place (`tarfile.open(output, "w:gz")` streamed straight to the output
path) and does not clean up: when it refuses an entry half-way (an escaping link, a FIFO) it
exits 1 but leaves a truncated model.tar.gz that a later upload step ships.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: partial_archive_left.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="partial-archive-left"))
