/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-protocol"

#include "config.h"

#include "runner-protocol.h"
#include "runner-error.h"

typedef struct
{
  RunnerEventHandler handler;
  gpointer           user_data;
} Row;

struct _RunnerProtocol
{
  GObject     parent_instance;
  GHashTable *rows; /* owned: event name -> Row */
};

G_DEFINE_FINAL_TYPE (RunnerProtocol, runner_protocol, G_TYPE_OBJECT)

static void
runner_protocol_finalize (GObject *object)
{
  RunnerProtocol *self = RUNNER_PROTOCOL (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);

  G_OBJECT_CLASS (runner_protocol_parent_class)->finalize (object);
}

static void
runner_protocol_class_init (RunnerProtocolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = runner_protocol_finalize;
}

static void
runner_protocol_init (RunnerProtocol *self)
{
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

RunnerProtocol *
runner_protocol_new (void)
{
  return g_object_new (RUNNER_TYPE_PROTOCOL, NULL);
}

/**
 * runner_protocol_add:
 * @event: the event name, e.g. "fetchDir"
 * @handler: called for each request of that name
 *
 * Adds a row to the event table. An event has one handler; adding a name
 * twice is a programming error.
 */
void
runner_protocol_add (RunnerProtocol     *self,
                     const char         *event,
                     RunnerEventHandler  handler,
                     gpointer            user_data)
{
  Row *row;

  g_return_if_fail (RUNNER_IS_PROTOCOL (self));
  g_return_if_fail (event != NULL);
  g_return_if_fail (handler != NULL);
  g_return_if_fail (!g_hash_table_contains (self->rows, event));

  row = g_new0 (Row, 1);
  row->handler = handler;
  row->user_data = user_data;
  g_hash_table_insert (self->rows, g_strdup (event), row);
}

static gboolean
row_has_data (gpointer key,
              gpointer value,
              gpointer user_data)
{
  return ((Row *) value)->user_data == user_data;
}

/**
 * runner_protocol_remove_by_data:
 *
 * Removes every row added with @user_data; units call it when they go away.
 */
void
runner_protocol_remove_by_data (RunnerProtocol *self,
                                gpointer        user_data)
{
  g_return_if_fail (RUNNER_IS_PROTOCOL (self));

  g_hash_table_foreach_remove (self->rows, row_has_data, user_data);
}

gboolean
runner_protocol_has (RunnerProtocol *self,
                     const char     *event)
{
  g_return_val_if_fail (RUNNER_IS_PROTOCOL (self), FALSE);

  return g_hash_table_contains (self->rows, event);
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * runner_protocol_list:
 *
 * Returns: (transfer full): the sorted event names
 */
char **
runner_protocol_list (RunnerProtocol *self)
{
  g_autofree const char **keys = NULL;
  GStrvBuilder *builder;
  char **ret;
  guint n;

  g_return_val_if_fail (RUNNER_IS_PROTOCOL (self), NULL);

  keys = (const char **) g_hash_table_get_keys_as_array (self->rows, &n);
  qsort (keys, n, sizeof (char *), compare_names);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    g_strv_builder_add (builder, keys[i]);
  ret = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return ret;
}

/**
 * runner_protocol_dispatch:
 * @request: an event from a client
 *
 * Runs the handler of the request's event; an unknown event is answered with
 * ENOSYS.
 */
void
runner_protocol_dispatch (RunnerProtocol *self,
                          RunnerRequest  *request)
{
  const char *event;
  Row *row;

  g_return_if_fail (RUNNER_IS_PROTOCOL (self));
  g_return_if_fail (request != NULL);

  event = runner_request_get_event (request);
  row = g_hash_table_lookup (self->rows, event);
  if (row == NULL)
    {
      g_autoptr(GError) error = g_error_new (RUNNER_ERROR, RUNNER_ERROR_UNKNOWN_EVENT,
                                             "Unknown event “%s”", event);
      runner_request_fail (request, error);
      return;
    }

  row->handler (request, row->user_data);
}
