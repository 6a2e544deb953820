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

/* The record of the last blocking call, kept for the next (a call made
 * inside another takes a new one). */
static GPrivate spare_sync = G_PRIVATE_INIT (g_free);

SmtpkitSync *
smtpkit_sync_begin (void)
{
  SmtpkitSync *sync = g_private_get (&spare_sync);
  GMainContext *context = g_private_get (&thread_context);

  if (sync)
    g_private_set (&spare_sync, NULL);
  else
    sync = g_new0 (SmtpkitSync, 1);

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

/* Every descriptor of the context, none of them ready: the readiness a
 * poll found earlier is not taken again (a descriptor left out would keep
 * it, and its source be dispatched for ever). Returns the array to use
 * next (@fds, or a larger one). */
static GPollFD *
query_not_polled (GMainContext *context,
                  gint          priority,
                  GPollFD      *fds,
                  gint         *n_allocated,
                  GPollFD      *stack_fds,
                  gint         *n_fds)
{
  gint timeout;

  while ((*n_fds = g_main_context_query (context, priority, &timeout, fds, *n_allocated)) >
         *n_allocated)
    {
      if (fds != stack_fds)
        g_free (fds);
      *n_allocated = *n_fds;
      fds = g_new (GPollFD, *n_allocated);
    }
  for (gint i = 0; i < *n_fds; i++)
    fds[i].revents = 0;
  return fds;
}

/* Dispatches the sources that are ready without polling (a task that
 * completed in an idle): g_main_context_iteration() would poll first. A
 * bounded number of rounds: what is still ready after them waits for the
 * next call. */
static void
dispatch_ready (GMainContext *context)
{
  GPollFD stack_fds[16];
  GPollFD *fds = stack_fds;
  gint n_allocated = G_N_ELEMENTS (stack_fds);
  gint priority, n_fds;

  for (guint round = 0; round < 64 && g_main_context_prepare (context, &priority); round++)
    {
      fds = query_not_polled (context, priority, fds, &n_allocated, stack_fds, &n_fds);
      if (g_main_context_check (context, priority, fds, n_fds))
        g_main_context_dispatch (context);
    }
  fds = query_not_polled (context, G_MAXINT, fds, &n_allocated, stack_fds, &n_fds);
  g_main_context_check (context, G_MAXINT, fds, n_fds);
  if (fds != stack_fds)
    g_free (fds);
}

void
smtpkit_sync_end (SmtpkitSync *sync)
{
  g_clear_object (&sync->result);
  dispatch_ready (sync->context);
  g_main_context_pop_thread_default (sync->context);
  g_main_context_release (sync->context);
  g_main_context_unref (sync->context);
  sync->context = NULL;
  if (g_private_get (&spare_sync) == NULL)
    g_private_set (&spare_sync, sync);
  else
    g_free (sync);
}

gboolean
smtpkit_sync_is_private_context (GMainContext *context)
{
  return context != NULL && context == g_private_get (&thread_context);
}
