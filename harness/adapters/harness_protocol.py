# harness_protocol.py: the adapter's side of smtpkit-harness's line
# protocol (docs/harness.md), shared by the Python adapters.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import sys


class Unsupported(Exception):
    """The client has no way to do this step: the case is skipped."""


def serve(hello, perform, on_error=None):
    """Answers the harness until the end of the case. @hello takes the
    hello request and returns the client's name; @perform takes each step
    and returns its answer; @on_error, when given, turns an exception of
    the client into an answer."""
    for line in sys.stdin:
        request = json.loads(line)
        op = request.get("op")
        if op == "end":
            break
        try:
            if op == "hello":
                answer = {"status": "ok", "client": hello(request)}
            else:
                answer = perform(request)
        except Unsupported as e:
            answer = {"status": "unsupported", "reason": str(e)}
        except Exception as e:
            if on_error is None:
                raise
            answer = on_error(e)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
