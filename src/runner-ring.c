/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-ring"

#include "config.h"

#include "runner-ring.h"

#include <string.h>

#include "runner-utf8.h"

/* The escape-sequence grammar of ECMA-48 as xterm and VTE parse it, reduced
 * to what decides whether an offset is a safe place to start reading. */
typedef enum
{
  VT_GROUND,
  VT_ESCAPE,        /* after ESC */
  VT_ESCAPE_INTER,  /* ESC, then intermediates 0x20-0x2f */
  VT_CSI,           /* ESC [ parameters, intermediates */
  VT_STRING,        /* OSC, DCS, SOS, PM, APC: ends with BEL or ST */
  VT_STRING_ESC,    /* ESC inside a string: ST when '\' follows */
} VtState;

#define VT_ESC 0x1b
#define VT_BEL 0x07
#define VT_CAN 0x18
#define VT_SUB 0x1a

static inline VtState
vt_step (VtState state,
         guint8  c)
{
  if (c == VT_ESC)
    return state == VT_STRING ? VT_STRING_ESC : VT_ESCAPE;
  if (c == VT_CAN || c == VT_SUB)
    return VT_GROUND;

  switch (state)
    {
    case VT_GROUND:
      return VT_GROUND;

    case VT_STRING_ESC:
      if (c == '\\')
        return VT_GROUND;
      /* The ESC ended the string and starts a new sequence. */
      G_GNUC_FALLTHROUGH;
    case VT_ESCAPE:
      if (c == '[')
        return VT_CSI;
      if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
        return VT_STRING;
      if (c >= 0x20 && c <= 0x2f)
        return VT_ESCAPE_INTER;
      if (c < 0x20 || c == 0x7f)
        return VT_ESCAPE;   /* C0 controls execute inside a sequence */
      return VT_GROUND;

    case VT_ESCAPE_INTER:
      if (c < 0x30 || c == 0x7f)
        return VT_ESCAPE_INTER;
      return VT_GROUND;

    case VT_CSI:
      if (c < 0x40 || c == 0x7f)
        return VT_CSI;
      return VT_GROUND;   /* a final byte, or garbage that ends it */

    case VT_STRING:
      return c == VT_BEL ? VT_GROUND : VT_STRING;

    default:
      g_assert_not_reached ();
    }
}

static inline gboolean
is_continuation (guint8 c)
{
  return (c & 0xc0) == 0x80;
}

struct _RunnerRing
{
  guint8  *data;        /* owned; grows up to capacity */
  gsize    allocated;
  gsize    capacity;
  guint64  start;       /* offset of data[0] before the first wrap */
  guint64  head;
  VtState  vt;          /* parser state at head */

  /* Safe cut points, ascending, in a circular array. At most one per
   * mark_interval bytes, so capacity / mark_interval + 2 always suffice. */
  guint64 *marks;       /* owned */
  guint    max_marks;
  guint    first_mark;
  guint    n_marks;
  guint64  next_mark;   /* no mark before this offset */
  gsize    mark_interval;
};

/**
 * runner_ring_new:
 * @capacity: the most bytes held
 * @start: the offset of the first byte (to continue a stream's numbering)
 *
 * Memory is allocated as data arrives, up to @capacity.
 */
RunnerRing *
runner_ring_new (gsize   capacity,
                 guint64 start)
{
  RunnerRing *self;

  g_return_val_if_fail (capacity > 0, NULL);

  self = g_new0 (RunnerRing, 1);
  self->capacity = capacity;
  self->start = start;
  self->head = start;
  self->vt = VT_GROUND;
  self->mark_interval = CLAMP (capacity / 1024, 16, 4096);
  self->max_marks = capacity / self->mark_interval + 2;
  self->marks = g_new (guint64, self->max_marks);
  self->marks[0] = start;
  self->n_marks = 1;
  self->next_mark = start + self->mark_interval;

  return self;
}

void
runner_ring_free (RunnerRing *self)
{
  if (self == NULL)
    return;

  g_free (self->data);
  g_free (self->marks);
  g_free (self);
}

gsize
runner_ring_get_capacity (RunnerRing *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->capacity;
}

/* Bytes of memory the data takes now. */
gsize
runner_ring_get_allocated (RunnerRing *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->allocated;
}

/* The offset just past the newest byte. */
guint64
runner_ring_get_head (RunnerRing *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->head;
}

/* The offset of the oldest byte still held. */
guint64
runner_ring_get_tail (RunnerRing *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->head - MIN (self->head - self->start, (guint64) self->capacity);
}

static inline gsize
ring_index (RunnerRing *self,
            guint64     offset)
{
  return (offset - self->start) % self->capacity;
}

static inline guint8
ring_byte (RunnerRing *self,
           guint64     offset)
{
  return self->data[ring_index (self, offset)];
}

static inline guint64
mark_at (RunnerRing *self,
         guint       i)
{
  return self->marks[(self->first_mark + i) % self->max_marks];
}

static void
add_mark (RunnerRing *self,
          guint64     offset)
{
  if (self->n_marks == self->max_marks)
    {
      self->first_mark = (self->first_mark + 1) % self->max_marks;
      self->n_marks--;
    }

  self->marks[(self->first_mark + self->n_marks) % self->max_marks] = offset;
  self->n_marks++;
  self->next_mark = offset + self->mark_interval;
}

static void
drop_old_marks (RunnerRing *self)
{
  guint64 tail = runner_ring_get_tail (self);

  while (self->n_marks > 0 && mark_at (self, 0) < tail)
    {
      self->first_mark = (self->first_mark + 1) % self->max_marks;
      self->n_marks--;
    }
}

/* Follows the grammar over @data (which starts at offset @offset) and marks
 * safe cut points in stretches of ground state. Plain text is skipped with
 * memchr(), so the cost stays small next to the copy. */
static void
scan (RunnerRing   *self,
      const guint8 *data,
      gsize         len,
      guint64       offset)
{
  const guint8 *p = data;
  const guint8 *end = data + len;
  VtState vt = self->vt;

  while (p < end)
    {
      const guint8 *esc;
      const guint8 *stop;
      guint64 stop_offset;

      if (vt != VT_GROUND)
        {
          vt = vt_step (vt, *p++);
          continue;
        }

      esc = memchr (p, VT_ESC, end - p);
      stop = esc != NULL ? esc : end;
      stop_offset = offset + (stop - data);

      if (stop_offset >= self->next_mark)
        {
          guint64 p_offset = offset + (p - data);
          const guint8 *c = p + (MAX (self->next_mark, p_offset) - p_offset);

          for (guint i = 0; i < 3 && c < stop && is_continuation (*c); i++)
            c++;
          /* The ESC itself is a fine place to start; the end of the data
           * is not known yet. */
          if (c < stop || esc != NULL)
            add_mark (self, offset + (c - data));
        }

      if (esc == NULL)
        break;
      vt = VT_ESCAPE;
      p = esc + 1;
    }

  self->vt = vt;
}

/**
 * runner_ring_append:
 * @data: bytes
 * @len: their length, any; only the last capacity bytes are kept
 */
void
runner_ring_append (RunnerRing   *self,
                    const guint8 *data,
                    gsize         len)
{
  guint64 used;

  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 0)
    return;

  scan (self, data, len, self->head);

  if (len > self->capacity)
    {
      self->head += len - self->capacity;
      data += len - self->capacity;
      len = self->capacity;
    }

  /* Grow while nothing has wrapped yet: offsets keep their index. */
  used = self->head - self->start;
  if (self->allocated < self->capacity && used + len > self->allocated)
    {
      gsize wanted = MAX (used + len, MAX (self->allocated * 2, 4096));

      self->allocated = MIN (wanted, self->capacity);
      self->data = g_realloc (self->data, self->allocated);
    }

  {
    gsize index = ring_index (self, self->head);
    gsize first = MIN (len, self->capacity - index);

    memcpy (self->data + index, data, first);
    memcpy (self->data, data + first, len - first);
  }
  self->head += len;

  if (self->n_marks == self->max_marks)
    drop_old_marks (self);
}

/**
 * runner_ring_peek:
 * @from: an offset between tail and head
 * @len: (inout): the most bytes wanted; set to what the returned run holds
 *
 * Returns: (transfer none): the bytes from @from up to the wrap point, the
 *   head or @len, whichever comes first
 */
const guint8 *
runner_ring_peek (RunnerRing *self,
                  guint64     from,
                  gsize      *len)
{
  gsize index;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);
  g_return_val_if_fail (from >= runner_ring_get_tail (self) && from <= self->head, NULL);

  index = ring_index (self, from);
  *len = MIN (*len, MIN (self->head - from, (guint64) (self->capacity - index)));
  return self->data != NULL ? self->data + index : (const guint8 *) "";
}

/**
 * runner_ring_read:
 * @from: an offset between tail and head
 * @buffer: where to copy
 * @len: its size
 *
 * Returns: the bytes copied: up to @len, fewer at the head
 */
gsize
runner_ring_read (RunnerRing *self,
                  guint64     from,
                  guint8     *buffer,
                  gsize       len)
{
  gsize done = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (from >= runner_ring_get_tail (self) && from <= self->head, 0);

  while (done < len && from < self->head)
    {
      gsize n = len - done;
      const guint8 *p = runner_ring_peek (self, from, &n);

      memcpy (buffer + done, p, n);
      done += n;
      from += n;
    }

  return done;
}

/**
 * runner_ring_find_safe_cut:
 * @from: any offset
 *
 * Finds where a reader that has nothing before @from should start: the first
 * offset at or after @from (and the tail) where a terminal in its ground
 * state would read the following bytes as the writer meant them, that is,
 * outside any escape sequence and at the start of a UTF-8 character. Up to
 * about capacity / 1024 bytes at the tail may be passed over, as the state
 * there is no longer known.
 *
 * Returns: the offset; the head when no such point is held yet
 */
guint64
runner_ring_find_safe_cut (RunnerRing *self,
                           guint64     from)
{
  guint64 tail;
  guint64 offset;
  VtState vt = VT_GROUND;
  guint lo, hi;

  g_return_val_if_fail (self != NULL, 0);

  tail = runner_ring_get_tail (self);
  from = MAX (from, tail);
  if (from >= self->head)
    return self->head;

  drop_old_marks (self);
  if (self->n_marks == 0)
    return self->head;

  /* the last mark at or before @from */
  lo = 0;
  hi = self->n_marks;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (mark_at (self, mid) <= from)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    offset = mark_at (self, 0);
  else
    for (offset = mark_at (self, lo - 1); offset < from; offset++)
      vt = vt_step (vt, ring_byte (self, offset));

  for (; offset < self->head; offset++)
    {
      guint8 c = ring_byte (self, offset);

      if (vt == VT_GROUND && !is_continuation (c))
        return offset;
      vt = vt_step (vt, c);
    }

  return self->head;
}

/**
 * runner_ring_clip_utf8:
 * @from: the start of a range a reader is about to take
 * @end: its end
 *
 * Returns: @end, or less when the range ends inside a UTF-8 character that
 *   the following bytes would complete: those stay for the next read.
 */
guint64
runner_ring_clip_utf8 (RunnerRing *self,
                       guint64     from,
                       guint64     end)
{
  guint8 last[3];
  gsize n;

  g_return_val_if_fail (self != NULL, end);
  g_return_val_if_fail (from <= end && end <= self->head, end);

  n = MIN (end - from, (guint64) sizeof last);
  runner_ring_read (self, end - n, last, n);
  return end - runner_utf8_incomplete_tail (last, n);
}
