/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Inline for the hot loops of the JSON escaper (runner-json.c). */

/* Bytes a lead byte announces; 0 when it cannot start a sequence. */
static inline guint
runner_utf8_lead_length (guint8 c)
{
  if (c < 0x80)
    return 1;
  if (c < 0xc2)
    return 0;
  if (c < 0xe0)
    return 2;
  if (c < 0xf0)
    return 3;
  if (c < 0xf5)
    return 4;
  return 0;
}

/* Whether @c may follow @lead (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF). */
static inline gboolean
runner_utf8_second_ok (guint8 lead,
                       guint8 c)
{
  switch (lead)
    {
    case 0xe0:
      return c >= 0xa0 && c <= 0xbf;
    case 0xed:
      return c >= 0x80 && c <= 0x9f;
    case 0xf0:
      return c >= 0x90 && c <= 0xbf;
    case 0xf4:
      return c >= 0x80 && c <= 0x8f;
    default:
      return c >= 0x80 && c <= 0xbf;
    }
}

/* Scans the sequence at @p: returns how many bytes (of at most @avail) form
 * a valid prefix of it and sets @need to the length the lead announces (0 for
 * a byte that cannot start one). Complete when the result equals @need. */
static inline guint
runner_utf8_scan (const guint8 *p,
                  gsize         avail,
                  guint        *need)
{
  guint n = runner_utf8_lead_length (p[0]);
  guint i;

  *need = n;
  if (n <= 1)
    return n;

  for (i = 1; i < n && i < avail; i++)
    {
      guint8 c = p[i];

      if (i == 1 ? !runner_utf8_second_ok (p[0], c) : (c & 0xc0) != 0x80)
        break;
    }

  return i;
}

gsize runner_utf8_incomplete_tail (const guint8 *data,
                                   gsize         len);
gboolean runner_utf8_validate           (const guint8 *data,
                                         gsize         len);
GBytes  *runner_utf8_make_valid_bytes   (GBytes       *text);

G_END_DECLS
