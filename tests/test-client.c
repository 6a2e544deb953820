/* test-client.c: the client's behaviour outside any one conversation
 *
 * Properties and their validation, plugins, transports, signals, the
 * transcript, concurrency rules, cancellation and the connection's
 * lifetime. Conversations themselves are checked by the scenario files
 * (test-scenarios.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <math.h>

#include <glib/gstdio.h>

#include "smtpkit-fake-server.h"
#include "smtpkit-scenario.h"

/* ---- helpers ---------------------------------------------------------------- */

static SmtpkitFakeServer *
start_scripted (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("inline", text, &error);
  SmtpkitFakeServer *server;

  g_assert_no_error (error);
  server = smtpkit_fake_server_new_scripted (scenario);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  return server;
}

static void
assert_script_played (SmtpkitFakeServer *server)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_wait (server, 15000, &error);
  g_assert_no_error (error);
  smtpkit_fake_server_stop (server);
}

static char *
server_address (SmtpkitFakeServer *server)
{
  return g_strdup_printf ("127.0.0.1:%u", smtpkit_fake_server_get_port (server));
}

static SmtpkitClient *
new_client (void)
{
  SmtpkitClient *client = smtpkit_client_new ();

  g_assert_true (smtpkit_client_set_local_hostname (client, "client.test", NULL));
  return client;
}

typedef struct
{
  GAsyncResult *result;
} Waiter;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
}

static GAsyncResult *
wait_for (Waiter *waiter)
{
  while (waiter->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return waiter->result;
}

/* For the test transports, which only connect to the fake server on this
 * machine: without the proxy resolver (main() installs one that refuses
 * everything). */
static GSocketClient *
direct_client_new (void)
{
  GSocketClient *client = g_socket_client_new ();

  g_socket_client_set_enable_proxy (client, FALSE);
  return client;
}

static const char greeting_then_quit[] =
  "client:\n"
  "  connect => 220\n"
  "server:\n"
  "  send 220 fake.test ESMTP\n"
  "  expect QUIT\n"
  "  send 221 bye\n";

/* ---- not connected ----------------------------------------------------------- */

static void
test_not_connected (void)
{
  g_autoptr (SmtpkitClient) client = new_client ();
  const char *to[] = { "bob@example.org", NULL };
  g_autoptr (GBytes) body = g_bytes_new_static ("x\r\n", 3);
  g_autoptr (GError) error = NULL;
  Waiter waiter = { 0 };

  g_assert_false (smtpkit_client_is_connected (client));
  g_assert_null (smtpkit_client_noop (client, NULL, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
  g_clear_error (&error);
  g_assert_null (smtpkit_client_ehlo (client, NULL, NULL, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
  g_clear_error (&error);
  g_assert_null (smtpkit_client_sendmail (client, "a@example.org", to, body, NULL, NULL, NULL, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
  g_clear_error (&error);
  g_assert_false (smtpkit_client_ehlo_or_helo_if_needed (client, NULL, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
  g_clear_error (&error);

  smtpkit_client_quit_async (client, NULL, on_done, &waiter);
  g_assert_null (smtpkit_client_quit_finish (client, wait_for (&waiter), &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
  g_clear_object (&waiter.result);

  /* close() without a connection is harmless. */
  smtpkit_client_close (client);
}

/* ---- properties ---------------------------------------------------------------- */

static void
test_timeout_property (void)
{
  g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
  g_autoptr (GError) error = NULL;
  double value;

  g_assert_cmpfloat (smtpkit_client_get_timeout (client), <, 0);
  g_assert_false (smtpkit_client_set_timeout (client, 0, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (smtpkit_client_set_timeout (client, NAN, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpfloat (smtpkit_client_get_timeout (client), <, 0);

  g_assert_true (smtpkit_client_set_timeout (client, 2.5, &error));
  g_assert_no_error (error);
  g_object_get (client, "timeout", &value, NULL);
  g_assert_cmpfloat (value, ==, 2.5);
  g_assert_true (smtpkit_client_set_timeout (client, -3, &error));
  g_assert_cmpfloat (smtpkit_client_get_timeout (client), ==, -1);
}

static void
test_local_hostname (void)
{
  g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
  g_autoptr (GError) error = NULL;
  const char *fqdn = smtpkit_client_get_local_hostname (client);

  g_assert_nonnull (fqdn);
  g_assert_cmpuint (strlen (fqdn), >, 0);
  g_assert_null (strpbrk (fqdn, "\r\n "));

  g_assert_false (smtpkit_client_set_local_hostname (client, "evil\r\nRSET", &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (smtpkit_client_set_local_hostname (client, "", &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpstr (smtpkit_client_get_local_hostname (client), ==, fqdn);

  g_assert_true (smtpkit_client_set_local_hostname (client, "mx.example.org", &error));
  g_assert_cmpstr (smtpkit_client_get_local_hostname (client), ==, "mx.example.org");
  g_assert_true (smtpkit_client_set_local_hostname (client, NULL, &error));
  g_assert_cmpstr (smtpkit_client_get_local_hostname (client), ==, fqdn);
}

/* ---- plugins and transports ------------------------------------------------------ */

static void
test_tls_backend (void)
{
  GTlsBackend *backend = g_tls_backend_get_default ();

  /* The TLS backend is itself a GIO module: glib-networking's GnuTLS. */
  g_assert_true (g_tls_backend_supports_tls (backend));
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (backend), ==, "GTlsBackendGnutls");
}

static void
test_missing_plugin (void)
{
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  const char *path = g_getenv ("SMTPKIT_PLUGIN_PATH");

  g_object_set (client, "transport", "no-such-transport", NULL);
  g_assert_null (smtpkit_client_connect (client, "127.0.0.1", 25, NULL, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no-such-transport"));
  g_assert_nonnull (path);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (smtpkit_client_is_connected (client));
}

/* Whether a module whose file name contains @name is mapped into this
 * process. */
static gboolean
module_mapped (const char *name)
{
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, name) != NULL;
}

/* With the build tree's giomodule.cache, a session that sends without
 * logging in loads no mechanism module (Cyrus SASL and its own plugins
 * stay out of the process); asking for a mechanism loads them. In a
 * fresh process, so that no other test has loaded them. */
static void
test_plugins_lazy (void)
{
  g_autofree char *cache = g_build_filename (g_getenv ("SMTPKIT_PLUGIN_PATH"), "giomodule.cache",
                                             NULL);

  if (!g_file_test (cache, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no giomodule.cache in the plugin folder (a sanitizer build)");
      return;
    }
  if (g_test_subprocess ())
    {
      const char *extensions[] = { "PIPELINING", NULL };
      g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, extensions);
      g_autoptr (SmtpkitClient) client = new_client ();
      g_autoptr (SmtpkitReply) greeting = NULL;
      g_autoptr (GHashTable) refused = NULL;
      g_autoptr (GBytes) message = g_bytes_new_static ("Subject: s\r\n\r\nsmall\r\n", 23);
      g_autoptr (SmtpkitAuthMechanism) plain = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *host = NULL;
      const char *to[] = { "b@example.org", NULL };

      smtpkit_fake_server_listen_tcp (server, &error);
      g_assert_no_error (error);
      host = server_address (server);
      greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
      g_assert_no_error (error);
      refused = smtpkit_client_sendmail (client, "a@example.org", to, message, NULL, NULL, NULL,
                                         &error);
      g_assert_no_error (error);
      g_assert_true (module_mapped ("libsmtpkit-tcp.so"));
      g_assert_false (module_mapped ("libsmtpkit-auth-cyrus.so"));
      g_assert_false (module_mapped ("libsmtpkit-auth-basic.so"));

      plain = smtpkit_auth_mechanism_new_for_name ("PLAIN", &error);
      g_assert_no_error (error);
      g_assert_true (module_mapped ("libsmtpkit-auth-basic.so"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A transport registered by the application itself, without a module. */
#define TEST_TYPE_TRANSPORT (test_transport_get_type ())
G_DECLARE_FINAL_TYPE (TestTransport, test_transport, TEST, TRANSPORT, GObject)

struct _TestTransport
{
  GObject parent_instance;
};

static int test_transport_connects;

static void
test_transport_connected (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GSocketConnection *connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source),
                                                                  result, &error);

  if (connection)
    g_task_return_pointer (task, connection, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
test_transport_connect_async (SmtpkitTransport    *transport,
                              const char          *host,
                              guint16              port,
                              GSocketAddress      *source_address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr (GSocketClient) client = direct_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);

  test_transport_connects++;
  g_socket_client_connect_async (client, address, cancellable, test_transport_connected,
                                 g_task_new (transport, cancellable, callback, user_data));
}

static GIOStream *
test_transport_connect_finish (SmtpkitTransport  *transport,
                               GAsyncResult      *result,
                               GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = test_transport_connect_async;
  iface->connect_finish = test_transport_connect_finish;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestTransport, test_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SMTPKIT_TYPE_TRANSPORT,
                                                      test_transport_iface_init))

static void
test_transport_class_init (TestTransportClass *klass)
{
}

static void
test_transport_init (TestTransport *self)
{
}

static void
test_in_process_transport (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted (greeting_then_quit);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_transport_register ("test-loop", TEST_TYPE_TRANSPORT, 10);
  g_object_set (client, "transport", "test-loop", NULL);
  greeting = smtpkit_client_connect (client, "127.0.0.1", smtpkit_fake_server_get_port (server),
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
  g_assert_cmpint (test_transport_connects, ==, 1);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (bye), ==, 221);
  assert_script_played (server);
}

static void
test_unix_socket (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("smtpkit-unix-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "lmtp.sock", NULL);
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GBytes) body = g_bytes_new_static ("Subject: unix\r\n\r\nhello\r\n", 25);
  const char *to[] = { "bob@example.org", NULL };

  g_assert_no_error (error);
  /* A spool of the server's own, removed with it. */
  server = smtpkit_fake_server_new_sink (NULL, NULL);
  smtpkit_fake_server_listen_unix (server, path, &error);
  g_assert_no_error (error);

  greeting = smtpkit_client_connect (client, path, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
  refused = smtpkit_client_sendmail (client, "alice@example.org", to, body, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  g_clear_object (&client);
  smtpkit_fake_server_stop (server);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, 1);

  g_clear_object (&server);
  g_assert_no_error (error);
  /* The socket is left for the system's temporary cleaner only when a
   * test fails; remove it. */
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_source_address (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted (greeting_then_quit);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitClient) unbindable = new_client ();
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) foreign = g_inet_socket_address_new_from_string ("192.0.2.1", 0);
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  /* An address this host does not have cannot be bound: proof it is used. */
  smtpkit_client_set_source_address (unbindable, foreign);
  g_assert_null (smtpkit_client_connect (unbindable, address, 0, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_clear_error (&error);

  smtpkit_client_set_source_address (client, local);
  g_assert_true (smtpkit_client_get_source_address (client) == local);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  assert_script_played (server);
}


static void
test_ipv6 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("inline", greeting_then_quit,
                                                                         &error);
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_scripted (scenario);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autofree char *host = NULL;

  g_object_set (server, "address", "[::1]:0", NULL);
  if (!smtpkit_fake_server_listen_tcp (server, &error))
    {
      g_test_skip_printf ("no IPv6 loopback here: %s", error->message);
      return;
    }
  /* An IPv6 literal has more than one colon: no "host:port" splitting. */
  greeting = smtpkit_client_connect (client, "::1", smtpkit_fake_server_get_port (server),
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  assert_script_played (server);
}


/* ---- the proxy resolver ------------------------------------------------- */

/* GIO's default proxy resolver in this program (main() makes it so): it
 * records each URI it is asked about and refuses them all, so that a
 * connection made through it fails with its error. */
static GPtrArray *proxy_lookups;

#define TEST_TYPE_PROXY_RESOLVER (test_proxy_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestProxyResolver, test_proxy_resolver, TEST, PROXY_RESOLVER, GObject)

struct _TestProxyResolver
{
  GObject parent_instance;
};

static gchar **
test_proxy_lookup (GProxyResolver  *resolver,
                   const gchar     *uri,
                   GCancellable    *cancellable,
                   GError         **error)
{
  g_ptr_array_add (proxy_lookups, g_strdup (uri));
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "the test resolver refuses %s", uri);
  return NULL;
}

static void
test_proxy_lookup_async (GProxyResolver      *resolver,
                         const gchar         *uri,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;

  test_proxy_lookup (resolver, uri, cancellable, &error);
  g_task_return_error (task, error);
}

static gchar **
test_proxy_lookup_finish (GProxyResolver  *resolver,
                          GAsyncResult    *result,
                          GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
test_proxy_is_supported (GProxyResolver *resolver)
{
  return TRUE;
}

static void
test_proxy_resolver_iface_init (GProxyResolverInterface *iface)
{
  iface->is_supported = test_proxy_is_supported;
  iface->lookup = test_proxy_lookup;
  iface->lookup_async = test_proxy_lookup_async;
  iface->lookup_finish = test_proxy_lookup_finish;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestProxyResolver, test_proxy_resolver, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER,
                                                      test_proxy_resolver_iface_init))

static void
test_proxy_resolver_class_init (TestProxyResolverClass *klass)
{
}

static void
test_proxy_resolver_init (TestProxyResolver *self)
{
}

static gboolean
proxy_was_asked_about (const char *host)
{
  for (guint i = 0; i < proxy_lookups->len; i++)
    if (strstr (g_ptr_array_index (proxy_lookups, i), host) != NULL)
      return TRUE;
  return FALSE;
}

/* Both TCP transports ask the proxy resolver about every destination but
 * this machine's loopback, which they connect to directly. */
static void
test_proxy_not_for_loopback (void)
{
  static const char *const loopback[] = { "127.0.0.1", "localhost", "LocalHost", "mail.localhost" };
  static const char *const elsewhere[] = { "192.0.2.1", "mail.example", "localhost.example" };
  static const char *const transports[] = { "tcp", "tls" };

  g_assert_true (G_IS_OBJECT (g_proxy_resolver_get_default ()));
  g_assert_true (TEST_IS_PROXY_RESOLVER (g_proxy_resolver_get_default ()));
  for (guint i = 0; i < G_N_ELEMENTS (loopback); i++)
    {
      g_autoptr (SmtpkitFakeServer) server = start_scripted (greeting_then_quit);
      g_autoptr (SmtpkitClient) client = new_client ();
      g_autoptr (SmtpkitReply) greeting = NULL;
      g_autoptr (SmtpkitReply) bye = NULL;
      g_autoptr (GError) error = NULL;

      greeting = smtpkit_client_connect (client, loopback[i], smtpkit_fake_server_get_port (server),
                                         NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
      bye = smtpkit_client_quit (client, NULL, &error);
      g_assert_no_error (error);
      assert_script_played (server);
      g_assert_cmpuint (proxy_lookups->len, ==, 0);
    }

  for (guint t = 0; t < G_N_ELEMENTS (transports); t++)
    for (guint i = 0; i < G_N_ELEMENTS (elsewhere); i++)
      {
        g_autoptr (SmtpkitClient) client = new_client ();
        g_autoptr (GError) error = NULL;

        g_object_set (client, "transport", transports[t], NULL);
        g_ptr_array_set_size (proxy_lookups, 0);
        g_assert_null (smtpkit_client_connect (client, elsewhere[i], 25, NULL, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
        g_assert_nonnull (strstr (error->message, "the test resolver refuses"));
        g_assert_true (proxy_was_asked_about (elsewhere[i]));
      }
}


static GBytes *
static_bytes (const char *text)
{
  return g_bytes_new_static (text, strlen (text));
}

/* @text with its line ends made CRLF, as convert-newlines does: a CRLF
 * stays, a bare CR or LF becomes one. */
static GBytes *
crlf_text (const char *text,
           gsize       length)
{
  GString *out = g_string_sized_new (length + 64);

  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '\r' && i + 1 < length && text[i + 1] == '\n')
        i++;
      if (text[i] == '\r' || text[i] == '\n')
        g_string_append (out, "\r\n");
      else
        g_string_append_c (out, text[i]);
    }
  return g_string_free_to_bytes (out);
}

/* Puts at @at of @text what @kind says: a line that starts with a dot,
 * a bare LF, a bare CR, or a CRLF. */
static void
spoil (GString *text,
       gsize    at,
       guint    kind)
{
  switch (kind)
    {
    case 0:
      memcpy (text->str + at - 2, "\r\n.", 3);
      break;
    case 1:
      text->str[at] = '\n';
      break;
    case 2:
      text->str[at] = '\r';
      break;
    default:
      memcpy (text->str + at, "\r\n", 2);
      break;
    }
}

/* A message of @size bytes of lines of 200 (none near 256 KiB), spoilt
 * at @at as @kind says. */
static GString *
spoiled_message (gsize size,
                 gsize at,
                 guint kind)
{
  GString *text = g_string_new ("Subject: pieces\r\n\r\n");

  while (text->len < size)
    g_string_append_c (text, text->len % 200 == 198 ? '\r'
                             : text->len % 200 == 199 ? '\n'
                             : 'a' + text->len % 26);
  g_string_append (text, "\r\nthe end\r\n");
  spoil (text, at, kind);
  return text;
}

/* DATA end to end, for messages given as bytes: those already in DATA's
 * wire form go as they are (small, and large: from where they are),
 * others are converted and stuffed; the sink stores each as given, its
 * line ends made CRLF. A server with SIZE has each message looked at
 * before it goes (for the size to declare); to one without, a message
 * over 256 KiB goes a piece at a time, each looked at as it goes: dots,
 * bare line ends and CRLFs at every place around the first piece's end,
 * and at random places of 1 MB messages (the later pieces), are stuffed,
 * converted and kept as they must be either way. */
static void
test_sink_data_bytes (void)
{
  const char *with_size[] = { "PIPELINING", "SIZE 100000000", NULL };
  const char *without_size[] = { "PIPELINING", NULL };
  const char *const *extension_sets[] = { with_size, without_size };
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GString) large = g_string_new ("Subject: large\r\n\r\n");
  const char *to[] = { "b@example.org", NULL };

  while (large->len < 3000000)
    g_string_append (large, "a line of a large message in its wire form\r\n");
  g_ptr_array_add (messages, static_bytes ("Subject: s\r\n\r\nsmall\r\n"));
  g_ptr_array_add (expected, static_bytes ("Subject: s\r\n\r\nsmall\r\n"));
  g_ptr_array_add (messages, g_bytes_new (large->str, large->len));
  g_ptr_array_add (expected, g_bytes_new (large->str, large->len));
  g_ptr_array_add (messages, static_bytes ("Subject: d\r\n\r\n.dot\nbare\n"));
  g_ptr_array_add (expected, static_bytes ("Subject: d\r\n\r\n.dot\r\nbare\r\n"));
  /* The large one with a line that starts with a dot, far in: stuffed
   * on the wire, stored as given. */
  g_string_append (large, ".a dot\r\nthe end\r\n");
  g_ptr_array_add (messages, g_bytes_new (large->str, large->len));
  g_ptr_array_add (expected, g_bytes_new (large->str, large->len));
  for (guint kind = 0; kind < 4; kind++)
    for (gsize at = 256 * 1024 - 40; at <= 256 * 1024 + 40; at++)
      {
        g_autoptr (GString) text = spoiled_message (256 * 1024 + 4096, at, kind);

        g_ptr_array_add (expected, crlf_text (text->str, text->len));
        g_ptr_array_add (messages, g_string_free_to_bytes (g_steal_pointer (&text)));
      }
  /* The later pieces start where the whole lines of the one before
   * ended: spoilers of every kind at random places of 1 MB messages
   * (the seed is printed with --verbose; -r replays it). */
  for (guint m = 0; m < 24; m++)
    {
      g_autoptr (GString) text = spoiled_message (1000000, 500000, m % 4);
      guint n_spoilers = g_test_rand_int_range (1, 4);

      /* A few: a piece with one far in passes no check that stops short. */
      for (guint k = 0; k < n_spoilers; k++)
        spoil (text, 40 + g_test_rand_int_range (0, (gint32) text->len - 80),
               g_test_rand_int_range (0, 4));
      g_ptr_array_add (expected, crlf_text (text->str, text->len));
      g_ptr_array_add (messages, g_string_free_to_bytes (g_steal_pointer (&text)));
    }

  for (guint e = 0; e < G_N_ELEMENTS (extension_sets); e++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, extension_sets[e]);
      g_autoptr (SmtpkitClient) client = new_client ();
      g_autoptr (SmtpkitReply) greeting = NULL;
      g_autoptr (GPtrArray) received = NULL;
      g_autofree char *host = NULL;

      smtpkit_fake_server_listen_tcp (server, &error);
      g_assert_no_error (error);
      host = server_address (server);
      greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < messages->len; i++)
        {
          g_autoptr (GHashTable) refused = smtpkit_client_sendmail (client, "a@example.org", to,
                                                                    messages->pdata[i], NULL,
                                                                    NULL, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
        }
      g_clear_object (&client);
      smtpkit_fake_server_stop (server);
      g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, messages->len);

      received = smtpkit_fake_server_get_received (server);
      for (guint i = 0; i < received->len; i++)
        {
          g_autoptr (GBytes) stored = smtpkit_fake_mail_load (received->pdata[i], &error);
          gsize size;
          const char *data;

          g_assert_no_error (error);
          data = g_bytes_get_data (stored, &size);
          g_assert_cmpmem (data, size, g_bytes_get_data (expected->pdata[i], NULL),
                           g_bytes_get_size (expected->pdata[i]));
        }
    }
}

/* A message in a file: its stream cannot poll. A blocking call reads it
 * where it is; an asynchronous one through GIO's own asynchronous reads.
 * Either way, over DATA and over BDAT, the sink stores what the file
 * holds, its dot lines included, across many chunks. */
static void
test_sink_file_stream (void)
{
  const char *data_only[] = { "PIPELINING", NULL };
  const char *chunking[] = { "PIPELINING", "CHUNKING", NULL };
  const char *const *extension_sets[] = { data_only, chunking };
  g_autoptr (GString) content = g_string_new ("Subject: a file\r\n\r\n");
  g_autoptr (GString) expected = g_string_new (content->str);
  g_autofree char *path = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  const char *to[] = { "b@example.org", NULL };
  int fd;

  /* Dot lines in places, long runs without (which go as they are, from
   * the buffer, the partial line after them held back: from the start,
   * while the reads grow), one line longer than a read, and a run of
   * lines that end with a bare LF (which go through the encoder, over
   * DATA and over BDAT). */
  for (guint i = 0; content->len < 3000000; i++)
    {
      gboolean dots = (content->len > 1000000 && content->len < 1200000) ||
                      (content->len > 2500000 && content->len < 2600000);
      gboolean bare = content->len > 2200000 && content->len < 2250000;
      g_autofree char *line = g_strdup_printf ("%sline %u of a message read from a file",
                                               dots && i % 7 == 0 ? "." : "", i);

      g_string_append_printf (content, "%s%s", line, bare ? "\n" : "\r\n");
      g_string_append_printf (expected, "%s\r\n", line);
      if (i == 40000)
        {
          for (guint k = 0; k < 300000; k++)
            g_string_append_c (content, 'a' + k % 26);
          g_string_append (content, "\r\n");
          g_string_append (expected, content->str + content->len - 300002);
        }
    }
  fd = g_file_open_tmp ("smtpkit-test-XXXXXX.eml", &path, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_assert_true (g_file_set_contents (path, content->str, content->len, &error));
  file = g_file_new_for_path (path);

  for (guint e = 0; e < G_N_ELEMENTS (extension_sets); e++)
    {
      g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, extension_sets[e]);
      g_autoptr (SmtpkitClient) client = new_client ();
      g_autoptr (SmtpkitReply) greeting = NULL;
      g_autoptr (GHashTable) refused = NULL;
      g_autoptr (GHashTable) refused_async = NULL;
      g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &error);
      g_autoptr (GFileInputStream) in_async = NULL;
      g_autoptr (GPtrArray) received = NULL;
      g_autofree char *host = NULL;
      Waiter waiter = { 0 };

      g_assert_no_error (error);
      g_assert_false (G_IS_POLLABLE_INPUT_STREAM (in) &&
                      g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)));
      smtpkit_fake_server_listen_tcp (server, &error);
      g_assert_no_error (error);
      host = server_address (server);
      greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
      g_assert_no_error (error);

      refused = smtpkit_client_sendmail_stream (client, "a@example.org", to, G_INPUT_STREAM (in),
                                                NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_hash_table_size (refused), ==, 0);

      in_async = g_file_read (file, NULL, &error);
      g_assert_no_error (error);
      smtpkit_client_sendmail_stream_async (client, "a@example.org", to, G_INPUT_STREAM (in_async),
                                            NULL, NULL, NULL, on_done, &waiter);
      refused_async = smtpkit_client_sendmail_stream_finish (client, wait_for (&waiter), &error);
      g_clear_object (&waiter.result);
      g_assert_no_error (error);
      g_assert_cmpuint (g_hash_table_size (refused_async), ==, 0);

      g_clear_object (&client);
      smtpkit_fake_server_stop (server);
      received = smtpkit_fake_server_get_received (server);
      g_assert_cmpuint (received->len, ==, 2);
      for (guint i = 0; i < received->len; i++)
        {
          g_autoptr (GBytes) stored = smtpkit_fake_mail_load (received->pdata[i], &error);

          g_assert_no_error (error);
          g_assert_cmpmem (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored),
                           expected->str, expected->len);
        }
    }
  g_unlink (path);
}

/* SIZE (RFC 1870 §3) is the message as it is carried: over DATA with
 * CRLF line ends and a final CRLF, without the stuffed dots; over BDAT
 * the octets of its chunks, which get no final CRLF when newlines are
 * left as they are. With and without converting newlines, and for
 * messages that go out as they are. */
static void
test_sink_declared_size (void)
{
  static const struct
  {
    const char *message;
    gboolean convert;
    const char *size[2]; /* over DATA, over BDAT */
  } cases[] = {
    { "hi\r\nthere\r\n", TRUE, { "SIZE=11", "SIZE=11" } },
    { "hi\r\nthere\r\n", FALSE, { "SIZE=11", "SIZE=11" } },
    { "hi\r\nthere\n", FALSE, { "SIZE=12", "SIZE=10" } },
    { "hi\r\nthere", FALSE, { "SIZE=11", "SIZE=9" } },
    { "hi\nthere\n", TRUE, { "SIZE=11", "SIZE=11" } },
    { "hi\nthere", TRUE, { "SIZE=11", "SIZE=11" } },
    { ".a\r\n..b\r\n", TRUE, { "SIZE=9", "SIZE=9" } },
    { ".a\r\n..b\n", FALSE, { "SIZE=10", "SIZE=8" } },
  };
  const char *data_only[] = { "SIZE 1000000", NULL };
  const char *chunking[] = { "SIZE 1000000", "PIPELINING", "CHUNKING", NULL };
  const char *const *extension_sets[] = { data_only, chunking };
  const char *to[] = { "b@example.org", NULL };
  /* One over 256 KiB, which is looked at only once SIZE is known to be
   * offered: a bare LF counts as the CRLF it becomes. */
  g_autoptr (GString) large = spoiled_message (300000, 262144, 1);
  g_autoptr (GBytes) large_crlf = crlf_text (large->str, large->len);
  g_autofree char *large_size = g_strdup_printf ("SIZE=%" G_GSIZE_FORMAT,
                                                 g_bytes_get_size (large_crlf));

  g_assert_cmpuint (g_bytes_get_size (large_crlf), ==, large->len + 1);
  for (guint e = 0; e < G_N_ELEMENTS (extension_sets); e++)
    for (guint i = 0; i <= G_N_ELEMENTS (cases); i++)
      {
        gboolean is_large = i == G_N_ELEMENTS (cases);
        g_autoptr (GError) error = NULL;
        g_autoptr (SmtpkitFakeServer) server =
          smtpkit_fake_server_new_sink (NULL, extension_sets[e]);
        g_autoptr (SmtpkitClient) client = new_client ();
        g_autoptr (SmtpkitReply) greeting = NULL;
        g_autoptr (GHashTable) refused = NULL;
        g_autoptr (GBytes) message = is_large
                                       ? g_bytes_new_static (large->str, large->len)
                                       : g_bytes_new_static (cases[i].message,
                                                             strlen (cases[i].message));
        g_autoptr (GPtrArray) received = NULL;
        g_autofree char *host = NULL;
        g_autofree char *escaped = is_large ? g_strdup ("300,000 bytes")
                                            : g_strescape (cases[i].message, NULL);
        gboolean convert = is_large || cases[i].convert;
        const char *const *parameters;

        g_test_message ("%s, convert %d, %s", escaped, convert, e ? "BDAT" : "DATA");
        smtpkit_fake_server_listen_tcp (server, &error);
        g_assert_no_error (error);
        host = server_address (server);
        smtpkit_client_set_convert_newlines (client, convert);
        greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
        g_assert_no_error (error);
        refused = smtpkit_client_sendmail (client, "a@example.org", to, message, NULL, NULL,
                                           NULL, &error);
        g_assert_no_error (error);
        g_clear_object (&client);
        smtpkit_fake_server_stop (server);
        received = smtpkit_fake_server_get_received (server);
        g_assert_cmpuint (received->len, ==, 1);
        parameters = smtpkit_fake_mail_get_mail_parameters (received->pdata[0]);
        g_assert_nonnull (parameters);
        g_assert_cmpstr (parameters[0], ==, is_large ? large_size : cases[i].size[e]);
        g_assert_null (parameters[1]);
      }
}

/* CHUNKING end to end: the sink stores what BDAT carried, byte for byte. */
static void
test_sink_chunking (void)
{
  g_autoptr (GError) error = NULL;
  const char *extensions[] = { "PIPELINING", "CHUNKING", NULL };
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GHashTable) refused_stream = NULL;
  g_autoptr (GBytes) small = g_bytes_new_static ("Subject: s\r\n\r\n.dot\r\n", 20);
  g_autoptr (GString) large = g_string_new (NULL);
  g_autoptr (GBytes) large_bytes = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autofree char *host = NULL;
  const char *to[] = { "b@example.org", NULL };

  for (guint i = 0; large->len < 300000; i++)
    g_string_append_printf (large, "%s line %u of a large message\r\n", i % 5 ? "" : ".", i);
  large_bytes = g_bytes_new (large->str, large->len);
  stream = g_memory_input_stream_new_from_bytes (large_bytes);

  server = smtpkit_fake_server_new_sink (NULL, extensions);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  host = server_address (server);
  greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
  g_assert_no_error (error);
  refused = smtpkit_client_sendmail (client, "a@example.org", to, small, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  refused_stream = smtpkit_client_sendmail_stream (client, "a@example.org", to, stream, NULL, NULL,
                                                   NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&client);
  smtpkit_fake_server_stop (server);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, 2);

  received = smtpkit_fake_server_get_received (server);
  for (guint i = 0; i < received->len; i++)
    {
      g_autoptr (GBytes) stored = smtpkit_fake_mail_load (received->pdata[i], &error);
      GBytes *sent = i == 0 ? small : large_bytes;

      g_assert_no_error (error);
      /* No dot-stuffing under BDAT: stored exactly as given. */
      g_assert_cmpmem (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored),
                       g_bytes_get_data (sent, NULL), g_bytes_get_size (sent));
    }
}

/* A stream that gives at most 20,000 bytes a read, as a pipe or a socket
 * may: the chunks are gathered from several reads, and still grow. */
typedef struct
{
  GInputStream parent;
  GBytes *bytes;
  gsize offset;
} TestShortReads;
typedef GInputStreamClass TestShortReadsClass;
static GType test_short_reads_get_type (void);
G_DEFINE_TYPE (TestShortReads, test_short_reads, G_TYPE_INPUT_STREAM)

#define SHORT_READ 20000

static gssize
test_short_reads_read (GInputStream *stream, void *buffer, gsize count,
                       GCancellable *cancellable, GError **error)
{
  TestShortReads *self = (TestShortReads *) stream;
  gsize size;
  const guint8 *data = g_bytes_get_data (self->bytes, &size);
  gsize n = MIN (MIN (count, SHORT_READ), size - self->offset);

  memcpy (buffer, data + self->offset, n);
  self->offset += n;
  return n;
}

static void
test_short_reads_finalize (GObject *object)
{
  g_bytes_unref (((TestShortReads *) object)->bytes);
  G_OBJECT_CLASS (test_short_reads_parent_class)->finalize (object);
}

static void
test_short_reads_class_init (TestShortReadsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_short_reads_finalize;
  klass->read_fn = test_short_reads_read;
}

static void
test_short_reads_init (TestShortReads *self)
{
}

static void
on_sending_count_bdat (SmtpkitClient *client,
                       GBytes        *data,
                       guint         *n_bdat)
{
  gsize size;
  const char *bytes = g_bytes_get_data (data, &size);

  if (size >= 5 && memcmp (bytes, "BDAT ", 5) == 0)
    (*n_bdat)++;
}

static void
test_sink_chunking_short_reads (void)
{
  g_autoptr (GError) error = NULL;
  const char *extensions[] = { "PIPELINING", "CHUNKING", NULL };
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, extensions);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GString) content = g_string_new ("Subject: short reads\r\n\r\n");
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autofree char *host = NULL;
  const char *to[] = { "b@example.org", NULL };
  guint n_bdat = 0;

  for (guint i = 0; content->len < 3000000; i++)
    g_string_append_printf (content, "%sline %u of a message read from a pipe\r\n",
                            i % 9 == 0 ? "." : "", i);
  stream = g_object_new (test_short_reads_get_type (), NULL);
  ((TestShortReads *) stream)->bytes = g_bytes_new (content->str, content->len);

  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  host = server_address (server);
  greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending_count_bdat), &n_bdat);
  refused = smtpkit_client_sendmail_stream (client, "a@example.org", to, stream, NULL, NULL,
                                            NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  /* From 64 KiB, doubling, to 2 MiB: seven chunks at most for 3 MB (six
   * here), not one a read (151). */
  g_assert_cmpuint (n_bdat, >=, 2);
  g_assert_cmpuint (n_bdat, <=, 7);

  g_clear_object (&client);
  smtpkit_fake_server_stop (server);
  received = smtpkit_fake_server_get_received (server);
  g_assert_cmpuint (received->len, ==, 1);
  stored = smtpkit_fake_mail_load (received->pdata[0], &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored), content->str,
                   content->len);
}

/* A stream goes out in chunks, several before the first reply: the first
 * refusal ends the message, every chunk's reply is read (the connection
 * stays in step), and nothing is stored. */
static void
test_sink_chunking_refused (void)
{
  g_autoptr (GError) error = NULL;
  const char *extensions[] = { "PIPELINING", "CHUNKING", NULL };
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) noop = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GString) large = g_string_new (NULL);
  g_autoptr (GBytes) large_bytes = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autofree char *host = NULL;
  const char *to[] = { "b@example.org", NULL };
  SmtpkitReply *reply;

  while (large->len < 400000)
    g_string_append (large, "a line of a message refused in its first chunk\r\n");
  large_bytes = g_bytes_new (large->str, large->len);
  stream = g_memory_input_stream_new_from_bytes (large_bytes);

  server = smtpkit_fake_server_new_sink (NULL, extensions);
  g_assert_true (smtpkit_fake_server_add_reply (server, "data=552 5.3.4 chunk refused", &error));
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  host = server_address (server);
  greeting = smtpkit_client_connect (client, host, 0, NULL, &error);
  g_assert_no_error (error);
  refused = smtpkit_client_sendmail_stream (client, "a@example.org", to, stream, NULL, NULL,
                                            NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DATA);
  reply = smtpkit_error_get_reply (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 552);
  g_assert_cmpstr (smtpkit_reply_get_text (reply), ==, "5.3.4 chunk refused");

  g_clear_error (&error);

  /* The replies to the chunks after the refused one were read. */
  noop = smtpkit_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (noop), ==, 250);
  g_clear_object (&client);
  smtpkit_fake_server_stop (server);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, 0);
}

/* Plain SMTP to the implicit-TLS port: the server waits for a TLS hello
 * and never greets; the timeout says which mode to use. */
static void
test_plain_to_implicit_port (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("inline",
                                                                         "server:\n  expect-close\n",
                                                                         &error);
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_scripted (scenario);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitReply) greeting = NULL;

  g_object_set (server, "address", "127.0.0.1:465", NULL);
  if (!smtpkit_fake_server_listen_tcp (server, &error))
    {
      g_test_skip_printf ("cannot listen on port 465 here: %s", error->message);
      return;
    }
  g_assert_true (smtpkit_client_set_timeout (client, 0.3, NULL));
  greeting = smtpkit_client_connect (client, "127.0.0.1", 465, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "implicit"));
  g_assert_null (greeting);
  assert_script_played (server);
}

/* ---- signals and transcript -------------------------------------------------- */

static void
on_connecting (SmtpkitClient *client,
               const char    *host,
               guint          port,
               GString       *log)
{
  g_string_append_printf (log, "connecting %s %u\n", host, port);
}

static void
on_sending (SmtpkitClient *client,
            GBytes        *data,
            GString       *log)
{
  gsize size;
  const char *bytes = g_bytes_get_data (data, &size);

  g_string_append_len (log, bytes, size);
}

typedef struct
{
  GString *lines;
} Capture;

/* The log writer can be set only once: tests point it at their capture. */
static Capture *current_capture;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  Capture *capture = current_capture;
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if (capture && g_strcmp0 (domain, "Smtpkit") == 0 && message)
    {
      g_string_append (capture->lines, message);
      g_string_append_c (capture->lines, '\n');
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static const char transcript_script[] =
  "client:\n"
  "  connect => 220\n"
  "server:\n"
  "  send 220 fake.test ESMTP\n"
  "  expect EHLO client.test\n"
  "  send 250-fake.test\n"
  "  send 250 SIZE 1000\n"
  "  expect MAIL FROM:<a@example.org> SIZE=10\n"
  "  send 250 ok\n"
  "  expect RCPT TO:<b@example.org>\n"
  "  send 250 ok\n"
  "  expect DATA\n"
  "  send 354 go\n"
  "  expect-data\n"
  "  |hi there\n"
  "  |.\n"
  "  send 250 queued\n"
  "  expect QUIT\n"
  "  send 221 bye\n";

static void
test_signals_and_transcript (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted (transcript_script);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (GString) log = g_string_new (NULL);
  g_autofree char *expected_log = NULL;
  g_autoptr (GBytes) body = g_bytes_new_static ("hi there\n", 9);
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;
  const char *to[] = { "b@example.org", NULL };
  Capture capture = { g_string_new (NULL) };

  g_signal_connect (client, "connecting", G_CALLBACK (on_connecting), log);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), log);
  smtpkit_client_set_debug_level (client, 1);
  current_capture = &capture;

  greeting = smtpkit_client_connect (client, "127.0.0.1", smtpkit_fake_server_get_port (server),
                                     NULL, &error);
  g_assert_no_error (error);
  refused = smtpkit_client_sendmail (client, "a@example.org", to, body, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  assert_script_played (server);

  expected_log = g_strdup_printf ("connecting 127.0.0.1 %u\n"
                                  "EHLO client.test\r\n"
                                  "MAIL FROM:<a@example.org> SIZE=10\r\n"
                                  "RCPT TO:<b@example.org>\r\n"
                                  "DATA\r\n"
                                  "hi there\r\n.\r\n"
                                  "QUIT\r\n",
                                  smtpkit_fake_server_get_port (server));
  g_assert_cmpstr (log->str, ==, expected_log);
  g_assert_cmpstr (capture.lines->str, ==,
                   "S: 220 fake.test ESMTP\n"
                   "C: EHLO client.test\n"
                   "S: 250-fake.test\n"
                   "S: 250 SIZE 1000\n"
                   "C: MAIL FROM:<a@example.org> SIZE=10\n"
                   "S: 250 ok\n"
                   "C: RCPT TO:<b@example.org>\n"
                   "S: 250 ok\n"
                   "C: DATA\n"
                   "S: 354 go\n"
                   "C: (13 octets of message data)\n"
                   "S: 250 queued\n"
                   "C: QUIT\n"
                   "S: 221 bye\n");
  current_capture = NULL;
  g_string_free (capture.lines, TRUE);
}

/* ---- one operation at a time, cancellation, lifetime ------------------------------ */

static void
test_pending (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test\n"
                                                         "  expect NOOP\n"
                                                         "  delay 100\n"
                                                         "  send 250 ok\n"
                                                         "  expect QUIT\n"
                                                         "  send 221 bye\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) first = NULL;
  g_autoptr (SmtpkitReply) second = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;
  Waiter one = { 0 }, two = { 0 };

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  smtpkit_client_noop_async (client, NULL, on_done, &one);
  smtpkit_client_noop_async (client, NULL, on_done, &two);
  second = smtpkit_client_noop_finish (client, wait_for (&two), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_null (second);
  g_clear_error (&error);
  g_assert_null (one.result);
  first = smtpkit_client_noop_finish (client, wait_for (&one), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (first), ==, 250);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&one.result);
  g_clear_object (&two.result);
  assert_script_played (server);
}

/* The bound is on each wait: waits shorter than the timeout go on for
 * longer than it in all, the clock moving with them, and the wait that
 * takes too long fails once the timeout has passed since it began, not
 * since an earlier one did. */
static void
test_timeout_each_wait (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test\n"
                                                         "  expect NOOP\n"
                                                         "  delay 250\n"
                                                         "  send 250 one\n"
                                                         "  expect NOOP\n"
                                                         "  delay 250\n"
                                                         "  send 250 two\n"
                                                         "  expect NOOP\n"
                                                         "  delay 250\n"
                                                         "  send 250 three\n"
                                                         "  expect NOOP\n"
                                                         "  delay 1500\n"
                                                         "  expect-close\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;
  double waited;

  g_assert_true (smtpkit_client_set_timeout (client, 0.6, NULL));
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (SmtpkitReply) reply = smtpkit_client_noop (client, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
    }
  start = g_get_monotonic_time ();
  g_assert_null (smtpkit_client_noop (client, NULL, &error));
  waited = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpfloat (waited, >=, 0.55);
  g_assert_cmpfloat (waited, <, 1.4);
  assert_script_played (server);
}

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test\n"
                                                         "  expect NOOP\n"
                                                         "  expect-close\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Waiter waiter = { 0 };

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  smtpkit_client_noop_async (client, cancellable, on_done, &waiter);
  g_timeout_add (50, cancel_now, cancellable);
  reply = smtpkit_client_noop_finish (client, wait_for (&waiter), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (reply);
  /* Half a conversation cannot go on: the connection was closed. */
  g_assert_false (smtpkit_client_is_connected (client));
  g_clear_object (&waiter.result);
  assert_script_played (server);
}

static void
test_unref_closes (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test\n"
                                                         "  expect-close\n");
  SmtpkitClient *client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;
  gint64 before;

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (smtpkit_client_is_connected (client));
  g_object_add_weak_pointer (G_OBJECT (client), (gpointer *) &client);
  before = g_get_monotonic_time ();
  g_object_unref (client);
  /* Without blocking: no QUIT, no waiting for the server. */
  g_assert_cmpint (g_get_monotonic_time () - before, <, G_USEC_PER_SEC);
  g_assert_null (client);
  assert_script_played (server);
}


/* ---- authentication data never shown -------------------------------------- */

static const char auth_script[] =
  "server:\n"
  "  send 220 fake.test ESMTP\n"
  "  expect EHLO client.test\n"
  "  send 250-fake.test\n"
  "  send 250 AUTH PLAIN\n"
  /* \0alice\0s3cret-pässword */
  "  expect AUTH PLAIN AGFsaWNlAHMzY3JldC1ww6Rzc3dvcmQ=\n"
  "  send 334 \n"
  "  expect cGFzc3dvcmQtaW4tYS1yZXNwb25zZQ==\n"
  "  send 235 2.7.0 ok\n"
  "  expect QUIT\n"
  "  send 221 bye\n";

static GBytes *
second_response (GBytes   *challenge,
                 gpointer  user_data,
                 GError  **error)
{
  static const char initial[] = "\0alice\0s3cret-p\xc3\xa4ssword";

  if (challenge == NULL)
    return g_bytes_new_static (initial, sizeof initial - 1);
  return g_bytes_new_static ("password-in-a-response", 22);
}

static void
test_auth_redacted (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted (auth_script);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
  g_autoptr (GString) sent = g_string_new (NULL);
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;
  Capture capture = { g_string_new (NULL) };
  const char *secrets[] = { "s3cret", "AGFsaWNlAHMzY3JldC1ww6Rzc3dvcmQ=", "password-in-a-response",
                            "cGFzc3dvcmQtaW4tYS1yZXNwb25zZQ==", NULL };

  smtpkit_client_set_debug_level (client, 1);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), sent);
  current_capture = &capture;

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  mechanism = smtpkit_auth_mechanism_new_for_func ("PLAIN", second_response, NULL, NULL);
  reply = smtpkit_client_auth (client, mechanism, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  assert_script_played (server);

  for (guint i = 0; secrets[i]; i++)
    {
      g_assert_null (strstr (capture.lines->str, secrets[i]));
      g_assert_null (strstr (sent->str, secrets[i]));
    }
  g_assert_nonnull (strstr (sent->str, "AUTH PLAIN [redacted]\r\n[redacted]\r\n"));
  g_assert_nonnull (strstr (capture.lines->str, "C: AUTH PLAIN [redacted]\n"));
  g_assert_nonnull (strstr (capture.lines->str, "C: [redacted]\n"));
  current_capture = NULL;
  g_string_free (capture.lines, TRUE);
}

/* Without an initial response the AUTH line holds no secret: it is shown
 * as sent, and only the response after the 334 is hidden. */
static void
test_auth_redacted_only_what_was_sent (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test ESMTP\n"
                                                         "  expect EHLO client.test\n"
                                                         "  send 250-fake.test\n"
                                                         "  send 250 AUTH PLAIN\n"
                                                         "  expect AUTH PLAIN\n"
                                                         "  send 334 \n"
                                                         "  expect AHRpbQBzM2NyZXQ=\n"
                                                         "  send 235 2.7.0 ok\n"
                                                         "  expect-close\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autoptr (GString) sent = g_string_new (NULL);
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Capture capture = { g_string_new (NULL) };

  smtpkit_client_set_debug_level (client, 1);
  g_object_set (client, "initial-response-ok", FALSE, "allow-plaintext-auth", TRUE, NULL);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), sent);
  current_capture = &capture;

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  reply = smtpkit_client_login (client, "tim", "s3cret", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);
  smtpkit_client_close (client);
  assert_script_played (server);

  g_assert_nonnull (strstr (sent->str, "AUTH PLAIN\r\n[redacted]\r\n"));
  g_assert_null (strstr (sent->str, "AHRpbQBzM2NyZXQ="));
  g_assert_nonnull (strstr (capture.lines->str, "C: AUTH PLAIN\n"));
  g_assert_nonnull (strstr (capture.lines->str, "C: [redacted]\n"));
  g_assert_null (strstr (capture.lines->str, "AUTH PLAIN [redacted]"));
  current_capture = NULL;
  g_string_free (capture.lines, TRUE);
}

/* ---- certificates ------------------------------------------------------- */

/* A server that offers STARTTLS and accepts it, then plays @tail. */
static char *
starttls_script (const char *tail)
{
  return g_strconcat ("server:\n"
                      "  send 220 fake.test ESMTP\n"
                      "  expect EHLO client.test\n"
                      "  send 250-fake.test\n"
                      "  send 250 STARTTLS\n"
                      "  expect STARTTLS\n"
                      "  send 220 go ahead\n",
                      tail, NULL);
}

/* tls-ca-file trusts a private CA: the fake server's. */
static void
test_tls_ca_file (void)
{
  g_autofree char *script = starttls_script ("  starttls\n"
                                             "  expect EHLO client.test\n"
                                             "  send 250 fake.test\n"
                                             "  expect QUIT\n"
                                             "  send 221 bye\n");
  g_autoptr (SmtpkitFakeServer) server = start_scripted (script);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autofree char *ca_file = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (client, "tls-ca-file", smtpkit_fake_server_get_ca_file (), NULL);
  g_object_get (client, "tls-ca-file", &ca_file, NULL);
  g_assert_cmpstr (ca_file, ==, smtpkit_fake_server_get_ca_file ());
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (smtpkit_client_is_secure (client));
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  assert_script_played (server);
}

/* A CA file that cannot be read fails the handshake, naming the file;
 * nothing is trusted instead. */
static void
test_tls_ca_file_unreadable (void)
{
  g_autofree char *script = starttls_script ("  expect-close\n");
  g_autoptr (SmtpkitFakeServer) server = start_scripted (script);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_client_set_tls_ca_file (client, "/nonexistent/ca.pem");
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_null (greeting);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "tls-ca-file “/nonexistent/ca.pem”"));
  g_assert_false (smtpkit_client_is_connected (client));
  assert_script_played (server);
}

/* A refused certificate's error names the host and the checks that
 * failed, and keeps GIO's domain and code. */
static void
test_certificate_error_explained (gconstpointer data)
{
  const char *const *expected = data;
  g_autofree char *tail = g_strdup_printf ("  starttls-refused-by-client cert=%s\n"
                                           "  expect-close\n", expected[0]);
  g_autofree char *script = starttls_script (tail);
  g_autoptr (SmtpkitFakeServer) server = start_scripted (script);
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autofree char *host = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_str_equal (expected[0], "untrusted"))
    smtpkit_client_set_tls_ca_file (client, smtpkit_fake_server_get_ca_file ());
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_test_message ("%s", error->message);
  host = g_strdup_printf ("the TLS certificate of %s failed verification (", address);
  g_assert_nonnull (strstr (error->message, host));
  for (guint i = 1; expected[i]; i++)
    if (strstr (error->message, expected[i]) == NULL)
      g_error ("“%s” not in “%s”", expected[i], error->message);
  assert_script_played (server);
}

static const char *const untrusted_checks[] = { "untrusted", "unknown issuer", "set tls-ca-file", NULL };
static const char *const wrong_name_checks[] = { "wrong-name", "name mismatch", "“127.0.0.1”", NULL };
static const char *const expired_checks[] = { "expired", "expired", NULL };

/* A transport whose stream is not a socket: the client cannot tell that
 * the server is on this host, so it must not send a password in clear. */
#define TEST_TYPE_OPAQUE_TRANSPORT (test_opaque_transport_get_type ())
G_DECLARE_FINAL_TYPE (TestOpaqueTransport, test_opaque_transport, TEST, OPAQUE_TRANSPORT, GObject)

struct _TestOpaqueTransport
{
  GObject parent_instance;
};

/* The opaque transport's streams cannot poll. */
static gboolean opaque_unpollable;

static void
opaque_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (GSocketConnection) connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source),
                                                                             result, &error);
  GIOStream *stream;

  if (connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (opaque_unpollable)
    {
      /* A buffered input stream cannot poll. */
      g_autoptr (GInputStream) buffered =
        g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
      stream = g_simple_io_stream_new (buffered,
                                       g_io_stream_get_output_stream (G_IO_STREAM (connection)));
    }
  else
    stream = g_simple_io_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                     g_io_stream_get_output_stream (G_IO_STREAM (connection)));
  /* The socket lives as long as the stream, and closes with it. */
  g_object_set_data_full (G_OBJECT (stream), "connection", g_object_ref (connection),
                          g_object_unref);
  g_task_return_pointer (task, stream, g_object_unref);
}

static void
opaque_connect_async (SmtpkitTransport    *transport,
                      const char          *host,
                      guint16              port,
                      GSocketAddress      *source_address,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr (GSocketClient) client = direct_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);

  g_socket_client_connect_async (client, address, cancellable, opaque_connected,
                                 g_task_new (transport, cancellable, callback, user_data));
}

static void
opaque_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = opaque_connect_async;
  iface->connect_finish = test_transport_connect_finish;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestOpaqueTransport, test_opaque_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SMTPKIT_TYPE_TRANSPORT, opaque_iface_init))

static void
test_opaque_transport_class_init (TestOpaqueTransportClass *klass)
{
}

static void
test_opaque_transport_init (TestOpaqueTransport *self)
{
}

static void
test_password_needs_tls (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test ESMTP\n"
                                                         "  expect EHLO client.test\n"
                                                         "  send 250-fake.test\n"
                                                         "  send 250 AUTH PLAIN\n"
                                                         "  expect AUTH PLAIN AHRpbQBzZWNyZXQ=\n"
                                                         "  send 235 2.7.0 ok\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_transport_register ("test-opaque", TEST_TYPE_OPAQUE_TRANSPORT, 10);
  g_object_set (client, "transport", "test-opaque", NULL);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);

  reply = smtpkit_client_login (client, "tim", "secret", NULL, &error);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "allow-plaintext-auth"));
  g_assert_null (reply);
  g_clear_error (&error);

  /* The caller's explicit opt-in. */
  g_object_set (client, "allow-plaintext-auth", TRUE, NULL);
  reply = smtpkit_client_login (client, "tim", "secret", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);
  g_clear_object (&client);
  assert_script_played (server);
}

/* A message body without end: the client is still writing it whenever
 * the server speaks, however fast the machine. */
typedef GInputStream TestEndlessStream;
typedef GInputStreamClass TestEndlessStreamClass;
static GType test_endless_stream_get_type (void);
G_DEFINE_TYPE (TestEndlessStream, test_endless_stream, G_TYPE_INPUT_STREAM)

static gssize
test_endless_stream_read (GInputStream *stream, void *buffer, gsize count,
                          GCancellable *cancellable, GError **error)
{
  memset (buffer, 'x', count);
  return count;
}

static void
test_endless_stream_class_init (TestEndlessStreamClass *klass)
{
  klass->read_fn = test_endless_stream_read;
}

static void
test_endless_stream_init (TestEndlessStream *self)
{
}

/* A server that sends without end while the client writes a message is
 * not let to fill the client's memory: past 1 MiB nobody asked for, the
 * connection ends with a protocol error. */
static void
test_flood_while_sending (void)
{
  g_autoptr (GString) text = g_string_new ("server:\n"
                                           "  send 220 fake.test ESMTP\n"
                                           "  expect EHLO client.test\n"
                                           "  send 250 fake.test\n"
                                           "  expect MAIL FROM:<a@example.org>\n"
                                           "  send 250 ok\n"
                                           "  expect RCPT TO:<b@example.org>\n"
                                           "  send 250 ok\n"
                                           "  expect DATA\n"
                                           "  send 354 go ahead\n"
                                           /* The client is writing by then. */
                                           "  delay 300\n"
                                           "  send-raw \"");
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) body = g_object_new (test_endless_stream_get_type (), NULL);
  const char *to[] = { "b@example.org", NULL };

  /* 2 MiB of reply-like lines, in one write. */
  while (text->len < 2 * 1024 * 1024)
    g_string_append (text, "250-flood\\r\\n");
  g_string_append (text, "\"\n  expect-close\n");
  server = start_scripted (text->str);
  address = server_address (server);

  g_object_set (client, "timeout", 20.0, NULL);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  refused = smtpkit_client_sendmail_stream (client, "a@example.org", to, body, NULL, NULL, NULL,
                                            &error);
  g_assert_null (refused);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  if (strstr (error->message, "no command asked for") == NULL)
    g_error ("not the flood: %s", error->message);
  g_assert_false (smtpkit_client_is_connected (client));
  g_clear_object (&client);
  smtpkit_fake_server_stop (server);
}

/* Blocking calls share one private context per thread, which then
 * watches every connection of the thread: with more of them than the
 * context's first poll array holds, each call still ends. */
static void
test_many_blocking_clients (void)
{
  enum { N_CLIENTS = 40 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, NULL);
  g_autofree char *host = NULL;
  SmtpkitClient *clients[N_CLIENTS];

  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  host = server_address (server);
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      g_autoptr (SmtpkitReply) greeting = NULL;

      clients[i] = new_client ();
      greeting = smtpkit_client_connect (clients[i], host, 0, NULL, &error);
      g_assert_no_error (error);
    }
  for (guint round = 0; round < 3; round++)
    for (guint i = 0; i < N_CLIENTS; i++)
      {
        g_autoptr (SmtpkitReply) reply = smtpkit_client_noop (clients[i], NULL, &error);

        g_assert_no_error (error);
        g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
      }
  for (guint i = 0; i < N_CLIENTS; i++)
    g_object_unref (clients[i]);
  smtpkit_fake_server_stop (server);
}

/* The engine needs streams that poll: a transport whose streams cannot
 * fails the connection with a clear error, and sends nothing. */
static void
test_transport_not_pollable (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test ESMTP\n"
                                                         "  expect-close\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_transport_register ("test-opaque", TEST_TYPE_OPAQUE_TRANSPORT, 10);
  g_object_set (client, "transport", "test-opaque", NULL);
  opaque_unpollable = TRUE;
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  opaque_unpollable = FALSE;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "cannot be polled"));
  g_assert_null (greeting);
  g_assert_false (smtpkit_client_is_connected (client));
  g_clear_object (&client);
  assert_script_played (server);
}

/* A mechanism of the application's own, complete only once the server
 * has sent its proof: a server that says 235 before is not believed. */
#define TEST_TYPE_MUTUAL (test_mutual_get_type ())
G_DECLARE_FINAL_TYPE (TestMutual, test_mutual, TEST, MUTUAL, SmtpkitAuthMechanism)

struct _TestMutual
{
  SmtpkitAuthMechanism parent_instance;
  gboolean proved;
};

G_DEFINE_FINAL_TYPE (TestMutual, test_mutual, SMTPKIT_TYPE_AUTH_MECHANISM)

static gboolean
test_mutual_step (SmtpkitAuthMechanism  *mechanism,
                  GBytes                *challenge,
                  GBytes               **response,
                  GError               **error)
{
  TestMutual *self = TEST_MUTUAL (mechanism);

  if (challenge == NULL)
    *response = g_bytes_new_static ("hello", 5);
  else
    {
      self->proved = g_bytes_get_size (challenge) == 5 &&
                     memcmp (g_bytes_get_data (challenge, NULL), "proof", 5) == 0;
      *response = g_bytes_new_static ("", 0);
    }
  return TRUE;
}

static gboolean
test_mutual_is_complete (SmtpkitAuthMechanism *mechanism)
{
  return TEST_MUTUAL (mechanism)->proved;
}

static void
test_mutual_class_init (TestMutualClass *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->step = test_mutual_step;
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->is_complete = test_mutual_is_complete;
}

static void
test_mutual_init (TestMutual *self)
{
}

static void
test_auth_mutual (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ("server:\n"
                                                         "  send 220 fake.test ESMTP\n"
                                                         "  expect EHLO client.test\n"
                                                         "  send 250-fake.test\n"
                                                         "  send 250 AUTH X-MUTUAL\n"
                                                         "  expect AUTH X-MUTUAL aGVsbG8=\n"
                                                         "  send 235 2.7.0 trust me\n"
                                                         "  expect AUTH X-MUTUAL aGVsbG8=\n"
                                                         "  send 334 cHJvb2Y=\n"
                                                         "  expect\n"
                                                         "  send 235 2.7.0 ok\n");
  g_autoptr (SmtpkitClient) client = new_client ();
  g_autofree char *address = server_address (server);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_auth_mechanism_register ("X-MUTUAL", TEST_TYPE_MUTUAL, 1);
  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  g_assert_no_error (error);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr (SmtpkitAuthMechanism) mechanism = smtpkit_auth_mechanism_new_for_name ("x-mutual",
                                                                                         &error);
      g_assert_no_error (error);
      g_assert_true (TEST_IS_MUTUAL (mechanism));
      g_clear_pointer (&reply, smtpkit_reply_unref);
      reply = smtpkit_client_auth (client, mechanism, NULL, &error);
      if (round == 0)
        {
          /* 235 before the server proved itself. */
          g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION);
          g_assert_cmpuint (smtpkit_reply_get_code (smtpkit_error_get_reply (error)), ==, 235);
          g_clear_error (&error);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);
        }
    }
  g_clear_object (&client);
  assert_script_played (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  /* GIO's default proxy resolver is the test's, made before anything
   * asks for it (registering the extension point again is a lookup). */
  proxy_lookups = g_ptr_array_new_with_free_func (g_free);
  g_io_extension_point_register (G_PROXY_RESOLVER_EXTENSION_POINT_NAME);
  g_io_extension_point_implement (G_PROXY_RESOLVER_EXTENSION_POINT_NAME, TEST_TYPE_PROXY_RESOLVER,
                                  "smtpkit-test", 1000);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "smtpkit-test", TRUE);

  g_test_add_func ("/client/not-connected", test_not_connected);
  g_test_add_func ("/client/property/timeout", test_timeout_property);
  g_test_add_func ("/client/property/local-hostname", test_local_hostname);
  g_test_add_func ("/client/plugins/tls-backend", test_tls_backend);
  g_test_add_func ("/client/plugins/missing", test_missing_plugin);
  g_test_add_func ("/client/plugins/lazy", test_plugins_lazy);
  g_test_add_func ("/client/plugins/in-process", test_in_process_transport);
  g_test_add_func ("/client/transport/unix", test_unix_socket);
  g_test_add_func ("/client/transport/source-address", test_source_address);
  g_test_add_func ("/client/transport/ipv6", test_ipv6);
  g_test_add_func ("/client/transport/proxy-not-for-loopback", test_proxy_not_for_loopback);
  g_test_add_func ("/client/sink/data-bytes", test_sink_data_bytes);
  g_test_add_func ("/client/sink/declared-size", test_sink_declared_size);
  g_test_add_func ("/client/sink/file-stream", test_sink_file_stream);
  g_test_add_func ("/client/sink/chunking", test_sink_chunking);
  g_test_add_func ("/client/sink/chunking-refused", test_sink_chunking_refused);
  g_test_add_func ("/client/sink/chunking-short-reads", test_sink_chunking_short_reads);
  g_test_add_func ("/client/tls/plain-to-implicit-port", test_plain_to_implicit_port);
  g_test_add_func ("/client/signals-and-transcript", test_signals_and_transcript);
  g_test_add_func ("/client/pending", test_pending);
  g_test_add_func ("/client/timeout/each-wait", test_timeout_each_wait);
  g_test_add_func ("/client/cancel", test_cancel);
  g_test_add_func ("/client/unref-closes", test_unref_closes);
  g_test_add_func ("/client/tls/ca-file", test_tls_ca_file);
  g_test_add_func ("/client/tls/ca-file-unreadable", test_tls_ca_file_unreadable);
  g_test_add_data_func ("/client/tls/certificate-error/untrusted", untrusted_checks,
                        test_certificate_error_explained);
  g_test_add_data_func ("/client/tls/certificate-error/wrong-name", wrong_name_checks,
                        test_certificate_error_explained);
  g_test_add_data_func ("/client/tls/certificate-error/expired", expired_checks,
                        test_certificate_error_explained);
  g_test_add_func ("/client/auth/redacted", test_auth_redacted);
  g_test_add_func ("/client/auth/redacted-only-what-was-sent", test_auth_redacted_only_what_was_sent);
  g_test_add_func ("/client/auth/password-needs-tls", test_password_needs_tls);
  g_test_add_func ("/client/transport/not-pollable", test_transport_not_pollable);
  g_test_add_func ("/client/robustness/flood-while-sending", test_flood_while_sending);
  g_test_add_func ("/client/sync/many-clients-one-thread", test_many_blocking_clients);
  g_test_add_func ("/client/auth/mutual", test_auth_mutual);

  return g_test_run ();
}
