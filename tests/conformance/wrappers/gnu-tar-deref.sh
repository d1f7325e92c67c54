#!/bin/sh
# GNU tar dereferencing symlinks, the usual "fix" for SageMaker's no-symlinks rule:
# tar -czhf OUT -C DIR . (-h = --dereference). It copies what every symlink points to,
# inside the model dir or not, so links out of the model dir pull outside bytes in.
exec tar -czhf "$2" -C "$1" .
