/* smtpkit-watch-private.h: watching connections from a main context
 *
 * A watch stands for one connection in one GMainContext: it calls back
 * when the connection's descriptor is readable, and when a deadline has
 * come. The first few connections of a context each have a GSource of
 * their own, without prepare or check functions (GLib then looks at the
 * descriptor and the ready time itself). Beyond them, where the system
 * has epoll, the connections of a context share one source over one epoll
 * descriptor: an iteration of the context then polls one descriptor and
 * visits one source, however many connections it serves, instead of
 * polling and visiting each of them.
 *
 * A watch is used from the thread that iterates its context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SmtpkitWatch SmtpkitWatch;

typedef enum
{
  SMTPKIT_WATCH_READABLE,  /* the descriptor can be read (or has an error, or ended) */
  SMTPKIT_WATCH_DUE,       /* the deadline came; it is cleared */
} SmtpkitWatchEvent;

typedef void (*SmtpkitWatchFunc) (SmtpkitWatchEvent event,
                                  gpointer          user_data);

/* A deadline that comes at once (an abort). */
#define SMTPKIT_WATCH_NOW ((gint64) 1)

/* Watches @fd for reading (-1: only the deadline) from @context, calling
 * @func with @user_data; the watch is in @context once this returns. */
SmtpkitWatch *smtpkit_watch_new (GMainContext     *context,
                                 int               fd,
                                 SmtpkitWatchFunc  func,
                                 gpointer          user_data);
/* No more calls, from now on (even from an iteration under way). */
void smtpkit_watch_free (SmtpkitWatch *watch);
/* The descriptor is no longer watched (it failed, or ended); the
 * deadline still is. */
void smtpkit_watch_stop_reading (SmtpkitWatch *watch);
/* @deadline: monotonic time in µs (g_get_monotonic_time()), 0 for none,
 * or SMTPKIT_WATCH_NOW. Moving a deadline later costs nothing: what the
 * context waits for is moved lazily. */
void smtpkit_watch_set_deadline (SmtpkitWatch *watch,
                                 gint64        deadline);

G_END_DECLS
