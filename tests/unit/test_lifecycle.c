/* tests/unit/test_lifecycle.c — the node and job lifecycle of the replicated state machine
 * (libflurm/state): node registration and ReturnToService, the FIFO first-fit planner and the
 * JOB_START decisions it yields, job ends, kills of running jobs, draining busy nodes, dead nodes
 * (requeue / NODE_FAIL), array task splitting and throttling, snapshot/restore of allocations,
 * and determinism of a log mixing all of these. */
#include <math.h>
#include <signal.h>

#include "state_fixtures.h"

/* ------------------------------------------------------------------ fixtures */

/* SLURM job state reasons (enum job_state_reason in slurm.h). */
enum { FAIL_DOWN_NODE = 20, FAIL_EXIT_CODE = 24, FAIL_TIMEOUT = 25 };

/* Four 2-CPU, 1000 MB nodes; "long" has the last two. */
#define CONF_BODY                                                                  \
    "SlurmctldHost=ctl\n"                                                          \
    "SlurmUser=root\n"                                                             \
    "NodeName=n[1-4] CPUs=2 RealMemory=1000\n"                                     \
    "PartitionName=debug Nodes=n[1-4] Default=YES\n"                               \
    "PartitionName=long Nodes=n[3-4] MaxTime=2-00:00:00\n"

enum { N1 = 0, N2 = 1, N3 = 2, N4 = 3 };

static const char DOWN_DESC[] =
    "Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions";

static int conf_setup(void **state)
{
    (void)state;
    conf = parse_conf(CONF_BODY);
    return conf ? 0 : -1;
}

/* ------------------------------------------------------------------ message helpers */

/* Internal lifecycle commands: the daemon proposes them as SlurmUser (root here), no host. */
static void cmd_register(flurm_buf_t *out, time_t now, const flurm_cmd_register_t *m)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_register_pack(m, &body), FLURM_OK);
    assert_int_equal(flurm_cmd_build(out, FLURM_CMD_NODE_REGISTER, now, 0, 0, 0, NULL, body.data,
                                     body.size), FLURM_OK);
    flurm_buf_release(&body);
}

static void cmd_start(flurm_buf_t *out, time_t now, const flurm_cmd_start_t *m)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_start_pack(m, &body), FLURM_OK);
    assert_int_equal(flurm_cmd_build(out, FLURM_CMD_JOB_START, now, 0, 0, 0, NULL, body.data,
                                     body.size), FLURM_OK);
    flurm_buf_release(&body);
}

static void cmd_end(flurm_buf_t *out, time_t now, const flurm_cmd_end_t *m)
{
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_end_pack(m, &body), FLURM_OK);
    assert_int_equal(flurm_cmd_build(out, FLURM_CMD_JOB_END, now, 0, 0, 0, NULL, body.data,
                                     body.size), FLURM_OK);
    flurm_buf_release(&body);
}

static uint32_t node_not_responding(flurm_state_t *st, time_t now, uint32_t node)
{
    return apply_ids(st, FLURM_CMD_NODES_NOT_RESPONDING, now, &node, 1);
}

static uint32_t purge(flurm_state_t *st, time_t now, uint32_t job_id)
{
    return apply_ids(st, FLURM_CMD_PURGE_JOBS, now, &job_id, 1);
}

/* A node daemon (re)joins: node NODE, boot BOOT_ID, reporting ENDED. */
static uint32_t do_register(flurm_state_t *st, time_t now, uint32_t node, uint64_t boot_id,
                            flurm_cmd_end_t *ended, uint32_t nended)
{
    flurm_cmd_register_t m = { .node = node, .boot_id = boot_id, .boot_time = now - 100,
                               .start_time = now - 10, .version = "22.05.8", .arch = "x86_64",
                               .os = "Linux", .ended = ended, .nended = nended };
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_register(&cmd, now, &m);
    uint32_t rc = apply_buf(st, &cmd, NULL);
    flurm_buf_release(&cmd);
    return rc;
}

static void register_all(flurm_state_t *st, time_t now)
{
    for (uint32_t i = 0; i < flurm_state_conf(st)->node_count; i++)
        assert_int_equal(do_register(st, now, i, 0xB0070000u + i, NULL, 0), 0);
}

static uint32_t apply_start(flurm_state_t *st, time_t now, const flurm_cmd_start_t *s)
{
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_start(&cmd, now, s);
    uint32_t rc = apply_buf(st, &cmd, NULL);
    flurm_buf_release(&cmd);
    return rc;
}

static uint32_t apply_end(flurm_state_t *st, time_t now, uint32_t job_id, uint32_t node,
                          uint8_t state, uint32_t status)
{
    flurm_cmd_end_t e = { .job_id = job_id, .node = node, .state = state, .wait_status = status,
                          .start_time = now - 50, .end_time = now - 1, .max_rss_kb = 4242 };
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_end(&cmd, now, &e);
    uint32_t rc = apply_buf(st, &cmd, NULL);
    flurm_buf_release(&cmd);
    return rc;
}

/* Plans at NOW and applies every decision at NOW (as the daemon does); returns how many. */
static size_t plan_apply(flurm_state_t *st, time_t now)
{
    flurm_cmd_start_t starts[64];
    size_t n = flurm_state_plan(st, now, starts, 64);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(apply_start(st, now, &starts[i]), 0);
    flurm_state_starts_free(starts, n);
    flurm_state_schedule_changed(st, now);   /* as the leader does after a batch applied */
    return n;
}

static size_t plan_count(flurm_state_t *st, time_t now)
{
    flurm_cmd_start_t starts[64];
    size_t n = flurm_state_plan(st, now, starts, 64);
    flurm_state_starts_free(starts, n);
    return n;
}

static void assert_node(const flurm_state_t *st, uint32_t i, uint32_t state, uint32_t cpus,
                        uint64_t mem, uint32_t njobs)
{
    const flurm_node_rt_t *n = flurm_state_node(st, i);
    assert_non_null(n);
    if (n->state != state || n->alloc_cpus != cpus || n->alloc_mem != mem || n->njobs != njobs)
        fail_msg("node %u: state %#x cpus %u mem %llu njobs %u; want %#x %u %llu %u", i, n->state,
                 n->alloc_cpus, (unsigned long long)n->alloc_mem, n->njobs, state, cpus,
                 (unsigned long long)mem, njobs);
}

static const flurm_job_t *job(const flurm_state_t *st, uint32_t id)
{
    const flurm_job_t *j = flurm_state_find_job(st, id);
    if (!j)
        fail_msg("job %u not found", id);
    return j;
}

#define IDLE FLURM_NODE_STATE_IDLE
#define ALLOC FLURM_NODE_STATE_ALLOCATED
#define DRAIN FLURM_NODE_STATE_DRAIN

/* ------------------------------------------------------------------ registration */

static void test_lifecycle_register_unknown_node_becomes_idle_and_records_daemon(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_node_rt_t *n = flurm_state_node(st, N2);
    assert_int_equal(n->state, FLURM_NODE_STATE_UNKNOWN | FLURM_NODE_STATE_NO_RESPOND);
    assert_int_equal(do_register(st, T0 + 5, N2, 0xABCDEF0123ull, NULL, 0), 0);
    assert_int_equal(n->state, IDLE);   /* NO_RESPOND cleared, no other flag */
    assert_int_equal(n->boot_id, 0xABCDEF0123ull);
    assert_int_equal(n->boot_time, T0 + 5 - 100);
    assert_int_equal(n->slurmd_start_time, T0 + 5 - 10);
    assert_string_equal(n->version, "22.05.8");
    assert_string_equal(n->arch, "x86_64");
    assert_string_equal(n->os, "Linux");
    assert_null(n->reason);
    assert_int_equal(n->alloc_cpus, 0);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 5);
    /* The others are untouched. */
    assert_int_equal(flurm_state_node(st, N1)->state,
                     FLURM_NODE_STATE_UNKNOWN | FLURM_NODE_STATE_NO_RESPOND);
    /* A re-registration (daemon restart) replaces what it reported. */
    flurm_cmd_register_t m = { .node = N2, .boot_id = 7, .version = "22.05.9", .arch = "aarch64",
                               .os = "Linux" };
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_register(&cmd, T0 + 6, &m);
    assert_int_equal(apply_buf(st, &cmd, NULL), 0);
    flurm_buf_release(&cmd);
    assert_int_equal(n->boot_id, 7);
    assert_string_equal(n->version, "22.05.9");
    assert_string_equal(n->arch, "aarch64");
    assert_int_equal(n->state, IDLE);
    /* A node index beyond the configuration is refused. */
    assert_int_equal(do_register(st, T0 + 7, 4, 1, NULL, 0), RC_INVALID_NODE_NAME);
    flurm_state_free(st);
}

/* Registers every node, then downs n1 for not responding and n2 by an administrator, lets both
 * register again under ReturnToService=RTS and reports whether each came back. */
static void return_to_service(uint16_t rts, bool *nr_back, bool *admin_back)
{
    char text[1024];
    snprintf(text, sizeof text, "ReturnToService=%u\n%s", rts, CONF_BODY);
    flurm_conf_t *c = parse_conf(text);
    assert_non_null(c);
    assert_int_equal(c->return_to_service, rts);
    flurm_state_t *st = flurm_state_new(c);
    assert_non_null(st);
    register_all(st, T0);
    assert_int_equal(node_not_responding(st, T0 + 100, N1), 0);
    assert_int_equal(update_node(st, T0 + 101, 0, "n2", FLURM_NODE_STATE_DOWN, "broken"), 0);
    assert_int_equal(flurm_state_node(st, N1)->state,
                     FLURM_NODE_STATE_DOWN | FLURM_NODE_STATE_NO_RESPOND);
    assert_int_equal(flurm_state_node(st, N2)->state, FLURM_NODE_STATE_DOWN);
    assert_int_equal(do_register(st, T0 + 200, N1, 11, NULL, 0), 0);
    assert_int_equal(do_register(st, T0 + 200, N2, 12, NULL, 0), 0);
    const flurm_node_rt_t *a = flurm_state_node(st, N1), *b = flurm_state_node(st, N2);
    assert_false(a->state & FLURM_NODE_STATE_NO_RESPOND);   /* it answers, whatever its state */
    *nr_back = a->state == IDLE;
    *admin_back = b->state == IDLE;
    /* A node that stays DOWN keeps its reason; one that comes back loses it. */
    if (*nr_back) {
        assert_null(a->reason);
        assert_int_equal(a->reason_uid, FLURM_NO_VAL);
        assert_int_equal(a->reason_time, 0);
    } else {
        assert_int_equal(a->state, FLURM_NODE_STATE_DOWN);
        assert_string_equal(a->reason, "Not responding");
    }
    if (*admin_back) {
        assert_null(b->reason);
    } else {
        assert_int_equal(b->state, FLURM_NODE_STATE_DOWN);
        assert_string_equal(b->reason, "broken");
    }
    /* The planner follows: only returned nodes take jobs. */
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 4;
    submit(st, T0 + 201, UID_ALICE, &d);
    assert_int_equal(plan_count(st, T0 + 202), *nr_back && *admin_back ? 1 : 0);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_register_return_to_service_0_keeps_down_nodes_down(void **s)
{
    (void)s;
    bool nr, admin;
    return_to_service(0, &nr, &admin);
    assert_false(nr);
    assert_false(admin);
}

static void test_lifecycle_register_return_to_service_1_revives_only_not_responding(void **s)
{
    (void)s;
    bool nr, admin;
    return_to_service(1, &nr, &admin);
    assert_true(nr);
    assert_false(admin);
}

static void test_lifecycle_register_return_to_service_2_revives_any_down(void **s)
{
    (void)s;
    bool nr, admin;
    return_to_service(2, &nr, &admin);
    assert_true(nr);
    assert_true(admin);
}

static void test_lifecycle_register_keeps_drain_flag(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    /* Drained before it ever registered (UNKNOWN|DRAIN|NO_RESPOND)... */
    assert_int_equal(update_node(st, T0, 0, "n1", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    assert_int_equal(do_register(st, T0 + 1, N1, 1, NULL, 0), 0);
    assert_int_equal(flurm_state_node(st, N1)->state, IDLE | DRAIN);
    assert_string_equal(flurm_state_node(st, N1)->reason, "maint");
    /* ...and drained while registered, then restarted. */
    assert_int_equal(do_register(st, T0 + 1, N2, 2, NULL, 0), 0);
    assert_int_equal(update_node(st, T0 + 2, 0, "n2", FLURM_NODE_STATE_DRAIN, "disk"), 0);
    assert_int_equal(do_register(st, T0 + 3, N2, 3, NULL, 0), 0);
    assert_int_equal(flurm_state_node(st, N2)->state, IDLE | DRAIN);
    assert_string_equal(flurm_state_node(st, N2)->reason, "disk");
    /* Drained nodes take no jobs. */
    submit_plain(st, T0 + 4, UID_ALICE);
    assert_int_equal(plan_count(st, T0 + 5), 0);
    flurm_state_free(st);
}

static void test_lifecycle_register_applies_ended_jobs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0 + 1, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0 + 1, UID_ALICE)->job_id;
    uint32_t c = submit_plain(st, T0 + 1, UID_ALICE)->job_id;
    assert_int_equal(plan_apply(st, T0 + 2), 3);
    /* a and b share n1 (2 CPUs), c is on n2. */
    assert_int_equal(job(st, a)->nodes[0], N1);
    assert_int_equal(job(st, b)->nodes[0], N1);
    assert_int_equal(job(st, c)->nodes[0], N2);
    /* n1's daemon restarts: a ended (exit 1) while it was away; the report of c (not on n1) is
     * ignored even though it claims n2: the registering node is the reporter. */
    flurm_cmd_end_t ended[] = {
        { .job_id = a, .node = N1, .state = FLURM_END_FAILED, .wait_status = 256,
          .end_time = T0 + 50, .max_rss_kb = 77 },
        { .job_id = c, .node = N2, .state = FLURM_END_COMPLETED, .end_time = T0 + 51 },
    };
    assert_int_equal(do_register(st, T0 + 60, N1, 99, ended, 2), 0);
    assert_int_equal(job(st, a)->job_state, FLURM_JOB_FAILED);
    assert_int_equal(job(st, a)->exit_code, 256);
    assert_int_equal(job(st, a)->end_time, T0 + 50);
    assert_int_equal(job(st, a)->max_rss_kb, 77);
    assert_int_equal(job(st, b)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(job(st, c)->job_state, FLURM_JOB_RUNNING);
    assert_node(st, N1, ALLOC, 1, 0, 1);
    assert_node(st, N2, ALLOC, 1, 0, 1);
    assert_int_equal(flurm_state_node(st, N1)->boot_id, 99);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ plan and start */

static void test_lifecycle_plan_start_allocates_and_runs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.time_limit = 10;
    d.pn_min_memory = 100;   /* --mem=100 */
    uint32_t id = submit(st, T0 + 1, UID_ALICE, &d)->job_id;

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 2, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].job_id, id);
    assert_int_equal(starts[0].array_task_id, FLURM_NO_VAL);
    assert_int_equal(starts[0].nnodes, 1);
    assert_int_equal(starts[0].nodes[0], N1);
    assert_int_equal(starts[0].cpus_per_node, 1);
    assert_int_equal(starts[0].mem_per_node, 100);
    /* Planning decides, it does not change the job. */
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_PENDING);
    assert_node(st, N1, IDLE, 0, 0, 0);

    assert_int_equal(apply_start(st, T0 + 3, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_NO_REASON);
    assert_int_equal(j->start_time, T0 + 3);
    assert_int_equal(j->end_time, T0 + 3 + 10 * 60);
    assert_int_equal(j->nnodes, 1);
    assert_int_equal(j->nodes[0], N1);
    assert_int_equal(j->cpus_per_node, 1);
    assert_int_equal(j->mem_per_node, 100);
    assert_node(st, N1, ALLOC, 1, 100, 1);
    assert_node(st, N2, IDLE, 0, 0, 0);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 3);
    assert_int_equal(flurm_state_jobs_changed(st), T0 + 3);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_started, 1);
    assert_int_equal(stats.jobs_running, 1);
    assert_int_equal(stats.jobs_pending, 0);
    /* A started job is never planned again. */
    assert_int_equal(plan_count(st, T0 + 4), 0);
    flurm_state_free(st);
}

static void test_lifecycle_start_without_time_limit_has_no_end_time(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t id = submit_plain(st, T0, UID_ALICE)->job_id;   /* debug has no MaxTime: INFINITE */
    assert_int_equal(job(st, id)->time_limit, FLURM_INFINITE);
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    assert_int_equal(job(st, id)->start_time, T0 + 1);
    assert_int_equal(job(st, id)->end_time, 0);
    flurm_state_free(st);
}

static void test_lifecycle_plan_multi_node_job_gets_two_nodes(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;   /* -N 2 */
    uint32_t id = submit(st, T0, UID_ALICE, &d)->job_id;
    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 1, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].nnodes, 2);
    assert_int_equal(starts[0].nodes[0], N1);
    assert_int_equal(starts[0].nodes[1], N2);
    assert_int_equal(starts[0].cpus_per_node, 1);
    assert_int_equal(apply_start(st, T0 + 1, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    assert_int_equal(job(st, id)->nnodes, 2);
    assert_node(st, N1, ALLOC, 1, 0, 1);
    assert_node(st, N2, ALLOC, 1, 0, 1);
    assert_node(st, N3, IDLE, 0, 0, 0);
    /* A job wanting more nodes than its partition has never starts. */
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 3;
    d.partition = "long";
    submit(st, T0 + 2, UID_ALICE, &d);
    assert_int_equal(plan_count(st, T0 + 3), 0);
    flurm_state_free(st);
}

static void test_lifecycle_plan_packs_cpus_first_fit(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t c = submit_plain(st, T0, UID_ALICE)->job_id;
    /* One pass places all three, counting what it already gave away. */
    assert_int_equal(plan_apply(st, T0 + 1), 3);
    assert_int_equal(job(st, a)->nodes[0], N1);
    assert_int_equal(job(st, b)->nodes[0], N1);
    assert_int_equal(job(st, c)->nodes[0], N2);
    assert_node(st, N1, ALLOC, 2, 0, 2);
    assert_node(st, N2, ALLOC, 1, 0, 1);
    /* -c 2 needs a node with two free CPUs: n3. */
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.cpus_per_task = 2;
    uint32_t wide = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 3), 1);
    assert_int_equal(job(st, wide)->nodes[0], N3);
    assert_int_equal(job(st, wide)->cpus_per_node, 2);
    assert_node(st, N3, ALLOC, 2, 0, 1);
    flurm_state_free(st);
}

static void test_lifecycle_plan_memory_keeps_jobs_apart(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.pn_min_memory = 600;   /* --mem=600 on 1000 MB nodes: one per node despite 2 CPUs */
    uint32_t a = submit(st, T0, UID_ALICE, &d)->job_id;
    uint32_t b = submit(st, T0, UID_ALICE, &d)->job_id;
    batch_desc(&d, UID_ALICE);
    d.cpus_per_task = 2;
    d.pn_min_memory = 200 | FLURM_MEM_PER_CPU;   /* --mem-per-cpu=200 -c 2: 400 per node */
    uint32_t c = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 3);
    assert_int_equal(job(st, a)->nodes[0], N1);
    assert_int_equal(job(st, b)->nodes[0], N2);
    assert_int_equal(job(st, c)->nodes[0], N3);
    assert_int_equal(job(st, c)->mem_per_node, 400);
    assert_node(st, N1, ALLOC, 1, 600, 1);
    assert_node(st, N2, ALLOC, 1, 600, 1);
    assert_node(st, N3, ALLOC, 2, 400, 1);
    /* 400 MB still fit beside a 600 MB job. */
    batch_desc(&d, UID_ALICE);
    d.pn_min_memory = 400;
    uint32_t e = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 3), 1);
    assert_int_equal(job(st, e)->nodes[0], N1);
    assert_node(st, N1, ALLOC, 2, 1000, 2);
    flurm_state_free(st);
}

static void test_lifecycle_plan_def_mem_per_cpu_applies_without_mem(void **s)
{
    (void)s;
    flurm_conf_t *c = parse_conf("DefMemPerCPU=300\n" CONF_BODY);
    assert_non_null(c);
    assert_int_equal(c->def_mem_per_cpu, 300);
    flurm_state_t *st = flurm_state_new(c);
    assert_non_null(st);
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.cpus_per_task = 2;
    uint32_t b = submit(st, T0, UID_ALICE, &d)->job_id;
    batch_desc(&d, UID_ALICE);
    d.pn_min_memory = 50;   /* an explicit --mem wins */
    uint32_t e = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 3);
    assert_int_equal(job(st, a)->mem_per_node, 300);
    assert_int_equal(job(st, b)->mem_per_node, 600);
    assert_int_equal(job(st, e)->mem_per_node, 50);
    assert_int_equal(job(st, a)->nodes[0], N1);
    assert_int_equal(job(st, b)->nodes[0], N2);
    assert_int_equal(job(st, e)->nodes[0], N1);
    assert_node(st, N1, ALLOC, 2, 350, 2);
    assert_node(st, N2, ALLOC, 2, 600, 1);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_plan_exclusive_needs_whole_idle_node(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    uint32_t small = submit(st, T0, UID_ALICE, &d)->job_id;
    d.shared = 0;   /* --exclusive */
    uint32_t x1 = submit(st, T0, UID_ALICE, &d)->job_id;
    uint32_t x2 = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    assert_int_equal(job(st, small)->nodes[0], N3);
    /* n3 has a free CPU but a job on it: x1 takes all of n4. */
    assert_int_equal(job(st, x1)->nodes[0], N4);
    assert_int_equal(job(st, x1)->cpus_per_node, 2);
    assert_node(st, N3, ALLOC, 1, 0, 1);
    assert_node(st, N4, ALLOC, 2, 0, 1);
    assert_int_equal(job(st, x2)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(flurm_job_reason(job(st, x2)), FLURM_WAIT_RESOURCES);
    /* Once n3 is empty, x2 gets it. */
    assert_int_equal(apply_end(st, T0 + 10, small, N3, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(plan_apply(st, T0 + 11), 1);
    assert_int_equal(job(st, x2)->nodes[0], N3);
    assert_node(st, N3, ALLOC, 2, 0, 1);
    flurm_state_free(st);
}

static void test_lifecycle_plan_skips_held_dependent_and_part_down_jobs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    char dep[32];
    batch_desc(&d, UID_ALICE);
    d.priority = 0;   /* --hold */
    uint32_t held = submit(st, T0, UID_ALICE, &d)->job_id;
    batch_desc(&d, UID_ALICE);
    snprintf(dep, sizeof dep, "afterok:%u", held);
    d.dependency = dep;
    uint32_t dependent = submit(st, T0, UID_ALICE, &d)->job_id;
    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    uint32_t down = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(update_part_state(st, T0 + 1, "long", FLURM_PARTITION_DOWN), 0);
    batch_desc(&d, UID_ALICE);
    d.begin_time = T0 + 1000;   /* --begin in the future */
    uint32_t later = submit(st, T0, UID_ALICE, &d)->job_id;
    uint32_t plain = submit_plain(st, T0, UID_ALICE)->job_id;

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 2, starts, 8);
    assert_int_equal(n, 1);   /* none of them blocks the plain job behind them */
    assert_int_equal(starts[0].job_id, plain);
    flurm_state_starts_free(starts, n);
    assert_int_equal(plan_apply(st, T0 + 3), 1);
    assert_int_equal(job(st, held)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(job(st, dependent)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(job(st, down)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(job(st, later)->job_state, FLURM_JOB_PENDING);
    /* Each starts once what kept it is gone. */
    assert_int_equal(update_part_state(st, T0 + 4, "long", FLURM_PARTITION_UP), 0);
    assert_int_equal(plan_apply(st, T0 + 5), 1);
    assert_int_equal(job(st, down)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(plan_apply(st, T0 + 1000), 1);
    assert_int_equal(job(st, later)->job_state, FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_lifecycle_plan_fifo_blocks_lower_priority_jobs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    uint32_t fill[4];
    batch_desc(&d, UID_ALICE);
    d.cpus_per_task = 2;
    d.time_limit = 10;
    for (int i = 0; i < 4; i++)
        fill[i] = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 4);   /* every node full */
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;
    d.cpus_per_task = 2;   /* whole nodes: nothing fits beside it */
    uint32_t big = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    /* small runs longer than the fill jobs: backfilled it would delay big's reservation */
    batch_desc(&d, UID_BOB);
    d.time_limit = 60;
    uint32_t small = submit(st, T0 + 3, UID_BOB, &d)->job_id;
    batch_desc(&d, UID_BOB);
    d.partition = "long";
    uint32_t other = submit(st, T0 + 3, UID_BOB, &d)->job_id;
    assert_true(job(st, big)->priority > job(st, small)->priority);

    uint64_t gen = flurm_state_jobs_gen(st);
    assert_int_equal(plan_count(st, T0 + 4), 0);
    assert_int_equal(flurm_job_reason(job(st, big)), FLURM_WAIT_RESOURCES);
    assert_null(job(st, big)->state_desc);
    assert_int_equal(flurm_job_reason(job(st, small)), FLURM_WAIT_PRIORITY);
    /* The block is per partition: the job in "long" waits for resources, not priority... */
    assert_int_equal(flurm_job_reason(job(st, other)), FLURM_WAIT_RESOURCES);
    /* ...and readers caching the job list see that the reasons changed. */
    assert_true(flurm_state_jobs_gen(st) != gen);

    /* One node frees up: small would fit there, but it would delay big's reservation (the
     * fill jobs end at T0 + 601), so backfill keeps it behind big. */
    assert_int_equal(apply_end(st, T0 + 10, fill[0], N1, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(plan_count(st, T0 + 11), 0);
    assert_int_equal(flurm_job_reason(job(st, small)), FLURM_WAIT_PRIORITY);
    /* Three free nodes: big starts on two of them, small and the job in "long" share the
     * third in the same pass. */
    assert_int_equal(apply_end(st, T0 + 12, fill[1], N2, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(apply_end(st, T0 + 12, fill[2], N3, FLURM_END_COMPLETED, 0), 0);
    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 13, starts, 8);
    assert_int_equal(n, 3);
    assert_int_equal(starts[0].job_id, big);
    assert_int_equal(starts[0].nnodes, 2);
    assert_int_equal(starts[0].nodes[0], N1);
    assert_int_equal(starts[0].nodes[1], N2);
    assert_int_equal(starts[1].job_id, small);
    assert_int_equal(starts[1].nodes[0], N3);
    assert_int_equal(starts[2].job_id, other);
    assert_int_equal(starts[2].nodes[0], N3);
    flurm_state_starts_free(starts, n);
    flurm_state_free(st);
}

static void test_lifecycle_plan_backfills_around_a_reservation(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.time_limit = 100;
    uint32_t fill[4];
    for (int i = 0; i < 4; i++)
        fill[i] = submit(st, T0, UID_ALICE, &d)->job_id;   /* one CPU of every node */
    assert_int_equal(plan_apply(st, T0 + 1), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(job(st, fill[i])->nnodes, 1);
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 4;
    d.shared = 0;
    d.time_limit = 10;
    uint32_t big = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    batch_desc(&d, UID_BOB);
    d.time_limit = 5;
    uint32_t shorter = submit(st, T0 + 3, UID_BOB, &d)->job_id;
    batch_desc(&d, UID_BOB);
    d.time_limit = 200;
    uint32_t longer = submit(st, T0 + 3, UID_BOB, &d)->job_id;

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 4, starts, 8);
    /* the short job ends before big's reservation: backfilled; the long one would delay it */
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].job_id, shorter);
    flurm_state_starts_free(starts, n);
    const flurm_job_t *b = job(st, big);
    assert_int_equal(flurm_job_reason(b), FLURM_WAIT_RESOURCES);
    /* when the fill jobs' limits end (T0 + 1 + 100 min), in bf_resolution (60 s) steps from now */
    assert_int_equal(b->planned_start, T0 + 4 + 100 * 60);
    assert_int_equal(b->nplanned_nodes, 4);
    assert_int_equal(flurm_job_reason(job(st, longer)), FLURM_WAIT_PRIORITY);
    assert_int_equal(job(st, shorter)->planned_start, 0);

    flurm_state_sched_stats_t ss;
    flurm_state_sched_stats(st, &ss);
    assert_int_equal(ss.main_cycles, 2);
    assert_int_equal(ss.bf_cycles, 2);
    assert_int_equal(ss.bf_backfilled, 1);
    assert_int_equal(ss.bf_last_backfilled, 1);
    assert_int_equal(ss.bf_queue_len, 3);
    assert_int_equal(ss.bf_when_last, T0 + 4);
    flurm_state_free(st);
}

static void test_lifecycle_plan_marks_the_nodes_a_reservation_holds(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.shared = 0;
    d.time_limit = 100;
    uint32_t fill = submit(st, T0, UID_ALICE, &d)->job_id;   /* n1, whole */
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    assert_int_equal(job(st, fill)->nodes[0], N1);
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 4;
    d.time_limit = 10;
    uint32_t big = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    flurm_cmd_start_t starts[8];
    assert_int_equal(flurm_state_plan(st, T0 + 3, starts, 8), 0);
    assert_int_equal(job(st, big)->nplanned_nodes, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_true(flurm_state_node(st, i)->planned);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 3);   /* sinfo sees the change */
    /* the reservation goes with its job: the next cycle clears the marks */
    assert_int_equal(kill_id(st, T0 + 4, UID_ALICE, big, SIGKILL), 0);
    assert_int_equal(flurm_state_plan(st, T0 + 5, starts, 8), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_false(flurm_state_node(st, i)->planned);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 5);
    flurm_state_free(st);
}

static void test_lifecycle_plan_too_few_usable_nodes_blocks_no_one(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    /* Only n4 is usable: n1 drained, n2 not responding, n3 down by an admin. */
    assert_int_equal(update_node(st, T0 + 1, 0, "n1", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    assert_int_equal(node_not_responding(st, T0 + 1, N2), 0);
    assert_int_equal(update_node(st, T0 + 1, 0, "n3", FLURM_NODE_STATE_DOWN, "dead"), 0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;
    uint32_t big = submit(st, T0 + 2, UID_ALICE, &d)->job_id;
    uint32_t small = submit_plain(st, T0 + 2, UID_ALICE)->job_id;
    flurm_state_schedule(st, T0 + 3);
    assert_int_equal(flurm_job_reason(job(st, big)), FLURM_WAIT_RESOURCES);
    assert_string_equal(job(st, big)->state_desc, DOWN_DESC);

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 4, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].job_id, small);
    assert_int_equal(starts[0].nodes[0], N4);   /* the unusable nodes are passed over */
    flurm_state_starts_free(starts, n);
    assert_int_equal(flurm_job_reason(job(st, big)), FLURM_WAIT_RESOURCES);
    assert_string_equal(job(st, big)->state_desc, DOWN_DESC);
    flurm_state_free(st);
}

/* A start decided on room that another start took meanwhile (a stale plan) does nothing: the
 * node is never overcommitted and the job waits for the next cycle. Same for a node drained
 * between the decision and its command. */
static void test_lifecycle_start_on_room_taken_since_the_decision_is_refused(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_cmd_start_t starts[8];
    assert_int_equal(flurm_state_plan(st, T0 + 1, starts, 8), 1);
    uint32_t cpus = flurm_state_conf(st)->nodes[starts[0].nodes[0]].cpus;
    starts[0].cpus_per_node = cpus;   /* the whole node */
    assert_int_equal(apply_start(st, T0 + 2, &starts[0]), 0);
    uint32_t b = submit_plain(st, T0 + 3, UID_ALICE)->job_id;
    starts[0].job_id = b;
    starts[0].cpus_per_node = 1;
    assert_int_equal(apply_start(st, T0 + 4, &starts[0]), RC_TRANSITION_STATE);
    assert_int_equal(job(st, b)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(flurm_state_node(st, starts[0].nodes[0])->alloc_cpus, cpus);
    assert_int_equal(job(st, a)->job_state, FLURM_JOB_RUNNING);
    /* a drained node takes no start either */
    uint32_t other = starts[0].nodes[0] == N1 ? N2 : N1;
    assert_int_equal(update_node(st, T0 + 5, 0, other == N1 ? "n1" : "n2", FLURM_NODE_STATE_DRAIN, "x"), 0);
    starts[0].nodes[0] = other;
    assert_int_equal(apply_start(st, T0 + 6, &starts[0]), RC_TRANSITION_STATE);
    assert_int_equal(job(st, b)->job_state, FLURM_JOB_PENDING);
    flurm_state_starts_free(starts, 1);
    flurm_state_free(st);
}

static void test_lifecycle_start_of_changed_job_is_transition_state(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t id = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 1, starts, 8);
    assert_int_equal(n, 1);
    /* scancel gets into the log between the decision and its command. */
    assert_int_equal(kill_id(st, T0 + 2, UID_ALICE, id, SIGKILL), 0);
    flurm_buf_t before, after;
    snap(st, &before);
    assert_int_equal(apply_start(st, T0 + 3, &starts[0]), RC_TRANSITION_STATE);
    snap(st, &after);
    assert_true(snap_equal(&before, &after));
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_CANCELLED);
    assert_null(job(st, id)->nodes);
    assert_node(st, N1, IDLE, 0, 0, 0);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_started, 0);
    /* The same decision twice: the second finds the job running. */
    uint32_t id2 = submit_plain(st, T0 + 4, UID_ALICE)->job_id;
    starts[0].job_id = id2;
    assert_int_equal(apply_start(st, T0 + 5, &starts[0]), 0);
    assert_int_equal(apply_start(st, T0 + 6, &starts[0]), RC_TRANSITION_STATE);
    assert_node(st, N1, ALLOC, 1, 0, 1);
    /* An unknown job, an unknown node, no nodes at all. */
    starts[0].job_id = 999;
    assert_int_equal(apply_start(st, T0 + 7, &starts[0]), RC_TRANSITION_STATE);
    uint32_t id3 = submit_plain(st, T0 + 8, UID_ALICE)->job_id;
    starts[0].job_id = id3;
    starts[0].nodes[0] = 4;
    assert_int_equal(apply_start(st, T0 + 9, &starts[0]), RC_TRANSITION_STATE);
    starts[0].nnodes = 0;
    assert_int_equal(apply_start(st, T0 + 9, &starts[0]), RC_TRANSITION_STATE);
    assert_int_equal(job(st, id3)->job_state, FLURM_JOB_PENDING);
    flurm_state_starts_free(starts, n);
    flurm_buf_release(&before);
    flurm_buf_release(&after);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ ends */

/* Registers all nodes and runs one plain job on n1 (time limit 10). */
static flurm_state_t *one_running(uint32_t *id)
{
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.time_limit = 10;
    d.pn_min_memory = 100;
    *id = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    assert_int_equal(job(st, *id)->nodes[0], N1);
    return st;
}

static void test_lifecycle_end_completed_releases_node(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(apply_end(st, T0 + 100, id, N1, FLURM_END_COMPLETED, 0), 0);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_COMPLETE);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_NO_REASON);
    assert_int_equal(j->exit_code, 0);
    assert_int_equal(j->start_time, T0 + 1);
    assert_int_equal(j->end_time, T0 + 99);   /* when the node saw it end */
    assert_int_equal(j->max_rss_kb, 4242);
    assert_node(st, N1, IDLE, 0, 0, 0);
    assert_int_equal(flurm_state_node(st, N1)->last_busy, T0 + 100);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 100);
    assert_int_equal(flurm_state_jobs_changed(st), T0 + 100);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_completed, 1);
    assert_int_equal(stats.jobs_failed, 0);
    assert_int_equal(stats.jobs_running, 0);
    flurm_state_free(st);
}

static void test_lifecycle_end_failed_exit_code(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(apply_end(st, T0 + 100, id, N1, FLURM_END_FAILED, 768), 0);   /* exit 3 */
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_FAILED);
    assert_int_equal(flurm_job_reason(job(st, id)), FAIL_EXIT_CODE);
    assert_int_equal(job(st, id)->exit_code, 768);
    assert_node(st, N1, IDLE, 0, 0, 0);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_failed, 1);
    assert_int_equal(stats.jobs_completed, 0);
    flurm_state_free(st);
}

static void test_lifecycle_end_timeout(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(apply_end(st, T0 + 602, id, N1, FLURM_END_TIMEOUT, SIGKILL), 0);
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_TIMEOUT);
    assert_int_equal(flurm_job_reason(job(st, id)), FAIL_TIMEOUT);
    assert_int_equal(job(st, id)->end_time, T0 + 601);
    assert_node(st, N1, IDLE, 0, 0, 0);
    flurm_state_free(st);
}

static void test_lifecycle_end_duplicate_or_foreign_report_is_ignored(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    /* A report from a node the job is not on changes nothing. */
    flurm_buf_t before, after;
    snap(st, &before);
    assert_int_equal(apply_end(st, T0 + 50, id, N2, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(apply_end(st, T0 + 50, 999, N1, FLURM_END_COMPLETED, 0), 0);
    snap(st, &after);
    assert_true(snap_equal(&before, &after));
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_RUNNING);
    flurm_buf_release(&after);
    flurm_buf_release(&before);

    /* The real end, then another job takes the node; a repeat of the first report (a resent
     * message, a registration listing it again) must not touch the new job's allocation. */
    assert_int_equal(apply_end(st, T0 + 100, id, N1, FLURM_END_COMPLETED, 0), 0);
    uint32_t next = submit_plain(st, T0 + 101, UID_BOB)->job_id;
    assert_int_equal(plan_apply(st, T0 + 102), 1);
    assert_int_equal(job(st, next)->nodes[0], N1);
    snap(st, &before);
    assert_int_equal(apply_end(st, T0 + 103, id, N1, FLURM_END_FAILED, 256), 0);
    flurm_cmd_end_t again = { .job_id = id, .node = N1, .state = FLURM_END_FAILED };
    assert_int_equal(do_register(st, T0 + 104, N1, 0xB0070000u, &again, 1), 0);
    assert_node(st, N1, ALLOC, 1, 0, 1);
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_COMPLETE);
    assert_int_equal(job(st, id)->exit_code, 0);
    assert_int_equal(job(st, next)->job_state, FLURM_JOB_RUNNING);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_completed, 1);
    assert_int_equal(stats.jobs_failed, 0);
    flurm_buf_release(&before);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ kill of a running job */

static void test_lifecycle_kill_running_job_completes_on_end(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    /* Any other signal is delivered by the node and changes no state. */
    flurm_buf_t before, after;
    snap(st, &before);
    assert_int_equal(kill_id(st, T0 + 10, UID_ALICE, id, SIGTERM), 0);
    assert_int_equal(kill_id(st, T0 + 10, UID_ALICE, id, SIGUSR1), 0);
    snap(st, &after);
    assert_true(snap_equal(&before, &after));
    flurm_buf_release(&after);
    flurm_buf_release(&before);

    assert_int_equal(kill_id(st, T0 + 20, UID_ALICE, id, SIGKILL), 0);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_CANCELLED | FLURM_JOB_COMPLETING);
    assert_int_equal(j->end_time, T0 + 20);
    assert_non_null(j->nodes);
    assert_node(st, N1, ALLOC, 1, 100, 1);   /* held until the processes are gone */
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_canceled, 1);
    /* Nothing else may start in its place meanwhile, and a second scancel is "already done". */
    assert_int_equal(kill_id(st, T0 + 21, UID_ALICE, id, SIGKILL), 2021);

    /* The node reports the end: COMPLETING goes, CANCELLED stays, the node is free. */
    assert_int_equal(apply_end(st, T0 + 30, id, N1, FLURM_END_CANCELLED, SIGKILL), 0);
    j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_CANCELLED);
    assert_node(st, N1, IDLE, 0, 0, 0);
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_canceled, 1);
    assert_int_equal(stats.jobs_completed + stats.jobs_failed, 0);
    flurm_state_free(st);
}

static void test_lifecycle_purge_skips_jobs_holding_nodes(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(purge(st, T0 + 5, id), 0);   /* running */
    assert_non_null(flurm_state_find_job(st, id));
    assert_int_equal(kill_id(st, T0 + 6, 0, id, SIGKILL), 0);
    assert_int_equal(purge(st, T0 + 7, id), 0);   /* cancelled, still completing */
    assert_non_null(flurm_state_find_job(st, id));
    assert_int_equal(apply_end(st, T0 + 8, id, N1, FLURM_END_CANCELLED, 9), 0);
    assert_int_equal(purge(st, T0 + 9, id), 0);
    assert_null(flurm_state_find_job(st, id));
    assert_node(st, N1, IDLE, 0, 0, 0);
    /* A job that ended normally is purged too. */
    uint32_t b = submit_plain(st, T0 + 10, UID_ALICE)->job_id;
    assert_int_equal(plan_apply(st, T0 + 11), 1);
    assert_int_equal(apply_end(st, T0 + 12, b, N1, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(purge(st, T0 + 13, b), 0);
    assert_null(flurm_state_find_job(st, b));
    assert_int_equal(flurm_state_job_count(st), 0);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ drain of a busy node */

static void test_lifecycle_drain_busy_node_is_draining_then_drained(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(update_node(st, T0 + 5, 0, "n1", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    /* ALLOCATED|DRAIN: sinfo prints "draining". */
    assert_node(st, N1, ALLOC | DRAIN, 1, 100, 1);
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_RUNNING);
    /* No new work goes there although a CPU is free. */
    uint32_t b = submit_plain(st, T0 + 6, UID_ALICE)->job_id;
    assert_int_equal(plan_apply(st, T0 + 7), 1);
    assert_int_equal(job(st, b)->nodes[0], N2);
    /* IDLE|DRAIN once the job is gone: "drained". */
    assert_int_equal(apply_end(st, T0 + 8, id, N1, FLURM_END_COMPLETED, 0), 0);
    assert_node(st, N1, IDLE | DRAIN, 0, 0, 0);
    assert_string_equal(flurm_state_node(st, N1)->reason, "maint");
    /* Resume makes it usable again. */
    assert_int_equal(update_node(st, T0 + 9, 0, "n1", FLURM_NODE_RESUME, NULL), 0);
    assert_node(st, N1, IDLE, 0, 0, 0);
    flurm_state_free(st);
}

/* An admin DOWN leaves the node's jobs running (slurmctld kills them; FLURM does not yet);
 * RESUME brings it back ALLOCATED while they hold it, as a restore recomputes it. */
/* scontrol update State=DOWN on a busy node (slurmctld kill_running_job_by_node_name): its
 * job is killed and, requeueable, pends again once the node reports the processes gone; until
 * then it holds the node (RESUME brings the node back ALLOCATED) and no cycle starts it. */
static void test_lifecycle_admin_down_requeues_the_running_job(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    assert_int_equal(update_node(st, T0 + 5, 0, "n1", FLURM_NODE_STATE_DOWN, "maint"), 0);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_PENDING | FLURM_JOB_COMPLETING);
    assert_int_equal(j->restart_cnt, 1);
    assert_int_equal(j->nodes[0], N1);
    assert_node(st, N1, FLURM_NODE_STATE_DOWN, 1, 100, 1);
    assert_int_equal(plan_count(st, T0 + 6), 0);
    assert_int_equal(update_node(st, T0 + 7, 0, "n1", FLURM_NODE_RESUME, NULL), 0);
    assert_node(st, N1, ALLOC, 1, 100, 1);
    flurm_buf_t a;
    snap(st, &a);
    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, a.data, a.size), FLURM_OK);
    assert_node(r, N1, ALLOC, 1, 100, 1);
    flurm_buf_release(&a);
    flurm_state_free(r);
    /* the kill is reported: it pends as a requeued job does (BeginTime), the node is idle */
    assert_int_equal(apply_end(st, T0 + 9, id, N1, FLURM_END_CANCELLED, 15), 0);
    assert_int_equal(j->job_state, FLURM_JOB_PENDING);
    assert_null(j->nodes);
    assert_int_equal(j->eligible_time, T0 + 9 + 121);
    assert_node(st, N1, IDLE, 0, 0, 0);
    assert_int_equal(plan_count(st, T0 + 9 + 121), 1);
    flurm_state_free(st);
}

/* --no-requeue: NODE_FAIL (reason NodeDown) at once, the end time that of the DOWN; the kill's
 * report (a cancel) changes neither, and a node lost after the DOWN requeues nothing. */
static void test_lifecycle_admin_down_without_requeue_is_node_fail(void **s)
{
    (void)s;
    for (int lost = 0; lost < 2; lost++) {
        flurm_state_t *st = new_state();
        register_all(st, T0);
        flurm_job_desc_msg_t d;
        batch_desc(&d, UID_ALICE);
        d.requeue = 0;
        d.min_nodes = 2;
        uint32_t id = submit(st, T0, UID_ALICE, &d)->job_id;
        assert_int_equal(plan_apply(st, T0 + 1), 1);
        assert_int_equal(update_node(st, T0 + 5, 0, "n2", FLURM_NODE_STATE_DOWN, "maint"), 0);
        const flurm_job_t *j = job(st, id);
        assert_int_equal(j->job_state, FLURM_JOB_NODE_FAIL | FLURM_JOB_COMPLETING);
        assert_int_equal(flurm_job_reason(j), FAIL_DOWN_NODE);
        assert_int_equal(j->end_time, T0 + 5);
        assert_int_equal(j->restart_cnt, 0);
        if (lost)
            assert_int_equal(node_not_responding(st, T0 + 300, N2), 0);
        else
            assert_int_equal(apply_end(st, T0 + 8, id, N1, FLURM_END_CANCELLED, 15), 0);
        assert_int_equal(j->job_state, FLURM_JOB_NODE_FAIL);
        assert_int_equal(j->end_time, T0 + 5);
        assert_int_equal(j->restart_cnt, 0);
        assert_null(j->nodes);
        assert_node(st, N1, IDLE, 0, 0, 0);
        flurm_state_stats_t stats;
        flurm_state_stats(st, &stats);
        assert_int_equal(stats.jobs_failed, 1);
        assert_int_equal(stats.jobs_pending, 0);
        flurm_state_free(st);
    }
}

/* scontrol requeue of a running job: PENDING|COMPLETING until its node reports the processes
 * gone. Meanwhile it holds its node and is no candidate, so no cycle starts it elsewhere. */
static void test_lifecycle_requeued_job_is_not_started_again_while_completing(void **s)
{
    (void)s;
    uint32_t id;
    flurm_state_t *st = one_running(&id);
    char sid[16];
    snprintf(sid, sizeof sid, "%u", id);
    flurm_requeue_msg_t m = { .job_id = FLURM_NO_VAL, .job_id_str = sid };
    assert_int_equal(apply_msg(st, FLURM_REQUEST_JOB_REQUEUE, T0 + 5, UID_ALICE, 0, &m, NULL), 0);
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_PENDING | FLURM_JOB_COMPLETING);
    assert_int_equal(plan_apply(st, T0 + 6), 0);
    assert_int_equal(job(st, id)->nodes[0], N1);
    assert_node(st, N1, ALLOC, 1, 100, 1);
    assert_node(st, N2, IDLE, 0, 0, 0);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ dead nodes */

static void test_lifecycle_node_death_requeues_running_job(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;
    d.time_limit = 5;
    uint32_t id = submit(st, T0, UID_ALICE, &d)->job_id;
    uint32_t prio = job(st, id)->priority;
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    assert_node(st, N2, ALLOC, 1, 0, 1);

    assert_int_equal(node_not_responding(st, T0 + 300, N2), 0);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_PENDING);
    assert_int_equal(j->restart_cnt, 1);
    assert_int_equal(j->start_time, 0);
    assert_int_equal(j->end_time, 0);
    assert_int_equal(j->priority, prio);
    assert_null(j->nodes);
    /* Both its nodes are released: the survivor is idle, the dead one DOWN. */
    assert_node(st, N1, IDLE, 0, 0, 0);
    assert_node(st, N2, FLURM_NODE_STATE_DOWN | FLURM_NODE_STATE_NO_RESPOND, 0, 0, 0);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_pending, 1);
    assert_int_equal(stats.jobs_failed, 0);

    /* The planner starts it again elsewhere. */
    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 301, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].nodes[0], N1);
    assert_int_equal(starts[0].nodes[1], N3);
    assert_int_equal(apply_start(st, T0 + 302, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    assert_int_equal(j->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(j->start_time, T0 + 302);
    assert_int_equal(j->end_time, T0 + 302 + 300);
    assert_int_equal(j->restart_cnt, 1);
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_started, 2);
    /* A late end from the dead node's first run is not this run's end. */
    assert_int_equal(apply_end(st, T0 + 303, id, N2, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(j->job_state, FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_lifecycle_node_death_without_requeue_is_node_fail(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.requeue = 0;   /* --no-requeue */
    uint32_t id = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    assert_int_equal(node_not_responding(st, T0 + 300, N1), 0);
    const flurm_job_t *j = job(st, id);
    assert_int_equal(j->job_state, FLURM_JOB_NODE_FAIL);
    assert_int_equal(flurm_job_reason(j), FAIL_DOWN_NODE);
    assert_int_equal(j->end_time, T0 + 300);
    assert_int_equal(j->restart_cnt, 0);
    assert_null(j->nodes);
    assert_node(st, N1, FLURM_NODE_STATE_DOWN | FLURM_NODE_STATE_NO_RESPOND, 0, 0, 0);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_failed, 1);
    assert_int_equal(plan_count(st, T0 + 301), 0);
    assert_int_equal(purge(st, T0 + 302, id), 0);
    assert_null(flurm_state_find_job(st, id));
    flurm_state_free(st);
}

/* JobRequeue=0: a job that did not ask for --requeue ends NODE_FAIL when its node dies; one
 * that did is requeued. */
static void test_lifecycle_node_death_follows_job_requeue_0(void **s)
{
    (void)s;
    flurm_conf_t *c = parse_conf("JobRequeue=0\n" CONF_BODY);
    assert_non_null(c);
    flurm_state_t *st = flurm_state_new(c);
    assert_non_null(st);
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;   /* n1, n2 */
    uint32_t plain = submit(st, T0, UID_ALICE, &d)->job_id;
    d.requeue = 1;     /* n3, n4 */
    uint32_t asked = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    assert_int_equal(node_not_responding(st, T0 + 300, N1), 0);
    assert_int_equal(node_not_responding(st, T0 + 300, N3), 0);
    assert_int_equal(job(st, plain)->job_state, FLURM_JOB_NODE_FAIL);
    assert_int_equal(job(st, asked)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(job(st, asked)->restart_cnt, 1);
    flurm_state_free(st);
    flurm_conf_free(c);
}

/* ------------------------------------------------------------------ arrays */

static void test_lifecycle_array_tasks_split_off_throttled(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "1-3%2";
    d.time_limit = 7;
    const flurm_job_t *meta = submit(st, T0, UID_ALICE, &d);
    uint32_t mid = meta->job_id;

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 1, starts, 8);
    assert_int_equal(n, 1);   /* one task per pass */
    assert_int_equal(starts[0].job_id, mid);
    assert_int_equal(starts[0].array_task_id, 1);
    assert_int_equal(apply_start(st, T0 + 1, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    uint32_t t1 = mid + 1;
    const flurm_job_t *j1 = job(st, t1);
    assert_int_equal(j1->array_job_id, mid);
    assert_int_equal(j1->array_task_id, 1);
    assert_int_equal(j1->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(j1->time_limit, 7);
    assert_int_equal(j1->user_id, UID_ALICE);
    assert_int_equal(j1->nodes[0], N1);
    assert_int_equal(flurm_state_next_job_id(st), t1 + 1);
    meta = job(st, mid);
    assert_int_equal(meta->job_state, FLURM_JOB_PENDING);
    assert_int_equal(meta->array_task_id, FLURM_NO_VAL);

    n = flurm_state_plan(st, T0 + 2, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].array_task_id, 2);
    assert_int_equal(apply_start(st, T0 + 2, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    uint32_t t2 = mid + 2;
    assert_int_equal(job(st, t2)->array_task_id, 2);
    assert_int_equal(job(st, t2)->array_job_id, mid);
    assert_int_equal(job(st, t2)->nodes[0], N1);   /* packed beside task 1 */

    /* %2: task 3 waits although two nodes are idle. */
    assert_int_equal(plan_count(st, T0 + 3), 0);
    assert_int_equal(plan_count(st, T0 + 4), 0);
    assert_int_equal(apply_end(st, T0 + 5, t1, N1, FLURM_END_COMPLETED, 0), 0);

    n = flurm_state_plan(st, T0 + 6, starts, 8);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0].job_id, mid);
    assert_int_equal(starts[0].array_task_id, 3);
    assert_int_equal(apply_start(st, T0 + 6, &starts[0]), 0);
    flurm_state_starts_free(starts, n);
    /* The last task keeps the array's own id. */
    meta = job(st, mid);
    assert_int_equal(meta->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(meta->array_job_id, mid);
    assert_int_equal(meta->array_task_id, 3);
    assert_null(meta->array_pending);
    assert_int_equal(flurm_state_next_job_id(st), t2 + 1);
    assert_int_equal(flurm_state_job_count(st), 3);
    assert_int_equal(plan_count(st, T0 + 7), 0);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_started, 3);
    assert_int_equal(stats.jobs_running, 2);
    flurm_state_free(st);
}

static void assert_effect(size_t i, flurm_effect_kind_t kind, uint32_t job_id)
{
    assert_true(i < g_neffects);
    assert_int_equal(g_effects[i].kind, kind);
    assert_int_equal(g_effects[i].job_id, job_id);
}

/* Each command names what the nodes must do, so the controller never rescans the state to find
 * out: a start (an array task's split-off id), a cancel, an admin DOWN (every job it kills), a
 * requeue, scontrol suspend and resume. Commands that ask nothing of the nodes name nothing. */
static void test_lifecycle_effects_name_what_the_nodes_must_do(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    assert_int_equal(g_neffects, 0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "0-1";
    d.cpus_per_task = 2;
    uint32_t mid = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(g_neffects, 0);
    assert_int_equal(plan_apply(st, T0 + 1), 1);   /* task 0, split off on n1 */
    assert_int_equal(g_neffects, 1);
    assert_effect(0, FLURM_EFFECT_LAUNCH, mid + 1);
    assert_int_equal(plan_apply(st, T0 + 2), 1);   /* task 1 keeps the array's id, on n2 */
    assert_effect(0, FLURM_EFFECT_LAUNCH, mid);

    assert_int_equal(kill_id(st, T0 + 3, UID_ALICE, mid + 1, SIGKILL), 0);
    assert_int_equal(g_neffects, 1);
    assert_effect(0, FLURM_EFFECT_KILL, mid + 1);
    assert_int_equal(kill_id(st, T0 + 3, UID_ALICE, mid, SIGUSR1), 0);   /* a signal: no command effect */
    assert_int_equal(g_neffects, 0);

    assert_int_equal(apply_msg(st, FLURM_REQUEST_SUSPEND, T0 + 4, 0, 0,
                               &(flurm_suspend_msg_t){ .op = FLURM_SUSPEND_JOB, .job_id = mid }, NULL), 0);
    assert_int_equal(g_neffects, 1);
    assert_effect(0, FLURM_EFFECT_SUSPEND, mid);
    assert_int_equal(apply_msg(st, FLURM_REQUEST_SUSPEND, T0 + 5, 0, 0,
                               &(flurm_suspend_msg_t){ .op = FLURM_RESUME_JOB, .job_id = mid }, NULL), 0);
    assert_effect(0, FLURM_EFFECT_RESUME, mid);

    assert_int_equal(update_node(st, T0 + 6, 0, "n2", FLURM_NODE_STATE_DOWN, "broken"), 0);
    assert_int_equal(g_neffects, 1);
    assert_effect(0, FLURM_EFFECT_KILL, mid);
    assert_int_equal(update_node(st, T0 + 7, 0, "n1", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    assert_int_equal(g_neffects, 0);
    flurm_state_free(st);
}

/* A task split off an array, requeued because its node died, is an ordinary pending job: it
 * must start again. */
static void test_lifecycle_array_requeued_task_starts_again(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "0-1";
    d.cpus_per_task = 2;
    uint32_t mid = submit(st, T0, UID_ALICE, &d)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 1);   /* task 0, split off on n1 */
    assert_int_equal(plan_apply(st, T0 + 2), 1);   /* task 1 keeps the id, on n2 */
    uint32_t t0 = mid + 1;
    assert_int_equal(job(st, t0)->nodes[0], N1);
    assert_int_equal(job(st, mid)->nodes[0], N2);
    assert_int_equal(node_not_responding(st, T0 + 100, N1), 0);
    assert_int_equal(node_not_responding(st, T0 + 100, N2), 0);
    assert_int_equal(job(st, t0)->job_state, FLURM_JOB_PENDING);
    assert_int_equal(job(st, mid)->job_state, FLURM_JOB_PENDING);

    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 101, starts, 8);
    assert_int_equal(n, 2);
    assert_int_equal(starts[0].job_id, mid);   /* same priority: lower id first */
    assert_int_equal(starts[0].array_task_id, FLURM_NO_VAL);
    assert_int_equal(starts[1].job_id, t0);
    assert_int_equal(starts[1].array_task_id, FLURM_NO_VAL);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(apply_start(st, T0 + 101, &starts[i]), 0);
    flurm_state_starts_free(starts, n);
    assert_int_equal(job(st, mid)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(job(st, mid)->array_task_id, 1);
    assert_int_equal(job(st, t0)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(job(st, t0)->array_task_id, 0);
    assert_int_equal(flurm_state_job_count(st), 2);   /* no new split */
    assert_int_equal(job(st, mid)->nodes[0], N3);
    assert_int_equal(job(st, t0)->nodes[0], N4);
    flurm_state_free(st);
}

/* The proposer reserves a submit's id from next_job_id before the command is applied; a task
 * split off by a start applied in between takes that id first. The submit must then still
 * yield a job of its own, not a second record with the same id. */
static void test_lifecycle_array_split_and_reserved_submit_id_do_not_collide(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "0-3";
    uint32_t mid = submit(st, T0, UID_ALICE, &d)->job_id;
    flurm_cmd_start_t starts[8];
    size_t n = flurm_state_plan(st, T0 + 1, starts, 8);
    assert_int_equal(n, 1);
    uint32_t reserved = flurm_state_next_job_id(st);   /* sbatch's request arrives */
    assert_int_equal(apply_start(st, T0 + 2, &starts[0]), 0);   /* the split takes it */
    flurm_state_starts_free(starts, n);
    assert_int_equal(job(st, reserved)->array_job_id, mid);

    batch_desc(&d, UID_BOB);
    uint32_t got = 0;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_SUBMIT_BATCH_JOB, T0 + 3, UID_BOB, reserved, &d, &got), 0);
    assert_true(got != reserved);
    assert_int_equal(got, reserved + 1);
    assert_int_equal(job(st, got)->user_id, UID_BOB);
    assert_int_equal(job(st, reserved)->array_job_id, mid);
    assert_int_equal(job(st, reserved)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(flurm_state_job_count(st), 3);
    assert_int_equal(flurm_state_next_job_id(st), got + 1);
    size_t seen = 0;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        seen += j && j->job_id == reserved;
    }
    assert_int_equal(seen, 1);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ snapshot / restore */

static void assert_same_nodes(const flurm_state_t *a, const flurm_state_t *b, const char *what)
{
    for (size_t i = 0; i < flurm_state_conf(a)->node_count; i++) {
        const flurm_node_rt_t *x = flurm_state_node(a, i), *y = flurm_state_node(b, i);
        if (x->state != y->state || x->alloc_cpus != y->alloc_cpus || x->alloc_mem != y->alloc_mem ||
            x->njobs != y->njobs || x->last_busy != y->last_busy)
            fail_msg("%s: node %zu differs: state %#x/%#x cpus %u/%u mem %llu/%llu njobs %u/%u", what,
                     i, x->state, y->state, x->alloc_cpus, y->alloc_cpus,
                     (unsigned long long)x->alloc_mem, (unsigned long long)y->alloc_mem, x->njobs,
                     y->njobs);
    }
}

static void test_lifecycle_snapshot_restore_recomputes_allocations(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.min_nodes = 2;
    d.pn_min_memory = 300;
    uint32_t wide = submit(st, T0, UID_ALICE, &d)->job_id;         /* n1+n2, 300 MB each */
    batch_desc(&d, UID_ALICE);
    d.shared = 0;
    uint32_t excl = submit(st, T0, UID_ALICE, &d)->job_id;         /* all of n3 */
    uint32_t done = submit_plain(st, T0, UID_BOB)->job_id;          /* n1, ends */
    uint32_t cancelled = submit_plain(st, T0, UID_BOB)->job_id;     /* n2, completing */
    batch_desc(&d, UID_BOB);
    d.array_inx = "0-5%3";
    uint32_t arr = submit(st, T0, UID_BOB, &d)->job_id;             /* task 0 on n4 */
    assert_int_equal(plan_apply(st, T0 + 1), 5);
    assert_int_equal(plan_apply(st, T0 + 2), 1);                   /* task 1 on n4 */
    assert_int_equal(apply_end(st, T0 + 3, done, N1, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(kill_id(st, T0 + 4, 0, cancelled, SIGKILL), 0);
    assert_int_equal(update_node(st, T0 + 5, 0, "n2", FLURM_NODE_STATE_DRAIN, "soon"), 0);
    uint32_t pending = submit_plain(st, T0 + 6, UID_ALICE)->job_id;
    assert_int_equal(job(st, cancelled)->job_state, FLURM_JOB_CANCELLED | FLURM_JOB_COMPLETING);
    assert_int_equal(job(st, arr)->job_state, FLURM_JOB_PENDING);
    assert_node(st, N1, ALLOC, 1, 300, 1);
    assert_node(st, N2, ALLOC | DRAIN, 2, 300, 2);
    assert_node(st, N3, ALLOC, 2, 0, 1);
    assert_node(st, N4, ALLOC, 2, 0, 2);
    (void)wide;
    (void)excl;

    flurm_buf_t a, b;
    snap(st, &a);
    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, a.data, a.size), FLURM_OK);
    snap(r, &b);
    assert_true(snap_equal(&a, &b));
    assert_same_nodes(st, r, "restore");
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *o = flurm_state_job_at(st, i);
        if (!o)
            continue;
        const flurm_job_t *n = job(r, o->job_id);
        assert_int_equal(n->job_state, o->job_state);
        assert_int_equal(n->nnodes, o->nnodes);
        assert_int_equal(n->nodes != NULL, o->nodes != NULL);
        for (uint32_t k = 0; o->nodes && k < o->nnodes; k++)
            assert_int_equal(n->nodes[k], o->nodes[k]);
        assert_int_equal(n->cpus_per_node, o->cpus_per_node);
        assert_int_equal(n->mem_per_node, o->mem_per_node);
        assert_int_equal(n->array_task_id, o->array_task_id);
    }
    /* Both go on alike: the same decisions, the same releases. */
    flurm_cmd_start_t s1[8], s2[8];
    size_t n1 = flurm_state_plan(st, T0 + 7, s1, 8), n2 = flurm_state_plan(r, T0 + 7, s2, 8);
    assert_int_equal(n1, n2);
    /* Array task 2 (the array is ahead of pending) takes the CPU freed on n1; pending waits. */
    assert_int_equal(n1, 1);
    assert_int_equal(s1[0].job_id, arr);
    assert_int_equal(s2[0].job_id, arr);
    assert_int_equal(s1[0].array_task_id, 2);
    assert_int_equal(s2[0].array_task_id, 2);
    assert_int_equal(s1[0].nodes[0], N1);
    assert_int_equal(s2[0].nodes[0], N1);
    assert_int_equal(apply_start(st, T0 + 7, &s1[0]), 0);
    assert_int_equal(apply_start(r, T0 + 7, &s2[0]), 0);
    flurm_state_starts_free(s1, n1);
    flurm_state_starts_free(s2, n2);
    flurm_state_t *both[] = { st, r };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(apply_end(both[k], T0 + 8, cancelled, N2, FLURM_END_CANCELLED, 9), 0);
        assert_int_equal(apply_end(both[k], T0 + 9, excl, N3, FLURM_END_COMPLETED, 0), 0);
        assert_int_equal(plan_apply(both[k], T0 + 10), 1);   /* pending; the array is at %3 */
        assert_int_equal(job(both[k], pending)->nodes[0], N3);
    }
    assert_same_nodes(st, r, "after restore");
    flurm_buf_release(&a);
    flurm_buf_release(&b);
    snap(st, &a);
    snap(r, &b);
    assert_true(snap_equal(&a, &b));
    flurm_buf_release(&a);
    flurm_buf_release(&b);
    flurm_state_free(r);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ determinism */

typedef struct cmd_list {
    flurm_buf_t *cmds;
    uint32_t *rcs;     /* what the leader answered */
    size_t n, cap;
} cmd_list_t;

/* Appends a fresh command buffer to L. */
static flurm_buf_t *push(cmd_list_t *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->cmds = realloc(l->cmds, l->cap * sizeof *l->cmds);
        l->rcs = realloc(l->rcs, l->cap * sizeof *l->rcs);
        assert_true(l->cmds && l->rcs);
    }
    flurm_buf_init(&l->cmds[l->n]);
    return &l->cmds[l->n++];
}

static void leader_apply(flurm_state_t *leader, cmd_list_t *l, uint64_t seed)
{
    flurm_apply_result_t res;
    const flurm_buf_t *c = &l->cmds[l->n - 1];
    if (flurm_state_apply(leader, c->data, c->size, &res) != FLURM_OK)
        fail_msg("seed %llu: command %zu refused", (unsigned long long)seed, l->n - 1);
    l->rcs[l->n - 1] = res.rc;
}

/* The k-th job (mod count) of ST holding nodes, or NULL. */
static const flurm_job_t *pick_holder(const flurm_state_t *st, uint32_t k)
{
    size_t n = 0;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        n += j && j->nodes;
    }
    if (!n)
        return NULL;
    k %= n;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        if (j && j->nodes && k-- == 0)
            return j;
    }
    return NULL;
}

/* A plausible log as the daemon would write it: a leader state applies each command as it is
 * made, its planner's decisions become START commands (some delayed, to go stale), ends are
 * reported for jobs that hold nodes, nodes die and come back. */
static void gen_lifecycle(uint64_t seed, size_t count, cmd_list_t *l, flurm_state_t *leader)
{
    static const char *const parts[] = { NULL, NULL, "debug", "long" };
    static const uint32_t limits[] = { FLURM_NO_VAL, 10, 60 };
    static const uint64_t mems[] = { FLURM_NO_VAL64, FLURM_NO_VAL64, 300, 600, 200 | FLURM_MEM_PER_CPU };
    static const char *const arrays[] = { "1-4%2", "0-2", "0-9%3" };
    static const uint8_t ends[] = { FLURM_END_COMPLETED, FLURM_END_COMPLETED, FLURM_END_FAILED,
                                    FLURM_END_TIMEOUT, FLURM_END_CANCELLED, FLURM_END_NODE_FAIL };
    static const uint32_t node_states[] = { FLURM_NODE_STATE_DRAIN, FLURM_NODE_RESUME,
                                            FLURM_NODE_RESUME, FLURM_NODE_STATE_DOWN };
    static const char *const node_names[] = { "n1", "n2", "n3", "n4", "n[1-2]" };
    uint64_t rng = seed;
    uint32_t next_id = 1;
    time_t now = T0;
    flurm_buf_t deferred[4];
    size_t ndeferred = 0;

    for (uint32_t i = 0; i < 4; i++) {
        flurm_cmd_register_t m = { .node = i, .boot_id = i + 1, .version = "22.05.8" };
        cmd_register(push(l), now, &m);
        leader_apply(leader, l, seed);
    }
    while (l->n < count) {
        now += rng_below(&rng, 3);
        uint32_t roll = rng_below(&rng, 100);
        if (roll < 22) {
            flurm_job_desc_msg_t d;
            uint32_t uid = rng_below(&rng, 2) ? UID_ALICE : UID_BOB;
            batch_desc(&d, uid);
            d.partition = (char *)PICK(&rng, parts);
            d.time_limit = PICK(&rng, limits);
            d.pn_min_memory = PICK(&rng, mems);
            if (rng_below(&rng, 4) == 0)
                d.min_nodes = 1 + rng_below(&rng, 3);
            if (rng_below(&rng, 4) == 0)
                d.cpus_per_task = 2;
            if (rng_below(&rng, 8) == 0)
                d.shared = 0;
            if (rng_below(&rng, 4) == 0)
                d.requeue = 0;
            if (rng_below(&rng, 8) == 0)
                d.array_inx = (char *)PICK(&rng, arrays);
            if (rng_below(&rng, 15) == 0)
                d.priority = 0;
            /* The proposer reserves ids ahead of applies (a split may take one first). */
            uint32_t reserve = flurm_state_next_job_id(leader);
            if (reserve < next_id)
                reserve = next_id;
            next_id = reserve + 1;
            cmd_msg(push(l), FLURM_REQUEST_SUBMIT_BATCH_JOB, now, uid, reserve, &d);
        } else if (roll < 45) {
            flurm_cmd_start_t starts[4];
            size_t n = flurm_state_plan(leader, now, starts, 4);
            for (size_t k = 0; k < n; k++) {
                if (ndeferred < 4 && rng_below(&rng, 6) == 0) {
                    flurm_buf_init(&deferred[ndeferred]);
                    cmd_start(&deferred[ndeferred++], now, &starts[k]);
                    continue;
                }
                cmd_start(push(l), now, &starts[k]);
                leader_apply(leader, l, seed);
            }
            flurm_state_starts_free(starts, n);
            continue;
        } else if (roll < 50 && ndeferred) {
            /* A decision that waited: its command may find the job changed. */
            flurm_buf_t *c = push(l);
            *c = deferred[--ndeferred];
        } else if (roll < 63) {
            const flurm_job_t *j = pick_holder(leader, rng_next(&rng) & 0xFFFF);
            if (!j)
                continue;
            flurm_cmd_end_t e = { .job_id = j->job_id,
                                  .node = rng_below(&rng, 8) ? j->nodes[rng_below(&rng, j->nnodes)]
                                                             : rng_below(&rng, 4),
                                  .state = PICK(&rng, ends), .wait_status = rng_below(&rng, 3) << 8,
                                  .end_time = rng_below(&rng, 2) ? now - 1 : 0 };
            cmd_end(push(l), now, &e);
        } else if (roll < 72) {
            const flurm_job_t *j = pick_holder(leader, rng_next(&rng) & 0xFFFF);
            uint32_t id = j && rng_below(&rng, 2) ? j->job_id : 1 + rng_below(&rng, next_id);
            char sbuf[16];
            snprintf(sbuf, sizeof sbuf, "%u", id);
            flurm_job_step_kill_msg_t k = { .step_id = { FLURM_NO_VAL, FLURM_NO_VAL, FLURM_NO_VAL },
                                            .sjob_id = sbuf,
                                            .signal = rng_below(&rng, 5) ? SIGKILL : SIGTERM };
            cmd_msg(push(l), FLURM_REQUEST_KILL_JOB, now, 0, 0, &k);
        } else if (roll < 79) {
            uint32_t node = rng_below(&rng, 4);
            flurm_cmd_end_t ended[2];
            uint32_t nended = 0;
            const flurm_job_t *j = pick_holder(leader, rng_next(&rng) & 0xFFFF);
            if (j && rng_below(&rng, 2))
                ended[nended++] = (flurm_cmd_end_t){ .job_id = j->job_id, .node = node,
                                                     .state = PICK(&rng, ends), .end_time = now };
            flurm_cmd_register_t m = { .node = node, .boot_id = rng_next(&rng), .boot_time = now - 5,
                                       .start_time = now, .version = "22.05.8", .arch = "x86_64",
                                       .os = "Linux", .ended = ended, .nended = nended };
            cmd_register(push(l), now, &m);
        } else if (roll < 83) {
            uint32_t ids[2] = { rng_below(&rng, 4), rng_below(&rng, 5) };
            cmd_ids(push(l), FLURM_CMD_NODES_NOT_RESPONDING, now, ids, 1 + rng_below(&rng, 2));
        } else if (roll < 90) {
            flurm_update_node_msg_t m;
            char nbuf[16], rbuf[16] = "why";
            node_msg_init(&m);
            snprintf(nbuf, sizeof nbuf, "%s", PICK(&rng, node_names));
            m.node_names = nbuf;
            m.node_state = PICK(&rng, node_states);
            m.reason = rbuf;
            cmd_msg(push(l), FLURM_REQUEST_UPDATE_NODE, now, 0, 0, &m);
        } else {
            uint32_t ids[16], n = 0;
            for (size_t k = 0; k < flurm_state_job_slots(leader) && n < 16; k++) {
                const flurm_job_t *j = flurm_state_job_at(leader, k);
                if (j && (j->job_state & FLURM_JOB_STATE_BASE) >= FLURM_JOB_COMPLETE &&
                    rng_below(&rng, 2))
                    ids[n++] = j->job_id;
            }
            if (!n)
                continue;
            cmd_ids(push(l), FLURM_CMD_PURGE_JOBS, now, ids, n);
        }
        leader_apply(leader, l, seed);
    }
    while (ndeferred)
        flurm_buf_release(&deferred[--ndeferred]);
}

static void apply_range(flurm_state_t *st, const cmd_list_t *l, size_t from, size_t to, uint64_t seed)
{
    for (size_t i = from; i < to; i++) {
        flurm_apply_result_t res;
        int rc = flurm_state_apply(st, l->cmds[i].data, l->cmds[i].size, &res);
        if (rc != FLURM_OK)
            fail_msg("seed %llu: command %zu refused (%d)", (unsigned long long)seed, i, rc);
        if (res.rc != l->rcs[i])
            fail_msg("seed %llu: command %zu answered %u, the leader %u", (unsigned long long)seed, i,
                     res.rc, l->rcs[i]);
    }
}

/* Jobs and nodes agree in everything the log decides (reasons are the planner's, not the
 * log's: only the leader plans). */
static void assert_same_outcome(const flurm_state_t *a, const flurm_state_t *b, uint64_t seed)
{
    if (flurm_state_job_count(a) != flurm_state_job_count(b))
        fail_msg("seed %llu: %zu jobs vs %zu", (unsigned long long)seed, flurm_state_job_count(a),
                 flurm_state_job_count(b));
    for (size_t i = 0; i < flurm_state_job_slots(a); i++) {
        const flurm_job_t *x = flurm_state_job_at(a, i);
        if (!x)
            continue;
        const flurm_job_t *y = flurm_state_find_job(b, x->job_id);
        if (!y || x->job_state != y->job_state || x->start_time != y->start_time ||
            x->end_time != y->end_time || x->exit_code != y->exit_code ||
            x->restart_cnt != y->restart_cnt || x->nnodes != y->nnodes ||
            (x->nodes == NULL) != (y->nodes == NULL) || x->array_task_id != y->array_task_id ||
            (x->nodes && memcmp(x->nodes, y->nodes, x->nnodes * sizeof *x->nodes)))
            fail_msg("seed %llu: job %u differs", (unsigned long long)seed, x->job_id);
    }
    for (size_t i = 0; i < flurm_state_conf(a)->node_count; i++) {
        const flurm_node_rt_t *x = flurm_state_node(a, i), *y = flurm_state_node(b, i);
        if (x->state != y->state || x->alloc_cpus != y->alloc_cpus || x->alloc_mem != y->alloc_mem ||
            x->njobs != y->njobs)
            fail_msg("seed %llu: node %zu differs", (unsigned long long)seed, i);
    }
}

/* Node allocations equal the sum over the jobs holding them. */
static void assert_allocations_consistent(const flurm_state_t *st, uint64_t seed)
{
    const flurm_conf_t *c = flurm_state_conf(st);
    for (size_t n = 0; n < c->node_count; n++) {
        uint32_t cpus = 0, njobs = 0;
        uint64_t mem = 0;
        for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
            const flurm_job_t *j = flurm_state_job_at(st, i);
            for (uint32_t k = 0; j && j->nodes && k < j->nnodes; k++) {
                if (j->nodes[k] == n) {
                    cpus += j->cpus_per_node;
                    mem += j->mem_per_node;
                    njobs++;
                }
            }
        }
        const flurm_node_rt_t *nd = flurm_state_node(st, n);
        if (nd->alloc_cpus != cpus || nd->alloc_mem != mem || nd->njobs != njobs)
            fail_msg("seed %llu: node %zu holds cpus %u mem %llu njobs %u; its jobs %u %llu %u",
                     (unsigned long long)seed, n, nd->alloc_cpus, (unsigned long long)nd->alloc_mem,
                     nd->njobs, cpus, (unsigned long long)mem, njobs);
        if (cpus > c->nodes[n].cpus || mem > c->nodes[n].real_memory)
            fail_msg("seed %llu: node %zu overcommitted (%u cpus, %llu MB)", (unsigned long long)seed,
                     n, cpus, (unsigned long long)mem);
    }
}

static void check_lifecycle_determinism(uint64_t seed)
{
    const size_t count = 3000, mid = 1111;
    cmd_list_t l = {0};
    flurm_state_t *leader = new_state();
    gen_lifecycle(seed, count, &l, leader);
    assert_allocations_consistent(leader, seed);

    flurm_state_t *a = new_state(), *b = new_state();
    apply_range(a, &l, 0, l.n, seed);
    apply_range(b, &l, 0, l.n, seed);
    flurm_buf_t sa, sb;
    snap(a, &sa);
    snap(b, &sb);
    if (!snap_equal(&sa, &sb))
        fail_msg("seed %llu: replicas diverged", (unsigned long long)seed);
    assert_same_outcome(leader, a, seed);
    assert_allocations_consistent(a, seed);

    flurm_state_t *c = new_state(), *d = new_state();
    apply_range(c, &l, 0, mid, seed);
    flurm_buf_t smid, sd;
    snap(c, &smid);
    assert_int_equal(flurm_state_restore(d, smid.data, smid.size), FLURM_OK);
    assert_same_nodes(c, d, "mid-way restore");
    apply_range(d, &l, mid, l.n, seed);
    snap(d, &sd);
    if (!snap_equal(&sa, &sd))
        fail_msg("seed %llu: recovery from command %zu diverged", (unsigned long long)seed, mid);

    /* The log did exercise the lifecycle. */
    flurm_state_stats_t st;
    flurm_state_stats(a, &st);
    size_t stale = 0, requeued = 0;
    for (size_t i = 0; i < l.n; i++)
        stale += l.rcs[i] == RC_TRANSITION_STATE;
    for (size_t i = 0; i < flurm_state_job_slots(a); i++) {
        const flurm_job_t *j = flurm_state_job_at(a, i);
        requeued += j && j->restart_cnt;
    }
    if (st.jobs_started < 100 || st.jobs_completed == 0 || st.jobs_failed == 0 ||
        st.jobs_canceled == 0 || stale == 0)
        fail_msg("seed %llu: weak log: started %u completed %u failed %u cancelled %u stale %zu",
                 (unsigned long long)seed, st.jobs_started, st.jobs_completed, st.jobs_failed,
                 st.jobs_canceled, stale);
    if (getenv("FLURM_TEST_VERBOSE"))
        fprintf(stderr, "seed %llu: %zu commands, started %u completed %u failed %u cancelled %u, "
                "stale starts %zu, requeued jobs %zu, jobs left %zu\n", (unsigned long long)seed,
                l.n, st.jobs_started, st.jobs_completed, st.jobs_failed, st.jobs_canceled, stale,
                requeued, flurm_state_job_count(a));

    flurm_buf_release(&sa);
    flurm_buf_release(&sb);
    flurm_buf_release(&smid);
    flurm_buf_release(&sd);
    flurm_state_free(leader);
    flurm_state_free(a);
    flurm_state_free(b);
    flurm_state_free(c);
    flurm_state_free(d);
    for (size_t i = 0; i < l.n; i++)
        flurm_buf_release(&l.cmds[i]);
    free(l.cmds);
    free(l.rcs);
}

/* ------------------------------------------------------------------ fair share and nice */

/* One 1-CPU node, priority/multifactor with only the fair-share (or nice) weight, half-life
 * HALF (a PriorityDecayHalfLife value). */
static flurm_conf_t *multifactor_conf(const char *half, uint32_t w_fairshare)
{
    char text[512];
    snprintf(text, sizeof text,
             "SlurmctldHost=ctl\nSlurmUser=root\nNodeName=n1 CPUs=1 RealMemory=1000\n"
             "PartitionName=debug Nodes=n1 Default=YES\nPriorityType=priority/multifactor\n"
             "PriorityWeightFairshare=%u\nPriorityWeightAge=0\nPriorityWeightJobSize=0\n"
             "PriorityWeightPartition=0\nPriorityDecayHalfLife=%s\n",
             w_fairshare, half);
    flurm_conf_t *c = parse_conf(text);
    assert_non_null(c);
    return c;
}

/* UID's job runs alone on n1 from START to END (both command times). */
static uint32_t run_job(flurm_state_t *st, uint32_t uid, time_t start, time_t end)
{
    uint32_t id = submit_plain(st, start - 1, uid)->job_id;
    assert_int_equal(plan_apply(st, start), 1);
    assert_int_equal(job(st, id)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(apply_end(st, end, id, N1, FLURM_END_COMPLETED, 0), 0);
    return id;
}

static double usage_at(const flurm_state_t *st, uint32_t uid, time_t now)
{
    double u = -1;
    assert_int_equal(flurm_state_user_usage(st, uid, now, &u), FLURM_OK);
    return u;
}

static void check_fairshare_order(uint32_t w_fairshare, uint32_t want_first_uid)
{
    flurm_conf_t *c = multifactor_conf("1:00:00", w_fairshare);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    run_job(st, UID_ALICE, T0 + 10, T0 + 1810);   /* half an hour of Alice's */
    /* Alice queues first, Bob after her; the node is free for one of them. */
    uint32_t a = submit_plain(st, T0 + 1900, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0 + 1901, UID_BOB)->job_id;
    assert_int_equal(plan_apply(st, T0 + 1902), 1);
    uint32_t first = job(st, a)->job_state == FLURM_JOB_RUNNING ? a : b;
    assert_int_equal(job(st, first)->user_id, want_first_uid);
    assert_int_equal(job(st, first == a ? b : a)->job_state, FLURM_JOB_PENDING);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_fairshare_light_user_outranks_heavy_user(void **s)
{
    (void)s;
    check_fairshare_order(10000, UID_BOB);
    check_fairshare_order(0, UID_ALICE);   /* without the weight: submit order */
}

static void test_lifecycle_fairshare_factors_follow_usage_share(void **s)
{
    (void)s;
    flurm_conf_t *c = multifactor_conf("1:00:00", 10000);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    uint32_t hog = submit_plain(st, T0 + 5, UID_ALICE)->job_id;
    assert_int_equal(plan_apply(st, T0 + 10), 1);
    uint32_t a = submit_plain(st, T0 + 20, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0 + 21, UID_BOB)->job_id;
    /* Alice's running job is all the usage there is: U = 1, S = 1/2, F = 2^-2. */
    assert_int_equal(plan_apply(st, T0 + 600), 0);
    flurm_sched_factors_t fa, fb;
    assert_int_equal(flurm_state_job_factors(st, a, &fa), FLURM_OK);
    assert_int_equal(flurm_state_job_factors(st, b, &fb), FLURM_OK);
    assert_true(fabs(fa.fairshare - 2500.0) < 1e-6);
    assert_true(fabs(fb.fairshare - 10000.0) < 1e-6);
    assert_int_equal(fa.priority, 2500);
    assert_int_equal(fb.priority, 10000);
    assert_int_equal(fa.job_id, a);
    /* A running job has no factors to show (sprio lists pending jobs only). */
    assert_int_equal(flurm_state_job_factors(st, hog, &fa), FLURM_ENOENT);
    assert_int_equal(flurm_state_job_factors(st, 999, &fa), FLURM_ENOENT);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_fairshare_usage_halves_every_half_life(void **s)
{
    (void)s;
    flurm_conf_t *c = multifactor_conf("1:00:00", 10000);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    run_job(st, UID_ALICE, T0 + 10, T0 + 110);
    /* 100 CPU-seconds, decayed while they accrued: 3600/ln2 * (1 - 2^(-100/3600)) */
    double at_end = usage_at(st, UID_ALICE, T0 + 110);
    assert_true(fabs(at_end - 3600.0 / M_LN2 * (1.0 - exp2(-100.0 / 3600.0))) < 1e-9);
    assert_true(at_end > 99.0 && at_end < 100.0);
    assert_true(fabs(usage_at(st, UID_ALICE, T0 + 110 + 3600) - at_end / 2) < 1e-9);
    assert_true(fabs(usage_at(st, UID_ALICE, T0 + 110 + 7200) - at_end / 4) < 1e-9);
    assert_true(usage_at(st, UID_BOB, T0 + 110) == 0.0);
    /* A running job counts up to the time asked about; reading changes nothing. */
    uint32_t id = submit_plain(st, T0 + 200, UID_BOB)->job_id;
    assert_int_equal(plan_apply(st, T0 + 300), 1);
    assert_true(usage_at(st, UID_BOB, T0 + 400) > 99.0);
    assert_true(usage_at(st, UID_BOB, T0 + 300) == 0.0);

    /* The usage is replicated: a snapshot restores it bit for bit, and the older snapshot
     * version (2, without usage) still loads, with none. */
    flurm_buf_t snap3;
    snap(st, &snap3);
    flurm_state_t *r = flurm_state_new(c);
    assert_int_equal(flurm_state_restore(r, snap3.data, snap3.size), FLURM_OK);
    assert_true(usage_at(r, UID_ALICE, T0 + 5000) == usage_at(st, UID_ALICE, T0 + 5000));
    assert_true(usage_at(r, UID_BOB, T0 + 5000) == usage_at(st, UID_BOB, T0 + 5000));
    assert_int_equal(job(r, id)->job_state, FLURM_JOB_RUNNING);
    /* v4 ends with: time usage_time, u32 count, count x (u32 uid, u64 usage bits), then the
     * request ids (u32 count, none here). A v2 image (no usage, no ids; per-job preemption
     * fields absent, so take one without jobs) still loads. */
    flurm_state_t *empty = flurm_state_new(c);
    flurm_buf_t snap_e;
    snap(empty, &snap_e);
    snap_e.data[0] = 2;
    flurm_state_t *old = flurm_state_new(c);
    assert_int_equal(flurm_state_restore(old, snap_e.data, snap_e.size - (8 + 4) - 4), FLURM_OK);
    assert_true(usage_at(old, UID_ALICE, T0 + 5000) == 0.0);
    assert_int_equal(flurm_state_restore(old, snap_e.data, snap_e.size - (8 + 4) - 4 - 1), FLURM_ETRUNC);
    flurm_buf_release(&snap_e);
    flurm_state_free(empty);
    flurm_buf_release(&snap3);
    flurm_state_free(old);
    flurm_state_free(r);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_fairshare_no_decay_with_half_life_zero(void **s)
{
    (void)s;
    flurm_conf_t *c = multifactor_conf("0", 10000);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    run_job(st, UID_ALICE, T0 + 10, T0 + 110);
    assert_true(usage_at(st, UID_ALICE, T0 + 110) == 100.0);
    assert_true(usage_at(st, UID_ALICE, T0 + 10 * 86400) == 100.0);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_fairshare_usage_reset_daily_at_utc_midnight(void **s)
{
    (void)s;
    char text[512];
    snprintf(text, sizeof text,
             "SlurmctldHost=ctl\nSlurmUser=root\nNodeName=n1 CPUs=1 RealMemory=1000\n"
             "PartitionName=debug Nodes=n1 Default=YES\nPriorityType=priority/multifactor\n"
             "PriorityWeightFairshare=1000\nPriorityDecayHalfLife=0\n"
             "PriorityUsageResetPeriod=DAILY\n");
    flurm_conf_t *c = parse_conf(text);
    assert_non_null(c);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    const time_t midnight = 1700006400;   /* T0 is 2023-11-14 22:13:20 UTC */
    run_job(st, UID_ALICE, T0 + 10, T0 + 110);
    assert_true(usage_at(st, UID_ALICE, midnight - 1) == 100.0);
    assert_true(usage_at(st, UID_ALICE, midnight) == 0.0);
    /* a job across midnight keeps only what it used after it */
    run_job(st, UID_BOB, midnight - 50, midnight + 30);
    assert_true(usage_at(st, UID_BOB, midnight + 30) == 30.0);
    assert_true(usage_at(st, UID_ALICE, midnight + 30) == 0.0);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_nice_lowers_multifactor_priority_and_start_order(void **s)
{
    (void)s;
    flurm_conf_t *c = multifactor_conf("1:00:00", 10000);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.nice = FLURM_NICE_OFFSET + 100;
    uint32_t a = submit(st, T0 + 1, UID_ALICE, &d)->job_id;
    uint32_t b = submit_plain(st, T0 + 2, UID_ALICE)->job_id;
    assert_int_equal(plan_apply(st, T0 + 3), 1);
    assert_int_equal(job(st, b)->job_state, FLURM_JOB_RUNNING);
    flurm_sched_factors_t f;
    assert_int_equal(flurm_state_job_factors(st, a, &f), FLURM_OK);
    assert_int_equal(f.nice, 100);
    assert_int_equal(f.priority, 10000 - 100);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_lifecycle_apply_is_deterministic_and_recoverable(void **s)
{
    (void)s;
    const char *e = getenv("FLURM_TEST_SEED");
    if (!e || !*e) {
        check_lifecycle_determinism(1);
        check_lifecycle_determinism(2);
    }
    check_lifecycle_determinism(test_seed());
}

/* ---------------------------------------------------------------- interactive allocations */

/* An allocation (salloc: REQUEST_RESOURCE_ALLOCATION, no script) of NODES nodes by Alice. */
static uint32_t allocate(flurm_state_t *st, time_t now, uint32_t nodes)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.script = NULL;
    d.min_nodes = nodes;
    d.time_limit = 10;
    uint32_t reserved = flurm_state_next_job_id(st), got = 0;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_RESOURCE_ALLOCATION, now, UID_ALICE, reserved, &d, &got), 0);
    assert_int_equal(got, reserved);
    assert_false(flurm_job_is_batch(job(st, got)));
    return got;
}

static uint32_t complete_allocation(flurm_state_t *st, time_t now, uint32_t uid, uint32_t id, uint32_t job_rc)
{
    flurm_complete_job_allocation_msg_t m = { .job_id = id, .job_rc = job_rc };
    return apply_msg(st, FLURM_REQUEST_COMPLETE_JOB_ALLOCATION, now, uid, 0, &m, NULL);
}

/* An allocation starts with nothing to launch (its client hears: ALLOCATED), holds its nodes
 * until its client completes it, and ends as its command did; the nodes are free at once. */
static void test_lifecycle_allocation_granted_then_completed_by_its_client(void **state)
{
    (void)state;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = allocate(st, T0 + 1, 2), b = allocate(st, T0 + 1, 1);
    assert_int_equal(plan_apply(st, T0 + 2), 2);
    assert_int_equal(g_neffects, 1);
    assert_int_equal(g_effects[0].kind, FLURM_EFFECT_ALLOCATED);   /* never LAUNCH: no script */
    assert_int_equal(job(st, a)->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(job(st, a)->nnodes, 2);

    assert_int_equal(complete_allocation(st, T0 + 3, UID_BOB, a, 0), RC_ACCESS_DENIED);
    assert_int_equal(complete_allocation(st, T0 + 3, UID_ALICE, a, 3 << 8), 0);   /* exit 3 */
    assert_int_equal(job(st, a)->job_state, FLURM_JOB_FAILED);
    assert_int_equal(job(st, a)->exit_code, 3 << 8);
    assert_null(job(st, a)->nodes);
    assert_int_equal(complete_allocation(st, T0 + 4, UID_ALICE, a, 0), RC_ALREADY_DONE);
    assert_int_equal(complete_allocation(st, T0 + 4, UID_ALICE, b, 0), 0);
    assert_int_equal(job(st, b)->job_state, FLURM_JOB_COMPLETE);
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(flurm_state_node(st, n)->alloc_cpus, 0);

    /* cancelled: by its client (NO_VAL), or scancel, running or pending: nothing to wait for */
    uint32_t c = allocate(st, T0 + 5, 1), d = allocate(st, T0 + 5, 1), e = allocate(st, T0 + 5, 9);
    assert_int_equal(plan_apply(st, T0 + 6), 2);   /* 9 nodes: never */
    assert_int_equal(complete_allocation(st, T0 + 7, UID_ALICE, c, FLURM_NO_VAL), 0);
    assert_int_equal(job(st, c)->job_state, FLURM_JOB_CANCELLED);
    assert_int_equal(kill_id(st, T0 + 7, UID_ALICE, d, SIGKILL), 0);
    assert_int_equal(g_neffects, 1);   /* no KILL (nothing runs there): its client is told */
    assert_int_equal(g_effects[0].kind, FLURM_EFFECT_REVOKED);
    assert_int_equal(job(st, d)->job_state, FLURM_JOB_CANCELLED);   /* not COMPLETING */
    assert_null(job(st, d)->nodes);
    assert_int_equal(complete_allocation(st, T0 + 8, UID_ALICE, e, 0), 0);
    assert_int_equal(job(st, e)->job_state, FLURM_JOB_CANCELLED);
    uint32_t f = allocate(st, T0 + 8, 9);   /* pending, cancelled: its waiting client is told */
    assert_int_equal(kill_id(st, T0 + 8, UID_ALICE, f, SIGKILL), 0);
    assert_int_equal(g_neffects, 1);
    assert_int_equal(g_effects[0].kind, FLURM_EFFECT_REVOKED);
    assert_int_equal(job(st, f)->job_state, FLURM_JOB_CANCELLED);
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(flurm_state_node(st, n)->alloc_cpus, 0);
    /* a batch job is not completed this way */
    uint32_t batch = submit_plain(st, T0 + 9, UID_ALICE)->job_id;
    assert_int_equal(complete_allocation(st, T0 + 9, UID_ALICE, batch, 0), 1 /* SLURM_ERROR */);
    flurm_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_register_unknown_node_becomes_idle_and_records_daemon),
        cmocka_unit_test(test_lifecycle_register_return_to_service_0_keeps_down_nodes_down),
        cmocka_unit_test(test_lifecycle_register_return_to_service_1_revives_only_not_responding),
        cmocka_unit_test(test_lifecycle_register_return_to_service_2_revives_any_down),
        cmocka_unit_test(test_lifecycle_register_keeps_drain_flag),
        cmocka_unit_test(test_lifecycle_register_applies_ended_jobs),
        cmocka_unit_test(test_lifecycle_plan_start_allocates_and_runs),
        cmocka_unit_test(test_lifecycle_effects_name_what_the_nodes_must_do),
        cmocka_unit_test(test_lifecycle_start_without_time_limit_has_no_end_time),
        cmocka_unit_test(test_lifecycle_plan_multi_node_job_gets_two_nodes),
        cmocka_unit_test(test_lifecycle_plan_packs_cpus_first_fit),
        cmocka_unit_test(test_lifecycle_plan_memory_keeps_jobs_apart),
        cmocka_unit_test(test_lifecycle_plan_def_mem_per_cpu_applies_without_mem),
        cmocka_unit_test(test_lifecycle_plan_exclusive_needs_whole_idle_node),
        cmocka_unit_test(test_lifecycle_allocation_granted_then_completed_by_its_client),
        cmocka_unit_test(test_lifecycle_plan_skips_held_dependent_and_part_down_jobs),
        cmocka_unit_test(test_lifecycle_plan_fifo_blocks_lower_priority_jobs),
        cmocka_unit_test(test_lifecycle_plan_backfills_around_a_reservation),
        cmocka_unit_test(test_lifecycle_plan_marks_the_nodes_a_reservation_holds),
        cmocka_unit_test(test_lifecycle_plan_too_few_usable_nodes_blocks_no_one),
        cmocka_unit_test(test_lifecycle_start_on_room_taken_since_the_decision_is_refused),
        cmocka_unit_test(test_lifecycle_start_of_changed_job_is_transition_state),
        cmocka_unit_test(test_lifecycle_end_completed_releases_node),
        cmocka_unit_test(test_lifecycle_end_failed_exit_code),
        cmocka_unit_test(test_lifecycle_end_timeout),
        cmocka_unit_test(test_lifecycle_end_duplicate_or_foreign_report_is_ignored),
        cmocka_unit_test(test_lifecycle_kill_running_job_completes_on_end),
        cmocka_unit_test(test_lifecycle_purge_skips_jobs_holding_nodes),
        cmocka_unit_test(test_lifecycle_drain_busy_node_is_draining_then_drained),
        cmocka_unit_test(test_lifecycle_admin_down_requeues_the_running_job),
        cmocka_unit_test(test_lifecycle_admin_down_without_requeue_is_node_fail),
        cmocka_unit_test(test_lifecycle_node_death_follows_job_requeue_0),
        cmocka_unit_test(test_lifecycle_requeued_job_is_not_started_again_while_completing),
        cmocka_unit_test(test_lifecycle_node_death_requeues_running_job),
        cmocka_unit_test(test_lifecycle_node_death_without_requeue_is_node_fail),
        cmocka_unit_test(test_lifecycle_array_tasks_split_off_throttled),
        cmocka_unit_test(test_lifecycle_array_requeued_task_starts_again),
        cmocka_unit_test(test_lifecycle_array_split_and_reserved_submit_id_do_not_collide),
        cmocka_unit_test(test_lifecycle_snapshot_restore_recomputes_allocations),
        cmocka_unit_test(test_lifecycle_apply_is_deterministic_and_recoverable),
        cmocka_unit_test(test_lifecycle_fairshare_light_user_outranks_heavy_user),
        cmocka_unit_test(test_lifecycle_fairshare_factors_follow_usage_share),
        cmocka_unit_test(test_lifecycle_fairshare_usage_halves_every_half_life),
        cmocka_unit_test(test_lifecycle_fairshare_no_decay_with_half_life_zero),
        cmocka_unit_test(test_lifecycle_fairshare_usage_reset_daily_at_utc_midnight),
        cmocka_unit_test(test_lifecycle_nice_lowers_multifactor_priority_and_start_order),
    };
    return cmocka_run_group_tests(tests, conf_setup, conf_teardown);
}
