#!/usr/bin/env python3
"""Diagnosis `dot-names-missing` (target `sagemaker`).

Names that start with `.` at the top of the model dir are missing: the file list is what a
shell `*` expands to, and `*` skips dot-names (`.gitattributes`, `.hydra/`, `.cache/`...).
Seen as `cd "$SM_MODEL_DIR" && tar -czf "$OUT" *` in training entrypoints and CI steps,
and as `glob.glob(os.path.join(model_dir, "*"))` in Python packaging helpers.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: dot_names_missing.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="dot-names-missing"))
