/* smtpkit-fake-server.c: a scriptable fake SMTP server for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "smtpkit-fake-server-private.h"

/**
 * SmtpkitFakeServer:
 *
 * An SMTP server for tests, in one of two modes:
 *
 * - scripted ([ctor@FakeServer.new_scripted]): plays the server side of a
 *   [struct@Scenario] on the first connection and checks every byte the
 *   client sends; [method@FakeServer.wait] gives the outcome;
 * - sink ([ctor@FakeServer.new_sink]): accepts any number of clients and
 *   messages, and stores each message in a spool directory.
 *
 * Scenarios can switch to TLS (`starttls`) with certificates generated
 * for the tests ([func@FakeServer.get_ca_file]) and check SASL
 * credentials (`expect-auth`); a sink offers STARTTLS or implicit TLS with
 * [property@FakeServer:tls-certificate] and [property@FakeServer:implicit-tls].
 *
 * The server listens on a loopback address or a unix socket. It accepts
 * connections in a thread of its own and serves each with blocking I/O in
 * a pool of at most 64 worker threads (more connections wait for a free
 * worker), so a test can drive a blocking client from its own thread.
 */

/* More than a test's concurrent sessions: a session that keeps its
 * connection holds a worker. */
#define MAX_WORKERS 64

struct _SmtpkitFakeServer
{
  GObject parent_instance;

  /* Configuration: fixed once listening. */
  SmtpkitScenario *scenario; /* scripted mode */
  char *spool_dir;           /* sink mode */
  GStrv extensions;
  char *hostname;
  char *address;
  guint step_timeout;
  GTlsCertificate *tls_certificate; /* sink: offers STARTTLS */
  gboolean implicit_tls;            /* sink */
  gboolean any_case;                /* scripted: verbs match in any case */

  GSocketListener *listener;
  char *listen_address;
  guint16 port;
  char *unix_path;

  /* Cancelled by stop(): wakes every worker blocked on its client. */
  GCancellable *cancellable;
  /* Ends the accept loop; cancelled in the server thread (see stop()). */
  GCancellable *accept_cancellable;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GThreadPool *pool;
  gboolean scripted_started; /* server thread only */
  gint next_index;           /* atomic */
  gint message_count;        /* atomic */
  guint n_connections;       /* server thread only */

  /* Sink fault injection: the chance of each fault per reply. */
  double fault_rates[SMTPKIT_FAKE_N_FAULTS];
  gboolean faults;
  guint32 fault_seed;
  gint fault_counts[SMTPKIT_FAKE_N_FAULTS]; /* atomic */

  /* The scripted connection. */
  GMutex lock;
  GCond cond;
  gboolean connected;
  gboolean finished;
  GError *result;
  GString *transcript;
};

G_DEFINE_FINAL_TYPE (SmtpkitFakeServer, smtpkit_fake_server, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HOSTNAME,
  PROP_ADDRESS,
  PROP_STEP_TIMEOUT,
  PROP_TLS_CERTIFICATE,
  PROP_IMPLICIT_TLS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  MESSAGE_RECEIVED,
  CONNECTION_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
smtpkit_fake_server_init (SmtpkitFakeServer *self)
{
  self->hostname = g_strdup ("fake.test");
  self->address = g_strdup ("127.0.0.1:0");
  self->step_timeout = 10000;
  self->listener = g_socket_listener_new ();
  g_socket_listener_set_backlog (self->listener, 1024);
  self->cancellable = g_cancellable_new ();
  self->accept_cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->transcript = g_string_new (NULL);
}

static void
smtpkit_fake_server_dispose (GObject *object)
{
  /* Here rather than in finalize: workers may still emit signals. */
  smtpkit_fake_server_stop (SMTPKIT_FAKE_SERVER (object));

  G_OBJECT_CLASS (smtpkit_fake_server_parent_class)->dispose (object);
}

static void
smtpkit_fake_server_finalize (GObject *object)
{
  SmtpkitFakeServer *self = SMTPKIT_FAKE_SERVER (object);

  g_clear_pointer (&self->scenario, smtpkit_scenario_unref);
  g_free (self->spool_dir);
  g_strfreev (self->extensions);
  g_free (self->hostname);
  g_free (self->address);
  g_clear_object (&self->tls_certificate);
  g_object_unref (self->listener);
  g_free (self->listen_address);
  g_object_unref (self->cancellable);
  g_object_unref (self->accept_cancellable);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_clear_error (&self->result);
  g_string_free (self->transcript, TRUE);

  G_OBJECT_CLASS (smtpkit_fake_server_parent_class)->finalize (object);
}

static void
smtpkit_fake_server_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SmtpkitFakeServer *self = SMTPKIT_FAKE_SERVER (object);

  switch (prop_id)
    {
    case PROP_HOSTNAME:
      g_value_set_string (value, self->hostname);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_STEP_TIMEOUT:
      g_value_set_uint (value, self->step_timeout);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    case PROP_IMPLICIT_TLS:
      g_value_set_boolean (value, self->implicit_tls);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_fake_server_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SmtpkitFakeServer *self = SMTPKIT_FAKE_SERVER (object);

  /* Workers read the configuration without a lock. */
  g_return_if_fail (self->thread == NULL);

  switch (prop_id)
    {
    case PROP_HOSTNAME:
      g_free (self->hostname);
      self->hostname = g_value_dup_string (value);
      break;
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_STEP_TIMEOUT:
      self->step_timeout = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE:
      g_set_object (&self->tls_certificate, g_value_get_object (value));
      break;
    case PROP_IMPLICIT_TLS:
      self->implicit_tls = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_fake_server_class_init (SmtpkitFakeServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = smtpkit_fake_server_dispose;
  object_class->finalize = smtpkit_fake_server_finalize;
  object_class->get_property = smtpkit_fake_server_get_property;
  object_class->set_property = smtpkit_fake_server_set_property;

  /**
   * SmtpkitFakeServer:hostname:
   *
   * The name in the sink's greeting and EHLO reply. Set it before
   * listening.
   */
  properties[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, "fake.test", flags);

  /**
   * SmtpkitFakeServer:address:
   *
   * Where [method@FakeServer.listen_tcp] listens: a numeric loopback
   * address with an optional port, such as `127.0.0.1`, `127.0.0.1:2525`
   * or `[::1]:0`. Port 0, the default, picks a free port. Other addresses
   * are refused. Set it before listening.
   */
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, "127.0.0.1:0", flags);

  /**
   * SmtpkitFakeServer:step-timeout:
   *
   * The longest the server waits for the client, in milliseconds: for
   * input that a step expects, or to write when the client does not read.
   * In a scenario this is a %SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT; a sink
   * replies 421 and closes. Set it before listening.
   */
  properties[PROP_STEP_TIMEOUT] =
    g_param_spec_uint ("step-timeout", NULL, NULL, 1, G_MAXUINT / 1000, 10000, flags);

  /**
   * SmtpkitFakeServer:tls-certificate:
   *
   * Sink only: when set, the sink offers STARTTLS in its EHLO reply and
   * answers STARTTLS with 220, a TLS handshake with this certificate (see
   * [func@FakeServer.get_certificate]), and a clean session state. Set it
   * before listening.
   */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE, flags);

  /**
   * SmtpkitFakeServer:implicit-tls:
   *
   * Sink only: the TLS handshake comes first, right after the client
   * connects, before the greeting (RFC 8314), with
   * [property@FakeServer:tls-certificate], or the `good` certificate when
   * that is unset. Set it before listening.
   */
  properties[PROP_IMPLICIT_TLS] =
    g_param_spec_boolean ("implicit-tls", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SmtpkitFakeServer::message-received:
   * @server: the server
   * @index: the message number, from 1, as in its file name
   * @path: the file that holds the message: SPOOL/NNNNNN.eml
   * @sender: the reverse-path of MAIL FROM, without angle brackets
   * @recipients: the forward-paths of RCPT TO, without angle brackets
   * @size: the size of the message in bytes, after un-dot-stuffing
   *
   * A sink has stored a message (and SPOOL/NNNNNN.envelope with the MAIL
   * and RCPT commands). Emitted **in the worker thread** that serves the
   * client, before the final 250 reply is sent: when a client has its
   * 250, the handler has run. Numbers are given out when DATA starts, so
   * a message cut short leaves a gap.
   */
  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 5,
                  G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_UINT64);

  /**
   * SmtpkitFakeServer::connection-closed:
   * @server: the server
   *
   * A client connection has been served and closed. Emitted in the worker
   * thread that served it. In scripted mode the outcome is known by then.
   */
  signals[CONNECTION_CLOSED] =
    g_signal_new ("connection-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

/**
 * smtpkit_fake_server_new_scripted:
 * @scenario: the scenario to play
 *
 * A server that plays the server side of @scenario on the first client
 * connection. Later connections are closed at once.
 *
 * Returns: (transfer full): a new server; call a `listen` method next
 */
SmtpkitFakeServer *
smtpkit_fake_server_new_scripted (SmtpkitScenario *scenario)
{
  SmtpkitFakeServer *self = g_object_new (SMTPKIT_TYPE_FAKE_SERVER, NULL);

  g_return_val_if_fail (scenario != NULL, self);

  self->scenario = smtpkit_scenario_ref (scenario);
  return self;
}

/**
 * smtpkit_fake_server_new_sink:
 * @spool_dir: where to store messages; created when missing
 * @extensions: (array zero-terminated=1) (nullable): EHLO keywords with
 *   their parameters, such as `"SIZE 1000000"`, `"PIPELINING"`
 *
 * A server that accepts any mail from any number of clients. It answers
 * EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, EXPN, HELP and QUIT,
 * and stores each message as SPOOL/NNNNNN.eml (un-dot-stuffed, streamed to
 * disk) beside SPOOL/NNNNNN.envelope (the MAIL and RCPT commands). With
 * `SIZE n` among @extensions, MAIL with a larger SIZE= parameter gets
 * 552. See [signal@FakeServer::message-received].
 *
 * Returns: (transfer full): a new server; call a `listen` method next
 */
SmtpkitFakeServer *
smtpkit_fake_server_new_sink (const char        *spool_dir,
                              const char *const *extensions)
{
  SmtpkitFakeServer *self = g_object_new (SMTPKIT_TYPE_FAKE_SERVER, NULL);
  const char *const none[] = { NULL };

  g_return_val_if_fail (spool_dir != NULL, self);

  self->spool_dir = g_strdup (spool_dir);
  self->extensions = g_strdupv ((char **) (extensions != NULL ? extensions : none));
  return self;
}

/* ---- the threads ------------------------------------------------------ */

static void
play (SmtpkitFakeServer *self,
      SmtpkitFakeConn   *conn)
{
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&self->lock);
  self->connected = TRUE;
  g_mutex_unlock (&self->lock);

  smtpkit_fake_script_play (self, self->scenario, conn, &error);

  g_mutex_lock (&self->lock);
  self->result = g_steal_pointer (&error);
  self->finished = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* A worker of the pool. */
static void
serve_connection (gpointer data,
                  gpointer user_data)
{
  g_autoptr (GSocketConnection) connection = data;
  SmtpkitFakeServer *self = user_data;
  SmtpkitFakeConn *conn = smtpkit_fake_conn_new (connection, self->cancellable,
                                                 self->step_timeout);
  GRand *faults = NULL;

  /* The faults of the N-th connection depend on the seed and N alone. */
  if (self->faults)
    {
      guint32 seed[] = { self->fault_seed,
                         GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (connection),
                                                              "smtpkit-fake-index")) };

      faults = g_rand_new_with_seed_array (seed, G_N_ELEMENTS (seed));
    }

  if (self->scenario != NULL)
    play (self, conn);
  else
    smtpkit_fake_sink_serve (self, conn, self->hostname, self->spool_dir,
                             (const char *const *) self->extensions, self->tls_certificate,
                             self->implicit_tls, faults);
  g_clear_pointer (&faults, g_rand_free);
  smtpkit_fake_conn_close (conn);
  g_signal_emit (self, signals[CONNECTION_CLOSED], 0);
}

static void accept_next (SmtpkitFakeServer *self);

static void
on_accepted (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SmtpkitFakeServer *self = user_data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_listener_accept_finish (self->listener, result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_main_loop_quit (self->loop);
      return;
    }

  if (connection == NULL)
    g_warning ("smtpkit-fake-server: accept failed: %s", error->message);
  else if (self->scenario != NULL && self->scripted_started)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_object_unref (connection);
    }
  else
    {
      self->scripted_started = TRUE;
      g_object_set_data (G_OBJECT (connection), "smtpkit-fake-index",
                         GUINT_TO_POINTER (++self->n_connections));
      g_thread_pool_push (self->pool, connection, NULL);
    }
  accept_next (self);
}

static void
accept_next (SmtpkitFakeServer *self)
{
  g_socket_listener_accept_async (self->listener, self->accept_cancellable, on_accepted, self);
}

static gpointer
server_thread (gpointer data)
{
  SmtpkitFakeServer *self = data;

  g_main_context_push_thread_default (self->context);
  accept_next (self);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
stop_accepting (gpointer user_data)
{
  SmtpkitFakeServer *self = user_data;

  g_cancellable_cancel (self->accept_cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
start (SmtpkitFakeServer  *self,
       GError            **error)
{
  if (self->spool_dir != NULL && g_mkdir_with_parents (self->spool_dir, 0700) < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "cannot create the spool directory %s: %s", self->spool_dir,
                   g_strerror (errsv));
      return FALSE;
    }

  self->pool = g_thread_pool_new (serve_connection, self, MAX_WORKERS, FALSE, error);
  if (self->pool == NULL)
    return FALSE;
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_try_new ("smtpkit-fake-server", server_thread, self, error);
  return self->thread != NULL;
}

/**
 * smtpkit_fake_server_listen_tcp:
 * @server: a server
 * @error: return location for a #GError
 *
 * Listens on [property@FakeServer:address] (`127.0.0.1`, a free port, by
 * default) and starts serving. Only loopback addresses are accepted.
 *
 * Returns: %TRUE when listening, %FALSE with @error set
 */
gboolean
smtpkit_fake_server_listen_tcp (SmtpkitFakeServer  *self,
                                GError            **error)
{
  g_autoptr (GSocketConnectable) parsed = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) effective = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (self->listen_address == NULL, FALSE);

  parsed = g_network_address_parse (self->address, 0, error);
  if (parsed == NULL)
    return FALSE;
  inet = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)));
  if (inet == NULL || !g_inet_address_get_is_loopback (inet))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "refusing to listen on %s: the fake server listens only on "
                   "numeric loopback addresses such as 127.0.0.1 or [::1]",
                   self->address);
      return FALSE;
    }

  address = g_inet_socket_address_new (inet, g_network_address_get_port (G_NETWORK_ADDRESS (parsed)));
  if (!g_socket_listener_add_address (self->listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    return FALSE;

  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  host = g_inet_address_to_string (inet);
  self->listen_address = g_strdup_printf (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
                                            ? "[%s]:%u" : "%s:%u",
                                          host, self->port);
  return start (self, error);
}

/**
 * smtpkit_fake_server_listen_unix:
 * @server: a server
 * @path: the socket file to create; it is removed by
 *   [method@FakeServer.stop]
 * @error: return location for a #GError
 *
 * Listens on a unix socket and starts serving.
 *
 * Returns: %TRUE when listening, %FALSE with @error set
 */
gboolean
smtpkit_fake_server_listen_unix (SmtpkitFakeServer  *self,
                                 const char         *path,
                                 GError            **error)
{
  g_autoptr (GSocketAddress) address = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (self->listen_address == NULL, FALSE);

  address = g_unix_socket_address_new (path);
  if (!g_socket_listener_add_address (self->listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error))
    return FALSE;

  self->unix_path = g_strdup (path);
  self->listen_address = g_strdup (path);
  return start (self, error);
}

/**
 * smtpkit_fake_server_get_port:
 * @server: a server
 *
 * Returns: the TCP port listened on, or 0
 */
guint16
smtpkit_fake_server_get_port (SmtpkitFakeServer *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), 0);

  return self->port;
}

/**
 * smtpkit_fake_server_get_listen_address:
 * @server: a server
 *
 * Where the server listens, for messages: `127.0.0.1:PORT`, `[::1]:PORT`
 * or the path of the unix socket.
 *
 * Returns: (nullable): the address, or %NULL before listening
 */
const char *
smtpkit_fake_server_get_listen_address (SmtpkitFakeServer *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), NULL);

  return self->listen_address;
}

/**
 * smtpkit_fake_server_wait:
 * @server: a scripted server
 * @timeout_ms: how long to wait
 * @error: return location for a #GError
 *
 * Blocks until the scenario has finished on its connection: the client
 * closed the connection after the last step, the script closed it, or
 * the client did not do what a step expects. Calling it again gives the
 * same outcome.
 *
 * Returns: %TRUE when the whole scenario was played and matched. %FALSE
 *   with the first mismatch (%SMTPKIT_FAKE_SERVER_ERROR_MISMATCH, or
 *   %SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT when the client was silent), or
 *   %SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT when the scenario did not finish
 *   within @timeout_ms
 */
gboolean
smtpkit_fake_server_wait (SmtpkitFakeServer  *self,
                          guint               timeout_ms,
                          GError            **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (self->scenario != NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  while (!self->finished && g_cond_wait_until (&self->cond, &self->lock, deadline))
    ;

  if (!self->finished && !self->connected)
    g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
                 "%s: no client connected within %u ms",
                 smtpkit_scenario_get_name (self->scenario), timeout_ms);
  else if (!self->finished)
    g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
                 "%s: the scenario did not finish within %u ms; the conversation so far:\n%s",
                 smtpkit_scenario_get_name (self->scenario), timeout_ms, self->transcript->str);
  else if (self->result != NULL)
    g_propagate_error (error, g_error_copy (self->result));

  return self->finished && self->result == NULL;
}

/**
 * smtpkit_fake_server_get_transcript:
 * @server: a scripted server
 *
 * The conversation on the scripted connection so far, one line per step:
 * `S: ` for what the server sent, `C: ` for what it read, escaped as in
 * scenario files, a final CRLF left out. For failure messages.
 *
 * Returns: (transfer full): the transcript
 */
char *
smtpkit_fake_server_get_transcript (SmtpkitFakeServer *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), NULL);

  locker = g_mutex_locker_new (&self->lock);
  return g_strdup (self->transcript->str);
}

/**
 * smtpkit_fake_server_get_message_count:
 * @server: a sink server
 *
 * Returns: how many messages the sink has stored; safe from any thread
 */
guint
smtpkit_fake_server_get_message_count (SmtpkitFakeServer *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), 0);

  return g_atomic_int_get (&self->message_count);
}

/**
 * smtpkit_fake_server_set_faults:
 * @server: a sink server, not listening yet
 * @rates: the chance of each fault per reply, as
 *   `4xx=0.01,disconnect=0.005,stall=0.001` (each from 0 to 1, at most 1
 *   in all; a fault left out does not happen)
 * @seed: the seed of the random choices
 * @error: return location for a #GError
 *
 * Makes the sink fail at random: for each reply (the greeting, the reply
 * to each command, the final reply after the data), a `4xx` fault answers
 * `451` instead and leaves the command undone (RSET and QUIT are never
 * refused), a `disconnect` closes the
 * connection without a reply, and a `stall` sends nothing more and waits
 * for the client to close (or the step timeout). A message whose final
 * reply is a fault is not stored and not counted. The faults of the N-th
 * connection accepted depend only on @seed and N.
 *
 * Returns: %TRUE, or %FALSE with @error set when @rates cannot be read
 */
gboolean
smtpkit_fake_server_set_faults (SmtpkitFakeServer  *self,
                                const char         *rates,
                                guint32             seed,
                                GError            **error)
{
  static const char *const names[SMTPKIT_FAKE_N_FAULTS] = { NULL, "4xx", "disconnect", "stall" };
  double parsed[SMTPKIT_FAKE_N_FAULTS] = { 0 };
  g_auto (GStrv) items = NULL;
  double total = 0;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (rates != NULL, FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  items = g_strsplit (rates, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *eq = strchr (items[i], '=');
      char *end = NULL;
      guint kind;
      double rate = -1;

      for (kind = SMTPKIT_FAKE_FAULT_4XX; kind < SMTPKIT_FAKE_N_FAULTS; kind++)
        if (eq != NULL && strncmp (items[i], names[kind], eq - items[i]) == 0 &&
            names[kind][eq - items[i]] == '\0')
          break;
      if (eq != NULL)
        rate = g_ascii_strtod (eq + 1, &end);
      if (kind == SMTPKIT_FAKE_N_FAULTS || end == eq + 1 || *end != '\0' || !(rate >= 0 && rate <= 1))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "bad fault rate '%s' in '%s': expected FAULT=RATE, FAULT one of "
                       "4xx, disconnect, stall and RATE from 0 to 1",
                       items[i], rates);
          return FALSE;
        }
      parsed[kind] = rate;
      total += rate;
    }
  if (total > 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the fault rates '%s' add up to more than 1", rates);
      return FALSE;
    }

  memcpy (self->fault_rates, parsed, sizeof parsed);
  self->faults = total > 0;
  self->fault_seed = seed;
  return TRUE;
}

/**
 * smtpkit_fake_server_get_fault_count:
 * @server: a sink server
 * @fault: a fault
 *
 * Returns: how many times the sink injected @fault; safe from any thread
 */
guint
smtpkit_fake_server_get_fault_count (SmtpkitFakeServer *self,
                                     SmtpkitFakeFault   fault)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), 0);
  g_return_val_if_fail (fault > SMTPKIT_FAKE_FAULT_NONE && fault < SMTPKIT_FAKE_N_FAULTS, 0);

  return g_atomic_int_get (&self->fault_counts[fault]);
}

/**
 * smtpkit_fake_server_stop:
 * @server: a server
 *
 * Stops listening, breaks off every connection, and returns once every
 * thread of the server has ended. A scenario still playing ends with a
 * mismatch. Called on dispose; calling it again does nothing. Do not call
 * it (or drop the last reference) from a signal handler.
 */
void
smtpkit_fake_server_stop (SmtpkitFakeServer *self)
{
  g_return_if_fail (SMTPKIT_IS_FAKE_SERVER (self));

  g_cancellable_cancel (self->cancellable);
  if (self->thread != NULL)
    {
      g_autoptr (GSource) source = g_idle_source_new ();

      /* The pending accept is cancelled in the thread that runs it: GLib
       * 2.74 leaks a GCancellableSource that is disposed in one thread
       * while its cancellable is being cancelled in another. */
      g_source_set_callback (source, stop_accepting, self, NULL);
      g_source_attach (source, self->context);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  g_socket_listener_close (self->listener);
  if (self->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  if (self->unix_path != NULL)
    g_unlink (self->unix_path);
  g_clear_pointer (&self->unix_path, g_free);
}

/* ---- for the player and the sink -------------------------------------- */

void
smtpkit_fake_server_add_transcript (SmtpkitFakeServer *self,
                                    const char        *line)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_string_append (self->transcript, line);
  g_string_append_c (self->transcript, '\n');
}

SmtpkitFakeFault
smtpkit_fake_server_draw_fault (SmtpkitFakeServer *self,
                                GRand             *faults,
                                gboolean           may_refuse)
{
  double x;

  if (faults == NULL)
    return SMTPKIT_FAKE_FAULT_NONE;
  x = g_rand_double (faults);
  for (guint kind = SMTPKIT_FAKE_FAULT_4XX; kind < SMTPKIT_FAKE_N_FAULTS; kind++)
    {
      if (x < self->fault_rates[kind])
        {
          if (kind == SMTPKIT_FAKE_FAULT_4XX && !may_refuse)
            return SMTPKIT_FAKE_FAULT_NONE;
          g_atomic_int_inc (&self->fault_counts[kind]);
          return kind;
        }
      x -= self->fault_rates[kind];
    }
  return SMTPKIT_FAKE_FAULT_NONE;
}

guint
smtpkit_fake_server_next_message_index (SmtpkitFakeServer *self)
{
  return g_atomic_int_add (&self->next_index, 1) + 1;
}

void
smtpkit_fake_server_message_received (SmtpkitFakeServer *self,
                                      guint              index,
                                      const char        *path,
                                      const char        *sender,
                                      char             **recipients,
                                      guint64            size)
{
  g_atomic_int_inc (&self->message_count);
  g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, index, path, sender, recipients, size);
}

/* ---- the private directory -------------------------------------------- */

static char *private_dir;

static void
remove_private_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (private_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (private_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (private_dir);
}

/* A directory of the process's own for the CA file and the sasldb,
 * created once and removed (with the files in it) at exit. */
const char *
smtpkit_fake_server_private_dir (GError **error)
{
  static gsize once = 0;
  static GError *failure;

  if (g_once_init_enter (&once))
    {
      private_dir = g_dir_make_tmp ("smtpkit-fake-XXXXXX", &failure);
      if (private_dir != NULL)
        atexit (remove_private_dir);
      g_once_init_leave (&once, 1);
    }
  if (private_dir == NULL)
    g_propagate_error (error, g_error_copy (failure));
  return private_dir;
}

/**
 * smtpkit_fake_server_set_any_case:
 * @server: a scripted server, not listening yet
 * @any_case: whether `expect` matches command verbs and keywords
 *   whatever their case
 *
 * RFC 5321 §2.4: verbs and keywords are not case-sensitive, and clients
 * differ (smtplib sends `ehlo` and `mail FROM:`). With @any_case, an
 * `expect` step compares the verb, the `FROM:` and `TO:` of MAIL and RCPT,
 * their parameters' keywords and BDAT's `LAST` without regard to case;
 * everything else (addresses, arguments) still byte for byte. Off by
 * default: libsmtpkit's own spelling is checked exactly.
 */
void
smtpkit_fake_server_set_any_case (SmtpkitFakeServer *self,
                                  gboolean           any_case)
{
  g_return_if_fail (SMTPKIT_IS_FAKE_SERVER (self));
  g_return_if_fail (self->thread == NULL);

  self->any_case = any_case;
}

gboolean
smtpkit_fake_server_get_any_case (SmtpkitFakeServer *self)
{
  return self->any_case;
}
