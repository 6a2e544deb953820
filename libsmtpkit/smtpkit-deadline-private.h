/* smtpkit-deadline-private.h: bounded waits for asynchronous operations
 *
 * A deadline gives an operation one GCancellable that fires when the
 * caller cancels, when the connection is closed, or when the wait under
 * way has lasted longer than its bound; then the CANCELLED error of the
 * I/O call is turned into G_IO_ERROR_TIMED_OUT. The timer runs in the
 * thread-default main context of the operation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SmtpkitDeadline SmtpkitDeadline;

/* @user and @closing may be NULL. */
SmtpkitDeadline *smtpkit_deadline_new (GCancellable *user,
                                       GCancellable *closing);
void smtpkit_deadline_free (SmtpkitDeadline *deadline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitDeadline, smtpkit_deadline_free)

GCancellable *smtpkit_deadline_get_cancellable (SmtpkitDeadline *deadline);
/* (Re)starts the timer for a wait of at most @timeout_ms; 0 stops it. */
void smtpkit_deadline_arm (SmtpkitDeadline *deadline,
                           guint            timeout_ms);
gboolean smtpkit_deadline_user_cancelled (SmtpkitDeadline *deadline);
/* Turns the CANCELLED error of a timed-out wait into TIMED_OUT. */
void smtpkit_deadline_fix_error (SmtpkitDeadline  *deadline,
                                 GError          **error);

G_END_DECLS
