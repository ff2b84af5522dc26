/* tests/fuzz/fuzz_state.c — libFuzzer target: the replicated state machine's decoders, commands
 * (flurm_state_apply) and snapshots (flurm_state_restore), libflurm/state/.
 *
 * The first input byte picks what the rest is:
 *   0 mod 3  a command's bytes, applied to a state holding a few jobs;
 *   1 mod 3  a command built from the bytes: a kind from the list below, time, uid, reserved job
 *            id and request id from the input, the rest as body; applied twice (the second copy
 *            of a request with an id must be a repeat with the same result);
 *   2 mod 3  a snapshot's bytes, restored into a fresh state.
 * Whatever applied or restored: the state's snapshot restores into a fresh state whose snapshot
 * is the same bytes. No crash, no leak, no read past the input, no UB, whatever the bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/buf.h>
#include <flurm/conf.h>
#include <flurm/log.h>
#include <flurm/msg.h>

#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONF_TEXT[] =
    "ClusterName=fuzz\n"
    "SlurmctldHost=ctl\n"
    "SlurmUser=root\n"
    "NodeName=n[1-4] CPUs=4 RealMemory=4000\n"
    "PartitionName=debug Nodes=n[1-4] Default=YES MaxTime=1-00:00:00\n"
    "PartitionName=long Nodes=n[3-4] MaxTime=2-00:00:00\n";

static const uint16_t KINDS[] = {
    FLURM_REQUEST_SUBMIT_BATCH_JOB, FLURM_REQUEST_KILL_JOB, FLURM_REQUEST_UPDATE_JOB,
    FLURM_REQUEST_UPDATE_NODE, FLURM_REQUEST_UPDATE_PARTITION, FLURM_REQUEST_SUSPEND,
    FLURM_REQUEST_JOB_REQUEUE, FLURM_REQUEST_RESOURCE_ALLOCATION, FLURM_REQUEST_COMPLETE_JOB_ALLOCATION,
    FLURM_CMD_PURGE_JOBS, FLURM_CMD_NODES_NOT_RESPONDING,
    FLURM_CMD_NODE_REGISTER, FLURM_CMD_JOB_START, FLURM_CMD_JOB_END, FLURM_CMD_JOB_PREEMPT,
};

static flurm_conf_t *conf;

static void discard(flurm_log_level_t level, const char *line, void *arg)
{
    (void)level;
    (void)line;
    (void)arg;
}

static uint64_t take(const uint8_t **p, size_t *n, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && *n; i++, (*p)++, (*n)--)
        v = v << 8 | **p;
    return v;
}

/* A state with two pending jobs, so that commands naming jobs 1 and 2 find them. */
static flurm_state_t *seeded_state(void)
{
    flurm_state_t *st = flurm_state_new(conf);
    if (!st)
        abort();
    for (uint32_t uid = 1000; uid < 1002; uid++) {
        flurm_job_desc_msg_t d;
        memset(&d, 0, sizeof d);
        d.user_id = uid;
        d.group_id = uid;
        d.min_cpus = 1;
        d.min_nodes = 1;
        d.max_nodes = 1;
        d.num_tasks = 1;
        d.time_limit = 10;
        d.priority = FLURM_NO_VAL;
        d.nice = FLURM_NO_VAL;
        d.script = "#!/bin/sh\ntrue\n";
        flurm_buf_t body, cmd;
        flurm_buf_init(&body);
        flurm_buf_init(&cmd);
        flurm_apply_result_t res;
        if (flurm_msg_pack(FLURM_REQUEST_SUBMIT_BATCH_JOB, &d, &body) == FLURM_OK &&
            flurm_cmd_build(&cmd, FLURM_REQUEST_SUBMIT_BATCH_JOB, 1700000000, uid, uid,
                            flurm_state_next_job_id(st), "login", body.data, body.size) == FLURM_OK)
            flurm_state_apply(st, cmd.data, cmd.size, &res);
        flurm_buf_release(&body);
        flurm_buf_release(&cmd);
    }
    return st;
}

/* ST's snapshot restores to a state with the same snapshot. */
static void check_round_trip(const flurm_state_t *st)
{
    flurm_buf_t a, b;
    flurm_buf_init(&a);
    flurm_buf_init(&b);
    if (flurm_state_snapshot(st, &a) != FLURM_OK)
        abort();
    flurm_state_t *r = flurm_state_new(conf);
    if (!r || flurm_state_restore(r, a.data, a.size) != FLURM_OK || flurm_state_snapshot(r, &b) != FLURM_OK ||
        a.size != b.size || memcmp(a.data, b.data, a.size) != 0) {
        fprintf(stderr, "snapshot round trip differs (%zu -> %zu bytes)\n", a.size, b.size);
        abort();
    }
    flurm_state_free(r);
    flurm_buf_release(&a);
    flurm_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!conf) {
        char *err = NULL;
        flurm_log_set_sink(discard, NULL);   /* the rejections are expected */
        if (flurm_conf_parse_string(CONF_TEXT, "fuzz.conf", &conf, &err) != FLURM_OK)
            abort();
    }
    if (!size)
        return 0;
    unsigned mode = data[0] % 3;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    flurm_apply_result_t res;
    if (mode == 2) {
        flurm_state_t *st = flurm_state_new(conf);
        if (st && flurm_state_restore(st, p, n) == FLURM_OK)
            check_round_trip(st);
        flurm_state_free(st);
        return 0;
    }
    flurm_state_t *st = seeded_state();
    if (mode == 0) {
        if (flurm_state_apply(st, p, n, &res) == FLURM_OK)
            check_round_trip(st);
        flurm_state_free(st);
        return 0;
    }
    uint16_t kind = KINDS[take(&p, &n, 1) % (sizeof KINDS / sizeof KINDS[0])];
    time_t now = 1700000000 + (time_t)take(&p, &n, 2);
    uint32_t uid = (uint32_t)take(&p, &n, 1) < 128 ? 0 : 1000;
    uint32_t job_id = (uint32_t)take(&p, &n, 1);
    uint8_t id[FLURM_REQUEST_ID_LEN] = { 0 };
    bool with_id = take(&p, &n, 1) & 1;
    if (with_id)
        for (size_t i = 0; i < sizeof id; i++)
            id[i] = (uint8_t)take(&p, &n, 1) | 1;
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    if (flurm_cmd_build_request(&cmd, kind, now, uid, uid, job_id, "login", with_id ? id : NULL, p, n) == FLURM_OK &&
        flurm_state_apply(st, cmd.data, cmd.size, &res) == FLURM_OK) {
        uint32_t rc = res.rc, got = res.job_id;
        if (flurm_state_apply(st, cmd.data, cmd.size, &res) != FLURM_OK)
            abort();   /* it applied once: the same bytes apply again */
        if (with_id && (!res.repeated || res.rc != rc || res.job_id != got || res.neffects)) {
            fprintf(stderr, "a repeated request was applied again\n");
            abort();
        }
        check_round_trip(st);
    }
    flurm_buf_release(&cmd);
    flurm_state_free(st);
    return 0;
}
