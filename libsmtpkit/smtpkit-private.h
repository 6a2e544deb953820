/* smtpkit-private.h: the engine and the codec for libsmtpkit's own tools
 *
 * smtpkit-harness's probe speaks to a server at the command level, with
 * the library's engine and codec, in a program that also uses the public
 * API and loads plugins. Linking the library's internal archive into it
 * would give the program a second copy of every type (the auth
 * mechanisms' among them, which the plugins register with the shared
 * library's), so the shared library hands out its private functions
 * instead, GLib's way (glib__private__()): one exported table, declared in
 * this header, which is never installed and promises no stability.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

#include "smtpkit-codec-private.h"
#include "smtpkit-engine-private.h"
#include "smtpkit-sync-private.h"

G_BEGIN_DECLS

typedef struct
{
  /* smtpkit-engine-private.h */
  SmtpkitCommandBatch *(*command_batch_new) (void);
  void (*command_batch_add) (SmtpkitCommandBatch *batch,
                             const GString       *line,
                             gssize               shown);
  void (*command_batch_add_data) (SmtpkitCommandBatch *batch,
                                  GBytes              *data);
  void (*command_batch_set_final) (SmtpkitCommandBatch *batch);
  void (*command_batch_set_per_recipient) (SmtpkitCommandBatch *batch);
  void (*command_batch_set_replies) (SmtpkitCommandBatch *batch,
                                     guint                n_replies);
  SmtpkitEngine *(*engine_new) (GIOStream        *stream,
                                SmtpkitTraceFunc  trace,
                                gpointer          trace_data);
  void (*engine_unref) (SmtpkitEngine *engine);
  gboolean (*engine_is_open) (SmtpkitEngine *engine);
  void (*engine_close) (SmtpkitEngine *engine);
  gboolean (*engine_check_quiet) (SmtpkitEngine  *engine,
                                  GError        **error);
  void (*engine_set_stream) (SmtpkitEngine *engine,
                             GIOStream     *stream);
  void (*engine_exchange_async) (SmtpkitEngine       *engine,
                                 SmtpkitCommandBatch *batch,
                                 guint                timeout_ms,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  GPtrArray *(*engine_exchange_finish) (SmtpkitEngine  *engine,
                                        GAsyncResult   *result,
                                        GPtrArray     **partial,
                                        GError        **error);
  void (*engine_send_body_async) (SmtpkitEngine       *engine,
                                  GInputStream        *body,
                                  gboolean             convert_newlines,
                                  guint                n_replies,
                                  guint                block_timeout_ms,
                                  guint                final_timeout_ms,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
  GPtrArray *(*engine_send_body_finish) (SmtpkitEngine  *engine,
                                         GAsyncResult   *result,
                                         GPtrArray     **partial,
                                         GError        **error);
  /* smtpkit-sync-private.h */
  SmtpkitSync *(*sync_begin) (void);
  void (*sync_callback) (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data);
  GAsyncResult *(*sync_wait) (SmtpkitSync *sync);
  void (*sync_end) (SmtpkitSync *sync);
  /* smtpkit-codec-private.h */
  GHashTable *(*codec_parse_ehlo) (const SmtpkitReply *reply);
  char *(*codec_quote_address) (const char *address);
} SmtpkitPrivateVTable;

SMTPKIT_AVAILABLE_IN_ALL
const SmtpkitPrivateVTable *smtpkit__private__ (void);

/* SMTPKIT_PRIVATE_CALL (engine_new) (stream, trace, data) */
#define SMTPKIT_PRIVATE_CALL(name) (smtpkit__private__ ()->name)

G_END_DECLS
