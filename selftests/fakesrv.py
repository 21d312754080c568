#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A fake object server that misbehaves, for the block driver's checks of
what a server answers.  usage: fakesrv.py PORT MODE, MODE one of
  limits   the hello answers max_inflight 0 (no request could be sent)
  short    a good hello, then every request is answered "ok" with a reply
           payload shorter than the request's answer must be
It serves connections until killed; it prints "listening" once it does."""
import socket
import struct
import sys
import threading

HELLO_MAGIC, REQ_MAGIC, REP_MAGIC = 0x50494843, 0x51504941, 0x52504941
port, mode = int(sys.argv[1]), sys.argv[2]


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
        recv_all(s, 40)
        inflight = 0 if mode == 'limits' else 128
        s.sendall(struct.pack('<IHHQQII', HELLO_MAGIC, 2, 0, 0xf, 7, 1 << 20, inflight) +
                  b'ok'.ljust(64, b'\0'))
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
