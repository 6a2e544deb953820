/* fuzz-reply-parser.c: the reply parser, whole, split and bytewise
 *
 * The input is a header (see FuzzPieces in fuzz-common.h) and the
 * server's bytes, parsed three times: in one call, in the pieces the offsets make, and one byte per
 * call. smtpkit_reply_parser_feed() promises that the outcome does not
 * depend on the split, so the three transcripts (each reply's code and
 * lines; each error with its offset and message) must be the same. After
 * an error the parser is reset and goes on with what follows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "smtpkit-codec-private.h"
#include "smtpkit-reply.h"

/* Where the input is cut: sorted offsets into the payload, ending with
 * its length. */
typedef struct
{
  const gsize *cuts;
  gsize n_cuts;
} Split;

static void
check_reply (const SmtpkitReply *reply)
{
  const char *const *lines = smtpkit_reply_get_lines (reply);
  gsize total = 0;

  fuzz_check (smtpkit_reply_get_code (reply) >= 200 && smtpkit_reply_get_code (reply) <= 599);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (lines[i]);

      fuzz_check (memchr (lines[i], '\n', len) == NULL);
      fuzz_check (len + 5 <= SMTPKIT_MAX_REPLY_LINE);
      total += len + 5;
    }
  fuzz_check (total <= SMTPKIT_MAX_REPLY_SIZE);
  /* The accessors must cope with whatever the parser accepted. */
  (void) smtpkit_reply_get_text (reply);
  (void) smtpkit_reply_get_enhanced_status (reply);
}

static void
describe_reply (GString            *transcript,
                gsize               offset,
                const SmtpkitReply *reply)
{
  const char *const *lines = smtpkit_reply_get_lines (reply);

  g_string_append_printf (transcript, "reply %u at %" G_GSIZE_FORMAT "\n",
                          smtpkit_reply_get_code (reply), offset);
  for (gsize i = 0; lines[i] != NULL; i++)
    g_string_append_printf (transcript, "  [%s]\n", lines[i]);
}

/* Feeds @data in the pieces @split makes; returns what came out. */
static GString *
parse (const guint8 *data,
       gsize         size,
       const Split  *split)
{
  g_autoptr (GString) transcript = g_string_new (NULL);
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  gsize start = 0;

  for (gsize c = 0; c < split->n_cuts; c++)
    {
      gsize end = split->cuts[c];

      while (start < end)
        {
          g_autoptr (SmtpkitReply) reply = NULL;
          g_autoptr (GError) error = NULL;
          gsize consumed = G_MAXSIZE;
          SmtpkitReplyParserStatus status;

          status = smtpkit_reply_parser_feed (parser, data + start, end - start, &consumed, &reply,
                                              &error);
          fuzz_check (consumed <= end - start);
          start += consumed;
          switch (status)
            {
            case SMTPKIT_REPLY_PARSER_NEED_MORE:
              fuzz_check (start == end && reply == NULL && error == NULL);
              break;
            case SMTPKIT_REPLY_PARSER_REPLY:
              fuzz_check (reply != NULL && error == NULL && consumed > 0);
              fuzz_check (!smtpkit_reply_parser_has_partial (parser));
              check_reply (reply);
              describe_reply (transcript, start, reply);
              break;
            case SMTPKIT_REPLY_PARSER_ERROR:
              fuzz_check (reply == NULL && error != NULL && consumed > 0);
              g_string_append_printf (transcript, "error %d at %" G_GSIZE_FORMAT ": %s\n",
                                      error->code, start, error->message);
              smtpkit_reply_parser_reset (parser);
              fuzz_check (!smtpkit_reply_parser_has_partial (parser));
              break;
            default:
              fuzz_fail ("unknown parser status %d", status);
            }
        }
    }
  g_string_append_printf (transcript, "partial %d\n", smtpkit_reply_parser_has_partial (parser));
  smtpkit_reply_parser_free (parser);

  return g_steal_pointer (&transcript);
}

static void
check_same (const char    *what,
            const GString *whole,
            const GString *other)
{
  if (!g_string_equal (whole, other))
    fuzz_fail ("fed whole and %s, the reply parser disagrees:\n--- whole\n%s--- %s\n%s", what,
               whole->str, what, other->str);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr (GString) whole = NULL;
  g_autoptr (GString) pieces = NULL;
  g_autoptr (GString) bytewise = NULL;
  g_autofree gsize *each = NULL;
  FuzzPieces input;
  Split split;

  if (!fuzz_pieces_init (&input, data, size))
    return 0;

  split = (Split){ &input.length, 1 };
  whole = parse (input.payload, input.length, &split);

  split = (Split){ input.cuts, input.n_cuts };
  pieces = parse (input.payload, input.length, &split);
  check_same ("split", whole, pieces);

  each = g_new (gsize, input.length);
  for (gsize i = 0; i < input.length; i++)
    each[i] = i + 1;
  split = (Split){ each, input.length };
  bytewise = parse (input.payload, input.length, &split);
  check_same ("bytewise", whole, bytewise);

  fuzz_pieces_clear (&input);
  return 0;
}
