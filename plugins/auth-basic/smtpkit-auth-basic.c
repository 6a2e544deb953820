/* smtpkit-auth-basic.c: the "auth-basic" plugin: PLAIN, LOGIN, CRAM-MD5,
 * XOAUTH2 and OAUTHBEARER
 *
 * Each mechanism is a short, fixed list of client messages; the shared
 * base class below walks through it, one message per step, and refuses
 * any step beyond it. A mechanism only says whether its first message
 * may go with AUTH as the initial response, which credentials it needs,
 * and what message number N is.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <smtpkit.h>

/* ---- the shared base ------------------------------------------------------- */

typedef struct
{
  SmtpkitAuthMechanism parent_instance;

  /* How many of the mechanism's messages have been produced. */
  guint n_sent;
} SmtpkitAuthBasic;

typedef struct
{
  SmtpkitAuthMechanismClass parent_class;

  /* The SASL name, for messages when the "name" property is not set. */
  const char *sasl_name;
  /* Whether message 0 may be sent with AUTH, before any challenge. */
  gboolean initial_response;
  /* How many messages the client sends at most. */
  guint n_messages;
  /* Checks the credentials the mechanism needs. */
  gboolean (*check) (SmtpkitAuthBasic *self,
                     GError          **error);
  /* Message @index, in answer to @challenge (NULL for the initial
   * response). */
  GBytes *(*message) (SmtpkitAuthBasic *self,
                      guint             index,
                      GBytes           *challenge,
                      GError          **error);
} SmtpkitAuthBasicClass;

GType smtpkit_auth_basic_get_type (void);

#define SMTPKIT_TYPE_AUTH_BASIC (smtpkit_auth_basic_get_type ())
#define SMTPKIT_AUTH_BASIC(o)                                                                      \
  (G_TYPE_CHECK_INSTANCE_CAST ((o), SMTPKIT_TYPE_AUTH_BASIC, SmtpkitAuthBasic))
#define SMTPKIT_AUTH_BASIC_GET_CLASS(o)                                                            \
  (G_TYPE_INSTANCE_GET_CLASS ((o), SMTPKIT_TYPE_AUTH_BASIC, SmtpkitAuthBasicClass))

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthBasic, smtpkit_auth_basic, SMTPKIT_TYPE_AUTH_MECHANISM,
                                G_TYPE_FLAG_ABSTRACT, {})

static const char *
basic_name (SmtpkitAuthBasic *self)
{
  const char *name = smtpkit_auth_mechanism_get_name (SMTPKIT_AUTH_MECHANISM (self));

  return name != NULL ? name : SMTPKIT_AUTH_BASIC_GET_CLASS (self)->sasl_name;
}

static gboolean
basic_step (SmtpkitAuthMechanism  *mechanism,
            GBytes                *challenge,
            GBytes               **response,
            GError               **error)
{
  SmtpkitAuthBasic *self = SMTPKIT_AUTH_BASIC (mechanism);
  SmtpkitAuthBasicClass *klass = SMTPKIT_AUTH_BASIC_GET_CLASS (self);
  GBytes *message;

  /* Checked at every step, so that a missing password is reported before
   * AUTH is sent, when the client asks for the initial response. */
  if (!klass->check (self, error))
    return FALSE;

  if (challenge == NULL)
    {
      if (self->n_sent > 0)
        {
          g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED,
                       "%s: the initial response was asked for after the exchange began",
                       basic_name (self));
          return FALSE;
        }
      if (!klass->initial_response)
        return TRUE;
    }

  if (self->n_sent >= klass->n_messages)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: the server sent a challenge after the mechanism's last message; "
                   "the server does not follow the %s protocol",
                   basic_name (self), basic_name (self));
      return FALSE;
    }

  message = klass->message (self, self->n_sent, challenge, error);
  if (message == NULL)
    return FALSE;
  self->n_sent++;
  *response = message;
  return TRUE;
}

static void
smtpkit_auth_basic_class_init (SmtpkitAuthBasicClass *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->step = basic_step;
}

static void
smtpkit_auth_basic_class_finalize (SmtpkitAuthBasicClass *klass)
{
}

static void
smtpkit_auth_basic_init (SmtpkitAuthBasic *self)
{
}

/* ---- helpers ---------------------------------------------------------------- */

static const char *
get_username (SmtpkitAuthBasic *self)
{
  return smtpkit_auth_mechanism_get_username (SMTPKIT_AUTH_MECHANISM (self));
}

static const char *
get_password (SmtpkitAuthBasic *self)
{
  return smtpkit_auth_mechanism_get_password (SMTPKIT_AUTH_MECHANISM (self));
}

/* A user name or password: present, not empty, UTF-8. */
static gboolean
check_credential (SmtpkitAuthBasic *self,
                  const char       *value,
                  const char       *what,
                  const char       *property,
                  GError          **error)
{
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s needs a %s: set the mechanism's “%s” property", basic_name (self), what,
                   property);
      return FALSE;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s: the %s is not valid UTF-8", basic_name (self), what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_username_password (SmtpkitAuthBasic *self,
                         GError          **error)
{
  return check_credential (self, get_username (self), "user name", "username", error) &&
         check_credential (self, get_password (self), "password", "password", error);
}

/* The OAuth mechanisms separate their fields with ^A: a value holding one
 * would let it forge the fields that follow. */
static gboolean
check_no_separator (SmtpkitAuthBasic *self,
                    const char       *value,
                    const char       *what,
                    GError          **error)
{
  if (value != NULL && strchr (value, '\x01') != NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "%s: the %s contains the control character U+0001", basic_name (self), what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_token (SmtpkitAuthBasic *self,
             GError          **error)
{
  const char *token;

  /* The application's token function, if any, gives the current token. */
  if (!smtpkit_auth_mechanism_refresh_token (SMTPKIT_AUTH_MECHANISM (self), error))
    return FALSE;
  token = get_password (self);

  if (token == NULL || *token == '\0')
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: no OAuth token: set the mechanism's “password” property to the access "
                   "token",
                   basic_name (self));
      return FALSE;
    }
  return check_credential (self, token, "OAuth token", "password", error) &&
         check_no_separator (self, token, "OAuth token", error);
}

static GBytes *
string_to_bytes (GString *string)
{
  gsize len = string->len;

  return g_bytes_new_take (g_string_free (string, FALSE), len);
}

/* ---- PLAIN (RFC 4616) ------------------------------------------------------- */

typedef SmtpkitAuthBasic      SmtpkitAuthPlain;
typedef SmtpkitAuthBasicClass SmtpkitAuthPlainClass;
GType smtpkit_auth_plain_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthPlain, smtpkit_auth_plain, SMTPKIT_TYPE_AUTH_BASIC,
                                G_TYPE_FLAG_FINAL, {})

static GBytes *
plain_message (SmtpkitAuthBasic *self,
               guint             index,
               GBytes           *challenge,
               GError          **error)
{
  GString *message = g_string_new (NULL);

  /* authzid (empty: act as the authenticated user) NUL authcid NUL passwd */
  g_string_append_c (message, '\0');
  g_string_append (message, get_username (self));
  g_string_append_c (message, '\0');
  g_string_append (message, get_password (self));
  return string_to_bytes (message);
}

static void
smtpkit_auth_plain_class_init (SmtpkitAuthPlainClass *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password = TRUE;
  klass->sasl_name = "PLAIN";
  klass->initial_response = TRUE;
  klass->n_messages = 1;
  klass->check = check_username_password;
  klass->message = plain_message;
}

static void
smtpkit_auth_plain_class_finalize (SmtpkitAuthPlainClass *klass)
{
}

static void
smtpkit_auth_plain_init (SmtpkitAuthPlain *self)
{
}

/* ---- LOGIN ------------------------------------------------------------------ */

typedef SmtpkitAuthBasic      SmtpkitAuthLogin;
typedef SmtpkitAuthBasicClass SmtpkitAuthLoginClass;
GType smtpkit_auth_login_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthLogin, smtpkit_auth_login, SMTPKIT_TYPE_AUTH_BASIC,
                                G_TYPE_FLAG_FINAL, {})

static GBytes *
login_message (SmtpkitAuthBasic *self,
               guint             index,
               GBytes           *challenge,
               GError          **error)
{
  /* By position, not by the prompt's text ("Username:", "User Name",
   * localised prompts…): servers vary. */
  const char *value = index == 0 ? get_username (self) : get_password (self);

  return g_bytes_new (value, strlen (value));
}

static void
smtpkit_auth_login_class_init (SmtpkitAuthLoginClass *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password = TRUE;
  klass->sasl_name = "LOGIN";
  klass->initial_response = TRUE;
  klass->n_messages = 2;
  klass->check = check_username_password;
  klass->message = login_message;
}

static void
smtpkit_auth_login_class_finalize (SmtpkitAuthLoginClass *klass)
{
}

static void
smtpkit_auth_login_init (SmtpkitAuthLogin *self)
{
}

/* ---- CRAM-MD5 (RFC 2195) ---------------------------------------------------- */

typedef SmtpkitAuthBasic      SmtpkitAuthCramMd5;
typedef SmtpkitAuthBasicClass SmtpkitAuthCramMd5Class;
GType smtpkit_auth_cram_md5_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthCramMd5, smtpkit_auth_cram_md5,
                                SMTPKIT_TYPE_AUTH_BASIC, G_TYPE_FLAG_FINAL, {})

static GBytes *
cram_md5_message (SmtpkitAuthBasic *self,
                  guint             index,
                  GBytes           *challenge,
                  GError          **error)
{
  const char *password = get_password (self);
  g_autoptr (GHmac) hmac = NULL;
  gconstpointer data;
  gsize len;
  GString *message;

  data = g_bytes_get_data (challenge, &len);
  /* The challenge is what makes the digest unrepeatable. */
  if (len == 0)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION,
                   "%s: the server sent an empty challenge", basic_name (self));
      return NULL;
    }

  hmac = g_hmac_new (G_CHECKSUM_MD5, (const guchar *) password, strlen (password));
  g_hmac_update (hmac, data, len);
  message = g_string_new (get_username (self));
  g_string_append_c (message, ' ');
  g_string_append (message, g_hmac_get_string (hmac));
  return string_to_bytes (message);
}

static void
smtpkit_auth_cram_md5_class_init (SmtpkitAuthCramMd5Class *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password = TRUE;
  klass->sasl_name = "CRAM-MD5";
  klass->initial_response = FALSE;
  klass->n_messages = 1;
  klass->check = check_username_password;
  klass->message = cram_md5_message;
}

static void
smtpkit_auth_cram_md5_class_finalize (SmtpkitAuthCramMd5Class *klass)
{
}

static void
smtpkit_auth_cram_md5_init (SmtpkitAuthCramMd5 *self)
{
}

/* ---- XOAUTH2 (Google, Microsoft) ---------------------------------------- */

typedef SmtpkitAuthBasic      SmtpkitAuthXoauth2;
typedef SmtpkitAuthBasicClass SmtpkitAuthXoauth2Class;
GType smtpkit_auth_xoauth2_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthXoauth2, smtpkit_auth_xoauth2,
                                SMTPKIT_TYPE_AUTH_BASIC, G_TYPE_FLAG_FINAL, {})

static gboolean
xoauth2_check (SmtpkitAuthBasic *self,
               GError          **error)
{
  return check_credential (self, get_username (self), "user name", "username", error) &&
         check_no_separator (self, get_username (self), "user name", error) &&
         check_token (self, error);
}

static GBytes *
xoauth2_message (SmtpkitAuthBasic *self,
                 guint             index,
                 GBytes           *challenge,
                 GError          **error)
{
  char *message;

  /* A challenge after the credentials is the server's error, as JSON: the
   * protocol answers it with an empty response, and the server then sends
   * its final failure reply. */
  if (index == 1)
    return g_bytes_new (NULL, 0);

  message = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", get_username (self),
                             get_password (self));
  return g_bytes_new_take (message, strlen (message));
}

static void
smtpkit_auth_xoauth2_class_init (SmtpkitAuthXoauth2Class *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password = FALSE;
  klass->sasl_name = "XOAUTH2";
  klass->initial_response = TRUE;
  klass->n_messages = 2;
  klass->check = xoauth2_check;
  klass->message = xoauth2_message;
}

static void
smtpkit_auth_xoauth2_class_finalize (SmtpkitAuthXoauth2Class *klass)
{
}

static void
smtpkit_auth_xoauth2_init (SmtpkitAuthXoauth2 *self)
{
}

/* ---- OAUTHBEARER (RFC 7628) ------------------------------------------------- */

typedef SmtpkitAuthBasic      SmtpkitAuthOauthbearer;
typedef SmtpkitAuthBasicClass SmtpkitAuthOauthbearerClass;
GType smtpkit_auth_oauthbearer_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitAuthOauthbearer, smtpkit_auth_oauthbearer,
                                SMTPKIT_TYPE_AUTH_BASIC, G_TYPE_FLAG_FINAL, {})

static gboolean
oauthbearer_check (SmtpkitAuthBasic *self,
                   GError          **error)
{
  const char *username = get_username (self);
  const char *host =
    smtpkit_auth_mechanism_get_server_name (SMTPKIT_AUTH_MECHANISM (self));

  /* The authorization identity is optional (RFC 7628 §3.1): the token
   * says who the user is. */
  if (username != NULL && *username != '\0' &&
      !check_credential (self, username, "user name", "username", error))
    return FALSE;
  return check_no_separator (self, username, "user name", error) &&
         check_no_separator (self, host, "server name", error) && check_token (self, error);
}

static GBytes *
oauthbearer_message (SmtpkitAuthBasic *self,
                     guint             index,
                     GBytes           *challenge,
                     GError          **error)
{
  const char *username = get_username (self);
  const char *host =
    smtpkit_auth_mechanism_get_server_name (SMTPKIT_AUTH_MECHANISM (self));
  GString *message;

  /* A challenge after the credentials is the server's error, as JSON;
   * RFC 7628 §3.2.3: the client answers with a lone ^A, and the server
   * then sends its final failure reply. */
  if (index == 1)
    return g_bytes_new ("\001", 1);

  /* gs2-header: no channel binding, then the authzid as a saslname
   * (RFC 5801: '=' and ',' escaped as =3D and =2C). */
  message = g_string_new ("n,");
  if (username != NULL && *username != '\0')
    {
      g_string_append (message, "a=");
      for (const char *p = username; *p != '\0'; p++)
        {
          if (*p == '=')
            g_string_append (message, "=3D");
          else if (*p == ',')
            g_string_append (message, "=2C");
          else
            g_string_append_c (message, *p);
        }
    }
  g_string_append (message, ",\001");
  if (host != NULL && *host != '\0')
    g_string_append_printf (message, "host=%s\001", host);
  if (smtpkit_auth_mechanism_get_server_port (SMTPKIT_AUTH_MECHANISM (self)) > 0)
    g_string_append_printf (message, "port=%u\001",
                            smtpkit_auth_mechanism_get_server_port (SMTPKIT_AUTH_MECHANISM (self)));
  g_string_append_printf (message, "auth=Bearer %s\001\001", get_password (self));
  return string_to_bytes (message);
}

static void
smtpkit_auth_oauthbearer_class_init (SmtpkitAuthOauthbearerClass *klass)
{
  SMTPKIT_AUTH_MECHANISM_CLASS (klass)->uses_password = FALSE;
  klass->sasl_name = "OAUTHBEARER";
  klass->initial_response = TRUE;
  klass->n_messages = 2;
  klass->check = oauthbearer_check;
  klass->message = oauthbearer_message;
}

static void
smtpkit_auth_oauthbearer_class_finalize (SmtpkitAuthOauthbearerClass *klass)
{
}

static void
smtpkit_auth_oauthbearer_init (SmtpkitAuthOauthbearer *self)
{
}

/* ---- the module --------------------------------------------------------------- */

G_MODULE_EXPORT void g_io_smtpkit_auth_basic_load (GIOModule *module);
G_MODULE_EXPORT void g_io_smtpkit_auth_basic_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_smtpkit_auth_basic_query (void);

void
g_io_smtpkit_auth_basic_load (GIOModule *module)
{
  GTypeModule *type_module = G_TYPE_MODULE (module);
  /* The extension's priority is the mechanism's strength. */
  const struct
  {
    const char *name;
    GType (*get_type) (void);
    gint strength;
  } mechanisms[] = {
    { "CRAM-MD5", smtpkit_auth_cram_md5_get_type, 30 },
    { "PLAIN", smtpkit_auth_plain_get_type, 20 },
    { "LOGIN", smtpkit_auth_login_get_type, 10 },
    { "XOAUTH2", smtpkit_auth_xoauth2_get_type, 5 },
    { "OAUTHBEARER", smtpkit_auth_oauthbearer_get_type, 5 },
  };

  /* Types registered in a module cannot be unregistered. */
  g_type_module_use (type_module);
  smtpkit_auth_basic_register_type (type_module);
  smtpkit_auth_plain_register_type (type_module);
  smtpkit_auth_login_register_type (type_module);
  smtpkit_auth_cram_md5_register_type (type_module);
  smtpkit_auth_xoauth2_register_type (type_module);
  smtpkit_auth_oauthbearer_register_type (type_module);

  for (gsize i = 0; i < G_N_ELEMENTS (mechanisms); i++)
    g_io_extension_point_implement (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME,
                                    mechanisms[i].get_type (), mechanisms[i].name,
                                    mechanisms[i].strength);
}

void
g_io_smtpkit_auth_basic_unload (GIOModule *module)
{
}

char **
g_io_smtpkit_auth_basic_query (void)
{
  char *eps[] = { (char *) SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
