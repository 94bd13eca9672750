/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _RunnerServer RunnerServer;

#define RUNNER_TYPE_FILES (runner_files_get_type ())

G_DECLARE_FINAL_TYPE (RunnerFiles, runner_files, RUNNER, FILES, GObject)

RunnerFiles *runner_files_new (RunnerServer *server);

G_END_DECLS
