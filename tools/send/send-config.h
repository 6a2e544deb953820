/* send-config.h: smtpkit-send's accounts, passwords and queue
 *
 * The interface between the mailer's front end (main.c, send-message.c,
 * send-exit.c, send-progress.c) and its configuration (send-config.c,
 * send-password.c) and queue (send-queue.c). Private to smtpkit-send.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

G_BEGIN_DECLS

/* The error domain of everything here. Each code maps to one sysexits.h
 * exit status in send-exit.c. */
#define SEND_CONFIG_ERROR (send_config_error_quark ())
GQuark send_config_error_quark (void);

typedef enum
{
  SEND_CONFIG_ERROR_CONFIG,     /* a bad file, key or value: EX_CONFIG (78);
                                 * the message names FILE:LINE */
  SEND_CONFIG_ERROR_USAGE,      /* a bad command-line value: EX_USAGE (64) */
  SEND_CONFIG_ERROR_PASSWORD,   /* no password could be had: EX_NOPERM (77)
                                 * or EX_CONFIG when a file is unsafe */
  SEND_CONFIG_ERROR_UNSAFE,     /* a password file readable by others:
                                 * EX_CONFIG (78), the message says why */
  SEND_CONFIG_ERROR_QUEUE,      /* the queue cannot be written or read:
                                 * EX_CANTCREAT (73) / EX_IOERR (74) */
} SendConfigError;

/* One account: accounts.conf's group, with the command line applied on
 * top. Every string is NULL when unset. */
typedef struct
{
  char *name;              /* the group, or NULL for the command line alone */
  char *origin;            /* "FILE:LINE" of the group, for messages */

  /* "server": smtp://host[:port], smtps://host[:port],
   * lmtp:///path/to/socket, lmtp://host[:port] */
  char *server;
  char *host;              /* NULL for a unix socket */
  guint16 port;            /* 0: the scheme's default (25, 465, 24) */
  char *socket_path;       /* lmtp:///… */
  gboolean lmtp;

  SmtpkitTlsMode tls_mode; /* "tls", or the default the scheme and host
                            * give: starttls for smtp:// to a host that is
                            * not loopback, implicit for smtps://, none
                            * for loopback and unix sockets */
  gboolean tls_mode_set;   /* "tls" was given: send_account_finish()
                            * keeps tls_mode instead of the default */
  char *ca_file;
  char *user;
  char *password_command;  /* run with /bin/sh -c; first line of stdout */
  char *password_file;     /* refused when readable by group or others */
  char *from;              /* the default envelope sender */
  char **auth;             /* allowed SASL mechanisms, or NULL: any */
  double timeout;          /* seconds; < 0: the library's default */
  SmtpkitDsnNotify dsn_notify;
  SmtpkitDsnRet dsn_return;
  char *queue;             /* queue directory, or NULL: none */
  char *local_hostname;    /* "helo" */
} SendAccount;

void send_account_free (SendAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendAccount, send_account_free)

/* The accounts file: $XDG_CONFIG_HOME/smtpkit/accounts.conf unless
 * @path is set (--config). A missing default file is no error: an empty
 * account is returned, for the command line to fill. A missing --config
 * file is. @name NULL picks the group named by [defaults] account=, or
 * the only group. */
SendAccount *send_account_load (const char  *path,
                                const char  *name,
                                GError     **error);

/* Applies "--server URI" and the like: the same keys as the file, with
 * the same checks, reported as SEND_CONFIG_ERROR_USAGE. */
gboolean send_account_set (SendAccount  *account,
                           const char   *key,
                           const char   *value,
                           GError      **error);

/* Fills in what the keys imply (host, port, TLS default) and checks that
 * the account can be used: a server is set, a user has a password
 * source. */
gboolean send_account_finish (SendAccount  *account,
                              GError      **error);

/* The password of account->user: the Secret Service first (when a user
 * is set and no command or file is given), then password-command, then
 * password-file. NULL with an error when none gives one. Erase and free
 * it with send_password_free(). */
char *send_account_get_password (const SendAccount  *account,
                                 GError            **error);
void send_password_free (char *password);

/* Stores @password in the Secret Service for @account (server and user
 * taken from it): smtpkit-send --store-password ACCOUNT. The attributes
 * are those of the man page: xdg:schema org.gnome.Smtpkit.Account,
 * "server" (the URI) and "user". */
gboolean send_password_store (const SendAccount  *account,
                              const char         *password,
                              GError            **error);

/* The queue: a message that failed temporarily is kept with its envelope
 * (sender, recipients, MAIL/RCPT options, account) until
 * send_queue_flush() delivers it; one that failed for good goes to
 * DIR/dead.letter/ with the reason. */
typedef struct
{
  char *sender;
  char **recipients;
  char **mail_options;
  char **rcpt_options;
  char *account;           /* the account's name, or NULL */
  char *reason;            /* why it was queued (the last error) */
  GBytes *message;         /* as it goes on the wire, Bcc removed */
} SendQueueEntry;

void send_queue_entry_free (SendQueueEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendQueueEntry, send_queue_entry_free)

/* Stores @entry in @dir (created 0700 when missing), atomically; returns
 * the path of the stored message. */
char *send_queue_store (const char            *dir,
                        const SendQueueEntry  *entry,
                        GError               **error);
/* Moves a queued message to @dir/dead.letter/ with @reason, or stores
 * @entry there directly when @path is NULL. */
gboolean send_queue_bury (const char            *dir,
                          const char            *path,
                          const SendQueueEntry  *entry,
                          const char            *reason,
                          GError               **error);

/* What a flush does with one entry: 0 delivered (removed from the
 * queue), > 0 a temporary failure (kept), < 0 a permanent failure
 * (buried with *reason). */
typedef int (*SendQueueDeliverFunc) (const SendQueueEntry  *entry,
                                     char                 **reason,
                                     gpointer               user_data);

/* Tries every entry of @dir, oldest first; reports how many were
 * delivered, kept and buried. FALSE only when @dir cannot be read. */
gboolean send_queue_flush (const char            *dir,
                           SendQueueDeliverFunc   deliver,
                           gpointer               user_data,
                           guint                 *n_delivered,
                           guint                 *n_kept,
                           guint                 *n_buried,
                           GError               **error);

G_END_DECLS
