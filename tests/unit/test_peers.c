/* tests/unit/test_peers.c — the controller <-> controller link (bin/flurmctld/peers.c) between two
 * controllers in this process: A (member 1, 127.0.0.1) and B (member 2, 127.0.0.2) on one event
 * loop, a private munged (tests/lib/munged.sh), and commit_receive()/rpc_forwarded() recorded
 * here instead of flurmctld's. Real sockets, real handshakes; the tests run in order (one pair of
 * controllers for the group, stopped and started again by the connection-loss tests). */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <flurm/chan.h>
#include <flurm/conf.h>

#include "ctl.h"
#include "commit.h"
#include "peers.h"
#include "munged_fixture.h"

static struct ev_loop *loop;
static flurm_auth_t *auth;
static flurm_conf_t *conf;
static ctl_t *A, *B;
static unsigned port;

/* ---------------------------------------------------------------- flurmctld's side, recorded */

static struct {
    int n;
    uint64_t at;                /* the receiving controller's member id */
    flurm_raft_msg_t m;
} received;

void commit_receive(ctl_t *ctl, const flurm_raft_msg_t *m)
{
    received.n++;
    received.at = ctl->self_id;
    received.m = *m;
    received.m.entries = NULL;
    received.m.data = NULL;
}

typedef enum { ANSWER_NOW, ANSWER_EMPTY, HOLD } fwd_mode_t;

static struct {
    fwd_mode_t mode;
    int n;
    void *token;
    uid_t uid;
    gid_t gid;
    char addr[64];
    char frame[64];
    uint64_t from;
} forwarded;

void rpc_forwarded(ctl_t *ctl, void *token, uint64_t from, uid_t uid, gid_t gid, const char *addr, const void *frame, size_t len)
{
    forwarded.n++;
    forwarded.from = from;
    forwarded.uid = uid;
    forwarded.gid = gid;
    snprintf(forwarded.addr, sizeof forwarded.addr, "%s", addr);
    snprintf(forwarded.frame, sizeof forwarded.frame, "%.*s", (int)len, (const char *)frame);
    switch (forwarded.mode) {
    case ANSWER_NOW: peers_forward_reply(ctl, token, "reply to it", 11); break;
    case ANSWER_EMPTY: peers_forward_reply(ctl, token, "", 0); break;
    case HOLD: forwarded.token = token; break;
    }
}

typedef struct outcome {
    int n;
    bool null;
    peers_fwd_status_t status;
    char reply[64];
    size_t len;
} outcome_t;

static void forward_done(ctl_t *ctl, void *arg, peers_fwd_status_t status, const void *reply, size_t len)
{
    (void)ctl;
    outcome_t *o = arg;
    o->n++;
    o->status = status;
    o->null = reply == NULL;
    o->len = len;
    snprintf(o->reply, sizeof o->reply, "%.*s", (int)len, reply ? (const char *)reply : "");
}

/* ---------------------------------------------------------------- the loop */

static bool (*until)(void);

static void on_poll(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    if (until())
        ev_break(l, EVBREAK_ONE);
}

static void on_limit(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(l, EVBREAK_ONE);
}

/* Runs the loop until PRED holds or SECONDS pass; PRED's last value. */
static bool run_until(bool (*pred)(void), double seconds)
{
    if (pred())
        return true;
    until = pred;
    ev_timer poll, limit;
    ev_timer_init(&poll, on_poll, 0.005, 0.005);
    ev_timer_init(&limit, on_limit, seconds, 0.);
    ev_timer_start(loop, &poll);
    ev_timer_start(loop, &limit);
    ev_run(loop, 0);
    ev_timer_stop(loop, &poll);
    ev_timer_stop(loop, &limit);
    return pred();
}

static bool never(void)
{
    return false;
}

static bool connected(const ctl_t *c, uint64_t id)
{
    peers_member_status_t st;
    peers_status(c, id, &st);
    return st.connected;
}

static bool both_connected(void)
{
    return connected(A, 2) && connected(B, 1);
}

static bool b_lost_a(void)
{
    return !connected(B, 1);
}

/* ---------------------------------------------------------------- the controllers */

static ctl_t *new_ctl(size_t index)
{
    ctl_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->loop = loop;
    c->conf = conf;
    c->auth = auth;
    c->self = &conf->controllers[index];
    c->self_id = index + 1;
    c->workers = pool_start(loop, 4);
    assert_non_null(c->workers);
    return c;
}

static void stop_ctl(ctl_t *c)
{
    pool_stop(c->workers);   /* as flurmctld: workers drained first */
    c->workers = NULL;
    peers_stop(c);
}

static int group_setup(void **state)
{
    (void)state;
    if (munged_start("flurm-peers") != 0)
        return -1;
    auth = flurm_auth_new(g_sock, 0);
    if (!auth)
        return -1;
    port = 20000 + (unsigned)getpid() % 20000;
    char text[512];
    snprintf(text, sizeof text,
             "ClusterName=peertest\nSlurmctldHost=a(127.0.0.1)\nSlurmctldHost=b(127.0.0.2)\n"
             "SlurmctldParameters=flurm_peer_port=%u\n", port);
    char *err = NULL;
    if (flurm_conf_parse_string(text, "peers.conf", &conf, &err) != FLURM_OK) {
        fprintf(stderr, "%s\n", err ? err : "?");
        return -1;
    }
    loop = ev_loop_new(EVFLAG_AUTO);
    return loop ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (A) {
        stop_ctl(A);
        free(A);
    }
    if (B) {
        stop_ctl(B);
        free(B);
    }
    flurm_conf_free(conf);
    flurm_auth_free(auth);
    ev_loop_destroy(loop);
    return munged_stop();
}

/* ---------------------------------------------------------------- tests */

static void test_peers_two_controllers_connect_both_ways(void **state)
{
    (void)state;
    A = new_ctl(0);
    B = new_ctl(1);
    assert_int_equal(peers_start(A), 0);
    assert_int_equal(peers_start(B), 0);
    assert_non_null(A->peers);
    assert_true(run_until(both_connected, 10));
    peers_member_status_t st;
    peers_status(A, 1, &st);   /* itself: no status */
    assert_false(st.connected);
    peers_status(A, 3, &st);   /* no such member */
    assert_false(st.connected);
}

static bool one_received(void)
{
    return received.n == 1;
}

static void test_peers_raft_message_reaches_commit_receive(void **state)
{
    (void)state;
    memset(&received, 0, sizeof received);
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 7, .log_index = 40,
                           .log_term = 6, .flags = FLURM_RAFT_MSGF_PRE_VOTE };
    peers_send(A, &m);
    assert_true(run_until(one_received, 5));
    assert_int_equal(received.at, 2);
    assert_int_equal(received.m.type, FLURM_RAFT_MSG_VOTE);
    assert_true(received.m.from == 1 && received.m.to == 2 && received.m.term == 7);
    assert_true(received.m.log_index == 40 && received.m.log_term == 6);
    assert_int_equal(received.m.flags, FLURM_RAFT_MSGF_PRE_VOTE);
    peers_member_status_t st;
    peers_status(A, 2, &st);
    assert_int_equal(st.sent, 1);
    assert_true(st.last_heard > 0);
    peers_status(B, 1, &st);
    assert_int_equal(st.received, 1);

    /* and the other way, an Append with entries */
    memset(&received, 0, sizeof received);
    flurm_raft_entry_t e[2] = { { .index = 5, .term = 3, .len = 3, .data = "abc" },
                                { .index = 6, .term = 3, .type = FLURM_RAFT_ENTRY_NOOP } };
    flurm_raft_msg_t ap = { .type = FLURM_RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 3, .log_index = 4,
                            .log_term = 2, .commit = 4, .entries = e, .n_entries = 2 };
    peers_send(B, &ap);
    assert_true(run_until(one_received, 5));
    assert_int_equal(received.at, 1);
    assert_int_equal(received.m.n_entries, 2);
}

static bool received_40(void)
{
    return received.n == 40;
}

/* A Raft request waits (parked, up to 0.2 s) for the receiver's next message to its sender,
 * which travels back as the answer; what is parked longer is answered empty, so the sender's
 * contexts come back and nothing it sends later is dropped. */
static void test_peers_reply_rides_back_on_the_request(void **state)
{
    (void)state;
    run_until(never, 0.4);   /* what earlier tests parked at B is answered meanwhile */
    peers_member_status_t a0, b0, st;
    peers_status(A, 2, &a0);
    peers_status(B, 1, &b0);
    memset(&received, 0, sizeof received);
    flurm_raft_msg_t ap = { .type = FLURM_RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4, .log_index = 9,
                            .log_term = 4, .commit = 9 };
    peers_send(A, &ap);
    assert_true(run_until(one_received, 5));
    assert_int_equal(received.at, 2);
    memset(&received, 0, sizeof received);
    flurm_raft_msg_t rep = { .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 2, .to = 1, .term = 4, .match = 9,
                             .flags = FLURM_RAFT_MSGF_SUCCESS };
    peers_send(B, &rep);
    assert_true(run_until(one_received, 5));
    assert_int_equal(received.at, 1);
    assert_int_equal(received.m.type, FLURM_RAFT_MSG_APPEND_REPLY);
    assert_true(received.m.match == 9 && (received.m.flags & FLURM_RAFT_MSGF_SUCCESS));
    peers_status(B, 1, &st);
    assert_int_equal(st.as_answer, b0.as_answer + 1);   /* the answer to A's Append */
    assert_int_equal(st.sent, b0.sent + 1);
    peers_status(A, 2, &st);
    assert_int_equal(st.received, a0.received + 1);

    /* B says nothing back: A's 40 requests (more than the contexts it has) all arrive, the
     * later ones once the earlier were answered empty */
    memset(&received, 0, sizeof received);
    for (int i = 0; i < 40; i++) {
        if (i == 30)
            run_until(never, 0.5);
        peers_send(A, &ap);
    }
    assert_true(run_until(received_40, 5));
    peers_status(A, 2, &st);
    assert_int_equal(st.dropped, a0.dropped);
    assert_int_equal(st.as_answer, a0.as_answer);
}

static void test_peers_message_claiming_another_sender_is_refused(void **state)
{
    (void)state;
    memset(&received, 0, sizeof received);
    /* A's channel is member 1's: a message from "2" on it is refused, not delivered */
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 2, .to = 2, .term = 9 };
    peers_send(A, &m);
    run_until(never, 0.3);
    assert_int_equal(received.n, 0);
    /* nor one addressed to another member */
    m.from = 1;
    m.to = 1;
    peers_send(A, &m);   /* to itself: not sent at all */
    run_until(never, 0.1);
    assert_int_equal(received.n, 0);
    assert_true(connected(A, 2));
}

static bool forward_done_once(void);
static outcome_t out;

static bool forward_done_once(void)
{
    return out.n == 1;
}

static void test_peers_forward_round_trip(void **state)
{
    (void)state;
    memset(&out, 0, sizeof out);
    memset(&forwarded, 0, sizeof forwarded);
    forwarded.mode = ANSWER_NOW;
    peers_forward(A, 2, 77, 1000, 100, "10.0.0.5:45678", "the request", 11, forward_done, &out);
    assert_int_equal(out.n, 0);   /* never inside peers_forward() */
    assert_true(run_until(forward_done_once, 5));
    assert_int_equal(forwarded.n, 1);
    assert_int_equal(forwarded.uid, 1000);
    assert_int_equal(forwarded.gid, 100);
    assert_string_equal(forwarded.addr, "10.0.0.5:45678");
    assert_string_equal(forwarded.frame, "the request");
    assert_false(out.null);
    assert_int_equal(out.status, PEERS_FWD_ANSWERED);
    assert_int_equal(out.len, 11);
    assert_string_equal(out.reply, "reply to it");
}

static void test_peers_forward_empty_answer_is_not_null(void **state)
{
    (void)state;
    memset(&out, 0, sizeof out);
    memset(&forwarded, 0, sizeof forwarded);
    forwarded.mode = ANSWER_EMPTY;
    peers_forward(B, 1, 78, 0, 0, NULL, "x", 1, forward_done, &out);
    assert_true(run_until(forward_done_once, 5));
    assert_false(out.null);   /* the leader handled nothing: route again */
    assert_int_equal(out.status, PEERS_FWD_ANSWERED);
    assert_int_equal(out.len, 0);
}

static void test_peers_forward_to_no_member_fails_after_the_call(void **state)
{
    (void)state;
    memset(&out, 0, sizeof out);
    peers_forward(A, 1, 79, 0, 0, NULL, "x", 1, forward_done, &out);   /* itself */
    assert_int_equal(out.n, 0);
    assert_true(run_until(forward_done_once, 1));
    assert_true(out.null);
    assert_int_equal(out.status, PEERS_FWD_NOT_SENT);
    memset(&out, 0, sizeof out);
    peers_forward(A, 5, 80, 0, 0, NULL, "x", 1, forward_done, &out);
    assert_true(run_until(forward_done_once, 1));
    assert_true(out.null);
    assert_int_equal(out.status, PEERS_FWD_NOT_SENT);
}

static bool held_token(void)
{
    return forwarded.token != NULL;
}

/* A member that stops leading may be hung: its forwards complete at once (LOST: they left), a
 * late answer is dropped, and the link keeps working. */
static void test_peers_abandoned_forward_completes_once(void **state)
{
    (void)state;
    memset(&out, 0, sizeof out);
    memset(&forwarded, 0, sizeof forwarded);
    forwarded.mode = HOLD;
    peers_forward(A, 2, 91, 0, 0, NULL, "held", 4, forward_done, &out);
    assert_true(run_until(held_token, 5));
    peers_forward_abandon(A, 2);
    assert_int_equal(out.n, 0);   /* on the next loop turn, not inside the call */
    assert_true(run_until(forward_done_once, 1));
    assert_true(out.null);
    assert_int_equal(out.status, PEERS_FWD_LOST);
    peers_forward_reply(B, forwarded.token, "late", 4);
    run_until(never, 0.3);
    assert_int_equal(out.n, 1);   /* the late answer changed nothing */
    forwarded.mode = ANSWER_NOW;
    memset(&out, 0, sizeof out);
    peers_forward(A, 2, 92, 0, 0, NULL, "again", 5, forward_done, &out);
    assert_true(run_until(forward_done_once, 5));
    assert_int_equal(out.status, PEERS_FWD_ANSWERED);
    assert_string_equal(out.reply, "reply to it");
}

static void test_peers_stop_completes_forwards_and_is_noticed(void **state)
{
    (void)state;
    memset(&out, 0, sizeof out);
    memset(&forwarded, 0, sizeof forwarded);
    forwarded.mode = HOLD;
    peers_forward(A, 2, 81, 0, 0, NULL, "held", 4, forward_done, &out);
    assert_true(run_until(held_token, 5));
    stop_ctl(A);
    assert_null(A->peers);
    assert_int_equal(out.n, 1);   /* completed by the stop */
    assert_true(out.null);
    assert_int_equal(out.status, PEERS_FWD_LOST);   /* it had left: outcome unknown */
    peers_forward_reply(B, forwarded.token, "late", 4);   /* its connection is gone: nothing */
    peers_forward_reply(A, forwarded.token, "late", 4);   /* stopped: nothing */
    peers_send(A, &(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 1 });
    assert_true(run_until(b_lost_a, 5));

    /* a forward to a member that is not connected fails at once */
    memset(&out, 0, sizeof out);
    peers_forward(B, 1, 82, 0, 0, NULL, "x", 1, forward_done, &out);
    assert_true(run_until(forward_done_once, 1));
    assert_true(out.null);
    assert_int_equal(out.status, PEERS_FWD_NOT_SENT);
    peers_member_status_t st;
    peers_status(B, 1, &st);
    assert_true(st.dropped >= 1);
}

static void test_peers_restarted_member_is_found_again(void **state)
{
    (void)state;
    A->workers = pool_start(loop, 4);
    assert_non_null(A->workers);
    assert_int_equal(peers_start(A), 0);
    assert_true(run_until(both_connected, 10));
    memset(&received, 0, sizeof received);
    peers_send(B, &(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 2, .to = 1, .term = 2 });
    assert_true(run_until(one_received, 5));
    assert_int_equal(received.at, 1);
}

static atomic_bool aio_done;

static void on_aio(void *arg)
{
    (void)arg;
    atomic_store(&aio_done, true);
}

/* Runs the loop until AIO completes (at most 5 s). */
static void wait_aio(void)
{
    for (int i = 0; i < 5000 && !atomic_load(&aio_done); i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(1000);
    }
    atomic_store(&aio_done, false);
}

/* HELLO from a process naming NAME, straight to B's peer port: B's answer's refusal code. */
static flurm_chan_refuse_code_t hello_as(const char *name)
{
    nng_socket s;
    assert_int_equal(nng_req0_open(&s), 0);
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.2:%u", port);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello;
    flurm_buf_init(&hello);
    assert_int_equal(flurm_chan_hello(auth, FLURM_CHAN_PEER, name, &hs, &hello, NULL), FLURM_OK);
    nng_msg *m;
    assert_int_equal(nng_msg_alloc(&m, hello.size), 0);
    memcpy(nng_msg_body(m), hello.data, hello.size);
    nng_aio *aio;
    assert_int_equal(nng_aio_alloc(&aio, on_aio, NULL), 0);
    nng_aio_set_msg(aio, m);
    nng_aio_set_timeout(aio, 5000);
    nng_send_aio(s, aio);
    wait_aio();   /* the loop must run for B to answer */
    assert_int_equal(nng_aio_result(aio), 0);
    nng_recv_aio(s, aio);
    wait_aio();
    assert_int_equal(nng_aio_result(aio), 0);
    nng_msg *r = nng_aio_get_msg(aio);
    flurm_chan_refuse_code_t code = 0;
    char text[256];
    if (flurm_chan_refusal(nng_msg_body(r), nng_msg_len(r), &code, text, sizeof text) == FLURM_OK)
        print_message("%s: refused: %s\n", name, text);
    nng_msg_free(r);
    nng_aio_free(aio);
    flurm_chan_hs_free(hs);
    flurm_buf_release(&hello);
    nng_close(s);
    return code;
}

static void test_peers_listener_admits_other_members_only(void **state)
{
    (void)state;
    assert_int_equal(hello_as("intruder"), FLURM_CHAN_REFUSE_UNAUTHORIZED);
    assert_int_equal(hello_as("b"), FLURM_CHAN_REFUSE_UNAUTHORIZED);   /* B's own name */
    assert_true(both_connected());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_two_controllers_connect_both_ways),
        cmocka_unit_test(test_peers_raft_message_reaches_commit_receive),
        cmocka_unit_test(test_peers_reply_rides_back_on_the_request),
        cmocka_unit_test(test_peers_message_claiming_another_sender_is_refused),
        cmocka_unit_test(test_peers_forward_round_trip),
        cmocka_unit_test(test_peers_forward_empty_answer_is_not_null),
        cmocka_unit_test(test_peers_forward_to_no_member_fails_after_the_call),
        cmocka_unit_test(test_peers_abandoned_forward_completes_once),
        cmocka_unit_test(test_peers_stop_completes_forwards_and_is_noticed),
        cmocka_unit_test(test_peers_restarted_member_is_found_again),
        cmocka_unit_test(test_peers_listener_admits_other_members_only),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
