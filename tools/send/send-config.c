/* send-config.c: smtpkit-send's accounts file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * THE ACCOUNTS FILE (for smtpkit-send(1))
 *
 * $XDG_CONFIG_HOME/smtpkit/accounts.conf (~/.config/smtpkit/accounts.conf),
 * or the file given with --config. A missing default file is no error (the
 * command line alone then describes the server); a missing --config file is.
 * It is a GKeyFile ("desktop file" syntax): lines "[group]", "key=value" and
 * "# comments".
 *
 *   [defaults]
 *   account=work
 *   from=alice@example.org
 *
 *   [work]
 *   server=smtp://mail.example.org:587
 *   user=alice
 *
 *   [lmtp]
 *   server=lmtp:///run/dovecot/lmtp
 *
 * Groups. Every group but [defaults] is one account, named by the group.
 * --account NAME picks one (an error when the file has no [NAME], or when
 * there is no file).
 * [defaults] may hold "account=NAME", the account used when --account is
 * not given (with no account= and a single account, that one is used), and
 * any account key: each account inherits it unless it sets the key itself.
 * A file with [defaults] alone describes one unnamed account.
 *
 * Keys. An unknown key, in any group, is an error, so that a typo does not
 * pass silently. The values of the account in use and of [defaults] are
 * checked; every error names the file and the line: "FILE:LINE: key: why".
 * A key given twice in a group: the last one counts. The command-line
 * options of the same names set the same keys, over the file's, with the
 * same checks.
 *
 *   server            the server, as a URI:
 *                       smtp://HOST[:PORT]     SMTP, port 25 by default
 *                       smtps://HOST[:PORT]    SMTP over TLS from the first
 *                                              byte (RFC 8314), port 465
 *                       lmtp://HOST[:PORT]     LMTP over TCP, port 24
 *                       lmtp:///PATH           LMTP over a unix socket
 *                     A bare HOST[:PORT] means smtp://HOST[:PORT]. An IPv6
 *                     address goes in brackets: smtp://[::1]:25. Other
 *                     schemes, a path on smtp:// or smtps://, a query or
 *                     fragment, and a password in the URI are refused; a
 *                     user in it (smtp://alice@host) sets "user".
 *   tls               starttls | implicit | opportunistic | none.
 *                     The default: implicit for smtps:// and for
 *                     smtp:// to port 465 (RFC 8314); starttls for
 *                     smtp:// and lmtp:// to a host that is not loopback;
 *                     none for loopback (localhost, 127.0.0.0/8, ::1) and
 *                     unix sockets. starttls fails when the server does not
 *                     offer STARTTLS; opportunistic then goes on in clear;
 *                     smtps:// allows only implicit.
 *   ca-file           PEM file of the certificate authorities to trust
 *                     instead of the system's (must exist)
 *   user              the user name to authenticate as; with no user, no
 *                     authentication
 *   password-command  a command run with /bin/sh -c (stdin closed); the
 *                     first line of its output is the password. A non-zero
 *                     exit is an error that shows its stderr.
 *   password-file     a file whose first line is the password; refused
 *                     when group or others have any access to it
 *                     (chmod 600 FILE)
 *   from              the default envelope sender (MAIL FROM)
 *   auth              the SASL mechanisms allowed, a list separated by
 *                     commas, semicolons or spaces: auth=SCRAM-SHA-256,PLAIN;
 *                     by default any the server offers
 *   timeout           seconds to wait for the server (a positive number,
 *                     fractions allowed); by default the library's
 *   dsn-notify        never, or a list of success, failure, delay: the
 *                     default NOTIFY= of each recipient (RFC 3461)
 *   dsn-return        full | hdrs: the default RET= of the message
 *   queue             a directory: a message that fails temporarily is kept
 *                     there for smtpkit-send --flush (created 0700; its
 *                     layout is described at the top of send-queue.c)
 *   helo              the name to give in EHLO/LHLO instead of the
 *                     machine's
 *
 * File names (ca-file, password-file, queue) may start with "~/" for the
 * home directory.
 *
 * Passwords. For an account with a user, the password comes from the
 * first of: password-command, password-file, the Secret Service. A
 * password is never written in accounts.conf. In the Secret Service it is
 * stored by "smtpkit-send --store-password ACCOUNT" and found by its
 * attributes, which secret-tool(1) can use too:
 *
 *   secret-tool store --label='smtpkit-send' xdg:schema org.gnome.Smtpkit.Account \
 *       server smtp://mail.example.org:587 user alice
 *   secret-tool lookup xdg:schema org.gnome.Smtpkit.Account \
 *       server smtp://mail.example.org:587 user alice
 *
 * "server" is the account's server exactly as written in accounts.conf (a
 * bare HOST[:PORT] with "smtp://" in front).
 */

#include "config.h"

#include "send-config.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (send-config-error-quark, send_config_error)

#define DEFAULTS_GROUP "defaults"

/* A key's checks and how it lands in the account; on a bad value it sets
 * a SEND_CONFIG_ERROR_CONFIG error that says why, without the key. */
typedef gboolean (*KeySetter) (SendAccount  *account,
                               const char   *value,
                               GError      **error);

/* The check of a key that is a plain string. */
typedef gboolean (*TextCheck) (const char  *value,
                               GError     **error);

typedef struct
{
  const char *name;
  KeySetter set;       /* a key of its own, or NULL for a string: */
  TextCheck check;     /* checked by this, */
  gboolean file_name;  /* with "~/" for the home directory, */
  goffset field;       /* kept in this char * of SendAccount */
} AccountKey;

static gboolean
reject (GError    **error,
        const char *format,
        ...) G_GNUC_PRINTF (2, 3);

static gboolean
reject (GError    **error,
        const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (SEND_CONFIG_ERROR,
                                                SEND_CONFIG_ERROR_CONFIG,
                                                format, args));
  va_end (args);
  return FALSE;
}

static void
replace_string (char      **field,
                const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* Values end up in SMTP commands and file names: no line breaks or other
 * control characters, and never empty. */
static gboolean
check_text (const char *value,
            GError    **error)
{
  const char *p;

  if (*value == '\0')
    return reject (error, "the value is empty");
  for (p = value; *p != '\0'; p++)
    {
      if (g_ascii_iscntrl (*p))
        return reject (error, "\"%s\" holds a control character", value);
    }
  return TRUE;
}

static gboolean
check_word (const char *value,
            GError    **error)
{
  if (!check_text (value, error))
    return FALSE;
  if (strpbrk (value, " \t<>") != NULL)
    return reject (error, "\"%s\" holds a space or an angle bracket", value);
  return TRUE;
}

static char *
expand_home (const char *path)
{
  if (g_str_has_prefix (path, "~/"))
    return g_build_filename (g_get_home_dir (), path + 2, NULL);
  return g_strdup (path);
}

/* Lists are written with commas, semicolons (GKeyFile's own separator)
 * or spaces; empty items are dropped. */
static GStrv
split_list (const char *value)
{
  g_auto (GStrv) items = g_strsplit_set (value, ",; \t", -1);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char **item;

  for (item = items; *item != NULL; item++)
    {
      if (**item != '\0')
        g_strv_builder_add (builder, *item);
    }
  return g_strv_builder_end (builder);
}

/* ---- server ------------------------------------------------------------ */

static void
clear_server (SendAccount *account)
{
  g_clear_pointer (&account->server, g_free);
  g_clear_pointer (&account->host, g_free);
  g_clear_pointer (&account->socket_path, g_free);
  account->port = 0;
  account->lmtp = FALSE;
}

static gboolean
check_uri_parts (GUri       *uri,
                 const char *scheme,
                 GError    **error)
{
  const char *host = g_uri_get_host (uri);
  const char *path = g_uri_get_path (uri);
  gboolean unix_socket = host == NULL || *host == '\0';

  if (g_uri_get_password (uri) != NULL)
    return reject (error, "a password does not belong in the URI: use the "
                          "Secret Service, password-command or password-file");
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    return reject (error, "a %s:// URI takes no query or fragment", scheme);
  if (g_strcmp0 (scheme, "lmtp") == 0 && unix_socket)
    {
      if (*path != '/' || path[1] == '\0')
        return reject (error, "lmtp:/// needs the socket's absolute path: "
                              "lmtp:///run/dovecot/lmtp");
      if (g_uri_get_port (uri) != -1)
        return reject (error, "a unix socket has no port");
      return TRUE;
    }
  if (unix_socket)
    return reject (error, "a %s:// URI needs a host", scheme);
  if (*path != '\0' && strcmp (path, "/") != 0)
    return reject (error, "a %s:// URI has no path (\"%s\"); a unix "
                          "socket is lmtp:///PATH", scheme, path);
  if (g_uri_get_port (uri) == 0)
    return reject (error, "port 0 is no port");
  return TRUE;
}

static gboolean
set_server (SendAccount *account,
            const char  *value,
            GError     **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *scheme = NULL;

  if (!check_word (value, error))
    return FALSE;
  text = strstr (value, "://") ? g_strdup (value)
                               : g_strconcat ("smtp://", value, NULL);
  uri = g_uri_parse (text, G_URI_FLAGS_HAS_PASSWORD, &local_error);
  if (uri == NULL)
    return reject (error, "\"%s\" is not a URI: %s", value, local_error->message);
  scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  if (!g_strv_contains ((const char *const[]){ "smtp", "smtps", "lmtp", NULL }, scheme))
    return reject (error, "\"%s\": the scheme is not one of smtp, smtps, lmtp", value);
  if (!check_uri_parts (uri, scheme, error))
    return FALSE;

  clear_server (account);
  account->server = g_steal_pointer (&text);
  account->lmtp = strcmp (scheme, "lmtp") == 0;
  if (g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0')
    account->host = g_strdup (g_uri_get_host (uri));
  else
    account->socket_path = g_strdup (g_uri_get_path (uri));
  account->port = MAX (g_uri_get_port (uri), 0);
  if (g_uri_get_user (uri) != NULL)
    replace_string (&account->user, g_uri_get_user (uri));
  return TRUE;
}

/* ---- the other keys ---------------------------------------------------- */

/* ca-file and password-file. Whether a password file is private is
 * checked when it is read, on the open file (send-password.c). */
static gboolean
check_file (const char *path,
            GError    **error)
{
  if (!check_text (path, error))
    return FALSE;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return reject (error, "%s is not a file", path);
  return TRUE;
}

static gboolean
set_tls (SendAccount *account,
         const char  *value,
         GError     **error)
{
  static const char *const names[] = { "none", "starttls", "opportunistic", "implicit", NULL };
  static const SmtpkitTlsMode modes[] = {
    SMTPKIT_TLS_MODE_NONE,
    SMTPKIT_TLS_MODE_STARTTLS,
    SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC,
    SMTPKIT_TLS_MODE_IMPLICIT,
  };
  guint i;

  for (i = 0; names[i] != NULL; i++)
    {
      if (strcmp (value, names[i]) == 0)
        {
          account->tls_mode = modes[i];
          account->tls_mode_set = TRUE;
          return TRUE;
        }
    }
  return reject (error, "\"%s\" is not one of starttls, implicit, opportunistic, none", value);
}

/* RFC 4422 §3.1: a mechanism name is 1 to 20 of A-Z, 0-9, - and _. */
static gboolean
check_mechanism (const char *name,
                 GError    **error)
{
  const char *p;

  if (strlen (name) > 20)
    return reject (error, "\"%s\" is longer than a SASL mechanism name can be", name);
  for (p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        return reject (error, "\"%s\" is not a SASL mechanism name", name);
    }
  return TRUE;
}

static gboolean
set_auth (SendAccount *account,
          const char  *value,
          GError     **error)
{
  g_auto (GStrv) names = split_list (value);
  char **name;

  if (names[0] == NULL)
    return reject (error, "no mechanism is named");
  for (name = names; *name != NULL; name++)
    {
      char *upper;

      if (!check_mechanism (*name, error))
        return FALSE;
      upper = g_ascii_strup (*name, -1);
      g_free (*name);
      *name = upper;
    }
  g_strfreev (account->auth);
  account->auth = g_steal_pointer (&names);
  return TRUE;
}

static gboolean
set_timeout (SendAccount *account,
             const char  *value,
             GError     **error)
{
  char *end = NULL;
  double seconds = g_ascii_strtod (value, &end);

  if (end == value || *end != '\0' || !(seconds > 0) || isinf (seconds))
    return reject (error, "\"%s\" is not a positive number of seconds", value);
  account->timeout = seconds;
  return TRUE;
}

static SmtpkitDsnNotify
dsn_notify_flag (const char *name)
{
  if (strcmp (name, "never") == 0)
    return SMTPKIT_DSN_NOTIFY_NEVER;
  if (strcmp (name, "success") == 0)
    return SMTPKIT_DSN_NOTIFY_SUCCESS;
  if (strcmp (name, "failure") == 0)
    return SMTPKIT_DSN_NOTIFY_FAILURE;
  if (strcmp (name, "delay") == 0)
    return SMTPKIT_DSN_NOTIFY_DELAY;
  return SMTPKIT_DSN_NOTIFY_UNSET;
}

static gboolean
set_dsn_notify (SendAccount *account,
                const char  *value,
                GError     **error)
{
  g_auto (GStrv) names = split_list (value);
  SmtpkitDsnNotify notify = SMTPKIT_DSN_NOTIFY_UNSET;
  char **name;

  if (names[0] == NULL)
    return reject (error, "the value is empty");
  for (name = names; *name != NULL; name++)
    {
      SmtpkitDsnNotify flag = dsn_notify_flag (*name);

      if (flag == SMTPKIT_DSN_NOTIFY_UNSET)
        return reject (error, "\"%s\" is not one of never, success, failure, delay", *name);
      notify |= flag;
    }
  if ((notify & SMTPKIT_DSN_NOTIFY_NEVER) && notify != SMTPKIT_DSN_NOTIFY_NEVER)
    return reject (error, "never goes alone, not with success, failure or delay");
  account->dsn_notify = notify;
  return TRUE;
}

static gboolean
set_dsn_return (SendAccount *account,
                const char  *value,
                GError     **error)
{
  if (strcmp (value, "full") == 0)
    account->dsn_return = SMTPKIT_DSN_RET_FULL;
  else if (strcmp (value, "hdrs") == 0)
    account->dsn_return = SMTPKIT_DSN_RET_HDRS;
  else
    return reject (error, "\"%s\" is not one of full, hdrs", value);
  return TRUE;
}

/* RFC 5321 §4.1.1.1: a domain, or an address literal in brackets. */
static gboolean
set_helo (SendAccount *account,
          const char  *value,
          GError     **error)
{
  const char *p;

  if (!check_word (value, error))
    return FALSE;
  if (*value != '[')
    {
      for (p = value; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
            return reject (error, "\"%s\" is not a host name or an address literal", value);
        }
    }
  else if (!g_str_has_suffix (value, "]"))
    return reject (error, "\"%s\": an address literal ends with ]", value);
  replace_string (&account->local_hostname, value);
  return TRUE;
}

#define TEXT_KEY(name, check, file_name, member) \
  { name, NULL, check, file_name, G_STRUCT_OFFSET (SendAccount, member) }

static const AccountKey account_keys[] = {
  { "server", set_server },
  { "tls", set_tls },
  TEXT_KEY ("ca-file", check_file, TRUE, ca_file),
  TEXT_KEY ("user", check_text, FALSE, user),
  TEXT_KEY ("password-command", check_text, FALSE, password_command),
  TEXT_KEY ("password-file", check_file, TRUE, password_file),
  TEXT_KEY ("from", check_word, FALSE, from),
  { "auth", set_auth },
  { "timeout", set_timeout },
  { "dsn-notify", set_dsn_notify },
  { "dsn-return", set_dsn_return },
  TEXT_KEY ("queue", check_text, TRUE, queue),
  { "helo", set_helo },
};

static gboolean
apply_key (SendAccount      *account,
           const AccountKey *key,
           const char       *value,
           GError          **error)
{
  g_autofree char *text = NULL;
  char **field;

  if (key->set != NULL)
    return key->set (account, value, error);
  text = key->file_name ? expand_home (value) : g_strdup (value);
  if (!key->check (text, error))
    return FALSE;
  field = G_STRUCT_MEMBER_P (account, key->field);
  g_free (*field);
  *field = g_steal_pointer (&text);
  return TRUE;
}

static const AccountKey *
find_key (const char *name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (account_keys); i++)
    {
      if (strcmp (account_keys[i].name, name) == 0)
        return &account_keys[i];
    }
  return NULL;
}

static char *
key_names (void)
{
  g_autoptr (GString) names = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (account_keys); i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", account_keys[i].name);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* ---- the account ------------------------------------------------------- */

static SendAccount *
account_new (void)
{
  SendAccount *account = g_new0 (SendAccount, 1);

  account->timeout = -1;
  return account;
}

void
send_account_free (SendAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->name);
  g_free (account->origin);
  clear_server (account);
  g_free (account->ca_file);
  g_free (account->user);
  g_free (account->password_command);
  g_free (account->password_file);
  g_free (account->from);
  g_strfreev (account->auth);
  g_free (account->queue);
  g_free (account->local_hostname);
  g_free (account);
}

gboolean
send_account_set (SendAccount *account,
                  const char  *key,
                  const char  *value,
                  GError     **error)
{
  const AccountKey *known = find_key (key);
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (account != NULL && key != NULL && value != NULL, FALSE);

  if (known == NULL)
    {
      g_autofree char *names = key_names ();

      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE,
                   "unknown key \"%s\"; the keys are %s", key, names);
      return FALSE;
    }
  if (!apply_key (account, known, value, &local_error))
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE,
                   "%s: %s", key, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0 ||
      g_str_has_suffix (host, ".localhost"))
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

static SmtpkitTlsMode
default_tls_mode (const SendAccount *account)
{
  /* Port 465 is submissions, TLS from the first byte (RFC 8314 §7.3):
   * STARTTLS there would wait for a greeting that never comes. */
  if (g_str_has_prefix (account->server, "smtps:") ||
      (!account->lmtp && account->port == 465))
    return SMTPKIT_TLS_MODE_IMPLICIT;
  if (account->host == NULL || host_is_loopback (account->host))
    return SMTPKIT_TLS_MODE_NONE;
  return SMTPKIT_TLS_MODE_STARTTLS;
}

/* An account from the file is a configuration error; one from the
 * command line alone, a usage error. */
static gboolean
reject_account (const SendAccount *account,
                GError           **error,
                const char        *why)
{
  if (account->origin != NULL)
    g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG,
                 "%s: [%s] %s", account->origin, account->name ? account->name : DEFAULTS_GROUP, why);
  else
    g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE, "%s", why);
  return FALSE;
}

gboolean
send_account_finish (SendAccount *account,
                     GError     **error)
{
  g_return_val_if_fail (account != NULL, FALSE);

  if (account->server == NULL)
    return reject_account (account, error, "has no server: set server=URI, or give --server URI");
  if (!account->tls_mode_set)
    account->tls_mode = default_tls_mode (account);
  else if (g_str_has_prefix (account->server, "smtps:") &&
           account->tls_mode != SMTPKIT_TLS_MODE_IMPLICIT)
    return reject_account (account, error,
                           "uses smtps://, which is TLS from the first byte: tls can only be implicit");
  if (account->user == NULL && account->password_command != NULL)
    return reject_account (account, error, "has a password-command but no user");
  if (account->user == NULL && account->password_file != NULL)
    return reject_account (account, error, "has a password-file but no user");
  return TRUE;
}

/* ---- the file ---------------------------------------------------------- */

typedef struct
{
  char *path;
  char *text;
  GKeyFile *keys;
} AccountsFile;

static void
accounts_file_free (AccountsFile *file)
{
  g_free (file->path);
  g_free (file->text);
  g_clear_pointer (&file->keys, g_key_file_unref);
  g_free (file);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AccountsFile, accounts_file_free)

/* Whether the line from @start to @end is the header of @group. */
static gboolean
is_group_line (const char *start,
               const char *end,
               const char *group)
{
  gsize length = strlen (group);

  return end - start >= (gssize) length + 2 && *start == '[' &&
         strncmp (start + 1, group, length) == 0 && start[length + 1] == ']';
}

/* Whether the line from @start to @end sets @key. */
static gboolean
is_key_line (const char *start,
             const char *end,
             const char *key)
{
  const char *equals = memchr (start, '=', end - start);

  if (equals == NULL || *start == '#')
    return FALSE;
  while (equals > start && g_ascii_isspace (equals[-1]))
    equals--;
  return (gsize) (equals - start) == strlen (key) &&
         strncmp (start, key, equals - start) == 0;
}

/* GKeyFile keeps no line numbers, so they are found in the text: the
 * first header of @group, or (with @key) the last line of the group that
 * sets @key, which is the one GKeyFile keeps. 0 when not found. */
static guint
find_line (const char *text,
           const char *group,
           const char *key)
{
  const char *line = text;
  gboolean in_group = FALSE;
  guint number = 0, found = 0;

  while (*line != '\0')
    {
      const char *end = line + strcspn (line, "\n");
      const char *start = line;

      number++;
      while (start < end && g_ascii_isspace (*start))
        start++;
      if (*start == '[')
        {
          in_group = is_group_line (start, end, group);
          if (in_group && key == NULL && found == 0)
            found = number;
        }
      else if (in_group && key != NULL && is_key_line (start, end, key))
        found = number;
      line = *end != '\0' ? end + 1 : end;
    }
  return found;
}

static char *
origin_of (const AccountsFile *file,
           const char         *group,
           const char         *key)
{
  guint line = find_line (file->text, group, key);

  if (line == 0)
    return g_strdup (file->path);
  return g_strdup_printf ("%s:%u", file->path, line);
}

static gboolean
reject_in_file (const AccountsFile *file,
                const char         *group,
                const char         *key,
                GError            **error,
                const char         *format,
                ...) G_GNUC_PRINTF (5, 6);

static gboolean
reject_in_file (const AccountsFile *file,
                const char         *group,
                const char         *key,
                GError            **error,
                const char         *format,
                ...)
{
  g_autofree char *origin = origin_of (file, group, key);
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG, "%s: %s", origin, why);
  return FALSE;
}

/* Every key of every group is known, so that a typo is an error even in
 * an account not in use. */
static gboolean
check_key_names (const AccountsFile *file,
                 GError            **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (file->keys, NULL);
  char **group;

  for (group = groups; *group != NULL; group++)
    {
      gboolean defaults = strcmp (*group, DEFAULTS_GROUP) == 0;
      g_auto (GStrv) keys = g_key_file_get_keys (file->keys, *group, NULL, NULL);
      char **key;

      for (key = keys; *key != NULL; key++)
        {
          g_autofree char *names = NULL;

          if (find_key (*key) != NULL || (defaults && strcmp (*key, "account") == 0))
            continue;
          names = key_names ();
          return reject_in_file (file, *group, *key, error,
                                 "unknown key \"%s\" in [%s]; the keys are %s%s", *key,
                                 *group, defaults ? "account, " : "", names);
        }
    }
  return TRUE;
}

static gboolean
apply_group (SendAccount        *account,
             const AccountsFile *file,
             const char         *group,
             GError            **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (file->keys, group, NULL, NULL);
  char **key;

  for (key = keys; keys != NULL && *key != NULL; key++)
    {
      const AccountKey *known = find_key (*key);
      g_autoptr (GError) local_error = NULL;
      g_autofree char *value = NULL;

      if (known == NULL)
        continue; /* "account" in [defaults] */
      /* An invalid escape gives a value and an error: the error wins. */
      value = g_key_file_get_string (file->keys, group, *key, &local_error);
      if (local_error != NULL || !apply_key (account, known, value, &local_error))
        return reject_in_file (file, group, *key, error, "%s: %s", *key, local_error->message);
    }
  return TRUE;
}

/* The account named by [defaults] account=, or the only one. NULL with no
 * error when the file has [defaults] alone, or nothing. */
static char *
default_account_name (const AccountsFile *file,
                      GError            **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (file->keys, NULL);
  g_autoptr (GStrvBuilder) accounts = g_strv_builder_new ();
  g_auto (GStrv) names = NULL;
  char *chosen;
  char **group;

  chosen = g_key_file_get_string (file->keys, DEFAULTS_GROUP, "account", NULL);
  if (chosen != NULL)
    {
      if (strcmp (chosen, DEFAULTS_GROUP) != 0 && g_key_file_has_group (file->keys, chosen))
        return chosen;
      reject_in_file (file, DEFAULTS_GROUP, "account", error,
                      "account: there is no account [%s] in this file", chosen);
      g_free (chosen);
      return NULL;
    }
  for (group = groups; *group != NULL; group++)
    {
      if (strcmp (*group, DEFAULTS_GROUP) != 0)
        g_strv_builder_add (accounts, *group);
    }
  names = g_strv_builder_end (accounts);
  if (g_strv_length (names) <= 1)
    return g_strdup (names[0]);
  chosen = g_strjoinv (", ", names);
  g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG,
               "%s: %u accounts (%s) and no [defaults] account=NAME: "
               "name the default there, or pick one with --account",
               file->path, g_strv_length (names), chosen);
  g_free (chosen);
  return NULL;
}

static SendAccount *
account_from_file (const AccountsFile *file,
                   const char         *name,
                   GError            **error)
{
  g_autoptr (SendAccount) account = account_new ();

  account->name = g_strdup (name);
  account->origin = origin_of (file, name ? name : DEFAULTS_GROUP, NULL);
  if (!apply_group (account, file, DEFAULTS_GROUP, error))
    return NULL;
  if (name != NULL && !apply_group (account, file, name, error))
    return NULL;
  return g_steal_pointer (&account);
}

/* GKeyFile quotes the line it cannot parse ("Key file contains line “…”
 * which is not ...") but gives no number: find the line it quotes. 0 when
 * the message quotes none (or is translated otherwise). */
static guint
parse_error_line (const char *text,
                  const char *message)
{
  const char *open = strstr (message, "“");
  const char *close = open != NULL ? strstr (open, "”") : NULL;
  g_autofree char *quoted = NULL;
  g_auto (GStrv) lines = NULL;
  guint i;

  if (close == NULL)
    return 0;
  quoted = g_strndup (open + strlen ("“"), close - open - strlen ("“"));
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      gsize length = strlen (lines[i]);

      if (length > 0 && lines[i][length - 1] == '\r')
        lines[i][length - 1] = '\0';
      if (strcmp (lines[i], quoted) == 0)
        return i + 1;
    }
  return 0;
}

static AccountsFile *
accounts_file_read (const char *path,
                    GError    **error)
{
  g_autoptr (AccountsFile) file = g_new0 (AccountsFile, 1);
  g_autoptr (GError) local_error = NULL;

  file->path = g_strdup (path);
  file->keys = g_key_file_new ();
  if (!g_file_get_contents (path, &file->text, NULL, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!g_key_file_load_from_data (file->keys, file->text, -1, G_KEY_FILE_NONE, &local_error))
    {
      guint line = parse_error_line (file->text, local_error->message);

      if (line != 0)
        g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG,
                     "%s:%u: %s", path, line, local_error->message);
      else
        g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG,
                     "%s: %s", path, local_error->message);
      return NULL;
    }
  if (!check_key_names (file, error))
    return NULL;
  return g_steal_pointer (&file);
}

SendAccount *
send_account_load (const char *path,
                   const char *name,
                   GError    **error)
{
  g_autofree char *default_path = NULL;
  g_autoptr (AccountsFile) file = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *chosen = NULL;

  if (path == NULL)
    path = default_path = g_build_filename (g_get_user_config_dir (), "smtpkit", "accounts.conf", NULL);
  file = accounts_file_read (path, &local_error);
  if (file == NULL && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
      default_path != NULL && name == NULL)
    return account_new ();
  if (file == NULL && local_error->domain == G_FILE_ERROR)
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG,
                   "cannot read the accounts file: %s", local_error->message);
      return NULL;
    }
  if (file == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (name != NULL && (strcmp (name, DEFAULTS_GROUP) == 0 || !g_key_file_has_group (file->keys, name)))
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE,
                   "no account [%s] in %s", name, path);
      return NULL;
    }
  chosen = name != NULL ? g_strdup (name) : default_account_name (file, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return account_from_file (file, chosen, error);
}
