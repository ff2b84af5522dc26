/* include/flurm/conf.h — slurm.conf parser. The same file drives the real SLURM 22.05 clients
 * and FLURM's daemons, so syntax and defaults follow SLURM (src/common/read_config.c,
 * src/common/parse_config.c).
 *
 * Syntax: keys are case-insensitive; '#' starts a comment ("\#" is a literal '#'); a trailing
 * '\' continues a line; several Key=Value pairs per line separated by blanks; values may be
 * double-quoted ("a b"); "Include PATH" (relative to the including file's directory, nestable,
 * glob patterns allowed, loops rejected). Lines starting with NodeName=, PartitionName=,
 * DownNodes=, NodeSet= or FrontendName= are records: every pair on them belongs to the record.
 * Any other pair is a global setting; repeating one overrides it, except SlurmctldHost which
 * appends (primary first, then backups). Keys SLURM knows but FLURM does not interpret are kept
 * in kv[] silently; keys unknown to SLURM 22.05 are kept too and logged once each with
 * flurm_warn("FILE:LINE: unknown configuration key 'KEY'"). */
#ifndef FLURM_CONF_H
#define FLURM_CONF_H

#include <stdbool.h>
#include <sys/types.h>
#include <flurm/common.h>

#define FLURM_INFINITE 0xFFFFFFFFu   /* SLURM INFINITE: "INFINITE"/"UNLIMITED" limits */
#define FLURM_NO_VAL 0xFFFFFFFEu     /* SLURM NO_VAL: not set */
#define FLURM_CONF_SHARED_FORCE 0x8000u   /* SLURM SHARED_FORCE bit of max_share */

typedef struct flurm_conf_controller {
    char *name;   /* SlurmctldHost name (what `hostname -s` says on that machine) */
    char *addr;   /* address from "name(addr)" or ControlAddr/BackupAddr; = name when absent */
} flurm_conf_controller_t;

/* Node State= in slurm.conf (SLURM node_conf.c state_str2int accepts these, "DRAIN*",
 * "FAIL*" and "CLOUD*" by prefix). */
typedef enum flurm_conf_node_state {
    FLURM_CONF_NODE_UNKNOWN = 0,
    FLURM_CONF_NODE_DOWN,
    FLURM_CONF_NODE_IDLE,
    FLURM_CONF_NODE_FUTURE,
    FLURM_CONF_NODE_DRAIN,
    FLURM_CONF_NODE_FAIL,
    FLURM_CONF_NODE_CLOUD
} flurm_conf_node_state_t;

/* One node after hostlist expansion. Socket/CPU figures are resolved as SLURM does in
 * read_config.c _parse_nodename: Sockets is the total (Boards*SocketsPerBoard when the latter
 * is given; else CPUs/(Cores*Threads) when that divides evenly; else Boards); CPUs defaults to
 * Sockets*CoresPerSocket*ThreadsPerCore and is reset to that when it matches none of Sockets,
 * Sockets*Cores, Sockets*Cores*Threads; zero counts are raised to 1. */
typedef struct flurm_conf_node {
    char *name;
    char *addr;       /* NodeAddr, default = name */
    char *hostname;   /* NodeHostname, default = name */
    uint16_t port;    /* Port=, default conf->slurmd_port */
    uint16_t cpus, boards, sockets, cores_per_socket, threads_per_core;
    uint64_t real_memory;   /* MB, default 1 */
    uint32_t tmp_disk;      /* MB, default 0 */
    uint32_t weight;        /* default 1; INFINITE is stored as INFINITE-1 like SLURM */
    char *gres;             /* NULL if none */
    char *features;         /* Feature= or Features=; NULL if none */
    flurm_conf_node_state_t state;   /* default UNKNOWN */
    unsigned line;          /* line of the NodeName= record (in file) */
    const char *file;       /* points into flurm_conf_t.files */
} flurm_conf_node_t;

typedef enum flurm_conf_part_state {
    FLURM_CONF_PART_UP = 0,
    FLURM_CONF_PART_DOWN,
    FLURM_CONF_PART_DRAIN,
    FLURM_CONF_PART_INACTIVE
} flurm_conf_part_state_t;

typedef struct flurm_conf_partition {
    char *name;
    char *nodes;           /* Nodes= as written (NULL if absent; "ALL" allowed) */
    uint32_t *node_idx;    /* node_count indices into flurm_conf_t.nodes, in Nodes= order */
    size_t node_count;
    bool is_default;       /* Default=YES */
    bool hidden;           /* Hidden=YES */
    uint32_t max_time;     /* minutes; FLURM_INFINITE default */
    uint32_t default_time; /* minutes; FLURM_NO_VAL when unset */
    flurm_conf_part_state_t state;   /* default UP */
    uint16_t priority_tier;          /* default 1 */
    uint32_t max_nodes;    /* FLURM_INFINITE default / UNLIMITED */
    char *allow_groups;    /* NULL = ALL */
    /* OverSubscribe= (or legacy Shared=) as SLURM's max_share: NO=1 (default), EXCLUSIVE=0,
     * YES=4, YES:n=n, FORCE=4|FLURM_CONF_SHARED_FORCE, FORCE:n=n|FLURM_CONF_SHARED_FORCE. */
    uint16_t max_share;
    unsigned line;
    const char *file;
    uint16_t priority_job_factor;    /* PriorityJobFactor, default 1 (multifactor's partition factor) */
    uint16_t preempt_mode; /* PreemptMode= as SLURM's PREEMPT_MODE_* bits; FLURM_NO_VAL16 = unset */
    /* AllowGroups= resolved at load (slurmctld's allow_uids): the members of each group and the
     * users whose primary group it is, plus root and SlurmUser, sorted and unique; NULL when
     * AllowGroups is ALL. A group unknown at load admits nobody. */
    uint32_t *allow_uids;
    size_t nallow_uids;
} flurm_conf_partition_t;

/* SLURM's PREEMPT_MODE_* bits (slurm.h). */
#define FLURM_PREEMPT_MODE_OFF 0x0000
#define FLURM_PREEMPT_MODE_SUSPEND 0x0001
#define FLURM_PREEMPT_MODE_REQUEUE 0x0002
#define FLURM_PREEMPT_MODE_CANCEL 0x0008
#define FLURM_PREEMPT_MODE_WITHIN 0x4000
#define FLURM_PREEMPT_MODE_GANG 0x8000

/* Parses a PreemptMode value ("REQUEUE", "SUSPEND,GANG", "off"; case-insensitive, comma
 * separated, as read_config.c preempt_mode_num()) into *OUT. FLURM_EINVAL for an unknown word
 * or two base modes at once. */
FLURM_API int flurm_conf_preempt_mode_parse(const char *s, uint16_t *out);

/* SLURM's PrivateData bits (slurm.h PRIVATE_*): what slurmctld hides from users other than root,
 * SlurmUser and operators. CLOUD is the odd one: set, it SHOWS powered-down cloud nodes. */
#define FLURM_PRIVATE_DATA_JOBS 0x0001
#define FLURM_PRIVATE_DATA_NODES 0x0002
#define FLURM_PRIVATE_DATA_PARTITIONS 0x0004
#define FLURM_PRIVATE_DATA_USAGE 0x0008
#define FLURM_PRIVATE_DATA_USERS 0x0010
#define FLURM_PRIVATE_DATA_ACCOUNTS 0x0020
#define FLURM_PRIVATE_DATA_RESERVATIONS 0x0040
#define FLURM_PRIVATE_CLOUD_NODES 0x0080
#define FLURM_PRIVATE_DATA_EVENTS 0x0100
#define FLURM_PRIVATE_DATA_ALL 0xFFFF   /* "all": every bit, as read_config.c sets it */

/* Parses a PrivateData value into *OUT: a comma-separated, case-insensitive list of accounts,
 * cloud, events, jobs, nodes, partitions, reservations, usage, users (each also in the singular,
 * which slurmctld's substring match takes too), "all" (every bit) or "none" (0). FLURM_EINVAL for
 * an empty value, an empty item or any other word (*OUT untouched); slurmctld ignores unknown
 * words, FLURM refuses them so a typo cannot silently publish what was meant to be private. */
FLURM_API int flurm_conf_private_data_parse(const char *s, uint16_t *out);

typedef struct flurm_conf_kv {
    char *key;        /* original spelling */
    char *value;      /* quotes removed */
    const char *file; /* points into flurm_conf_t.files */
    unsigned line;
} flurm_conf_kv_t;

/* The parsed configuration. Transparent and read-only: callers read fields directly and never
 * modify or free them (flurm_conf_free does). Strings default to NULL unless a default is
 * given. */
typedef struct flurm_conf {
    char *path;                 /* the file loaded (name_for_errors for parse_string) */
    char **files;               /* every file read: files[0] = path, then Includes */
    size_t file_count;

    char *cluster_name;         /* ClusterName; default "cluster" */
    flurm_conf_controller_t *controllers;   /* [0] primary, then backups; at least one */
    size_t controller_count;
    uint16_t slurmctld_port;        /* SlurmctldPort=6817 or 6817-6820; default 6817 */
    uint16_t slurmctld_port_count;  /* 1, or the size of the range */
    uint16_t slurmd_port;           /* SlurmdPort; default 6818 */
    char *slurm_user;               /* SlurmUser; default "root" */
    uid_t slurm_user_id;            /* getpwnam(slurm_user) */
    char *slurmd_user;              /* SlurmdUser; default "root" */
    uid_t slurmd_user_id;
    char *auth_type;                /* AuthType; default "auth/munge" */
    char *auth_info;                /* AuthInfo as written */
    char *auth_socket;              /* AuthInfo socket=; NULL = munge default socket */
    uint32_t auth_ttl;              /* AuthInfo ttl= seconds; 0 = not set */
    char *state_save_location;      /* default "/var/spool/slurmctld" */
    char *slurmd_spool_dir;         /* default "/var/spool/slurmd" */
    char *scheduler_type;           /* default "sched/backfill" */
    char *scheduler_parameters;
    char *select_type;              /* default "select/cons_tres" */
    char *select_type_parameters;
    char *priority_type;            /* default "priority/basic" */
    char *gres_types;
    char *plugin_dir;
    char *slurmctld_logfile;
    char *slurmctld_pidfile;
    char *slurmctld_debug;          /* default "info" */
    uint32_t max_job_count;         /* default 10000 */
    uint32_t first_job_id;          /* default 1 */
    uint64_t def_mem_per_cpu;       /* DefMemPerCPU MB; 0 = unset */
    uint64_t def_mem_per_node;      /* DefMemPerNode MB; 0 = unset (SLURM: at most one is set,
                                     * the later line wins and clears the other) */
    uint16_t kill_wait;             /* default 30 s */
    uint16_t slurmd_timeout;        /* default 300 s */
    uint16_t slurmctld_timeout;     /* default 120 s */
    uint16_t message_timeout;       /* default 10 s */
    uint32_t min_job_age;           /* default 300 s */
    uint16_t return_to_service;     /* default 0 */

    flurm_conf_node_t *nodes;       /* file order = node index used on the wire */
    size_t node_count;
    flurm_conf_partition_t *partitions;   /* file order */
    size_t partition_count;
    flurm_conf_kv_t *kv;            /* every Key=Value in file order, after Include expansion */
    size_t kv_count;

    struct flurm_conf_index *index_;   /* private: node name hash */
    uint16_t preempt_mode;          /* global PreemptMode (FLURM_PREEMPT_MODE_* bits); default OFF.
                                     * flurm_conf_get("PreemptMode") may name a partition's. */
    uint16_t private_data;          /* PrivateData as FLURM_PRIVATE_* bits (SLURM's private_data,
                                     * what RESPONSE_BUILD_INFO carries); default 0 = none */
} flurm_conf_t;

/* Parse the file PATH. On success *OUT is a new configuration (flurm_conf_free it).
 * On error *OUT is untouched and, if ERRMSG is not NULL, *ERRMSG is a malloc'd
 * "FILE:LINE: message" (or "FILE: message" for whole-file problems such as an unreadable file
 * or a missing SlurmctldHost); returns FLURM_ENOENT (file or Include missing), FLURM_EIO (read
 * error), FLURM_EINVAL (syntax or validation) or FLURM_ENOMEM. */
FLURM_API int flurm_conf_load(const char *path, flurm_conf_t **out, char **errmsg);

/* As flurm_conf_load on the text TEXT; NAME_FOR_ERRORS is used in messages and as conf->path,
 * and relative Includes resolve against its directory (the current directory if it has none). */
FLURM_API int flurm_conf_parse_string(const char *text, const char *name_for_errors, flurm_conf_t **out,
                                      char **errmsg);

FLURM_API void flurm_conf_free(flurm_conf_t *conf);   /* NULL is fine */

/* Index of node NAME in conf->nodes, or -1. O(1) (hash). */
FLURM_API ssize_t flurm_conf_node_index(const flurm_conf_t *conf, const char *name);

/* The partition named NAME, or NULL. */
FLURM_API const flurm_conf_partition_t *flurm_conf_partition(const flurm_conf_t *conf, const char *name);
/* Whether partition PT's AllowGroups admits UID (its resolved allow_uids; true for ALL). */
FLURM_API bool flurm_conf_partition_admits(const flurm_conf_partition_t *pt, uint32_t uid);

/* Last value of KEY (case-insensitive) in conf->kv, or NULL. */
FLURM_API const char *flurm_conf_get(const flurm_conf_t *conf, const char *key);

/* SLURM time string to minutes (src/common/parse_time.c time_str2mins): "INFINITE",
 * "UNLIMITED" and "-1" give FLURM_INFINITE; "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S";
 * seconds round up to the next minute. FLURM_EINVAL for anything else (*MINS untouched). */
/* FLURM's own settings travel inside SlurmctldParameters (a comma list the real SLURM clients
 * accept whatever it holds; they reject unknown top-level keys): "flurm_node_port=6819,...".
 * Copies the value of option NAME into BUF and returns FLURM_OK; FLURM_ENOENT when absent (BUF
 * untouched), FLURM_ENOSPC when BUF is too small. An option without "=" has the value "". */
FLURM_API int flurm_conf_ctld_param(const flurm_conf_t *conf, const char *name, char *buf, size_t size);

FLURM_API int flurm_time_str2mins(const char *s, uint32_t *mins);

#endif
