/* bench-spawn.c: runs one command for bench/run and says what it cost
 *
 * bench-spawn FILE COMMAND [ARG...] runs COMMAND as its child, waits for
 * it with wait4(), and writes to FILE one line: the wall time (monotonic
 * clock, microseconds), user and system CPU time (microseconds), peak
 * resident size (ru_maxrss, kB) and the exit status. It exits with
 * COMMAND's status. An executable FILE is refused (127): it is a command
 * given without the file, which would be overwritten.
 *
 * Why not from bench/run itself: Linux counts in ru_maxrss the resident
 * size of the process before exec(), so a client forked from the Python
 * script would report at least the script's own size. Forked from this
 * small program, it reports its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
timeval_us (struct timeval tv)
{
  return (long long) tv.tv_sec * 1000000 + tv.tv_usec;
}

int
main (int   argc,
      char *argv[])
{
  struct rusage usage;
  long long start, wall;
  int status, code;
  FILE *out;
  pid_t pid;

  if (argc < 3)
    {
      fprintf (stderr, "usage: bench-spawn FILE COMMAND [ARG...]\n");
      return 127;
    }
  /* FILE is overwritten: a program there is a COMMAND given without it. */
  if (access (argv[1], X_OK) == 0)
    {
      fprintf (stderr, "bench-spawn: %s is executable: the first argument is the file for the "
                       "figures, then the command\n", argv[1]);
      return 127;
    }
  start = now_us ();
  pid = fork ();
  if (pid < 0)
    {
      perror ("bench-spawn: fork");
      return 127;
    }
  if (pid == 0)
    {
      execvp (argv[2], argv + 2);
      perror (argv[2]);
      _exit (127);
    }
  if (wait4 (pid, &status, 0, &usage) < 0)
    {
      perror ("bench-spawn: wait4");
      return 127;
    }
  wall = now_us () - start;
  code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  out = fopen (argv[1], "w");
  if (out == NULL)
    {
      perror (argv[1]);
      return 127;
    }
  fprintf (out, "%lld %lld %lld %ld %d\n", wall, timeval_us (usage.ru_utime),
           timeval_us (usage.ru_stime), usage.ru_maxrss, code);
  fclose (out);
  return code;
}
