/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-ws-limit-stream"

#include "config.h"

#include "runner-ws-limit-stream.h"

/*
 * A pollable input stream under a server WebSocket that reads the client's
 * frame headers as the bytes pass and fails the read once one message, all
 * its fragments together, is over the limit. libsoup checks its
 * max-incoming-payload-size per frame and gathers continuation frames without
 * bound; this stops such a message before libsoup buffers it. Payload bytes
 * are skipped, never looked at: the cost is one header parse per frame.
 */
struct _RunnerWsLimitStream
{
  GFilterInputStream  parent_instance;
  guint64             max_message;
  guint64             message;      /* payload of the data message so far */
  guint64             skip;         /* bytes left in the current frame */
  guint8              header[10];   /* the next frame's header, without the mask */
  guint               header_len;
  gboolean            over;         /* the limit was passed: every read fails */
};

static void runner_ws_limit_stream_pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerWsLimitStream, runner_ws_limit_stream,
                               G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      runner_ws_limit_stream_pollable_iface_init))

static GInputStream *
get_base (gpointer self)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (self));
}

/* 2 bytes, then 0, 2 or 8 of extended length (RFC 6455, 5.2) */
static guint
header_size (const guint8 *header)
{
  switch (header[1] & 0x7f)
    {
    case 126:
      return 4;
    case 127:
      return 10;
    default:
      return 2;
    }
}

/* A whole header was read: counts the frame against the message. */
static gboolean
end_header (RunnerWsLimitStream *self)
{
  const guint8 *h = self->header;
  gboolean fin = (h[0] & 0x80) != 0;
  gboolean control = (h[0] & 0x08) != 0;
  guint8 opcode = h[0] & 0x0f;
  guint64 len = h[1] & 0x7f;

  if (len == 126)
    len = ((guint64) h[2] << 8) | h[3];
  else if (len == 127)
    {
      len = 0;
      for (guint i = 2; i < 10; i++)
        len = (len << 8) | h[i];
    }

  self->header_len = 0;

  /* No frame is larger than a message, control frames included (libsoup
   * refuses those over 125 bytes). */
  if (len > self->max_message)
    return FALSE;
  /* Control frames may come between the fragments of a message and are not
   * part of it. */
  if (!control)
    {
      if (opcode != 0)
        self->message = 0;
      if (self->message > self->max_message || len > self->max_message - self->message)
        return FALSE;
      self->message = fin ? 0 : self->message + len;
    }

  /* Client frames carry a 4-byte mask key after the length. */
  self->skip = len + ((h[1] & 0x80) != 0 ? 4 : 0);
  return TRUE;
}

static gboolean
scan (RunnerWsLimitStream *self,
      const guint8        *data,
      gsize                len)
{
  gsize pos = 0;

  while (pos < len)
    {
      if (self->skip > 0)
        {
          gsize n = MIN (self->skip, len - pos);

          self->skip -= n;
          pos += n;
          continue;
        }

      self->header[self->header_len++] = data[pos++];
      if (self->header_len >= 2 && self->header_len == header_size (self->header) &&
          !end_header (self))
        return FALSE;
    }
  return TRUE;
}

static void
set_too_large (RunnerWsLimitStream  *self,
               GError              **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
               "WebSocket message over the limit of %" G_GUINT64_FORMAT " bytes",
               self->max_message);
}

/* @n: what the base stream's read returned into @buffer */
static gssize
check (RunnerWsLimitStream  *self,
       const void           *buffer,
       gssize                n,
       GError              **error)
{
  if (n > 0 && !scan (self, buffer, n))
    {
      self->over = TRUE;
      set_too_large (self, error);
      return -1;
    }
  return n;
}

static gssize
runner_ws_limit_stream_read (GInputStream  *stream,
                             void          *buffer,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  RunnerWsLimitStream *self = RUNNER_WS_LIMIT_STREAM (stream);

  if (self->over)
    {
      set_too_large (self, error);
      return -1;
    }
  return check (self, buffer,
                g_input_stream_read (get_base (self), buffer, count, cancellable, error), error);
}

static void
runner_ws_limit_stream_class_init (RunnerWsLimitStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_fn = runner_ws_limit_stream_read;
  /* GFilterInputStream skips on the base stream, past the count: skip by
   * reading, as GInputStream does. */
  stream_class->skip = G_INPUT_STREAM_CLASS (g_type_class_peek (G_TYPE_INPUT_STREAM))->skip;
}

static void
runner_ws_limit_stream_init (RunnerWsLimitStream *self)
{
}

static gboolean
runner_ws_limit_stream_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = get_base (stream);

  return G_IS_POLLABLE_INPUT_STREAM (base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
runner_ws_limit_stream_is_readable (GPollableInputStream *stream)
{
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (get_base (stream)));
}

static GSource *
runner_ws_limit_stream_create_source (GPollableInputStream *stream,
                                      GCancellable         *cancellable)
{
  g_autoptr(GSource) base_source = NULL;

  base_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (get_base (stream)),
                                                       NULL);
  return g_pollable_source_new_full (stream, base_source, cancellable);
}

static gssize
runner_ws_limit_stream_read_nonblocking (GPollableInputStream  *stream,
                                         void                  *buffer,
                                         gsize                  count,
                                         GError               **error)
{
  RunnerWsLimitStream *self = RUNNER_WS_LIMIT_STREAM (stream);
  gssize n;

  if (self->over)
    {
      set_too_large (self, error);
      return -1;
    }
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (get_base (self)),
                                                buffer, count, NULL, error);
  return check (self, buffer, n, error);
}

static void
runner_ws_limit_stream_pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = runner_ws_limit_stream_can_poll;
  iface->is_readable = runner_ws_limit_stream_is_readable;
  iface->create_source = runner_ws_limit_stream_create_source;
  iface->read_nonblocking = runner_ws_limit_stream_read_nonblocking;
}

/**
 * runner_ws_limit_stream_new:
 * @base: a pollable input stream carrying a client's WebSocket frames, from
 *   the first frame on
 * @max_message: the most payload bytes of one message
 *
 * Returns: (transfer full): the stream; it does not close @base. A read that
 *   takes a message over @max_message fails with G_IO_ERROR_MESSAGE_TOO_LARGE,
 *   and so does every read after it.
 */
GInputStream *
runner_ws_limit_stream_new (GInputStream *base,
                            gsize         max_message)
{
  RunnerWsLimitStream *self;

  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (base), NULL);

  self = g_object_new (RUNNER_TYPE_WS_LIMIT_STREAM,
                       "base-stream", base,
                       "close-base-stream", FALSE,
                       NULL);
  self->max_message = max_message;
  return G_INPUT_STREAM (self);
}

/**
 * runner_ws_limit_stream_set_max_message:
 *
 * Changes the limit from the next frame header on.
 */
void
runner_ws_limit_stream_set_max_message (RunnerWsLimitStream *self,
                                        gsize                max_message)
{
  g_return_if_fail (RUNNER_IS_WS_LIMIT_STREAM (self));
  self->max_message = max_message;
}
