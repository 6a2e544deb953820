/* test-torture.c: every read and every write of a send, broken in turn
 *
 * The conversation of the fault matrix (STARTTLS, AUTH PLAIN, a message
 * to three recipients; test-faults.c) runs over the "torture" transport,
 * whose stream sits below TLS (torture-stream.c). A first run counts the
 * reads and writes; then one test per read and per write fails it, with
 * G_IO_ERROR_FAILED or a connection reset, and checks the outcome: an
 * error, and the message not delivered when the server did not get the
 * end of the data, unknown (or delivered, when the final reply was read)
 * when it did; never a hang. Another test cuts every read and write to
 * one byte (TLS records arrive in pieces) and checks that the server got
 * every byte it expects.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "faults-common.h"
#include "torture-stream.h"

/* No wait should run out: a failure ends the conversation at once. */
#define CLIENT_TIMEOUT 5.0

static const Combo combos[] = { 0, COMBO_PIPELINING | COMBO_CHUNKING };

static TortureState state;

typedef struct
{
  Combo combo;
  gboolean write;       /* else a read */
  guint n;
  GIOErrorEnum error;
} Case;

/* The write that carries the end of the data (the terminator, or the
 * chunk of BDAT LAST): the client hands it to TLS after "sending" it,
 * and TLS writes a record that small in one write. */
static guint end_of_data_write;

static void
on_sending (SmtpkitClient *client,
            GBytes        *bytes,
            gpointer       user_data)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  if (end_of_data_write == 0 && g_strstr_len (data, size, "hello\r\n") != NULL)
    end_of_data_write = state.writes + 1;
}

/* Whether the end of the data left: its write went through. */
static gboolean
end_of_data_written (void)
{
  return end_of_data_write != 0 && state.writes >= end_of_data_write;
}

/* One conversation over the torture transport, as @state says. */
static void
run_conversation (Combo               combo,
                  Run                *run,
                  SmtpkitFakeServer **server_out,
                  GError            **server_error)
{
  g_autofree char *text = faults_scenario_text (combo, STEP_NONE, 0);
  g_autoptr (SmtpkitFakeServer) server = faults_server_new (text);
  SmtpkitClient *client = faults_client_new (CLIENT_TIMEOUT);

  g_object_set (client, "transport", "torture", NULL);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), NULL);
  end_of_data_write = 0;
  faults_run (client, server, run);
  g_object_add_weak_pointer (G_OBJECT (client), (gpointer *) &client);
  g_object_unref (client);
  g_assert_null (client);
  smtpkit_fake_server_wait (server, 10000, server_error);
  smtpkit_fake_server_stop (server);
  *server_out = g_steal_pointer (&server);
}

static void
assert_delivered (const Run    *run,
                  const GError *server_error)
{
  g_assert_no_error (run->error);
  g_assert_cmpint (outcome_classify (run->refused, run->error), ==, OUTCOME_DELIVERED);
  g_assert_cmpuint (g_hash_table_size (run->refused), ==, 0);
  g_assert_no_error (server_error);
}

static void
test_torture (gconstpointer data)
{
  const Case *c = data;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (GError) server_error = NULL;
  gboolean got_end;
  Outcome outcome;
  Run run;

  state = (TortureState) { .error = c->error };
  if (c->write)
    state.fail_write = c->n;
  else
    state.fail_read = c->n;
  run_conversation (c->combo, &run, &server, &server_error);

  g_assert_cmpfloat (run.total_seconds, <, CLIENT_TIMEOUT);
  if (!state.broken)
    {
      /* This run needed fewer reads or writes than the first. */
      g_test_message ("no %s %u this time: nothing injected", c->write ? "write" : "read", c->n);
      assert_delivered (&run, server_error);
      run_clear (&run);
      return;
    }

  outcome = outcome_classify (run.refused, run.error);
  got_end = end_of_data_written ();
  g_test_message ("%s after %u reads, %u writes: %s (the end of the data: write %u, %s)",
                  outcome_name (outcome), state.reads, state.writes,
                  run.error ? run.error->message : "no error", end_of_data_write,
                  got_end ? "written" : "not written");
  /* The failure ends the conversation at once: no wait runs out. */
  g_assert_false (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  if (!got_end)
    {
      g_assert_nonnull (run.error);
      g_assert_cmpint (outcome, ==, OUTCOME_REFUSED_TEMP);
    }
  else if (outcome == OUTCOME_UNKNOWN)
    g_assert_cmpuint (g_hash_table_size (smtpkit_error_get_recipients (run.error)), ==,
                      FAULTS_N_RECIPIENTS);
  else
    {
      /* Delivered: the failure came after the final reply was read. */
      g_assert_cmpint (outcome, ==, OUTCOME_DELIVERED);
      g_assert_cmpuint (g_hash_table_size (run.refused), ==, 0);
    }
  run_clear (&run);
}

static void
test_one_byte (gconstpointer data)
{
  const Combo *combo = data;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (GError) server_error = NULL;
  Run run;

  state = (TortureState) { .one_byte = TRUE };
  run_conversation (*combo, &run, &server, &server_error);
  g_test_message ("%u reads, %u writes", state.reads, state.writes);
  /* The server checked every byte, the body among them. */
  assert_delivered (&run, server_error);
  g_assert_false (state.broken);
  run_clear (&run);
}

/* Registers a test per read and per write of a first, unbroken run. */
static void
add_cases (Combo      combo,
           GPtrArray *cases)
{
  static const struct
  {
    GIOErrorEnum code;
    const char *name;
  } errors[] = { { G_IO_ERROR_FAILED, "failed" }, { G_IO_ERROR_CONNECTION_CLOSED, "reset" } };
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (GError) server_error = NULL;
  g_autofree char *one_byte = g_strdup_printf ("/torture/%s/one-byte", combo_name (combo));
  Run run;
  guint counted[2];

  state = (TortureState) { 0 };
  run_conversation (combo, &run, &server, &server_error);
  if (run.error != NULL || server_error != NULL)
    g_error ("the unbroken run failed: %s", run.error ? run.error->message : server_error->message);
  run_clear (&run);
  counted[0] = state.reads;
  counted[1] = state.writes;

  for (guint write = 0; write < 2; write++)
    for (guint n = 1; n <= counted[write]; n++)
      for (guint e = 0; e < G_N_ELEMENTS (errors); e++)
        {
          Case *c = g_new (Case, 1);
          g_autofree char *path = g_strdup_printf ("/torture/%s/%s/%u/%s", combo_name (combo),
                                                   write ? "write" : "read", n, errors[e].name);

          *c = (Case) { combo, write, n, errors[e].code };
          g_ptr_array_add (cases, c);
          g_test_add_data_func (path, c, test_torture);
        }
  g_test_add_data_func (one_byte, &combos[combo == 0 ? 0 : 1], test_one_byte);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);

  g_test_init (&argc, &argv, NULL);
  torture_transport_register (&state);

  for (guint i = 0; i < G_N_ELEMENTS (combos); i++)
    add_cases (combos[i], cases);

  return g_test_run ();
}
