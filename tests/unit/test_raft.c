/* tests/unit/test_raft.c — single behaviours of the Raft core (libflurm/raft), one core driven
 * by hand-made messages. Whole-cluster behaviour is in tests/sim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raft_grants_one_vote_per_term_to_up_to_date_candidates),
        cmocka_unit_test(test_raft_pre_vote_changes_neither_term_nor_vote),
        cmocka_unit_test(test_raft_follower_with_live_leader_ignores_votes_unless_transfer),
        cmocka_unit_test(test_raft_leader_commits_only_its_own_term_by_counting),
        cmocka_unit_test(test_raft_leader_counts_itself_once_persisted),
        cmocka_unit_test(test_raft_append_reply_matches_only_verified_prefix),
        cmocka_unit_test(test_raft_reject_carries_conflict_term_for_fast_backtracking),
        cmocka_unit_test(test_raft_leader_steps_down_without_quorum),
        cmocka_unit_test(test_raft_transfer_sends_timeout_now_and_refuses_proposals),
        cmocka_unit_test(test_raft_follower_installs_snapshot),
        cmocka_unit_test(test_raft_leader_sends_snapshot_for_compacted_log),
        cmocka_unit_test(test_raft_restart_resumes_from_persisted_state),
        cmocka_unit_test(test_raft_single_server_commits_after_persist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
