/* smtpkit-fake-server.h: a scriptable fake SMTP server for tests
 *
 * The one header of libsmtpkit-fake-server-1 (pkg-config
 * smtpkit-fake-server-1): a sink that stores the mail an application
 * sends, or a scripted server that plays a scenario. See
 * docs/fake-server.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __SMTPKIT_FAKE_SERVER_INSIDE__

#include <gio/gio.h>

#include "smtpkit-fake-server-macros.h"
#include "smtpkit-fake-mail.h"
#include "smtpkit-scenario.h"

#undef __SMTPKIT_FAKE_SERVER_INSIDE__

G_BEGIN_DECLS

/**
 * SmtpkitFakeFault:
 * @SMTPKIT_FAKE_FAULT_NONE: no fault
 * @SMTPKIT_FAKE_FAULT_4XX: `451` instead of the reply, and the command
 *   not done
 * @SMTPKIT_FAKE_FAULT_DISCONNECT: no reply: the server closes
 * @SMTPKIT_FAKE_FAULT_STALL: no reply until the client goes
 * @SMTPKIT_FAKE_N_FAULTS: the number of faults
 *
 * What a sink does instead of a reply, at random (see
 * [method@FakeServer.set_faults]).
 */
typedef enum
{
  SMTPKIT_FAKE_FAULT_NONE,
  SMTPKIT_FAKE_FAULT_4XX,
  SMTPKIT_FAKE_FAULT_DISCONNECT,
  SMTPKIT_FAKE_FAULT_STALL,
  SMTPKIT_FAKE_N_FAULTS,
} SmtpkitFakeFault;

#define SMTPKIT_TYPE_FAKE_SERVER (smtpkit_fake_server_get_type ())

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmtpkitFakeServer, smtpkit_fake_server, SMTPKIT, FAKE_SERVER, GObject)

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
SmtpkitFakeServer *smtpkit_fake_server_new_scripted (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
SmtpkitFakeServer *smtpkit_fake_server_new_sink (const char        *spool_dir,
                                                 const char *const *extensions);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_listen_tcp (SmtpkitFakeServer  *server,
                                         GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_listen_unix (SmtpkitFakeServer  *server,
                                          const char         *path,
                                          GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint16 smtpkit_fake_server_get_port (SmtpkitFakeServer *server);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_server_get_listen_address (SmtpkitFakeServer *server);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
void smtpkit_fake_server_set_any_case (SmtpkitFakeServer *server,
                                       gboolean           any_case);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_wait (SmtpkitFakeServer  *server,
                                   guint               timeout_ms,
                                   GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
char *smtpkit_fake_server_get_transcript (SmtpkitFakeServer *server);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint smtpkit_fake_server_get_message_count (SmtpkitFakeServer *server);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_server_get_spool_dir (SmtpkitFakeServer *server);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GPtrArray *smtpkit_fake_server_get_received (SmtpkitFakeServer *server);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_wait_for_messages (SmtpkitFakeServer  *server,
                                                guint               count,
                                                guint               timeout_ms,
                                                GError            **error);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_set_auth_mechanisms (SmtpkitFakeServer  *server,
                                                  const char *const  *mechanisms,
                                                  GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
void smtpkit_fake_server_add_user (SmtpkitFakeServer *server,
                                   const char        *user,
                                   const char        *password);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
void smtpkit_fake_server_set_accept_any_credentials (SmtpkitFakeServer *server,
                                                     gboolean           accept_any);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_add_reply (SmtpkitFakeServer  *server,
                                        const char         *rule,
                                        GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_set_close_after (SmtpkitFakeServer  *server,
                                              const char         *step,
                                              GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_set_faults (SmtpkitFakeServer  *server,
                                         const char         *rates,
                                         guint32             seed,
                                         GError            **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint smtpkit_fake_server_get_fault_count (SmtpkitFakeServer *server,
                                           SmtpkitFakeFault   fault);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
void smtpkit_fake_server_stop (SmtpkitFakeServer *server);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_fake_server_get_ca_file (void);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GTlsCertificate *smtpkit_fake_server_get_certificate (const char *kind);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
gboolean smtpkit_fake_server_supports_auth (const char  *mechanism,
                                            GError     **error);

G_END_DECLS
