/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-reaper"

#include "config.h"

#include "runner-reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Runner is a child subreaper: whatever a shell or the app leaves behind
 * (`cmd &` followed by `exit`, double-forking daemons) is re-parented to
 * Runner instead of init, so it can still be ended with its session and
 * does not linger as a zombie of a container's pid 1 that never reaps.
 *
 * Reaping must not steal the exit status of children that GLib watches
 * (GSubprocess, g_child_watch_add): GLib waits for each watched pid by itself,
 * from its worker thread, as soon as SIGCHLD arrives (or at once when the
 * watch is added after the death). GLib owns the SIGCHLD handler, so Runner
 * does not install one; instead a timer every REAPER_INTERVAL seconds:
 *  1. peeks with waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT), which reaps
 *     nothing; no zombie child, nothing to do (one system call);
 *  2. else lists its zombie children from /proc and reaps, with
 *     waitpid(pid, WNOHANG), only those that were already zombies at the
 *     previous tick. A watched child never stays a zombie that long, so what
 *     is left is an orphan no one waits for.
 * An orphan is thus gone within two intervals of its death.
 */

#define REAPER_INTERVAL 2

static gboolean    reaper_active;
static GHashTable *reaper_seen;   /* pid -> start time, zombies at the previous tick */

typedef struct
{
  GPid    pid;
  char    state;
  GPid    ppid;
  GPid    sid;
  guint64 start_time;  /* clock ticks after boot: tells a reused pid apart */
} ProcessInfo;

typedef void (*ProcessFunc) (const ProcessInfo *info,
                             gpointer           user_data);

/* Walks /proc. Only procfs, which lives in memory: it does not block the
 * main loop the way a disk would. */
static void
for_each_process (ProcessFunc func,
                  gpointer    user_data)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char path[64];
      g_autofree char *stat = NULL;
      const char *close_paren;
      ProcessInfo info;
      int ppid, pgrp, sid;
      unsigned long long start_time;

      if (!g_ascii_isdigit (name[0]))
        continue;

      g_snprintf (path, sizeof path, "/proc/%s/stat", name);
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;

      /* "pid (comm) state ppid pgrp session ... starttime(22)": comm may
       * hold anything, so parse after the last parenthesis */
      close_paren = strrchr (stat, ')');
      if (close_paren == NULL ||
          sscanf (close_paren + 1,
                  " %c %d %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                  &info.state, &ppid, &pgrp, &sid, &start_time) != 5)
        continue;

      info.pid = (GPid) g_ascii_strtoll (name, NULL, 10);
      info.ppid = ppid;
      info.sid = sid;
      info.start_time = start_time;
      func (&info, user_data);
    }
}

typedef struct
{
  GPid        self;
  GHashTable *zombies;
} ReapScan;

static void
reap_one (const ProcessInfo *info,
          gpointer           user_data)
{
  ReapScan *scan = user_data;
  const guint64 *seen_start;
  int status;

  if (info->ppid != scan->self || info->state != 'Z')
    return;

  seen_start = g_hash_table_lookup (reaper_seen, GINT_TO_POINTER (info->pid));
  if (seen_start == NULL || *seen_start != info->start_time)
    {
      g_hash_table_insert (scan->zombies, GINT_TO_POINTER (info->pid),
                           g_memdup2 (&info->start_time, sizeof info->start_time));
      return;
    }

  if (waitpid (info->pid, &status, WNOHANG) == info->pid)
    g_debug ("Reaped orphan %d (status %d)", info->pid, status);
}

/**
 * runner_reaper_check:
 *
 * Reaps orphans that have been zombies since the previous check. Runs by
 * itself on a timer once runner_reaper_init() was called.
 */
void
runner_reaper_check (void)
{
  siginfo_t info;
  ReapScan scan;

  if (!reaper_active)
    return;

  memset (&info, 0, sizeof info);
  if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0)
    {
      g_hash_table_remove_all (reaper_seen);
      return;
    }

  scan.self = getpid ();
  scan.zombies = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for_each_process (reap_one, &scan);
  g_hash_table_unref (reaper_seen);
  reaper_seen = scan.zombies;
}

static gboolean
on_reaper_tick (gpointer user_data)
{
  runner_reaper_check ();
  return G_SOURCE_CONTINUE;
}

/**
 * runner_reaper_init:
 *
 * Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER) and starts
 * reaping orphans on the default main context. Call once, early; further
 * calls do nothing.
 *
 * Returns: %TRUE when the process is a subreaper
 */
gboolean
runner_reaper_init (void)
{
  guint id;

  if (reaper_active)
    return TRUE;

  if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    {
      g_warning ("Cannot become a child subreaper: %s", g_strerror (errno));
      return FALSE;
    }

  reaper_active = TRUE;
  reaper_seen = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  id = g_timeout_add_seconds (REAPER_INTERVAL, on_reaper_tick, NULL);
  g_source_set_name_by_id (id, "[runner] orphan reaper");
  return TRUE;
}

gboolean
runner_reaper_is_active (void)
{
  return reaper_active;
}

typedef struct
{
  GPid  sid;
  int   signum;
  guint count;
} SignalScan;

static void
signal_one (const ProcessInfo *info,
            gpointer           user_data)
{
  SignalScan *scan = user_data;

  if (info->sid != scan->sid || info->state == 'Z')
    return;

  if (kill (info->pid, scan->signum) == 0)
    scan->count++;
}

/**
 * runner_reaper_signal_session:
 * @sid: a session id (the pid of its leader)
 * @signum: the signal
 *
 * Sends @signum to every live process of session @sid, whatever its process
 * group: jobs a shell started in the background have their own. Never
 * Runner's own session.
 *
 * Returns: how many processes were signalled
 */
guint
runner_reaper_signal_session (GPid sid,
                              int  signum)
{
  SignalScan scan = { sid, signum, 0 };

  g_return_val_if_fail (sid > 1, 0);

  if (sid == getsid (0))
    return 0;

  for_each_process (signal_one, &scan);
  return scan.count;
}
