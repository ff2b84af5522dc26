/* bin/flurmctld/nodesrv.c — the controller's side of proto/node.proto.
 *
 * flurmnd dials us (nng REQ/REP). Each nng context receives on an nng thread and hands the
 * message to the loop thread through one ev_async; only the loop touches state. Every message
 * travels on an authenticated channel (chansrv.c): a connection's first exchange is a munge
 * handshake, which only root or SlurmUser speaking from the node's own address (NodeAddr or
 * NodeHostname; SlurmctldParameters=flurm_node_addr_check=no waives the address for NAT'd
 * sites) passes, and binds the connection to that one node. Replies go back sealed through the
 * same context, which then receives again.
 *
 * Per node (not replicated: rebuilt as nodes register): the registered daemon instance
 * (boot_id), when we last heard from it, a parked long-poll and the commands waiting for it.
 * What changes state (registration, a job's start or end) is a command in the log; its reply
 * (Ack) leaves only once the command is durable, so a node never forgets a job end the
 * controller has not recorded.
 *
 * Several controllers (Raft): only the ready leader (commit_ready()) serves; the others answer
 * every request, once its channel is authenticated, with ERROR_NOT_LEADER and the leader's
 * SlurmctldHost name, touching nothing. Links are not replicated: a controller that becomes the
 * ready leader forgets them all (nodesrv_leader_changed()), so every node registers with it and
 * the registration reconciles the node with the replicated state. Every controller listens at
 * its own SlurmctldHost address (several may share a machine, on the same port). */
#include "ctl.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <flurm/hostlist.h>
#include <flurm/log.h>
#include <flurm/msg.h>

#include "chansrv.h"
#include "alloc.h"
#include "commit.h"
#include "node.pb-c.h"
#include "nodesrv.h"

#define DEFAULT_NODE_PORT 6819
#define POLL_WAIT_MS 5000          /* how long a node's long poll is held, at most */
#define SPARE_CONTEXTS 16          /* beyond one per node, for registrations and events */

typedef Flurm__Node__NodeRequest node_req_t;
typedef Flurm__Node__NodeReply node_reply_t;

typedef struct nctx {
    struct nodesrv *srv;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    nng_msg *msg;                  /* the request as received (NULL once opened) */
    nng_pipe pipe;                 /* the connection it came on: replies are sealed for it */
    bool opened;                   /* opened and decoded on the nng thread: REQ, PEER */
    chansrv_peer_t peer;
    node_req_t *req;               /* decoded request (NULL if undecodable) */
    struct nctx *next;             /* loop inbox */
} nctx_t;

typedef struct node_link {
    uint64_t boot_id;              /* registered instance; 0 = must (re)register */
    double last_seen;
    nctx_t *parked;                /* its long poll, if we hold one */
    double parked_until;
    flurm_buf_t *cmds;             /* packed Command messages waiting for the node */
    size_t ncmds, cap;
    uint32_t cpu_load;
    uint64_t free_mem;
} node_link_t;

struct nodesrv {
    ctl_t *ctl;
    nng_socket sock;
    nctx_t *ctxs;
    size_t nctx;
    node_link_t *links;
    size_t nlinks;
    pthread_mutex_t lock;
    nctx_t *inbox;
    ev_async wake;
    bool warned_version;
    chansrv_t *chan;
};

/* ------------------------------------------------------------------ nng side (its threads) */

static void nctx_cb(void *arg)
{
    nctx_t *c = arg;
    struct nodesrv *s = c->srv;
    int rv = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
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
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    c->opened = chansrv_open(s->chan, c->pipe, nng_msg_body(c->msg), nng_msg_len(c->msg), &plain, &c->peer);
    if (c->opened) {
        c->req = flurm__node__node_request__unpack(NULL, plain.size, plain.data);
        nng_msg_free(c->msg);
        c->msg = NULL;
    }
    flurm_buf_release(&plain);
    pthread_mutex_lock(&s->lock);
    c->next = s->inbox;
    s->inbox = c;
    pthread_mutex_unlock(&s->lock);
    ev_async_send(s->ctl->loop, &s->wake);
}

/* How long a poll may be held: a node is heard from at least three times per SlurmdTimeout, so
 * a live node is never taken for a silent one. */
static uint32_t poll_wait_ms(const struct nodesrv *s)
{
    uint32_t t = s->ctl->conf->slurmd_timeout;
    uint32_t w = t ? t * 1000u / 3 : POLL_WAIT_MS;
    return w < POLL_WAIT_MS ? (w ? w : 1) : POLL_WAIT_MS;
}

/* ------------------------------------------------------------------ replies (loop thread) */

/* Done with C's request: free it and receive the next one without answering. */
static void release(nctx_t *c)
{
    if (c->req) {
        flurm__node__node_request__free_unpacked(c->req, NULL);
        c->req = NULL;
    }
    if (c->msg) {
        nng_msg_free(c->msg);
        c->msg = NULL;
    }
}

static void drop(nctx_t *c)
{
    release(c);
    nng_ctx_recv(c->ctx, c->aio);   /* the node's request times out and is resent */
}

/* Sends FRAME (a channel frame) as C's reply. */
static void send_frame(nctx_t *c, const flurm_buf_t *frame)
{
    release(c);
    chansrv_reply(c->ctx, c->aio, &c->sending, frame);
}

static void send_frame_cb(void *token, const flurm_buf_t *frame)
{
    send_frame(token, frame);
}

static void reply(nctx_t *c, node_reply_t *r)
{
    r->version = FLURM__NODE__VERSION__PROTOCOL_VERSION;
    size_t len = flurm__node__node_reply__get_packed_size(r);
    flurm_buf_t plain, sealed;
    flurm_buf_init(&plain);
    flurm_buf_init(&sealed);
    if (flurm_buf_reserve(&plain, len) != FLURM_OK) {
        drop(c);
        return;
    }
    flurm__node__node_reply__pack(r, plain.data);
    plain.size = len;
    if (chansrv_seal(c->srv->chan, c->pipe, plain.data, plain.size, &sealed) == FLURM_OK)
        send_frame(c, &sealed);
    else
        drop(c);   /* its connection closed: nobody to answer */
    flurm_buf_release(&plain);
    flurm_buf_release(&sealed);
}

static void reply_error(nctx_t *c, Flurm__Node__ErrorCode code, const char *text)
{
    node_reply_t r = FLURM__NODE__NODE_REPLY__INIT;
    r.error = code;
    r.error_text = (char *)text;
    reply(c, &r);
}

/* The leader's SlurmctldHost name as far as we know: our own while we lead but are not ready
 * yet (the node asks again shortly), "" while none is known. */
static const char *leader_name(const ctl_t *ctl)
{
    uint64_t id = commit_leader(ctl);
    if (id == 0 || id > ctl->conf->controller_count || !ctl->conf->controllers[id - 1].name)
        return "";
    return ctl->conf->controllers[id - 1].name;
}

static void reply_not_leader(nctx_t *c)
{
    const ctl_t *ctl = c->srv->ctl;
    const char *leader = leader_name(ctl);
    char text[160];
    if (!leader[0])
        snprintf(text, sizeof text, "not the leader; no leader known (an election is running)");
    else if (commit_leader(ctl) == ctl->self_id)
        snprintf(text, sizeof text, "the leader, but not ready yet");
    else
        snprintf(text, sizeof text, "not the leader; the leader is %s", leader);
    node_reply_t r = FLURM__NODE__NODE_REPLY__INIT;
    r.error = FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER;
    r.error_text = text;
    r.leader = (char *)leader;
    reply(c, &r);
}

static void reply_ack(nctx_t *c, uint32_t *unknown, size_t n)
{
    node_reply_t r = FLURM__NODE__NODE_REPLY__INIT;
    Flurm__Node__Ack ack = FLURM__NODE__ACK__INIT;
    ack.unknown_jobs = unknown;
    ack.n_unknown_jobs = n;
    r.ack = &ack;
    r.poll_wait_ms = poll_wait_ms(c->srv);
    reply(c, &r);
}

/* Answers the node's parked poll with everything queued for it (possibly nothing). */
static void flush_link(node_link_t *l)
{
    nctx_t *c = l->parked;
    if (!c)
        return;
    l->parked = NULL;
    node_reply_t r = FLURM__NODE__NODE_REPLY__INIT;
    Flurm__Node__Command **cmds = l->ncmds ? calloc(l->ncmds, sizeof *cmds) : NULL;
    size_t n = 0;
    for (size_t i = 0; cmds && i < l->ncmds; i++) {
        cmds[n] = flurm__node__command__unpack(NULL, l->cmds[i].size, l->cmds[i].data);
        if (cmds[n])
            n++;
    }
    r.commands = cmds;
    r.n_commands = n;
    r.poll_wait_ms = poll_wait_ms(c->srv);
    reply(c, &r);
    for (size_t i = 0; i < n; i++)
        flurm__node__command__free_unpacked(cmds[i], NULL);
    free(cmds);
    for (size_t i = 0; i < l->ncmds; i++)
        flurm_buf_release(&l->cmds[i]);
    l->ncmds = 0;
}

static void queue_cmd(struct nodesrv *s, uint32_t node, const Flurm__Node__Command *cmd)
{
    if (node >= s->nlinks)
        return;
    node_link_t *l = &s->links[node];
    if (l->ncmds == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        flurm_buf_t *p = realloc(l->cmds, cap * sizeof *p);
        if (!p)
            return;
        l->cmds = p;
        l->cap = cap;
    }
    flurm_buf_t *b = &l->cmds[l->ncmds];
    flurm_buf_init(b);
    size_t len = flurm__node__command__get_packed_size(cmd);
    if (flurm_buf_reserve(b, len) != FLURM_OK)
        return;
    flurm__node__command__pack(cmd, b->data);
    b->size = len;
    l->ncmds++;
    flush_link(l);
}

/* ------------------------------------------------------------------ commands to nodes */

static char *env_value(const flurm_job_desc_msg_t *d, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; d->environment && i < d->env_size; i++)
        if (d->environment[i] && strncmp(d->environment[i], name, n) == 0 && d->environment[i][n] == '=')
            return d->environment[i] + n + 1;
    return NULL;
}

static void nodesrv_launch(ctl_t *ctl, const flurm_job_t *j)
{
    struct nodesrv *s = ctl->nodesrv;
    const flurm_job_desc_msg_t *d = j->desc;
    if (!s || !j->nodes || !d)
        return;
    char *nodelist = ctl_node_names(ctl->conf, j->nodes, j->nnodes);

    Flurm__Node__LaunchJob l = FLURM__NODE__LAUNCH_JOB__INIT;
    l.job_id = j->job_id;
    l.uid = j->user_id;
    l.gid = j->group_id;
    l.user_name = (char *)ctl_user_name(j->user_id);
    l.script = d->script;
    l.argv = d->argc > 1 ? d->argv + 1 : NULL;   /* argv[0] is the script itself */
    l.n_argv = d->argc > 1 ? d->argc - 1 : 0;
    l.env = d->environment;
    l.n_env = d->env_size;
    l.work_dir = d->work_dir;
    l.std_out = d->std_out;
    l.std_err = d->std_err;
    l.std_in = d->std_in;
    l.job_name = d->name;
    l.partition = j->part_index >= 0 ? ctl->conf->partitions[j->part_index].name : NULL;
    l.nodelist = nodelist;
    l.num_nodes = j->nnodes;
    l.ntasks = d->num_tasks != FLURM_NO_VAL ? d->num_tasks : 1;
    l.cpus_on_node = j->cpus_per_node;
    l.array_job_id = j->array_job_id;
    l.array_task_id = j->array_job_id ? j->array_task_id : FLURM_NO_VAL;
    l.time_limit_min = j->time_limit;
    l.kill_wait_s = ctl->conf->kill_wait;
    l.cluster_name = ctl->conf->cluster_name;
    l.submit_dir = env_value(d, "SLURM_SUBMIT_DIR") ? env_value(d, "SLURM_SUBMIT_DIR") : d->work_dir;
    l.submit_host = env_value(d, "SLURM_SUBMIT_HOST") ? env_value(d, "SLURM_SUBMIT_HOST") : j->alloc_node;
    l.mem_mb = (uint32_t)j->mem_per_node;
    l.open_append = d->open_mode == 1;
    l.start_time = j->start_time;
    Flurm__Node__Command cmd = FLURM__NODE__COMMAND__INIT;
    cmd.cmd_case = FLURM__NODE__COMMAND__CMD_LAUNCH;
    cmd.launch = &l;
    queue_cmd(s, j->nodes[0], &cmd);
    free(nodelist);
}

static void nodesrv_kill(ctl_t *ctl, const flurm_job_t *j)
{
    struct nodesrv *s = ctl->nodesrv;
    if (!s || !j->nodes)
        return;
    Flurm__Node__KillJob k = FLURM__NODE__KILL_JOB__INIT;
    k.job_id = j->job_id;
    k.kill_wait_s = ctl->conf->kill_wait;
    Flurm__Node__Command cmd = FLURM__NODE__COMMAND__INIT;
    cmd.cmd_case = FLURM__NODE__COMMAND__CMD_KILL;
    cmd.kill = &k;
    queue_cmd(s, j->nodes[0], &cmd);
}

void nodesrv_signal(ctl_t *ctl, const flurm_job_t *j, int sig)
{
    struct nodesrv *s = ctl->nodesrv;
    if (!s || !j->nodes)
        return;
    Flurm__Node__SignalJob sj = FLURM__NODE__SIGNAL_JOB__INIT;
    sj.job_id = j->job_id;
    sj.signal = sig;
    Flurm__Node__Command cmd = FLURM__NODE__COMMAND__INIT;
    cmd.cmd_case = FLURM__NODE__COMMAND__CMD_SIGNAL;
    cmd.signal = &sj;
    queue_cmd(s, j->nodes[0], &cmd);
}

/* SuspendJob (SUSPEND true) or ResumeJob to the node running J. */
static void nodesrv_suspend(ctl_t *ctl, const flurm_job_t *j, bool suspend)
{
    struct nodesrv *s = ctl->nodesrv;
    if (!s || !j->nodes)
        return;
    Flurm__Node__SuspendJob sj = FLURM__NODE__SUSPEND_JOB__INIT;
    Flurm__Node__ResumeJob rj = FLURM__NODE__RESUME_JOB__INIT;
    Flurm__Node__Command cmd = FLURM__NODE__COMMAND__INIT;
    if (suspend) {
        sj.job_id = j->job_id;
        cmd.cmd_case = FLURM__NODE__COMMAND__CMD_SUSPEND;
        cmd.suspend = &sj;
    } else {
        rj.job_id = j->job_id;
        cmd.cmd_case = FLURM__NODE__COMMAND__CMD_RESUME;
        cmd.resume = &rj;
    }
    queue_cmd(s, j->nodes[0], &cmd);
}

/* ------------------------------------------------------------------ scheduling */

void nodesrv_effects(ctl_t *ctl, const flurm_effect_t *effects, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const flurm_job_t *j = flurm_state_find_job(ctl->state, effects[i].job_id);
        if (j && effects[i].kind == FLURM_EFFECT_REVOKED) {
            alloc_revoked(ctl, j);   /* it holds nothing any more */
            continue;
        }
        if (!j || !j->nodes)
            continue;   /* a later effect of the same command changed it again */
        switch (effects[i].kind) {
        case FLURM_EFFECT_LAUNCH:
            if (ctl->fault_drop_launches)
                flurm_warn("FLURMCTLD_FAULT: the launch of job %u dropped", j->job_id);
            else
                nodesrv_launch(ctl, j);
            break;
        case FLURM_EFFECT_KILL: nodesrv_kill(ctl, j); break;
        case FLURM_EFFECT_SUSPEND: nodesrv_suspend(ctl, j, true); break;
        case FLURM_EFFECT_RESUME: nodesrv_suspend(ctl, j, false); break;
        case FLURM_EFFECT_ALLOCATED: alloc_started(ctl, j); break;
        case FLURM_EFFECT_REVOKED: break;   /* above */
        }
    }
}

/* A preemption (or resume) is applied; its effect reached the victim's node. */
static void preempt_applied(ctl_t *ctl, void *arg, const flurm_apply_result_t *res)
{
    if (ctl->starts_in_flight)
        ctl->starts_in_flight--;
    uint32_t id = (uint32_t)((uintptr_t)arg >> 8);
    uint8_t action = (uint8_t)((uintptr_t)arg & 0xFF);
    if (res && res->rc == 0)
        flurm_info("job %u %s", id, action == FLURM_PREEMPT_RESUME ? "resumed"
                                    : action == FLURM_PREEMPT_SUSPEND ? "suspended by preemption"
                                    : "preempted");
    if (!ctl->starts_in_flight)
        ctl_schedule(ctl);
}

/* A start is applied (its launch went out as its effect). */
static void start_applied(ctl_t *ctl, void *arg, const flurm_apply_result_t *res)
{
    (void)arg;
    (void)res;
    if (ctl->starts_in_flight)
        ctl->starts_in_flight--;
    if (!ctl->starts_in_flight)
        ctl_schedule(ctl);   /* one round at a time: the next may see what this one freed */
}

/* Every change could let a job start, but a pass costs O(queue): coalesce the triggers of a
 * burst (slurmctld defers the same way). Small against submit-to-start latency. */
#define SCHED_COALESCE_S 0.02

static void on_sched_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_schedule(w->data);
}

void ctl_schedule_soon(ctl_t *ctl)
{
    if (ev_is_active(&ctl->sched_timer))
        return;
    ev_timer_init(&ctl->sched_timer, on_sched_timer, SCHED_COALESCE_S, 0.);
    ctl->sched_timer.data = ctl;
    ev_timer_start(ctl->loop, &ctl->sched_timer);
}

void ctl_schedule(ctl_t *ctl)
{
    if (ctl->starts_in_flight || !ctl->nodesrv)
        return;
    enum { MAX_STARTS = 256 };
    flurm_cmd_start_t starts[MAX_STARTS];
    flurm_cmd_preempt_t pre[MAX_STARTS];
    size_t npre = 0;
    size_t n = flurm_state_plan_preempt(ctl->state, (time_t)ev_now(ctl->loop), starts, MAX_STARTS,
                                        pre, MAX_STARTS, &npre);
    /* preemptions first: the log applies them before the starts that use their resources */
    for (size_t i = 0; i < npre; i++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        if (flurm_cmd_preempt_pack(&pre[i], &body) == FLURM_OK) {
            ctl->starts_in_flight++;
            commit_internal(ctl, FLURM_CMD_JOB_PREEMPT, body.data, body.size, preempt_applied,
                            (void *)(((uintptr_t)pre[i].job_id << 8) | pre[i].action));
        }
        flurm_buf_release(&body);
    }
    for (size_t i = 0; i < n; i++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        if (flurm_cmd_start_pack(&starts[i], &body) == FLURM_OK) {
            ctl->starts_in_flight++;
            commit_internal(ctl, FLURM_CMD_JOB_START, body.data, body.size, start_applied, NULL);
        }
        flurm_buf_release(&body);
    }
    flurm_state_starts_free(starts, n);
}

/* ------------------------------------------------------------------ requests (loop thread) */

static bool job_on(const flurm_job_t *j, uint32_t node)
{
    for (uint32_t i = 0; j->nodes && i < j->nnodes; i++)
        if (j->nodes[i] == node)
            return true;
    return false;
}

typedef struct reg_ctx {
    nctx_t *c;
    uint32_t node;
    uint64_t boot_id;
} reg_ctx_t;

static void register_applied(ctl_t *ctl, void *arg, const flurm_apply_result_t *res)
{
    reg_ctx_t *rc = arg;
    struct nodesrv *s = ctl->nodesrv;
    nctx_t *c = rc->c;
    node_req_t *req = c->req;
    if (!commit_ready(ctl)) {   /* leadership lost meanwhile: the node registers with the leader */
        reply_not_leader(c);
        free(rc);
        return;
    }
    if (!res || res->rc != 0) {
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_MALFORMED, "registration could not be recorded");
        free(rc);
        return;
    }
    node_link_t *l = &s->links[rc->node];
    l->boot_id = rc->boot_id;
    l->last_seen = ev_now(ctl->loop);
    /* Jobs the node runs that we do not place there: it must kill them. */
    Flurm__Node__Register *reg = req->register_;
    uint32_t *unknown = calloc(reg->n_running ? reg->n_running : 1, sizeof *unknown);
    size_t nu = 0;
    for (size_t i = 0; unknown && i < reg->n_running; i++) {
        const flurm_job_t *j = flurm_state_find_job(ctl->state, reg->running[i]->job_id);
        if (!j || !j->nodes || !job_on(j, rc->node) || j->nodes[0] != rc->node) {
            unknown[nu++] = reg->running[i]->job_id;
            continue;
        }
        /* A kill or suspension the previous leader decided may never have reached the node (it
         * carries out only its own term's effects): send it again (the node ignores repeats). */
        if (j->job_state & FLURM_JOB_COMPLETING)
            nodesrv_kill(ctl, j);
        else if ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_SUSPENDED)
            nodesrv_suspend(ctl, j, true);
    }
    /* Jobs we placed there that it neither runs nor reported ended: the launch never reached it
     * (we may have crashed between the start decision and the delivery): send it again. A
     * cancelled one is over. */
    for (size_t i = 0; i < flurm_state_job_slots(ctl->state); i++) {
        const flurm_job_t *j = flurm_state_job_at(ctl->state, i);
        if (!j || !j->nodes || j->nodes[0] != rc->node || !flurm_job_is_batch(j))
            continue;   /* (an interactive allocation runs nothing there) */
        bool known = false;
        for (size_t k = 0; k < reg->n_running && !known; k++)
            known = reg->running[k]->job_id == j->job_id;
        for (size_t k = 0; k < reg->n_ended && !known; k++)
            known = reg->ended[k]->job_id == j->job_id;
        if (known)
            continue;
        if ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING) {
            flurm_info("node %s does not know job %u: sending its launch again",
                       ctl->conf->nodes[rc->node].name, j->job_id);
            nodesrv_launch(ctl, j);
        } else {
            flurm_cmd_end_t e = { .job_id = j->job_id, .node = rc->node, .state = FLURM_END_CANCELLED,
                                  .end_time = (time_t)ev_now(ctl->loop) };
            flurm_buf_t body;
            flurm_buf_init(&body);
            if (flurm_cmd_end_pack(&e, &body) == FLURM_OK)
                commit_internal(ctl, FLURM_CMD_JOB_END, body.data, body.size, NULL, NULL);
            flurm_buf_release(&body);
        }
    }
    flurm_info("node %s registered (%zu running, %zu ended while away)",
               ctl->conf->nodes[rc->node].name, reg->n_running, reg->n_ended);
    reply_ack(c, unknown, nu);
    free(unknown);
    free(rc);
}

static void end_applied(ctl_t *ctl, void *arg, const flurm_apply_result_t *res)
{
    nctx_t *c = arg;
    if (!res && !commit_ready(ctl))
        reply_not_leader(c);   /* the node keeps the end and registers with the leader */
    else if (!res)
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_MALFORMED, "job end could not be recorded");
    else
        reply_ack(c, NULL, 0);   /* durable: the node may forget it */
}

static flurm_cmd_end_t end_from_proto(const Flurm__Node__JobEnd *e, uint32_t node)
{
    return (flurm_cmd_end_t){ .job_id = e->job_id, .node = node, .state = (uint8_t)e->state,
                              .wait_status = (uint32_t)e->wait_status, .start_time = e->start_time,
                              .end_time = e->end_time, .max_rss_kb = e->max_rss_kb };
}

/* C's message did not open on the nng thread: the channel's slow path (handshakes, refusals,
 * drops) on the loop. true if it opened after all (a session installed meanwhile). */
static bool recv_on_loop(struct nodesrv *s, nctx_t *c)
{
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    chansrv_verdict_t v = chansrv_recv(s->chan, c->pipe, nng_msg_body(c->msg), nng_msg_len(c->msg), c,
                                       &plain, &c->peer);
    if (v != CHANSRV_DATA) {
        if (v == CHANSRV_REPLY)
            send_frame(c, &plain);
        else if (v == CHANSRV_DROP)
            drop(c);
        else if (c->msg) {   /* PENDING: the handshake answers through this context later */
            nng_msg_free(c->msg);
            c->msg = NULL;
        }
        flurm_buf_release(&plain);
        return false;
    }
    c->req = flurm__node__node_request__unpack(NULL, plain.size, plain.data);
    flurm_buf_release(&plain);
    nng_msg_free(c->msg);
    c->msg = NULL;
    return true;
}

static void handle(struct nodesrv *s, nctx_t *c)
{
    ctl_t *ctl = s->ctl;
    if (!c->opened && !recv_on_loop(s, c))
        return;
    const chansrv_peer_t peer = c->peer;
    node_req_t *req = c->req;
    if (!req) {
        flurm_error("undecodable request from a node daemon");
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_MALFORMED, "undecodable request");
        return;
    }
    if (req->version != FLURM__NODE__VERSION__PROTOCOL_VERSION) {
        char text[128];
        snprintf(text, sizeof text, "node protocol version %u is not this controller's %u",
                 req->version, FLURM__NODE__VERSION__PROTOCOL_VERSION);
        if (!s->warned_version) {
            flurm_error("%s (node %s)", text, req->node_name ? req->node_name : "?");
            s->warned_version = true;
        }
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_VERSION, text);
        return;
    }
    /* The channel was authorized for one node: it speaks for that one only. */
    if (!req->node_name || strcmp(req->node_name, peer.name) != 0) {
        char text[160];
        snprintf(text, sizeof text, "this connection is authenticated for node %s, not %s", peer.name,
                 req->node_name ? req->node_name : "(none)");
        flurm_error("node channel from %s: %s", peer.addr, text);
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_UNAUTHORIZED, text);
        return;
    }
    ssize_t idx = flurm_conf_node_index(ctl->conf, req->node_name);
    if (idx < 0 || (size_t)idx != peer.id) {   /* a reconfigure renumbered or dropped it */
        flurm_error("node daemon for unknown node '%s'", req->node_name);
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_UNKNOWN_NODE, "node is not in slurm.conf");
        return;
    }
    if (!commit_ready(ctl)) {
        reply_not_leader(c);
        return;
    }
    node_link_t *l = &s->links[idx];
    double now = ev_now(ctl->loop);
    l->last_seen = now;
    if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_REGISTER) {
        Flurm__Node__Register *g = req->register_;
        flurm_cmd_register_t m = { .node = (uint32_t)idx, .boot_id = req->boot_id,
                                   .boot_time = g->boot_time, .start_time = g->start_time,
                                   .version = g->version, .arch = g->arch, .os = g->os };
        uint32_t *running = calloc(g->n_running ? g->n_running : 1, sizeof *running);
        flurm_cmd_end_t *ended = calloc(g->n_ended ? g->n_ended : 1, sizeof *ended);
        reg_ctx_t *rc = calloc(1, sizeof *rc);
        flurm_buf_t body;
        flurm_buf_init(&body);
        if (!running || !ended || !rc) {
            free(running);
            free(ended);
            free(rc);
            reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_MALFORMED, "out of memory");
            return;
        }
        for (size_t i = 0; i < g->n_running; i++)
            running[i] = g->running[i]->job_id;
        for (size_t i = 0; i < g->n_ended; i++)
            ended[i] = end_from_proto(g->ended[i], (uint32_t)idx);
        m.running = running;
        m.nrunning = (uint32_t)g->n_running;
        m.ended = ended;
        m.nended = (uint32_t)g->n_ended;
        flurm_cmd_register_pack(&m, &body);
        free(running);
        free(ended);
        *rc = (reg_ctx_t){ .c = c, .node = (uint32_t)idx, .boot_id = req->boot_id };
        if (l->parked) {           /* a poll of the previous instance */
            nctx_t *old = l->parked;
            l->parked = NULL;
            reply_error(old, FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED, "re-registering");
        }
        l->boot_id = 0;
        commit_internal(ctl, FLURM_CMD_NODE_REGISTER, body.data, body.size, register_applied, rc);
        flurm_buf_release(&body);
        return;
    }
    if (l->boot_id == 0 || l->boot_id != req->boot_id) {
        reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED, "register first");
        return;
    }
    if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_POLL) {
        l->cpu_load = req->poll->cpu_load;
        l->free_mem = req->poll->free_mem_mb;
        if (l->parked) {
            nctx_t *old = l->parked;
            l->parked = NULL;
            node_reply_t r = FLURM__NODE__NODE_REPLY__INIT;
            r.poll_wait_ms = poll_wait_ms(c->srv);
            reply(old, &r);
        }
        uint32_t wait = req->poll->wait_ms ? req->poll->wait_ms : POLL_WAIT_MS;
        if (wait > poll_wait_ms(s))
            wait = poll_wait_ms(s);
        l->parked = c;
        l->parked_until = now + wait / 1000.0;
        if (l->ncmds)
            flush_link(l);
        return;
    }
    if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT && req->job_event) {
        Flurm__Node__JobEvent *ev = req->job_event;
        if (ev->event_case == FLURM__NODE__JOB_EVENT__EVENT_ENDED && ev->ended) {
            flurm_cmd_end_t e = end_from_proto(ev->ended, (uint32_t)idx);
            flurm_buf_t body;
            flurm_buf_init(&body);
            flurm_cmd_end_pack(&e, &body);
            commit_internal(ctl, FLURM_CMD_JOB_END, body.data, body.size, end_applied, c);
            flurm_buf_release(&body);
            return;
        }
        reply_ack(c, NULL, 0);   /* started: the start was recorded when it was decided */
        return;
    }
    reply_error(c, FLURM__NODE__ERROR_CODE__ERROR_MALFORMED, "unknown request");
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    struct nodesrv *s = w->data;
    pthread_mutex_lock(&s->lock);
    nctx_t *c = s->inbox;
    s->inbox = NULL;
    pthread_mutex_unlock(&s->lock);
    while (c) {
        nctx_t *next = c->next;
        handle(s, c);
        c = next;
    }
}

void nodesrv_tick(ctl_t *ctl)
{
    struct nodesrv *s = ctl->nodesrv;
    if (!s)
        return;
    double now = ev_now(ctl->loop);
    const flurm_conf_t *conf = ctl->conf;
    bool ready = commit_ready(ctl);
    flurm_buf_t ids;
    flurm_buf_init(&ids);
    uint32_t n = 0;
    flurm_pack32(&ids, 0);
    for (size_t i = 0; i < s->nlinks && i < conf->node_count; i++) {
        node_link_t *l = &s->links[i];
        if (l->parked && now >= l->parked_until)
            flush_link(l);
        if (!ready)
            continue;   /* only the ready leader hears the nodes */
        /* Silent for SlurmdTimeout (or never heard from since we started): not responding. */
        const flurm_node_rt_t *nd = flurm_state_node(ctl->state, i);
        bool already = (nd->state & FLURM_NODE_STATE_NO_RESPOND) &&
                       (nd->state & FLURM_NODE_STATE_BASE) == FLURM_NODE_STATE_DOWN;
        if (!already && conf->slurmd_timeout && now - l->last_seen > conf->slurmd_timeout) {
            flurm_pack32(&ids, (uint32_t)i);
            n++;
            if (l->boot_id)
                flurm_warn("node %s not responding for %us: DOWN", conf->nodes[i].name,
                           (unsigned)conf->slurmd_timeout);
            l->boot_id = 0;
            l->last_seen = now;   /* propose once per timeout period */
        }
    }
    flurm_pack32_at(&ids, 0, n);
    if (n && !ids.err)
        commit_internal(ctl, FLURM_CMD_NODES_NOT_RESPONDING, ids.data, ids.size, NULL, NULL);
    flurm_buf_release(&ids);
}

static void drop_cmds(node_link_t *l)
{
    for (size_t k = 0; k < l->ncmds; k++)
        flurm_buf_release(&l->cmds[k]);
    l->ncmds = 0;
}

void nodesrv_leader_changed(ctl_t *ctl, bool ready)
{
    struct nodesrv *s = ctl->nodesrv;
    if (!s)
        return;
    double now = ev_now(ctl->loop);
    for (size_t i = 0; i < s->nlinks; i++) {
        node_link_t *l = &s->links[i];
        nctx_t *parked = l->parked;
        l->parked = NULL;
        drop_cmds(l);
        l->boot_id = 0;
        if (ready) {
            l->last_seen = now;   /* SlurmdTimeout from now to register with us */
            if (parked)
                reply_error(parked, FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED, "new leader: register again");
        } else if (parked) {
            reply_not_leader(parked);
        }
    }
    if (ready)
        flurm_info("serving node daemons as the leader: every node registers again");
}

uint32_t nodesrv_cpu_load(ctl_t *ctl, size_t node)
{
    struct nodesrv *s = ctl->nodesrv;
    return s && node < s->nlinks && s->links[node].boot_id ? s->links[node].cpu_load : FLURM_NO_VAL;
}

uint64_t nodesrv_free_mem(ctl_t *ctl, size_t node)
{
    struct nodesrv *s = ctl->nodesrv;
    return s && node < s->nlinks && s->links[node].boot_id ? s->links[node].free_mem : FLURM_NO_VAL64;
}

/* ------------------------------------------------------------------ authorization */

/* Who may hold a node channel for NAME: root or SlurmUser (slurmctld's validate_slurm_user),
 * from an address of the node's NodeAddr or NodeHostname. */
static int node_policy(ctl_t *ctl, const char *name, chansrv_policy_t *p, const char **why)
{
    const flurm_conf_t *conf = ctl->conf;
    ssize_t idx = flurm_conf_node_index(conf, name);
    if (idx < 0) {
        *why = "node is not in slurm.conf";
        return FLURM_ENOENT;
    }
    const flurm_conf_node_t *n = &conf->nodes[idx];
    char v[8];
    memset(p, 0, sizeof *p);
    p->id = (uint32_t)idx;
    p->uids[0] = 0;
    p->uids[1] = conf->slurm_user_id;
    snprintf(p->hosts[0], sizeof p->hosts[0], "%s", n->addr ? n->addr : n->name);
    snprintf(p->hosts[1], sizeof p->hosts[1], "%s", n->hostname ? n->hostname : n->name);
    p->check_addr = !(flurm_conf_ctld_param(conf, "flurm_node_addr_check", v, sizeof v) == FLURM_OK &&
                      (strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0));
    return FLURM_OK;
}

/* ------------------------------------------------------------------ start / stop */

int nodesrv_start(ctl_t *ctl)
{
    char p[16];
    unsigned port = flurm_conf_ctld_param(ctl->conf, "flurm_node_port", p, sizeof p) == FLURM_OK
                        ? (unsigned)strtoul(p, NULL, 10) : DEFAULT_NODE_PORT;
    struct nodesrv *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->ctl = ctl;
    pthread_mutex_init(&s->lock, NULL);
    s->nlinks = ctl->conf->node_count;
    s->links = calloc(s->nlinks ? s->nlinks : 1, sizeof *s->links);
    s->nctx = s->nlinks + SPARE_CONTEXTS;
    s->ctxs = calloc(s->nctx, sizeof *s->ctxs);
    const char *host = ctl->bind_addr ? ctl->bind_addr : "0.0.0.0";
    char url[320];
    snprintf(url, sizeof url, strchr(host, ':') ? "tcp://[%s]:%u" : "tcp://%s:%u", host, port);
    int rv = NNG_ENOMEM;
    if (!s->links || !s->ctxs || (rv = nng_rep0_open(&s->sock)) != 0 ||
        (rv = nng_listen(s->sock, url, NULL, 0)) != 0) {
        flurm_error("cannot listen for node daemons at %s: %s", url,
                    s->ctxs && s->links ? nng_strerror(rv) : "out of memory");
        free(s->links);
        free(s->ctxs);
        free(s);
        return -1;
    }
    for (size_t i = 0; i < s->nlinks; i++)
        s->links[i].last_seen = ev_now(ctl->loop);   /* a grace period from our start */
    s->chan = chansrv_new(ctl, s->sock, FLURM_CHAN_NODE, "node", node_policy, send_frame_cb);
    if (!s->chan) {
        flurm_error("cannot set up the node channel: out of memory");
        nng_close(s->sock);
        free(s->links);
        free(s->ctxs);
        free(s);
        return -1;
    }
    ev_async_init(&s->wake, on_wake);
    s->wake.data = s;
    ev_async_start(ctl->loop, &s->wake);
    ctl->nodesrv = s;
    for (size_t i = 0; i < s->nctx; i++) {
        nctx_t *c = &s->ctxs[i];
        c->srv = s;
        if (nng_ctx_open(&c->ctx, s->sock) != 0 || nng_aio_alloc(&c->aio, nctx_cb, c) != 0) {
            flurm_error("cannot set up node context %zu", i);
            break;
        }
        nng_ctx_recv(c->ctx, c->aio);
    }
    flurm_info("listening for node daemons on port %u%s%s", port, ctl->bind_addr ? " at " : "",
               ctl->bind_addr ? ctl->bind_addr : "");
    return 0;
}

void nodesrv_stop(ctl_t *ctl)
{
    struct nodesrv *s = ctl->nodesrv;
    ev_timer_stop(ctl->loop, &ctl->sched_timer);
    if (!s)
        return;
    for (size_t i = 0; i < s->nctx; i++)
        if (s->ctxs[i].aio)
            nng_aio_stop(s->ctxs[i].aio);
    nng_close(s->sock);
    for (size_t i = 0; i < s->nctx; i++) {
        if (s->ctxs[i].aio)
            nng_aio_free(s->ctxs[i].aio);
        release(&s->ctxs[i]);
    }
    for (nctx_t *c = s->inbox; c; c = c->next)
        release(c);
    const chansrv_stats_t *st = chansrv_stats(s->chan);
    flurm_info("node channel: %llu handshake(s), %llu session(s); dropped: %llu unauthenticated, "
               "%llu malformed, %llu bad credential, %llu unauthorized, %llu tampered, %llu replayed",
               (unsigned long long)st->handshakes, (unsigned long long)st->sessions,
               (unsigned long long)st->unauthenticated, (unsigned long long)st->malformed,
               (unsigned long long)st->bad_credential, (unsigned long long)st->unauthorized,
               (unsigned long long)st->bad_tag, (unsigned long long)st->replayed);
    chansrv_free(s->chan);
    for (size_t i = 0; i < s->nlinks; i++) {
        drop_cmds(&s->links[i]);
        free(s->links[i].cmds);
    }
    ev_async_stop(ctl->loop, &s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->links);
    free(s->ctxs);
    free(s);
    ctl->nodesrv = NULL;
}
