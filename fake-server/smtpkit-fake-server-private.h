/* smtpkit-fake-server-private.h: the parts of the fake server
 *
 * smtpkit-fake-conn.c    blocking, buffered I/O on one client connection
 * smtpkit-fake-script.c  plays the server side of a scenario
 * smtpkit-fake-sink.c    the sink: a minimal SMTP server that spools mail
 * smtpkit-fake-rules.c   the sink's steps and the replies set for them
 * smtpkit-fake-mail.c    a message the sink received, and its envelope
 * smtpkit-fake-server.c  the object: listener thread, worker pool, results
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-fake-server.h"
#include "smtpkit-scenario-private.h"

G_BEGIN_DECLS

/* The longest line accepted from a client, CRLF not counted. */
#define SMTPKIT_FAKE_MAX_LINE 65536

/* The first byte of a TLS handshake record (a ClientHello). */
#define SMTPKIT_FAKE_TLS_HANDSHAKE 0x16

/* ---- smtpkit-fake-conn.c ---------------------------------------------- */

/* Every wait for the client (to read, or to write when it does not read)
 * lasts at most the step timeout and fails with G_IO_ERROR_TIMED_OUT;
 * cancelling the cancellable (the server stopping) wakes it at once. A
 * read that hits EOF returns TRUE with what it got, incomplete, and
 * smtpkit_fake_conn_is_eof() tells it so. */
typedef struct _SmtpkitFakeConn SmtpkitFakeConn;

/* Called with the pieces of a DATA body as they are read. */
typedef void (*SmtpkitFakeDataFunc) (const guint8 *data,
                                     gsize         len,
                                     gpointer      user_data);

SmtpkitFakeConn *smtpkit_fake_conn_new (GSocketConnection *connection,
                                        GCancellable      *cancellable,
                                        guint              timeout_ms);
void smtpkit_fake_conn_close (SmtpkitFakeConn *conn);
void smtpkit_fake_conn_drain (SmtpkitFakeConn *conn);
gboolean smtpkit_fake_conn_is_eof (SmtpkitFakeConn *conn);
gboolean smtpkit_fake_conn_write (SmtpkitFakeConn  *conn,
                                  const void       *data,
                                  gsize             len,
                                  GError          **error);
/* The same, held while another complete command is already read: the
 * replies to pipelined commands leave together (RFC 2920 §3). */
gboolean smtpkit_fake_conn_write_pipelined (SmtpkitFakeConn  *conn,
                                            const void       *data,
                                            gsize             len,
                                            GError          **error);
gboolean smtpkit_fake_conn_shutdown (SmtpkitFakeConn  *conn,
                                     GError          **error);
gboolean smtpkit_fake_conn_sleep (SmtpkitFakeConn  *conn,
                                  guint             ms,
                                  GError          **error);
gboolean smtpkit_fake_conn_read_line (SmtpkitFakeConn  *conn,
                                      GByteArray       *line,
                                      GError          **error);
gboolean smtpkit_fake_conn_read_exact (SmtpkitFakeConn  *conn,
                                       gsize             len,
                                       GByteArray       *out,
                                       GError          **error);
gboolean smtpkit_fake_conn_read_data (SmtpkitFakeConn      *conn,
                                      gboolean              unstuff,
                                      SmtpkitFakeDataFunc   func,
                                      gpointer              user_data,
                                      GError              **error);
const guint8 *smtpkit_fake_conn_peek_unread (SmtpkitFakeConn *conn,
                                             gsize           *len);
gboolean smtpkit_fake_conn_is_tls (SmtpkitFakeConn *conn);
gboolean smtpkit_fake_conn_start_tls (SmtpkitFakeConn  *conn,
                                      GTlsCertificate  *certificate,
                                      GError          **error);

/* ---- smtpkit-fake-script.c -------------------------------------------- */

gboolean smtpkit_fake_script_play (SmtpkitFakeServer  *server,
                                   SmtpkitScenario    *scenario,
                                   SmtpkitFakeConn    *conn,
                                   GError            **error);

/* ---- smtpkit-fake-rules.c --------------------------------------------- */

/* The points of a session where a reply can be set or the sink close. */
typedef enum
{
  SMTPKIT_FAKE_STEP_NONE,
  SMTPKIT_FAKE_STEP_GREETING,
  SMTPKIT_FAKE_STEP_EHLO, /* and HELO */
  SMTPKIT_FAKE_STEP_MAIL,
  SMTPKIT_FAKE_STEP_RCPT,
  SMTPKIT_FAKE_STEP_DATA, /* the reply to DATA itself, 354 */
  SMTPKIT_FAKE_STEP_DOT,  /* the reply after the data, or to BDAT LAST */
  SMTPKIT_FAKE_N_STEPS
} SmtpkitFakeStep;

/* "rcpt:*@bad.test=550 5.1.1 No such user": see
 * smtpkit_fake_server_add_reply(). */
typedef struct
{
  SmtpkitFakeStep step;
  GPatternSpec *pattern; /* casefolded; NULL: any */
  char *reply;
} SmtpkitFakeRule;

gboolean smtpkit_fake_step_parse (const char       *name,
                                  SmtpkitFakeStep  *step,
                                  GError          **error);
SmtpkitFakeRule *smtpkit_fake_rule_parse (const char  *text,
                                          GError     **error);
void smtpkit_fake_rule_free (SmtpkitFakeRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitFakeRule, smtpkit_fake_rule_free)
const char *smtpkit_fake_rules_match (GPtrArray       *rules,
                                      SmtpkitFakeStep  step,
                                      const char      *subject);

/* ---- smtpkit-fake-mail.c ---------------------------------------------- */

struct _SmtpkitFakeMail
{
  GObject parent_instance;
  guint index;
  char *path;            /* SPOOL/new/NAME */
  char *envelope_path;   /* SPOOL/envelopes/NAME.json */
  char *sender;
  GStrv mail_parameters;
  GPtrArray *recipients;      /* NULL-terminated: a GStrv */
  GPtrArray *rcpt_parameters; /* a GStrv per recipient */
  char *auth_user;
  gboolean tls;
  char *helo;
  guint64 size;
  GDateTime *received;
};

SmtpkitFakeMail *smtpkit_fake_mail_new (const char *sender,
                                        const char *parameters);
void smtpkit_fake_mail_add_recipient (SmtpkitFakeMail *mail,
                                      const char      *address,
                                      const char      *parameters);
char *smtpkit_fake_mail_to_json (SmtpkitFakeMail *mail);

/* ---- smtpkit-fake-sink.c ---------------------------------------------- */

/* What the sink does, fixed once the server listens. */
typedef struct
{
  const char *hostname;
  const char *spool_dir;
  const char *const *extensions;      /* AUTH left out: the sink offers it */
  GTlsCertificate *certificate;       /* offers STARTTLS, or for implicit TLS */
  gboolean implicit_tls;
  const char *const *auth_mechanisms; /* upper case; NULL: no AUTH */
  GHashTable *users;                  /* user name → password */
  gboolean any_credentials;
  gboolean require_tls;
  gboolean require_auth;
  guint reply_delay;                  /* ms before each reply */
  SmtpkitFakeStep close_after;
  GPtrArray *rules;                   /* of SmtpkitFakeRule */
} SmtpkitFakeSinkConfig;

/* Makes SPOOL/tmp, new, cur and envelopes. */
gboolean smtpkit_fake_sink_make_spool (const char  *spool_dir,
                                       GError     **error);
void smtpkit_fake_sink_serve (SmtpkitFakeServer  *server,
                              SmtpkitFakeConn    *conn,
                              GRand              *faults);

/* ---- smtpkit-fake-tls.c ----------------------------------------------- */

GTlsCertificate *smtpkit_fake_tls_get_certificate (SmtpkitCertKind   kind,
                                                   GError          **error);

/* ---- smtpkit-fake-auth.c ---------------------------------------------- */

/* The server side of one SASL exchange, as a step function: it never does
 * I/O; the player carries the 334 exchange. */
typedef struct _SmtpkitFakeAuth SmtpkitFakeAuth;

typedef enum
{
  SMTPKIT_FAKE_AUTH_CONTINUE, /* send the challenge, step again with the response */
  SMTPKIT_FAKE_AUTH_OK,       /* the credentials verified */
  SMTPKIT_FAKE_AUTH_FAILED,   /* they did not: @message says why */
  SMTPKIT_FAKE_AUTH_ERROR,    /* the client broke the mechanism: @message */
} SmtpkitFakeAuthResult;

SmtpkitFakeAuth *smtpkit_fake_auth_new (const char  *mechanism,
                                        const char  *user,
                                        const char  *password,
                                        GError     **error);
SmtpkitFakeAuth *smtpkit_fake_auth_new_for_users (const char  *mechanism,
                                                  GHashTable  *users,
                                                  gboolean     any,
                                                  GError     **error);
const char *smtpkit_fake_auth_get_user (SmtpkitFakeAuth *auth);
GBytes *smtpkit_fake_auth_decode_response (const char *text,
                                           gboolean    initial);
SmtpkitFakeAuthResult smtpkit_fake_auth_step (SmtpkitFakeAuth  *auth,
                                              GBytes           *response,
                                              GBytes          **challenge,
                                              char            **message);
void smtpkit_fake_auth_free (SmtpkitFakeAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitFakeAuth, smtpkit_fake_auth_free)
GBytes *smtpkit_fake_auth_decode_base64 (const char *text);

/* ---- smtpkit-fake-server.c, for the parts above ------------------------ */

const char *smtpkit_fake_server_private_dir (GError **error);

void smtpkit_fake_server_add_transcript (SmtpkitFakeServer *server,
                                         const char        *line);
guint smtpkit_fake_server_next_message_index (SmtpkitFakeServer *server);
/* The fault for the next reply, drawn from @faults (NULL: none); with
 * @may_refuse FALSE, a 4xx drawn is none. */
SmtpkitFakeFault smtpkit_fake_server_draw_fault (SmtpkitFakeServer *server,
                                                 GRand             *faults,
                                                 gboolean           may_refuse);
void smtpkit_fake_server_message_received (SmtpkitFakeServer *server,
                                           SmtpkitFakeMail   *mail);
gboolean smtpkit_fake_server_prepare_sink (SmtpkitFakeServer  *server,
                                           GError            **error);
const SmtpkitFakeSinkConfig *smtpkit_fake_server_get_sink_config (SmtpkitFakeServer *server);

gboolean smtpkit_fake_server_get_any_case (SmtpkitFakeServer *server);

G_END_DECLS
