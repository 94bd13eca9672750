/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */

/* A stand-in for libcurl, for test-library: curl_version_info() says
 * FAKE_VERSION; the rest of what Runner resolves is there only with
 * FAKE_COMPLETE. Nothing here is ever called for a transfer. */

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

curl_version_info_data *
curl_version_info (CURLversion stamp)
{
  static curl_version_info_data data;

  data.age = CURLVERSION_NOW;
  data.version = FAKE_VERSION_STRING;
  data.version_num = FAKE_VERSION;
  return &data;
}

#ifdef FAKE_COMPLETE
CURLcode curl_global_init (long flags) { return CURLE_OK; }
CURL *curl_easy_init (void) { return NULL; }
void curl_easy_cleanup (CURL *curl) { }
void curl_easy_reset (CURL *curl) { }
CURLcode curl_easy_setopt (CURL *curl, CURLoption option, ...) { return CURLE_FAILED_INIT; }
CURLcode curl_easy_perform (CURL *curl) { return CURLE_FAILED_INIT; }
CURLcode curl_easy_getinfo (CURL *curl, CURLINFO info, ...) { return CURLE_FAILED_INIT; }
const char *curl_easy_strerror (CURLcode code) { return "fake"; }
struct curl_slist *curl_slist_append (struct curl_slist *list, const char *text) { return list; }
void curl_slist_free_all (struct curl_slist *list) { }
#endif
