/* bin/flurmctld/alloc.h — the clients of interactive allocations (salloc, and srun outside a
 * job: REQUEST_RESOURCE_ALLOCATION, a job without a batch script).
 *
 * The allocation is proposed like a submission. Once applied, its request waits (ALLOC_WAIT_S)
 * for the job to start (a scheduling pass runs at once) and is answered with the grant
 * (RESPONSE_RESOURCE_ALLOCATION with the nodes), or else with "pending" (node_cnt 0, the reason
 * as error_code): salloc then prints "queued and waiting for resources" and listens on its
 * alloc_resp_port, where the grant is pushed once the job starts (FLURM_EFFECT_ALLOCATED), as
 * slurmctld does. Leader only, loop thread only; what waits or is to be pushed is this
 * controller's own (a new leader does not push the grants of allocations its predecessor
 * answered "pending": their clients wait until cancelled). */
#ifndef FLURMCTLD_ALLOC_H
#define FLURMCTLD_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include <flurm/msg.h>

#include "ctl.h"

/* R's allocation (job JOB_ID) is applied: answer R once the job starts, or pending after
 * ALLOC_WAIT_S (then push to the client at R's address, port R->alloc_port); R is answered
 * through server_send_reply(). The client's message port (R->other_port) is kept for the life
 * of the job. */
void alloc_wait(ctl_t *ctl, rpc_t *r, uint32_t job_id);

/* Job J, an interactive allocation, started (FLURM_EFFECT_ALLOCATED): its client hears it. */
void alloc_started(ctl_t *ctl, const flurm_job_t *j);

/* Job J was cancelled or timed out (FLURM_EFFECT_REVOKED): SRUN_JOB_COMPLETE to its client's
 * message port (salloc: "Job allocation N has been revoked", and its command is ended). */
void alloc_revoked(ctl_t *ctl, const flurm_job_t *j);

/* The grant of running job J into M (RESPONSE_RESOURCE_ALLOCATION and
 * RESPONSE_JOB_ALLOCATION_INFO); pending J: node_cnt 0. Free with alloc_grant_release(). */
void alloc_grant(ctl_t *ctl, const flurm_job_t *j, flurm_resource_allocation_response_msg_t *m);
void alloc_grant_release(flurm_resource_allocation_response_msg_t *m);

/* Housekeeping (leader): interactive allocations past their time limit end TIMEOUT (nothing on
 * the nodes would end them). */
void alloc_tick(ctl_t *ctl);

/* At exit: forgets what waits and what was to be pushed (their connections close with the
 * process). */
void alloc_stop(ctl_t *ctl);

#endif
