/* test-faults.c: the fault matrix
 *
 * One conversation — STARTTLS, AUTH PLAIN, a message to three recipients —
 * with the fake server failing at one step: each step of the conversation
 * times each fault (a 4xx, 5xx or 421 reply, closing without a reply,
 * part of a line then closing, bytes that are not SMTP, no reply until
 * the client gives up), with and without PIPELINING and CHUNKING offered.
 * One test per combination, /faults/COMBO/STEP/FAULT, checks what the
 * application sees (delivered, refused temporarily or permanently,
 * unknown; the error and its reply), that the client gave up within its
 * timeout, that a broken connection is not used again, and, through the
 * scenario the server plays, every byte the client sent after the fault.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "faults-common.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Under AddressSanitizer a TLS handshake alone can take most of a
 * second on a loaded machine; under valgrind more. Below the fake
 * server's 5 s step timeout, so that a stall stays a stall. */
#if defined(__SANITIZE_ADDRESS__)
#define CLIENT_TIMEOUT 2.0
#else
#define CLIENT_TIMEOUT (RUNNING_ON_VALGRIND ? 3.0 : 0.5)
#endif
/* A client that has not given up by then hangs. */
#define HANG_SECONDS (CLIENT_TIMEOUT + 4.0)

typedef struct
{
  Combo combo;
  Step step;
  Fault fault;
} Case;

typedef struct
{
  Outcome outcome;
  Call call;            /* the call that fails; CALL_QUIT: none */
  GQuark domain;
  gint code;
  guint reply_code;     /* 0: no reply attached */
  gboolean connected;   /* after the failure */
  Step refused_rcpt;    /* the recipient in the refused map, or STEP_NONE */
  gboolean unknown_rcpts; /* the error names the three recipients */
} Expected;

static gboolean
is_rcpt (Step step)
{
  return step >= STEP_RCPT1 && step <= STEP_RCPT3;
}

static Call
call_of_step (Step step)
{
  if (step <= STEP_EHLO_TLS)
    return CALL_CONNECT;
  return step == STEP_AUTH ? CALL_LOGIN : CALL_SENDMAIL;
}

/* The error of a 4xx, 5xx or 421 reply at @step. */
static SmtpkitError
reply_error (Step step)
{
  static const SmtpkitError codes[] = {
    [STEP_GREETING] = SMTPKIT_ERROR_CONNECT,
    [STEP_EHLO] = SMTPKIT_ERROR_HELO,
    [STEP_STARTTLS] = SMTPKIT_ERROR_RESPONSE,
    [STEP_EHLO_TLS] = SMTPKIT_ERROR_HELO,
    [STEP_AUTH] = SMTPKIT_ERROR_AUTHENTICATION,
    [STEP_MAIL] = SMTPKIT_ERROR_SENDER_REFUSED,
    [STEP_RCPT1] = SMTPKIT_ERROR_RECIPIENTS_REFUSED,
    [STEP_RCPT2] = SMTPKIT_ERROR_RECIPIENTS_REFUSED,
    [STEP_RCPT3] = SMTPKIT_ERROR_RECIPIENTS_REFUSED,
    [STEP_DATA] = SMTPKIT_ERROR_DATA,
    [STEP_END] = SMTPKIT_ERROR_DATA,
  };

  return codes[step];
}

/* The table of expected outcomes, as rules. */
static Expected
expected_outcome (const Case *c)
{
  Expected e = { .call = call_of_step (c->step), .domain = SMTPKIT_ERROR,
                 .refused_rcpt = STEP_NONE };
  guint code = fault_reply_code (c->step, c->fault);

  switch (c->fault)
    {
    case FAULT_4XX:
    case FAULT_5XX:
    case FAULT_421:
      e.outcome = code < 500 ? OUTCOME_REFUSED_TEMP : OUTCOME_REFUSED_PERM;
      e.code = reply_error (c->step);
      e.reply_code = code;
      /* A refusal keeps the session; connect() gives up with QUIT. */
      e.connected = c->fault != FAULT_421 && e.call != CALL_CONNECT;
      if (is_rcpt (c->step) && c->fault != FAULT_421)
        {
          /* Delivered to the other two. */
          e.outcome = OUTCOME_DELIVERED;
          e.call = CALL_QUIT;
          e.refused_rcpt = c->step;
          e.connected = TRUE;
        }
      else if ((c->step == STEP_EHLO || c->step == STEP_EHLO_TLS) && c->fault == FAULT_5XX)
        {
          /* HELO instead, which offers neither STARTTLS nor AUTH. */
          e.code = SMTPKIT_ERROR_NOT_SUPPORTED;
          e.reply_code = 0;
          if (c->step == STEP_EHLO_TLS)
            {
              e.call = CALL_LOGIN;
              e.connected = TRUE;
            }
        }
      break;
    case FAULT_CLOSE:
    case FAULT_PARTIAL:
      e.outcome = OUTCOME_REFUSED_TEMP;
      e.code = SMTPKIT_ERROR_SERVER_DISCONNECTED;
      break;
    case FAULT_GARBAGE:
      e.outcome = OUTCOME_REFUSED_TEMP;
      e.code = SMTPKIT_ERROR_PROTOCOL;
      break;
    case FAULT_STALL:
      e.outcome = OUTCOME_REFUSED_TEMP;
      e.domain = G_IO_ERROR;
      e.code = G_IO_ERROR_TIMED_OUT;
      break;
    default:
      g_assert_not_reached ();
    }

  /* After the end of the data without a reply: it may have arrived.
   * A pipelined BDAT LAST goes with MAIL and RCPT: a group that breaks
   * before its last reply leaves the delivery unknown. */
  if (e.reply_code == 0 && e.call == CALL_SENDMAIL &&
      (c->step == STEP_END || c->combo == (COMBO_PIPELINING | COMBO_CHUNKING)))
    {
      e.outcome = OUTCOME_UNKNOWN;
      e.domain = SMTPKIT_ERROR;
      e.code = SMTPKIT_ERROR_DELIVERY_UNKNOWN;
      e.unknown_rcpts = TRUE;
    }
  return e;
}

/* ---- checking ---------------------------------------------------------------- */

static const char *
call_name (Call call)
{
  static const char *const names[] = { "connect()", "login()", "sendmail()", "nothing" };

  return names[call];
}

static char *
describe_error (const GError *error)
{
  SmtpkitReply *reply;

  if (error == NULL)
    return g_strdup ("no error");
  reply = smtpkit_error_get_reply (error);
  return g_strdup_printf ("%s %d (%s), reply %u", g_quark_to_string (error->domain), error->code,
                          error->message, reply ? smtpkit_reply_get_code (reply) : 0);
}

static void G_GNUC_PRINTF (2, 3)
mismatch (GString    *found,
          const char *format,
          ...)
{
  va_list args;

  if (found->len > 0)
    g_string_append (found, "; ");
  va_start (args, format);
  g_string_append_vprintf (found, format, args);
  va_end (args);
}

static void
check_refused (GString    *found,
               const Run  *run,
               Step        rcpt,
               guint       code)
{
  const char *address;
  SmtpkitReply *reply;

  if (run->refused == NULL)
    return;
  if (rcpt == STEP_NONE)
    {
      if (g_hash_table_size (run->refused) != 0)
        mismatch (found, "%u recipients refused, expected none", g_hash_table_size (run->refused));
      return;
    }
  address = faults_recipients[rcpt - STEP_RCPT1];
  reply = g_hash_table_lookup (run->refused, address);
  if (g_hash_table_size (run->refused) != 1 || reply == NULL)
    mismatch (found, "the refused map does not hold %s alone", address);
  else if (smtpkit_reply_get_code (reply) != code)
    mismatch (found, "%s refused with %u, expected %u", address, smtpkit_reply_get_code (reply),
              code);
}

static void
check_unknown_recipients (GString      *found,
                          const GError *error)
{
  GHashTable *recipients = smtpkit_error_get_recipients (error);

  if (recipients == NULL || g_hash_table_size (recipients) != FAULTS_N_RECIPIENTS)
    {
      mismatch (found, "the error names %u recipients, expected the %u accepted",
                recipients ? g_hash_table_size (recipients) : 0, FAULTS_N_RECIPIENTS);
      return;
    }
  for (guint i = 0; i < FAULTS_N_RECIPIENTS; i++)
    if (!g_hash_table_contains (recipients, faults_recipients[i]))
      mismatch (found, "the error does not name %s", faults_recipients[i]);
}

/* Every difference between the run and @e, as one message, or NULL. */
static char *
check_run (const Run      *run,
           const Expected *e,
           const GError   *server_error)
{
  g_autoptr (GString) found = g_string_new (NULL);
  g_autofree char *error_text = describe_error (run->error);
  Outcome outcome = outcome_classify (run->refused, run->error);
  SmtpkitReply *reply = run->error ? smtpkit_error_get_reply (run->error) : NULL;

  if (outcome != e->outcome)
    mismatch (found, "%s, expected %s", outcome_name (outcome), outcome_name (e->outcome));
  if (run->failed_call != e->call)
    mismatch (found, "%s failed, expected %s to", call_name (run->failed_call), call_name (e->call));
  if (e->call == CALL_QUIT && run->error != NULL)
    mismatch (found, "%s", error_text);
  if (e->call != CALL_QUIT && !g_error_matches (run->error, e->domain, e->code))
    mismatch (found, "%s, expected %s %d", error_text, g_quark_to_string (e->domain), e->code);
  if (e->call != CALL_QUIT && e->reply_code != 0 &&
      (reply == NULL || smtpkit_reply_get_code (reply) != e->reply_code))
    mismatch (found, "reply %u attached, expected %u", reply ? smtpkit_reply_get_code (reply) : 0,
              e->reply_code);
  if (e->call != CALL_QUIT && run->connected_after != e->connected)
    mismatch (found, "connected after the failure: %s", run->connected_after ? "yes" : "no");
  check_refused (found, run, e->refused_rcpt, e->reply_code);
  if (e->unknown_rcpts && run->error != NULL)
    check_unknown_recipients (found, run->error);
  if (run->total_seconds > HANG_SECONDS)
    mismatch (found, "the client took %.1f s", run->total_seconds);
  if (server_error != NULL)
    mismatch (found, "the server: %s", server_error->message);

  return found->len > 0 ? g_strdup (found->str) : NULL;
}

/* ---- the test ------------------------------------------------------------------ */

static void
test_fault (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *text = faults_scenario_text (c->combo, c->step, c->fault);
  g_autoptr (SmtpkitFakeServer) server = faults_server_new (text);
  SmtpkitClient *client = faults_client_new (CLIENT_TIMEOUT);
  g_autoptr (GError) server_error = NULL;
  g_autofree char *found = NULL;
  Expected e = expected_outcome (c);
  Run run;

  faults_run (client, server, &run);
  /* The client goes, so that a script waiting for a QUIT that never
   * comes ends now. */
  g_object_add_weak_pointer (G_OBJECT (client), (gpointer *) &client);
  g_object_unref (client);
  g_assert_null (client);
  smtpkit_fake_server_wait (server, 10000, &server_error);
  smtpkit_fake_server_stop (server);

  if (c->fault == FAULT_STALL)
    g_assert_cmpfloat (run.call_seconds, >=, CLIENT_TIMEOUT * 0.9);

  found = check_run (&run, &e, server_error);
  run_clear (&run);
  if (found == NULL)
    return;
  g_test_message ("the scenario:\n%s", text);
  g_test_fail_printf ("%s", found);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);

  g_test_init (&argc, &argv, NULL);

  for (Combo combo = 0; combo <= (COMBO_PIPELINING | COMBO_CHUNKING); combo++)
    for (Step step = 0; step < N_STEPS; step++)
      for (Fault fault = 0; fault < N_FAULTS; fault++)
        {
          Case *c;
          g_autofree char *path = NULL;

          /* With CHUNKING there is no DATA command. */
          if (step == STEP_DATA && (combo & COMBO_CHUNKING))
            continue;
          c = g_new (Case, 1);
          *c = (Case) { combo, step, fault };
          g_ptr_array_add (cases, c);
          path = g_strdup_printf ("/faults/%s/%s/%s", combo_name (combo), step_name (step, combo),
                                  fault_name (fault));
          g_test_add_data_func (path, c, test_fault);
        }

  return g_test_run ();
}
