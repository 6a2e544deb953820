/* interop-client.c: what the tests of every server do with their clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server.h"

SmtpkitClient *
interop_client_prepare (SmtpkitClient *client)
{
  g_assert_true (smtpkit_client_set_local_hostname (client, "client." INTEROP_DOMAIN, NULL));
  g_assert_true (smtpkit_client_set_timeout (client, 60, NULL));
  return client;
}

void
interop_client_quit (SmtpkitClient *client)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) bye = smtpkit_client_quit (client, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (bye), ==, 221);
}

void
interop_client_release (SmtpkitClient **client)
{
  if (*client == NULL)
    return;
  g_object_add_weak_pointer (G_OBJECT (*client), (gpointer *) client);
  g_object_unref (*client);
  g_assert_null (*client);
}

char *
interop_assert_one_delivered (InteropServer *server,
                              const char    *user,
                              GBytes        *sent)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *maildir = interop_server_get_maildir (server, user);
  g_autoptr (GPtrArray) messages = interop_wait_for_messages (maildir, 1, &error);
  g_autoptr (GBytes) body = NULL;
  char *trace = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  interop_assert_delivered (messages->pdata[0], sent);
  body = interop_read_delivered (messages->pdata[0], &trace, &error);
  g_assert_no_error (error);
  return trace;
}
