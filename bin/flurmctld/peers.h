/* bin/flurmctld/peers.h — the controller <-> controller link (proto/raft.proto over nng).
 *
 * Every controller listens on its own SlurmctldHost address at the peer port
 * (SlurmctldParameters=flurm_peer_port=N, default 6820) with an nng REP socket, and dials every
 * other member with one nng REQ socket each. Every connection is an authenticated channel of
 * purpose FLURM_CHAN_PEER (include/flurm/chan.h): the listener admits root or SlurmUser speaking
 * for a SlurmctldHost name other than its own, from that host's address; the dialer checks the
 * same of the listener (and that it names the member it dialed). A process that is not a member
 * cannot vote, append or read the log.
 *
 * Two kinds of exchange, each one sealed REQ -> sealed REP on a context of its own:
 *   - a Raft message (PeerMessage with a Raft body): the receiver hands it to
 *     commit_receive() and parks the request for up to 0.2 s: the next Raft message it sends to
 *     that member (an Append's reply, typically) travels back as the answer, and the sender hands
 *     it to commit_receive() in turn. Nothing to carry back in time: an empty answer. Snapshots
 *     and messages over 1 MiB always go as requests of their own;
 *   - a forwarded client request (PeerMessage.forward): the receiver (the leader) hands it to
 *     rpc_forwarded() and answers a PeerMessage.forward_reply once the request is done.
 *
 * Raft tolerates loss: a message that cannot go out now (no channel yet, too many in flight) is
 * dropped and counted, never queued without bound. A forward that cannot go out, or whose reply
 * does not come within PEERS_FORWARD_TIMEOUT_MS, completes with NULL.
 *
 * Loop thread only. With a single SlurmctldHost there are no peers: peers_start() opens nothing. */
#ifndef FLURMCTLD_PEERS_H
#define FLURMCTLD_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <flurm/raft.h>

typedef struct ctl ctl_t;
typedef struct peers peers_t;

#define PEERS_DEFAULT_PORT 6820
#define PEERS_FORWARD_TIMEOUT_MS 15000

/* Listens and dials (ctl->self_id, ctl->conf->controllers). 0, or -1 (logged). */
int peers_start(ctl_t *ctl);
void peers_stop(ctl_t *ctl);   /* NULL-safe; completes forwards in flight with NULL */

/* Sends Raft message M to member M->to (encoded with flurm_raft_msg_encode() here, so M may be
 * freed when this returns). Dropped (counted) when that member has no channel yet. */
void peers_send(ctl_t *ctl, const flurm_raft_msg_t *m);

/* A forwarded request's outcome, on the loop:
 *   PEERS_FWD_ANSWERED  REPLY is the frame for the client (a SLURM message as server.c writes
 *                       it: u32 length prefix included); empty (non-NULL, LEN 0): the member
 *                       answered that it handled nothing (peers_forward_reply with ""/0);
 *   PEERS_FWD_NOT_SENT  it never left (no channel, queue full or expired, stop): nothing was
 *                       applied, it may be routed again;
 *   PEERS_FWD_LOST      it left but no answer came (connection lost, timeout): the leader may
 *                       have applied it.
 * REPLY is NULL/0 for both failures. */
typedef enum peers_fwd_status { PEERS_FWD_ANSWERED, PEERS_FWD_NOT_SENT, PEERS_FWD_LOST } peers_fwd_status_t;
typedef void (*peers_forward_done_fn)(ctl_t *ctl, void *arg, peers_fwd_status_t status, const void *reply,
                                      size_t len);

/* Forwards a client's request to member TO: FRAME is the SLURM frame as received (without the
 * length prefix), UID/GID what munge authenticated here, ADDR the client's "ip:port". */
void peers_forward(ctl_t *ctl, uint64_t to, uint64_t request_id, uid_t uid, gid_t gid, const char *addr,
                   const void *frame, size_t len, peers_forward_done_fn done, void *arg);

/* Gives up on every forward to member TO (it no longer leads: it may be hung rather than dead,
 * so no answer would ever come): each completes on the next loop turn, LOST if it had left,
 * NOT_SENT if it was still queued. A late answer is dropped. */
void peers_forward_abandon(ctl_t *ctl, uint64_t to);

/* Serving side of a forward: rpc_forwarded() (server.c) got TOKEN with the request; it calls
 * this exactly once with the reply frame (""/0: an empty answer, "handled nothing"; NULL/0:
 * answer nothing, the follower times out), possibly from within rpc_forwarded(). After
 * peers_stop() it does nothing. */
void peers_forward_reply(ctl_t *ctl, void *token, const void *reply, size_t len);

/* For `flurm cluster status` / scontrol ping: whether member ID has an established channel and
 * when (ev_now) we last heard from it (0: never). */
typedef struct peers_member_status {
    bool connected;
    double last_heard;
    uint64_t sent, dropped, received;
    uint64_t as_answer;            /* of SENT: carried back as the answer to its request */
} peers_member_status_t;
void peers_status(const ctl_t *ctl, uint64_t id, peers_member_status_t *out);

#endif
