/* fuzz-common.c: what the libFuzzer targets share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

gboolean fuzz_verbose;

void
fuzz_setup_environment (void)
{
  g_setenv ("SMTPKIT_PLUGIN_PATH", FUZZ_PLUGIN_DIR, FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", FALSE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", FALSE);
  g_setenv ("GIO_USE_VFS", "local", FALSE);
  /* A message from the library is not a finding; a critical is. */
  g_setenv ("G_DEBUG", "fatal-criticals", FALSE);
}

__attribute__ ((weak)) int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_environment ();
  fuzz_initialized ();
  return 0;
}

void
fuzz_initialized (void)
{
  fuzz_verbose = g_getenv ("FUZZ_VERBOSE") != NULL;
}

GPtrArray *
fuzz_split (const guint8 *data,
            gsize         size)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const guint8 *end = data + size;
  const guint8 *p = data;

  for (;;)
    {
      const guint8 *sep = p < end ? memchr (p, FUZZ_SEPARATOR, end - p) : NULL;
      const guint8 *stop = sep != NULL ? sep : end;

      g_ptr_array_add (pieces, g_bytes_new (p, stop - p));
      if (sep == NULL)
        break;
      p = sep + 1;
    }

  return pieces;
}

static int
compare_sizes (gconstpointer a,
               gconstpointer b)
{
  gsize x = *(const gsize *) a;
  gsize y = *(const gsize *) b;

  return x < y ? -1 : x > y;
}

gboolean
fuzz_pieces_init (FuzzPieces   *pieces,
                  const guint8 *data,
                  gsize         size)
{
  gsize n_offsets;

  if (size < 1)
    return FALSE;
  n_offsets = data[0] & 7;
  if (size < 1 + 2 * n_offsets)
    return FALSE;

  pieces->flags = data[0] >> 3;
  pieces->payload = data + 1 + 2 * n_offsets;
  pieces->length = size - 1 - 2 * n_offsets;
  pieces->n_cuts = n_offsets + 1;
  pieces->cuts = g_new (gsize, pieces->n_cuts);
  for (gsize i = 0; i < n_offsets; i++)
    pieces->cuts[i] = (data[1 + 2 * i] | data[2 + 2 * i] << 8) % (pieces->length + 1);
  pieces->cuts[n_offsets] = pieces->length;
  qsort (pieces->cuts, pieces->n_cuts, sizeof *pieces->cuts, compare_sizes);

  return TRUE;
}

void
fuzz_pieces_clear (FuzzPieces *pieces)
{
  g_clear_pointer (&pieces->cuts, g_free);
}

void
fuzz_fail (const char *format,
           ...)
{
  va_list args;

  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  abort ();
}
