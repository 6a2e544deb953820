/* smtpkit-envelope.c: the SMTP envelope of a message, with its DSN options
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-envelope-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-enums.h"
#include "smtpkit-error-private.h"

/**
 * SmtpkitEnvelope:
 *
 * The envelope of a message: the reverse path given with `MAIL FROM`, the
 * recipients given with `RCPT TO`, and the delivery status notification
 * options of RFC 3461 that go with them.
 *
 * ```c
 * g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
 *
 * smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);
 * if (!smtpkit_envelope_set_dsn_envid (envelope, "QQ314159", &error))
 *   return FALSE;
 * smtpkit_envelope_add_recipient (envelope, "bob@example.org",
 *                                 SMTPKIT_DSN_NOTIFY_SUCCESS |
 *                                 SMTPKIT_DSN_NOTIFY_FAILURE,
 *                                 "bob@example.org");
 * ```
 *
 * The DSN options are typed: the client formats them (`RET=HDRS`,
 * `ENVID=QQ314159`, `NOTIFY=SUCCESS,FAILURE`, `ORCPT=rfc822;bob@example.org`,
 * xtext-encoded as RFC 3461 requires) and sends them only to a server that
 * offers `DSN`. Options of other extensions can be added raw with
 * [method@Envelope.add_mail_option] and [method@Envelope.add_rcpt_option].
 */

typedef struct
{
  char *address;
  SmtpkitDsnNotify notify;
  char *orcpt;
} Recipient;

struct _SmtpkitEnvelope
{
  GObject parent_instance;

  char *sender;
  SmtpkitDsnRet ret;
  char *envid;
  GPtrArray *recipients;   /* of Recipient */
  GPtrArray *mail_options; /* of char *, NULL-terminated */
  GPtrArray *rcpt_options; /* of char *, NULL-terminated */
};

G_DEFINE_FINAL_TYPE (SmtpkitEnvelope, smtpkit_envelope, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_SENDER,
  PROP_DSN_RET,
  PROP_DSN_ENVID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define NOTIFY_ALL (SMTPKIT_DSN_NOTIFY_NEVER | SMTPKIT_DSN_NOTIFY_SUCCESS | \
                    SMTPKIT_DSN_NOTIFY_FAILURE | SMTPKIT_DSN_NOTIFY_DELAY)

static void
recipient_free (gpointer data)
{
  Recipient *recipient = data;

  g_free (recipient->address);
  g_free (recipient->orcpt);
  g_free (recipient);
}

static void
smtpkit_envelope_finalize (GObject *object)
{
  SmtpkitEnvelope *envelope = SMTPKIT_ENVELOPE (object);

  g_free (envelope->sender);
  g_free (envelope->envid);
  g_ptr_array_unref (envelope->recipients);
  g_ptr_array_unref (envelope->mail_options);
  g_ptr_array_unref (envelope->rcpt_options);

  G_OBJECT_CLASS (smtpkit_envelope_parent_class)->finalize (object);
}

static void
smtpkit_envelope_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SmtpkitEnvelope *envelope = SMTPKIT_ENVELOPE (object);

  switch (prop_id)
    {
    case PROP_SENDER:
      g_value_set_string (value, envelope->sender);
      break;
    case PROP_DSN_RET:
      g_value_set_enum (value, envelope->ret);
      break;
    case PROP_DSN_ENVID:
      g_value_set_string (value, envelope->envid);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_envelope_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SmtpkitEnvelope *envelope = SMTPKIT_ENVELOPE (object);

  switch (prop_id)
    {
    case PROP_SENDER:
      g_free (envelope->sender);
      envelope->sender = g_value_dup_string (value);
      if (envelope->sender == NULL)
        envelope->sender = g_strdup ("");
      break;
    case PROP_DSN_RET:
      smtpkit_envelope_set_dsn_ret (envelope, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_envelope_class_init (SmtpkitEnvelopeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = smtpkit_envelope_finalize;
  object_class->get_property = smtpkit_envelope_get_property;
  object_class->set_property = smtpkit_envelope_set_property;

  /**
   * SmtpkitEnvelope:sender:
   *
   * The reverse path given with `MAIL FROM`; the empty string for the
   * null reverse path `<>`.
   */
  properties[PROP_SENDER] =
    g_param_spec_string ("sender", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitEnvelope:dsn-ret:
   *
   * The `RET` parameter of `MAIL FROM` (RFC 3461 §4.3).
   */
  properties[PROP_DSN_RET] =
    g_param_spec_enum ("dsn-ret", NULL, NULL,
                       SMTPKIT_TYPE_DSN_RET, SMTPKIT_DSN_RET_UNSET,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitEnvelope:dsn-envid:
   *
   * The `ENVID` parameter of `MAIL FROM` (RFC 3461 §4.4), unencoded; set
   * it with [method@Envelope.set_dsn_envid], which validates it.
   */
  properties[PROP_DSN_ENVID] =
    g_param_spec_string ("dsn-envid", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smtpkit_envelope_init (SmtpkitEnvelope *envelope)
{
  envelope->sender = g_strdup ("");
  envelope->recipients = g_ptr_array_new_with_free_func (recipient_free);
  envelope->mail_options = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  envelope->rcpt_options = g_ptr_array_new_null_terminated (0, g_free, TRUE);
}

/**
 * smtpkit_envelope_new:
 * @sender: the reverse path, such as `"alice@example.org"`; the empty
 *   string for the null reverse path `<>` (bounces)
 *
 * Creates an envelope with @sender and no recipients yet.
 *
 * Returns: (transfer full): a new envelope
 */
SmtpkitEnvelope *
smtpkit_envelope_new (const char *sender)
{
  g_return_val_if_fail (sender != NULL, NULL);

  return g_object_new (SMTPKIT_TYPE_ENVELOPE, "sender", sender, NULL);
}

/**
 * smtpkit_envelope_get_sender:
 * @envelope: an envelope
 *
 * The reverse path given with `MAIL FROM`.
 *
 * Returns: (transfer none): the sender; the empty string for `<>`
 */
const char *
smtpkit_envelope_get_sender (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);

  return envelope->sender;
}

/**
 * smtpkit_envelope_set_dsn_ret:
 * @envelope: an envelope
 * @ret: what a notification returns of the message
 *
 * Sets the `RET` parameter of `MAIL FROM` (RFC 3461 §4.3);
 * %SMTPKIT_DSN_RET_UNSET sends none.
 */
void
smtpkit_envelope_set_dsn_ret (SmtpkitEnvelope *envelope,
                              SmtpkitDsnRet    ret)
{
  g_return_if_fail (SMTPKIT_IS_ENVELOPE (envelope));
  g_return_if_fail (ret == SMTPKIT_DSN_RET_UNSET || ret == SMTPKIT_DSN_RET_FULL ||
                    ret == SMTPKIT_DSN_RET_HDRS);

  if (envelope->ret == ret)
    return;
  envelope->ret = ret;
  g_object_notify_by_pspec (G_OBJECT (envelope), properties[PROP_DSN_RET]);
}

/**
 * smtpkit_envelope_get_dsn_ret:
 * @envelope: an envelope
 *
 * The `RET` parameter of `MAIL FROM`.
 *
 * Returns: the `RET` parameter, %SMTPKIT_DSN_RET_UNSET when there is none
 */
SmtpkitDsnRet
smtpkit_envelope_get_dsn_ret (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), SMTPKIT_DSN_RET_UNSET);

  return envelope->ret;
}

static gboolean
check_envid (const char  *envid,
             GError     **error)
{
  gsize length = strlen (envid);

  if (length == 0 || length > SMTPKIT_DSN_ENVID_MAX)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "DSN envelope identifier is %" G_GSIZE_FORMAT
                                                  " characters long; it must be 1 to %d "
                                                  "(RFC 3461 §4.4)",
                                                  length, SMTPKIT_DSN_ENVID_MAX));
      return FALSE;
    }

  for (gsize i = 0; i < length; i++)
    {
      guchar c = (guchar) envid[i];

      if (c < 32 || c > 126)
        {
          g_propagate_error (error,
                             smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                      "DSN envelope identifier holds byte 0x%02X "
                                                      "at offset %" G_GSIZE_FORMAT "; only printable "
                                                      "US-ASCII is allowed (RFC 3461 §4.4)",
                                                      c, i));
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * smtpkit_envelope_set_dsn_envid:
 * @envelope: an envelope
 * @envid: (nullable): the envelope identifier, unencoded; %NULL for none
 * @error: return location for a #GError
 *
 * Sets the `ENVID` parameter of `MAIL FROM` (RFC 3461 §4.4): an identifier
 * of this transmission that comes back in the notifications. It must be 1
 * to %SMTPKIT_DSN_ENVID_MAX characters of printable US-ASCII (space
 * included); the client xtext-encodes it.
 *
 * Returns: %TRUE when @envid was set; %FALSE with
 *   %SMTPKIT_ERROR_INVALID_ARGUMENT when it is not valid, in which case the
 *   envelope is unchanged
 */
gboolean
smtpkit_envelope_set_dsn_envid (SmtpkitEnvelope  *envelope,
                                const char       *envid,
                                GError          **error)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (envid != NULL && !check_envid (envid, error))
    return FALSE;

  if (g_strcmp0 (envelope->envid, envid) == 0)
    return TRUE;
  g_free (envelope->envid);
  envelope->envid = g_strdup (envid);
  g_object_notify_by_pspec (G_OBJECT (envelope), properties[PROP_DSN_ENVID]);

  return TRUE;
}

/**
 * smtpkit_envelope_get_dsn_envid:
 * @envelope: an envelope
 *
 * The `ENVID` parameter of `MAIL FROM`, unencoded.
 *
 * Returns: (transfer none) (nullable): the envelope identifier, or %NULL
 */
const char *
smtpkit_envelope_get_dsn_envid (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);

  return envelope->envid;
}

static gboolean
notify_is_valid (SmtpkitDsnNotify notify)
{
  if ((notify & ~NOTIFY_ALL) != 0)
    return FALSE;
  /* RFC 3461 §4.1: NEVER stands alone. */
  if ((notify & SMTPKIT_DSN_NOTIFY_NEVER) && notify != SMTPKIT_DSN_NOTIFY_NEVER)
    return FALSE;
  return TRUE;
}

/**
 * smtpkit_envelope_add_recipient:
 * @envelope: an envelope
 * @address: the recipient's address, given with `RCPT TO`
 * @notify: when to send a notification for this recipient;
 *   %SMTPKIT_DSN_NOTIFY_NEVER cannot be combined with the other flags
 * @orcpt: (nullable): the original recipient address (RFC 3461 §4.2), an
 *   addr-spec such as `"bob@example.org"`, or typed, such as
 *   `"rfc822;bob@example.org"`; %NULL for none
 *
 * Adds a recipient with its DSN options. Recipients are sent in the order
 * they are added; the same address may be added more than once, as
 * smtplib allows.
 *
 * @orcpt is given as it is, not encoded: the envelope encodes it as
 * `ORCPT` requires. A bare address goes as `rfc822` (xtext), or as
 * `utf-8` (RFC 6533) when it is not ASCII. An address type may lead it,
 * followed by `;`, as `ORCPT` itself writes it: `rfc822;` and `utf-8;`
 * are then taken as above (a non-ASCII address given as `rfc822` goes as
 * `utf-8`, which is what RFC 6533 requires), and any other type is kept
 * with its value as xtext.
 *
 * An invalid @notify is a programming error: it is reported with a
 * critical warning and nothing is added.
 */
void
smtpkit_envelope_add_recipient (SmtpkitEnvelope  *envelope,
                                const char       *address,
                                SmtpkitDsnNotify  notify,
                                const char       *orcpt)
{
  Recipient *recipient;

  g_return_if_fail (SMTPKIT_IS_ENVELOPE (envelope));
  g_return_if_fail (address != NULL);
  g_return_if_fail (notify_is_valid (notify));
  g_return_if_fail (orcpt == NULL || (*orcpt != '\0' && g_utf8_validate (orcpt, -1, NULL)));

  recipient = g_new0 (Recipient, 1);
  recipient->address = g_strdup (address);
  recipient->notify = notify;
  recipient->orcpt = g_strdup (orcpt);
  g_ptr_array_add (envelope->recipients, recipient);
}

/**
 * smtpkit_envelope_get_n_recipients:
 * @envelope: an envelope
 *
 * How many recipients the envelope has.
 *
 * Returns: the number of recipients
 */
guint
smtpkit_envelope_get_n_recipients (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), 0);

  return envelope->recipients->len;
}

static Recipient *
get_recipient (SmtpkitEnvelope *envelope,
               guint            index)
{
  return g_ptr_array_index (envelope->recipients, index);
}

/**
 * smtpkit_envelope_get_recipient_address:
 * @envelope: an envelope
 * @index: a recipient index, below [method@Envelope.get_n_recipients]
 *
 * The address of recipient @index.
 *
 * Returns: (transfer none): the address
 */
const char *
smtpkit_envelope_get_recipient_address (SmtpkitEnvelope *envelope,
                                        guint            index)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);
  g_return_val_if_fail (index < envelope->recipients->len, NULL);

  return get_recipient (envelope, index)->address;
}

/**
 * smtpkit_envelope_get_recipient_notify:
 * @envelope: an envelope
 * @index: a recipient index, below [method@Envelope.get_n_recipients]
 *
 * The `NOTIFY` parameter of recipient @index.
 *
 * Returns: the notify flags, %SMTPKIT_DSN_NOTIFY_UNSET for none
 */
SmtpkitDsnNotify
smtpkit_envelope_get_recipient_notify (SmtpkitEnvelope *envelope,
                                       guint            index)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), SMTPKIT_DSN_NOTIFY_UNSET);
  g_return_val_if_fail (index < envelope->recipients->len, SMTPKIT_DSN_NOTIFY_UNSET);

  return get_recipient (envelope, index)->notify;
}

/**
 * smtpkit_envelope_get_recipient_orcpt:
 * @envelope: an envelope
 * @index: a recipient index, below [method@Envelope.get_n_recipients]
 *
 * The original recipient address of recipient @index, unencoded.
 *
 * Returns: (transfer none) (nullable): the original recipient, or %NULL
 */
const char *
smtpkit_envelope_get_recipient_orcpt (SmtpkitEnvelope *envelope,
                                      guint            index)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);
  g_return_val_if_fail (index < envelope->recipients->len, NULL);

  return get_recipient (envelope, index)->orcpt;
}

/* An empty GPtrArray has no storage yet, not even for its NULL. */
static const char *const *
get_options (GPtrArray *options)
{
  static const char *const none[] = { NULL };

  return options->len > 0 ? (const char *const *) options->pdata : none;
}

/**
 * smtpkit_envelope_add_mail_option:
 * @envelope: an envelope
 * @option: an ESMTP parameter of `MAIL FROM`, as sent, such as
 *   `"SIZE=1000"` or `"MT-PRIORITY=3"`
 *
 * Adds a raw `MAIL FROM` parameter (smtplib's `mail_options`). The DSN
 * parameters are set with their typed setters instead.
 */
void
smtpkit_envelope_add_mail_option (SmtpkitEnvelope *envelope,
                                  const char      *option)
{
  g_return_if_fail (SMTPKIT_IS_ENVELOPE (envelope));
  g_return_if_fail (option != NULL && *option != '\0');

  g_ptr_array_add (envelope->mail_options, g_strdup (option));
}

/**
 * smtpkit_envelope_get_mail_options:
 * @envelope: an envelope
 *
 * The raw `MAIL FROM` parameters, in the order they were added.
 *
 * Returns: (transfer none) (array zero-terminated=1): the options; an
 *   empty array when there are none
 */
const char *const *
smtpkit_envelope_get_mail_options (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);

  return get_options (envelope->mail_options);
}

/**
 * smtpkit_envelope_add_rcpt_option:
 * @envelope: an envelope
 * @option: an ESMTP parameter of `RCPT TO`, as sent
 *
 * Adds a raw `RCPT TO` parameter, sent with every recipient (smtplib's
 * `rcpt_options`). The DSN parameters are set per recipient with
 * [method@Envelope.add_recipient] instead.
 */
void
smtpkit_envelope_add_rcpt_option (SmtpkitEnvelope *envelope,
                                  const char      *option)
{
  g_return_if_fail (SMTPKIT_IS_ENVELOPE (envelope));
  g_return_if_fail (option != NULL && *option != '\0');

  g_ptr_array_add (envelope->rcpt_options, g_strdup (option));
}

/**
 * smtpkit_envelope_get_rcpt_options:
 * @envelope: an envelope
 *
 * The raw `RCPT TO` parameters, in the order they were added.
 *
 * Returns: (transfer none) (array zero-terminated=1): the options; an
 *   empty array when there are none
 */
const char *const *
smtpkit_envelope_get_rcpt_options (SmtpkitEnvelope *envelope)
{
  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);

  return get_options (envelope->rcpt_options);
}

/* ---- private: the DSN parameters -------------------------------------- */

char **
smtpkit_envelope_mail_parameters (SmtpkitEnvelope *envelope)
{
  GPtrArray *parameters;

  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);

  parameters = g_ptr_array_new_null_terminated (2, g_free, TRUE);
  if (envelope->ret == SMTPKIT_DSN_RET_FULL)
    g_ptr_array_add (parameters, g_strdup ("RET=FULL"));
  else if (envelope->ret == SMTPKIT_DSN_RET_HDRS)
    g_ptr_array_add (parameters, g_strdup ("RET=HDRS"));
  if (envelope->envid != NULL)
    {
      g_autofree char *xtext = smtpkit_codec_xtext_encode (envelope->envid);

      g_ptr_array_add (parameters, g_strconcat ("ENVID=", xtext, NULL));
    }

  return (char **) g_ptr_array_free (parameters, FALSE);
}

static char *
format_notify (SmtpkitDsnNotify notify)
{
  g_autoptr (GPtrArray) keywords = g_ptr_array_new_null_terminated (3, NULL, TRUE);
  g_autofree char *joined = NULL;

  if (notify & SMTPKIT_DSN_NOTIFY_NEVER)
    return g_strdup ("NOTIFY=NEVER");
  if (notify & SMTPKIT_DSN_NOTIFY_SUCCESS)
    g_ptr_array_add (keywords, "SUCCESS");
  if (notify & SMTPKIT_DSN_NOTIFY_FAILURE)
    g_ptr_array_add (keywords, "FAILURE");
  if (notify & SMTPKIT_DSN_NOTIFY_DELAY)
    g_ptr_array_add (keywords, "DELAY");
  joined = g_strjoinv (",", (char **) keywords->pdata);

  return g_strconcat ("NOTIFY=", joined, NULL);
}

/* RFC 6533 §3 utf-8-addr-xtext: QCHAR as is; every other character
 * (controls, space, '+', '=', '\\' and all of non-ASCII) as "\x{HEX}". */
static char *
utf8_addr_xtext_encode (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0x21 && c <= 0x7e && c != '+' && c != '=' && c != '\\')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x{%02X}", (guint) c);
    }

  return g_string_free (out, FALSE);
}

/* The address type of a typed ORCPT ("rfc822;bob@example.org", RFC 3461
 * §4.2: an atom, then ";"), as a new string, with *@address pointing past
 * the ";"; NULL when @orcpt is a bare address. An addr-spec holds no ";"
 * outside a quoted local part, and an atom holds no quote. */
static char *
orcpt_type (const char  *orcpt,
            const char **address)
{
  gsize length = strspn (orcpt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-");

  if (length == 0 || orcpt[length] != ';')
    return NULL;
  *address = orcpt + length + 1;
  return g_strndup (orcpt, length);
}

static char *
format_orcpt (const char *orcpt)
{
  g_autofree char *type = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *encoded = NULL;
  const char *value = orcpt;
  gsize length;

  type = orcpt_type (orcpt, &value);
  /* Another address type than those of mail: its value as xtext. */
  if (type && g_ascii_strcasecmp (type, "rfc822") != 0 && g_ascii_strcasecmp (type, "utf-8") != 0)
    {
      encoded = smtpkit_codec_xtext_encode (value);
      return g_strconcat ("ORCPT=", type, ";", encoded, NULL);
    }

  /* The addr-spec, without the angle brackets of a path. */
  length = strlen (value);
  if (length >= 2 && value[0] == '<' && value[length - 1] == '>')
    addr = g_strndup (value + 1, length - 2);
  else
    addr = g_strdup (value);

  if (smtpkit_codec_is_ascii (addr) && (type == NULL || g_ascii_strcasecmp (type, "utf-8") != 0))
    {
      encoded = smtpkit_codec_xtext_encode (addr);
      return g_strconcat ("ORCPT=rfc822;", encoded, NULL);
    }

  encoded = utf8_addr_xtext_encode (addr);
  return g_strconcat ("ORCPT=utf-8;", encoded, NULL);
}

char **
smtpkit_envelope_rcpt_parameters (SmtpkitEnvelope *envelope,
                                  guint            index)
{
  GPtrArray *parameters;
  Recipient *recipient;

  g_return_val_if_fail (SMTPKIT_IS_ENVELOPE (envelope), NULL);
  g_return_val_if_fail (index < envelope->recipients->len, NULL);

  recipient = get_recipient (envelope, index);
  parameters = g_ptr_array_new_null_terminated (2, g_free, TRUE);
  if (recipient->notify != SMTPKIT_DSN_NOTIFY_UNSET)
    g_ptr_array_add (parameters, format_notify (recipient->notify));
  if (recipient->orcpt != NULL)
    g_ptr_array_add (parameters, format_orcpt (recipient->orcpt));

  return (char **) g_ptr_array_free (parameters, FALSE);
}
