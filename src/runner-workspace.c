/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace.h"
#include "runner-workspace-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-beneath.h"
#include "runner-error.h"

/*
 * The workspace object: its settings, its ::changed signal, and client paths
 * (`/workspace/...`), resolved and opened through runner-beneath. What it
 * does lives beside it (see runner-workspace-private.h).
 */

#define DEFAULT_MAX_FILE_SIZE (10 * 1024 * 1024)
#define DEFAULT_MAX_ENTRIES 100000
/* A quarter of the default per-client queue (RUNNER_MAX_QUEUED, 8M). */
#define DEFAULT_MAX_TREE_BYTES (2 * 1024 * 1024)

static void runner_workspace_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerWorkspace, runner_workspace, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      runner_workspace_initable_iface_init))

enum
{
  PROP_0,
  PROP_ROOT,
  PROP_MAX_FILE_SIZE,
  PROP_MAX_ENTRIES,
  PROP_MAX_TREE_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char * const default_excluded[] = { "node_modules", ".git", NULL };

/* ---------------------------------------------------------------------- */
/* Paths */

/**
 * runner_workspace_resolve_len:
 * @self: a #RunnerWorkspace
 * @path: a client path, not necessarily NUL-terminated
 * @length: the length of @path in bytes, or -1 if it is NUL-terminated
 * @error: return location for a #GError
 *
 * Like runner_workspace_resolve(), for strings that may carry NUL bytes
 * (JSON's `\u0000`): any NUL inside @length refuses the path.
 *
 * Returns: (transfer full): the normalized relative path, or %NULL
 */
char *
runner_workspace_resolve_len (RunnerWorkspace *self,
                              const char      *path,
                              gssize           length,
                              GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (path != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return runner_beneath_normalize (path, length, NULL, error);
}

/**
 * runner_workspace_resolve:
 * @self: a #RunnerWorkspace
 * @path: a client path: `/workspace/...` or relative to it
 * @error: return location for a #GError
 *
 * Checks @path lexically and normalizes it. Refused with
 * %RUNNER_ERROR_FORBIDDEN: `..` that climbs above the root, absolute paths
 * outside the virtual root, NUL bytes, paths of PATH_MAX bytes or more and
 * components over NAME_MAX. Symlinks are checked when the path is opened,
 * by runner_workspace_open_beneath().
 *
 * Returns: (transfer full): the relative path ("" for the root, "a/b.txt"),
 *   or %NULL with @error set
 */
char *
runner_workspace_resolve (RunnerWorkspace *self,
                          const char      *path,
                          GError         **error)
{
  return runner_workspace_resolve_len (self, path, -1, error);
}

/**
 * runner_workspace_to_virtual:
 * @self: a #RunnerWorkspace
 * @relative: a relative path as runner_workspace_resolve() returns it
 *
 * Returns: (transfer full): the client's view of @relative, `/workspace/...`
 */
char *
runner_workspace_to_virtual (RunnerWorkspace *self,
                             const char      *relative)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (relative != NULL, NULL);

  return runner_beneath_to_virtual (relative);
}

RunnerBeneathFlags
runner_workspace_get_beneath_flags (RunnerWorkspace *self)
{
  return g_atomic_int_get (&self->use_openat2) ? RUNNER_BENEATH_DEFAULT : RUNNER_BENEATH_NO_OPENAT2;
}

/* Returns an fd or -1 with errno set; EXDEV means "leads outside". */
int
runner_workspace_open_errno (RunnerWorkspace *self,
                             const char      *relative,
                             int              flags,
                             mode_t           mode)
{
  return runner_beneath_open (self->root_fd, self->root, relative, flags, mode,
                              runner_workspace_get_beneath_flags (self));
}

/**
 * runner_workspace_open_beneath:
 * @self: a #RunnerWorkspace
 * @relative: a path relative to the root (as runner_workspace_resolve() returns)
 * @flags: open(2) flags; O_CLOEXEC is always added
 * @mode: the mode for O_CREAT
 * @error: return location for a #GError
 *
 * runner_beneath_open() on the workspace's root: no component, symlinks
 * included, can lead outside it, even if the tree changes during the call.
 * Symlinks that stay inside are followed (unless @flags has O_NOFOLLOW); an
 * escape is %RUNNER_ERROR_FORBIDDEN.
 *
 * Returns: a file descriptor the caller closes, or -1 with @error set
 */
int
runner_workspace_open_beneath (RunnerWorkspace *self,
                               const char      *relative,
                               int              flags,
                               mode_t           mode,
                               GError         **error)
{
  int fd;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), -1);
  g_return_val_if_fail (relative != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  fd = runner_workspace_open_errno (self, relative, flags, mode);
  if (fd < 0)
    runner_beneath_set_error (error, errno, relative);
  return fd;
}

void
runner_workspace_emit_changed (RunnerWorkspace *self,
                               const Change    *change)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, change->path, change->kind, change->other);
}

void
runner_workspace_set_use_openat2 (RunnerWorkspace *self,
                                  gboolean         use_openat2)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_atomic_int_set (&self->use_openat2, !!use_openat2);
}

void
runner_workspace_set_use_tmpfile (RunnerWorkspace *self,
                                  gboolean         use_tmpfile)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_atomic_int_set (&self->use_tmpfile, !!use_tmpfile);
}

gboolean
runner_workspace_get_use_openat2 (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);

  return g_atomic_int_get (&self->use_openat2) && runner_beneath_have_openat2 ();
}

/* ---------------------------------------------------------------------- */
/* Settings */

/**
 * runner_workspace_get_root:
 * @self: a #RunnerWorkspace
 *
 * Returns: the real root directory, absolute and without symlinks
 */
const char *
runner_workspace_get_root (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);

  return self->root;
}

/**
 * runner_workspace_set_excluded:
 * @self: a #RunnerWorkspace
 * @names: (nullable) (array zero-terminated=1): file names to leave out, or
 *   %NULL for the default (node_modules, .git)
 *
 * Names (not paths) left out of listings at every level and not watched.
 * Takes effect for operations started afterwards.
 */
void
runner_workspace_set_excluded (RunnerWorkspace    *self,
                               const char * const *names)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_strfreev (self->excluded);
  self->excluded = g_strdupv ((char **) (names != NULL ? names : default_excluded));
}

/**
 * runner_workspace_get_excluded:
 * @self: a #RunnerWorkspace
 *
 * Returns: (transfer none): the excluded names
 */
const char * const *
runner_workspace_get_excluded (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);

  return (const char * const *) self->excluded;
}

/**
 * runner_workspace_is_excluded:
 * @self: a #RunnerWorkspace
 * @relative: a relative path
 *
 * Returns: %TRUE if any component of @relative is an excluded name
 */
gboolean
runner_workspace_is_excluded (RunnerWorkspace *self,
                              const char      *relative)
{
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);
  g_return_val_if_fail (relative != NULL, FALSE);

  parts = g_strsplit (relative, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (runner_workspace_name_is_excluded (self->excluded, parts[i]))
      return TRUE;
  return FALSE;
}

void
runner_workspace_set_max_file_size (RunnerWorkspace *self,
                                    goffset          max_file_size)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (max_file_size >= 0);

  if (self->max_file_size == max_file_size)
    return;
  self->max_file_size = max_file_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FILE_SIZE]);
}

goffset
runner_workspace_get_max_file_size (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_file_size;
}

void
runner_workspace_set_max_entries (RunnerWorkspace *self,
                                  guint            max_entries)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  if (self->max_entries == max_entries)
    return;
  self->max_entries = max_entries;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ENTRIES]);
}

guint
runner_workspace_get_max_entries (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_entries;
}

/**
 * runner_workspace_set_max_tree_bytes:
 * @self: a #RunnerWorkspace
 * @max_tree_bytes: the most bytes of JSON text in one listing (at least 1024)
 *
 * Bounds the text of runner_workspace_list_json_async(): a listing that
 * would be longer stops before the entry that crosses the bound and is
 * marked truncated, so that it fits what a client may have queued.
 */
void
runner_workspace_set_max_tree_bytes (RunnerWorkspace *self,
                                     gsize            max_tree_bytes)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  max_tree_bytes = MAX (max_tree_bytes, 1024);
  if (self->max_tree_bytes == max_tree_bytes)
    return;
  self->max_tree_bytes = max_tree_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TREE_BYTES]);
}

gsize
runner_workspace_get_max_tree_bytes (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_tree_bytes;
}

/* ---------------------------------------------------------------------- */
/* Object */

static gboolean
runner_workspace_initable_init (GInitable    *initable,
                                GCancellable *cancellable,
                                GError      **error)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (initable);
  g_autofree char *real = NULL;
  int errsv;

  if (self->root == NULL || *self->root == '\0')
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("No workspace directory given"));
      return FALSE;
    }
  if (g_mkdir_with_parents (self->root, 0755) < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the workspace %s: %s"), self->root, g_strerror (errsv));
      return FALSE;
    }
  real = realpath (self->root, NULL);
  if (real != NULL)
    self->root_fd = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (real == NULL || self->root_fd < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot open the workspace %s: %s"), self->root, g_strerror (errsv));
      return FALSE;
    }
  g_free (self->root);
  self->root = g_steal_pointer (&real);
  return TRUE;
}

static void
runner_workspace_initable_iface_init (GInitableIface *iface)
{
  iface->init = runner_workspace_initable_init;
}

static void
runner_workspace_dispose (GObject *object)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  g_clear_handle_id (&self->inotify_source, g_source_remove);
  g_clear_handle_id (&self->flush_source, g_source_remove);
  if (self->inotify_fd >= 0)
    {
      close (self->inotify_fd);
      self->inotify_fd = -1;
    }
  g_hash_table_remove_all (self->watches);

  G_OBJECT_CLASS (runner_workspace_parent_class)->dispose (object);
}

static void
runner_workspace_finalize (GObject *object)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  if (self->root_fd >= 0)
    close (self->root_fd);
  g_free (self->root);
  g_strfreev (self->excluded);
  g_hash_table_unref (self->own);
  g_mutex_clear (&self->own_lock);
  g_hash_table_unref (self->watches);
  g_ptr_array_unref (self->pending);
  g_hash_table_unref (self->pending_index);

  G_OBJECT_CLASS (runner_workspace_parent_class)->finalize (object);
}

static void
runner_workspace_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_value_set_string (value, self->root);
      break;
    case PROP_MAX_FILE_SIZE:
      g_value_set_int64 (value, self->max_file_size);
      break;
    case PROP_MAX_ENTRIES:
      g_value_set_uint (value, self->max_entries);
      break;
    case PROP_MAX_TREE_BYTES:
      g_value_set_uint64 (value, self->max_tree_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_workspace_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_free (self->root);
      self->root = g_value_dup_string (value);
      break;
    case PROP_MAX_FILE_SIZE:
      runner_workspace_set_max_file_size (self, g_value_get_int64 (value));
      break;
    case PROP_MAX_ENTRIES:
      runner_workspace_set_max_entries (self, g_value_get_uint (value));
      break;
    case PROP_MAX_TREE_BYTES:
      runner_workspace_set_max_tree_bytes (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_workspace_class_init (RunnerWorkspaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_workspace_dispose;
  object_class->finalize = runner_workspace_finalize;
  object_class->get_property = runner_workspace_get_property;
  object_class->set_property = runner_workspace_set_property;

  properties[PROP_ROOT] =
    g_param_spec_string ("root", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_FILE_SIZE] =
    g_param_spec_int64 ("max-file-size", NULL, NULL, 0, G_MAXINT64, DEFAULT_MAX_FILE_SIZE,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_ENTRIES] =
    g_param_spec_uint ("max-entries", NULL, NULL, 0, G_MAXUINT, DEFAULT_MAX_ENTRIES,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_TREE_BYTES] =
    g_param_spec_uint64 ("max-tree-bytes", NULL, NULL, 1024, G_MAXSIZE, DEFAULT_MAX_TREE_BYTES,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerWorkspace::changed:
   * @self: the workspace
   * @path: the relative path that changed ("" for the root)
   * @kind: a #RunnerWorkspaceChange
   * @other_path: (nullable): the new relative path for
   *   %RUNNER_WORKSPACE_CHANGE_RENAMED, else %NULL
   *
   * Emitted on the main thread after a write, mkdir, rename or delete
   * through this object succeeds, and for changes the watcher sees.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING);
}

static void
runner_workspace_init (RunnerWorkspace *self)
{
  self->root_fd = -1;
  self->excluded = g_strdupv ((char **) default_excluded);
  self->max_file_size = DEFAULT_MAX_FILE_SIZE;
  self->max_entries = DEFAULT_MAX_ENTRIES;
  self->max_tree_bytes = DEFAULT_MAX_TREE_BYTES;
  self->use_openat2 = TRUE;
  self->use_tmpfile = TRUE;
  g_mutex_init (&self->own_lock);
  self->own = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->inotify_fd = -1;
  self->watches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->pending = g_ptr_array_new_with_free_func (runner_workspace_change_free);
  self->pending_index = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * runner_workspace_new:
 * @root: the real directory behind `/workspace`; created if missing
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new #RunnerWorkspace, or %NULL with @error set
 */
RunnerWorkspace *
runner_workspace_new (const char *root,
                      GError    **error)
{
  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (RUNNER_TYPE_WORKSPACE, NULL, error, "root", root, NULL);
}
