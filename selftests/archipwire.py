# SPDX-License-Identifier: GPL-2.0
"""The archip object protocol's handshake for the Python tests, written
from Documentation/protocol.rst and include/uapi/linux/archip.h: the
hello, the mutual authentication with the cluster key, both sides."""
import hashlib
import hmac
import os
import struct

HELLO_MAGIC, REQ_MAGIC, REP_MAGIC, AUTH_MAGIC = \
    0x50494843, 0x51504941, 0x52504941, 0x48545541
PROTO = 3
FEAT_ALL = 0xf          # COPY, LOCKS, LIST, FENCE
FEAT_AUTH = 1 << 4
FEAT_DIGEST = 1 << 5
HELLO_LEN, REPLY_LEN, REPLY_BASE = 80, 160, 96
KEY_FILE = os.environ.get('ARCHIP_KEY_FILE', '/etc/archip/archip.key')
ST_OK, ST_NEED_KEY, ST_UNKNOWN_KEY, ST_BAD_PROOF = 0, 6, 7, 8


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc_table()


def crc32c(data):
    """CRC-32C as protocol.rst's "Digests" define it (Castagnoli, initial
    value all ones, final complement): crc32c(b'123456789') == 0xe3069283."""
    c = 0xffffffff
    for b in data:
        c = (c >> 8) ^ _CRC[(c ^ b) & 0xff]
    return c ^ 0xffffffff


assert crc32c(b'123456789') == 0xe3069283


class Refused(ConnectionError):
    def __init__(self, status, reason):
        super().__init__(f'hello refused: {status} ({reason})')
        self.status, self.reason = status, reason


def load_key(path=KEY_FILE):
    """The key in a key file (64 hex digits), or None if there is none."""
    try:
        with open(path) as f:
            return bytes.fromhex(f.read().strip())
    except FileNotFoundError:
        return None


def key_id(key):
    return struct.unpack_from('<Q', hmac.new(key, b'archip-v3 key id',
                                             hashlib.sha256).digest())[0]


def server_proof(key, hello, reply_upto_proof):
    return hmac.new(key, b'archip-v3 server proof' + hello + reply_upto_proof,
                    hashlib.sha256).digest()


def client_proof(key, hello, reply):
    return hmac.new(key, b'archip-v3 client proof' + hello + reply,
                    hashlib.sha256).digest()


def recv_all(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError('closed by the server')
        b += c
    return b


def hello_bytes(cid, features=FEAT_ALL, required=0, key=None, nonce=None,
                version=PROTO, max_io=0, max_inflight=0):
    nonce = os.urandom(32) if nonce is None else nonce
    kid = key_id(key) if key else 0
    return struct.pack('<IHHQQQII', HELLO_MAGIC, version, HELLO_LEN, features,
                       required, cid, max_io, max_inflight) + nonce + \
        struct.pack('<Q', kid)


def handshake(s, cid, features=FEAT_ALL, key=None, required=0, hello=None):
    """Hello (and, with a key, the mutual proof) on socket s.  Returns the
    reply's (features, max_io, max_inflight); raises Refused."""
    if key:
        required |= FEAT_AUTH
    h = hello if hello is not None else hello_bytes(cid, features, required, key)
    s.sendall(h)
    base = recv_all(s, REPLY_BASE)
    magic, _v, status, feats, _sid, max_io, inflight = \
        struct.unpack_from('<IHHQQII', base)
    reason = base[32:96].split(b'\0')[0].decode(errors='replace')
    if magic != HELLO_MAGIC or status:
        raise Refused(status, reason)
    reply = base + recv_all(s, REPLY_LEN - REPLY_BASE)
    if feats & FEAT_AUTH:
        if not key:
            raise ConnectionError('the server authenticates, we have no key')
        if not hmac.compare_digest(reply[128:160],
                                   server_proof(key, h, reply[:128])):
            raise ConnectionError('the server did not prove the key')
        s.sendall(struct.pack('<II', AUTH_MAGIC, 0) + client_proof(key, h, reply))
        am, ast, _p = struct.unpack('<IHH', recv_all(s, 8))
        areason = recv_all(s, 64).split(b'\0')[0].decode(errors='replace')
        if am != AUTH_MAGIC or ast:
            raise Refused(ast, areason)
    elif key:
        raise ConnectionError('the server did not authenticate')
    return feats, max_io, inflight


def connect(host, port, cid, features=FEAT_ALL, key='default', timeout=120):
    """A connected, handshaken socket; key 'default': the key file's."""
    import socket
    if key == 'default':
        key = load_key()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        handshake(s, cid, features, key)
    except Exception:
        s.close()
        raise
    return s


def serve_handshake(s, key, features=FEAT_ALL, max_io=1 << 20, max_inflight=128,
                    impostor=False):
    """The server's side (a fake server): read the hello, prove key (or,
    impostor, a wrong proof), check the client's proof."""
    h = recv_all(s, HELLO_LEN)
    feats = features | (FEAT_AUTH if key else 0)
    base = struct.pack('<IHHQQII', HELLO_MAGIC, PROTO, 0, feats, 7, max_io,
                       max_inflight) + b'ok'.ljust(64, b'\0')
    nonce = os.urandom(32)
    if not key:
        s.sendall(base + b'\0' * 64)
        return
    proof = os.urandom(32) if impostor else server_proof(key, h, base + nonce)
    reply = base + nonce + proof
    s.sendall(reply)
    am, _pad = struct.unpack('<II', recv_all(s, 8))
    p = recv_all(s, 32)
    ok = am == AUTH_MAGIC and hmac.compare_digest(p, client_proof(key, h, reply))
    s.sendall(struct.pack('<IHH', AUTH_MAGIC, 0 if ok else ST_BAD_PROOF, 0) +
              (b'ok' if ok else b'wrong proof').ljust(64, b'\0'))
    if not ok:
        raise ConnectionError('bad client proof')
