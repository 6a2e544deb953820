/* curl-send.c: the libcurl anchor of bench/run
 *
 * A benchmark program, not a test: it sends the same work as
 * bench-client's small, large and stream workloads through libcurl's SMTP
 * support, with one easy handle for every message so that the connection
 * is reused, and prints one line of JSON with what it did. The messages
 * are precomputed before the first transfer; the read callback copies
 * from them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-lines.h"

static const char header[] = BENCH_HEADER;


typedef struct
{
  const char *data;      /* a whole message, or the repeated block */
  size_t len;
  uint64_t total;        /* bytes to send in all */
  uint64_t offset;
  int repeat;            /* stream: header, then data repeated */
} Source;

static size_t
read_source (char   *buffer,
             size_t  size,
             size_t  nitems,
             void   *user_data)
{
  Source *source = user_data;
  size_t count = size * nitems;
  size_t done = 0;
  size_t header_len = strlen (header);

  if (count > source->total - source->offset)
    count = source->total - source->offset;
  while (done < count)
    {
      const char *from;
      size_t n;

      if (!source->repeat)
        {
          from = source->data + source->offset;
          n = source->len - source->offset;
        }
      else if (source->offset < header_len)
        {
          from = header + source->offset;
          n = header_len - source->offset;
        }
      else
        {
          size_t at = (source->offset - header_len) % source->len;

          from = source->data + at;
          n = source->len - at;
        }
      if (n > count - done)
        n = count - done;
      memcpy (buffer + done, from, n);
      done += n;
      source->offset += n;
    }
  return done;
}

static int
usage (void)
{
  fprintf (stderr, "usage: curl-send PORT small|large|stream [-n MESSAGES] [--size BYTES] [--mb MB]\n");
  return 2;
}

int
main (int   argc,
      char *argv[])
{
  const char *workload;
  long messages = 5000, size = 61;
  double mb = 0;
  char url[64];
  char *text;
  Source source = { 0, };
  struct curl_slist *rcpt = NULL;
  CURL *curl;
  CURLcode res = CURLE_OK;
  long n, i;

  if (argc < 3)
    return usage ();
  snprintf (url, sizeof url, "smtp://127.0.0.1:%s/bench.test", argv[1]);
  workload = argv[2];
  for (int a = 3; a + 1 < argc; a += 2)
    {
      if (strcmp (argv[a], "-n") == 0)
        messages = atol (argv[a + 1]);
      else if (strcmp (argv[a], "--size") == 0)
        size = atol (argv[a + 1]);
      else if (strcmp (argv[a], "--mb") == 0)
        mb = atof (argv[a + 1]);
      else
        return usage ();
    }

  if (strcmp (workload, "small") == 0 || strcmp (workload, "large") == 0)
    {
      text = bench_message_new (strcmp (workload, "small") == 0 ? (size_t) size
                                                                : (size_t) (mb * 1e6),
                                0, &source.len);
      source.total = source.len;
      n = messages;
    }
  else if (strcmp (workload, "stream") == 0)
    {
      text = bench_block_new ();
      source.len = BENCH_BLOCK_SIZE;
      source.repeat = 1;
      source.total = bench_stream_total (mb);
      n = 1;
    }
  else
    return usage ();
  if (text == NULL)
    {
      fprintf (stderr, "curl-send: out of memory\n");
      return 1;
    }
  source.data = text;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  curl = curl_easy_init ();
  rcpt = curl_slist_append (rcpt, "<sink@example.org>");
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_MAIL_FROM, "<bench@example.org>");
  curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt (curl, CURLOPT_READFUNCTION, read_source);
  curl_easy_setopt (curl, CURLOPT_READDATA, &source);
  curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (curl, CURLOPT_UPLOAD_BUFFERSIZE, 65536L);

  for (i = 0; i < n && res == CURLE_OK; i++)
    {
      source.offset = 0;
      res = curl_easy_perform (curl);
    }
  curl_easy_cleanup (curl);
  curl_slist_free_all (rcpt);
  curl_global_cleanup ();
  free (text);
  if (res != CURLE_OK)
    {
      fprintf (stderr, "curl-send: message %ld: %s\n", i, curl_easy_strerror (res));
      return 1;
    }
  printf ("{\"messages\": %ld, \"bytes\": %llu}\n", n,
          (unsigned long long) (n * source.total));
  return 0;
}
