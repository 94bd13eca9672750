/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */

/* The ceiling for terminal output: runs `bash -c COMMAND` on a fresh
 * pseudo-terminal and reads its output as fast as possible, with nothing in
 * between. Prints one JSON line: {"bytes":N,"seconds":S}. */

#define _GNU_SOURCE
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  struct winsize ws = { .ws_row = 40, .ws_col = 120 };
  static char buf[1 << 16];
  unsigned long long total = 0;
  double start, end;
  int master, status;
  pid_t pid;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s COMMAND\n", argv[0]);
      return 2;
    }

  start = now ();
  pid = forkpty (&master, NULL, NULL, &ws);
  if (pid < 0)
    {
      perror ("forkpty");
      return 1;
    }
  if (pid == 0)
    {
      execlp ("bash", "bash", "-c", argv[1], (char *) NULL);
      _exit (127);
    }

  for (;;)
    {
      ssize_t n = read (master, buf, sizeof buf);

      if (n > 0)
        total += (unsigned long long) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else
        break;                  /* EIO: the child side is closed */
    }
  end = now ();
  waitpid (pid, &status, 0);
  printf ("{\"bytes\":%llu,\"seconds\":%.6f,\"status\":%d}\n", total, end - start,
          WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  return 0;
}
