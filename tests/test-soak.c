/* test-soak.c: many messages through a sink that fails at random
 *
 * 50 asynchronous sessions on this one thread send N messages (10,000 in
 * the test suite; --messages 100000 for the full soak, see
 * docs/testing.md) to the fake server's sink, which replaces 1% of its
 * replies by a 451, 0.5% by a disconnection and 0.1% by silence past the
 * client's timeout (seeded: --seed). A session reconnects when its
 * connection is gone. Every message is accounted for exactly once, as
 * delivered, refused temporarily or permanently, or unknown; the
 * messages the sink stored must be exactly the delivered ones (none
 * refused, none delivered missing). The resident memory must not grow
 * over the run (not checked under AddressSanitizer), and no file
 * descriptor may be left open.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "faults-common.h"
#include "proc-status.h"

#include <stdlib.h>

#include <glib/gstdio.h>

#define N_SESSIONS 50
#define FAULT_RATES "4xx=0.01,disconnect=0.005,stall=0.001"
#define CLIENT_TIMEOUT 1.0
#define RSS_GROWTH_LIMIT_KB (8 * 1024)

static guint n_messages = 10000;
static guint32 seed = 20261201;

enum
{
  NOT_YET = 0xff,
};

typedef struct
{
  guint n_messages;
  guint16 port;
  guint next;                 /* the next message to send */
  guint accounted;
  guint8 *outcomes;           /* by message: an Outcome, or NOT_YET */
  guint counts[4];            /* by Outcome */
  guint connect_failures;
  guint reconnections;
  guint sessions_done;
  guint64 rss_kb[3];          /* at 10%, 50% and 100% */
  guint8 *stored;             /* by message: stored by the sink */
  gint n_stored;              /* atomic */
  char *spool;
} Soak;

typedef struct
{
  Soak *soak;
  SmtpkitClient *client;
  guint current;
} Session;

static void session_connect (Session *session);
static void session_send (Session *session);

/* ---- the sink's side -------------------------------------------------------- */

static guint
message_number (const char *recipient)
{
  return (guint) g_ascii_strtoull (recipient + 1, NULL, 10);
}

/* In a worker thread of the sink: the message is in the spool. It is
 * marked and removed, so that a long soak does not fill the disk. */
static void
on_message_received (SmtpkitFakeServer *server,
                     guint              index,
                     const char        *path,
                     const char        *sender,
                     char             **recipients,
                     guint64            size,
                     gpointer           user_data)
{
  Soak *soak = user_data;
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *json = g_strconcat (name, ".json", NULL);
  g_autofree char *envelope = g_build_filename (soak->spool, "envelopes", json, NULL);
  guint n = message_number (recipients[0]);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (envelope, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (n, <, soak->n_messages);
  g_assert_cmpuint (soak->stored[n], ==, 0);
  soak->stored[n] = 1;
  g_atomic_int_inc (&soak->n_stored);
  g_unlink (path);
  g_unlink (envelope);
}

/* ---- the client's side --------------------------------------------------------- */

static void
account (Soak    *soak,
         guint    n,
         Outcome  outcome)
{
  static const guint percent[] = { 10, 50, 100 };

  g_assert_cmpuint (soak->outcomes[n], ==, NOT_YET);
  soak->outcomes[n] = outcome;
  soak->counts[outcome]++;
  soak->accounted++;
  for (guint i = 0; i < G_N_ELEMENTS (percent); i++)
    if (soak->accounted == (guint64) soak->n_messages * percent[i] / 100)
      soak->rss_kb[i] = proc_status_kb ("VmRSS:");
}

static void
session_done (Session *session)
{
  session->soak->sessions_done++;
  g_object_unref (session->client);
  g_free (session);
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr (SmtpkitReply) bye = smtpkit_client_quit_finish (SMTPKIT_CLIENT (source), result, NULL);

  session_done (user_data);
}

static void
session_finish (Session *session)
{
  if (smtpkit_client_is_connected (session->client))
    smtpkit_client_quit_async (session->client, NULL, on_quit, session);
  else
    session_done (session);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *session = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source), result,
                                                                   &error);

  account (session->soak, session->current, outcome_classify (refused, error));
  if (smtpkit_client_is_connected (session->client))
    session_send (session);
  else
    {
      session->soak->reconnections++;
      session_connect (session);
    }
}

static void
session_send (Session *session)
{
  Soak *soak = session->soak;
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GBytes) message = NULL;
  const char *recipients[2] = { NULL, NULL };

  if (soak->next == soak->n_messages)
    {
      session_finish (session);
      return;
    }
  session->current = soak->next++;
  to = g_strdup_printf ("m%06u@soak.test", session->current);
  text = g_strdup_printf ("Message-Id: <%u@soak.test>\r\nSubject: soak %u\r\n\r\n"
                          "message %u of the soak\r\n",
                          session->current, session->current, session->current);
  message = g_bytes_new_take (text, strlen (text));
  text = NULL;
  recipients[0] = to;
  smtpkit_client_sendmail_async (session->client, "soak@example.org", recipients, message, NULL,
                                 NULL, NULL, on_sent, session);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Session *session = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = smtpkit_client_connect_finish (SMTPKIT_CLIENT (source),
                                                                     result, &error);

  if (greeting == NULL)
    {
      session->soak->connect_failures++;
      /* Faults are rare: a server that never greets is broken. */
      g_assert_cmpuint (session->soak->connect_failures, <, session->soak->n_messages / 10 + 100);
      session_connect (session);
      return;
    }
  session_send (session);
}

static void
session_connect (Session *session)
{
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", session->soak->port);

  if (session->soak->next == session->soak->n_messages)
    {
      session_finish (session);
      return;
    }
  smtpkit_client_connect_async (session->client, host, 0, NULL, on_connected, session);
}

/* ---- the test ------------------------------------------------------------------ */

static void
check_accounting (Soak *soak)
{
  guint unknown_stored = 0;

  g_assert_cmpuint (soak->accounted, ==, soak->n_messages);
  for (guint n = 0; n < soak->n_messages; n++)
    {
      g_assert_cmpuint (soak->outcomes[n], !=, NOT_YET);
      /* Delivered: stored. Refused: not stored. Unknown: either. */
      if (soak->outcomes[n] == OUTCOME_DELIVERED)
        g_assert_cmpuint (soak->stored[n], ==, 1);
      else if (soak->outcomes[n] == OUTCOME_UNKNOWN)
        unknown_stored += soak->stored[n];
      else if (soak->stored[n])
        g_error ("message %u was %s, and stored", n, outcome_name (soak->outcomes[n]));
    }
  g_assert_cmpuint (soak->counts[0] + soak->counts[1] + soak->counts[2] + soak->counts[3], ==,
                    soak->n_messages);
  /* The sink stores no message whose final reply it replaced by a
   * fault: the unknown ones were not stored, unless a client timed out
   * on its own. */
  g_test_message ("unknown but stored: %u", unknown_stored);
  g_assert_cmpuint (g_atomic_int_get (&soak->n_stored), ==, soak->counts[OUTCOME_DELIVERED] + unknown_stored);
#if !defined(__SANITIZE_ADDRESS__)
  g_assert_cmpuint (unknown_stored, ==, 0);
#endif
}

/* Sends @soak->n_messages through a faulty sink, and checks the
 * accounting. */
static void
soak_run (Soak *soak)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  const char *extensions[] = { "SIZE 1000000", "PIPELINING", "8BITMIME", NULL };
  const char *const maildir[] = { "tmp", "new", "cur", "envelopes" };
  gint64 start;
  double seconds;

  soak->spool = g_dir_make_tmp ("smtpkit-soak-XXXXXX", &error);
  g_assert_no_error (error);
  soak->outcomes = g_malloc (soak->n_messages);
  memset (soak->outcomes, NOT_YET, soak->n_messages);
  soak->stored = g_malloc0 (soak->n_messages);

  server = smtpkit_fake_server_new_sink (soak->spool, extensions);
  /* The messages are counted here, not kept in memory by the sink. */
  g_object_set (server, "keep-received", FALSE, NULL);
  g_assert_true (smtpkit_fake_server_set_faults (server, FAULT_RATES, seed, &error));
  g_signal_connect (server, "message-received", G_CALLBACK (on_message_received), soak);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  soak->port = smtpkit_fake_server_get_port (server);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_SESSIONS; i++)
    {
      Session *session = g_new0 (Session, 1);

      session->soak = soak;
      session->client = smtpkit_client_new ();
      g_assert_true (smtpkit_client_set_local_hostname (session->client, "soak.test", NULL));
      g_assert_true (smtpkit_client_set_timeout (session->client, CLIENT_TIMEOUT, NULL));
      session_connect (session);
    }
  while (soak->sessions_done < N_SESSIONS)
    g_main_context_iteration (NULL, TRUE);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  smtpkit_fake_server_stop (server);
  g_test_message ("%u messages in %.1f s, seed %u: %u delivered, %u refused temporarily, "
                  "%u refused permanently, %u unknown; %u stored; %u reconnections, "
                  "%u failed connections; faults injected: %u 4xx, %u disconnect, %u stall; "
                  "VmRSS %" G_GUINT64_FORMAT " kB at 10%%, %" G_GUINT64_FORMAT " kB at 50%%, "
                  "%" G_GUINT64_FORMAT " kB at 100%%",
                  soak->n_messages, seconds, seed, soak->counts[OUTCOME_DELIVERED],
                  soak->counts[OUTCOME_REFUSED_TEMP], soak->counts[OUTCOME_REFUSED_PERM],
                  soak->counts[OUTCOME_UNKNOWN], g_atomic_int_get (&soak->n_stored),
                  soak->reconnections, soak->connect_failures,
                  smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_4XX),
                  smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_DISCONNECT),
                  smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_STALL),
                  soak->rss_kb[0], soak->rss_kb[1], soak->rss_kb[2]);
  check_accounting (soak);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==,
                    (guint) g_atomic_int_get (&soak->n_stored));

  g_clear_object (&server);
  for (guint i = 0; i < G_N_ELEMENTS (maildir); i++)
    {
      g_autofree char *dir = g_build_filename (soak->spool, maildir[i], NULL);

      g_rmdir (dir);
    }
  g_rmdir (soak->spool);
  g_free (soak->spool);
  g_free (soak->outcomes);
  g_free (soak->stored);
}

static void
test_soak (void)
{
  Soak warm_up = { .n_messages = 100 };
  Soak soak = { .n_messages = n_messages };
  guint fds_before, fds_after;

  /* GLib opens some descriptors once, on first use: a short run first. */
  soak_run (&warm_up);
  fds_before = proc_count_entries ("/proc/self/fd");
  soak_run (&soak);
  fds_after = proc_count_entries ("/proc/self/fd");

#if defined(__SANITIZE_ADDRESS__)
  g_test_message ("resident memory not checked under AddressSanitizer");
#else
  g_assert_cmpuint (soak.rss_kb[2], <=, soak.rss_kb[0] + RSS_GROWTH_LIMIT_KB);
#endif
  g_test_message ("file descriptors: %u before, %u after", fds_before, fds_after);
  g_assert_cmpuint (fds_after, ==, fds_before);
}

/* --messages N and --seed N, taken out of argv before GTest sees it. */
static void
parse_options (int   *argc,
               char **argv)
{
  int kept = 1;

  for (int i = 1; i < *argc; i++)
    {
      guint64 value;
      gboolean messages = g_str_equal (argv[i], "--messages");

      if ((messages || g_str_equal (argv[i], "--seed")) && i + 1 < *argc)
        {
          if (!g_ascii_string_to_unsigned (argv[i + 1], 10, messages ? 1 : 0,
                                           messages ? 10000000 : G_MAXUINT32, &value, NULL))
            {
              g_printerr ("%s: bad value '%s' for %s\n", argv[0], argv[i + 1], argv[i]);
              exit (2);
            }
          if (messages)
            n_messages = value;
          else
            seed = value;
          i++;
          continue;
        }
      argv[kept++] = argv[i];
    }
  *argc = kept;
  argv[kept] = NULL;
}

int
main (int   argc,
      char *argv[])
{
  parse_options (&argc, argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/soak/random-faults", test_soak);

  return g_test_run ();
}
