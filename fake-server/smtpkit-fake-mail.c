/* smtpkit-fake-mail.c: a message a sink has received, with its envelope
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <json-glib/json-glib.h>

#include "smtpkit-fake-server-private.h"

/**
 * SmtpkitFakeMail:
 *
 * A message that a sink ([ctor@FakeServer.new_sink]) has stored: where
 * its file is, and its envelope as the client gave it. The same envelope
 * is written as JSON beside the message, in `SPOOL/envelopes/`. Get them
 * from [method@FakeServer.get_received]. Immutable, so safe to read from
 * any thread.
 */

G_DEFINE_FINAL_TYPE (SmtpkitFakeMail, smtpkit_fake_mail, G_TYPE_OBJECT)

static void
smtpkit_fake_mail_finalize (GObject *object)
{
  SmtpkitFakeMail *self = SMTPKIT_FAKE_MAIL (object);

  g_free (self->path);
  g_free (self->envelope_path);
  g_free (self->sender);
  g_strfreev (self->mail_parameters);
  g_ptr_array_unref (self->recipients);
  g_ptr_array_unref (self->rcpt_parameters);
  g_free (self->auth_user);
  g_free (self->helo);
  g_clear_pointer (&self->received, g_date_time_unref);

  G_OBJECT_CLASS (smtpkit_fake_mail_parent_class)->finalize (object);
}

static void
smtpkit_fake_mail_class_init (SmtpkitFakeMailClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = smtpkit_fake_mail_finalize;
}

static void
smtpkit_fake_mail_init (SmtpkitFakeMail *self)
{
  self->recipients = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  self->rcpt_parameters = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
}

/* " SIZE=10  BODY=8BITMIME" gives { "SIZE=10", "BODY=8BITMIME" }. */
static GStrv
split_parameters (const char *text)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) words = g_strsplit (text, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      g_strv_builder_add (builder, words[i]);
  return g_strv_builder_end (builder);
}

/* A transaction begun by MAIL FROM:<@sender> @parameters. */
SmtpkitFakeMail *
smtpkit_fake_mail_new (const char *sender,
                       const char *parameters)
{
  SmtpkitFakeMail *self = g_object_new (SMTPKIT_TYPE_FAKE_MAIL, NULL);

  self->sender = g_strdup (sender);
  self->mail_parameters = split_parameters (parameters);
  return self;
}

void
smtpkit_fake_mail_add_recipient (SmtpkitFakeMail *self,
                                 const char      *address,
                                 const char      *parameters)
{
  g_ptr_array_add (self->recipients, g_strdup (address));
  g_ptr_array_add (self->rcpt_parameters, split_parameters (parameters));
}

/* {"SIZE": "10", "SMTPUTF8": null}: keywords in upper case (RFC 5321
 * §2.4: they are not case-sensitive), values as sent. */
static JsonNode *
parameters_to_json (const char *const *parameters)
{
  g_autoptr (JsonObject) object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; parameters[i] != NULL; i++)
    {
      g_autofree char *parameter = g_utf8_make_valid (parameters[i], -1);
      const char *eq = strchr (parameter, '=');
      g_autofree char *keyword = g_ascii_strup (parameter, eq != NULL ? eq - parameter : -1);

      if (eq != NULL)
        json_object_set_string_member (object, keyword, eq + 1);
      else
        json_object_set_null_member (object, keyword);
    }
  json_node_set_object (node, object);
  return node;
}

static JsonNode *
recipients_to_json (SmtpkitFakeMail *self)
{
  g_autoptr (JsonArray) array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < self->rcpt_parameters->len; i++)
    {
      g_autoptr (JsonObject) recipient = json_object_new ();
      g_autofree char *address = g_utf8_make_valid (self->recipients->pdata[i], -1);

      json_object_set_string_member (recipient, "address", address);
      json_object_set_member (recipient, "parameters",
                              parameters_to_json (self->rcpt_parameters->pdata[i]));
      json_array_add_object_element (array, g_steal_pointer (&recipient));
    }
  json_node_set_array (node, array);
  return node;
}

/* The envelope file: see docs/fake-server.md. Strings that are not UTF-8
 * (an 8-bit address without SMTPUTF8) have the bad bytes replaced, as JSON
 * has no way to hold them. */
char *
smtpkit_fake_mail_to_json (SmtpkitFakeMail *self)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *sender = g_utf8_make_valid (self->sender, -1);
  g_autofree char *helo = self->helo != NULL ? g_utf8_make_valid (self->helo, -1) : NULL;
  g_autofree char *received = g_date_time_format_iso8601 (self->received);
  g_autofree char *queue_id = g_strdup_printf ("%06u", self->index);
  g_autofree char *message = g_path_get_basename (self->path);

  json_object_set_string_member (object, "queue_id", queue_id);
  json_object_set_string_member (object, "message", message);
  json_object_set_string_member (object, "sender", sender);
  json_object_set_member (object, "mail_parameters",
                          parameters_to_json ((const char *const *) self->mail_parameters));
  json_object_set_member (object, "recipients", recipients_to_json (self));
  json_object_set_string_member (object, "auth_user", self->auth_user);
  json_object_set_boolean_member (object, "tls", self->tls);
  json_object_set_string_member (object, "helo", helo);
  json_object_set_int_member (object, "size", self->size);
  json_object_set_string_member (object, "received", received);

  json_node_set_object (root, object);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/**
 * smtpkit_fake_mail_get_index:
 * @mail: a received message
 *
 * Returns: the message's number in its server, from 1, as in the sink's
 *   reply `250 2.0.0 Ok: queued as 000001` and in
 *   [signal@FakeServer::message-received]
 */
guint
smtpkit_fake_mail_get_index (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), 0);

  return self->index;
}

/**
 * smtpkit_fake_mail_get_path:
 * @mail: a received message
 *
 * Returns: the file that holds the message, `SPOOL/new/NAME`, as the
 *   client sent it between DATA and the final dot (un-dot-stuffed) or in
 *   its BDAT chunks
 */
const char *
smtpkit_fake_mail_get_path (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->path;
}

/**
 * smtpkit_fake_mail_get_envelope_path:
 * @mail: a received message
 *
 * Returns: the file that holds the envelope as JSON,
 *   `SPOOL/envelopes/NAME.json`
 */
const char *
smtpkit_fake_mail_get_envelope_path (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->envelope_path;
}

/**
 * smtpkit_fake_mail_get_sender:
 * @mail: a received message
 *
 * Returns: the reverse-path of MAIL FROM, without angle brackets (empty
 *   for a bounce, `MAIL FROM:<>`)
 */
const char *
smtpkit_fake_mail_get_sender (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->sender;
}

/**
 * smtpkit_fake_mail_get_mail_parameters:
 * @mail: a received message
 *
 * Returns: (array zero-terminated=1) (transfer none): the parameters of
 *   MAIL FROM as sent, such as `SIZE=1024` or `SMTPUTF8`
 */
const char *const *
smtpkit_fake_mail_get_mail_parameters (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return (const char *const *) self->mail_parameters;
}

/**
 * smtpkit_fake_mail_get_recipients:
 * @mail: a received message
 *
 * Returns: (array zero-terminated=1) (transfer none): the forward-paths
 *   of the RCPT TO commands the sink accepted, without angle brackets, in
 *   the order sent
 */
const char *const *
smtpkit_fake_mail_get_recipients (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return (const char *const *) self->recipients->pdata;
}

/**
 * smtpkit_fake_mail_get_rcpt_parameters:
 * @mail: a received message
 * @index: a recipient's position in [method@FakeMail.get_recipients]
 *
 * Returns: (array zero-terminated=1) (transfer none): the parameters of
 *   that recipient's RCPT TO as sent, such as `NOTIFY=SUCCESS,FAILURE`
 */
const char *const *
smtpkit_fake_mail_get_rcpt_parameters (SmtpkitFakeMail *self,
                                       guint            index)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);
  g_return_val_if_fail (index < self->rcpt_parameters->len, NULL);

  return self->rcpt_parameters->pdata[index];
}

/**
 * smtpkit_fake_mail_get_auth_user:
 * @mail: a received message
 *
 * Returns: (nullable): the user the client authenticated as with AUTH, or
 *   %NULL when it did not
 */
const char *
smtpkit_fake_mail_get_auth_user (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->auth_user;
}

/**
 * smtpkit_fake_mail_get_tls:
 * @mail: a received message
 *
 * Returns: whether the message came over TLS (STARTTLS or implicit TLS)
 */
gboolean
smtpkit_fake_mail_get_tls (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), FALSE);

  return self->tls;
}

/**
 * smtpkit_fake_mail_get_helo:
 * @mail: a received message
 *
 * Returns: (nullable): the name the client gave in its last EHLO or
 *   HELO, or %NULL when it sent neither
 */
const char *
smtpkit_fake_mail_get_helo (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->helo;
}

/**
 * smtpkit_fake_mail_get_size:
 * @mail: a received message
 *
 * Returns: the size of the message file in bytes
 */
guint64
smtpkit_fake_mail_get_size (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), 0);

  return self->size;
}

/**
 * smtpkit_fake_mail_get_received:
 * @mail: a received message
 *
 * Returns: (transfer none): when the sink stored the message, in UTC
 */
GDateTime *
smtpkit_fake_mail_get_received (SmtpkitFakeMail *self)
{
  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  return self->received;
}

/**
 * smtpkit_fake_mail_load:
 * @mail: a received message
 * @error: return location for a #GError
 *
 * Reads the message file whole: for the small messages of a test (a
 * large one is better read as a stream from [method@FakeMail.get_path]).
 *
 * Returns: (transfer full): the message, or %NULL with @error set (the
 *   file was removed, say)
 */
GBytes *
smtpkit_fake_mail_load (SmtpkitFakeMail  *self,
                        GError          **error)
{
  char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (SMTPKIT_IS_FAKE_MAIL (self), NULL);

  if (!g_file_get_contents (self->path, &data, &len, error))
    return NULL;
  return g_bytes_new_take (data, len);
}
