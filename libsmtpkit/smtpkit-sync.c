/* smtpkit-sync.c: the blocking API runs the asynchronous one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-sync-private.h"

struct _SmtpkitSync
{
  GMainContext *context;
  GAsyncResult *result;
};

/* One private context per thread, made once: a blocking call costs no
 * new context (and no new wake-up file descriptor). A blocking call made
 * from a signal handler inside another reuses it, which GLib allows to
 * its owner. */
static GPrivate thread_context = G_PRIVATE_INIT ((GDestroyNotify) g_main_context_unref);

SmtpkitSync *
smtpkit_sync_begin (void)
{
  SmtpkitSync *sync = g_new0 (SmtpkitSync, 1);
  GMainContext *context = g_private_get (&thread_context);

  if (context == NULL)
    {
      context = g_main_context_new ();
      g_private_set (&thread_context, context);
    }
  sync->context = g_main_context_ref (context);
  g_main_context_push_thread_default (sync->context);

  return sync;
}

void
smtpkit_sync_callback (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  SmtpkitSync *sync = user_data;

  sync->result = g_object_ref (result);
  g_main_context_wakeup (sync->context);
}

GAsyncResult *
smtpkit_sync_wait (SmtpkitSync *sync)
{
  while (sync->result == NULL)
    g_main_context_iteration (sync->context, TRUE);

  return sync->result;
}

void
smtpkit_sync_end (SmtpkitSync *sync)
{
  g_clear_object (&sync->result);
  g_main_context_pop_thread_default (sync->context);
  /* Dispatch what is ready: the completed task may still hold an idle. */
  while (g_main_context_iteration (sync->context, FALSE))
    ;
  g_main_context_unref (sync->context);
  g_free (sync);
}
