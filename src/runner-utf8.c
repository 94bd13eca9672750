/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-utf8"

#include "config.h"

#include "runner-utf8.h"

#include <string.h>

/**
 * runner_utf8_incomplete_tail:
 * @data: bytes
 * @len: their length
 *
 * Tells how many bytes at the end of @data start a valid UTF-8 character
 * that is not complete yet: a sender holds them back until the rest arrives,
 * so a character is never split across two messages.
 *
 * Returns: 0 to 3
 */
gsize
runner_utf8_incomplete_tail (const guint8 *data,
                             gsize         len)
{
  for (gsize k = 1; k <= 3 && k <= len; k++)
    {
      const guint8 *p = data + len - k;
      guint need;

      if ((*p & 0xc0) == 0x80)
        continue;

      if (runner_utf8_scan (p, k, &need) == k && k < need)
        return k;
      return 0;
    }

  return 0;
}

/**
 * runner_utf8_validate:
 * @data: bytes
 * @len: their length
 *
 * Like g_utf8_validate_len(), with plain ASCII checked eight bytes at a time.
 *
 * Returns: %TRUE if @data is valid UTF-8 (NUL bytes included)
 */
gboolean
runner_utf8_validate (const guint8 *data,
                      gsize         len)
{
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint8 *p = data;
  const guint8 *end = data + len;

  while (p < end)
    {
      guint need;

      while (end - p >= 8)
        {
          guint64 v;

          memcpy (&v, p, 8);
          if ((v & highs) != 0)
            break;
          p += 8;
        }
      while (p < end && *p < 0x80)
        p++;
      if (p == end)
        break;
      if (runner_utf8_scan (p, end - p, &need) != need || need == 0)
        return FALSE;
      p += need;
    }

  return TRUE;
}

/**
 * runner_utf8_make_valid_bytes:
 * @text: bytes meant to be UTF-8
 *
 * For senders that must never hand invalid text to a peer.
 *
 * Returns: (transfer full): @text itself when it is valid UTF-8, else a copy
 *   with each maximal invalid subpart replaced by U+FFFD
 */
GBytes *
runner_utf8_make_valid_bytes (GBytes *text)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (text, &len);
  GString *out;
  const guint8 *p, *end;

  if (runner_utf8_validate (data, len))
    return g_bytes_ref (text);

  out = g_string_sized_new (len + 16);
  for (p = data, end = data + len; p < end;)
    {
      guint need;
      guint n = runner_utf8_scan (p, end - p, &need);

      if (need != 0 && n == need)
        {
          g_string_append_len (out, (const char *) p, n);
          p += n;
        }
      else
        {
          g_string_append_len (out, "\xef\xbf\xbd", 3);
          p += MAX (n, 1);
        }
    }
  return g_string_free_to_bytes (out);
}
