/* send-stub.c: TEMPORARY stand-in for send-config.c, send-password.c and
 * send-queue.c until the send-config branch is merged. Removed then. */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "send-config.h"

G_DEFINE_QUARK (send-config-error-quark, send_config_error)

void
send_account_free (SendAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->origin);
  g_free (a->server);
  g_free (a->host);
  g_free (a->socket_path);
  g_free (a->ca_file);
  g_free (a->user);
  g_free (a->password_command);
  g_free (a->password_file);
  g_free (a->from);
  g_strfreev (a->auth);
  g_free (a->queue);
  g_free (a->local_hostname);
  g_free (a);
}

SendAccount *
send_account_load (const char *path, const char *name, GError **error)
{
  SendAccount *a = g_new0 (SendAccount, 1);

  a->timeout = -1;
  a->tls_mode = (SmtpkitTlsMode) -1;
  a->name = g_strdup (name);
  if (path != NULL && !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG, "%s: no such file", path);
      send_account_free (a);
      return NULL;
    }
  return a;
}

gboolean
send_account_set (SendAccount *a, const char *key, const char *value, GError **error)
{
  char **field = NULL;

  if (g_str_equal (key, "server"))
    field = &a->server;
  else if (g_str_equal (key, "user"))
    field = &a->user;
  else if (g_str_equal (key, "password-file"))
    field = &a->password_file;
  else if (g_str_equal (key, "ca-file"))
    field = &a->ca_file;
  else if (g_str_equal (key, "from"))
    field = &a->from;
  else if (g_str_equal (key, "queue"))
    field = &a->queue;
  else if (g_str_equal (key, "helo"))
    field = &a->local_hostname;
  else if (g_str_equal (key, "timeout"))
    a->timeout = g_ascii_strtod (value, NULL);
  else if (g_str_equal (key, "auth"))
    {
      g_strfreev (a->auth);
      a->auth = g_strsplit (value, ",", -1);
    }
  else if (g_str_equal (key, "tls"))
    {
      GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_TLS_MODE);
      GEnumValue *v = g_enum_get_value_by_nick (klass, value);

      g_type_class_unref (klass);
      if (v == NULL)
        {
          g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE, "--tls %s: bad mode",
                       value);
          return FALSE;
        }
      a->tls_mode = v->value;
    }
  if (field)
    {
      g_free (*field);
      *field = g_strdup (value);
    }
  return TRUE;
}

gboolean
send_account_finish (SendAccount *a, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  const char *scheme;

  if (a->server == NULL)
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG, "no server");
      return FALSE;
    }
  uri = g_uri_parse (a->server, G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    {
      (*error)->domain = SEND_CONFIG_ERROR;
      (*error)->code = SEND_CONFIG_ERROR_USAGE;
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  a->lmtp = g_str_equal (scheme, "lmtp");
  if (g_uri_get_host (uri) && *g_uri_get_host (uri))
    a->host = g_strdup (g_uri_get_host (uri));
  else
    a->socket_path = g_strdup (g_uri_get_path (uri));
  a->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 0;
  if (a->lmtp && a->port == 0 && a->host)
    a->port = 24;
  if ((int) a->tls_mode == -1)
    a->tls_mode = g_str_equal (scheme, "smtps") ? SMTPKIT_TLS_MODE_IMPLICIT
                                                : SMTPKIT_TLS_MODE_NONE;
  return TRUE;
}

char *
send_account_get_password (const SendAccount *a, GError **error)
{
  char *text = NULL;

  if (a->password_file == NULL)
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_PASSWORD, "no password");
      return NULL;
    }
  if (!g_file_get_contents (a->password_file, &text, NULL, error))
    return NULL;
  text[strcspn (text, "\r\n")] = '\0';
  return text;
}

void
send_password_free (char *password)
{
  g_free (password);
}

gboolean
send_password_store (const SendAccount *a, const char *password, GError **error)
{
  g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_PASSWORD, "stub");
  return FALSE;
}

void
send_queue_entry_free (SendQueueEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->sender);
  g_strfreev (e->recipients);
  g_strfreev (e->mail_options);
  g_strfreev (e->rcpt_options);
  g_free (e->account);
  g_free (e->reason);
  g_clear_pointer (&e->message, g_bytes_unref);
  g_free (e);
}

static char *
write_entry (const char *dir, const SendQueueEntry *e, const char *reason, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT "-%u", g_get_real_time (),
                                           g_random_int ());
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *eml = g_strconcat (path, ".eml", NULL);
  g_autofree char *env = g_strconcat (path, ".env", NULL);

  g_mkdir_with_parents (dir, 0700);
  g_key_file_set_string (kf, "e", "sender", e->sender);
  g_key_file_set_string_list (kf, "e", "recipients", (const char *const *) e->recipients,
                              g_strv_length (e->recipients));
  if (e->mail_options)
    g_key_file_set_string_list (kf, "e", "mail", (const char *const *) e->mail_options,
                                g_strv_length (e->mail_options));
  if (e->rcpt_options)
    g_key_file_set_string_list (kf, "e", "rcpt", (const char *const *) e->rcpt_options,
                                g_strv_length (e->rcpt_options));
  if (e->account)
    g_key_file_set_string (kf, "e", "account", e->account);
  if (reason)
    g_key_file_set_string (kf, "e", "reason", reason);
  if (!g_file_set_contents (eml, g_bytes_get_data (e->message, NULL),
                            g_bytes_get_size (e->message), error) ||
      !g_key_file_save_to_file (kf, env, error))
    return NULL;
  return g_steal_pointer (&eml);
}

char *
send_queue_store (const char *dir, const SendQueueEntry *entry, GError **error)
{
  return write_entry (dir, entry, entry->reason, error);
}

gboolean
send_queue_bury (const char *dir, const char *path, const SendQueueEntry *entry,
                 const char *reason, GError **error)
{
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_autofree char *stored = write_entry (dead, entry, reason, error);

  return stored != NULL;
}

gboolean
send_queue_flush (const char *dir, SendQueueDeliverFunc deliver, gpointer user_data,
                  guint *n_delivered, guint *n_kept, guint *n_buried, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  const char *name;

  *n_delivered = *n_kept = *n_buried = 0;
  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *env = NULL, *eml = NULL, *data = NULL, *reason = NULL;
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      SendQueueEntry e = { 0 };
      gsize len;
      int r;

      if (!g_str_has_suffix (name, ".env"))
        continue;
      env = g_build_filename (dir, name, NULL);
      eml = g_strndup (env, strlen (env) - 4);
      eml = g_strconcat (eml, ".eml", NULL);
      if (!g_key_file_load_from_file (kf, env, 0, NULL) ||
          !g_file_get_contents (eml, &data, &len, NULL))
        continue;
      e.sender = g_key_file_get_string (kf, "e", "sender", NULL);
      e.recipients = g_key_file_get_string_list (kf, "e", "recipients", NULL, NULL);
      e.mail_options = g_key_file_get_string_list (kf, "e", "mail", NULL, NULL);
      e.rcpt_options = g_key_file_get_string_list (kf, "e", "rcpt", NULL, NULL);
      e.account = g_key_file_get_string (kf, "e", "account", NULL);
      e.message = g_bytes_new_take (g_steal_pointer (&data), len);
      r = deliver (&e, &reason, user_data);
      if (r <= 0)
        {
          if (r < 0)
            send_queue_bury (dir, eml, &e, reason, NULL);
          g_unlink (env);
          g_unlink (eml);
        }
      if (r == 0)
        (*n_delivered)++;
      else if (r > 0)
        (*n_kept)++;
      else
        (*n_buried)++;
      g_free (e.sender);
      g_strfreev (e.recipients);
      g_strfreev (e.mail_options);
      g_strfreev (e.rcpt_options);
      g_free (e.account);
      g_bytes_unref (e.message);
    }
  return TRUE;
}
