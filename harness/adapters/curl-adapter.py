#!/usr/bin/env python3
# curl-adapter.py: drives curl's command line for smtpkit-harness.
#
#   smtpkit-harness run --client 'python3 harness/adapters/curl-adapter.py'
#
# curl sends a message in one run: it connects, greets, authenticates,
# sends MAIL, RCPT and the data and quits, all in one command. So the
# adapter looks ahead: when a session starts (connect), it reads the
# steps of the session from the harness's hello, and when they are steps
# curl can express — connect, ehlo, starttls, login, one sendmail, quit,
# and a few settings — it runs curl once, with --verbose, and answers
# each step from what curl printed it sent and received, and from curl's
# exit status. Any other step is "unsupported": the case is skipped.
# The protocol is in docs/harness.md.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import base64
import os
import subprocess
import sys
import tempfile

from harness_protocol import Unsupported, serve

# curl's exit status, as the error an application gets from it.
EXIT_CLASSES = {
    7: "server-disconnected",    # could not connect
    8: "protocol",               # weird server reply
    28: "timed-out",
    35: "bad-certificate",       # TLS handshake failed
    55: "server-disconnected",   # failed sending
    56: "server-disconnected",   # failed receiving
    60: "bad-certificate",       # peer certificate cannot be verified
    64: "not-supported",         # SSL level required and not offered
    67: "authentication",        # login denied
}

# The steps curl can express, as part of one run.
SESSION_STEPS = {"connect", "ehlo", "ehlo_or_helo_if_needed", "starttls", "login", "sendmail", "quit"}


def reply(lines):
    """A reply from curl's "< 250-..." lines."""
    code = int(lines[-1][:3]) if lines and lines[-1][:3].isdigit() else -1
    return {"code": code, "lines": [line[4:] for line in lines]}


def parse_verbose(text):
    """curl's --verbose output as [(command or None, reply)], in order."""
    exchanges = []
    command = None
    pending = []
    for line in text.splitlines():
        if line.startswith("> "):
            command = line[2:]
        elif line.startswith("< "):
            pending.append(line[2:])
            if len(line) < 6 or line[5] != "-":
                exchanges.append((command, reply(pending)))
                command = None
                pending = []
    return exchanges


class Session:
    def __init__(self, hello):
        # The case's steps; null for one the protocol cannot carry.
        self.steps = hello.get("steps") or []
        self.settings = {"local-hostname": "client.test"}
        self.answers = []            # planned answers to the session's steps

    # ---- planning a run ----------------------------------------------------

    def plan(self, first):
        """The session's steps from @first on, up to the end of the case or
        a step that starts another session."""
        session = []
        for step in self.steps[first:]:
            if step is None:
                raise Unsupported("a step the harness protocol cannot carry")
            if step["op"] == "set":
                raise Unsupported("curl cannot change a setting in the middle of a session")
            if step["op"] not in SESSION_STEPS:
                raise Unsupported("curl has no %s" % step["op"])
            if session and step["op"] == "connect":
                break
            session.append(step)
            if step["op"] == "quit":
                break
        if [s["op"] for s in session].count("sendmail") > 1:
            raise Unsupported("one curl run sends one message")
        return session

    def command(self, session, message_file):
        connect = session[0]
        starttls = any(s["op"] == "starttls" for s in session)
        scheme = "smtps" if self.settings.get("tls-mode") == "implicit" else "smtp"
        url = "%s://%s:%d/%s" % (scheme, connect["host"], connect["port"],
                                 self.settings["local-hostname"])
        argv = ["curl", "--verbose", "--silent", "--show-error", url]
        if starttls:
            argv.append("--ssl-reqd")
        if "tls-database" in self.settings:
            argv += ["--cacert", self.settings["tls-database"]]
        if "timeout" in self.settings:
            argv += ["--max-time", str(max(float(self.settings["timeout"]) * 4, 1))]
        for s in session:
            if s["op"] == "login":
                argv += ["--user", "%s:%s" % (s["user"], s["password"])]
            elif s["op"] == "sendmail":
                if s["mail_options"] or s["rcpt_options"]:
                    raise Unsupported("curl sends no MAIL or RCPT parameters of the caller's")
                argv += ["--mail-from", s["from"], "--mail-rcpt-allowfails"]
                for rcpt in s["to"]:
                    argv += ["--mail-rcpt", rcpt]
                with open(message_file, "wb") as f:
                    f.write(base64.b64decode(s["message"]))
                argv += ["--upload-file", message_file]
        if not any(s["op"] == "sendmail" for s in session):
            # Without a message curl only connects, greets and quits.
            if any(s["op"] == "login" for s in session):
                raise Unsupported("curl authenticates only to send or to run a command")
            argv += ["--request", "NOOP"]
        return argv

    def run(self, session):
        with tempfile.TemporaryDirectory() as tmp:
            argv = self.command(session, os.path.join(tmp, "message"))
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=120)
        verbose = done.stderr.decode("utf-8", "replace")
        sys.stderr.write(verbose)
        return done.returncode, parse_verbose(verbose)

    # ---- answering -----------------------------------------------------------

    def answer_session(self, session, status, exchanges):
        """One answer per step of @session, from what curl did."""
        failure = EXIT_CLASSES.get(status, "failed") if status else None
        by_verb = {}
        greeting = None
        for command, r in exchanges:
            if command is None and greeting is None:
                greeting = r
                continue
            verb = (command or "").split(" ")[0].upper()
            by_verb.setdefault(verb, []).append((command, r))

        answers = []
        for step in session:
            op = step["op"]
            if op == "connect":
                answers.append(self.reply_or_error(greeting, failure, "connect", 220))
            elif op == "ehlo":
                answers.append(self.reply_or_error(first_reply(by_verb, "EHLO"), failure))
            elif op == "ehlo_or_helo_if_needed":
                # curl falls back to HELO when EHLO is refused.
                r = first_reply(by_verb, "HELO") or first_reply(by_verb, "EHLO")
                answers.append({"status": "ok"} if r and r["code"] == 250
                               else self.error("helo" if r else failure, r))
            elif op == "starttls":
                answers.append(self.reply_or_error(first_reply(by_verb, "STARTTLS"), failure))
            elif op == "login":
                auth = by_verb.get("AUTH", []) + by_verb.get("", [])
                last = auth[-1][1] if auth else None
                if last and last["code"] == 235:
                    answers.append({"status": "reply", "reply": last})
                else:
                    answers.append(self.error("authentication" if last else failure, last))
            elif op == "sendmail":
                answers.append(self.sendmail_outcome(step, by_verb, failure))
            elif op == "quit":
                # curl says QUIT as it closes, and shows nobody the reply.
                answers.append({"status": "unsupported",
                                "reason": "curl quits without reporting the reply"})
        return answers

    def sendmail_outcome(self, step, by_verb, failure):
        mail = first_reply(by_verb, "MAIL")
        rcpts = by_verb.get("RCPT", [])
        data = first_reply(by_verb, "DATA")
        # The reply after the data has no command line of its own.
        final = by_verb.get("", [])
        if mail is None:
            return self.error(failure or "server-disconnected", None)
        if mail["code"] != 250:
            return self.error("sender-refused", mail)
        refused = {}
        for command, r in rcpts:
            address = command[len("RCPT TO:"):].strip().strip("<>")
            if r["code"] not in (250, 251):
                refused[address] = r
        if len(rcpts) == len(step["to"]) and len(refused) == len(rcpts):
            return {"status": "error", "error": "recipients-refused",
                    "message": "every recipient was refused", "recipients": refused}
        if data is None:
            return self.error(failure or "server-disconnected", None)
        if data["code"] != 354:
            return self.error("data", data)
        if not final:
            return self.error(failure or "server-disconnected", None)
        if final[-1][1]["code"] != 250:
            return self.error("data", final[-1][1])
        return {"status": "refused", "recipients": refused}

    @staticmethod
    def error(kind, r, message=None):
        answer = {"status": "error", "error": kind or "failed",
                  "message": message or "curl failed"}
        if r is not None:
            answer["reply"] = r
        return answer

    def reply_or_error(self, r, failure, kind=None, expected=None):
        if r is None:
            return self.error(failure or "server-disconnected", None)
        if expected is not None and r["code"] != expected:
            return self.error(kind, r)
        return {"status": "reply", "reply": r}

    # ---- the protocol --------------------------------------------------------

    def position(self, line):
        for i, step in enumerate(self.steps):
            if step is not None and step["line"] == line:
                return i
        raise Unsupported("a step the hello did not announce")

    def perform(self, request):
        op = request["op"]
        if self.answers:
            return self.answers.pop(0)
        if op == "set":
            if request["name"] in ("local-hostname", "timeout", "tls-database"):
                self.settings[request["name"]] = request["value"]
            elif request["name"] == "tls-mode" and request["value"] in ("none", "implicit"):
                self.settings["tls-mode"] = request["value"]
            elif (request["name"], request["value"]) in (("pipelining", "true"),
                                                         ("convert-newlines", "true"),
                                                         ("allow-plaintext-auth", "true")):
                pass
            else:
                raise Unsupported("curl has no setting for %s %s" % (request["name"],
                                                                     request["value"]))
            return {"status": "ok"}
        if op == "ssl":
            self.settings["tls-mode"] = "implicit"
            return {"status": "ok"}
        if op != "connect":
            raise Unsupported("curl has no %s outside a session it runs whole" % op)
        session = self.plan(self.position(request["line"]))
        status, exchanges = self.run(session)
        self.answers = self.answer_session(session, status, exchanges)
        return self.answers.pop(0)


def first_reply(by_verb, verb):
    exchanges = by_verb.get(verb)
    return exchanges[0][1] if exchanges else None


def main():
    sessions = []

    def hello(request):
        sessions.append(Session(request))
        return subprocess.run(["curl", "--version"], stdout=subprocess.PIPE,
                              check=False).stdout.decode().split("\n")[0]

    serve(hello, lambda request: sessions[-1].perform(request))


if __name__ == "__main__":
    main()
