/* smtpkit-send-result.c: what became of each recipient of a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-codec-private.h"

#include <string.h>

#include "smtpkit-send-result-private.h"

#include "smtpkit-error-private.h"

/**
 * SmtpkitSendResult:
 *
 * What became of every recipient of one message: the reply to its
 * `RCPT TO` and the final reply to the message data that applies to it,
 * accepted recipients included, in the order the recipients were given.
 *
 * With SMTP, the single reply to the end of the data applies to every
 * recipient the server accepted; with LMTP, each accepted recipient gets
 * a reply of its own. A recipient refused at `RCPT TO` has no final reply.
 *
 * ```c
 * for (guint i = 0; i < smtpkit_send_result_get_n_recipients (result); i++)
 *   {
 *     SmtpkitReply *rcpt = smtpkit_send_result_get_rcpt_reply (result, i);
 *     SmtpkitReply *final = smtpkit_send_result_get_final_reply (result, i);
 *
 *     g_print ("%s: %s (queue id %s)\n",
 *              smtpkit_send_result_get_recipient (result, i),
 *              smtpkit_send_result_get_delivered (result, i) ? "delivered" : "not delivered",
 *              smtpkit_send_result_get_queue_id (result, i) ?: "unknown");
 *   }
 * ```
 *
 * [method@SendResult.get_refused] gives the map that Python's
 * `smtplib.SMTP.sendmail()` returns.
 */

typedef struct
{
  char *address;
  SmtpkitReply *rcpt_reply;  /* nullable */
  SmtpkitReply *final_reply; /* nullable */
  char *queue_id;            /* nullable, read from final_reply when asked */
  gboolean queue_id_read;
} Recipient;

struct _SmtpkitSendResult
{
  GObject parent_instance;

  GPtrArray *recipients; /* of Recipient */
};

G_DEFINE_FINAL_TYPE (SmtpkitSendResult, smtpkit_send_result, G_TYPE_OBJECT)

static void
recipient_free (gpointer data)
{
  Recipient *recipient = data;

  g_free (recipient->address);
  g_clear_pointer (&recipient->rcpt_reply, smtpkit_reply_unref);
  g_clear_pointer (&recipient->final_reply, smtpkit_reply_unref);
  g_free (recipient->queue_id);
  g_free (recipient);
}

static void
smtpkit_send_result_finalize (GObject *object)
{
  SmtpkitSendResult *result = SMTPKIT_SEND_RESULT (object);

  g_ptr_array_unref (result->recipients);

  G_OBJECT_CLASS (smtpkit_send_result_parent_class)->finalize (object);
}

static void
smtpkit_send_result_class_init (SmtpkitSendResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = smtpkit_send_result_finalize;
}

static void
smtpkit_send_result_init (SmtpkitSendResult *result)
{
  result->recipients = g_ptr_array_new_with_free_func (recipient_free);
}

/* ---- private: building ------------------------------------------------ */

SmtpkitSendResult *
smtpkit_send_result_new (void)
{
  return g_object_new (SMTPKIT_TYPE_SEND_RESULT, NULL);
}

guint
smtpkit_send_result_add_recipient (SmtpkitSendResult *result,
                                   const char        *address,
                                   SmtpkitReply      *rcpt_reply)
{
  Recipient *recipient;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), 0);
  g_return_val_if_fail (address != NULL, 0);

  recipient = g_new0 (Recipient, 1);
  recipient->address = g_strdup (address);
  recipient->rcpt_reply = rcpt_reply ? smtpkit_reply_ref (rcpt_reply) : NULL;
  g_ptr_array_add (result->recipients, recipient);

  return result->recipients->len - 1;
}

void
smtpkit_send_result_set_final_reply (SmtpkitSendResult *result,
                                     guint              index,
                                     SmtpkitReply      *reply)
{
  Recipient *recipient;

  g_return_if_fail (SMTPKIT_IS_SEND_RESULT (result));
  g_return_if_fail (index < result->recipients->len);
  g_return_if_fail (reply != NULL);

  recipient = g_ptr_array_index (result->recipients, index);
  smtpkit_reply_ref (reply);
  g_clear_pointer (&recipient->final_reply, smtpkit_reply_unref);
  recipient->final_reply = reply;
  g_clear_pointer (&recipient->queue_id, g_free);
  recipient->queue_id_read = FALSE;
}

/* ---- private: queue identifiers --------------------------------------- */

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
holds (const char *start,
       const char *end,
       char        c)
{
  return memchr (start, c, end - start) != NULL;
}

/* A token with the punctuation that servers put around it taken off:
 * "<id>", "(id)", "[id]", a closing ')', ']' or '>' without its opener
 * ("Message Queued (id)"), and a trailing '.', ',', ';' or ':'. */
static char *
clean_token (const char *start,
             const char *end)
{
  for (;;)
    {
      if (end > start && strchr (".,;:", end[-1]) != NULL)
        end--;
      else if (end > start && end[-1] == ')' && !holds (start, end, '('))
        end--;
      else if (end > start && end[-1] == ']' && !holds (start, end, '['))
        end--;
      else if (end > start && end[-1] == '>' && !holds (start, end, '<'))
        end--;
      else
        break;
    }
  if (end - start >= 2 &&
      ((start[0] == '<' && end[-1] == '>') ||
       (start[0] == '(' && end[-1] == ')') ||
       (start[0] == '[' && end[-1] == ']')))
    {
      start++;
      end--;
    }

  return end > start ? g_strndup (start, end - start) : NULL;
}

static char *
token_after (const char *p)
{
  const char *end;

  while (*p != '\0' && is_blank (*p))
    p++;
  end = p;
  while (*end != '\0' && !is_blank (*end))
    end++;

  return clean_token (p, end);
}

static char *
token_before (const char *text,
              const char *p)
{
  const char *start;

  while (p > text && is_blank (p[-1]))
    p--;
  start = p;
  while (start > text && !is_blank (start[-1]))
    start--;

  return clean_token (start, p);
}

/* "2.0.0" and the like: an enhanced status code, not an identifier. */
static gboolean
looks_like_status (const char *token)
{
  guint dots = 0;

  for (const char *p = token; *p != '\0'; p++)
    {
      if (*p == '.')
        dots++;
      else if (!g_ascii_isdigit (*p))
        return FALSE;
    }

  return dots == 2;
}

static gboolean
is_plausible_id (const char *token)
{
  return token != NULL && !looks_like_status (token) &&
         g_ascii_strcasecmp (token, "ok") != 0 && strchr (token, '@') == NULL;
}

static char *
plausible (char *id)
{
  if (id != NULL && is_plausible_id (id))
    return id;
  g_free (id);
  return NULL;
}

static char *
queue_id_after (const char *text,
                const char *marker)
{
  const char *p = smtpkit_codec_find_ascii_case (text, marker);

  return p ? plausible (token_after (p + strlen (marker))) : NULL;
}

static char *
queue_id_before (const char *text,
                 const char *marker)
{
  const char *p = smtpkit_codec_find_ascii_case (text, marker);

  return p ? plausible (token_before (text, p)) : NULL;
}

/* Postfix, SendGrid and many others: "... queued as X". */
static char *
queue_id_queued_as (const char *text)
{
  return queue_id_after (text, "queued as ");
}

/* Haraka: "Message Queued (X)". */
static char *
queue_id_haraka (const char *text)
{
  return queue_id_after (text, "message queued (");
}

/* qmail: "ok 1700000000 qp X". */
static char *
queue_id_qmail (const char *text)
{
  return queue_id_after (text, " qp ");
}

/* Sendmail, OpenSMTPD: "X Message accepted for delivery". */
static char *
queue_id_sendmail (const char *text)
{
  return queue_id_before (text, " message accepted for delivery");
}

/* Gmail: "OK  1700000000 X - gsmtp". */
static char *
queue_id_gmail (const char *text)
{
  return queue_id_before (text, " - gsmtp");
}

/* Exim: "id=X", as a word of its own (not "msgid=X" or "InternalId=X"). */
static char *
queue_id_exim (const char *text)
{
  for (const char *p = text; (p = smtpkit_codec_find_ascii_case (p, "id=")) != NULL; p++)
    {
      if (p == text || is_blank (p[-1]))
        return plausible (token_after (p + 3));
    }

  return NULL;
}

/* Exchange: "<message-id> [InternalId=...] ... Queued mail for delivery";
 * the message ID is what it logs, '@' and all. */
static char *
queue_id_exchange (const char *text)
{
  const char *open;
  const char *close;

  if (smtpkit_codec_find_ascii_case (text, "queued mail for delivery") == NULL)
    return NULL;
  open = strchr (text, '<');
  if (open == NULL)
    return NULL;
  close = strchr (open, '>');
  if (close == NULL)
    return NULL;

  return clean_token (open, close + 1);
}

/* Dovecot LMTP: "<rcpt> X Saved" at the end of the text. */
static char *
queue_id_dovecot (const char *text)
{
  const char *end = text + strlen (text);

  while (end > text && is_blank (end[-1]))
    end--;
  if (end - text < 6 || g_ascii_strncasecmp (end - 6, " Saved", 6) != 0)
    return NULL;

  return plausible (token_before (text, end - 6));
}

char *
smtpkit_send_result_parse_queue_id (const SmtpkitReply *reply)
{
  static char *(*const extractors[]) (const char *) = {
    queue_id_queued_as,
    queue_id_haraka,
    queue_id_qmail,
    queue_id_sendmail,
    queue_id_gmail,
    queue_id_exim,
    queue_id_exchange,
    queue_id_dovecot,
  };
  const char *text;

  g_return_val_if_fail (reply != NULL, NULL);

  if (smtpkit_reply_get_code (reply) != 250)
    return NULL;
  text = smtpkit_reply_get_text (reply);

  for (gsize i = 0; i < G_N_ELEMENTS (extractors); i++)
    {
      char *id = extractors[i] (text);

      if (id != NULL)
        return id;
    }

  return NULL;
}

/* ---- public getters --------------------------------------------------- */

static Recipient *
get_recipient (SmtpkitSendResult *result,
               guint              index)
{
  return g_ptr_array_index (result->recipients, index);
}

/**
 * smtpkit_send_result_get_n_recipients:
 * @result: a send result
 *
 * How many recipients the message was addressed to, accepted or not.
 *
 * Returns: the number of recipients
 */
guint
smtpkit_send_result_get_n_recipients (SmtpkitSendResult *result)
{
  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), 0);

  return result->recipients->len;
}

/**
 * smtpkit_send_result_get_recipient:
 * @result: a send result
 * @index: a recipient index, below [method@SendResult.get_n_recipients]
 *
 * The address of recipient @index, as given with `RCPT TO`.
 *
 * Returns: (transfer none): the address
 */
const char *
smtpkit_send_result_get_recipient (SmtpkitSendResult *result,
                                   guint              index)
{
  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);
  g_return_val_if_fail (index < result->recipients->len, NULL);

  return get_recipient (result, index)->address;
}

/**
 * smtpkit_send_result_get_rcpt_reply:
 * @result: a send result
 * @index: a recipient index, below [method@SendResult.get_n_recipients]
 *
 * The server's reply to the `RCPT TO` of recipient @index.
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL when none was
 *   read (the connection was lost first)
 */
SmtpkitReply *
smtpkit_send_result_get_rcpt_reply (SmtpkitSendResult *result,
                                    guint              index)
{
  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);
  g_return_val_if_fail (index < result->recipients->len, NULL);

  return get_recipient (result, index)->rcpt_reply;
}

/**
 * smtpkit_send_result_get_final_reply:
 * @result: a send result
 * @index: a recipient index, below [method@SendResult.get_n_recipients]
 *
 * The reply to the message data that applies to recipient @index: with
 * LMTP the recipient's own reply, with SMTP the one reply to the end of
 * the data.
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL when the
 *   recipient was refused at `RCPT TO` or no final reply was read
 */
SmtpkitReply *
smtpkit_send_result_get_final_reply (SmtpkitSendResult *result,
                                     guint              index)
{
  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);
  g_return_val_if_fail (index < result->recipients->len, NULL);

  return get_recipient (result, index)->final_reply;
}

static gboolean
is_2xx (SmtpkitReply *reply)
{
  return reply != NULL && smtpkit_reply_get_code (reply) / 100 == 2;
}

/**
 * smtpkit_send_result_get_delivered:
 * @result: a send result
 * @index: a recipient index, below [method@SendResult.get_n_recipients]
 *
 * Whether the server took responsibility for the message for recipient
 * @index, that is whether its `RCPT TO` and its final reply were both 2xx.
 *
 * Returns: %TRUE when the message was accepted for this recipient
 */
gboolean
smtpkit_send_result_get_delivered (SmtpkitSendResult *result,
                                   guint              index)
{
  Recipient *recipient;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), FALSE);
  g_return_val_if_fail (index < result->recipients->len, FALSE);

  recipient = get_recipient (result, index);

  return is_2xx (recipient->rcpt_reply) && is_2xx (recipient->final_reply);
}

/**
 * smtpkit_send_result_get_refused: (skip)
 * @result: a send result
 *
 * The recipients the server refused, each with the reply that refused it:
 * its `RCPT TO` reply when that was not 2xx, otherwise its final reply
 * when that was not 2xx. This is the map Python's `smtplib.SMTP.sendmail()`
 * returns (extended to LMTP's per-recipient final replies). Recipients
 * without a reply, whose fate is unknown, are not in it.
 *
 * When an address was given twice, the later recipient's entry wins.
 *
 * Language bindings cannot take this map (PyGObject reads its boxed
 * values after freeing it): they have
 * [method@SendResult.get_refused_addresses] and
 * [method@SendResult.get_refused_reply] instead.
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): a new map
 *   from address to reply, empty when no recipient was refused
 */
GHashTable *
smtpkit_send_result_get_refused (SmtpkitSendResult *result)
{
  GHashTable *refused;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);

  refused = smtpkit_recipient_map_new ();
  for (guint i = 0; i < result->recipients->len; i++)
    {
      Recipient *recipient = get_recipient (result, i);
      SmtpkitReply *reply = NULL;

      if (recipient->rcpt_reply != NULL && !is_2xx (recipient->rcpt_reply))
        reply = recipient->rcpt_reply;
      else if (recipient->rcpt_reply != NULL && recipient->final_reply != NULL &&
               !is_2xx (recipient->final_reply))
        reply = recipient->final_reply;

      if (reply != NULL)
        g_hash_table_replace (refused, g_strdup (recipient->address),
                              smtpkit_reply_ref (reply));
    }

  return refused;
}

/**
 * smtpkit_send_result_get_queue_id:
 * @result: a send result
 * @index: a recipient index, below [method@SendResult.get_n_recipients]
 *
 * The identifier under which the server queued the message for recipient
 * @index, read from the text of its final reply when that is a 250 in
 * one of these well-known forms (case does not matter):
 *
 * - `queued as X` (Postfix: `250 2.0.0 Ok: queued as 4Fq1Lh0Xj5z9sRk`,
 *   and many others)
 * - `Message Queued (X)` (Haraka)
 * - `qp X` (qmail: `250 ok 1700000000 qp 12345`)
 * - `X Message accepted for delivery` (Sendmail, OpenSMTPD)
 * - `X - gsmtp` (Gmail: `250 2.0.0 OK  1700000000 x1-2si3.4 - gsmtp`)
 * - `id=X` (Exim: `250 OK id=1rBnC4-00050h-2K`)
 * - `<X> ... Queued mail for delivery` (Microsoft Exchange: X is the
 *   message ID it logs)
 * - `<rcpt> X Saved` (Dovecot LMTP)
 *
 * Angle brackets, parentheses and brackets around X and trailing
 * punctuation are removed. Use it to find the message in the server's logs.
 *
 * Returns: (transfer none) (nullable): the queue identifier, or %NULL when
 *   there is no final 250 reply or its text is not in a known form
 */
const char *
smtpkit_send_result_get_queue_id (SmtpkitSendResult *result,
                                  guint              index)
{
  Recipient *recipient;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);
  g_return_val_if_fail (index < result->recipients->len, NULL);

  recipient = get_recipient (result, index);
  /* Parsed when first asked for, and safe to ask from several threads at
   * once (a finished result is only read): the first parse stored wins,
   * another one made meanwhile is dropped. */
  if (!g_atomic_int_get (&recipient->queue_id_read) && recipient->final_reply != NULL)
    {
      char *parsed = smtpkit_send_result_parse_queue_id (recipient->final_reply);

      if (!g_atomic_pointer_compare_and_exchange (&recipient->queue_id, NULL, parsed))
        g_free (parsed);
    }
  g_atomic_int_set (&recipient->queue_id_read, TRUE);
  return g_atomic_pointer_get (&recipient->queue_id);
}

/**
 * smtpkit_send_result_get_refused_addresses:
 * @result: a send result
 *
 * The addresses of the recipients the server refused: the keys of the
 * map of [method@SendResult.get_refused], sorted. With
 * [method@SendResult.get_refused_reply], this is that map for language
 * bindings.
 *
 * Returns: (transfer full) (array zero-terminated=1): the refused
 *   addresses, empty when no recipient was refused
 */
char **
smtpkit_send_result_get_refused_addresses (SmtpkitSendResult *result)
{
  g_autoptr (GHashTable) refused = NULL;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);

  refused = smtpkit_send_result_get_refused (result);
  return smtpkit_recipient_map_get_addresses (refused);
}

/**
 * smtpkit_send_result_get_refused_reply:
 * @result: a send result
 * @address: a recipient address
 *
 * The reply that refused @address: its value in the map of
 * [method@SendResult.get_refused].
 *
 * Returns: (transfer full) (nullable): the reply, or %NULL when @address
 *   was not refused
 */
SmtpkitReply *
smtpkit_send_result_get_refused_reply (SmtpkitSendResult *result,
                                       const char        *address)
{
  g_autoptr (GHashTable) refused = NULL;
  SmtpkitReply *reply;

  g_return_val_if_fail (SMTPKIT_IS_SEND_RESULT (result), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  refused = smtpkit_send_result_get_refused (result);
  reply = g_hash_table_lookup (refused, address);
  return reply ? smtpkit_reply_ref (reply) : NULL;
}
