/* tests/unit/test_preempt.c — preemption in the replicated state machine (libflurm/state):
 * PreemptType=preempt/partition_prio decisions of flurm_state_plan_preempt() and the
 * FLURM_CMD_JOB_PREEMPT command for REQUEUE, CANCEL and SUSPEND/RESUME, as slurmctld 22.05.8
 * showed them (squeue/scontrol on a real cluster: see docs in the commit). */
#include <signal.h>

#pragma GCC diagnostic ignored "-Wunused-function"   /* the shared fixtures serve other tests too */
#include "state_fixtures.h"

/* One 1-CPU node shared by a low and a high PriorityTier partition. */
#define CONF_HEAD                                                                  \
    "SlurmctldHost=ctl\n"                                                          \
    "SlurmUser=root\n"                                                             \
    "PreemptType=preempt/partition_prio\n"                                         \
    "NodeName=n1 CPUs=1 RealMemory=1000\n"
#define CONF_PARTS                                                                 \
    "PartitionName=low Nodes=n1 PriorityTier=1 Default=YES\n"                      \
    "PartitionName=high Nodes=n1 PriorityTier=2\n"                                 \
    "PartitionName=mid Nodes=n1 PriorityTier=1 PreemptMode=CANCEL\n"

enum { P_LOW = 0, P_HIGH = 1, P_MID = 2 };

static int setup_requeue(void **state)
{
    (void)state;
    conf = parse_conf(CONF_HEAD "PreemptMode=REQUEUE\n" CONF_PARTS);
    return conf ? 0 : -1;
}

static int setup_suspend(void **state)
{
    (void)state;
    conf = parse_conf(CONF_HEAD "PreemptMode=SUSPEND,GANG\n" CONF_PARTS);
    return conf ? 0 : -1;
}

/* ------------------------------------------------------------------ helpers */

static void register_node(flurm_state_t *st, time_t now)
{
    flurm_cmd_register_t m = { .node = 0, .boot_id = 1, .version = "22.05.8", .arch = "x86_64", .os = "Linux" };
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_register_pack(&m, &body), FLURM_OK);
    assert_int_equal(apply_body(st, FLURM_CMD_NODE_REGISTER, now, &body), 0);
    flurm_buf_release(&body);
}

static uint32_t report_end(flurm_state_t *st, time_t now, uint32_t job_id, uint8_t state, uint32_t status)
{
    flurm_cmd_end_t e = { .job_id = job_id, .node = 0, .state = state, .wait_status = status,
                          .start_time = now - 10, .end_time = now };
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_end_pack(&e, &body), FLURM_OK);
    uint32_t rc = apply_body(st, FLURM_CMD_JOB_END, now, &body);
    flurm_buf_release(&body);
    return rc;
}

typedef struct cycle {
    flurm_cmd_start_t starts[8];
    size_t nstarts;
    flurm_cmd_preempt_t pre[8];
    size_t npre;
} cycle_t;

/* One scheduling cycle at NOW whose decisions are applied as the daemon proposes them:
 * preemptions (and resumes) first, then starts. */
static void cycle(flurm_state_t *st, time_t now, cycle_t *cy)
{
    cy->nstarts = flurm_state_plan_preempt(st, now, cy->starts, 8, cy->pre, 8, &cy->npre);
    for (size_t i = 0; i < cy->npre; i++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        assert_int_equal(flurm_cmd_preempt_pack(&cy->pre[i], &body), FLURM_OK);
        assert_int_equal(apply_body(st, FLURM_CMD_JOB_PREEMPT, now, &body), 0);
        flurm_buf_release(&body);
    }
    for (size_t i = 0; i < cy->nstarts; i++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        assert_int_equal(flurm_cmd_start_pack(&cy->starts[i], &body), FLURM_OK);
        assert_int_equal(apply_body(st, FLURM_CMD_JOB_START, now, &body), 0);
        flurm_buf_release(&body);
    }
    flurm_state_starts_free(cy->starts, cy->nstarts);
}

static flurm_job_t *submit_to(flurm_state_t *st, time_t now, const char *part, uint32_t minutes, uint16_t requeue)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%s", part);
    d.partition = pbuf;
    d.time_limit = minutes ? minutes : FLURM_NO_VAL;
    d.requeue = requeue;
    return submit(st, now, UID_ALICE, &d);
}

#define BASE(j) ((j)->job_state & FLURM_JOB_STATE_BASE)

/* A low-tier job running on the only node; returns it. */
static flurm_job_t *low_running(flurm_state_t *st, const char *part, uint16_t requeue)
{
    register_node(st, T0);
    flurm_job_t *lo = submit_to(st, T0 + 1, part, 10, requeue);
    cycle_t cy;
    cycle(st, T0 + 2, &cy);
    assert_int_equal(cy.nstarts, 1);
    assert_int_equal(cy.npre, 0);
    assert_int_equal(BASE(lo), FLURM_JOB_RUNNING);
    return lo;
}

/* ------------------------------------------------------------------ tests */

static void test_preempt_requeue_pends_again_with_begin_time_after_the_kill(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    uint32_t lo_id = lo->job_id;
    flurm_job_t *hi = submit_to(st, T0 + 10, "high", 0, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    /* the victim is killed first; the preemptor waits for its node */
    assert_int_equal(cy.npre, 1);
    assert_int_equal(cy.pre[0].job_id, lo_id);
    assert_int_equal(cy.pre[0].action, FLURM_PREEMPT_REQUEUE);
    assert_int_equal(cy.pre[0].preemptor_id, hi->job_id);
    assert_int_equal(cy.nstarts, 0);
    /* squeue: CG with the restart already counted; the node is still held */
    assert_int_equal(lo->job_state, FLURM_JOB_PENDING | FLURM_JOB_COMPLETING);
    assert_int_equal(lo->restart_cnt, 1);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 1);
    assert_int_equal(BASE(hi), FLURM_JOB_PENDING);
    /* a second cycle while it completes chooses nothing new */
    cycle(st, T0 + 12, &cy);
    assert_int_equal(cy.npre + cy.nstarts, 0);
    assert_int_equal(flurm_job_reason(hi), FLURM_WAIT_RESOURCES);
    /* the node reports the kill: PENDING, submitted anew, eligible 121 s later, no nodes */
    assert_int_equal(report_end(st, T0 + 14, lo_id, FLURM_END_CANCELLED, SIGTERM), 0);
    lo = flurm_state_find_job(st, lo_id);
    assert_int_equal(lo->job_state, FLURM_JOB_PENDING);
    assert_int_equal(lo->submit_time, T0 + 14);
    assert_int_equal(lo->eligible_time, T0 + 14 + 121);
    assert_int_equal(flurm_job_reason(lo), 9);   /* BeginTime */
    assert_null(lo->nodes);
    assert_int_equal(lo->restart_cnt, 1);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 0);
    /* the preemptor starts on the freed node */
    cycle(st, T0 + 15, &cy);
    assert_int_equal(cy.nstarts, 1);
    assert_int_equal(BASE(hi), FLURM_JOB_RUNNING);
    /* it ends; the requeued job runs again once its begin time has come */
    assert_int_equal(report_end(st, T0 + 30, hi->job_id, FLURM_END_COMPLETED, 0), 0);
    cycle(st, T0 + 31, &cy);
    assert_int_equal(cy.nstarts, 0);
    assert_int_equal(flurm_job_reason(lo), 9);
    cycle(st, T0 + 14 + 121, &cy);
    assert_int_equal(cy.nstarts, 1);
    assert_int_equal(BASE(lo), FLURM_JOB_RUNNING);
    assert_int_equal(lo->restart_cnt, 1);
    flurm_state_free(st);
}

static void test_preempt_update_start_time_releases_a_requeued_job_at_once(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    uint32_t lo_id = lo->job_id;
    flurm_job_t *hi = submit_to(st, T0 + 10, "high", 0, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    flurm_job_desc_msg_t u;
    job_desc_init(&u);
    u.job_id = lo_id;
    u.begin_time = T0 + 12;
    /* while it completes it is PENDING already: the update is taken */
    assert_int_equal(report_end(st, T0 + 12, lo_id, FLURM_END_CANCELLED, SIGTERM), 0);
    cycle(st, T0 + 13, &cy);
    assert_int_equal(cy.nstarts, 1);   /* the preemptor */
    assert_int_equal(report_end(st, T0 + 20, hi->job_id, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(apply_msg(st, FLURM_REQUEST_UPDATE_JOB, T0 + 21, 0, 0, &u, NULL), 0);
    assert_int_equal(lo->eligible_time, T0 + 21);   /* a time in the past means now */
    cycle(st, T0 + 22, &cy);
    assert_int_equal(cy.nstarts, 1);
    assert_int_equal(BASE(lo), FLURM_JOB_RUNNING);
    /* StartTime= of a running job is refused */
    assert_int_equal(apply_msg(st, FLURM_REQUEST_UPDATE_JOB, T0 + 23, 0, 0, &u, NULL), 2073);
    flurm_state_free(st);
}

static void test_preempt_cancel_mode_of_the_partition_ends_preempted(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "mid", FLURM_NO_VAL16);   /* mid: PreemptMode=CANCEL */
    uint32_t lo_id = lo->job_id;
    submit_to(st, T0 + 10, "high", 0, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    assert_int_equal(cy.npre, 1);
    assert_int_equal(cy.pre[0].action, FLURM_PREEMPT_CANCEL);
    /* scontrol: COMPLETING, PreemptTime = EndTime = the preemption */
    assert_int_equal(lo->job_state, FLURM_JOB_PREEMPTED | FLURM_JOB_COMPLETING);
    assert_int_equal(lo->preempt_time, T0 + 11);
    assert_int_equal(lo->end_time, T0 + 11);
    assert_int_equal(lo->restart_cnt, 0);
    assert_int_equal(report_end(st, T0 + 13, lo_id, FLURM_END_CANCELLED, SIGTERM), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_PREEMPTED);
    assert_int_equal(lo->end_time, T0 + 11);
    assert_int_equal(lo->exit_code, SIGTERM);   /* ExitCode=0:15 */
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_failed + stats.jobs_canceled + stats.jobs_completed, 0);   /* sdiag */
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 0);
    cycle(st, T0 + 14, &cy);
    assert_int_equal(cy.nstarts, 1);
    flurm_state_free(st);
}

static void test_preempt_requeue_of_a_no_requeue_job_cancels_it(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", 0);   /* sbatch --no-requeue */
    submit_to(st, T0 + 10, "high", 0, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    assert_int_equal(cy.npre, 1);
    assert_int_equal(cy.pre[0].action, FLURM_PREEMPT_REQUEUE);   /* the scheduler's wish */
    assert_int_equal(lo->job_state, FLURM_JOB_PREEMPTED | FLURM_JOB_COMPLETING);
    assert_int_equal(lo->restart_cnt, 0);
    flurm_state_free(st);
}

static void test_preempt_equal_tier_never_preempts(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    submit_to(st, T0 + 10, "mid", 0, FLURM_NO_VAL16);   /* tier 1 as well */
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    assert_int_equal(cy.npre + cy.nstarts, 0);
    assert_int_equal(BASE(lo), FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_preempt_stale_decision_is_transition_state(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    flurm_cmd_preempt_t p = { .job_id = lo->job_id, .action = FLURM_PREEMPT_RESUME };
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_preempt_pack(&p, &body), FLURM_OK);
    /* a running job cannot resume, an unknown one cannot be preempted */
    assert_int_equal(apply_body(st, FLURM_CMD_JOB_PREEMPT, T0 + 5, &body), RC_TRANSITION_STATE);
    body.size = 0;
    p = (flurm_cmd_preempt_t){ .job_id = 999, .action = FLURM_PREEMPT_CANCEL };
    assert_int_equal(flurm_cmd_preempt_pack(&p, &body), FLURM_OK);
    assert_int_equal(apply_body(st, FLURM_CMD_JOB_PREEMPT, T0 + 5, &body), RC_TRANSITION_STATE);
    flurm_buf_release(&body);
    assert_int_equal(BASE(lo), FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_preempt_suspend_starts_preemptor_at_once_and_resumes_with_time_back(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);   /* started T0+2, 10 min */
    uint32_t lo_id = lo->job_id;
    assert_int_equal(lo->end_time, T0 + 2 + 600);
    flurm_job_t *hi = submit_to(st, T0 + 10, "high", 1, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    assert_int_equal(cy.npre, 1);
    assert_int_equal(cy.pre[0].action, FLURM_PREEMPT_SUSPEND);
    assert_int_equal(cy.nstarts, 1);   /* same cycle, on the suspended job's CPU */
    assert_int_equal(cy.starts[0].job_id, hi->job_id);
    assert_int_equal(lo->job_state, FLURM_JOB_SUSPENDED);
    assert_true(lo->sus_released);
    assert_non_null(lo->nodes);        /* where it resumes */
    assert_int_equal(lo->suspend_time, T0 + 11);
    assert_int_equal(lo->pre_sus_time, 9);   /* SecsPreSuspend */
    assert_int_equal(lo->preempt_time, 0);   /* PreemptTime=None for a gang suspension */
    assert_int_equal(BASE(hi), FLURM_JOB_RUNNING);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 1);   /* the preemptor's alone */
    /* nothing resumes while the preemptor runs */
    cycle(st, T0 + 20, &cy);
    assert_int_equal(cy.npre + cy.nstarts, 0);
    /* snapshot and restore keep the suspension and do not book its CPU again */
    flurm_buf_t a, b;
    snap(st, &a);
    flurm_state_t *st2 = new_state();
    assert_int_equal(flurm_state_restore(st2, a.data, a.size), FLURM_OK);
    snap(st2, &b);
    assert_true(snap_equal(&a, &b));
    assert_int_equal(flurm_state_node(st2, 0)->alloc_cpus, 1);
    const flurm_job_t *r = flurm_state_find_job(st2, lo_id);
    assert_true(r->sus_released);
    assert_int_equal(r->suspend_time, T0 + 11);
    assert_int_equal(r->pre_sus_time, 9);
    flurm_buf_release(&a);
    flurm_buf_release(&b);
    flurm_state_free(st2);
    /* the preemptor ends: the next cycle resumes the victim; its limit's clock stood still */
    assert_int_equal(report_end(st, T0 + 41, hi->job_id, FLURM_END_COMPLETED, 0), 0);
    cycle(st, T0 + 41, &cy);
    assert_int_equal(cy.npre, 1);
    assert_int_equal(cy.pre[0].job_id, lo_id);
    assert_int_equal(cy.pre[0].action, FLURM_PREEMPT_RESUME);
    assert_int_equal(cy.nstarts, 0);
    assert_int_equal(lo->job_state, FLURM_JOB_RUNNING);
    assert_false(lo->sus_released);
    assert_int_equal(lo->end_time, T0 + 2 + 600 + 30);
    assert_int_equal(lo->suspend_time, T0 + 41);   /* SuspendTime: the resume */
    assert_int_equal(lo->tot_sus_time, 30);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 1);
    flurm_state_free(st);
}

static void test_preempt_cancel_of_a_suspended_job_takes_its_share_back_until_it_ends(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    uint32_t lo_id = lo->job_id;
    submit_to(st, T0 + 10, "high", 1, FLURM_NO_VAL16);
    cycle_t cy;
    cycle(st, T0 + 11, &cy);
    assert_int_equal(lo->job_state, FLURM_JOB_SUSPENDED);
    assert_int_equal(kill_id(st, T0 + 12, UID_ALICE, lo_id, SIGKILL), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_CANCELLED | FLURM_JOB_COMPLETING);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 2);   /* briefly overbooked */
    assert_int_equal(report_end(st, T0 + 13, lo_id, FLURM_END_CANCELLED, SIGKILL), 0);
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 1);
    flurm_state_free(st);
}

static uint32_t suspend_req(flurm_state_t *st, time_t now, uint32_t uid, uint32_t job_id, uint16_t op)
{
    char sid[16];
    snprintf(sid, sizeof sid, "%u", job_id);
    flurm_suspend_msg_t m = { .op = op, .job_id = FLURM_NO_VAL, .job_id_str = sid };
    return apply_msg(st, FLURM_REQUEST_SUSPEND, now, uid, 0, &m, NULL);
}

static uint32_t requeue_req(flurm_state_t *st, time_t now, uint32_t uid, uint32_t job_id, uint32_t flags)
{
    char sid[16];
    snprintf(sid, sizeof sid, "%u", job_id);
    flurm_requeue_msg_t m = { .job_id = FLURM_NO_VAL, .job_id_str = sid, .flags = flags };
    return apply_msg(st, FLURM_REQUEST_JOB_REQUEUE, now, uid, 0, &m, NULL);
}

static void test_preempt_scontrol_suspend_keeps_resources_and_resume_pushes_end_time(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);   /* started T0+2, 10 min */
    flurm_job_t *pend = submit_to(st, T0 + 3, "high", 0, FLURM_NO_VAL16);
    /* answers of slurmctld 22.05.8 */
    assert_int_equal(suspend_req(st, T0 + 4, UID_ALICE, lo->job_id, FLURM_SUSPEND_JOB), RC_ACCESS_DENIED);
    assert_int_equal(suspend_req(st, T0 + 4, 0, 4242, FLURM_SUSPEND_JOB), 1000);
    assert_int_equal(suspend_req(st, T0 + 4, 0, lo->job_id, FLURM_RESUME_JOB), 2087);
    assert_int_equal(suspend_req(st, T0 + 5, 0, lo->job_id, FLURM_SUSPEND_JOB), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_SUSPENDED);
    assert_false(lo->sus_released);
    assert_int_equal(lo->pre_sus_time, 3);
    assert_int_equal(suspend_req(st, T0 + 6, 0, lo->job_id, FLURM_SUSPEND_JOB), 0);   /* already */
    assert_int_equal(lo->suspend_time, T0 + 5);
    assert_int_equal(suspend_req(st, T0 + 6, 0, pend->job_id, FLURM_SUSPEND_JOB), 2024);
    /* its CPU stays booked: nothing starts, nothing is preempted, nothing resumes it */
    assert_int_equal(flurm_state_node(st, 0)->alloc_cpus, 1);
    cycle_t cy;
    cycle(st, T0 + 7, &cy);
    assert_int_equal(cy.nstarts + cy.npre, 0);
    assert_int_equal(suspend_req(st, T0 + 25, 0, lo->job_id, FLURM_RESUME_JOB), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_RUNNING);
    assert_int_equal(lo->end_time, T0 + 2 + 600 + 20);
    assert_int_equal(lo->suspend_time, T0 + 25);
    flurm_state_free(st);
}

static void test_preempt_scontrol_requeue_running_and_finished_jobs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *lo = low_running(st, "low", FLURM_NO_VAL16);
    uint32_t id = lo->job_id;
    flurm_job_t *pend = submit_to(st, T0 + 3, "low", 0, FLURM_NO_VAL16);
    assert_int_equal(requeue_req(st, T0 + 4, UID_ALICE, 4242, 0), RC_INVALID_JOB_ID);
    assert_int_equal(requeue_req(st, T0 + 4, UID_BOB, id, 0), RC_ACCESS_DENIED);
    assert_int_equal(requeue_req(st, T0 + 4, UID_ALICE, pend->job_id, 0), 2024);
    /* the owner requeues the running job: killed, then pending with BeginTime */
    assert_int_equal(requeue_req(st, T0 + 5, UID_ALICE, id, 0), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_PENDING | FLURM_JOB_COMPLETING);
    assert_int_equal(lo->restart_cnt, 1);
    assert_int_equal(requeue_req(st, T0 + 5, UID_ALICE, id, 0), 2024);   /* pending already */
    assert_int_equal(report_end(st, T0 + 6, id, FLURM_END_CANCELLED, SIGTERM), 0);
    assert_int_equal(lo->job_state, FLURM_JOB_PENDING);
    assert_int_equal(lo->eligible_time, T0 + 6 + 121);
    /* the per-second reason pass keeps BeginTime until then (it said Resources) */
    flurm_state_schedule(st, T0 + 7);
    assert_int_equal(flurm_job_reason(lo), FLURM_WAIT_TIME);
    /* the other job runs, completes, and is requeued held from its finished state */
    cycle_t cy;
    cycle(st, T0 + 7, &cy);
    assert_int_equal(BASE(pend), FLURM_JOB_RUNNING);
    assert_int_equal(report_end(st, T0 + 8, pend->job_id, FLURM_END_COMPLETED, 0), 0);
    assert_int_equal(BASE(pend), FLURM_JOB_COMPLETE);
    assert_int_equal(requeue_req(st, T0 + 9, 0, pend->job_id, FLURM_JOB_REQUEUE_HOLD), 0);
    assert_int_equal(pend->job_state, FLURM_JOB_PENDING);
    assert_int_equal(pend->restart_cnt, 1);
    assert_int_equal(pend->priority, 0);
    assert_int_equal(flurm_job_reason(pend), FLURM_WAIT_HELD);
    assert_null(pend->ran_on);
    /* --no-requeue: disabled */
    flurm_job_t *nr = submit_to(st, T0 + 10, "low", 0, 0);
    assert_int_equal(kill_id(st, T0 + 11, UID_ALICE, nr->job_id, SIGKILL), 0);
    assert_int_equal(requeue_req(st, T0 + 12, UID_ALICE, nr->job_id, 0), 2037);
    flurm_state_free(st);
}

int main(void)
{
    const struct CMUnitTest requeue[] = {
        cmocka_unit_test(test_preempt_requeue_pends_again_with_begin_time_after_the_kill),
        cmocka_unit_test(test_preempt_update_start_time_releases_a_requeued_job_at_once),
        cmocka_unit_test(test_preempt_cancel_mode_of_the_partition_ends_preempted),
        cmocka_unit_test(test_preempt_requeue_of_a_no_requeue_job_cancels_it),
        cmocka_unit_test(test_preempt_equal_tier_never_preempts),
        cmocka_unit_test(test_preempt_stale_decision_is_transition_state),
        cmocka_unit_test(test_preempt_scontrol_suspend_keeps_resources_and_resume_pushes_end_time),
        cmocka_unit_test(test_preempt_scontrol_requeue_running_and_finished_jobs),
    };
    const struct CMUnitTest suspend[] = {
        cmocka_unit_test(test_preempt_suspend_starts_preemptor_at_once_and_resumes_with_time_back),
        cmocka_unit_test(test_preempt_cancel_of_a_suspended_job_takes_its_share_back_until_it_ends),
    };
    int rc = cmocka_run_group_tests_name("preempt_requeue", requeue, setup_requeue, conf_teardown);
    return rc | cmocka_run_group_tests_name("preempt_suspend", suspend, setup_suspend, conf_teardown);
}
