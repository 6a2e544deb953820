/* smtpkit-message.c: a GMimeMessage as smtplib's send_message() sends it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-message-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-error-private.h"

/* g_mime_init() counts its callers, so calling it once more for ourselves
 * is harmless when the application has already done so. */
static void
ensure_gmime (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}

/* ---- the envelope ----------------------------------------------------- */

/* GMime keeps valueless placeholder headers to fix the order of headers
 * set later (g_mime_message_new (TRUE)); they are not written, so they
 * are not there. */
static gboolean
header_is (GMimeHeader *header,
           const char  *name)
{
  return g_mime_header_get_value (header) != NULL &&
         g_ascii_strcasecmp (g_mime_header_get_name (header), name) == 0;
}

static guint
count_headers (GMimeHeaderList *headers,
               const char      *name)
{
  guint count = 0;
  int n = g_mime_header_list_get_count (headers);

  for (int i = 0; i < n; i++)
    {
      if (header_is (g_mime_header_list_get_header_at (headers, i), name))
        count++;
    }

  return count;
}

/* msg[name] in Python: the first header of that name. */
static GMimeHeader *
first_header (GMimeHeaderList *headers,
              const char      *prefix,
              const char      *name)
{
  g_autofree char *full_name = g_strconcat (prefix, name, NULL);
  int n = g_mime_header_list_get_count (headers);

  for (int i = 0; i < n; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      if (header_is (header, full_name))
        return header;
    }

  return NULL;
}

static const char *
header_text (GMimeHeader *header)
{
  const char *raw = g_mime_header_get_raw_value (header);

  return raw != NULL ? raw : g_mime_header_get_value (header);
}

/* GMime's parser turns an A-label domain into UTF-8; the address is
 * wanted as the header gives it, so that an ASCII header never makes the
 * envelope need SMTPUTF8. */
static char *
address_as_written (InternetAddressMailbox *mailbox,
                    const char             *text)
{
  const char *addr = internet_address_mailbox_get_addr (mailbox);
  const char *idn_addr;
  const char *found;

  if (smtpkit_codec_is_ascii (addr) || strstr (text, addr) != NULL)
    return g_strdup (addr);

  idn_addr = internet_address_mailbox_get_idn_addr (mailbox);
  found = idn_addr ? smtpkit_codec_find_ascii_case (text, idn_addr) : NULL;
  if (found != NULL)
    return g_strndup (found, strlen (idn_addr));

  return g_strdup (addr);
}

/* email.utils.getaddresses(): every mailbox, groups expanded, without
 * display names. */
static void
collect_addresses (InternetAddressList *list,
                   const char          *text,
                   GPtrArray           *out)
{
  int n = internet_address_list_length (list);

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressGroup *group = INTERNET_ADDRESS_GROUP (address);

          collect_addresses (internet_address_group_get_members (group), text, out);
        }
      else if (INTERNET_ADDRESS_IS_MAILBOX (address))
        {
          InternetAddressMailbox *mailbox = INTERNET_ADDRESS_MAILBOX (address);
          const char *addr = internet_address_mailbox_get_addr (mailbox);

          if (addr != NULL && *addr != '\0')
            g_ptr_array_add (out, address_as_written (mailbox, text));
        }
    }
}

static void
header_addresses (GMimeHeader *header,
                  GPtrArray   *out)
{
  const char *text = header_text (header);
  InternetAddressList *list;

  list = internet_address_list_parse (g_mime_parser_options_get_default (), text);
  if (list != NULL)
    {
      collect_addresses (list, text, out);
      g_object_unref (list);
    }
}

static char *
envelope_sender (GMimeHeaderList  *headers,
                 const char       *prefix,
                 GError          **error)
{
  g_autoptr (GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  GMimeHeader *header;

  /* RFC 5322 §3.6.2: Sender, when there is one, names the sender. */
  header = first_header (headers, prefix, "Sender");
  if (header == NULL)
    header = first_header (headers, prefix, "From");
  if (header == NULL)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "message has no %sSender or %sFrom header; "
                                                  "give the sender explicitly",
                                                  prefix, prefix));
      return NULL;
    }

  header_addresses (header, addresses);
  if (addresses->len == 0)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "message header %s holds no address; "
                                                  "give the sender explicitly",
                                                  g_mime_header_get_name (header)));
      return NULL;
    }

  return g_strdup (g_ptr_array_index (addresses, 0));
}

static GPtrArray *
envelope_recipients (GMimeHeaderList  *headers,
                     const char       *prefix,
                     GError          **error)
{
  /* smtplib's order. */
  static const char *const names[] = { "To", "Bcc", "Cc" };
  g_autoptr (GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GMimeHeader *header = first_header (headers, prefix, names[i]);

      if (header != NULL)
        header_addresses (header, addresses);
    }

  if (addresses->len == 0)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "message has no recipient in its %sTo, "
                                                  "%sCc or %sBcc headers; give the "
                                                  "recipients explicitly",
                                                  prefix, prefix, prefix));
      return NULL;
    }

  return g_steal_pointer (&addresses);
}

gboolean
smtpkit_message_get_envelope (GMimeMessage  *message,
                              char         **from,
                              GPtrArray    **to,
                              GError       **error)
{
  GMimeHeaderList *headers;
  const char *prefix;
  guint resent;
  g_autofree char *sender = NULL;
  g_autoptr (GPtrArray) recipients = NULL;

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ensure_gmime ();
  headers = g_mime_object_get_header_list (GMIME_OBJECT (message));

  /* smtplib: one Resent-Date header is one Resent- block. */
  resent = count_headers (headers, "Resent-Date");
  if (resent > 1)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "message has more than one 'Resent-' header "
                                                  "block (%u Resent-Date headers); give the "
                                                  "sender and recipients explicitly",
                                                  resent));
      return FALSE;
    }
  prefix = resent == 1 ? "Resent-" : "";

  if (from != NULL)
    {
      sender = envelope_sender (headers, prefix, error);
      if (sender == NULL)
        return FALSE;
    }
  if (to != NULL)
    {
      recipients = envelope_recipients (headers, prefix, error);
      if (recipients == NULL)
        return FALSE;
    }

  if (from != NULL)
    *from = g_steal_pointer (&sender);
  if (to != NULL)
    *to = g_steal_pointer (&recipients);

  return TRUE;
}

/* ---- serialising ------------------------------------------------------ */

/* GMime declares no autoptr cleanups: its objects are freed by hand. */
static GByteArray *
write_message (GMimeMessage  *message,
               GError       **error)
{
  GMimeFormatOptions *options = g_mime_format_options_new ();
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *bytes = NULL;

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  if (g_mime_object_write_to_stream (GMIME_OBJECT (message), options, stream) >= 0 &&
      g_mime_stream_flush (stream) >= 0)
    {
      bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
      g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
    }
  else
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_FAILED, NULL,
                                                  "could not serialise the message"));
    }

  g_object_unref (stream);
  g_mime_format_options_free (options);

  return bytes;
}

/* GMime's DOS newline format turns each LF into CRLF, but a part read
 * from mixed line endings can end with a CR of its own, which comes out
 * as CR CR LF. SMTP allows CR and LF only as CRLF (RFC 5321 §2.3.8), so
 * any run of CRs ending in LF, and a bare CR or LF, become one CRLF. */
static GByteArray *
canonicalize_newlines (GByteArray *wire)
{
  GByteArray *out = g_byte_array_sized_new (wire->len);
  const guint8 *p = wire->data;
  const guint8 *end = wire->data + wire->len;
  static const guint8 crlf[] = { '\r', '\n' };

  while (p < end)
    {
      const guint8 *run = p;

      while (p < end && *p != '\r' && *p != '\n')
        p++;
      g_byte_array_append (out, run, p - run);
      if (p == end)
        break;

      if (*p == '\r')
        {
          while (p < end && *p == '\r')
            p++;
          if (p < end && *p == '\n')
            p++;
        }
      else
        p++;
      g_byte_array_append (out, crlf, sizeof crlf);
    }

  return out;
}

static gboolean
is_hidden_field (const guint8 *line,
                 gsize         length)
{
  static const char *const hidden[] = { "Bcc", "Resent-Bcc" };
  const guint8 *colon = memchr (line, ':', length);
  gsize name_length;

  if (colon == NULL)
    return FALSE;
  name_length = colon - line;
  /* RFC 5322 §4.5.3 obsolete syntax: white space before the colon. */
  while (name_length > 0 && (line[name_length - 1] == ' ' || line[name_length - 1] == '\t'))
    name_length--;

  for (gsize i = 0; i < G_N_ELEMENTS (hidden); i++)
    {
      if (strlen (hidden[i]) == name_length &&
          g_ascii_strncasecmp ((const char *) line, hidden[i], name_length) == 0)
        return TRUE;
    }

  return FALSE;
}

/* Drops the Bcc and Resent-Bcc fields, continuation lines included, from
 * the header section of @wire: the lines before the first empty one.
 * GMimeFormatOptions' hidden headers would also hide them in every
 * message/rfc822 part, which smtplib leaves alone. */
static GBytes *
strip_hidden_fields (GByteArray *wire)
{
  GByteArray *out = g_byte_array_sized_new (wire->len);
  gsize pos = 0;
  gboolean dropping = FALSE;

  while (pos < wire->len)
    {
      const guint8 *line = wire->data + pos;
      const guint8 *lf = memchr (line, '\n', wire->len - pos);
      gsize length = lf ? (gsize) (lf - line) + 1 : wire->len - pos;

      if (length <= 2 && (line[0] == '\r' || line[0] == '\n'))
        break; /* the empty line: the body follows */

      if (line[0] != ' ' && line[0] != '\t')
        dropping = is_hidden_field (line, length);
      if (!dropping)
        g_byte_array_append (out, line, length);
      pos += length;
    }

  g_byte_array_append (out, wire->data + pos, wire->len - pos);

  return g_byte_array_free_to_bytes (out);
}

GBytes *
smtpkit_message_serialize (GMimeMessage  *message,
                           GError       **error)
{
  g_autoptr (GByteArray) wire = NULL;

  g_autoptr (GByteArray) canonical = NULL;

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_gmime ();
  wire = write_message (message, error);
  if (wire == NULL)
    return NULL;
  canonical = canonicalize_newlines (wire);

  return strip_hidden_fields (canonical);
}

gboolean
smtpkit_message_has_8bit (GBytes *wire)
{
  gsize length;
  const guint8 *data;

  g_return_val_if_fail (wire != NULL, FALSE);

  data = g_bytes_get_data (wire, &length);
  for (gsize i = 0; i < length; i++)
    {
      if (data[i] > 127)
        return TRUE;
    }

  return FALSE;
}

gboolean
smtpkit_message_needs_smtputf8 (const char *from,
                                GPtrArray  *to)
{
  if (from != NULL && !smtpkit_codec_is_ascii (from))
    return TRUE;

  for (guint i = 0; to != NULL && i < to->len; i++)
    {
      const char *address = g_ptr_array_index (to, i);

      if (address != NULL && !smtpkit_codec_is_ascii (address))
        return TRUE;
    }

  return FALSE;
}

/* Headers with raw 8-bit text (RFC 6532's UTF-8 headers) are set again
 * from their decoded value, which GMime writes as RFC 2047 encoded words:
 * a message converted to 7 bits is 7-bit in its headers too. */
static void
encode_8bit_headers (GMimeObject *object)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);
  int n = g_mime_header_list_get_count (headers);

  for (int i = 0; i < n; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char *raw = g_mime_header_get_raw_value (header);
      g_autofree char *value = NULL;

      if (raw == NULL || smtpkit_codec_is_ascii (raw))
        continue;
      value = g_strdup (g_mime_header_get_value (header));
      g_mime_header_set_value (header, NULL, value, "UTF-8");
    }
}

static void
encode_part_headers (GMimeObject *parent,
                     GMimeObject *part,
                     gpointer     user_data)
{
  encode_8bit_headers (part);
}

gboolean
smtpkit_message_to_7bit (GMimeMessage  *message,
                         GMimeMessage **converted,
                         GError       **error)
{
  GByteArray *wire;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *copy;

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (converted != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ensure_gmime ();

  /* GMime objects cannot be copied: a copy is the message parsed back
   * from its own serialisation, Bcc included. */
  wire = write_message (message, error);
  if (wire == NULL)
    return FALSE;
  stream = g_mime_stream_mem_new_with_byte_array (wire);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), TRUE);
  parser = g_mime_parser_new_with_stream (stream);
  copy = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);

  if (copy == NULL)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_FAILED, NULL,
                                                  "could not copy the message to convert it "
                                                  "to 7-bit transfer encodings"));
      return FALSE;
    }

  g_mime_object_encode (GMIME_OBJECT (copy), GMIME_ENCODING_CONSTRAINT_7BIT);
  encode_8bit_headers (GMIME_OBJECT (copy));
  g_mime_message_foreach (copy, encode_part_headers, NULL);
  *converted = copy;

  return TRUE;
}
