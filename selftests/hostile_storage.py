#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile storage: volume objects corrupted on the store (issue 21).

Each kind makes fresh volumes (plain volumes, images, clones, snapshots),
corrupts one or a few of their objects with archip-obj (bit flips,
truncation, absurd sizes, depths and names, broken chains, damaged maps
and manifests, data objects of the wrong size, snapshot requests with
bad contents), then runs the commands that read them: archipctl volume
info, list, du, clone, snapshot, export, flatten, rollback, remove, and
archipctl map (the kernel driver; a map that succeeds is unmapped).  Each
command runs under a 1 GiB address-space limit and a 30 s timeout, and
must end with a normal exit status (0-3, never a signal, never a
timeout, never "internal error"); a refusal (1-3) must name the volume
and say what is wrong; where archip must refuse, exit 0 fails the kind.
``volume list`` and ``volume du`` must always succeed and list the
healthy volume, reporting (on stderr) a volume they cannot read.  What is
refused and why: Documentation/block-driver.rst, "Failures".

Run on a hypervisor of the lab, as root (map needs archip_blk):

  python3 hostile_storage.py --ctl build/tools/archipctl \\
      --obj build/tools/archip-obj --server 10.99.0.11

--no-map leaves the driver out (the map commands and the snapshot
requests answered by a mapped volume's holder), for a node without
archip_blk; --kind K (repeatable) runs only those kinds; --list names
them.  Prints one line per kind, "ok - KIND: ..." or "FAIL - KIND: ...",
with details as "# " lines.  Exit: 0 every kind held, 1 one did not,
2 usage.
"""
import argparse
import hashlib
import json
import os
import random
import re
import resource
import struct
import subprocess
import sys
import tempfile
import time

MAGIC, SNAPREQ_MAGIC = 0x4c4f5641, 0x51524e53
REQ_SIZE = 152                  # struct archip_snap_req
HDR_SIZE, NAME_MAX, MAX_OBJS = 4096, 64, 1 << 26
SNAPSHOT, IMAGE = 1, 4
EXISTS = 1
OBJ = 64 << 10                  # the fixtures' object size
SIZE = 4 * OBJ                  # four objects
# struct archip_vol_hdr: field offsets
O_VERSION, O_SIZE, O_SHIFT, O_FLAGS, O_NR_OBJS = 4, 8, 16, 20, 24
O_NAME, O_OSET, O_PARENT, O_PARENT_OBJS = 48, 112, 176, 240
LIMIT_AS = 1 << 30
TIMEOUT = 30
REFUSE, OK, ANY = 'refuse', 'ok', 'any'
EINVAL, EEXIST = 22, 17


# What the suite runs (--ci): every class of corruption, by its most
# telling kinds, in about two minutes of the lab; all 37 kinds take nine
# (ARCHIP_HOSTILE_ALL=1 in selftests/images.sh, or no --ci by hand).
CI_KINDS = [
    'hdr-magic-bitflip',                # a bit flipped
    'hdr-truncated',                    # a truncated object
    'hdr-objects-beyond-max',           # absurd sizes
    'hdr-set-and-parent-without-nul',   # names that run off their fields
    'chain-cycle',                      # a loop of parents
    'map-unknown-flag',                 # a damaged map
    'map-image-truncated',              # an image's map cut short
    'manifest-bitflip',                 # a damaged manifest
    'data-larger-than-object',          # a data object of the wrong size
    'hdr-huge-but-consistent',          # a valid header asking for 512 MiB
    'snapreq-bad-requests-to-holder',   # hostile snapshot requests
]


class Failed(Exception):
    pass


class Result:
    def __init__(self, argv, rc, out, err, secs, timed_out):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.secs, self.timed_out = secs, timed_out

    def __str__(self):
        return '%s: rc %s in %.1f s%s' % (
            ' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(self.argv)),
            'TIMEOUT' if self.timed_out else self.rc, self.secs,
            (': ' + self.err.strip().replace('\n', ' | ')[:400]) if self.err.strip() else '')


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def run(argv, stdin=None, timeout=TIMEOUT, binary_out=False):
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                           preexec_fn=limit)
    except subprocess.TimeoutExpired as e:
        return Result(argv, None, e.stdout or b'', (e.stderr or b'').decode(errors='replace'),
                      time.monotonic() - t0, True)
    out = p.stdout if binary_out else p.stdout.decode(errors='replace')
    return Result(argv, p.returncode, out, p.stderr.decode(errors='replace'),
                  time.monotonic() - t0, False)


def hdr_set(h, off, fmt, *v):
    h = bytearray(h)
    struct.pack_into(fmt, h, off, *v)
    return bytes(h)


def name_field(s):
    b = s.encode() if isinstance(s, str) else s
    return b[:NAME_MAX].ljust(NAME_MAX, b'\0')


class Lab:
    """archipctl and archip-obj against one server."""

    def __init__(self, a):
        self.a = a
        self.log = []

    def ctl(self, *args, binary_out=False, timeout=TIMEOUT):
        server = ['--server', self.a.server] if {'volume', 'map'} & set(args) else []
        r = run([self.a.ctl] + list(args) + server, binary_out=binary_out, timeout=timeout)
        self.log.append(str(r))
        return r

    def must(self, *args):
        r = self.ctl(*args)
        if r.rc != 0:
            raise Failed('setup failed: %s' % r)
        return r

    def obj(self, *args, stdin=None, lock=None):
        argv = [self.a.obj, '-s', self.a.server] + (['-l', lock] if lock else []) + list(args)
        r = run(argv, stdin=stdin, binary_out=True)
        if r.rc != 0:
            raise Failed('archip-obj %s failed: %s' % (' '.join(args), r))
        return r.out

    def get(self, name, off=0, n=None):
        if n is None:
            n = self.size(name) - off
        return self.obj('get', name, str(off), str(max(n, 0))) if n > 0 else b''

    def size(self, name):
        st = self.obj('stat', name).decode()
        m = re.search(r'exists=(\d) size=(\d+)', st)
        return int(m.group(2)) if m and m.group(1) == '1' else -1

    def put(self, name, off, data, lock):
        self.obj('put', name, str(off), stdin=data, lock=lock)

    def rm(self, name, lock):
        self.obj('rm', name, lock=lock)

    def replace(self, name, data, lock):
        """The object becomes @data, whatever its size was."""
        self.rm(name, lock)
        if data:
            self.put(name, 0, data, lock)

    def info(self, vol):
        r = self.ctl('--json', 'volume', 'info', vol)
        if r.rc != 0:
            raise Failed('setup failed: %s' % r)
        return json.loads(r.out)


class Case:
    """A kind's fixture, made and corrupted: @target and the commands."""

    def __init__(self, target, plan, ro=False, sha=None, rollback_to=None):
        self.target, self.plan, self.ro = target, plan, ro
        self.sha, self.rollback_to = sha, rollback_to


class Run:
    def __init__(self, a):
        self.a = a
        self.lab = Lab(a)
        self.prefix = a.name + '%04x' % random.randrange(1 << 16)
        self.n = 0
        self.names = []         # every volume made (for the cleanup)
        self.osets = {}          # name -> its object set, as first seen
        self.healthy = None
        rng = random.Random(os.getpid())
        objs = [bytes(rng.randrange(256) for _ in range(64)) * (OBJ // 64) for _ in range(4)]
        objs[2] = bytes(OBJ)                    # all zeros: not stored
        self.image = b''.join(objs)
        self.image_sha = hashlib.sha256(self.image).hexdigest()
        self.digests = {hashlib.sha256(o).hexdigest() for o in objs if any(o)}
        fd, self.image_file = tempfile.mkstemp(prefix='hostile.', suffix='.img')
        os.write(fd, self.image)
        os.close(fd)

    # ---- fixtures
    def fresh(self, tag, made=True):
        """A new volume name; @made: one the cleanup must look for."""
        self.n += 1
        name = '%s%02d%s' % (self.prefix, self.n, tag)
        if made:
            self.names.append(name)
        return name

    def note(self, vol):
        j = self.lab.info(vol)
        self.osets[vol] = j['object_set']
        return j

    def lock(self, vol):
        return 'vol.' + vol

    def plain(self, tag='v', entries=(EXISTS, EXISTS, 0, EXISTS)):
        v = self.fresh(tag)
        self.lab.must('volume', 'create', v, '--size', str(SIZE), '--object-size', str(OBJ))
        oset = self.note(v)['object_set']
        if entries:
            self.lab.put('m.' + oset, 0, b''.join(struct.pack('<HHI', 0, f, 0) for f in entries),
                         self.lock(v))
        return v, oset

    def image_vol(self, tag='i', obj=OBJ):
        v = self.fresh(tag)
        self.lab.must('volume', 'import', self.image_file, v, '--object-size', str(obj))
        return v, self.note(v)['object_set']

    def clone(self, snap, tag='c'):
        v = self.fresh(tag)
        self.lab.must('volume', 'clone', snap, v)
        return v, self.note(v)['object_set']

    def snapshot(self, vol, tag='s'):
        s = self.fresh(tag)
        self.lab.must('volume', 'snapshot', vol, s)
        self.note(vol)
        return s, self.note(s)['object_set']

    def hdr(self, vol):
        return self.lab.get('v.' + vol, 0, HDR_SIZE)

    def put_hdr(self, vol, h):
        self.lab.put('v.' + vol, 0, h, self.lock(vol))

    def patch_hdr(self, vol, off, fmt, *v):
        self.put_hdr(vol, hdr_set(self.hdr(vol), off, fmt, *v))

    def v1(self, tag, sources, entries):
        """A version 1 volume, made by hand: no command makes them."""
        v = self.fresh(tag)
        h = struct.pack('<IHHQIIQQII', MAGIC, 1, HDR_SIZE, SIZE, 16, 0, 4, 0,
                        len(sources), 0) + name_field(v)
        for s in sources:
            h += name_field(s)
        h = h.ljust(HDR_SIZE, b'\0') + b''.join(struct.pack('<HHI', s, f, 0)
                                                 for s, f in entries)
        self.put_hdr(v, h)
        return v

    # ---- commands
    def command(self, case, step):
        cmd, mode, why = step[0], step[1], step[2]
        t = step[3] if len(step) > 3 else case.target
        lab = self.lab
        if cmd == 'info':
            r = lab.ctl('volume', 'info', t)
        elif cmd == 'list':
            r = lab.ctl('volume', 'list')
        elif cmd == 'du':
            r = lab.ctl('volume', 'du')
        elif cmd in ('clone', 'snapshot'):
            new = self.fresh(cmd[0], made=False)
            r = lab.ctl('volume', cmd, t, new)
            if r.rc == 0:
                self.names.append(new)
        elif cmd == 'export':
            r = lab.ctl('volume', 'export', t, '-', binary_out=True)
        elif cmd == 'flatten':
            r = lab.ctl('volume', 'flatten', t)
        elif cmd == 'rollback':
            r = lab.ctl('volume', 'rollback', t, case.rollback_to)
        elif cmd == 'remove':
            r = lab.ctl('volume', 'remove', t)
        elif cmd == 'map':
            if self.a.no_map:
                return None
            r = lab.ctl('map', t, *(['--read-only'] if case.ro else []))
            if r.rc == 0:
                u = lab.ctl('unmap', t, '--force')
                if u.rc != 0:
                    raise Failed('cannot unmap %s: %s' % (t, u))
        else:
            raise ValueError(cmd)
        return self.judge(case, cmd, mode, why, t, r)

    def judge(self, case, cmd, mode, why, t, r):
        """None if @r is what @mode allows, else what is wrong."""
        if r.timed_out:
            return 'hung: killed after %d s (%s)' % (TIMEOUT, r)
        if r.rc < 0:
            return 'killed by signal %d (%s)' % (-r.rc, r)
        if 'internal error' in r.err:
            return 'an internal error (%s)' % r
        if r.rc not in (0, 1, 2, 3):
            return 'exit status %d (%s)' % (r.rc, r)
        named = re.search(r"(^|[^A-Za-z0-9_-])%s([^A-Za-z0-9_-]|$)" % re.escape(t), r.err)
        if cmd in ('list', 'du'):
            if r.rc != 0:
                return 'failed instead of skipping what it cannot read (%s)' % r
            shown = {ln.split()[0] for ln in r.out.splitlines() if ln.split()}
            if self.healthy not in shown:
                return 'the healthy volume %s is not listed (%s)' % (self.healthy, r)
            if mode == REFUSE and t in shown:
                return 'lists %s, which it cannot read' % t
            if mode == REFUSE and not (named and re.search(why, r.err)):
                return 'does not report %s (/%s/ on stderr): %s' % (t, why, r)
            if mode == OK and (t not in shown or named):
                return 'does not list %s cleanly (%s)' % (t, r)
            return None
        if mode == REFUSE:
            if r.rc == 0:
                return 'succeeded where it must refuse (%s)' % r
            if not named:
                return 'the refusal does not name %s (%s)' % (t, r)
            if not re.search(why, r.err):
                return 'the refusal does not say /%s/ (%s)' % (why, r)
        elif mode == OK:
            if r.rc != 0:
                return 'refused where it must work (%s)' % r
            if cmd == 'export' and case.sha and hashlib.sha256(r.out).hexdigest() != case.sha:
                return 'exported other bytes than were imported'
        elif r.rc != 0 and not r.err.startswith('archipctl: '):
            return 'refused without a message (%s)' % r
        return None

    # ---- the kinds
    def refuse_all(self, why, kwhy, snap=False, remove=REFUSE):
        """What a volume whose own objects are unreadable must get."""
        plan = [('info', REFUSE, why), ('list', REFUSE, why), ('export', REFUSE, why),
                ('du', REFUSE, why), ('map', REFUSE, kwhy)]
        plan.append(('clone', REFUSE, why) if snap else ('snapshot', REFUSE, why))
        plan.append(('remove', remove, why))
        return plan

    def k_hdr(self, mutate, why, kwhy=None):
        def kind():
            v, _ = self.plain()
            self.lab.replace('v.' + v, mutate(self.hdr(v), v), self.lock(v))
            return Case(v, self.refuse_all(why, kwhy or why))
        return kind

    def k_chain(self, why, kwhy, make):
        """A volume whose chain of parents is broken: everything that
        reads through it refuses; the volume itself can still be removed."""
        def kind():
            v, extra = make()
            plan = [('info', REFUSE, why), ('list', ANY, ''), ('export', REFUSE, why),
                    ('du', ANY, ''), ('map', REFUSE, kwhy), ('snapshot', REFUSE, why),
                    ('flatten', REFUSE, why)]
            plan += extra
            plan.append(('remove', OK, ''))
            return Case(v, plan, rollback_to=self.prefix + 'none')
        return kind

    def broken_clone(self, mutate):
        i, _ = self.image_vol()
        c, _ = self.clone(i)
        self.put_hdr(c, mutate(self.hdr(c), c, i))
        return c, []

    def parent_objs(self):
        c, _ = self.broken_clone(lambda h, c, i: hdr_set(h, O_PARENT_OBJS, '<Q', 5))
        why = 'more objects through its parent'
        return Case(c, self.refuse_all(why, why))

    def cycle(self):
        v, _ = self.plain()
        s1, _ = self.snapshot(v)
        s2, _ = self.snapshot(v)              # v -> s2 -> s1
        self.patch_hdr(s1, O_PARENT, '64s', name_field(s2))
        return v, [('rollback', REFUSE, 'loops'), ('clone', REFUSE, 'loops', s2)]

    def other_shift(self):
        i, _ = self.image_vol(obj=2 * OBJ)
        c, _ = self.clone(i)
        h = hdr_set(self.hdr(c), O_SHIFT, '<I', 16)
        h = hdr_set(h, O_NR_OBJS, '<Q', 4)
        self.put_hdr(c, hdr_set(h, O_PARENT_OBJS, '<Q', 4))
        return c, []

    def deep(self):
        """A chain of 18 volumes: 16 snapshot headers made by hand."""
        i, _ = self.image_vol()
        c, _ = self.clone(i)
        base = self.hdr(i)
        ps = [self.fresh('p') for _ in range(16)]
        for k, p in enumerate(ps):
            h = hdr_set(base, O_NAME, '64s', name_field(p))
            h = hdr_set(h, O_OSET, '64s', name_field('%016x' % random.randrange(1 << 64)))
            h = hdr_set(h, O_FLAGS, '<I', SNAPSHOT)
            h = hdr_set(h, O_PARENT, '64s', name_field(ps[k + 1] if k + 1 < 16 else i))
            self.put_hdr(p, hdr_set(h, O_PARENT_OBJS, '<Q', 4))
        self.patch_hdr(c, O_PARENT, '64s', name_field(ps[0]))
        return c, []

    def k_map(self, entry, data):
        def kind():
            v, oset = self.plain()
            self.lab.put('m.' + oset, entry * 8, data, self.lock(v))
            return Case(v, self.refuse_all('map object m\\.%s is damaged: entry %d' %
                                           (oset, entry), 'map .*damaged', remove=OK))
        return kind

    def k_image_map(self, cut):
        def kind():
            i, oset = self.image_vol()
            self.lab.replace('m.' + oset, self.lab.get('m.' + oset)[:cut], self.lock(i))
            return Case(i, self.refuse_all('m\\.%s is shorter' % oset, 'truncated', snap=True,
                                           remove=OK), ro=True)
        return kind

    def k_image(self, damage, why, obj=None):
        """An image whose manifest or data objects are damaged: only what
        checks them (export) refuses; the rest works."""
        def kind():
            i, oset = self.image_vol()
            damage(i, oset)
            plan = [('info', OK, ''), ('list', OK, ''), ('export', REFUSE, why),
                    ('clone', OK, ''), ('map', ANY, ''), ('remove', ANY, '')]
            return Case(i, plan, ro=True)
        return kind

    def k_v1(self, sources, entries, why):
        def kind():
            v = self.v1('o', sources, entries)
            return Case(v, self.refuse_all(why, 'corrupted|damaged|not a valid',
                                           remove=OK if 'source set the' in why else REFUSE))
        return kind

    def huge(self):
        """A header whose sizes are absurd but consistent: 2^26 objects of
        4 MiB (256 TiB), the most the format allows.  Nothing may take
        long or allocate the 512 MiB its map could need in memory; the
        driver maps it or refuses it cleanly (a quarter of the node's RAM
        at most)."""
        v, _ = self.plain()
        h = hdr_set(self.hdr(v), O_SHIFT, '<I', 22)
        h = hdr_set(h, O_SIZE, '<Q', MAX_OBJS << 22)
        self.put_hdr(v, hdr_set(h, O_NR_OBJS, '<Q', MAX_OBJS))
        return Case(v, [('info', OK, ''), ('list', OK, ''), ('du', ANY, ''),
                        ('map', ANY, ''), ('remove', OK, '')])

    def thin(self):
        """A map object shorter than the volume (and one far longer): the
        format's thin map, past its end not written; nothing refuses."""
        v, oset = self.plain()
        self.lab.replace('m.' + oset, struct.pack('<HHI', 0, EXISTS, 0), self.lock(v))
        self.lab.put('m.' + oset, 16 << 20, b'\1', self.lock(v))
        return Case(v, [('info', OK, ''), ('list', OK, ''), ('export', OK, ''), ('du', OK, ''),
                        ('map', OK, ''), ('snapshot', OK, ''), ('remove', ANY, '')])

    def shared_set(self):
        """Two whole clones naming one object set: removing either would
        destroy the other's data, so remove refuses both."""
        i, _ = self.image_vol()
        c1, o1 = self.clone(i)
        c2, _ = self.clone(i)
        self.patch_hdr(c2, O_OSET, '64s', name_field(o1))
        return Case(c2, [('info', OK, ''), ('list', OK, ''),
                         ('remove', REFUSE, "also volume '%s'" % c1),
                         ('remove', REFUSE, "also volume '%s'" % c2, c1)])

    def data_larger(self):
        i, oset = self.image_vol()
        self.lab.put('d.%s.%016x' % (oset, 0), OBJ, os.urandom(4096), self.lock(i))
        return Case(i, [('info', OK, ''), ('export', OK, ''), ('map', OK, ''),
                        ('clone', OK, ''), ('remove', ANY, '')], ro=True, sha=self.image_sha)

    def snapreq_requester(self):
        """archipctl waits for a holder's answer to its snapshot request,
        and the request is overwritten on the store meanwhile: it must
        stop at once, saying so, not wait out its timeout."""
        v, _ = self.plain()
        holder = subprocess.Popen([self.a.obj, '-s', self.a.server, 'lock', self.lock(v), '120'],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        try:
            got = holder.stdout.readline().decode(errors='replace')
            if 'acquired' not in got:
                raise Failed('cannot hold lock %s: %s' % (self.lock(v), got.strip()))
            t0 = time.monotonic()
            snap = self.fresh('r', made=False)
            req = subprocess.Popen([self.a.ctl, 'volume', 'snapshot', v, snap, '--timeout', '25',
                                    '--server', self.a.server], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, preexec_fn=limit)
            while self.lab.size('s.' + v) != REQ_SIZE:
                if time.monotonic() - t0 > 15 or req.poll() is not None:
                    req.kill()
                    out, err = req.communicate()
                    raise Failed('the snapshot request s.%s never appeared: %s' %
                                 (v, err.decode(errors='replace')))
                time.sleep(0.2)
            self.lab.put('s.' + v, 0, os.urandom(REQ_SIZE), 'vol.%s.x' % v)
            try:
                out, err = req.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                req.kill()
                req.communicate()
                raise Failed('archipctl went on waiting for an answer to a corrupted request')
            r = Result(req.args, req.returncode, out.decode(errors='replace'),
                       err.decode(errors='replace'), time.monotonic() - t0, False)
            self.lab.log.append(str(r))
            bad = self.judge(None, 'snapshot', REFUSE, 'snapshot request .*changed on the store',
                             v, r)
            if bad:
                raise Failed('snapshot: ' + bad)
        finally:
            holder.kill()
            holder.wait()
        return Case(v, [('remove', OK, '')])

    def snapreq_holder(self):
        """Snapshot requests with bad contents, written where the driver
        holding the volume reads them: refused (FAILED, the errno) or
        ignored; nothing made, the device unharmed."""
        if self.a.no_map:
            return Case(None, [])
        v, oset = self.plain()
        m = self.lab.ctl('map', v)
        if m.rc != 0:
            raise Failed('cannot map %s: %s' % (v, m))
        dev = m.out.strip()
        lock = 'vol.%s.snap' % v
        try:
            def request(snap, rset, magic=SNAPREQ_MAGIC, state=0, pad=b''):
                nonce = random.randrange(1 << 64)
                r = struct.pack('<IIQII', magic, state, nonce, 0, 0) + name_field(snap) + \
                    name_field(rset)
                self.lab.replace('s.' + v, r + pad, lock)
                return nonce

            def answer(nonce, wait):
                t0 = time.monotonic()
                while time.monotonic() - t0 < wait:
                    b = self.lab.get('s.' + v, 0, REQ_SIZE)
                    magic, state, n, err = struct.unpack_from('<IIQi', b)
                    if magic == SNAPREQ_MAGIC and n == nonce and state in (1, 2):
                        return state, err
                    time.sleep(0.3)
                return None

            fresh = '%016x' % random.randrange(1 << 64)
            # (snapshot, new set, the errnos a FAILED answer may carry)
            bad = [('a/b', fresh, [-EINVAL]), ('x' * 64, fresh, [-EINVAL]),
                   (v, fresh, [-EINVAL, -EEXIST]), (self.prefix + 'rq', '../o', [-EINVAL]),
                   (self.prefix + 'rq', oset, [-EINVAL]), (self.healthy, fresh, [-EEXIST])]
            for snap, rset, errs in bad:
                got = answer(request(snap, rset), 10)
                if not got or got[0] != 2 or got[1] not in errs:
                    raise Failed('request for snapshot %r of set %r: answered %s, not FAILED %s'
                                 % (snap, rset, got, errs))
            for what, kw in (('a bad magic', {'magic': 0x12345678}), ('state 7', {'state': 7}),
                             ('4 KiB long', {'pad': bytes(4096 - REQ_SIZE)})):
                nonce = request(self.prefix + 'rq', fresh, **kw)
                time.sleep(3)
                if answer(nonce, 0.5) is not None:
                    raise Failed('a request with %s was answered' % what)
            self.lab.rm('s.' + v, lock)
            r = run(['dd', 'if=' + dev, 'of=/dev/null', 'bs=64k', 'iflag=direct'])
            if r.rc != 0:
                raise Failed('the device does not read after the requests: %s' % r)
        finally:
            self.lab.ctl('unmap', v, '--force')
        if self.lab.info(v)['parent'] or self.lab.size('v.%srq' % self.prefix) >= 0:
            raise Failed('a snapshot was made from a bad request')
        return Case(v, [('info', OK, ''), ('remove', OK, '')])

    def kinds(self):
        def set_name(off, b):
            return lambda h, v: hdr_set(h, off, '64s', name_field(b))
        return {
            'hdr-magic-bitflip': self.k_hdr(lambda h, v: bytes([h[0] ^ 1]) + h[1:],
                                            'not an archip volume header'),
            'hdr-truncated': self.k_hdr(lambda h, v: h[:100], 'no object set'),
            'hdr-truncated-to-magic': self.k_hdr(lambda h, v: h[:8], 'impossible sizes'),
            'hdr-version': self.k_hdr(lambda h, v: hdr_set(h, O_VERSION, '<H', 9),
                                      'format version'),
            'hdr-size-bitflip': self.k_hdr(lambda h, v: hdr_set(h, O_SIZE + 7, 'B', 0x10),
                                           'impossible sizes'),
            'hdr-objects-beyond-max': self.k_hdr(
                lambda h, v: hdr_set(hdr_set(hdr_set(h, O_SHIFT, '<I', 30), O_NR_OBJS, '<Q',
                                             MAX_OBJS + 1), O_SIZE, '<Q', (MAX_OBJS + 1) << 30),
                'impossible sizes'),
            'hdr-object-size': self.k_hdr(lambda h, v: hdr_set(h, O_SHIFT, '<I', 40),
                                          'impossible sizes'),
            'hdr-name-without-nul': self.k_hdr(set_name(O_NAME, b'A' * 64), 'name field'),
            'hdr-set-illegal': self.k_hdr(set_name(O_OSET, '../x'), 'not a valid name'),
            'hdr-set-and-parent-without-nul': self.k_hdr(
                lambda h, v: hdr_set(h, O_OSET, '128s', b'a' * 128), 'not a valid name'),
            'hdr-image-not-snapshot': self.k_hdr(lambda h, v: hdr_set(h, O_FLAGS, '<I', IMAGE),
                                                 'impossible flags'),
            'hdr-parent-objs': self.parent_objs,
            'chain-parent-is-self': self.k_chain('loops', 'loops', lambda: self.broken_clone(
                lambda h, c, i: hdr_set(h, O_PARENT, '64s', name_field(c)))),
            'chain-cycle': self.k_chain('loops', 'loops', self.cycle),
            'chain-parent-missing': self.k_chain('does not exist', 'missing',
                                                 lambda: self.broken_clone(
                lambda h, c, i: hdr_set(h, O_PARENT, '64s', name_field(self.prefix + 'gone')))),
            'chain-parent-not-snapshot': self.k_chain(
                'not a snapshot', 'cannot be read through', lambda: self.broken_clone(
                    lambda h, c, i: hdr_set(h, O_PARENT, '64s', name_field(self.plain()[0])))),
            'chain-parent-object-size': self.k_chain('same object size', 'cannot be read through',
                                                     self.other_shift),
            'chain-too-deep': self.k_chain('more than 15 parents', 'too deep', self.deep),
            'chain-shared-set': self.shared_set,
            'v1-source-name': self.k_v1(['a.b'], [(0, 0)] * 4, 'source set that is not'),
            'v1-map-source-beyond': self.k_v1([self.prefix + 'src'], [(2, EXISTS)] + [(0, 0)] * 3,
                                              'names a source set the header'),
            'map-unknown-flag': self.k_map(0, struct.pack('<HHI', 0, 0x8001, 0)),
            'map-v2-source': self.k_map(1, struct.pack('<HHI', 2, EXISTS, 0)),
            'map-pad': self.k_map(3, struct.pack('<HHI', 0, EXISTS, 0xdeadbeef)),
            'map-image-truncated': self.k_image_map(8),
            'map-image-missing': self.k_image_map(0),
            'map-thin-and-long': self.thin,
            'manifest-truncated': self.k_image(
                lambda i, o: self.lab.replace('i.' + o, self.lab.get('i.' + o)[:40],
                                              self.lock(i)), 'manifest i\\..*truncated'),
            'manifest-missing': self.k_image(lambda i, o: self.lab.rm('i.' + o, self.lock(i)),
                                             'manifest i\\..*missing'),
            'manifest-too-long': self.k_image(lambda i, o: self.lab.put(
                'i.' + o, 4 * 32, bytes(32), self.lock(i)), 'too long'),
            'manifest-bitflip': self.k_image(lambda i, o: self.lab.put(
                'i.' + o, 5, bytes([self.lab.get('i.' + o, 5, 1)[0] ^ 0x80]), self.lock(i)),
                'object 0 of image .* does not hold'),
            'manifest-disagrees-with-map': self.k_image(lambda i, o: self.lab.put(
                'i.' + o, 32, bytes(32), self.lock(i)), 'disagree about object 1'),
            'data-truncated': self.k_image(lambda i, o: self.lab.replace(
                'd.%s.%016x' % (o, 1), self.lab.get('d.%s.%016x' % (o, 1), 0, 1000),
                self.lock(i)), 'object 1 of image .* does not hold'),
            'data-larger-than-object': self.data_larger,
            'hdr-huge-but-consistent': self.huge,
            'snapreq-corrupted-while-waiting': self.snapreq_requester,
            'snapreq-bad-requests-to-holder': self.snapreq_holder,
        }

    # ---- cleanup
    def cleanup(self):
        """Remove what a kind made: by archipctl where it can, by hand
        (archip-obj: the header, and the objects of its set as first
        seen) where the volumes are too damaged for it."""
        lab = self.lab
        r = lab.ctl('--json', 'volume', 'list')
        try:
            listed = {j['name']: j['object_set'] for j in json.loads(r.out)}
        except ValueError:
            listed = {}
        for n in self.names:
            if n in listed:
                self.osets.setdefault(n, listed[n])
        left = [n for n in self.names if n in listed]
        while left:
            gone = [n for n in left if lab.ctl('volume', 'remove', n).rc == 0]
            left = [n for n in left if n not in gone]
            if not gone:
                break
        lock = 'vol.%sclean' % self.prefix
        for n in left + [n for n in self.names if n not in listed]:
            lab.rm('v.' + n, lock)
            o = self.osets.get(n)
            if o:
                for obj in ['m.' + o, 'i.' + o] + ['d.%s.%016x' % (o, k) for k in range(4)]:
                    lab.rm(obj, lock)

    def main(self):
        kinds = self.kinds()
        if self.a.list:
            print('\n'.join(kinds))
            return 0
        want = self.a.kind or (CI_KINDS if self.a.ci else list(kinds))
        unknown = [k for k in want if k not in kinds]
        if unknown:
            print('unknown kind(s): %s (--list names them)' % ', '.join(unknown))
            return 2
        failed = 0
        try:
            self.healthy = self.plain('ok')[0]
            self.names = []
            for k in want:
                self.lab.log = []
                self.names, self.osets = [], {}
                t0 = time.monotonic()
                try:
                    case = kinds[k]()
                    if case.target is None:
                        print('ok - %s # SKIP without the driver (--no-map)' % k, flush=True)
                        continue
                    problems = []
                    for step in case.plan:
                        bad = self.command(case, step)
                        if bad:
                            problems.append('%s: %s' % (step[0], bad))
                    if problems:
                        raise Failed('; '.join(problems))
                    print('ok - %s: %s (%.1f s)' % (
                        k, ', '.join('%s %s' % (s[0], s[1]) for s in case.plan
                                     if not (s[0] == 'map' and self.a.no_map)) or 'held',
                        time.monotonic() - t0), flush=True)
                except Failed as e:
                    failed += 1
                    print('FAIL - %s: %s' % (k, e), flush=True)
                    for ln in self.lab.log[-12:]:
                        print('# ' + ln)
                finally:
                    if not self.a.keep:
                        self.cleanup()
        finally:
            if not self.a.keep:
                self.names, self.osets = [self.healthy] if self.healthy else [], {}
                self.cleanup()
                for d in self.digests:
                    self.lab.rm('h.' + d, 'vol.%sclean' % self.prefix)
            os.unlink(self.image_file)
        print('# %d kinds, %d failed' % (len(want), failed))
        return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ctl', default='archipctl')
    p.add_argument('--obj', default='archip-obj')
    p.add_argument('--server', default='127.0.0.1:7890')
    p.add_argument('--name', default='hs', help='prefix of the volumes made')
    p.add_argument('--kind', action='append', help='run only this kind (repeatable)')
    p.add_argument('--ci', action='store_true',
                   help='only the kinds the suite runs (CI_KINDS): one or two of each class')
    p.add_argument('--no-map', action='store_true', help='leave out the kernel driver')
    p.add_argument('--list', action='store_true', help='name the kinds')
    p.add_argument('--keep', action='store_true', help='leave the volumes for a look')
    a = p.parse_args()
    return Run(a).main()


if __name__ == '__main__':
    sys.exit(main())
