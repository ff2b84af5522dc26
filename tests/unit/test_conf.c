/* tests/unit/test_conf.c — slurm.conf parsing: keys, defaults, records, Include, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <flurm/conf.h>
#include <flurm/log.h>

/* ---- helpers ---- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/flurm-test-conf-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes TEXT to tmpdir/NAME; returns the full path in a static buffer slot. */
static const char *write_file(const char *name, const char *text)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static flurm_conf_t *parse_ok(const char *text)
{
    flurm_conf_t *c = NULL;
    char *err = NULL;
    int rc = flurm_conf_parse_string(text, "test.conf", &c, &err);
    if (rc != FLURM_OK)
        fail_msg("parse failed: %s", err ? err : "?");
    assert_null(err);
    return c;
}

/* Parses TEXT, expecting RC and exactly MSG. */
static void parse_err(const char *text, int want_rc, const char *want_msg)
{
    flurm_conf_t *c = (flurm_conf_t *)0x1;
    char *err = NULL;
    assert_int_equal(flurm_conf_parse_string(text, "test.conf", &c, &err), want_rc);
    assert_ptr_equal(c, (flurm_conf_t *)0x1);
    assert_non_null(err);
    assert_string_equal(err, want_msg);
    free(err);
}

typedef struct {
    char lines[16][512];
    int n;
} captured_t;

static void capture_sink(flurm_log_level_t level, const char *line, void *arg)
{
    captured_t *cap = arg;
    if (level == FLURM_LOG_WARN && cap->n < 16)
        snprintf(cap->lines[cap->n++], sizeof cap->lines[0], "%s", line);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

#define MIN_CONF "SlurmctldHost=ctl\n"

/* ---- tests ---- */

static void test_conf_ctld_param_reads_flurm_options_from_slurmctld_parameters(void **state)
{
    (void)state;
    flurm_conf_t *c = NULL;
    char *err = NULL, buf[16];
    assert_int_equal(flurm_conf_parse_string(MIN_CONF "SlurmctldParameters=enable_configless,flurm_node_port=7001,x\n",
                                             "test.conf", &c, &err), FLURM_OK);
    assert_int_equal(flurm_conf_ctld_param(c, "flurm_node_port", buf, sizeof buf), FLURM_OK);
    assert_string_equal(buf, "7001");
    assert_int_equal(flurm_conf_ctld_param(c, "x", buf, sizeof buf), FLURM_OK);
    assert_string_equal(buf, "");
    assert_int_equal(flurm_conf_ctld_param(c, "flurm_node", buf, sizeof buf), FLURM_ENOENT);
    assert_int_equal(flurm_conf_ctld_param(c, "flurm_node_port", buf, 3), FLURM_ENOSPC);
    flurm_conf_free(c);
}

/* slurmctld accepts one NodeAddr for a whole NodeName range (every node shares it). */
static void test_conf_single_node_addr_serves_the_whole_range(void **state)
{
    (void)state;
    flurm_conf_t *c = NULL;
    char *err = NULL;
    assert_int_equal(flurm_conf_parse_string(MIN_CONF "NodeName=n[1-3] NodeAddr=127.0.0.1 NodeHostname=h\n",
                                             "test.conf", &c, &err), FLURM_OK);
    assert_int_equal(c->node_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(c->nodes[i].addr, "127.0.0.1");
        assert_string_equal(c->nodes[i].hostname, "h");
    }
    flurm_conf_free(c);
}

static void test_conf_realistic_cluster_with_include_and_defaults(void **state)
{
    (void)state;
    write_file("nodes.conf",
               "# compute nodes\n"
               "NodeName=DEFAULT CPUs=8 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=16000 State=UNKNOWN\n"
               "NodeName=c[01-04] Gres=gpu:2 Feature=a100,ib\n"
               "NodeName=big1 CPUs=64 Sockets=2 CoresPerSocket=16 ThreadsPerCore=2 RealMemory=512000 Weight=10\n");
    const char *main_path = write_file("slurm.conf",
               "# test cluster\n"
               "ClusterName=alpha\n"
               "SlurmctldHost=ctl1(10.0.0.1)\n"
               "SlurmctldHost=ctl2\n"
               "\n"
               "SlurmctldPort=6817-6820   SlurmdPort=7000\n"
               "AuthType=auth/munge AuthInfo=socket=/run/m.sock,ttl=60\n"
               "StateSaveLocation=/var/lib/flurm  # trailing comment\n"
               "Include nodes.conf\n"
               "PartitionName=DEFAULT MaxTime=1-00:00:00 State=UP\n"
               "PartitionName=gpu Nodes=c[01-04] Default=YES DefaultTime=30\n"
               "PartitionName=all Nodes=ALL MaxTime=INFINITE PriorityTier=5 OverSubscribe=FORCE:2 Hidden=YES\n");
    flurm_conf_t *c = NULL;
    char *err = NULL;
    assert_int_equal(flurm_conf_load(main_path, &c, &err), FLURM_OK);
    assert_null(err);

    assert_string_equal(c->path, main_path);
    assert_int_equal(c->file_count, 2);
    assert_true(ends_with(c->files[1], "/nodes.conf"));
    assert_string_equal(c->cluster_name, "alpha");
    assert_int_equal(c->controller_count, 2);
    assert_string_equal(c->controllers[0].name, "ctl1");
    assert_string_equal(c->controllers[0].addr, "10.0.0.1");
    assert_string_equal(c->controllers[1].name, "ctl2");
    assert_string_equal(c->controllers[1].addr, "ctl2");
    assert_int_equal(c->slurmctld_port, 6817);
    assert_int_equal(c->slurmctld_port_count, 4);
    assert_int_equal(c->slurmd_port, 7000);
    assert_string_equal(c->auth_info, "socket=/run/m.sock,ttl=60");
    assert_string_equal(c->auth_socket, "/run/m.sock");
    assert_int_equal(c->auth_ttl, 60);
    assert_string_equal(c->state_save_location, "/var/lib/flurm");

    assert_int_equal(c->node_count, 5);
    const char *names[] = { "c01", "c02", "c03", "c04", "big1" };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(c->nodes[i].name, names[i]);
        assert_int_equal(flurm_conf_node_index(c, names[i]), (ssize_t)i);
    }
    const flurm_conf_node_t *n = &c->nodes[2];
    assert_int_equal(n->cpus, 8);
    assert_int_equal(n->sockets, 2);   /* inferred: CPUs / (cores * threads) */
    assert_int_equal(n->cores_per_socket, 4);
    assert_int_equal(n->threads_per_core, 1);
    assert_int_equal(n->real_memory, 16000);
    assert_string_equal(n->gres, "gpu:2");
    assert_string_equal(n->features, "a100,ib");
    assert_string_equal(n->addr, "c03");
    assert_string_equal(n->hostname, "c03");
    assert_int_equal(n->port, 7000);
    assert_int_equal(n->weight, 1);
    assert_int_equal(n->state, FLURM_CONF_NODE_UNKNOWN);
    assert_int_equal(n->line, 3);
    assert_ptr_equal(n->file, c->files[1]);
    n = &c->nodes[4];
    assert_int_equal(n->cpus, 64);
    assert_int_equal(n->sockets, 2);
    assert_int_equal(n->threads_per_core, 2);
    assert_int_equal(n->real_memory, 512000);
    assert_int_equal(n->weight, 10);
    assert_null(n->gres);

    assert_int_equal(c->partition_count, 2);
    const flurm_conf_partition_t *gpu = flurm_conf_partition(c, "gpu");
    assert_non_null(gpu);
    assert_true(gpu->is_default);
    assert_int_equal(gpu->max_time, 1440);
    assert_int_equal(gpu->default_time, 30);
    assert_int_equal(gpu->node_count, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(gpu->node_idx[i], i);
    const flurm_conf_partition_t *all = flurm_conf_partition(c, "all");
    assert_false(all->is_default);
    assert_true(all->hidden);
    assert_int_equal(all->max_time, FLURM_INFINITE);
    assert_int_equal(all->default_time, FLURM_NO_VAL);
    assert_int_equal(all->priority_tier, 5);
    assert_int_equal(all->max_share, 2 | FLURM_CONF_SHARED_FORCE);
    assert_int_equal(all->node_count, 5);
    assert_int_equal(all->line, 12);

    /* kv: file order across the Include, original spelling. */
    assert_string_equal(c->kv[0].key, "ClusterName");
    assert_string_equal(c->kv[0].value, "alpha");
    assert_int_equal(c->kv[0].line, 2);
    size_t i;
    for (i = 0; i < c->kv_count && strcmp(c->kv[i].key, "StateSaveLocation"); i++)
        ;
    assert_true(i + 1 < c->kv_count);
    assert_string_equal(c->kv[i + 1].key, "NodeName");
    assert_string_equal(c->kv[i + 1].value, "DEFAULT");
    assert_ptr_equal(c->kv[i + 1].file, c->files[1]);
    assert_string_equal(flurm_conf_get(c, "slurmctldhost"), "ctl2");
    assert_null(flurm_conf_get(c, "NoSuchKey"));
    flurm_conf_free(c);
}

static void test_conf_every_global_key_is_read(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(
        "clustername=beta\n"
        "SLURMCTLDHOST=h1\n"
        "SlurmctldPort=7817\n"
        "SlurmdPort=7818\n"
        "SlurmUser=root\n"
        "SlurmdUser=root\n"
        "AuthType=auth/none\n"
        "AuthInfo=ttl=30\n"
        "StateSaveLocation=/s\n"
        "SlurmdSpoolDir=/d/%n\n"
        "SchedulerType=sched/builtin\n"
        "SchedulerParameters=bf_interval=30,default_queue_depth=100\n"
        "SelectType=select/linear\n"
        "SelectTypeParameters=CR_Core_Memory\n"
        "MaxJobCount=50000\n"
        "FirstJobId=1000\n"
        "DefMemPerCPU=2048\n"
        "KillWait=15\n"
        "SlurmdTimeout=600\n"
        "SlurmctldTimeout=60\n"
        "MessageTimeout=20\n"
        "MinJobAge=2\n"
        "ReturnToService=2\n"
        "PriorityType=priority/multifactor\n"
        "GresTypes=gpu,mps\n"
        "PluginDir=/usr/lib/slurm\n"
        "SlurmctldLogFile=/log/ctld.log\n"
        "SlurmctldPidFile=/run/ctld.pid\n"
        "SlurmctldDebug=debug2\n");
    assert_string_equal(c->cluster_name, "beta");
    assert_string_equal(c->controllers[0].name, "h1");
    assert_int_equal(c->slurmctld_port, 7817);
    assert_int_equal(c->slurmctld_port_count, 1);
    assert_int_equal(c->slurmd_port, 7818);
    assert_string_equal(c->slurm_user, "root");
    assert_int_equal(c->slurm_user_id, 0);
    assert_string_equal(c->slurmd_user, "root");
    assert_int_equal(c->slurmd_user_id, 0);
    assert_string_equal(c->auth_type, "auth/none");
    assert_null(c->auth_socket);
    assert_int_equal(c->auth_ttl, 30);
    assert_string_equal(c->state_save_location, "/s");
    assert_string_equal(c->slurmd_spool_dir, "/d/%n");
    assert_string_equal(c->scheduler_type, "sched/builtin");
    assert_string_equal(c->scheduler_parameters, "bf_interval=30,default_queue_depth=100");
    assert_string_equal(c->select_type, "select/linear");
    assert_string_equal(c->select_type_parameters, "CR_Core_Memory");
    assert_int_equal(c->max_job_count, 50000);
    assert_int_equal(c->first_job_id, 1000);
    assert_int_equal(c->def_mem_per_cpu, 2048);
    assert_int_equal(c->def_mem_per_node, 0);
    assert_int_equal(c->kill_wait, 15);
    assert_int_equal(c->slurmd_timeout, 600);
    assert_int_equal(c->slurmctld_timeout, 60);
    assert_int_equal(c->message_timeout, 20);
    assert_int_equal(c->min_job_age, 2);
    assert_int_equal(c->return_to_service, 2);
    assert_string_equal(c->priority_type, "priority/multifactor");
    assert_string_equal(c->gres_types, "gpu,mps");
    assert_string_equal(c->plugin_dir, "/usr/lib/slurm");
    assert_string_equal(c->slurmctld_logfile, "/log/ctld.log");
    assert_string_equal(c->slurmctld_pidfile, "/run/ctld.pid");
    assert_string_equal(c->slurmctld_debug, "debug2");
    assert_int_equal(c->kv_count, 29);
    assert_string_equal(c->kv[0].key, "clustername");
    flurm_conf_free(c);

    c = parse_ok(MIN_CONF "DefMemPerCPU=100\nDefMemPerNode=4000\n");
    assert_int_equal(c->def_mem_per_cpu, 0);
    assert_int_equal(c->def_mem_per_node, 4000);
    flurm_conf_free(c);
}

static void test_conf_defaults_match_slurm(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(MIN_CONF);
    assert_string_equal(c->cluster_name, "cluster");
    assert_int_equal(c->controller_count, 1);
    assert_string_equal(c->controllers[0].addr, "ctl");
    assert_int_equal(c->slurmctld_port, 6817);
    assert_int_equal(c->slurmctld_port_count, 1);
    assert_int_equal(c->slurmd_port, 6818);
    assert_string_equal(c->slurm_user, "root");
    assert_int_equal(c->slurm_user_id, 0);
    assert_string_equal(c->auth_type, "auth/munge");
    assert_null(c->auth_info);
    assert_null(c->auth_socket);
    assert_int_equal(c->auth_ttl, 0);
    assert_string_equal(c->scheduler_type, "sched/backfill");
    assert_string_equal(c->select_type, "select/cons_tres");
    assert_null(c->select_type_parameters);
    assert_string_equal(c->priority_type, "priority/basic");
    assert_string_equal(c->state_save_location, "/var/spool/slurmctld");
    assert_string_equal(c->slurmd_spool_dir, "/var/spool/slurmd");
    assert_int_equal(c->max_job_count, 10000);
    assert_int_equal(c->first_job_id, 1);
    assert_int_equal(c->def_mem_per_cpu, 0);
    assert_int_equal(c->kill_wait, 30);
    assert_int_equal(c->slurmd_timeout, 300);
    assert_int_equal(c->slurmctld_timeout, 120);
    assert_int_equal(c->message_timeout, 10);
    assert_int_equal(c->min_job_age, 300);
    assert_int_equal(c->return_to_service, 0);
    assert_int_equal(c->node_count, 0);
    assert_int_equal(c->partition_count, 0);
    flurm_conf_free(c);

    c = parse_ok(MIN_CONF "NodeName=n1\nPartitionName=p Nodes=n1\n");
    const flurm_conf_node_t *n = &c->nodes[0];
    assert_int_equal(n->cpus, 1);
    assert_int_equal(n->boards, 1);
    assert_int_equal(n->sockets, 1);
    assert_int_equal(n->cores_per_socket, 1);
    assert_int_equal(n->threads_per_core, 1);
    assert_int_equal(n->real_memory, 1);
    assert_int_equal(n->tmp_disk, 0);
    assert_int_equal(n->weight, 1);
    assert_int_equal(n->state, FLURM_CONF_NODE_UNKNOWN);
    assert_int_equal(n->port, 6818);
    const flurm_conf_partition_t *pt = &c->partitions[0];
    assert_false(pt->is_default);
    assert_false(pt->hidden);
    assert_int_equal(pt->state, FLURM_CONF_PART_UP);
    assert_int_equal(pt->max_time, FLURM_INFINITE);
    assert_int_equal(pt->default_time, FLURM_NO_VAL);
    assert_int_equal(pt->priority_tier, 1);
    assert_int_equal(pt->max_nodes, FLURM_INFINITE);
    assert_int_equal(pt->max_share, 1);
    assert_null(pt->allow_groups);
    flurm_conf_free(c);
}

static void test_conf_node_fields_and_topology_inference(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(
        MIN_CONF
        "NodeName=a CPUs=2\n"                                            /* sockets from CPUs */
        "NodeName=b Boards=2 SocketsPerBoard=2 CoresPerSocket=2 ThreadsPerCore=2\n"
        "NodeName=c CPUs=6 CoresPerSocket=4\n"                           /* 6 % 4: sockets=1, CPUs reset */
        "NodeName=d[1-2] NodeAddr=10.0.0.[1-2] NodeHostname=h[1-2] Port=7001 TmpDisk=100 Weight=5\n"
        "NodeName=e State=DRAIN Features=x Procs=4\n"
        "NodeName=f State=idle Weight=4294967295\n"
        "NodeName=g state=FUTURE port=9000\n");
    assert_int_equal(c->node_count, 8);
    assert_int_equal(c->nodes[0].sockets, 2);
    assert_int_equal(c->nodes[0].cpus, 2);
    assert_int_equal(c->nodes[1].sockets, 4);
    assert_int_equal(c->nodes[1].boards, 2);
    assert_int_equal(c->nodes[1].cpus, 16);
    assert_int_equal(c->nodes[2].sockets, 1);
    assert_int_equal(c->nodes[2].cpus, 4);
    assert_string_equal(c->nodes[3].name, "d1");
    assert_string_equal(c->nodes[3].addr, "10.0.0.1");
    assert_string_equal(c->nodes[4].addr, "10.0.0.2");
    assert_string_equal(c->nodes[4].hostname, "h2");
    assert_int_equal(c->nodes[4].tmp_disk, 100);
    assert_int_equal(c->nodes[4].weight, 5);
    assert_int_equal(c->nodes[5].state, FLURM_CONF_NODE_DRAIN);
    assert_string_equal(c->nodes[5].features, "x");
    assert_int_equal(c->nodes[5].cpus, 4);
    assert_int_equal(c->nodes[6].state, FLURM_CONF_NODE_IDLE);
    assert_int_equal(c->nodes[6].weight, 0xFFFFFFFEu);   /* INFINITE-1, as SLURM */
    assert_int_equal(c->nodes[7].state, FLURM_CONF_NODE_FUTURE);
    assert_int_equal(c->nodes[7].port, 9000);
    flurm_conf_free(c);
}

static void test_conf_partition_options(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(
        MIN_CONF
        "NodeName=n[1-4]\n"
        "PartitionName=DEFAULT State=DOWN AllowGroups=wheel\n"
        "PartitionName=a Nodes=n[3-4],n1 OverSubscribe=EXCLUSIVE MaxNodes=2\n"
        "PartitionName=b Nodes=n2 OverSubscribe=YES State=DRAIN AllowGroups=ALL MaxNodes=UNLIMITED\n"
        "PartitionName=c OverSubscribe=YES:8 State=INACTIVE Default=yes\n"
        "PartitionName=d Shared=FORCE Hidden=NO\n"
        "PartitionName=e OverSubscribe=NO\n");
    const flurm_conf_partition_t *a = flurm_conf_partition(c, "a");
    assert_int_equal(a->node_count, 3);
    assert_int_equal(a->node_idx[0], 2);
    assert_int_equal(a->node_idx[1], 3);
    assert_int_equal(a->node_idx[2], 0);
    assert_int_equal(a->max_share, 0);
    assert_int_equal(a->max_nodes, 2);
    assert_int_equal(a->state, FLURM_CONF_PART_DOWN);
    assert_string_equal(a->allow_groups, "wheel");
    const flurm_conf_partition_t *b = flurm_conf_partition(c, "b");
    assert_int_equal(b->max_share, 4);
    assert_int_equal(b->state, FLURM_CONF_PART_DRAIN);
    assert_null(b->allow_groups);
    assert_int_equal(b->max_nodes, FLURM_INFINITE);
    const flurm_conf_partition_t *pc = flurm_conf_partition(c, "c");
    assert_int_equal(pc->max_share, 8);
    assert_int_equal(pc->state, FLURM_CONF_PART_INACTIVE);
    assert_true(pc->is_default);
    assert_int_equal(pc->node_count, 0);
    assert_null(pc->node_idx);
    assert_int_equal(flurm_conf_partition(c, "d")->max_share, 4 | FLURM_CONF_SHARED_FORCE);
    assert_int_equal(flurm_conf_partition(c, "e")->max_share, 1);
    assert_null(flurm_conf_partition(c, "zzz"));
    flurm_conf_free(c);

    /* Partitions may precede the nodes they name (SLURM resolves after reading). */
    c = parse_ok(MIN_CONF "PartitionName=p Nodes=x[1-2]\nNodeName=x[1-2]\n");
    assert_int_equal(c->partitions[0].node_count, 2);
    flurm_conf_free(c);
}

/* AllowGroups= is resolved to the uids it admits at load (slurmctld's allow_uids): members and
 * users whose primary group it is, plus root and SlurmUser; sorted and unique; ALL = NULL. */
static void test_conf_allow_groups_resolve_to_uids(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("daemon");   /* getpw* share one static buffer */
    assert_non_null(pw);
    uint32_t daemon_uid = (uint32_t)pw->pw_uid;
    pw = getpwnam("nobody");
    assert_non_null(pw);
    uint32_t nobody_uid = (uint32_t)pw->pw_uid;
    struct group *ng = getgrgid(pw->pw_gid);
    assert_non_null(ng);
    char text[512];
    snprintf(text, sizeof text, MIN_CONF "NodeName=n1\nPartitionName=p Nodes=n1 AllowGroups=%s,nosuchgroup\n"
             "PartitionName=q Nodes=n1 AllowGroups=nosuchgroup\nPartitionName=r Nodes=n1\n", ng->gr_name);
    flurm_conf_t *c = parse_ok(text);
    const flurm_conf_partition_t *p = flurm_conf_partition(c, "p");
    assert_non_null(p->allow_uids);
    bool root = false, nob = false, dmn = false;
    for (size_t i = 0; i < p->nallow_uids; i++) {
        if (i)
            assert_true(p->allow_uids[i - 1] < p->allow_uids[i]);
        root |= p->allow_uids[i] == 0;
        nob |= p->allow_uids[i] == nobody_uid;
        dmn |= p->allow_uids[i] == daemon_uid;
    }
    assert_true(root);
    assert_true(nob);      /* its primary group is listed */
    assert_false(dmn);     /* neither member nor primary */
    /* an unknown group admits only root and SlurmUser (root here) */
    const flurm_conf_partition_t *q = flurm_conf_partition(c, "q");
    assert_int_equal(q->nallow_uids, 1);
    assert_int_equal(q->allow_uids[0], 0);
    assert_null(flurm_conf_partition(c, "r")->allow_uids);
    assert_true(flurm_conf_partition_admits(p, nobody_uid));
    assert_false(flurm_conf_partition_admits(p, daemon_uid));
    assert_true(flurm_conf_partition_admits(q, 0));
    assert_false(flurm_conf_partition_admits(q, nobody_uid));
    assert_true(flurm_conf_partition_admits(flurm_conf_partition(c, "r"), daemon_uid));
    flurm_conf_free(c);
}

static void test_conf_preempt_mode_global_and_per_partition(void **state)
{
    (void)state;
    uint16_t m = 7;
    assert_int_equal(flurm_conf_preempt_mode_parse("SUSPEND,GANG", &m), FLURM_OK);
    assert_int_equal(m, FLURM_PREEMPT_MODE_SUSPEND | FLURM_PREEMPT_MODE_GANG);
    assert_int_equal(flurm_conf_preempt_mode_parse("requeue", &m), FLURM_OK);
    assert_int_equal(m, FLURM_PREEMPT_MODE_REQUEUE);
    assert_int_equal(flurm_conf_preempt_mode_parse("OFF", &m), FLURM_OK);
    assert_int_equal(m, 0);
    m = 7;
    assert_int_equal(flurm_conf_preempt_mode_parse("CANCEL,REQUEUE", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_preempt_mode_parse("sometimes", &m), FLURM_EINVAL);
    assert_int_equal(m, 7);
    flurm_conf_t *c = parse_ok(MIN_CONF "PreemptType=preempt/partition_prio\nPreemptMode=REQUEUE\n"
                               "NodeName=n1\nPartitionName=a Nodes=n1 PreemptMode=CANCEL\n"
                               "PartitionName=b Nodes=n1\n");
    assert_int_equal(c->partitions[0].preempt_mode, FLURM_PREEMPT_MODE_CANCEL);
    assert_int_equal(c->preempt_mode, FLURM_PREEMPT_MODE_REQUEUE);   /* the global line's */
    assert_int_equal(c->partitions[1].preempt_mode, 0xFFFE);   /* NO_VAL16: the global mode */
    flurm_conf_free(c);
    /* slurmctld 22.05 refuses to start: "PreemptMode=SUSPEND requires GANG too" */
    parse_err(MIN_CONF "PreemptMode=SUSPEND\n", FLURM_EINVAL, "test.conf: PreemptMode=SUSPEND requires GANG too");
}

/* PrivateData: SLURM's bits (slurm.h PRIVATE_*); "all" sets every bit as read_config.c does.
 * slurmctld ignores words it does not know; FLURM refuses them with the file and line. */
static void test_conf_private_data(void **state)
{
    (void)state;
    uint16_t m = 7;
    assert_int_equal(flurm_conf_private_data_parse("jobs", &m), FLURM_OK);
    assert_int_equal(m, FLURM_PRIVATE_DATA_JOBS);
    assert_int_equal(flurm_conf_private_data_parse("Jobs,NODES,partitions,usage,users", &m), FLURM_OK);
    assert_int_equal(m, 0x1f);
    assert_int_equal(flurm_conf_private_data_parse("accounts,cloud,events,reservations", &m), FLURM_OK);
    assert_int_equal(m, 0x20 | 0x80 | 0x100 | 0x40);
    assert_int_equal(flurm_conf_private_data_parse("job,node,partition,user,account,event,reservation", &m),
                     FLURM_OK);   /* slurmctld's substring match takes the singular too */
    assert_int_equal(m, 0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x100 | 0x40);
    assert_int_equal(flurm_conf_private_data_parse("jobs,all", &m), FLURM_OK);
    assert_int_equal(m, 0xffff);
    assert_int_equal(flurm_conf_private_data_parse("none", &m), FLURM_OK);
    assert_int_equal(m, 0);
    m = 7;
    assert_int_equal(flurm_conf_private_data_parse("jobs,nodez", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_private_data_parse("jobs,", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_private_data_parse(",jobs", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_private_data_parse("", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_private_data_parse("usag", &m), FLURM_EINVAL);
    assert_int_equal(flurm_conf_private_data_parse("jobss", &m), FLURM_EINVAL);
    assert_int_equal(m, 7);

    flurm_conf_t *c = parse_ok(MIN_CONF);
    assert_int_equal(c->private_data, 0);   /* default: nothing private */
    flurm_conf_free(c);
    c = parse_ok(MIN_CONF "privatedata=jobs,usage\n");
    assert_int_equal(c->private_data, FLURM_PRIVATE_DATA_JOBS | FLURM_PRIVATE_DATA_USAGE);
    flurm_conf_free(c);
    c = parse_ok(MIN_CONF "PrivateData=jobs\nPrivateData=nodes\n");   /* the last line wins */
    assert_int_equal(c->private_data, FLURM_PRIVATE_DATA_NODES);
    flurm_conf_free(c);
    parse_err(MIN_CONF "ClusterName=c\nPrivateData=jobs,secrets\n", FLURM_EINVAL,
              "test.conf:3: invalid PrivateData 'jobs,secrets' (want a comma list of accounts, "
              "cloud, events, jobs, nodes, partitions, reservations, usage, users; or all, none)");
}

static void test_conf_syntax_comments_quotes_continuations_case(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(
        "   # indented comment\n"
        "slurmctldhost=ctl   \n"
        "ClusterName=\"my cluster\" SchedulerParameters=a\\#b # real comment\n"
        "PluginDir=/a\\\n"
        "  SlurmctldDebug=verbose\r\n"
        "\t\n"
        "NODENAME=n1 cpus=4\n");
    assert_string_equal(c->cluster_name, "my cluster");
    assert_string_equal(c->scheduler_parameters, "a#b");
    assert_string_equal(c->plugin_dir, "/a");
    assert_string_equal(c->slurmctld_debug, "verbose");
    assert_int_equal(c->nodes[0].cpus, 4);
    assert_int_equal(c->nodes[0].line, 7);
    flurm_conf_free(c);
}

static void test_conf_errors_name_file_and_line(void **state)
{
    (void)state;
    parse_err(MIN_CONF "ClusterName\n", FLURM_EINVAL, "test.conf:2: expected Key=Value, found 'ClusterName'");
    parse_err(MIN_CONF "\nMaxJobCount=12x\n", FLURM_EINVAL,
              "test.conf:3: invalid number '12x' for MaxJobCount (0..4294967295)");
    parse_err(MIN_CONF "NodeName=n1 CPUs=-4\n", FLURM_EINVAL,
              "test.conf:2: invalid number '-4' for CPUs (0..65535)");
    parse_err(MIN_CONF "NodeName=n1 State=SLEEPY\n", FLURM_EINVAL, "test.conf:2: invalid node State 'SLEEPY'");
    parse_err(MIN_CONF "NodeName=n[1-3]\nNodeName=n2\n", FLURM_EINVAL,
              "test.conf:3: duplicate node 'n2' (first defined at test.conf:2)");
    parse_err(MIN_CONF "NodeName=n[3-1]\n", FLURM_EINVAL, "test.conf:2: invalid NodeName 'n[3-1]'");
    parse_err(MIN_CONF "NodeName=n[1-3] NodeAddr=a[1-2]\n", FLURM_EINVAL,
              "test.conf:2: NodeAddr 'a[1-2]' does not give one address per node of 'n[1-3]'");
    parse_err(MIN_CONF "NodeName=n1\nPartitionName=p Nodes=n[1-2]\n", FLURM_EINVAL,
              "test.conf:3: partition 'p': unknown node 'n2' in Nodes=");
    parse_err(MIN_CONF "PartitionName=p Default=YES\nPartitionName=q Default=YES\n", FLURM_EINVAL,
              "test.conf:3: partition 'q' has Default=YES but 'p' already has it");
    parse_err(MIN_CONF "PartitionName=p\nPartitionName=p\n", FLURM_EINVAL, "test.conf:3: duplicate partition 'p'");
    parse_err(MIN_CONF "PartitionName=p State=OPEN\n", FLURM_EINVAL, "test.conf:2: invalid partition State 'OPEN'");
    parse_err(MIN_CONF "PartitionName=p MaxTime=1:2:3:4\n", FLURM_EINVAL,
              "test.conf:2: invalid time '1:2:3:4' for MaxTime");
    parse_err(MIN_CONF "PartitionName=p OverSubscribe=YES:1\n", FLURM_EINVAL,
              "test.conf:2: invalid OverSubscribe 'YES:1'");
    parse_err(MIN_CONF "SlurmUser=no-such-user-flurm\n", FLURM_EINVAL,
              "test.conf:2: unknown user 'no-such-user-flurm'");
    parse_err(MIN_CONF "SlurmctldPort=6820-6817\n", FLURM_EINVAL, "test.conf:2: invalid SlurmctldPort '6820-6817'");
    parse_err(MIN_CONF "ClusterName=\"open\n", FLURM_EINVAL, "test.conf:2: unterminated quote in value of ClusterName");
    parse_err("ClusterName=x\n", FLURM_EINVAL, "test.conf: no SlurmctldHost configured");
    parse_err("ControlMachine=a\nSlurmctldHost=b\n", FLURM_EINVAL,
              "test.conf:1: SlurmctldHost and ControlMachine/BackupController are mutually exclusive");
    parse_err(MIN_CONF "SlurmctldHost=x(\n", FLURM_EINVAL,
              "test.conf:2: invalid SlurmctldHost 'x(' (want NAME or NAME(ADDR))");
}

static void test_conf_load_errors_for_files_and_includes(void **state)
{
    (void)state;
    flurm_conf_t *c = (flurm_conf_t *)0x1;
    char *err = NULL;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/absent.conf", tmpdir);
    assert_int_equal(flurm_conf_load(missing, &c, &err), FLURM_ENOENT);
    assert_ptr_equal(c, (flurm_conf_t *)0x1);
    char want[1400];
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(err, want);
    free(err);

    const char *p = write_file("inc-missing.conf", MIN_CONF "Include gone.conf\n");
    assert_int_equal(flurm_conf_load(p, &c, &err), FLURM_ENOENT);
    snprintf(want, sizeof want, "%s:2: Include %s/gone.conf: No such file or directory", p, tmpdir);
    assert_string_equal(err, want);
    free(err);

    write_file("loop-b.conf", "# b\nInclude loop-a.conf\n");
    const char *a = write_file("loop-a.conf", MIN_CONF "Include loop-b.conf\n");
    assert_int_equal(flurm_conf_load(a, &c, &err), FLURM_EINVAL);
    snprintf(want, sizeof want, "%s/loop-b.conf:2: Include loop: '%s/loop-a.conf' is already being read", tmpdir,
             tmpdir);
    assert_string_equal(err, want);
    free(err);

    /* An error inside an included file names that file. */
    write_file("bad-inc.conf", "\n\nNodeName=x CPUs=lots\n");
    p = write_file("uses-bad.conf", MIN_CONF "Include bad-inc.conf\n");
    assert_int_equal(flurm_conf_load(p, &c, &err), FLURM_EINVAL);
    snprintf(want, sizeof want, "%s/bad-inc.conf:3: invalid number 'lots' for CPUs (0..65535)", tmpdir);
    assert_string_equal(err, want);
    free(err);
    assert_ptr_equal(c, (flurm_conf_t *)0x1);
}

static void test_conf_include_nested_and_glob(void **state)
{
    (void)state;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    mkdir(sub, 0700);
    write_file("sub/inner.conf", "NodeName=i1\n");
    write_file("sub/outer.conf", "Include inner.conf\nNodeName=o1\n");   /* relative to sub/ */
    write_file("sub/parts-1.part", "PartitionName=p1 Nodes=i1\n");
    write_file("sub/parts-2.part", "PartitionName=p2 Nodes=o1\n");
    const char *top = write_file("nested.conf", MIN_CONF "Include sub/outer.conf\nInclude sub/*.part\n");
    flurm_conf_t *c = NULL;
    char *err = NULL;
    assert_int_equal(flurm_conf_load(top, &c, &err), FLURM_OK);
    assert_int_equal(c->node_count, 2);
    assert_string_equal(c->nodes[0].name, "i1");
    assert_string_equal(c->nodes[1].name, "o1");
    assert_int_equal(c->partition_count, 2);
    assert_string_equal(c->partitions[0].name, "p1");
    assert_string_equal(c->partitions[1].name, "p2");
    assert_int_equal(c->file_count, 5);
    flurm_conf_free(c);
}

static void test_conf_unknown_key_warns_once_and_is_kept(void **state)
{
    (void)state;
    captured_t cap = { .n = 0 };
    flurm_log_set_sink(capture_sink, &cap);
    flurm_conf_t *c = parse_ok(MIN_CONF
                               "CredType=cred/munge ProctrackType=proctrack/pgid\n"
                               "FrobnicateLevel=3\n"
                               "frobnicatelevel=4\n"
                               "NodeName=n1 Colour=blue\n"
                               "PartitionName=p Nodes=n1 QOS=normal\n");
    flurm_log_set_sink(NULL, NULL);
    assert_int_equal(cap.n, 2);
    assert_true(ends_with(cap.lines[0], "warning: test.conf:3: unknown configuration key 'FrobnicateLevel'"));
    assert_true(ends_with(cap.lines[1], "warning: test.conf:5: unknown configuration key 'Colour'"));
    assert_string_equal(flurm_conf_get(c, "FrobnicateLevel"), "4");
    assert_string_equal(flurm_conf_get(c, "credtype"), "cred/munge");
    flurm_conf_free(c);
}

static void test_conf_time_str2mins_formats(void **state)
{
    (void)state;
    static const struct { const char *s; uint32_t mins; } ok[] = {
        { "INFINITE", 0xFFFFFFFFu }, { "unlimited", 0xFFFFFFFFu }, { "-1", 0xFFFFFFFFu },
        { "0", 0 }, { "30", 30 }, { "30:00", 30 }, { "30:01", 31 }, { "0:59", 1 },
        { "2:00:00", 120 }, { "1:30:30", 91 }, { "2-0", 2880 }, { "1-12", 2160 },
        { "1-1:30", 1530 }, { "1-00:00:01", 1441 }, { "7-00:00:00", 10080 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint32_t m = 12345;
        if (flurm_time_str2mins(ok[i].s, &m) != FLURM_OK || m != ok[i].mins)
            fail_msg("%s -> %u (want %u)", ok[i].s, m, ok[i].mins);
    }
    static const char *const bad[] = { "", "abc", "1:2:3:4", "1-", "-5", "1-2-3", "1:2-3", "5m", "1::2",
                                       ":5", "1 2", "4294967296" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t m = 7;
        if (flurm_time_str2mins(bad[i], &m) != FLURM_EINVAL || m != 7)
            fail_msg("'%s' accepted", bad[i]);
    }
    uint32_t m = 7;
    assert_int_equal(flurm_time_str2mins(NULL, &m), FLURM_EINVAL);
}

static void test_conf_node_index_on_10k_nodes(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok(MIN_CONF
                               "NodeName=cn[00001-08000] CPUs=32\n"
                               "NodeName=gpu[1-2000] CPUs=64\n"
                               "PartitionName=all Nodes=ALL Default=YES\n");
    assert_int_equal(c->node_count, 10000);
    assert_int_equal(flurm_conf_node_index(c, "cn00001"), 0);
    assert_int_equal(flurm_conf_node_index(c, "cn08000"), 7999);
    assert_int_equal(flurm_conf_node_index(c, "gpu1"), 8000);
    assert_int_equal(flurm_conf_node_index(c, "gpu2000"), 9999);
    assert_int_equal(flurm_conf_node_index(c, "cn8000"), -1);
    assert_int_equal(flurm_conf_node_index(c, "gpu0"), -1);
    assert_int_equal(flurm_conf_node_index(c, ""), -1);
    for (size_t i = 0; i < c->node_count; i++)
        assert_int_equal(flurm_conf_node_index(c, c->nodes[i].name), (ssize_t)i);
    assert_int_equal(c->partitions[0].node_count, 10000);
    flurm_conf_free(c);
}

static void test_conf_legacy_control_machine(void **state)
{
    (void)state;
    flurm_conf_t *c = parse_ok("ControlMachine=m1\nControlAddr=10.1.1.1\nBackupController=m2\n");
    assert_int_equal(c->controller_count, 2);
    assert_string_equal(c->controllers[0].name, "m1");
    assert_string_equal(c->controllers[0].addr, "10.1.1.1");
    assert_string_equal(c->controllers[1].name, "m2");
    assert_string_equal(c->controllers[1].addr, "m2");
    flurm_conf_free(c);
}

/* The form the SLURM reference peer's start.sh writes (its heredoc, 4 nodes, private munged). */
static void test_conf_parses_slurm_peer_generated_config(void **state)
{
    (void)state;
    const char *peer =
        "# generated by slurm-peer/start.sh - real SLURM 22.05 reference peer on loopback\n"
        "ClusterName=peer\n"
        "SlurmctldHost=buildhost(127.0.0.1)\n"
        "SlurmctldPort=6817\n"
        "SlurmdPort=6818\n"
        "AuthType=auth/munge\n"
        "CredType=cred/munge\n"
        "AuthInfo=socket=/tmp/flurm-munge/munge.socket\n"
        "SlurmUser=root\n"
        "SlurmdUser=root\n"
        "ProctrackType=proctrack/pgid\n"
        "TaskPlugin=task/none\n"
        "SelectType=select/cons_tres\n"
        "SelectTypeParameters=CR_Core\n"
        "SchedulerType=sched/backfill\n"
        "JobAcctGatherType=jobacct_gather/none\n"
        "AccountingStorageType=accounting_storage/none\n"
        "JobCompType=jobcomp/none\n"
        "MpiDefault=none\n"
        "MailProg=/bin/true\n"
        "ReturnToService=2\n"
        "# fake nodes report the host's real hardware; trust the config instead\n"
        "SlurmdParameters=config_overrides\n"
        "MaxJobCount=50000\n"
        "# srun listens only in this range (lets capture.sh filter srun<->slurmd/slurmctld traffic)\n"
        "SrunPortRange=61001-61500\n"
        "# purge finished/cancelled jobs quickly (purge runs every max(10,MinJobAge) s)\n"
        "MinJobAge=2\n"
        "StateSaveLocation=/tmp/slurm-peer/state\n"
        "SlurmdSpoolDir=/tmp/slurm-peer/spool/%n\n"
        "SlurmctldPidFile=/tmp/slurm-peer/run/slurmctld.pid\n"
        "SlurmdPidFile=/tmp/slurm-peer/run/slurmd-%n.pid\n"
        "SlurmctldLogFile=/tmp/slurm-peer/log/slurmctld.log\n"
        "SlurmdLogFile=/tmp/slurm-peer/log/slurmd-%n.log\n"
        "SlurmctldDebug=info\n"
        "SlurmdDebug=info\n"
        "NodeName=n1 NodeHostname=buildhost NodeAddr=127.0.0.1 Port=6818 CPUs=2 RealMemory=1000 State=UNKNOWN\n"
        "NodeName=n2 NodeHostname=buildhost NodeAddr=127.0.0.1 Port=6819 CPUs=2 RealMemory=1000 State=UNKNOWN\n"
        "NodeName=n3 NodeHostname=buildhost NodeAddr=127.0.0.1 Port=6820 CPUs=2 RealMemory=1000 State=UNKNOWN\n"
        "NodeName=n4 NodeHostname=buildhost NodeAddr=127.0.0.1 Port=6821 CPUs=2 RealMemory=1000 State=UNKNOWN\n"
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n"
        "# extra lines from SLURM_PEER_EXTRA_CONF\n"
        "TreeWidth=2\n";
    captured_t cap = { .n = 0 };
    flurm_log_set_sink(capture_sink, &cap);
    flurm_conf_t *c = parse_ok(peer);
    flurm_log_set_sink(NULL, NULL);
    assert_int_equal(cap.n, 0);   /* every key is a real SLURM key: no warnings */
    assert_string_equal(c->cluster_name, "peer");
    assert_string_equal(c->controllers[0].name, "buildhost");
    assert_string_equal(c->controllers[0].addr, "127.0.0.1");
    assert_string_equal(c->auth_socket, "/tmp/flurm-munge/munge.socket");
    assert_int_equal(c->return_to_service, 2);
    assert_int_equal(c->max_job_count, 50000);
    assert_int_equal(c->min_job_age, 2);
    assert_string_equal(c->slurmd_spool_dir, "/tmp/slurm-peer/spool/%n");
    assert_int_equal(c->node_count, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c->nodes[i].port, 6818 + i);
        assert_string_equal(c->nodes[i].addr, "127.0.0.1");
        assert_string_equal(c->nodes[i].hostname, "buildhost");
        assert_int_equal(c->nodes[i].cpus, 2);
        assert_int_equal(c->nodes[i].sockets, 2);
        assert_int_equal(c->nodes[i].real_memory, 1000);
    }
    assert_int_equal(c->partitions[0].node_count, 4);
    assert_true(c->partitions[0].is_default);
    assert_int_equal(c->partitions[0].max_time, FLURM_INFINITE);
    assert_string_equal(flurm_conf_get(c, "SrunPortRange"), "61001-61500");
    flurm_conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_single_node_addr_serves_the_whole_range),
        cmocka_unit_test(test_conf_ctld_param_reads_flurm_options_from_slurmctld_parameters),
        cmocka_unit_test(test_conf_realistic_cluster_with_include_and_defaults),
        cmocka_unit_test(test_conf_every_global_key_is_read),
        cmocka_unit_test(test_conf_defaults_match_slurm),
        cmocka_unit_test(test_conf_node_fields_and_topology_inference),
        cmocka_unit_test(test_conf_partition_options),
        cmocka_unit_test(test_conf_syntax_comments_quotes_continuations_case),
        cmocka_unit_test(test_conf_errors_name_file_and_line),
        cmocka_unit_test(test_conf_load_errors_for_files_and_includes),
        cmocka_unit_test(test_conf_include_nested_and_glob),
        cmocka_unit_test(test_conf_unknown_key_warns_once_and_is_kept),
        cmocka_unit_test(test_conf_time_str2mins_formats),
        cmocka_unit_test(test_conf_node_index_on_10k_nodes),
        cmocka_unit_test(test_conf_legacy_control_machine),
        cmocka_unit_test(test_conf_allow_groups_resolve_to_uids),
        cmocka_unit_test(test_conf_preempt_mode_global_and_per_partition),
        cmocka_unit_test(test_conf_private_data),
        cmocka_unit_test(test_conf_parses_slurm_peer_generated_config),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
