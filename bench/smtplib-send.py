#!/usr/bin/env python3
# smtplib-send.py: the Python smtplib anchor of bench/run. Sends the same
# work as bench-client's small, large and stream workloads with
# smtplib.SMTP.sendmail() on one connection (smtplib has no stream: the
# stream is joined into one bytes object first, before connecting).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmsg  # noqa: E402


def main():
    args = benchmsg.parse_args("smtplib anchor for bench/run")
    if args.workload == "small":
        msg, count = benchmsg.message(args.size), args.messages
    elif args.workload == "large":
        msg, count = benchmsg.message(int(args.mb * 1e6)), args.messages
    else:
        header, block, blocks, tail = benchmsg.stream_parts(args.mb)
        msg, count = header + block * blocks + tail, 1
    with smtplib.SMTP("127.0.0.1", args.port, local_hostname="bench.test") as smtp:
        smtp.ehlo()
        for _ in range(count):
            smtp.sendmail("bench@example.org", ["sink@example.org"], msg)
    print(json.dumps({"messages": count, "bytes": count * len(msg)}))


if __name__ == "__main__":
    main()
