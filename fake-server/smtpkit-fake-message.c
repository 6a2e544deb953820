/* smtpkit-fake-message.c: large messages made up as they are read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "smtpkit-fake-message.h"

struct _SmtpkitFakeMessage
{
  GInputStream parent_instance;
  guint64 size;
  guint64 offset;
  GChecksum *checksum;
};

static void smtpkit_fake_message_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SmtpkitFakeMessage, smtpkit_fake_message, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      smtpkit_fake_message_pollable_init))

/* Lines of 78 characters and CRLF, some starting with a dot. */
static char
generated_byte (guint64 offset)
{
  guint64 column = offset % 80;
  guint64 line = offset / 80;

  if (column == 78)
    return '\r';
  if (column == 79)
    return '\n';
  if (column == 0 && line % 7 == 3)
    return '.';
  return 'a' + (line + column) % 26;
}

static gssize
smtpkit_fake_message_read (GInputStream  *stream,
                           void          *buffer,
                           gsize          count,
                           GCancellable  *cancellable,
                           GError       **error)
{
  SmtpkitFakeMessage *self = SMTPKIT_FAKE_MESSAGE (stream);
  guint8 *out = buffer;
  gsize n = MIN (count, self->size - self->offset);

  for (gsize i = 0; i < n; i++)
    out[i] = generated_byte (self->offset + i);
  if (self->checksum)
    g_checksum_update (self->checksum, out, n);
  self->offset += n;
  return n;
}

static gboolean
smtpkit_fake_message_is_readable (GPollableInputStream *stream)
{
  return TRUE;
}

static GSource *
smtpkit_fake_message_create_source (GPollableInputStream *stream,
                                    GCancellable         *cancellable)
{
  g_autoptr (GSource) base = g_timeout_source_new (0);

  return g_pollable_source_new_full (stream, base, cancellable);
}

/* Pollable, so that reading it asynchronously starts no thread. */
static gssize
smtpkit_fake_message_read_nonblocking (GPollableInputStream  *stream,
                                       void                  *buffer,
                                       gsize                  count,
                                       GError               **error)
{
  return smtpkit_fake_message_read (G_INPUT_STREAM (stream), buffer, count, NULL, error);
}

static void
smtpkit_fake_message_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->is_readable = smtpkit_fake_message_is_readable;
  iface->create_source = smtpkit_fake_message_create_source;
  iface->read_nonblocking = smtpkit_fake_message_read_nonblocking;
}

static void
smtpkit_fake_message_finalize (GObject *object)
{
  g_clear_pointer (&SMTPKIT_FAKE_MESSAGE (object)->checksum, g_checksum_free);
  G_OBJECT_CLASS (smtpkit_fake_message_parent_class)->finalize (object);
}

static void
smtpkit_fake_message_class_init (SmtpkitFakeMessageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = smtpkit_fake_message_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = smtpkit_fake_message_read;
}

static void
smtpkit_fake_message_init (SmtpkitFakeMessage *self)
{
}

GInputStream *
smtpkit_fake_message_new (guint64  size,
                          gboolean checksum)
{
  SmtpkitFakeMessage *self = g_object_new (SMTPKIT_TYPE_FAKE_MESSAGE, NULL);

  self->size = size;
  self->checksum = checksum ? g_checksum_new (G_CHECKSUM_SHA256) : NULL;
  return G_INPUT_STREAM (self);
}

guint64
smtpkit_fake_message_get_offset (SmtpkitFakeMessage *message)
{
  return message->offset;
}

const char *
smtpkit_fake_message_get_checksum (SmtpkitFakeMessage *message)
{
  return message->checksum ? g_checksum_get_string (message->checksum) : NULL;
}
