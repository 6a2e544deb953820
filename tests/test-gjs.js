// test-gjs.js: libsmtpkit from JavaScript through GJS, against the fake
// server's sink (TAP): the same binding-facing calls as test-python.py.
//
//   gjs test-gjs.js FAKE_SERVER
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.Smtpkit = '1.0';
const {GLib, Gio, Smtpkit} = imports.gi;

const sinkDir = GLib.dir_make_tmp('smtpkit-gjs-XXXXXX');
const server = Gio.Subprocess.new(
    [ARGV[0], '--sink', sinkDir + '/Maildir',
        '--refuse-rcpt', '*@nosuch.test=550 5.1.1 no such user',
        '--tempfail-rcpt', '*@later.test=450 4.2.1 try again later',
        '--reply', 'mail:*@denied.test=553 5.7.1 sender denied'],
    Gio.SubprocessFlags.STDOUT_PIPE);
const out = new Gio.DataInputStream({base_stream: server.get_stdout_pipe()});
let address = null;
for (let line; !address && (line = out.read_line_utf8(null)[0]) !== null;)
    if (line.startsWith('listening on '))
        address = line.split(' ').pop();
const [host, port] = [address.replace(/:\d+$/, ''), parseInt(address.split(':').pop())];
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
server.force_exit();
server.wait(null);
Gio.Subprocess.new(['rm', '-rf', sinkDir], Gio.SubprocessFlags.NONE).wait(null);
print(`1..${n}`);
imports.system.exit(failed ? 1 : 0);
