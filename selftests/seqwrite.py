#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crash-consistency of a snapshot taken under a sequential writer.

  seqwrite.py write DEV N LOG [STOP]
                                  write 4 KiB blocks 0..N-1 of DEV in order,
                                  each O_DIRECT|O_DSYNC, logging
                                  "INDEX START DONE" (time.time()) per block;
                                  with STOP, go on past N (to the end of DEV)
                                  until the file STOP exists
  seqwrite.py check SNAP N LOG BASE T0 T1
                                  SNAP (a device or image) must hold blocks
                                  0..k-1 as written and the rest as in BASE,
                                  with every block done before T0 among the
                                  first k and none started after T1; N is
                                  at least, the log says how many were written
  seqwrite.py wait LOG COUNT SECS until LOG lists COUNT writes (+COUNT:
                                  that many more than now); exit 1 if
                                  SECS pass first
"""
import hashlib
import mmap
import os
import sys
import time

BS = 4096


def block(i):
    d = hashlib.sha256(b"seqwrite %d" % i).digest()
    return (d * (BS // len(d)))[:BS]


def write(dev, n, log, stop=None):
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    least = n
    if stop:
        n = os.lseek(fd, 0, os.SEEK_END) // BS
        os.lseek(fd, 0, os.SEEK_SET)
    buf = mmap.mmap(-1, BS)
    with open(log, "w") as lf:
        for i in range(n):
            if stop and i >= least and os.path.exists(stop):
                break
            buf.seek(0)
            buf.write(block(i))
            t = time.time()
            if os.pwritev(fd, [buf], i * BS) != BS:
                sys.exit("short write at block %d" % i)
            lf.write("%d %.6f %.6f\n" % (i, t, time.time()))
            lf.flush()
    os.close(fd)


def check(snap, n, log, base, t0, t1):
    entries = [l.split() for l in open(log)]
    n = max(n, len(entries))
    done_before = sum(1 for e in entries if float(e[2]) < t0)
    started_before = sum(1 for e in entries if float(e[1]) <= t1)
    with open(snap, "rb") as s, open(base, "rb") as b:
        k = 0
        while k < n:
            s.seek(k * BS)
            if s.read(BS) != block(k):
                break
            k += 1
        for i in range(k, n):
            s.seek(i * BS)
            b.seek(i * BS)
            if s.read(BS) != b.read(BS):
                sys.exit("block %d is neither the base nor the write (prefix %d)" % (i, k))
        s.seek(n * BS)
        b.seek(n * BS)
        while True:
            x, y = s.read(1 << 20), b.read(1 << 20)
            if x != y:
                sys.exit("the snapshot differs from the base past the written blocks")
            if not x:
                break
    print("snapshot holds the first %d of %d writes: %d were done before the command "
          "started, %d had started when it returned" % (k, n, done_before, started_before))
    if not done_before <= k <= started_before:
        sys.exit("not crash-consistent")


def logged(log):
    try:
        with open(log) as lf:
            return sum(1 for _ in lf)
    except FileNotFoundError:
        return 0


def wait(log, count, secs):
    want = logged(log) + int(count[1:]) if count.startswith("+") else int(count)
    end = time.time() + secs
    while logged(log) < want:
        if time.time() > end:
            sys.exit("%d writes logged in %s s, not %d" % (logged(log), secs, want))
        time.sleep(0.1)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), sys.argv[4],
              sys.argv[5] if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "check":
        check(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
              float(sys.argv[6]), float(sys.argv[7]))
    elif sys.argv[1] == "wait":
        wait(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(__doc__)
