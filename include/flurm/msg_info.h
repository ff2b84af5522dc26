/* include/flurm/msg_info.h — the controller -> client INFO responses of SLURM 22.05
 * (protocol version 0x2600), one named struct per message body.
 *
 * Every struct has one member per wire item, in wire order (src/common/slurm_protocol_pack.c,
 * src/slurmctld/{job_mgr,node_mgr,partition_mgr,statistics}.c of slurm-22-05-8-1). Arrays,
 * strings, bitmaps and blobs carry their own count/length member so that a decoded message
 * re-packs byte for byte. Bitmaps are uint64_t words (bit i = words[i/64] >> i%64 & 1) with a
 * bit count; NULL packs as "no bitmap" (u32 NO_VAL). Lists of records (job_defaults, key
 * pairs, TRES) follow SLURM's generic-list rule: NULL packs as u32 NO_VAL, an allocated array
 * with count 0 as u32 0. The record arrays of the *_info_msg_t headers always pack their
 * record_count (NULL is only valid with record_count 0).
 *
 * Layout tables and the engine that packs/unpacks/frees these structs are internal
 * (libflurm/codec/msg_info.h, table.h); a decoded struct owns all of its pointers. */
#ifndef FLURM_MSG_INFO_H
#define FLURM_MSG_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <flurm/common.h>
#include <flurm/msg.h>   /* SLURM enums (job/node/partition states, select plugins), flurm_step_id_t */

/* ---- job state (job_state, u32): base state in the low byte, OR-ed with flag bits ---- */
#define FLURM_JOB_NICE_OFFSET 0x80000000u

#define FLURM_PART_SHARED_FORCE 0x8000u  /* bit in partition `max_share` */

/* job_defaults list entry type (flurm_job_default_t.type) */
typedef enum flurm_job_def_type {
    FLURM_JOB_DEF_CPU_PER_GPU = 1,
    FLURM_JOB_DEF_MEM_PER_GPU = 2,
} flurm_job_def_type_t;

/* Select plugin ids carried by the select jobinfo / nodeinfo blobs. Only the plugins whose
 * blobs have the layouts below are accepted by the decoder (cons_res, linear, cons_tres). */

/* ---- shared sub-records ---- */

/* generic-list element {u16 type, u64 value} (job_defaults_pack) */
typedef struct flurm_job_default {
    uint16_t type;                       /* flurm_job_def_type_t */
    uint64_t value;
} flurm_job_default_t;

/* key-pair list element (pack_config_key_pair) */
typedef struct flurm_key_pair {
    char *name;
    char *value;
} flurm_key_pair_t;

/* plugin-params list element (pack_config_plugin_params) */
typedef struct flurm_plugin_params {
    char *name;
    flurm_key_pair_t *key_pairs;         /* key-pair list; NULL packs NO_VAL */
    uint32_t key_pair_cnt;
} flurm_plugin_params_t;

/* job_resources block (pack_job_resources, src/common/job_resources.c). Only sent with
 * SHOW_DETAIL; `nhosts` must not be NO_VAL (that value means "no block" on the wire). */
typedef struct flurm_job_resources {
    uint32_t nhosts;
    uint32_t ncpus;
    uint32_t node_req;
    char *nodes;
    uint8_t whole_node;
    uint16_t threads_per_core;
    uint16_t cr_type;
    uint32_t *cpu_array_reps;
    uint32_t cpu_array_reps_cnt;
    uint16_t *cpu_array_value;
    uint32_t cpu_array_value_cnt;        /* must equal cpu_array_reps_cnt */
    uint16_t *cpus;
    uint32_t cpus_cnt;                   /* must equal nhosts */
    uint16_t *cpus_used;
    uint32_t cpus_used_cnt;
    uint64_t *memory_allocated;
    uint32_t memory_allocated_cnt;
    uint64_t *memory_used;
    uint32_t memory_used_cnt;
    uint16_t *sockets_per_node;
    uint32_t sockets_per_node_cnt;
    uint16_t *cores_per_socket;
    uint32_t cores_per_socket_cnt;
    uint32_t *sock_core_rep_count;
    uint32_t sock_core_rep_count_cnt;
    uint64_t *core_bitmap;
    uint32_t core_bitmap_bits;
    uint64_t *core_bitmap_used;
    uint32_t core_bitmap_used_bits;
} flurm_job_resources_t;

/* ---- RESPONSE_JOB_INFO (2004) ---- */

/* One job record (pack_job, src/slurmctld/job_mgr.c). */
typedef struct flurm_job_info {
    uint32_t array_job_id;               /* 0 unless an array job */
    uint32_t array_task_id;              /* NO_VAL unless an array task */
    char *array_task_str;                /* hex bitmap text of pending tasks, else NULL */
    uint32_t array_max_tasks;
    uint32_t assoc_id;
    char *container;
    uint32_t delay_boot;
    uint32_t job_id;
    uint32_t user_id;
    uint32_t group_id;
    uint32_t het_job_id;
    char *het_job_id_set;
    uint32_t het_job_offset;
    uint32_t profile;
    uint32_t job_state;                  /* flurm_job_state_t base | flags */
    uint16_t batch_flag;
    uint16_t state_reason;               /* enum job_state_reason */
    uint8_t power_flags;
    uint8_t reboot;
    uint16_t restart_cnt;
    uint16_t show_flags;                 /* echo of the request's show_flags */
    time_t deadline;
    uint32_t alloc_sid;
    uint32_t time_limit;                 /* minutes; INFINITE = unlimited */
    uint32_t time_min;
    uint32_t nice;                       /* FLURM_JOB_NICE_OFFSET + nice */
    time_t submit_time;
    time_t eligible_time;
    time_t accrue_time;
    time_t start_time;
    time_t end_time;
    time_t suspend_time;
    time_t pre_sus_time;
    time_t resize_time;
    time_t last_sched_eval;
    time_t preempt_time;
    uint32_t priority;
    double billable_tres;
    char *cluster;
    char *nodes;
    char *sched_nodes;
    char *partition;
    char *account;
    char *admin_comment;
    uint32_t site_factor;                /* FLURM_JOB_NICE_OFFSET + factor */
    char *network;
    char *comment;
    char *container2;                    /* slurmctld packs `container` a second time here */
    char *batch_features;
    char *batch_host;
    char *burst_buffer;
    char *burst_buffer_state;
    char *system_comment;
    char *qos;
    time_t preemptable_time;
    char *licenses;
    char *state_desc;
    char *resv_name;
    char *mcs_label;
    uint32_t exit_code;
    uint32_t derived_ec;
    char *gres_total;
    flurm_job_resources_t *job_resrcs;   /* NULL packs u32 NO_VAL */
    char **gres_detail_str;
    uint32_t gres_detail_cnt;
    char *name;
    char *user_name;
    char *wckey;
    uint32_t req_switch;
    uint32_t wait4switch;
    char *alloc_node;
    uint64_t *node_inx;                  /* bitmap over RESPONSE_NODE_INFO record indexes */
    uint32_t node_inx_bits;
    uint32_t select_plugin_id;           /* select jobinfo: the plugin id, no data */
    char *features;
    char *prefer;
    char *cluster_features;
    char *work_dir;
    char *dependency;
    char *command;
    uint32_t num_cpus;
    uint32_t max_cpus;
    uint32_t num_nodes;
    uint32_t max_nodes;
    uint16_t requeue;
    uint16_t ntasks_per_node;
    uint16_t ntasks_per_tres;
    uint32_t num_tasks;
    uint16_t shared;                     /* flurm_job_shared_t or NO_VAL16 */
    uint32_t cpu_freq_min;
    uint32_t cpu_freq_max;
    uint32_t cpu_freq_gov;
    char *cronspec;
    uint16_t contiguous;
    uint16_t core_spec;
    uint16_t cpus_per_task;
    uint16_t pn_min_cpus;
    uint64_t pn_min_memory;
    uint32_t pn_min_tmp_disk;
    char *req_nodes;
    uint64_t *req_node_inx;
    uint32_t req_node_inx_bits;
    char *exc_nodes;
    uint64_t *exc_node_inx;
    uint32_t exc_node_inx_bits;
    char *std_err;
    char *std_in;
    char *std_out;
    uint8_t multi_core_flag;             /* 0: the nine fields below are absent; 0xFF: present */
    uint16_t boards_per_node;
    uint16_t sockets_per_board;
    uint16_t sockets_per_node;
    uint16_t cores_per_socket;
    uint16_t threads_per_core;
    uint16_t ntasks_per_board;
    uint16_t ntasks_per_socket;
    uint16_t ntasks_per_core;
    uint16_t plane_size;
    uint64_t bitflags;
    char *tres_alloc_str;
    char *tres_req_str;
    uint16_t start_protocol_ver;
    char *fed_origin_str;
    uint64_t fed_siblings_active;
    char *fed_siblings_active_str;
    uint64_t fed_siblings_viable;
    char *fed_siblings_viable_str;
    char *cpus_per_tres;
    char *mem_per_tres;
    char *tres_bind;
    char *tres_freq;
    char *tres_per_job;
    char *tres_per_node;
    char *tres_per_socket;
    char *tres_per_task;
    uint16_t mail_type;
    char *mail_user;
    char *selinux_context;
} flurm_job_info_t;

typedef struct flurm_job_info_msg {
    uint32_t record_count;
    time_t last_update;
    time_t last_backfill;
    flurm_job_info_t *job_array;         /* record_count records */
} flurm_job_info_msg_t;

/* ---- RESPONSE_NODE_INFO (2008) ---- */

/* One node record (_pack_node, src/slurmctld/node_mgr.c). slurmctld sends one record per node
 * slot, a blank one (name NULL) for hidden nodes, because node_inx bitmaps index this array. */
typedef struct flurm_node_info {
    char *name;
    char *node_hostname;
    char *node_addr;                     /* slurmctld's comm_name */
    char *bcast_address;
    uint16_t port;
    uint32_t next_state;                 /* NO_VAL unless a reboot is pending */
    uint32_t node_state;                 /* flurm_node_state_t base | flags */
    char *version;
    uint16_t cpus;
    uint16_t boards;
    uint16_t sockets;                    /* total sockets per node */
    uint16_t cores;                      /* cores per socket */
    uint16_t threads;
    uint64_t real_memory;
    uint32_t tmp_disk;
    char *mcs_label;
    uint32_t owner;
    uint16_t core_spec_cnt;
    uint32_t cpu_bind;
    uint64_t mem_spec_limit;
    char *cpu_spec_list;
    uint16_t cpus_efctv;
    uint32_t cpu_load;                   /* load * 100 */
    uint64_t free_mem;
    uint32_t weight;
    uint32_t reason_uid;
    time_t boot_time;
    time_t last_busy;
    time_t reason_time;
    time_t slurmd_start_time;
    /* select nodeinfo blob (select_g_select_nodeinfo_pack + cons_common/linear) */
    uint32_t select_plugin_id;           /* flurm_select_plugin_t */
    uint16_t alloc_cpus;
    uint64_t alloc_memory;
    char *tres_alloc_fmt_str;
    double tres_alloc_weighted;
    char *arch;
    char *features;
    char *features_act;
    char *gres;
    char *gres_drain;
    char *gres_used;
    char *os;
    char *comment;
    char *extra;
    char *reason;
    /* energy block (acct_gather_energy_pack) */
    uint64_t energy_base_consumed;
    uint32_t energy_ave_watts;
    uint64_t energy_consumed;
    uint32_t energy_current_watts;
    uint64_t energy_previous_consumed;
    time_t energy_poll_time;
    /* ext_sensors block (ext_sensors_data_pack) */
    uint64_t ext_consumed_energy;
    uint32_t ext_temperature;
    time_t ext_energy_update_time;
    uint32_t ext_current_watts;
    /* power block (power_mgmt_data_pack) */
    uint32_t power_cap_watts;            /* NO_VAL = no power data */
    char *tres_fmt_str;
} flurm_node_info_t;

typedef struct flurm_node_info_msg {
    uint32_t record_count;
    time_t last_update;
    flurm_node_info_t *node_array;       /* record_count records */
} flurm_node_info_msg_t;

/* ---- RESPONSE_PARTITION_INFO (2010) ---- */

typedef struct flurm_part_info {
    char *name;
    uint32_t cpu_bind;
    uint32_t grace_time;
    uint32_t max_time;                   /* minutes; INFINITE = unlimited */
    uint32_t default_time;               /* NO_VAL = not set */
    uint32_t max_nodes;
    uint32_t min_nodes;
    uint32_t total_nodes;
    uint32_t total_cpus;
    uint64_t def_mem_per_cpu;
    uint32_t max_cpus_per_node;
    uint64_t max_mem_per_cpu;
    uint16_t flags;                      /* flurm_part_flag_t */
    uint16_t max_share;
    uint16_t over_time_limit;
    uint16_t preempt_mode;
    uint16_t priority_job_factor;
    uint16_t priority_tier;
    uint16_t state_up;                   /* flurm_part_state_t */
    uint16_t cr_type;
    uint16_t resume_timeout;
    uint16_t suspend_timeout;
    uint32_t suspend_time;
    char *allow_accounts;
    char *allow_groups;
    char *allow_alloc_nodes;
    char *allow_qos;
    char *qos_char;
    char *alternate;
    char *deny_accounts;
    char *deny_qos;
    char *nodes;
    char *nodesets;
    uint64_t *node_inx;                  /* size = node record count; set bits = member nodes */
    uint32_t node_inx_bits;
    char *billing_weights_str;
    char *tres_fmt_str;
    flurm_job_default_t *job_defaults;   /* generic list; NULL packs NO_VAL */
    uint32_t job_defaults_cnt;
} flurm_part_info_t;

typedef struct flurm_part_info_msg {
    uint32_t record_count;
    time_t last_update;
    flurm_part_info_t *partition_array;  /* record_count records */
} flurm_part_info_msg_t;

/* ---- RESPONSE_BUILD_INFO (2002): slurm_ctl_conf ---- */

typedef struct flurm_build_info_msg {
    time_t last_update;
    uint16_t accounting_storage_enforce;
    char *accounting_storage_backup_host;
    char *accounting_storage_host;
    char *accounting_storage_ext_host;
    char *accounting_storage_params;
    uint16_t accounting_storage_port;
    char *accounting_storage_tres;
    char *accounting_storage_type;
    char *accounting_storage_user;
    /* slurmctld leaves out ProfileInfluxDBPass/ProfileInfluxDBUser entries when packing. */
    flurm_key_pair_t *acct_gather_conf;
    uint32_t acct_gather_conf_cnt;
    char *acct_gather_energy_type;
    char *acct_gather_filesystem_type;
    char *acct_gather_interconnect_type;
    uint16_t acct_gather_node_freq;
    char *acct_gather_profile_type;
    char *authalttypes;
    char *authalt_params;
    char *authinfo;
    char *authtype;
    uint16_t batch_start_timeout;
    time_t boot_time;
    char *bb_type;
    char *bcast_exclude;
    char *bcast_parameters;
    flurm_key_pair_t *cgroup_conf;
    uint32_t cgroup_conf_cnt;
    char *cli_filter_plugins;
    char *cluster_name;
    char *comm_params;
    uint16_t complete_wait;
    uint32_t conf_flags;
    char **control_addr;
    uint32_t control_addr_cnt;           /* must equal control_machine_cnt (control_cnt) */
    char **control_machine;
    uint32_t control_machine_cnt;
    char *core_spec_plugin;
    uint32_t cpu_freq_def;
    uint32_t cpu_freq_govs;
    char *cred_type;
    uint64_t def_mem_per_cpu;
    uint64_t debug_flags;
    char *dependency_params;
    uint16_t eio_timeout;
    uint16_t enforce_part_limits;
    char *epilog;
    uint32_t epilog_msg_time;
    char *epilog_slurmctld;
    flurm_key_pair_t *ext_sensors_conf;
    uint32_t ext_sensors_conf_cnt;
    char *ext_sensors_type;
    uint16_t ext_sensors_freq;
    char *fed_params;
    uint32_t first_job_id;
    uint16_t fs_dampening_factor;
    uint16_t get_env_timeout;
    char *gres_plugins;
    uint16_t group_time;
    uint16_t group_force;
    char *gpu_freq_def;
    uint32_t hash_val;                   /* NO_VAL: clients skip their slurm.conf hash check */
    uint16_t health_check_interval;
    uint16_t health_check_node_state;
    char *health_check_program;
    uint16_t inactive_limit;
    char *interactive_step_opts;
    char *job_acct_gather_freq;
    char *job_acct_gather_type;
    char *job_acct_gather_params;
    char *job_comp_host;
    char *job_comp_loc;
    char *job_comp_params;
    uint32_t job_comp_port;
    char *job_comp_type;
    char *job_comp_user;
    char *job_container_plugin;
    char *job_credential_private_key;
    char *job_credential_public_certificate;
    flurm_job_default_t *job_defaults;
    uint32_t job_defaults_cnt;
    uint16_t job_file_append;
    uint16_t job_requeue;
    char *job_submit_plugins;
    uint16_t kill_on_bad_exit;
    uint16_t kill_wait;
    char *launch_params;
    char *launch_type;
    char *licenses;
    uint16_t log_fmt;
    uint32_t max_array_sz;
    uint32_t max_dbd_msgs;
    char *mail_domain;
    char *mail_prog;
    uint32_t max_job_cnt;
    uint32_t max_job_id;
    uint64_t max_mem_per_cpu;
    uint32_t max_node_cnt;
    uint32_t max_step_cnt;
    uint16_t max_tasks_per_node;
    char *mcs_plugin;
    char *mcs_plugin_params;
    uint32_t min_job_age;
    flurm_key_pair_t *mpi_conf;
    uint32_t mpi_conf_cnt;
    char *mpi_default;
    char *mpi_params;
    uint16_t msg_timeout;
    uint32_t next_job_id;
    flurm_plugin_params_t *node_features_conf;
    uint32_t node_features_conf_cnt;
    char *node_features_plugins;
    char *node_prefix;
    uint16_t over_time_limit;
    char *plugindir;
    char *plugstack;
    char *power_parameters;
    char *power_plugin;
    uint16_t preempt_mode;
    char *preempt_type;
    uint32_t preempt_exempt_time;
    char *prep_params;
    char *prep_plugins;
    uint32_t priority_decay_hl;
    uint32_t priority_calc_period;
    uint16_t priority_favor_small;
    uint16_t priority_flags;
    uint32_t priority_max_age;
    char *priority_params;
    uint16_t priority_reset_period;
    char *priority_type;
    uint32_t priority_weight_age;
    uint32_t priority_weight_assoc;
    uint32_t priority_weight_fs;
    uint32_t priority_weight_js;
    uint32_t priority_weight_part;
    uint32_t priority_weight_qos;
    char *priority_weight_tres;
    uint16_t private_data;
    char *proctrack_type;
    char *prolog;
    uint16_t prolog_epilog_timeout;
    char *prolog_slurmctld;
    uint16_t prolog_flags;
    uint16_t propagate_prio_process;
    char *propagate_rlimits;
    char *propagate_rlimits_except;
    char *reboot_program;
    uint16_t reconfig_flags;
    char *requeue_exit;
    char *requeue_exit_hold;
    char *resume_fail_program;
    char *resume_program;
    uint16_t resume_rate;
    uint16_t resume_timeout;
    char *resv_epilog;
    uint16_t resv_over_run;
    char *resv_prolog;
    uint16_t ret2service;
    char *route_plugin;
    char *sched_params;
    char *sched_logfile;
    uint16_t sched_log_level;
    uint16_t sched_time_slice;
    char *schedtype;
    char *scron_params;
    char *select_type;
    flurm_key_pair_t *select_conf_key_pairs;
    uint32_t select_conf_key_pairs_cnt;
    uint16_t select_type_param;
    char *slurm_conf;
    uint32_t slurm_user_id;
    char *slurm_user_name;
    uint32_t slurmd_user_id;
    char *slurmd_user_name;
    char *slurmctld_addr;
    uint16_t slurmctld_debug;
    char *slurmctld_logfile;
    char *slurmctld_params;
    char *slurmctld_pidfile;
    char *slurmctld_plugstack;
    flurm_plugin_params_t *slurmctld_plugstack_conf;
    uint32_t slurmctld_plugstack_conf_cnt;
    uint32_t slurmctld_port;
    uint16_t slurmctld_port_count;
    char *slurmctld_primary_off_prog;
    char *slurmctld_primary_on_prog;
    uint16_t slurmctld_syslog_debug;
    uint16_t slurmctld_timeout;
    uint16_t slurmd_debug;
    char *slurmd_logfile;
    char *slurmd_params;
    char *slurmd_pidfile;
    uint32_t slurmd_port;
    char *slurmd_spooldir;
    uint16_t slurmd_syslog_debug;
    uint16_t slurmd_timeout;
    char *srun_epilog;
    uint16_t srun_port_range_min;        /* srun_port_range[0] */
    uint16_t srun_port_range_max;        /* srun_port_range[1] */
    char *srun_prolog;
    char *state_save_location;
    char *suspend_exc_nodes;
    char *suspend_exc_parts;
    char *suspend_program;
    uint16_t suspend_rate;
    uint32_t suspend_time;
    uint16_t suspend_timeout;
    char *switch_param;
    char *switch_type;
    char *task_epilog;
    char *task_prolog;
    char *task_plugin;
    uint32_t task_plugin_param;
    uint16_t tcp_timeout;
    char *tmp_fs;
    char *topology_param;
    char *topology_plugin;
    uint16_t tree_width;
    char *unkillable_program;
    uint16_t unkillable_timeout;
    char *version;
    uint16_t vsize_factor;
    uint16_t wait_time;
    char *x11_params;
} flurm_build_info_msg_t;

/* ---- RESPONSE_STATS_INFO (2036) (pack_all_stat + _pack_rpc_stats in slurmctld) ---- */

typedef struct flurm_stats_info_msg {
    uint32_t parts_packed;               /* 0: the fields up to bf_backfilled_het_jobs are absent */
    time_t req_time;
    time_t req_time_start;
    uint32_t server_thread_count;
    uint32_t agent_queue_size;
    uint32_t agent_count;
    uint32_t agent_thread_count;
    uint32_t dbd_agent_queue_size;
    uint32_t gettimeofday_latency;
    uint32_t jobs_submitted;
    uint32_t jobs_started;
    uint32_t jobs_completed;
    uint32_t jobs_canceled;
    uint32_t jobs_failed;
    uint32_t jobs_pending;
    uint32_t jobs_running;
    time_t job_states_ts;
    uint32_t schedule_cycle_max;
    uint32_t schedule_cycle_last;
    uint32_t schedule_cycle_sum;
    uint32_t schedule_cycle_counter;
    uint32_t schedule_cycle_depth;
    uint32_t schedule_queue_len;
    uint32_t bf_backfilled_jobs;
    uint32_t bf_last_backfilled_jobs;
    uint32_t bf_cycle_counter;
    uint64_t bf_cycle_sum;
    uint32_t bf_cycle_last;
    uint32_t bf_last_depth;
    uint32_t bf_last_depth_try;
    uint32_t bf_queue_len;
    uint32_t bf_cycle_max;
    time_t bf_when_last_cycle;
    uint32_t bf_depth_sum;
    uint32_t bf_depth_try_sum;
    uint32_t bf_queue_len_sum;
    uint32_t bf_table_size;
    uint32_t bf_table_size_sum;
    uint32_t bf_active;
    uint32_t bf_backfilled_het_jobs;
    uint32_t rpc_type_size;
    uint16_t *rpc_type_id;
    uint32_t rpc_type_id_cnt;
    uint32_t *rpc_type_cnt;
    uint32_t rpc_type_cnt_cnt;
    uint64_t *rpc_type_time;             /* microseconds */
    uint32_t rpc_type_time_cnt;
    uint32_t rpc_user_size;
    uint32_t *rpc_user_id;
    uint32_t rpc_user_id_cnt;
    uint32_t *rpc_user_cnt;
    uint32_t rpc_user_cnt_cnt;
    uint64_t *rpc_user_time;
    uint32_t rpc_user_time_cnt;
    uint32_t *rpc_queue_type_id;
    uint32_t rpc_queue_type_count;
    uint32_t *rpc_queue_count;
    uint32_t rpc_queue_count_cnt;        /* must equal rpc_queue_type_count */
    uint32_t *rpc_dump_types;
    uint32_t rpc_dump_count;
    char **rpc_dump_hostlist;
    uint32_t rpc_dump_hostlist_cnt;      /* must equal rpc_dump_count */
} flurm_stats_info_msg_t;

/* ---- MESSAGE_NODE_REGISTRATION_STATUS (1002), slurmd -> slurmctld ---- */


typedef struct flurm_node_reg_status_msg {
    time_t timestamp;
    time_t slurmd_start_time;
    uint32_t status;
    char *features_active;
    char *features_avail;
    char *hostname;
    char *node_name;
    char *arch;
    char *cpu_spec_list;
    char *os;
    uint16_t cpus;
    uint16_t boards;
    uint16_t sockets;
    uint16_t cores;
    uint16_t threads;
    uint64_t real_memory;
    uint32_t tmp_disk;
    uint32_t up_time;
    uint32_t hash_val;
    uint32_t cpu_load;
    uint64_t free_mem;
    uint32_t job_count;                  /* plain count (no NO_VAL = NULL rule) */
    flurm_step_id_t *step_id;            /* job_count entries */
    uint16_t flags;                      /* 0x2 SLURMD_REG_FLAG_RESP: wants RESPONSE_NODE_REGISTRATION */
    uint32_t gres_info_size;             /* 0: no blob; else packmem of that many bytes follows */
    void *gres_info;
    uint64_t energy_base_consumed;
    uint32_t energy_ave_watts;
    uint64_t energy_consumed;
    uint32_t energy_current_watts;
    uint64_t energy_previous_consumed;
    time_t energy_poll_time;
    char *version;
    uint8_t dynamic_type;
    char *dynamic_conf;
    char *dynamic_feature;
} flurm_node_reg_status_msg_t;

/* ---- RESPONSE_NODE_REGISTRATION (1024), slurmctld -> slurmd ---- */

typedef struct flurm_tres_rec {          /* slurmdb_pack_tres_rec */
    uint64_t alloc_secs;
    uint64_t count;
    uint32_t id;
    char *name;
    char *type;
} flurm_tres_rec_t;

typedef struct flurm_node_reg_resp_msg {
    flurm_tres_rec_t *tres;              /* generic list; NULL packs NO_VAL */
    uint32_t tres_cnt;
    char *node_name;
} flurm_node_reg_resp_msg_t;

#endif
