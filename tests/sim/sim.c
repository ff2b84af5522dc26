/* tests/sim/sim.c — seeded chaos runs over world.c.
 *
 *   sim SEED [N] [-v] [--flurm] [--host-schedule]
 *        one seed (N = 3 and 5 when omitted); prints FAIL and exits 1 on a violation
 *   soak COUNT [FIRST] [--flurm] [--host-schedule] [--nodes N] [--members]
 *        seeds FIRST .. FIRST+COUNT-1, each with 3 and 5 nodes (or N) (built with -DSIM_SOAK)
 *
 * --flurm: the nodes run FLURM's state machine (flurm_state_t, flsm.c) instead of the toy;
 * --host-schedule (what the suite runs) also runs the scheduler passes flurmctld runs on its
 * replica's own state (flurm_state_schedule_changed after applied batches, the leader's
 * flurm_state_plan and flurm_state_schedule): what they derive must stay out of the snapshots.
 *
 * A run: 15 s of simulated chaos (client proposals through whoever leads; crashes with
 * restarts from what was durable; partitions, including of the leader; message loss,
 * duplication and reordering; clock jumps; snapshots), invariants checked as it goes, then
 * the world heals and must elect a leader that commits within 20 s, with every acknowledged
 * command applied exactly once on every replica. In FLURM mode also: the snapshot after every
 * index identical on every replica that applies it (and byte-identical at the end), every
 * acknowledged submission's job on every replica, job ids fresh and increasing in log order.
 *
 * --members: membership changes (toy state machine): five servers, of which 1..3 are the
 * bootstrap voters; during the chaos the leader is asked now and then to add a server outside
 * the configuration as a learner, to promote its learner (refused until caught up), or to
 * remove a learner or a voter (itself included), keeping 3..5 voters (1..5 for every fourth
 * seed). Removed servers keep running (and may be added again with their old log). Besides the
 * usual invariants, world.c checks the membership ones (world.h). */
#include "flsm.h"
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
        if (w->conf) /* and the wall clock commands are stamped with steps either way */
            w->nodes[i].wall_off += (int64_t)(r64(s) % 7200000) - 3600000;
        if (w->verbose) printf("  t=%llu clock jump %u\n", (unsigned long long)w->now, i + 1);
        break;
    case 7:
        w->loss_pct = (uint32_t)(r64(s) % 25);
        w->dup_pct = (uint32_t)(r64(s) % 5);
        w->delay_max = 2 + (uint32_t)(r64(s) % 40);
        break;
    }
}

static uint64_t total_installs, total_crashes, total_elections, total_kinds[8], total_misreports, total_moved,
    total_digests, total_state_diffs, total_changes[4], total_conf_commits;

typedef struct opts {
    bool verbose, flurm, host_schedule, members;
} opts_t;

/* One membership change asked of the leader (see --members). */
static void member_change(world_t *w, uint64_t *s, uint32_t min_voters)
{
    int l = world_leader(w);
    if (l < 0) return;
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    size_t n = flurm_raft_members(w->nodes[l].r, ms, FLURM_RAFT_MAX_MEMBERS);
    uint32_t nv = 0, kind = 0;
    int learner = -1;
    for (size_t k = 0; k < n; k++) {
        if (ms[k].flags & FLURM_RAFT_MEMBER_VOTER) nv++;
        else learner = (int)k;
    }
    uint64_t target = 0;
    if (learner >= 0) {   /* promote it once caught up (or try anyway), or give up on it */
        target = ms[learner].id;
        kind = r64(s) % 5 ? FLURM_RAFT_PROMOTE : FLURM_RAFT_REMOVE;
    } else if (nv < w->n && (nv <= min_voters || r64(s) % 2)) {
        uint64_t out[W_MAX];
        uint32_t n_out = 0;
        for (uint32_t i = 0; i < w->n; i++) {
            size_t k = 0;
            while (k < n && ms[k].id != w->nodes[i].id) k++;
            if (k == n) out[n_out++] = w->nodes[i].id;
        }
        if (!n_out) return;
        target = out[r64(s) % n_out];
        kind = FLURM_RAFT_ADD_LEARNER;
    } else if (nv > min_voters) {
        target = ms[r64(s) % n].id;   /* any voter, the leader too */
        kind = FLURM_RAFT_REMOVE;
    } else {
        return;
    }
    flurm_err_t rc = world_change(w, (uint32_t)l, kind, target);
    if (rc != FLURM_OK && rc != FLURM_EAGAIN)
        world_fail(w, "membership: change %u of %llu at leader %d refused: %s", kind, (unsigned long long)target, l + 1,
                   flurm_strerror(rc));
}

static int run(uint64_t seed, uint32_t n, const opts_t *o, uint64_t *acked)
{
    world_t w;
    bool verbose = o->verbose;
    if (o->flurm) {
        world_init_flurm(&w, n, seed, flsm_conf());
        w.host_schedule = o->host_schedule;
        flsm_attach(&w);
    } else if (o->members) {
        world_init_members(&w, n, 3, seed);
    } else {
        world_init(&w, n, seed);
    }
    w.verbose = verbose;
    uint64_t s = seed ^ 0x5eed0000ull ^ n;
    w.cfg.pre_vote = r64(&s) % 8 != 0;
    w.cfg.max_entries_per_msg = 4 + (uint32_t)(r64(&s) % 29);
    w.cfg.max_inflight_msgs = 1 + (uint32_t)(r64(&s) % 8);
    w.cfg.trailing_entries = 1 + (uint32_t)(r64(&s) % 50);
    w.snapshot_every = r64(&s) % 3 ? 10 + (uint32_t)(r64(&s) % 100) : 0;
    if (o->flurm && w.snapshot_every) {   /* fewer, larger commands: compact sooner, so that
                                           * lagging replicas get InstallSnapshot more often */
        w.snapshot_every = 5 + w.snapshot_every / 4;
        w.cfg.trailing_entries = 1 + w.cfg.trailing_entries / 5;
    }
    w.loss_pct = (uint32_t)(r64(&s) % 10);
    w.dup_pct = (uint32_t)(r64(&s) % 5);
    w.delay_max = 2 + (uint32_t)(r64(&s) % 30);
    const uint64_t chaos_ms = 15000;
    /* FLURM: fewer, heavier requests (each apply is hashed through a full snapshot). */
    const uint64_t act = o->flurm ? 400 : 800;
    const uint32_t min_voters = seed % 4 == 0 ? 1 : 3;
    for (uint64_t t = 0; t < chaos_ms && !w.failed[0]; t++) {
        uint64_t x = r64(&s) % 10000;
        if (x < 8) fault(&w, &s);
        else if (o->members && x < 40) member_change(&w, &s, min_voters);
        else if (x < act) {
            int l = world_leader(&w);
            if (l >= 0 && o->flurm) flsm_act(&w, (uint32_t)l, &s);
            else if (l >= 0) world_propose(&w, (uint32_t)l, 1 + (uint32_t)(r64(&s) % 4));
        }
        world_run(&w, 1);
        if (t % 250 == 0) world_check_logs(&w);
    }
    world_settle_and_check(&w, 20000);
    int rc = 0;
    const char *mode = o->flurm ? (o->host_schedule ? " --flurm --host-schedule" : " --flurm") : o->members ? " --members" : "";
    if (w.failed[0]) {
        printf("FAIL seed=%llu n=%u%s: %s\n  replay: tests/sim/sim %llu %u%s -v\n", (unsigned long long)seed, n, mode,
               w.failed, (unsigned long long)seed, n, mode);
        rc = 1;
    } else if (verbose) {
        printf("ok seed=%llu n=%u%s: %llu proposals, %llu acknowledged, %llu elections, %llu messages, %llu snapshots installed\n",
               (unsigned long long)seed, n, mode, (unsigned long long)w.n_props, (unsigned long long)w.stats_acked,
               (unsigned long long)w.stats_elections, (unsigned long long)w.stats_msgs,
               (unsigned long long)w.stats_installs);
        if (o->flurm)
            printf("  acknowledged: %llu submit, %llu start, %llu end, %llu kill, %llu register, %llu purge, %llu other;"
                   " %llu submits moved off their reserved id; %llu state digests; %llu FIFO misreports\n",
                   (unsigned long long)w.stats_kinds[0], (unsigned long long)w.stats_kinds[1],
                   (unsigned long long)w.stats_kinds[2], (unsigned long long)w.stats_kinds[3],
                   (unsigned long long)w.stats_kinds[4], (unsigned long long)w.stats_kinds[5],
                   (unsigned long long)w.stats_kinds[6], (unsigned long long)w.stats_id_moved,
                   (unsigned long long)w.stats_digests, (unsigned long long)w.stats_fifo_misreports);
        if (o->host_schedule)
            printf("  %llu snapshot differences between replicas from the host's scheduler passes\n",
                   (unsigned long long)w.stats_state_diffs);
        if (o->members)
            printf("  changes: %llu learners added, %llu promoted, %llu removed, %llu leaders removed themselves;"
                   " %llu configurations committed\n", (unsigned long long)w.stats_changes[0],
                   (unsigned long long)w.stats_changes[1], (unsigned long long)w.stats_changes[2],
                   (unsigned long long)w.stats_changes[3], (unsigned long long)w.stats_conf_commits);
    }
    if (acked) *acked += w.stats_acked;
    for (int k = 0; k < 4; k++) total_changes[k] += w.stats_changes[k];
    total_conf_commits += w.stats_conf_commits;
    total_installs += w.stats_installs;
    total_crashes += w.stats_crashes;
    total_elections += w.stats_elections;
    for (int k = 0; k < 8; k++) total_kinds[k] += w.stats_kinds[k];
    total_misreports += w.stats_fifo_misreports;
    total_moved += w.stats_id_moved;
    total_digests += w.stats_digests;
    total_state_diffs += w.stats_state_diffs;
    world_free(&w);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o = { 0 };
    uint64_t pos[2] = { 0, 0 };
    int npos = 0;
    uint32_t nodes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) o.verbose = true;
        else if (!strcmp(argv[i], "--flurm")) o.flurm = true;
        else if (!strcmp(argv[i], "--host-schedule")) o.flurm = o.host_schedule = true;
        else if (!strcmp(argv[i], "--members")) o.members = true;
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) nodes = (uint32_t)atoi(argv[++i]);
        else if (argv[i][0] != '-' && npos < 2) pos[npos++] = strtoull(argv[i], NULL, 10);
        else { fprintf(stderr, "sim: unknown argument %s\n", argv[i]); return 2; }
    }
#ifdef SIM_SOAK
    if (npos < 1) { fprintf(stderr, "usage: soak COUNT [FIRST] [--flurm] [--host-schedule] [--nodes N] [--members]\n"); return 2; }
    if (o.members && o.flurm) { fprintf(stderr, "soak: --members runs the toy state machine only\n"); return 2; }
    if (o.members && !nodes) nodes = 5;
    uint64_t count = pos[0], first = npos > 1 ? pos[1] : 1;
    bool verbose = o.verbose;
    o.verbose = false;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned fails = 0;
    uint64_t acked = 0;
    for (uint64_t seed = first; seed < first + count; seed++)
        for (uint32_t n = nodes ? nodes : 3; n <= (nodes ? nodes : 5); n += 2) fails += (unsigned)run(seed, n, &o, &acked);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char nn[16];
    snprintf(nn, sizeof nn, nodes ? "%u" : "{3,5}", nodes);
    printf("soak%s: %llu seeds x %s nodes, %u failed, %.1f s; %llu commands acknowledged, %llu elections, %llu crashes,"
           " %llu snapshots installed\n", o.flurm ? (o.host_schedule ? " --host-schedule" : " --flurm") : o.members ? " --members" : "",
           (unsigned long long)count, nn, fails, secs, (unsigned long long)acked, (unsigned long long)total_elections,
           (unsigned long long)total_crashes, (unsigned long long)total_installs);
    if (o.flurm)
        printf("  acknowledged: %llu submit, %llu start, %llu end, %llu kill, %llu register, %llu purge, %llu other;"
               " %llu submits moved off their reserved id; %llu state digests; %llu FIFO misreports\n",
               (unsigned long long)total_kinds[0], (unsigned long long)total_kinds[1], (unsigned long long)total_kinds[2],
               (unsigned long long)total_kinds[3], (unsigned long long)total_kinds[4], (unsigned long long)total_kinds[5],
               (unsigned long long)total_kinds[6], (unsigned long long)total_moved, (unsigned long long)total_digests,
               (unsigned long long)total_misreports);
    if (o.host_schedule)
        printf("  %llu snapshot differences between replicas from the host's scheduler passes\n",
               (unsigned long long)total_state_diffs);
    if (o.members)
        printf("  changes: %llu learners added, %llu promoted, %llu removed, %llu leaders removed themselves;"
               " %llu configurations committed\n", (unsigned long long)total_changes[0],
               (unsigned long long)total_changes[1], (unsigned long long)total_changes[2],
               (unsigned long long)total_changes[3], (unsigned long long)total_conf_commits);
    (void)verbose;
    flsm_conf_free();
    return fails ? 1 : 0;
#else
    if (npos < 1) { fprintf(stderr, "usage: sim SEED [N] [-v] [--flurm] [--host-schedule] [--members]\n"); return 2; }
    uint64_t seed = pos[0];
    uint32_t n = npos > 1 ? (uint32_t)pos[1] : o.members && !nodes ? 5 : nodes;
    int rc = 0;
    if (n) rc = run(seed, n, &o, NULL);
    else rc = run(seed, 3, &o, NULL) | run(seed, 5, &o, NULL);
    if (!rc) printf("ok\n");
    flsm_conf_free();
    return rc;
#endif
}
