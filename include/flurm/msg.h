/* include/flurm/msg.h — SLURM 22.05 message bodies: structs, constants and the generic codec.
 *
 * Each body a controller receives or sends (requests and the small replies) is a plain struct
 * whose members follow the wire order of SLURM 22.05.8 (src/common/slurm_protocol_pack.c,
 * tag slurm-22-05-8-1; docs/slurm-22.05-protocol.md section 4). flurm_msg_unpack() allocates
 * and fills one from body bytes; flurm_msg_pack() appends one; flurm_msg_free() releases one.
 * A struct from flurm_msg_unpack owns every pointer in it; flurm_msg_pack only reads, so callers
 * may pack structs of borrowed pointers (string literals, stack arrays).
 *
 * The layouts are those of protocol 0x2600 (22.05); a frame of an older version
 * (flurm_header_t.version < FLURM_PROTOCOL_VERSION) has different bodies and must not be
 * passed here.
 *
 * Conventions: strings are NUL-terminated, NULL = "not set" (packed as u32 0); a string array
 * is a pointer + u32 count; "list" members (uint32_t * + count) pack u32 NO_VAL when the
 * pointer is NULL and the count otherwise (so a non-NULL pointer with count 0 is an empty
 * list); bitmaps are uint64_t words + bit count (see flurm/buf.h). Unset numeric fields hold
 * the NO_VAL* constants of flurm/buf.h, as SLURM's slurm_init_*_msg() sets them. */
#ifndef FLURM_MSG_H
#define FLURM_MSG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <flurm/buf.h>
#include <flurm/common.h>
#include <flurm/msg_types.h>   /* enum flurm_msg_type, enum flurm_slurm_rc */

/* ---------------------------------------------------------------- constants (slurm/slurm.h) */

/* Base job states: the low byte of job_state (JOB_STATE_BASE). */
enum flurm_job_state {
    FLURM_JOB_PENDING = 0,
    FLURM_JOB_RUNNING = 1,
    FLURM_JOB_SUSPENDED = 2,
    FLURM_JOB_COMPLETE = 3,
    FLURM_JOB_CANCELLED = 4,
    FLURM_JOB_FAILED = 5,
    FLURM_JOB_TIMEOUT = 6,
    FLURM_JOB_NODE_FAIL = 7,
    FLURM_JOB_PREEMPTED = 8,
    FLURM_JOB_BOOT_FAIL = 9,
    FLURM_JOB_DEADLINE = 10,
    FLURM_JOB_OOM = 11,
    FLURM_JOB_END = 12,              /* not a state: number of base states */
};
#define FLURM_JOB_STATE_BASE 0x000000FFu
#define FLURM_JOB_STATE_FLAGS 0xFFFFFF00u

/* Flag bits above the base job state (also the REQUEST_JOB_REQUEUE flags). */
enum flurm_job_state_flag {
    FLURM_JOB_LAUNCH_FAILED = 0x100,
    FLURM_JOB_UPDATE_DB = 0x200,
    FLURM_JOB_REQUEUE = 0x400,
    FLURM_JOB_REQUEUE_HOLD = 0x800,
    FLURM_JOB_SPECIAL_EXIT = 0x1000,
    FLURM_JOB_RESIZING = 0x2000,
    FLURM_JOB_CONFIGURING = 0x4000,
    FLURM_JOB_COMPLETING = 0x8000,
    FLURM_JOB_STOPPED = 0x10000,
    FLURM_JOB_RECONFIG_FAIL = 0x20000,
    FLURM_JOB_POWER_UP_NODE = 0x40000,
    FLURM_JOB_REVOKED = 0x80000,
    FLURM_JOB_REQUEUE_FED = 0x100000,
    FLURM_JOB_RESV_DEL_HOLD = 0x200000,
    FLURM_JOB_SIGNALING = 0x400000,
    FLURM_JOB_STAGE_OUT = 0x800000,
};

/* Base node states: the low 4 bits of node_state (NODE_STATE_BASE). */
enum flurm_node_state {
    FLURM_NODE_STATE_UNKNOWN = 0,
    FLURM_NODE_STATE_DOWN = 1,
    FLURM_NODE_STATE_IDLE = 2,
    FLURM_NODE_STATE_ALLOCATED = 3,
    FLURM_NODE_STATE_ERROR = 4,
    FLURM_NODE_STATE_MIXED = 5,
    FLURM_NODE_STATE_FUTURE = 6,
    FLURM_NODE_STATE_END = 7,        /* not a state: number of base states */
};
#define FLURM_NODE_STATE_BASE 0x0000000Fu
#define FLURM_NODE_STATE_FLAGS 0xFFFFFFF0u

/* Flag bits above the base node state; REQUEST_UPDATE_NODE's node_state uses them as
 * commands (FLURM_NODE_RESUME, _UNDRAIN, _DRAIN, _FAIL, _POWER_DOWN, ...). */
enum flurm_node_state_flag {
    FLURM_NODE_STATE_NET = 0x10,
    FLURM_NODE_STATE_RES = 0x20,
    FLURM_NODE_STATE_UNDRAIN = 0x40,
    FLURM_NODE_STATE_CLOUD = 0x80,
    FLURM_NODE_RESUME = 0x100,
    FLURM_NODE_STATE_DRAIN = 0x200,
    FLURM_NODE_STATE_COMPLETING = 0x400,
    FLURM_NODE_STATE_NO_RESPOND = 0x800,
    FLURM_NODE_STATE_POWERED_DOWN = 0x1000,
    FLURM_NODE_STATE_FAIL = 0x2000,
    FLURM_NODE_STATE_POWERING_UP = 0x4000,
    FLURM_NODE_STATE_MAINT = 0x8000,
    FLURM_NODE_STATE_REBOOT_REQUESTED = 0x10000,
    FLURM_NODE_STATE_REBOOT_CANCEL = 0x20000,
    FLURM_NODE_STATE_POWERING_DOWN = 0x40000,
    FLURM_NODE_STATE_DYNAMIC_FUTURE = 0x80000,
    FLURM_NODE_STATE_REBOOT_ISSUED = 0x100000,
    FLURM_NODE_STATE_PLANNED = 0x200000,
    FLURM_NODE_STATE_INVALID_REG = 0x400000,
    FLURM_NODE_STATE_POWER_DOWN = 0x800000,
    FLURM_NODE_STATE_POWER_UP = 0x1000000,
    FLURM_NODE_STATE_POWER_DRAIN = 0x2000000,
    FLURM_NODE_STATE_DYNAMIC_NORM = 0x4000000,
};

/* show_flags of the info requests. */
enum flurm_show_flag {
    FLURM_SHOW_ALL = 0x0001,
    FLURM_SHOW_DETAIL = 0x0002,
    FLURM_SHOW_MIXED = 0x0008,
    FLURM_SHOW_LOCAL = 0x0010,
    FLURM_SHOW_SIBLING = 0x0020,
    FLURM_SHOW_FEDERATION = 0x0040,
    FLURM_SHOW_FUTURE = 0x0080,
};

/* flags of job_step_kill (REQUEST_KILL_JOB, REQUEST_CANCEL_JOB_STEP). */
enum flurm_kill_flag {
    FLURM_KILL_JOB_BATCH = 0x0001,
    FLURM_KILL_JOB_ARRAY = 0x0002,
    FLURM_KILL_STEPS_ONLY = 0x0004,
    FLURM_KILL_FULL_JOB = 0x0008,
    FLURM_KILL_FED_REQUEUE = 0x0010,
    FLURM_KILL_HURRY = 0x0020,
    FLURM_KILL_OOM = 0x0040,
    FLURM_KILL_NO_SIBS = 0x0080,
    FLURM_KILL_JOB_RESV = 0x0100,
};

/* RESPONSE_JOB_READY return_code bits; READY_JOB_ERROR (-1) / _FATAL (-2) are plain codes. */
enum flurm_job_ready_flag {
    FLURM_READY_NODE_STATE = 0x01,
    FLURM_READY_JOB_STATE = 0x02,
    FLURM_READY_PROLOG_STATE = 0x04,
    FLURM_READY_JOB_ERROR = -1,
    FLURM_READY_JOB_FATAL = -2,
};

/* shutdown_msg options. */
enum flurm_shutdown_option {
    FLURM_SLURMCTLD_SHUTDOWN_ALL = 0,
    FLURM_SLURMCTLD_SHUTDOWN_ABORT = 1,
    FLURM_SLURMCTLD_SHUTDOWN_CTLD = 2,
};

/* stats_info_request command_id. */
enum flurm_stat_command {
    FLURM_STAT_COMMAND_RESET = 0,
    FLURM_STAT_COMMAND_GET = 1,
};

/* suspend_msg op (enum suspend_opts). */
enum flurm_suspend_op {
    FLURM_SUSPEND_JOB = 0,
    FLURM_RESUME_JOB = 1,
};

/* job_desc open_mode. */
enum flurm_open_mode {
    FLURM_OPEN_MODE_DEFAULT = 0,
    FLURM_OPEN_MODE_APPEND = 1,
    FLURM_OPEN_MODE_TRUNCATE = 2,
};

/* job_desc shared. */
enum flurm_job_shared {
    FLURM_JOB_SHARED_NONE = 0,
    FLURM_JOB_SHARED_OK = 1,
    FLURM_JOB_SHARED_USER = 2,
    FLURM_JOB_SHARED_MCS = 3,
};

/* job_desc mail_type bits. */
enum flurm_mail_type {
    FLURM_MAIL_JOB_BEGIN = 0x0001,
    FLURM_MAIL_JOB_END = 0x0002,
    FLURM_MAIL_JOB_FAIL = 0x0004,
    FLURM_MAIL_JOB_REQUEUE = 0x0008,
    FLURM_MAIL_JOB_TIME100 = 0x0010,
    FLURM_MAIL_JOB_TIME90 = 0x0020,
    FLURM_MAIL_JOB_TIME80 = 0x0040,
    FLURM_MAIL_JOB_TIME50 = 0x0080,
    FLURM_MAIL_JOB_STAGE_OUT = 0x0100,
    FLURM_MAIL_ARRAY_TASKS = 0x0200,
    FLURM_MAIL_INVALID_DEPEND = 0x0400,
};

/* update_part flags: set bits, and *_CLR bits that clear them. */
enum flurm_part_flag {
    FLURM_PART_FLAG_DEFAULT = 0x0001,
    FLURM_PART_FLAG_HIDDEN = 0x0002,
    FLURM_PART_FLAG_NO_ROOT = 0x0004,
    FLURM_PART_FLAG_ROOT_ONLY = 0x0008,
    FLURM_PART_FLAG_REQ_RESV = 0x0010,
    FLURM_PART_FLAG_LLN = 0x0020,
    FLURM_PART_FLAG_EXCLUSIVE_USER = 0x0040,
    FLURM_PART_FLAG_DEFAULT_CLR = 0x0100,
    FLURM_PART_FLAG_HIDDEN_CLR = 0x0200,
    FLURM_PART_FLAG_NO_ROOT_CLR = 0x0400,
    FLURM_PART_FLAG_ROOT_ONLY_CLR = 0x0800,
    FLURM_PART_FLAG_REQ_RESV_CLR = 0x1000,
    FLURM_PART_FLAG_LLN_CLR = 0x2000,
    FLURM_PART_FLAG_EXC_USER_CLR = 0x4000,
};

/* Partition state_up. */
enum flurm_partition_state {
    FLURM_PARTITION_INACTIVE = 0,
    FLURM_PARTITION_DOWN = 1,
    FLURM_PARTITION_DRAIN = 2,
    FLURM_PARTITION_UP = 3,
};

/* select plugin ids: the whole "select jobinfo" blob of 22.05 (protocol doc 2.9). */
enum flurm_select_plugin {
    FLURM_SELECT_PLUGIN_CONS_RES = 101,
    FLURM_SELECT_PLUGIN_LINEAR = 102,
    FLURM_SELECT_PLUGIN_SERIAL = 106,
    FLURM_SELECT_PLUGIN_CRAY_LINEAR = 107,
    FLURM_SELECT_PLUGIN_CRAY_CONS_RES = 108,
    FLURM_SELECT_PLUGIN_CONS_TRES = 109,
    FLURM_SELECT_PLUGIN_CRAY_CONS_TRES = 110,
};

/* job_desc task_dist when no --distribution was given. */
#define FLURM_SLURM_DIST_UNKNOWN 0x2000u

/* Special step ids (step_id member of flurm_step_id_t). */
#define FLURM_SLURM_MAX_NORMAL_STEP_ID 0xFFFFFFF0u
#define FLURM_SLURM_PENDING_STEP 0xFFFFFFFDu
#define FLURM_SLURM_EXTERN_CONT 0xFFFFFFFCu
#define FLURM_SLURM_BATCH_SCRIPT 0xFFFFFFFBu
#define FLURM_SLURM_INTERACTIVE_STEP 0xFFFFFFFAu

#define FLURM_NICE_OFFSET 0x80000000u                 /* job nice = offset + nice value */
#define FLURM_MEM_PER_CPU 0x8000000000000000ull       /* pn_min_memory is per CPU */
#define FLURM_MAX_JOB_ID 0x03FFFFFFu

/* job_desc bitflags (u64; macros because enumerators must fit an int). */
#define FLURM_KILL_INV_DEP (1ull << 0)
#define FLURM_NO_KILL_INV_DEP (1ull << 1)
#define FLURM_GRES_ENFORCE_BIND (1ull << 4)
#define FLURM_TEST_NOW_ONLY (1ull << 5)
#define FLURM_JOB_SEND_ENV (1ull << 6)
#define FLURM_SPREAD_JOB (1ull << 8)
#define FLURM_USE_MIN_NODES (1ull << 9)
#define FLURM_JOB_KILL_HURRY (1ull << 10)
#define FLURM_HET_JOB_FLAG (1ull << 13)
#define FLURM_JOB_NTASKS_SET (1ull << 14)
#define FLURM_JOB_CPUS_SET (1ull << 15)
#define FLURM_GRES_DISABLE_BIND (1ull << 19)
#define FLURM_CRON_JOB (1ull << 22)
#define FLURM_JOB_MEM_SET (1ull << 23)
#define FLURM_USE_DEFAULT_ACCT (1ull << 25)
#define FLURM_USE_DEFAULT_PART (1ull << 26)
#define FLURM_USE_DEFAULT_QOS (1ull << 27)
#define FLURM_USE_DEFAULT_WCKEY (1ull << 28)
#define FLURM_JOB_DEPENDENT (1ull << 29)
#define FLURM_JOB_MAGNETIC (1ull << 30)
#define FLURM_JOB_PART_ASSIGNED (1ull << 31)
#define FLURM_BACKFILL_SCHED (1ull << 32)
#define FLURM_BACKFILL_LAST (1ull << 33)
#define FLURM_JOB_SEND_SCRIPT (1ull << 35)

/* ---------------------------------------------------------------- message bodies */

/* RESPONSE_SLURM_RC (8001), RESPONSE_JOB_READY (4020, READY_* bits), RESPONSE_PROLOG_EXECUTING.
 * return_code is a SLURM rc (enum flurm_slurm_rc or an errno), negative values as two's
 * complement. */
typedef struct flurm_return_code_msg {
    uint32_t return_code;
} flurm_return_code_msg_t;

/* RESPONSE_SLURM_RC_MSG (8002): the client prints err_msg and treats the reply as 8001. */
typedef struct flurm_return_code2_msg {
    uint32_t return_code;
    char *err_msg;
} flurm_return_code2_msg_t;

/* REQUEST_BUILD_INFO (2001), REQUEST_RESERVATION_INFO (2024). 0 = send everything. */
typedef struct flurm_last_update_msg {
    time_t last_update;
} flurm_last_update_msg_t;

/* REQUEST_JOB_INFO (2003). job_ids NULL = all jobs (wire count NO_VAL). */
typedef struct flurm_job_info_request_msg {
    time_t last_update;
    uint16_t show_flags;
    uint32_t *job_ids;
    uint32_t job_ids_count;
} flurm_job_info_request_msg_t;

/* REQUEST_JOB_INFO_SINGLE (2021), REQUEST_JOB_READY (4019), REQUEST_BATCH_SCRIPT (2051). */
typedef struct flurm_job_id_msg {
    uint32_t job_id;
    uint16_t show_flags;
} flurm_job_id_msg_t;

/* REQUEST_JOB_USER_INFO (2039). */
typedef struct flurm_job_user_id_msg {
    uint32_t user_id;
    uint16_t show_flags;
} flurm_job_user_id_msg_t;

/* pack_step_id(): job, step (or a FLURM_SLURM_* special id, NO_VAL = all) and het component. */
typedef struct flurm_step_id {
    uint32_t job_id;
    uint32_t step_id;
    uint32_t step_het_comp;
} flurm_step_id_t;

/* REQUEST_JOB_STEP_INFO (2005). */
typedef struct flurm_job_step_info_request_msg {
    time_t last_update;
    flurm_step_id_t step_id;
    uint16_t show_flags;
} flurm_job_step_info_request_msg_t;

/* REQUEST_NODE_INFO (2007). */
typedef struct flurm_node_info_request_msg {
    time_t last_update;
    uint16_t show_flags;
} flurm_node_info_request_msg_t;

/* REQUEST_NODE_INFO_SINGLE (2040). */
typedef struct flurm_node_info_single_msg {
    char *node_name;
    uint16_t show_flags;
} flurm_node_info_single_msg_t;

/* REQUEST_PARTITION_INFO (2009). */
typedef struct flurm_part_info_request_msg {
    time_t last_update;
    uint16_t show_flags;
} flurm_part_info_request_msg_t;

/* RESPONSE_FED_INFO (2050). Only the non-federated reply (one byte 00) is supported: packing
 * federated = true and unpacking a present record both give FLURM_ENOTSUP. */
typedef struct flurm_fed_info_msg {
    bool federated;
} flurm_fed_info_msg_t;

/* scrontab entry inside a job_desc (pack_cron_entry(), src/common/cron.c). */
typedef struct flurm_cron_entry {
    uint32_t flags;
    uint64_t *minute;
    uint32_t minute_bits;
    uint64_t *hour;
    uint32_t hour_bits;
    uint64_t *day_of_month;
    uint32_t day_of_month_bits;
    uint64_t *month;
    uint32_t month_bits;
    uint64_t *day_of_week;
    uint32_t day_of_week_bits;
    char *cronspec;
    uint32_t line_start;
    uint32_t line_end;
} flurm_cron_entry_t;

/* job_desc_msg: REQUEST_SUBMIT_BATCH_JOB (4003), REQUEST_RESOURCE_ALLOCATION (4001),
 * REQUEST_JOB_WILL_RUN (4012), REQUEST_UPDATE_JOB (3001). Every wire field, in wire order
 * (_pack_job_desc_msg, 22.05 branch). Decoding also enforces slurmctld's checks: no NULL
 * entry in environment / spank_job_env, and a known select plugin id (FLURM_EPROTO). */
typedef struct flurm_job_desc_msg {
    uint32_t site_factor;
    char *batch_features;
    char *cluster_features;
    char *clusters;
    uint16_t contiguous;
    char *container;
    uint16_t core_spec;
    uint32_t task_dist;
    uint16_t kill_on_node_fail;
    char *features;
    uint64_t fed_siblings_active;
    uint64_t fed_siblings_viable;
    uint32_t job_id;              /* NO_VAL: the controller assigns one */
    char *job_id_str;             /* REQUEST_UPDATE_JOB: "123", "123_4" */
    char *name;
    char *alloc_node;
    uint32_t alloc_sid;
    char *array_inx;
    char *burst_buffer;
    uint16_t pn_min_cpus;
    uint64_t pn_min_memory;       /* MiB per node, or | FLURM_MEM_PER_CPU */
    uint32_t pn_min_tmp_disk;
    uint8_t power_flags;
    char *prefer;
    uint32_t cpu_freq_min;
    uint32_t cpu_freq_max;
    uint32_t cpu_freq_gov;
    char *partition;
    uint32_t priority;            /* 0 = held (--hold); NO_VAL = default */
    char *dependency;
    char *account;
    char *admin_comment;
    char *comment;
    uint32_t nice;                /* FLURM_NICE_OFFSET + nice */
    uint32_t profile;
    char *qos;
    char *mcs_label;
    char *origin_cluster;
    uint8_t open_mode;            /* enum flurm_open_mode */
    uint8_t overcommit;
    char *acctg_freq;
    uint32_t num_tasks;
    char *req_context;
    char *req_nodes;
    char *exc_nodes;
    char **environment;
    uint32_t env_size;
    char **spank_job_env;
    uint32_t spank_job_env_size;
    char *script;
    char **argv;
    uint32_t argc;
    char *std_err;
    char *std_in;
    char *std_out;
    char *submit_line;
    char *work_dir;
    uint16_t immediate;
    uint16_t reboot;
    uint16_t requeue;
    uint16_t shared;              /* enum flurm_job_shared, NO_VAL16 = default */
    uint16_t cpus_per_task;
    uint16_t ntasks_per_node;
    uint16_t ntasks_per_board;
    uint16_t ntasks_per_socket;
    uint16_t ntasks_per_core;
    uint16_t ntasks_per_tres;
    uint16_t plane_size;
    uint16_t cpu_bind_type;
    uint16_t mem_bind_type;
    char *cpu_bind;
    char *mem_bind;
    uint32_t time_limit;          /* minutes; NO_VAL = partition default, INFINITE */
    uint32_t time_min;
    uint32_t min_cpus;
    uint32_t max_cpus;
    uint32_t min_nodes;
    uint32_t max_nodes;
    uint16_t boards_per_node;
    uint16_t sockets_per_board;
    uint16_t sockets_per_node;
    uint16_t cores_per_socket;
    uint16_t threads_per_core;
    uint32_t user_id;             /* a claim: trust the munge uid */
    uint32_t group_id;
    uint16_t alloc_resp_port;
    char *resp_host;
    uint16_t other_port;
    char *network;
    time_t begin_time;
    time_t end_time;
    time_t deadline;
    char *licenses;
    uint16_t mail_type;           /* enum flurm_mail_type bits */
    char *mail_user;
    char *reservation;
    uint16_t restart_cnt;
    uint16_t warn_flags;
    uint16_t warn_signal;
    uint16_t warn_time;
    char *wckey;
    uint32_t req_switch;
    uint32_t wait4switch;
    uint32_t select_plugin_id;    /* the select jobinfo blob: enum flurm_select_plugin */
    uint16_t wait_all_nodes;
    uint64_t bitflags;            /* FLURM_USE_DEFAULT_* etc. */
    uint32_t delay_boot;
    char *extra;
    uint16_t x11;
    char *x11_magic_cookie;
    char *x11_target;
    uint16_t x11_target_port;
    char *cpus_per_tres;
    char *mem_per_tres;
    char *tres_bind;
    char *tres_freq;
    char *tres_per_job;
    char *tres_per_node;
    char *tres_per_socket;
    char *tres_per_task;
    flurm_cron_entry_t *crontab_entry;   /* NULL except for scrontab jobs */
} flurm_job_desc_msg_t;

/* RESPONSE_SUBMIT_BATCH_JOB (4004). */
typedef struct flurm_submit_response_msg {
    uint32_t job_id;
    uint32_t step_id;             /* slurmctld sends FLURM_SLURM_BATCH_SCRIPT */
    uint32_t error_code;
    char *job_submit_user_msg;
} flurm_submit_response_msg_t;

/* REQUEST_KILL_JOB (5032), REQUEST_CANCEL_JOB_STEP (5005), SRUN_STEP_SIGNAL (7009). */
typedef struct flurm_job_step_kill_msg {
    flurm_step_id_t step_id;
    char *sjob_id;                /* KILL_JOB: "123", "123_7", "123_[1-5]", "123+1" */
    char *sibling;
    uint16_t signal;
    uint16_t flags;               /* enum flurm_kill_flag */
} flurm_job_step_kill_msg_t;

/* REQUEST_UPDATE_NODE (3002), REQUEST_CREATE_NODE (3015), REQUEST_DELETE_NODE (3014).
 * NULL / NO_VAL = unchanged. */
typedef struct flurm_update_node_msg {
    char *comment;
    uint32_t cpu_bind;
    char *extra;
    char *features;
    char *features_act;
    char *gres;
    char *node_addr;
    char *node_hostname;
    char *node_names;
    uint32_t node_state;          /* enum flurm_node_state / flurm_node_state_flag */
    char *reason;
    uint32_t reason_uid;
    uint32_t weight;
} flurm_update_node_msg_t;

/* REQUEST_UPDATE_PARTITION (3005), REQUEST_CREATE_PARTITION (3003). NULL / NO_VAL* = unchanged. */
typedef struct flurm_update_part_msg {
    char *allow_accounts;
    char *allow_alloc_nodes;
    char *allow_groups;
    char *allow_qos;
    char *alternate;
    char *billing_weights_str;
    uint32_t cpu_bind;
    uint64_t def_mem_per_cpu;
    uint32_t default_time;
    char *deny_accounts;
    char *deny_qos;
    uint16_t flags;               /* enum flurm_part_flag */
    char *job_defaults_str;
    uint32_t grace_time;
    uint32_t max_cpus_per_node;
    uint64_t max_mem_per_cpu;
    uint32_t max_nodes;
    uint16_t max_share;
    uint32_t max_time;
    uint32_t min_nodes;
    char *name;
    char *nodes;
    uint16_t over_time_limit;
    uint16_t preempt_mode;
    uint16_t priority_job_factor;
    uint16_t priority_tier;
    char *qos_char;
    uint16_t state_up;            /* enum flurm_partition_state */
} flurm_update_part_msg_t;

/* REQUEST_DELETE_PARTITION (3004). */
typedef struct flurm_delete_part_msg {
    char *name;
} flurm_delete_part_msg_t;

/* REQUEST_SHUTDOWN (1005). */
typedef struct flurm_shutdown_msg {
    uint16_t options;             /* enum flurm_shutdown_option */
} flurm_shutdown_msg_t;

/* One entry of RESPONSE_JOB_ARRAY_ERRORS. */
typedef struct flurm_job_array_err {
    uint32_t error_code;
    char *job_array_id;
} flurm_job_array_err_t;

/* RESPONSE_JOB_ARRAY_ERRORS (5034). Always packs the count (0 when errors is NULL). */
typedef struct flurm_job_array_resp_msg {
    flurm_job_array_err_t *errors;
    uint32_t errors_count;
} flurm_job_array_resp_msg_t;

/* REQUEST_STATS_INFO (2035). */
typedef struct flurm_stats_info_request_msg {
    uint16_t command_id;          /* enum flurm_stat_command */
} flurm_stats_info_request_msg_t;

/* RESPONSE_JOB_WILL_RUN (4013). preemptee_job_ids NULL = none (wire count NO_VAL). */
typedef struct flurm_will_run_response_msg {
    uint32_t job_id;
    char *job_submit_user_msg;
    char *node_list;
    char *part_name;
    uint32_t *preemptee_job_ids;
    uint32_t preemptee_count;
    uint32_t proc_cnt;
    time_t start_time;
    double sys_usage_per;
} flurm_will_run_response_msg_t;

/* REQUEST_PRIORITY_FACTORS (2026, sprio). job_ids / uids NULL = no filter (wire count NO_VAL;
 * sprio sends NO_VAL unless -j / -u is given); partitions: comma list, NULL = all. */
typedef struct flurm_priority_factors_request_msg {
    uint32_t *job_ids;
    uint32_t job_ids_count;
    uint32_t *uids;
    uint32_t uids_count;
    char *partitions;
} flurm_priority_factors_request_msg_t;

/* One job's factors (slurm_protocol_pack.c _pack_priority_factors_object). The priority_*
 * members are already multiplied by their PriorityWeight* (sprio prints them as they are and
 * divides by the weight for -n). priority_site and nice carry FLURM_NICE_OFFSET; direct_prio > 0
 * means an explicitly set priority (sprio then prints it instead of summing the factors). */
typedef struct flurm_priority_factors {
    uint32_t job_id;
    uint32_t user_id;
    double priority_age, priority_assoc, priority_fs, priority_js, priority_part, priority_qos;
    double direct_prio;
    uint32_t priority_site;
    double *priority_tres;        /* tres_cnt entries on the wire as its own count */
    uint32_t priority_tres_count;
    uint32_t tres_cnt;
    char **tres_names;            /* wire: its own count (packstr_array) */
    uint32_t tres_names_count;
    double *tres_weights;
    uint32_t tres_weights_count;
    uint32_t nice;                /* FLURM_NICE_OFFSET + nice */
    char *partition;
} flurm_priority_factors_t;

/* RESPONSE_PRIORITY_FACTORS (2027). factors NULL = no job matched (wire count NO_VAL, what
 * slurmctld sends for an empty result under priority/multifactor); non-NULL with count 0 is what
 * priority/basic sends (an empty list). */
typedef struct flurm_priority_factors_response_msg {
    flurm_priority_factors_t *factors;
    uint32_t factors_count;
} flurm_priority_factors_response_msg_t;

/* REQUEST_SUSPEND (5014). */
typedef struct flurm_suspend_msg {
    uint16_t op;                  /* enum flurm_suspend_op */
    uint32_t job_id;
    char *job_id_str;
} flurm_suspend_msg_t;

/* REQUEST_JOB_REQUEUE (5023). */
typedef struct flurm_requeue_msg {
    uint32_t job_id;
    char *job_id_str;
    uint32_t flags;               /* enum flurm_job_state_flag bits (JOB_REQUEUE_HOLD, ...) */
} flurm_requeue_msg_t;

/* REQUEST_SET_DEBUG_LEVEL (1010), REQUEST_SET_SCHEDLOG_LEVEL. */
typedef struct flurm_set_debug_level_msg {
    uint32_t debug_level;
} flurm_set_debug_level_msg_t;

/* RESPONSE_BATCH_SCRIPT (2052). */
typedef struct flurm_batch_script_msg {
    char *script;
} flurm_batch_script_msg_t;

/* REQUEST_JOB_ALLOCATION_INFO (4014), REQUEST_JOB_END_TIME (4021),
 * REQUEST_HET_JOB_ALLOC_INFO (4027). */
typedef struct flurm_job_alloc_info_msg {
    uint32_t job_id;
    char *req_cluster;
} flurm_job_alloc_info_msg_t;

/* RESPONSE_RESOURCE_ALLOCATION (4002) and RESPONSE_JOB_ALLOCATION_INFO (4015):
 * resource_allocation_response_msg (docs/slurm-22.05-protocol.md 4.19). NODE_CNT 0: the job is
 * pending (ERROR_CODE its reason) and the allocation is pushed to the client later. Node
 * addresses and the working cluster record serve cross-cluster requests (-M) only: never
 * packed, and a body holding either is refused (FLURM_ENOTSUP). */
typedef struct flurm_resource_allocation_response_msg {
    char *account;
    char *alias_list;             /* NULL (the "TBD" of cloud nodes is not used) */
    char *batch_host;
    char **environment;
    uint32_t env_size;
    uint32_t error_code;
    char *job_submit_user_msg;
    uint32_t job_id;
    uint32_t node_cnt;
    char *node_list;
    uint16_t ntasks_per_board, ntasks_per_core, ntasks_per_tres, ntasks_per_socket;
    uint32_t num_cpu_groups;      /* run-length groups of CPUs per node: */
    uint16_t *cpus_per_node;      /*   NUM_CPU_GROUPS counts */
    uint32_t *cpu_count_reps;     /*   NUM_CPU_GROUPS repetitions */
    char *partition;
    uint64_t pn_min_memory;       /* 0 unless the job asked for memory */
    char *qos;
    char *resv_name;
    uint32_t select_plugin_id;    /* select jobinfo: the plugin id alone */
} flurm_resource_allocation_response_msg_t;

/* RESPONSE_HET_JOB_ALLOCATION (4026, _pack_job_info_list_msg): u16 count, then that many grants
 * (one for a job that is no heterogeneous job). */
typedef struct flurm_het_job_allocation_msg {
    uint16_t count;
    flurm_resource_allocation_response_msg_t *jobs;
} flurm_het_job_allocation_msg_t;

/* REQUEST_COMPLETE_JOB_ALLOCATION (5017). */
typedef struct flurm_complete_job_allocation_msg {
    uint32_t job_id;
    uint32_t job_rc;              /* highest task exit status; NO_VAL if cancelled */
} flurm_complete_job_allocation_msg_t;

/* MESSAGE_EPILOG_COMPLETE (6012). */
typedef struct flurm_epilog_complete_msg {
    uint32_t job_id;
    uint32_t return_code;
    char *node_name;
} flurm_epilog_complete_msg_t;

/* REQUEST_COMPLETE_PROLOG (6018), 22.05 layout. */
typedef struct flurm_complete_prolog_msg {
    uint32_t job_id;
    char *node_name;
    uint32_t prolog_rc;
} flurm_complete_prolog_msg_t;

/* ---------------------------------------------------------------- generic codec */

/* True when libflurm can unpack/pack a body of MSG_TYPE: an empty-body type or one with a
 * layout (the struct for each type is named in the comments above). */
FLURM_API bool flurm_msg_known(uint16_t msg_type);
/* True when SLURM sends MSG_TYPE with an empty body (REQUEST_PING, REQUEST_FED_INFO, ...). */
FLURM_API bool flurm_msg_empty_body(uint16_t msg_type);

/* Decodes the LEN body bytes at BODY of a MSG_TYPE message into a new struct stored in *OUT
 * (release with flurm_msg_free). An empty-body type gives FLURM_OK and *OUT = NULL. Bytes left
 * over after the struct are tolerated (libslurm does not check either); running out of bytes
 * is FLURM_ETRUNC, impossible values FLURM_EPROTO, a type without a layout FLURM_ENOTSUP.
 * On failure *OUT is NULL and nothing is allocated. */
FLURM_API int flurm_msg_unpack(uint16_t msg_type, const void *body, size_t len, void **out);

/* Appends the body of MSG (a struct of the type's layout; ignored for empty-body types) to
 * OUT. A type without a layout gives FLURM_ENOTSUP and leaves OUT untouched; any other failure
 * leaves OUT's size unchanged and sets its sticky error (see flurm/buf.h). */
FLURM_API int flurm_msg_pack(uint16_t msg_type, const void *msg, flurm_buf_t *out);

/* Appends one complete frame (flurm_frame_encode, version FLURM_PROTOCOL_VERSION) carrying
 * MSG packed as MSG_TYPE. FLAGS should echo the request's; CRED is the munge credential. */
FLURM_API int flurm_msg_encode(flurm_buf_t *out, uint16_t flags, uint16_t msg_type,
                               const char *cred, const void *msg);

/* Frees a struct from flurm_msg_unpack of MSG_TYPE and everything it owns. NULL is fine. */
FLURM_API void flurm_msg_free(uint16_t msg_type, void *msg);

#endif
