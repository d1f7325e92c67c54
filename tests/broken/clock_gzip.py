#!/usr/bin/env python3
"""A packager with two defects: it stamps the current time into the gzip header's mtime (as
tarfile.open(mode="w:gz") and `gzip` without -n do), and it keeps the files' mtimes. The
strict rerun (mtimes moved) always differs. The bisection's control run, with nothing varied,
must fall in a later second than the first run, so the clock stamp shows and the packager is
called nondeterministic by itself; without that, the control matches the first run when both
fall in one second, and the variations whose runs cross into the next second are blamed."""
import time

import reprolib

reprolib.main(gzip_mtime=int(time.time()), mtime=lambda st: int(st.st_mtime))
