/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-metered-stream"

#include "config.h"

#include "runner-metered-stream.h"

/*
 * A pollable output stream that counts what reaches the stream below it.
 * libsoup's WebSocket connection keeps its outgoing frames in a private
 * queue and tells no one when they leave; putting this stream under it lets
 * Runner know, byte for byte, how much a client still has queued.
 */
struct _RunnerMeteredStream
{
  GFilterOutputStream  parent_instance;
  RunnerMeteredFunc    func;
  gpointer             user_data;
  guint64              written;
};

static void runner_metered_stream_pollable_iface_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerMeteredStream, runner_metered_stream,
                               G_TYPE_FILTER_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      runner_metered_stream_pollable_iface_init))

static GOutputStream *
get_base (gpointer self)
{
  return g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));
}

static void
count (RunnerMeteredStream *self,
       gssize               n)
{
  if (n <= 0)
    return;
  self->written += n;
  if (self->func != NULL)
    self->func (n, self->user_data);
}

static gssize
runner_metered_stream_write (GOutputStream  *stream,
                             const void     *buffer,
                             gsize           size,
                             GCancellable   *cancellable,
                             GError        **error)
{
  RunnerMeteredStream *self = RUNNER_METERED_STREAM (stream);
  gssize n = g_output_stream_write (get_base (self), buffer, size, cancellable, error);

  count (self, n);
  return n;
}

static gboolean
runner_metered_stream_flush (GOutputStream  *stream,
                             GCancellable   *cancellable,
                             GError        **error)
{
  return g_output_stream_flush (get_base (stream), cancellable, error);
}

static void
runner_metered_stream_class_init (RunnerMeteredStreamClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  stream_class->write_fn = runner_metered_stream_write;
  stream_class->flush = runner_metered_stream_flush;
}

static void
runner_metered_stream_init (RunnerMeteredStream *self)
{
}

static gboolean
runner_metered_stream_can_poll (GPollableOutputStream *stream)
{
  GOutputStream *base = get_base (stream);

  return G_IS_POLLABLE_OUTPUT_STREAM (base) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (base));
}

static gboolean
runner_metered_stream_is_writable (GPollableOutputStream *stream)
{
  return g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (get_base (stream)));
}

static GSource *
runner_metered_stream_create_source (GPollableOutputStream *stream,
                                     GCancellable          *cancellable)
{
  g_autoptr(GSource) base_source = NULL;

  base_source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (get_base (stream)),
                                                        NULL);
  /* new_full() sets the child's dummy callback; doing it twice drops a ref. */
  return g_pollable_source_new_full (stream, base_source, cancellable);
}

static gssize
runner_metered_stream_write_nonblocking (GPollableOutputStream  *stream,
                                         const void             *buffer,
                                         gsize                   size,
                                         GError                **error)
{
  RunnerMeteredStream *self = RUNNER_METERED_STREAM (stream);
  gssize n;

  n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (get_base (self)),
                                                  buffer, size, NULL, error);
  count (self, n);
  return n;
}

static void
runner_metered_stream_pollable_iface_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = runner_metered_stream_can_poll;
  iface->is_writable = runner_metered_stream_is_writable;
  iface->create_source = runner_metered_stream_create_source;
  iface->write_nonblocking = runner_metered_stream_write_nonblocking;
}

/**
 * runner_metered_stream_new:
 * @base: a pollable output stream
 * @func: (nullable): called with the count of each write that reached @base
 *
 * Returns: (transfer full): the metered stream; it does not close @base.
 */
GOutputStream *
runner_metered_stream_new (GOutputStream     *base,
                           RunnerMeteredFunc  func,
                           gpointer           user_data)
{
  RunnerMeteredStream *self;

  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (base), NULL);

  self = g_object_new (RUNNER_TYPE_METERED_STREAM,
                       "base-stream", base,
                       "close-base-stream", FALSE,
                       NULL);
  self->func = func;
  self->user_data = user_data;
  return G_OUTPUT_STREAM (self);
}

/**
 * runner_metered_stream_disconnect:
 *
 * Stops calling the function given at creation (its data is going away).
 */
void
runner_metered_stream_disconnect (RunnerMeteredStream *self)
{
  g_return_if_fail (RUNNER_IS_METERED_STREAM (self));

  self->func = NULL;
  self->user_data = NULL;
}

guint64
runner_metered_stream_get_written (RunnerMeteredStream *self)
{
  g_return_val_if_fail (RUNNER_IS_METERED_STREAM (self), 0);
  return self->written;
}
