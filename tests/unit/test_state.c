/* tests/unit/test_state.c — the controller's replicated state machine (libflurm/state): command
 * semantics against slurmctld 22.05's, snapshot/restore, determinism and crash recovery,
 * malformed commands, job id / array expressions. */
#include <signal.h>

#include "state_fixtures.h"
#include "state/requests.h"

/* ------------------------------------------------------------------ fixtures */

#define TOP_PRIORITY 0xFFFF0000u
#define ALLOC_SID_ADMIN_HOLD 0x00000001u   /* scontrol hold */
#define ALLOC_SID_USER_HOLD 0x00000002u    /* scontrol uhold */

static const char CONF_TEXT[] =
    "SlurmctldHost=ctl\n"
    "SlurmUser=root\n"
    "NodeName=n[1-4] CPUs=1\n"
    "PartitionName=debug Nodes=n[1-4] Default=YES\n"
    "PartitionName=long Nodes=n[3-4] MaxTime=2-00:00:00\n";

static int conf_setup(void **state)
{
    (void)state;
    conf = parse_conf(CONF_TEXT);
    return conf ? 0 : -1;
}

/* ------------------------------------------------------------------ message helpers */

/* scontrol update job: job_id_str selects the job, everything else starts unset. */
static void update_desc(flurm_job_desc_msg_t *u, char *idbuf, size_t idlen, uint32_t job_id)
{
    job_desc_init(u);
    snprintf(idbuf, idlen, "%u", job_id);
    u->job_id_str = idbuf;
}

static uint32_t update_job(flurm_state_t *st, time_t now, uint32_t uid, const flurm_job_desc_msg_t *u)
{
    return apply_msg(st, FLURM_REQUEST_UPDATE_JOB, now, uid, 0, u, NULL);
}

static uint32_t update_job_priority(flurm_state_t *st, time_t now, uint32_t uid, uint32_t job_id,
                                    uint32_t prio, uint32_t alloc_sid)
{
    flurm_job_desc_msg_t u;
    char id[16];
    update_desc(&u, id, sizeof id, job_id);
    u.priority = prio;
    u.alloc_sid = alloc_sid;
    return update_job(st, now, uid, &u);
}

/* ------------------------------------------------------------------ snapshot helpers */

/* Asserts ST's snapshot is byte-identical to BEFORE (and releases BEFORE). */
static void assert_unchanged(const flurm_state_t *st, flurm_buf_t *before)
{
    flurm_buf_t after;
    snap(st, &after);
    assert_int_equal(after.size, before->size);
    assert_memory_equal(after.data, before->data, after.size);
    flurm_buf_release(&after);
    flurm_buf_release(before);
}

static bool bit(const flurm_job_t *j, uint32_t i)
{
    return j->array_pending && i < j->array_nbits && (j->array_pending[i / 64] >> (i % 64) & 1);
}

/* ------------------------------------------------------------------ submit */

static void test_state_submit_assigns_reserved_id_pending_and_top_priority(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    assert_int_equal(flurm_state_next_job_id(st), 1);

    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(a->job_id, 1);
    assert_int_equal(a->job_state, FLURM_JOB_PENDING);
    assert_int_equal(a->priority, TOP_PRIORITY - 1);
    assert_int_equal(a->user_id, UID_ALICE);
    assert_int_equal(a->group_id, UID_ALICE);
    assert_int_equal(a->submit_time, T0);
    assert_int_equal(a->array_job_id, 0);
    assert_int_equal(a->array_task_id, FLURM_NO_VAL);
    assert_int_equal(a->part_index, PART_DEBUG);
    assert_string_equal(a->alloc_node, "login1");   /* the command's host, not the desc's */
    assert_int_equal(flurm_state_next_job_id(st), 2);

    flurm_job_t *b = submit_plain(st, T0 + 1, UID_BOB);
    assert_int_equal(b->job_id, 2);
    assert_int_equal(b->priority, TOP_PRIORITY - 2);
    assert_int_equal(flurm_state_next_job_id(st), 3);

    /* The proposer may reserve ahead (ids of failed submits are not reused). */
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    uint32_t got = 0;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_SUBMIT_BATCH_JOB, T0 + 2, UID_ALICE, 10, &d, &got), 0);
    assert_int_equal(got, 10);
    assert_int_equal(flurm_state_next_job_id(st), 11);
    assert_int_equal(flurm_state_find_job(st, 10)->priority, TOP_PRIORITY - 3);

    assert_int_equal(flurm_state_job_count(st), 3);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_submitted, 3);
    assert_int_equal(stats.jobs_pending, 3);
    assert_int_equal(flurm_state_jobs_changed(st), T0 + 2);
    flurm_state_free(st);
}

static void test_state_submit_hold_is_user_hold(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.priority = 0;   /* sbatch --hold */
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->priority, 0);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_HELD_USER);
    assert_int_equal(flurm_job_reason(j), 16);
    /* The scheduler leaves a held job's reason alone. */
    flurm_state_schedule(st, T0 + 5);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_HELD_USER);
    flurm_state_free(st);
}

static void test_state_submit_root_may_submit_for_another_user(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, 4242);
    d.group_id = 4343;
    flurm_job_t *j = submit(st, T0, 0, &d);
    assert_int_equal(j->user_id, 4242);
    assert_int_equal(j->group_id, 4343);

    /* A user's claim to be someone else is ignored: the munge identity wins. */
    j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->user_id, UID_ALICE);
    assert_int_equal(j->group_id, UID_ALICE);
    flurm_state_free(st);
}

static void test_state_submit_time_limit_defaults_to_partition_max(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;

    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->part_index, PART_LONG);
    assert_int_equal(j->time_limit, 2880);   /* MaxTime=2-00:00:00 */

    batch_desc(&d, UID_ALICE);   /* default partition debug: no MaxTime */
    j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->part_index, PART_DEBUG);
    assert_int_equal(j->time_limit, FLURM_INFINITE);

    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    d.time_limit = 30;   /* -t 30 */
    j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->time_limit, 30);

    /* A comma list picks the first known partition. */
    batch_desc(&d, UID_ALICE);
    d.partition = "nosuch,long";
    j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->part_index, PART_LONG);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ arrays */

static void test_state_array_submit_records_pending_tasks(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "1-5%2";
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(j->array_job_id, j->job_id);
    assert_int_equal(j->array_task_id, FLURM_NO_VAL);
    assert_int_equal(j->array_max_tasks, 2);
    assert_false(bit(j, 0));
    for (uint32_t t = 1; t <= 5; t++)
        assert_true(bit(j, t));
    assert_false(bit(j, 6));
    flurm_state_free(st);
}

static void test_state_array_kill_task_then_all_cancels(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.array_inx = "1-5%2";
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    char expr[32];

    snprintf(expr, sizeof expr, "%u_2", j->job_id);
    assert_int_equal(kill_str(st, T0 + 1, UID_ALICE, expr, SIGKILL), 0);
    assert_false(bit(j, 2));
    assert_true(bit(j, 1) && bit(j, 3) && bit(j, 4) && bit(j, 5));
    assert_int_equal(j->job_state, FLURM_JOB_PENDING);
    assert_int_equal(j->end_time, 0);

    /* The same task again: nothing left to cancel. */
    assert_int_equal(kill_str(st, T0 + 2, UID_ALICE, expr, SIGKILL), RC_ALREADY_DONE);
    /* Another user may not cancel tasks either. */
    snprintf(expr, sizeof expr, "%u_1", j->job_id);
    assert_int_equal(kill_str(st, T0 + 2, UID_BOB, expr, SIGKILL), RC_ACCESS_DENIED);
    assert_true(bit(j, 1));

    snprintf(expr, sizeof expr, "%u_[1,3-5]", j->job_id);
    assert_int_equal(kill_str(st, T0 + 3, UID_ALICE, expr, SIGKILL), 0);
    for (uint32_t t = 0; t <= 5; t++)
        assert_false(bit(j, t));
    assert_int_equal(j->job_state, FLURM_JOB_CANCELLED);
    assert_int_equal(j->end_time, T0 + 3);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ kill */

static void test_state_kill_unknown_job_is_invalid_job_id(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    submit_plain(st, T0, UID_ALICE);
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, 77, SIGKILL), RC_INVALID_JOB_ID);
    assert_int_equal(kill_str(st, T0 + 1, UID_ALICE, "abc", SIGKILL), RC_INVALID_JOB_ID);
    assert_int_equal(kill_str(st, T0 + 1, UID_ALICE, "1_", SIGKILL), RC_INVALID_JOB_ID);
    /* Task expressions on a job that is not an array. */
    assert_int_equal(kill_str(st, T0 + 1, UID_ALICE, "1_3", SIGKILL), RC_INVALID_JOB_ID);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

static void test_state_kill_other_users_job_is_denied(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(kill_id(st, T0 + 1, UID_BOB, j->job_id, SIGKILL), RC_ACCESS_DENIED);
    assert_int_equal(j->job_state, FLURM_JOB_PENDING);
    assert_unchanged(st, &before);
    /* The operator may. */
    assert_int_equal(kill_id(st, T0 + 2, 0, j->job_id, SIGKILL), 0);
    assert_int_equal(j->job_state, FLURM_JOB_CANCELLED);
    flurm_state_free(st);
}

static void test_state_kill_finished_job_is_already_done(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, j->job_id, SIGKILL), 0);
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(kill_id(st, T0 + 2, UID_ALICE, j->job_id, SIGKILL), RC_ALREADY_DONE);
    assert_int_equal(j->end_time, T0 + 1);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

static void test_state_kill_pending_with_other_signal_is_transition_state(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, j->job_id, SIGTERM), RC_TRANSITION_STATE);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, j->job_id, SIGUSR1), RC_TRANSITION_STATE);
    assert_int_equal(j->job_state, FLURM_JOB_PENDING);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

static void test_state_kill_sigkill_cancels_at_command_time(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *other = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(kill_id(st, T0 + 42, UID_ALICE, j->job_id, SIGKILL), 0);
    assert_int_equal(j->job_state, FLURM_JOB_CANCELLED);
    assert_int_equal(j->end_time, T0 + 42);
    assert_int_equal(j->start_time, T0 + 42);   /* slurmctld: a pending job "starts" as it ends */
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_NO_REASON);
    assert_int_equal(other->job_state, FLURM_JOB_PENDING);
    assert_int_equal(flurm_state_jobs_changed(st), T0 + 42);
    flurm_state_stats_t stats;
    flurm_state_stats(st, &stats);
    assert_int_equal(stats.jobs_canceled, 1);
    assert_int_equal(stats.jobs_pending, 1);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ update job */

static void test_state_update_time_limit_owner_may_only_lower(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d, u;
    char id[16];
    batch_desc(&d, UID_ALICE);
    d.time_limit = 60;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);

    update_desc(&u, id, sizeof id, j->job_id);
    u.time_limit = 30;
    assert_int_equal(update_job(st, T0 + 1, UID_ALICE, &u), 0);
    assert_int_equal(j->time_limit, 30);

    flurm_buf_t before;
    snap(st, &before);
    u.time_limit = 120;
    assert_int_equal(update_job(st, T0 + 2, UID_ALICE, &u), RC_ACCESS_DENIED);
    assert_int_equal(j->time_limit, 30);
    assert_unchanged(st, &before);

    assert_int_equal(update_job(st, T0 + 3, 0, &u), 0);
    assert_int_equal(j->time_limit, 120);
    assert_int_equal(flurm_state_jobs_changed(st), T0 + 3);
    flurm_state_free(st);
}

static void test_state_update_hold_by_root_is_admin_hold(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *a = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *b = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *c = submit_plain(st, T0, UID_ALICE);

    /* scontrol hold (alloc_sid ADMIN_HOLD) and scontrol update priority=0 (alloc_sid left
     * NO_VAL) are both admin holds; only ALLOC_SID_USER_HOLD (scontrol uhold) is a user hold. */
    assert_int_equal(update_job_priority(st, T0 + 1, 0, a->job_id, 0, ALLOC_SID_ADMIN_HOLD), 0);
    assert_int_equal(a->priority, 0);
    assert_int_equal(flurm_job_reason(a), FLURM_WAIT_HELD);
    assert_int_equal(flurm_job_reason(a), 8);
    assert_int_equal(update_job_priority(st, T0 + 1, 0, b->job_id, 0, FLURM_NO_VAL), 0);
    assert_int_equal(flurm_job_reason(b), FLURM_WAIT_HELD);
    assert_int_equal(update_job_priority(st, T0 + 1, 0, c->job_id, 0, ALLOC_SID_USER_HOLD), 0);
    assert_int_equal(flurm_job_reason(c), FLURM_WAIT_HELD_USER);

    /* The owner cannot release an admin hold... */
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, a->job_id, FLURM_INFINITE, FLURM_NO_VAL),
                     RC_ACCESS_DENIED);
    assert_int_equal(a->priority, 0);
    assert_unchanged(st, &before);
    /* ...nor turn it into a user hold it could then release (slurmctld: same priority, not an
     * operator: nothing changes). */
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, a->job_id, 0, ALLOC_SID_USER_HOLD), 0);
    assert_int_equal(flurm_job_reason(a), FLURM_WAIT_HELD);
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, a->job_id, FLURM_INFINITE, FLURM_NO_VAL),
                     RC_ACCESS_DENIED);
    /* ...but may release its own user hold. */
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, c->job_id, FLURM_INFINITE, FLURM_NO_VAL), 0);
    assert_true(c->priority != 0);
    assert_int_equal(flurm_job_reason(c), FLURM_WAIT_NO_REASON);

    /* Root releases the admin hold: a fresh priority below every earlier one. */
    assert_int_equal(update_job_priority(st, T0 + 3, 0, a->job_id, FLURM_INFINITE, FLURM_NO_VAL), 0);
    assert_int_equal(a->priority, TOP_PRIORITY - 5);
    assert_int_equal(flurm_job_reason(a), FLURM_WAIT_NO_REASON);
    flurm_state_free(st);
}

static void test_state_update_owner_hold_and_release(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(update_job_priority(st, T0 + 1, UID_ALICE, j->job_id, 0, ALLOC_SID_USER_HOLD), 0);
    assert_int_equal(j->priority, 0);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_HELD_USER);
    /* Another user may neither release nor hold it. */
    assert_int_equal(update_job_priority(st, T0 + 1, UID_BOB, j->job_id, FLURM_INFINITE, FLURM_NO_VAL),
                     RC_ACCESS_DENIED);
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, j->job_id, FLURM_INFINITE, FLURM_NO_VAL), 0);
    assert_int_equal(j->priority, TOP_PRIORITY - 2);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_NO_REASON);
    /* Releasing a job that is not held is a no-op. */
    assert_int_equal(update_job_priority(st, T0 + 3, UID_ALICE, j->job_id, FLURM_INFINITE, FLURM_NO_VAL), 0);
    assert_int_equal(j->priority, TOP_PRIORITY - 2);
    flurm_state_free(st);
}

static void test_state_update_user_explicit_priority_is_refused(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *h = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(update_job_priority(st, T0 + 1, UID_ALICE, h->job_id, 0, ALLOC_SID_USER_HOLD), 0);

    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, j->job_id, 100, FLURM_NO_VAL),
                     RC_PRIO_RESET_FAIL);
    assert_int_equal(update_job_priority(st, T0 + 2, UID_ALICE, h->job_id, 100, FLURM_NO_VAL),
                     RC_JOB_HELD);
    assert_int_equal(j->priority, TOP_PRIORITY - 1);
    assert_int_equal(h->priority, 0);
    assert_unchanged(st, &before);

    /* The operator sets it, and that also releases a hold. */
    assert_int_equal(update_job_priority(st, T0 + 3, 0, h->job_id, 100, FLURM_NO_VAL), 0);
    assert_int_equal(h->priority, 100);
    assert_int_equal(flurm_job_reason(h), FLURM_WAIT_NO_REASON);
    flurm_state_free(st);
}

static void test_state_update_rejected_changes_nothing(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d, u;
    char id[16];
    batch_desc(&d, UID_ALICE);
    d.time_limit = 60;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);

    struct {
        uint32_t uid, time_limit, nice;
        const char *partition;
        uint32_t want;
    } cases[] = {
        { UID_ALICE, 120, FLURM_NO_VAL, NULL, RC_ACCESS_DENIED },             /* raise own limit */
        { UID_ALICE, FLURM_NO_VAL, FLURM_NO_VAL, "nosuch", RC_INVALID_PARTITION },
        { UID_ALICE, FLURM_NO_VAL, FLURM_NICE_OFFSET - 5, NULL, RC_ACCESS_DENIED }, /* negative nice */
        { UID_BOB, 10, FLURM_NO_VAL, NULL, RC_ACCESS_DENIED },                /* not the owner */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        flurm_buf_t before;
        snap(st, &before);
        update_desc(&u, id, sizeof id, j->job_id);
        /* Every rejected update also carries changes that would be valid on their own. */
        u.name = "renamed";
        u.comment = "c";
        u.priority = 0;
        u.time_limit = cases[i].time_limit;
        u.nice = cases[i].nice;
        u.partition = (char *)cases[i].partition;
        assert_int_equal(update_job(st, T0 + 10 + (time_t)i, cases[i].uid, &u), cases[i].want);
        assert_string_equal(j->desc->name, "job.sh");
        assert_int_equal(j->priority, TOP_PRIORITY - 1);
        assert_int_equal(j->time_limit, 60);
        assert_unchanged(st, &before);
    }

    /* Unknown job ids. */
    flurm_buf_t before;
    snap(st, &before);
    update_desc(&u, id, sizeof id, 999);
    u.name = "x";
    assert_int_equal(update_job(st, T0 + 20, 0, &u), RC_INVALID_JOB_ID);
    u.job_id_str = "garbage";
    assert_int_equal(update_job(st, T0 + 20, 0, &u), RC_INVALID_JOB_ID);
    assert_unchanged(st, &before);

    /* The same update with valid values goes through whole. */
    update_desc(&u, id, sizeof id, j->job_id);
    u.name = "renamed";
    u.partition = "long";
    u.time_limit = 30;
    assert_int_equal(update_job(st, T0 + 30, UID_ALICE, &u), 0);
    assert_string_equal(j->desc->name, "renamed");
    assert_int_equal(j->part_index, PART_LONG);
    assert_int_equal(j->time_limit, 30);
    flurm_state_free(st);
}

static void test_state_update_finished_job_is_job_finished(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, j->job_id, SIGKILL), 0);
    flurm_job_desc_msg_t u;
    char id[16];
    update_desc(&u, id, sizeof id, j->job_id);
    u.time_limit = 5;
    flurm_buf_t before;
    snap(st, &before);
    /* slurmctld (_update_job) checks "finished" before ownership: ESLURM_JOB_FINISHED. */
    assert_int_equal(update_job(st, T0 + 2, UID_ALICE, &u), RC_JOB_FINISHED);
    assert_int_equal(update_job(st, T0 + 2, UID_BOB, &u), RC_JOB_FINISHED);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ update node */

static void test_state_update_node_drain_sets_reason(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    assert_int_equal(update_node(st, T0 + 5, 0, "n[1-2]", FLURM_NODE_STATE_DRAIN, "disk dead"), 0);
    for (size_t i = 0; i < 2; i++) {
        flurm_node_rt_t *n = flurm_state_node(st, i);
        assert_true(n->state & FLURM_NODE_STATE_DRAIN);
        assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_UNKNOWN);
        assert_string_equal(n->reason, "disk dead");
        assert_int_equal(n->reason_uid, 0);
        assert_int_equal(n->reason_time, T0 + 5);
    }
    flurm_node_rt_t *n3 = flurm_state_node(st, 2);
    assert_false(n3->state & FLURM_NODE_STATE_DRAIN);
    assert_null(n3->reason);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 5);
    flurm_state_free(st);
}

static void test_state_update_node_resume_clears_drain(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_node_rt_t *n = flurm_state_node(st, 0);
    assert_int_equal(update_node(st, T0 + 1, 0, "n1", FLURM_NODE_STATE_DOWN, "broken"), 0);
    assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_DOWN);
    assert_int_equal(update_node(st, T0 + 2, 0, "n1", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    assert_true(n->state & FLURM_NODE_STATE_DRAIN);
    assert_string_equal(n->reason, "maint");

    assert_int_equal(update_node(st, T0 + 3, 0, "n1", FLURM_NODE_RESUME, NULL), 0);
    assert_false(n->state & FLURM_NODE_STATE_DRAIN);
    assert_int_not_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_DOWN);
    assert_null(n->reason);
    assert_int_equal(n->reason_uid, FLURM_NO_VAL);
    assert_int_equal(n->reason_time, 0);
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 3);
    flurm_state_free(st);
}

static void test_state_update_node_resume_unknown_node_clears_drain_but_fails(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_node_rt_t *n = flurm_state_node(st, 3);
    assert_int_equal(update_node(st, T0 + 1, 0, "n4", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_UNKNOWN);
    /* slurmctld's node_mgr.c update_node(): the drain goes, the answer is still an error. */
    assert_int_equal(update_node(st, T0 + 2, 0, "n4", FLURM_NODE_RESUME, NULL), RC_INVALID_NODE_STATE);
    assert_false(n->state & FLURM_NODE_STATE_DRAIN);
    assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_UNKNOWN);
    assert_null(n->reason);
    flurm_state_free(st);
}

static void test_state_update_node_unknown_name_changes_nothing(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_buf_t before;
    snap(st, &before);
    /* One bad name spoils the whole list: n1 is not drained either. */
    assert_int_equal(update_node(st, T0 + 1, 0, "n1,nosuch", FLURM_NODE_STATE_DRAIN, "x"),
                     RC_INVALID_NODE_NAME);
    assert_int_equal(update_node(st, T0 + 1, 0, "n[4-5]", FLURM_NODE_STATE_DRAIN, "x"),
                     RC_INVALID_NODE_NAME);
    assert_int_equal(update_node(st, T0 + 1, 0, "n[", FLURM_NODE_STATE_DRAIN, "x"),
                     RC_INVALID_NODE_NAME);
    /* A state update_node does not accept. */
    assert_int_equal(update_node(st, T0 + 1, 0, "n1", FLURM_NODE_STATE_MIXED, "x"),
                     RC_INVALID_NODE_STATE);
    assert_false(flurm_state_node(st, 0)->state & FLURM_NODE_STATE_DRAIN);
    assert_int_equal(flurm_state_nodes_changed(st), 0);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ update partition */

static void test_state_update_partition_down_gives_part_down_reason(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    flurm_job_t *dj = submit_plain(st, T0, UID_ALICE);
    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    flurm_job_t *lj = submit(st, T0, UID_ALICE, &d);

    assert_int_equal(update_part_state(st, T0 + 1, "debug", FLURM_PARTITION_DOWN), 0);
    assert_int_equal(flurm_state_part(st, PART_DEBUG)->state_up, FLURM_PARTITION_DOWN);
    assert_int_equal(flurm_state_parts_changed(st), T0 + 1);
    flurm_state_schedule(st, T0 + 2);
    assert_int_equal(flurm_job_reason(dj), FLURM_WAIT_PART_DOWN);
    assert_int_equal(flurm_job_reason(dj), 6);
    assert_int_equal(flurm_job_reason(lj), FLURM_WAIT_RESOURCES);

    assert_int_equal(update_part_state(st, T0 + 3, "debug", FLURM_PARTITION_UP), 0);
    flurm_state_schedule(st, T0 + 4);
    assert_int_equal(flurm_job_reason(dj), FLURM_WAIT_RESOURCES);
    flurm_state_free(st);
}

static void test_state_update_partition_unknown_is_invalid_partition(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(update_part_state(st, T0 + 1, "nosuch", FLURM_PARTITION_DOWN), RC_INVALID_PARTITION);
    assert_unchanged(st, &before);
    flurm_state_free(st);
}

static void test_state_update_partition_max_time_applies_to_pending_jobs(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    d.time_limit = 10;
    flurm_job_t *k = submit(st, T0, UID_ALICE, &d);
    flurm_update_part_msg_t m;
    part_msg_init(&m);
    m.name = "long";
    m.max_time = 600;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_UPDATE_PARTITION, T0 + 1, 0, 0, &m, NULL), 0);
    assert_int_equal(j->time_limit, 600);
    assert_int_equal(k->time_limit, 10);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ schedule */

static void test_state_schedule_without_nodes_waits_for_resources(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *j = submit_plain(st, T0, UID_ALICE);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_NO_REASON);
    flurm_state_schedule(st, T0 + 7);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_RESOURCES);
    assert_non_null(j->state_desc);
    assert_string_equal(j->state_desc, "Nodes required for job are DOWN, DRAINED or reserved for "
                                       "jobs in higher priority partitions");
    assert_int_equal(j->last_sched_eval, T0 + 7);
    flurm_state_free(st);
}

static void test_state_schedule_dependency_on_pending_job_waits(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *first = submit_plain(st, T0, UID_ALICE);
    flurm_job_desc_msg_t d;
    char dep[32];
    batch_desc(&d, UID_ALICE);
    snprintf(dep, sizeof dep, "afterok:%u", first->job_id);
    d.dependency = dep;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    flurm_state_schedule(st, T0 + 1);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_DEPENDENCY);
    assert_int_equal(flurm_job_reason(j), 2);
    assert_null(j->state_desc);
    flurm_state_free(st);
}

static void test_state_schedule_afterok_on_cancelled_job_is_never_satisfied(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *first = submit_plain(st, T0, UID_ALICE);
    flurm_job_desc_msg_t d;
    char dep[32];
    batch_desc(&d, UID_ALICE);
    snprintf(dep, sizeof dep, "afterok:%u", first->job_id);
    d.dependency = dep;
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, first->job_id, SIGKILL), 0);
    flurm_state_schedule(st, T0 + 2);
    assert_int_equal(flurm_job_reason(j), FLURM_WAIT_DEP_INVALID);
    assert_int_equal(flurm_job_reason(j), 39);
    flurm_state_free(st);
}

static void test_state_nodes_not_responding_marks_down(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    uint32_t ids[] = { 0, 2, 99 };   /* an index beyond the conf is ignored */
    assert_int_equal(apply_ids(st, FLURM_CMD_NODES_NOT_RESPONDING, T0 + 300, ids, 3), 0);
    for (size_t i = 0; i < 4; i++) {
        flurm_node_rt_t *n = flurm_state_node(st, i);
        if (i == 0 || i == 2) {
            assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_DOWN);
            assert_true(n->state & FLURM_NODE_STATE_NO_RESPOND);
            assert_string_equal(n->reason, "Not responding");
            assert_int_equal(n->reason_time, T0 + 300);
            assert_int_equal(n->reason_uid, conf->slurm_user_id);
        } else {
            assert_int_equal(n->state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_UNKNOWN);
            assert_null(n->reason);
        }
    }
    assert_int_equal(flurm_state_nodes_changed(st), T0 + 300);
    /* An admin's reason is kept. */
    assert_int_equal(update_node(st, T0 + 301, 0, "n2", FLURM_NODE_STATE_DRAIN, "mine"), 0);
    uint32_t one = 1;
    assert_int_equal(apply_ids(st, FLURM_CMD_NODES_NOT_RESPONDING, T0 + 302, &one, 1), 0);
    assert_string_equal(flurm_state_node(st, 1)->reason, "mine");
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ purge */

static void test_state_purge_drops_finished_jobs_only(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_t *done = submit_plain(st, T0, UID_ALICE);
    flurm_job_t *pending = submit_plain(st, T0, UID_ALICE);
    uint32_t done_id = done->job_id, pending_id = pending->job_id;
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, done_id, SIGKILL), 0);
    uint32_t ids[] = { done_id, pending_id, 999 };
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 400, ids, 3), 0);
    assert_null(flurm_state_find_job(st, done_id));
    assert_ptr_equal(flurm_state_find_job(st, pending_id), pending);
    assert_int_equal(flurm_state_job_count(st), 1);
    assert_int_equal(flurm_state_next_job_id(st), 3);   /* ids are never reused */
    assert_int_equal(kill_id(st, T0 + 401, UID_ALICE, done_id, SIGKILL), RC_INVALID_JOB_ID);
    flurm_state_free(st);
}

/* Jobs with the same environment share one read-only copy; each job still sees it whole after
 * others sharing it are purged, and snapshots are what they would be with private copies. */
static void test_state_identical_environments_are_shared_and_survive_purges(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    char *env_a[] = { "PATH=/bin", "HOME=/root", "X=1" }, *env_b[] = { "PATH=/bin", "HOME=/root", "X=2" };
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.environment = env_a;
    d.env_size = 3;
    flurm_job_t *j1 = submit(st, T0, UID_ALICE, &d);
    flurm_job_t *j2 = submit(st, T0, UID_ALICE, &d);
    d.environment = env_b;
    flurm_job_t *j3 = submit(st, T0, UID_ALICE, &d);
    uint32_t id1 = j1->job_id, id2 = j2->job_id, id3 = j3->job_id;
    assert_ptr_equal(j1->desc->environment, j2->desc->environment);
    assert_ptr_not_equal(j1->desc->environment, j3->desc->environment);
    assert_string_equal(j3->desc->environment[2], "X=2");
    flurm_buf_t before;
    snap(st, &before);
    /* the first holder goes: the second still reads the shared copy */
    assert_int_equal(kill_id(st, T0 + 1, UID_ALICE, id1, SIGKILL), 0);
    uint32_t ids[] = { id1 };
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 400, ids, 1), 0);
    flurm_job_t *left = flurm_state_find_job(st, id2);
    assert_non_null(left);
    assert_int_equal(left->desc->env_size, 3);
    assert_string_equal(left->desc->environment[0], "PATH=/bin");
    assert_string_equal(left->desc->environment[2], "X=1");
    /* a restored state shares again and snapshots the same bytes */
    flurm_state_t *copy = new_state();
    assert_int_equal(flurm_state_restore(copy, before.data, before.size), FLURM_OK);
    assert_ptr_equal(flurm_state_find_job(copy, id1)->desc->environment,
                     flurm_state_find_job(copy, id2)->desc->environment);
    flurm_buf_t again;
    snap(copy, &again);
    assert_true(snap_equal(&before, &again));
    assert_non_null(flurm_state_find_job(st, id3));
    flurm_buf_release(&before);
    flurm_buf_release(&again);
    flurm_state_free(copy);
    flurm_state_free(st);
}

/* Purging most of a big table compacts it: lookups, id order and snapshots stay right. */
static void test_state_purge_compaction_keeps_lookups_and_order(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    const uint32_t total = 1500;
    for (uint32_t i = 0; i < total; i++)
        submit_plain(st, T0, i % 2 ? UID_ALICE : UID_BOB);
    /* Cancel and purge every job whose id is not a multiple of 5, in two batches. */
    uint32_t *ids = malloc(total * sizeof *ids), n = 0;
    assert_non_null(ids);
    for (uint32_t id = 1; id <= total; id++) {
        if (id % 5) {
            assert_int_equal(kill_id(st, T0 + 1, 0, id, SIGKILL), 0);
            ids[n++] = id;
        }
    }
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 2, ids, n / 2), 0);
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 3, ids + n / 2, n - n / 2), 0);
    free(ids);

    assert_int_equal(flurm_state_job_count(st), total / 5);
    assert_true(flurm_state_job_slots(st) < total);   /* tombstones were compacted away */
    uint32_t last = 0;
    size_t seen = 0;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *j = flurm_state_job_at(st, i);
        if (!j)
            continue;
        assert_true(j->job_id > last);
        assert_int_equal(j->job_id % 5, 0);
        last = j->job_id;
        seen++;
    }
    assert_int_equal(seen, total / 5);
    for (uint32_t id = 1; id <= total; id++) {
        const flurm_job_t *j = flurm_state_find_job(st, id);
        if (id % 5)
            assert_null(j);
        else
            assert_true(j && j->job_id == id && j->job_state == FLURM_JOB_PENDING);
    }
    /* New jobs still go in and are found. */
    flurm_job_t *j = submit_plain(st, T0 + 4, UID_ALICE);
    assert_int_equal(j->job_id, total + 1);
    assert_ptr_equal(flurm_state_find_job(st, total + 1), j);

    flurm_buf_t a, b;
    snap(st, &a);
    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, a.data, a.size), FLURM_OK);
    snap(r, &b);
    assert_true(snap_equal(&a, &b));
    flurm_buf_release(&a);
    flurm_buf_release(&b);
    flurm_state_free(r);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ snapshot / restore */

/* A state with something of everything in it. */
static flurm_state_t *busy_state(void)
{
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    char dep[32], expr[32];
    submit_plain(st, T0, UID_ALICE);
    batch_desc(&d, UID_BOB);
    d.array_inx = "0-9%3";
    d.partition = "long";
    flurm_job_t *arr = submit(st, T0 + 1, UID_BOB, &d);
    snprintf(expr, sizeof expr, "%u_[2-4]", arr->job_id);
    assert_int_equal(kill_str(st, T0 + 2, UID_BOB, expr, SIGKILL), 0);
    batch_desc(&d, UID_ALICE);
    d.priority = 0;
    d.time_limit = 15;
    snprintf(dep, sizeof dep, "afterany:%u", arr->job_id);
    d.dependency = dep;
    submit(st, T0 + 3, UID_ALICE, &d);
    flurm_job_t *gone = submit_plain(st, T0 + 4, UID_BOB);
    assert_int_equal(kill_id(st, T0 + 5, UID_BOB, gone->job_id, SIGKILL), 0);
    flurm_job_t *purged = submit_plain(st, T0 + 5, UID_BOB);
    uint32_t pid = purged->job_id;
    assert_int_equal(kill_id(st, T0 + 5, 0, pid, SIGKILL), 0);
    assert_int_equal(apply_ids(st, FLURM_CMD_PURGE_JOBS, T0 + 6, &pid, 1), 0);
    assert_int_equal(update_node(st, T0 + 7, 0, "n2", FLURM_NODE_STATE_DRAIN, "maint"), 0);
    uint32_t nr = 3;
    assert_int_equal(apply_ids(st, FLURM_CMD_NODES_NOT_RESPONDING, T0 + 8, &nr, 1), 0);
    assert_int_equal(update_part_state(st, T0 + 9, "long", FLURM_PARTITION_DOWN), 0);
    return st;
}

static void test_state_snapshot_restore_roundtrip_is_identical(void **s)
{
    (void)s;
    flurm_state_t *st = busy_state();
    flurm_buf_t a, b;
    snap(st, &a);

    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, a.data, a.size), FLURM_OK);
    snap(r, &b);
    assert_int_equal(a.size, b.size);
    assert_memory_equal(a.data, b.data, a.size);

    /* The restored state reads like the original. */
    assert_int_equal(flurm_state_job_count(r), flurm_state_job_count(st));
    assert_int_equal(flurm_state_next_job_id(r), flurm_state_next_job_id(st));
    for (size_t i = 0; i < flurm_state_job_slots(st); i++) {
        const flurm_job_t *o = flurm_state_job_at(st, i);
        if (!o)
            continue;
        const flurm_job_t *n = flurm_state_find_job(r, o->job_id);
        assert_non_null(n);
        assert_int_equal(n->time_limit, o->time_limit);
        assert_int_equal(n->part_index, o->part_index);
        assert_int_equal(n->priority, o->priority);
        assert_int_equal(n->state_reason, o->state_reason);
        assert_int_equal(n->array_nbits, o->array_nbits);
        for (uint32_t t = 0; t < o->array_nbits; t++)
            assert_int_equal(bit(n, t), bit(o, t));
    }
    assert_string_equal(flurm_state_node(r, 1)->reason, "maint");
    assert_int_equal(flurm_state_part(r, PART_LONG)->state_up, FLURM_PARTITION_DOWN);

    /* Restore replaces, it does not merge: a busy state restored from an empty one is empty. */
    flurm_state_t *empty = new_state();
    flurm_buf_t e, e2;
    snap(empty, &e);
    assert_int_equal(flurm_state_restore(r, e.data, e.size), FLURM_OK);
    snap(r, &e2);
    assert_true(snap_equal(&e, &e2));
    assert_int_equal(flurm_state_job_count(r), 0);

    flurm_buf_release(&a);
    flurm_buf_release(&b);
    flurm_buf_release(&e);
    flurm_buf_release(&e2);
    flurm_state_free(empty);
    flurm_state_free(r);
    flurm_state_free(st);
}

/* A pending job without -t follows its partition's runtime MaxTime; recovery (restore) and
 * scontrol reconfigure must derive it from the limits in force, not from the file read at
 * start-up. */
static void test_state_restore_and_reconfigure_keep_partition_time_limits(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    d.partition = "long";
    flurm_job_t *j = submit(st, T0, UID_ALICE, &d);
    uint32_t id = j->job_id;
    flurm_update_part_msg_t m;
    part_msg_init(&m);
    m.name = "long";
    m.max_time = 600;
    assert_int_equal(apply_msg(st, FLURM_REQUEST_UPDATE_PARTITION, T0 + 1, 0, 0, &m, NULL), 0);
    assert_int_equal(j->time_limit, 600);

    flurm_buf_t a;
    snap(st, &a);
    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, a.data, a.size), FLURM_OK);
    assert_int_equal(flurm_state_find_job(r, id)->time_limit, 600);
    assert_int_equal(flurm_state_part(r, PART_LONG)->max_time, 600);

    /* Reconfigure: limits come from the new file, and so do the jobs' effective limits. */
    flurm_conf_t *conf2 = NULL;
    char *err = NULL;
    assert_int_equal(flurm_conf_parse_string("SlurmctldHost=ctl\nSlurmUser=root\nNodeName=n[1-4] CPUs=1\n"
                                             "PartitionName=long Nodes=n[3-4] MaxTime=1-00:00:00\n"
                                             "PartitionName=debug Nodes=n[1-4] Default=YES\n",
                                             "test2.conf", &conf2, &err), FLURM_OK);
    assert_int_equal(flurm_state_reconfigure(r, conf2), FLURM_OK);
    j = flurm_state_find_job(r, id);
    assert_int_equal(j->part_index, 0);   /* "long" is first in the new file */
    assert_int_equal(j->time_limit, 1440);

    flurm_buf_release(&a);
    flurm_state_free(r);
    flurm_conf_free(conf2);
    flurm_state_free(st);
}

static void test_state_restore_truncated_snapshot_fails_untouched(void **s)
{
    (void)s;
    /* Source: one job, one drained node. */
    flurm_state_t *src = new_state();
    submit_plain(src, T0, UID_ALICE);
    assert_int_equal(update_node(src, T0 + 1, 0, "n3", FLURM_NODE_STATE_DRAIN, "x"), 0);
    flurm_buf_t full;
    snap(src, &full);

    /* Target: different content that must survive every failed restore. */
    flurm_state_t *dst = busy_state();
    flurm_buf_t want;
    snap(dst, &want);
    for (size_t len = 0; len < full.size; len++) {
        uint8_t *copy = malloc(len ? len : 1);   /* exact-size copy: overreads trip ASan */
        assert_non_null(copy);
        memcpy(copy, full.data, len);
        if (flurm_state_restore(dst, copy, len) == FLURM_OK)
            fail_msg("restore of a %zu-byte prefix (of %zu) succeeded", len, full.size);
        free(copy);
        flurm_buf_t now;
        snap(dst, &now);
        if (!snap_equal(&now, &want))
            fail_msg("restore of a %zu-byte prefix changed the target", len);
        flurm_buf_release(&now);
    }
    /* A wrong snapshot version is refused too. */
    full.data[0] ^= 0x40;
    assert_int_not_equal(flurm_state_restore(dst, full.data, full.size), FLURM_OK);
    full.data[0] ^= 0x40;
    assert_unchanged(dst, &want);
    assert_int_equal(flurm_state_restore(dst, full.data, full.size), FLURM_OK);
    flurm_buf_release(&full);
    flurm_state_free(dst);
    flurm_state_free(src);
}

/* ------------------------------------------------------------------ determinism */

typedef struct cmd_list {
    flurm_buf_t *cmds;
    size_t n;
} cmd_list_t;

/* A random but plausible stream of commands, as proposers stamp them: time never goes back,
 * submits carry increasing reserved ids. */
static void gen_commands(uint64_t seed, size_t count, cmd_list_t *out)
{
    static const uint32_t uids[] = { 0, UID_ALICE, UID_BOB };
    static const char *const parts[] = { NULL, NULL, "debug", "long", "nosuch", "nosuch,long" };
    static const uint32_t limits[] = { FLURM_NO_VAL, FLURM_NO_VAL, 10, 60, 5000, FLURM_INFINITE };
    static const char *const arrays[] = { "1-5%2", "0-3", "1-10:3", "2,4,6", "0-100%7" };
    static const char *const deps[] = { "afterok", "afterany", "afternotok", "after", "singleton" };
    static const char *const node_names[] = { "n1", "n2", "n[2-3]", "n4", "n[1-4]", "n9" };
    static const uint32_t node_states[] = {
        FLURM_NODE_STATE_DRAIN, FLURM_NODE_STATE_DRAIN, FLURM_NODE_RESUME, FLURM_NODE_RESUME,
        FLURM_NODE_STATE_DOWN, FLURM_NODE_STATE_UNDRAIN, FLURM_NODE_STATE_IDLE,
        FLURM_NODE_STATE_FAIL, FLURM_NO_VAL, FLURM_NODE_STATE_MIXED,
    };
    static const uint16_t part_states[] = { FLURM_PARTITION_UP, FLURM_PARTITION_DOWN,
                                            FLURM_PARTITION_DRAIN, FLURM_PARTITION_INACTIVE,
                                            FLURM_NO_VAL16 };
    static const uint16_t signals[] = { SIGKILL, SIGKILL, SIGKILL, SIGKILL, SIGKILL, SIGTERM };
    static const uint32_t prios[] = { 0, 0, FLURM_INFINITE, FLURM_INFINITE, 100 };
    static const uint32_t sids[] = { FLURM_NO_VAL, ALLOC_SID_ADMIN_HOLD, ALLOC_SID_USER_HOLD };

    uint64_t rng = seed;
    uint32_t next_id = 1;
    time_t now = T0;
    out->cmds = calloc(count, sizeof *out->cmds);
    assert_non_null(out->cmds);
    out->n = count;
    for (size_t i = 0; i < count; i++) {
        flurm_buf_t *cmd = &out->cmds[i];
        flurm_buf_init(cmd);
        now += rng_below(&rng, 3);
        uint32_t uid = PICK(&rng, uids);
        uint32_t target = 1 + rng_below(&rng, next_id + 2);
        uint32_t roll = rng_below(&rng, 100);
        char sbuf[64], sbuf2[64];
        if (roll < 30) {
            flurm_job_desc_msg_t d;
            batch_desc(&d, uid == 0 && rng_below(&rng, 2) ? UID_BOB : uid);
            d.partition = (char *)PICK(&rng, parts);
            d.time_limit = PICK(&rng, limits);
            if (rng_below(&rng, 10) == 0)
                d.priority = 0;
            if (rng_below(&rng, 7) == 0)
                d.array_inx = (char *)PICK(&rng, arrays);
            if (rng_below(&rng, 7) == 0) {
                const char *kind = PICK(&rng, deps);
                if (strcmp(kind, "singleton") == 0)
                    snprintf(sbuf, sizeof sbuf, "singleton");
                else
                    snprintf(sbuf, sizeof sbuf, "%s:%u", kind, target);
                d.dependency = sbuf;
            }
            cmd_msg(cmd, FLURM_REQUEST_SUBMIT_BATCH_JOB, now, uid, next_id++, &d);
        } else if (roll < 65) {
            /* Mostly the operator and mostly recent jobs, so that many jobs end and purges
             * empty the table enough to compact it. */
            if (rng_below(&rng, 5) < 3)
                uid = 0;
            if (next_id > 10 && rng_below(&rng, 10) < 7)
                target = next_id - 1 - rng_below(&rng, 10);
            if (rng_below(&rng, 4) == 0)
                snprintf(sbuf, sizeof sbuf, "%u_%u", target, rng_below(&rng, 12));
            else
                snprintf(sbuf, sizeof sbuf, "%u", target);
            flurm_job_step_kill_msg_t k = { .step_id = { FLURM_NO_VAL, FLURM_NO_VAL, FLURM_NO_VAL },
                                            .sjob_id = sbuf, .signal = PICK(&rng, signals) };
            cmd_msg(cmd, FLURM_REQUEST_KILL_JOB, now, uid, 0, &k);
        } else if (roll < 77) {
            flurm_job_desc_msg_t u;
            update_desc(&u, sbuf, sizeof sbuf, target);
            switch (rng_below(&rng, 5)) {
            case 0: u.time_limit = PICK(&rng, limits); break;
            case 1:
                u.priority = PICK(&rng, prios);
                u.alloc_sid = PICK(&rng, sids);
                break;
            case 2:
                snprintf(sbuf2, sizeof sbuf2, "name%u", rng_below(&rng, 1000));
                u.name = sbuf2;
                break;
            case 3: u.partition = (char *)PICK(&rng, parts); break;
            default: u.nice = FLURM_NICE_OFFSET + rng_below(&rng, 20) - 10; break;
            }
            cmd_msg(cmd, FLURM_REQUEST_UPDATE_JOB, now, uid, 0, &u);
        } else if (roll < 85) {
            flurm_update_node_msg_t m;
            node_msg_init(&m);
            snprintf(sbuf, sizeof sbuf, "%s", PICK(&rng, node_names));
            m.node_names = sbuf;
            m.node_state = PICK(&rng, node_states);
            if (rng_below(&rng, 2)) {
                snprintf(sbuf2, sizeof sbuf2, "reason %u", rng_below(&rng, 100));
                m.reason = sbuf2;
            }
            cmd_msg(cmd, FLURM_REQUEST_UPDATE_NODE, now, uid, 0, &m);
        } else if (roll < 88) {
            flurm_update_part_msg_t m;
            part_msg_init(&m);
            m.name = (char *)(rng_below(&rng, 2) ? "debug" : (rng_below(&rng, 4) ? "long" : "nosuch"));
            m.state_up = PICK(&rng, part_states);
            if (rng_below(&rng, 3) == 0)
                m.max_time = rng_below(&rng, 2) ? 90 : FLURM_INFINITE;
            cmd_msg(cmd, FLURM_REQUEST_UPDATE_PARTITION, now, 0, 0, &m);
        } else if (roll < 98) {
            uint32_t ids[64], n = 1 + rng_below(&rng, 64);
            for (uint32_t k = 0; k < n; k++)
                ids[k] = next_id > 100 && rng_below(&rng, 2) ? next_id - 1 - rng_below(&rng, 100)
                                                             : 1 + rng_below(&rng, next_id);
            cmd_ids(cmd, FLURM_CMD_PURGE_JOBS, now, ids, n);
        } else {
            uint32_t ids[4], n = 1 + rng_below(&rng, 4);
            for (uint32_t k = 0; k < n; k++)
                ids[k] = rng_below(&rng, 6);
            cmd_ids(cmd, FLURM_CMD_NODES_NOT_RESPONDING, now, ids, n);
        }
    }
}

static void free_commands(cmd_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        flurm_buf_release(&l->cmds[i]);
    free(l->cmds);
}

static void apply_range(flurm_state_t *st, const cmd_list_t *l, size_t from, size_t to, uint32_t *rcs,
                        uint64_t seed)
{
    for (size_t i = from; i < to; i++) {
        flurm_apply_result_t res;
        int rc = flurm_state_apply(st, l->cmds[i].data, l->cmds[i].size, &res);
        if (rc != FLURM_OK)
            fail_msg("seed %llu: command %zu refused (%d)", (unsigned long long)seed, i, rc);
        if (rcs[i] == FLURM_NO_VAL)
            rcs[i] = res.rc;
        else if (rcs[i] != res.rc)
            fail_msg("seed %llu: command %zu answered %u, first time %u", (unsigned long long)seed, i,
                     res.rc, rcs[i]);
    }
}

static void check_determinism(uint64_t seed)
{
    const size_t count = 4000, mid = 1234;
    cmd_list_t l;
    gen_commands(seed, count, &l);
    uint32_t *rcs = malloc(count * sizeof *rcs);
    assert_non_null(rcs);
    for (size_t i = 0; i < count; i++)
        rcs[i] = FLURM_NO_VAL;

    /* Two replicas fed the same log end byte-identical and answer alike. */
    flurm_state_t *a = new_state(), *b = new_state();
    apply_range(a, &l, 0, count, rcs, seed);
    apply_range(b, &l, 0, count, rcs, seed);
    flurm_buf_t sa, sb;
    snap(a, &sa);
    snap(b, &sb);
    if (!snap_equal(&sa, &sb))
        fail_msg("seed %llu: replicas diverged", (unsigned long long)seed);

    /* Crash recovery: a snapshot taken mid-way, restored into a new controller, plus the rest of
     * the log gives the same final state. */
    flurm_state_t *c = new_state(), *d = new_state();
    apply_range(c, &l, 0, mid, rcs, seed);
    flurm_buf_t smid, sd;
    snap(c, &smid);
    assert_int_equal(flurm_state_restore(d, smid.data, smid.size), FLURM_OK);
    apply_range(d, &l, mid, count, rcs, seed);
    snap(d, &sd);
    if (!snap_equal(&sa, &sd))
        fail_msg("seed %llu: recovery from command %zu diverged", (unsigned long long)seed, mid);

    /* The stream did exercise what it should: jobs of every fate, and purges. */
    flurm_state_stats_t st;
    flurm_state_stats(a, &st);
    assert_true(st.jobs_submitted > 500);
    assert_true(st.jobs_canceled > 0);
    assert_true(st.jobs_pending > 0);
    assert_true(flurm_state_job_count(a) < st.jobs_submitted);
    size_t ok = 0;
    for (size_t i = 0; i < count; i++)
        ok += rcs[i] == 0;
    assert_true(ok > count / 4 && ok < count);

    flurm_buf_release(&sa);
    flurm_buf_release(&sb);
    flurm_buf_release(&smid);
    flurm_buf_release(&sd);
    flurm_state_free(a);
    flurm_state_free(b);
    flurm_state_free(c);
    flurm_state_free(d);
    free(rcs);
    free_commands(&l);
}

static void test_state_apply_is_deterministic_and_recoverable(void **s)
{
    (void)s;
    /* A seed that once caught restore deriving time limits before the partitions' runtime
     * limits were read, then a new one each run (FLURM_TEST_SEED=N reruns one). */
    const char *e = getenv("FLURM_TEST_SEED");
    if (!e || !*e)
        check_determinism(4);
    check_determinism(test_seed());
}

/* ------------------------------------------------------------------ malformed commands */

static void assert_eproto(flurm_state_t *st, const void *data, size_t len, const flurm_buf_t *want,
                          const char *what)
{
    uint8_t *copy = malloc(len ? len : 1);   /* exact-size copy: overreads trip ASan */
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    flurm_apply_result_t res;
    int rc = flurm_state_apply(st, copy, len, &res);
    free(copy);
    if (rc != FLURM_EPROTO)
        fail_msg("%s (%zu bytes): apply returned %d, want FLURM_EPROTO", what, len, rc);
    flurm_buf_t now;
    snap(st, &now);
    if (!snap_equal(&now, want))
        fail_msg("%s (%zu bytes): state changed", what, len);
    flurm_buf_release(&now);
}

static void test_state_apply_malformed_command_is_eproto(void **s)
{
    (void)s;
    flurm_state_t *st = busy_state();
    flurm_buf_t want;
    snap(st, &want);

    static const uint8_t garbage[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                       0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05 };
    assert_eproto(st, garbage, sizeof garbage, &want, "garbage");
    assert_eproto(st, "", 0, &want, "empty");

    flurm_job_desc_msg_t d;
    batch_desc(&d, UID_ALICE);
    flurm_buf_t cmd;
    flurm_buf_init(&cmd);
    cmd_msg(&cmd, FLURM_REQUEST_SUBMIT_BATCH_JOB, T0 + 100, UID_ALICE, 50, &d);

    cmd.data[0] = FLURM_CMD_VERSION + 1;
    assert_eproto(st, cmd.data, cmd.size, &want, "version 2");
    cmd.data[0] = 0;
    assert_eproto(st, cmd.data, cmd.size, &want, "version 0");
    cmd.data[0] = FLURM_CMD_VERSION;

    /* Kinds that are neither a handled SLURM request nor an internal command. */
    static const uint16_t kinds[] = { 0, FLURM_REQUEST_UPDATE_JOB_STEP, 0xF000, 0xF0FF, 0xFFFF };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        cmd.data[1] = (uint8_t)(kinds[i] >> 8);
        cmd.data[2] = (uint8_t)kinds[i];
        assert_eproto(st, cmd.data, cmd.size, &want, "unknown kind");
    }
    cmd.data[1] = (uint8_t)(FLURM_REQUEST_SUBMIT_BATCH_JOB >> 8);
    cmd.data[2] = (uint8_t)FLURM_REQUEST_SUBMIT_BATCH_JOB;

    for (size_t len = 0; len < cmd.size; len++)
        assert_eproto(st, cmd.data, len, &want, "truncated submit");

    /* The intact command still applies. */
    flurm_apply_result_t res;
    assert_int_equal(flurm_state_apply(st, cmd.data, cmd.size, &res), FLURM_OK);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.job_id, 50);

    flurm_buf_release(&cmd);
    flurm_buf_release(&want);
    flurm_state_free(st);
}

/* A well-framed command whose body does not decode is answered, not refused: it is in the log
 * and replays to the same answer. */
static void test_state_apply_undecodable_body_is_error_rc(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_buf_t want, cmd;
    snap(st, &want);
    flurm_buf_init(&cmd);
    static const uint8_t junk[] = { 1, 2, 3 };
    assert_int_equal(flurm_cmd_build(&cmd, FLURM_REQUEST_SUBMIT_BATCH_JOB, T0, 0, 0, 1, "h", junk,
                                     sizeof junk), FLURM_OK);
    flurm_apply_result_t res;
    assert_int_equal(flurm_state_apply(st, cmd.data, cmd.size, &res), FLURM_OK);
    assert_int_not_equal(res.rc, 0);
    assert_unchanged(st, &want);
    flurm_buf_release(&cmd);
    flurm_state_free(st);
}

/* ------------------------------------------------------------------ expressions */

static void test_state_parse_job_id_str_edge_cases(void **s)
{
    (void)s;
    uint32_t id = 0, n = 0;
    uint64_t *tasks = NULL;
    bool all = true;

    assert_int_equal(flurm_parse_job_id_str("123", &id, &tasks, &n, &all), FLURM_OK);
    assert_int_equal(id, 123);
    assert_null(tasks);
    assert_int_equal(n, 0);
    assert_false(all);

    assert_int_equal(flurm_parse_job_id_str("123_4", &id, &tasks, &n, &all), FLURM_OK);
    assert_int_equal(id, 123);
    assert_non_null(tasks);
    assert_int_equal(n, 5);
    assert_int_equal(tasks[0], 1u << 4);
    assert_false(all);
    free(tasks);

    assert_int_equal(flurm_parse_job_id_str("123_[1-3,7]", &id, &tasks, &n, &all), FLURM_OK);
    assert_int_equal(id, 123);
    assert_int_equal(n, 8);
    assert_int_equal(tasks[0], 0x8Eu);   /* 1,2,3,7 */
    free(tasks);

    assert_int_equal(flurm_parse_job_id_str("123_*", &id, &tasks, &n, &all), FLURM_OK);
    assert_int_equal(id, 123);
    assert_true(all);
    assert_null(tasks);

    /* Malformed: no id, no number, and (slurmctld job_str_signal: an empty task set is an
     * invalid job id) an empty task expression. */
    static const char *const bad[] = { "0", "abc", "123_", "123_[]", "123x", "123_[1-3", "123_a",
                                       "", "_1", "-5", "4294967295", "123_5-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tasks = (uint64_t *)0x1;
        if (flurm_parse_job_id_str(bad[i], &id, &tasks, &n, &all) != FLURM_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_null(tasks);
        assert_int_equal(n, 0);
    }
    assert_int_equal(flurm_parse_job_id_str(NULL, &id, &tasks, &n, &all), FLURM_EINVAL);
}

static void test_state_parse_array_spec_edge_cases(void **s)
{
    (void)s;
    uint64_t *bits = NULL;
    uint32_t n = 0, max = 99;

    assert_int_equal(flurm_parse_array_spec("1-3:2", &bits, &n, &max), FLURM_OK);
    assert_int_equal(n, 4);
    assert_int_equal(bits[0], 0xAu);   /* 1,3 */
    assert_int_equal(max, 0);
    free(bits);

    assert_int_equal(flurm_parse_array_spec("1-5%2,7", &bits, &n, &max), FLURM_OK);
    assert_int_equal(bits[0], 0xBEu);   /* 1-5,7 */
    assert_int_equal(max, 2);
    free(bits);

    assert_int_equal(flurm_parse_array_spec("0-15:4", &bits, &n, &max), FLURM_OK);
    assert_int_equal(bits[0], 0x1111u);
    free(bits);

    assert_int_equal(flurm_parse_array_spec("70", &bits, &n, &max), FLURM_OK);
    assert_int_equal(n, 71);
    assert_int_equal(bits[0], 0);
    assert_int_equal(bits[1], 1u << 6);
    free(bits);

    static const char *const bad[] = { "5-1", "%", "", "1-", "1-5%", "1-3:0", "a", "1,,", "1-3x",
                                       "4000000", "1-5:", ",1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bits = (uint64_t *)0x1;
        if (flurm_parse_array_spec(bad[i], &bits, &n, &max) != FLURM_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_null(bits);
        assert_int_equal(n, 0);
    }
    assert_int_equal(flurm_parse_array_spec(NULL, &bits, &n, &max), FLURM_EINVAL);
}

static void test_state_nice_moves_basic_priority(void **s)
{
    (void)s;
    flurm_state_t *st = new_state();
    flurm_job_desc_msg_t d, u;
    batch_desc(&d, UID_ALICE);
    d.nice = FLURM_NICE_OFFSET + 100;
    uint32_t a = submit(st, T0 + 1, UID_ALICE, &d)->job_id;
    uint32_t b = submit_plain(st, T0 + 2, UID_ALICE)->job_id;
    uint32_t pa = flurm_state_find_job(st, a)->priority, pb = flurm_state_find_job(st, b)->priority;
    assert_int_equal(pb, pa + 100 - 1);   /* next one down, but a's nice took 100 off */
    /* scontrol update Nice=: the priority moves by the difference (job_mgr.c _update_job) */
    char id[16];
    update_desc(&u, id, sizeof id, b);
    u.nice = FLURM_NICE_OFFSET + 500;
    assert_int_equal(update_job(st, T0 + 3, UID_ALICE, &u), 0);
    assert_int_equal(flurm_state_find_job(st, b)->priority, pb - 500);
    assert_int_equal(flurm_state_find_job(st, b)->desc->nice, FLURM_NICE_OFFSET + 500);
    /* a negative nice needs an operator */
    update_desc(&u, id, sizeof id, b);
    u.nice = FLURM_NICE_OFFSET - 1;
    assert_int_equal(update_job(st, T0 + 4, UID_ALICE, &u), RC_ACCESS_DENIED);
    update_desc(&u, id, sizeof id, b);
    u.nice = FLURM_NICE_OFFSET - 1;
    assert_int_equal(update_job(st, T0 + 5, 0, &u), 0);
    assert_int_equal(flurm_state_find_job(st, b)->priority, pb + 1);
    flurm_state_free(st);
}

/* ---------------------------------------------------------------- at-most-once requests */

/* The submit command of D as UID at NOW carrying request id ID (NULL: none). */
static void submit_cmd_id(flurm_buf_t *cmd, flurm_state_t *st, time_t now, uint32_t uid, const uint8_t *id)
{
    flurm_job_desc_msg_t d;
    batch_desc(&d, uid);
    flurm_buf_t body;
    flurm_buf_init(&body);
    assert_int_equal(flurm_msg_pack(FLURM_REQUEST_SUBMIT_BATCH_JOB, &d, &body), FLURM_OK);
    flurm_buf_init(cmd);
    assert_int_equal(flurm_cmd_build_request(cmd, FLURM_REQUEST_SUBMIT_BATCH_JOB, now, uid, uid,
                                             flurm_state_next_job_id(st), "login1", id, body.data, body.size),
                     FLURM_OK);
    flurm_buf_release(&body);
}

static size_t live_jobs(const flurm_state_t *st)
{
    size_t n = 0;
    for (size_t i = 0; i < flurm_state_job_slots(st); i++)
        n += flurm_state_job_at(st, i) != NULL;
    return n;
}

/* A request that reaches the log twice (routed again after its leader died) is applied once:
 * the second copy hears the first one's result, whatever job id its proposer reserved. */
static void test_state_request_applied_once_by_id(void **state)
{
    (void)state;
    flurm_state_t *st = new_state();
    uint8_t id[FLURM_REQUEST_ID_LEN], other[FLURM_REQUEST_ID_LEN];
    memset(id, 0xA5, sizeof id);
    memset(other, 0x5A, sizeof other);
    flurm_buf_t a, again, b, none1, none2;
    submit_cmd_id(&a, st, T0, UID_ALICE, id);
    flurm_apply_result_t res;
    assert_int_equal(flurm_state_apply(st, a.data, a.size, &res), FLURM_OK);
    assert_int_equal(res.rc, 0);
    assert_false(res.repeated);
    uint32_t first = res.job_id;

    submit_cmd_id(&again, st, T0 + 5, UID_ALICE, id);   /* the same request, a new reservation */
    flurm_buf_t before;
    snap(st, &before);
    assert_int_equal(flurm_state_apply(st, again.data, again.size, &res), FLURM_OK);
    assert_true(res.repeated);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.job_id, first);
    assert_int_equal(res.neffects, 0);
    assert_int_equal(live_jobs(st), 1);
    flurm_buf_t after;
    snap(st, &after);
    assert_true(snap_equal(&before, &after));   /* nothing changed */
    flurm_buf_release(&before);
    flurm_buf_release(&after);

    /* another id, or none at all (internal and old commands), is a request of its own */
    submit_cmd_id(&b, st, T0 + 6, UID_ALICE, other);
    assert_int_equal(flurm_state_apply(st, b.data, b.size, &res), FLURM_OK);
    assert_false(res.repeated);
    assert_int_not_equal(res.job_id, first);
    submit_cmd_id(&none1, st, T0 + 7, UID_ALICE, NULL);
    assert_int_equal(flurm_state_apply(st, none1.data, none1.size, &res), FLURM_OK);
    submit_cmd_id(&none2, st, T0 + 7, UID_ALICE, NULL);
    assert_int_equal(flurm_state_apply(st, none2.data, none2.size, &res), FLURM_OK);
    assert_false(res.repeated);
    assert_int_equal(live_jobs(st), 4);

    /* the ids travel in the snapshot: a replica restored from it refuses the copy too */
    flurm_buf_t image;
    snap(st, &image);
    flurm_state_t *r = new_state();
    assert_int_equal(flurm_state_restore(r, image.data, image.size), FLURM_OK);
    assert_int_equal(flurm_state_apply(r, again.data, again.size, &res), FLURM_OK);
    assert_true(res.repeated);
    assert_int_equal(res.job_id, first);

    /* forgotten once a command stamped FLURM_REQUESTS_WINDOW_S later applies */
    flurm_buf_t late;
    submit_cmd_id(&late, r, T0 + FLURM_REQUESTS_WINDOW_S + 1, UID_BOB, NULL);
    assert_int_equal(flurm_state_apply(r, late.data, late.size, &res), FLURM_OK);
    assert_int_equal(flurm_state_apply(r, again.data, again.size, &res), FLURM_OK);
    assert_false(res.repeated);
    assert_int_equal(live_jobs(r), 6);

    flurm_buf_t *bufs[] = { &a, &again, &b, &none1, &none2, &image, &late };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        flurm_buf_release(bufs[i]);
    flurm_state_free(r);
    flurm_state_free(st);
}

/* A version 1 command (no request id) still applies. */
static void test_state_command_version_1_still_applies(void **state)
{
    (void)state;
    flurm_state_t *st = new_state();
    flurm_buf_t cmd;
    submit_cmd_id(&cmd, st, T0, UID_ALICE, NULL);
    /* v2 = v1 + 16 id bytes after the host ("login1": u32 length 7 + bytes) */
    size_t at = 1 + 2 + 8 + 4 + 4 + 4 + 4 + 7;
    flurm_buf_t v1;
    flurm_buf_init(&v1);
    flurm_pack_raw(&v1, cmd.data, at);
    flurm_pack_raw(&v1, cmd.data + at + FLURM_REQUEST_ID_LEN, cmd.size - at - FLURM_REQUEST_ID_LEN);
    v1.data[0] = 1;
    assert_int_equal(flurm_cmd_kind(v1.data, v1.size), FLURM_REQUEST_SUBMIT_BATCH_JOB);
    flurm_apply_result_t res;
    assert_int_equal(flurm_state_apply(st, v1.data, v1.size, &res), FLURM_OK);
    assert_int_equal(res.rc, 0);
    assert_non_null(flurm_state_find_job(st, res.job_id));
    v1.data[0] = 3;   /* a version from the future is refused */
    assert_int_equal(flurm_state_apply(st, v1.data, v1.size, &res), FLURM_EPROTO);
    flurm_buf_release(&v1);
    flurm_buf_release(&cmd);
    flurm_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_nice_moves_basic_priority),
        cmocka_unit_test(test_state_submit_assigns_reserved_id_pending_and_top_priority),
        cmocka_unit_test(test_state_submit_hold_is_user_hold),
        cmocka_unit_test(test_state_submit_root_may_submit_for_another_user),
        cmocka_unit_test(test_state_submit_time_limit_defaults_to_partition_max),
        cmocka_unit_test(test_state_array_submit_records_pending_tasks),
        cmocka_unit_test(test_state_array_kill_task_then_all_cancels),
        cmocka_unit_test(test_state_kill_unknown_job_is_invalid_job_id),
        cmocka_unit_test(test_state_kill_other_users_job_is_denied),
        cmocka_unit_test(test_state_kill_finished_job_is_already_done),
        cmocka_unit_test(test_state_kill_pending_with_other_signal_is_transition_state),
        cmocka_unit_test(test_state_kill_sigkill_cancels_at_command_time),
        cmocka_unit_test(test_state_update_time_limit_owner_may_only_lower),
        cmocka_unit_test(test_state_update_hold_by_root_is_admin_hold),
        cmocka_unit_test(test_state_update_owner_hold_and_release),
        cmocka_unit_test(test_state_update_user_explicit_priority_is_refused),
        cmocka_unit_test(test_state_update_rejected_changes_nothing),
        cmocka_unit_test(test_state_update_finished_job_is_job_finished),
        cmocka_unit_test(test_state_update_node_drain_sets_reason),
        cmocka_unit_test(test_state_update_node_resume_clears_drain),
        cmocka_unit_test(test_state_update_node_resume_unknown_node_clears_drain_but_fails),
        cmocka_unit_test(test_state_update_node_unknown_name_changes_nothing),
        cmocka_unit_test(test_state_update_partition_down_gives_part_down_reason),
        cmocka_unit_test(test_state_update_partition_unknown_is_invalid_partition),
        cmocka_unit_test(test_state_update_partition_max_time_applies_to_pending_jobs),
        cmocka_unit_test(test_state_schedule_without_nodes_waits_for_resources),
        cmocka_unit_test(test_state_schedule_dependency_on_pending_job_waits),
        cmocka_unit_test(test_state_schedule_afterok_on_cancelled_job_is_never_satisfied),
        cmocka_unit_test(test_state_nodes_not_responding_marks_down),
        cmocka_unit_test(test_state_purge_drops_finished_jobs_only),
        cmocka_unit_test(test_state_identical_environments_are_shared_and_survive_purges),
        cmocka_unit_test(test_state_purge_compaction_keeps_lookups_and_order),
        cmocka_unit_test(test_state_snapshot_restore_roundtrip_is_identical),
        cmocka_unit_test(test_state_restore_and_reconfigure_keep_partition_time_limits),
        cmocka_unit_test(test_state_restore_truncated_snapshot_fails_untouched),
        cmocka_unit_test(test_state_apply_is_deterministic_and_recoverable),
        cmocka_unit_test(test_state_apply_malformed_command_is_eproto),
        cmocka_unit_test(test_state_request_applied_once_by_id),
        cmocka_unit_test(test_state_command_version_1_still_applies),
        cmocka_unit_test(test_state_apply_undecodable_body_is_error_rc),
        cmocka_unit_test(test_state_parse_job_id_str_edge_cases),
        cmocka_unit_test(test_state_parse_array_spec_edge_cases),
    };
    return cmocka_run_group_tests(tests, conf_setup, conf_teardown);
}
