/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-curl"

#include "config.h"

#include "runner-curl.h"

#include <glib/gi18n.h>

#include "runner-library.h"

static RunnerCurl api;
static typeof (curl_global_init) *global_init;

static const RunnerLibrarySymbol curl_symbols[] = {
  { "curl_global_init", (gpointer *) &global_init },
  { "curl_easy_init", (gpointer *) &api.easy_init },
  { "curl_easy_cleanup", (gpointer *) &api.easy_cleanup },
  { "curl_easy_reset", (gpointer *) &api.easy_reset },
  { "curl_easy_setopt", (gpointer *) &api.easy_setopt },
  { "curl_easy_perform", (gpointer *) &api.easy_perform },
  { "curl_easy_getinfo", (gpointer *) &api.easy_getinfo },
  { "curl_easy_strerror", (gpointer *) &api.easy_strerror },
  { "curl_slist_append", (gpointer *) &api.slist_append },
  { "curl_slist_free_all", (gpointer *) &api.slist_free_all },
  { NULL, NULL },
};

/* curl's global state (the TLS libraries) stays for the process. */
static gboolean
init_curl (void)
{
  return global_init (CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static RunnerLibrary curl_library = {
  .env = "RUNNER_CURL_LIBRARY",
  .soname = "libcurl.so.4",
  .feature = N_("S3 sync is unavailable"),
  .symbols = curl_symbols,
  .init = init_curl,
};

/**
 * runner_curl_load:
 * @error: return location for a #GError
 *
 * Loads libcurl and calls curl_global_init() if that has not been tried
 * yet. Safe from any thread.
 *
 * Returns: %TRUE if runner_curl() may be used, else %FALSE with
 *   %RUNNER_ERROR_UNAVAILABLE (the same on every later call)
 */
gboolean
runner_curl_load (GError **error)
{
  return runner_library_load (&curl_library, error);
}

/**
 * runner_curl:
 *
 * The libcurl functions; only after runner_curl_load() succeeded.
 *
 * Returns: (transfer none): the table
 */
const RunnerCurl *
runner_curl (void)
{
  g_return_val_if_fail (api.easy_init != NULL, &api);

  return &api;
}

/**
 * runner_curl_easy_cleanup:
 * @curl: (nullable): an easy handle
 *
 * curl_easy_cleanup(), as a #GDestroyNotify for handles of runner_curl().
 */
void
runner_curl_easy_cleanup (CURL *curl)
{
  if (curl != NULL)
    api.easy_cleanup (curl);
}
