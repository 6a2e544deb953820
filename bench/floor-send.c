/* floor-send.c: the floor of bench/run
 *
 * A benchmark program, not a test: it does what a workload needs on the
 * wire and nothing else, so that its CPU is what the kernel charges for
 * the protocol's round trips and bytes on this machine. One blocking TCP
 * socket, the commands written as constants, the message text made
 * before the first command (the same text as bench-client's and
 * curl-send's, from bench-lines.h), each reply read with a blocking
 * recv() and checked by its first digit only. No client can spend less
 * on the same exchange: a target below the floor's ratio is below what
 * the machine allows.
 *
 *   small, large   per message MAIL, RCPT and DATA in one write and their
 *                  three replies, then the text and the dot in one write
 *                  and its reply: two round trips (PIPELINING);
 *                  --no-pipelining: a round trip per command, four;
 *                  --chunking: MAIL, RCPT, "BDAT n LAST" and the text in
 *                  one write and the three replies: one round trip
 *   stream         one message over DATA, a block repeated, as curl-send
 *
 * It prints one line of JSON with what it sent, as the other clients do.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench-lines.h"

static const char header[] = BENCH_HEADER;
static const char envelope[] = "MAIL FROM:<bench@example.org>\r\n"
                               "RCPT TO:<sink@example.org>\r\n";

static int sock = -1;
static char replies[65536];
static size_t replies_len;

static void
fail (const char *what)
{
  fprintf (stderr, "floor-send: %s\n", what);
  exit (1);
}

/* Reads @count replies (each may be several lines); fails on 4xx and
 * 5xx, and on a closed connection. */
static void
read_replies (int count)
{
  size_t start = 0;

  while (count > 0)
    {
      char *end = memchr (replies + start, '\n', replies_len - start);

      if (end == NULL)
        {
          ssize_t got;

          memmove (replies, replies + start, replies_len - start);
          replies_len -= start;
          start = 0;
          if (replies_len == sizeof replies)
            fail ("a reply line too long");
          do
            got = recv (sock, replies + replies_len, sizeof replies - replies_len, 0);
          while (got < 0 && errno == EINTR);
          if (got <= 0)
            fail (got == 0 ? "the server closed the connection" : strerror (errno));
          replies_len += (size_t) got;
          continue;
        }
      if (end - (replies + start) < 4)
        fail ("a reply line too short");
      if (replies[start] == '4' || replies[start] == '5')
        {
          *end = '\0';
          fprintf (stderr, "floor-send: the server said %s\n", replies + start);
          exit (1);
        }
      if (replies[start + 3] != '-')
        count--;
      start = end + 1 - replies;
    }
  memmove (replies, replies + start, replies_len - start);
  replies_len -= start;
}

/* Writes all of @iov (changed on the way). */
static void
write_all (struct iovec *iov,
           int           n_iov)
{
  while (n_iov > 0)
    {
      ssize_t wrote = writev (sock, iov, n_iov);

      if (wrote < 0 && errno == EINTR)
        continue;
      if (wrote < 0)
        fail (strerror (errno));
      while (n_iov > 0 && (size_t) wrote >= iov->iov_len)
        {
          wrote -= (ssize_t) iov->iov_len;
          iov++;
          n_iov--;
        }
      if (n_iov > 0)
        {
          iov->iov_base = (char *) iov->iov_base + wrote;
          iov->iov_len -= (size_t) wrote;
        }
    }
}

static void
write_all2 (const void *a,
            size_t      a_len,
            const void *b,
            size_t      b_len)
{
  struct iovec iov[2] = { { (void *) a, a_len }, { (void *) b, b_len } };

  write_all (iov, b_len > 0 ? 2 : 1);
}

static void
write_str (const char *text)
{
  write_all2 (text, strlen (text), NULL, 0);
}

static void
connect_to (const char *port)
{
  struct sockaddr_in address = { .sin_family = AF_INET };
  int one = 1;

  address.sin_port = htons ((uint16_t) atoi (port));
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sock = socket (AF_INET, SOCK_STREAM, 0);
  if (sock < 0 || connect (sock, (struct sockaddr *) &address, sizeof address) != 0)
    fail (strerror (errno));
  setsockopt (sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  read_replies (1);
  write_str ("EHLO bench.test\r\n");
  read_replies (1);
}

static int
usage (void)
{
  fprintf (stderr, "usage: floor-send PORT small|large|stream [-n MESSAGES] [--size BYTES] "
                   "[--mb MB] [--no-pipelining | --chunking]\n");
  return 2;
}

int
main (int   argc,
      char *argv[])
{
  const char *workload;
  long messages = 5000, size = 61;
  double mb = 0;
  int pipelining = 1, chunking = 0;
  size_t header_len = strlen (header);
  uint64_t total;
  char *text;
  size_t text_len;
  long n;

  if (argc < 3)
    return usage ();
  workload = argv[2];
  for (int a = 3; a < argc; a++)
    {
      if (strcmp (argv[a], "--no-pipelining") == 0)
        pipelining = 0;
      else if (strcmp (argv[a], "--chunking") == 0)
        chunking = 1;
      else if (a + 1 < argc && strcmp (argv[a], "-n") == 0)
        messages = atol (argv[++a]);
      else if (a + 1 < argc && strcmp (argv[a], "--size") == 0)
        size = atol (argv[++a]);
      else if (a + 1 < argc && strcmp (argv[a], "--mb") == 0)
        mb = atof (argv[++a]);
      else
        return usage ();
    }
  if (chunking && !pipelining)
    return usage ();

  if (strcmp (workload, "small") == 0 || strcmp (workload, "large") == 0)
    {
      /* With room for the dot after the text, for DATA. */
      text = bench_message_new (strcmp (workload, "small") == 0 ? (size_t) size
                                                                : (size_t) (mb * 1e6),
                                3, &text_len);
      if (text != NULL)
        memcpy (text + text_len, ".\r\n", 3);
      n = messages;
      total = (uint64_t) n * text_len;
    }
  else if (strcmp (workload, "stream") == 0 && !chunking)
    {
      text = bench_block_new ();
      text_len = BENCH_BLOCK_SIZE;
      total = bench_stream_total (mb);
      n = 1;
    }
  else
    return usage ();
  if (text == NULL)
    fail ("out of memory");

  connect_to (argv[1]);
  for (long i = 0; i < n; i++)
    {
      if (chunking)
        {
          char command[sizeof envelope + 40];

          snprintf (command, sizeof command, "%sBDAT %zu LAST\r\n", envelope, text_len);
          write_all2 (command, strlen (command), text, text_len);
          read_replies (3);
          continue;
        }
      if (pipelining)
        {
          write_all2 (envelope, strlen (envelope), "DATA\r\n", 6);
          read_replies (3);
        }
      else
        {
          write_str ("MAIL FROM:<bench@example.org>\r\n");
          read_replies (1);
          write_str ("RCPT TO:<sink@example.org>\r\n");
          read_replies (1);
          write_str ("DATA\r\n");
          read_replies (1);
        }
      if (strcmp (workload, "stream") == 0)
        {
          uint64_t left = total - header_len;

          write_all2 (header, header_len, NULL, 0);
          for (; left > 0; left -= left < text_len ? left : text_len)
            write_all2 (text, left < text_len ? left : text_len, NULL, 0);
          write_str (".\r\n");
        }
      else
        write_all2 (text, text_len + 3, NULL, 0);
      read_replies (1);
    }
  write_str ("QUIT\r\n");
  read_replies (1);
  close (sock);
  free (text);
  printf ("{\"messages\": %ld, \"bytes\": %llu}\n", n, (unsigned long long) total);
  return 0;
}
