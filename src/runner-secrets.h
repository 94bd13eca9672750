/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void        runner_secrets_protect_process (void);
void        runner_secrets_take_environ    (char       **envp);
const char *runner_secrets_getenv          (const char  *name);

G_END_DECLS
