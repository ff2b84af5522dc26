/* tests/unit/plugins/sched_test_plugin.c — scheduler plugins for test_sched_plugin.c, one source
 * compiled into several shared modules by -D flags (tests/unit/meson.build):
 *   (none)              sched_good: init keeps params; prioritize reverses the job order by id;
 *                       schedule starts the highest-priority pending job on node 0 and reports
 *                       init's params length in stats.queue_length
 *   PRIO_ONLY           sched_prio: prioritize only (schedule NULL -> built-in)
 *   BAD_ABI             sched_badabi: abi_version 2
 *   BAD_SIZE            sched_badsize: size 8
 *   BAD_INIT            sched_badinit: init fails with FLURM_EPERM
 *   NO_ENTRY            sched_noentry: exports no entry symbol
 *   BAD_SCHEDULE        sched_badsched: schedule fails with FLURM_EAGAIN
 *   BAD_OUTPUT          sched_badout: schedule returns a start on a node out of range
 * Self-contained (no libflurm calls): the test executable links libflurm statically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <flurm/sched_plugin.h>

typedef struct ctx {
    char *params;
} ctx_t;

static int t_init(void **c, const char *params)
{
#ifdef BAD_INIT
    (void)c;
    (void)params;
    return FLURM_EPERM;
#else
    ctx_t *x = calloc(1, sizeof *x);
    if (!x || (params && !(x->params = strdup(params)))) {
        free(x);
        return FLURM_ENOMEM;
    }
    *c = x;
    return 0;
#endif
}

/* fini writes init's params to the file $SCHED_TEST_FINI_FILE: the test sees that it ran with
 * the right context although the module is unloaded right after. */
static void t_fini(void *c)
{
    ctx_t *x = c;
    const char *flag = getenv("SCHED_TEST_FINI_FILE");
    if (flag) {
        FILE *f = fopen(flag, "w");
        if (f) {
            fputs(x && x->params ? x->params : "(null)", f);
            fclose(f);
        }
    }
    if (x)
        free(x->params);
    free(x);
}

/* Highest job id first: priority = 1000 + rank of the id among the jobs. */
static int t_prioritize(void *c, const flurm_sched_input_t *in, uint32_t *prio)
{
    (void)c;
    for (uint32_t i = 0; i < in->njobs; i++) {
        uint32_t rank = 0;
        for (uint32_t k = 0; k < in->njobs; k++)
            rank += in->jobs[k].job_id < in->jobs[i].job_id;
        prio[i] = 1000 + rank;
    }
    return 0;
}

#if !defined(PRIO_ONLY)
static int t_schedule(void *c, const flurm_sched_input_t *in, flurm_sched_output_t *out)
{
    ctx_t *x = c;
#ifdef BAD_SCHEDULE
    (void)x;
    (void)in;
    (void)out;
    return FLURM_EAGAIN;
#else
    out->jobs = calloc(in->njobs + 1, sizeof *out->jobs);
    if (!out->jobs)
        return FLURM_ENOMEM;
    out->njobs = in->njobs;
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < in->njobs; i++) {
        out->jobs[i].job_id = in->jobs[i].job_id;
        out->jobs[i].priority = in->jobs[i].priority;
        if (in->jobs[i].state != FLURM_SCHED_JOB_PENDING)
            continue;
        out->jobs[i].reason = FLURM_SCHED_WAIT_PRIORITY;
        if (best == UINT32_MAX || in->jobs[i].priority > in->jobs[best].priority)
            best = i;
    }
    out->stats.queue_length = x && x->params ? (uint32_t)strlen(x->params) : 0;
    if (best == UINT32_MAX || !in->nnodes)
        return 0;
    out->starts = calloc(1, sizeof *out->starts);
    if (!out->starts || !(out->starts[0].nodes = calloc(1, sizeof(uint32_t)))) {
        free(out->starts);
        out->starts = NULL;
        return FLURM_ENOMEM;   /* the host frees out->jobs */
    }
    out->nstarts = 1;
    out->starts[0].job_id = in->jobs[best].job_id;
    out->starts[0].job_index = best;
    out->starts[0].nnodes = 1;
#ifdef BAD_OUTPUT
    out->starts[0].nodes[0] = in->nnodes;
#endif
    out->starts[0].cpus_per_node = 1;
    out->jobs[best].reason = FLURM_SCHED_WAIT_NO_REASON;
    return 0;
#endif
}
#endif

static const flurm_sched_plugin_t ops = {
#ifdef BAD_ABI
    .abi_version = 2,
#else
    .abi_version = FLURM_SCHED_PLUGIN_ABI,
#endif
#ifdef BAD_SIZE
    .size = 8,
#else
    .size = sizeof(flurm_sched_plugin_t),
#endif
    .name = "test",
    .init = t_init,
    .fini = t_fini,
    .prioritize = t_prioritize,
#if !defined(PRIO_ONLY)
    .schedule = t_schedule,
#endif
};

#ifdef NO_ENTRY
FLURM_SCHED_PLUGIN_EXPORT const flurm_sched_plugin_t *not_the_entry(void);
const flurm_sched_plugin_t *not_the_entry(void)
#else
const flurm_sched_plugin_t *flurm_sched_plugin_entry(void)
#endif
{
    return &ops;
}
