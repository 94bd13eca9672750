/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-terminal"

#include "config.h"

#include "runner-terminal-private.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-error.h"
#include "runner-json.h"

/*
 * Output path: the pty master is read on the main loop into a ring (the
 * scrollback); each attached client has a cursor into it and is sent
 * `terminal:data` from its cursor to the head while it is writable. Reads are
 * coalesced only while output streams: when a read leaves the pty drained
 * (nothing more readable) what came goes out at once (key echo, a prompt);
 * while more is waiting, reads are gathered into one message for up to
 * COALESCE_US, and never more than CHUNK_SIZE bytes wait. A client that is full waits for "drained"
 * and resumes from its cursor; if the ring overtook it meanwhile, it skips to
 * the oldest safe cut and learns how much it missed. Reading stops only while
 * every attached client is full, which stalls the shell (the kernel's pty
 * buffer fills) instead of growing memory.
 */

#define READ_SIZE          65536
#define READ_BUDGET        (256 * 1024)   /* per main-loop dispatch */
#define COALESCE_US        2000

/* One read buffer for all terminals: they are all read on the main thread. */
static guint8 read_buffer[READ_SIZE];

static void arm_flush (RunnerTerminal *self,
                       gint64          ready_time);

/* ---------------------------------------------------------------------- */
/* Subscribers */

void
runner_terminal_subscriber_free (gpointer data)
{
  Subscriber *s = data;

  g_clear_signal_handler (&s->drained_id, s->client);
  g_clear_signal_handler (&s->closed_id, s->client);
  g_clear_object (&s->client);
  g_free (s);
}

static Subscriber *
find_subscriber (RunnerTerminal *self,
                 RunnerClient   *client)
{
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (s->client == client && !s->dead)
        return s;
    }
  return NULL;
}

/* Removal is deferred while a pump walks the array. */
void
runner_terminal_sweep_subscribers (RunnerTerminal *self)
{
  if (self->pumping > 0)
    return;

  for (guint i = self->subscribers->len; i > 0; i--)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i - 1);

      if (s->dead)
        g_ptr_array_remove_index (self->subscribers, i - 1);
    }
}

static void
drop_subscriber (RunnerTerminal *self,
                 Subscriber     *s)
{
  s->dead = TRUE;
  g_clear_signal_handler (&s->drained_id, s->client);
  g_clear_signal_handler (&s->closed_id, s->client);
  runner_terminal_sweep_subscribers (self);
  runner_terminal_update_reading (self);
}

static gboolean
send_to (RunnerTerminal *self,
         Subscriber     *s,
         RunnerMessage  *message)
{
  if (!runner_client_send (s->client, message))
    {
      /* refused and closed as too slow, or gone already */
      s->dead = TRUE;
      return FALSE;
    }
  return TRUE;
}

static RunnerMessage *
small_message (RunnerTerminal *self,
               const char     *event,
               const char     *format,
               ...) G_GNUC_PRINTF (3, 4);

/* `{"id":ID,<format>}` */
static RunnerMessage *
small_message (RunnerTerminal *self,
               const char     *event,
               const char     *format,
               ...)
{
  g_autofree char *rest = NULL;
  char *text;
  va_list args;

  va_start (args, format);
  rest = g_strdup_vprintf (format, args);
  va_end (args);

  text = g_strdup_printf ("{\"id\":%s,%s}", self->id_json, rest);
  return runner_message_new_take_text (event, text, strlen (text));
}

/* Where terminal output is escaped before it is copied, at its final size,
 * into a frame (main thread only, like read_buffer). */
static char escape_buffer[CHUNK_SIZE * RUNNER_JSON_ESCAPE_EXPANSION];

/* `{"data":"...","id":ID,"seq":END}` for the bytes [from, end), built by
 * hand: escaping is the only per-byte work. It is written straight into the
 * message's buffer, which the transport most clients take frames in place.
 * Clients that share a cursor (the usual case) share one message. */
static RunnerMessage *
data_message (RunnerTerminal *self,
              guint64         from,
              guint64         end)
{
  gsize len = end - from;
  gsize run = len;
  const guint8 *bytes;
  g_autofree guint8 *linear = NULL;
  char tail[64];
  gsize escaped, tail_len;
  GString *buffer;

  if (self->cached != NULL && self->cached_from == from && self->cached_end == end)
    return runner_message_ref (self->cached);

  g_assert (len <= CHUNK_SIZE);
  bytes = runner_ring_peek (self->ring, from, &run);
  if (run < len)
    {
      /* the range wraps around the end of the ring: once per lap */
      linear = g_malloc (len);
      runner_ring_read (self->ring, from, linear, len);
      bytes = linear;
    }

  escaped = runner_json_escape (bytes, len, escape_buffer);
  tail_len = g_snprintf (tail, sizeof tail, ",\"seq\":%" G_GUINT64_FORMAT "}", end);
  buffer = runner_message_buffer_new ("terminal:data",
                                      escaped + strlen (self->id_json) + tail_len + 16);
  g_string_append (buffer, "{\"data\":\"");
  g_string_append_len (buffer, escape_buffer, escaped);
  g_string_append (buffer, "\",\"id\":");
  g_string_append (buffer, self->id_json);
  g_string_append_len (buffer, tail, tail_len);

  g_clear_pointer (&self->cached, runner_message_unref);
  self->cached = runner_message_new_from_buffer ("terminal:data", buffer);
  self->cached_from = from;
  self->cached_end = end;
  return runner_message_ref (self->cached);
}

static void
send_exit (RunnerTerminal *self,
           Subscriber     *s)
{
  g_autoptr(RunnerMessage) message = NULL;

  if (self->exit_signal != 0)
    message = small_message (self, "terminal:exit", "\"signal\":%d", self->exit_signal);
  else
    message = small_message (self, "terminal:exit", "\"code\":%d", self->exit_code);

  if (send_to (self, s, message))
    s->exit_sent = TRUE;
}

/* Sends @s what it has not seen, while it is writable. */
static void
pump (RunnerTerminal *self,
      Subscriber     *s)
{
  gboolean final = self->eof || self->exited;

  self->pumping++;

  while (!s->dead)
    {
      guint64 head = runner_ring_get_head (self->ring);
      guint64 tail = runner_ring_get_tail (self->ring);
      guint64 end;
      g_autoptr(RunnerMessage) message = NULL;

      if (!runner_client_is_writable (s->client))
        {
          gboolean behind = s->cursor < head || (self->exited && !s->exit_sent);

          s->blocked = behind;
          break;
        }
      s->blocked = FALSE;

      if (s->cursor < tail)
        {
          guint64 cut = runner_ring_find_safe_cut (self->ring, tail);

          message = small_message (self, "terminal:skipped", "\"missed\":%" G_GUINT64_FORMAT,
                                   cut - s->cursor);
          g_debug ("Terminal %s: a client missed %" G_GUINT64_FORMAT " bytes",
                   self->id, cut - s->cursor);
          s->cursor = cut;
          send_to (self, s, message);
          continue;
        }

      end = MIN (head, s->cursor + CHUNK_SIZE);
      if (!final || end < head)
        end = runner_ring_clip_utf8 (self->ring, s->cursor, end);

      if (end <= s->cursor)
        {
          if (self->exited && !s->exit_sent && s->cursor >= self->exit_seq)
            send_exit (self, s);
          break;
        }

      message = data_message (self, s->cursor, end);
      s->cursor = end;
      send_to (self, s, message);
    }

  self->pumping--;
}

static void
pump_all (RunnerTerminal *self)
{
  self->pumping++;
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead && !s->blocked)
        pump (self, s);
    }
  self->pumping--;
  runner_terminal_sweep_subscribers (self);
}

static void
on_client_drained (RunnerClient *client,
                   gpointer      user_data)
{
  RunnerTerminal *self = user_data;
  Subscriber *s = find_subscriber (self, client);

  if (s == NULL)
    return;

  /* Not from here: transports emit this from inside their write path, where
   * sending again would re-enter it. The next dispatch sends. */
  s->blocked = FALSE;
  arm_flush (self, 0);
  runner_terminal_update_reading (self);
}

static void
on_client_closed (RunnerClient *client,
                  gpointer      user_data)
{
  RunnerTerminal *self = user_data;
  Subscriber *s = find_subscriber (self, client);

  if (s != NULL)
    drop_subscriber (self, s);
}

static Subscriber *
ensure_subscriber (RunnerTerminal *self,
                   RunnerClient   *client,
                   guint64         cursor)
{
  Subscriber *s = find_subscriber (self, client);

  if (s != NULL)
    return s;

  s = g_new0 (Subscriber, 1);
  s->client = g_object_ref (client);
  s->cursor = cursor;
  s->drained_id = g_signal_connect (client, "drained", G_CALLBACK (on_client_drained), self);
  s->closed_id = g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), self);
  g_ptr_array_add (self->subscribers, s);
  return s;
}

/* ---------------------------------------------------------------------- */
/* Reading the pty */

static void
arm_flush (RunnerTerminal *self,
           gint64          ready_time)
{
  if (self->flush_source != NULL)
    g_source_set_ready_time (self->flush_source, ready_time);
}

void
runner_terminal_flush (RunnerTerminal *self)
{
  arm_flush (self, -1);
  self->flushed_head = runner_ring_get_head (self->ring);
  pump_all (self);
  runner_terminal_update_reading (self);
}

/* New bytes in the ring: out at once when the pty is drained or a chunk is
 * full; while output streams, within COALESCE_US. */
static void
output_arrived (RunnerTerminal *self,
                gboolean        streaming)
{
  guint64 pending = runner_ring_get_head (self->ring) - self->flushed_head;

  if (pending >= self->flush_size || !streaming)
    runner_terminal_flush (self);
  else if (g_source_get_ready_time (self->flush_source) == -1)
    arm_flush (self, g_get_monotonic_time () + COALESCE_US);
}

/* Whether more output waits in the pty. */
static gboolean
more_readable (RunnerTerminal *self)
{
  int available = 0;

  return ioctl (self->master_fd, FIONREAD, &available) == 0 && available > 0;
}

/* Reads what the pty has, up to @budget bytes, sending as it goes so that
 * no reader that keeps up is overtaken; stops when every reader is full
 * unless @drain. Sets eof on EIO or 0. */
void
runner_terminal_read_available (RunnerTerminal *self,
                                gsize           budget,
                                gboolean        drain)
{
  gsize total = 0;
  gsize size = MIN (sizeof read_buffer, self->flush_size);

  while (total < budget && !self->eof && self->master_fd >= 0 && (drain || !self->paused))
    {
      ssize_t n = read (self->master_fd, read_buffer, size);

      if (n > 0)
        {
          runner_ring_append (self->ring, read_buffer, n);
          total += n;
          if (self->hold_source != 0)
            runner_terminal_release_input (self);
          output_arrived (self, (gsize) n == size || more_readable (self));
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        break;
      else
        {
          /* EIO: no process has the slave side open any more */
          if (n < 0 && errno != EIO)
            g_debug ("Terminal %s: read: %s", self->id, g_strerror (errno));
          self->eof = TRUE;
        }
    }
}

void
runner_terminal_stop_reading (RunnerTerminal *self)
{
  g_clear_handle_id (&self->read_source, g_source_remove);
}

static gboolean
on_master_readable (int          fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  RunnerTerminal *self = user_data;

  runner_terminal_read_available (self, READ_BUDGET, FALSE);
  if (!self->eof)
    return G_SOURCE_CONTINUE;

  g_debug ("Terminal %s: end of output", self->id);
  runner_terminal_stop_reading (self);
  runner_terminal_flush (self);
  return G_SOURCE_REMOVE;
}

/* Reads unless every attached client is full. */
void
runner_terminal_update_reading (RunnerTerminal *self)
{
  gboolean want = !self->eof && !self->closing && self->master_fd >= 0;
  gboolean all_blocked = self->subscribers->len > 0;

  for (guint i = 0; i < self->subscribers->len && all_blocked; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead && !s->blocked)
        all_blocked = FALSE;
    }
  self->paused = all_blocked;
  want = want && !all_blocked;

  if (want && self->read_source == 0)
    self->read_source = g_unix_fd_add (self->master_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                       on_master_readable, self);
  else if (!want && self->read_source != 0)
    runner_terminal_stop_reading (self);
}

/* ---------------------------------------------------------------------- */
/* Attached clients */

/**
 * runner_terminal_attach:
 * @client: who wants the output
 * @since: the `seq` of the last `terminal:data` the client saw, or -1 for
 *   the whole scrollback
 * @from: (out) (optional): where the replay starts
 * @missed: (out) (optional): bytes after @since (or after the start of the
 *   stream) that the client will not get because the scrollback lost them
 *
 * Makes @client receive this terminal's output from @since on: what it missed
 * first, then live. Without @since, or with one from before this stream
 * began (a previous shell of the default terminal), the whole scrollback is
 * replayed from its oldest safe cut. Attaching again moves the client's
 * cursor.
 *
 * Returns: %FALSE with %RUNNER_ERROR_INVALID, and nothing changed, for a
 *   @since past the newest output: this stream never reached it (it is
 *   another Runner's, or made up)
 */
gboolean
runner_terminal_attach (RunnerTerminal  *self,
                        RunnerClient    *client,
                        gint64           since,
                        guint64         *from,
                        guint64         *missed,
                        GError         **error)
{
  guint64 tail, head, cursor, lost;
  Subscriber *s;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  g_return_val_if_fail (RUNNER_IS_CLIENT (client), FALSE);

  tail = runner_ring_get_tail (self->ring);
  head = runner_ring_get_head (self->ring);

  if (since >= 0 && (guint64) since > head)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("“since” %" G_GINT64_FORMAT " is past the output of terminal %s "
                     "(%" G_GUINT64_FORMAT "); attach without it for the whole scrollback"),
                   since, self->id, head);
      return FALSE;
    }

  if (since >= 0 && (guint64) since >= tail)
    {
      cursor = since;
      lost = 0;
    }
  else if (since >= 0 && (guint64) since < tail && (guint64) since >= self->start_seq)
    {
      cursor = runner_ring_find_safe_cut (self->ring, tail);
      lost = cursor - since;
    }
  else
    {
      cursor = runner_ring_find_safe_cut (self->ring, tail);
      lost = cursor - self->start_seq;
    }

  s = ensure_subscriber (self, client, cursor);
  s->cursor = cursor;
  s->exit_sent = FALSE;

  if (from != NULL)
    *from = cursor;
  if (missed != NULL)
    *missed = lost;

  /* after the caller's reply */
  arm_flush (self, 0);
  runner_terminal_update_reading (self);
  return TRUE;
}

/**
 * runner_terminal_follow:
 * @client: who wants the output
 *
 * Makes @client receive output from now on, unless it already does.
 */
void
runner_terminal_follow (RunnerTerminal *self,
                        RunnerClient   *client)
{
  guint64 head, from;

  g_return_if_fail (RUNNER_IS_TERMINAL (self));
  g_return_if_fail (RUNNER_IS_CLIENT (client));

  /* now, but not in the middle of a character */
  head = runner_ring_get_head (self->ring);
  from = MAX (runner_ring_get_tail (self->ring), head - MIN (head, 3));
  ensure_subscriber (self, client, runner_ring_clip_utf8 (self->ring, from, head));
  runner_terminal_update_reading (self);
}

/**
 * runner_terminal_detach:
 * @client: a client
 *
 * Returns: whether @client was attached
 */
gboolean
runner_terminal_detach (RunnerTerminal *self,
                        RunnerClient   *client)
{
  Subscriber *s;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);

  s = find_subscriber (self, client);
  if (s == NULL)
    return FALSE;

  drop_subscriber (self, s);
  return TRUE;
}

gboolean
runner_terminal_has_client (RunnerTerminal *self,
                            RunnerClient   *client)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  return find_subscriber (self, client) != NULL;
}

guint
runner_terminal_get_n_clients (RunnerTerminal *self)
{
  guint n = 0;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);

  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead)
        n++;
    }
  return n;
}

