/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean runner_reaper_init           (void);
gboolean runner_reaper_is_active      (void);
void     runner_reaper_check          (void);
guint    runner_reaper_signal_session (GPid sid,
                                       int  signum);

G_END_DECLS
