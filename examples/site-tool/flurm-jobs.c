/* flurm-jobs.c — an example site tool built out of tree against an installed libflurm.
 *
 *   flurm-jobs [-f slurm.conf] [-s CPUS[,CPUS...]] [-P PLUGINDIR]
 *
 * Prints the library version, the cluster's nodes and partitions from slurm.conf (hostlists
 * compressed the SLURM way). With -s it also simulates one scheduling cycle: one pending job
 * per CPUS value (ids 1, 2, ... in the default partition, submitted in that order, one node
 * and 10 minutes each) on idle nodes, through the scheduler named by SchedulerType (a plugin is looked up in
 * -P, else PluginDir, else libflurm's default), and prints which jobs would start where. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <flurm/flurm.h>

static char *compress_nodes(const flurm_conf_t *conf, const uint32_t *idx, size_t n)
{
    flurm_hostlist_t *hl = flurm_hostlist_new();
    char *s = NULL;
    if (!hl)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (flurm_hostlist_push_host(hl, conf->nodes[idx ? idx[i] : i].name))
            goto out;
    s = flurm_hostlist_compress(hl);
out:
    flurm_hostlist_free(hl);
    return s;
}

static int show_conf(const flurm_conf_t *conf)
{
    printf("cluster %s controller %s scheduler %s\n", conf->cluster_name, conf->controllers[0].name,
           conf->scheduler_type);
    char *all = compress_nodes(conf, NULL, conf->node_count);
    if (!all)
        return 1;
    uint64_t cpus = 0;
    for (size_t i = 0; i < conf->node_count; i++)
        cpus += conf->nodes[i].cpus;
    printf("nodes %zu %s cpus %llu\n", conf->node_count, all, (unsigned long long)cpus);
    free(all);
    for (size_t p = 0; p < conf->partition_count; p++) {
        const flurm_conf_partition_t *pt = &conf->partitions[p];
        char *hl = compress_nodes(conf, pt->node_idx, pt->node_count);
        if (!hl)
            return 1;
        char limit[32];
        if (pt->max_time == FLURM_INFINITE)
            snprintf(limit, sizeof limit, "UNLIMITED");
        else
            snprintf(limit, sizeof limit, "%umin", (unsigned)pt->max_time);
        printf("partition %s%s nodes %zu %s maxtime %s\n", pt->name, pt->is_default ? "*" : "", pt->node_count,
               hl, limit);
        free(hl);
    }
    return 0;
}

/* One scheduling cycle over idle nodes with one pending job per entry of SIZES. */
static int simulate(const flurm_conf_t *conf, const char *sizes, const char *plugin_dir)
{
    size_t part = 0;
    for (size_t p = 0; p < conf->partition_count; p++)
        if (conf->partitions[p].is_default)
            part = p;
    if (!conf->partition_count) {
        fprintf(stderr, "flurm-jobs: no partition\n");
        return 1;
    }
    const flurm_conf_partition_t *cp = &conf->partitions[part];
    flurm_sched_node_t *nodes = calloc(conf->node_count + 1, sizeof *nodes);
    flurm_sched_job_t *jobs = calloc(strlen(sizes) + 1, sizeof *jobs);
    uint32_t *pnodes = calloc(cp->node_count + 1, sizeof *pnodes);
    flurm_sched_host_t *h = NULL;
    int ret = 1;
    if (!nodes || !jobs || !pnodes)
        goto out;
    for (size_t i = 0; i < conf->node_count; i++)
        nodes[i] = (flurm_sched_node_t){ .name = conf->nodes[i].name, .cpus = conf->nodes[i].cpus,
                                         .real_memory = conf->nodes[i].real_memory,
                                         .weight = conf->nodes[i].weight, .usable = true };
    for (size_t i = 0; i < cp->node_count; i++)
        pnodes[i] = cp->node_idx[i];
    flurm_sched_part_t sp = { .name = cp->name, .nodes = pnodes, .nnodes = (uint32_t)cp->node_count,
                              .max_time = cp->max_time, .priority_tier = cp->priority_tier, .max_share = 1 };
    uint32_t njobs = 0;
    const int64_t now = 1700000000;
    for (const char *s = sizes; *s;) {
        char *end;
        unsigned long c = strtoul(s, &end, 10);
        if (end == s || c == 0 || (*end && *end != ',')) {
            fprintf(stderr, "flurm-jobs: -s wants CPUS[,CPUS...], got '%s'\n", sizes);
            goto out;
        }
        jobs[njobs] = (flurm_sched_job_t){ .job_id = njobs + 1, .priority = 100, .submit_time = now - 60 + njobs,
                                           .min_nodes = 1, .ntasks = (uint32_t)c, .time_limit = 10,
                                           .dependency_ok = true };
        njobs++;
        s = *end ? end + 1 : end;
    }
    flurm_sched_input_t in = { .nodes = nodes, .nnodes = (uint32_t)conf->node_count, .parts = &sp, .nparts = 1,
                               .jobs = jobs, .njobs = njobs, .params = { .now = now, .backfill = true } };

    char *err = NULL;
    int rc = flurm_sched_plugin_load_params(plugin_dir ? plugin_dir : conf->plugin_dir, conf->scheduler_type,
                                            conf->scheduler_parameters, &h, &err);
    if (rc) {
        fprintf(stderr, "flurm-jobs: %s\n", err ? err : flurm_strerror(rc));
        free(err);
        goto out;
    }
    flurm_sched_output_t res;
    rc = flurm_sched_host_run(h, &in, &res);
    if (rc) {
        fprintf(stderr, "flurm-jobs: scheduling failed: %s\n", flurm_strerror(rc));
        goto out;
    }
    printf("scheduler %s\n", flurm_sched_host_name(h));
    for (uint32_t i = 0; i < res.nstarts; i++) {
        const flurm_sched_start_t *st = &res.starts[i];
        char *hl = compress_nodes(conf, st->nodes, st->nnodes);
        printf("start job %u cpus %u on %s%s\n", st->job_id, jobs[st->job_index].ntasks, hl ? hl : "?",
               st->backfill ? " (backfill)" : "");
        free(hl);
    }
    for (uint32_t i = 0; i < res.njobs; i++)
        if (res.jobs[i].reason != FLURM_SCHED_WAIT_NO_REASON)
            printf("pending job %u cpus %u reason %s\n", res.jobs[i].job_id, jobs[i].ntasks,
                   flurm_sched_reason_str(res.jobs[i].reason));
    flurm_sched_output_free(&res);
    ret = 0;
out:
    flurm_sched_host_free(h);
    free(nodes);
    free(jobs);
    free(pnodes);
    return ret;
}

int main(int argc, char **argv)
{
    const char *path = getenv("SLURM_CONF") ? getenv("SLURM_CONF") : "/etc/slurm/slurm.conf";
    const char *sizes = NULL, *plugin_dir = NULL;
    int c;
    while ((c = getopt(argc, argv, "f:s:P:h")) != -1) {
        switch (c) {
        case 'f': path = optarg; break;
        case 's': sizes = optarg; break;
        case 'P': plugin_dir = optarg; break;
        default:
            fprintf(stderr, "usage: flurm-jobs [-f slurm.conf] [-s CPUS[,CPUS...]] [-P PLUGINDIR]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    printf("libflurm %s (built against %s)\n", flurm_version(), FLURM_VERSION_STRING);
    flurm_conf_t *conf = NULL;
    char *err = NULL;
    int rc = flurm_conf_load(path, &conf, &err);
    if (rc) {
        fprintf(stderr, "flurm-jobs: %s\n", err ? err : flurm_strerror(rc));
        free(err);
        return 1;
    }
    int ret = show_conf(conf);
    if (!ret && sizes)
        ret = simulate(conf, sizes, plugin_dir);
    flurm_conf_free(conf);
    return ret;
}
