#!/bin/sh
# bsdtar (libarchive, Debian package libarchive-tools): bsdtar -czf OUT -C DIR .
exec bsdtar -czf "$2" -C "$1" .
