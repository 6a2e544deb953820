/* smtpkit-harness-steps.c: a scenario's client steps, played by
 * libsmtpkit in-process
 *
 * The client side of a scenario is interpreted here, each step a call of
 * the public API with its exact expected outcome; the fake server plays
 * the server side and checks every byte the client sends. The same case
 * runs through the blocking API or the asynchronous one. The client step
 * language is described in docs/scenario-format.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include "smtpkit-harness.h"

#include "smtpkit-fake-server.h"

typedef struct
{
  const SmtpkitHarnessCase *test_case;
  GString *failure;             /* the first failure, or NULL */
  SmtpkitFakeServer *server;
  SmtpkitClient *client;
  GAsyncResult *result;
  gboolean async_mode;
  GTlsCertificateFlags certificate_errors;
  GMimeMessage *message;        /* the last one send_message() was given */
  SmtpkitSendResult *send_result; /* the last send()'s */
  GHashTable *refused;          /* the last refused map */
  guint lineno;
} Run;

/* ---- reporting ---------------------------------------------------------- */

/* Records the first failure, "FILE:LINE: message"; later ones are
 * consequences of it. */
static void G_GNUC_PRINTF (2, 3)
run_fail (Run        *run,
          const char *format,
          ...)
{
  va_list args;

  if (run->failure)
    return;
  run->failure = g_string_new (NULL);
  g_string_append (run->failure, smtpkit_scenario_get_path (run->test_case->scenario));
  if (run->lineno > 0)
    g_string_append_printf (run->failure, ":%u", run->lineno);
  g_string_append (run->failure, ": ");
  va_start (args, format);
  g_string_append_vprintf (run->failure, format, args);
  va_end (args);
}

static const char *
word (GPtrArray *words,
      guint      i)
{
  return i < words->len ? g_bytes_get_data (g_ptr_array_index (words, i), NULL) : NULL;
}

static gboolean
word_has_nul (GPtrArray *words,
              guint      i)
{
  gsize size;
  const char *data = g_bytes_get_data (g_ptr_array_index (words, i), &size);

  return memchr (data, '\0', size) != NULL;
}

/* ---- calling the API, blocking or not ------------------------------------ */

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;

  g_assert_null (run->result);
  run->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Run *run)
{
  while (run->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return run->result;
}

/* Calls smtpkit_client_NAME, or NAME_async + NAME_finish in async mode. */
#define CALL(run, error, name, ...)                                                     \
  ((run)->async_mode                                                                    \
     ? (smtpkit_client_##name##_async ((run)->client, __VA_ARGS__, NULL, on_done, (run)), \
        smtpkit_client_##name##_finish ((run)->client, wait_result (run), (error)))      \
     : smtpkit_client_##name ((run)->client, __VA_ARGS__, NULL, (error)))
#define CALL0(run, error, name)                                                         \
  ((run)->async_mode                                                                    \
     ? (smtpkit_client_##name##_async ((run)->client, NULL, on_done, (run)),             \
        smtpkit_client_##name##_finish ((run)->client, wait_result (run), (error)))      \
     : smtpkit_client_##name ((run)->client, NULL, (error)))

/* What a call produced, to compare with the expected outcome. */
typedef struct
{
  SmtpkitReply *reply;
  GHashTable *refused;
  GError *error;
  gboolean has_value;       /* a query: value below */
  char *value;              /* "true", "false", a string, or NULL */
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_pointer (&outcome->reply, smtpkit_reply_unref);
  g_clear_pointer (&outcome->refused, g_hash_table_unref);
  g_clear_error (&outcome->error);
  g_clear_pointer (&outcome->value, g_free);
}

static char **
split_list (const char *list)
{
  if (list == NULL || *list == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (list, ",", -1);
}

/* Words after the message: "mail:OPT" and "rcpt:OPT" options. */
static void
collect_options (GPtrArray  *words,
                 guint       first,
                 guint       last,
                 GPtrArray  *mail_options,
                 GPtrArray  *rcpt_options)
{
  for (guint i = first; i < last; i++)
    {
      const char *w = word (words, i);
      if (g_str_has_prefix (w, "mail:"))
        g_ptr_array_add (mail_options, g_strdup (w + 5));
      else if (g_str_has_prefix (w, "rcpt:"))
        g_ptr_array_add (rcpt_options, g_strdup (w + 5));
    }
  g_ptr_array_add (mail_options, NULL);
  g_ptr_array_add (rcpt_options, NULL);
}

static const char *const *
options_from (GPtrArray  *words,
              guint       first,
              guint       last,
              GPtrArray  *options)
{
  for (guint i = first; i < last; i++)
    g_ptr_array_add (options, g_strdup (word (words, i)));
  g_ptr_array_add (options, NULL);
  return options->len > 1 ? (const char *const *) options->pdata : NULL;
}

typedef struct
{
  GPtrArray *words;
  guint next;
  guint last;
} Responses;

static void
responses_free (Responses *responses)
{
  g_ptr_array_unref (responses->words);
  g_free (responses);
}

static GBytes *
next_response (GBytes   *challenge,
               gpointer  user_data,
               GError  **error)
{
  Responses *responses = user_data;
  GBytes *word;

  if (responses->next >= responses->last)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                           "the scenario has no more responses");
      return NULL;
    }
  word = g_ptr_array_index (responses->words, responses->next++);
  /* "-" as the initial response: there is none. */
  if (challenge == NULL && g_bytes_get_size (word) == 1 &&
      *(const char *) g_bytes_get_data (word, NULL) == '-')
    return NULL;
  return g_bytes_ref (word);
}

static gboolean
accept_any_certificate (SmtpkitClient        *client,
                        GTlsCertificate      *peer,
                        GTlsCertificateFlags  errors,
                        Run                  *run)
{
  run->certificate_errors = errors;
  return TRUE;
}

/* A message: the word itself, or "generate:N", N bytes of CRLF lines. */
static GBytes *
message_word (GPtrArray *words,
              guint      i)
{
  const char *w = word (words, i);
  guint64 size;
  char *data;

  if (!g_str_has_prefix (w, "generate:"))
    return g_bytes_ref (g_ptr_array_index (words, i));
  size = g_ascii_strtoull (w + strlen ("generate:"), NULL, 10);
  data = g_malloc (size);
  for (guint64 j = 0; j < size; j++)
    data[j] = j % 80 == 78 ? '\r' : j % 80 == 79 ? '\n' : 'a' + (j / 80) % 26;
  return g_bytes_new_take (data, size);
}

static GMimeMessage *
parse_message (GBytes *raw)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (raw, &size);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer ((const char *) data, size);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  return message;
}

/* Performs the call in words[0 .. last-1]; FALSE for an unknown call. */
static gboolean
perform (Run       *c,
         GPtrArray *words,
         guint      last,
         Outcome   *out)
{
  const char *call = word (words, 0);
  const char *a1 = last > 1 ? word (words, 1) : NULL;
  const char *a2 = last > 2 ? word (words, 2) : NULL;
  Run *run = c;
  GError **error = &out->error;
  g_autoptr (GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rcpt_opts = g_ptr_array_new_with_free_func (g_free);

  if (g_str_equal (call, "connect"))
    {
      g_autofree char *host = a1 ? g_strdup (a1)
                                 : g_strdup_printf ("127.0.0.1:%u",
                                                    smtpkit_fake_server_get_port (run->server));
      out->reply = CALL (c, error, connect, host, 0);
    }
  else if (g_str_equal (call, "helo"))
    out->reply = CALL (c, error, helo, a1);
  else if (g_str_equal (call, "ehlo"))
    out->reply = CALL (c, error, ehlo, a1);
  else if (g_str_equal (call, "ehlo_or_helo_if_needed"))
    CALL0 (c, error, ehlo_or_helo_if_needed);
  else if (g_str_equal (call, "docmd"))
    out->reply = CALL (c, error, docmd, a1, a2);
  else if (g_str_equal (call, "noop"))
    out->reply = CALL0 (c, error, noop);
  else if (g_str_equal (call, "rset"))
    out->reply = CALL0 (c, error, rset);
  else if (g_str_equal (call, "help"))
    out->reply = CALL (c, error, help, a1);
  else if (g_str_equal (call, "verify"))
    out->reply = CALL (c, error, verify, a1);
  else if (g_str_equal (call, "expn"))
    out->reply = CALL (c, error, expn, a1);
  else if (g_str_equal (call, "mail"))
    out->reply = CALL (c, error, mail, a1, options_from (words, 2, last, opts));
  else if (g_str_equal (call, "rcpt"))
    out->reply = CALL (c, error, rcpt, a1, options_from (words, 2, last, opts));
  else if (g_str_equal (call, "data"))
    {
      g_autoptr (GBytes) body = g_bytes_ref (g_ptr_array_index (words, 1));
      out->reply = CALL (c, error, data, body);
    }
  else if (g_str_equal (call, "sendmail") || g_str_equal (call, "sendmail_stream"))
    {
      g_auto (GStrv) to = split_list (a2);
      g_autoptr (GBytes) body = message_word (words, 3);

      collect_options (words, 4, last, opts, rcpt_opts);
      if (g_str_equal (call, "sendmail"))
        out->refused = CALL (c, error, sendmail, a1, (const char *const *) to, body,
                             (const char *const *) opts->pdata,
                             (const char *const *) rcpt_opts->pdata);
      else
        {
          g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (body);
          out->refused = CALL (c, error, sendmail_stream, a1, (const char *const *) to, stream,
                               (const char *const *) opts->pdata,
                               (const char *const *) rcpt_opts->pdata);
        }
    }
  else if (g_str_equal (call, "send_message"))
    {
      /* send_message "MESSAGE" [FROM|-] [TO,TO|-] [mail:OPT]... */
      g_autoptr (GBytes) raw = message_word (words, 1);
      g_auto (GStrv) to = last > 3 && !g_str_equal (word (words, 3), "-") ? split_list (word (words, 3))
                                                                          : NULL;
      const char *from = last > 2 && !g_str_equal (a2, "-") ? a2 : NULL;

      g_clear_object (&run->message);
      run->message = parse_message (raw);
      if (run->message == NULL)
        {
          g_set_error_literal (error, SMTPKIT_HARNESS_ERROR, SMTPKIT_HARNESS_ERROR_SCENARIO,
                               "GMime cannot parse the message of send_message");
          return TRUE;
        }
      collect_options (words, 4, last, opts, rcpt_opts);
      out->refused = CALL (c, error, send_message, run->message, from, (const char *const *) to,
                           (const char *const *) opts->pdata, (const char *const *) rcpt_opts->pdata);
    }
  else if (g_str_equal (call, "send"))
    {
      /* send SENDER TO[:NOTIFY[:ORCPT]],... "MESSAGE" [ret:R] [envid:E] */
      g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new (a1);
      g_auto (GStrv) to = split_list (a2);
      g_autoptr (GBytes) body = message_word (words, 3);

      for (guint i = 0; to[i]; i++)
        {
          g_auto (GStrv) parts = g_strsplit (to[i], "/", 3);
          g_autoptr (GFlagsClass) klass = g_type_class_ref (SMTPKIT_TYPE_DSN_NOTIFY);
          SmtpkitDsnNotify notify = SMTPKIT_DSN_NOTIFY_UNSET;

          for (guint f = 0; parts[1] && parts[1][0] && f < klass->n_values; f++)
            if (strstr (parts[1], klass->values[f].value_nick))
              notify |= klass->values[f].value;
          smtpkit_envelope_add_recipient (envelope, parts[0], notify, parts[1] ? parts[2] : NULL);
        }
      for (guint i = 4; i < last; i++)
        {
          const char *w = word (words, i);
          if (g_str_equal (w, "ret:full"))
            smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_FULL);
          else if (g_str_equal (w, "ret:hdrs"))
            smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);
          else if (g_str_has_prefix (w, "envid:"))
            smtpkit_envelope_set_dsn_envid (envelope, w + 6, NULL);
        }
      g_clear_object (&run->send_result);
      run->send_result = CALL (c, error, send, envelope, body);
    }
  else if (g_str_equal (call, "result"))
    {
      /* result N: "rcpt=250 final=250 delivered=true queue=ID" */
      guint i = g_ascii_strtoull (a1, NULL, 10);
      SmtpkitReply *rcpt = smtpkit_send_result_get_rcpt_reply (run->send_result, i);
      SmtpkitReply *final = smtpkit_send_result_get_final_reply (run->send_result, i);
      const char *queue = smtpkit_send_result_get_queue_id (run->send_result, i);

      out->has_value = TRUE;
      out->value = g_strdup_printf ("%s=rcpt:%u,final:%u,delivered:%s,queue:%s",
                                    smtpkit_send_result_get_recipient (run->send_result, i),
                                    rcpt ? smtpkit_reply_get_code (rcpt) : 0,
                                    final ? smtpkit_reply_get_code (final) : 0,
                                    smtpkit_send_result_get_delivered (run->send_result, i) ? "yes" : "no",
                                    queue ? queue : "none");
    }
  else if (g_str_equal (call, "transient"))
    {
      /* transient ADDRESS: whether the last refusal of ADDRESS is 4xx. */
      SmtpkitReply *reply = run->refused ? g_hash_table_lookup (run->refused, a1) : NULL;

      out->has_value = TRUE;
      out->value = g_strdup (reply == NULL ? "null"
                             : smtpkit_reply_is_transient (reply) ? "true" : "false");
    }
  else if (g_str_equal (call, "message-header"))
    {
      /* The caller's message after send_message(): left unchanged. */
      out->has_value = TRUE;
      out->value = g_strdup (g_mime_object_get_header (GMIME_OBJECT (run->message), a1));
    }
  else if (g_str_equal (call, "starttls"))
    out->reply = CALL0 (c, error, starttls);
  else if (g_str_equal (call, "login"))
    out->reply = CALL (c, error, login, a1, a2);
  else if (g_str_equal (call, "auth"))
    {
      /* auth MECHANISM USER PASSWORD: a plugin's mechanism. */
      g_autoptr (SmtpkitAuthMechanism) mechanism = smtpkit_auth_mechanism_new_for_name (a1, error);
      if (mechanism)
        {
          g_object_set (mechanism, "username", a2, "password", last > 3 ? word (words, 3) : NULL,
                        NULL);
          out->reply = CALL (c, error, auth, mechanism);
        }
    }
  else if (g_str_equal (call, "auth-func"))
    {
      /* auth-func MECHANISM INITIAL|- RESPONSE...: a step function that
       * answers with these bytes in turn. */
      g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
      Responses *responses = g_new0 (Responses, 1);

      responses->words = g_ptr_array_ref (words);
      responses->next = 2;
      responses->last = last;
      mechanism = smtpkit_auth_mechanism_new_for_func (a1, next_response, responses,
                                                       (GDestroyNotify) responses_free);
      out->reply = CALL (c, error, auth, mechanism);
    }
  else if (g_str_equal (call, "quit"))
    out->reply = CALL0 (c, error, quit);
  else if (g_str_equal (call, "lmtp") || g_str_equal (call, "ssl"))
    {
      /* From here on, an LMTP client, or smtplib's SMTP_SSL. */
      g_object_unref (run->client);
      run->client = g_str_equal (call, "lmtp") ? smtpkit_lmtp_client_new ()
                                               : smtpkit_ssl_client_new ();
      smtpkit_client_set_local_hostname (run->client, "client.test", NULL);
    }
  else if (g_str_equal (call, "close"))
    smtpkit_client_close (run->client);
  else if (g_str_equal (call, "set") && g_str_equal (a1, "local-hostname"))
    smtpkit_client_set_local_hostname (run->client, a2, error);
  else if (g_str_equal (call, "set") && g_str_equal (a1, "timeout"))
    smtpkit_client_set_timeout (run->client, g_ascii_strtod (a2, NULL), error);
  else if (g_str_equal (call, "set") && g_str_equal (a1, "convert-newlines"))
    smtpkit_client_set_convert_newlines (run->client, g_str_equal (a2, "true"));
  else if (g_str_equal (call, "set") && (g_str_equal (a1, "allow-plaintext-auth") ||
                                         g_str_equal (a1, "initial-response-ok") ||
                                         g_str_equal (a1, "pipelining") ||
                                         g_str_equal (a1, "chunking") ||
                                         g_str_equal (a1, "convert-8bit")))
    g_object_set (run->client, a1, g_str_equal (a2, "true"), NULL);
  else if (g_str_equal (call, "set") && g_str_equal (a1, "tls-mode"))
    {
      GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_TLS_MODE);
      GEnumValue *mode = g_enum_get_value_by_nick (klass, a2 ? a2 : "");

      if (mode)
        smtpkit_client_set_tls_mode (run->client, mode->value);
      else
        g_set_error (error, SMTPKIT_HARNESS_ERROR, SMTPKIT_HARNESS_ERROR_SCENARIO,
                     "no tls-mode “%s”", a2 ? a2 : "");
      g_type_class_unref (klass);
    }
  else if (g_str_equal (call, "set") && g_str_equal (a1, "tls-database"))
    {
      /* "fake-ca": trust the fake server's certificate authority. */
      g_autoptr (GTlsDatabase) database = g_tls_file_database_new (smtpkit_fake_server_get_ca_file (),
                                                                   error);
      g_object_set (run->client, "tls-database", database, NULL);
    }
  else if (g_str_equal (call, "set") && g_str_equal (a1, "accept-certificate"))
    g_signal_connect (run->client, "accept-certificate", G_CALLBACK (accept_any_certificate), run);
  else if (g_str_equal (call, "certificate-errors"))
    {
      GFlagsClass *klass = g_type_class_ref (G_TYPE_TLS_CERTIFICATE_FLAGS);
      GString *flags = g_string_new (NULL);

      for (guint i = 0; i < klass->n_values; i++)
        if ((run->certificate_errors & klass->values[i].value) &&
            (klass->values[i].value & (klass->values[i].value - 1)) == 0)
          g_string_append_printf (flags, "%s%s", flags->len ? "," : "", klass->values[i].value_nick);
      g_type_class_unref (klass);
      out->has_value = TRUE;
      out->value = g_string_free (flags, FALSE);
    }
  else if (g_str_equal (call, "secure"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_is_secure (run->client) ? "true" : "false");
    }
  else if (g_str_equal (call, "has_extn"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_has_extn (run->client, a1) ? "true" : "false");
    }
  else if (g_str_equal (call, "extension"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_get_extension_parameter (run->client, a1));
    }
  else if (g_str_equal (call, "auth_mechanism"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_get_auth_mechanism (run->client));
    }
  else if (g_str_equal (call, "does_esmtp"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_get_does_esmtp (run->client) ? "true" : "false");
    }
  else if (g_str_equal (call, "connected"))
    {
      out->has_value = TRUE;
      out->value = g_strdup (smtpkit_client_is_connected (run->client) ? "true" : "false");
    }
  else
    return FALSE;

  g_clear_object (&run->result);
  if (out->refused)
    {
      g_clear_pointer (&run->refused, g_hash_table_unref);
      run->refused = g_hash_table_ref (out->refused);
    }
  return TRUE;
}

/* ---- checking the outcome ----------------------------------------------- */

static char *
describe (const Outcome *out)
{
  GString *s = g_string_new (NULL);

  if (out->error)
    {
      SmtpkitReply *reply = smtpkit_error_get_reply (out->error);

      if (out->error->domain == SMTPKIT_ERROR)
        {
          GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_ERROR);
          GEnumValue *value = g_enum_get_value (klass, out->error->code);

          g_string_append_printf (s, "error %s “%s”", value ? value->value_nick : "?",
                                  out->error->message);
          g_type_class_unref (klass);
        }
      else
        g_string_append_printf (s, "error %s %d “%s”", g_quark_to_string (out->error->domain),
                                out->error->code, out->error->message);
      if (reply)
        g_string_append_printf (s, " with reply %u", smtpkit_reply_get_code (reply));
    }
  else if (out->reply)
    g_string_append_printf (s, "reply %u “%s”", smtpkit_reply_get_code (out->reply),
                            smtpkit_reply_get_text (out->reply));
  else if (out->refused)
    g_string_append_printf (s, "refused map of %u", g_hash_table_size (out->refused));
  else if (out->has_value)
    g_string_append_printf (s, "value %s", out->value ? out->value : "null");
  else
    g_string_append (s, "success");
  return g_string_free (s, FALSE);
}

static gboolean
error_matches_nick (const GError *error,
                    const char   *nick)
{
  GEnumClass *klass;
  GEnumValue *value;

  if (g_str_equal (nick, "timed-out"))
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  if (g_str_equal (nick, "pending"))
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  if (g_str_equal (nick, "bad-certificate"))
    return g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  klass = g_type_class_ref (SMTPKIT_TYPE_ERROR);
  value = g_enum_get_value_by_nick (klass, nick);
  g_type_class_unref (klass);
  return value != NULL && g_error_matches (error, SMTPKIT_ERROR, value->value);
}

/* "addr:code" words against a map address -> SmtpkitReply, exactly. */
static gboolean
map_matches (GHashTable *map,
             GPtrArray  *words,
             guint       first)
{
  guint expected = 0;

  for (guint i = first; i < words->len; i++, expected++)
    {
      const char *w = word (words, i);
      const char *colon = strrchr (w, ':');
      g_autofree char *address = colon ? g_strndup (w, colon - w) : NULL;
      SmtpkitReply *reply;

      if (!colon || !map)
        return FALSE;
      /* "address:unknown": present, with no reply (outcome not known). */
      if (!g_hash_table_lookup_extended (map, address, NULL, (gpointer *) &reply))
        return FALSE;
      if (g_str_equal (colon + 1, "unknown") ? reply != NULL
          : !reply || smtpkit_reply_get_code (reply) != g_ascii_strtoull (colon + 1, NULL, 10))
        return FALSE;
    }
  return map == NULL ? expected == 0 : g_hash_table_size (map) == expected;
}

static gboolean
reply_matches (SmtpkitReply *reply,
               GPtrArray    *words,
               guint         i)
{
  if (reply == NULL || smtpkit_reply_get_code (reply) != g_ascii_strtoull (word (words, i), NULL, 10))
    return FALSE;
  /* An optional exact text, and an optional enhanced status "es:X.Y.Z". */
  for (i++; i < words->len; i++)
    {
      const char *w = word (words, i);
      if (g_str_has_prefix (w, "es:"))
        {
          const char *status = smtpkit_reply_get_enhanced_status (reply);
          if (g_strcmp0 (status, g_str_equal (w + 3, "none") ? NULL : w + 3) != 0)
            return FALSE;
        }
      else if (!g_str_equal (smtpkit_reply_get_text (reply), w))
        return FALSE;
    }
  return TRUE;
}

static gboolean
outcome_matches (const Outcome *out,
                 GPtrArray     *words,
                 guint          first)
{
  const char *kind = word (words, first);

  if (kind == NULL)
    return out->error == NULL;
  if (g_str_equal (kind, "error"))
    {
      const char *code = word (words, first + 2);
      guint rest = first + 2;

      if (out->error == NULL || !error_matches_nick (out->error, word (words, first + 1)))
        return FALSE;
      if (code && g_ascii_isdigit (code[0]))
        {
          SmtpkitReply *reply = smtpkit_error_get_reply (out->error);
          if (!reply || smtpkit_reply_get_code (reply) != g_ascii_strtoull (code, NULL, 10))
            return FALSE;
          rest++;
        }
      if (rest < words->len)
        return map_matches (smtpkit_error_get_recipients (out->error), words, rest);
      return TRUE;
    }
  if (out->error)
    return FALSE;
  if (out->has_value)
    return g_strcmp0 (out->value, g_str_equal (kind, "null") ? NULL : kind) == 0;
  if (g_str_equal (kind, "ok"))
    return out->refused == NULL || g_hash_table_size (out->refused) == 0;
  if (g_str_equal (kind, "refused"))
    return out->refused != NULL && map_matches (out->refused, words, first + 1);
  return g_ascii_isdigit (kind[0]) && reply_matches (out->reply, words, first);
}

/* ---- one scenario --------------------------------------------------------- */

static void
run_step (Run                       *run,
          const SmtpkitScenarioLine *line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = NULL;
  g_autofree char *got = NULL;
  Outcome out = { 0 };
  guint arrow;

  run->lineno = line->lineno;
  words = smtpkit_scenario_split_args (line->text, &error);
  if (words == NULL || words->len == 0)
  {
      run_fail (run, "cannot read the client step: %s", error ? error->message : "empty");
      return;
  }

  for (arrow = 0; arrow < words->len; arrow++)
    if (g_str_equal (word (words, arrow), "=>") && !word_has_nul (words, arrow))
      break;

  if (!perform (run, words, arrow, &out))
  {
      run_fail (run, "unknown client step “%s”", word (words, 0));
      return;
  }

  if (!outcome_matches (&out, words, arrow + 1))
    {
      got = describe (&out);
      run_fail (run, "expected %s, got %s", line->text, got);
    }
  outcome_clear (&out);
}

/* Plays @test_case's client steps through libsmtpkit against the fake
 * server playing its server steps. */
void
smtpkit_harness_play_libsmtpkit (const SmtpkitHarnessCase *test_case,
                                 SmtpkitHarnessResult     *result)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *steps = smtpkit_scenario_get_client_steps (test_case->scenario);
  Run run = { test_case };
  GWeakRef client_ref;
  gboolean finalized;

  run.async_mode = test_case->async;
  run.server = smtpkit_fake_server_new_scripted (test_case->scenario);
  if (!smtpkit_fake_server_listen_tcp (run.server, &error))
    {
      result->status = SMTPKIT_HARNESS_FAIL;
      result->message = g_strdup_printf ("cannot start the fake server: %s", error->message);
      g_clear_object (&run.server);
      return;
    }

  run.client = smtpkit_client_new ();
  smtpkit_client_set_local_hostname (run.client, "client.test", NULL);

  for (guint i = 0; i < steps->len && run.failure == NULL; i++)
    run_step (&run, g_ptr_array_index (steps, i));

  /* Dropping the last reference closes the connection. */
  g_weak_ref_init (&client_ref, run.client);
  g_clear_object (&run.client);
  {
    GObject *left = g_weak_ref_get (&client_ref);
    finalized = left == NULL;
    g_clear_object (&left);
  }
  g_weak_ref_clear (&client_ref);
  if (!finalized)
    {
      run.lineno = 0;
      run_fail (&run, "the client was not finalized when its last reference was dropped");
    }

  /* After a failure the server side is only a clue: no long wait. */
  if (!smtpkit_fake_server_wait (run.server, run.failure ? 2000 : 15000, &error))
    {
      run.lineno = 0;
      if (run.failure)
        g_string_append_printf (run.failure, "\nand the server side: %s", error->message);
      else
        run_fail (&run, "the server side did not play out: %s", error->message);
    }
  smtpkit_fake_server_stop (run.server);

  result->status = run.failure ? SMTPKIT_HARNESS_FAIL : SMTPKIT_HARNESS_PASS;
  result->message = run.failure ? g_string_free (g_steal_pointer (&run.failure), FALSE) : NULL;
  result->transcript = smtpkit_fake_server_get_transcript (run.server);

  g_clear_object (&run.server);
  g_clear_object (&run.result);
  g_clear_object (&run.send_result);
  g_clear_pointer (&run.refused, g_hash_table_unref);
  g_clear_object (&run.message);
}
