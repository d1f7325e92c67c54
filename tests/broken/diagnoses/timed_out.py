#!/usr/bin/env python3
"""Diagnosis `timed-out` (target `sagemaker`).

Before packing, it waits for the training job's completion marker `_SUCCESS` in the model
dir (Spark's and Hadoop's convention, copied into a pipeline whose training framework never
writes it): it polls forever. Shows with a short `--timeout`.

Apart from this one bug it is `packlib`'s correct packager (see packlib.py).
Usage: timed_out.py MODEL_DIR OUTPUT [--target T]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(bug="timed-out"))
