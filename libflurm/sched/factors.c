/* libflurm/sched/factors.c — a job's weighted priority factors (sprio's view); see flurm/sched.h. */
#include <flurm/sched.h>

#include <string.h>

int flurm_sched_job_factors(const flurm_sched_input_t *in, const flurm_sched_output_t *out,
                            uint32_t index, flurm_sched_factors_t *f)
{
    if (index >= in->njobs || index >= out->njobs)
        return FLURM_ERANGE;
    memset(f, 0, sizeof *f);
    const flurm_sched_job_t *j = &in->jobs[index];
    const flurm_sched_job_result_t *r = &out->jobs[index];
    const flurm_sched_params_t *pa = &in->params;
    if (pa->priority_type != FLURM_SCHED_PRIORITY_MULTIFACTOR || j->state != FLURM_SCHED_JOB_PENDING)
        return FLURM_ENOENT;
    f->job_id = j->job_id;
    f->priority = r->priority;
    f->age = r->f_age * pa->weight_age;
    f->fairshare = r->f_fairshare * pa->weight_fairshare;
    f->jobsize = r->f_jobsize * pa->weight_jobsize;
    f->partition = r->f_partition * pa->weight_partition;
    f->qos = r->f_qos * pa->weight_qos;
    f->nice = j->nice;
    return FLURM_OK;
}
