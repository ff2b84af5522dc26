/* tests/integration/fake_ctld.c — a scriptable stand-in for flurmctld's node side, for the
 * flurmnd integration test (test_flurmnd.py). Not installed.
 *
 *   fake_ctld [-u URL] [-V VERSION] [-m MUNGE_SOCKET] [-n NAME] [-F LEADER]
 *       URL default tcp://127.0.0.1:0, VERSION default 1, NAME (the SlurmctldHost it speaks
 *       for in its WELCOME) default localhost; -F: start as a Raft follower naming LEADER
 *       ("" = none), as the `follower` command
 *
 * Serves proto/node.proto on an nng REP socket (8 contexts, so several nodes can each keep a
 * Poll waiting while their events are answered), inside the authenticated channel
 * (include/flurm/chan.h) like flurmctld, with munged at MUNGE_SOCKET; it accepts every HELLO
 * (it authorizes nobody: flurmnd's side of the checks is what is under test). First stdout
 * line: "LISTENING port=N". Then one line per request worth seeing (values with blanks or '%'
 * are percent-encoded):
 *   HELLO node=N uid=U                   (a channel was set up)
 *   REGISTER node=N boot=HEX cpus= boards= sockets= cores= threads= mem= tmp= gres= features=
 *            hostname= arch= version= running=ID,ID ended=ID,ID
 *   ENDED node=N job= state=COMPLETED|FAILED|CANCELLED|TIMEOUT status= rss= start= end= reason= via=register|event
 *   STARTED node=N job= pid= start=
 *   NOTREG node=N kind=poll|event        (answered ERROR_NOT_REGISTERED)
 *   NOTLEADER node=N kind=register|poll|event   (answered ERROR_NOT_LEADER, as a follower)
 *   BADVERSION node=N version=V
 * Commands on stdin, one per line, "verb key=value ..." with percent-encoded values:
 *   launch node= job= [uid= gid= user= script= workdir= out= err= in= name= partition= nodelist=
 *          time=MIN killwait=S arg=A (repeatable) env=K=V (repeatable) arrayjob= arraytask=
 *          append=0|1 ntasks= cpus= cluster= submitdir= submithost= mem= start=]
 *   kill node= job= [wait=S]
 *   signal node= job= sig=N
 *   unknown node= job=        the next Register reply from the node lists JOB in Ack.unknown_jobs
 *   notreg node=              forget the node's registration (as a restarted controller would)
 *   pollwait ms=N             poll_wait_ms handed to the nodes (default 500)
 *   follower [leader=NAME]    answer every request ERROR_NOT_LEADER naming NAME (default none),
 *                             held polls at once; registrations are forgotten (a new leader's are
 *                             its own)
 *   lead                      serve again (nodes must register)
 *   quit
 * A node is registered by its last Register's boot_id; a Poll or JobEvent with another boot_id
 * (or none) gets ERROR_NOT_REGISTERED, like a controller that restarted. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <flurm/chan.h>

#include "node.pb-c.h"

#define WORKERS 8
#define MAX_NODES 16
#define MAX_CMDS 64

typedef struct fnode {
    char name[64];
    uint64_t boot_id;
    bool registered;
    Flurm__Node__Command *cmds[MAX_CMDS];
    size_t ncmds;
    uint32_t unknown[MAX_CMDS];
    size_t nunknown;
} fnode_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static fnode_t g_nodes[MAX_NODES];
static size_t g_nnodes;
static uint32_t g_poll_wait = 500;
static uint32_t g_version = 1;
static nng_socket g_sock;
static flurm_auth_t *g_auth;
static const char *g_name = "localhost";
static bool g_follower;            /* under g_mu */
static char g_leader[64];          /* under g_mu */

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Channels by pipe; g_chan_mu guards the table and every seal/open. */
#define MAX_CHANS 64
static struct { uint32_t pipe; flurm_chan_t *chan; } g_chans[MAX_CHANS];
static pthread_mutex_t g_chan_mu = PTHREAD_MUTEX_INITIALIZER;

static flurm_chan_t *chan_of(uint32_t pipe)
{
    for (int i = 0; i < MAX_CHANS; i++)
        if (g_chans[i].chan && g_chans[i].pipe == pipe)
            return g_chans[i].chan;
    return NULL;
}

static void chan_put(uint32_t pipe, flurm_chan_t *c)
{
    int slot = -1;
    for (int i = 0; i < MAX_CHANS; i++) {
        if (g_chans[i].chan && g_chans[i].pipe == pipe) {
            flurm_chan_free(g_chans[i].chan);
            g_chans[i].chan = NULL;
        }
        if (!g_chans[i].chan && slot < 0)
            slot = i;
    }
    if (slot < 0) {   /* full: recycle the first */
        flurm_chan_free(g_chans[0].chan);
        slot = 0;
    }
    g_chans[slot].pipe = pipe;
    g_chans[slot].chan = c;
}

/* Sends FRAME on CTX through AIO and waits. */
static void send_frame(nng_ctx ctx, nng_aio *aio, const flurm_buf_t *frame)
{
    nng_msg *r;
    if (nng_msg_alloc(&r, frame->size) != 0)
        return;
    memcpy(nng_msg_body(r), frame->data, frame->size);
    nng_aio_set_msg(aio, r);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(r);
}

/* A non-DATA frame: the handshake, or a refusal. true if it was answered here. */
static bool answer_channel(nng_ctx ctx, nng_aio *aio, nng_msg *m)
{
    const void *body = nng_msg_body(m);
    size_t len = nng_msg_len(m);
    uint32_t pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(m));
    flurm_chan_frame_t type = flurm_chan_frame_type(body, len);
    flurm_buf_t frame;
    flurm_buf_init(&frame);
    if (type == FLURM_CHAN_FRAME_HELLO) {
        flurm_chan_peer_t peer;
        flurm_chan_t *c = NULL;
        const char *why = NULL;
        if (flurm_chan_accept(g_auth, FLURM_CHAN_NODE, g_name, body, len, NULL, NULL, &peer, &c, &frame, &why) == FLURM_OK) {
            pthread_mutex_lock(&g_chan_mu);
            chan_put(pipe, c);
            pthread_mutex_unlock(&g_chan_mu);
            out("HELLO node=%s uid=%u", peer.name, (unsigned)peer.uid);
        } else {
            out("BADHELLO why=%s", why ? why : "?");
            flurm_chan_refuse(FLURM_CHAN_REFUSE_CREDENTIAL, why, &frame);
        }
    } else if (type == FLURM_CHAN_FRAME_DATA) {
        pthread_mutex_lock(&g_chan_mu);
        bool known = chan_of(pipe) != NULL;
        pthread_mutex_unlock(&g_chan_mu);
        if (known)
            return false;
        flurm_chan_refuse(FLURM_CHAN_REFUSE_UNAUTHENTICATED, "no session", &frame);
    } else {
        flurm_chan_refuse(FLURM_CHAN_REFUSE_MALFORMED, "not a channel frame", &frame);
    }
    send_frame(ctx, aio, &frame);
    flurm_buf_release(&frame);
    return true;
}

/* Caller holds g_mu. */
static fnode_t *node_get(const char *name)
{
    for (size_t i = 0; i < g_nnodes; i++)
        if (!strcmp(g_nodes[i].name, name))
            return &g_nodes[i];
    if (g_nnodes == MAX_NODES)
        return NULL;
    fnode_t *n = &g_nodes[g_nnodes++];
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    return n;
}

/* Percent-encode S (blanks, '%', control characters) into a static-per-call buffer. */
static const char *enc(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (; s && *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '%' || c >= 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "%%%02X", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

static void dec(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '%' && p[1] && p[2]) {
            char hex[3] = { p[1], p[2], 0 };
            *o++ = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&mu);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&mu);
    va_end(ap);
}

static const char *state_name(Flurm__Node__JobEndState s)
{
    switch (s) {
    case FLURM__NODE__JOB_END_STATE__JOB_END_COMPLETED: return "COMPLETED";
    case FLURM__NODE__JOB_END_STATE__JOB_END_FAILED: return "FAILED";
    case FLURM__NODE__JOB_END_STATE__JOB_END_CANCELLED: return "CANCELLED";
    case FLURM__NODE__JOB_END_STATE__JOB_END_TIMEOUT: return "TIMEOUT";
    default: return "UNSPECIFIED";
    }
}

static void print_end(const char *node, const Flurm__Node__JobEnd *e, const char *via)
{
    char r[1024];
    out("ENDED node=%s job=%u state=%s status=%d rss=%" PRIu64 " start=%" PRId64 " end=%" PRId64
        " reason=%s via=%s",
        node, e->job_id, state_name(e->state), e->wait_status, e->max_rss_kb, e->start_time, e->end_time,
        enc(e->reason, r, sizeof r), via);
}

static void handle_register(const Flurm__Node__NodeRequest *req, Flurm__Node__NodeReply *rep,
                            Flurm__Node__Ack *ack, uint32_t *unknown)
{
    const Flurm__Node__Register *r = req->register_;
    char running[2048] = "", ended[2048] = "", g[512], f[512], h[512], a[512], v[512];
    size_t o = 0;
    for (size_t i = 0; i < r->n_running && o < sizeof running - 16; i++)
        o += (size_t)snprintf(running + o, sizeof running - o, "%s%u", i ? "," : "", r->running[i]->job_id);
    o = 0;
    for (size_t i = 0; i < r->n_ended && o < sizeof ended - 16; i++)
        o += (size_t)snprintf(ended + o, sizeof ended - o, "%s%u", i ? "," : "", r->ended[i]->job_id);
    out("REGISTER node=%s boot=%016" PRIx64 " cpus=%u boards=%u sockets=%u cores=%u threads=%u mem=%" PRIu64
        " tmp=%u gres=%s features=%s hostname=%s arch=%s version=%s running=%s ended=%s",
        req->node_name, req->boot_id, r->cpus, r->boards, r->sockets, r->cores_per_socket, r->threads_per_core,
        r->real_memory_mb, r->tmp_disk_mb, enc(r->gres, g, sizeof g), enc(r->features, f, sizeof f),
        enc(r->hostname, h, sizeof h), enc(r->arch, a, sizeof a), enc(r->version, v, sizeof v), running, ended);
    for (size_t i = 0; i < r->n_ended; i++)
        print_end(req->node_name, r->ended[i], "register");
    pthread_mutex_lock(&g_mu);
    fnode_t *n = node_get(req->node_name);
    if (n) {
        n->boot_id = req->boot_id;
        n->registered = true;
        memcpy(unknown, n->unknown, n->nunknown * sizeof *unknown);
        ack->n_unknown_jobs = n->nunknown;
        ack->unknown_jobs = unknown;
        n->nunknown = 0;
    }
    pthread_mutex_unlock(&g_mu);
    rep->ack = ack;
}

/* True (LEADER = the leader's name) while we act as a follower. */
static bool is_follower(char leader[64])
{
    pthread_mutex_lock(&g_mu);
    bool f = g_follower;
    snprintf(leader, 64, "%s", g_leader);
    pthread_mutex_unlock(&g_mu);
    return f;
}

static void set_follower(bool follower, const char *leader)
{
    pthread_mutex_lock(&g_mu);
    g_follower = follower;
    snprintf(g_leader, sizeof g_leader, "%s", leader);
    for (size_t i = 0; i < g_nnodes; i++)
        g_nodes[i].registered = false;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/* Caller holds g_mu. */
static bool is_registered(const Flurm__Node__NodeRequest *req)
{
    fnode_t *n = node_get(req->node_name);
    return n && n->registered && n->boot_id == req->boot_id;
}

static void *worker(void *arg)
{
    (void)arg;
    nng_ctx ctx;
    nng_aio *aio;
    if (nng_ctx_open(&ctx, g_sock) != 0 || nng_aio_alloc(&aio, NULL, NULL) != 0)
        return NULL;
    for (;;) {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0)
            break;
        nng_msg *m = nng_aio_get_msg(aio);
        if (answer_channel(ctx, aio, m)) {
            nng_msg_free(m);
            continue;
        }
        uint32_t pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(m));
        flurm_buf_t plain;
        flurm_buf_init(&plain);
        pthread_mutex_lock(&g_chan_mu);
        flurm_chan_t *chan = chan_of(pipe);
        int orc = chan ? flurm_chan_open(chan, nng_msg_body(m), nng_msg_len(m), &plain, NULL) : FLURM_ENOENT;
        pthread_mutex_unlock(&g_chan_mu);
        nng_msg_free(m);
        if (orc != FLURM_OK) {
            out("DROPPED");
            flurm_buf_release(&plain);
            continue;
        }
        Flurm__Node__NodeRequest *req = flurm__node__node_request__unpack(NULL, plain.size, plain.data);
        flurm_buf_release(&plain);
        Flurm__Node__NodeReply rep = FLURM__NODE__NODE_REPLY__INIT;
        Flurm__Node__Ack ack = FLURM__NODE__ACK__INIT;
        uint32_t unknown[MAX_CMDS];
        Flurm__Node__Command *cmds[MAX_CMDS];
        size_t ncmds = 0;
        char errtext[128] = "", leader[64];
        rep.version = g_version;
        if (!req) {
            rep.error = FLURM__NODE__ERROR_CODE__ERROR_MALFORMED;
        } else if (req->version != g_version) {
            out("BADVERSION node=%s version=%u", req->node_name, req->version);
            rep.error = FLURM__NODE__ERROR_CODE__ERROR_VERSION;
            snprintf(errtext, sizeof errtext, "controller speaks %u, node %u", g_version, req->version);
            rep.error_text = errtext;
        } else if (is_follower(leader)) {
            out("NOTLEADER node=%s kind=%s", req->node_name,
                req->body_case == FLURM__NODE__NODE_REQUEST__BODY_REGISTER ? "register"
                : req->body_case == FLURM__NODE__NODE_REQUEST__BODY_POLL   ? "poll"
                                                                          : "event");
            rep.error = FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER;
            rep.leader = leader;
        } else if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_REGISTER) {
            handle_register(req, &rep, &ack, unknown);
        } else if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_POLL) {
            pthread_mutex_lock(&g_mu);
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            uint32_t wait = req->poll->wait_ms;
            deadline.tv_sec += wait / 1000;
            deadline.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            fnode_t *n = node_get(req->node_name);
            while (n && is_registered(req) && n->ncmds == 0 && !g_follower &&
                   pthread_cond_timedwait(&g_cv, &g_mu, &deadline) != ETIMEDOUT)
                ;
            if (g_follower) {
                rep.error = FLURM__NODE__ERROR_CODE__ERROR_NOT_LEADER;
                snprintf(leader, sizeof leader, "%s", g_leader);
                rep.leader = leader;
                pthread_mutex_unlock(&g_mu);
                out("NOTLEADER node=%s kind=poll", req->node_name);
            } else if (!is_registered(req)) {
                rep.error = FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED;
                pthread_mutex_unlock(&g_mu);
                out("NOTREG node=%s kind=poll", req->node_name);
            } else {
                ncmds = n->ncmds;
                memcpy(cmds, n->cmds, ncmds * sizeof *cmds);
                n->ncmds = 0;
                pthread_mutex_unlock(&g_mu);
                rep.n_commands = ncmds;
                rep.commands = cmds;
                rep.poll_wait_ms = g_poll_wait;
            }
        } else if (req->body_case == FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT) {
            pthread_mutex_lock(&g_mu);
            bool reg = is_registered(req);
            pthread_mutex_unlock(&g_mu);
            const Flurm__Node__JobEvent *ev = req->job_event;
            if (!reg) {
                rep.error = FLURM__NODE__ERROR_CODE__ERROR_NOT_REGISTERED;
                out("NOTREG node=%s kind=event", req->node_name);
            } else if (ev->event_case == FLURM__NODE__JOB_EVENT__EVENT_STARTED) {
                out("STARTED node=%s job=%u pid=%u start=%" PRId64, req->node_name, ev->started->job_id,
                    ev->started->pid, ev->started->start_time);
                rep.ack = &ack;
            } else if (ev->event_case == FLURM__NODE__JOB_EVENT__EVENT_ENDED) {
                print_end(req->node_name, ev->ended, "event");
                rep.ack = &ack;
            } else {
                rep.error = FLURM__NODE__ERROR_CODE__ERROR_MALFORMED;
            }
        } else {
            rep.error = FLURM__NODE__ERROR_CODE__ERROR_MALFORMED;
        }
        size_t len = flurm__node__node_reply__get_packed_size(&rep);
        flurm_buf_t packed, sealed;
        flurm_buf_init(&packed);
        flurm_buf_init(&sealed);
        if (flurm_buf_reserve(&packed, len) == FLURM_OK) {
            flurm__node__node_reply__pack(&rep, packed.data);
            packed.size = len;
            pthread_mutex_lock(&g_chan_mu);
            chan = chan_of(pipe);
            int src = chan ? flurm_chan_seal(chan, packed.data, packed.size, &sealed) : FLURM_ENOENT;
            pthread_mutex_unlock(&g_chan_mu);
            if (src == FLURM_OK)
                send_frame(ctx, aio, &sealed);
        }
        flurm_buf_release(&packed);
        flurm_buf_release(&sealed);
        for (size_t i = 0; i < ncmds; i++)
            protobuf_c_message_free_unpacked(&cmds[i]->base, NULL);
        if (req)
            flurm__node__node_request__free_unpacked(req, NULL);
    }
    nng_aio_free(aio);
    return NULL;
}

/* ------------------------------------------------------------------ stdin commands */

typedef struct kv {
    char *k[64], *v[64];
    int n;
} kv_t;

static const char *kv_str(const kv_t *kv, const char *k, const char *def)
{
    for (int i = 0; i < kv->n; i++)
        if (!strcmp(kv->k[i], k))
            return kv->v[i];
    return def;
}

static uint32_t kv_u32(const kv_t *kv, const char *k, uint32_t def)
{
    const char *s = kv_str(kv, k, NULL);
    return s ? (uint32_t)strtoul(s, NULL, 0) : def;
}

static char *dupstr(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

/* A heap Command tree, freed with protobuf_c_message_free_unpacked (default allocator). */
static Flurm__Node__Command *make_launch(const kv_t *kv)
{
    Flurm__Node__Command *c = calloc(1, sizeof *c);
    Flurm__Node__LaunchJob *l = calloc(1, sizeof *l);
    flurm__node__command__init(c);
    flurm__node__launch_job__init(l);
    c->cmd_case = FLURM__NODE__COMMAND__CMD_LAUNCH;
    c->launch = l;
    l->job_id = kv_u32(kv, "job", 0);
    l->uid = kv_u32(kv, "uid", 0);
    l->gid = kv_u32(kv, "gid", 0);
    l->user_name = dupstr(kv_str(kv, "user", "root"));
    l->script = dupstr(kv_str(kv, "script", "#!/bin/sh\ntrue\n"));
    l->work_dir = dupstr(kv_str(kv, "workdir", "/tmp"));
    l->std_out = dupstr(kv_str(kv, "out", ""));
    l->std_err = dupstr(kv_str(kv, "err", ""));
    l->std_in = dupstr(kv_str(kv, "in", ""));
    l->job_name = dupstr(kv_str(kv, "name", "job"));
    l->partition = dupstr(kv_str(kv, "partition", "debug"));
    l->nodelist = dupstr(kv_str(kv, "nodelist", kv_str(kv, "node", "")));
    l->cluster_name = dupstr(kv_str(kv, "cluster", "test"));
    l->submit_dir = dupstr(kv_str(kv, "submitdir", kv_str(kv, "workdir", "/tmp")));
    l->submit_host = dupstr(kv_str(kv, "submithost", "submithost"));
    l->num_nodes = kv_u32(kv, "nnodes", 1);
    l->ntasks = kv_u32(kv, "ntasks", 1);
    l->cpus_on_node = kv_u32(kv, "cpus", 1);
    l->array_job_id = kv_u32(kv, "arrayjob", 0);
    l->array_task_id = kv_u32(kv, "arraytask", 0xFFFFFFFEu);
    l->time_limit_min = kv_u32(kv, "time", 0xFFFFFFFFu);
    l->kill_wait_s = kv_u32(kv, "killwait", 2);
    l->mem_mb = kv_u32(kv, "mem", 0);
    l->open_append = kv_u32(kv, "append", 0) != 0;
    l->start_time = (int64_t)kv_u32(kv, "start", (uint32_t)time(NULL));
    int na = 0, ne = 0;
    for (int i = 0; i < kv->n; i++) {
        na += !strcmp(kv->k[i], "arg");
        ne += !strcmp(kv->k[i], "env");
    }
    l->argv = calloc((size_t)na + 1, sizeof *l->argv);
    l->env = calloc((size_t)ne + 1, sizeof *l->env);
    for (int i = 0; i < kv->n; i++) {
        if (!strcmp(kv->k[i], "arg"))
            l->argv[l->n_argv++] = dupstr(kv->v[i]);
        else if (!strcmp(kv->k[i], "env"))
            l->env[l->n_env++] = dupstr(kv->v[i]);
    }
    return c;
}

static void enqueue(const char *node, Flurm__Node__Command *c)
{
    pthread_mutex_lock(&g_mu);
    fnode_t *n = node_get(node);
    if (n && n->ncmds < MAX_CMDS) {
        n->cmds[n->ncmds++] = c;
        c = NULL;
    }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    if (c) {
        fprintf(stderr, "fake_ctld: command queue full for %s\n", node);
        protobuf_c_message_free_unpacked(&c->base, NULL);
    }
}

static void command(char *line)
{
    kv_t kv = { .n = 0 };
    char *save = NULL, *verb = strtok_r(line, " \t\r\n", &save);
    if (!verb)
        return;
    for (char *t; (t = strtok_r(NULL, " \t\r\n", &save)) && kv.n < 64;) {
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = '\0';
        kv.k[kv.n] = t;
        kv.v[kv.n] = eq + 1;
        dec(kv.v[kv.n]);
        kv.n++;
    }
    const char *node = kv_str(&kv, "node", "");
    if (!strcmp(verb, "launch")) {
        enqueue(node, make_launch(&kv));
    } else if (!strcmp(verb, "kill")) {
        Flurm__Node__Command *c = calloc(1, sizeof *c);
        Flurm__Node__KillJob *k = calloc(1, sizeof *k);
        flurm__node__command__init(c);
        flurm__node__kill_job__init(k);
        k->job_id = kv_u32(&kv, "job", 0);
        k->kill_wait_s = kv_u32(&kv, "wait", 2);
        c->cmd_case = FLURM__NODE__COMMAND__CMD_KILL;
        c->kill = k;
        enqueue(node, c);
    } else if (!strcmp(verb, "signal")) {
        Flurm__Node__Command *c = calloc(1, sizeof *c);
        Flurm__Node__SignalJob *s = calloc(1, sizeof *s);
        flurm__node__command__init(c);
        flurm__node__signal_job__init(s);
        s->job_id = kv_u32(&kv, "job", 0);
        s->signal = (int32_t)kv_u32(&kv, "sig", 15);
        c->cmd_case = FLURM__NODE__COMMAND__CMD_SIGNAL;
        c->signal = s;
        enqueue(node, c);
    } else if (!strcmp(verb, "unknown")) {
        pthread_mutex_lock(&g_mu);
        fnode_t *n = node_get(node);
        if (n && n->nunknown < MAX_CMDS)
            n->unknown[n->nunknown++] = kv_u32(&kv, "job", 0);
        pthread_mutex_unlock(&g_mu);
    } else if (!strcmp(verb, "notreg")) {
        pthread_mutex_lock(&g_mu);
        fnode_t *n = node_get(node);
        if (n)
            n->registered = false;
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
    } else if (!strcmp(verb, "follower")) {
        set_follower(true, kv_str(&kv, "leader", ""));
    } else if (!strcmp(verb, "lead")) {
        set_follower(false, "");
    } else if (!strcmp(verb, "pollwait")) {
        g_poll_wait = kv_u32(&kv, "ms", 500);
    } else if (!strcmp(verb, "quit")) {
        nng_close(g_sock);
        exit(0);
    } else {
        fprintf(stderr, "fake_ctld: unknown command '%s'\n", verb);
    }
}

int main(int argc, char **argv)
{
    const char *url = "tcp://127.0.0.1:0";
    int opt;
    const char *munge_socket = NULL;
    while ((opt = getopt(argc, argv, "u:V:m:n:F:")) != -1) {
        if (opt == 'F')
            set_follower(true, optarg);
        else if (opt == 'u')
            url = optarg;
        else if (opt == 'm')
            munge_socket = optarg;
        else if (opt == 'n')
            g_name = optarg;
        else if (opt == 'V')
            g_version = (uint32_t)strtoul(optarg, NULL, 0);
        else
            return 2;
    }
    g_auth = flurm_auth_new(munge_socket, 0);
    nng_listener l;
    int rv = g_auth ? nng_rep0_open(&g_sock) : NNG_ENOMEM;
    if (rv == 0)
        rv = nng_listen(g_sock, url, &l, 0);
    if (rv != 0) {
        fprintf(stderr, "fake_ctld: cannot listen on %s: %s\n", url, nng_strerror(rv));
        return 1;
    }
    int port = 0;
    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    out("LISTENING port=%d", port);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    char line[65536];
    while (fgets(line, sizeof line, stdin))
        command(line);
    nng_close(g_sock);
    return 0;
}
