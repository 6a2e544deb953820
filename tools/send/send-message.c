/* send-message.c: reading, building and completing the message with GMime
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "send-message.h"

/* GMime parses almost anything; its critical warnings say it had to skip
 * part of the input, and a mailer must not send half a message. */
static void
on_parser_warning (gint64              offset,
                   GMimeParserWarning  code,
                   const char         *item,
                   gpointer            user_data)
{
  char **problem = user_data;

  if (*problem != NULL)
    return;
  if (code == GMIME_CRIT_INVALID_HEADER_NAME)
    *problem = g_strdup_printf ("invalid header name “%s” at offset %" G_GINT64_FORMAT,
                                item ? item : "", offset);
  else if (code == GMIME_CRIT_CONFLICTING_HEADER || code == GMIME_CRIT_CONFLICTING_PARAMETER ||
           code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || code == GMIME_CRIT_NESTING_OVERFLOW ||
           code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT)
    *problem = g_strdup_printf ("malformed MIME structure at offset %" G_GINT64_FORMAT " (%s)",
                                offset, item ? item : "");
}

static gboolean
has_headers (GMimeMessage *message)
{
  return g_mime_header_list_get_count (g_mime_object_get_header_list (GMIME_OBJECT (message))) > 0;
}

GMimeMessage *
send_message_parse (GBytes  *input,
                    GError **error)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (input, &length);
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer ((const char *) data, length);
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  GMimeParserOptions *options = g_mime_parser_options_new ();
  g_autofree char *problem = NULL;
  g_autoptr (GMimeMessage) message = NULL;

  g_mime_parser_options_set_warning_callback (options, on_parser_warning, &problem);
  message = g_mime_parser_construct_message (parser, options);
  g_mime_parser_options_free (options);

  if (message == NULL || !has_headers (message) || problem != NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "the message is malformed: %s",
                   problem ? problem : "it does not start with a header");
      return NULL;
    }
  return g_steal_pointer (&message);
}

GBytes *
send_message_read (const char  *path,
                   GError     **error)
{
  g_autoptr (GInputStream) input = NULL;
  g_autoptr (GOutputStream) buffer = g_memory_output_stream_new_resizable ();

  if (path == NULL || g_str_equal (path, "-"))
    input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  else
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);

      input = G_INPUT_STREAM (g_file_read (file, NULL, error));
      if (input == NULL)
        return NULL;
    }
  if (g_output_stream_splice (buffer, input, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (buffer));
}

GMimeMessage *
send_message_build (const char         *subject,
                    const char         *body,
                    const char *const  *to)
{
  GMimeMessage *message = g_mime_message_new (TRUE);
  g_autoptr (GMimeTextPart) part = g_mime_text_part_new_with_subtype ("plain");
  g_autofree char *text = NULL;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) content = NULL;

  for (guint i = 0; to != NULL && to[i] != NULL; i++)
    g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, NULL, to[i]);
  if (subject != NULL)
    g_mime_message_set_subject (message, subject, "utf-8");

  body = body ? body : "";
  text = g_str_has_suffix (body, "\n") || *body == '\0' ? g_strdup (body)
                                                         : g_strconcat (body, "\n", NULL);
  /* UTF-8 whatever the locale: g_mime_text_part_set_text() would pick
   * the locale's charset. */
  stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  content = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), content);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
  /* 8 bits where they are needed: the library decides whether the server
   * takes them (8BITMIME) or they are converted. */
  g_mime_part_set_content_encoding (
    GMIME_PART (part),
    g_mime_part_get_best_content_encoding (GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_8BIT));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
  return message;
}

static const char *
domain_of (const char *address)
{
  const char *at = address ? strrchr (address, '@') : NULL;

  return at != NULL && at[1] != '\0' ? at + 1 : g_get_host_name ();
}

void
send_message_complete (GMimeMessage *message,
                       const char   *from,
                       const char   *full_name)
{
  InternetAddressList *from_list = g_mime_message_get_from (message);

  if (from != NULL && internet_address_list_length (from_list) == 0)
    g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, full_name, from);
  if (g_mime_message_get_date (message) == NULL)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_mime_message_set_date (message, now);
    }
  if (g_mime_message_get_message_id (message) == NULL)
    {
      g_autofree char *sender = send_message_get_sender (message);
      g_autofree char *id = g_mime_utils_generate_message_id (domain_of (sender ? sender : from));

      g_mime_message_set_message_id (message, id);
    }
}

/* Every mailbox of @list, groups expanded, into @out. */
static void
add_mailboxes (GPtrArray           *out,
               InternetAddressList *list)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        add_mailboxes (out, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)));
      else
        g_ptr_array_add (out, g_strdup (internet_address_mailbox_get_addr (
                                INTERNET_ADDRESS_MAILBOX (address))));
    }
}

char *
send_message_get_sender (GMimeMessage *message)
{
  g_autoptr (GPtrArray) senders = g_ptr_array_new_with_free_func (g_free);

  add_mailboxes (senders, g_mime_message_get_sender (message));
  if (senders->len == 0)
    add_mailboxes (senders, g_mime_message_get_from (message));
  return senders->len > 0 ? g_strdup (senders->pdata[0]) : NULL;
}

static gboolean
add_argument (GPtrArray   *out,
              const char  *arg,
              GError     **error)
{
  g_autoptr (InternetAddressList) list = NULL;

  if (strpbrk (arg, "\r\n") == NULL)
    list = internet_address_list_parse (NULL, arg);
  if (list == NULL || internet_address_list_length (list) != 1 ||
      !INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (list, 0)))
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not one mail address", arg);
      return FALSE;
    }
  add_mailboxes (out, list);
  return TRUE;
}

/* sendmail sends one copy to an address named twice. */
static char **
without_duplicates (GPtrArray *addresses)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < addresses->len; i++)
    if (g_hash_table_add (seen, addresses->pdata[i]))
      g_strv_builder_add (builder, addresses->pdata[i]);
  return g_strv_builder_end (builder);
}

char **
send_message_get_recipients (GMimeMessage       *message,
                             gboolean            from_headers,
                             const char *const  *args,
                             GError            **error)
{
  g_autoptr (GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);

  if (from_headers)
    {
      g_autoptr (InternetAddressList) all = g_mime_message_get_all_recipients (message);
      add_mailboxes (recipients, all);
    }
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    if (!add_argument (recipients, args[i], error))
      return NULL;
  return without_duplicates (recipients);
}

void
send_message_strip_bcc (GMimeMessage *message)
{
  while (g_mime_object_remove_header (GMIME_OBJECT (message), "Bcc"))
    ;
  while (g_mime_object_remove_header (GMIME_OBJECT (message), "Resent-Bcc"))
    ;
}

GBytes *
send_message_to_bytes (GMimeMessage *message)
{
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new ();
  GMimeFormatOptions *format = g_mime_format_options_new ();
  GByteArray *bytes;

  send_message_strip_bcc (message);
  g_mime_format_options_set_newline_format (format, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_object_write_to_stream (GMIME_OBJECT (message), format, stream);
  g_mime_format_options_free (format);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  return g_bytes_new (bytes->data, bytes->len);
}
