/* proc-status.h: what /proc says of this process, for the load tests and
 * the benchmark
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A field of /proc/self/status in kB, such as "VmRSS:"; 0 when unknown. */
guint64 proc_status_kb (const char *field);
/* How many entries a directory such as /proc/self/fd holds. */
guint proc_count_entries (const char *path);
/* Resets VmHWM, the peak resident size, to the current size. */
gboolean proc_reset_peak_rss (void);

G_END_DECLS
