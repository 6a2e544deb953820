/* smtpkit-envelope-private.h: the DSN parameters of an envelope
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-envelope.h"

G_BEGIN_DECLS

/* The RFC 3461 parameters of MAIL FROM that are set, in this order:
 * "RET=FULL" or "RET=HDRS", then "ENVID=<xtext>". The raw options of
 * smtpkit_envelope_add_mail_option() are not included. Returns a new
 * NULL-terminated array, empty (not NULL) when nothing is set. */
char **smtpkit_envelope_mail_parameters (SmtpkitEnvelope *envelope);

/* The RFC 3461 parameters of RCPT TO for recipient @index that are set, in
 * this order: "NOTIFY=NEVER" or "NOTIFY=" with SUCCESS, FAILURE, DELAY
 * joined by ',', then "ORCPT=rfc822;<xtext>" (or, for a non-ASCII original
 * recipient, RFC 6533's "ORCPT=utf-8;<utf-8-addr-xtext>"). The raw options
 * of smtpkit_envelope_add_rcpt_option() are not included. Returns a new
 * NULL-terminated array, empty (not NULL) when nothing is set. */
char **smtpkit_envelope_rcpt_parameters (SmtpkitEnvelope *envelope,
                                         guint            index);

G_END_DECLS
