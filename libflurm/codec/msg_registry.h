/* libflurm/codec/msg_registry.h — which wire layout belongs to which SLURM message type.
 *
 * flurm_msg_table() answers for every type: it asks the request/small-reply layouts of
 * msg_req.c first, then flurm_msg_info_table() (the big info responses). A NULL answer means
 * "empty body" or "no layout": tell them apart with flurm_msg_empty_body()/flurm_msg_known(). */
#ifndef FLURM_CODEC_MSG_REGISTRY_H
#define FLURM_CODEC_MSG_REGISTRY_H

#include <stdint.h>
#include "codec/table.h"

/* Layout of MSG_TYPE's body, or NULL (empty body or unknown). */
const flurm_table_t *flurm_msg_table(uint16_t msg_type);

/* Layouts defined in msg_req.c (requests and small replies), or NULL. */
const flurm_table_t *flurm_msg_req_table(uint16_t msg_type);

/* Layouts of the info responses (RESPONSE_JOB_INFO, _NODE_INFO, _PARTITION_INFO,
 * _BUILD_INFO, _STATS_INFO), or NULL. msg_info_stub.c holds a weak default returning NULL;
 * the module that defines these layouts provides the strong definition. */
const flurm_table_t *flurm_msg_info_table(uint16_t msg_type);

#endif
