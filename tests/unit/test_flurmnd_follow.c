/* tests/unit/test_flurmnd_follow.c — which controller flurmnd dials (bin/flurmnd/follow.c):
 * following the leader a controller names, waiting out elections, leaving dead controllers and
 * not bouncing back to them, a single controller never moving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nd.h"

static flurm_conf_controller_t hosts3[] = {
    { .name = "c1", .addr = "127.0.0.1" },
    { .name = "c2", .addr = "127.0.0.2" },
    { .name = "c3", .addr = "127.0.0.3" },
};

static int setup3(void **state)
{
    nd_follow_t *f = malloc(sizeof *f);
    if (!f || nd_follow_init(f, hosts3, 3) != FLURM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    nd_follow_free(*state);
    free(*state);
    return 0;
}

static void test_flurmnd_follow_starts_at_the_first_controller(void **state)
{
    nd_follow_t *f = *state;
    assert_int_equal(f->cur, 0);
}

static void test_flurmnd_follow_goes_to_the_named_leader_at_once(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c3", 100.0);
    assert_true(st.moved);
    assert_true(st.redirected);
    assert_true(st.delay_s == 0);
    assert_int_equal(f->cur, 2);
}

static void test_flurmnd_follow_unknown_or_empty_leader_waits_at_the_same_controller(void **state)
{
    nd_follow_t *f = *state;
    const char *leaders[] = { "", NULL, "nosuch" };
    for (size_t i = 0; i < 3; i++) {
        nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, leaders[i], 100.0 + i);
        assert_false(st.moved);
        assert_true(st.delay_s > 0.05 && st.delay_s <= 0.25);
        assert_int_equal(f->cur, 0);
    }
}

static void test_flurmnd_follow_leader_not_ready_is_asked_again_shortly(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c1", 100.0);   /* itself */
    assert_false(st.moved);
    assert_true(st.delay_s == ND_FOLLOW_RETRY_S);
}

static void test_flurmnd_follow_leaves_a_controller_that_never_learns_a_leader(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = { 0 };
    unsigned n = 0;
    do {
        st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "", 100.0 + 0.15 * n);
        n++;
    } while (!st.moved && n < 100);
    assert_int_equal(n, ND_FOLLOW_STAY_MAX);
    assert_int_equal(f->cur, 1);
    assert_false(st.redirected);
    /* about a second at most before trying elsewhere */
    assert_true(ND_FOLLOW_STAY_MAX * ND_FOLLOW_RETRY_S <= 1.0);
}

static void test_flurmnd_follow_lost_goes_to_the_next_controller_at_once(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.0);
    assert_true(st.moved);
    assert_false(st.redirected);
    assert_true(st.delay_s == 0);
    assert_int_equal(f->cur, 1);
}

static void test_flurmnd_follow_does_not_return_to_a_lost_leader_a_follower_still_names(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.0);   /* c1 died: now at c2 */
    /* c2 still names c1 until its election timeout */
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c1", 100.1);
    assert_false(st.moved);
    assert_int_equal(f->cur, 1);
    assert_true(st.delay_s == ND_FOLLOW_RETRY_S);
    /* the election is over: c3 leads */
    st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c3", 100.5);
    assert_true(st.moved && st.redirected);
    assert_int_equal(f->cur, 2);
    /* much later c1 may lead again and is followed */
    st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c1", 100.0 + ND_FOLLOW_LOST_HOLD_S + 1);
    assert_true(st.moved && st.redirected);
    assert_int_equal(f->cur, 0);
}

static void test_flurmnd_follow_rotation_skips_controllers_lost_recently(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.0);   /* c1 lost: c2 */
    nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.1);   /* c2 lost: c3 */
    assert_int_equal(f->cur, 2);
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "", 100.2);
    for (unsigned i = 1; i < ND_FOLLOW_STAY_MAX; i++)
        st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "", 100.2 + i * 0.01);
    /* c3 knows no leader, but c1 and c2 are held: c1 (the next) anyway, nothing else is left */
    assert_true(st.moved);
    assert_int_equal(f->cur, 0);
}

static void test_flurmnd_follow_backs_off_once_every_controller_failed(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st;
    st = nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.0);
    assert_true(st.delay_s == 0);
    st = nd_follow_event(f, ND_FOLLOW_LOST, NULL, 100.5);
    assert_true(st.delay_s == 0);
    st = nd_follow_event(f, ND_FOLLOW_LOST, NULL, 101.0);
    assert_true(st.delay_s == ND_FOLLOW_BACKOFF_S);
    assert_int_equal(f->cur, 0);
    nd_follow_registered(f);
    st = nd_follow_event(f, ND_FOLLOW_LOST, NULL, 110.0);
    assert_true(st.delay_s == 0);
}

static void test_flurmnd_follow_refused_moves_on_after_a_delay(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = nd_follow_event(f, ND_FOLLOW_REFUSED, NULL, 100.0);
    assert_true(st.moved);
    assert_int_equal(f->cur, 1);
    assert_true(st.delay_s == ND_FOLLOW_REFUSED_S);
    /* a refusal is no death: the controller may still be followed when named */
    st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, "c1", 100.1);
    assert_true(st.moved && st.redirected);
}

static void test_flurmnd_follow_redirect_ping_pong_is_slowed_down(void **state)
{
    nd_follow_t *f = *state;
    nd_follow_step_t st = { 0 };
    for (unsigned i = 0; i < 2 * 3; i++) {   /* c1 and c2 name each other (stale views) */
        st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, f->cur == 0 ? "c2" : "c1", 100.0 + i * 0.01);
        assert_true(st.moved);
        assert_true(st.delay_s == 0);
    }
    st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, f->cur == 0 ? "c2" : "c1", 101.0);
    assert_true(st.moved);
    assert_true(st.delay_s == ND_FOLLOW_RETRY_S);
    nd_follow_registered(f);
    st = nd_follow_event(f, ND_FOLLOW_NOT_LEADER, f->cur == 0 ? "c2" : "c1", 102.0);
    assert_true(st.delay_s == 0);
}

static void test_flurmnd_follow_single_controller_never_moves(void **state)
{
    (void)state;
    static flurm_conf_controller_t one[] = { { .name = "c1", .addr = "127.0.0.1" } };
    nd_follow_t f;
    assert_int_equal(nd_follow_init(&f, one, 1), FLURM_OK);
    for (unsigned i = 0; i < 20; i++) {
        nd_follow_step_t st = nd_follow_event(&f, (nd_follow_event_t)(i % 3), i % 2 ? "c2" : "", 100.0 + i);
        assert_false(st.moved);
        assert_int_equal(f.cur, 0);
        assert_true(st.delay_s > 0);
    }
    nd_follow_free(&f);
    /* FLURMND_CONTROLLER: no host list, names mean nothing */
    assert_int_equal(nd_follow_init(&f, NULL, 1), FLURM_OK);
    nd_follow_step_t st = nd_follow_event(&f, ND_FOLLOW_NOT_LEADER, "c1", 100.0);
    assert_false(st.moved);
    assert_true(st.delay_s == ND_FOLLOW_RETRY_S);
    nd_follow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_starts_at_the_first_controller, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_goes_to_the_named_leader_at_once, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_unknown_or_empty_leader_waits_at_the_same_controller,
                                        setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_leader_not_ready_is_asked_again_shortly, setup3,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_leaves_a_controller_that_never_learns_a_leader,
                                        setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_lost_goes_to_the_next_controller_at_once, setup3,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_does_not_return_to_a_lost_leader_a_follower_still_names,
                                        setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_rotation_skips_controllers_lost_recently, setup3,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_backs_off_once_every_controller_failed, setup3,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_refused_moves_on_after_a_delay, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_flurmnd_follow_redirect_ping_pong_is_slowed_down, setup3, teardown),
        cmocka_unit_test(test_flurmnd_follow_single_controller_never_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
