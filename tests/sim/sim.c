/* tests/sim/sim.c — seeded chaos runs over world.c.
 *
 *   sim SEED [N] [-v]    one seed (N = 3 and 5 when omitted); prints FAIL and exits 1 on a violation
 *   soak COUNT [FIRST]   seeds FIRST .. FIRST+COUNT-1, each with 3 and 5 nodes (built with -DSIM_SOAK)
 *
 * A run: 15 s of simulated chaos (client proposals through whoever leads; crashes with
 * restarts from what was durable; partitions, including of the leader; message loss,
 * duplication and reordering; clock jumps; snapshots), invariants checked as it goes, then
 * the world heals and must elect a leader that commits within 20 s, with every acknowledged
 * command applied exactly once on every replica. */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t r64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fault(world_t *w, uint64_t *s)
{
    uint32_t n = w->n, i = (uint32_t)(r64(s) % n);
    switch (r64(s) % 8) {
    case 0: /* crash, back later */
        if (w->nodes[i].alive) {
            world_crash(w, i);
            w->nodes[i].restart_at = w->now + 100 + r64(s) % 3000;
            if (w->verbose) printf("  t=%llu crash %u\n", (unsigned long long)w->now, i + 1);
        }
        break;
    case 1: { /* partition the leader away */
        int l = world_leader(w);
        if (l >= 0) {
            world_isolate(w, (uint32_t)l, true);
            if (w->verbose) printf("  t=%llu isolate leader %d\n", (unsigned long long)w->now, l + 1);
        }
        break;
    }
    case 2:
        world_isolate(w, i, true);
        if (w->verbose) printf("  t=%llu isolate %u\n", (unsigned long long)w->now, i + 1);
        break;
    case 3: { /* split into two random groups */
        uint32_t side = (uint32_t)r64(s);
        for (uint32_t a = 0; a < n; a++)
            for (uint32_t b = 0; b < n; b++)
                w->blocked[a][b] = a != b && ((side >> a) & 1) != ((side >> b) & 1);
        if (w->verbose) printf("  t=%llu split %x\n", (unsigned long long)w->now, side & ((1u << n) - 1));
        break;
    }
    case 4:
    case 5:
        world_heal(w);
        if (w->verbose) printf("  t=%llu heal\n", (unsigned long long)w->now);
        break;
    case 6: /* the host stalled or its clock jumped forward */
        w->nodes[i].clock_off += 50 + r64(s) % 2000;
        if (w->verbose) printf("  t=%llu clock jump %u\n", (unsigned long long)w->now, i + 1);
        break;
    case 7:
        w->loss_pct = (uint32_t)(r64(s) % 25);
        w->dup_pct = (uint32_t)(r64(s) % 5);
        w->delay_max = 2 + (uint32_t)(r64(s) % 40);
        break;
    }
}

static uint64_t total_installs, total_crashes, total_elections;

static int run(uint64_t seed, uint32_t n, bool verbose, uint64_t *acked)
{
    world_t w;
    world_init(&w, n, seed);
    w.verbose = verbose;
    uint64_t s = seed ^ 0x5eed0000ull ^ n;
    w.cfg.pre_vote = r64(&s) % 8 != 0;
    w.cfg.max_entries_per_msg = 4 + (uint32_t)(r64(&s) % 29);
    w.cfg.max_inflight_msgs = 1 + (uint32_t)(r64(&s) % 8);
    w.cfg.trailing_entries = 1 + (uint32_t)(r64(&s) % 50);
    w.snapshot_every = r64(&s) % 3 ? 10 + (uint32_t)(r64(&s) % 100) : 0;
    w.loss_pct = (uint32_t)(r64(&s) % 10);
    w.dup_pct = (uint32_t)(r64(&s) % 5);
    w.delay_max = 2 + (uint32_t)(r64(&s) % 30);
    const uint64_t chaos_ms = 15000;
    for (uint64_t t = 0; t < chaos_ms && !w.failed[0]; t++) {
        uint64_t x = r64(&s) % 10000;
        if (x < 8) fault(&w, &s);
        else if (x < 800) {
            int l = world_leader(&w);
            if (l >= 0) world_propose(&w, (uint32_t)l, 1 + (uint32_t)(r64(&s) % 4));
        }
        world_run(&w, 1);
        if (t % 250 == 0) world_check_logs(&w);
    }
    world_settle_and_check(&w, 20000);
    int rc = 0;
    if (w.failed[0]) {
        printf("FAIL seed=%llu n=%u: %s\n  replay: tests/sim/sim %llu %u -v\n", (unsigned long long)seed, n, w.failed,
               (unsigned long long)seed, n);
        rc = 1;
    } else if (verbose) {
        printf("ok seed=%llu n=%u: %llu proposals, %llu acknowledged, %llu elections, %llu messages\n",
               (unsigned long long)seed, n, (unsigned long long)w.n_props, (unsigned long long)w.stats_acked,
               (unsigned long long)w.stats_elections, (unsigned long long)w.stats_msgs);
    }
    if (acked) *acked += w.stats_acked;
    total_installs += w.stats_installs;
    total_crashes += w.stats_crashes;
    total_elections += w.stats_elections;
    world_free(&w);
    return rc;
}

int main(int argc, char **argv)
{
#ifdef SIM_SOAK
    if (argc < 2) { fprintf(stderr, "usage: soak COUNT [FIRST]\n"); return 2; }
    uint64_t count = strtoull(argv[1], NULL, 10), first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned fails = 0;
    uint64_t acked = 0;
    for (uint64_t seed = first; seed < first + count; seed++)
        for (uint32_t n = 3; n <= 5; n += 2) fails += (unsigned)run(seed, n, false, &acked);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("soak: %llu seeds x {3,5} nodes, %u failed, %.1f s; %llu commands acknowledged, %llu elections, %llu crashes,"
           " %llu snapshots installed\n", (unsigned long long)count, fails, secs, (unsigned long long)acked,
           (unsigned long long)total_elections, (unsigned long long)total_crashes, (unsigned long long)total_installs);
    return fails ? 1 : 0;
#else
    if (argc < 2) { fprintf(stderr, "usage: sim SEED [N] [-v]\n"); return 2; }
    uint64_t seed = strtoull(argv[1], NULL, 10);
    uint32_t n = 0;
    bool verbose = false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) verbose = true;
        else n = (uint32_t)atoi(argv[i]);
    }
    int rc = 0;
    if (n) rc = run(seed, n, verbose, NULL);
    else rc = run(seed, 3, verbose, NULL) | run(seed, 5, verbose, NULL);
    if (!rc) printf("ok\n");
    return rc;
#endif
}
