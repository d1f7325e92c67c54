#!/usr/bin/env python3
"""Diagnosis `hard-links-stored` (target `sagemaker`).

Hard links are stored as hard-link members (tarfile and GNU tar do this for every inode seen
twice) instead of full copies; for sagemaker a link member is refused (conservative rule).
Seen when final shards are `os.link`ed from a checkpoint dir to save disk.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: hard_links_stored.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="hard-links-stored"))
