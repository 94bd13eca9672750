/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-error"

#include "config.h"

#include "runner-error.h"

#define DBUS_PREFIX "io.github.runner.Runner1.Error."

/*
 * The one map from errors to what peers see: the wire code of
 * `{error: {code, message}}` (Socket.IO, WebSocket, HTTP bodies), the HTTP
 * status and the D-Bus error name. RUNNER_ERROR rows come first, in the order
 * of the enum (their D-Bus names are registered from here); a G_IO_ERROR code
 * shares the wire code and D-Bus name of the Runner error it means. Anything
 * not in the table is the first row, EIO.
 */
static const RunnerErrorEntry entries[] = {
  { runner_error_quark, RUNNER_ERROR_FAILED, "EIO", 500, DBUS_PREFIX "Failed" },
  { runner_error_quark, RUNNER_ERROR_FORBIDDEN, "EACCES", 403, DBUS_PREFIX "Forbidden" },
  { runner_error_quark, RUNNER_ERROR_INVALID, "EINVAL", 400, DBUS_PREFIX "Invalid" },
  { runner_error_quark, RUNNER_ERROR_TOO_BIG, "E2BIG", 413, DBUS_PREFIX "TooBig" },
  { runner_error_quark, RUNNER_ERROR_AUTH, "EAUTH", 401, DBUS_PREFIX "Auth" },
  { runner_error_quark, RUNNER_ERROR_UNKNOWN_EVENT, "ENOSYS", 404, DBUS_PREFIX "UnknownEvent" },
  { runner_error_quark, RUNNER_ERROR_LIMIT, "ELIMIT", 503, DBUS_PREFIX "Limit" },
  { runner_error_quark, RUNNER_ERROR_NOT_FOUND, "ENOENT", 404, DBUS_PREFIX "NotFound" },
  { runner_error_quark, RUNNER_ERROR_BUSY, "EBUSY", 409, DBUS_PREFIX "Busy" },
  { runner_error_quark, RUNNER_ERROR_UNAVAILABLE, "ENOTSUP", 501, DBUS_PREFIX "Unavailable" },

  { g_io_error_quark, G_IO_ERROR_NOT_FOUND, "ENOENT", 404, DBUS_PREFIX "NotFound" },
  { g_io_error_quark, G_IO_ERROR_EXISTS, "EEXIST", 409, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_IS_DIRECTORY, "EISDIR", 409, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_NOT_DIRECTORY, "ENOTDIR", 409, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_NOT_EMPTY, "ENOTEMPTY", 409, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_PERMISSION_DENIED, "EACCES", 403, DBUS_PREFIX "Forbidden" },
  { g_io_error_quark, G_IO_ERROR_INVALID_ARGUMENT, "EINVAL", 400, DBUS_PREFIX "Invalid" },
  { g_io_error_quark, G_IO_ERROR_INVALID_FILENAME, "EINVAL", 400, DBUS_PREFIX "Invalid" },
  { g_io_error_quark, G_IO_ERROR_INVALID_DATA, "EINVAL", 400, DBUS_PREFIX "Invalid" },
  { g_io_error_quark, G_IO_ERROR_FILENAME_TOO_LONG, "ENAMETOOLONG", 400, DBUS_PREFIX "Invalid" },
  { g_io_error_quark, G_IO_ERROR_NO_SPACE, "ENOSPC", 507, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_TOO_MANY_LINKS, "ELOOP", 400, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_READ_ONLY, "EROFS", 403, DBUS_PREFIX "Forbidden" },
  { g_io_error_quark, G_IO_ERROR_BUSY, "EBUSY", 409, DBUS_PREFIX "Busy" },
  { g_io_error_quark, G_IO_ERROR_TIMED_OUT, "ETIMEDOUT", 504, DBUS_PREFIX "Failed" },
  { g_io_error_quark, G_IO_ERROR_CANCELLED, "ECANCELED", 503, DBUS_PREFIX "Unavailable" },
  { g_io_error_quark, G_IO_ERROR_NOT_SUPPORTED, "ENOTSUP", 501, DBUS_PREFIX "Unavailable" },
  { g_io_error_quark, G_IO_ERROR_MESSAGE_TOO_LARGE, "E2BIG", 413, DBUS_PREFIX "TooBig" },
};

GQuark
runner_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark))
    {
      GQuark q = g_quark_from_static_string ("runner-error-quark");

      /* The RUNNER_ERROR rows, whose domain is this very function. */
      for (guint i = 0; i < G_N_ELEMENTS (entries) && entries[i].domain != g_io_error_quark; i++)
        g_dbus_error_register_error (q, entries[i].code, entries[i].dbus_name);
      g_once_init_leave (&quark, q);
    }
  return (GQuark) quark;
}

/**
 * runner_error_get_entries:
 * @n_entries: (out): how many rows
 *
 * Returns: (transfer none): the error table
 */
const RunnerErrorEntry *
runner_error_get_entries (gsize *n_entries)
{
  g_return_val_if_fail (n_entries != NULL, NULL);

  *n_entries = G_N_ELEMENTS (entries);
  return entries;
}

/**
 * runner_error_lookup:
 * @error: a #GError
 *
 * Returns: (transfer none): the row of @error, the EIO row for an error
 *   that has none
 */
const RunnerErrorEntry *
runner_error_lookup (const GError *error)
{
  g_return_val_if_fail (error != NULL, &entries[0]);

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    if (error->domain == entries[i].domain () && error->code == entries[i].code)
      return &entries[i];
  return &entries[0];
}

/**
 * runner_error_to_code:
 * @error: a #GError
 *
 * Returns: the code the wire protocol carries in `{error: {code, message}}`,
 *   a static string such as "ENOENT"
 */
const char *
runner_error_to_code (const GError *error)
{
  g_return_val_if_fail (error != NULL, "EIO");
  return runner_error_lookup (error)->wire_code;
}

/**
 * runner_error_to_http_status:
 * @error: a #GError
 *
 * Returns: the status of an HTTP answer carrying @error
 */
guint
runner_error_to_http_status (const GError *error)
{
  g_return_val_if_fail (error != NULL, 500);
  return runner_error_lookup (error)->http_status;
}

/**
 * runner_error_to_dbus_name:
 * @error: a #GError
 *
 * Returns: the D-Bus error name for @error, one of
 *   io.github.runner.Runner1.Error.*
 */
const char *
runner_error_to_dbus_name (const GError *error)
{
  g_return_val_if_fail (error != NULL, entries[0].dbus_name);
  return runner_error_lookup (error)->dbus_name;
}
