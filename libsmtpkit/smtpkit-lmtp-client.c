/* smtpkit-lmtp-client.c: an LMTP session (RFC 2033)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-lmtp-client.h"

/**
 * SmtpkitLmtpClient:
 *
 * An LMTP session (RFC 2033): the counterpart of smtplib's `LMTP`, and what
 * smtplib's lacks. It greets with LHLO (there is no HELO to fall back
 * to), connects to port 2003 by default or to a Unix socket when the host
 * starts with `/`, and after the end of the message data reads one reply
 * per accepted recipient, in the order they were accepted (a recipient
 * accepted twice is answered twice), so that several messages in a row
 * stay in step.
 *
 * [method@Client.sendmail] reports each recipient's own outcome: one
 * refused after the data is in the returned map with its reply (a 452 is
 * transient: [method@Reply.is_transient]); when no recipient got the
 * message the call fails with %SMTPKIT_ERROR_RECIPIENTS_REFUSED; when the
 * connection is lost before every reply was read it fails with
 * %SMTPKIT_ERROR_DELIVERY_UNKNOWN, whose map gives the replies read and
 * %NULL for the recipients whose outcome is not known.
 */

struct _SmtpkitLmtpClient
{
  SmtpkitClient parent_instance;
};

G_DEFINE_FINAL_TYPE (SmtpkitLmtpClient, smtpkit_lmtp_client, SMTPKIT_TYPE_CLIENT)

static void
smtpkit_lmtp_client_class_init (SmtpkitLmtpClientClass *klass)
{
  SmtpkitClientClass *client_class = SMTPKIT_CLIENT_CLASS (klass);

  client_class->hello_verb = "LHLO";
  client_class->default_port = SMTPKIT_DEFAULT_LMTP_PORT;
  client_class->per_recipient_replies = TRUE;
}

static void
smtpkit_lmtp_client_init (SmtpkitLmtpClient *self)
{
}

/**
 * smtpkit_lmtp_client_new:
 *
 * Creates an LMTP client, not yet connected.
 *
 * Returns: (transfer full): a new #SmtpkitLmtpClient
 */
SmtpkitClient *
smtpkit_lmtp_client_new (void)
{
  return g_object_new (SMTPKIT_TYPE_LMTP_CLIENT, NULL);
}
