/* tests/unit/test_auth.c — munge credentials and SLURM 22.05's payload check, against a private
 * munged started by tests/lib/munged.sh for the whole group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <munge.h>

#include <flurm/auth.h>

#include "munged_fixture.h"

#define TYPE_PING 1008          /* REQUEST_PING = 0x03F0: its two bytes differ */

static int group_setup(void **state)
{
    (void)state;
    return munged_start("flurm-auth");
}

static int group_teardown(void **state)
{
    (void)state;
    return munged_stop();
}

static flurm_auth_t *auth_new(void)
{
    flurm_auth_t *a = flurm_auth_new(g_sock, 0);
    assert_non_null(a);
    return a;
}

/* A credential carrying PAYLOAD as-is, made with raw libmunge against the private munged. */
static char *raw_encode(const void *payload, int len)
{
    munge_ctx_t ctx = munge_ctx_create();
    assert_non_null(ctx);
    assert_int_equal(munge_ctx_set(ctx, MUNGE_OPT_SOCKET, g_sock), EMUNGE_SUCCESS);
    char *cred = NULL;
    assert_int_equal(munge_encode(&cred, ctx, payload, len), EMUNGE_SUCCESS);
    munge_ctx_destroy(ctx);
    return cred;
}

static int verify(flurm_auth_t *a, const char *cred, uint16_t type, const char *body,
                  const char **reason)
{
    uid_t u;
    gid_t g;
    return flurm_auth_verify(a, cred, type, body, body ? strlen(body) : 0, &u, &g, reason);
}

static void test_auth_sign_digest_equals_sign_of_the_body(void **state)
{
    (void)state;
    static const char body[] = "a cached reply body";
    flurm_auth_t *g_auth = auth_new();
    uint8_t digest[32];
    char *cred = NULL;
    uid_t uid;
    gid_t gid;
    flurm_auth_digest(2004, body, sizeof body, digest);
    assert_int_equal(flurm_auth_sign_digest(g_auth, digest, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    assert_int_equal(flurm_auth_verify(g_auth, cred, 2004, body, sizeof body, &uid, &gid, NULL), FLURM_OK);
    free(cred);
    assert_int_equal(flurm_auth_sign_digest(g_auth, digest, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    const char *why = NULL;
    assert_int_equal(flurm_auth_verify(g_auth, cred, 2004, "other", 6, &uid, &gid, &why), FLURM_EAUTH);
    free(cred);
    flurm_auth_free(g_auth);
}

static void test_auth_round_trip_yields_caller_uid_and_gid(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const char body[] = "\x00\x01\x02 some packed body";
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, body, sizeof body, FLURM_AUTH_UID_ANY, &cred),
                     FLURM_OK);
    assert_non_null(cred);
    assert_memory_equal(cred, "MUNGE:", 6);
    uid_t u = 12345;
    gid_t g = 12345;
    const char *reason = "untouched";
    assert_int_equal(flurm_auth_verify(a, cred, TYPE_PING, body, sizeof body, &u, &g, &reason),
                     FLURM_OK);
    assert_int_equal(u, getuid());
    assert_int_equal(g, getgid());
    assert_string_equal(reason, "untouched");
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_empty_body_round_trips(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, NULL, 0, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    assert_int_equal(verify(a, cred, TYPE_PING, NULL, NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

/* What SLURM 22.05 peers decode: 0x02 || K12(body, custom = msg_type big-endian). */
static void test_auth_payload_is_k12_digest_of_body_with_be_type(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const char body[] = "hash me";
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, 0x1234, body, 7, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);

    munge_ctx_t ctx = munge_ctx_create();
    assert_int_equal(munge_ctx_set(ctx, MUNGE_OPT_SOCKET, g_sock), EMUNGE_SUCCESS);
    void *payload = NULL;
    int len = 0;
    assert_int_equal(munge_decode(cred, ctx, &payload, &len, NULL, NULL), EMUNGE_SUCCESS);
    munge_ctx_destroy(ctx);

    uint8_t want[33] = { 0x02 };
    const uint8_t custom[2] = { 0x12, 0x34 };
    flurm_k12(body, 7, custom, 2, want + 1, 32);
    assert_int_equal(len, 33);
    assert_memory_equal(payload, want, 33);
    free(payload);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_second_verify_is_replayed(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "x", 1, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    assert_int_equal(verify(a, cred, TYPE_PING, "x", NULL), FLURM_OK);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, "x", &reason), FLURM_EAUTH);
    assert_non_null(strstr(reason, "replayed"));
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_altered_body_is_hash_mismatch(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "body", 4, FLURM_AUTH_UID_ANY, &cred),
                     FLURM_OK);
    const char *reason = NULL;
    uid_t u = 777;
    gid_t g = 777;
    assert_int_equal(flurm_auth_verify(a, cred, TYPE_PING, "bodY", 4, &u, &g, &reason),
                     FLURM_EAUTH);
    assert_string_equal(reason, "message hash mismatch");
    assert_int_equal(u, 777);   /* a failed verify leaves the identity untouched */
    assert_int_equal(g, 777);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_altered_msg_type_is_hash_mismatch(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "body", 4, FLURM_AUTH_UID_ANY, &cred),
                     FLURM_OK);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING + 1, "body", &reason), FLURM_EAUTH);
    assert_string_equal(reason, "message hash mismatch");
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_empty_payload_is_accepted(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = raw_encode(NULL, 0);
    assert_int_equal(verify(a, cred, TYPE_PING, "any body", NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_none_hash_accepts_big_endian_type(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const uint8_t p[3] = { 0x01, TYPE_PING >> 8, TYPE_PING & 0xFF };
    char *cred = raw_encode(p, 3);
    assert_int_equal(verify(a, cred, TYPE_PING, "any body", NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

/* 21.08.8 / 20.11.9 put msg_type in host order (_compute_hash() comment in 22.05). */
static void test_auth_none_hash_accepts_host_order_type(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    uint16_t t = TYPE_PING;
    uint8_t p[3] = { 0x01 };
    memcpy(p + 1, &t, 2);
    char *cred = raw_encode(p, 3);
    assert_int_equal(verify(a, cred, TYPE_PING, NULL, NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_none_hash_rejects_other_type(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const uint8_t p[3] = { 0x01, 0x03, 0xF1 };
    char *cred = raw_encode(p, 3);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, NULL, &reason), FLURM_EAUTH);
    assert_string_equal(reason, "message hash mismatch");
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_none_hash_rejects_wrong_length(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const uint8_t p[4] = { 0x01, TYPE_PING >> 8, TYPE_PING & 0xFF, 0 };
    char *cred = raw_encode(p, 4);
    assert_int_equal(verify(a, cred, TYPE_PING, NULL, NULL), FLURM_EAUTH);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_unknown_hash_type_is_rejected(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    uint8_t p[33] = { 0x03 };   /* HASH_PLUGIN_SHA256: no such plugin in 22.05 */
    const uint8_t custom[2] = { TYPE_PING >> 8, TYPE_PING & 0xFF };
    flurm_k12("b", 1, custom, 2, p + 1, 32);
    char *cred = raw_encode(p, 33);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, "b", &reason), FLURM_EAUTH);
    assert_string_equal(reason, "unknown hash type");
    free(cred);
    flurm_auth_free(a);
}

/* 22.05's hash_g_compute() maps HASH_PLUGIN_DEFAULT (0) to the K12 plugin. */
static void test_auth_default_hash_type_is_k12(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    uint8_t p[33] = { 0x00 };
    const uint8_t custom[2] = { TYPE_PING >> 8, TYPE_PING & 0xFF };
    flurm_k12("b", 1, custom, 2, p + 1, 32);
    char *cred = raw_encode(p, 33);
    assert_int_equal(verify(a, cred, TYPE_PING, "b", NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_truncated_k12_digest_is_rejected(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    uint8_t p[33] = { 0x02 };
    const uint8_t custom[2] = { TYPE_PING >> 8, TYPE_PING & 0xFF };
    flurm_k12("b", 1, custom, 2, p + 1, 32);
    char *cred = raw_encode(p, 32);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, "b", &reason), FLURM_EAUTH);
    assert_string_equal(reason, "message hash mismatch");
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_garbage_credential_is_eauth(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    const char *reason = NULL;
    assert_int_equal(verify(a, "MUNGE:not-a-credential:", TYPE_PING, NULL, &reason), FLURM_EAUTH);
    assert_non_null(reason);
    reason = NULL;
    assert_int_equal(verify(a, "hello", TYPE_PING, NULL, &reason), FLURM_EAUTH);
    assert_non_null(reason);
    flurm_auth_free(a);
}

static void test_auth_unreachable_munged_is_eio(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/no-such.socket", g_dir);
    flurm_auth_t *bad = flurm_auth_new(path, 0);
    assert_non_null(bad);
    char *cred = (char *)"unchanged";
    assert_int_equal(flurm_auth_sign(bad, TYPE_PING, "x", 1, FLURM_AUTH_UID_ANY, &cred), FLURM_EIO);
    assert_string_equal(cred, "unchanged");

    flurm_auth_t *a = auth_new();
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "x", 1, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    assert_int_equal(verify(bad, cred, TYPE_PING, "x", NULL), FLURM_EIO);
    free(cred);
    flurm_auth_free(a);
    flurm_auth_free(bad);
}

static void test_auth_uid_restriction_refuses_other_decoder(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    uid_t other = getuid() == 4242 ? 4243 : 4242;
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "x", 1, other, &cred), FLURM_OK);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, "x", &reason), FLURM_EAUTH);
    assert_non_null(strstr(reason, "not decodable"));
    free(cred);

    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "x", 1, getuid(), &cred), FLURM_OK);
    assert_int_equal(verify(a, cred, TYPE_PING, "x", NULL), FLURM_OK);
    free(cred);
    flurm_auth_free(a);
}

static void test_auth_ttl_elapsed_is_expired(void **state)
{
    (void)state;
    flurm_auth_t *a = flurm_auth_new(g_sock, 1);
    assert_non_null(a);
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, TYPE_PING, "x", 1, FLURM_AUTH_UID_ANY, &cred), FLURM_OK);
    sleep(2);
    const char *reason = NULL;
    assert_int_equal(verify(a, cred, TYPE_PING, "x", &reason), FLURM_EAUTH);
    assert_non_null(strstr(reason, "expired"));
    free(cred);
    flurm_auth_free(a);
}

#define N_THREADS 4
#define N_ROUNDS 25

static void *sign_verify_loop(void *arg)
{
    flurm_auth_t *a = arg;
    uintptr_t failures = 0;
    for (int i = 0; i < N_ROUNDS; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "body %d", i);
        char *cred = NULL;
        uid_t u;
        gid_t g;
        if (flurm_auth_sign(a, (uint16_t)i, body, (size_t)n, FLURM_AUTH_UID_ANY, &cred) != FLURM_OK
            || flurm_auth_verify(a, cred, (uint16_t)i, body, (size_t)n, &u, &g, NULL) != FLURM_OK)
            failures++;
        free(cred);
    }
    return (void *)failures;
}

static void test_auth_context_is_shared_safely_between_threads(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sign_verify_loop, a), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *failures;
        assert_int_equal(pthread_join(th[i], &failures), 0);
        assert_int_equal((uintptr_t)failures, 0);
    }
    flurm_auth_free(a);
}

static void test_auth_rejects_null_arguments(void **state)
{
    (void)state;
    flurm_auth_t *a = auth_new();
    char *cred = NULL;
    assert_int_equal(flurm_auth_sign(a, 1, NULL, 5, FLURM_AUTH_UID_ANY, &cred), FLURM_EINVAL);
    assert_int_equal(flurm_auth_sign(a, 1, NULL, 0, FLURM_AUTH_UID_ANY, NULL), FLURM_EINVAL);
    assert_int_equal(verify(a, NULL, 1, NULL, NULL), FLURM_EINVAL);
    flurm_auth_free(a);
    flurm_auth_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_round_trip_yields_caller_uid_and_gid),
        cmocka_unit_test(test_auth_sign_digest_equals_sign_of_the_body),
        cmocka_unit_test(test_auth_empty_body_round_trips),
        cmocka_unit_test(test_auth_payload_is_k12_digest_of_body_with_be_type),
        cmocka_unit_test(test_auth_second_verify_is_replayed),
        cmocka_unit_test(test_auth_altered_body_is_hash_mismatch),
        cmocka_unit_test(test_auth_altered_msg_type_is_hash_mismatch),
        cmocka_unit_test(test_auth_empty_payload_is_accepted),
        cmocka_unit_test(test_auth_none_hash_accepts_big_endian_type),
        cmocka_unit_test(test_auth_none_hash_accepts_host_order_type),
        cmocka_unit_test(test_auth_none_hash_rejects_other_type),
        cmocka_unit_test(test_auth_none_hash_rejects_wrong_length),
        cmocka_unit_test(test_auth_unknown_hash_type_is_rejected),
        cmocka_unit_test(test_auth_default_hash_type_is_k12),
        cmocka_unit_test(test_auth_truncated_k12_digest_is_rejected),
        cmocka_unit_test(test_auth_garbage_credential_is_eauth),
        cmocka_unit_test(test_auth_unreachable_munged_is_eio),
        cmocka_unit_test(test_auth_uid_restriction_refuses_other_decoder),
        cmocka_unit_test(test_auth_ttl_elapsed_is_expired),
        cmocka_unit_test(test_auth_context_is_shared_safely_between_threads),
        cmocka_unit_test(test_auth_rejects_null_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
