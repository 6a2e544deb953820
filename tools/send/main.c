/* main.c: smtpkit-send, a mailer with sendmail's command line
 *
 * Reads one message, sends it to the account's server (SMTP, submission
 * or LMTP), and says why in one line and a sysexits.h status when it
 * could not. With a queue, a temporary failure is kept for --flush and a
 * permanent one buried in dead.letter/.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "send-config.h"
#include "send-exit.h"
#include "send-message.h"
#include "send-progress.h"

typedef struct
{
  char *account;
  char *config;
  char *server;
  char *user;
  char *password_file;
  char *tls;
  char *ca_file;
  char *from;
  char *full_name;
  char *file;
  char *timeout;
  char *queue;
  char *auth;
  char *local_hostname;
  char *store_password;
  char *notify;
  char *ret;
  char *subject;
  char *body;
  gboolean from_headers;
  gboolean flush;
  gboolean version;
  gboolean ignored;
  int verbose;
  char **recipients;
} Options;

static void
options_clear (Options *options)
{
  char **strings[] = {
    &options->account, &options->config, &options->server, &options->user,
    &options->password_file, &options->tls, &options->ca_file, &options->from,
    &options->full_name, &options->file, &options->timeout, &options->queue,
    &options->auth, &options->local_hostname, &options->store_password, &options->notify,
    &options->ret, &options->subject, &options->body,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    g_clear_pointer (strings[i], g_free);
  g_clear_pointer (&options->recipients, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* What one delivery needs, whether it comes from the command line or
 * from the queue. */
typedef struct
{
  GMimeMessage *message;
  char *sender;
  char **recipients;
  char **mail_options;
  char **rcpt_options;
  guint64 size;
} Job;

static void
job_clear (Job *job)
{
  g_clear_object (&job->message);
  g_clear_pointer (&job->sender, g_free);
  g_clear_pointer (&job->recipients, g_strfreev);
  g_clear_pointer (&job->mail_options, g_strfreev);
  g_clear_pointer (&job->rcpt_options, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Job, job_clear)

/* ---- the transcript ------------------------------------------------------ */

/* The library logs its transcript ("C: …", "S: …", AUTH redacted) as
 * structured messages; -v shows them as bare lines on stderr rather than
 * with GLib's "Smtpkit-Message: <time>:" prefix. */
static GLogWriterOutput
transcript_writer (GLogLevelFlags   log_level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;
  gboolean transcript = FALSE;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "SMTPKIT_DIRECTION") == 0)
        transcript = TRUE;
    }

  if (transcript && message != NULL && g_strcmp0 (domain, "Smtpkit") == 0 &&
      (log_level & G_LOG_LEVEL_MASK) == G_LOG_LEVEL_MESSAGE)
    {
      fprintf (stderr, "%s\n", message);
      fflush (stderr);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* ---- the command line ---------------------------------------------------- */

/* GOptionContext knows neither sendmail's -oX options nor -bX modes:
 * they become long options it does know, and the rest is refused by
 * name instead of being taken for a cluster of short flags. */
static char **
sendmail_argv (int      argc,
               char   **argv,
               GError **error)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  gboolean options_done = FALSE;

  for (int i = 0; i < argc; i++)
    {
      const char *arg = argv[i];

      if (i == 0 || options_done || arg[0] != '-')
        g_strv_builder_add (out, arg);
      else if (g_str_equal (arg, "--"))
        {
          options_done = TRUE;
          g_strv_builder_add (out, arg);
        }
      else if (g_str_equal (arg, "-oi"))
        g_strv_builder_add (out, "-i");
      else if (g_str_equal (arg, "-odi") || g_str_equal (arg, "-oem") || g_str_equal (arg, "-bm"))
        g_strv_builder_add (out, "--sendmail-ignored");
      else if (g_str_equal (arg, "-q"))
        g_strv_builder_add (out, "--flush");
      else if (g_str_has_prefix (arg, "-o") || g_str_has_prefix (arg, "-b"))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                       "sendmail's %s is not supported (-oi, -odi, -oem and -bm are)", arg);
          return NULL;
        }
      else
        g_strv_builder_add (out, arg);
    }

  return g_strv_builder_end (out);
}

static gboolean
count_verbose (const char  *name,
               const char  *value,
               gpointer     data,
               GError     **error)
{
  Options *options = data;

  options->verbose = MIN (options->verbose + 1, 2);
  return TRUE;
}

static GOptionContext *
option_context_new (Options *options)
{
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &options->account,
      "The account of accounts.conf to send with", "NAME" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &options->config,
      "The accounts file (default: $XDG_CONFIG_HOME/smtpkit/accounts.conf)", "FILE" },
    { "server", 0, 0, G_OPTION_ARG_STRING, &options->server,
      "smtp://HOST[:PORT], smtps://HOST[:PORT], lmtp:///SOCKET or lmtp://HOST[:PORT]", "URI" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &options->user,
      "Authenticate as this user", "NAME" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &options->password_file,
      "Read the password from this file (mode 0600)", "FILE" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &options->tls,
      "none, starttls, opportunistic or implicit", "MODE" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options->ca_file,
      "Trust the certificate authorities in this PEM file instead of the system's", "FILE" },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &options->auth,
      "Allow only these SASL mechanisms, in this order (comma-separated)", "MECHS" },
    { "from", 'f', 0, G_OPTION_ARG_STRING, &options->from,
      "The envelope sender (and From, when the message has none)", "ADDRESS" },
    { "full-name", 'F', 0, G_OPTION_ARG_STRING, &options->full_name,
      "The full name of a From header added to the message", "NAME" },
    { "read-recipients", 't', 0, G_OPTION_ARG_NONE, &options->from_headers,
      "Send to the To, Cc and Bcc addresses too", NULL },
    { "notify", 'N', 0, G_OPTION_ARG_STRING, &options->notify,
      "DSN: never, or success,failure,delay", "WHEN" },
    { "return", 'R', 0, G_OPTION_ARG_STRING, &options->ret,
      "DSN: return the full message or its headers", "full|hdrs" },
    { "ignore-dots", 'i', 0, G_OPTION_ARG_NONE, &options->ignored,
      "A lone dot does not end the message (always so)", NULL },
    { "sendmail-ignored", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &options->ignored,
      NULL, NULL },
    { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, count_verbose,
      "Print the SMTP transcript on stderr (twice: with times)", NULL },
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &options->file,
      "The message, headers included (default: standard input)", "FILE" },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &options->subject,
      "Build a message with this subject instead of reading one", "TEXT" },
    { "body", 0, 0, G_OPTION_ARG_STRING, &options->body,
      "Build a message with this body instead of reading one", "TEXT" },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &options->timeout,
      "Bound of each wait for the server (default: RFC 5321's times)", "SECONDS" },
    { "local-hostname", 0, 0, G_OPTION_ARG_STRING, &options->local_hostname,
      "The name to send with EHLO/LHLO (default: this host's FQDN)", "NAME" },
    { "queue", 0, 0, G_OPTION_ARG_FILENAME, &options->queue,
      "Keep a message that failed for now in DIR", "DIR" },
    { "flush", 0, 0, G_OPTION_ARG_NONE, &options->flush,
      "Send the messages of the queue", NULL },
    { "store-password", 0, 0, G_OPTION_ARG_STRING, &options->store_password,
      "Store the password read from stdin in the keyring for ACCOUNT", "ACCOUNT" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version,
      "Print the version and exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->recipients,
      NULL, "RECIPIENT…" },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *context = g_option_context_new (NULL);
  GOptionGroup *group = g_option_group_new (NULL, NULL, NULL, options, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  g_option_context_set_summary (context,
                                "Send one message over SMTP, submission or LMTP; "
                                "a replacement for sendmail.");
  g_option_context_set_description (context,
                                    "Exit status as sysexits.h: 0 sent (or queued), 64 usage, "
                                    "65 malformed message,\n68 unknown host, 69 refused, 75 try "
                                    "again later, 76 protocol error,\n77 authentication, 78 "
                                    "configuration. See smtpkit-send(1).\n");
  return context;
}

static gboolean
check_options (const Options  *options,
               GError        **error)
{
  if (options->file != NULL && (options->subject != NULL || options->body != NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--subject and --body build a message; they cannot be used with --file");
      return FALSE;
    }
  if (options->subject != NULL && strpbrk (options->subject, "\r\n") != NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--subject must not contain line breaks");
      return FALSE;
    }
  return TRUE;
}

/* ---- the account --------------------------------------------------------- */

/* The account @name (or the default one) with the command line on top. */
static SendAccount *
load_account (const Options  *options,
              const char     *name,
              GError        **error)
{
  const struct
  {
    const char *key;
    const char *value;
  } keys[] = {
    { "server", options->server },   { "user", options->user },
    { "password-file", options->password_file }, { "tls", options->tls },
    { "ca-file", options->ca_file }, { "from", options->from },
    { "timeout", options->timeout }, { "queue", options->queue },
    { "auth", options->auth },       { "helo", options->local_hostname },
    { "dsn-notify", options->notify }, { "dsn-return", options->ret },
  };
  g_autoptr (SendAccount) account = send_account_load (options->config, name, error);

  if (account == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].value != NULL && !send_account_set (account, keys[i].key, keys[i].value, error))
      return NULL;
  if (!send_account_finish (account, error))
    return NULL;
  return g_steal_pointer (&account);
}

/* The DSN parameters as RFC 3461 writes them; sent only to a server that
 * offers DSN (see dsn_offered()). */
static void
job_set_dsn (Job               *job,
             const SendAccount *account)
{
  g_autoptr (GStrvBuilder) mail = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) rcpt = g_strv_builder_new ();

  if (account->dsn_return == SMTPKIT_DSN_RET_FULL)
    g_strv_builder_add (mail, "RET=FULL");
  else if (account->dsn_return == SMTPKIT_DSN_RET_HDRS)
    g_strv_builder_add (mail, "RET=HDRS");

  if (account->dsn_notify & SMTPKIT_DSN_NOTIFY_NEVER)
    g_strv_builder_add (rcpt, "NOTIFY=NEVER");
  else if (account->dsn_notify != SMTPKIT_DSN_NOTIFY_UNSET)
    {
      g_autoptr (GStrvBuilder) when = g_strv_builder_new ();
      g_auto (GStrv) words = NULL;
      g_autofree char *joined = NULL;
      g_autofree char *option = NULL;

      if (account->dsn_notify & SMTPKIT_DSN_NOTIFY_SUCCESS)
        g_strv_builder_add (when, "SUCCESS");
      if (account->dsn_notify & SMTPKIT_DSN_NOTIFY_FAILURE)
        g_strv_builder_add (when, "FAILURE");
      if (account->dsn_notify & SMTPKIT_DSN_NOTIFY_DELAY)
        g_strv_builder_add (when, "DELAY");
      words = g_strv_builder_end (when);
      joined = g_strjoinv (",", words);
      option = g_strconcat ("NOTIFY=", joined, NULL);
      g_strv_builder_add (rcpt, option);
    }
  job->mail_options = g_strv_builder_end (mail);
  job->rcpt_options = g_strv_builder_end (rcpt);
}

/* ---- sending --------------------------------------------------------------- */

static SmtpkitClient *
client_new (const SendAccount  *account,
            int                 verbose,
            GError            **error)
{
  g_autoptr (SmtpkitClient) client = account->lmtp ? smtpkit_lmtp_client_new ()
                                                   : smtpkit_client_new ();

  smtpkit_client_set_debug_level (client, verbose);
  smtpkit_client_set_tls_mode (client, account->tls_mode);
  smtpkit_client_set_tls_ca_file (client, account->ca_file);
  /* A mailer sends what it is given: 8-bit content goes converted to a
   * server without 8BITMIME rather than not at all. */
  g_object_set (client, "convert-8bit", TRUE, NULL);
  if (account->timeout >= 0 && !smtpkit_client_set_timeout (client, account->timeout, error))
    return NULL;
  if (account->local_hostname != NULL &&
      !smtpkit_client_set_local_hostname (client, account->local_hostname, error))
    return NULL;
  return g_steal_pointer (&client);
}

static gboolean
offered (const char *auth,
         const char *mechanism)
{
  g_auto (GStrv) names = g_strsplit_set (auth ? auth : "", " \t", -1);

  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (names[i], mechanism) == 0)
      return TRUE;
  return FALSE;
}

/* login() picks the strongest mechanism itself; "auth" restricts the
 * choice to the first of the account's list the server offers. */
static gboolean
authenticate (SmtpkitClient      *client,
              const SendAccount  *account,
              const char         *password,
              GError            **error)
{
  g_autoptr (SmtpkitReply) reply = NULL;
  const char *auth;

  if (account->auth == NULL)
    {
      reply = smtpkit_client_login (client, account->user, password, NULL, error);
      return reply != NULL;
    }
  if (!smtpkit_client_ehlo_or_helo_if_needed (client, NULL, error))
    return FALSE;
  auth = smtpkit_client_get_extension_parameter (client, "auth");
  auth = auth ? auth + strspn (auth, " ") : "(nothing)";
  for (guint i = 0; account->auth[i] != NULL; i++)
    {
      g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;

      if (!offered (auth, account->auth[i]))
        continue;
      mechanism = smtpkit_auth_mechanism_new_for_name (account->auth[i], error);
      if (mechanism == NULL)
        return FALSE;
      g_object_set (mechanism, "username", account->user, "password", password, NULL);
      reply = smtpkit_client_auth (client, mechanism, NULL, error);
      return reply != NULL;
    }
  g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
               "the server offers AUTH %s, none of the mechanisms the account allows", auth);
  return FALSE;
}

/* Port 0 is the scheme's default. The library's own for LMTP is 2003
 * (RFC 2033 §5's example); lmtp:// URIs mean IANA's port 24. */
static guint16
server_port (const SendAccount *account)
{
  if (account->port == 0 && account->lmtp && account->host != NULL)
    return 24;
  return account->port;
}

/* RFC 3461 parameters go only where DSN is offered: elsewhere the server
 * would refuse them, and the message is worth more than the receipt. */
static const char *const *
dsn_offered (SmtpkitClient *client,
             char         **options)
{
  return smtpkit_client_has_extn (client, "dsn") ? (const char *const *) options : NULL;
}

/* One session: connect, authenticate with @password (NULL: not at
 * all), send, quit. */
static GHashTable *
converse (const SendAccount  *account,
          const char         *password,
          const Job          *job,
          int                 verbose,
          GError            **error)
{
  g_autoptr (SmtpkitClient) client = client_new (account, verbose, error);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (SendProgress) progress = NULL;
  GHashTable *refused = NULL;

  if (client == NULL)
    return NULL;
  greeting = smtpkit_client_connect (client, account->socket_path ? account->socket_path
                                                                  : account->host,
                                     server_port (account), NULL, error);
  if (greeting != NULL && smtpkit_client_ehlo_or_helo_if_needed (client, NULL, error) &&
      (password == NULL || authenticate (client, account, password, error)))
    {
      progress = send_progress_start (client, job->size);
      refused = smtpkit_client_send_message (client, job->message, job->sender,
                                             (const char *const *) job->recipients,
                                             dsn_offered (client, job->mail_options),
                                             dsn_offered (client, job->rcpt_options), NULL,
                                             error);
      g_clear_pointer (&progress, send_progress_stop);
    }

  /* Even after a failure the session ends politely; a failing QUIT does
   * not undo a delivery. */
  if (smtpkit_client_is_connected (client))
    bye = smtpkit_client_quit (client, NULL, NULL);
  return refused;
}

/* The one place a message is sent: for the command line and for each
 * entry of a --flush alike. The password is had first, so that a missing
 * or unsafe one fails before any connection. Returns the refused
 * recipients (empty when all accepted), or NULL with @error set. */
static GHashTable *
deliver (const SendAccount  *account,
         const Job          *job,
         int                 verbose,
         GError            **error)
{
  char *password = NULL;
  GHashTable *refused;

  if (account->user != NULL && (password = send_account_get_password (account, error)) == NULL)
    return NULL;
  refused = converse (account, password, job, verbose, error);
  send_password_free (password);
  return refused;
}

/* ---- the outcome ------------------------------------------------------------- */

typedef struct
{
  const Options *options;
  const SendAccount *account;
  const char *queue;
  gboolean flushing;
  guint partly_buried;     /* --flush: entries some of whose recipients
                            * were refused for good */
} Context;

static SendQueueEntry *
entry_new (const Context       *context,
           const Job           *job,
           const char *const   *recipients,
           const char          *reason)
{
  SendQueueEntry *entry = g_new0 (SendQueueEntry, 1);

  entry->sender = g_strdup (job->sender);
  entry->recipients = g_strdupv ((char **) recipients);
  entry->mail_options = g_strdupv (job->mail_options);
  entry->rcpt_options = g_strdupv (job->rcpt_options);
  entry->account = g_strdup (context->account->name);
  entry->reason = g_strdup (reason);
  entry->message = send_message_to_bytes (job->message);
  return entry;
}

/* Keeps @recipients of @job in the queue for a later --flush (status 0),
 * or, @for_good, buries them in its dead.letter/ (EX_UNAVAILABLE all the
 * same: the refusal stands). A queue that cannot be written has a status
 * of its own. */
static int
shelve (const Context       *context,
        const Job           *job,
        const char *const   *recipients,
        const char          *reason,
        gboolean             for_good)
{
  g_autoptr (SendQueueEntry) entry = entry_new (context, job, recipients, reason);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean ok = for_good ? send_queue_bury (context->queue, NULL, entry, reason, &error)
                         : (path = send_queue_store (context->queue, entry, &error)) != NULL;

  if (!ok)
    {
      send_exit_report (error);
      return for_good ? EX_UNAVAILABLE : send_exit_status (error);
    }
  if (for_good)
    g_printerr ("%s: kept in %s/dead.letter/\n", g_get_prgname (), context->queue);
  else
    g_printerr ("%s: queued in %s for a later --flush\n", g_get_prgname (), context->queue);
  return for_good ? EX_UNAVAILABLE : EX_OK;
}

/* The refused recipients of one class (4xx/no reply, or 5xx). */
static char **
refused_of_class (GHashTable *refused,
                  int         status)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer address, reply;

  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, &address, &reply))
    if (send_exit_status_of_reply (reply) == status)
      g_strv_builder_add (builder, address);
  return g_strv_builder_end (builder);
}

/* Why @recipients were refused: "ADDRESS: CODE TEXT; …". */
static char *
refusal_reason (GHashTable  *refused,
                char       **recipients)
{
  g_autoptr (GString) reason = g_string_new (NULL);

  for (guint i = 0; recipients[i] != NULL; i++)
    {
      SmtpkitReply *reply = g_hash_table_lookup (refused, recipients[i]);

      g_string_append_printf (reason, "%s%s: ", i > 0 ? "; " : "", recipients[i]);
      if (reply != NULL)
        g_string_append_printf (reason, "%u %s", smtpkit_reply_get_code (reply),
                                smtpkit_reply_get_text (reply));
      else
        g_string_append (reason, "no reply");
    }
  return g_string_free (g_steal_pointer (&reason), FALSE);
}

/* Some recipients refused, the others accepted: those refused for now
 * are queued when there is a queue, those refused for good buried. The
 * status is 0 only when nobody was refused for good and nothing is left
 * to try again without a queue. */
static int
settle_refused (const Context *context,
                const Job     *job,
                GHashTable    *refused)
{
  g_auto (GStrv) later = refused_of_class (refused, EX_TEMPFAIL);
  g_auto (GStrv) never = refused_of_class (refused, EX_UNAVAILABLE);
  guint n = g_strv_length (job->recipients);
  int status = EX_OK;

  send_exit_report_refused (refused);
  g_printerr ("%s: delivered to %u of %u recipients\n", g_get_prgname (),
              n - g_hash_table_size (refused), n);
  if (later[0] != NULL)
    {
      g_autofree char *reason = refusal_reason (refused, later);

      status = context->queue ? shelve (context, job, (const char *const *) later, reason, FALSE)
                              : EX_TEMPFAIL;
    }
  if (never[0] != NULL)
    {
      g_autofree char *reason = refusal_reason (refused, never);

      status = context->queue ? shelve (context, job, (const char *const *) never, reason, TRUE)
                              : EX_UNAVAILABLE;
    }
  return status;
}

/* What to do after deliver(): report, queue or bury, and the status. A
 * failure of a message that came from the queue is left to
 * send_queue_flush(), which keeps or buries the entry itself. */
static int
settle (const Context *context,
        const Job     *job,
        GHashTable    *refused,
        const GError  *error)
{
  int status;

  if (refused != NULL)
    return g_hash_table_size (refused) == 0 ? EX_OK : settle_refused (context, job, refused);

  send_exit_report (error);
  status = send_exit_status (error);
  if (context->queue == NULL || context->flushing)
    return status;
  if (status == EX_TEMPFAIL || status == EX_UNAVAILABLE)
    return shelve (context, job, (const char *const *) job->recipients, error->message,
                   status == EX_UNAVAILABLE);
  return status;
}

static int
send_job (const Context *context,
          const Job     *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = deliver (context->account, job, context->options->verbose,
                                            &error);

  return settle (context, job, refused, error);
}

/* ---- the message of the command line ------------------------------------------ */

static GMimeMessage *
read_message (const Options  *options,
              guint64        *size,
              GError        **error)
{
  g_autoptr (GBytes) input = NULL;

  if (options->subject != NULL || options->body != NULL)
    {
      *size = 0;
      return send_message_build (options->subject, options->body,
                                 (const char *const *) options->recipients);
    }
  input = send_message_read (options->file, error);
  if (input == NULL)
    return NULL;
  *size = g_bytes_get_size (input);
  return send_message_parse (input, error);
}

static gboolean
job_init (Job               *job,
          const Options     *options,
          const SendAccount *account,
          GError           **error)
{
  job->message = read_message (options, &job->size, error);
  if (job->message == NULL)
    return FALSE;
  job->sender = account->from ? g_strdup (account->from) : send_message_get_sender (job->message);
  if (job->sender == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "no sender: give -f ADDRESS, set from in the account, or write a "
                           "From header");
      return FALSE;
    }
  send_message_complete (job->message, job->sender, options->full_name);
  job->recipients = send_message_get_recipients (job->message, options->from_headers,
                                                 (const char *const *) options->recipients,
                                                 error);
  if (job->recipients == NULL)
    return FALSE;
  if (job->recipients[0] == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           options->from_headers
                             ? "no recipients: the message has no To, Cc or Bcc address"
                             : "no recipients: give them as arguments, or -t");
      return FALSE;
    }
  /* Bcc never leaves this machine, not even in the queue. */
  send_message_strip_bcc (job->message);
  job_set_dsn (job, account);
  return TRUE;
}

static int
fail (const GError *error)
{
  send_exit_report (error);
  return send_exit_status (error);
}

static int
run_send (const Options *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SendAccount) account = load_account (options, options->account, &error);
  g_auto (Job) job = { 0 };
  Context context = { options, account, NULL, FALSE, 0 };

  if (account == NULL || !job_init (&job, options, account, &error))
    return fail (error);
  context.queue = account->queue;
  return send_job (&context, &job);
}

/* ---- --flush --------------------------------------------------------------------- */

static int
deliver_queued (const SendQueueEntry  *entry,
                char                 **reason,
                gpointer               user_data)
{
  Context *context = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SendAccount) account = load_account (context->options, entry->account, &error);
  g_auto (Job) job = { 0 };
  g_autoptr (GHashTable) refused = NULL;
  Context mine = *context;
  int status;

  if (account == NULL)
    {
      send_exit_report (error);
      return 1;
    }
  job.message = send_message_parse (entry->message, &error);
  if (job.message == NULL)
    {
      *reason = g_strdup (error->message);
      return -1;
    }
  job.sender = g_strdup (entry->sender);
  job.recipients = g_strdupv (entry->recipients);
  job.mail_options = g_strdupv (entry->mail_options);
  job.rcpt_options = g_strdupv (entry->rcpt_options);
  job.size = g_bytes_get_size (entry->message);
  mine.account = account;

  refused = deliver (account, &job, context->options->verbose, &error);
  status = settle (&mine, &job, refused, error);
  /* Accepted by some: the entry has done its work, and settle() queued
   * or buried the refused ones anew. Burying the whole entry would put
   * the accepted recipients in dead.letter/ too. */
  if (refused != NULL && status == EX_UNAVAILABLE)
    context->partly_buried++;
  if (refused != NULL || status == EX_OK)
    return 0;
  if (status == EX_UNAVAILABLE || status == EX_DATAERR)
    {
      *reason = g_strdup (error->message);
      return -1;
    }
  return 1;
}

static int
run_flush (const Options *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SendAccount) account = NULL;
  Context context = { options, NULL, NULL, TRUE, 0 };
  guint delivered = 0, kept = 0, buried = 0;

  if (options->queue != NULL)
    context.queue = options->queue;
  else if ((account = load_account (options, options->account, &error)) != NULL)
    context.queue = account->queue;
  else
    return fail (error);
  if (context.queue == NULL)
    {
      g_printerr ("%s: --flush needs --queue DIR or an account with a queue\n",
                  g_get_prgname ());
      return EX_USAGE;
    }
  if (!send_queue_flush (context.queue, deliver_queued, &context, &delivered, &kept, &buried,
                         &error))
    return fail (error);
  g_printerr ("%s: %u delivered, %u kept, %u buried in dead.letter/\n", g_get_prgname (),
              delivered, kept, buried);
  if (context.partly_buried > 0)
    g_printerr ("%s: %u of the delivered refused by some recipients for good\n",
                g_get_prgname (), context.partly_buried);
  if (kept > 0)
    return EX_TEMPFAIL;
  return buried > 0 || context.partly_buried > 0 ? EX_UNAVAILABLE : EX_OK;
}

/* ---- --store-password ------------------------------------------------------------ */

/* The first line of stdin; not echoed when stdin is a terminal. */
static char *
read_password (const SendAccount *account)
{
  struct termios saved, quiet;
  gboolean terminal = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  char line[1024];
  char *password = NULL;

  if (terminal)
    {
      g_printerr ("Password for %s at %s: ", account->user, account->server);
      quiet = saved;
      quiet.c_lflag &= ~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  if (fgets (line, sizeof line, stdin) != NULL)
    password = g_strndup (line, strcspn (line, "\r\n"));
  if (terminal)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }
  explicit_bzero (line, sizeof line);
  return password;
}

static int
run_store_password (const Options *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SendAccount) account = load_account (options, options->store_password, &error);
  char *password;
  gboolean ok;

  if (account == NULL)
    return fail (error);
  if (account->user == NULL)
    {
      g_printerr ("%s: the account %s has no user\n", g_get_prgname (), options->store_password);
      return EX_CONFIG;
    }
  password = read_password (account);
  if (password == NULL)
    {
      g_printerr ("%s: no password on standard input\n", g_get_prgname ());
      return EX_NOINPUT;
    }
  ok = send_password_store (account, password, &error);
  send_password_free (password);
  return ok ? EX_OK : fail (error);
}

/* ---- main -------------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  g_auto (Options) options = { 0 };
  g_autoptr (GOptionContext) context = option_context_new (&options);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) args = NULL;
  g_autofree char *name = g_path_get_basename (argv[0]);
  int status;

  setlocale (LC_ALL, "");
  /* As sendmail, the messages say "sendmail: …", which is what cron and
   * git send-email users look for. */
  g_set_prgname (g_str_equal (name, "sendmail") ? "sendmail" : "smtpkit-send");

  args = sendmail_argv (argc, argv, &error);
  if (args == NULL || !g_option_context_parse_strv (context, &args, &error) ||
      !check_options (&options, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      g_printerr ("Try “%s --help” for more information.\n", g_get_prgname ());
      return EX_USAGE;
    }
  if (options.version)
    {
      g_print ("smtpkit-send %s (libsmtpkit)\n", PACKAGE_VERSION);
      return EX_OK;
    }

  g_log_set_writer_func (transcript_writer, NULL, NULL);
  g_mime_init ();
  if (options.store_password != NULL)
    status = run_store_password (&options);
  else if (options.flush)
    status = run_flush (&options);
  else
    status = run_send (&options);
  g_mime_shutdown ();
  return status;
}
