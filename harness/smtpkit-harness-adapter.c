/* smtpkit-harness-adapter.c: a scenario's client steps, played by another
 * client through an adapter
 *
 * The adapter is a program (COMMAND, run by /bin/sh for each case) that
 * drives the client under test. The harness writes it one JSON object per
 * line on its standard input — a hello with the whole case, then each
 * client step — and reads one JSON object per line from its standard
 * output, the outcome of each. The protocol is described in
 * docs/harness.md. A step the adapter cannot express is answered
 * "unsupported", and the case is a skip, never a pass.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "smtpkit-harness.h"

#include "smtpkit-fake-server.h"

#define PROTOCOL_VERSION 1
/* Each step may take this long: the scenarios' own waits are shorter. */
#define STEP_TIMEOUT_SECONDS 60

typedef struct
{
  SmtpkitHarnessClient parent;
  const SmtpkitHarnessCase *test_case;
  guint16 port;
  GSubprocess *process;
  GDataInputStream *out;        /* the adapter's standard output */
  GOutputStream *in;            /* its standard input */
  char *stderr_path;
  char *failure;                /* the adapter broke the protocol */
} Adapter;

/* ---- requests --------------------------------------------------------------- */

static void
add_base64 (JsonBuilder *builder,
            const char  *member,
            GBytes      *bytes)
{
  gsize size;
  const guchar *data = g_bytes_get_data (bytes, &size);
  g_autofree char *encoded = g_base64_encode (data, size);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, encoded);
}

static void
add_string (JsonBuilder *builder,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (builder, member);
  if (value)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_strv (JsonBuilder       *builder,
          const char        *member,
          const char *const *values)
{
  json_builder_set_member_name (builder, member);
  if (values == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_array (builder);
  for (guint i = 0; values[i]; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

/* Words [first, last) as strings. */
static void
add_words (JsonBuilder *builder,
           const char  *member,
           GPtrArray   *words,
           guint        first,
           guint        last)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = first; i < last; i++)
    json_builder_add_string_value (builder, smtpkit_harness_word (words, i));
  json_builder_end_array (builder);
}

/* Every word must be UTF-8 without NUL to go as a JSON string; messages
 * and authentication data go as base64 and may hold anything. */
static gboolean
words_are_text (GPtrArray *words,
                guint      last)
{
  for (guint i = 0; i < last; i++)
    {
      gsize size;
      const char *data = g_bytes_get_data (g_ptr_array_index (words, i), &size);

      if (memchr (data, '\0', size) || !g_utf8_validate (data, size, NULL))
        return FALSE;
    }
  return TRUE;
}

static void
add_recipients (JsonBuilder *builder,
                const char  *list)
{
  g_auto (GStrv) to = smtpkit_harness_split_list (list);

  json_builder_set_member_name (builder, "recipients");
  json_builder_begin_array (builder);
  for (guint i = 0; to[i]; i++)
    {
      /* ADDRESS[/NOTIFY[/ORCPT]] */
      g_auto (GStrv) parts = g_strsplit (to[i], "/", 3);

      json_builder_begin_object (builder);
      add_string (builder, "address", parts[0]);
      add_string (builder, "notify", parts[1] && parts[1][0] ? parts[1] : NULL);
      add_string (builder, "orcpt", parts[1] ? parts[2] : NULL);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* The JSON request for the step words[0 .. last-1], or NULL when the
 * protocol has no such step (the case is then a skip). */
static JsonNode *
step_request (Adapter   *adapter,
              guint      lineno,
              GPtrArray *words,
              guint      last)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *call = smtpkit_harness_word (words, 0);
  const char *a1 = last > 1 ? smtpkit_harness_word (words, 1) : NULL;
  const char *a2 = last > 2 ? smtpkit_harness_word (words, 2) : NULL;
  g_autoptr (GPtrArray) mail = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rcpt = g_ptr_array_new_with_free_func (g_free);
  static const char *const bare[] = {
    "ehlo_or_helo_if_needed", "noop", "rset", "quit", "starttls", "close", "lmtp", "ssl",
    "connected", "does_esmtp", "secure", "auth_mechanism", "certificate-errors", NULL,
  };

  json_builder_begin_object (builder);
  add_string (builder, "op", call);
  json_builder_set_member_name (builder, "line");
  json_builder_add_int_value (builder, lineno);

  if (g_str_equal (call, "connect"))
    {
      add_string (builder, "host", a1 ? a1 : "127.0.0.1");
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, a1 ? 0 : adapter->port);
    }
  else if (g_strv_contains (bare, call))
    ;
  else if (g_str_equal (call, "helo") || g_str_equal (call, "ehlo"))
    add_string (builder, "name", a1);
  else if (g_str_equal (call, "docmd"))
    {
      add_string (builder, "verb", a1);
      add_string (builder, "args", a2);
    }
  else if (g_str_equal (call, "help"))
    add_string (builder, "topic", a1);
  else if (g_str_equal (call, "verify") || g_str_equal (call, "expn"))
    add_string (builder, "address", a1);
  else if (g_str_equal (call, "mail") || g_str_equal (call, "rcpt"))
    {
      add_string (builder, "address", a1);
      add_words (builder, "options", words, 2, last);
    }
  else if (g_str_equal (call, "data"))
    {
      g_autoptr (GBytes) message = smtpkit_harness_message_word (words, 1);
      add_base64 (builder, "message", message);
    }
  else if (g_str_equal (call, "sendmail") || g_str_equal (call, "sendmail_stream"))
    {
      g_auto (GStrv) to = smtpkit_harness_split_list (a2);
      g_autoptr (GBytes) message = smtpkit_harness_message_word (words, 3);

      smtpkit_harness_collect_options (words, 4, last, mail, rcpt);
      add_string (builder, "from", a1);
      add_strv (builder, "to", (const char *const *) to);
      add_base64 (builder, "message", message);
      add_strv (builder, "mail_options", (const char *const *) mail->pdata);
      add_strv (builder, "rcpt_options", (const char *const *) rcpt->pdata);
    }
  else if (g_str_equal (call, "send_message"))
    {
      g_autoptr (GBytes) message = smtpkit_harness_message_word (words, 1);
      const char *to = last > 3 ? smtpkit_harness_word (words, 3) : NULL;
      g_auto (GStrv) to_list = to && !g_str_equal (to, "-") ? smtpkit_harness_split_list (to)
                                                            : NULL;

      smtpkit_harness_collect_options (words, 4, last, mail, rcpt);
      add_base64 (builder, "message", message);
      add_string (builder, "from", a2 && !g_str_equal (a2, "-") ? a2 : NULL);
      add_strv (builder, "to", (const char *const *) to_list);
      add_strv (builder, "mail_options", (const char *const *) mail->pdata);
      add_strv (builder, "rcpt_options", (const char *const *) rcpt->pdata);
    }
  else if (g_str_equal (call, "send"))
    {
      g_autoptr (GBytes) message = smtpkit_harness_message_word (words, 3);

      add_string (builder, "sender", a1);
      add_recipients (builder, a2);
      add_base64 (builder, "message", message);
      add_words (builder, "options", words, 4, last);
    }
  else if (g_str_equal (call, "result"))
    add_string (builder, "index", a1);
  else if (g_str_equal (call, "message-header") || g_str_equal (call, "has_extn") ||
           g_str_equal (call, "extension"))
    add_string (builder, "name", a1);
  else if (g_str_equal (call, "login"))
    {
      add_string (builder, "user", a1);
      add_string (builder, "password", a2);
    }
  else if (g_str_equal (call, "auth"))
    {
      add_string (builder, "mechanism", a1);
      add_string (builder, "user", a2);
      add_string (builder, "password", last > 3 ? smtpkit_harness_word (words, 3) : NULL);
    }
  else if (g_str_equal (call, "auth-func"))
    {
      /* auth-func MECHANISM INITIAL|- RESPONSE...: the bytes to answer
       * with in turn; a null initial response is none. */
      add_string (builder, "mechanism", a1);
      json_builder_set_member_name (builder, "responses");
      json_builder_begin_array (builder);
      for (guint i = 2; i < last; i++)
        {
          if (i == 2 && g_str_equal (smtpkit_harness_word (words, i), "-"))
            json_builder_add_null_value (builder);
          else
            {
              GBytes *word = g_ptr_array_index (words, i);
              g_autofree char *encoded = g_base64_encode (g_bytes_get_data (word, NULL),
                                                          g_bytes_get_size (word));
              json_builder_add_string_value (builder, encoded);
            }
        }
      json_builder_end_array (builder);
    }
  else if (g_str_equal (call, "set"))
    {
      add_string (builder, "name", a1);
      /* The fake server's CA, as a file the other client can read. */
      if (g_strcmp0 (a1, "tls-database") == 0 && g_strcmp0 (a2, "fake-ca") == 0)
        add_string (builder, "value", smtpkit_fake_server_get_ca_file ());
      else
        add_string (builder, "value", a2);
    }
  else
    return NULL;

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- talking to the adapter ---------------------------------------------- */

typedef struct
{
  GMainContext *context;
  char *line;
  GError *error;
  gboolean done;
  gboolean timed_out;
} Reading;

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Reading *reading = user_data;

  reading->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                              NULL, &reading->error);
  reading->done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Reading *reading = user_data;

  reading->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Writes @request and reads the answer: a JSON object, or NULL with
 * adapter->failure set. */
static JsonObject *
exchange (Adapter  *adapter,
          JsonNode *request)
{
  g_autofree char *text = json_to_string (request, FALSE);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  Reading reading = { context };
  g_autoptr (GSource) timeout = NULL;
  JsonNode *root;

  if (!g_output_stream_write_all (adapter->in, text, strlen (text), NULL, NULL, &error) ||
      !g_output_stream_write_all (adapter->in, "\n", 1, NULL, NULL, &error) ||
      !g_output_stream_flush (adapter->in, NULL, &error))
    {
      adapter->failure = g_strdup_printf ("cannot write to the adapter: %s", error->message);
      return NULL;
    }

  g_main_context_push_thread_default (context);
  g_data_input_stream_read_line_async (adapter->out, G_PRIORITY_DEFAULT, cancellable, on_line,
                                       &reading);
  timeout = g_timeout_source_new_seconds (STEP_TIMEOUT_SECONDS);
  g_source_set_callback (timeout, on_timeout, &reading, NULL);
  g_source_attach (timeout, context);
  while (!reading.done)
    {
      if (reading.timed_out)
        g_cancellable_cancel (cancellable);
      g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);

  if (reading.timed_out)
    adapter->failure = g_strdup_printf ("the adapter did not answer within %d s", STEP_TIMEOUT_SECONDS);
  else if (reading.error)
    adapter->failure = g_strdup_printf ("cannot read the adapter's answer: %s", reading.error->message);
  else if (reading.line == NULL)
    adapter->failure = g_strdup ("the adapter closed its output without an answer");
  else if (!json_parser_load_from_data (parser, reading.line, -1, &error))
    adapter->failure = g_strdup_printf ("the adapter answered “%s”, not JSON: %s", reading.line,
                                        error->message);
  g_clear_error (&reading.error);
  if (adapter->failure)
    {
      g_free (reading.line);
      return NULL;
    }
  g_free (reading.line);
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      adapter->failure = g_strdup ("the adapter's answer is not a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* ---- answers -------------------------------------------------------------- */

/* {"code": 250, "lines": ["..."]} */
static SmtpkitReply *
reply_from_json (JsonNode *node)
{
  JsonObject *object;
  JsonArray *lines;
  g_autoptr (GPtrArray) texts = g_ptr_array_new ();

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);
  if (!json_object_has_member (object, "code"))
    return NULL;
  lines = json_object_has_member (object, "lines") ? json_object_get_array_member (object, "lines")
                                                   : NULL;
  for (guint i = 0; lines && i < json_array_get_length (lines); i++)
    g_ptr_array_add (texts, (gpointer) json_array_get_string_element (lines, i));
  g_ptr_array_add (texts, NULL);
  return smtpkit_reply_new (json_object_get_int_member (object, "code"),
                            (const char *const *) texts->pdata);
}

/* {"address": {"code": 550, "lines": [...]} or null, ...} */
static GHashTable *
map_from_json (JsonObject *object,
               const char *member)
{
  GHashTable *map;
  JsonObject *entries;
  g_autoptr (GList) names = NULL;

  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, member)))
    return NULL;
  map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                               (GDestroyNotify) smtpkit_reply_unref);
  entries = json_object_get_object_member (object, member);
  names = json_object_get_members (entries);
  for (GList *l = names; l; l = l->next)
    g_hash_table_insert (map, g_strdup (l->data),
                         reply_from_json (json_object_get_member (entries, l->data)));
  return map;
}

static const char *
string_member (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node)
           : NULL;
}

/* Fills @out from the adapter's answer; FALSE (adapter->failure set) for
 * an answer that breaks the protocol. */
static gboolean
outcome_from_json (Adapter               *adapter,
                   JsonObject            *answer,
                   SmtpkitHarnessOutcome *out)
{
  const char *status = string_member (answer, "status");

  if (g_strcmp0 (status, "reply") == 0)
    out->reply = reply_from_json (json_object_get_member (answer, "reply"));
  else if (g_strcmp0 (status, "ok") == 0)
    ;
  else if (g_strcmp0 (status, "refused") == 0)
    out->refused = map_from_json (answer, "recipients");
  else if (g_strcmp0 (status, "error") == 0)
    {
      out->error = g_strdup (string_member (answer, "error"));
      out->error_message = g_strdup (string_member (answer, "message"));
      out->reply = reply_from_json (json_object_get_member (answer, "reply"));
      out->error_recipients = map_from_json (answer, "recipients");
    }
  else if (g_strcmp0 (status, "value") == 0)
    {
      out->has_value = TRUE;
      out->value = g_strdup (string_member (answer, "value"));
    }
  else if (g_strcmp0 (status, "unsupported") == 0)
    {
      const char *reason = string_member (answer, "reason");
      out->unsupported = g_strdup_printf ("the adapter cannot express this step%s%s",
                                          reason ? ": " : "", reason ? reason : "");
    }
  else
    {
      adapter->failure = g_strdup_printf ("the adapter answered with status “%s”",
                                          status ? status : "(none)");
      return FALSE;
    }
  if ((g_strcmp0 (status, "reply") == 0 && out->reply == NULL) ||
      (g_strcmp0 (status, "refused") == 0 && out->refused == NULL) ||
      (g_strcmp0 (status, "error") == 0 && out->error == NULL))
    {
      adapter->failure = g_strdup_printf ("the adapter's “%s” answer lacks its fields", status);
      return FALSE;
    }
  return TRUE;
}

/* The end of what the adapter wrote on its standard error. */
static char *
adapter_stderr (Adapter *adapter)
{
  g_autofree char *text = NULL;
  gsize length = 0;

  if (!g_file_get_contents (adapter->stderr_path, &text, &length, NULL) || length == 0)
    return g_strdup ("");
  return g_strdup_printf ("\nthe adapter's standard error:\n%s",
                          length > 4000 ? text + length - 4000 : text);
}

static gboolean
adapter_perform (SmtpkitHarnessClient  *client,
                 guint                  lineno,
                 GPtrArray             *words,
                 guint                  last,
                 SmtpkitHarnessOutcome *out)
{
  Adapter *adapter = (Adapter *) client;
  g_autoptr (JsonNode) request = NULL;
  g_autoptr (JsonObject) answer = NULL;

  if (adapter->failure)
    return TRUE;
  request = words_are_text (words, last) ? step_request (adapter, lineno, words, last) : NULL;
  if (request == NULL)
    {
      out->unsupported = g_strdup_printf ("the adapter protocol has no way to say “%s”%s",
                                          smtpkit_harness_word (words, 0),
                                          words_are_text (words, last) ? ""
                                          : " with bytes that are not UTF-8 text");
      return TRUE;
    }
  answer = exchange (adapter, request);
  if (answer == NULL || !outcome_from_json (adapter, answer, out))
    {
      /* Reported by finish(), with the adapter's standard error. */
      out->error = g_strdup ("adapter-failed");
      out->error_message = g_strdup (adapter->failure);
    }
  return TRUE;
}

/* Tells the adapter the case is over and waits for it to exit. */
static char *
adapter_finish (SmtpkitHarnessClient *client)
{
  Adapter *adapter = (Adapter *) client;
  g_autoptr (GError) error = NULL;
  g_autofree char *errors = NULL;

  g_output_stream_write_all (adapter->in, "{\"op\":\"end\"}\n", 13, NULL, NULL, NULL);
  g_output_stream_close (adapter->in, NULL, NULL);
  if (!adapter->failure)
    {
      gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

      /* At most ten seconds, then it is killed. GIO reaps the child in
       * its worker thread. */
      while (g_subprocess_get_identifier (adapter->process) && g_get_monotonic_time () < deadline)
        g_usleep (10000);
      if (g_subprocess_get_identifier (adapter->process))
        adapter->failure = g_strdup ("the adapter did not exit within 10 s of the end of the case");
      else if (!g_subprocess_get_successful (adapter->process))
        adapter->failure = g_strdup_printf ("the adapter exited with status %d",
                                            g_subprocess_get_exit_status (adapter->process));
    }
  if (adapter->failure == NULL)
    return NULL;
  g_subprocess_force_exit (adapter->process);
  errors = adapter_stderr (adapter);
  return g_strconcat (adapter->failure, errors, NULL);
}

static void
adapter_free (SmtpkitHarnessClient *client)
{
  Adapter *adapter = (Adapter *) client;

  if (adapter->process)
    {
      g_subprocess_force_exit (adapter->process);
      g_subprocess_wait (adapter->process, NULL, NULL);
    }
  g_clear_object (&adapter->process);
  g_clear_object (&adapter->out);
  if (adapter->stderr_path)
    g_unlink (adapter->stderr_path);
  g_free (adapter->stderr_path);
  g_free (adapter->failure);
  g_free (adapter);
}

/* The hello: the case, and all its steps, for an adapter that needs to
 * see ahead (a client that runs a whole session at once). */
static JsonNode *
hello_request (Adapter *adapter)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GPtrArray *steps = smtpkit_scenario_get_client_steps (adapter->test_case->scenario);

  json_builder_begin_object (builder);
  add_string (builder, "op", "hello");
  json_builder_set_member_name (builder, "protocol");
  json_builder_add_int_value (builder, PROTOCOL_VERSION);
  add_string (builder, "case", adapter->test_case->id);
  add_string (builder, "mode", adapter->test_case->async ? "async" : "sync");
  add_string (builder, "title", smtpkit_scenario_get_title (adapter->test_case->scenario));
  json_builder_set_member_name (builder, "steps");
  json_builder_begin_array (builder);
  for (guint i = 0; i < steps->len; i++)
    {
      const SmtpkitScenarioLine *line = g_ptr_array_index (steps, i);
      g_autoptr (GPtrArray) words = smtpkit_scenario_split_args (line->text, NULL);
      guint arrow;
      g_autoptr (JsonNode) request = NULL;

      if (words == NULL)
        continue;
      for (arrow = 0; arrow < words->len; arrow++)
        if (g_str_equal (smtpkit_harness_word (words, arrow), "=>"))
          break;
      request = words_are_text (words, arrow) ? step_request (adapter, line->lineno, words, arrow)
                                              : NULL;
      if (request)
        json_builder_add_value (builder, g_steal_pointer (&request));
      else
        json_builder_add_null_value (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

SmtpkitHarnessClient *
smtpkit_harness_adapter_new (const SmtpkitHarnessCase  *test_case,
                             guint16                    port,
                             gpointer                   data,
                             GError                   **error)
{
  const char *command = data;
  Adapter *adapter = g_new0 (Adapter, 1);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (JsonNode) hello = NULL;
  g_autoptr (JsonObject) answer = NULL;
  int fd;

  adapter->parent.perform = adapter_perform;
  adapter->parent.finish = adapter_finish;
  adapter->parent.free = adapter_free;
  adapter->test_case = test_case;
  adapter->port = port;

  fd = g_file_open_tmp ("smtpkit-adapter-XXXXXX.err", &adapter->stderr_path, error);
  if (fd < 0)
    {
      adapter_free (&adapter->parent);
      return NULL;
    }
  close (fd);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, adapter->stderr_path);
  g_subprocess_launcher_setenv (launcher, "SMTPKIT_HARNESS_CASE", test_case->id, TRUE);
  adapter->process = g_subprocess_launcher_spawn (launcher, error, "/bin/sh", "-c", command, NULL);
  if (adapter->process == NULL)
    {
      adapter_free (&adapter->parent);
      return NULL;
    }
  adapter->in = g_subprocess_get_stdin_pipe (adapter->process);
  adapter->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (adapter->process));

  hello = hello_request (adapter);
  answer = exchange (adapter, hello);
  if (answer == NULL || g_strcmp0 (string_member (answer, "status"), "ok") != 0)
    {
      g_autofree char *errors = adapter_stderr (adapter);

      g_set_error (error, SMTPKIT_HARNESS_ERROR, SMTPKIT_HARNESS_ERROR_ADAPTER,
                   "the adapter “%s” did not answer the hello: %s%s", command,
                   adapter->failure ? adapter->failure : "its status is not ok", errors);
      adapter_free (&adapter->parent);
      return NULL;
    }
  return &adapter->parent;
}
