/* interop-server.h: real mail servers, started privately for the tests
 *
 * Each server runs from a temporary folder of its own: configuration,
 * queue, logs, mailboxes and sockets, on 127.0.0.1 ports picked free at
 * start or a Unix socket in the folder. Stopping a server kills its
 * process group and removes the folder; when the test process dies
 * instead, a watchdog process stops the server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

G_BEGIN_DECLS

/* The one mail domain of every server. */
#define INTEROP_DOMAIN "interop.test"

/* The SASL account on Postfix. */
#define INTEROP_SASL_USER "alice"
#define INTEROP_SASL_PASSWORD "Tr0ub4dor&3"

/* Longest wait for a server to start or a message to be delivered, in
 * seconds. */
#define INTEROP_WAIT_SECONDS 60

typedef struct _InteropServer InteropServer;

/* ---- Postfix ---------------------------------------------------------- */

/* smtpd on two ports (STARTTLS and implicit TLS), Cyrus SASL from a
 * sasldb, virtual delivery to Maildirs: see conf/postfix-main.cf. */
InteropServer *interop_postfix_start (GError **error);
guint16 interop_postfix_get_port (InteropServer *server);
guint16 interop_postfix_get_tls_port (InteropServer *server);
/* The CA that issued the server's certificate, for tls-ca-file. */
const char *interop_postfix_get_ca_file (InteropServer *server);

/* ---- Dovecot ---------------------------------------------------------- */

/* LMTP on a Unix socket, Maildirs, a quota plugin: see conf/dovecot.conf. */
InteropServer *interop_dovecot_start (GError **error);
const char *interop_dovecot_get_socket (InteropServer *server);

/* ---- either ----------------------------------------------------------- */

void interop_server_stop (InteropServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InteropServer, interop_server_stop)

/* The Maildir of a user (the local part of an address). */
char *interop_server_get_maildir (InteropServer *server,
                                  const char    *user);
/* The server's log so far (Postfix's maillog, Dovecot's log). */
char *interop_server_get_log (InteropServer *server);

/* Paths of the messages in @maildir's new/ folder, sorted, once there are
 * at least @n of them; NULL with an error after INTEROP_WAIT_SECONDS. */
GPtrArray *interop_wait_for_messages (const char  *maildir,
                                      guint        n,
                                      GError     **error);
/* How many messages @maildir's new/ folder holds now. */
guint interop_count_messages (const char *maildir);

/* Waits until the server's log has a line containing every one of the
 * strings given (NULL-terminated), and returns that line. */
char *interop_server_wait_for_log_line (InteropServer  *server,
                                        GError        **error,
                                        ...) G_GNUC_NULL_TERMINATED;

/* ---- messages --------------------------------------------------------- */

/* A message with CRLF line ends: From, To, Subject, Date, Message-ID and a
 * body of at least @body_size octets whose lines are the hard cases of
 * DATA (lone dots, leading dots, empty lines, "From " lines, lines of
 * 998 octets). */
GBytes *interop_message_new (const char *from,
                             const char *to,
                             const char *subject,
                             gsize       body_size);

/* Reads a delivered message: @trace (nullable) gets the trace header
 * fields the server put on top (Return-Path, Delivered-To, X-Original-To,
 * Received), and the rest is returned. */
GBytes *interop_read_delivered (const char  *path,
                                char       **trace,
                                GError     **error);

/* Asserts that the message at @path is @sent (CRLF line ends) as Maildir
 * stores it (LF line ends), under trace header fields the server added. */
#define interop_assert_delivered(path, sent) \
  interop_assert_delivered_impl (__FILE__, __LINE__, G_STRFUNC, (path), (sent))
void interop_assert_delivered_impl (const char *file,
                                    int         line,
                                    const char *func,
                                    const char *path,
                                    GBytes     *sent);

/* ---- clients ------------------------------------------------------------ */

/* Sets the EHLO name (client.interop.test) and a 60-second timeout. */
SmtpkitClient *interop_client_prepare (SmtpkitClient *client);
/* QUIT, answered with 221. */
void interop_client_quit (SmtpkitClient *client);
/* Drops the last reference to *@client, and asserts it is finalized. */
void interop_client_release (SmtpkitClient **client);

/* Waits for the one message @user is to get, asserts it is @sent, and
 * returns the trace fields on top of it. */
char *interop_assert_one_delivered (InteropServer *server,
                                    const char    *user,
                                    GBytes        *sent);

/* ---- when a server cannot run ------------------------------------------ */

/* For a fixture's setup: fails the test with @error's message under
 * CI=true (CI must run these tests), skips it otherwise. */
void interop_server_unavailable (const char   *name,
                                 const GError *error);

G_END_DECLS
