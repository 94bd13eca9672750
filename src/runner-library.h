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
 * RunnerLibrary:
 * @env: an environment variable that names another file to load, or %NULL
 * @soname: the library to load
 * @feature: (not nullable): what is missing without it, untranslated (N_())
 * @symbols: the functions to resolve, ending with a %NULL name
 * @init: (nullable): run once after loading; %FALSE fails the load
 *
 * A shared library loaded the first time it is needed, with
 * runner_library_load(), and then kept for the life of the process. Define
 * one as a static variable; the fields after @init are private.
 */
typedef struct
{
  const char                *env;
  const char                *soname;
  const char                *feature;
  const RunnerLibrarySymbol *symbols;
  gboolean                 (*init) (void);

  /*< private >*/
  gsize                      once;
  char                      *failure;
} RunnerLibrary;

gboolean runner_library_load (RunnerLibrary  *library,
                              GError        **error);

G_END_DECLS
