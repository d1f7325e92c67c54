#!/bin/bash
# GNU tar in reproducible mode (https://reproducible-builds.org/docs/archives/), through gzip -n.
set -o pipefail
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "$1" . | gzip -n > "$2"
