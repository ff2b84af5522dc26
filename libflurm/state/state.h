/* libflurm/state/state.h — the controller's replicated state machine (sans-I/O).
 *
 * Everything that changes controller state is a COMMAND: a small header plus the SLURM request
 * body exactly as the client sent it (a job_desc for a submit, a job_step_kill for scancel...).
 * flurm_state_apply() is a pure function of (state, command): it reads no clock, no disk and no
 * environment, so replaying the same log on any controller yields the same state. The proposer
 * (flurmctld's loop) validates requests, stamps the command with its time and the requester's
 * munge identity, reserves job ids, and only then hands the command to storage and, once
 * durable, to apply. This log is exactly what Raft will later replicate.
 *
 * Command wire layout (flurm_buf primitives, big-endian):
 *   u8 version (1) | u16 kind (a SLURM msg_type, or an internal FLURM_CMD_*) | time now |
 *   u32 uid | u32 gid | u32 job_id (SUBMIT: the reserved id; else 0) | string host (the
 *   requester's host, as slurmctld records AllocNode) | packmem body */
#ifndef FLURM_STATE_STATE_H
#define FLURM_STATE_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <flurm/buf.h>
#include <flurm/conf.h>
#include <flurm/msg.h>
#include <flurm/sched.h>

#define FLURM_CMD_VERSION 2   /* 2: a request id after the host (1: none; still applied) */
#define FLURM_REQUEST_ID_LEN 16
/* Internal command kinds live above every SLURM message type in use. */
enum flurm_cmd_kind {
    FLURM_CMD_PURGE_JOBS = 0xF001,    /* body: u32 count + u32 job ids; drop finished records */
    FLURM_CMD_NODES_NOT_RESPONDING = 0xF002, /* body: u32 count + u32 node indexes */
    FLURM_CMD_NODE_REGISTER = 0xF003,  /* body: flurm_cmd_register_t (a node daemon (re)joined) */
    FLURM_CMD_JOB_START = 0xF004,      /* body: flurm_cmd_start_t (the scheduler's decision) */
    FLURM_CMD_JOB_END = 0xF005,        /* body: flurm_cmd_end_t (a node reported a job's end) */
    FLURM_CMD_JOB_PREEMPT = 0xF006,    /* body: flurm_cmd_preempt_t (the scheduler's preemption) */
    FLURM_CMD_RECONFIGURE = 0xF007,    /* no body: every member re-reads its slurm.conf here, in log
                                        * order (the host does it: flurm_state_apply refuses it) */
};

/* The kind of command CMD (LEN bytes), or 0 if it is no command of this version. */
uint16_t flurm_cmd_kind(const void *cmd, size_t len);

/* What a preemption does to its victim (flurm_cmd_preempt_t.action). */
enum flurm_preempt_action {
    FLURM_PREEMPT_CANCEL = 1,     /* PREEMPTED|COMPLETING until the node reports the end */
    FLURM_PREEMPT_REQUEUE = 2,    /* PENDING|COMPLETING, then PENDING (BeginTime) */
    FLURM_PREEMPT_SUSPEND = 3,    /* SUSPENDED, its resources released to the preemptor */
    FLURM_PREEMPT_RESUME = 4,     /* a suspended job RUNNING again on its nodes */
};

typedef struct flurm_cmd_preempt {
    uint32_t job_id;
    uint8_t action;               /* enum flurm_preempt_action */
    uint32_t preemptor_id;        /* 0 for RESUME */
} flurm_cmd_preempt_t;

/* How a job ended on its node (proto JobEndState). */
enum flurm_job_end_state {
    FLURM_END_COMPLETED = 1, FLURM_END_FAILED = 2, FLURM_END_CANCELLED = 3, FLURM_END_TIMEOUT = 4,
    FLURM_END_NODE_FAIL = 5,
};

typedef struct flurm_cmd_end {
    uint32_t job_id;
    uint32_t node;                /* node index that reported it */
    uint8_t state;                /* enum flurm_job_end_state */
    uint32_t wait_status;         /* waitpid() status */
    time_t start_time, end_time;
    uint64_t max_rss_kb;
} flurm_cmd_end_t;

typedef struct flurm_cmd_register {
    uint32_t node;                /* node index */
    uint64_t boot_id;
    time_t boot_time, start_time;
    char *version, *arch, *os;
    uint32_t *running;            /* job ids the node still runs */
    uint32_t nrunning;
    flurm_cmd_end_t *ended;       /* jobs that ended while it was away */
    uint32_t nended;
} flurm_cmd_register_t;

#define FLURM_START_MAX_NODES 1024
typedef struct flurm_cmd_start {
    uint32_t job_id;
    uint32_t array_task_id;       /* the task to start of a pending array, else NO_VAL */
    uint32_t cpus_per_node;
    uint64_t mem_per_node;        /* MiB, 0 = not tracked */
    uint32_t *nodes;              /* node indexes, first = batch host */
    uint32_t nnodes;
} flurm_cmd_start_t;

int flurm_cmd_register_pack(const flurm_cmd_register_t *m, flurm_buf_t *out);
int flurm_cmd_start_pack(const flurm_cmd_start_t *m, flurm_buf_t *out);
int flurm_cmd_end_pack(const flurm_cmd_end_t *m, flurm_buf_t *out);
int flurm_cmd_preempt_pack(const flurm_cmd_preempt_t *m, flurm_buf_t *out);

/* Pending/failure reasons use SLURM's numbering (enum job_state_reason; they go on the wire). */
enum flurm_job_wait_reason {
    FLURM_WAIT_NO_REASON = 0, FLURM_WAIT_PRIORITY = 1, FLURM_WAIT_DEPENDENCY = 2,
    FLURM_WAIT_RESOURCES = 3, FLURM_WAIT_PART_DOWN = 6, FLURM_WAIT_PART_INACTIVE = 7,
    FLURM_WAIT_HELD = 8, FLURM_WAIT_TIME = 9, FLURM_WAIT_NODE_NOT_AVAIL = 15, FLURM_WAIT_HELD_USER = 16,
    FLURM_FAIL_DOWN_PARTITION = 19,
    FLURM_WAIT_DEP_INVALID = 39,
};

typedef struct flurm_job {
    uint32_t job_id;
    uint32_t user_id, group_id;
    uint32_t job_state;          /* base | flags */
    uint16_t state_reason;       /* as the commands left it (replicated); readers show
                                  * flurm_job_reason() */
    uint32_t priority;           /* 0 = held */
    time_t submit_time, eligible_time, start_time, end_time, last_sched_eval;
    uint32_t exit_code;
    uint32_t time_limit;         /* minutes, effective (partition limit applied), INFINITE */
    int32_t part_index;          /* index into conf->partitions */
    uint32_t array_job_id;       /* 0 unless an array */
    uint32_t array_task_id;      /* FLURM_NO_VAL for the meta record / non-arrays */
    uint32_t array_max_tasks;
    uint64_t *array_pending;     /* meta record: bitmap of task ids still pending */
    uint32_t array_nbits;
    char *alloc_node;            /* host the request came from */
    const char *state_desc;      /* detail shown instead of the reason (static text; derived by
                                  * flurm_state_schedule, not replicated) */
    /* a pending job's reason as the last scheduler pass found it, shown instead of state_reason
     * while SHOWN (derived on the leader by flurm_state_schedule/plan: not replicated, not in
     * snapshots, never read by apply) */
    uint16_t shown_reason;
    bool shown;
    flurm_job_desc_msg_t *desc;  /* the description as submitted (and updated); owned */
    bool purged;
    /* allocation (running or completing); NULL while pending */
    uint32_t *nodes;             /* node indexes, [0] = batch host */
    uint32_t nnodes;
    uint32_t cpus_per_node;
    uint64_t mem_per_node;
    uint16_t restart_cnt;
    uint64_t max_rss_kb;
    uint32_t *ran_on;            /* where a finished job ran (display only: holds nothing) */
    uint32_t nran_on;
    /* what the last scheduler cycle found for a pending job (flurm_state_plan; not
     * replicated): its reason (0 = none of its own), and the reservation (squeue --start) */
    uint16_t sched_reason;
    const char *sched_desc;
    time_t planned_start;        /* 0 = none */
    uint32_t *planned_nodes;     /* node indexes, ascending */
    uint32_t nplanned_nodes;
    struct flurm_env_blob *env;  /* desc->environment is this shared, read-only copy (or NULL:
                                  * the desc owns its own) */
    flurm_sched_factors_t factors; /* multifactor: the last plan's priority and factors while
                                  * pending (job_id 0 = none; flurm_state_plan, not replicated) */
    /* preemption and suspension (slurmctld's job_record fields of the same names) */
    time_t preempt_time;         /* when a CANCEL preemption hit it; 0 = never */
    time_t suspend_time;         /* last suspend or resume; 0 = never suspended */
    uint32_t pre_sus_time;       /* seconds it ran before the last suspend */
    uint32_t tot_sus_time;       /* seconds spent suspended */
    bool sus_released;           /* SUSPENDED by preemption: holds nothing (nodes = where it
                                  * resumes); else a suspended job keeps its allocation */
} flurm_job_t;

/* A batch job (sbatch: its script runs on the first node), or an interactive allocation
 * (salloc, srun: REQUEST_RESOURCE_ALLOCATION, no script; nothing runs on its nodes until a step
 * does, and it ends by REQUEST_COMPLETE_JOB_ALLOCATION, a cancel or its time limit). */
static inline bool flurm_job_is_batch(const flurm_job_t *j)
{
    return j->desc && j->desc->script;
}

/* The reason readers show for J: the scheduler's while it is pending and one was found, else
 * the one the commands left. */
static inline uint16_t flurm_job_reason(const flurm_job_t *j)
{
    return j->shown && (j->job_state & 0xFF) == 0 /* JOB_PENDING */ ? j->shown_reason : j->state_reason;
}

typedef struct flurm_node_rt {
    uint32_t state;              /* SLURM node_state: base | flags */
    char *reason;
    uint32_t reason_uid;
    time_t reason_time;
    time_t boot_time, slurmd_start_time, last_busy;
    uint32_t alloc_cpus;         /* CPUs held by running/completing jobs */
    uint64_t alloc_mem;          /* MiB held */
    uint32_t njobs;              /* jobs holding resources here */
    uint64_t boot_id;            /* of the registered node daemon, 0 = never registered */
    char *version, *arch, *os;
    bool planned;                /* derived by the last pass, not replicated: a pending job's
                                  * backfill reservation holds it (slurmctld's PLANNED flag,
                                  * shown on nodes that are idle) */
} flurm_node_rt_t;

typedef struct flurm_part_rt {
    uint16_t state_up;           /* SLURM PARTITION_* value */
    uint32_t max_time, default_time;
} flurm_part_rt_t;

typedef struct flurm_state flurm_state_t;

/* What an applied command asks of the world beyond the state. The controller that leads carries
 * them out once the command is applied; every other replica applies the same command and
 * ignores them, so no caller rescans the state to rediscover what a command did. */
typedef enum flurm_effect_kind {
    FLURM_EFFECT_LAUNCH = 1,     /* JOB started: send its launch to its first node */
    FLURM_EFFECT_KILL = 2,       /* terminate JOB on its nodes (it holds them, COMPLETING, until
                                  * the node reports the processes gone) */
    FLURM_EFFECT_SUSPEND = 3,    /* stop JOB's processes (SIGSTOP) */
    FLURM_EFFECT_RESUME = 4,     /* continue JOB's processes (SIGCONT) */
    FLURM_EFFECT_ALLOCATED = 5,  /* JOB, an interactive allocation (salloc, srun: no batch
                                  * script), started: tell its client (nothing runs on the nodes) */
    FLURM_EFFECT_REVOKED = 6,    /* JOB, an interactive allocation, was cancelled or timed out:
                                  * tell its client (SRUN_JOB_COMPLETE) */
} flurm_effect_kind_t;

typedef struct flurm_effect {
    flurm_effect_kind_t kind;
    uint32_t job_id;
} flurm_effect_t;

typedef struct flurm_apply_result {
    uint32_t rc;                 /* SLURM return code; 0 = success */
    uint32_t job_id;             /* SUBMIT: the new job's id */
    const flurm_effect_t *effects;   /* in the order they arose; owned by the state, valid until
                                      * the next apply */
    size_t neffects;
    bool repeated;               /* its request id was applied before: RC and JOB_ID are that
                                  * first result, nothing changed (requests.h) */
} flurm_apply_result_t;

/* A new state for CONF (borrowed: it must outlive the state). Nodes start UNKNOWN|NO_RESPOND. */
flurm_state_t *flurm_state_new(const flurm_conf_t *conf);
void flurm_state_free(flurm_state_t *st);

/* Applies one command; res->rc is the SLURM return code for its requester. Returns FLURM_EPROTO
 * (state untouched, nothing logged) for bytes that are not a command of this version: a log
 * holding one cannot be replayed faithfully, so recovery must stop there. */
int flurm_state_apply(flurm_state_t *st, const void *cmd, size_t len, flurm_apply_result_t *res);

/* Builds a command into OUT (appended), with no request id. */
int flurm_cmd_build(flurm_buf_t *out, uint16_t kind, time_t now, uint32_t uid, uint32_t gid,
                    uint32_t job_id, const char *host, const void *body, size_t body_len);
/* The same for a client's request: REQUEST_ID (FLURM_REQUEST_ID_LEN bytes, K12 of the request
 * frame; NULL = none) makes it at-most-once (libflurm/state/requests.h). */
int flurm_cmd_build_request(flurm_buf_t *out, uint16_t kind, time_t now, uint32_t uid, uint32_t gid,
                            uint32_t job_id, const char *host, const uint8_t *request_id, const void *body,
                            size_t body_len);
/* The body of command CMD (pointing into it). FLURM_OK, or FLURM_EPROTO/ETRUNC for bytes that
 * are no command of a version this build applies. */
int flurm_cmd_body(const void *cmd, size_t len, const void **body, uint32_t *body_len);

/* Snapshot of everything apply() depends on; restore replaces ST's contents. */
int flurm_state_snapshot(const flurm_state_t *st, flurm_buf_t *out);
int flurm_state_restore(flurm_state_t *st, const void *data, size_t len);

/* Switches to a re-read configuration (scontrol reconfigure): node/partition runtime state is
 * carried over by name; jobs keep their partition by name. */
int flurm_state_reconfigure(flurm_state_t *st, const flurm_conf_t *conf);

/* Plans with H (a loaded SchedulerType, borrowed: it must outlive its use here) instead of the
 * built-in scheduler; NULL restores the built-in. */
struct flurm_sched_host;
void flurm_state_set_scheduler(flurm_state_t *st, struct flurm_sched_host *h);

/* ---- reads (loop thread) ---- */
/* Fair share: UID's decayed usage in CPU-seconds as of NOW (running jobs accrue up to NOW;
 * PriorityDecayHalfLife, default 7 days, 0 = none). Reads only. FLURM_ENOMEM. */
/* JOB_ID's multifactor priority factors from the last flurm_state_plan (sprio). FLURM_ENOENT
 * when there is no such job, it is not pending, or no plan computed them (priority/basic). */
int flurm_state_job_factors(const flurm_state_t *st, uint32_t job_id, flurm_sched_factors_t *out);
int flurm_state_user_usage(const flurm_state_t *st, uint32_t uid, time_t now, double *usage);
const flurm_conf_t *flurm_state_conf(const flurm_state_t *st);
flurm_job_t *flurm_state_find_job(const flurm_state_t *st, uint32_t job_id);
/* Jobs in id order; skips purged ones. */
size_t flurm_state_job_count(const flurm_state_t *st);
flurm_job_t *flurm_state_job_at(const flurm_state_t *st, size_t i);   /* NULL if purged */
size_t flurm_state_job_slots(const flurm_state_t *st);
uint32_t flurm_state_next_job_id(const flurm_state_t *st);
flurm_node_rt_t *flurm_state_node(const flurm_state_t *st, size_t index);
flurm_part_rt_t *flurm_state_part(const flurm_state_t *st, size_t index);
/* Times of the last change to jobs / nodes / partitions (for last_update and RC 1900). */
time_t flurm_state_jobs_changed(const flurm_state_t *st);
/* Changes with every change to any job record (for caches of packed job lists). */
uint64_t flurm_state_jobs_gen(const flurm_state_t *st);
time_t flurm_state_nodes_changed(const flurm_state_t *st);
time_t flurm_state_parts_changed(const flurm_state_t *st);
/* Counters for sdiag. */
typedef struct flurm_state_stats {
    uint32_t jobs_submitted, jobs_started, jobs_completed, jobs_canceled, jobs_failed;
    uint32_t jobs_pending, jobs_running;
} flurm_state_stats_t;
void flurm_state_stats(const flurm_state_t *st, flurm_state_stats_t *out);

/* Scheduler cycle statistics (sdiag's main and backfill sections), summed over every
 * flurm_state_plan() call; times in microseconds. */
typedef struct flurm_state_sched_stats {
    uint32_t main_cycles, main_last_depth, queue_length;
    uint64_t main_last_usec, main_max_usec, main_sum_usec, main_depth_sum;
    uint32_t bf_cycles, bf_last_depth, bf_queue_len, bf_last_backfilled, bf_backfilled;
    uint64_t bf_last_usec, bf_max_usec, bf_sum_usec, bf_depth_sum, bf_queue_len_sum;
    time_t bf_when_last;
} flurm_state_sched_stats_t;
void flurm_state_sched_stats(const flurm_state_t *st, flurm_state_sched_stats_t *out);

/* Recomputes pending jobs' reasons (no nodes can run anything until flurmnd exists).
 * Deterministic in (state, now). flurm_state_schedule() looks at every job (the daemon's
 * periodic pass); flurm_state_schedule_changed() only at what applied commands touched since the
 * last pass (after each batch), falling back to a full pass when a change can affect any job. */
void flurm_state_schedule(flurm_state_t *st, time_t now);
void flurm_state_schedule_changed(flurm_state_t *st, time_t now);

/* The partition a job description asks for: the first known name of a comma list, or the
 * default partition; -1 when none. */
int32_t flurm_state_resolve_partition(const flurm_conf_t *c, const char *req);

/* The scheduler (flurm/sched.h: priority order, then backfill with reservations) over a view of
 * the state. Fills STARTS (at most MAX) with decisions for the daemon to propose as
 * FLURM_CMD_JOB_START (a pending array starts one task per call); each start's nodes array is
 * malloc'd (free with flurm_state_starts_free). Records each pending job's reason and
 * reservation (sched_reason, planned_start, planned_nodes) and the cycle's statistics.
 * Deterministic in (state, now). */
size_t flurm_state_plan(flurm_state_t *st, time_t now, flurm_cmd_start_t *starts, size_t max);
/* As flurm_state_plan, and also fills PREEMPTS (at most MAXP; *NPREEMPTS) with the cycle's
 * preemptions and resumes, to be proposed as FLURM_CMD_JOB_PREEMPT before the starts. */
size_t flurm_state_plan_preempt(flurm_state_t *st, time_t now, flurm_cmd_start_t *starts, size_t max,
                                flurm_cmd_preempt_t *preempts, size_t maxp, size_t *npreempts);
/* PreemptType=preempt/partition_prio with a global PreemptMode other than OFF. */
bool flurm_state_preempt_enabled(const flurm_state_t *st);
void flurm_state_starts_free(flurm_cmd_start_t *starts, size_t n);

/* Could a job described by D start now in partition PART on free resources (ignoring the queue,
 * as `sbatch --test-only` asks)? FLURM_OK with *NODES (malloc'd), *NNODES and *CPUS_PER_NODE;
 * FLURM_EAGAIN when usable nodes are only busy; FLURM_ENOENT when too few are usable. */
int flurm_state_fit_now(const flurm_state_t *st, const flurm_job_desc_msg_t *d, int32_t part,
                        uint32_t **nodes, uint32_t *nnodes, uint32_t *cpus_per_node);

/* Parses a SLURM job id expression ("123", "123_4", "123_[1-3,5]", "123_*") into the job id and
 * an optional task bitmap. FLURM_EINVAL if malformed. */
int flurm_parse_job_id_str(const char *s, uint32_t *job_id, uint64_t **tasks, uint32_t *ntasks,
                           bool *all_tasks);
/* Checks dependency TEXT (libflurm/state/depend.h syntax) for job SELF (0: a job being
 * submitted) as slurmctld's update_job_dependency does; a SLURM return code: 0, 2038
 * ESLURM_DEPENDENCY (malformed, or names SELF or its own array; a job not known is fine and
 * counts as met), 2071 ESLURM_CIRCULAR_DEPENDENCY, 2036 ESLURM_NOT_SUPPORTED ("expand:"). */
uint32_t flurm_state_dep_check(const flurm_state_t *st, uint32_t self, const char *text);
/* Parses an --array spec ("1-5%2,7", "0-15:4") into a bitmap and max_tasks. */
int flurm_parse_array_spec(const char *s, uint64_t **bits, uint32_t *nbits, uint32_t *max_tasks);

#endif
