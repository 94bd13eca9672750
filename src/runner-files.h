/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-broadcaster.h"
#include "runner-registry.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_FILES (runner_files_get_type ())

G_DECLARE_FINAL_TYPE (RunnerFiles, runner_files, RUNNER, FILES, GObject)

RunnerFiles *runner_files_new (RunnerWorkspace   *workspace,
                               RunnerBroadcaster *broadcaster,
                               RunnerRegistry    *registry);

G_END_DECLS
