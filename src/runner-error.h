/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RUNNER_ERROR (runner_error_quark ())

/**
 * RunnerError:
 * @RUNNER_ERROR_FAILED: anything else (wire code EIO)
 * @RUNNER_ERROR_FORBIDDEN: a path leaves the workspace, or an operation is refused (EACCES)
 * @RUNNER_ERROR_INVALID: bad arguments or a malformed request (EINVAL)
 * @RUNNER_ERROR_TOO_BIG: over a size cap (E2BIG)
 * @RUNNER_ERROR_AUTH: missing or wrong token (EAUTH)
 * @RUNNER_ERROR_UNKNOWN_EVENT: no handler for the event (ENOSYS)
 * @RUNNER_ERROR_LIMIT: a count limit (connections, terminals) is reached (ELIMIT)
 * @RUNNER_ERROR_NOT_FOUND: no such object (terminal id, ...) (ENOENT)
 * @RUNNER_ERROR_BUSY: the operation cannot run now (EBUSY)
 * @RUNNER_ERROR_UNAVAILABLE: a feature is off or absent (ENOTSUP)
 *
 * Errors of Runner itself. File system errors stay in %G_IO_ERROR; both map,
 * in one table, to a wire code, an HTTP status and a D-Bus error name.
 */
typedef enum
{
  RUNNER_ERROR_FAILED,
  RUNNER_ERROR_FORBIDDEN,
  RUNNER_ERROR_INVALID,
  RUNNER_ERROR_TOO_BIG,
  RUNNER_ERROR_AUTH,
  RUNNER_ERROR_UNKNOWN_EVENT,
  RUNNER_ERROR_LIMIT,
  RUNNER_ERROR_NOT_FOUND,
  RUNNER_ERROR_BUSY,
  RUNNER_ERROR_UNAVAILABLE,
} RunnerError;

/**
 * RunnerErrorEntry:
 * @domain: %RUNNER_ERROR or %G_IO_ERROR, as its quark function
 * @code: the code in @domain
 * @wire_code: the POSIX-like code `{error: {code, message}}` carries
 * @http_status: the status of an HTTP answer
 * @dbus_name: the D-Bus error name (one of Runner1.Error.*)
 *
 * One row of the error table.
 */
typedef struct
{
  GQuark      (*domain) (void);
  gint        code;
  const char *wire_code;
  guint       http_status;
  const char *dbus_name;
} RunnerErrorEntry;

GQuark                  runner_error_quark          (void);
const RunnerErrorEntry *runner_error_get_entries    (gsize        *n_entries);
const RunnerErrorEntry *runner_error_lookup         (const GError *error);
const char             *runner_error_to_code        (const GError *error);
guint                   runner_error_to_http_status (const GError *error);
const char             *runner_error_to_dbus_name   (const GError *error);

G_END_DECLS
