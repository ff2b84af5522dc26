/* bin/flurmctld/alloc.c — see alloc.h. */
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flurm/log.h>

#include "commit.h"

/* How long an allocation request waits for its job to start before it is answered "pending". */
#define ALLOC_WAIT_S 1.0
/* A push (connect, send, read srun's RC) that takes longer is abandoned. */
#define PUSH_TIMEOUT_S 5.0

/* A request waiting for its job to start. */
typedef struct waiter {
    ev_timer timer;            /* first member: the callback's pointer */
    ctl_t *ctl;
    rpc_t *r;
    uint32_t job_id;
    struct waiter *next;
} waiter_t;

/* An address of a client: where a pending allocation's grant goes (its alloc_resp_port), or
 * where a revocation goes (its message port). */
typedef struct target {
    uint32_t job_id;
    uid_t uid;
    struct sockaddr_storage addr;   /* the client's address, port = its alloc_resp_port */
    socklen_t addr_len;
    struct target *next;
} target_t;

/* One message on its way to a client. */
typedef struct push {
    pool_task_t task;          /* first member */
    ctl_t *ctl;
    uint32_t job_id;
    uint16_t type;
    uid_t uid;
    flurm_buf_t body, out;     /* the message body; the signed frame */
    int rc;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int fd;
    size_t off;
    ev_io io;
    ev_timer timer;
} push_t;

/* ctl->alloc: what this controller owes the clients of allocations it answered. */
struct alloc {
    waiter_t *waiters;
    target_t *targets;         /* grants to push */
    target_t *clients;         /* message ports of the allocations answered here */
};

/* CTL's lists, made at first use (NULL: out of memory). */
static struct alloc *lists(ctl_t *ctl)
{
    if (!ctl->alloc)
        ctl->alloc = calloc(1, sizeof *ctl->alloc);
    return ctl->alloc;
}

/* A target for JOB_ID's user at R's address with PORT; NULL when there is none to make. */
static target_t *target_new(const rpc_t *r, uint32_t job_id, uid_t uid, uint16_t port)
{
    if (!port || !r->addr_len || (r->addr.ss_family != AF_INET && r->addr.ss_family != AF_INET6))
        return NULL;
    target_t *tg = calloc(1, sizeof *tg);
    if (!tg)
        return NULL;
    tg->job_id = job_id;
    tg->uid = uid;
    memcpy(&tg->addr, &r->addr, r->addr_len);
    tg->addr_len = r->addr_len;
    if (tg->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&tg->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&tg->addr)->sin6_port = htons(port);
    return tg;
}

/* Unlinks and returns JOB_ID's target in *LIST, or NULL. */
static target_t *take(target_t **list, uint32_t job_id)
{
    for (target_t **pp = list; *pp; pp = &(*pp)->next)
        if ((*pp)->job_id == job_id) {
            target_t *tg = *pp;
            *pp = tg->next;
            return tg;
        }
    return NULL;
}

void alloc_grant(ctl_t *ctl, const flurm_job_t *j, flurm_resource_allocation_response_msg_t *m)
{
    const flurm_job_desc_msg_t *d = j->desc;
    memset(m, 0, sizeof *m);
    m->job_id = j->job_id;
    m->account = d ? d->account : NULL;
    m->qos = d ? d->qos : NULL;
    m->partition = j->part_index >= 0 ? ctl->conf->partitions[j->part_index].name : NULL;
    m->ntasks_per_board = d ? d->ntasks_per_board : 0;
    m->ntasks_per_core = d ? d->ntasks_per_core : FLURM_NO_VAL16;
    m->ntasks_per_tres = d ? d->ntasks_per_tres : 0;
    m->ntasks_per_socket = d ? d->ntasks_per_socket : FLURM_NO_VAL16;
    m->select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
    bool running = j->nodes && (j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING;
    if (!running)
        return;   /* pending: no nodes; error_code stays 0 (the client prints any other) */
    m->node_cnt = j->nnodes;
    m->node_list = ctl_node_names(ctl->conf, j->nodes, j->nnodes);
    m->batch_host = j->nodes[0] < ctl->conf->node_count ? strdup(ctl->conf->nodes[j->nodes[0]].name) : NULL;
    /* every node of a job holds the same CPUs: one group */
    m->cpus_per_node = malloc(sizeof *m->cpus_per_node);
    m->cpu_count_reps = malloc(sizeof *m->cpu_count_reps);
    if (m->cpus_per_node && m->cpu_count_reps) {
        m->num_cpu_groups = 1;
        m->cpus_per_node[0] = (uint16_t)j->cpus_per_node;
        m->cpu_count_reps[0] = j->nnodes;
    }
    m->pn_min_memory = d && d->pn_min_memory != FLURM_NO_VAL64 ? j->mem_per_node : 0;
}

void alloc_grant_release(flurm_resource_allocation_response_msg_t *m)
{
    free(m->node_list);
    free(m->batch_host);
    free(m->cpus_per_node);
    free(m->cpu_count_reps);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ answering the request */

static void unlink_waiter(ctl_t *ctl, waiter_t *w)
{
    for (waiter_t **pp = &ctl->alloc->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            return;
        }
}

static void answer(ctl_t *ctl, waiter_t *w, const flurm_job_t *j)
{
    ev_timer_stop(ctl->loop, &w->timer);
    unlink_waiter(ctl, w);
    if (j && (j->job_state & FLURM_JOB_STATE_BASE) >= FLURM_JOB_COMPLETE) {
        rpc_reply_rc(w->r, FLURM_ESLURM_ALREADY_DONE);   /* cancelled before its answer */
    } else if (j) {
        flurm_resource_allocation_response_msg_t m;
        alloc_grant(ctl, j, &m);
        rpc_reply_msg(w->r, FLURM_RESPONSE_RESOURCE_ALLOCATION, &m);
        alloc_grant_release(&m);
    } else {
        rpc_reply_rc(w->r, FLURM_ESLURM_INVALID_JOB_ID);
    }
    server_send_reply(ctl, w->r);
    free(w);
}

/* Not started within ALLOC_WAIT_S: "pending", and the grant follows by push. */
static void on_wait_expired(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    waiter_t *w = (waiter_t *)t;
    ctl_t *ctl = w->ctl;
    const flurm_job_t *j = flurm_state_find_job(ctl->state, w->job_id);
    target_t *tg = j ? target_new(w->r, w->job_id, j->user_id, w->r->alloc_port) : NULL;
    if (tg) {
        tg->next = ctl->alloc->targets;
        ctl->alloc->targets = tg;
    }
    answer(ctl, w, j);
}

void alloc_wait(ctl_t *ctl, rpc_t *r, uint32_t job_id)
{
    struct alloc *a = lists(ctl);
    const flurm_job_t *j = flurm_state_find_job(ctl->state, job_id);
    target_t *cl = a && j ? target_new(r, job_id, j->user_id, r->other_port) : NULL;
    if (cl) {
        cl->next = a->clients;
        a->clients = cl;
    }
    waiter_t *w = a ? calloc(1, sizeof *w) : NULL;
    if (!w) {
        rpc_reply_rc(r, FLURM_ESLURM_INTERNAL);
        server_send_reply(ctl, r);
        return;
    }
    w->ctl = ctl;
    w->r = r;
    w->job_id = job_id;
    w->next = a->waiters;
    a->waiters = w;
    ev_timer_init(&w->timer, on_wait_expired, ALLOC_WAIT_S, 0.);
    ev_timer_start(ctl->loop, &w->timer);
    ctl_schedule(ctl);   /* whether it can start now */
}

/* ------------------------------------------------------------------ pushing the grant */

static void push_free(ctl_t *ctl, push_t *p)
{
    ev_io_stop(ctl->loop, &p->io);
    ev_timer_stop(ctl->loop, &p->timer);
    if (p->fd >= 0)
        close(p->fd);
    flurm_buf_release(&p->body);
    flurm_buf_release(&p->out);
    free(p);
}

static void push_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    push_t *p = t->data;
    flurm_warn("job %u: its client did not take the grant within %.0f s", p->job_id, PUSH_TIMEOUT_S);
    push_free(p->ctl, p);
}

/* Writes the frame, then reads (and drops) the client's RC until it closes. */
static void push_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    push_t *p = w->data;
    if (revents & EV_WRITE) {
        int err = 0;
        socklen_t el = sizeof err;
        if (p->off == 0 && (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)) {
            flurm_warn("job %u: cannot reach its client for the grant: %s", p->job_id, strerror(err ? err : errno));
            push_free(p->ctl, p);
            return;
        }
        ssize_t n = write(p->fd, p->out.data + p->off, p->out.size - p->off);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            flurm_warn("job %u: sending the grant failed: %s", p->job_id, strerror(errno));
            push_free(p->ctl, p);
            return;
        }
        if (n > 0)
            p->off += (size_t)n;
        if (p->off == p->out.size) {
            ev_io_stop(p->ctl->loop, &p->io);
            ev_io_set(&p->io, p->fd, EV_READ);
            ev_io_start(p->ctl->loop, &p->io);
        }
        return;
    }
    char buf[512];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        flurm_verbose("job %u: message %u delivered", p->job_id, p->type);
        push_free(p->ctl, p);
    }
}

static void push_sign(pool_task_t *t)
{
    push_t *p = (push_t *)t;
    char *cred = NULL;
    p->rc = flurm_auth_sign(p->ctl->auth, p->type, p->body.data, p->body.size, p->uid, &cred);
    if (p->rc == FLURM_OK)
        p->rc = flurm_frame_encode(&p->out, FLURM_PROTOCOL_VERSION, 0, p->type, cred, p->body.data, p->body.size);
    free(cred);
}

static void push_connect(pool_task_t *t)
{
    push_t *p = (push_t *)t;
    ctl_t *ctl = p->ctl;
    if (p->rc != FLURM_OK) {
        flurm_error("job %u: cannot sign its grant: %s", p->job_id, flurm_strerror(p->rc));
        push_free(ctl, p);
        return;
    }
    p->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0 || (connect(p->fd, (struct sockaddr *)&p->addr, p->addr_len) < 0 && errno != EINPROGRESS)) {
        flurm_warn("job %u: cannot reach its client for the grant: %s", p->job_id, strerror(errno));
        push_free(ctl, p);
        return;
    }
    ev_io_init(&p->io, push_io, p->fd, EV_WRITE);
    p->io.data = p;
    ev_io_start(ctl->loop, &p->io);
    ev_timer_init(&p->timer, push_timeout, PUSH_TIMEOUT_S, 0.);
    p->timer.data = p;
    ev_timer_start(ctl->loop, &p->timer);
}

/* Sends message TYPE with body MSG to TG (signed for its user), on its own connection. */
static void push(ctl_t *ctl, const target_t *tg, uint16_t type, const void *msg)
{
    push_t *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->ctl = ctl;
    p->job_id = tg->job_id;
    p->type = type;
    p->uid = tg->uid;
    p->fd = -1;
    memcpy(&p->addr, &tg->addr, tg->addr_len);
    p->addr_len = tg->addr_len;
    flurm_buf_init(&p->body);
    flurm_buf_init(&p->out);
    flurm_msg_pack(type, msg, &p->body);
    p->task.run = push_sign;
    p->task.done = push_connect;
    pool_submit(ctl->workers, &p->task);
}

void alloc_started(ctl_t *ctl, const flurm_job_t *j)
{
    struct alloc *a = ctl->alloc;
    if (!a)
        return;   /* no client waits here (another leader answered it) */
    for (waiter_t *w = a->waiters; w; w = w->next)
        if (w->job_id == j->job_id) {
            answer(ctl, w, j);
            return;
        }
    target_t *tg = take(&a->targets, j->job_id);
    if (tg) {
        flurm_info("job %u: allocated %u node(s), telling its client", j->job_id, j->nnodes);
        flurm_resource_allocation_response_msg_t m;
        alloc_grant(ctl, j, &m);
        push(ctl, tg, FLURM_RESPONSE_RESOURCE_ALLOCATION, &m);
        alloc_grant_release(&m);
        free(tg);
    }
}

void alloc_revoked(ctl_t *ctl, const flurm_job_t *j)
{
    struct alloc *a = ctl->alloc;
    if (!a)
        return;
    for (waiter_t *w = a->waiters; w; w = w->next)
        if (w->job_id == j->job_id) {
            answer(ctl, w, j);   /* still in its first second: "pending" */
            break;
        }
    /* its message port hears it (srun_job_complete), and a client still waiting for its grant
     * also on its alloc_resp_port (srun_allocate_abort), where it listens meanwhile */
    target_t *pending = take(&a->targets, j->job_id), *cl = take(&a->clients, j->job_id);
    flurm_step_id_t done = { .job_id = j->job_id, .step_id = FLURM_NO_VAL, .step_het_comp = FLURM_NO_VAL };
    if (pending || cl)
        flurm_info("job %u: allocation revoked, telling its client", j->job_id);
    if (pending)
        push(ctl, pending, FLURM_SRUN_JOB_COMPLETE, &done);
    if (cl)
        push(ctl, cl, FLURM_SRUN_JOB_COMPLETE, &done);
    free(pending);
    free(cl);
}

/* ------------------------------------------------------------------ time limits, stop */

void alloc_tick(ctl_t *ctl)
{
    time_t now = (time_t)ev_now(ctl->loop);
    /* the message ports of allocations that ended otherwise (their clients completed them) */
    for (target_t **pp = ctl->alloc ? &ctl->alloc->clients : NULL; pp && *pp;) {
        const flurm_job_t *j = flurm_state_find_job(ctl->state, (*pp)->job_id);
        if (j && (j->job_state & FLURM_JOB_STATE_BASE) < FLURM_JOB_COMPLETE) {
            pp = &(*pp)->next;
            continue;
        }
        target_t *gone = *pp;
        *pp = gone->next;
        free(gone);
    }
    for (size_t i = 0; i < flurm_state_job_slots(ctl->state); i++) {
        const flurm_job_t *j = flurm_state_job_at(ctl->state, i);
        if (!j || flurm_job_is_batch(j) || !j->nodes || (j->job_state & FLURM_JOB_STATE_BASE) != FLURM_JOB_RUNNING ||
            !j->end_time || j->end_time > now)
            continue;
        flurm_cmd_end_t e = { .job_id = j->job_id, .node = j->nodes[0], .state = FLURM_END_TIMEOUT, .end_time = now };
        flurm_buf_t body;
        flurm_buf_init(&body);
        if (flurm_cmd_end_pack(&e, &body) == FLURM_OK) {
            flurm_info("job %u: time limit reached, allocation revoked", j->job_id);
            commit_internal(ctl, FLURM_CMD_JOB_END, body.data, body.size, NULL, NULL);
        }
        flurm_buf_release(&body);
    }
}

static void free_targets(target_t *tg)
{
    while (tg) {
        target_t *next = tg->next;
        free(tg);
        tg = next;
    }
}

void alloc_stop(ctl_t *ctl)
{
    struct alloc *a = ctl->alloc;
    if (!a)
        return;
    while (a->waiters) {   /* their connections close with the process */
        waiter_t *w = a->waiters;
        a->waiters = w->next;
        ev_timer_stop(ctl->loop, &w->timer);
        free(w);
    }
    free_targets(a->targets);
    free_targets(a->clients);
    free(a);
    ctl->alloc = NULL;
}
