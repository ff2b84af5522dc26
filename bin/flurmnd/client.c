/* bin/flurmnd/client.c — the controller link (proto/node.proto).
 *
 * One nng REQ socket dials the controller (nng redials forever with backoff). Two contexts:
 *   poll   a long Poll always in flight once registered; its replies carry the commands
 *   event  Register, then JobStarted/JobEnd one at a time
 * nng completes each send/recv on its own threads; the callback only records the outcome and
 * wakes the loop (ev_async), so every protocol decision is taken on the loop thread.
 *
 * Registration is the recovery path for everything: after a controller restart
 * (ERROR_NOT_REGISTERED) or any failed exchange (timeout: the controller is gone) flurmnd sends
 * Register again with its running jobs and every JobEnd not yet acknowledged.
 *
 * Every exchange rides an authenticated channel (include/flurm/chan.h). Before the first
 * request on a connection a handshake thread sends HELLO on a context of its own and checks the
 * controller's WELCOME: a munge credential of root or SlurmUser, naming the SlurmctldHost dialed
 * and made at that host's address. Nothing from anyone else is ever opened, so a process that
 * took the controller's port cannot launch anything here. A new connection (nng redials by
 * itself) or a REFUSE saying the controller lost the session starts a new handshake.
 *
 * Several SlurmctldHosts (Raft): only the leader serves; flurmnd dials one controller at a time
 * and follows the leader (follow.c decides where to go): an ERROR_NOT_LEADER naming the leader
 * sends it there, a lost connection to the next controller at once. Moving closes the dialer,
 * abandons everything in flight on it (requests, handshake: a generation number marks their
 * late completions stale), dials the new controller and registers there with the running jobs
 * and every unacknowledged JobEnd. nng's own recovery is too slow for a failover (request resend
 * after a minute, reconnect backoff, 10 s timeouts): requests are never resent (a closed
 * connection fails them at once), the closing of the session's connection is watched
 * (nng_pipe_notify), and every wait is short. With one SlurmctldHost (or FLURMND_CONTROLLER)
 * flurmnd stays with its controller and the long timeouts apply. */
#include "flurmnd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <flurm/chan.h>
#include <flurm/log.h>

#define SEND_TIMEOUT_MS 10000
#define REPLY_TIMEOUT_MS 10000    /* Register/JobEvent; a Poll gets its wait on top */
#define RETRY_DELAY_S 2.0         /* after a refused Register */
#define RECONN_MIN_MS 100
#define RECONN_MAX_MS 5000
/* Several controllers: a dead leader must be left within a second, so nothing waits long. */
#define MULTI_DIAL_TIMEOUT_MS 500     /* a HELLO waits this long for a connection */
#define MULTI_HELLO_TIMEOUT_MS 2000   /* and this long for the WELCOME (munge on both sides) */
#define MULTI_SEND_TIMEOUT_MS 1000
#define MULTI_REPLY_TIMEOUT_MS 3000   /* Register/JobEvent (a Raft commit); a Poll gets its wait on top */
#define MULTI_RECONN_MIN_MS 50
#define MULTI_RECONN_MAX_MS 250

typedef enum chan_phase { CH_IDLE = 0, CH_SEND, CH_RECV, CH_DONE } chan_phase_t;
typedef enum req_kind { RQ_REGISTER = 0, RQ_POLL, RQ_STARTED, RQ_ENDED } req_kind_t;

typedef struct chan {
    nd_client_t *cl;
    nng_ctx ctx;
    nng_aio *aio;
    chan_phase_t phase;       /* written by the nng thread only between send and done */
    int result;
    nng_msg *reply;
    atomic_bool done;
    nng_duration recv_timeout;
    req_kind_t kind;
    uint32_t job_id;
    uint64_t reg_gen;         /* registration the request belonged to */
    uint64_t conn_gen;        /* the connection (controller) it was sent to */
} chan_t;

/* A handshake's outcome, handed from its thread to the loop. */
typedef struct hs_result {
    flurm_chan_t *chan;           /* NULL: failed, TEXT says why */
    uint32_t pipe;
    uint64_t conn_gen;            /* the connection it ran on */
    bool unanswered;              /* no connection or no answer (else: an answer we refuse) */
    char text[256];
} hs_result_t;

struct nd_client {
    nd_t *nd;
    nng_socket sock;
    nng_dialer dialer;
    chan_t poll, event;
    flurm_auth_t *auth;
    flurm_chan_t *chan;           /* the session of connection CHAN_PIPE; NULL: none yet */
    uint32_t chan_pipe;
    atomic_uint watch_pipe;       /* CHAN_PIPE, for the nng thread that sees connections close */
    atomic_uint closed_pipe;      /* WATCH_PIPE once nng closed it (0: not since the last look) */
    bool multi;                   /* several SlurmctldHosts to follow */
    nd_follow_t follow;           /* which one is dialed (FOLLOW.cur) */
    uint64_t conn_gen;            /* bumped when moving to another controller */
    atomic_uint_fast64_t conn_gen_seen;   /* CONN_GEN, for chan_cb */
    bool moved;                   /* moved since the last registration: say where we registered */
    nng_duration send_timeout, reply_timeout, dial_timeout, hello_timeout;
    bool hs_running;
    pthread_t hs_thread;
    uint64_t hs_gen;              /* CONN_GEN when the handshake started */
    ssize_t hs_expect;            /* the SlurmctldHost it must find (-1: any, FLURMND_CONTROLLER) */
    pthread_mutex_t hs_lock;      /* HS_DONE, HS_AIO, HS_ABORT (handshake thread) */
    hs_result_t *hs_done;
    nng_aio *hs_aio;              /* the handshake's exchange in progress */
    bool hs_abort;                /* a move abandoned the handshake */
    char last_hs_error[256];
    ev_async wake;
    ev_timer retry;
    bool registered;
    bool retry_pending;
    uint64_t reg_gen;         /* bumped at every successful Register */
    uint32_t poll_wait_ms;
    bool said_unreachable;
    char last_refusal[256];
};

static void chan_cb(void *arg)
{
    chan_t *c = arg;
    int rv = nng_aio_result(c->aio);
    if (c->phase == CH_SEND) {
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(c->aio));
            c->result = rv;
            c->reply = NULL;
            goto done;
        }
        if (c->conn_gen != atomic_load(&c->cl->conn_gen_seen)) {   /* we moved: no reply wanted */
            c->result = NNG_ECANCELED;
            c->reply = NULL;
            goto done;
        }
        c->phase = CH_RECV;
        nng_aio_set_timeout(c->aio, c->recv_timeout);
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    c->result = rv;
    c->reply = rv == 0 ? nng_aio_get_msg(c->aio) : NULL;
done:
    c->phase = CH_DONE;
    atomic_store(&c->done, true);
    ev_async_send(c->cl->nd->loop, &c->cl->wake);
}

static void client_handshake(nd_client_t *cl);

/* Pack REQ, seal it and start the exchange on C. false if it could not be started (no channel
 * yet: a handshake was started). */
static bool chan_start(chan_t *c, Flurm__Node__NodeRequest *req, req_kind_t kind, uint32_t job_id,
                       nng_duration recv_timeout)
{
    nd_client_t *cl = c->cl;
    req->version = FLURM__NODE__VERSION__PROTOCOL_VERSION;
    req->node_name = (char *)cl->nd->node_name;
    req->boot_id = cl->nd->boot_id;
    if (!cl->chan) {
        client_handshake(cl);
        return false;   /* kicked again once the channel is up */
    }
    size_t len = flurm__node__node_request__get_packed_size(req);
    flurm_buf_t plain, sealed;
    flurm_buf_init(&plain);
    flurm_buf_init(&sealed);
    nng_msg *m = NULL;
    bool ok = flurm_buf_reserve(&plain, len) == FLURM_OK;
    if (ok) {
        flurm__node__node_request__pack(req, plain.data);
        plain.size = len;
        ok = flurm_chan_seal(cl->chan, plain.data, plain.size, &sealed) == FLURM_OK &&
             nng_msg_alloc(&m, sealed.size) == 0;
    }
    if (ok)
        memcpy(nng_msg_body(m), sealed.data, sealed.size);
    flurm_buf_release(&plain);
    flurm_buf_release(&sealed);
    if (!ok) {
        flurm_error("out of memory for a %zu-byte request", len);
        return false;
    }
    c->kind = kind;
    c->job_id = job_id;
    c->reg_gen = cl->reg_gen;
    c->conn_gen = cl->conn_gen;
    c->recv_timeout = recv_timeout;
    c->phase = CH_SEND;
    nng_aio_set_msg(c->aio, m);
    nng_aio_set_timeout(c->aio, cl->send_timeout);
    nng_ctx_send(c->ctx, c->aio);
    return true;
}

static int64_t rj_start(const nd_job_t *j)
{
    return j->has_started ? j->started.start_time : j->st.ctld_start_time;
}

static void fill_end(Flurm__Node__JobEnd *e, const nd_job_t *j)
{
    e->job_id = j->id;
    e->state = j->end_state;
    e->wait_status = j->end_status;
    e->start_time = j->end_start_time;
    e->end_time = j->end_time;
    e->max_rss_kb = j->end_rss_kb;
    e->reason = (char *)j->end_reason;
}

static void send_register(nd_client_t *cl)
{
    nd_t *nd = cl->nd;
    const nd_hw_t *hw = &nd->hw;
    Flurm__Node__Register r = FLURM__NODE__REGISTER__INIT;
    r.cpus = hw->cpus;
    r.boards = hw->boards;
    r.sockets = hw->sockets;
    r.cores_per_socket = hw->cores_per_socket;
    r.threads_per_core = hw->threads_per_core;
    r.real_memory_mb = hw->real_memory_mb;
    r.tmp_disk_mb = hw->tmp_disk_mb;
    r.gres = (char *)hw->gres;
    r.features = (char *)hw->features;
    r.boot_time = hw->boot_time;
    r.start_time = nd->start_time;
    r.version = (char *)FLURM_VERSION_STRING;
    r.hostname = (char *)hw->hostname;
    r.arch = (char *)hw->arch;
    r.os = (char *)hw->os;

    size_t n = 0;
    for (nd_job_t *j = nd->jobs; j; j = j->next)
        n++;
    Flurm__Node__RunningJob *run = calloc(n ? n : 1, sizeof *run);
    Flurm__Node__RunningJob **runp = calloc(n ? n : 1, sizeof *runp);
    Flurm__Node__JobEnd *end = calloc(n ? n : 1, sizeof *end);
    Flurm__Node__JobEnd **endp = calloc(n ? n : 1, sizeof *endp);
    if (!run || !runp || !end || !endp) {
        flurm_error("out of memory building Register");
        goto out;
    }
    for (nd_job_t *j = nd->jobs; j; j = j->next) {
        j->in_register = true;
        if (j->phase == ND_JOB_ENDED) {
            flurm__node__job_end__init(&end[r.n_ended]);
            fill_end(&end[r.n_ended], j);
            endp[r.n_ended] = &end[r.n_ended];
            r.n_ended++;
        } else {
            flurm__node__running_job__init(&run[r.n_running]);
            run[r.n_running].job_id = j->id;
            run[r.n_running].start_time = rj_start(j);
            runp[r.n_running] = &run[r.n_running];
            r.n_running++;
        }
    }
    r.running = runp;
    r.ended = endp;
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_REGISTER;
    req.register_ = &r;
    flurm_verbose("registering with %s: %zu running, %zu ended job(s)", nd->url, r.n_running, r.n_ended);
    if (!chan_start(&cl->event, &req, RQ_REGISTER, 0, cl->reply_timeout))
        for (nd_job_t *j = nd->jobs; j; j = j->next)
            j->in_register = false;
out:
    free(run);
    free(runp);
    free(end);
    free(endp);
}

static void send_poll(nd_client_t *cl)
{
    Flurm__Node__Poll p = FLURM__NODE__POLL__INIT;
    p.wait_ms = cl->poll_wait_ms;
    nd_hw_load(&p.cpu_load, &p.free_mem_mb);
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_POLL;
    req.poll = &p;
    chan_start(&cl->poll, &req, RQ_POLL, 0, (nng_duration)cl->poll_wait_ms + cl->reply_timeout);
}

/* The next JobStarted/JobEnd due, oldest job first; false if none. */
static bool send_next_event(nd_client_t *cl)
{
    nd_job_t *pick = NULL;
    bool started = false;
    for (nd_job_t *j = cl->nd->jobs; j; j = j->next) {
        if (j->has_started && !j->start_reported) {
            pick = j;
            started = true;
        } else if (j->phase == ND_JOB_ENDED) {
            pick = j;
            started = false;
        }
    }
    if (!pick)
        return false;
    Flurm__Node__JobEvent ev = FLURM__NODE__JOB_EVENT__INIT;
    Flurm__Node__JobStarted js = FLURM__NODE__JOB_STARTED__INIT;
    Flurm__Node__JobEnd je = FLURM__NODE__JOB_END__INIT;
    if (started) {
        js.job_id = pick->id;
        js.start_time = pick->started.start_time;
        js.pid = (uint32_t)pick->started.pid;
        ev.event_case = FLURM__NODE__JOB_EVENT__EVENT_STARTED;
        ev.started = &js;
    } else {
        fill_end(&je, pick);
        ev.event_case = FLURM__NODE__JOB_EVENT__EVENT_ENDED;
        ev.ended = &je;
    }
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT;
    req.job_event = &ev;
    return chan_start(&cl->event, &req, started ? RQ_STARTED : RQ_ENDED, pick->id, cl->reply_timeout);
}

void nd_client_kick(nd_t *nd)
{
    nd_client_t *cl = nd->client;
    if (!cl)
        return;
    if (cl->event.phase == CH_IDLE && !cl->retry_pending) {
        if (!cl->registered)
            send_register(cl);
        else
            send_next_event(cl);
    }
    if (cl->registered && cl->poll.phase == CH_IDLE)
        send_poll(cl);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    nd_client_t *cl = w->data;
    cl->retry_pending = false;
    nd_client_kick(cl->nd);
}

static void retry_after(nd_client_t *cl, double delay_s)
{
    if (cl->retry_pending)
        return;
    cl->retry_pending = true;
    ev_timer_set(&cl->retry, delay_s, 0);
    ev_timer_start(cl->nd->loop, &cl->retry);
}

static void retry_later(nd_client_t *cl)
{
    retry_after(cl, RETRY_DELAY_S);
}

static void clear_in_register(nd_t *nd)
{
    for (nd_job_t *j = nd->jobs; j; j = j->next)
        j->in_register = false;
}

/* tcp://ADDR:PORT of SlurmctldHost I into ND->url. */
static void controller_url(nd_t *nd, size_t i)
{
    const char *addr = nd->conf->controllers[i].addr;
    snprintf(nd->url, sizeof nd->url, strchr(addr, ':') ? "tcp://[%s]:%s" : "tcp://%s:%s", addr, nd->node_port);
}

static int dial(nd_client_t *cl)
{
    nng_dialer d;
    int rv = nng_dialer_create(&d, cl->sock, cl->nd->url);
    if (rv == 0) {
        nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, cl->multi ? MULTI_RECONN_MIN_MS : RECONN_MIN_MS);
        nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, cl->multi ? MULTI_RECONN_MAX_MS : RECONN_MAX_MS);
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
        if (rv != 0)
            nng_dialer_close(d);
    }
    if (rv == 0)
        cl->dialer = d;
    return rv;
}

/* Leaves the controller dialed for FOLLOW.cur: everything in flight on the old connection is
 * abandoned (its completions are stale), the registration is lost, the new one is dialed. */
static void move(nd_client_t *cl)
{
    nd_t *nd = cl->nd;
    cl->conn_gen++;
    atomic_store(&cl->conn_gen_seen, cl->conn_gen);
    cl->registered = false;
    cl->moved = true;
    clear_in_register(nd);
    flurm_chan_free(cl->chan);
    cl->chan = NULL;
    cl->chan_pipe = 0;
    atomic_store(&cl->watch_pipe, 0);
    pthread_mutex_lock(&cl->hs_lock);
    cl->hs_abort = true;
    if (cl->hs_aio)
        nng_aio_cancel(cl->hs_aio);
    pthread_mutex_unlock(&cl->hs_lock);
    nng_aio_cancel(cl->poll.aio);
    nng_aio_cancel(cl->event.aio);
    nng_dialer_close(cl->dialer);
    cl->dialer = (nng_dialer)NNG_DIALER_INITIALIZER;
    ev_timer_stop(nd->loop, &cl->retry);
    cl->retry_pending = false;
    controller_url(nd, cl->follow.cur);
    int rv = dial(cl);
    if (rv != 0)   /* the handshake finds no connection and moves on */
        flurm_error("cannot dial controller %s at %s: %s", nd->conf->controllers[cl->follow.cur].name,
                    nd->url, nng_strerror(rv));
}

/* EV happened at the controller dialed (WHY says what, for the log): follow.c says where to go
 * and when. */
static void follow(nd_client_t *cl, nd_follow_event_t ev, const char *leader, const char *why)
{
    nd_t *nd = cl->nd;
    bool stays = !leader || !leader[0] ||
                 (cl->follow.hosts && strcmp(leader, cl->follow.hosts[cl->follow.cur].name) == 0);
    if (ev == ND_FOLLOW_NOT_LEADER && cl->retry_pending && stays)
        return;   /* the poll and the event both heard it: once is enough */
    size_t from = cl->follow.cur;
    nd_follow_step_t st = nd_follow_event(&cl->follow, ev, leader, ev_now(nd->loop));
    if (st.moved) {
        const char *old = nd->conf->controllers[from].name;
        const char *now = nd->conf->controllers[cl->follow.cur].name;
        move(cl);
        if (st.redirected)
            flurm_info("following leader %s at %s", now, nd->url);
        else if (ev == ND_FOLLOW_NOT_LEADER)
            flurm_info("controller %s knows no ready leader (%s): trying %s at %s", old, why, now, nd->url);
        else
            flurm_info("controller %s %s (%s): trying %s at %s", old,
                       ev == ND_FOLLOW_LOST ? "lost" : "refused us", why, now, nd->url);
    } else if (ev == ND_FOLLOW_NOT_LEADER) {
        flurm_verbose("controller %s: %s; asking again in %.0f ms", nd->url, why, st.delay_s * 1000);
    }
    if (st.delay_s > 0)
        retry_after(cl, st.delay_s);
}

/* ERROR_NOT_LEADER (a Register, Poll or JobEvent): nothing was recorded; register with the leader. */
static void not_leader(nd_client_t *cl, const Flurm__Node__NodeReply *r)
{
    const char *text = r->error_text[0] ? r->error_text : "not the leader";
    if (!cl->multi && strcmp(text, cl->last_refusal) != 0) {   /* with several, moves are logged */
        flurm_info("controller %s does not serve nodes yet (%s); asking again", cl->nd->url, text);
        snprintf(cl->last_refusal, sizeof cl->last_refusal, "%s", text);
    }
    follow(cl, ND_FOLLOW_NOT_LEADER, r->leader, text);
}

/* A request of registration REG_GEN failed: register again (once per registration). */
static void lose_registration(nd_client_t *cl, uint64_t reg_gen)
{
    if (reg_gen == cl->reg_gen && cl->registered) {
        cl->registered = false;
        flurm_verbose("registration with %s lost; registering again", cl->nd->url);
    }
}

static void handle_commands(nd_client_t *cl, const Flurm__Node__NodeReply *r)
{
    nd_t *nd = cl->nd;
    for (size_t i = 0; i < r->n_commands; i++) {
        const Flurm__Node__Command *c = r->commands[i];
        switch (c->cmd_case) {
        case FLURM__NODE__COMMAND__CMD_LAUNCH:
            nd_jobs_launch(nd, c->launch);
            break;
        case FLURM__NODE__COMMAND__CMD_SIGNAL:
            nd_jobs_signal(nd, c->signal->job_id, c->signal->signal);
            break;
        case FLURM__NODE__COMMAND__CMD_KILL:
            nd_jobs_terminate(nd, c->kill->job_id, ND_CAUSE_CANCEL, c->kill->kill_wait_s);
            break;
        case FLURM__NODE__COMMAND__CMD_SUSPEND:
            nd_jobs_suspend(nd, c->suspend->job_id, true);
            break;
        case FLURM__NODE__COMMAND__CMD_RESUME:
            nd_jobs_suspend(nd, c->resume->job_id, false);
            break;
        default:
            flurm_warn("ignoring an empty or unknown command from the controller");
            break;
        }
    }
}

static void refusal(nd_client_t *cl, const Flurm__Node__NodeReply *r)
{
    char text[256];
    snprintf(text, sizeof text, "%s: %s",
             protobuf_c_enum_descriptor_get_value(&flurm__node__error_code__descriptor, r->error)
                 ? protobuf_c_enum_descriptor_get_value(&flurm__node__error_code__descriptor, r->error)->name
                 : "error",
             r->error_text);
    if (strcmp(text, cl->last_refusal) != 0) {
        flurm_error("controller %s refused node %s: %s", cl->nd->url, cl->nd->node_name, text);
        snprintf(cl->last_refusal, sizeof cl->last_refusal, "%s", text);
    }
}

static void on_register(nd_client_t *cl, const Flurm__Node__NodeReply *r)
{
    nd_t *nd = cl->nd;
    if (r->error == FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER) {
        clear_in_register(nd);
        not_leader(cl, r);
        return;
    }
    if (r->error != FLURM__NODE__ERROR_CODE__OK) {
        clear_in_register(nd);
        refusal(cl, r);
        retry_later(cl);
        return;
    }
    cl->registered = true;
    cl->reg_gen++;
    cl->last_refusal[0] = '\0';
    nd_follow_registered(&cl->follow);
    if (cl->moved)
        flurm_info("registered with leader %s at %s", nd->conf->controllers[cl->follow.cur].name, nd->url);
    else if (cl->said_unreachable || flurm_log_get_level() >= FLURM_LOG_VERBOSE)
        flurm_info("registered with controller %s", nd->url);
    cl->moved = false;
    cl->said_unreachable = false;
    for (nd_job_t *j = nd->jobs, *next; j; j = next) {
        next = j->next;
        if (!j->in_register)
            continue;
        j->in_register = false;
        if (j->phase == ND_JOB_ENDED)
            nd_jobs_forget(nd, j);
        else if (j->has_started)
            j->start_reported = true;
    }
    if (r->ack)
        for (size_t i = 0; i < r->ack->n_unknown_jobs; i++)
            nd_jobs_terminate(nd, r->ack->unknown_jobs[i], ND_CAUSE_ORPHAN, nd->kill_wait);
}

static void on_event(nd_client_t *cl, const chan_t *c, const Flurm__Node__NodeReply *r)
{
    if (r->error == FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED) {
        lose_registration(cl, c->reg_gen);
        return;
    }
    if (r->error == FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER) {   /* the JobEnd rides the Register */
        lose_registration(cl, c->reg_gen);
        not_leader(cl, r);
        return;
    }
    if (r->error != FLURM__NODE__ERROR_CODE__OK) {
        refusal(cl, r);
        lose_registration(cl, c->reg_gen);
        retry_later(cl);
        return;
    }
    nd_job_t *job = nd_jobs_find(cl->nd, c->job_id);
    if (!job)
        return;
    if (c->kind == RQ_STARTED)
        job->start_reported = true;
    else if (job->phase == ND_JOB_ENDED)
        nd_jobs_forget(cl->nd, job);
}

static void on_poll(nd_client_t *cl, const chan_t *c, const Flurm__Node__NodeReply *r)
{
    if (r->error == FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED) {
        lose_registration(cl, c->reg_gen);
        return;
    }
    if (r->error == FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER) {
        lose_registration(cl, c->reg_gen);
        not_leader(cl, r);
        return;
    }
    if (r->error != FLURM__NODE__ERROR_CODE__OK) {
        refusal(cl, r);
        lose_registration(cl, c->reg_gen);
        retry_later(cl);
        return;
    }
    if (r->poll_wait_ms)
        cl->poll_wait_ms = r->poll_wait_ms;
    handle_commands(cl, r);
}

/* Opens the controller's reply M into PLAIN. false if it is none to act on: a REFUSE (the
 * session is dropped when the controller no longer knows it) or a frame that does not open
 * under this channel (logged, dropped). */
static bool open_reply(nd_client_t *cl, nng_msg *m, flurm_buf_t *plain)
{
    const void *body = nng_msg_body(m);
    size_t len = nng_msg_len(m);
    flurm_chan_frame_t type = flurm_chan_frame_type(body, len);
    if (type == FLURM_CHAN_FRAME_REFUSE) {
        flurm_chan_refuse_code_t code = 0;
        char text[256];
        flurm_chan_refusal(body, len, &code, text, sizeof text);
        if (code == FLURM_CHAN_REFUSE_UNAUTHENTICATED && cl->chan &&
            nng_pipe_id(nng_msg_get_pipe(m)) == (int)cl->chan_pipe) {
            flurm_verbose("controller %s lost our session; authenticating again", cl->nd->url);
            flurm_chan_free(cl->chan);
            cl->chan = NULL;
        } else if (code != FLURM_CHAN_REFUSE_UNAUTHENTICATED) {
            flurm_warn("controller %s refused a request: %s", cl->nd->url, text);
        }
        return false;
    }
    const char *why = NULL;
    if (!cl->chan || nng_pipe_id(nng_msg_get_pipe(m)) != (int)cl->chan_pipe ||
        flurm_chan_open(cl->chan, body, len, plain, &why) != FLURM_OK) {
        flurm_warn("dropped a reply that does not open under our channel with %s (%s)", cl->nd->url,
                   why ? why : "another connection");
        return false;
    }
    return true;
}

static void chan_complete(nd_client_t *cl, chan_t *c)
{
    nd_t *nd = cl->nd;
    int result = c->result;
    nng_msg *m = c->reply;
    c->reply = NULL;
    c->phase = CH_IDLE;
    if (c->conn_gen != cl->conn_gen) {   /* sent to a controller we left */
        if (m)
            nng_msg_free(m);
        return;
    }
    if (result != 0) {
        if (result == NNG_ECLOSED || result == NNG_ECANCELED)
            return;
        if (c->kind == RQ_REGISTER)
            clear_in_register(nd);
        if (cl->multi) {
            follow(cl, ND_FOLLOW_LOST, NULL, nng_strerror(result));
            return;
        }
        if (!cl->said_unreachable) {
            flurm_warn("controller %s not answering (%s); retrying", nd->url, nng_strerror(result));
            cl->said_unreachable = true;
        }
        if (c->kind == RQ_REGISTER) {
            /* no answer: the handshake waits for the controller; a closed connection is the
             * same (requests are never resent) */
            if (result != NNG_ETIMEDOUT && result != NNG_ECONNRESET)
                retry_later(cl);
        } else {
            lose_registration(cl, c->reg_gen);
        }
        return;
    }
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    bool opened = open_reply(cl, m, &plain);
    nng_msg_free(m);
    if (!opened) {
        flurm_buf_release(&plain);
        if (c->kind == RQ_REGISTER) {
            clear_in_register(nd);
            /* a controller that lost our session: authenticate again at once */
            retry_after(cl, cl->multi && !cl->chan ? ND_FOLLOW_RETRY_S : RETRY_DELAY_S);
        }
        return;   /* the poll or event is sent again on the next kick */
    }
    Flurm__Node__NodeReply *r = flurm__node__node_reply__unpack(NULL, plain.size, plain.data);
    flurm_buf_release(&plain);
    if (!r) {
        flurm_warn("unreadable reply from the controller; registering again");
        if (c->kind == RQ_REGISTER) {
            clear_in_register(nd);
            retry_later(cl);
        }
        lose_registration(cl, c->reg_gen);
        return;
    }
    if (r->version != FLURM__NODE__VERSION__PROTOCOL_VERSION ||
        r->error == FLURM__NODE__ERROR_CODE__ERROR_VERSION) {
        flurm_error("controller %s speaks node protocol version %u, this flurmnd speaks %u%s%s: stopping",
                    nd->url, r->version, (unsigned)FLURM__NODE__VERSION__PROTOCOL_VERSION,
                    r->error_text[0] ? ": " : "", r->error_text);
        flurm__node__node_reply__free_unpacked(r, NULL);
        nd_client_stop(nd);
        exit(1);
    }
    switch (c->kind) {
    case RQ_REGISTER: on_register(cl, r); break;
    case RQ_POLL: on_poll(cl, c, r); break;
    case RQ_STARTED:
    case RQ_ENDED: on_event(cl, c, r); break;
    }
    flurm__node__node_reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ the handshake */

/* The controller's credential must be root's or SlurmUser's, name the SlurmctldHost EXPECT (any
 * SlurmctldHost when EXPECT < 0) and come from that host's address. NULL when it does, else why
 * not (into BUF). */
static const char *authorize_controller(const nd_t *nd, const flurm_chan_peer_t *p, uint32_t local,
                                        ssize_t expect, char *buf, size_t size)
{
    const flurm_conf_t *conf = nd->conf;
    if (p->uid != 0 && p->uid != conf->slurm_user_id) {
        snprintf(buf, size, "its credential is uid %u's, not root's or SlurmUser %s's", (unsigned)p->uid,
                 conf->slurm_user);
        return buf;
    }
    for (size_t i = 0; i < conf->controller_count; i++) {
        const flurm_conf_controller_t *h = &conf->controllers[i];
        if (strcmp(h->name, p->name) != 0)
            continue;
        if (expect >= 0 && (size_t)expect != i) {
            snprintf(buf, size, "it speaks for %s, but we dialed %s", p->name, conf->controllers[expect].name);
            return buf;
        }
        if (flurm_chan_addr_matches(h->addr, p->addr, local))
            return NULL;
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &p->addr, a, sizeof a);
        snprintf(buf, size, "it speaks for %s but its credential comes from %s, not %s", p->name, a, h->addr);
        return buf;
    }
    snprintf(buf, size, "it calls itself %s, which is no SlurmctldHost", p->name);
    return buf;
}

/* Starts OP (send or receive) on AIO unless a move abandoned the handshake; then waits. The
 * loop cancels the exchange in progress when it moves (hs_abort, under hs_lock). */
static int hs_step(nd_client_t *cl, nng_ctx ctx, nng_aio *aio, bool send, nng_duration timeout)
{
    pthread_mutex_lock(&cl->hs_lock);
    if (cl->hs_abort) {
        pthread_mutex_unlock(&cl->hs_lock);
        return NNG_ECANCELED;
    }
    cl->hs_aio = aio;
    nng_aio_set_timeout(aio, timeout);
    if (send)
        nng_ctx_send(ctx, aio);
    else
        nng_ctx_recv(ctx, aio);
    pthread_mutex_unlock(&cl->hs_lock);
    nng_aio_wait(aio);
    pthread_mutex_lock(&cl->hs_lock);
    cl->hs_aio = NULL;
    pthread_mutex_unlock(&cl->hs_lock);
    return nng_aio_result(aio);
}

/* Blocking exchange of FRAME for the reply on a context of its own; NULL on failure. */
static nng_msg *hs_exchange(nd_client_t *cl, const flurm_buf_t *frame, char *err, size_t size)
{
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *m = NULL, *reply = NULL;
    int rv = nng_ctx_open(&ctx, cl->sock);
    if (rv != 0) {
        snprintf(err, size, "%s", nng_strerror(rv));
        return NULL;
    }
    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) == 0 && (rv = nng_msg_alloc(&m, frame->size)) == 0) {
        memcpy(nng_msg_body(m), frame->data, frame->size);
        nng_aio_set_msg(aio, m);
        rv = hs_step(cl, ctx, aio, true, cl->dial_timeout);
        if (rv != 0) {
            nng_msg_free(m);
        } else {
            rv = hs_step(cl, ctx, aio, false, cl->hello_timeout);
            if (rv == 0)
                reply = nng_aio_get_msg(aio);
        }
    }
    if (rv != 0)
        snprintf(err, size, "no answer to HELLO: %s", nng_strerror(rv));
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return reply;
}

static void *hs_main(void *arg)
{
    nd_client_t *cl = arg;
    nd_t *nd = cl->nd;
    hs_result_t *res = calloc(1, sizeof *res);
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello;
    flurm_buf_init(&hello);
    const char *why = NULL;
    if (!res)
        goto post;
    res->conn_gen = cl->hs_gen;
    if (flurm_chan_hello(cl->auth, FLURM_CHAN_NODE, nd->node_name, &hs, &hello, &why) != FLURM_OK) {
        snprintf(res->text, sizeof res->text, "cannot make a credential: %s", why);
        goto post;
    }
    nng_msg *reply = hs_exchange(cl, &hello, res->text, sizeof res->text);
    if (!reply) {
        res->unanswered = true;
        goto post;
    }
    const void *body = nng_msg_body(reply);
    size_t len = nng_msg_len(reply);
    flurm_chan_peer_t peer;
    flurm_chan_t *chan = NULL;
    uint32_t local = 0;
    flurm_chan_frame_t type = flurm_chan_frame_type(body, len);
    if (type == FLURM_CHAN_FRAME_REFUSE) {
        char text[224];
        flurm_chan_refusal(body, len, NULL, text, sizeof text);
        snprintf(res->text, sizeof res->text, "refused: %s", text);
    } else if (type != FLURM_CHAN_FRAME_WELCOME) {
        snprintf(res->text, sizeof res->text, "answered HELLO with no WELCOME (not a FLURM controller?)");
    } else if (flurm_chan_finish(cl->auth, hs, body, len, &peer, &chan, &why) != FLURM_OK) {
        hs = NULL;   /* consumed */
        snprintf(res->text, sizeof res->text, "its WELCOME does not verify: %s", why);
    } else {
        hs = NULL;
        char buf[200];
        flurm_chan_local_origin(cl->auth, &local, NULL);
        const char *no = authorize_controller(nd, &peer, local, cl->hs_expect, buf, sizeof buf);
        if (no) {
            snprintf(res->text, sizeof res->text, "not trusted as a controller: %s", no);
            flurm_chan_free(chan);
        } else {
            res->chan = chan;
            res->pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(reply));
            snprintf(res->text, sizeof res->text, "%s (uid %u)", peer.name, (unsigned)peer.uid);
        }
    }
    nng_msg_free(reply);
post:
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);
    pthread_mutex_lock(&cl->hs_lock);
    cl->hs_done = res;
    pthread_mutex_unlock(&cl->hs_lock);
    ev_async_send(nd->loop, &cl->wake);
    return NULL;
}

static void client_handshake(nd_client_t *cl)
{
    if (cl->hs_running || cl->chan || cl->retry_pending)
        return;
    cl->hs_gen = cl->conn_gen;
    cl->hs_expect = cl->follow.hosts ? (ssize_t)cl->follow.cur : -1;
    pthread_mutex_lock(&cl->hs_lock);
    cl->hs_abort = false;
    pthread_mutex_unlock(&cl->hs_lock);
    if (pthread_create(&cl->hs_thread, NULL, hs_main, cl) != 0) {
        flurm_error("cannot start the handshake thread: %s", strerror(errno));
        return;
    }
    cl->hs_running = true;
}

/* True while connection PIPE is open. */
static bool pipe_open(uint32_t pipe)
{
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = pipe;
    nng_sockaddr sa;
    return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0;
}

/* Loop thread: a finished handshake, a closed connection. */
static void handshake_collect(nd_client_t *cl)
{
    pthread_mutex_lock(&cl->hs_lock);
    hs_result_t *res = cl->hs_done;
    cl->hs_done = NULL;
    pthread_mutex_unlock(&cl->hs_lock);
    uint32_t closed = atomic_exchange(&cl->closed_pipe, 0);
    if (closed && cl->chan && closed == cl->chan_pipe) {
        flurm_chan_free(cl->chan);
        cl->chan = NULL;
        if (cl->multi)
            follow(cl, ND_FOLLOW_LOST, NULL, "connection closed");
    }
    if (!cl->hs_running || !res) {
        free(res);
        return;
    }
    pthread_join(cl->hs_thread, NULL);
    cl->hs_running = false;
    if (res->conn_gen != cl->conn_gen) {   /* with a controller we left */
        flurm_chan_free(res->chan);
        free(res);
        return;
    }
    if (res->chan) {
        flurm_chan_free(cl->chan);
        cl->chan = res->chan;
        cl->chan_pipe = res->pipe;
        cl->last_hs_error[0] = '\0';
        atomic_store(&cl->watch_pipe, res->pipe);
        flurm_verbose("authenticated controller %s as %s", cl->nd->url, res->text);
        if (!pipe_open(res->pipe)) {   /* it closed before we watched it */
            flurm_chan_free(cl->chan);
            cl->chan = NULL;
            if (cl->multi)
                follow(cl, ND_FOLLOW_LOST, NULL, "connection closed");
        }
    } else if (cl->multi && res->unanswered) {
        follow(cl, ND_FOLLOW_LOST, NULL, res->text);
    } else {
        if (strcmp(res->text, cl->last_hs_error) != 0) {
            flurm_error("controller %s: %s", cl->nd->url, res->text[0] ? res->text : "handshake failed");
            snprintf(cl->last_hs_error, sizeof cl->last_hs_error, "%s", res->text);
        }
        if (cl->multi)
            follow(cl, ND_FOLLOW_REFUSED, NULL, res->text);
        else
            retry_later(cl);
    }
    free(res);
}

/* nng thread: a connection went away; the session's, if it was its. */
static void on_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    nd_client_t *cl = arg;
    if (ev != NNG_PIPE_EV_REM_POST)
        return;
    uint32_t id = (uint32_t)nng_pipe_id(p);
    if (id == 0 || id != atomic_load(&cl->watch_pipe))
        return;
    atomic_store(&cl->closed_pipe, id);
    ev_async_send(cl->nd->loop, &cl->wake);
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    nd_client_t *cl = w->data;
    handshake_collect(cl);
    if (atomic_exchange(&cl->event.done, false))
        chan_complete(cl, &cl->event);
    if (atomic_exchange(&cl->poll.done, false))
        chan_complete(cl, &cl->poll);
    nd_client_kick(cl->nd);
}

static int chan_open(nd_client_t *cl, chan_t *c)
{
    c->cl = cl;
    atomic_init(&c->done, false);
    int rv = nng_ctx_open(&c->ctx, cl->sock);
    if (rv == 0)
        rv = nng_aio_alloc(&c->aio, chan_cb, c);
    return rv;
}

int nd_client_start(nd_t *nd)
{
    nd_client_t *cl = calloc(1, sizeof *cl);
    if (!cl)
        return FLURM_ENOMEM;
    cl->nd = nd;
    cl->poll_wait_ms = ND_DEFAULT_POLL_MS;
    /* FLURMND_CONTROLLER names one controller: it is the only one followed (any SlurmctldHost
     * may answer there) */
    const flurm_conf_t *conf = nd->conf;
    if (nd_follow_init(&cl->follow, nd->fixed_url ? NULL : conf->controllers,
                       nd->fixed_url ? 1 : conf->controller_count) != FLURM_OK) {
        free(cl);
        return FLURM_ENOMEM;
    }
    cl->multi = cl->follow.count > 1;
    cl->send_timeout = cl->multi ? MULTI_SEND_TIMEOUT_MS : SEND_TIMEOUT_MS;
    cl->reply_timeout = cl->multi ? MULTI_REPLY_TIMEOUT_MS : REPLY_TIMEOUT_MS;
    cl->dial_timeout = cl->multi ? MULTI_DIAL_TIMEOUT_MS : SEND_TIMEOUT_MS;
    cl->hello_timeout = cl->multi ? MULTI_HELLO_TIMEOUT_MS : REPLY_TIMEOUT_MS;
    atomic_init(&cl->watch_pipe, 0);
    atomic_init(&cl->closed_pipe, 0);
    atomic_init(&cl->conn_gen_seen, 0);
    if (!nd->fixed_url)
        controller_url(nd, 0);
    cl->auth = flurm_auth_new(nd->conf->auth_socket, (int)nd->conf->auth_ttl);
    if (!cl->auth) {
        nd_follow_free(&cl->follow);
        free(cl);
        return FLURM_ENOMEM;
    }
    pthread_mutex_init(&cl->hs_lock, NULL);
    int rv = nng_req0_open(&cl->sock);
    /* Never resend a request (it is sealed for one connection's session, and a failover must
     * not wait for a resend): a closed connection fails what is in flight on it at once. Set
     * before the contexts open: each copies it. */
    if (rv == 0)
        rv = nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    if (rv == 0)
        rv = nng_pipe_notify(cl->sock, NNG_PIPE_EV_REM_POST, on_pipe_event, cl);
    if (rv == 0)
        rv = chan_open(cl, &cl->poll);
    if (rv == 0)
        rv = chan_open(cl, &cl->event);
    if (rv == 0)
        rv = dial(cl);
    if (rv != 0) {
        flurm_error("cannot dial the controller at %s: %s", nd->url, nng_strerror(rv));
        nng_aio_free(cl->poll.aio);
        nng_aio_free(cl->event.aio);
        nng_close(cl->sock);
        flurm_auth_free(cl->auth);
        pthread_mutex_destroy(&cl->hs_lock);
        nd_follow_free(&cl->follow);
        free(cl);
        return FLURM_EIO;
    }
    ev_async_init(&cl->wake, wake_cb);
    cl->wake.data = cl;
    ev_async_start(nd->loop, &cl->wake);
    nd->job_changed = nd_client_kick;
    ev_timer_init(&cl->retry, retry_cb, 0, 0);
    cl->retry.data = cl;
    nd->client = cl;
    nd_client_kick(nd);
    return FLURM_OK;
}

void nd_client_stop(nd_t *nd)
{
    nd_client_t *cl = nd->client;
    if (!cl)
        return;
    nd->client = NULL;
    nd->job_changed = NULL;
    nng_aio_stop(cl->poll.aio);
    nng_aio_stop(cl->event.aio);
    if (cl->poll.reply)
        nng_msg_free(cl->poll.reply);
    if (cl->event.reply)
        nng_msg_free(cl->event.reply);
    nng_aio_free(cl->poll.aio);
    nng_aio_free(cl->event.aio);
    nng_close(cl->sock);   /* a handshake thread waiting on it fails at once */
    if (cl->hs_running)
        pthread_join(cl->hs_thread, NULL);
    if (cl->hs_done)
        flurm_chan_free(cl->hs_done->chan);
    free(cl->hs_done);
    flurm_chan_free(cl->chan);
    flurm_auth_free(cl->auth);
    pthread_mutex_destroy(&cl->hs_lock);
    nd_follow_free(&cl->follow);
    ev_async_stop(nd->loop, &cl->wake);
    ev_timer_stop(nd->loop, &cl->retry);
    free(cl);
}
