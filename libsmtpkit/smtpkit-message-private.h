/* smtpkit-message-private.h: a GMimeMessage as smtplib's send_message()
 * sends it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* The envelope smtplib's send_message() takes from the headers of
 * @message. Exactly one Resent-Date header selects the Resent- block
 * (Resent-Sender/Resent-From, Resent-To/Resent-Bcc/Resent-Cc); none
 * selects the plain headers; more than one is SMTPKIT_ERROR_INVALID_ARGUMENT
 * (checked even when @from and @to are both NULL).
 *
 * @from (nullable: not wanted): the first address of the first Sender
 *   header when there is one, else of the first From header.
 * @to (nullable: not wanted): a new array (char *, g_free) of the
 *   addresses of the first To, Bcc and Cc headers in that order, groups
 *   expanded, display names dropped, duplicates kept.
 *
 * Addresses are addr-specs as written (UTF-8 domains stay UTF-8). No
 * sender or no recipient is SMTPKIT_ERROR_INVALID_ARGUMENT. On error
 * neither output is set. */
gboolean smtpkit_message_get_envelope (GMimeMessage  *message,
                                       char         **from,
                                       GPtrArray    **to,
                                       GError       **error);

/* @message as sent: every line ending CRLF (GMime's DOS newline format,
 * then any bare CR, bare LF or CR...CR LF made one CRLF, as SMTP requires),
 * and the top-level Bcc and Resent-Bcc headers left out (as smtplib
 * deletes them from its copy; a message/rfc822 part keeps its own).
 * @message is not modified. Not dot-stuffed: that is the DATA encoder's. */
GBytes *smtpkit_message_serialize (GMimeMessage  *message,
                                   GError       **error);

/* TRUE when any byte of @wire is above 127. */
gboolean smtpkit_message_has_8bit (GBytes *wire);

/* TRUE when @from (nullable) or any address of @to (nullable) is not
 * ASCII: the server must then offer SMTPUTF8. */
gboolean smtpkit_message_needs_smtputf8 (const char *from,
                                         GPtrArray  *to);

/* A copy of @message whose parts all use 7-bit transfer encodings
 * (quoted-printable or base64 where needed), for a server without
 * 8BITMIME. Headers are copied as they are. @message is not modified. */
gboolean smtpkit_message_to_7bit (GMimeMessage  *message,
                                  GMimeMessage **converted,
                                  GError       **error);

G_END_DECLS
