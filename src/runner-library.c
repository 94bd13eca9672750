/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-library"

#include "config.h"

#include "runner-library.h"

#include <glib/gi18n.h>
#include <gmodule.h>

#include "runner-error.h"

static gboolean
resolve_all (const RunnerLibrarySymbol *symbols,
             GModule                   *module)
{
  for (const RunnerLibrarySymbol *s = symbols; s->name != NULL; s++)
    {
      if (!g_module_symbol (module, s->name, s->slot))
        return FALSE;
    }
  return TRUE;
}

static void
clear_all (const RunnerLibrarySymbol *symbols)
{
  for (const RunnerLibrarySymbol *s = symbols; s->name != NULL; s++)
    *s->slot = NULL;
}

/* Returns NULL on success, else why it failed. */
static char *
try_load (RunnerLibrary *library,
          const char    *name,
          GModule       *module)
{
  guint version;

  if (!resolve_all (library->version_symbols, module))
    return g_strdup_printf ("%s: %s", _(library->feature), g_module_error ());
  version = library->version ();
  if (version < library->min_version)
    return g_strdup_printf (_("%s: %s is version %u.%u.%u; Runner needs %u.%u.%u or later"),
                            _(library->feature), name,
                            version >> 16, (version >> 8) & 0xff, version & 0xff,
                            library->min_version >> 16, (library->min_version >> 8) & 0xff,
                            library->min_version & 0xff);
  if (!resolve_all (library->symbols, module))
    return g_strdup_printf ("%s: %s", _(library->feature), g_module_error ());
  /* Libraries register types and keep global state: never unloaded. */
  g_module_make_resident (module);
  if (library->init != NULL && !library->init ())
    return g_strdup_printf (_("%s: %s did not initialize"), _(library->feature), name);
  g_debug ("Loaded %s %u.%u.%u", name, version >> 16, (version >> 8) & 0xff, version & 0xff);
  return NULL;
}

/* Returns NULL on success, else why it failed. */
static char *
load_once (RunnerLibrary *library)
{
  const char *name = library->env != NULL ? g_getenv (library->env) : NULL;
  GModule *module;
  char *failure;

  if (name == NULL || *name == '\0')
    name = library->soname;

  module = g_module_open (name, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    failure = g_strdup_printf ("%s: %s", _(library->feature), g_module_error ());
  else
    failure = try_load (library, name, module);
  if (failure == NULL)
    return NULL;

  g_warning ("%s", failure);
  /* no half-filled table: every slot stays NULL */
  clear_all (library->version_symbols);
  clear_all (library->symbols);
  if (module != NULL)
    g_module_close (module);
  return failure;
}

/**
 * runner_library_load:
 * @library: a static #RunnerLibrary
 * @error: return location for a #GError
 *
 * Loads @library, checks its version, resolves its symbols and runs its init
 * function, if that has not been tried yet. Safe from any thread.
 *
 * Returns: %TRUE if the library is recent enough and every symbol is there,
 *   else %FALSE with %RUNNER_ERROR_UNAVAILABLE (wire code `ENOTSUP`) naming
 *   the library, the same on every later call
 */
gboolean
runner_library_load (RunnerLibrary  *library,
                     GError        **error)
{
  g_return_val_if_fail (library != NULL, FALSE);

  if (g_once_init_enter (&library->once))
    {
      library->failure = load_once (library);
      g_once_init_leave (&library->once, 1);
    }

  if (library->failure != NULL)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE, library->failure);
      return FALSE;
    }
  return TRUE;
}
