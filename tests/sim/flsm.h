/* tests/sim/flsm.h — what FLURM controllers propose in the simulator's FLURM mode.
 *
 * A ready leader (one that applied its own no-op, as bin/flurmctld/commit.c serves) acts as
 * flurmctld would: client submissions with job ids reserved as rpc.c's reserve_job_id does
 * (from its applied state's next_job_id, never handing one out twice), scheduler decisions
 * (JOB_START from flurm_state_plan), job ends reported by nodes, scancel, node registrations,
 * dead nodes, drain/resume, purges of finished jobs. Commands carry the proposer's wall clock,
 * which may step either way. */
#ifndef SIM_FLSM_H
#define SIM_FLSM_H

#include "world.h"

/* The shared configuration (parsed once; flsm_conf_free at exit). */
const flurm_conf_t *flsm_conf(void);
void flsm_conf_free(void);

/* Make W (from world_init_flurm) settle through flsm_propose_submit. */
void flsm_attach(world_t *w);

/* One action of leader I (nothing unless it is ready); RNG drives the choice. Returns the
 * number of commands proposed. */
size_t flsm_act(world_t *w, uint32_t i, uint64_t *rng);

/* Propose one submission at leader I; the proposal number, 0 if refused or not ready. */
uint64_t flsm_propose_submit(world_t *w, uint32_t i);

#endif
