/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "runner-beneath.h"
#include "runner-error.h"

/*
 * The confined resolver on its own. The workspace's tests (test-workspace.c)
 * run it through RunnerWorkspace, symlink swap races included; these cover
 * what sync relies on besides: a second accepted root, no symlinks at all,
 * mkdir -p, and the temporary-name rule.
 */

typedef struct
{
  char *dir;                    /* holds root/ and outside/ */
  char *root;                   /* real path */
  int root_fd;
} Fixture;

static void
put (Fixture    *fx,
     const char *rel)
{
  g_autofree char *path = g_build_filename (fx->root, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, rel, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture      *fx,
               gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("runner-beneath-XXXXXX", &error);
  g_autofree char *outside = NULL;
  g_autofree char *link = NULL;

  g_assert_no_error (error);
  fx->dir = realpath (tmp, NULL);
  fx->root = g_build_filename (fx->dir, "root", NULL);
  outside = g_build_filename (fx->dir, "outside", NULL);
  g_assert_cmpint (g_mkdir (fx->root, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  fx->root_fd = open (fx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fx->root_fd, >=, 0);

  put (fx, "a/b.txt");
  /* inside/ links to a/ (relative and absolute), out/ leaves the root */
  g_assert_cmpint (symlink ("a", link = g_build_filename (fx->root, "inside", NULL)), ==, 0);
  g_clear_pointer (&link, g_free);
  {
    g_autofree char *target = g_build_filename (fx->root, "a", NULL);

    g_assert_cmpint (symlink (target, link = g_build_filename (fx->root, "absolute", NULL)), ==, 0);
  }
  g_clear_pointer (&link, g_free);
  g_assert_cmpint (symlink (outside, link = g_build_filename (fx->root, "out", NULL)), ==, 0);
}

static void
fixture_teardown (Fixture      *fx,
                  gconstpointer data)
{
  const char *argv[] = { "rm", "-rf", fx->dir, NULL };

  close (fx->root_fd);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, NULL, NULL));
  g_free (fx->root);
  g_free (fx->dir);
}

static void
test_normalize (void)
{
  const struct { const char *in; const char *host_root; const char *out; } ok[] = {
    { "", NULL, "" },
    { "/workspace", NULL, "" },
    { "/workspace/a//./b/", NULL, "a/b" },
    { "a/../b", NULL, "b" },
    { "/srv/ws/a/b", "/srv/ws", "a/b" },
    { "/srv/ws", "/srv/ws", "" },
    { "/workspace/a", "/srv/ws", "a" },
    { "/srv/a", "/", "srv/a" },
  };
  const struct { const char *in; const char *host_root; } refused[] = {
    { "..", NULL },
    { "a/../../b", NULL },
    { "/etc/passwd", NULL },
    /* once sync's: an absolute path elsewhere counted as relative */
    { "/etc/passwd", "/srv/ws" },
    { "/srv/wsx/a", "/srv/ws" },
    { "/srv/ws/../a", "/srv/ws" },
    { "/workspacex/a", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_beneath_normalize (ok[i].in, -1, ok[i].host_root, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (rel, ==, ok[i].out);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_beneath_normalize (refused[i].in, -1, refused[i].host_root,
                                                       &error);

      g_assert_null (rel);
      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (runner_beneath_normalize ("a\0b", 3, NULL, &error));
    g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
  }
}

static void
test_paths (void)
{
  g_autofree char *parent = NULL;
  g_autofree char *top = NULL;
  g_autofree char *virt = runner_beneath_to_virtual ("a/b");
  g_autofree char *virt_root = runner_beneath_to_virtual ("");
  const char *name;

  runner_beneath_split ("a/b/c", &parent, &name);
  g_assert_cmpstr (parent, ==, "a/b");
  g_assert_cmpstr (name, ==, "c");
  runner_beneath_split ("c", &top, &name);
  g_assert_cmpstr (top, ==, "");
  g_assert_cmpstr (name, ==, "c");

  g_assert_true (runner_beneath_is_within ("a/b", "a"));
  g_assert_true (runner_beneath_is_within ("a", "a"));
  g_assert_true (runner_beneath_is_within ("a", ""));
  g_assert_false (runner_beneath_is_within ("ab", "a"));

  g_assert_true (runner_beneath_names_directory ("a/"));
  g_assert_true (runner_beneath_names_directory ("a/./."));
  g_assert_false (runner_beneath_names_directory ("a"));
  g_assert_false (runner_beneath_names_directory ("a/.b"));

  g_assert_cmpstr (virt, ==, "/workspace/a/b");
  g_assert_cmpstr (virt_root, ==, "/workspace");
}

static void
test_temp_name (void)
{
  g_autofree char *long_name = g_strnfill (NAME_MAX, 'x');

  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *name = runner_beneath_temp_name_new ("index.js");

      g_assert_true (g_str_has_prefix (name, ".index.js.runner-"));
      g_assert_true (runner_beneath_is_temp_name (name));
    }
  {
    g_autofree char *name = runner_beneath_temp_name_new (long_name);

    g_assert_cmpuint (strlen (name), <=, NAME_MAX);
    g_assert_true (runner_beneath_is_temp_name (name));
  }
  g_assert_true (runner_beneath_is_temp_name (".a.runner-AbC123"));
  g_assert_false (runner_beneath_is_temp_name (NULL));
  g_assert_false (runner_beneath_is_temp_name ("a.runner-AbC123"));
  g_assert_false (runner_beneath_is_temp_name (".runner-AbC123"));
  g_assert_false (runner_beneath_is_temp_name (".a.runner-AbC12"));
  g_assert_false (runner_beneath_is_temp_name (".a.runner-AbC-23"));
  g_assert_false (runner_beneath_is_temp_name (".a.s3-0123abcd"));
}

/* Both resolutions: openat2(2) where the kernel has it, and the walk. */
static RunnerBeneathFlags
variant (gconstpointer data)
{
  return GPOINTER_TO_UINT (data);
}

static int
try_open (Fixture           *fx,
          const char        *rel,
          int                flags,
          RunnerBeneathFlags how,
          int               *errsv)
{
  int fd = runner_beneath_open (fx->root_fd, fx->root, rel, flags, 0, how);

  *errsv = fd < 0 ? errno : 0;
  if (fd >= 0)
    close (fd);
  return fd >= 0;
}

static void
test_open (Fixture      *fx,
           gconstpointer data)
{
  RunnerBeneathFlags how = variant (data);
  RunnerBeneathFlags strict = how | RUNNER_BENEATH_NO_SYMLINKS;
  int errsv;

  g_assert_true (try_open (fx, "a/b.txt", O_RDONLY, how, &errsv));
  g_assert_true (try_open (fx, "", O_RDONLY | O_DIRECTORY, how, &errsv));
  g_assert_true (try_open (fx, "inside/b.txt", O_RDONLY, how, &errsv));
  g_assert_true (try_open (fx, "absolute/b.txt", O_RDONLY, how, &errsv));
  g_assert_false (try_open (fx, "out", O_RDONLY | O_DIRECTORY, how, &errsv));
  g_assert_cmpint (errsv, ==, EXDEV);
  g_assert_false (try_open (fx, "a/../../root/a/b.txt", O_RDONLY, how, &errsv));
  g_assert_cmpint (errsv, ==, EXDEV);

  /* Without the root's path no absolute symlink can be told safe. */
  g_assert_cmpint (runner_beneath_open (fx->root_fd, NULL, "absolute/b.txt", O_RDONLY, 0, how),
                   ==, -1);
  g_assert_cmpint (errno, ==, EXDEV);

  /* No symlinks at all: sync's way, at any level. */
  g_assert_true (try_open (fx, "a/b.txt", O_RDONLY, strict, &errsv));
  g_assert_false (try_open (fx, "inside/b.txt", O_RDONLY, strict, &errsv));
  g_assert_cmpint (errsv, ==, ELOOP);
  g_assert_false (try_open (fx, "inside", O_PATH | O_DIRECTORY, strict, &errsv));
  g_assert_cmpint (errsv, ==, ELOOP);
  g_assert_false (try_open (fx, "out", O_RDONLY, strict, &errsv));
  g_assert_cmpint (errsv, ==, ELOOP);
}

static void
created_cb (const char *relative,
            gboolean    created,
            gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup_printf ("%s %s", created ? "created" : "creating", relative));
}

static void
test_ensure_dir (Fixture      *fx,
                 gconstpointer data)
{
  RunnerBeneathFlags how = variant (data) | RUNNER_BENEATH_NO_SYMLINKS;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *made = g_build_filename (fx->root, "a", "x", "y", NULL);
  g_autofree char *escaped = g_build_filename (fx->dir, "outside", "z", NULL);
  mode_t old_mask = umask (077);
  struct stat st;
  int fd;

  fd = runner_beneath_ensure_dir (fx->root_fd, fx->root, "a/x/y", how, created_cb, seen);
  umask (old_mask);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_cmpuint (seen->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "creating a/x");
  g_assert_cmpstr (g_ptr_array_index (seen, 1), ==, "created a/x");
  g_assert_cmpstr (g_ptr_array_index (seen, 2), ==, "creating a/x/y");
  g_assert_cmpstr (g_ptr_array_index (seen, 3), ==, "created a/x/y");
  g_assert_cmpint (stat (made, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);

  /* An existing directory is no change. */
  g_ptr_array_set_size (seen, 0);
  fd = runner_beneath_ensure_dir (fx->root_fd, fx->root, "a/x", how, created_cb, seen);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_cmpuint (seen->len, ==, 0);

  /* A symlink on the way is refused, and nothing is made beyond it. */
  g_assert_cmpint (runner_beneath_ensure_dir (fx->root_fd, fx->root, "out/z", how, NULL, NULL),
                   ==, -1);
  g_assert_cmpint (errno, ==, ELOOP);
  g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/beneath/normalize", test_normalize);
  g_test_add_func ("/runner/beneath/paths", test_paths);
  g_test_add_func ("/runner/beneath/temp-name", test_temp_name);
#define ADD(name, func) \
  g_test_add ("/runner/beneath/openat2/" name, Fixture, GUINT_TO_POINTER (RUNNER_BENEATH_DEFAULT), \
              fixture_setup, func, fixture_teardown); \
  g_test_add ("/runner/beneath/walk/" name, Fixture, GUINT_TO_POINTER (RUNNER_BENEATH_NO_OPENAT2), \
              fixture_setup, func, fixture_teardown)
  ADD ("open", test_open);
  ADD ("ensure-dir", test_ensure_dir);
#undef ADD

  return g_test_run ();
}
