/* libflurm/codec/msg_info.h — layout tables of the INFO responses (include/flurm/msg_info.h). */
#ifndef FLURM_CODEC_MSG_INFO_H
#define FLURM_CODEC_MSG_INFO_H

#include <stdint.h>
#include <flurm/msg_info.h>
#include "codec/table.h"

/* Table of the body struct of MSG_TYPE: 2002 flurm_build_info_msg_t, 2004
 * flurm_job_info_msg_t, 2008 flurm_node_info_msg_t, 2010 flurm_part_info_msg_t, 2036
 * flurm_stats_info_msg_t, 1002 flurm_node_reg_status_msg_t, 1024 flurm_node_reg_resp_msg_t;
 * NULL for any other type. */
const flurm_table_t *flurm_msg_info_table(uint16_t msg_type);

extern const flurm_table_t flurm_build_info_msg_table;
extern const flurm_table_t flurm_job_info_msg_table;
extern const flurm_table_t flurm_job_info_table;          /* one job record */
extern const flurm_table_t flurm_job_resources_table;
extern const flurm_table_t flurm_node_info_msg_table;
extern const flurm_table_t flurm_node_info_table;         /* one node record */
extern const flurm_table_t flurm_part_info_msg_table;
extern const flurm_table_t flurm_part_info_table;         /* one partition record */
extern const flurm_table_t flurm_stats_info_msg_table;
extern const flurm_table_t flurm_node_reg_status_msg_table;
extern const flurm_table_t flurm_node_reg_resp_msg_table;

#endif
