/* smtpkit-error.h: the SMTPKIT_ERROR domain
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

/**
 * SMTPKIT_ERROR:
 *
 * The error domain of libsmtpkit. Errors in this domain carry the server's
 * reply where there was one: see `smtpkit_error_get_reply()`.
 */
#define SMTPKIT_ERROR (smtpkit_error_quark ())

/**
 * SmtpkitError:
 * @SMTPKIT_ERROR_FAILED: any other failure (smtplib's `SMTPException`)
 * @SMTPKIT_ERROR_SERVER_DISCONNECTED: the server closed the connection, or
 *   there is no connection (smtplib's `SMTPServerDisconnected`)
 * @SMTPKIT_ERROR_RESPONSE: the server answered with an error code
 *   (`SMTPResponseException`)
 * @SMTPKIT_ERROR_SENDER_REFUSED: the sender address was refused
 *   (`SMTPSenderRefused`); see `smtpkit_error_get_sender()`
 * @SMTPKIT_ERROR_RECIPIENTS_REFUSED: every recipient was refused
 *   (`SMTPRecipientsRefused`); see `smtpkit_error_get_recipients()`
 * @SMTPKIT_ERROR_DATA: the server refused the message data (`SMTPDataError`)
 * @SMTPKIT_ERROR_CONNECT: the server's greeting was not 220
 *   (`SMTPConnectError`)
 * @SMTPKIT_ERROR_HELO: the server refused HELO/EHLO (`SMTPHeloError`)
 * @SMTPKIT_ERROR_NOT_SUPPORTED: the server does not offer what was asked
 *   (`SMTPNotSupportedError`)
 * @SMTPKIT_ERROR_AUTHENTICATION: authentication failed
 *   (`SMTPAuthenticationError`)
 * @SMTPKIT_ERROR_INVALID_ARGUMENT: bad input from the caller; nothing was
 *   sent (`ValueError`)
 * @SMTPKIT_ERROR_PROTOCOL: the server sent something that is not SMTP; the
 *   connection has been closed
 * @SMTPKIT_ERROR_DELIVERY_UNKNOWN: the connection was lost after the end of
 *   the message data was sent and before its reply was read: the message
 *   may have been delivered (RFC 1047)
 *
 * Error codes of the %SMTPKIT_ERROR domain. Timeouts are reported as
 * %G_IO_ERROR_TIMED_OUT, and other I/O and TLS errors pass through in
 * their own domains.
 */
typedef enum
{
  SMTPKIT_ERROR_FAILED,
  SMTPKIT_ERROR_SERVER_DISCONNECTED,
  SMTPKIT_ERROR_RESPONSE,
  SMTPKIT_ERROR_SENDER_REFUSED,
  SMTPKIT_ERROR_RECIPIENTS_REFUSED,
  SMTPKIT_ERROR_DATA,
  SMTPKIT_ERROR_CONNECT,
  SMTPKIT_ERROR_HELO,
  SMTPKIT_ERROR_NOT_SUPPORTED,
  SMTPKIT_ERROR_AUTHENTICATION,
  SMTPKIT_ERROR_INVALID_ARGUMENT,
  SMTPKIT_ERROR_PROTOCOL,
  SMTPKIT_ERROR_DELIVERY_UNKNOWN,
} SmtpkitError;

SMTPKIT_AVAILABLE_IN_ALL
GQuark smtpkit_error_quark (void);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_error_get_reply (const GError *error);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_error_get_sender (const GError *error);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_error_get_recipients (const GError *error);

G_END_DECLS
