/* smtpkit-codec-private.h: the pure protocol codec (no I/O)
 *
 * Reply parser, EHLO parser, command formatter and DATA encoder. Plain
 * functions over buffers: unit-tested without sockets (tests/test-codec.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "smtpkit-reply.h"

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF. */
#define SMTPKIT_MAX_COMMAND_LINE 512
/* Longest reply line accepted, CRLF included; more is a protocol error. */
#define SMTPKIT_MAX_REPLY_LINE 8192
/* Largest reply accepted, all lines together; more is a protocol error. */
#define SMTPKIT_MAX_REPLY_SIZE 65536

/* ---- command formatter ------------------------------------------------ */

/* Fails with SMTPKIT_ERROR_INVALID_ARGUMENT when @value holds CR, LF or NUL
 * (NUL: @length is the real length, -1 for a C string, in which case
 * NUL cannot occur). @what names the value in the message ("recipient",
 * "MAIL option", ...). */
gboolean smtpkit_codec_check_argument (const char  *what,
                                       const char  *value,
                                       gssize       length,
                                       GError     **error);

/* Appends "VERB[ ARG][ OPT]...\r\n" to @out. @arg and @options may be NULL.
 * Every piece is checked with smtpkit_codec_check_argument(); the whole line
 * with CRLF must fit SMTPKIT_MAX_COMMAND_LINE. On error @out is unchanged. */
gboolean smtpkit_codec_format_command (GString            *out,
                                       const char         *verb,
                                       const char         *arg,
                                       const char *const  *options,
                                       GError            **error);

/* smtplib's quoteaddr(): "<>" stays "<>"; "Name <a@b>" gives "<a@b>";
 * "<a@b>" stays; a bare "a@b" becomes "<a@b>". Surrounding spaces and tabs are
 * dropped. Does not validate (the formatter does). Returns a new string. */
char *smtpkit_codec_quote_address (const char *address);
/* @keyword followed by the quoted address, in one string: "FROM:<a@b>"
 * for ("FROM:", "a@b"), the argument of MAIL and RCPT. */
char *smtpkit_codec_path_argument (const char *keyword,
                                   const char *address);

/* ---- reply parser ----------------------------------------------------- */

typedef enum
{
  SMTPKIT_REPLY_PARSER_NEED_MORE,  /* all input consumed, no full reply yet */
  SMTPKIT_REPLY_PARSER_REPLY,      /* a full reply in *reply */
  SMTPKIT_REPLY_PARSER_ERROR,      /* malformed: SMTPKIT_ERROR_PROTOCOL */
} SmtpkitReplyParserStatus;

typedef struct _SmtpkitReplyParser SmtpkitReplyParser;

SmtpkitReplyParser *smtpkit_reply_parser_new (void);
void smtpkit_reply_parser_free (SmtpkitReplyParser *parser);
/* Forget a partial reply (after an error or a reconnect). */
void smtpkit_reply_parser_reset (SmtpkitReplyParser *parser);
/* TRUE when some bytes of a reply not yet complete have been fed. */
gboolean smtpkit_reply_parser_has_partial (SmtpkitReplyParser *parser);

/* Feeds up to @length bytes. Consumes bytes up to and including the end of
 * the first complete reply (then returns REPLY with *reply set, transfer
 * full), or all of them (NEED_MORE). *consumed tells how many were used,
 * so that what follows a reply stays with the caller.
 *
 * Lines end with LF; a CR before it is dropped. A line is "NNN", "NNN text"
 * or "NNN-text"; the first digit is 2..5, the others digits. Errors: a line
 * over SMTPKIT_MAX_REPLY_LINE, a reply over SMTPKIT_MAX_REPLY_SIZE, a NUL,
 * a non-numeric code, lines of one reply with different codes.
 *
 * The outcome does not depend on how the input is split across calls. On
 * ERROR, *consumed counts the bytes up to and including the offending one
 * (or line); the parser must then be reset before it is fed again. */
SmtpkitReplyParserStatus smtpkit_reply_parser_feed (SmtpkitReplyParser  *parser,
                                                    const guint8        *data,
                                                    gsize                length,
                                                    gsize               *consumed,
                                                    SmtpkitReply       **reply,
                                                    GError             **error);

/* ---- EHLO parser ------------------------------------------------------ */

/* smtplib's feature table from an EHLO reply: keys are lower-case keywords,
 * values the parameters (stripped, possibly ""). The first line (the
 * greeting) is skipped; old-style "AUTH=" lines are merged into "auth" as
 * smtplib does. Returns a new table (char* -> char*). */
GHashTable *smtpkit_codec_parse_ehlo (const SmtpkitReply *reply);

/* ---- DATA encoder ----------------------------------------------------- */

/* Streaming encoder for the DATA body. With convert_newlines, bare CR and
 * bare LF become CRLF (CRLF stays). Every line starting with "." gets
 * another "." (RFC 5321 §4.5.2). finish() adds CRLF when the output does
 * not already end with one (an empty message gives "\r\n") and then the
 * terminator ".\r\n". State carries across feed() calls, so a CR at the
 * end of one chunk and LF at the start of the next is one CRLF. */
typedef struct
{
  gboolean convert_newlines;
  gboolean at_line_start;
  gboolean pending_cr;
  gboolean ends_with_crlf;
  gboolean chunked;
  guint64 bytes_out;
} SmtpkitDataEncoder;

void smtpkit_data_encoder_init (SmtpkitDataEncoder *encoder,
                                gboolean            convert_newlines);
void smtpkit_data_encoder_feed (SmtpkitDataEncoder *encoder,
                                const guint8       *data,
                                gsize               length,
                                GByteArray         *out);
void smtpkit_data_encoder_finish (SmtpkitDataEncoder *encoder,
                                  GByteArray         *out);
/* Whether @data, whole lines ending with CRLF, is its own encoding at
 * the point @encoder is at (DATA's or BDAT's), so that it can be sent as
 * it is, from where it is; when it is, the encoder's state moves past it
 * as smtpkit_data_encoder_feed() would have, with nothing appended. */
gboolean smtpkit_data_encoder_pass (SmtpkitDataEncoder *encoder,
                                    const guint8       *data,
                                    gsize               length);
/* For BDAT (RFC 3030): line endings as above, but no dot-stuffing and no
 * terminator; finish_chunked() adds only a final CRLF to converted text
 * that lacks one. */
void smtpkit_data_encoder_init_chunked (SmtpkitDataEncoder *encoder,
                                        gboolean            convert_newlines);
void smtpkit_data_encoder_finish_chunked (SmtpkitDataEncoder *encoder,
                                          GByteArray         *out);
/* Which encodings of the whole message @data are @data itself, so that
 * it can be sent without a copy, found in one pass:
 * - SMTPKIT_WIRE_CHUNK: BDAT's; without converting, always; when
 *   converting, if it has no bare CR or LF and is empty or ends with CRLF;
 * - SMTPKIT_WIRE_DATA: DATA's, its terminator aside; when it ends with
 *   CRLF, has no line that starts with a dot and, when converting, no
 *   bare CR or LF. */
typedef enum
{
  SMTPKIT_WIRE_CHUNK = 1 << 0,
  SMTPKIT_WIRE_DATA = 1 << 1,
} SmtpkitWireForm;

/* How smtpkit_codec_wire_form() goes through a long message: byte by
 * byte where it has nothing better, else in blocks with the widest
 * instructions the processor has, found once. */
typedef enum
{
  SMTPKIT_CODEC_SCAN_BYTES,
  SMTPKIT_CODEC_SCAN_SSE2,
  SMTPKIT_CODEC_SCAN_AVX2,
  SMTPKIT_CODEC_SCAN_AVX512BW,
} SmtpkitCodecScan;

/* Makes smtpkit_codec_wire_form() scan with @scan, or with the best one
 * below it that the processor has (byte by byte is always there);
 * returns the one it used before. For the tests, which check each
 * against the others; not thread-safe. */
SmtpkitCodecScan smtpkit_codec_set_scan (SmtpkitCodecScan scan);
SmtpkitWireForm smtpkit_codec_wire_form (const guint8 *data,
                                         gsize         length,
                                         gboolean      convert_newlines);
/* smtpkit_codec_wire_form() & SMTPKIT_WIRE_CHUNK */
gboolean smtpkit_codec_chunk_is_exact (const guint8 *data,
                                       gsize         length,
                                       gboolean      convert_newlines);
/* The size of a whole message as SIZE declares it (RFC 1870 §3): with
 * its line endings made CRLF (when converting) and a final CRLF, without
 * the dots added by stuffing and without the terminating ".\r\n". */
guint64 smtpkit_codec_message_size (const guint8 *data,
                                    gsize         length,
                                    gboolean      convert_newlines);
/* The same, for @data whose smtpkit_codec_wire_form() is known to be
 * @form: a message in BDAT's wire form that ends with CRLF is its own
 * size, without a second pass. */
guint64 smtpkit_codec_message_size_in_form (const guint8    *data,
                                            gsize            length,
                                            SmtpkitWireForm  form,
                                            gboolean         convert_newlines);

/* ---- addresses and parameters ----------------------------------------- */

/* RFC 3461 §4 xtext: every byte below 33 or above 126, '+' and '=' become
 * "+HH" (upper-case hex); the rest is copied. Returns a new string. */
char *smtpkit_codec_xtext_encode (const char *text);

/* TRUE when every byte of @text is below 128. */
gboolean smtpkit_codec_is_ascii (const char *text);

/* The ASCII form of an address for a server without SMTPUTF8: the domain
 * after the last '@' becomes A-labels (g_hostname_to_ascii()); the rest is
 * kept as it is, "<...>" included ("<>" and an address without '@' stay
 * as they are). Returns %NULL when that is not enough (a non-ASCII local
 * part or display name) or the domain is not a valid IDN. */
char *smtpkit_codec_address_to_ascii (const char *address);

/* The first place @needle occurs in @haystack, ASCII case ignored. */
const char *smtpkit_codec_find_ascii_case (const char *haystack,
                                           const char *needle);

G_END_DECLS
