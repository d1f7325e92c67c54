#!/usr/bin/env python3
"""Diagnosis `empty-dirs-dropped` (target `sagemaker`).

Only files are added (`for root, dirs, files in os.walk(d): for f in files: tar.add(...)`), so
no directory member is written and an empty dir (`variables/` of a fresh SavedModel, `logs/`)
is gone after extraction. Non-empty dirs come back as their files' parents.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: empty_dirs_dropped.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="empty-dirs-dropped"))
