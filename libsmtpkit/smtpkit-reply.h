/* smtpkit-reply.h: a server reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <glib-object.h>

#include "smtpkit-version-macros.h"

G_BEGIN_DECLS

#define SMTPKIT_TYPE_REPLY (smtpkit_reply_get_type ())

typedef struct _SmtpkitReply SmtpkitReply;

SMTPKIT_AVAILABLE_IN_ALL
GType smtpkit_reply_get_type (void) G_GNUC_CONST;

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_reply_new (guint code, const char *const *lines);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_reply_ref (SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_reply_unref (SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
guint smtpkit_reply_get_code (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_reply_get_enhanced_status (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_reply_get_text (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
const char *const *smtpkit_reply_get_lines (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_reply_is_positive (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_reply_is_transient (const SmtpkitReply *reply);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_reply_is_permanent (const SmtpkitReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitReply, smtpkit_reply_unref)

G_END_DECLS
