#!/usr/bin/env python3
"""Diagnosis `extra-top-folder` (target `sagemaker`).

Every member sits under one extra folder named after the model dir (`model/model.pt`):
`tar.add(model_dir, arcname=os.path.basename(model_dir))`, or `tar -czf out -C /opt/ml model`.
SageMaker then extracts to /opt/ml/model/model/... and the server finds nothing at the root.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: extra_top_folder.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="extra-top-folder"))
