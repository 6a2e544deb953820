/* smtpkit-client.h: an SMTP session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "smtpkit-version-macros.h"
#include "smtpkit-auth-mechanism.h"
#include "smtpkit-envelope.h"
#include "smtpkit-reply.h"
#include "smtpkit-send-result.h"

G_BEGIN_DECLS

/**
 * SMTPKIT_DEFAULT_PORT:
 *
 * The port [method@Client.connect] uses when given port 0 (RFC 5321).
 */
#define SMTPKIT_DEFAULT_PORT 25

/**
 * SMTPKIT_DEFAULT_SSL_PORT:
 *
 * The port [method@Client.connect] uses when given port 0 with implicit
 * TLS (RFC 8314).
 */
#define SMTPKIT_DEFAULT_SSL_PORT 465

/**
 * SmtpkitTlsMode:
 * @SMTPKIT_TLS_MODE_NONE: no TLS, unless [method@Client.starttls] is called
 * @SMTPKIT_TLS_MODE_STARTTLS: [method@Client.connect] upgrades the connection
 *   with STARTTLS before anything else, and fails when the server does not
 *   offer it or refuses it
 * @SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC: as %SMTPKIT_TLS_MODE_STARTTLS,
 *   but goes on without TLS when the server does not offer it or refuses it
 *   (a failed handshake still fails); an explicit opt-in
 * @SMTPKIT_TLS_MODE_IMPLICIT: TLS from the first byte (RFC 8314), port 465 by
 *   default, through the `tls` transport
 *
 * How a client protects its connection.
 */
typedef enum
{
  SMTPKIT_TLS_MODE_NONE,
  SMTPKIT_TLS_MODE_STARTTLS,
  SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC,
  SMTPKIT_TLS_MODE_IMPLICIT,
} SmtpkitTlsMode;

#define SMTPKIT_TYPE_CLIENT (smtpkit_client_get_type ())

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (SmtpkitClient, smtpkit_client, SMTPKIT, CLIENT, GObject)

/**
 * SmtpkitClientClass:
 * @parent_class: the parent class
 * @hello_verb: the extended greeting command: "EHLO", or "LHLO" for LMTP
 * @default_port: the port used when [method@Client.connect] is given 0
 * @per_recipient_replies: whether the server answers the end of data once
 *   per accepted recipient (LMTP, RFC 2033 §4.2) instead of once
 *
 * The class of [class@Client]. Subclasses (LMTP) change the greeting
 * verb, the default port and how the end of data is answered.
 */
struct _SmtpkitClientClass
{
  GObjectClass parent_class;

  const char *hello_verb;
  guint16 default_port;
  gboolean per_recipient_replies;

  /*< private >*/
  gpointer padding[11];
};

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitClient *smtpkit_client_new (void);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitClient *smtpkit_ssl_client_new (void);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitTlsMode smtpkit_client_get_tls_mode (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_set_tls_mode (SmtpkitClient  *client,
                                  SmtpkitTlsMode  mode);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_client_get_tls_ca_file (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_set_tls_ca_file (SmtpkitClient *client,
                                     const char    *path);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_is_secure (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
GTlsConnection *smtpkit_client_get_tls_connection (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_client_get_auth_mechanism (SmtpkitClient *client);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_client_get_local_hostname (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_set_local_hostname (SmtpkitClient  *client,
                                            const char     *hostname,
                                            GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
double smtpkit_client_get_timeout (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_set_timeout (SmtpkitClient  *client,
                                     double          seconds,
                                     GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
GSocketAddress *smtpkit_client_get_source_address (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_set_source_address (SmtpkitClient  *client,
                                        GSocketAddress *address);
SMTPKIT_AVAILABLE_IN_ALL
guint smtpkit_client_get_debug_level (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_set_debug_level (SmtpkitClient *client,
                                     guint          level);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_get_convert_newlines (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_set_convert_newlines (SmtpkitClient *client,
                                          gboolean       convert);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_is_connected (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_get_does_esmtp (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_get_ehlo_reply (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_get_last_error_reply (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_client_get_last_error_sender (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
char **smtpkit_client_get_last_error_recipients (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_get_last_error_recipient_reply (SmtpkitClient *client,
                                                             const char    *address);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_get_helo_reply (SmtpkitClient *client);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_has_extn (SmtpkitClient *client,
                                  const char    *name);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_client_get_extension_parameter (SmtpkitClient *client,
                                                    const char    *name);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_close (SmtpkitClient *client);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_connect (SmtpkitClient *client,
                                      const char *host,
                                      guint16 port,
                                      GCancellable *cancellable,
                                      GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_connect_to_host (SmtpkitClient *client,
                                              const char *host,
                                              guint16 port,
                                              GCancellable *cancellable,
                                              GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_connect_async (SmtpkitClient *client,
                                   const char *host,
                                   guint16 port,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_connect_finish (SmtpkitClient *client,
                                             GAsyncResult *result,
                                             GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_helo (SmtpkitClient *client,
                                   const char *name,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_helo_async (SmtpkitClient *client,
                                const char *name,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_helo_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_ehlo (SmtpkitClient *client,
                                   const char *name,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_ehlo_async (SmtpkitClient *client,
                                const char *name,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_ehlo_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_ehlo_or_helo_if_needed (SmtpkitClient *client,
                                                GCancellable *cancellable,
                                                GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_ehlo_or_helo_if_needed_async (SmtpkitClient *client,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_client_ehlo_or_helo_if_needed_finish (SmtpkitClient *client,
                                                       GAsyncResult *result,
                                                       GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_docmd (SmtpkitClient *client,
                                    const char *command,
                                    const char *args,
                                    GCancellable *cancellable,
                                    GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_docmd_async (SmtpkitClient *client,
                                 const char *command,
                                 const char *args,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_docmd_finish (SmtpkitClient *client,
                                           GAsyncResult *result,
                                           GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_noop (SmtpkitClient *client,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_noop_async (SmtpkitClient *client,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_noop_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_rset (SmtpkitClient *client,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_rset_async (SmtpkitClient *client,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_rset_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_help (SmtpkitClient *client,
                                   const char *args,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_help_async (SmtpkitClient *client,
                                const char *args,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_help_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_verify (SmtpkitClient *client,
                                     const char *address,
                                     GCancellable *cancellable,
                                     GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_verify_async (SmtpkitClient *client,
                                  const char *address,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_verify_finish (SmtpkitClient *client,
                                            GAsyncResult *result,
                                            GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_expn (SmtpkitClient *client,
                                   const char *address,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_expn_async (SmtpkitClient *client,
                                const char *address,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_expn_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_mail (SmtpkitClient *client,
                                   const char *sender,
                                   const char *const *options,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_mail_async (SmtpkitClient *client,
                                const char *sender,
                                const char *const *options,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_mail_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_rcpt (SmtpkitClient *client,
                                   const char *recipient,
                                   const char *const *options,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_rcpt_async (SmtpkitClient *client,
                                const char *recipient,
                                const char *const *options,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_rcpt_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_data (SmtpkitClient *client,
                                   GBytes *message,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_data_async (SmtpkitClient *client,
                                GBytes *message,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_data_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_sendmail (SmtpkitClient *client,
                                     const char *from_addr,
                                     const char *const *to_addrs,
                                     GBytes *message,
                                     const char *const *mail_options,
                                     const char *const *rcpt_options,
                                     GCancellable *cancellable,
                                     GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_sendmail_async (SmtpkitClient *client,
                                    const char *from_addr,
                                    const char *const *to_addrs,
                                    GBytes *message,
                                    const char *const *mail_options,
                                    const char *const *rcpt_options,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_sendmail_finish (SmtpkitClient *client,
                                            GAsyncResult *result,
                                            GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_sendmail_result (SmtpkitClient *client,
                                                   const char *from_addr,
                                                   const char *const *to_addrs,
                                                   GBytes *message,
                                                   const char *const *mail_options,
                                                   const char *const *rcpt_options,
                                                   GCancellable *cancellable,
                                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_sendmail_result_finish (SmtpkitClient *client,
                                                          GAsyncResult *result,
                                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_sendmail_stream (SmtpkitClient *client,
                                            const char *from_addr,
                                            const char *const *to_addrs,
                                            GInputStream *message,
                                            const char *const *mail_options,
                                            const char *const *rcpt_options,
                                            GCancellable *cancellable,
                                            GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_sendmail_stream_async (SmtpkitClient *client,
                                           const char *from_addr,
                                           const char *const *to_addrs,
                                           GInputStream *message,
                                           const char *const *mail_options,
                                           const char *const *rcpt_options,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_sendmail_stream_finish (SmtpkitClient *client,
                                                   GAsyncResult *result,
                                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_sendmail_stream_result (SmtpkitClient *client,
                                                          const char *from_addr,
                                                          const char *const *to_addrs,
                                                          GInputStream *message,
                                                          const char *const *mail_options,
                                                          const char *const *rcpt_options,
                                                          GCancellable *cancellable,
                                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_sendmail_stream_result_finish (SmtpkitClient *client,
                                                                 GAsyncResult *result,
                                                                 GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_quit (SmtpkitClient *client,
                                   GCancellable *cancellable,
                                   GError **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_quit_async (SmtpkitClient *client,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_quit_finish (SmtpkitClient *client,
                                          GAsyncResult *result,
                                          GError **error);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_starttls (SmtpkitClient  *client,
                                       GCancellable   *cancellable,
                                       GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_starttls_async (SmtpkitClient        *client,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_starttls_finish (SmtpkitClient  *client,
                                              GAsyncResult   *result,
                                              GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_login (SmtpkitClient  *client,
                                    const char     *user,
                                    const char     *password,
                                    GCancellable   *cancellable,
                                    GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_login_async (SmtpkitClient        *client,
                                 const char           *user,
                                 const char           *password,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_login_finish (SmtpkitClient  *client,
                                           GAsyncResult   *result,
                                           GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_auth (SmtpkitClient         *client,
                                   SmtpkitAuthMechanism  *mechanism,
                                   GCancellable          *cancellable,
                                   GError               **error);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_auth_async (SmtpkitClient         *client,
                                SmtpkitAuthMechanism  *mechanism,
                                GCancellable          *cancellable,
                                GAsyncReadyCallback    callback,
                                gpointer               user_data);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitReply *smtpkit_client_auth_finish (SmtpkitClient  *client,
                                          GAsyncResult   *result,
                                          GError        **error);

SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_send_message (SmtpkitClient      *client,
                                         GMimeMessage       *message,
                                         const char         *from_addr,
                                         const char *const  *to_addrs,
                                         const char *const  *mail_options,
                                         const char *const  *rcpt_options,
                                         GCancellable       *cancellable,
                                         GError            **error);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_send_message_async (SmtpkitClient        *client,
                                        GMimeMessage         *message,
                                        const char           *from_addr,
                                        const char *const    *to_addrs,
                                        const char *const    *mail_options,
                                        const char *const    *rcpt_options,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
SMTPKIT_AVAILABLE_IN_ALL
GHashTable *smtpkit_client_send_message_finish (SmtpkitClient  *client,
                                                GAsyncResult   *result,
                                                GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_send_message_result (SmtpkitClient      *client,
                                                       GMimeMessage       *message,
                                                       const char         *from_addr,
                                                       const char *const  *to_addrs,
                                                       const char *const  *mail_options,
                                                       const char *const  *rcpt_options,
                                                       GCancellable       *cancellable,
                                                       GError            **error);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_send_message_result_finish (SmtpkitClient  *client,
                                                              GAsyncResult   *result,
                                                              GError        **error);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_send (SmtpkitClient    *client,
                                        SmtpkitEnvelope  *envelope,
                                        GBytes           *message,
                                        GCancellable     *cancellable,
                                        GError          **error);
SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_client_send_async (SmtpkitClient        *client,
                                SmtpkitEnvelope      *envelope,
                                GBytes               *message,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitSendResult *smtpkit_client_send_finish (SmtpkitClient  *client,
                                               GAsyncResult   *result,
                                               GError        **error);

G_END_DECLS
