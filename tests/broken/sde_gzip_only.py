#!/usr/bin/env python3
"""A packager that half-honours SOURCE_DATE_EPOCH: when it is set, it goes into the gzip
header's mtime (and nowhere else); when it is not, the header says 0. The model dir does not
decide the archive: whether the CI exports SOURCE_DATE_EPOCH does."""
import os

import reprolib

reprolib.main(gzip_mtime=int(os.environ.get("SOURCE_DATE_EPOCH", "0")))
