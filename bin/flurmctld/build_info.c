/* bin/flurmctld/build_info.c — RESPONSE_BUILD_INFO (`scontrol show config`).
 *
 * Values come from slurm.conf where the file sets them and otherwise are SLURM 22.05's documented
 * defaults (slurm.conf(5)), so `scontrol show config` reads like it does against slurmctld. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <flurm/msg_info.h>

#define MEM_PER_CPU 0x8000000000000000ull

static char *kv(const flurm_conf_t *c, const char *key, const char *dflt)
{
    const char *v = flurm_conf_get(c, key);
    return (char *)(v ? v : dflt);
}

static uint32_t kv_u32(const flurm_conf_t *c, const char *key, uint32_t dflt)
{
    const char *v = flurm_conf_get(c, key);
    return v ? (uint32_t)strtoul(v, NULL, 10) : dflt;
}

/* A time value in slurm.conf's [days-]hours:minutes:seconds / minutes form, in seconds. */
static uint32_t kv_mins_secs(const flurm_conf_t *c, const char *key, uint32_t dflt)
{
    const char *v = flurm_conf_get(c, key);
    uint32_t mins;
    if (!v || flurm_time_str2mins(v, &mins) != FLURM_OK || mins == FLURM_INFINITE)
        return dflt;
    return mins * 60;
}

static uint16_t kv_yes(const flurm_conf_t *c, const char *key)
{
    const char *v = flurm_conf_get(c, key);
    return v && (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* PriorityUsageResetPeriod -> PRIORITY_RESET_* (slurm.h). */
static uint16_t reset_period(const char *v)
{
    static const char *const names[] = { "NONE", "NOW", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY",
                                         "YEARLY" };
    for (uint16_t i = 0; v && i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(v, names[i]))
            return i;
    return 0;
}

/* SelectTypeParameters -> CR_* bits (slurm.h). */
static uint16_t cr_bits(const char *s)
{
    static const struct { const char *name; uint16_t bit; } map[] = {
        { "CR_CPU", 0x1 }, { "CR_Socket", 0x2 }, { "CR_Core", 0x4 }, { "CR_Board", 0x8 },
        { "CR_Memory", 0x10 }, { "CR_CPU_Memory", 0x11 }, { "CR_Socket_Memory", 0x12 },
        { "CR_Core_Memory", 0x14 }, { "CR_ONE_TASK_PER_CORE", 0x100 }, { "CR_Pack_Nodes", 0x200 },
        { "CR_CORE_DEFAULT_DIST_BLOCK", 0x1000 }, { "CR_LLN", 0x4000 },
    };
    uint16_t bits = 0;
    char buf[256];
    if (!s)
        return 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcasecmp(t, map[i].name) == 0)
                bits |= map[i].bit;
    return bits;
}

static uint16_t debug_level(const char *s)
{
    static const char *const names[] = { "quiet", "fatal", "error", "info", "verbose", "debug",
                                         "debug2", "debug3", "debug4", "debug5" };
    for (uint16_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return 3;   /* info */
}

void fill_build_info(ctl_t *ctl, flurm_build_info_msg_t *b);

void fill_build_info(ctl_t *ctl, flurm_build_info_msg_t *b)
{
    const flurm_conf_t *c = ctl->conf;
    memset(b, 0, sizeof *b);
    b->last_update = ctl->start_time;
    b->accounting_storage_tres = "cpu,mem,energy,node,billing,fs/disk,vmem,pages";
    b->accounting_storage_type = kv(c, "AccountingStorageType", "accounting_storage/none");
    b->acct_gather_energy_type = kv(c, "AcctGatherEnergyType", "acct_gather_energy/none");
    b->acct_gather_filesystem_type = kv(c, "AcctGatherFilesystemType", "acct_gather_filesystem/none");
    b->acct_gather_interconnect_type = kv(c, "AcctGatherInterconnectType", "acct_gather_interconnect/none");
    b->acct_gather_profile_type = kv(c, "AcctGatherProfileType", "acct_gather_profile/none");
    b->authinfo = c->auth_info;
    b->authtype = c->auth_type;
    b->batch_start_timeout = 10;
    b->boot_time = ctl->start_time;
    b->cluster_name = c->cluster_name;
    b->control_machine_cnt = b->control_addr_cnt = (uint32_t)c->controller_count;
    b->control_machine = calloc(c->controller_count, sizeof *b->control_machine);
    b->control_addr = calloc(c->controller_count, sizeof *b->control_addr);
    for (size_t i = 0; b->control_machine && b->control_addr && i < c->controller_count; i++) {
        b->control_machine[i] = c->controllers[i].name;
        b->control_addr[i] = c->controllers[i].addr;
    }
    if (!b->control_machine || !b->control_addr)
        b->control_machine_cnt = b->control_addr_cnt = 0;
    b->core_spec_plugin = "core_spec/none";
    b->cpu_freq_def = FLURM_NO_VAL;
    b->cred_type = kv(c, "CredType", "cred/munge");
    b->def_mem_per_cpu = c->def_mem_per_cpu ? (c->def_mem_per_cpu | MEM_PER_CPU) : c->def_mem_per_node;
    b->eio_timeout = 60;
    b->epilog = kv(c, "Epilog", NULL);
    b->epilog_msg_time = 2000;
    b->ext_sensors_type = "ext_sensors/none";
    b->first_job_id = c->first_job_id;
    b->fs_dampening_factor = 1;
    b->get_env_timeout = 2;
    b->gres_plugins = c->gres_types;
    b->group_time = 600;
    b->group_force = 1;
    b->hash_val = FLURM_NO_VAL;   /* clients then skip their slurm.conf hash comparison */
    b->health_check_program = kv(c, "HealthCheckProgram", NULL);
    b->inactive_limit = (uint16_t)kv_u32(c, "InactiveLimit", 0);
    b->job_acct_gather_freq = kv(c, "JobAcctGatherFrequency", "30");
    b->job_acct_gather_type = kv(c, "JobAcctGatherType", "jobacct_gather/none");
    b->job_comp_type = kv(c, "JobCompType", "jobcomp/none");
    b->job_requeue = (uint16_t)kv_u32(c, "JobRequeue", 1);
    b->kill_wait = c->kill_wait;
    b->launch_type = "launch/slurm";
    b->max_array_sz = kv_u32(c, "MaxArraySize", 1001);
    b->mail_prog = kv(c, "MailProg", "/bin/mail");
    b->max_job_cnt = c->max_job_count;
    b->max_job_id = kv_u32(c, "MaxJobId", 67043328);
    b->max_node_cnt = FLURM_NO_VAL;
    b->max_step_cnt = kv_u32(c, "MaxStepCount", 40000);
    b->max_tasks_per_node = (uint16_t)kv_u32(c, "MaxTasksPerNode", 512);
    b->mcs_plugin = "mcs/none";
    b->min_job_age = c->min_job_age;
    b->mpi_default = kv(c, "MpiDefault", "none");
    b->msg_timeout = c->message_timeout;
    b->next_job_id = flurm_state_next_job_id(ctl->state);
    b->plugindir = c->plugin_dir ? c->plugin_dir : "/usr/lib/x86_64-linux-gnu/slurm-wlm";
    b->preempt_type = kv(c, "PreemptType", "preempt/none");
    b->preempt_mode = c->preempt_mode;
    b->priority_decay_hl = kv_mins_secs(c, "PriorityDecayHalfLife", 604800);
    b->priority_calc_period = kv_mins_secs(c, "PriorityCalcPeriod", 300);
    b->priority_max_age = kv_mins_secs(c, "PriorityMaxAge", 604800);
    b->priority_favor_small = kv_yes(c, "PriorityFavorSmall");
    b->priority_reset_period = reset_period(kv(c, "PriorityUsageResetPeriod", NULL));
    b->priority_type = c->priority_type;
    b->private_data = c->private_data;   /* scontrol prints it as "jobs,nodes" / "none" */
    /* sprio reads these from its own slurm.conf; scontrol show config from here */
    b->priority_weight_age = kv_u32(c, "PriorityWeightAge", 0);
    b->priority_weight_assoc = kv_u32(c, "PriorityWeightAssoc", 0);
    b->priority_weight_fs = kv_u32(c, "PriorityWeightFairshare", 0);
    b->priority_weight_js = kv_u32(c, "PriorityWeightJobSize", 0);
    b->priority_weight_part = kv_u32(c, "PriorityWeightPartition", 0);
    b->priority_weight_qos = kv_u32(c, "PriorityWeightQOS", 0);
    b->proctrack_type = kv(c, "ProctrackType", "proctrack/cgroup");
    b->prolog = kv(c, "Prolog", NULL);
    b->prolog_epilog_timeout = FLURM_NO_VAL16;
    b->propagate_rlimits = "ALL";
    b->resume_rate = 300;
    b->resume_timeout = 60;
    b->ret2service = c->return_to_service;
    b->route_plugin = "route/default";
    b->sched_params = c->scheduler_parameters;
    b->sched_time_slice = 30;
    b->schedtype = c->scheduler_type;
    b->select_type = c->select_type;
    b->select_type_param = cr_bits(c->select_type_parameters);
    b->slurm_conf = c->path;
    b->slurm_user_id = (uint32_t)c->slurm_user_id;
    b->slurm_user_name = c->slurm_user;
    b->slurmd_user_id = (uint32_t)c->slurmd_user_id;
    b->slurmd_user_name = c->slurmd_user;
    b->slurmctld_debug = debug_level(c->slurmctld_debug);
    b->slurmctld_logfile = c->slurmctld_logfile;
    b->slurmctld_pidfile = c->slurmctld_pidfile;
    b->slurmctld_port = c->slurmctld_port;
    b->slurmctld_port_count = c->slurmctld_port_count;
    b->slurmctld_timeout = c->slurmctld_timeout;
    b->slurmd_debug = debug_level(flurm_conf_get(c, "SlurmdDebug"));
    b->slurmd_logfile = kv(c, "SlurmdLogFile", NULL);
    b->slurmd_pidfile = kv(c, "SlurmdPidFile", "/var/run/slurmd.pid");
    b->slurmd_port = c->slurmd_port;
    b->slurmd_spooldir = c->slurmd_spool_dir;
    b->slurmd_timeout = c->slurmd_timeout;
    b->state_save_location = c->state_save_location;
    b->suspend_rate = 60;
    b->suspend_time = FLURM_NO_VAL;
    b->suspend_timeout = 30;
    b->switch_type = kv(c, "SwitchType", "switch/none");
    b->task_plugin = kv(c, "TaskPlugin", "task/none");
    b->tcp_timeout = 2;
    b->tmp_fs = kv(c, "TmpFS", "/tmp");
    b->topology_plugin = kv(c, "TopologyPlugin", "topology/none");
    b->tree_width = (uint16_t)kv_u32(c, "TreeWidth", 50);
    b->unkillable_timeout = 60;
    b->version = "22.05.8";
}
