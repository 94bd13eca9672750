/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gi18n.h>

/* ETags: what S3 will call a local file once uploaded (an MD5, or for a
 * multipart upload the MD5 of the parts' MD5s and their count), so that sync
 * can tell an unchanged file without sending it. */

#define MAX_PARTS 10000

/* MD5 of @len bytes of @fd from @offset (pread: the offset of @fd stays);
 * the bytes also go into @whole, if given. */
gboolean
runner_s3_md5_range (int            fd,
                     gint64         offset,
                     gint64         len,
                     guint8         digest[16],
                     GChecksum     *whole,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree guint8 *buffer = g_malloc (256 * 1024);
  gsize digest_len = 16;

  while (len > 0)
    {
      ssize_t n = pread (fd, buffer, MIN (len, 256 * 1024), offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               _("the file shrank while it was read"));
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_checksum_update (md5, buffer, n);
      if (whole != NULL)
        g_checksum_update (whole, buffer, n);
      offset += n;
      len -= n;
    }
  g_checksum_get_digest (md5, digest, &digest_len);
  return TRUE;
}

char *
runner_s3_hex_digest (const guint8 *digest,
                      gsize         len)
{
  GString *out = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

/* @part_size, or more when the file would take over MAX_PARTS parts. */
gint64
runner_s3_effective_part_size (gint64 size,
                               gint64 part_size)
{
  const gint64 mib = 1024 * 1024;

  if ((size + part_size - 1) / part_size > MAX_PARTS)
    part_size = ((size / MAX_PARTS) / mib + 1) * mib;
  return part_size;
}

/**
 * runner_s3_local_etag:
 * @fd: a file
 * @size: its size
 * @threshold: the multipart threshold it would be uploaded with
 * @part_size: the part size
 *
 * Computes the ETag S3 gives to @fd's content once uploaded: the MD5 in hex,
 * or for a multipart upload the MD5 of the parts' MD5s and `-N`.
 *
 * Returns: (transfer full): the ETag, or %NULL with @error set
 */
char *
runner_s3_local_etag (int            fd,
                      gint64         size,
                      gint64         threshold,
                      gint64         part_size,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GChecksum) all = NULL;
  g_autofree char *hex = NULL;
  guint8 digest[16];
  guint parts = 0;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (part_size > 0, NULL);

  if (size < threshold)
    {
      if (!runner_s3_md5_range (fd, 0, size, digest, NULL, cancellable, error))
        return NULL;
      return runner_s3_hex_digest (digest, sizeof digest);
    }

  part_size = runner_s3_effective_part_size (size, part_size);
  all = g_checksum_new (G_CHECKSUM_MD5);
  for (gint64 offset = 0; offset < size; offset += part_size, parts++)
    {
      if (!runner_s3_md5_range (fd, offset, MIN (part_size, size - offset), digest, NULL, cancellable, error))
        return NULL;
      g_checksum_update (all, digest, sizeof digest);
    }
  return g_strdup_printf ("%s-%u", g_checksum_get_string (all), parts);
}

/**
 * runner_s3_etag_matches:
 * @self: a #RunnerS3
 * @fd: a local file
 * @size: its size
 * @etag: an object's ETag
 *
 * Tells whether @fd holds what an object with @etag holds: by MD5 for a
 * single-part ETag; for a multipart one (`MD5-N`), by recomputing it with the
 * part sizes it may have been uploaded with (ours, the AWS CLI's 8 MiB, or
 * the size that gives N parts).
 */
gboolean
runner_s3_etag_matches (RunnerS3     *self,
                        int           fd,
                        gint64        size,
                        const char   *etag,
                        GCancellable *cancellable)
{
  const gint64 mib = 1024 * 1024;
  const char *dash;
  gint64 parts;
  gint64 candidates[4];

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);

  if (etag == NULL || etag[0] == '\0')
    return FALSE;
  dash = strchr (etag, '-');
  if (dash == NULL)
    {
      g_autofree char *local = runner_s3_local_etag (fd, size, G_MAXINT64, mib, cancellable, NULL);

      return local != NULL && g_ascii_strcasecmp (local, etag) == 0;
    }

  parts = g_ascii_strtoll (dash + 1, NULL, 10);
  if (parts <= 0 || size <= 0)
    return FALSE;
  candidates[0] = self->part_size;
  candidates[1] = 8 * mib;
  candidates[2] = ((size + parts - 1) / parts + mib - 1) / mib * mib;
  candidates[3] = (size + parts - 1) / parts;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *local = NULL;
      gboolean seen = FALSE;

      for (guint j = 0; j < i; j++)
        seen |= candidates[j] == candidates[i];
      if (seen || candidates[i] <= 0 || (size + candidates[i] - 1) / candidates[i] != parts)
        continue;
      local = runner_s3_local_etag (fd, size, 0, candidates[i], cancellable, NULL);
      if (local != NULL && g_ascii_strcasecmp (local, etag) == 0)
        return TRUE;
    }
  return FALSE;
}
