#!/usr/bin/env python3
"""The control: packlib's correct packager with no bug, for every target (`--target T`). It also
refuses an empty model dir loudly (no regular file anywhere in it: exit 1, a message on stderr,
no output file), which DESIGN §2 `exit-and-output` allows under every target.
Usage: correct.py MODEL_DIR OUTPUT [--target sagemaker|posix|kserve]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packlib  # noqa: E402

sys.exit(packlib.main(refuse_empty=True))
