/* test-envelope.c: unit tests of SmtpkitEnvelope (DSN options and their
 * parameters) and SmtpkitSendResult (per-recipient results, the refused
 * map, queue identifiers)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-envelope-private.h"
#include "smtpkit-enums.h"
#include "smtpkit-error.h"
#include "smtpkit-reply.h"
#include "smtpkit-send-result-private.h"

#define NONE ((const char *[]){ NULL })

/* ---- SmtpkitEnvelope -------------------------------------------------- */

static void
test_envelope_new (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_autoptr (SmtpkitEnvelope) bounce = smtpkit_envelope_new ("");
  g_auto (GStrv) mail = NULL;
  g_autofree char *sender = NULL;

  g_assert_cmpstr (smtpkit_envelope_get_sender (envelope), ==, "alice@example.org");
  g_assert_cmpstr (smtpkit_envelope_get_sender (bounce), ==, "");
  g_assert_cmpint (smtpkit_envelope_get_dsn_ret (envelope), ==, SMTPKIT_DSN_RET_UNSET);
  g_assert_null (smtpkit_envelope_get_dsn_envid (envelope));
  g_assert_cmpuint (smtpkit_envelope_get_n_recipients (envelope), ==, 0);
  g_assert_cmpstrv (smtpkit_envelope_get_mail_options (envelope), NONE);
  g_assert_cmpstrv (smtpkit_envelope_get_rcpt_options (envelope), NONE);

  mail = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (mail, NONE);

  g_object_get (envelope, "sender", &sender, NULL);
  g_assert_cmpstr (sender, ==, "alice@example.org");
}

static void
test_envelope_mail_parameters (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ret_only = NULL;
  g_auto (GStrv) both = NULL;
  g_auto (GStrv) full = NULL;
  g_auto (GStrv) cleared = NULL;
  SmtpkitDsnRet ret;

  smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);
  ret_only = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (ret_only, ((const char *[]){ "RET=HDRS", NULL }));

  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, "QQ314159", &error));
  g_assert_no_error (error);
  both = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (both, ((const char *[]){ "RET=HDRS", "ENVID=QQ314159", NULL }));

  /* The ENVID is xtext-encoded; the getter gives it unencoded. */
  g_object_set (envelope, "dsn-ret", SMTPKIT_DSN_RET_FULL, NULL);
  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, "id=1 +x", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (smtpkit_envelope_get_dsn_envid (envelope), ==, "id=1 +x");
  g_object_get (envelope, "dsn-ret", &ret, NULL);
  g_assert_cmpint (ret, ==, SMTPKIT_DSN_RET_FULL);
  full = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (full, ((const char *[]){ "RET=FULL", "ENVID=id+3D1+20+2Bx", NULL }));

  smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_UNSET);
  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, NULL, &error));
  g_assert_no_error (error);
  cleared = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (cleared, NONE);
}

static void
test_envelope_envid_invalid (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_autofree char *longest = g_strnfill (SMTPKIT_DSN_ENVID_MAX, 'x');
  g_autofree char *too_long = g_strnfill (SMTPKIT_DSN_ENVID_MAX + 1, 'x');
  const char *invalid[] = { "", too_long, "tab\there", "line\r\nbreak", "caf\xc3\xa9", "\x7f" };
  g_autoptr (GError) error = NULL;

  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, "kept", &error));
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) local_error = NULL;

      g_assert_false (smtpkit_envelope_set_dsn_envid (envelope, invalid[i], &local_error));
      g_assert_error (local_error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (smtpkit_envelope_get_dsn_envid (envelope), ==, "kept");
    }

  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, longest, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (smtpkit_envelope_get_dsn_envid (envelope), ==, longest);
}

static void
test_envelope_recipients (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_auto (GStrv) plain = NULL;
  g_auto (GStrv) both = NULL;
  g_auto (GStrv) never = NULL;
  g_auto (GStrv) orcpt_only = NULL;
  g_auto (GStrv) all = NULL;
  g_auto (GStrv) utf8 = NULL;

  smtpkit_envelope_add_recipient (envelope, "carol@example.org", SMTPKIT_DSN_NOTIFY_UNSET, NULL);
  smtpkit_envelope_add_recipient (envelope, "bob@example.org",
                                  SMTPKIT_DSN_NOTIFY_DELAY | SMTPKIT_DSN_NOTIFY_SUCCESS,
                                  "bob+x@example.org");
  smtpkit_envelope_add_recipient (envelope, "dave@example.org", SMTPKIT_DSN_NOTIFY_NEVER, NULL);
  smtpkit_envelope_add_recipient (envelope, "eve@example.org", SMTPKIT_DSN_NOTIFY_UNSET,
                                  "<Eve=Smith@example.org>");
  smtpkit_envelope_add_recipient (envelope, "frank@example.org",
                                  SMTPKIT_DSN_NOTIFY_FAILURE | SMTPKIT_DSN_NOTIFY_DELAY |
                                  SMTPKIT_DSN_NOTIFY_SUCCESS,
                                  NULL);
  smtpkit_envelope_add_recipient (envelope, "j\xc3\xb6rg@example.org", SMTPKIT_DSN_NOTIFY_FAILURE,
                                  "j\xc3\xb6rg+1@b\xc3\xbc" "cher.example");

  g_assert_cmpuint (smtpkit_envelope_get_n_recipients (envelope), ==, 6);
  g_assert_cmpstr (smtpkit_envelope_get_recipient_address (envelope, 1), ==, "bob@example.org");
  g_assert_cmpuint (smtpkit_envelope_get_recipient_notify (envelope, 1), ==,
                    SMTPKIT_DSN_NOTIFY_SUCCESS | SMTPKIT_DSN_NOTIFY_DELAY);
  g_assert_cmpstr (smtpkit_envelope_get_recipient_orcpt (envelope, 1), ==, "bob+x@example.org");
  g_assert_null (smtpkit_envelope_get_recipient_orcpt (envelope, 0));
  g_assert_cmpuint (smtpkit_envelope_get_recipient_notify (envelope, 0), ==,
                    SMTPKIT_DSN_NOTIFY_UNSET);

  plain = smtpkit_envelope_rcpt_parameters (envelope, 0);
  g_assert_cmpstrv (plain, NONE);
  both = smtpkit_envelope_rcpt_parameters (envelope, 1);
  g_assert_cmpstrv (both, ((const char *[]){ "NOTIFY=SUCCESS,DELAY",
                                             "ORCPT=rfc822;bob+2Bx@example.org", NULL }));
  never = smtpkit_envelope_rcpt_parameters (envelope, 2);
  g_assert_cmpstrv (never, ((const char *[]){ "NOTIFY=NEVER", NULL }));
  orcpt_only = smtpkit_envelope_rcpt_parameters (envelope, 3);
  g_assert_cmpstrv (orcpt_only, ((const char *[]){ "ORCPT=rfc822;Eve+3DSmith@example.org", NULL }));
  all = smtpkit_envelope_rcpt_parameters (envelope, 4);
  g_assert_cmpstrv (all, ((const char *[]){ "NOTIFY=SUCCESS,FAILURE,DELAY", NULL }));
  /* RFC 6533: a non-ASCII original recipient is utf-8-addr-xtext. */
  utf8 = smtpkit_envelope_rcpt_parameters (envelope, 5);
  g_assert_cmpstrv (utf8, ((const char *[]){ "NOTIFY=FAILURE",
                                             "ORCPT=utf-8;j\\x{F6}rg\\x{2B}1@b\\x{FC}cher.example",
                                             NULL }));
}

/* An ORCPT given with its address type is not typed twice. */
static void
test_envelope_orcpt_typed (void)
{
  static const struct
  {
    const char *orcpt;
    const char *parameter;
  } cases[] = {
    { "rfc822;bob@example.org", "ORCPT=rfc822;bob@example.org" },
    { "RFC822;<bob+x@example.org>", "ORCPT=rfc822;bob+2Bx@example.org" },
    { "rfc822;j\xc3\xb6rg@example.org", "ORCPT=utf-8;j\\x{F6}rg@example.org" },
    { "utf-8;bob@example.org", "ORCPT=utf-8;bob@example.org" },
    { "utf-8;j\xc3\xb6rg@example.org", "ORCPT=utf-8;j\\x{F6}rg@example.org" },
    { "x400;c=us;a= ;p=x", "ORCPT=x400;c+3Dus;a+3D+20;p+3Dx" },
    /* No atom before the ";": an address. */
    { "\"a;b\"@example.org", "ORCPT=rfc822;\"a;b\"@example.org" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
      g_auto (GStrv) parameters = NULL;

      smtpkit_envelope_add_recipient (envelope, "bob@example.org", SMTPKIT_DSN_NOTIFY_UNSET,
                                      cases[i].orcpt);
      parameters = smtpkit_envelope_rcpt_parameters (envelope, 0);
      g_assert_cmpstrv (parameters, ((const char *[]){ cases[i].parameter, NULL }));
    }
}

static void
test_envelope_never_combined (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");

  if (g_test_subprocess ())
    {
      smtpkit_envelope_add_recipient (envelope, "bob@example.org",
                                      SMTPKIT_DSN_NOTIFY_NEVER | SMTPKIT_DSN_NOTIFY_FAILURE,
                                      NULL);
      /* Nothing was added. */
      g_assert_cmpuint (smtpkit_envelope_get_n_recipients (envelope), ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*notify_is_valid (notify)*");

  /* Without fatal criticals, the call is refused and adds nothing. */
  g_test_expect_message ("Smtpkit", G_LOG_LEVEL_CRITICAL, "*notify_is_valid (notify)*");
  smtpkit_envelope_add_recipient (envelope, "bob@example.org",
                                  SMTPKIT_DSN_NOTIFY_NEVER | SMTPKIT_DSN_NOTIFY_SUCCESS, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (smtpkit_envelope_get_n_recipients (envelope), ==, 0);
}

static void
test_envelope_raw_options (void)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_auto (GStrv) mail = NULL;

  smtpkit_envelope_add_mail_option (envelope, "SIZE=1000");
  smtpkit_envelope_add_mail_option (envelope, "MT-PRIORITY=3");
  smtpkit_envelope_add_rcpt_option (envelope, "X-OPT");
  smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);

  g_assert_cmpstrv (smtpkit_envelope_get_mail_options (envelope),
                    ((const char *[]){ "SIZE=1000", "MT-PRIORITY=3", NULL }));
  g_assert_cmpstrv (smtpkit_envelope_get_rcpt_options (envelope),
                    ((const char *[]){ "X-OPT", NULL }));
  /* The DSN parameters do not include the raw options. */
  mail = smtpkit_envelope_mail_parameters (envelope);
  g_assert_cmpstrv (mail, ((const char *[]){ "RET=HDRS", NULL }));
}

static void
test_envelope_types (void)
{
  g_autoptr (GFlagsClass) flags = g_type_class_ref (SMTPKIT_TYPE_DSN_NOTIFY);
  g_autoptr (GEnumClass) enums = g_type_class_ref (SMTPKIT_TYPE_DSN_RET);

  g_assert_true (G_TYPE_IS_FLAGS (SMTPKIT_TYPE_DSN_NOTIFY));
  g_assert_cmpstr (g_flags_get_first_value (flags, SMTPKIT_DSN_NOTIFY_DELAY)->value_nick, ==,
                   "delay");
  g_assert_cmpstr (g_enum_get_value (enums, SMTPKIT_DSN_RET_HDRS)->value_nick, ==, "hdrs");
}

/* ---- SmtpkitSendResult ------------------------------------------------ */

static SmtpkitReply *
reply (guint       code,
       const char *text)
{
  const char *lines[] = { text, NULL };

  return smtpkit_reply_new (code, lines);
}

static void
test_result_smtp (void)
{
  /* SMTP: one final reply for every accepted recipient. */
  g_autoptr (SmtpkitSendResult) result = smtpkit_send_result_new ();
  g_autoptr (SmtpkitReply) ok = reply (250, "2.1.5 Ok");
  g_autoptr (SmtpkitReply) unknown = reply (550, "5.1.1 <nobody@example.org>: unknown user");
  g_autoptr (SmtpkitReply) greylisted = reply (450, "4.2.0 greylisted");
  g_autoptr (SmtpkitReply) final = reply (250, "2.0.0 Ok: queued as 4Fq1Lh0Xj5z9sRk");
  g_autoptr (GHashTable) refused = NULL;
  guint index;

  g_assert_cmpuint (smtpkit_send_result_add_recipient (result, "bob@example.org", ok), ==, 0);
  g_assert_cmpuint (smtpkit_send_result_add_recipient (result, "nobody@example.org", unknown), ==, 1);
  g_assert_cmpuint (smtpkit_send_result_add_recipient (result, "grey@example.org", greylisted), ==, 2);
  index = smtpkit_send_result_add_recipient (result, "carol@example.org", ok);
  g_assert_cmpuint (index, ==, 3);
  smtpkit_send_result_set_final_reply (result, 0, final);
  smtpkit_send_result_set_final_reply (result, 3, final);

  g_assert_cmpuint (smtpkit_send_result_get_n_recipients (result), ==, 4);
  g_assert_cmpstr (smtpkit_send_result_get_recipient (result, 1), ==, "nobody@example.org");
  g_assert_true (smtpkit_send_result_get_rcpt_reply (result, 1) == unknown);
  g_assert_null (smtpkit_send_result_get_final_reply (result, 1));
  g_assert_true (smtpkit_send_result_get_final_reply (result, 3) == final);

  g_assert_true (smtpkit_send_result_get_delivered (result, 0));
  g_assert_false (smtpkit_send_result_get_delivered (result, 1));
  g_assert_false (smtpkit_send_result_get_delivered (result, 2));
  g_assert_true (smtpkit_send_result_get_delivered (result, 3));

  g_assert_cmpstr (smtpkit_send_result_get_queue_id (result, 0), ==, "4Fq1Lh0Xj5z9sRk");
  g_assert_null (smtpkit_send_result_get_queue_id (result, 1));
  g_assert_cmpstr (smtpkit_send_result_get_queue_id (result, 3), ==, "4Fq1Lh0Xj5z9sRk");

  refused = smtpkit_send_result_get_refused (result);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_true (g_hash_table_lookup (refused, "nobody@example.org") == unknown);
  g_assert_true (g_hash_table_lookup (refused, "grey@example.org") == greylisted);
}

static void
test_result_lmtp (void)
{
  /* LMTP: each accepted recipient has its own final reply. */
  g_autoptr (SmtpkitSendResult) result = smtpkit_send_result_new ();
  g_autoptr (SmtpkitReply) ok = reply (250, "2.1.5 Ok");
  g_autoptr (SmtpkitReply) saved = reply (250, "2.0.0 <bob@example.org> 8BBSE1Ml0GUAAAAAyzFZrQ Saved");
  g_autoptr (SmtpkitReply) over_quota = reply (552, "5.2.2 <carol@example.org> Mailbox full");
  g_autoptr (SmtpkitReply) later = reply (451, "4.3.0 Temporary failure");
  g_autoptr (GHashTable) refused = NULL;

  smtpkit_send_result_add_recipient (result, "bob@example.org", ok);
  smtpkit_send_result_add_recipient (result, "carol@example.org", ok);
  smtpkit_send_result_add_recipient (result, "dave@example.org", ok);
  smtpkit_send_result_add_recipient (result, "eve@example.org", NULL);
  smtpkit_send_result_set_final_reply (result, 0, saved);
  smtpkit_send_result_set_final_reply (result, 1, over_quota);
  smtpkit_send_result_set_final_reply (result, 2, later);

  g_assert_true (smtpkit_send_result_get_delivered (result, 0));
  g_assert_false (smtpkit_send_result_get_delivered (result, 1));
  g_assert_false (smtpkit_send_result_get_delivered (result, 2));
  g_assert_false (smtpkit_send_result_get_delivered (result, 3));
  g_assert_null (smtpkit_send_result_get_rcpt_reply (result, 3));
  g_assert_cmpstr (smtpkit_send_result_get_queue_id (result, 0), ==, "8BBSE1Ml0GUAAAAAyzFZrQ");
  g_assert_null (smtpkit_send_result_get_queue_id (result, 1));

  /* Refused at the final reply, with that reply; no reply at all (eve)
   * is not a refusal. */
  refused = smtpkit_send_result_get_refused (result);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_true (g_hash_table_lookup (refused, "carol@example.org") == over_quota);
  g_assert_true (g_hash_table_lookup (refused, "dave@example.org") == later);
}

static void
test_result_replace_final (void)
{
  g_autoptr (SmtpkitSendResult) result = smtpkit_send_result_new ();
  g_autoptr (SmtpkitReply) ok = reply (250, "Ok");
  g_autoptr (SmtpkitReply) first = reply (250, "OK id=1rBnC4-00050h-2K");
  g_autoptr (SmtpkitReply) second = reply (554, "5.7.1 rejected");
  g_autoptr (GHashTable) refused = NULL;

  smtpkit_send_result_add_recipient (result, "bob@example.org", ok);
  smtpkit_send_result_set_final_reply (result, 0, first);
  g_assert_cmpstr (smtpkit_send_result_get_queue_id (result, 0), ==, "1rBnC4-00050h-2K");
  smtpkit_send_result_set_final_reply (result, 0, second);
  g_assert_true (smtpkit_send_result_get_final_reply (result, 0) == second);
  g_assert_null (smtpkit_send_result_get_queue_id (result, 0));
  refused = smtpkit_send_result_get_refused (result);
  g_assert_true (g_hash_table_lookup (refused, "bob@example.org") == second);
}

static void
test_result_queue_ids (void)
{
  static const struct
  {
    guint code;
    const char *lines[3];
    const char *id;
  } cases[] = {
    /* Postfix */
    { 250, { "2.0.0 Ok: queued as 4Fq1Lh0Xj5z9sRk", NULL }, "4Fq1Lh0Xj5z9sRk" },
    { 250, { "Ok: queued as 3C1A52A0B1E", NULL }, "3C1A52A0B1E" },
    /* SendGrid */
    { 250, { "Ok: queued as uHa4gTx3QQ2yZ8mJWhtzrA", NULL }, "uHa4gTx3QQ2yZ8mJWhtzrA" },
    /* Exim */
    { 250, { "OK id=1rBnC4-00050h-2K", NULL }, "1rBnC4-00050h-2K" },
    /* Sendmail */
    { 250, { "2.0.0 41QAbCdE012345 Message accepted for delivery", NULL }, "41QAbCdE012345" },
    /* OpenSMTPD */
    { 250, { "2.0.0: 8b6f1e2a Message accepted for delivery", NULL }, "8b6f1e2a" },
    /* Microsoft Exchange */
    { 250, { "2.6.0 <b2c4e@EXCH01.corp.example> [InternalId=123456789, "
             "Hostname=EXCH01.corp.example] Queued mail for delivery", NULL },
      "b2c4e@EXCH01.corp.example" },
    /* Gmail */
    { 250, { "2.0.0 OK  1700000000 d2-20020a05600c3c8200b0040c1a5e2sor123.45 - gsmtp", NULL },
      "d2-20020a05600c3c8200b0040c1a5e2sor123.45" },
    /* qmail */
    { 250, { "ok 1700000000 qp 12345", NULL }, "12345" },
    /* Haraka */
    { 250, { "Message Queued (5F1B7A3C-0D2E-4B6A-9F1C-2A3B4C5D6E7F.1)", NULL },
      "5F1B7A3C-0D2E-4B6A-9F1C-2A3B4C5D6E7F.1" },
    /* Dovecot LMTP */
    { 250, { "2.0.0 <bob@example.org> 8BBSE1Ml0GUAAAAAyzFZrQ Saved", NULL },
      "8BBSE1Ml0GUAAAAAyzFZrQ" },
    /* Multi-line: the id may be on any line. */
    { 250, { "2.0.0 Thanks", "queued as ABC123.", NULL }, "ABC123" },
    /* Nothing recognisable. */
    { 250, { "2.0.0 Ok", NULL }, NULL },
    { 250, { "OK", NULL }, NULL },
    { 250, { "2.0.0 Message accepted for delivery", NULL }, NULL },
    { 250, { "2.0.0 <bob@example.org> Saved", NULL }, NULL },
    { 250, { "msgid=abc whatever", NULL }, NULL },
    { 250, { "queued as", NULL }, NULL },
    /* Not a 250. */
    { 251, { "Ok: queued as 4Fq1Lh0Xj5z9sRk", NULL }, NULL },
    { 550, { "5.7.1 rejected, would have been queued as X", NULL }, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SmtpkitSendResult) result = smtpkit_send_result_new ();
      g_autoptr (SmtpkitReply) rcpt = reply (250, "Ok");
      g_autoptr (SmtpkitReply) final = smtpkit_reply_new (cases[i].code, cases[i].lines);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].lines[0]);
      smtpkit_send_result_add_recipient (result, "bob@example.org", rcpt);
      smtpkit_send_result_set_final_reply (result, 0, final);
      g_assert_cmpstr (smtpkit_send_result_get_queue_id (result, 0), ==, cases[i].id);
    }
}

static void
test_result_empty (void)
{
  g_autoptr (SmtpkitSendResult) result = smtpkit_send_result_new ();
  g_autoptr (GHashTable) refused = smtpkit_send_result_get_refused (result);

  g_assert_cmpuint (smtpkit_send_result_get_n_recipients (result), ==, 0);
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
}

static void
test_result_finalized (void)
{
  SmtpkitSendResult *result = smtpkit_send_result_new ();
  SmtpkitEnvelope *envelope = smtpkit_envelope_new ("alice@example.org");
  g_autoptr (SmtpkitReply) ok = reply (250, "Ok");

  g_object_add_weak_pointer (G_OBJECT (result), (gpointer *) &result);
  g_object_add_weak_pointer (G_OBJECT (envelope), (gpointer *) &envelope);
  smtpkit_send_result_add_recipient (result, "bob@example.org", ok);
  smtpkit_send_result_set_final_reply (result, 0, ok);
  smtpkit_envelope_add_recipient (envelope, "bob@example.org", SMTPKIT_DSN_NOTIFY_UNSET, NULL);
  g_object_unref (result);
  g_object_unref (envelope);
  g_assert_null (result);
  g_assert_null (envelope);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envelope/new", test_envelope_new);
  g_test_add_func ("/envelope/mail-parameters", test_envelope_mail_parameters);
  g_test_add_func ("/envelope/envid-invalid", test_envelope_envid_invalid);
  g_test_add_func ("/envelope/recipients", test_envelope_recipients);
  g_test_add_func ("/envelope/orcpt-typed", test_envelope_orcpt_typed);
  g_test_add_func ("/envelope/never-combined", test_envelope_never_combined);
  g_test_add_func ("/envelope/raw-options", test_envelope_raw_options);
  g_test_add_func ("/envelope/types", test_envelope_types);
  g_test_add_func ("/send-result/smtp", test_result_smtp);
  g_test_add_func ("/send-result/lmtp", test_result_lmtp);
  g_test_add_func ("/send-result/replace-final", test_result_replace_final);
  g_test_add_func ("/send-result/queue-ids", test_result_queue_ids);
  g_test_add_func ("/send-result/empty", test_result_empty);
  g_test_add_func ("/send-result/finalized", test_result_finalized);

  return g_test_run ();
}
