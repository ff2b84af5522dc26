/* tests/sim/world.h — a simulated cluster of Raft cores (libflurm/raft) in one process.
 *
 * Simulated time (1 ms steps), a network with loss, delay, reordering, duplication and
 * partitions, disks whose writes complete in order after a latency (a crash loses what was not
 * yet written, and the messages that were waiting for it), clock jumps, and a state machine
 * whose commands are u64s (state = running hash + count). Everything comes from one seed.
 * Invariants are checked as the world runs; the first violation is kept in w->failed. */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <flurm/raft.h>

#define W_MAX 5

typedef struct w_entry {
    uint64_t index, term;
    uint32_t type;
    uint64_t cmd;   /* COMMAND entries carry 8 bytes */
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
    uint64_t d_snap_hash, d_snap_count;
    w_entry_t *d_log;          /* d_snap.index + 1 ... */
    size_t d_len, d_cap;
    /* writes in flight, FIFO */
    w_write_t *wq_head, *wq_tail;
    /* state machine */
    uint64_t applied, hash, count;
    uint64_t last_snap_applied;
    uint32_t role;
    uint64_t term;
} w_node_t;

typedef struct w_prop {
    uint64_t index, term;
    uint32_t node, incarnation;
    bool acked;
    bool applied_somewhere;
} w_prop_t;

typedef struct w_applied {
    bool set;
    uint64_t term, cmd, hash, count;
    uint32_t type;
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
} world_t;

/* N nodes (ids 1..N), default core config (election 300-600 ms, heartbeat 50 ms), network 1-10
 * ms, disk 1-4 ms, no loss. */
int world_init(world_t *w, uint32_t n, uint64_t seed);
void world_free(world_t *w);

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
/* Node index of the leader with the highest term among live nodes, -1 if none. */
int world_leader(const world_t *w);

/* Full checks: log matching between all live pairs. */
void world_check_logs(world_t *w);
/* Heal everything, restart crashed nodes, stop loss; then require a leader that commits a new
 * command and every live node applying it within LIMIT_MS; then check acknowledged commands. */
void world_settle_and_check(world_t *w, uint64_t limit_ms);

void world_fail(world_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
