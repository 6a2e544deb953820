/* smtpkit-lmtp-client.h: an LMTP session (RFC 2033)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include "smtpkit-client.h"

G_BEGIN_DECLS

/**
 * SMTPKIT_DEFAULT_LMTP_PORT:
 *
 * The port an LMTP client uses when given port 0 (RFC 2033 §5).
 */
#define SMTPKIT_DEFAULT_LMTP_PORT 2003

#define SMTPKIT_TYPE_LMTP_CLIENT (smtpkit_lmtp_client_get_type ())

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmtpkitLmtpClient, smtpkit_lmtp_client, SMTPKIT, LMTP_CLIENT, SmtpkitClient)

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitClient *smtpkit_lmtp_client_new (void);

G_END_DECLS
