/* Defect reproducer: Raft "Figure 8" (Raft paper sec. 5.4.2 / thesis 3.6.2).
 * libraft 0.15.0's replicationQuorum() commits an entry from a *previous* term
 * as soon as it is stored on a majority, and a new leader appends no no-op
 * entry (fixed upstream in v0.17.1: 524f735 "Don't commit entries from old
 * terms by counting", 29bb302 "Add no-op barrier when converting to leader").
 * Result: an entry is committed and applied by one server, then overwritten
 * and a different entry is applied at the same index by the others
 * (State Machine Safety violated).  5 servers A..E = srv0..srv4. */
#include "common.h"

enum { A, B, C, D, E };
static const char *nm = "ABCDE";

static void show(struct raft_fixture *f, const char *what)
{
    printf("  [t=%6llu] %s\n", raft_fixture_time(f), what);
    for (unsigned i = 0; i < 5; i++) {
        struct raft *r = raft_fixture_get(f, i);
        printf("     %c %-9s term=%-2llu alive=%d log=[", nm[i], state_name(raft_state(r)), r->current_term,
               raft_fixture_alive(f, i));
        for (raft_index k = 1; k <= raft_last_index(r); k++) {
            const struct raft_entry *e = entry_at(r, k);
            if (!e) { printf(" s"); continue; }
            if (e->type == RAFT_COMMAND) {
                uint64_t v;
                memcpy(&v, e->buf.base, 8);
                printf(" %c@t%llu", (char)v, e->term);
            } else
                printf(" %s@t%llu", e->type == RAFT_CHANGE ? "conf" : "bar", e->term);
        }
        printf(" ] commit=%llu applied=%llu fsm=[", r->commit_index, raft_last_applied(r));
        for (size_t k = 0; k < g_tfsms[i].n; k++) printf("%c", (char)g_tfsms[i].vals[k]);
        printf("]\n");
    }
}

static bool stored_cond(struct raft_fixture *f, void *arg)
{
    (void)f;
    struct raft *r = arg;
    return r->last_stored == raft_last_index(r);
}

int main(void)
{
    struct raft_fixture f;
    struct apply_req ax, ay, az;
    cluster_setup(&f, 5, 5);
    cluster_start(&f);

    /* (a) A leads (term 2); X reaches only B */
    raft_fixture_elect(&f, A);
    raft_fixture_step_until_elapsed(&f, 300);
    for (unsigned j = C; j <= E; j++) partition_pair(&f, A, j);
    propose(raft_fixture_get(&f, A), &ax, 'X');
    raft_fixture_step_until_applied(&f, B, 0, 0);
    while (raft_last_index(raft_fixture_get(&f, B)) < 2) raft_fixture_step(&f);
    raft_fixture_step_until_elapsed(&f, 30);
    raft_fixture_kill(&f, A);
    show(&f, "(a) A (leader) wrote X at index 2, replicated only to B; A crashes");

    /* (b) E elected by C, D, E (B is kept quiet); E writes Y at index 2 locally only */
    set_timer(&f, B, 100000, 100000);
    set_timer(&f, C, 50, 100000); /* C, D time out first: forget leader A */
    set_timer(&f, D, 50, 100000);
    set_timer(&f, E, 400, 1000);
    step_until_leader(&f, E, 20000);
    for (unsigned j = 0; j < 5; j++)
        if (j != E) partition_pair(&f, E, j);
    propose(raft_fixture_get(&f, E), &ay, 'Y');
    raft_fixture_step_until(&f, stored_cond, raft_fixture_get(&f, E), 1000);
    raft_fixture_kill(&f, E);
    show(&f, "(b) E elected (votes C,D,E), wrote Y at index 2 locally only; E crashes");

    /* (c) B (holding X from term 2) is elected by B, C, D and replicates X */
    set_timer(&f, C, 50, 100000);
    set_timer(&f, D, 50, 100000);
    set_timer(&f, B, 400, 1000);
    step_until_leader(&f, B, 20000);
    struct raft *rb = raft_fixture_get(&f, B);
    while (raft_last_applied(rb) < 2 && raft_fixture_time(&f) < 200000) raft_fixture_step(&f);
    raft_term tb = rb->current_term;
    show(&f, "(c) B elected; X (term 2) now on B,C,D; B's commit/apply of it:");
    CHECK(raft_last_applied(rb) >= 2 && g_tfsms[B].n == 1 && g_tfsms[B].vals[0] == 'X',
          "B (leader, term %llu) committed+applied X from term 2 by counting replicas "
          "(no entry of its own term) -- the Figure-8 precondition",
          tb);
    raft_fixture_kill(&f, B);
    /* C and D must not have learned commit=2 yet for the bad ending: */
    printf("     C.commit=%llu D.commit=%llu at the moment B crashes\n", raft_fixture_get(&f, C)->commit_index,
           raft_fixture_get(&f, D)->commit_index);

    /* (d) E comes back, is elected by C, D, E, overwrites index 2 with Y */
    raft_fixture_revive(&f, E);
    for (unsigned j = 0; j < 5; j++)
        if (j != E && raft_fixture_alive(&f, j)) heal_pair(&f, E, j);
    /* E wakes up still believing it leads term 4: wait until it steps down */
    raft_fixture_step_until(&f, not_leader_cond, (void *)(uintptr_t)E, 10000);
    set_timer(&f, C, 50, 100000);
    set_timer(&f, D, 50, 100000);
    set_timer(&f, E, 400, 1000);
    step_until_leader(&f, E, 30000);
    struct raft *re = raft_fixture_get(&f, E);
    propose(re, &az, 'Z');
    raft_fixture_step_until(&f, fired_cond, &az.fired, 5000);
    raft_fixture_step_until_elapsed(&f, 500);
    show(&f, "(d) B crashes; E re-elected (C,D,E), overwrites index 2 with Y, commits Y,Z");

    bool diverged = g_tfsms[B].n >= 1 && g_tfsms[B].vals[0] == 'X' && g_tfsms[E].n >= 1 &&
                    g_tfsms[E].vals[0] == 'Y';
    printf("  B applied [%c] at index 2; E applied [%c] at index 2\n", g_tfsms[B].n ? (char)g_tfsms[B].vals[0] : '-',
           g_tfsms[E].n ? (char)g_tfsms[E].vals[0] : '-');
    CHECK(!diverged, "State Machine Safety: no two servers apply different commands at the same log index");
    raft_fixture_revive(&f, B);
    raft_fixture_step_until_elapsed(&f, 3000);
    printf("  after reviving B for 3 s: B state=%s (its committed X conflicts with the leader's log)\n",
           state_name(raft_state(raft_fixture_get(&f, B))));
    raft_fixture_close(&f);
    SUMMARY();
}
