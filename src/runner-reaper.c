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

/* Reads /proc/@name/stat. */
static gboolean
read_process (const char  *name,
              ProcessInfo *info)
{
  char path[64];
  g_autofree char *stat = NULL;
  const char *close_paren;
  int ppid, pgrp, sid;
  unsigned long long start_time;

  g_snprintf (path, sizeof path, "/proc/%s/stat", name);
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;

  /* "pid (comm) state ppid pgrp session ... starttime(22)": comm may
   * hold anything, so parse after the last parenthesis */
  close_paren = strrchr (stat, ')');
  if (close_paren == NULL ||
      sscanf (close_paren + 1,
              " %c %d %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
              &info->state, &ppid, &pgrp, &sid, &start_time) != 5)
    return FALSE;

  info->pid = (GPid) g_ascii_strtoll (name, NULL, 10);
  info->ppid = ppid;
  info->sid = sid;
  info->start_time = start_time;
  return TRUE;
}

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
      ProcessInfo info;

      if (g_ascii_isdigit (name[0]) && read_process (name, &info))
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

static void
collect_one (const ProcessInfo *info,
             gpointer           user_data)
{
  g_array_append_val ((GArray *) user_data, *info);
}

/**
 * runner_reaper_tracked_new:
 *
 * Returns: (transfer full): an empty set for runner_reaper_track(): pid to
 *   start time, which tells a process apart from a later one with its pid
 */
GHashTable *
runner_reaper_tracked_new (void)
{
  return g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

static gboolean
is_tracked (GHashTable        *tracked,
            const ProcessInfo *info)
{
  const guint64 *start_time = g_hash_table_lookup (tracked, GINT_TO_POINTER (info->pid));

  return start_time != NULL && *start_time == info->start_time;
}

/**
 * runner_reaper_track:
 * @tracked: a set from runner_reaper_tracked_new()
 * @root: a live process whose descendants and session to add, or 0
 *
 * Brings @tracked up to date in one walk of /proc: adds the descendants of
 * @root, the members of its session, and the descendants of processes
 * already tracked, which keep their place after their parent died and they
 * were re-parented to Runner (setsid and double forks escape a session, not
 * their ancestry); drops processes that are gone. Tracked zombies that are
 * Runner's own children are orphans no one else waits for: they are reaped.
 * @root itself is never tracked, nor Runner.
 *
 * Pass @root only while it runs (or is an unreaped zombie): a pid that was
 * reaped may be reused by a stranger.
 *
 * Returns: how many tracked processes are alive
 */
guint
runner_reaper_track (GHashTable *tracked,
                     GPid        root)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (ProcessInfo));
  g_autoptr(GHashTable) present = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer key;
  GPid self = getpid ();
  gboolean grew = TRUE;
  guint alive = 0;

  g_return_val_if_fail (tracked != NULL, 0);

  for_each_process (collect_one, all);

  /* what is gone, or is another process by now, is forgotten */
  for (guint i = 0; i < all->len; i++)
    {
      ProcessInfo *info = &g_array_index (all, ProcessInfo, i);

      if (is_tracked (tracked, info))
        g_hash_table_add (present, GINT_TO_POINTER (info->pid));
    }
  g_hash_table_iter_init (&iter, tracked);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (present, key))
      g_hash_table_iter_remove (&iter);

  /* the tree, to a fixed point: a walk lists parents and children in no
   * particular order */
  while (grew)
    {
      grew = FALSE;
      for (guint i = 0; i < all->len; i++)
        {
          ProcessInfo *info = &g_array_index (all, ProcessInfo, i);

          if (info->pid == root || info->pid == self || info->pid <= 1 ||
              g_hash_table_contains (tracked, GINT_TO_POINTER (info->pid)))
            continue;

          if ((root > 0 && (info->ppid == root || info->sid == root)) ||
              g_hash_table_contains (tracked, GINT_TO_POINTER (info->ppid)))
            {
              g_hash_table_insert (tracked, GINT_TO_POINTER (info->pid),
                                   g_memdup2 (&info->start_time, sizeof info->start_time));
              grew = TRUE;
            }
        }
    }

  for (guint i = 0; i < all->len; i++)
    {
      ProcessInfo *info = &g_array_index (all, ProcessInfo, i);
      int status;

      if (!is_tracked (tracked, info))
        continue;
      if (info->state != 'Z')
        alive++;
      else if (info->ppid == self && waitpid (info->pid, &status, WNOHANG) == info->pid)
        {
          g_debug ("Reaped %d (status %d)", info->pid, status);
          g_hash_table_remove (tracked, GINT_TO_POINTER (info->pid));
        }
    }

  return alive;
}

/**
 * runner_reaper_signal_tracked:
 * @tracked: a set from runner_reaper_track()
 * @signum: the signal
 *
 * Sends @signum to every tracked process that still runs (checked by its
 * start time, so that a reused pid is left alone).
 *
 * Returns: how many processes were signalled
 */
guint
runner_reaper_signal_tracked (GHashTable *tracked,
                              int         signum)
{
  GHashTableIter iter;
  gpointer key, value;
  guint count = 0;

  g_return_val_if_fail (tracked != NULL, 0);

  g_hash_table_iter_init (&iter, tracked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      char name[16];
      ProcessInfo info;

      g_snprintf (name, sizeof name, "%d", GPOINTER_TO_INT (key));
      if (read_process (name, &info) && info.start_time == *(guint64 *) value &&
          info.state != 'Z' && kill (info.pid, signum) == 0)
        count++;
    }
  return count;
}
