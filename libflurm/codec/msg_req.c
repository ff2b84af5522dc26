/* libflurm/codec/msg_req.c — wire layouts of the request bodies and small replies.
 *
 * Field order is that of the 22.05 branch of the _pack_* functions in
 * src/common/slurm_protocol_pack.c (slurm-22-05-8-1) named before each table; the structs are
 * in include/flurm/msg.h. FLD_CUSTOM appears only where the wire layout is conditional or
 * where slurmctld's unpacker rejects values (the checks are mirrored). */
#include <flurm/msg.h>

#include <stdlib.h>
#include <string.h>

#include "codec/msg_registry.h"
#include "codec/table.h"

static int fail(flurm_buf_t *b, int err)
{
    if (!b->err)
        b->err = err;
    return b->err;
}

/* Element layout for "list of u32" members: uint32_t * + count, wire u32 count (NO_VAL when
 * the pointer is NULL) then the values (job ids in job_info_request, will_run preemptees). */
static const flurm_field_t u32_elem_fields[] = {
    { .type = FLURM_FT_U32, .off = 0, .name = "value" },
};
static const flurm_table_t u32_elem_table = { "uint32_t", sizeof(uint32_t), u32_elem_fields, 1 };

/* ---- return codes: _pack_return_code_msg / _pack_return_code2_msg ---- */

static const flurm_field_t return_code_fields[] = {
    FLD_U32(flurm_return_code_msg_t, return_code),
};
static FLURM_TABLE(return_code_table, flurm_return_code_msg_t, return_code_fields);

static const flurm_field_t return_code2_fields[] = {
    FLD_U32(flurm_return_code2_msg_t, return_code),
    FLD_STR(flurm_return_code2_msg_t, err_msg),
};
static FLURM_TABLE(return_code2_table, flurm_return_code2_msg_t, return_code2_fields);

/* ---- info requests ---- */

/* _pack_last_update_msg, _pack_resv_info_request_msg */
static const flurm_field_t last_update_fields[] = {
    FLD_TIME(flurm_last_update_msg_t, last_update),
};
static FLURM_TABLE(last_update_table, flurm_last_update_msg_t, last_update_fields);

/* _pack_job_info_request_msg: the id list count is NO_VAL for "all jobs"; the unpacker
 * rejects counts above NO_VAL (here: counts beyond the bytes left). */
static const flurm_field_t job_info_request_fields[] = {
    FLD_TIME(flurm_job_info_request_msg_t, last_update),
    FLD_U16(flurm_job_info_request_msg_t, show_flags),
    FLD_LIST(flurm_job_info_request_msg_t, job_ids, job_ids_count, u32_elem_table),
};
static FLURM_TABLE(job_info_request_table, flurm_job_info_request_msg_t, job_info_request_fields);

/* _pack_job_ready_msg (also REQUEST_JOB_INFO_SINGLE and REQUEST_BATCH_SCRIPT) */
static const flurm_field_t job_id_fields[] = {
    FLD_U32(flurm_job_id_msg_t, job_id),
    FLD_U16(flurm_job_id_msg_t, show_flags),
};
static FLURM_TABLE(job_id_table, flurm_job_id_msg_t, job_id_fields);

/* _pack_job_user_msg */
static const flurm_field_t job_user_id_fields[] = {
    FLD_U32(flurm_job_user_id_msg_t, user_id),
    FLD_U16(flurm_job_user_id_msg_t, show_flags),
};
static FLURM_TABLE(job_user_id_table, flurm_job_user_id_msg_t, job_user_id_fields);

/* pack_step_id */
static const flurm_field_t step_id_fields[] = {
    FLD_U32(flurm_step_id_t, job_id),
    FLD_U32(flurm_step_id_t, step_id),
    FLD_U32(flurm_step_id_t, step_het_comp),
};
static FLURM_TABLE(step_id_table, flurm_step_id_t, step_id_fields);

/* _pack_job_step_info_req_msg */
static const flurm_field_t job_step_info_request_fields[] = {
    FLD_TIME(flurm_job_step_info_request_msg_t, last_update),
    FLD_STRUCT(flurm_job_step_info_request_msg_t, step_id, step_id_table),
    FLD_U16(flurm_job_step_info_request_msg_t, show_flags),
};
static FLURM_TABLE(job_step_info_request_table, flurm_job_step_info_request_msg_t,
                   job_step_info_request_fields);

/* _pack_node_info_request_msg */
static const flurm_field_t node_info_request_fields[] = {
    FLD_TIME(flurm_node_info_request_msg_t, last_update),
    FLD_U16(flurm_node_info_request_msg_t, show_flags),
};
static FLURM_TABLE(node_info_request_table, flurm_node_info_request_msg_t, node_info_request_fields);

/* _pack_node_info_single_msg */
static const flurm_field_t node_info_single_fields[] = {
    FLD_STR(flurm_node_info_single_msg_t, node_name),
    FLD_U16(flurm_node_info_single_msg_t, show_flags),
};
static FLURM_TABLE(node_info_single_table, flurm_node_info_single_msg_t, node_info_single_fields);

/* _pack_part_info_request_msg */
static const flurm_field_t part_info_request_fields[] = {
    FLD_TIME(flurm_part_info_request_msg_t, last_update),
    FLD_U16(flurm_part_info_request_msg_t, show_flags),
};
static FLURM_TABLE(part_info_request_table, flurm_part_info_request_msg_t, part_info_request_fields);

/* ---- RESPONSE_FED_INFO: slurmdb_pack_federation_rec (src/common/slurmdb_pack.c) ----
 * u8 0 = no federation and nothing follows; 1 = a federation record follows (unsupported). */

static int fed_info_pack(flurm_buf_t *b, const void *obj)
{
    const flurm_fed_info_msg_t *m = obj;
    if (m->federated)
        return fail(b, FLURM_ENOTSUP);
    return flurm_pack8(b, 0);
}

static int fed_info_unpack(flurm_buf_t *b, void *obj)
{
    flurm_fed_info_msg_t *m = obj;
    uint8_t present;
    if (flurm_unpack8(b, &present))
        return b->err;
    m->federated = false;
    return present ? fail(b, FLURM_ENOTSUP) : FLURM_OK;
}

static const flurm_field_t fed_info_fields[] = {
    FLD_CUSTOM(fed_info_pack, fed_info_unpack, NULL, "federation_rec"),
};
static FLURM_TABLE(fed_info_table, flurm_fed_info_msg_t, fed_info_fields);

/* ---- job_desc: _pack_job_desc_msg, 22.05 branch ---- */

/* pack_cron_entry (src/common/cron.c): u8 set, then the entry only when set. */
static const flurm_field_t cron_entry_fields[] = {
    FLD_U32(flurm_cron_entry_t, flags),
    FLD_BITMAP(flurm_cron_entry_t, minute, minute_bits),
    FLD_BITMAP(flurm_cron_entry_t, hour, hour_bits),
    FLD_BITMAP(flurm_cron_entry_t, day_of_month, day_of_month_bits),
    FLD_BITMAP(flurm_cron_entry_t, month, month_bits),
    FLD_BITMAP(flurm_cron_entry_t, day_of_week, day_of_week_bits),
    FLD_STR(flurm_cron_entry_t, cronspec),
    FLD_U32(flurm_cron_entry_t, line_start),
    FLD_U32(flurm_cron_entry_t, line_end),
};
static FLURM_TABLE(cron_entry_table, flurm_cron_entry_t, cron_entry_fields);

static int cron_pack(flurm_buf_t *b, const void *obj)
{
    const flurm_job_desc_msg_t *m = obj;
    if (!m->crontab_entry)
        return flurm_pack8(b, 0);
    flurm_pack8(b, 1);
    return flurm_table_pack(&cron_entry_table, m->crontab_entry, b);
}

static int cron_unpack(flurm_buf_t *b, void *obj)
{
    flurm_job_desc_msg_t *m = obj;
    uint8_t set;
    /* unpack_cron_entry reads any non-zero flag as "present". */
    if (flurm_unpack8(b, &set) || !set)
        return b->err;
    flurm_cron_entry_t *e = malloc(sizeof *e);
    if (!e)
        return fail(b, FLURM_ENOMEM);
    if (flurm_table_unpack(&cron_entry_table, e, b)) {
        free(e);
        return b->err;
    }
    m->crontab_entry = e;
    return FLURM_OK;
}

static void cron_free(void *obj)
{
    flurm_job_desc_msg_t *m = obj;
    if (m->crontab_entry) {
        flurm_table_free(&cron_entry_table, m->crontab_entry);
        free(m->crontab_entry);
        m->crontab_entry = NULL;
    }
}

/* The select jobinfo blob of every 22.05 select plugin is its u32 plugin id alone
 * (select_g_select_jobinfo_pack); an id no plugin owns fails the unpack. */
static bool select_plugin_known(uint32_t id)
{
    switch (id) {
    case FLURM_SELECT_PLUGIN_CONS_RES:
    case FLURM_SELECT_PLUGIN_LINEAR:
    case FLURM_SELECT_PLUGIN_SERIAL:
    case FLURM_SELECT_PLUGIN_CRAY_LINEAR:
    case FLURM_SELECT_PLUGIN_CRAY_CONS_RES:
    case FLURM_SELECT_PLUGIN_CONS_TRES:
    case FLURM_SELECT_PLUGIN_CRAY_CONS_TRES:
        return true;
    default:
        return false;
    }
}

static int select_jobinfo_pack(flurm_buf_t *b, const void *obj)
{
    return flurm_pack32(b, ((const flurm_job_desc_msg_t *)obj)->select_plugin_id);
}

static int select_jobinfo_unpack(flurm_buf_t *b, void *obj)
{
    flurm_job_desc_msg_t *m = obj;
    if (flurm_unpack32(b, &m->select_plugin_id))
        return b->err;
    return select_plugin_known(m->select_plugin_id) ? FLURM_OK : fail(b, FLURM_EPROTO);
}

/* No wire bytes: _unpack_job_desc_msg rejects an environment whose envcount() (entries up
 * to the first NULL) differs from env_size, and the same for spank_job_env. */
static bool all_set(char *const *a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!a[i])
            return false;
    return true;
}

static int env_check_pack(flurm_buf_t *b, const void *obj)
{
    (void)obj;
    return b->err;
}

static int env_check_unpack(flurm_buf_t *b, void *obj)
{
    const flurm_job_desc_msg_t *m = obj;
    if (!all_set(m->environment, m->env_size) || !all_set(m->spank_job_env, m->spank_job_env_size))
        return fail(b, FLURM_EPROTO);
    return FLURM_OK;
}

#define JD flurm_job_desc_msg_t
static const flurm_field_t job_desc_fields[] = {
    FLD_U32(JD, site_factor),
    FLD_STR(JD, batch_features),
    FLD_STR(JD, cluster_features),
    FLD_STR(JD, clusters),
    FLD_U16(JD, contiguous),
    FLD_STR(JD, container),
    FLD_U16(JD, core_spec),
    FLD_U32(JD, task_dist),
    FLD_U16(JD, kill_on_node_fail),
    FLD_STR(JD, features),
    FLD_U64(JD, fed_siblings_active),
    FLD_U64(JD, fed_siblings_viable),
    FLD_U32(JD, job_id),
    FLD_STR(JD, job_id_str),
    FLD_STR(JD, name),
    FLD_STR(JD, alloc_node),
    FLD_U32(JD, alloc_sid),
    FLD_STR(JD, array_inx),
    FLD_STR(JD, burst_buffer),
    FLD_U16(JD, pn_min_cpus),
    FLD_U64(JD, pn_min_memory),
    FLD_U32(JD, pn_min_tmp_disk),
    FLD_U8(JD, power_flags),
    FLD_STR(JD, prefer),
    FLD_U32(JD, cpu_freq_min),
    FLD_U32(JD, cpu_freq_max),
    FLD_U32(JD, cpu_freq_gov),
    FLD_STR(JD, partition),
    FLD_U32(JD, priority),
    FLD_STR(JD, dependency),
    FLD_STR(JD, account),
    FLD_STR(JD, admin_comment),
    FLD_STR(JD, comment),
    FLD_U32(JD, nice),
    FLD_U32(JD, profile),
    FLD_STR(JD, qos),
    FLD_STR(JD, mcs_label),
    FLD_STR(JD, origin_cluster),
    FLD_U8(JD, open_mode),
    FLD_U8(JD, overcommit),
    FLD_STR(JD, acctg_freq),
    FLD_U32(JD, num_tasks),
    FLD_STR(JD, req_context),
    FLD_STR(JD, req_nodes),
    FLD_STR(JD, exc_nodes),
    FLD_STR_ARRAY(JD, environment, env_size),
    FLD_STR_ARRAY(JD, spank_job_env, spank_job_env_size),
    FLD_CUSTOM(env_check_pack, env_check_unpack, NULL, "env_check"),
    FLD_STR(JD, script),
    FLD_STR_ARRAY(JD, argv, argc),
    FLD_STR(JD, std_err),
    FLD_STR(JD, std_in),
    FLD_STR(JD, std_out),
    FLD_STR(JD, submit_line),
    FLD_STR(JD, work_dir),
    FLD_U16(JD, immediate),
    FLD_U16(JD, reboot),
    FLD_U16(JD, requeue),
    FLD_U16(JD, shared),
    FLD_U16(JD, cpus_per_task),
    FLD_U16(JD, ntasks_per_node),
    FLD_U16(JD, ntasks_per_board),
    FLD_U16(JD, ntasks_per_socket),
    FLD_U16(JD, ntasks_per_core),
    FLD_U16(JD, ntasks_per_tres),
    FLD_U16(JD, plane_size),
    FLD_U16(JD, cpu_bind_type),
    FLD_U16(JD, mem_bind_type),
    FLD_STR(JD, cpu_bind),
    FLD_STR(JD, mem_bind),
    FLD_U32(JD, time_limit),
    FLD_U32(JD, time_min),
    FLD_U32(JD, min_cpus),
    FLD_U32(JD, max_cpus),
    FLD_U32(JD, min_nodes),
    FLD_U32(JD, max_nodes),
    FLD_U16(JD, boards_per_node),
    FLD_U16(JD, sockets_per_board),
    FLD_U16(JD, sockets_per_node),
    FLD_U16(JD, cores_per_socket),
    FLD_U16(JD, threads_per_core),
    FLD_U32(JD, user_id),
    FLD_U32(JD, group_id),
    FLD_U16(JD, alloc_resp_port),
    FLD_STR(JD, resp_host),
    FLD_U16(JD, other_port),
    FLD_STR(JD, network),
    FLD_TIME(JD, begin_time),
    FLD_TIME(JD, end_time),
    FLD_TIME(JD, deadline),
    FLD_STR(JD, licenses),
    FLD_U16(JD, mail_type),
    FLD_STR(JD, mail_user),
    FLD_STR(JD, reservation),
    FLD_U16(JD, restart_cnt),
    FLD_U16(JD, warn_flags),
    FLD_U16(JD, warn_signal),
    FLD_U16(JD, warn_time),
    FLD_STR(JD, wckey),
    FLD_U32(JD, req_switch),
    FLD_U32(JD, wait4switch),
    FLD_CUSTOM(select_jobinfo_pack, select_jobinfo_unpack, NULL, "select_jobinfo"),
    FLD_U16(JD, wait_all_nodes),
    FLD_U64(JD, bitflags),
    FLD_U32(JD, delay_boot),
    FLD_STR(JD, extra),
    FLD_U16(JD, x11),
    FLD_STR(JD, x11_magic_cookie),
    FLD_STR(JD, x11_target),
    FLD_U16(JD, x11_target_port),
    FLD_STR(JD, cpus_per_tres),
    FLD_STR(JD, mem_per_tres),
    FLD_STR(JD, tres_bind),
    FLD_STR(JD, tres_freq),
    FLD_STR(JD, tres_per_job),
    FLD_STR(JD, tres_per_node),
    FLD_STR(JD, tres_per_socket),
    FLD_STR(JD, tres_per_task),
    FLD_CUSTOM(cron_pack, cron_unpack, cron_free, "crontab_entry"),
};
#undef JD
static FLURM_TABLE(job_desc_table, flurm_job_desc_msg_t, job_desc_fields);

/* ---- _pack_submit_response_msg ---- */
static const flurm_field_t submit_response_fields[] = {
    FLD_U32(flurm_submit_response_msg_t, job_id),
    FLD_U32(flurm_submit_response_msg_t, step_id),
    FLD_U32(flurm_submit_response_msg_t, error_code),
    FLD_STR(flurm_submit_response_msg_t, job_submit_user_msg),
};
static FLURM_TABLE(submit_response_table, flurm_submit_response_msg_t, submit_response_fields);

/* ---- _pack_job_step_kill_msg ---- */
static const flurm_field_t job_step_kill_fields[] = {
    FLD_STRUCT(flurm_job_step_kill_msg_t, step_id, step_id_table),
    FLD_STR(flurm_job_step_kill_msg_t, sjob_id),
    FLD_STR(flurm_job_step_kill_msg_t, sibling),
    FLD_U16(flurm_job_step_kill_msg_t, signal),
    FLD_U16(flurm_job_step_kill_msg_t, flags),
};
static FLURM_TABLE(job_step_kill_table, flurm_job_step_kill_msg_t, job_step_kill_fields);

/* ---- _pack_update_node_msg (>= 21.08) ---- */
#define UN flurm_update_node_msg_t
static const flurm_field_t update_node_fields[] = {
    FLD_STR(UN, comment),
    FLD_U32(UN, cpu_bind),
    FLD_STR(UN, extra),
    FLD_STR(UN, features),
    FLD_STR(UN, features_act),
    FLD_STR(UN, gres),
    FLD_STR(UN, node_addr),
    FLD_STR(UN, node_hostname),
    FLD_STR(UN, node_names),
    FLD_U32(UN, node_state),
    FLD_STR(UN, reason),
    FLD_U32(UN, reason_uid),
    FLD_U32(UN, weight),
};
#undef UN
static FLURM_TABLE(update_node_table, flurm_update_node_msg_t, update_node_fields);

/* ---- _pack_update_partition_msg ---- */
#define UP flurm_update_part_msg_t
static const flurm_field_t update_part_fields[] = {
    FLD_STR(UP, allow_accounts),
    FLD_STR(UP, allow_alloc_nodes),
    FLD_STR(UP, allow_groups),
    FLD_STR(UP, allow_qos),
    FLD_STR(UP, alternate),
    FLD_STR(UP, billing_weights_str),
    FLD_U32(UP, cpu_bind),
    FLD_U64(UP, def_mem_per_cpu),
    FLD_U32(UP, default_time),
    FLD_STR(UP, deny_accounts),
    FLD_STR(UP, deny_qos),
    FLD_U16(UP, flags),
    FLD_STR(UP, job_defaults_str),
    FLD_U32(UP, grace_time),
    FLD_U32(UP, max_cpus_per_node),
    FLD_U64(UP, max_mem_per_cpu),
    FLD_U32(UP, max_nodes),
    FLD_U16(UP, max_share),
    FLD_U32(UP, max_time),
    FLD_U32(UP, min_nodes),
    FLD_STR(UP, name),
    FLD_STR(UP, nodes),
    FLD_U16(UP, over_time_limit),
    FLD_U16(UP, preempt_mode),
    FLD_U16(UP, priority_job_factor),
    FLD_U16(UP, priority_tier),
    FLD_STR(UP, qos_char),
    FLD_U16(UP, state_up),
};
#undef UP
static FLURM_TABLE(update_part_table, flurm_update_part_msg_t, update_part_fields);

/* ---- _pack_delete_partition_msg ---- */
static const flurm_field_t delete_part_fields[] = {
    FLD_STR(flurm_delete_part_msg_t, name),
};
static FLURM_TABLE(delete_part_table, flurm_delete_part_msg_t, delete_part_fields);

/* ---- _pack_shutdown_msg ---- */
static const flurm_field_t shutdown_fields[] = {
    FLD_U16(flurm_shutdown_msg_t, options),
};
static FLURM_TABLE(shutdown_table, flurm_shutdown_msg_t, shutdown_fields);

/* ---- _pack_job_array_resp_msg: u32 count (0 for none, never NO_VAL), then records ---- */
static const flurm_field_t job_array_err_fields[] = {
    FLD_U32(flurm_job_array_err_t, error_code),
    FLD_STR(flurm_job_array_err_t, job_array_id),
};
static FLURM_TABLE(job_array_err_table, flurm_job_array_err_t, job_array_err_fields);

static int job_array_errors_pack(flurm_buf_t *b, const void *obj)
{
    const flurm_job_array_resp_msg_t *m = obj;
    uint32_t n = m->errors ? m->errors_count : 0;
    flurm_pack32(b, n);
    for (uint32_t i = 0; i < n && !b->err; i++)
        flurm_table_pack(&job_array_err_table, &m->errors[i], b);
    return b->err;
}

static void job_array_errors_free(void *obj)
{
    flurm_job_array_resp_msg_t *m = obj;
    for (uint32_t i = 0; m->errors && i < m->errors_count; i++)
        flurm_table_free(&job_array_err_table, &m->errors[i]);
    free(m->errors);
    m->errors = NULL;
    m->errors_count = 0;
}

static int job_array_errors_unpack(flurm_buf_t *b, void *obj)
{
    flurm_job_array_resp_msg_t *m = obj;
    uint32_t n;
    if (flurm_unpack32(b, &n))
        return b->err;
    /* Each record is at least 8 bytes (u32 + u32 string length). */
    if (n > flurm_buf_remaining(b) / 8)
        return fail(b, FLURM_ETRUNC);
    if (n == 0)
        return FLURM_OK;
    m->errors = calloc(n, sizeof *m->errors);
    if (!m->errors)
        return fail(b, FLURM_ENOMEM);
    for (uint32_t i = 0; i < n; i++) {
        if (flurm_table_unpack(&job_array_err_table, &m->errors[i], b))
            return b->err;   /* the engine frees the whole message, counting complete records */
        m->errors_count = i + 1;
    }
    return FLURM_OK;
}

static const flurm_field_t job_array_resp_fields[] = {
    FLD_CUSTOM(job_array_errors_pack, job_array_errors_unpack, job_array_errors_free, "errors"),
};
static FLURM_TABLE(job_array_resp_table, flurm_job_array_resp_msg_t, job_array_resp_fields);

/* ---- _pack_stats_request_msg ---- */
static const flurm_field_t stats_info_request_fields[] = {
    FLD_U16(flurm_stats_info_request_msg_t, command_id),
};
static FLURM_TABLE(stats_info_request_table, flurm_stats_info_request_msg_t,
                   stats_info_request_fields);

/* ---- _pack_will_run_response_msg: preemptee count NO_VAL = no list ---- */
#define WR flurm_will_run_response_msg_t
static const flurm_field_t will_run_response_fields[] = {
    FLD_U32(WR, job_id),
    FLD_STR(WR, job_submit_user_msg),
    FLD_STR(WR, node_list),
    FLD_STR(WR, part_name),
    FLD_LIST(WR, preemptee_job_ids, preemptee_count, u32_elem_table),
    FLD_U32(WR, proc_cnt),
    FLD_TIME(WR, start_time),
    FLD_DOUBLE(WR, sys_usage_per),
};
#undef WR
static FLURM_TABLE(will_run_response_table, flurm_will_run_response_msg_t, will_run_response_fields);

/* ---- _pack_suspend_msg ---- */
static const flurm_field_t suspend_fields[] = {
    FLD_U16(flurm_suspend_msg_t, op),
    FLD_U32(flurm_suspend_msg_t, job_id),
    FLD_STR(flurm_suspend_msg_t, job_id_str),
};
static FLURM_TABLE(suspend_table, flurm_suspend_msg_t, suspend_fields);

/* ---- _pack_job_requeue_msg ---- */
static const flurm_field_t requeue_fields[] = {
    FLD_U32(flurm_requeue_msg_t, job_id),
    FLD_STR(flurm_requeue_msg_t, job_id_str),
    FLD_U32(flurm_requeue_msg_t, flags),
};
static FLURM_TABLE(requeue_table, flurm_requeue_msg_t, requeue_fields);

/* ---- _pack_set_debug_level_msg ---- */
static const flurm_field_t set_debug_level_fields[] = {
    FLD_U32(flurm_set_debug_level_msg_t, debug_level),
};
static FLURM_TABLE(set_debug_level_table, flurm_set_debug_level_msg_t, set_debug_level_fields);

/* ---- _pack_job_script_msg ---- */
static const flurm_field_t batch_script_fields[] = {
    FLD_STR(flurm_batch_script_msg_t, script),
};
static FLURM_TABLE(batch_script_table, flurm_batch_script_msg_t, batch_script_fields);

/* ---- _pack_job_alloc_info_msg ---- */
static const flurm_field_t job_alloc_info_fields[] = {
    FLD_U32(flurm_job_alloc_info_msg_t, job_id),
    FLD_STR(flurm_job_alloc_info_msg_t, req_cluster),
};
static FLURM_TABLE(job_alloc_info_table, flurm_job_alloc_info_msg_t, job_alloc_info_fields);

/* ---- _pack_complete_job_allocation_msg ---- */
static const flurm_field_t complete_job_allocation_fields[] = {
    FLD_U32(flurm_complete_job_allocation_msg_t, job_id),
    FLD_U32(flurm_complete_job_allocation_msg_t, job_rc),
};
static FLURM_TABLE(complete_job_allocation_table, flurm_complete_job_allocation_msg_t,
                   complete_job_allocation_fields);

/* ---- _pack_epilog_comp_msg ---- */
static const flurm_field_t epilog_complete_fields[] = {
    FLD_U32(flurm_epilog_complete_msg_t, job_id),
    FLD_U32(flurm_epilog_complete_msg_t, return_code),
    FLD_STR(flurm_epilog_complete_msg_t, node_name),
};
static FLURM_TABLE(epilog_complete_table, flurm_epilog_complete_msg_t, epilog_complete_fields);

/* ---- _pack_complete_prolog_msg (22.05 branch) ---- */
static const flurm_field_t complete_prolog_fields[] = {
    FLD_U32(flurm_complete_prolog_msg_t, job_id),
    FLD_STR(flurm_complete_prolog_msg_t, node_name),
    FLD_U32(flurm_complete_prolog_msg_t, prolog_rc),
};
static FLURM_TABLE(complete_prolog_table, flurm_complete_prolog_msg_t, complete_prolog_fields);

/* ---- _pack_priority_factors_request_msg: each list is u32 count (NO_VAL = none) + u32s ---- */
typedef struct u32_item { uint32_t v; } u32_item_t;
static const flurm_field_t u32_item_fields[] = { FLD_U32(u32_item_t, v) };
static FLURM_TABLE(u32_item_table, u32_item_t, u32_item_fields);

#define PFR flurm_priority_factors_request_msg_t
static const flurm_field_t prio_factors_request_fields[] = {
    FLD_LIST(PFR, job_ids, job_ids_count, u32_item_table),
    FLD_LIST(PFR, uids, uids_count, u32_item_table),
    FLD_STR(PFR, partitions),
};
#undef PFR
static FLURM_TABLE(prio_factors_request_table, flurm_priority_factors_request_msg_t,
                   prio_factors_request_fields);

/* ---- _pack_priority_factors_object / _response_msg ---- */
#define PF flurm_priority_factors_t
static const flurm_field_t prio_factors_fields[] = {
    FLD_U32(PF, job_id),
    FLD_U32(PF, user_id),
    FLD_DOUBLE(PF, priority_age),
    FLD_DOUBLE(PF, priority_assoc),
    FLD_DOUBLE(PF, priority_fs),
    FLD_DOUBLE(PF, priority_js),
    FLD_DOUBLE(PF, priority_part),
    FLD_DOUBLE(PF, priority_qos),
    FLD_DOUBLE(PF, direct_prio),
    FLD_U32(PF, priority_site),
    FLD_DOUBLE_ARRAY(PF, priority_tres, priority_tres_count),
    FLD_U32(PF, tres_cnt),
    FLD_STR_ARRAY(PF, tres_names, tres_names_count),
    FLD_DOUBLE_ARRAY(PF, tres_weights, tres_weights_count),
    FLD_U32(PF, nice),
    FLD_STR(PF, partition),
};
#undef PF
static FLURM_TABLE(prio_factors_table, flurm_priority_factors_t, prio_factors_fields);

static const flurm_field_t prio_factors_response_fields[] = {
    FLD_LIST(flurm_priority_factors_response_msg_t, factors, factors_count, prio_factors_table),
};
static FLURM_TABLE(prio_factors_response_table, flurm_priority_factors_response_msg_t,
                   prio_factors_response_fields);

/* ---- _pack_resource_allocation_response_msg ---- */

/* A presence flag of a cross-cluster part (node addresses, working cluster record): FLURM packs
 * 0 and refuses 1 (what follows is not modelled). */
static int absent_pack(flurm_buf_t *b, const void *obj)
{
    (void)obj;
    return flurm_pack8(b, 0);
}

static int absent_unpack(flurm_buf_t *b, void *obj)
{
    (void)obj;
    uint8_t flag = 0;
    if (flurm_unpack8(b, &flag))
        return b->err;
    return flag ? fail(b, FLURM_ENOTSUP) : FLURM_OK;
}

/* u32 groups; when nonzero, the CPUs per node (u16 array) and their repetitions (u32 array),
 * each of exactly that many values. */
static int cpu_groups_pack(flurm_buf_t *b, const void *obj)
{
    const flurm_resource_allocation_response_msg_t *m = obj;
    flurm_pack32(b, m->num_cpu_groups);
    if (m->num_cpu_groups) {
        flurm_pack16_array(b, m->cpus_per_node, m->num_cpu_groups);
        flurm_pack32_array(b, m->cpu_count_reps, m->num_cpu_groups);
    }
    return b->err;
}

static int cpu_groups_unpack(flurm_buf_t *b, void *obj)
{
    flurm_resource_allocation_response_msg_t *m = obj;
    uint32_t n1 = 0, n2 = 0;
    if (flurm_unpack32(b, &m->num_cpu_groups) || !m->num_cpu_groups)
        return b->err;
    if (flurm_unpack16_array(b, &m->cpus_per_node, &n1) || flurm_unpack32_array(b, &m->cpu_count_reps, &n2))
        return b->err;
    return n1 == m->num_cpu_groups && n2 == m->num_cpu_groups ? FLURM_OK : fail(b, FLURM_EPROTO);
}

static void cpu_groups_free(void *obj)
{
    flurm_resource_allocation_response_msg_t *m = obj;
    free(m->cpus_per_node);
    free(m->cpu_count_reps);
    m->cpus_per_node = NULL;
    m->cpu_count_reps = NULL;
}

static int alloc_select_unpack(flurm_buf_t *b, void *obj)
{
    flurm_resource_allocation_response_msg_t *m = obj;
    if (flurm_unpack32(b, &m->select_plugin_id))
        return b->err;
    return select_plugin_known(m->select_plugin_id) ? FLURM_OK : fail(b, FLURM_EPROTO);
}

static int alloc_select_pack(flurm_buf_t *b, const void *obj)
{
    return flurm_pack32(b, ((const flurm_resource_allocation_response_msg_t *)obj)->select_plugin_id);
}

#define RA flurm_resource_allocation_response_msg_t
static const flurm_field_t alloc_response_fields[] = {
    FLD_STR(RA, account),
    FLD_STR(RA, alias_list),
    FLD_STR(RA, batch_host),
    FLD_STR_ARRAY(RA, environment, env_size),
    FLD_U32(RA, error_code),
    FLD_STR(RA, job_submit_user_msg),
    FLD_U32(RA, job_id),
    FLD_U32(RA, node_cnt),
    FLD_CUSTOM(absent_pack, absent_unpack, NULL, "node_addr present"),
    FLD_STR(RA, node_list),
    FLD_U16(RA, ntasks_per_board),
    FLD_U16(RA, ntasks_per_core),
    FLD_U16(RA, ntasks_per_tres),
    FLD_U16(RA, ntasks_per_socket),
    FLD_CUSTOM(cpu_groups_pack, cpu_groups_unpack, cpu_groups_free, "cpu groups"),
    FLD_STR(RA, partition),
    FLD_U64(RA, pn_min_memory),
    FLD_STR(RA, qos),
    FLD_STR(RA, resv_name),
    FLD_CUSTOM(alloc_select_pack, alloc_select_unpack, NULL, "select_jobinfo"),
    FLD_CUSTOM(absent_pack, absent_unpack, NULL, "working_cluster_rec present"),
};
#undef RA
static FLURM_TABLE(alloc_response_table, flurm_resource_allocation_response_msg_t, alloc_response_fields);

/* ---- _pack_job_info_list_msg (RESPONSE_HET_JOB_ALLOCATION) ---- */

static int het_alloc_pack(flurm_buf_t *b, const void *obj)
{
    const flurm_het_job_allocation_msg_t *m = obj;
    flurm_pack16(b, m->count);
    for (uint16_t i = 0; i < m->count && !b->err; i++)
        flurm_table_pack(&alloc_response_table, &m->jobs[i], b);
    return b->err;
}

static int het_alloc_unpack(flurm_buf_t *b, void *obj)
{
    flurm_het_job_allocation_msg_t *m = obj;
    uint16_t n = 0;
    if (flurm_unpack16(b, &n) || !n)
        return b->err;
    /* each grant takes dozens of bytes at the least: a count beyond the body is a lie */
    if (n > flurm_buf_remaining(b) / 16)
        return fail(b, FLURM_ETRUNC);
    if (!(m->jobs = calloc(n, sizeof *m->jobs)))
        return fail(b, FLURM_ENOMEM);
    for (; m->count < n; m->count++)
        if (flurm_table_unpack(&alloc_response_table, &m->jobs[m->count], b))
            return b->err;
    return FLURM_OK;
}

static void het_alloc_free(void *obj)
{
    flurm_het_job_allocation_msg_t *m = obj;
    for (uint16_t i = 0; m->jobs && i < m->count; i++)
        flurm_table_free(&alloc_response_table, &m->jobs[i]);
    free(m->jobs);
    m->jobs = NULL;
    m->count = 0;
}

static const flurm_field_t het_alloc_fields[] = {
    FLD_CUSTOM(het_alloc_pack, het_alloc_unpack, het_alloc_free, "grants"),
};
static FLURM_TABLE(het_alloc_table, flurm_het_job_allocation_msg_t, het_alloc_fields);

/* Message type -> layout, from the pack_msg() switch of slurm_protocol_pack.c. */
const flurm_table_t *flurm_msg_req_table(uint16_t msg_type)
{
    switch (msg_type) {
    case FLURM_RESPONSE_SLURM_RC:
    case FLURM_RESPONSE_JOB_READY:
    case FLURM_RESPONSE_PROLOG_EXECUTING:
        return &return_code_table;
    case FLURM_RESPONSE_SLURM_RC_MSG:
        return &return_code2_table;
    case FLURM_REQUEST_BUILD_INFO:
    case FLURM_REQUEST_RESERVATION_INFO:
        return &last_update_table;
    case FLURM_REQUEST_JOB_INFO:
        return &job_info_request_table;
    case FLURM_REQUEST_JOB_INFO_SINGLE:
    case FLURM_REQUEST_JOB_READY:
    case FLURM_REQUEST_BATCH_SCRIPT:
        return &job_id_table;
    case FLURM_REQUEST_JOB_USER_INFO:
        return &job_user_id_table;
    case FLURM_REQUEST_JOB_STEP_INFO:
        return &job_step_info_request_table;
    case FLURM_REQUEST_NODE_INFO:
        return &node_info_request_table;
    case FLURM_REQUEST_NODE_INFO_SINGLE:
        return &node_info_single_table;
    case FLURM_REQUEST_PARTITION_INFO:
        return &part_info_request_table;
    case FLURM_RESPONSE_FED_INFO:
        return &fed_info_table;
    case FLURM_REQUEST_SUBMIT_BATCH_JOB:
    case FLURM_REQUEST_RESOURCE_ALLOCATION:
    case FLURM_REQUEST_JOB_WILL_RUN:
    case FLURM_REQUEST_UPDATE_JOB:
        return &job_desc_table;
    case FLURM_RESPONSE_SUBMIT_BATCH_JOB:
        return &submit_response_table;
    case FLURM_RESPONSE_RESOURCE_ALLOCATION:
    case FLURM_RESPONSE_JOB_ALLOCATION_INFO:
        return &alloc_response_table;
    case FLURM_SRUN_JOB_COMPLETE:
        return &step_id_table;
    case FLURM_RESPONSE_HET_JOB_ALLOCATION:
        return &het_alloc_table;
    case FLURM_REQUEST_KILL_JOB:
    case FLURM_REQUEST_CANCEL_JOB_STEP:
    case FLURM_SRUN_STEP_SIGNAL:
        return &job_step_kill_table;
    case FLURM_REQUEST_UPDATE_NODE:
    case FLURM_REQUEST_CREATE_NODE:
    case FLURM_REQUEST_DELETE_NODE:
        return &update_node_table;
    case FLURM_REQUEST_UPDATE_PARTITION:
    case FLURM_REQUEST_CREATE_PARTITION:
        return &update_part_table;
    case FLURM_REQUEST_DELETE_PARTITION:
        return &delete_part_table;
    case FLURM_REQUEST_SHUTDOWN:
        return &shutdown_table;
    case FLURM_RESPONSE_JOB_ARRAY_ERRORS:
        return &job_array_resp_table;
    case FLURM_REQUEST_STATS_INFO:
        return &stats_info_request_table;
    case FLURM_REQUEST_PRIORITY_FACTORS:
        return &prio_factors_request_table;
    case FLURM_RESPONSE_PRIORITY_FACTORS:
        return &prio_factors_response_table;
    case FLURM_RESPONSE_JOB_WILL_RUN:
        return &will_run_response_table;
    case FLURM_REQUEST_SUSPEND:
        return &suspend_table;
    case FLURM_REQUEST_JOB_REQUEUE:
        return &requeue_table;
    case FLURM_REQUEST_SET_DEBUG_LEVEL:
    case FLURM_REQUEST_SET_SCHEDLOG_LEVEL:
        return &set_debug_level_table;
    case FLURM_RESPONSE_BATCH_SCRIPT:
        return &batch_script_table;
    case FLURM_REQUEST_JOB_ALLOCATION_INFO:
    case FLURM_REQUEST_JOB_END_TIME:
    case FLURM_REQUEST_HET_JOB_ALLOC_INFO:
        return &job_alloc_info_table;
    case FLURM_REQUEST_COMPLETE_JOB_ALLOCATION:
        return &complete_job_allocation_table;
    case FLURM_MESSAGE_EPILOG_COMPLETE:
        return &epilog_complete_table;
    case FLURM_REQUEST_COMPLETE_PROLOG:
        return &complete_prolog_table;
    default:
        return NULL;
    }
}
