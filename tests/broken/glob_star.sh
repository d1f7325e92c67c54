#!/bin/sh
# A packager as platform engineers write it: a shell `*` in the model dir. The README's
# "Test your own packager" shows packtest's real report on it (tests/broken_packagers.rs
# regenerates that block and fails when it is stale).
set -e
cd "$1"
tar -czf "$2" *
