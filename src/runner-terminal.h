/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

#include "runner-client.h"
#include "runner-config.h"
#include "runner-enums.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_TERMINAL (runner_terminal_get_type ())

G_DECLARE_FINAL_TYPE (RunnerTerminal, runner_terminal, RUNNER, TERMINAL, GObject)

#define RUNNER_TERMINAL_MIN_SIZE 1
#define RUNNER_TERMINAL_MAX_SIZE 1000

/**
 * RunnerTerminalState:
 * @RUNNER_TERMINAL_STATE_RUNNING: the shell runs
 * @RUNNER_TERMINAL_STATE_EXITED: the shell has exited (its output may still
 *   be read and replayed)
 */
typedef enum
{
  RUNNER_TERMINAL_STATE_RUNNING,  /*< nick=running >*/
  RUNNER_TERMINAL_STATE_EXITED,   /*< nick=exited >*/
} RunnerTerminalState;

/**
 * RunnerTerminalOptions:
 * @shell: the program to run; %NULL for $SHELL, else bash, else sh
 * @cwd: the working directory (the workspace root)
 * @scrollback: bytes of output kept for replay
 * @sandbox: run the shell under bubblewrap
 * @sandbox_network: let the sandboxed shell reach the network
 * @cols: columns, 1 to %RUNNER_TERMINAL_MAX_SIZE
 * @rows: rows, likewise
 * @start_seq: the offset the output stream starts at
 *
 * What a new terminal is made with. runner_terminal_options_init() fills it
 * from a #RunnerConfig.
 */
typedef struct
{
  const char        *shell;
  const char        *cwd;
  gsize              scrollback;
  RunnerSandboxMode  sandbox;
  gboolean           sandbox_network;
  const RunnerUser  *user;        /* nullable: Runner's own */
  guint              cols;
  guint              rows;
  guint64            start_seq;
} RunnerTerminalOptions;

void            runner_terminal_options_init    (RunnerTerminalOptions        *options,
                                                 const RunnerConfig           *config,
                                                 const char                   *cwd);

RunnerTerminal *runner_terminal_new             (const char                   *id,
                                                 const RunnerTerminalOptions  *options,
                                                 GError                      **error);
const char     *runner_terminal_get_id          (RunnerTerminal               *self);
GPid            runner_terminal_get_pid         (RunnerTerminal               *self);
guint           runner_terminal_get_cols        (RunnerTerminal               *self);
guint           runner_terminal_get_rows        (RunnerTerminal               *self);
RunnerTerminalState runner_terminal_get_state  (RunnerTerminal               *self);
gboolean        runner_terminal_is_alive        (RunnerTerminal               *self);
guint64         runner_terminal_get_seq         (RunnerTerminal               *self);
gboolean        runner_terminal_get_exit_status (RunnerTerminal               *self,
                                                 int                          *code,
                                                 int                          *signum);
JsonNode       *runner_terminal_describe        (RunnerTerminal               *self);

gboolean        runner_terminal_write           (RunnerTerminal               *self,
                                                 const char                   *data,
                                                 gsize                         len,
                                                 GError                      **error);
gboolean        runner_terminal_resize          (RunnerTerminal               *self,
                                                 guint                         cols,
                                                 guint                         rows,
                                                 GError                      **error);
void            runner_terminal_close           (RunnerTerminal               *self);
void            runner_terminal_kill            (RunnerTerminal               *self);
gboolean        runner_terminal_is_closed       (RunnerTerminal               *self);

gboolean        runner_terminal_attach          (RunnerTerminal               *self,
                                                 RunnerClient                 *client,
                                                 gint64                        since,
                                                 guint64                      *from,
                                                 guint64                      *missed,
                                                 GError                      **error);
void            runner_terminal_follow          (RunnerTerminal               *self,
                                                 RunnerClient                 *client);
gboolean        runner_terminal_detach          (RunnerTerminal               *self,
                                                 RunnerClient                 *client);
gboolean        runner_terminal_has_client      (RunnerTerminal               *self,
                                                 RunnerClient                 *client);
guint           runner_terminal_get_n_clients   (RunnerTerminal               *self);

G_END_DECLS
