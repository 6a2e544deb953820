/* test-message.c: unit tests of send_message()'s message handling (the
 * envelope from the headers, serialisation, 8-bit and SMTPUTF8 detection)
 * and of the address codec it relies on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-codec-private.h"
#include "smtpkit-error.h"
#include "smtpkit-message-private.h"

/* GMime declares no autoptr cleanups; these are for this test only. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

static GMimeMessage *
parse_message (const char *text)
{
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);

  return message;
}

static void
assert_envelope (GMimeMessage      *message,
                 const char        *expected_from,
                 const char *const *expected_to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_autoptr (GPtrArray) to = NULL;

  g_assert_true (smtpkit_message_get_envelope (message, &from, &to, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (from, ==, expected_from);
  g_ptr_array_add (to, NULL);
  g_assert_cmpstrv ((char **) to->pdata, expected_to);
}

static void
assert_envelope_error (GMimeMessage *message,
                       gboolean      want_from,
                       gboolean      want_to,
                       const char   *message_part)
{
  g_autoptr (GError) error = NULL;
  char *from = (char *) "unchanged";
  GPtrArray *to = (GPtrArray *) &from;

  g_assert_false (smtpkit_message_get_envelope (message,
                                                want_from ? &from : NULL,
                                                want_to ? &to : NULL,
                                                &error));
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, message_part));
  /* Outputs are left alone on error. */
  g_assert_cmpstr (from, ==, "unchanged");
  g_assert_true (to == (GPtrArray *) &from);
}

/* ---- the envelope from the headers ------------------------------------ */

static void
test_envelope_sender_beats_from (void)
{
  g_autoptr (GMimeMessage) message =
    parse_message ("From: Alice <alice@example.org>\n"
                   "Sender: Secretary <secretary@example.org>\n"
                   "To: bob@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "secretary@example.org",
                   (const char *[]){ "bob@example.org", NULL });
}

static void
test_envelope_from_alone (void)
{
  /* The first address of a From with several authors; a quoted comma in
   * a display name does not split it. */
  g_autoptr (GMimeMessage) message =
    parse_message ("FROM: \"Liddell, Alice\" <alice@example.org>, carol@example.org\n"
                   "To: bob@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "alice@example.org",
                   (const char *[]){ "bob@example.org", NULL });
}

static void
test_envelope_recipients (void)
{
  /* smtplib's order is To, Bcc, Cc; groups are expanded, display names
   * and comments dropped, duplicates kept; only the first header of each
   * name counts (msg['To'] in Python). */
  g_autoptr (GMimeMessage) message =
    parse_message ("From: alice@example.org\n"
                   "To: Bob <bob@example.org>, team: carol@example.org,\n"
                   " \"Dave, D.\" <dave@example.org>;, bob@example.org\n"
                   "cc: eve@example.org (Eve), undisclosed-recipients:;\n"
                   "BCC: =?utf-8?q?Fr=C3=A9d?= <fred@example.org>\n"
                   "To: ignored@example.org\n"
                   "Cc: ignored-too@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "alice@example.org",
                   (const char *[]){
                     "bob@example.org", "carol@example.org", "dave@example.org",
                     "bob@example.org", "fred@example.org", "eve@example.org", NULL });
}

static void
test_envelope_built_message (void)
{
  /* A message built with the API, whose placeholder headers (an empty
   * Sender among them) must not count as present. */
  g_autoptr (GMimeMessage) message = g_mime_message_new (TRUE);

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, "Alice", "alice@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, "Bob", "bob@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_CC, NULL, "carol@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_BCC, NULL, "dave@example.org");

  assert_envelope (message, "alice@example.org",
                   (const char *[]){ "bob@example.org", "dave@example.org",
                                     "carol@example.org", NULL });
}

static void
test_envelope_resent_one_block (void)
{
  /* One Resent-Date: the Resent- headers are used instead, Resent-Sender
   * before Resent-From. */
  g_autoptr (GMimeMessage) message =
    parse_message ("From: alice@example.org\n"
                   "To: bob@example.org\n"
                   "Cc: carol@example.org\n"
                   "Resent-Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
                   "Resent-From: Forwarder <fwd@example.org>\n"
                   "Resent-Sender: robot@example.org\n"
                   "Resent-To: Zed <zed@example.org>\n"
                   "Resent-Cc: yan@example.org\n"
                   "Resent-Bcc: xia@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "robot@example.org",
                   (const char *[]){ "zed@example.org", "xia@example.org",
                                     "yan@example.org", NULL });
}

static void
test_envelope_resent_from_only (void)
{
  g_autoptr (GMimeMessage) message =
    parse_message ("From: alice@example.org\n"
                   "To: bob@example.org\n"
                   "Resent-Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
                   "Resent-From: fwd@example.org\n"
                   "Resent-To: zed@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "fwd@example.org",
                   (const char *[]){ "zed@example.org", NULL });
}

static void
test_envelope_resent_without_date (void)
{
  /* smtplib counts Resent-Date headers only: Resent-From alone does not
   * make a block. */
  g_autoptr (GMimeMessage) message =
    parse_message ("From: alice@example.org\n"
                   "To: bob@example.org\n"
                   "Resent-From: fwd@example.org\n"
                   "Resent-To: zed@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope (message, "alice@example.org",
                   (const char *[]){ "bob@example.org", NULL });
}

static void
test_envelope_resent_two_blocks (void)
{
  g_autoptr (GMimeMessage) message =
    parse_message ("Resent-Date: Tue, 2 Jan 2024 10:00:00 +0000\n"
                   "Resent-From: second@example.org\n"
                   "Resent-To: zed@example.org\n"
                   "Resent-Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
                   "Resent-From: first@example.org\n"
                   "Resent-To: yan@example.org\n"
                   "From: alice@example.org\n"
                   "To: bob@example.org\n"
                   "\n"
                   "body\n");

  assert_envelope_error (message, TRUE, TRUE, "more than one 'Resent-' header block");
  /* Checked even when neither the sender nor the recipients are wanted,
   * as smtplib checks it before looking at from_addr and to_addrs. */
  assert_envelope_error (message, FALSE, FALSE, "more than one 'Resent-' header block");
}

static void
test_envelope_no_sender (void)
{
  g_autoptr (GMimeMessage) no_from =
    parse_message ("To: bob@example.org\n\nbody\n");
  g_autoptr (GMimeMessage) empty_sender =
    parse_message ("From: alice@example.org\n"
                   "Sender: undisclosed:;\n"
                   "To: bob@example.org\n\nbody\n");
  g_autoptr (GPtrArray) to = NULL;

  assert_envelope_error (no_from, TRUE, FALSE, "no Sender or From header");
  /* Sender beats From even when it holds no address, as in smtplib. */
  assert_envelope_error (empty_sender, TRUE, TRUE, "Sender holds no address");
  /* Only the recipients asked for: no sender needed. */
  g_assert_true (smtpkit_message_get_envelope (no_from, NULL, &to, NULL));
  g_assert_cmpuint (to->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (to, 0), ==, "bob@example.org");
}

static void
test_envelope_no_recipients (void)
{
  g_autoptr (GMimeMessage) none =
    parse_message ("From: alice@example.org\nSubject: hi\n\nbody\n");
  g_autoptr (GMimeMessage) empty_group =
    parse_message ("From: alice@example.org\nTo: undisclosed-recipients:;\n\nbody\n");
  g_autoptr (GMimeMessage) resent_none =
    parse_message ("From: alice@example.org\n"
                   "To: bob@example.org\n"
                   "Resent-Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
                   "Resent-From: fwd@example.org\n"
                   "\nbody\n");
  g_autofree char *from = NULL;

  assert_envelope_error (none, TRUE, TRUE, "no recipient in its To, Cc or Bcc");
  assert_envelope_error (empty_group, FALSE, TRUE, "no recipient in its To, Cc or Bcc");
  assert_envelope_error (resent_none, TRUE, TRUE,
                         "no recipient in its Resent-To, Resent-Cc or Resent-Bcc");
  g_assert_true (smtpkit_message_get_envelope (none, &from, NULL, NULL));
  g_assert_cmpstr (from, ==, "alice@example.org");
}

static void
test_envelope_international (void)
{
  /* Addresses are kept as the header writes them: UTF-8 stays UTF-8 and
   * an A-label stays an A-label (GMime's parser alone would turn it into
   * UTF-8 and make the envelope need SMTPUTF8 for nothing). */
  g_autoptr (GMimeMessage) message =
    parse_message ("From: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>\n"
                   "To: user@XN--BCHER-KVA.example, other@b\xc3\xbc" "cher.example\n"
                   "\n"
                   "body\n");
  g_autoptr (GMimeMessage) built = g_mime_message_new (TRUE);

  assert_envelope (message, "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
                   (const char *[]){ "user@XN--BCHER-KVA.example",
                                     "other@b\xc3\xbc" "cher.example", NULL });

  /* GMime writes an IDN domain it is given as an A-label in the header. */
  g_mime_message_add_mailbox (built, GMIME_ADDRESS_TYPE_FROM, NULL, "alice@example.org");
  g_mime_message_add_mailbox (built, GMIME_ADDRESS_TYPE_TO, NULL, "user@b\xc3\xbc" "cher.example");
  assert_envelope (built, "alice@example.org",
                   (const char *[]){ "user@xn--bcher-kva.example", NULL });
}

/* ---- serialisation ---------------------------------------------------- */

static char *
bytes_to_string (GBytes *bytes)
{
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  return g_strndup (data, length);
}

static void
assert_crlf_only (GBytes *bytes)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  g_assert_cmpuint (length, >, 0);
  for (gsize i = 0; i < length; i++)
    {
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
      if (data[i] == '\r')
        g_assert_true (i + 1 < length && data[i + 1] == '\n');
    }
}

#define SIMPLE_MESSAGE \
  "From: alice@example.org\n" \
  "To: bob@example.org\n" \
  "Bcc: hidden@example.org,\n" \
  "  also-hidden@example.org\n" \
  "Subject: Hi\n" \
  "resent-bcc: rb@example.org\n" \
  "BCC : obsolete-syntax@example.org\n" \
  "MIME-Version: 1.0\n" \
  "Content-Type: text/plain\n" \
  "\n" \
  "line 1\n" \
  "Bcc: not a header, the body\n" \
  ".line 3\n"

static void
test_serialize_strips_bcc (void)
{
  g_autoptr (GMimeMessage) message = parse_message (SIMPLE_MESSAGE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *original = NULL;

  wire = smtpkit_message_serialize (message, &error);
  g_assert_no_error (error);
  text = bytes_to_string (wire);
  /* Dot-stuffing is the DATA encoder's business, not this one's. */
  g_assert_cmpstr (text, ==,
                   "From: alice@example.org\r\n"
                   "To: bob@example.org\r\n"
                   "Subject: Hi\r\n"
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: text/plain\r\n"
                   "\r\n"
                   "line 1\r\n"
                   "Bcc: not a header, the body\r\n"
                   ".line 3\r\n");
  assert_crlf_only (wire);

  /* The caller's message is unchanged. */
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"), ==,
                   "hidden@example.org,  also-hidden@example.org");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "Resent-Bcc"), ==,
                   "rb@example.org");
  original = g_mime_object_to_string (GMIME_OBJECT (message), NULL);
  g_assert_cmpstr (original, ==, SIMPLE_MESSAGE);

  /* And so serialising twice gives the same bytes. */
  again = smtpkit_message_serialize (message, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (wire, again));
}

static void
test_serialize_nested_message (void)
{
  /* smtplib deletes Bcc from the top-level headers only: a forwarded
   * message keeps its own. Every line ends with CRLF, whatever the input
   * used. */
  g_autoptr (GMimeMessage) message =
    parse_message ("From: alice@example.org\r\n"
                   "To: bob@example.org\n"
                   "Bcc: top@example.org\n"
                   "MIME-Version: 1.0\n"
                   "Content-Type: multipart/mixed; boundary=XX\n"
                   "\n"
                   "--XX\n"
                   "Content-Type: text/plain\n"
                   "\n"
                   "see below\r\n"
                   "--XX\n"
                   "Content-Type: message/rfc822\n"
                   "\n"
                   "From: carol@example.org\n"
                   "Bcc: inner@example.org\n"
                   "Subject: inner\n"
                   "\n"
                   "inner body\n"
                   "--XX--\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *text = NULL;

  wire = smtpkit_message_serialize (message, &error);
  g_assert_no_error (error);
  text = bytes_to_string (wire);
  g_assert_cmpstr (text, ==,
                   "From: alice@example.org\r\n"
                   "To: bob@example.org\r\n"
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: multipart/mixed; boundary=XX\r\n"
                   "\r\n"
                   "--XX\r\n"
                   "Content-Type: text/plain\r\n"
                   "\r\n"
                   "see below\r\n"
                   "--XX\r\n"
                   "Content-Type: message/rfc822\r\n"
                   "\r\n"
                   "From: carol@example.org\r\n"
                   "Bcc: inner@example.org\r\n"
                   "Subject: inner\r\n"
                   "\r\n"
                   "inner body\r\n"
                   "--XX--\r\n");
  assert_crlf_only (wire);
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"), ==,
                   "top@example.org");
}

static void
test_serialize_built_message (void)
{
  /* A message built with the API: Bcc set through GMime's address list. */
  g_autoptr (GMimeMessage) message = g_mime_message_new (TRUE);
  GMimeTextPart *body = g_mime_text_part_new_with_subtype ("plain");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *text = NULL;

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, NULL, "alice@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, NULL, "bob@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_BCC, NULL, "secret@example.org");
  g_mime_message_set_subject (message, "Hello", NULL);
  g_mime_text_part_set_text (body, "one\ntwo\n");
  g_mime_message_set_mime_part (message, GMIME_OBJECT (body));
  g_object_unref (body);

  wire = smtpkit_message_serialize (message, &error);
  g_assert_no_error (error);
  assert_crlf_only (wire);
  text = bytes_to_string (wire);
  g_assert_null (strstr (text, "secret@example.org"));
  g_assert_null (strstr (text, "Bcc"));
  g_assert_nonnull (strstr (text, "\r\nTo: bob@example.org\r\n"));
  g_assert_true (g_str_has_suffix (text, "\r\n\r\none\r\ntwo\r\n"));
  g_assert_nonnull (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"));
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_bcc (message)), ==, 1);
}

/* ---- 8-bit and SMTPUTF8 ----------------------------------------------- */

static void
test_has_8bit (void)
{
  g_autoptr (GBytes) ascii = g_bytes_new_static ("Subject: x\r\n\r\nplain\x7f\r\n", 20);
  g_autoptr (GBytes) eight = g_bytes_new_static ("Subject: x\r\n\r\nh\xc3\xa9\r\n", 19);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

  g_assert_false (smtpkit_message_has_8bit (ascii));
  g_assert_true (smtpkit_message_has_8bit (eight));
  g_assert_false (smtpkit_message_has_8bit (empty));
}

static void
test_needs_smtputf8 (void)
{
  g_autoptr (GPtrArray) ascii = g_ptr_array_new ();
  g_autoptr (GPtrArray) local = g_ptr_array_new ();
  g_autoptr (GPtrArray) domain = g_ptr_array_new ();

  g_ptr_array_add (ascii, "bob@example.org");
  g_ptr_array_add (ascii, "carol@xn--bcher-kva.example");
  g_ptr_array_add (local, "bob@example.org");
  g_ptr_array_add (local, "j\xc3\xb6rg@example.org");
  g_ptr_array_add (domain, "user@b\xc3\xbc" "cher.example");

  g_assert_false (smtpkit_message_needs_smtputf8 ("alice@example.org", ascii));
  g_assert_false (smtpkit_message_needs_smtputf8 ("", ascii));
  g_assert_false (smtpkit_message_needs_smtputf8 (NULL, NULL));
  g_assert_true (smtpkit_message_needs_smtputf8 ("alice@example.org", local));
  g_assert_true (smtpkit_message_needs_smtputf8 (NULL, domain));
  g_assert_true (smtpkit_message_needs_smtputf8 ("\xc3\xa9@example.org", ascii));
}

static void
test_to_7bit (void)
{
  static const char source[] =
    "From: alice@example.org\n"
    "To: bob@example.org\n"
    "Bcc: hidden@example.org\n"
    "Subject: h\xc3\xa9llo\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=XX\n"
    "\n"
    "--XX\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "h\xc3\xa9llo w\xc3\xb6rld\n"
    "--XX\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "plain\n"
    "--XX--\n";
  g_autoptr (GMimeMessage) message = parse_message (source);
  g_autoptr (GMimeMessage) converted = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autofree char *text = NULL;
  g_autofree char *original = NULL;

  before = smtpkit_message_serialize (message, &error);
  g_assert_no_error (error);
  g_assert_true (smtpkit_message_has_8bit (before));

  g_assert_true (smtpkit_message_to_7bit (message, &converted, &error));
  g_assert_no_error (error);
  g_assert_true (converted != message);
  after = smtpkit_message_serialize (converted, &error);
  g_assert_no_error (error);
  g_assert_false (smtpkit_message_has_8bit (after));
  assert_crlf_only (after);
  text = bytes_to_string (after);
  g_assert_nonnull (strstr (text,
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "aMOpbGxvIHfDtnJsZA==\r\n"));
  g_assert_nonnull (strstr (text, "\r\n\r\nplain\r\n--XX--\r\n"));
  /* The UTF-8 header as an RFC 2047 encoded word, which decodes back. */
  g_assert_nonnull (g_strstr_len (text, -1, "Subject: =?"));
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (converted), "Subject"), ==,
                   "h\xc3\xa9llo");
  g_assert_null (strstr (text, "hidden@example.org"));
  /* The copy keeps its Bcc (serialising drops it); the original is
   * untouched. */
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (converted), "Bcc"), ==,
                   "hidden@example.org");
  original = g_mime_object_to_string (GMIME_OBJECT (message), NULL);
  g_assert_cmpstr (original, ==, source);
}

/* ---- the address codec ------------------------------------------------ */

static void
test_codec_xtext (void)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "a+b=c d", "a+2Bb+3Dc+20d" },
    { "", "" },
    { "QQ314159", "QQ314159" },
    { "!~", "!~" },
    { "\t\x7f", "+09+7F" },
    { "bob+x@example.org", "bob+2Bx@example.org" },
    { "\xc3\xa9", "+C3+A9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *encoded = smtpkit_codec_xtext_encode (cases[i].in);

      g_assert_cmpstr (encoded, ==, cases[i].out);
    }
}

static void
test_codec_is_ascii (void)
{
  g_assert_true (smtpkit_codec_is_ascii (""));
  g_assert_true (smtpkit_codec_is_ascii ("bob@example.org\x7f"));
  g_assert_false (smtpkit_codec_is_ascii ("j\xc3\xb6rg@example.org"));
  g_assert_false (smtpkit_codec_is_ascii ("bob@b\xc3\xbc" "cher.example"));
  g_assert_false (smtpkit_codec_is_ascii ("\x80"));
}

static void
test_codec_address_to_ascii (void)
{
  static const struct
  {
    const char *in;
    const char *out; /* NULL: cannot be made ASCII */
  } cases[] = {
    { "user@b\xc3\xbc" "cher.example", "user@xn--bcher-kva.example" },
    { "<user@b\xc3\xbc" "cher.example>", "<user@xn--bcher-kva.example>" },
    { "user@xn--bcher-kva.example", "user@xn--bcher-kva.example" },
    { "Bob@Example.ORG", "Bob@Example.ORG" },
    { "<>", "<>" },
    { "", "" },
    { "postmaster", "postmaster" },
    { "\"a@b\"@m\xc3\xbcnchen.example", "\"a@b\"@xn--mnchen-3ya.example" },
    { "j\xc3\xb6rg@example.org", NULL },
    { "j\xc3\xb6rg@b\xc3\xbc" "cher.example", NULL },
    { "<j\xc3\xb6rg@example.org>", NULL },
    { "p\xc3\xb6stmaster", NULL },
    /* Not UTF-8: an overlong ')' and a sequence cut short at the end. */
    { "user@a\xc0\xa9", NULL },
    { "user@b\xc3\xbc" "cher.example\xc3", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *ascii = smtpkit_codec_address_to_ascii (cases[i].in);
      g_autofree char *shown = g_strescape (cases[i].in, NULL);

      /* Escaped: TAP output is UTF-8, and some cases are not. */
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, shown);
      g_assert_cmpstr (ascii, ==, cases[i].out);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/message/envelope/sender-beats-from", test_envelope_sender_beats_from);
  g_test_add_func ("/message/envelope/from-alone", test_envelope_from_alone);
  g_test_add_func ("/message/envelope/recipients", test_envelope_recipients);
  g_test_add_func ("/message/envelope/built-message", test_envelope_built_message);
  g_test_add_func ("/message/envelope/resent-one-block", test_envelope_resent_one_block);
  g_test_add_func ("/message/envelope/resent-from-only", test_envelope_resent_from_only);
  g_test_add_func ("/message/envelope/resent-without-date", test_envelope_resent_without_date);
  g_test_add_func ("/message/envelope/resent-two-blocks", test_envelope_resent_two_blocks);
  g_test_add_func ("/message/envelope/no-sender", test_envelope_no_sender);
  g_test_add_func ("/message/envelope/no-recipients", test_envelope_no_recipients);
  g_test_add_func ("/message/envelope/international", test_envelope_international);
  g_test_add_func ("/message/serialize/strips-bcc", test_serialize_strips_bcc);
  g_test_add_func ("/message/serialize/nested-message", test_serialize_nested_message);
  g_test_add_func ("/message/serialize/built-message", test_serialize_built_message);
  g_test_add_func ("/message/has-8bit", test_has_8bit);
  g_test_add_func ("/message/needs-smtputf8", test_needs_smtputf8);
  g_test_add_func ("/message/to-7bit", test_to_7bit);
  g_test_add_func ("/codec/xtext", test_codec_xtext);
  g_test_add_func ("/codec/is-ascii", test_codec_is_ascii);
  g_test_add_func ("/codec/address-to-ascii", test_codec_address_to_ascii);

  return g_test_run ();
}
