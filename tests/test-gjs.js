// test-gjs.js: libsmtpkit from JavaScript through GJS, against the fake
// server's sink (TAP): the same binding-facing calls as test-python.py.
//
//   gjs test-gjs.js FAKE_SERVER
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.Smtpkit = '1.0';
const {GLib, Gio, Smtpkit} = imports.gi;

const sinkDir = GLib.dir_make_tmp('smtpkit-gjs-XXXXXX');

// Starts the fake server with @args; returns what it printed before
// listening: {process, host, port, caFile}.
function startServer(args) {
    const process = Gio.Subprocess.new([ARGV[0], ...args], Gio.SubprocessFlags.STDOUT_PIPE);
    const out = new Gio.DataInputStream({base_stream: process.get_stdout_pipe()});
    let address = null, caFile = null;
    for (let line; !address && (line = out.read_line_utf8(null)[0]) !== null;) {
        if (line.startsWith('ca-file: '))
            caFile = line.substring(9).trim();
        else if (line.startsWith('listening on '))
            address = line.split(' ').pop();
    }
    if (!address)
        throw new Error('the fake server did not start');
    return {process, caFile, host: address.replace(/:\d+$/, ''),
        port: parseInt(address.split(':').pop())};
}

const sink = startServer(['--sink', sinkDir + '/Maildir',
    '--refuse-rcpt', '*@nosuch.test=550 5.1.1 no such user',
    '--tempfail-rcpt', '*@later.test=450 4.2.1 try again later',
    '--reply', 'mail:*@denied.test=553 5.7.1 sender denied']);
const server = sink.process;
const [host, port] = [sink.host, sink.port];
const tlsSink = startServer(['--sink', sinkDir + '/TlsMaildir', '--starttls',
    '--auth', 'PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-1,SCRAM-SHA-256', '--user', 'u', '--password', 'p', '--require-tls']);

// smtpkit-fake-server --scenario playing @lines (the server side), then
// f(host, port); the server is stopped afterwards.
function withScenario(title, lines, f) {
    const dir = GLib.dir_make_tmp('smtpkit-gjs-XXXXXX');
    const path = `${dir}/case.scenario`;
    GLib.file_set_contents(path, `# ${title}\nserver:\n${lines.map(l => `  ${l}\n`).join('')}`);
    const scenario = startServer(['--scenario', path]);
    try {
        f(scenario.host, scenario.port);
    } finally {
        scenario.process.force_exit();
        scenario.process.wait(null);
        Gio.Subprocess.new(['rm', '-rf', dir], Gio.SubprocessFlags.NONE).wait(null);
    }
}

const message = new GLib.Bytes('Subject: test\r\n\r\nhello from GJS\r\n');

function expect(actual, wanted, what) {
    if (JSON.stringify(actual) !== JSON.stringify(wanted))
        throw new Error(`${what}: ${JSON.stringify(actual)}, not ${JSON.stringify(wanted)}`);
}

function connected() {
    const client = Smtpkit.Client.new();
    client.set_local_hostname('client.test');
    expect(client.connect_to_host(host, port, null).get_code(), 220, 'greeting');
    return client;
}

function expectError(code, f) {
    try {
        f();
    } catch (e) {
        if (!e.matches(Smtpkit.error_quark(), code))
            throw e;
        return;
    }
    throw new Error(`no error, not ${code}`);
}

const cases = {
    connect_is_for_signals() {
        const client = Smtpkit.Client.new();
        const seen = [];
        client.connect('connecting', (c, h, p) => seen.push(`${h}:${p}`));
        client.connect_to_host(host, port, null);
        expect(seen, [`${host}:${port}`], 'connecting emitted');
        client.quit(null);
    },
    sendmail_some_refused() {
        const client = connected();
        const result = client.sendmail('a@example.org',
            ['b@example.org', 'c@nosuch.test', 'd@later.test'], message, null, null, null);
        expect(result.get_refused_addresses(), ['c@nosuch.test', 'd@later.test'], 'refused');
        expect(result.get_refused_reply('c@nosuch.test').get_code(), 550, 'code of c');
        expect(result.get_refused_reply('d@later.test').get_enhanced_status(), '4.2.1', 'status of d');
        client.quit(null);
    },
    error_details() {
        const client = connected();
        expectError(Smtpkit.Error.SENDER_REFUSED, () =>
            client.sendmail('x@denied.test', ['b@example.org'], message, null, null, null));
        expect(client.get_last_error_reply().get_code(), 553, 'sender refusal');
        expect(client.get_last_error_sender(), 'x@denied.test', 'refused sender');
        expectError(Smtpkit.Error.RECIPIENTS_REFUSED, () =>
            client.sendmail('a@example.org', ['x@nosuch.test', 'y@later.test'], message,
                null, null, null));
        expect(client.get_last_error_recipients(), ['x@nosuch.test', 'y@later.test'], 'recipients');
        expect(client.get_last_error_recipient_reply('y@later.test').get_code(), 450, 'code of y');
        client.quit(null);
    },
    sendmail_async() {
        const client = connected();
        const loop = new GLib.MainLoop(null, false);
        let result = null;
        client.sendmail_async('a@example.org', ['b@example.org', 'c@later.test'], message,
            null, null, null, (c, res) => {
                result = c.sendmail_finish(res);
                loop.quit();
            });
        GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 20, () => loop.quit());
        loop.run();
        expect(result.get_refused_addresses(), ['c@later.test'], 'refused');
        client.quit(null);
    },
    connect_async() {
        const client = Smtpkit.Client.new();
        client.set_local_hostname('client.test');
        const loop = new GLib.MainLoop(null, false);
        let code = null;
        client.connect_async(host, port, null, (c, res) => {
            code = c.connect_finish(res).get_code();
            loop.quit();
        });
        GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 60, () => {
            loop.quit();
            return GLib.SOURCE_REMOVE;
        });
        loop.run();
        expect(code, 220, 'greeting');
        client.quit(null);
    },
    not_connected() {
        const client = Smtpkit.Client.new();
        expectError(Smtpkit.Error.SERVER_DISCONNECTED, () => client.noop(null));
        expect(client.get_last_error_reply(), null, 'reply');
    },
    connect_and_ehlo() {
        const client = connected();
        const reply = client.ehlo(null, null);
        expect(reply.get_code(), 250, 'EHLO');
        expect(client.get_does_esmtp(), true, 'does ESMTP');
        expect(client.quit(null).get_code(), 221, 'QUIT');
    },
    send_and_send_result() {
        const client = connected();
        const envelope = Smtpkit.Envelope.new('a@example.org');
        for (const a of ['b@example.org', 'c@nosuch.test'])
            envelope.add_recipient(a, Smtpkit.DsnNotify.UNSET, null);
        const result = client.send(envelope, message, null);
        expect(result.get_n_recipients(), 2, 'recipients');
        expect(result.get_rcpt_reply(1).get_code(), 550, 'RCPT reply of c');
        expect(result.get_rcpt_reply(1).get_enhanced_status(), '5.1.1', 'status of c');
        expect(result.get_final_reply(0).get_code(), 250, 'final reply of b');
        expect([result.get_delivered(0), result.get_delivered(1)], [true, false], 'delivered');
        client.quit(null);
    },
    starttls_with_ca_and_login() {
        const client = Smtpkit.Client.new();
        client.set_local_hostname('client.test');
        client.set_tls_mode(Smtpkit.TlsMode.STARTTLS);
        client.set_tls_ca_file(tlsSink.caFile);
        let emitted = 0;
        client.connect('accept-certificate', () => {
            emitted++;
            return false;
        });
        expect(client.connect_to_host(tlsSink.host, tlsSink.port, null).get_code(), 220, 'greeting');
        expect(emitted, 0, 'accept-certificate emissions');
        expect(client.is_secure(), true, 'secure');
        expect(client.login('u', 'p', null).get_code(), 235, 'login');
        const result = client.sendmail('a@example.org', ['b@example.org'], message, null, null, null);
        expect(result.get_refused_addresses(), [], 'refused');
        client.quit(null);
    },
    auth_each_mechanism() {
        for (const name of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256']) {
            for (const [password, code] of [['p', 235], ['wrong', 535]]) {
                const client = Smtpkit.Client.new();
                client.set_local_hostname('client.test');
                client.set_tls_mode(Smtpkit.TlsMode.STARTTLS);
                client.set_tls_ca_file(tlsSink.caFile);
                client.connect_to_host(tlsSink.host, tlsSink.port, null);
                const mechanism = Smtpkit.AuthMechanism.new_for_name(name);
                mechanism.username = 'u';
                mechanism.password = password;
                if (code === 235) {
                    expect(client.auth(mechanism, null).get_code(), 235, `AUTH ${name}`);
                } else {
                    expectError(Smtpkit.Error.AUTHENTICATION, () => client.auth(mechanism, null));
                    expect(client.get_last_error_reply().get_code(), 535, `AUTH ${name}, wrong password`);
                    expect(client.get_last_error_reply().get_enhanced_status(), '5.7.8', 'its status');
                }
                client.quit(null);
            }
        }
    },
    lmtp_per_recipient() {
        withScenario('LMTP per-recipient replies from GJS', [
            'send   220 lmtp.test LMTP',
            'expect LHLO client.test',
            'send   250-lmtp.test',
            'send   250 ENHANCEDSTATUSCODES',
            'expect MAIL FROM:<a@example.org>',
            'send   250 2.1.0 ok',
            'expect RCPT TO:<r1@example.org>',
            'send   250 2.1.5 ok',
            'expect RCPT TO:<r2@example.org>',
            'send   250 2.1.5 ok',
            'expect DATA',
            'send   354 go',
            'expect-data',
            '|Subject: test',
            '|',
            '|hello from GJS',
            '|.',
            'send   250 2.0.0 r1 delivered',
            'send   550 5.1.1 r2 gone',
            'expect QUIT',
            'send   221 bye',
        ], (h, p) => {
            const client = Smtpkit.LmtpClient.new();
            client.set_local_hostname('client.test');
            expect(client.connect_to_host(h, p, null).get_code(), 220, 'greeting');
            const envelope = Smtpkit.Envelope.new('a@example.org');
            for (const a of ['r1@example.org', 'r2@example.org'])
                envelope.add_recipient(a, Smtpkit.DsnNotify.UNSET, null);
            const result = client.send(envelope, message, null);
            expect([result.get_final_reply(0).get_code(), result.get_final_reply(1).get_code()],
                [250, 550], 'final replies');
            expect(result.get_refused_addresses(), ['r2@example.org'], 'refused');
            expect(result.get_refused_reply('r2@example.org').get_enhanced_status(), '5.1.1', 'status of r2');
            expect(client.quit(null).get_code(), 221, 'QUIT');
            client.close();
        });
    },
    sendmail_async_cancelled() {
        withScenario('a MAIL reply that comes too late', [
            'send   220 fake.test ESMTP',
            'expect EHLO client.test',
            'send   250 fake.test',
            'expect MAIL FROM:<a@example.org>',
            'delay  30000',
            'send   250 ok',
        ], (h, p) => {
            const client = Smtpkit.Client.new();
            client.set_local_hostname('client.test');
            client.connect_to_host(h, p, null);
            const loop = new GLib.MainLoop(null, false);
            const cancellable = new Gio.Cancellable();
            let error = null, finished = false;
            client.sendmail_async('a@example.org', ['b@example.org'], message, null, null,
                cancellable, (c, res) => {
                    try {
                        c.sendmail_finish(res);
                    } catch (e) {
                        error = e;
                    }
                    finished = true;
                    loop.quit();
                });
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, 200, () => {
                cancellable.cancel();
                return GLib.SOURCE_REMOVE;
            });
            GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 60, () => {
                loop.quit();
                return GLib.SOURCE_REMOVE;
            });
            loop.run();
            expect(finished, true, 'finished');
            if (!error || !error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
                throw new Error(`not cancelled: ${error}`);
        });
    },
};

let n = 0, failed = false;
for (const [name, f] of Object.entries(cases)) {
    n++;
    try {
        f();
        print(`ok ${n} - ${name}`);
    } catch (e) {
        failed = true;
        print(`not ok ${n} - ${name}`);
        for (const line of `${e}\n${e.stack}`.split('\n'))
            print(`# ${line}`);
    }
}
for (const p of [server, tlsSink.process]) {
    p.force_exit();
    p.wait(null);
}
Gio.Subprocess.new(['rm', '-rf', sinkDir], Gio.SubprocessFlags.NONE).wait(null);
print(`1..${n}`);
imports.system.exit(failed ? 1 : 0);
