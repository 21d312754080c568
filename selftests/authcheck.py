#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Strangers against a volume's objects: every op, from clients that do
not hold the cluster key, must be refused before it runs.

usage: authcheck.py HOST PORT VOLUME

With the node's key it first finds the volume's objects (header, map,
lock, snapshot request, up to 4 data objects) and hashes what it reads of
each.  Then, for each kind of stranger, it opens a connection and sends
the hello (and a proof where the kind has one) with a request of every
op on every object pipelined right behind it:

  nokey    no key at all
  wrongkey a key of its own
  forged   the real key's id (it is public: logs and status show it)
           and a made-up proof
  replay   the hello and proof of a real client's earlier handshake,
           byte for byte

Each must get a refusal (hello or proof status), then the end of the
stream, and not one reply frame.  Then a client with the key but no lock
(unfenced): every change to each object must be refused, -ENOLCK with no
epoch and -ESTALE with an epoch that is not its connection's, while the
same change to an object outside the volume format passes (the control);
and the volume's lock, held by the mapping, or a file behind it cannot
be taken.  Last, the objects must read back as before (sha256).  Prints
one line per kind; exit 0 only if all held."""
import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

host, port, vol = sys.argv[1], int(sys.argv[2]), sys.argv[3]
KEY = w.load_key()
if not KEY:
    sys.exit('authcheck: no key file on this node')
OPS = {'read': 1, 'write': 2, 'flush': 3, 'discard': 4, 'write_zeroes': 5,
       'delete': 6, 'stat': 7, 'copy': 8, 'acquire': 9, 'release': 10,
       'list': 11, 'bind': 12}
tag = [0]
VOL_NAME_MAX = 64  # <linux/archip-volume.h>


def req(op, name, off=0, length=0, data=b'', epoch=0):
    n = name.encode()
    tag[0] += 1
    return struct.pack('<IBBHQQIHHII', w.REQ_MAGIC, op, 0, 0, tag[0], off,
                       length, len(n), 0, len(data), epoch) + n + data


def call(s, op, name, off=0, length=0, data=b'', epoch=0):
    s.sendall(req(op, name, off, length, data, epoch))
    magic, status, _tag, dlen, _p = struct.unpack('<IiQII', w.recv_all(s, 24))
    if magic != w.REP_MAGIC:
        raise ConnectionError('bad reply')
    return status, w.recv_all(s, dlen) if dlen else b''


def good():
    return w.connect(host, port, 4242, key=KEY)


def targets():
    """The volume's objects: its data objects are those of its object set,
    named in its header (struct archip_vol_hdr: oset after name, both
    ARCHIP_VOL_NAME_MAX bytes from offset 48)."""
    s = good()
    names = ['v.' + vol, 'm.' + vol, 'vol.' + vol, 's.' + vol]
    st, hdr = call(s, OPS['read'], 'v.' + vol, 0, 4096)
    if st:
        sys.exit(f'authcheck: READ v.{vol} failed: {st}')
    oset = hdr[48 + VOL_NAME_MAX:48 + 2 * VOL_NAME_MAX].split(b'\0')[0].decode()
    st, body = call(s, OPS['list'], f'd.{oset}.', 0, 65536)
    if st:
        sys.exit(f'authcheck: LIST failed: {st}')
    data = [n.decode() for n in body[8:].split(b'\0') if n][:4]
    s.close()
    if not data:
        sys.exit('authcheck: the volume has no data objects to guard')
    return names + data


def digest(names):
    s = good()
    out = {}
    for n in names:
        h = hashlib.sha256()
        st, body = call(s, OPS['stat'], n)
        if st:
            sys.exit(f'authcheck: STAT {n}: {st}')
        size = struct.unpack_from('<Q', body)[0]
        for off in range(0, size, 1 << 20):
            st, chunk = call(s, OPS['read'], n, off, min(1 << 20, size - off))
            if st:
                sys.exit(f'authcheck: READ {n}: {st}')
            h.update(chunk)
        out[n] = (size, h.hexdigest())
    s.close()
    return out


def every_op(names):
    """A request of every op on every name, the data-changing ones with
    an epoch, as a fenced-in writer would send them."""
    b = b''
    for n in names:
        b += req(OPS['write'], n, 0, 4096, b'\xee' * 4096, epoch=1)
        b += req(OPS['discard'], n, 0, 1 << 20, epoch=1)
        b += req(OPS['write_zeroes'], n, 0, 1 << 20, epoch=1)
        b += req(OPS['copy'], n, data=b'evil.' + n.encode(), epoch=1)
        b += req(OPS['read'], n, 0, 4096) + req(OPS['stat'], n)
        b += req(OPS['flush'], n) + req(OPS['acquire'], n, length=100)
        b += req(OPS['release'], n) + req(OPS['bind'], n, 0, 100, epoch=1)
        b += req(OPS['list'], n, 0, 4096)
        b += req(OPS['delete'], n, epoch=1)
    return b


def drain(s):
    """Everything the server sends until it closes (bounded)."""
    s.settimeout(30)
    b = b''
    while True:
        try:
            c = s.recv(65536)
        except ConnectionResetError:
            break
        if not c:
            break
        b += c
    return b


def recorded():
    """A real client's hello and proof, for the replay."""
    s = socket.create_connection((host, port), timeout=30)
    h = w.hello_bytes(77, w.FEAT_ALL, w.FEAT_AUTH, KEY)
    s.sendall(h)
    reply = w.recv_all(s, w.REPLY_LEN)
    proof = w.client_proof(KEY, h, reply)
    s.sendall(struct.pack('<II', w.AUTH_MAGIC, 0) + proof)
    ok = struct.unpack_from('<IH', w.recv_all(s, 72))[1] == 0
    s.close()
    if not ok:
        sys.exit('authcheck: the real client was refused')
    return h, proof


def stranger(kind, names, rec):
    s = socket.create_connection((host, port), timeout=30)
    if kind == 'nokey':
        first = w.hello_bytes(1, w.FEAT_ALL)
    elif kind == 'wrongkey':
        first = w.hello_bytes(2, w.FEAT_ALL, w.FEAT_AUTH, os.urandom(32))
    elif kind == 'forged':
        first = w.hello_bytes(3, w.FEAT_ALL, w.FEAT_AUTH)[:-8] + \
            struct.pack('<Q', w.key_id(KEY))
        first += struct.pack('<II', w.AUTH_MAGIC, 0) + os.urandom(32)
    else:
        first = rec[0] + struct.pack('<II', w.AUTH_MAGIC, 0) + rec[1]
    try:
        s.sendall(first + every_op(names))
    except (BrokenPipeError, ConnectionResetError):
        pass    # refused and closed while we were still sending
    got = drain(s)
    s.close()
    # A hello reply (refusing, or for forged/replay OK plus a refused
    # proof), and nothing after it.
    want = {'nokey': (w.ST_NEED_KEY, None), 'wrongkey': (w.ST_UNKNOWN_KEY, None),
            'forged': (w.ST_OK, w.ST_BAD_PROOF), 'replay': (w.ST_OK, w.ST_BAD_PROOF)}[kind]
    if len(got) < w.REPLY_BASE:
        return f'{kind}: {len(got)} bytes back, no hello reply'
    magic, _v, status = struct.unpack_from('<IHH', got)
    reason = got[32:96].split(b'\0')[0].decode(errors='replace')
    if magic != w.HELLO_MAGIC or status != want[0]:
        return f'{kind}: hello status {status} ({reason}), {want[0]} expected'
    rest = got[w.REPLY_LEN:]
    if want[1] is not None:
        if len(rest) < 72:
            return f'{kind}: no verdict on the proof'
        am, ast = struct.unpack_from('<IH', rest)
        areason = rest[8:72].split(b'\0')[0].decode(errors='replace')
        if am != w.AUTH_MAGIC or ast != want[1]:
            return f'{kind}: proof verdict {ast} ({areason}), {want[1]} expected'
        reason, rest = areason, rest[72:]
    if rest:
        return f'{kind}: {len(rest)} bytes after the refusal (replies to requests?)'
    print(f'{kind}: refused ({reason}), nothing after it')
    return None


ENOLCK, ESTALE, EAGAIN, EINVAL = 37, 116, 11, 22
CHANGES = ('write', 'discard', 'write_zeroes', 'copy', 'delete')


def change(s, op, name, epoch):
    if op == 'write':
        return call(s, OPS[op], name, 0, 4096, b'\xee' * 4096, epoch)[0]
    if op == 'copy':    # into the name, from an object of our own
        return call(s, OPS[op], 'authcheck.src', data=name.encode(), epoch=epoch)[0]
    if op == 'delete':
        return call(s, OPS[op], name, epoch=epoch)[0]
    return call(s, OPS[op], name, 0, 1 << 20, epoch=epoch)[0]


def unfenced(names):
    """A trusted client that holds no lock: fencing for everyone."""
    s = good()
    errs = []
    if call(s, OPS['write'], 'authcheck.src', 0, 4096, b'\x11' * 4096)[0]:
        errs.append('the control write of authcheck.src failed')
    n = 0
    for name in names:
        for op in CHANGES:
            for epoch, want in ((0, ENOLCK), (9999, ESTALE)):
                st = change(s, op, name, epoch)
                n += 1
                if st != -want:
                    errs.append(f'{op} {name} epoch {epoch}: {st}, -{want} expected')
    # The control: the same changes to an object outside the format pass
    # (each on an object that exists, except COPY's fresh destination).
    for op in CHANGES:
        if op == 'copy':
            call(s, OPS['delete'], 'authcheck.free')
        st = change(s, op, 'authcheck.free', 0)
        if st:
            errs.append(f'control {op} authcheck.free: {st}, 0 expected')
    for lock, want in ((f'vol.{vol}', EAGAIN), (f'vol.{vol}.w', EINVAL),
                       (f'vol.{vol}.q0', EINVAL)):
        st = call(s, OPS['acquire'], lock, length=100)[0]
        if st != -want:
            errs.append(f'ACQUIRE {lock}: {st}, -{want} expected')
    call(s, OPS['delete'], 'authcheck.src')
    s.close()
    if errs:
        return 'unfenced: ' + '; '.join(errs[:6])
    print(f'unfenced: {n} changes refused (ENOLCK/ESTALE), the control passed, '
          'the lock and its files not taken')
    return None


names = targets()
before = digest(names)
rec = recorded()
bad = [e for e in (stranger(k, names, rec) for k in ('nokey', 'wrongkey', 'forged', 'replay')) if e]
bad += [e for e in [unfenced(names)] if e]
after = digest(names)
changed = [n for n in names if before[n] != after[n]]
for e in bad:
    print('FAIL', e)
if changed:
    print('FAIL changed:', ' '.join(changed))
print(f'{len(names)} objects, {len(OPS)} ops each, 4 kinds of stranger and an '
      f'unfenced client: {5 - len(bad)} refused cleanly, {len(changed)} objects changed')
sys.exit(1 if bad or changed else 0)
