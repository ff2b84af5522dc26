/* bin/flurmctld/commit.h — the commit pipeline: every change to the controller's state goes
 * propose -> durable -> applied, in log order, through here and nowhere else.
 *
 * Today one controller: what is proposed during a loop turn forms a batch, appended to the store
 * with one fsync on the commit thread; then each command is applied on the loop, in index order,
 * and its proposer hears the result. Raft replaces "durable" with "durable on a majority" behind
 * the same calls. The log's other ends live here too: recovery at start (snapshot + replay) and
 * snapshots that let the log be truncated.
 *
 * Loop thread only. */
#ifndef FLURMCTLD_COMMIT_H
#define FLURMCTLD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flurm/buf.h>

#include "state/state.h"

typedef struct ctl ctl_t;

/* A proposal's outcome, on the loop: RES once its command is applied, NULL if it could not be
 * made durable (nothing was applied; the proposer answers with a storage error or retries). ARG
 * is the proposer's. */
typedef void (*commit_done_fn)(ctl_t *ctl, void *arg, const flurm_apply_result_t *res);

/* What the pipeline tells the rest of the controller (wired by main.c, so that the pipeline
 * depends on nobody it serves). */
typedef struct commit_hooks {
    /* after each command is applied, before its proposer hears: carry out its effects */
    void (*effects)(ctl_t *ctl, const flurm_effect_t *effects, size_t n);
    /* after a durable batch was applied: what changed may let jobs start */
    void (*batch_applied)(ctl_t *ctl);
} commit_hooks_t;

/* Rebuilds the state from the newest snapshot and the log after it, and keeps HOOKS (copied)
 * for what is applied from then on; replaying the log calls no hook. FLURM_EPROTO (logged) if
 * the log holds a command this controller cannot apply: refusing to start loses nothing. */
int commit_recover(ctl_t *ctl, const commit_hooks_t *hooks);

/* Proposes the command in CMD (a flurm_cmd_build() frame; its bytes are taken and CMD left
 * empty). DONE (may be NULL) runs once it is applied or failed. */
void commit_propose(ctl_t *ctl, flurm_buf_t *cmd, commit_done_fn done, void *arg);

/* A command the controller decided on itself (timeouts, purges, node events, scheduling):
 * KIND + BODY under the controller's own uid, proposed as above. DONE runs with NULL at once if
 * it cannot be built. */
void commit_internal(ctl_t *ctl, uint16_t kind, const void *body, size_t len, commit_done_fn done,
                     void *arg);

/* Ships what was proposed since the last call (once per loop turn; one batch in flight). */
void commit_flush(ctl_t *ctl);

/* True while proposals are queued or in flight (an orderly stop waits for false). */
bool commit_busy(const ctl_t *ctl);

/* Takes a snapshot and truncates the log before it once enough commands follow the last one;
 * only between batches, so the snapshot's index is exact. */
void commit_maybe_snapshot(ctl_t *ctl);

/* Releases what is queued (at exit, after commit_busy() went false). */
void commit_shutdown(ctl_t *ctl);

#endif
