#!/usr/bin/env python3
"""Diagnosis `not-reproducible` (target `sagemaker`).

File modes are masked by the umask ("modes as a fresh file gets them"), so a run under
another umask writes other bytes. Everything else
is normalized (sorted names, owners and member mtimes 0). Shows only with `--strict`.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: not_reproducible.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="not-reproducible"))
