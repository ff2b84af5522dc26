/* Shared helpers for the libraft 0.15.0 (Debian 12 libraft-dev) evaluation.
 *
 * The test FSM stands in for FLURM's production FSM: every applied command is
 * an 8-byte little-endian uint64; the FSM keeps the whole sequence of applied
 * values (so divergence between servers is visible), a running sum, and it
 * serialises the sequence on snapshot and records every restore() call. */
#ifndef EVAL_COMMON_H
#define EVAL_COMMON_H

#include <raft.h>
#include <raft/fixture.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 100000

/* Compat: build with -DRAFT_V018 -Iupstream/v0.18.1/include to run the same
 * program against upstream v0.18.1 compiled from source (comparison only). */
#ifdef RAFT_V018
#ifndef RAFT_LOG_H
#define RAFT_LOG_H "upstream/v0.18.1/src/log.h"
#endif
#include RAFT_LOG_H
#define raft_fixture_initialize(f) raft_fixture_init(f)
#ifdef RAFT_COWSQL
#define RAFT_LOGPTR(r) ((r)->legacy.log)
#else
#define RAFT_LOGPTR(r) ((r)->log)
#endif
static const struct raft_entry *entry_at(struct raft *r, raft_index k) { return logGet(RAFT_LOGPTR(r), k); }
#define SNAPSHOT_INDEX(r) logSnapshotIndex(RAFT_LOGPTR(r))
#else
static const struct raft_entry *entry_at(struct raft *r, raft_index k)
{
    if (k <= r->log.offset) return NULL;
    return &r->log.entries[(r->log.front + (k - r->log.offset - 1)) % r->log.size];
}
#define SNAPSHOT_INDEX(r) ((r)->log.snapshot.last_index)
#endif

struct tfsm {
    int id;
    uint64_t *vals; /* applied command values, in apply order */
    size_t n;
    uint64_t sum;
    unsigned n_snapshots;     /* fsm->snapshot calls */
    unsigned n_restores;      /* fsm->restore calls */
    size_t last_restore_n;    /* number of values contained in last restore */
    uint64_t last_restore_sum;
};

static int tfsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                      void **result)
{
    struct tfsm *s = fsm->data;
    uint64_t v;
    if (buf->len != 8) return RAFT_MALFORMED;
    memcpy(&v, buf->base, 8);
    if (s->n >= MAXV) abort();
    s->vals[s->n++] = v;
    s->sum += v;
    *result = (void *)(uintptr_t)s->n; /* result = #applied so far */
    return 0;
}

static int tfsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                         unsigned *n_bufs)
{
    struct tfsm *s = fsm->data;
    *bufs = raft_malloc(sizeof **bufs);
    (*bufs)[0].len = 8 + s->n * 8;
    (*bufs)[0].base = raft_malloc((*bufs)[0].len);
    uint64_t n = s->n;
    memcpy((*bufs)[0].base, &n, 8);
    memcpy((char *)(*bufs)[0].base + 8, s->vals, s->n * 8);
    *n_bufs = 1;
    s->n_snapshots++;
    return 0;
}

static int tfsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct tfsm *s = fsm->data;
    uint64_t n;
    if (buf->len < 8) return RAFT_MALFORMED;
    memcpy(&n, buf->base, 8);
    if (buf->len != 8 + n * 8) return RAFT_MALFORMED;
    memcpy(s->vals, (char *)buf->base + 8, n * 8);
    s->n = n;
    s->sum = 0;
    for (size_t i = 0; i < n; i++) s->sum += s->vals[i];
    s->n_restores++;
    s->last_restore_n = n;
    s->last_restore_sum = s->sum;
    raft_free(buf->base); /* restore() takes ownership of the buffer */
    return 0;
}

static void tfsm_init(struct raft_fsm *fsm, struct tfsm *s, int id)
{
    memset(s, 0, sizeof *s);
    s->id = id;
    s->vals = calloc(MAXV, sizeof(uint64_t));
    memset(fsm, 0, sizeof *fsm);
    fsm->version = 1;
    fsm->data = s;
    fsm->apply = tfsm_apply;
    fsm->snapshot = tfsm_snapshot;
    fsm->restore = tfsm_restore;
}

/* ---- tiny check framework ---- */
static int n_pass, n_fail;
#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (cond) {                                        \
            n_pass++;                                      \
            printf("  ok   - ");                           \
        } else {                                           \
            n_fail++;                                      \
            printf("  FAIL - ");                           \
        }                                                  \
        printf(__VA_ARGS__);                               \
        printf("   [%s]\n", #cond);                       \
    } while (0)
#define SUMMARY()                                                      \
    do {                                                               \
        printf("%d passed, %d failed\n", n_pass, n_fail);              \
        return n_fail ? 1 : 0;                                         \
    } while (0)

static const char *state_name(int s)
{
    switch (s) {
        case RAFT_UNAVAILABLE: return "UNAVAILABLE";
        case RAFT_FOLLOWER: return "FOLLOWER";
        case RAFT_CANDIDATE: return "CANDIDATE";
        case RAFT_LEADER: return "LEADER";
    }
    return "?";
}

/* ---- fixture helpers ---- */
static struct raft_fsm g_fsms[RAFT_FIXTURE_MAX_SERVERS];
static struct tfsm g_tfsms[RAFT_FIXTURE_MAX_SERVERS];

/* Create a fixture with n servers, the first n_voting of them voters, all
 * bootstrapped but not started.  NB: raft_fixture_initialize() in 0.15.0 does
 * not set f->n / f->leader_id, so the struct MUST be zeroed first (see
 * defect_fixture_init.c). */
static void cluster_setup(struct raft_fixture *f, unsigned n, unsigned n_voting)
{
    struct raft_configuration conf;
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(f, 0, sizeof *f);
    if (raft_fixture_initialize(f) != 0) abort();
    for (unsigned i = 0; i < n; i++) {
        tfsm_init(&g_fsms[i], &g_tfsms[i], (int)i);
        if (raft_fixture_grow(f, &g_fsms[i]) != 0) abort();
    }
    if (raft_fixture_configuration(f, n_voting, &conf) != 0) abort();
    if (raft_fixture_bootstrap(f, &conf) != 0) abort();
    raft_configuration_close(&conf);
}

static void cluster_start(struct raft_fixture *f)
{
    if (raft_fixture_start(f) != 0) abort();
}

/* Grow the fixture by one (unbootstrapped, unstarted) server with a test FSM.
 * Returns its index. */
static unsigned cluster_grow(struct raft_fixture *f)
{
    unsigned i = raft_fixture_n(f);
    tfsm_init(&g_fsms[i], &g_tfsms[i], (int)i);
    if (raft_fixture_grow(f, &g_fsms[i]) != 0) abort();
    return i;
}

/* Allocate an 8-byte command buffer with raft_malloc. */
static struct raft_buffer cmd(uint64_t v)
{
    struct raft_buffer b;
    b.len = 8;
    b.base = raft_malloc(8);
    memcpy(b.base, &v, 8);
    return b;
}

struct apply_req {
    struct raft_apply req;
    int fired;
    int status;
    uintptr_t result;
    raft_index last_applied_in_cb;
    raft_index commit_in_cb;
    struct raft *r;
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    struct apply_req *a = req->data;
    a->fired++;
    a->status = status;
    a->result = (uintptr_t)result;
    a->last_applied_in_cb = raft_last_applied(a->r);
    a->commit_in_cb = a->r->commit_index;
}

static int propose(struct raft *r, struct apply_req *a, uint64_t v)
{
    struct raft_buffer b = cmd(v);
    memset(a, 0, sizeof *a);
    a->req.data = a;
    a->r = r;
    int rv = raft_apply(r, &a->req, &b, 1, apply_cb);
    if (rv != 0) raft_free(b.base);
    return rv;
}

/* Saturate (silently drop) traffic in both directions between i and j. */
static void partition_pair(struct raft_fixture *f, unsigned i, unsigned j)
{
    if (!raft_fixture_saturated(f, i, j)) raft_fixture_saturate(f, i, j);
    if (!raft_fixture_saturated(f, j, i)) raft_fixture_saturate(f, j, i);
}
static void heal_pair(struct raft_fixture *f, unsigned i, unsigned j)
{
    if (raft_fixture_saturated(f, i, j)) raft_fixture_desaturate(f, i, j);
    if (raft_fixture_saturated(f, j, i)) raft_fixture_desaturate(f, j, i);
}
static void isolate(struct raft_fixture *f, unsigned i)
{
    for (unsigned j = 0; j < raft_fixture_n(f); j++)
        if (j != i) partition_pair(f, i, j);
}
static void rejoin(struct raft_fixture *f, unsigned i)
{
    for (unsigned j = 0; j < raft_fixture_n(f); j++)
        if (j != i) heal_pair(f, i, j);
}

/* Make server j's *current* election timer expire `ms` from now, and make every
 * future randomized timeout equal `future` (io->random() in the fixture is a
 * fixed per-server value, not random). Pokes public struct raft fields, as the
 * fixture's own raft_fixture_elect() does. */
static void set_timer(struct raft_fixture *f, unsigned j, unsigned ms,
                      unsigned future)
{
    struct raft *r = raft_fixture_get(f, j);
    unsigned elapsed = (unsigned)(raft_fixture_time(f) - r->election_timer_start);
    if (r->state == RAFT_FOLLOWER)
        r->follower_state.randomized_election_timeout = elapsed + ms;
    else if (r->state == RAFT_CANDIDATE)
        r->candidate_state.randomized_election_timeout = elapsed + ms;
    raft_fixture_set_randomized_election_timeout(f, j, future);
}

static bool is_leader_cond(struct raft_fixture *f, void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    return raft_state(raft_fixture_get(f, i)) == RAFT_LEADER;
}
static bool step_until_leader(struct raft_fixture *f, unsigned i, unsigned ms)
{
    return raft_fixture_step_until(f, is_leader_cond, (void *)(uintptr_t)i, ms);
}
static bool not_leader_cond(struct raft_fixture *f, void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    return raft_state(raft_fixture_get(f, i)) != RAFT_LEADER;
}
static bool fired_cond(struct raft_fixture *f, void *arg)
{
    (void)f;
    return *(int *)arg != 0;
}

static void dump(struct raft_fixture *f, const char *label)
{
    printf("  [t=%llu] %s\n", raft_fixture_time(f), label);
    for (unsigned i = 0; i < raft_fixture_n(f); i++) {
        struct raft *r = raft_fixture_get(f, i);
        printf("    srv%u id=%llu %-11s term=%llu last=%llu commit=%llu applied=%llu"
               " alive=%d fsm.n=%zu\n",
               i, r->id, state_name(raft_state(r)), r->current_term,
               raft_last_index(r), r->commit_index, raft_last_applied(r),
               raft_fixture_alive(f, i), g_tfsms[i].n);
    }
}

#endif
