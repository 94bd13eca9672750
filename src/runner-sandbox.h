/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * RunnerSandboxOptions:
 * @workspace: absolute path, bound read-write at the same path; the working
 *   directory inside
 * @network: keep the host's network; when %FALSE only a private loopback exists
 * @new_session: run the command in a new session (setsid). Right for children
 *   without a terminal (it stops TIOCSTI injection into a shared one); wrong for
 *   a shell on its own pseudo-terminal, as it would lose its controlling tty
 *   and with it job control
 *
 * How runner_sandbox_wrap_argv() confines a command.
 */
typedef struct
{
  const char *workspace;
  gboolean    network;
  gboolean    new_session;
} RunnerSandboxOptions;

char  *runner_sandbox_find_bwrap (GError                     **error);
char **runner_sandbox_wrap_argv  (const RunnerSandboxOptions  *options,
                                  const char * const          *argv,
                                  GError                     **error);

G_END_DECLS
