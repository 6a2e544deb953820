/* proc-status.c: what /proc says of this process, for the load tests and
 * the benchmark
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "proc-status.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

guint64
proc_status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, field);
  return line ? g_ascii_strtoull (line + strlen (field), NULL, 10) : 0;
}

guint
proc_count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

gboolean
proc_reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY);
  gboolean done;

  if (fd < 0)
    return FALSE;
  /* "5" resets the peak resident size (Linux 4.0 and later). */
  done = write (fd, "5", 1) == 1;
  close (fd);
  return done;
}
