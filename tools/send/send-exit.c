/* send-exit.c: errors → sysexits.h statuses, and the reasons on stderr
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send-config.h"
#include "send-exit.h"

/* A reply's class decides: 4xx may succeed later, 5xx will not. */
static int
status_of_reply (SmtpkitReply *reply,
                 int           without_reply)
{
  if (reply == NULL)
    return without_reply;
  return smtpkit_reply_get_code (reply) / 100 == 4 ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

int
send_exit_status_of_reply (SmtpkitReply *reply)
{
  return status_of_reply (reply, EX_TEMPFAIL);
}

int
send_exit_status_of_refused (GHashTable *refused)
{
  GHashTableIter iter;
  gpointer reply;

  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, NULL, &reply))
    if (send_exit_status_of_reply (reply) == EX_TEMPFAIL)
      return EX_TEMPFAIL;
  return EX_UNAVAILABLE;
}

static int
status_of_smtpkit_error (const GError *error)
{
  SmtpkitReply *reply = smtpkit_error_get_reply (error);

  switch ((SmtpkitError) error->code)
    {
    case SMTPKIT_ERROR_INVALID_ARGUMENT:
      return EX_DATAERR;
    case SMTPKIT_ERROR_PROTOCOL:
      return EX_PROTOCOL;
    case SMTPKIT_ERROR_AUTHENTICATION:
      return status_of_reply (reply, EX_NOPERM) == EX_TEMPFAIL ? EX_TEMPFAIL : EX_NOPERM;
    case SMTPKIT_ERROR_NOT_SUPPORTED:
      return EX_UNAVAILABLE;
    case SMTPKIT_ERROR_RECIPIENTS_REFUSED:
      if (smtpkit_error_get_recipients (error) != NULL)
        return send_exit_status_of_refused (smtpkit_error_get_recipients (error));
      return status_of_reply (reply, EX_TEMPFAIL);
    case SMTPKIT_ERROR_SERVER_DISCONNECTED:
    case SMTPKIT_ERROR_DELIVERY_UNKNOWN:
      /* RFC 5321 §6.1: a duplicate is better than a loss, so "may have
       * been delivered" is tried again. */
      return EX_TEMPFAIL;
    case SMTPKIT_ERROR_FAILED:
      return EX_SOFTWARE;
    case SMTPKIT_ERROR_RESPONSE:
    case SMTPKIT_ERROR_SENDER_REFUSED:
    case SMTPKIT_ERROR_DATA:
    case SMTPKIT_ERROR_CONNECT:
    case SMTPKIT_ERROR_HELO:
    default:
      return status_of_reply (reply, EX_TEMPFAIL);
    }
}

static int
status_of_config_error (const GError *error)
{
  switch ((SendConfigError) error->code)
    {
    case SEND_CONFIG_ERROR_USAGE:
      return EX_USAGE;
    case SEND_CONFIG_ERROR_PASSWORD:
      return EX_NOPERM;
    case SEND_CONFIG_ERROR_QUEUE:
      return EX_CANTCREAT;
    case SEND_CONFIG_ERROR_CONFIG:
    case SEND_CONFIG_ERROR_UNSAFE:
    default:
      return EX_CONFIG;
    }
}

/* Network trouble is temporary; a missing input file is not. */
static int
status_of_io_error (const GError *error)
{
  switch (error->code)
    {
    case G_IO_ERROR_NOT_FOUND:
    case G_IO_ERROR_IS_DIRECTORY:
    case G_IO_ERROR_PERMISSION_DENIED:
      return EX_NOINPUT;
    case G_IO_ERROR_HOST_NOT_FOUND:
      return EX_NOHOST;
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_BROKEN_PIPE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NOT_CONNECTED:
    case G_IO_ERROR_CANCELLED:
      return EX_TEMPFAIL;
    default:
      return EX_IOERR;
    }
}

int
send_exit_status (const GError *error)
{
  if (error->domain == SMTPKIT_ERROR)
    return status_of_smtpkit_error (error);
  if (error->domain == SEND_CONFIG_ERROR)
    return status_of_config_error (error);
  if (error->domain == G_OPTION_ERROR)
    return EX_USAGE;
  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_NOT_FOUND ? EX_NOHOST : EX_TEMPFAIL;
  if (error->domain == G_IO_ERROR)
    return status_of_io_error (error);
  /* A certificate that fails its checks will fail again until someone
   * changes the configuration: the server could not be authenticated. */
  if (error->domain == G_TLS_ERROR)
    return error->code == G_TLS_ERROR_BAD_CERTIFICATE ? EX_NOPERM : EX_TEMPFAIL;
  if (error->domain == G_FILE_ERROR)
    return EX_NOINPUT;
  return EX_SOFTWARE;
}

static void
print_reply (const char         *prefix,
             const SmtpkitReply *reply)
{
  g_auto (GStrv) lines = g_strsplit (smtpkit_reply_get_text (reply), "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    g_printerr ("%s: %s%u %s\n", g_get_prgname (), prefix, smtpkit_reply_get_code (reply),
                lines[i]);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
report_recipients (const char *what,
                   GHashTable *recipients)
{
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;

  if (recipients == NULL)
    return;
  keys = g_hash_table_get_keys_as_array (recipients, &n_keys);
  qsort (keys, n_keys, sizeof (gpointer), compare_strings);
  for (guint i = 0; i < n_keys; i++)
    {
      SmtpkitReply *reply = g_hash_table_lookup (recipients, keys[i]);
      g_autofree char *prefix = g_strdup_printf ("%s %s: ", what, (const char *) keys[i]);

      if (reply != NULL)
        print_reply (prefix, reply);
      else
        g_printerr ("%s: %s(no reply)\n", g_get_prgname (), prefix);
    }
}

void
send_exit_report_refused (GHashTable *refused)
{
  report_recipients ("refused", refused);
}

void
send_exit_report (const GError *error)
{
  SmtpkitReply *reply = smtpkit_error_get_reply (error);

  g_printerr ("%s: %s\n", g_get_prgname (), error->message);
  if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN) &&
      strstr (error->message, "may have been delivered") == NULL)
    g_printerr ("%s: the message may have been delivered\n", g_get_prgname ());
  if (reply != NULL)
    print_reply ("server replied: ", reply);
  if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED))
    report_recipients ("refused", smtpkit_error_get_recipients (error));
  else if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN))
    report_recipients ("delivery unknown for", smtpkit_error_get_recipients (error));
}
