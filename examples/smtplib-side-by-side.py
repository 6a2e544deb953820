#!/usr/bin/env python3
# smtplib-side-by-side.py: common smtplib programs and their libsmtpkit
# equivalents, each pair run against the same server
#
#   smtplib-side-by-side.py HOST PORT CA-FILE USER PASSWORD
#
# The server offers STARTTLS (its certificate signed by CA-FILE) and AUTH
# PLAIN for USER and PASSWORD, and refuses *@nosuch.test as recipients
# and *@denied.test as senders, as the fake server does with
#
#   smtpkit-fake-server --sink DIR --starttls --auth PLAIN --user USER \
#       --password PASSWORD --refuse-rcpt '*@nosuch.test=550 5.1.1 no such user' \
#       --reply 'mail:*@denied.test=553 5.7.1 sender denied'
#
# For each pair it prints "NAME: smtplib RESULT" and "NAME: libsmtpkit
# RESULT", and exits 1 when the two results differ (0 otherwise, 2 on bad
# arguments). docs/smtplib-python.md shows the pairs: each of its Python
# blocks is the body of one of these functions, and tests/test-examples.sh
# checks that it still is.
#
# libsmtpkit's side uses its PyGObject overrides (gi/overrides/Smtpkit.py,
# installed with the library).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import smtplib
import ssl
import sys
from email.message import EmailMessage

import gi

gi.require_version("Smtpkit", "1.0")
gi.require_version("GMime", "3.0")
from gi.repository import GLib, GMime, Smtpkit  # noqa: E402

message = "From: alice@example.org\r\nSubject: Hello\r\n\r\nHi.\r\n"


# ---- connect, EHLO, STARTTLS, login, sendmail, quit ---------------------------

def smtplib_sendmail(host, port, ca_file, user, password):
    smtp = smtplib.SMTP(host, port)
    smtp.ehlo()
    smtp.starttls(context=ssl.create_default_context(cafile=ca_file))
    smtp.ehlo()
    smtp.login(user, password)
    refused = smtp.sendmail("alice@example.org", ["bob@example.net", "carol@nosuch.test"],
                            message)
    # refused: {"carol@nosuch.test": (550, b"5.1.1 no such user")}
    smtp.quit()
    return refused


def smtpkit_sendmail(host, port, ca_file, user, password):
    client = Smtpkit.Client.new()
    client.set_tls_ca_file(ca_file)
    client.connect_to_host(host, port)
    client.ehlo()
    client.starttls()
    client.ehlo()
    client.login(user, password)
    refused = client.sendmail_refused("alice@example.org", ["bob@example.net", "carol@nosuch.test"],
                                      message)
    # refused: {"carol@nosuch.test": (550, b"5.1.1 no such user")}
    client.quit()
    return refused


# ---- STARTTLS and login in one step --------------------------------------------

def smtplib_starttls_mode(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=ca_file))
        smtp.login(user, password)
        smtp.sendmail("alice@example.org", "bob@example.net", message)
    return "sent"


def smtpkit_starttls_mode(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.set_tls_mode(Smtpkit.TlsMode.STARTTLS)  # or fail: no clear text
        client.set_tls_ca_file(ca_file)
        client.connect_to_host(host, port)  # EHLO, STARTTLS, EHLO
        client.login(user, password)
        client.sendmail("alice@example.org", "bob@example.net", message)
    return "sent"


# ---- EHLO and the extensions -----------------------------------------------------

def smtplib_extensions(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        code, text = smtp.ehlo()
        features = (code, smtp.does_esmtp, smtp.has_extn("starttls"),
                    smtp.esmtp_features["auth"])  # " PLAIN"
    return features


def smtpkit_extensions(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        reply = client.ehlo()
        features = (reply.get_code(), client.get_does_esmtp(), client.has_extn("starttls"),
                    client.get_extension_parameter("auth"))  # " PLAIN", as smtplib's
    return features


# ---- send_message ------------------------------------------------------------------

def smtplib_send_message(host, port, ca_file, user, password):
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.net, carol@nosuch.test"
    msg["Subject"] = "Hello"
    msg.set_content("Hi.\n")
    with smtplib.SMTP(host, port) as smtp:
        refused = smtp.send_message(msg)
    return sorted(refused)


def smtpkit_send_message(host, port, ca_file, user, password):
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.net, carol@nosuch.test"
    msg["Subject"] = "Hello"
    msg.set_content("Hi.\n")
    # send_message() takes a GMime.Message: parse what the email package made.
    GMime.init()
    stream = GMime.StreamMem.new_with_buffer(msg.as_bytes())
    mime = GMime.Parser.new_with_stream(stream).construct_message(None)
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        result = client.send_message(mime)
        refused = result.get_refused_addresses()
    return sorted(refused)


# ---- every recipient refused ---------------------------------------------------------

def smtplib_recipients_refused(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        try:
            smtp.sendmail("alice@example.org", ["carol@nosuch.test"], message)
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients  # {"carol@nosuch.test": (550, b"5.1.1 no such user")}
    return refused


def smtpkit_recipients_refused(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        try:
            client.sendmail("alice@example.org", ["carol@nosuch.test"], message)
        except Smtpkit.SMTPError as e:
            if e.matches(Smtpkit.error_quark(), Smtpkit.Error.RECIPIENTS_REFUSED):
                refused = e.recipients  # {"carol@nosuch.test": (550, b"5.1.1 no such user")}
    return refused


# ---- a refusal with its reply: the sender ----------------------------------------------

def smtplib_sender_refused(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        try:
            smtp.sendmail("mallory@denied.test", ["bob@example.net"], message)
        except smtplib.SMTPResponseException as e:  # here SMTPSenderRefused
            error = (e.smtp_code, e.smtp_error, e.sender)  # 553, b"5.7.1 sender denied"
    return error


def smtpkit_sender_refused(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        try:
            client.sendmail("mallory@denied.test", ["bob@example.net"], message)
        except Smtpkit.SMTPError as e:  # e.code == Smtpkit.Error.SENDER_REFUSED
            error = (e.smtp_code, e.smtp_error, e.sender)  # 553, b"5.7.1 sender denied"
    return error


# ---- a refusal with its reply: the password ---------------------------------------------

def smtplib_wrong_password(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        try:
            smtp.login(user, "wrong")
        except smtplib.SMTPAuthenticationError as e:
            error = (e.smtp_code, e.smtp_error)  # 535, b"5.7.8 Error: authentication failed: ..."
    return error


def smtpkit_wrong_password(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        try:
            client.login(user, "wrong")
        except Smtpkit.SMTPError as e:  # e.code == Smtpkit.Error.AUTHENTICATION
            error = (e.smtp_code, e.smtp_error)  # 535, b"5.7.8 Error: authentication failed: ..."
    return error


# ---- other commands: their reply, whatever its code ------------------------------------------

def smtplib_commands(host, port, ca_file, user, password):
    with smtplib.SMTP(host, port) as smtp:
        replies = [smtp.noop(), smtp.rset(), smtp.docmd("NOOP", "hello")]
    return replies


def smtpkit_commands(host, port, ca_file, user, password):
    with Smtpkit.Client.new() as client:
        client.connect_to_host(host, port)
        replies = [client.noop(), client.rset(), client.docmd("NOOP hello")]
        replies = [(r.get_code(), r.get_text().encode()) for r in replies]
    return replies


PAIRS = ["sendmail", "starttls_mode", "extensions", "send_message", "recipients_refused",
         "sender_refused", "wrong_password", "commands"]


def main(argv):
    try:
        host, port, ca_file, user, password = argv[1:]
        port = int(port)
    except ValueError:
        print("usage: smtplib-side-by-side.py HOST PORT CA-FILE USER PASSWORD", file=sys.stderr)
        return 2
    status = 0
    for name in PAIRS:
        results = []
        for side, function in [("smtplib", globals()["smtplib_" + name]),
                               ("libsmtpkit", globals()["smtpkit_" + name])]:
            try:
                result = function(host, port, ca_file, user, password)
            except (smtplib.SMTPException, GLib.Error, OSError) as e:
                result = "unexpected %s: %s" % (type(e).__name__, e)
            print("%s: %s %r" % (name, side, result))
            results.append(result)
        if results[0] != results[1]:
            print("%s: the two differ" % name, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
