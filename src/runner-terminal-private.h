/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-ring.h"
#include "runner-terminal.h"
#include "runner-vte.h"

G_BEGIN_DECLS

/*
 * RunnerTerminal spans several files sharing this header, each owning one
 * concern:
 *   runner-terminal.c         the object: properties, signals, state,
 *                             constructors, input, resizing, closing
 *   runner-terminal-spawn.c   the child: shell, environment, pty, child
 *                             setup, sandbox, spawning, the child watch and
 *                             the signals sent to its session
 *   runner-terminal-output.c  the output path: reads, coalescing, the ring,
 *                             frames, client cursors, flow control
 */

#define CHUNK_SIZE         65536          /* raw bytes per terminal:data, at most */

typedef struct
{
  RunnerClient *client;     /* owned */
  guint64       cursor;
  gulong        drained_id;
  gulong        closed_id;
  gboolean      blocked;
  gboolean      exit_sent;
  gboolean      dead;
} Subscriber;

struct _RunnerTerminal
{
  GObject        parent_instance;

  char          *id;
  char          *id_json;        /* the id as a JSON string */
  VtePty        *pty;            /* owned; holds the master */
  int            master_fd;      /* borrowed from pty, -1 once closed */
  GSubprocess   *subprocess;     /* owned */
  GPid           pid;
  guint          cols;
  guint          rows;
  GCancellable  *cancellable;    /* owned; cancelled in dispose */

  RunnerRing    *ring;           /* owned */
  guint64        start_seq;
  gsize          flush_size;     /* flush at once with this much pending */
  guint          read_source;
  gboolean       paused;         /* every attached client is full */
  gboolean       eof;

  GSource       *flush_source;   /* owned; ready time -1 when idle */
  guint64        flushed_head;

  GByteArray    *input;          /* owned; keystrokes the pty did not take yet */
  guint          write_source;
  guint          hold_source;    /* input waits for the shell's first output */

  GPtrArray     *subscribers;    /* owned, of Subscriber */
  guint          pumping;

  RunnerMessage *cached;         /* owned; the last terminal:data built */
  guint64        cached_from;
  guint64        cached_end;

  gboolean       exited;
  int            exit_code;
  int            exit_signal;
  guint64        exit_seq;

  gboolean       closing;
  gboolean       finished;
  gboolean       killed;         /* SIGKILL was sent */
  gint64         close_time;
  guint          close_source;
  GHashTable    *tracked;        /* owned; what was started in it (runner_reaper_track()) */
};


/* ---------------------------------------------------------------- runner-terminal.c */

void     runner_terminal_emit_exited       (RunnerTerminal              *self);
void     runner_terminal_finish_close      (RunnerTerminal              *self);

/* ---------------------------------------------------------------- runner-terminal-spawn.c */

gboolean runner_terminal_spawn             (RunnerTerminal              *self,
                                            const RunnerTerminalOptions *options,
                                            GError                     **error);
void     runner_terminal_hang_up_session   (RunnerTerminal              *self);
void     runner_terminal_kill_everything   (RunnerTerminal              *self);
gboolean runner_terminal_everything_ended  (RunnerTerminal              *self);

/* ---------------------------------------------------------------- runner-terminal-output.c */

void     runner_terminal_subscriber_free   (gpointer                     data);
void     runner_terminal_sweep_subscribers (RunnerTerminal              *self);
void     runner_terminal_flush             (RunnerTerminal              *self);
void     runner_terminal_read_available    (RunnerTerminal              *self,
                                            gsize                        budget,
                                            gboolean                     drain);
void     runner_terminal_stop_reading      (RunnerTerminal              *self);
void     runner_terminal_update_reading    (RunnerTerminal              *self);

/* runner-terminal.c: input written before the shell first spoke */
void     runner_terminal_hold_input      (RunnerTerminal *self);
void     runner_terminal_release_input   (RunnerTerminal *self);

G_END_DECLS
