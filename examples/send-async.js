#!/usr/bin/env -S gjs -m
// send-async.js: send one message with STARTTLS and AUTH, asynchronously
//
//   gjs -m send-async.js HOST PORT CA-FILE USER PASSWORD FROM TO...
//
// Each step starts the next from its callback; a GLib.MainLoop runs them.
// Each recipient the server refused is printed as "refused ADDRESS: CODE
// TEXT". Exits 0 when every recipient got the message, 3 when some were
// refused and the others got it, 1 on an error (every recipient refused
// included), 2 on bad arguments.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Smtpkit from 'gi://Smtpkit?version=1.0';
import System from 'system';

const [host, port, caFile, user, password, sender, ...recipients] = ARGV;
if (ARGV.length < 7 || !(Number(port) > 0 && Number(port) < 65536)) {
    printerr('usage: gjs -m send-async.js HOST PORT CA-FILE USER PASSWORD FROM TO...');
    System.exit(2);
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
const message = new GLib.Bytes(new TextEncoder().encode(
    `From: ${sender}\r\nTo: ${recipients.join(', ')}\r\nSubject: send-async\r\n\r\n` +
    'Hello from libsmtpkit.\r\n'));

const client = Smtpkit.Client.new();
client.set_tls_mode(Smtpkit.TlsMode.STARTTLS);
client.set_tls_ca_file(caFile);

function printRefused(address, reply) {
    print(`refused ${address}: ${reply.get_code()} ${reply.get_text()}`);
}

// A step throws GLib.Error from its _finish(); step() ends the loop on it.
function step(f) {
    return (c, result) => {
        try {
            f(result);
        } catch (e) {
            // Every recipient refused: the client keeps their replies.
            if (e.matches?.(Smtpkit.error_quark(), Smtpkit.Error.RECIPIENTS_REFUSED)) {
                for (const address of client.get_last_error_recipients())
                    printRefused(address, client.get_last_error_recipient_reply(address));
            }
            printerr(`send-async.js: ${e.message}`);
            status = 1;
            loop.quit();
        }
    };
}

const done = step(result => {
    client.quit_finish(result);
    loop.quit();
});

const sent = step(result => {
    // Some recipients may be refused while the others get the message.
    const refused = client.sendmail_finish(result);
    for (const address of refused.get_refused_addresses()) {
        printRefused(address, refused.get_refused_reply(address));
        status = 3;
    }
    client.quit_async(null, done);
});

const loggedIn = step(result => {
    client.login_finish(result);
    client.sendmail_async(sender, recipients, message, null, null, null, sent);
});

const connected = step(result => {
    // With tls-mode STARTTLS, the connection is already encrypted here.
    client.connect_finish(result);
    client.login_async(user, password, null, loggedIn);
});

client.connect_async(host, Number(port), null, connected);
loop.run();
System.exit(status);
