/* bin/flurmnd/nd.h — flurmnd internals shared by its modules (and its unit tests).
 *
 * Modules:
 *   pattern.c     %-pattern expansion of output paths and the batch job's environment (pure)
 *   spool.c       per-job files in the spool directory, each written atomically (pure I/O)
 *   hw.c          hardware detection, slurm.conf overrides
 *   follow.c      which controller to dial: the Raft leader among the SlurmctldHosts (pure)
 *   supervisor.c  the job supervisor: a fork of flurmnd that runs prolog, script and epilog
 *   jobs.c        the job table: launch, signals, time limits, end states, restart recovery
 *   client.c      the controller link: protobuf NodeRequest/NodeReply over nng REQ contexts
 *   main.c        options, configuration, the event loop
 *
 * Everything but the supervisor runs on the one libev loop thread; nng completions are handed
 * to that thread through an ev_async. */
#ifndef FLURMND_ND_H
#define FLURMND_ND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <flurm/common.h>
#include <flurm/conf.h>

#include "node.pb-c.h"

#define ND_DEFAULT_PORT 6819
#define ND_DEFAULT_POLL_MS 5000u

/* ------------------------------------------------------------------ pattern.c */

/* What %-patterns and the job environment need beyond the LaunchJob itself. */
typedef struct nd_job_ctx {
    const char *node_name;   /* SLURMD_NODENAME, %N */
    pid_t task_pid;          /* SLURM_TASK_PID (0: not set) */
} nd_job_ctx_t;

/* Expand PATTERN for job L (SLURM src/slurmd/slurmstepd/io.c / fname.c semantics for a batch
 * step): %j job id, %x job name, %A array job id (the job id for a non-array job), %a array
 * task id (4294967294 = NO_VAL for a non-array job, as SLURM prints it), %u user name, %N node
 * name, %% a '%'. A decimal width between '%' and a numeric specifier zero-pads ("%4j" ->
 * "0042"). Unknown specifiers are kept as written. A pattern containing a backslash is not
 * expanded; its backslashes are removed (SLURM's "\\" escape). Returns a malloc'd string, or
 * NULL when out of memory. */
char *nd_pattern_expand(const char *pattern, const Flurm__Node__LaunchJob *l, const nd_job_ctx_t *ctx);

/* The stdout path pattern L asks for: std_out, else "slurm-%j.out" ("slurm-%A_%a.out" for an
 * array task). Not expanded. */
const char *nd_stdout_pattern(const Flurm__Node__LaunchJob *l);

/* True if L is an array task (array_task_id is not NO_VAL). */
bool nd_is_array_task(const Flurm__Node__LaunchJob *l);

/* The batch environment: L->env, then the SLURM_* variables slurmd adds to a batch step (a
 * variable in both takes SLURM's value). SLURM_ARRAY_* only for array tasks. Returns a malloc'd
 * NULL-terminated array of malloc'd "NAME=value" strings (nd_env_free it), NULL if out of
 * memory. */
char **nd_env_build(const Flurm__Node__LaunchJob *l, const nd_job_ctx_t *ctx);
void nd_env_free(char **env);
/* Value of NAME in ENV, or NULL. */
const char *nd_env_get(char *const *env, const char *name);

/* ------------------------------------------------------------------ spool.c */

/* How a job was told to end: decides CANCELLED/TIMEOUT over COMPLETED/FAILED. */
typedef enum nd_cause {
    ND_CAUSE_NONE = 0,
    ND_CAUSE_CANCEL = 1,    /* KillJob */
    ND_CAUSE_TIMEOUT = 2,   /* time limit reached */
    ND_CAUSE_ORPHAN = 3     /* the controller does not know the job (Ack.unknown_jobs) */
} nd_cause_t;

/* spool/job<N>/state: written by flurmnd before the supervisor may start the script, and
 * rewritten whenever a field changes. */
typedef struct nd_state {
    uint32_t job_id;
    uint32_t uid, gid;
    pid_t sup_pid;                /* the supervisor; 0 until forked */
    unsigned long long sup_start; /* its /proc/<pid>/stat start time (clock ticks since boot) */
    uint32_t time_limit_min;      /* FLURM_INFINITE = none */
    uint32_t kill_wait_s;
    int64_t ctld_start_time;      /* LaunchJob.start_time */
    nd_cause_t cause;
    int64_t cause_time;           /* when cause was set (the first SIGTERM) */
    uint32_t cause_kill_wait_s;   /* SIGKILL this long after cause_time */
    int last_signal;              /* last signal a SignalJob delivered, 0 if none */
    /* suspension (SuspendJob/ResumeJob), kept so that a restarted flurmnd still extends the time
     * limit by the time stopped; absent in older state files (= never suspended) */
    bool suspended;               /* stopped by a SuspendJob (SIGSTOP) */
    int64_t suspended_at;         /* when */
    int64_t suspended_secs;       /* total time stopped: added to the time limit */
} nd_state_t;

/* spool/job<N>/started: written by the supervisor once the script runs. */
typedef struct nd_started {
    pid_t pid;                    /* the script; also its process group and session id */
    unsigned long long pid_start; /* its /proc start time */
    int64_t start_time;           /* seconds since the epoch */
} nd_started_t;

/* spool/job<N>/exit: written by the supervisor when the job is over. */
typedef struct nd_exit {
    int wait_status;              /* wait4() status of the script (0 if it never ran) */
    int64_t end_time;
    uint64_t max_rss_kb;
    char reason[256];             /* non-empty: the script could not start */
} nd_exit_t;

/* Each writer replaces DIR/NAME (mode 0600, flurmnd's) atomically: write DIR/.NAME.tmp, fsync,
 * rename, fsync DIR.
 * A reader sees the old file or the new one, never a mix; on error the old one is intact.
 * Return FLURM_OK or FLURM_EIO (errno kept). */
int nd_spool_write_state(const char *dir, const nd_state_t *st);
int nd_spool_write_started(const char *dir, const nd_started_t *s);
int nd_spool_write_exit(const char *dir, const nd_exit_t *e);
/* Readers: FLURM_ENOENT when absent, FLURM_EINVAL when unparsable; *OUT untouched on error. */
int nd_spool_read_state(const char *dir, nd_state_t *out);
int nd_spool_read_started(const char *dir, nd_started_t *out);
int nd_spool_read_exit(const char *dir, nd_exit_t *out);

/* Write DATA (LEN bytes) to DIR/NAME atomically as above, file mode MODE; a symbolic link at
 * DIR/.NAME.tmp is not followed (FLURM_EIO, ELOOP). */
int nd_spool_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode);
/* mkdir -p PATH (mode 0755 for what it creates). */
int nd_spool_mkdirs(const char *path);
/* rm -r PATH (no error if absent). */
int nd_spool_remove_tree(const char *path);

/* Start time of process PID from /proc/PID/stat (field 22), 0 if it does not exist. A pid whose
 * start time differs from the recorded one has been recycled. */
unsigned long long nd_proc_start_time(pid_t pid);
/* PID exists, is not a zombie (an exited process nobody reaped: flurmnd's orphans go to an init
 * that may be slow to reap) and started at START. */
bool nd_proc_alive(pid_t pid, unsigned long long start);

/* ------------------------------------------------------------------ hw.c */

typedef struct nd_hw {
    uint32_t cpus, boards, sockets, cores_per_socket, threads_per_core;
    uint64_t real_memory_mb;
    uint32_t tmp_disk_mb;
    char gres[256], features[256];
    int64_t boot_time;
    char hostname[256];   /* short hostname */
    char arch[64], os[256];
} nd_hw_t;

/* Fill HW from this machine (sysconf, /proc/meminfo, statvfs(TMPDIR_PATH), /proc/stat btime,
 * uname). TMPDIR_PATH NULL = "/tmp". Never fails: unknown values are left at 0 / "". */
void nd_hw_detect(nd_hw_t *hw, const char *tmpdir_path);
/* slurm.conf's node line wins (SLURM SlurmdParameters=config_overrides): CPUs, boards, sockets,
 * cores, threads, RealMemory, TmpDisk from NODE (the parser has resolved their defaults), Gres
 * and Features when set. */
void nd_hw_apply_conf(nd_hw_t *hw, const flurm_conf_node_t *node);
/* Load average * 100 and available memory (MB), for Poll. */
void nd_hw_load(uint32_t *load100, uint64_t *free_mb);

/* ------------------------------------------------------------------ follow.c */

/* Which SlurmctldHost flurmnd dials. With several controllers only the Raft leader serves
 * nodes: the others answer ERROR_NOT_LEADER naming the leader they know. Pure: the caller dials,
 * waits and tells what happened; it reads F->cur (the controller to dial) and acts on the step.
 *   NOT_LEADER naming another controller: go there at once, unless its connection was lost in
 *     the last ND_FOLLOW_LOST_HOLD_S (a follower names a dead leader until its election
 *     timeout), or redirects have bounced 2 x count times without a registration (then after
 *     ND_FOLLOW_RETRY_S).
 *   NOT_LEADER naming CUR itself (it leads, not ready yet), nobody, or a held controller: ask CUR
 *     again after ND_FOLLOW_RETRY_S; after ND_FOLLOW_STAY_MAX such answers in a row, the next
 *     controller (a follower cut off from the majority never learns the leader).
 *   LOST (connection closed, no answer): the next controller not lost recently, at once;
 *     after ND_FOLLOW_BACKOFF_S once every controller failed since the last registration.
 *   REFUSED (handshake refused, controller not trusted): the next controller after
 *     ND_FOLLOW_REFUSED_S.
 * With one controller CUR stays 0 and only the delay is decided. */
#define ND_FOLLOW_RETRY_S 0.15
#define ND_FOLLOW_STAY_MAX 6
#define ND_FOLLOW_LOST_HOLD_S 2.0
#define ND_FOLLOW_BACKOFF_S 0.5
#define ND_FOLLOW_REFUSED_S 2.0

typedef enum nd_follow_event {
    ND_FOLLOW_NOT_LEADER = 0,   /* ERROR_NOT_LEADER; the leader named ("" or NULL: none) */
    ND_FOLLOW_LOST = 1,         /* the connection closed, or a request or handshake got no answer */
    ND_FOLLOW_REFUSED = 2       /* the handshake was refused, or the controller is not trusted */
} nd_follow_event_t;

typedef struct nd_follow {
    const flurm_conf_controller_t *hosts;   /* the SlurmctldHost lines (not owned) */
    size_t count;
    size_t cur;                 /* the controller to dial */
    unsigned stays;             /* NOT_LEADER without a usable leader, in a row, at CUR */
    unsigned redirects;         /* redirects followed since the last registration */
    unsigned losses;            /* LOST/REFUSED since the last registration */
    double *lost_at;            /* per controller: when it was last LOST (0: never) */
} nd_follow_t;

typedef struct nd_follow_step {
    bool moved;                 /* CUR changed: close the connection, dial the new CUR */
    bool redirected;            /* ... to the leader the controller named */
    double delay_s;             /* wait this long before the next request */
} nd_follow_step_t;

/* Starts at HOSTS[0]. FLURM_ENOMEM (nothing allocated) or FLURM_OK. */
int nd_follow_init(nd_follow_t *f, const flurm_conf_controller_t *hosts, size_t count);
void nd_follow_free(nd_follow_t *f);
/* EV happened at CUR at time NOW (seconds, any monotonic origin > 0); LEADER as above. */
nd_follow_step_t nd_follow_event(nd_follow_t *f, nd_follow_event_t ev, const char *leader, double now);
/* CUR accepted a registration: the counters start over. */
void nd_follow_registered(nd_follow_t *f);

/* ------------------------------------------------------------------ supervisor.c */

/* Everything the supervisor needs; it lives in flurmnd's memory, inherited by the fork. */
typedef struct nd_sup_args {
    const char *job_dir;                 /* spool/job<N> */
    const Flurm__Node__LaunchJob *launch;
    const char *node_name;
    const char *prolog, *epilog;         /* NULL = none */
    int ctl_fd;                          /* socketpair end shared with flurmnd */
} nd_sup_args_t;

/* Runs in the freshly forked supervisor; never returns. Protocol on CTL_FD: flurmnd writes 'g'
 * once the state file names the supervisor (EOF instead = flurmnd died: give up, run nothing);
 * the supervisor writes 'S' after the `started` file exists, then the job's `exit` file is
 * written before the supervisor exits. */
_Noreturn void nd_supervisor_main(const nd_sup_args_t *a);

#endif
