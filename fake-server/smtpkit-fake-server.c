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
 *   messages, and stores each message in a spool directory, a Maildir,
 *   with its envelope as JSON beside it; [method@FakeServer.get_received]
 *   lists them. For the error paths of an application, a sink can refuse
 *   what matches a pattern ([method@FakeServer.add_reply]), close after
 *   a step ([method@FakeServer.set_close_after]), answer slowly
 *   ([property@FakeServer:reply-delay]) or fail at random
 *   ([method@FakeServer.set_faults]); it can require AUTH
 *   ([method@FakeServer.set_auth_mechanisms]) and TLS.
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
  gboolean own_spool;        /* made by the server, removed with it */
  GError *spool_error;       /* why it could not be made */
  GStrv extensions;
  char *hostname;
  char *address;
  guint step_timeout;
  GTlsCertificate *tls_certificate; /* sink: offers STARTTLS */
  gboolean implicit_tls;            /* sink */
  gboolean any_case;                /* scripted: verbs match in any case */
  GStrv auth_mechanisms;            /* sink: AUTH offered; NULL: not */
  GHashTable *users;                /* sink: user name → password */
  gboolean any_credentials;         /* sink */
  gboolean require_tls;             /* sink */
  gboolean require_auth;            /* sink */
  guint reply_delay;                /* sink */
  gboolean keep_received;           /* sink: the list of @received */
  SmtpkitFakeStep close_after;      /* sink */
  GPtrArray *rules;                 /* sink: of SmtpkitFakeRule */
  GStrv offered_extensions;         /* sink: @extensions but AUTH */
  SmtpkitFakeSinkConfig sink_config; /* made from all that by start() */

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
  GPtrArray *received; /* sink: of SmtpkitFakeMail */
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
  PROP_REQUIRE_TLS,
  PROP_REQUIRE_AUTH,
  PROP_REPLY_DELAY,
  PROP_KEEP_RECEIVED,
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
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) smtpkit_fake_rule_free);
  self->received = g_ptr_array_new_with_free_func (g_object_unref);
  self->keep_received = TRUE;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
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
  if (self->own_spool)
    remove_tree (self->spool_dir);
  g_free (self->spool_dir);
  g_clear_error (&self->spool_error);
  g_strfreev (self->extensions);
  g_strfreev (self->offered_extensions);
  g_strfreev (self->auth_mechanisms);
  g_hash_table_unref (self->users);
  g_ptr_array_unref (self->rules);
  g_ptr_array_unref (self->received);
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
    case PROP_REQUIRE_TLS:
      g_value_set_boolean (value, self->require_tls);
      break;
    case PROP_REQUIRE_AUTH:
      g_value_set_boolean (value, self->require_auth);
      break;
    case PROP_REPLY_DELAY:
      g_value_set_uint (value, self->reply_delay);
      break;
    case PROP_KEEP_RECEIVED:
      g_value_set_boolean (value, self->keep_received);
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
    case PROP_REQUIRE_TLS:
      self->require_tls = g_value_get_boolean (value);
      break;
    case PROP_REQUIRE_AUTH:
      self->require_auth = g_value_get_boolean (value);
      break;
    case PROP_REPLY_DELAY:
      self->reply_delay = g_value_get_uint (value);
      break;
    case PROP_KEEP_RECEIVED:
      self->keep_received = g_value_get_boolean (value);
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

  /**
   * SmtpkitFakeServer:require-tls:
   *
   * Sink only: MAIL and AUTH are refused with `530 5.7.0` until the
   * client has started TLS, and AUTH is offered only under TLS. Set it
   * before listening.
   */
  properties[PROP_REQUIRE_TLS] =
    g_param_spec_boolean ("require-tls", NULL, NULL, FALSE, flags);

  /**
   * SmtpkitFakeServer:require-auth:
   *
   * Sink only: MAIL is refused with `530 5.7.0` until the client has
   * authenticated (see [method@FakeServer.set_auth_mechanisms]). Set it
   * before listening.
   */
  properties[PROP_REQUIRE_AUTH] =
    g_param_spec_boolean ("require-auth", NULL, NULL, FALSE, flags);

  /**
   * SmtpkitFakeServer:reply-delay:
   *
   * Sink only: how long the sink waits before each reply, in
   * milliseconds, to add latency. Each connection waits in its own
   * worker: other connections are not slowed down. Set it before
   * listening.
   */
  properties[PROP_REPLY_DELAY] =
    g_param_spec_uint ("reply-delay", NULL, NULL, 0, G_MAXUINT / 1000, 0, flags);

  /**
   * SmtpkitFakeServer:keep-received:
   *
   * Sink only: whether the sink keeps a [class@FakeMail] of every message
   * for [method@FakeServer.get_received], as it does by default. A sink
   * that runs for long or takes very many messages turns it off, so that
   * its memory does not grow; the messages are on disk all the same. Set
   * it before listening.
   */
  properties[PROP_KEEP_RECEIVED] =
    g_param_spec_boolean ("keep-received", NULL, NULL, TRUE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SmtpkitFakeServer::message-received:
   * @server: the server
   * @index: the message number, from 1, as in the reply `250 2.0.0 Ok:
   *   queued as 000001`
   * @path: the file that holds the message: `SPOOL/new/NAME`
   * @sender: the reverse-path of MAIL FROM, without angle brackets
   * @recipients: the forward-paths of RCPT TO, without angle brackets
   * @size: the size of the message in bytes, after un-dot-stuffing
   *
   * A sink has stored a message in `SPOOL/new/`, and its envelope in
   * `SPOOL/envelopes/NAME.json` (see [class@FakeMail]). Emitted **in the
   * worker thread** that serves the client, before the final 250 reply
   * is sent: when a client has its 250, the handler has run. Numbers are
   * given out when DATA starts, so a message cut short leaves a gap.
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
 * @spool_dir: (nullable): where to store messages, a Maildir; created
 *   when missing. %NULL: a new temporary directory, removed with the
 *   server (see [method@FakeServer.get_spool_dir])
 * @extensions: (array zero-terminated=1) (nullable): EHLO keywords with
 *   their parameters, such as `"SIZE 1000000"`, `"PIPELINING"`
 *
 * A server that accepts any mail from any number of clients. It answers
 * EHLO, HELO, MAIL, RCPT, DATA, BDAT, RSET, NOOP, VRFY, EXPN, HELP, QUIT,
 * STARTTLS (with [property@FakeServer:tls-certificate]) and AUTH (with
 * [method@FakeServer.set_auth_mechanisms]). Each message is written
 * (un-dot-stuffed, streamed to disk) in `SPOOL/tmp/` under a unique
 * Maildir name, its envelope in `SPOOL/envelopes/NAME.json`, and then
 * the message is moved into `SPOOL/new/NAME`: a sink never overwrites a
 * message, even one left by an earlier run. With `SIZE n` among
 * @extensions, MAIL with a larger SIZE= parameter gets 552; `AUTH MECH
 * ...` among them is the same as
 * [method@FakeServer.set_auth_mechanisms], accepting any credentials
 * unless users are added. See [signal@FakeServer::message-received].
 *
 * Returns: (transfer full): a new server; call a `listen` method next
 */
SmtpkitFakeServer *
smtpkit_fake_server_new_sink (const char        *spool_dir,
                              const char *const *extensions)
{
  SmtpkitFakeServer *self = g_object_new (SMTPKIT_TYPE_FAKE_SERVER, NULL);
  const char *const none[] = { NULL };

  if (spool_dir != NULL)
    self->spool_dir = g_strdup (spool_dir);
  else
    {
      self->spool_dir = g_dir_make_tmp ("smtpkit-fake-sink-XXXXXX", &self->spool_error);
      self->own_spool = self->spool_dir != NULL;
    }
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
    smtpkit_fake_sink_serve (self, conn, faults);
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
is_auth_extension (const char *extension)
{
  return g_ascii_strncasecmp (extension, "AUTH", 4) == 0 &&
         (extension[4] == '\0' || extension[4] == ' ');
}

/* "AUTH PLAIN LOGIN" among the extensions offers AUTH as
 * smtpkit_fake_server_set_auth_mechanisms() does: the sink answers it. */
static gboolean
take_auth_extension (SmtpkitFakeServer  *self,
                     GError            **error)
{
  g_autoptr (GStrvBuilder) offered = g_strv_builder_new ();

  for (guint i = 0; self->extensions[i] != NULL; i++)
    {
      g_auto (GStrv) words = NULL;

      if (!is_auth_extension (self->extensions[i]))
        {
          g_strv_builder_add (offered, self->extensions[i]);
          continue;
        }
      if (self->auth_mechanisms != NULL)
        continue;
      words = g_strsplit (self->extensions[i] + 4, " ", -1);
      for (guint j = 0; words[j] != NULL; j++)
        if (*words[j] != '\0' && !smtpkit_fake_server_set_auth_mechanisms (
                                     self, (const char *const[]){ words[j], NULL }, error))
          return FALSE;
      self->any_credentials |= g_hash_table_size (self->users) == 0;
    }
  self->offered_extensions = g_strv_builder_end (offered);
  return TRUE;
}

/* Every mechanism can be checked with the users given: a mistake is
 * told at once, not as a 454 to the client. */
static gboolean
check_auth (SmtpkitFakeServer  *self,
            GError            **error)
{
  if (self->auth_mechanisms == NULL && self->require_auth)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "require-auth is set, but AUTH is not offered: no client could send");
      return FALSE;
    }
  if (self->auth_mechanisms == NULL)
    return TRUE;
  if (g_hash_table_size (self->users) == 0 && !self->any_credentials)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "AUTH is offered, but no user can log in: add a user and password, "
                   "or accept any credentials");
      return FALSE;
    }
  for (guint i = 0; self->auth_mechanisms[i] != NULL; i++)
    {
      g_autoptr (SmtpkitFakeAuth) auth = smtpkit_fake_auth_new_for_users (
        self->auth_mechanisms[i], self->users, self->any_credentials, error);

      if (auth == NULL)
        return FALSE;
    }
  return TRUE;
}

/* Fixes the sink's configuration, once: by start(), or by a caller that
 * serves a connection itself (the fuzz target). */
gboolean
smtpkit_fake_server_prepare_sink (SmtpkitFakeServer  *self,
                                  GError            **error)
{
  SmtpkitFakeSinkConfig *config = &self->sink_config;

  if (self->offered_extensions != NULL)
    return TRUE;

  if (self->spool_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->spool_error));
      return FALSE;
    }
  if (!smtpkit_fake_sink_make_spool (self->spool_dir, error) ||
      !take_auth_extension (self, error) || !check_auth (self, error))
    return FALSE;

  config->hostname = self->hostname;
  config->spool_dir = self->spool_dir;
  config->extensions = (const char *const *) self->offered_extensions;
  config->certificate = self->tls_certificate;
  config->implicit_tls = self->implicit_tls;
  config->auth_mechanisms = (const char *const *) self->auth_mechanisms;
  config->users = self->users;
  config->any_credentials = self->any_credentials;
  config->require_tls = self->require_tls;
  config->require_auth = self->require_auth;
  config->reply_delay = self->reply_delay;
  config->close_after = self->close_after;
  config->rules = self->rules;
  return TRUE;
}

static gboolean
start (SmtpkitFakeServer  *self,
       GError            **error)
{
  if (self->scenario == NULL && !smtpkit_fake_server_prepare_sink (self, error))
    return FALSE;

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
                                      SmtpkitFakeMail   *mail)
{
  g_mutex_lock (&self->lock);
  if (self->keep_received)
    g_ptr_array_add (self->received, g_object_ref (mail));
  g_atomic_int_inc (&self->message_count);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, mail->index, mail->path, mail->sender,
                 mail->recipients->pdata, mail->size);
}

const SmtpkitFakeSinkConfig *
smtpkit_fake_server_get_sink_config (SmtpkitFakeServer *self)
{
  return &self->sink_config;
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

/* ---- sink configuration and results ----------------------------------- */

/**
 * smtpkit_fake_server_set_auth_mechanisms:
 * @server: a sink server, not listening yet
 * @mechanisms: (array zero-terminated=1): SASL mechanisms, such as
 *   `PLAIN`, `LOGIN`, `CRAM-MD5`, `SCRAM-SHA-256`
 * @error: return location for a #GError
 *
 * Offers AUTH with @mechanisms in the EHLO reply (with
 * [property@FakeServer:require-tls], only under TLS) and checks the
 * client's credentials against the users of
 * [method@FakeServer.add_user], or accepts any with
 * [method@FakeServer.set_accept_any_credentials]: `235` when they
 * verify, `535 5.7.8` when they do not. PLAIN, LOGIN and CRAM-MD5 are
 * checked by the fake server itself; other mechanisms by Cyrus SASL (see
 * [func@FakeServer.supports_auth]), which needs the passwords. The user
 * who authenticated is in the envelope of each message
 * ([method@FakeMail.get_auth_user]). Calling it again adds mechanisms.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_NOT_SUPPORTED when a
 *   mechanism cannot be checked
 */
gboolean
smtpkit_fake_server_set_auth_mechanisms (SmtpkitFakeServer  *self,
                                         const char *const  *mechanisms,
                                         GError            **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (mechanisms != NULL, FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  if (self->auth_mechanisms != NULL)
    g_strv_builder_addv (builder, (const char **) self->auth_mechanisms);
  for (guint i = 0; mechanisms[i] != NULL; i++)
    {
      g_autofree char *name = g_ascii_strup (mechanisms[i], -1);

      if (!smtpkit_fake_server_supports_auth (name, error))
        return FALSE;
      if (self->auth_mechanisms == NULL ||
          !g_strv_contains ((const char *const *) self->auth_mechanisms, name))
        g_strv_builder_add (builder, name);
    }
  g_strfreev (self->auth_mechanisms);
  self->auth_mechanisms = g_strv_builder_end (builder);
  return TRUE;
}

/**
 * smtpkit_fake_server_add_user:
 * @server: a sink server, not listening yet
 * @user: a user name
 * @password: its password
 *
 * Lets @user authenticate with @password (see
 * [method@FakeServer.set_auth_mechanisms]). Adding a user again changes
 * the password.
 */
void
smtpkit_fake_server_add_user (SmtpkitFakeServer *self,
                              const char        *user,
                              const char        *password)
{
  g_return_if_fail (SMTPKIT_IS_FAKE_SERVER (self));
  g_return_if_fail (user != NULL && password != NULL);
  g_return_if_fail (self->thread == NULL);

  g_hash_table_insert (self->users, g_strdup (user), g_strdup (password));
}

/**
 * smtpkit_fake_server_set_accept_any_credentials:
 * @server: a sink server, not listening yet
 * @accept_any: whether any user name and password are accepted
 *
 * With @accept_any, AUTH succeeds whatever the credentials, for the
 * mechanisms that do not need the password on the server's side (PLAIN,
 * LOGIN, CRAM-MD5); the user name the client gave is the authenticated
 * user.
 */
void
smtpkit_fake_server_set_accept_any_credentials (SmtpkitFakeServer *self,
                                                gboolean           accept_any)
{
  g_return_if_fail (SMTPKIT_IS_FAKE_SERVER (self));
  g_return_if_fail (self->thread == NULL);

  self->any_credentials = accept_any;
}

/**
 * smtpkit_fake_server_add_reply:
 * @server: a sink server, not listening yet
 * @rule: `STEP=REPLY` or `STEP:PATTERN=REPLY`, such as
 *   `rcpt:*@bad.test=550 5.1.1 No such user`
 * @error: return location for a #GError
 *
 * Makes the sink answer a step with REPLY, a 4xx or 5xx reply code and
 * its text, instead of carrying it out. The steps are `greeting`, `ehlo`
 * (EHLO and HELO), `mail`, `rcpt`, `data` (the reply to DATA itself, or
 * to each BDAT chunk before the last) and `dot` (the reply after the data,
 * or to BDAT LAST: the message is not
 * stored). For `ehlo`, `mail` and `rcpt`, a #GPatternSpec glob (`*` and
 * `?`) may choose which EHLO names or addresses the rule is for, compared
 * without regard to case. The first rule that matches wins. After a
 * greeting that starts with 421 the sink closes.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_INVALID_ARGUMENT when @rule
 *   cannot be read
 */
gboolean
smtpkit_fake_server_add_reply (SmtpkitFakeServer  *self,
                               const char         *rule,
                               GError            **error)
{
  SmtpkitFakeRule *parsed;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (rule != NULL, FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  parsed = smtpkit_fake_rule_parse (rule, error);
  if (parsed == NULL)
    return FALSE;
  g_ptr_array_add (self->rules, parsed);
  return TRUE;
}

/**
 * smtpkit_fake_server_set_close_after:
 * @server: a sink server, not listening yet
 * @step: (nullable): `greeting`, `ehlo`, `mail`, `rcpt`, `data` or
 *   `dot` (as in [method@FakeServer.add_reply]); %NULL: never
 * @error: return location for a #GError
 *
 * Makes the sink close the connection right after its reply to @step,
 * whatever that reply was: after `data`, the client is cut off while it
 * sends the message; after `dot`, the message is stored but the client
 * finds the connection closed when it goes on.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_INVALID_ARGUMENT for an
 *   unknown step
 */
gboolean
smtpkit_fake_server_set_close_after (SmtpkitFakeServer  *self,
                                     const char         *step,
                                     GError            **error)
{
  SmtpkitFakeStep parsed = SMTPKIT_FAKE_STEP_NONE;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  if (step != NULL && !smtpkit_fake_step_parse (step, &parsed, error))
    return FALSE;
  self->close_after = parsed;
  return TRUE;
}

/**
 * smtpkit_fake_server_get_spool_dir:
 * @server: a sink server
 *
 * The Maildir the sink stores messages in: the one given to
 * [ctor@FakeServer.new_sink], or the temporary one the server made,
 * which it removes when it is finalized.
 *
 * Returns: (nullable): the directory, or %NULL for a scripted server (or
 *   when a temporary directory could not be made: listening says why)
 */
const char *
smtpkit_fake_server_get_spool_dir (SmtpkitFakeServer *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), NULL);

  return self->spool_dir;
}

static gpointer
ref_mail (gconstpointer mail,
          gpointer      user_data)
{
  return g_object_ref ((gpointer) mail);
}

/**
 * smtpkit_fake_server_get_received:
 * @server: a sink server
 *
 * The messages the sink has stored so far, in the order their final
 * reply was sent (none when [property@FakeServer:keep-received] is
 * off). Safe from any thread.
 *
 * Returns: (transfer full) (element-type SmtpkitFakeMail): a new array
 */
GPtrArray *
smtpkit_fake_server_get_received (SmtpkitFakeServer *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), NULL);

  locker = g_mutex_locker_new (&self->lock);
  return g_ptr_array_copy (self->received, ref_mail, NULL);
}

/**
 * smtpkit_fake_server_wait_for_messages:
 * @server: a sink server
 * @count: how many messages
 * @timeout_ms: how long to wait at most
 * @error: return location for a #GError
 *
 * Blocks until the sink has stored @count messages in all, for a test
 * whose application sends in the background. A client that has its
 * final 250 need not wait: the message is stored by then.
 *
 * Returns: %TRUE, or %FALSE with %SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT
 */
gboolean
smtpkit_fake_server_wait_for_messages (SmtpkitFakeServer  *self,
                                       guint               count,
                                       guint               timeout_ms,
                                       GError            **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_SERVER (self), FALSE);

  locker = g_mutex_locker_new (&self->lock);
  while ((guint) g_atomic_int_get (&self->message_count) < count &&
         g_cond_wait_until (&self->cond, &self->lock, deadline))
    ;
  if ((guint) g_atomic_int_get (&self->message_count) >= count)
    return TRUE;
  g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
               "the sink received %d messages of %u within %u ms",
               g_atomic_int_get (&self->message_count), count, timeout_ms);
  return FALSE;
}
