/* send-progress.c: the progress bar, fed by the client's "sending" signal
 *
 * The library emits "sending" for every write, message data included, so
 * the bar counts what really went to the socket rather than what was read
 * from the input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "send-progress.h"

/* Redrawing more often only costs terminal output. */
#define REDRAW_INTERVAL_US (G_USEC_PER_SEC / 5)

struct _SendProgress
{
  SmtpkitClient *client;
  gulong handler;
  guint64 total;
  guint64 sent;
  gint64 started;
  gint64 drawn;
};

static void
draw (SendProgress *progress)
{
  /* Commands are counted too; they are a few hundred bytes of megabytes,
   * but keep the bar from passing 100 %. */
  guint64 sent = MIN (progress->sent, progress->total);
  double seconds = (g_get_monotonic_time () - progress->started) / (double) G_USEC_PER_SEC;
  g_autofree char *done = g_format_size (sent);
  g_autofree char *total = g_format_size (progress->total);
  g_autofree char *rate = g_format_size (seconds > 0 ? (guint64) (sent / seconds) : 0);

  fprintf (stderr, "\r%s: %s of %s (%3u%%), %s/s   ", g_get_prgname (), done, total,
           (guint) (sent * 100 / progress->total), rate);
  fflush (stderr);
}

static void
on_sending (SmtpkitClient *client,
            GBytes        *data,
            gpointer       user_data)
{
  SendProgress *progress = user_data;
  gint64 now = g_get_monotonic_time ();

  progress->sent += g_bytes_get_size (data);
  if (now - progress->drawn >= REDRAW_INTERVAL_US)
    {
      progress->drawn = now;
      draw (progress);
    }
}

SendProgress *
send_progress_start (SmtpkitClient *client,
                     guint64        total)
{
  SendProgress *progress;

  if (total <= SEND_PROGRESS_THRESHOLD || !isatty (STDERR_FILENO))
    return NULL;
  progress = g_new0 (SendProgress, 1);
  progress->client = g_object_ref (client);
  progress->total = total;
  progress->started = g_get_monotonic_time ();
  progress->handler = g_signal_connect (client, "sending", G_CALLBACK (on_sending), progress);
  return progress;
}

void
send_progress_stop (SendProgress *progress)
{
  if (progress == NULL)
    return;
  g_signal_handler_disconnect (progress->client, progress->handler);
  draw (progress);
  fputc ('\n', stderr);
  g_object_unref (progress->client);
  g_free (progress);
}
