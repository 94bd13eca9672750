/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-curl"

#include "config.h"

#include "runner-curl.h"

#include <glib/gi18n.h>

#include "runner-library.h"

/* The oldest libcurl Runner is built against (meson.build): keep in step. */
#define MIN_VERSION RUNNER_LIBRARY_VERSION (7, 75, 0)

static RunnerCurl api;
static typeof (curl_version_info) *version_info;
static typeof (curl_global_init) *global_init;

#define CURL_SYMBOL(name) RUNNER_LIBRARY_SYMBOL (api.name, curl_##name)

static const RunnerLibrarySymbol version_symbols[] = {
  RUNNER_LIBRARY_SYMBOL (version_info, curl_version_info),
  { NULL, NULL },
};

static const RunnerLibrarySymbol curl_symbols[] = {
  RUNNER_LIBRARY_SYMBOL (global_init, curl_global_init),
  CURL_SYMBOL (easy_init),
  CURL_SYMBOL (easy_cleanup),
  CURL_SYMBOL (easy_reset),
  CURL_SYMBOL (easy_setopt),
  CURL_SYMBOL (easy_perform),
  CURL_SYMBOL (easy_getinfo),
  CURL_SYMBOL (easy_strerror),
  CURL_SYMBOL (slist_append),
  CURL_SYMBOL (slist_free_all),
  { NULL, NULL },
};

static guint
loaded_version (void)
{
  return version_info (CURLVERSION_NOW)->version_num;
}

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
  .version_symbols = version_symbols,
  .version = loaded_version,
  .min_version = MIN_VERSION,
  .symbols = curl_symbols,
  .init = init_curl,
};

/**
 * runner_curl_load:
 * @error: return location for a #GError
 *
 * Loads libcurl, checks that it is 7.75.0 or later and calls
 * curl_global_init(), if that has not been tried yet. Safe from any thread.
 *
 * Returns: (transfer none) (nullable): the libcurl functions, or %NULL with
 *   %RUNNER_ERROR_UNAVAILABLE (the same on every later call)
 */
const RunnerCurl *
runner_curl_load (GError **error)
{
  if (!runner_library_load (&curl_library, error))
    return NULL;
  return &api;
}

/**
 * runner_curl_easy_cleanup:
 * @curl: (nullable): an easy handle
 *
 * curl_easy_cleanup(), as a #GDestroyNotify for handles made with the table
 * of runner_curl_load().
 */
void
runner_curl_easy_cleanup (CURL *curl)
{
  if (curl != NULL)
    api.easy_cleanup (curl);
}
