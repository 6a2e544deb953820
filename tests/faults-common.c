/* faults-common.c: what the fault tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "faults-common.h"

#include <string.h>

/* ---- outcomes ------------------------------------------------------------ */

const char *
outcome_name (Outcome outcome)
{
  static const char *const names[] = { "delivered", "refused temporarily",
                                       "refused permanently", "unknown" };

  return names[outcome];
}

/* A recipient map holds the reply of each refused recipient: the message
 * is refused temporarily when any of them may be tried again. */
static Outcome
classify_recipients (GHashTable *recipients)
{
  GHashTableIter iter;
  gpointer reply;

  g_hash_table_iter_init (&iter, recipients);
  while (g_hash_table_iter_next (&iter, NULL, &reply))
    if (reply == NULL || smtpkit_reply_is_transient (reply))
      return OUTCOME_REFUSED_TEMP;
  return OUTCOME_REFUSED_PERM;
}

/* What became of a message, from what sendmail() and the calls before it
 * gave: the refused map of a sendmail() that succeeded, or the error of
 * the first call that failed. Errors without a reply are temporary when
 * the conversation broke (a lost connection, a malformed reply, a
 * timeout), permanent when the server or the arguments cannot do it. */
Outcome
outcome_classify (GHashTable   *refused,
                  const GError *error)
{
  SmtpkitReply *reply;
  GHashTable *recipients;

  if (error == NULL)
    {
      g_assert_nonnull (refused);
      return OUTCOME_DELIVERED;
    }
  if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN))
    return OUTCOME_UNKNOWN;

  reply = smtpkit_error_get_reply (error);
  if (reply != NULL)
    return smtpkit_reply_is_transient (reply) ? OUTCOME_REFUSED_TEMP : OUTCOME_REFUSED_PERM;
  recipients = smtpkit_error_get_recipients (error);
  if (recipients != NULL && g_hash_table_size (recipients) > 0)
    return classify_recipients (recipients);

  if (error->domain == SMTPKIT_ERROR)
    switch ((SmtpkitError) error->code)
      {
      case SMTPKIT_ERROR_NOT_SUPPORTED:
      case SMTPKIT_ERROR_INVALID_ARGUMENT:
      case SMTPKIT_ERROR_AUTHENTICATION:
        return OUTCOME_REFUSED_PERM;
      default:
        return OUTCOME_REFUSED_TEMP;
      }
  /* G_IO_ERROR (timed out, reset, ...), G_TLS_ERROR. */
  return OUTCOME_REFUSED_TEMP;
}

/* ---- names ---------------------------------------------------------------- */

const char *const faults_recipients[FAULTS_N_RECIPIENTS + 1] = {
  "r1@example.net", "r2@example.net", "r3@example.net", NULL
};

const char *
combo_name (Combo combo)
{
  static const char *const names[] = { "plain", "pipelining", "chunking", "pipelining+chunking" };

  return names[combo];
}

const char *
step_name (Step  step,
           Combo combo)
{
  static const char *const names[] = { "greeting", "ehlo", "starttls", "ehlo-tls", "auth",
                                       "mail", "rcpt1", "rcpt2", "rcpt3", "data", NULL };

  if (step == STEP_END)
    return combo & COMBO_CHUNKING ? "bdat-last" : "end-of-data";
  g_assert (step < STEP_END);
  return names[step];
}

const char *
fault_name (Fault fault)
{
  static const char *const names[] = { "4xx", "5xx", "421", "close", "partial", "garbage", "stall" };

  return names[fault];
}

/* ---- the server side ------------------------------------------------------- */

#define MESSAGE "Subject: faults\r\n\r\nhello\r\n"
#define MESSAGE_ESCAPED "Subject: faults\\r\\n\\r\\nhello\\r\\n"
#define MESSAGE_BODY_LINES "  |Subject: faults\n  |\n  |hello\n  |.\n"
/* AUTH PLAIN: NUL alice NUL s3cret. */
#define AUTH_PLAIN "AUTH PLAIN AGFsaWNlAHMzY3JldA=="
#define GARBAGE "\\xff\\xfd\\x18HTTP/1.1 400 Bad Request\\r\\n"

GBytes *
faults_message (void)
{
  return g_bytes_new_static (MESSAGE, strlen (MESSAGE));
}

typedef struct
{
  guint code;
  const char *text;
} Refusal;

/* The 4xx and 5xx reply a server gives at each step. */
static const Refusal refusals[N_STEPS][2] = {
  [STEP_GREETING] = { { 451, "4.3.2 try again later" }, { 554, "5.3.2 no service here" } },
  [STEP_EHLO] = { { 451, "4.3.0 try again later" }, { 500, "5.5.1 command unrecognized" } },
  [STEP_STARTTLS] = { { 454, "4.7.0 TLS not available" }, { 554, "5.3.3 TLS not available" } },
  [STEP_EHLO_TLS] = { { 451, "4.3.0 try again later" }, { 500, "5.5.1 command unrecognized" } },
  [STEP_AUTH] = { { 454, "4.7.0 temporary authentication failure" },
                  { 535, "5.7.8 authentication credentials invalid" } },
  [STEP_MAIL] = { { 451, "4.3.0 try again later" }, { 550, "5.7.1 sender refused" } },
  [STEP_RCPT1] = { { 450, "4.2.1 mailbox busy" }, { 550, "5.1.1 no such user" } },
  [STEP_RCPT2] = { { 450, "4.2.1 mailbox busy" }, { 550, "5.1.1 no such user" } },
  [STEP_RCPT3] = { { 450, "4.2.1 mailbox busy" }, { 550, "5.1.1 no such user" } },
  [STEP_DATA] = { { 451, "4.3.0 try again later" }, { 554, "5.5.1 no valid recipients" } },
  [STEP_END] = { { 451, "4.3.0 error in processing" }, { 554, "5.6.0 content rejected" } },
};

guint
fault_reply_code (Step  step,
                  Fault fault)
{
  switch (fault)
    {
    case FAULT_4XX:
      return refusals[step][0].code;
    case FAULT_5XX:
      return refusals[step][1].code;
    case FAULT_421:
      return 421;
    default:
      return 0;
    }
}

typedef struct
{
  GString *text;
  Combo combo;
  Step step;
  Fault fault;
  gboolean ended;   /* the fault and what follows it are written */
  GString *group;   /* replies to a pipelined group, not yet sent */
} Script;

static void G_GNUC_PRINTF (2, 3)
emit (Script     *script,
      const char *format,
      ...)
{
  va_list args;

  if (script->ended)
    return;
  g_string_append (script->text, "  ");
  va_start (args, format);
  g_string_append_vprintf (script->text, format, args);
  va_end (args);
  g_string_append_c (script->text, '\n');
}

/* Sends what a pipelined group has gathered, in one write. */
static void
flush_group (Script *script)
{
  if (script->group->len > 0)
    emit (script, "send-raw \"%s\"", script->group->str);
  g_string_truncate (script->group, 0);
}

/* A reply (lines separated by LF): gathered in a pipelined group, else
 * sent at once. */
static void
reply_line (Script     *script,
            gboolean    in_group,
            const char *reply)
{
  g_auto (GStrv) lines = g_strsplit (reply, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (in_group)
      g_string_append_printf (script->group, "%s\\r\\n", lines[i]);
    else
      emit (script, "send %s", lines[i]);
}

static void
quit (Script *script)
{
  emit (script, "expect QUIT");
  emit (script, "send 221 2.0.0 Bye");
}

static void
rset_then_quit (Script *script)
{
  emit (script, "expect RSET");
  emit (script, "send 250 2.0.0 Ok");
  quit (script);
}

/* After a refusal (4xx or 5xx) at @step, what a correct client does, up
 * to the end of the conversation; pipelined replies still owed come
 * first. FALSE when the conversation goes on (a refused recipient). */
static gboolean
after_refusal (Script *script,
               Step    step,
               Fault   fault)
{
  const Refusal *refusal = &refusals[step][fault == FAULT_4XX ? 0 : 1];

  switch (step)
    {
    case STEP_GREETING:
      emit (script, "expect-close");
      break;
    case STEP_EHLO:
    case STEP_EHLO_TLS:
      /* HELO instead; a 4xx server refuses it too. After a 5xx to EHLO
       * in clear, HELO offers no STARTTLS: connect() gives up with QUIT.
       * Under TLS, HELO is enough for connect(); login() then finds no
       * AUTH, and the application quits. */
      emit (script, "expect HELO client.test");
      if (fault == FAULT_4XX)
        emit (script, "send %u %s", refusal->code, refusal->text);
      else
        emit (script, "send 250 fake.test");
      quit (script);
      break;
    case STEP_STARTTLS:
    case STEP_AUTH:
      quit (script);
      break;
    case STEP_MAIL:
      if (script->combo & COMBO_PIPELINING)
        {
          /* Every RCPT, and DATA or BDAT. */
          for (guint i = 0; i < FAULTS_N_RECIPIENTS + 1; i++)
            reply_line (script, TRUE, "503 5.5.1 Error: need MAIL command");
          flush_group (script);
        }
      rset_then_quit (script);
      break;
    case STEP_RCPT1:
    case STEP_RCPT2:
    case STEP_RCPT3:
      return FALSE;
    case STEP_DATA:
    case STEP_END:
      flush_group (script);
      rset_then_quit (script);
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* The reply to @step, normally @line; at the fault's step the fault and
 * everything after it. */
static void
answer (Script     *script,
        Step        step,
        gboolean    in_group,
        const char *line)
{
  g_autofree char *refusal = NULL;

  if (script->ended)
    return;
  if (step != script->step)
    {
      reply_line (script, in_group, line);
      return;
    }

  switch (script->fault)
    {
    case FAULT_4XX:
    case FAULT_5XX:
      refusal = g_strdup_printf ("%u %s", fault_reply_code (step, script->fault),
                                 refusals[step][script->fault == FAULT_4XX ? 0 : 1].text);
      reply_line (script, in_group, refusal);
      if (step >= STEP_RCPT1 && step <= STEP_RCPT3)
        return; /* the others are delivered: the conversation goes on */
      if (!in_group || step != STEP_MAIL)
        flush_group (script);
      after_refusal (script, step, script->fault);
      break;
    default:
      /* What the server sends, if anything, and how it ends: it closes,
       * or waits for the client to. After a 421 it closes its side, and
       * anything the client still sends is a mismatch. */
      if (script->fault == FAULT_421)
        reply_line (script, in_group, "421 4.3.2 fake.test closing connection");
      else if (script->fault == FAULT_PARTIAL)
        g_string_append_len (script->group, line, 7);
      else if (script->fault == FAULT_GARBAGE)
        g_string_append (script->group, GARBAGE);
      flush_group (script);
      if (script->fault == FAULT_421)
        emit (script, "shutdown");
      emit (script, script->fault == FAULT_CLOSE || script->fault == FAULT_PARTIAL
                      ? "close" : "expect-close");
      break;
    }
  script->ended = TRUE;
}

static void
mail_transaction (Script *script)
{
  gboolean pipelining = (script->combo & COMBO_PIPELINING) != 0;
  gboolean chunking = (script->combo & COMBO_CHUNKING) != 0;

  emit (script, "expect MAIL FROM:<" FAULTS_SENDER ">");
  if (!pipelining)
    answer (script, STEP_MAIL, FALSE, "250 2.1.0 Ok");
  for (guint i = 0; i < FAULTS_N_RECIPIENTS; i++)
    {
      emit (script, "expect RCPT TO:<%s>", faults_recipients[i]);
      if (!pipelining)
        answer (script, STEP_RCPT1 + i, FALSE, "250 2.1.5 Ok");
    }

  if (chunking)
    {
      emit (script, "expect BDAT %zu LAST", strlen (MESSAGE));
      emit (script, "expect-raw \"" MESSAGE_ESCAPED "\"");
    }
  else
    emit (script, "expect DATA");
  if (pipelining)
    {
      answer (script, STEP_MAIL, TRUE, "250 2.1.0 Ok");
      for (guint i = 0; i < FAULTS_N_RECIPIENTS; i++)
        answer (script, STEP_RCPT1 + i, TRUE, "250 2.1.5 Ok");
    }
  if (!chunking)
    {
      answer (script, STEP_DATA, pipelining, "354 End data with <CR><LF>.<CR><LF>");
      flush_group (script);
      emit (script, "expect-data");
      if (!script->ended)
        g_string_append (script->text, MESSAGE_BODY_LINES);
    }
  answer (script, STEP_END, pipelining && chunking, "250 2.0.0 Ok: queued as 000001");
  flush_group (script);
  quit (script);
}

char *
faults_scenario_text (Combo combo,
                      Step  step,
                      Fault fault)
{
  Script script = { g_string_new ("server:\n"), combo, step, fault, FALSE, g_string_new (NULL) };
  g_autofree char *ehlo = NULL;

  answer (&script, STEP_GREETING, FALSE, "220 fake.test ESMTP");
  emit (&script, "expect EHLO client.test");
  answer (&script, STEP_EHLO, FALSE, "250-fake.test\n250 STARTTLS");
  emit (&script, "expect STARTTLS");
  answer (&script, STEP_STARTTLS, FALSE, "220 2.0.0 Ready to start TLS");
  emit (&script, "starttls");
  emit (&script, "expect EHLO client.test");
  ehlo = g_strdup_printf ("250-fake.test\n%s%s250 AUTH PLAIN",
                          combo & COMBO_PIPELINING ? "250-PIPELINING\n" : "",
                          combo & COMBO_CHUNKING ? "250-CHUNKING\n" : "");
  answer (&script, STEP_EHLO_TLS, FALSE, ehlo);
  emit (&script, "expect " AUTH_PLAIN);
  answer (&script, STEP_AUTH, FALSE, "235 2.7.0 Authentication successful");
  mail_transaction (&script);

  g_string_free (script.group, TRUE);
  return g_string_free (script.text, FALSE);
}

/* ---- the client side ------------------------------------------------------- */

void
run_clear (Run *run)
{
  g_clear_pointer (&run->refused, g_hash_table_unref);
  g_clear_error (&run->error);
  g_clear_error (&run->quit_error);
}

SmtpkitFakeServer *
faults_server_new (const char *scenario_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("faults", scenario_text,
                                                                         &error);
  SmtpkitFakeServer *server;

  g_assert_no_error (error);
  server = smtpkit_fake_server_new_scripted (scenario);
  /* Long enough for any client, short enough that a hung one fails. */
  g_object_set (server, "step-timeout", 5000, NULL);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  return server;
}

/* The fake server's CA, read once: every case trusts the same one, and a
 * long run does not depend on the file staying in the shared /tmp. */
static GTlsDatabase *
fake_ca (void)
{
  static GTlsDatabase *database;
  g_autoptr (GError) error = NULL;

  if (database == NULL)
    database = g_tls_file_database_new (smtpkit_fake_server_get_ca_file (), &error);
  g_assert_no_error (error);
  return database;
}

SmtpkitClient *
faults_client_new (double timeout)
{
  SmtpkitClient *client = smtpkit_client_new ();

  g_assert_true (smtpkit_client_set_local_hostname (client, "client.test", NULL));
  g_assert_true (smtpkit_client_set_timeout (client, timeout, NULL));
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  g_object_set (client, "tls-database", fake_ca (), NULL);
  return client;
}

/* Ends the run at @call when it failed with @error (taken). */
static gboolean
run_failed (Run           *run,
            SmtpkitClient *client,
            Call           call,
            GError        *error,
            gint64         started)
{
  if (error == NULL)
    return FALSE;
  run->failed_call = call;
  run->error = error;
  run->connected_after = smtpkit_client_is_connected (client);
  run->call_seconds = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  return TRUE;
}

static void
quit_if_connected (SmtpkitClient *client)
{
  g_autoptr (SmtpkitReply) bye = NULL;

  if (smtpkit_client_is_connected (client))
    bye = smtpkit_client_quit (client, NULL, NULL);
}

void
faults_run (SmtpkitClient     *client,
            SmtpkitFakeServer *server,
            Run               *run)
{
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", smtpkit_fake_server_get_port (server));
  g_autoptr (GBytes) message = faults_message ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) authenticated = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 call_start = start;
  GError *error = NULL;

  memset (run, 0, sizeof *run);
  run->failed_call = CALL_QUIT;

  greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
  if (run_failed (run, client, CALL_CONNECT, error, call_start))
    goto out;

  call_start = g_get_monotonic_time ();
  authenticated = smtpkit_client_login (client, FAULTS_USER, FAULTS_PASSWORD, NULL, &error);
  if (run_failed (run, client, CALL_LOGIN, error, call_start))
    {
      quit_if_connected (client);
      goto out;
    }

  call_start = g_get_monotonic_time ();
  run->refused = smtpkit_client_sendmail (client, FAULTS_SENDER, faults_recipients, message,
                                          NULL, NULL, NULL, &error);
  if (run_failed (run, client, CALL_SENDMAIL, error, call_start))
    {
      quit_if_connected (client);
      goto out;
    }

  /* The message is delivered whatever becomes of QUIT. */
  bye = smtpkit_client_quit (client, NULL, &run->quit_error);

out:
  run->total_seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}
