/* tests/unit/test_buf.c — pack/unpack primitives against SLURM's wire rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/buf.h>

static void expect_bytes(const flurm_buf_t *b, const void *want, size_t n)
{
    assert_int_equal(b->size, n);
    assert_memory_equal(b->data, want, n);
}

static void test_integers_are_big_endian(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_pack8(&b, 0x01);
    flurm_pack16(&b, 0x0203);
    flurm_pack32(&b, 0x04050607);
    flurm_pack64(&b, 0x08090a0b0c0d0e0full);
    const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    expect_bytes(&b, want, sizeof want);
    flurm_buf_t r;
    flurm_buf_view(&r, b.data, b.size);
    uint8_t a; uint16_t c; uint32_t d; uint64_t e;
    flurm_unpack8(&r, &a); flurm_unpack16(&r, &c); flurm_unpack32(&r, &d); flurm_unpack64(&r, &e);
    assert_int_equal(r.err, FLURM_OK);
    assert_int_equal(a, 1); assert_int_equal(c, 0x0203); assert_int_equal(d, 0x04050607);
    assert_true(e == 0x08090a0b0c0d0e0full);
    assert_int_equal(flurm_buf_remaining(&r), 0);
    flurm_buf_release(&b);
}

static void test_packstr_counts_the_nul_and_null_is_zero(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_packstr(&b, "abc");
    flurm_packstr(&b, NULL);
    flurm_packstr(&b, "");
    const uint8_t want[] = { 0, 0, 0, 4, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    expect_bytes(&b, want, sizeof want);
    flurm_buf_t r;
    flurm_buf_view(&r, b.data, b.size);
    char *s1, *s2, *s3;
    flurm_unpackstr(&r, &s1); flurm_unpackstr(&r, &s2); flurm_unpackstr(&r, &s3);
    assert_int_equal(r.err, FLURM_OK);
    assert_string_equal(s1, "abc");
    assert_null(s2);
    assert_string_equal(s3, "");
    free(s1); free(s3);
    flurm_buf_release(&b);
}

static void test_unpackstr_terminates_unterminated_input(void **state)
{
    (void)state;
    const uint8_t in[] = { 0, 0, 0, 3, 'x', 'y', 'z' };
    flurm_buf_t r;
    flurm_buf_view(&r, in, sizeof in);
    char *s;
    assert_int_equal(flurm_unpackstr(&r, &s), FLURM_OK);
    assert_string_equal(s, "xyz");
    free(s);
}

static void test_double_is_scaled_by_a_million(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_pack_double(&b, 1.0);
    const uint8_t want[] = { 0x41, 0x2E, 0x84, 0x80, 0, 0, 0, 0 };
    expect_bytes(&b, want, sizeof want);
    flurm_buf_t r;
    flurm_buf_view(&r, b.data, b.size);
    double d;
    flurm_unpack_double(&r, &d);
    assert_true(d == 1.0);
    flurm_buf_release(&b);
}

static void test_bitmap_hex_matches_slurm_example(void **state)
{
    (void)state;
    uint64_t w = (1u << 0) | (1u << 9);
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_pack_bitmap(&b, &w, 10);
    flurm_pack_bitmap(&b, NULL, 10);
    const uint8_t want[] = { 0, 0, 0, 10, 0, 0, 0, 6, '0', 'x', '2', '0', '1', 0,
                             0xFF, 0xFF, 0xFF, 0xFE };
    expect_bytes(&b, want, sizeof want);
    char *text = flurm_bitmap_hex(&w, 10);
    assert_string_equal(text, "0x201");   /* the packed string, on its own */
    free(text);
    assert_null(flurm_bitmap_hex(NULL, 10));
    flurm_buf_t r;
    flurm_buf_view(&r, b.data, b.size);
    uint64_t *out, *none;
    uint32_t n, n2;
    flurm_unpack_bitmap(&r, &out, &n);
    flurm_unpack_bitmap(&r, &none, &n2);
    assert_int_equal(r.err, FLURM_OK);
    assert_int_equal(n, 10);
    assert_true(out[0] == w);
    assert_null(none);
    free(out);
    flurm_buf_release(&b);
}

static void test_bitmap_rejects_bits_beyond_nbits(void **state)
{
    (void)state;
    const uint8_t in[] = { 0, 0, 0, 4, 0, 0, 0, 5, '0', 'x', '1', '0', 0 };
    flurm_buf_t r;
    flurm_buf_view(&r, in, sizeof in);
    uint64_t *out;
    uint32_t n;
    assert_int_equal(flurm_unpack_bitmap(&r, &out, &n), FLURM_EPROTO);
    assert_null(out);
}

static void test_bitmap_count_beyond_its_digits_is_rejected(void **state)
{
    (void)state;
    /* 2^30 bits claimed, 3 digits given: must fail without allocating 2^27 bytes. */
    const uint8_t in[] = { 0x40, 0, 0, 0, 0, 0, 0, 6, '0', 'x', '2', '0', '1', 0 };
    flurm_buf_t r;
    flurm_buf_view(&r, in, sizeof in);
    uint64_t *out;
    uint32_t n;
    assert_int_equal(flurm_unpack_bitmap(&r, &out, &n), FLURM_EPROTO);
    assert_null(out);
}

static void test_truncated_input_is_sticky_and_allocates_nothing(void **state)
{
    (void)state;
    const uint8_t in[] = { 0, 0, 0, 9, 'a', 'b' };   /* claims 9 bytes, has 2 */
    flurm_buf_t r;
    flurm_buf_view(&r, in, sizeof in);
    char *s = (char *)1;
    assert_int_equal(flurm_unpackstr(&r, &s), FLURM_ETRUNC);
    assert_null(s);
    uint32_t v = 7;
    assert_int_equal(flurm_unpack32(&r, &v), FLURM_ETRUNC);
    assert_int_equal(v, 0);
}

static void test_hostile_array_count_is_rejected_before_allocating(void **state)
{
    (void)state;
    const uint8_t in[] = { 0x3F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1 };
    flurm_buf_t r;
    flurm_buf_view(&r, in, sizeof in);
    char **a;
    uint32_t n;
    assert_int_equal(flurm_unpack_str_array(&r, &a, &n), FLURM_ETRUNC);
    assert_null(a);
    assert_int_equal(n, 0);
}

static void test_arrays_round_trip(void **state)
{
    (void)state;
    char *env[] = { "A=1", "B=2", NULL };
    uint32_t nums[] = { 5, 6, 7 };
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_pack_str_array(&b, env, 2);
    flurm_pack32_array(&b, nums, 3);
    flurm_buf_t r;
    flurm_buf_view(&r, b.data, b.size);
    char **e; uint32_t ne; uint32_t *x; uint32_t nx;
    flurm_unpack_str_array(&r, &e, &ne);
    flurm_unpack32_array(&r, &x, &nx);
    assert_int_equal(r.err, FLURM_OK);
    assert_int_equal(ne, 2);
    assert_string_equal(e[1], "B=2");
    assert_int_equal(nx, 3);
    assert_int_equal(x[2], 7);
    flurm_str_array_free(e, ne);
    free(x);
    flurm_buf_release(&b);
}

static void test_pack32_at_patches_a_count(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_pack32(&b, 0);
    flurm_pack8(&b, 9);
    assert_int_equal(flurm_pack32_at(&b, 0, 3), FLURM_OK);
    const uint8_t want[] = { 0, 0, 0, 3, 9 };
    expect_bytes(&b, want, sizeof want);
    assert_int_equal(flurm_pack32_at(&b, 2, 1), FLURM_ERANGE);
    flurm_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_are_big_endian),
        cmocka_unit_test(test_packstr_counts_the_nul_and_null_is_zero),
        cmocka_unit_test(test_unpackstr_terminates_unterminated_input),
        cmocka_unit_test(test_double_is_scaled_by_a_million),
        cmocka_unit_test(test_bitmap_hex_matches_slurm_example),
        cmocka_unit_test(test_bitmap_rejects_bits_beyond_nbits),
        cmocka_unit_test(test_bitmap_count_beyond_its_digits_is_rejected),
        cmocka_unit_test(test_truncated_input_is_sticky_and_allocates_nothing),
        cmocka_unit_test(test_hostile_array_count_is_rejected_before_allocating),
        cmocka_unit_test(test_arrays_round_trip),
        cmocka_unit_test(test_pack32_at_patches_a_count),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
