/* tests/unit/test_requests.c — the table of recently applied request ids
 * (libflurm/state/requests.h): lookups through growth and expiry, checked against a plain list;
 * the packed form and its truncations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "state/requests.h"

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Request id number N. Ids that share their first eight bytes (the index slot) every 8th, so
 * probe chains collide and deletions have to shift them. */
static void make_id(uint64_t n, uint8_t id[FLURM_REQUEST_ID_LEN])
{
    uint64_t s = n / 8, a = rng_next(&s), t = n, b = rng_next(&t);
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

static void test_requests_find_add_expire_match_a_plain_list(void **state)
{
    (void)state;
    enum { N = 20000 };
    req_table_t t = { 0 };
    int64_t *stamp = calloc(N, sizeof *stamp);   /* the reference: id n held iff first <= n */
    assert_non_null(stamp);
    uint64_t rng = 42, first = 0;
    int64_t now = 1000;
    uint8_t id[FLURM_REQUEST_ID_LEN];
    for (uint64_t n = 0; n < N; n++) {
        now += (int64_t)(rng_next(&rng) % 3);   /* ~ 1 s per request: the window holds ~120 */
        req_table_expire(&t, now);
        while (first < n && stamp[first] < now - FLURM_REQUESTS_WINDOW_S)
            first++;
        make_id(n, id);
        assert_int_equal(req_table_add(&t, id, now, (uint32_t)n % 7, (uint32_t)n), FLURM_OK);
        stamp[n] = now;
        assert_int_equal(req_table_count(&t), n + 1 - first);
        /* a few held ones, a few forgotten, one never added */
        for (int k = 0; k < 4; k++) {
            uint64_t q = rng_next(&rng) % (n + 1);
            make_id(q, id);
            const req_rec_t *r = req_table_find(&t, id);
            if (q >= first) {
                assert_non_null(r);
                assert_int_equal(r->job_id, (uint32_t)q);
                assert_int_equal(r->rc, (uint32_t)q % 7);
                assert_int_equal(r->now, stamp[q]);
            } else {
                assert_null(r);
            }
        }
        make_id(N + n, id);
        assert_null(req_table_find(&t, id));
    }
    /* every one held is found after all those deletions */
    for (uint64_t q = first; q < N; q++) {
        make_id(q, id);
        assert_non_null(req_table_find(&t, id));
    }
    req_table_free(&t);
    free(stamp);
}

static void test_requests_pack_round_trip_and_truncation(void **state)
{
    (void)state;
    req_table_t t = { 0 }, u = { 0 };
    uint8_t id[FLURM_REQUEST_ID_LEN];
    for (uint64_t n = 0; n < 300; n++) {
        make_id(n, id);
        assert_int_equal(req_table_add(&t, id, 500 + (int64_t)n, 0, (uint32_t)n + 1), FLURM_OK);
    }
    req_table_expire(&t, 500 + 100 + FLURM_REQUESTS_WINDOW_S);   /* 0..99 go */
    assert_int_equal(req_table_count(&t), 200);
    flurm_buf_t b;
    flurm_buf_init(&b);
    req_table_pack(&t, &b);
    assert_int_equal(b.err, FLURM_OK);
    assert_int_equal(b.size, 4 + 200 * (FLURM_REQUEST_ID_LEN + 16));
    flurm_buf_t in;
    flurm_buf_view(&in, b.data, b.size);
    assert_int_equal(req_table_unpack(&u, &in), FLURM_OK);
    assert_int_equal(req_table_count(&u), 200);
    for (uint64_t n = 0; n < 300; n++) {
        make_id(n, id);
        const req_rec_t *r = req_table_find(&u, id);
        if (n < 100) {
            assert_null(r);
        } else {
            assert_non_null(r);
            assert_int_equal(r->job_id, (uint32_t)n + 1);
            assert_int_equal(r->now, 500 + (int64_t)n);
        }
    }
    /* the same order, so the same bytes again */
    flurm_buf_t b2;
    flurm_buf_init(&b2);
    req_table_pack(&u, &b2);
    assert_true(b2.size == b.size && memcmp(b2.data, b.data, b.size) == 0);
    /* every truncation fails and leaves an empty table */
    for (size_t len = 0; len < b.size; len += 7) {
        flurm_buf_view(&in, b.data, len);
        assert_int_not_equal(req_table_unpack(&u, &in), FLURM_OK);
        assert_int_equal(req_table_count(&u), 0);
    }
    /* a count far beyond the bytes is refused before anything is allocated */
    uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
    flurm_buf_view(&in, huge, sizeof huge);
    assert_int_equal(req_table_unpack(&u, &in), FLURM_ETRUNC);
    flurm_buf_release(&b);
    flurm_buf_release(&b2);
    req_table_free(&t);
    req_table_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_find_add_expire_match_a_plain_list),
        cmocka_unit_test(test_requests_pack_round_trip_and_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
