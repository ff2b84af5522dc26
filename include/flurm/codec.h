/* include/flurm/codec.h — SLURM 22.05 framing, header and auth section (sans-I/O).
 *
 * A message on the wire: u32 length N (not counting itself), then N bytes holding
 * header | auth section | body. Header (protocol 0x2600): u16 version, u16 flags, u16 msg_type,
 * u32 body_length, u16 forward_cnt [+ string nodelist, u32 timeout, u16 tree_width when > 0],
 * u16 ret_cnt, then slurm_addr_t orig_addr (u16 family; AF_INET adds u32 addr + u16 port;
 * AF_INET6 adds packmem(16) + u16 port). Auth section: u32 plugin id (101 = munge) + packstr
 * credential. See docs/slurm-22.05-protocol.md sections 1 and 2.10. */
#ifndef FLURM_CODEC_H
#define FLURM_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <flurm/buf.h>
#include <flurm/common.h>

#define FLURM_PROTOCOL_VERSION 0x2600u       /* SLURM 22.05 */
#define FLURM_PROTOCOL_VERSION_MIN 0x2400u   /* oldest a 22.05 receiver accepts (20.11) */
#define FLURM_AUTH_PLUGIN_MUNGE 101u
#define FLURM_MAX_MSG_SIZE (1u << 30)        /* SLURM's MAX_MSG_SIZE; larger prefixes are insane */

typedef struct flurm_header {
    uint16_t version;
    uint16_t flags;
    uint16_t msg_type;
    uint32_t body_length;
    uint16_t forward_cnt;   /* decoded and skipped; always 0 between clients and controller */
    uint16_t ret_cnt;       /* a request with ret_cnt > 0 is rejected (FLURM_EPROTO) */
    uint16_t addr_family;   /* orig_addr family; address bytes are skipped */
} flurm_header_t;

/* A decoded frame. Pointers borrow from the input bytes and live as long as they do. */
typedef struct flurm_frame {
    flurm_header_t hdr;
    uint32_t auth_plugin;   /* 101 for munge */
    const char *cred;       /* NUL-terminated credential text inside the input, or NULL */
    size_t cred_len;        /* strlen(cred) */
    const uint8_t *body;    /* exactly hdr.body_length bytes */
} flurm_frame_t;

/* Decodes DATA[0..LEN) — the bytes AFTER the u32 length prefix. Checks: version is one a 22.05
 * receiver accepts, ret_cnt == 0, auth plugin is munge, the credential string is NUL-terminated,
 * body_length <= bytes left. Returns FLURM_OK, FLURM_ETRUNC (too short) or FLURM_EPROTO. */
FLURM_API int flurm_frame_decode(const uint8_t *data, size_t len, flurm_frame_t *out);

/* Appends one complete frame (u32 prefix included) to OUT: a header with VERSION, FLAGS,
 * MSG_TYPE, body_length = BODY_LEN, no forwarding, orig_addr family 0; plugin 101 + CRED;
 * then the body. Returns out->err. */
FLURM_API int flurm_frame_encode(flurm_buf_t *out, uint16_t version, uint16_t flags,
                                 uint16_t msg_type, const char *cred,
                                 const void *body, size_t body_len);

/* Reads the u32 prefix from the first 4 bytes of P: the frame length, or 0 when it is above
 * FLURM_MAX_MSG_SIZE or below the smallest possible frame (the caller closes the connection). */
FLURM_API uint32_t flurm_frame_length(const uint8_t p[4]);

/* Name of a SLURM message type ("REQUEST_PING"), or NULL when unknown. */
FLURM_API const char *flurm_msg_type_name(uint16_t msg_type);

#endif
