/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The separator of packets in a polling payload. */
#define RUNNER_EIO_RECORD_SEPARATOR '\x1e'

/* Bounds on what a peer may make the decoders build. */
#define RUNNER_SIO_MAX_ATTACHMENTS 64
#define RUNNER_SIO_MAX_NSP_LENGTH  256
/* The largest ack id a JavaScript client can count to exactly (2^53 - 1). */
#define RUNNER_SIO_MAX_ACK_ID      G_GINT64_CONSTANT (9007199254740991)
#define RUNNER_SIO_NO_ACK_ID       ((gint64) -1)

/**
 * RunnerEioPacketType:
 *
 * Engine.IO (protocol 4) packet types, as their wire digit.
 */
typedef enum
{
  RUNNER_EIO_PACKET_OPEN = 0,
  RUNNER_EIO_PACKET_CLOSE = 1,
  RUNNER_EIO_PACKET_PING = 2,
  RUNNER_EIO_PACKET_PONG = 3,
  RUNNER_EIO_PACKET_MESSAGE = 4,
  RUNNER_EIO_PACKET_UPGRADE = 5,
  RUNNER_EIO_PACKET_NOOP = 6,
} RunnerEioPacketType;

/**
 * RunnerEioPacket:
 * @type: the packet type
 * @binary: %TRUE for a message carrying raw bytes (a Socket.IO attachment)
 * @data: (not nullable): the text after the type digit, or the raw bytes of a
 *   binary message; never base64
 *
 * One Engine.IO packet, decoded. Outgoing packets use the same struct, so a
 * broadcast frame is shared by reference until it is written.
 */
typedef struct
{
  RunnerEioPacketType  type;
  gboolean             binary;
  GBytes              *data; /* owned */
} RunnerEioPacket;

RunnerEioPacket *runner_eio_packet_new          (RunnerEioPacketType  type,
                                                 gboolean             binary,
                                                 GBytes              *data);
RunnerEioPacket *runner_eio_packet_new_text     (RunnerEioPacketType  type,
                                                 const char          *text);
void             runner_eio_packet_free         (RunnerEioPacket     *packet);
gsize            runner_eio_packet_get_polling_size (const RunnerEioPacket *packet);

RunnerEioPacket *runner_eio_packet_decode       (const guint8        *data,
                                                 gsize                len,
                                                 gboolean             allow_base64,
                                                 GError             **error);
GPtrArray       *runner_eio_payload_decode      (const guint8        *data,
                                                 gsize                len,
                                                 guint                max_packets,
                                                 GError             **error);
void             runner_eio_payload_append      (GString             *payload,
                                                 const RunnerEioPacket *packet);
void             runner_eio_payload_append_frame (GString            *payload,
                                                 const guint8        *frame,
                                                 gsize                len,
                                                 gboolean             binary);
gsize            runner_eio_frame_get_polling_size (gsize             len,
                                                 gboolean             binary);

/**
 * RunnerSioPacketType:
 *
 * Socket.IO (protocol 5) packet types, as their wire digit.
 */
typedef enum
{
  RUNNER_SIO_PACKET_CONNECT = 0,
  RUNNER_SIO_PACKET_DISCONNECT = 1,
  RUNNER_SIO_PACKET_EVENT = 2,
  RUNNER_SIO_PACKET_ACK = 3,
  RUNNER_SIO_PACKET_CONNECT_ERROR = 4,
  RUNNER_SIO_PACKET_BINARY_EVENT = 5,
  RUNNER_SIO_PACKET_BINARY_ACK = 6,
} RunnerSioPacketType;

/**
 * RunnerSioPacket:
 * @type: the packet type
 * @nsp: the namespace, "/" when the packet names none
 * @id: the ack id, or %RUNNER_SIO_NO_ACK_ID
 * @attachments: how many binary packets follow (BINARY_EVENT, BINARY_ACK)
 * @data: (nullable): the JSON payload; binary attachments appear in it as
 *   `{"_placeholder":true,"num":i}`
 */
typedef struct
{
  RunnerSioPacketType  type;
  char                *nsp;  /* owned */
  gint64               id;
  guint                attachments;
  JsonNode            *data; /* owned */
} RunnerSioPacket;

RunnerSioPacket *runner_sio_packet_new          (RunnerSioPacketType  type,
                                                 const char          *nsp,
                                                 gint64               id,
                                                 JsonNode            *data);
void             runner_sio_packet_free         (RunnerSioPacket     *packet);
RunnerSioPacket *runner_sio_packet_decode       (const char          *text,
                                                 gsize                len,
                                                 GError             **error);
char            *runner_sio_packet_encode       (const RunnerSioPacket *packet,
                                                 gsize               *len);
const char      *runner_sio_packet_get_event    (const RunnerSioPacket *packet);
JsonNode        *runner_sio_packet_get_arg      (const RunnerSioPacket *packet,
                                                 guint                index);

char            *runner_sio_connect_error_new   (const char          *nsp,
                                                 const char          *message);

JsonNode        *runner_sio_placeholder_new     (guint                num);
gint             runner_sio_placeholder_get_num (JsonNode            *node);
GBytes          *runner_sio_placeholder_resolve (JsonNode            *node,
                                                 GPtrArray           *attachments);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerEioPacket, runner_eio_packet_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerSioPacket, runner_sio_packet_free)

G_END_DECLS
