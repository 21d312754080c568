#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A model-based random test of archip block devices (what fsx is to
filesystems), run on a hypervisor of the lab.

A seeded sequence of writes, reads, discards, write-zeroes and flushes at
random offsets and lengths (a sector to several objects, unaligned to
objects, many across an object boundary), interleaved with snapshot, clone,
flatten, rollback and remap, is run against real devices and against an
in-memory model of every volume and snapshot.  After every step the device
the step touched is read whole and compared with its model, and so is one
other volume or snapshot in turn (all of them after every snapshot, clone,
flatten, rollback or remap, and at the end).  A failure prints the seed and
the step; with --shrink it then replays shorter prefixes of the same seed on
fresh volumes (every device compared after the prefix) and prints the
shortest prefix that still fails.

usage: blkmodel.py --ctl ARCHIPCTL --server S1[,S2] [--seed N] [--ops N]
                   [--object-size BYTES] [--size BYTES] [--shrink SECS]
                   [--map-server S] [--timeout SECS] [--name PREFIX]
Exit: 0 all steps matched, 1 a mismatch or a failed step, 2 usage.
"""
import argparse
import fcntl
import mmap
import os
import random
import struct
import subprocess
import sys
import time

BLKDISCARD = 0x1277
BLKZEROOUT = 0x127f
SECTOR = 512
# What archipctl says while a storage node is dying or being evicted.
TRANSIENT = ('have not ended', 'mapped elsewhere', 'cannot connect', 'lost the connection',
             'did not answer', 'still held', 'did not drain', 'Input/output error')


class StepFailed(Exception):
    pass


class Device:
    """A mapped volume or snapshot, opened O_DIRECT."""

    def __init__(self, path, ro):
        self.path = path
        self.fd = os.open(path, (os.O_RDONLY if ro else os.O_RDWR) | os.O_DIRECT)

    def close(self):
        os.close(self.fd)


class Run:
    def __init__(self, args, seed, prefix):
        self.a = args
        self.rng = random.Random(seed)
        self.data = random.Random(seed ^ 0x5eed)
        self.prefix = prefix
        self.vols = {}      # name -> bytearray (read-write, mapped)
        self.snaps = {}     # name -> bytes (mapped read-only)
        self.parents = {}   # volume or snapshot -> the snapshots under it, nearest first
        self.dev = {}       # name -> Device
        self.n = 0          # names made
        self.step = 0
        self.log = []
        osz = args.object_size
        self.buf = mmap.mmap(-1, max(args.size, 4 * osz) + 4096)
        self.rr = 0

    # ---------------------------------------------------------- archipctl
    def ctl(self, *argv, retry=0):
        deadline = time.time() + retry
        while True:
            p = subprocess.run([self.a.ctl, *argv], capture_output=True, text=True)
            if p.returncode == 0:
                return p.stdout.strip()
            # A storage node dying: the lock of a volume given up is free
            # only once the cluster evicted the node; try again, bounded.
            msg = p.stderr + p.stdout
            if time.time() < deadline and any(t in msg for t in TRANSIENT):
                time.sleep(2)
                continue
            raise StepFailed(f"archipctl {' '.join(argv)}: exit {p.returncode}: "
                             f"{p.stderr.strip() or p.stdout.strip()}")

    def srv(self):
        return ['--server', self.a.ctl_server]

    def new_name(self, kind):
        self.n += 1
        return f"{self.prefix}{kind}{self.n}"

    def map(self, name, ro=False):
        out = self.ctl('map', name, '--server', self.a.server,
                       '--io-timeout', str(self.a.io_timeout),
                       *(['--read-only'] if ro else []), retry=self.a.timeout)
        self.dev[name] = Device(out.splitlines()[-1], ro)

    def unmap(self, name):
        self.dev.pop(name).close()
        self.ctl('unmap', name, retry=self.a.timeout)

    # ------------------------------------------------------------- checks
    def read(self, name, off, length):
        mv = memoryview(self.buf)[:length]
        n = os.preadv(self.dev[name].fd, [mv], off)
        if n != length:
            raise StepFailed(f"{name}: short read at {off}: {n} of {length}")
        return mv

    def model(self, name):
        return self.vols[name] if name in self.vols else self.snaps[name]

    def check(self, name, off=0, length=None):
        m = self.model(name)
        length = len(m) - off if length is None else length
        got = self.read(name, off, length)
        if got != m[off:off + length]:
            want = m[off:off + length]
            i = next(i for i in range(length) if got[i] != want[i])
            raise StepFailed(f"{name}: byte {off + i} reads {got[i]:#04x}, the model "
                             f"says {want[i]:#04x} (range {off}+{length})")

    def check_all(self):
        for name in list(self.vols) + list(self.snaps):
            self.check(name)

    def check_next(self):
        names = sorted(self.vols) + sorted(self.snaps)
        if names:
            self.rr = (self.rr + 1) % len(names)
            self.check(names[self.rr])

    # ------------------------------------------------------------ the ops
    def rand_range(self):
        a, r = self.a, self.rng
        size, osz = a.size, a.object_size
        if r.random() < 0.6:
            # Across (or at) an object boundary, at every alignment.
            b = r.randrange(1, (size - 1) // osz + 1) * osz
            before = r.choice([SECTOR, 2 * SECTOR, 4096, 4096 + SECTOR, osz // 2, osz, 0])
            length = before + r.choice([SECTOR, 4096, osz // 2, osz, osz + SECTOR])
            start = max(0, b - before)
        else:
            start = r.randrange(0, size // SECTOR) * SECTOR
            length = r.choice([SECTOR, 4096, r.randrange(1, 3 * osz // SECTOR) * SECTOR])
        length = min(length, size - start)
        if length < SECTOR:
            start, length = size - SECTOR, SECTOR
        return start, length

    def op_write(self, v):
        off, length = self.rand_range()
        payload = self.data.randbytes(length)
        self.buf[:length] = payload
        n = os.pwritev(self.dev[v].fd, [memoryview(self.buf)[:length]], off)
        if n != length:
            raise StepFailed(f"{v}: short write at {off}: {n} of {length}")
        self.vols[v][off:off + length] = payload
        return f"write {v} {off}+{length}"

    def op_read(self, v):
        off, length = self.rand_range()
        self.check(v, off, length)
        return f"read {v} {off}+{length}"

    def op_punch(self, v, zeroout):
        off, length = self.rand_range()
        fcntl.ioctl(self.dev[v].fd, BLKZEROOUT if zeroout else BLKDISCARD,
                    struct.pack('QQ', off, length))
        self.vols[v][off:off + length] = bytes(length)
        return f"{'zeroout' if zeroout else 'discard'} {v} {off}+{length}"

    def op_flush(self, v):
        os.fsync(self.dev[v].fd)
        return f"flush {v}"

    def op_snapshot(self, v):
        s = self.new_name('s')
        self.ctl('volume', 'snapshot', v, s, *self.srv(), '--timeout', str(self.a.timeout),
                 retry=self.a.timeout)
        self.snaps[s] = bytes(self.vols[v])
        self.parents[s] = list(self.parents[v])
        self.parents[v] = [s] + self.parents[v]
        self.map(s, ro=True)
        self.check(s)
        return f"snapshot {v} {s}"

    def op_clone(self, s):
        c = self.new_name('c')
        self.ctl('volume', 'clone', s, c, *self.srv(), retry=self.a.timeout)
        self.vols[c] = bytearray(self.snaps[s])
        self.parents[c] = [s] + self.parents[s]
        self.map(c)
        self.check(c)
        self.check(s)
        return f"clone {s} {c}"

    def op_flatten(self, v):
        self.unmap(v)
        self.ctl('volume', 'flatten', v, *self.srv(), retry=self.a.timeout)
        self.parents[v] = []
        self.map(v)
        self.check_all()
        return f"flatten {v}"

    def op_rollback(self, v):
        s = self.rng.choice(self.parents[v])
        self.unmap(v)
        self.ctl('volume', 'rollback', v, s, *self.srv(), retry=self.a.timeout)
        self.vols[v] = bytearray(self.snaps[s])
        self.parents[v] = self.parents[v][self.parents[v].index(s):]
        self.map(v)
        self.check_all()
        return f"rollback {v} {s}"

    def op_remap(self, v):
        self.unmap(v)
        self.map(v)
        self.check(v)
        return f"remap {v}"

    def one_step(self):
        r = self.rng
        v = r.choice(sorted(self.vols))
        depth_ok = len(self.parents[v]) < 8
        # Weights per step: I/O mostly; a volume operation about every
        # 25th step, among those the state allows.
        ops = [(50, lambda: self.op_write(v)), (12, lambda: self.op_read(v)),
               (10, lambda: self.op_punch(v, False)), (10, lambda: self.op_punch(v, True)),
               (4, lambda: self.op_flush(v)), (1, lambda: self.op_remap(v))]
        if len(self.snaps) < 12 and depth_ok:
            ops.append((1.5, lambda: self.op_snapshot(v)))
        if self.snaps and len(self.vols) < 4:
            ops.append((1, lambda: self.op_clone(r.choice(sorted(self.snaps)))))
        if self.parents[v]:
            ops += [(0.5, lambda: self.op_flatten(v)), (0.5, lambda: self.op_rollback(v))]
        x = r.random() * sum(w for w, _ in ops)
        for w, fn in ops:
            x -= w
            if x < 0:
                break
        self.log.append(fn())
        if v in self.vols and v in self.dev:
            self.check(v)
        self.check_next()

    def start(self):
        v = self.new_name('v')
        self.ctl('volume', 'create', v, '--size', str(self.a.size),
                 '--object-size', str(self.a.object_size), *self.srv(), retry=self.a.timeout)
        self.vols[v] = bytearray(self.a.size)
        self.parents[v] = []
        self.map(v)

    def run(self, nops, full_every_step=False):
        """(None, None) if all nops steps matched, else (step, why)."""
        try:
            self.start()
            for self.step in range(1, nops + 1):
                self.one_step()
                if full_every_step:
                    self.check_all()
            self.check_all()
            return None, None
        except (StepFailed, OSError) as e:
            last = self.log[-1] if len(self.log) == self.step else f"step {self.step}"
            return self.step, f"{last if self.step else 'setup'} -> {e}"

    # --------------------------------------------------- the edge sweep
    def sweep_one(self, v, zeroout, start, length):
        """Fill [start - osz, start + length + osz) afresh, punch, compare."""
        osz, size = self.a.object_size, self.a.size
        lo, hi = max(0, start - osz), min(size, start + length + osz)
        payload = self.data.randbytes(hi - lo)
        self.buf[:hi - lo] = payload
        os.pwritev(self.dev[v].fd, [memoryview(self.buf)[:hi - lo]], lo)
        self.vols[v][lo:hi] = payload
        fcntl.ioctl(self.dev[v].fd, BLKZEROOUT if zeroout else BLKDISCARD,
                    struct.pack('QQ', start, length))
        self.vols[v][start:start + length] = bytes(length)
        self.log.append(f"{'zeroout' if zeroout else 'discard'} {v} {start}+{length}")
        self.check(v)

    def sweep(self):
        """Write-zeroes and discard across object boundaries at every
        alignment (sector, 4 KiB, half an object, whole objects), on a
        plain volume and on a clone of a snapshot of it; the snapshot reads
        the same all along.  (None, None), or (case, why)."""
        osz, size = self.a.object_size, self.a.size
        cases = []
        for b in range(osz, size, osz):
            for before in (SECTOR, 4096, osz // 2, osz - SECTOR):
                for after in (SECTOR, 4096 - SECTOR, osz // 2, osz):
                    cases.append((b - before, before + after))
        cases.append((0, size))
        cases.append((SECTOR, size - 2 * SECTOR))
        try:
            self.start()
            v = sorted(self.vols)[0]
            payload = self.data.randbytes(size)
            self.buf[:size] = payload
            os.pwritev(self.dev[v].fd, [memoryview(self.buf)[:size]], 0)
            self.vols[v][:] = payload
            s = self.new_name('s')
            self.ctl('volume', 'snapshot', v, s, *self.srv(), '--timeout', str(self.a.timeout))
            self.snaps[s] = bytes(self.vols[v])
            self.map(s, ro=True)
            c = self.new_name('c')
            self.ctl('volume', 'clone', s, c, *self.srv())
            self.vols[c] = bytearray(self.snaps[s])
            self.map(c)
            for i, (start, length) in enumerate(cases):
                for target in (v, c):
                    if start + length > size:
                        continue
                    self.step = i + 1
                    self.sweep_one(target, False, start, length)
                    self.sweep_one(target, True, start, length)
                self.check(s)
            self.check_all()
            return None, None
        except (StepFailed, OSError) as e:
            return self.step, f"{self.log[-1] if self.log else 'setup'} -> {e}"

    def stop(self):
        for name in list(self.dev):
            try:
                self.unmap(name)
            except StepFailed as e:
                print(f"# cleanup: {e}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--ctl', required=True)
    p.add_argument('--server', required=True, help='servers for map')
    p.add_argument('--ctl-server', help='server for volume commands (default: the first)')
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--ops', type=int, default=2000)
    p.add_argument('--object-size', type=int, default=128 * 1024)
    p.add_argument('--size', type=int, default=512 * 1024 + 24 * 1024)
    p.add_argument('--io-timeout', type=int, default=10)
    p.add_argument('--timeout', type=int, default=30,
                   help='how long a volume command may keep failing (a failover)')
    p.add_argument('--shrink', type=int, default=0,
                   help='seconds to spend finding the shortest failing prefix')
    p.add_argument('--name', default='bm')
    p.add_argument('--sweep', action='store_true',
                   help='instead of random steps, the edge sweep of discard and write-zeroes')
    a = p.parse_args()
    a.ctl_server = a.ctl_server or a.server.split(',')[0]
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    print(f"# blkmodel: seed {seed}, {a.ops} ops, object size {a.object_size}, "
          f"volume size {a.size}", flush=True)
    t0 = time.time()
    tag = f"{a.name}{os.getpid() % 100000}"
    run = Run(a, seed, f"{tag}x")
    if a.sweep:
        step, why = run.sweep()
        run.stop()
        if step is None:
            print(f"ok: {len(run.log)} discards and write-zeroes across object boundaries "
                  f"matched the model, on a volume and a clone; the snapshot unchanged "
                  f"({time.time() - t0:.0f} s)")
            return 0
        print(f"FAIL: sweep case {step}: {why}")
        return 1
    step, why = run.run(a.ops)
    counts = {}
    for w in run.log:
        counts[w.split()[0]] = counts.get(w.split()[0], 0) + 1
    run.stop()
    print(f"# {len(run.log)} steps in {time.time() - t0:.0f} s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    if step is None:
        print(f"ok: seed {seed}: all {a.ops} steps matched the model")
        return 0
    print(f"FAIL: seed {seed}, step {step}: {why}")
    print("# the last steps:\n" + "\n".join(f"#   {i}: {w}" for i, w in
          enumerate(run.log[-8:], max(1, len(run.log) - 7))))
    # The shortest prefix of this seed that still fails, on fresh volumes.
    lo, hi, deadline, k = 1, step, time.time() + a.shrink, 0
    while lo < hi and time.time() < deadline:
        mid = (lo + hi) // 2
        k += 1
        r = Run(a, seed, f"{tag}r{k}x")
        s, _ = r.run(mid, full_every_step=False)
        r.stop()
        if s is None:
            lo = mid + 1
        else:
            hi = min(mid, s)
    if a.shrink:
        print(f"FAIL: seed {seed}: shortest failing prefix {hi} steps"
              f"{'' if lo >= hi else ' (search cut short: at most)'}; rerun with "
              f"--seed {seed} --ops {hi}")
    return 1


if __name__ == '__main__':
    sys.exit(main())
