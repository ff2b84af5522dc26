/* bin/flurmctld/commit.c — see commit.h.
 *
 * The host of the Raft core (include/flurm/raft.h) for flurmctld: it feeds the core time, peer
 * messages and proposals, and carries out the update each step returns, in the order the host
 * contract of raft.h lays down:
 *   - a received snapshot restores the state at once;
 *   - committed entries are applied at once (the core only hands out durable ones), and each
 *     resolves the proposal waiting for its (index, term);
 *   - what must be persisted joins the open write; one write is on the commit thread at a time,
 *     so what arrives meanwhile forms the next batch (one fsync per batch: group commit);
 *   - messages leave once the write they promise is durable; a leader's appends leave at once
 *     (the core counts its own copy only when PERSISTED).
 * One controller is a cluster of one voter: the same path, elected at its first tick. */
#include "commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/raft_store.h>
#include <flurm/store.h>

#include "ctl.h"
#include "peers.h"

/* Take a snapshot (and drop the log before it) once this many entries follow the last one. */
#define SNAPSHOT_EVERY 20000
#define TICK_S 0.02
#define ELECTION_MIN_MS 300
#define CATCHING_UP 1000   /* a follower this far behind says when it caught up */

typedef struct entry {
    flurm_buf_t cmd;
    uint64_t index, term;      /* once proposed */
    commit_done_fn done;
    void *arg;
    struct entry *next;
} entry_t;

/* A message that waits for a write: a shallow copy (only a leader's appends carry entries, and
 * those never wait). */
typedef struct held_msg {
    flurm_raft_msg_t m;
} held_msg_t;

/* What one synced batch makes durable: merged updates of the core. */
typedef struct write {
    pool_task_t task;          /* first member */
    ctl_t *ctl;
    bool hard;                 /* hard state to store */
    uint64_t term, voted_for;
    bool has_snapshot;
    flurm_raft_snapshot_meta_t snap;
    void *snap_data;
    size_t snap_len;
    uint64_t truncate_from;
    flurm_raft_entry_t *ents;  /* each entry's data malloc'd */
    size_t n_ents, cap_ents;
    held_msg_t *msgs;
    size_t n_msgs, cap_msgs;
    int rc;
} write_t;

/* A snapshot the controller took of its applied state, on its way to disk. */
typedef struct snap_task {
    pool_task_t task;
    ctl_t *ctl;
    flurm_raft_snapshot_meta_t meta;
    flurm_buf_t data;
    int rc;
} snap_task_t;

struct commit {
    commit_hooks_t hooks;
    flurm_raft_t *raft;
    flurm_raft_config_t cfg;
    uint64_t voters[FLURM_RAFT_MAX_MEMBERS];
    ev_timer tick;
    entry_t *pend_head, *pend_tail;   /* proposed here, not yet handed to the core */
    entry_t *wait_head, *wait_tail;   /* handed to the core, waiting for their apply (index order) */
    write_t *open;                    /* collecting the next batch */
    bool writing;                     /* a write is on the commit thread */
    bool snapshotting;
    /* the state machine */
    uint64_t applied, applied_term;
    /* our newest snapshot (sent to followers that fell behind the log) */
    flurm_raft_snapshot_meta_t snap;
    void *snap_data;
    size_t snap_len;
    /* roles */
    uint32_t role;
    uint64_t leader;
    uint64_t ready_index;             /* a leader serves once it applied this */
    bool ready;
    bool said_write_error;
    bool disk_failed;                 /* single voter: a write failed; rebuild before proposing */
    bool behind;                      /* a follower far behind the commit index (logged once caught up) */
    /* membership */
    uint64_t promoting;               /* bit id-1: "promoting to voter" logged for that learner */
    const char *change_why;           /* why the last commit_change() was refused */
};

static void step(ctl_t *ctl, const flurm_raft_event_t *ev);

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *member_name(const ctl_t *ctl, uint64_t id)
{
    return id >= 1 && id <= ctl->conf->controller_count ? ctl->conf->controllers[id - 1].name : "?";
}

/* The configuration in force: how many voters, and whether this controller is the only one
 * (then its durable log is committed: nobody else counts). */
static uint32_t voters_now(const struct commit *c, bool *self_only)
{
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = c->raft ? flurm_raft_members(c->raft, ms, FLURM_RAFT_MAX_MEMBERS) : 0;
    if (n > FLURM_RAFT_MAX_MEMBERS)
        n = FLURM_RAFT_MAX_MEMBERS;
    uint32_t v = 0;
    uint64_t only = 0;
    for (size_t i = 0; i < n; i++)
        if (ms[i].flags & FLURM_RAFT_MEMBER_VOTER) {
            v++;
            only = ms[i].id;
        }
    if (self_only)
        *self_only = v == 1 && only == c->cfg.id;
    return v;
}

static bool sole_voter(const struct commit *c)
{
    bool only = false;
    voters_now(c, &only);
    return only;
}

/* ------------------------------------------------------------------ writes */

static void write_free(write_t *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_ents; i++)
        free((void *)w->ents[i].data);
    free(w->ents);
    free(w->msgs);
    free(w->snap_data);
    free(w);
}

static write_t *open_write(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c->open) {
        c->open = calloc(1, sizeof *c->open);
        if (c->open)
            c->open->ctl = ctl;
    }
    return c->open;
}

/* Merges what U asks to persist into W. false: out of memory (W unusable). */
static bool merge_update(write_t *w, const flurm_raft_update_t *u)
{
    if (u->hard_state_changed) {
        w->hard = true;
        w->term = u->term;
        w->voted_for = u->voted_for;
    }
    if (u->snapshot) {
        /* An installed snapshot replaces the whole log: what W held before is superseded. */
        for (size_t i = 0; i < w->n_ents; i++)
            free((void *)w->ents[i].data);
        w->n_ents = 0;
        w->truncate_from = 0;
        free(w->snap_data);
        w->snap_data = NULL;
        w->has_snapshot = true;
        w->snap = *u->snapshot;
        w->snap_len = u->snapshot_len;
        if (u->snapshot_len && !(w->snap_data = malloc(u->snapshot_len)))
            return false;
        if (u->snapshot_len)
            memcpy(w->snap_data, u->snapshot_data, u->snapshot_len);
    }
    if (u->truncate_from) {
        uint64_t t = u->truncate_from;
        if (w->n_ents && t > w->ents[0].index) {
            /* inside this batch: the disk never saw those entries */
            while (w->n_ents && w->ents[w->n_ents - 1].index >= t)
                free((void *)w->ents[--w->n_ents].data);
        } else {
            for (size_t i = 0; i < w->n_ents; i++)
                free((void *)w->ents[i].data);
            w->n_ents = 0;
            if (!w->truncate_from || t < w->truncate_from)
                w->truncate_from = t;
        }
    }
    if (u->n_entries) {
        if (w->n_ents + u->n_entries > w->cap_ents) {
            size_t nc = w->cap_ents ? w->cap_ents : 16;
            while (nc < w->n_ents + u->n_entries)
                nc *= 2;
            flurm_raft_entry_t *n = realloc(w->ents, nc * sizeof *n);
            if (!n)
                return false;
            w->ents = n;
            w->cap_ents = nc;
        }
        for (size_t i = 0; i < u->n_entries; i++) {
            flurm_raft_entry_t e = u->entries[i];
            void *copy = NULL;
            if (e.len && !(copy = malloc(e.len)))
                return false;
            if (e.len)
                memcpy(copy, e.data, e.len);
            e.data = copy;
            w->ents[w->n_ents++] = e;
        }
    }
    return true;
}

static bool hold_msg(write_t *w, const flurm_raft_msg_t *m)
{
    if (w->n_msgs == w->cap_msgs) {
        size_t nc = w->cap_msgs ? w->cap_msgs * 2 : 8;
        held_msg_t *n = realloc(w->msgs, nc * sizeof *n);
        if (!n)
            return false;   /* dropped, as if lost: Raft retries */
        w->msgs = n;
        w->cap_msgs = nc;
    }
    w->msgs[w->n_msgs].m = *m;
    w->msgs[w->n_msgs].m.entries = NULL;
    w->msgs[w->n_msgs].m.n_entries = 0;
    w->n_msgs++;
    return true;
}

static void send_msg(ctl_t *ctl, const flurm_raft_msg_t *m)
{
    struct commit *c = ctl->commit;
    if (m->type == FLURM_RAFT_MSG_SNAPSHOT) {
        /* Host contract 3: attach our snapshot's data. */
        if (c->snap.index != m->snapshot.index)
            return;   /* a newer one replaced it: the core asks again */
        flurm_raft_msg_t s = *m;   /* the core's metadata, configuration included */
        s.data = c->snap_data;
        s.len = c->snap_len;
        peers_send(ctl, &s);
        return;
    }
    peers_send(ctl, m);
}

/* Commit thread. */
static void write_run(pool_task_t *t)
{
    write_t *w = (write_t *)t;
    flurm_raft_update_t u = {
        .hard_state_changed = w->hard,
        .term = w->term,
        .voted_for = w->voted_for,
        .truncate_from = w->truncate_from,
        .entries = w->ents,
        .n_entries = w->n_ents,
        .snapshot = w->has_snapshot ? &w->snap : NULL,
        .snapshot_data = w->snap_data,
        .snapshot_len = w->snap_len,
    };
    w->rc = flurm_raft_store_write(w->ctl->store, &u);
}

static void rebuild_core(ctl_t *ctl);
static void submit_write(ctl_t *ctl);
static void fail_waiting(ctl_t *ctl, entry_t **head, entry_t **tail, const flurm_apply_result_t *res);

/* Loop: the batch is durable (or not). */
static void write_done(pool_task_t *t)
{
    write_t *w = (write_t *)t;
    ctl_t *ctl = w->ctl;
    struct commit *c = ctl->commit;
    c->writing = false;
    if (w->rc != FLURM_OK) {
        /* The core believes this write will land; it did not. Its messages are dropped (nothing
         * they promise is true), the proposals in flight fail, and the core is rebuilt from what
         * the disk holds: at once with peers (this member steps down), before the next proposal
         * with none (so that reads go on meanwhile, and a disk that stays broken is not hammered
         * by elections). */
        if (!c->said_write_error)
            flurm_error("cannot persist the Raft log (%s); proposals in flight fail, the log is "
                        "reloaded from disk", flurm_strerror(w->rc));
        c->said_write_error = true;
        write_free(w);
        write_free(c->open);
        c->open = NULL;
        /* Alone, nobody else has them: they failed. With peers, a leader's appends left before
         * its own write: a majority may hold them, so their outcome is unknown. */
        bool alone = sole_voter(c);
        fail_waiting(ctl, &c->wait_head, &c->wait_tail, alone ? NULL : &commit_outcome_unknown);
        if (!alone)
            rebuild_core(ctl);
        else
            c->disk_failed = true;
        return;
    }
    c->said_write_error = false;
    if (w->has_snapshot) {
        free(c->snap_data);
        c->snap = w->snap;
        c->snap_data = w->snap_data;
        c->snap_len = w->snap_len;
        w->snap_data = NULL;
    }
    for (size_t i = 0; i < w->n_msgs; i++)
        send_msg(ctl, &w->msgs[i].m);
    if (w->has_snapshot)
        step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_INSTALLED, .now_ms = now_ms(),
                                         .index = w->snap.index, .term = w->snap.term });
    if (w->n_ents)
        step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PERSISTED, .now_ms = now_ms(),
                                         .index = w->ents[w->n_ents - 1].index,
                                         .term = w->ents[w->n_ents - 1].term });
    write_free(w);
    submit_write(ctl);
}

static void submit_write(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (c->writing || !c->open)
        return;
    write_t *w = c->open;
    c->open = NULL;
    c->writing = true;
    w->task.run = write_run;
    w->task.done = write_done;
    pool_submit(ctl->committer, &w->task);
}

/* ------------------------------------------------------------------ applying */

const flurm_apply_result_t commit_outcome_unknown = { .rc = 1 /* SLURM_ERROR */ };

/* Tells every proposer in the list RES (NULL: nothing was applied; &commit_outcome_unknown). */
static void fail_waiting(ctl_t *ctl, entry_t **head, entry_t **tail, const flurm_apply_result_t *res)
{
    entry_t *e = *head;
    *head = *tail = NULL;
    for (entry_t *next; e; e = next) {
        next = e->next;
        if (e->done)
            e->done(ctl, e->arg, res);
        flurm_buf_release(&e->cmd);
        free(e);
    }
}

/* Applies one committed entry; resolves the proposals it decides. */
static void apply_entry(ctl_t *ctl, const flurm_raft_entry_t *e, bool *changed)
{
    struct commit *c = ctl->commit;
    if (e->index <= c->applied)
        return;   /* re-delivered after a rebuild of the core: the state has it */
    flurm_apply_result_t res;
    bool ok = false;
    if (e->type == FLURM_RAFT_ENTRY_COMMAND && flurm_cmd_kind(e->data, e->len) == FLURM_CMD_RECONFIGURE) {
        /* Every member switches to its own copy of slurm.conf at the same point of the log. */
        memset(&res, 0, sizeof res);
        res.rc = c->hooks.reconfigure && c->hooks.reconfigure(ctl) != 0 ? 1 /* SLURM_ERROR */ : 0;
        ok = true;
        *changed = true;
    } else if (e->type == FLURM_RAFT_ENTRY_COMMAND) {
        ok = flurm_state_apply(ctl->state, e->data, e->len, &res) == FLURM_OK;
        if (!ok)
            flurm_error("entry %llu (%u bytes) is not a command this flurmctld can apply; skipped",
                        (unsigned long long)e->index, e->len);
        *changed = true;
    }
    c->applied = e->index;
    c->applied_term = e->term;
    bool effects_done = false;
    /* Proposals at or below this index are decided: ours if (index, term) match. */
    while (c->wait_head && c->wait_head->index <= e->index) {
        entry_t *w = c->wait_head;
        c->wait_head = w->next;
        if (!c->wait_head)
            c->wait_tail = NULL;
        /* Below this index: skipped by an installed snapshot, which says nothing of it. */
        bool unknown = w->index < e->index;
        bool mine = w->index == e->index && w->term == e->term && ok;
        if (mine && !effects_done && c->ready && c->hooks.effects) {
            c->hooks.effects(ctl, res.effects, res.neffects);   /* before the proposer hears */
            effects_done = true;
        }
        if (w->done)
            w->done(ctl, w->arg, mine ? &res : unknown ? &commit_outcome_unknown : NULL);
        flurm_buf_release(&w->cmd);
        free(w);
    }
    /* The leader carries out every command's effects, whoever proposed it. */
    if (ok && !effects_done && c->ready && c->hooks.effects)
        c->hooks.effects(ctl, res.effects, res.neffects);
}

/* ------------------------------------------------------------------ the core's updates */

static void set_ready(ctl_t *ctl, bool ready)
{
    struct commit *c = ctl->commit;
    if (c->ready == ready)
        return;
    c->ready = ready;
    if (ready)   /* followers leave what the scheduler derives alone: recompute all of it */
        flurm_state_schedule(ctl->state, (time_t)ev_now(ctl->loop));
    if (ready)
        flurm_info("raft: leading term %llu (%zu member(s), applied %llu)",
                   (unsigned long long)flurm_raft_term(c->raft), (size_t)voters_now(c, NULL),
                   (unsigned long long)c->applied);
    else
        flurm_info("raft: no longer leading (term %llu)", (unsigned long long)flurm_raft_term(c->raft));
    if (c->hooks.leader_changed)
        c->hooks.leader_changed(ctl, ready);
    if (c->hooks.routing_changed)
        c->hooks.routing_changed(ctl);
}

static void roles(ctl_t *ctl, const flurm_raft_update_t *u)
{
    struct commit *c = ctl->commit;
    if (u->role == FLURM_RAFT_LEADER && c->role != FLURM_RAFT_LEADER) {
        /* A single voter's log is committed as soon as durable, and all of it is: it may serve
         * once it applied what it holds. Otherwise only its no-op proves what is committed. */
        c->ready_index = sole_voter(c) && flurm_raft_last_index(c->raft) > 0
                             ? flurm_raft_last_index(c->raft) - 1
                             : flurm_raft_last_index(c->raft);
        if (c->ready_index < c->applied)
            c->ready_index = c->applied;
    }
    if (u->role != FLURM_RAFT_LEADER) {
        c->ready_index = 0;
        set_ready(ctl, false);
        /* proposals not yet handed to the core can no longer be */
        fail_waiting(ctl, &c->pend_head, &c->pend_tail, NULL);
    }
    if (u->role != c->role || u->leader != c->leader) {
        if (u->role == FLURM_RAFT_FOLLOWER && u->leader && u->leader != c->leader)
            flurm_info("raft: following %s (term %llu)", member_name(ctl, u->leader),
                       (unsigned long long)flurm_raft_term(c->raft));
        else if (u->role == FLURM_RAFT_CANDIDATE && c->role != FLURM_RAFT_CANDIDATE)
            flurm_verbose("raft: campaigning in term %llu", (unsigned long long)flurm_raft_term(c->raft));
    }
    bool moved = u->leader != c->leader;
    c->role = u->role;
    c->leader = u->leader;
    if (moved && c->hooks.routing_changed)
        c->hooks.routing_changed(ctl);
}

/* "raft: configuration now voters c1,c2 learners c3" */
static void log_config(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(c->raft, ms, FLURM_RAFT_MAX_MEMBERS);
    if (n > FLURM_RAFT_MAX_MEMBERS)
        n = FLURM_RAFT_MAX_MEMBERS;
    char voters[FLURM_RAFT_MAX_MEMBERS * 66] = "", learners[FLURM_RAFT_MAX_MEMBERS * 66] = "";
    bool self_in = false;
    uint64_t learner_bits = 0;
    for (size_t i = 0; i < n; i++) {
        char *dst = ms[i].flags & FLURM_RAFT_MEMBER_VOTER ? voters : learners;
        size_t len = strlen(dst);
        snprintf(dst + len, sizeof voters - len, "%s%.64s", len ? "," : "", member_name(ctl, ms[i].id));
        self_in |= ms[i].id == c->cfg.id;
        if (!(ms[i].flags & FLURM_RAFT_MEMBER_VOTER))
            learner_bits |= 1ull << ((ms[i].id - 1) & 63);
    }
    c->promoting &= learner_bits;   /* logged again for a learner added anew */
    flurm_info("raft: configuration now voters %s%s%s (index %llu)%s", voters, *learners ? " learners " : "",
               learners, (unsigned long long)flurm_raft_config_index(c->raft),
               self_in ? "" : "; this controller is not a member");
}

static void carry_out(ctl_t *ctl, const flurm_raft_update_t *u)
{
    struct commit *c = ctl->commit;
    roles(ctl, u);
    if (u->config_changed)
        log_config(ctl);

    /* 1a: a snapshot from the leader replaces the state. */
    if (u->snapshot) {
        if (flurm_state_restore(ctl->state, u->snapshot_data, u->snapshot_len) != FLURM_OK) {
            flurm_error("snapshot %llu from the leader is unreadable; exiting rather than diverge",
                        (unsigned long long)u->snapshot->index);
            exit(1);
        }
        c->applied = u->snapshot->index;
        c->applied_term = u->snapshot->term;
        flurm_info("raft: installed the leader's snapshot at index %llu", (unsigned long long)c->applied);
    }
    /* 1d: apply (durable already). */
    bool changed = false;
    for (size_t i = 0; i < u->n_committed; i++)
        apply_entry(ctl, &u->committed[i], &changed);
    if (c->role == FLURM_RAFT_LEADER && c->applied >= c->ready_index)
        set_ready(ctl, true);
    uint64_t commit = flurm_raft_commit_index(c->raft);
    if (c->role != FLURM_RAFT_LEADER && commit > c->applied + CATCHING_UP) {
        if (!c->behind)
            flurm_info("raft: catching up (applied %llu, committed %llu)", (unsigned long long)c->applied,
                       (unsigned long long)commit);
        c->behind = true;
    } else if (c->behind && c->applied >= commit) {
        flurm_info("raft: caught up (index %llu)", (unsigned long long)c->applied);
        c->behind = false;
    }
    if (changed && c->ready) {
        /* Reasons of new and changed jobs are current before anyone can read them (only the
         * ready leader answers reads); then see whether what changed lets jobs start. */
        flurm_state_schedule_changed(ctl->state, (time_t)ev_now(ctl->loop));
        if (c->hooks.batch_applied)
            c->hooks.batch_applied(ctl);
    }

    /* 1a/1b: persist; 1c: messages after it. */
    bool persist = u->hard_state_changed || u->snapshot || u->truncate_from || u->n_entries;
    write_t *w = persist || (u->n_msgs && (c->writing || c->open)) ? open_write(ctl) : NULL;
    if ((persist || u->n_msgs) && !w && (persist || c->writing || c->open)) {
        flurm_error("out of memory for a Raft write; rebuilding from disk");
        rebuild_core(ctl);
        return;
    }
    if (persist && !merge_update(w, u)) {
        flurm_error("out of memory for a Raft write; rebuilding from disk");
        write_free(c->open);
        c->open = NULL;
        rebuild_core(ctl);
        return;
    }
    for (size_t i = 0; i < u->n_msgs; i++) {
        const flurm_raft_msg_t *m = &u->msgs[i];
        if (!w || (m->type == FLURM_RAFT_MSG_APPEND && u->role == FLURM_RAFT_LEADER))
            send_msg(ctl, m);
        else
            hold_msg(w, m);
    }
    submit_write(ctl);
}

static void step(ctl_t *ctl, const flurm_raft_event_t *ev)
{
    struct commit *c = ctl->commit;
    flurm_raft_update_t u;
    int rc = flurm_raft_step(c->raft, ev, &u);
    if (rc != FLURM_OK && rc != FLURM_EAGAIN)
        flurm_debug("raft: event %u: %s", ev->kind, flurm_strerror(rc));
    carry_out(ctl, &u);
}

/* ------------------------------------------------------------------ start, rebuild */

/* A core from what the disk holds. The state machine is restored from the snapshot only at
 * start (RESTORE_STATE); a rebuild keeps the state, which is exactly the applied entries. */
static int make_core(ctl_t *ctl, bool restore_state)
{
    struct commit *c = ctl->commit;
    flurm_raft_persisted_t p;
    const void *data = NULL;
    size_t len = 0;
    flurm_raft_store_loaded_t *held = NULL;
    int rc = flurm_raft_store_load(ctl->store, &p, &data, &len, &held);
    if (rc != FLURM_OK) {
        flurm_error("cannot read the Raft log in %s: %s%s", ctl->conf->state_save_location,
                    flurm_strerror(rc),
                    rc == FLURM_EPROTO ? " (a log this version cannot read; flurmctld -c discards it)" : "");
        return rc;
    }
    if (restore_state && p.snapshot.index) {
        rc = flurm_state_restore(ctl->state, data, len);
        if (rc != FLURM_OK) {
            flurm_error("snapshot at index %llu is unreadable: %s", (unsigned long long)p.snapshot.index,
                        flurm_strerror(rc));
            flurm_raft_store_loaded_free(held);
            return rc;
        }
        c->applied = p.snapshot.index;
        c->applied_term = p.snapshot.term;
    }
    if (p.snapshot.index && (!c->snap_data || c->snap.index != p.snapshot.index)) {
        free(c->snap_data);
        c->snap_data = NULL;
        c->snap = p.snapshot;
        c->snap_len = len;
        if (len && (c->snap_data = malloc(len)))
            memcpy(c->snap_data, data, len);
        else if (len)
            c->snap = (flurm_raft_snapshot_meta_t){ 0 };   /* InstallSnapshot waits for the next one */
    }
    c->cfg.seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ now_ms();
    flurm_err_t err = FLURM_OK;
    flurm_raft_t *r = flurm_raft_new(&c->cfg, &p, &err);
    rc = (int)err;
    size_t n_restored = p.n_entries;
    flurm_raft_store_loaded_free(held);
    if (!r) {
        flurm_error("cannot start Raft: %s", flurm_strerror(rc));
        return rc;
    }
    flurm_raft_free(c->raft);
    c->raft = r;
    c->role = FLURM_RAFT_FOLLOWER;
    c->leader = 0;
    c->ready_index = 0;
    if (restore_state)
        flurm_info("recovered %zu job(s) from %s (snapshot index %llu), %zu log entr%s after it to apply "
                   "as they commit; raft member %s (%llu of %u), term %llu",
                   flurm_state_job_count(ctl->state), ctl->conf->state_save_location,
                   (unsigned long long)p.snapshot.index, n_restored, n_restored == 1 ? "y" : "ies",
                   ctl->self->name, (unsigned long long)ctl->self_id, c->cfg.n_voters,
                   (unsigned long long)p.term);
    return FLURM_OK;
}

static void rebuild_core(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    set_ready(ctl, false);
    fail_waiting(ctl, &c->wait_head, &c->wait_tail, sole_voter(c) ? NULL : &commit_outcome_unknown);
    if (make_core(ctl, false) != FLURM_OK) {
        flurm_error("cannot rebuild the Raft core from disk; exiting (restart recovers)");
        exit(1);
    }
    c->disk_failed = false;
    step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = now_ms() });
}

/* The ready leader promotes a learner to voter once the core says it caught up and no change is
 * pending (a learner exists only because `flurm cluster add` asked for a voter: a new leader
 * finishes what its predecessor started). */
static void maybe_promote(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c->ready || c->role != FLURM_RAFT_LEADER ||
        flurm_raft_config_index(c->raft) > flurm_raft_commit_index(c->raft))
        return;
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(c->raft, ms, FLURM_RAFT_MAX_MEMBERS);
    if (n > FLURM_RAFT_MAX_MEMBERS)
        n = FLURM_RAFT_MAX_MEMBERS;
    for (size_t i = 0; i < n; i++) {
        if ((ms[i].flags & FLURM_RAFT_MEMBER_VOTER) || !(ms[i].flags & FLURM_RAFT_MEMBER_CAUGHT_UP))
            continue;
        uint64_t bit = 1ull << ((ms[i].id - 1) & 63);
        if (!(c->promoting & bit))
            flurm_info("raft: %s caught up: promoting to voter", member_name(ctl, ms[i].id));
        c->promoting |= bit;
        flurm_raft_update_t u;
        int rc = flurm_raft_step(c->raft,
                                 &(flurm_raft_event_t){ .kind = FLURM_RAFT_CHANGE, .change = FLURM_RAFT_PROMOTE,
                                                        .now_ms = now_ms(), .target = ms[i].id },
                                 &u);
        if (rc != FLURM_OK && rc != FLURM_EAGAIN)
            flurm_debug("raft: promoting %s: %s", member_name(ctl, ms[i].id), flurm_strerror(rc));
        carry_out(ctl, &u);
        return;   /* one change at a time */
    }
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_t *ctl = w->data;
    step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = now_ms() });
    if (ctl->commit && ctl->commit->raft)
        maybe_promote(ctl);
}

int commit_recover(ctl_t *ctl, const commit_hooks_t *hooks)
{
    struct commit *c = ctl->commit = calloc(1, sizeof *ctl->commit);
    if (!c)
        return FLURM_ENOMEM;
    c->hooks = *hooks;
    size_t n = ctl->conf->controller_count;
    if (n > FLURM_RAFT_MAX_MEMBERS) {
        flurm_error("%zu SlurmctldHost lines: at most %d controllers", n, FLURM_RAFT_MAX_MEMBERS);
        return FLURM_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        c->voters[i] = i + 1;
    char v[16];
    uint32_t election = ELECTION_MIN_MS;
    if (flurm_conf_ctld_param(ctl->conf, "flurm_election_timeout_ms", v, sizeof v) == FLURM_OK)
        election = (uint32_t)strtoul(v, NULL, 10);
    if (election < 50)
        election = ELECTION_MIN_MS;
    c->cfg = (flurm_raft_config_t){
        .size = sizeof c->cfg,
        .id = ctl->self_id,
        .n_voters = (uint32_t)n,
        .voters = c->voters,
        .pre_vote = 1,
        .election_timeout_min_ms = election,
        .election_timeout_max_ms = 2 * election,
        .heartbeat_ms = election / 6 > 10 ? election / 6 : 10,
        .max_entries_per_msg = 256,
        /* One Append in flight per follower: what is proposed meanwhile goes in the next one, so
         * an Append carries everything proposed during one round trip (the follower's fsync
         * included). Measured on 3 members at 16 clients: half the peer messages and 20% less
         * leader CPU per submit than 8 in flight. */
        .max_inflight_msgs = 1,
        /* Followers forward every request to the leader: they may learn of commits with the
         * next Append or heartbeat (50 ms) instead of one more exchange per batch. */
        .flags = FLURM_RAFT_CONFIG_LAZY_COMMIT,
    };
    int rc = make_core(ctl, true);
    if (rc != FLURM_OK)
        return rc;
    ev_timer_init(&c->tick, on_tick, 0., TICK_S);
    c->tick.data = ctl;
    return FLURM_OK;
}

void commit_start(ctl_t *ctl)
{
    ev_timer_start(ctl->loop, &ctl->commit->tick);
}

void commit_receive(ctl_t *ctl, const flurm_raft_msg_t *m)
{
    if (ctl->commit && ctl->commit->raft)
        step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = now_ms(), .msg = m });
}

uint64_t commit_leader(const ctl_t *ctl)
{
    return ctl->commit ? ctl->commit->leader : 0;
}

bool commit_is_leader(const ctl_t *ctl)
{
    return ctl->commit && ctl->commit->role == FLURM_RAFT_LEADER;
}

bool commit_ready(const ctl_t *ctl)
{
    return ctl->commit && ctl->commit->ready;
}

void commit_status(const ctl_t *ctl, commit_status_t *out)
{
    memset(out, 0, sizeof *out);
    const struct commit *c = ctl->commit;
    if (!c || !c->raft)
        return;
    out->role = c->role;
    out->term = flurm_raft_term(c->raft);
    out->leader = c->leader;
    out->commit = flurm_raft_commit_index(c->raft);
    out->applied = c->applied;
    out->last = flurm_raft_last_index(c->raft);
    out->snapshot = c->snap.index;
    out->n_members = flurm_raft_members(c->raft, out->members, FLURM_RAFT_MAX_MEMBERS);
    if (out->n_members > FLURM_RAFT_MAX_MEMBERS)
        out->n_members = FLURM_RAFT_MAX_MEMBERS;
}

void commit_transfer(ctl_t *ctl, uint64_t target)
{
    step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TRANSFER, .now_ms = now_ms(), .target = target });
}

static const char *const change_names[] = { "?", "add as a learner", "promote to voter", "remove" };

int commit_change(ctl_t *ctl, uint32_t kind, uint64_t id)
{
    struct commit *c = ctl->commit;
    if (!c || !c->raft) {
        if (c)
            c->change_why = "not started";
        return FLURM_EAGAIN;
    }
    c->change_why = NULL;
    /* What the core would say, for a reason that a human can read. */
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(c->raft, ms, FLURM_RAFT_MAX_MEMBERS);
    if (n > FLURM_RAFT_MAX_MEMBERS)
        n = FLURM_RAFT_MAX_MEMBERS;
    const flurm_raft_member_status_t *m = NULL;
    uint32_t voters = 0;
    for (size_t i = 0; i < n; i++) {
        if (ms[i].id == id)
            m = &ms[i];
        voters += (ms[i].flags & FLURM_RAFT_MEMBER_VOTER) != 0;
    }
    if (c->role != FLURM_RAFT_LEADER) {
        c->change_why = "not the leader";
        return FLURM_EAGAIN;
    }
    if (kind == FLURM_RAFT_ADD_LEARNER && m)
        c->change_why = m->flags & FLURM_RAFT_MEMBER_VOTER ? "already a member (a voter)"
                                                           : "already a member (a learner: it is promoted once it "
                                                             "caught up)";
    else if (kind == FLURM_RAFT_ADD_LEARNER && n >= FLURM_RAFT_MAX_MEMBERS)
        c->change_why = "the configuration is full";
    else if (kind == FLURM_RAFT_REMOVE && !m)
        c->change_why = "not a member";
    else if (kind == FLURM_RAFT_REMOVE && (m->flags & FLURM_RAFT_MEMBER_VOTER) && voters == 1)
        c->change_why = "the last voter: a cluster cannot remove its last voter";
    else if (kind == FLURM_RAFT_PROMOTE && (!m || (m->flags & FLURM_RAFT_MEMBER_VOTER)))
        c->change_why = "not a learner";
    if (c->change_why)
        return FLURM_EINVAL;
    if (flurm_raft_config_index(c->raft) > flurm_raft_commit_index(c->raft)) {
        c->change_why = "an earlier membership change is not committed yet";
        return FLURM_EAGAIN;
    }
    if (!c->ready) {
        c->change_why = "the leader has not committed an entry of its term yet";
        return FLURM_EAGAIN;
    }
    flurm_raft_update_t u;
    int rc = flurm_raft_step(c->raft,
                             &(flurm_raft_event_t){ .kind = FLURM_RAFT_CHANGE, .change = kind, .now_ms = now_ms(),
                                                    .target = id },
                             &u);
    if (rc == FLURM_OK)
        flurm_info("raft: proposing to %s %s (index %llu, term %llu)",
                   change_names[kind < 4 ? kind : 0], member_name(ctl, id), (unsigned long long)u.first_index,
                   (unsigned long long)u.proposed_term);
    else if (rc == FLURM_EAGAIN)
        c->change_why = kind == FLURM_RAFT_PROMOTE ? "the learner has not caught up yet"
                        : u.role != FLURM_RAFT_LEADER ? "not the leader"
                                                      : "the leader is busy (a transfer or an earlier change)";
    else if (rc == FLURM_EINVAL)
        c->change_why = "refused by the Raft core";
    else
        c->change_why = flurm_strerror(rc);
    carry_out(ctl, &u);
    return rc;
}

const char *commit_change_why(const ctl_t *ctl)
{
    return ctl->commit && ctl->commit->change_why ? ctl->commit->change_why : "";
}

uint64_t commit_config_index(const ctl_t *ctl)
{
    return ctl->commit && ctl->commit->raft ? flurm_raft_config_index(ctl->commit->raft) : 0;
}

/* ------------------------------------------------------------------ snapshots */

static void snap_run(pool_task_t *t)
{
    snap_task_t *s = (snap_task_t *)t;
    s->rc = flurm_raft_store_snapshot(s->ctl->store, &s->meta, s->data.data, s->data.size);
}

static void snap_done(pool_task_t *t)
{
    snap_task_t *s = (snap_task_t *)t;
    ctl_t *ctl = s->ctl;
    struct commit *c = ctl->commit;
    c->snapshotting = false;
    if (s->rc == FLURM_OK) {
        free(c->snap_data);
        c->snap = s->meta;
        c->snap_len = s->data.size;
        c->snap_data = s->data.data;   /* taken */
        flurm_buf_init(&s->data);
        step(ctl, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = now_ms(),
                                         .index = s->meta.index });
        flurm_verbose("snapshot at index %llu (%zu bytes)", (unsigned long long)s->meta.index, c->snap_len);
    } else {
        flurm_error("snapshot failed: %s (the log keeps growing; nothing is lost)", flurm_strerror(s->rc));
    }
    flurm_buf_release(&s->data);
    free(s);
}

void commit_maybe_snapshot(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c || c->snapshotting || c->applied < c->snap.index + SNAPSHOT_EVERY)
        return;
    snap_task_t *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->ctl = ctl;
    flurm_buf_init(&s->data);
    /* the configuration in force at the snapshot's index (voters, then learners) */
    if (flurm_raft_config_at(c->raft, c->applied, &s->meta) != FLURM_OK) {
        free(s);
        return;   /* the core no longer holds that index: a newer snapshot came meanwhile */
    }
    s->meta.index = c->applied;
    s->meta.term = c->applied_term;
    if (flurm_state_snapshot(ctl->state, &s->data) != FLURM_OK || s->data.err) {
        flurm_error("snapshot failed: out of memory (the log keeps growing; nothing is lost)");
        flurm_buf_release(&s->data);
        free(s);
        return;
    }
    c->snapshotting = true;
    s->task.run = snap_run;
    s->task.done = snap_done;
    pool_submit(ctl->committer, &s->task);
}

/* ------------------------------------------------------------------ proposals */

void commit_flush(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c || !c->pend_head)
        return;
    if (c->disk_failed && !c->writing)
        rebuild_core(ctl);   /* a single voter re-elects itself at once */
    if (!c->ready) {
        if (c->role != FLURM_RAFT_LEADER)
            fail_waiting(ctl, &c->pend_head, &c->pend_tail, NULL);
        return;   /* a leader that is not ready yet proposes once it is */
    }
    size_t n = 0;
    for (entry_t *e = c->pend_head; e; e = e->next)
        n++;
    const void **cmds = calloc(n, sizeof *cmds);
    uint32_t *lens = calloc(n, sizeof *lens);
    if (!cmds || !lens) {
        free(cmds);
        free(lens);
        return;   /* retried on the next loop turn */
    }
    size_t i = 0;
    for (entry_t *e = c->pend_head; e; e = e->next, i++) {
        cmds[i] = e->cmd.data;
        lens[i] = (uint32_t)e->cmd.size;
    }
    flurm_raft_update_t u;
    int rc = flurm_raft_step(c->raft,
                             &(flurm_raft_event_t){ .kind = FLURM_RAFT_PROPOSE, .now_ms = now_ms(),
                                                    .commands = (const void *const *)cmds, .lens = lens,
                                                    .n_commands = n },
                             &u);
    free(cmds);
    free(lens);
    if (rc == FLURM_OK) {
        i = 0;
        for (entry_t *e = c->pend_head; e; e = e->next, i++) {
            e->index = u.first_index + i;
            e->term = u.proposed_term;
        }
        if (c->wait_tail)
            c->wait_tail->next = c->pend_head;
        else
            c->wait_head = c->pend_head;
        c->wait_tail = c->pend_tail;
        c->pend_head = c->pend_tail = NULL;
    }
    carry_out(ctl, &u);
    /* ENOMEM, or EAGAIN while a transfer runs: proposed again next turn (a transfer that ends
     * with another leader fails them through roles()). */
    if (rc != FLURM_OK && rc != FLURM_ENOMEM && !(rc == FLURM_EAGAIN && c->role == FLURM_RAFT_LEADER))
        fail_waiting(ctl, &c->pend_head, &c->pend_tail, NULL);
}

void commit_propose(ctl_t *ctl, flurm_buf_t *cmd, commit_done_fn done, void *arg)
{
    struct commit *c = ctl->commit;   /* made by commit_recover() at start */
    entry_t *e = calloc(1, sizeof *e);
    if (!e || c->role != FLURM_RAFT_LEADER) {
        free(e);
        flurm_buf_release(cmd);
        if (done)
            done(ctl, arg, NULL);
        return;
    }
    e->cmd = *cmd;
    flurm_buf_init(cmd);
    e->done = done;
    e->arg = arg;
    if (c->pend_tail)
        c->pend_tail->next = e;
    else
        c->pend_head = e;
    c->pend_tail = e;
}

void commit_internal(ctl_t *ctl, uint16_t kind, const void *body, size_t len, commit_done_fn done,
                     void *arg)
{
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    if (flurm_cmd_build(&cmd, kind, (time_t)ev_now(ctl->loop), (uint32_t)getuid(), (uint32_t)getgid(), 0,
                        NULL, body, len) != FLURM_OK) {
        flurm_buf_release(&cmd);
        if (done)
            done(ctl, arg, NULL);
        return;   /* housekeeping retries on the next tick */
    }
    commit_propose(ctl, &cmd, done, arg);
}

bool commit_busy(const ctl_t *ctl)
{
    const struct commit *c = ctl->commit;
    return c && (c->writing || c->open || c->snapshotting || c->pend_head ||
                 (c->wait_head && c->role == FLURM_RAFT_LEADER && sole_voter(c)));
}

void commit_shutdown(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c)
        return;
    ev_timer_stop(ctl->loop, &c->tick);
    fail_waiting(ctl, &c->pend_head, &c->pend_tail, NULL);
    fail_waiting(ctl, &c->wait_head, &c->wait_tail, &commit_outcome_unknown);
    write_free(c->open);
    flurm_raft_free(c->raft);
    free(c->snap_data);
    free(c);
    ctl->commit = NULL;
}
