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

GHashTable *runner_reaper_tracked_new    (void);
guint       runner_reaper_track          (GHashTable *tracked,
                                          GPid        root);
guint       runner_reaper_signal_tracked (GHashTable *tracked,
                                          int         signum);

G_END_DECLS
