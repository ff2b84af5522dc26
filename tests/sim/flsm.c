/* tests/sim/flsm.c — see flsm.h. */
#include "flsm.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/buf.h>
#include <flurm/msg.h>

#include "state/state.h"

/* Four 2-CPU nodes; "long" has the last two. Finished jobs are purged by the leader. */
static const char CONF_TEXT[] =
    "ClusterName=sim\n"
    "SlurmctldHost=ctl1\n"
    "SlurmctldHost=ctl2\n"
    "SlurmctldHost=ctl3\n"
    "SlurmUser=root\n"
    "MinJobAge=3\n"
    "NodeName=n[1-4] CPUs=2 RealMemory=1000\n"
    "PartitionName=debug Nodes=n[1-4] Default=YES MaxTime=1-00:00:00\n"
    "PartitionName=long Nodes=n[3-4] MaxTime=2-00:00:00\n";

#define N_NODES 4
#define UID_ALICE 1000u
#define UID_BOB 1001u
#define MAX_CMDS 8

static flurm_conf_t *g_conf;

const flurm_conf_t *flsm_conf(void)
{
    if (!g_conf) {
        char *err = NULL;
        if (flurm_conf_parse_string(CONF_TEXT, "sim.conf", &g_conf, &err) != FLURM_OK) {
            fprintf(stderr, "sim: conf: %s\n", err ? err : "?");
            free(err);
            abort();
        }
    }
    return g_conf;
}

void flsm_conf_free(void)
{
    flurm_conf_free(g_conf);
    g_conf = NULL;
}

static uint64_t r64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t below(uint64_t *s, uint32_t n) { return (uint32_t)(r64(s) % n); }

/* ---- commands ---- */

typedef struct batch {
    flurm_buf_t cmds[MAX_CMDS];
    uint16_t kinds[MAX_CMDS];
    uint32_t reserved[MAX_CMDS];
    size_t n;
} batch_t;

static flurm_buf_t *push(batch_t *b, uint16_t kind, uint32_t reserved)
{
    flurm_buf_t *c = &b->cmds[b->n];
    flurm_buf_init(c);
    b->kinds[b->n] = kind;
    b->reserved[b->n] = reserved;
    b->n++;
    return c;
}

/* A client message of KIND as body. */
static void cmd_msg(batch_t *b, uint16_t kind, time_t now, uint32_t uid, uint32_t job_id, const void *msg)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    flurm_msg_pack(kind, msg, &body);
    flurm_buf_t *c = push(b, kind, job_id);
    if (body.err || flurm_cmd_build(c, kind, now, uid, uid, job_id, "login1", body.data, body.size)) {
        fprintf(stderr, "sim: cannot build command 0x%x\n", kind);
        abort();
    }
    flurm_buf_release(&body);
}

/* An internal command (the daemon proposes them as SlurmUser, no host). */
static void cmd_body(batch_t *b, uint16_t kind, time_t now, const flurm_buf_t *body)
{
    flurm_buf_t *c = push(b, kind, 0);
    if (body->err || flurm_cmd_build(c, kind, now, 0, 0, 0, NULL, body->data, body->size)) {
        fprintf(stderr, "sim: cannot build command 0x%x\n", kind);
        abort();
    }
}

/* slurm_init_job_desc_msg()'s defaults, then what sbatch sends for a plain script. */
static void batch_desc(flurm_job_desc_msg_t *d, uint32_t uid)
{
    static char env_path[] = "PATH=/usr/bin:/bin";
    static char *env_vec[] = { env_path };
    static char script[] = "#!/bin/sh\nsleep 1\n";
    memset(d, 0, sizeof *d);
    d->alloc_sid = FLURM_NO_VAL;
    d->contiguous = FLURM_NO_VAL16;
    d->core_spec = FLURM_NO_VAL16;
    d->cores_per_socket = FLURM_NO_VAL16;
    d->cpu_bind_type = FLURM_NO_VAL16;
    d->cpu_freq_min = FLURM_NO_VAL;
    d->cpu_freq_max = FLURM_NO_VAL;
    d->cpu_freq_gov = FLURM_NO_VAL;
    d->cpus_per_task = FLURM_NO_VAL16;
    d->delay_boot = FLURM_NO_VAL;
    d->group_id = FLURM_NO_VAL;
    d->job_id = FLURM_NO_VAL;
    d->kill_on_node_fail = FLURM_NO_VAL16;
    d->max_cpus = FLURM_NO_VAL;
    d->max_nodes = FLURM_NO_VAL;
    d->mem_bind_type = FLURM_NO_VAL16;
    d->mail_type = FLURM_NO_VAL16;
    d->min_cpus = FLURM_NO_VAL;
    d->min_nodes = FLURM_NO_VAL;
    d->nice = FLURM_NO_VAL;
    d->ntasks_per_core = FLURM_NO_VAL16;
    d->ntasks_per_tres = FLURM_NO_VAL16;
    d->ntasks_per_node = FLURM_NO_VAL16;
    d->ntasks_per_socket = FLURM_NO_VAL16;
    d->num_tasks = FLURM_NO_VAL;
    d->overcommit = FLURM_NO_VAL8;
    d->plane_size = FLURM_NO_VAL16;
    d->pn_min_cpus = FLURM_NO_VAL16;
    d->pn_min_memory = FLURM_NO_VAL64;
    d->pn_min_tmp_disk = FLURM_NO_VAL;
    d->priority = FLURM_NO_VAL;
    d->reboot = FLURM_NO_VAL16;
    d->requeue = FLURM_NO_VAL16;
    d->req_switch = FLURM_NO_VAL;
    d->shared = FLURM_NO_VAL16;
    d->site_factor = FLURM_NO_VAL;
    d->sockets_per_node = FLURM_NO_VAL16;
    d->task_dist = FLURM_NO_VAL;
    d->threads_per_core = FLURM_NO_VAL16;
    d->time_limit = FLURM_NO_VAL;
    d->time_min = FLURM_NO_VAL;
    d->user_id = FLURM_NO_VAL;
    d->wait_all_nodes = FLURM_NO_VAL16;
    d->wait4switch = FLURM_NO_VAL;
    d->select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
    d->name = "job.sh";
    d->script = script;
    d->environment = env_vec;
    d->env_size = 1;
    d->work_dir = "/tmp";
    d->user_id = uid;
    d->group_id = uid;
    d->min_cpus = 1;
    d->contiguous = 0;
    d->mail_type = 0;
    d->task_dist = FLURM_SLURM_DIST_UNKNOWN;
}

/* rpc.c's reserve_job_id: from the applied state's next id, never one handed out before by
 * this process. */
static uint32_t reserve_job_id(world_t *w, uint32_t i)
{
    w_node_t *nd = &w->nodes[i];
    uint32_t next = flurm_state_next_job_id(nd->st);
    if (nd->reserved_job_id < next) nd->reserved_job_id = next;
    return nd->reserved_job_id++;
}

static void gen_submit(world_t *w, uint32_t i, uint64_t *rng, time_t now, batch_t *b)
{
    static char *parts[] = { NULL, NULL, "debug", "long" };
    static const uint32_t limits[] = { FLURM_NO_VAL, 10, 60 };
    static char *arrays[] = { "0-3", "1-4%2", "0-2" };
    flurm_job_desc_msg_t d;
    uint32_t uid = below(rng, 2) ? UID_ALICE : UID_BOB;
    batch_desc(&d, uid);
    d.partition = parts[below(rng, 4)];
    d.time_limit = limits[below(rng, 3)];
    if (below(rng, 4) == 0) d.min_nodes = 1 + below(rng, 2);
    if (below(rng, 4) == 0) d.pn_min_memory = 300;
    if (below(rng, 10) == 0) d.array_inx = arrays[below(rng, 3)];
    if (below(rng, 20) == 0) d.priority = 0;   /* held */
    if (below(rng, 8) == 0) d.requeue = 0;
    cmd_msg(b, FLURM_REQUEST_SUBMIT_BATCH_JOB, now, uid, reserve_job_id(w, i), &d);
}

/* A job that holds nodes, chosen by K; NULL if none. */
static const flurm_job_t *pick_holder(const flurm_state_t *st, uint64_t k)
{
    size_t n = 0;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        n += j && j->nodes;
    }
    if (!n) return NULL;
    k %= n;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        if (j && j->nodes && k-- == 0) return j;
    }
    return NULL;
}

/* The scheduler's decisions. flurmctld plans on the leader's own state (which records the
 * reasons it found there); without host_schedule the plan runs on a copy, so the replicated
 * state holds only what commands did. */
static void gen_starts(world_t *w, uint32_t i, time_t now, batch_t *b)
{
    flurm_state_t *st = w->nodes[i].st, *copy = NULL;
    if (!w->host_schedule) {
        flurm_buf_t snap;
        flurm_buf_init(&snap);
        copy = flurm_state_new(w->conf);
        if (!copy || flurm_state_snapshot(st, &snap) || flurm_state_restore(copy, snap.data, snap.size)) {
            world_fail(w, "node %u: cannot copy the state to plan on", i + 1);
            flurm_buf_release(&snap);
            flurm_state_free(copy);
            return;
        }
        flurm_buf_release(&snap);
        st = copy;
    }
    flurm_cmd_start_t starts[4];
    size_t n = flurm_state_plan(st, now, starts, 4);
    for (size_t k = 0; k < n && b->n < MAX_CMDS; k++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        flurm_cmd_start_pack(&starts[k], &body);
        cmd_body(b, FLURM_CMD_JOB_START, now, &body);
        flurm_buf_release(&body);
    }
    flurm_state_starts_free(starts, n);
    flurm_state_free(copy);
}

static void gen_end(world_t *w, uint32_t i, uint64_t *rng, time_t now, batch_t *b)
{
    static const uint8_t ends[] = { FLURM_END_COMPLETED, FLURM_END_COMPLETED, FLURM_END_FAILED, FLURM_END_TIMEOUT,
                                    FLURM_END_CANCELLED, FLURM_END_NODE_FAIL };
    const flurm_job_t *j = pick_holder(w->nodes[i].st, r64(rng));
    if (!j) return;
    flurm_cmd_end_t e = { .job_id = j->job_id, .node = below(rng, 8) ? j->nodes[below(rng, j->nnodes)] : below(rng, N_NODES),
                          .state = ends[below(rng, sizeof ends)], .wait_status = below(rng, 3) << 8,
                          .start_time = j->start_time, .end_time = below(rng, 2) ? now - 1 : 0,
                          .max_rss_kb = below(rng, 1000) };
    flurm_buf_t body;
    flurm_buf_init(&body);
    flurm_cmd_end_pack(&e, &body);
    cmd_body(b, FLURM_CMD_JOB_END, now, &body);
    flurm_buf_release(&body);
}

static void gen_kill(world_t *w, uint32_t i, uint64_t *rng, time_t now, batch_t *b)
{
    const flurm_state_t *st = w->nodes[i].st;
    uint32_t next = flurm_state_next_job_id(st);
    const flurm_job_t *j = below(rng, 2) ? pick_holder(st, r64(rng)) : NULL;
    uint32_t id = j ? j->job_id : 1 + below(rng, next);
    const flurm_job_t *o = flurm_state_find_job(st, id);
    char sbuf[16];
    snprintf(sbuf, sizeof sbuf, "%u", id);
    flurm_job_step_kill_msg_t k = { .step_id = { FLURM_NO_VAL, FLURM_NO_VAL, FLURM_NO_VAL }, .sjob_id = sbuf,
                                    .signal = below(rng, 5) ? SIGKILL : SIGTERM };
    /* the owner or root */
    cmd_msg(b, FLURM_REQUEST_KILL_JOB, now, o && below(rng, 2) ? o->user_id : 0, 0, &k);
}

static void gen_register(world_t *w, uint32_t i, uint64_t *rng, time_t now, batch_t *b)
{
    uint32_t node = below(rng, N_NODES);
    const flurm_state_t *st = w->nodes[i].st;
    /* The node reports the jobs it runs (all it holds, or it forgot some: a reboot). */
    uint32_t running[16], nrunning = 0;
    bool rebooted = below(rng, 4) == 0;
    for (size_t k = 0; k < flurm_state_job_slots(st) && nrunning < 16 && !rebooted; k++) {
        const flurm_job_t *j = flurm_state_job_at(st, k);
        if (!j || !j->nodes) continue;
        for (uint32_t q = 0; q < j->nnodes; q++)
            if (j->nodes[q] == node) { running[nrunning++] = j->job_id; break; }
    }
    const flurm_node_rt_t *rt = flurm_state_node(st, node);
    flurm_cmd_register_t m = { .node = node, .boot_id = rebooted || !rt->boot_id ? r64(rng) | 1 : rt->boot_id,
                               .boot_time = now - 100, .start_time = now - 1, .version = "22.05.8",
                               .arch = "x86_64", .os = "Linux", .running = nrunning ? running : NULL,
                               .nrunning = nrunning };
    flurm_buf_t body;
    flurm_buf_init(&body);
    flurm_cmd_register_pack(&m, &body);
    cmd_body(b, FLURM_CMD_NODE_REGISTER, now, &body);
    flurm_buf_release(&body);
}

static void gen_ids(uint16_t kind, const uint32_t *ids, uint32_t n, time_t now, batch_t *b)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    flurm_pack32_array(&body, ids, n);
    cmd_body(b, kind, now, &body);
    flurm_buf_release(&body);
}

static void gen_update_node(uint64_t *rng, time_t now, batch_t *b)
{
    static const uint32_t states[] = { FLURM_NODE_STATE_DRAIN, FLURM_NODE_RESUME, FLURM_NODE_RESUME };
    static char *names[] = { "n1", "n2", "n3", "n4", "n[1-2]" };
    char reason[] = "maintenance";
    flurm_update_node_msg_t m;
    memset(&m, 0, sizeof m);
    m.node_state = FLURM_NO_VAL;
    m.weight = FLURM_NO_VAL;
    m.node_names = names[below(rng, 5)];
    m.node_state = states[below(rng, 3)];
    m.reason = reason;
    m.reason_uid = 0;
    cmd_msg(b, FLURM_REQUEST_UPDATE_NODE, now, 0, 0, &m);
}

/* main.c's housekeeping: finished jobs leave after MinJobAge. */
static void gen_purge(world_t *w, uint32_t i, time_t now, batch_t *b)
{
    const flurm_state_t *st = w->nodes[i].st;
    uint32_t ids[64], n = 0;
    for (size_t k = 0; k < flurm_state_job_slots(st) && n < 64; k++) {
        const flurm_job_t *j = flurm_state_job_at(st, k);
        if (j && (j->job_state & 0xFF) >= FLURM_JOB_COMPLETE && !j->nodes &&
            now - j->end_time >= (time_t)w->conf->min_job_age)
            ids[n++] = j->job_id;
    }
    if (n) gen_ids(FLURM_CMD_PURGE_JOBS, ids, n, now, b);
}

static uint64_t propose_batch(world_t *w, uint32_t i, batch_t *b)
{
    uint64_t first = 0;
    if (b->n) {
        const void *ptrs[MAX_CMDS];
        uint32_t lens[MAX_CMDS];
        for (size_t k = 0; k < b->n; k++) {
            ptrs[k] = b->cmds[k].data;
            lens[k] = (uint32_t)b->cmds[k].size;
        }
        first = world_propose_bytes(w, i, b->n, ptrs, lens, b->kinds, b->reserved);
    }
    for (size_t k = 0; k < b->n; k++) flurm_buf_release(&b->cmds[k]);
    return first;
}

static bool ready_leader(const world_t *w, uint32_t i)
{
    const w_node_t *nd = &w->nodes[i];
    return nd->alive && nd->ready && flurm_raft_role(nd->r) == FLURM_RAFT_LEADER && !w->failed[0];
}

size_t flsm_act(world_t *w, uint32_t i, uint64_t *rng)
{
    if (!ready_leader(w, i)) return 0;
    time_t now = (time_t)world_wall(w, i);
    batch_t b = { .n = 0 };
    uint32_t roll = below(rng, 100);
    if (roll < 30) {
        for (uint32_t k = 1 + below(rng, 2); k > 0; k--) gen_submit(w, i, rng, now, &b);
    } else if (roll < 47) {
        gen_starts(w, i, now, &b);
    } else if (roll < 62) {
        gen_end(w, i, rng, now, &b);
    } else if (roll < 74) {
        gen_kill(w, i, rng, now, &b);
    } else if (roll < 82) {
        gen_register(w, i, rng, now, &b);
    } else if (roll < 85) {
        uint32_t node = below(rng, N_NODES);
        gen_ids(FLURM_CMD_NODES_NOT_RESPONDING, &node, 1, now, &b);
    } else if (roll < 90) {
        gen_update_node(rng, now, &b);
    } else {
        gen_purge(w, i, now, &b);
        /* flurmctld's leader also recomputes every pending job's reason in housekeeping */
        if (w->host_schedule) flurm_state_schedule(w->nodes[i].st, now);
    }
    size_t n = b.n;
    return propose_batch(w, i, &b) ? n : 0;
}

uint64_t flsm_propose_submit(world_t *w, uint32_t i)
{
    if (!ready_leader(w, i)) return 0;
    uint64_t rng = w->seed ^ w->now ^ 0xf1u;
    batch_t b = { .n = 0 };
    gen_submit(w, i, &rng, (time_t)world_wall(w, i), &b);
    return propose_batch(w, i, &b);
}

void flsm_attach(world_t *w) { w->propose_one = flsm_propose_submit; }
