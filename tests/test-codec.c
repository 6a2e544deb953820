/* test-codec.c: unit tests of the pure protocol codec and of SmtpkitReply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-codec-private.h"
#include "smtpkit-error.h"
#include "smtpkit-reply.h"

#define NONE ((const char *[]){ NULL })

/* ---- SmtpkitReply ----------------------------------------------------- */

static void
test_reply_new (void)
{
  const char *lines[] = { "mx.example.org", "SIZE 100", "HELP", NULL };
  g_autoptr (SmtpkitReply) reply = smtpkit_reply_new (250, lines);

  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
  g_assert_cmpstrv (smtpkit_reply_get_lines (reply), lines);
  /* The lines are copied. */
  g_assert_true (smtpkit_reply_get_lines (reply) != lines);
  g_assert_true (smtpkit_reply_get_lines (reply)[0] != lines[0]);
  g_assert_cmpstr (smtpkit_reply_get_text (reply), ==, "mx.example.org\nSIZE 100\nHELP");
  g_assert_null (smtpkit_reply_get_enhanced_status (reply));
}

static void
test_reply_no_lines (void)
{
  const char *empty_line[] = { "", NULL };
  g_autoptr (SmtpkitReply) from_null = smtpkit_reply_new (250, NULL);
  g_autoptr (SmtpkitReply) from_empty = smtpkit_reply_new (221, NONE);
  g_autoptr (SmtpkitReply) from_empty_line = smtpkit_reply_new (354, empty_line);

  g_assert_nonnull (smtpkit_reply_get_lines (from_null));
  g_assert_null (smtpkit_reply_get_lines (from_null)[0]);
  g_assert_cmpstr (smtpkit_reply_get_text (from_null), ==, "");
  g_assert_null (smtpkit_reply_get_enhanced_status (from_null));

  g_assert_cmpuint (smtpkit_reply_get_code (from_empty), ==, 221);
  g_assert_null (smtpkit_reply_get_lines (from_empty)[0]);
  g_assert_cmpstr (smtpkit_reply_get_text (from_empty), ==, "");

  g_assert_cmpstrv (smtpkit_reply_get_lines (from_empty_line), empty_line);
  g_assert_cmpstr (smtpkit_reply_get_text (from_empty_line), ==, "");
}

static void
test_reply_text_strip (void)
{
  /* smtplib strips each line of ' \t\r\n' and nothing else. */
  const char *lines[] = { "  a \t", "\tb\r\n", "", "  ", "c  d", "\vx\f", "\r", NULL };
  g_autoptr (SmtpkitReply) reply = smtpkit_reply_new (250, lines);

  g_assert_cmpstr (smtpkit_reply_get_text (reply), ==, "a\nb\n\n\nc  d\n\vx\f\n");
  /* The lines themselves are kept as given. */
  g_assert_cmpstrv (smtpkit_reply_get_lines (reply), lines);
}

static void
test_reply_classes (void)
{
  const struct
  {
    guint code;
    gboolean positive, transient, permanent;
  } cases[] = {
    { 211, TRUE, FALSE, FALSE },
    { 220, TRUE, FALSE, FALSE },
    { 250, TRUE, FALSE, FALSE },
    { 299, TRUE, FALSE, FALSE },
    { 334, TRUE, FALSE, FALSE },
    { 354, TRUE, FALSE, FALSE },
    { 421, FALSE, TRUE, FALSE },
    { 450, FALSE, TRUE, FALSE },
    { 499, FALSE, TRUE, FALSE },
    { 500, FALSE, FALSE, TRUE },
    { 554, FALSE, FALSE, TRUE },
    { 599, FALSE, FALSE, TRUE },
    { 199, FALSE, FALSE, FALSE },
    { 600, FALSE, FALSE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SmtpkitReply) reply = smtpkit_reply_new (cases[i].code, NULL);

      g_test_message ("code %u", cases[i].code);
      g_assert_cmpint (smtpkit_reply_is_positive (reply), ==, cases[i].positive);
      g_assert_cmpint (smtpkit_reply_is_transient (reply), ==, cases[i].transient);
      g_assert_cmpint (smtpkit_reply_is_permanent (reply), ==, cases[i].permanent);
    }
}

static void
test_reply_boxed (void)
{
  const char *lines[] = { "2.0.0 Bye", NULL };
  SmtpkitReply *reply = smtpkit_reply_new (221, lines);
  SmtpkitReply *copy;
  GValue value = G_VALUE_INIT;

  g_assert_true (G_TYPE_IS_BOXED (SMTPKIT_TYPE_REPLY));
  g_assert_cmpstr (g_type_name (SMTPKIT_TYPE_REPLY), ==, "SmtpkitReply");

  g_assert_true (smtpkit_reply_ref (reply) == reply);
  smtpkit_reply_unref (reply);

  /* Copying a boxed reply takes a reference: the same object. */
  copy = g_boxed_copy (SMTPKIT_TYPE_REPLY, reply);
  g_assert_true (copy == reply);
  g_boxed_free (SMTPKIT_TYPE_REPLY, copy);

  g_value_init (&value, SMTPKIT_TYPE_REPLY);
  g_value_set_boxed (&value, reply);
  smtpkit_reply_unref (reply);
  /* The GValue holds the last reference; the reply is still whole. */
  g_assert_cmpuint (smtpkit_reply_get_code (g_value_get_boxed (&value)), ==, 221);
  g_assert_cmpstr (smtpkit_reply_get_enhanced_status (g_value_get_boxed (&value)), ==, "2.0.0");
  g_value_unset (&value);
}

typedef struct
{
  const char *name;
  guint code;
  const char *lines[3];
  const char *expected;
} StatusCase;

static const StatusCase status_cases[] = {
  { "with-text", 250, { "2.1.0 Sender OK" }, "2.1.0" },
  { "alone", 250, { "2.1.0" }, "2.1.0" },
  { "three-digits", 250, { "2.123.456 ok" }, "2.123.456" },
  { "permanent", 550, { "5.1.1 No such user" }, "5.1.1" },
  { "transient", 451, { "4.7.1 Try later" }, "4.7.1" },
  { "leading-space", 250, { "  2.0.0 ok" }, "2.0.0" },
  { "trailing-space", 250, { "2.0.0   " }, "2.0.0" },
  { "multiline-first", 250, { "2.0.0 first", "5.0.0 second" }, "2.0.0" },
  { "inconsistent-class", 250, { "5.1.1 x" }, NULL },
  { "inconsistent-transient", 550, { "4.1.1 x" }, NULL },
  { "class-3", 354, { "3.0.0 go ahead" }, NULL },
  { "class-1", 150, { "1.0.0 x" }, NULL },
  { "absent", 250, { "OK" }, NULL },
  { "not-at-start", 250, { "ok 2.1.0" }, NULL },
  { "only-on-second-line", 250, { "mx.example.org", "2.0.0 ok" }, NULL },
  { "missing-detail", 250, { "2.1 ok" }, NULL },
  { "missing-detail-dot", 250, { "2.1. ok" }, NULL },
  { "empty-subject", 250, { "2..0 ok" }, NULL },
  { "long-subject", 250, { "2.1234.0 ok" }, NULL },
  { "long-detail", 250, { "2.1.0000 ok" }, NULL },
  { "glued-text", 250, { "2.1.0x" }, NULL },
  { "glued-dot", 250, { "2.1.0.1 ok" }, NULL },
  { "tab-after", 250, { "2.1.0\tok" }, NULL },
  { "two-digit-class", 250, { "20.1.0 ok" }, NULL },
  { "letter-subject", 250, { "2.a.0 ok" }, NULL },
  { "empty-line", 250, { "" }, NULL },
  { "no-lines", 250, { NULL }, NULL },
};

static void
test_reply_enhanced_status (gconstpointer data)
{
  const StatusCase *c = data;
  g_autoptr (SmtpkitReply) reply = smtpkit_reply_new (c->code, c->lines);

  g_assert_cmpstr (smtpkit_reply_get_enhanced_status (reply), ==, c->expected);
}

/* ---- reply parser ----------------------------------------------------- */

typedef struct
{
  SmtpkitReplyParserStatus status;
  gsize consumed;
  SmtpkitReply *reply;
  GError *error;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_pointer (&outcome->reply, smtpkit_reply_unref);
  g_clear_error (&outcome->error);
}

/* Feeds @input, cut at @cuts (ascending offsets), to a new parser until it
 * stops asking for more, checking the contract of each call on the way. */
static void
parse_cut (const char  *input,
           gsize        length,
           const gsize *cuts,
           gsize        n_cuts,
           Outcome     *outcome)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  gsize start = 0;

  memset (outcome, 0, sizeof *outcome);
  outcome->status = SMTPKIT_REPLY_PARSER_NEED_MORE;

  for (gsize i = 0; i <= n_cuts && outcome->status == SMTPKIT_REPLY_PARSER_NEED_MORE; i++)
    {
      gsize end = i < n_cuts ? cuts[i] : length;
      gsize used = G_MAXSIZE;

      g_assert_cmpuint (end, >=, start);
      g_assert_cmpuint (end, <=, length);
      outcome->status = smtpkit_reply_parser_feed (parser, (const guint8 *) input + start,
                                                   end - start, &used, &outcome->reply,
                                                   &outcome->error);
      g_assert_cmpuint (used, <=, end - start);
      outcome->consumed = start + used;

      switch (outcome->status)
        {
        case SMTPKIT_REPLY_PARSER_NEED_MORE:
          g_assert_cmpuint (used, ==, end - start);
          g_assert_null (outcome->reply);
          g_assert_no_error (outcome->error);
          g_assert_cmpint (smtpkit_reply_parser_has_partial (parser), ==, end > 0);
          break;
        case SMTPKIT_REPLY_PARSER_REPLY:
          g_assert_nonnull (outcome->reply);
          g_assert_no_error (outcome->error);
          g_assert_false (smtpkit_reply_parser_has_partial (parser));
          break;
        case SMTPKIT_REPLY_PARSER_ERROR:
          g_assert_null (outcome->reply);
          g_assert_error (outcome->error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
          g_assert_null (smtpkit_error_get_reply (outcome->error));
          break;
        default:
          g_assert_not_reached ();
        }
      start = end;
    }

  smtpkit_reply_parser_free (parser);
}

static void
assert_same_outcome (const Outcome *expected,
                     const Outcome *actual)
{
  g_assert_cmpint (actual->status, ==, expected->status);
  g_assert_cmpuint (actual->consumed, ==, expected->consumed);

  if (expected->reply != NULL)
    {
      g_assert_cmpuint (smtpkit_reply_get_code (actual->reply), ==,
                        smtpkit_reply_get_code (expected->reply));
      g_assert_cmpstrv (smtpkit_reply_get_lines (actual->reply),
                        smtpkit_reply_get_lines (expected->reply));
    }
  if (expected->error != NULL)
    {
      g_assert_error (actual->error, expected->error->domain, expected->error->code);
      g_assert_cmpstr (actual->error->message, ==, expected->error->message);
    }
}

/* Parses @input whole, then split in every way allowed by @splits: one byte
 * at a time always; at every single cut when @splits >= 1; at every pair of
 * cuts (empty pieces included) when @splits >= 2. Every way must give the
 * same outcome; @whole gets it. */
static void
parse_every_way (const char *input,
                 gsize       length,
                 guint       splits,
                 Outcome    *whole)
{
  g_autofree gsize *cuts = g_new (gsize, length + 2);
  Outcome outcome;

  parse_cut (input, length, NULL, 0, whole);

  for (gsize i = 0; i < length; i++)
    cuts[i] = i + 1;
  parse_cut (input, length, cuts, length > 0 ? length - 1 : 0, &outcome);
  assert_same_outcome (whole, &outcome);
  outcome_clear (&outcome);

  for (gsize i = 0; splits >= 1 && i <= length; i++)
    {
      cuts[0] = i;
      parse_cut (input, length, cuts, 1, &outcome);
      assert_same_outcome (whole, &outcome);
      outcome_clear (&outcome);

      for (gsize j = i; splits >= 2 && j <= length; j++)
        {
          cuts[1] = j;
          parse_cut (input, length, cuts, 2, &outcome);
          assert_same_outcome (whole, &outcome);
          outcome_clear (&outcome);
        }
    }
}

typedef struct
{
  const char *name;
  const char *input;
  gsize length; /* 0: strlen (input) */
  guint code;
  const char *lines[5];
  const char *text;
  gsize consumed; /* 0: all of the input */
} ReplyCase;

static const ReplyCase reply_cases[] = {
  { "single", "250 OK\r\n", 0, 250, { "OK" }, "OK", 0 },
  { "code-alone", "250\r\n", 0, 250, { "" }, "", 0 },
  { "code-space", "250 \r\n", 0, 250, { "" }, "", 0 },
  { "bare-lf", "250 OK\n", 0, 250, { "OK" }, "OK", 0 },
  { "code-alone-bare-lf", "221\n", 0, 221, { "" }, "", 0 },
  { "multiline",
    "250-mx.example.org greets you\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250 HELP\r\n", 0,
    250, { "mx.example.org greets you", "SIZE 35882577", "8BITMIME", "HELP" },
    "mx.example.org greets you\nSIZE 35882577\n8BITMIME\nHELP", 0 },
  { "multiline-bare-lf", "220-a\n220 b\n", 0, 220, { "a", "b" }, "a\nb", 0 },
  { "multiline-mixed-endings", "250-a\r\n250-b\n250 c\r\n", 0, 250, { "a", "b", "c" },
    "a\nb\nc", 0 },
  { "multiline-ends-with-code-alone", "220-hello\r\n220\r\n", 0, 220, { "hello", "" },
    "hello\n", 0 },
  { "multiline-empty-first", "250-\r\n250 x\r\n", 0, 250, { "", "x" }, "\nx", 0 },
  { "spaces-kept-in-lines", "250  spaced \t\r\n", 0, 250, { " spaced \t" }, "spaced", 0 },
  { "inner-cr", "250 a\rb\r\n", 0, 250, { "a\rb" }, "a\rb", 0 },
  { "one-cr-dropped", "250 ok\r\r\n", 0, 250, { "ok\r" }, "ok", 0 },
  { "lowest-code", "200 x\r\n", 0, 200, { "x" }, "x", 0 },
  { "highest-code", "599 x\r\n", 0, 599, { "x" }, "x", 0 },
  { "non-ascii", "554 caf\xc3\xa9 \xff\r\n", 0, 554, { "caf\xc3\xa9 \xff" }, "caf\xc3\xa9 \xff",
    0 },
  { "enhanced", "550 5.1.1 <x@y>: no such user\r\n", 0, 550, { "5.1.1 <x@y>: no such user" },
    "5.1.1 <x@y>: no such user", 0 },
  { "followed-by-more", "250 a\r\n251 b\r\n", 0, 250, { "a" }, "a", 7 },
  { "followed-by-garbage", "250-a\r\n250 b\r\n\0garbage", 22, 250, { "a", "b" }, "a\nb", 14 },
};

static void
test_reply_parse (gconstpointer data)
{
  const ReplyCase *c = data;
  gsize length = c->length ? c->length : strlen (c->input);
  Outcome whole;

  parse_every_way (c->input, length, 2, &whole);

  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_cmpuint (whole.consumed, ==, c->consumed ? c->consumed : length);
  g_assert_cmpuint (smtpkit_reply_get_code (whole.reply), ==, c->code);
  g_assert_cmpstrv (smtpkit_reply_get_lines (whole.reply), c->lines);
  g_assert_cmpstr (smtpkit_reply_get_text (whole.reply), ==, c->text);
  outcome_clear (&whole);
}

typedef struct
{
  const char *name;
  const char *input;
  gsize length; /* 0: strlen (input) */
  const char *message_part;
  gsize consumed; /* bytes up to and including the offending one or line */
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "two-digits", "25\r\n", 0, "malformed reply line \"25\"", 4 },
  { "two-digits-space", "25 ok\r\n", 0, "\"25 ok\"", 7 },
  { "letters", "abc\r\n", 0, "\"abc\"", 5 },
  { "code-then-letter", "250x\r\n", 0, "\"250x\"", 6 },
  { "four-digits", "2501 ok\r\n", 0, "\"2501 ok\"", 9 },
  { "first-digit-0", "050 x\r\n", 0, "\"050 x\"", 7 },
  { "first-digit-1", "150 x\r\n", 0, "\"150 x\"", 7 },
  { "first-digit-6", "650 x\r\n", 0, "\"650 x\"", 7 },
  { "letter-in-code", "2a0 x\r\n", 0, "\"2a0 x\"", 7 },
  { "empty-line", "\r\n", 0, "malformed reply line \"\"", 2 },
  { "empty-line-bare-lf", "\n", 0, "malformed reply line \"\"", 1 },
  { "leading-space", " 250 ok\r\n", 0, "\" 250 ok\"", 9 },
  { "tab-separator", "250\tok\r\n", 0, "\"250\\tok\"", 8 },
  { "escaped", "\xff\x01\"\r\n", 0, "\"\\377\\001\\\"\"", 5 },
  { "bad-second-line", "250-a\r\nxyz\r\n", 0, "\"xyz\"", 12 },
  { "bad-continuation-code", "250-a\r\n25-b\r\n", 0, "\"25-b\"", 13 },
  { "disagree", "250-a\r\n251 b\r\n", 0, "lines of one reply disagree: 250 then 251", 14 },
  { "disagree-later", "250-a\r\n250-b\r\n550 c\r\n", 0,
    "lines of one reply disagree: 250 then 550", 21 },
  { "disagree-continuation", "220-a\r\n250-b\r\n", 0, "lines of one reply disagree: 220 then 250",
    14 },
  { "nul-in-text", "250 a\0b\r\n", 9, "NUL byte", 6 },
  { "nul-first", "\0", 1, "NUL byte", 1 },
  { "nul-in-code", "2\00050 x\r\n", 8, "NUL byte", 2 },
  { "nul-second-line", "250-a\r\n250 \0\r\n", 14, "NUL byte", 12 },
  { "nul-unterminated", "250 abc\0", 8, "NUL byte", 8 },
  { "nul-after-bad-line", "abc\n\0", 5, "\"abc\"", 4 },
};

static void
test_reply_error (gconstpointer data)
{
  const ErrorCase *c = data;
  gsize length = c->length ? c->length : strlen (c->input);
  Outcome whole;

  parse_every_way (c->input, length, 2, &whole);

  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (whole.error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_true (g_utf8_validate (whole.error->message, -1, NULL));
  if (strstr (whole.error->message, c->message_part) == NULL)
    g_error ("message \"%s\" does not contain \"%s\"", whole.error->message, c->message_part);
  g_assert_cmpuint (whole.consumed, ==, c->consumed);
  outcome_clear (&whole);
}

static void
test_reply_error_truncated_quote (void)
{
  g_autofree char *x80 = g_strnfill (80, 'X');
  g_autofree char *x81 = g_strnfill (81, 'X');
  g_autofree char *x200 = g_strnfill (200, 'X');
  g_autofree char *line = g_strconcat (x200, "\r\n", NULL);
  g_autofree char *expected = g_strdup_printf ("line \"%s\"... (expected", x80);
  Outcome whole;

  parse_every_way (line, strlen (line), 1, &whole);
  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (whole.error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (whole.error->message, expected));
  /* Only 80 bytes of the line are quoted. */
  g_assert_null (strstr (whole.error->message, x81));
  outcome_clear (&whole);
}

/* "250 aaa...a" + @ending, @length octets in all. */
static char *
long_line (const char *prefix,
           gsize       length,
           const char *ending)
{
  gsize fill = length - strlen (prefix) - strlen (ending);
  g_autofree char *as = g_strnfill (fill, 'a');

  return g_strconcat (prefix, as, ending, NULL);
}

static void
test_reply_longest_line (void)
{
  g_autofree char *crlf = long_line ("250 ", SMTPKIT_MAX_REPLY_LINE, "\r\n");
  g_autofree char *lf = long_line ("250 ", SMTPKIT_MAX_REPLY_LINE, "\n");
  g_autofree char *continued = NULL;
  Outcome whole;

  parse_every_way (crlf, SMTPKIT_MAX_REPLY_LINE, 0, &whole);
  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_cmpuint (whole.consumed, ==, SMTPKIT_MAX_REPLY_LINE);
  g_assert_cmpuint (strlen (smtpkit_reply_get_text (whole.reply)), ==,
                    SMTPKIT_MAX_REPLY_LINE - 6);
  outcome_clear (&whole);

  parse_every_way (lf, SMTPKIT_MAX_REPLY_LINE, 0, &whole);
  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_cmpuint (strlen (smtpkit_reply_get_text (whole.reply)), ==,
                    SMTPKIT_MAX_REPLY_LINE - 5);
  outcome_clear (&whole);

  /* The limit is per line, not per reply. */
  continued = g_strconcat (crlf, crlf, NULL);
  continued[3] = '-';
  parse_every_way (continued, 2 * SMTPKIT_MAX_REPLY_LINE, 0, &whole);
  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_cmpuint (g_strv_length ((char **) smtpkit_reply_get_lines (whole.reply)), ==, 2);
  outcome_clear (&whole);
}

static void
assert_too_long (const Outcome *whole,
                 const char    *what,
                 gsize          consumed)
{
  g_assert_cmpint (whole->status, ==, SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (whole->error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (whole->error->message, what));
  g_assert_cmpuint (whole->consumed, ==, consumed);
}

static void
test_reply_line_too_long (void)
{
  g_autofree char *crlf = long_line ("250 ", SMTPKIT_MAX_REPLY_LINE + 1, "\r\n");
  g_autofree char *lf = long_line ("250 ", SMTPKIT_MAX_REPLY_LINE + 1, "\n");
  g_autofree char *second = NULL;
  Outcome whole;

  parse_every_way (crlf, SMTPKIT_MAX_REPLY_LINE + 1, 1, &whole);
  assert_too_long (&whole, "reply line longer than 8192 octets", SMTPKIT_MAX_REPLY_LINE + 1);
  outcome_clear (&whole);

  parse_every_way (lf, SMTPKIT_MAX_REPLY_LINE + 1, 0, &whole);
  assert_too_long (&whole, "reply line longer than 8192 octets", SMTPKIT_MAX_REPLY_LINE + 1);
  outcome_clear (&whole);

  /* On a continuation line too. */
  second = g_strconcat ("250-a\r\n", crlf, NULL);
  parse_every_way (second, strlen (second), 0, &whole);
  assert_too_long (&whole, "reply line longer than 8192 octets",
                   7 + SMTPKIT_MAX_REPLY_LINE + 1);
  outcome_clear (&whole);
}

/* Of a NUL and the limit, what comes first in the input is reported,
 * however the input is cut. */
static void
test_reply_line_too_long_then_nul (void)
{
  g_autofree char *nul_after = long_line ("250 ", 9000, "\r\n");
  g_autofree char *nul_at = long_line ("250 ", 9000, "\r\n");
  Outcome whole;

  nul_after[8500] = '\0';
  parse_every_way (nul_after, 9000, 1, &whole);
  assert_too_long (&whole, "reply line longer than 8192 octets", SMTPKIT_MAX_REPLY_LINE + 1);
  outcome_clear (&whole);

  nul_at[SMTPKIT_MAX_REPLY_LINE] = '\0';
  parse_every_way (nul_at, 9000, 1, &whole);
  assert_too_long (&whole, "NUL byte", SMTPKIT_MAX_REPLY_LINE + 1);
  outcome_clear (&whole);
}

/* A line without its end is refused as soon as it is over the limit, not
 * buffered until an LF arrives. */
static void
test_reply_line_too_long_unterminated (void)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  g_autofree char *big = long_line ("250 ", 100000, "");
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  gsize consumed = 0;

  g_assert_cmpint (smtpkit_reply_parser_feed (parser, (const guint8 *) big,
                                              SMTPKIT_MAX_REPLY_LINE, &consumed, &reply,
                                              &error),
                   ==, SMTPKIT_REPLY_PARSER_NEED_MORE);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, SMTPKIT_MAX_REPLY_LINE);
  g_assert_true (smtpkit_reply_parser_has_partial (parser));

  /* Not even an LF can end it now. */
  g_assert_cmpint (smtpkit_reply_parser_feed (parser, (const guint8 *) "\n", 1, &consumed,
                                              &reply, &error),
                   ==, SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_null (reply);
  g_clear_error (&error);

  /* All at once: refused at the first octet over. */
  smtpkit_reply_parser_reset (parser);
  g_assert_cmpint (smtpkit_reply_parser_feed (parser, (const guint8 *) big, 100000, &consumed,
                                              &reply, &error),
                   ==, SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "longer than 8192"));
  g_assert_cmpuint (consumed, ==, SMTPKIT_MAX_REPLY_LINE + 1);

  smtpkit_reply_parser_free (parser);
}

/* @n_lines continuation lines of 8000 octets, then "250 " + filler up to
 * @total octets in all. */
static GString *
big_reply (guint n_lines,
           gsize total)
{
  GString *reply = g_string_new (NULL);

  for (guint i = 0; i < n_lines; i++)
    {
      g_autofree char *line = long_line ("250-", 8000, "\r\n");

      g_string_append (reply, line);
    }
  if (total > reply->len)
    {
      g_autofree char *last = long_line ("250 ", total - reply->len, "\r\n");

      g_string_append (reply, last);
    }

  return reply;
}

static void
test_reply_largest (void)
{
  g_autoptr (GString) input = big_reply (8, SMTPKIT_MAX_REPLY_SIZE);
  Outcome whole;

  g_assert_cmpuint (input->len, ==, SMTPKIT_MAX_REPLY_SIZE);
  parse_every_way (input->str, input->len, 0, &whole);
  g_assert_cmpint (whole.status, ==, SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_cmpuint (whole.consumed, ==, SMTPKIT_MAX_REPLY_SIZE);
  g_assert_cmpuint (g_strv_length ((char **) smtpkit_reply_get_lines (whole.reply)), ==, 9);
  outcome_clear (&whole);
}

static void
test_reply_too_large (void)
{
  g_autoptr (GString) one_over = big_reply (8, SMTPKIT_MAX_REPLY_SIZE + 1);
  g_autoptr (GString) many = big_reply (20, 0);
  Outcome whole;

  parse_every_way (one_over->str, one_over->len, 0, &whole);
  assert_too_long (&whole, "reply longer than 65536 octets", SMTPKIT_MAX_REPLY_SIZE + 1);
  outcome_clear (&whole);

  /* Many 8000-octet lines, never ending: refused at the first octet over. */
  parse_every_way (many->str, many->len, 0, &whole);
  assert_too_long (&whole, "reply longer than 65536 octets", SMTPKIT_MAX_REPLY_SIZE + 1);
  outcome_clear (&whole);
}

static SmtpkitReplyParserStatus
feed_string (SmtpkitReplyParser  *parser,
             const char          *input,
             gsize               *consumed,
             SmtpkitReply       **reply,
             GError             **error)
{
  return smtpkit_reply_parser_feed (parser, (const guint8 *) input, strlen (input), consumed,
                                    reply, error);
}

static void
test_reply_two_in_one_buffer (void)
{
  const char *input = "250 first\r\n251-b\r\n251 c\r\n354 go";
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  g_autoptr (SmtpkitReply) first = NULL;
  g_autoptr (SmtpkitReply) second = NULL;
  g_autoptr (SmtpkitReply) third = NULL;
  g_autoptr (GError) error = NULL;
  gsize consumed = 0;
  gsize pos = 0;

  g_assert_cmpint (feed_string (parser, input, &consumed, &first, &error), ==,
                   SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 11);
  g_assert_cmpuint (smtpkit_reply_get_code (first), ==, 250);
  g_assert_cmpstr (smtpkit_reply_get_text (first), ==, "first");
  g_assert_false (smtpkit_reply_parser_has_partial (parser));
  pos += consumed;

  g_assert_cmpint (feed_string (parser, input + pos, &consumed, &second, &error), ==,
                   SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 14);
  g_assert_cmpuint (smtpkit_reply_get_code (second), ==, 251);
  g_assert_cmpstr (smtpkit_reply_get_text (second), ==, "b\nc");
  pos += consumed;

  /* The rest is an incomplete reply. */
  g_assert_cmpint (feed_string (parser, input + pos, &consumed, &third, &error), ==,
                   SMTPKIT_REPLY_PARSER_NEED_MORE);
  g_assert_no_error (error);
  g_assert_null (third);
  g_assert_cmpuint (consumed, ==, 6);
  g_assert_true (smtpkit_reply_parser_has_partial (parser));

  g_assert_cmpint (feed_string (parser, " ahead\r\n", &consumed, &third, &error), ==,
                   SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 8);
  g_assert_cmpuint (smtpkit_reply_get_code (third), ==, 354);
  g_assert_cmpstr (smtpkit_reply_get_text (third), ==, "go ahead");

  smtpkit_reply_parser_free (parser);
}

static void
test_reply_partial_and_reset (void)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  gsize consumed = 99;

  g_assert_false (smtpkit_reply_parser_has_partial (parser));

  /* Nothing fed is not a partial reply. */
  g_assert_cmpint (smtpkit_reply_parser_feed (parser, NULL, 0, &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 0);
  g_assert_false (smtpkit_reply_parser_has_partial (parser));

  g_assert_cmpint (feed_string (parser, "5", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_NEED_MORE);
  g_assert_true (smtpkit_reply_parser_has_partial (parser));
  smtpkit_reply_parser_reset (parser);
  g_assert_false (smtpkit_reply_parser_has_partial (parser));

  /* A complete line of an incomplete reply is a partial reply. */
  g_assert_cmpint (feed_string (parser, "220-one\r\n", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_NEED_MORE);
  g_assert_true (smtpkit_reply_parser_has_partial (parser));
  smtpkit_reply_parser_reset (parser);
  g_assert_false (smtpkit_reply_parser_has_partial (parser));

  /* Nothing of what was forgotten shows. */
  g_assert_cmpint (feed_string (parser, "250 ok\r\n", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
  g_assert_cmpstrv (smtpkit_reply_get_lines (reply), ((const char *[]){ "ok", NULL }));

  smtpkit_reply_parser_free (parser);
}

static void
test_reply_reset_after_error (void)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  gsize consumed = 0;

  g_assert_cmpint (feed_string (parser, "250-a\r\nbogus\r\n", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Until reset, the parser keeps refusing, even good input. */
  g_assert_cmpint (feed_string (parser, "250 ok\r\n", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_ERROR);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "reset"));
  g_assert_null (reply);
  g_assert_cmpuint (consumed, ==, 0);
  g_clear_error (&error);

  smtpkit_reply_parser_reset (parser);
  g_assert_cmpint (feed_string (parser, "250 ok\r\n", &consumed, &reply, &error), ==,
                   SMTPKIT_REPLY_PARSER_REPLY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 8);
  g_assert_cmpstr (smtpkit_reply_get_text (reply), ==, "ok");

  smtpkit_reply_parser_free (parser);
}

/* ---- EHLO parser ------------------------------------------------------ */

/* @expected: key, value, key, value, ..., NULL */
static void
assert_features (const char *const *lines,
                 const char *const *expected)
{
  g_autoptr (SmtpkitReply) reply = smtpkit_reply_new (250, lines);
  g_autoptr (GHashTable) features = smtpkit_codec_parse_ehlo (reply);
  guint n = 0;

  for (; expected[2 * n] != NULL; n++)
    {
      const char *key = expected[2 * n];

      g_test_message ("feature %s", key);
      g_assert_true (g_hash_table_contains (features, key));
      g_assert_cmpstr (g_hash_table_lookup (features, key), ==, expected[2 * n + 1]);
    }
  g_assert_cmpuint (g_hash_table_size (features), ==, n);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_ehlo_typical (void)
{
  assert_features (STRV ("mx.example.org greets client.example.org", "PIPELINING",
                         "SIZE 35882577", "8BITMIME", "AUTH LOGIN PLAIN", "AUTH=LOGIN",
                         "STARTTLS", "ENHANCEDSTATUSCODES", "DSN", "HELP"),
                   STRV ("pipelining", "", "size", "35882577", "8bitmime", "",
                         "auth", " LOGIN PLAIN LOGIN", "starttls", "",
                         "enhancedstatuscodes", "", "dsn", "", "help", ""));
}

static void
test_ehlo_greeting_skipped (void)
{
  /* The first line is the greeting, even when it looks like a keyword. */
  assert_features (STRV ("SIZE 10"), STRV (NULL));
  assert_features (NONE, STRV (NULL));
  assert_features (STRV ("AUTH=PLAIN", "SIZE 5"), STRV ("size", "5"));
}

static void
test_ehlo_auth_merging (void)
{
  /* smtplib appends " " + params each time, starting from "". */
  assert_features (STRV ("mx", "AUTH=PLAIN", "AUTH LOGIN"), STRV ("auth", " PLAIN LOGIN"));
  assert_features (STRV ("mx", "AUTH LOGIN", "AUTH CRAM-MD5"), STRV ("auth", " LOGIN CRAM-MD5"));
  /* AUTH= is matched case-insensitively and taken as is. */
  assert_features (STRV ("mx", "auth=login plain"), STRV ("auth", " login plain"));
  assert_features (STRV ("mx", "Auth=X"), STRV ("auth", " X"));
  assert_features (STRV ("mx", "AUTH="), STRV ("auth", " "));
  assert_features (STRV ("mx", "AUTH"), STRV ("auth", " "));
  assert_features (STRV ("mx", "Auth   CRAM-MD5   PLAIN"), STRV ("auth", " CRAM-MD5   PLAIN"));
  /* Not "auth=": the keyword rule applies. */
  assert_features (STRV ("mx", "AUTH =x"), STRV ("auth", " =x"));
}

static void
test_ehlo_keywords (void)
{
  assert_features (STRV ("mx", "StartTLS", "X-EXPS GSSAPI NTLM", "8BITMIME", "x-link2state"),
                   STRV ("starttls", "", "x-exps", "GSSAPI NTLM", "8bitmime", "",
                         "x-link2state", ""));
  /* Parameters are what follows the keyword, stripped as Python strips. */
  assert_features (STRV ("mx", "SIZE  100  ", "X-A\t1", "X-B\v2\v", "X-C \x1c 3\x1f", "SIZE=7"),
                   STRV ("size", "=7", "x-a", "1", "x-b", "2", "x-c", "3"));
  /* The last of a repeated keyword wins (auth excepted). */
  assert_features (STRV ("mx", "SIZE 1", "size 2"), STRV ("size", "2"));
}

static void
test_ehlo_bad_lines_ignored (void)
{
  assert_features (STRV ("mx", "-DASH", "_UNDERSCORE", "@AT", "", "=X", ".dot", "\xc3\xa9t\xc3\xa9",
                         "SIZE 10"),
                   STRV ("size", "10"));
}

/* ---- command formatter ------------------------------------------------ */

static void
test_check_argument (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (smtpkit_codec_check_argument ("recipient", "<a@example.org>", -1, &error));
  g_assert_no_error (error);
  g_assert_true (smtpkit_codec_check_argument ("recipient", "", -1, &error));
  g_assert_true (smtpkit_codec_check_argument ("recipient", NULL, 0, &error));
  g_assert_no_error (error);

  g_assert_false (smtpkit_codec_check_argument ("recipient", "a\r\nRSET", -1, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "recipient contains a line break (CR or LF); refusing to send it");
  g_assert_null (smtpkit_error_get_reply (error));
  g_clear_error (&error);

  g_assert_false (smtpkit_codec_check_argument ("sender", "a\rb", -1, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "sender contains a line break (CR or LF); refusing to send it");
  g_clear_error (&error);

  g_assert_false (smtpkit_codec_check_argument ("MAIL option", "\n", -1, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "MAIL option contains a line break (CR or LF); refusing to send it");
  g_clear_error (&error);

  g_assert_false (smtpkit_codec_check_argument ("sender", "a\0b", 3, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "sender contains a NUL byte; refusing to send it");
  g_clear_error (&error);

  /* Only @length bytes are looked at. */
  g_assert_true (smtpkit_codec_check_argument ("sender", "ab\r\n", 2, &error));
  g_assert_true (smtpkit_codec_check_argument ("sender", "ab\0", 2, &error));
  g_assert_no_error (error);
}

static void
assert_command (const char         *verb,
                const char         *arg,
                const char *const  *options,
                const char         *expected)
{
  g_autoptr (GString) out = g_string_new ("previous;");
  g_autoptr (GError) error = NULL;
  g_autofree char *with_prefix = g_strconcat ("previous;", expected, NULL);

  g_assert_true (smtpkit_codec_format_command (out, verb, arg, options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out->str, ==, with_prefix);
}

static void
test_format_command (void)
{
  assert_command ("NOOP", NULL, NULL, "NOOP\r\n");
  assert_command ("QUIT", "", NONE, "QUIT\r\n");
  assert_command ("EHLO", "client.example.org", NULL, "EHLO client.example.org\r\n");
  assert_command ("RCPT", "TO:<a@example.org>", NONE, "RCPT TO:<a@example.org>\r\n");
  assert_command ("MAIL", "FROM:<a@example.org>", STRV ("SIZE=1000", "BODY=8BITMIME"),
                  "MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME\r\n");
  assert_command ("MAIL", "FROM:<>", STRV ("SMTPUTF8"), "MAIL FROM:<> SMTPUTF8\r\n");
  assert_command ("AUTH", "PLAIN AGFsaWNlAHMzY3JldA==", NULL,
                  "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");
}

/* "RCPT TO:<aaa...a>" and options so that the line is @length octets. */
static void
format_of_length (gsize     length,
                  GString  *out,
                  GError  **error,
                  gboolean *ok)
{
  const char *option = "NOTIFY=NEVER";
  gsize fill = length - strlen ("RCPT TO:<> \r\n") - strlen (option);
  g_autofree char *as = g_strnfill (fill, 'a');
  g_autofree char *arg = g_strdup_printf ("TO:<%s>", as);

  *ok = smtpkit_codec_format_command (out, "RCPT", arg, STRV (option), error);
}

static void
test_format_command_length (void)
{
  g_autoptr (GString) out = g_string_new ("kept");
  g_autoptr (GError) error = NULL;
  gboolean ok;

  format_of_length (SMTPKIT_MAX_COMMAND_LINE, out, &error, &ok);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (out->len, ==, 4 + SMTPKIT_MAX_COMMAND_LINE);
  g_assert_true (g_str_has_prefix (out->str, "keptRCPT TO:<aaa"));
  g_assert_true (g_str_has_suffix (out->str, "aaa> NOTIFY=NEVER\r\n"));

  g_string_assign (out, "kept");
  format_of_length (SMTPKIT_MAX_COMMAND_LINE + 1, out, &error, &ok);
  g_assert_false (ok);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "513"));
  g_assert_nonnull (strstr (error->message, "512"));
  g_assert_cmpstr (out->str, ==, "kept");
  g_clear_error (&error);

  /* The verb counts too. */
  {
    g_autofree char *verb = g_strnfill (SMTPKIT_MAX_COMMAND_LINE - 1, 'X');

    g_assert_false (smtpkit_codec_format_command (out, verb, NULL, NULL, &error));
    g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (out->str, ==, "kept");
  }
}

static void
assert_command_refused (const char        *verb,
                        const char        *arg,
                        const char *const *options,
                        const char        *message)
{
  g_autoptr (GString) out = g_string_new ("MAIL FROM:<a@b>\r\n");
  g_autoptr (GError) error = NULL;

  g_assert_false (smtpkit_codec_format_command (out, verb, arg, options, &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_cmpstr (out->str, ==, "MAIL FROM:<a@b>\r\n");
  g_assert_cmpuint (out->len, ==, strlen ("MAIL FROM:<a@b>\r\n"));
}

static void
test_format_command_refused (void)
{
  assert_command_refused ("", NULL, NULL, "command verb is empty; refusing to send an empty command");
  assert_command_refused ("NO\rOP", NULL, NULL,
                          "command verb contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("NOOP\n", NULL, NULL,
                          "command verb contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("RCPT", "TO:<a@b>\rRSET", NULL,
                          "RCPT argument contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("RCPT", "TO:<a@b>\nRSET", STRV ("NOTIFY=NEVER"),
                          "RCPT argument contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("MAIL", "FROM:<a@b>", STRV ("SIZE=1", "BODY=8BITMIME\r\nRSET"),
                          "MAIL option contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("MAIL", "FROM:<a@b>", STRV ("\n"),
                          "MAIL option contains a line break (CR or LF); refusing to send it");
  assert_command_refused ("MAIL", "FROM:<a@b>", STRV ("\r"),
                          "MAIL option contains a line break (CR or LF); refusing to send it");
}

/* ---- quote_address ---------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *address;
  const char *expected;
} QuoteCase;

static const QuoteCase quote_cases[] = {
  { "null-path", "<>", "<>" },
  { "null-path-spaces", "  <>\t", "<>" },
  { "empty", "", "<>" },
  { "blank", "   ", "<>" },
  { "bare", "a@example.org", "<a@example.org>" },
  { "bare-spaces", "  a@example.org \t", "<a@example.org>" },
  /* A line break is kept so that the formatter refuses it. */
  { "trailing-crlf-kept", "a@example.org\r\n", "<a@example.org\r\n>" },
  { "trailing-cr-kept", " a@example.org\r", "<a@example.org\r>" },
  { "bracketed", "<a@example.org>", "<a@example.org>" },
  { "display-name", "Alice <a@example.org>", "<a@example.org>" },
  { "quoted-display-name", "\"Doe, J.\" <j@example.org>", "<j@example.org>" },
  { "last-pair", "A <a@example.org> <b@example.org>", "<b@example.org>" },
  { "text-after", "<a@example.org> (Alice)", "<a@example.org>" },
  { "source-route", "<@relay.example:a@example.org>", "<@relay.example:a@example.org>" },
  { "unclosed", "<a@example.org", "<<a@example.org>" },
  { "unopened", "a@example.org>", "<a@example.org>>" },
  { "not-validated", "a b\rc", "<a b\rc>" },
};

static void
test_quote_address (gconstpointer data)
{
  const QuoteCase *c = data;
  g_autofree char *quoted = smtpkit_codec_quote_address (c->address);

  g_assert_cmpstr (quoted, ==, c->expected);
}

/* ---- DATA encoder ----------------------------------------------------- */

/* smtplib's _fix_eols() (when converting), _quote_periods() and the final
 * CRLF + ".\r\n" of data(), byte by byte. */
static GByteArray *
reference_encode (const guint8 *data,
                  gsize         length,
                  gboolean      convert)
{
  g_autoptr (GByteArray) fixed = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();

  for (gsize i = 0; i < length; i++)
    {
      if (convert && data[i] == '\r')
        {
          g_byte_array_append (fixed, (const guint8 *) "\r\n", 2);
          if (i + 1 < length && data[i + 1] == '\n')
            i++;
        }
      else if (convert && data[i] == '\n')
        g_byte_array_append (fixed, (const guint8 *) "\r\n", 2);
      else
        g_byte_array_append (fixed, data + i, 1);
    }

  for (gsize i = 0; i < fixed->len; i++)
    {
      if (fixed->data[i] == '.' && (i == 0 || fixed->data[i - 1] == '\n'))
        g_byte_array_append (out, (const guint8 *) ".", 1);
      g_byte_array_append (out, fixed->data + i, 1);
    }

  if (out->len < 2 || memcmp (out->data + out->len - 2, "\r\n", 2) != 0)
    g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);

  return out;
}

/* Encodes @data in pieces cut at @cuts (ascending offsets). */
static GByteArray *
encode_cut (const guint8 *data,
            gsize         length,
            gboolean      convert,
            const gsize  *cuts,
            gsize         n_cuts)
{
  SmtpkitDataEncoder encoder;
  GByteArray *out = g_byte_array_new ();
  gsize start = 0;

  smtpkit_data_encoder_init (&encoder, convert);
  for (gsize i = 0; i <= n_cuts; i++)
    {
      gsize end = i < n_cuts ? cuts[i] : length;

      g_assert_cmpuint (end, >=, start);
      smtpkit_data_encoder_feed (&encoder, data + start, end - start, out);
      g_assert_cmpuint (encoder.bytes_out, ==, out->len);
      start = end;
    }
  smtpkit_data_encoder_finish (&encoder, out);
  g_assert_cmpuint (encoder.bytes_out, ==, out->len);

  return out;
}

static GByteArray *
encode_whole (const guint8 *data,
              gsize         length,
              gboolean      convert)
{
  return encode_cut (data, length, convert, NULL, 0);
}

static void
assert_bytes_equal (const GByteArray *actual,
                    const GByteArray *expected)
{
  g_assert_cmpmem (actual->data, actual->len, expected->data, expected->len);
}

/* What SIZE must declare for a DATA encoding (RFC 1870 §3): the bytes
 * before the terminating ".\r\n", less the dot that stuffing put at the
 * start of each line that begins with one. */
static gsize
declared_size (const GByteArray *encoded)
{
  gsize length = encoded->len - 3;
  gsize stuffed = 0;

  for (gsize i = 0; i < length; i++)
    if (encoded->data[i] == '.' && (i == 0 || encoded->data[i - 1] == '\n'))
      stuffed++;
  return length - stuffed;
}

/* Encodes @data whole, byte by byte, and cut at every one and (when
 * @pairs) every two places, checking all against the whole encoding and
 * message_size() against it. Returns the whole encoding. */
static GByteArray *
encode_every_way (const guint8 *data,
                  gsize         length,
                  gboolean      convert,
                  gboolean      pairs)
{
  GByteArray *whole = encode_whole (data, length, convert);
  g_autofree gsize *cuts = g_new (gsize, length + 2);
  g_autoptr (GByteArray) reference = reference_encode (data, length, convert);

  assert_bytes_equal (whole, reference);
  g_assert_cmpuint (smtpkit_codec_message_size (data, length, convert), ==, declared_size (whole));

  for (gsize i = 0; i < length; i++)
    cuts[i] = i + 1;
  {
    g_autoptr (GByteArray) bytewise = encode_cut (data, length, convert, cuts,
                                                  length > 0 ? length - 1 : 0);

    assert_bytes_equal (bytewise, whole);
  }

  for (gsize i = 0; i <= length; i++)
    {
      g_autoptr (GByteArray) split = NULL;

      cuts[0] = i;
      split = encode_cut (data, length, convert, cuts, 1);
      assert_bytes_equal (split, whole);

      for (gsize j = i; pairs && j <= length; j++)
        {
          g_autoptr (GByteArray) split2 = NULL;

          cuts[1] = j;
          split2 = encode_cut (data, length, convert, cuts, 2);
          assert_bytes_equal (split2, whole);
        }
    }

  return whole;
}

typedef struct
{
  const char *name;
  const char *input;
  const char *expected;
} DataCase;

static const DataCase convert_cases[] = {
  { "empty", "", "\r\n.\r\n" },
  { "no-line-end", "a", "a\r\n.\r\n" },
  { "crlf", "a\r\n", "a\r\n.\r\n" },
  { "lf", "a\n", "a\r\n.\r\n" },
  { "cr", "a\r", "a\r\n.\r\n" },
  { "mixed", "a\nb\rc\r\nd", "a\r\nb\r\nc\r\nd\r\n.\r\n" },
  { "cr-crlf-lf", "\r\r\n\n", "\r\n\r\n\r\n.\r\n" },
  { "lf-cr", "\n\r", "\r\n\r\n.\r\n" },
  { "lf-cr-lf-cr", "x\n\r\n\ry", "x\r\n\r\n\r\ny\r\n.\r\n" },
  { "crcr-lflf", "\r\r\n\n", "\r\n\r\n\r\n.\r\n" },
  { "blank-lines", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n.\r\n" },
  { "dot-at-start", ".a", "..a\r\n.\r\n" },
  { "dot-alone", ".", "..\r\n.\r\n" },
  { "dot-line", ".\r\n", "..\r\n.\r\n" },
  { "dots-after-each-ending", "a\n.b\r.c\r\n.d", "a\r\n..b\r\n..c\r\n..d\r\n.\r\n" },
  { "dot-dot", "a.b\n..\n", "a.b\r\n...\r\n.\r\n" },
  { "terminator-inside", "\r\n.\r\n", "\r\n..\r\n.\r\n" },
  { "dot-after-blank", "a\r\n\r\n.", "a\r\n\r\n..\r\n.\r\n" },
  { "dot-not-at-line-start", "a. b .\r\n", "a. b .\r\n.\r\n" },
  { "headers-and-body",
    "From: a@example.org\nSubject: hi\n\n.hidden\n..\nbye\n",
    "From: a@example.org\r\nSubject: hi\r\n\r\n..hidden\r\n...\r\nbye\r\n.\r\n" },
};

static const DataCase verbatim_cases[] = {
  { "empty", "", "\r\n.\r\n" },
  { "no-line-end", "a", "a\r\n.\r\n" },
  { "crlf", "a\r\n", "a\r\n.\r\n" },
  { "crlf-only", "\r\n", "\r\n.\r\n" },
  { "lf-kept", "a\n", "a\n\r\n.\r\n" },
  { "lf-alone", "\n", "\n\r\n.\r\n" },
  { "cr-kept", "a\r", "a\r\r\n.\r\n" },
  { "cr-inside", "a\rb", "a\rb\r\n.\r\n" },
  { "lf-cr", "a\n\r", "a\n\r\r\n.\r\n" },
  { "dot-at-start", ".a", "..a\r\n.\r\n" },
  { "dots", ".a\n.b\r.c\r\n.d", "..a\n..b\r.c\r\n..d\r\n.\r\n" },
  { "dot-line", ".\r\n", "..\r\n.\r\n" },
  { "terminator-inside", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
  { "dot-dot", "..\n", "...\n\r\n.\r\n" },
};

static void
test_data_case (const DataCase *c,
                gboolean        convert)
{
  g_autoptr (GByteArray) whole = encode_every_way ((const guint8 *) c->input, strlen (c->input),
                                                   convert, TRUE);

  g_assert_cmpmem (whole->data, whole->len, c->expected, strlen (c->expected));
}

static void
test_data_convert (gconstpointer data)
{
  test_data_case (data, TRUE);
}

static void
test_data_verbatim (gconstpointer data)
{
  test_data_case (data, FALSE);
}

static void
feed_str (SmtpkitDataEncoder *encoder,
          const char         *chunk,
          GByteArray         *out)
{
  smtpkit_data_encoder_feed (encoder, (const guint8 *) chunk, strlen (chunk), out);
}

static void
assert_output (GByteArray *out,
               const char *expected)
{
  g_assert_cmpmem (out->data, out->len, expected, strlen (expected));
}

/* The terminator comes once, and no CRLF is added, when the input ends
 * exactly at a chunk boundary with a line end. */
static void
test_data_chunk_boundary (void)
{
  const struct
  {
    gboolean convert;
    const char *chunks[4];
    const char *expected;
  } cases[] = {
    { TRUE, { "a", "\r\n" }, "a\r\n.\r\n" },
    { TRUE, { "a\r\n" }, "a\r\n.\r\n" },
    { TRUE, { "a\r\n", "" }, "a\r\n.\r\n" },
    { TRUE, { "a\r" }, "a\r\n.\r\n" },
    { TRUE, { "a\r", "" }, "a\r\n.\r\n" },
    { TRUE, { "a\r", "\n" }, "a\r\n.\r\n" },
    { TRUE, { "a\r", "\n", "" }, "a\r\n.\r\n" },
    { TRUE, { "a\r", "\r" }, "a\r\n\r\n.\r\n" },
    { TRUE, { "a\r", "\n\n" }, "a\r\n\r\n.\r\n" },
    { TRUE, { "a\r", ".\r\n" }, "a\r\n..\r\n.\r\n" },
    { TRUE, { "a\r", "\n.b" }, "a\r\n..b\r\n.\r\n" },
    { TRUE, { "a\n" }, "a\r\n.\r\n" },
    { TRUE, { "a", "\n", "." }, "a\r\n..\r\n.\r\n" },
    { FALSE, { "a", "\r\n" }, "a\r\n.\r\n" },
    { FALSE, { "a\r", "\n" }, "a\r\n.\r\n" },
    { FALSE, { "a\r", "\n", "" }, "a\r\n.\r\n" },
    { FALSE, { "a\r" }, "a\r\r\n.\r\n" },
    { FALSE, { "a\n" }, "a\n\r\n.\r\n" },
    { FALSE, { "a\n", "." }, "a\n..\r\n.\r\n" },
    { FALSE, { "a\r", "." }, "a\r.\r\n.\r\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SmtpkitDataEncoder encoder;
      g_autoptr (GByteArray) out = g_byte_array_new ();

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      smtpkit_data_encoder_init (&encoder, cases[i].convert);
      for (gsize j = 0; cases[i].chunks[j] != NULL; j++)
        feed_str (&encoder, cases[i].chunks[j], out);
      smtpkit_data_encoder_finish (&encoder, out);
      assert_output (out, cases[i].expected);
      g_assert_cmpuint (encoder.bytes_out, ==, strlen (cases[i].expected));
    }
}

/* The output of feed() is not held back: what has been fed is out. */
static void
test_data_streaming (void)
{
  SmtpkitDataEncoder encoder;
  g_autoptr (GByteArray) out = g_byte_array_new ();

  smtpkit_data_encoder_init (&encoder, TRUE);
  g_assert_true (encoder.at_line_start);
  g_assert_false (encoder.ends_with_crlf);
  g_assert_cmpuint (encoder.bytes_out, ==, 0);

  feed_str (&encoder, ".x\r", out);
  assert_output (out, "..x\r\n");
  g_assert_true (encoder.pending_cr);
  g_assert_true (encoder.ends_with_crlf);
  g_assert_cmpuint (encoder.bytes_out, ==, 5);

  feed_str (&encoder, "\n", out);
  assert_output (out, "..x\r\n");
  g_assert_false (encoder.pending_cr);

  feed_str (&encoder, "y", out);
  assert_output (out, "..x\r\ny");
  g_assert_false (encoder.ends_with_crlf);

  smtpkit_data_encoder_finish (&encoder, out);
  assert_output (out, "..x\r\ny\r\n.\r\n");
  g_assert_cmpuint (encoder.bytes_out, ==, 11);
}

static void
test_data_empty (void)
{
  for (int convert = 0; convert <= 1; convert++)
    {
      SmtpkitDataEncoder encoder;
      g_autoptr (GByteArray) out = g_byte_array_new ();

      smtpkit_data_encoder_init (&encoder, convert);
      smtpkit_data_encoder_feed (&encoder, NULL, 0, out);
      g_assert_cmpuint (out->len, ==, 0);
      smtpkit_data_encoder_finish (&encoder, out);
      assert_output (out, "\r\n.\r\n");
      g_assert_cmpuint (encoder.bytes_out, ==, 5);
      g_assert_cmpuint (smtpkit_codec_message_size (NULL, 0, convert), ==, 2);
    }
}

static guint8 *
random_message (GRand *rand,
                gsize  length)
{
  static const char alphabet[] = "a.\r\n";
  guint8 *data = g_malloc (length + 1);

  for (gsize i = 0; i < length; i++)
    data[i] = alphabet[g_rand_int_range (rand, 0, 4)];

  return data;
}

/* A message that DATA would send as it is goes without a copy: exactly
 * when the DATA encoder's output is the message and the terminator, for
 * messages long enough to be scanned sixteen bytes at a time. */
/* What smtpkit_data_encoder_pass() lets go as it is: whole lines that
 * are their own encoding, from a line start with nothing held back; the
 * encoder then goes on as if it had encoded them. */
static void
test_data_pass (void)
{
  static const struct
  {
    gboolean chunked;
    gboolean convert;
    const char *before;         /* fed first */
    const char *lines;
    gboolean passes;
  } cases[] = {
    { FALSE, TRUE, "", "a\r\nb\r\n", TRUE },
    { FALSE, TRUE, "x\r\n", "a\r\n", TRUE },
    { FALSE, TRUE, "", ".a\r\n", FALSE },           /* a dot to stuff */
    { FALSE, TRUE, "", "a\r\n.b\r\n", FALSE },
    { FALSE, TRUE, "x", "a\r\n", FALSE },           /* after part of a line */
    { FALSE, TRUE, "x\r", "\na\r\n", FALSE },       /* a CR held back */
    { FALSE, TRUE, "", "a\nb\r\n", FALSE },         /* a bare LF to convert */
    { FALSE, FALSE, "", "a\nb\r\n", TRUE },         /* ... kept when not converting */
    { FALSE, FALSE, "x\n", ".a\r\n", FALSE },
    { FALSE, TRUE, "", "a", FALSE },                 /* not whole lines */
    { FALSE, TRUE, "", "a\n", FALSE },
    { TRUE, TRUE, "", ".a\r\n", TRUE },             /* BDAT stuffs no dot */
    { TRUE, TRUE, "", "a\rb\r\n", FALSE },
    { TRUE, FALSE, "x\n", "a\rb\r\n", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) passed = g_byte_array_new ();
      g_autoptr (GByteArray) encoded = g_byte_array_new ();
      SmtpkitDataEncoder a, b;
      gsize before = strlen (cases[i].before);
      gsize length = strlen (cases[i].lines);
      const char *tail = "end\r\n";

      g_test_message ("case %u", i);
      if (cases[i].chunked)
        {
          smtpkit_data_encoder_init_chunked (&a, cases[i].convert);
          smtpkit_data_encoder_init_chunked (&b, cases[i].convert);
        }
      else
        {
          smtpkit_data_encoder_init (&a, cases[i].convert);
          smtpkit_data_encoder_init (&b, cases[i].convert);
        }
      smtpkit_data_encoder_feed (&a, (const guint8 *) cases[i].before, before, passed);
      smtpkit_data_encoder_feed (&b, (const guint8 *) cases[i].before, before, encoded);
      g_assert_cmpint (smtpkit_data_encoder_pass (&a, (const guint8 *) cases[i].lines, length), ==,
                       cases[i].passes);
      if (cases[i].passes)
        g_byte_array_append (passed, (const guint8 *) cases[i].lines, length);
      else
        smtpkit_data_encoder_feed (&a, (const guint8 *) cases[i].lines, length, passed);
      smtpkit_data_encoder_feed (&b, (const guint8 *) cases[i].lines, length, encoded);

      /* Either way the rest and the end come out the same. */
      smtpkit_data_encoder_feed (&a, (const guint8 *) tail, strlen (tail), passed);
      smtpkit_data_encoder_feed (&b, (const guint8 *) tail, strlen (tail), encoded);
      if (cases[i].chunked)
        {
          smtpkit_data_encoder_finish_chunked (&a, passed);
          smtpkit_data_encoder_finish_chunked (&b, encoded);
        }
      else
        {
          smtpkit_data_encoder_finish (&a, passed);
          smtpkit_data_encoder_finish (&b, encoded);
        }
      g_assert_cmpmem (passed->data, passed->len, encoded->data, encoded->len);
      g_assert_cmpuint (a.bytes_out, ==, b.bytes_out);
    }
}

/* @data, checked against what the encoders make of it: its wire form
 * for DATA holds when DATA's encoder leaves it as it is, and for BDAT
 * when the chunked one does. */
static void
check_wire_form_of (const guint8 *data,
                    gsize         length,
                    gboolean      convert)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GByteArray) chunk = g_byte_array_new ();
  SmtpkitDataEncoder encoder;
  SmtpkitWireForm form;
  gboolean same;

  smtpkit_data_encoder_init (&encoder, convert);
  smtpkit_data_encoder_feed (&encoder, data, length, out);
  smtpkit_data_encoder_finish (&encoder, out);
  smtpkit_data_encoder_init_chunked (&encoder, convert);
  smtpkit_data_encoder_feed (&encoder, data, length, chunk);
  smtpkit_data_encoder_finish_chunked (&encoder, chunk);
  form = smtpkit_codec_wire_form (data, length, convert);

  same = out->len == length + 3 && memcmp (out->data, data, length) == 0;
  g_assert_cmpint (!!(form & SMTPKIT_WIRE_DATA), ==, same);
  same = chunk->len == length && memcmp (chunk->data, data, length) == 0;
  g_assert_cmpint (!!(form & SMTPKIT_WIRE_CHUNK), ==, same);
}

/* CRLF lines of @line bytes (and the line break), ending with CRLF. */
static void
fill_lines (guint8 *data,
            gsize   length,
            gsize   line)
{
  for (gsize k = 0; k < length; k++)
    data[k] = (k + 2) % (line + 2) == 0 ? '\r' : (k + 1) % (line + 2) == 0 ? '\n' : 'a';
  memcpy (data + length - 2, "\r\n", 2);
}

/* Long messages in their wire form but for one byte, wherever it falls
 * against the 32- or 64-byte blocks of the scans: a CR, an LF or a dot
 * put in. At random, then at every place near the start and near the
 * end of the messages whose lengths are near a block's or a
 * kilobyte's, where the scans start, stop or hand over. */
static void
check_wire_form_long (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1870);
  static const guint8 spoilers[] = { '\r', '\n', '.' };
  static const gsize lengths[][2] = { { 60, 200 }, { 1020, 1100 } };

  for (guint n = 0; n < 3000; n++)
    {
      gsize length = g_rand_int_range (rand, 2, 3000);
      g_autofree guint8 *data = g_malloc (length);

      fill_lines (data, length, g_rand_int_range (rand, 1, 100));
      if (n % 4 != 0)
        data[g_rand_int_range (rand, 0, length)] = spoilers[g_rand_int_range (rand, 0, 3)];
      check_wire_form_of (data, length, n % 2);
    }

  for (guint r = 0; r < G_N_ELEMENTS (lengths); r++)
    for (gsize length = lengths[r][0]; length <= lengths[r][1]; length++)
      {
        g_autofree guint8 *data = g_malloc (length);

        for (gsize at = 0; at < length; at = at == 3 && length > 72 ? length - 68 : at + 1)
          for (guint k = 0; k < 2 * G_N_ELEMENTS (spoilers); k++)
            {
              fill_lines (data, length, length % 37 + 1);
              data[at] = spoilers[k / 2];
              check_wire_form_of (data, length, k % 2);
            }
      }
}

/* With each scan the processor can run: byte by byte, SSE2's, then
 * AVX2's and AVX-512BW's where it has them (else the best below
 * again). */
static void
test_data_wire_form_long (void)
{
  SmtpkitCodecScan had = smtpkit_codec_set_scan (SMTPKIT_CODEC_SCAN_BYTES);

  for (SmtpkitCodecScan scan = SMTPKIT_CODEC_SCAN_BYTES; scan <= SMTPKIT_CODEC_SCAN_AVX512BW; scan++)
    {
      smtpkit_codec_set_scan (scan);
      check_wire_form_long ();
    }
  smtpkit_codec_set_scan (had);
}

static void
test_data_wire_form (void)
{
  static const struct { const char *message; gboolean converting, verbatim; } cases[] = {
    { "", FALSE, FALSE },
    { "a\r\n", TRUE, TRUE },
    { ".a\r\n", FALSE, FALSE },
    { "a\r\n.b\r\n", FALSE, FALSE },
    { "a\n.b\r\n", FALSE, FALSE },
    { "a\nb\r\n", FALSE, TRUE },
    { "a\rb\r\n", FALSE, TRUE },
    { "0123456789abcdef0123456789abcdef\r\n.\r\n", FALSE, FALSE },
    { "0123456789abcdef0123456789abcdef\r\nx\r\n", TRUE, TRUE },
    { "0123456789abcdef0123456789abcde\n0123456789abcdef\r\n", FALSE, TRUE },
    { "0123456789abcdef0123456789abcdef", FALSE, FALSE },
  };
  g_autoptr (GRand) rand = g_rand_new_with_seed (5321);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const guint8 *data = (const guint8 *) cases[i].message;
      gsize length = strlen (cases[i].message);

      g_assert_cmpint (!!(smtpkit_codec_wire_form (data, length, TRUE) & SMTPKIT_WIRE_DATA), ==,
                       cases[i].converting);
      g_assert_cmpint (!!(smtpkit_codec_wire_form (data, length, FALSE) & SMTPKIT_WIRE_DATA), ==,
                       cases[i].verbatim);
    }

  for (guint n = 0; n < 4000; n++)
    {
      gboolean convert = n % 2;
      gsize length = g_rand_int_range (rand, 0, n < 2000 ? 12 : 80);
      g_autofree guint8 *data = random_message (rand, length);
      g_autoptr (GByteArray) out = g_byte_array_new ();
      SmtpkitDataEncoder encoder;
      gboolean same;

      /* Mostly ordinary text, so that long messages can be exact. */
      for (gsize k = 0; n >= 2000 && k < length; k++)
        if (g_rand_int_range (rand, 0, 8) != 0 && data[k] != '\n')
          data[k] = 'a';
      if (length >= 2 && g_rand_boolean (rand))
        memcpy (data + length - 2, "\r\n", 2);
      smtpkit_data_encoder_init (&encoder, convert);
      smtpkit_data_encoder_feed (&encoder, data, length, out);
      smtpkit_data_encoder_finish (&encoder, out);
      same = out->len == length + 3 && memcmp (out->data + length, ".\r\n", 3) == 0 &&
             (length == 0 || memcmp (out->data, data, length) == 0);
      g_assert_cmpint (!!(smtpkit_codec_wire_form (data, length, convert) & SMTPKIT_WIRE_DATA),
                       ==, same);
    }
}

/* A message in its wire form is sent without a copy: exactly when the
 * chunked encoding leaves it as it is. */
static void
test_data_chunk_exact (void)
{
  static const struct { const char *message; gboolean converting_exact; } cases[] = {
    { "", TRUE },
    { "a\r\n", TRUE },
    { "Subject: x\r\n\r\n.body\r\n", TRUE },
    { "a", FALSE },
    { "a\r", FALSE },
    { "a\n", FALSE },
    { "a\nb\r\n", FALSE },
    { "a\rb\r\n", FALSE },
    { "\r\r\n", FALSE },
    { "\n", FALSE },
  };
  g_autoptr (GRand) rand = g_rand_new_with_seed (1870);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const guint8 *data = (const guint8 *) cases[i].message;
      gsize length = strlen (cases[i].message);

      g_assert_true (smtpkit_codec_chunk_is_exact (data, length, FALSE));
      g_assert_cmpint (smtpkit_codec_chunk_is_exact (data, length, TRUE), ==,
                       cases[i].converting_exact);
    }

  for (guint n = 0; n < 2000; n++)
    {
      gsize length = g_rand_int_range (rand, 0, 12);
      g_autofree guint8 *data = random_message (rand, length);
      g_autoptr (GByteArray) out = g_byte_array_new ();
      SmtpkitDataEncoder encoder;
      gboolean same;

      smtpkit_data_encoder_init_chunked (&encoder, TRUE);
      smtpkit_data_encoder_feed (&encoder, data, length, out);
      smtpkit_data_encoder_finish_chunked (&encoder, out);
      same = out->len == length && (length == 0 || memcmp (out->data, data, length) == 0);
      g_assert_cmpint (smtpkit_codec_chunk_is_exact (data, length, TRUE), ==, same);
    }
}

/* Random messages made of 'a', '.', CR and LF: the encoder agrees with
 * smtplib's logic, with itself however cut, and with message_size(). */
static void
test_data_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_test_rand_int ());

  for (guint n = 0; n < 3000; n++)
    {
      gsize length = g_rand_int_range (rand, 0, 48);
      g_autofree guint8 *data = random_message (rand, length);
      gboolean convert = n % 2;
      g_autoptr (GByteArray) whole = encode_whole (data, length, convert);
      g_autoptr (GByteArray) reference = reference_encode (data, length, convert);
      g_autoptr (GByteArray) split = NULL;
      gsize cuts[4];

      assert_bytes_equal (whole, reference);
      g_assert_cmpuint (smtpkit_codec_message_size (data, length, convert), ==, declared_size (whole));

      for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
        cuts[i] = g_rand_int_range (rand, 0, length + 1);
      for (gsize i = 1; i < G_N_ELEMENTS (cuts); i++)
        for (gsize j = i; j > 0 && cuts[j - 1] > cuts[j]; j--)
          {
            gsize t = cuts[j];

            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
          }
      split = encode_cut (data, length, convert, cuts, G_N_ELEMENTS (cuts));
      assert_bytes_equal (split, whole);
    }
}

/* Short random messages, every way of cutting them in two or three. */
static void
test_data_random_exhaustive_cuts (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_test_rand_int ());

  for (guint n = 0; n < 200; n++)
    {
      gsize length = g_rand_int_range (rand, 0, 12);
      g_autofree guint8 *data = random_message (rand, length);
      g_autoptr (GByteArray) whole = encode_every_way (data, length, n % 2, TRUE);

      g_assert_cmpuint (whole->len, >=, 5);
    }
}

/* A large message in 64 KiB chunks, as the engine feeds it. */
static void
test_data_large (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  gsize length = 4 * 1024 * 1024 + 17;
  g_autofree guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    {
      guint32 r = g_rand_int_range (rand, 0, 100);

      data[i] = r < 2 ? '\r' : r < 4 ? '\n' : r < 6 ? '.' : 'a' + r % 26;
    }

  for (int convert = 0; convert <= 1; convert++)
    {
      g_autoptr (GByteArray) reference = reference_encode (data, length, convert);
      g_autoptr (GByteArray) out = g_byte_array_new ();
      SmtpkitDataEncoder encoder;

      smtpkit_data_encoder_init (&encoder, convert);
      for (gsize pos = 0; pos < length; pos += 65536)
        smtpkit_data_encoder_feed (&encoder, data + pos, MIN (65536, length - pos), out);
      smtpkit_data_encoder_finish (&encoder, out);

      assert_bytes_equal (out, reference);
      g_assert_cmpuint (encoder.bytes_out, ==, reference->len);
      g_assert_cmpuint (smtpkit_codec_message_size (data, length, convert), ==,
                        declared_size (reference));
    }
}

/* ---- registration ----------------------------------------------------- */

static void
add_data_tests (const char    *prefix,
                const void    *cases,
                gsize          n_cases,
                gsize          case_size,
                GTestDataFunc  func)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      const void *c = (const guint8 *) cases + i * case_size;
      /* Every case struct starts with its name. */
      g_autofree char *path = g_strdup_printf ("%s/%s", prefix, *(const char *const *) c);

      g_test_add_data_func (path, c, func);
    }
}

#define ADD_DATA_TESTS(prefix, cases, func) \
  add_data_tests (prefix, cases, G_N_ELEMENTS (cases), sizeof cases[0], func)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/codec/reply/new", test_reply_new);
  g_test_add_func ("/codec/reply/no-lines", test_reply_no_lines);
  g_test_add_func ("/codec/reply/text-strip", test_reply_text_strip);
  g_test_add_func ("/codec/reply/classes", test_reply_classes);
  g_test_add_func ("/codec/reply/boxed", test_reply_boxed);
  ADD_DATA_TESTS ("/codec/reply/enhanced-status", status_cases, test_reply_enhanced_status);

  ADD_DATA_TESTS ("/codec/reply-parser/parse", reply_cases, test_reply_parse);
  ADD_DATA_TESTS ("/codec/reply-parser/error", error_cases, test_reply_error);
  g_test_add_func ("/codec/reply-parser/error-quote-truncated", test_reply_error_truncated_quote);
  g_test_add_func ("/codec/reply-parser/longest-line", test_reply_longest_line);
  g_test_add_func ("/codec/reply-parser/line-too-long", test_reply_line_too_long);
  g_test_add_func ("/codec/reply-parser/line-too-long-then-nul", test_reply_line_too_long_then_nul);
  g_test_add_func ("/codec/reply-parser/line-too-long-unterminated",
                   test_reply_line_too_long_unterminated);
  g_test_add_func ("/codec/reply-parser/largest-reply", test_reply_largest);
  g_test_add_func ("/codec/reply-parser/reply-too-large", test_reply_too_large);
  g_test_add_func ("/codec/reply-parser/two-in-one-buffer", test_reply_two_in_one_buffer);
  g_test_add_func ("/codec/reply-parser/partial-and-reset", test_reply_partial_and_reset);
  g_test_add_func ("/codec/reply-parser/reset-after-error", test_reply_reset_after_error);

  g_test_add_func ("/codec/ehlo/typical", test_ehlo_typical);
  g_test_add_func ("/codec/ehlo/greeting-skipped", test_ehlo_greeting_skipped);
  g_test_add_func ("/codec/ehlo/auth-merging", test_ehlo_auth_merging);
  g_test_add_func ("/codec/ehlo/keywords", test_ehlo_keywords);
  g_test_add_func ("/codec/ehlo/bad-lines-ignored", test_ehlo_bad_lines_ignored);

  g_test_add_func ("/codec/command/check-argument", test_check_argument);
  g_test_add_func ("/codec/command/format", test_format_command);
  g_test_add_func ("/codec/command/length", test_format_command_length);
  g_test_add_func ("/codec/command/refused", test_format_command_refused);
  ADD_DATA_TESTS ("/codec/quote-address", quote_cases, test_quote_address);

  ADD_DATA_TESTS ("/codec/data/convert", convert_cases, test_data_convert);
  ADD_DATA_TESTS ("/codec/data/verbatim", verbatim_cases, test_data_verbatim);
  g_test_add_func ("/codec/data/chunk-boundary", test_data_chunk_boundary);
  g_test_add_func ("/codec/data/streaming", test_data_streaming);
  g_test_add_func ("/codec/data/empty", test_data_empty);
  g_test_add_func ("/codec/data/chunk-exact", test_data_chunk_exact);
  g_test_add_func ("/codec/data/wire-form", test_data_wire_form);
  g_test_add_func ("/codec/data/wire-form-long", test_data_wire_form_long);
  g_test_add_func ("/codec/data/pass", test_data_pass);
  g_test_add_func ("/codec/data/random", test_data_random);
  g_test_add_func ("/codec/data/random-exhaustive-cuts", test_data_random_exhaustive_cuts);
  g_test_add_func ("/codec/data/large", test_data_large);

  return g_test_run ();
}
