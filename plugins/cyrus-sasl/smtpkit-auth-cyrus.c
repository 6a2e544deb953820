/* smtpkit-auth-cyrus.c: the "auth-cyrus" plugin: every mechanism of the
 * installed Cyrus SASL client plugins
 *
 * SCRAM (and its channel-bound -PLUS forms), DIGEST-MD5, GSSAPI, NTLM…
 * whatever libsasl2's client plugins provide, except the mechanisms the
 * "auth-basic" plugin implements itself and the ones that make no sense
 * for SMTP submission (ANONYMOUS, EXTERNAL).
 *
 * One abstract type drives a sasl_conn_t; each mechanism name gets its own
 * small final subtype of it, because GIO files an extension under its
 * GType: g_io_extension_point_implement() returns the existing extension
 * when the same type is implemented again under another name. The
 * subtype's class carries the mechanism's name and Cyrus features, and
 * whether it authenticates with a password (GSSAPI does not).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <smtpkit.h>

typedef struct
{
  char *name;        /* the SASL name, e.g. "SCRAM-SHA-256-PLUS" */
  guint features;    /* the Cyrus plugin's SASL_FEAT_* flags */
  gboolean plus;     /* a channel-bound -PLUS form */
  gint strength;
} CyrusMechanism;

typedef struct
{
  SmtpkitAuthMechanism parent_instance;

  sasl_conn_t *conn;
  sasl_callback_t callbacks[5];
  /* Copies taken when the exchange starts: Cyrus keeps the pointers its
   * callbacks return for the life of the connection. */
  char *username;
  sasl_secret_t *secret;
  gsize secret_size;
  GBytes *channel_binding;
  char *channel_binding_type;
  sasl_channel_binding_t binding;
  /* Cyrus said SASL_OK: any further challenge is an error. */
  gboolean done;
  /* A step failed: the exchange is over. */
  gboolean failed;
} SmtpkitAuthCyrus;

typedef struct
{
  SmtpkitAuthMechanismClass parent_class;

  const CyrusMechanism *mechanism;
} SmtpkitAuthCyrusClass;

GType smtpkit_auth_cyrus_get_type (void);

#define SMTPKIT_TYPE_AUTH_CYRUS (smtpkit_auth_cyrus_get_type ())
#define SMTPKIT_AUTH_CYRUS(o)                                                                      \
  (G_TYPE_CHECK_INSTANCE_CAST ((o), SMTPKIT_TYPE_AUTH_CYRUS, SmtpkitAuthCyrus))
#define SMTPKIT_AUTH_CYRUS_GET_CLASS(o)                                                            \
  (G_TYPE_INSTANCE_GET_CLASS ((o), SMTPKIT_TYPE_AUTH_CYRUS, SmtpkitAuthCyrusClass))

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthCyrus, smtpkit_auth_cyrus, SMTPKIT_TYPE_AUTH_MECHANISM,
                                G_TYPE_FLAG_ABSTRACT, {})

/* The mechanisms found when the module was loaded; the subtypes' class
 * data points into it, for the life of the process. */
static GPtrArray *cyrus_mechanisms;

/* ---- Cyrus callbacks ---------------------------------------------------------- */

static int
cyrus_get_simple (void        *context,
                  int          id,
                  const char **result,
                  unsigned    *len)
{
  SmtpkitAuthCyrus *self = context;

  switch (id)
    {
    case SASL_CB_USER:
      /* No authorization identity: act as the authenticated user, as
       * PLAIN does. Mechanisms then send none ("n,," in SCRAM). */
      *result = "";
      break;
    case SASL_CB_AUTHNAME:
      *result = self->username != NULL ? self->username : "";
      break;
    default:
      return SASL_BADPARAM;
    }
  if (len != NULL)
    *len = strlen (*result);
  return SASL_OK;
}

static int
cyrus_get_secret (sasl_conn_t    *conn,
                  void           *context,
                  int             id,
                  sasl_secret_t **secret)
{
  SmtpkitAuthCyrus *self = context;

  if (id != SASL_CB_PASS || self->secret == NULL)
    return SASL_FAIL;
  *secret = self->secret;
  return SASL_OK;
}

static int
cyrus_get_realm (void        *context,
                 int          id,
                 const char **available,
                 const char **result)
{
  /* DIGEST-MD5: take the server's first realm rather than prompting. */
  *result = available != NULL ? available[0] : NULL;
  return SASL_OK;
}

static int
cyrus_log (void       *context,
           int         level,
           const char *message)
{
  g_debug ("Cyrus SASL: %s", message);
  return SASL_OK;
}

/* Without a log callback, Cyrus writes to syslog. */
static const sasl_callback_t cyrus_global_callbacks[] = {
  { SASL_CB_LOG, (int (*) (void)) cyrus_log, NULL },
  { SASL_CB_LIST_END, NULL, NULL },
};

/* ---- the mechanism -------------------------------------------------------------- */

static const CyrusMechanism *
cyrus_mechanism (SmtpkitAuthCyrus *self)
{
  return SMTPKIT_AUTH_CYRUS_GET_CLASS (self)->mechanism;
}

static gboolean
check_credential (SmtpkitAuthCyrus *self,
                  const char       *value,
                  const char       *what,
                  const char       *property,
                  GError          **error)
{
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s needs a %s: set the mechanism's “%s” property",
                   cyrus_mechanism (self)->name, what, property);
      return FALSE;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s: the %s is not valid UTF-8", cyrus_mechanism (self)->name, what);
      return FALSE;
    }
  return TRUE;
}

/* Turns a Cyrus result into TRUE (continue or done) or an error. */
static gboolean
cyrus_check (SmtpkitAuthCyrus *self,
             int               result,
             sasl_interact_t  *interact,
             GError          **error)
{
  const char *name = cyrus_mechanism (self)->name;

  switch (result)
    {
    case SASL_OK:
      self->done = TRUE;
      return TRUE;
    case SASL_CONTINUE:
      return TRUE;
    case SASL_INTERACT:
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: Cyrus SASL asks for information libsmtpkit cannot give it (%s)", name,
                   interact != NULL && interact->prompt != NULL ? interact->prompt : "a prompt");
      return FALSE;
    case SASL_NOMECH:
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                   "%s: Cyrus SASL cannot use this mechanism here: %s", name,
                   sasl_errdetail (self->conn));
      return FALSE;
    default:
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION, "%s: %s", name,
                   self->conn != NULL ? sasl_errdetail (self->conn)
                                      : sasl_errstring (result, NULL, NULL));
      return FALSE;
    }
}

/* Checks what the mechanism needs and takes its own copies of it. */
static gboolean
cyrus_prepare (SmtpkitAuthCyrus *self,
               GError          **error)
{
  SmtpkitAuthMechanism *mechanism = SMTPKIT_AUTH_MECHANISM (self);
  const CyrusMechanism *info = cyrus_mechanism (self);
  const char *username = smtpkit_auth_mechanism_get_username (mechanism);
  const char *password = smtpkit_auth_mechanism_get_password (mechanism);
  const char *binding_type = NULL;
  GBytes *binding = smtpkit_auth_mechanism_get_channel_binding (mechanism, &binding_type);

  if (smtpkit_auth_mechanism_uses_password (mechanism))
    {
      if (!check_credential (self, username, "user name", "username", error) ||
          !check_credential (self, password, "password", "password", error))
        return FALSE;
    }
  else if (username != NULL && !g_utf8_validate (username, -1, NULL))
    {
      return check_credential (self, username, "user name", "username", error);
    }

  if ((info->features & SASL_FEAT_NEEDSERVERFQDN) &&
      smtpkit_auth_mechanism_get_server_name (mechanism) == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s needs the server's host name: set the mechanism's “server-name” property",
                   info->name);
      return FALSE;
    }

  if (info->plus && binding == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                   "%s needs TLS channel binding data, and the connection gives none; "
                   "use %.*s over TLS, or the mechanism without -PLUS",
                   info->name, (int) (strlen (info->name) - strlen ("-PLUS")), info->name);
      return FALSE;
    }
  if (binding != NULL && binding_type == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s: channel binding data without its kind: set the mechanism's "
                   "“channel-binding-type” property",
                   info->name);
      return FALSE;
    }

  self->username = g_strdup (username);
  if (password != NULL)
    {
      gsize len = strlen (password);

      self->secret_size = sizeof (sasl_secret_t) + len;
      self->secret = g_malloc0 (self->secret_size);
      self->secret->len = len;
      memcpy (self->secret->data, password, len);
    }
  if (binding != NULL)
    {
      self->channel_binding = g_bytes_ref (binding);
      self->channel_binding_type = g_strdup (binding_type);
    }
  return TRUE;
}

/* Creates the connection and starts the exchange; @clientout is NULL when
 * the client sends AUTH without an initial response. */
static gboolean
cyrus_start (SmtpkitAuthCyrus *self,
             const char      **clientout,
             unsigned         *clientoutlen,
             GError          **error)
{
  SmtpkitAuthMechanism *mechanism = SMTPKIT_AUTH_MECHANISM (self);
  const CyrusMechanism *info = cyrus_mechanism (self);
  /* No SASL security layer: over SMTP, TLS provides it. */
  sasl_security_properties_t props = { 0 };
  sasl_interact_t *interact = NULL;
  const char *used = NULL;
  int result;

  if (!cyrus_prepare (self, error))
    return FALSE;

  self->callbacks[0] = (sasl_callback_t) { SASL_CB_USER, (int (*) (void)) cyrus_get_simple, self };
  self->callbacks[1] =
    (sasl_callback_t) { SASL_CB_AUTHNAME, (int (*) (void)) cyrus_get_simple, self };
  self->callbacks[2] = (sasl_callback_t) { SASL_CB_PASS, (int (*) (void)) cyrus_get_secret, self };
  self->callbacks[3] =
    (sasl_callback_t) { SASL_CB_GETREALM, (int (*) (void)) cyrus_get_realm, self };
  self->callbacks[4] = (sasl_callback_t) { SASL_CB_LIST_END, NULL, NULL };

  result = sasl_client_new (smtpkit_auth_mechanism_get_service (mechanism),
                            smtpkit_auth_mechanism_get_server_name (mechanism), NULL, NULL,
                            self->callbacks, 0, &self->conn);
  if (result != SASL_OK)
    {
      self->conn = NULL;
      return cyrus_check (self, result, NULL, error);
    }

  props.min_ssf = 0;
  props.max_ssf = 0;
  result = sasl_setprop (self->conn, SASL_SEC_PROPS, &props);
  if (result != SASL_OK)
    return cyrus_check (self, result, NULL, error);

  if (self->channel_binding != NULL)
    {
      gsize len;

      self->binding.name = self->channel_binding_type;
      /* Critical only for -PLUS. Cyrus binds whenever the binding is
       * critical, so a critical binding under the plain name would send
       * "p=" in SCRAM-SHA-256, which servers rightly refuse. Not critical
       * and with the one mechanism named, Cyrus sends "n" ("y" only comes
       * from its own negotiation over a list of mechanisms). */
      self->binding.critical = info->plus;
      self->binding.data = g_bytes_get_data (self->channel_binding, &len);
      self->binding.len = len;
      result = sasl_setprop (self->conn, SASL_CHANNEL_BINDING, &self->binding);
      if (result != SASL_OK)
        return cyrus_check (self, result, NULL, error);
    }

  result = sasl_client_start (self->conn, info->name, &interact, clientout, clientoutlen, &used);
  return cyrus_check (self, result, interact, error);
}

static gboolean
cyrus_run_step (SmtpkitAuthCyrus  *self,
                GBytes            *challenge,
                GBytes           **response,
                GError           **error)
{
  const char *name = cyrus_mechanism (self)->name;
  sasl_interact_t *interact = NULL;
  const char *out = NULL;
  unsigned outlen = 0;
  g_autofree char *in = NULL;
  gconstpointer data;
  gsize inlen;
  int result;

  if (self->conn == NULL)
    {
      if (challenge == NULL)
        {
          if (!cyrus_start (self, &out, &outlen, error))
            return FALSE;
          /* NULL: a server-first mechanism (DIGEST-MD5), no initial
           * response. Empty but present is an initial response too. */
          if (out != NULL)
            *response = g_bytes_new (out, outlen);
          return TRUE;
        }
      /* AUTH went without an initial response: Cyrus produces the
       * client's first message in answer to the first challenge. */
      if (!cyrus_start (self, NULL, NULL, error))
        return FALSE;
    }
  else if (challenge == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED,
                   "%s: the initial response was asked for after the exchange began", name);
      return FALSE;
    }

  if (self->done)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: the server sent a challenge after the exchange was complete; "
                   "the server does not follow the %s protocol",
                   name, name);
      return FALSE;
    }

  data = g_bytes_get_data (challenge, &inlen);
  if (inlen > G_MAXUINT - 1)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: the server's challenge is too long", name);
      return FALSE;
    }
  /* Cyrus wants a NUL after the challenge, which GBytes does not promise. */
  in = g_malloc (inlen + 1);
  if (inlen > 0)
    memcpy (in, data, inlen);
  in[inlen] = '\0';
  result = sasl_client_step (self->conn, in, inlen, &interact, &out, &outlen);
  if (!cyrus_check (self, result, interact, error))
    return FALSE;
  *response = g_bytes_new (out, out != NULL ? outlen : 0);
  return TRUE;
}

static gboolean
cyrus_step (SmtpkitAuthMechanism  *mechanism,
            GBytes                *challenge,
            GBytes               **response,
            GError               **error)
{
  SmtpkitAuthCyrus *self = SMTPKIT_AUTH_CYRUS (mechanism);

  if (self->failed)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED,
                   "%s: a step of this exchange already failed; start again with a new mechanism",
                   cyrus_mechanism (self)->name);
      return FALSE;
    }
  if (!cyrus_run_step (self, challenge, response, error))
    {
      self->failed = TRUE;
      g_clear_pointer (response, g_bytes_unref);
      return FALSE;
    }
  return TRUE;
}

static void
smtpkit_auth_cyrus_finalize (GObject *object)
{
  SmtpkitAuthCyrus *self = SMTPKIT_AUTH_CYRUS (object);

  /* The connection first: it may hold pointers to what follows. */
  if (self->conn != NULL)
    sasl_dispose (&self->conn);
  if (self->secret != NULL)
    {
      memset (self->secret, 0, self->secret_size);
      g_free (self->secret);
    }
  g_free (self->username);
  g_clear_pointer (&self->channel_binding, g_bytes_unref);
  g_free (self->channel_binding_type);

  G_OBJECT_CLASS (smtpkit_auth_cyrus_parent_class)->finalize (object);
}

/* Cyrus says SASL_OK once it has what it needs, the server's proof
 * included for mechanisms that authenticate both ways. */
static gboolean
cyrus_is_complete (SmtpkitAuthMechanism *mechanism)
{
  return ((SmtpkitAuthCyrus *) mechanism)->done;
}

static void
smtpkit_auth_cyrus_class_init (SmtpkitAuthCyrusClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = smtpkit_auth_cyrus_finalize;
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->step = cyrus_step;
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->is_complete = cyrus_is_complete;
}

static void
smtpkit_auth_cyrus_class_finalize (SmtpkitAuthCyrusClass *klass)
{
}

static void
smtpkit_auth_cyrus_init (SmtpkitAuthCyrus *self)
{
}

/* The class of one mechanism's subtype. */
static void
cyrus_mechanism_class_init (gpointer klass,
                            gpointer class_data)
{
  const CyrusMechanism *info = class_data;

  ((SmtpkitAuthCyrusClass *) klass)->mechanism = info;
  /* GSSAPI and its kin authenticate with the user's Kerberos
   * credentials, not a password: Client.login() must not pick them. */
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password =
    !(info->features & SASL_FEAT_DONTUSE_USERPASSWD);
}

/* ---- finding the mechanisms ------------------------------------------------------ */

static gint
cyrus_strength (const char *name)
{
  const struct
  {
    const char *name;
    gint strength;
  } strengths[] = {
    { "SCRAM-SHA-512-PLUS", 110 },
    { "SCRAM-SHA-384-PLUS", 105 },
    { "SCRAM-SHA-256-PLUS", 100 },
    { "SCRAM-SHA-224-PLUS", 95 },
    { "SCRAM-SHA-1-PLUS", 90 },
    { "SCRAM-SHA-512", 85 },
    { "SCRAM-SHA-384", 83 },
    { "SCRAM-SHA-256", 80 },
    { "SCRAM-SHA-224", 75 },
    { "SCRAM-SHA-1", 70 },
    { "GS2-KRB5-PLUS", 65 },
    { "GSSAPI", 60 },
    { "GS2-KRB5", 60 },
    { "DIGEST-MD5", 40 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (strengths); i++)
    if (g_str_equal (name, strengths[i].name))
      return strengths[i].strength;
  return 35;
}

static gboolean
cyrus_skipped (const char *name)
{
  /* Implemented natively by the auth-basic plugin, or no use for SMTP
   * submission. */
  const char *skipped[] = {
    "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "ANONYMOUS", "EXTERNAL",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (skipped); i++)
    if (g_ascii_strcasecmp (name, skipped[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
cyrus_add_mechanism (GPtrArray  *mechanisms,
                     const char *name,
                     guint       features,
                     gboolean    plus)
{
  CyrusMechanism *info;

  for (guint i = 0; i < mechanisms->len; i++)
    if (g_str_equal (((CyrusMechanism *) g_ptr_array_index (mechanisms, i))->name, name))
      return;

  info = g_new0 (CyrusMechanism, 1);
  info->name = g_strdup (name);
  info->features = features;
  info->plus = plus;
  info->strength = cyrus_strength (name);
  g_ptr_array_add (mechanisms, info);
}

static void
cyrus_collect_mechanism (client_sasl_mechanism_t    *m,
                         sasl_info_callback_stage_t  stage,
                         void                       *rock)
{
  GPtrArray *mechanisms = rock;
  g_autofree char *name = NULL;

  if (stage != SASL_INFO_LIST_MECH || m == NULL || m->plug == NULL || m->plug->mech_name == NULL)
    return;

  name = g_ascii_strup (m->plug->mech_name, -1);
  if (cyrus_skipped (name))
    return;
  cyrus_add_mechanism (mechanisms, name, m->plug->features, FALSE);
  /* Cyrus offers the -PLUS form of a mechanism that can bind to the
   * channel under the same plugin. */
  if (m->plug->features & SASL_FEAT_CHANNEL_BINDING)
    {
      g_autofree char *plus = g_strconcat (name, "-PLUS", NULL);

      cyrus_add_mechanism (mechanisms, plus, m->plug->features, TRUE);
    }
}

static void
cyrus_register_mechanism (GTypeModule          *module,
                          const CyrusMechanism *info)
{
  GTypeInfo type_info = {
    .class_size = sizeof (SmtpkitAuthCyrusClass),
    .class_init = cyrus_mechanism_class_init,
    .class_data = info,
    .instance_size = sizeof (SmtpkitAuthCyrus),
  };
  g_autofree char *type_name = g_strconcat ("SmtpkitAuthCyrus_", info->name, NULL);
  GType type;

  /* SASL names are letters, digits, '-' and '_'; GType names allow those. */
  for (char *p = type_name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      *p = '_';

  type = g_type_module_register_type (module, SMTPKIT_TYPE_AUTH_CYRUS, type_name, &type_info,
                                      G_TYPE_FLAG_FINAL);
  g_io_extension_point_implement (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME, type, info->name,
                                  info->strength);
}

/* ---- the module ------------------------------------------------------------------ */

G_MODULE_EXPORT void g_io_smtpkit_auth_cyrus_load (GIOModule *module);
G_MODULE_EXPORT void g_io_smtpkit_auth_cyrus_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_smtpkit_auth_cyrus_query (void);

void
g_io_smtpkit_auth_cyrus_load (GIOModule *module)
{
  GTypeModule *type_module = G_TYPE_MODULE (module);
  int result;

  /* Types registered in a module cannot be unregistered. */
  g_type_module_use (type_module);
  smtpkit_auth_cyrus_register_type (type_module);

  /* The module stays loaded once used, so this runs once per process;
   * sasl_client_init() itself counts its callers. */
  if (cyrus_mechanisms != NULL)
    return;
  result = sasl_client_init (cyrus_global_callbacks);
  if (result != SASL_OK)
    {
      g_warning ("Cyrus SASL did not initialise (%s); its mechanisms are not available",
                 sasl_errstring (result, NULL, NULL));
      return;
    }

  cyrus_mechanisms = g_ptr_array_new ();
  sasl_client_plugin_info (NULL, cyrus_collect_mechanism, cyrus_mechanisms);
  for (guint i = 0; i < cyrus_mechanisms->len; i++)
    cyrus_register_mechanism (type_module, g_ptr_array_index (cyrus_mechanisms, i));
}

void
g_io_smtpkit_auth_cyrus_unload (GIOModule *module)
{
}

char **
g_io_smtpkit_auth_cyrus_query (void)
{
  char *eps[] = { (char *) SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
