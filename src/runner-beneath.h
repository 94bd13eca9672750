/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* The virtual root every client sees, in every deployment. */
#define RUNNER_BENEATH_VIRTUAL_ROOT "/workspace"

/**
 * RunnerBeneathFlags:
 * @RUNNER_BENEATH_DEFAULT: symlinks that stay below the root are followed
 * @RUNNER_BENEATH_NO_SYMLINKS: no component may be a symlink (ELOOP)
 * @RUNNER_BENEATH_NO_OPENAT2: walk component by component even where the
 *   kernel has openat2(2) (tests use it to exercise the fallback)
 *
 * How runner_beneath_open() resolves a path.
 */
typedef enum
{
  RUNNER_BENEATH_DEFAULT = 0,
  RUNNER_BENEATH_NO_SYMLINKS = 1 << 0,
  RUNNER_BENEATH_NO_OPENAT2 = 1 << 1,
} RunnerBeneathFlags;

/* Called by runner_beneath_ensure_dir() before it creates @relative
 * (@created FALSE) and once it did (@created TRUE). */
typedef void (*RunnerBeneathMkdirFunc) (const char *relative,
                                        gboolean    created,
                                        gpointer    user_data);

char       *runner_beneath_normalize        (const char             *path,
                                             gssize                  length,
                                             const char             *host_root,
                                             GError                **error);
gboolean    runner_beneath_names_directory  (const char             *path);
char       *runner_beneath_to_virtual       (const char             *relative);
void        runner_beneath_split            (const char             *relative,
                                             char                  **parent,
                                             const char            **name);
gboolean    runner_beneath_is_within        (const char             *path,
                                             const char             *prefix);

int         runner_beneath_open             (int                     root_fd,
                                             const char             *root,
                                             const char             *relative,
                                             int                     flags,
                                             mode_t                  mode,
                                             RunnerBeneathFlags      how);
int         runner_beneath_ensure_dir       (int                     root_fd,
                                             const char             *root,
                                             const char             *relative,
                                             RunnerBeneathFlags      how,
                                             RunnerBeneathMkdirFunc  func,
                                             gpointer                user_data);
gboolean    runner_beneath_have_openat2     (void);
void        runner_beneath_fsync_dir        (int                     dirfd);

gboolean    runner_beneath_set_error        (GError                **error,
                                             int                     errsv,
                                             const char             *relative);
void        runner_beneath_set_refused      (GError                **error,
                                             const char             *why);

char       *runner_beneath_temp_name_new    (const char             *name);
gboolean    runner_beneath_is_temp_name     (const char             *name);

G_END_DECLS
