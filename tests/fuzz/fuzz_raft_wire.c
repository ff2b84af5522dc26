/* tests/fuzz/fuzz_raft_wire.c — libFuzzer target: Raft peer messages and forwards
 * (libflurm/raft/wire.c).
 *
 * The first input byte picks what the rest is:
 *   even  bytes from a peer: decoded (flurm_raft_peer_decode, and flurm_raft_msg_decode, which
 *         must agree on Raft messages and say ENOTSUP for forwards); if they decode, the message
 *         re-encodes, the encoding decodes to the same message and re-encodes to the same bytes;
 *   odd   a message built from the bytes (any Raft type, a Forward or a ForwardReply, fields
 *         and entries valid or not): if it encodes, it decodes to itself; then one byte of the
 *         encoding is changed as the input says and the result goes through the even path.
 * No crash, no leak, no read past the input (ASan), no UB (UBSan), whatever the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/raft_wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CLUSTER[] = "fuzz";

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader_t;

static uint64_t get(reader_t *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && r->n; i++, r->p++, r->n--)
        v = v << 8 | *r->p;
    return v;
}

static int same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* Every member of flurm_raft_msg_t, entries and data by content. */
static int same_msg(const flurm_raft_msg_t *a, const flurm_raft_msg_t *b)
{
    if (a->type != b->type || a->flags != b->flags || a->from != b->from || a->to != b->to ||
        a->term != b->term || a->log_index != b->log_index || a->log_term != b->log_term ||
        a->commit != b->commit || a->match != b->match || a->reject_index != b->reject_index ||
        a->conflict_term != b->conflict_term || a->conflict_index != b->conflict_index ||
        a->n_entries != b->n_entries || a->len != b->len || !same_bytes(a->data, b->data, a->len) ||
        (a->len == 0) != (a->data == NULL) || (b->len == 0) != (b->data == NULL) ||
        memcmp(&a->snapshot, &b->snapshot, sizeof a->snapshot) != 0 ||
        memcmp(a->reserved, b->reserved, sizeof a->reserved) != 0)
        return 0;
    for (size_t i = 0; i < a->n_entries; i++) {
        const flurm_raft_entry_t *x = &a->entries[i], *y = &b->entries[i];
        if (x->index != y->index || x->term != y->term || x->type != y->type || x->len != y->len ||
            !same_bytes(x->data, y->data, x->len))
            return 0;
    }
    return 1;
}

static int same_forward(const flurm_raft_forward_t *a, const flurm_raft_forward_t *b)
{
    return a->from == b->from && a->to == b->to && a->request_id == b->request_id && a->uid == b->uid &&
           a->gid == b->gid && strcmp(a->client_addr ? a->client_addr : "", b->client_addr ? b->client_addr : "") == 0 &&
           a->len == b->len && same_bytes(a->request, b->request, a->len);
}

static int same_reply(const flurm_raft_forward_reply_t *a, const flurm_raft_forward_reply_t *b)
{
    return a->from == b->from && a->to == b->to && a->request_id == b->request_id && a->len == b->len &&
           same_bytes(a->reply, b->reply, a->len) && (a->len == 0) == (a->reply == NULL) &&
           (b->len == 0) == (b->reply == NULL);
}

/* Encodes whatever W holds. */
static int encode_any(const flurm_raft_wire_msg_t *w, flurm_buf_t *out)
{
    switch (w->kind) {
    case FLURM_RAFT_WIRE_RAFT: return flurm_raft_msg_encode(&w->msg, CLUSTER, out);
    case FLURM_RAFT_WIRE_FORWARD: return flurm_raft_forward_encode(&w->forward, CLUSTER, out);
    case FLURM_RAFT_WIRE_FORWARD_REPLY: return flurm_raft_forward_reply_encode(&w->forward_reply, CLUSTER, out);
    }
    abort();
}

static int same_any(const flurm_raft_wire_msg_t *a, const flurm_raft_wire_msg_t *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case FLURM_RAFT_WIRE_RAFT: return same_msg(&a->msg, &b->msg);
    case FLURM_RAFT_WIRE_FORWARD: return same_forward(&a->forward, &b->forward);
    case FLURM_RAFT_WIRE_FORWARD_REPLY: return same_reply(&a->forward_reply, &b->forward_reply);
    }
    return 0;
}

static void peer_bytes(const uint8_t *p, size_t n)
{
    flurm_raft_wire_msg_t *w = NULL, *w2 = NULL, *r = NULL;
    flurm_buf_t a, b;
    flurm_buf_init(&a);
    flurm_buf_init(&b);
    /* the Raft-only decoder agrees with the full one on Raft messages and refuses the rest */
    int rrc = flurm_raft_msg_decode(p, n, CLUSTER, &r);
    if (flurm_raft_peer_decode(p, n, CLUSTER, &w) != FLURM_OK) {
        if (w || rrc == FLURM_OK)
            abort();   /* a failed decode leaves nothing */
        flurm_raft_wire_msg_free(r);
        return;
    }
    if (w->kind == FLURM_RAFT_WIRE_RAFT ? rrc != FLURM_OK || !same_msg(&w->msg, &r->msg) : rrc != FLURM_ENOTSUP)
        abort();
    flurm_raft_wire_msg_free(r);
    if (encode_any(w, &a) != FLURM_OK)
        abort();   /* whatever decodes encodes */
    if (flurm_raft_peer_decode(a.data, a.size, CLUSTER, &w2) != FLURM_OK || !same_any(w, w2))
        abort();
    if (encode_any(w2, &b) != FLURM_OK || a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
        abort();   /* canonical: one encoding per message */
    flurm_raft_wire_msg_free(w);
    flurm_raft_wire_msg_free(w2);
    flurm_buf_release(&a);
    flurm_buf_release(&b);
}

/* A Forward (KIND 0) or ForwardReply built from the input: if it encodes it decodes to itself. */
static void built_forward(reader_t *r, unsigned kind, const uint8_t *blob, size_t blob_size)
{
    static char addr[300];
    unsigned w = (unsigned)get(r, 1) % 3 + 1;
    flurm_raft_wire_msg_t m = { .kind = kind ? FLURM_RAFT_WIRE_FORWARD_REPLY : FLURM_RAFT_WIRE_FORWARD };
    size_t alen = (size_t)get(r, 2) % sizeof addr;
    memset(addr, 'a', alen);
    addr[alen] = '\0';
    size_t len = (size_t)get(r, 2) % (blob_size + 1);
    const void *data = (get(r, 1) & 7) ? blob : NULL;
    if (kind == 0)
        m.forward = (flurm_raft_forward_t){ .from = get(r, w), .to = get(r, w), .request_id = get(r, w),
                                            .uid = (uint32_t)get(r, 4), .gid = (uint32_t)get(r, 4),
                                            .client_addr = (get(r, 1) & 3) ? addr : NULL, .request = data, .len = len };
    else
        m.forward_reply = (flurm_raft_forward_reply_t){ .from = get(r, w), .to = get(r, w), .request_id = get(r, w),
                                                        .reply = data, .len = len };
    flurm_buf_t a;
    flurm_buf_init(&a);
    if (encode_any(&m, &a) == FLURM_OK) {
        flurm_raft_wire_msg_t *d = NULL;
        if (m.kind == FLURM_RAFT_WIRE_FORWARD_REPLY && !m.forward_reply.len)
            m.forward_reply.reply = NULL;   /* an empty reply decodes as NULL */
        if (flurm_raft_peer_decode(a.data, a.size, CLUSTER, &d) != FLURM_OK || !same_any(&m, d))
            abort();
        flurm_raft_wire_msg_free(d);
        if (a.size) {
            size_t at = (size_t)get(r, 2) % a.size;
            a.data[at] ^= (uint8_t)(get(r, 1) | 1);
            peer_bytes(a.data, a.size);
        }
    } else if (a.size != 0) {
        abort();
    }
    flurm_buf_release(&a);
}

static void built(reader_t *r)
{
    static uint8_t blob[512];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 7 + 1);
    flurm_raft_entry_t ents[40];
    uint8_t confs[40][4 + 8 * 4];
    /* Small values most of the time so the rules are met often, any value sometimes. */
    unsigned w = (unsigned)get(r, 1) % 3 + 1;
    uint32_t type = (uint32_t)get(r, 1) % 11;
    if (type >= 9) {
        built_forward(r, type - 9, blob, sizeof blob);
        return;
    }
    flurm_raft_msg_t m = { .type = type, .from = get(r, w), .to = get(r, w), .term = get(r, w) };
    switch (m.type) {
    case FLURM_RAFT_MSG_VOTE:
        m.flags = (uint32_t)get(r, 1) & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_TRANSFER);
        m.log_index = get(r, w);
        m.log_term = get(r, w);
        break;
    case FLURM_RAFT_MSG_VOTE_REPLY:
        m.flags = (uint32_t)get(r, 1) & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_GRANTED);
        break;
    case FLURM_RAFT_MSG_APPEND: {
        m.log_index = get(r, w);
        m.log_term = get(r, w);
        m.commit = get(r, w);
        m.n_entries = (size_t)get(r, 1) % 41;
        uint64_t idx = m.log_index + 1, term = m.log_term;
        for (size_t i = 0; i < m.n_entries; i++) {
            uint8_t ctl = (uint8_t)get(r, 1);
            uint32_t len = (uint32_t)get(r, 1) % 64;
            term += ctl & 1;
            ents[i] = (flurm_raft_entry_t){ .index = (ctl & 0x80) ? get(r, w) : idx, .term = (ctl & 0x40) ? get(r, w) : term,
                                            .type = (ctl >> 1) & 3, .len = len, .data = len ? blob + (ctl & 0x3f) : NULL };
            if (ents[i].type == FLURM_RAFT_ENTRY_CONFIG && (ctl & 0x20)) {
                /* a configuration that decodes: 1..3 voters, 0..1 learner, ascending */
                uint8_t *c = confs[i];
                uint32_t nv = 1 + ctl % 3, nl = (ctl >> 3) & 1;
                c[0] = 1;
                c[1] = (uint8_t)nv;
                c[2] = (uint8_t)nl;
                c[3] = 0;
                for (uint32_t k = 0; k < nv + nl; k++) {
                    uint64_t id = k < nv ? 1 + k : 10;
                    for (int b = 0; b < 8; b++)
                        c[4 + 8 * k + b] = (uint8_t)(id >> (56 - 8 * b));
                }
                ents[i].data = c;
                ents[i].len = 4 + 8 * (nv + nl);
            }
            idx++;
        }
        m.entries = m.n_entries ? ents : NULL;
        break;
    }
    case FLURM_RAFT_MSG_APPEND_REPLY:
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        m.flags = (uint32_t)get(r, 1) & FLURM_RAFT_MSGF_SUCCESS;
        m.match = get(r, w);
        m.reject_index = get(r, w);
        m.conflict_term = get(r, w);
        m.conflict_index = get(r, w);
        break;
    case FLURM_RAFT_MSG_SNAPSHOT:
        m.snapshot.index = get(r, w);
        m.snapshot.term = get(r, w);
        m.snapshot.n_voters = (uint32_t)get(r, 1) % (FLURM_RAFT_MAX_MEMBERS + 2);
        m.snapshot.n_learners = (uint32_t)get(r, 1) % (FLURM_RAFT_MAX_MEMBERS + 2);
        for (uint32_t i = 0; i < m.snapshot.n_voters + m.snapshot.n_learners && i < FLURM_RAFT_MAX_MEMBERS; i++)
            m.snapshot.voters[i] = get(r, 1);
        m.len = (size_t)get(r, 2) % (sizeof blob + 1);
        m.data = m.len ? blob : NULL;
        break;
    default:
        break;
    }
    flurm_buf_t a;
    flurm_buf_init(&a);
    if (flurm_raft_msg_encode(&m, CLUSTER, &a) == FLURM_OK) {
        flurm_raft_wire_msg_t *d = NULL;
        if (flurm_raft_msg_decode(a.data, a.size, CLUSTER, &d) != FLURM_OK || !same_msg(&m, &d->msg))
            abort();   /* what encodes decodes to itself */
        flurm_raft_wire_msg_free(d);
        if (a.size) {
            size_t at = (size_t)get(r, 2) % a.size;
            a.data[at] ^= (uint8_t)(get(r, 1) | 1);
            peer_bytes(a.data, a.size);
        }
    } else if (a.size != 0) {
        abort();   /* a refused message leaves the buffer as it was */
    }
    flurm_buf_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        reader_t r = { data + 1, size - 1 };
        built(&r);
    } else {
        peer_bytes(data + 1, size - 1);
    }
    return 0;
}
