/* bin/flurmctld/commit.h — the commit pipeline: every change to the controller's state goes
 * propose -> durable on a majority of the controllers -> applied, in log order, through here
 * and nowhere else.
 *
 * The log is Raft's (include/flurm/raft.h): the members are the SlurmctldHost lines, one
 * controller being a cluster of one. Only the leader proposes; what is proposed during a loop
 * turn is handed to the core at once, every member persists what it receives with one fsync per
 * batch on the commit thread, and each member applies committed commands on the loop in index
 * order; on the leader the proposer then hears the result. The log's other ends live here too:
 * recovery at start (snapshot, then the log as it commits) and snapshots that let the log be
 * truncated and catch up a member that fell too far behind.
 *
 * Loop thread only. */
#ifndef FLURMCTLD_COMMIT_H
#define FLURMCTLD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flurm/buf.h>
#include <flurm/raft.h>

#include "state/state.h"

typedef struct ctl ctl_t;

/* A proposal's outcome, on the loop: RES once its command is applied; NULL if it was not and
 * never will be (not durable, or another entry took its place: the proposer answers with a
 * storage error or retries); &commit_outcome_unknown (rc SLURM_ERROR) if this controller lost
 * track of it (it stopped leading and a snapshot or a rebuild skipped its index: it may have
 * been applied elsewhere, so it must not be retried as if it had failed). ARG is the
 * proposer's. */
typedef void (*commit_done_fn)(ctl_t *ctl, void *arg, const flurm_apply_result_t *res);
extern const flurm_apply_result_t commit_outcome_unknown;

/* What the pipeline tells the rest of the controller (wired by main.c, so that the pipeline
 * depends on nobody it serves). */
typedef struct commit_hooks {
    /* after each command is applied, before its proposer hears: carry out its effects */
    void (*effects)(ctl_t *ctl, const flurm_effect_t *effects, size_t n);
    /* after a durable batch was applied: what changed may let jobs start */
    void (*batch_applied)(ctl_t *ctl);
    /* this controller became the leader that serves (READY), or stopped being it */
    void (*leader_changed)(ctl_t *ctl, bool ready);
    /* the known leader or this controller's readiness changed: requests waiting may be routed */
    void (*routing_changed)(ctl_t *ctl);
    /* a FLURM_CMD_RECONFIGURE is applied: re-read slurm.conf (0, or nonzero: kept the old one) */
    int (*reconfigure)(ctl_t *ctl);
} commit_hooks_t;

/* Restores the state from the newest snapshot and opens the Raft log after it (its entries are
 * applied as they are known committed: at once for a single controller, once a leader is
 * elected otherwise), and keeps HOOKS (copied). FLURM_EPROTO (logged) if the store holds a record
 * this version cannot read: refusing to start loses nothing. */
int commit_recover(ctl_t *ctl, const commit_hooks_t *hooks);

/* Starts the Raft clock (once the loop and the peer link exist). */
void commit_start(ctl_t *ctl);

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

/* A Raft message from a peer (peers.c), on the loop. */
void commit_receive(ctl_t *ctl, const flurm_raft_msg_t *m);

/* The member that leads as far as this controller knows (0: none known), whether it is this
 * one, and whether this leader may answer: it has applied everything committed before its own
 * term (its first entry of the term is applied), so its state is at least every acknowledged
 * write. */
uint64_t commit_leader(const ctl_t *ctl);
bool commit_is_leader(const ctl_t *ctl);
bool commit_ready(const ctl_t *ctl);

/* For `flurm cluster status`, scontrol ping and /metrics. */
typedef struct commit_status {
    uint32_t role;                   /* flurm_raft_role_t */
    uint64_t term, leader, commit, applied, last, snapshot;
    size_t n_members;
    flurm_raft_member_status_t members[FLURM_RAFT_MAX_MEMBERS];
} commit_status_t;
void commit_status(const ctl_t *ctl, commit_status_t *out);

/* Leader: hands leadership to member TARGET (0: the most up-to-date). */
void commit_transfer(ctl_t *ctl, uint64_t target);

/* Leader: membership change KIND (flurm_raft_change_kind_t) of member ID (include/flurm/raft.h
 * MEMBERSHIP). FLURM_OK: the CONFIG entry is proposed (it takes effect at once; watch
 * commit_config_index() against the commit index). FLURM_EAGAIN: not the leader, the leader has
 * not committed an entry of its term yet, an earlier change is not committed, or (PROMOTE) the
 * learner has not caught up: retry later. FLURM_EINVAL: adding a member, removing a non-member or
 * the last voter, promoting a non-learner. commit_change_why() says which, for humans.
 * A learner is promoted to voter by the ready leader itself once the core reports it caught up
 * (logged "raft: NAME caught up: promoting to voter"); every configuration change is logged
 * ("raft: configuration now voters c1,c2 learners c3"). */
int commit_change(ctl_t *ctl, uint32_t kind, uint64_t id);
const char *commit_change_why(const ctl_t *ctl);
/* The index from which the configuration in force holds (flurm_raft_config_index()). */
uint64_t commit_config_index(const ctl_t *ctl);

/* Releases what is queued (at exit, after commit_busy() went false). */
void commit_shutdown(ctl_t *ctl);

#endif
