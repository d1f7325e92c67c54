#!/usr/bin/env python3
"""A packager that stores entries in the order os.listdir() returns them: the filesystem's
order (creation order on tmpfs, hash order on ext4), not the names'."""
import reprolib

reprolib.main(order=list)
