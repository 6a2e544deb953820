/* smtpkit-fake-server.h: a scriptable fake SMTP server for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "smtpkit-scenario.h"

G_BEGIN_DECLS

/* What a sink does instead of a reply, at random (see
 * smtpkit_fake_server_set_faults()). */
typedef enum
{
  SMTPKIT_FAKE_FAULT_NONE,
  SMTPKIT_FAKE_FAULT_4XX,        /* 451 instead, and the command not done */
  SMTPKIT_FAKE_FAULT_DISCONNECT, /* no reply: the server closes */
  SMTPKIT_FAKE_FAULT_STALL,      /* no reply until the client goes */
  SMTPKIT_FAKE_N_FAULTS,
} SmtpkitFakeFault;

#define SMTPKIT_TYPE_FAKE_SERVER (smtpkit_fake_server_get_type ())

G_DECLARE_FINAL_TYPE (SmtpkitFakeServer, smtpkit_fake_server, SMTPKIT, FAKE_SERVER, GObject)

SmtpkitFakeServer *smtpkit_fake_server_new_scripted (SmtpkitScenario *scenario);
SmtpkitFakeServer *smtpkit_fake_server_new_sink (const char        *spool_dir,
                                                 const char *const *extensions);

gboolean smtpkit_fake_server_listen_tcp (SmtpkitFakeServer  *server,
                                         GError            **error);
gboolean smtpkit_fake_server_listen_unix (SmtpkitFakeServer  *server,
                                          const char         *path,
                                          GError            **error);
guint16 smtpkit_fake_server_get_port (SmtpkitFakeServer *server);
const char *smtpkit_fake_server_get_listen_address (SmtpkitFakeServer *server);
void smtpkit_fake_server_set_any_case (SmtpkitFakeServer *server,
                                       gboolean           any_case);

gboolean smtpkit_fake_server_wait (SmtpkitFakeServer  *server,
                                   guint               timeout_ms,
                                   GError            **error);
char *smtpkit_fake_server_get_transcript (SmtpkitFakeServer *server);
guint smtpkit_fake_server_get_message_count (SmtpkitFakeServer *server);

gboolean smtpkit_fake_server_set_faults (SmtpkitFakeServer  *server,
                                         const char         *rates,
                                         guint32             seed,
                                         GError            **error);
guint smtpkit_fake_server_get_fault_count (SmtpkitFakeServer *server,
                                           SmtpkitFakeFault   fault);

void smtpkit_fake_server_stop (SmtpkitFakeServer *server);

const char *smtpkit_fake_server_get_ca_file (void);
GTlsCertificate *smtpkit_fake_server_get_certificate (const char *kind);
gboolean smtpkit_fake_server_supports_auth (const char  *mechanism,
                                            GError     **error);

G_END_DECLS
