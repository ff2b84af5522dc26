/* tests/unit/test_k12.c — KT128 against the RFC 9861 section 5 test vectors.
 *
 * Vectors from RFC 9861 "KangarooTwelve and TurboSHAKE", section 5 (KT128 part), as transcribed
 * in libtomcrypt's src/hashes/sha3_test.c (kangaroo_twelve_test(), which cites
 * https://www.rfc-editor.org/rfc/rfc9861.txt). ptn(n) is the byte string 00 01 .. FA repeated,
 * i.e. byte i = i mod 251. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/auth.h>

static uint8_t *ptn(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i % 251);
    return p;
}

static uint8_t *ff(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    memset(p, 0xFF, n);
    return p;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* KT128(M, C, out_len) must end with the bytes in HEX (the last strlen(HEX)/2 output bytes). */
static void expect_kt128(const uint8_t *m, size_t m_len, const uint8_t *c, size_t c_len,
                         size_t out_len, const char *hex)
{
    size_t want_len = strlen(hex) / 2;
    uint8_t *want = malloc(want_len);
    uint8_t *out = malloc(out_len);
    assert_non_null(want);
    assert_non_null(out);
    unhex(hex, want, want_len);
    flurm_k12(m, m_len, c, c_len, out, out_len);
    assert_memory_equal(out + out_len - want_len, want, want_len);
    free(want);
    free(out);
}

static void test_k12_empty_message_32_bytes(void **state)
{
    (void)state;
    expect_kt128(NULL, 0, NULL, 0, 32,
                 "1ac2d450fc3b4205d19da7bfca1b37513c0803577ac7167f06fe2ce1f0ef39e5");
}

static void test_k12_empty_message_64_bytes_extends_the_32_byte_output(void **state)
{
    (void)state;
    expect_kt128(NULL, 0, NULL, 0, 64,
                 "1ac2d450fc3b4205d19da7bfca1b37513c0803577ac7167f06fe2ce1f0ef39e5"
                 "4269c056b8c82e48276038b6d292966cc07a3d4645272e31ff38508139eb0a71");
}

static void test_k12_long_output_last_32_of_10032_bytes(void **state)
{
    (void)state;
    expect_kt128(NULL, 0, NULL, 0, 10032,
                 "e8dc563642f7228c84684c898405d3a834799158c079b12880277a1d28e2ff6d");
}

/* ptn(17^k) for k = 0..6: 1 byte up to 24137569 bytes (tree mode from 17^4 = 83521 on). */
static void test_k12_ptn_17_powers_single_node_and_tree(void **state)
{
    (void)state;
    static const char *const want[] = {
        "2bda92450e8b147f8a7cb629e784a058efca7cf7d8218e02d345dfaa65244a1f",
        "6bf75fa2239198db4772e36478f8e19b0f371205f6a9a93a273f51df37122888",
        "0c315ebcdedbf61426de7dcf8fb725d1e74675d7f5327a5067f367b108ecb67c",
        "cb552e2ec77d9910701d578b457ddf772c12e322e4ee7fe417f92c758f0d59d0",
        "8701045e22205345ff4dda05555cbb5c3af1a771c2b89baef37db43d9998b9fe",
        "844d610933b1b9963cbdeb5ae3b6b05cc7cbd67ceedf883eb678a0a8e0371682",
        "3c390782a8a4e89fa6367f72feaaf13255c8d95878481d3cd8ce85f58e880af8",
    };
    size_t n = 1;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++, n *= 17) {
        uint8_t *m = ptn(n);
        expect_kt128(m, n, NULL, 0, 32, want[k]);
        free(m);
    }
}

static void test_k12_customization_strings(void **state)
{
    (void)state;
    uint8_t *c1 = ptn(1), *c41 = ptn(41), *c41_2 = ptn(41 * 41), *c41_3 = ptn(41 * 41 * 41);
    uint8_t *m = ff(7);
    expect_kt128(NULL, 0, c1, 1, 32,
                 "fab658db63e94a246188bf7af69a133045f46ee984c56e3c3328caaf1aa1a583");
    expect_kt128(m, 1, c41, 41, 32,
                 "d848c5068ced736f4462159b9867fd4c20b808acc3d5bc48e0b06ba0a3762ec4");
    expect_kt128(m, 3, c41_2, 41 * 41, 32,
                 "c389e5009ae57120854c2e8c64670ac01358cf4c1baf89447a724234dc7ced74");
    expect_kt128(m, 7, c41_3, 41 * 41 * 41, 32,
                 "75d2f86a2e644566726b4fbcfc5657b9dbcf070c7b0dca06450ab291d7443bcf");
    free(c1); free(c41); free(c41_2); free(c41_3); free(m);
}

/* |S| = |M| + |C| + |length_encode(|C|)| around the 8192-byte chunk size. */
static void test_k12_chunk_boundary(void **state)
{
    (void)state;
    uint8_t *m = ptn(8192), *c = ptn(8190);
    expect_kt128(m, 8191, NULL, 0, 32,
                 "1b577636f723643e990cc7d6a659837436fd6a103626600eb8301cd1dbe553d6");
    expect_kt128(m, 8192, NULL, 0, 32,
                 "48f256f6772f9edfb6a8b661ec92dc93b95ebd05a08a17b39ae3490870c926c3");
    expect_kt128(m, 8192, c, 8189, 32,
                 "3ed12f70fb05ddb58689510ab3e4d23c6c6033849aa01e1d8c220a297fedcd0b");
    expect_kt128(m, 8192, c, 8190, 32,
                 "6a7c1b6a5cd0d8c9ca943a4a216cc64604559a2ea45f78570a15253d67ba00ae");
    free(m); free(c);
}

/* SLURM's use: customization = msg_type big-endian; a different type gives a different digest. */
static void test_k12_customization_changes_digest(void **state)
{
    (void)state;
    const uint8_t body[] = "body";
    const uint8_t t1[2] = { 0x07, 0xD1 }, t2[2] = { 0xD1, 0x07 };
    uint8_t a[32], b[32];
    flurm_k12(body, 4, t1, 2, a, 32);
    flurm_k12(body, 4, t2, 2, b, 32);
    assert_memory_not_equal(a, b, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k12_empty_message_32_bytes),
        cmocka_unit_test(test_k12_empty_message_64_bytes_extends_the_32_byte_output),
        cmocka_unit_test(test_k12_long_output_last_32_of_10032_bytes),
        cmocka_unit_test(test_k12_ptn_17_powers_single_node_and_tree),
        cmocka_unit_test(test_k12_customization_strings),
        cmocka_unit_test(test_k12_chunk_boundary),
        cmocka_unit_test(test_k12_customization_changes_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
