#!/usr/bin/env python3
"""The SageMaker SDK's repack_model way of writing model.tar.gz, run with the pinned SDK's
interpreter (target/sdk-venv, see tests/conformance/sdk-venv.sh).

sagemaker.core.common_utils.repack_model is not callable on a model dir: its input is an
existing model.tar.gz (model_uri), which it extracts with the SDK's data-filter extractor, it
always adds or replaces code/ with an inference script, and it needs a sagemaker Session. So
this wrapper reproduces the calls repack_model makes once the model dir is ready (SDK 3.27.0,
sagemaker/core/common_utils.py, and v2 sagemaker/utils.py):

    with tarfile.open(tmp_model_path, mode="w:gz") as t:
        t.add(model_dir, arcname=os.path.sep)

then moves the temp file to the destination (_save_model). The first member is the model dir
itself, named "/" (Python strips it to an empty name, GNU tar lists it as "/"); symlinks and
hard links are stored as links (no dereference), FIFOs and devices as their types."""
import os
import sys
import tarfile
import tempfile

model_dir, output = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(output)), prefix=".repack-")
os.close(fd)
try:
    with tarfile.open(tmp, mode="w:gz") as t:
        t.add(model_dir, arcname=os.path.sep)
    os.replace(tmp, output)
except BaseException as e:
    os.unlink(tmp)
    print(f"sagemaker-repack: {e}", file=sys.stderr)
    sys.exit(1)
