#!/usr/bin/env python3
"""Diagnosis `symlinks-stored` (target `sagemaker`).

Symlinks are stored as symlink members (tarfile's and GNU tar's default) instead of their
content. SageMaker hosting cannot extract an archive that holds one (AWS knowledge center
`sagemaker-endpoint-creation-fail`). Seen with Hugging Face cache trees saved into the model
dir and `latest -> checkpoint-N` links.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: symlinks_stored.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="symlinks-stored"))
