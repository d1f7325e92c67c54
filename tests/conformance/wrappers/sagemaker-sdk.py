#!/usr/bin/env python3
"""The real SageMaker Python SDK packing a model dir: sagemaker.core.common_utils.create_tar_file
over the model dir's entries, as the SDK's model upload (sagemaker/serve/utils/uploader.py) and
local mode (local_container.py) call it. Run with the interpreter of the venv that
tests/conformance/sdk-venv.sh creates (sagemaker pinned there)."""
import os
import sys

from sagemaker.core.common_utils import create_tar_file

model_dir, output = sys.argv[1], sys.argv[2]
files = [os.path.join(model_dir, name) for name in os.listdir(model_dir)]
create_tar_file(files, output)
