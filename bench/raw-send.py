#!/usr/bin/env python3
# raw-send.py: the raw pipelined socket anchor of bench/run: what SMTP
# costs with nothing around it. EHLO once, then per message MAIL, RCPT and
# DATA in one write and their three replies, then the data and the dot in
# one write (or a few, for a large message) and its reply: two round trips
# per message. The data is precomputed and needs no dot-stuffing (no line
# begins with a dot). It assumes the server offers PIPELINING and checks
# only each reply's first digit.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmsg  # noqa: E402


class Replies:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read(self, count):
        """Reads count replies (each possibly multiline); fails on 4xx/5xx."""
        while count > 0:
            end = self.buf.find(b"\r\n")
            while end < 0:
                data = self.sock.recv(65536)
                if not data:
                    raise SystemExit("raw-send: the server closed the connection")
                self.buf += data
                end = self.buf.find(b"\r\n")
            line, self.buf = self.buf[:end], self.buf[end + 2:]
            if line[0:1] in (b"4", b"5"):
                raise SystemExit("raw-send: %s" % line.decode("ascii", "replace"))
            if line[3:4] != b"-":
                count -= 1


def main():
    args = benchmsg.parse_args("raw pipelined socket anchor for bench/run")
    envelope = (b"MAIL FROM:<bench@example.org>\r\n"
                b"RCPT TO:<sink@example.org>\r\n"
                b"DATA\r\n")
    if args.workload == "stream":
        header, block, blocks, tail = benchmsg.stream_parts(args.mb)
        count, size = 1, len(header) + blocks * len(block) + len(tail)
    else:
        msg = benchmsg.message(args.size if args.workload == "small"
                               else int(args.mb * 1e6))
        data = msg + b".\r\n"
        count, size = args.messages, len(msg)
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = Replies(sock)
    replies.read(1)
    sock.sendall(b"EHLO bench.test\r\n")
    replies.read(1)
    for _ in range(count):
        sock.sendall(envelope)
        replies.read(3)
        if args.workload == "stream":
            sock.sendall(header)
            for _ in range(blocks):
                sock.sendall(block)
            sock.sendall(tail + b".\r\n")
        else:
            sock.sendall(data)
        replies.read(1)
    sock.sendall(b"QUIT\r\n")
    replies.read(1)
    sock.close()
    print(json.dumps({"messages": count, "bytes": count * size}))


if __name__ == "__main__":
    main()
