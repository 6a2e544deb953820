/* smtpkit-send-result-private.h: how the client builds a SmtpkitSendResult
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-send-result.h"

G_BEGIN_DECLS

SmtpkitSendResult *smtpkit_send_result_new (void);

/* Adds a recipient, in the order of the RCPT commands, with the reply to
 * its RCPT (nullable: none was read). Returns its index. */
guint smtpkit_send_result_add_recipient (SmtpkitSendResult *result,
                                         const char        *address,
                                         SmtpkitReply      *rcpt_reply);

/* Sets the reply to the end of data that applies to recipient @index:
 * LMTP's own reply for it, or SMTP's single reply for every accepted
 * recipient. Replaces a reply set before. */
void smtpkit_send_result_set_final_reply (SmtpkitSendResult *result,
                                          guint              index,
                                          SmtpkitReply      *reply);

/* The queue identifier in the text of a 250 reply, or NULL; see
 * smtpkit_send_result_get_queue_id() for the forms recognised. */
char *smtpkit_send_result_parse_queue_id (const SmtpkitReply *reply);

G_END_DECLS
