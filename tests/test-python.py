#!/usr/bin/env python3
# test-python.py: libsmtpkit from Python through PyGObject, against the
# fake server's sink (TAP).
#
#   test-python.py FAKE_SERVER
#
# Run with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into the build
# tree. Every case checks what a Python program sees: reply codes,
# refused recipients and their replies, error codes. Skips everything
# (1..0) when PyGObject is not installed. With bindings/python in
# PYTHONPATH, the overrides module is loaded and tested too.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import subprocess
import sys
import tempfile
import traceback

try:
    import gi
    gi.require_version("Smtpkit", "1.0")
    from gi.repository import GLib, Smtpkit
except (ImportError, ValueError) as e:
    print("1..0 # SKIP PyGObject or the Smtpkit typelib is missing: %s" % e)
    sys.exit(0)

FAKE_SERVER = sys.argv[1]
MESSAGE = GLib.Bytes.new(b"Subject: test\r\n\r\nhello from Python\r\n")


class Sink:
    """smtpkit-fake-server --sink, with refusal rules, in a temp dir."""

    def __init__(self, *options):
        self.dir = tempfile.mkdtemp(prefix="smtpkit-python-")
        self.process = subprocess.Popen(
            [FAKE_SERVER, "--sink", os.path.join(self.dir, "Maildir"),
             "--hostname", "sink.test", *options],
            stdout=subprocess.PIPE, text=True)
        self.ca_file = None
        for line in self.process.stdout:
            if line.startswith("ca-file: "):
                self.ca_file = line.split(" ", 1)[1].strip()
            elif line.startswith("listening on "):
                self.host, port = line.split()[-1].rsplit(":", 1)
                self.port = int(port)
                break
        else:
            raise RuntimeError("the fake server did not start")

    def close(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


SINK_RULES = [
    "--refuse-rcpt", "*@nosuch.test=550 5.1.1 no such user",
    "--tempfail-rcpt", "*@later.test=450 4.2.1 try again later",
    "--reply", "mail:*@denied.test=553 5.7.1 sender denied",
]

results = []


class Skip(Exception):
    """Raised by a case that cannot check what it is for here: reported
    as TAP's "ok N - NAME # SKIP REASON"."""


def case(function):
    results.append(function)
    return function


def new_client():
    client = Smtpkit.Client.new()
    client.set_local_hostname("client.test")
    return client


def connected(sink):
    client = new_client()
    reply = client.connect_to_host(sink.host, sink.port, None)
    assert reply.get_code() == 220, reply.get_code()
    return client


def expect(actual, wanted, what):
    if actual != wanted:
        raise AssertionError("%s: %r, not %r" % (what, actual, wanted))


def check_refused(result, wanted):
    """wanted: {address: (code, enhanced status)}"""
    expect(list(result.get_refused_addresses()), sorted(wanted), "refused addresses")
    for address, (code, status) in wanted.items():
        reply = result.get_refused_reply(address)
        expect(reply.get_code(), code, "code of %s" % address)
        expect(reply.get_enhanced_status(), status, "enhanced status of %s" % address)


@case
def connect_and_ehlo(sink):
    client = connected(sink)
    reply = client.ehlo(None, None)
    expect(reply.get_code(), 250, "EHLO")
    expect(client.get_does_esmtp(), True, "does ESMTP")
    expect(client.quit(None).get_code(), 221, "QUIT")


@case
def sendmail_some_refused(sink):
    client = connected(sink)
    result = client.sendmail("a@example.org",
                             ["b@example.org", "c@nosuch.test", "d@later.test"],
                             MESSAGE, None, None, None)
    check_refused(result, {"c@nosuch.test": (550, "5.1.1"),
                           "d@later.test": (450, "4.2.1")})
    expect(result.get_refused_reply("b@example.org"), None, "reply of an accepted one")
    expect(result.get_delivered(0), True, "b delivered")
    client.quit(None)


@case
def sendmail_none_refused(sink):
    client = connected(sink)
    result = client.sendmail("a@example.org", ["b@example.org"], MESSAGE, None, None, None)
    expect(list(result.get_refused_addresses()), [], "refused addresses")
    client.quit(None)


@case
def sendmail_stream_some_refused(sink):
    client = connected(sink)
    stream = Gio.MemoryInputStream.new_from_bytes(MESSAGE)
    result = client.sendmail_stream("a@example.org", ["b@example.org", "c@nosuch.test"],
                                    stream, None, None, None)
    check_refused(result, {"c@nosuch.test": (550, "5.1.1")})
    client.quit(None)


@case
def send_and_send_result(sink):
    client = connected(sink)
    envelope = Smtpkit.Envelope.new("a@example.org")
    for address in ["b@example.org", "c@nosuch.test"]:
        envelope.add_recipient(address, Smtpkit.DsnNotify.UNSET, None)
    result = client.send(envelope, MESSAGE, None)
    expect(result.get_n_recipients(), 2, "recipients")
    expect(result.get_recipient(1), "c@nosuch.test", "second recipient")
    expect(result.get_rcpt_reply(0).get_code(), 250, "RCPT reply of b")
    expect(result.get_final_reply(0).get_code(), 250, "final reply of b")
    expect(result.get_rcpt_reply(1).get_code(), 550, "RCPT reply of c")
    expect(result.get_final_reply(1), None, "final reply of c")
    expect([result.get_delivered(i) for i in range(2)], [True, False], "delivered")
    check_refused(result, {"c@nosuch.test": (550, "5.1.1")})
    client.quit(None)


@case
def sendmail_async(sink):
    client = connected(sink)
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, async_result):
        try:
            outcome["result"] = source.sendmail_finish(async_result)
        except GLib.Error as e:
            outcome["error"] = e
        loop.quit()

    client.sendmail_async("a@example.org", ["b@example.org", "c@later.test"], MESSAGE,
                          None, None, None, done)
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    assert "error" not in outcome, outcome.get("error")
    check_refused(outcome["result"], {"c@later.test": (450, "4.2.1")})
    client.quit(None)


@case
def connect_is_for_signals(sink):
    client = new_client()
    seen = []
    handler = client.connect("connecting", lambda c, host, port: seen.append((host, port)))
    assert handler > 0, handler
    client.connect_to_host(sink.host, sink.port, None)
    expect(seen, [(sink.host, sink.port)], "connecting emitted")
    client.quit(None)


@case
def connect_async(sink):
    client = new_client()
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, async_result):
        outcome["reply"] = source.connect_finish(async_result)
        loop.quit()

    client.connect_async(sink.host, sink.port, None, done)
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    expect(outcome["reply"].get_code(), 220, "greeting")
    client.quit(None)


def tls_client(sink, accept):
    client = new_client()
    client.set_tls_mode(Smtpkit.TlsMode.STARTTLS)
    seen = []

    def on_accept(c, peer, errors):
        seen.append(errors)
        return accept

    client.connect("accept-certificate", on_accept)
    return client, seen


@case
def accept_certificate_signal(sink):
    client, seen = tls_client(sink.tls, True)
    client.connect_to_host(sink.tls.host, sink.tls.port, None)
    assert len(seen) == 1 and seen[0] & Gio.TlsCertificateFlags.UNKNOWN_CA, seen
    expect(client.is_secure(), True, "secure")
    client.login("u", "p", None)
    result = client.sendmail("a@example.org", ["b@example.org"], MESSAGE, None, None, None)
    expect(list(result.get_refused_addresses()), [], "refused")
    client.quit(None)


@case
def certificate_refused_by_handler(sink):
    client, seen = tls_client(sink.tls, False)
    try:
        client.connect_to_host(sink.tls.host, sink.tls.port, None)
        raise AssertionError("the handshake succeeded")
    except GLib.Error as e:
        expect(e.domain, GLib.quark_to_string(Gio.tls_error_quark()), "domain")
    expect(len(seen), 1, "accept-certificate emissions")
    expect(client.is_connected(), False, "connected")


@case
def tls_with_ca_file(sink):
    client, seen = tls_client(sink.tls, False)
    client.set_tls_ca_file(sink.tls.ca_file)
    client.connect_to_host(sink.tls.host, sink.tls.port, None)
    expect(seen, [], "accept-certificate emissions")
    expect(client.is_secure(), True, "secure")
    expect_error(Smtpkit.Error.AUTHENTICATION, client.login, "u", "wrong", None)
    expect(client.get_last_error_reply().get_code(), 535, "code of the refusal")
    expect(client.get_last_error_reply().get_enhanced_status(), "5.7.8", "its status")
    client.quit(None)


@case
def send_message_some_refused(sink):
    gi.require_version("GMime", "3.0")
    from gi.repository import GMime
    GMime.init()
    stream = GMime.StreamMem.new_with_buffer(
        b"From: a@example.org\r\nTo: b@example.org, c@nosuch.test\r\n"
        b"Subject: s\r\n\r\nbody\r\n")
    message = GMime.Parser.new_with_stream(stream).construct_message(None)
    client = connected(sink)
    result = client.send_message(message, None, None, None, None, None)
    check_refused(result, {"c@nosuch.test": (550, "5.1.1")})
    client.quit(None)


@case
def recipients_refused_async(sink):
    client = connected(sink)
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, async_result):
        try:
            source.sendmail_finish(async_result)
        except GLib.Error as e:
            outcome["error"] = e
        loop.quit()

    client.sendmail_async("a@example.org", ["x@nosuch.test"], MESSAGE, None, None, None, done)
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    assert outcome["error"].matches(Smtpkit.error_quark(), Smtpkit.Error.RECIPIENTS_REFUSED)
    expect(client.get_last_error_recipients(), ["x@nosuch.test"], "recipients")
    expect(client.get_last_error_recipient_reply("x@nosuch.test").get_text(),
           "5.1.1 no such user", "text")
    client.quit(None)


def expect_error(code, function, *args):
    try:
        function(*args)
    except GLib.Error as e:
        if not e.matches(Smtpkit.error_quark(), code):
            raise AssertionError("%s, not %s" % (e, code))
        return e
    raise AssertionError("no error, not %s" % code)


@case
def sender_refused_details(sink):
    client = connected(sink)
    expect_error(Smtpkit.Error.SENDER_REFUSED, client.sendmail, "spam@denied.test",
                 ["b@example.org"], MESSAGE, None, None, None)
    reply = client.get_last_error_reply()
    expect(reply.get_code(), 553, "code")
    expect(reply.get_enhanced_status(), "5.7.1", "enhanced status")
    expect(reply.get_text(), "5.7.1 sender denied", "text")
    expect(client.get_last_error_sender(), "spam@denied.test", "refused sender")
    expect(client.get_last_error_recipients(), [], "recipients (None in C)")
    # The next operation starts afresh.
    expect(client.noop(None).get_code(), 250, "NOOP")
    expect(client.get_last_error_reply(), None, "reply after NOOP")
    expect(client.get_last_error_sender(), None, "sender after NOOP")
    client.quit(None)


@case
def recipients_refused_details(sink):
    client = connected(sink)
    expect_error(Smtpkit.Error.RECIPIENTS_REFUSED, client.sendmail, "a@example.org",
                 ["x@nosuch.test", "y@later.test"], MESSAGE, None, None, None)
    expect(client.get_last_error_recipients(), ["x@nosuch.test", "y@later.test"], "recipients")
    for address, code, status in [("x@nosuch.test", 550, "5.1.1"),
                                  ("y@later.test", 450, "4.2.1")]:
        reply = client.get_last_error_recipient_reply(address)
        expect(reply.get_code(), code, "code of %s" % address)
        expect(reply.get_enhanced_status(), status, "enhanced status of %s" % address)
        expect(reply.is_permanent(), code >= 500, "permanence of %s" % address)
    expect(client.get_last_error_recipient_reply("b@example.org"), None, "not refused")
    expect(client.get_last_error_sender(), None, "sender")
    client.quit(None)


@case
def not_connected_details(sink):
    client = new_client()
    expect_error(Smtpkit.Error.SERVER_DISCONNECTED, client.noop, None)
    expect(client.get_last_error_reply(), None, "reply")


# ---- a mechanism written in Python ---------------------------------------------

def describe_process(pid):
    """What a process that did not exit is waiting for: its kernel wait
    channel and its open sockets, for the failure message."""
    parts = []
    try:
        with open("/proc/%d/wchan" % pid) as f:
            parts.append("waiting in %s" % f.read().strip())
        fds = os.listdir("/proc/%d/fd" % pid)
        parts.append("descriptors %s" % ", ".join(
            "%s->%s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))) for fd in sorted(fds)))
        # TCP sockets: local and remote port, state (0A is LISTEN).
        inodes = {os.readlink("/proc/%d/fd/%s" % (pid, fd))[8:-1] for fd in fds}
        with open("/proc/%d/net/tcp" % pid) as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if cols[9] in inodes:
                    parts.append("tcp %s -> %s state %s" % (cols[1], cols[2], cols[3]))
    except OSError as e:
        parts.append(str(e))
    return "; ".join(parts)


def scripted(lines, title="a mechanism written in Python", listen=()):
    """smtpkit-fake-server --scenario playing @lines (the server side),
    with @listen's options: returns (host, port, process, its folder)."""
    directory = tempfile.mkdtemp(prefix="smtpkit-python-")
    path = os.path.join(directory, "case.scenario")
    with open(path, "w") as f:
        f.write("# %s\nserver:\n" % title)
        f.writelines("  %s\n" % line for line in lines)
    process = subprocess.Popen([FAKE_SERVER, "--scenario", path, *listen],
                               stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("listening on "):
            host, port = line.split()[-1].rsplit(":", 1)
            return host, int(port), process, directory
    process.wait()
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError("the fake server did not start (status %d)" % process.returncode)


def play_login(mechanism_name, lines):
    host, port, process, directory = scripted(lines)
    try:
        client = new_client()
        client.connect_to_host(host, port, None)
        try:
            reply, error = client.login("u", "p", None), None
        except GLib.Error as e:
            reply, error = None, e
        # The server answers AUTH with 235 only after the exact line it
        # expects; any other line fails the scenario, and login with it.
        client.quit(None)
        return reply, error
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


class PasswordMechanism(Smtpkit.AuthMechanism):
    """PLAIN's response, under a name of its own; declares that it uses a
    password through the virtual function bindings can override."""
    __gtype_name__ = "TestPythonPasswordMechanism"

    def do_uses_password_func(self):
        return True

    def do_step(self, challenge):
        if challenge is None:
            text = "\0%s\0%s" % (self.get_username(), self.get_password())
            return True, GLib.Bytes.new(text.encode())
        return True, GLib.Bytes.new(b"")


class TokenMechanism(PasswordMechanism):
    """The same, without a password: login() must not choose it."""
    __gtype_name__ = "TestPythonTokenMechanism"

    def do_uses_password_func(self):
        return False


@case
def python_mechanism_chosen_by_login(sink):
    Smtpkit.AuthMechanism.register("X-PYTHON-PW", PasswordMechanism.__gtype__, 10000)
    reply, error = play_login("X-PYTHON-PW", [
        "send   220 fake.test ESMTP",
        "expect EHLO client.test",
        "send   250-fake.test",
        "send   250 AUTH X-PYTHON-PW",
        "expect AUTH X-PYTHON-PW AHUAcA==",
        "send   235 2.7.0 ok",
        "expect QUIT",
        "send   221 bye",
    ])
    expect(error, None, "login's error")
    expect(reply.get_code(), 235, "login's reply")


@case
def python_mechanism_without_password_not_chosen(sink):
    Smtpkit.AuthMechanism.register("X-PYTHON-TOKEN", TokenMechanism.__gtype__, 10000)
    reply, error = play_login("X-PYTHON-TOKEN", [
        "send   220 fake.test ESMTP",
        "expect EHLO client.test",
        "send   250-fake.test",
        "send   250 AUTH X-PYTHON-TOKEN",
        "expect QUIT",
        "send   221 bye",
    ])
    assert error is not None and error.matches(Smtpkit.error_quark(), Smtpkit.Error.NOT_SUPPORTED), error


# ---- login with each shipped mechanism, LMTP, cancellation -------------------

AUTH_MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]


def envelope_of(sink, final_reply):
    """The envelope JSON the sink wrote for the message whose final reply
    is @final_reply ("250 2.0.0 Ok: queued as ID")."""
    import glob
    import json
    queue_id = final_reply.get_text().split()[-1]
    for path in glob.glob(os.path.join(sink.dir, "Maildir", "envelopes", "*.json")):
        with open(path) as f:
            envelope = json.load(f)
        if str(envelope["queue_id"]) == queue_id:
            return envelope
    raise AssertionError("no envelope with queue id %s" % queue_id)


def auth_client(sink):
    client = new_client()
    client.set_tls_mode(Smtpkit.TlsMode.STARTTLS)
    client.set_tls_ca_file(sink.auth.ca_file)
    client.connect_to_host(sink.auth.host, sink.auth.port, None)
    expect(client.is_secure(), True, "secure")
    return client


def mechanism(name, password="p"):
    m = Smtpkit.AuthMechanism.new_for_name(name)
    m.props.username = "u"
    m.props.password = password
    return m


@case
def shipped_mechanisms_listed(sink):
    listed = list(Smtpkit.AuthMechanism.list())
    missing = [name for name in AUTH_MECHANISMS + ["XOAUTH2", "OAUTHBEARER"] if name not in listed]
    expect(missing, [], "shipped mechanisms missing from smtpkit_auth_mechanism_list()")


def login_with(name):
    def run(sink):
        client = auth_client(sink)
        reply = client.auth(mechanism(name), None)
        expect(reply.get_code(), 235, "AUTH %s" % name)
        expect(client.get_auth_mechanism(), name, "auth-mechanism")
        envelope = Smtpkit.Envelope.new("a@example.org")
        envelope.add_recipient("b@example.org", Smtpkit.DsnNotify.UNSET, None)
        result = client.send(envelope, MESSAGE, None)
        expect(result.get_delivered(0), True, "delivered")
        auth_user = envelope_of(sink.auth, result.get_final_reply(0))["auth_user"]
        if name.startswith("SCRAM-"):
            # Cyrus SASL's server side names the user with the realm the
            # fake server gives each connection: u@rN.fake.test.
            user, _, realm = auth_user.partition("@")
            expect((user, realm.endswith(".fake.test")), ("u", True), "auth_user %r" % auth_user)
        else:
            expect(auth_user, "u", "auth_user")
        client.quit(None)

        client = auth_client(sink)
        expect_error(Smtpkit.Error.AUTHENTICATION, client.auth, mechanism(name, "wrong"), None)
        expect(client.get_last_error_reply().get_code(), 535, "code of the refusal")
        expect(client.get_last_error_reply().get_enhanced_status(), "5.7.8", "its status")
        client.quit(None)
    run.__name__ = "auth_" + name.lower().replace("-", "_")
    return run


for _name in AUTH_MECHANISMS:
    case(login_with(_name))


@case
def login_async_wrong_then_right(sink):
    client = auth_client(sink)
    loop = GLib.MainLoop()
    outcomes = []

    def done(source, async_result):
        try:
            outcomes.append(source.login_finish(async_result).get_code())
        except GLib.Error as e:
            outcomes.append((e.matches(Smtpkit.error_quark(), Smtpkit.Error.AUTHENTICATION),
                             source.get_last_error_reply().get_code()))
        if len(outcomes) == 1:
            source.login_async("u", "p", None, done)
        else:
            loop.quit()

    client.login_async("u", "wrong", None, done)
    GLib.timeout_add_seconds(60, loop.quit)
    loop.run()
    expect(outcomes, [(True, 535), 235], "login_async: wrong, then right password")
    client.quit(None)


LMTP_LINES = [
    "send   220 lmtp.test LMTP",
    "expect LHLO client.test",
    "send   250-lmtp.test",
    "send   250 ENHANCEDSTATUSCODES",
    "expect MAIL FROM:<a@example.org>",
    "send   250 2.1.0 ok",
    "expect RCPT TO:<r1@example.org>",
    "send   250 2.1.5 ok",
    "expect RCPT TO:<r2@example.org>",
    "send   250 2.1.5 ok",
    "expect DATA",
    "send   354 go",
    "expect-data",
    "|Subject: test",
    "|",
    "|hello from Python",
    "|.",
    "send   250 2.0.0 r1 delivered",
    "send   550 5.1.1 r2 gone",
    "expect QUIT",
    "send   221 bye",
]


def with_scenario(lines, title, function):
    host, port, process, directory = scripted(lines, title)
    try:
        # The server sends each reply only after the line it expects, so
        # the replies asserted are the scenario's. Its exit is not waited
        # for: the fake server sometimes stays up after the client closed.
        function(host, port)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@case
def lmtp_per_recipient_send(sink):
    def run(host, port):
        client = Smtpkit.LmtpClient.new()
        client.set_local_hostname("client.test")
        expect(client.connect_to_host(host, port, None).get_code(), 220, "greeting")
        envelope = Smtpkit.Envelope.new("a@example.org")
        for address in ["r1@example.org", "r2@example.org"]:
            envelope.add_recipient(address, Smtpkit.DsnNotify.UNSET, None)
        result = client.send(envelope, MESSAGE, None)
        expect([result.get_rcpt_reply(i).get_code() for i in range(2)], [250, 250], "RCPT replies")
        expect([result.get_final_reply(i).get_code() for i in range(2)], [250, 550], "final replies")
        expect(result.get_final_reply(1).get_enhanced_status(), "5.1.1", "r2's status")
        expect([result.get_delivered(i) for i in range(2)], [True, False], "delivered")
        check_refused(result, {"r2@example.org": (550, "5.1.1")})
        expect(client.quit(None).get_code(), 221, "QUIT")
        client.close()
    with_scenario(LMTP_LINES, "LMTP per-recipient replies through send()", run)


@case
def lmtp_per_recipient_sendmail(sink):
    def run(host, port):
        client = Smtpkit.LmtpClient.new()
        client.set_local_hostname("client.test")
        client.connect_to_host(host, port, None)
        result = client.sendmail("a@example.org", ["r1@example.org", "r2@example.org"],
                                 MESSAGE, None, None, None)
        check_refused(result, {"r2@example.org": (550, "5.1.1")})
        client.quit(None)
        client.close()
    with_scenario(LMTP_LINES, "LMTP per-recipient replies through sendmail()", run)


def token_login(name, initial, final):
    """AUTH @name with a token, against a scripted server that expects
    @initial as the initial response and answers @final."""
    outcome = {}

    def run(host, port):
        client = new_client()
        client.props.allow_plaintext_auth = True
        client.connect_to_host(host, port, None)
        m = Smtpkit.AuthMechanism.new_for_name(name)
        m.props.username = "u"
        m.props.password = "tok"
        try:
            outcome["reply"] = client.auth(m, None)
        except GLib.Error as e:
            outcome["error"] = e
            outcome["last"] = client.get_last_error_reply()
        client.quit(None)
        client.close()

    import base64
    with_scenario([
        "send   220 fake.test ESMTP",
        "expect EHLO client.test",
        "send   250-fake.test",
        "send   250 AUTH %s" % name,
        "expect AUTH %s %s" % (name, base64.b64encode(initial).decode()),
        "send   %s" % final,
        "expect QUIT",
        "send   221 bye",
    ], "%s with a token" % name, run)
    return outcome


@case
def auth_xoauth2_token(sink):
    initial = b"user=u\x01auth=Bearer tok\x01\x01"
    outcome = token_login("XOAUTH2", initial, "235 2.7.0 ok")
    assert "error" not in outcome, outcome.get("error")
    expect(outcome["reply"].get_code(), 235, "AUTH XOAUTH2")
    outcome = token_login("XOAUTH2", initial, "535 5.7.8 token refused")
    assert outcome["error"].matches(Smtpkit.error_quark(), Smtpkit.Error.AUTHENTICATION), outcome["error"]
    expect(outcome["last"].get_code(), 535, "code of the refusal")


def free_port():
    """A TCP port of 127.0.0.1 free a moment ago, for a scenario that must
    know its own port before it starts."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oauthbearer_login(lines_after_auth):
    """AUTH OAUTHBEARER as u@example.org with the token tok123, against a
    scripted server on a port chosen beforehand, so that the GS2 header's
    host and port are known: the server answers only the exact initial
    response, then plays @lines_after_auth. Returns {"reply"} or
    {"error", "last"}, and the fake server's exit status (0: the
    scenario was played to its end, every line as expected)."""
    import base64
    import uuid
    outcome = {}
    for attempt in range(5):
        port = free_port()
        # The greeting names this server: with the port chosen before the
        # server took it, the client checks that it reached this one.
        name = "fake-%s.test" % uuid.uuid4().hex
        initial = (b"n,a=u@example.org,\x01host=127.0.0.1\x01port=%d\x01"
                   b"auth=Bearer tok123\x01\x01" % port)
        lines = [
            "send   220 %s ESMTP" % name,
            "expect EHLO client.test",
            "send   250-fake.test",
            "send   250 AUTH OAUTHBEARER",
            "expect AUTH OAUTHBEARER %s" % base64.b64encode(initial).decode(),
        ] + lines_after_auth + [
            "expect QUIT",
            "send   221 bye",
        ]
        try:
            host, port, process, directory = scripted(
                lines, "OAUTHBEARER with a token", ["--listen", "127.0.0.1:%d" % port])
        except RuntimeError:
            # Someone took the port in between: another one.
            if attempt == 4:
                raise
            continue
        client = new_client()
        client.props.allow_plaintext_auth = True
        greeting = client.connect_to_host(host, port, None)
        if name in greeting.get_text():
            break
        client.close()
        process.kill()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)
        if attempt == 4:
            raise AssertionError("another server answered on port %d: %s"
                                 % (port, greeting.get_text()))
    try:
        m = Smtpkit.AuthMechanism.new_for_name("OAUTHBEARER")
        m.props.username = "u@example.org"
        m.props.password = "tok123"
        try:
            outcome["reply"] = client.auth(m, None)
        except GLib.Error as e:
            outcome["error"] = e
            outcome["last"] = client.get_last_error_reply()
        client.quit(None)
        client.close()
        try:
            outcome["status"] = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            outcome["status"] = "still running: " + describe_process(process.pid)
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)
    return outcome


@case
def auth_oauthbearer_token(sink):
    outcome = oauthbearer_login(["send   235 2.7.0 ok"])
    assert "error" not in outcome, outcome.get("error")
    expect(outcome["reply"].get_code(), 235, "AUTH OAUTHBEARER")
    expect(outcome["status"], 0, "the fake server's status (its stderr says why)")


@case
def auth_oauthbearer_error_challenge(sink):
    """RFC 7628 §3.2.2-3: a refused token gets a 334 with the error as
    JSON; the client answers with the dummy response ^A (AQ==), and the
    server ends with its failure reply."""
    import base64
    import json
    challenge = base64.b64encode(json.dumps({
        "status": "invalid_token", "scope": "mail",
        "openid-configuration": "https://example.org/.well-known/openid-configuration",
    }).encode()).decode()
    outcome = oauthbearer_login([
        "send   334 %s" % challenge,
        "expect AQ==",
        "send   535 5.7.8 invalid token",
    ])
    assert "error" in outcome, "no error: %r" % outcome.get("reply")
    assert outcome["error"].matches(Smtpkit.error_quark(), Smtpkit.Error.AUTHENTICATION), \
        outcome["error"]
    expect((outcome["last"].get_code(), outcome["last"].get_text()),
           (535, "5.7.8 invalid token"), "the final reply")
    expect(outcome["status"], 0, "the fake server's status (its stderr says why)")


def run_cancelled(start, finish):
    """Start an operation with a cancellable, cancel it from a timeout:
    returns the error its finish raised."""
    loop = GLib.MainLoop()
    cancellable = Gio.Cancellable()
    outcome = {}

    def done(source, async_result):
        try:
            outcome["value"] = finish(source, async_result)
        except GLib.Error as e:
            outcome["error"] = e
        loop.quit()

    def give_up():
        outcome["gave up"] = True
        loop.quit()

    start(cancellable, done)
    GLib.timeout_add(200, lambda: cancellable.cancel() and False)
    GLib.timeout_add_seconds(60, give_up)
    loop.run()
    assert "gave up" not in outcome, "the operation did not end"
    assert "error" in outcome, "no error: %r" % outcome.get("value")
    e = outcome["error"]
    assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), e
    return e


@case
def sendmail_async_cancelled(sink):
    host, port, process, directory = scripted([
        "send   220 fake.test ESMTP",
        "expect EHLO client.test",
        "send   250 fake.test",
        "expect MAIL FROM:<a@example.org>",
        "delay  30000",
        "send   250 ok",
    ], "a MAIL reply that comes too late")
    try:
        client = new_client()
        client.connect_to_host(host, port, None)
        run_cancelled(
            lambda cancellable, done: client.sendmail_async(
                "a@example.org", ["b@example.org"], MESSAGE, None, None, cancellable, done),
            lambda source, res: source.sendmail_finish(res))
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@case
def connect_async_cancelled(sink):
    host, port, process, directory = scripted([
        "delay  30000",
        "send   220 fake.test ESMTP",
    ], "a greeting that comes too late")
    try:
        client = new_client()
        run_cancelled(
            lambda cancellable, done: client.connect_async(host, port, cancellable, done),
            lambda source, res: source.connect_finish(res))
        expect(client.is_connected(), False, "connected")
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def override_case(function):
    """A case of the overrides module (gi/overrides/Smtpkit.py), run when
    it is loaded."""
    if hasattr(Smtpkit, "SMTPError"):
        results.append(function)
    return function


@case
def overrides_loaded_from_where_installed(sink):
    """Under tests/run-installed-overrides.sh: the module is loaded, and
    from the staged install, not from anywhere else."""
    wanted = os.environ.get("SMTPKIT_TEST_OVERRIDES_DIR")
    if wanted is None:
        raise Skip("not run by run-installed-overrides.sh (SMTPKIT_TEST_OVERRIDES_DIR unset)")
    module = sys.modules.get("gi.overrides.Smtpkit")
    assert module is not None and hasattr(Smtpkit, "SMTPError"), "the overrides are not loaded"
    expect(os.path.dirname(os.path.realpath(module.__file__)), os.path.realpath(wanted),
           "the folder the overrides were loaded from")


@override_case
def override_with_block(sink):
    with new_client() as client:
        client.connect_to_host(sink.host, sink.port, None)
        result = client.sendmail("a@example.org", "b@example.org", "Subject: s\r\n\r\nstr\r\n")
        expect(list(result.get_refused_addresses()), [], "refused")
        expect(client.sendmail_refused("a@example.org", ["b@example.org", "c@nosuch.test"],
                                       b"Subject: s\r\n\r\nbytes\r\n"),
               {"c@nosuch.test": (550, b"5.1.1 no such user")}, "smtplib's map")
    expect(client.is_connected(), False, "connected after the with block")


@override_case
def override_exceptions(sink):
    with new_client() as client:
        client.connect_to_host(sink.host, sink.port, None)
        try:
            client.sendmail("spam@denied.test", "b@example.org", b"x\r\n")
            raise AssertionError("no error")
        except Smtpkit.SMTPError as e:
            assert isinstance(e, GLib.Error)
            assert e.matches(Smtpkit.error_quark(), Smtpkit.Error.SENDER_REFUSED), e
            expect((e.smtp_code, e.smtp_error, e.sender),
                   (553, b"5.7.1 sender denied", "spam@denied.test"), "sender refused")
        try:
            client.sendmail_refused("a@example.org", ["x@nosuch.test", "y@later.test"], b"x\r\n")
            raise AssertionError("no error")
        except Smtpkit.SMTPError as e:
            assert e.matches(Smtpkit.error_quark(), Smtpkit.Error.RECIPIENTS_REFUSED), e
            expect(e.recipients, {"x@nosuch.test": (550, b"5.1.1 no such user"),
                                  "y@later.test": (450, b"4.2.1 try again later")},
                   "recipients refused")


# ---- the overrides: SMTPError from every call, blocking and _finish ------------

# The methods of Client that can fail but only check their argument: the
# client's last error is not theirs, so the overrides leave their errors
# plain.
SETTERS = {"set_local_hostname", "set_timeout"}


@override_case
def override_smtp_error_from_every_call(sink):
    # Against the typelib: every method that throws, blocking or _finish,
    # is wrapped by the overrides (functools.wraps sets __wrapped__).
    throwing = {m.get_name() for m in Smtpkit.Client.__info__.get_methods()
                if m.can_throw_gerror()}
    missing = sorted(name for name in throwing - SETTERS
                     if not hasattr(getattr(Smtpkit.Client, name), "__wrapped__"))
    expect(missing, [], "methods that throw and are not wrapped by the overrides")
    expect(sorted(name for name in SETTERS
                  if hasattr(getattr(Smtpkit.Client, name), "__wrapped__")), [],
           "setters wrapped")
    for name in ["helo", "ehlo", "verify", "login", "starttls", "quit"]:
        assert name in throwing and name + "_finish" in throwing, name
    # The LMTP client inherits them (LHLO is its ehlo ()).
    expect(Smtpkit.LmtpClient.login_finish, Smtpkit.Client.login_finish,
           "LmtpClient's login_finish")
    client = new_client()
    try:
        client.set_timeout(0)
        raise AssertionError("no error")
    except GLib.Error as e:
        assert e.matches(Smtpkit.error_quark(), Smtpkit.Error.INVALID_ARGUMENT), e
        assert not isinstance(e, Smtpkit.SMTPError), "a setter's error is an SMTPError"


def blocking(client, name, args):
    return getattr(client, "connect_to_host" if name == "connect" else name)(*args)


def in_main_loop(client, name, args):
    """NAME_async (*ARGS, None, callback), then NAME_finish () in the
    callback, from a main loop: returns what the finish returned, or
    raises what it raised."""
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, async_result):
        try:
            outcome["value"] = getattr(source, name + "_finish")(async_result)
        except GLib.Error as e:
            outcome["error"] = e
        loop.quit()

    def give_up():
        outcome["gave up"] = True
        loop.quit()

    getattr(client, name + "_async")(*args, None, done)
    timeout = GLib.timeout_add_seconds(60, give_up)
    loop.run()
    assert "gave up" not in outcome, "%s_async did not call back" % name
    GLib.source_remove(timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def expect_smtp_error(code, smtp_code, smtp_error, call, *args):
    """call (*args) raises Smtpkit.SMTPError, of SMTPKIT_ERROR @code, with
    the server's reply."""
    try:
        value = call(*args)
    except Smtpkit.SMTPError as e:
        assert isinstance(e, GLib.Error)
        assert e.matches(Smtpkit.error_quark(), code), "%s, not %s" % (e, code)
        expect((e.smtp_code, e.smtp_error), (smtp_code, smtp_error), "smtp_code, smtp_error")
        return e
    except GLib.Error as e:
        raise AssertionError("%s raised a plain GLib.Error: %s" % (args[1], e))
    raise AssertionError("%s: no error, but %r" % (args[1], value))


GREETING = ["send   220 fake.test ESMTP"]
EHLO_AUTH = GREETING + [
    "expect EHLO client.test",
    "send   250-fake.test",
    "send   250 AUTH PLAIN",
]
QUIT = ["expect QUIT", "send   221 bye"]

# name: (scenario, setup (client), the call's arguments (made when the
#        case runs), SMTPKIT_ERROR code, the reply's code and text,
#        connected after the error)
SMTP_ERROR_CASES = {
    "connect": (["send   554 5.3.2 no service here"], None, None,
                Smtpkit.Error.CONNECT, 554, b"5.3.2 no service here", False),
    "login": (EHLO_AUTH + [
        # "\0u\0wrong"
        "expect AUTH PLAIN AHUAd3Jvbmc=",
        "send   535 5.7.8 authentication credentials invalid",
    ] + QUIT, lambda client: client.set_property("allow-plaintext-auth", True),
        lambda: ("u", "wrong"), Smtpkit.Error.AUTHENTICATION, 535,
        b"5.7.8 authentication credentials invalid", True),
    "auth": (EHLO_AUTH + [
        "expect AUTH PLAIN AHUAd3Jvbmc=",
        "send   535 5.7.8 authentication credentials invalid",
    ] + QUIT, lambda client: client.set_property("allow-plaintext-auth", True),
        lambda: (mechanism("PLAIN", "wrong"),), Smtpkit.Error.AUTHENTICATION, 535,
        b"5.7.8 authentication credentials invalid", True),
    "starttls": (GREETING + [
        "expect EHLO client.test",
        "send   250-fake.test",
        "send   250 STARTTLS",
        "expect STARTTLS",
        "send   454 4.7.0 TLS not available due to temporary reason",
        # The client gives up on the session: it will not go on in clear.
    ] + QUIT, None, tuple, Smtpkit.Error.RESPONSE, 454,
        b"4.7.0 TLS not available due to temporary reason", False),
    "ehlo_or_helo_if_needed": (GREETING + [
        "expect EHLO client.test",
        "send   500 5.5.1 command unrecognized",
        "expect HELO client.test",
        "send   501 5.5.4 bad hostname",
    ] + QUIT, None, tuple, Smtpkit.Error.HELO, 501, b"5.5.4 bad hostname", True),
    "data": (GREETING + [
        "expect DATA",
        "send   554 5.5.1 no valid recipients",
    ] + QUIT, None, lambda: (MESSAGE,), Smtpkit.Error.DATA, 554,
        b"5.5.1 no valid recipients", True),
}


def smtp_error_case(name, run):
    lines, setup, make_args, code, smtp_code, smtp_error, stays = SMTP_ERROR_CASES[name]

    def test(sink):
        def play(host, port):
            client = new_client()
            if setup:
                setup(client)
            if name == "connect":
                expect_smtp_error(code, smtp_code, smtp_error, run, client, name, (host, port))
            else:
                expect(client.connect_to_host(host, port).get_code(), 220, "greeting")
                expect_smtp_error(code, smtp_code, smtp_error, run, client, name, make_args())
            # The details are the client's too, as without the overrides.
            expect(client.get_last_error_reply().get_code(), smtp_code, "get_last_error_reply")
            expect(client.is_connected(), stays, "connected after the error")
            if stays:
                expect(client.quit().get_code(), 221, "QUIT")
            client.close()
        with_scenario(lines, "%s refused, from Python" % name, play)
    test.__name__ = "override_smtp_error_%s_%s" % (
        name, "blocking" if run is blocking else "async")
    return test


for _name in SMTP_ERROR_CASES:
    for _run in (blocking, in_main_loop):
        override_case(smtp_error_case(_name, _run))


def verify_550_returned(run):
    def test(sink):
        def play(host, port):
            client = new_client()
            client.connect_to_host(host, port)
            # As smtplib's verify (): an error reply is returned, not raised.
            reply = run(client, "verify", ("nobody@example.org",))
            expect((reply.get_code(), reply.get_text()), (550, "5.1.1 no such user"), "VRFY")
            expect(client.quit().get_code(), 221, "QUIT")
        with_scenario(GREETING + [
            "expect VRFY nobody@example.org",
            "send   550 5.1.1 no such user",
        ] + QUIT, "a 550 to VRFY, from Python", play)
    test.__name__ = "override_verify_550_returned_%s" % (
        "blocking" if run is blocking else "async")
    return test


# After a 421, every call that talks to the server fails with
# SERVER_DISCONNECTED and that 421 (harness/scenarios/rfc5321/command-421).
# The arguments are made when the case runs.
def calls_after_421_arguments():
    envelope = Smtpkit.Envelope.new("a@example.org")
    envelope.add_recipient("b@example.org", Smtpkit.DsnNotify.UNSET, None)
    return [
        ("helo", (None,)), ("ehlo", (None,)), ("ehlo_or_helo_if_needed", ()),
        ("docmd", ("XTEST", "x")), ("noop", ()), ("rset", ()), ("help", (None,)),
        ("verify", ("b@example.org",)), ("expn", ("list",)),
        ("mail", ("a@example.org", None)), ("rcpt", ("b@example.org", None)),
        ("data", (MESSAGE,)), ("quit", ()), ("starttls", ()), ("login", ("u", "p")),
        ("auth", (mechanism("PLAIN"),)), ("send", (envelope, MESSAGE)),
        ("sendmail", ("a@example.org", ["b@example.org"], MESSAGE, None, None)),
        ("sendmail_stream", ("a@example.org", ["b@example.org"],
                             Gio.MemoryInputStream.new_from_bytes(MESSAGE), None, None)),
    ]


def calls_after_421(run):
    def test(sink):
        def play(host, port):
            client = new_client()
            client.connect_to_host(host, port)
            expect(client.noop().get_code(), 421, "NOOP")
            expect(client.is_connected(), False, "connected after the 421")
            for name, args in calls_after_421_arguments():
                expect_smtp_error(Smtpkit.Error.SERVER_DISCONNECTED, 421,
                                  b"4.3.2 service shutting down", run, client, name, args)
        with_scenario(GREETING + [
            "expect NOOP",
            "send   421 4.3.2 service shutting down",
            "expect-close",
        ], "every call after a 421, from Python", play)
    test.__name__ = "override_smtp_error_after_421_%s" % (
        "blocking" if run is blocking else "async")
    return test


for _run in (blocking, in_main_loop):
    override_case(verify_550_returned(_run))
    override_case(calls_after_421(_run))

def main():
    global Gio
    from gi.repository import Gio
    sink = Sink(*SINK_RULES)
    sink.tls = Sink("--starttls", "--auth", "PLAIN", "--user", "u", "--password", "p",
                    "--require-tls")
    sink.auth = Sink("--starttls", "--auth", ",".join(AUTH_MECHANISMS),
                     "--user", "u", "--password", "p", "--require-tls")
    failed = False
    try:
        for n, function in enumerate(results, 1):
            try:
                function(sink)
                print("ok %d - %s" % (n, function.__name__))
            except Skip as e:
                print("ok %d - %s # SKIP %s" % (n, function.__name__, e))
            except Exception:
                failed = True
                print("not ok %d - %s" % (n, function.__name__))
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
            sys.stdout.flush()
    finally:
        sink.close()
        sink.tls.close()
        sink.auth.close()
    print("1..%d" % len(results))
    sys.exit(1 if failed else 0)


main()
