/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/**
 * RunnerUser:
 *
 * Whom shells and the app run as (`--user`), resolved once at start-up so
 * that the child only makes system calls.
 */
typedef struct
{
  char  *name;      /* nullable: a uid with no passwd entry */
  char  *home;      /* nullable */
  uid_t  uid;
  gid_t  gid;
  gid_t *groups;    /* supplementary groups */
  int    n_groups;
  gboolean change;  /* it differs from Runner's own */
} RunnerUser;

RunnerUser *runner_user_lookup      (const char        *spec,
                                     GError           **error);
void        runner_user_free        (RunnerUser        *self);
char      **runner_user_environ     (const RunnerUser  *self,
                                     char             **env);
void        runner_user_child_setup (const RunnerUser  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerUser, runner_user_free)

G_END_DECLS
