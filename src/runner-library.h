/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One function a #RunnerLibrary resolves, and where its address goes. */
typedef struct
{
  const char *name;
  gpointer   *slot;
} RunnerLibrarySymbol;

/**
 * RUNNER_LIBRARY_SYMBOL:
 * @slot: the variable that receives the address
 * @symbol: the function, as the library's header declares it
 *
 * A #RunnerLibrarySymbol for @symbol, as systemd's DLSYM_ARG: the name comes
 * from the identifier itself, and @slot must be a pointer to @symbol's own
 * prototype, checked at compile time, so no cast can hide a mismatch.
 */
#define RUNNER_LIBRARY_SYMBOL(slot, symbol) \
  { #symbol, (gpointer *) &(slot) + 0 * sizeof (struct { \
      _Static_assert (__builtin_types_compatible_p (typeof (*(slot)), typeof (symbol)), \
                      "the slot for " #symbol " does not have its prototype"); \
      char unused; }) }

/* A version as one number, as curl's version_num: 0xMMmmpp. */
#define RUNNER_LIBRARY_VERSION(major, minor, micro) (((major) << 16) | ((minor) << 8) | (micro))

/**
 * RunnerLibrary:
 * @env: an environment variable that names another file to load, or %NULL
 * @soname: the library to load
 * @feature: (not nullable): what is missing without it, untranslated (N_())
 * @version_symbols: the functions @version needs, ending with a %NULL name;
 *   resolved first, so that a library too old to have the others still says
 *   how old it is
 * @version: the loaded library's version, as RUNNER_LIBRARY_VERSION()
 * @min_version: the oldest version Runner accepts
 * @symbols: the other functions to resolve, ending with a %NULL name
 * @init: (nullable): run once after loading; %FALSE fails the load
 *
 * A shared library loaded the first time it is needed, with
 * runner_library_load(), and then kept for the life of the process. Define
 * one as a static variable; the fields after @init are private. Its slots
 * are set only when all of this succeeded, else they stay %NULL and every
 * load fails with the same error.
 */
typedef struct
{
  const char                *env;
  const char                *soname;
  const char                *feature;
  const RunnerLibrarySymbol *version_symbols;
  guint                    (*version) (void);
  guint                      min_version;
  const RunnerLibrarySymbol *symbols;
  gboolean                 (*init) (void);

  /*< private >*/
  gsize                      once;
  char                      *failure;
} RunnerLibrary;

gboolean runner_library_load (RunnerLibrary  *library,
                              GError        **error);

G_END_DECLS
