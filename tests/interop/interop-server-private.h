/* interop-server-private.h: what the Postfix and Dovecot fixtures share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "interop-server.h"

G_BEGIN_DECLS

struct _InteropServer
{
  const char *name;       /* "Postfix", "Dovecot" */
  char *dir;              /* the private folder */
  char *log_path;         /* the server's own log */
  char *output_path;      /* the master process's stdout and stderr */
  const char *maildir_subdir; /* under mail/USER: NULL, or "Maildir" */
  GSubprocess *process;   /* the master process, leader of its group */
  GSubprocess *watchdog;  /* stops the group if this process dies */
  guint16 port;
  guint16 tls_port;
  char *ca_file;
  char *socket_path;
};

/* A server of @name with a fresh private folder, which anyone may enter
 * (the servers' unprivileged users deliver into it). */
InteropServer *interop_server_new (const char  *name,
                                   GError     **error);

/* Fails unless this process may start @name's servers: root, and
 * @programs (NULL-terminated) installed; fills @paths with their paths. */
gboolean interop_server_check_requirements (InteropServer      *server,
                                            const char *const  *programs,
                                            char              **paths,
                                            GError            **error);

/* Gives @relative_path in the private folder to @owner (a user name, or
 * NULL for root). */
gboolean interop_server_chown (InteropServer  *server,
                               const char     *relative_path,
                               const char     *owner,
                               GError        **error);

/* Folders in the private folder, owned by @owner (a user name, or NULL
 * for root), mode 0755. */
gboolean interop_server_make_dir (InteropServer  *server,
                                  const char     *relative_path,
                                  const char     *owner,
                                  GError        **error);

/* Writes conf/@template (from the source tree) to @relative_path in the
 * private folder, with @DIR@, @DOMAIN@, @MAIL_UID@, @MAIL_GID@ and the
 * NULL-terminated NAME, VALUE pairs that follow replaced. */
gboolean interop_server_install_template (InteropServer  *server,
                                          const char     *template_name,
                                          const char     *relative_path,
                                          GError        **error,
                                          ...) G_GNUC_NULL_TERMINATED;

/* Runs @argv to its end, with @input on its standard input; fails with
 * its output unless it exits with status 0. */
gboolean interop_run (const char *const  *argv,
                      const char         *input,
                      GError            **error);

/* Starts @argv as the server's master process, in a process group of its
 * own, its output in @output_name in the private folder. */
gboolean interop_server_spawn (InteropServer      *server,
                               const char *const  *argv,
                               const char         *output_name,
                               GError            **error);

/* Polls @ready every 50 ms for at most INTEROP_WAIT_SECONDS; fails early,
 * with the server's log, when the master process exits. */
typedef gboolean (*InteropReadyFunc) (InteropServer *server);
gboolean interop_server_wait_ready (InteropServer     *server,
                                    InteropReadyFunc   ready,
                                    GError           **error);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint16 interop_free_port (GError **error);

/* The path of @relative_path in the private folder. */
char *interop_server_path (InteropServer *server,
                           const char    *relative_path);

G_END_DECLS
