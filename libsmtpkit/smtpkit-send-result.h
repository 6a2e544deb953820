/* smtpkit-send-result.h: what became of each recipient of a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <glib-object.h>

#include "smtpkit-version-macros.h"
#include "smtpkit-reply.h"

G_BEGIN_DECLS

#define SMTPKIT_TYPE_SEND_RESULT (smtpkit_send_result_get_type ())

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmtpkitSendResult, smtpkit_send_result, SMTPKIT, SEND_RESULT, GObject)

SMTPKIT_AVAILABLE_IN_ALL
guint smtpkit_send_result_get_n_recipients (SmtpkitSendResult *result);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_send_result_get_recipient (SmtpkitSendResult *result,
                                               guint              index);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_send_result_get_rcpt_reply (SmtpkitSendResult *result,
                                                  guint              index);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_send_result_get_final_reply (SmtpkitSendResult *result,
                                                   guint              index);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_send_result_get_delivered (SmtpkitSendResult *result,
                                            guint              index);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_send_result_get_refused (SmtpkitSendResult *result);

SMTPKIT_AVAILABLE_IN_ALL
char **smtpkit_send_result_get_refused_addresses (SmtpkitSendResult *result);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_send_result_get_refused_reply (SmtpkitSendResult *result,
                                                     const char        *address);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_send_result_get_queue_id (SmtpkitSendResult *result,
                                              guint              index);

G_END_DECLS
