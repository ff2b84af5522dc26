/* libflurm/codec/frame.c — SLURM 22.05 framing (see include/flurm/codec.h).
 *
 * Layout read from unpack_header() in src/common/slurm_protocol_pack.c and
 * slurm_unpack_addr_no_alloc() in src/common/slurm_protocol_socket.c (slurm-22-05-8-1). */
#include <flurm/codec.h>

#include <string.h>

#define AF_UNSPEC_ 0u
#define AF_INET_ 2u
#define AF_INET6_ 10u

/* Header (16) + plugin id (4) + a NULL credential string (4): nothing can be shorter. */
#define MIN_FRAME_LEN 24u

uint32_t flurm_frame_length(const uint8_t p[4])
{
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (n > FLURM_MAX_MSG_SIZE || n < MIN_FRAME_LEN)
        return 0;
    return n;
}

/* check_header_version() in slurm_protocol_util.c: the current release and the two before. */
static bool version_accepted(uint16_t v)
{
    return v == 0x2600u || v == 0x2500u || v == 0x2400u;
}

/* Skips a packstr, requiring its bytes to be present (contents are not inspected). */
static int skip_str(flurm_buf_t *b)
{
    uint32_t n;
    if (flurm_unpack32(b, &n))
        return b->err;
    return flurm_unpack_skip(b, n);
}

static int decode_header(flurm_buf_t *b, flurm_header_t *h)
{
    uint16_t u16;
    uint32_t u32;
    if (flurm_unpack16(b, &h->version))
        return b->err;
    if (!version_accepted(h->version))
        return b->err = FLURM_EPROTO;
    flurm_unpack16(b, &h->flags);
    /* 20.11 and 21.08 carry an extra u16 (always 0) between flags and msg_type. */
    if (h->version < FLURM_PROTOCOL_VERSION)
        flurm_unpack16(b, &u16);
    flurm_unpack16(b, &h->msg_type);
    flurm_unpack32(b, &h->body_length);
    flurm_unpack16(b, &h->forward_cnt);
    if (!b->err && h->forward_cnt > 0) {
        skip_str(b);              /* nodelist */
        flurm_unpack32(b, &u32);  /* timeout */
        flurm_unpack16(b, &u16);  /* tree_width */
    }
    flurm_unpack16(b, &h->ret_cnt);
    if (b->err)
        return b->err;
    /* A ret_list carries other nodes' replies; nothing talking to a controller sends one. */
    if (h->ret_cnt > 0)
        return b->err = FLURM_EPROTO;
    flurm_unpack16(b, &h->addr_family);
    if (b->err)
        return b->err;
    if (h->addr_family == AF_INET_) {
        flurm_unpack_skip(b, 4 + 2);
    } else if (h->addr_family == AF_INET6_) {
        if (!flurm_unpack32(b, &u32) && u32 != 16)
            return b->err = FLURM_EPROTO;
        flurm_unpack_skip(b, 16 + 2);
    }
    /* Any other family: SLURM zeroes the address and reads nothing more. */
    return b->err;
}

int flurm_frame_decode(const uint8_t *data, size_t len, flurm_frame_t *out)
{
    flurm_buf_t b;
    flurm_frame_t f;
    uint32_t n;
    memset(&f, 0, sizeof f);
    flurm_buf_view(&b, data, len);
    if (decode_header(&b, &f.hdr))
        return b.err;

    if (flurm_unpack32(&b, &f.auth_plugin))
        return b.err;
    if (f.auth_plugin != FLURM_AUTH_PLUGIN_MUNGE)
        return FLURM_EPROTO;
    if (flurm_unpack32(&b, &n))
        return b.err;
    if (n > 0) {
        const uint8_t *s = data + b.pos;
        if (flurm_unpack_skip(&b, n))
            return b.err;
        if (s[n - 1] != '\0')
            return FLURM_EPROTO;
        f.cred = (const char *)s;
        f.cred_len = strlen(f.cred);
    }

    /* Extra bytes after the body are tolerated, as libslurm does. */
    if (f.hdr.body_length > flurm_buf_remaining(&b))
        return FLURM_ETRUNC;
    f.body = data + b.pos;
    *out = f;
    return FLURM_OK;
}

int flurm_frame_encode(flurm_buf_t *out, uint16_t version, uint16_t flags, uint16_t msg_type,
                       const char *cred, const void *body, size_t body_len)
{
    if (out->err)
        return out->err;
    size_t start = out->size;
    size_t cred_size = cred ? strlen(cred) + 1 : 0;
    size_t hdr_size = version < FLURM_PROTOCOL_VERSION ? 18 : 16;
    if (!version_accepted(version))
        return out->err = FLURM_EINVAL;
    if (body_len > FLURM_MAX_MSG_SIZE || cred_size > FLURM_MAX_MSG_SIZE ||
        hdr_size + 8 + cred_size + body_len > FLURM_MAX_MSG_SIZE)
        return out->err = FLURM_ERANGE;
    if (flurm_buf_reserve(out, 4 + hdr_size + 8 + cred_size + body_len))
        return out->err;

    flurm_pack32(out, (uint32_t)(hdr_size + 8 + cred_size + body_len));
    flurm_pack16(out, version);
    flurm_pack16(out, flags);
    if (version < FLURM_PROTOCOL_VERSION)
        flurm_pack16(out, 0);
    flurm_pack16(out, msg_type);
    flurm_pack32(out, (uint32_t)body_len);
    flurm_pack16(out, 0);           /* forward.cnt */
    flurm_pack16(out, 0);           /* ret_cnt */
    flurm_pack16(out, AF_UNSPEC_);  /* orig_addr: slurmctld sends family 0 in replies */
    flurm_pack32(out, FLURM_AUTH_PLUGIN_MUNGE);
    flurm_packstr(out, cred);
    flurm_pack_raw(out, body, body_len);
    if (out->err)
        out->size = start;
    return out->err;
}
