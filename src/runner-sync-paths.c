/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <string.h>

#include "runner-beneath.h"

/* Paths: the S3 key for a workspace path and back, and what is never
 * synced. Client paths are normalized and opened below the root by
 * runner-beneath, never through a symbolic link. */

/* Whether one of @a and @b is the other or inside it. */
gboolean
runner_sync_paths_overlap (const char *a,
                           const char *b)
{
  gsize la, lb;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  if (la == 0 || lb == 0)
    return TRUE;
  if (la > lb)
    return strncmp (a, b, lb) == 0 && a[lb] == '/';
  if (lb > la)
    return strncmp (a, b, la) == 0 && b[la] == '/';
  return g_str_equal (a, b);
}

/* Excluded names at any depth, the state dir, our temporary files. */
gboolean
runner_sync_is_excluded (RunnerSync *self,
                         const char *rel)
{
  g_auto(GStrv) parts = NULL;

  if (self->state_rel != NULL && runner_sync_paths_overlap (rel, self->state_rel) && rel[0] != '\0' &&
      strlen (rel) >= strlen (self->state_rel))
    return TRUE;
  parts = g_strsplit (rel, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (runner_beneath_is_temp_name (parts[i]))
        return TRUE;
      if (self->excluded != NULL && g_strv_contains ((const char * const *) self->excluded, parts[i]))
        return TRUE;
    }
  return FALSE;
}

char *
runner_sync_key_for (RunnerSync *self,
                     const char *rel)
{
  return g_strconcat (self->prefix, rel, NULL);
}

/* A key's path below the prefix, when it is a safe relative path. */
char *
runner_sync_rel_for_key (RunnerSync *self,
                         const char *key)
{
  const char *rel;
  g_auto(GStrv) parts = NULL;

  if (!g_str_has_prefix (key, self->prefix))
    return NULL;
  rel = key + strlen (self->prefix);
  if (rel[0] == '\0' || rel[0] == '/')
    return NULL;
  parts = g_strsplit (rel, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      /* a trailing "" is a folder marker; other empty, "." or ".." parts are unsafe */
      if (parts[i][0] == '\0' && parts[i + 1] == NULL)
        continue;
      if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
        return NULL;
    }
  return g_strdup (rel);
}
