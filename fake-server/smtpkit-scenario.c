/* smtpkit-scenario.c: the scenario file parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "smtpkit-scenario-private.h"

struct _SmtpkitScenario
{
  char *name;
  char *path;
  char *title;
  GPtrArray *client_steps; /* SmtpkitScenarioLine */
  GPtrArray *server_steps; /* SmtpkitScenarioStep */
};

G_DEFINE_QUARK (smtpkit-fake-server-error-quark, smtpkit_fake_server_error)

typedef enum
{
  ARG_NONE,
  ARG_TEXT,
  ARG_QUOTED,
  ARG_NUMBER,
  ARG_CERT, /* [cert=KIND] */
  ARG_AUTH, /* MECHANISM USER PASSWORD [ok|fail] */
} ArgKind;

static const struct
{
  const char *keyword;
  SmtpkitStepKind kind;
  ArgKind arg;
  const char *unit; /* for ARG_NUMBER */
  guint64 max;
} step_syntax[] = {
  { "send", SMTPKIT_STEP_SEND, ARG_TEXT },
  { "send-raw", SMTPKIT_STEP_SEND, ARG_QUOTED },
  { "send-bytewise", SMTPKIT_STEP_SEND_BYTEWISE, ARG_QUOTED },
  { "expect", SMTPKIT_STEP_EXPECT, ARG_TEXT },
  { "expect-raw", SMTPKIT_STEP_EXPECT_RAW, ARG_QUOTED },
  { "expect-data", SMTPKIT_STEP_EXPECT_DATA, ARG_NONE },
  { "expect-data-size", SMTPKIT_STEP_EXPECT_DATA_SIZE, ARG_NUMBER, "bytes", G_MAXUINT64 },
  { "expect-bdat-size", SMTPKIT_STEP_EXPECT_BDAT_SIZE, ARG_NUMBER, "bytes", G_MAXUINT64 },
  { "expect-close", SMTPKIT_STEP_EXPECT_CLOSE, ARG_NONE },
  { "close", SMTPKIT_STEP_CLOSE, ARG_NONE },
  { "shutdown", SMTPKIT_STEP_SHUTDOWN, ARG_NONE },
  { "delay", SMTPKIT_STEP_DELAY, ARG_NUMBER, "milliseconds", 3600 * 1000 },
  { "starttls", SMTPKIT_STEP_STARTTLS, ARG_CERT },
  { "starttls-refused-by-client", SMTPKIT_STEP_STARTTLS_REFUSED, ARG_CERT },
  { "expect-auth", SMTPKIT_STEP_EXPECT_AUTH, ARG_AUTH },
};

const char *const smtpkit_cert_kind_names[SMTPKIT_N_CERTS] = {
  "good", "expired", "wrong-name", "untrusted",
};

int
smtpkit_cert_kind_from_name (const char *name)
{
  for (int i = 0; i < SMTPKIT_N_CERTS; i++)
    if (g_strcmp0 (name, smtpkit_cert_kind_names[i]) == 0)
      return i;
  return -1;
}

static void
scenario_line_free (SmtpkitScenarioLine *line)
{
  g_free (line->text);
  g_free (line);
}

static void
scenario_step_free (SmtpkitScenarioStep *step)
{
  g_free (step->arg);
  g_clear_pointer (&step->bytes, g_bytes_unref);
  g_free (step->mechanism);
  g_free (step->user);
  g_free (step->password);
  g_free (step);
}

static void
scenario_clear (SmtpkitScenario *scenario)
{
  g_free (scenario->name);
  g_free (scenario->path);
  g_free (scenario->title);
  g_ptr_array_unref (scenario->client_steps);
  g_ptr_array_unref (scenario->server_steps);
}

/* ---- quoted strings --------------------------------------------------- */

/* Takes @array. The bytes are followed by a NUL not counted in their size,
 * so that text can be used as a C string. */
static GBytes *
take_bytes (GByteArray *array)
{
  gsize len = array->len;

  g_byte_array_append (array, (const guint8 *) "", 1);
  return g_bytes_new_take (g_byte_array_free (array, FALSE), len);
}

/* Decodes the quoted string that starts at @p into @out. Returns the
 * position after the closing quote, or NULL. */
static const char *
decode_quoted (const char  *p,
               GByteArray  *out,
               GError     **error)
{
  if (*p != '"')
    {
      g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR,
                   SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                   "expected a quoted string, found '%s'", p);
      return NULL;
    }

  for (p++; *p != '"'; p++)
    {
      guint8 c = *p;

      if (c == '\0' || (c == '\\' && p[1] == '\0'))
        {
          g_set_error_literal (error, SMTPKIT_FAKE_SERVER_ERROR,
                               SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                               "unterminated quoted string");
          return NULL;
        }
      if (c == '\\')
        {
          switch (*++p)
            {
            case 'r':
              c = '\r';
              break;
            case 'n':
              c = '\n';
              break;
            case 't':
              c = '\t';
              break;
            case '0':
              c = '\0';
              break;
            case '\\':
            case '"':
              c = *p;
              break;
            case 'x':
              if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]))
                {
                  g_set_error_literal (error, SMTPKIT_FAKE_SERVER_ERROR,
                                       SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                                       "'\\x' needs two hex digits");
                  return NULL;
                }
              c = g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]);
              p += 2;
              break;
            default:
              g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR,
                           SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                           "unknown escape '\\%c' (known: \\r \\n \\t \\\\ \\\" \\0 \\xHH)",
                           *p);
              return NULL;
            }
        }
      g_byte_array_append (out, &c, 1);
    }

  return p + 1;
}

/**
 * smtpkit_scenario_unescape:
 * @quoted: a double-quoted string, quotes included, such as `"a\r\n"`
 * @len: (out): the number of bytes decoded
 * @error: return location for a #GError
 *
 * Decodes a quoted string of a scenario file. Between the quotes, a
 * backslash starts an escape: `\r`, `\n`, `\t`, `\\`, `\"`, `\0` (a NUL
 * byte) or `\xHH` (two hex digits); every other byte stands for itself.
 * Nothing may follow the closing quote.
 *
 * Returns: (transfer full) (array length=len) (nullable): the bytes,
 *   followed by a NUL byte not counted in @len, or %NULL with
 *   %SMTPKIT_FAKE_SERVER_ERROR_SCRIPT
 */
guint8 *
smtpkit_scenario_unescape (const char  *quoted,
                           gsize       *len,
                           GError     **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  const char *end;

  g_return_val_if_fail (quoted != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  end = decode_quoted (quoted, out, error);
  if (end == NULL)
    return NULL;
  if (*end != '\0')
    {
      g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR,
                   SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                   "unexpected text after the closing quote: '%s'", end);
      return NULL;
    }

  *len = out->len;
  g_byte_array_append (out, (const guint8 *) "", 1);
  return g_byte_array_free (g_steal_pointer (&out), FALSE);
}

/**
 * smtpkit_scenario_escape:
 * @data: (array length=len): bytes
 * @len: the length of @data
 *
 * The inverse of [func@scenario_unescape], without the quotes: CR, LF,
 * TAB, NUL, backslash and double quote become `\r`, `\n`, `\t`, `\0`, `\\`
 * and `\"`, other bytes outside printable ASCII become `\xHH`. Used to
 * show what a client sent.
 *
 * Returns: (transfer full): the escaped text
 */
char *
smtpkit_scenario_escape (const guint8 *data,
                         gsize         len)
{
  GString *out = g_string_sized_new (len + 8);

  for (gsize i = 0; i < len; i++)
    {
      switch (data[i])
        {
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\0':
          g_string_append (out, "\\0");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '"':
          g_string_append (out, "\\\"");
          break;
        default:
          if (data[i] < 0x20 || data[i] >= 0x7f)
            g_string_append_printf (out, "\\x%02x", data[i]);
          else
            g_string_append_c (out, data[i]);
        }
    }

  return g_string_free (out, FALSE);
}

/**
 * smtpkit_scenario_split_args:
 * @text: a line of arguments
 * @error: return location for a #GError
 *
 * Splits @text into words separated by white space. A word that starts
 * with `"` is a quoted string decoded as by [func@scenario_unescape]: it
 * may hold spaces, CR, LF and NUL, and must be followed by white space or
 * the end of @text. Any other word is taken literally.
 *
 * Returns: (transfer container) (element-type GBytes) (nullable): the
 *   words; each is followed by a NUL byte not counted in its size, so a
 *   word without NUL can be read as a C string. %NULL with
 *   %SMTPKIT_FAKE_SERVER_ERROR_SCRIPT on a malformed quoted word.
 */
GPtrArray *
smtpkit_scenario_split_args (const char  *text,
                             GError     **error)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);

  while (TRUE)
    {
      g_autoptr (GByteArray) word = g_byte_array_new ();

      while (g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;

      if (*p == '"')
        {
          p = decode_quoted (p, word, error);
          if (p == NULL)
            return NULL;
          if (*p != '\0' && !g_ascii_isspace (*p))
            {
              g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR,
                           SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
                           "expected white space after a quoted word, found '%s'", p);
              return NULL;
            }
        }
      else
        {
          const char *start = p;

          while (*p != '\0' && !g_ascii_isspace (*p))
            p++;
          g_byte_array_append (word, (const guint8 *) start, p - start);
        }
      g_ptr_array_add (words, take_bytes (g_steal_pointer (&word)));
    }

  return g_steal_pointer (&words);
}

/* ---- the parser ------------------------------------------------------- */

typedef enum
{
  SECTION_NONE,
  SECTION_CLIENT,
  SECTION_SERVER,
} Section;

typedef struct
{
  SmtpkitScenario *scenario;
  guint lineno;
  Section section;
  gboolean seen[3];               /* by Section */
  SmtpkitScenarioStep *data_step; /* expect-data whose body is being read */
  GByteArray *body;
  guint closed_at;                /* line of a 'close' step, or 0 */
  guint refused_at;               /* line of 'starttls-refused-by-client', or 0 */
  guint shutdown_at;              /* line of 'shutdown', or 0 */
  guint tls_at;                   /* line of 'starttls', or 0 */
} Parser;

static gboolean G_GNUC_PRINTF (4, 5)
syntax_error (Parser      *p,
              guint        lineno,
              GError     **error,
              const char  *format,
              ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR,
               SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
               "%s:%u: %s", p->scenario->name, lineno, message);
  return FALSE;
}

/* Every line that is not part of the body ends it: the body must be
 * complete by then. */
static gboolean
check_body_ended (Parser  *p,
                  GError **error)
{
  if (p->data_step == NULL)
    return TRUE;
  return syntax_error (p, p->data_step->lineno, error,
                       "the body of expect-data must end with the line '|.'");
}

static gboolean
add_body_line (Parser      *p,
               const char  *text,
               GError     **error)
{
  if (p->data_step == NULL)
    return syntax_error (p, p->lineno, error,
                         "body line '|%s' outside expect-data (a body ends with its '|.' line)",
                         text);

  g_byte_array_append (p->body, (const guint8 *) text, strlen (text));
  g_byte_array_append (p->body, (const guint8 *) "\r\n", 2);
  if (strcmp (text, ".") == 0)
    {
      p->data_step->bytes = take_bytes (g_steal_pointer (&p->body));
      p->data_step = NULL;
    }
  return TRUE;
}

static gboolean
add_client_line (Parser     *p,
                 const char *text)
{
  SmtpkitScenarioLine *line = g_new0 (SmtpkitScenarioLine, 1);

  line->lineno = p->lineno;
  line->text = g_strdup (text);
  g_ptr_array_add (p->scenario->client_steps, line);
  return TRUE;
}

/* "" or "cert=KIND" */
static gboolean
parse_cert (SmtpkitScenarioStep *step,
            const char          *arg)
{
  int kind = *arg == '\0' ? SMTPKIT_CERT_GOOD
                          : g_str_has_prefix (arg, "cert=") ? smtpkit_cert_kind_from_name (arg + 5)
                                                            : -1;

  step->cert = kind;
  return kind >= 0;
}

/* Returns the word as a string, or NULL when it holds a NUL. */
static char *
word_text (GBytes *word)
{
  gsize len;
  const char *data = g_bytes_get_data (word, &len);

  return strlen (data) == len ? g_strdup (data) : NULL;
}

/* "MECHANISM USER PASSWORD [ok|fail]"; USER and PASSWORD may be quoted. */
static gboolean
parse_auth (SmtpkitScenarioStep *step,
            const char          *arg)
{
  g_autoptr (GPtrArray) words = smtpkit_scenario_split_args (arg, NULL);
  g_autofree char *outcome = NULL;

  if (words == NULL || words->len < 3 || words->len > 4)
    return FALSE;
  step->mechanism = word_text (words->pdata[0]);
  if (step->mechanism != NULL)
    for (char *c = step->mechanism; *c != '\0'; c++)
      *c = g_ascii_toupper (*c);
  step->user = word_text (words->pdata[1]);
  step->password = word_text (words->pdata[2]);
  outcome = words->len == 4 ? word_text (words->pdata[3]) : g_strdup ("ok");
  if (step->mechanism == NULL || step->user == NULL || step->password == NULL ||
      *step->mechanism == '\0' || *step->user == '\0' ||
      (g_strcmp0 (outcome, "ok") != 0 && g_strcmp0 (outcome, "fail") != 0))
    return FALSE;
  step->auth_ok = strcmp (outcome, "ok") == 0;
  return TRUE;
}

static gboolean
add_server_step (Parser      *p,
                 const char  *text,
                 GError     **error)
{
  g_autofree char *keyword = g_strndup (text, strcspn (text, " \t"));
  const char *arg = text + strlen (keyword);
  SmtpkitScenarioStep *step;
  g_autoptr (GError) local_error = NULL;
  guint i;

  if (!check_body_ended (p, error))
    return FALSE;

  arg += strspn (arg, " \t");
  for (i = 0; i < G_N_ELEMENTS (step_syntax); i++)
    if (strcmp (keyword, step_syntax[i].keyword) == 0)
      break;
  if (i == G_N_ELEMENTS (step_syntax))
    {
      g_autoptr (GString) known = g_string_new (NULL);

      for (i = 0; i < G_N_ELEMENTS (step_syntax); i++)
        g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", step_syntax[i].keyword);
      return syntax_error (p, p->lineno, error, "unknown server step '%s' (known: %s)",
                           keyword, known->str);
    }
  if (p->closed_at != 0)
    return syntax_error (p, p->lineno, error,
                         "'%s' can never run: the server closes the connection at line %u",
                         keyword, p->closed_at);
  if (p->tls_at != 0 && (step_syntax[i].kind == SMTPKIT_STEP_STARTTLS ||
                         step_syntax[i].kind == SMTPKIT_STEP_STARTTLS_REFUSED))
    return syntax_error (p, p->lineno, error, "'%s': TLS is already started at line %u",
                         keyword, p->tls_at);
  if (p->refused_at != 0 && step_syntax[i].kind != SMTPKIT_STEP_EXPECT_CLOSE)
    return syntax_error (p, p->lineno, error,
                         "'%s' can never run: the client refuses the TLS handshake at line %u "
                         "(only expect-close may follow)",
                         keyword, p->refused_at);
  if (p->shutdown_at != 0 && step_syntax[i].kind != SMTPKIT_STEP_EXPECT_CLOSE)
    return syntax_error (p, p->lineno, error,
                         "'%s' can never run: the server shuts down its side at line %u "
                         "(only expect-close may follow)",
                         keyword, p->shutdown_at);

  step = g_new0 (SmtpkitScenarioStep, 1);
  g_ptr_array_add (p->scenario->server_steps, step);
  step->kind = step_syntax[i].kind;
  step->lineno = p->lineno;
  step->keyword = step_syntax[i].keyword;
  step->arg = g_strdup (arg);

  switch (step_syntax[i].arg)
    {
    case ARG_NONE:
      if (*arg != '\0')
        return syntax_error (p, p->lineno, error, "'%s' takes no argument", keyword);
      break;
    case ARG_TEXT:
      if (step->kind == SMTPKIT_STEP_SEND)
        step->bytes = g_bytes_new_take (g_strconcat (arg, "\r\n", NULL), strlen (arg) + 2);
      break;
    case ARG_QUOTED:
      {
        gsize len;
        guint8 *data = smtpkit_scenario_unescape (arg, &len, &local_error);

        if (data == NULL)
          return syntax_error (p, p->lineno, error, "%s: %s", keyword, local_error->message);
        step->bytes = g_bytes_new_take (data, len);
      }
      break;
    case ARG_NUMBER:
      if (!g_ascii_string_to_unsigned (arg, 10, 0, step_syntax[i].max, &step->number, NULL))
        return syntax_error (p, p->lineno, error, "'%s' needs a number of %s, found '%s'",
                             keyword, step_syntax[i].unit, arg);
      break;
    case ARG_CERT:
      if (!parse_cert (step, arg))
        return syntax_error (p, p->lineno, error,
                             "'%s' takes an optional cert=good|expired|wrong-name|untrusted, "
                             "found '%s'",
                             keyword, arg);
      break;
    case ARG_AUTH:
      if (!parse_auth (step, arg))
        return syntax_error (p, p->lineno, error,
                             "'%s' needs MECHANISM USER PASSWORD [ok|fail] (quoted words "
                             "without NUL), found '%s'",
                             keyword, arg);
      break;
    }

  if (step->kind == SMTPKIT_STEP_EXPECT_DATA)
    {
      p->data_step = step;
      p->body = g_byte_array_new ();
    }
  else if (step->kind == SMTPKIT_STEP_CLOSE)
    p->closed_at = p->lineno;
  else if (step->kind == SMTPKIT_STEP_STARTTLS_REFUSED)
    p->refused_at = p->lineno;
  else if (step->kind == SMTPKIT_STEP_SHUTDOWN)
    p->shutdown_at = p->lineno;
  else if (step->kind == SMTPKIT_STEP_STARTTLS)
    p->tls_at = p->lineno;

  return TRUE;
}

static gboolean
start_section (Parser      *p,
               const char  *text,
               GError     **error)
{
  Section section;

  if (strcmp (text, "client:") == 0)
    section = SECTION_CLIENT;
  else if (strcmp (text, "server:") == 0)
    section = SECTION_SERVER;
  else
    return syntax_error (p, p->lineno, error,
                         "expected 'client:' or 'server:' (steps are indented), found '%s'",
                         text);

  if (!check_body_ended (p, error))
    return FALSE;
  if (p->seen[section])
    return syntax_error (p, p->lineno, error, "a second '%s' section", text);
  p->seen[section] = TRUE;
  p->section = section;
  return TRUE;
}

/* @line is modified in place. */
static gboolean
parse_line (Parser  *p,
            char    *line,
            GError **error)
{
  gsize len = strlen (line);
  char *text;

  /* Tolerate files with CRLF line ends. */
  if (len > 0 && line[len - 1] == '\r')
    line[len - 1] = '\0';
  text = line + strspn (line, " \t");

  /* Body lines keep their trailing blanks; other lines lose them. */
  if (*text != '|')
    g_strchomp (text);

  if (*text == '\0')
    return TRUE;
  if (*text == '#')
    {
      if (p->scenario->title == NULL)
        p->scenario->title = g_strdup (g_strchug (text + 1));
      return TRUE;
    }
  if (text == line && *text != '|')
    return start_section (p, text, error);

  switch (p->section)
    {
    case SECTION_CLIENT:
      return add_client_line (p, text);
    case SECTION_SERVER:
      if (*text == '|')
        return add_body_line (p, text + 1, error);
      return add_server_step (p, text, error);
    case SECTION_NONE:
    default:
      return syntax_error (p, p->lineno, error,
                           "'%s' is outside a 'client:' or 'server:' section", text);
    }
}

static SmtpkitScenario *
scenario_parse (const char  *name,
                const char  *path,
                const char  *text,
                GError     **error)
{
  g_autoptr (SmtpkitScenario) scenario = g_atomic_rc_box_new0 (SmtpkitScenario);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  Parser p = { scenario, };
  gboolean ok = TRUE;

  scenario->name = g_strdup (name);
  scenario->path = g_strdup (path);
  scenario->client_steps = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_line_free);
  scenario->server_steps = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_step_free);

  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      p.lineno = i + 1;
      ok = parse_line (&p, lines[i], error);
    }
  ok = ok && check_body_ended (&p, error);
  g_clear_pointer (&p.body, g_byte_array_unref);

  return ok ? g_steal_pointer (&scenario) : NULL;
}

/**
 * smtpkit_scenario_new_from_file:
 * @path: a scenario file
 * @error: return location for a #GError
 *
 * Reads and parses a scenario file. Syntax errors are reported as
 * %SMTPKIT_FAKE_SERVER_ERROR_SCRIPT with a message "PATH:LINE: what is
 * wrong"; errors reading the file pass through in %G_FILE_ERROR.
 *
 * Returns: (transfer full) (nullable): the scenario, or %NULL
 */
SmtpkitScenario *
smtpkit_scenario_new_from_file (const char  *path,
                                GError     **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return scenario_parse (path, path, text, error);
}

/**
 * smtpkit_scenario_new_from_data:
 * @name: the name used in messages in place of a file name
 * @text: the scenario
 * @error: return location for a #GError
 *
 * Parses a scenario held in memory, as [func@Scenario.new_from_file] does.
 *
 * Returns: (transfer full) (nullable): the scenario, or %NULL
 */
SmtpkitScenario *
smtpkit_scenario_new_from_data (const char  *name,
                                const char  *text,
                                GError     **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  return scenario_parse (name, NULL, text, error);
}

/**
 * smtpkit_scenario_ref:
 * @scenario: a scenario
 *
 * Takes a reference. Scenarios are immutable and may be shared between
 * threads.
 *
 * Returns: (transfer full): @scenario
 */
SmtpkitScenario *
smtpkit_scenario_ref (SmtpkitScenario *scenario)
{
  return g_atomic_rc_box_acquire (scenario);
}

/**
 * smtpkit_scenario_unref:
 * @scenario: (transfer full): a scenario
 *
 * Drops a reference; the last one frees @scenario.
 */
void
smtpkit_scenario_unref (SmtpkitScenario *scenario)
{
  g_atomic_rc_box_release_full (scenario, (GDestroyNotify) scenario_clear);
}

/**
 * smtpkit_scenario_get_name:
 * @scenario: a scenario
 *
 * The name used in messages: the path of a file, or the name given to
 * [func@Scenario.new_from_data].
 *
 * Returns: (transfer none): the name
 */
const char *
smtpkit_scenario_get_name (SmtpkitScenario *scenario)
{
  return scenario->name;
}

/**
 * smtpkit_scenario_get_path:
 * @scenario: a scenario
 *
 * Returns: (transfer none) (nullable): the file the scenario was read
 *   from, or %NULL when it was parsed from memory
 */
const char *
smtpkit_scenario_get_path (SmtpkitScenario *scenario)
{
  return scenario->path;
}

/**
 * smtpkit_scenario_get_title:
 * @scenario: a scenario
 *
 * The text of the first comment line, without `#` and leading blanks:
 * by convention the RFC section checked and what is checked.
 *
 * Returns: (transfer none) (nullable): the title, or %NULL when the file
 *   has no comment
 */
const char *
smtpkit_scenario_get_title (SmtpkitScenario *scenario)
{
  return scenario->title;
}

/**
 * smtpkit_scenario_get_client_steps:
 * @scenario: a scenario
 *
 * The lines of the `client:` section, in order, without indentation,
 * trailing blanks, blank lines and comments. Their meaning is up to the
 * test runner.
 *
 * Returns: (transfer none) (element-type SmtpkitScenarioLine): the lines
 */
GPtrArray *
smtpkit_scenario_get_client_steps (SmtpkitScenario *scenario)
{
  return scenario->client_steps;
}

/**
 * smtpkit_scenario_get_n_server_steps:
 * @scenario: a scenario
 *
 * Returns: the number of steps of the `server:` section; 0 for a scenario
 *   whose client never reaches the server (a call refused before it
 *   connects)
 */
guint
smtpkit_scenario_get_n_server_steps (SmtpkitScenario *scenario)
{
  return scenario->server_steps->len;
}

GPtrArray *
smtpkit_scenario_get_server_steps (SmtpkitScenario *scenario)
{
  return scenario->server_steps;
}
