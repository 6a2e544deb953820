/* send-message.h: the message smtpkit-send sends, as a GMimeMessage
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

G_BEGIN_DECLS

/* GMime 3 declares no cleanup functions of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

/* Parses @input (the whole message, read to its end: a lone dot does not
 * end it). A message GMime cannot parse, or whose headers it can only
 * partly make sense of, is SMTPKIT_ERROR_INVALID_ARGUMENT (EX_DATAERR). */
GMimeMessage *send_message_parse (GBytes  *input,
                                  GError **error);

/* Reads @path ("-" or NULL: standard input) to its end. */
GBytes *send_message_read (const char  *path,
                           GError     **error);

/* A text/plain message for --subject and --body. */
GMimeMessage *send_message_build (const char         *subject,
                                  const char         *body,
                                  const char *const  *to);

/* Adds what a message must have and lacks: From (@from, with @full_name
 * when set), Date (now) and Message-ID (in @from's domain). */
void send_message_complete (GMimeMessage *message,
                            const char   *from,
                            const char   *full_name);

/* The envelope sender the headers give: the first Sender, else From
 * address; NULL when there is none. */
char *send_message_get_sender (GMimeMessage *message);

/* The recipients: @args, after the To, Cc and Bcc addresses when
 * @from_headers (sendmail -t, msmtp's way of combining them). Each must
 * be one address: anything else is SMTPKIT_ERROR_INVALID_ARGUMENT. */
char **send_message_get_recipients (GMimeMessage       *message,
                                    gboolean            from_headers,
                                    const char *const  *args,
                                    GError            **error);

/* @message as a queue keeps it: CRLF line ends, without the Bcc and
 * Resent-Bcc headers, which are also removed from @message (nothing
 * needs them once the recipients are known). */
GBytes *send_message_to_bytes (GMimeMessage *message);

/* Removes the Bcc and Resent-Bcc headers of @message. */
void send_message_strip_bcc (GMimeMessage *message);

G_END_DECLS
