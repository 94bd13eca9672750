/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>
#include <curl/curl.h>

G_BEGIN_DECLS

/*
 * The part of libcurl that S3 sync uses, loaded when the first S3 client is
 * made: libcurl pulls in OpenSSL, GnuTLS, LDAP, SSH, RTMP and more, which a
 * daemon without S3 sync should not map. The binary is built against curl's
 * headers only, so every pointer below has curl's own prototype (checked
 * where it is resolved, RUNNER_LIBRARY_SYMBOL()). The table is only ever
 * handed out by a load that succeeded.
 */
typedef struct
{
  typeof (curl_easy_init)      *easy_init;
  typeof (curl_easy_cleanup)   *easy_cleanup;
  typeof (curl_easy_reset)     *easy_reset;
  typeof (curl_easy_setopt)    *easy_setopt;
  typeof (curl_easy_perform)   *easy_perform;
  typeof (curl_easy_getinfo)   *easy_getinfo;
  typeof (curl_easy_strerror)  *easy_strerror;
  typeof (curl_slist_append)   *slist_append;
  typeof (curl_slist_free_all) *slist_free_all;
} RunnerCurl;

const RunnerCurl *runner_curl_load          (GError **error);
void              runner_curl_easy_cleanup  (CURL    *curl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, runner_curl_easy_cleanup)

G_END_DECLS
