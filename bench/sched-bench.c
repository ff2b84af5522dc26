/* sched-bench: one flurm_sched_run cycle over a generated cluster (not a test).
 *
 *   sched-bench [-s SEED] [-j PENDING] [-n NODES] [-t BF_MAX_JOB_TEST]
 *
 * Without -j/-n it runs the two reference sizes (10k pending / 1k nodes, 100k pending / 10k
 * nodes). Nodes: 32, 64 or 128 CPUs (2/4/8 GiB per CPU), weights 1..3, features "a"/"b",
 * every 8th node with gpu:a100:4. Two partitions (batch: all nodes; short: the first half,
 * MaxTime 4 h, PriorityTier 2). 20% of the nodes are busy with running jobs ending within
 * 10 min..2 days. Pending jobs: 70% one node, 20% 2..8 nodes, 10% 9..64 nodes; 1..N tasks;
 * limits 10 min..2 days; 5% exclusive, 5% with a feature constraint, 3% with a GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <flurm/sched.h>

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *feat_a[] = { "a" }, *feat_b[] = { "b" };
static const flurm_sched_gres_t node_gpu = { .name = "gpu", .type = "a100", .count = 4 };
static const flurm_sched_gres_t job_gpu = { .name = "gpu", .count = 1 };

static void bench(uint64_t seed, uint32_t npend, uint32_t nnodes, uint32_t max_test)
{
    rng = seed * 2654435761u + 1;
    int64_t now = 1700000000;
    flurm_sched_node_t *nodes = calloc(nnodes, sizeof *nodes);
    char (*names)[16] = calloc(nnodes, sizeof *names);
    uint32_t *all = malloc(nnodes * sizeof *all);
    uint32_t nbusy = nnodes / 5;
    uint32_t nrun = nbusy * 2;   /* two half-node jobs per busy node */
    flurm_sched_job_t *jobs = calloc(npend + nrun, sizeof *jobs);
    uint32_t *alloc = malloc(nrun * sizeof *alloc);
    for (uint32_t i = 0; i < nnodes; i++) {
        static const uint32_t cpus[] = { 32, 64, 128 };
        snprintf(names[i], sizeof names[i], "n%05u", i);
        uint32_t c = cpus[rnd(3)];
        nodes[i] = (flurm_sched_node_t){ .name = names[i], .cpus = c, .real_memory = (uint64_t)c * 1024 * (2u << rnd(3)),
                                         .weight = 1 + rnd(3), .usable = rnd(100) != 0,
                                         .features = i % 2 ? feat_b : feat_a, .nfeatures = 1 };
        if (i % 8 == 0) {
            nodes[i].gres = &node_gpu;
            nodes[i].ngres = 1;
        }
        all[i] = i;
    }
    flurm_sched_part_t parts[2] = {
        { .name = "batch", .nodes = all, .nnodes = nnodes, .max_share = 1, .priority_tier = 1, .priority_job_factor = 1 },
        { .name = "short", .nodes = all, .nnodes = nnodes / 2, .max_time = 240, .max_share = 1, .priority_tier = 2,
          .priority_job_factor = 1 },
    };
    uint32_t nj = 0;
    for (uint32_t r = 0; r < nrun; r++) {
        uint32_t n = (r / 2) * 5 % nnodes;   /* 20% of nodes, spread */
        alloc[r] = n;
        uint32_t c = nodes[n].cpus / 2;
        uint64_t m = nodes[n].real_memory / 4;
        nodes[n].alloc_cpus += c;
        nodes[n].alloc_mem += m;
        jobs[nj++] = (flurm_sched_job_t){ .job_id = 1 + r, .priority = 1, .state = FLURM_SCHED_JOB_RUNNING,
                                          .alloc_nodes = &alloc[r], .nalloc_nodes = 1, .alloc_cpus_per_node = c,
                                          .alloc_mem_per_node = m, .end_time = now + 600 + rnd(2 * 86400 - 600),
                                          .dependency_ok = true };
    }
    for (uint32_t k = 0; k < npend; k++) {
        flurm_sched_job_t *j = &jobs[nj++];
        uint32_t sz = rnd(100), nn = sz < 70 ? 1 : sz < 90 ? 2 + rnd(7) : 9 + rnd(56);
        uint32_t part = rnd(10) < 3;
        *j = (flurm_sched_job_t){ .job_id = 1000000 + k, .uid = 1000 + rnd(50), .priority = 1 + rnd(100000),
                                  .submit_time = now - rnd(86400), .partition = part, .min_nodes = nn,
                                  .ntasks = nn * (1 + rnd(32)), .time_limit = part ? 10 + rnd(230) : 10 + rnd(2870),
                                  .mem = 1 + rnd(1024), .mem_per_cpu = true, .exclusive = rnd(100) < 5,
                                  .dependency_ok = true };
        if (rnd(100) < 5)
            j->features = rnd(2) ? "a" : "a|b";
        if (rnd(100) < 3) {
            j->gres = &job_gpu;
            j->ngres = 1;
        }
    }
    flurm_sched_input_t in = { .nodes = nodes, .nnodes = nnodes, .parts = parts, .nparts = 2, .jobs = jobs,
                               .njobs = nj,
                               .params = { .now = now, .backfill = true, .bf_max_job_test = max_test,
                                           .default_queue_depth = 100 } };
    flurm_sched_output_t out;
    int rc = flurm_sched_run(&in, &out);
    if (rc) {
        fprintf(stderr, "flurm_sched_run: %s\n", flurm_strerror(rc));
        exit(1);
    }
    uint32_t planned = 0, resources = 0, priority = 0;
    for (uint32_t i = 0; i < out.njobs; i++) {
        planned += out.jobs[i].planned_start != 0;
        resources += out.jobs[i].reason == FLURM_SCHED_WAIT_RESOURCES;
        priority += out.jobs[i].reason == FLURM_SCHED_WAIT_PRIORITY;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("seed=%llu pending=%u nodes=%u busy=%u bf_max_job_test=%u\n", (unsigned long long)seed, npend,
           nnodes, nbusy, max_test ? max_test : 500);
    printf("  main     %8.2f ms  depth %u  started %u\n", out.stats.main_usec / 1000.0, out.stats.main_depth,
           out.stats.started_main);
    printf("  backfill %8.2f ms  depth %u  started %u  reservations %u\n", out.stats.backfill_usec / 1000.0,
           out.stats.backfill_depth, out.stats.started_backfill, out.stats.reservations);
    printf("  reasons: Resources %u  Priority %u  planned %u\n", resources, priority, planned);
    printf("  view: %zu bytes per pending job (flurm_sched_job_t; no strings owned), %zu per node; "
           "max RSS %ld MiB\n", sizeof(flurm_sched_job_t), sizeof(flurm_sched_node_t), ru.ru_maxrss / 1024);
    flurm_sched_output_free(&out);
    free(nodes);
    free(names);
    free(all);
    free(jobs);
    free(alloc);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    uint32_t npend = 0, nnodes = 0, max_test = 0;
    for (int o; (o = getopt(argc, argv, "s:j:n:t:")) != -1;) {
        switch (o) {
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'j': npend = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'n': nnodes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': max_test = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: %s [-s SEED] [-j PENDING] [-n NODES] [-t BF_MAX_JOB_TEST]\n", argv[0]);
            return 2;
        }
    }
    if (npend && nnodes) {
        bench(seed, npend, nnodes, max_test);
    } else {
        bench(seed, 10000, 1000, max_test);
        bench(seed, 100000, 10000, max_test);
    }
    return 0;
}
