#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The object server against Documentation/protocol.rst, rule by rule:
each "Validation" rule closes the connection without a reply; each op's
documented answer is the one given.  Written from the document, not from
the code.  usage: protocheck.py HOST PORT

Each case runs on a fresh authenticated connection.  Prints a line per
case; exit 0 only if every case holds."""
import errno
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

host, port = sys.argv[1], int(sys.argv[2])
READ, WRITE, FLUSH, DISCARD, WZ, DELETE, STAT, COPY, ACQUIRE, RELEASE, LIST, BIND = \
    range(1, 13)
FUA = 1
TIB16 = 16 << 40
fails = 0
tag = [0]


def frame(op, name=b'', off=0, length=0, data=b'', flags=0, pad=0, pad2=0,
          magic=w.REQ_MAGIC, epoch=0, name_len=None):
    tag[0] += 1
    nl = len(name) if name_len is None else name_len
    return struct.pack('<IBBHQQIHHII', magic, op, pad, flags, tag[0], off,
                       length, nl, pad2, len(data), epoch) + name + data


def conn():
    s = w.connect(host, port, 900 + tag[0])
    s.settimeout(20)
    return s


def reply(s):
    """(status, data), or None if the server closed the connection."""
    try:
        h = w.recv_all(s, 24)
    except (ConnectionError, OSError):
        return None
    magic, status, _t, dlen, _p = struct.unpack('<IiQII', h)
    if magic != w.REP_MAGIC:
        raise ConnectionError('bad reply magic')
    return status, w.recv_all(s, dlen) if dlen else b''


def result(name, ok, detail=''):
    global fails
    print(('ok     ' if ok else 'FAIL   ') + name + (f' ({detail})' if detail else ''))
    fails += not ok


def closes(name, f):
    """A frame the document says closes the connection, unanswered."""
    s = conn()
    try:
        s.sendall(f)
    except OSError:
        pass
    r = reply(s)
    s.close()
    result('closes: ' + name, r is None, f'answered {r[0]}' if r else '')


def answers(name, frames, want):
    """Frames on one connection, each sent once the one before is
    answered (requests run concurrently: replies come in any order); the
    last one's status must be want."""
    s = conn()
    r = None
    for f in frames:
        s.sendall(f)
        r = reply(s)
        if r is None:
            break
    # and the connection still serves: a STAT after it
    alive = False
    if r is not None:
        s.sendall(frame(STAT, b'pc.alive'))
        alive = reply(s) is not None
    s.close()
    got = 'closed' if r is None else r[0]
    result(f'{name}: {want}', r is not None and r[0] == want and alive,
           f'got {got}' + ('' if alive else ', connection gone'))
    return r


# ---------------------------------------------------------- Validation
closes('wrong magic', frame(STAT, b'x', magic=0x12345678))
closes('non-zero pad', frame(STAT, b'x', pad=1))
closes('non-zero pad2', frame(STAT, b'x', pad2=1))
closes('unknown flag', frame(WRITE, b'x', 0, 1, b'a', flags=2))
closes('FUA on READ', frame(READ, b'x', 0, 1, flags=FUA))
closes('name_len over 200', frame(STAT, b'a' * 201))
closes('no name on STAT', frame(STAT, b''))
for bad in (b'a/b', b'..', b'.hidden', b'a\0b', b'caf\xc3\xa9', b'\xc0x', b'\xffx',
            b'a b', b'a\x7f'):
    closes(f'name {bad!r}', frame(STAT, bad))
closes('off + len overflows', frame(READ, b'x', (1 << 64) - 2, 4096))
closes('READ past s_maxbytes (16 TiB)', frame(READ, b'x', TIB16, 4096))
closes('WRITE_ZEROES at 2^62', frame(WZ, b'x', 1 << 62, 4096))
closes('DISCARD past s_maxbytes', frame(DISCARD, b'x', TIB16 - 4096, 8192))
closes('READ of 0 bytes', frame(READ, b'x', 0, 0))
closes('READ over max_io', frame(READ, b'x', 0, (1 << 20) + 4096))
closes('WRITE data_len != len', frame(WRITE, b'x', 0, 8, b'abcd'))
closes('LIST of 0 bytes', frame(LIST, b'x', 0, 0))
closes('payload over max_io', frame(WRITE, b'x', 0, (1 << 20) + 1, b'a' * ((1 << 20) + 1)))
closes('DISCARD of 0 bytes', frame(DISCARD, b'x', 0, 0))
for op, nm in ((FLUSH, 'FLUSH'), (DELETE, 'DELETE'), (STAT, 'STAT'), (RELEASE, 'RELEASE')):
    closes(f'offset on {nm}', frame(op, b'x', 4096, 0))
    closes(f'length on {nm}', frame(op, b'x', 0, 4096))
    closes(f'payload on {nm}', frame(op, b'x', 0, 0, b'p'))
closes('offset on ACQUIRE', frame(ACQUIRE, b'pc.lk', 1, 0))
closes('slot over 1023 on BIND', frame(BIND, b'pc.lk', 1024, 0, epoch=1))
closes('wait over 120000 ms on ACQUIRE', frame(ACQUIRE, b'pc.lk', 0, 120001))
closes('payload on BIND', frame(BIND, b'pc.lk', 0, 0, b'p', epoch=1))
closes('COPY to an invalid name', frame(COPY, b'pc.src', data=b'../x'))
closes('COPY without a destination', frame(COPY, b'pc.src'))

# ------------------------------------------------------ documented answers
answers('unknown op 77 with a payload: -EOPNOTSUPP, stream intact',
        [frame(77, b'x', 0, 0, b'z' * 1000)], -errno.EOPNOTSUPP)
answers('DELETE of a missing object', [frame(DELETE, b'pc.none')], 0)
r = answers('READ of a missing object', [frame(READ, b'pc.none', 0, 4096)], 0)
result('READ of a missing object reads zeros', r is not None and r[1] == b'\0' * 4096)
r = answers('STAT of a missing object', [frame(STAT, b'pc.none')], 0)
result('STAT of a missing object: flags without EXISTS, size 0',
       r is not None and struct.unpack_from('<QQI', r[1])[::2] == (0, 0))
answers('DISCARD of a missing object', [frame(DISCARD, b'pc.none', 0, 4096)], 0)
data = os.urandom(6000)
r = answers('WRITE, then READ across its end', [frame(WRITE, b'pc.w', 100, len(data), data),
                                                 frame(READ, b'pc.w', 0, 8192)], 0)
result('READ past the end reads zeros', r is not None and
       r[1] == b'\0' * 100 + data + b'\0' * (8192 - 100 - len(data)))
r = answers('WRITE_ZEROES inside it', [frame(WZ, b'pc.w', 4096, 4096),
                                       frame(READ, b'pc.w', 0, 8192)], 0)
result('WRITE_ZEROES reads as zeros, the rest kept', r is not None and
       r[1][:4096] == (b'\0' * 100 + data)[:4096] and r[1][4096:] == b'\0' * 4096)
answers('COPY from a missing source', [frame(DELETE, b'pc.dst'),
                                       frame(COPY, b'pc.none', data=b'pc.dst')], -errno.ENOENT)
answers('COPY to a new object', [frame(DELETE, b'pc.dst'),
                                 frame(COPY, b'pc.w', data=b'pc.dst')], 0)
answers('COPY onto an existing object', [frame(COPY, b'pc.w', data=b'pc.dst')], -errno.EEXIST)
r = answers('READ of the copy', [frame(READ, b'pc.dst', 0, 8192)], 0)
result('the copy holds the source', r is not None and r[1][:100 + len(data)][100:4096] ==
       data[:3996])
answers('RELEASE of a lock not held', [frame(RELEASE, b'pc.lk')], -errno.ENOENT)
answers('ACQUIRE of a lock file name (NAME.w)', [frame(ACQUIRE, b'pc.lk.w')], -errno.EINVAL)
answers('ACQUIRE of a slot name (NAME.q7)', [frame(ACQUIRE, b'pc.lk.q7')], -errno.EINVAL)
answers('ACQUIRE, then ACQUIRE again (held)', [frame(ACQUIRE, b'pc.lk'),
                                               frame(ACQUIRE, b'pc.lk')], 0)
answers('BIND at an epoch that is not the lock\'s', [frame(BIND, b'pc.lk', 0, 0, epoch=999999)],
        -errno.ESTALE)
# Fencing for everyone: a change to an object of the volume format needs
# a lock epoch (-ENOLCK at 0); for COPY the destination counts.
D = b'd.pcfence.0000000000000000'
for pre in (b'v.', b'm.', b'd.', b's.', b'i.', b'h.', b'vol.'):
    answers(f'WRITE of {pre.decode()}pcfence at epoch 0',
            [frame(WRITE, pre + b'pcfence', 0, 4, b'evil')], -errno.ENOLCK)
answers('DISCARD of a data object at epoch 0', [frame(DISCARD, D, 0, 4096)], -errno.ENOLCK)
answers('WRITE_ZEROES of a data object at epoch 0', [frame(WZ, D, 0, 4096)], -errno.ENOLCK)
answers('DELETE of a data object at epoch 0', [frame(DELETE, D)], -errno.ENOLCK)
answers('COPY into a data object at epoch 0', [frame(COPY, b'pc.w', data=D)], -errno.ENOLCK)
answers('COPY out of a (missing) data object at epoch 0', [frame(COPY, D, data=b'pc.x')],
        -errno.ENOENT)
answers('WRITE of a data object at an epoch not the connection\'s',
        [frame(WRITE, D, 0, 4, b'evil', epoch=5)], -errno.ESTALE)
s = conn()
s.sendall(frame(ACQUIRE, b'pc.fence'))
r = reply(s)
ep = struct.unpack_from('<I', r[1])[0] if r and r[0] == 0 and len(r[1]) >= 4 else 0
s.sendall(frame(WRITE, D, 0, 4, b'good', epoch=ep))
r1 = reply(s)
s.sendall(frame(READ, D, 0, 4))
r2 = reply(s)
s.sendall(frame(DELETE, D, epoch=ep))
r3 = reply(s)
s.close()
result('under a held lock (ACQUIRE\'s epoch) a data object is written, read, deleted',
       ep != 0 and r1 == (0, b'') and r2 == (0, b'good') and r3 == (0, b''),
       f'epoch {ep}, {r1} {r2} {r3}')

# ------------------------------------------------------------- Digests
# With DIGEST granted: hdgst after each header, ddgst after a request's
# name and payload and after a reply's payload (none where there is
# nothing); a wrong one closes the connection, the frame not acted on.
def dframe(op, name=b'', off=0, length=0, data=b'', epoch=0, bad=None):
    f = frame(op, name, off, length, data, epoch=epoch)
    h = f[:40] + struct.pack('<I', w.crc32c(f[:40]))
    rest = f[40:]
    d = struct.pack('<I', w.crc32c(rest)) if rest else b''
    if bad == 'header':
        h = h[:40] + bytes([h[40] ^ 1]) + h[41:]
    if bad == 'data':
        rest = rest[:-1] + bytes([rest[-1] ^ 0x80])
    return h + rest + d


def dconn():
    s = w.connect(host, port, 990 + tag[0], w.FEAT_ALL | w.FEAT_DIGEST)
    s.settimeout(20)
    return s


def dreply(s):
    """(status, data) with both digests checked, 'bad' on a wrong one, or
    None if the server closed the connection."""
    try:
        h = w.recv_all(s, 28)
        magic, status, _t, dlen, _p, hd = struct.unpack('<IiQIII', h)
        if magic != w.REP_MAGIC or hd != w.crc32c(h[:24]):
            return 'bad'
        d = w.recv_all(s, dlen + 4) if dlen else b''
    except (ConnectionError, OSError):
        return None
    if d and struct.unpack('<I', d[-4:])[0] != w.crc32c(d[:-4]):
        return 'bad'
    return status, d[:-4]


payload = os.urandom(5000)
s = dconn()
s.sendall(dframe(WRITE, b'pc.dg', 0, len(payload), payload))
r1 = dreply(s)
s.sendall(dframe(READ, b'pc.dg', 0, len(payload)))
r2 = dreply(s)
s.sendall(dframe(STAT, b'pc.dg'))
r3 = dreply(s)
s.sendall(dframe(FLUSH))
r4 = dreply(s)
s.close()
result('digests: WRITE, READ, STAT, FLUSH without a name answered with right digests',
       r1 == (0, b'') and r2 == (0, payload) and r3 is not None and r3 != 'bad' and
       r3[0] == 0 and len(r3[1]) == 24 and r4 == (0, b''), f'{r1} {str(r2)[:40]} {r3} {r4}')
for bad in ('header', 'data'):
    s = dconn()
    s.sendall(dframe(WRITE, b'pc.dg', 0, 16, b'x' * 16, bad=bad))
    r = dreply(s)
    s.close()
    s = dconn()
    s.sendall(dframe(READ, b'pc.dg', 0, 16))
    after = dreply(s)
    s.close()
    result(f'digests: a WRITE with a wrong {bad} digest closes, unanswered and not written',
           r is None and after == (0, payload[:16]), f'{r} then {after}')
s = dconn()
s.sendall(frame(STAT, b'pc.dg'))
result('digests: a frame without its digests closes the connection', dreply(s) is None)
s.close()

for n in (b'pc.w', b'pc.dst', b'pc.dg'):
    s = conn()
    s.sendall(frame(DELETE, n))
    reply(s)
    s.close()
print(f'{tag[0]} frames; {"all cases hold" if not fails else f"{fails} FAILED"}')
sys.exit(1 if fails else 0)
