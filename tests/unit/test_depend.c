/* tests/unit/test_depend.c — the --dependency parser and renderer (libflurm/state/depend.c).
 * Expected texts are what the real slurmctld 22.05.8 prints (scontrol show job Dependency=,
 * squeue %E) for the same input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "state/depend.h"

/* TEXT parsed and rendered back. */
static char *roundtrip(const char *text)
{
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse(text, &l), FLURM_OK);
    char *s = (char *)1;
    assert_int_equal(flurm_dep_render(&l, &s), FLURM_OK);
    flurm_dep_list_free(&l);
    return s;
}

static void assert_renders(const char *text, const char *want)
{
    char *s = roundtrip(text);
    if (!want)
        assert_null(s);
    else
        assert_string_equal(s, want);
    free(s);
}

static void test_depend_parses_every_kind(void **s)
{
    (void)s;
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse("after:1,afterany:2,afterok:3,afternotok:4,aftercorr:5,"
                                     "afterburstbuffer:6,singleton", &l), FLURM_OK);
    assert_int_equal(l.n, 7);
    assert_false(l.any);
    const flurm_dep_kind_t want[] = { FLURM_DEP_AFTER, FLURM_DEP_AFTER_ANY, FLURM_DEP_AFTER_OK,
                                      FLURM_DEP_AFTER_NOT_OK, FLURM_DEP_AFTER_CORR,
                                      FLURM_DEP_BURST_BUFFER, FLURM_DEP_SINGLETON };
    for (uint32_t i = 0; i < 7; i++) {
        assert_int_equal(l.items[i].kind, want[i]);
        assert_int_equal(l.items[i].job_id, i < 6 ? i + 1 : 0);
        assert_int_equal(l.items[i].state, FLURM_DEP_UNFULFILLED);
        assert_int_equal(l.items[i].minutes, 0);
    }
    assert_int_equal(l.items[0].task_id, FLURM_DEP_TASK_NONE);
    flurm_dep_list_free(&l);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
}

static void test_depend_renders_like_slurmctld(void **s)
{
    (void)s;
    assert_renders("afterok:5", "afterok:5(unfulfilled)");
    assert_renders("afternotok:2:3", "afternotok:2(unfulfilled),afternotok:3(unfulfilled)");
    assert_renders("afterok:2?afterok:3", "afterok:2(unfulfilled)?afterok:3(unfulfilled)");
    assert_renders("after:2+1,afterany:3", "after:2+1(unfulfilled),afterany:3(unfulfilled)");
    assert_renders("singleton", "singleton(unfulfilled)");
    assert_renders("afterok:11_*", "afterok:11_*(unfulfilled)");
    assert_renders("afterok:11_1", "afterok:11_1(unfulfilled)");
    assert_renders("AFTEROK:24", "afterok:24(unfulfilled)");
    assert_renders("Singleton", "singleton(unfulfilled)");
    assert_renders("afterok:47?singleton", "afterok:47(unfulfilled)?singleton(unfulfilled)");
    /* "+minutes" carries to the later ids of the same kind, not to the next kind */
    assert_renders("after:46_1+2:47,after:48", "after:46_1+2(unfulfilled),after:47+2(unfulfilled),"
                                               "after:48(unfulfilled)");
}

static void test_depend_one_question_mark_makes_every_item_or(void **s)
{
    (void)s;
    /* slurmctld sets the OR flag on all items once it saw a '?' */
    assert_renders("afterok:1:1,afterany:1?after:1",
                   "afterok:1(unfulfilled)?afterany:1(unfulfilled)?after:1(unfulfilled)");
}

static void test_depend_old_form_is_afterany(void **s)
{
    (void)s;
    assert_renders("10", "afterany:10(unfulfilled)");
    assert_renders("10,11_2", "afterany:10(unfulfilled),afterany:11_2(unfulfilled)");
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse("10?11", &l), FLURM_EINVAL);   /* old form: ',' only */
}

static void test_depend_keeps_failed_state_and_drops_fulfilled(void **s)
{
    (void)s;
    /* the stored form reads back; "(fulfilled)" is not taken from text */
    assert_renders("afterok:24(failed)", "afterok:24(failed)");
    assert_renders("afterok:24(fulfilled)", "afterok:24(unfulfilled)");
    assert_renders("singleton(failed)", "singleton(failed)");
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse("afterok:1,afterok:2", &l), FLURM_OK);
    l.items[0].state = FLURM_DEP_FULFILLED;
    char *out;
    assert_int_equal(flurm_dep_render(&l, &out), FLURM_OK);
    assert_string_equal(out, "afterok:2(unfulfilled)");
    free(out);
    l.items[1].state = FLURM_DEP_FULFILLED;
    assert_int_equal(flurm_dep_render(&l, &out), FLURM_OK);
    assert_null(out);   /* all fulfilled: slurmctld shows (null) */
    flurm_dep_list_free(&l);
}

static void test_depend_array_forms(void **s)
{
    (void)s;
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse("afterok:7_*:8_3+2", &l), FLURM_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].task_id, FLURM_DEP_TASK_ALL);
    assert_int_equal(l.items[1].job_id, 8);
    assert_int_equal(l.items[1].task_id, 3);
    assert_int_equal(l.items[1].minutes, 2);
    flurm_dep_list_free(&l);
    /* "_[ranges]" names each task (slurmctld's _xlate_array_dep) */
    assert_renders("after:9_[1-3,7]", "after:9_1(unfulfilled),after:9_2(unfulfilled),"
                                      "after:9_3(unfulfilled),after:9_7(unfulfilled)");
    assert_renders("afterany:9_[0-4:2]",
                   "afterany:9_0(unfulfilled),afterany:9_2(unfulfilled),afterany:9_4(unfulfilled)");
}

static void test_depend_empty_and_zero_clear(void **s)
{
    (void)s;
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse(NULL, &l), FLURM_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(flurm_dep_parse("", &l), FLURM_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(flurm_dep_parse("0", &l), FLURM_OK);
    assert_int_equal(l.n, 0);
    assert_renders("", NULL);
}

static void test_depend_rejects_malformed(void **s)
{
    (void)s;
    /* each of these is "Job dependency problem" from the real slurmctld */
    static const char *const bad[] = {
        "foo:24", "afterok", "afterok:", "afterok:abc", "afterok:24+0", "afterok:24+x",
        "afterok:24(bogus", "singletonx", "afterok:24,,afterok:24", "afterok:0", "afterok:24,",
        "afterok:24:", "after:1_", "after:1_[]", "after:1_[3-1]", "after:1_[1-2", "afterok:1x",
        "afterok:99999999999", "?afterok:1", "afterok:1+5(failed)x", ":1", "singleton:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        flurm_dep_list_t l = { .n = 7 };
        int rc = flurm_dep_parse(bad[i], &l);
        if (rc != FLURM_EINVAL)
            fail_msg("\"%s\" parsed (rc %d)", bad[i], rc);
        assert_null(l.items);
        assert_int_equal(l.n, 0);
    }
}

static void test_depend_expand_is_not_supported(void **s)
{
    (void)s;
    flurm_dep_list_t l;
    assert_int_equal(flurm_dep_parse("expand:5", &l), FLURM_ENOTSUP);
    assert_int_equal(l.n, 0);
}

static void test_depend_duplicates_are_kept_once(void **s)
{
    (void)s;
    assert_renders("afterok:3:3,afterok:3", "afterok:3(unfulfilled)");
    assert_renders("singleton,singleton", "singleton(unfulfilled)");
    /* same job, different kind or task: distinct */
    assert_renders("afterok:3,afterany:3,afterok:3_1",
                   "afterok:3(unfulfilled),afterany:3(unfulfilled),afterok:3_1(unfulfilled)");
}

static void test_depend_kind_names(void **s)
{
    (void)s;
    assert_string_equal(flurm_dep_kind_name(FLURM_DEP_AFTER_CORR), "aftercorr");
    assert_string_equal(flurm_dep_kind_name((flurm_dep_kind_t)6), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depend_parses_every_kind),
        cmocka_unit_test(test_depend_renders_like_slurmctld),
        cmocka_unit_test(test_depend_one_question_mark_makes_every_item_or),
        cmocka_unit_test(test_depend_old_form_is_afterany),
        cmocka_unit_test(test_depend_keeps_failed_state_and_drops_fulfilled),
        cmocka_unit_test(test_depend_array_forms),
        cmocka_unit_test(test_depend_empty_and_zero_clear),
        cmocka_unit_test(test_depend_rejects_malformed),
        cmocka_unit_test(test_depend_expand_is_not_supported),
        cmocka_unit_test(test_depend_duplicates_are_kept_once),
        cmocka_unit_test(test_depend_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
