/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-workspace.h"

G_BEGIN_DECLS

/* Tests switch openat2(2) off to exercise the component-by-component walk. */
void     runner_workspace_set_use_openat2 (RunnerWorkspace *self,
                                           gboolean         use_openat2);
gboolean runner_workspace_get_use_openat2 (RunnerWorkspace *self);
/* ...and O_TMPFILE off to exercise named temporary files. */
void     runner_workspace_set_use_tmpfile (RunnerWorkspace *self,
                                           gboolean         use_tmpfile);

/* TRUE for the names of Runner's own temporary files (`.NAME.runner-XXXXXX`). */
gboolean runner_workspace_is_temp_name    (const char      *name);

G_END_DECLS
