#!/usr/bin/env python3
"""Diagnosis `exit-zero-without-archive` (target `sagemaker`).

Swallows the exception: `except Exception as e: logger.warning(e)` around the packing, so a
refusal (an escaping link, a FIFO) ends with exit 0 and no model.tar.gz. The job is marked
successful and the upload step fails later, or uploads a stale archive.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: exit_zero_without_archive.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="exit-zero-without-archive"))
