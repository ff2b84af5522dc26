/* include/flurm/raft.h — the Raft consensus core as a sans-I/O state machine.
 *
 * The core never touches a socket, a disk or a clock: the host feeds it events (a tick with the
 * time, a decoded peer message, a proposal, "this much of the log is durable") through
 * flurm_raft_step() and carries out the actions it returns in a flurm_raft_update_t (persist,
 * send, apply). The same events give the same actions byte for byte (the randomised election
 * timeout comes from cfg->seed), so a simulator can run a whole cluster in one process.
 *
 * Implemented: leader election with pre-vote and leader stickiness, check-quorum step-down, a
 * no-op entry on election, the Figure-8 commit rule (only entries of the leader's own term are
 * committed by counting), pipelined batched replication with fast backtracking, snapshots
 * (compaction + InstallSnapshot), leadership transfer (TimeoutNow), restart from persisted
 * state, and single-server membership changes with non-voting learners (see MEMBERSHIP below).
 *
 * HOST CONTRACT (what makes the algorithm safe; violating it loses acknowledged writes):
 *  1. Apply each update in this order:
 *     a. if update.snapshot is set: make the snapshot durable (metadata + data), discard the
 *        whole log, and restore the state machine from the data;
 *     b. if update.truncate_from != 0: delete log entries with index >= truncate_from;
 *        append update.entries; store update.hard_state if hard_state_changed.
 *        a+b should be one atomic write (one batch + fsync);
 *     c. only once the write of (a, b) AND of every earlier update is durable, send
 *        update.msgs (a vote, an acknowledgement or an append must never leave before the
 *        state it promises is on disk), then report it with FLURM_RAFT_PERSISTED (last index
 *        and term of the entries written; FLURM_RAFT_SNAPSHOT_INSTALLED for a snapshot);
 *     d. apply update.committed in order (they are always durable already: the core hands
 *        out for apply only entries reported PERSISTED).
 *     Writes must become durable in the order the updates were returned.
 *     Exception allowed by the core (etcd's rule): messages of type APPEND from a leader may be
 *     sent before the leader's own write completes; the leader counts its own copy only once
 *     PERSISTED. Votes and replies must wait.
 *  2. Everything the update points to is owned by the core and valid until the next call on
 *     the same handle (copy what must live longer, e.g. messages queued for a slow peer).
 *  3. A message of type INSTALL_SNAPSHOT is returned with data == NULL: the host attaches the
 *     data of its snapshot at msg.snapshot.index (the one last reported by SNAPSHOT_TAKEN).
 *     msg.snapshot is the core's metadata (its configuration included): send it as it is, or
 *     the metadata the host stored, which must then come from flurm_raft_config_at().
 *  4. On restart pass exactly what the disk holds in flurm_raft_persisted_t.
 *  5. now_ms must never go backwards (a monotonic clock); a value below the last one seen is
 *     treated as the last one.
 *  6. A proposal's outcome: it committed iff the host applies an entry with the index AND term
 *     returned by PROPOSE. If the host applies a different term at that index, it failed. If the
 *     node loses leadership first (update.role != LEADER), the outcome is unknown until then.
 *
 * MEMBERSHIP (Ongaro's thesis 4.1, single-server changes; 4.2.1 catch-up). A configuration is a
 * set of voters (elect, count for commit) and learners (receive the log, never vote or count).
 *  - It takes effect on a server as soon as its FLURM_RAFT_ENTRY_CONFIG entry is in the server's
 *    log, committed or not: the configuration in force is that of the last CONFIG entry in the log,
 *    else the snapshot's, else cfg->voters. A truncated CONFIG entry reverts to the one before it
 *    (also across restarts: on restart the restored log decides the same way).
 *  - The leader changes it one server at a time (FLURM_RAFT_CHANGE): add a learner, promote a
 *    learner to voter, or remove a voter or learner. It accepts a change only when the previous
 *    CONFIG entry is committed and it has committed an entry of its own term (its no-op), so two
 *    successive configurations always differ by one server and any two majorities intersect.
 *  - Catch-up is two events, driven by the host: ADD_LEARNER, then PROMOTE once the learner has
 *    caught up. The core refuses PROMOTE with FLURM_EAGAIN until the leader replicates to the
 *    learner in pipelined mode, its match index is within max_entries_per_msg of the leader's
 *    last index and it answered within an election timeout (flurm_raft_members() flags it
 *    FLURM_RAFT_MEMBER_CAUGHT_UP): a new voter that is far behind would stall commits. The intent
 *    to promote is the host's: a new leader does not resume it (the learner stays a learner).
 *  - A leader that removes itself keeps leading (without counting itself) until the entry is
 *    committed, then steps down and sends TimeoutNow to its most up-to-date voter.
 *  - Servers answer votes and appends from servers outside their configuration. A server that is
 *    not a voter of its configuration in force does not campaign, unless that configuration
 *    removed it and is not known committed yet: it may hold the only up-to-date log, so it may
 *    campaign (counting the votes of the new configuration, not its own), commit its removal and
 *    step down. A removed server that missed its removal is kept from disrupting by pre-vote and
 *    leader stickiness.
 *  - A server joining a cluster starts with the same cfg->voters as every other server (the
 *    bootstrap configuration, without itself) and an empty disk; it gets the log or a snapshot
 *    from the leader once added as a learner.
 *  - update.config_changed says the configuration in force changed in this step; read it with
 *    flurm_raft_members() or flurm_raft_config_at(r, flurm_raft_last_index(r), ...).
 *  - Snapshots record the configuration at their index (meta.n_voters voters then meta.n_learners
 *    learners in meta.voters): get it with flurm_raft_config_at(r, index, &meta) before saving.
 *
 * Not thread-safe: one handle is driven by one thread. */
#ifndef FLURM_RAFT_H
#define FLURM_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <flurm/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLURM_RAFT_MAX_MEMBERS 16   /* voters + learners in one configuration */
#define FLURM_RAFT_NONE 0           /* "no server": ids are nonzero */

typedef struct flurm_raft flurm_raft_t;   /* opaque */

typedef enum flurm_raft_role {
    FLURM_RAFT_FOLLOWER = 0,
    FLURM_RAFT_PRECANDIDATE = 1,   /* pre-vote round: asks whether it could win, term unchanged */
    FLURM_RAFT_CANDIDATE = 2,
    FLURM_RAFT_LEADER = 3,
} flurm_raft_role_t;

typedef enum flurm_raft_entry_type {
    FLURM_RAFT_ENTRY_COMMAND = 0,   /* a proposal's bytes, for the state machine */
    FLURM_RAFT_ENTRY_NOOP = 1,      /* appended by every new leader; apply does nothing */
    FLURM_RAFT_ENTRY_CONFIG = 2,    /* a configuration (FLURM_RAFT_CHANGE); apply does nothing to the
                                     * state machine. Its data, big-endian, canonical:
                                     *   u8 version (1) | u8 n_voters | u8 n_learners | u8 0 |
                                     *   u64 voter ids[n_voters] | u64 learner ids[n_learners]
                                     * ids nonzero, each list strictly ascending, no id in both,
                                     * n_voters >= 1, n_voters + n_learners <= FLURM_RAFT_MAX_MEMBERS,
                                     * len exactly 4 + 8 * (n_voters + n_learners). The whole
                                     * configuration, not a delta (flurm_raft_config_decode()). */
} flurm_raft_entry_type_t;

typedef struct flurm_raft_entry {
    uint64_t index;
    uint64_t term;
    uint32_t type;                  /* flurm_raft_entry_type_t */
    uint32_t len;
    const void *data;               /* LEN bytes, NULL when LEN is 0 */
} flurm_raft_entry_t;

/* What a snapshot covers: the state after applying every entry up to INDEX (of TERM), and the
 * configuration in force at INDEX: VOTERS[0 .. n_voters - 1] are its voters and
 * VOTERS[n_voters .. n_voters + n_learners - 1] its learners (n_voters >= 1, n_voters +
 * n_learners <= FLURM_RAFT_MAX_MEMBERS, ids nonzero and distinct). Also the type of a decoded
 * configuration (flurm_raft_config_decode(), flurm_raft_config_at()). */
typedef struct flurm_raft_snapshot_meta {
    uint64_t index;
    uint64_t term;
    uint32_t n_voters;
    uint32_t n_learners;            /* was reserved0 (always 0 before learners existed) */
    uint64_t voters[FLURM_RAFT_MAX_MEMBERS];
} flurm_raft_snapshot_meta_t;

typedef enum flurm_raft_msg_type {
    FLURM_RAFT_MSG_VOTE = 1,            /* RequestVote (pre_vote: a pre-vote, term = candidate's term + 1) */
    FLURM_RAFT_MSG_VOTE_REPLY = 2,
    FLURM_RAFT_MSG_APPEND = 3,          /* AppendEntries; no entries = heartbeat */
    FLURM_RAFT_MSG_APPEND_REPLY = 4,
    FLURM_RAFT_MSG_SNAPSHOT = 5,        /* InstallSnapshot, one chunk */
    FLURM_RAFT_MSG_SNAPSHOT_REPLY = 6,
    FLURM_RAFT_MSG_TIMEOUT_NOW = 7,     /* leadership transfer: start an election now */
} flurm_raft_msg_type_t;

/* One peer message. A plain struct: the host encodes the fields the type uses (listed beside
 * each) and zeroes the rest when decoding. */
typedef struct flurm_raft_msg {
    uint32_t type;                  /* flurm_raft_msg_type_t */
    uint32_t flags;                 /* FLURM_RAFT_MSGF_* */
    uint64_t from, to;
    uint64_t term;                  /* sender's term (for a pre-vote: the term it would campaign in) */
    /* VOTE: candidate's last log position. APPEND: the entry preceding ENTRIES. */
    uint64_t log_index;
    uint64_t log_term;
    /* APPEND: leader's commit index. */
    uint64_t commit;
    /* APPEND_REPLY, SNAPSHOT_REPLY on success: the highest index the follower has verified to
     * be identical to the sender's log (prev + entries of THIS message, never the follower's
     * whole log: an unverified tail may belong to an older leader).
     * APPEND_REPLY on reject: the follower's last index (hint). */
    uint64_t match;
    /* APPEND_REPLY on reject: the rejected log_index, the term the follower holds there
     * (0 if its log is shorter) and the first index it holds of that term (fast backtracking). */
    uint64_t reject_index;
    uint64_t conflict_term;
    uint64_t conflict_index;
    /* APPEND: entries after log_index (valid as described in the host contract). */
    const flurm_raft_entry_t *entries;
    size_t n_entries;
    /* SNAPSHOT: the snapshot's metadata and data (one chunk). */
    flurm_raft_snapshot_meta_t snapshot;
    const void *data;
    size_t len;
    uint64_t reserved[4];
} flurm_raft_msg_t;

#define FLURM_RAFT_MSGF_PRE_VOTE 0x1u     /* VOTE, VOTE_REPLY */
#define FLURM_RAFT_MSGF_GRANTED 0x2u      /* VOTE_REPLY */
#define FLURM_RAFT_MSGF_SUCCESS 0x4u      /* APPEND_REPLY, SNAPSHOT_REPLY */
#define FLURM_RAFT_MSGF_TRANSFER 0x8u     /* VOTE: campaign started by TimeoutNow (overrides leader stickiness) */

typedef struct flurm_raft_config {
    uint32_t size;                      /* sizeof(flurm_raft_config_t) */
    uint32_t version;                   /* 0 */
    uint64_t id;                        /* this server, nonzero */
    /* The bootstrap configuration: voters when neither a snapshot nor a CONFIG entry was
     * restored (a fresh cluster). The same on every server, also on one that joins later (then
     * without ID). Must contain ID to campaign before any membership change. */
    uint32_t n_voters;
    uint32_t pre_vote;                  /* nonzero: pre-vote round before every election */
    const uint64_t *voters;
    uint32_t election_timeout_min_ms;   /* default 1000 (0 = default) */
    uint32_t election_timeout_max_ms;   /* default 2 * min */
    uint32_t heartbeat_ms;              /* default min / 10 */
    uint32_t max_entries_per_msg;       /* default 64 */
    uint32_t max_inflight_msgs;         /* appends in flight per follower, default 8 */
    uint32_t trailing_entries;          /* kept in memory below a snapshot, default 128 */
    uint64_t seed;                      /* election timeout randomisation */
    uint32_t flags;                     /* FLURM_RAFT_CONFIG_* */
    uint32_t reserved0;
    uint64_t reserved[7];
} flurm_raft_config_t;

/* A leader tells followers a new commit index with its next append or heartbeat only, instead
 * of at once by an empty append of its own: half the messages under light load, at the price
 * of followers applying up to a heartbeat later (a host whose followers serve no reads loses
 * nothing by it). */
#define FLURM_RAFT_CONFIG_LAZY_COMMIT 0x1u

/* What the disk held at start. All zero for a brand-new server. */
typedef struct flurm_raft_persisted {
    uint32_t size;                      /* sizeof(flurm_raft_persisted_t) */
    uint32_t reserved0;
    uint64_t term;
    uint64_t voted_for;
    flurm_raft_snapshot_meta_t snapshot;   /* index 0: none */
    const flurm_raft_entry_t *entries;  /* snapshot.index + 1 ... consecutive */
    size_t n_entries;
    uint64_t reserved[4];
} flurm_raft_persisted_t;

typedef enum flurm_raft_event_kind {
    FLURM_RAFT_TICK = 1,                /* time passed; call at least every heartbeat_ms / 2 */
    FLURM_RAFT_RECEIVE = 2,             /* msg */
    FLURM_RAFT_PROPOSE = 3,             /* n_commands in commands/lens (leader only) */
    FLURM_RAFT_PERSISTED = 4,           /* log durable up to index (of term) */
    FLURM_RAFT_SNAPSHOT_TAKEN = 5,      /* host snapshotted the applied state at index (<= applied) */
    FLURM_RAFT_SNAPSHOT_INSTALLED = 6,  /* the update.snapshot the core asked for is durable */
    FLURM_RAFT_TRANSFER = 7,            /* leader: hand leadership to target (0 = most up to date) */
    FLURM_RAFT_CHANGE = 8,              /* leader: membership change CHANGE of server TARGET */
} flurm_raft_event_kind_t;

/* FLURM_RAFT_CHANGE: what to do with event.target (see MEMBERSHIP above). */
typedef enum flurm_raft_change_kind {
    FLURM_RAFT_ADD_LEARNER = 1,         /* a server outside the configuration becomes a learner */
    FLURM_RAFT_PROMOTE = 2,             /* a caught-up learner becomes a voter */
    FLURM_RAFT_REMOVE = 3,              /* a voter or learner leaves the configuration */
} flurm_raft_change_kind_t;

typedef struct flurm_raft_event {
    uint32_t kind;                      /* flurm_raft_event_kind_t */
    uint32_t change;                    /* CHANGE: flurm_raft_change_kind_t (was reserved0) */
    uint64_t now_ms;                    /* every event carries the time */
    const flurm_raft_msg_t *msg;        /* RECEIVE */
    const void *const *commands;        /* PROPOSE */
    const uint32_t *lens;
    size_t n_commands;
    uint64_t index, term;               /* PERSISTED, SNAPSHOT_TAKEN (term ignored), SNAPSHOT_INSTALLED */
    uint64_t target;                    /* TRANSFER, CHANGE */
    uint64_t reserved[4];
} flurm_raft_event_t;

typedef struct flurm_raft_update {
    /* Persist (host contract 1a/1b). */
    bool hard_state_changed;
    uint64_t term, voted_for;           /* hard state (always current) */
    uint64_t truncate_from;             /* 0 = none */
    const flurm_raft_entry_t *entries;
    size_t n_entries;
    const flurm_raft_snapshot_meta_t *snapshot;   /* NULL = none; then snapshot_data/len */
    const void *snapshot_data;
    size_t snapshot_len;
    /* Send after persisting (1c). */
    const flurm_raft_msg_t *msgs;
    size_t n_msgs;
    /* Apply in order (1d). */
    const flurm_raft_entry_t *committed;
    size_t n_committed;
    /* Soft state (always current). */
    bool soft_state_changed;
    uint32_t role;                      /* flurm_raft_role_t */
    uint64_t leader;                    /* FLURM_RAFT_NONE if unknown */
    uint64_t commit;
    /* PROPOSE: commands got first_index ... first_index + n - 1, all of proposed_term.
     * CHANGE: the CONFIG entry got first_index, of proposed_term (host contract 6 applies).
     * On FLURM_EAGAIN, leader is the hint where to send them. */
    uint64_t first_index;
    uint64_t proposed_term;
    /* The configuration in force changed in this step (a CONFIG entry appended or truncated, a
     * snapshot installed). Soft state: read it with flurm_raft_members(). */
    bool config_changed;
    uint8_t reserved_pad[7];
    uint64_t reserved[7];               /* reserved[8] before config_changed: same size */
} flurm_raft_update_t;

/* A new core. CFG is copied. RESTORED may be NULL (fresh server). On error returns NULL and
 * sets *ERR: FLURM_EINVAL (bad config: id 0, too many voters, bad sizes, restored entries not
 * consecutive, a restored CONFIG entry that does not decode, a bad snapshot configuration),
 * FLURM_ENOMEM. */
FLURM_API flurm_raft_t *flurm_raft_new(const flurm_raft_config_t *cfg,
                                       const flurm_raft_persisted_t *restored, flurm_err_t *err);

FLURM_API void flurm_raft_free(flurm_raft_t *r);   /* NULL is fine */

/* Feed one event; OUT is overwritten with the actions (zeroed first). Errors:
 * FLURM_EINVAL (malformed event or message; nothing changed), FLURM_EAGAIN (PROPOSE, TRANSFER
 * or CHANGE on a non-leader or during a transfer; out->leader is the hint), FLURM_ENOMEM (the
 * core is unchanged for PROPOSE and CHANGE; for other events the event is dropped as if lost in
 * the network, which Raft tolerates), FLURM_ERANGE (SNAPSHOT_TAKEN above the applied index),
 * FLURM_ENOENT (TRANSFER to a non-voter). Even on error OUT holds valid (possibly empty)
 * actions the host must carry out.
 * CHANGE, on the leader: FLURM_EINVAL for an unknown change, target 0, adding a member (voter or
 * learner), promoting a non-learner, removing a non-member or the last voter, or more than
 * FLURM_RAFT_MAX_MEMBERS members; then FLURM_EAGAIN while the previous configuration is not
 * committed or the leader has not committed an entry of its term yet, and for PROMOTE while the
 * learner has not caught up (retry later); else FLURM_OK with first_index/proposed_term. */
FLURM_API flurm_err_t flurm_raft_step(flurm_raft_t *r, const flurm_raft_event_t *ev,
                                      flurm_raft_update_t *out);

/* Queries (for `flurm cluster status` and tests). */
FLURM_API flurm_raft_role_t flurm_raft_role(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_id(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_term(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_leader(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_commit_index(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_applied_index(const flurm_raft_t *r);   /* handed out for apply */
FLURM_API uint64_t flurm_raft_last_index(const flurm_raft_t *r);
FLURM_API uint64_t flurm_raft_first_index(const flurm_raft_t *r);     /* lowest entry in memory */
FLURM_API uint64_t flurm_raft_snapshot_index(const flurm_raft_t *r);
/* The entry at INDEX if the core holds it in memory, else NULL. Valid until the next step. */
FLURM_API const flurm_raft_entry_t *flurm_raft_entry(const flurm_raft_t *r, uint64_t index);

#define FLURM_RAFT_MEMBER_VOTER 0x1u        /* a voter (else a learner) */
#define FLURM_RAFT_MEMBER_CAUGHT_UP 0x2u    /* leader only: a learner PROMOTE would accept now */

typedef struct flurm_raft_member_status {
    uint64_t id;
    uint64_t match_index;               /* leader only, else 0 */
    uint64_t next_index;                /* leader only, else 0 */
    uint64_t last_contact_ms;           /* leader: last reply of this term; 0 = never */
    uint32_t state;                     /* 0 probe, 1 replicate, 2 snapshot (leader only) */
    uint32_t flags;                     /* FLURM_RAFT_MEMBER_* (was reserved0) */
    uint64_t reserved[2];
} flurm_raft_member_status_t;

/* Members of the configuration in force (this server included if it is one): its voters, then
 * its learners, into OUT of CAP entries; returns how many there are (fills min(count, CAP)). */
FLURM_API size_t flurm_raft_members(const flurm_raft_t *r, flurm_raft_member_status_t *out,
                                    size_t cap);

/* The configuration in force at INDEX (snapshot index <= INDEX <= last index) into *OUT: index,
 * the term at INDEX, n_voters, n_learners, voters[] as in a snapshot's metadata (what the host
 * saves with a snapshot at INDEX). FLURM_ERANGE outside that range, FLURM_EINVAL for NULLs. */
FLURM_API flurm_err_t flurm_raft_config_at(const flurm_raft_t *r, uint64_t index,
                                           flurm_raft_snapshot_meta_t *out);

/* The index from which the configuration in force holds: its CONFIG entry's, or the snapshot's
 * index (0 without one) if no CONFIG entry follows the snapshot. A change is pending (not yet
 * committed) iff this is above flurm_raft_commit_index(). */
FLURM_API uint64_t flurm_raft_config_index(const flurm_raft_t *r);

/* Decodes the data of a FLURM_RAFT_ENTRY_CONFIG entry into OUT's n_voters, n_learners and
 * voters[] (index and term zero). FLURM_EINVAL unless it is canonical (see the entry type). */
FLURM_API flurm_err_t flurm_raft_config_decode(const void *data, size_t len, flurm_raft_snapshot_meta_t *out);

FLURM_API const char *flurm_raft_role_str(flurm_raft_role_t role);

#ifdef __cplusplus
}
#endif
#endif
