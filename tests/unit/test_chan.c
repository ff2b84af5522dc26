/* tests/unit/test_chan.c — authenticated channels (include/flurm/chan.h) against a private munged
 * started by tests/lib/munged.sh for the whole group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <flurm/chan.h>

#include "munged_fixture.h"

static flurm_auth_t *g_auth;

static int group_setup(void **state)
{
    (void)state;
    if (munged_start("flurm-chan") != 0)
        return -1;
    g_auth = flurm_auth_new(g_sock, 0);
    return g_auth ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    flurm_auth_free(g_auth);
    return munged_stop();
}

/* A dialer and a listener with an established channel each. */
typedef struct pair {
    flurm_chan_t *dialer, *listener;
    flurm_chan_peer_t seen_by_listener, seen_by_dialer;
} pair_t;

static void handshake(pair_t *p, flurm_chan_purpose_t purpose, const char *name)
{
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello, welcome;
    flurm_buf_init(&hello);
    flurm_buf_init(&welcome);
    const char *why = NULL;
    assert_int_equal(flurm_chan_hello(g_auth, purpose, name, &hs, &hello, &why), FLURM_OK);
    assert_int_equal(flurm_chan_frame_type(hello.data, hello.size), FLURM_CHAN_FRAME_HELLO);
    assert_int_equal(flurm_chan_accept(g_auth, purpose, "ctl1", hello.data, hello.size, NULL, NULL,
                                       &p->seen_by_listener, &p->listener, &welcome, &why), FLURM_OK);
    assert_int_equal(flurm_chan_frame_type(welcome.data, welcome.size), FLURM_CHAN_FRAME_WELCOME);
    assert_int_equal(flurm_chan_finish(g_auth, hs, welcome.data, welcome.size, &p->seen_by_dialer,
                                       &p->dialer, &why), FLURM_OK);
    flurm_buf_release(&hello);
    flurm_buf_release(&welcome);
}

static void pair_free(pair_t *p)
{
    flurm_chan_free(p->dialer);
    flurm_chan_free(p->listener);
}

static void seal(flurm_chan_t *c, const char *text, flurm_buf_t *out)
{
    flurm_buf_init(out);
    assert_int_equal(flurm_chan_seal(c, text, strlen(text), out), FLURM_OK);
    assert_int_equal(out->size, strlen(text) + FLURM_CHAN_OVERHEAD);
}

static int open_frame(flurm_chan_t *c, const flurm_buf_t *f, flurm_buf_t *plain, const char **why)
{
    return flurm_chan_open(c, f->data, f->size, plain, why);
}

static void test_chan_handshake_names_both_ends_and_carries_both_ways(void **state)
{
    (void)state;
    pair_t p;
    handshake(&p, FLURM_CHAN_NODE, "n17");
    assert_int_equal(p.seen_by_listener.uid, getuid());
    assert_int_equal(p.seen_by_listener.gid, getgid());
    assert_string_equal(p.seen_by_listener.name, "n17");
    assert_int_equal(p.seen_by_listener.purpose, FLURM_CHAN_NODE);
    assert_string_equal(p.seen_by_dialer.name, "ctl1");
    assert_int_equal(p.seen_by_dialer.uid, getuid());
    uint32_t local = 0;
    assert_int_equal(flurm_chan_local_origin(g_auth, &local, NULL), FLURM_OK);
    assert_int_equal(p.seen_by_listener.addr, local);

    flurm_buf_t f, plain;
    flurm_buf_init(&plain);
    seal(p.dialer, "register n17", &f);
    assert_null(memmem(f.data, f.size, "register", 8));   /* sealed, not only signed */
    assert_int_equal(open_frame(p.listener, &f, &plain, NULL), FLURM_OK);
    assert_int_equal(plain.size, 12);
    assert_memory_equal(plain.data, "register n17", 12);
    flurm_buf_release(&f);
    seal(p.listener, "ack", &f);
    assert_int_equal(open_frame(p.dialer, &f, &plain, NULL), FLURM_OK);
    assert_memory_equal(plain.data, "ack", 3);
    flurm_buf_release(&f);
    flurm_buf_release(&plain);
    pair_free(&p);
}

static void test_chan_tampered_frame_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    pair_t p;
    handshake(&p, FLURM_CHAN_NODE, "n1");
    flurm_buf_t f, plain;
    flurm_buf_init(&plain);
    seal(p.dialer, "JobEnd 42 COMPLETED", &f);
    const char *why = NULL;
    for (size_t i = 0; i < f.size; i++) {
        f.data[i] ^= 0x01;
        int rc = open_frame(p.listener, &f, &plain, &why);
        assert_int_not_equal(rc, FLURM_OK);
        f.data[i] ^= 0x01;
    }
    assert_int_equal(open_frame(p.listener, &f, &plain, &why), FLURM_OK);   /* the original still opens */
    flurm_buf_t cut = f;
    cut.size = f.size - 1;
    assert_int_equal(open_frame(p.listener, &cut, &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "replayed");   /* same sequence number: refused before the tag */
    flurm_buf_release(&f);
    flurm_buf_release(&plain);
    pair_free(&p);
}

static void test_chan_tamper_reports_bad_tag(void **state)
{
    (void)state;
    pair_t p;
    handshake(&p, FLURM_CHAN_NODE, "n1");
    flurm_buf_t f, plain;
    flurm_buf_init(&plain);
    seal(p.dialer, "payload", &f);
    f.data[f.size - 3] ^= 0x80;
    const char *why = NULL;
    assert_int_equal(open_frame(p.listener, &f, &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "bad tag");
    f.data[f.size - 3] ^= 0x80;
    f.data[11] ^= 0x02;   /* the sequence number is authenticated too */
    assert_int_equal(open_frame(p.listener, &f, &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "bad tag");
    flurm_buf_release(&f);
    flurm_buf_release(&plain);
    pair_free(&p);
}

static void test_chan_replay_is_refused_and_reordering_within_the_window_is_not(void **state)
{
    (void)state;
    pair_t p;
    handshake(&p, FLURM_CHAN_NODE, "n1");
    enum { N = FLURM_CHAN_WINDOW + 10 };
    flurm_buf_t f[N], plain;
    flurm_buf_init(&plain);
    for (int i = 0; i < N; i++)
        seal(p.dialer, "m", &f[i]);
    const char *why = NULL;
    assert_int_equal(open_frame(p.listener, &f[5], &plain, NULL), FLURM_OK);
    assert_int_equal(open_frame(p.listener, &f[3], &plain, NULL), FLURM_OK);   /* late, not seen */
    assert_int_equal(open_frame(p.listener, &f[5], &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "replayed");
    assert_int_equal(open_frame(p.listener, &f[3], &plain, &why), FLURM_EAUTH);
    assert_int_equal(open_frame(p.listener, &f[4], &plain, NULL), FLURM_OK);
    assert_int_equal(open_frame(p.listener, &f[N - 1], &plain, NULL), FLURM_OK);
    /* f[8] is N-1-8 = FLURM_CHAN_WINDOW + 1 behind the newest: outside the window */
    assert_int_equal(open_frame(p.listener, &f[8], &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "replayed");
    assert_int_equal(open_frame(p.listener, &f[N - 2], &plain, NULL), FLURM_OK);
    for (int i = 0; i < N; i++)
        flurm_buf_release(&f[i]);
    flurm_buf_release(&plain);
    pair_free(&p);
}

static void test_chan_frame_of_another_channel_or_reflected_is_refused(void **state)
{
    (void)state;
    pair_t a, b;
    handshake(&a, FLURM_CHAN_NODE, "n1");
    handshake(&b, FLURM_CHAN_NODE, "n1");
    flurm_buf_t f, plain;
    flurm_buf_init(&plain);
    seal(a.dialer, "launch", &f);
    const char *why = NULL;
    assert_int_equal(open_frame(b.listener, &f, &plain, &why), FLURM_EAUTH);
    assert_string_equal(why, "bad tag");
    assert_int_equal(open_frame(a.dialer, &f, &plain, &why), FLURM_EAUTH);   /* reflected back */
    assert_string_equal(why, "bad tag");
    assert_int_equal(open_frame(a.listener, &f, &plain, NULL), FLURM_OK);
    flurm_buf_release(&f);
    flurm_buf_release(&plain);
    pair_free(&a);
    pair_free(&b);
}

static void test_chan_replayed_hello_is_refused_by_munged(void **state)
{
    (void)state;
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello, welcome;
    flurm_buf_init(&hello);
    flurm_buf_init(&welcome);
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL;
    const char *why = NULL;
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs, &hello, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", hello.data, hello.size, NULL, NULL, &peer, &c,
                                       &welcome, NULL), FLURM_OK);
    flurm_chan_free(c);
    c = NULL;
    size_t before = welcome.size;
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", hello.data, hello.size, NULL, NULL, &peer, &c,
                                       &welcome, &why), FLURM_EAUTH);
    assert_string_equal(why, "credential replayed");
    assert_null(c);
    assert_int_equal(welcome.size, before);
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);
    flurm_buf_release(&welcome);
}

static void test_chan_hello_for_another_purpose_or_name_is_refused(void **state)
{
    (void)state;
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello, welcome;
    flurm_buf_init(&hello);
    flurm_buf_init(&welcome);
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL;
    const char *why = NULL;
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_ADMIN, "n1", &hs, &hello, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", hello.data, hello.size, NULL, NULL, &peer, &c,
                                       &welcome, &why), FLURM_EAUTH);
    assert_string_equal(why, "credential made for another channel");
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);

    /* the clear name says n2, the credential n1: a listener picking its policy by the clear
     * name must not be fooled */
    flurm_buf_init(&hello);
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs, &hello, NULL), FLURM_OK);
    hello.data[7] = '2';
    char name[FLURM_CHAN_NAME_MAX + 1];
    assert_int_equal(flurm_chan_hello_name(hello.data, hello.size, name), FLURM_OK);
    assert_string_equal(name, "n2");
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", hello.data, hello.size, NULL, NULL, &peer, &c,
                                       &welcome, &why), FLURM_EAUTH);
    assert_string_equal(why, "HELLO names another peer than its credential");
    assert_int_equal(welcome.size, 0);
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);
}

static void test_chan_welcome_must_answer_this_hello(void **state)
{
    (void)state;
    flurm_chan_hs_t *hs1 = NULL, *hs2 = NULL;
    flurm_buf_t h1, h2, w1;
    flurm_buf_init(&h1);
    flurm_buf_init(&h2);
    flurm_buf_init(&w1);
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL, *d = NULL;
    const char *why = NULL;
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs1, &h1, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs2, &h2, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", h1.data, h1.size, NULL, NULL, &peer, &c, &w1,
                                       NULL), FLURM_OK);
    assert_int_equal(flurm_chan_finish(g_auth, hs2, w1.data, w1.size, &peer, &d, &why), FLURM_EAUTH);
    assert_string_equal(why, "WELCOME answers another HELLO");
    assert_null(d);

    /* a HELLO's credential presented as a WELCOME (reflection) */
    flurm_buf_t fake;
    flurm_buf_init(&fake);
    const uint8_t hdr[4] = { 'F', 'C', 1, FLURM_CHAN_FRAME_WELCOME };
    flurm_pack_raw(&fake, hdr, 4);
    flurm_pack_raw(&fake, h1.data + 4 + 2 + 2, h1.size - 8);   /* skip header + "n1" */
    flurm_chan_hs_t *hs3 = NULL;
    flurm_buf_t h3;
    flurm_buf_init(&h3);
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs3, &h3, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_finish(g_auth, hs3, fake.data, fake.size, &peer, &d, &why), FLURM_EAUTH);
    assert_non_null(why);
    assert_null(d);
    flurm_chan_hs_free(hs1);
    flurm_chan_free(c);
    flurm_buf_release(&h1);
    flurm_buf_release(&h2);
    flurm_buf_release(&h3);
    flurm_buf_release(&w1);
    flurm_buf_release(&fake);
}

/* A credential made by another uid reports that uid: the listener's policy sees who it is. */
static void test_chan_hello_of_an_ordinary_user_names_that_user(void **state)
{
    (void)state;
    if (getuid() != 0) {
        skip();
        return;
    }
    struct passwd *pw = getpwnam("nobody");
    assert_non_null(pw);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            _exit(2);
        flurm_chan_hs_t *hs = NULL;
        flurm_buf_t hello;
        flurm_buf_init(&hello);
        if (flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n1", &hs, &hello, NULL) != FLURM_OK)
            _exit(3);
        _exit(write(fds[1], hello.data, hello.size) == (ssize_t)hello.size ? 0 : 4);
    }
    close(fds[1]);
    uint8_t buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(n > 0);
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL;
    flurm_buf_t welcome;
    flurm_buf_init(&welcome);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", buf, (size_t)n, NULL, NULL, &peer, &c, &welcome,
                                       NULL), FLURM_OK);
    assert_int_equal(peer.uid, pw->pw_uid);
    flurm_chan_free(c);
    flurm_buf_release(&welcome);
}

static const char *refuse_uid0(void *arg, const flurm_chan_peer_t *peer)
{
    (*(int *)arg)++;
    return peer->uid == getuid() ? "not this uid" : NULL;
}

static void test_chan_policy_refusal_makes_no_welcome(void **state)
{
    (void)state;
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello, welcome;
    flurm_buf_init(&hello);
    flurm_buf_init(&welcome);
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL;
    const char *why = NULL;
    int calls = 0;
    assert_int_equal(flurm_chan_hello(g_auth, FLURM_CHAN_NODE, "n4", &hs, &hello, NULL), FLURM_OK);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", hello.data, hello.size, refuse_uid0, &calls,
                                       &peer, &c, &welcome, &why), FLURM_EPERM);
    assert_int_equal(calls, 1);
    assert_string_equal(why, "not this uid");
    assert_string_equal(peer.name, "n4");   /* who was refused, for the log */
    assert_null(c);
    assert_int_equal(welcome.size, 0);
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);
}

static void test_chan_garbage_is_no_frame(void **state)
{
    (void)state;
    flurm_chan_peer_t peer;
    flurm_chan_t *c = NULL;
    flurm_buf_t out;
    flurm_buf_init(&out);
    const char *why = NULL;
    const uint8_t proto[] = { 0x08, 0x01, 0x12, 0x02, 'n', '1' };   /* a plain protobuf NodeRequest */
    assert_int_equal(flurm_chan_frame_type(proto, sizeof proto), FLURM_CHAN_FRAME_BAD);
    assert_int_equal(flurm_chan_frame_type("FC", 2), FLURM_CHAN_FRAME_BAD);
    assert_int_equal(flurm_chan_frame_type("FC\x01\x09", 4), FLURM_CHAN_FRAME_BAD);
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", proto, sizeof proto, NULL, NULL, &peer, &c, &out,
                                       &why), FLURM_EINVAL);
    const uint8_t short_cred[] = { 'F', 'C', 1, 1, 0, 2, 'n', '1', 'M', 'U' };
    assert_int_equal(flurm_chan_accept(g_auth, FLURM_CHAN_NODE, "ctl", short_cred, sizeof short_cred, NULL, NULL, &peer,
                                       &c, &out, &why), FLURM_EAUTH);
    const uint8_t long_name[] = { 'F', 'C', 1, 1, 0xff, 0xff, 'n' };
    assert_int_equal(flurm_chan_hello_name(long_name, sizeof long_name, (char[64]){ 0 }), FLURM_EINVAL);
    assert_null(c);
    assert_int_equal(out.size, 0);
}

static void test_chan_refusal_round_trips_and_is_sanitised(void **state)
{
    (void)state;
    flurm_buf_t f;
    flurm_buf_init(&f);
    assert_int_equal(flurm_chan_refuse(FLURM_CHAN_REFUSE_UNAUTHORIZED, "uid 1000 \x1b[31m may not", &f),
                     FLURM_OK);
    flurm_chan_refuse_code_t code = 0;
    char text[64];
    assert_int_equal(flurm_chan_refusal(f.data, f.size, &code, text, sizeof text), FLURM_OK);
    assert_int_equal(code, FLURM_CHAN_REFUSE_UNAUTHORIZED);
    assert_string_equal(text, "uid 1000 ?[31m may not");
    assert_int_equal(flurm_chan_refusal("FC\x01\x03", 4, &code, text, sizeof text), FLURM_EINVAL);
    flurm_buf_release(&f);
}

static void test_chan_addr_rule(void **state)
{
    (void)state;
    uint32_t local = 0;
    assert_int_equal(flurm_chan_local_origin(g_auth, &local, NULL), FLURM_OK);
    uint32_t other = inet_addr("192.0.2.7");
    assert_true(flurm_chan_addr_matches("192.0.2.7", other, local));
    assert_false(flurm_chan_addr_matches("192.0.2.8", other, local));
    /* a node configured on loopback must hold this host's credential */
    assert_true(flurm_chan_addr_matches("127.0.0.2", local, local));
    assert_false(flurm_chan_addr_matches("127.0.0.2", other, local));
    assert_true(flurm_chan_addr_matches("localhost", local, local));
    assert_false(flurm_chan_addr_matches("", local, local));
    assert_false(flurm_chan_addr_matches("no-such-host.invalid", other, local));
    assert_false(flurm_chan_addr_matches("127.0.0.1", 0, 0));
}

static void test_chan_unreachable_munged_is_eio(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/no-such.socket", g_dir);
    flurm_auth_t *bad = flurm_auth_new(path, 0);
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t out;
    flurm_buf_init(&out);
    const char *why = NULL;
    assert_int_equal(flurm_chan_hello(bad, FLURM_CHAN_NODE, "n1", &hs, &out, &why), FLURM_EIO);
    assert_string_equal(why, "cannot reach munged");
    assert_null(hs);
    assert_int_equal(out.size, 0);
    flurm_buf_release(&out);
    flurm_auth_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chan_handshake_names_both_ends_and_carries_both_ways),
        cmocka_unit_test(test_chan_tampered_frame_is_refused_and_changes_nothing),
        cmocka_unit_test(test_chan_tamper_reports_bad_tag),
        cmocka_unit_test(test_chan_replay_is_refused_and_reordering_within_the_window_is_not),
        cmocka_unit_test(test_chan_frame_of_another_channel_or_reflected_is_refused),
        cmocka_unit_test(test_chan_replayed_hello_is_refused_by_munged),
        cmocka_unit_test(test_chan_hello_for_another_purpose_or_name_is_refused),
        cmocka_unit_test(test_chan_welcome_must_answer_this_hello),
        cmocka_unit_test(test_chan_hello_of_an_ordinary_user_names_that_user),
        cmocka_unit_test(test_chan_policy_refusal_makes_no_welcome),
        cmocka_unit_test(test_chan_garbage_is_no_frame),
        cmocka_unit_test(test_chan_refusal_round_trips_and_is_sanitised),
        cmocka_unit_test(test_chan_addr_rule),
        cmocka_unit_test(test_chan_unreachable_munged_is_eio),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
