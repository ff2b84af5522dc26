/* bin/flurmctld/main.c — flurmctld: a SLURM 22.05-compatible controller.
 *
 *   flurmctld [-D] [-f slurm.conf] [-v...] [-c]
 *
 * Start = recover: load the newest snapshot from StateSaveLocation, replay the command log after
 * it, then serve. Every acknowledged change is in that log (fsync'd) before its reply leaves. */
#include "ctl.h"
#include "commit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/sched_plugin.h>

#define TICK_S 1.0

static ctl_t g_ctl;

static void usage(FILE *f)
{
    fprintf(f, "usage: flurmctld [-D] [-f slurm.conf] [-v...] [-c] [-V]\n"
               "  -D   run in the foreground (the only mode; accepted for slurmctld compatibility)\n"
               "  -f   configuration file (default: $SLURM_CONF, else /etc/slurm/slurm.conf)\n"
               "  -v   more log output (repeat for more)\n"
               "  -c   clear saved state: start with no jobs (the log and snapshot are deleted)\n"
               "  -V   print the version and exit\n");
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_t *ctl = w->data;
    time_t now = (time_t)ev_now(ctl->loop);
    flurm_state_schedule(ctl->state, now);

    /* Node daemons: expired long polls, nodes silent for SlurmdTimeout. */
    nodesrv_tick(ctl);
    ctl_schedule(ctl);
    const flurm_conf_t *c = ctl->conf;

    /* Finished jobs leave after MinJobAge. */
    flurm_buf_t ids;
    flurm_buf_init(&ids);
    uint32_t n = 0;
    flurm_pack32(&ids, 0);
    for (size_t i = 0; i < flurm_state_job_slots(ctl->state) && n < 10000; i++) {
        const flurm_job_t *j = flurm_state_job_at(ctl->state, i);
        if (j && (j->job_state & 0xFF) >= FLURM_JOB_COMPLETE && !j->nodes &&
            now - j->end_time >= (time_t)c->min_job_age) {
            flurm_pack32(&ids, j->job_id);
            n++;
        }
    }
    flurm_pack32_at(&ids, 0, n);
    if (n && !ids.err)
        commit_internal(ctl, FLURM_CMD_PURGE_JOBS, ids.data, ids.size, NULL, NULL);
    flurm_buf_release(&ids);

    commit_maybe_snapshot(ctl);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    flurm_info("signal %d: shutting down", w->signum);
    g_ctl.shutting_down = true;
    server_close_listeners(&g_ctl);
    ev_break(loop, EVBREAK_ALL);
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    char *err = NULL;
    if (ctl_reconfigure(&g_ctl, &err) != 0) {
        flurm_error("reconfigure failed, keeping the running configuration: %s", err ? err : "?");
        free(err);
    }
}

int main(int argc, char **argv)
{
    const char *conf_path = getenv("SLURM_CONF");
    int verbose = 0, opt;
    bool clear = false;
    while ((opt = getopt(argc, argv, "Df:vcVh")) != -1) {
        switch (opt) {
        case 'D': break;
        case 'f': conf_path = optarg; break;
        case 'v': verbose++; break;
        case 'c': clear = true; break;
        case 'V': printf("flurmctld %s (SLURM 22.05 protocol)\n", flurm_version()); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!conf_path)
        conf_path = "/etc/slurm/slurm.conf";
    flurm_log_set_ident("flurmctld");
    flurm_log_set_level((flurm_log_level_t)(FLURM_LOG_INFO + verbose > FLURM_LOG_TRACE
                                                ? FLURM_LOG_TRACE : FLURM_LOG_INFO + verbose));
    signal(SIGPIPE, SIG_IGN);
    /* A write beyond RLIMIT_FSIZE must fail with EFBIG (answered as a storage error), not kill us. */
    signal(SIGXFSZ, SIG_IGN);

    ctl_t *ctl = &g_ctl;
    ctl->conf_path = conf_path;
    char *err = NULL;
    if (flurm_conf_load(conf_path, &ctl->conf, &err) != FLURM_OK) {
        flurm_error("%s", err ? err : "cannot load configuration");
        return 1;
    }
    if (getuid() != ctl->conf->slurm_user_id)
        flurm_warn("running as uid %u but SlurmUser is uid %u: scontrol ping/shutdown credentials "
                   "are restricted to SlurmUser and will not decode here",
                   (unsigned)getuid(), (unsigned)ctl->conf->slurm_user_id);
    const char *dir = ctl->conf->state_save_location;
    if (!dir || !*dir) {
        flurm_error("StateSaveLocation is not set in %s", conf_path);
        return 1;
    }
    char dbdir[4096];
    snprintf(dbdir, sizeof dbdir, "%s/flurmctld.db", dir);
    if (clear) {
        flurm_warn("-c: clearing saved state in %s", dbdir);
        if (flurm_store_destroy(dbdir) != FLURM_OK)
            flurm_warn("could not remove %s", dbdir);
    }
    if (flurm_store_open(dbdir, &ctl->store) != FLURM_OK) {
        flurm_error("cannot open the state store in %s", dbdir);
        return 1;
    }
    ctl->state = flurm_state_new(ctl->conf);
    static const commit_hooks_t hooks = { .effects = nodesrv_effects, .batch_applied = ctl_schedule_soon };
    if (!ctl->state || commit_recover(ctl, &hooks) != FLURM_OK)
        return 1;
    /* SchedulerType: sched/backfill and sched/builtin are built in; sched/<name> is
     * PluginDir/sched_<name>.so. A scheduler that cannot be loaded is a configuration error. */
    if (flurm_sched_plugin_load_params(ctl->conf->plugin_dir, ctl->conf->scheduler_type,
                                       ctl->conf->scheduler_parameters, &ctl->sched, &err) != FLURM_OK) {
        flurm_error("SchedulerType=%s: %s", ctl->conf->scheduler_type, err ? err : "cannot load");
        free(err);
        return 1;
    }
    flurm_state_set_scheduler(ctl->state, ctl->sched);
    flurm_info("scheduler: %s", flurm_sched_host_name(ctl->sched));
    ctl->auth = flurm_auth_new(ctl->conf->auth_socket, ctl->conf->auth_ttl);
    if (!ctl->auth)
        return 1;

    ctl->loop = EV_DEFAULT;
    ctl->start_time = (time_t)ev_now(ctl->loop);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* munged round trips are latency, not CPU: more threads than cores keeps munged busy. */
    int nworkers = (int)(ncpu > 0 ? ncpu * 4 : 8);
    ctl->workers = pool_start(ctl->loop, nworkers);
    ctl->committer = pool_start(ctl->loop, 1);
    if (!ctl->workers || !ctl->committer)
        return 1;
    if (server_listen(ctl) != 0 || nodesrv_start(ctl) != 0)
        return 1;

    ev_signal_init(&ctl->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&ctl->sigint, on_stop_signal, SIGINT);
    ev_signal_init(&ctl->sighup, on_sighup, SIGHUP);
    ev_signal_start(ctl->loop, &ctl->sigterm);
    ev_signal_start(ctl->loop, &ctl->sigint);
    ev_signal_start(ctl->loop, &ctl->sighup);
    ev_timer_init(&ctl->tick, on_tick, 0.2, TICK_S);
    ctl->tick.data = ctl;
    ev_timer_start(ctl->loop, &ctl->tick);

    flurm_info("flurmctld %s ready: cluster %s, %zu node(s), %zu partition(s), %d worker thread(s)",
               flurm_version(), ctl->conf->cluster_name, ctl->conf->node_count,
               ctl->conf->partition_count, nworkers);
    ev_run(ctl->loop, 0);

    /* Orderly stop: finish what is committing, then flush. */
    while (commit_busy(ctl))
        ev_run(ctl->loop, EVRUN_ONCE);
    pool_stop(ctl->workers);   /* handshakes in flight answer through nodesrv's contexts */
    nodesrv_stop(ctl);
    rpc_cleanup();
    pool_stop(ctl->committer);
    commit_shutdown(ctl);
    flurm_auth_free(ctl->auth);
    flurm_state_free(ctl->state);
    flurm_sched_host_free(ctl->sched);
    flurm_store_close(ctl->store);
    flurm_conf_free(ctl->conf);
    flurm_info("stopped");
    return 0;
}
