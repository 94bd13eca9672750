/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-error"

#include "config.h"

#include "runner-error.h"

static const GDBusErrorEntry runner_error_entries[] = {
  { RUNNER_ERROR_FAILED, "io.github.runner.Runner1.Error.Failed" },
  { RUNNER_ERROR_FORBIDDEN, "io.github.runner.Runner1.Error.Forbidden" },
  { RUNNER_ERROR_INVALID, "io.github.runner.Runner1.Error.Invalid" },
  { RUNNER_ERROR_TOO_BIG, "io.github.runner.Runner1.Error.TooBig" },
  { RUNNER_ERROR_AUTH, "io.github.runner.Runner1.Error.Auth" },
  { RUNNER_ERROR_UNKNOWN_EVENT, "io.github.runner.Runner1.Error.UnknownEvent" },
  { RUNNER_ERROR_LIMIT, "io.github.runner.Runner1.Error.Limit" },
  { RUNNER_ERROR_NOT_FOUND, "io.github.runner.Runner1.Error.NotFound" },
  { RUNNER_ERROR_BUSY, "io.github.runner.Runner1.Error.Busy" },
  { RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable" },
};

GQuark
runner_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("runner-error-quark", &quark, runner_error_entries,
                                      G_N_ELEMENTS (runner_error_entries));
  return (GQuark) quark;
}

/**
 * runner_error_to_code:
 * @error: a #GError
 *
 * Maps an error to the POSIX-like code the wire protocol carries in
 * `{error: {code, message}}`.
 *
 * Returns: a static string such as "ENOENT"
 */
const char *
runner_error_to_code (const GError *error)
{
  g_return_val_if_fail (error != NULL, "EIO");

  if (error->domain == RUNNER_ERROR)
    {
      switch ((RunnerError) error->code)
        {
        case RUNNER_ERROR_FORBIDDEN: return "EACCES";
        case RUNNER_ERROR_INVALID: return "EINVAL";
        case RUNNER_ERROR_TOO_BIG: return "E2BIG";
        case RUNNER_ERROR_AUTH: return "EAUTH";
        case RUNNER_ERROR_UNKNOWN_EVENT: return "ENOSYS";
        case RUNNER_ERROR_LIMIT: return "ELIMIT";
        case RUNNER_ERROR_NOT_FOUND: return "ENOENT";
        case RUNNER_ERROR_BUSY: return "EBUSY";
        case RUNNER_ERROR_UNAVAILABLE: return "ENOTSUP";
        case RUNNER_ERROR_FAILED:
        default:
          return "EIO";
        }
    }

  if (error->domain == G_IO_ERROR)
    {
      switch ((GIOErrorEnum) error->code)
        {
        case G_IO_ERROR_NOT_FOUND: return "ENOENT";
        case G_IO_ERROR_EXISTS: return "EEXIST";
        case G_IO_ERROR_IS_DIRECTORY: return "EISDIR";
        case G_IO_ERROR_NOT_DIRECTORY: return "ENOTDIR";
        case G_IO_ERROR_NOT_EMPTY: return "ENOTEMPTY";
        case G_IO_ERROR_PERMISSION_DENIED: return "EACCES";
        case G_IO_ERROR_INVALID_ARGUMENT:
        case G_IO_ERROR_INVALID_FILENAME:
        case G_IO_ERROR_INVALID_DATA: return "EINVAL";
        case G_IO_ERROR_FILENAME_TOO_LONG: return "ENAMETOOLONG";
        case G_IO_ERROR_NO_SPACE: return "ENOSPC";
        case G_IO_ERROR_TOO_MANY_LINKS: return "ELOOP";
        case G_IO_ERROR_READ_ONLY: return "EROFS";
        case G_IO_ERROR_BUSY: return "EBUSY";
        case G_IO_ERROR_TIMED_OUT: return "ETIMEDOUT";
        case G_IO_ERROR_CANCELLED: return "ECANCELED";
        case G_IO_ERROR_NOT_SUPPORTED: return "ENOTSUP";
        case G_IO_ERROR_MESSAGE_TOO_LARGE: return "E2BIG";
        default:
          return "EIO";
        }
    }

  return "EIO";
}
