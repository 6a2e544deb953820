/* test-large-message.c: a 100 MB message with memory that does not grow
 *
 * sendmail_stream() sends a generated 100 MB message (never held in memory
 * whole) to the fake server in sink mode, which writes it to disk. The
 * test checks the message arrived byte for byte (by size and a checksum
 * of what the generator produced against what the sink stored) and that
 * the peak resident memory of the whole process, client and server, stays
 * under 32 MB (not checked under AddressSanitizer or valgrind, whose own
 * memory counts in the process's). The figures are printed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <glib/gstdio.h>

#include "proc-status.h"
#include "smtpkit-fake-message.h"
#include "smtpkit-fake-server.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define MESSAGE_SIZE (100 * 1000 * 1000)
#define PEAK_LIMIT_KB (32 * 1024)

/* ---- measuring --------------------------------------------------------- */

static char *
file_sha256 (const char *path,
             guint64    *size)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autofree guint8 *buf = g_malloc (65536);
  gssize n;

  *size = 0;
  g_assert_nonnull (in);
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, 65536, NULL, NULL)) > 0)
    {
      g_checksum_update (checksum, buf, n);
      *size += n;
    }
  return g_strdup (g_checksum_get_string (checksum));
}

static void
test_hundred_megabytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) received = NULL;
  const char *stored;
  g_autofree char *stored_sum = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
  g_autoptr (GInputStream) message = smtpkit_fake_message_new (MESSAGE_SIZE, TRUE);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autofree char *host = NULL;
  const char *to[] = { "big@example.org", NULL };
  guint64 baseline, peak, stored_size;

  server = smtpkit_fake_server_new_sink (NULL, NULL);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  host = g_strdup_printf ("127.0.0.1:%u", smtpkit_fake_server_get_port (server));

  greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
  g_assert_no_error (error);

  if (!proc_reset_peak_rss ())
    g_test_message ("could not reset the peak resident size");
  baseline = proc_status_kb ("VmRSS:");
  refused = smtpkit_client_sendmail_stream (client, "sender@example.org", to,
                                            message, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  peak = proc_status_kb ("VmHWM:");
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  smtpkit_fake_server_stop (server);

  g_assert_cmpuint (smtpkit_fake_message_get_offset (SMTPKIT_FAKE_MESSAGE (message)), ==, MESSAGE_SIZE);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, 1);
  received = smtpkit_fake_server_get_received (server);
  stored = smtpkit_fake_mail_get_path (received->pdata[0]);
  stored_sum = file_sha256 (stored, &stored_size);
  g_assert_cmpuint (stored_size, ==, MESSAGE_SIZE);
  g_assert_cmpstr (stored_sum, ==, smtpkit_fake_message_get_checksum (SMTPKIT_FAKE_MESSAGE (message)));

  g_test_message ("100 MB sent; resident memory: %" G_GUINT64_FORMAT " kB before, "
                  "peak %" G_GUINT64_FORMAT " kB (limit %u kB)",
                  baseline, peak, PEAK_LIMIT_KB);
#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer's shadow memory and quarantine are not ours. */
  g_test_message ("peak not checked under AddressSanitizer");
#else
  /* Nor are valgrind's shadow memory and queue of freed blocks. */
  if (RUNNING_ON_VALGRIND)
    g_test_message ("peak not checked under valgrind");
  else
    g_assert_cmpuint (peak, <, PEAK_LIMIT_KB);
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/large-message/hundred-megabytes", test_hundred_megabytes);

  return g_test_run ();
}
