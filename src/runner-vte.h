/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>
#include <vte/vte.h>

G_BEGIN_DECLS

/*
 * The part of VTE that Runner uses (VtePty), loaded on first use: libvte
 * links GTK and some eighty other libraries, which a daemon that never opens
 * a terminal should not pay for. The binary is built against VTE's headers
 * only; each call below loads the library once (RUNNER_VTE_LIBRARY names
 * another file) and fails with %RUNNER_ERROR_UNAVAILABLE if it is missing.
 */

gboolean  runner_vte_load               (GError       **error);
VtePty   *runner_vte_pty_new_sync       (VtePtyFlags    flags,
                                         GCancellable  *cancellable,
                                         GError       **error);
int       runner_vte_pty_get_fd         (VtePty        *pty);
gboolean  runner_vte_pty_set_size       (VtePty        *pty,
                                         int            rows,
                                         int            columns,
                                         GError       **error);

G_END_DECLS
