/* smtpkit-auth-mechanism.c: SASL mechanisms as pure step functions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-auth-mechanism.h"

#include "smtpkit-error.h"
#include "smtpkit-plugins-private.h"
#include "smtpkit-transport.h"

/**
 * SmtpkitAuthMechanism:
 *
 * A SASL mechanism (RFC 4422) for SMTP AUTH (RFC 4954), as a pure step
 * function: challenge bytes in, response bytes out. The client carries
 * the 334 exchange and the base64 encoding; a mechanism never does I/O,
 * which is what lets Cyrus SASL, OAuth tokens and an application's own
 * mechanism plug in the same way.
 *
 * Mechanisms come from plugins implementing the
 * %SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME extension point, or from
 * subclasses an application registers with
 * [func@AuthMechanism.register]. The extension's priority is the
 * mechanism's strength: [method@Client.login] tries the strongest first.
 */

typedef struct
{
  char *name;
  char *username;
  char *password;
  char *server_name;
  guint server_port;
  char *service;
  gboolean secure;
  GBytes *channel_binding;
  char *channel_binding_type;
  SmtpkitAuthTokenFunc token_func;
  gpointer token_data;
  GDestroyNotify token_destroy;
} SmtpkitAuthMechanismPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (SmtpkitAuthMechanism, smtpkit_auth_mechanism, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_SERVER_NAME,
  PROP_SERVER_PORT,
  PROP_SERVICE,
  PROP_SECURE,
  PROP_CHANNEL_BINDING,
  PROP_CHANNEL_BINDING_TYPE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
smtpkit_auth_mechanism_finalize (GObject *object)
{
  SmtpkitAuthMechanism *self = SMTPKIT_AUTH_MECHANISM (object);
  SmtpkitAuthMechanismPrivate *priv = smtpkit_auth_mechanism_get_instance_private (self);

  g_free (priv->name);
  g_free (priv->username);
  /* Do not leave the secret in freed memory. */
  if (priv->password)
    memset (priv->password, 0, strlen (priv->password));
  g_free (priv->password);
  g_free (priv->server_name);
  g_free (priv->service);
  g_clear_pointer (&priv->channel_binding, g_bytes_unref);
  g_free (priv->channel_binding_type);
  if (priv->token_destroy)
    priv->token_destroy (priv->token_data);

  G_OBJECT_CLASS (smtpkit_auth_mechanism_parent_class)->finalize (object);
}

static void
smtpkit_auth_mechanism_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  SmtpkitAuthMechanism *self = SMTPKIT_AUTH_MECHANISM (object);
  SmtpkitAuthMechanismPrivate *priv = smtpkit_auth_mechanism_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, priv->username);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, priv->password);
      break;
    case PROP_SERVER_NAME:
      g_value_set_string (value, priv->server_name);
      break;
    case PROP_SERVER_PORT:
      g_value_set_uint (value, priv->server_port);
      break;
    case PROP_SERVICE:
      g_value_set_string (value, priv->service);
      break;
    case PROP_SECURE:
      g_value_set_boolean (value, priv->secure);
      break;
    case PROP_CHANNEL_BINDING:
      g_value_set_boxed (value, priv->channel_binding);
      break;
    case PROP_CHANNEL_BINDING_TYPE:
      g_value_set_string (value, priv->channel_binding_type);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (char       **field,
            const GValue *value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
smtpkit_auth_mechanism_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  SmtpkitAuthMechanism *self = SMTPKIT_AUTH_MECHANISM (object);
  SmtpkitAuthMechanismPrivate *priv = smtpkit_auth_mechanism_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      set_string (&priv->name, value);
      break;
    case PROP_USERNAME:
      set_string (&priv->username, value);
      break;
    case PROP_PASSWORD:
      set_string (&priv->password, value);
      break;
    case PROP_SERVER_NAME:
      set_string (&priv->server_name, value);
      break;
    case PROP_SERVER_PORT:
      priv->server_port = g_value_get_uint (value);
      break;
    case PROP_SERVICE:
      set_string (&priv->service, value);
      break;
    case PROP_SECURE:
      priv->secure = g_value_get_boolean (value);
      break;
    case PROP_CHANNEL_BINDING:
      g_clear_pointer (&priv->channel_binding, g_bytes_unref);
      priv->channel_binding = g_value_dup_boxed (value);
      break;
    case PROP_CHANNEL_BINDING_TYPE:
      set_string (&priv->channel_binding_type, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_auth_mechanism_class_init (SmtpkitAuthMechanismClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = smtpkit_auth_mechanism_finalize;
  object_class->get_property = smtpkit_auth_mechanism_get_property;
  object_class->set_property = smtpkit_auth_mechanism_set_property;

  /**
   * SmtpkitAuthMechanism:name:
   *
   * The SASL name of the mechanism, e.g. "PLAIN" or "SCRAM-SHA-256"; one
   * type may implement several.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags | G_PARAM_CONSTRUCT_ONLY);
  /**
   * SmtpkitAuthMechanism:username:
   *
   * The user name (authentication identity), UTF-8.
   */
  properties[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, flags);
  /**
   * SmtpkitAuthMechanism:password:
   *
   * The password, UTF-8; for OAuth mechanisms, the access token.
   */
  properties[PROP_PASSWORD] = g_param_spec_string ("password", NULL, NULL, NULL, flags);
  /**
   * SmtpkitAuthMechanism:server-name:
   *
   * The server's host name, for mechanisms that need it.
   */
  properties[PROP_SERVER_NAME] = g_param_spec_string ("server-name", NULL, NULL, NULL, flags);
  /**
   * SmtpkitAuthMechanism:server-port:
   *
   * The server's port, 0 when unknown (a Unix socket).
   */
  properties[PROP_SERVER_PORT] =
    g_param_spec_uint ("server-port", NULL, NULL, 0, G_MAXUINT16, 0, flags);
  /**
   * SmtpkitAuthMechanism:service:
   *
   * The SASL service name.
   */
  properties[PROP_SERVICE] =
    g_param_spec_string ("service", NULL, NULL, "smtp", flags | G_PARAM_CONSTRUCT);
  /**
   * SmtpkitAuthMechanism:secure:
   *
   * Whether the connection is protected by TLS.
   */
  properties[PROP_SECURE] = g_param_spec_boolean ("secure", NULL, NULL, FALSE, flags);
  /**
   * SmtpkitAuthMechanism:channel-binding:
   *
   * TLS channel binding data for `-PLUS` mechanisms, or %NULL.
   */
  properties[PROP_CHANNEL_BINDING] =
    g_param_spec_boxed ("channel-binding", NULL, NULL, G_TYPE_BYTES, flags);
  /**
   * SmtpkitAuthMechanism:channel-binding-type:
   *
   * The kind of [property@AuthMechanism:channel-binding]: "tls-unique",
   * "tls-server-end-point" or "tls-exporter".
   */
  properties[PROP_CHANNEL_BINDING_TYPE] =
    g_param_spec_string ("channel-binding-type", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smtpkit_auth_mechanism_init (SmtpkitAuthMechanism *self)
{
}

/**
 * smtpkit_auth_mechanism_step:
 * @mechanism: a #SmtpkitAuthMechanism
 * @challenge: (nullable): the decoded challenge, or %NULL for the initial
 *   response
 * @response: (out) (transfer full) (nullable): the response; %NULL only
 *   when the initial response was asked for and there is none
 * @error: return location for a #GError
 *
 * Computes the answer to one step of the exchange.
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
smtpkit_auth_mechanism_step (SmtpkitAuthMechanism  *mechanism,
                             GBytes                *challenge,
                             GBytes               **response,
                             GError               **error)
{
  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  *response = NULL;
  return SMTPKIT_AUTH_MECHANISM_GET_CLASS (mechanism)->step (mechanism, challenge, response, error);
}

/**
 * smtpkit_auth_mechanism_is_complete:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Whether the exchange is complete on the client's side. The client
 * checks it when the server says 235: a server that claims success before
 * a mutually authenticating mechanism (SCRAM) has checked its proof is
 * not believed.
 *
 * Returns: %TRUE when complete
 */
gboolean
smtpkit_auth_mechanism_is_complete (SmtpkitAuthMechanism *mechanism)
{
  SmtpkitAuthMechanismClass *klass;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), FALSE);

  klass = SMTPKIT_AUTH_MECHANISM_GET_CLASS (mechanism);
  return klass->is_complete == NULL || klass->is_complete (mechanism);
}

/**
 * smtpkit_auth_mechanism_uses_password: (virtual uses_password_func)
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Whether @mechanism authenticates with a user name and password: those
 * are the mechanisms [method@Client.login] may choose, and the ones it
 * refuses to use in clear.
 *
 * Returns: %TRUE when it uses a password
 */
gboolean
smtpkit_auth_mechanism_uses_password (SmtpkitAuthMechanism *mechanism)
{
  SmtpkitAuthMechanismClass *klass;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), FALSE);

  klass = SMTPKIT_AUTH_MECHANISM_GET_CLASS (mechanism);
  if (klass->uses_password_func != NULL)
    return klass->uses_password_func (mechanism);
  return klass->uses_password;
}

#define GETTER(field)                                                                    \
  SmtpkitAuthMechanismPrivate *priv;                                                     \
  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), NULL);                     \
  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);                        \
  return priv->field

/**
 * smtpkit_auth_mechanism_get_name:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:name]: the SASL name this instance was
 * created for, e.g. "PLAIN".
 *
 * Returns: the SASL name of the mechanism
 */
const char *
smtpkit_auth_mechanism_get_name (SmtpkitAuthMechanism *mechanism)
{
  GETTER (name);
}

/**
 * smtpkit_auth_mechanism_get_username:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:username], the authentication
 * identity.
 *
 * Returns: (nullable): the user name
 */
const char *
smtpkit_auth_mechanism_get_username (SmtpkitAuthMechanism *mechanism)
{
  GETTER (username);
}

/**
 * smtpkit_auth_mechanism_get_password:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:password]: the password, or for an
 * OAuth mechanism the access token.
 *
 * Returns: (nullable): the password or token
 */
const char *
smtpkit_auth_mechanism_get_password (SmtpkitAuthMechanism *mechanism)
{
  GETTER (password);
}

/**
 * smtpkit_auth_mechanism_get_server_name:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:server-name], for mechanisms that
 * name the server in their exchange (OAUTHBEARER, Cyrus SASL's GSSAPI).
 *
 * Returns: (nullable): the server's host name
 */
const char *
smtpkit_auth_mechanism_get_server_name (SmtpkitAuthMechanism *mechanism)
{
  GETTER (server_name);
}

/**
 * smtpkit_auth_mechanism_get_server_port:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:server-port].
 *
 * Returns: the server's port, or 0 when unknown
 */
guint
smtpkit_auth_mechanism_get_server_port (SmtpkitAuthMechanism *mechanism)
{
  SmtpkitAuthMechanismPrivate *priv;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), 0);
  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);
  return priv->server_port;
}

/**
 * smtpkit_auth_mechanism_get_service:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:service], the SASL service name.
 *
 * Returns: the SASL service name ("smtp")
 */
const char *
smtpkit_auth_mechanism_get_service (SmtpkitAuthMechanism *mechanism)
{
  GETTER (service);
}

/**
 * smtpkit_auth_mechanism_get_secure:
 * @mechanism: a #SmtpkitAuthMechanism
 *
 * Gets the [property@AuthMechanism:secure] flag.
 *
 * Returns: whether the connection is protected by TLS
 */
gboolean
smtpkit_auth_mechanism_get_secure (SmtpkitAuthMechanism *mechanism)
{
  SmtpkitAuthMechanismPrivate *priv;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), FALSE);
  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);
  return priv->secure;
}

/**
 * smtpkit_auth_mechanism_get_channel_binding:
 * @mechanism: a #SmtpkitAuthMechanism
 * @type: (out) (optional) (transfer none): the kind of binding
 *
 * Gets the [property@AuthMechanism:channel-binding] of the TLS
 * connection, for the `-PLUS` variants of SCRAM, and its
 * [property@AuthMechanism:channel-binding-type].
 *
 * Returns: (transfer none) (nullable): the TLS channel binding data
 */
GBytes *
smtpkit_auth_mechanism_get_channel_binding (SmtpkitAuthMechanism  *mechanism,
                                            const char           **type)
{
  SmtpkitAuthMechanismPrivate *priv;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), NULL);
  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);
  if (type)
    *type = priv->channel_binding_type;
  return priv->channel_binding;
}

/**
 * smtpkit_auth_mechanism_set_token_func:
 * @mechanism: a #SmtpkitAuthMechanism
 * @func: (scope notified) (closure user_data) (nullable): gives the token
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function an OAuth mechanism asks for its access token each
 * time it authenticates (see [method@AuthMechanism.refresh_token]),
 * instead of the fixed [property@AuthMechanism:password].
 */
void
smtpkit_auth_mechanism_set_token_func (SmtpkitAuthMechanism *mechanism,
                                       SmtpkitAuthTokenFunc  func,
                                       gpointer              user_data,
                                       GDestroyNotify        destroy)
{
  SmtpkitAuthMechanismPrivate *priv;

  g_return_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism));

  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);
  if (priv->token_destroy)
    priv->token_destroy (priv->token_data);
  priv->token_func = func;
  priv->token_data = user_data;
  priv->token_destroy = destroy;
}

/**
 * smtpkit_auth_mechanism_refresh_token:
 * @mechanism: a #SmtpkitAuthMechanism
 * @error: return location for a #GError
 *
 * For mechanisms that use a token: asks the token function, if one is
 * set, for the current token and makes it the mechanism's
 * [property@AuthMechanism:password]. OAuth mechanisms call it when they
 * build their initial response.
 *
 * Returns: %TRUE, or %FALSE with @error set by the token function
 */
gboolean
smtpkit_auth_mechanism_refresh_token (SmtpkitAuthMechanism  *mechanism,
                                      GError               **error)
{
  SmtpkitAuthMechanismPrivate *priv;
  g_autofree char *token = NULL;

  g_return_val_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism), FALSE);

  priv = smtpkit_auth_mechanism_get_instance_private (mechanism);
  if (priv->token_func == NULL)
    return TRUE;
  token = priv->token_func (mechanism, priv->token_data, error);
  if (token == NULL)
    return FALSE;
  g_object_set (mechanism, "password", token, NULL);
  memset (token, 0, strlen (token));
  return TRUE;
}

/**
 * smtpkit_auth_mechanism_register:
 * @name: the SASL mechanism name
 * @type: a subclass of #SmtpkitAuthMechanism
 * @strength: its rank: [method@Client.login] tries stronger ones first
 *
 * Registers a mechanism implemented by the application itself, without a
 * loadable module.
 */
void
smtpkit_auth_mechanism_register (const char *name,
                                 GType       type,
                                 gint        strength)
{
  g_return_if_fail (name != NULL);
  g_return_if_fail (g_type_is_a (type, SMTPKIT_TYPE_AUTH_MECHANISM));

  smtpkit_plugins_ensure_loaded ();
  g_io_extension_point_implement (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME, type, name,
                                  strength);
}

/**
 * smtpkit_auth_mechanism_new_for_name:
 * @name: a SASL mechanism name, in any case
 * @error: return location for a #GError
 *
 * Creates the mechanism called @name, loading its plugin if needed.
 *
 * Returns: (transfer full): a new mechanism, or %NULL with
 *   %SMTPKIT_ERROR_NOT_SUPPORTED naming the plugin directories searched
 */
SmtpkitAuthMechanism *
smtpkit_auth_mechanism_new_for_name (const char  *name,
                                     GError     **error)
{
  GIOExtensionPoint *point;
  GIOExtension *extension;
  g_autofree char *upper = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  smtpkit_plugins_ensure_loaded ();
  upper = g_ascii_strup (name, -1);
  point = g_io_extension_point_lookup (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME);
  extension = g_io_extension_point_get_extension_by_name (point, upper);
  if (extension == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                   "no authentication mechanism “%s”: no plugin provides it (searched %s)",
                   upper, smtpkit_plugins_get_search_path ());
      return NULL;
    }
  return g_object_new (g_io_extension_get_type (extension), "name", upper, NULL);
}

/**
 * smtpkit_auth_mechanism_list:
 *
 * The names of the mechanisms available, strongest first.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 */
char **
smtpkit_auth_mechanism_list (void)
{
  GIOExtensionPoint *point;
  GList *extensions;
  GPtrArray *names = g_ptr_array_new ();

  smtpkit_plugins_ensure_loaded ();
  point = g_io_extension_point_lookup (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME);
  /* GIO keeps extensions sorted by priority, highest first. */
  for (extensions = g_io_extension_point_get_extensions (point); extensions;
       extensions = extensions->next)
    g_ptr_array_add (names, g_strdup (g_io_extension_get_name (extensions->data)));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* ---- a mechanism made of a caller's step function ---------------------- */

#define SMTPKIT_TYPE_AUTH_FUNC (smtpkit_auth_func_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitAuthFunc, smtpkit_auth_func, SMTPKIT, AUTH_FUNC, SmtpkitAuthMechanism)

struct _SmtpkitAuthFunc
{
  SmtpkitAuthMechanism parent_instance;
  SmtpkitAuthStepFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
};

G_DEFINE_FINAL_TYPE (SmtpkitAuthFunc, smtpkit_auth_func, SMTPKIT_TYPE_AUTH_MECHANISM)

static gboolean
smtpkit_auth_func_step (SmtpkitAuthMechanism  *mechanism,
                        GBytes                *challenge,
                        GBytes               **response,
                        GError               **error)
{
  SmtpkitAuthFunc *self = SMTPKIT_AUTH_FUNC (mechanism);
  GError *local_error = NULL;

  *response = self->func (challenge, self->user_data, &local_error);
  if (local_error)
    {
      g_clear_pointer (response, g_bytes_unref);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (*response == NULL && challenge != NULL)
    *response = g_bytes_new_static ("", 0);
  return TRUE;
}

static void
smtpkit_auth_func_finalize (GObject *object)
{
  SmtpkitAuthFunc *self = SMTPKIT_AUTH_FUNC (object);

  if (self->destroy)
    self->destroy (self->user_data);
  G_OBJECT_CLASS (smtpkit_auth_func_parent_class)->finalize (object);
}

static void
smtpkit_auth_func_class_init (SmtpkitAuthFuncClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = smtpkit_auth_func_finalize;
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->step = smtpkit_auth_func_step;
}

static void
smtpkit_auth_func_init (SmtpkitAuthFunc *self)
{
}

/**
 * smtpkit_auth_mechanism_new_for_func:
 * @name: the SASL mechanism name sent with AUTH
 * @func: (scope notified) (closure user_data): answers each challenge
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * A mechanism made of a step function, as the `authobject` of smtplib's
 * `auth()`: for [method@Client.auth] with a mechanism no plugin provides.
 *
 * Returns: (transfer full): a new mechanism
 */
SmtpkitAuthMechanism *
smtpkit_auth_mechanism_new_for_func (const char          *name,
                                     SmtpkitAuthStepFunc  func,
                                     gpointer             user_data,
                                     GDestroyNotify       destroy)
{
  SmtpkitAuthFunc *self;
  g_autofree char *upper = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  upper = g_ascii_strup (name, -1);
  self = g_object_new (SMTPKIT_TYPE_AUTH_FUNC, "name", upper, NULL);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  return SMTPKIT_AUTH_MECHANISM (self);
}
