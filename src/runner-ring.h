/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * RunnerRing:
 *
 * A bounded byte ring addressed by absolute offsets: the head is the number
 * of bytes ever written (plus the start offset), the tail the oldest offset
 * still held. Readers keep their own offsets and read from them.
 *
 * While appending, the ring follows the terminal escape-sequence grammar
 * (CSI, OSC, DCS, SOS/PM/APC, plain ESC sequences) and remembers offsets
 * where a terminal emulator could start reading in its ground state; these
 * let runner_ring_find_safe_cut() find a replay start that is inside neither
 * an escape sequence nor a UTF-8 character.
 */
typedef struct _RunnerRing RunnerRing;

RunnerRing   *runner_ring_new               (gsize          capacity,
                                             guint64        start);
void          runner_ring_free              (RunnerRing    *self);
gsize         runner_ring_get_capacity      (RunnerRing    *self);
gsize         runner_ring_get_allocated     (RunnerRing    *self);
guint64       runner_ring_get_head          (RunnerRing    *self);
guint64       runner_ring_get_tail          (RunnerRing    *self);
void          runner_ring_append            (RunnerRing    *self,
                                             const guint8  *data,
                                             gsize          len);
gsize         runner_ring_read              (RunnerRing    *self,
                                             guint64        from,
                                             guint8        *buffer,
                                             gsize          len);
const guint8 *runner_ring_peek              (RunnerRing    *self,
                                             guint64        from,
                                             gsize         *len);
guint64       runner_ring_find_safe_cut     (RunnerRing    *self,
                                             guint64        from);
guint64       runner_ring_clip_utf8         (RunnerRing    *self,
                                             guint64        from,
                                             guint64        end);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerRing, runner_ring_free)

G_END_DECLS
