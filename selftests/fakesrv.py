#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A fake object server that misbehaves, for the block driver's checks of
what a server answers.  usage: fakesrv.py PORT MODE, MODE one of
  limits   the hello answers max_inflight 0 (no request could be sent)
  short    a good hello, then every request is answered "ok" with a reply
           payload shorter than the request's answer must be
  impostor a hello that claims to authenticate, with a proof made without
           the cluster key
It authenticates with the node's cluster key (archipwire.load_key), serves
connections until killed, and prints "listening" once it does."""
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

REP_MAGIC = w.REP_MAGIC
port, mode = int(sys.argv[1]), sys.argv[2]
key = w.load_key()


def recv_all(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError
        b += c
    return b


def serve(s):
    try:
        inflight = 0 if mode == 'limits' else 128
        w.serve_handshake(s, key, max_inflight=inflight,
                          impostor=mode == 'impostor')
        while True:
            h = recv_all(s, 40)
            _m, _op, _p, _f, tag, _off, _len, nlen, _p2, dlen, _e = \
                struct.unpack('<IBBHQQIHHII', h)
            recv_all(s, nlen + dlen)
            s.sendall(struct.pack('<IiQII', REP_MAGIC, 0, tag, 4, 0) + b'\1\0\0\0')
    except (ConnectionError, OSError):
        pass
    finally:
        s.close()


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('0.0.0.0', port))
ls.listen(16)
print('listening', flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
