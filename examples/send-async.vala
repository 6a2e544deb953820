/* send-async.vala: send one message with STARTTLS and AUTH, asynchronously
 *
 *   send-async-vala HOST PORT CA-FILE USER PASSWORD FROM TO...
 *
 * One async method yields to each step in turn; a MainLoop runs it.
 * Each recipient the server refused is printed as "refused ADDRESS: CODE
 * TEXT". Exits 0 when every recipient got the message, 3 when some were
 * refused and the others got it, 1 on an error (every recipient refused
 * included), 2 on bad arguments.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

void print_refused (string address, Smtpkit.Reply reply) {
    print ("refused %s: %u %s\n", address, reply.get_code (), reply.get_text ());
}

/* Returns whether every recipient got the message. */
async bool send_mail (string host, uint16 port, string ca_file, string user,
                      string password, string from, string[] to) throws Error {
    var client = new Smtpkit.Client ();
    client.tls_mode = Smtpkit.TlsMode.STARTTLS;
    client.set_tls_ca_file (ca_file);

    // With tls-mode STARTTLS, the connection is encrypted when this returns.
    yield client.connect_async (host, port, null);
    yield client.login_async (user, password, null);

    var message = new Bytes (
        "From: %s\r\nTo: %s\r\nSubject: send-async\r\n\r\nHello from libsmtpkit.\r\n"
        .printf (from, string.joinv (", ", to)).data);
    HashTable<weak string, weak Smtpkit.Reply> refused;
    try {
        refused = yield client.sendmail_async (from, to, message, null, null, null);
    } catch (Smtpkit.Error e) {
        // Every recipient refused: the error carries their replies.
        if (e is Smtpkit.Error.RECIPIENTS_REFUSED)
            Smtpkit.Error.get_recipients (e).foreach (print_refused);
        throw e;
    }
    // Some recipients may be refused while the others get the message.
    refused.foreach (print_refused);

    yield client.quit_async (null);
    return refused.size () == 0;
}

int main (string[] args) {
    Intl.setlocale ();
    uint64 port = 0;
    if (args.length < 8 || !uint64.try_parse (args[2], out port) || port == 0 || port > 65535) {
        printerr ("usage: send-async-vala HOST PORT CA-FILE USER PASSWORD FROM TO...\n");
        return 2;
    }

    var loop = new MainLoop ();
    int status = 0;
    send_mail.begin (args[1], (uint16) port, args[3], args[4], args[5], args[6], args[7:args.length],
                     (obj, res) => {
        try {
            status = send_mail.end (res) ? 0 : 3;
        } catch (Error e) {
            printerr ("send-async-vala: %s\n", e.message);
            status = 1;
        }
        loop.quit ();
    });
    loop.run ();
    return status;
}
