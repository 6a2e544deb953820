/* smtpkit-reply-private.h: building replies inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-reply.h"

G_BEGIN_DECLS

/* Like smtpkit_reply_new(), with the @n_lines lines given one after
 * the other in @packed, each ended by its NUL (@length bytes in all):
 * the form in which the reply parser collects them. */
SmtpkitReply *smtpkit_reply_new_packed (guint       code,
                                        const char *packed,
                                        gsize       length,
                                        gsize       n_lines);

G_END_DECLS
