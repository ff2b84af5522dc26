/* tests/unit/test_codec_info.c — INFO response layouts against real SLURM 22.05.8 captures.
 *
 * Every fixture frame whose body type is modelled in codec/msg_info.c is decoded, re-packed
 * byte for byte, and its values are compared with what the real client printed (cmd.stdout).
 * Then every truncated prefix and a few hundred random mutations of each body must fail
 * cleanly or decode to something that re-packs stably (run under ASan for the leak/crash
 * half of the claim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/buf.h>
#include <flurm/codec.h>
#include <flurm/msg_info.h>
#include "codec/msg_info.h"
#include "fixtures.h"

/* Message type codes (SLURM slurm_protocol_defs.h; the named enum lives in flurm/msg.h). */
enum {
    T_NODE_REG_STATUS = 1002,
    T_NODE_REG_RESP = 1024,
    T_BUILD_INFO = 2002,
    T_JOB_INFO = 2004,
    T_NODE_INFO = 2008,
    T_PART_INFO = 2010,
    T_STATS_INFO = 2036,
};

/* ---- fixture access ---- */

/* A captured frame of a modelled type (fixtures.h holds the bytes), its body located by
 * flurm_frame_decode. */
typedef struct info_fixture {
    const char *path;   /* the .bin file (borrowed from the fixture set) */
    char dir[1024];     /* its case directory, where cmd.stdout lives */
    uint16_t msg_type;
    const uint8_t *body;
    size_t body_len;
} info_fixture_t;

typedef struct info_set {
    fixture_set_t all;   /* every captured file; owns the bytes */
    info_fixture_t *v;   /* the frames of modelled types, in path order */
    size_t n;
} info_set_t;

static bool modelled(uint16_t type, bool is_request)
{
    if (is_request)
        return type == T_NODE_REG_STATUS;
    return type == T_NODE_REG_RESP || type == T_BUILD_INFO || type == T_JOB_INFO ||
           type == T_NODE_INFO || type == T_PART_INFO || type == T_STATS_INFO;
}

/* Locates FX's body with flurm_frame_decode and checks what every such real capture shares:
 * the u32 prefix is the frame length, a 22.05 header of 16 bytes (no forwarding, no ret list,
 * AF_UNSPEC origin), auth/munge (u32 plugin id + packstr credential), then exactly body_length
 * bytes of body to the end of the frame. */
static void locate_body(info_fixture_t *ix, const fixture_t *fx)
{
    assert_true(fx->size >= 4 + 16 + 8);
    const uint8_t *d = fx->data + 4;
    size_t n = fx->size - 4;
    assert_int_equal(flurm_frame_length(fx->data), n);
    flurm_frame_t f;
    assert_int_equal(flurm_frame_decode(d, n, &f), FLURM_OK);
    assert_int_equal(f.hdr.version, 0x2600);
    assert_int_equal(f.hdr.msg_type, ix->msg_type);
    assert_int_equal(f.hdr.forward_cnt, 0);
    assert_int_equal(f.hdr.ret_cnt, 0);
    assert_int_equal(f.hdr.addr_family, 0);   /* AF_UNSPEC */
    assert_int_equal(f.auth_plugin, 101);     /* auth/munge */
    /* The auth section starts 16 bytes in: after plugin id and credential length come the
     * credential's bytes, or with none the body. */
    assert_ptr_equal(f.cred ? (const uint8_t *)f.cred : f.body, d + 16 + 8);
    assert_ptr_equal(f.body + f.hdr.body_length, d + n);
    ix->body = f.body;
    ix->body_len = f.hdr.body_length;
}

/* The RPC frames whose type summary.txt names and codec/msg_info.c models. */
static int setup_fixtures(void **state)
{
    info_set_t *set = calloc(1, sizeof *set);
    assert_non_null(set);
    fixtures_load(&set->all);
    set->v = calloc(set->all.n ? set->all.n : 1, sizeof *set->v);
    assert_non_null(set->v);
    for (size_t i = 0; i < set->all.n; i++) {
        const fixture_t *fx = &set->all.v[i];
        if (!fixture_is_rpc(fx) || fx->expect_type < 0 ||
            !modelled((uint16_t)fx->expect_type, fx->is_request))
            continue;
        info_fixture_t *ix = &set->v[set->n++];
        ix->path = fx->path;
        snprintf(ix->dir, sizeof ix->dir, "%.*s", (int)(strrchr(fx->path, '/') - fx->path), fx->path);
        ix->msg_type = (uint16_t)fx->expect_type;
        locate_body(ix, fx);
    }
    *state = set;
    return 0;
}

static int teardown_fixtures(void **state)
{
    info_set_t *set = *state;
    fixtures_free(&set->all);
    free(set->v);
    free(set);
    return 0;
}

static char *case_stdout(const info_fixture_t *fx)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/cmd.stdout", fx->dir);
    return fixture_read_text(p);
}

static void *decode(const flurm_table_t *t, const uint8_t *body, size_t len, int *err)
{
    void *obj = malloc(t->size);
    flurm_buf_t b;
    flurm_buf_view(&b, body, len);
    *err = flurm_table_unpack(t, obj, &b);
    if (*err == FLURM_OK && flurm_buf_remaining(&b) != 0)
        *err = -1;   /* trailing bytes: not this layout */
    return obj;
}

static void release(const flurm_table_t *t, void *obj)
{
    flurm_table_free(t, obj);
    free(obj);
}

static void expect_in(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected \"%s\" in the client's output", needle);
}

#define EXPECTF(out, ...)                                    \
    do {                                                     \
        char want_[512];                                     \
        snprintf(want_, sizeof want_, __VA_ARGS__);          \
        expect_in((out), want_);                             \
    } while (0)

static bool bit_set(const uint64_t *w, uint32_t i)
{
    return w && (w[i / 64] >> (i % 64) & 1);
}

/* ---- value checks per message type ---- */

static const char *squeue_state(uint32_t st)
{
    static const char *codes[] = { "PD", "R", "S", "CD", "CA", "F", "TO", "NF", "PR", "BF",
                                   "DL", "OOM" };
    if (st & FLURM_JOB_COMPLETING)
        return "CG";
    if (st & FLURM_JOB_CONFIGURING)
        return "CF";
    uint32_t base = st & FLURM_JOB_STATE_BASE;
    return base < FLURM_JOB_END ? codes[base] : "?";
}

static void check_job_info(const info_fixture_t *fx, const flurm_job_info_msg_t *m, const char *out)
{
    assert_true(m->last_update > 0);
    for (uint32_t i = 0; i < m->record_count; i++) {
        const flurm_job_info_t *j = &m->job_array[i];
        assert_int_equal(j->array_job_id, 0);
        assert_int_equal(j->array_task_id, FLURM_NO_VAL);
        assert_int_equal(j->select_plugin_id, FLURM_SELECT_PLUGIN_CONS_TRES);
        assert_string_equal(j->cluster, "peer");
        assert_int_equal(j->nice, FLURM_JOB_NICE_OFFSET);
        assert_int_equal(j->start_protocol_ver, 0x2600);
        assert_null(j->job_resrcs);   /* no SHOW_DETAIL */
        /* slurmctld packs `container` twice; both copies agree. */
        if (j->container)
            assert_string_equal(j->container, j->container2);
        else
            assert_null(j->container2);
    }
    if (strstr(fx->dir, "squeue") && strstr(out, "JOBID PARTITION")) {
        for (uint32_t i = 0; i < m->record_count; i++) {
            const flurm_job_info_t *j = &m->job_array[i];
            uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
            if (base > FLURM_JOB_SUSPENDED && !(j->job_state & FLURM_JOB_COMPLETING)) {
                /* finished jobs are in the reply but squeue does not list them */
                char id[32];
                snprintf(id, sizeof id, " %u ", j->job_id);
                assert_null(strstr(out, id));
                continue;
            }
            /* squeue's default "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R" */
            EXPECTF(out, "%18u %9.9s %8.8s %8.8s %2s", j->job_id, j->partition, j->name,
                    j->user_id == 0 ? "root" : j->user_name, squeue_state(j->job_state));
            if ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING) {
                EXPECTF(out, "%6u %s\n", j->num_nodes, j->nodes);
                assert_true(bit_set(j->node_inx, 0));   /* n1 = node record 0 */
                assert_int_equal(j->node_inx_bits, 4);
            } else if (j->state_reason == 16) {        /* WAIT_HELD_USER */
                EXPECTF(out, "%6u (JobHeldUser)\n", j->num_nodes);
                assert_null(j->node_inx);
            }
        }
    }
    if (strstr(fx->dir, "scontrol-show-job")) {
        assert_int_equal(m->record_count, 1);
        const flurm_job_info_t *j = &m->job_array[0];
        EXPECTF(out, "JobId=%u JobName=%s\n", j->job_id, j->name);
        EXPECTF(out, "UserId=root(%u) GroupId=root(%u)", j->user_id, j->group_id);
        EXPECTF(out, "Priority=%u Nice=%d", j->priority, (int)(j->nice - FLURM_JOB_NICE_OFFSET));
        EXPECTF(out, "Requeue=%u Restarts=%u BatchFlag=%u Reboot=%u", j->requeue, j->restart_cnt,
                j->batch_flag, j->reboot);
        EXPECTF(out, "Partition=%s AllocNode:Sid=%s:%u", j->partition, j->alloc_node,
                j->alloc_sid);
        EXPECTF(out, "NumNodes=%u NumCPUs=%u NumTasks=%u CPUs/Task=%u", j->num_nodes,
                j->num_cpus, j->num_tasks, j->cpus_per_task);
        EXPECTF(out, "TRES=%s\n", j->tres_req_str);
        EXPECTF(out, "WorkDir=%s\n", j->work_dir);
        /* scontrol shows StdErr = StdOut and StdIn = /dev/null when they are unset */
        EXPECTF(out, "StdErr=%s\n", j->std_err ? j->std_err : j->std_out);
        EXPECTF(out, "StdIn=%s\n", j->std_in ? j->std_in : "/dev/null");
        EXPECTF(out, "StdOut=%s\n", j->std_out);
        assert_int_equal(j->job_state, FLURM_JOB_PENDING);
        expect_in(out, "JobState=PENDING Reason=JobHeldUser");
        assert_int_equal(j->state_reason, 16);
        assert_int_equal(j->priority, 0);
        assert_int_equal(j->time_limit, FLURM_INFINITE);
        expect_in(out, "TimeLimit=UNLIMITED");
    }
}

static void check_node_info(const info_fixture_t *fx, const flurm_node_info_msg_t *m, const char *out)
{
    assert_int_equal(m->record_count, 4);
    for (uint32_t i = 0; i < m->record_count; i++) {
        const flurm_node_info_t *nd = &m->node_array[i];
        char name[16];
        snprintf(name, sizeof name, "n%u", i + 1);
        assert_string_equal(nd->name, name);
        assert_int_equal(nd->node_state & FLURM_NODE_STATE_BASE, FLURM_NODE_STATE_IDLE);
        assert_int_equal(nd->select_plugin_id, FLURM_SELECT_PLUGIN_CONS_TRES);
        assert_int_equal(nd->port, 6818 + i);
        assert_int_equal(nd->next_state, FLURM_NO_VAL);
        assert_int_equal(nd->power_cap_watts, FLURM_NO_VAL);
        if (strstr(fx->dir, "scontrol-show-nodes")) {
            EXPECTF(out, "NodeName=%s Arch=%s CoresPerSocket=%u", nd->name, nd->arch, nd->cores);
            EXPECTF(out, "CPUAlloc=%u CPUEfctv=%u CPUTot=%u CPULoad=%.2f", nd->alloc_cpus,
                    nd->cpus_efctv, nd->cpus, nd->cpu_load / 100.0);
            EXPECTF(out, "NodeAddr=%s NodeHostName=%s", nd->node_addr, nd->node_hostname);
            EXPECTF(out, "Version=%s\n", nd->version);
            EXPECTF(out, "RealMemory=%llu AllocMem=%llu FreeMem=%llu Sockets=%u Boards=%u",
                    (unsigned long long)nd->real_memory, (unsigned long long)nd->alloc_memory,
                    (unsigned long long)nd->free_mem, nd->sockets, nd->boards);
            EXPECTF(out, "ThreadsPerCore=%u TmpDisk=%u Weight=%u", nd->threads, nd->tmp_disk,
                    nd->weight);
            EXPECTF(out, "CfgTRES=%s\n", nd->tres_fmt_str);
            EXPECTF(out, "OS=%s", nd->os);
        }
    }
    if (strstr(fx->dir, "sinfo"))
        EXPECTF(out, "%6u   idle n[1-4]", m->record_count);
}

static void check_part_info(const info_fixture_t *fx, const flurm_part_info_msg_t *m, const char *out)
{
    assert_int_equal(m->record_count, 1);
    const flurm_part_info_t *p = &m->partition_array[0];
    assert_string_equal(p->name, "debug");
    assert_true(p->flags & FLURM_PART_FLAG_DEFAULT);
    assert_int_equal(p->state_up, FLURM_PARTITION_UP);
    assert_int_equal(p->max_time, FLURM_INFINITE);
    assert_int_equal(p->node_inx_bits, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_true(bit_set(p->node_inx, i));
    assert_null(p->job_defaults);
    if (strstr(fx->dir, "sinfo"))
        EXPECTF(out, "%s*       up   infinite %6u   idle %s", p->name, p->total_nodes, p->nodes);
    if (strstr(fx->dir, "scontrol-show-partition")) {
        EXPECTF(out, "PartitionName=%s\n", p->name);
        EXPECTF(out, "Nodes=%s\n", p->nodes);
        EXPECTF(out, "State=UP TotalCPUs=%u TotalNodes=%u", p->total_cpus, p->total_nodes);
        EXPECTF(out, "PriorityJobFactor=%u PriorityTier=%u", p->priority_job_factor,
                p->priority_tier);
        EXPECTF(out, "TRES=%s\n", p->tres_fmt_str);
        EXPECTF(out, "GraceTime=%u", p->grace_time);
    }
}

#define CONF(out, key, ...)                                  \
    do {                                                     \
        char v_[256];                                        \
        snprintf(v_, sizeof v_, __VA_ARGS__);                \
        EXPECTF((out), "\n%-23s = %s\n", (key), v_);         \
    } while (0)

static void check_build_info(const flurm_build_info_msg_t *m, const char *out)
{
    CONF(out, "ClusterName", "%s", m->cluster_name);
    CONF(out, "SlurmctldPort", "%u", m->slurmctld_port);
    CONF(out, "SlurmdPort", "%u", m->slurmd_port);
    CONF(out, "AuthType", "%s", m->authtype);
    CONF(out, "SelectType", "%s", m->select_type);
    CONF(out, "SchedulerType", "%s", m->schedtype);
    CONF(out, "SLURM_VERSION", "%s", m->version);
    CONF(out, "SLURM_CONF", "%s", m->slurm_conf);
    CONF(out, "StateSaveLocation", "%s", m->state_save_location);
    CONF(out, "SlurmdSpoolDir", "%s", m->slurmd_spooldir);
    CONF(out, "TreeWidth", "%u", m->tree_width);
    CONF(out, "NEXT_JOB_ID", "%u", m->next_job_id);
    CONF(out, "FirstJobId", "%u", m->first_job_id);
    CONF(out, "SrunPortRange", "%u-%u", m->srun_port_range_min, m->srun_port_range_max);
    CONF(out, "SlurmUser", "%s(%u)", m->slurm_user_name, m->slurm_user_id);
    CONF(out, "SlurmctldTimeout", "%u sec", m->slurmctld_timeout);
    CONF(out, "SlurmdTimeout", "%u sec", m->slurmd_timeout);
    CONF(out, "KillWait", "%u sec", m->kill_wait);
    CONF(out, "MailProg", "%s", m->mail_prog);
    CONF(out, "BcastExclude", "%s", m->bcast_exclude);
    CONF(out, "TmpFS", "%s", m->tmp_fs);
    CONF(out, "SlurmdParameters", "%s", m->slurmd_params);
    CONF(out, "AccountingStorageTRES", "%s", m->accounting_storage_tres);
    assert_int_equal(m->control_machine_cnt, 1);
    assert_int_equal(m->control_addr_cnt, 1);
    EXPECTF(out, "SlurmctldHost[0]        = %s(%s)\n", m->control_machine[0], m->control_addr[0]);
    EXPECTF(out, "Configuration data as of ");
}

static void check_stats_info(const flurm_stats_info_msg_t *m, const char *out)
{
    assert_int_equal(m->parts_packed, 1);
    EXPECTF(out, "(%lld)\nData since", (long long)m->req_time);
    EXPECTF(out, "(%lld)\n***", (long long)m->req_time_start);
    EXPECTF(out, "Server thread count:  %u\n", m->server_thread_count);
    EXPECTF(out, "Agent queue size:     %u\n", m->agent_queue_size);
    EXPECTF(out, "Jobs submitted: %u\n", m->jobs_submitted);
    EXPECTF(out, "Jobs started:   %u\n", m->jobs_started);
    EXPECTF(out, "Jobs completed: %u\n", m->jobs_completed);
    EXPECTF(out, "Jobs canceled:  %u\n", m->jobs_canceled);
    EXPECTF(out, "Jobs failed:    %u\n", m->jobs_failed);
    EXPECTF(out, "Max cycle:    %u\n", m->schedule_cycle_max);
    EXPECTF(out, "Total cycles: %u\n", m->schedule_cycle_counter);
    EXPECTF(out, "Latency for 1000 calls to gettimeofday(): %u microseconds",
            m->gettimeofday_latency);
    assert_int_equal(m->rpc_type_id_cnt, m->rpc_type_size);
    assert_int_equal(m->rpc_type_cnt_cnt, m->rpc_type_size);
    assert_true(m->rpc_type_size > 0);
    for (uint32_t i = 0; i < m->rpc_type_size; i++) {
        uint64_t ave = m->rpc_type_cnt[i] ? m->rpc_type_time[i] / m->rpc_type_cnt[i] : 0;
        EXPECTF(out, "(%5u) count:%-6u ave_time:%-6llu total_time:%llu\n", m->rpc_type_id[i],
                m->rpc_type_cnt[i], (unsigned long long)ave,
                (unsigned long long)m->rpc_type_time[i]);
    }
    assert_true(m->rpc_user_size > 0);
    EXPECTF(out, "root            (%8u) count:%-6u", m->rpc_user_id[0], m->rpc_user_cnt[0]);
}

static void check_node_reg_status(const flurm_node_reg_status_msg_t *m)
{
    assert_non_null(m->node_name);
    assert_true(m->node_name[0] == 'n');
    assert_string_equal(m->hostname, "vm");
    assert_string_equal(m->version, "22.05.8");
    assert_string_equal(m->arch, "x86_64");
    assert_int_equal(m->cpus, 2);
    assert_true(m->real_memory > 0);
    assert_true(m->timestamp > 0);
}

static void check_node_reg_resp(const flurm_node_reg_resp_msg_t *m)
{
    /* slurmctld answers with the cluster TRES table (assoc_mgr_tres_list: name NULL for
     * the basic types, count = cluster total) and no node_name. */
    assert_null(m->node_name);
    assert_int_equal(m->tres_cnt, 8);
    assert_null(m->tres[0].name);
    assert_string_equal(m->tres[0].type, "cpu");
    assert_int_equal(m->tres[0].id, 1);
    assert_int_equal(m->tres[0].count, 8);      /* 4 nodes x 2 CPUs */
    assert_string_equal(m->tres[1].type, "mem");
    assert_int_equal(m->tres[1].count, 4000);   /* 4 x RealMemory=1000 */
    assert_string_equal(m->tres[5].type, "fs");
    assert_string_equal(m->tres[5].name, "disk");
}

/* ---- tests ---- */

static void test_codec_info_fixtures_decode_repack_identical_and_match_client_output(void **state)
{
    info_set_t *set = *state;
    unsigned seen[7] = { 0 };
    const uint16_t types[7] = { T_NODE_REG_STATUS, T_NODE_REG_RESP, T_BUILD_INFO, T_JOB_INFO,
                                T_NODE_INFO, T_PART_INFO, T_STATS_INFO };
    for (size_t i = 0; i < set->n; i++) {
        info_fixture_t *fx = &set->v[i];
        const flurm_table_t *t = flurm_msg_info_table(fx->msg_type);
        assert_non_null(t);
        int err;
        void *obj = decode(t, fx->body, fx->body_len, &err);
        if (err != FLURM_OK)
            fail_msg("%s: decode failed (%d)", fx->path, err);
        flurm_buf_t out;
        flurm_buf_init(&out);
        assert_int_equal(flurm_table_pack(t, obj, &out), FLURM_OK);
        if (out.size != fx->body_len || memcmp(out.data, fx->body, out.size) != 0)
            fail_msg("%s: re-pack differs (%zu vs %zu bytes)", fx->path, out.size, fx->body_len);
        flurm_buf_release(&out);

        char *stdout_text = case_stdout(fx);
        const char *txt = stdout_text ? stdout_text : "";
        switch (fx->msg_type) {
        case T_JOB_INFO: check_job_info(fx, obj, txt); break;
        case T_NODE_INFO: check_node_info(fx, obj, txt); break;
        case T_PART_INFO: check_part_info(fx, obj, txt); break;
        case T_BUILD_INFO: check_build_info(obj, txt); break;
        case T_STATS_INFO: check_stats_info(obj, txt); break;
        case T_NODE_REG_STATUS: check_node_reg_status(obj); break;
        case T_NODE_REG_RESP: check_node_reg_resp(obj); break;
        }
        free(stdout_text);
        release(t, obj);
        for (int k = 0; k < 7; k++)
            if (types[k] == fx->msg_type)
                seen[k]++;
    }
    for (int k = 0; k < 7; k++)
        if (!seen[k])
            fail_msg("no fixture of type %u found under %s", types[k], FIXTURES_DIR);
}

static void test_codec_info_squeue_fixture_has_held_and_running_job(void **state)
{
    info_set_t *set = *state;
    bool found = false;
    for (size_t i = 0; i < set->n; i++) {
        info_fixture_t *fx = &set->v[i];
        if (fx->msg_type != T_JOB_INFO || !strstr(fx->dir, "/squeue") ||
            strstr(fx->dir, "squeue-empty"))
            continue;
        int err;
        flurm_job_info_msg_t *m = decode(&flurm_job_info_msg_table, fx->body, fx->body_len,
                                         &err);
        assert_int_equal(err, FLURM_OK);
        assert_int_equal(m->record_count, 3);
        const flurm_job_info_t *held = NULL, *run = NULL, *done = NULL;
        for (uint32_t k = 0; k < m->record_count; k++) {
            if (m->job_array[k].job_id == 9892)
                held = &m->job_array[k];
            if (m->job_array[k].job_id == 9894)
                run = &m->job_array[k];
            if (m->job_array[k].job_id == 9893)
                done = &m->job_array[k];
        }
        assert_non_null(done);
        assert_string_equal(done->name, "fixture-run");
        assert_int_equal(done->job_state, FLURM_JOB_COMPLETE);
        assert_non_null(held);
        assert_non_null(run);
        assert_string_equal(held->name, "fixture-held");
        assert_int_equal(held->job_state, FLURM_JOB_PENDING);
        assert_int_equal(held->priority, 0);
        assert_null(held->nodes);
        assert_int_equal(run->job_state & FLURM_JOB_STATE_BASE, FLURM_JOB_RUNNING);
        assert_string_equal(run->nodes, "n1");
        assert_string_equal(run->partition, "debug");
        found = true;
        release(&flurm_job_info_msg_table, m);
    }
    assert_true(found);
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

static void test_codec_info_every_truncated_body_fails_and_leaves_nothing(void **state)
{
    info_set_t *set = *state;
    for (size_t i = 0; i < set->n; i++) {
        info_fixture_t *fx = &set->v[i];
        const flurm_table_t *t = flurm_msg_info_table(fx->msg_type);
        void *obj = malloc(t->size);
        for (size_t len = 0; len < fx->body_len; len++) {
            flurm_buf_t b;
            flurm_buf_view(&b, fx->body, len);
            int err = flurm_table_unpack(t, obj, &b);
            if (err == FLURM_OK)
                fail_msg("%s: prefix of %zu/%zu bytes decoded", fx->path, len, fx->body_len);
            assert_true(all_zero(obj, t->size));
        }
        free(obj);
    }
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void test_codec_info_random_mutations_fail_cleanly_or_repack_stably(void **state)
{
    info_set_t *set = *state;
    uint64_t seed = 0x5eed1234abcdull;
    for (size_t i = 0; i < set->n; i++) {
        info_fixture_t *fx = &set->v[i];
        const flurm_table_t *t = flurm_msg_info_table(fx->msg_type);
        uint8_t *m = malloc(fx->body_len);
        for (int round = 0; round < 200; round++) {
            memcpy(m, fx->body, fx->body_len);
            int flips = 1 + (int)(rng_next(&seed) % 4);
            for (int k = 0; k < flips; k++) {
                size_t at = rng_next(&seed) % fx->body_len;
                m[at] = (uint8_t)rng_next(&seed);
            }
            int err;
            void *obj = decode(t, m, fx->body_len, &err);
            if (err == FLURM_OK) {
                /* What decodes must encode, and the encoding must be a fixed point. */
                flurm_buf_t a, c;
                flurm_buf_init(&a);
                flurm_buf_init(&c);
                assert_int_equal(flurm_table_pack(t, obj, &a), FLURM_OK);
                void *again = decode(t, a.data, a.size, &err);
                assert_int_equal(err, FLURM_OK);
                assert_int_equal(flurm_table_pack(t, again, &c), FLURM_OK);
                assert_int_equal(a.size, c.size);
                assert_memory_equal(a.data, c.data, a.size);
                release(t, again);
                flurm_buf_release(&a);
                flurm_buf_release(&c);
            } else if (err > 0) {
                assert_true(all_zero(obj, t->size));
            }
            release(t, obj);
        }
        free(m);
    }
}

static void test_codec_info_unknown_types_have_no_table(void **state)
{
    (void)state;
    assert_null(flurm_msg_info_table(0));
    assert_null(flurm_msg_info_table(2003));   /* REQUEST_JOB_INFO */
    assert_null(flurm_msg_info_table(8001));   /* RESPONSE_SLURM_RC */
    assert_non_null(flurm_msg_info_table(2004));
}

/* ---- responses built from scratch ---- */

static void fill_job(flurm_job_info_t *j, uint32_t id, const char *name, uint32_t state,
                     const char *nodes, uint64_t *inx)
{
    memset(j, 0, sizeof *j);
    j->array_task_id = FLURM_NO_VAL;
    j->job_id = id;
    j->job_state = state;
    j->batch_flag = 1;
    j->time_limit = FLURM_INFINITE;
    j->nice = FLURM_JOB_NICE_OFFSET;
    j->submit_time = 1795312993;
    j->priority = 4294901759u;
    j->billable_tres = 2.0;
    j->cluster = "flurm";
    j->nodes = (char *)nodes;
    j->partition = "debug";
    j->site_factor = FLURM_JOB_NICE_OFFSET;
    j->name = (char *)name;
    j->user_name = "alice";
    j->alloc_node = "login1";
    j->node_inx = inx;
    j->node_inx_bits = inx ? 3 : 0;
    j->select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
    j->work_dir = "/home/alice";
    j->command = "/home/alice/job.sh";
    j->num_cpus = 2;
    j->num_nodes = 1;
    j->num_tasks = 1;
    j->shared = FLURM_NO_VAL16;
    j->cpus_per_task = 1;
    j->std_out = "/home/alice/slurm-%j.out";
    j->start_protocol_ver = 0x2600;
    j->tres_req_str = "cpu=2,node=1";
}

static void test_codec_info_built_response_round_trips(void **state)
{
    (void)state;
    /* RESPONSE_JOB_INFO: one running job (on node index 1, with a job_resources block and
     * multi_core data), one held job. */
    uint64_t inx = 1u << 1;
    uint32_t reps[] = { 1 };
    uint16_t cpuval[] = { 2 }, cpus[] = { 2 }, socks[] = { 1 }, cores[] = { 2 };
    uint32_t screp[] = { 1 };
    uint64_t core_bits = 0x3;
    flurm_job_resources_t res = {
        .nhosts = 1, .ncpus = 2, .node_req = 1, .nodes = "c2", .threads_per_core = 1,
        .cpu_array_reps = reps, .cpu_array_reps_cnt = 1,
        .cpu_array_value = cpuval, .cpu_array_value_cnt = 1,
        .cpus = cpus, .cpus_cnt = 1,
        .sockets_per_node = socks, .sockets_per_node_cnt = 1,
        .cores_per_socket = cores, .cores_per_socket_cnt = 1,
        .sock_core_rep_count = screp, .sock_core_rep_count_cnt = 1,
        .core_bitmap = &core_bits, .core_bitmap_bits = 2,
        .core_bitmap_used = &core_bits, .core_bitmap_used_bits = 2,
    };
    flurm_job_info_t jobs[2];
    fill_job(&jobs[0], 101, "sim", FLURM_JOB_RUNNING, "c2", &inx);
    jobs[0].job_resrcs = &res;
    jobs[0].multi_core_flag = 0xFF;
    jobs[0].threads_per_core = FLURM_NO_VAL16;
    jobs[0].plane_size = FLURM_NO_VAL16;
    fill_job(&jobs[1], 102, "held", FLURM_JOB_PENDING, NULL, NULL);
    jobs[1].state_reason = 16;
    jobs[1].priority = 0;
    flurm_job_info_msg_t jm = { .record_count = 2, .last_update = 1795313000,
                                .last_backfill = 0, .job_array = jobs };

    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_msg_table, &jm, &b), FLURM_OK);
    int err;
    flurm_job_info_msg_t *jd = decode(&flurm_job_info_msg_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_OK);
    assert_int_equal(jd->record_count, 2);
    assert_int_equal(jd->last_update, 1795313000);
    assert_int_equal(jd->job_array[0].job_id, 101);
    assert_string_equal(jd->job_array[0].name, "sim");
    assert_string_equal(jd->job_array[0].nodes, "c2");
    assert_true(jd->job_array[0].billable_tres == 2.0);
    assert_non_null(jd->job_array[0].job_resrcs);
    assert_int_equal(jd->job_array[0].job_resrcs->cpus_cnt, 1);
    assert_int_equal(jd->job_array[0].job_resrcs->cpus[0], 2);
    assert_true(bit_set(jd->job_array[0].job_resrcs->core_bitmap, 1));
    assert_int_equal(jd->job_array[0].multi_core_flag, 0xFF);
    assert_int_equal(jd->job_array[0].plane_size, FLURM_NO_VAL16);
    assert_int_equal(jd->job_array[0].node_inx_bits, 3);
    assert_true(bit_set(jd->job_array[0].node_inx, 1));
    assert_false(bit_set(jd->job_array[0].node_inx, 0));
    assert_int_equal(jd->job_array[1].job_id, 102);
    assert_null(jd->job_array[1].nodes);
    assert_null(jd->job_array[1].node_inx);
    assert_null(jd->job_array[1].job_resrcs);
    assert_int_equal(jd->job_array[1].multi_core_flag, 0);
    assert_int_equal(jd->job_array[1].state_reason, 16);
    flurm_buf_t b2;
    flurm_buf_init(&b2);
    assert_int_equal(flurm_table_pack(&flurm_job_info_msg_table, jd, &b2), FLURM_OK);
    assert_int_equal(b2.size, b.size);
    assert_memory_equal(b2.data, b.data, b.size);
    release(&flurm_job_info_msg_table, jd);
    flurm_buf_release(&b);
    flurm_buf_release(&b2);

    /* RESPONSE_NODE_INFO: three nodes. */
    flurm_node_info_t nodes[3];
    const char *names[3] = { "c1", "c2", "c3" };
    for (int i = 0; i < 3; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].name = (char *)names[i];
        nodes[i].node_hostname = (char *)names[i];
        nodes[i].node_addr = "10.0.0.1";
        nodes[i].port = 6818;
        nodes[i].next_state = FLURM_NO_VAL;
        nodes[i].node_state = i == 1 ? FLURM_NODE_STATE_MIXED
                                     : FLURM_NODE_STATE_IDLE | FLURM_NODE_STATE_DRAIN;
        nodes[i].version = "22.05.8";
        nodes[i].cpus = nodes[i].cpus_efctv = 4;
        nodes[i].boards = 1;
        nodes[i].sockets = 1;
        nodes[i].cores = 4;
        nodes[i].threads = 1;
        nodes[i].real_memory = 8000;
        nodes[i].owner = FLURM_NO_VAL;
        nodes[i].cpu_load = 12;
        nodes[i].free_mem = 7000;
        nodes[i].weight = 1;
        nodes[i].select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
        nodes[i].alloc_cpus = i == 1 ? 2 : 0;
        nodes[i].tres_alloc_weighted = i == 1 ? 2.5 : 0.0;
        nodes[i].reason = i == 1 ? NULL : "maintenance";
        nodes[i].power_cap_watts = FLURM_NO_VAL;
        nodes[i].tres_fmt_str = "cpu=4,mem=8000M,billing=4";
    }
    flurm_node_info_msg_t nm = { .record_count = 3, .last_update = 1795313001,
                                 .node_array = nodes };
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_node_info_msg_table, &nm, &b), FLURM_OK);
    flurm_node_info_msg_t *nd = decode(&flurm_node_info_msg_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_OK);
    assert_int_equal(nd->record_count, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(nd->node_array[i].name, names[i]);
        assert_int_equal(nd->node_array[i].node_state, nodes[i].node_state);
        assert_int_equal(nd->node_array[i].alloc_cpus, nodes[i].alloc_cpus);
        assert_true(nd->node_array[i].tres_alloc_weighted == nodes[i].tres_alloc_weighted);
        assert_int_equal(nd->node_array[i].real_memory, 8000);
    }
    assert_null(nd->node_array[1].reason);
    assert_string_equal(nd->node_array[2].reason, "maintenance");
    flurm_buf_init(&b2);
    assert_int_equal(flurm_table_pack(&flurm_node_info_msg_table, nd, &b2), FLURM_OK);
    assert_int_equal(b2.size, b.size);
    assert_memory_equal(b2.data, b.data, b.size);
    release(&flurm_node_info_msg_table, nd);
    flurm_buf_release(&b);
    flurm_buf_release(&b2);

    /* RESPONSE_PARTITION_INFO: one partition over all three nodes, with job defaults. */
    uint64_t pinx = 0x7;
    flurm_job_default_t defs[1] = { { FLURM_JOB_DEF_MEM_PER_GPU, 4096 } };
    flurm_part_info_t part = {
        .name = "batch", .max_time = FLURM_INFINITE, .default_time = FLURM_NO_VAL,
        .max_nodes = FLURM_INFINITE, .total_nodes = 3, .total_cpus = 12,
        .max_cpus_per_node = FLURM_INFINITE, .flags = FLURM_PART_FLAG_DEFAULT, .max_share = 1,
        .over_time_limit = FLURM_NO_VAL16, .preempt_mode = FLURM_NO_VAL16,
        .priority_job_factor = 1, .priority_tier = 1, .state_up = FLURM_PARTITION_UP,
        .resume_timeout = FLURM_NO_VAL16, .suspend_timeout = FLURM_NO_VAL16,
        .suspend_time = FLURM_NO_VAL, .allow_groups = NULL, .nodes = "c[1-3]",
        .node_inx = &pinx, .node_inx_bits = 3, .tres_fmt_str = "cpu=12,mem=24000M,node=3",
        .job_defaults = defs, .job_defaults_cnt = 1,
    };
    flurm_part_info_msg_t pm = { .record_count = 1, .last_update = 1795313002,
                                 .partition_array = &part };
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_part_info_msg_table, &pm, &b), FLURM_OK);
    flurm_part_info_msg_t *pd = decode(&flurm_part_info_msg_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_OK);
    assert_int_equal(pd->record_count, 1);
    assert_string_equal(pd->partition_array[0].name, "batch");
    assert_string_equal(pd->partition_array[0].nodes, "c[1-3]");
    assert_int_equal(pd->partition_array[0].node_inx_bits, 3);
    assert_int_equal(pd->partition_array[0].node_inx[0], 0x7);
    assert_int_equal(pd->partition_array[0].job_defaults_cnt, 1);
    assert_int_equal(pd->partition_array[0].job_defaults[0].type, FLURM_JOB_DEF_MEM_PER_GPU);
    assert_int_equal(pd->partition_array[0].job_defaults[0].value, 4096);
    assert_int_equal(pd->partition_array[0].default_time, FLURM_NO_VAL);
    flurm_buf_init(&b2);
    assert_int_equal(flurm_table_pack(&flurm_part_info_msg_table, pd, &b2), FLURM_OK);
    assert_int_equal(b2.size, b.size);
    assert_memory_equal(b2.data, b.data, b.size);
    release(&flurm_part_info_msg_table, pd);
    flurm_buf_release(&b);
    flurm_buf_release(&b2);
}

static void test_codec_info_null_conventions_on_the_wire(void **state)
{
    (void)state;
    /* An empty job list sends count 0 (not NO_VAL: the client would try to allocate 4G). */
    flurm_job_info_msg_t jm = { .record_count = 0, .last_update = 5, .last_backfill = 6 };
    flurm_buf_t b;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_msg_table, &jm, &b), FLURM_OK);
    const uint8_t want[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6 };
    assert_int_equal(b.size, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    flurm_buf_release(&b);

    /* A partition without node bitmap or job defaults: bitmap and list are both NO_VAL. */
    flurm_part_info_t part = { .name = "p" };
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_part_info_table, &part, &b), FLURM_OK);
    /* ... nodes NULL, nodesets NULL, node_inx NO_VAL, billing NULL, tres NULL, list NO_VAL */
    const uint8_t tail[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe,
                             0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe };
    assert_true(b.size > sizeof tail);
    assert_memory_equal(b.data + b.size - sizeof tail, tail, sizeof tail);
    flurm_buf_release(&b);

    /* A job without job_resources sends NO_VAL in its place and decodes back to NULL. */
    flurm_job_info_t job;
    fill_job(&job, 7, "x", FLURM_JOB_PENDING, NULL, NULL);
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_table, &job, &b), FLURM_OK);
    int err;
    flurm_job_info_t *jd = decode(&flurm_job_info_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_OK);
    assert_null(jd->job_resrcs);
    assert_null(jd->node_inx);
    assert_null(jd->req_node_inx);
    release(&flurm_job_info_table, jd);
    flurm_buf_release(&b);
}

static void test_codec_info_rejects_what_the_client_rejects(void **state)
{
    (void)state;
    flurm_job_info_t job;
    fill_job(&job, 7, "x", FLURM_JOB_PENDING, NULL, NULL);
    flurm_buf_t b;

    /* unknown select plugin id: refused on both sides */
    job.select_plugin_id = 4242;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_table, &job, &b), FLURM_EINVAL);
    flurm_buf_release(&b);
    job.select_plugin_id = FLURM_SELECT_PLUGIN_CONS_TRES;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_table, &job, &b), FLURM_OK);
    /* find the plugin id (109 preceded by the NO_VAL node_inx) and corrupt it */
    const uint8_t pat[] = { 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 109 };
    uint8_t *hit = memmem(b.data, b.size, pat, sizeof pat);
    assert_non_null(hit);
    hit[7] = 110;   /* cray cons_tres: a different blob layout */
    int err;
    void *obj = decode(&flurm_job_info_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_EPROTO);
    assert_true(all_zero(obj, sizeof(flurm_job_info_t)));
    free(obj);
    flurm_buf_release(&b);

    /* multi_core flag other than 0 / 0xFF */
    job.multi_core_flag = 1;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_table, &job, &b), FLURM_EINVAL);
    flurm_buf_release(&b);
    job.multi_core_flag = 0;

    /* job_resources whose cpus count differs from nhosts */
    uint16_t cpus[2] = { 1, 1 };
    flurm_job_resources_t res = { .nhosts = 1, .cpus = cpus, .cpus_cnt = 2 };
    job.job_resrcs = &res;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_job_info_table, &job, &b), FLURM_EINVAL);
    flurm_buf_release(&b);
    job.job_resrcs = NULL;

    /* records promised by the count but absent */
    flurm_node_info_msg_t nm = { .record_count = 2, .node_array = NULL };
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_node_info_msg_table, &nm, &b), FLURM_EINVAL);
    flurm_buf_release(&b);

    /* controller arrays of different lengths */
    flurm_build_info_msg_t conf;
    memset(&conf, 0, sizeof conf);
    char *addr[1] = { "127.0.0.1" };
    conf.control_addr = addr;
    conf.control_addr_cnt = 1;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_build_info_msg_table, &conf, &b), FLURM_EINVAL);
    flurm_buf_release(&b);
    char *mach[1] = { "vm" };
    conf.control_machine = mach;
    conf.control_machine_cnt = 1;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_build_info_msg_table, &conf, &b), FLURM_OK);
    flurm_build_info_msg_t *cd = decode(&flurm_build_info_msg_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_OK);
    assert_string_equal(cd->control_machine[0], "vm");
    assert_null(cd->acct_gather_conf);   /* NULL list went out as NO_VAL */
    release(&flurm_build_info_msg_table, cd);
    flurm_buf_release(&b);

    /* node registration: gres_info inner length must match the outer size */
    flurm_node_reg_status_msg_t reg;
    memset(&reg, 0, sizeof reg);
    uint8_t blob[3] = { 1, 2, 3 };
    flurm_step_id_t steps[1] = { { 9894, FLURM_NO_VAL - 3, FLURM_NO_VAL } };
    reg.node_name = "n1";
    reg.job_count = 1;
    reg.step_id = steps;
    reg.gres_info = blob;
    reg.gres_info_size = 3;
    flurm_buf_init(&b);
    assert_int_equal(flurm_table_pack(&flurm_node_reg_status_msg_table, &reg, &b), FLURM_OK);
    flurm_node_reg_status_msg_t *rd = decode(&flurm_node_reg_status_msg_table, b.data, b.size,
                                             &err);
    assert_int_equal(err, FLURM_OK);
    assert_int_equal(rd->job_count, 1);
    assert_int_equal(rd->step_id[0].job_id, 9894);
    assert_int_equal(rd->gres_info_size, 3);
    assert_memory_equal(rd->gres_info, blob, 3);
    release(&flurm_node_reg_status_msg_table, rd);
    const uint8_t gres_wire[] = { 0, 0, 0, 3, 0, 0, 0, 3, 1, 2, 3 };
    hit = memmem(b.data, b.size, gres_wire, sizeof gres_wire);
    assert_non_null(hit);
    hit[3] = 2;
    obj = decode(&flurm_node_reg_status_msg_table, b.data, b.size, &err);
    assert_int_equal(err, FLURM_EPROTO);
    free(obj);
    flurm_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_info_fixtures_decode_repack_identical_and_match_client_output),
        cmocka_unit_test(test_codec_info_squeue_fixture_has_held_and_running_job),
        cmocka_unit_test(test_codec_info_every_truncated_body_fails_and_leaves_nothing),
        cmocka_unit_test(test_codec_info_random_mutations_fail_cleanly_or_repack_stably),
        cmocka_unit_test(test_codec_info_unknown_types_have_no_table),
        cmocka_unit_test(test_codec_info_built_response_round_trips),
        cmocka_unit_test(test_codec_info_null_conventions_on_the_wire),
        cmocka_unit_test(test_codec_info_rejects_what_the_client_rejects),
    };
    return cmocka_run_group_tests(tests, setup_fixtures, teardown_fixtures);
}
