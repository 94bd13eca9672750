/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-vte"

#include "config.h"

#include "runner-vte.h"

#include <glib/gi18n.h>

#include "runner-library.h"

/* The oldest VTE Runner is built against (meson.build): keep in step. */
#define MIN_VERSION RUNNER_LIBRARY_VERSION (0, 70, 0)

/* The prototypes come from VTE's headers, so a call through these pointers
 * is checked as a direct call would be. */
typedef struct
{
  typeof (vte_get_major_version) *get_major_version;
  typeof (vte_get_minor_version) *get_minor_version;
  typeof (vte_get_micro_version) *get_micro_version;
  typeof (vte_pty_new_sync)      *pty_new_sync;
  typeof (vte_pty_get_fd)        *pty_get_fd;
  typeof (vte_pty_set_size)      *pty_set_size;
} VteFuncs;

static VteFuncs vte;

#define VTE_SYMBOL(name) RUNNER_LIBRARY_SYMBOL (vte.name, vte_##name)

static const RunnerLibrarySymbol version_symbols[] = {
  VTE_SYMBOL (get_major_version),
  VTE_SYMBOL (get_minor_version),
  VTE_SYMBOL (get_micro_version),
  { NULL, NULL },
};

static const RunnerLibrarySymbol vte_symbols[] = {
  VTE_SYMBOL (pty_new_sync),
  VTE_SYMBOL (pty_get_fd),
  VTE_SYMBOL (pty_set_size),
  { NULL, NULL },
};

static guint
loaded_version (void)
{
  return RUNNER_LIBRARY_VERSION (MIN (vte.get_major_version (), 255),
                                 MIN (vte.get_minor_version (), 255),
                                 MIN (vte.get_micro_version (), 255));
}

static RunnerLibrary vte_library = {
  .env = "RUNNER_VTE_LIBRARY",
  .soname = "libvte-2.91.so.0",
  .feature = N_("Terminals are unavailable"),
  .version_symbols = version_symbols,
  .version = loaded_version,
  .min_version = MIN_VERSION,
  .symbols = vte_symbols,
};

/**
 * runner_vte_load:
 * @error: return location for a #GError
 *
 * Loads libvte and checks that it is 0.70 or later, if that has not been
 * tried yet. Safe from any thread.
 *
 * Returns: %TRUE if the VtePty functions are there, else %FALSE with
 *   %RUNNER_ERROR_UNAVAILABLE (the same on every later call)
 */
gboolean
runner_vte_load (GError **error)
{
  return runner_library_load (&vte_library, error);
}

/**
 * runner_vte_pty_new_sync:
 *
 * vte_pty_new_sync(), after loading libvte.
 *
 * Returns: (transfer full) (nullable): a new #VtePty, or %NULL with @error set
 */
VtePty *
runner_vte_pty_new_sync (VtePtyFlags    flags,
                         GCancellable  *cancellable,
                         GError       **error)
{
  if (!runner_vte_load (error))
    return NULL;
  return vte.pty_new_sync (flags, cancellable, error);
}

/**
 * runner_vte_pty_get_fd:
 * @pty: a #VtePty from runner_vte_pty_new_sync()
 *
 * Returns: the master file descriptor, owned by @pty
 */
int
runner_vte_pty_get_fd (VtePty *pty)
{
  g_return_val_if_fail (pty != NULL, -1);
  g_return_val_if_fail (vte.pty_get_fd != NULL, -1);

  return vte.pty_get_fd (pty);
}

/**
 * runner_vte_pty_set_size:
 * @pty: a #VtePty from runner_vte_pty_new_sync()
 *
 * vte_pty_set_size().
 *
 * Returns: %TRUE on success, else %FALSE with @error set
 */
gboolean
runner_vte_pty_set_size (VtePty   *pty,
                         int       rows,
                         int       columns,
                         GError  **error)
{
  g_return_val_if_fail (pty != NULL, FALSE);
  g_return_val_if_fail (vte.pty_set_size != NULL, FALSE);

  return vte.pty_set_size (pty, rows, columns, error);
}
