#!/usr/bin/env python3
"""Diagnosis `outside-bytes` (target `sagemaker`).

Symlinks that leave the model dir are followed and their target's bytes packed (`tar -h`,
`tarfile.add(..., dereference=True)`): the "fix" people apply after SageMaker refused a
symlink, which ships the training dataset or /tmp with the model. Everything else is right:
internal links are dereferenced, dangling and looping ones refused.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: outside_bytes.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="outside-bytes"))
