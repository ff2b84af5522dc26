/* bin/flurmctld/main.c — flurmctld: a SLURM 22.05-compatible controller.
 *
 *   flurmctld [-D] [-f slurm.conf] [-n NAME] [-v...] [-c]
 *
 * Every SlurmctldHost line is a member of one Raft cluster; this process is the member named
 * NAME (default: this host's short name, or the only line). Start = recover: load the newest
 * snapshot from StateSaveLocation, open the log after it, join the others, then serve. Every
 * acknowledged change is in the log of a majority of the members (fsync'd) before its reply
 * leaves. */
#include "ctl.h"
#include "adminsrv.h"
#include "alloc.h"
#include "commit.h"
#include "nodesrv.h"
#include "peers.h"

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
    fprintf(f, "usage: flurmctld [-D] [-f slurm.conf] [-n NAME] [-v...] [-c] [-V]\n"
               "  -D   run in the foreground (the only mode; accepted for slurmctld compatibility)\n"
               "  -f   configuration file (default: $SLURM_CONF, else /etc/slurm/slurm.conf)\n"
               "  -n   the SlurmctldHost this process is (default: this host's short name)\n"
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
    commit_maybe_snapshot(ctl);
    /* Housekeeping decides things (time limits, silent nodes, purges, starts): the leader's
     * business; its decisions are commands every member applies. */
    if (!commit_ready(ctl))
        return;
    flurm_state_schedule(ctl->state, now);

    /* Node daemons: expired long polls, nodes silent for SlurmdTimeout. */
    nodesrv_tick(ctl);
    alloc_tick(ctl);
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
}

static void on_leader_changed(ctl_t *ctl, bool ready)
{
    nodesrv_leader_changed(ctl, ready);
    if (ready)
        ctl_schedule_soon(ctl);   /* a new leader recomputes what the scheduler derives */
}

/* This process among the SlurmctldHost lines: NAME, else this host's short name, else the only
 * line. */
static int find_self(ctl_t *ctl, const char *name)
{
    const flurm_conf_t *c = ctl->conf;
    char host[256] = "";
    if (!name) {
        gethostname(host, sizeof host - 1);
        char *dot = strchr(host, '.');
        if (dot)
            *dot = '\0';
    }
    for (size_t i = 0; i < c->controller_count; i++) {
        if (strcmp(c->controllers[i].name, name ? name : host) == 0) {
            ctl->self = &c->controllers[i];
            ctl->self_id = i + 1;
        }
    }
    if (!ctl->self && !name && c->controller_count == 1) {
        ctl->self = &c->controllers[0];
        ctl->self_id = 1;
    }
    if (!ctl->self) {
        flurm_error("%s is not a SlurmctldHost of %s (flurmctld -n NAME says which one this is)",
                    name ? name : host, ctl->conf_path);
        return -1;
    }
    ctl->bind_addr = c->controller_count > 1 ? ctl->self->addr : NULL;
    return 0;
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
    /* As scontrol reconfigure: through the log, so that every member switches at once. */
    if (!commit_ready(&g_ctl)) {
        flurm_warn("SIGHUP: only the leader reconfigures (every member follows it): "
                   "signal the leader or run scontrol reconfigure");
        return;
    }
    commit_internal(&g_ctl, FLURM_CMD_RECONFIGURE, NULL, 0, NULL, NULL);
}

/* FLURMCTLD_FAULT (ctl.h): 0, or -1 for a name that is no fault (logged). */
static int set_faults(ctl_t *ctl, const char *list)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    for (char *save = NULL, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (strcmp(f, "drop-forward-replies") == 0)
            ctl->fault_drop_forward_replies = true;
        else if (strcmp(f, "drop-launches") == 0)
            ctl->fault_drop_launches = true;
        else {
            flurm_error("FLURMCTLD_FAULT: no fault named '%s' (drop-forward-replies, drop-launches)", f);
            return -1;
        }
        flurm_warn("FLURMCTLD_FAULT: %s (failover tests only)", f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf_path = getenv("SLURM_CONF");
    int verbose = 0, opt;
    bool clear = false;
    const char *self_name = NULL;
    while ((opt = getopt(argc, argv, "Df:n:vcVh")) != -1) {
        switch (opt) {
        case 'D': break;
        case 'f': conf_path = optarg; break;
        case 'n': self_name = optarg; break;
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
    if (set_faults(ctl, getenv("FLURMCTLD_FAULT")) != 0)
        return 2;
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
    if (find_self(ctl, self_name) != 0)
        return 1;
    /* Members may share a machine (and a StateSaveLocation): each keeps its own log. */
    char dbdir[4096];
    if (ctl->conf->controller_count > 1)
        snprintf(dbdir, sizeof dbdir, "%s/flurmctld-%s.db", dir, ctl->self->name);
    else
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
    static const commit_hooks_t hooks = { .effects = nodesrv_effects, .batch_applied = ctl_schedule_soon,
                                          .leader_changed = on_leader_changed,
                                          .routing_changed = server_leader_changed,
                                          .reconfigure = ctl_reconfigure_now };
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
    if (server_listen(ctl) != 0 || nodesrv_start(ctl) != 0 || peers_start(ctl) != 0 ||
        adminsrv_start(ctl) != 0)
        return 1;
    commit_start(ctl);

    ev_signal_init(&ctl->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&ctl->sigint, on_stop_signal, SIGINT);
    ev_signal_init(&ctl->sighup, on_sighup, SIGHUP);
    ev_signal_start(ctl->loop, &ctl->sigterm);
    ev_signal_start(ctl->loop, &ctl->sigint);
    ev_signal_start(ctl->loop, &ctl->sighup);
    ev_timer_init(&ctl->tick, on_tick, 0.2, TICK_S);
    ctl->tick.data = ctl;
    ev_timer_start(ctl->loop, &ctl->tick);

    flurm_info("flurmctld %s ready: cluster %s, member %s of %zu, %zu node(s), %zu partition(s), "
               "%d worker thread(s)",
               flurm_version(), ctl->conf->cluster_name, ctl->self->name, ctl->conf->controller_count,
               ctl->conf->node_count, ctl->conf->partition_count, nworkers);
    ev_run(ctl->loop, 0);

    /* Orderly stop: finish what is committing, then flush. */
    double stop_by = ev_time() + 5.0;   /* a leader without its majority waits no longer */
    while (commit_busy(ctl) && ev_time() < stop_by)
        ev_run(ctl->loop, EVRUN_ONCE);
    alloc_stop(ctl);
    pool_stop(ctl->workers);   /* handshakes in flight answer through nodesrv's contexts */
    peers_stop(ctl);
    adminsrv_stop(ctl);
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
