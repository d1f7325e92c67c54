#!/usr/bin/env python3
"""Diagnosis `special-files-stored` (target `sagemaker`).

FIFOs and devices are stored as their type (tarfile's and GNU tar's default) where the target
refuses them: SageMaker cannot take them (conservative rule), so the packager must fail
loudly instead. Seen with a logger's FIFO left in the model dir.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: special_files_stored.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="special-files-stored"))
