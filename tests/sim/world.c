/* tests/sim/world.c — see world.h. */
#include "world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/buf.h>

#include "state/state.h"

struct w_msg {
    uint64_t at, seq;
    uint32_t to;
    flurm_raft_msg_t m;
    flurm_raft_entry_t *ents;
    uint8_t *blob;             /* the entries' data, or the snapshot's */
};

struct w_write {
    w_write_t *next;
    uint64_t done_at;
    bool hs;
    uint64_t term, vote;
    bool snap;
    flurm_raft_snapshot_meta_t snap_meta;
    uint8_t *snap_data;
    size_t snap_len;
    uint64_t trunc;
    w_entry_t *ents;
    size_t n_ents;
    flurm_raft_msg_t *msgs;   /* deep copies, freed after sending */
    w_msg_t **mcopies;
    size_t n_msgs;
};

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) { fprintf(stderr, "sim: out of memory\n"); abort(); }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) { fprintf(stderr, "sim: out of memory\n"); abort(); }
    return p;
}

static uint64_t rnd(world_t *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t rnd_range(world_t *w, uint64_t lo, uint64_t hi) { return hi > lo ? lo + rnd(w) % (hi - lo + 1) : lo; }

void world_fail(world_t *w, const char *fmt, ...)
{
    if (w->failed[0]) return;
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(w->failed, sizeof w->failed, "t=%llu: ", (unsigned long long)w->now);
    vsnprintf(w->failed + k, sizeof w->failed - (size_t)k, fmt, ap);
    va_end(ap);
}

static uint64_t fsm_step(uint64_t h, uint64_t cmd) { return (h ^ cmd) * 0x100000001b3ull + 0x9e37; }

static void *xmemdup(const void *p, size_t n)
{
    if (!n) return NULL;
    void *c = xmalloc(n);
    memcpy(c, p, n);
    return c;
}

/* 64-bit hash of bytes (8 at a time; not cryptographic, only to compare states). */
static uint64_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        h = (h ^ v) * 0x100000001b3ull;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    while (n--) h = (h ^ *b++) * 0x100000001b3ull;
    h ^= h >> 32;
    return h * 0xff51afd7ed558ccdull;
}

static bool flurm_mode(const world_t *w) { return w->conf != NULL; }

/* ---- configurations ---- */

static bool conf_has_voter(const flurm_raft_snapshot_meta_t *c, uint64_t id)
{
    for (uint32_t k = 0; k < c->n_voters; k++)
        if (c->voters[k] == id) return true;
    return false;
}

/* Whether some majority of A's voters and some majority of B's voters share no server. */
static bool disjoint_majorities(const flurm_raft_snapshot_meta_t *a, const flurm_raft_snapshot_meta_t *b)
{
    uint32_t both = 0;
    for (uint32_t k = 0; k < a->n_voters; k++) both += conf_has_voter(b, a->voters[k]);
    uint32_t only_a = a->n_voters - both, only_b = b->n_voters - both;
    uint32_t qa = a->n_voters / 2 + 1, qb = b->n_voters / 2 + 1;
    uint32_t need_a = qa > only_a ? qa - only_a : 0, need_b = qb > only_b ? qb - only_b : 0;
    return need_a + need_b <= both;   /* the shared servers suffice to complete both, apart */
}

/* Servers in exactly one of A's and B's member lists, and voters in exactly one of them. */
static void conf_diff(const flurm_raft_snapshot_meta_t *a, const flurm_raft_snapshot_meta_t *b, uint32_t *members,
                      uint32_t *voters)
{
    *members = *voters = 0;
    for (int pass = 0; pass < 2; pass++) {
        const flurm_raft_snapshot_meta_t *x = pass ? b : a, *y = pass ? a : b;
        for (uint32_t k = 0; k < x->n_voters + x->n_learners; k++) {
            bool in = false;
            for (uint32_t j = 0; j < y->n_voters + y->n_learners; j++) in |= y->voters[j] == x->voters[k];
            *members += !in;
            *voters += k < x->n_voters && !conf_has_voter(y, x->voters[k]);
        }
    }
}

static void conf_str(const flurm_raft_snapshot_meta_t *c, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < c->n_voters + c->n_learners && off < cap; k++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%llu", k == c->n_voters ? "/" : k ? "," : "",
                                (unsigned long long)c->voters[k]);
}

/* Node I's configuration in force (flurm_raft_members) as a meta, and a hash of it. */
static uint64_t members_of(const world_t *w, uint32_t i, flurm_raft_snapshot_meta_t *out)
{
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(w->nodes[i].r, ms, FLURM_RAFT_MAX_MEMBERS);
    uint64_t h = 0x9e3779b97f4a7c15ull;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n && k < FLURM_RAFT_MAX_MEMBERS; k++) {
        bool voter = ms[k].flags & FLURM_RAFT_MEMBER_VOTER;
        out->voters[k] = ms[k].id;
        if (voter) out->n_voters++;
        else out->n_learners++;
        h = (h ^ (ms[k].id * 2 + voter)) * 0x100000001b3ull;
    }
    return h;
}

static bool same_conf(const flurm_raft_snapshot_meta_t *a, const flurm_raft_snapshot_meta_t *b)
{
    uint32_t dm, dv;
    conf_diff(a, b, &dm, &dv);
    return !dm && !dv;
}

/* A committed configuration follows the previous committed one: one server added, promoted or
 * removed (so no two disjoint majorities). */
static void check_conf_step(world_t *w, const char *what, const flurm_raft_snapshot_meta_t *prev,
                            const flurm_raft_snapshot_meta_t *next)
{
    uint32_t dm, dv;
    conf_diff(prev, next, &dm, &dv);
    if (dm > 1 || dv > 1 || (dm == 0 && dv == 0) || disjoint_majorities(prev, next)) {
        char a[128], b[128];
        conf_str(prev, a, sizeof a);
        conf_str(next, b, sizeof b);
        world_fail(w, "membership: %s configuration %s follows %s (%u members, %u voters differ%s)", what, b, a, dm, dv,
                   disjoint_majorities(prev, next) ? "; disjoint majorities" : "");
    }
}

/* The state machine's snapshot of node I into OUT (reset first). */
static void sm_snapshot(world_t *w, uint32_t i, flurm_buf_t *out)
{
    w_node_t *nd = &w->nodes[i];
    out->size = 0;
    out->err = 0;
    if (flurm_mode(w)) {
        int rc = flurm_state_snapshot(nd->st, out);
        if (rc) world_fail(w, "node %u: flurm_state_snapshot: %s", i + 1, flurm_strerror(rc));
    } else {
        flurm_pack64(out, nd->hash);
        flurm_pack64(out, nd->count);
    }
}

/* Replaces node I's state machine with snapshot bytes; false (failed) if unreadable. */
static bool sm_restore(world_t *w, uint32_t i, const void *data, size_t len)
{
    w_node_t *nd = &w->nodes[i];
    if (flurm_mode(w)) {
        int rc = flurm_state_restore(nd->st, data, len);
        if (rc) { world_fail(w, "node %u: flurm_state_restore of %zu bytes: %s", i + 1, len, flurm_strerror(rc)); return false; }
        return true;
    }
    if (len != 16) { world_fail(w, "node %u: snapshot of %zu bytes", i + 1, len); return false; }
    flurm_buf_t b;
    flurm_buf_view(&b, data, len);
    flurm_unpack64(&b, &nd->hash);
    flurm_unpack64(&b, &nd->count);
    return true;
}

static flurm_buf_t g_snapbuf;   /* scratch for digests (one thread) */

/* Replicas' snapshots differ: a failure (with --host-schedule too: what the leader's scheduler
 * derives is kept out of the replicated state and its snapshots). */
static void __attribute__((format(printf, 2, 3))) state_differs(world_t *w, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->stats_state_diffs++;
    world_fail(w, "%s", msg);
}

/* Hash of node I's snapshot bytes. */
static uint64_t sm_digest(world_t *w, uint32_t i)
{
    sm_snapshot(w, i, &g_snapbuf);
    w->stats_digests++;
    return hash_bytes(g_snapbuf.data, g_snapbuf.size);
}

/* ---- message heap ---- */

static bool msg_before(const w_msg_t *a, const w_msg_t *b) { return a->at < b->at || (a->at == b->at && a->seq < b->seq); }

static void heap_push(world_t *w, w_msg_t *m)
{
    if (w->heap_len == w->heap_cap) {
        w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 256;
        w->heap = xrealloc(w->heap, w->heap_cap * sizeof *w->heap);
    }
    size_t i = w->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!msg_before(m, w->heap[p])) break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = m;
}

static w_msg_t *heap_pop(world_t *w)
{
    w_msg_t *top = w->heap[0], *last = w->heap[--w->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->heap_len) break;
        if (c + 1 < w->heap_len && msg_before(w->heap[c + 1], w->heap[c])) c++;
        if (!msg_before(w->heap[c], last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->heap_len) w->heap[i] = last;
    return top;
}

static void msg_free(w_msg_t *m)
{
    if (!m) return;
    free(m->ents);
    free(m->blob);
    free(m);
}

/* A deep copy of SRC: its entries and their data, or its snapshot data (host contract 2). */
static w_msg_t *msg_copy(const flurm_raft_msg_t *src)
{
    w_msg_t *c = xmalloc(sizeof *c);
    c->m = *src;
    if (src->n_entries) {
        size_t total = 0;
        for (size_t i = 0; i < src->n_entries; i++) total += src->entries[i].len;
        c->ents = xmalloc(src->n_entries * sizeof *c->ents);
        memcpy(c->ents, src->entries, src->n_entries * sizeof *c->ents);
        c->blob = total ? xmalloc(total) : NULL;
        size_t off = 0;
        for (size_t i = 0; i < src->n_entries; i++) {
            if (!c->ents[i].len) { c->ents[i].data = NULL; continue; }
            memcpy(c->blob + off, src->entries[i].data, c->ents[i].len);
            c->ents[i].data = c->blob + off;
            off += c->ents[i].len;
        }
        c->m.entries = c->ents;
    } else if (src->data && src->len) {
        c->blob = xmemdup(src->data, src->len);
        c->m.data = c->blob;
    }
    return c;
}

static uint32_t node_of(const world_t *w, uint64_t id) { (void)w; return (uint32_t)(id - 1); }

static void net_send(world_t *w, uint32_t from, w_msg_t *c)
{
    uint32_t to = node_of(w, c->m.to);
    if (to >= w->n || w->blocked[from][to] || rnd(w) % 100 < w->loss_pct) { msg_free(c); return; }
    c->to = to;
    c->at = w->now + rnd_range(w, w->delay_min, w->delay_max);
    c->seq = ++w->msg_seq;
    w->stats_msgs++;
    if (rnd(w) % 100 < w->dup_pct) {
        w_msg_t *d = msg_copy(&c->m);
        d->to = to;
        d->at = w->now + rnd_range(w, w->delay_min, w->delay_max * 2);
        d->seq = ++w->msg_seq;
        heap_push(w, d);
    }
    heap_push(w, c);
}

/* ---- nodes ---- */

static void node_step(world_t *w, uint32_t i, const flurm_raft_event_t *ev);

static uint64_t local_now(const world_t *w, uint32_t i) { return w->now + w->nodes[i].clock_off; }

static void entry_release(w_entry_t *e)
{
    free(e->data);
    e->data = NULL;
}

/* Drops disk entries from position K on. */
static void disk_cut(w_node_t *nd, size_t k)
{
    for (size_t j = k; j < nd->d_len; j++) entry_release(&nd->d_log[j]);
    if (k < nd->d_len) nd->d_len = k;
}

/* Takes ownership of E's data. */
static void disk_append(w_node_t *nd, const w_entry_t *e)
{
    if (nd->d_len == nd->d_cap) {
        nd->d_cap = nd->d_cap ? nd->d_cap * 2 : 64;
        nd->d_log = xrealloc(nd->d_log, nd->d_cap * sizeof *nd->d_log);
    }
    nd->d_log[nd->d_len++] = *e;
}

static void write_free(w_write_t *wr)
{
    for (size_t k = 0; k < wr->n_msgs; k++) msg_free(wr->mcopies[k]);
    free(wr->mcopies);
    for (size_t k = 0; k < wr->n_ents; k++) entry_release(&wr->ents[k]);
    free(wr->ents);
    free(wr->snap_data);
    free(wr);
}

static void check_commit_durable(world_t *w, uint32_t li, uint64_t commit, uint64_t term);

/* A write reached the disk: apply it, send its messages, tell the core. */
static void write_complete(world_t *w, uint32_t i, w_write_t *wr)
{
    w_node_t *nd = &w->nodes[i];
    if (wr->snap) {
        nd->d_snap = wr->snap_meta;
        free(nd->d_snap_data);
        nd->d_snap_data = wr->snap_data;
        nd->d_snap_len = wr->snap_len;
        wr->snap_data = NULL;
        disk_cut(nd, 0);
    }
    if (wr->trunc) {
        uint64_t base = nd->d_snap.index;
        if (wr->trunc <= base) world_fail(w, "node %u: truncation at %llu below its snapshot %llu", i + 1,
                                          (unsigned long long)wr->trunc, (unsigned long long)base);
        else if (wr->trunc - base - 1 < nd->d_len) disk_cut(nd, wr->trunc - base - 1);
    }
    for (size_t k = 0; k < wr->n_ents; k++) {
        uint64_t want = nd->d_snap.index + nd->d_len + 1;
        if (wr->ents[k].index != want) {
            world_fail(w, "node %u: disk append of %llu, expected %llu", i + 1, (unsigned long long)wr->ents[k].index,
                       (unsigned long long)want);
            break;
        }
        disk_append(nd, &wr->ents[k]);
        wr->ents[k].data = NULL;   /* the disk owns it now */
    }
    if (wr->hs) {
        nd->d_term = wr->term;
        nd->d_vote = wr->vote;
    }
    for (size_t k = 0; k < wr->n_msgs; k++) {
        net_send(w, i, wr->mcopies[k]);
        wr->mcopies[k] = NULL;
    }
    uint32_t inc = nd->incarnation;
    if (wr->snap)
        node_step(w, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_INSTALLED, .now_ms = local_now(w, i),
                                                .index = wr->snap_meta.index, .term = wr->snap_meta.term });
    if (wr->n_ents && nd->alive && nd->incarnation == inc)
        node_step(w, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PERSISTED, .now_ms = local_now(w, i),
                                                .index = wr->ents[wr->n_ents - 1].index,
                                                .term = wr->ents[wr->n_ents - 1].term });
    write_free(wr);
}

static void applied_grow(world_t *w, uint64_t index)
{
    if (index < w->applied_cap) return;
    size_t nc = w->applied_cap ? w->applied_cap : 1024;
    while (nc <= index) nc *= 2;
    w->applied = xrealloc(w->applied, nc * sizeof *w->applied);
    memset(w->applied + w->applied_cap, 0, (nc - w->applied_cap) * sizeof *w->applied);
    w->applied_cap = nc;
}

static void mark_purged(world_t *w, uint32_t id)
{
    if (id >= w->purged_cap) {
        size_t nc = w->purged_cap ? w->purged_cap : 1024;
        while (nc <= id) nc *= 2;
        w->purged = xrealloc(w->purged, nc);
        memset(w->purged + w->purged_cap, 0, nc - w->purged_cap);
        w->purged_cap = nc;
    }
    w->purged[id] = 1;
}

/* The job ids a PURGE command names (its body: u32 count + u32 ids). */
static size_t purge_ids(const void *data, size_t len, uint32_t *ids, size_t max)
{
    const void *body;
    uint32_t blen, n = 0;
    if (flurm_cmd_body(data, len, &body, &blen) != FLURM_OK)
        return 0;
    flurm_buf_t b;
    flurm_buf_view(&b, body, blen);
    flurm_unpack32(&b, &n);
    size_t k = 0;
    for (; k < n && k < max && !b.err; k++) flurm_unpack32(&b, &ids[k]);
    return b.err ? 0 : k;
}

/* commit.c's rule: proposals at or below the applied index are decided, in FIFO order; a
 * proposal is the requester's iff its (index, term) is what got applied. Returns the proposal
 * number E decides for node I (0 = none of ours). */
static uint64_t resolve_waits(world_t *w, uint32_t i, const flurm_raft_entry_t *e)
{
    w_node_t *nd = &w->nodes[i];
    uint64_t mine = 0;
    size_t k = 0;
    while (k < nd->n_waits && w->props[nd->waits[k] - 1].index <= e->index) {
        uint64_t pn = nd->waits[k++];
        w_prop_t *p = &w->props[pn - 1];
        if (p->index == e->index && p->term == e->term) mine = pn;
        else {
            p->fifo_failed = true;
            p->fifo_at = e->index;
            p->fifo_at_term = e->term;
            p->fifo_snap = nd->installed >= p->index ? nd->installed : 0;
        }
    }
    if (k) {
        memmove(nd->waits, nd->waits + k, (nd->n_waits - k) * sizeof *nd->waits);
        nd->n_waits -= k;
    }
    nd->installed = 0;
    return mine;
}

static void apply_flurm(world_t *w, uint32_t i, const flurm_raft_entry_t *e)
{
    w_node_t *nd = &w->nodes[i];
    flurm_apply_result_t res = { 0 };
    uint16_t kind = 0;
    uint32_t next_before = flurm_state_next_job_id(nd->st);
    uint32_t purge[64];
    size_t npurge = 0;
    bool existed[64] = { false };
    if (e->type == FLURM_RAFT_ENTRY_COMMAND) {
        kind = flurm_cmd_kind(e->data, e->len);
        if (kind == FLURM_CMD_PURGE_JOBS) {
            npurge = purge_ids(e->data, e->len, purge, 64);
            for (size_t k = 0; k < npurge; k++) existed[k] = flurm_state_find_job(nd->st, purge[k]) != NULL;
        }
        int rc = flurm_state_apply(nd->st, e->data, e->len, &res);
        if (rc) {
            world_fail(w, "node %u: flurm_state_apply of entry %llu (kind 0x%x, %u bytes): %s", i + 1,
                       (unsigned long long)e->index, kind, e->len, flurm_strerror(rc));
            return;
        }
        if (kind == FLURM_REQUEST_SUBMIT_BATCH_JOB && res.rc == 0 && res.job_id < next_before) {
            world_fail(w, "job ids: node %u: submit at %llu got job id %u below next_job_id %u (an id in use before)",
                       i + 1, (unsigned long long)e->index, res.job_id, next_before);
            return;
        }
        for (size_t k = 0; k < npurge; k++)
            if (existed[k] && !flurm_state_find_job(nd->st, purge[k])) mark_purged(w, purge[k]);
    }
    nd->applied = e->index;
    applied_grow(w, e->index);
    uint64_t ch = e->len ? hash_bytes(e->data, e->len) : 0;
    bool digest = w->digest_every <= 1 || e->index % w->digest_every == 0;
    uint64_t dg = digest ? sm_digest(w, i) : 0;
    uint32_t next_after = flurm_state_next_job_id(nd->st);
    uint64_t eh = 0;
    for (size_t k = 0; k < res.neffects; k++)
        eh = (eh ^ ((uint64_t)res.effects[k].kind << 32 | res.effects[k].job_id)) * 0x100000001b3ull + k;
    w_applied_t *a = &w->applied[e->index];
    if (!a->set) {
        if (e->index > 1 && !w->applied[e->index - 1].set)
            world_fail(w, "node %u applied %llu before any node applied %llu", i + 1, (unsigned long long)e->index,
                       (unsigned long long)e->index - 1);
        *a = (w_applied_t){ .set = true, .term = e->term, .type = e->type, .cmd_hash = ch, .digest = dg, .rc = res.rc,
                            .job_id = kind == FLURM_REQUEST_SUBMIT_BATCH_JOB ? res.job_id : 0,
                            .next_job_id = next_after, .kind = kind, .effects = eh };
        if (e->index > w->max_applied_seen) w->max_applied_seen = e->index;
    } else if (a->term != e->term || a->type != e->type || a->cmd_hash != ch) {
        world_fail(w, "state machine safety: node %u applied (term %llu kind 0x%x) at %llu, another applied (term %llu kind 0x%x)",
                   i + 1, (unsigned long long)e->term, kind, (unsigned long long)e->index, (unsigned long long)a->term, a->kind);
        return;
    } else if (a->rc != res.rc || a->job_id != (kind == FLURM_REQUEST_SUBMIT_BATCH_JOB ? res.job_id : 0) ||
               a->next_job_id != next_after) {
        world_fail(w, "state machine safety: node %u applying %llu (kind 0x%x) got rc %u job %u next %u, another got rc %u job %u next %u",
                   i + 1, (unsigned long long)e->index, kind, res.rc, res.job_id, next_after, a->rc, a->job_id, a->next_job_id);
        return;
    } else if (a->effects != eh) {
        world_fail(w, "state machine safety: node %u applying %llu (kind 0x%x) asked for other effects than another replica",
                   i + 1, (unsigned long long)e->index, kind);
        return;
    } else if (digest && a->digest != dg) {
        state_differs(w, "state machine safety: node %u's snapshot after %llu (kind 0x%x) differs from another replica's",
                      i + 1, (unsigned long long)e->index, kind);
        if (w->failed[0]) return;
    }
    /* Acknowledgement: the proposer applies its (index, term) (host contract 6). */
    uint64_t pn = resolve_waits(w, i, e);
    if (pn) {
        w_prop_t *p = &w->props[pn - 1];
        if (p->node == i && p->incarnation == nd->incarnation && !p->acked) {
            p->acked = true;
            w->stats_acked++;
            if (kind == FLURM_REQUEST_SUBMIT_BATCH_JOB && res.rc == 0) {
                p->job_id = res.job_id;
                if (res.job_id != p->reserved_id) w->stats_id_moved++;
            }
            uint32_t slot = kind == FLURM_REQUEST_SUBMIT_BATCH_JOB ? 0 : kind == FLURM_CMD_JOB_START ? 1
                          : kind == FLURM_CMD_JOB_END ? 2 : kind == FLURM_REQUEST_KILL_JOB ? 3
                          : kind == FLURM_CMD_NODE_REGISTER ? 4 : kind == FLURM_CMD_PURGE_JOBS ? 5 : 6;
            w->stats_kinds[slot]++;
        }
    }
}

static void apply_entry(world_t *w, uint32_t i, const flurm_raft_entry_t *e)
{
    w_node_t *nd = &w->nodes[i];
    if (e->index != nd->applied + 1) {
        world_fail(w, "node %u applies %llu after %llu", i + 1, (unsigned long long)e->index,
                   (unsigned long long)nd->applied);
        return;
    }
    if (e->type == FLURM_RAFT_ENTRY_CONFIG && !(e->index < w->applied_cap && w->applied[e->index].set)) {
        flurm_raft_snapshot_meta_t c;
        if (flurm_raft_config_decode(e->data, e->len, &c) != FLURM_OK) {
            world_fail(w, "node %u applies a CONFIG entry at %llu that does not decode", i + 1, (unsigned long long)e->index);
            return;
        }
        check_conf_step(w, "applied", &w->applied_conf, &c);
        w->applied_conf = c;
    }
    if (flurm_mode(w)) { apply_flurm(w, i, e); return; }
    uint64_t cmd = 0;
    if (e->type == FLURM_RAFT_ENTRY_COMMAND) {
        if (e->len != 8) { world_fail(w, "node %u: command of %u bytes", i + 1, e->len); return; }
        memcpy(&cmd, e->data, 8);
        nd->hash = fsm_step(nd->hash, cmd);
        nd->count++;
    }
    nd->applied = e->index;
    applied_grow(w, e->index);
    w_applied_t *a = &w->applied[e->index];
    if (!a->set) {
        *a = (w_applied_t){ .set = true, .term = e->term, .cmd = cmd, .hash = nd->hash, .count = nd->count, .type = e->type };
        if (cmd) {
            if (cmd > w->n_props) { world_fail(w, "node %u applied unknown command %llu", i + 1, (unsigned long long)cmd); return; }
            if (w->cmd_at[cmd]) {
                world_fail(w, "command %llu applied at both %llu and %llu", (unsigned long long)cmd,
                           (unsigned long long)w->cmd_at[cmd], (unsigned long long)e->index);
                return;
            }
            w->cmd_at[cmd] = e->index;
        }
    } else if (a->term != e->term || a->cmd != cmd || a->type != e->type || a->hash != nd->hash || a->count != nd->count) {
        world_fail(w, "state machine safety: node %u applied (term %llu cmd %llu) at %llu, another applied (term %llu cmd %llu)",
                   i + 1, (unsigned long long)e->term, (unsigned long long)cmd, (unsigned long long)e->index,
                   (unsigned long long)a->term, (unsigned long long)a->cmd);
        return;
    }
    if (cmd) {
        w_prop_t *p = &w->props[cmd - 1];
        if (p->node == i && p->incarnation == nd->incarnation && p->index == e->index && p->term == e->term &&
            nd->role == FLURM_RAFT_LEADER && !p->acked) {
            p->acked = true;
            w->stats_acked++;
        }
    }
}

static void leader_completeness(world_t *w, uint32_t i)
{
    flurm_raft_t *r = w->nodes[i].r;
    uint64_t first = flurm_raft_first_index(r), last = flurm_raft_last_index(r);
    for (uint64_t k = first; k < w->applied_cap && k <= w->max_commit_seen; k++) {
        if (!w->applied[k].set) continue;
        if (k > last) {
            world_fail(w, "leader completeness: node %u leads term %llu without committed entry %llu", i + 1,
                       (unsigned long long)flurm_raft_term(r), (unsigned long long)k);
            return;
        }
        const flurm_raft_entry_t *e = flurm_raft_entry(r, k);
        if (e->term != w->applied[k].term) {
            world_fail(w, "leader completeness: node %u (term %llu) holds term %llu at committed %llu (term %llu)", i + 1,
                       (unsigned long long)flurm_raft_term(r), (unsigned long long)e->term, (unsigned long long)k,
                       (unsigned long long)w->applied[k].term);
            return;
        }
    }
}

/* A server that decides (wins an election, commits by counting) does so in a configuration
 * whose majorities all meet those of the latest committed configuration. (A deposed leader
 * that does not know it yet may hold an older configuration: it decides nothing.) */
static void check_decider(world_t *w, uint32_t i, const char *what)
{
    flurm_raft_snapshot_meta_t c;
    members_of(w, i, &c);
    if (disjoint_majorities(&c, &w->committed_conf)) {
        char a[128], b[128];
        conf_str(&c, a, sizeof a);
        conf_str(&w->committed_conf, b, sizeof b);
        world_fail(w, "membership: node %u %s in configuration %s, which has majorities disjoint from the committed %s",
                   i + 1, what, a, b);
    }
}

/* D4: a leader's commit index must be durable on a majority of the voters it counted (the
 * configuration in force at the leader; its disk holds the entry). */
static void check_commit_durable(world_t *w, uint32_t li, uint64_t commit, uint64_t term)
{
    const flurm_raft_entry_t *le = flurm_raft_entry(w->nodes[li].r, commit);
    if (!le) return;
    flurm_raft_snapshot_meta_t c;
    members_of(w, li, &c);   /* in force (world_check_logs: the log's) */
    uint32_t have = 0;
    for (uint32_t j = 0; j < w->n; j++) {
        w_node_t *nd = &w->nodes[j];
        if (!conf_has_voter(&c, nd->id)) continue;
        if (nd->d_snap.index >= commit) { have++; continue; }
        uint64_t off = commit - nd->d_snap.index - 1;
        if (off < nd->d_len && nd->d_log[off].term == le->term) have++;
    }
    if (have < c.n_voters / 2 + 1 && !w->failed[0]) {
        for (uint32_t j = 0; j < w->n; j++) {
            w_node_t *nd = &w->nodes[j];
            printf("  node %u alive %d disk snap %llu len %zu; core last %llu commit %llu\n", j + 1, nd->alive,
                   (unsigned long long)nd->d_snap.index, nd->d_len, nd->alive ? (unsigned long long)flurm_raft_last_index(nd->r) : 0ull,
                   nd->alive ? (unsigned long long)flurm_raft_commit_index(nd->r) : 0ull);
            flurm_raft_member_status_t ms[W_MAX];
            size_t k = nd->alive ? flurm_raft_members(nd->r, ms, W_MAX) : 0;
            for (size_t q = 0; q < k && flurm_raft_role(nd->r) == FLURM_RAFT_LEADER; q++)
                printf("    member %llu match %llu next %llu state %u\n", (unsigned long long)ms[q].id,
                       (unsigned long long)ms[q].match_index, (unsigned long long)ms[q].next_index, ms[q].state);
        }
        world_fail(w, "node %u (leader, term %llu) committed %llu held durably by only %u of %u voters", li + 1,
                   (unsigned long long)term, (unsigned long long)commit, have, c.n_voters);
    }
}

static void handle_update(world_t *w, uint32_t i, const flurm_raft_update_t *u)
{
    w_node_t *nd = &w->nodes[i];
    if (u->role == FLURM_RAFT_LEADER && nd->role != FLURM_RAFT_LEADER) {
        uint64_t t = flurm_raft_term(nd->r);
        if (t >= w->lot_cap) {
            size_t nc = w->lot_cap ? w->lot_cap : 64;
            while (nc <= t) nc *= 2;
            w->leader_of_term = xrealloc(w->leader_of_term, nc * sizeof(uint64_t));
            memset(w->leader_of_term + w->lot_cap, 0, (nc - w->lot_cap) * sizeof(uint64_t));
            w->lot_cap = nc;
        }
        if (w->leader_of_term[t] && w->leader_of_term[t] != nd->id)
            world_fail(w, "election safety: nodes %llu and %llu both lead term %llu",
                       (unsigned long long)w->leader_of_term[t], (unsigned long long)nd->id, (unsigned long long)t);
        w->leader_of_term[t] = nd->id;
        w->stats_elections++;
        if (w->verbose) printf("  t=%llu node %u leads term %llu\n", (unsigned long long)w->now, i + 1, (unsigned long long)t);
        nd->role = u->role;
        /* commit.c: only its no-op proves what is committed; it serves once it applied it */
        nd->ready = false;
        nd->ready_index = flurm_raft_last_index(nd->r);
        if (nd->ready_index < nd->applied) nd->ready_index = nd->applied;
        leader_completeness(w, i);
        nd->checked_commit = u->commit;   /* learned from earlier leaders, not counted by this one */
        check_decider(w, i, "elected");
        flurm_raft_snapshot_meta_t c;
        members_of(w, i, &c);
        if (!conf_has_voter(&c, nd->id) && flurm_raft_config_index(nd->r) <= u->commit)   /* (while its removal is uncommitted it may lead) */
            world_fail(w, "membership: node %u leads term %llu but is no voter of its committed configuration", i + 1,
                       (unsigned long long)t);
    }
    if (u->role != FLURM_RAFT_LEADER) nd->ready = false;
    {   /* config_changed says so whenever the configuration in force changed */
        flurm_raft_snapshot_meta_t m;
        uint64_t h = members_of(w, i, &m);
        if (h != nd->members_hash && !u->config_changed)
            world_fail(w, "membership: node %u's configuration changed without config_changed", i + 1);
        nd->members_hash = h;
    }
    /* Counted commits: by a leader, or by one that stepped down in this step on its own (a
     * leader removing itself steps down when its removal commits). */
    bool counted = u->role == FLURM_RAFT_LEADER ||
                   (nd->role == FLURM_RAFT_LEADER && flurm_raft_term(nd->r) == nd->term);
    nd->role = u->role;
    nd->term = flurm_raft_term(nd->r);
    if (counted && u->commit > w->max_commit_seen) w->max_commit_seen = u->commit;
    if (counted && u->commit > nd->checked_commit) {
        nd->checked_commit = u->commit;
        check_commit_durable(w, i, u->commit, nd->term);
        check_decider(w, i, "committing");
        if (u->commit > w->committed_conf_at) {   /* the configuration committed with it */
            flurm_raft_snapshot_meta_t cc;
            flurm_err_t rc = FLURM_OK;
            if (flurm_raft_config_index(nd->r) <= u->commit) members_of(w, i, &cc);   /* in force is committed */
            else rc = flurm_raft_config_at(nd->r, u->commit, &cc);                   /* one pending after it */
            if (rc == FLURM_OK) {
                uint32_t dm, dv;
                conf_diff(&w->committed_conf, &cc, &dm, &dv);
                if (dm || dv) {
                    check_conf_step(w, "committed", &w->committed_conf, &cc);
                    w->committed_conf = cc;
                    w->stats_conf_commits++;
                }
            }
            w->committed_conf_at = u->commit;
        }
    }
    if (u->role == FLURM_RAFT_LEADER) {
        flurm_raft_snapshot_meta_t c;
        members_of(w, i, &c);
        if (!conf_has_voter(&c, nd->id) && flurm_raft_config_index(nd->r) <= u->commit)
            world_fail(w, "membership: node %u still leads term %llu after its removal committed", i + 1,
                       (unsigned long long)nd->term);
    }

    /* Host contract 1a: restore the state machine from a received snapshot. */
    if (u->snapshot) {
        if (!sm_restore(w, i, u->snapshot_data, u->snapshot_len)) return;
        w->stats_installs++;
        nd->applied = u->snapshot->index;
        nd->installed = nd->applied;
        nd->last_snap_applied = nd->applied;
        const w_applied_t *a = nd->applied < w->applied_cap && w->applied[nd->applied].set ? &w->applied[nd->applied] : NULL;
        if (!flurm_mode(w)) {
            if (a && (a->hash != nd->hash || a->count != nd->count))
                world_fail(w, "node %u installed a snapshot at %llu that differs from the applied state", i + 1,
                           (unsigned long long)nd->applied);
        } else {
            /* The restored state snapshots to the very bytes it came from, and to the state
             * every replica had after that index. */
            uint64_t dg = sm_digest(w, i);
            if (dg != hash_bytes(u->snapshot_data, u->snapshot_len))
                world_fail(w, "node %u: state restored from the snapshot at %llu does not snapshot to the same bytes",
                           i + 1, (unsigned long long)nd->applied);
            else if (a && a->digest && a->digest != dg)
                state_differs(w, "node %u installed a snapshot at %llu that differs from the applied state", i + 1,
                              (unsigned long long)nd->applied);
            /* commit.c: proposals the snapshot covers have an unknown outcome... they stay
             * waiting and resolve at the next apply (index <= applied). */
        }
    }
    for (size_t k = 0; k < u->n_committed && !w->failed[0]; k++) apply_entry(w, i, &u->committed[k]);
    if (flurm_mode(w) && u->n_committed && !w->failed[0] && w->host_schedule)
        flurm_state_schedule_changed(nd->st, (time_t)world_wall(w, i));
    if (nd->role == FLURM_RAFT_LEADER && nd->applied >= nd->ready_index) nd->ready = true;

    bool persist = u->hard_state_changed || u->snapshot || u->truncate_from || u->n_entries;
    if (!persist && !u->n_msgs) return;
    w_write_t *wr = xmalloc(sizeof *wr);
    wr->hs = u->hard_state_changed;
    wr->term = u->term;
    wr->vote = u->voted_for;
    if (u->snapshot) {
        wr->snap = true;
        wr->snap_meta = *u->snapshot;
        wr->snap_data = xmemdup(u->snapshot_data, u->snapshot_len);
        wr->snap_len = u->snapshot_len;
    }
    wr->trunc = u->truncate_from;
    if (u->n_entries) {
        wr->ents = xmalloc(u->n_entries * sizeof *wr->ents);
        for (size_t k = 0; k < u->n_entries; k++) {
            const flurm_raft_entry_t *e = &u->entries[k];
            wr->ents[k] = (w_entry_t){ .index = e->index, .term = e->term, .type = e->type, .len = e->len,
                                       .data = xmemdup(e->data, e->len) };
        }
        wr->n_ents = u->n_entries;
    }
    if (u->n_msgs) {
        wr->mcopies = xmalloc(u->n_msgs * sizeof *wr->mcopies);
        for (size_t k = 0; k < u->n_msgs; k++) {
            w_msg_t *c = msg_copy(&u->msgs[k]);
            if (c->m.type == FLURM_RAFT_MSG_SNAPSHOT) {
                /* Host contract 3: attach the data of our snapshot. */
                if (nd->d_snap.index < c->m.snapshot.index)
                    world_fail(w, "node %u asked to send snapshot %llu but has %llu", i + 1,
                               (unsigned long long)c->m.snapshot.index, (unsigned long long)nd->d_snap.index);
                else if (nd->d_snap.index == c->m.snapshot.index &&
                         (!same_conf(&nd->d_snap, &c->m.snapshot) || nd->d_snap.n_voters != c->m.snapshot.n_voters))
                    world_fail(w, "node %u: the core's snapshot metadata at %llu has another configuration than "
                               "flurm_raft_config_at() gave for it", i + 1, (unsigned long long)c->m.snapshot.index);
                c->m.snapshot = nd->d_snap;
                free(c->blob);
                c->blob = xmemdup(nd->d_snap_data, nd->d_snap_len);
                c->m.data = c->blob;
                c->m.len = nd->d_snap_len;
            }
            if (w->filter && w->filter(w->filter_arg, &c->m)) { msg_free(c); c = NULL; }
            if (c) wr->mcopies[wr->n_msgs++] = c;
        }
    }
    if (!persist && !nd->wq_head) {   /* nothing to wait for: send now */
        for (size_t k = 0; k < wr->n_msgs; k++) net_send(w, i, wr->mcopies[k]);
        wr->n_msgs = 0;
        write_free(wr);
        return;
    }
    wr->done_at = w->now + (persist ? rnd_range(w, w->disk_min, w->disk_max) : 0);
    if (nd->wq_tail && wr->done_at < nd->wq_tail->done_at) wr->done_at = nd->wq_tail->done_at;
    if (nd->wq_tail) nd->wq_tail->next = wr;
    else nd->wq_head = wr;
    nd->wq_tail = wr;
}

static void maybe_snapshot(world_t *w, uint32_t i)
{
    w_node_t *nd = &w->nodes[i];
    if (!w->snapshot_every || nd->applied < nd->last_snap_applied + w->snapshot_every) return;
    if (nd->applied <= nd->d_snap.index) return;
    for (const w_write_t *wr = nd->wq_head; wr; wr = wr->next)
        if (wr->snap) return;   /* an installed snapshot is still being written */
    /* The host writes the snapshot (synchronously here), then drops the covered log. */
    uint64_t idx = nd->applied;
    const flurm_raft_entry_t *e = flurm_raft_entry(nd->r, idx);
    if (!e) return;
    uint64_t off = idx - nd->d_snap.index;   /* entries to drop from d_log */
    if (off > nd->d_len) return;             /* not durable yet: try later */
    flurm_buf_t snap;
    flurm_buf_init(&snap);
    sm_snapshot(w, i, &snap);
    if (w->failed[0]) { flurm_buf_release(&snap); return; }
    for (size_t k = 0; k < off; k++) entry_release(&nd->d_log[k]);
    memmove(nd->d_log, nd->d_log + off, (nd->d_len - off) * sizeof *nd->d_log);
    nd->d_len -= off;
    flurm_raft_snapshot_meta_t meta;   /* the configuration at IDX, as the core knows it */
    if (flurm_raft_config_at(nd->r, idx, &meta) != FLURM_OK) {
        world_fail(w, "node %u: no configuration at its applied index %llu", i + 1, (unsigned long long)idx);
        flurm_buf_release(&snap);
        return;
    }
    nd->d_snap = meta;
    nd->d_snap.term = e->term;
    free(nd->d_snap_data);
    nd->d_snap_data = snap.data;   /* owned: taken over from the buffer */
    nd->d_snap_len = snap.size;
    nd->last_snap_applied = idx;
    node_step(w, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = local_now(w, i), .index = idx });
}

static void node_step(world_t *w, uint32_t i, const flurm_raft_event_t *ev)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive || w->failed[0]) return;
    flurm_raft_update_t u;
    /* SIM_TRACE=ID [SIM_TRACE_FROM=MS]: print the messages node ID receives and sends. */
    static int trace = -1;
    static uint64_t trace_from;
    if (trace < 0) {
        trace = getenv("SIM_TRACE") ? atoi(getenv("SIM_TRACE")) : 0;
        trace_from = getenv("SIM_TRACE_FROM") ? strtoull(getenv("SIM_TRACE_FROM"), NULL, 10) : 0;
    }
    if (trace && ev->kind == FLURM_RAFT_RECEIVE && (ev->msg->from == (uint64_t)trace || ev->msg->to == (uint64_t)trace) &&
        w->now >= trace_from)
        printf("  t=%llu %llu->%llu type %u term %llu flags %x log %llu/%llu commit %llu n %zu match %llu rej %llu ct %llu ci %llu\n",
               (unsigned long long)w->now, (unsigned long long)ev->msg->from, (unsigned long long)ev->msg->to, ev->msg->type,
               (unsigned long long)ev->msg->term, ev->msg->flags, (unsigned long long)ev->msg->log_index,
               (unsigned long long)ev->msg->log_term, (unsigned long long)ev->msg->commit, ev->msg->n_entries,
               (unsigned long long)ev->msg->match, (unsigned long long)ev->msg->reject_index,
               (unsigned long long)ev->msg->conflict_term, (unsigned long long)ev->msg->conflict_index);
    flurm_err_t rc = flurm_raft_step(nd->r, ev, &u);
    if (rc != FLURM_OK && !(ev->kind == FLURM_RAFT_PROPOSE && rc == FLURM_EAGAIN))
        world_fail(w, "node %u: step kind %u failed: %s", i + 1, ev->kind, flurm_strerror(rc));
    handle_update(w, i, &u);
    if (u.n_committed) maybe_snapshot(w, i);
}

static void node_start(world_t *w, uint32_t i)
{
    w_node_t *nd = &w->nodes[i];
    flurm_raft_entry_t *ents = nd->d_len ? xmalloc(nd->d_len * sizeof *ents) : NULL;
    for (size_t k = 0; k < nd->d_len; k++)
        ents[k] = (flurm_raft_entry_t){ .index = nd->d_log[k].index, .term = nd->d_log[k].term, .type = nd->d_log[k].type,
                                        .len = nd->d_log[k].len, .data = nd->d_log[k].data };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = nd->d_term, .voted_for = nd->d_vote, .snapshot = nd->d_snap,
                                 .entries = ents, .n_entries = nd->d_len };
    flurm_raft_config_t c = w->cfg;
    c.id = nd->id;
    c.seed = w->seed * 1000003u + nd->incarnation;
    flurm_err_t err;
    nd->r = flurm_raft_new(&c, &p, &err);
    free(ents);
    if (!nd->r) { world_fail(w, "node %u: flurm_raft_new: %s", i + 1, flurm_strerror(err)); return; }
    nd->alive = true;
    nd->checked_commit = 0;
    flurm_raft_snapshot_meta_t m0;
    nd->members_hash = members_of(w, i, &m0);
    nd->applied = nd->d_snap.index;
    nd->last_snap_applied = nd->applied;
    nd->hash = nd->count = 0;
    nd->ready = false;
    nd->reserved_job_id = 0;
    nd->n_waits = 0;
    if (flurm_mode(w)) {
        flurm_state_free(nd->st);
        nd->st = flurm_state_new(w->conf);
        if (!nd->st) { world_fail(w, "node %u: flurm_state_new failed", i + 1); return; }
    }
    if (nd->d_snap_len) {
        /* The state comes back from the snapshot on disk; the core re-delivers the log after it. */
        if (!sm_restore(w, i, nd->d_snap_data, nd->d_snap_len)) return;
        if (flurm_mode(w)) {
            const w_applied_t *a = nd->applied < w->applied_cap ? &w->applied[nd->applied] : NULL;
            uint64_t dg = sm_digest(w, i);
            if (dg != hash_bytes(nd->d_snap_data, nd->d_snap_len))
                world_fail(w, "node %u: restart from its snapshot at %llu restores a different state", i + 1,
                           (unsigned long long)nd->applied);
            else if (a && a->set && a->digest && a->digest != dg)
                state_differs(w, "node %u: its snapshot at %llu differs from the state recorded there", i + 1,
                              (unsigned long long)nd->applied);
        }
    }
    nd->role = FLURM_RAFT_FOLLOWER;
    nd->next_tick = w->now + rnd_range(w, 0, 9);
}

int world_init_flurm(world_t *w, uint32_t n, uint64_t seed, const flurm_conf_t *conf)
{
    if (world_init(w, n, seed)) return -1;
    w->conf = conf;
    w->digest_every = 1;
    return 0;
}

int64_t world_wall(const world_t *w, uint32_t i)
{
    /* 2023-11-14 22:13:20 UTC plus the node's clocks */
    return 1700000000 + ((int64_t)(w->now + w->nodes[i].clock_off) + w->nodes[i].wall_off) / 1000;
}

int world_init(world_t *w, uint32_t n, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    if (n == 0 || n > W_MAX) return -1;
    w->seed = seed;
    w->rng = seed * 0x2545f4914f6cdd1dull + 1;
    w->n = n;
    w->delay_min = 1;
    w->delay_max = 10;
    w->disk_min = 1;
    w->disk_max = 4;
    static uint64_t ids[W_MAX] = { 1, 2, 3, 4, 5 };
    w->boot_voters = n;
    w->committed_conf = (flurm_raft_snapshot_meta_t){ .n_voters = n };
    memcpy(w->committed_conf.voters, ids, n * sizeof ids[0]);
    w->applied_conf = w->committed_conf;
    w->cfg = (flurm_raft_config_t){ .size = sizeof w->cfg, .n_voters = n, .voters = ids, .pre_vote = 1,
                                    .election_timeout_min_ms = 300, .election_timeout_max_ms = 600, .heartbeat_ms = 50,
                                    .max_entries_per_msg = 16, .max_inflight_msgs = 4, .trailing_entries = 20 };
    if (seed & 1) {   /* odd seeds: flurmctld's pipeline (one append in flight, commits told lazily) */
        w->cfg.max_inflight_msgs = 1;
        w->cfg.flags = FLURM_RAFT_CONFIG_LAZY_COMMIT;
    }
    w->snapshot_every = 0;
    for (uint32_t i = 0; i < n; i++) {
        w->nodes[i].id = i + 1;
        w->nodes[i].d_snap.n_voters = 0;
    }
    return 0;
}

int world_init_members(world_t *w, uint32_t n, uint32_t voters, uint64_t seed)
{
    if (voters == 0 || voters > n || world_init(w, n, seed)) return -1;
    w->boot_voters = voters;
    w->cfg.n_voters = voters;
    w->committed_conf.n_voters = voters;
    memset(w->committed_conf.voters + voters, 0, (W_MAX - voters) * sizeof w->committed_conf.voters[0]);
    w->applied_conf = w->committed_conf;
    return 0;
}

flurm_err_t world_change(world_t *w, uint32_t i, uint32_t kind, uint64_t target)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive || w->failed[0]) return FLURM_EAGAIN;
    flurm_raft_update_t u;
    flurm_raft_event_t ev = { .kind = FLURM_RAFT_CHANGE, .now_ms = local_now(w, i), .change = kind, .target = target };
    flurm_err_t rc = flurm_raft_step(nd->r, &ev, &u);
    if (rc == FLURM_OK) {
        if (!u.config_changed || u.first_index != flurm_raft_last_index(nd->r) ||
            flurm_raft_entry(nd->r, u.first_index)->type != FLURM_RAFT_ENTRY_CONFIG)
            world_fail(w, "node %u: change accepted without its CONFIG entry", i + 1);
        w->stats_changes[kind == FLURM_RAFT_REMOVE && target == nd->id ? 3 : kind - 1]++;
        if (w->verbose)
            printf("  t=%llu node %u: change %u of %llu at %llu\n", (unsigned long long)w->now, i + 1, kind,
                   (unsigned long long)target, (unsigned long long)u.first_index);
    }
    handle_update(w, i, &u);
    return rc;
}

/* 2: a voter, 1: a learner of the current leader's configuration; 0: neither, or no leader. */
static int member_kind(const world_t *w, uint32_t i)
{
    int l = world_leader(w);
    if (l < 0) return 0;
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(w->nodes[l].r, ms, FLURM_RAFT_MAX_MEMBERS);
    for (size_t k = 0; k < n; k++)
        if (ms[k].id == w->nodes[i].id) return ms[k].flags & FLURM_RAFT_MEMBER_VOTER ? 2 : 1;
    return 0;
}

bool world_is_member(const world_t *w, uint32_t i) { return member_kind(w, i) != 0; }

static void world_start_all(world_t *w)
{
    if (w->started) return;
    w->started = true;
    for (uint32_t i = 0; i < w->n; i++) node_start(w, i);
}

void world_free(world_t *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        w_node_t *nd = &w->nodes[i];
        flurm_raft_free(nd->r);
        for (w_write_t *wr = nd->wq_head, *nx; wr; wr = nx) {
            nx = wr->next;
            write_free(wr);
        }
        disk_cut(nd, 0);
        free(nd->d_log);
        free(nd->d_snap_data);
        flurm_state_free(nd->st);
        free(nd->waits);
    }
    while (w->heap_len) msg_free(heap_pop(w));
    free(w->heap);
    free(w->leader_of_term);
    free(w->applied);
    free(w->props);
    free(w->cmd_at);
    free(w->purged);
    flurm_buf_release(&g_snapbuf);
}

void world_crash(world_t *w, uint32_t i)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive) return;
    flurm_raft_free(nd->r);
    nd->r = NULL;
    nd->alive = false;
    w->stats_crashes++;
    nd->incarnation++;
    for (w_write_t *wr = nd->wq_head, *nx; wr; wr = nx) {   /* lost: never reached the disk */
        nx = wr->next;
        write_free(wr);
    }
    nd->wq_head = nd->wq_tail = NULL;
    nd->role = FLURM_RAFT_FOLLOWER;
    nd->ready = false;
    nd->n_waits = 0;           /* the requesters lost their connection: outcome unknown */
    flurm_state_free(nd->st);  /* memory is gone; the disk keeps what was synced */
    nd->st = NULL;
}

void world_restart(world_t *w, uint32_t i)
{
    if (w->nodes[i].alive) return;
    w->nodes[i].restart_at = 0;
    node_start(w, i);
}

void world_block(world_t *w, uint32_t a, uint32_t b, bool blocked)
{
    w->blocked[a][b] = w->blocked[b][a] = blocked;
}

void world_isolate(world_t *w, uint32_t i, bool blocked)
{
    for (uint32_t j = 0; j < w->n; j++)
        if (j != i) world_block(w, i, j, blocked);
}

void world_heal(world_t *w) { memset(w->blocked, 0, sizeof w->blocked); }

void world_force_campaign(world_t *w, uint32_t i)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive) return;
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = nd->id % w->n + 1, .to = nd->id,
                           .term = flurm_raft_term(nd->r) };
    node_step(w, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = local_now(w, i), .msg = &m });
}

uint64_t world_propose(world_t *w, uint32_t i, uint32_t count)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive || count == 0 || count > 64 || w->failed[0]) return 0;
    uint64_t cmds[64];
    const void *ptrs[64];
    uint32_t lens[64];
    uint64_t first = w->n_props + 1;
    for (uint32_t k = 0; k < count; k++) {
        cmds[k] = first + k;
        ptrs[k] = &cmds[k];
        lens[k] = 8;
    }
    flurm_raft_update_t u;
    flurm_raft_event_t ev = { .kind = FLURM_RAFT_PROPOSE, .now_ms = local_now(w, i), .commands = ptrs, .lens = lens,
                              .n_commands = count };
    flurm_err_t rc = flurm_raft_step(nd->r, &ev, &u);
    if (rc == FLURM_EAGAIN) {
        handle_update(w, i, &u);
        return 0;
    }
    if (rc != FLURM_OK) { world_fail(w, "node %u: propose: %s", i + 1, flurm_strerror(rc)); return 0; }
    if (w->n_props + count > w->props_cap) {
        size_t nc = w->props_cap ? w->props_cap * 2 : 1024;
        while (nc < w->n_props + count) nc *= 2;
        w->props = xrealloc(w->props, nc * sizeof *w->props);
        size_t old = w->props_cap ? w->props_cap + 1 : 0;
        w->cmd_at = xrealloc(w->cmd_at, (nc + 1) * sizeof *w->cmd_at);
        memset(w->cmd_at + old, 0, (nc + 1 - old) * sizeof *w->cmd_at);
        w->props_cap = nc;
    }
    for (uint32_t k = 0; k < count; k++)
        w->props[w->n_props + k] = (w_prop_t){ .index = u.first_index + k, .term = u.proposed_term, .node = i,
                                               .incarnation = nd->incarnation };
    w->n_props += count;
    handle_update(w, i, &u);
    return first;
}

uint64_t world_propose_bytes(world_t *w, uint32_t i, size_t n, const void *const *cmds, const uint32_t *lens,
                             const uint16_t *kinds, const uint32_t *reserved)
{
    w_node_t *nd = &w->nodes[i];
    if (!nd->alive || n == 0 || w->failed[0]) return 0;
    flurm_raft_update_t u;
    flurm_raft_event_t ev = { .kind = FLURM_RAFT_PROPOSE, .now_ms = local_now(w, i), .commands = cmds, .lens = lens,
                              .n_commands = n };
    flurm_err_t rc = flurm_raft_step(nd->r, &ev, &u);
    if (rc == FLURM_EAGAIN) {
        handle_update(w, i, &u);
        return 0;
    }
    if (rc != FLURM_OK) { world_fail(w, "node %u: propose: %s", i + 1, flurm_strerror(rc)); return 0; }
    if (w->n_props + n > w->props_cap) {
        size_t nc = w->props_cap ? w->props_cap * 2 : 1024;
        while (nc < w->n_props + n) nc *= 2;
        w->props = xrealloc(w->props, nc * sizeof *w->props);
        size_t old = w->props_cap ? w->props_cap + 1 : 0;
        w->cmd_at = xrealloc(w->cmd_at, (nc + 1) * sizeof *w->cmd_at);
        memset(w->cmd_at + old, 0, (nc + 1 - old) * sizeof *w->cmd_at);
        w->props_cap = nc;
    }
    if (nd->n_waits + n > nd->cap_waits) {
        nd->cap_waits = (nd->n_waits + n) * 2;
        nd->waits = xrealloc(nd->waits, nd->cap_waits * sizeof *nd->waits);
    }
    uint64_t first = w->n_props + 1;
    for (size_t k = 0; k < n; k++) {
        w->props[w->n_props + k] = (w_prop_t){ .index = u.first_index + k, .term = u.proposed_term, .node = i,
                                               .incarnation = nd->incarnation, .kind = kinds ? kinds[k] : 0,
                                               .reserved_id = reserved ? reserved[k] : 0 };
        nd->waits[nd->n_waits++] = first + k;
    }
    w->n_props += n;
    handle_update(w, i, &u);
    return first;
}

int world_leader(const world_t *w)
{
    int best = -1;
    for (uint32_t i = 0; i < w->n; i++) {
        const w_node_t *nd = &w->nodes[i];
        if (nd->alive && flurm_raft_role(nd->r) == FLURM_RAFT_LEADER &&
            (best < 0 || flurm_raft_term(nd->r) > flurm_raft_term(w->nodes[best].r)))
            best = (int)i;
    }
    return best;
}

static void world_tick_once(world_t *w)
{
    world_start_all(w);
    while (w->heap_len && w->heap[0]->at <= w->now && !w->failed[0]) {
        w_msg_t *c = heap_pop(w);
        uint32_t to = c->to, from = node_of(w, c->m.from);
        if (from < w->n && !w->blocked[from][to] && w->nodes[to].alive)
            node_step(w, to, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = local_now(w, to), .msg = &c->m });
        msg_free(c);
    }
    for (uint32_t i = 0; i < w->n && !w->failed[0]; i++) {
        w_node_t *nd = &w->nodes[i];
        if (!nd->alive) {
            if (nd->restart_at && w->now >= nd->restart_at) world_restart(w, i);
            continue;
        }
        while (nd->wq_head && nd->wq_head->done_at <= w->now && nd->alive && !w->failed[0]) {
            w_write_t *wr = nd->wq_head;
            nd->wq_head = wr->next;
            if (!nd->wq_head) nd->wq_tail = NULL;
            write_complete(w, i, wr);
        }
        if (nd->alive && w->now >= nd->next_tick) {
            nd->next_tick = w->now + 10;
            node_step(w, i, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = local_now(w, i) });
        }
    }
}

void world_run(world_t *w, uint64_t ms)
{
    for (uint64_t k = 0; k < ms && !w->failed[0]; k++) {
        world_tick_once(w);
        w->now++;
    }
}

bool world_run_until(world_t *w, bool (*pred)(world_t *, void *), void *arg, uint64_t timeout_ms)
{
    for (uint64_t k = 0; k < timeout_ms && !w->failed[0]; k++) {
        if (pred(w, arg)) return true;
        world_tick_once(w);
        w->now++;
    }
    return pred(w, arg);
}

void world_check_logs(world_t *w)
{
    /* The configuration in force is the one the log (and snapshot) says. */
    for (uint32_t a = 0; a < w->n; a++) {
        if (!w->nodes[a].alive) continue;
        flurm_raft_snapshot_meta_t in_force, from_log;
        members_of(w, a, &in_force);
        if (flurm_raft_config_at(w->nodes[a].r, flurm_raft_last_index(w->nodes[a].r), &from_log) != FLURM_OK ||
            !same_conf(&in_force, &from_log) || in_force.n_voters != from_log.n_voters) {
            char x[128], y[128];
            conf_str(&in_force, x, sizeof x);
            conf_str(&from_log, y, sizeof y);
            world_fail(w, "membership: node %u's configuration in force %s is not its log's %s", a + 1, x, y);
            return;
        }
    }
    for (uint32_t a = 0; a < w->n; a++) {
        for (uint32_t b = a + 1; b < w->n; b++) {
            if (!w->nodes[a].alive || !w->nodes[b].alive) continue;
            flurm_raft_t *ra = w->nodes[a].r, *rb = w->nodes[b].r;
            uint64_t lo = flurm_raft_first_index(ra), hi = flurm_raft_last_index(ra);
            if (flurm_raft_first_index(rb) > lo) lo = flurm_raft_first_index(rb);
            if (flurm_raft_last_index(rb) < hi) hi = flurm_raft_last_index(rb);
            bool matched = false;
            for (uint64_t k = hi; k >= lo && k > 0; k--) {
                const flurm_raft_entry_t *x = flurm_raft_entry(ra, k), *y = flurm_raft_entry(rb, k);
                if (!matched && x->term == y->term) matched = true;
                if (matched && (x->term != y->term || x->type != y->type || x->len != y->len ||
                                (x->len && memcmp(x->data, y->data, x->len)))) {
                    world_fail(w, "log matching: nodes %u and %u differ at %llu below a common entry", a + 1, b + 1,
                               (unsigned long long)k);
                    return;
                }
            }
        }
    }
}

struct settle_arg { uint64_t cmd; int kind; };

/* The command applied by every voter (KIND 2) or every member (KIND 1) of the leader's
 * configuration. */
static bool settled(world_t *w, void *arg)
{
    struct settle_arg *s = arg;
    const w_prop_t *p = &w->props[s->cmd - 1];
    if (!p->acked || world_leader(w) < 0) return false;   /* (membership is the leader's) */
    for (uint32_t i = 0; i < w->n; i++)
        if (w->nodes[i].alive && member_kind(w, i) >= s->kind && w->nodes[i].applied < p->index) return false;
    return true;
}

void world_settle_and_check(world_t *w, uint64_t limit_ms)
{
    if (w->failed[0]) return;
    world_heal(w);
    w->loss_pct = 0;
    w->dup_pct = 0;
    for (uint32_t i = 0; i < w->n; i++) world_restart(w, i);
    /* Propose through whoever leads; a proposal to a leader that is about to be deposed has an
     * unknown outcome, so try again with a new command until one is acknowledged. */
    uint64_t start = w->now, cmd = 0;
    while (w->now - start < limit_ms && !w->failed[0]) {
        int l = world_leader(w);
        uint64_t c = l < 0 ? 0 : w->propose_one ? w->propose_one(w, (uint32_t)l) : world_propose(w, (uint32_t)l, 1);
        if (!c) { world_run(w, 1); continue; }
        uint64_t until = w->now + 2000;
        while (w->now < until && !w->props[c - 1].acked && !w->failed[0]) world_run(w, 1);
        if (w->props[c - 1].acked) { cmd = c; break; }
    }
    if (w->failed[0]) return;
    if (!cmd) { world_fail(w, "liveness: no proposal acknowledged within %llu ms of healing", (unsigned long long)limit_ms); return; }
    struct settle_arg s = { cmd, 2 };
    uint64_t left = limit_ms > w->now - start ? limit_ms - (w->now - start) : 1;
    bool ok = world_run_until(w, settled, &s, left);
    if (ok) {   /* a learner added late may have the whole log to fetch (without snapshots): more time */
        s.kind = 1;
        ok = world_run_until(w, settled, &s, 60000);
    }
    if (!ok) {
        if (!w->failed[0]) {
            for (uint32_t i = 0; i < w->n; i++) {
                w_node_t *nd = &w->nodes[i];
                if (!nd->alive) continue;
                printf("  node %u %s term %llu leader %llu commit %llu applied %llu/%llu first %llu last %llu snap %llu\n", i + 1,
                       flurm_raft_role_str(flurm_raft_role(nd->r)), (unsigned long long)flurm_raft_term(nd->r),
                       (unsigned long long)flurm_raft_leader(nd->r), (unsigned long long)flurm_raft_commit_index(nd->r),
                       (unsigned long long)flurm_raft_applied_index(nd->r), (unsigned long long)nd->applied,
                       (unsigned long long)flurm_raft_first_index(nd->r), (unsigned long long)flurm_raft_last_index(nd->r),
                       (unsigned long long)flurm_raft_snapshot_index(nd->r));
                flurm_raft_member_status_t ms[W_MAX];
                size_t k = flurm_raft_members(nd->r, ms, W_MAX);
                for (size_t j = 0; j < k && flurm_raft_role(nd->r) == FLURM_RAFT_LEADER; j++)
                    printf("    member %llu match %llu next %llu state %u contact %llu\n", (unsigned long long)ms[j].id,
                           (unsigned long long)ms[j].match_index, (unsigned long long)ms[j].next_index, ms[j].state,
                           (unsigned long long)ms[j].last_contact_ms);
            }
            world_fail(w, "liveness: command %llu not committed and applied everywhere within %llu ms of healing",
                       (unsigned long long)cmd, (unsigned long long)limit_ms);
        }
        return;
    }
    world_check_logs(w);
    if (flurm_mode(w)) {
        world_check_flurm_final(w);
        return;
    }
    /* Every acknowledged command is applied, once, at its index, by every live replica. */
    uint64_t top = w->props[cmd - 1].index;
    for (size_t k = 0; k < w->n_props && !w->failed[0]; k++) {
        const w_prop_t *p = &w->props[k];
        if (!p->acked) continue;
        if (w->cmd_at[k + 1] != p->index) {
            world_fail(w, "acknowledged command %zu (index %llu) lost", k + 1, (unsigned long long)p->index);
            return;
        }
    }
    for (uint32_t i = 0; i < w->n; i++) {
        w_node_t *nd = &w->nodes[i];
        const w_applied_t *a = &w->applied[nd->applied];
        bool member = world_is_member(w, i);
        if ((member && nd->applied < top) || (nd->applied && (!a->set || a->hash != nd->hash || a->count != nd->count)))
            world_fail(w, "node %u: state at %llu differs after settling", i + 1, (unsigned long long)nd->applied);
    }
}

void world_check_flurm_final(world_t *w)
{
    if (w->failed[0]) return;
    /* Every acknowledged proposal is in the log at its (index, term), the same command on every
     * replica; commit.c's FIFO never told a requester that a committed proposal failed. */
    for (size_t k = 0; k < w->n_props; k++) {
        const w_prop_t *p = &w->props[k];
        const w_applied_t *a = p->index < w->applied_cap ? &w->applied[p->index] : NULL;
        bool committed = a && a->set && a->term == p->term;
        if (p->acked && !committed) {
            world_fail(w, "acknowledged proposal %zu (kind 0x%x, index %llu term %llu) lost", k + 1, p->kind,
                       (unsigned long long)p->index, (unsigned long long)p->term);
            return;
        }
        if (p->fifo_failed && committed) {
            w->stats_fifo_misreports++;
            if (w->verbose)
                printf("  commit.c FIFO: proposal %zu of node %u (index %llu term %llu, kind 0x%x) committed, but its"
                       " requester was told it failed when entry %llu (term %llu) was applied (after installing snapshot %llu)\n",
                       k + 1, p->node + 1, (unsigned long long)p->index, (unsigned long long)p->term, p->kind,
                       (unsigned long long)p->fifo_at, (unsigned long long)p->fifo_at_term,
                       (unsigned long long)p->fifo_snap);
        }
    }
    /* Byte-identical snapshots of replicas at the same index, equal to what was recorded. */
    flurm_buf_t snaps[W_MAX];
    for (uint32_t i = 0; i < w->n; i++) {
        flurm_buf_init(&snaps[i]);
        if (w->nodes[i].alive) sm_snapshot(w, i, &snaps[i]);
    }
    for (uint32_t i = 0; i < w->n && !w->failed[0]; i++) {
        w_node_t *nd = &w->nodes[i];
        if (!nd->alive) continue;
        const w_applied_t *a = &w->applied[nd->applied];
        if (a->set && a->digest && a->digest != hash_bytes(snaps[i].data, snaps[i].size))
            state_differs(w, "node %u: final state at %llu differs from the one recorded there", i + 1,
                          (unsigned long long)nd->applied);
        for (uint32_t j = 0; j < i && !w->failed[0]; j++) {
            if (!w->nodes[j].alive || w->nodes[j].applied != nd->applied) continue;
            if (snaps[i].size != snaps[j].size || memcmp(snaps[i].data, snaps[j].data, snaps[i].size)) {
                size_t off = 0;
                while (off < snaps[i].size && off < snaps[j].size && snaps[i].data[off] == snaps[j].data[off]) off++;
                state_differs(w, "state machine safety: nodes %u and %u at %llu have snapshots of %zu and %zu bytes, first difference at byte %zu",
                           j + 1, i + 1, (unsigned long long)nd->applied, snaps[j].size, snaps[i].size, off);
            }
        }
    }
    for (uint32_t i = 0; i < w->n; i++) flurm_buf_release(&snaps[i]);
    /* No acknowledged submission lost: its job is in every replica that applied past it (unless
     * a committed PURGE removed it), under the id its proposer was told. */
    for (size_t k = 0; k < w->n_props && !w->failed[0]; k++) {
        const w_prop_t *p = &w->props[k];
        if (!p->acked || !p->job_id) continue;
        if (w->applied[p->index].job_id != p->job_id) {
            world_fail(w, "submission %zu was told job %u, the log's apply gave %u", k + 1, p->job_id,
                       w->applied[p->index].job_id);
            return;
        }
        for (uint32_t i = 0; i < w->n; i++) {
            w_node_t *nd = &w->nodes[i];
            if (!nd->alive || nd->applied < p->index) continue;
            if (!flurm_state_find_job(nd->st, p->job_id) && !(p->job_id < w->purged_cap && w->purged[p->job_id])) {
                world_fail(w, "acknowledged job %u (index %llu) missing from node %u's state", p->job_id,
                           (unsigned long long)p->index, i + 1);
                return;
            }
        }
    }
    /* Job ids: every successful submit in the log got a fresh id, increasing in log order. */
    uint32_t last = 0;
    for (uint64_t k = 1; k <= w->max_applied_seen && !w->failed[0]; k++) {
        const w_applied_t *a = &w->applied[k];
        if (!a->set) continue;
        if (a->kind != FLURM_REQUEST_SUBMIT_BATCH_JOB || a->rc) continue;
        if (a->job_id <= last)
            world_fail(w, "job ids: submit at %llu got %u after %u", (unsigned long long)k, a->job_id, last);
        last = a->job_id;
    }
}
