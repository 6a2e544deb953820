/* smtpkit-auth-mechanism.h: SASL mechanisms as pure step functions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smtpkit-version-macros.h"

G_BEGIN_DECLS

/**
 * SmtpkitAuthStepFunc:
 * @challenge: (nullable): the decoded challenge, or %NULL for the initial
 *   response
 * @user_data: the data given with the function
 * @error: return location for a #GError
 *
 * Answers one challenge of an authentication exchange, as the
 * `authobject` of smtplib's `auth()`. For the initial response, returning
 * %NULL without setting @error means there is none.
 *
 * Returns: (transfer full) (nullable): the response
 */
typedef GBytes *(*SmtpkitAuthStepFunc) (GBytes   *challenge,
                                        gpointer  user_data,
                                        GError  **error);

#define SMTPKIT_TYPE_AUTH_MECHANISM (smtpkit_auth_mechanism_get_type ())

typedef struct _SmtpkitAuthMechanism SmtpkitAuthMechanism;

/**
 * SmtpkitAuthTokenFunc:
 * @mechanism: the mechanism about to authenticate
 * @user_data: the data given with the function
 * @error: return location for a #GError
 *
 * Gives an OAuth mechanism (XOAUTH2, OAUTHBEARER) the access token to use
 * now, so that an application can refresh an expired one before each
 * authentication. It is called without I/O of the client's own: if it
 * needs the network to refresh, it should return a token it already has.
 *
 * Returns: (transfer full) (nullable): the token, or %NULL with @error set
 */
typedef char *(*SmtpkitAuthTokenFunc) (SmtpkitAuthMechanism  *mechanism,
                                       gpointer               user_data,
                                       GError               **error);

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (SmtpkitAuthMechanism, smtpkit_auth_mechanism, SMTPKIT, AUTH_MECHANISM, GObject)

/**
 * SmtpkitAuthMechanismClass:
 * @parent_class: the parent class
 * @step: computes the response to one challenge. @challenge is %NULL for
 *   the initial response (sent with AUTH, before any 334); the mechanism
 *   then sets @response to %NULL when it has none. Otherwise @challenge
 *   is the decoded 334 challenge (possibly empty) and @response must be
 *   set. Returns %FALSE with @error set when it cannot answer. Never does
 *   I/O.
 * @uses_password: whether the mechanism authenticates with a user name
 *   and password, so that [method@Client.login] may try it
 * @is_complete: whether the exchange has reached its end on the client's
 *   side; a mechanism with mutual authentication (SCRAM) is complete only
 *   once it has checked the server's proof. The default says %TRUE.
 * @uses_password_func: whether this mechanism authenticates with a user
 *   name and password; the default returns @uses_password. Bindings, which
 *   cannot set a class field, override this instead (in Python,
 *   `do_uses_password_func`). Since: 0.1
 *
 * The class of SASL mechanisms. A mechanism object serves one
 * authentication; its properties give it what it needs: the
 * mechanism name, the user name and password, the server's host name, the
 * service ("smtp"), whether the connection is protected by TLS, and TLS
 * channel binding data for `-PLUS` mechanisms.
 */
struct _SmtpkitAuthMechanismClass
{
  GObjectClass parent_class;

  gboolean (*step) (SmtpkitAuthMechanism  *mechanism,
                    GBytes                *challenge,
                    GBytes               **response,
                    GError               **error);

  gboolean uses_password;

  gboolean (*is_complete) (SmtpkitAuthMechanism *mechanism);

  gboolean (*uses_password_func) (SmtpkitAuthMechanism *mechanism);

  /*< private >*/
  gpointer padding[6];
};

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_auth_mechanism_step (SmtpkitAuthMechanism  *mechanism,
                                      GBytes                *challenge,
                                      GBytes               **response,
                                      GError               **error);

SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_auth_mechanism_is_complete (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_auth_mechanism_uses_password (SmtpkitAuthMechanism *mechanism);

SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_auth_mechanism_get_name (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_auth_mechanism_get_username (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_auth_mechanism_get_password (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_auth_mechanism_get_server_name (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
guint smtpkit_auth_mechanism_get_server_port (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
const char *smtpkit_auth_mechanism_get_service (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_auth_mechanism_get_secure (SmtpkitAuthMechanism *mechanism);
SMTPKIT_AVAILABLE_IN_ALL
GBytes *smtpkit_auth_mechanism_get_channel_binding (SmtpkitAuthMechanism *mechanism,
                                                    const char          **type);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_auth_mechanism_set_token_func (SmtpkitAuthMechanism *mechanism,
                                            SmtpkitAuthTokenFunc  func,
                                            gpointer              user_data,
                                            GDestroyNotify        destroy);
SMTPKIT_AVAILABLE_IN_ALL
gboolean smtpkit_auth_mechanism_refresh_token (SmtpkitAuthMechanism  *mechanism,
                                               GError               **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_auth_mechanism_register (const char *name,
                                      GType       type,
                                      gint        strength);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitAuthMechanism *smtpkit_auth_mechanism_new_for_name (const char  *name,
                                                           GError     **error);
SMTPKIT_AVAILABLE_IN_ALL
char **smtpkit_auth_mechanism_list (void);
SMTPKIT_AVAILABLE_IN_ALL
SmtpkitAuthMechanism *smtpkit_auth_mechanism_new_for_func (const char          *name,
                                                           SmtpkitAuthStepFunc  func,
                                                           gpointer             user_data,
                                                           GDestroyNotify       destroy);

G_END_DECLS
