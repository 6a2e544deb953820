/* send-progress.h: a progress bar on stderr while a large message is sent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

G_BEGIN_DECLS

/* Messages up to this size go too fast for a bar to help. */
#define SEND_PROGRESS_THRESHOLD (1024 * 1024)

typedef struct _SendProgress SendProgress;

/* Shows the bytes @client sends out of @total, the percentage and the
 * rate, on stderr; NULL (nothing shown) unless stderr is a terminal and
 * @total is over SEND_PROGRESS_THRESHOLD. */
SendProgress *send_progress_start (SmtpkitClient *client,
                                   guint64        total);

/* Stops following the client and ends the bar's line. */
void send_progress_stop (SendProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendProgress, send_progress_stop)

G_END_DECLS
