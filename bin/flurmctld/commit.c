/* bin/flurmctld/commit.c — see commit.h. */
#include "commit.h"

#include <stdlib.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/store.h>

#include "ctl.h"

/* Take a snapshot (and drop the log before it) once this many commands follow the last one. */
#define SNAPSHOT_EVERY 20000

typedef struct entry {
    flurm_buf_t cmd;
    uint64_t index;            /* once batched */
    commit_done_fn done;
    void *arg;
    struct entry *next;
} entry_t;

/* A batch of commands on its way to disk. */
typedef struct batch {
    pool_task_t task;          /* first member */
    ctl_t *ctl;
    entry_t *head;             /* in index order */
    uint64_t first_index;
    size_t n;
    int rc;
} batch_t;

struct commit {
    commit_hooks_t hooks;
    entry_t *pend_head, *pend_tail;   /* proposed, not yet shipped */
    bool in_flight;
    uint64_t next_index;              /* log index of the next command to ship */
    uint64_t snapshot_index;          /* log index covered by the last snapshot */
};

/* ------------------------------------------------------------------ recovery */

static int replay_one(uint64_t index, const void *data, size_t len, void *arg)
{
    ctl_t *ctl = arg;
    flurm_apply_result_t res;
    if (flurm_state_apply(ctl->state, data, len, &res) != FLURM_OK) {
        flurm_error("command %llu in the log (%zu bytes) is not one this flurmctld can read; "
                    "refusing to start rather than lose state (flurmctld -c discards it)",
                    (unsigned long long)index, len);
        return FLURM_EPROTO;
    }
    ctl->commit->next_index = index + 1;
    return 0;
}

int commit_recover(ctl_t *ctl, const commit_hooks_t *hooks)
{
    struct commit *c = ctl->commit = calloc(1, sizeof *ctl->commit);
    if (!c)
        return FLURM_ENOMEM;
    c->hooks = *hooks;
    uint64_t snap_index = 0;
    void *snap = NULL;
    size_t snap_len = 0;
    int rc = flurm_store_load_snapshot(ctl->store, &snap_index, &snap, &snap_len);
    if (rc == FLURM_OK) {
        rc = flurm_state_restore(ctl->state, snap, snap_len);
        free(snap);
        if (rc != FLURM_OK) {
            flurm_error("snapshot at index %llu is unreadable: %s", (unsigned long long)snap_index,
                        flurm_strerror(rc));
            return rc;
        }
    } else if (rc != FLURM_ENOENT) {
        flurm_error("cannot read the snapshot: %s", flurm_strerror(rc));
        return rc;
    }
    c->snapshot_index = snap_index;
    c->next_index = snap_index + 1;
    rc = flurm_store_read(ctl->store, snap_index + 1, replay_one, ctl);
    if (rc != FLURM_OK) {
        flurm_error("cannot replay the command log: %s", flurm_strerror(rc));
        return rc;
    }
    if (flurm_store_last_index(ctl->store) + 1 > c->next_index)
        c->next_index = flurm_store_last_index(ctl->store) + 1;
    flurm_info("recovered %zu job(s) from %s (snapshot index %llu, %llu command(s) replayed); "
               "next job id %u",
               flurm_state_job_count(ctl->state), ctl->conf->state_save_location,
               (unsigned long long)snap_index, (unsigned long long)(c->next_index - 1 - snap_index),
               flurm_state_next_job_id(ctl->state));
    return FLURM_OK;
}

void commit_maybe_snapshot(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c || c->in_flight || c->pend_head || c->next_index - 1 < c->snapshot_index + SNAPSHOT_EVERY)
        return;
    flurm_buf_t b;
    flurm_buf_init(&b);
    uint64_t idx = c->next_index - 1;
    int rc = flurm_state_snapshot(ctl->state, &b);
    if (rc == FLURM_OK)
        rc = flurm_store_save_snapshot(ctl->store, idx, b.data, b.size);
    if (rc == FLURM_OK) {
        c->snapshot_index = idx;
        flurm_verbose("snapshot at index %llu (%zu bytes)", (unsigned long long)idx, b.size);
    } else {
        flurm_error("snapshot failed: %s (the log keeps growing; nothing is lost)", flurm_strerror(rc));
    }
    flurm_buf_release(&b);
}

/* ------------------------------------------------------------------ the pipeline */

/* Commit thread. */
static void batch_run(pool_task_t *t)
{
    batch_t *b = (batch_t *)t;
    flurm_iov_t *iov = calloc(b->n, sizeof *iov);
    if (!iov) {
        b->rc = FLURM_ENOMEM;
        return;
    }
    size_t i = 0;
    for (entry_t *e = b->head; e; e = e->next, i++) {
        iov[i].data = e->cmd.data;
        iov[i].len = e->cmd.size;
    }
    b->rc = flurm_store_append(b->ctl->store, b->first_index, iov, b->n);
    free(iov);
}

/* Loop thread: the batch is durable (or not); apply it in order and tell the proposers. */
static void batch_done(pool_task_t *t)
{
    batch_t *b = (batch_t *)t;
    ctl_t *ctl = b->ctl;
    struct commit *c = ctl->commit;
    bool persisted = b->rc == FLURM_OK;
    c->in_flight = false;
    if (persisted)
        c->next_index = b->first_index + b->n;
    else
        flurm_error("cannot persist %zu command(s): %s; rejecting them", b->n, flurm_strerror(b->rc));
    for (entry_t *e = b->head, *next; e; e = next) {
        next = e->next;
        flurm_apply_result_t res;
        bool applied = persisted;
        if (applied && flurm_state_apply(ctl->state, e->cmd.data, e->cmd.size, &res) != FLURM_OK) {
            flurm_error("command %llu could not be applied", (unsigned long long)e->index);
            applied = false;
        }
        if (applied && c->hooks.effects)
            c->hooks.effects(ctl, res.effects, res.neffects);   /* before the proposer hears */
        if (e->done)
            e->done(ctl, e->arg, applied ? &res : NULL);
        flurm_buf_release(&e->cmd);
        free(e);
    }
    free(b);
    /* Reasons of new and changed jobs are current before anyone can read them; then see
     * whether what changed lets jobs start. */
    flurm_state_schedule_changed(ctl->state, (time_t)ev_now(ctl->loop));
    if (persisted && c->hooks.batch_applied)
        c->hooks.batch_applied(ctl);
    commit_flush(ctl);
}

void commit_flush(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c || c->in_flight || !c->pend_head)
        return;
    batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return;   /* retried on the next loop turn */
    b->ctl = ctl;
    b->head = c->pend_head;
    b->first_index = c->next_index;
    uint64_t idx = b->first_index;
    for (entry_t *e = b->head; e; e = e->next) {
        e->index = idx++;
        b->n++;
    }
    c->pend_head = c->pend_tail = NULL;
    c->in_flight = true;
    b->task.run = batch_run;
    b->task.done = batch_done;
    pool_submit(ctl->committer, &b->task);
}

void commit_propose(ctl_t *ctl, flurm_buf_t *cmd, commit_done_fn done, void *arg)
{
    struct commit *c = ctl->commit;   /* made by commit_recover() at start */
    entry_t *e = calloc(1, sizeof *e);
    if (!e) {
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
    return ctl->commit && (ctl->commit->in_flight || ctl->commit->pend_head);
}

void commit_shutdown(ctl_t *ctl)
{
    struct commit *c = ctl->commit;
    if (!c)
        return;
    for (entry_t *e = c->pend_head, *next; e; e = next) {
        next = e->next;
        if (e->done)
            e->done(ctl, e->arg, NULL);
        flurm_buf_release(&e->cmd);
        free(e);
    }
    free(c);
    ctl->commit = NULL;
}
