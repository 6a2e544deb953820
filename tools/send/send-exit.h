/* send-exit.h: smtpkit-send's exit statuses (sysexits.h) and the one-line
 * reasons it prints on stderr
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sysexits.h>

#include <smtpkit.h>

G_BEGIN_DECLS

/* The sysexits.h status an error stands for: EX_TEMPFAIL for anything a
 * later try may cure, EX_UNAVAILABLE for a permanent refusal, and so on
 * (the table of the man page). */
int send_exit_status (const GError *error);

/* EX_TEMPFAIL for a 4xx reply or none (the outcome is not known),
 * EX_UNAVAILABLE for a 5xx. */
int send_exit_status_of_reply (SmtpkitReply *reply);

/* The status of a send where @refused (address → SmtpkitReply, or no
 * reply) were refused and the others accepted: EX_TEMPFAIL when one of
 * them was refused for now (4xx or no reply), else EX_UNAVAILABLE. */
int send_exit_status_of_refused (GHashTable *refused);

/* Prints "PROGRAM: REASON" on stderr, then the server's reply and the
 * refused recipients, each on a line of its own. */
void send_exit_report (const GError *error);

/* Prints one line per refused recipient, in a stable order:
 * "PROGRAM: refused RECIPIENT: CODE TEXT". */
void send_exit_report_refused (GHashTable *refused);

G_END_DECLS
