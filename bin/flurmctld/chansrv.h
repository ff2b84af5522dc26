/* bin/flurmctld/chansrv.h — the listening side of FLURM's authenticated channels
 * (include/flurm/chan.h) on an nng socket: one session per pipe, handshakes on the worker pool,
 * every refused or dropped frame counted and logged once per peer address and reason.
 *
 * Loop thread only, except chansrv_open(). The caller owns the socket and its contexts; chansrv
 * only says what to do with each received message. */
#ifndef FLURMCTLD_CHANSRV_H
#define FLURMCTLD_CHANSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include <flurm/buf.h>
#include <flurm/chan.h>

typedef struct ctl ctl_t;
typedef struct chansrv chansrv_t;

/* Who may hold a channel for one name: filled by the caller's policy on the loop thread and
 * checked on a worker thread against what the credential proved. */
typedef struct chansrv_policy {
    uint32_t id;                    /* the caller's id for the name (a node index) */
    uid_t uids[2];                  /* the credential's uid must be one of these */
    char hosts[2][256];             /* and its origin one of their addresses (flurm_chan_addr_matches) */
    bool check_addr;                /* false: any origin (NAT'd sites) */
} chansrv_policy_t;

/* The caller's policy for NAME: FLURM_OK and *POLICY filled, or an error and *WHY static text
 * (the peer hears it in a REFUSE). */
typedef int (*chansrv_policy_fn)(ctl_t *ctl, const char *name, chansrv_policy_t *policy, const char **why);

/* A handshake finished: send FRAME back on the context TOKEN names (chansrv_recv's TOKEN). */
typedef void (*chansrv_send_fn)(void *token, const flurm_buf_t *frame);

typedef enum chansrv_verdict {
    CHANSRV_DATA,          /* *PLAIN holds the opened message, *PEER its session's identity */
    CHANSRV_REPLY,         /* send *PLAIN back as is (a REFUSE frame) */
    CHANSRV_PENDING,       /* a handshake runs; SEND gets the answer for TOKEN later */
    CHANSRV_DROP,          /* drop it, answer nothing (bad tag, replay) */
} chansrv_verdict_t;

/* What a DATA frame's session was authorized as. */
typedef struct chansrv_peer {
    uint32_t id;                       /* policy id */
    uid_t uid;
    char name[FLURM_CHAN_NAME_MAX + 1];   /* the name it speaks for */
    char addr[64];                     /* "ip:port" of the connection */
} chansrv_peer_t;

/* Counters since the start. */
typedef struct chansrv_stats {
    uint64_t handshakes, sessions;
    uint64_t unauthenticated;   /* DATA on a pipe with no session */
    uint64_t malformed;         /* not a channel frame, or a frame a listener does not take */
    uint64_t bad_credential;    /* HELLO whose credential did not verify (invalid, replayed...) */
    uint64_t unauthorized;      /* verified, refused by policy (uid, name, address) */
    uint64_t bad_tag;           /* DATA that failed to open: tampered or forged */
    uint64_t replayed;          /* DATA with a sequence number already seen */
} chansrv_stats_t;

/* Listens on SOCK for PURPOSE channels; WHAT names them in the log ("node"). NULL on failure. */
chansrv_t *chansrv_new(ctl_t *ctl, nng_socket sock, flurm_chan_purpose_t purpose, const char *what,
                       chansrv_policy_fn policy, chansrv_send_fn send);
void chansrv_free(chansrv_t *cs);

/* Any thread (the nng callback, so that opening and decoding run beside the loop): true if BODY
 * is a DATA frame that opens under PIPE's session, *PLAIN and *PEER then filled. Anything else
 * goes to chansrv_recv() on the loop, which refuses, counts and logs. */
bool chansrv_open(chansrv_t *cs, nng_pipe pipe, const void *body, size_t len, flurm_buf_t *plain,
                  chansrv_peer_t *peer);

/* A message BODY (LEN bytes) received on PIPE through the context TOKEN. */
chansrv_verdict_t chansrv_recv(chansrv_t *cs, nng_pipe pipe, const void *body, size_t len, void *token,
                               flurm_buf_t *plain, chansrv_peer_t *peer);

/* Seals PLAIN for PIPE's session into OUT (replaced). FLURM_ENOENT when the pipe has no session
 * (it closed): the reply has nowhere to go. */
int chansrv_seal(chansrv_t *cs, nng_pipe pipe, const void *plain, size_t len, flurm_buf_t *out);

const chansrv_stats_t *chansrv_stats(const chansrv_t *cs);

/* Any thread: answers FRAME on the REP context CTX through AIO, setting *SENDING first (the
 * caller's callback tells a send completion from a receive by it). Out of memory: nothing is
 * sent, CTX receives again (the peer's request times out and is resent). */
void chansrv_reply(nng_ctx ctx, nng_aio *aio, bool *sending, const flurm_buf_t *frame);

#endif
