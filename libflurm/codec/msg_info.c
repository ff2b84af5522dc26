/* libflurm/codec/msg_info.c — wire layouts of the SLURM 22.05 INFO responses (and node
 * registration), protocol 0x2600. Field order follows the 22.05 branches of the packers named
 * in include/flurm/msg_info.h; where the client's unpacker is stricter than the packer (count
 * cross-checks, select plugin ids, the multi_core flag) the decoder rejects what the real
 * client rejects, and the encoder refuses to produce it. */
#include "codec/msg_info.h"

#include <stdlib.h>
#include <string.h>

static int fail(flurm_buf_t *b, int err)
{
    if (!b->err)
        b->err = err;
    return b->err;
}

/* ---- record arrays of the *_info_msg_t headers ----
 * The count is packed as a plain field before other header items, so these are not generic
 * lists: the count is always sent (never NO_VAL) and the records follow the header. */

/* ---- shared sub-records ---- */

#define T flurm_job_default_t
static const flurm_field_t job_default_fields[] = {
    FLD_U16(T, type),
    FLD_U64(T, value),
};
static FLURM_TABLE(job_default_table, T, job_default_fields);
#undef T

#define T flurm_key_pair_t
static const flurm_field_t key_pair_fields[] = {
    FLD_STR(T, name),
    FLD_STR(T, value),
};
static FLURM_TABLE(key_pair_table, T, key_pair_fields);
#undef T

#define T flurm_plugin_params_t
static const flurm_field_t plugin_params_fields[] = {
    FLD_STR(T, name),
    FLD_LIST(T, key_pairs, key_pair_cnt, key_pair_table),
};
static FLURM_TABLE(plugin_params_table, T, plugin_params_fields);
#undef T

/* Select plugins whose jobinfo blob is empty and whose nodeinfo blob is {u16 alloc_cpus,
 * u64 alloc_memory, str tres_alloc_fmt_str, double tres_alloc_weighted} (select/cons_common,
 * select/linear). The client refuses ids of plugins it cannot load (src/common/select.c). */
static bool select_plugin_known(uint32_t id)
{
    return id == FLURM_SELECT_PLUGIN_CONS_RES || id == FLURM_SELECT_PLUGIN_LINEAR ||
           id == FLURM_SELECT_PLUGIN_CONS_TRES;
}

/* ---- RESPONSE_JOB_INFO (2004) ---- */

#define T flurm_job_resources_t
static const flurm_field_t job_resources_fields[] = {
    FLD_U32(T, nhosts),
    FLD_U32(T, ncpus),
    FLD_U32(T, node_req),
    FLD_STR(T, nodes),
    FLD_U8(T, whole_node),
    FLD_U16(T, threads_per_core),
    FLD_U16(T, cr_type),
    FLD_U32_ARRAY(T, cpu_array_reps, cpu_array_reps_cnt),
    FLD_U16_ARRAY(T, cpu_array_value, cpu_array_value_cnt),
    FLD_U16_ARRAY(T, cpus, cpus_cnt),
    FLD_U16_ARRAY(T, cpus_used, cpus_used_cnt),
    FLD_U64_ARRAY(T, memory_allocated, memory_allocated_cnt),
    FLD_U64_ARRAY(T, memory_used, memory_used_cnt),
    FLD_U16_ARRAY(T, sockets_per_node, sockets_per_node_cnt),
    FLD_U16_ARRAY(T, cores_per_socket, cores_per_socket_cnt),
    FLD_U32_ARRAY(T, sock_core_rep_count, sock_core_rep_count_cnt),
    FLD_BITMAP(T, core_bitmap, core_bitmap_bits),
    FLD_BITMAP(T, core_bitmap_used, core_bitmap_used_bits),
};
FLURM_TABLE(flurm_job_resources_table, T, job_resources_fields);
#undef T

/* unpack_job_resources (src/common/job_resources.c) rejects these count mismatches. */
static bool job_resources_consistent(const flurm_job_resources_t *r)
{
    return r->nhosts != FLURM_NO_VAL && r->cpu_array_value_cnt == r->cpu_array_reps_cnt &&
           r->cpus_cnt == r->nhosts;
}

static int pack_job_resrcs(flurm_buf_t *b, const void *obj)
{
    const flurm_job_resources_t *r = ((const flurm_job_info_t *)obj)->job_resrcs;
    if (!r)
        return flurm_pack32(b, FLURM_NO_VAL);
    if (!job_resources_consistent(r))
        return fail(b, FLURM_EINVAL);
    return flurm_table_pack(&flurm_job_resources_table, r, b);
}

static int unpack_job_resrcs(flurm_buf_t *b, void *obj)
{
    flurm_job_info_t *job = obj;
    size_t start = b->pos;
    uint32_t nhosts;
    if (flurm_unpack32(b, &nhosts) || nhosts == FLURM_NO_VAL)
        return b->err;
    b->pos = start;    /* nhosts is the block's first member: let the table read it */
    flurm_job_resources_t *r = calloc(1, sizeof *r);
    if (!r)
        return fail(b, FLURM_ENOMEM);
    if (flurm_table_unpack(&flurm_job_resources_table, r, b)) {
        free(r);
        return b->err;
    }
    if (!job_resources_consistent(r)) {
        flurm_table_free(&flurm_job_resources_table, r);
        free(r);
        return fail(b, FLURM_EPROTO);
    }
    job->job_resrcs = r;
    return FLURM_OK;
}

static void free_job_resrcs(void *obj)
{
    flurm_job_info_t *job = obj;
    if (job->job_resrcs) {
        flurm_table_free(&flurm_job_resources_table, job->job_resrcs);
        free(job->job_resrcs);
        job->job_resrcs = NULL;
    }
}

/* The select jobinfo blob is the plugin id alone; this pseudo-field only validates it. */
static int pack_job_select_check(flurm_buf_t *b, const void *obj)
{
    if (!select_plugin_known(((const flurm_job_info_t *)obj)->select_plugin_id))
        return fail(b, FLURM_EINVAL);
    return b->err;
}

static int unpack_job_select_check(flurm_buf_t *b, void *obj)
{
    if (!select_plugin_known(((flurm_job_info_t *)obj)->select_plugin_id))
        return fail(b, FLURM_EPROTO);
    return b->err;
}

/* multi_core block (pack_multi_core_data): u8 flag, 0 = absent, 0xFF = nine u16 follow.
 * The overlay table has size 0 so that unpacking it does not clear the enclosing record;
 * it may hold scalar members only (a failed unpack cannot reset freed pointers). */
#define T flurm_job_info_t
static const flurm_field_t multi_core_fields[] = {
    FLD_U16(T, boards_per_node),
    FLD_U16(T, sockets_per_board),
    FLD_U16(T, sockets_per_node),
    FLD_U16(T, cores_per_socket),
    FLD_U16(T, threads_per_core),
    FLD_U16(T, ntasks_per_board),
    FLD_U16(T, ntasks_per_socket),
    FLD_U16(T, ntasks_per_core),
    FLD_U16(T, plane_size),
};
#undef T
static const flurm_table_t multi_core_overlay = {
    "flurm_job_info_t.multi_core", 0, multi_core_fields,
    sizeof(multi_core_fields) / sizeof(multi_core_fields[0])
};

#define MULTI_CORE_PRESENT 0xFFu

static int pack_multi_core(flurm_buf_t *b, const void *obj)
{
    const flurm_job_info_t *job = obj;
    if (job->multi_core_flag != 0 && job->multi_core_flag != MULTI_CORE_PRESENT)
        return fail(b, FLURM_EINVAL);
    flurm_pack8(b, job->multi_core_flag);
    if (job->multi_core_flag == MULTI_CORE_PRESENT)
        flurm_table_pack(&multi_core_overlay, obj, b);
    return b->err;
}

static int unpack_multi_core(flurm_buf_t *b, void *obj)
{
    flurm_job_info_t *job = obj;
    if (flurm_unpack8(b, &job->multi_core_flag))
        return b->err;
    if (job->multi_core_flag == 0)
        return FLURM_OK;
    if (job->multi_core_flag != MULTI_CORE_PRESENT)
        return fail(b, FLURM_EPROTO);
    return flurm_table_unpack(&multi_core_overlay, obj, b);
}

#define T flurm_job_info_t
static const flurm_field_t job_info_fields[] = {
    FLD_U32(T, array_job_id),
    FLD_U32(T, array_task_id),
    FLD_STR(T, array_task_str),
    FLD_U32(T, array_max_tasks),
    FLD_U32(T, assoc_id),
    FLD_STR(T, container),
    FLD_U32(T, delay_boot),
    FLD_U32(T, job_id),
    FLD_U32(T, user_id),
    FLD_U32(T, group_id),
    FLD_U32(T, het_job_id),
    FLD_STR(T, het_job_id_set),
    FLD_U32(T, het_job_offset),
    FLD_U32(T, profile),
    FLD_U32(T, job_state),
    FLD_U16(T, batch_flag),
    FLD_U16(T, state_reason),
    FLD_U8(T, power_flags),
    FLD_U8(T, reboot),
    FLD_U16(T, restart_cnt),
    FLD_U16(T, show_flags),
    FLD_TIME(T, deadline),
    FLD_U32(T, alloc_sid),
    FLD_U32(T, time_limit),
    FLD_U32(T, time_min),
    FLD_U32(T, nice),
    FLD_TIME(T, submit_time),
    FLD_TIME(T, eligible_time),
    FLD_TIME(T, accrue_time),
    FLD_TIME(T, start_time),
    FLD_TIME(T, end_time),
    FLD_TIME(T, suspend_time),
    FLD_TIME(T, pre_sus_time),
    FLD_TIME(T, resize_time),
    FLD_TIME(T, last_sched_eval),
    FLD_TIME(T, preempt_time),
    FLD_U32(T, priority),
    FLD_DOUBLE(T, billable_tres),
    FLD_STR(T, cluster),
    FLD_STR(T, nodes),
    FLD_STR(T, sched_nodes),
    FLD_STR(T, partition),
    FLD_STR(T, account),
    FLD_STR(T, admin_comment),
    FLD_U32(T, site_factor),
    FLD_STR(T, network),
    FLD_STR(T, comment),
    FLD_STR(T, container2),
    FLD_STR(T, batch_features),
    FLD_STR(T, batch_host),
    FLD_STR(T, burst_buffer),
    FLD_STR(T, burst_buffer_state),
    FLD_STR(T, system_comment),
    FLD_STR(T, qos),
    FLD_TIME(T, preemptable_time),
    FLD_STR(T, licenses),
    FLD_STR(T, state_desc),
    FLD_STR(T, resv_name),
    FLD_STR(T, mcs_label),
    FLD_U32(T, exit_code),
    FLD_U32(T, derived_ec),
    FLD_STR(T, gres_total),
    FLD_CUSTOM(pack_job_resrcs, unpack_job_resrcs, free_job_resrcs, "job_resrcs"),
    FLD_STR_ARRAY(T, gres_detail_str, gres_detail_cnt),
    FLD_STR(T, name),
    FLD_STR(T, user_name),
    FLD_STR(T, wckey),
    FLD_U32(T, req_switch),
    FLD_U32(T, wait4switch),
    FLD_STR(T, alloc_node),
    FLD_BITMAP(T, node_inx, node_inx_bits),
    FLD_U32(T, select_plugin_id),
    FLD_CUSTOM(pack_job_select_check, unpack_job_select_check, NULL, "select_plugin_id check"),
    FLD_STR(T, features),
    FLD_STR(T, prefer),
    FLD_STR(T, cluster_features),
    FLD_STR(T, work_dir),
    FLD_STR(T, dependency),
    FLD_STR(T, command),
    FLD_U32(T, num_cpus),
    FLD_U32(T, max_cpus),
    FLD_U32(T, num_nodes),
    FLD_U32(T, max_nodes),
    FLD_U16(T, requeue),
    FLD_U16(T, ntasks_per_node),
    FLD_U16(T, ntasks_per_tres),
    FLD_U32(T, num_tasks),
    FLD_U16(T, shared),
    FLD_U32(T, cpu_freq_min),
    FLD_U32(T, cpu_freq_max),
    FLD_U32(T, cpu_freq_gov),
    FLD_STR(T, cronspec),
    FLD_U16(T, contiguous),
    FLD_U16(T, core_spec),
    FLD_U16(T, cpus_per_task),
    FLD_U16(T, pn_min_cpus),
    FLD_U64(T, pn_min_memory),
    FLD_U32(T, pn_min_tmp_disk),
    FLD_STR(T, req_nodes),
    FLD_BITMAP(T, req_node_inx, req_node_inx_bits),
    FLD_STR(T, exc_nodes),
    FLD_BITMAP(T, exc_node_inx, exc_node_inx_bits),
    FLD_STR(T, std_err),
    FLD_STR(T, std_in),
    FLD_STR(T, std_out),
    FLD_CUSTOM(pack_multi_core, unpack_multi_core, NULL, "multi_core"),
    FLD_U64(T, bitflags),
    FLD_STR(T, tres_alloc_str),
    FLD_STR(T, tres_req_str),
    FLD_U16(T, start_protocol_ver),
    FLD_STR(T, fed_origin_str),
    FLD_U64(T, fed_siblings_active),
    FLD_STR(T, fed_siblings_active_str),
    FLD_U64(T, fed_siblings_viable),
    FLD_STR(T, fed_siblings_viable_str),
    FLD_STR(T, cpus_per_tres),
    FLD_STR(T, mem_per_tres),
    FLD_STR(T, tres_bind),
    FLD_STR(T, tres_freq),
    FLD_STR(T, tres_per_job),
    FLD_STR(T, tres_per_node),
    FLD_STR(T, tres_per_socket),
    FLD_STR(T, tres_per_task),
    FLD_U16(T, mail_type),
    FLD_STR(T, mail_user),
    FLD_STR(T, selinux_context),
};
FLURM_TABLE(flurm_job_info_table, T, job_info_fields);
#undef T

#define T flurm_job_info_msg_t
static const flurm_field_t job_info_msg_fields[] = {
    FLD_U32(T, record_count),
    FLD_TIME(T, last_update),
    FLD_TIME(T, last_backfill),
    FLD_RECORDS(T, job_array, record_count, flurm_job_info_table),
};
FLURM_TABLE(flurm_job_info_msg_table, T, job_info_msg_fields);
#undef T

/* ---- RESPONSE_NODE_INFO (2008) ---- */

static int pack_node_select_check(flurm_buf_t *b, const void *obj)
{
    if (!select_plugin_known(((const flurm_node_info_t *)obj)->select_plugin_id))
        return fail(b, FLURM_EINVAL);
    return b->err;
}

static int unpack_node_select_check(flurm_buf_t *b, void *obj)
{
    if (!select_plugin_known(((flurm_node_info_t *)obj)->select_plugin_id))
        return fail(b, FLURM_EPROTO);
    return b->err;
}

#define T flurm_node_info_t
static const flurm_field_t node_info_fields[] = {
    FLD_STR(T, name),
    FLD_STR(T, node_hostname),
    FLD_STR(T, node_addr),
    FLD_STR(T, bcast_address),
    FLD_U16(T, port),
    FLD_U32(T, next_state),
    FLD_U32(T, node_state),
    FLD_STR(T, version),
    FLD_U16(T, cpus),
    FLD_U16(T, boards),
    FLD_U16(T, sockets),
    FLD_U16(T, cores),
    FLD_U16(T, threads),
    FLD_U64(T, real_memory),
    FLD_U32(T, tmp_disk),
    FLD_STR(T, mcs_label),
    FLD_U32(T, owner),
    FLD_U16(T, core_spec_cnt),
    FLD_U32(T, cpu_bind),
    FLD_U64(T, mem_spec_limit),
    FLD_STR(T, cpu_spec_list),
    FLD_U16(T, cpus_efctv),
    FLD_U32(T, cpu_load),
    FLD_U64(T, free_mem),
    FLD_U32(T, weight),
    FLD_U32(T, reason_uid),
    FLD_TIME(T, boot_time),
    FLD_TIME(T, last_busy),
    FLD_TIME(T, reason_time),
    FLD_TIME(T, slurmd_start_time),
    FLD_U32(T, select_plugin_id),
    FLD_CUSTOM(pack_node_select_check, unpack_node_select_check, NULL, "select_plugin_id check"),
    FLD_U16(T, alloc_cpus),
    FLD_U64(T, alloc_memory),
    FLD_STR(T, tres_alloc_fmt_str),
    FLD_DOUBLE(T, tres_alloc_weighted),
    FLD_STR(T, arch),
    FLD_STR(T, features),
    FLD_STR(T, features_act),
    FLD_STR(T, gres),
    FLD_STR(T, gres_drain),
    FLD_STR(T, gres_used),
    FLD_STR(T, os),
    FLD_STR(T, comment),
    FLD_STR(T, extra),
    FLD_STR(T, reason),
    FLD_U64(T, energy_base_consumed),
    FLD_U32(T, energy_ave_watts),
    FLD_U64(T, energy_consumed),
    FLD_U32(T, energy_current_watts),
    FLD_U64(T, energy_previous_consumed),
    FLD_TIME(T, energy_poll_time),
    FLD_U64(T, ext_consumed_energy),
    FLD_U32(T, ext_temperature),
    FLD_TIME(T, ext_energy_update_time),
    FLD_U32(T, ext_current_watts),
    FLD_U32(T, power_cap_watts),
    FLD_STR(T, tres_fmt_str),
};
FLURM_TABLE(flurm_node_info_table, T, node_info_fields);
#undef T

#define T flurm_node_info_msg_t
static const flurm_field_t node_info_msg_fields[] = {
    FLD_U32(T, record_count),
    FLD_TIME(T, last_update),
    FLD_RECORDS(T, node_array, record_count, flurm_node_info_table),
};
FLURM_TABLE(flurm_node_info_msg_table, T, node_info_msg_fields);
#undef T

/* ---- RESPONSE_PARTITION_INFO (2010) ---- */

#define T flurm_part_info_t
static const flurm_field_t part_info_fields[] = {
    FLD_STR(T, name),
    FLD_U32(T, cpu_bind),
    FLD_U32(T, grace_time),
    FLD_U32(T, max_time),
    FLD_U32(T, default_time),
    FLD_U32(T, max_nodes),
    FLD_U32(T, min_nodes),
    FLD_U32(T, total_nodes),
    FLD_U32(T, total_cpus),
    FLD_U64(T, def_mem_per_cpu),
    FLD_U32(T, max_cpus_per_node),
    FLD_U64(T, max_mem_per_cpu),
    FLD_U16(T, flags),
    FLD_U16(T, max_share),
    FLD_U16(T, over_time_limit),
    FLD_U16(T, preempt_mode),
    FLD_U16(T, priority_job_factor),
    FLD_U16(T, priority_tier),
    FLD_U16(T, state_up),
    FLD_U16(T, cr_type),
    FLD_U16(T, resume_timeout),
    FLD_U16(T, suspend_timeout),
    FLD_U32(T, suspend_time),
    FLD_STR(T, allow_accounts),
    FLD_STR(T, allow_groups),
    FLD_STR(T, allow_alloc_nodes),
    FLD_STR(T, allow_qos),
    FLD_STR(T, qos_char),
    FLD_STR(T, alternate),
    FLD_STR(T, deny_accounts),
    FLD_STR(T, deny_qos),
    FLD_STR(T, nodes),
    FLD_STR(T, nodesets),
    FLD_BITMAP(T, node_inx, node_inx_bits),
    FLD_STR(T, billing_weights_str),
    FLD_STR(T, tres_fmt_str),
    FLD_LIST(T, job_defaults, job_defaults_cnt, job_default_table),
};
FLURM_TABLE(flurm_part_info_table, T, part_info_fields);
#undef T

#define T flurm_part_info_msg_t
static const flurm_field_t part_info_msg_fields[] = {
    FLD_U32(T, record_count),
    FLD_TIME(T, last_update),
    FLD_RECORDS(T, partition_array, record_count, flurm_part_info_table),
};
FLURM_TABLE(flurm_part_info_msg_table, T, part_info_msg_fields);
#undef T

/* ---- RESPONSE_BUILD_INFO (2002) ---- */

/* _unpack_slurm_ctl_conf_msg: both controller arrays share one count (control_cnt). */
static int pack_control_check(flurm_buf_t *b, const void *obj)
{
    const flurm_build_info_msg_t *m = obj;
    if (m->control_addr_cnt != m->control_machine_cnt)
        return fail(b, FLURM_EINVAL);
    return b->err;
}

static int unpack_control_check(flurm_buf_t *b, void *obj)
{
    const flurm_build_info_msg_t *m = obj;
    if (m->control_addr_cnt != m->control_machine_cnt)
        return fail(b, FLURM_EPROTO);
    return b->err;
}

#define T flurm_build_info_msg_t
static const flurm_field_t build_info_fields[] = {
    FLD_TIME(T, last_update),
    FLD_U16(T, accounting_storage_enforce),
    FLD_STR(T, accounting_storage_backup_host),
    FLD_STR(T, accounting_storage_host),
    FLD_STR(T, accounting_storage_ext_host),
    FLD_STR(T, accounting_storage_params),
    FLD_U16(T, accounting_storage_port),
    FLD_STR(T, accounting_storage_tres),
    FLD_STR(T, accounting_storage_type),
    FLD_STR(T, accounting_storage_user),
    FLD_LIST(T, acct_gather_conf, acct_gather_conf_cnt, key_pair_table),
    FLD_STR(T, acct_gather_energy_type),
    FLD_STR(T, acct_gather_filesystem_type),
    FLD_STR(T, acct_gather_interconnect_type),
    FLD_U16(T, acct_gather_node_freq),
    FLD_STR(T, acct_gather_profile_type),
    FLD_STR(T, authalttypes),
    FLD_STR(T, authalt_params),
    FLD_STR(T, authinfo),
    FLD_STR(T, authtype),
    FLD_U16(T, batch_start_timeout),
    FLD_TIME(T, boot_time),
    FLD_STR(T, bb_type),
    FLD_STR(T, bcast_exclude),
    FLD_STR(T, bcast_parameters),
    FLD_LIST(T, cgroup_conf, cgroup_conf_cnt, key_pair_table),
    FLD_STR(T, cli_filter_plugins),
    FLD_STR(T, cluster_name),
    FLD_STR(T, comm_params),
    FLD_U16(T, complete_wait),
    FLD_U32(T, conf_flags),
    FLD_STR_ARRAY(T, control_addr, control_addr_cnt),
    FLD_STR_ARRAY(T, control_machine, control_machine_cnt),
    FLD_CUSTOM(pack_control_check, unpack_control_check, NULL, "control_cnt check"),
    FLD_STR(T, core_spec_plugin),
    FLD_U32(T, cpu_freq_def),
    FLD_U32(T, cpu_freq_govs),
    FLD_STR(T, cred_type),
    FLD_U64(T, def_mem_per_cpu),
    FLD_U64(T, debug_flags),
    FLD_STR(T, dependency_params),
    FLD_U16(T, eio_timeout),
    FLD_U16(T, enforce_part_limits),
    FLD_STR(T, epilog),
    FLD_U32(T, epilog_msg_time),
    FLD_STR(T, epilog_slurmctld),
    FLD_LIST(T, ext_sensors_conf, ext_sensors_conf_cnt, key_pair_table),
    FLD_STR(T, ext_sensors_type),
    FLD_U16(T, ext_sensors_freq),
    FLD_STR(T, fed_params),
    FLD_U32(T, first_job_id),
    FLD_U16(T, fs_dampening_factor),
    FLD_U16(T, get_env_timeout),
    FLD_STR(T, gres_plugins),
    FLD_U16(T, group_time),
    FLD_U16(T, group_force),
    FLD_STR(T, gpu_freq_def),
    FLD_U32(T, hash_val),
    FLD_U16(T, health_check_interval),
    FLD_U16(T, health_check_node_state),
    FLD_STR(T, health_check_program),
    FLD_U16(T, inactive_limit),
    FLD_STR(T, interactive_step_opts),
    FLD_STR(T, job_acct_gather_freq),
    FLD_STR(T, job_acct_gather_type),
    FLD_STR(T, job_acct_gather_params),
    FLD_STR(T, job_comp_host),
    FLD_STR(T, job_comp_loc),
    FLD_STR(T, job_comp_params),
    FLD_U32(T, job_comp_port),
    FLD_STR(T, job_comp_type),
    FLD_STR(T, job_comp_user),
    FLD_STR(T, job_container_plugin),
    FLD_STR(T, job_credential_private_key),
    FLD_STR(T, job_credential_public_certificate),
    FLD_LIST(T, job_defaults, job_defaults_cnt, job_default_table),
    FLD_U16(T, job_file_append),
    FLD_U16(T, job_requeue),
    FLD_STR(T, job_submit_plugins),
    FLD_U16(T, kill_on_bad_exit),
    FLD_U16(T, kill_wait),
    FLD_STR(T, launch_params),
    FLD_STR(T, launch_type),
    FLD_STR(T, licenses),
    FLD_U16(T, log_fmt),
    FLD_U32(T, max_array_sz),
    FLD_U32(T, max_dbd_msgs),
    FLD_STR(T, mail_domain),
    FLD_STR(T, mail_prog),
    FLD_U32(T, max_job_cnt),
    FLD_U32(T, max_job_id),
    FLD_U64(T, max_mem_per_cpu),
    FLD_U32(T, max_node_cnt),
    FLD_U32(T, max_step_cnt),
    FLD_U16(T, max_tasks_per_node),
    FLD_STR(T, mcs_plugin),
    FLD_STR(T, mcs_plugin_params),
    FLD_U32(T, min_job_age),
    FLD_LIST(T, mpi_conf, mpi_conf_cnt, key_pair_table),
    FLD_STR(T, mpi_default),
    FLD_STR(T, mpi_params),
    FLD_U16(T, msg_timeout),
    FLD_U32(T, next_job_id),
    FLD_LIST(T, node_features_conf, node_features_conf_cnt, plugin_params_table),
    FLD_STR(T, node_features_plugins),
    FLD_STR(T, node_prefix),
    FLD_U16(T, over_time_limit),
    FLD_STR(T, plugindir),
    FLD_STR(T, plugstack),
    FLD_STR(T, power_parameters),
    FLD_STR(T, power_plugin),
    FLD_U16(T, preempt_mode),
    FLD_STR(T, preempt_type),
    FLD_U32(T, preempt_exempt_time),
    FLD_STR(T, prep_params),
    FLD_STR(T, prep_plugins),
    FLD_U32(T, priority_decay_hl),
    FLD_U32(T, priority_calc_period),
    FLD_U16(T, priority_favor_small),
    FLD_U16(T, priority_flags),
    FLD_U32(T, priority_max_age),
    FLD_STR(T, priority_params),
    FLD_U16(T, priority_reset_period),
    FLD_STR(T, priority_type),
    FLD_U32(T, priority_weight_age),
    FLD_U32(T, priority_weight_assoc),
    FLD_U32(T, priority_weight_fs),
    FLD_U32(T, priority_weight_js),
    FLD_U32(T, priority_weight_part),
    FLD_U32(T, priority_weight_qos),
    FLD_STR(T, priority_weight_tres),
    FLD_U16(T, private_data),
    FLD_STR(T, proctrack_type),
    FLD_STR(T, prolog),
    FLD_U16(T, prolog_epilog_timeout),
    FLD_STR(T, prolog_slurmctld),
    FLD_U16(T, prolog_flags),
    FLD_U16(T, propagate_prio_process),
    FLD_STR(T, propagate_rlimits),
    FLD_STR(T, propagate_rlimits_except),
    FLD_STR(T, reboot_program),
    FLD_U16(T, reconfig_flags),
    FLD_STR(T, requeue_exit),
    FLD_STR(T, requeue_exit_hold),
    FLD_STR(T, resume_fail_program),
    FLD_STR(T, resume_program),
    FLD_U16(T, resume_rate),
    FLD_U16(T, resume_timeout),
    FLD_STR(T, resv_epilog),
    FLD_U16(T, resv_over_run),
    FLD_STR(T, resv_prolog),
    FLD_U16(T, ret2service),
    FLD_STR(T, route_plugin),
    FLD_STR(T, sched_params),
    FLD_STR(T, sched_logfile),
    FLD_U16(T, sched_log_level),
    FLD_U16(T, sched_time_slice),
    FLD_STR(T, schedtype),
    FLD_STR(T, scron_params),
    FLD_STR(T, select_type),
    FLD_LIST(T, select_conf_key_pairs, select_conf_key_pairs_cnt, key_pair_table),
    FLD_U16(T, select_type_param),
    FLD_STR(T, slurm_conf),
    FLD_U32(T, slurm_user_id),
    FLD_STR(T, slurm_user_name),
    FLD_U32(T, slurmd_user_id),
    FLD_STR(T, slurmd_user_name),
    FLD_STR(T, slurmctld_addr),
    FLD_U16(T, slurmctld_debug),
    FLD_STR(T, slurmctld_logfile),
    FLD_STR(T, slurmctld_params),
    FLD_STR(T, slurmctld_pidfile),
    FLD_STR(T, slurmctld_plugstack),
    FLD_LIST(T, slurmctld_plugstack_conf, slurmctld_plugstack_conf_cnt, plugin_params_table),
    FLD_U32(T, slurmctld_port),
    FLD_U16(T, slurmctld_port_count),
    FLD_STR(T, slurmctld_primary_off_prog),
    FLD_STR(T, slurmctld_primary_on_prog),
    FLD_U16(T, slurmctld_syslog_debug),
    FLD_U16(T, slurmctld_timeout),
    FLD_U16(T, slurmd_debug),
    FLD_STR(T, slurmd_logfile),
    FLD_STR(T, slurmd_params),
    FLD_STR(T, slurmd_pidfile),
    FLD_U32(T, slurmd_port),
    FLD_STR(T, slurmd_spooldir),
    FLD_U16(T, slurmd_syslog_debug),
    FLD_U16(T, slurmd_timeout),
    FLD_STR(T, srun_epilog),
    FLD_U16(T, srun_port_range_min),
    FLD_U16(T, srun_port_range_max),
    FLD_STR(T, srun_prolog),
    FLD_STR(T, state_save_location),
    FLD_STR(T, suspend_exc_nodes),
    FLD_STR(T, suspend_exc_parts),
    FLD_STR(T, suspend_program),
    FLD_U16(T, suspend_rate),
    FLD_U32(T, suspend_time),
    FLD_U16(T, suspend_timeout),
    FLD_STR(T, switch_param),
    FLD_STR(T, switch_type),
    FLD_STR(T, task_epilog),
    FLD_STR(T, task_prolog),
    FLD_STR(T, task_plugin),
    FLD_U32(T, task_plugin_param),
    FLD_U16(T, tcp_timeout),
    FLD_STR(T, tmp_fs),
    FLD_STR(T, topology_param),
    FLD_STR(T, topology_plugin),
    FLD_U16(T, tree_width),
    FLD_STR(T, unkillable_program),
    FLD_U16(T, unkillable_timeout),
    FLD_STR(T, version),
    FLD_U16(T, vsize_factor),
    FLD_U16(T, wait_time),
    FLD_STR(T, x11_params),
};
FLURM_TABLE(flurm_build_info_msg_table, T, build_info_fields);
#undef T

/* ---- RESPONSE_STATS_INFO (2036) ---- */

/* Present only when parts_packed != 0 (pack_all_stat). Overlay table: scalars only. */
#define T flurm_stats_info_msg_t
static const flurm_field_t stats_parts_fields[] = {
    FLD_TIME(T, req_time),
    FLD_TIME(T, req_time_start),
    FLD_U32(T, server_thread_count),
    FLD_U32(T, agent_queue_size),
    FLD_U32(T, agent_count),
    FLD_U32(T, agent_thread_count),
    FLD_U32(T, dbd_agent_queue_size),
    FLD_U32(T, gettimeofday_latency),
    FLD_U32(T, jobs_submitted),
    FLD_U32(T, jobs_started),
    FLD_U32(T, jobs_completed),
    FLD_U32(T, jobs_canceled),
    FLD_U32(T, jobs_failed),
    FLD_U32(T, jobs_pending),
    FLD_U32(T, jobs_running),
    FLD_TIME(T, job_states_ts),
    FLD_U32(T, schedule_cycle_max),
    FLD_U32(T, schedule_cycle_last),
    FLD_U32(T, schedule_cycle_sum),
    FLD_U32(T, schedule_cycle_counter),
    FLD_U32(T, schedule_cycle_depth),
    FLD_U32(T, schedule_queue_len),
    FLD_U32(T, bf_backfilled_jobs),
    FLD_U32(T, bf_last_backfilled_jobs),
    FLD_U32(T, bf_cycle_counter),
    FLD_U64(T, bf_cycle_sum),
    FLD_U32(T, bf_cycle_last),
    FLD_U32(T, bf_last_depth),
    FLD_U32(T, bf_last_depth_try),
    FLD_U32(T, bf_queue_len),
    FLD_U32(T, bf_cycle_max),
    FLD_TIME(T, bf_when_last_cycle),
    FLD_U32(T, bf_depth_sum),
    FLD_U32(T, bf_depth_try_sum),
    FLD_U32(T, bf_queue_len_sum),
    FLD_U32(T, bf_table_size),
    FLD_U32(T, bf_table_size_sum),
    FLD_U32(T, bf_active),
    FLD_U32(T, bf_backfilled_het_jobs),
};
#undef T
static const flurm_table_t stats_parts_overlay = {
    "flurm_stats_info_msg_t.parts", 0, stats_parts_fields,
    sizeof(stats_parts_fields) / sizeof(stats_parts_fields[0])
};

static int pack_stats_parts(flurm_buf_t *b, const void *obj)
{
    if (((const flurm_stats_info_msg_t *)obj)->parts_packed)
        flurm_table_pack(&stats_parts_overlay, obj, b);
    return b->err;
}

static int unpack_stats_parts(flurm_buf_t *b, void *obj)
{
    if (((flurm_stats_info_msg_t *)obj)->parts_packed)
        return flurm_table_unpack(&stats_parts_overlay, obj, b);
    return b->err;
}

/* _unpack_stats_response_msg rejects mismatched parallel arrays. */
static bool stats_counts_consistent(const flurm_stats_info_msg_t *m)
{
    return m->rpc_queue_count_cnt == m->rpc_queue_type_count &&
           m->rpc_dump_hostlist_cnt == m->rpc_dump_count;
}

static int pack_stats_check(flurm_buf_t *b, const void *obj)
{
    return stats_counts_consistent(obj) ? b->err : fail(b, FLURM_EINVAL);
}

static int unpack_stats_check(flurm_buf_t *b, void *obj)
{
    return stats_counts_consistent(obj) ? b->err : fail(b, FLURM_EPROTO);
}

#define T flurm_stats_info_msg_t
static const flurm_field_t stats_info_fields[] = {
    FLD_U32(T, parts_packed),
    FLD_CUSTOM(pack_stats_parts, unpack_stats_parts, NULL, "parts"),
    FLD_U32(T, rpc_type_size),
    FLD_U16_ARRAY(T, rpc_type_id, rpc_type_id_cnt),
    FLD_U32_ARRAY(T, rpc_type_cnt, rpc_type_cnt_cnt),
    FLD_U64_ARRAY(T, rpc_type_time, rpc_type_time_cnt),
    FLD_U32(T, rpc_user_size),
    FLD_U32_ARRAY(T, rpc_user_id, rpc_user_id_cnt),
    FLD_U32_ARRAY(T, rpc_user_cnt, rpc_user_cnt_cnt),
    FLD_U64_ARRAY(T, rpc_user_time, rpc_user_time_cnt),
    FLD_U32_ARRAY(T, rpc_queue_type_id, rpc_queue_type_count),
    FLD_U32_ARRAY(T, rpc_queue_count, rpc_queue_count_cnt),
    FLD_U32_ARRAY(T, rpc_dump_types, rpc_dump_count),
    FLD_STR_ARRAY(T, rpc_dump_hostlist, rpc_dump_hostlist_cnt),
    FLD_CUSTOM(pack_stats_check, unpack_stats_check, NULL, "rpc count check"),
};
FLURM_TABLE(flurm_stats_info_msg_table, T, stats_info_fields);
#undef T

/* ---- MESSAGE_NODE_REGISTRATION_STATUS (1002) ---- */

#define T flurm_step_id_t
static const flurm_field_t step_id_fields[] = {
    FLD_U32(T, job_id),
    FLD_U32(T, step_id),
    FLD_U32(T, step_het_comp),
};
static FLURM_TABLE(step_id_table, T, step_id_fields);
#undef T

/* u32 size, then (size > 0 only) packmem of the blob, whose own length must match. */
static int pack_reg_gres(flurm_buf_t *b, const void *obj)
{
    const flurm_node_reg_status_msg_t *m = obj;
    if (m->gres_info_size && !m->gres_info)
        return fail(b, FLURM_EINVAL);
    flurm_pack32(b, m->gres_info_size);
    if (m->gres_info_size)
        flurm_packmem(b, m->gres_info, m->gres_info_size);
    return b->err;
}

static int unpack_reg_gres(flurm_buf_t *b, void *obj)
{
    flurm_node_reg_status_msg_t *m = obj;
    uint32_t size, len;
    void *p;
    if (flurm_unpack32(b, &size) || size == 0)
        return b->err;
    if (flurm_unpackmem(b, &p, &len))
        return b->err;
    if (len != size) {
        free(p);
        return fail(b, FLURM_EPROTO);
    }
    m->gres_info = p;
    m->gres_info_size = size;
    return FLURM_OK;
}

static void free_reg_gres(void *obj)
{
    flurm_node_reg_status_msg_t *m = obj;
    free(m->gres_info);
    m->gres_info = NULL;
    m->gres_info_size = 0;
}

#define T flurm_node_reg_status_msg_t
static const flurm_field_t node_reg_status_fields[] = {
    FLD_TIME(T, timestamp),
    FLD_TIME(T, slurmd_start_time),
    FLD_U32(T, status),
    FLD_STR(T, features_active),
    FLD_STR(T, features_avail),
    FLD_STR(T, hostname),
    FLD_STR(T, node_name),
    FLD_STR(T, arch),
    FLD_STR(T, cpu_spec_list),
    FLD_STR(T, os),
    FLD_U16(T, cpus),
    FLD_U16(T, boards),
    FLD_U16(T, sockets),
    FLD_U16(T, cores),
    FLD_U16(T, threads),
    FLD_U64(T, real_memory),
    FLD_U32(T, tmp_disk),
    FLD_U32(T, up_time),
    FLD_U32(T, hash_val),
    FLD_U32(T, cpu_load),
    FLD_U64(T, free_mem),
    /* u32 job_count, then that many step ids: a plain count, 0 = none (not NO_VAL) */
    FLD_U32(T, job_count),
    FLD_RECORDS(T, step_id, job_count, step_id_table),
    FLD_U16(T, flags),
    FLD_CUSTOM(pack_reg_gres, unpack_reg_gres, free_reg_gres, "gres_info"),
    FLD_U64(T, energy_base_consumed),
    FLD_U32(T, energy_ave_watts),
    FLD_U64(T, energy_consumed),
    FLD_U32(T, energy_current_watts),
    FLD_U64(T, energy_previous_consumed),
    FLD_TIME(T, energy_poll_time),
    FLD_STR(T, version),
    FLD_U8(T, dynamic_type),
    FLD_STR(T, dynamic_conf),
    FLD_STR(T, dynamic_feature),
};
FLURM_TABLE(flurm_node_reg_status_msg_table, T, node_reg_status_fields);
#undef T

/* ---- RESPONSE_NODE_REGISTRATION (1024) ---- */

#define T flurm_tres_rec_t
static const flurm_field_t tres_rec_fields[] = {
    FLD_U64(T, alloc_secs),
    FLD_U64(T, count),
    FLD_U32(T, id),
    FLD_STR(T, name),
    FLD_STR(T, type),
};
static FLURM_TABLE(tres_rec_table, T, tres_rec_fields);
#undef T

#define T flurm_node_reg_resp_msg_t
static const flurm_field_t node_reg_resp_fields[] = {
    FLD_LIST(T, tres, tres_cnt, tres_rec_table),
    FLD_STR(T, node_name),
};
FLURM_TABLE(flurm_node_reg_resp_msg_table, T, node_reg_resp_fields);
#undef T

const flurm_table_t *flurm_msg_info_table(uint16_t msg_type)
{
    switch (msg_type) {
    case 1002: return &flurm_node_reg_status_msg_table;  /* MESSAGE_NODE_REGISTRATION_STATUS */
    case 1024: return &flurm_node_reg_resp_msg_table;    /* RESPONSE_NODE_REGISTRATION */
    case 2002: return &flurm_build_info_msg_table;       /* RESPONSE_BUILD_INFO */
    case 2004: return &flurm_job_info_msg_table;         /* RESPONSE_JOB_INFO */
    case 2008: return &flurm_node_info_msg_table;        /* RESPONSE_NODE_INFO */
    case 2010: return &flurm_part_info_msg_table;        /* RESPONSE_PARTITION_INFO */
    case 2036: return &flurm_stats_info_msg_table;       /* RESPONSE_STATS_INFO */
    default: return NULL;
    }
}
