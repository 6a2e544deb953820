/* smtpkit-error.c: the SMTPKIT_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-error-private.h"

#include <string.h>

typedef struct
{
  SmtpkitReply *reply;
  char *sender;
  GHashTable *recipients;
} SmtpkitErrorPrivate;

static void
smtpkit_error_private_init (SmtpkitErrorPrivate *priv)
{
}

static void
smtpkit_error_private_copy (const SmtpkitErrorPrivate *src,
                            SmtpkitErrorPrivate       *dest)
{
  dest->reply = src->reply ? smtpkit_reply_ref (src->reply) : NULL;
  dest->sender = g_strdup (src->sender);
  dest->recipients = src->recipients ? g_hash_table_ref (src->recipients) : NULL;
}

static void
smtpkit_error_private_clear (SmtpkitErrorPrivate *priv)
{
  g_clear_pointer (&priv->reply, smtpkit_reply_unref);
  g_clear_pointer (&priv->sender, g_free);
  g_clear_pointer (&priv->recipients, g_hash_table_unref);
}

/**
 * smtpkit_error_quark:
 *
 * The quark of the %SMTPKIT_ERROR domain.
 *
 * Returns: the error quark
 */
G_DEFINE_EXTENDED_ERROR (SmtpkitError, smtpkit_error)

static SmtpkitErrorPrivate *
error_private (const GError *error)
{
  if (error == NULL || error->domain != SMTPKIT_ERROR)
    return NULL;
  return smtpkit_error_get_private (error);
}

/**
 * smtpkit_error_get_reply:
 * @error: a #GError
 *
 * The server reply that caused @error, if any: for example the 550 that
 * refused a sender, or the greeting that was not 220.
 *
 * Language bindings (PyGObject, GJS) do not keep what an error carries
 * beyond its domain, code and message: they read the reply, the refused
 * sender and the recipients of the last error from the client, with
 * [method@Client.get_last_error_reply] and the like.
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL when @error is
 *   not in the %SMTPKIT_ERROR domain or no reply was involved
 */
SmtpkitReply *
smtpkit_error_get_reply (const GError *error)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  return priv ? priv->reply : NULL;
}

/**
 * smtpkit_error_get_sender:
 * @error: a #GError
 *
 * The sender address refused, for %SMTPKIT_ERROR_SENDER_REFUSED.
 *
 * Returns: (transfer none) (nullable): the refused sender
 */
const char *
smtpkit_error_get_sender (const GError *error)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  return priv ? priv->sender : NULL;
}

/**
 * smtpkit_error_get_recipients:
 * @error: a #GError
 *
 * The recipients concerned, as a map from address to the server's
 * [struct@Reply]: every refused recipient for
 * %SMTPKIT_ERROR_RECIPIENTS_REFUSED; for %SMTPKIT_ERROR_DELIVERY_UNKNOWN
 * every accepted recipient: those whose outcome is not known map to
 * %NULL, those already answered (LMTP) to their reply.
 *
 * Returns: (transfer none) (nullable) (element-type utf8 SmtpkitReply): the
 *   map, or %NULL
 */
GHashTable *
smtpkit_error_get_recipients (const GError *error)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  return priv ? priv->recipients : NULL;
}

GError *
smtpkit_error_new_reply (SmtpkitError  code,
                         SmtpkitReply *reply,
                         const char   *format,
                         ...)
{
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (SMTPKIT_ERROR, code, format, args);
  va_end (args);
  smtpkit_error_set_reply (error, reply);

  return error;
}

void
smtpkit_error_set_reply (GError       *error,
                         SmtpkitReply *reply)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  g_return_if_fail (priv != NULL);
  if (reply)
    smtpkit_reply_ref (reply);
  g_clear_pointer (&priv->reply, smtpkit_reply_unref);
  priv->reply = reply;
}

void
smtpkit_error_set_sender (GError     *error,
                          const char *sender)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  g_return_if_fail (priv != NULL);
  g_free (priv->sender);
  priv->sender = g_strdup (sender);
}

void
smtpkit_error_set_recipients (GError     *error,
                              GHashTable *recipients)
{
  SmtpkitErrorPrivate *priv = error_private (error);

  g_return_if_fail (priv != NULL);
  if (recipients)
    g_hash_table_ref (recipients);
  g_clear_pointer (&priv->recipients, g_hash_table_unref);
  priv->recipients = recipients;
}

static void
reply_unref_nullable (gpointer reply)
{
  if (reply)
    smtpkit_reply_unref (reply);
}

GHashTable *
smtpkit_recipient_map_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, reply_unref_nullable);
}

static int
compare_addresses (gconstpointer a,
                   gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char **
smtpkit_recipient_map_get_addresses (GHashTable *map)
{
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (map == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, map);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (addresses, g_strdup (key));
  g_ptr_array_sort (addresses, compare_addresses);
  g_ptr_array_add (addresses, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&addresses), FALSE);
}
