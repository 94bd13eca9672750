/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-user"

#include "config.h"

#include "runner-user.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <glib/gi18n.h>

#include "runner-error.h"

/* Running the user's code as another uid and gid (`--user`): Runner keeps
 * its own, the shells and the app get the user's. */

static gboolean
parse_id (const char *text,
          guint32    *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &value, NULL))
    return FALSE;
  *out = (guint32) value;
  return TRUE;
}

static gboolean
has_capability (int capability)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

  if (syscall (SYS_capget, &header, data) != 0)
    return FALSE;
  return (data[CAP_TO_INDEX (capability)].effective & CAP_TO_MASK (capability)) != 0;
}

/**
 * runner_user_lookup:
 * @spec: `NAME`, `UID`, `NAME:GROUP` or `UID:GID`
 *
 * Resolves @spec with its supplementary groups and checks that Runner may
 * switch to it: it runs as root or holds CAP_SETUID and CAP_SETGID.
 *
 * Returns: (transfer full): the user, or %NULL with %RUNNER_ERROR_INVALID
 *   for an unknown user or group, %RUNNER_ERROR_FORBIDDEN without the
 *   privilege
 */
RunnerUser *
runner_user_lookup (const char  *spec,
                    GError     **error)
{
  g_autoptr(RunnerUser) self = g_new0 (RunnerUser, 1);
  g_auto(GStrv) parts = NULL;
  struct passwd *pw;
  guint32 id;

  g_return_val_if_fail (spec != NULL, NULL);

  parts = g_strsplit (spec, ":", 2);
  if (parts[0] == NULL || parts[0][0] == '\0')
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("--user must be NAME or UID[:GID], not “%s”"), spec);
      return NULL;
    }

  pw = parse_id (parts[0], &id) ? getpwuid (id) : getpwnam (parts[0]);
  if (pw == NULL && !parse_id (parts[0], &id))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("No user “%s”"), parts[0]);
      return NULL;
    }
  self->uid = pw != NULL ? pw->pw_uid : id;
  if (pw != NULL)
    {
      self->name = g_strdup (pw->pw_name);
      self->home = g_strdup (pw->pw_dir);
      self->gid = pw->pw_gid;
    }

  if (parts[1] != NULL)
    {
      struct group *gr = parse_id (parts[1], &id) ? NULL : getgrnam (parts[1]);

      if (gr == NULL && !parse_id (parts[1], &id))
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("No group “%s”"), parts[1]);
          return NULL;
        }
      self->gid = gr != NULL ? gr->gr_gid : id;
    }
  else if (pw == NULL)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("User %s has no passwd entry: give its group too (--user %s:GID)"),
                   parts[0], parts[0]);
      return NULL;
    }

  if (self->name != NULL)
    {
      int n = 64;

      self->groups = g_new (gid_t, n);
      if (getgrouplist (self->name, self->gid, self->groups, &n) < 0)
        {
          self->groups = g_renew (gid_t, self->groups, n);
          if (getgrouplist (self->name, self->gid, self->groups, &n) < 0)
            n = 0;
        }
      self->n_groups = n;
    }
  if (self->n_groups == 0)
    {
      g_free (self->groups);
      self->groups = g_new (gid_t, 1);
      self->groups[0] = self->gid;
      self->n_groups = 1;
    }

  self->change = self->uid != geteuid () || self->gid != getegid ();
  if (self->change && geteuid () != 0 &&
      !(has_capability (CAP_SETUID) && has_capability (CAP_SETGID)))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN,
                   _("Cannot run shells and the app as %s: Runner runs as uid %u without "
                     "CAP_SETUID and CAP_SETGID (start it as root, or drop --user)"),
                   spec, (guint) geteuid ());
      return NULL;
    }

  return g_steal_pointer (&self);
}

void
runner_user_free (RunnerUser *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self->home);
  g_free (self->groups);
  g_free (self);
}

/**
 * runner_user_environ:
 * @self: (nullable): the user, or %NULL for Runner's own
 * @env: (transfer full): an environment
 *
 * Returns: (transfer full): @env with the user's HOME, USER and LOGNAME
 */
char **
runner_user_environ (const RunnerUser  *self,
                     char             **env)
{
  if (self == NULL || !self->change)
    return env;
  if (self->home != NULL)
    env = g_environ_setenv (env, "HOME", self->home, TRUE);
  if (self->name != NULL)
    {
      env = g_environ_setenv (env, "USER", self->name, TRUE);
      env = g_environ_setenv (env, "LOGNAME", self->name, TRUE);
    }
  return env;
}

/**
 * runner_user_child_setup:
 * @self: (nullable): the user, or %NULL for Runner's own
 *
 * In the child, between fork and exec (async-signal-safe): takes the user's
 * groups, gid and uid, for good. A child that cannot exits with 127 rather
 * than run as Runner.
 */
void
runner_user_child_setup (const RunnerUser *self)
{
  static const char message[] = "runner: could not switch to the configured user\n";

  if (self == NULL || !self->change)
    return;
  if (setgroups (self->n_groups, self->groups) != 0 || setgid (self->gid) != 0 ||
      setuid (self->uid) != 0)
    {
      if (write (STDERR_FILENO, message, sizeof message - 1) < 0)
        {
          /* nothing more to say */
        }
      _exit (127);
    }
}
