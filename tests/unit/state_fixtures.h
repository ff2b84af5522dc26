/* tests/unit/state_fixtures.h — helpers shared by the state machine tests (test_state.c,
 * test_lifecycle.c): a parsed configuration per test group, SLURM-default message structs, and
 * builders that wrap a client message into a replicated command and apply it. Header-only
 * (static functions, every one used by both includers). The includer defines its own
 * configuration text and a conf_setup() that stores parse_conf(text) in `conf`. */
#ifndef FLURM_TEST_STATE_FIXTURES_H
#define FLURM_TEST_STATE_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <flurm/buf.h>
#include <flurm/conf.h>
#include <flurm/msg.h>

#include "state/state.h"

#define T0 ((time_t)1700000000)
#define UID_ALICE 1000u
#define UID_BOB 1001u

/* SLURM return codes (slurm_errno.h) the state machine answers with. */
enum {
    RC_INVALID_PARTITION = 2000, RC_ACCESS_DENIED = 2002, RC_INVALID_JOB_ID = 2017,
    RC_INVALID_NODE_NAME = 2018, RC_TRANSITION_STATE = 2020, RC_ALREADY_DONE = 2021,
    RC_INVALID_NODE_STATE = 2028, RC_JOB_HELD = 2042, RC_JOB_FINISHED = 2084,
    RC_PRIO_RESET_FAIL = 2095, RC_INVALID_NICE = 2123,
};

enum { PART_DEBUG = 0, PART_LONG = 1 };

/* The configuration the group runs against (set by the includer's conf_setup). */
static flurm_conf_t *conf;

/* TEXT parsed as slurm.conf, or NULL (the parse error printed to stderr). */
static flurm_conf_t *parse_conf(const char *text)
{
    flurm_conf_t *c = NULL;
    char *err = NULL;
    if (flurm_conf_parse_string(text, "test.conf", &c, &err) != FLURM_OK) {
        fprintf(stderr, "conf: %s\n", err ? err : "?");
        free(err);
        return NULL;
    }
    return c;
}

static int conf_teardown(void **state)
{
    (void)state;
    flurm_conf_free(conf);
    conf = NULL;
    return 0;
}

static flurm_state_t *new_state(void)
{
    flurm_state_t *st = flurm_state_new(conf);
    assert_non_null(st);
    return st;
}

/* ------------------------------------------------------------------ message helpers */

/* A job description with SLURM's defaults for every unset field, as slurm_init_job_desc_msg()
 * (src/api/init_msg.c) fills one; the select jobinfo blob names cons_tres as clients send. */
static void job_desc_init(flurm_job_desc_msg_t *d)
{
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
}

static char env_path[] = "PATH=/usr/bin:/bin";
static char *env_vec[] = { env_path };
static char script_text[] = "#!/bin/sh\ntrue\n";

/* What sbatch sends for a plain script run by UID (all pointers borrowed). */
static void batch_desc(flurm_job_desc_msg_t *d, uint32_t uid)
{
    job_desc_init(d);
    d->name = "job.sh";
    d->script = script_text;
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

/* Appends the command KIND stamped (NOW, UID) with MSG (a struct of KIND's layout) as body. */
static void cmd_msg(flurm_buf_t *out, uint16_t kind, time_t now, uint32_t uid, uint32_t job_id,
                    const void *msg)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_msg_pack(kind, msg, &body), FLURM_OK);
    assert_int_equal(flurm_cmd_build(out, kind, now, uid, uid, job_id, "login1", body.data, body.size),
                     FLURM_OK);
    flurm_buf_release(&body);
}

/* Appends an internal command whose body is u32 count + u32 IDS. */
static void cmd_ids(flurm_buf_t *out, uint16_t kind, time_t now, const uint32_t *ids, uint32_t n)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    flurm_pack32_array(&body, ids, n);
    assert_int_equal(body.err, FLURM_OK);
    assert_int_equal(flurm_cmd_build(out, kind, now, 0, 0, 0, NULL, body.data, body.size), FLURM_OK);
    flurm_buf_release(&body);
}

/* Applies CMD (which must be a well-formed command); returns the SLURM rc. */
/* The effects of the last command apply_buf() applied (copied: the state's own list lives
 * only until the next apply). */
static flurm_effect_t g_effects[64] __attribute__((unused));
static size_t g_neffects __attribute__((unused));

static uint32_t apply_buf(flurm_state_t *st, const flurm_buf_t *cmd, uint32_t *job_id)
{
    flurm_apply_result_t res;
    assert_int_equal(flurm_state_apply(st, cmd->data, cmd->size, &res), FLURM_OK);
    if (job_id)
        *job_id = res.job_id;
    assert_true(res.neffects <= sizeof g_effects / sizeof g_effects[0]);
    g_neffects = res.neffects;
    for (size_t i = 0; i < res.neffects; i++)
        g_effects[i] = res.effects[i];
    return res.rc;
}

static uint32_t apply_msg(flurm_state_t *st, uint16_t kind, time_t now, uint32_t uid,
                          uint32_t job_id, const void *msg, uint32_t *out_id)
{
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_msg(&cmd, kind, now, uid, job_id, msg);
    uint32_t rc = apply_buf(st, &cmd, out_id);
    flurm_buf_release(&cmd);
    return rc;
}

/* Submits D as UID at NOW with the id the proposer would reserve; returns the new job. */
static flurm_job_t *submit(flurm_state_t *st, time_t now, uint32_t uid, const flurm_job_desc_msg_t *d)
{
    uint32_t reserved = flurm_state_next_job_id(st), got = 0;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_SUBMIT_BATCH_JOB, now, uid, reserved, d, &got), 0);
    assert_int_equal(got, reserved);
    flurm_job_t *j = flurm_state_find_job(st, got);
    assert_non_null(j);
    return j;
}

static flurm_job_t *submit_plain(flurm_state_t *st, time_t now, uint32_t uid)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, uid);
    return submit(st, now, uid, &d);
}

/* scancel: sjob_id carries the expression, step_id is unset (slurm_kill_job2). */
static uint32_t kill_str(flurm_state_t *st, time_t now, uint32_t uid, const char *sjob_id, uint16_t sig)
{
    char sbuf[64];
    snprintf(sbuf, sizeof sbuf, "%s", sjob_id);
    flurm_job_step_kill_msg_t k = { .step_id = { FLURM_NO_VAL, FLURM_NO_VAL, FLURM_NO_VAL },
                                    .sjob_id = sbuf, .signal = sig };
    return apply_msg(st, FLURM_REQUEST_KILL_JOB, now, uid, 0, &k, NULL);
}

static uint32_t kill_id(flurm_state_t *st, time_t now, uint32_t uid, uint32_t job_id, uint16_t sig)
{
    char s[16];
    snprintf(s, sizeof s, "%u", job_id);
    return kill_str(st, now, uid, s, sig);
}

static void node_msg_init(flurm_update_node_msg_t *m)
{
    memset(m, 0, sizeof *m);   /* slurm_init_update_node_msg */
    m->node_state = FLURM_NO_VAL;
    m->weight = FLURM_NO_VAL;
}

static uint32_t update_node(flurm_state_t *st, time_t now, uint32_t uid, const char *names,
                            uint32_t node_state, const char *reason)
{
    flurm_update_node_msg_t m;
    char nbuf[64], rbuf[64];
    node_msg_init(&m);
    snprintf(nbuf, sizeof nbuf, "%s", names);
    m.node_names = nbuf;
    m.node_state = node_state;
    if (reason) {
        snprintf(rbuf, sizeof rbuf, "%s", reason);
        m.reason = rbuf;
        m.reason_uid = uid;
    }
    return apply_msg(st, FLURM_REQUEST_UPDATE_NODE, now, uid, 0, &m, NULL);
}

static void part_msg_init(flurm_update_part_msg_t *m)
{
    memset(m, 0, sizeof *m);   /* slurm_init_part_desc_msg */
    m->default_time = FLURM_NO_VAL;
    m->def_mem_per_cpu = FLURM_NO_VAL64;
    m->grace_time = FLURM_NO_VAL;
    m->max_cpus_per_node = FLURM_NO_VAL;
    m->max_mem_per_cpu = FLURM_NO_VAL64;
    m->max_nodes = FLURM_NO_VAL;
    m->max_share = FLURM_NO_VAL16;
    m->min_nodes = FLURM_NO_VAL;
    m->max_time = FLURM_NO_VAL;
    m->over_time_limit = FLURM_NO_VAL16;
    m->preempt_mode = FLURM_NO_VAL16;
    m->priority_job_factor = FLURM_NO_VAL16;
    m->priority_tier = FLURM_NO_VAL16;
    m->state_up = FLURM_NO_VAL16;
}

static uint32_t update_part_state(flurm_state_t *st, time_t now, const char *name, uint16_t state_up)
{
    flurm_update_part_msg_t m;
    char nbuf[64];
    part_msg_init(&m);
    snprintf(nbuf, sizeof nbuf, "%s", name);
    m.name = nbuf;
    m.state_up = state_up;
    return apply_msg(st, FLURM_REQUEST_UPDATE_PARTITION, now, 0, 0, &m, NULL);
}

static uint32_t apply_ids(flurm_state_t *st, uint16_t kind, time_t now, const uint32_t *ids, uint32_t n)
{
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_ids(&cmd, kind, now, ids, n);
    uint32_t rc = apply_buf(st, &cmd, NULL);
    flurm_buf_release(&cmd);
    return rc;
}
/* ------------------------------------------------------------------ snapshot helpers */

/* Applies an internal command KIND (FLURM_CMD_*) whose body is BODY, at NOW, as uid 0. */
static inline uint32_t apply_body(flurm_state_t *st, uint16_t kind, time_t now, const flurm_buf_t *body)
{
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    assert_int_equal(flurm_cmd_build(&cmd, kind, now, 0, 0, 0, NULL, body->data, body->size), FLURM_OK);
    uint32_t rc = apply_buf(st, &cmd, NULL);
    flurm_buf_release(&cmd);
    return rc;
}

static void snap(const flurm_state_t *st, flurm_buf_t *out)
{
    flurm_buf_init(out);
    assert_int_equal(flurm_state_snapshot(st, out), FLURM_OK);
    assert_true(out->size > 0);
}

static bool snap_equal(const flurm_buf_t *a, const flurm_buf_t *b)
{
    return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* Asserts ST's snapshot is byte-identical to BEFORE (and releases BEFORE). */
/* ------------------------------------------------------------------ determinism */

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) % n); }

#define PICK(rng, arr) ((arr)[rng_below((rng), sizeof(arr) / sizeof((arr)[0]))])

/* FLURM_TEST_SEED when set (to replay a failure: its message names the seed), else a fresh one. */
static uint64_t test_seed(void)
{
    const char *e = getenv("FLURM_TEST_SEED");
    if (e && *e)
        return strtoull(e, NULL, 0);
    return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

#endif
