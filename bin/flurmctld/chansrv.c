/* bin/flurmctld/chansrv.c — see chansrv.h.
 *
 * Sessions live in a hash by nng pipe id under SESS_LOCK (read: nng threads opening DATA frames
 * in chansrv_open, the loop sealing; write: the loop installing and dropping), each channel
 * under its session's own lock. nng tells us (on its own thread)
 * when a pipe goes away; the id is queued and its session dropped on the loop. A handshake
 * finishing after its pipe closed finds the pipe gone (nng_pipe_get_addr fails) and installs
 * nothing; one finishing just before is dropped when the close is processed. */
#include "chansrv.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flurm/log.h>

#include "ctl.h"

#define LOGGED_MAX 4096        /* (address, reason) pairs remembered for log-once */

typedef struct session {
    uint32_t pipe;
    pthread_mutex_t lock;          /* CHAN (its counters and replay window) */
    flurm_chan_t *chan;
    uint32_t id;
    uid_t uid;
    char name[FLURM_CHAN_NAME_MAX + 1];
    char addr[64];
    struct session *next;
} session_t;

typedef struct closed_pipe {
    uint32_t pipe;
    struct closed_pipe *next;
} closed_pipe_t;

typedef enum drop_reason {
    DR_UNAUTHENTICATED, DR_MALFORMED, DR_CREDENTIAL, DR_UNAUTHORIZED, DR_BAD_TAG, DR_REPLAYED, DR_MAX_
} drop_reason_t;

struct chansrv {
    ctl_t *ctl;
    nng_socket sock;
    flurm_chan_purpose_t purpose;
    const char *what;
    char my_name[FLURM_CHAN_NAME_MAX + 1];
    chansrv_policy_fn policy;
    chansrv_send_fn send;
    _Atomic uint32_t local_origin;   /* this host's munged origin; 0 until learned (workers) */

    pthread_rwlock_t sess_lock;      /* buckets and nsessions: written on the loop only */
    session_t **buckets;
    size_t nbuckets, nsessions;

    pthread_mutex_t lock;            /* closed and the async below */
    closed_pipe_t *closed;
    ev_async wake;

    struct { uint32_t addr; uint8_t reason; } *logged;
    size_t nlogged;
    bool logged_full;
    chansrv_stats_t stats;
};

/* A handshake on its way through a worker. */
typedef struct hs_task {
    pool_task_t task;              /* first member */
    chansrv_t *cs;
    void *token;
    uint32_t pipe;
    uint8_t *frame;
    size_t len;
    bool have_policy;
    chansrv_policy_t policy;
    /* results (worker) */
    int rc;
    drop_reason_t reason;
    const char *why;
    char why_buf[384];
    flurm_chan_peer_t peer;
    flurm_chan_t *chan;
    flurm_buf_t out;               /* WELCOME or REFUSE */
} hs_task_t;

/* ------------------------------------------------------------------ sessions */

static size_t bucket_of(const chansrv_t *cs, uint32_t pipe)
{
    return (size_t)((pipe * 2654435761u) % cs->nbuckets);
}

static session_t *find(const chansrv_t *cs, uint32_t pipe)
{
    for (session_t *s = cs->buckets[bucket_of(cs, pipe)]; s; s = s->next)
        if (s->pipe == pipe)
            return s;
    return NULL;
}

static void drop_session(chansrv_t *cs, uint32_t pipe)
{
    for (session_t **pp = &cs->buckets[bucket_of(cs, pipe)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->pipe == pipe) {
            session_t *s = *pp;
            *pp = s->next;
            pthread_mutex_destroy(&s->lock);
            flurm_chan_free(s->chan);
            free(s);
            cs->nsessions--;
            return;
        }
    }
}

static void grow(chansrv_t *cs)
{
    size_t nb = cs->nbuckets * 2;
    session_t **b = calloc(nb, sizeof *b);
    if (!b)
        return;   /* longer chains, still correct */
    session_t **old = cs->buckets;
    size_t onb = cs->nbuckets;
    cs->buckets = b;
    cs->nbuckets = nb;
    for (size_t i = 0; i < onb; i++) {
        for (session_t *s = old[i], *next; s; s = next) {
            next = s->next;
            size_t k = bucket_of(cs, s->pipe);
            s->next = b[k];
            b[k] = s;
        }
    }
    free(old);
}

/* ------------------------------------------------------------------ logging and counting */

static void pipe_addr(nng_pipe p, char *buf, size_t size, uint32_t *ip)
{
    nng_sockaddr sa;
    *ip = 0;
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0) {
        snprintf(buf, size, "pipe %u", nng_pipe_id(p));
        return;
    }
    if (sa.s_family == NNG_AF_INET) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sa.s_in.sa_addr, a, sizeof a);
        snprintf(buf, size, "%s:%u", a, ntohs(sa.s_in.sa_port));
        *ip = sa.s_in.sa_addr;
    } else if (sa.s_family == NNG_AF_INET6) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, a, sizeof a);
        snprintf(buf, size, "[%s]:%u", a, ntohs(sa.s_in6.sa_port));
        memcpy(ip, sa.s_in6.sa_addr + 12, sizeof *ip);
    } else {
        snprintf(buf, size, "pipe %u", nng_pipe_id(p));
    }
}

static const char *const reason_text[DR_MAX_] = {
    [DR_UNAUTHENTICATED] = "message before authentication",
    [DR_MALFORMED] = "malformed frame",
    [DR_CREDENTIAL] = "bad credential",
    [DR_UNAUTHORIZED] = "unauthorized",
    [DR_BAD_TAG] = "tampered or forged message",
    [DR_REPLAYED] = "replayed message",
};

/* Counts a refusal or drop from PIPE and logs it the first time its address gives REASON. */
static void refused(chansrv_t *cs, nng_pipe pipe, drop_reason_t reason, const char *detail)
{
    uint64_t *counter[DR_MAX_] = {
        [DR_UNAUTHENTICATED] = &cs->stats.unauthenticated, [DR_MALFORMED] = &cs->stats.malformed,
        [DR_CREDENTIAL] = &cs->stats.bad_credential, [DR_UNAUTHORIZED] = &cs->stats.unauthorized,
        [DR_BAD_TAG] = &cs->stats.bad_tag, [DR_REPLAYED] = &cs->stats.replayed,
    };
    (*counter[reason])++;
    char addr[80];
    uint32_t ip;
    pipe_addr(pipe, addr, sizeof addr, &ip);
    for (size_t i = 0; i < cs->nlogged; i++)
        if (cs->logged[i].addr == ip && cs->logged[i].reason == reason)
            return;
    if (cs->nlogged < LOGGED_MAX) {
        cs->logged[cs->nlogged].addr = ip;
        cs->logged[cs->nlogged].reason = (uint8_t)reason;
        cs->nlogged++;
    } else if (!cs->logged_full) {
        cs->logged_full = true;
        flurm_warn("%s channel: %d peers refused; further refusals are counted, not logged", cs->what,
                   LOGGED_MAX);
        return;
    } else {
        return;
    }
    flurm_warn("%s channel: dropped %s from %s%s%s (further ones from this address counted, not logged)",
               cs->what, reason_text[reason], addr, detail ? ": " : "", detail ? detail : "");
}

/* ------------------------------------------------------------------ pipes closing (nng thread) */

static void on_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    chansrv_t *cs = arg;
    if (ev != NNG_PIPE_EV_REM_POST)
        return;
    closed_pipe_t *c = malloc(sizeof *c);
    if (!c)
        return;   /* the session stays until the next HELLO on a pipe of that id: none comes */
    c->pipe = nng_pipe_id(p);
    pthread_mutex_lock(&cs->lock);
    c->next = cs->closed;
    cs->closed = c;
    pthread_mutex_unlock(&cs->lock);
    ev_async_send(cs->ctl->loop, &cs->wake);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    chansrv_t *cs = w->data;
    pthread_mutex_lock(&cs->lock);
    closed_pipe_t *c = cs->closed;
    cs->closed = NULL;
    pthread_mutex_unlock(&cs->lock);
    pthread_rwlock_wrlock(&cs->sess_lock);
    for (closed_pipe_t *k = c; k; k = k->next)
        drop_session(cs, k->pipe);
    pthread_rwlock_unlock(&cs->sess_lock);
    while (c) {
        closed_pipe_t *next = c->next;
        free(c);
        c = next;
    }
}

/* ------------------------------------------------------------------ handshakes */

static void refuse_into(hs_task_t *t, drop_reason_t reason, flurm_chan_refuse_code_t code, const char *why)
{
    t->rc = FLURM_EAUTH;
    t->reason = reason;
    t->why = why;
    t->out.size = 0;
    flurm_chan_refuse(code, why, &t->out);
}

static bool uid_allowed(const chansrv_policy_t *p, uid_t uid)
{
    return uid == p->uids[0] || uid == p->uids[1];
}

/* Worker thread, inside flurm_chan_accept: the policy the loop copied into the task. */
static const char *authorize(void *arg, const flurm_chan_peer_t *peer)
{
    hs_task_t *t = arg;
    chansrv_t *cs = t->cs;
    const chansrv_policy_t *p = &t->policy;
    if (!uid_allowed(p, peer->uid)) {
        snprintf(t->why_buf, sizeof t->why_buf, "uid %u may not speak for %s %s (root or SlurmUser only)",
                 (unsigned)peer->uid, cs->what, peer->name);
        return t->why_buf;
    }
    if (!p->check_addr)
        return NULL;
    uint32_t local = atomic_load(&cs->local_origin);
    if (!local && flurm_chan_local_origin(cs->ctl->auth, &local, NULL) == FLURM_OK)
        atomic_store(&cs->local_origin, local);
    for (int i = 0; i < 2; i++)
        if (p->hosts[i][0] && flurm_chan_addr_matches(p->hosts[i], peer->addr, local))
            return NULL;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer->addr, a, sizeof a);
    snprintf(t->why_buf, sizeof t->why_buf, "credential from %s, not from %s %s's address %s", a, cs->what,
             peer->name, p->hosts[0]);
    return t->why_buf;
}

/* Worker thread: decode, authorize, answer. */
static void hs_run(pool_task_t *task)
{
    hs_task_t *t = (hs_task_t *)task;
    chansrv_t *cs = t->cs;
    const char *why = NULL;
    int rc = flurm_chan_accept(cs->ctl->auth, cs->purpose, cs->my_name, t->frame, t->len, authorize, t,
                               &t->peer, &t->chan, &t->out, &why);
    switch (rc) {
    case FLURM_OK:
        t->rc = FLURM_OK;
        break;
    case FLURM_EPERM:
        refuse_into(t, DR_UNAUTHORIZED, FLURM_CHAN_REFUSE_UNAUTHORIZED, why);
        break;
    case FLURM_EIO:
    case FLURM_ENOMEM:
        refuse_into(t, DR_CREDENTIAL, FLURM_CHAN_REFUSE_UNAVAILABLE, why);
        t->rc = rc;
        break;
    case FLURM_EINVAL:
        refuse_into(t, DR_MALFORMED, FLURM_CHAN_REFUSE_MALFORMED, why);
        break;
    default:
        refuse_into(t, DR_CREDENTIAL, FLURM_CHAN_REFUSE_CREDENTIAL, why);
        break;
    }
}

static bool pipe_open(uint32_t id)
{
    nng_sockaddr sa;
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = id;
    return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0;
}

/* Loop thread. */
static void hs_done(pool_task_t *task)
{
    hs_task_t *t = (hs_task_t *)task;
    chansrv_t *cs = t->cs;
    nng_pipe pipe = NNG_PIPE_INITIALIZER;
    pipe.id = t->pipe;
    cs->stats.handshakes++;
    if (t->rc == FLURM_OK && !pipe_open(t->pipe)) {
        flurm_chan_free(t->chan);
        t->chan = NULL;
        t->rc = FLURM_ENOENT;   /* nobody to answer */
    } else if (t->rc == FLURM_OK) {
        session_t *s = calloc(1, sizeof *s);
        if (!s) {
            flurm_chan_free(t->chan);
            refuse_into(t, DR_CREDENTIAL, FLURM_CHAN_REFUSE_UNAVAILABLE, "out of memory");
        } else {
            uint32_t ip;
            s->pipe = t->pipe;
            pthread_mutex_init(&s->lock, NULL);
            s->chan = t->chan;
            s->id = t->policy.id;
            s->uid = t->peer.uid;
            memcpy(s->name, t->peer.name, sizeof s->name);
            pipe_addr(pipe, s->addr, sizeof s->addr, &ip);
            pthread_rwlock_wrlock(&cs->sess_lock);
            drop_session(cs, t->pipe);   /* a second HELLO on one pipe replaces the first */
            size_t k = bucket_of(cs, s->pipe);
            s->next = cs->buckets[k];
            cs->buckets[k] = s;
            if (++cs->nsessions > cs->nbuckets)
                grow(cs);
            pthread_rwlock_unlock(&cs->sess_lock);
            cs->stats.sessions++;
            flurm_verbose("%s channel: %s authenticated from %s (uid %u)", cs->what, s->name, s->addr,
                          (unsigned)s->uid);
        }
    }
    if (t->rc != FLURM_OK && t->rc != FLURM_ENOENT)
        refused(cs, pipe, t->reason, t->why);
    cs->send(t->token, &t->out);   /* to a closed pipe too: nng drops it and the context receives again */
    flurm_buf_release(&t->out);
    free(t->frame);
    free(t);
}

/* ------------------------------------------------------------------ the caller's entry points */

/* Any thread. FLURM_ENOENT: no session on PIPE; else flurm_chan_open's result. PEER gets the
 * session's identity whenever there is one. */
static int open_data(chansrv_t *cs, nng_pipe pipe, const void *body, size_t len, flurm_buf_t *plain,
                     chansrv_peer_t *peer, const char **why)
{
    pthread_rwlock_rdlock(&cs->sess_lock);
    session_t *s = find(cs, nng_pipe_id(pipe));
    int rc = FLURM_ENOENT;
    if (s) {
        pthread_mutex_lock(&s->lock);
        rc = flurm_chan_open(s->chan, body, len, plain, why);
        pthread_mutex_unlock(&s->lock);
        peer->id = s->id;
        peer->uid = s->uid;
        memcpy(peer->name, s->name, sizeof peer->name);
        memcpy(peer->addr, s->addr, sizeof peer->addr);
    }
    pthread_rwlock_unlock(&cs->sess_lock);
    return rc;
}

bool chansrv_open(chansrv_t *cs, nng_pipe pipe, const void *body, size_t len, flurm_buf_t *plain,
                  chansrv_peer_t *peer)
{
    if (flurm_chan_frame_type(body, len) != FLURM_CHAN_FRAME_DATA)
        return false;
    return open_data(cs, pipe, body, len, plain, peer, NULL) == FLURM_OK;
}

chansrv_verdict_t chansrv_recv(chansrv_t *cs, nng_pipe pipe, const void *body, size_t len, void *token,
                               flurm_buf_t *plain, chansrv_peer_t *peer)
{
    plain->size = 0;
    switch (flurm_chan_frame_type(body, len)) {
    case FLURM_CHAN_FRAME_DATA: {
        const char *why = NULL;
        int rc = open_data(cs, pipe, body, len, plain, peer, &why);
        if (rc == FLURM_ENOENT) {
            refused(cs, pipe, DR_UNAUTHENTICATED, NULL);
            flurm_chan_refuse(FLURM_CHAN_REFUSE_UNAUTHENTICATED, "no session on this connection: send HELLO",
                              plain);
            return CHANSRV_REPLY;
        }
        if (rc != FLURM_OK) {
            bool replay = why && strcmp(why, "replayed") == 0;
            refused(cs, pipe, replay ? DR_REPLAYED : DR_BAD_TAG, peer->name);
            plain->size = 0;
            return CHANSRV_DROP;
        }
        return CHANSRV_DATA;
    }
    case FLURM_CHAN_FRAME_HELLO: {
        hs_task_t *t = calloc(1, sizeof *t);
        uint8_t *copy = malloc(len);
        if (!t || !copy) {
            free(t);
            free(copy);
            flurm_chan_refuse(FLURM_CHAN_REFUSE_UNAVAILABLE, "out of memory", plain);
            return CHANSRV_REPLY;
        }
        memcpy(copy, body, len);
        *t = (hs_task_t){ .task = { .run = hs_run, .done = hs_done }, .cs = cs, .token = token,
                          .pipe = nng_pipe_id(pipe), .frame = copy, .len = len };
        flurm_buf_init(&t->out);
        char name[FLURM_CHAN_NAME_MAX + 1];
        const char *why = "not a HELLO frame";
        int rc = flurm_chan_hello_name(body, len, name);
        if (rc == FLURM_OK)
            rc = cs->policy(cs->ctl, name, &t->policy, &why);
        if (rc != FLURM_OK) {
            refused(cs, pipe, DR_UNAUTHORIZED, why);
            flurm_chan_refuse(FLURM_CHAN_REFUSE_UNAUTHORIZED, why, plain);
            free(copy);
            free(t);
            return CHANSRV_REPLY;
        }
        pool_submit(cs->ctl->workers, &t->task);
        return CHANSRV_PENDING;
    }
    default:
        refused(cs, pipe, DR_MALFORMED, NULL);
        flurm_chan_refuse(FLURM_CHAN_REFUSE_MALFORMED, "not a FLURM channel frame (FLURM_CHAN v1)", plain);
        return CHANSRV_REPLY;
    }
}

int chansrv_seal(chansrv_t *cs, nng_pipe pipe, const void *plain, size_t len, flurm_buf_t *out)
{
    out->size = 0;
    pthread_rwlock_rdlock(&cs->sess_lock);
    session_t *s = find(cs, nng_pipe_id(pipe));
    int rc = FLURM_ENOENT;
    if (s) {
        pthread_mutex_lock(&s->lock);
        rc = flurm_chan_seal(s->chan, plain, len, out);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_rwlock_unlock(&cs->sess_lock);
    return rc;
}

void chansrv_reply(nng_ctx ctx, nng_aio *aio, bool *sending, const flurm_buf_t *frame)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, frame->size) != 0) {
        nng_ctx_recv(ctx, aio);
        return;
    }
    memcpy(nng_msg_body(m), frame->data, frame->size);
    *sending = true;
    nng_aio_set_msg(aio, m);
    nng_ctx_send(ctx, aio);
}

const chansrv_stats_t *chansrv_stats(const chansrv_t *cs)
{
    return &cs->stats;
}

/* The SlurmctldHost entry this controller is: the one named as this host, else the first. */
static const char *my_controller_name(const flurm_conf_t *c)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0';
    for (size_t i = 0; i < c->controller_count; i++)
        if (c->controllers[i].name && strcmp(c->controllers[i].name, host) == 0)
            return c->controllers[i].name;
    return c->controller_count && c->controllers[0].name ? c->controllers[0].name : "flurmctld";
}

chansrv_t *chansrv_new(ctl_t *ctl, nng_socket sock, flurm_chan_purpose_t purpose, const char *what,
                       chansrv_policy_fn policy, chansrv_send_fn send)
{
    chansrv_t *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->nbuckets = 64;
    cs->buckets = calloc(cs->nbuckets, sizeof *cs->buckets);
    cs->logged = calloc(LOGGED_MAX, sizeof *cs->logged);
    if (!cs->buckets || !cs->logged) {
        free(cs->buckets);
        free(cs->logged);
        free(cs);
        return NULL;
    }
    cs->ctl = ctl;
    cs->sock = sock;
    cs->purpose = purpose;
    cs->what = what;
    cs->policy = policy;
    cs->send = send;
    /* The name our WELCOME speaks for: this controller's SlurmctldHost line (flurmctld -n NAME
     * may pick one that is not this host's name: several controllers on one host). */
    snprintf(cs->my_name, sizeof cs->my_name, "%s",
             ctl->self && ctl->self->name ? ctl->self->name : my_controller_name(ctl->conf));
    atomic_init(&cs->local_origin, 0);
    pthread_mutex_init(&cs->lock, NULL);
    pthread_rwlock_init(&cs->sess_lock, NULL);
    ev_async_init(&cs->wake, on_wake);
    cs->wake.data = cs;
    ev_async_start(ctl->loop, &cs->wake);
    nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe_event, cs);
    return cs;
}

/* The socket must be closed (no more pipe events) and no handshake in flight (the worker pool
 * drained) before this. */
void chansrv_free(chansrv_t *cs)
{
    if (!cs)
        return;
    ev_async_stop(cs->ctl->loop, &cs->wake);
    for (size_t i = 0; i < cs->nbuckets; i++) {
        for (session_t *s = cs->buckets[i], *next; s; s = next) {
            next = s->next;
            pthread_mutex_destroy(&s->lock);
            flurm_chan_free(s->chan);
            free(s);
        }
    }
    for (closed_pipe_t *c = cs->closed, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    pthread_mutex_destroy(&cs->lock);
    pthread_rwlock_destroy(&cs->sess_lock);
    free(cs->buckets);
    free(cs->logged);
    free(cs);
}
