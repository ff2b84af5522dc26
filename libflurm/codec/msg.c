/* libflurm/codec/msg.c — the generic message codec (include/flurm/msg.h) over the layout
 * registry (msg_registry.h). */
#include <flurm/msg.h>
#include <flurm/codec.h>

#include <stdlib.h>

#include "codec/msg_registry.h"

const flurm_table_t *flurm_msg_table(uint16_t msg_type)
{
    const flurm_table_t *t = flurm_msg_req_table(msg_type);
    return t ? t : flurm_msg_info_table(msg_type);
}

/* The "Message contains no body" cases of pack_msg() in slurm_protocol_pack.c, plus
 * RESPONSE_FORWARD_FAILED, which is packed nowhere. */
bool flurm_msg_empty_body(uint16_t msg_type)
{
    switch (msg_type) {
    case FLURM_REQUEST_NODE_REGISTRATION_STATUS:
    case FLURM_REQUEST_RECONFIGURE:
    case FLURM_REQUEST_PING:
    case FLURM_REQUEST_CONTROL:
    case FLURM_REQUEST_CONTROL_STATUS:
    case FLURM_REQUEST_TAKEOVER:
    case FLURM_REQUEST_DAEMON_STATUS:
    case FLURM_REQUEST_HEALTH_CHECK:
    case FLURM_REQUEST_ACCT_GATHER_UPDATE:
    case FLURM_ACCOUNTING_FIRST_REG:
    case FLURM_ACCOUNTING_REGISTER_CTLD:
    case FLURM_REQUEST_TOPO_INFO:
    case FLURM_REQUEST_BURST_BUFFER_INFO:
    case FLURM_REQUEST_FED_INFO:
    case FLURM_SRUN_PING:
    case FLURM_RESPONSE_FORWARD_FAILED:
        return true;
    default:
        return false;
    }
}

bool flurm_msg_known(uint16_t msg_type)
{
    return flurm_msg_empty_body(msg_type) || flurm_msg_table(msg_type) != NULL;
}

int flurm_msg_unpack(uint16_t msg_type, const void *body, size_t len, void **out)
{
    *out = NULL;
    if (flurm_msg_empty_body(msg_type))
        return FLURM_OK;
    const flurm_table_t *t = flurm_msg_table(msg_type);
    if (!t)
        return FLURM_ENOTSUP;
    void *msg = malloc(t->size);
    if (!msg)
        return FLURM_ENOMEM;
    flurm_buf_t b;
    flurm_buf_view(&b, body, len);
    int err = flurm_table_unpack(t, msg, &b);
    if (err) {
        free(msg);   /* flurm_table_unpack already released what it had filled in */
        return err;
    }
    *out = msg;
    return FLURM_OK;
}

int flurm_msg_pack(uint16_t msg_type, const void *msg, flurm_buf_t *out)
{
    if (out->err)
        return out->err;
    if (flurm_msg_empty_body(msg_type))
        return FLURM_OK;
    const flurm_table_t *t = flurm_msg_table(msg_type);
    if (!t)
        return FLURM_ENOTSUP;
    size_t start = out->size;
    if (flurm_table_pack(t, msg, out))
        out->size = start;
    return out->err;
}

int flurm_msg_encode(flurm_buf_t *out, uint16_t flags, uint16_t msg_type, const char *cred,
                     const void *msg)
{
    if (out->err)
        return out->err;
    flurm_buf_t body;
    flurm_buf_init(&body);
    int err = flurm_msg_pack(msg_type, msg, &body);
    if (!err)
        err = flurm_frame_encode(out, FLURM_PROTOCOL_VERSION, flags, msg_type, cred, body.data,
                                 body.size);
    flurm_buf_release(&body);
    return err;
}

void flurm_msg_free(uint16_t msg_type, void *msg)
{
    if (!msg)
        return;
    const flurm_table_t *t = flurm_msg_table(msg_type);
    if (t)
        flurm_table_free(t, msg);
    free(msg);
}
