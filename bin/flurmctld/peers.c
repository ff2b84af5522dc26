/* bin/flurmctld/peers.c — see peers.h.
 *
 * Threads. nng completes every send and receive on its own threads; its callbacks only record
 * the outcome (the listener's also open the DATA frame and decode the PeerMessage there, so a
 * large Append is not decoded on the loop) and queue an event for the loop (one FIFO inbox, one
 * ev_async). Everything else runs on the loop: commit_receive(), rpc_forwarded(), the forward
 * completions, and every use of a dialer's channel (seal, open), so those need no lock. The
 * listener's channels live in chansrv (its own locks). Munge (HELLO, WELCOME checks) runs on
 * ctl->workers.
 *
 * Listener: one REP socket at SlurmctldHost's address, with enough contexts for everything the
 * other members may have in flight at once (their Raft and forward contexts and a handshake)
 * plus LISTEN_SPARE, so a member's Raft message always finds a context however many forwards
 * the leader holds. A context that received a forward stays held until peers_forward_reply().
 *
 * Dialers: one REQ socket per other member (one nng dialer: at most one pipe at a time), with
 *   RAFT_CTXS contexts for Raft messages (none free, or no channel: the message is dropped and
 *   counted; Raft resends what matters),
 *   FWD_CTXS contexts for forwards (beyond them up to FWD_QUEUE_MAX wait; more fail at once),
 *   one context for the handshake.
 * nng never resends a request (REQ_RESENDTIME infinite): a request is bound to the channel of
 * its pipe, and a forward must not run twice. When the pipe closes, the requests in flight on it
 * are cancelled (forwards complete with NULL) and the channel dropped; nng redials within
 * RECONNMAXT and a new pipe starts a new handshake. A pipe that stays up while the member
 * answers nothing for DEAD_S (a host that vanished without a FIN) is closed, so it redials.
 *
 * Handshake (dialer): HELLO made on a worker -> sent on the handshake context (loop) -> the
 * WELCOME checked on a worker (credential, then root or SlurmUser, the member's own name, from
 * its address) -> the channel installed on the loop if its pipe is still the current one.
 * Failures retry with a backoff from HS_RETRY_MIN_S to HS_RETRY_MAX_S.
 *
 * Every drop or refusal is counted and logged once per (member, reason); connection changes
 * are logged as they happen.
 *
 * The members (names, addresses, the port), ClusterName and SlurmUser are copied at
 * peers_start(): a reconfigure that changes them takes effect at the next start. */
#include "peers.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include <flurm/chan.h>
#include <flurm/log.h>
#include <flurm/raft_wire.h>

#include "chansrv.h"
#include "commit.h"
#include "ctl.h"

#define RAFT_CTXS 32                 /* per member: Raft messages in flight to it */
#define FWD_CTXS 64                  /* per member: forwards in flight to it */
#define FWD_QUEUE_MAX 1024           /* per member: forwards waiting for a context or a channel */
#define LISTEN_SPARE 64              /* listener contexts beyond what the members can fill */
#define HS_TIMEOUT_MS 5000           /* HELLO sent and WELCOME back */
#define RAFT_TIMEOUT_MS 2000         /* a Raft message's empty answer... */
#define RAFT_BYTES_PER_MS (50u * 1024)   /* ...plus its transfer at 50 MB/s (snapshots) */
#define DEAD_S 3.0                   /* nothing answered for this long on an open pipe: close it */
#define HS_RETRY_MIN_S 0.5
#define HS_RETRY_MAX_S 5.0
#define TICK_S 0.1                   /* parked contexts, forwards' deadlines, handshake retries */
#define PARK_S 0.2                   /* a Raft request parked longer is answered empty */
#define ANSWER_MAX ((size_t)1 << 20) /* larger messages (snapshots) go as requests of their own */
#define RECONN_MIN_MS 50
#define RECONN_MAX_MS 500
#define MAX_MSG_BYTES ((size_t)1 << 30)   /* largest PeerMessage received (a snapshot) */

typedef struct member member_t;
typedef struct fwd fwd_t;

/* nng thread -> loop. */
typedef enum event_kind { EV_PIPE_ADD, EV_PIPE_REM, EV_REQ, EV_HS, EV_LISTEN } event_kind_t;
typedef struct event {
    event_kind_t kind;
    member_t *m;
    uint32_t pipe;                 /* EV_PIPE_* */
    void *obj;                     /* EV_REQ: rctx_t, EV_LISTEN: lctx_t */
    struct event *next;
} event_t;

/* Why something was dropped or refused: counted, logged once per member. */
typedef enum reason {
    LR_NO_CHANNEL,      /* a Raft message or forward with no channel to its member */
    LR_BUSY,            /* every Raft context to the member in flight */
    LR_ENCODE,          /* could not be encoded or sealed (or to no other member) */
    LR_FWD_FULL,        /* forward queue full */
    LR_FWD_TIMEOUT,     /* a forward not answered in time */
    LR_REFUSED,         /* the member refused a request of ours */
    LR_BAD_REPLY,       /* an answer that does not open or decode */
    LR_NOT_ANSWERING,   /* pipe closed: nothing answered for DEAD_S */
    LR_MISADDRESSED,    /* received: to/from disagree with the channel */
    LR_UNDECODABLE,     /* received: no PeerMessage */
    LR_OTHER_CLUSTER,   /* received: another ClusterName */
    LR_VERSION,         /* received: another protocol version */
    LR_UNEXPECTED,      /* received: a ForwardReply as a request */
    LR_MAX_
} reason_t;

static const char *const reason_name[LR_MAX_] = {
    [LR_NO_CHANNEL] = "no channel", [LR_BUSY] = "too many in flight", [LR_ENCODE] = "unencodable",
    [LR_FWD_FULL] = "forward queue full", [LR_FWD_TIMEOUT] = "forward timed out",
    [LR_REFUSED] = "refused", [LR_BAD_REPLY] = "bad answer", [LR_NOT_ANSWERING] = "not answering",
    [LR_MISADDRESSED] = "misaddressed", [LR_UNDECODABLE] = "undecodable",
    [LR_OTHER_CLUSTER] = "other cluster", [LR_VERSION] = "other version", [LR_UNEXPECTED] = "unexpected",
};

/* A dialer's REQ context. */
typedef struct rctx {
    event_t ev;
    member_t *m;
    nng_ctx ctx;
    nng_aio *aio;
    bool is_fwd;
    bool busy;                     /* loop: an exchange is under way */
    bool sending;                  /* nng thread: the send phase */
    bool sent;                     /* the send completed: the request left (forwards) */
    nng_duration recv_timeout;     /* Raft */
    nng_time deadline;             /* forward */
    int result;
    nng_msg *reply;
    fwd_t *fwd;
    struct rctx *next_free;
} rctx_t;

/* A forward on its way (queued or in flight). */
struct fwd {
    member_t *m;
    uint64_t request_id;
    nng_time deadline;
    peers_forward_done_fn done;
    void *arg;
    flurm_buf_t plain;             /* the encoded Forward (sealed when it goes out) */
    bool left;                     /* abandoned after it left: completes as LOST */
    fwd_t *next;
};

typedef enum hs_state { HS_IDLE, HS_HELLO, HS_EXCHANGE, HS_FINISH } hs_state_t;

struct member {
    struct peers *p;
    uint64_t id;
    bool self;
    char name[FLURM_CHAN_NAME_MAX + 1];
    char addr[256];
    char url[300];

    /* dialer */
    bool open;                     /* sock opened */
    nng_socket sock;
    nng_dialer dialer;
    uint32_t pipe;                 /* the current connection (0: none) */
    flurm_chan_t *chan;            /* its session (NULL: none yet) */
    uint32_t chan_pipe;
    rctx_t raft[RAFT_CTXS], fwdc[FWD_CTXS];
    rctx_t *raft_free, *fwd_free;
    fwd_t *q_head, *q_tail;        /* forwards waiting */
    size_t q_len;

    /* handshake */
    hs_state_t hs_state;
    nng_ctx hs_ctx;
    nng_aio *hs_aio;
    bool hs_sending;
    int hs_result;
    nng_msg *hs_reply;
    event_t hs_ev;
    flurm_chan_hs_t *hs;           /* between HELLO and WELCOME */
    double hs_retry_at, hs_backoff;
    char last_hs_error[512];

    /* listener: this member's Raft requests waiting for a message to carry back (oldest first) */
    struct lctx *park_head, *park_tail;

    /* status */
    double last_heard, last_answer;
    uint64_t sent, dropped, received, as_answer;
    uint64_t counts[LR_MAX_];
    uint32_t logged;               /* reasons logged (bit per reason_t) */
};

/* A listener REP context. */
typedef struct lctx {
    event_t ev;
    struct peers *p;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    bool held;                     /* a forward's token, until peers_forward_reply() */
    bool parked;                   /* a Raft request in its member's park list */
    double parked_at;
    struct lctx *park_next;
    nng_msg *msg;                  /* as received (NULL once opened) */
    nng_pipe pipe;
    bool opened;                   /* opened (and decoded) on the nng thread */
    chansrv_peer_t peer;
    int rc;                        /* flurm_raft_peer_decode()'s */
    flurm_raft_wire_msg_t *w;
    uint64_t fwd_from, fwd_request_id;
} lctx_t;

struct peers {
    ctl_t *ctl;
    uint64_t self_id;
    uid_t slurm_user;              /* SlurmUser: conf may be replaced by a reconfigure; workers read this */
    char *cluster;
    member_t *members;             /* [id - 1] */
    size_t nmembers;
    bool stopping;
    unsigned tasks;                /* pool tasks in flight */
    _Atomic uint32_t local_origin;

    bool listening;
    nng_socket lsock;
    chansrv_t *chan;
    lctx_t *lctxs;
    size_t nlctx;
    unsigned held;

    pthread_mutex_t lock;          /* the inbox */
    event_t *head, *tail;
    ev_async wake;
    ev_timer tick;
    fwd_t *failed_head, *failed_tail;   /* forwards to complete with NULL on the next wake */

    uint64_t counts[LR_MAX_];      /* for no member (unknown ids) */
    uint32_t logged;
};

/* A handshake step on a worker. */
typedef struct hs_task {
    pool_task_t task;              /* first member */
    member_t *m;
    bool finish;                   /* false: make the HELLO; true: check the WELCOME */
    flurm_chan_hs_t *hs;
    uint8_t *frame;
    size_t len;
    uint32_t pipe;
    flurm_buf_t hello;
    flurm_chan_t *chan;
    flurm_chan_peer_t peer;
    char text[512];
} hs_task_t;

/* ------------------------------------------------------------------ small things */

static member_t *member_by_id(peers_t *p, uint64_t id)
{
    return id >= 1 && id <= p->nmembers ? &p->members[id - 1] : NULL;
}

static member_t *member_by_name(peers_t *p, const char *name)
{
    for (size_t i = 0; i < p->nmembers; i++)
        if (strcmp(p->members[i].name, name) == 0)
            return &p->members[i];
    return NULL;
}

static double now_s(const peers_t *p)
{
    return ev_now(p->ctl->loop);
}

/* Counts REASON for M (NULL: no member) and logs it the first time. */
static void note(peers_t *p, member_t *m, reason_t r, const char *fmt, ...) FLURM_PRINTF(4, 5);
static void note(peers_t *p, member_t *m, reason_t r, const char *fmt, ...)
{
    uint32_t *logged = m ? &m->logged : &p->logged;
    (m ? m->counts : p->counts)[r]++;
    if (*logged & (1u << r))
        return;
    *logged |= 1u << r;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (m)
        flurm_warn("controller %s (member %llu): %s (further ones counted, not logged)", m->name,
                   (unsigned long long)m->id, text);
    else
        flurm_warn("controller peers: %s (further ones counted, not logged)", text);
}

static void post(peers_t *p, event_t *e)
{
    e->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    pthread_mutex_unlock(&p->lock);
    ev_async_send(p->ctl->loop, &p->wake);
}

/* Seals PLAIN under M's channel into a new nng message. */
static int seal_msg(member_t *m, const flurm_buf_t *plain, nng_msg **out)
{
    flurm_buf_t sealed;
    flurm_buf_init(&sealed);
    int rc = flurm_chan_seal(m->chan, plain->data, plain->size, &sealed);
    if (rc == FLURM_OK && nng_msg_alloc(out, sealed.size) != 0)
        rc = FLURM_ENOMEM;
    if (rc == FLURM_OK)
        memcpy(nng_msg_body(*out), sealed.data, sealed.size);
    flurm_buf_release(&sealed);
    return rc;
}

static void free_peers(peers_t *p)
{
    pthread_mutex_destroy(&p->lock);
    free(p->lctxs);
    free(p->members);
    free(p->cluster);
    free(p);
}

/* ------------------------------------------------------------------ forwards (dialer) */

static void fwd_free(fwd_t *f)
{
    flurm_buf_release(&f->plain);
    free(f);
}

/* REPLY NULL: failed, SENT saying whether it had left (then its outcome is unknown); else the
 * leader's answer, possibly empty (it handled nothing). */
static void fwd_complete(peers_t *p, fwd_t *f, const void *reply, size_t len, bool sent)
{
    if (f->done)
        f->done(p->ctl, f->arg,
                reply ? PEERS_FWD_ANSWERED : sent ? PEERS_FWD_LOST : PEERS_FWD_NOT_SENT, reply,
                reply ? len : 0);
    fwd_free(f);
}

/* Completes F with NULL on the next wake (never inside the caller's peers_forward()). */
static void fail_later(peers_t *p, fwd_t *f)
{
    f->next = NULL;
    if (p->failed_tail)
        p->failed_tail->next = f;
    else
        p->failed_head = f;
    p->failed_tail = f;
    ev_async_send(p->ctl->loop, &p->wake);
}

static void fwd_start(member_t *m, fwd_t *f)
{
    peers_t *p = m->p;
    rctx_t *c = m->fwd_free;
    nng_msg *msg = NULL;
    int rc = seal_msg(m, &f->plain, &msg);
    if (rc != FLURM_OK) {
        m->dropped++;
        note(p, m, LR_ENCODE, "cannot seal a forward: %s", flurm_strerror(rc));
        fail_later(p, f);
        return;
    }
    m->fwd_free = c->next_free;
    c->busy = true;
    c->fwd = f;
    c->deadline = f->deadline;
    c->sent = false;
    c->sending = true;
    nng_time now = nng_clock();
    nng_aio_set_msg(c->aio, msg);
    nng_aio_set_timeout(c->aio, f->deadline > now ? (nng_duration)(f->deadline - now) : 1);
    nng_ctx_send(c->ctx, c->aio);
    m->sent++;
}

/* Starts queued forwards while M has a channel and free contexts. */
static void fwd_pump(member_t *m)
{
    nng_time now = nng_clock();
    while (m->chan && m->fwd_free && m->q_head) {
        fwd_t *f = m->q_head;
        m->q_head = f->next;
        if (!m->q_head)
            m->q_tail = NULL;
        m->q_len--;
        if (f->deadline <= now) {
            note(m->p, m, LR_FWD_TIMEOUT, "a forwarded request waited %d ms for a channel",
                 PEERS_FORWARD_TIMEOUT_MS);
            fail_later(m->p, f);
        } else {
            fwd_start(m, f);
        }
    }
}

/* Queued forwards past their deadline complete with NULL. */
static void fwd_expire(member_t *m)
{
    nng_time now = nng_clock();
    for (fwd_t **pp = &m->q_head, *prev = NULL; *pp;) {
        fwd_t *f = *pp;
        if (f->deadline > now) {
            prev = f;
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        if (m->q_tail == f)
            m->q_tail = prev;
        m->q_len--;
        note(m->p, m, LR_FWD_TIMEOUT, "a forwarded request waited %d ms for a channel", PEERS_FORWARD_TIMEOUT_MS);
        fail_later(m->p, f);
    }
}

/* ------------------------------------------------------------------ dialer: nng side */

static void req_cb(void *arg)
{
    rctx_t *c = arg;
    int rv = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        c->sent = rv == 0;
        if (rv == 0) {
            nng_duration t = c->recv_timeout;
            if (c->is_fwd) {
                nng_time now = nng_clock();
                t = c->deadline > now ? (nng_duration)(c->deadline - now) : 1;
            }
            nng_aio_set_timeout(c->aio, t);
            nng_ctx_recv(c->ctx, c->aio);
            return;
        }
        nng_msg_free(nng_aio_get_msg(c->aio));
        nng_aio_set_msg(c->aio, NULL);
        c->reply = NULL;
    } else {
        c->reply = rv == 0 ? nng_aio_get_msg(c->aio) : NULL;
    }
    c->result = rv;
    post(c->m->p, &c->ev);
}

static void hs_cb(void *arg)
{
    member_t *m = arg;
    int rv = nng_aio_result(m->hs_aio);
    if (m->hs_sending) {
        m->hs_sending = false;
        if (rv == 0) {
            nng_aio_set_timeout(m->hs_aio, HS_TIMEOUT_MS);
            nng_ctx_recv(m->hs_ctx, m->hs_aio);
            return;
        }
        nng_msg_free(nng_aio_get_msg(m->hs_aio));
        nng_aio_set_msg(m->hs_aio, NULL);
        m->hs_reply = NULL;
    } else {
        m->hs_reply = rv == 0 ? nng_aio_get_msg(m->hs_aio) : NULL;
    }
    m->hs_result = rv;
    post(m->p, &m->hs_ev);
}

static void on_dial_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    member_t *m = arg;
    event_t *e = malloc(sizeof *e);
    if (!e)
        return;   /* a lost REM: the DEAD_S check or a REFUSE drops the channel later */
    *e = (event_t){ .kind = ev == NNG_PIPE_EV_ADD_POST ? EV_PIPE_ADD : EV_PIPE_REM, .m = m,
                    .pipe = (uint32_t)nng_pipe_id(pipe) };
    post(m->p, e);
}

/* ------------------------------------------------------------------ dialer: handshakes */

static void hs_kick(member_t *m);

static void hs_failed(member_t *m, const char *text)
{
    m->hs_state = HS_IDLE;
    flurm_chan_hs_free(m->hs);
    m->hs = NULL;
    if (strcmp(text, m->last_hs_error) != 0) {
        flurm_warn("controller %s (member %llu) at %s: %s", m->name, (unsigned long long)m->id, m->url, text);
        snprintf(m->last_hs_error, sizeof m->last_hs_error, "%s", text);
    }
    m->hs_backoff = m->hs_backoff ? m->hs_backoff * 2 : HS_RETRY_MIN_S;
    if (m->hs_backoff > HS_RETRY_MAX_S)
        m->hs_backoff = HS_RETRY_MAX_S;
    m->hs_retry_at = now_s(m->p) + m->hs_backoff;
}

/* The listener's credential must be root's or SlurmUser's, speak for the member dialed and come
 * from its address. NULL when it does, else why not (into BUF). Worker thread. */
static const char *authorize_member(peers_t *p, const member_t *m, const flurm_chan_peer_t *peer, char *buf,
                                    size_t size)
{
    if (peer->uid != 0 && peer->uid != p->slurm_user) {
        snprintf(buf, size, "its credential is uid %u's, not root's or SlurmUser's", (unsigned)peer->uid);
        return buf;
    }
    if (strcmp(peer->name, m->name) != 0) {
        snprintf(buf, size, "it speaks for %s, not for %s", peer->name, m->name);
        return buf;
    }
    uint32_t local = atomic_load(&p->local_origin);
    if (!local && flurm_chan_local_origin(p->ctl->auth, &local, NULL) == FLURM_OK)
        atomic_store(&p->local_origin, local);
    if (flurm_chan_addr_matches(m->addr, peer->addr, local))
        return NULL;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer->addr, a, sizeof a);
    snprintf(buf, size, "its credential comes from %s, not from %s", a, m->addr);
    return buf;
}

/* Worker thread. */
static void hs_run(pool_task_t *task)
{
    hs_task_t *t = (hs_task_t *)task;
    member_t *m = t->m;
    peers_t *p = m->p;
    const char *why = NULL;
    if (!t->finish) {
        if (flurm_chan_hello(p->ctl->auth, FLURM_CHAN_PEER, p->members[p->self_id - 1].name, &t->hs, &t->hello,
                             &why) != FLURM_OK)
            snprintf(t->text, sizeof t->text, "cannot make a credential: %s", why ? why : "?");
        return;
    }
    int rc = flurm_chan_finish(p->ctl->auth, t->hs, t->frame, t->len, &t->peer, &t->chan, &why);
    t->hs = NULL;   /* consumed */
    if (rc != FLURM_OK) {
        snprintf(t->text, sizeof t->text, "its WELCOME does not verify: %s", why ? why : "?");
        return;
    }
    char buf[400];
    const char *no = authorize_member(p, m, &t->peer, buf, sizeof buf);
    if (no) {
        snprintf(t->text, sizeof t->text, "not trusted as controller %s: %.400s", m->name, no);
        flurm_chan_free(t->chan);
        t->chan = NULL;
    }
}

static void hs_task_free(hs_task_t *t)
{
    flurm_chan_hs_free(t->hs);
    flurm_chan_free(t->chan);
    flurm_buf_release(&t->hello);
    free(t->frame);
    free(t);
}

static void lose_channel(member_t *m, const char *why);

/* Loop thread. */
static void hs_done(pool_task_t *task)
{
    hs_task_t *t = (hs_task_t *)task;
    member_t *m = t->m;
    peers_t *p = m->p;
    p->tasks--;
    if (p->stopping) {
        hs_task_free(t);
        if (!p->tasks)
            free_peers(p);
        return;
    }
    if (!t->finish) {
        nng_msg *msg = NULL;
        if (t->text[0]) {
            hs_failed(m, t->text);
        } else if (nng_msg_alloc(&msg, t->hello.size) != 0) {
            hs_failed(m, "out of memory");
        } else {
            memcpy(nng_msg_body(msg), t->hello.data, t->hello.size);
            m->hs = t->hs;
            t->hs = NULL;
            m->hs_state = HS_EXCHANGE;
            m->hs_sending = true;
            nng_aio_set_msg(m->hs_aio, msg);
            nng_aio_set_timeout(m->hs_aio, HS_TIMEOUT_MS);
            nng_ctx_send(m->hs_ctx, m->hs_aio);
        }
        hs_task_free(t);
        return;
    }
    if (!t->chan) {
        hs_failed(m, t->text);
        hs_task_free(t);
        return;
    }
    m->hs_state = HS_IDLE;
    if (t->pipe != m->pipe) {   /* that connection closed meanwhile: start over on the new one */
        hs_task_free(t);
        hs_kick(m);
        return;
    }
    if (m->chan)
        lose_channel(m, NULL);
    m->chan = t->chan;
    t->chan = NULL;
    m->chan_pipe = t->pipe;
    m->last_answer = m->last_heard = now_s(p);
    m->hs_backoff = 0;
    m->last_hs_error[0] = '\0';
    flurm_info("connected to controller %s (member %llu) at %s (uid %u)", m->name, (unsigned long long)m->id,
               m->url, (unsigned)t->peer.uid);
    hs_task_free(t);
    fwd_pump(m);
}

static bool hs_submit(member_t *m, hs_task_t *t)
{
    t->task = (pool_task_t){ .run = hs_run, .done = hs_done };
    t->m = m;
    m->p->tasks++;
    pool_submit(m->p->ctl->workers, &t->task);
    return true;
}

/* Starts a handshake on M's current connection unless one runs, a channel is up, or a failed
 * one waits for its retry. */
static void hs_kick(member_t *m)
{
    peers_t *p = m->p;
    if (p->stopping || m->chan || m->hs_state != HS_IDLE || !m->pipe || now_s(p) < m->hs_retry_at)
        return;
    hs_task_t *t = calloc(1, sizeof *t);
    if (!t)
        return;   /* the tick tries again */
    flurm_buf_init(&t->hello);
    m->hs_state = HS_HELLO;
    hs_submit(m, t);
}

/* The handshake context's exchange completed (loop). */
static void hs_answered(member_t *m)
{
    nng_msg *reply = m->hs_reply;
    m->hs_reply = NULL;
    if (m->hs_state != HS_EXCHANGE || m->p->stopping) {
        nng_msg_free(reply);
        return;
    }
    if (m->hs_result != 0) {
        char text[128];
        snprintf(text, sizeof text, "no answer to HELLO: %s", nng_strerror(m->hs_result));
        hs_failed(m, text);
        return;
    }
    const void *body = nng_msg_body(reply);
    size_t len = nng_msg_len(reply);
    flurm_chan_frame_t type = flurm_chan_frame_type(body, len);
    if (type != FLURM_CHAN_FRAME_WELCOME) {
        char text[256], why[224] = "";
        if (type == FLURM_CHAN_FRAME_REFUSE)
            flurm_chan_refusal(body, len, NULL, why, sizeof why);
        snprintf(text, sizeof text, "%s%s", type == FLURM_CHAN_FRAME_REFUSE ? "refused: " :
                 "answered HELLO with no WELCOME (not a FLURM controller's peer port?)", why);
        nng_msg_free(reply);
        hs_failed(m, text);
        return;
    }
    hs_task_t *t = calloc(1, sizeof *t);
    uint8_t *frame = malloc(len ? len : 1);
    if (!t || !frame) {
        free(t);
        free(frame);
        nng_msg_free(reply);
        hs_failed(m, "out of memory");
        return;
    }
    memcpy(frame, body, len);
    flurm_buf_init(&t->hello);
    t->finish = true;
    t->frame = frame;
    t->len = len;
    t->pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(reply));
    t->hs = m->hs;
    m->hs = NULL;
    nng_msg_free(reply);
    m->hs_state = HS_FINISH;
    hs_submit(m, t);
}

/* Drops M's channel; the requests in flight on it end (cancelled: forwards complete with
 * NULL). WHY (NULL: say nothing) is logged. */
static void lose_channel(member_t *m, const char *why)
{
    if (!m->chan)
        return;
    flurm_chan_free(m->chan);
    m->chan = NULL;
    m->chan_pipe = 0;
    if (why)
        flurm_info("connection to controller %s (member %llu) lost: %s", m->name, (unsigned long long)m->id, why);
    for (size_t i = 0; i < RAFT_CTXS; i++)
        if (m->raft[i].busy)
            nng_aio_cancel(m->raft[i].aio);
    for (size_t i = 0; i < FWD_CTXS; i++)
        if (m->fwdc[i].busy)
            nng_aio_cancel(m->fwdc[i].aio);
}

/* ------------------------------------------------------------------ dialer: answers (loop) */

/* Opens the answer REPLY to one of our requests into PLAIN. false if there is none to act on:
 * a REFUSE (the channel is dropped when the member lost our session) or a frame that does not
 * open under the channel. */
static bool open_answer(member_t *m, nng_msg *reply, flurm_buf_t *plain)
{
    peers_t *p = m->p;
    const void *body = nng_msg_body(reply);
    size_t len = nng_msg_len(reply);
    uint32_t pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(reply));
    flurm_chan_frame_t type = flurm_chan_frame_type(body, len);
    if (type == FLURM_CHAN_FRAME_REFUSE) {
        flurm_chan_refuse_code_t code = 0;
        char text[256];
        flurm_chan_refusal(body, len, &code, text, sizeof text);
        if (code == FLURM_CHAN_REFUSE_UNAUTHENTICATED) {
            if (m->chan && pipe == m->chan_pipe) {
                lose_channel(m, "it lost our session; authenticating again");
                hs_kick(m);
            }
        } else {
            note(p, m, LR_REFUSED, "refused a request: %s", text);
        }
        return false;
    }
    const char *why = NULL;
    if (!m->chan || pipe != m->chan_pipe) {
        return false;   /* an answer on a connection that is gone */
    }
    if (flurm_chan_open(m->chan, body, len, plain, &why) != FLURM_OK) {
        note(p, m, LR_BAD_REPLY, "an answer that does not open under our channel (%s)", why ? why : "not DATA");
        return false;
    }
    m->last_answer = m->last_heard = now_s(p);
    return true;
}

static bool addressed_right(peers_t *p, member_t *m, uint64_t from, uint64_t to);

/* A Raft message that came back as the answer to one of ours (see park()). */
static void receive_answer(peers_t *p, member_t *m, const flurm_buf_t *plain)
{
    flurm_raft_wire_msg_t *w = NULL;
    int rc = flurm_raft_peer_decode(plain->data, plain->size, p->cluster, &w);
    if (rc != FLURM_OK || w->kind != FLURM_RAFT_WIRE_RAFT)
        note(p, m, LR_BAD_REPLY, "an answer to a Raft message that is no Raft message (%s)",
             rc != FLURM_OK ? flurm_strerror(rc) : "another kind");
    else if (addressed_right(p, m, w->msg.from, w->msg.to)) {
        m->received++;
        commit_receive(p->ctl, &w->msg);
    }
    flurm_raft_wire_msg_free(w);
}

static void req_done(rctx_t *c)
{
    member_t *m = c->m;
    peers_t *p = m->p;
    nng_msg *reply = c->reply;
    c->reply = NULL;
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    bool opened = c->result == 0 && open_answer(m, reply, &plain);
    if (c->result == NNG_ETIMEDOUT && !c->is_fwd && m->chan && now_s(p) - m->last_answer > DEAD_S) {
        note(p, m, LR_NOT_ANSWERING, "nothing answered for %.0f s: reconnecting", DEAD_S);
        nng_pipe pipe = NNG_PIPE_INITIALIZER;
        pipe.id = m->chan_pipe;
        lose_channel(m, NULL);
        nng_pipe_close(pipe);   /* nng redials */
    }
    if (reply)
        nng_msg_free(reply);
    c->busy = false;
    if (!c->is_fwd) {
        c->next_free = m->raft_free;
        m->raft_free = c;
        if (opened && plain.size)
            receive_answer(p, m, &plain);
        flurm_buf_release(&plain);
        return;
    }
    fwd_t *f = c->fwd;
    c->fwd = NULL;
    c->next_free = m->fwd_free;
    m->fwd_free = c;
    if (!f) {   /* abandoned (peers_forward_abandon): its outcome was told already */
        flurm_buf_release(&plain);
        if (!p->stopping)
            fwd_pump(m);
        return;
    }
    flurm_raft_wire_msg_t *w = NULL;
    if (opened) {
        int rc = flurm_raft_peer_decode(plain.data, plain.size, p->cluster, &w);
        if (rc != FLURM_OK || w->kind != FLURM_RAFT_WIRE_FORWARD_REPLY ||
            w->forward_reply.request_id != f->request_id || w->forward_reply.from != m->id ||
            w->forward_reply.to != p->self_id) {
            note(p, m, LR_BAD_REPLY, "an answer to a forward that is no ForwardReply for it (%s)",
                 rc != FLURM_OK ? flurm_strerror(rc) : "another request or member");
            flurm_raft_wire_msg_free(w);
            w = NULL;
        }
    } else if (c->result == NNG_ETIMEDOUT) {
        note(p, m, LR_FWD_TIMEOUT, "a forwarded request not answered within %d ms", PEERS_FORWARD_TIMEOUT_MS);
    }
    flurm_buf_release(&plain);
    if (w)
        fwd_complete(p, f, w->forward_reply.len ? w->forward_reply.reply : "", w->forward_reply.len, true);
    else
        fwd_complete(p, f, NULL, 0, c->sent);
    flurm_raft_wire_msg_free(w);
    if (!p->stopping)
        fwd_pump(m);
}

/* ------------------------------------------------------------------ listener: nng side */

static void lctx_cb(void *arg)
{
    lctx_t *c = arg;
    peers_t *p = c->p;
    int rv = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(c->aio));
            nng_aio_set_msg(c->aio, NULL);
        }
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return;
    if (rv != 0) {
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    c->msg = nng_aio_get_msg(c->aio);
    c->pipe = nng_msg_get_pipe(c->msg);
    c->w = NULL;
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    c->opened = chansrv_open(p->chan, c->pipe, nng_msg_body(c->msg), nng_msg_len(c->msg), &plain, &c->peer);
    if (c->opened) {
        c->rc = flurm_raft_peer_decode(plain.data, plain.size, p->cluster, &c->w);
        nng_msg_free(c->msg);
        c->msg = NULL;
    }
    flurm_buf_release(&plain);
    post(p, &c->ev);
}

/* ------------------------------------------------------------------ listener: answers (loop) */

static void lrelease(lctx_t *c)
{
    flurm_raft_wire_msg_free(c->w);
    c->w = NULL;
    if (c->msg) {
        nng_msg_free(c->msg);
        c->msg = NULL;
    }
}

static void ldrop(lctx_t *c)
{
    lrelease(c);
    nng_ctx_recv(c->ctx, c->aio);
}

static void lsend_frame(lctx_t *c, const flurm_buf_t *frame)
{
    lrelease(c);
    chansrv_reply(c->ctx, c->aio, &c->sending, frame);
}

static void lsend_frame_cb(void *token, const flurm_buf_t *frame)
{
    lsend_frame(token, frame);
}

/* Seals PLAIN for C's connection and answers it; false: its session is gone, C receives again
 * with nothing answered. */
static bool lreply(lctx_t *c, const void *plain, size_t len)
{
    static const uint8_t none[1];
    flurm_buf_t sealed;
    flurm_buf_init(&sealed);
    bool ok = chansrv_seal(c->p->chan, c->pipe, len ? plain : none, len, &sealed) == FLURM_OK;
    if (ok)
        lsend_frame(c, &sealed);
    else
        ldrop(c);
    flurm_buf_release(&sealed);
    return ok;
}

static void lrefuse(lctx_t *c, const char *text)
{
    flurm_buf_t out;
    flurm_buf_init(&out);
    if (flurm_chan_refuse(FLURM_CHAN_REFUSE_MALFORMED, text, &out) == FLURM_OK)
        lsend_frame(c, &out);
    else
        ldrop(c);
    flurm_buf_release(&out);
}

/* ------------------------------------------------------------------ parked Raft requests
 *
 * A member's Raft request is not answered at once: it waits, up to PARK_S, for the next Raft
 * message to that member, which travels back as its answer. An Append and its reply are then
 * one request and its answer, not two requests each answered empty: half the messages, seals
 * and thread hand-offs. What finds nothing parked goes as a request of its own. */

static void park(member_t *m, lctx_t *c)
{
    c->parked = true;
    c->parked_at = now_s(m->p);
    c->park_next = NULL;
    if (m->park_tail)
        m->park_tail->park_next = c;
    else
        m->park_head = c;
    m->park_tail = c;
}

static lctx_t *unpark(member_t *m)
{
    lctx_t *c = m->park_head;
    if (c) {
        m->park_head = c->park_next;
        if (!m->park_head)
            m->park_tail = NULL;
        c->park_next = NULL;
        c->parked = false;
    }
    return c;
}

/* Answers M's oldest parked request with PLAIN (an encoded PeerMessage). false: nothing parked
 * on a connection that still has its session (such requests are dropped unanswered). */
static bool answer_parked(member_t *m, const flurm_buf_t *plain)
{
    lctx_t *c;
    while ((c = unpark(m)))
        if (lreply(c, plain->data, plain->size))
            return true;
    return false;
}

/* Answers empty what was parked PARK_S ago or earlier. */
static void release_parked(member_t *m)
{
    double now = now_s(m->p);
    while (m->park_head && now - m->park_head->parked_at >= PARK_S)
        lreply(unpark(m), NULL, 0);
}

/* C's message did not open on the nng thread: the channel's slow path (handshakes, refusals,
 * drops) on the loop. true if it opened after all (a session installed meanwhile). */
static bool lrecv_on_loop(peers_t *p, lctx_t *c)
{
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    chansrv_verdict_t v = chansrv_recv(p->chan, c->pipe, nng_msg_body(c->msg), nng_msg_len(c->msg), c, &plain,
                                       &c->peer);
    if (v != CHANSRV_DATA) {
        if (v == CHANSRV_REPLY)
            lsend_frame(c, &plain);
        else if (v == CHANSRV_DROP)
            ldrop(c);
        else
            lrelease(c);   /* PENDING: the handshake answers through this context later */
        flurm_buf_release(&plain);
        return false;
    }
    c->rc = flurm_raft_peer_decode(plain.data, plain.size, p->cluster, &c->w);
    flurm_buf_release(&plain);
    nng_msg_free(c->msg);
    c->msg = NULL;
    return true;
}

/* FROM and TO of a received message must be the channel's member and us. */
static bool addressed_right(peers_t *p, member_t *m, uint64_t from, uint64_t to)
{
    if (from == m->id && to == p->self_id)
        return true;
    note(p, m, LR_MISADDRESSED,
         "a message from member %llu to member %llu on its channel (this is member %llu): are the "
         "SlurmctldHost lines in the same order in every slurm.conf?",
         (unsigned long long)from, (unsigned long long)to, (unsigned long long)p->self_id);
    return false;
}

static void lhandle(peers_t *p, lctx_t *c)
{
    ctl_t *ctl = p->ctl;
    if (!c->opened && !lrecv_on_loop(p, c))
        return;
    member_t *m = member_by_id(p, c->peer.id);
    if (!m || m->self) {   /* the policy admits other members only */
        ldrop(c);
        return;
    }
    if (c->rc != FLURM_OK) {
        reason_t r = c->rc == FLURM_EPERM ? LR_OTHER_CLUSTER : c->rc == FLURM_EPROTO ? LR_VERSION : LR_UNDECODABLE;
        const char *text = r == LR_OTHER_CLUSTER ? "a message of another cluster (ClusterName differs)"
                           : r == LR_VERSION ? "a message of another peer protocol version"
                                             : "a message that is no PeerMessage";
        note(p, m, r, "refused %s", text);
        lrefuse(c, text);
        return;
    }
    flurm_raft_wire_msg_t *w = c->w;
    switch (w->kind) {
    case FLURM_RAFT_WIRE_RAFT:
        if (!addressed_right(p, m, w->msg.from, w->msg.to)) {
            lrefuse(c, "misaddressed: member ids disagree (SlurmctldHost order)");
            return;
        }
        m->received++;
        m->last_heard = now_s(p);
        c->w = NULL;            /* ours until commit_receive() returns */
        park(m, c);             /* first: what commit_receive() sends to M answers it */
        commit_receive(ctl, &w->msg);
        flurm_raft_wire_msg_free(w);
        return;
    case FLURM_RAFT_WIRE_FORWARD:
        if (!addressed_right(p, m, w->forward.from, w->forward.to)) {
            lrefuse(c, "misaddressed: member ids disagree (SlurmctldHost order)");
            return;
        }
        m->received++;
        m->last_heard = now_s(p);
        c->held = true;         /* W stays with C until the reply */
        c->fwd_from = m->id;
        c->fwd_request_id = w->forward.request_id;
        p->held++;
        rpc_forwarded(ctl, c, m->id, (uid_t)w->forward.uid, (gid_t)w->forward.gid, w->forward.client_addr,
                      w->forward.request, w->forward.len);
        return;                 /* C may be answered already */
    default:
        note(p, m, LR_UNEXPECTED, "refused a ForwardReply sent as a request");
        lrefuse(c, "a ForwardReply is no request");
        return;
    }
}

/* Who may hold a peer channel for NAME: another SlurmctldHost, as root or SlurmUser, from its
 * address. */
static int peer_policy(ctl_t *ctl, const char *name, chansrv_policy_t *pol, const char **why)
{
    peers_t *p = ctl->peers;
    if (!p) {
        *why = "shutting down";
        return FLURM_EAGAIN;
    }
    member_t *m = member_by_name(p, name);
    if (!m) {
        *why = "not a SlurmctldHost of this cluster";
        return FLURM_ENOENT;
    }
    if (m->self) {
        *why = "that is this controller's own name";
        return FLURM_EPERM;
    }
    memset(pol, 0, sizeof *pol);
    pol->id = (uint32_t)m->id;
    pol->uids[0] = 0;
    pol->uids[1] = p->slurm_user;
    snprintf(pol->hosts[0], sizeof pol->hosts[0], "%s", m->addr);
    pol->check_addr = true;
    return FLURM_OK;
}

/* ------------------------------------------------------------------ the loop's inbox and tick */

static void pipe_added(member_t *m, uint32_t pipe)
{
    m->pipe = pipe;
    m->hs_retry_at = 0;   /* a new connection: no backoff */
    hs_kick(m);
}

static void pipe_removed(member_t *m, uint32_t pipe)
{
    if (pipe == m->pipe)
        m->pipe = 0;
    if (m->chan && pipe == m->chan_pipe)
        lose_channel(m, "connection closed");
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    peers_t *p = w->data;
    pthread_mutex_lock(&p->lock);
    event_t *e = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (e) {
        event_t *next = e->next;
        switch (e->kind) {
        case EV_PIPE_ADD: pipe_added(e->m, e->pipe); free(e); break;
        case EV_PIPE_REM: pipe_removed(e->m, e->pipe); free(e); break;
        case EV_REQ: req_done(e->obj); break;
        case EV_HS: hs_answered(e->m); break;
        case EV_LISTEN: lhandle(p, e->obj); break;
        }
        e = next;
    }
    while (p->failed_head) {
        fwd_t *f = p->failed_head;
        p->failed_head = f->next;
        if (!p->failed_head)
            p->failed_tail = NULL;
        fwd_complete(p, f, NULL, 0, f->left);
    }
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    peers_t *p = w->data;
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        if (m->self)
            continue;
        release_parked(m);
        fwd_expire(m);
        hs_kick(m);
    }
}

/* ------------------------------------------------------------------ the interface */

void peers_send(ctl_t *ctl, const flurm_raft_msg_t *msg)
{
    peers_t *p = ctl->peers;
    if (!p || !msg)
        return;
    member_t *m = member_by_id(p, msg->to);
    if (!m || m->self) {
        note(p, NULL, LR_ENCODE, "a Raft message to member %llu, which is no other SlurmctldHost",
             (unsigned long long)msg->to);
        return;
    }
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    int rc = flurm_raft_msg_encode(msg, p->cluster, &plain);
    if (rc == FLURM_OK && msg->type != FLURM_RAFT_MSG_SNAPSHOT && plain.size <= ANSWER_MAX &&
        answer_parked(m, &plain)) {
        flurm_buf_release(&plain);
        m->sent++;
        m->as_answer++;
        return;
    }
    rctx_t *c = m->raft_free;
    if (rc == FLURM_OK && (!m->chan || !c)) {
        flurm_buf_release(&plain);
        m->dropped++;
        if (!m->chan)
            note(p, m, LR_NO_CHANNEL, "Raft messages dropped while there is no channel");
        else
            note(p, m, LR_BUSY, "Raft messages dropped: %d in flight already", RAFT_CTXS);
        return;
    }
    nng_msg *nm = NULL;
    if (rc == FLURM_OK)
        rc = seal_msg(m, &plain, &nm);
    size_t len = plain.size;
    flurm_buf_release(&plain);
    if (rc != FLURM_OK) {
        m->dropped++;
        note(p, m, LR_ENCODE, "a Raft message of type %u that cannot go out: %s", msg->type, flurm_strerror(rc));
        return;
    }
    m->raft_free = c->next_free;
    c->busy = true;
    c->sending = true;
    c->recv_timeout = (nng_duration)(RAFT_TIMEOUT_MS + len / RAFT_BYTES_PER_MS);
    nng_aio_set_msg(c->aio, nm);
    nng_aio_set_timeout(c->aio, c->recv_timeout);
    nng_ctx_send(c->ctx, c->aio);
    m->sent++;
}

void peers_forward(ctl_t *ctl, uint64_t to, uint64_t request_id, uid_t uid, gid_t gid, const char *addr,
                   const void *frame, size_t len, peers_forward_done_fn done, void *arg)
{
    peers_t *p = ctl->peers;
    fwd_t *f = p ? calloc(1, sizeof *f) : NULL;
    if (!f) {   /* a single controller, or out of memory */
        if (done)
            done(ctl, arg, PEERS_FWD_NOT_SENT, NULL, 0);
        return;
    }
    flurm_buf_init(&f->plain);
    f->request_id = request_id;
    f->deadline = nng_clock() + PEERS_FORWARD_TIMEOUT_MS;
    f->done = done;
    f->arg = arg;
    member_t *m = member_by_id(p, to);
    if (!m || m->self) {
        note(p, NULL, LR_ENCODE, "a forward to member %llu, which is no other SlurmctldHost",
             (unsigned long long)to);
        fail_later(p, f);
        return;
    }
    f->m = m;
    flurm_raft_forward_t fw = { .from = p->self_id, .to = m->id, .request_id = request_id, .uid = (uint32_t)uid,
                                .gid = (uint32_t)gid, .client_addr = addr, .request = frame, .len = len };
    int rc = flurm_raft_forward_encode(&fw, p->cluster, &f->plain);
    if (rc != FLURM_OK) {
        m->dropped++;
        note(p, m, LR_ENCODE, "a forward that cannot be encoded: %s", flurm_strerror(rc));
        fail_later(p, f);
    } else if (m->chan && m->fwd_free && !m->q_head) {
        fwd_start(m, f);
    } else if (!m->chan && !m->pipe) {
        m->dropped++;
        note(p, m, LR_NO_CHANNEL, "forwards fail while it is not connected");
        fail_later(p, f);
    } else if (m->q_len >= FWD_QUEUE_MAX) {
        m->dropped++;
        note(p, m, LR_FWD_FULL, "forwards fail: %d in flight and %d waiting", FWD_CTXS, FWD_QUEUE_MAX);
        fail_later(p, f);
    } else {
        if (m->q_tail)
            m->q_tail->next = f;
        else
            m->q_head = f;
        m->q_tail = f;
        m->q_len++;
    }
}

void peers_forward_abandon(ctl_t *ctl, uint64_t to)
{
    peers_t *p = ctl->peers;
    member_t *m = p ? member_by_id(p, to) : NULL;
    if (!m || m->self)
        return;
    size_t n = 0;
    for (size_t k = 0; k < FWD_CTXS; k++) {
        rctx_t *c = &m->fwdc[k];
        if (c->fwd) {   /* the context stays busy until nng is done with it */
            c->fwd->left = true;
            fail_later(p, c->fwd);
            c->fwd = NULL;
            n++;
        }
    }
    while (m->q_head) {
        fwd_t *f = m->q_head;
        m->q_head = f->next;
        fail_later(p, f);
        n++;
    }
    m->q_tail = NULL;
    m->q_len = 0;
    if (n)
        flurm_info("controller %s no longer leads: %zu forwarded request(s) routed again", m->name, n);
}

void peers_forward_reply(ctl_t *ctl, void *token, const void *reply, size_t len)
{
    peers_t *p = ctl->peers;
    lctx_t *c = token;
    if (!p || !c)
        return;   /* stopped: the follower's exchange ended with our socket */
    if (c < p->lctxs || c >= p->lctxs + p->nlctx || !c->held) {
        flurm_error("peers_forward_reply: token %p is no forward waiting for its reply", token);
        return;
    }
    c->held = false;
    p->held--;
    if (!reply) {
        ldrop(c);   /* no answer: the follower times out (the outcome is unknown to it) */
        return;
    }
    flurm_raft_forward_reply_t r = { .from = p->self_id, .to = c->fwd_from, .request_id = c->fwd_request_id,
                                     .reply = reply, .len = len };
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    if (flurm_raft_forward_reply_encode(&r, p->cluster, &plain) == FLURM_OK)
        lreply(c, plain.data, plain.size);
    else
        ldrop(c);   /* out of memory: the follower times out */
    flurm_buf_release(&plain);
}

void peers_status(const ctl_t *ctl, uint64_t id, peers_member_status_t *out)
{
    memset(out, 0, sizeof *out);
    peers_t *p = ctl->peers;
    if (!p)
        return;
    member_t *m = member_by_id(p, id);
    if (!m || m->self)
        return;
    out->connected = m->chan != NULL;
    out->last_heard = m->last_heard;
    out->sent = m->sent;
    out->as_answer = m->as_answer;
    out->dropped = m->dropped;
    out->received = m->received;
}

/* ------------------------------------------------------------------ start / stop */

static int open_rctx(member_t *m, rctx_t *c, bool is_fwd)
{
    c->m = m;
    c->is_fwd = is_fwd;
    c->ev = (event_t){ .kind = EV_REQ, .m = m, .obj = c };
    int rv = nng_ctx_open(&c->ctx, m->sock);
    if (rv == 0)
        rv = nng_aio_alloc(&c->aio, req_cb, c);
    return rv;
}

static int dial(peers_t *p, member_t *m)
{
    int rv = nng_req0_open(&m->sock);
    if (rv != 0)
        return rv;
    m->open = true;
    /* Never resend: a request is bound to its connection's channel, and a forward runs once. */
    if ((rv = nng_socket_set_ms(m->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_socket_set_size(m->sock, NNG_OPT_RECVMAXSZ, MAX_MSG_BYTES)) != 0 ||
        (rv = nng_pipe_notify(m->sock, NNG_PIPE_EV_ADD_POST, on_dial_pipe, m)) != 0 ||
        (rv = nng_pipe_notify(m->sock, NNG_PIPE_EV_REM_POST, on_dial_pipe, m)) != 0)
        return rv;
    for (size_t i = 0; i < RAFT_CTXS; i++) {
        if ((rv = open_rctx(m, &m->raft[i], false)) != 0)
            return rv;
        m->raft[i].next_free = m->raft_free;
        m->raft_free = &m->raft[i];
    }
    for (size_t i = 0; i < FWD_CTXS; i++) {
        if ((rv = open_rctx(m, &m->fwdc[i], true)) != 0)
            return rv;
        m->fwdc[i].next_free = m->fwd_free;
        m->fwd_free = &m->fwdc[i];
    }
    m->hs_ev = (event_t){ .kind = EV_HS, .m = m };
    if ((rv = nng_ctx_open(&m->hs_ctx, m->sock)) != 0 || (rv = nng_aio_alloc(&m->hs_aio, hs_cb, m)) != 0)
        return rv;
    if ((rv = nng_dialer_create(&m->dialer, m->sock, m->url)) != 0)
        return rv;
    nng_dialer_set_ms(m->dialer, NNG_OPT_RECONNMINT, RECONN_MIN_MS);
    nng_dialer_set_ms(m->dialer, NNG_OPT_RECONNMAXT, RECONN_MAX_MS);
    (void)p;
    return nng_dialer_start(m->dialer, NNG_FLAG_NONBLOCK);
}

static int listen_peers(peers_t *p, const member_t *self, unsigned port)
{
    ctl_t *ctl = p->ctl;
    char url[300];
    snprintf(url, sizeof url, strchr(self->addr, ':') ? "tcp://[%s]:%u" : "tcp://%s:%u", self->addr, port);
    int rv = nng_rep0_open(&p->lsock);
    if (rv != 0)
        goto fail;
    p->listening = true;
    if ((rv = nng_socket_set_size(p->lsock, NNG_OPT_RECVMAXSZ, MAX_MSG_BYTES)) != 0)
        goto fail;
    p->chan = chansrv_new(ctl, p->lsock, FLURM_CHAN_PEER, "controller peer", peer_policy, lsend_frame_cb);
    /* Room for all the other members can have in flight: their Raft and forward contexts and a
     * handshake each. */
    p->nlctx = LISTEN_SPARE + (p->nmembers - 1) * (RAFT_CTXS + FWD_CTXS + 1);
    p->lctxs = calloc(p->nlctx, sizeof *p->lctxs);
    if (!p->chan || !p->lctxs) {
        rv = NNG_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < p->nlctx; i++) {
        lctx_t *c = &p->lctxs[i];
        c->p = p;
        c->ev = (event_t){ .kind = EV_LISTEN, .obj = c };
        if ((rv = nng_ctx_open(&c->ctx, p->lsock)) != 0 || (rv = nng_aio_alloc(&c->aio, lctx_cb, c)) != 0)
            goto fail;
    }
    if ((rv = nng_listen(p->lsock, url, NULL, 0)) != 0)
        goto fail;
    for (size_t i = 0; i < p->nlctx; i++)
        nng_ctx_recv(p->lctxs[i].ctx, p->lctxs[i].aio);
    flurm_info("listening for controller peers at %s", url);
    return 0;
fail:
    flurm_error("cannot listen for controller peers at %s: %s", url, nng_strerror(rv));
    return -1;
}

int peers_start(ctl_t *ctl)
{
    const flurm_conf_t *conf = ctl->conf;
    if (conf->controller_count < 2)
        return 0;
    if (!ctl->self || ctl->self_id < 1 || ctl->self_id > conf->controller_count) {
        flurm_error("controller peers: this controller is no SlurmctldHost");
        return -1;
    }
    char v[16];
    unsigned long port = PEERS_DEFAULT_PORT;
    if (flurm_conf_ctld_param(conf, "flurm_peer_port", v, sizeof v) == FLURM_OK) {
        char *end;
        port = strtoul(v, &end, 10);
        if (*end || port == 0 || port > 65535) {
            flurm_error("SlurmctldParameters flurm_peer_port=%s is no port", v);
            return -1;
        }
    }
    peers_t *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->ctl = ctl;
    p->self_id = ctl->self_id;
    p->slurm_user = conf->slurm_user_id;
    p->nmembers = conf->controller_count;
    p->members = calloc(p->nmembers, sizeof *p->members);
    p->cluster = strdup(conf->cluster_name ? conf->cluster_name : "");
    atomic_init(&p->local_origin, 0);
    pthread_mutex_init(&p->lock, NULL);
    if (!p->members || !p->cluster) {
        free_peers(p);
        return -1;
    }
    for (size_t i = 0; i < p->nmembers; i++) {
        const flurm_conf_controller_t *h = &conf->controllers[i];
        member_t *m = &p->members[i];
        const char *name = h->name ? h->name : "";
        const char *addr = h->addr ? h->addr : name;
        m->p = p;
        m->id = i + 1;
        m->self = m->id == p->self_id;
        if (!*name || strlen(name) > FLURM_CHAN_NAME_MAX || !*addr || strlen(addr) >= sizeof m->addr) {
            flurm_error("SlurmctldHost '%s': no name, or a name longer than %d or an address longer than %zu bytes",
                        name, FLURM_CHAN_NAME_MAX, sizeof m->addr - 1);
            free_peers(p);
            return -1;
        }
        snprintf(m->name, sizeof m->name, "%s", name);
        snprintf(m->addr, sizeof m->addr, "%s", addr);
        snprintf(m->url, sizeof m->url, strchr(addr, ':') ? "tcp://[%s]:%lu" : "tcp://%s:%lu", addr, port);
    }
    ev_async_init(&p->wake, on_wake);
    p->wake.data = p;
    ev_async_start(ctl->loop, &p->wake);
    ev_timer_init(&p->tick, on_tick, TICK_S, TICK_S);
    p->tick.data = p;
    ev_timer_start(ctl->loop, &p->tick);
    ctl->peers = p;

    if (listen_peers(p, &p->members[p->self_id - 1], (unsigned)port) != 0) {
        peers_stop(ctl);
        return -1;
    }
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        if (m->self)
            continue;
        int rv = dial(p, m);
        if (rv != 0) {
            flurm_error("cannot dial controller %s at %s: %s", m->name, m->url, nng_strerror(rv));
            peers_stop(ctl);
            return -1;
        }
        flurm_verbose("dialing controller %s (member %llu) at %s", m->name, (unsigned long long)m->id, m->url);
    }
    return 0;
}

static void log_stats(peers_t *p)
{
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        if (m->self)
            continue;
        char text[768] = "";
        size_t n = 0;
        for (int r = 0; r < LR_MAX_; r++)
            if (m->counts[r] && n < sizeof text)
                n += (size_t)snprintf(text + n, sizeof text - n, ", %llu %s", (unsigned long long)m->counts[r],
                                      reason_name[r]);
        flurm_info("controller %s (member %llu): %llu sent (%llu as answers), %llu dropped, %llu received%s",
                   m->name, (unsigned long long)m->id, (unsigned long long)m->sent,
                   (unsigned long long)m->as_answer, (unsigned long long)m->dropped,
                   (unsigned long long)m->received, text);
    }
    if (p->chan) {
        const chansrv_stats_t *st = chansrv_stats(p->chan);
        flurm_info("controller peer channel: %llu handshake(s), %llu session(s); dropped: %llu unauthenticated, "
                   "%llu malformed, %llu bad credential, %llu unauthorized, %llu tampered, %llu replayed",
                   (unsigned long long)st->handshakes, (unsigned long long)st->sessions,
                   (unsigned long long)st->unauthenticated, (unsigned long long)st->malformed,
                   (unsigned long long)st->bad_credential, (unsigned long long)st->unauthorized,
                   (unsigned long long)st->bad_tag, (unsigned long long)st->replayed);
    }
}

/* The worker pool should be drained before this (as chansrv requires for its handshakes); a
 * dialer handshake still on a worker keeps the peers_t alive until its completion. */
void peers_stop(ctl_t *ctl)
{
    peers_t *p = ctl->peers;
    if (!p)
        return;
    p->stopping = true;
    ctl->peers = NULL;   /* completions below may call peers_forward(): they fail at once */
    ev_timer_stop(ctl->loop, &p->tick);
    log_stats(p);

    /* No nng callback after this. */
    for (size_t i = 0; i < p->nlctx; i++)
        if (p->lctxs[i].aio)
            nng_aio_stop(p->lctxs[i].aio);
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        for (size_t k = 0; k < RAFT_CTXS; k++)
            if (m->raft[k].aio)
                nng_aio_stop(m->raft[k].aio);
        for (size_t k = 0; k < FWD_CTXS; k++)
            if (m->fwdc[k].aio)
                nng_aio_stop(m->fwdc[k].aio);
        if (m->hs_aio)
            nng_aio_stop(m->hs_aio);
    }
    if (p->listening)
        nng_close(p->lsock);
    for (size_t i = 0; i < p->nmembers; i++)
        if (p->members[i].open)
            nng_close(p->members[i].sock);

    /* What nng handed over and the loop did not see. */
    pthread_mutex_lock(&p->lock);
    event_t *e = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (e) {
        event_t *next = e->next;
        if (e->kind == EV_PIPE_ADD || e->kind == EV_PIPE_REM)
            free(e);
        e = next;
    }

    /* Forwards: in flight, queued, failed: all complete with NULL. */
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        for (size_t k = 0; k < FWD_CTXS; k++) {
            rctx_t *c = &m->fwdc[k];
            if (c->fwd) {
                fwd_t *f = c->fwd;
                c->fwd = NULL;
                fwd_complete(p, f, NULL, 0, true);
            }
        }
        while (m->q_head) {
            fwd_t *f = m->q_head;
            m->q_head = f->next;
            fwd_complete(p, f, NULL, 0, false);
        }
        m->q_tail = NULL;
    }
    while (p->failed_head) {
        fwd_t *f = p->failed_head;
        p->failed_head = f->next;
        fwd_complete(p, f, NULL, 0, false);
    }

    for (size_t i = 0; i < p->nlctx; i++) {
        lctx_t *c = &p->lctxs[i];
        if (c->aio)
            nng_aio_free(c->aio);
        c->aio = NULL;
        lrelease(c);   /* a held forward's too: its late peers_forward_reply() finds no peers */
    }
    chansrv_free(p->chan);
    p->chan = NULL;
    for (size_t i = 0; i < p->nmembers; i++) {
        member_t *m = &p->members[i];
        for (size_t k = 0; k < RAFT_CTXS; k++) {
            if (m->raft[k].reply)
                nng_msg_free(m->raft[k].reply);
            if (m->raft[k].aio)
                nng_aio_free(m->raft[k].aio);
        }
        for (size_t k = 0; k < FWD_CTXS; k++) {
            if (m->fwdc[k].reply)
                nng_msg_free(m->fwdc[k].reply);
            if (m->fwdc[k].aio)
                nng_aio_free(m->fwdc[k].aio);
        }
        if (m->hs_reply)
            nng_msg_free(m->hs_reply);
        if (m->hs_aio)
            nng_aio_free(m->hs_aio);
        flurm_chan_hs_free(m->hs);
        flurm_chan_free(m->chan);
        m->chan = NULL;
    }
    ev_async_stop(ctl->loop, &p->wake);
    if (p->tasks)
        flurm_verbose("controller peers: %u handshake step(s) still on a worker", p->tasks);
    else
        free_peers(p);
}
