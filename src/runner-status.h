/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

#include "runner-config.h"

G_BEGIN_DECLS

int runner_status_main (RunnerConfig  *config,
                        int            argc,
                        char         **argv);

G_END_DECLS
