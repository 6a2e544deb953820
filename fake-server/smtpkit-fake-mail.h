/* smtpkit-fake-mail.h: a message a sink has received, with its envelope
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_FAKE_SERVER_INSIDE__) && !defined(SMTPKIT_FAKE_SERVER_COMPILATION)
#error "Only <smtpkit-fake-server.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smtpkit-fake-server-macros.h"

G_BEGIN_DECLS

#define SMTPKIT_TYPE_FAKE_MAIL (smtpkit_fake_mail_get_type ())

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmtpkitFakeMail, smtpkit_fake_mail, SMTPKIT, FAKE_MAIL, GObject)

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint smtpkit_fake_mail_get_index (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_mail_get_path (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_mail_get_envelope_path (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_mail_get_sender (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *const *smtpkit_fake_mail_get_mail_parameters (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *const *smtpkit_fake_mail_get_recipients (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *const *smtpkit_fake_mail_get_rcpt_parameters (SmtpkitFakeMail *mail,
                                                          guint            index);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_mail_get_auth_user (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_mail_get_tls (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_mail_get_helo (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint64 smtpkit_fake_mail_get_size (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GDateTime *smtpkit_fake_mail_get_received (SmtpkitFakeMail *mail);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GBytes *smtpkit_fake_mail_load (SmtpkitFakeMail  *mail,
                                GError          **error);

G_END_DECLS
