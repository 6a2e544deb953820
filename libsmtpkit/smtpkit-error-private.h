/* smtpkit-error-private.h: building SMTPKIT_ERROR errors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-error.h"

G_BEGIN_DECLS

/* A new SMTPKIT_ERROR with @reply (nullable) attached. */
GError *smtpkit_error_new_reply (SmtpkitError  code,
                                 SmtpkitReply *reply,
                                 const char   *format,
                                 ...) G_GNUC_PRINTF (3, 4);

void smtpkit_error_set_reply (GError       *error,
                              SmtpkitReply *reply);
void smtpkit_error_set_sender (GError     *error,
                               const char *sender);
/* @recipients: address -> SmtpkitReply; the error takes a reference. */
void smtpkit_error_set_recipients (GError     *error,
                                   GHashTable *recipients);

/* A new map address -> SmtpkitReply (which may be NULL: not known), as
 * sendmail() returns. */
GHashTable *smtpkit_recipient_map_new (void);

/* The addresses of a recipient map, sorted, as a new strv; NULL for a
 * NULL map. What bindings get instead of the map itself. */
char **smtpkit_recipient_map_get_addresses (GHashTable *map);

G_END_DECLS
