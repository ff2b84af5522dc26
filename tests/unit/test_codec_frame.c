/* tests/unit/test_codec_frame.c — SLURM 22.05 framing against the captured fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/codec.h>
#include <flurm/msg_types.h>

#include "fixtures.h"

/* Decodes the single frame of a fixture file from an exactly-sized copy, so that a read past
 * the end is caught by the sanitizers. */
static int decode_copy(const uint8_t *p, size_t n, flurm_frame_t *f, uint8_t **copy)
{
    *copy = malloc(n ? n : 1);
    memcpy(*copy, p, n);
    return flurm_frame_decode(*copy, n, f);
}

/* ret_cnt of a raw 22.05 header (test-side reading, independent of the decoder). */
static uint16_t raw_ret_cnt(const uint8_t *p, size_t n)
{
    size_t off = 4 + 2 + 2 + 2 + 4;   /* prefix, version, flags, type, body_length */
    uint16_t fwd = (uint16_t)(p[off] << 8 | p[off + 1]);
    off += 2;
    if (fwd) {
        uint32_t sl = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
        off += 4 + sl + 4 + 2;
    }
    assert_true(off + 2 <= n);
    return (uint16_t)(p[off] << 8 | p[off + 1]);
}

static void test_frame_every_fixture_decodes_with_summary_header(void **state)
{
    (void)state;
    size_t decoded = 0, rejected_ret = 0;
    for (size_t i = 0; i < fixtures_all.n; i++) {
        const fixture_t *x = &fixtures_all.v[i];
        if (!fixture_is_rpc(x))
            continue;
        uint32_t n = flurm_frame_length(x->data);
        assert_int_equal(n, x->size - 4);   /* one RPC frame per file */
        flurm_frame_t f;
        uint8_t *copy;
        int rc = decode_copy(x->data + 4, n, &f, &copy);
        if (!x->is_request && raw_ret_cnt(x->data, x->size) > 0) {
            /* slurmd replies carrying forwarded replies: a controller never accepts these. */
            assert_int_equal(rc, FLURM_EPROTO);
            rejected_ret++;
            free(copy);
            continue;
        }
        if (rc != FLURM_OK)
            fail_msg("%s: frame decode failed: %s", x->path, flurm_strerror(rc));
        assert_int_equal(f.hdr.version, FLURM_PROTOCOL_VERSION);
        assert_int_equal(f.hdr.flags, 0);
        assert_int_equal(f.hdr.ret_cnt, 0);
        if (x->expect_type < 0)
            fail_msg("%s: no type in summary.txt", x->path);
        assert_int_equal(f.hdr.msg_type, x->expect_type);
        assert_int_equal(f.auth_plugin, FLURM_AUTH_PLUGIN_MUNGE);
        assert_non_null(f.cred);
        assert_int_equal(f.cred_len, 187);   /* meta.json: munge_cred_len 188 with the NUL */
        assert_memory_equal(f.cred, "MUNGE:", 6);
        /* The body is the last thing in the frame. */
        assert_ptr_equal(f.body + f.hdr.body_length, copy + n);
        assert_non_null(flurm_msg_type_name(f.hdr.msg_type));
        free(copy);
        decoded++;
    }
    assert_true(decoded >= 200);
    assert_int_equal(rejected_ret, 3);   /* the three treewidth2 replies with ret_cnt 2 */
}

/* Values read by hand from meta.json / xxd. */
static void test_frame_spot_checks_match_meta(void **state)
{
    (void)state;
    struct {
        const char *file;
        uint16_t type;
        uint32_t body_length;
        uint16_t forward_cnt;
        uint16_t family;
        size_t header_and_auth;   /* meta.json body_offset: after the prefix */
    } want[] = {
        { "sbatch/request.bin", FLURM_REQUEST_SUBMIT_BATCH_JOB, 2663, 0, 0, 16 + 196 },
        { "sbatch/response.bin", FLURM_RESPONSE_SUBMIT_BATCH_JOB, 16, 0, 0, 16 + 196 },
        { "scontrol-ping/request.bin", FLURM_REQUEST_PING, 0, 0, 0, 16 + 196 },
        { "squeue/01-request.bin", FLURM_REQUEST_JOB_INFO, 14, 0, 0, 16 + 196 },
        { "treewidth2/node-registration-slurmctld/01-request.bin",
          FLURM_REQUEST_NODE_REGISTRATION_STATUS, 0, 2, 0, 33 + 196 },
        { "treewidth2/node-registration-slurmctld/03-request.bin",
          FLURM_REQUEST_NODE_REGISTRATION_STATUS, 0, 0, 2, 22 + 196 },
        { "srun/04-response.bin", FLURM_RESPONSE_SLURM_RC_MSG, 8, 0, 2, 22 + 196 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const fixture_t *x = fixture_find(&fixtures_all, want[i].file);
        assert_non_null(x);
        flurm_frame_t f;
        assert_int_equal(flurm_frame_decode(x->data + 4, x->size - 4, &f), FLURM_OK);
        assert_int_equal(f.hdr.msg_type, want[i].type);
        assert_int_equal(f.hdr.body_length, want[i].body_length);
        assert_int_equal(f.hdr.forward_cnt, want[i].forward_cnt);
        assert_int_equal(f.hdr.addr_family, want[i].family);
        assert_int_equal(f.body - (x->data + 4), want[i].header_and_auth);
    }
    /* squeue's REQUEST_JOB_INFO body, protocol doc 1.8. */
    const fixture_t *sq = fixture_find(&fixtures_all, "squeue/01-request.bin");
    const uint8_t body[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, 0xFF, 0xFF, 0xFF, 0xFE };
    assert_memory_equal(sq->data + 4 + 212, body, sizeof body);
}

static void test_frame_every_truncation_is_an_error(void **state)
{
    (void)state;
    for (size_t i = 0; i < fixtures_all.n; i++) {
        const fixture_t *x = &fixtures_all.v[i];
        if (x->size < 4)
            continue;
        /* The I/O stream's files are several frames; take the bytes as they come. */
        size_t n = x->size - 4;
        for (size_t k = 0; k < n; k++) {
            flurm_frame_t f;
            uint8_t *copy;
            int rc = decode_copy(x->data + 4, k, &f, &copy);
            free(copy);
            if (fixture_is_rpc(x) && rc == FLURM_OK)
                fail_msg("%s: prefix of %zu bytes decoded", x->path, k);
            assert_true(rc == FLURM_OK || rc == FLURM_ETRUNC || rc == FLURM_EPROTO);
        }
    }
}

static void test_frame_length_limits(void **state)
{
    (void)state;
    const uint8_t gib[4] = { 0x40, 0, 0, 0 }, over[4] = { 0x40, 0, 0, 1 }, huge[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    const uint8_t tiny[4] = { 0, 0, 0, 23 }, min[4] = { 0, 0, 0, 24 };
    assert_int_equal(flurm_frame_length(gib), 1u << 30);
    assert_int_equal(flurm_frame_length(over), 0);
    assert_int_equal(flurm_frame_length(huge), 0);
    assert_int_equal(flurm_frame_length(tiny), 0);
    assert_int_equal(flurm_frame_length(min), 24);
    const fixture_t *x = fixture_find(&fixtures_all, "sbatch/request.bin");
    assert_int_equal(flurm_frame_length(x->data), 2875);
}

static void test_frame_encode_decode_round_trip(void **state)
{
    (void)state;
    const uint8_t body[] = { 0, 0, 0x07, 0xE1 };
    const char *cred = "MUNGE:AwQFAAAtest:";
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_frame_encode(&b, FLURM_PROTOCOL_VERSION, 1, FLURM_RESPONSE_SLURM_RC, cred,
                                        body, sizeof body), FLURM_OK);
    assert_int_equal(b.size, 4 + 16 + 4 + 4 + strlen(cred) + 1 + sizeof body);
    const uint8_t head[] = { 0, 0, 0, (uint8_t)(b.size - 4), 0x26, 0x00, 0x00, 0x01, 0x1F, 0x41,
                             0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x65 };
    assert_memory_equal(b.data, head, sizeof head);
    assert_int_equal(flurm_frame_length(b.data), b.size - 4);
    flurm_frame_t f;
    assert_int_equal(flurm_frame_decode(b.data + 4, b.size - 4, &f), FLURM_OK);
    assert_int_equal(f.hdr.version, FLURM_PROTOCOL_VERSION);
    assert_int_equal(f.hdr.flags, 1);
    assert_int_equal(f.hdr.msg_type, FLURM_RESPONSE_SLURM_RC);
    assert_int_equal(f.hdr.body_length, 4);
    assert_int_equal(f.hdr.forward_cnt, 0);
    assert_int_equal(f.hdr.addr_family, 0);
    assert_string_equal(f.cred, cred);
    assert_int_equal(f.cred_len, strlen(cred));
    assert_memory_equal(f.body, body, sizeof body);

    /* A second frame appends; a NULL credential and an empty body are fine. */
    size_t first = b.size;
    assert_int_equal(flurm_frame_encode(&b, FLURM_PROTOCOL_VERSION, 0, FLURM_REQUEST_PING, NULL, NULL, 0),
                     FLURM_OK);
    assert_int_equal(b.size - first, 4 + 16 + 8);
    assert_int_equal(flurm_frame_decode(b.data + first + 4, b.size - first - 4, &f), FLURM_OK);
    assert_null(f.cred);
    assert_int_equal(f.hdr.body_length, 0);
    flurm_buf_release(&b);
}

static void test_frame_old_header_layout_round_trips(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_frame_encode(&b, 0x2500, 0, FLURM_REQUEST_PING, "MUNGE:x:", NULL, 0), FLURM_OK);
    assert_int_equal(b.size, 4 + 18 + 8 + 9);
    flurm_frame_t f;
    assert_int_equal(flurm_frame_decode(b.data + 4, b.size - 4, &f), FLURM_OK);
    assert_int_equal(f.hdr.version, 0x2500);
    assert_int_equal(f.hdr.msg_type, FLURM_REQUEST_PING);
    assert_string_equal(f.cred, "MUNGE:x:");
    flurm_buf_release(&b);
}

static void test_frame_encode_rejects_unknown_version_without_writing(void **state)
{
    (void)state;
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_frame_encode(&b, 0x2700, 0, FLURM_REQUEST_PING, NULL, NULL, 0), FLURM_EINVAL);
    assert_int_equal(b.size, 0);
    flurm_buf_release(&b);
}

/* Builds a frame (without prefix) by hand: header fields, then TAIL bytes. */
static size_t build(uint8_t *p, uint16_t version, uint16_t ret_cnt, uint16_t family,
                    const uint8_t *tail, size_t tail_len)
{
    size_t n = 0;
    p[n++] = (uint8_t)(version >> 8); p[n++] = (uint8_t)version;
    p[n++] = 0; p[n++] = 0;                                   /* flags */
    p[n++] = 0x03; p[n++] = 0xF0;                             /* REQUEST_PING */
    p[n++] = 0; p[n++] = 0; p[n++] = 0; p[n++] = 0;           /* body_length */
    p[n++] = 0; p[n++] = 0;                                   /* forward_cnt */
    p[n++] = (uint8_t)(ret_cnt >> 8); p[n++] = (uint8_t)ret_cnt;
    p[n++] = (uint8_t)(family >> 8); p[n++] = (uint8_t)family;
    memcpy(p + n, tail, tail_len);
    return n + tail_len;
}

static void test_frame_decode_rejects_protocol_violations(void **state)
{
    (void)state;
    uint8_t p[128];
    flurm_frame_t f;
    const uint8_t auth_ok[] = { 0, 0, 0, 101, 0, 0, 0, 3, 'a', 'b', 0 };
    const uint8_t auth_jwt[] = { 0, 0, 0, 102, 0, 0, 0, 3, 'a', 'b', 0 };
    const uint8_t auth_unterminated[] = { 0, 0, 0, 101, 0, 0, 0, 3, 'a', 'b', 'c' };
    size_t n = build(p, 0x2600, 0, 0, auth_ok, sizeof auth_ok);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_OK);
    assert_string_equal(f.cred, "ab");

    n = build(p, 0x2300, 0, 0, auth_ok, sizeof auth_ok);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);
    n = build(p, 0x2700, 0, 0, auth_ok, sizeof auth_ok);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);
    n = build(p, 0x2600, 1, 0, auth_ok, sizeof auth_ok);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);
    n = build(p, 0x2600, 0, 0, auth_jwt, sizeof auth_jwt);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);
    n = build(p, 0x2600, 0, 0, auth_unterminated, sizeof auth_unterminated);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);

    /* AF_INET6: packmem of exactly 16 bytes + port. */
    uint8_t v6[4 + 16 + 2 + sizeof auth_ok] = { 0, 0, 0, 16 };
    memcpy(v6 + 22, auth_ok, sizeof auth_ok);
    n = build(p, 0x2600, 0, 10, v6, sizeof v6);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_OK);
    assert_int_equal(f.hdr.addr_family, 10);
    v6[3] = 15;
    n = build(p, 0x2600, 0, 10, v6, sizeof v6);
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_EPROTO);

    /* body_length beyond the bytes present. */
    n = build(p, 0x2600, 0, 0, auth_ok, sizeof auth_ok);
    p[9] = 1;
    assert_int_equal(flurm_frame_decode(p, n, &f), FLURM_ETRUNC);
    /* ... but extra bytes after the body are tolerated. */
    p[9] = 0;
    p[n] = 0xAA;
    assert_int_equal(flurm_frame_decode(p, n + 1, &f), FLURM_OK);
    assert_int_equal(f.hdr.body_length, 0);
}

static void test_frame_random_byte_flips_never_crash(void **state)
{
    (void)state;
    unsigned seed = 20240522u;
    print_message("byte-flip seed %u\n", seed);
    srand(seed);
    size_t rpc[512], nrpc = 0;
    for (size_t i = 0; i < fixtures_all.n && nrpc < 512; i++)
        if (fixture_is_rpc(&fixtures_all.v[i]))
            rpc[nrpc++] = i;
    for (int m = 0; m < 200; m++) {
        const fixture_t *x = &fixtures_all.v[rpc[(size_t)rand() % nrpc]];
        size_t n = x->size - 4;
        uint8_t *copy = malloc(n);
        memcpy(copy, x->data + 4, n);
        /* Half of the flips hit the header/auth region, where the structure lives. */
        size_t pos = (rand() & 1) ? (size_t)rand() % (n < 40 ? n : 40) : (size_t)rand() % n;
        copy[pos] ^= (uint8_t)(1 + rand() % 255);
        flurm_frame_t f;
        int rc = flurm_frame_decode(copy, n, &f);
        assert_true(rc == FLURM_OK || rc == FLURM_ETRUNC || rc == FLURM_EPROTO);
        if (rc == FLURM_OK)
            assert_true(f.body + f.hdr.body_length <= copy + n);
        free(copy);
    }
}

static void test_frame_msg_type_names_cover_the_table(void **state)
{
    (void)state;
    assert_string_equal(flurm_msg_type_name(1008), "REQUEST_PING");
    assert_string_equal(flurm_msg_type_name(FLURM_RESPONSE_SLURM_RC), "RESPONSE_SLURM_RC");
    assert_string_equal(flurm_msg_type_name(11002), "SLURMSCRIPTD_REQUEST_FLUSH_JOB");
    assert_null(flurm_msg_type_name(0));
    assert_null(flurm_msg_type_name(1000));
    assert_null(flurm_msg_type_name(65535));
    assert_int_equal(FLURM_REQUEST_PING, 1008);
    assert_int_equal(FLURM_REQUEST_SUBMIT_BATCH_JOB, 4003);
    assert_int_equal(FLURM_ESLURM_INVALID_JOB_ID, 2017);
    assert_string_equal(flurm_slurm_rc_name(2017), "ESLURM_INVALID_JOB_ID");
    assert_string_equal(flurm_slurm_rc_name(-1), "SLURM_ERROR");
    assert_null(flurm_slurm_rc_name(12345));

    /* Every row of the source TSV resolves to its own name. */
    char *text = fixture_read_text(SOURCE_ROOT "/libflurm/codec/data/msg_types_22.05.tsv");
    assert_non_null(text);
    size_t rows = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line && *line != '#') {
            char *tab = strchr(line, '\t');
            assert_non_null(tab);
            const char *name = flurm_msg_type_name((uint16_t)atoi(line));
            assert_non_null(name);
            assert_string_equal(name, tab + 1);
            rows++;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    assert_int_equal(rows, 227);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_every_fixture_decodes_with_summary_header),
        cmocka_unit_test(test_frame_spot_checks_match_meta),
        cmocka_unit_test(test_frame_every_truncation_is_an_error),
        cmocka_unit_test(test_frame_length_limits),
        cmocka_unit_test(test_frame_encode_decode_round_trip),
        cmocka_unit_test(test_frame_old_header_layout_round_trips),
        cmocka_unit_test(test_frame_encode_rejects_unknown_version_without_writing),
        cmocka_unit_test(test_frame_decode_rejects_protocol_violations),
        cmocka_unit_test(test_frame_random_byte_flips_never_crash),
        cmocka_unit_test(test_frame_msg_type_names_cover_the_table),
    };
    return cmocka_run_group_tests(tests, fixtures_group_setup, fixtures_group_teardown);
}
