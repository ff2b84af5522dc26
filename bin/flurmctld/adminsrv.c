/* bin/flurmctld/adminsrv.c — see adminsrv.h.
 *
 * The listener pattern of nodesrv.c and peers.c, simpler: each nng context's receive is handed
 * to the loop (one inbox, one ev_async) as is, and the loop does everything there — the channel
 * (chansrv_recv: handshakes go to the workers, refusals are answered, DATA frames opened), the
 * request and its sealed reply. Admin requests are rare and small: nothing runs on nng threads
 * but the handoff. */
#include "adminsrv.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <flurm/log.h>

#include "admin.pb-c.h"
#include "chansrv.h"
#include "commit.h"
#include "ctl.h"
#include "peers.h"

#define ADMIN_CTXS 16              /* requests and handshakes at once */
#define ADMIN_MAX_MSG 65536        /* largest request accepted */
#define LOGGED_MAX 256             /* addresses remembered for log-once */

typedef Flurm__Admin__AdminRequest admin_req_t;
typedef Flurm__Admin__AdminReply admin_reply_t;

typedef struct actx {
    struct adminsrv *srv;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    nng_msg *msg;                  /* the request as received */
    nng_pipe pipe;
    struct actx *next;             /* loop inbox */
} actx_t;

/* What was logged once for an address: bit per logged_reason_t. */
typedef enum { LOG_MALFORMED = 1, LOG_VERSION = 2 } logged_reason_t;

struct adminsrv {
    ctl_t *ctl;
    nng_socket sock;
    actx_t ctxs[ADMIN_CTXS];
    chansrv_t *chan;
    pthread_mutex_t lock;          /* inbox */
    actx_t *inbox;
    ev_async wake;
    struct { char host[64]; unsigned reasons; } logged[LOGGED_MAX];
    size_t nlogged;
    uint64_t statuses, transfers, changes, errors;
};

/* ------------------------------------------------------------------ nng side (its threads) */

static void actx_cb(void *arg)
{
    actx_t *c = arg;
    struct adminsrv *s = c->srv;
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
    pthread_mutex_lock(&s->lock);
    c->next = s->inbox;
    s->inbox = c;
    pthread_mutex_unlock(&s->lock);
    ev_async_send(s->ctl->loop, &s->wake);
}

/* ------------------------------------------------------------------ replies (loop) */

static void release(actx_t *c)
{
    if (c->msg) {
        nng_msg_free(c->msg);
        c->msg = NULL;
    }
}

static void drop(actx_t *c)
{
    release(c);
    nng_ctx_recv(c->ctx, c->aio);
}

static void send_frame(actx_t *c, const flurm_buf_t *frame)
{
    release(c);
    chansrv_reply(c->ctx, c->aio, &c->sending, frame);
}

static void send_frame_cb(void *token, const flurm_buf_t *frame)
{
    send_frame(token, frame);
}

static void reply(actx_t *c, admin_reply_t *r)
{
    r->version = FLURM__ADMIN__VERSION__PROTOCOL_VERSION;
    size_t len = flurm__admin__admin_reply__get_packed_size(r);
    flurm_buf_t plain, sealed;
    flurm_buf_init(&plain);
    flurm_buf_init(&sealed);
    if (flurm_buf_reserve(&plain, len ? len : 1) != FLURM_OK) {
        drop(c);
        return;
    }
    flurm__admin__admin_reply__pack(r, plain.data);
    plain.size = len;
    if (chansrv_seal(c->srv->chan, c->pipe, plain.data, plain.size, &sealed) == FLURM_OK)
        send_frame(c, &sealed);
    else
        drop(c);   /* its connection closed: nobody to answer */
    flurm_buf_release(&plain);
    flurm_buf_release(&sealed);
}

static void reply_error(actx_t *c, Flurm__Admin__ErrorCode code, const char *text)
{
    admin_reply_t r = FLURM__ADMIN__ADMIN_REPLY__INIT;
    r.error = code;
    r.error_text = (char *)text;
    c->srv->errors++;
    reply(c, &r);
}

/* Logs TEXT for PEER's address the first time it gives REASON. */
static void log_once(struct adminsrv *s, const chansrv_peer_t *peer, logged_reason_t reason, const char *text)
{
    char host[64];
    snprintf(host, sizeof host, "%s", peer->addr);
    char *colon = strrchr(host, ':');   /* "ip:port", "[v6]:port" */
    if (colon)
        *colon = '\0';
    size_t i;
    for (i = 0; i < s->nlogged; i++)
        if (strcmp(s->logged[i].host, host) == 0)
            break;
    if (i < s->nlogged && (s->logged[i].reasons & reason))
        return;
    if (i == s->nlogged) {
        if (s->nlogged == LOGGED_MAX)
            return;   /* counted in errors, no longer logged */
        snprintf(s->logged[i].host, sizeof s->logged[i].host, "%s", host);
        s->nlogged++;
    }
    s->logged[i].reasons |= reason;
    flurm_warn("admin channel: %s from %s (uid %u, %s) (further ones from this address not logged)", text,
               peer->addr, (unsigned)peer->uid, peer->name);
}

/* ------------------------------------------------------------------ requests (loop) */

static const char *member_name(const ctl_t *ctl, uint64_t id)
{
    const flurm_conf_t *conf = ctl->conf;
    return id >= 1 && id <= conf->controller_count && conf->controllers[id - 1].name
               ? conf->controllers[id - 1].name : "";
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);   /* the clock commit.c feeds the Raft core */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void handle_status(actx_t *c)
{
    ctl_t *ctl = c->srv->ctl;
    commit_status_t st;
    commit_status(ctl, &st);
    bool lead = st.role == FLURM_RAFT_LEADER;
    uint64_t now = mono_ms();
    double now_s = ev_now(ctl->loop);

    Flurm__Admin__StatusReply sr = FLURM__ADMIN__STATUS_REPLY__INIT;
    sr.name = (char *)member_name(ctl, ctl->self_id);
    sr.id = ctl->self_id;
    sr.role = (char *)flurm_raft_role_str((flurm_raft_role_t)st.role);
    sr.term = st.term;
    sr.leader = (char *)member_name(ctl, st.leader);
    sr.leader_id = st.leader;
    sr.commit = st.commit;
    sr.applied = st.applied;
    sr.last = st.last;
    sr.snapshot = st.snapshot;
    sr.ready = commit_ready(ctl);
    sr.cluster = ctl->conf->cluster_name ? ctl->conf->cluster_name : "";
    sr.version = (char *)flurm_version();
    sr.config_index = commit_config_index(ctl);

    Flurm__Admin__MemberStatus ms[FLURM_RAFT_MAX_MEMBERS];
    Flurm__Admin__MemberStatus *msp[FLURM_RAFT_MAX_MEMBERS];
    for (size_t i = 0; i < st.n_members; i++) {
        const flurm_raft_member_status_t *m = &st.members[i];
        Flurm__Admin__MemberStatus *o = &ms[i];
        flurm__admin__member_status__init(o);
        o->name = (char *)member_name(ctl, m->id);
        o->id = m->id;
        o->self = m->id == ctl->self_id;
        o->voter = (m->flags & FLURM_RAFT_MEMBER_VOTER) != 0;
        o->last_contact_ms_ago = -1;
        o->last_heard_s_ago = -1;
        if (lead) {
            o->match_index = m->match_index;
            o->next_index = m->next_index;
            /* The core starts a new leader's clocks at its election (a grace period): a member
             * that acknowledged nothing in this term (match 0: every leader appends an entry
             * first) was never heard from in it. */
            if (o->self)
                o->last_contact_ms_ago = 0;
            else if (m->last_contact_ms && m->match_index)
                o->last_contact_ms_ago = now > m->last_contact_ms ? (int64_t)(now - m->last_contact_ms) : 0;
            o->replication = (Flurm__Admin__ReplicationState)(m->state + 1);
        }
        if (!o->self) {
            peers_member_status_t ps;
            peers_status(ctl, m->id, &ps);
            o->connected = ps.connected;
            if (ps.last_heard > 0)
                o->last_heard_s_ago = now_s > ps.last_heard ? now_s - ps.last_heard : 0;
        }
        msp[i] = o;
    }
    sr.members = msp;
    sr.n_members = st.n_members;

    admin_reply_t r = FLURM__ADMIN__ADMIN_REPLY__INIT;
    r.status = &sr;
    c->srv->statuses++;
    reply(c, &r);
}

/* The member id of SlurmctldHost NAME, 0 if none. */
static uint64_t member_id(const ctl_t *ctl, const char *name)
{
    const flurm_conf_t *conf = ctl->conf;
    for (size_t i = 0; name && i < conf->controller_count; i++)
        if (conf->controllers[i].name && strcmp(conf->controllers[i].name, name) == 0)
            return i + 1;
    return 0;
}

/* Answers ERROR_NOT_LEADER naming the leader unless this controller leads; true if it leads. */
static bool leading_or_redirect(actx_t *c)
{
    ctl_t *ctl = c->srv->ctl;
    if (commit_is_leader(ctl))
        return true;
    uint64_t leader = commit_leader(ctl);
    char text[160];
    const char *name = member_name(ctl, leader);
    if (*name)
        snprintf(text, sizeof text, "not the leader; the leader is %s", name);
    else
        snprintf(text, sizeof text, "not the leader; no leader known (an election is running)");
    admin_reply_t r = FLURM__ADMIN__ADMIN_REPLY__INIT;
    r.error = FLURM__ADMIN__ERROR_CODE__ERROR_NOT_LEADER;
    r.error_text = text;
    r.leader = (char *)name;
    c->srv->errors++;
    reply(c, &r);
    return false;
}

static void handle_transfer(actx_t *c, const chansrv_peer_t *peer, const char *target)
{
    ctl_t *ctl = c->srv->ctl;
    uint64_t id = member_id(ctl, target);
    if (!id) {
        char text[160];
        snprintf(text, sizeof text, "%.80s is no SlurmctldHost of this controller's slurm.conf", target ? target : "");
        reply_error(c, FLURM__ADMIN__ERROR_CODE__ERROR_UNKNOWN_MEMBER, text);
        return;
    }
    if (!leading_or_redirect(c))
        return;
    c->srv->transfers++;
    if (id != ctl->self_id) {
        flurm_info("admin: %s (uid %u, %s) asks to hand leadership over to %s", peer->name, (unsigned)peer->uid,
                   peer->addr, target);
        commit_transfer(ctl, id);
    }
    admin_reply_t r = FLURM__ADMIN__ADMIN_REPLY__INIT;
    reply(c, &r);
}

/* True if A and B (host names or addresses) resolve to a common address. Blocks the loop while
 * a name is resolved: admin requests are rare, and SlurmctldHost addresses are mostly literal. */
static bool same_host(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b)
        return false;
    if (strcmp(a, b) == 0)
        return true;
    struct addrinfo hints, *ra = NULL, *rb = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    bool same = false;
    if (getaddrinfo(a, NULL, &hints, &ra) == 0 && getaddrinfo(b, NULL, &hints, &rb) == 0) {
        for (const struct addrinfo *x = ra; x && !same; x = x->ai_next)
            for (const struct addrinfo *y = rb; y && !same; y = y->ai_next) {
                if (x->ai_family != y->ai_family)
                    continue;
                if (x->ai_family == AF_INET)
                    same = memcmp(&((const struct sockaddr_in *)x->ai_addr)->sin_addr,
                                  &((const struct sockaddr_in *)y->ai_addr)->sin_addr, sizeof(struct in_addr)) == 0;
                else if (x->ai_family == AF_INET6)
                    same = memcmp(&((const struct sockaddr_in6 *)x->ai_addr)->sin6_addr,
                                  &((const struct sockaddr_in6 *)y->ai_addr)->sin6_addr,
                                  sizeof(struct in6_addr)) == 0;
            }
    }
    if (ra)
        freeaddrinfo(ra);
    if (rb)
        freeaddrinfo(rb);
    return same;
}

/* AddRequest (ADD_LEARNER, HOST given) and RemoveRequest (REMOVE). */
static void handle_change(actx_t *c, const chansrv_peer_t *peer, uint32_t kind, const char *name, const char *host)
{
    ctl_t *ctl = c->srv->ctl;
    uint64_t id = member_id(ctl, name);
    char text[512];
    const char *shown = name ? name : "";
    if (!id || (kind == FLURM_RAFT_ADD_LEARNER && !same_host(ctl->conf->controllers[id - 1].addr, host))) {
        if (!id)
            snprintf(text, sizeof text,
                     "%.80s is no SlurmctldHost of this controller's slurm.conf: a controller can only be %s "
                     "if it is listed there; list it (in the same order) in slurm.conf on every controller and "
                     "restart them one at a time",
                     shown, kind == FLURM_RAFT_ADD_LEARNER ? "added" : "removed");
        else
            snprintf(text, sizeof text,
                     "%.80s is SlurmctldHost %.80s(%.80s) in this controller's slurm.conf, which is not %.80s: "
                     "list it with that address in slurm.conf on every controller and restart them one at a time",
                     shown, shown, ctl->conf->controllers[id - 1].addr ? ctl->conf->controllers[id - 1].addr : "",
                     host ? host : "");
        reply_error(c, FLURM__ADMIN__ERROR_CODE__ERROR_UNKNOWN_MEMBER, text);
        return;
    }
    if (!leading_or_redirect(c))
        return;
    c->srv->changes++;
    flurm_info("admin: %s (uid %u, %s) asks to %s %s", peer->name, (unsigned)peer->uid, peer->addr,
               kind == FLURM_RAFT_ADD_LEARNER ? "add" : "remove", shown);
    int rc = commit_change(ctl, kind, id);
    if (rc == FLURM_OK) {
        admin_reply_t r = FLURM__ADMIN__ADMIN_REPLY__INIT;
        reply(c, &r);
        return;
    }
    snprintf(text, sizeof text, "%s: %s", shown, commit_change_why(ctl));
    flurm_info("admin: cannot %s %s: %s", kind == FLURM_RAFT_ADD_LEARNER ? "add" : "remove", shown,
               commit_change_why(ctl));
    if (rc == FLURM_EAGAIN && !commit_is_leader(ctl)) {
        leading_or_redirect(c);
        return;
    }
    reply_error(c, rc == FLURM_EAGAIN ? FLURM__ADMIN__ERROR_CODE__ERROR_BUSY : FLURM__ADMIN__ERROR_CODE__ERROR_REFUSED,
                text);
}

static void handle(struct adminsrv *s, actx_t *c)
{
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    chansrv_peer_t peer;
    memset(&peer, 0, sizeof peer);
    chansrv_verdict_t v = chansrv_recv(s->chan, c->pipe, nng_msg_body(c->msg), nng_msg_len(c->msg), c, &plain,
                                       &peer);
    if (v != CHANSRV_DATA) {
        if (v == CHANSRV_REPLY)
            send_frame(c, &plain);
        else if (v == CHANSRV_DROP)
            drop(c);
        else
            release(c);   /* PENDING: the handshake answers through this context later */
        flurm_buf_release(&plain);
        return;
    }
    release(c);
    admin_req_t *req = flurm__admin__admin_request__unpack(NULL, plain.size, plain.data);
    flurm_buf_release(&plain);
    if (!req) {
        log_once(s, &peer, LOG_MALFORMED, "undecodable request");
        reply_error(c, FLURM__ADMIN__ERROR_CODE__ERROR_MALFORMED, "undecodable AdminRequest");
        return;
    }
    if (req->version != FLURM__ADMIN__VERSION__PROTOCOL_VERSION) {
        char text[128];
        snprintf(text, sizeof text, "admin protocol version %u is not this controller's %u", req->version,
                 FLURM__ADMIN__VERSION__PROTOCOL_VERSION);
        log_once(s, &peer, LOG_VERSION, text);
        reply_error(c, FLURM__ADMIN__ERROR_CODE__ERROR_VERSION, text);
    } else if (req->body_case == FLURM__ADMIN__ADMIN_REQUEST__BODY_STATUS) {
        handle_status(c);
    } else if (req->body_case == FLURM__ADMIN__ADMIN_REQUEST__BODY_TRANSFER && req->transfer) {
        handle_transfer(c, &peer, req->transfer->target);
    } else if (req->body_case == FLURM__ADMIN__ADMIN_REQUEST__BODY_ADD && req->add) {
        handle_change(c, &peer, FLURM_RAFT_ADD_LEARNER, req->add->name, req->add->host);
    } else if (req->body_case == FLURM__ADMIN__ADMIN_REQUEST__BODY_REMOVE && req->remove) {
        handle_change(c, &peer, FLURM_RAFT_REMOVE, req->remove->name, NULL);
    } else {
        log_once(s, &peer, LOG_MALFORMED, "a request with no known body");
        reply_error(c, FLURM__ADMIN__ERROR_CODE__ERROR_MALFORMED, "AdminRequest with no known body");
    }
    flurm__admin__admin_request__free_unpacked(req, NULL);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    struct adminsrv *s = w->data;
    pthread_mutex_lock(&s->lock);
    actx_t *c = s->inbox;
    s->inbox = NULL;
    pthread_mutex_unlock(&s->lock);
    while (c) {
        actx_t *next = c->next;
        handle(s, c);
        c = next;
    }
}

/* Root or SlurmUser, any name, any address. */
static int admin_policy(ctl_t *ctl, const char *name, chansrv_policy_t *p, const char **why)
{
    (void)name;
    (void)why;
    memset(p, 0, sizeof *p);
    p->uids[0] = 0;
    p->uids[1] = ctl->conf->slurm_user_id;
    p->check_addr = false;
    return FLURM_OK;
}

/* ------------------------------------------------------------------ start / stop */

static void free_srv(struct adminsrv *s)
{
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int adminsrv_start(ctl_t *ctl)
{
    char v[16];
    unsigned long port = ADMINSRV_DEFAULT_PORT;
    if (flurm_conf_ctld_param(ctl->conf, "flurm_admin_port", v, sizeof v) == FLURM_OK) {
        char *end;
        port = strtoul(v, &end, 10);
        if (*end || port == 0 || port > 65535) {
            flurm_error("SlurmctldParameters flurm_admin_port=%s is no port", v);
            return -1;
        }
    }
    struct adminsrv *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->ctl = ctl;
    pthread_mutex_init(&s->lock, NULL);
    const char *host = ctl->bind_addr ? ctl->bind_addr : "0.0.0.0";
    char url[320];
    snprintf(url, sizeof url, strchr(host, ':') ? "tcp://[%s]:%lu" : "tcp://%s:%lu", host, port);
    int rv = nng_rep0_open(&s->sock);
    if (rv != 0) {
        flurm_error("cannot listen for admin tools at %s: %s", url, nng_strerror(rv));
        free_srv(s);
        return -1;
    }
    if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, ADMIN_MAX_MSG)) != 0 ||
        !(s->chan = chansrv_new(ctl, s->sock, FLURM_CHAN_ADMIN, "admin", admin_policy, send_frame_cb))) {
        flurm_error("cannot set up the admin channel: %s", rv ? nng_strerror(rv) : "out of memory");
        nng_close(s->sock);
        free_srv(s);
        return -1;
    }
    for (size_t i = 0; i < ADMIN_CTXS; i++) {
        actx_t *c = &s->ctxs[i];
        c->srv = s;
        if ((rv = nng_ctx_open(&c->ctx, s->sock)) != 0 || (rv = nng_aio_alloc(&c->aio, actx_cb, c)) != 0)
            break;
    }
    if (rv == 0)
        rv = nng_listen(s->sock, url, NULL, 0);
    if (rv != 0) {
        flurm_error("cannot listen for admin tools at %s: %s", url, nng_strerror(rv));
        nng_close(s->sock);
        for (size_t i = 0; i < ADMIN_CTXS; i++)
            if (s->ctxs[i].aio)
                nng_aio_free(s->ctxs[i].aio);
        chansrv_free(s->chan);
        free_srv(s);
        return -1;
    }
    ev_async_init(&s->wake, on_wake);
    s->wake.data = s;
    ev_async_start(ctl->loop, &s->wake);
    ctl->adminsrv = s;
    for (size_t i = 0; i < ADMIN_CTXS; i++)
        nng_ctx_recv(s->ctxs[i].ctx, s->ctxs[i].aio);
    flurm_info("listening for admin tools at %s", url);
    return 0;
}

void adminsrv_stop(ctl_t *ctl)
{
    struct adminsrv *s = ctl->adminsrv;
    if (!s)
        return;
    ctl->adminsrv = NULL;
    for (size_t i = 0; i < ADMIN_CTXS; i++)
        if (s->ctxs[i].aio)
            nng_aio_stop(s->ctxs[i].aio);
    nng_close(s->sock);   /* no more pipe events for chansrv */
    for (size_t i = 0; i < ADMIN_CTXS; i++) {
        if (s->ctxs[i].aio)
            nng_aio_free(s->ctxs[i].aio);
        release(&s->ctxs[i]);
    }
    const chansrv_stats_t *st = chansrv_stats(s->chan);
    flurm_info("admin channel: %llu handshake(s), %llu session(s), %llu status, %llu transfer and %llu membership "
               "request(s), %llu error(s); dropped: %llu unauthenticated, %llu malformed, %llu bad credential, "
               "%llu unauthorized, %llu tampered, %llu replayed",
               (unsigned long long)st->handshakes, (unsigned long long)st->sessions,
               (unsigned long long)s->statuses, (unsigned long long)s->transfers, (unsigned long long)s->changes,
               (unsigned long long)s->errors,
               (unsigned long long)st->unauthenticated, (unsigned long long)st->malformed,
               (unsigned long long)st->bad_credential, (unsigned long long)st->unauthorized,
               (unsigned long long)st->bad_tag, (unsigned long long)st->replayed);
    chansrv_free(s->chan);
    ev_async_stop(ctl->loop, &s->wake);
    free_srv(s);
}
