#!/usr/bin/env python3
# smtplib-adapter.py: drives Python's smtplib for smtpkit-harness.
#
#   smtpkit-harness run --client 'python3 harness/adapters/smtplib-adapter.py'
#
# Reads the harness's requests, one JSON object per line, on standard
# input, and answers each with one JSON object per line on standard output
# (the protocol is in docs/harness.md). Each step is the smtplib call of
# the same name; a step smtplib has no way to express is answered
# "unsupported", and the harness counts the case as skipped.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import base64
import email.parser
import email.policy
import smtplib
import socket
import ssl
import sys

from harness_protocol import Unsupported, serve


def reply(code, message):
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return {"code": code, "lines": (message or "").split("\n")}


def answer_reply(code_message):
    code, message = code_message
    if not 200 <= code <= 599:
        # smtplib's -1: a reply that is not SMTP.
        return error("protocol", "smtplib read a reply with code %d: %r" % (code, message))
    return {"status": "reply", "reply": reply(code, message)}


def value(v):
    if isinstance(v, bool):
        v = "true" if v else "false"
    return {"status": "value", "value": v}


def refused_map(recipients):
    return {address: reply(code, message) for address, (code, message) in recipients.items()}


def error(kind, message, code=None, text=None, recipients=None):
    answer = {"status": "error", "error": kind, "message": str(message)}
    if code is not None:
        answer["reply"] = reply(code, text)
    if recipients is not None:
        answer["recipients"] = recipients
    return answer


def from_exception(e):
    """smtplib's exceptions as the harness's error classes."""
    if isinstance(e, smtplib.SMTPSenderRefused):
        return error("sender-refused", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return error("recipients-refused", e, recipients=refused_map(e.recipients))
    if isinstance(e, smtplib.SMTPDataError):
        return error("data", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPConnectError):
        return error("connect", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPHeloError):
        return error("helo", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return error("authentication", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPResponseException):
        return error("response", e, e.smtp_code, e.smtp_error)
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return error("not-supported", e)
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return error("server-disconnected", e)
    if isinstance(e, smtplib.SMTPException):
        return error("failed", e)
    if isinstance(e, ValueError):
        return error("invalid-argument", e)
    if isinstance(e, (socket.timeout, TimeoutError)):
        return error("timed-out", e)
    if isinstance(e, ssl.SSLCertVerificationError):
        return error("bad-certificate", e)
    if isinstance(e, (ConnectionError, EOFError)):
        return error("server-disconnected", e)
    return error("io-error", "%s: %s" % (type(e).__name__, e))


class Session:
    def __init__(self):
        self.kind = "smtp"
        self.smtp = None
        self.local_hostname = "client.test"
        self.timeout = socket._GLOBAL_DEFAULT_TIMEOUT
        self.ca_file = None
        self.initial_response_ok = True
        self.message = None

    def context(self):
        return ssl.create_default_context(cafile=self.ca_file)

    def client(self):
        if self.smtp is None:
            if self.kind == "lmtp":
                self.smtp = smtplib.LMTP(local_hostname=self.local_hostname)
            elif self.kind == "ssl":
                self.smtp = smtplib.SMTP_SSL(local_hostname=self.local_hostname,
                                             timeout=self.timeout, context=self.context())
            else:
                self.smtp = smtplib.SMTP(local_hostname=self.local_hostname, timeout=self.timeout)
        return self.smtp

    def connect(self, host, port):
        """What SMTP(host, port) does, keeping the greeting: connect(),
        and SMTPConnectError when it is not 220. (connect() alone leaves
        the host STARTTLS checks the certificate against unset.)"""
        s = self.client()
        s._host = host
        code, message = s.connect(host, port)
        if code != 220:
            s.close()
            raise smtplib.SMTPConnectError(code, message)
        return code, message

    def new_kind(self, kind):
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None
        self.kind = kind
        return {"status": "ok"}

    # ---- settings ---------------------------------------------------------

    def set(self, name, v):
        if name == "local-hostname":
            self.local_hostname = v
            if self.smtp is not None:
                self.smtp.local_hostname = v
        elif name == "timeout":
            self.timeout = float(v)
            if self.smtp is not None:
                self.smtp.timeout = self.timeout
                if self.smtp.sock is not None:
                    self.smtp.sock.settimeout(self.timeout)
        elif name == "tls-database":
            self.ca_file = v
        elif name == "initial-response-ok":
            self.initial_response_ok = v == "true"
        # What smtplib always does, or never does.
        elif (name, v) in (("tls-mode", "none"), ("pipelining", "false"), ("chunking", "false"),
                           ("convert-newlines", "true"), ("convert-8bit", "false"),
                           ("allow-plaintext-auth", "true")):
            pass
        else:
            raise Unsupported("smtplib has no setting for %s %s" % (name, v))
        return {"status": "ok"}

    # ---- steps ------------------------------------------------------------

    def perform(self, r):
        op = r["op"]
        if op == "set":
            return self.set(r["name"], r["value"])
        if op in ("lmtp", "ssl"):
            return self.new_kind(op)
        if op == "connect":
            return answer_reply(self.connect(r["host"], r["port"]))
        s = self.client()
        if op == "helo":
            return answer_reply(s.helo(r["name"] or ""))
        if op == "ehlo":
            return answer_reply(s.ehlo(r["name"] or ""))
        if op == "ehlo_or_helo_if_needed":
            s.ehlo_or_helo_if_needed()
            return {"status": "ok"}
        if op == "docmd":
            return answer_reply(s.docmd(r["verb"], r["args"] or ""))
        if op == "noop":
            return answer_reply(s.noop())
        if op == "rset":
            return answer_reply(s.rset())
        if op == "help":
            # help() returns the text alone; these are its own two calls.
            s.putcmd("help", r["topic"] or "")
            return answer_reply(s.getreply())
        if op == "verify":
            return answer_reply(s.verify(r["address"]))
        if op == "expn":
            return answer_reply(s.expn(r["address"]))
        if op == "mail":
            return answer_reply(s.mail(r["address"], r["options"]))
        if op == "rcpt":
            return answer_reply(s.rcpt(r["address"], r["options"]))
        if op == "data":
            return answer_reply(s.data(base64.b64decode(r["message"])))
        if op == "sendmail":
            refused = s.sendmail(r["from"], r["to"], base64.b64decode(r["message"]),
                                 r["mail_options"], r["rcpt_options"])
            return {"status": "refused", "recipients": refused_map(refused)}
        if op == "sendmail_stream":
            raise Unsupported("smtplib has no streaming sendmail()")
        if op == "send_message":
            self.message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                base64.b64decode(r["message"]))
            refused = s.send_message(self.message, r["from"], r["to"], r["mail_options"],
                                     r["rcpt_options"])
            return {"status": "refused", "recipients": refused_map(refused)}
        if op == "message-header":
            return value(self.message.get(r["name"]) if self.message is not None else None)
        if op == "starttls":
            return answer_reply(s.starttls(context=self.context()))
        if op == "login":
            return answer_reply(s.login(r["user"], r["password"],
                                        initial_response_ok=self.initial_response_ok))
        if op == "auth":
            methods = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}
            if r["mechanism"] not in methods:
                raise Unsupported("smtplib has no %s mechanism" % r["mechanism"])
            s.user, s.password = r["user"], r["password"]
            return answer_reply(s.auth(r["mechanism"], methods[r["mechanism"]],
                                       initial_response_ok=self.initial_response_ok))
        if op == "auth-func":
            return answer_reply(self.auth_func(s, r["mechanism"], r["responses"]))
        if op == "quit":
            return answer_reply(s.quit())
        if op == "close":
            s.close()
            return {"status": "ok"}
        if op == "connected":
            return value(s.sock is not None)
        if op == "does_esmtp":
            return value(bool(s.does_esmtp))
        if op == "has_extn":
            return value(bool(s.has_extn(r["name"])))
        if op == "extension":
            return value(s.esmtp_features.get(r["name"].lower()) if s.has_extn(r["name"]) else None)
        if op == "secure":
            return value(isinstance(s.sock, ssl.SSLSocket))
        raise Unsupported("smtplib has no %s" % op)

    def auth_func(self, s, mechanism, responses):
        """smtplib's auth() with an authobject answering with these bytes
        in turn; smtplib takes text, so only ASCII responses can go."""
        answers = []
        for encoded in responses:
            if encoded is None:
                answers.append(None)
                continue
            data = base64.b64decode(encoded)
            try:
                answers.append(data.decode("ascii"))
            except UnicodeDecodeError:
                raise Unsupported("smtplib's authobject returns ASCII text only")
        first = answers.pop(0) if answers else None

        def authobject(challenge=None):
            if challenge is None:
                return first
            if not answers:
                raise smtplib.SMTPAuthenticationError(0, "the scenario has no more responses")
            return answers.pop(0)

        return s.auth(mechanism, authobject, initial_response_ok=self.initial_response_ok)


def main():
    session = Session()
    serve(lambda request: "Python %s smtplib" % sys.version.split()[0], session.perform,
          on_error=from_exception)
    if session.smtp is not None:
        session.smtp.close()


if __name__ == "__main__":
    main()
