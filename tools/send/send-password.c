/* send-password.c: an account's password, from a command, a file or the
 * Secret Service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every copy of a password made here is erased before it is freed:
 * command output, file buffers and libsecret's own string.
 */

#include "config.h"

#include "send-config.h"

#include <errno.h>
#include <fcntl.h>
#include <libsecret/secret.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The attributes are documented for secret-tool(1) in send-config.c:
 * changing them loses every stored password. */
static const SecretSchema account_schema = {
  "org.gnome.Smtpkit.Account",
  SECRET_SCHEMA_NONE,
  {
    { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

/* A password file larger than this is not one. */
#define PASSWORD_FILE_MAX 4096

void
send_password_free (char *password)
{
  if (password == NULL)
    return;
  explicit_bzero (password, strlen (password));
  g_free (password);
}

/* "FILE:LINE: [NAME] " for the messages, so they point at the account. */
static char *
account_label (const SendAccount *account)
{
  if (account->origin == NULL)
    return g_strdup ("");
  return g_strdup_printf ("%s: [%s] ", account->origin, account->name ? account->name : "defaults");
}

static gboolean
reject_password (const SendAccount *account,
                 int                code,
                 GError           **error,
                 const char        *format,
                 ...) G_GNUC_PRINTF (4, 5);

static gboolean
reject_password (const SendAccount *account,
                 int                code,
                 GError           **error,
                 const char        *format,
                 ...)
{
  g_autofree char *label = account_label (account);
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SEND_CONFIG_ERROR, code, "%s%s", label, why);
  return FALSE;
}

/* The first line of @data without its line end, or NULL when it is
 * empty. */
static char *
first_line (const char *data,
            gsize       size)
{
  gsize length = 0;

  while (length < size && data[length] != '\n' && data[length] != '\0')
    length++;
  if (length > 0 && data[length - 1] == '\r')
    length--;
  return length > 0 ? g_strndup (data, length) : NULL;
}

/* ---- password-command -------------------------------------------------- */

static char *
exit_description (GSubprocess *process)
{
  if (g_subprocess_get_if_signaled (process))
    return g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (process));
  return g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (process));
}

static char *
stderr_text (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  g_autofree char *text = size > 0 ? g_strndup (data, size) : g_strdup ("");

  g_strstrip (text);
  return *text != '\0' ? g_steal_pointer (&text) : g_strdup ("(nothing on stderr)");
}

/* Stdin is /dev/null (GSubprocess's default), so that the command cannot
 * eat the message smtpkit-send reads from its own. */
static char *
password_from_command (const SendAccount *account,
                       GError           **error)
{
  const char *command = account->password_command;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *status = NULL;
  g_autofree char *diagnostics = NULL;
  guint8 *data;
  gsize size;
  char *password;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &local_error, "/bin/sh", "-c", command, NULL);
  if (process == NULL || !g_subprocess_communicate (process, NULL, NULL, &out, &err, &local_error))
    {
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "password-command \"%s\" could not be run: %s", command, local_error->message);
      return NULL;
    }
  data = g_bytes_unref_to_data (g_steal_pointer (&out), &size);
  password = first_line ((const char *) data, size);
  if (data != NULL)
    explicit_bzero (data, size);
  g_free (data);

  if (!g_subprocess_get_successful (process))
    {
      send_password_free (password);
      status = exit_description (process);
      diagnostics = stderr_text (err);
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "password-command \"%s\" %s: %s", command, status, diagnostics);
      return NULL;
    }
  if (password == NULL)
    reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                     "password-command \"%s\" printed no password on its first line", command);
  return password;
}

/* ---- password-file ----------------------------------------------------- */

/* The checks are on the open file, so that the file read is the file
 * checked. */
static gboolean
check_password_file (const SendAccount *account,
                     int                fd,
                     GError           **error)
{
  const char *path = account->password_file;
  struct stat info;

  if (fstat (fd, &info) != 0)
    return reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                            "password-file %s: %s", path, g_strerror (errno));
  if (!S_ISREG (info.st_mode))
    return reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                            "password-file %s is not a regular file", path);
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return reject_password (account, SEND_CONFIG_ERROR_UNSAFE, error,
                            "password-file %s is open to group or others (mode %04o), so "
                            "they may have read the password; make it private with: chmod 600 %s",
                            path, (unsigned) (info.st_mode & 07777), path);
  return TRUE;
}

static gssize
read_all (int    fd,
          char  *buffer,
          gsize  size)
{
  gsize done = 0;

  while (done < size)
    {
      gssize n = read (fd, buffer + done, size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += n;
    }
  return done;
}

static char *
password_from_file (const SendAccount *account,
                    GError           **error)
{
  const char *path = account->password_file;
  char buffer[PASSWORD_FILE_MAX];
  char *password = NULL;
  gssize size;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "cannot open password-file %s: %s", path, g_strerror (errno));
      return NULL;
    }
  if (!check_password_file (account, fd, error))
    {
      close (fd);
      return NULL;
    }
  size = read_all (fd, buffer, sizeof buffer);
  if (size < 0)
    reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                     "cannot read password-file %s: %s", path, g_strerror (errno));
  else if ((password = first_line (buffer, size)) == NULL)
    reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                     "password-file %s has no password on its first line", path);
  explicit_bzero (buffer, sizeof buffer);
  close (fd);
  return password;
}

/* ---- the Secret Service ------------------------------------------------ */

/* Without a session bus GDBus would try to autolaunch one; say plainly
 * that there is none instead. */
static gboolean
check_session_bus (const SendAccount *account,
                   GError           **error)
{
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *socket = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);

  if ((address != NULL && *address != '\0') || g_file_test (socket, G_FILE_TEST_EXISTS))
    return TRUE;
  return reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                          "no Secret Service to ask for the password of %s at %s: there is no "
                          "D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and %s does not "
                          "exist); set password-command or password-file, or run in a session "
                          "with a keyring",
                          account->user, account->server, socket);
}

static char *
password_from_secret_service (const SendAccount *account,
                              GError           **error)
{
  g_autoptr (GError) local_error = NULL;
  char *secret;
  char *password;

  if (!check_session_bus (account, error))
    return NULL;
  secret = secret_password_lookup_sync (&account_schema, NULL, &local_error,
                                        "server", account->server,
                                        "user", account->user,
                                        NULL);
  if (local_error != NULL)
    {
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "cannot ask the Secret Service for the password of %s at %s: %s",
                       account->user, account->server, local_error->message);
      return NULL;
    }
  if (secret == NULL)
    {
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "the Secret Service has no password for %s at %s: store one with "
                       "smtpkit-send --store-password %s, or set password-command or password-file",
                       account->user, account->server, account->name ? account->name : "ACCOUNT");
      return NULL;
    }
  /* libsecret's string is freed its own way; ours all go through
   * send_password_free(). */
  password = g_strdup (secret);
  secret_password_free (secret);
  return password;
}

char *
send_account_get_password (const SendAccount *account,
                           GError           **error)
{
  g_return_val_if_fail (account != NULL, NULL);

  if (account->user == NULL)
    {
      reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                       "no user is set, so there is no password to look for");
      return NULL;
    }
  if (account->password_command != NULL)
    return password_from_command (account, error);
  if (account->password_file != NULL)
    return password_from_file (account, error);
  return password_from_secret_service (account, error);
}

gboolean
send_password_store (const SendAccount *account,
                     const char        *password,
                     GError           **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *label = NULL;

  g_return_val_if_fail (account != NULL && password != NULL, FALSE);

  if (account->server == NULL || account->user == NULL)
    return reject_password (account, SEND_CONFIG_ERROR_USAGE, error,
                            "a password is stored for a server and a user: set both");
  if (!check_session_bus (account, error))
    return FALSE;
  label = g_strdup_printf ("smtpkit-send: %s at %s", account->user, account->server);
  if (!secret_password_store_sync (&account_schema, SECRET_COLLECTION_DEFAULT, label, password,
                                   NULL, &local_error,
                                   "server", account->server,
                                   "user", account->user,
                                   NULL))
    return reject_password (account, SEND_CONFIG_ERROR_PASSWORD, error,
                            "cannot store the password of %s at %s in the Secret Service: %s",
                            account->user, account->server, local_error->message);
  return TRUE;
}
