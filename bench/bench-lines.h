/* bench-lines.h: the text of the benchmark messages, for bench-client.c
 * and curl-send.c alike, so that making it costs the two the same
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stddef.h>
#include <string.h>

/* Writes lines of at most 76 characters and CRLF into @text from @len,
 * up to @size bytes in all (the last line may be shorter; none begins
 * with a dot); returns the length written up to. Character k of the text
 * is 'a' + k % 26, so that a line of 78 bytes repeats: the first one is
 * written, the others copied, so that making a large message costs a
 * memcpy per byte, not a division. */
static inline size_t
bench_fill_lines (char   *text,
                  size_t  len,
                  size_t  size)
{
  size_t start = len, copied = 0, whole = 0;

  if (len + 78 <= size)
    {
      for (size_t i = 0; i < 76; i++)
        text[len + i] = 'a' + (len + i) % 26;
      text[len + 76] = '\r';
      text[len + 77] = '\n';
      copied = 78;
      whole = (size - start) / 78 * 78;
    }
  for (; copied > 0 && copied < whole; copied *= 2)
    memcpy (text + start + copied, text + start, copied * 2 <= whole ? copied : whole - copied);
  len = start + whole;
  while (len + 2 < size)
    {
      size_t line = size - 2 - len < 76 ? size - 2 - len : 76;

      for (size_t i = 0; i < line; i++)
        text[len + i] = 'a' + (len + i) % 26;
      len += line;
      text[len++] = '\r';
      text[len++] = '\n';
    }
  return len;
}
