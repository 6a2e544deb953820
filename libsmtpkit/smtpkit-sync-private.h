/* smtpkit-sync-private.h: the blocking API runs the asynchronous one
 *
 * A blocking call pushes a private GMainContext, starts the _async
 * operation in it, iterates only that context until the result is in,
 * and pops it (libsecret's model). The caller's own context is never
 * iterated, and no thread is started.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SmtpkitSync SmtpkitSync;

SmtpkitSync *smtpkit_sync_begin (void);
/* The callback to give the _async function, with the SmtpkitSync as data. */
void smtpkit_sync_callback (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data);
/* Iterates the private context until the operation completed; the result
 * stays owned by @sync. */
GAsyncResult *smtpkit_sync_wait (SmtpkitSync *sync);
void smtpkit_sync_end (SmtpkitSync *sync);
/* Whether @context is this thread's private context of blocking calls:
 * code running in it is inside a blocking call, and may block. */
gboolean smtpkit_sync_is_private_context (GMainContext *context);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitSync, smtpkit_sync_end)

G_END_DECLS
