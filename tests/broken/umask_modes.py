#!/usr/bin/env python3
"""A packager that stores the modes its staging copy got: it copies each file with open() and
os.makedirs(), so the modes are 0666/0777 minus the umask (exec bits kept), not the model
dir's. Under umask 022 the archive looks right; under 077 every member is private."""
import os
import stat

import reprolib


def umask():
    old = os.umask(0)
    os.umask(old)
    return old


def staged_mode(path, st):
    base = 0o777 if stat.S_ISDIR(st.st_mode) else (0o666 | (st.st_mode & 0o111))
    return base & ~umask()


reprolib.main(mode=staged_mode)
