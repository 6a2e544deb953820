/* smtpkit-private.c: the table of smtpkit-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-private.h"

static const SmtpkitPrivateVTable table = {
  smtpkit_command_batch_new,
  smtpkit_command_batch_add,
  smtpkit_command_batch_add_data,
  smtpkit_command_batch_set_final,
  smtpkit_command_batch_set_per_recipient,
  smtpkit_command_batch_set_replies,
  smtpkit_engine_new,
  smtpkit_engine_unref,
  smtpkit_engine_is_open,
  smtpkit_engine_close,
  smtpkit_engine_check_quiet,
  smtpkit_engine_set_stream,
  smtpkit_engine_exchange_async,
  smtpkit_engine_exchange_finish,
  smtpkit_engine_send_body_async,
  smtpkit_engine_send_body_finish,
  smtpkit_sync_begin,
  smtpkit_sync_callback,
  smtpkit_sync_wait,
  smtpkit_sync_end,
  smtpkit_codec_parse_ehlo,
  smtpkit_codec_quote_address,
};

const SmtpkitPrivateVTable *
smtpkit__private__ (void)
{
  return &table;
}
