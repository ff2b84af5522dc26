/* sched-bench: one flurm_sched_run cycle over a generated cluster (not a test).
 *
 *   sched-bench [-s SEED] [-j PENDING] [-n NODES] [-t BF_MAX_JOB_TEST] [-r]
 *
 * Without -j/-n it runs the two reference sizes (10k pending / 1k nodes, 100k pending / 10k
 * nodes), each with SLURM's default bf_max_job_test (500 jobs tested, starts included) and
 * unlimited (bf_max_job_test = number of pending jobs: every job that does not start gets its
 * reservation search), and ends
 * with one summary line per run. -t 0 means unlimited with -j/-n. -r uses the reference search
 * (every candidate node at every breakpoint, each search from the start of the window; slow)
 * instead of the node index.
 *
 * Every run is measured in a child process of its own. Memory per pending job: "view" is the
 * exact size of the input the caller builds (jobs, nodes, names, partitions, allocation arrays)
 * divided by the pending jobs; "sched" is the growth of the child's peak RSS across
 * flurm_sched_run (getrusage ru_maxrss after building the view and after the run: the
 * scheduler's working memory plus its output) divided by the pending jobs. Nodes: 32, 64 or 128 CPUs (2/4/8 GiB per CPU), weights 1..3, features "a"/"b",
 * every 8th node with gpu:a100:4. Two partitions (batch: all nodes; short: the first half,
 * MaxTime 4 h, PriorityTier 2). 20% of the nodes are busy with running jobs ending within
 * 10 min..2 days. Pending jobs: 70% one node, 20% 2..8 nodes, 10% 9..64 nodes; 1..N tasks;
 * limits 10 min..2 days; 5% exclusive, 5% with a feature constraint, 3% with a GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

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

static const char *feat_a[] = { "a" }, *feat_b[] = { "b" };
static const flurm_sched_gres_t node_gpu = { .name = "gpu", .type = "a100", .count = 4 };
static const flurm_sched_gres_t job_gpu = { .name = "gpu", .count = 1 };

typedef struct figures {
    uint32_t npend, nnodes, max_test;
    double main_ms, bf_ms, total_ms, cpu_ms;
    uint32_t started_main, started_bf, reservations;
    double view_b, sched_b;
} figures_t;

static bool use_reference;

static void bench(uint64_t seed, uint32_t npend, uint32_t nnodes, uint32_t max_test, figures_t *fig)
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
    size_t view = (size_t)nj * sizeof *jobs + nnodes * (sizeof *nodes + sizeof *names + sizeof *all) +
                  nrun * sizeof *alloc + sizeof parts;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    flurm_sched_output_t out;
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    int rc = use_reference ? flurm_sched_run_mode(&in, &out, SCHED_MODE_REFERENCE) : flurm_sched_run(&in, &out);
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    double total_ms = (ts1.tv_sec - ts0.tv_sec) * 1e3 + (ts1.tv_nsec - ts0.tv_nsec) / 1e6;
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
    *fig = (figures_t){ .npend = npend, .nnodes = nnodes, .max_test = max_test ? max_test : 500,
                        .main_ms = out.stats.main_usec / 1000.0, .bf_ms = out.stats.backfill_usec / 1000.0,
                        .total_ms = total_ms,
                        .cpu_ms = (ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
                                  (ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3,
                        .started_main = out.stats.started_main, .started_bf = out.stats.started_backfill,
                        .reservations = out.stats.reservations, .view_b = (double)view / npend,
                        .sched_b = (double)(ru.ru_maxrss - ru0.ru_maxrss) * 1024.0 / npend };
    printf("seed=%llu pending=%u nodes=%u busy=%u bf_max_job_test=%u%s\n", (unsigned long long)seed, npend,
           nnodes, nbusy, fig->max_test, use_reference ? " (reference search)" : "");
    printf("  main     %8.2f ms  depth %u  started %u\n", out.stats.main_usec / 1000.0, out.stats.main_depth,
           out.stats.started_main);
    printf("  backfill %8.2f ms  depth %u  started %u  reservations %u\n", out.stats.backfill_usec / 1000.0,
           out.stats.backfill_depth, out.stats.started_backfill, out.stats.reservations);
    printf("  reasons: Resources %u  Priority %u  planned %u\n", resources, priority, planned);
    printf("  flurm_sched_run %8.2f ms in all (setup, priorities, sorting, both passes), %.2f ms of CPU\n", total_ms,
           fig->cpu_ms);
    printf("  memory per pending job: view %.0f B (of which flurm_sched_job_t %zu B), sched %.0f B "
           "(peak RSS %ld -> %ld MiB)\n", fig->view_b, sizeof(flurm_sched_job_t), fig->sched_b,
           ru0.ru_maxrss / 1024, ru.ru_maxrss / 1024);
    fflush(stdout);
    flurm_sched_output_free(&out);
    free(nodes);
    free(names);
    free(all);
    free(jobs);
    free(alloc);
}

/* Runs one configuration in a child (its own peak RSS) and reads its figures back. */
static int run_child(uint64_t seed, uint32_t npend, uint32_t nnodes, uint32_t max_test, figures_t *fig)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (!pid) {
        close(fd[0]);
        figures_t f;
        bench(seed, npend, nnodes, max_test, &f);
        ssize_t w = write(fd[1], &f, sizeof f);
        _exit(w == (ssize_t)sizeof f ? 0 : 1);
    }
    close(fd[1]);
    ssize_t r = read(fd[0], fig, sizeof *fig);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    return r == (ssize_t)sizeof *fig && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    uint32_t npend = 0, nnodes = 0, max_test = 0;
    bool have_t = false;
    for (int o; (o = getopt(argc, argv, "s:j:n:t:r")) != -1;) {
        switch (o) {
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'j': npend = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'n': nnodes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': max_test = (uint32_t)strtoul(optarg, NULL, 10); have_t = true; break;
        case 'r': use_reference = true; break;
        default:
            fprintf(stderr, "usage: %s [-s SEED] [-j PENDING] [-n NODES] [-t BF_MAX_JOB_TEST] [-r]\n", argv[0]);
            return 2;
        }
    }
    figures_t figs[4];
    uint32_t nf = 0;
    if (npend && nnodes) {
        if (run_child(seed, npend, nnodes, have_t ? (max_test ? max_test : npend) : 500, &figs[nf]) == 0)
            nf++;
    } else {
        static const uint32_t sizes[2][2] = { { 10000, 1000 }, { 100000, 10000 } };
        for (int k = 0; k < 2; k++)
            for (int u = 0; u < 2; u++)
                if (run_child(seed, sizes[k][0], sizes[k][1], u ? sizes[k][0] : 500, &figs[nf]) == 0)
                    nf++;
    }
    printf("\n%-16s %-10s %9s %9s %9s %9s %9s %7s %8s %10s %11s\n", "pending x nodes", "bf_test", "main ms",
           "bf ms", "total ms", "cpu ms", "main st", "bf st", "resv", "view B/job", "sched B/job");
    for (uint32_t i = 0; i < nf; i++) {
        char size[32], test[16];
        snprintf(size, sizeof size, "%ux%u", figs[i].npend, figs[i].nnodes);
        if (figs[i].max_test >= figs[i].npend)
            snprintf(test, sizeof test, "unlimited");
        else
            snprintf(test, sizeof test, "%u", figs[i].max_test);
        printf("%-16s %-10s %9.2f %9.2f %9.2f %9.2f %9u %7u %8u %10.0f %11.0f\n", size, test, figs[i].main_ms,
               figs[i].bf_ms, figs[i].total_ms, figs[i].cpu_ms, figs[i].started_main, figs[i].started_bf, figs[i].reservations, figs[i].view_b, figs[i].sched_b);
    }
    return nf ? 0 : 1;
}
