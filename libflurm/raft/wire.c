/* libflurm/raft/wire.c — flurm_raft_msg_t, flurm_raft_forward_t, flurm_raft_forward_reply_t <->
 * proto/raft.proto PeerMessage (protobuf-c).
 *
 * Encoding and decoding share one rule set (validate() on the canonical struct: the members the
 * type uses, the rest zero), so whatever encodes decodes, and decode then encode is byte-exact:
 * protobuf-c writes fields in field-number order and omits proto3 zero values, and the decoded
 * struct holds exactly what was on the wire. A decoded message keeps protobuf-c's unpacked tree
 * alive and points into it (entry and snapshot bytes are not copied a second time). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/raft_wire.h>

#include "raft.pb-c.h"

typedef Flurm__Raft__PeerMessage pb_msg_t;

/* What flurm_raft_msg_decode() allocates: the public part first (freed through it). */
typedef struct wire {
    flurm_raft_wire_msg_t pub;
    pb_msg_t *pb;
    flurm_raft_entry_t entries[];
} wire_t;

_Static_assert(offsetof(wire_t, pub) == 0, "wire_t starts with its public part");

/* ---- the rules (raft_wire.h) ---- */

static int validate_entries(const flurm_raft_msg_t *m)
{
    if (m->n_entries > FLURM_RAFT_WIRE_MAX_ENTRIES || (m->n_entries && !m->entries))
        return FLURM_EINVAL;
    if (m->log_index > UINT64_MAX - m->n_entries)
        return FLURM_EINVAL;
    uint64_t pt = m->log_term;
    for (size_t i = 0; i < m->n_entries; i++) {
        const flurm_raft_entry_t *e = &m->entries[i];
        if (e->index != m->log_index + 1 + i || e->term < pt || e->term > m->term ||
            e->type > FLURM_RAFT_ENTRY_CONFIG || (e->len && !e->data))
            return FLURM_EINVAL;
        flurm_raft_snapshot_meta_t conf;
        if (e->type == FLURM_RAFT_ENTRY_CONFIG && flurm_raft_config_decode(e->data, e->len, &conf) != FLURM_OK)
            return FLURM_EINVAL;
        pt = e->term;
    }
    return FLURM_OK;
}

static int validate_reply(const flurm_raft_msg_t *m)
{
    if ((m->flags & FLURM_RAFT_MSGF_SUCCESS) && (m->reject_index || m->conflict_term || m->conflict_index))
        return FLURM_EINVAL;
    if (m->conflict_index > m->reject_index || (m->conflict_term == 0) != (m->conflict_index == 0))
        return FLURM_EINVAL;
    return FLURM_OK;
}

static int validate_snapshot(const flurm_raft_msg_t *m)
{
    const flurm_raft_snapshot_meta_t *s = &m->snapshot;
    if (s->n_voters == 0 || s->n_voters > FLURM_RAFT_MAX_MEMBERS || s->n_learners > FLURM_RAFT_MAX_MEMBERS - s->n_voters)
        return FLURM_EINVAL;
    for (uint32_t i = 0; i < s->n_voters + s->n_learners; i++) {
        if (s->voters[i] == FLURM_RAFT_NONE)
            return FLURM_EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (s->voters[j] == s->voters[i])
                return FLURM_EINVAL;
    }
    if (s->index == 0 || s->term == 0 || s->term > m->term || (m->len && !m->data))
        return FLURM_EINVAL;
    return FLURM_OK;
}

/* M must be canonical (canon()). */
static int validate(const flurm_raft_msg_t *m)
{
    if (m->from == FLURM_RAFT_NONE || m->to == FLURM_RAFT_NONE)
        return FLURM_EINVAL;
    switch (m->type) {
    case FLURM_RAFT_MSG_VOTE:
        return m->log_term <= m->term ? FLURM_OK : FLURM_EINVAL;
    case FLURM_RAFT_MSG_VOTE_REPLY:
    case FLURM_RAFT_MSG_TIMEOUT_NOW:
        return FLURM_OK;
    case FLURM_RAFT_MSG_APPEND:
        return m->log_term <= m->term ? validate_entries(m) : FLURM_EINVAL;
    case FLURM_RAFT_MSG_APPEND_REPLY:
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        return validate_reply(m);
    case FLURM_RAFT_MSG_SNAPSHOT:
        return validate_snapshot(m);
    default:
        return FLURM_EINVAL;
    }
}

/* The members M's type uses; every other member zero. */
static flurm_raft_msg_t canon(const flurm_raft_msg_t *m)
{
    flurm_raft_msg_t c = { .type = m->type, .from = m->from, .to = m->to, .term = m->term };
    switch (m->type) {
    case FLURM_RAFT_MSG_VOTE:
        c.flags = m->flags & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_TRANSFER);
        c.log_index = m->log_index;
        c.log_term = m->log_term;
        break;
    case FLURM_RAFT_MSG_VOTE_REPLY:
        c.flags = m->flags & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_GRANTED);
        break;
    case FLURM_RAFT_MSG_APPEND:
        c.log_index = m->log_index;
        c.log_term = m->log_term;
        c.commit = m->commit;
        c.entries = m->entries;
        c.n_entries = m->n_entries;
        break;
    case FLURM_RAFT_MSG_APPEND_REPLY:
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        c.flags = m->flags & FLURM_RAFT_MSGF_SUCCESS;
        c.match = m->match;
        c.reject_index = m->reject_index;
        c.conflict_term = m->conflict_term;
        c.conflict_index = m->conflict_index;
        break;
    case FLURM_RAFT_MSG_SNAPSHOT:
        c.snapshot.index = m->snapshot.index;
        c.snapshot.term = m->snapshot.term;
        c.snapshot.n_voters = m->snapshot.n_voters;
        c.snapshot.n_learners = m->snapshot.n_learners;
        for (uint32_t i = 0; i < m->snapshot.n_voters + m->snapshot.n_learners && i < FLURM_RAFT_MAX_MEMBERS; i++)
            c.snapshot.voters[i] = m->snapshot.voters[i];
        c.data = m->data;
        c.len = m->len;
        break;
    default:
        break;
    }
    return c;
}

/* ---- encode ---- */

/* protobuf-c's structs are not const-correct; the packer only reads through these. */
static uint8_t *unconst(const void *p) { return (uint8_t *)(uintptr_t)p; }

static ProtobufCBinaryData bytes(const void *p, size_t n)
{
    return (ProtobufCBinaryData){ .len = n, .data = n ? unconst(p) : NULL };
}

int flurm_raft_msg_encode(const flurm_raft_msg_t *m, const char *cluster, flurm_buf_t *out)
{
    if (!m || !cluster || !out)
        return FLURM_EINVAL;
    if (out->err)
        return out->err;
    const flurm_raft_msg_t c = canon(m);
    int rc = validate(&c);
    if (rc)
        return rc;

    pb_msg_t pb = FLURM__RAFT__PEER_MESSAGE__INIT;
    pb.version = FLURM__RAFT__VERSION__PROTOCOL_VERSION;
    pb.cluster = bytes(cluster, strlen(cluster));
    pb.from = c.from;
    pb.to = c.to;
    pb.term = c.term;

    Flurm__Raft__Vote vote = FLURM__RAFT__VOTE__INIT;
    Flurm__Raft__VoteReply vote_reply = FLURM__RAFT__VOTE_REPLY__INIT;
    Flurm__Raft__Append append = FLURM__RAFT__APPEND__INIT;
    Flurm__Raft__AppendReply append_reply = FLURM__RAFT__APPEND_REPLY__INIT;
    Flurm__Raft__InstallSnapshot snap = FLURM__RAFT__INSTALL_SNAPSHOT__INIT;
    Flurm__Raft__SnapshotReply snap_reply = FLURM__RAFT__SNAPSHOT_REPLY__INIT;
    Flurm__Raft__TimeoutNow timeout_now = FLURM__RAFT__TIMEOUT_NOW__INIT;
    Flurm__Raft__Entry *ents = NULL, **entp = NULL;
    uint64_t voters[FLURM_RAFT_MAX_MEMBERS];

    switch (c.type) {
    case FLURM_RAFT_MSG_VOTE:
        vote.last_log_index = c.log_index;
        vote.last_log_term = c.log_term;
        vote.pre_vote = (c.flags & FLURM_RAFT_MSGF_PRE_VOTE) != 0;
        vote.transfer = (c.flags & FLURM_RAFT_MSGF_TRANSFER) != 0;
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_VOTE;
        pb.vote = &vote;
        break;
    case FLURM_RAFT_MSG_VOTE_REPLY:
        vote_reply.pre_vote = (c.flags & FLURM_RAFT_MSGF_PRE_VOTE) != 0;
        vote_reply.granted = (c.flags & FLURM_RAFT_MSGF_GRANTED) != 0;
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_VOTE_REPLY;
        pb.vote_reply = &vote_reply;
        break;
    case FLURM_RAFT_MSG_APPEND:
        append.prev_log_index = c.log_index;
        append.prev_log_term = c.log_term;
        append.commit = c.commit;
        if (c.n_entries) {
            ents = malloc(c.n_entries * sizeof *ents);
            entp = malloc(c.n_entries * sizeof *entp);
            if (!ents || !entp) {
                free(ents);
                free(entp);
                return FLURM_ENOMEM;
            }
            for (size_t i = 0; i < c.n_entries; i++) {
                const flurm_raft_entry_t *e = &c.entries[i];
                ents[i] = (Flurm__Raft__Entry)FLURM__RAFT__ENTRY__INIT;
                ents[i].index = e->index;
                ents[i].term = e->term;
                ents[i].type = (Flurm__Raft__EntryType)e->type;
                ents[i].data = bytes(e->data, e->len);
                entp[i] = &ents[i];
            }
            append.n_entries = c.n_entries;
            append.entries = entp;
        }
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_APPEND;
        pb.append = &append;
        break;
    case FLURM_RAFT_MSG_APPEND_REPLY:
        append_reply.success = (c.flags & FLURM_RAFT_MSGF_SUCCESS) != 0;
        append_reply.match = c.match;
        append_reply.reject_index = c.reject_index;
        append_reply.conflict_term = c.conflict_term;
        append_reply.conflict_index = c.conflict_index;
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_APPEND_REPLY;
        pb.append_reply = &append_reply;
        break;
    case FLURM_RAFT_MSG_SNAPSHOT:
        snap.index = c.snapshot.index;
        snap.term = c.snapshot.term;
        memcpy(voters, c.snapshot.voters, sizeof voters);
        snap.n_voters = c.snapshot.n_voters;
        snap.voters = voters;
        snap.n_learners = c.snapshot.n_learners;
        snap.learners = voters + c.snapshot.n_voters;
        snap.data = bytes(c.data, c.len);
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_SNAPSHOT;
        pb.snapshot = &snap;
        break;
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        snap_reply.success = (c.flags & FLURM_RAFT_MSGF_SUCCESS) != 0;
        snap_reply.match = c.match;
        snap_reply.reject_index = c.reject_index;
        snap_reply.conflict_term = c.conflict_term;
        snap_reply.conflict_index = c.conflict_index;
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_SNAPSHOT_REPLY;
        pb.snapshot_reply = &snap_reply;
        break;
    case FLURM_RAFT_MSG_TIMEOUT_NOW:
        pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_TIMEOUT_NOW;
        pb.timeout_now = &timeout_now;
        break;
    default:
        return FLURM_EINVAL;   /* validate() already refused it */
    }

    size_t n = flurm__raft__peer_message__get_packed_size(&pb);
    rc = flurm_buf_reserve(out, n);
    if (rc == FLURM_OK)
        out->size += flurm__raft__peer_message__pack(&pb, out->data + out->size);
    free(ents);
    free(entp);
    return rc;
}

/* ---- forwards ---- */

static int validate_ids(uint64_t from, uint64_t to)
{
    return from == FLURM_RAFT_NONE || to == FLURM_RAFT_NONE ? FLURM_EINVAL : FLURM_OK;
}

static int validate_addr(const char *addr)
{
    return strlen(addr) <= FLURM_RAFT_WIRE_MAX_ADDR ? FLURM_OK : FLURM_EINVAL;
}

static int validate_forward(const flurm_raft_forward_t *f)
{
    if (validate_ids(f->from, f->to) || !f->len || !f->request)
        return FLURM_EINVAL;
    return validate_addr(f->client_addr ? f->client_addr : "");
}

static int validate_forward_reply(const flurm_raft_forward_reply_t *r)
{
    if (validate_ids(r->from, r->to) || (r->len && !r->reply))
        return FLURM_EINVAL;
    return FLURM_OK;
}

/* Appends PB (header fields filled here) to OUT. */
static int pack_into(pb_msg_t *pb, const char *cluster, uint64_t from, uint64_t to, flurm_buf_t *out)
{
    pb->version = FLURM__RAFT__VERSION__PROTOCOL_VERSION;
    pb->cluster = bytes(cluster, strlen(cluster));
    pb->from = from;
    pb->to = to;
    size_t n = flurm__raft__peer_message__get_packed_size(pb);
    int rc = flurm_buf_reserve(out, n);
    if (rc == FLURM_OK)
        out->size += flurm__raft__peer_message__pack(pb, out->data + out->size);
    return rc;
}

int flurm_raft_forward_encode(const flurm_raft_forward_t *f, const char *cluster, flurm_buf_t *out)
{
    if (!f || !cluster || !out)
        return FLURM_EINVAL;
    if (out->err)
        return out->err;
    int rc = validate_forward(f);
    if (rc)
        return rc;
    Flurm__Raft__Forward fw = FLURM__RAFT__FORWARD__INIT;
    fw.request_id = f->request_id;
    fw.uid = f->uid;
    fw.gid = f->gid;
    fw.client_addr = (char *)unconst(f->client_addr ? f->client_addr : "");
    fw.request = bytes(f->request, f->len);
    pb_msg_t pb = FLURM__RAFT__PEER_MESSAGE__INIT;
    pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD;
    pb.forward = &fw;
    return pack_into(&pb, cluster, f->from, f->to, out);
}

int flurm_raft_forward_reply_encode(const flurm_raft_forward_reply_t *r, const char *cluster, flurm_buf_t *out)
{
    if (!r || !cluster || !out)
        return FLURM_EINVAL;
    if (out->err)
        return out->err;
    int rc = validate_forward_reply(r);
    if (rc)
        return rc;
    Flurm__Raft__ForwardReply fr = FLURM__RAFT__FORWARD_REPLY__INIT;
    fr.request_id = r->request_id;
    fr.reply = bytes(r->reply, r->len);
    pb_msg_t pb = FLURM__RAFT__PEER_MESSAGE__INIT;
    pb.body_case = FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD_REPLY;
    pb.forward_reply = &fr;
    return pack_into(&pb, cluster, r->from, r->to, out);
}

/* ---- decode ---- */

/* protobuf-c reports a failed allocation and malformed input alike (NULL); this tells them apart. */
static void *pb_alloc(void *state, size_t n)
{
    void *p = malloc(n);
    if (!p)
        *(bool *)state = true;
    return p;
}

static void pb_free(void *state, void *p)
{
    (void)state;
    free(p);
}

static bool is_cluster(const ProtobufCBinaryData *b, const char *cluster)
{
    size_t n = strlen(cluster);
    return b->len == n && (n == 0 || memcmp(b->data, cluster, n) == 0);
}

static void reply_view(flurm_raft_msg_t *v, protobuf_c_boolean success, uint64_t match, uint64_t reject_index,
                       uint64_t conflict_term, uint64_t conflict_index)
{
    v->flags = success ? FLURM_RAFT_MSGF_SUCCESS : 0;
    v->match = match;
    v->reject_index = reject_index;
    v->conflict_term = conflict_term;
    v->conflict_index = conflict_index;
}

/* Fills V (zeroed) from PB, pointing into PB; ENTRIES has room for PB's entries. */
static int view(const pb_msg_t *pb, flurm_raft_msg_t *v, flurm_raft_entry_t *entries)
{
    v->from = pb->from;
    v->to = pb->to;
    v->term = pb->term;
    switch (pb->body_case) {
    case FLURM__RAFT__PEER_MESSAGE__BODY_VOTE:
        v->type = FLURM_RAFT_MSG_VOTE;
        v->log_index = pb->vote->last_log_index;
        v->log_term = pb->vote->last_log_term;
        v->flags = (pb->vote->pre_vote ? FLURM_RAFT_MSGF_PRE_VOTE : 0) |
                   (pb->vote->transfer ? FLURM_RAFT_MSGF_TRANSFER : 0);
        return FLURM_OK;
    case FLURM__RAFT__PEER_MESSAGE__BODY_VOTE_REPLY:
        v->type = FLURM_RAFT_MSG_VOTE_REPLY;
        v->flags = (pb->vote_reply->pre_vote ? FLURM_RAFT_MSGF_PRE_VOTE : 0) |
                   (pb->vote_reply->granted ? FLURM_RAFT_MSGF_GRANTED : 0);
        return FLURM_OK;
    case FLURM__RAFT__PEER_MESSAGE__BODY_APPEND: {
        const Flurm__Raft__Append *a = pb->append;
        v->type = FLURM_RAFT_MSG_APPEND;
        v->log_index = a->prev_log_index;
        v->log_term = a->prev_log_term;
        v->commit = a->commit;
        for (size_t i = 0; i < a->n_entries; i++) {
            const Flurm__Raft__Entry *e = a->entries[i];
            if (e->data.len > UINT32_MAX)
                return FLURM_EINVAL;
            entries[i] = (flurm_raft_entry_t){ .index = e->index, .term = e->term, .type = (uint32_t)e->type,
                                               .len = (uint32_t)e->data.len,
                                               .data = e->data.len ? e->data.data : NULL };
        }
        v->entries = a->n_entries ? entries : NULL;
        v->n_entries = a->n_entries;
        return FLURM_OK;
    }
    case FLURM__RAFT__PEER_MESSAGE__BODY_APPEND_REPLY: {
        const Flurm__Raft__AppendReply *r = pb->append_reply;
        v->type = FLURM_RAFT_MSG_APPEND_REPLY;
        reply_view(v, r->success, r->match, r->reject_index, r->conflict_term, r->conflict_index);
        return FLURM_OK;
    }
    case FLURM__RAFT__PEER_MESSAGE__BODY_SNAPSHOT: {
        const Flurm__Raft__InstallSnapshot *s = pb->snapshot;
        v->type = FLURM_RAFT_MSG_SNAPSHOT;
        if (s->n_voters == 0 || s->n_voters > FLURM_RAFT_MAX_MEMBERS || s->n_learners > FLURM_RAFT_MAX_MEMBERS - s->n_voters)
            return FLURM_EINVAL;
        v->snapshot.index = s->index;
        v->snapshot.term = s->term;
        v->snapshot.n_voters = (uint32_t)s->n_voters;
        v->snapshot.n_learners = (uint32_t)s->n_learners;
        memcpy(v->snapshot.voters, s->voters, s->n_voters * sizeof s->voters[0]);
        if (s->n_learners)
            memcpy(v->snapshot.voters + s->n_voters, s->learners, s->n_learners * sizeof s->learners[0]);
        v->data = s->data.len ? s->data.data : NULL;
        v->len = s->data.len;
        return FLURM_OK;
    }
    case FLURM__RAFT__PEER_MESSAGE__BODY_SNAPSHOT_REPLY: {
        const Flurm__Raft__SnapshotReply *r = pb->snapshot_reply;
        v->type = FLURM_RAFT_MSG_SNAPSHOT_REPLY;
        reply_view(v, r->success, r->match, r->reject_index, r->conflict_term, r->conflict_index);
        return FLURM_OK;
    }
    case FLURM__RAFT__PEER_MESSAGE__BODY_TIMEOUT_NOW:
        v->type = FLURM_RAFT_MSG_TIMEOUT_NOW;
        return FLURM_OK;
    case FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD:
    case FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD_REPLY:
        return FLURM_ENOTSUP;   /* forward_view() */
    default:
        return FLURM_EINVAL;   /* no body, or one added by a later revision of version 1 */
    }
}

/* Fills W's forward members from PB (a Forward or ForwardReply body), pointing into PB. */
static int forward_view(const pb_msg_t *pb, flurm_raft_wire_msg_t *w)
{
    if (pb->body_case == FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD) {
        const Flurm__Raft__Forward *f = pb->forward;
        w->kind = FLURM_RAFT_WIRE_FORWARD;
        w->forward = (flurm_raft_forward_t){ .from = pb->from, .to = pb->to, .request_id = f->request_id,
                                             .uid = f->uid, .gid = f->gid,
                                             .client_addr = f->client_addr ? f->client_addr : "",
                                             .request = f->request.len ? f->request.data : NULL,
                                             .len = f->request.len };
        return validate_forward(&w->forward);
    }
    const Flurm__Raft__ForwardReply *r = pb->forward_reply;
    w->kind = FLURM_RAFT_WIRE_FORWARD_REPLY;
    w->forward_reply = (flurm_raft_forward_reply_t){ .from = pb->from, .to = pb->to, .request_id = r->request_id,
                                                     .reply = r->reply.len ? r->reply.data : NULL,
                                                     .len = r->reply.len };
    return validate_forward_reply(&w->forward_reply);
}

static bool is_forward(const pb_msg_t *pb)
{
    return pb->body_case == FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD ||
           pb->body_case == FLURM__RAFT__PEER_MESSAGE__BODY_FORWARD_REPLY;
}

static int decode(const void *data, size_t len, const char *cluster, bool forwards, flurm_raft_wire_msg_t **out)
{
    if (out)
        *out = NULL;
    if (!out || !cluster || (len && !data))
        return FLURM_EINVAL;
    bool oom = false;
    ProtobufCAllocator alloc = { .alloc = pb_alloc, .free = pb_free, .allocator_data = &oom };
    pb_msg_t *pb = flurm__raft__peer_message__unpack(&alloc, len, len ? data : (const uint8_t *)"");
    if (!pb)
        return oom ? FLURM_ENOMEM : FLURM_EINVAL;

    int rc;
    size_t n = 0;
    wire_t *w = NULL;
    if (pb->version != FLURM__RAFT__VERSION__PROTOCOL_VERSION) {
        rc = FLURM_EPROTO;
    } else if (!is_cluster(&pb->cluster, cluster)) {
        rc = FLURM_EPERM;
    } else {
        if (pb->body_case == FLURM__RAFT__PEER_MESSAGE__BODY_APPEND)
            n = pb->append->n_entries;
        if (n > FLURM_RAFT_WIRE_MAX_ENTRIES) {
            rc = FLURM_EINVAL;
        } else if (!(w = calloc(1, sizeof *w + n * sizeof w->entries[0]))) {
            rc = FLURM_ENOMEM;
        } else if (forwards && is_forward(pb)) {
            rc = forward_view(pb, &w->pub);
        } else if ((rc = view(pb, &w->pub.msg, w->entries)) == FLURM_OK) {
            rc = validate(&w->pub.msg);
        }
    }
    if (rc) {
        free(w);
        flurm__raft__peer_message__free_unpacked(pb, &alloc);
        return rc;
    }
    w->pb = pb;
    w->pub.priv_ = pb;
    *out = &w->pub;
    return FLURM_OK;
}

int flurm_raft_msg_decode(const void *data, size_t len, const char *cluster, flurm_raft_wire_msg_t **out)
{
    return decode(data, len, cluster, false, out);
}

int flurm_raft_peer_decode(const void *data, size_t len, const char *cluster, flurm_raft_wire_msg_t **out)
{
    return decode(data, len, cluster, true, out);
}

void flurm_raft_wire_msg_free(flurm_raft_wire_msg_t *m)
{
    if (!m)
        return;
    wire_t *w = (wire_t *)m;
    flurm__raft__peer_message__free_unpacked(w->pb, NULL);
    free(w);
}
