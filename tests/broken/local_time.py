#!/usr/bin/env python3
"""A packager that stamps every member with a fixed release date, parsed as local time with
time.mktime(): the same date is a different instant in every time zone."""
import time

import reprolib

RELEASE = time.mktime(time.strptime("2024-01-01 00:00:00", "%Y-%m-%d %H:%M:%S"))

reprolib.main(mtime=lambda st: int(RELEASE))
