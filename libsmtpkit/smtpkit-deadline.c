/* smtpkit-deadline.c: bounded waits for asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-deadline-private.h"

struct _SmtpkitDeadline
{
  GCancellable *cancellable;
  GCancellable *user;
  GCancellable *closing;
  gulong user_handler;
  gulong closing_handler;
  GSource *timer;
  guint armed_ms;
  gboolean timed_out;
};

static void
cancel_other (GCancellable *cancellable,
              GCancellable *other)
{
  g_cancellable_cancel (other);
}

SmtpkitDeadline *
smtpkit_deadline_new (GCancellable *user,
                      GCancellable *closing)
{
  SmtpkitDeadline *deadline = g_new0 (SmtpkitDeadline, 1);

  deadline->cancellable = g_cancellable_new ();
  if (user)
    {
      deadline->user = g_object_ref (user);
      deadline->user_handler = g_cancellable_connect (user, G_CALLBACK (cancel_other),
                                                      deadline->cancellable, NULL);
    }
  if (closing)
    {
      deadline->closing = g_object_ref (closing);
      deadline->closing_handler = g_cancellable_connect (closing, G_CALLBACK (cancel_other),
                                                         deadline->cancellable, NULL);
    }
  return deadline;
}

static void
stop_timer (SmtpkitDeadline *deadline)
{
  if (deadline->timer)
    {
      g_source_destroy (deadline->timer);
      g_clear_pointer (&deadline->timer, g_source_unref);
    }
}

void
smtpkit_deadline_free (SmtpkitDeadline *deadline)
{
  stop_timer (deadline);
  if (deadline->user_handler)
    g_cancellable_disconnect (deadline->user, deadline->user_handler);
  if (deadline->closing_handler)
    g_cancellable_disconnect (deadline->closing, deadline->closing_handler);
  g_clear_object (&deadline->user);
  g_clear_object (&deadline->closing);
  g_clear_object (&deadline->cancellable);
  g_free (deadline);
}

GCancellable *
smtpkit_deadline_get_cancellable (SmtpkitDeadline *deadline)
{
  return deadline->cancellable;
}

static gboolean
timer_fired (gpointer data)
{
  SmtpkitDeadline *deadline = data;

  deadline->timed_out = TRUE;
  g_cancellable_cancel (deadline->cancellable);
  return G_SOURCE_REMOVE;
}

void
smtpkit_deadline_arm (SmtpkitDeadline *deadline,
                      guint            timeout_ms)
{
  g_autoptr (GMainContext) context = NULL;

  stop_timer (deadline);
  if (timeout_ms == 0)
    return;
  deadline->armed_ms = timeout_ms;
  context = g_main_context_ref_thread_default ();
  deadline->timer = g_timeout_source_new (timeout_ms);
  g_source_set_callback (deadline->timer, timer_fired, deadline, NULL);
  g_source_set_static_name (deadline->timer, "[smtpkit] timeout");
  g_source_attach (deadline->timer, context);
}

gboolean
smtpkit_deadline_user_cancelled (SmtpkitDeadline *deadline)
{
  return deadline->user != NULL && g_cancellable_is_cancelled (deadline->user);
}

void
smtpkit_deadline_fix_error (SmtpkitDeadline  *deadline,
                            GError          **error)
{
  if (deadline->timed_out && !smtpkit_deadline_user_cancelled (deadline) &&
      g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "timed out after %.3g seconds waiting for the server",
                   deadline->armed_ms / 1000.0);
    }
}
