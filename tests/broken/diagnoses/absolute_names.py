#!/usr/bin/env python3
"""Diagnosis `absolute-names` (target `sagemaker`).

Members carry the model dir's absolute path (leading `/` stripped, as GNU tar and tarfile do):
`tar -czf "$OUT" "$SM_MODEL_DIR"` without `-C`, or `tar.add(model_dir)` without `arcname`.
The model lands under opt/ml/model/opt/ml/model/... after extraction.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: absolute_names.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="absolute-names"))
