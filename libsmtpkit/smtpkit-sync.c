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
  /* Owned for the whole call: sources attached from here on need not
   * wake the context up. */
  g_main_context_acquire (sync->context);
  g_main_context_push_thread_default (sync->context);

  return sync;
}

void
smtpkit_sync_callback (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  SmtpkitSync *sync = user_data;

  /* Called from a dispatch of the context that smtpkit_sync_wait()
   * iterates, which looks at the result after each iteration. */
  sync->result = g_object_ref (result);
}

GAsyncResult *
smtpkit_sync_wait (SmtpkitSync *sync)
{
  while (sync->result == NULL)
    g_main_context_iteration (sync->context, TRUE);

  return sync->result;
}

/* Dispatches the sources that are ready without polling (a task that
 * completed in an idle): g_main_context_iteration() would poll first. */
static void
dispatch_ready (GMainContext *context)
{
  GPollFD fds[16];
  gint priority, timeout, n;

  while (g_main_context_prepare (context, &priority))
    {
      n = g_main_context_query (context, priority, &timeout, fds, G_N_ELEMENTS (fds));
      for (gint i = 0; i < MIN (n, (gint) G_N_ELEMENTS (fds)); i++)
        fds[i].revents = 0;
      if (g_main_context_check (context, priority, fds, MIN (n, (gint) G_N_ELEMENTS (fds))))
        g_main_context_dispatch (context);
    }
  n = g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  for (gint i = 0; i < MIN (n, (gint) G_N_ELEMENTS (fds)); i++)
    fds[i].revents = 0;
  g_main_context_check (context, G_MAXINT, fds, MIN (n, (gint) G_N_ELEMENTS (fds)));
}

void
smtpkit_sync_end (SmtpkitSync *sync)
{
  g_clear_object (&sync->result);
  dispatch_ready (sync->context);
  g_main_context_pop_thread_default (sync->context);
  g_main_context_release (sync->context);
  g_main_context_unref (sync->context);
  g_free (sync);
}
