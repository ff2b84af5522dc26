/* include/flurm/sched.h — the scheduler as a pure function: a view of nodes, partitions, jobs and
 * the clock in, decisions out (starts, reservations, pending reasons, priorities, statistics).
 *
 * Semantics follow slurmctld 22.05 with select/cons_tres, sched/backfill and
 * priority/{basic,multifactor} (src/slurmctld/job_scheduler.c, src/plugins/sched/backfill/
 * backfill.c, src/plugins/priority/multifactor/priority_multifactor.c); the simplifications are
 * listed beside each field and in docs. No I/O, no clock, no globals: the same input gives the
 * same output byte for byte (ties broken by job id, then node weight, then node index).
 *
 * The structs are public (a scheduler plugin ABI will expose them). Callers fill them in; the
 * scheduler never writes to the input. Every struct that a caller fills in may grow at its end
 * only; zero-initialise them (designated initialisers) so new fields take their defaults. */
#ifndef FLURM_SCHED_H
#define FLURM_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <flurm/common.h>

#define FLURM_SCHED_INFINITE UINT32_MAX   /* time limits in minutes, node counts: no limit */
#define FLURM_SCHED_GRES_MAX 8            /* distinct gres name[:type] entries per node */

/* SLURM's enum job_state_reason (slurm.h; protocol doc Appendix C): the numbers are the wire values. */
typedef enum flurm_sched_reason {
    FLURM_SCHED_WAIT_NO_REASON = 0,
    FLURM_SCHED_WAIT_PRIORITY = 1,
    FLURM_SCHED_WAIT_DEPENDENCY = 2,
    FLURM_SCHED_WAIT_RESOURCES = 3,
    FLURM_SCHED_WAIT_PART_NODE_LIMIT = 4,
    FLURM_SCHED_WAIT_PART_TIME_LIMIT = 5,
    FLURM_SCHED_WAIT_PART_DOWN = 6,
    FLURM_SCHED_WAIT_PART_INACTIVE = 7,
    FLURM_SCHED_WAIT_HELD = 8,              /* JobHeldAdmin */
    FLURM_SCHED_WAIT_TIME = 9,              /* BeginTime */
    FLURM_SCHED_WAIT_NODE_NOT_AVAIL = 15,   /* ReqNodeNotAvail */
    FLURM_SCHED_WAIT_HELD_USER = 16,        /* JobHeldUser */
    FLURM_SCHED_WAIT_DEP_INVALID = 39,      /* DependencyNeverSatisfied (set by the caller's
                                             * dependency test; the scheduler says DEPENDENCY) */
    FLURM_SCHED_WAIT_ARRAY_TASK_LIMIT = 72, /* JobArrayTaskLimit (the %N throttle) */
    FLURM_SCHED_WAIT_PART_CONFIG = 178,     /* PartitionConfig: AllowGroups refuses the job (job_mgr.c job_limits_check) */
} flurm_sched_reason_t;

/* SLURM's reason text as squeue prints it ("Priority", "Resources", "JobHeldUser", ...);
 * "Unknown" for a number this module never produces. Never NULL. */
FLURM_API const char *flurm_sched_reason_str(flurm_sched_reason_t r);
/* Inverse of flurm_sched_reason_str; FLURM_ENOENT for an unknown name. */
FLURM_API int flurm_sched_reason_parse(const char *name, flurm_sched_reason_t *out);

/* A counted generic resource. On a node: COUNT of NAME[:TYPE] configured, ALLOC in use now.
 * In a request: COUNT per node; TYPE NULL means any type of that NAME (taken from the node's
 * entries in their order). */
typedef struct flurm_sched_gres {
    const char *name;    /* "gpu" */
    const char *type;    /* "a100", or NULL */
    uint32_t count;
    uint32_t alloc;      /* nodes only */
} flurm_sched_gres_t;

typedef struct flurm_sched_node {
    const char *name;
    uint32_t cpus;
    uint32_t alloc_cpus;             /* in use now (sum over running jobs) */
    uint64_t real_memory;            /* MiB */
    uint64_t alloc_mem;              /* MiB in use now */
    uint32_t weight;                 /* lower is chosen first (SLURM Weight=, default 1) */
    bool usable;                     /* up, responding, not drained/draining/down */
    const char *const *features;     /* active features */
    uint32_t nfeatures;
    const flurm_sched_gres_t *gres;  /* at most FLURM_SCHED_GRES_MAX entries */
    uint32_t ngres;
} flurm_sched_node_t;

typedef enum flurm_sched_part_state {
    FLURM_SCHED_PART_UP = 0,
    FLURM_SCHED_PART_DOWN,       /* jobs queue, none start: PartitionDown */
    FLURM_SCHED_PART_DRAIN,      /* jobs start; the caller rejects new submissions */
    FLURM_SCHED_PART_INACTIVE,   /* PartitionInactive */
} flurm_sched_part_state_t;

/* How a partition's running jobs yield to a job of a higher PriorityTier partition
 * (PreemptType=preempt/partition_prio, PreemptMode=). The numbering is FLURM's, not SLURM's
 * PREEMPT_MODE_* bits: zero means "not set" so zero-initialised structs keep their defaults. */
typedef enum flurm_sched_preempt_mode {
    FLURM_SCHED_PREEMPT_INHERIT = 0,   /* a partition: the global mode; the global mode: OFF */
    FLURM_SCHED_PREEMPT_OFF,           /* never preempted */
    FLURM_SCHED_PREEMPT_CANCEL,        /* killed; the preemptor starts once its nodes are freed */
    FLURM_SCHED_PREEMPT_REQUEUE,       /* killed and requeued; likewise */
    FLURM_SCHED_PREEMPT_SUSPEND,       /* stopped in place; the preemptor starts at once and the
                                        * victim resumes when its resources are free again */
    FLURM_SCHED_PREEMPT_RESUME,        /* output only: a suspended job to resume */
} flurm_sched_preempt_mode_t;

typedef struct flurm_sched_part {
    const char *name;
    const uint32_t *nodes;           /* indexes into input nodes[] */
    uint32_t nnodes;
    uint32_t max_time;               /* minutes; 0 or FLURM_SCHED_INFINITE = unlimited */
    uint32_t default_time;           /* minutes; 0 or FLURM_SCHED_INFINITE = use max_time */
    uint32_t max_nodes;              /* 0 or FLURM_SCHED_INFINITE = unlimited */
    uint16_t priority_tier;          /* higher tiers are scheduled first */
    uint16_t priority_job_factor;    /* PriorityJobFactor (multifactor's partition factor) */
    flurm_sched_part_state_t state;
    uint16_t max_share;              /* OverSubscribe: 0 = EXCLUSIVE (every job whole nodes), else NO */
    const uint32_t *allow_gids;      /* NULL = AllowGroups=ALL */
    uint32_t nallow_gids;
    flurm_sched_preempt_mode_t preempt_mode;   /* PreemptMode=; INHERIT = params.preempt_mode */
    const uint32_t *allow_uids;      /* ascending; a job's uid must be one (PartitionConfig);
                                      * NULL = no restriction by uid */
    uint32_t nallow_uids;
} flurm_sched_part_t;

typedef enum flurm_sched_job_state {
    FLURM_SCHED_JOB_PENDING = 0,
    FLURM_SCHED_JOB_RUNNING,
    FLURM_SCHED_JOB_SUSPENDED,       /* preempted by suspension: holds nothing now; its
                                      * allocation fields say what it needs to resume */
} flurm_sched_job_state_t;

/* A job. Pending jobs use the request fields; running jobs use the allocation fields (and
 * their request's gres for what they hold per node). */
typedef struct flurm_sched_job {
    uint32_t job_id;
    uint32_t uid, gid;
    const char *account;
    uint32_t priority;               /* basic: used as is; multifactor: ignored unless 0 (held) */
    flurm_sched_reason_t hold_reason;/* when priority == 0: HELD (admin) or HELD_USER; 0 = HELD */
    int32_t nice;                    /* -2147483645..: subtracted from the multifactor priority */
    int64_t submit_time;             /* unix seconds */
    int64_t begin_time;              /* eligible from; 0 = at submit */
    uint32_t partition;              /* index into parts[] */
    flurm_sched_job_state_t state;
    /* request */
    uint32_t min_nodes;              /* 0 = 1 */
    uint32_t max_nodes;              /* 0 = min_nodes; a range gets as many as fit now (sbatch -N a-b) */
    uint32_t ntasks;                 /* 0 = one per node */
    uint32_t cpus_per_task;          /* 0 = 1 */
    uint32_t ntasks_per_node;        /* 0 = ntasks spread evenly over min_nodes */
    uint64_t mem;                    /* MiB per node, or per CPU if mem_per_cpu; 0 = none */
    bool mem_per_cpu;
    uint32_t time_limit;             /* minutes; 0 = partition default; FLURM_SCHED_INFINITE */
    bool exclusive;                  /* --exclusive: whole nodes */
    const char *features;            /* --constraint: "a&b", "a|b", "(a|b)&c"; NULL = none */
    const flurm_sched_gres_t *gres;  /* per node */
    uint32_t ngres;
    const uint32_t *req_nodes;       /* -w: all of them, counted towards the node count */
    uint32_t nreq_nodes;
    const uint32_t *exc_nodes;       /* -x */
    uint32_t nexc_nodes;
    bool dependency_ok;              /* false: waits with reason Dependency (caller evaluates) */
    uint32_t array_job_id;           /* 0 = not an array task */
    uint32_t array_task_limit;       /* %N throttle; 0 = none */
    uint32_t array_running;          /* tasks of array_job_id running now (caller counts) */
    /* allocation of a running job */
    const uint32_t *alloc_nodes;
    uint32_t nalloc_nodes;
    uint32_t alloc_cpus_per_node;
    uint64_t alloc_mem_per_node;     /* MiB */
    int64_t end_time;                /* start + limit; unix seconds; <= now: ends one bf_resolution from now */
    bool preempting;                 /* running: already preempted (killed, on its way out): ends
                                      * one bf_resolution from now and is never chosen again */
    int64_t start_time;              /* running: unix seconds (preemption order among equals) */
} flurm_sched_job_t;

typedef enum flurm_sched_priority_type {
    FLURM_SCHED_PRIORITY_BASIC = 0,
    FLURM_SCHED_PRIORITY_MULTIFACTOR,
} flurm_sched_priority_type_t;

/* Decayed usage of one user (multifactor, classic fair share): factor = 2^(-usage/shares),
 * both normalised to 0..1 by the caller (priority_multifactor.c _get_fairshare_priority). */
typedef struct flurm_sched_usage {
    uint32_t uid;
    double usage;
    double shares;
} flurm_sched_usage_t;

typedef struct flurm_sched_params {
    int64_t now;                     /* unix seconds */
    uint32_t bf_window;              /* minutes; 0 = 1440 */
    uint32_t bf_resolution;          /* seconds; 0 = 60 */
    uint32_t bf_max_job_test;        /* jobs the backfill pass tests (starts now or searches for a
                                      * reservation) before it ends; 0 = 500 */
    bool bf_continue;                /* accepted for SchedulerParameters parity; a pass is never interrupted */
    bool backfill;                   /* false: SchedulerType=sched/builtin (main pass only) */
    uint32_t default_queue_depth;    /* jobs the main pass tests; 0 = 100 */
    flurm_sched_priority_type_t priority_type;
    uint32_t weight_age, weight_jobsize, weight_partition, weight_qos, weight_fairshare;
    uint32_t priority_max_age;       /* seconds; 0 = 7 days */
    bool priority_favor_small;
    const flurm_sched_usage_t *usage;
    uint32_t nusage;
    bool preempt;                    /* PreemptType=preempt/partition_prio (else preempt/none) */
    flurm_sched_preempt_mode_t preempt_mode;   /* global PreemptMode; INHERIT counts as OFF */
    bool preempt_youngest_first;     /* PreemptParameters=youngest_first */
} flurm_sched_params_t;

typedef struct flurm_sched_input {
    const flurm_sched_node_t *nodes;
    uint32_t nnodes;
    const flurm_sched_part_t *parts;
    uint32_t nparts;
    const flurm_sched_job_t *jobs;
    uint32_t njobs;
    flurm_sched_params_t params;
} flurm_sched_input_t;

/* A job to start now. */
typedef struct flurm_sched_start {
    uint32_t job_id;
    uint32_t job_index;              /* into input jobs[] */
    uint32_t *nodes;                 /* ascending node indexes */
    uint32_t nnodes;
    uint32_t cpus_per_node;
    uint64_t mem_per_node;           /* MiB */
    bool backfill;                   /* started by the backfill pass */
} flurm_sched_start_t;

/* What the scheduler knows about each input job, in input order. */
typedef struct flurm_sched_job_result {
    uint32_t job_id;
    flurm_sched_reason_t reason;     /* pending and not started; NO_REASON otherwise */
    uint32_t priority;               /* computed (multifactor) or given (basic) */
    /* multifactor factors, each 0..1 (sprio prints factor × weight) */
    double f_age, f_jobsize, f_partition, f_qos, f_fairshare;
    int64_t planned_start;           /* unix seconds of the reservation (squeue --start); 0 = none */
    uint32_t *planned_nodes;         /* ascending node indexes of the reservation; it holds them
                                      * whole for its span, as slurmctld's backfill map does
                                      * (no later job of the pass shares them then) */
    uint32_t nplanned_nodes;
} flurm_sched_job_result_t;

typedef struct flurm_sched_stats {
    uint64_t main_usec, backfill_usec;   /* CLOCK_MONOTONIC time of each pass */
    uint32_t main_depth;             /* jobs the main pass tested */
    uint32_t backfill_depth;         /* jobs the backfill pass tested */
    uint32_t started_main, started_backfill;
    uint32_t reservations;
    uint32_t queue_length;           /* pending jobs */
} flurm_sched_stats_t;

/* A running job to preempt (mode CANCEL, REQUEUE, SUSPEND) or a suspended one to resume (mode
 * RESUME, preemptor_id 0). A caller applies these, in order, before the cycle's starts: a
 * SUSPEND victim's resources are what its preemptor starts on in the same cycle.
 *
 * Semantics (preempt/partition_prio, select/cons_tres _run_now): a pending job that does not
 * fit now may preempt RUNNING jobs of partitions with a lower PriorityTier whose mode is not
 * OFF, on nodes of its own partition. Candidates are taken in SLURM's preemption order (lowest
 * tier first, then fewest nodes; PreemptParameters=youngest_first: latest start first; then
 * latest start, then highest job id) until the job fits; the victims are those on the nodes it
 * gets, pruned to a minimal set (a victim whose resources it does not need is spared). With
 * only SUSPEND victims the job starts in the same cycle (as slurmctld does with GANG); with any
 * CANCEL/REQUEUE victim it starts in a later cycle once they have ended (slurmctld: the job
 * waits with reason Resources while the victims complete) and its nodes are kept from every
 * other job of this cycle. Both passes preempt: the backfill pass (as backfill.c _try_sched)
 * for a job that does not fit now but does with victims given back, without touching the
 * reservations of the jobs before it; a preemptor waiting for its victims is not tried again
 * in the same cycle. A suspended job resumes
 * (before any job of its tier or below is considered) when all of its resources are free on
 * its nodes again. */
typedef struct flurm_sched_preempt {
    uint32_t job_id;                 /* the victim (or the job to resume) */
    uint32_t job_index;              /* into input jobs[] */
    flurm_sched_preempt_mode_t mode;
    uint32_t preemptor_id;           /* the pending job it yields to */
} flurm_sched_preempt_t;

typedef struct flurm_sched_output {
    flurm_sched_start_t *starts;     /* in decision order */
    uint32_t nstarts;
    flurm_sched_job_result_t *jobs;  /* one per input job */
    uint32_t njobs;
    flurm_sched_stats_t stats;
    flurm_sched_preempt_t *preempts; /* resumes first, then preemptions in decision order */
    uint32_t npreempts;
} flurm_sched_output_t;

/* One pending job's multifactor priority as sprio shows it: each factor (0..1) multiplied by
 * its PriorityWeight*, the nice value subtracted, and the resulting priority. */
typedef struct flurm_sched_factors {
    uint32_t job_id;                 /* 0 = none */
    uint32_t priority;
    double age, fairshare, jobsize, partition, qos;
    int32_t nice;
} flurm_sched_factors_t;

/* Fills *F for the job at INDEX of IN's jobs from OUT (what flurm_sched_run(IN) gave).
 * FLURM_ERANGE for an index out of range; FLURM_ENOENT (*F zeroed) unless the job is pending
 * and params.priority_type is multifactor. */
FLURM_API int flurm_sched_job_factors(const flurm_sched_input_t *in, const flurm_sched_output_t *out,
                                      uint32_t index, flurm_sched_factors_t *f);

/* Runs one main pass and (params.backfill) one backfill pass over IN into *OUT (which it
 * overwrites; free with flurm_sched_output_free). FLURM_EINVAL for an index out of range or a
 * malformed feature expression (nothing allocated then), FLURM_ENOMEM. Deterministic. The
 * *_usec statistics are the only clock readings and do not influence any decision. */
FLURM_API int flurm_sched_run(const flurm_sched_input_t *in, flurm_sched_output_t *out);
FLURM_API void flurm_sched_output_free(flurm_sched_output_t *out);   /* NULL is fine */

/* Feature expressions (--constraint): names joined by '&' (AND) and '|' (OR), '&' binding
 * tighter, parentheses allowed. SLURM's counts ("a*2") and brackets ("[a|b]") are not supported
 * (FLURM_EINVAL). */
typedef struct flurm_sched_expr flurm_sched_expr_t;
FLURM_API int flurm_sched_expr_parse(const char *s, flurm_sched_expr_t **out);
/* True when a node with the NFEAT features FEAT satisfies E (NULL E: always). */
FLURM_API bool flurm_sched_expr_match(const flurm_sched_expr_t *e, const char *const *feat, uint32_t nfeat);
/* Canonical text with full parentheses, e.g. "((a&b)|c)"; caller frees. */
FLURM_API char *flurm_sched_expr_str(const flurm_sched_expr_t *e);
FLURM_API void flurm_sched_expr_free(flurm_sched_expr_t *e);

#endif
