/* libflurm/raft/raft.c — the Raft core: events in, actions out (include/flurm/raft.h).
 *
 * References for the algorithm: Ongaro's thesis (pre-vote 9.6, check-quorum 6.2, transfer 3.10,
 * Figure 8 / 3.6.2, single-server membership changes 4.1, catch-up 4.2.1) and etcd-io/raft's
 * progress tracking (probe / replicate / snapshot).
 *
 * Configurations: the one in force is kept decoded (conf, and one progress slot per member in
 * pr). It is derived from the log alone: the last CONFIG entry above the snapshot, else the
 * snapshot's. conf_index remembers where it came from, so that a truncation below it (the
 * only way a configuration is undone) re-derives it by scanning the log back; nothing else
 * needs a history. */
#include <flurm/raft.h>

#include <stdlib.h>
#include <string.h>

enum { PR_PROBE = 0, PR_REPLICATE = 1, PR_SNAPSHOT = 2 };
#define MAX_INFLIGHT 64

typedef struct progress {
    uint64_t id;
    bool voter;                   /* else a learner */
    uint64_t match, next;
    uint64_t last_contact;        /* now_ms of the last reply in this term; 0 = none */
    uint64_t last_ack;            /* now_ms when match last advanced (or replication restarted) */
    uint64_t snap_index, snap_sent;
    uint32_t state;
    bool probe_sent;              /* PROBE: one append per heartbeat until a reply */
    bool vote_answered, vote_granted;
    uint32_t inflight;            /* REPLICATE: appends with entries not yet acknowledged */
    uint64_t inflight_last[MAX_INFLIGHT];   /* last index of each, ascending */
} progress_t;

/* A configuration: ids[0 .. n_voters - 1] voters, then n_learners learners. */
typedef struct conf {
    uint32_t n_voters, n_learners;
    uint64_t ids[FLURM_RAFT_MAX_MEMBERS];
} conf_t;

struct flurm_raft {
    flurm_raft_config_t cfg;
    uint64_t id;
    uint64_t rng;
    conf_t conf;                             /* in force: the last CONFIG entry, else snap's */
    uint64_t conf_index;                     /* its entry's index, or snap.index */
    uint32_t n_voters, n_members;            /* conf.n_voters, + conf.n_learners */
    progress_t pr[FLURM_RAFT_MAX_MEMBERS];   /* one per member (conf.ids order), own slot included */
    int self;                                /* own slot in pr, -1 if not a member */

    uint32_t role;
    uint64_t term, vote, leader;
    uint64_t now;
    uint64_t election_deadline, heartbeat_deadline, quorum_deadline;
    uint64_t leader_contact;                 /* follower: last message from the leader */
    uint64_t transfer_target, transfer_deadline;

    /* log: entries first .. first + len - 1; data owned. first <= snap.index + 1. */
    flurm_raft_entry_t *log;
    size_t len, cap;
    uint64_t first;
    flurm_raft_snapshot_meta_t snap;

    uint64_t commit, applied, stable;
    uint64_t persist_next;                   /* first index not yet handed to the host */

    /* per-step output */
    flurm_raft_msg_t *msgs;
    size_t n_msgs, msgs_cap;
    bool hs_dirty;
    uint64_t truncate_from;
    bool snap_install;
    flurm_raft_snapshot_meta_t install_meta;
    void *install_data;
    size_t install_len;
    uint32_t last_role;
    uint64_t last_leader;
    bool oom;
    bool conf_changed;
};

/* ---- helpers ---- */

static uint64_t rnd(flurm_raft_t *r)
{
    uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t last_index(const flurm_raft_t *r) { return r->first + r->len - 1; }

static const flurm_raft_entry_t *entry_at(const flurm_raft_t *r, uint64_t i)
{
    if (i < r->first || i > last_index(r)) return NULL;
    return &r->log[i - r->first];
}

/* Term at I if known (in memory, the snapshot point, or 0). */
static bool term_at(const flurm_raft_t *r, uint64_t i, uint64_t *t)
{
    if (i == 0) { *t = 0; return true; }
    if (i == r->snap.index) { *t = r->snap.term; return true; }
    const flurm_raft_entry_t *e = entry_at(r, i);
    if (!e) return false;
    *t = e->term;
    return true;
}

static uint64_t last_term(const flurm_raft_t *r)
{
    uint64_t t = 0;
    term_at(r, last_index(r), &t);
    return t;
}

static size_t quorum(const flurm_raft_t *r) { return r->n_voters / 2 + 1; }

static bool is_voter(const flurm_raft_t *r) { return r->self >= 0 && r->pr[r->self].voter; }

static progress_t *find_pr(flurm_raft_t *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->n_members; i++)
        if (r->pr[i].id == id) return &r->pr[i];
    return NULL;
}

/* ---- configurations ---- */

#define CONF_VERSION 1
#define CONF_HDR 4

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* Ids nonzero and distinct, 1 <= voters, voters + learners <= max. */
static bool conf_valid(uint32_t nv, uint32_t nl, const uint64_t *ids)
{
    if (nv == 0 || nv > FLURM_RAFT_MAX_MEMBERS || nl > FLURM_RAFT_MAX_MEMBERS - nv || !ids) return false;
    for (uint32_t i = 0; i < nv + nl; i++) {
        if (ids[i] == FLURM_RAFT_NONE) return false;
        for (uint32_t j = 0; j < i; j++)
            if (ids[i] == ids[j]) return false;
    }
    return true;
}

flurm_err_t flurm_raft_config_decode(const void *data, size_t len, flurm_raft_snapshot_meta_t *out)
{
    if (!out || (len && !data) || len < CONF_HDR) return FLURM_EINVAL;
    const uint8_t *b = data;
    uint32_t nv = b[1], nl = b[2];
    if (b[0] != CONF_VERSION || b[3] != 0 || len != CONF_HDR + 8 * (size_t)(nv + nl)) return FLURM_EINVAL;
    if (nv == 0 || nv + nl > FLURM_RAFT_MAX_MEMBERS) return FLURM_EINVAL;
    flurm_raft_snapshot_meta_t m = { .n_voters = nv, .n_learners = nl };
    for (uint32_t i = 0; i < nv + nl; i++) {
        m.voters[i] = get64(b + CONF_HDR + 8 * i);
        /* canonical: each list strictly ascending (so distinct), ids nonzero */
        if (m.voters[i] == FLURM_RAFT_NONE || (i != 0 && i != nv && m.voters[i] <= m.voters[i - 1])) return FLURM_EINVAL;
    }
    if (!conf_valid(nv, nl, m.voters)) return FLURM_EINVAL;   /* an id in both lists */
    *out = m;
    return FLURM_OK;
}

static bool conf_decode(const flurm_raft_entry_t *e, conf_t *c)
{
    flurm_raft_snapshot_meta_t m;
    if (flurm_raft_config_decode(e->data, e->len, &m) != FLURM_OK) return false;
    c->n_voters = m.n_voters;
    c->n_learners = m.n_learners;
    memcpy(c->ids, m.voters, sizeof c->ids);
    return true;
}

static bool entry_valid(const flurm_raft_entry_t *e)
{
    if (e->type > FLURM_RAFT_ENTRY_CONFIG || (e->len && !e->data)) return false;
    conf_t c;
    return e->type != FLURM_RAFT_ENTRY_CONFIG || conf_decode(e, &c);
}

static conf_t snap_conf(const flurm_raft_snapshot_meta_t *s)
{
    conf_t c = { .n_voters = s->n_voters, .n_learners = s->n_learners };
    memcpy(c.ids, s->voters, sizeof c.ids);
    return c;
}

static int cmp_asc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The canonical encoding of C (sorted copy), into BUF of CONF_HDR + 8 * MAX bytes. */
static uint32_t conf_encode(const conf_t *c, uint8_t *buf)
{
    conf_t s = *c;
    qsort(s.ids, s.n_voters, sizeof s.ids[0], cmp_asc);
    qsort(s.ids + s.n_voters, s.n_learners, sizeof s.ids[0], cmp_asc);
    buf[0] = CONF_VERSION;
    buf[1] = (uint8_t)s.n_voters;
    buf[2] = (uint8_t)s.n_learners;
    buf[3] = 0;
    for (uint32_t i = 0; i < s.n_voters + s.n_learners; i++) put64(buf + CONF_HDR + 8 * i, s.ids[i]);
    return CONF_HDR + 8 * (s.n_voters + s.n_learners);
}

/* The configuration in force at I (snap.index <= I <= last): the last CONFIG entry in
 * snap.index + 1 .. I, else the snapshot's. *AT gets its index (snap.index for the snapshot's). */
static conf_t conf_at(const flurm_raft_t *r, uint64_t i, uint64_t *at)
{
    conf_t c;
    for (; i > r->snap.index; i--) {
        const flurm_raft_entry_t *e = entry_at(r, i);
        if (e && e->type == FLURM_RAFT_ENTRY_CONFIG && conf_decode(e, &c)) {
            *at = i;
            return c;
        }
    }
    *at = r->snap.index;
    return snap_conf(&r->snap);
}

static void progress_init(flurm_raft_t *r, progress_t *p, uint64_t id)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->next = last_index(r) + 1;
    p->state = PR_PROBE;
    p->last_contact = r->now;   /* grace period before check-quorum counts it as silent */
    p->last_ack = r->now;
}

/* Puts C in force (from the entry at AT): one progress slot per member, kept for those that
 * were members already (a leader goes on replicating to them where it was). */
static void set_conf(flurm_raft_t *r, const conf_t *c, uint64_t at)
{
    progress_t old[FLURM_RAFT_MAX_MEMBERS];
    uint32_t n_old = r->n_members;
    memcpy(old, r->pr, n_old * sizeof old[0]);
    bool same = r->conf.n_voters == c->n_voters && r->conf.n_learners == c->n_learners &&
                !memcmp(r->conf.ids, c->ids, (c->n_voters + c->n_learners) * sizeof c->ids[0]);
    r->conf = *c;
    r->conf_index = at;
    r->n_voters = c->n_voters;
    r->n_members = c->n_voters + c->n_learners;
    r->self = -1;
    for (uint32_t i = 0; i < r->n_members; i++) {
        progress_t *p = &r->pr[i];
        uint32_t k = 0;
        while (k < n_old && old[k].id != c->ids[i]) k++;
        if (k < n_old) *p = old[k];
        else progress_init(r, p, c->ids[i]);
        p->voter = i < c->n_voters;
        if (c->ids[i] == r->id) r->self = (int)i;
    }
    if (!same) r->conf_changed = true;
}

/* Whether this server may campaign: a voter of the configuration in force; or one it removes
 * while that is not known to be committed (it may be needed to commit it: were it the one
 * holding the most up-to-date log, nobody else could win). It counts the votes of the
 * configuration in force only, as every candidate; as leader it then commits its removal and
 * steps down. */
static bool may_campaign(const flurm_raft_t *r)
{
    if (is_voter(r)) return true;
    if (r->conf_index <= r->commit) return false;
    uint64_t at;
    conf_t prev = conf_at(r, r->conf_index - 1, &at);
    for (uint32_t i = 0; i < prev.n_voters; i++)
        if (prev.ids[i] == r->id) return true;
    return false;
}

/* After the log lost entries >= I: a configuration from there is undone. */
static void conf_truncated(flurm_raft_t *r, uint64_t i)
{
    if (r->conf_index < i) return;
    uint64_t at;
    conf_t c = conf_at(r, last_index(r), &at);
    set_conf(r, &c, at);
}

static void free_entries(flurm_raft_entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) free((void *)e[i].data);
}

static bool log_reserve(flurm_raft_t *r, size_t extra)
{
    if (r->len + extra <= r->cap) return true;
    size_t nc = r->cap ? r->cap : 64;
    while (nc < r->len + extra) nc *= 2;
    flurm_raft_entry_t *n = realloc(r->log, nc * sizeof *n);
    if (!n) return false;
    r->log = n;
    r->cap = nc;
    return true;
}

/* Appends a copy; the caller reserved room. */
static bool log_push(flurm_raft_t *r, uint64_t term, uint32_t type, const void *data, uint32_t len)
{
    void *copy = NULL;
    if (len) {
        if (!(copy = malloc(len))) return false;
        memcpy(copy, data, len);
    }
    r->log[r->len] = (flurm_raft_entry_t){ .index = last_index(r) + 1, .term = term, .type = type,
                                           .len = len, .data = copy };
    r->len++;
    conf_t c;
    if (type == FLURM_RAFT_ENTRY_CONFIG && conf_decode(&r->log[r->len - 1], &c))   /* in force at once */
        set_conf(r, &c, last_index(r));
    return true;
}

/* Drops entries >= I (never committed ones: the caller guarantees I > commit). */
static void log_truncate(flurm_raft_t *r, uint64_t i)
{
    if (i > last_index(r)) return;
    size_t keep = i - r->first;
    free_entries(r->log + keep, r->len - keep);
    r->len = keep;
    conf_truncated(r, i);
    if (r->stable >= i) r->stable = i - 1;
    if (i < r->persist_next) {
        if (r->truncate_from == 0 || i < r->truncate_from) r->truncate_from = i;
        r->persist_next = i;
    }
}

static flurm_raft_msg_t *msg_new(flurm_raft_t *r, uint32_t type, uint64_t to)
{
    if (r->n_msgs == r->msgs_cap) {
        size_t nc = r->msgs_cap ? r->msgs_cap * 2 : 16;
        flurm_raft_msg_t *n = realloc(r->msgs, nc * sizeof *n);
        if (!n) { r->oom = true; return NULL; }   /* dropped, as if lost */
        r->msgs = n;
        r->msgs_cap = nc;
    }
    flurm_raft_msg_t *m = &r->msgs[r->n_msgs++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->from = r->id;
    m->to = to;
    m->term = r->term;
    return m;
}

static void reset_election_timer(flurm_raft_t *r)
{
    uint32_t lo = r->cfg.election_timeout_min_ms, hi = r->cfg.election_timeout_max_ms;
    r->election_deadline = r->now + lo + (hi > lo ? rnd(r) % (hi - lo) : 0);
}

/* ---- roles ---- */

static void become_follower(flurm_raft_t *r, uint64_t term, uint64_t leader)
{
    if (term > r->term) {
        r->term = term;
        r->vote = FLURM_RAFT_NONE;
        r->hs_dirty = true;
    }
    r->role = FLURM_RAFT_FOLLOWER;
    r->leader = leader;
    r->transfer_target = 0;
    reset_election_timer(r);
}

static void send_append(flurm_raft_t *r, progress_t *p, bool heartbeat);
static void broadcast_append(flurm_raft_t *r, bool heartbeat)
{
    for (uint32_t i = 0; i < r->n_members; i++)
        if ((int)i != r->self) send_append(r, &r->pr[i], heartbeat);
}

static void become_leader(flurm_raft_t *r)
{
    r->role = FLURM_RAFT_LEADER;
    r->leader = r->id;
    r->transfer_target = 0;
    for (uint32_t i = 0; i < r->n_members; i++) {
        progress_t *p = &r->pr[i];
        bool voter = p->voter;
        progress_init(r, p, p->id);
        p->voter = voter;
    }
    /* The no-op lets the leader commit (and so learn the commit index) in its own term. */
    if (log_reserve(r, 1)) log_push(r, r->term, FLURM_RAFT_ENTRY_NOOP, NULL, 0);
    else r->oom = true;
    r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
    r->quorum_deadline = r->now + r->cfg.election_timeout_min_ms;
    broadcast_append(r, false);
}

static void campaign(flurm_raft_t *r, bool pre, bool transfer);

static void count_votes(flurm_raft_t *r)
{
    size_t yes = 0, no = 0;
    for (uint32_t i = 0; i < r->n_members; i++) {
        if (!r->pr[i].voter || !r->pr[i].vote_answered) continue;
        if (r->pr[i].vote_granted) yes++;
        else no++;
    }
    if (yes >= quorum(r)) {
        if (r->role == FLURM_RAFT_PRECANDIDATE) campaign(r, false, false);
        else become_leader(r);
    } else if (no >= quorum(r)) {
        become_follower(r, r->term, FLURM_RAFT_NONE);
    }
}

static void campaign(flurm_raft_t *r, bool pre, bool transfer)
{
    if (!may_campaign(r)) return;
    for (uint32_t i = 0; i < r->n_members; i++) r->pr[i].vote_answered = r->pr[i].vote_granted = false;
    r->leader = FLURM_RAFT_NONE;
    uint64_t term = r->term + 1;
    if (pre) {
        r->role = FLURM_RAFT_PRECANDIDATE;
    } else {
        r->role = FLURM_RAFT_CANDIDATE;
        r->term = term;
        r->vote = r->id;
        r->hs_dirty = true;
    }
    reset_election_timer(r);
    if (r->self >= 0) r->pr[r->self].vote_answered = r->pr[r->self].vote_granted = true;   /* counts if a voter */
    for (uint32_t i = 0; i < r->n_members; i++) {
        if ((int)i == r->self || !r->pr[i].voter) continue;
        flurm_raft_msg_t *m = msg_new(r, FLURM_RAFT_MSG_VOTE, r->pr[i].id);
        if (!m) continue;
        m->term = term;
        m->log_index = last_index(r);
        m->log_term = last_term(r);
        if (pre) m->flags |= FLURM_RAFT_MSGF_PRE_VOTE;
        if (transfer) m->flags |= FLURM_RAFT_MSGF_TRANSFER;
    }
    count_votes(r);
}

/* ---- replication (leader) ---- */

static void send_snapshot(flurm_raft_t *r, progress_t *p)
{
    flurm_raft_msg_t *m = msg_new(r, FLURM_RAFT_MSG_SNAPSHOT, p->id);
    if (!m) return;
    m->snapshot = r->snap;
    p->state = PR_SNAPSHOT;
    p->snap_index = r->snap.index;
    p->snap_sent = r->now;
    p->inflight = 0;
}

static void inflight_push(progress_t *p, uint64_t last)
{
    if (p->inflight < MAX_INFLIGHT) p->inflight_last[p->inflight++] = last;
}

static void inflight_free_to(progress_t *p, uint64_t match)
{
    uint32_t k = 0;
    while (k < p->inflight && p->inflight_last[k] <= match) k++;
    memmove(p->inflight_last, p->inflight_last + k, (p->inflight - k) * sizeof(uint64_t));
    p->inflight -= k;
}

static void to_probe(flurm_raft_t *r, progress_t *p, uint64_t next)
{
    p->state = PR_PROBE;
    p->next = next > p->match + 1 ? next : p->match + 1;
    p->inflight = 0;
    p->probe_sent = false;
    p->last_ack = r->now;
}

/* Sends what P needs: entries from next (PROBE: one message until answered; REPLICATE: up to
 * max_inflight messages), a snapshot if next is compacted away, or (HEARTBEAT) an empty append
 * that only carries the commit index and keeps the follower from campaigning. */
static void send_append(flurm_raft_t *r, progress_t *p, bool heartbeat)
{
    if (p->state == PR_SNAPSHOT) {
        if (!heartbeat) return;
        if (r->now - p->snap_sent < r->cfg.election_timeout_min_ms) {
            flurm_raft_msg_t *m = msg_new(r, FLURM_RAFT_MSG_APPEND, p->id);
            if (m) {
                m->log_index = r->snap.index;
                m->log_term = r->snap.term;
                m->commit = r->commit;
            }
            return;
        }
        to_probe(r, p, p->match + 1);   /* snapshot presumed lost */
    }
    if (p->state == PR_REPLICATE && heartbeat) {
        if (p->inflight > 0 && r->now - p->last_ack >= r->cfg.election_timeout_min_ms / 2) {
            to_probe(r, p, p->match + 1);   /* an append was lost: restart from what is known */
        } else {
            uint64_t t;
            if (term_at(r, p->match, &t)) {
                flurm_raft_msg_t *m = msg_new(r, FLURM_RAFT_MSG_APPEND, p->id);
                if (m) {
                    m->log_index = p->match;
                    m->log_term = t;
                    m->commit = r->commit;
                }
                if (p->inflight == 0 && p->next > last_index(r)) return;
            } else {
                to_probe(r, p, p->match + 1);
            }
        }
    }
    if (p->state == PR_PROBE && heartbeat) p->probe_sent = false;
    for (;;) {
        if (p->state == PR_PROBE && p->probe_sent) return;
        if (p->state == PR_REPLICATE && p->inflight >= r->cfg.max_inflight_msgs) return;
        uint64_t prev = p->next - 1, pt;
        if (prev + 1 < r->first || !term_at(r, prev, &pt)) {
            send_snapshot(r, p);
            return;
        }
        uint64_t avail = last_index(r) - prev;
        size_t n = avail < r->cfg.max_entries_per_msg ? (size_t)avail : r->cfg.max_entries_per_msg;
        if (n == 0 && p->state == PR_REPLICATE) return;
        flurm_raft_msg_t *m = msg_new(r, FLURM_RAFT_MSG_APPEND, p->id);
        if (!m) return;
        m->log_index = prev;
        m->log_term = pt;
        m->commit = r->commit;
        m->n_entries = n;   /* entries pointer is set when the step ends (the log may move) */
        if (p->state == PR_PROBE) {
            p->probe_sent = true;
            return;
        }
        p->next = prev + n + 1;
        inflight_push(p, prev + n);
    }
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A leader outside its committed configuration (it removed itself) hands over and steps down. */
static void maybe_step_down_removed(flurm_raft_t *r)
{
    if (r->role != FLURM_RAFT_LEADER || is_voter(r) || r->conf_index > r->commit) return;
    progress_t *best = NULL;
    for (uint32_t i = 0; i < r->n_members; i++)
        if (r->pr[i].voter && (!best || r->pr[i].match > best->match)) best = &r->pr[i];
    if (best && best->match == last_index(r)) msg_new(r, FLURM_RAFT_MSG_TIMEOUT_NOW, best->id);
    become_follower(r, r->term, FLURM_RAFT_NONE);
}

/* Figure 8: only an entry of the current term is committed by counting replicas; earlier
 * entries commit with it. The leader's own copy counts once durable (stable), if it is a voter
 * of the configuration in force (a leader removing itself does not count itself, 4.2.2). */
static void maybe_commit(flurm_raft_t *r)
{
    if (r->role != FLURM_RAFT_LEADER) return;
    uint64_t m[FLURM_RAFT_MAX_MEMBERS];
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n_members; i++)
        if (r->pr[i].voter) m[k++] = (int)i == r->self ? r->stable : r->pr[i].match;
    if (k == 0) return;
    qsort(m, k, sizeof m[0], cmp_desc);
    uint64_t n = m[quorum(r) - 1], t;
    if (n > r->commit && term_at(r, n, &t) && t == r->term) {
        r->commit = n;
        /* Tell caught-up followers at once instead of at the next heartbeat. */
        for (uint32_t i = 0; i < r->n_members && !(r->cfg.flags & FLURM_RAFT_CONFIG_LAZY_COMMIT); i++) {
            progress_t *p = &r->pr[i];
            if ((int)i == r->self || p->state != PR_REPLICATE || p->next <= last_index(r)) continue;
            uint64_t pt;
            if (!term_at(r, p->next - 1, &pt)) continue;
            flurm_raft_msg_t *msg = msg_new(r, FLURM_RAFT_MSG_APPEND, p->id);
            if (!msg) break;
            msg->log_index = p->next - 1;
            msg->log_term = pt;
            msg->commit = r->commit;
        }
        maybe_step_down_removed(r);
    }
}

static void maybe_send_timeout_now(flurm_raft_t *r, progress_t *p)
{
    if (r->transfer_target == p->id && p->match == last_index(r)) {
        msg_new(r, FLURM_RAFT_MSG_TIMEOUT_NOW, p->id);
    }
}

/* ---- message handlers ---- */

static void reply_append(flurm_raft_t *r, const flurm_raft_msg_t *in, bool ok, uint64_t match)
{
    flurm_raft_msg_t *m = msg_new(r, in->type == FLURM_RAFT_MSG_SNAPSHOT ? FLURM_RAFT_MSG_SNAPSHOT_REPLY
                                                                        : FLURM_RAFT_MSG_APPEND_REPLY, in->from);
    if (!m) return;
    if (ok) {
        m->flags = FLURM_RAFT_MSGF_SUCCESS;
        m->match = match;
        return;
    }
    m->match = last_index(r);
    m->reject_index = in->log_index;
    uint64_t t;
    if (in->log_index <= last_index(r) && term_at(r, in->log_index, &t)) {
        m->conflict_term = t;
        uint64_t i = in->log_index;
        while (i > r->commit + 1 && i > r->first && r->log[i - 1 - r->first].term == t) i--;
        m->conflict_index = i;
    }
}

static void handle_append(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    become_follower(r, m->term, m->from);
    r->leader_contact = r->now;
    uint64_t prev = m->log_index, pterm = m->log_term;
    size_t n = m->n_entries, k = 0;
    const uint64_t verified = m->log_index + m->n_entries;
    /* Entries up to our commit index are in every later leader's log: skip them unchecked. */
    if (prev < r->commit) {
        k = r->commit - prev < n ? (size_t)(r->commit - prev) : n;
        if (k) {
            prev += k;
            pterm = m->entries[k - 1].term;
        }
        if (prev < r->commit) {   /* the whole message is below our commit */
            reply_append(r, m, true, verified);
            return;
        }
    }
    uint64_t t;
    if (prev > last_index(r) || !term_at(r, prev, &t) || t != pterm) {
        reply_append(r, m, false, 0);
        return;
    }
    for (; k < n; k++) {
        const flurm_raft_entry_t *e = &m->entries[k];
        uint64_t idx = m->log_index + 1 + k;
        if (idx <= last_index(r)) {
            if (entry_at(r, idx)->term == e->term) continue;
            log_truncate(r, idx);   /* idx > commit: a conflicting uncommitted suffix */
        }
        if (!log_reserve(r, n - k)) { r->oom = true; return; }
        for (; k < n; k++) {
            e = &m->entries[k];
            if (!log_push(r, e->term, e->type, e->data, e->len)) { r->oom = true; return; }
        }
        break;
    }
    uint64_t c = m->commit < verified ? m->commit : verified;
    if (c > r->commit) r->commit = c;
    reply_append(r, m, true, verified);
}

static void handle_snapshot(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    become_follower(r, m->term, m->from);
    r->leader_contact = r->now;
    const flurm_raft_snapshot_meta_t *s = &m->snapshot;
    uint64_t t;
    if (s->index <= r->commit) {
        reply_append(r, m, true, s->index);
        return;
    }
    if (term_at(r, s->index, &t) && t == s->term) {
        /* We hold the snapshot's last entry: our log up to there matches. Keep it (and any
         * acknowledged suffix); the entries apply as usual. */
        r->commit = s->index;
        reply_append(r, m, true, s->index);
        return;
    }
    if (!conf_valid(s->n_voters, s->n_learners, s->voters) || (m->len && !m->data)) return;
    void *copy = NULL;
    if (m->len) {
        if (!(copy = malloc(m->len))) { r->oom = true; return; }
        memcpy(copy, m->data, m->len);
    }
    free(r->install_data);
    r->install_data = copy;
    r->install_len = m->len;
    r->install_meta = *s;
    r->snap_install = true;
    free_entries(r->log, r->len);
    r->len = 0;
    r->first = s->index + 1;
    r->snap = *s;
    conf_t c = snap_conf(s);   /* its configuration replaces whatever our log said */
    set_conf(r, &c, s->index);
    r->commit = r->applied = r->stable = s->index;
    r->persist_next = s->index + 1;
    r->truncate_from = 0;   /* the host discards the whole log for a snapshot */
    reply_append(r, m, true, s->index);
}

static void handle_append_reply(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    progress_t *p = find_pr(r, m->from);
    if (!p || (int)(p - r->pr) == r->self) return;
    p->last_contact = r->now;
    if (m->flags & FLURM_RAFT_MSGF_SUCCESS) {
        uint64_t match = m->match > last_index(r) ? last_index(r) : m->match;
        if (match > p->match) {
            p->match = match;
            p->last_ack = r->now;
        }
        inflight_free_to(p, p->match);
        if (p->next <= p->match) p->next = p->match + 1;
        if (p->state == PR_PROBE || (p->state == PR_SNAPSHOT && p->match >= p->snap_index)) {
            p->state = PR_REPLICATE;
            p->next = p->match + 1;
            p->inflight = 0;
            p->last_ack = r->now;
        }
        maybe_commit(r);
        if (r->role != FLURM_RAFT_LEADER) return;
        maybe_send_timeout_now(r, p);
        send_append(r, p, false);
        return;
    }
    if (m->type == FLURM_RAFT_MSG_SNAPSHOT_REPLY) return;
    if (m->reject_index < p->match || p->state == PR_SNAPSHOT) return;   /* stale */
    uint64_t next;
    if (m->conflict_term) {
        next = m->conflict_index;
        for (uint64_t i = m->reject_index; i >= r->first && i > p->match; i--) {
            uint64_t t;
            if (!term_at(r, i, &t) || t < m->conflict_term) break;
            if (t == m->conflict_term) { next = i + 1; break; }
        }
    } else {
        next = m->match + 1;
    }
    if (next > m->reject_index) next = m->reject_index;
    to_probe(r, p, next);
    send_append(r, p, false);
}

static bool log_up_to_date(const flurm_raft_t *r, uint64_t idx, uint64_t term)
{
    uint64_t lt = last_term(r);
    return term > lt || (term == lt && idx >= last_index(r));
}

static void handle_vote(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    bool pre = m->flags & FLURM_RAFT_MSGF_PRE_VOTE;
    bool grant = false;
    if (m->term > r->term || (!pre && m->term == r->term)) {
        if (pre) grant = log_up_to_date(r, m->log_index, m->log_term);
        else grant = (r->vote == FLURM_RAFT_NONE || r->vote == m->from) && log_up_to_date(r, m->log_index, m->log_term);
    }
    if (grant && !pre) {
        r->vote = m->from;
        r->hs_dirty = true;
        reset_election_timer(r);
    }
    flurm_raft_msg_t *out = msg_new(r, FLURM_RAFT_MSG_VOTE_REPLY, m->from);
    if (!out) return;
    out->term = grant ? m->term : r->term;
    out->flags = (pre ? FLURM_RAFT_MSGF_PRE_VOTE : 0) | (grant ? FLURM_RAFT_MSGF_GRANTED : 0);
}

static void handle_vote_reply(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    bool pre = m->flags & FLURM_RAFT_MSGF_PRE_VOTE;
    if (pre ? (r->role != FLURM_RAFT_PRECANDIDATE || m->term != r->term + 1)
            : (r->role != FLURM_RAFT_CANDIDATE || m->term != r->term)) return;
    progress_t *p = find_pr(r, m->from);
    if (!p || !p->voter || p->vote_answered) return;
    p->vote_answered = true;
    p->vote_granted = m->flags & FLURM_RAFT_MSGF_GRANTED;
    count_votes(r);
}

static bool in_lease(const flurm_raft_t *r)
{
    if (r->role == FLURM_RAFT_LEADER) return true;
    return r->leader != FLURM_RAFT_NONE && r->now - r->leader_contact < r->cfg.election_timeout_min_ms;
}

static void receive(flurm_raft_t *r, const flurm_raft_msg_t *m)
{
    if (m->type == FLURM_RAFT_MSG_VOTE) {
        /* Leader stickiness: while we hear from a live leader, nobody else may win our vote, so a
         * server that was cut off cannot disrupt the cluster when it comes back. */
        if (m->term > r->term && !(m->flags & FLURM_RAFT_MSGF_TRANSFER) && in_lease(r)) return;
        if (!(m->flags & FLURM_RAFT_MSGF_PRE_VOTE) && m->term > r->term) become_follower(r, m->term, FLURM_RAFT_NONE);
        handle_vote(r, m);
        return;
    }
    if (m->term > r->term) {
        bool granted_pre = m->type == FLURM_RAFT_MSG_VOTE_REPLY && (m->flags & FLURM_RAFT_MSGF_PRE_VOTE) &&
                           (m->flags & FLURM_RAFT_MSGF_GRANTED);
        if (!granted_pre) {
            bool from_leader = m->type == FLURM_RAFT_MSG_APPEND || m->type == FLURM_RAFT_MSG_SNAPSHOT ||
                               m->type == FLURM_RAFT_MSG_TIMEOUT_NOW;
            become_follower(r, m->term, from_leader ? m->from : FLURM_RAFT_NONE);
        }
    } else if (m->term < r->term) {
        /* A deposed leader learns our term from the reject and steps down. */
        if (m->type == FLURM_RAFT_MSG_APPEND || m->type == FLURM_RAFT_MSG_SNAPSHOT) {
            flurm_raft_msg_t *out = msg_new(r, FLURM_RAFT_MSG_APPEND_REPLY, m->from);
            if (out) out->match = last_index(r);
        }
        return;
    }
    switch (m->type) {
    case FLURM_RAFT_MSG_VOTE_REPLY:
        handle_vote_reply(r, m);
        break;
    case FLURM_RAFT_MSG_APPEND:
        if (r->role == FLURM_RAFT_LEADER) return;   /* same term, two leaders: impossible */
        handle_append(r, m);
        break;
    case FLURM_RAFT_MSG_SNAPSHOT:
        if (r->role == FLURM_RAFT_LEADER) return;
        handle_snapshot(r, m);
        break;
    case FLURM_RAFT_MSG_APPEND_REPLY:
    case FLURM_RAFT_MSG_SNAPSHOT_REPLY:
        if (r->role == FLURM_RAFT_LEADER) handle_append_reply(r, m);
        break;
    case FLURM_RAFT_MSG_TIMEOUT_NOW:
        if (r->role != FLURM_RAFT_LEADER) {
            r->leader_contact = r->now;
            campaign(r, false, true);
        }
        break;
    default:
        break;
    }
}

/* ---- events ---- */

static void tick(flurm_raft_t *r)
{
    if (r->role != FLURM_RAFT_LEADER) {
        if (r->now >= r->election_deadline) {
            if (may_campaign(r)) campaign(r, r->cfg.pre_vote != 0, false);
            else reset_election_timer(r);
        }
        return;
    }
    maybe_step_down_removed(r);
    if (r->role != FLURM_RAFT_LEADER) return;
    if (r->transfer_target && r->now >= r->transfer_deadline) r->transfer_target = 0;
    if (r->now >= r->quorum_deadline) {
        size_t live = 0;
        for (uint32_t i = 0; i < r->n_members; i++)
            if (r->pr[i].voter &&
                ((int)i == r->self || r->now - r->pr[i].last_contact < r->cfg.election_timeout_min_ms)) live++;
        if (live < quorum(r)) {
            become_follower(r, r->term, FLURM_RAFT_NONE);
            return;
        }
        r->quorum_deadline = r->now + r->cfg.election_timeout_min_ms;
    }
    if (r->now >= r->heartbeat_deadline) {
        r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
        broadcast_append(r, true);
    }
}

static flurm_err_t propose(flurm_raft_t *r, const flurm_raft_event_t *ev, flurm_raft_update_t *out)
{
    if (r->role != FLURM_RAFT_LEADER || r->transfer_target) return FLURM_EAGAIN;
    if (ev->n_commands == 0 || !ev->commands || !ev->lens) return FLURM_EINVAL;
    for (size_t i = 0; i < ev->n_commands; i++)
        if (ev->lens[i] && !ev->commands[i]) return FLURM_EINVAL;
    if (!log_reserve(r, ev->n_commands)) return FLURM_ENOMEM;
    size_t before = r->len;
    for (size_t i = 0; i < ev->n_commands; i++) {
        if (!log_push(r, r->term, FLURM_RAFT_ENTRY_COMMAND, ev->commands[i], ev->lens[i])) {
            free_entries(r->log + before, r->len - before);
            r->len = before;
            return FLURM_ENOMEM;
        }
    }
    out->first_index = r->log[before].index;
    out->proposed_term = r->term;
    broadcast_append(r, false);
    maybe_commit(r);   /* a single voter commits on PERSISTED; nothing here yet */
    return FLURM_OK;
}

static flurm_err_t snapshot_taken(flurm_raft_t *r, uint64_t index)
{
    if (index > r->applied) return FLURM_ERANGE;
    if (index <= r->snap.index) return FLURM_OK;
    uint64_t t = 0;
    if (!term_at(r, index, &t)) return FLURM_ERANGE;
    uint64_t at;
    conf_t c = conf_at(r, index, &at);   /* the configuration at INDEX, not the one in force */
    r->snap.index = index;
    r->snap.term = t;
    r->snap.n_voters = c.n_voters;
    r->snap.n_learners = c.n_learners;
    memset(r->snap.voters, 0, sizeof r->snap.voters);
    memcpy(r->snap.voters, c.ids, (c.n_voters + c.n_learners) * sizeof c.ids[0]);
    if (r->conf_index < index) r->conf_index = index;   /* as a restart from this snapshot says */
    uint64_t keep_from = index + 1 > r->cfg.trailing_entries ? index + 1 - r->cfg.trailing_entries : 1;
    if (keep_from > r->first) {
        size_t drop = keep_from - r->first;
        free_entries(r->log, drop);
        memmove(r->log, r->log + drop, (r->len - drop) * sizeof *r->log);
        r->len -= drop;
        r->first = keep_from;
    }
    return FLURM_OK;
}

static flurm_err_t transfer(flurm_raft_t *r, uint64_t target)
{
    if (r->role != FLURM_RAFT_LEADER || r->transfer_target) return FLURM_EAGAIN;
    if (target == FLURM_RAFT_NONE) {
        uint64_t best = 0;
        for (uint32_t i = 0; i < r->n_members; i++)
            if ((int)i != r->self && r->pr[i].voter && (target == FLURM_RAFT_NONE || r->pr[i].match > best)) {
                target = r->pr[i].id;
                best = r->pr[i].match;
            }
        if (target == FLURM_RAFT_NONE) return FLURM_ENOENT;
    }
    if (target == r->id) return is_voter(r) ? FLURM_OK : FLURM_ENOENT;
    progress_t *p = find_pr(r, target);
    if (!p || !p->voter) return FLURM_ENOENT;
    r->transfer_target = target;
    r->transfer_deadline = r->now + r->cfg.election_timeout_min_ms;
    if (p->match == last_index(r)) maybe_send_timeout_now(r, p);
    else send_append(r, p, false);
    return FLURM_OK;
}

/* A learner the leader would promote now: its log is within one message of ours and it
 * answered within an election timeout (a round of replication is shorter than that, 4.2.1). */
static bool caught_up(const flurm_raft_t *r, const progress_t *p)
{
    return p->match + r->cfg.max_entries_per_msg >= last_index(r) && p->last_contact &&
           r->now - p->last_contact < r->cfg.election_timeout_min_ms && p->state == PR_REPLICATE;
}

static flurm_err_t change(flurm_raft_t *r, uint32_t kind, uint64_t target, flurm_raft_update_t *out)
{
    if (r->role != FLURM_RAFT_LEADER || r->transfer_target) return FLURM_EAGAIN;
    if (target == FLURM_RAFT_NONE) return FLURM_EINVAL;
    conf_t c = r->conf;
    uint32_t n = c.n_voters + c.n_learners, k = 0;
    while (k < n && c.ids[k] != target) k++;
    bool member = k < n, learner = member && k >= c.n_voters;
    switch (kind) {
    case FLURM_RAFT_ADD_LEARNER:
        if (member || n >= FLURM_RAFT_MAX_MEMBERS) return FLURM_EINVAL;
        c.ids[n] = target;
        c.n_learners++;
        break;
    case FLURM_RAFT_PROMOTE:
        if (!learner) return FLURM_EINVAL;
        memmove(c.ids + k, c.ids + k + 1, (n - k - 1) * sizeof c.ids[0]);   /* out of the learners */
        memmove(c.ids + c.n_voters + 1, c.ids + c.n_voters, (n - 1 - c.n_voters) * sizeof c.ids[0]);
        c.ids[c.n_voters] = target;                                         /* into the voters */
        c.n_voters++;
        c.n_learners--;
        break;
    case FLURM_RAFT_REMOVE:
        if (!member || (!learner && c.n_voters == 1)) return FLURM_EINVAL;
        memmove(c.ids + k, c.ids + k + 1, (n - k - 1) * sizeof c.ids[0]);
        if (learner) c.n_learners--;
        else c.n_voters--;
        c.ids[n - 1] = 0;
        break;
    default:
        return FLURM_EINVAL;
    }
    /* One change at a time, and only once this term's no-op committed: a leader elected in
     * the previous configuration might otherwise still be appending another change (4.1). */
    uint64_t ct = 0;
    if (r->conf_index > r->commit || !term_at(r, r->commit, &ct) || ct != r->term) return FLURM_EAGAIN;
    if (kind == FLURM_RAFT_PROMOTE && !caught_up(r, find_pr(r, target))) return FLURM_EAGAIN;
    uint8_t buf[CONF_HDR + 8 * FLURM_RAFT_MAX_MEMBERS];
    uint32_t len = conf_encode(&c, buf);
    if (!log_reserve(r, 1) || !log_push(r, r->term, FLURM_RAFT_ENTRY_CONFIG, buf, len)) return FLURM_ENOMEM;
    out->first_index = last_index(r);
    out->proposed_term = r->term;
    broadcast_append(r, false);
    maybe_commit(r);   /* the new majority may already hold what the old one did not */
    return FLURM_OK;
}

/* ---- public ---- */

flurm_raft_t *flurm_raft_new(const flurm_raft_config_t *cfg, const flurm_raft_persisted_t *restored,
                             flurm_err_t *err)
{
    flurm_err_t e = FLURM_EINVAL;
    flurm_raft_t *r = NULL;
    if (!cfg || cfg->size < sizeof(flurm_raft_config_t) || cfg->id == FLURM_RAFT_NONE) goto fail;
    if (restored && restored->size < sizeof(flurm_raft_persisted_t)) goto fail;
    const flurm_raft_snapshot_meta_t *snap = restored && restored->snapshot.index ? &restored->snapshot : NULL;
    uint32_t nv = snap ? snap->n_voters : cfg->n_voters, nl = snap ? snap->n_learners : 0;
    const uint64_t *voters = snap ? snap->voters : cfg->voters;
    if (!conf_valid(nv, nl, voters)) goto fail;
    uint64_t base = snap ? snap->index : 0;
    if (restored && restored->n_entries && !restored->entries) goto fail;
    for (size_t i = 0; restored && i < restored->n_entries; i++) {
        const flurm_raft_entry_t *x = &restored->entries[i];
        if (x->index != base + 1 + i || !entry_valid(x)) goto fail;
        if (x->term < (i ? restored->entries[i - 1].term : snap ? snap->term : 0)) goto fail;
    }
    e = FLURM_ENOMEM;
    if (!(r = calloc(1, sizeof *r))) goto fail;
    r->cfg = *cfg;
    r->cfg.voters = NULL;
    if (!r->cfg.election_timeout_min_ms) r->cfg.election_timeout_min_ms = 1000;
    if (r->cfg.election_timeout_max_ms <= r->cfg.election_timeout_min_ms)
        r->cfg.election_timeout_max_ms = 2 * r->cfg.election_timeout_min_ms;
    if (!r->cfg.heartbeat_ms) r->cfg.heartbeat_ms = r->cfg.election_timeout_min_ms / 10 ? r->cfg.election_timeout_min_ms / 10 : 1;
    if (!r->cfg.max_entries_per_msg) r->cfg.max_entries_per_msg = 64;
    if (!r->cfg.max_inflight_msgs) r->cfg.max_inflight_msgs = 8;
    if (r->cfg.max_inflight_msgs > MAX_INFLIGHT) r->cfg.max_inflight_msgs = MAX_INFLIGHT;
    if (!r->cfg.trailing_entries) r->cfg.trailing_entries = 128;
    r->id = cfg->id;
    r->rng = cfg->seed ^ (cfg->id * 0x9e3779b97f4a7c15ull);
    r->self = -1;
    if (snap) r->snap = *snap;
    else {
        r->snap.n_voters = nv;
        memcpy(r->snap.voters, voters, nv * sizeof *voters);
    }
    r->first = base + 1;
    conf_t c0 = snap_conf(&r->snap);
    set_conf(r, &c0, base);   /* CONFIG entries in the restored log override it as they are pushed */
    if (restored) {
        r->term = restored->term;
        r->vote = restored->voted_for;
        if (!log_reserve(r, restored->n_entries)) goto fail;
        for (size_t i = 0; i < restored->n_entries; i++) {
            const flurm_raft_entry_t *x = &restored->entries[i];
            if (!log_push(r, x->term, x->type, x->data, x->len)) goto fail;
        }
    }
    r->commit = r->applied = base;
    r->stable = last_index(r);
    r->persist_next = last_index(r) + 1;
    r->role = FLURM_RAFT_FOLLOWER;
    reset_election_timer(r);
    r->last_role = r->role;
    if (err) *err = FLURM_OK;
    return r;
fail:
    flurm_raft_free(r);
    if (err) *err = e;
    return NULL;
}

void flurm_raft_free(flurm_raft_t *r)
{
    if (!r) return;
    free_entries(r->log, r->len);
    free(r->log);
    free(r->msgs);
    free(r->install_data);
    free(r);
}

static bool msg_valid(const flurm_raft_msg_t *m)
{
    if (m->type < FLURM_RAFT_MSG_VOTE || m->type > FLURM_RAFT_MSG_TIMEOUT_NOW) return false;
    if (m->from == FLURM_RAFT_NONE) return false;
    if (m->type == FLURM_RAFT_MSG_APPEND) {
        if (m->n_entries && !m->entries) return false;
        uint64_t pt = m->log_term;
        for (size_t i = 0; i < m->n_entries; i++) {
            const flurm_raft_entry_t *e = &m->entries[i];
            if (e->index != m->log_index + 1 + i || e->term < pt || e->term > m->term || !entry_valid(e))
                return false;
            pt = e->term;
        }
    }
    if (m->type == FLURM_RAFT_MSG_SNAPSHOT) {
        const flurm_raft_snapshot_meta_t *s = &m->snapshot;
        if (!conf_valid(s->n_voters, s->n_learners, s->voters)) return false;
    }
    return true;
}

static void finish(flurm_raft_t *r, flurm_raft_update_t *out)
{
    for (size_t i = 0; i < r->n_msgs; i++) {
        flurm_raft_msg_t *m = &r->msgs[i];
        if (m->type == FLURM_RAFT_MSG_APPEND && m->n_entries) m->entries = entry_at(r, m->log_index + 1);
    }
    out->msgs = r->n_msgs ? r->msgs : NULL;
    out->n_msgs = r->n_msgs;
    out->hard_state_changed = r->hs_dirty;
    out->term = r->term;
    out->voted_for = r->vote;
    if (r->snap_install) {
        out->snapshot = &r->install_meta;
        out->snapshot_data = r->install_data;
        out->snapshot_len = r->install_len;
    }
    out->truncate_from = r->truncate_from;
    if (r->persist_next <= last_index(r)) {
        out->entries = entry_at(r, r->persist_next);
        out->n_entries = last_index(r) - r->persist_next + 1;
        r->persist_next = last_index(r) + 1;
    }
    uint64_t to = r->commit < r->stable ? r->commit : r->stable;
    if (to > r->applied) {
        out->committed = entry_at(r, r->applied + 1);
        out->n_committed = to - r->applied;
        r->applied = to;
    }
    out->config_changed = r->conf_changed;
    out->soft_state_changed = r->role != r->last_role || r->leader != r->last_leader;
    r->last_role = r->role;
    r->last_leader = r->leader;
    out->role = r->role;
    out->leader = r->leader;
    out->commit = r->commit;
}

flurm_err_t flurm_raft_step(flurm_raft_t *r, const flurm_raft_event_t *ev, flurm_raft_update_t *out)
{
    if (!r || !ev || !out) return FLURM_EINVAL;
    memset(out, 0, sizeof *out);
    r->n_msgs = 0;
    r->hs_dirty = false;
    r->truncate_from = 0;
    r->snap_install = false;
    free(r->install_data);
    r->install_data = NULL;
    r->install_len = 0;
    r->oom = false;
    r->conf_changed = false;
    if (ev->now_ms > r->now) r->now = ev->now_ms;

    flurm_err_t rc = FLURM_OK;
    switch (ev->kind) {
    case FLURM_RAFT_TICK:
        tick(r);
        break;
    case FLURM_RAFT_RECEIVE:
        if (!ev->msg || !msg_valid(ev->msg) || (ev->msg->to != r->id && ev->msg->to != FLURM_RAFT_NONE)) {
            rc = FLURM_EINVAL;
            break;
        }
        receive(r, ev->msg);
        break;
    case FLURM_RAFT_PROPOSE:
        rc = propose(r, ev, out);
        break;
    case FLURM_RAFT_PERSISTED:
    case FLURM_RAFT_SNAPSHOT_INSTALLED: {
        uint64_t t;
        if (ev->index > r->stable && ev->index <= last_index(r) && term_at(r, ev->index, &t) && t == ev->term)
            r->stable = ev->index;
        maybe_commit(r);
        break;
    }
    case FLURM_RAFT_SNAPSHOT_TAKEN:
        rc = snapshot_taken(r, ev->index);
        break;
    case FLURM_RAFT_TRANSFER:
        rc = transfer(r, ev->target);
        break;
    case FLURM_RAFT_CHANGE:
        rc = change(r, ev->change, ev->target, out);
        break;
    default:
        rc = FLURM_EINVAL;
        break;
    }
    finish(r, out);
    if (rc == FLURM_OK && r->oom) rc = FLURM_ENOMEM;
    return rc;
}

flurm_raft_role_t flurm_raft_role(const flurm_raft_t *r) { return (flurm_raft_role_t)r->role; }
uint64_t flurm_raft_id(const flurm_raft_t *r) { return r->id; }
uint64_t flurm_raft_term(const flurm_raft_t *r) { return r->term; }
uint64_t flurm_raft_leader(const flurm_raft_t *r) { return r->leader; }
uint64_t flurm_raft_commit_index(const flurm_raft_t *r) { return r->commit; }
uint64_t flurm_raft_applied_index(const flurm_raft_t *r) { return r->applied; }
uint64_t flurm_raft_last_index(const flurm_raft_t *r) { return last_index(r); }
uint64_t flurm_raft_first_index(const flurm_raft_t *r) { return r->first; }
uint64_t flurm_raft_snapshot_index(const flurm_raft_t *r) { return r->snap.index; }
const flurm_raft_entry_t *flurm_raft_entry(const flurm_raft_t *r, uint64_t index) { return entry_at(r, index); }

size_t flurm_raft_members(const flurm_raft_t *r, flurm_raft_member_status_t *out, size_t cap)
{
    for (uint32_t i = 0; i < r->n_members && i < cap; i++) {
        const progress_t *p = &r->pr[i];
        bool lead = r->role == FLURM_RAFT_LEADER;
        out[i] = (flurm_raft_member_status_t){
            .id = p->id,
            .match_index = lead ? ((int)i == r->self ? r->stable : p->match) : 0,
            .next_index = lead ? ((int)i == r->self ? last_index(r) + 1 : p->next) : 0,
            .last_contact_ms = lead ? ((int)i == r->self ? r->now : p->last_contact) : 0,
            .state = lead ? p->state : 0,
            .flags = (p->voter ? FLURM_RAFT_MEMBER_VOTER : 0) |
                     (lead && !p->voter && caught_up(r, p) ? FLURM_RAFT_MEMBER_CAUGHT_UP : 0),
        };
    }
    return r->n_members;
}

flurm_err_t flurm_raft_config_at(const flurm_raft_t *r, uint64_t index, flurm_raft_snapshot_meta_t *out)
{
    if (!r || !out) return FLURM_EINVAL;
    uint64_t t = 0, at;
    if (index < r->snap.index || index > last_index(r) || !term_at(r, index, &t)) return FLURM_ERANGE;
    conf_t c = conf_at(r, index, &at);
    memset(out, 0, sizeof *out);
    out->index = index;
    out->term = t;
    out->n_voters = c.n_voters;
    out->n_learners = c.n_learners;
    memcpy(out->voters, c.ids, (c.n_voters + c.n_learners) * sizeof c.ids[0]);
    return FLURM_OK;
}

uint64_t flurm_raft_config_index(const flurm_raft_t *r) { return r->conf_index; }

const char *flurm_raft_role_str(flurm_raft_role_t role)
{
    switch (role) {
    case FLURM_RAFT_FOLLOWER: return "follower";
    case FLURM_RAFT_PRECANDIDATE: return "precandidate";
    case FLURM_RAFT_CANDIDATE: return "candidate";
    case FLURM_RAFT_LEADER: return "leader";
    }
    return "unknown";
}
