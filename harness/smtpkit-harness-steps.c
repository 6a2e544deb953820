/* smtpkit-harness-steps.c: a scenario's client steps, played by
 * libsmtpkit in-process
 *
 * Each client step is a call of the public API, through the blocking API
 * or the asynchronous one as the case says; smtpkit-harness-play.c
 * compares its outcome with the scenario's. The client step language is
 * described in docs/scenario-format.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <smtpkit.h>

#include "smtpkit-harness.h"

#include "smtpkit-fake-server.h"

typedef struct
{
  SmtpkitHarnessClient parent;
  guint16 port;                 /* the fake server's */
  SmtpkitClient *client;
  GAsyncResult *result;
  gboolean async_mode;
  GTlsCertificateFlags certificate_errors;
  GMimeMessage *message;        /* the last one send_message() was given */
  SmtpkitSendResult *send_result; /* the last send()'s */
} Run;

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

/* Calls smtpkit_client_NAME_result, or NAME_async + NAME_result_finish:
 * the forms bindings call, which give a SmtpkitSendResult. */
#define CALL_RESULT(run, error, name, ...)                                                    \
  ((run)->async_mode                                                                          \
     ? (smtpkit_client_##name##_async ((run)->client, __VA_ARGS__, NULL, on_done, (run)),     \
        smtpkit_client_##name##_result_finish ((run)->client, wait_result (run), (error)))   \
     : smtpkit_client_##name##_result ((run)->client, __VA_ARGS__, NULL, (error)))

/* The refused map of a SmtpkitSendResult (taken), or NULL. */
static GHashTable *
refused_of (SmtpkitSendResult *result)
{
  g_autoptr (SmtpkitSendResult) owned = result;

  return owned ? smtpkit_send_result_get_refused (owned) : NULL;
}

static const char *const *
options_from (GPtrArray  *words,
              guint       first,
              guint       last,
              GPtrArray  *options)
{
  for (guint i = first; i < last; i++)
    g_ptr_array_add (options, g_strdup (smtpkit_harness_word (words, i)));
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

/* "get NAME": the property as its getter gives it, as text. */
static char *
get_property_text (SmtpkitClient *client,
                   const char    *name)
{
  if (g_strcmp0 (name, "local-hostname") == 0)
    return g_strdup (smtpkit_client_get_local_hostname (client));
  if (g_strcmp0 (name, "timeout") == 0)
    {
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_dtostr (buffer, sizeof buffer, smtpkit_client_get_timeout (client)));
    }
  if (g_strcmp0 (name, "convert-newlines") == 0)
    return g_strdup (smtpkit_client_get_convert_newlines (client) ? "true" : "false");
  if (g_strcmp0 (name, "debug-level") == 0)
    return g_strdup_printf ("%u", smtpkit_client_get_debug_level (client));
  if (g_strcmp0 (name, "tls-mode") == 0)
    {
      GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_TLS_MODE);
      GEnumValue *value = g_enum_get_value (klass, smtpkit_client_get_tls_mode (client));
      char *nick = g_strdup (value ? value->value_nick : NULL);
      g_type_class_unref (klass);
      return nick;
    }
  if (g_strcmp0 (name, "tls-ca-file") == 0)
    {
      const char *path = smtpkit_client_get_tls_ca_file (client);
      return g_strdup (g_strcmp0 (path, smtpkit_fake_server_get_ca_file ()) == 0 ? "fake-ca" : path);
    }
  if (g_strcmp0 (name, "source-address") == 0)
    {
      GSocketAddress *address = smtpkit_client_get_source_address (client);
      return G_IS_INET_SOCKET_ADDRESS (address)
               ? g_inet_address_to_string (
                   g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)))
               : NULL;
    }
  return g_strdup_printf ("(no property %s)", name ? name : "");
}

/* Performs the call in words[0 .. last-1]; FALSE for an unknown call. */
static gboolean
perform (Run                   *c,
         GPtrArray             *words,
         guint                  last,
         SmtpkitHarnessOutcome *out)
{
  const char *call = smtpkit_harness_word (words, 0);
  const char *a1 = last > 1 ? smtpkit_harness_word (words, 1) : NULL;
  const char *a2 = last > 2 ? smtpkit_harness_word (words, 2) : NULL;
  Run *run = c;
  g_autoptr (GError) call_error = NULL;
  GError **error = &call_error;
  g_autoptr (GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rcpt_opts = g_ptr_array_new_with_free_func (g_free);

  if (g_str_equal (call, "connect") || g_str_equal (call, "connect_to_host"))
    {
      g_autofree char *host = a1 ? g_strdup (a1)
                                 : g_strdup_printf ("127.0.0.1:%u", run->port);
      /* connect_to_host: the bindings' name of the blocking form */
      if (g_str_equal (call, "connect"))
        out->reply = CALL (c, error, connect, host, 0);
      else if (!run->async_mode)
        out->reply = smtpkit_client_connect_to_host (run->client, host, 0, NULL, error);
      else
        {
          smtpkit_client_connect_async (run->client, host, 0, NULL, on_done, run);
          out->reply = smtpkit_client_connect_finish (run->client, wait_result (run), error);
        }
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
  else if (g_str_equal (call, "sendmail") || g_str_equal (call, "sendmail_stream") ||
           g_str_equal (call, "sendmail_result") || g_str_equal (call, "sendmail_stream_result"))
    {
      g_auto (GStrv) to = smtpkit_harness_split_list (a2);
      g_autoptr (GBytes) body = smtpkit_harness_message_word (words, 3);
      g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (body);
      const char *const *rcpts = (const char *const *) to;
      const char *const *mopts, *const *ropts;

      smtpkit_harness_collect_options (words, 4, last, opts, rcpt_opts);
      mopts = (const char *const *) opts->pdata;
      ropts = (const char *const *) rcpt_opts->pdata;
      if (g_str_equal (call, "sendmail"))
        out->refused = CALL (c, error, sendmail, a1, rcpts, body, mopts, ropts);
      else if (g_str_equal (call, "sendmail_stream"))
        out->refused = CALL (c, error, sendmail_stream, a1, rcpts, stream, mopts, ropts);
      else if (g_str_equal (call, "sendmail_result"))
        out->refused = refused_of (CALL_RESULT (c, error, sendmail, a1, rcpts, body, mopts, ropts));
      else
        out->refused = refused_of (CALL_RESULT (c, error, sendmail_stream, a1, rcpts, stream,
                                                mopts, ropts));
    }
  else if (g_str_equal (call, "send_message") || g_str_equal (call, "send_message_result"))
    {
      /* send_message "MESSAGE" [FROM|-] [TO,TO|-] [mail:OPT]... */
      g_autoptr (GBytes) raw = smtpkit_harness_message_word (words, 1);
      g_auto (GStrv) to = last > 3 && !g_str_equal (smtpkit_harness_word (words, 3), "-") ? smtpkit_harness_split_list (smtpkit_harness_word (words, 3))
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
      smtpkit_harness_collect_options (words, 4, last, opts, rcpt_opts);
      if (g_str_equal (call, "send_message"))
        out->refused = CALL (c, error, send_message, run->message, from, (const char *const *) to,
                             (const char *const *) opts->pdata,
                             (const char *const *) rcpt_opts->pdata);
      else
        out->refused = refused_of (CALL_RESULT (c, error, send_message, run->message, from,
                                                (const char *const *) to,
                                                (const char *const *) opts->pdata,
                                                (const char *const *) rcpt_opts->pdata));
    }
  else if (g_str_equal (call, "send"))
    {
      /* send SENDER TO[:NOTIFY[:ORCPT]],... "MESSAGE" [ret:R] [envid:E] */
      g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new (a1);
      g_auto (GStrv) to = smtpkit_harness_split_list (a2);
      g_autoptr (GBytes) body = smtpkit_harness_message_word (words, 3);

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
          const char *w = smtpkit_harness_word (words, i);
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
          g_object_set (mechanism, "username", a2, "password", last > 3 ? smtpkit_harness_word (words, 3) : NULL,
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
  else if (g_str_equal (call, "set") && g_str_equal (a1, "transport"))
    g_object_set (run->client, "transport", a2, NULL);
  else if (g_str_equal (call, "set") && g_str_equal (a1, "debug-level"))
    smtpkit_client_set_debug_level (run->client, g_ascii_strtoull (a2, NULL, 10));
  else if (g_str_equal (call, "set") && g_str_equal (a1, "source-address"))
    {
      g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string (a2, 0);
      smtpkit_client_set_source_address (run->client, address);
    }
  else if (g_str_equal (call, "set") && g_str_equal (a1, "tls-ca-file"))
    smtpkit_client_set_tls_ca_file (run->client, g_str_equal (a2, "fake-ca")
                                                   ? smtpkit_fake_server_get_ca_file () : a2);
  else if (g_str_equal (call, "get"))
    {
      out->has_value = TRUE;
      out->value = get_property_text (run->client, a1);
    }
  else if (g_str_equal (call, "ehlo_reply") || g_str_equal (call, "helo_reply"))
    {
      /* The reply recorded, or null. */
      SmtpkitReply *reply = g_str_equal (call, "ehlo_reply")
                              ? smtpkit_client_get_ehlo_reply (run->client)
                              : smtpkit_client_get_helo_reply (run->client);
      if (reply)
        out->reply = smtpkit_reply_ref (reply);
      else
        out->has_value = TRUE;
    }
  else if (g_str_equal (call, "last_error"))
    {
      /* What bindings read of the last error: last_error [sender|recipients];
       * the reply by default. */
      if (g_strcmp0 (a1, "sender") == 0)
        {
          out->has_value = TRUE;
          out->value = g_strdup (smtpkit_client_get_last_error_sender (run->client));
        }
      else if (g_strcmp0 (a1, "recipients") == 0)
        {
          g_auto (GStrv) addresses = smtpkit_client_get_last_error_recipients (run->client);

          if (addresses)
            out->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) smtpkit_reply_unref);
          else
            out->has_value = TRUE;
          for (guint i = 0; addresses && addresses[i]; i++)
            {
              SmtpkitReply *reply =
                smtpkit_client_get_last_error_recipient_reply (run->client, addresses[i]);
              if (reply)
                g_hash_table_insert (out->refused, g_strdup (addresses[i]),
                                     smtpkit_reply_ref (reply));
            }
        }
      else
        {
          SmtpkitReply *reply = smtpkit_client_get_last_error_reply (run->client);
          if (reply)
            out->reply = smtpkit_reply_ref (reply);
          else
            out->has_value = TRUE;
        }
    }
  else if (g_str_equal (call, "tls_connection"))
    {
      GTlsConnection *tls = smtpkit_client_get_tls_connection (run->client);
      out->has_value = TRUE;
      out->value = g_strdup (tls ? "true" : "false");
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
  if (call_error)
    smtpkit_harness_outcome_set_error (out, call_error);
  return TRUE;
}


static gboolean
run_perform (SmtpkitHarnessClient  *client,
             guint                  lineno,
             GPtrArray             *words,
             guint                  last,
             SmtpkitHarnessOutcome *out)
{
  return perform ((Run *) client, words, last, out);
}

/* Dropping the last reference closes the connection, and must finalize
 * the client. */
static char *
run_finish (SmtpkitHarnessClient *client)
{
  Run *run = (Run *) client;
  GWeakRef client_ref;
  GObject *left;

  g_weak_ref_init (&client_ref, run->client);
  g_clear_object (&run->client);
  left = g_weak_ref_get (&client_ref);
  g_weak_ref_clear (&client_ref);
  if (left == NULL)
    return NULL;
  g_object_unref (left);
  return g_strdup ("the client was not finalized when its last reference was dropped");
}

static void
run_free (SmtpkitHarnessClient *client)
{
  Run *run = (Run *) client;

  g_clear_object (&run->client);
  g_clear_object (&run->result);
  g_clear_object (&run->send_result);
  g_clear_object (&run->message);
  g_free (run);
}

SmtpkitHarnessClient *
smtpkit_harness_libsmtpkit_new (const SmtpkitHarnessCase  *test_case,
                                guint16                    port,
                                gpointer                   data,
                                GError                   **error)
{
  Run *run = g_new0 (Run, 1);

  run->parent.perform = run_perform;
  run->parent.finish = run_finish;
  run->parent.free = run_free;
  run->port = port;
  run->async_mode = test_case->async;
  run->client = smtpkit_client_new ();
  smtpkit_client_set_local_hostname (run->client, "client.test", NULL);
  return &run->parent;
}
