/* tests/sim/world.h — a simulated cluster of Raft cores (libflurm/raft) in one process.
 *
 * Simulated time (1 ms steps), a network with loss, delay, reordering, duplication and
 * partitions, disks whose writes complete in order after a latency (a crash loses what was not
 * yet written, and the messages that were waiting for it), clock jumps, and one of two state
 * machines:
 *   - the toy (default): commands are u64s, state = running hash + count (fast);
 *   - FLURM's production state machine (world_init_flurm): every node holds a flurm_state_t over
 *     one shared configuration, commands are real flurm_cmd_build() commands (see flsm.c for
 *     what a leader proposes), snapshots are flurm_state_snapshot() bytes and InstallSnapshot
 *     restores them with flurm_state_restore().
 * Everything comes from one seed. Invariants are checked as the world runs; the first violation
 * is kept in w->failed.
 *
 * Membership (world_init_members, world_change): only nodes 1..boot_voters start as voters; the
 * others run as servers outside the configuration until added. Checked then too: election
 * safety (one leader per term whatever the configurations), no two disjoint majorities (every
 * committed configuration against the previous one; every leader's configuration in force
 * against the latest committed one), every commit durable on a majority of the voters the
 * leader counted with, a leader is a voter when elected and steps down once its removal is
 * committed. */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <flurm/conf.h>
#include <flurm/raft.h>

typedef struct flurm_state flurm_state_t;

#define W_MAX 5

typedef struct w_entry {
    uint64_t index, term;
    uint32_t type, len;
    uint8_t *data;             /* LEN bytes, owned (NULL when LEN is 0); toy commands are 8 bytes */
} w_entry_t;

typedef struct w_write w_write_t;

typedef struct w_node {
    uint64_t id;
    flurm_raft_t *r;
    bool alive;
    uint32_t incarnation;
    uint64_t clock_off;        /* local clock = world time + clock_off (jumps forward) */
    uint64_t next_tick;
    uint64_t restart_at;       /* crashed: when it comes back (0 = stays down) */
    /* disk */
    uint64_t d_term, d_vote;
    flurm_raft_snapshot_meta_t d_snap;
    uint8_t *d_snap_data;      /* the state machine's snapshot bytes at d_snap.index */
    size_t d_snap_len;
    w_entry_t *d_log;          /* d_snap.index + 1 ... */
    size_t d_len, d_cap;
    /* writes in flight, FIFO */
    w_write_t *wq_head, *wq_tail;
    /* state machine */
    uint64_t applied, hash, count;     /* toy */
    flurm_state_t *st;                 /* FLURM mode */
    uint64_t last_snap_applied;
    uint32_t role;
    uint64_t term;
    /* FLURM mode host (as bin/flurmctld: commit.c, rpc.c) */
    bool ready;                        /* leader that applied its own no-op: serves requests */
    uint64_t ready_index;
    uint32_t reserved_job_id;          /* rpc.c's reserve_job_id (per process: 0 after a restart) */
    int64_t wall_off;                  /* wall clock (commands' time) = T0 + local clock + this, ms;
                                        * steps either way */
    uint64_t installed;                /* index of the snapshot installed since the last apply */
    uint64_t *waits;                   /* proposals handed to the core, commit.c's FIFO */
    size_t n_waits, cap_waits;
    uint64_t checked_commit;           /* leader: commit index checked durable (this incarnation) */
    uint64_t members_hash;             /* of flurm_raft_members() after the last step */
} w_node_t;

typedef struct w_prop {
    uint64_t index, term;
    uint32_t node, incarnation;
    bool acked;
    bool applied_somewhere;
    /* FLURM mode */
    uint16_t kind;                     /* command kind */
    bool fifo_failed;                  /* commit.c's FIFO told the requester it failed */
    uint64_t fifo_at, fifo_at_term;    /* ... when it applied this entry */
    uint64_t fifo_snap;                /* ... the first after a snapshot covering it (0: none) */
    uint32_t reserved_id;              /* SUBMIT: the id the proposer reserved */
    uint32_t job_id;                   /* SUBMIT acknowledged: the id the apply gave it */
} w_prop_t;

typedef struct w_applied {
    bool set;
    uint64_t term, cmd, hash, count;   /* toy: the command, the state after it */
    uint32_t type;
    /* FLURM mode: the command and what applying it did, the same on every replica */
    uint64_t cmd_hash, digest;         /* hash of the command bytes / of the snapshot after it */
    uint64_t effects;                  /* hash of the effects the apply asked for */
    uint32_t rc, job_id, next_job_id;
    uint16_t kind;
} w_applied_t;

typedef struct w_msg w_msg_t;

/* Scripted scenarios: look at (and may shorten the entries of) each message as it is sent;
 * return true to drop it. */
typedef bool (*w_filter_fn)(void *arg, flurm_raft_msg_t *m);

typedef struct world {
    uint64_t seed, rng, now;
    uint32_t n;
    w_node_t nodes[W_MAX];
    bool blocked[W_MAX][W_MAX];     /* blocked[a][b]: messages a -> b are dropped */
    /* network */
    uint32_t loss_pct, dup_pct, delay_min, delay_max;
    uint32_t disk_min, disk_max;
    w_msg_t **heap;
    size_t heap_len, heap_cap;
    uint64_t msg_seq;
    w_filter_fn filter;
    void *filter_arg;
    /* config of the cores */
    flurm_raft_config_t cfg;
    /* FLURM mode (conf != NULL): the configuration every node's flurm_state_t runs on */
    const flurm_conf_t *conf;
    bool host_schedule;             /* run flurm_state_schedule_changed after applied batches and
                                     * flurm_state_schedule on the leader, as flurmctld does; they
                                     * write derived fields (reasons, jobs_changed) into the state,
                                     * so differing snapshots are only counted, while differing
                                     * apply outcomes still fail */
    uint32_t digest_every;          /* hash the snapshot after every Nth index (1 = every one) */
    uint8_t *purged;                /* job id -> a committed PURGE removed it */
    size_t purged_cap;
    uint64_t max_applied_seen;      /* highest index recorded in applied[] */
    /* proposes one command at leader I (the settle phase); returns its proposal number, 0 if
     * refused; NULL: world_propose(w, i, 1) */
    uint64_t (*propose_one)(struct world *w, uint32_t i);
    uint32_t snapshot_every;        /* host snapshots after this many applied entries (0 = never) */
    /* history */
    uint64_t *leader_of_term;       /* index term */
    size_t lot_cap;
    w_applied_t *applied;           /* index */
    size_t applied_cap;
    w_prop_t *props;                /* index cmd (1-based) */
    size_t n_props, props_cap;
    uint64_t *cmd_at;               /* cmd -> log index it was applied at (0 = never) */
    uint64_t max_commit_seen;
    bool verbose;
    bool started;                   /* nodes are created on the first step (after the caller's tweaks) */
    char failed[512];
    uint64_t stats_elections, stats_msgs, stats_acked, stats_installs, stats_crashes;
    uint64_t stats_kinds[8];        /* FLURM: acknowledged submit, start, end, kill, register, purge, other */
    uint64_t stats_fifo_misreports, stats_id_moved, stats_digests;
    uint64_t stats_state_diffs;     /* host_schedule: snapshots that differed (not a failure there) */
    /* membership */
    uint32_t boot_voters;           /* cfg voters are ids 1..boot_voters (= n unless world_init_members) */
    flurm_raft_snapshot_meta_t committed_conf;   /* latest committed configuration seen by a leader */
    uint64_t committed_conf_at;     /* ... at this commit index */
    flurm_raft_snapshot_meta_t applied_conf;     /* of the last CONFIG entry applied (log order) */
    uint64_t stats_changes[4];      /* accepted: add learner, promote, remove, a leader removing itself */
    uint64_t stats_conf_commits;    /* committed configurations seen */
} world_t;

/* N nodes (ids 1..N), default core config (election 300-600 ms, heartbeat 50 ms), network 1-10
 * ms, disk 1-4 ms, no loss. */
int world_init(world_t *w, uint32_t n, uint64_t seed);
/* The same in FLURM mode: nodes run flurm_state_t over CONF (borrowed, outlives the world). */
int world_init_flurm(world_t *w, uint32_t n, uint64_t seed, const flurm_conf_t *conf);
/* N slots (ids 1..N), of which 1..VOTERS form the bootstrap configuration (FLURM_RAFT_CHANGE
 * adds the others). */
int world_init_members(world_t *w, uint32_t n, uint32_t voters, uint64_t seed);
void world_free(world_t *w);

/* FLURM_RAFT_CHANGE at node I; returns the core's answer. */
flurm_err_t world_change(world_t *w, uint32_t i, uint32_t kind, uint64_t target);
/* Whether node I is a member (voter or learner) of the configuration of the current leader (of
 * the highest term; false without a leader). */
bool world_is_member(const world_t *w, uint32_t i);

/* Advance by MS milliseconds (stops early once failed). */
void world_run(world_t *w, uint64_t ms);
/* Run until pred or TIMEOUT_MS elapsed; returns pred's last value. */
bool world_run_until(world_t *w, bool (*pred)(world_t *, void *), void *arg, uint64_t timeout_ms);

void world_crash(world_t *w, uint32_t i);
void world_restart(world_t *w, uint32_t i);
void world_block(world_t *w, uint32_t a, uint32_t b, bool blocked);   /* both directions */
void world_isolate(world_t *w, uint32_t i, bool blocked);
void world_heal(world_t *w);
/* Make node I campaign now (as if a leader had sent it TimeoutNow). */
void world_force_campaign(world_t *w, uint32_t i);

/* Propose COUNT new commands at node I; returns the first command number, 0 if refused. */
uint64_t world_propose(world_t *w, uint32_t i, uint32_t count);
/* FLURM mode: propose N commands (bytes) at node I; KINDS/RESERVED describe each. Returns the
 * first proposal number (props[number - 1]), 0 if refused. */
uint64_t world_propose_bytes(world_t *w, uint32_t i, size_t n, const void *const *cmds, const uint32_t *lens,
                             const uint16_t *kinds, const uint32_t *reserved);
/* FLURM mode: node I's wall clock (for command timestamps), seconds. */
int64_t world_wall(const world_t *w, uint32_t i);

/* Node index of the leader with the highest term among live nodes, -1 if none. */
int world_leader(const world_t *w);

/* Full checks: log matching between all live pairs. */
void world_check_logs(world_t *w);
/* FLURM mode, after settling: byte-identical snapshots of replicas at the same index, every
 * acknowledged submission's job in every replica's state (unless a committed PURGE removed it). */
void world_check_flurm_final(world_t *w);
/* Heal everything, restart crashed nodes, stop loss; then require a leader that commits a new
 * command and every live node applying it within LIMIT_MS; then check acknowledged commands. */
void world_settle_and_check(world_t *w, uint64_t limit_ms);

void world_fail(world_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
