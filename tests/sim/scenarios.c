/* tests/sim/scenarios.c — scripted regression scenarios for the defects found in Debian's
 * libraft 0.15.0 (reproducers in the evaluation: d1_figure8.c, d2_commit_stall.c,
 * d4_false_match.c), run on world.c with every invariant checked as they go. Servers A..E are
 * nodes 0..4 (ids 1..5). Exit status 1 if any scenario fails. */
#include "world.h"

#include <stdio.h>
#include <string.h>

enum { A, B, C, D, E };

static int failures;

#define CHECK(w, cond, ...)                                   \
    do {                                                      \
        if (!(cond)) {                                        \
            printf("  FAIL %s:%d: ", __func__, __LINE__);     \
            printf(__VA_ARGS__);                              \
            printf("\n");                                     \
            failures++;                                       \
            return;                                           \
        }                                                     \
        if ((w)->failed[0]) {                                 \
            printf("  FAIL %s: %s\n", __func__, (w)->failed); \
            failures++;                                       \
            return;                                           \
        }                                                     \
    } while (0)

static bool is_leader(world_t *w, void *arg)
{
    uint32_t i = (uint32_t)(uintptr_t)arg;
    return w->nodes[i].alive && flurm_raft_role(w->nodes[i].r) == FLURM_RAFT_LEADER;
}

static bool not_leader(world_t *w, void *arg) { return !is_leader(w, arg); }

struct holds { uint32_t node; uint64_t index, term; };
static bool holds(world_t *w, void *arg)
{
    struct holds *h = arg;
    const flurm_raft_entry_t *e = w->nodes[h->node].alive ? flurm_raft_entry(w->nodes[h->node].r, h->index) : NULL;
    return e && e->term == h->term && h->index <= flurm_raft_last_index(w->nodes[h->node].r);
}

static bool acked(world_t *w, void *arg) { return w->props[(uintptr_t)arg - 1].acked; }

static bool any_leader(world_t *w, void *arg) { (void)arg; return world_leader(w) >= 0; }

static void quiet_net(world_t *w)
{
    w->delay_min = w->delay_max = 5;
    w->disk_min = w->disk_max = 2;
}

static bool elect(world_t *w, uint32_t i)
{
    world_force_campaign(w, i);
    return world_run_until(w, is_leader, (void *)(uintptr_t)i, 2000);
}

/* B's new-term no-op never reaches C and D (so the Figure-8 interleaving is forced): B's
 * appends lose every entry newer than X's term. */
static uint64_t d1_x_term;
static bool d1_filter(void *arg, flurm_raft_msg_t *m)
{
    (void)arg;
    if (m->from != B + 1 || m->type != FLURM_RAFT_MSG_APPEND) return false;
    size_t k = 0;
    while (k < m->n_entries && m->entries[k].term <= d1_x_term) k++;
    m->n_entries = k;
    if (!k) m->entries = NULL;
    return false;
}

/* Raft paper Figure 8. X (term t) is stored on A and B only; E leads term t+1 and writes Y
 * locally; B leads a later term and copies X to C and D. B must not commit X by counting
 * replicas (it is not of B's term): E can still win with C and D and overwrite index 2. */
static void scenario_d1_figure8(void)
{
    world_t w;
    world_init(&w, 5, 101);
    w.cfg.max_entries_per_msg = 1;
    quiet_net(&w);
    world_run(&w, 1);
    CHECK(&w, elect(&w, A), "A elected");
    world_run(&w, 300);
    for (uint32_t j = C; j <= E; j++) world_block(&w, A, j, true);
    uint64_t x = world_propose(&w, A, 1);
    CHECK(&w, x, "A accepts X");
    struct holds hx = { B, w.props[x - 1].index, w.props[x - 1].term };
    d1_x_term = hx.term;
    CHECK(&w, world_run_until(&w, holds, &hx, 1000), "X reaches B");
    world_run(&w, 30);
    world_crash(&w, A);

    world_isolate(&w, B, true);
    CHECK(&w, elect(&w, E), "E elected by C, D, E");
    world_isolate(&w, E, true);
    uint64_t y = world_propose(&w, E, 1);
    CHECK(&w, y && w.props[y - 1].index > hx.index, "E writes Y after its no-op (index %llu)",
          (unsigned long long)(y ? w.props[y - 1].index : 0));
    world_run(&w, 50);
    world_crash(&w, E);

    world_heal(&w);
    w.filter = d1_filter;
    CHECK(&w, elect(&w, B), "B elected by B, C, D");
    struct holds hc = { C, hx.index, hx.term }, hd = { D, hx.index, hx.term };
    CHECK(&w, world_run_until(&w, holds, &hc, 1000) && world_run_until(&w, holds, &hd, 1000), "X copied to C and D");
    world_run(&w, 100);
    flurm_raft_member_status_t ms[5];
    flurm_raft_members(w.nodes[B].r, ms, 5);
    CHECK(&w, ms[C].match_index >= hx.index && ms[D].match_index >= hx.index,
          "B knows X is on C and D (match %llu, %llu)", (unsigned long long)ms[C].match_index,
          (unsigned long long)ms[D].match_index);
    CHECK(&w, flurm_raft_commit_index(w.nodes[B].r) < hx.index,
          "Figure 8: B must not commit X (term %llu) by counting replicas in term %llu (commit %llu)",
          (unsigned long long)hx.term, (unsigned long long)flurm_raft_term(w.nodes[B].r),
          (unsigned long long)flurm_raft_commit_index(w.nodes[B].r));
    world_crash(&w, B);
    w.filter = NULL;

    world_restart(&w, E);
    CHECK(&w, world_run_until(&w, any_leader, NULL, 5000), "a leader among C, D, E");
    int l = world_leader(&w);
    CHECK(&w, l == E, "only E can win (its log is the most up to date): leader %d", l + 1);
    uint64_t z = world_propose(&w, (uint32_t)l, 1);
    CHECK(&w, z && world_run_until(&w, acked, (void *)(uintptr_t)z, 3000), "Z committed");
    world_settle_and_check(&w, 20000);
    CHECK(&w, true, "settled");
    printf("ok d1_figure8 (X at index %llu never committed; E's log won)\n", (unsigned long long)hx.index);
    world_free(&w);
}

/* Proposals arriving faster than one replication round trip must commit while they arrive
 * (0.15.0 waited for a majority to match the leader's *last* index, so nothing committed). */
static void scenario_d2_commit_stall(void)
{
    static const unsigned intervals[] = { 100, 20, 5, 1 };
    for (size_t k = 0; k < sizeof intervals / sizeof intervals[0]; k++) {
        world_t w;
        world_init(&w, 3, 202);
        w.delay_min = w.delay_max = 15;
        w.disk_min = w.disk_max = 10;
        world_run(&w, 1);
        CHECK(&w, elect(&w, A), "A elected");
        world_run(&w, 200);
        uint64_t start = w.now, first = 0, last = 0, stream_ms = 3000;
        while (w.now - start < stream_ms && !w.failed[0]) {
            if ((w.now - start) % intervals[k] == 0) {
                uint64_t c = world_propose(&w, A, 1);
                CHECK(&w, c, "A accepts");
                if (!first) first = c;
                last = c;
            }
            world_run(&w, 1);
        }
        uint64_t done = 0, old = 0, old_done = 0;
        for (uint64_t c = first; c <= last; c++) {
            done += w.props[c - 1].acked;
            /* proposed at least 300 ms (several round trips) before the stream ended */
            if ((c - first) * intervals[k] + 300 <= stream_ms) {
                old++;
                old_done += w.props[c - 1].acked;
            }
        }
        CHECK(&w, old_done == old, "every %u ms: all %llu proposals older than 300 ms committed during the stream (%llu)",
              intervals[k], (unsigned long long)old, (unsigned long long)old_done);
        CHECK(&w, world_run_until(&w, acked, (void *)(uintptr_t)last, 2000), "the rest commit after the stream");
        printf("ok d2_commit_stall every %3u ms: %llu proposed, %llu committed during the stream\n", intervals[k],
               (unsigned long long)(last - first + 1), (unsigned long long)done);
        world_free(&w);
    }
}

/* A follower holding an uncommitted tail from an older term must never be counted as matching
 * the new leader beyond what the leader's append verified (0.15.0 took the follower's last index
 * from a heartbeat reply and committed Y stored by the leader alone). The world checks, at every
 * leader update, that its commit index is durable on a majority of disks. */
static void scenario_d4_false_match(void)
{
    world_t w;
    world_init(&w, 5, 404);
    quiet_net(&w);
    world_run(&w, 1);
    CHECK(&w, elect(&w, A), "A elected");
    world_run(&w, 300);
    for (uint32_t j = C; j <= E; j++) world_block(&w, A, j, true);
    uint64_t x = world_propose(&w, A, 5);
    CHECK(&w, x, "A accepts X1..X5");
    struct holds hb = { B, w.props[x + 3].index, w.props[x + 3].term };
    CHECK(&w, world_run_until(&w, holds, &hb, 1000), "X1..X5 reach B");
    world_block(&w, A, B, true);
    CHECK(&w, world_run_until(&w, not_leader, (void *)(uintptr_t)A, 3000), "A steps down (check quorum)");
    world_block(&w, A, E, false);
    CHECK(&w, elect(&w, E), "E elected by C, D, E");
    world_block(&w, E, C, true);
    world_block(&w, E, D, true);
    uint64_t y = world_propose(&w, E, 1);
    CHECK(&w, y, "E accepts Y");
    world_run_until(&w, acked, (void *)(uintptr_t)y, 3000);
    bool y_acked = w.props[y - 1].acked;
    CHECK(&w, true, "no commit beyond a durable majority");
    world_crash(&w, E);
    world_heal(&w);
    CHECK(&w, world_run_until(&w, any_leader, NULL, 5000), "A..D elect a leader");
    uint64_t z = 0;
    for (int tries = 0; tries < 20 && !z; tries++) {
        int l = world_leader(&w);
        if (l >= 0) z = world_propose(&w, (uint32_t)l, 1);
        if (!z) world_run(&w, 100);
    }
    CHECK(&w, z && world_run_until(&w, acked, (void *)(uintptr_t)z, 3000), "Z committed");
    CHECK(&w, !y_acked || w.cmd_at[y] == w.props[y - 1].index, "acknowledged Y survives E's crash");
    world_settle_and_check(&w, 20000);
    CHECK(&w, true, "settled");
    printf("ok d4_false_match (Y %s, %s)\n", y_acked ? "acknowledged" : "not acknowledged",
           w.cmd_at[y] ? "applied everywhere" : "dropped");
    world_free(&w);
}

/* A partitioned leader steps down within an election timeout, the majority elects another,
 * and after healing the old leader follows without disrupting it (pre-vote + stickiness). */
static void scenario_partitioned_leader(void)
{
    world_t w;
    world_init(&w, 5, 505);
    quiet_net(&w);
    world_run(&w, 1);
    CHECK(&w, elect(&w, A), "A elected");
    world_run(&w, 300);
    uint64_t t0 = w.now;
    world_isolate(&w, A, true);
    uint64_t x = world_propose(&w, A, 3);
    CHECK(&w, x, "A still accepts");
    CHECK(&w, world_run_until(&w, not_leader, (void *)(uintptr_t)A, 2 * 600 + 100), "A steps down");
    uint64_t down = w.now - t0;
    CHECK(&w, world_run_until(&w, any_leader, NULL, 3000), "the majority elects");
    int l = world_leader(&w);
    uint64_t term = flurm_raft_term(w.nodes[l].r);
    CHECK(&w, flurm_raft_term(w.nodes[A].r) < term, "A did not bump its term while cut off (pre-vote)");
    world_isolate(&w, A, false);
    world_run(&w, 2000);
    CHECK(&w, world_leader(&w) == l && flurm_raft_term(w.nodes[l].r) == term, "the new leader keeps its term");
    CHECK(&w, !w.props[x - 1].acked, "A's proposals while cut off were not acknowledged");
    world_settle_and_check(&w, 20000);
    CHECK(&w, true, "settled");
    printf("ok partitioned_leader (stepped down after %llu ms)\n", (unsigned long long)down);
    world_free(&w);
}

int main(void)
{
    scenario_d1_figure8();
    scenario_d2_commit_stall();
    scenario_d4_false_match();
    scenario_partitioned_leader();
    printf("%s: %d failed\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
