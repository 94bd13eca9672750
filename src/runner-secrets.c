/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-secrets"

#include "config.h"

#include "runner-secrets.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

/* Keeping Runner's secrets (its token, the AWS keys) from the user's code,
 * which may run as the same uid: /proc/PID/environ, /proc/PID/mem and
 * ptrace would otherwise hand them over. */

/* name -> value of what runner_secrets_take_environ() took */
static GHashTable *taken;

static gboolean
is_secret (const char *name,
           gsize       len)
{
  return (len == strlen ("RUNNER_TOKEN") && strncmp (name, "RUNNER_TOKEN", len) == 0) ||
         (len > 4 && strncmp (name, "AWS_", 4) == 0) ||
         (len > 3 && strncmp (name, "S3_", 3) == 0);
}

/**
 * runner_secrets_protect_process:
 *
 * Makes Runner non-dumpable: its /proc/PID/environ and /proc/PID/mem become
 * root's, and a process of the same uid may not ptrace it. Its children are
 * dumpable again once they exec.
 */
void
runner_secrets_protect_process (void)
{
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    g_warning ("Could not make the process non-dumpable: %s", g_strerror (errno));
}

/**
 * runner_secrets_take_environ:
 * @envp: main()'s third argument: the environment the process started with
 *
 * Takes RUNNER_TOKEN and every AWS_* and S3_* variable out of the
 * environment, keeping them for runner_secrets_getenv(), and zeroes their
 * values in the block the kernel shows as /proc/PID/environ. Call it once
 * the configuration is read and before any thread starts: setenv() and
 * getenv() are not thread-safe.
 */
void
runner_secrets_take_environ (char **envp)
{
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_return_if_fail (envp != NULL);

  if (taken == NULL)
    taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; env[i] != NULL; i++)
    {
      const char *eq = strchr (env[i], '=');

      if (eq == NULL || !is_secret (env[i], eq - env[i]))
        continue;
      g_hash_table_replace (taken, g_strndup (env[i], eq - env[i]), g_strdup (eq + 1));
      g_ptr_array_add (names, g_strndup (env[i], eq - env[i]));
      explicit_bzero (env[i], strlen (env[i]));
    }

  /* Before unsetenv(), which shifts the entries of the array it edits
   * (envp itself while nothing was set). */
  for (guint i = 0; envp[i] != NULL; i++)
    {
      char *eq = strchr (envp[i], '=');

      if (eq != NULL && is_secret (envp[i], eq - envp[i]))
        explicit_bzero (eq + 1, strlen (eq + 1));
    }

  for (guint i = 0; i < names->len; i++)
    g_unsetenv (g_ptr_array_index (names, i));
}

/**
 * runner_secrets_getenv:
 * @name: a variable name
 *
 * Returns: (nullable): the variable as runner_secrets_take_environ() found
 *   it, else from the environment
 */
const char *
runner_secrets_getenv (const char *name)
{
  const char *value;

  g_return_val_if_fail (name != NULL, NULL);

  if (taken != NULL && g_hash_table_lookup_extended (taken, name, NULL, (gpointer *) &value))
    return value;
  return g_getenv (name);
}
