/* sched_fifo_small.c — an example FLURM scheduler plugin, built out of tree against an installed
 * libflurm (see Makefile and README.md): "smallest jobs first".
 *
 * Only the prioritize slot is filled: a job's priority is a ranking by the CPUs it requests
 * (fewest first), ties by submit time then job id (first come, first served). schedule is NULL,
 * so the built-in scheduler places the jobs in that order (with backfill).
 *
 * Select it with SchedulerType=sched/fifo_small and put sched_fifo_small.so into PluginDir. */
#include <stdlib.h>
#include <flurm/sched_plugin.h>

/* CPUs a pending job asks for, as the built-in job-size factor counts them. */
static uint64_t requested_cpus(const flurm_sched_job_t *j)
{
    uint64_t nodes = j->min_nodes ? j->min_nodes : 1;
    uint64_t cpt = j->cpus_per_task ? j->cpus_per_task : 1;
    if (j->ntasks_per_node)
        return j->ntasks_per_node * nodes * cpt;
    return (j->ntasks ? j->ntasks : nodes) * cpt;
}

static const flurm_sched_input_t *sort_in;   /* the host calls one slot at a time */

static int smaller_first(const void *a, const void *b)
{
    const flurm_sched_job_t *x = &sort_in->jobs[*(const uint32_t *)a];
    const flurm_sched_job_t *y = &sort_in->jobs[*(const uint32_t *)b];
    uint64_t cx = requested_cpus(x), cy = requested_cpus(y);
    if (cx != cy)
        return cx < cy ? -1 : 1;
    if (x->submit_time != y->submit_time)
        return x->submit_time < y->submit_time ? -1 : 1;
    return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

static int prioritize(void *ctx, const flurm_sched_input_t *in, uint32_t *priorities)
{
    (void)ctx;
    uint32_t *order = malloc((in->njobs + 1) * sizeof *order);
    if (!order)
        return FLURM_ENOMEM;
    for (uint32_t i = 0; i < in->njobs; i++)
        order[i] = i;
    sort_in = in;
    qsort(order, in->njobs, sizeof *order, smaller_first);
    /* first in order gets the highest priority; held jobs stay held whatever we write */
    for (uint32_t r = 0; r < in->njobs; r++)
        priorities[order[r]] = 1000000 - (r < 999999 ? r : 999999);
    free(order);
    return 0;
}

static const flurm_sched_plugin_t plugin = {
    .abi_version = FLURM_SCHED_PLUGIN_ABI,
    .size = sizeof(flurm_sched_plugin_t),
    .name = "fifo_small",
    .prioritize = prioritize,
    /* init, fini, schedule: NULL (no state; the built-in scheduler places the jobs) */
};

FLURM_SCHED_PLUGIN_EXPORT const flurm_sched_plugin_t *flurm_sched_plugin_entry(void)
{
    return &plugin;
}
