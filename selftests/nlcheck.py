#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""archip's generic netlink families against hostile local callers, with
raw netlink (no archipctl in between):

  nlcheck.py perm     every command of archip_srv and archip_blk must be
                      refused with EPERM (run it as an unprivileged user)
  nlcheck.py attrs    malformed attributes (wrong length, out of range,
                      a key of the wrong size) refused with EINVAL or
                      ERANGE and an extack message (as root)

The families are looked up by name (CTRL_CMD_GETFAMILY, which anyone may
do); a family whose module is not loaded is an error.  Prints a line per
case; exit 0 only if every case holds."""
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR = 2
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11
NLMSGERR_ATTR_MSG = 1
NLM_F_ACK_TLVS = 0x200

# <linux/archip-netlink.h>
SRV_CMDS = {'start': 1, 'stop': 2, 'status': 3, 'keys': 4}
BLK_CMDS = {'map': 1, 'unmap': 2, 'list': 3, 'key': 4}
SRV_A_PORT, SRV_A_ROOT, SRV_A_MAX_CONNS, SRV_A_LEASE, SRV_A_KEY = 2, 3, 4, 13, 14
BLK_A_INDEX, BLK_A_VOLUME, BLK_A_SERVERS, BLK_A_NR_QUEUES, BLK_A_KEY = 1, 2, 3, 5, 17

seq = [0]
fails = 0


def attr(t, payload):
    a = struct.pack('<HH', 4 + len(payload), t) + payload
    return a + b'\0' * ((4 - len(a) % 4) % 4)


def request(s, family, cmd, attrs=b'', flags=NLM_F_REQUEST | NLM_F_ACK):
    """(errno, extack message or '', reply attributes) of one request."""
    seq[0] += 1
    body = struct.pack('<BBH', cmd, 1, 0) + attrs
    s.send(struct.pack('<IHHII', 16 + len(body), family, flags, seq[0], 0) + body)
    replies = []
    while True:
        data = s.recv(65536)
        off = 0
        while off < len(data):
            ln, typ, fl, _sq, _pid = struct.unpack_from('<IHHII', data, off)
            msg = data[off + 16:off + ln]
            off += (ln + 3) & ~3
            if typ == NLMSG_ERROR:
                err = -struct.unpack_from('<i', msg)[0]
                ext = ''
                if fl & NLM_F_ACK_TLVS:
                    # the error, then the request's header (capped), then TLVs
                    olen = struct.unpack_from('<I', msg, 4)[0]
                    t = 4 + (16 if fl & 0x100 else olen)    # NLM_F_CAPPED
                    while t + 4 <= len(msg):
                        al, at = struct.unpack_from('<HH', msg, t)
                        if al < 4:
                            break
                        if at == NLMSGERR_ATTR_MSG:
                            ext = msg[t + 4:t + al].split(b'\0')[0].decode()
                        t += (al + 3) & ~3
                return err, ext, replies
            if typ == 3:    # NLMSG_DONE
                return 0, '', replies
            replies.append(msg)


def family_id(s, name):
    err, _ext, replies = request(s, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                 attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0'))
    if err or not replies:
        sys.exit(f'nlcheck: family {name} not found (module loaded?): {os.strerror(err)}')
    msg, off = replies[0], 4
    while off + 4 <= len(msg):
        al, at = struct.unpack_from('<HH', msg, off)
        if at == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from('<H', msg, off + 4)[0]
        off += (al + 3) & ~3
    sys.exit(f'nlcheck: no id for {name}')


def result(name, ok, detail):
    global fails
    print(('ok     ' if ok else 'FAIL   ') + name + f' ({detail})')
    fails += not ok


def sock():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.settimeout(10)
    return s


mode = sys.argv[1] if len(sys.argv) > 1 else ''
s = sock()
srv, blk = family_id(s, 'archip_srv'), family_id(s, 'archip_blk')
if mode == 'perm':
    for fam, fid, cmds in (('archip_srv', srv, SRV_CMDS), ('archip_blk', blk, BLK_CMDS)):
        for name, cmd in cmds.items():
            flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if name == 'list' else 0)
            err, _e, _r = request(s, fid, cmd, b'', flags)
            result(f'{fam} {name} as uid {os.getuid()}', err == errno.EPERM,
                   os.strerror(err) if err else 'accepted')
elif mode == 'attrs':
    u32 = lambda v: struct.pack('<I', v)  # noqa: E731
    cases = [
        ('srv start: port of 3 bytes', srv, SRV_CMDS['start'],
         attr(SRV_A_ROOT, b'/x\0') + attr(SRV_A_PORT, b'\1\2\3')),
        ('srv start: max-conns 0', srv, SRV_CMDS['start'],
         attr(SRV_A_ROOT, b'/x\0') + attr(SRV_A_PORT, struct.pack('<H', 7999)) +
         attr(SRV_A_MAX_CONNS, u32(0))),
        ('srv start: lease 1', srv, SRV_CMDS['start'],
         attr(SRV_A_ROOT, b'/x\0') + attr(SRV_A_PORT, struct.pack('<H', 7999)) +
         attr(SRV_A_LEASE, u32(1))),
        ('srv start: a key of 31 bytes', srv, SRV_CMDS['start'],
         attr(SRV_A_ROOT, b'/x\0') + attr(SRV_A_PORT, struct.pack('<H', 7999)) +
         attr(SRV_A_KEY, b'k' * 31)),
        ('srv start: no key, not insecure', srv, SRV_CMDS['start'],
         attr(SRV_A_ROOT, b'/x\0') + attr(SRV_A_PORT, struct.pack('<H', 7999))),
        ('srv keys: no key', srv, SRV_CMDS['keys'], b''),
        ('blk key: a key of 33 bytes', blk, BLK_CMDS['key'], attr(BLK_A_KEY, b'k' * 33)),
        ('blk map: queues 17', blk, BLK_CMDS['map'],
         attr(BLK_A_VOLUME, b'v\0') + attr(BLK_A_SERVERS, b'127.0.0.1\0') +
         attr(BLK_A_NR_QUEUES, u32(17))),
        ('blk map: volume name not a string', blk, BLK_CMDS['map'],
         attr(BLK_A_VOLUME, b'\xff' * 70) + attr(BLK_A_SERVERS, b'127.0.0.1\0')),
        ('blk map: servers garbage', blk, BLK_CMDS['map'],
         attr(BLK_A_VOLUME, b'v\0') + attr(BLK_A_SERVERS, b'999.1.1.1:0\0')),
        ('blk unmap: index of 2 bytes', blk, BLK_CMDS['unmap'], attr(BLK_A_INDEX, b'\1\2')),
    ]
    for name, fid, cmd, attrs in cases:
        err, ext, _r = request(s, fid, cmd, attrs)
        result(name, err in (errno.EINVAL, errno.ERANGE) and bool(ext),
               f'{os.strerror(err) if err else "accepted"}: "{ext}"')
else:
    sys.exit(__doc__)
print('all cases hold' if not fails else f'{fails} FAILED')
sys.exit(1 if fails else 0)
