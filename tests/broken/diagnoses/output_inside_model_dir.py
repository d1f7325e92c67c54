#!/usr/bin/env python3
"""Diagnosis `output-inside-model-dir` (target `sagemaker`).

Stages the archive in the model dir (`model_dir/model.tar.gz.tmp`, then renamed to
the output): the walk meets the half-written temp file and packs it, so the archive holds a
piece of itself. Seen as `tar -czf $SM_MODEL_DIR/model.tar.gz -C $SM_MODEL_DIR .`.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: output_inside_model_dir.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="output-inside-model-dir"))
