/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"
#include "runner-secrets.h"

#include <glib/gi18n.h>

#include "runner-error.h"

/* Where runner_s3_new() finds its keys, in the AWS CLI's order: the
 * environment, then the shared credentials file. */

/* The profile's keys in an AWS shared credentials file (INI). */
static GHashTable *
read_credentials_file (const char *path,
                       const char *profile)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gboolean in_profile = FALSE;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return values;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          char *end = strchr (line, ']');
          g_autofree char *name = NULL;

          if (end == NULL)
            continue;
          name = g_strstrip (g_strndup (line + 1, end - line - 1));
          in_profile = g_str_equal (name, profile);
          continue;
        }
      eq = strchr (line, '=');
      if (!in_profile || eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (values, g_strdup (g_strstrip (line)), g_strdup (g_strstrip (eq + 1)));
    }
  return values;
}

/**
 * runner_s3_find_credentials:
 * @access_key: (out): the access key id
 * @secret_key: (out): the secret
 * @session_token: (out) (nullable): a session token, or %NULL
 *
 * Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`
 * or, without the first two, profile `AWS_PROFILE` (or `default`) of
 * `AWS_SHARED_CREDENTIALS_FILE` (or `~/.aws/credentials`).
 *
 * Returns: %TRUE, or %FALSE with %RUNNER_ERROR_AUTH when there are none
 */
gboolean
runner_s3_find_credentials (char   **access_key,
                            char   **secret_key,
                            char   **session_token,
                            GError **error)
{
  const char *env_key = runner_secrets_getenv ("AWS_ACCESS_KEY_ID");
  const char *env_secret = runner_secrets_getenv ("AWS_SECRET_ACCESS_KEY");
  g_autofree char *path = NULL;
  g_autoptr(GHashTable) values = NULL;
  const char *profile;

  if (env_key != NULL && env_key[0] != '\0' && env_secret != NULL && env_secret[0] != '\0')
    {
      const char *token = runner_secrets_getenv ("AWS_SESSION_TOKEN");

      *access_key = g_strdup (env_key);
      *secret_key = g_strdup (env_secret);
      *session_token = token != NULL && token[0] != '\0' ? g_strdup (token) : NULL;
      return TRUE;
    }

  path = g_strdup (runner_secrets_getenv ("AWS_SHARED_CREDENTIALS_FILE"));
  if (path == NULL || path[0] == '\0')
    {
      g_free (path);
      path = g_build_filename (g_get_home_dir (), ".aws", "credentials", NULL);
    }
  profile = runner_secrets_getenv ("AWS_PROFILE");
  if (profile == NULL || profile[0] == '\0')
    profile = "default";
  values = read_credentials_file (path, profile);
  if (g_hash_table_contains (values, "aws_access_key_id") &&
      g_hash_table_contains (values, "aws_secret_access_key"))
    {
      *access_key = g_strdup (g_hash_table_lookup (values, "aws_access_key_id"));
      *secret_key = g_strdup (g_hash_table_lookup (values, "aws_secret_access_key"));
      *session_token = g_strdup (g_hash_table_lookup (values, "aws_session_token"));
      return TRUE;
    }

  g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_AUTH,
               _("No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                 "or profile “%s” in %s"), profile, path);
  return FALSE;
}
