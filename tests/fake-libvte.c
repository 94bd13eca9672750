/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */

/* A stand-in for libvte, for test-library: its version is FAKE_MAJOR.
 * FAKE_MINOR.0; the VtePty functions are there only with FAKE_COMPLETE.
 * Nothing here is ever called to make a terminal. */

#include <vte/vte.h>

guint vte_get_major_version (void) { return FAKE_MAJOR; }
guint vte_get_minor_version (void) { return FAKE_MINOR; }
guint vte_get_micro_version (void) { return 0; }

#ifdef FAKE_COMPLETE
VtePty *vte_pty_new_sync (VtePtyFlags flags, GCancellable *cancellable, GError **error) { return NULL; }
int vte_pty_get_fd (VtePty *pty) { return -1; }
gboolean vte_pty_set_size (VtePty *pty, int rows, int columns, GError **error) { return FALSE; }
#endif
