#!/usr/bin/env python3
# send-async.py: send one message with STARTTLS and AUTH, asynchronously
#
#   send-async.py HOST PORT CA-FILE USER PASSWORD FROM TO...
#
# Each step starts the next from its callback; a GLib.MainLoop runs them.
# Each recipient the server refused is printed as "refused ADDRESS: CODE
# TEXT". Exits 0 when every recipient got the message, 3 when some were
# refused and the others got it, 1 on an error (every recipient refused
# included), 2 on bad arguments.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

import gi

gi.require_version("Smtpkit", "1.0")
from gi.repository import GLib, Smtpkit  # noqa: E402


def main(argv):
    try:
        host, port, ca_file, user, password, sender, *recipients = argv[1:]
        port = int(port)
        if not recipients or not 0 < port < 65536:
            raise ValueError("no recipient")
    except ValueError:
        print("usage: send-async.py HOST PORT CA-FILE USER PASSWORD FROM TO...",
              file=sys.stderr)
        return 2

    loop = GLib.MainLoop()
    status = 0
    message = GLib.Bytes.new(
        f"From: {sender}\r\nTo: {', '.join(recipients)}\r\nSubject: send-async\r\n\r\n"
        "Hello from libsmtpkit.\r\n".encode())

    client = Smtpkit.Client.new()
    client.set_tls_mode(Smtpkit.TlsMode.STARTTLS)
    client.set_tls_ca_file(ca_file)

    # A step raises GLib.Error from its _finish(); run() ends the loop on it.
    def run(step):
        def callback(client, result):
            nonlocal status
            try:
                step(client, result)
            except GLib.Error as e:
                # Every recipient refused: the client keeps their replies.
                if e.matches(Smtpkit.error_quark(), Smtpkit.Error.RECIPIENTS_REFUSED):
                    for address in client.get_last_error_recipients():
                        print_refused(address, client.get_last_error_recipient_reply(address))
                print(f"send-async.py: {e.message}", file=sys.stderr)
                status = 1
                loop.quit()
        return callback

    def print_refused(address, reply):
        print(f"refused {address}: {reply.get_code()} {reply.get_text()}")

    @run
    def connected(client, result):
        # With tls-mode STARTTLS, the connection is already encrypted here.
        client.connect_finish(result)
        client.login_async(user, password, None, logged_in)

    @run
    def logged_in(client, result):
        client.login_finish(result)
        client.sendmail_async(sender, recipients, message, None, None, None, sent)

    @run
    def sent(client, result):
        nonlocal status
        # Some recipients may be refused while the others get the message.
        refused = client.sendmail_finish(result)
        for address in refused.get_refused_addresses():
            print_refused(address, refused.get_refused_reply(address))
            status = 3
        client.quit_async(None, done)

    @run
    def done(client, result):
        client.quit_finish(result)
        loop.quit()

    client.connect_async(host, port, None, connected)
    loop.run()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
