/* tests/unit/test_hostlist.c — SLURM hostlist expressions: parse, index, compress, sort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/hostlist.h>

/* Asserts that EXPR expands to exactly the comma-separated WANT. */
static void expect_hosts(const char *expr, const char *want)
{
    flurm_err_t err = FLURM_EIO;
    flurm_hostlist_t *hl = flurm_hostlist_parse(expr, &err);
    assert_non_null(hl);
    assert_int_equal(err, FLURM_OK);
    char got[4096] = "";
    size_t len = 0;
    for (size_t i = 0; i < flurm_hostlist_count(hl); i++) {
        char h[256];
        assert_int_equal(flurm_hostlist_nth(hl, i, h, sizeof h), FLURM_OK);
        assert_string_equal(flurm_hostlist_get(hl, i), h);
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "", h);
    }
    assert_string_equal(got, want);
    flurm_hostlist_free(hl);
}

static void expect_compress(const char *expr, const char *want)
{
    flurm_hostlist_t *hl = flurm_hostlist_parse(expr, NULL);
    assert_non_null(hl);
    char *s = flurm_hostlist_compress(hl);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
    flurm_hostlist_free(hl);
}

static void expect_invalid(const char *expr)
{
    flurm_err_t err = FLURM_OK;
    assert_null(flurm_hostlist_parse(expr, &err));
    assert_int_equal(err, FLURM_EINVAL);
}

static void test_hostlist_parse_plain_names_and_separators(void **state)
{
    (void)state;
    expect_hosts("login1", "login1");
    expect_hosts("a,b c\tlogin", "a,b,c,login");
    expect_hosts(",,n1,, n2 ,", "n1,n2");
    expect_hosts("", "");
    expect_hosts(NULL, "");
}

static void test_hostlist_parse_ranges_keep_zero_padding(void **state)
{
    (void)state;
    expect_hosts("n[1-3]", "n1,n2,n3");
    expect_hosts("n[008-011]", "n008,n009,n010,n011");
    expect_hosts("n[001-003,200]", "n001,n002,n003,n200");
    expect_hosts("n[9-11]", "n9,n10,n11");
    expect_hosts("n[01-3]", "n01,n02,n03");
    expect_hosts("n[5]", "n5");
    expect_hosts("x,n[1-2],y", "x,n1,n2,y");
}

static void test_hostlist_parse_cartesian_product_left_group_slowest(void **state)
{
    (void)state;
    expect_hosts("rack[1-2]-n[01-03]", "rack1-n01,rack1-n02,rack1-n03,rack2-n01,rack2-n02,rack2-n03");
    expect_hosts("r[1,3]c[0-1]n[7-8]",
                 "r1c0n7,r1c0n8,r1c1n7,r1c1n8,r3c0n7,r3c0n8,r3c1n7,r3c1n8");
}

static void test_hostlist_parse_rejects_malformed(void **state)
{
    (void)state;
    expect_invalid("n[1-3");
    expect_invalid("n1-3]");
    expect_invalid("n[[1-3]]");
    expect_invalid("n[5-3]");
    expect_invalid("n[a-b]");
    expect_invalid("n[]");
    expect_invalid("n[1,,2]");
    expect_invalid("n[1-]");
    expect_invalid("n[-3]");
    expect_invalid("n[1-2]x");
    expect_invalid("n[0-1048576]");           /* 1M + 1 hosts */
    expect_invalid("a[0-1023]b[0-1024]");     /* product above 1M */
}

static void test_hostlist_million_host_range_is_one_node(void **state)
{
    (void)state;
    flurm_hostlist_t *hl = flurm_hostlist_parse("n[0-1048575]", NULL);
    assert_non_null(hl);
    assert_int_equal(flurm_hostlist_count(hl), 1048576);
    assert_string_equal(flurm_hostlist_get(hl, 1048575), "n1048575");
    char *s = flurm_hostlist_compress(hl);
    assert_string_equal(s, "n[0-1048575]");
    free(s);
    flurm_hostlist_free(hl);
}

static void test_hostlist_nth_reports_range_and_space(void **state)
{
    (void)state;
    flurm_hostlist_t *hl = flurm_hostlist_parse("node[1-10],x", NULL);
    char buf[8];
    assert_int_equal(flurm_hostlist_nth(hl, 11, buf, sizeof buf), FLURM_ERANGE);
    assert_null(flurm_hostlist_get(hl, 11));
    char small[6] = "keep";
    assert_int_equal(flurm_hostlist_nth(hl, 9, small, sizeof small), FLURM_ENOSPC);   /* node10 */
    assert_string_equal(small, "keep");
    assert_int_equal(flurm_hostlist_nth(hl, 8, small, sizeof small), FLURM_OK);
    assert_string_equal(small, "node9");
    assert_int_equal(flurm_hostlist_nth(hl, 10, buf, sizeof buf), FLURM_OK);
    assert_string_equal(buf, "x");
    flurm_hostlist_free(hl);
}

static void test_hostlist_compress_merges_adjacent_ranges(void **state)
{
    (void)state;
    expect_compress("n1,n2,n3,n5", "n[1-3,5]");
    expect_compress("n01,n02", "n[01-02]");
    expect_compress("a1,a2,b1", "a[1-2],b1");
    expect_compress("n1", "n1");
    expect_compress("n[1]", "n1");
    expect_compress("login,n1,n3", "login,n[1,3]");
    expect_compress("n08,n09,n10", "n[08-10]");
    expect_compress("n9,n10,n11", "n[9-11]");
    expect_compress("n009,n10", "n[009,10]");    /* widths differ: one bracket, two ranges (SLURM) */
    expect_compress("", "");
    expect_compress("rack[1-2]-n[01-03]", "rack1-n[01-03],rack2-n[01-03]");
}

static void test_hostlist_compress_keeps_list_order(void **state)
{
    (void)state;
    expect_compress("n3,n1,n2", "n[3,1-2]");
    expect_compress("n1,m1,n2", "n1,m1,n2");
    expect_compress("n2,n2", "n[2,2]");
}

static void test_hostlist_compress_round_trips(void **state)
{
    (void)state;
    const char *exprs[] = { "n[1-3,5]", "n[001-100,200],login,gpu[01-04]", "a[1-2],b1", "r[1-3]x[7,9]" };
    for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
        flurm_hostlist_t *a = flurm_hostlist_parse(exprs[k], NULL);
        char *s = flurm_hostlist_compress(a);
        flurm_hostlist_t *b = flurm_hostlist_parse(s, NULL);
        assert_non_null(b);
        assert_int_equal(flurm_hostlist_count(a), flurm_hostlist_count(b));
        for (size_t i = 0; i < flurm_hostlist_count(a); i++) {
            char x[64], y[64];
            flurm_hostlist_nth(a, i, x, sizeof x);
            flurm_hostlist_nth(b, i, y, sizeof y);
            assert_string_equal(x, y);
        }
        free(s);
        flurm_hostlist_free(a);
        flurm_hostlist_free(b);
    }
}

static void test_hostlist_push_appends_and_failure_changes_nothing(void **state)
{
    (void)state;
    flurm_hostlist_t *hl = flurm_hostlist_new();
    assert_int_equal(flurm_hostlist_count(hl), 0);
    assert_int_equal(flurm_hostlist_push(hl, "n[1-2]"), FLURM_OK);
    assert_int_equal(flurm_hostlist_push(hl, "n3,n4"), FLURM_OK);
    assert_int_equal(flurm_hostlist_push(hl, "n[5-3]"), FLURM_EINVAL);
    assert_int_equal(flurm_hostlist_push_host(hl, "odd[name"), FLURM_OK);
    assert_int_equal(flurm_hostlist_push_host(hl, ""), FLURM_EINVAL);
    assert_int_equal(flurm_hostlist_count(hl), 5);
    assert_string_equal(flurm_hostlist_get(hl, 4), "odd[name");
    char *s = flurm_hostlist_compress(hl);
    assert_string_equal(s, "n[1-4],odd[name");
    free(s);
    flurm_hostlist_free(hl);
    flurm_hostlist_free(NULL);
}

static void test_hostlist_find_returns_first_index(void **state)
{
    (void)state;
    flurm_hostlist_t *hl = flurm_hostlist_parse("login,n[008-012],n1,n8", NULL);
    assert_int_equal(flurm_hostlist_find(hl, "login"), 0);
    assert_int_equal(flurm_hostlist_find(hl, "n008"), 1);
    assert_int_equal(flurm_hostlist_find(hl, "n010"), 3);
    assert_int_equal(flurm_hostlist_find(hl, "n8"), 7);
    assert_int_equal(flurm_hostlist_find(hl, "n1"), 6);
    assert_int_equal(flurm_hostlist_find(hl, "n13"), -1);
    assert_int_equal(flurm_hostlist_find(hl, "n0010"), -1);
    flurm_hostlist_free(hl);
}

static void test_hostlist_sort_is_natural_and_uniq_drops_duplicates(void **state)
{
    (void)state;
    flurm_hostlist_t *hl = flurm_hostlist_parse("n10,n2,rack10,rack2,n1,login,n2,n[3-4],n", NULL);
    assert_int_equal(flurm_hostlist_sort(hl), FLURM_OK);
    char *s = flurm_hostlist_compress(hl);
    assert_string_equal(s, "login,n,n[1-2,2-4,10],rack[2,10]");
    free(s);
    assert_int_equal(flurm_hostlist_count(hl), 10);
    assert_int_equal(flurm_hostlist_uniq(hl), FLURM_OK);
    s = flurm_hostlist_compress(hl);
    assert_string_equal(s, "login,n,n[1-4,10],rack[2,10]");
    free(s);
    assert_int_equal(flurm_hostlist_count(hl), 9);
    flurm_hostlist_free(hl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostlist_parse_plain_names_and_separators),
        cmocka_unit_test(test_hostlist_parse_ranges_keep_zero_padding),
        cmocka_unit_test(test_hostlist_parse_cartesian_product_left_group_slowest),
        cmocka_unit_test(test_hostlist_parse_rejects_malformed),
        cmocka_unit_test(test_hostlist_million_host_range_is_one_node),
        cmocka_unit_test(test_hostlist_nth_reports_range_and_space),
        cmocka_unit_test(test_hostlist_compress_merges_adjacent_ranges),
        cmocka_unit_test(test_hostlist_compress_keeps_list_order),
        cmocka_unit_test(test_hostlist_compress_round_trips),
        cmocka_unit_test(test_hostlist_push_appends_and_failure_changes_nothing),
        cmocka_unit_test(test_hostlist_find_returns_first_index),
        cmocka_unit_test(test_hostlist_sort_is_natural_and_uniq_drops_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
