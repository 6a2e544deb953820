/* send-queue.c: smtpkit-send's queue of messages to try again
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * THE QUEUE DIRECTORY (for smtpkit-send(1))
 *
 *   DIR/                        0700, created when missing
 *   DIR/NAME/message            the message as it goes on the wire (0600)
 *   DIR/NAME/envelope           sender, recipients, MAIL and RCPT options,
 *                               account and the last error ([envelope] in
 *                               GKeyFile syntax, 0600)
 *   DIR/dead.letter/NAME/       a message that failed for good: message,
 *                               envelope and "reason", why it failed
 *   DIR/tmp/                    entries being written or removed
 *   DIR/.lock                   held (flock) by the flush in progress
 *
 * NAME is the time of queueing in microseconds, the process id and a
 * counter, each zero-padded: names sort oldest first and never collide.
 * An entry is a directory so that it appears in DIR, complete, with one
 * rename(2) from tmp/ after its files and tmp/ itself are fsync()ed, as
 * Maildir does; a crash leaves it whole or absent. Removal is the same
 * rename the other way, so a delivered message is out of the queue before
 * its files go. Anything in DIR without an entry's name is left alone.
 */

#include "config.h"

#include "send-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define ENVELOPE_GROUP "envelope"
#define DEAD_LETTER "dead.letter"

void
send_queue_entry_free (SendQueueEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->sender);
  g_strfreev (entry->recipients);
  g_strfreev (entry->mail_options);
  g_strfreev (entry->rcpt_options);
  g_free (entry->account);
  g_free (entry->reason);
  g_clear_pointer (&entry->message, g_bytes_unref);
  g_free (entry);
}

static gboolean
queue_errno (GError    **error,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

/* Sets a queue error "WHAT: strerror (errno)" from the errno of the
 * failed call. */
static gboolean
queue_errno (GError    **error,
             const char *format,
             ...)
{
  int saved_errno = errno;
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE, "%s: %s", what,
               g_strerror (saved_errno));
  return FALSE;
}

/* ---- names ------------------------------------------------------------- */

#define NAME_LENGTH (20 + 1 + 10 + 1 + 6)

static char *
entry_name (void)
{
  static gint counter;
  guint n = (guint) g_atomic_int_add (&counter, 1) % 1000000;

  return g_strdup_printf ("%020" G_GINT64_FORMAT ".%010d.%06u", g_get_real_time (), (int) getpid (), n);
}

static gboolean
is_entry_name (const char *name)
{
  guint i;

  if (strlen (name) != NAME_LENGTH)
    return FALSE;
  for (i = 0; i < NAME_LENGTH; i++)
    {
      gboolean dot = i == 20 || i == 31;

      if (dot ? name[i] != '.' : !g_ascii_isdigit (name[i]))
        return FALSE;
    }
  return TRUE;
}

/* ---- files that survive a crash ---------------------------------------- */

static gboolean
make_dir (const char *path,
          GError    **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    return queue_errno (error, "cannot create the queue directory %s", path);
  return TRUE;
}

static gboolean
sync_dir (const char *path,
          GError    **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return queue_errno (error, "cannot open %s", path);
  ok = fsync (fd) == 0 || queue_errno (error, "cannot sync %s", path);
  close (fd);
  return ok;
}

static gboolean
write_synced (const char *path,
              const void *data,
              gsize       size,
              GError    **error)
{
  const char *bytes = data;
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return queue_errno (error, "cannot create %s", path);
  while (size > 0)
    {
      gssize n = write (fd, bytes, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      bytes += n;
      size -= n;
    }
  if (size > 0 || fsync (fd) != 0)
    {
      queue_errno (error, "cannot write %s", path);
      close (fd);
      return FALSE;
    }
  if (close (fd) != 0)
    return queue_errno (error, "cannot write %s", path);
  return TRUE;
}

/* Replaces @dir/@name whole: the old file or the new, never half. */
static gboolean
replace_file (const char *dir,
              const char *name,
              const char *text,
              GError    **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);

  if (!write_synced (tmp, text, strlen (text), error))
    return FALSE;
  if (g_rename (tmp, path) != 0)
    return queue_errno (error, "cannot rename %s to %s", tmp, path);
  return sync_dir (dir, error);
}

static gboolean
move_synced (const char *from,
             const char *to,
             GError    **error)
{
  g_autofree char *from_dir = g_path_get_dirname (from);
  g_autofree char *to_dir = g_path_get_dirname (to);

  if (g_rename (from, to) != 0)
    return queue_errno (error, "cannot move %s to %s", from, to);
  return sync_dir (to_dir, error) && sync_dir (from_dir, error);
}

/* Best effort: what is left of an entry out of the queue is harmless. */
static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_unlink (file);
    }
  g_rmdir (path);
}

/* ---- entries ----------------------------------------------------------- */

static void
set_list (GKeyFile          *keys,
          const char        *key,
          const char *const *list)
{
  if (list != NULL && list[0] != NULL)
    g_key_file_set_string_list (keys, ENVELOPE_GROUP, key, list, g_strv_length ((char **) list));
}

static char *
envelope_text (const SendQueueEntry *entry)
{
  g_autoptr (GKeyFile) keys = g_key_file_new ();

  g_key_file_set_string (keys, ENVELOPE_GROUP, "sender", entry->sender ? entry->sender : "");
  set_list (keys, "recipients", (const char *const *) entry->recipients);
  set_list (keys, "mail-options", (const char *const *) entry->mail_options);
  set_list (keys, "rcpt-options", (const char *const *) entry->rcpt_options);
  if (entry->account != NULL)
    g_key_file_set_string (keys, ENVELOPE_GROUP, "account", entry->account);
  if (entry->reason != NULL)
    g_key_file_set_string (keys, ENVELOPE_GROUP, "reason", entry->reason);
  return g_key_file_to_data (keys, NULL, NULL);
}

/* Writes @entry's files into the new directory @path, and @reason when
 * it is buried. */
static gboolean
write_entry (const char           *path,
             const SendQueueEntry *entry,
             const char           *reason,
             GError              **error)
{
  g_autofree char *message = g_build_filename (path, "message", NULL);
  g_autofree char *envelope = envelope_text (entry);
  gsize size;
  const void *data = g_bytes_get_data (entry->message, &size);

  if (g_mkdir (path, 0700) != 0)
    return queue_errno (error, "cannot create %s", path);
  if (!write_synced (message, data, size, error) ||
      !replace_file (path, "envelope", envelope, error))
    return FALSE;
  if (reason != NULL && !replace_file (path, "reason", reason, error))
    return FALSE;
  return TRUE;
}

/* Writes @entry in DIR/tmp/ and moves it, complete, to @parent. */
static char *
store_entry (const char           *dir,
             const char           *parent,
             const SendQueueEntry *entry,
             const char           *reason,
             GError              **error)
{
  g_autofree char *name = entry_name ();
  g_autofree char *tmp_dir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *tmp = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *path = g_build_filename (parent, name, NULL);

  if (!make_dir (parent, error) || !make_dir (tmp_dir, error))
    return NULL;
  if (!write_entry (tmp, entry, reason, error) || !move_synced (tmp, path, error))
    {
      remove_tree (tmp);
      return NULL;
    }
  return g_build_filename (path, "message", NULL);
}

char *
send_queue_store (const char           *dir,
                  const SendQueueEntry *entry,
                  GError              **error)
{
  g_return_val_if_fail (dir != NULL && entry != NULL && entry->message != NULL, NULL);

  return store_entry (dir, dir, entry, NULL, error);
}

static char *
with_newline (const char *reason)
{
  return g_str_has_suffix (reason, "\n") ? g_strdup (reason) : g_strconcat (reason, "\n", NULL);
}

/* @entry_dir gets its reason, then moves to DIR/dead.letter/ whole. */
static gboolean
bury_entry_dir (const char *dir,
                const char *entry_dir,
                const char *reason,
                GError    **error)
{
  g_autofree char *dead = g_build_filename (dir, DEAD_LETTER, NULL);
  g_autofree char *name = g_path_get_basename (entry_dir);
  g_autofree char *to = g_build_filename (dead, name, NULL);
  g_autofree char *text = with_newline (reason);

  return make_dir (dead, error) && replace_file (entry_dir, "reason", text, error) &&
         move_synced (entry_dir, to, error);
}

gboolean
send_queue_bury (const char           *dir,
                 const char           *path,
                 const SendQueueEntry *entry,
                 const char           *reason,
                 GError              **error)
{
  g_autofree char *dead = NULL;
  g_autofree char *text = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *entry_dir = NULL;

  g_return_val_if_fail (dir != NULL && reason != NULL, FALSE);
  g_return_val_if_fail (path != NULL || (entry != NULL && entry->message != NULL), FALSE);

  if (path != NULL)
    {
      entry_dir = g_path_get_dirname (path);
      return bury_entry_dir (dir, entry_dir, reason, error);
    }
  dead = g_build_filename (dir, DEAD_LETTER, NULL);
  text = with_newline (reason);
  stored = store_entry (dir, dead, entry, text, error);
  return stored != NULL;
}

static GStrv
get_list (GKeyFile   *keys,
          const char *key)
{
  return g_key_file_get_string_list (keys, ENVELOPE_GROUP, key, NULL, NULL);
}

static SendQueueEntry *
read_entry (const char *entry_dir,
            GError    **error)
{
  g_autofree char *envelope = g_build_filename (entry_dir, "envelope", NULL);
  g_autofree char *message = g_build_filename (entry_dir, "message", NULL);
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_autoptr (SendQueueEntry) entry = g_new0 (SendQueueEntry, 1);
  char *data;
  gsize size;

  if (!g_key_file_load_from_file (keys, envelope, G_KEY_FILE_NONE, error))
    return NULL;
  entry->sender = g_key_file_get_string (keys, ENVELOPE_GROUP, "sender", error);
  if (entry->sender == NULL)
    return NULL;
  entry->recipients = g_key_file_get_string_list (keys, ENVELOPE_GROUP, "recipients", NULL, error);
  if (entry->recipients == NULL || entry->recipients[0] == NULL)
    {
      g_clear_error (error);
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE, "%s has no recipients", envelope);
      return NULL;
    }
  entry->mail_options = get_list (keys, "mail-options");
  entry->rcpt_options = get_list (keys, "rcpt-options");
  entry->account = g_key_file_get_string (keys, ENVELOPE_GROUP, "account", NULL);
  entry->reason = g_key_file_get_string (keys, ENVELOPE_GROUP, "reason", NULL);
  if (!g_file_get_contents (message, &data, &size, error))
    return NULL;
  entry->message = g_bytes_new_take (data, size);
  return g_steal_pointer (&entry);
}

/* ---- flushing ---------------------------------------------------------- */

/* The lock is not waited for: a second flush would only find the first
 * one's leftovers, and cron or a user at a terminal is better told. */
static int
take_lock (const char *dir,
           GError    **error)
{
  g_autofree char *path = g_build_filename (dir, ".lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      queue_errno (error, "cannot open the queue's lock %s", path);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    return fd;
  if (errno == EWOULDBLOCK)
    g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE,
                 "the queue %s is being flushed by another smtpkit-send (%s is locked); "
                 "try again when it is done", dir, path);
  else
    queue_errno (error, "cannot lock %s", path);
  close (fd);
  return -1;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The entries' names, oldest first. Only directories are entries: a
 * stray file is not ours to move. */
static GPtrArray *
list_entries (const char *dir,
              GError    **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) listing = g_dir_open (dir, 0, &local_error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (listing == NULL)
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE,
                   "cannot read the queue: %s", local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (is_entry_name (name) && g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

/* Out of the queue at once (one rename), then gone. */
static gboolean
remove_entry (const char *dir,
              const char *entry_dir,
              GError    **error)
{
  g_autofree char *name = g_path_get_basename (entry_dir);
  g_autofree char *tmp = g_build_filename (dir, "tmp", name, NULL);
  g_autoptr (GError) local_error = NULL;

  if (!move_synced (entry_dir, tmp, &local_error))
    {
      g_set_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE,
                   "%s was delivered but cannot leave the queue (%s): remove it, "
                   "or it will be sent again", entry_dir, local_error->message);
      return FALSE;
    }
  remove_tree (tmp);
  return TRUE;
}

/* A temporary failure keeps the entry with its new reason. Failing to
 * record the reason loses nothing, so it does not stop the flush. */
static void
update_reason (const char     *entry_dir,
               SendQueueEntry *entry,
               char           *reason)
{
  g_autofree char *envelope = NULL;

  if (reason == NULL)
    return;
  g_free (entry->reason);
  entry->reason = g_strdup (reason);
  envelope = envelope_text (entry);
  replace_file (entry_dir, "envelope", envelope, NULL);
}

typedef struct
{
  SendQueueDeliverFunc deliver;
  gpointer user_data;
  guint delivered;
  guint kept;
  guint buried;
} Flush;

static gboolean
count (guint   *counter,
       gboolean done)
{
  if (done)
    (*counter)++;
  return done;
}

static gboolean
flush_entry (Flush      *flush,
             const char *dir,
             const char *name,
             GError    **error)
{
  g_autofree char *entry_dir = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SendQueueEntry) entry = read_entry (entry_dir, &local_error);
  g_autofree char *reason = NULL;
  int outcome;

  if (entry == NULL)
    {
      reason = g_strdup_printf ("unreadable: %s", local_error->message);
      return count (&flush->buried, bury_entry_dir (dir, entry_dir, reason, error));
    }
  outcome = flush->deliver (entry, &reason, flush->user_data);
  if (outcome == 0)
    return count (&flush->delivered, remove_entry (dir, entry_dir, error));
  if (outcome > 0)
    {
      update_reason (entry_dir, entry, reason);
      return count (&flush->kept, TRUE);
    }
  return count (&flush->buried,
                bury_entry_dir (dir, entry_dir, reason ? reason : "failed permanently", error));
}

static void
report (const Flush *flush,
        guint       *n_delivered,
        guint       *n_kept,
        guint       *n_buried)
{
  if (n_delivered != NULL)
    *n_delivered = flush->delivered;
  if (n_kept != NULL)
    *n_kept = flush->kept;
  if (n_buried != NULL)
    *n_buried = flush->buried;
}

gboolean
send_queue_flush (const char          *dir,
                  SendQueueDeliverFunc deliver,
                  gpointer             user_data,
                  guint               *n_delivered,
                  guint               *n_kept,
                  guint               *n_buried,
                  GError             **error)
{
  Flush flush = { deliver, user_data, 0, 0, 0 };
  g_autoptr (GPtrArray) names = NULL;
  gboolean ok = TRUE;
  guint i;
  int lock;

  g_return_val_if_fail (dir != NULL && deliver != NULL, FALSE);

  report (&flush, n_delivered, n_kept, n_buried);
  /* Nothing was ever queued there. */
  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    return TRUE;
  lock = take_lock (dir, error);
  if (lock < 0)
    return FALSE;
  names = list_entries (dir, error);
  for (i = 0; names != NULL && ok && i < names->len; i++)
    ok = flush_entry (&flush, dir, g_ptr_array_index (names, i), error);
  close (lock);
  report (&flush, n_delivered, n_kept, n_buried);
  return names != NULL && ok;
}
