/* smtpkit-client-private.h: what the parts of the client share
 *
 * The client is split by concern: the session and its commands
 * (smtpkit-client.c), the mail transaction (smtpkit-client-mail.c), TLS
 * (smtpkit-client-tls.c) and authentication (smtpkit-client-auth.c). They
 * share the operation machinery declared here: each public method is one
 * GTask whose steps run in turn, each step handing the engine a batch of
 * commands and naming the step that takes the reply.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-client.h"
#include "smtpkit-codec-private.h"
#include "smtpkit-deadline-private.h"
#include "smtpkit-engine-private.h"
#include "smtpkit-error.h"

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.2, in milliseconds. */
typedef enum
{
  PHASE_CONNECT,
  PHASE_GREETING,
  PHASE_COMMAND,
  PHASE_MAIL,
  PHASE_RCPT,
  PHASE_DATA_INIT,
  PHASE_DATA_BLOCK,
  PHASE_DATA_END,
} Phase;

/* The extensions the client itself looks at, as flags: tested on every
 * transaction, where a keyword lookup would be a hash each time. */
typedef enum
{
  CLIENT_EXT_PIPELINING = 1 << 0,
  CLIENT_EXT_CHUNKING = 1 << 1,
  CLIENT_EXT_SIZE = 1 << 2,
  CLIENT_EXT_BINARYMIME = 1 << 3,
  CLIENT_EXT_SMTPUTF8 = 1 << 4,
  CLIENT_EXT_8BITMIME = 1 << 5,
  CLIENT_EXT_DSN = 1 << 6,
  CLIENT_EXT_STARTTLS = 1 << 7,
  CLIENT_EXT_AUTH = 1 << 8,
} ClientExtension;

typedef struct
{
  char *local_hostname;
  double timeout;               /* seconds; < 0: per-phase defaults */
  GSocketAddress *source_address;
  guint debug_level;
  gboolean convert_newlines;
  char *transport;
  SmtpkitTlsMode tls_mode;
  GTlsDatabase *tls_database;
  char *tls_ca_file;
  GTlsDatabase *ca_file_database; /* tls_ca_file, loaded at the handshake */
  GTlsCertificateFlags certificate_errors; /* of the last handshake */
  GTlsInteraction *tls_interaction;
  GTlsCertificate *tls_certificate;
  gboolean allow_plaintext_auth;
  gboolean pipelining;
  gboolean chunking;
  gboolean convert_8bit;
  gboolean initial_response_ok;

  SmtpkitEngine *engine;
  char *host;                   /* "name:port" or a socket path, for messages */
  char *server_name;            /* the name or address connected to */
  guint16 port;
  gboolean busy;
  guint rcpt_accepted;          /* by rcpt() since mail(): LMTP's data() */

  char *auth_mechanism;         /* authenticated with, on this connection */
  gboolean does_esmtp;
  SmtpkitReply *ehlo_reply;
  SmtpkitReply *helo_reply;
  GHashTable *features;         /* lower-case keyword -> parameters */
  ClientExtension offered;      /* of @features, those the client looks at */
  guint64 size_limit;           /* SIZE's parameter; 0: none */
  GError *last_error;           /* of the last operation, for bindings */
} SmtpkitClientPrivate;

SmtpkitClientPrivate *client_get_private (SmtpkitClient *client);

/* Turns the engine's trace on when a debug level or a `sending` handler
 * wants it (looked at as each operation starts). */
void client_update_tracing (SmtpkitClient *client);
/* The engine's trace of a connection of @user_data, a client: the
 * `sending` signal and the debug transcript. */
void client_trace (gpointer          user_data,
                   SmtpkitTraceKind  kind,
                   const guint8     *shown,
                   gsize             size,
                   SmtpkitReply     *reply);
void client_emit_connecting (SmtpkitClient *client,
                             const char    *host,
                             guint16        port);

/* Whether the server's EHLO reply offers @extension. */
gboolean client_offers (SmtpkitClient   *client,
                        ClientExtension  extension);


typedef void (*ReplyStep) (GTask        *task,
                           SmtpkitReply *reply);
typedef void (*Step) (GTask *task);
typedef void (*RepliesStep) (GTask     *task,
                             GPtrArray *replies);
typedef void (*LostStep) (GTask     *task,
                          GPtrArray *partial,
                          GError    *error);

typedef struct
{
  SmtpkitClient *client;        /* the task's source object (not a reference) */
  SmtpkitClientPrivate *priv;   /* ... and its private data */
  gboolean sub_operation;       /* a step of another operation: not the
                                 * end of the client's busy period */
  ReplyStep on_reply;
  RepliesStep on_replies;
  LostStep on_lost;             /* the next exchange failed: the replies
                                 * read before, the error (taken); once */
  Step after_hello;
  ReplyStep after_data;

  /* connect */
  char *host;
  guint16 port;
  SmtpkitDeadline *deadline;

  /* sendmail, data */
  gboolean in_transaction;
  char *from;
  GStrv to;
  GStrv mail_options;
  GStrv rcpt_options;
  GBytes *message;              /* the message, when given whole */
  GInputStream *body;
  gint64 size;                  /* encoded size, -1 when unknown (for @message: not
                                 * looked at yet, with @wire_form) */
  SmtpkitWireForm wire_form;    /* of @message: the encodings that leave it as it is */
  gboolean chunked;             /* the body goes as BDAT (RFC 3030) */
  GBytes *chunk;                /* a whole message, encoded for BDAT */
  SmtpkitDataEncoder encoder;
  guint next_rcpt;
  GHashTable *refused;
  /* Per recipient, in one allocation that @rcpt_replies starts: */
  guint n_to;
  SmtpkitReply **rcpt_replies;  /* n_to, by index in @to; NULL until read */
  guint *accepted;              /* indexes in @to of the accepted ones, in RCPT
                                 * order, duplicates too (after a lost connection,
                                 * also those not answered) */
  guint n_accepted;
  SmtpkitReply **final_replies; /* the final reply of each in @accepted */
  guint n_final;
  GPtrArray *per_rcpt_options;  /* GStrv by index in @to, or NULL */
  gboolean (*prepare) (GTask   *task,
                       GError **error); /* after EHLO, before MAIL */
  GObject *source_message;      /* what send_message() was given */
  gboolean want_result;         /* send(): a SmtpkitSendResult */

  /* TLS */
  SmtpkitReply *greeting;
  SmtpkitReply *starttls_reply;
  GIOStream *stream;
  GTlsConnection *tls;
  gulong accept_certificate_id; /* on @tls during its handshake */
  Step after_tls;
  Step after_starttls;
  gboolean tls_required;

  /* authentication */
  SmtpkitAuthMechanism *mechanism;
  ReplyStep after_auth;
  guint auth_rounds;
  char *user;
  char *password;
  GStrv candidates;
  guint next_candidate;
  GError *last_error;
} ClientOp;

#define OP(task) ((ClientOp *) g_task_get_task_data (task))

/* A task of @client with its ClientOp (client_op_begin() for a public
 * operation). */
GTask *client_op_task_new (SmtpkitClient       *client,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data);
/* Kept in the operation's data: one call, and no cast check, for each. */
#define CLIENT(task) (OP (task)->client)
#define PRIV(task) (OP (task)->priv)


guint client_phase_timeout (SmtpkitClient *client,
                            Phase          phase);

void client_forget_session (SmtpkitClient *client);

void client_set_auth_mechanism (SmtpkitClient *client,
                                const char    *name);

void client_drop_connection (SmtpkitClient *client);

gboolean client_is_connected (SmtpkitClient *client);

GError *client_closed_error (SmtpkitClient *client);

GTask *client_op_begin (SmtpkitClient       *client,
                        gpointer             source_tag,
                        gboolean             needs_connection,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data);

void client_op_free (ClientOp *op);

void client_op_return_error (GTask  *task,
                             GError *error);

void client_op_return_pointer (GTask          *task,
                               gpointer        result,
                               GDestroyNotify  destroy);

void client_op_return_reply (GTask        *task,
                             SmtpkitReply *reply);

void client_op_return_true (GTask *task);

SmtpkitSendResult *client_op_finish_send_result (SmtpkitClient  *client,
                                                 GAsyncResult   *result,
                                                 gpointer        source_tag,
                                                 GError        **error);
gpointer client_op_finish (SmtpkitClient  *client,
                           GAsyncResult   *result,
                           gpointer        source_tag,
                           GError        **error);

/* Sends "VERB[ ARG][ OPT]..." and passes the reply to @on_reply; a
 * command that cannot be formatted ends @task with the error. */
void client_op_send (GTask             *task,
                     Phase              phase,
                     ReplyStep          on_reply,
                     const char        *verb,
                     const char        *arg,
                     const char *const *options);

void client_op_command (GTask     *task,
                        GString   *line,
                        GError    *error,
                        gssize     shown,
                        Phase      phase,
                        ReplyStep  on_reply);

void client_op_exchange (GTask               *task,
                         SmtpkitCommandBatch *batch,
                         Phase                phase,
                         RepliesStep          on_replies);

void client_step_return_reply (GTask        *task,
                               SmtpkitReply *reply);

void client_step_fail_after (GTask      *task,
                             const char *verb,
                             GError     *error);

const char *client_hello_name (SmtpkitClient *client,
                               const char    *name);

gboolean client_check_hello_name (const char  *name,
                                  GError     **error);

void client_record_ehlo (SmtpkitClient *client,
                         SmtpkitReply  *reply);

void client_send_hello (GTask      *task,
                        const char *verb,
                        const char *name,
                        ReplyStep   on_reply);

gboolean client_is_2xx (SmtpkitReply *reply);

void client_step_hello_if_needed (GTask *task,
                                  Step   then);

GError *client_reply_error (GTask        *task,
                            SmtpkitError  code,
                            SmtpkitReply *reply,
                            const char   *what);


gboolean client_accept_certificate (SmtpkitClient        *client,
                                    GTlsCertificate      *peer,
                                    GTlsCertificateFlags  errors);
void client_step_tls_handshake (GTask     *task,
                                GIOStream *stream,
                                Step       then);
void client_step_starttls (GTask    *task,
                           gboolean  required,
                           Step      then);
gboolean client_is_secure (SmtpkitClient *client);
gboolean client_is_local (SmtpkitClient *client);
void client_step_auth (GTask                *task,
                       SmtpkitAuthMechanism *mechanism,
                       ReplyStep             then);

GTask *client_transaction_new (SmtpkitClient       *client,
                               gpointer             source_tag,
                               const char          *from_addr,
                               const char *const   *to_addrs,
                               GBytes              *message,
                               GInputStream        *body,
                               gint64               size,
                               const char *const   *mail_options,
                               const char *const   *rcpt_options,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
void client_transaction_run (GTask *task);
/* The message of the transaction. Its size as SIZE declares it and its
 * wire forms are found in one pass, at once for a message that goes in
 * one write, else by client_op_scan_message() when they are needed
 * before the message goes. */
void client_op_set_message (GTask  *task,
                            GBytes *message);
void client_op_scan_message (GTask *task);
GHashTable *client_unknown_outcomes (GTask     *task,
                                     GPtrArray *partial);

gboolean client_check_smtputf8 (SmtpkitClient      *client,
                                const char *const  *options,
                                GError            **error);


G_END_DECLS
