#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""reflinked.py DIR FILES BLOCKS: fill DIR with FILES files of BLOCKS 4 KiB
blocks, each block its own extent (the odd blocks are written after the
even ones), each file reflinked (FICLONE) into DIR/cN and its original
deleted.  What is left is what an object store's clones leave: files whose
every cluster is refcounted, with a count of one, so that deleting one
frees its clusters through the refcount tree, one extent at a time (on a
file system with 4 KiB clusters).

reflinked.py --fsync-loop FILE: rewrite one byte of FILE and fsync it,
forever: the journal commits all the time, as under an object server."""
import fcntl
import os
import sys

FICLONE = 0x40049409


def fsync_loop(path):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    while True:
        os.pwrite(fd, b"x", 0)
        os.fsync(fd)


def main():
    if sys.argv[1] == "--fsync-loop":
        fsync_loop(sys.argv[2])
    d, files, blocks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(d, exist_ok=True)
    data = os.urandom(4096)
    for n in range(files):
        orig, clone = f"{d}/o{n}", f"{d}/c{n}"
        fd = os.open(orig, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o644)
        for b in list(range(0, blocks, 2)) + list(range(1, blocks, 2)):
            os.pwrite(fd, data, b * 4096)
        os.fsync(fd)
        cfd = os.open(clone, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
        fcntl.ioctl(cfd, FICLONE, fd)
        os.fsync(cfd)
        os.close(cfd)
        os.close(fd)
        os.unlink(orig)
    os.sync()
    return 0


if __name__ == "__main__":
    sys.exit(main())
