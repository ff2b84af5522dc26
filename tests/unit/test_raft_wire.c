/* tests/unit/test_raft_wire.c — Raft peer messages and forwards on the wire
 * (libflurm/raft/wire.c, proto/raft.proto): round trips, canonical bytes, every refusal, and
 * three cores that talk only through encode/decode. Random contents come from a seed printed at the start (RAFT_WIRE_SEED
 * in the environment replays one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/raft_wire.h>

#include "raft.pb-c.h"

#define CLUSTER "wire-test"

/* ---------------------------------------------------------------- random messages */

static uint64_t seed, rng_state;

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 0, small, any, or near the top: the varint lengths and the edges. */
static uint64_t rval(void)
{
    switch (rnd() % 4) {
    case 0: return 0;
    case 1: return rnd() % 100;
    case 2: return rnd();
    default: return UINT64_MAX - rnd() % 3;
    }
}

static uint64_t nonzero(void)
{
    uint64_t v = rval();
    return v ? v : 1;
}

static uint64_t upto(uint64_t x)   /* uniform-ish in [0, x] */
{
    return x == UINT64_MAX ? rnd() : rnd() % (x + 1);
}

static uint8_t pool[4096];   /* entry and snapshot bytes point into this */

static const void *rbytes(size_t len)
{
    return len ? pool + rnd() % (sizeof pool - len + 1) : NULL;
}

static flurm_raft_entry_t ents[32];
static uint8_t confs[32][4 + 8 * FLURM_RAFT_MAX_MEMBERS];

/* Canonical CONFIG data for voters 1..NV (ascending) and learners 100..100 + NL - 1 into B. */
static uint32_t conf_data(uint8_t *b, uint32_t nv, uint32_t nl)
{
    b[0] = 1;
    b[1] = (uint8_t)nv;
    b[2] = (uint8_t)nl;
    b[3] = 0;
    for (uint32_t i = 0; i < nv + nl; i++) {
        uint64_t id = i < nv ? 1 + i : 100 + (i - nv);
        for (int k = 0; k < 8; k++)
            b[4 + 8 * i + k] = (uint8_t)(id >> (56 - 8 * k));
    }
    return 4 + 8 * (nv + nl);
}

/* A random message of TYPE that meets every rule, with only the members TYPE uses set. */
static flurm_raft_msg_t random_msg(uint32_t type)
{
    flurm_raft_msg_t m = { .type = type, .from = nonzero(), .to = nonzero(), .term = rval() };
    switch (type) {
    case FLURM_RAFT_MSG_VOTE:
        m.flags = (uint32_t)rnd() & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_TRANSFER);
        m.log_index = rval();
        m.log_term = upto(m.term);
        break;
    case FLURM_RAFT_MSG_VOTE_REPLY:
        m.flags = (uint32_t)rnd() & (FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_GRANTED);
        break;
    case FLURM_RAFT_MSG_APPEND: {
        m.term = nonzero();
        m.log_term = upto(m.term);
        m.commit = rval();
        m.n_entries = rnd() % 3 ? rnd() % 32 : 0;
        m.log_index = rnd() % 2 ? rnd() % 1000000 : UINT64_MAX - 32 - rnd() % 3;
        uint64_t t = m.log_term;
        for (size_t i = 0; i < m.n_entries; i++) {
            if (rnd() % 4 == 0) t += upto((m.term - t) / 2);
            uint32_t len = rnd() % 4 ? (uint32_t)(rnd() % 200) : 0;
            ents[i] = (flurm_raft_entry_t){ .index = m.log_index + 1 + i, .term = t, .type = (uint32_t)(rnd() % 3),
                                            .len = len, .data = rbytes(len) };
            if (ents[i].type == FLURM_RAFT_ENTRY_CONFIG) {
                uint32_t nv = 1 + (uint32_t)(rnd() % FLURM_RAFT_MAX_MEMBERS);
                ents[i].len = conf_data(confs[i], nv, (uint32_t)(rnd() % (FLURM_RAFT_MAX_MEMBERS - nv + 1)));
                ents[i].data = confs[i];
            }
        }
        m.entries = m.n_entries ? ents : NULL;
        break;
    }
    case FLURM_RAFT_MSG_APPEND_REPLY:
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        m.match = rval();
        if (rnd() % 2) {
            m.flags = FLURM_RAFT_MSGF_SUCCESS;
        } else {
            m.reject_index = rval();
            m.conflict_index = upto(m.reject_index);
            m.conflict_term = m.conflict_index ? nonzero() : 0;
        }
        break;
    case FLURM_RAFT_MSG_SNAPSHOT: {
        m.term = nonzero();
        m.snapshot.index = nonzero();
        m.snapshot.term = 1 + upto(m.term - 1);
        m.snapshot.n_voters = 1 + (uint32_t)(rnd() % FLURM_RAFT_MAX_MEMBERS);
        m.snapshot.n_learners = rnd() % 2 ? (uint32_t)(rnd() % (FLURM_RAFT_MAX_MEMBERS - m.snapshot.n_voters + 1)) : 0;
        uint64_t base = 1 + rnd() % (UINT64_MAX - 64);
        for (uint32_t i = 0; i < m.snapshot.n_voters + m.snapshot.n_learners; i++)
            m.snapshot.voters[i] = base + (i * 7) % 17;   /* distinct, not sorted */
        m.len = rnd() % 3 ? rnd() % sizeof pool : 0;
        m.data = rbytes(m.len);
        break;
    }
    default:
        break;
    }
    return m;
}

static int same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* Every member, entries and data by content. */
static void assert_same_msg(const flurm_raft_msg_t *a, const flurm_raft_msg_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->flags, b->flags);
    assert_true(a->from == b->from && a->to == b->to && a->term == b->term);
    assert_true(a->log_index == b->log_index && a->log_term == b->log_term && a->commit == b->commit);
    assert_true(a->match == b->match && a->reject_index == b->reject_index);
    assert_true(a->conflict_term == b->conflict_term && a->conflict_index == b->conflict_index);
    assert_memory_equal(&a->snapshot, &b->snapshot, sizeof a->snapshot);
    assert_memory_equal(a->reserved, b->reserved, sizeof a->reserved);
    assert_int_equal(a->len, b->len);
    assert_true(same_bytes(a->data, b->data, a->len));
    assert_true((a->data == NULL) == (a->len == 0) && (b->data == NULL) == (b->len == 0));
    assert_int_equal(a->n_entries, b->n_entries);
    assert_true((a->entries == NULL) == (a->n_entries == 0) && (b->entries == NULL) == (b->n_entries == 0));
    for (size_t i = 0; i < a->n_entries; i++) {
        const flurm_raft_entry_t *x = &a->entries[i], *y = &b->entries[i];
        assert_true(x->index == y->index && x->term == y->term);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->len, y->len);
        assert_true(same_bytes(x->data, y->data, x->len));
        assert_true((y->data == NULL) == (y->len == 0));
    }
}

static flurm_buf_t enc(const flurm_raft_msg_t *m, const char *cluster)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_raft_msg_encode(m, cluster, &b), FLURM_OK);
    return b;
}

static int dec_rc(const void *p, size_t n, const char *cluster)
{
    flurm_raft_wire_msg_t *w = (flurm_raft_wire_msg_t *)&w;   /* must come back NULL on failure */
    int rc = flurm_raft_msg_decode(p, n, cluster, &w);
    if (rc)
        assert_null(w);
    flurm_raft_wire_msg_free(w);
    return rc;
}

static int peer_rc(const void *p, size_t n, const char *cluster)
{
    flurm_raft_wire_msg_t *w = (flurm_raft_wire_msg_t *)&w;   /* must come back NULL on failure */
    int rc = flurm_raft_peer_decode(p, n, cluster, &w);
    if (rc)
        assert_null(w);
    flurm_raft_wire_msg_free(w);
    return rc;
}

static int enc_rc(const flurm_raft_msg_t *m)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    int rc = flurm_raft_msg_encode(m, CLUSTER, &b);
    if (rc)
        assert_int_equal(b.size, 0);
    flurm_buf_release(&b);
    return rc;
}

/* ---------------------------------------------------------------- round trips */

static void test_raft_wire_every_type_round_trips_byte_exact(void **state)
{
    (void)state;
    for (int round = 0; round < 300; round++) {
        for (uint32_t type = FLURM_RAFT_MSG_VOTE; type <= FLURM_RAFT_MSG_TIMEOUT_NOW; type++) {
            flurm_raft_msg_t m = random_msg(type);
            flurm_buf_t a = enc(&m, CLUSTER);
            flurm_raft_wire_msg_t *w = NULL;
            assert_int_equal(flurm_raft_msg_decode(a.data, a.size, CLUSTER, &w), FLURM_OK);
            assert_same_msg(&m, &w->msg);
            flurm_buf_t b = enc(&w->msg, CLUSTER);
            assert_int_equal(a.size, b.size);
            assert_memory_equal(a.data, b.data, a.size);
            flurm_raft_wire_msg_free(w);
            flurm_buf_release(&a);
            flurm_buf_release(&b);
        }
    }
}

static void test_raft_wire_members_the_type_does_not_use_are_not_sent(void **state)
{
    (void)state;
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_VOTE_REPLY, .from = 1, .to = 2, .term = 3, .log_index = 4,
                           .log_term = 3, .commit = 5, .match = 6, .len = 3, .data = "abc",
                           .flags = FLURM_RAFT_MSGF_GRANTED | FLURM_RAFT_MSGF_SUCCESS | 0x100,
                           .reserved = { 7, 8 } };
    m.snapshot.n_voters = 99;
    flurm_buf_t a = enc(&m, CLUSTER);
    flurm_raft_wire_msg_t *w = NULL;
    assert_int_equal(flurm_raft_msg_decode(a.data, a.size, CLUSTER, &w), FLURM_OK);
    flurm_raft_msg_t want = { .type = FLURM_RAFT_MSG_VOTE_REPLY, .from = 1, .to = 2, .term = 3,
                              .flags = FLURM_RAFT_MSGF_GRANTED };
    assert_same_msg(&want, &w->msg);
    flurm_raft_wire_msg_free(w);
    flurm_buf_release(&a);
}

static void test_raft_wire_encode_appends_and_refusal_leaves_buffer(void **state)
{
    (void)state;
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 9 };
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_pack_raw(&b, "xyz", 3), FLURM_OK);
    assert_int_equal(flurm_raft_msg_encode(&m, CLUSTER, &b), FLURM_OK);
    assert_true(b.size > 3);
    assert_memory_equal(b.data, "xyz", 3);
    assert_int_equal(dec_rc(b.data + 3, b.size - 3, CLUSTER), FLURM_OK);
    size_t size = b.size;
    m.to = 0;
    assert_int_equal(flurm_raft_msg_encode(&m, CLUSTER, &b), FLURM_EINVAL);
    assert_int_equal(b.size, size);
    assert_int_equal(b.err, FLURM_OK);
    m.to = 2;
    b.err = FLURM_ENOMEM;   /* sticky: nothing more is written */
    assert_int_equal(flurm_raft_msg_encode(&m, CLUSTER, &b), FLURM_ENOMEM);
    assert_int_equal(b.size, size);
    b.err = FLURM_OK;
    assert_int_equal(flurm_raft_msg_encode(NULL, CLUSTER, &b), FLURM_EINVAL);
    assert_int_equal(flurm_raft_msg_encode(&m, NULL, &b), FLURM_EINVAL);
    assert_int_equal(flurm_raft_msg_encode(&m, CLUSTER, NULL), FLURM_EINVAL);
    flurm_buf_release(&b);
    flurm_raft_wire_msg_t *w = NULL;
    assert_int_equal(flurm_raft_msg_decode(NULL, 3, CLUSTER, &w), FLURM_EINVAL);
    assert_int_equal(flurm_raft_msg_decode("", 0, NULL, &w), FLURM_EINVAL);
    assert_int_equal(flurm_raft_msg_decode("", 0, CLUSTER, NULL), FLURM_EINVAL);
    flurm_raft_wire_msg_free(NULL);
}

/* ---------------------------------------------------------------- version and cluster */

/* protobuf-c's tree of a valid encoding of M, to break one field of. */
static Flurm__Raft__PeerMessage *tree_of(const flurm_raft_msg_t *m)
{
    flurm_buf_t a = enc(m, CLUSTER);
    Flurm__Raft__PeerMessage *pb = flurm__raft__peer_message__unpack(NULL, a.size, a.data);
    assert_non_null(pb);
    flurm_buf_release(&a);
    return pb;
}

static int tree_rc(const Flurm__Raft__PeerMessage *pb, const char *cluster)
{
    size_t n = flurm__raft__peer_message__get_packed_size(pb);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    assert_int_equal(flurm__raft__peer_message__pack(pb, p), n);
    int rc = dec_rc(p, n, cluster);
    free(p);
    return rc;
}

static int tree_rc_peer(const Flurm__Raft__PeerMessage *pb)
{
    size_t n = flurm__raft__peer_message__get_packed_size(pb);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    assert_int_equal(flurm__raft__peer_message__pack(pb, p), n);
    int rc = peer_rc(p, n, CLUSTER);
    free(p);
    return rc;
}

static void test_raft_wire_other_version_is_eproto(void **state)
{
    (void)state;
    flurm_raft_msg_t m = random_msg(FLURM_RAFT_MSG_APPEND);
    Flurm__Raft__PeerMessage *pb = tree_of(&m);
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pb->version = 2;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EPROTO);
    assert_int_equal(tree_rc(pb, "another"), FLURM_EPROTO);   /* version first */
    pb->version = 0;   /* absent */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EPROTO);
    flurm__raft__peer_message__free_unpacked(pb, NULL);
    assert_int_equal(dec_rc("", 0, CLUSTER), FLURM_EPROTO);   /* the empty message */
}

static void test_raft_wire_other_cluster_is_eperm(void **state)
{
    (void)state;
    flurm_raft_msg_t m = random_msg(FLURM_RAFT_MSG_VOTE);
    flurm_buf_t a = enc(&m, CLUSTER);
    assert_int_equal(dec_rc(a.data, a.size, CLUSTER), FLURM_OK);
    assert_int_equal(dec_rc(a.data, a.size, "wire-tes"), FLURM_EPERM);
    assert_int_equal(dec_rc(a.data, a.size, "wire-test2"), FLURM_EPERM);
    assert_int_equal(dec_rc(a.data, a.size, ""), FLURM_EPERM);
    flurm_buf_release(&a);
    a = enc(&m, "");
    assert_int_equal(dec_rc(a.data, a.size, ""), FLURM_OK);
    assert_int_equal(dec_rc(a.data, a.size, CLUSTER), FLURM_EPERM);
    flurm_buf_release(&a);
    /* an embedded NUL does not make "wire-test\0x" equal to "wire-test" */
    Flurm__Raft__PeerMessage *pb = tree_of(&m);
    static uint8_t name[] = "wire-test\0x";
    ProtobufCBinaryData mine = pb->cluster;
    pb->cluster.data = name;
    pb->cluster.len = sizeof name - 1;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EPERM);
    pb->cluster = mine;
    flurm__raft__peer_message__free_unpacked(pb, NULL);
}

/* ---------------------------------------------------------------- malformed and inconsistent */

static void test_raft_wire_unknown_type_or_no_body_is_einval(void **state)
{
    (void)state;
    flurm_raft_msg_t m = { .from = 1, .to = 2, .term = 1 };
    uint32_t bad[] = { 0, 8, 99, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.type = bad[i];
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    }
    m.type = FLURM_RAFT_MSG_TIMEOUT_NOW;
    Flurm__Raft__PeerMessage *pb = tree_of(&m);
    pb->body_case = FLURM__RAFT__PEER_MESSAGE__BODY__NOT_SET;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->body_case = FLURM__RAFT__PEER_MESSAGE__BODY_TIMEOUT_NOW;
    flurm__raft__peer_message__free_unpacked(pb, NULL);
}

/* ---------------------------------------------------------------- forwards */

static char addr_buf[FLURM_RAFT_WIRE_MAX_ADDR + 2];

static flurm_raft_forward_t random_forward(void)
{
    static const char *const addrs[] = { "10.0.0.5:45678", "[fe80::1]:45678", "" };
    flurm_raft_forward_t f = { .from = nonzero(), .to = nonzero(), .request_id = rval(),
                               .uid = (uint32_t)rval(), .gid = (uint32_t)rval() };
    switch (rnd() % 4) {
    case 0: f.client_addr = NULL; break;
    case 1:   /* the longest allowed */
        memset(addr_buf, 'a' + (int)(rnd() % 26), FLURM_RAFT_WIRE_MAX_ADDR);
        addr_buf[FLURM_RAFT_WIRE_MAX_ADDR] = '\0';
        f.client_addr = addr_buf;
        break;
    default: f.client_addr = addrs[rnd() % 3]; break;
    }
    f.len = 1 + rnd() % 300;
    f.request = rbytes(f.len);
    return f;
}

static flurm_raft_forward_reply_t random_forward_reply(void)
{
    flurm_raft_forward_reply_t r = { .from = nonzero(), .to = nonzero(), .request_id = rval() };
    r.len = rnd() % 3 ? rnd() % 300 : 0;
    r.reply = rbytes(r.len);
    return r;
}

static void assert_same_forward(const flurm_raft_forward_t *a, const flurm_raft_forward_t *b)
{
    assert_true(a->from == b->from && a->to == b->to && a->request_id == b->request_id);
    assert_true(a->uid == b->uid && a->gid == b->gid);
    assert_string_equal(a->client_addr ? a->client_addr : "", b->client_addr ? b->client_addr : "");
    assert_int_equal(a->len, b->len);
    assert_true(same_bytes(a->request, b->request, a->len));
    assert_memory_equal(a->reserved, b->reserved, sizeof a->reserved);
}

static void assert_same_reply(const flurm_raft_forward_reply_t *a, const flurm_raft_forward_reply_t *b)
{
    assert_true(a->from == b->from && a->to == b->to && a->request_id == b->request_id);
    assert_int_equal(a->len, b->len);
    assert_true(same_bytes(a->reply, b->reply, a->len));
    assert_true((a->reply == NULL) == (a->len == 0) && (b->reply == NULL) == (b->len == 0));
    assert_memory_equal(a->reserved, b->reserved, sizeof a->reserved);
}

static flurm_buf_t enc_forward(const flurm_raft_forward_t *f, const char *cluster)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_raft_forward_encode(f, cluster, &b), FLURM_OK);
    return b;
}

static flurm_buf_t enc_reply(const flurm_raft_forward_reply_t *r, const char *cluster)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_raft_forward_reply_encode(r, cluster, &b), FLURM_OK);
    return b;
}

static void test_raft_wire_forward_round_trips_byte_exact(void **state)
{
    (void)state;
    static const flurm_raft_msg_t zero_msg;
    static const flurm_raft_forward_reply_t zero_reply;
    for (int round = 0; round < 300; round++) {
        flurm_raft_forward_t f = random_forward();
        flurm_buf_t a = enc_forward(&f, CLUSTER);
        flurm_raft_wire_msg_t *w = NULL;
        assert_int_equal(flurm_raft_peer_decode(a.data, a.size, CLUSTER, &w), FLURM_OK);
        assert_int_equal(w->kind, FLURM_RAFT_WIRE_FORWARD);
        assert_same_forward(&f, &w->forward);
        assert_non_null(w->forward.client_addr);
        assert_memory_equal(&w->msg, &zero_msg, sizeof zero_msg);
        assert_memory_equal(&w->forward_reply, &zero_reply, sizeof zero_reply);
        flurm_buf_t b = enc_forward(&w->forward, CLUSTER);
        assert_int_equal(a.size, b.size);
        assert_memory_equal(a.data, b.data, a.size);
        assert_int_equal(dec_rc(a.data, a.size, CLUSTER), FLURM_ENOTSUP);   /* Raft messages only */
        flurm_raft_wire_msg_free(w);
        flurm_buf_release(&a);
        flurm_buf_release(&b);
    }
}

static void test_raft_wire_forward_reply_round_trips_byte_exact(void **state)
{
    (void)state;
    static const flurm_raft_forward_t zero_forward;
    size_t empty = 0;
    for (int round = 0; round < 300; round++) {
        flurm_raft_forward_reply_t r = random_forward_reply();
        empty += r.len == 0;
        flurm_buf_t a = enc_reply(&r, CLUSTER);
        flurm_raft_wire_msg_t *w = NULL;
        assert_int_equal(flurm_raft_peer_decode(a.data, a.size, CLUSTER, &w), FLURM_OK);
        assert_int_equal(w->kind, FLURM_RAFT_WIRE_FORWARD_REPLY);
        assert_same_reply(&r, &w->forward_reply);
        assert_memory_equal(&w->forward, &zero_forward, sizeof zero_forward);
        flurm_buf_t b = enc_reply(&w->forward_reply, CLUSTER);
        assert_int_equal(a.size, b.size);
        assert_memory_equal(a.data, b.data, a.size);
        assert_int_equal(dec_rc(a.data, a.size, CLUSTER), FLURM_ENOTSUP);
        flurm_raft_wire_msg_free(w);
        flurm_buf_release(&a);
        flurm_buf_release(&b);
    }
    assert_true(empty > 0);
}

static void test_raft_wire_peer_decode_takes_raft_messages_too(void **state)
{
    (void)state;
    for (uint32_t type = FLURM_RAFT_MSG_VOTE; type <= FLURM_RAFT_MSG_TIMEOUT_NOW; type++) {
        flurm_raft_msg_t m = random_msg(type);
        flurm_buf_t a = enc(&m, CLUSTER);
        flurm_raft_wire_msg_t *w = NULL;
        assert_int_equal(flurm_raft_peer_decode(a.data, a.size, CLUSTER, &w), FLURM_OK);
        assert_int_equal(w->kind, FLURM_RAFT_WIRE_RAFT);
        assert_same_msg(&m, &w->msg);
        flurm_raft_wire_msg_free(w);
        flurm_buf_release(&a);
    }
    assert_int_equal(peer_rc("", 0, CLUSTER), FLURM_EPROTO);
    flurm_raft_wire_msg_t *w = NULL;
    assert_int_equal(flurm_raft_peer_decode(NULL, 3, CLUSTER, &w), FLURM_EINVAL);
    assert_int_equal(flurm_raft_peer_decode("", 0, NULL, &w), FLURM_EINVAL);
    assert_int_equal(flurm_raft_peer_decode("", 0, CLUSTER, NULL), FLURM_EINVAL);
}

static void test_raft_wire_forward_other_cluster_is_eperm_after_version(void **state)
{
    (void)state;
    flurm_raft_forward_t f = random_forward();
    flurm_raft_forward_reply_t r = random_forward_reply();
    flurm_buf_t bufs[2] = { enc_forward(&f, CLUSTER), enc_reply(&r, CLUSTER) };
    for (int i = 0; i < 2; i++) {
        flurm_buf_t *a = &bufs[i];
        assert_int_equal(peer_rc(a->data, a->size, CLUSTER), FLURM_OK);
        assert_int_equal(peer_rc(a->data, a->size, "wire-tes"), FLURM_EPERM);
        assert_int_equal(peer_rc(a->data, a->size, ""), FLURM_EPERM);
        assert_int_equal(dec_rc(a->data, a->size, "other"), FLURM_EPERM);   /* cluster before body */
        Flurm__Raft__PeerMessage *pb = flurm__raft__peer_message__unpack(NULL, a->size, a->data);
        assert_non_null(pb);
        pb->version = 2;
        size_t n = flurm__raft__peer_message__get_packed_size(pb);
        uint8_t *p = malloc(n);
        assert_non_null(p);
        flurm__raft__peer_message__pack(pb, p);
        assert_int_equal(peer_rc(p, n, "other"), FLURM_EPROTO);   /* version before cluster */
        free(p);
        flurm__raft__peer_message__free_unpacked(pb, NULL);
        flurm_buf_release(a);
    }
}

static int enc_forward_rc(const flurm_raft_forward_t *f)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    int rc = flurm_raft_forward_encode(f, CLUSTER, &b);
    if (rc)
        assert_int_equal(b.size, 0);
    flurm_buf_release(&b);
    return rc;
}

static int enc_reply_rc(const flurm_raft_forward_reply_t *r)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    int rc = flurm_raft_forward_reply_encode(r, CLUSTER, &b);
    if (rc)
        assert_int_equal(b.size, 0);
    flurm_buf_release(&b);
    return rc;
}

/* Each breakage is refused by encode and, made by hand on the wire, by decode. */
static void test_raft_wire_forward_rules_are_einval(void **state)
{
    (void)state;
    char long_addr[FLURM_RAFT_WIRE_MAX_ADDR + 2];
    memset(long_addr, 'x', sizeof long_addr - 1);
    long_addr[sizeof long_addr - 1] = '\0';
    const flurm_raft_forward_t ok = { .from = 2, .to = 1, .request_id = 7, .uid = 1000, .gid = 100,
                                      .client_addr = "10.0.0.5:45678", .request = "abcd", .len = 4 };
    assert_int_equal(enc_forward_rc(&ok), FLURM_OK);
    flurm_raft_forward_t f = ok;
    f.from = 0;
    assert_int_equal(enc_forward_rc(&f), FLURM_EINVAL);
    f = ok;
    f.to = 0;
    assert_int_equal(enc_forward_rc(&f), FLURM_EINVAL);
    f = ok;
    f.len = 0;   /* no request */
    assert_int_equal(enc_forward_rc(&f), FLURM_EINVAL);
    f = ok;
    f.request = NULL;
    assert_int_equal(enc_forward_rc(&f), FLURM_EINVAL);
    f = ok;
    f.client_addr = long_addr;
    assert_int_equal(enc_forward_rc(&f), FLURM_EINVAL);
    assert_int_equal(flurm_raft_forward_encode(NULL, CLUSTER, &(flurm_buf_t){ 0 }), FLURM_EINVAL);

    const flurm_raft_forward_reply_t rok = { .from = 1, .to = 2, .request_id = 7, .reply = "xy", .len = 2 };
    assert_int_equal(enc_reply_rc(&rok), FLURM_OK);
    flurm_raft_forward_reply_t r = rok;
    r.from = 0;
    assert_int_equal(enc_reply_rc(&r), FLURM_EINVAL);
    r = rok;
    r.to = 0;
    assert_int_equal(enc_reply_rc(&r), FLURM_EINVAL);
    r = rok;
    r.reply = NULL;   /* a length without bytes */
    assert_int_equal(enc_reply_rc(&r), FLURM_EINVAL);
    r.len = 0;
    assert_int_equal(enc_reply_rc(&r), FLURM_OK);
    assert_int_equal(flurm_raft_forward_reply_encode(&rok, NULL, &(flurm_buf_t){ 0 }), FLURM_EINVAL);

    /* sticky buffer error: nothing written */
    flurm_buf_t b;
    flurm_buf_init(&b);
    b.err = FLURM_ENOMEM;
    assert_int_equal(flurm_raft_forward_encode(&ok, CLUSTER, &b), FLURM_ENOMEM);
    assert_int_equal(flurm_raft_forward_reply_encode(&rok, CLUSTER, &b), FLURM_ENOMEM);
    assert_int_equal(b.size, 0);
    flurm_buf_release(&b);

    /* on the wire */
    flurm_buf_t a = enc_forward(&ok, CLUSTER);
    Flurm__Raft__PeerMessage *pb = flurm__raft__peer_message__unpack(NULL, a.size, a.data);
    assert_non_null(pb);
    flurm_buf_release(&a);
    pb->from = 0;
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    pb->from = 2;
    pb->to = 0;
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    pb->to = 1;
    assert_int_equal(tree_rc_peer(pb), FLURM_OK);
    ProtobufCBinaryData req = pb->forward->request;
    pb->forward->request = (ProtobufCBinaryData){ 0 };
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    pb->forward->request = req;
    char *addr = pb->forward->client_addr;
    pb->forward->client_addr = long_addr;
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    long_addr[FLURM_RAFT_WIRE_MAX_ADDR] = '\0';
    assert_int_equal(tree_rc_peer(pb), FLURM_OK);
    pb->forward->client_addr = addr;
    flurm__raft__peer_message__free_unpacked(pb, NULL);

    a = enc_reply(&rok, CLUSTER);
    pb = flurm__raft__peer_message__unpack(NULL, a.size, a.data);
    assert_non_null(pb);
    flurm_buf_release(&a);
    pb->from = 0;
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    pb->from = 1;
    pb->to = 0;
    assert_int_equal(tree_rc_peer(pb), FLURM_EINVAL);
    flurm__raft__peer_message__free_unpacked(pb, NULL);
}

static void test_raft_wire_forward_every_truncation_is_refused(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        flurm_raft_forward_t f = random_forward();
        if (f.len > 40) f.len = 40;
        flurm_raft_forward_reply_t r = random_forward_reply();
        if (r.len > 40) r.len = 40;
        flurm_buf_t bufs[2] = { enc_forward(&f, CLUSTER), enc_reply(&r, CLUSTER) };
        for (int i = 0; i < 2; i++) {
            for (size_t k = 0; k < bufs[i].size; k++)
                assert_int_not_equal(peer_rc(bufs[i].data, k, CLUSTER), FLURM_OK);
            assert_int_equal(peer_rc(bufs[i].data, bufs[i].size, CLUSTER), FLURM_OK);
            flurm_buf_release(&bufs[i]);
        }
    }
}

static void test_raft_wire_zero_ids_are_einval(void **state)
{
    (void)state;
    for (uint32_t type = FLURM_RAFT_MSG_VOTE; type <= FLURM_RAFT_MSG_TIMEOUT_NOW; type++) {
        flurm_raft_msg_t m = random_msg(type);
        Flurm__Raft__PeerMessage *pb = tree_of(&m);
        pb->from = 0;
        assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
        pb->from = 1;
        pb->to = 0;
        assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
        flurm__raft__peer_message__free_unpacked(pb, NULL);
        m.from = 0;
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    }
}

static flurm_raft_msg_t three_entries(flurm_raft_entry_t e[3])
{
    e[0] = (flurm_raft_entry_t){ .index = 11, .term = 4, .type = FLURM_RAFT_ENTRY_NOOP };
    e[1] = (flurm_raft_entry_t){ .index = 12, .term = 5, .len = 3, .data = "abc" };
    e[2] = (flurm_raft_entry_t){ .index = 13, .term = 5, .len = 1, .data = "d" };
    return (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 6, .log_index = 10,
                               .log_term = 3, .commit = 12, .entries = e, .n_entries = 3 };
}

/* Each breakage is refused by encode and, made by hand on the wire, by decode. */
static void test_raft_wire_entries_out_of_order_or_gapped_are_einval(void **state)
{
    (void)state;
    flurm_raft_entry_t e[3];
    flurm_raft_msg_t m = three_entries(e);
    assert_int_equal(enc_rc(&m), FLURM_OK);

    Flurm__Raft__PeerMessage *pb = tree_of(&m);
    Flurm__Raft__Entry **pe = pb->append->entries, *t = pe[1];
    pe[1] = pe[2];   /* out of order */
    pe[2] = t;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[2] = pe[1];
    pe[1] = t;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pe[2]->index = 14;   /* a gap */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[2]->index = 13;
    pe[0]->index = 10;   /* not after prev_log_index */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[0]->index = 11;
    pe[2]->term = 4;     /* term goes down */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[2]->term = 7;     /* above the leader's term */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[2]->term = 5;
    pe[0]->term = 2;     /* below prev_log_term */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[0]->term = 4;
    pe[1]->type = 3;     /* unknown entry type */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[1]->type = 2;     /* CONFIG, but "abc" is no configuration */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[1]->type = -1;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pe[1]->type = 0;
    pb->append->prev_log_term = 7;   /* prev term above the leader's */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->append->prev_log_term = 3;
    pb->append->prev_log_index = UINT64_MAX - 1;   /* indexes would wrap */
    for (int i = 0; i < 3; i++)
        pe[i]->index = UINT64_MAX + (uint64_t)i;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    flurm__raft__peer_message__free_unpacked(pb, NULL);

    struct { size_t i; flurm_raft_entry_t bad; } cases[] = {
        { 1, { .index = 13, .term = 5 } },              /* out of order */
        { 2, { .index = 14, .term = 5 } },              /* gap */
        { 2, { .index = 13, .term = 3 } },              /* term down */
        { 2, { .index = 13, .term = 7 } },              /* above term */
        { 1, { .index = 12, .term = 5, .type = 3 } },   /* type */
        { 1, { .index = 12, .term = 5, .type = 2 } },   /* CONFIG without a configuration */
        { 1, { .index = 12, .term = 5, .type = 2, .len = 3, .data = "abc" } },
        { 1, { .index = 12, .term = 5, .len = 4 } },    /* length without data */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        m = three_entries(e);
        e[cases[k].i] = cases[k].bad;
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    }
    m = three_entries(e);
    m.entries = NULL;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = three_entries(e);
    m.log_index = UINT64_MAX - 2;   /* 3 entries after it would wrap */
    for (int i = 0; i < 3; i++)
        e[i].index = m.log_index + 1 + (uint64_t)i;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
}

static void test_raft_wire_absurd_entry_count_is_einval(void **state)
{
    (void)state;
    size_t n = FLURM_RAFT_WIRE_MAX_ENTRIES + 1;
    flurm_raft_entry_t *e = calloc(n, sizeof *e);
    Flurm__Raft__Entry *pe = calloc(n, sizeof *pe), **pp = calloc(n, sizeof *pp);
    assert_true(e && pe && pp);
    for (size_t i = 0; i < n; i++) {
        e[i] = (flurm_raft_entry_t){ .index = 1 + i, .term = 1 };
        pe[i] = (Flurm__Raft__Entry)FLURM__RAFT__ENTRY__INIT;
        pe[i].index = 1 + i;
        pe[i].term = 1;
        pp[i] = &pe[i];
    }
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1, .entries = e, .n_entries = n };
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m.n_entries = n - 1;   /* the limit itself is fine */
    assert_int_equal(enc_rc(&m), FLURM_OK);

    Flurm__Raft__PeerMessage *pb = tree_of(&(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1 });
    pb->append->n_entries = n;
    pb->append->entries = pp;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->append->n_entries = n - 1;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pb->append->n_entries = 0;
    pb->append->entries = NULL;
    flurm__raft__peer_message__free_unpacked(pb, NULL);
    free(e);
    free(pe);
    free(pp);
}

static flurm_raft_msg_t a_snapshot(void)
{
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 5, .data = "state", .len = 5 };
    m.snapshot = (flurm_raft_snapshot_meta_t){ .index = 100, .term = 4, .n_voters = 3, .voters = { 1, 2, 3 } };
    return m;
}

static void test_raft_wire_bad_snapshot_metadata_is_einval(void **state)
{
    (void)state;
    flurm_raft_msg_t m = a_snapshot();
    assert_int_equal(enc_rc(&m), FLURM_OK);
    m.snapshot.n_voters = FLURM_RAFT_MAX_MEMBERS + 1;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m.snapshot.n_voters = 0;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = a_snapshot();
    m.snapshot.voters[1] = 3;   /* twice */
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = a_snapshot();
    m.snapshot.voters[2] = 0;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = a_snapshot();
    m.snapshot.index = 0;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = a_snapshot();
    m.snapshot.term = 6;   /* above the sender's term */
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m.snapshot.term = 0;
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m = a_snapshot();
    m.data = NULL;   /* length without data (host contract 3: the host attaches it) */
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    m.len = 0;
    assert_int_equal(enc_rc(&m), FLURM_OK);

    m = a_snapshot();
    Flurm__Raft__PeerMessage *pb = tree_of(&m);
    uint64_t *mine = pb->snapshot->voters;
    uint64_t many[FLURM_RAFT_MAX_MEMBERS + 1];
    for (size_t i = 0; i < FLURM_RAFT_MAX_MEMBERS + 1; i++)
        many[i] = 1 + i;
    pb->snapshot->voters = many;
    pb->snapshot->n_voters = FLURM_RAFT_MAX_MEMBERS + 1;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->n_voters = FLURM_RAFT_MAX_MEMBERS;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pb->snapshot->n_voters = 0;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->voters = mine;
    pb->snapshot->n_voters = 3;
    mine[0] = 2;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    mine[0] = 1;
    pb->snapshot->term = 9;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->term = 4;
    pb->snapshot->index = 0;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    flurm__raft__peer_message__free_unpacked(pb, NULL);
}

static void test_raft_wire_inconsistent_replies_are_einval(void **state)
{
    (void)state;
    uint32_t types[] = { FLURM_RAFT_MSG_APPEND_REPLY, FLURM_RAFT_MSG_SNAPSHOT_REPLY };
    for (size_t k = 0; k < 2; k++) {
        flurm_raft_msg_t ok = { .type = types[k], .from = 2, .to = 1, .term = 3, .match = 9, .reject_index = 7,
                                .conflict_term = 2, .conflict_index = 5 };
        assert_int_equal(enc_rc(&ok), FLURM_OK);
        flurm_raft_msg_t m = ok;
        m.flags = FLURM_RAFT_MSGF_SUCCESS;   /* success with reject fields */
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);
        m = ok;
        m.conflict_index = 8;   /* above the rejected index */
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);
        m = ok;
        m.conflict_term = 0;   /* an index without a term */
        assert_int_equal(enc_rc(&m), FLURM_EINVAL);

        Flurm__Raft__PeerMessage *pb = tree_of(&ok);
        if (k == 0) {
            pb->append_reply->success = 1;
            assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
            pb->append_reply->success = 0;
            pb->append_reply->conflict_index = 8;
        } else {
            pb->snapshot_reply->success = 1;
            assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
            pb->snapshot_reply->success = 0;
            pb->snapshot_reply->conflict_index = 8;
        }
        assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
        flurm__raft__peer_message__free_unpacked(pb, NULL);
    }
    flurm_raft_msg_t v = { .type = FLURM_RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 3, .log_index = 5, .log_term = 4 };
    assert_int_equal(enc_rc(&v), FLURM_EINVAL);   /* last log term above the campaign term */
}

/* An Entry whose data length prefix runs past the message: a length mismatch on the wire. */
static void test_raft_wire_data_length_past_the_end_is_einval(void **state)
{
    (void)state;
    static const uint8_t good[] = {
        0x08, 0x01,                                          /* version 1 */
        0x12, 0x09, 'w', 'i', 'r', 'e', '-', 't', 'e', 's', 't',
        0x18, 0x01, 0x20, 0x02, 0x28, 0x01,                  /* from 1, to 2, term 1 */
        0x62, 0x0b,                                          /* append, 11 bytes */
        0x22, 0x09,                                          /*   entry, 9 bytes */
        0x08, 0x01, 0x10, 0x01,                              /*     index 1, term 1 */
        0x22, 0x03, 'a', 'b', 'c',                           /*     data, 3 bytes */
    };
    assert_int_equal(dec_rc(good, sizeof good, CLUSTER), FLURM_OK);
    uint8_t bad[sizeof good];
    memcpy(bad, good, sizeof good);
    bad[sizeof bad - 4] = 0x32;   /* data says 50 bytes */
    assert_int_equal(dec_rc(bad, sizeof bad, CLUSTER), FLURM_EINVAL);
    memcpy(bad, good, sizeof good);
    bad[sizeof bad - 4] = 0x02;   /* data says 2: the entry's length no longer adds up */
    assert_int_equal(dec_rc(bad, sizeof bad, CLUSTER), FLURM_EINVAL);
    memcpy(bad, good, sizeof good);
    bad[20] = 0x0c;               /* append says 12 bytes */
    assert_int_equal(dec_rc(bad, sizeof bad, CLUSTER), FLURM_EINVAL);
}

static void test_raft_wire_every_truncation_is_refused(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        for (uint32_t type = FLURM_RAFT_MSG_VOTE; type <= FLURM_RAFT_MSG_TIMEOUT_NOW; type++) {
            flurm_raft_msg_t m = random_msg(type);
            if (m.n_entries > 4) m.n_entries = 4;   /* every prefix of a few hundred bytes */
            if (m.len > 64) m.len = 64;
            flurm_buf_t a = enc(&m, CLUSTER);
            for (size_t k = 0; k < a.size; k++)
                assert_int_not_equal(dec_rc(a.data, k, CLUSTER), FLURM_OK);
            assert_int_equal(dec_rc(a.data, a.size, CLUSTER), FLURM_OK);
            flurm_buf_release(&a);
        }
    }
}

static void test_raft_wire_garbled_bytes_never_crash(void **state)
{
    (void)state;
    static const uint8_t junk[][8] = {
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },   /* varint without end */
        { 0x0f, 0x01 },                                       /* wire type 7 */
        { 0x08, 0x01, 0x62, 0x80 },                           /* length cut */
        { 0x08, 0x01, 0x62, 0x05, 0x00 },                     /* length past the end */
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(dec_rc(junk[i], sizeof junk[i], CLUSTER), FLURM_EINVAL);
    size_t accepted = 0, refused = 0;
    for (int round = 0; round < 2000; round++) {
        flurm_raft_msg_t m = random_msg(FLURM_RAFT_MSG_VOTE + (uint32_t)(rnd() % 7));
        flurm_buf_t a = enc(&m, CLUSTER);
        for (int k = 0; k < 1 + (int)(rnd() % 3); k++)
            a.data[rnd() % a.size] ^= (uint8_t)(1 + rnd() % 255);
        flurm_raft_wire_msg_t *w = NULL;
        if (flurm_raft_msg_decode(a.data, a.size, CLUSTER, &w) == FLURM_OK) {
            /* a flip that still decodes is a valid message: it re-encodes and decodes the same */
            flurm_buf_t b = enc(&w->msg, CLUSTER);
            flurm_raft_wire_msg_t *w2 = NULL;
            assert_int_equal(flurm_raft_msg_decode(b.data, b.size, CLUSTER, &w2), FLURM_OK);
            assert_same_msg(&w->msg, &w2->msg);
            flurm_raft_wire_msg_free(w2);
            flurm_buf_release(&b);
            accepted++;
        } else {
            refused++;
        }
        flurm_raft_wire_msg_free(w);
        flurm_buf_release(&a);
        uint8_t noise[64];
        size_t n = rnd() % sizeof noise;
        for (size_t k = 0; k < n; k++)
            noise[k] = (uint8_t)rnd();
        w = NULL;
        if (flurm_raft_msg_decode(noise, n, CLUSTER, &w) == FLURM_OK)
            accepted++;
        flurm_raft_wire_msg_free(w);
    }
    assert_true(refused > 0);
    print_message("garbled: %zu refused, %zu still valid\n", refused, accepted);
}

/* ---------------------------------------------------------------- cores talking through the wire */

#define N 3

typedef struct packet {
    int to;
    flurm_buf_t bytes;
} packet_t;

typedef struct net {
    flurm_raft_t *r[N];
    bool down[N];
    packet_t *q;
    size_t n, cap;
    size_t seen[FLURM_RAFT_MSG_TIMEOUT_NOW + 1];
    uint64_t now;
} net_t;

static const char SNAPSHOT_BYTES[] = "the state machine at the snapshot";

static void step(net_t *c, int i, const flurm_raft_event_t *ev);

/* The host: persist at once, encode and queue the messages, report PERSISTED / INSTALLED. */
static void after(net_t *c, int i, const flurm_raft_update_t *u)
{
    uint64_t snap = u->snapshot ? u->snapshot->index : 0, li = 0, lt = 0;
    if (u->n_entries) {
        li = u->entries[u->n_entries - 1].index;
        lt = u->entries[u->n_entries - 1].term;
    }
    for (size_t k = 0; k < u->n_msgs; k++) {
        flurm_raft_msg_t m = u->msgs[k];
        if (m.type == FLURM_RAFT_MSG_SNAPSHOT) {
            m.data = SNAPSHOT_BYTES;
            m.len = sizeof SNAPSHOT_BYTES;
        }
        flurm_buf_t b;
        flurm_buf_init(&b);
        assert_int_equal(flurm_raft_msg_encode(&m, CLUSTER, &b), FLURM_OK);   /* whatever the core sends */
        c->seen[m.type]++;
        int to = (int)m.to - 1;
        if (c->down[i] || c->down[to]) {
            flurm_buf_release(&b);
            continue;
        }
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->q = realloc(c->q, c->cap * sizeof *c->q);
            assert_non_null(c->q);
        }
        c->q[c->n++] = (packet_t){ .to = to, .bytes = b };
    }
    if (snap)
        step(c, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_INSTALLED, .now_ms = c->now, .index = snap });
    if (li)
        step(c, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PERSISTED, .now_ms = c->now, .index = li, .term = lt });
}

static void step(net_t *c, int i, const flurm_raft_event_t *ev)
{
    flurm_raft_update_t u;
    assert_int_equal(flurm_raft_step(c->r[i], ev, &u), FLURM_OK);
    after(c, i, &u);
}

static void deliver(net_t *c)
{
    for (size_t k = 0; k < c->n; k++) {   /* grows while delivering */
        packet_t p = c->q[k];
        flurm_raft_wire_msg_t *w = NULL;
        assert_int_equal(flurm_raft_msg_decode(p.bytes.data, p.bytes.size, CLUSTER, &w), FLURM_OK);
        flurm_buf_release(&p.bytes);
        if (p.to >= 0 && p.to < N && !c->down[p.to])
            step(c, p.to, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = c->now, .msg = &w->msg });
        if (w->msg.type == FLURM_RAFT_MSG_SNAPSHOT) {
            assert_int_equal(w->msg.len, sizeof SNAPSHOT_BYTES);
            assert_memory_equal(w->msg.data, SNAPSHOT_BYTES, sizeof SNAPSHOT_BYTES);
        }
        flurm_raft_wire_msg_free(w);
    }
    c->n = 0;
}

static void run(net_t *c, uint64_t ms)
{
    for (uint64_t end = c->now + ms; c->now < end; c->now += 5) {
        for (int i = 0; i < N; i++)
            if (!c->down[i])
                step(c, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = c->now });
        deliver(c);
    }
}

static int leader(const net_t *c)
{
    for (int i = 0; i < N; i++)
        if (!c->down[i] && flurm_raft_role(c->r[i]) == FLURM_RAFT_LEADER)
            return i;
    return -1;
}

/* CONFIG entries travel with their configuration; snapshots with their learners. */
static void test_raft_wire_configurations_round_trip_and_bad_ones_are_einval(void **state)
{
    (void)state;
    uint8_t cb[4 + 8 * FLURM_RAFT_MAX_MEMBERS];
    flurm_raft_entry_t e[1] = { { .index = 11, .term = 4, .type = FLURM_RAFT_ENTRY_CONFIG, .data = cb,
                                  .len = conf_data(cb, 3, 2) } };
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4, .log_index = 10, .log_term = 3,
                           .entries = e, .n_entries = 1 };
    flurm_buf_t b = enc(&m, CLUSTER);
    flurm_raft_wire_msg_t *w = NULL;
    assert_int_equal(flurm_raft_msg_decode(b.data, b.size, CLUSTER, &w), FLURM_OK);
    assert_same_msg(&m, &w->msg);
    flurm_raft_snapshot_meta_t conf;
    assert_int_equal(flurm_raft_config_decode(w->msg.entries[0].data, w->msg.entries[0].len, &conf), FLURM_OK);
    assert_true(conf.n_voters == 3 && conf.n_learners == 2 && conf.voters[3] == 100);
    flurm_raft_wire_msg_free(w);
    flurm_buf_release(&b);
    cb[4 + 7] = 9;   /* voter 1 becomes 9: not ascending */
    assert_int_equal(enc_rc(&m), FLURM_EINVAL);
    Flurm__Raft__PeerMessage *pb = tree_of(&(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4,
                                                                .log_index = 10, .log_term = 3,
                                                                .entries = (flurm_raft_entry_t[]){ { .index = 11, .term = 4 } },
                                                                .n_entries = 1 });
    pb->append->entries[0]->type = FLURM__RAFT__ENTRY_TYPE__ENTRY_CONFIG;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);   /* no data */
    pb->append->entries[0]->data.data = cb;
    pb->append->entries[0]->data.len = conf_data(cb, 1, 0);
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pb->append->entries[0]->data.len--;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->append->entries[0]->data.data = NULL;   /* not ours to free */
    pb->append->entries[0]->data.len = 0;
    flurm__raft__peer_message__free_unpacked(pb, NULL);

    flurm_raft_msg_t s = { .type = FLURM_RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 5, .data = "state", .len = 5 };
    s.snapshot = (flurm_raft_snapshot_meta_t){ .index = 100, .term = 4, .n_voters = 3, .n_learners = 2,
                                               .voters = { 1, 2, 3, 7, 5 } };
    b = enc(&s, CLUSTER);
    assert_int_equal(flurm_raft_msg_decode(b.data, b.size, CLUSTER, &w), FLURM_OK);
    assert_same_msg(&s, &w->msg);
    flurm_raft_wire_msg_free(w);
    pb = flurm__raft__peer_message__unpack(NULL, b.size, b.data);
    assert_non_null(pb);
    assert_int_equal(pb->snapshot->n_voters, 3);
    assert_int_equal(pb->snapshot->n_learners, 2);
    pb->snapshot->learners[1] = 2;   /* a learner that is a voter */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->learners[1] = 0;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->learners[1] = 5;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    uint64_t *mine = pb->snapshot->learners, many[FLURM_RAFT_MAX_MEMBERS];
    for (size_t i = 0; i < FLURM_RAFT_MAX_MEMBERS; i++)
        many[i] = 50 + i;
    pb->snapshot->learners = many;
    pb->snapshot->n_learners = FLURM_RAFT_MAX_MEMBERS - 3;
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_OK);
    pb->snapshot->n_learners = FLURM_RAFT_MAX_MEMBERS - 2;   /* 17 members */
    assert_int_equal(tree_rc(pb, CLUSTER), FLURM_EINVAL);
    pb->snapshot->learners = mine;
    pb->snapshot->n_learners = 2;
    flurm__raft__peer_message__free_unpacked(pb, NULL);
    flurm_buf_release(&b);
    s.snapshot.voters[4] = 3;
    assert_int_equal(enc_rc(&s), FLURM_EINVAL);
    s.snapshot.voters[4] = 5;
    s.snapshot.n_learners = FLURM_RAFT_MAX_MEMBERS - 2;
    assert_int_equal(enc_rc(&s), FLURM_EINVAL);
}

static void test_raft_wire_three_cores_talk_only_through_the_wire(void **state)
{
    (void)state;
    static const uint64_t ids[N] = { 1, 2, 3 };
    net_t c = { 0 };
    for (int i = 0; i < N; i++) {
        flurm_raft_config_t cfg = { .size = sizeof cfg, .id = ids[i], .n_voters = N, .voters = ids, .pre_vote = 1,
                                    .election_timeout_min_ms = 100, .election_timeout_max_ms = 200,
                                    .heartbeat_ms = 10, .trailing_entries = 1, .seed = seed + (uint64_t)i };
        flurm_err_t err;
        c.r[i] = flurm_raft_new(&cfg, NULL, &err);
        assert_non_null(c.r[i]);
    }
    run(&c, 1000);
    int l = leader(&c);
    assert_true(l >= 0);

    /* A follower misses ten commands and the leader compacts them away: it needs the snapshot. */
    int lag = (l + 1) % N;
    c.down[lag] = true;
    static const char *cmd[] = { "a", "bb", "ccc", "", "eeeee", "f", "g", "h", "i", "j" };
    uint32_t lens[10];
    for (int k = 0; k < 10; k++)
        lens[k] = (uint32_t)strlen(cmd[k]);
    step(&c, l, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PROPOSE, .now_ms = c.now,
                                       .commands = (const void *const *)cmd, .lens = lens, .n_commands = 10 });
    run(&c, 200);
    assert_int_equal(leader(&c), l);
    uint64_t applied = flurm_raft_applied_index(c.r[l]);
    assert_true(applied >= 11);
    step(&c, l, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = c.now, .index = applied });
    run(&c, 50);
    c.down[lag] = false;
    run(&c, 500);
    assert_true(flurm_raft_snapshot_index(c.r[lag]) >= applied);
    assert_true(flurm_raft_commit_index(c.r[lag]) >= applied);

    /* Leadership moves to the follower that caught up. */
    step(&c, l, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TRANSFER, .now_ms = c.now, .target = ids[lag] });
    run(&c, 500);
    assert_int_equal(leader(&c), lag);

    /* Membership through the wire: the third server leaves, comes back as a learner, is promoted. */
    int third = 3 - l - lag;
    flurm_raft_change_kind_t steps[] = { FLURM_RAFT_REMOVE, FLURM_RAFT_ADD_LEARNER, FLURM_RAFT_PROMOTE };
    for (int k = 0; k < 3; k++) {
        flurm_raft_update_t u;
        flurm_raft_event_t ev = { .kind = FLURM_RAFT_CHANGE, .now_ms = c.now, .change = steps[k], .target = ids[third] };
        assert_int_equal(flurm_raft_step(c.r[lag], &ev, &u), FLURM_OK);
        after(&c, lag, &u);
        run(&c, 200);
        assert_true(flurm_raft_commit_index(c.r[lag]) >= flurm_raft_config_index(c.r[lag]));
    }
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    assert_int_equal(flurm_raft_members(c.r[third], ms, FLURM_RAFT_MAX_MEMBERS), 3);
    for (int i = 0; i < 3; i++)
        assert_true(ms[i].flags & FLURM_RAFT_MEMBER_VOTER);

    for (uint32_t t = FLURM_RAFT_MSG_VOTE; t <= FLURM_RAFT_MSG_TIMEOUT_NOW; t++) {
        print_message("type %u: %zu messages\n", t, c.seen[t]);
        assert_true(c.seen[t] > 0);
    }
    for (size_t k = 0; k < c.n; k++)
        flurm_buf_release(&c.q[k].bytes);
    free(c.q);
    for (int i = 0; i < N; i++)
        flurm_raft_free(c.r[i]);
}

static int setup(void **state)
{
    (void)state;
    const char *s = getenv("RAFT_WIRE_SEED");
    seed = s ? strtoull(s, NULL, 0) : 20240601;
    rng_state = seed;
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)rnd();
    print_message("RAFT_WIRE_SEED=%llu\n", (unsigned long long)seed);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raft_wire_every_type_round_trips_byte_exact),
        cmocka_unit_test(test_raft_wire_members_the_type_does_not_use_are_not_sent),
        cmocka_unit_test(test_raft_wire_encode_appends_and_refusal_leaves_buffer),
        cmocka_unit_test(test_raft_wire_other_version_is_eproto),
        cmocka_unit_test(test_raft_wire_other_cluster_is_eperm),
        cmocka_unit_test(test_raft_wire_unknown_type_or_no_body_is_einval),
        cmocka_unit_test(test_raft_wire_forward_round_trips_byte_exact),
        cmocka_unit_test(test_raft_wire_forward_reply_round_trips_byte_exact),
        cmocka_unit_test(test_raft_wire_peer_decode_takes_raft_messages_too),
        cmocka_unit_test(test_raft_wire_forward_other_cluster_is_eperm_after_version),
        cmocka_unit_test(test_raft_wire_forward_rules_are_einval),
        cmocka_unit_test(test_raft_wire_forward_every_truncation_is_refused),
        cmocka_unit_test(test_raft_wire_zero_ids_are_einval),
        cmocka_unit_test(test_raft_wire_entries_out_of_order_or_gapped_are_einval),
        cmocka_unit_test(test_raft_wire_absurd_entry_count_is_einval),
        cmocka_unit_test(test_raft_wire_bad_snapshot_metadata_is_einval),
        cmocka_unit_test(test_raft_wire_inconsistent_replies_are_einval),
        cmocka_unit_test(test_raft_wire_data_length_past_the_end_is_einval),
        cmocka_unit_test(test_raft_wire_every_truncation_is_refused),
        cmocka_unit_test(test_raft_wire_garbled_bytes_never_crash),
        cmocka_unit_test(test_raft_wire_configurations_round_trip_and_bad_ones_are_einval),
        cmocka_unit_test(test_raft_wire_three_cores_talk_only_through_the_wire),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
