/* smtpkit-watch.c: watching connections from a main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-watch-private.h"

#ifdef HAVE_EPOLL
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>
#endif

/* The connections of a context that get a source of their own; the next
 * ones share the context's epoll descriptor. A few sources cost less than
 * the epoll_wait() that sharing adds to each wake-up; many cost more,
 * since every iteration polls and visits each of them. */
#define OWN_SOURCES_MAX 8
#define EVENTS_PER_WAKEUP 64

typedef struct _Context Context;

/* What the watches of one GMainContext share. */
struct _Context
{
  GMainContext *context;
  guint n_own;                  /* watches with a source of their own */
  GPtrArray *members;           /* the shared watches (not references) */
  GSource *shared;              /* over @epfd, once a watch shares */
  int epfd;
  gpointer epfd_tag;
  guint dispatching;            /* the shared source's dispatch is under way */
};

struct _SmtpkitWatch
{
  guint ref_count;              /* the owner's, and each dispatch's under way */
  Context *ctx;                 /* NULL once freed: no more calls */
  SmtpkitWatchFunc func;
  gpointer user_data;
  int fd;                       /* -1: none, or no longer read */
  gint64 deadline;              /* 0: none */
  GSource *source;              /* its own, or NULL: shared */
  gpointer tag;                 /* @fd in @source */
  guint index;                  /* in ctx->members, when shared */
};

typedef struct
{
  GSource source;
  SmtpkitWatch *watch;
} OwnSource;

typedef struct
{
  GSource source;
  Context *ctx;
} SharedSource;

static GMutex contexts_lock;
static GHashTable *contexts;    /* GMainContext → Context */

static Context *
context_get (GMainContext *context)
{
  Context *ctx;

  g_mutex_lock (&contexts_lock);
  if (contexts == NULL)
    contexts = g_hash_table_new (NULL, NULL);
  ctx = g_hash_table_lookup (contexts, context);
  if (ctx == NULL)
    {
      ctx = g_new0 (Context, 1);
      ctx->context = g_main_context_ref (context);
      ctx->members = g_ptr_array_new ();
      ctx->epfd = -1;
      g_hash_table_insert (contexts, context, ctx);
    }
  g_mutex_unlock (&contexts_lock);
  return ctx;
}

/* Once no watch is left in the context (and no dispatch is under way). */
static void
context_release (Context *ctx)
{
  if (ctx->n_own > 0 || ctx->members->len > 0 || ctx->dispatching > 0)
    return;
  g_mutex_lock (&contexts_lock);
  g_hash_table_remove (contexts, ctx->context);
  g_mutex_unlock (&contexts_lock);
  if (ctx->shared)
    {
      g_source_destroy (ctx->shared);
      g_source_unref (ctx->shared);
    }
#ifdef HAVE_EPOLL
  if (ctx->epfd >= 0)
    close (ctx->epfd);
#endif
  g_ptr_array_unref (ctx->members);
  g_main_context_unref (ctx->context);
  g_free (ctx);
}

static SmtpkitWatch *
watch_ref (SmtpkitWatch *watch)
{
  watch->ref_count++;
  return watch;
}

static void
watch_unref (SmtpkitWatch *watch)
{
  if (--watch->ref_count == 0)
    g_free (watch);
}

/* The ready time of @source comes no later than @deadline. Setting it
 * wakes the context up (a write), so a later deadline leaves it be: when
 * it comes early, the dispatch sets it again. */
static void
source_wake_by (GSource *source,
                gint64   deadline)
{
  gint64 ready = g_source_get_ready_time (source);

  if (ready == -1 || ready > deadline)
    g_source_set_ready_time (source, deadline);
}

/* ---- a source of its own ------------------------------------------------ */

static gboolean
own_dispatch (GSource     *source,
              GSourceFunc  callback,
              gpointer     user_data)
{
  SmtpkitWatch *watch = watch_ref (((OwnSource *) source)->watch);
  gint64 ready = g_source_get_ready_time (source);
  gint64 now = g_source_get_time (source);

#ifdef G_OS_UNIX
  if (watch->tag && g_source_query_unix_fd (source, watch->tag) != 0)
    watch->func (SMTPKIT_WATCH_READABLE, watch->user_data);
#endif
  if (watch->ctx && ready != -1 && ready <= now)
    {
      if (watch->deadline != 0 && now >= watch->deadline)
        {
          /* Not again while the callback runs; a new deadline sets it. */
          watch->deadline = 0;
          g_source_set_ready_time (source, -1);
          watch->func (SMTPKIT_WATCH_DUE, watch->user_data);
        }
      else
        g_source_set_ready_time (source, watch->deadline != 0 ? watch->deadline : -1);
    }
  watch_unref (watch);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs own_funcs = { NULL, NULL, own_dispatch, NULL, NULL, NULL };

static void
watch_own_source (SmtpkitWatch *watch)
{
  Context *ctx = watch->ctx;

  watch->source = g_source_new (&own_funcs, sizeof (OwnSource));
  ((OwnSource *) watch->source)->watch = watch;
  g_source_set_static_name (watch->source, "[smtpkit] connection");
  /* A source that cannot recurse is blocked while it is dispatched, which
   * takes its descriptor out of the poll set and puts it back, waking the
   * context up twice. The callbacks are safe to run from a nested loop. */
  g_source_set_can_recurse (watch->source, TRUE);
#ifdef G_OS_UNIX
  if (watch->fd >= 0)
    watch->tag = g_source_add_unix_fd (watch->source, watch->fd, G_IO_IN);
#endif
  g_source_attach (watch->source, ctx->context);
  ctx->n_own++;
}

/* ---- the context's shared epoll descriptor ---------------------------- */

#ifdef HAVE_EPOLL
static void
shared_fired (Context *ctx,
              gint64   now)
{
  g_autoptr (GPtrArray) due = NULL;
  gint64 next = -1;

  for (guint i = 0; i < ctx->members->len; i++)
    {
      SmtpkitWatch *watch = g_ptr_array_index (ctx->members, i);

      if (watch->deadline == 0)
        continue;
      if (now >= watch->deadline)
        {
          if (due == NULL)
            due = g_ptr_array_new ();
          g_ptr_array_add (due, watch_ref (watch));
        }
      else if (next == -1 || watch->deadline < next)
        next = watch->deadline;
    }
  g_source_set_ready_time (ctx->shared, next);

  for (guint i = 0; due && i < due->len; i++)
    {
      SmtpkitWatch *watch = g_ptr_array_index (due, i);

      /* An earlier callback may have freed it, or given it a new deadline. */
      if (watch->ctx && watch->deadline != 0 && now >= watch->deadline)
        {
          watch->deadline = 0;
          watch->func (SMTPKIT_WATCH_DUE, watch->user_data);
        }
      watch_unref (watch);
    }
}

static gboolean
shared_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  Context *ctx = ((SharedSource *) source)->ctx;
  gint64 ready = g_source_get_ready_time (source);
  gint64 now = g_source_get_time (source);

  ctx->dispatching++;
  if (g_source_query_unix_fd (source, ctx->epfd_tag) != 0)
    {
      struct epoll_event events[EVENTS_PER_WAKEUP];
      int n;

      do
        n = epoll_wait (ctx->epfd, events, G_N_ELEMENTS (events), 0);
      while (n < 0 && errno == EINTR);
      /* Each callback may free other watches of the batch. */
      for (int i = 0; i < n; i++)
        watch_ref (events[i].data.ptr);
      for (int i = 0; i < n; i++)
        {
          SmtpkitWatch *watch = events[i].data.ptr;

          if (watch->ctx && watch->fd >= 0)
            watch->func (SMTPKIT_WATCH_READABLE, watch->user_data);
        }
      for (int i = 0; i < n; i++)
        watch_unref (events[i].data.ptr);
    }
  if (ready != -1 && ready <= now)
    shared_fired (ctx, now);
  ctx->dispatching--;
  context_release (ctx);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs shared_funcs = { NULL, NULL, shared_dispatch, NULL, NULL, NULL };

/* Joins the context's epoll descriptor; FALSE where that cannot be. */
static gboolean
watch_share (SmtpkitWatch *watch)
{
  Context *ctx = watch->ctx;

  if (ctx->shared == NULL)
    {
      int epfd = epoll_create1 (EPOLL_CLOEXEC);

      if (epfd < 0)
        return FALSE;
      ctx->epfd = epfd;
      ctx->shared = g_source_new (&shared_funcs, sizeof (SharedSource));
      ((SharedSource *) ctx->shared)->ctx = ctx;
      g_source_set_static_name (ctx->shared, "[smtpkit] connections");
      g_source_set_can_recurse (ctx->shared, TRUE);
      ctx->epfd_tag = g_source_add_unix_fd (ctx->shared, epfd, G_IO_IN);
      g_source_attach (ctx->shared, ctx->context);
    }
  if (watch->fd >= 0)
    {
      struct epoll_event event = { .events = EPOLLIN, .data.ptr = watch };

      if (epoll_ctl (ctx->epfd, EPOLL_CTL_ADD, watch->fd, &event) != 0)
        return FALSE;
    }
  watch->index = ctx->members->len;
  g_ptr_array_add (ctx->members, watch);
  return TRUE;
}

static void
watch_unshare (SmtpkitWatch *watch)
{
  Context *ctx = watch->ctx;
  SmtpkitWatch *last = g_ptr_array_index (ctx->members, ctx->members->len - 1);

  smtpkit_watch_stop_reading (watch);
  last->index = watch->index;
  g_ptr_array_index (ctx->members, watch->index) = last;
  g_ptr_array_set_size (ctx->members, ctx->members->len - 1);
}
#endif

/* ---- the watch ---------------------------------------------------------- */

SmtpkitWatch *
smtpkit_watch_new (GMainContext     *context,
                   int               fd,
                   SmtpkitWatchFunc  func,
                   gpointer          user_data)
{
  SmtpkitWatch *watch = g_new0 (SmtpkitWatch, 1);

  watch->ref_count = 1;
  watch->ctx = context_get (context);
  watch->func = func;
  watch->user_data = user_data;
  watch->fd = fd;
#ifdef HAVE_EPOLL
  if (watch->ctx->n_own >= OWN_SOURCES_MAX && watch_share (watch))
    return watch;
#endif
  watch_own_source (watch);
  return watch;
}

void
smtpkit_watch_free (SmtpkitWatch *watch)
{
  Context *ctx = watch->ctx;

  if (watch->source)
    {
      g_source_destroy (watch->source);
      g_clear_pointer (&watch->source, g_source_unref);
      watch->tag = NULL;
      ctx->n_own--;
    }
#ifdef HAVE_EPOLL
  else
    watch_unshare (watch);
#endif
  watch->fd = -1;
  watch->ctx = NULL;
  context_release (ctx);
  watch_unref (watch);
}

void
smtpkit_watch_stop_reading (SmtpkitWatch *watch)
{
  if (watch->fd < 0)
    return;
#ifdef G_OS_UNIX
  if (watch->source && watch->tag)
    {
      g_source_remove_unix_fd (watch->source, watch->tag);
      watch->tag = NULL;
    }
#endif
#ifdef HAVE_EPOLL
  if (watch->source == NULL)
    epoll_ctl (watch->ctx->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
#endif
  watch->fd = -1;
}

void
smtpkit_watch_set_deadline (SmtpkitWatch *watch,
                            gint64        deadline)
{
  watch->deadline = deadline;
  /* None: a ready time that comes finds nothing due, and is moved on. */
  if (deadline == 0)
    return;
  source_wake_by (watch->source ? watch->source : watch->ctx->shared, deadline);
}
