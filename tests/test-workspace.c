/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "runner-error.h"
#include "runner-workspace.h"
#include "runner-workspace-private.h"

#define WAIT_TIMEOUT_SECONDS 10

/* Fixture variants, or'ed */
enum
{
  NO_OPENAT2 = 1 << 0,
  NO_TMPFILE = 1 << 1,
  WATCHING = 1 << 2,
};
#define VARIANT(flags) GUINT_TO_POINTER (flags)

typedef struct
{
  char *tmp;                    /* owns everything below */
  char *root;                   /* the workspace */
  char *outside;                /* a directory next to it */
  RunnerWorkspace *ws;
  GPtrArray *changes;           /* "KIND path [other]" strings from ::changed */
} Fixture;

static const char *
kind_name (RunnerWorkspaceChange kind)
{
  switch (kind)
    {
    case RUNNER_WORKSPACE_CHANGE_WRITTEN: return "written";
    case RUNNER_WORKSPACE_CHANGE_CREATED_DIR: return "created-dir";
    case RUNNER_WORKSPACE_CHANGE_DELETED: return "deleted";
    case RUNNER_WORKSPACE_CHANGE_RENAMED: return "renamed";
    default: return "?";
    }
}

static void
on_changed (RunnerWorkspace *ws,
            const char      *path,
            int              kind,
            const char      *other,
            Fixture         *fx)
{
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_ptr_array_add (fx->changes, other ? g_strdup_printf ("%s %s %s", kind_name (kind), path, other)
                                      : g_strdup_printf ("%s %s", kind_name (kind), path));
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint variant = GPOINTER_TO_UINT (data);

  fx->tmp = g_dir_make_tmp ("runner-workspace-XXXXXX", &error);
  g_assert_no_error (error);
  fx->root = g_build_filename (fx->tmp, "ws", NULL);
  fx->outside = g_build_filename (fx->tmp, "outside", NULL);
  g_assert_cmpint (g_mkdir (fx->outside, 0755), ==, 0);

  /* The root is created when missing. */
  fx->ws = runner_workspace_new (fx->root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->ws);
  g_assert_true (g_file_test (fx->root, G_FILE_TEST_IS_DIR));
  if (variant & NO_OPENAT2)
    {
      runner_workspace_set_use_openat2 (fx->ws, FALSE);
      g_assert_false (runner_workspace_get_use_openat2 (fx->ws));
    }
  else if (!runner_workspace_get_use_openat2 (fx->ws))
    g_test_message ("openat2 is missing here (an old kernel, valgrind): the walk runs instead");
  if (variant & NO_TMPFILE)
    runner_workspace_set_use_tmpfile (fx->ws, FALSE);
  fx->changes = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (fx->ws, "changed", G_CALLBACK (on_changed), fx);
  if (variant & WATCHING)
    {
      g_assert_true (runner_workspace_start_watching (fx->ws, &error));
      g_assert_no_error (error);
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && g_file_enumerator_iterate (children, &info, NULL, NULL, NULL) && info != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_clear_object (&fx->ws);
  remove_tree (fx->tmp);
  g_free (fx->tmp);
  g_free (fx->root);
  g_free (fx->outside);
  g_ptr_array_unref (fx->changes);
}

/* Helpers */

static char *
in_root (Fixture    *fx,
         const char *relative)
{
  return g_build_filename (fx->root, relative, NULL);
}

static void
put_file (Fixture    *fx,
          const char *relative,
          const char *content)
{
  g_autofree char *path = in_root (fx, relative);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static void
put_dir (Fixture    *fx,
         const char *relative)
{
  g_autofree char *path = in_root (fx, relative);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
put_link (Fixture    *fx,
          const char *relative,
          const char *target)
{
  g_autofree char *path = in_root (fx, relative);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

static char *
get_file (Fixture    *fx,
          const char *relative)
{
  g_autofree char *path = in_root (fx, relative);
  char *content = NULL;

  if (!g_file_get_contents (path, &content, NULL, NULL))
    return NULL;
  return content;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in a directory, sorted, joined by spaces: shows what changed. */
static char *
dir_names (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until @done (@data) holds; fails after a timeout. */
static void
wait_until (gboolean (*done) (gpointer data),
            gpointer data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

static gboolean
is_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  wait_until (is_set, slot);
  return *slot;
}

static JsonNode *
do_list (Fixture    *fx,
         const char *path,
         int         depth,
         gboolean   *truncated,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_list_async (fx->ws, path, depth, NULL, result_cb, &result);
  return runner_workspace_list_finish (fx->ws, wait_result (&result), truncated, error);
}

static GBytes *
do_read (Fixture    *fx,
         const char *path,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_read_async (fx->ws, path, NULL, result_cb, &result);
  return runner_workspace_read_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_write_full (Fixture      *fx,
               const char   *path,
               const char   *content,
               gboolean      exclusive,
               GCancellable *cancellable,
               GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (content, strlen (content));

  runner_workspace_write_async (fx->ws, path, bytes, exclusive, cancellable, result_cb, &result);
  return runner_workspace_write_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_write (Fixture    *fx,
          const char *path,
          const char *content,
          gboolean    exclusive,
          GError    **error)
{
  return do_write_full (fx, path, content, exclusive, NULL, error);
}

static gboolean
do_mkdir (Fixture    *fx,
          const char *path,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_mkdir_async (fx->ws, path, NULL, result_cb, &result);
  return runner_workspace_mkdir_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_rename (Fixture    *fx,
           const char *from,
           const char *to,
           GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_rename_async (fx->ws, from, to, NULL, result_cb, &result);
  return runner_workspace_rename_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_delete (Fixture    *fx,
           const char *path,
           gboolean    recursive,
           GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_delete_async (fx->ws, path, recursive, NULL, result_cb, &result);
  return runner_workspace_delete_finish (fx->ws, wait_result (&result), error);
}

static char *
to_json (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

static void
assert_code (const GError *error,
             const char   *code)
{
  g_assert_nonnull (error);
  g_assert_cmpstr (runner_error_to_code (error), ==, code);
}

static void
assert_forbidden (const GError *error)
{
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
  assert_code (error, "EACCES");
}

/* Asserts the error (and its wire code, if given), then clears it. */
static void
expect_error (GError    **error,
              GQuark      domain,
              int         code,
              const char *wire_code)
{
  g_assert_error (*error, domain, code);
  if (wire_code != NULL)
    assert_code (*error, wire_code);
  g_clear_error (error);
}

static void
expect_forbidden (GError **error)
{
  expect_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, "EACCES");
}

/* Resolver */

static void
test_resolve_ok (Fixture       *fx,
                 gconstpointer  data)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "", "" },
    { ".", "" },
    { "/workspace", "" },
    { "/workspace/", "" },
    { "./", "" },
    { "a/b.txt", "a/b.txt" },
    { "/workspace/a/b.txt", "a/b.txt" },
    { "a//b/./c/", "a/b/c" },
    { "a/x/../b", "a/b" },
    { "/workspace/../workspace/a", "a" },
    { "workspace/a", "workspace/a" },
    { "a b/ü.txt", "a b/ü.txt" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_workspace_resolve (fx->ws, cases[i].in, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (rel, ==, cases[i].out);
    }
}

static void
test_resolve_refused (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *long_name = g_strnfill (256, 'x');
  g_autofree char *long_path = NULL;
  g_autoptr(GString) deep = g_string_new ("");
  const char *cases[] = {
    "..", "../x", "a/../../x", "/workspace/../x", "/workspace/..", "/etc/passwd", "/",
    "/workspaces/x", "/workspacex", "./../ws", NULL, NULL,
  };

  while (deep->len < 4200)
    g_string_append (deep, "abcdefgh/");
  cases[G_N_ELEMENTS (cases) - 2] = long_name;
  long_path = g_string_free (g_steal_pointer (&deep), FALSE);
  cases[G_N_ELEMENTS (cases) - 1] = long_path;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_workspace_resolve (fx->ws, cases[i], &error);

      g_assert_null (rel);
      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
      assert_code (error, "EACCES");
    }
}

static void
test_resolve_nul (Fixture       *fx,
                  gconstpointer  data)
{
  static const char with_nul[] = "a.txt\0/../../etc/passwd";
  g_autoptr(GError) error = NULL;
  g_autofree char *rel = NULL;

  rel = runner_workspace_resolve_len (fx->ws, with_nul, sizeof with_nul - 1, &error);
  g_assert_null (rel);
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, NULL);

  rel = runner_workspace_resolve_len (fx->ws, with_nul, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rel, ==, "a.txt");
}

static void
test_virtual (Fixture       *fx,
              gconstpointer  data)
{
  g_autofree char *root = runner_workspace_to_virtual (fx->ws, "");
  g_autofree char *file = runner_workspace_to_virtual (fx->ws, "a/b");

  g_assert_cmpstr (root, ==, "/workspace");
  g_assert_cmpstr (file, ==, "/workspace/a/b");
}

/* Listing */

static void
test_list_shape (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;
  gboolean truncated = TRUE;

  put_dir (fx, "src/lib");
  put_dir (fx, "node_modules/x");
  put_dir (fx, "src/node_modules");
  put_dir (fx, ".git");
  put_file (fx, "b.txt", "b");
  put_file (fx, "a.txt", "a");
  put_file (fx, "src/main.c", "m");
  put_file (fx, "src/lib/util.c", "u");
  put_file (fx, "node_modules/x/index.js", "x");

  tree = do_list (fx, "/workspace", -1, &truncated, &error);
  g_assert_no_error (error);
  g_assert_false (truncated);
  json = to_json (tree);
  g_assert_cmpstr (json, ==,
                   "[{\"name\":\"src\",\"type\":\"directory\",\"path\":\"/workspace/src\",\"children\":["
                   "{\"name\":\"lib\",\"type\":\"directory\",\"path\":\"/workspace/src/lib\",\"children\":["
                   "{\"name\":\"util.c\",\"type\":\"file\",\"path\":\"/workspace/src/lib/util.c\"}]},"
                   "{\"name\":\"main.c\",\"type\":\"file\",\"path\":\"/workspace/src/main.c\"}]},"
                   "{\"name\":\"a.txt\",\"type\":\"file\",\"path\":\"/workspace/a.txt\"},"
                   "{\"name\":\"b.txt\",\"type\":\"file\",\"path\":\"/workspace/b.txt\"}]");
}

static void
test_list_sub (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;

  put_dir (fx, "src/lib");
  put_file (fx, "src/main.c", "m");
  tree = do_list (fx, "src", -1, NULL, &error);
  g_assert_no_error (error);
  json = to_json (tree);
  g_assert_cmpstr (json, ==,
                   "[{\"name\":\"lib\",\"type\":\"directory\",\"path\":\"/workspace/src/lib\",\"children\":[]},"
                   "{\"name\":\"main.c\",\"type\":\"file\",\"path\":\"/workspace/src/main.c\"}]");
}

/* Reading and writing */

static void
test_read_binary (Fixture       *fx,
                  gconstpointer  data)
{
  static const guint8 blob[] = { 0, 1, 2, 0xff, 0xfe, 0, '\n' };
  g_autofree char *path = in_root (fx, "bin/blob");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  put_dir (fx, "bin");
  g_file_set_contents (path, (const char *) blob, sizeof blob, &error);
  g_assert_no_error (error);
  bytes = do_read (fx, "/workspace/bin/blob", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), blob, sizeof blob);
}

static void
test_write_basic (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *content = NULL;

  g_assert_true (do_write (fx, "/workspace/new/dir/file.txt", "hello", FALSE, &error));
  g_assert_no_error (error);
  content = get_file (fx, "new/dir/file.txt");
  g_assert_cmpstr (content, ==, "hello");
}


static void
test_ops_basic (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = NULL;
  g_autofree char *target = NULL;

  g_assert_true (do_mkdir (fx, "d/e", &error));
  g_assert_no_error (error);
  put_file (fx, "d/e/f.txt", "f");
  put_link (fx, "d/link", "e/f.txt");
  target = get_file (fx, "d/link");
  g_assert_cmpstr (target, ==, "f");
  g_assert_true (do_rename (fx, "d/e/f.txt", "d/g.txt", &error));
  g_assert_no_error (error);
  g_assert_true (do_delete (fx, "d/e", FALSE, &error));
  g_assert_no_error (error);
  names = dir_names (fx->root);
  g_assert_cmpstr (names, ==, "d");
  g_clear_pointer (&names, g_free);
  g_free (target);
  target = in_root (fx, "d");
  names = dir_names (target);
  g_assert_cmpstr (names, ==, "g.txt link");
  g_assert_cmpuint (fx->changes->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 0), ==, "created-dir d");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 1), ==, "created-dir d/e");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 2), ==, "renamed d/e/f.txt d/g.txt");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 3), ==, "deleted d/e");
}


/* Helpers for comparing states */

static void
assert_changes (Fixture    *fx,
                const char *expected)
{
  g_autoptr(GPtrArray) copy = g_ptr_array_new ();
  g_autofree char *joined = NULL;

  for (guint i = 0; i < fx->changes->len; i++)
    g_ptr_array_add (copy, g_ptr_array_index (fx->changes, i));
  g_ptr_array_add (copy, NULL);
  joined = g_strjoinv ("; ", (char **) copy->pdata);
  g_assert_cmpstr (joined, ==, expected);
}

static void
assert_names (const char *dir,
              const char *expected)
{
  g_autofree char *names = dir_names (dir);

  g_assert_cmpstr (names, ==, expected);
}

static void
assert_root_names (Fixture    *fx,
                   const char *relative,
                   const char *expected)
{
  g_autofree char *path = in_root (fx, relative);

  assert_names (path, expected);
}

static void
assert_file (Fixture    *fx,
             const char *relative,
             const char *expected)
{
  g_autofree char *content = get_file (fx, relative);

  g_assert_cmpstr (content, ==, expected);
}

static void
put_outside (Fixture    *fx,
             const char *name,
             const char *content)
{
  g_autofree char *path = g_build_filename (fx->outside, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}


static char *
list_text (Fixture    *fx,
           const char *path,
           int         depth)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = do_list (fx, path, depth, NULL, &error);

  g_assert_no_error (error);
  return to_json (tree);
}

/* Confinement */

static void
test_confine_etc (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *tree = NULL;
  int fd;

  put_link (fx, "etc", "/etc");
  put_link (fx, "passwd", "/etc/passwd");
  put_file (fx, "ok.txt", "ok");

  bytes = do_read (fx, "/workspace/etc/passwd", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);
  bytes = do_read (fx, "passwd", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);

  fd = runner_workspace_open_beneath (fx->ws, "etc/passwd", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);

  /* Escaping symlinks are left out of the tree. */
  tree = list_text (fx, "", -1);
  g_assert_cmpstr (tree, ==, "[{\"name\":\"ok.txt\",\"type\":\"file\",\"path\":\"/workspace/ok.txt\"}]");
}

static void
test_confine_outside_dir (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  put_outside (fx, "secret", "secret");
  put_link (fx, "out", "../outside");
  put_dir (fx, "sub");
  put_link (fx, "sub/deep", "../../outside");

  bytes = do_read (fx, "out/secret", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);
  bytes = do_read (fx, "sub/deep/secret", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);

  g_assert_false (do_write (fx, "out/secret", "changed", FALSE, &error));
  expect_forbidden (&error);
  g_assert_false (do_write (fx, "out/new/file", "x", FALSE, &error));
  expect_forbidden (&error);
  g_assert_false (do_mkdir (fx, "out/newdir", &error));
  expect_forbidden (&error);
  g_assert_false (do_delete (fx, "out/secret", FALSE, &error));
  expect_forbidden (&error);
  g_assert_false (do_rename (fx, "out/secret", "stolen", &error));
  expect_forbidden (&error);
  put_file (fx, "mine", "mine");
  g_assert_false (do_rename (fx, "mine", "out/mine", &error));
  expect_forbidden (&error);
  g_assert_false (do_list (fx, "out", -1, NULL, &error));
  expect_forbidden (&error);

  /* Nothing changed outside or inside. */
  assert_names (fx->outside, "secret");
  {
    g_autofree char *path = g_build_filename (fx->outside, "secret", NULL);
    g_autofree char *content = NULL;

    g_assert_true (g_file_get_contents (path, &content, NULL, NULL));
    g_assert_cmpstr (content, ==, "secret");
  }
  assert_root_names (fx, "", "mine out sub");
  assert_changes (fx, "");
}

static void
test_confine_chain (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *abs_outside = NULL;

  put_outside (fx, "secret", "secret");
  abs_outside = g_build_filename (fx->outside, "secret", NULL);
  put_link (fx, "a", "b");
  put_link (fx, "b", "c");
  put_link (fx, "c", abs_outside);
  put_dir (fx, "d1");
  put_link (fx, "d1/hop", "../d2");
  put_dir (fx, "d2");
  put_link (fx, "d2/hop", "../../outside");

  bytes = do_read (fx, "a", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);
  bytes = do_read (fx, "d1/hop/hop/secret", &error);
  g_assert_null (bytes);
  expect_forbidden (&error);

  /* A loop fails, and does not hang. */
  put_link (fx, "loop1", "loop2");
  put_link (fx, "loop2", "loop1");
  bytes = do_read (fx, "loop1", &error);
  g_assert_null (bytes);
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS, NULL);
}

static void
test_confine_inside_links (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *abs_real = NULL;
  struct stat st;

  put_dir (fx, "real");
  put_file (fx, "real/f.txt", "real");
  put_link (fx, "lnk", "real");
  put_link (fx, "alias.txt", "real/f.txt");
  abs_real = in_root (fx, "real");
  put_link (fx, "abs", abs_real);
  put_dir (fx, "sub");
  put_link (fx, "sub/up", "../real/f.txt");

  for (guint i = 0; i < 4; i++)
    {
      const char *paths[] = { "lnk/f.txt", "alias.txt", "abs/f.txt", "sub/up" };

      bytes = do_read (fx, paths[i], &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "real", 4);
      g_clear_pointer (&bytes, g_bytes_unref);
    }

  /* Writing through a link writes the file it names; the link stays. */
  g_assert_true (do_write (fx, "alias.txt", "through", FALSE, &error));
  g_assert_no_error (error);
  assert_file (fx, "real/f.txt", "through");
  {
    g_autofree char *alias = in_root (fx, "alias.txt");

    g_assert_cmpint (lstat (alias, &st), ==, 0);
    g_assert_true (S_ISLNK (st.st_mode));
  }
  g_assert_true (do_write (fx, "lnk/g.txt", "g", FALSE, &error));
  g_assert_no_error (error);
  assert_file (fx, "real/g.txt", "g");
  assert_changes (fx, "written real/f.txt; written alias.txt; written lnk/g.txt");

  tree = list_text (fx, "", 1);
  g_assert_cmpstr (tree, ==,
                   "[{\"name\":\"abs\",\"type\":\"directory\",\"path\":\"/workspace/abs\"},"
                   "{\"name\":\"lnk\",\"type\":\"directory\",\"path\":\"/workspace/lnk\"},"
                   "{\"name\":\"real\",\"type\":\"directory\",\"path\":\"/workspace/real\",\"children\":["
                   "{\"name\":\"f.txt\",\"type\":\"file\",\"path\":\"/workspace/real/f.txt\"},"
                   "{\"name\":\"g.txt\",\"type\":\"file\",\"path\":\"/workspace/real/g.txt\"}]},"
                   "{\"name\":\"sub\",\"type\":\"directory\",\"path\":\"/workspace/sub\",\"children\":["
                   "{\"name\":\"up\",\"type\":\"file\",\"path\":\"/workspace/sub/up\"}]},"
                   "{\"name\":\"alias.txt\",\"type\":\"file\",\"path\":\"/workspace/alias.txt\"}]");
  /* A symlinked directory shows what it points to when listed itself. */
  g_free (tree);
  tree = list_text (fx, "lnk", -1);
  g_assert_cmpstr (tree, ==,
                   "[{\"name\":\"f.txt\",\"type\":\"file\",\"path\":\"/workspace/lnk/f.txt\"},"
                   "{\"name\":\"g.txt\",\"type\":\"file\",\"path\":\"/workspace/lnk/g.txt\"}]");

  /* Deleting a link removes the link, not what it names. */
  g_assert_true (do_delete (fx, "lnk", TRUE, &error));
  g_assert_no_error (error);
  assert_root_names (fx, "real", "f.txt g.txt");
}

/* A path checked by resolve, then a symlink swapped in before it is opened:
 * the opening still refuses to leave the root. */
static void
test_confine_swap (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rel = NULL;
  g_autofree char *sub = in_root (fx, "sub");
  g_autofree char *moved = in_root (fx, "moved");
  g_autofree char *naive = NULL;
  int fd;

  put_dir (fx, "sub");
  put_file (fx, "sub/secret", "inside");
  put_outside (fx, "secret", "outside");

  rel = runner_workspace_resolve (fx->ws, "/workspace/sub/secret", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rel, ==, "sub/secret");

  g_assert_cmpint (rename (sub, moved), ==, 0);
  g_assert_cmpint (symlink (fx->outside, sub), ==, 0);

  /* A plain open of root + path would now read the outside file... */
  naive = g_build_filename (fx->root, rel, NULL);
  fd = open (naive, O_RDONLY);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  /* ...the confined one refuses. */
  fd = runner_workspace_open_beneath (fx->ws, rel, O_RDONLY, 0, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);
  fd = runner_workspace_open_beneath (fx->ws, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);
  fd = runner_workspace_open_beneath (fx->ws, "sub/new", O_WRONLY | O_CREAT | O_EXCL, 0644, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);
  assert_names (fx->outside, "secret");

  /* Nor does ".." below the root pass, nor an absolute path. */
  fd = runner_workspace_open_beneath (fx->ws, "moved/../../outside/secret", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);
  fd = runner_workspace_open_beneath (fx->ws, "/etc/passwd", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, ==, -1);
  expect_forbidden (&error);

  /* What stays inside opens. */
  fd = runner_workspace_open_beneath (fx->ws, "moved/../moved/secret", O_RDONLY, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  fd = runner_workspace_open_beneath (fx->ws, "", O_RDONLY | O_DIRECTORY, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
}

/* Listing */

static void
test_list_excluded (Fixture       *fx,
                    gconstpointer  data)
{
  const char * const names[] = { "build", "*.o", NULL };
  g_autofree char *tree = NULL;

  put_dir (fx, "node_modules");
  put_dir (fx, "build");
  put_dir (fx, "src/build");
  put_file (fx, "src/build/x", "x");
  put_file (fx, "src/a.c", "a");
  put_file (fx, ".a.c.runner-AbC123", "temporary");

  g_assert_true (runner_workspace_is_excluded (fx->ws, "node_modules"));
  g_assert_true (runner_workspace_is_excluded (fx->ws, "a/.git/config"));
  g_assert_false (runner_workspace_is_excluded (fx->ws, "src/a.c"));
  g_assert_cmpstrv (runner_workspace_get_excluded (fx->ws), ((const char * const[]) { "node_modules", ".git", NULL }));

  runner_workspace_set_excluded (fx->ws, names);
  g_assert_true (runner_workspace_is_excluded (fx->ws, "src/build/x"));
  g_assert_false (runner_workspace_is_excluded (fx->ws, "node_modules"));
  /* Names, not patterns. */
  g_assert_false (runner_workspace_is_excluded (fx->ws, "a.o"));
  tree = list_text (fx, "", -1);
  g_assert_cmpstr (tree, ==,
                   "[{\"name\":\"node_modules\",\"type\":\"directory\",\"path\":\"/workspace/node_modules\",\"children\":[]},"
                   "{\"name\":\"src\",\"type\":\"directory\",\"path\":\"/workspace/src\",\"children\":["
                   "{\"name\":\"a.c\",\"type\":\"file\",\"path\":\"/workspace/src/a.c\"}]}]");

  runner_workspace_set_excluded (fx->ws, NULL);
  g_assert_true (runner_workspace_is_excluded (fx->ws, "node_modules"));
}

static void
test_list_depth (Fixture       *fx,
                 gconstpointer  data)
{
  g_autofree char *depth0 = NULL;
  g_autofree char *depth1 = NULL;

  put_dir (fx, "a/b/c");
  put_file (fx, "a/b/c/f", "f");
  put_file (fx, "top", "t");

  depth0 = list_text (fx, "", 0);
  g_assert_cmpstr (depth0, ==,
                   "[{\"name\":\"a\",\"type\":\"directory\",\"path\":\"/workspace/a\"},"
                   "{\"name\":\"top\",\"type\":\"file\",\"path\":\"/workspace/top\"}]");
  depth1 = list_text (fx, "a", 1);
  g_assert_cmpstr (depth1, ==,
                   "[{\"name\":\"b\",\"type\":\"directory\",\"path\":\"/workspace/a/b\",\"children\":["
                   "{\"name\":\"c\",\"type\":\"directory\",\"path\":\"/workspace/a/b/c\"}]}]");
}

static void
test_list_truncated (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;
  gboolean truncated = FALSE;

  put_dir (fx, "d");
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("d/f%u", i);

      put_file (fx, name, "x");
    }
  put_file (fx, "z", "z");

  runner_workspace_set_max_entries (fx->ws, 4);
  tree = do_list (fx, "", -1, &truncated, &error);
  g_assert_no_error (error);
  g_assert_true (truncated);
  json = to_json (tree);
  g_assert_cmpstr (json, ==,
                   "[{\"name\":\"d\",\"type\":\"directory\",\"path\":\"/workspace/d\",\"children\":["
                   "{\"name\":\"f0\",\"type\":\"file\",\"path\":\"/workspace/d/f0\"},"
                   "{\"name\":\"f1\",\"type\":\"file\",\"path\":\"/workspace/d/f1\"},"
                   "{\"name\":\"f2\",\"type\":\"file\",\"path\":\"/workspace/d/f2\"}]}]");

  runner_workspace_set_max_entries (fx->ws, 12);
  g_clear_pointer (&tree, json_node_unref);
  tree = do_list (fx, "", -1, &truncated, &error);
  g_assert_no_error (error);
  g_assert_false (truncated);
}

/* Two links to the next level at each of 16 levels would list 2^16 copies
 * of the last one if links were followed; each directory is listed once. */
static void
test_list_links_multiply (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;
  gboolean truncated = TRUE;
  guint count = 0;

  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *dir = g_strdup_printf ("d%02u", i);
      g_autofree char *a = g_strdup_printf ("d%02u/a", i);
      g_autofree char *b = g_strdup_printf ("d%02u/b", i);
      g_autofree char *next = g_strdup_printf ("../d%02u", i + 1);

      put_dir (fx, dir);
      put_link (fx, a, next);
      put_link (fx, b, next);
    }
  put_dir (fx, "d16");
  put_file (fx, "d16/leaf", "x");

  tree = do_list (fx, "", -1, &truncated, &error);
  g_assert_no_error (error);
  g_assert_false (truncated);
  json = to_json (tree);
  for (const char *p = json; (p = strstr (p, "\"name\":")) != NULL; p++)
    count++;
  /* 17 directories, 32 links, one file */
  g_assert_cmpuint (count, ==, 17 + 32 + 1);
}

static char *
list_json (Fixture  *fx,
           gboolean *truncated)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;
  char *text;

  runner_workspace_list_json_async (fx->ws, "", -1, NULL, result_cb, &result);
  text = runner_workspace_list_json_finish (fx->ws, wait_result (&result), truncated, &length,
                                            &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, strlen (text));
  return text;
}

/* Past max-tree-bytes the text stops, whole, within the bound. */
static void
test_list_truncated_bytes (Fixture       *fx,
                           gconstpointer  data)
{
  g_autofree char *full = NULL;
  gboolean truncated = TRUE;

  put_dir (fx, "a/b/c");
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *deep = g_strdup_printf ("a/b/c/f%u", i);
      g_autofree char *mid = g_strdup_printf ("a/g%u", i);
      g_autofree char *top = g_strdup_printf ("z%u", i);

      put_file (fx, deep, "x");
      put_file (fx, mid, "x");
      put_file (fx, top, "x");
    }
  full = list_json (fx, &truncated);
  g_assert_false (truncated);
  g_assert_cmpuint (strlen (full), >, 2048);

  for (gsize max = 1024; max <= strlen (full); max += 37)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;

      runner_workspace_set_max_tree_bytes (fx->ws, max);
      text = list_json (fx, &truncated);
      g_assert_true (truncated);
      g_assert_cmpuint (strlen (text), <=, max);
      g_assert_cmpuint (strlen (text), >, max - 128);
      json_parser_load_from_data (parser, text, -1, &error);
      g_assert_no_error (error);
    }

  runner_workspace_set_max_tree_bytes (fx->ws, strlen (full) + 1);
  g_clear_pointer (&full, g_free);
  full = list_json (fx, &truncated);
  g_assert_false (truncated);
}

static void
test_list_errors (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  put_file (fx, "file", "x");
  g_assert_null (do_list (fx, "file", -1, NULL, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "ENOTDIR");
  g_assert_null (do_list (fx, "missing", -1, NULL, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "ENOENT");
  g_assert_null (do_list (fx, "/workspace/../", -1, NULL, &error));
  assert_forbidden (error);
}

/* The text listing is the node listing, serialized; odd names included. */
static void
test_list_json_text (Fixture       *fx,
                     gconstpointer  data)
{
  const char *names[] = { "quote\"d", "back\\slash", "new\nline", "tab\t", "ctl\001x", "cr\r", "ff\f",
                          "ü ñ €", "sp ace" };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  g_autofree char *from_node = NULL;
  g_autofree char *reparsed = NULL;
  gboolean truncated = TRUE;
  gsize length = 0;

  put_dir (fx, "dir/sub");
  put_file (fx, "\377\376bad-utf8", "x");
  put_dir (fx, "bad\377dir");
  put_file (fx, "bad\377dir/inside", "x");
  put_link (fx, "bad\377dir/link", "inside");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename ("dir", names[i], NULL);

      put_file (fx, path, "x");
    }
  put_link (fx, "dir/sub/up", "..");

  runner_workspace_list_json_async (fx->ws, "", -1, NULL, result_cb, &result);
  text = runner_workspace_list_json_finish (fx->ws, wait_result (&result), &truncated, &length, &error);
  g_assert_no_error (error);
  g_assert_false (truncated);
  g_assert_cmpuint (length, ==, strlen (text));
  g_assert_true (g_utf8_validate (text, -1, NULL));

  from_node = list_text (fx, "", -1);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  reparsed = to_json (json_parser_get_root (parser));
  g_assert_cmpstr (reparsed, ==, from_node);

  /* The symlink back up is a directory without children: no loop. */
  g_assert_nonnull (strstr (text, "{\"name\":\"up\",\"type\":\"directory\",\"path\":\"/workspace/dir/sub/up\"}"));
  g_assert_nonnull (strstr (text, "\"name\":\"quote\\\"d\""));
  g_assert_nonnull (strstr (text, "\"name\":\"ctl\\u0001x\""));
  /* escaped as every other JSON text Runner sends */
  g_assert_nonnull (strstr (text, "\"name\":\"cr\\r\""));
  g_assert_nonnull (strstr (text, "\"name\":\"ff\\f\""));
  g_assert_nonnull (strstr (text, "\"name\":\"\357\277\275\357\277\275bad-utf8\""));
  g_assert_nonnull (strstr (text, "\"path\":\"/workspace/bad\357\277\275dir/inside\""));

  /* ... and exactly, in base64; a symlink below such a name is followed. */
  g_assert_nonnull (strstr (text, "bad-utf8\",\"nameBytes\":\"//5iYWQtdXRmOA==\",\"pathBytes\":\"L3dvcmtzcGFjZS///mJhZC11dGY4\"}"));
  g_assert_nonnull (strstr (text, "{\"name\":\"inside\",\"type\":\"file\",\"path\":\"/workspace/bad\357\277\275dir/inside\",\"pathBytes\":\"L3dvcmtzcGFjZS9iYWT/ZGlyL2luc2lkZQ==\"}"));
  g_assert_nonnull (strstr (text, "{\"name\":\"link\",\"type\":\"file\",\"path\":\"/workspace/bad\357\277\275dir/link\",\"pathBytes\":\"L3dvcmtzcGFjZS9iYWT/ZGlyL2xpbms=\"}"));
}

/* Reading */

static void
test_read_refusals (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *fifo = in_root (fx, "fifo");

  put_file (fx, "ten", "0123456789");
  put_dir (fx, "dir");
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  runner_workspace_set_max_file_size (fx->ws, 10);
  g_assert_cmpint (runner_workspace_get_max_file_size (fx->ws), ==, 10);

  bytes = do_read (fx, "ten", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 10);
  g_clear_pointer (&bytes, g_bytes_unref);

  put_file (fx, "eleven", "0123456789a");
  bytes = do_read (fx, "eleven", &error);
  g_assert_null (bytes);
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG, "E2BIG");

  bytes = do_read (fx, "dir", &error);
  g_assert_null (bytes);
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "EISDIR");

  bytes = do_read (fx, "/workspace", &error);
  g_assert_null (bytes);
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, NULL);

  /* A FIFO with no writer must not hang the read. */
  bytes = do_read (fx, "fifo", &error);
  g_assert_null (bytes);
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "EINVAL");

  bytes = do_read (fx, "missing", &error);
  g_assert_null (bytes);
  assert_code (error, "ENOENT");
  g_clear_error (&error);

  bytes = do_read (fx, "../ws/ten", &error);
  g_assert_null (bytes);
  assert_forbidden (error);
}

/* Writing */

static mode_t
file_mode (Fixture    *fx,
           const char *relative)
{
  g_autofree char *path = in_root (fx, relative);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
test_write_atomic (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = in_root (fx, "keep.sh");
  mode_t old_umask;

  put_file (fx, "keep.sh", "old");
  g_assert_cmpint (chmod (path, 0751), ==, 0);
  g_assert_true (do_write (fx, "keep.sh", "new", FALSE, &error));
  g_assert_no_error (error);
  assert_file (fx, "keep.sh", "new");
  g_assert_cmpint (file_mode (fx, "keep.sh"), ==, 0751);

  /* New files are 0644 whatever the umask. */
  old_umask = umask (077);
  g_assert_true (do_write (fx, "a/b/new.txt", "n", FALSE, &error));
  umask (old_umask);
  g_assert_no_error (error);
  g_assert_cmpint (file_mode (fx, "a/b/new.txt"), ==, 0644);
  g_assert_cmpint (file_mode (fx, "a/b"), ==, 0755);

  /* Empty content is content. */
  g_assert_true (do_write (fx, "empty", "", FALSE, &error));
  g_assert_no_error (error);
  assert_file (fx, "empty", "");

  /* No temporary file is left anywhere. */
  assert_root_names (fx, "", "a empty keep.sh");
  assert_root_names (fx, "a/b", "new.txt");
  assert_changes (fx, "written keep.sh; created-dir a; created-dir a/b; written a/b/new.txt; written empty");
}

static void
test_write_refusals (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *big = g_strnfill (11, 'x');

  put_file (fx, "file", "file");
  put_dir (fx, "dir");
  put_file (fx, "dir/inner", "inner");

  /* A parent that is a file. */
  g_assert_false (do_write (fx, "file/x.txt", "x", FALSE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, NULL);
  g_assert_false (do_write (fx, "file/deeper/x.txt", "x", FALSE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, NULL);

  /* A directory, the root. */
  g_assert_false (do_write (fx, "dir", "x", FALSE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "EISDIR");
  g_assert_false (do_write (fx, "/workspace", "x", FALSE, &error));
  expect_forbidden (&error);
  g_assert_false (do_write (fx, "", "x", FALSE, &error));
  expect_forbidden (&error);

  /* Too big. */
  runner_workspace_set_max_file_size (fx->ws, 10);
  g_assert_false (do_write (fx, "file", big, FALSE, &error));
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG, "E2BIG");
  runner_workspace_set_max_file_size (fx->ws, 1024);

  /* Escapes. */
  g_assert_false (do_write (fx, "../escape", "x", FALSE, &error));
  expect_forbidden (&error);

  /* Cancelled after the parents were made: they go again. */
  g_cancellable_cancel (cancellable);
  g_assert_false (do_write_full (fx, "p/q/r.txt", "x", FALSE, cancellable, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);

  /* Nothing changed. */
  assert_root_names (fx, "", "dir file");
  assert_root_names (fx, "dir", "inner");
  assert_file (fx, "file", "file");
  assert_names (fx->tmp, "outside ws");
  assert_changes (fx, "");
}

static void
test_write_exclusive (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (do_write (fx, "new.txt", "first", TRUE, &error));
  g_assert_no_error (error);
  assert_file (fx, "new.txt", "first");
  g_assert_false (do_write (fx, "new.txt", "second", TRUE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_EXISTS, "EEXIST");
  assert_file (fx, "new.txt", "first");

  put_dir (fx, "d");
  g_assert_false (do_write (fx, "d", "x", TRUE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, NULL);

  g_assert_true (do_write (fx, "new.txt", "third", FALSE, &error));
  g_assert_no_error (error);
  assert_file (fx, "new.txt", "third");
  assert_root_names (fx, "", "d new.txt");
  assert_changes (fx, "written new.txt; written new.txt");
}

/* mkdir, rename, delete */

static void
test_mkdir (Fixture       *fx,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (do_mkdir (fx, "/workspace/x/y/z", &error));
  g_assert_no_error (error);
  assert_root_names (fx, "x/y", "z");
  g_assert_true (do_mkdir (fx, "x/y", &error));
  g_assert_no_error (error);
  g_assert_true (do_mkdir (fx, "/workspace", &error));
  g_assert_no_error (error);

  put_file (fx, "x/file", "f");
  g_assert_false (do_mkdir (fx, "x/file", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_EXISTS, "EEXIST");
  g_assert_false (do_mkdir (fx, "x/file/sub", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, NULL);
  g_assert_false (do_mkdir (fx, "../x", &error));
  expect_forbidden (&error);

  assert_root_names (fx, "x", "file y");
  assert_file (fx, "x/file", "f");
  assert_changes (fx, "created-dir x; created-dir x/y; created-dir x/y/z");
}

static void
test_rename (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  put_file (fx, "a", "a");
  put_file (fx, "b", "b");
  put_dir (fx, "d/e");
  put_file (fx, "d/e/f", "f");
  put_dir (fx, "full");
  put_file (fx, "full/x", "x");
  put_dir (fx, "empty");

  /* Over a file: replaced, as rename(2) does. */
  g_assert_true (do_rename (fx, "a", "/workspace/b", &error));
  g_assert_no_error (error);
  assert_file (fx, "b", "a");
  /* Into new parents. */
  g_assert_true (do_rename (fx, "d", "n/m/d2", &error));
  g_assert_no_error (error);
  assert_file (fx, "n/m/d2/e/f", "f");
  /* A directory over an empty one. */
  g_assert_true (do_rename (fx, "n/m/d2", "empty", &error));
  g_assert_no_error (error);
  assert_file (fx, "empty/e/f", "f");
  /* To itself: nothing happens. */
  g_assert_true (do_rename (fx, "b", "./b", &error));
  g_assert_no_error (error);
  assert_changes (fx, "renamed a b; created-dir n; created-dir n/m; renamed d n/m/d2; renamed n/m/d2 empty");
  g_ptr_array_set_size (fx->changes, 0);

  /* Refusals, and nothing changes. */
  g_assert_false (do_rename (fx, "empty", "full", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY, "ENOTEMPTY");
  g_assert_false (do_rename (fx, "b", "full", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, NULL);
  g_assert_false (do_rename (fx, "full", "b", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, NULL);
  g_assert_false (do_rename (fx, "empty", "empty/e/inside", &error));
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "EINVAL");
  g_assert_false (do_rename (fx, "", "elsewhere", &error));
  expect_forbidden (&error);
  g_assert_false (do_rename (fx, "/workspace", "elsewhere", &error));
  expect_forbidden (&error);
  g_assert_false (do_rename (fx, "full", "/workspace", &error));
  expect_forbidden (&error);
  g_assert_false (do_rename (fx, "b", "../b", &error));
  expect_forbidden (&error);
  g_assert_false (do_rename (fx, "missing", "new/parents/x", &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, NULL);
  /* Into itself through a symlink: the kernel refuses, and the parents
   * made for it go again. */
  put_link (fx, "lnkfull", "full");
  g_assert_false (do_rename (fx, "full", "lnkfull/q/r/x", &error));
  expect_error (&error, RUNNER_ERROR, RUNNER_ERROR_INVALID, NULL);

  assert_root_names (fx, "", "b empty full lnkfull n");
  assert_root_names (fx, "full", "x");
  assert_root_names (fx, "empty/e", "f");
  assert_root_names (fx, "n/m", "");
  assert_file (fx, "b", "a");
}

static void
test_delete (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  put_file (fx, "f", "f");
  put_dir (fx, "empty");
  put_dir (fx, "tree/a/b");
  put_file (fx, "tree/a/b/c", "c");
  put_file (fx, "tree/top", "t");
  put_outside (fx, "keep", "keep");
  put_link (fx, "tree/a/out", "../../../outside");

  g_assert_false (do_delete (fx, "tree", FALSE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY, "ENOTEMPTY");
  assert_root_names (fx, "tree", "a top");
  g_assert_false (do_delete (fx, "/workspace", TRUE, &error));
  expect_forbidden (&error);
  g_assert_false (do_delete (fx, "", TRUE, &error));
  expect_forbidden (&error);
  g_assert_false (do_delete (fx, "missing", TRUE, &error));
  expect_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, NULL);
  g_assert_false (do_delete (fx, "tree/a/out/keep", TRUE, &error));
  expect_forbidden (&error);
  assert_changes (fx, "");

  g_assert_true (do_delete (fx, "f", FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (do_delete (fx, "empty", FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (do_delete (fx, "tree", TRUE, &error));
  g_assert_no_error (error);
  assert_root_names (fx, "", "");
  /* The recursive delete went past the symlink, not through it. */
  assert_names (fx->outside, "keep");
  assert_changes (fx, "deleted f; deleted empty; deleted tree");
}

/* Watching */

static gboolean
has_change (Fixture    *fx,
            const char *change)
{
  for (guint i = 0; i < fx->changes->len; i++)
    if (g_strcmp0 (g_ptr_array_index (fx->changes, i), change) == 0)
      return TRUE;
  return FALSE;
}

typedef struct
{
  Fixture *fx;
  const char *change;
} Awaited;

static gboolean
was_reported (gpointer data)
{
  Awaited *awaited = data;

  return has_change (awaited->fx, awaited->change);
}

/* Iterates the main context until @change was reported; fails after a timeout. */
static void
wait_change (Fixture    *fx,
             const char *change)
{
  Awaited awaited = { fx, change };

  if (g_test_verbose ())
    g_test_message ("waiting for \"%s\"", change);
  wait_until (was_reported, &awaited);
}

/* Runs @command with sh in the root, as the user's shell would. */
static void
shell (Fixture    *fx,
       const char *command)
{
  const char *argv[] = { "/bin/sh", "-c", command, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_spawn_sync (fx->root, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* A change made by us after all others: everything before it was seen. */
static void
sync_marker (Fixture *fx)
{
  static guint n;
  g_autofree char *cmd = g_strdup_printf (": > marker%u", ++n);
  g_autofree char *change = g_strdup_printf ("written marker%u", n);

  shell (fx, cmd);
  wait_change (fx, change);
  g_ptr_array_remove_index (fx->changes, fx->changes->len - 1);
}

static void
test_watch_others (Fixture       *fx,
                   gconstpointer  data)
{
  shell (fx, "echo hi > hello.txt");
  wait_change (fx, "written hello.txt");
  shell (fx, "mkdir -p src/lib && echo x > src/lib/x.c");
  wait_change (fx, "created-dir src");
  /* The new directory is watched too. */
  shell (fx, "echo y > src/lib/y.c");
  wait_change (fx, "written src/lib/y.c");
  shell (fx, "mv hello.txt src/hello.txt");
  wait_change (fx, "renamed hello.txt src/hello.txt");
  shell (fx, "mv src moved");
  wait_change (fx, "renamed src moved");
  /* Watches follow a moved directory. */
  shell (fx, "echo z > moved/lib/z.c");
  wait_change (fx, "written moved/lib/z.c");
  shell (fx, "rm -r moved");
  wait_change (fx, "deleted moved");
}

static void
test_watch_excluded_and_debounce (Fixture       *fx,
                                  gconstpointer  data)
{
  shell (fx, "mkdir node_modules");
  sync_marker (fx);
  g_ptr_array_set_size (fx->changes, 0);

  shell (fx, "echo 1 > node_modules/a && mkdir -p node_modules/b/.git && echo 2 > node_modules/b/c "
             "&& echo 1 > f && echo 2 >> f && echo 3 >> f");
  sync_marker (fx);
  /* Three writes in a row: one report. Nothing from node_modules. */
  assert_changes (fx, "written f");
}

static void
test_watch_own_once (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (do_write (fx, "a/b.txt", "one", FALSE, &error));
  g_assert_true (do_write (fx, "a/b.txt", "two", FALSE, &error));
  g_assert_true (do_write (fx, "a/c.txt", "new", TRUE, &error));
  g_assert_true (do_mkdir (fx, "m/n", &error));
  g_assert_true (do_rename (fx, "a/b.txt", "m/n/b.txt", &error));
  g_assert_true (do_delete (fx, "a", TRUE, &error));
  g_assert_no_error (error);
  sync_marker (fx);
  assert_changes (fx, "created-dir a; written a/b.txt; written a/b.txt; written a/c.txt; "
                      "created-dir m; created-dir m/n; renamed a/b.txt m/n/b.txt; deleted a");
  /* The watcher still sees directories we made. */
  shell (fx, "echo x > m/n/other");
  wait_change (fx, "written m/n/other");
}

static void
test_watch_overflow (Fixture       *fx,
                     gconstpointer  data)
{
  g_autofree char *path1 = in_root (fx, "f1");
  g_autofree char *path2 = in_root (fx, "f2");
  int fd1 = open (path1, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int fd2 = open (path2, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  guint max_queued = 16384;
  g_autofree char *sysctl = NULL;

  if (g_file_get_contents ("/proc/sys/fs/inotify/max_queued_events", &sysctl, NULL, NULL))
    max_queued = (guint) g_ascii_strtoull (sysctl, NULL, 10);

  /* Alternating writes: the kernel merges only identical consecutive
   * events, so each write queues one, until the queue overflows. */
  g_assert_cmpint (fd1, >=, 0);
  g_assert_cmpint (fd2, >=, 0);
  for (guint i = 0; i <= max_queued / 2 + 1; i++)
    {
      g_assert_cmpint (write (fd1, "x", 1), ==, 1);
      g_assert_cmpint (write (fd2, "x", 1), ==, 1);
    }
  close (fd1);
  close (fd2);
  wait_change (fx, "written ");
}

static void
test_watch_start_twice (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (runner_workspace_start_watching (fx->ws, &error));
  g_assert_no_error (error);
  shell (fx, "echo hi > once");
  sync_marker (fx);
  assert_changes (fx, "written once");
}

static void
test_new_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("runner-workspace-XXXXXX", &error);
  g_autofree char *file = g_build_filename (tmp, "file", NULL);
  g_autofree char *below = g_build_filename (file, "ws", NULL);
  g_autofree char *link = g_build_filename (tmp, "link", NULL);
  g_autoptr(RunnerWorkspace) ws = NULL;

  g_assert_no_error (error);
  g_file_set_contents (file, "x", 1, &error);
  g_assert_no_error (error);
  ws = runner_workspace_new (below, &error);
  g_assert_null (ws);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* The root is canonical: symlinks in it are resolved once. */
  g_assert_cmpint (symlink (tmp, link), ==, 0);
  ws = runner_workspace_new (link, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (runner_workspace_get_root (ws), ==, tmp);
  g_clear_object (&ws);

  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (g_unlink (file), ==, 0);
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  const struct { const char *name; void (*func) (Fixture *, gconstpointer); } confine[] = {
    { "etc", test_confine_etc },
    { "outside-dir", test_confine_outside_dir },
    { "chain", test_confine_chain },
    { "inside-links", test_confine_inside_links },
    { "swap", test_confine_swap },
  };

  g_test_init (&argc, &argv, NULL);

#define ADD(name, func, variant) \
  g_test_add ("/runner/workspace/" name, Fixture, variant, fixture_setup, func, fixture_teardown)

  ADD ("resolve/ok", test_resolve_ok, VARIANT (0));
  ADD ("resolve/refused", test_resolve_refused, VARIANT (0));
  ADD ("resolve/nul", test_resolve_nul, VARIANT (0));
  ADD ("resolve/virtual", test_virtual, VARIANT (0));
  g_test_add_func ("/runner/workspace/new/errors", test_new_errors);
  for (guint i = 0; i < G_N_ELEMENTS (confine); i++)
    {
      g_autofree char *with = g_strdup_printf ("/runner/workspace/confine/openat2/%s", confine[i].name);
      g_autofree char *without = g_strdup_printf ("/runner/workspace/confine/walk/%s", confine[i].name);

      g_test_add (with, Fixture, NULL, fixture_setup, confine[i].func, fixture_teardown);
      g_test_add (without, Fixture, VARIANT (NO_OPENAT2), fixture_setup, confine[i].func, fixture_teardown);
    }
  ADD ("list/shape", test_list_shape, VARIANT (0));
  ADD ("list/sub", test_list_sub, VARIANT (0));
  ADD ("list/excluded", test_list_excluded, VARIANT (0));
  ADD ("list/depth", test_list_depth, VARIANT (0));
  ADD ("list/truncated", test_list_truncated, VARIANT (0));
  ADD ("list/truncated-bytes", test_list_truncated_bytes, VARIANT (0));
  ADD ("list/links-multiply", test_list_links_multiply, VARIANT (0));
  ADD ("list/errors", test_list_errors, VARIANT (0));
  ADD ("list/json-text", test_list_json_text, VARIANT (0));
  ADD ("read/binary", test_read_binary, VARIANT (0));
  ADD ("read/refusals", test_read_refusals, VARIANT (0));
  ADD ("write/basic", test_write_basic, VARIANT (0));
  ADD ("write/atomic", test_write_atomic, VARIANT (0));
  ADD ("write/atomic-named-temp", test_write_atomic, VARIANT (NO_TMPFILE));
  ADD ("write/refusals", test_write_refusals, VARIANT (0));
  ADD ("write/exclusive", test_write_exclusive, VARIANT (0));
  ADD ("write/exclusive-named-temp", test_write_exclusive, VARIANT (NO_TMPFILE));
  ADD ("ops/basic", test_ops_basic, VARIANT (0));
  ADD ("ops/mkdir", test_mkdir, VARIANT (0));
  ADD ("ops/rename", test_rename, VARIANT (0));
  ADD ("ops/delete", test_delete, VARIANT (0));
  ADD ("watch/others", test_watch_others, VARIANT (WATCHING));
  ADD ("watch/excluded-debounce", test_watch_excluded_and_debounce, VARIANT (WATCHING));
  ADD ("watch/own-once", test_watch_own_once, VARIANT (WATCHING));
  ADD ("watch/own-once-named-temp", test_watch_own_once, VARIANT (WATCHING | NO_TMPFILE));
  ADD ("watch/overflow", test_watch_overflow, VARIANT (WATCHING));
  ADD ("watch/start-twice", test_watch_start_twice, VARIANT (WATCHING));

#undef ADD

  return g_test_run ();
}
