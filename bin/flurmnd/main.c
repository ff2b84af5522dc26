/* bin/flurmnd/main.c — flurmnd: the FLURM compute-node daemon (slurmd's role).
 *
 *   flurmnd [-D] [-f slurm.conf] [-N nodename] [-v...] [-V]
 *
 * flurmnd listens on nothing: it dials the controller (proto/node.proto), so several flurmnd
 * with different -N can share a machine (each has its own SlurmdSpoolDir via %n).
 *
 * Environment:
 *   FLURMND_CONTROLLER   tcp://host:port, overrides SlurmctldHost + the controller's node port
 *                        (SlurmctldParameters=flurm_node_port=N, default 6819): that one
 *                        controller only (no leader following)
 *
 * With several SlurmctldHost lines flurmnd follows the Raft leader among them (client.c).
 *   FLURMND_TIME_SCALE   TEST KNOB: seconds per minute of time limit (default 60)
 *
 * SIGTERM/SIGINT stop flurmnd; jobs keep running under their supervisors and are re-attached by
 * the next flurmnd (as slurmd leaves its slurmstepds running). */
#include "flurmnd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <flurm/log.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: flurmnd [-D] [-f slurm.conf] [-N nodename] [-v...] [-V]\n"
               "  -D   run in the foreground (the only mode; accepted for slurmd compatibility)\n"
               "  -f   configuration file (default: $SLURM_CONF, else /etc/slurm/slurm.conf)\n"
               "  -N   this node's NodeName (default: hostname -s)\n"
               "  -v   more log output (repeat for more)\n"
               "  -V   print the version and exit\n");
}

/* PATTERN with %n = node name and %h = host name (SLURM read_config.c slurm_conf_expand_slurmd_path). */
static int expand_spool(char *out, size_t size, const char *pattern, const char *node, const char *host)
{
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        const char *ins = NULL;
        char one[2] = { *p, 0 };
        if (p[0] == '%' && p[1] == 'n')
            ins = node;
        else if (p[0] == '%' && p[1] == 'h')
            ins = host;
        if (ins)
            p++;
        else
            ins = one;
        size_t l = strlen(ins);
        if (o + l + 1 > size)
            return FLURM_ENOSPC;
        memcpy(out + o, ins, l);
        o += l;
    }
    out[o] = '\0';
    return FLURM_OK;
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    flurm_info("caught signal %d: stopping (jobs keep running)", w->signum);
    ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
    const char *conf_path = getenv("SLURM_CONF") ? getenv("SLURM_CONF") : "/etc/slurm/slurm.conf";
    const char *node_opt = NULL;
    int verbose = 0, opt;
    while ((opt = getopt(argc, argv, "Df:N:vVh")) != -1) {
        switch (opt) {
        case 'D': break;
        case 'f': conf_path = optarg; break;
        case 'N': node_opt = optarg; break;
        case 'v': verbose++; break;
        case 'V': printf("flurmnd %s\n", FLURM_VERSION_STRING); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    umask(022);   /* spool directories must let a job's user reach its script */
    flurm_log_set_ident("flurmnd");
    flurm_log_set_level(verbose >= 3 ? FLURM_LOG_TRACE : (flurm_log_level_t)(FLURM_LOG_INFO + verbose));

    nd_t nd = { 0 };
    char *errmsg = NULL;
    int rc = flurm_conf_load(conf_path, &nd.conf, &errmsg);
    if (rc != FLURM_OK) {
        flurm_error("%s", errmsg ? errmsg : flurm_strerror(rc));
        free(errmsg);
        return 1;
    }
    nd_hw_detect(&nd.hw, flurm_conf_get(nd.conf, "TmpFS"));
    nd.node_name = node_opt ? node_opt : nd.hw.hostname;
    ssize_t idx = flurm_conf_node_index(nd.conf, nd.node_name);
    if (idx < 0) {
        flurm_error("node name '%s' is not a NodeName in %s (use -N)", nd.node_name, conf_path);
        flurm_conf_free(nd.conf);
        return 1;
    }
    nd.node = &nd.conf->nodes[idx];
    nd_hw_apply_conf(&nd.hw, nd.node);

    const char *env_url = getenv("FLURMND_CONTROLLER");
    /* The node port rides in SlurmctldParameters: the SLURM clients reject unknown keys. */
    if (flurm_conf_ctld_param(nd.conf, "flurm_node_port", nd.node_port, sizeof nd.node_port) != FLURM_OK)
        snprintf(nd.node_port, sizeof nd.node_port, "%d", ND_DEFAULT_PORT);
    if (env_url && env_url[0]) {
        snprintf(nd.url, sizeof nd.url, "%s", env_url);
        nd.fixed_url = true;
    } else {
        const char *addr = nd.conf->controllers[0].addr;
        snprintf(nd.url, sizeof nd.url, strchr(addr, ':') ? "tcp://[%s]:%s" : "tcp://%s:%s", addr,
                 nd.node_port);
    }
    nd.secs_per_min = 60;
    const char *scale = getenv("FLURMND_TIME_SCALE");
    if (scale && scale[0]) {
        char *end;
        double s = strtod(scale, &end);
        if (*end || !(s > 0)) {
            flurm_error("FLURMND_TIME_SCALE=%s: expected seconds per minute (> 0)", scale);
            flurm_conf_free(nd.conf);
            return 1;
        }
        nd.secs_per_min = s;
        flurm_warn("FLURMND_TIME_SCALE=%s: a minute of time limit lasts %g s (test setting)", scale, s);
    }
    nd.prolog = flurm_conf_get(nd.conf, "Prolog");
    nd.epilog = flurm_conf_get(nd.conf, "Epilog");
    nd.kill_wait = nd.conf->kill_wait;
    if (expand_spool(nd.spool, sizeof nd.spool, nd.conf->slurmd_spool_dir, nd.node_name, nd.hw.hostname) !=
            FLURM_OK ||
        nd_spool_mkdirs(nd.spool) != FLURM_OK) {
        flurm_error("cannot create the spool directory %s: %s", nd.spool, strerror(errno));
        flurm_conf_free(nd.conf);
        return 1;
    }
    char lock_path[4200];
    snprintf(lock_path, sizeof lock_path, "%s/flurmnd.lock", nd.spool);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        flurm_error("another flurmnd uses %s (node %s)", nd.spool, nd.node_name);
        flurm_conf_free(nd.conf);
        return 1;
    }
    if (geteuid() != 0)
        flurm_warn("not running as root: every job runs as uid %u, whichever user submitted it",
                   (unsigned)geteuid());
    if (getrandom(&nd.boot_id, sizeof nd.boot_id, 0) != sizeof nd.boot_id)
        nd.boot_id = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    nd.start_time = time(NULL);
    signal(SIGPIPE, SIG_IGN);

    nd.loop = ev_default_loop(EVFLAG_AUTO);
    ev_signal sigterm, sigint;
    ev_signal_init(&sigterm, stop_cb, SIGTERM);
    ev_signal_init(&sigint, stop_cb, SIGINT);
    ev_signal_start(nd.loop, &sigterm);
    ev_signal_start(nd.loop, &sigint);

    nd_jobs_recover(&nd);
    flurm_info("node %s: %u CPUs, %llu MB; spool %s; controller %s%s", nd.node_name, nd.hw.cpus,
               (unsigned long long)nd.hw.real_memory_mb, nd.spool, nd.url,
               !nd.fixed_url && nd.conf->controller_count > 1 ? " (first of several: following the leader)"
                                                               : "");
    if (nd_client_start(&nd) != FLURM_OK) {
        nd_jobs_free_all(&nd);
        flurm_conf_free(nd.conf);
        return 1;
    }
    ev_run(nd.loop, 0);

    nd_client_stop(&nd);
    nd_jobs_free_all(&nd);
    flurm_conf_free(nd.conf);
    close(lock_fd);
    return 0;
}
