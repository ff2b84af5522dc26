/* bin/flurmctld/adminsrv.h — the admin port: `flurm cluster status|transfer|add|remove`
 * (proto/admin.proto).
 *
 * Every controller listens with an nng REP socket at its SlurmctldHost address (0.0.0.0 with a
 * single controller) on SlurmctldParameters=flurm_admin_port=N (default 6821). Every connection
 * is an authenticated channel of purpose FLURM_CHAN_ADMIN (include/flurm/chan.h, chansrv.c):
 * root or SlurmUser, speaking for any name, from any address (admins run the tool on login
 * nodes; munge proves the uid). Requests are answered at once on the loop: StatusRequest with
 * this member's view of the Raft cluster (commit_status(), peers_status()); TransferRequest, on
 * the leader, starts a leadership transfer (commit_transfer()) and answers OK; AddRequest (a
 * SlurmctldHost line whose address matches the request's host) and RemoveRequest, on the leader,
 * propose a membership change (commit_change(): a learner, which commit.c promotes to voter once
 * it caught up, or a removal) and answer OK, ERROR_BUSY (retry) or ERROR_REFUSED; on a follower
 * all three answer ERROR_NOT_LEADER with the leader's name.
 *
 * Loop thread only. */
#ifndef FLURMCTLD_ADMINSRV_H
#define FLURMCTLD_ADMINSRV_H

typedef struct ctl ctl_t;

#define ADMINSRV_DEFAULT_PORT 6821

/* Listens (ctl->bind_addr, the port). 0, or -1 (logged). */
int adminsrv_start(ctl_t *ctl);
/* NULL-safe. The worker pool must be drained first (a handshake's completion answers through
 * one of our contexts), as for peers_stop(). */
void adminsrv_stop(ctl_t *ctl);

#endif
