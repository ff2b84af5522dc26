/* bin/flurmctld/ctl.h — the controller process: one event loop owning all state.
 *
 * Life of an RPC (one TCP connection = one request + one reply, as SLURM clients expect):
 *   accept -> read u32 length + frame (loop) -> decode frame (loop)
 *   -> munge verify + body hash check (worker thread)
 *   -> handle (loop): a read is answered from applied state; a write becomes a command
 *   -> commit.c: command batch appended + fsync'd to RocksDB (commit thread, one fsync per
 *      batch) -> command applied to the state machine (loop) -> reply body built
 *   -> reply credential signed (worker thread) -> write reply, close (loop). */
#ifndef FLURMCTLD_CTL_H
#define FLURMCTLD_CTL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <flurm/auth.h>
#include <flurm/buf.h>
#include <flurm/codec.h>
#include <flurm/conf.h>
#include <flurm/store.h>

#include "pool.h"
#include "state/state.h"

typedef struct ctl ctl_t;

typedef enum rpc_stage {
    RPC_READ_LEN, RPC_READ_FRAME, RPC_VERIFY, RPC_HANDLE, RPC_COMMIT, RPC_SIGN, RPC_WRITE,
    RPC_HELD,       /* waiting for a leader (an election runs) */
    RPC_FORWARDED,  /* with the leader; its reply is relayed */
} rpc_stage_t;

typedef struct rpc {
    pool_task_t task;          /* worker-thread stage (verify, sign); first member */
    ctl_t *ctl;
    int fd;
    ev_io io;
    ev_timer timer;
    rpc_stage_t stage;
    char peer[64];
    struct sockaddr_storage addr;   /* the peer */
    socklen_t addr_len;
    char host[256];            /* its name (reverse lookup on a worker), AllocNode of its jobs */
    double t_start;            /* ev_now at accept, for latency statistics */

    uint8_t lenbuf[4];
    size_t got;
    uint32_t need;
    uint8_t *in;               /* the frame after the length prefix */
    flurm_frame_t frame;

    int auth_rc;               /* FLURM_OK or FLURM_EAUTH/EIO after verify */
    const char *auth_reason;
    uid_t uid;
    gid_t gid;

    /* Raft routing: a request this controller cannot serve goes to the leader */
    void *fwd_token;           /* set: a follower forwarded it here; the reply goes back there */
    uint64_t fwd_from;         /* the member that forwarded it here */
    uint64_t fwd_id;           /* our id for it while forwarded */
    double hold_until;         /* ev_now after which a held request is answered with an error */
    bool maybe_applied;        /* routed again after a leader may have applied it: its id makes
                                * a second copy harmless, but "try again" would not be true */
    struct rpc *held_next;

    uint32_t job_id;           /* the job a kill/update refers to, for what follows its apply */
    uint16_t alloc_port;       /* REQUEST_RESOURCE_ALLOCATION: the client's alloc_resp_port */
    uint16_t other_port;       /*   and its message port (SRUN_JOB_COMPLETE) */
    flurm_buf_t cmd;           /* command to commit (RPC_COMMIT); commit_propose() takes it */

    uint16_t reply_type;
    flurm_buf_t reply;         /* reply body */
    bool reply_digest_valid;   /* reply_digest is K12(reply) (a cached body's) */
    uint8_t reply_digest[32];
    uid_t reply_uid;           /* credential restriction */
    int sign_rc;
    flurm_buf_t out;           /* framed reply */
    size_t out_off;
} rpc_t;

#define CTL_MAX_LISTENERS 16

typedef struct rpc_stat {
    uint32_t count;
    uint64_t total_usec;
} rpc_stat_t;

struct ctl {
    struct ev_loop *loop;
    const char *conf_path;
    flurm_conf_t *conf;
    flurm_auth_t *auth;
    pool_t *workers;
    pool_t *committer;
    flurm_store_t *store;
    flurm_state_t *state;
    struct flurm_sched_host *sched;  /* SchedulerType's scheduler (built-in or a plugin) */

    /* This controller among the SlurmctldHost lines: member id = line number (1-based), so the
     * lines' order is the members' identity and must be the same in every copy of slurm.conf. */
    const flurm_conf_controller_t *self;
    uint64_t self_id;
    const char *bind_addr;          /* self->addr with several controllers, else NULL (any) */
    struct peers *peers;            /* peers.c: NULL with a single controller */
    struct adminsrv *adminsrv;      /* adminsrv.c: the admin port (`flurm cluster`) */

    ev_io listeners[CTL_MAX_LISTENERS];
    int nlisteners;
    ev_check flush;            /* after each loop iteration: ship proposed commands */
    ev_signal sigterm, sigint, sighup;
    ev_timer tick;             /* periodic housekeeping (node timeouts, purge, snapshots) */

    struct commit *commit;          /* the commit pipeline (commit.c) */
    int nconns;
    struct nodesrv *nodesrv;
    struct alloc *alloc;            /* alloc.c: the clients of interactive allocations */
    uint32_t starts_in_flight;      /* JOB_START commands proposed, not yet applied */
    ev_timer sched_timer;           /* armed by ctl_schedule_soon() */
    time_t start_time;
    bool shutting_down;

    struct rpc *held;               /* requests waiting for a leader */
    uint64_t next_fwd_id;
    uint64_t forwarded_out, forwarded_in, forward_failures;
    uint64_t forwarding_to;    /* the member requests were last forwarded to (0: none) */
    /* Failure injection for the failover tests (environment FLURMCTLD_FAULT=NAME[,NAME],
     * logged at start), each what a leader that dies at the wrong moment leaves undone:
     *   drop-forward-replies  a forwarded sbatch is applied and never answered;
     *   drop-launches         a started job's launch never leaves for its node. */
    bool fault_drop_forward_replies, fault_drop_launches;

    /* statistics for sdiag and /metrics */
    rpc_stat_t rpc_by_type[65536];    /* indexed by msg_type */
    uint64_t rpcs_total, auth_failures, malformed_frames;
};

/* rpc.c: handle a verified request on the loop thread. Either fills rpc->reply/reply_type and
 * returns 0 (reply now) or fills rpc->cmd and returns 1 (commit first, then ctl_applied). */
int rpc_handle(ctl_t *ctl, rpc_t *rpc);
/* rpc.c: the command of RPC was applied with RESULT; build its reply and return 1 (the caller
 * sends it), or 0: the reply comes later (an allocation waits for its job to start, alloc.c). */
int rpc_applied(ctl_t *ctl, rpc_t *rpc, const flurm_apply_result_t *result);
/* rpc.c: build a reply of TYPE with body MSG. */
void rpc_reply_msg(rpc_t *rpc, uint16_t type, const void *msg);
/* rpc.c: release reply caches (at shutdown). */
void rpc_cleanup(void);
/* rpc.c: build an RC reply. */
void rpc_reply_rc(rpc_t *rpc, uint32_t rc);

/* nodesrv.c: the flurmnd side (nng REP on the node port). */
int nodesrv_start(ctl_t *ctl);
void nodesrv_stop(ctl_t *ctl);
void nodesrv_tick(ctl_t *ctl);          /* answer expired polls, detect silent nodes */
/* Carries out what an applied command asks of the nodes (launches, kills, suspends), on the
 * controller that applied it as leader; called by commit.c once per applied command. */
void nodesrv_effects(ctl_t *ctl, const flurm_effect_t *effects, size_t n);
/* SignalJob to the node running J (a signal changes no state: no command). */
void nodesrv_signal(ctl_t *ctl, const flurm_job_t *j, int sig);
/* What node NODE's daemon last reported (load average * 100, free memory in MB); FLURM_NO_VAL
 * (FLURM_NO_VAL64) while it is not registered. */
uint32_t nodesrv_cpu_load(ctl_t *ctl, size_t node);
uint64_t nodesrv_free_mem(ctl_t *ctl, size_t node);
/* sched.c-like entry in nodesrv.c: plan and propose job starts (one round in flight at a time). */
void ctl_schedule(ctl_t *ctl);
/* Schedules within SCHED_COALESCE_S: the changes of a burst of batches share one pass. */
void ctl_schedule_soon(ctl_t *ctl);
/* names.c: the user name of UID (its number when it has none), cached. */
const char *ctl_user_name(uint32_t uid);
/* names.c: the compressed host list ("n[1-3,7]") of node indexes IDX, malloc'd ("" for none, NULL
 * when out of memory); indexes beyond the configuration (a reconfigure dropped the node) are
 * skipped. */
char *ctl_node_names(const flurm_conf_t *c, const uint32_t *idx, size_t n);
/* rpc.c: re-read slurm.conf; on error *ERRMSG (malloc'd) says why and nothing changes. Only
 * through the log (FLURM_CMD_RECONFIGURE), so that every member switches at the same index. */
int ctl_reconfigure(ctl_t *ctl, char **errmsg);
/* rpc.c: ctl_reconfigure() with its error logged: commit.c's hook for FLURM_CMD_RECONFIGURE. */
int ctl_reconfigure_now(ctl_t *ctl);

/* server.c */
/* The leader's side of a forwarded request (peers.c): FRAME (without length prefix) came from a
 * client of member FROM, authenticated there as UID/GID from ADDR. Handled as if it had arrived
 * here (no munge decode: the follower did that); the reply frame goes back through
 * peers_forward_reply(ctl, TOKEN, ...). */
void rpc_forwarded(ctl_t *ctl, void *token, uint64_t from, uid_t uid, gid_t gid, const char *addr, const void *frame,
                   size_t len);
int server_listen(ctl_t *ctl);
/* Routes the held requests again: the leader changed or became ready (commit.c's hook). */
void server_leader_changed(ctl_t *ctl);
void server_send_reply(ctl_t *ctl, rpc_t *rpc);   /* sign, frame, write, close */
void server_close_listeners(ctl_t *ctl);

#endif
