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

SmtpkitSync *
smtpkit_sync_begin (void)
{
  SmtpkitSync *sync = g_new0 (SmtpkitSync, 1);

  sync->context = g_main_context_new ();
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
  /* Sources an operation left behind (none should) go with the context. */
  while (g_main_context_iteration (sync->context, FALSE))
    ;
  g_main_context_unref (sync->context);
  g_free (sync);
}
