/* Defect reproducer (found by the seeded chaos run in t9_fixture_harness):
 * a follower answers a successful *heartbeat* with last_log_index = its whole
 * last_stored, including an uncommitted tail from an older term that conflicts
 * with the new leader's log.  replicationUpdate() only caps that value at the
 * leader's current last index, so if the leader appended a new entry after
 * sending the heartbeat, it records match_index = that new index for a
 * follower that actually holds a *different* entry there.  Consequences:
 *   (1) the leader can commit an entry that is stored on no majority, and
 *       acknowledge it to the client, then lose it (safety violation);
 *   (2) later rejections from that follower are ignored as "stale"
 *       (rejected <= match_index): the follower is stuck forever (liveness).
 * Code identical in upstream v0.18.1 (last canonical/raft release).
 * 5 servers A..E = srv0..srv4, pre-vote on. */
#include "common.h"

enum { A, B, C, D, E };

static void show(struct raft_fixture *f, const char *what)
{
    printf("  [t=%6llu] %s\n", raft_fixture_time(f), what);
    for (unsigned i = 0; i < 5; i++) {
        struct raft *r = raft_fixture_get(f, i);
        printf("     %c %-9s term=%-2llu log=[", "ABCDE"[i], state_name(raft_state(r)), r->current_term);
        for (raft_index k = 1; k <= raft_last_index(r); k++) {
            const struct raft_entry *e = entry_at(r, k);
            if (e->type == RAFT_COMMAND) {
                uint64_t v;
                memcpy(&v, e->buf.base, 8);
                printf(" %c%c@t%llu", (char)(v >> 8), (char)v ? (char)v : ' ', e->term);
            } else
                printf(" %s@t%llu", e->type == RAFT_CHANGE ? "conf" : "bar", e->term);
        }
        printf(" ] commit=%llu fsm=[", r->commit_index);
        for (size_t k = 0; k < g_tfsms[i].n; k++) printf(" %c%c", (char)(g_tfsms[i].vals[k] >> 8), (char)g_tfsms[i].vals[k]);
        printf(" ]\n");
    }
}
#define V(c, d) ((uint64_t)(c) << 8 | (uint64_t)(d))

int main(void)
{
    struct raft_fixture f;
    static struct apply_req xs[5], y, z;
    cluster_setup(&f, 5, 5);
    for (unsigned i = 0; i < 5; i++) raft_set_pre_vote(raft_fixture_get(&f, i), true);
    cluster_start(&f);

    /* 1. A leads term 2; X1..X5 reach only B (uncommitted tail on A, B) */
    raft_fixture_elect(&f, A);
    raft_fixture_step_until_elapsed(&f, 300);
    for (unsigned j = C; j <= E; j++) partition_pair(&f, A, j);
    for (int i = 0; i < 5; i++) propose(raft_fixture_get(&f, A), &xs[i], V('X', '1' + i));
    while (raft_fixture_get(&f, B)->last_stored < 6) raft_fixture_step(&f);
    partition_pair(&f, A, B);
    show(&f, "1. A (term 2) wrote X1..X5, replicated only to B; A now isolated");

    /* 2. A steps down (pre-vote: stays in term 2); E is elected by C, D, E.
     * A and B keep quiet (their logs are longer anyway); A can reach E only. */
    raft_fixture_step_until(&f, not_leader_cond, (void *)(uintptr_t)A, 5000);
    set_timer(&f, A, 100000, 100000);
    set_timer(&f, B, 100000, 100000);
    set_timer(&f, C, 50, 100000);
    set_timer(&f, D, 50, 100000);
    set_timer(&f, E, 400, 100000);
    heal_pair(&f, A, E);
    while (raft_state(raft_fixture_get(&f, E)) != RAFT_LEADER) raft_fixture_step(&f);
    struct raft *re = raft_fixture_get(&f, E);
    /* E just became leader and sent its first heartbeats (prev_log_index=1, no
     * entries; followers are in PROBE mode, so E sends nothing else for one
     * heartbeat interval).  C and D get cut off from E, and a client write Y
     * arrives at E right away. */
    partition_pair(&f, E, C);
    partition_pair(&f, E, D);
    propose(re, &y, V('Y', 0));
    raft_term a2 = 0, b2 = 0;
    raft_index a_st = 0, b_st = 0;
    while (re->commit_index < 2 && raft_fixture_time(&f) < 100000) {
        raft_fixture_step(&f);
        if (re->commit_index >= 2) {
            struct raft *ra = raft_fixture_get(&f, A), *rb = raft_fixture_get(&f, B);
            a2 = entry_at(ra, 2)->term;
            b2 = entry_at(rb, 2)->term;
            a_st = ra->last_stored;
            b_st = rb->last_stored;
        }
    }
    printf("     when E set commit_index=2: A holds term-%llu entry at index 2 (last_stored %llu), "
           "B holds term-%llu (last_stored %llu)\n", a2, a_st, b2, b_st);
    raft_fixture_step_until(&f, fired_cond, &y.fired, 3000);
    show(&f, "2. E elected (term 3) by C,D,E; C,D then cut off from E; client write Y to E");
#ifndef RAFT_V018
    if (raft_state(re) == RAFT_LEADER)
        printf("     E progress: match_index A=%llu B=%llu C=%llu D=%llu\n", re->leader_state.progress[A].match_index,
               re->leader_state.progress[B].match_index, re->leader_state.progress[C].match_index,
               re->leader_state.progress[D].match_index);
#endif
    printf("     Y apply cb fired=%d status=%d; E is %s\n", y.fired, y.status, state_name(raft_state(re)));
    bool acked = y.fired && y.status == 0;
    CHECK(!acked, "E must not commit/ack Y: only E stores it (A and B hold X1 at index 2)");

    /* 3. E crashes; the rest elect a leader and carry on */
    raft_fixture_kill(&f, E);
    for (unsigned i = A; i <= D; i++)
        for (unsigned j = A; j <= D; j++)
            if (i != j) heal_pair(&f, i, j);
    for (unsigned i = A; i <= D; i++) set_timer(&f, i, 200 + 150 * i, 1000 + 150 * i);
    raft_fixture_step_until(&f, fired_cond, &(int){0}, 3000);
    unsigned nl = 5;
    for (unsigned i = A; i <= D; i++)
        if (raft_state(raft_fixture_get(&f, i)) == RAFT_LEADER) nl = i;
    if (nl < 5) {
        propose(raft_fixture_get(&f, nl), &z, V('Z', 0));
        raft_fixture_step_until(&f, fired_cond, &z.fired, 3000);
        raft_fixture_step_until_elapsed(&f, 500);
    }
    show(&f, "3. E crashes; A..D elect a leader and commit Z");
    bool y_survived = false;
    for (unsigned i = A; i <= D; i++)
        for (size_t k = 0; k < g_tfsms[i].n; k++)
            if (g_tfsms[i].vals[k] == V('Y', 0)) y_survived = true;
    CHECK(!acked || y_survived, "an acknowledged write (Y) survives leader failure");
    CHECK(!(g_tfsms[E].n && g_tfsms[A].n && g_tfsms[E].vals[0] != g_tfsms[A].vals[0]),
          "State Machine Safety: E applied %c at index 2, A applied %c%c at index 2",
          g_tfsms[E].n ? (char)(g_tfsms[E].vals[0] >> 8) : '-', g_tfsms[A].n ? (char)(g_tfsms[A].vals[0] >> 8) : '-',
          g_tfsms[A].n ? (char)g_tfsms[A].vals[0] : ' ');
    raft_fixture_close(&f);
    SUMMARY();
}
