/* send-stub.c: TEMPORARY stand-in for send-queue.c until the send-config
 * branch has it. Removed then. */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "send-config.h"

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
