/* smtpkit-send.c: send one message from the command line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <smtpkit.h>

/* Exit statuses, as documented in --help. */
enum
{
  EXIT_DELIVERED = 0,
  EXIT_ERROR = 1,
  EXIT_SOME_REFUSED = 2,
};

typedef struct
{
  char *server;
  int port;
  char *from;
  char *file;
  char *subject;
  char *body;
  char *local_hostname;
  char *tls;
  char *ca_file;
  double timeout;
  int debug;
  gboolean quiet;
  char **recipients;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->server, g_free);
  g_clear_pointer (&options->from, g_free);
  g_clear_pointer (&options->file, g_free);
  g_clear_pointer (&options->subject, g_free);
  g_clear_pointer (&options->body, g_free);
  g_clear_pointer (&options->local_hostname, g_free);
  g_clear_pointer (&options->tls, g_free);
  g_clear_pointer (&options->ca_file, g_free);
  g_clear_pointer (&options->recipients, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* The library logs its transcript ("C: …", "S: …") as structured
 * messages; show them as bare lines on stderr rather than with GLib's
 * "Smtpkit-Message: <time>:" prefix, and leave everything else to the
 * default writer. */
static GLogWriterOutput
transcript_writer (GLogLevelFlags   log_level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;
  gboolean transcript = FALSE;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "SMTPKIT_DIRECTION") == 0)
        transcript = TRUE;
    }

  if (transcript && message != NULL && g_strcmp0 (domain, "Smtpkit") == 0 &&
      (log_level & G_LOG_LEVEL_MASK) == G_LOG_LEVEL_MESSAGE)
    {
      fprintf (stderr, "%s\n", message);
      fflush (stderr);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static gboolean
has_line_break (const char *text)
{
  return strpbrk (text, "\r\n") != NULL;
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

/* RFC 5322 §3.3 wants English day and month names whatever the locale,
 * so only the numeric part comes from g_date_time_format(). */
static char *
format_rfc5322_date (GDateTime *when)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree char *rest = g_date_time_format (when, "%Y %H:%M:%S %z");

  return g_strdup_printf ("%s, %02d %s %s",
                          days[g_date_time_get_day_of_week (when) - 1],
                          g_date_time_get_day_of_month (when),
                          months[g_date_time_get_month (when) - 1],
                          rest);
}

/* An RFC 2047 encoded-word for a header holding non-ASCII text, split so
 * that no encoded-word exceeds 75 characters (§2) and no UTF-8 sequence is
 * cut in two. */
static void
append_header_text (GString    *out,
                    const char *text)
{
  const char *p = text;

  if (is_ascii (text))
    {
      g_string_append (out, text);
      return;
    }

  while (*p != '\0')
    {
      const char *end = p;
      g_autofree char *encoded = NULL;

      /* 45 octets of UTF-8 make 60 characters of base64, plus 12 of
       * "=?UTF-8?B?" and "?=". */
      while (*end != '\0')
        {
          const char *next = g_utf8_next_char (end);
          if (next - p > 45)
            break;
          end = next;
        }
      encoded = g_base64_encode ((const guchar *) p, end - p);
      if (p != text)
        g_string_append (out, "\r\n ");
      g_string_append_printf (out, "=?UTF-8?B?%s?=", encoded);
      p = end;
    }
}

static char *
crlf_line_ends (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 16);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n' && (p == text || p[-1] != '\r'))
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static char *
domain_of (const char *address)
{
  const char *at = strrchr (address, '@');

  if (at != NULL && at[1] != '\0')
    return g_strndup (at + 1, strcspn (at + 1, ">"));
  return g_strdup ("localhost");
}

/* A small message for --subject/--body: the headers RFC 5322 requires
 * (Date, From) and those mail programs expect (Message-ID, To, Subject). */
static GBytes *
build_message (const Options *options)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = format_rfc5322_date (now);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *domain = domain_of (options->from);
  const char *body = options->body ? options->body : "";
  gsize line_length;

  g_string_append_printf (msg, "Date: %s\r\n", date);
  g_string_append_printf (msg, "Message-ID: <%s@%s>\r\n", uuid, domain);
  g_string_append_printf (msg, "From: %s\r\n", options->from);

  g_string_append (msg, "To: ");
  line_length = strlen ("To: ");
  for (gsize i = 0; options->recipients[i] != NULL; i++)
    {
      gsize length = strlen (options->recipients[i]);

      if (i > 0)
        {
          g_string_append_c (msg, ',');
          line_length++;
          /* Fold long lists (RFC 5322 §2.2.3). */
          if (line_length + 1 + length > 78)
            {
              g_string_append (msg, "\r\n");
              line_length = 0;
            }
          g_string_append_c (msg, ' ');
          line_length++;
        }
      g_string_append (msg, options->recipients[i]);
      line_length += length;
    }
  g_string_append (msg, "\r\n");

  if (options->subject != NULL)
    {
      g_string_append (msg, "Subject: ");
      append_header_text (msg, options->subject);
      g_string_append (msg, "\r\n");
    }

  g_string_append (msg, "MIME-Version: 1.0\r\n");
  g_string_append (msg, "Content-Type: text/plain; charset=UTF-8\r\n");
  if (is_ascii (body))
    {
      g_string_append (msg, "Content-Transfer-Encoding: 7bit\r\n\r\n");
      g_string_append (msg, body);
      if (*body != '\0' && body[strlen (body) - 1] != '\n')
        g_string_append (msg, "\r\n");
    }
  else
    {
      /* Base64 is valid on any server, with or without 8BITMIME; text is
       * encoded in its canonical form, with CRLF line ends (RFC 2045 §6.8). */
      g_autofree char *canonical = crlf_line_ends (body);
      g_autofree char *encoded = g_base64_encode ((const guchar *) canonical,
                                                  strlen (canonical));
      gsize length = strlen (encoded);

      g_string_append (msg, "Content-Transfer-Encoding: base64\r\n\r\n");
      for (gsize i = 0; i < length; i += 76)
        {
          g_string_append_len (msg, encoded + i, MIN (76, length - i));
          g_string_append (msg, "\r\n");
        }
    }

  return g_string_free_to_bytes (g_steal_pointer (&msg));
}

static GInputStream *
open_message (const Options  *options,
              GError        **error)
{
  g_autoptr (GFile) file = NULL;

  if (options->file == NULL && (options->subject != NULL || options->body != NULL))
    {
      g_autoptr (GBytes) message = build_message (options);
      return g_memory_input_stream_new_from_bytes (message);
    }

  if (options->file == NULL || g_str_equal (options->file, "-"))
    return g_unix_input_stream_new (STDIN_FILENO, FALSE);

  file = g_file_new_for_commandline_arg (options->file);
  return G_INPUT_STREAM (g_file_read (file, NULL, error));
}

static void
print_reply (FILE               *out,
             const char         *prefix,
             const SmtpkitReply *reply)
{
  g_auto (GStrv) lines = g_strsplit (smtpkit_reply_get_text (reply), "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    fprintf (out, "%s%u %s\n", prefix, smtpkit_reply_get_code (reply), lines[i]);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Refused recipients, sorted so the output does not depend on hashing. */
static void
print_recipients (const char *what,
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
      g_autofree char *prefix = g_strdup_printf ("smtpkit-send: %s %s: ", what,
                                                 (const char *) keys[i]);

      if (reply != NULL)
        print_reply (stderr, prefix, reply);
      else
        fprintf (stderr, "%s(no reply)\n", prefix);
    }
}

static void
print_error (const char   *doing,
             const GError *error)
{
  SmtpkitReply *reply = smtpkit_error_get_reply (error);

  g_printerr ("smtpkit-send: %s: %s\n", doing, error->message);
  if (reply != NULL)
    print_reply (stderr, "smtpkit-send: server replied: ", reply);
  if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED))
    print_recipients ("refused", smtpkit_error_get_recipients (error));
  else if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN))
    print_recipients ("delivery unknown for", smtpkit_error_get_recipients (error));
}

static gboolean
parse_server (const Options  *options,
              char          **host,
              guint16        *port,
              GError        **error)
{
  g_autoptr (GSocketConnectable) address = NULL;

  if (options->port < 0 || options->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--port %d is not a port number (1 to 65535)", options->port);
      return FALSE;
    }

  /* Accepts "host", "host:port", "[v6-address]:port". */
  address = g_network_address_parse (options->server, 0, error);
  if (address == NULL)
    return FALSE;
  *host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (address)));
  *port = options->port > 0 ? options->port
                            : g_network_address_get_port (G_NETWORK_ADDRESS (address));
  return TRUE;
}

/* The SmtpkitTlsMode of @nick ("none", "starttls", ...), or -1. */
static int
tls_mode_from_nick (const char *nick)
{
  GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_TLS_MODE);
  GEnumValue *value = g_enum_get_value_by_nick (klass, nick);
  int mode = value ? value->value : -1;

  g_type_class_unref (klass);
  return mode;
}

static gboolean
check_options (Options  *options,
               GError  **error)
{
  if (options->tls && tls_mode_from_nick (options->tls) < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls %s: give none, starttls, starttls-opportunistic or implicit",
                   options->tls);
      return FALSE;
    }
  if (options->from == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--from ADDRESS is required");
      return FALSE;
    }
  if (options->recipients == NULL || options->recipients[0] == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "give at least one RECIPIENT");
      return FALSE;
    }
  if (options->file != NULL && (options->subject != NULL || options->body != NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--subject and --body build a message; they cannot be used with --file");
      return FALSE;
    }
  if (options->debug < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--debug %d: give 0, 1 (transcript) or 2 (transcript with times)",
                   options->debug);
      return FALSE;
    }
  /* These end up in headers of the built message: refuse header injection
   * here (the library refuses CR/LF in the envelope itself). */
  if (has_line_break (options->from) ||
      (options->subject != NULL && has_line_break (options->subject)))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--from and --subject must not contain line breaks");
      return FALSE;
    }
  for (gsize i = 0; options->recipients[i] != NULL; i++)
    {
      if (has_line_break (options->recipients[i]))
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                               "recipients must not contain line breaks");
          return FALSE;
        }
    }
  if (options->server == NULL)
    options->server = g_strdup ("localhost");
  return TRUE;
}

static int
send_message (const Options *options,
              const char    *host,
              guint16        port)
{
  g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GInputStream) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  guint n_recipients = g_strv_length (options->recipients);
  int status;

  smtpkit_client_set_debug_level (client, options->debug);
  if (options->tls)
    smtpkit_client_set_tls_mode (client, tls_mode_from_nick (options->tls));
  smtpkit_client_set_tls_ca_file (client, options->ca_file);
  if (!smtpkit_client_set_timeout (client, options->timeout, &error) ||
      (options->local_hostname != NULL &&
       !smtpkit_client_set_local_hostname (client, options->local_hostname, &error)))
    {
      print_error ("invalid option", error);
      return EXIT_ERROR;
    }

  message = open_message (options, &error);
  if (message == NULL)
    {
      print_error ("cannot read the message", error);
      return EXIT_ERROR;
    }

  greeting = smtpkit_client_connect (client, host, port, NULL, &error);
  if (greeting == NULL)
    {
      g_autofree char *doing = g_strdup_printf ("cannot connect to %s port %u", host,
                                                port ? port : SMTPKIT_DEFAULT_PORT);
      print_error (doing, error);
      return EXIT_ERROR;
    }

  refused = smtpkit_client_sendmail_stream (client, options->from,
                                            (const char *const *) options->recipients,
                                            message, NULL, NULL, NULL, &error);
  if (refused == NULL)
    {
      print_error ("the message was not sent", error);
      status = EXIT_ERROR;
    }
  else if (g_hash_table_size (refused) > 0)
    {
      print_recipients ("refused", refused);
      g_printerr ("smtpkit-send: sent to %u of %u recipients\n",
                  n_recipients - g_hash_table_size (refused), n_recipients);
      status = EXIT_SOME_REFUSED;
    }
  else
    {
      if (!options->quiet)
        g_print ("sent to %u recipient%s\n", n_recipients, n_recipients == 1 ? "" : "s");
      status = EXIT_DELIVERED;
    }

  /* Errors that lose the session close the connection; otherwise say
   * goodbye. A failing QUIT does not undo a delivery. */
  if (smtpkit_client_is_connected (client))
    {
      g_clear_error (&error);
      bye = smtpkit_client_quit (client, NULL, &error);
      if (bye == NULL && !options->quiet)
        g_printerr ("smtpkit-send: warning: QUIT failed: %s\n", error->message);
    }

  return status;
}

int
main (int   argc,
      char *argv[])
{
  g_auto (Options) options = { .timeout = -1 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &options.server,
      "SMTP server, with an optional port (default: localhost)", "HOST[:PORT]" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &options.port,
      "Server port (default: 25, or the one in --server)", "PORT" },
    { "from", 'f', 0, G_OPTION_ARG_STRING, &options.from,
      "Envelope sender and From: address (required)", "ADDRESS" },
    { "file", 'F', 0, G_OPTION_ARG_FILENAME, &options.file,
      "The message, headers included (default: standard input)", "FILE" },
    { "subject", 'S', 0, G_OPTION_ARG_STRING, &options.subject,
      "Build a message with this subject instead of reading one", "TEXT" },
    { "body", 'b', 0, G_OPTION_ARG_STRING, &options.body,
      "Build a message with this body instead of reading one", "TEXT" },
    { "local-hostname", 0, 0, G_OPTION_ARG_STRING, &options.local_hostname,
      "Name to send with EHLO/HELO (default: this host's FQDN)", "NAME" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &options.tls,
      "none (default), starttls, starttls-opportunistic or implicit (port 465)", "MODE" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options.ca_file,
      "Trust the certificate authorities in this PEM file instead of the system's", "FILE" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &options.timeout,
      "Bound of each wait for the server (default: RFC 5321's per-command times)", "SECONDS" },
    { "debug", 'd', 0, G_OPTION_ARG_INT, &options.debug,
      "1: print the SMTP transcript on stderr; 2: with times", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &options.quiet,
      "Print nothing on success", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.recipients,
      NULL, "RECIPIENT…" },
    G_OPTION_ENTRY_NULL
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Send one message over SMTP.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "The message is read from FILE or standard input and sent as it is, or\n"
    "built from --subject and --body.\n"
    "\n"
    "Exit status: 0 when every recipient accepted the message, 1 on error\n"
    "(nothing was delivered, or the outcome is unknown), 2 when some\n"
    "recipients were refused and the others accepted it.\n");

  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !check_options (&options, &error) ||
      !parse_server (&options, &host, &port, &error))
    {
      g_printerr ("smtpkit-send: %s\n", error->message);
      g_printerr ("Try “%s --help” for more information.\n", g_get_prgname ());
      return EXIT_ERROR;
    }

  g_log_set_writer_func (transcript_writer, NULL, NULL);

  return send_message (&options, host, port);
}
