/* tests/unit/test_depend_state.c — job dependencies in the replicated state machine
 * (libflurm/state/state.c over libflurm/state/depend.c): what each kind waits for, the text
 * slurmctld 22.05 stores and shows at each stage (checked against the real slurmctld 22.05.8),
 * DependencyNeverSatisfied and kill_invalid_depend, scontrol update, snapshots. */
#include <signal.h>

/* state_fixtures.h is shared header-only; this file needs only some of its helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "state_fixtures.h"

enum { WAIT_DEPENDENCY = 2, WAIT_DEP_INVALID = 39 };
enum { RC_NOT_SUPPORTED = 2036, RC_DEPENDENCY = 2038, RC_CIRCULAR = 2071, RC_JOB_NOT_PENDING = 2073 };

#define CONF_BODY                                                                  \
    "SlurmctldHost=ctl\n"                                                          \
    "SlurmUser=root\n"                                                             \
    "NodeName=n[1-4] CPUs=1 RealMemory=1000\n"                                     \
    "PartitionName=debug Nodes=n[1-4] Default=YES\n"

static int conf_setup(void **state)
{
    (void)state;
    conf = parse_conf(CONF_BODY);
    return conf ? 0 : -1;
}

/* ------------------------------------------------------------------ helpers */

static void register_all(flurm_state_t *st, time_t now)
{
    for (uint32_t i = 0; i < flurm_state_conf(st)->node_count; i++) {
        flurm_cmd_register_t m = { .node = i, .boot_id = 0xB0070000u + i, .boot_time = now - 100,
                                   .start_time = now - 10, .version = "22.05.8" };
        flurm_buf_t body;
        flurm_buf_init(&body);
        assert_int_equal(flurm_cmd_register_pack(&m, &body), FLURM_OK);
        assert_int_equal(apply_body(st, FLURM_CMD_NODE_REGISTER, now, &body), 0);
        flurm_buf_release(&body);
    }
}

/* Plans at NOW and applies every start; returns how many started. */
static size_t plan_apply(flurm_state_t *st, time_t now)
{
    flurm_cmd_start_t starts[16];
    size_t n = flurm_state_plan(st, now, starts, 16);
    for (size_t i = 0; i < n; i++) {
        flurm_buf_t body;
        flurm_buf_init(&body);
        assert_int_equal(flurm_cmd_start_pack(&starts[i], &body), FLURM_OK);
        assert_int_equal(apply_body(st, FLURM_CMD_JOB_START, now, &body), 0);
        flurm_buf_release(&body);
    }
    flurm_state_starts_free(starts, n);
    return n;
}

/* Job ID (running) ends on its node at NOW: exit status 0 completes it, anything else fails it. */
static void end_job(flurm_state_t *st, time_t now, uint32_t id, int exit_status)
{
    const flurm_job_t *j = flurm_state_find_job(st, id);
    assert_non_null(j);
    assert_non_null(j->nodes);
    flurm_cmd_end_t e = { .job_id = id, .node = j->nodes[0],
                          .state = exit_status ? FLURM_END_FAILED : FLURM_END_COMPLETED,
                          .wait_status = (uint32_t)exit_status << 8, .end_time = now };
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_cmd_end_pack(&e, &body), FLURM_OK);
    assert_int_equal(apply_body(st, FLURM_CMD_JOB_END, now, &body), 0);
    flurm_buf_release(&body);
}

static flurm_job_t *submit_dep(flurm_state_t *st, time_t now, uint32_t uid, const char *name,
                               const char *dep)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, uid);
    d.name = (char *)name;
    d.dependency = (char *)dep;
    return submit(st, now, uid, &d);
}

static flurm_job_t *submit_array(flurm_state_t *st, time_t now, const char *spec, const char *dep)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = (char *)spec;
    d.dependency = (char *)dep;
    return submit(st, now, UID_ALICE, &d);
}

static uint32_t update_dep(flurm_state_t *st, time_t now, uint32_t uid, uint32_t job_id, const char *dep)
{
    flurm_job_desc_msg_t u;
    char id[16];
    job_desc_init(&u);
    snprintf(id, sizeof id, "%u", job_id);
    u.job_id_str = id;
    u.dependency = (char *)dep;
    return apply_msg(st, FLURM_REQUEST_UPDATE_JOB, now, uid, 0, &u, NULL);
}

/* The record of task TASK of array ARRAY_ID. */
static flurm_job_t *task_rec(const flurm_state_t *st, uint32_t array_id, uint32_t task)
{
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        flurm_job_t *j = flurm_state_job_at(st, i);
        if (j && j->array_job_id == array_id && j->array_task_id == task)
            return j;
    }
    fail_msg("task %u_%u not found", array_id, task);
    return NULL;
}

static void assert_dep(const flurm_job_t *j, const char *want)
{
    const char *got = j->desc->dependency;
    if (!want && got)
        fail_msg("job %u: dependency \"%s\", want (null)", j->job_id, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("job %u: dependency \"%s\", want \"%s\"", j->job_id, got ? got : "(null)", want);
}

static uint32_t base(const flurm_job_t *j) { return j->job_state & FLURM_JOB_STATE_BASE; }

static char *fmt(char *buf, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, n, f, ap);
    va_end(ap);
    return buf;
}
#define F(...) fmt((char[256]){ 0 }, 256, __VA_ARGS__)

/* ------------------------------------------------------------------ tests */

static void test_depend_state_submit_stores_slurmctld_form(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *arr = submit_array(st, T0, "1-3", NULL);
    flurm_job_t *j = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u?after:%u+5", a->job_id, arr->job_id));
    /* a whole array is named as all of its tasks; one '?' makes the list OR */
    assert_dep(j, F("afterok:%u(unfulfilled)?after:%u_*+5(unfulfilled)", a->job_id, arr->job_id));
    flurm_job_t *old = submit_dep(st, T0, UID_ALICE, "x", F("%u", a->job_id));
    assert_dep(old, F("afterany:%u(unfulfilled)", a->job_id));
    flurm_state_schedule(st, T0 + 1);
    assert_int_equal(flurm_job_reason(j), WAIT_DEPENDENCY);
    flurm_state_free(st);
}

static void test_depend_state_afterok_met_clears_text_and_starts(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *b = submit_plain(st, T0, UID_ALICE);
    uint32_t aid = a->job_id, bid = b->job_id;
    flurm_job_t *j = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u,afterok:%u", aid, bid));
    assert_int_equal(plan_apply(st, T0 + 1), 2);   /* a and b, not j */
    assert_int_equal(base(j), FLURM_JOB_PENDING);
    flurm_state_schedule(st, T0 + 1);
    assert_int_equal(flurm_job_reason(j), WAIT_DEPENDENCY);
    end_job(st, T0 + 2, aid, 0);
    /* the fulfilled item is no longer shown */
    assert_dep(j, F("afterok:%u(unfulfilled)", bid));
    end_job(st, T0 + 3, bid, 0);
    assert_dep(j, NULL);   /* scontrol: Dependency=(null) */
    flurm_state_schedule(st, T0 + 3);
    assert_int_not_equal(flurm_job_reason(j), WAIT_DEPENDENCY);
    assert_int_equal(plan_apply(st, T0 + 4), 1);
    assert_int_equal(base(j), FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_depend_state_afterok_on_failed_job_never_satisfied_and_kept_after_purge(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t aid = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *j = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u", aid));
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    end_job(st, T0 + 2, aid, 1);
    assert_dep(j, F("afterok:%u(failed)", aid));
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(base(j), FLURM_JOB_PENDING);
    flurm_state_schedule(st, T0 + 3);
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(plan_apply(st, T0 + 3), 0);
    /* the failed job's record goes; the verdict stays */
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 400, &aid, 1), 0);
    assert_null(flurm_state_find_job(st, aid));
    assert_dep(j, F("afterok:%u(failed)", aid));
    flurm_state_schedule(st, T0 + 401);
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(plan_apply(st, T0 + 401), 0);
    flurm_state_free(st);
}

static void test_depend_state_afternotok_and_afterany(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t ok = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t bad = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *notok_bad = submit_dep(st, T0, UID_ALICE, "x", F("afternotok:%u", bad));
    flurm_job_t *notok_both = submit_dep(st, T0, UID_ALICE, "x", F("afternotok:%u:%u", ok, bad));
    flurm_job_t *any = submit_dep(st, T0, UID_ALICE, "x", F("afterany:%u", bad));
    assert_dep(notok_both, F("afternotok:%u(unfulfilled),afternotok:%u(unfulfilled)", ok, bad));
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    end_job(st, T0 + 2, bad, 1);
    assert_dep(notok_bad, NULL);
    assert_dep(any, NULL);
    assert_dep(notok_both, F("afternotok:%u(unfulfilled)", ok));
    end_job(st, T0 + 3, ok, 0);
    /* as the real slurmctld shows it: the fulfilled item goes, the failed one stays */
    assert_dep(notok_both, F("afternotok:%u(failed)", ok));
    assert_int_equal(flurm_job_reason(notok_both), WAIT_DEP_INVALID);
    assert_int_equal(plan_apply(st, T0 + 4), 2);
    assert_int_equal(base(notok_bad), FLURM_JOB_RUNNING);
    assert_int_equal(base(any), FLURM_JOB_RUNNING);
    assert_int_equal(base(notok_both), FLURM_JOB_PENDING);
    flurm_state_free(st);
}

static void test_depend_state_after_waits_for_start_plus_minutes(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t aid = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *now = submit_dep(st, T0, UID_ALICE, "x", F("after:%u", aid));
    flurm_job_t *later = submit_dep(st, T0, UID_ALICE, "x", F("after:%u+2", aid));
    flurm_state_schedule(st, T0);
    assert_int_equal(flurm_job_reason(now), WAIT_DEPENDENCY);
    assert_int_equal(plan_apply(st, T0 + 10), 1);   /* only a */
    assert_dep(now, NULL);                            /* a started: fulfilled */
    assert_dep(later, F("after:%u+2(unfulfilled)", aid));
    assert_int_equal(plan_apply(st, T0 + 11), 1);     /* now */
    assert_int_equal(base(now), FLURM_JOB_RUNNING);
    assert_int_equal(plan_apply(st, T0 + 10 + 119), 0);
    flurm_state_schedule(st, T0 + 10 + 119);
    assert_int_equal(flurm_job_reason(later), WAIT_DEPENDENCY);
    assert_int_equal(plan_apply(st, T0 + 10 + 120), 1);
    assert_int_equal(base(later), FLURM_JOB_RUNNING);
    assert_dep(later, NULL);
    flurm_state_free(st);
}

static void test_depend_state_or_list(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *one = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u?afterok:%u", a, b));
    flurm_job_t *none = submit_dep(st, T0, UID_ALICE, "x", F("afternotok:%u?afternotok:%u", a, b));
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    end_job(st, T0 + 2, a, 1);
    /* one failed, one still owed: waits */
    assert_dep(one, F("afterok:%u(failed)?afterok:%u(unfulfilled)", a, b));
    flurm_state_schedule(st, T0 + 2);
    assert_int_equal(flurm_job_reason(one), WAIT_DEPENDENCY);
    assert_dep(none, NULL);   /* a failed: afternotok met, the whole OR list is */
    end_job(st, T0 + 3, b, 0);
    assert_dep(one, NULL);
    flurm_job_t *never = submit_dep(st, T0 + 4, UID_ALICE, "x", F("afterok:%u?afternotok:%u", a, b));
    assert_dep(never, F("afterok:%u(failed)?afternotok:%u(failed)", a, b));
    assert_int_equal(flurm_job_reason(never), WAIT_DEP_INVALID);
    flurm_state_free(st);
}

static void test_depend_state_kill_on_invalid_dep(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.dependency = F("afterok:%u", a);
    d.bitflags = FLURM_KILL_INV_DEP;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    end_job(st, T0 + 2, a, 1);
    /* slurmctld's _kill_dependent: CANCELLED, reason DependencyNeverSatisfied, text kept */
    assert_int_equal(base(j), FLURM_JOB_CANCELLED);
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(j->end_time, T0 + 2);
    assert_dep(j, F("afterok:%u(failed)", a));
    flurm_state_free(st);
}

static void test_depend_state_dependency_parameters_kill_invalid_depend(void **s)
{
    (void)s;
    flurm_conf_t *c = parse_conf(CONF_BODY "DependencyParameters=max_depend_depth=3,kill_invalid_depend\n");
    assert_non_null(c);
    flurm_state_t *st = flurm_state_new(c);
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *killed = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u", a));
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.dependency = F("afterok:%u", a);
    d.bitflags = FLURM_NO_KILL_INV_DEP;   /* --kill-on-invalid-dep=no wins */
    flurm_job_t *kept = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    end_job(st, T0 + 2, a, 1);
    assert_int_equal(base(killed), FLURM_JOB_CANCELLED);
    assert_int_equal(base(kept), FLURM_JOB_PENDING);
    assert_int_equal(flurm_job_reason(kept), WAIT_DEP_INVALID);
    flurm_state_free(st);
    flurm_conf_free(c);
}

static void test_depend_state_singleton(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_t *first = submit_dep(st, T0, UID_ALICE, "single", NULL);
    flurm_job_t *second = submit_dep(st, T0, UID_ALICE, "single", "singleton");
    flurm_job_t *third = submit_dep(st, T0, UID_ALICE, "single", "singleton");
    flurm_job_t *bobs = submit_dep(st, T0, UID_BOB, "single", "singleton");
    flurm_job_t *other = submit_dep(st, T0, UID_ALICE, "other", "singleton");
    assert_dep(second, "singleton(unfulfilled)");
    assert_int_equal(plan_apply(st, T0 + 1), 3);   /* first, bob's, other */
    assert_int_equal(base(first), FLURM_JOB_RUNNING);
    assert_int_equal(base(bobs), FLURM_JOB_RUNNING);
    assert_int_equal(base(other), FLURM_JOB_RUNNING);
    flurm_state_schedule(st, T0 + 1);
    assert_int_equal(flurm_job_reason(second), WAIT_DEPENDENCY);
    assert_int_equal(flurm_job_reason(third), WAIT_DEPENDENCY);
    end_job(st, T0 + 2, first->job_id, 0);
    /* second goes next; third still waits for the earlier pending one */
    assert_dep(second, NULL);
    assert_dep(third, "singleton(unfulfilled)");
    assert_int_equal(plan_apply(st, T0 + 3), 1);
    assert_int_equal(base(second), FLURM_JOB_RUNNING);
    assert_int_equal(base(third), FLURM_JOB_PENDING);
    end_job(st, T0 + 4, second->job_id, 1);   /* how it ended does not matter */
    assert_dep(third, NULL);
    assert_int_equal(plan_apply(st, T0 + 5), 1);
    flurm_state_free(st);
}

static void test_depend_state_array_whole_and_one_task(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t arr = submit_array(st, T0, "1-3", NULL)->job_id;
    flurm_job_t *all = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u", arr));
    flurm_job_t *one = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u_1", arr));
    flurm_job_t *any = submit_dep(st, T0, UID_ALICE, "x", F("afterany:%u_*", arr));
    assert_dep(all, F("afterok:%u_*(unfulfilled)", arr));
    assert_dep(one, F("afterok:%u_1(unfulfilled)", arr));
    for (int i = 0; i < 3; i++)
        assert_int_equal(plan_apply(st, T0 + 1), 1);   /* one task per pass */
    end_job(st, T0 + 2, task_rec(st, arr, 1)->job_id, 0);
    assert_dep(one, NULL);
    assert_dep(all, F("afterok:%u_*(unfulfilled)", arr));
    end_job(st, T0 + 3, task_rec(st, arr, 2)->job_id, 1);
    /* a task failed, but slurmctld decides only once every task has ended */
    assert_dep(all, F("afterok:%u_*(unfulfilled)", arr));
    assert_dep(any, F("afterany:%u_*(unfulfilled)", arr));
    end_job(st, T0 + 4, task_rec(st, arr, 3)->job_id, 0);
    assert_dep(any, NULL);
    assert_dep(all, F("afterok:%u_*(failed)", arr));
    assert_int_equal(flurm_job_reason(all), WAIT_DEP_INVALID);
    flurm_state_free(st);
}

static void test_depend_state_aftercorr_runs_task_after_its_counterpart(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t arr = submit_array(st, T0, "1-3", NULL)->job_id;
    for (int i = 0; i < 3; i++)
        assert_int_equal(plan_apply(st, T0 + 1), 1);
    flurm_job_t *corr = submit_array(st, T0 + 1, "1-3", F("aftercorr:%u", arr));
    uint32_t cid = corr->job_id;
    assert_dep(corr, F("aftercorr:%u_*(unfulfilled)", arr));
    assert_int_equal(plan_apply(st, T0 + 2), 0);
    end_job(st, T0 + 3, task_rec(st, arr, 3)->job_id, 0);
    /* task 3's counterpart is done: task 3 starts, not the first pending one */
    assert_int_equal(plan_apply(st, T0 + 4), 1);
    flurm_job_t *t3 = task_rec(st, cid, 3);
    assert_int_equal(base(t3), FLURM_JOB_RUNNING);
    assert_dep(t3, NULL);
    assert_int_equal(plan_apply(st, T0 + 4), 0);
    end_job(st, T0 + 5, task_rec(st, arr, 2)->job_id, 1);
    end_job(st, T0 + 5, task_rec(st, arr, 1)->job_id, 0);
    assert_int_equal(plan_apply(st, T0 + 6), 1);   /* task 1 */
    assert_int_equal(base(task_rec(st, cid, 1)), FLURM_JOB_RUNNING);
    /* only task 2 is left, and its counterpart failed */
    flurm_job_t *meta = flurm_state_find_job(st, cid);
    assert_dep(meta, F("aftercorr:%u_*(failed)", arr));
    assert_int_equal(flurm_job_reason(meta), WAIT_DEP_INVALID);
    assert_int_equal(plan_apply(st, T0 + 7), 0);
    flurm_state_free(st);
}

static void test_depend_state_update_goes_through_the_parser(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *b = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u", a->job_id));
    flurm_job_t *c = submit_plain(st, T0, UID_ALICE);
    uint32_t aid = a->job_id, bid = b->job_id, cid = c->job_id;
    assert_int_equal(update_dep(st, T0 + 1, UID_ALICE, cid, "afterok:"), RC_DEPENDENCY);
    assert_int_equal(update_dep(st, T0 + 1, UID_ALICE, cid, "expand:1"), RC_NOT_SUPPORTED);
    assert_int_equal(update_dep(st, T0 + 1, UID_ALICE, cid, F("afterok:%u", cid)), RC_DEPENDENCY);
    /* a -> b -> a */
    assert_int_equal(update_dep(st, T0 + 1, UID_ALICE, aid, F("afterany:%u", bid)), RC_CIRCULAR);
    assert_null(a->desc->dependency);
    assert_int_equal(update_dep(st, T0 + 1, UID_ALICE, cid, F("AFTERANY:%u?afterok:%u", aid, bid)), 0);
    assert_dep(c, F("afterany:%u(unfulfilled)?afterok:%u(unfulfilled)", aid, bid));
    /* a job not known (any more) is taken, and lifted at once, as by slurmctld */
    assert_int_equal(update_dep(st, T0 + 2, UID_ALICE, bid, "afterok:999999"), 0);
    assert_dep(b, NULL);
    assert_int_equal(update_dep(st, T0 + 3, UID_ALICE, cid, ""), 0);
    assert_dep(c, NULL);
    /* an array may not wait for itself, whether named whole or as all its tasks */
    uint32_t arr = submit_array(st, T0, "1-2", NULL)->job_id;
    assert_int_equal(update_dep(st, T0 + 3, UID_ALICE, arr, F("afterok:%u", arr)), RC_DEPENDENCY);
    assert_int_equal(update_dep(st, T0 + 3, UID_ALICE, arr, F("afterany:%u_*", arr)), RC_DEPENDENCY);
    /* the checks the proposer makes */
    /* a job not known is taken at submit too (slurmctld 22.05) */
    assert_int_equal(flurm_state_dep_check(st, 0, "afterok:999999"), 0);
    assert_int_equal(flurm_state_dep_check(st, 0, F("afterok:%u", aid)), 0);
    assert_int_equal(flurm_state_dep_check(st, 0, "singleton"), 0);
    assert_int_equal(flurm_state_dep_check(st, 0, "bogus:1"), RC_DEPENDENCY);
    flurm_state_free(st);
}

static void test_depend_state_update_of_running_job_refused(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *b = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    assert_int_equal(update_dep(st, T0 + 2, UID_ALICE, a->job_id, F("afterok:%u", b->job_id)),
                     RC_JOB_NOT_PENDING);
    flurm_state_free(st);
}

static void test_depend_state_update_clears_never_satisfied(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *j = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u", a));
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    end_job(st, T0 + 2, a, 1);
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(update_dep(st, T0 + 3, UID_ALICE, j->job_id, F("afternotok:%u", a)), 0);
    assert_dep(j, NULL);
    assert_int_not_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    assert_int_equal(plan_apply(st, T0 + 4), 1);
    assert_int_equal(base(j), FLURM_JOB_RUNNING);
    flurm_state_free(st);
}

static void test_depend_state_snapshot_keeps_item_states(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t b = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t j = submit_dep(st, T0, UID_ALICE, "x", F("afterok:%u?afterok:%u", a, b))->job_id;
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    end_job(st, T0 + 2, a, 1);
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 3, &a, 1), 0);
    flurm_buf_t snapb;
    flurm_buf_init(&snapb);
    assert_int_equal(flurm_state_snapshot(st, &snapb), FLURM_OK);
    flurm_state_t *st2 = new_state();
    assert_int_equal(flurm_state_restore(st2, snapb.data, snapb.size), FLURM_OK);
    flurm_buf_release(&snapb);
    flurm_job_t *r = flurm_state_find_job(st2, j);
    assert_dep(r, F("afterok:%u(failed)?afterok:%u(unfulfilled)", a, b));
    end_job(st2, T0 + 4, b, 1);
    assert_dep(r, F("afterok:%u(failed)?afterok:%u(failed)", a, b));
    assert_int_equal(flurm_job_reason(r), WAIT_DEP_INVALID);
    flurm_state_free(st2);
    flurm_state_free(st);
}

static void test_depend_state_held_job_is_tested_once_released(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t a = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.dependency = F("afterok:%u", a);
    d.priority = 0;                       /* sbatch --hold */
    d.bitflags = FLURM_KILL_INV_DEP;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(plan_apply(st, T0 + 1), 1);
    end_job(st, T0 + 2, a, 1);
    /* as the real slurmctld shows a held job: untested, still JobHeldUser */
    assert_dep(j, F("afterok:%u(unfulfilled)", a));
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_HELD_USER);
    assert_int_equal(base(j), FLURM_JOB_PENDING);
    flurm_job_desc_msg_t u;
    char id[16];
    job_desc_init(&u);
    snprintf(id, sizeof id, "%u", j->job_id);
    u.job_id_str = id;
    u.priority = FLURM_INFINITE;          /* scontrol release */
    assert_int_equal(apply_msg(st, FLURM_REQUEST_UPDATE_JOB, T0 + 3, UID_ALICE, 0, &u, NULL), 0);
    assert_dep(j, F("afterok:%u(failed)", a));
    assert_int_equal(base(j), FLURM_JOB_CANCELLED);
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    flurm_state_free(st);
}

static void test_depend_state_never_satisfied_job_is_no_longer_tested(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    register_all(st, T0);
    uint32_t ok = submit_plain(st, T0, UID_ALICE)->job_id;
    uint32_t bad = submit_plain(st, T0, UID_ALICE)->job_id;
    flurm_job_t *j = submit_dep(st, T0, UID_ALICE, "x", F("afternotok:%u:%u", ok, bad));
    assert_int_equal(plan_apply(st, T0 + 1), 2);
    end_job(st, T0 + 2, ok, 0);
    assert_dep(j, F("afternotok:%u(failed),afternotok:%u(unfulfilled)", ok, bad));
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    /* as the real slurmctld 22.05.8 shows it: once it can never run, it is not tested again,
     * so the item still owed stays "unfulfilled" after bad failed */
    end_job(st, T0 + 3, bad, 1);
    assert_dep(j, F("afternotok:%u(failed),afternotok:%u(unfulfilled)", ok, bad));
    assert_int_equal(flurm_job_reason(j), WAIT_DEP_INVALID);
    flurm_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depend_state_submit_stores_slurmctld_form),
        cmocka_unit_test(test_depend_state_afterok_met_clears_text_and_starts),
        cmocka_unit_test(test_depend_state_afterok_on_failed_job_never_satisfied_and_kept_after_purge),
        cmocka_unit_test(test_depend_state_afternotok_and_afterany),
        cmocka_unit_test(test_depend_state_after_waits_for_start_plus_minutes),
        cmocka_unit_test(test_depend_state_or_list),
        cmocka_unit_test(test_depend_state_kill_on_invalid_dep),
        cmocka_unit_test(test_depend_state_dependency_parameters_kill_invalid_depend),
        cmocka_unit_test(test_depend_state_singleton),
        cmocka_unit_test(test_depend_state_array_whole_and_one_task),
        cmocka_unit_test(test_depend_state_aftercorr_runs_task_after_its_counterpart),
        cmocka_unit_test(test_depend_state_update_goes_through_the_parser),
        cmocka_unit_test(test_depend_state_update_of_running_job_refused),
        cmocka_unit_test(test_depend_state_update_clears_never_satisfied),
        cmocka_unit_test(test_depend_state_snapshot_keeps_item_states),
        cmocka_unit_test(test_depend_state_held_job_is_tested_once_released),
        cmocka_unit_test(test_depend_state_never_satisfied_job_is_no_longer_tested),
    };
    return cmocka_run_group_tests(tests, conf_setup, conf_teardown);
}
