/* tests/unit/test_sched_equiv.c — the indexed scheduler (flurm_sched_run) against the
 * straightforward reference search kept for this test (SCHED_MODE_REFERENCE: every candidate
 * node at every breakpoint): seeded random clusters and queues, outputs compared field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/sched.h>
#include "sched/sched_internal.h"

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

#define MAXN 96
#define MAXJ 400

typedef struct world {
    flurm_sched_node_t nodes[MAXN];
    char names[MAXN][16];
    flurm_sched_gres_t ngres[MAXN][2];
    flurm_sched_part_t parts[3];
    uint32_t pnodes[3][MAXN];
    flurm_sched_job_t jobs[MAXJ];
    uint32_t alloc[MAXJ][4];
    uint32_t req[MAXJ][2], exc[MAXJ][2];
    flurm_sched_gres_t jgres[MAXJ];
    uint32_t nn, nj;
} world_t;

static const char *fa[] = { "a" }, *fb[] = { "b" }, *fab[] = { "a", "b" };
static const char *exprs[] = { "a", "b", "a|b", "a&b" };

/* Few distinct node kinds (so many nodes share a class and a timeline), a few odd ones by
 * feature, weight, size or gres; running jobs on a quarter of them; a queue of repeated and
 * random shapes over three partitions. SAME_SHAPES (3..40): a full queue of that many shapes,
 * each job one of them or a step larger in one of nodes, tasks, time or memory, so that most
 * jobs are at least as large as an earlier one of their class (what the pass's lower bounds
 * and no-window facts are about). WIDE: nodes of 32 to 64 CPUs and jobs of up to 64 tasks per
 * node, more distinct CPU counts than the node index keeps rows for, and memory that binds
 * before CPUs do. */
static void make_world_shapes(world_t *w, uint64_t seed, uint32_t same_shapes, bool wide)
{
    rng = seed * 0x9E3779B97F4A7C15ull + 7;
    memset(w, 0, sizeof *w);
    w->nn = 8 + rnd(MAXN - 8);
    for (uint32_t i = 0; i < w->nn; i++) {
        flurm_sched_node_t *n = &w->nodes[i];
        snprintf(w->names[i], sizeof w->names[i], "n%u", i);
        uint32_t kind = rnd(10) < 7 ? 0 : rnd(4);
        static const uint32_t cpus[] = { 8, 4, 16, 8 }, wide_cpus[] = { 64, 32, 48, 64 };
        uint32_t nc = wide ? wide_cpus[kind] : cpus[kind];
        *n = (flurm_sched_node_t){ .name = w->names[i], .cpus = nc, .real_memory = (wide ? 250u : 1000u) * nc,
                                   .weight = rnd(8) ? 1 : 1 + rnd(3), .usable = rnd(30) != 0 };
        uint32_t f = rnd(10);
        if (f < 2) {
            n->features = fa;
            n->nfeatures = 1;
        } else if (f < 3) {
            n->features = fb;
            n->nfeatures = 1;
        } else if (f < 4) {
            n->features = fab;
            n->nfeatures = 2;
        }
        if (kind == 3) {
            w->ngres[i][0] = (flurm_sched_gres_t){ .name = "gpu", .type = "a100", .count = 2 };
            w->ngres[i][1] = (flurm_sched_gres_t){ .name = "gpu", .type = "v100", .count = 2 };
            n->gres = w->ngres[i];
            n->ngres = 2;
        }
    }
    uint32_t np[3] = { 0 };
    for (uint32_t i = 0; i < w->nn; i++) {
        w->pnodes[0][np[0]++] = i;
        if (i < w->nn / 2)
            w->pnodes[1][np[1]++] = i;
        if (i % 3 == 0)
            w->pnodes[2][np[2]++] = i;
    }
    w->parts[0] = (flurm_sched_part_t){ .name = "batch", .nodes = w->pnodes[0], .nnodes = np[0], .max_share = 1 };
    w->parts[1] = (flurm_sched_part_t){ .name = "short", .nodes = w->pnodes[1], .nnodes = np[1], .max_share = 1,
                                        .max_time = 120, .priority_tier = 1 };
    w->parts[2] = (flurm_sched_part_t){ .name = "excl", .nodes = w->pnodes[2], .nnodes = np[2], .max_share = 0,
                                        .max_nodes = 4 };
    int64_t now = 1000000;
    uint32_t nrun = w->nn / 4;
    for (uint32_t r = 0; r < nrun; r++) {
        flurm_sched_job_t *j = &w->jobs[w->nj];
        uint32_t nodes = 1 + rnd(2), got = 0;
        for (uint32_t k = 0; k < nodes; k++) {
            uint32_t n = rnd(w->nn);
            if (w->nodes[n].alloc_cpus + 2 > w->nodes[n].cpus)
                continue;
            w->alloc[w->nj][got++] = n;
        }
        if (!got)
            continue;
        uint32_t cpus = 1 + rnd(2);
        for (uint32_t k = 0; k < got; k++) {
            w->nodes[w->alloc[w->nj][k]].alloc_cpus += cpus;
            w->nodes[w->alloc[w->nj][k]].alloc_mem += 100;
        }
        *j = (flurm_sched_job_t){ .job_id = 1 + w->nj, .priority = 1, .state = FLURM_SCHED_JOB_RUNNING,
                                  .alloc_nodes = w->alloc[w->nj], .nalloc_nodes = got, .alloc_cpus_per_node = cpus,
                                  .alloc_mem_per_node = 100, .dependency_ok = true,
                                  .end_time = now + 60 * (1 + rnd(600)) };
        w->nj++;
    }
    /* a handful of shapes repeated, plus random ones */
    uint32_t njobs = same_shapes ? MAXJ - w->nj : 20 + rnd(MAXJ - 20 - w->nj);
    flurm_sched_job_t shapes[40];
    for (uint32_t s = 0; s < (same_shapes ? same_shapes : 6); s++)
        shapes[s] = (flurm_sched_job_t){ .min_nodes = 1 + (rnd(3) ? 0 : rnd(4)), .ntasks = 1 + rnd(wide ? 48 : 8),
                                         .time_limit = 10 * (1 + rnd(60)), .mem = (wide ? 500 : 100) * rnd(8) };
    for (uint32_t k = 0; k < njobs; k++) {
        flurm_sched_job_t *j = &w->jobs[w->nj];
        if (same_shapes) {
            *j = shapes[rnd(same_shapes)];
            switch (rnd(6)) {
            case 0: j->min_nodes++; break;
            case 1: j->ntasks += 1 + rnd(2); break;
            case 2: j->time_limit += 10; break;
            case 3: j->mem += 100; break;
            default: break;
            }
            j->exclusive = rnd(30) == 0;
        } else if (rnd(2))
            *j = shapes[rnd(6)];
        else
            *j = (flurm_sched_job_t){ .min_nodes = 1 + (rnd(4) ? 0 : rnd(6)), .ntasks = 1 + rnd(wide ? 64 : 16),
                                      .time_limit = 5 * (1 + rnd(200)), .mem = (wide ? 200 : 50) * rnd(20),
                                      .exclusive = rnd(20) == 0 };
        if (rnd(8) == 0)
            j->max_nodes = j->min_nodes + rnd(3);
        j->job_id = 1000 + k;
        j->priority = 1 + rnd(50);
        j->partition = rnd(10) < 6 ? 0 : rnd(10) < 7 ? 1 : 2;
        if (j->partition == 1 && j->time_limit > 120)
            j->time_limit = 120;
        j->dependency_ok = true;
        j->submit_time = now - rnd(1000);
        if (j->ntasks < j->min_nodes)
            j->ntasks = j->min_nodes;
        if (rnd(12) == 0)
            j->features = exprs[rnd(4)];
        if (rnd(12) == 0) {
            w->jgres[w->nj] = (flurm_sched_gres_t){ .name = "gpu", .type = rnd(2) ? "a100" : NULL, .count = 1 + rnd(3) };
            j->gres = &w->jgres[w->nj];
            j->ngres = 1;
        }
        if (rnd(25) == 0) {
            w->req[w->nj][0] = rnd(w->nn);
            j->req_nodes = w->req[w->nj];
            j->nreq_nodes = 1;
        }
        if (rnd(15) == 0) {
            w->exc[w->nj][0] = rnd(w->nn);
            w->exc[w->nj][1] = rnd(w->nn);
            j->exc_nodes = w->exc[w->nj];
            j->nexc_nodes = w->exc[w->nj][0] == w->exc[w->nj][1] ? 1 : 2;
        }
        w->nj++;
    }
}

static void make_world(world_t *w, uint64_t seed)
{
    make_world_shapes(w, seed, 0, false);
}

static void expect_same(const flurm_sched_output_t *a, const flurm_sched_output_t *b, uint64_t seed)
{
    char where[64];
    snprintf(where, sizeof where, "seed %llu", (unsigned long long)seed);
    if (a->nstarts != b->nstarts)
        fail_msg("%s: %u starts, reference %u", where, a->nstarts, b->nstarts);
    for (uint32_t i = 0; i < a->nstarts; i++) {
        const flurm_sched_start_t *x = &a->starts[i], *y = &b->starts[i];
        if (x->job_id != y->job_id || x->nnodes != y->nnodes || x->backfill != y->backfill ||
            x->cpus_per_node != y->cpus_per_node || x->mem_per_node != y->mem_per_node ||
            (x->nnodes && memcmp(x->nodes, y->nodes, x->nnodes * sizeof *x->nodes)))
            fail_msg("%s: start %u: job %u differs from reference job %u", where, i, x->job_id, y->job_id);
    }
    assert_int_equal(a->njobs, b->njobs);
    for (uint32_t i = 0; i < a->njobs; i++) {
        const flurm_sched_job_result_t *x = &a->jobs[i], *y = &b->jobs[i];
        if (x->reason != y->reason || x->priority != y->priority || x->planned_start != y->planned_start ||
            x->nplanned_nodes != y->nplanned_nodes ||
            (x->nplanned_nodes && memcmp(x->planned_nodes, y->planned_nodes, x->nplanned_nodes * sizeof *x->planned_nodes)))
            fail_msg("%s: job %u: reason %d plan %lld/%u, reference reason %d plan %lld/%u", where, x->job_id,
                     x->reason, (long long)x->planned_start, x->nplanned_nodes, y->reason,
                     (long long)y->planned_start, y->nplanned_nodes);
    }
    assert_int_equal(a->stats.started_main, b->stats.started_main);
    assert_int_equal(a->stats.started_backfill, b->stats.started_backfill);
    assert_int_equal(a->stats.reservations, b->stats.reservations);
    assert_int_equal(a->stats.main_depth, b->stats.main_depth);
    assert_int_equal(a->stats.backfill_depth, b->stats.backfill_depth);
}

static void run_world(const world_t *w, uint64_t seed, uint32_t max_test, uint32_t window, uint32_t res);

static void run_seed(uint64_t seed, uint32_t max_test, uint32_t window, uint32_t res)
{
    static world_t w;
    make_world(&w, seed);
    run_world(&w, seed, max_test, window, res);
}

static void run_world(const world_t *w, uint64_t seed, uint32_t max_test, uint32_t window, uint32_t res)
{
    flurm_sched_input_t in = { .nodes = w->nodes, .nnodes = w->nn, .parts = w->parts, .nparts = 3, .jobs = w->jobs,
                               .njobs = w->nj,
                               .params = { .now = 1000000, .backfill = true, .bf_max_job_test = max_test,
                                           .bf_window = window, .bf_resolution = res,
                                           .default_queue_depth = 20 } };
    flurm_sched_output_t fast, ref;
    assert_int_equal(flurm_sched_run(&in, &fast), FLURM_OK);
    assert_int_equal(flurm_sched_run_mode(&in, &ref, SCHED_MODE_REFERENCE), FLURM_OK);
    expect_same(&fast, &ref, seed);
    flurm_sched_output_free(&fast);
    flurm_sched_output_free(&ref);
}

static void test_sched_equiv_indexed_matches_reference_unlimited(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 400; seed++)
        run_seed(seed, 100000, 0, 0);
}

static void test_sched_equiv_indexed_matches_reference_capped_short_window(void **state)
{
    (void)state;
    for (uint64_t seed = 1001; seed <= 1300; seed++)
        run_seed(seed, 1 + (uint32_t)(seed % 40), 30 + (uint32_t)(seed % 300), (uint32_t)(seed % 3) * 60);
}

/* Queues of a few repeated shapes over windows short enough to fill: the indexed search starts
 * from the lower bound an earlier, smaller job of the class left and skips jobs larger than
 * one that found no start; the reference search starts from scratch every time. */
static void test_sched_equiv_indexed_matches_reference_repeated_shapes(void **state)
{
    (void)state;
    static world_t w;
    for (uint64_t seed = 2001; seed <= 2200; seed++) {
        bool many = seed % 3 == 0;   /* many shapes, a window of minutes: most find no start */
        make_world_shapes(&w, seed, many ? 40 : 3, false);
        run_world(&w, seed, seed % 4 ? 100000 : 1 + (uint32_t)(seed % 50),
                  many ? 20 + (uint32_t)(seed % 60) : 60 + (uint32_t)(seed % 5) * 120, (uint32_t)(seed % 2) * 60);
    }
}

/* More distinct CPU counts than the index has rows (its thresholds are then spread over the
 * counts), and, every other seed, a one-second resolution with a two-day window: starts past
 * 65534 resolutions, where the index's 16-bit keys only say "not before". */
static void test_sched_equiv_indexed_matches_reference_wide_and_long(void **state)
{
    (void)state;
    static world_t w;
    for (uint64_t seed = 3001; seed <= 3200; seed++) {
        make_world_shapes(&w, seed, seed % 4 == 0 ? 40 : 0, true);
        bool lng = seed % 2;
        run_world(&w, seed, seed % 5 ? 100000 : 1 + (uint32_t)(seed % 50), lng ? 2880 : 0, lng ? 1 : 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_equiv_indexed_matches_reference_unlimited),
        cmocka_unit_test(test_sched_equiv_indexed_matches_reference_capped_short_window),
        cmocka_unit_test(test_sched_equiv_indexed_matches_reference_repeated_shapes),
        cmocka_unit_test(test_sched_equiv_indexed_matches_reference_wide_and_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
