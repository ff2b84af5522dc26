/* bin/flurmctld/rpc.c — what flurmctld answers to each SLURM request.
 *
 * Reads are answered from applied state on the loop thread. Writes are validated here (so a
 * rejected request never reaches the log) and then proposed as commands; their reply is built
 * by rpc_applied() once the command is durable and applied. SLURM semantics follow
 * src/slurmctld/proc_req.c of 22.05 (return codes, who may do what). */
#include "ctl.h"
#include "alloc.h"
#include "commit.h"
#include "peers.h"

#include <pwd.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flurm/hostlist.h>
#include <flurm/log.h>
#include <flurm/msg.h>
#include <flurm/msg_info.h>
#include <flurm/sched_plugin.h>

#include "codec/msg_info.h"
#include "codec/table.h"

#define SLURM_BATCH_SCRIPT 0xFFFFFFFBu
#define MEM_PER_CPU 0x8000000000000000ull

static bool multifactor(const flurm_conf_t *c)
{
    return c->priority_type && strcmp(c->priority_type, "priority/multifactor") == 0;
}

static bool privileged(const ctl_t *ctl, uid_t uid)
{
    return uid == 0 || uid == ctl->conf->slurm_user_id;
}

/* ------------------------------------------------------------------ what a user may read
 *
 * As slurmctld 22.05 decides it for a user who is neither root nor SlurmUser (FLURM keeps no
 * accounting, so there are no operators or account coordinators beyond those two):
 *  - PrivateData=jobs: job lists, single jobs (an unknown id then) and sprio leave out other
 *    users' jobs (job_mgr.c _hide_job_user_rec, priority_multifactor.c);
 *  - PrivateData=nodes / partitions: node / partition information is refused with
 *    ESLURM_ACCESS_DENIED (proc_req.c _slurm_rpc_dump_nodes, _node_single, _partitions);
 *  - without SHOW_ALL (sinfo -a, squeue -a), partitions the user cannot see (Hidden, or an
 *    AllowGroups that does not admit them: partition_mgr.c _part_is_visible) are left out of
 *    partition lists, nodes all of whose partitions are such are blank records (node_mgr.c
 *    _node_is_hidden) and job lists leave out their jobs (job_mgr.c _all_parts_hidden).
 * Root and SlurmUser see everything, Hidden partitions included, with or without SHOW_ALL. */

static bool private_data(const ctl_t *ctl, uint16_t bit)
{
    return (ctl->conf->private_data & bit) != 0;
}

static bool part_visible(const flurm_conf_partition_t *cp, uid_t uid)
{
    return !cp->hidden && flurm_conf_partition_admits(cp, uid);
}

/* Whether UID sees every partition, so that the partition filters would hide nothing. */
static bool all_parts_visible(const ctl_t *ctl, uid_t uid)
{
    for (size_t i = 0; i < ctl->conf->partition_count; i++)
        if (!part_visible(&ctl->conf->partitions[i], uid))
            return false;
    return true;
}

/* Who reads a job list, and which of the rules above apply to it. */
typedef struct job_view {
    uid_t uid;
    bool hide_others;    /* PrivateData=jobs and not privileged */
    bool hide_parts;     /* a list without SHOW_ALL by a user who cannot see some partition */
} job_view_t;

static job_view_t job_view(const ctl_t *ctl, const rpc_t *r, uint16_t show_flags, bool list)
{
    bool priv = privileged(ctl, r->uid);
    return (job_view_t){
        .uid = r->uid,
        .hide_others = !priv && private_data(ctl, FLURM_PRIVATE_DATA_JOBS),
        .hide_parts = !priv && list && !(show_flags & FLURM_SHOW_ALL) && !all_parts_visible(ctl, r->uid),
    };
}

static bool job_hidden(const ctl_t *ctl, const job_view_t *v, const flurm_job_t *j)
{
    if (v->hide_others && j->user_id != v->uid)
        return true;
    /* a job without a (known) partition has none the user can see */
    return v->hide_parts && (j->part_index < 0 || (size_t)j->part_index >= ctl->conf->partition_count ||
                             !part_visible(&ctl->conf->partitions[j->part_index], v->uid));
}

void rpc_reply_rc(rpc_t *r, uint32_t rc)
{
    r->reply_digest_valid = false;
    r->reply.size = 0;
    r->reply.err = 0;
    r->reply_type = FLURM_RESPONSE_SLURM_RC;
    flurm_pack32(&r->reply, rc);
}

/* RC_MSG: the client prints TEXT on stderr, then treats it like RESPONSE_SLURM_RC. */
static void reply_rc_msg(rpc_t *r, uint32_t rc, const char *text)
{
    r->reply_digest_valid = false;
    r->reply.size = 0;
    r->reply.err = 0;
    r->reply_type = FLURM_RESPONSE_SLURM_RC_MSG;
    flurm_pack32(&r->reply, rc);
    flurm_packstr(&r->reply, text);
}

static void reply_msg(rpc_t *r, uint16_t type, const void *msg);

void rpc_reply_msg(rpc_t *r, uint16_t type, const void *msg)
{
    reply_msg(r, type, msg);
}

static void reply_msg(rpc_t *r, uint16_t type, const void *msg)
{
    r->reply_digest_valid = false;
    r->reply.size = 0;
    r->reply.err = 0;
    r->reply_type = type;
    flurm_msg_pack(type, msg, &r->reply);
}

static int decode(rpc_t *r, void **msg)
{
    int rc = flurm_msg_unpack(r->frame.hdr.msg_type, r->frame.body, r->frame.hdr.body_length, msg);
    if (rc != FLURM_OK) {
        flurm_error("malformed %s body (%u bytes) from %s: %s",
                    flurm_msg_type_name(r->frame.hdr.msg_type), r->frame.hdr.body_length, r->peer,
                    flurm_strerror(rc));
        rpc_reply_rc(r, FLURM_SLURM_COMMUNICATIONS_RECEIVE_ERROR);
    }
    return rc;
}

/* R's request id (libflurm/state/requests.h): K12 of the frame as the client sent it, which a
 * follower forwards unchanged, so every member that handles it derives the same id. */
static void request_id(const rpc_t *r, uint8_t id[FLURM_REQUEST_ID_LEN])
{
    static const char custom[] = "flurm request id";
    flurm_k12(r->in, r->need, custom, sizeof custom - 1, id, FLURM_REQUEST_ID_LEN);
}

/* Builds the command for the request in R: the request body, stamped with time, identity and
 * the request id. */
static int propose(ctl_t *ctl, rpc_t *r, uint32_t job_id)
{
    uint8_t id[FLURM_REQUEST_ID_LEN];
    request_id(r, id);
    r->cmd.size = 0;
    if (flurm_cmd_build_request(&r->cmd, r->frame.hdr.msg_type, (time_t)ev_now(ctl->loop), r->uid, r->gid,
                                job_id, r->host, id, r->frame.body, r->frame.hdr.body_length) != FLURM_OK) {
        rpc_reply_rc(r, FLURM_ESLURM_INTERNAL);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ jobs */

static const char *part_name(const ctl_t *ctl, const flurm_job_t *j)
{
    return j->part_index >= 0 ? ctl->conf->partitions[j->part_index].name
                              : (j->desc ? j->desc->partition : NULL);
}

/* uid -> user name, cached: squeue over deep queues must not call getpwuid per job.
 * Loop thread only. */
static uint32_t or_default(uint32_t v, uint32_t dflt) { return v == FLURM_NO_VAL ? dflt : v; }
static uint16_t or_default16(uint16_t v, uint16_t dflt) { return v == FLURM_NO_VAL16 ? dflt : v; }

/* The job's command as slurmctld shows it: the batch script path with its arguments; NULL for
 * --wrap (sbatch sends no argv then). */
static char *job_command(const flurm_job_desc_msg_t *d)
{
    if (!d || !d->argc || !d->argv)
        return NULL;
    size_t len = 1;
    for (uint32_t i = 0; i < d->argc; i++)
        len += (d->argv[i] ? strlen(d->argv[i]) : 0) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (uint32_t i = 0; i < d->argc; i++) {
        if (i)
            *p++ = ' ';
        size_t n = d->argv[i] ? strlen(d->argv[i]) : 0;
        memcpy(p, d->argv[i] ? d->argv[i] : "", n);
        p += n;
    }
    *p = '\0';
    return s;
}

typedef struct job_strings {
    char *array_task_str, *command, *tres_req, *nodes, *sched_nodes;
    uint64_t *node_inx;
} job_strings_t;

/* Fills REC for J with pointers borrowed from J (and from OWN, which the caller frees). */
static void job_record(const ctl_t *ctl, const flurm_job_t *j, uint16_t show_flags,
                       flurm_job_info_t *rec, job_strings_t *own)
{
    const flurm_job_desc_msg_t *d = j->desc;
    static const flurm_job_desc_msg_t empty;
    if (!d)
        d = &empty;
    memset(rec, 0, sizeof *rec);
    memset(own, 0, sizeof *own);
    bool pending = (j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_PENDING;
    uint32_t ncpus = j->nodes ? j->cpus_per_node * j->nnodes
                   : j->ran_on ? j->cpus_per_node * j->nran_on : or_default(d->min_cpus, 1);
    uint32_t nnodes = j->nodes ? j->nnodes : j->ran_on ? j->nran_on : or_default(d->min_nodes, 1);
    rec->array_job_id = j->array_job_id;
    rec->array_task_id = j->array_task_id;
    if (j->array_job_id && j->array_pending && pending)
        rec->array_task_str = own->array_task_str =
            flurm_bitmap_hex(j->array_pending, j->array_nbits);   /* slurmctld's form: "0x..." */
    rec->array_max_tasks = j->array_max_tasks;
    rec->delay_boot = or_default(d->delay_boot, 0);
    rec->job_id = j->job_id;
    rec->user_id = j->user_id;
    rec->group_id = j->group_id;
    rec->job_state = j->job_state;
    rec->batch_flag = flurm_job_is_batch(j);
    rec->state_reason = flurm_job_reason(j);
    rec->state_desc = (char *)j->state_desc;
    rec->show_flags = show_flags;
    rec->deadline = d->deadline;
    rec->alloc_sid = d->alloc_sid;
    rec->time_limit = j->time_limit;
    rec->time_min = or_default(d->time_min, 0);
    rec->nice = or_default(d->nice, FLURM_JOB_NICE_OFFSET);
    rec->submit_time = j->submit_time;
    rec->eligible_time = j->priority ? (j->eligible_time ? j->eligible_time : j->submit_time) : 0;
    rec->start_time = j->start_time;
    if (pending && j->planned_start) {
        /* the backfill reservation: what `squeue --start` shows (slurmctld sets the pending
         * job's start_time and sched_nodes in sched/backfill's _set_job_time_limit path) */
        rec->start_time = j->planned_start;
        rec->sched_nodes = own->sched_nodes =
            j->nplanned_nodes ? ctl_node_names(ctl->conf, j->planned_nodes, j->nplanned_nodes) : NULL;
    }
    rec->end_time = j->end_time;
    rec->preempt_time = j->preempt_time;
    rec->suspend_time = j->suspend_time;
    rec->pre_sus_time = j->pre_sus_time;
    /* slurmctld sets it at the start when preemption is on (scontrol then prints
     * PreemptEligibleTime/PreemptTime); a requeue clears it */
    if (!pending && j->start_time && flurm_state_preempt_enabled(ctl->state))
        rec->preemptable_time = j->start_time;
    rec->last_sched_eval = j->last_sched_eval;
    /* multifactor: the last cycle's priority (kept once the job runs, as slurmctld's is); 0
     * still means held */
    rec->priority = j->priority && j->factors.job_id && multifactor(ctl->conf) ? j->factors.priority
                                                                             : j->priority;
    /* slurmctld leaves billable TRES at (double)NO_VAL until the job is allocated. */
    rec->billable_tres = pending ? (double)FLURM_NO_VAL : (double)ncpus;
    rec->cluster = ctl->conf->cluster_name;
    rec->partition = (char *)part_name(ctl, j);
    rec->account = d->account;
    rec->admin_comment = d->admin_comment;
    rec->site_factor = FLURM_JOB_NICE_OFFSET;
    rec->network = d->network;
    rec->comment = d->comment;
    rec->container = d->container;
    rec->batch_features = d->batch_features;
    rec->burst_buffer = d->burst_buffer;
    rec->qos = d->qos;
    rec->licenses = d->licenses;
    rec->resv_name = d->reservation;
    rec->mcs_label = d->mcs_label;
    rec->exit_code = j->exit_code;
    rec->restart_cnt = j->restart_cnt;
    rec->name = d->name;
    rec->wckey = d->wckey;
    rec->req_switch = or_default(d->req_switch, 0);
    rec->wait4switch = or_default(d->wait4switch, 0);
    rec->alloc_node = j->alloc_node;
    rec->select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
    const uint32_t *on = j->nodes ? j->nodes : j->ran_on;
    uint32_t non = j->nodes ? j->nnodes : j->nran_on;
    if (on && non) {
        uint32_t nbits = (uint32_t)ctl->conf->node_count;
        uint64_t *inx = calloc((nbits + 63) / 64 ? (nbits + 63) / 64 : 1, sizeof *inx);
        for (uint32_t i = 0; inx && i < non; i++)
            inx[on[i] / 64] |= 1ull << (on[i] % 64);
        rec->nodes = own->nodes = ctl_node_names(ctl->conf, on, non);
        rec->node_inx = own->node_inx = inx;
        rec->node_inx_bits = inx ? nbits : 0;
        rec->batch_host = ctl->conf->nodes[on[0]].name;
    }
    rec->features = d->features;
    rec->prefer = pending ? d->prefer : NULL;
    rec->cluster_features = d->cluster_features;
    rec->work_dir = d->work_dir;
    /* stored as slurmctld shows it: "afterok:5(unfulfilled)", (null) once met (state.c) */
    rec->dependency = d->dependency;
    rec->command = own->command = job_command(d);
    rec->num_cpus = ncpus;
    rec->max_cpus = or_default(d->max_cpus, 0);
    rec->num_nodes = nnodes;
    rec->max_nodes = or_default(d->max_nodes, 0);
    rec->requeue = or_default16(d->requeue, 1);
    rec->ntasks_per_node = or_default16(d->ntasks_per_node, 0);
    rec->ntasks_per_tres = or_default16(d->ntasks_per_tres, 0);
    rec->num_tasks = or_default(d->num_tasks, 1);
    rec->shared = d->shared;
    rec->cpu_freq_min = d->cpu_freq_min;
    rec->cpu_freq_max = d->cpu_freq_max;
    rec->cpu_freq_gov = d->cpu_freq_gov;
    rec->contiguous = or_default16(d->contiguous, 0);
    rec->core_spec = d->core_spec;
    rec->cpus_per_task = or_default16(d->cpus_per_task, 1);
    rec->pn_min_cpus = or_default16(d->pn_min_cpus, 1);
    rec->pn_min_memory = d->pn_min_memory == FLURM_NO_VAL64 ? 0 : d->pn_min_memory;
    rec->pn_min_tmp_disk = or_default(d->pn_min_tmp_disk, 0);
    rec->req_nodes = d->req_nodes;
    rec->exc_nodes = d->exc_nodes;
    rec->std_err = d->std_err;
    rec->std_in = d->std_in;
    rec->std_out = d->std_out;
    /* The multi-core block is always present for batch jobs; unset members stay NO_VAL16 and
     * scontrol prints them as '*' (ReqB:S:C:T=0:0:*:*). */
    rec->multi_core_flag = 0xFF;
    rec->boards_per_node = or_default16(d->boards_per_node, 0);
    rec->sockets_per_board = or_default16(d->sockets_per_board, 0);
    rec->sockets_per_node = d->sockets_per_node;
    rec->cores_per_socket = d->cores_per_socket;
    rec->threads_per_core = d->threads_per_core;
    rec->ntasks_per_board = or_default16(d->ntasks_per_board, 0);
    rec->ntasks_per_socket = d->ntasks_per_socket;
    rec->ntasks_per_core = d->ntasks_per_core;
    rec->plane_size = d->plane_size;
    rec->bitflags = d->bitflags | (d->partition ? 0 : FLURM_JOB_PART_ASSIGNED);
    rec->mail_user = d->mail_user ? d->mail_user : (char *)ctl_user_name(j->user_id);
    char tres[160];
    uint64_t mem = rec->pn_min_memory & ~MEM_PER_CPU;
    if (rec->pn_min_memory & MEM_PER_CPU)
        mem *= ncpus;
    else if (!mem && j->part_index >= 0 && ctl->conf->partitions[j->part_index].node_count)
        /* No memory asked for and no default: the job may use a whole node's memory. */
        mem = ctl->conf->nodes[ctl->conf->partitions[j->part_index].node_idx[0]].real_memory * nnodes;
    else
        mem *= nnodes;
    if (mem)
        snprintf(tres, sizeof tres, "cpu=%u,mem=%lluM,node=%u,billing=%u", ncpus,
                 (unsigned long long)mem, nnodes, ncpus);
    else
        snprintf(tres, sizeof tres, "cpu=%u,node=%u,billing=%u", ncpus, nnodes, ncpus);
    rec->tres_req_str = own->tres_req = strdup(tres);
    rec->start_protocol_ver = FLURM_PROTOCOL_VERSION;
    rec->cpus_per_tres = d->cpus_per_tres;
    rec->mem_per_tres = d->mem_per_tres;
    rec->tres_bind = d->tres_bind;
    rec->tres_freq = d->tres_freq;
    rec->tres_per_job = d->tres_per_job;
    rec->tres_per_node = d->tres_per_node;
    rec->tres_per_socket = d->tres_per_socket;
    rec->tres_per_task = d->tres_per_task;
    rec->mail_type = or_default16(d->mail_type, 0);
}

static void job_strings_free(job_strings_t *s)
{
    free(s->nodes);
    free(s->sched_nodes);
    free(s->node_inx);
    free(s->array_task_str);
    free(s->command);
    free(s->tres_req);
}

typedef bool (*job_filter_fn)(const flurm_job_t *j, const void *arg);

static bool filter_uid(const flurm_job_t *j, const void *arg) { return j->user_id == *(const uint32_t *)arg; }
static bool filter_id(const flurm_job_t *j, const void *arg)
{
    uint32_t id = *(const uint32_t *)arg;
    return j->job_id == id || j->array_job_id == id;
}

/* RESPONSE_JOB_INFO, packed record by record (no intermediate array for deep queues), of the
 * jobs FILTER selects that VIEW does not hide; returns how many. */
static uint32_t reply_jobs(ctl_t *ctl, rpc_t *r, uint16_t show_flags, job_filter_fn filter, const void *arg,
                           const job_view_t *view)
{
    flurm_buf_t *b = &r->reply;
    const flurm_table_t *rec_tab = &flurm_job_info_table;
    r->reply_type = FLURM_RESPONSE_JOB_INFO;
    r->reply_digest_valid = false;
    b->size = 0;
    flurm_pack32(b, 0);
    flurm_pack_time(b, (time_t)ev_now(ctl->loop));
    flurm_pack_time(b, 0);   /* last_backfill: no backfill cycle has run */
    uint32_t n = 0;
    for (size_t i = 0; i < flurm_state_job_slots(ctl->state) && !b->err; i++) {
        const flurm_job_t *j = flurm_state_job_at(ctl->state, i);
        if (!j || (filter && !filter(j, arg)) || job_hidden(ctl, view, j))
            continue;
        flurm_job_info_t rec;
        job_strings_t own;
        job_record(ctl, j, show_flags, &rec, &own);
        flurm_table_pack(rec_tab, &rec, b);
        job_strings_free(&own);
        n++;
    }
    flurm_pack32_at(b, 0, n);
    return n;
}

/* The last full RESPONSE_JOB_INFO body and its digest: squeue over a deep queue, asked again
 * before any job changed, costs a copy and one munge round trip, not a re-pack and re-hash. */
static struct job_info_cache {
    bool valid;
    uint64_t gen;
    uint16_t show_flags;
    flurm_buf_t body;
    uint8_t digest[32];
} jcache;

void rpc_cleanup(void)
{
    flurm_buf_release(&jcache.body);
    jcache.valid = false;
}

static int handle_job_info(ctl_t *ctl, rpc_t *r)
{
    flurm_job_info_request_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    uint16_t show = m->show_flags;
    bool unchanged = m->last_update && flurm_state_jobs_changed(ctl->state) &&
                     m->last_update - 1 >= flurm_state_jobs_changed(ctl->state);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    if (unchanged) {
        rpc_reply_rc(r, FLURM_SLURM_NO_CHANGE_IN_DATA);
        return 0;
    }
    job_view_t view = job_view(ctl, r, show, true);
    if (view.hide_others || view.hide_parts) {
        /* this user's own list: neither taken from the cache nor put in it */
        reply_jobs(ctl, r, show, NULL, NULL, &view);
        return 0;
    }
    uint64_t gen = flurm_state_jobs_gen(ctl->state);
    if (!jcache.valid || jcache.gen != gen || jcache.show_flags != show) {
        reply_jobs(ctl, r, show, NULL, NULL, &view);
        if (r->reply.err)
            return 0;
        jcache.valid = false;
        jcache.body.size = 0;
        jcache.body.err = 0;
        if (flurm_pack_raw(&jcache.body, r->reply.data, r->reply.size) == FLURM_OK) {
            flurm_auth_digest(FLURM_RESPONSE_JOB_INFO, jcache.body.data, jcache.body.size,
                              jcache.digest);
            jcache.gen = gen;
            jcache.show_flags = show;
            jcache.valid = true;
        }
    } else {
        r->reply_type = FLURM_RESPONSE_JOB_INFO;
        r->reply.size = 0;
        r->reply.err = 0;
        flurm_pack_raw(&r->reply, jcache.body.data, jcache.body.size);
    }
    if (jcache.valid && !r->reply.err) {
        memcpy(r->reply_digest, jcache.digest, sizeof r->reply_digest);
        r->reply_digest_valid = true;
    }
    return 0;
}

static int handle_job_info_single(ctl_t *ctl, rpc_t *r)
{
    flurm_job_id_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    /* job_mgr.c pack_one_job: a job the user may not see is as unknown as a missing one; the
     * partition rules do not apply to a job asked for by id */
    job_view_t view = job_view(ctl, r, m->show_flags, false);
    if (!flurm_state_find_job(ctl->state, m->job_id) ||
        !reply_jobs(ctl, r, m->show_flags, filter_id, &m->job_id, &view))
        rpc_reply_rc(r, FLURM_ESLURM_INVALID_JOB_ID);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    return 0;
}

static int handle_job_user_info(ctl_t *ctl, rpc_t *r)
{
    flurm_job_user_id_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    job_view_t view = job_view(ctl, r, m->show_flags, true);
    reply_jobs(ctl, r, m->show_flags, filter_uid, &m->user_id, &view);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    return 0;
}

static int handle_batch_script(ctl_t *ctl, rpc_t *r)
{
    flurm_job_id_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    const flurm_job_t *j = flurm_state_find_job(ctl->state, m->job_id);
    if (!j)
        rpc_reply_rc(r, FLURM_ESLURM_INVALID_JOB_ID);
    else if (j->user_id != r->uid && !privileged(ctl, r->uid))
        rpc_reply_rc(r, FLURM_ESLURM_USER_ID_MISSING);
    else if (!j->desc || !j->desc->script)
        rpc_reply_rc(r, FLURM_ESLURM_JOB_SCRIPT_MISSING);
    else {
        r->reply_type = FLURM_RESPONSE_BATCH_SCRIPT;
        r->reply.size = 0;
        flurm_packstr(&r->reply, j->desc->script);
    }
    flurm_msg_free(r->frame.hdr.msg_type, m);
    return 0;
}

/* Checks slurmctld makes before accepting a batch job (job_mgr.c _job_create/_valid_job_*). */
/* A submission (BATCH: sbatch) or an interactive allocation (salloc, srun: no script, no
 * environment, no array). */
static uint32_t validate_submit(ctl_t *ctl, rpc_t *r, flurm_job_desc_msg_t *d, bool batch, const char **why)
{
    *why = NULL;
    bool admin = privileged(ctl, r->uid);
    /* validate_job_create_req: a negative nice needs an operator (sbatch: "Invalid --nice value") */
    if (!admin && d->nice != FLURM_NO_VAL && d->nice < FLURM_NICE_OFFSET)
        return FLURM_ESLURM_INVALID_NICE;
    if (d->user_id != FLURM_NO_VAL && d->user_id != r->uid && !admin)
        return FLURM_ESLURM_USER_ID_MISSING;
    if (d->group_id != FLURM_NO_VAL && d->group_id != r->gid && !admin)
        return FLURM_ESLURM_GROUP_ID_MISSING;
    if (batch && (!d->script || !*d->script))
        return FLURM_ESLURM_JOB_SCRIPT_MISSING;
    if (batch && (!d->env_size || !d->environment))
        return FLURM_ESLURM_ENVIRONMENT_MISSING;
    if (!batch && d->array_inx && *d->array_inx)
        return FLURM_ESLURM_INVALID_ARRAY;
    int32_t pi = flurm_state_resolve_partition(ctl->conf, d->partition);
    if (pi < 0 && d->partition) {
        static __thread char msg[300];
        snprintf(msg, sizeof msg, "invalid partition specified: %s", d->partition);
        *why = msg;
        return FLURM_ESLURM_INVALID_PARTITION_NAME;
    }
    if (pi < 0)
        return FLURM_ESLURM_DEFAULT_PARTITION_NOT_SET;
    const flurm_part_rt_t *p = flurm_state_part(ctl->state, (size_t)pi);
    if (p->state_up == FLURM_PARTITION_INACTIVE || p->state_up == FLURM_PARTITION_DRAIN)
        return FLURM_ESLURM_PARTITION_NOT_AVAIL;
    const flurm_conf_partition_t *cp = &ctl->conf->partitions[pi];
    if (!admin && !flurm_conf_partition_admits(cp, r->uid))
        return FLURM_ESLURM_JOB_MISSING_REQUIRED_PARTITION_GROUP;   /* AllowGroups */
    uint32_t min_nodes = or_default(d->min_nodes, 1);
    if (min_nodes > cp->node_count) {
        *why = "Requested node configuration is not available";
        return FLURM_ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE;
    }
    if (cp->max_nodes != FLURM_INFINITE && min_nodes > cp->max_nodes && !admin)
        return FLURM_ESLURM_INVALID_NODE_COUNT;
    if (d->array_inx && *d->array_inx) {
        uint64_t *bits;
        uint32_t nbits, maxt;
        if (flurm_parse_array_spec(d->array_inx, &bits, &nbits, &maxt) != FLURM_OK)
            return FLURM_ESLURM_INVALID_ARRAY;
        free(bits);
    }
    if (d->dependency && *d->dependency) {
        /* Malformed or circular text is refused ("Job dependency problem"); a job it does not
         * know is taken and lifted at its first test, as slurmctld 22.05 does. */
        uint32_t rc = flurm_state_dep_check(ctl->state, 0, d->dependency);
        if (rc)
            return rc;
    }
    if (flurm_state_job_count(ctl->state) >= ctl->conf->max_job_count)
        return 11; /* EAGAIN: sbatch retries with back-off */
    return 0;
}

static uint32_t g_reserved_job_id;

static uint32_t reserve_job_id(ctl_t *ctl)
{
    uint32_t next = flurm_state_next_job_id(ctl->state);
    if (g_reserved_job_id < next)
        g_reserved_job_id = next;
    return g_reserved_job_id++;
}

/* REQUEST_SUBMIT_BATCH_JOB (sbatch) and REQUEST_RESOURCE_ALLOCATION (salloc, srun outside a
 * job: no script; alloc.c answers it once applied, granted or pending and pushed later): a
 * job, validated and proposed with a reserved id. */
static int handle_new_job(ctl_t *ctl, rpc_t *r)
{
    bool batch = r->frame.hdr.msg_type == FLURM_REQUEST_SUBMIT_BATCH_JOB;
    flurm_job_desc_msg_t *d;
    if (decode(r, (void **)&d))
        return 0;
    const char *why;
    uint32_t rc = validate_submit(ctl, r, d, batch, &why);
    r->alloc_port = d->alloc_resp_port;   /* 0 for sbatch */
    r->other_port = d->other_port;
    flurm_msg_free(r->frame.hdr.msg_type, d);
    if (rc) {
        flurm_verbose("%s from uid %u rejected: %u", batch ? "submit" : "allocation", (unsigned)r->uid, rc);
        if (why)
            reply_rc_msg(r, rc, why);
        else
            rpc_reply_rc(r, rc);
        return 0;
    }
    return propose(ctl, r, reserve_job_id(ctl));
}

static int handle_will_run(ctl_t *ctl, rpc_t *r)
{
    flurm_job_desc_msg_t *d;
    if (decode(r, (void **)&d))
        return 0;
    const char *why;
    uint32_t rc = validate_submit(ctl, r, d, true, &why);
    uint32_t *nodes = NULL, nnodes = 0, cpus = 0;
    int32_t pi = flurm_state_resolve_partition(ctl->conf, d->partition);
    int fit = rc ? FLURM_EINVAL : flurm_state_fit_now(ctl->state, d, pi, &nodes, &nnodes, &cpus);
    flurm_msg_free(r->frame.hdr.msg_type, d);
    if (rc) {
        rpc_reply_rc(r, rc);
        return 0;
    }
    if (fit != FLURM_OK) {
        /* sbatch prints these as "allocation failure: ..." like slurmctld's answers */
        rpc_reply_rc(r, fit == FLURM_EAGAIN ? FLURM_ESLURM_NODES_BUSY
                                            : FLURM_ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE);
        return 0;
    }
    char *list = ctl_node_names(ctl->conf, nodes, nnodes);
    flurm_will_run_response_msg_t w = {
        .job_id = flurm_state_next_job_id(ctl->state), .node_list = list,
        .part_name = ctl->conf->partitions[pi].name, .proc_cnt = cpus * nnodes,
        .start_time = (time_t)ev_now(ctl->loop),
    };
    reply_msg(r, FLURM_RESPONSE_JOB_WILL_RUN, &w);
    free(list);
    free(nodes);
    return 0;
}

static int handle_kill(ctl_t *ctl, rpc_t *r)
{
    flurm_job_step_kill_msg_t *k;
    if (decode(r, (void **)&k))
        return 0;
    uint32_t job_id = k->step_id.job_id, rc = 0;
    uint64_t *tasks = NULL;
    uint32_t ntasks;
    bool all;
    if (k->sjob_id && flurm_parse_job_id_str(k->sjob_id, &job_id, &tasks, &ntasks, &all))
        rc = FLURM_ESLURM_INVALID_JOB_ID;
    free(tasks);
    const flurm_job_t *j = rc ? NULL : flurm_state_find_job(ctl->state, job_id);
    if (!rc && !j)
        rc = FLURM_ESLURM_INVALID_JOB_ID;
    else if (!rc && j->user_id != r->uid && !privileged(ctl, r->uid))
        rc = FLURM_ESLURM_ACCESS_DENIED;
    else if (!rc && (j->job_state & FLURM_JOB_STATE_BASE) >= FLURM_JOB_COMPLETE)
        rc = FLURM_ESLURM_ALREADY_DONE;
    uint16_t sig = k->signal;
    flurm_msg_free(r->frame.hdr.msg_type, k);
    if (rc) {
        rpc_reply_rc(r, rc);
        return 0;
    }
    if (j->nodes && sig != SIGKILL) {
        /* A signal for a running job changes no state: the node delivers it to the job's
         * process group. */
        nodesrv_signal(ctl, j, sig);
        rpc_reply_rc(r, 0);
        return 0;
    }
    r->job_id = j->job_id;
    return propose(ctl, r, 0);
}

/* scontrol suspend/resume (REQUEST_SUSPEND) and requeue (REQUEST_JOB_REQUEUE): the state machine
 * decides (libflurm/state apply_suspend_req / apply_requeue_req); rpc_applied tells the node. */
static int handle_job_op(ctl_t *ctl, rpc_t *r)
{
    void *m;
    if (decode(r, &m))
        return 0;
    uint32_t job_id;
    const char *sid;
    if (r->frame.hdr.msg_type == FLURM_REQUEST_SUSPEND) {
        job_id = ((flurm_suspend_msg_t *)m)->job_id;
        sid = ((flurm_suspend_msg_t *)m)->job_id_str;
    } else {
        job_id = ((flurm_requeue_msg_t *)m)->job_id;
        sid = ((flurm_requeue_msg_t *)m)->job_id_str;
    }
    uint64_t *tasks = NULL;
    uint32_t ntasks;
    bool all;
    if (sid && *sid && flurm_parse_job_id_str(sid, &job_id, &tasks, &ntasks, &all))
        job_id = 0;
    free(tasks);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    r->job_id = job_id;
    return propose(ctl, r, 0);
}

static int handle_update_job(ctl_t *ctl, rpc_t *r)
{
    flurm_job_desc_msg_t *d;
    if (decode(r, (void **)&d))
        return 0;
    uint32_t job_id = d->job_id, rc = 0;
    uint64_t *tasks = NULL;
    uint32_t ntasks;
    bool all;
    if (d->job_id_str && flurm_parse_job_id_str(d->job_id_str, &job_id, &tasks, &ntasks, &all))
        rc = FLURM_ESLURM_INVALID_JOB_ID;
    free(tasks);
    if (!rc && !flurm_state_find_job(ctl->state, job_id))
        rc = FLURM_ESLURM_INVALID_JOB_ID;
    if (!rc && d->dependency)
        rc = flurm_state_dep_check(ctl->state, job_id, d->dependency);
    flurm_msg_free(r->frame.hdr.msg_type, d);
    if (rc) {
        rpc_reply_rc(r, rc);
        return 0;
    }
    return propose(ctl, r, 0);
}

/* ------------------------------------------------------------------ nodes and partitions */

/* PrivateData=nodes: only root and SlurmUser may read node information. */
static bool nodes_refused(ctl_t *ctl, rpc_t *r)
{
    if (!private_data(ctl, FLURM_PRIVATE_DATA_NODES) || privileged(ctl, r->uid))
        return false;
    flurm_error("security violation: %s from uid %u (PrivateData=nodes)",
                flurm_msg_type_name(r->frame.hdr.msg_type), (unsigned)r->uid);
    rpc_reply_rc(r, FLURM_ESLURM_ACCESS_DENIED);
    return true;
}

/* Per node, whether UID may see it when it cannot see every partition (node_mgr.c
 * _node_is_hidden: the node is in a partition UID sees, or in none): a malloc'd array of
 * node_count flags, NULL when out of memory. */
static bool *visible_nodes(const ctl_t *ctl, uid_t uid)
{
    const flurm_conf_t *c = ctl->conf;
    bool *vis = calloc(c->node_count ? c->node_count : 1, sizeof *vis);
    bool *in_part = calloc(c->node_count ? c->node_count : 1, sizeof *in_part);
    if (!vis || !in_part) {
        free(vis);
        free(in_part);
        return NULL;
    }
    for (size_t p = 0; p < c->partition_count; p++) {
        const flurm_conf_partition_t *cp = &c->partitions[p];
        bool see = part_visible(cp, uid);
        for (size_t k = 0; k < cp->node_count; k++) {
            in_part[cp->node_idx[k]] = true;
            vis[cp->node_idx[k]] |= see;
        }
    }
    for (size_t i = 0; i < c->node_count; i++)
        vis[i] |= !in_part[i];
    free(in_part);
    return vis;
}

static int handle_node_info(ctl_t *ctl, rpc_t *r, const char *only, uint16_t show_flags)
{
    const flurm_conf_t *c = ctl->conf;
    const flurm_table_t *rec_tab = &flurm_node_info_table;
    flurm_buf_t *b = &r->reply;
    r->reply_type = FLURM_RESPONSE_NODE_INFO;
    b->size = 0;
    ssize_t want = only ? flurm_conf_node_index(c, only) : -1;
    if (only && want < 0) {
        rpc_reply_rc(r, FLURM_ESLURM_INVALID_NODE_NAME);
        return 0;
    }
    /* without SHOW_ALL, a user who cannot see every partition gets blank records for the
     * nodes only in those */
    bool all_visible = privileged(ctl, r->uid) || (show_flags & FLURM_SHOW_ALL) ||
                       all_parts_visible(ctl, r->uid);
    bool *visible = all_visible ? NULL : visible_nodes(ctl, r->uid);
    if (!all_visible && !visible) {
        rpc_reply_rc(r, FLURM_ESLURM_INTERNAL);
        return 0;
    }
    /* One record per node slot, in index order: bitmaps elsewhere index into it. A single-node
     * request gets blank records (name NULL) for the others, which clients skip. */
    flurm_pack32(b, (uint32_t)c->node_count);
    flurm_pack_time(b, flurm_state_nodes_changed(ctl->state) ? flurm_state_nodes_changed(ctl->state)
                                                            : ctl->start_time);
    for (size_t i = 0; i < c->node_count && !b->err; i++) {
        const flurm_conf_node_t *cn = &c->nodes[i];
        const flurm_node_rt_t *rt = flurm_state_node(ctl->state, i);
        flurm_node_info_t n = {0};
        char tres[128];
        n.next_state = FLURM_NO_VAL;
        n.owner = FLURM_NO_VAL;
        n.cpu_load = FLURM_NO_VAL;
        n.free_mem = FLURM_NO_VAL64;
        n.power_cap_watts = FLURM_NO_VAL;
        n.select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
        if ((want < 0 || (size_t)want == i) && (!visible || visible[i])) {
            n.name = cn->name;
            n.node_hostname = cn->hostname;
            n.node_addr = cn->addr;
            n.port = cn->port;
            n.node_state = rt->state;
            /* slurmctld marks a node a backfill reservation holds unless it is allocated */
            if (rt->planned && (rt->state & FLURM_NODE_STATE_BASE) == FLURM_NODE_STATE_IDLE)
                n.node_state |= FLURM_NODE_STATE_PLANNED;
            n.cpus = cn->cpus;
            n.boards = cn->boards;
            n.sockets = (uint16_t)(cn->boards * cn->sockets);
            n.cores = cn->cores_per_socket;
            n.threads = cn->threads_per_core;
            n.real_memory = cn->real_memory;
            n.tmp_disk = cn->tmp_disk;
            n.cpus_efctv = cn->cpus;
            n.weight = cn->weight;
            n.reason_uid = rt->reason ? rt->reason_uid : FLURM_NO_VAL;
            n.reason_time = rt->reason ? rt->reason_time : 0;
            n.reason = rt->reason;
            n.boot_time = rt->boot_time;
            n.slurmd_start_time = rt->slurmd_start_time;
            n.last_busy = rt->last_busy;
            n.features = cn->features;
            n.gres = cn->gres;
            n.alloc_cpus = (uint16_t)rt->alloc_cpus;
            n.alloc_memory = rt->alloc_mem;
            n.cpu_load = nodesrv_cpu_load(ctl, i);
            n.free_mem = nodesrv_free_mem(ctl, i);
            n.version = rt->version;
            n.arch = rt->arch;
            n.os = rt->os;
            snprintf(tres, sizeof tres, "cpu=%u,mem=%lluM,billing=%u", cn->cpus,
                     (unsigned long long)cn->real_memory, cn->cpus);
            n.tres_fmt_str = tres;
        }
        flurm_table_pack(rec_tab, &n, b);
    }
    free(visible);
    return 0;
}

static int handle_node_info_req(ctl_t *ctl, rpc_t *r)
{
    flurm_node_info_request_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    time_t changed = flurm_state_nodes_changed(ctl->state);
    if (nodes_refused(ctl, r))
        ;
    else if (m->last_update && changed && m->last_update - 1 >= changed)
        rpc_reply_rc(r, FLURM_SLURM_NO_CHANGE_IN_DATA);
    else
        handle_node_info(ctl, r, NULL, m->show_flags);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    return 0;
}

static int handle_node_info_single(ctl_t *ctl, rpc_t *r)
{
    flurm_node_info_single_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    if (!nodes_refused(ctl, r))
        handle_node_info(ctl, r, m->node_name, m->show_flags);
    flurm_msg_free(r->frame.hdr.msg_type, m);
    return 0;
}

static int handle_part_info(ctl_t *ctl, rpc_t *r)
{
    flurm_part_info_request_msg_t *m;
    if (decode(r, (void **)&m))
        return 0;
    uint16_t show = m->show_flags;
    flurm_msg_free(r->frame.hdr.msg_type, m);
    bool priv = privileged(ctl, r->uid);
    if (!priv && private_data(ctl, FLURM_PRIVATE_DATA_PARTITIONS)) {
        flurm_debug("security violation: REQUEST_PARTITION_INFO from uid %u (PrivateData=partitions)",
                    (unsigned)r->uid);
        rpc_reply_rc(r, FLURM_ESLURM_ACCESS_DENIED);
        return 0;
    }
    const flurm_conf_t *c = ctl->conf;
    const flurm_table_t *rec_tab = &flurm_part_info_table;
    flurm_buf_t *b = &r->reply;
    r->reply_type = FLURM_RESPONSE_PARTITION_INFO;
    b->size = 0;
    size_t count_off = b->size;
    flurm_pack32(b, 0);
    flurm_pack_time(b, flurm_state_parts_changed(ctl->state) ? flurm_state_parts_changed(ctl->state)
                                                            : ctl->start_time);
    uint32_t nwords = (uint32_t)((c->node_count + 63) / 64), n = 0;
    uint64_t *inx = calloc(nwords ? nwords : 1, sizeof *inx);
    for (size_t i = 0; i < c->partition_count && inx && !b->err; i++) {
        const flurm_conf_partition_t *cp = &c->partitions[i];
        if (!priv && !(show & FLURM_SHOW_ALL) && !part_visible(cp, r->uid))
            continue;
        const flurm_part_rt_t *rt = flurm_state_part(ctl->state, i);
        memset(inx, 0, nwords * sizeof *inx);
        uint32_t cpus = 0;
        uint64_t mem = 0;
        for (size_t k = 0; k < cp->node_count; k++) {
            uint32_t ni = cp->node_idx[k];
            inx[ni / 64] |= 1ull << (ni % 64);
            cpus += c->nodes[ni].cpus;
            mem += c->nodes[ni].real_memory;
        }
        /* Nodes= as slurmctld shows it: the compressed member list ("ALL" expanded). */
        char *nodes_expr = ctl_node_names(c, cp->node_idx, cp->node_count);
        char tres[160];
        snprintf(tres, sizeof tres, "cpu=%u,mem=%lluM,node=%zu,billing=%u", cpus,
                 (unsigned long long)mem, cp->node_count, cpus);
        flurm_part_info_t p = {0};
        p.name = cp->name;
        p.max_time = rt->max_time;
        p.default_time = rt->default_time;
        p.max_nodes = cp->max_nodes;
        p.total_nodes = (uint32_t)cp->node_count;
        p.total_cpus = cpus;
        p.def_mem_per_cpu = c->def_mem_per_cpu ? (c->def_mem_per_cpu | MEM_PER_CPU) : c->def_mem_per_node;
        p.max_cpus_per_node = FLURM_INFINITE;
        p.flags = (uint16_t)((cp->is_default ? FLURM_PART_FLAG_DEFAULT : 0) |
                             (cp->hidden ? FLURM_PART_FLAG_HIDDEN : 0));
        p.max_share = cp->max_share;
        p.over_time_limit = FLURM_NO_VAL16;
        p.preempt_mode = cp->preempt_mode;   /* NO_VAL16: clients show the global one */
        p.priority_job_factor = cp->priority_job_factor;
        p.priority_tier = cp->priority_tier;
        p.state_up = rt->state_up;
        p.resume_timeout = FLURM_NO_VAL16;
        p.suspend_timeout = FLURM_NO_VAL16;
        p.suspend_time = FLURM_NO_VAL;
        p.allow_groups = cp->allow_groups;
        p.nodes = nodes_expr;
        p.node_inx = inx;
        p.node_inx_bits = (uint32_t)c->node_count;
        p.tres_fmt_str = tres;
        flurm_table_pack(rec_tab, &p, b);
        free(nodes_expr);
        n++;
    }
    free(inx);
    flurm_pack32_at(b, count_off, n);
    return 0;
}

static int handle_admin_update(ctl_t *ctl, rpc_t *r)
{
    if (!privileged(ctl, r->uid)) {
        flurm_error("security violation: %s from uid %u", flurm_msg_type_name(r->frame.hdr.msg_type),
                    (unsigned)r->uid);
        rpc_reply_rc(r, FLURM_ESLURM_USER_ID_MISSING);
        return 0;
    }
    void *m;
    if (decode(r, &m))
        return 0;
    uint32_t rc = 0;
    if (r->frame.hdr.msg_type == FLURM_REQUEST_UPDATE_NODE) {
        flurm_update_node_msg_t *u = m;
        flurm_err_t err;
        flurm_hostlist_t *hl = u->node_names ? flurm_hostlist_parse(u->node_names, &err) : NULL;
        if (!hl)
            rc = FLURM_ESLURM_INVALID_NODE_NAME;
        for (size_t i = 0; hl && i < flurm_hostlist_count(hl) && !rc; i++)
            if (flurm_conf_node_index(ctl->conf, flurm_hostlist_get(hl, i)) < 0)
                rc = FLURM_ESLURM_INVALID_NODE_NAME;
        flurm_hostlist_free(hl);
    } else {
        flurm_update_part_msg_t *u = m;
        if (!u->name || !flurm_conf_partition(ctl->conf, u->name))
            rc = FLURM_ESLURM_INVALID_PARTITION_NAME;
    }
    flurm_msg_free(r->frame.hdr.msg_type, m);
    if (rc) {
        rpc_reply_rc(r, rc);
        return 0;
    }
    return propose(ctl, r, 0);
}

/* ------------------------------------------------------------------ controller */

int ctl_reconfigure(ctl_t *ctl, char **errmsg)
{
    flurm_conf_t *nc = NULL;
    if (flurm_conf_load(ctl->conf_path, &nc, errmsg) != FLURM_OK)
        return -1;
    if (nc->slurmctld_port != ctl->conf->slurmctld_port ||
        nc->slurmctld_port_count != ctl->conf->slurmctld_port_count ||
        strcmp(nc->state_save_location, ctl->conf->state_save_location) != 0)
        flurm_warn("reconfigure: SlurmctldPort and StateSaveLocation changes need a restart");
    flurm_sched_host_t *sched = NULL;
    if (flurm_sched_plugin_load_params(nc->plugin_dir, nc->scheduler_type, nc->scheduler_parameters,
                                       &sched, errmsg) != FLURM_OK) {
        flurm_conf_free(nc);
        return -1;   /* *errmsg names the scheduler problem; the running one stays */
    }
    if (flurm_state_reconfigure(ctl->state, nc) != FLURM_OK) {
        flurm_sched_host_free(sched);
        flurm_conf_free(nc);
        *errmsg = strdup("cannot carry state over to the new configuration");
        return -1;
    }
    flurm_state_set_scheduler(ctl->state, sched);
    flurm_sched_host_free(ctl->sched);
    ctl->sched = sched;
    flurm_conf_t *old = ctl->conf;
    ctl->conf = nc;
    flurm_conf_free(old);
    flurm_info("reconfigured from %s: %zu node(s), %zu partition(s)", ctl->conf_path,
               nc->node_count, nc->partition_count);
    return 0;
}

/* slurm.conf as it is now on disk: loadable, and its scheduler too? NULL, or why not (malloc'd). */
static char *conf_problem(ctl_t *ctl)
{
    char *err = NULL;
    flurm_conf_t *nc = NULL;
    if (flurm_conf_load(ctl->conf_path, &nc, &err) != FLURM_OK)
        return err ? err : strdup("cannot load the configuration");
    flurm_sched_host_t *sched = NULL;
    if (flurm_sched_plugin_load_params(nc->plugin_dir, nc->scheduler_type, nc->scheduler_parameters, &sched,
                                       &err) != FLURM_OK && !err)
        err = strdup("cannot load the scheduler");
    flurm_sched_host_free(sched);
    flurm_conf_free(nc);
    return err;
}

/* scontrol reconfigure: the leader checks its slurm.conf, then every member switches to its own
 * copy at the same point of the log (FLURM_CMD_RECONFIGURE), so their states stay equal. */
static int handle_reconfigure(ctl_t *ctl, rpc_t *r)
{
    if (!privileged(ctl, r->uid)) {
        rpc_reply_rc(r, FLURM_ESLURM_USER_ID_MISSING);
        return 0;
    }
    char *err = conf_problem(ctl);
    if (err) {
        flurm_error("reconfigure refused: %s", err);
        reply_rc_msg(r, (uint32_t)FLURM_SLURM_ERROR, err);
        free(err);
        return 0;
    }
    uint8_t id[FLURM_REQUEST_ID_LEN];
    request_id(r, id);
    r->cmd.size = 0;
    if (flurm_cmd_build_request(&r->cmd, FLURM_CMD_RECONFIGURE, (time_t)ev_now(ctl->loop), r->uid, r->gid, 0,
                                NULL, id, NULL, 0) != FLURM_OK) {
        rpc_reply_rc(r, FLURM_ESLURM_INTERNAL);
        return 0;
    }
    return 1;
}

int ctl_reconfigure_now(ctl_t *ctl)
{
    char *err = NULL;
    if (ctl_reconfigure(ctl, &err) != 0) {
        flurm_error("reconfigure failed, keeping the running configuration: %s", err ? err : "?");
        free(err);
        return -1;
    }
    return 0;
}

static void on_shutdown_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    ev_feed_signal(SIGTERM);
}

/* scontrol shutdown stops every controller, as SLURM's primary stops its backups: the leader
 * passes the request on to the other members (each handles a forwarded one itself), then stops
 * after a moment that lets those forwards leave. */
static int handle_shutdown(ctl_t *ctl, rpc_t *r)
{
    static ev_timer stop_timer;
    if (!privileged(ctl, r->uid)) {
        rpc_reply_rc(r, FLURM_ESLURM_USER_ID_MISSING);
        return 0;
    }
    flurm_info("shutdown requested by uid %u%s", (unsigned)r->uid,
               r->fwd_token && !commit_ready(ctl) ? " (passed on by the leader)" : "");
    if (commit_ready(ctl) && ctl->peers) {
        for (size_t i = 0; i < ctl->conf->controller_count; i++)
            if (i + 1 != ctl->self_id)
                peers_forward(ctl, i + 1, ++ctl->next_fwd_id, r->uid, r->gid, r->peer, r->in, r->need, NULL,
                              NULL);
    }
    rpc_reply_rc(r, 0);
    if (!ev_is_active(&stop_timer)) {
        ev_timer_init(&stop_timer, on_shutdown_timer, ctl->peers ? 0.3 : 0., 0.);
        ev_timer_start(ctl->loop, &stop_timer);
    }
    return 0;
}

/* REQUEST_TAKEOVER (scontrol takeover [INDEX]) reaches the leader directly or forwarded by the
 * member that was asked: leadership moves to that member (a transfer: the leader stops taking
 * proposals, brings it up to date and tells it to campaign at once). */
static int handle_takeover(ctl_t *ctl, rpc_t *r)
{
    if (!privileged(ctl, r->uid)) {
        rpc_reply_rc(r, FLURM_ESLURM_USER_ID_MISSING);
        return 0;
    }
    if (r->fwd_from && r->fwd_from != ctl->self_id) {
        flurm_info("takeover requested by uid %u through %s: handing leadership over",
                   (unsigned)r->uid, ctl->conf->controllers[r->fwd_from - 1].name);
        commit_transfer(ctl, r->fwd_from);
    }
    rpc_reply_rc(r, 0);
    return 0;
}

void fill_build_info(ctl_t *ctl, flurm_build_info_msg_t *bi);

static int handle_build_info(ctl_t *ctl, rpc_t *r)
{
    flurm_build_info_msg_t bi;
    fill_build_info(ctl, &bi);
    reply_msg(r, FLURM_RESPONSE_BUILD_INFO, &bi);
    free(bi.control_machine);
    free(bi.control_addr);
    return 0;
}

static int handle_stats(ctl_t *ctl, rpc_t *r)
{
    flurm_stats_info_request_msg_t *q;
    if (decode(r, (void **)&q))
        return 0;
    uint16_t command = q->command_id;
    flurm_msg_free(r->frame.hdr.msg_type, q);
    /* sdiag -r: operators only (proc_req.c _slurm_rpc_dump_stats); FLURM answers the counters
     * and keeps them */
    if (command == FLURM_STAT_COMMAND_RESET && !privileged(ctl, r->uid)) {
        flurm_error("security violation: REQUEST_STATS_INFO reset from uid %u", (unsigned)r->uid);
        rpc_reply_rc(r, FLURM_ESLURM_ACCESS_DENIED);
        return 0;
    }
    flurm_state_stats_t s;
    flurm_state_stats(ctl->state, &s);
    flurm_stats_info_msg_t m = {0};
    time_t now = (time_t)ev_now(ctl->loop);
    uint32_t ntypes = 0;
    for (size_t t = 0; t < 65536; t++)
        ntypes += ctl->rpc_by_type[t].count ? 1 : 0;
    uint16_t *types = calloc(ntypes ? ntypes : 1, sizeof *types);
    uint32_t *cnt = calloc(ntypes ? ntypes : 1, sizeof *cnt);
    uint64_t *tim = calloc(ntypes ? ntypes : 1, sizeof *tim);
    uint32_t k = 0;
    for (size_t t = 0; t < 65536 && types && cnt && tim; t++) {
        if (!ctl->rpc_by_type[t].count)
            continue;
        types[k] = (uint16_t)t;
        cnt[k] = ctl->rpc_by_type[t].count;
        tim[k] = ctl->rpc_by_type[t].total_usec;
        k++;
    }
    m.parts_packed = 1;
    m.req_time = now;
    m.req_time_start = ctl->start_time;
    m.server_thread_count = 1;
    m.jobs_submitted = s.jobs_submitted;
    m.jobs_started = s.jobs_started;
    m.jobs_completed = s.jobs_completed;
    m.jobs_canceled = s.jobs_canceled;
    m.jobs_failed = s.jobs_failed;
    m.jobs_pending = s.jobs_pending;
    m.jobs_running = s.jobs_running;
    m.job_states_ts = now;
    /* main and backfill passes of the scheduler module (libflurm/sched) */
    flurm_state_sched_stats_t ss;
    flurm_state_sched_stats(ctl->state, &ss);
    m.schedule_cycle_counter = ss.main_cycles;
    m.schedule_cycle_last = (uint32_t)ss.main_last_usec;
    m.schedule_cycle_max = (uint32_t)ss.main_max_usec;
    m.schedule_cycle_sum = (uint32_t)ss.main_sum_usec;
    m.schedule_cycle_depth = (uint32_t)ss.main_depth_sum;
    m.bf_backfilled_jobs = ss.bf_backfilled;
    m.bf_last_backfilled_jobs = ss.bf_last_backfilled;
    m.bf_cycle_counter = ss.bf_cycles;
    m.bf_cycle_sum = ss.bf_sum_usec;
    m.bf_cycle_last = (uint32_t)ss.bf_last_usec;
    m.bf_cycle_max = (uint32_t)ss.bf_max_usec;
    m.bf_last_depth = ss.bf_last_depth;
    m.bf_last_depth_try = ss.bf_last_depth;
    m.bf_depth_sum = (uint32_t)ss.bf_depth_sum;
    m.bf_depth_try_sum = (uint32_t)ss.bf_depth_sum;
    m.bf_queue_len = ss.bf_queue_len;
    m.bf_queue_len_sum = (uint32_t)ss.bf_queue_len_sum;
    m.bf_when_last_cycle = ss.bf_when_last;
    m.schedule_queue_len = s.jobs_pending;
    m.rpc_type_size = m.rpc_type_id_cnt = m.rpc_type_cnt_cnt = m.rpc_type_time_cnt = k;
    m.rpc_type_id = types;
    m.rpc_type_cnt = cnt;
    m.rpc_type_time = tim;
    reply_msg(r, FLURM_RESPONSE_STATS_INFO, &m);
    free(types);
    free(cnt);
    free(tim);
    return 0;
}

/* ------------------------------------------------------------------ sprio */

static bool u32_listed(const uint32_t *v, uint32_t n, uint32_t x)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static bool part_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (p[n] ? 1 : 0);
    }
    return false;
}

/* REQUEST_PRIORITY_FACTORS (priority_multifactor.c priority_p_get_priority_factors_list): the
 * pending, eligible, not held jobs matching the filters, with the last scheduler cycle's
 * weighted factors. No match: no list at all (count NO_VAL). priority/basic answers an empty
 * list (priority_basic.c), though the real sprio refuses to ask when its own slurm.conf says
 * priority/basic. */
static int handle_priority_factors(ctl_t *ctl, rpc_t *r)
{
    flurm_priority_factors_request_msg_t *q;
    if (decode(r, (void **)&q))
        return 0;
    const flurm_conf_t *c = ctl->conf;
    flurm_priority_factors_response_msg_t resp = { 0 };
    flurm_priority_factors_t none;
    time_t now = (time_t)ev_now(ctl->loop);
    if (!multifactor(c)) {
        resp.factors = &none;   /* an empty list, not an absent one */
        reply_msg(r, FLURM_RESPONSE_PRIORITY_FACTORS, &resp);
        flurm_msg_free(r->frame.hdr.msg_type, q);
        return 0;
    }
    bool hide_others = job_view(ctl, r, 0, false).hide_others;
    size_t n = flurm_state_job_count(ctl->state), k = 0;
    flurm_priority_factors_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        rpc_reply_rc(r, FLURM_ESLURM_INTERNAL);
        flurm_msg_free(r->frame.hdr.msg_type, q);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const flurm_job_t *j = flurm_state_job_at(ctl->state, i);
        flurm_sched_factors_t f;
        if (!j || !j->priority || (j->eligible_time && j->eligible_time > now) ||
            flurm_state_job_factors(ctl->state, j->job_id, &f) != FLURM_OK)
            continue;
        if ((q->job_ids && !u32_listed(q->job_ids, q->job_ids_count, j->job_id)) ||
            (q->uids && !u32_listed(q->uids, q->uids_count, j->user_id)))
            continue;
        if (hide_others && j->user_id != r->uid)   /* PrivateData=jobs */
            continue;
        if (j->part_index < 0 || (size_t)j->part_index >= c->partition_count)
            continue;
        const char *part = c->partitions[j->part_index].name;
        if (q->partitions && !part_listed(q->partitions, part))
            continue;
        v[k++] = (flurm_priority_factors_t){
            .job_id = j->job_id, .user_id = j->user_id,
            .priority_age = f.age, .priority_fs = f.fairshare, .priority_js = f.jobsize,
            .priority_part = f.partition, .priority_qos = f.qos,
            .priority_site = FLURM_NICE_OFFSET,
            .nice = (uint32_t)((int64_t)FLURM_NICE_OFFSET + f.nice),
            .partition = (char *)part,
        };
    }
    resp.factors = k ? v : NULL;
    resp.factors_count = (uint32_t)k;
    reply_msg(r, FLURM_RESPONSE_PRIORITY_FACTORS, &resp);
    free(v);
    flurm_msg_free(r->frame.hdr.msg_type, q);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

/* The job a request names in its first member (REQUEST_JOB_READY, REQUEST_JOB_ALLOCATION_INFO,
 * REQUEST_COMPLETE_JOB_ALLOCATION), when it is the requester's own or the requester is
 * privileged. NULL: R is answered already (undecodable, no such job, not theirs). */
static const flurm_job_t *requested_own_job(ctl_t *ctl, rpc_t *r)
{
    _Static_assert(offsetof(flurm_job_id_msg_t, job_id) == 0 &&
                       offsetof(flurm_job_alloc_info_msg_t, job_id) == 0 &&
                       offsetof(flurm_complete_job_allocation_msg_t, job_id) == 0,
                   "each of these messages starts with its job id");
    void *m;
    if (decode(r, &m))
        return NULL;
    uint32_t job_id = *(const uint32_t *)m;
    flurm_msg_free(r->frame.hdr.msg_type, m);
    const flurm_job_t *j = flurm_state_find_job(ctl->state, job_id);
    uint32_t rc = !j ? FLURM_ESLURM_INVALID_JOB_ID
                : j->user_id != r->uid && !privileged(ctl, r->uid) ? FLURM_ESLURM_ACCESS_DENIED : 0;
    if (rc) {
        rpc_reply_rc(r, rc);
        return NULL;
    }
    return j;
}

/* REQUEST_JOB_READY (srun/salloc before using an allocation): READY_NODE|JOB|PROLOG once it
 * runs (FLURM boots no nodes and runs no prolog: ready as soon as it starts). */
static int handle_job_ready(ctl_t *ctl, rpc_t *r)
{
    const flurm_job_t *j = requested_own_job(ctl, r);
    if (!j)
        return 0;
    uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
    flurm_return_code_msg_t ready = { .return_code = 0 };
    if (base == FLURM_JOB_RUNNING || base == FLURM_JOB_SUSPENDED)
        ready.return_code = FLURM_READY_NODE_STATE | FLURM_READY_JOB_STATE | FLURM_READY_PROLOG_STATE;
    else if (base != FLURM_JOB_PENDING)
        ready.return_code = (uint32_t)FLURM_READY_JOB_FATAL;
    reply_msg(r, FLURM_RESPONSE_JOB_READY, &ready);
    return 0;
}

/* REQUEST_JOB_ALLOCATION_INFO and REQUEST_HET_JOB_ALLOC_INFO (srun inside an allocation): the
 * grant of a running job, as RESPONSE_JOB_ALLOCATION_INFO or a RESPONSE_HET_JOB_ALLOCATION list
 * of one; ESLURM_JOB_PENDING while it waits, ESLURM_ALREADY_DONE once over (job_alloc_info()). */
static int handle_alloc_info(ctl_t *ctl, rpc_t *r)
{
    const flurm_job_t *j = requested_own_job(ctl, r);
    if (!j)
        return 0;
    uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
    if (!j->nodes || base != FLURM_JOB_RUNNING) {
        rpc_reply_rc(r, base == FLURM_JOB_PENDING ? FLURM_ESLURM_JOB_PENDING : FLURM_ESLURM_ALREADY_DONE);
        return 0;
    }
    flurm_resource_allocation_response_msg_t g;
    alloc_grant(ctl, j, &g);
    if (r->frame.hdr.msg_type == FLURM_REQUEST_HET_JOB_ALLOC_INFO) {
        flurm_het_job_allocation_msg_t list = { .count = 1, .jobs = &g };
        reply_msg(r, FLURM_RESPONSE_HET_JOB_ALLOCATION, &list);
    } else {
        reply_msg(r, FLURM_RESPONSE_JOB_ALLOCATION_INFO, &g);
    }
    alloc_grant_release(&g);
    return 0;
}

/* REQUEST_JOB_STEP_CREATE: job steps are not built yet (issue 16); srun prints this and stops,
 * instead of a bare "Invalid argument". */
static int handle_step_create(rpc_t *r)
{
    reply_rc_msg(r, FLURM_ESLURM_NOT_SUPPORTED,
                 "job steps (srun) are not supported by this controller yet: run the work in the batch "
                 "script or salloc's command itself");
    return 0;
}

/* REQUEST_COMPLETE_JOB_ALLOCATION (salloc's command or srun ended): a command. */
static int handle_complete_allocation(ctl_t *ctl, rpc_t *r)
{
    return requested_own_job(ctl, r) ? propose(ctl, r, 0) : 0;
}

int rpc_handle(ctl_t *ctl, rpc_t *r)
{
    uint16_t type = r->frame.hdr.msg_type;
    flurm_debug("%s from uid %u at %s", flurm_msg_type_name(type) ? flurm_msg_type_name(type) : "?",
                (unsigned)r->uid, r->peer);
    if (r->frame.hdr.version != FLURM_PROTOCOL_VERSION && !flurm_msg_empty_body(type)) {
        flurm_error("%s from %s uses protocol version 0x%04x; only 0x%04x (SLURM 22.05) is spoken",
                    flurm_msg_type_name(type) ? flurm_msg_type_name(type) : "request", r->peer,
                    r->frame.hdr.version, FLURM_PROTOCOL_VERSION);
        rpc_reply_rc(r, FLURM_SLURM_PROTOCOL_VERSION_ERROR);
        return 0;
    }
    switch (type) {
    case FLURM_REQUEST_PING: rpc_reply_rc(r, 0); return 0;
    case FLURM_REQUEST_FED_INFO: {
        flurm_fed_info_msg_t fed = { .federated = false };
        reply_msg(r, FLURM_RESPONSE_FED_INFO, &fed);
        return 0;
    }
    case FLURM_REQUEST_BUILD_INFO: return handle_build_info(ctl, r);
    case FLURM_REQUEST_JOB_INFO: return handle_job_info(ctl, r);
    case FLURM_REQUEST_JOB_INFO_SINGLE: return handle_job_info_single(ctl, r);
    case FLURM_REQUEST_JOB_USER_INFO: return handle_job_user_info(ctl, r);
    case FLURM_REQUEST_BATCH_SCRIPT: return handle_batch_script(ctl, r);
    case FLURM_REQUEST_NODE_INFO: return handle_node_info_req(ctl, r);
    case FLURM_REQUEST_NODE_INFO_SINGLE: return handle_node_info_single(ctl, r);
    case FLURM_REQUEST_PARTITION_INFO: return handle_part_info(ctl, r);
    case FLURM_REQUEST_SUBMIT_BATCH_JOB:
    case FLURM_REQUEST_RESOURCE_ALLOCATION: return handle_new_job(ctl, r);
    case FLURM_REQUEST_JOB_READY: return handle_job_ready(ctl, r);
    case FLURM_REQUEST_JOB_ALLOCATION_INFO:
    case FLURM_REQUEST_HET_JOB_ALLOC_INFO: return handle_alloc_info(ctl, r);
    case FLURM_REQUEST_JOB_STEP_CREATE: return handle_step_create(r);
    case FLURM_REQUEST_COMPLETE_JOB_ALLOCATION: return handle_complete_allocation(ctl, r);
    case FLURM_REQUEST_JOB_WILL_RUN: return handle_will_run(ctl, r);
    case FLURM_REQUEST_KILL_JOB: return handle_kill(ctl, r);
    case FLURM_REQUEST_SUSPEND:
    case FLURM_REQUEST_JOB_REQUEUE: return handle_job_op(ctl, r);
    case FLURM_REQUEST_UPDATE_JOB: return handle_update_job(ctl, r);
    case FLURM_REQUEST_UPDATE_NODE:
    case FLURM_REQUEST_UPDATE_PARTITION: return handle_admin_update(ctl, r);
    case FLURM_REQUEST_RECONFIGURE: return handle_reconfigure(ctl, r);
    case FLURM_REQUEST_SHUTDOWN: return handle_shutdown(ctl, r);
    case FLURM_REQUEST_TAKEOVER: return handle_takeover(ctl, r);
    case FLURM_REQUEST_STATS_INFO: return handle_stats(ctl, r);
    case FLURM_REQUEST_PRIORITY_FACTORS: return handle_priority_factors(ctl, r);
    default:
        flurm_error("unsupported RPC %s (%u) from %s", flurm_msg_type_name(type) ? flurm_msg_type_name(type) : "(unknown type)",
                    type, r->peer);
        /* slurmctld answers an RPC it does not handle with EINVAL (proc_req.c). */
        rpc_reply_rc(r, 22);
        return 0;
    }
}

/* An operator set nodes DOWN: the jobs that held them are being killed (requeued, or
 * NODE_FAIL; flurm_state: down_node_jobs), so their nodes are told. A kill sent twice (a job
 * requeued before) is harmless: the node keeps the first. */
/* What the command does to jobs on nodes (kills, suspends) was carried out from its effects
 * (commit.c -> nodesrv_effects); here only the requester's answer is built. */
int rpc_applied(ctl_t *ctl, rpc_t *r, const flurm_apply_result_t *res)
{
    if (r->frame.hdr.msg_type == FLURM_REQUEST_SUBMIT_BATCH_JOB && res->rc == 0) {
        flurm_submit_response_msg_t s = { .job_id = res->job_id, .step_id = SLURM_BATCH_SCRIPT };
        reply_msg(r, FLURM_RESPONSE_SUBMIT_BATCH_JOB, &s);
        return 1;
    }
    if (r->frame.hdr.msg_type == FLURM_REQUEST_RESOURCE_ALLOCATION && res->rc == 0) {
        const flurm_job_t *j = flurm_state_find_job(ctl->state, res->job_id);
        if (j && !res->repeated && (j->job_state & FLURM_JOB_STATE_BASE) < FLURM_JOB_COMPLETE) {
            alloc_wait(ctl, r, res->job_id);   /* answers R itself */
            return 0;
        }
        if (j) {   /* a copy routed again: the grant as it stands */
            flurm_resource_allocation_response_msg_t g;
            alloc_grant(ctl, j, &g);
            reply_msg(r, FLURM_RESPONSE_RESOURCE_ALLOCATION, &g);
            alloc_grant_release(&g);
            return 1;
        }
    }
    rpc_reply_rc(r, res->rc);
    return 1;
}
