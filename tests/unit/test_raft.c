/* tests/unit/test_raft.c — single behaviours of the Raft core (libflurm/raft), one core driven
 * by hand-made messages. Whole-cluster behaviour is in tests/sim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/raft.h>

static const uint64_t ids5[] = { 1, 2, 3, 4, 5 };

static flurm_raft_t *core(uint64_t id, bool pre_vote, const flurm_raft_persisted_t *p)
{
    flurm_raft_config_t c = { .size = sizeof c, .id = id, .n_voters = 5, .voters = ids5, .pre_vote = pre_vote,
                              .election_timeout_min_ms = 100, .election_timeout_max_ms = 200, .heartbeat_ms = 10,
                              .seed = 7 };
    flurm_err_t err;
    flurm_raft_t *r = flurm_raft_new(&c, p, &err);
    assert_non_null(r);
    assert_int_equal(err, FLURM_OK);
    return r;
}

static flurm_raft_update_t u;

static flurm_err_t recv_msg(flurm_raft_t *r, uint64_t now, flurm_raft_msg_t m)
{
    m.to = flurm_raft_id(r);
    return flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = now, .msg = &m }, &u);
}

static void tick(flurm_raft_t *r, uint64_t now)
{
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = now }, &u), FLURM_OK);
}

static void persisted(flurm_raft_t *r, uint64_t now, uint64_t index, uint64_t term)
{
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PERSISTED, .now_ms = now,
                                                               .index = index, .term = term }, &u), FLURM_OK);
}

static const flurm_raft_msg_t *find(uint32_t type, uint64_t to)
{
    for (size_t i = 0; i < u.n_msgs; i++)
        if (u.msgs[i].type == type && (to == 0 || u.msgs[i].to == to)) return &u.msgs[i];
    return NULL;
}

/* Makes core 1 leader of its next term (no pre-vote) with votes from 2 and 3; returns the time. */
static uint64_t make_leader(flurm_raft_t *r)
{
    uint64_t now = 300;
    tick(r, now);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_CANDIDATE);
    uint64_t term = flurm_raft_term(r);
    for (uint64_t from = 2; from <= 3; from++)
        assert_int_equal(recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE_REPLY, .from = from, .term = term,
                                                               .flags = FLURM_RAFT_MSGF_GRANTED }), FLURM_OK);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_LEADER);
    return now;
}

static void test_raft_grants_one_vote_per_term_to_up_to_date_candidates(void **state)
{
    (void)state;
    flurm_raft_t *r = core(2, false, NULL);
    recv_msg(r, 1, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 3, .term = 1 });
    const flurm_raft_msg_t *m = find(FLURM_RAFT_MSG_VOTE_REPLY, 3);
    assert_non_null(m);
    assert_true(m->flags & FLURM_RAFT_MSGF_GRANTED);
    assert_true(u.hard_state_changed);
    assert_int_equal(u.voted_for, 3);
    recv_msg(r, 2, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 4, .term = 1 });
    assert_false(find(FLURM_RAFT_MSG_VOTE_REPLY, 4)->flags & FLURM_RAFT_MSGF_GRANTED);
    flurm_raft_free(r);

    /* A candidate whose log is behind ours is refused. */
    flurm_raft_entry_t e[2] = { { .index = 1, .term = 1 }, { .index = 2, .term = 2 } };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 2, .entries = e, .n_entries = 2 };
    r = core(2, false, &p);
    recv_msg(r, 1, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 3, .term = 3, .log_index = 5, .log_term = 1 });
    assert_false(find(FLURM_RAFT_MSG_VOTE_REPLY, 3)->flags & FLURM_RAFT_MSGF_GRANTED);
    assert_int_equal(flurm_raft_term(r), 3);
    flurm_raft_free(r);
}

static void test_raft_pre_vote_changes_neither_term_nor_vote(void **state)
{
    (void)state;
    flurm_raft_t *r = core(1, true, NULL);
    tick(r, 300);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_PRECANDIDATE);
    assert_int_equal(flurm_raft_term(r), 0);
    const flurm_raft_msg_t *m = find(FLURM_RAFT_MSG_VOTE, 2);
    assert_non_null(m);
    assert_true(m->flags & FLURM_RAFT_MSGF_PRE_VOTE);
    assert_int_equal(m->term, 1);

    flurm_raft_t *f = core(2, true, NULL);
    recv_msg(f, 5, *m);
    const flurm_raft_msg_t *rep = find(FLURM_RAFT_MSG_VOTE_REPLY, 1);
    assert_true(rep->flags & FLURM_RAFT_MSGF_GRANTED);
    assert_false(u.hard_state_changed);
    assert_int_equal(flurm_raft_term(f), 0);

    /* Two pre-vote grants make a majority of five: now the real election, term 1. */
    for (uint64_t from = 2; from <= 3; from++)
        recv_msg(r, 301, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE_REPLY, .from = from, .term = 1,
                                             .flags = FLURM_RAFT_MSGF_PRE_VOTE | FLURM_RAFT_MSGF_GRANTED });
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_CANDIDATE);
    assert_int_equal(flurm_raft_term(r), 1);
    flurm_raft_free(r);
    flurm_raft_free(f);
}

static void test_raft_follower_with_live_leader_ignores_votes_unless_transfer(void **state)
{
    (void)state;
    flurm_raft_t *r = core(2, true, NULL);
    recv_msg(r, 10, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 1 });
    assert_int_equal(flurm_raft_leader(r), 1);
    recv_msg(r, 20, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 3, .term = 2, .flags = FLURM_RAFT_MSGF_PRE_VOTE });
    assert_null(find(FLURM_RAFT_MSG_VOTE_REPLY, 3));
    recv_msg(r, 20, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 3, .term = 2 });
    assert_null(find(FLURM_RAFT_MSG_VOTE_REPLY, 3));
    assert_int_equal(flurm_raft_term(r), 1);
    recv_msg(r, 20, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 3, .term = 2, .flags = FLURM_RAFT_MSGF_TRANSFER });
    assert_true(find(FLURM_RAFT_MSG_VOTE_REPLY, 3)->flags & FLURM_RAFT_MSGF_GRANTED);
    flurm_raft_free(r);
}

/* Figure 8: an entry of an older term is not committed by counting replicas. */
static void test_raft_leader_commits_only_its_own_term_by_counting(void **state)
{
    (void)state;
    flurm_raft_entry_t e[2] = { { .index = 1, .term = 1 }, { .index = 2, .term = 2 } };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 2, .entries = e, .n_entries = 2 };
    flurm_raft_t *r = core(1, false, &p);
    uint64_t now = make_leader(r);
    assert_int_equal(flurm_raft_term(r), 3);
    assert_int_equal(u.n_entries, 1);   /* the no-op, index 3 */
    assert_int_equal(u.entries[0].type, FLURM_RAFT_ENTRY_NOOP);
    persisted(r, now, 3, 3);
    for (uint64_t from = 2; from <= 3; from++)
        recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = from, .term = 3,
                                             .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 2 });
    assert_int_equal(flurm_raft_commit_index(r), 0);
    for (uint64_t from = 2; from <= 3; from++)
        recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = from, .term = 3,
                                             .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 3 });
    assert_int_equal(flurm_raft_commit_index(r), 3);
    assert_int_equal(u.n_committed, 3);
    flurm_raft_free(r);
}

/* The leader's own copy counts only once the host reports it durable. */
static void test_raft_leader_counts_itself_once_persisted(void **state)
{
    (void)state;
    flurm_raft_t *r = core(1, false, NULL);
    uint64_t now = make_leader(r);
    recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 2, .term = 1,
                                         .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
    assert_int_equal(flurm_raft_commit_index(r), 0);
    persisted(r, now, 1, 1);
    assert_int_equal(flurm_raft_commit_index(r), 0);   /* 2 of 5 */
    recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 3, .term = 1,
                                         .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
    assert_int_equal(flurm_raft_commit_index(r), 1);
    flurm_raft_free(r);
}

/* Commit news: at once by an empty append to each caught-up follower, or (LAZY_COMMIT) with the
 * next heartbeat only. */
static size_t empty_appends_with_commit(uint64_t commit)
{
    size_t n = 0;
    for (size_t i = 0; i < u.n_msgs; i++)
        n += u.msgs[i].type == FLURM_RAFT_MSG_APPEND && u.msgs[i].n_entries == 0 && u.msgs[i].commit == commit;
    return n;
}

static void test_raft_lazy_commit_waits_for_the_heartbeat(void **state)
{
    (void)state;
    for (int lazy = 0; lazy <= 1; lazy++) {
        flurm_raft_config_t c = { .size = sizeof c, .id = 1, .n_voters = 5, .voters = ids5,
                                  .election_timeout_min_ms = 100, .election_timeout_max_ms = 200,
                                  .heartbeat_ms = 10, .seed = 7,
                                  .flags = lazy ? FLURM_RAFT_CONFIG_LAZY_COMMIT : 0 };
        flurm_err_t err;
        flurm_raft_t *r = flurm_raft_new(&c, NULL, &err);
        assert_non_null(r);
        uint64_t now = make_leader(r);
        persisted(r, now, 1, 1);
        recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 2, .term = 1,
                                             .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
        recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 3, .term = 1,
                                             .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
        assert_int_equal(flurm_raft_commit_index(r), 1);
        assert_int_equal(empty_appends_with_commit(1), lazy ? 0 : 2);   /* followers 2 and 3 */
        tick(r, now + 10);   /* the heartbeat tells everyone */
        assert_true(empty_appends_with_commit(1) >= 2);
        flurm_raft_free(r);
    }
}

/* D4: a heartbeat reply vouches only for what the heartbeat verified, never for an unverified
 * tail from an older term. */
static void test_raft_append_reply_matches_only_verified_prefix(void **state)
{
    (void)state;
    flurm_raft_entry_t e[4] = { { .index = 1, .term = 1 }, { .index = 2, .term = 1 }, { .index = 3, .term = 1 },
                                { .index = 4, .term = 1 } };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 1, .entries = e, .n_entries = 4 };
    flurm_raft_t *r = core(2, false, &p);
    recv_msg(r, 10, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 5, .term = 2, .log_index = 1, .log_term = 1,
                                        .commit = 1 });
    const flurm_raft_msg_t *m = find(FLURM_RAFT_MSG_APPEND_REPLY, 5);
    assert_non_null(m);
    assert_true(m->flags & FLURM_RAFT_MSGF_SUCCESS);
    assert_int_equal(m->match, 1);
    assert_int_equal(flurm_raft_commit_index(r), 1);
    /* leader_commit 4 does not commit the unverified tail either */
    recv_msg(r, 11, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 5, .term = 2, .log_index = 2, .log_term = 1,
                                        .commit = 4 });
    assert_int_equal(find(FLURM_RAFT_MSG_APPEND_REPLY, 5)->match, 2);
    assert_int_equal(flurm_raft_commit_index(r), 2);
    /* a conflicting entry replaces the tail */
    flurm_raft_entry_t x = { .index = 3, .term = 2 };
    recv_msg(r, 12, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 5, .term = 2, .log_index = 2, .log_term = 1,
                                        .commit = 2, .entries = &x, .n_entries = 1 });
    assert_int_equal(u.truncate_from, 3);
    assert_int_equal(u.n_entries, 1);
    assert_int_equal(flurm_raft_last_index(r), 3);
    assert_int_equal(find(FLURM_RAFT_MSG_APPEND_REPLY, 5)->match, 3);
    flurm_raft_free(r);
}

static void test_raft_reject_carries_conflict_term_for_fast_backtracking(void **state)
{
    (void)state;
    flurm_raft_entry_t e[4] = { { .index = 1, .term = 1 }, { .index = 2, .term = 2 }, { .index = 3, .term = 2 },
                                { .index = 4, .term = 2 } };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 2, .entries = e, .n_entries = 4 };
    flurm_raft_t *f = core(2, false, &p);
    recv_msg(f, 10, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 4, .log_index = 4, .log_term = 3 });
    const flurm_raft_msg_t *m = find(FLURM_RAFT_MSG_APPEND_REPLY, 1);
    assert_false(m->flags & FLURM_RAFT_MSGF_SUCCESS);
    assert_int_equal(m->reject_index, 4);
    assert_int_equal(m->conflict_term, 2);
    assert_int_equal(m->conflict_index, 2);
    flurm_raft_msg_t rej = *m;

    /* The leader (log 1@1, 2@3, 3@3, 4@3 ... ) has no term-2 entry: it retries from index 2. */
    flurm_raft_entry_t le[4] = { { .index = 1, .term = 1 }, { .index = 2, .term = 3 }, { .index = 3, .term = 3 },
                                 { .index = 4, .term = 3 } };
    flurm_raft_persisted_t lp = { .size = sizeof lp, .term = 3, .entries = le, .n_entries = 4 };
    flurm_raft_t *r = core(1, false, &lp);
    uint64_t now = make_leader(r);
    rej.term = flurm_raft_term(r);
    rej.reject_index = 5;   /* the leader's first probe was at its old last index + 1 - 1 */
    recv_msg(r, now, rej);
    const flurm_raft_msg_t *a = find(FLURM_RAFT_MSG_APPEND, 2);
    assert_non_null(a);
    assert_int_equal(a->log_index, 1);
    assert_int_equal(a->log_term, 1);
    flurm_raft_free(f);
    flurm_raft_free(r);
}

static void test_raft_leader_steps_down_without_quorum(void **state)
{
    (void)state;
    flurm_raft_t *r = core(1, false, NULL);
    uint64_t now = make_leader(r);
    for (uint64_t from = 2; from <= 3; from++)
        recv_msg(r, now + 50, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = from, .term = 1,
                                                  .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
    for (uint64_t t = now; t <= now + 100; t += 10) tick(r, t);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_LEADER);   /* contact within the timeout */
    for (uint64_t t = now + 100; t <= now + 250; t += 10) tick(r, t);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_FOLLOWER);
    assert_true(u.soft_state_changed || flurm_raft_leader(r) == FLURM_RAFT_NONE);
    assert_int_equal(flurm_raft_term(r), 1);
    flurm_raft_free(r);
}

static void test_raft_transfer_sends_timeout_now_and_refuses_proposals(void **state)
{
    (void)state;
    flurm_raft_t *r = core(1, false, NULL);
    uint64_t now = make_leader(r);
    persisted(r, now, 1, 1);
    recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 2, .term = 1,
                                         .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TRANSFER, .now_ms = now, .target = 2 }, &u),
                     FLURM_OK);
    assert_non_null(find(FLURM_RAFT_MSG_TIMEOUT_NOW, 2));
    uint64_t v = 1;
    const void *cmd = &v;
    uint32_t len = 8;
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PROPOSE, .now_ms = now, .commands = &cmd,
                                                                .lens = &len, .n_commands = 1 }, &u),
                     FLURM_EAGAIN);
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TRANSFER, .now_ms = now, .target = 9 }, &u),
                     FLURM_EAGAIN);

    /* The target campaigns at once, past leader stickiness. */
    flurm_raft_t *t = core(2, true, NULL);
    recv_msg(t, 5, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 1 });
    recv_msg(t, 6, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 1, .term = 1 });
    assert_int_equal(flurm_raft_role(t), FLURM_RAFT_CANDIDATE);
    const flurm_raft_msg_t *m = find(FLURM_RAFT_MSG_VOTE, 3);
    assert_true(m->flags & FLURM_RAFT_MSGF_TRANSFER);
    assert_false(m->flags & FLURM_RAFT_MSGF_PRE_VOTE);
    flurm_raft_free(r);
    flurm_raft_free(t);
}

static void test_raft_follower_installs_snapshot(void **state)
{
    (void)state;
    flurm_raft_t *r = core(2, false, NULL);
    flurm_raft_msg_t m = { .type = FLURM_RAFT_MSG_SNAPSHOT, .from = 1, .term = 3, .data = "state", .len = 5 };
    m.snapshot = (flurm_raft_snapshot_meta_t){ .index = 50, .term = 2, .n_voters = 5, .voters = { 1, 2, 3, 4, 5 } };
    recv_msg(r, 10, m);
    assert_non_null(u.snapshot);
    assert_int_equal(u.snapshot->index, 50);
    assert_int_equal(u.snapshot_len, 5);
    assert_memory_equal(u.snapshot_data, "state", 5);
    const flurm_raft_msg_t *rep = find(FLURM_RAFT_MSG_SNAPSHOT_REPLY, 1);
    assert_true(rep->flags & FLURM_RAFT_MSGF_SUCCESS);
    assert_int_equal(rep->match, 50);
    assert_int_equal(flurm_raft_commit_index(r), 50);
    assert_int_equal(flurm_raft_last_index(r), 50);
    flurm_raft_entry_t e = { .index = 51, .term = 3 };
    recv_msg(r, 11, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 50, .log_term = 2,
                                        .entries = &e, .n_entries = 1, .commit = 51 });
    assert_int_equal(find(FLURM_RAFT_MSG_APPEND_REPLY, 1)->match, 51);
    flurm_raft_free(r);
}

static void test_raft_leader_sends_snapshot_for_compacted_log(void **state)
{
    (void)state;
    flurm_raft_t *r = core(1, false, NULL);
    uint64_t now = make_leader(r);
    persisted(r, now, 1, 1);
    for (uint64_t from = 2; from <= 3; from++)
        recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = from, .term = 1,
                                             .flags = FLURM_RAFT_MSGF_SUCCESS, .match = 1 });
    assert_int_equal(flurm_raft_applied_index(r), 1);
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = now, .index = 2 }, &u),
                     FLURM_ERANGE);
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = now, .index = 1 }, &u),
                     FLURM_OK);
    assert_int_equal(flurm_raft_snapshot_index(r), 1);
    /* trailing entries keep index 1 in memory; a follower that rejects at 0 still gets entries */
    recv_msg(r, now, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND_REPLY, .from = 4, .term = 1, .reject_index = 0 });
    flurm_raft_free(r);
}

static void test_raft_restart_resumes_from_persisted_state(void **state)
{
    (void)state;
    flurm_raft_entry_t e[3] = { { .index = 11, .term = 4 }, { .index = 12, .term = 5 }, { .index = 13, .term = 5 } };
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 6, .voted_for = 3, .entries = e, .n_entries = 3 };
    p.snapshot = (flurm_raft_snapshot_meta_t){ .index = 10, .term = 4, .n_voters = 3, .voters = { 1, 2, 3 } };
    flurm_raft_t *r = core(1, false, &p);
    assert_int_equal(flurm_raft_term(r), 6);
    assert_int_equal(flurm_raft_last_index(r), 13);
    assert_int_equal(flurm_raft_commit_index(r), 10);
    assert_int_equal(flurm_raft_snapshot_index(r), 10);
    flurm_raft_member_status_t ms[8];
    assert_int_equal(flurm_raft_members(r, ms, 8), 3);   /* the snapshot's configuration wins */
    /* already voted for 3 in term 6 */
    recv_msg(r, 1, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_VOTE, .from = 2, .term = 6, .log_index = 20, .log_term = 6 });
    assert_false(find(FLURM_RAFT_MSG_VOTE_REPLY, 2)->flags & FLURM_RAFT_MSGF_GRANTED);
    tick(r, 500);
    assert_int_equal(flurm_raft_term(r), 7);
    const flurm_raft_msg_t *v = find(FLURM_RAFT_MSG_VOTE, 2);
    assert_int_equal(v->log_index, 13);
    assert_int_equal(v->log_term, 5);
    flurm_raft_free(r);

    /* restored entries must follow the snapshot */
    p.entries = e + 1;
    p.n_entries = 2;
    flurm_err_t err;
    flurm_raft_config_t c = { .size = sizeof c, .id = 1, .n_voters = 5, .voters = ids5 };
    assert_null(flurm_raft_new(&c, &p, &err));
    assert_int_equal(err, FLURM_EINVAL);
}

static void test_raft_single_server_commits_after_persist(void **state)
{
    (void)state;
    const uint64_t one = 1;
    flurm_raft_config_t c = { .size = sizeof c, .id = 1, .n_voters = 1, .voters = &one, .pre_vote = 1 };
    flurm_raft_t *r = flurm_raft_new(&c, NULL, NULL);
    assert_non_null(r);
    tick(r, 5000);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_LEADER);
    uint64_t v = 42;
    const void *cmd = &v;
    uint32_t len = 8;
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PROPOSE, .now_ms = 5000, .commands = &cmd,
                                                                .lens = &len, .n_commands = 1 }, &u),
                     FLURM_OK);
    assert_int_equal(u.first_index, 2);
    assert_int_equal(flurm_raft_commit_index(r), 0);
    persisted(r, 5001, 2, 1);
    assert_int_equal(flurm_raft_commit_index(r), 2);
    assert_int_equal(u.n_committed, 2);
    assert_memory_equal(u.committed[1].data, &v, 8);
    flurm_raft_free(r);
}

/* ---- membership ---- */

/* The public structs kept their size and layout (members carved from reserved space). */
struct old_event { uint32_t kind, reserved0; uint64_t now_ms; const void *msg; const void *const *c; const uint32_t *l;
                   size_t n; uint64_t index, term, target, reserved[4]; };
struct old_member { uint64_t id, m, n, c; uint32_t state, reserved0; uint64_t reserved[2]; };
_Static_assert(sizeof(flurm_raft_event_t) == sizeof(struct old_event), "event size");
_Static_assert(offsetof(flurm_raft_event_t, change) == offsetof(struct old_event, reserved0), "event.change");
_Static_assert(sizeof(flurm_raft_member_status_t) == sizeof(struct old_member), "member size");
_Static_assert(offsetof(flurm_raft_member_status_t, flags) == offsetof(struct old_member, reserved0), "member.flags");
_Static_assert(sizeof(flurm_raft_snapshot_meta_t) == 8 + 8 + 4 + 4 + 8 * FLURM_RAFT_MAX_MEMBERS, "meta size");
_Static_assert(sizeof(flurm_raft_update_t) == offsetof(flurm_raft_update_t, config_changed) + 8 + 7 * 8, "update size");
_Static_assert(offsetof(flurm_raft_update_t, config_changed) == offsetof(flurm_raft_update_t, proposed_term) + 8,
               "config_changed where reserved[0] was");

/* The canonical CONFIG data for voters V (NV) and learners L (NL), sorted by the caller. */
static uint32_t conf_bytes(uint8_t *b, const uint64_t *v, uint32_t nv, const uint64_t *l, uint32_t nl)
{
    b[0] = 1;
    b[1] = (uint8_t)nv;
    b[2] = (uint8_t)nl;
    b[3] = 0;
    for (uint32_t i = 0; i < nv + nl; i++) {
        uint64_t x = i < nv ? v[i] : l[i - nv];
        for (int k = 0; k < 8; k++) b[4 + 8 * i + k] = (uint8_t)(x >> (56 - 8 * k));
    }
    return 4 + 8 * (nv + nl);
}

/* A cluster of cores 1..CN on an instant, lossless network with instant disks: each update is
 * persisted at once, then its messages queued (FIFO). DOWN nodes neither send nor receive. */
#define CN 5
typedef struct qmsg {
    flurm_raft_msg_t m;
    flurm_raft_entry_t *ents;
    uint8_t *blob;
} qmsg_t;

typedef struct cl {
    flurm_raft_t *r[CN + 1];
    bool down[CN + 1];
    qmsg_t *q;
    size_t head, n, cap;
    uint64_t now;
    uint64_t applied[CN + 1];
    uint32_t applied_configs[CN + 1];
} cl_t;

static void cl_step(cl_t *c, uint64_t id, const flurm_raft_event_t *ev, flurm_err_t *rc_out);

static void cl_handle(cl_t *c, uint64_t id, const flurm_raft_update_t *x)
{
    for (size_t i = 0; i < x->n_msgs; i++) {
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 64;
            c->q = realloc(c->q, c->cap * sizeof *c->q);
            assert_non_null(c->q);
        }
        qmsg_t *qm = &c->q[c->n++];
        qm->m = x->msgs[i];
        qm->ents = NULL;
        qm->blob = NULL;
        if (qm->m.n_entries) {
            size_t total = 0;
            for (size_t k = 0; k < qm->m.n_entries; k++) total += qm->m.entries[k].len;
            qm->ents = malloc(qm->m.n_entries * sizeof *qm->ents);
            qm->blob = malloc(total + 1);
            assert_true(qm->ents && qm->blob);
            size_t off = 0;
            for (size_t k = 0; k < qm->m.n_entries; k++) {
                qm->ents[k] = qm->m.entries[k];
                if (qm->ents[k].len) {
                    memcpy(qm->blob + off, qm->m.entries[k].data, qm->ents[k].len);
                    qm->ents[k].data = qm->blob + off;
                    off += qm->ents[k].len;
                }
            }
            qm->m.entries = qm->ents;
        }
        if (qm->m.type == FLURM_RAFT_MSG_SNAPSHOT) {
            qm->m.data = NULL;   /* host contract 3: an empty state machine */
            qm->m.len = 0;
        }
    }
    for (size_t i = 0; i < x->n_committed; i++) {
        assert_int_equal(x->committed[i].index, c->applied[id] + 1);
        c->applied[id] = x->committed[i].index;
        if (x->committed[i].type == FLURM_RAFT_ENTRY_CONFIG) c->applied_configs[id]++;
    }
    bool snap = x->snapshot != NULL;
    uint64_t si = snap ? x->snapshot->index : 0, st = snap ? x->snapshot->term : 0;
    if (snap) c->applied[id] = si;
    uint64_t li = x->n_entries ? x->entries[x->n_entries - 1].index : 0;
    uint64_t lt = x->n_entries ? x->entries[x->n_entries - 1].term : 0;
    if (snap) cl_step(c, id, &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_INSTALLED, .index = si, .term = st }, NULL);
    if (li) cl_step(c, id, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PERSISTED, .index = li, .term = lt }, NULL);
}

static flurm_raft_update_t cl_last;   /* the update of the last cl_step at top level */

static void cl_step(cl_t *c, uint64_t id, const flurm_raft_event_t *ev, flurm_err_t *rc_out)
{
    flurm_raft_update_t x;
    flurm_raft_event_t e = *ev;
    e.now_ms = c->now;
    flurm_err_t rc = flurm_raft_step(c->r[id], &e, &x);
    if (rc_out) {
        *rc_out = rc;
        cl_last = x;
    } else {
        assert_int_equal(rc, FLURM_OK);
    }
    cl_handle(c, id, &x);
}

static void cl_deliver(cl_t *c)
{
    for (int guard = 0; c->head < c->n && guard < 100000; guard++) {
        qmsg_t qm = c->q[c->head++];
        uint64_t to = qm.m.to, from = qm.m.from;
        if (to >= 1 && to <= CN && !c->down[to] && !c->down[from])
            cl_step(c, to, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .msg = &qm.m }, NULL);
        free(qm.ents);
        free(qm.blob);
    }
    assert_int_equal(c->head, c->n);
    c->head = c->n = 0;
}

/* Time passes in 10 ms ticks, messages delivered after each. */
static void cl_run(cl_t *c, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += 10) {
        c->now += 10;
        for (uint64_t id = 1; id <= CN; id++)
            if (!c->down[id]) cl_step(c, id, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK }, NULL);
        cl_deliver(c);
    }
}

static const uint64_t boot3[] = { 1, 2, 3 };

static flurm_raft_t *cl_core(uint64_t id, const flurm_raft_persisted_t *p)
{
    flurm_raft_config_t cfg = { .size = sizeof cfg, .id = id, .n_voters = 3, .voters = boot3, .pre_vote = 1,
                                .election_timeout_min_ms = 100, .election_timeout_max_ms = 200, .heartbeat_ms = 10,
                                .max_entries_per_msg = 4, .trailing_entries = 1, .seed = 11 };
    flurm_err_t err;
    flurm_raft_t *r = flurm_raft_new(&cfg, p, &err);
    assert_non_null(r);
    return r;
}

/* Servers 1..5, bootstrap voters 1, 2, 3; LEADER elected (TimeoutNow) and its no-op committed. */
static void cl_init(cl_t *c, uint64_t leader)
{
    memset(c, 0, sizeof *c);
    for (uint64_t id = 1; id <= CN; id++) c->r[id] = cl_core(id, NULL);
    c->now = 1;
    cl_step(c, leader, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE,
                                              .msg = &(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_TIMEOUT_NOW,
                                                                          .from = leader % 3 + 1, .to = leader } }, NULL);
    cl_deliver(c);
    assert_int_equal(flurm_raft_role(c->r[leader]), FLURM_RAFT_LEADER);
    cl_run(c, 30);
    assert_int_equal(flurm_raft_commit_index(c->r[leader]), flurm_raft_last_index(c->r[leader]));
}

static void cl_free(cl_t *c)
{
    for (uint64_t id = 1; id <= CN; id++) flurm_raft_free(c->r[id]);
    for (size_t i = c->head; i < c->n; i++) {
        free(c->q[i].ents);
        free(c->q[i].blob);
    }
    free(c->q);
}

static flurm_err_t cl_change(cl_t *c, uint64_t id, uint32_t kind, uint64_t target)
{
    flurm_err_t rc;
    cl_step(c, id, &(flurm_raft_event_t){ .kind = FLURM_RAFT_CHANGE, .change = kind, .target = target }, &rc);
    return rc;
}

static flurm_err_t cl_propose(cl_t *c, uint64_t id, uint64_t *index)
{
    uint64_t v = 7;
    const void *cmd = &v;
    uint32_t len = 8;
    flurm_err_t rc;
    cl_step(c, id, &(flurm_raft_event_t){ .kind = FLURM_RAFT_PROPOSE, .commands = &cmd, .lens = &len, .n_commands = 1 }, &rc);
    if (index) *index = cl_last.first_index;
    return rc;
}

/* Voter and learner ids of R's configuration in force, as "v1,v2/l1". */
static const char *members_str(const flurm_raft_t *r)
{
    static char buf[128];
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(r, ms, FLURM_RAFT_MAX_MEMBERS);
    size_t off = 0;
    bool learners = false;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        bool voter = ms[i].flags & FLURM_RAFT_MEMBER_VOTER;
        const char *sep = !voter && !learners ? "/" : i ? "," : "";
        if (!voter) learners = true;
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%llu", sep, (unsigned long long)ms[i].id);
    }
    return buf;
}

static void test_raft_member_add_learner_catch_up_promote(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    uint64_t base = flurm_raft_last_index(c.r[1]);
    for (int i = 0; i < 10; i++) assert_int_equal(cl_propose(&c, 1, NULL), FLURM_OK);   /* a log to catch up on */
    cl_deliver(&c);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 4), FLURM_OK);
    assert_true(cl_last.config_changed);
    assert_int_equal(cl_last.first_index, base + 11);
    assert_int_equal(cl_last.proposed_term, flurm_raft_term(c.r[1]));
    assert_string_equal(members_str(c.r[1]), "1,2,3/4");   /* in force at once, uncommitted */
    assert_int_equal(flurm_raft_config_index(c.r[1]), base + 11);
    /* the learner is not caught up yet: PROMOTE waits (and another change is pending anyway) */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 4), FLURM_EAGAIN);
    cl_run(&c, 50);
    assert_true(flurm_raft_commit_index(c.r[1]) >= base + 11);
    assert_string_equal(members_str(c.r[4]), "1,2,3/4");   /* the learner knows it is one */
    assert_int_equal(flurm_raft_last_index(c.r[4]), flurm_raft_last_index(c.r[1]));
    assert_int_equal(c.applied_configs[4], 1);
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    assert_int_equal(flurm_raft_members(c.r[1], ms, FLURM_RAFT_MAX_MEMBERS), 4);
    assert_int_equal(ms[3].id, 4);
    assert_int_equal(ms[3].flags, FLURM_RAFT_MEMBER_CAUGHT_UP);
    assert_int_equal(ms[0].flags, FLURM_RAFT_MEMBER_VOTER);
    /* a learner never campaigns, whatever its timer says */
    c.down[1] = c.down[2] = c.down[3] = true;
    cl_run(&c, 1000);
    assert_int_equal(flurm_raft_role(c.r[4]), FLURM_RAFT_FOLLOWER);
    assert_int_equal(flurm_raft_term(c.r[4]), 1);
    cl_free(&c);

    /* Again, through to a voter, and the new majority counts. */
    cl_init(&c, 1);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 4), FLURM_OK);
    cl_run(&c, 50);
    uint64_t at;
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 4), FLURM_OK);
    at = cl_last.first_index;
    assert_true(cl_last.config_changed);
    assert_string_equal(members_str(c.r[1]), "1,2,3,4");
    /* 3 of the 4 voters hold the promotion: with 3 down it commits on 1, 2 and 4 */
    c.down[3] = true;
    cl_run(&c, 30);
    assert_true(flurm_raft_commit_index(c.r[1]) >= at);
    assert_string_equal(members_str(c.r[4]), "1,2,3,4");
    /* with 3 and 4 down, 1 and 2 are no majority of four (they were of three) */
    c.down[4] = true;
    uint64_t x;
    assert_int_equal(cl_propose(&c, 1, &x), FLURM_OK);
    cl_run(&c, 50);
    assert_true(flurm_raft_commit_index(c.r[1]) < x);
    c.down[4] = false;
    cl_run(&c, 50);
    assert_true(flurm_raft_commit_index(c.r[1]) >= x);
    /* 4 votes now: with 1 down, 2 and 4 (and 3) elect one of them */
    c.down[3] = false;
    c.down[1] = true;
    cl_run(&c, 1500);
    int leaders = 0;
    for (uint64_t id = 2; id <= 4; id++) leaders += flurm_raft_role(c.r[id]) == FLURM_RAFT_LEADER;
    assert_int_equal(leaders, 1);
    cl_free(&c);
}

static void test_raft_member_remove_follower(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 3), FLURM_OK);
    uint64_t at = cl_last.first_index;
    assert_string_equal(members_str(c.r[1]), "1,2");
    c.down[3] = true;   /* not needed: 1 and 2 are the whole new configuration */
    cl_run(&c, 30);
    assert_true(flurm_raft_commit_index(c.r[1]) >= at);
    assert_string_equal(members_str(c.r[2]), "1,2");
    uint64_t x;
    assert_int_equal(cl_propose(&c, 1, &x), FLURM_OK);
    cl_run(&c, 30);
    assert_true(flurm_raft_commit_index(c.r[1]) >= x);
    /* the removed server never heard of its removal: it believes it is a voter, but pre-vote and
     * stickiness keep it from disrupting the leader */
    c.down[3] = false;
    uint64_t term = flurm_raft_term(c.r[1]);
    cl_run(&c, 2000);
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_LEADER);
    assert_int_equal(flurm_raft_term(c.r[1]), term);
    assert_true(flurm_raft_last_index(c.r[3]) < at);   /* nobody replicates to it */
    /* removing the last voters: 2 goes, then 1 is the last and cannot go */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 2), FLURM_OK);
    cl_run(&c, 30);
    assert_string_equal(members_str(c.r[1]), "1");
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 1), FLURM_EINVAL);
    assert_int_equal(cl_propose(&c, 1, &x), FLURM_OK);   /* a single voter commits alone */
    assert_true(flurm_raft_commit_index(c.r[1]) >= x);
    cl_free(&c);
}

static void test_raft_member_remove_leader_steps_down_after_commit(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    uint64_t term = flurm_raft_term(c.r[1]);
    c.down[3] = true;
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 1), FLURM_OK);
    uint64_t at = cl_last.first_index;
    assert_string_equal(members_str(c.r[1]), "2,3");
    /* 1 and 2 hold it, but the leader does not count itself: 2 of {2, 3} needed */
    cl_run(&c, 50);
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_LEADER);
    assert_true(flurm_raft_commit_index(c.r[1]) < at);
    uint64_t x;
    assert_int_equal(cl_propose(&c, 1, &x), FLURM_OK);   /* it still leads meanwhile */
    c.down[3] = false;
    cl_run(&c, 30);
    /* committed: it stepped down and handed over (TimeoutNow), someone else leads */
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_FOLLOWER);
    cl_run(&c, 30);
    uint64_t l = flurm_raft_role(c.r[2]) == FLURM_RAFT_LEADER ? 2 : 3;
    assert_int_equal(flurm_raft_role(c.r[l]), FLURM_RAFT_LEADER);
    assert_true(flurm_raft_term(c.r[l]) > term);
    assert_string_equal(members_str(c.r[l]), "2,3");
    assert_int_equal(flurm_raft_entry(c.r[l], x)->term, term);   /* what it accepted meanwhile survives */
    /* the old leader is out for good: it never campaigns */
    c.down[l] = true;
    c.down[5 - l] = true;
    cl_run(&c, 2000);
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_FOLLOWER);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 5), FLURM_EAGAIN);
    cl_free(&c);
}

/* A leader cut off right after appending its own removal holds the only up-to-date log: the
 * remaining voter cannot win without its vote, so it campaigns (counting the new configuration
 * only), commits its removal and hands over. */
static void test_raft_member_removed_leader_with_the_latest_log_finishes_its_removal(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 3), FLURM_OK);
    cl_run(&c, 30);
    assert_string_equal(members_str(c.r[2]), "1,2");
    c.down[2] = c.down[3] = true;
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 1), FLURM_OK);
    uint64_t at = cl_last.first_index;
    cl_run(&c, 400);
    /* check-quorum: 2 is silent; it steps down, and (pre-)campaigns in vain meanwhile */
    assert_int_not_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_LEADER);
    assert_string_equal(members_str(c.r[1]), "2");
    assert_string_equal(members_str(c.r[2]), "1,2");
    assert_true(flurm_raft_last_index(c.r[2]) < at);
    c.down[2] = false;
    cl_run(&c, 2000);
    assert_int_equal(flurm_raft_role(c.r[2]), FLURM_RAFT_LEADER);
    assert_string_equal(members_str(c.r[2]), "2");
    assert_true(flurm_raft_commit_index(c.r[2]) >= at);
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_FOLLOWER);
    /* and once its removal is known committed it stays out */
    assert_true(flurm_raft_commit_index(c.r[1]) >= at);
    uint64_t term = flurm_raft_term(c.r[1]);
    c.down[2] = true;
    cl_run(&c, 2000);
    assert_int_equal(flurm_raft_role(c.r[1]), FLURM_RAFT_FOLLOWER);
    assert_int_equal(flurm_raft_term(c.r[1]), term);
    cl_free(&c);
}

static void test_raft_member_change_refused_when_pending_or_nonsense(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    /* not the leader: EAGAIN and where the leader is */
    assert_int_equal(cl_change(&c, 2, FLURM_RAFT_ADD_LEARNER, 4), FLURM_EAGAIN);
    assert_int_equal(cl_last.leader, 1);
    /* nonsense */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 2), FLURM_EINVAL);   /* a voter already */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 0), FLURM_EINVAL);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 2), FLURM_EINVAL);       /* not a learner */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 4), FLURM_EINVAL);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 4), FLURM_EINVAL);        /* not a member */
    assert_int_equal(cl_change(&c, 1, 99, 4), FLURM_EINVAL);
    /* one at a time: the first is not committed (nothing delivered yet) */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 4), FLURM_OK);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 5), FLURM_EAGAIN);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 4), FLURM_EINVAL);   /* a learner already */
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 4), FLURM_EAGAIN);
    cl_run(&c, 30);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 5), FLURM_OK);
    cl_run(&c, 30);
    /* a learner that does not answer is not caught up */
    c.down[5] = true;
    cl_run(&c, 200);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 5), FLURM_EAGAIN);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_REMOVE, 5), FLURM_OK);   /* a learner can go */
    cl_run(&c, 30);
    assert_string_equal(members_str(c.r[1]), "1,2,3/4");
    /* a new leader accepts no change before its own no-op committed */
    c.down[2] = c.down[3] = true;
    cl_step(&c, 2, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE,
                                          .msg = &(flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_TIMEOUT_NOW, .from = 1,
                                                                      .to = 2, .term = flurm_raft_term(c.r[2]) } },
            NULL);
    c.down[2] = false;
    c.down[1] = true;
    c.down[3] = false;
    /* 2 campaigns: its vote request reaches 3 (and 4, a learner, is not asked) */
    assert_int_equal(flurm_raft_role(c.r[2]), FLURM_RAFT_CANDIDATE);
    for (size_t i = c.head; i < c.n; i++) assert_true(c.q[i].m.to != 4);
    /* deliver only the votes and their replies, not the no-op's replication */
    for (int k = 0; k < 2; k++) {
        size_t end = c.n;
        while (c.head < end) {
            qmsg_t qm = c.q[c.head++];
            if (!c.down[qm.m.to] && qm.m.type != FLURM_RAFT_MSG_APPEND)
                cl_step(&c, qm.m.to, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .msg = &qm.m }, NULL);
            free(qm.ents);
            free(qm.blob);
        }
    }
    assert_int_equal(flurm_raft_role(c.r[2]), FLURM_RAFT_LEADER);
    assert_int_equal(cl_change(&c, 2, FLURM_RAFT_REMOVE, 4), FLURM_EAGAIN);
    cl_deliver(&c);
    cl_run(&c, 30);
    assert_int_equal(cl_change(&c, 2, FLURM_RAFT_REMOVE, 4), FLURM_OK);
    cl_free(&c);
}

/* A log with: 1 no-op (term 1), 2 CONFIG 1,2,3/4 (term 1), 3 CONFIG 1,2,3,4 (term 2). */
static uint8_t cfg_a[64], cfg_b[64];
static flurm_raft_entry_t conf_log[3];
static void make_conf_log(void)
{
    static const uint64_t v3[] = { 1, 2, 3 }, v4[] = { 1, 2, 3, 4 }, l4[] = { 4 };
    conf_log[0] = (flurm_raft_entry_t){ .index = 1, .term = 1, .type = FLURM_RAFT_ENTRY_NOOP };
    conf_log[1] = (flurm_raft_entry_t){ .index = 2, .term = 1, .type = FLURM_RAFT_ENTRY_CONFIG, .data = cfg_a,
                                        .len = conf_bytes(cfg_a, v3, 3, l4, 1) };
    conf_log[2] = (flurm_raft_entry_t){ .index = 3, .term = 2, .type = FLURM_RAFT_ENTRY_CONFIG, .data = cfg_b,
                                        .len = conf_bytes(cfg_b, v4, 4, NULL, 0) };
}

static void test_raft_member_restart_restores_the_last_config_entry(void **state)
{
    (void)state;
    make_conf_log();
    /* an uncommitted CONFIG entry decides on restart */
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 2, .entries = conf_log, .n_entries = 3 };
    flurm_raft_t *r = cl_core(4, &p);
    assert_string_equal(members_str(r), "1,2,3,4");
    assert_int_equal(flurm_raft_config_index(r), 3);
    assert_int_equal(flurm_raft_commit_index(r), 0);
    flurm_raft_snapshot_meta_t m;
    assert_int_equal(flurm_raft_config_at(r, 2, &m), FLURM_OK);
    assert_true(m.index == 2 && m.term == 1 && m.n_voters == 3 && m.n_learners == 1 && m.voters[3] == 4);
    assert_int_equal(flurm_raft_config_at(r, 1, &m), FLURM_OK);   /* before any entry: the bootstrap */
    assert_true(m.n_voters == 3 && m.n_learners == 0);
    assert_int_equal(flurm_raft_config_at(r, 4, &m), FLURM_ERANGE);
    /* 4 is a voter now: it campaigns */
    flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = 1000 }, &u);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_PRECANDIDATE);
    assert_non_null(find(FLURM_RAFT_MSG_VOTE, 1));
    flurm_raft_free(r);

    p.n_entries = 2;   /* the learner configuration */
    r = cl_core(4, &p);
    assert_string_equal(members_str(r), "1,2,3/4");
    flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TICK, .now_ms = 1000 }, &u);
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_FOLLOWER);
    flurm_raft_free(r);

    /* no CONFIG entry after the snapshot: the snapshot's configuration (learners included) */
    p.snapshot = (flurm_raft_snapshot_meta_t){ .index = 2, .term = 1, .n_voters = 2, .n_learners = 1,
                                               .voters = { 1, 2, 4 } };
    p.entries = NULL;
    p.n_entries = 0;
    r = cl_core(1, &p);
    assert_string_equal(members_str(r), "1,2/4");
    assert_int_equal(flurm_raft_config_index(r), 2);
    flurm_raft_free(r);
    p.entries = conf_log + 2;
    p.n_entries = 1;
    r = cl_core(1, &p);
    assert_string_equal(members_str(r), "1,2,3,4");
    flurm_raft_free(r);
    /* neither: cfg->voters */
    r = cl_core(1, NULL);
    assert_string_equal(members_str(r), "1,2,3");
    assert_int_equal(flurm_raft_config_index(r), 0);
    flurm_raft_free(r);

    /* a CONFIG entry that does not decode, or a snapshot configuration that cannot be, is refused */
    flurm_raft_entry_t bad[1] = { { .index = 1, .term = 1, .type = FLURM_RAFT_ENTRY_CONFIG, .data = "xyz", .len = 3 } };
    flurm_raft_persisted_t q = { .size = sizeof q, .term = 1, .entries = bad, .n_entries = 1 };
    flurm_raft_config_t cfg = { .size = sizeof cfg, .id = 1, .n_voters = 3, .voters = boot3 };
    flurm_err_t err;
    assert_null(flurm_raft_new(&cfg, &q, &err));
    assert_int_equal(err, FLURM_EINVAL);
    q = (flurm_raft_persisted_t){ .size = sizeof q, .term = 1 };
    q.snapshot = (flurm_raft_snapshot_meta_t){ .index = 2, .term = 1, .n_voters = 2, .n_learners = 1, .voters = { 1, 2, 2 } };
    assert_null(flurm_raft_new(&cfg, &q, &err));
    q.snapshot.n_learners = FLURM_RAFT_MAX_MEMBERS - 1;
    assert_null(flurm_raft_new(&cfg, &q, &err));
}

static void test_raft_member_truncated_config_entry_reverts(void **state)
{
    (void)state;
    make_conf_log();
    flurm_raft_persisted_t p = { .size = sizeof p, .term = 2, .entries = conf_log, .n_entries = 3 };
    flurm_raft_t *r = cl_core(2, &p);
    assert_string_equal(members_str(r), "1,2,3,4");
    /* a leader of term 3 holds another entry at 3: the promotion is undone */
    flurm_raft_entry_t e = { .index = 3, .term = 3 };
    recv_msg(r, 10, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 2, .log_term = 1,
                                        .entries = &e, .n_entries = 1 });
    assert_int_equal(u.truncate_from, 3);
    assert_true(u.config_changed);
    assert_string_equal(members_str(r), "1,2,3/4");
    assert_int_equal(flurm_raft_config_index(r), 2);
    /* and then the learner entry too: back to the bootstrap voters */
    flurm_raft_entry_t e2 = { .index = 2, .term = 3 };
    recv_msg(r, 11, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 1, .log_term = 1,
                                        .entries = &e2, .n_entries = 1 });
    assert_true(u.config_changed);
    assert_string_equal(members_str(r), "1,2,3");
    assert_int_equal(flurm_raft_config_index(r), 0);
    /* an append that only repeats what we hold changes nothing */
    recv_msg(r, 12, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 1, .log_term = 1,
                                        .entries = &e2, .n_entries = 1 });
    assert_false(u.config_changed);
    /* a CONFIG entry appended by a follower is in force at once */
    recv_msg(r, 13, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 2, .log_term = 3,
                                        .entries = &(flurm_raft_entry_t){ .index = 3, .term = 3, .type = FLURM_RAFT_ENTRY_CONFIG,
                                                                          .data = cfg_b, .len = 4 + 8 * 4 },
                                        .n_entries = 1 });
    assert_true(u.config_changed);
    assert_string_equal(members_str(r), "1,2,3,4");
    /* a CONFIG entry that does not decode makes the message malformed */
    assert_int_equal(recv_msg(r, 14, (flurm_raft_msg_t){ .type = FLURM_RAFT_MSG_APPEND, .from = 1, .term = 3, .log_index = 3,
                                                         .log_term = 3,
                                                         .entries = &(flurm_raft_entry_t){ .index = 4, .term = 3,
                                                                                           .type = FLURM_RAFT_ENTRY_CONFIG,
                                                                                           .data = cfg_b, .len = 12 },
                                                         .n_entries = 1 }), FLURM_EINVAL);
    flurm_raft_free(r);
}

static void test_raft_member_snapshots_carry_the_config_at_their_index(void **state)
{
    (void)state;
    cl_t c;
    cl_init(&c, 1);
    uint64_t before = flurm_raft_applied_index(c.r[1]);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_ADD_LEARNER, 4), FLURM_OK);
    cl_run(&c, 30);
    assert_int_equal(cl_change(&c, 1, FLURM_RAFT_PROMOTE, 4), FLURM_OK);
    c.down[4] = true;
    cl_run(&c, 30);
    /* a snapshot below the learner entry has the bootstrap configuration ... */
    assert_int_equal(flurm_raft_step(c.r[1], &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = c.now,
                                                                     .index = before }, &u), FLURM_OK);
    flurm_raft_snapshot_meta_t m;
    assert_int_equal(flurm_raft_config_at(c.r[1], before, &m), FLURM_OK);
    assert_true(m.n_voters == 3 && m.n_learners == 0);
    assert_true(before >= 1);
    assert_int_equal(flurm_raft_config_at(c.r[1], before - 1, &m), FLURM_ERANGE);   /* below the snapshot */
    /* ... one after both, the voters 1..4 */
    uint64_t top = flurm_raft_applied_index(c.r[1]);
    assert_int_equal(flurm_raft_step(c.r[1], &(flurm_raft_event_t){ .kind = FLURM_RAFT_SNAPSHOT_TAKEN, .now_ms = c.now,
                                                                     .index = top }, &u), FLURM_OK);
    assert_int_equal(flurm_raft_config_at(c.r[1], top, &m), FLURM_OK);
    assert_true(m.index == top && m.n_voters == 4 && m.n_learners == 0 && m.voters[3] == 4);
    assert_string_equal(members_str(c.r[1]), "1,2,3,4");

    /* A server installing a snapshot takes its configuration, whatever it had. */
    flurm_raft_t *f = cl_core(5, NULL);
    flurm_raft_msg_t s = { .type = FLURM_RAFT_MSG_SNAPSHOT, .from = 1, .to = 5, .term = 3 };
    s.snapshot = (flurm_raft_snapshot_meta_t){ .index = 40, .term = 2, .n_voters = 3, .n_learners = 1,
                                               .voters = { 1, 2, 4, 5 } };
    assert_int_equal(flurm_raft_step(f, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = 5, .msg = &s }, &u),
                     FLURM_OK);
    assert_true(u.config_changed);
    assert_int_equal(u.snapshot->n_learners, 1);
    assert_string_equal(members_str(f), "1,2,4/5");
    assert_int_equal(flurm_raft_config_index(f), 40);
    assert_int_equal(flurm_raft_config_at(f, 40, &m), FLURM_OK);
    assert_true(m.n_voters == 3 && m.n_learners == 1 && m.voters[3] == 5);
    s.snapshot.voters[3] = 4;   /* a learner that is a voter too: malformed */
    s.snapshot.index = 50;
    assert_int_equal(flurm_raft_step(f, &(flurm_raft_event_t){ .kind = FLURM_RAFT_RECEIVE, .now_ms = 6, .msg = &s }, &u),
                     FLURM_EINVAL);
    flurm_raft_free(f);

    /* Through the cluster: 4 was down before the promotion reached it; the leader compacted
     * past it (one trailing entry), so 4 catches up by snapshot, and takes its configuration. */
    assert_string_equal(members_str(c.r[4]), "1,2,3/4");
    c.down[4] = false;
    cl_run(&c, 50);
    assert_int_equal(flurm_raft_snapshot_index(c.r[4]), top);
    assert_string_equal(members_str(c.r[4]), "1,2,3,4");
    cl_free(&c);
}

static void test_raft_member_config_encoding_is_canonical(void **state)
{
    (void)state;
    uint8_t b[200];
    flurm_raft_snapshot_meta_t m;
    static const uint64_t v[] = { 2, 5, 9 }, l[] = { 3, 4 };
    uint32_t n = conf_bytes(b, v, 3, l, 2);
    assert_int_equal(n, 4 + 5 * 8);
    assert_int_equal(flurm_raft_config_decode(b, n, &m), FLURM_OK);
    assert_true(m.n_voters == 3 && m.n_learners == 2 && m.voters[0] == 2 && m.voters[2] == 9 && m.voters[3] == 3 &&
                m.voters[4] == 4 && m.index == 0);
    assert_int_equal(flurm_raft_config_decode(b, n - 1, &m), FLURM_EINVAL);   /* length */
    assert_int_equal(flurm_raft_config_decode(NULL, 0, &m), FLURM_EINVAL);
    static const uint64_t unsorted[] = { 5, 2 }, dup[] = { 2, 2 }, zero[] = { 0, 2 }, both[] = { 5 };
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, unsorted, 2, NULL, 0), &m), FLURM_EINVAL);
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, dup, 2, NULL, 0), &m), FLURM_EINVAL);
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, zero, 2, NULL, 0), &m), FLURM_EINVAL);
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, v, 3, both, 1), &m), FLURM_EINVAL);
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, NULL, 0, l, 2), &m), FLURM_EINVAL);   /* no voter */
    n = conf_bytes(b, v, 3, NULL, 0);
    b[0] = 2;   /* version */
    assert_int_equal(flurm_raft_config_decode(b, n, &m), FLURM_EINVAL);
    b[0] = 1;
    b[3] = 1;
    assert_int_equal(flurm_raft_config_decode(b, n, &m), FLURM_EINVAL);
    uint64_t many[FLURM_RAFT_MAX_MEMBERS + 1];
    for (int i = 0; i <= FLURM_RAFT_MAX_MEMBERS; i++) many[i] = 1 + (uint64_t)i;
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, many, FLURM_RAFT_MAX_MEMBERS, NULL, 0), &m), FLURM_OK);
    assert_int_equal(flurm_raft_config_decode(b, conf_bytes(b, many, FLURM_RAFT_MAX_MEMBERS, many + 16, 1), &m),
                     FLURM_EINVAL);

    /* The leader writes exactly this encoding: sorted, whatever order cfg->voters had. */
    static const uint64_t order[] = { 3, 1, 2 };
    flurm_raft_config_t cfg = { .size = sizeof cfg, .id = 3, .n_voters = 1, .voters = order };
    flurm_raft_t *r = flurm_raft_new(&cfg, NULL, NULL);
    tick(r, 5000);
    persisted(r, 5000, 1, 1);
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_CHANGE, .now_ms = 5000,
                                                                .change = FLURM_RAFT_ADD_LEARNER, .target = 9 }, &u),
                     FLURM_OK);
    assert_int_equal(u.n_entries, 1);
    assert_int_equal(u.entries[0].type, FLURM_RAFT_ENTRY_CONFIG);
    static const uint64_t v3[] = { 3 }, l9[] = { 9 };
    n = conf_bytes(b, v3, 1, l9, 1);
    assert_int_equal(u.entries[0].len, n);
    assert_memory_equal(u.entries[0].data, b, n);
    persisted(r, 5000, 2, 1);   /* a single voter commits it alone */
    assert_int_equal(flurm_raft_commit_index(r), 2);
    assert_int_equal(u.n_committed, 1);
    assert_int_equal(u.committed[0].type, FLURM_RAFT_ENTRY_CONFIG);
    assert_int_equal(flurm_raft_step(r, &(flurm_raft_event_t){ .kind = FLURM_RAFT_TRANSFER, .now_ms = 5000, .target = 9 }, &u),
                     FLURM_ENOENT);   /* a learner is no transfer target */
    flurm_raft_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raft_grants_one_vote_per_term_to_up_to_date_candidates),
        cmocka_unit_test(test_raft_pre_vote_changes_neither_term_nor_vote),
        cmocka_unit_test(test_raft_follower_with_live_leader_ignores_votes_unless_transfer),
        cmocka_unit_test(test_raft_leader_commits_only_its_own_term_by_counting),
        cmocka_unit_test(test_raft_leader_counts_itself_once_persisted),
        cmocka_unit_test(test_raft_lazy_commit_waits_for_the_heartbeat),
        cmocka_unit_test(test_raft_append_reply_matches_only_verified_prefix),
        cmocka_unit_test(test_raft_reject_carries_conflict_term_for_fast_backtracking),
        cmocka_unit_test(test_raft_leader_steps_down_without_quorum),
        cmocka_unit_test(test_raft_transfer_sends_timeout_now_and_refuses_proposals),
        cmocka_unit_test(test_raft_follower_installs_snapshot),
        cmocka_unit_test(test_raft_leader_sends_snapshot_for_compacted_log),
        cmocka_unit_test(test_raft_restart_resumes_from_persisted_state),
        cmocka_unit_test(test_raft_single_server_commits_after_persist),
        cmocka_unit_test(test_raft_member_add_learner_catch_up_promote),
        cmocka_unit_test(test_raft_member_remove_follower),
        cmocka_unit_test(test_raft_member_remove_leader_steps_down_after_commit),
        cmocka_unit_test(test_raft_member_removed_leader_with_the_latest_log_finishes_its_removal),
        cmocka_unit_test(test_raft_member_change_refused_when_pending_or_nonsense),
        cmocka_unit_test(test_raft_member_restart_restores_the_last_config_entry),
        cmocka_unit_test(test_raft_member_truncated_config_entry_reverts),
        cmocka_unit_test(test_raft_member_snapshots_carry_the_config_at_their_index),
        cmocka_unit_test(test_raft_member_config_encoding_is_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
