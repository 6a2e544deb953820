/* bench-lines.h: the text of the benchmark messages, for bench-client.c,
 * curl-send.c and floor-send.c alike, so that making it costs them the
 * same and the text is the same
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
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

/* The header of every message of curl-send and floor-send. */
#define BENCH_HEADER "Subject: bench\r\n\r\n"

/* A stream is the header, then a block of whole lines repeated. */
#define BENCH_BLOCK_LINE 78
#define BENCH_BLOCK_SIZE (BENCH_BLOCK_LINE * 840)

/* A small or large message of @size bytes (at least the header and a
 * line end), header first, with @spare bytes free after it; its length
 * in @len. NULL when out of memory. */
static inline char *
bench_message_new (size_t  size,
                   size_t  spare,
                   size_t *len)
{
  size_t header_len = strlen (BENCH_HEADER);
  char *text;

  if (size < header_len + 3)
    size = header_len + 3;
  text = malloc (size + spare);
  if (text == NULL)
    return NULL;
  memcpy (text, BENCH_HEADER, header_len);
  *len = bench_fill_lines (text, header_len, size);
  return text;
}

/* The block of a stream, BENCH_BLOCK_SIZE bytes; NULL when out of
 * memory. */
static inline char *
bench_block_new (void)
{
  char *block = malloc (BENCH_BLOCK_SIZE);

  if (block != NULL)
    bench_fill_lines (block, 0, BENCH_BLOCK_SIZE);
  return block;
}

/* The bytes of a stream of about @mb megabytes: the header and whole
 * lines of the block. */
static inline uint64_t
bench_stream_total (double mb)
{
  uint64_t header_len = strlen (BENCH_HEADER);
  uint64_t body = (uint64_t) (mb * 1e6) - header_len;

  return header_len + body - body % BENCH_BLOCK_LINE;
}
