/* smtpkit-fake-message.h: large messages made up as they are read
 *
 * For tests and benchmarks that send messages too large to hold: a
 * pollable GInputStream of @size bytes of 78-character lines ending in
 * CRLF, some starting with a dot, never held in memory whole. With
 * @checksum it keeps a SHA-256 of what it produced, to compare with what a
 * server stored (benchmarks leave it off: it costs more than sending).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SMTPKIT_TYPE_FAKE_MESSAGE (smtpkit_fake_message_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitFakeMessage, smtpkit_fake_message, SMTPKIT, FAKE_MESSAGE, GInputStream)

GInputStream *smtpkit_fake_message_new (guint64  size,
                                        gboolean checksum);
/* Bytes produced so far. */
guint64 smtpkit_fake_message_get_offset (SmtpkitFakeMessage *message);
/* The SHA-256, in hex, of the bytes produced so far; NULL without
 * @checksum. */
const char *smtpkit_fake_message_get_checksum (SmtpkitFakeMessage *message);

G_END_DECLS
