# benchmsg.py: the messages of bench/run's Python anchors, the same text
# as bench-client.c and curl-send.c build (a header, then lines of at most
# 76 characters and CRLF, none beginning with a dot).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse

HEADER = b"Subject: bench\r\n\r\n"
BLOCK_LINE = 78
BLOCK_SIZE = BLOCK_LINE * 840


def _lines(start, size):
    out = bytearray()
    length = start
    while length + 2 < size:
        line = min(size - 2 - length, 76)
        out += bytes(ord('a') + (length + i) % 26 for i in range(line))
        out += b"\r\n"
        length += line + 2
    return bytes(out)


def message(size):
    """A message of exactly size bytes (at least the header and a line)."""
    if size < len(HEADER) + 3:
        return HEADER + b"x\r\n"
    return HEADER + _lines(len(HEADER), size)


def stream_parts(mb):
    """The stream of about mb megabytes as (header, block, whole blocks,
    tail): header, then block repeated, then tail (whole lines)."""
    block = _lines(0, BLOCK_SIZE)
    body = int(mb * 1e6) - len(HEADER)
    body -= body % BLOCK_LINE
    return HEADER, block, body // len(block), block[:body % len(block)]


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("port", type=int)
    parser.add_argument("workload", choices=["small", "large", "stream"])
    parser.add_argument("-n", type=int, default=5000, dest="messages")
    parser.add_argument("--size", type=int, default=61)
    parser.add_argument("--mb", type=float, default=0)
    return parser.parse_args()
