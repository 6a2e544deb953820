/* fuzz-data-encoder.c: the DATA encoder and the BDAT (chunked) encoder
 *
 * The input is a header (see FuzzPieces in fuzz-common.h; flag bit 0 is
 * convert-newlines) and a message, fed to the encoders in the pieces the
 * header makes. Checked:
 *
 * - DATA: the output is the same however the message is split; it ends
 *   with CRLF "." CRLF and holds no other CRLF "." CRLF (nor starts with
 *   "." CRLF); removing the stuffed dots gives the normalised message
 *   (line ends made CRLF when converting) with a CRLF added when it does
 *   not end with one, and smtpkit_codec_message_size() is its length
 *   (RFC 1870: what SIZE declares, without the stuffed dots); the
 *   message is found in its wire form exactly when the output is the
 *   message and the terminator;
 * - BDAT: the output is the same however the message is split, and is
 *   the normalised message itself, dots untouched (converted text that
 *   does not end with CRLF gets one);
 * - both: the output is the same when each piece's whole lines are sent
 *   as they are wherever smtpkit_data_encoder_pass() takes them;
 * - the wire form is the same with each scan the processor has (AVX-512BW,
 *   AVX2, SSE2) as byte by byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "smtpkit-codec-private.h"

#define FLAG_CONVERT_NEWLINES 1

static const char crlf_dot_crlf[] = "\r\n.\r\n";

/* What the encoders promise to send, dots aside: with @convert, each bare
 * CR, each bare LF and each CRLF becomes CRLF. */
static GByteArray *
normalise (const guint8 *data,
           gsize         length,
           gboolean      convert)
{
  GByteArray *out = g_byte_array_sized_new (length + 2);

  if (!convert)
    return g_byte_array_append (out, data, length);

  for (gsize i = 0; i < length; i++)
    {
      if (data[i] == '\r' || data[i] == '\n')
        {
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          if (data[i] == '\r' && i + 1 < length && data[i + 1] == '\n')
            i++;
        }
      else
        g_byte_array_append (out, data + i, 1);
    }
  return out;
}

static gboolean
ends_with_crlf (const GByteArray *bytes)
{
  return bytes->len >= 2 && bytes->data[bytes->len - 2] == '\r' &&
         bytes->data[bytes->len - 1] == '\n';
}

/* Encodes the message whole, or in the pieces of @input when @split;
 * with @pass, each piece's whole lines go out as they are when
 * smtpkit_data_encoder_pass() takes them, as the engine sends a stream. */
static GByteArray *
encode (const FuzzPieces *input,
        gboolean          chunked,
        gboolean          split,
        gboolean          pass)
{
  gboolean convert = input->flags & FLAG_CONVERT_NEWLINES;
  GByteArray *out = g_byte_array_new ();
  SmtpkitDataEncoder encoder;
  gsize start = 0;

  if (chunked)
    smtpkit_data_encoder_init_chunked (&encoder, convert);
  else
    smtpkit_data_encoder_init (&encoder, convert);

  for (gsize c = 0; c < (split ? input->n_cuts : 1); c++)
    {
      gsize end = split ? input->cuts[c] : input->length;
      const guint8 *piece = input->payload + start;
      gsize lines = end - start;

      while (lines > 0 && piece[lines - 1] != '\n')
        lines--;
      if (pass && lines > 0 && smtpkit_data_encoder_pass (&encoder, piece, lines))
        {
          g_byte_array_append (out, piece, lines);
          start += lines;
        }
      smtpkit_data_encoder_feed (&encoder, input->payload + start, end - start, out);
      start = end;
    }

  if (chunked)
    smtpkit_data_encoder_finish_chunked (&encoder, out);
  else
    smtpkit_data_encoder_finish (&encoder, out);

  return out;
}

/* Where CRLF "." CRLF first occurs in @bytes (NUL bytes included). */
static gsize
find_terminator (const GByteArray *bytes)
{
  for (gsize i = 0; i + 5 <= bytes->len; i++)
    if (memcmp (bytes->data + i, crlf_dot_crlf, 5) == 0)
      return i;
  return bytes->len;
}

static char *
escape_bytes (const GByteArray *bytes)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < bytes->len; i++)
    {
      guint8 c = bytes->data[i];

      if (c >= 0x20 && c < 0x7f && c != '\\')
        g_string_append_c (out, c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
check_same (const char       *what,
            const GByteArray *whole,
            const GByteArray *pieces)
{
  if (whole->len != pieces->len ||
      (whole->len > 0 && memcmp (whole->data, pieces->data, whole->len) != 0))
    {
      g_autofree char *a = escape_bytes (whole);
      g_autofree char *b = escape_bytes (pieces);

      fuzz_fail ("%s: the outputs differ:\n  \"%s\"\n  \"%s\"", what, a, b);
    }
}

static GByteArray *
destuff (const GByteArray *body)
{
  GByteArray *out = g_byte_array_sized_new (body->len);
  gboolean at_line_start = TRUE;

  for (guint i = 0; i < body->len; i++)
    {
      if (!(at_line_start && body->data[i] == '.'))
        g_byte_array_append (out, body->data + i, 1);
      at_line_start = body->data[i] == '\n';
    }
  return out;
}

static void
check_data (const FuzzPieces *input,
            const GByteArray *out)
{
  gboolean convert = input->flags & FLAG_CONVERT_NEWLINES;
  g_autoptr (GByteArray) expected = normalise (input->payload, input->length, convert);
  g_autoptr (GByteArray) body = NULL;
  g_autoptr (GByteArray) plain = NULL;
  guint body_len;

  fuzz_check (out->len >= 5);
  fuzz_check (memcmp (out->data + out->len - 5, crlf_dot_crlf, 5) == 0);
  /* The one terminator is at the end. */
  fuzz_check (out->len == 5 || memcmp (out->data, ".\r\n", 3) != 0);
  fuzz_check (find_terminator (out) == out->len - 5);

  /* A message found in DATA's wire form is sent as it is, then the
   * terminator: it must be what the encoder makes of it, and everything
   * the encoder leaves alone must be found so. */
  {
    gboolean same = out->len == input->length + 3 &&
                    (input->length == 0 || memcmp (out->data, input->payload, input->length) == 0);
    fuzz_check (!!(smtpkit_codec_wire_form (input->payload, input->length, convert) &
                   SMTPKIT_WIRE_DATA) == same);
  }

  body_len = out->len - 3;
  body = g_byte_array_append (g_byte_array_new (), out->data, body_len);
  plain = destuff (body);
  fuzz_check (smtpkit_codec_message_size (input->payload, input->length, convert) == plain->len);
  if (!ends_with_crlf (expected))
    g_byte_array_append (expected, (const guint8 *) "\r\n", 2);
  check_same ("DATA encoder, de-stuffed output and normalised message", expected, plain);
}

static void
check_bdat (const FuzzPieces *input,
            const GByteArray *out)
{
  gboolean convert = input->flags & FLAG_CONVERT_NEWLINES;
  g_autoptr (GByteArray) expected = normalise (input->payload, input->length, convert);

  if (convert && expected->len > 0 && !ends_with_crlf (expected))
    g_byte_array_append (expected, (const guint8 *) "\r\n", 2);
  check_same ("BDAT encoder, output and normalised message", expected, out);

  /* A message said to be in its wire form is sent as it is: it must be
   * what the encoder makes of it, and everything the encoder leaves
   * alone must be found so. */
  {
    gboolean same = out->len == input->length &&
                    (out->len == 0 || memcmp (out->data, input->payload, out->len) == 0);
    fuzz_check (smtpkit_codec_chunk_is_exact (input->payload, input->length, convert) == same);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr (GByteArray) data_whole = NULL;
  g_autoptr (GByteArray) data_pieces = NULL;
  g_autoptr (GByteArray) bdat_whole = NULL;
  g_autoptr (GByteArray) bdat_pieces = NULL;
  g_autoptr (GByteArray) data_passed = NULL;
  g_autoptr (GByteArray) bdat_passed = NULL;
  FuzzPieces input;

  if (!fuzz_pieces_init (&input, data, size))
    return 0;

  data_whole = encode (&input, FALSE, FALSE, FALSE);
  data_pieces = encode (&input, FALSE, TRUE, FALSE);
  check_same ("DATA encoder, whole and in pieces", data_whole, data_pieces);
  data_passed = encode (&input, FALSE, TRUE, TRUE);
  check_same ("DATA encoder, whole and in pieces passed where they can", data_whole, data_passed);
  check_data (&input, data_whole);

  bdat_whole = encode (&input, TRUE, FALSE, FALSE);
  bdat_pieces = encode (&input, TRUE, TRUE, FALSE);
  check_same ("BDAT encoder, whole and in pieces", bdat_whole, bdat_pieces);
  bdat_passed = encode (&input, TRUE, TRUE, TRUE);
  check_same ("BDAT encoder, whole and in pieces passed where they can", bdat_whole, bdat_passed);
  check_bdat (&input, bdat_whole);

  /* Every scan the processor has finds the same wire form as the one
   * that goes byte by byte. */
  {
    gboolean convert = input.flags & FLAG_CONVERT_NEWLINES;
    SmtpkitCodecScan had = smtpkit_codec_set_scan (SMTPKIT_CODEC_SCAN_BYTES);
    SmtpkitWireForm form = smtpkit_codec_wire_form (input.payload, input.length, convert);

    for (SmtpkitCodecScan scan = SMTPKIT_CODEC_SCAN_SSE2; scan <= SMTPKIT_CODEC_SCAN_AVX512BW; scan++)
      {
        smtpkit_codec_set_scan (scan);
        fuzz_check (smtpkit_codec_wire_form (input.payload, input.length, convert) == form);
      }
    smtpkit_codec_set_scan (had);
  }

  fuzz_pieces_clear (&input);
  return 0;
}
