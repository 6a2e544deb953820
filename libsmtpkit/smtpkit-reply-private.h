/* smtpkit-reply-private.h: building replies inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-reply.h"

G_BEGIN_DECLS

/* Like smtpkit_reply_new(), but takes ownership of @lines (a
 * NULL-terminated array from g_malloc, as g_strfreev() frees; NULL for no
 * lines), saving the copy for the reply parser. */
SmtpkitReply *smtpkit_reply_new_take (guint   code,
                                      char  **lines);

G_END_DECLS
