/* interop-server.c: the life of a private server, its mailboxes and logs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server-private.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

/* Both servers deliver as this user, into folders of the private folder. */
#define MAIL_USER "nobody"

#define POLL_INTERVAL_US (50 * 1000)

/* ---- the private folder ------------------------------------------------- */

/* Sets @error from errno, after a failed @what on @path. */
static gboolean
errno_error (GError     **error,
             const char  *what,
             const char  *path)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

char *
interop_server_path (InteropServer *server,
                     const char    *relative_path)
{
  return g_build_filename (server->dir, relative_path, NULL);
}

/* In the child, before exec: a session and process group of its own, so
 * that the whole server stops with one kill(), and is not in the process
 * group meson kills at a timeout (the watchdog must outlive the test). */
static void
detach (gpointer user_data)
{
  setsid ();
}

/* The one way a server stops: a shell, started with the private folder,
 * that reads the process group of the server's master once it runs, waits
 * for the end of its standard input, whose other end only this process
 * holds, then stops that group (SIGTERM: Postfix's and Dovecot's masters
 * stop their children; SIGKILL to what still runs after 20 seconds; the
 * zombies left to init do not count) and removes the folder (unless $1 is
 * empty). interop_server_stop() closes the pipe; when the test dies
 * instead, however it dies (a failed assertion aborts, a timeout kills),
 * the kernel closes it, and the server stops all the same.
 * PR_SET_PDEATHSIG cannot do this: Postfix's master changes its effective
 * user ID, which clears it. */
static const char watchdog_script[] =
  "running () {\n"
  "  cat /proc/[0-9]*/stat 2>/dev/null | awk -v g=\"$group\" '$5 == g && $3 != \"Z\"' | grep -q .\n"
  "}\n"
  "read -r group\n"
  "cat >/dev/null\n"
  "if [ -n \"$group\" ]; then\n"
  "  kill -TERM \"-$group\" 2>/dev/null\n"
  "  for i in $(seq 200); do running || break; sleep 0.1; done\n"
  "  kill -KILL \"-$group\" 2>/dev/null\n"
  "fi\n"
  "[ -z \"$1\" ] || rm -rf -- \"$1\"\n";

static gboolean
start_watchdog (InteropServer  *server,
                GError        **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  /* INTEROP_KEEP: leave the folder, to look at after the test. */
  const char *dir = g_getenv ("INTEROP_KEEP") != NULL ? "" : server->dir;
  const char *argv[] = { "/bin/sh", "-c", watchdog_script, "interop-watchdog", dir, NULL };

  g_subprocess_launcher_set_child_setup (launcher, detach, NULL, NULL);
  server->watchdog = g_subprocess_launcher_spawnv (launcher, argv, error);
  return server->watchdog != NULL;
}

InteropServer *
interop_server_new (const char  *name,
                    GError     **error)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autofree char *template = g_strdup_printf ("smtpkit-%s-XXXXXX", lower);
  InteropServer *server;
  char *dir;

  dir = g_dir_make_tmp (template, error);
  if (dir == NULL)
    return NULL;
  if (g_chmod (dir, 0755) != 0)
    {
      errno_error (error, "chmod 755", dir);
      g_rmdir (dir);
      g_free (dir);
      return NULL;
    }
  server = g_new0 (InteropServer, 1);
  server->name = name;
  server->dir = dir;
  if (!start_watchdog (server, error))
    {
      g_rmdir (dir);
      g_free (dir);
      g_free (server);
      return NULL;
    }
  return server;
}

static gboolean
lookup_user (const char  *user,
             uid_t       *uid,
             gid_t       *gid,
             GError     **error)
{
  struct passwd *pw = getpwnam (user);

  if (pw == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "there is no user '%s' on this machine (the packages' install creates it)",
                   user);
      return FALSE;
    }
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return TRUE;
}

gboolean
interop_server_chown (InteropServer  *server,
                      const char     *relative_path,
                      const char     *owner,
                      GError        **error)
{
  g_autofree char *path = interop_server_path (server, relative_path);
  uid_t uid = 0;
  gid_t gid = 0;

  if (owner != NULL && !lookup_user (owner, &uid, &gid, error))
    return FALSE;
  if (chown (path, uid, gid) != 0)
    {
      g_autofree char *what = g_strdup_printf ("chown %s", owner != NULL ? owner : "root");

      return errno_error (error, what, path);
    }
  return TRUE;
}

gboolean
interop_server_make_dir (InteropServer  *server,
                         const char     *relative_path,
                         const char     *owner,
                         GError        **error)
{
  g_autofree char *path = interop_server_path (server, relative_path);

  if (g_mkdir_with_parents (path, 0755) != 0)
    return errno_error (error, "mkdir", path);
  return interop_server_chown (server, relative_path, owner, error);
}

static char *
find_program (const char *name)
{
  static const char *const dirs[] = { "/usr/sbin", "/sbin" };
  char *path = g_find_program_in_path (name);

  /* A user's PATH may not have the sbin folders. */
  for (guint i = 0; path == NULL && !g_path_is_absolute (name) && i < G_N_ELEMENTS (dirs); i++)
    {
      path = g_build_filename (dirs[i], name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        g_clear_pointer (&path, g_free);
    }
  return path;
}

gboolean
interop_server_check_requirements (InteropServer      *server,
                                   const char *const  *programs,
                                   char              **paths,
                                   GError            **error)
{
  if (geteuid () != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s must be started as root (it switches to its own users), and this "
                   "test runs as uid %u",
                   server->name, (guint) geteuid ());
      return FALSE;
    }
  for (guint i = 0; programs[i] != NULL; i++)
    {
      paths[i] = find_program (programs[i]);
      if (paths[i] == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "%s is not installed: no program '%s' (build-aux/quickstart.sh installs "
                       "the Debian packages postfix, dovecot-core and dovecot-lmtpd)",
                       server->name, programs[i]);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
interop_server_install_template (InteropServer  *server,
                                 const char     *template_name,
                                 const char     *relative_path,
                                 GError        **error,
                                 ...)
{
  g_autofree char *source = g_test_build_filename (G_TEST_DIST, "interop", "conf",
                                                   template_name, NULL);
  g_autofree char *dest = interop_server_path (server, relative_path);
  g_autofree char *text = NULL;
  g_autofree char *uid_text = NULL;
  g_autofree char *gid_text = NULL;
  g_autoptr (GString) out = NULL;
  const char *name;
  struct utimbuf times;
  uid_t uid;
  gid_t gid;
  va_list args;

  if (!lookup_user (MAIL_USER, &uid, &gid, error) ||
      !g_file_get_contents (source, &text, NULL, error))
    return FALSE;
  uid_text = g_strdup_printf ("%u", (guint) uid);
  gid_text = g_strdup_printf ("%u", (guint) gid);

  out = g_string_new (text);
  g_string_replace (out, "@DIR@", server->dir, 0);
  g_string_replace (out, "@DOMAIN@", INTEROP_DOMAIN, 0);
  g_string_replace (out, "@MAIL_UID@", uid_text, 0);
  g_string_replace (out, "@MAIL_GID@", gid_text, 0);
  va_start (args, error);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      g_autofree char *key = g_strdup_printf ("@%s@", name);

      g_string_replace (out, key, va_arg (args, const char *), 0);
    }
  va_end (args);
  if (!g_file_set_contents_full (dest, out->str, out->len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 error))
    return FALSE;
  /* Postfix waits until a table or main.cf is more than a second old
   * (one being written may be incomplete), 300 ms at a time: make them
   * old at once. */
  times.actime = times.modtime = time (NULL) - 60;
  if (g_utime (dest, &times) != 0)
    return errno_error (error, "utime", dest);
  return TRUE;
}

/* ---- processes ----------------------------------------------------------- */

gboolean
interop_run (const char *const  *argv,
             const char         *input,
             GError            **error)
{
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *output = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE |
                           (input != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0);

  process = g_subprocess_newv (argv, flags, error);
  if (process == NULL ||
      !g_subprocess_communicate_utf8 (process, input, NULL, &output, NULL, error))
    return FALSE;
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_autofree char *command = g_strjoinv (" ", (char **) argv);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "'%s' failed (wait status %d): %s",
                   command, g_subprocess_get_status (process), output);
      return FALSE;
    }
  return TRUE;
}

gboolean
interop_server_spawn (InteropServer      *server,
                      const char *const  *argv,
                      const char         *output_name,
                      GError            **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *output = interop_server_path (server, output_name);
  g_autofree char *line = NULL;

  /* Never the test's own standard output: that is the TAP stream. */
  g_subprocess_launcher_set_stdout_file_path (launcher, output);
  server->output_path = g_strdup (output);
  g_subprocess_launcher_set_child_setup (launcher, detach, NULL, NULL);
  g_subprocess_launcher_set_cwd (launcher, server->dir);
  server->process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (server->process == NULL)
    return FALSE;
  /* The master leads its process group: the watchdog's to stop. */
  line = g_strdup_printf ("%s\n", g_subprocess_get_identifier (server->process));
  if (!g_output_stream_write_all (g_subprocess_get_stdin_pipe (server->watchdog), line,
                                  strlen (line), NULL, NULL, error) ||
      !g_output_stream_flush (g_subprocess_get_stdin_pipe (server->watchdog), NULL, error))
    {
      /* Nothing would stop it: stop it now, before it starts anything. */
      g_subprocess_force_exit (server->process);
      return FALSE;
    }
  return TRUE;
}

static gboolean
exited (GSubprocess *process)
{
  /* GLib reaps the child in its worker thread; the identifier goes then. */
  return g_subprocess_get_identifier (process) == NULL;
}

static char *
log_tail (InteropServer *server)
{
  g_autofree char *log = interop_server_get_log (server);
  gsize len = strlen (log);
  const gsize max = 4000;

  return g_strdup (len > max ? log + len - max : log);
}

gboolean
interop_server_wait_ready (InteropServer     *server,
                           InteropReadyFunc   ready,
                           GError           **error)
{
  gint64 deadline = g_get_monotonic_time () + INTEROP_WAIT_SECONDS * G_USEC_PER_SEC;

  while (!ready (server))
    {
      if (exited (server->process))
        {
          g_autofree char *tail = log_tail (server);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s exited as it started (wait status %d); its log:\n%s", server->name,
                       g_subprocess_get_status (server->process), tail);
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *tail = log_tail (server);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%s was not ready after %d seconds; its log:\n%s", server->name,
                       INTEROP_WAIT_SECONDS, tail);
          return FALSE;
        }
      g_usleep (POLL_INTERVAL_US);
    }
  return TRUE;
}

/* Waits for @process to exit, at most @seconds. */
static gboolean
wait_exited (GSubprocess *process,
             guint        seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!exited (process))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (POLL_INTERVAL_US);
    }
  return TRUE;
}

guint16
interop_free_port (GError **error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL || !g_socket_bind (socket, any, FALSE, error))
    return 0;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
interop_server_stop (InteropServer *server)
{
  if (server == NULL)
    return;

  if (g_test_failed ())
    {
      g_autofree char *tail = log_tail (server);

      g_test_message ("%s's log (%s):\n%s", server->name, server->log_path, tail);
    }
  if (g_getenv ("INTEROP_KEEP") != NULL)
    g_test_message ("%s's folder kept (INTEROP_KEEP is set): %s", server->name, server->dir);

  g_output_stream_close (g_subprocess_get_stdin_pipe (server->watchdog), NULL, NULL);
  if (!wait_exited (server->watchdog, 60))
    g_test_message ("%s's watchdog has not stopped it within 60 seconds", server->name);

  g_clear_object (&server->process);
  g_clear_object (&server->watchdog);
  g_free (server->dir);
  g_free (server->log_path);
  g_free (server->output_path);
  g_free (server->ca_file);
  g_free (server->socket_path);
  g_free (server);
}

void
interop_server_unavailable (const char   *name,
                            const GError *error)
{
  const char *ci = g_getenv ("CI");

  if (ci != NULL && *ci != '\0' && g_strcmp0 (ci, "false") != 0 && g_strcmp0 (ci, "0") != 0)
    g_test_fail_printf ("%s cannot run, and CI must run this test: %s", name, error->message);
  else
    g_test_skip_printf ("%s cannot run here: %s", name, error->message);
}

/* ---- logs and mailboxes ---------------------------------------------------- */

char *
interop_server_get_log (InteropServer *server)
{
  g_autofree char *log = NULL;
  g_autofree char *output = NULL;

  if (server->log_path != NULL)
    g_file_get_contents (server->log_path, &log, NULL, NULL);
  /* What the master said before its log was open (a configuration error). */
  if (server->output_path != NULL)
    g_file_get_contents (server->output_path, &output, NULL, NULL);
  if (output != NULL && *output != '\0')
    return g_strdup_printf ("%s\n[%s's output]\n%s", log != NULL ? log : "", server->name, output);
  return g_strdup (log != NULL ? log : "(no log)");
}

static char *
find_log_line (InteropServer      *server,
               const char *const  *needles)
{
  g_autofree char *log = interop_server_get_log (server);
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;

      for (guint j = 0; all && needles[j] != NULL; j++)
        all = strstr (lines[i], needles[j]) != NULL;
      if (all)
        return g_strdup (lines[i]);
    }
  return NULL;
}

char *
interop_server_wait_for_log_line (InteropServer  *server,
                                  GError        **error,
                                  ...)
{
  g_autoptr (GPtrArray) needles = g_ptr_array_new ();
  gint64 deadline = g_get_monotonic_time () + INTEROP_WAIT_SECONDS * G_USEC_PER_SEC;
  const char *needle;
  va_list args;
  char *line;

  va_start (args, error);
  while ((needle = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (needles, (gpointer) needle);
  va_end (args);
  g_ptr_array_add (needles, NULL);

  while ((line = find_log_line (server, (const char *const *) needles->pdata)) == NULL)
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *wanted = g_strjoinv ("\" and \"", (char **) needles->pdata);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "no line of %s's log has \"%s\" after %d seconds", server->name, wanted,
                       INTEROP_WAIT_SECONDS);
          return NULL;
        }
      g_usleep (POLL_INTERVAL_US);
    }
  return line;
}

char *
interop_server_get_maildir (InteropServer *server,
                            const char    *user)
{
  return g_build_filename (server->dir, "mail", user, server->maildir_subdir, NULL);
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
list_messages (const char *maildir)
{
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autoptr (GDir) dir = g_dir_open (new_dir, 0, NULL);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  /* A Maildir is made at its first delivery: no folder, no message. */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (paths, g_build_filename (new_dir, name, NULL));
  g_ptr_array_sort (paths, compare_paths);
  return paths;
}

guint
interop_count_messages (const char *maildir)
{
  g_autoptr (GPtrArray) paths = list_messages (maildir);

  return paths->len;
}

GPtrArray *
interop_wait_for_messages (const char  *maildir,
                           guint        n,
                           GError     **error)
{
  gint64 deadline = g_get_monotonic_time () + INTEROP_WAIT_SECONDS * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr (GPtrArray) paths = list_messages (maildir);

      /* Maildir delivery renames a complete file into new/. */
      if (paths->len >= n)
        return g_steal_pointer (&paths);
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%s/new holds %u messages after %d seconds, not %u", maildir, paths->len,
                       INTEROP_WAIT_SECONDS, n);
          return NULL;
        }
      g_usleep (POLL_INTERVAL_US);
    }
}
