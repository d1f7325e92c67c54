#!/bin/sh
# GNU tar, the way most platform scripts pack: tar -czf OUT -C DIR .
exec tar -czf "$2" -C "$1" .
