/* smtpkit-envelope.h: the SMTP envelope of a message, with its DSN options
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

/**
 * SmtpkitDsnRet:
 * @SMTPKIT_DSN_RET_UNSET: no `RET` parameter: the server decides
 * @SMTPKIT_DSN_RET_FULL: `RET=FULL`: a failure notification carries the
 *   whole message
 * @SMTPKIT_DSN_RET_HDRS: `RET=HDRS`: a notification carries only the
 *   headers of the message
 *
 * How much of the message a delivery status notification returns
 * (RFC 3461 §4.3).
 */
typedef enum
{
  SMTPKIT_DSN_RET_UNSET,
  SMTPKIT_DSN_RET_FULL,
  SMTPKIT_DSN_RET_HDRS,
} SmtpkitDsnRet;

/**
 * SmtpkitDsnNotify:
 * @SMTPKIT_DSN_NOTIFY_UNSET: no `NOTIFY` parameter: the server decides
 *   (usually: failures only)
 * @SMTPKIT_DSN_NOTIFY_NEVER: `NOTIFY=NEVER`: never send a notification;
 *   cannot be combined with the other flags
 * @SMTPKIT_DSN_NOTIFY_SUCCESS: notify on successful delivery
 * @SMTPKIT_DSN_NOTIFY_FAILURE: notify on failed delivery
 * @SMTPKIT_DSN_NOTIFY_DELAY: notify when delivery is delayed
 *
 * When a delivery status notification is wanted for a recipient
 * (RFC 3461 §4.1).
 */
typedef enum /*< flags >*/
{
  SMTPKIT_DSN_NOTIFY_UNSET = 0,
  SMTPKIT_DSN_NOTIFY_NEVER = 1 << 0,
  SMTPKIT_DSN_NOTIFY_SUCCESS = 1 << 1,
  SMTPKIT_DSN_NOTIFY_FAILURE = 1 << 2,
  SMTPKIT_DSN_NOTIFY_DELAY = 1 << 3,
} SmtpkitDsnNotify;

/**
 * SMTPKIT_DSN_ENVID_MAX:
 *
 * The longest envelope identifier accepted, in characters (RFC 3461 §4.4).
 */
#define SMTPKIT_DSN_ENVID_MAX 100

#define SMTPKIT_TYPE_ENVELOPE (smtpkit_envelope_get_type ())

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmtpkitEnvelope, smtpkit_envelope, SMTPKIT, ENVELOPE, GObject)

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitEnvelope *smtpkit_envelope_new (const char *sender);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_envelope_get_sender (SmtpkitEnvelope *envelope);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_envelope_set_dsn_ret (SmtpkitEnvelope *envelope,
                                   SmtpkitDsnRet    ret);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitDsnRet smtpkit_envelope_get_dsn_ret (SmtpkitEnvelope *envelope);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_envelope_set_dsn_envid (SmtpkitEnvelope  *envelope,
                                         const char       *envid,
                                         GError          **error);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_envelope_get_dsn_envid (SmtpkitEnvelope *envelope);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_envelope_add_recipient (SmtpkitEnvelope  *envelope,
                                     const char       *address,
                                     SmtpkitDsnNotify  notify,
                                     const char       *orcpt);

SMTPKIT_AVAILABLE_IN_ALL
guint smtpkit_envelope_get_n_recipients (SmtpkitEnvelope *envelope);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_envelope_get_recipient_address (SmtpkitEnvelope *envelope,
                                                    guint            index);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitDsnNotify smtpkit_envelope_get_recipient_notify (SmtpkitEnvelope *envelope,
                                                        guint            index);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_envelope_get_recipient_orcpt (SmtpkitEnvelope *envelope,
                                                  guint            index);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_envelope_add_mail_option (SmtpkitEnvelope *envelope,
                                       const char      *option);

SMTPKIT_AVAILABLE_IN_ALL
const char *const *smtpkit_envelope_get_mail_options (SmtpkitEnvelope *envelope);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_envelope_add_rcpt_option (SmtpkitEnvelope *envelope,
                                       const char      *option);

SMTPKIT_AVAILABLE_IN_ALL
const char *const *smtpkit_envelope_get_rcpt_options (SmtpkitEnvelope *envelope);

G_END_DECLS
