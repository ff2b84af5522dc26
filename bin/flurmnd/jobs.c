/* bin/flurmnd/jobs.c — the job table: launch, signals, limits, end states, restart recovery.
 *
 * Spool layout, SlurmdSpoolDir/job<N>/ (see spool.c for the atomic writes):
 *   script   the batch script, 0700, owned by the job's user (it executes it)
 *   state    flurmnd's record (nd_state_t); exists before the supervisor may start the script
 *   started  written by the supervisor once the script runs (pid = process group)
 *   exit     written by the supervisor when the job is over
 * Only the script is the user's: the others are root's, 0600. The directory is root's, 0710 with
 * the job's group (0700 when flurmnd is not root and jobs run as its own user): the job can
 * reach its script by name, but nobody else can list or read the directory, and the job cannot
 * add, replace or remove the records flurmnd trusts. (slurmd: 0750 root:gid, script 0700.)
 * The directory goes when the controller acknowledges the job's JobEnd (or the Register that
 * carried it). */
#include "flurmnd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <flurm/log.h>

static void job_changed(nd_t *nd)
{
    if (nd->job_changed)
        nd->job_changed(nd);
}

#define WATCH_INTERVAL_S 0.25

static void job_ended(nd_job_t *job);

nd_job_t *nd_jobs_find(nd_t *nd, uint32_t job_id)
{
    for (nd_job_t *j = nd->jobs; j; j = j->next)
        if (j->id == job_id)
            return j;
    return NULL;
}

static nd_job_t *job_new(nd_t *nd, uint32_t id)
{
    nd_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->nd = nd;
    job->id = id;
    job->ctl_fd = -1;
    job->st.job_id = id;
    job->st.time_limit_min = FLURM_INFINITE;
    snprintf(job->dir, sizeof job->dir, "%s/job%u", nd->spool, id);
    job->next = nd->jobs;
    nd->jobs = job;
    return job;
}

static void job_stop_watchers(nd_job_t *job)
{
    struct ev_loop *loop = job->nd->loop;
    ev_child_stop(loop, &job->child_w);
    ev_timer_stop(loop, &job->watch_w);
    ev_timer_stop(loop, &job->limit_w);
    ev_timer_stop(loop, &job->kill_w);
    if (job->ctl_fd >= 0) {
        ev_io_stop(loop, &job->ctl_w);
        close(job->ctl_fd);
        job->ctl_fd = -1;
    }
}

static void job_unlink(nd_t *nd, nd_job_t *job)
{
    for (nd_job_t **p = &nd->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            return;
        }
    }
}

void nd_jobs_forget(nd_t *nd, nd_job_t *job)
{
    job_stop_watchers(job);
    job_unlink(nd, job);
    if (nd_spool_remove_tree(job->dir) != FLURM_OK)
        flurm_warn("job %u: cannot remove %s: %s", job->id, job->dir, strerror(errno));
    free(job);
}

void nd_jobs_free_all(nd_t *nd)
{
    while (nd->jobs) {
        nd_job_t *job = nd->jobs;
        job_stop_watchers(job);
        nd->jobs = job->next;
        free(job);
    }
}

static void persist_state(nd_job_t *job)
{
    if (nd_spool_write_state(job->dir, &job->st) != FLURM_OK)
        flurm_error("job %u: cannot write %s/state: %s", job->id, job->dir, strerror(errno));
}

/* The job failed before its script could run; REASON says why. */
static void job_fail_early(nd_job_t *job, const char *reason)
{
    job_stop_watchers(job);
    job->phase = ND_JOB_ENDED;
    job->end_state = FLURM__NODE__JOB_END_STATE__JOB_END_FAILED;
    job->end_status = 0;
    job->end_start_time = job->st.ctld_start_time;
    job->end_time = time(NULL);
    job->end_rss_kb = 0;
    snprintf(job->end_reason, sizeof job->end_reason, "%s", reason);
    flurm_info("job %u failed: %s", job->id, reason);
    job_changed(job->nd);
}

/* ------------------------------------------------------------------ signals and limits */

static void signal_group(nd_job_t *job, int sig)
{
    if (!job->has_started || job->phase == ND_JOB_ENDED)
        return;
    if (kill(-job->started.pid, sig) != 0 && errno != ESRCH)
        flurm_warn("job %u: kill(-%ld, %d): %s", job->id, (long)job->started.pid, sig, strerror(errno));
}

static void kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    nd_job_t *job = w->data;
    flurm_verbose("job %u: KillWait over, SIGKILL", job->id);
    signal_group(job, SIGKILL);
}

/* Send the termination signals for the recorded cause (again, after a restart) and arm the
 * SIGKILL at cause_time + cause_kill_wait_s. */
static void apply_cause(nd_job_t *job)
{
    if (job->st.cause == ND_CAUSE_NONE || !job->has_started || job->phase == ND_JOB_ENDED)
        return;
    signal_group(job, SIGCONT);
    signal_group(job, SIGTERM);
    double at = (double)(job->st.cause_time + job->st.cause_kill_wait_s) - (double)time(NULL);
    ev_timer_stop(job->nd->loop, &job->kill_w);
    ev_timer_set(&job->kill_w, at > 0 ? at : 0, 0);
    ev_timer_start(job->nd->loop, &job->kill_w);
}

static void set_cause(nd_job_t *job, nd_cause_t cause, uint32_t kill_wait_s)
{
    if (job->st.cause != ND_CAUSE_NONE)
        return;
    job->st.cause = cause;
    job->st.cause_time = time(NULL);
    job->st.cause_kill_wait_s = kill_wait_s;
    persist_state(job);
    apply_cause(job);
}

static void limit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    nd_job_t *job = w->data;
    flurm_info("job %u: time limit (%u min) reached", job->id, job->st.time_limit_min);
    set_cause(job, ND_CAUSE_TIMEOUT, job->st.kill_wait_s);
}

static void arm_limit(nd_job_t *job)
{
    if (!job->has_started || job->st.time_limit_min == FLURM_INFINITE || job->st.time_limit_min == 0 ||
        job->st.cause != ND_CAUSE_NONE || job->st.suspended)
        return;
    double at = (double)job->started.start_time + job->st.time_limit_min * job->nd->secs_per_min +
                (double)job->st.suspended_secs - (double)time(NULL);
    ev_timer_set(&job->limit_w, at > 0 ? at : 0, 0);
    ev_timer_start(job->nd->loop, &job->limit_w);
}

void nd_jobs_signal(nd_t *nd, uint32_t job_id, int sig)
{
    nd_job_t *job = nd_jobs_find(nd, job_id);
    if (!job || !job->has_started || job->phase == ND_JOB_ENDED) {
        flurm_verbose("signal %d for job %u: not running here", sig, job_id);
        return;
    }
    if (sig <= 0 || sig >= NSIG) {
        flurm_warn("job %u: ignoring invalid signal %d", job_id, sig);
        return;
    }
    job->st.last_signal = sig;
    persist_state(job);
    flurm_verbose("job %u: signal %d", job_id, sig);
    signal_group(job, sig);
}

void nd_jobs_suspend(nd_t *nd, uint32_t job_id, bool suspend)
{
    nd_job_t *job = nd_jobs_find(nd, job_id);
    if (!job || !job->has_started || job->phase == ND_JOB_ENDED) {
        flurm_verbose("%s job %u: not running here", suspend ? "suspend" : "resume", job_id);
        return;
    }
    if (job->st.suspended == suspend) {
        /* A resume of a job not known as stopped (a spool from before suspensions were kept):
         * SIGCONT anyway, or it would stay stopped for good. */
        if (!suspend)
            signal_group(job, SIGCONT);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    job->st.suspended = suspend;
    if (suspend)
        job->st.suspended_at = now;
    else
        job->st.suspended_secs += now > job->st.suspended_at ? now - job->st.suspended_at : 0;
    persist_state(job);   /* a restarted flurmnd still knows it is stopped, and for how long */
    if (suspend) {
        ev_timer_stop(nd->loop, &job->limit_w);
        signal_group(job, SIGSTOP);
    } else {
        signal_group(job, SIGCONT);
        arm_limit(job);
    }
    flurm_info("job %u %s", job_id, suspend ? "suspended" : "resumed");
}

void nd_jobs_terminate(nd_t *nd, uint32_t job_id, nd_cause_t cause, uint32_t kill_wait_s)
{
    nd_job_t *job = nd_jobs_find(nd, job_id);
    if (!job || job->phase == ND_JOB_ENDED) {
        flurm_verbose("kill for job %u: not running here", job_id);
        return;
    }
    flurm_info("job %u: terminating (%s)", job_id,
               cause == ND_CAUSE_ORPHAN ? "unknown to the controller" : "cancelled");
    set_cause(job, cause, kill_wait_s);
}

/* ------------------------------------------------------------------ supervisor events */

/* `started` appeared: the script runs. */
static void job_running(nd_job_t *job)
{
    if (job->has_started || job->phase == ND_JOB_ENDED)
        return;
    if (nd_spool_read_started(job->dir, &job->started) != FLURM_OK)
        return;
    job->has_started = true;
    job->phase = ND_JOB_RUNNING;
    flurm_verbose("job %u: running, pid %ld", job->id, (long)job->started.pid);
    arm_limit(job);
    apply_cause(job);   /* a KillJob that came during the prolog */
    job_changed(job->nd);
}

static void ctl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    nd_job_t *job = w->data;
    char buf[16];
    ssize_t n = read(job->ctl_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == 'S')
            job_running(job);
    if (n <= 0) {   /* the supervisor is gone or done talking; its exit is seen by child_cb */
        ev_io_stop(loop, w);
        close(job->ctl_fd);
        job->ctl_fd = -1;
    }
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
    (void)revents;
    ev_child_stop(loop, w);
    job_ended(w->data);
}

static void watch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    nd_job_t *job = w->data;
    if (!job->has_started)
        job_running(job);
    /* `exit` is the supervisor's last word: the job is over even if the process lingers */
    char path[4300];
    snprintf(path, sizeof path, "%s/exit", job->dir);
    if (access(path, F_OK) == 0 || !nd_proc_alive(job->st.sup_pid, job->st.sup_start))
        job_ended(job);
}

static void job_init_watchers(nd_job_t *job)
{
    ev_timer_init(&job->watch_w, watch_cb, WATCH_INTERVAL_S, WATCH_INTERVAL_S);
    ev_timer_init(&job->limit_w, limit_cb, 0, 0);
    ev_timer_init(&job->kill_w, kill_cb, 0, 0);
    job->watch_w.data = job->limit_w.data = job->kill_w.data = job->ctl_w.data = job->child_w.data = job;
}

/* The supervisor is gone: decide the end state from its `exit` file and what flurmnd did. */
static void job_ended(nd_job_t *job)
{
    nd_t *nd = job->nd;
    if (job->phase == ND_JOB_ENDED)
        return;
    if (!job->has_started)
        job_running(job);   /* a `started` we have not seen yet */
    job_stop_watchers(job);
    nd_exit_t ex;
    int rc = nd_spool_read_exit(job->dir, &ex);
    if (rc != FLURM_OK) {
        memset(&ex, 0, sizeof ex);
        ex.end_time = time(NULL);
        snprintf(ex.reason, sizeof ex.reason, "job supervisor lost (no exit record)");
        if (job->has_started)
            kill(-job->started.pid, SIGKILL);
    }
    Flurm__Node__JobEndState state;
    if (ex.reason[0])
        state = FLURM__NODE__JOB_END_STATE__JOB_END_FAILED;
    else if (job->st.cause == ND_CAUSE_TIMEOUT)
        state = FLURM__NODE__JOB_END_STATE__JOB_END_TIMEOUT;
    else if (job->st.cause == ND_CAUSE_CANCEL || job->st.cause == ND_CAUSE_ORPHAN)
        state = FLURM__NODE__JOB_END_STATE__JOB_END_CANCELLED;
    else if (WIFSIGNALED(ex.wait_status) && job->st.last_signal == WTERMSIG(ex.wait_status))
        state = FLURM__NODE__JOB_END_STATE__JOB_END_CANCELLED;   /* scancel -s SIG: SLURM says CANCELLED */
    else if (ex.wait_status == 0)
        state = FLURM__NODE__JOB_END_STATE__JOB_END_COMPLETED;
    else
        state = FLURM__NODE__JOB_END_STATE__JOB_END_FAILED;
    job->phase = ND_JOB_ENDED;
    job->end_state = state;
    job->end_status = ex.wait_status;
    job->end_start_time = job->has_started ? job->started.start_time : job->st.ctld_start_time;
    job->end_time = ex.end_time;
    job->end_rss_kb = ex.max_rss_kb;
    snprintf(job->end_reason, sizeof job->end_reason, "%s", ex.reason);
    flurm_info("job %u ended: %s, wait status %d%s%s", job->id,
               protobuf_c_enum_descriptor_get_value(&flurm__node__job_end_state__descriptor, state)->name,
               ex.wait_status, ex.reason[0] ? ", " : "", ex.reason);
    if (job->st.cause == ND_CAUSE_ORPHAN) {
        nd_jobs_forget(nd, job);
        return;
    }
    job_changed(nd);
}

/* ------------------------------------------------------------------ launch */

void nd_jobs_launch(nd_t *nd, const Flurm__Node__LaunchJob *l)
{
    if (nd_jobs_find(nd, l->job_id)) {
        flurm_verbose("job %u: launch repeated, already here", l->job_id);
        return;
    }
    nd_job_t *job = job_new(nd, l->job_id);
    if (!job) {
        flurm_error("job %u: out of memory", l->job_id);
        return;
    }
    job_init_watchers(job);
    job->st.uid = l->uid;
    job->st.gid = l->gid;
    job->st.time_limit_min = l->time_limit_min;
    job->st.kill_wait_s = l->kill_wait_s;
    job->st.ctld_start_time = l->start_time;
    flurm_info("job %u: launching for %s (uid %u)", l->job_id, l->user_name, l->uid);

    char why[512];
    nd_spool_remove_tree(job->dir);   /* leftovers of an earlier job with this id */
    bool root = geteuid() == 0;
    if (mkdir(job->dir, 0700) != 0 || (root && chown(job->dir, 0, l->gid) != 0) ||
        chmod(job->dir, root ? 0710 : 0700) != 0) {
        snprintf(why, sizeof why, "cannot create the job directory: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    if (nd_spool_write_file(job->dir, "script", l->script, strlen(l->script), 0700) != FLURM_OK) {
        snprintf(why, sizeof why, "cannot write the batch script: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/script", job->dir);
    if (root && chown(path, l->uid, l->gid) != 0) {
        snprintf(why, sizeof why, "cannot chown the batch script: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    if (nd_spool_write_state(job->dir, &job->st) != FLURM_OK) {
        snprintf(why, sizeof why, "cannot write the job state: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(why, sizeof why, "socketpair: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    nd_sup_args_t args = { .job_dir = job->dir, .launch = l, .node_name = nd->node_name,
                           .prolog = nd->prolog, .epilog = nd->epilog, .ctl_fd = sv[1] };
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        snprintf(why, sizeof why, "fork: %s", strerror(errno));
        job_fail_early(job, why);
        return;
    }
    if (pid == 0) {
        close(sv[0]);
        nd_supervisor_main(&args);
    }
    close(sv[1]);
    job->is_child = true;
    job->ctl_fd = sv[0];
    job->st.sup_pid = pid;
    job->st.sup_start = nd_proc_start_time(pid);
    ev_child_init(&job->child_w, child_cb, pid, 0);
    job->child_w.data = job;
    ev_child_start(nd->loop, &job->child_w);
    if (nd_spool_write_state(job->dir, &job->st) != FLURM_OK) {
        /* Without a record naming the supervisor a restart could not find the job: do not
         * start it (the supervisor sees EOF instead of 'g' and records why). */
        flurm_error("job %u: cannot write the job state: %s", job->id, strerror(errno));
        close(job->ctl_fd);
        job->ctl_fd = -1;
        return;
    }
    fcntl(job->ctl_fd, F_SETFL, O_NONBLOCK);
    ev_io_init(&job->ctl_w, ctl_cb, job->ctl_fd, EV_READ);
    job->ctl_w.data = job;
    ev_io_start(nd->loop, &job->ctl_w);
    if (send(job->ctl_fd, "g", 1, MSG_NOSIGNAL) != 1)
        flurm_warn("job %u: supervisor %ld did not take the go: %s", job->id, (long)pid, strerror(errno));
}

/* ------------------------------------------------------------------ restart */

static void recover_one(nd_t *nd, uint32_t id)
{
    nd_job_t *job = job_new(nd, id);
    if (!job)
        return;
    job_init_watchers(job);
    int rc = nd_spool_read_state(job->dir, &job->st);
    if (rc != FLURM_OK) {
        job->st.job_id = id;
        job_fail_early(job, "flurmnd restarted while launching the job");
        return;
    }
    job->has_started = nd_spool_read_started(job->dir, &job->started) == FLURM_OK;
    job->phase = job->has_started ? ND_JOB_RUNNING : ND_JOB_LAUNCHING;
    bool have_exit = nd_spool_read_exit(job->dir, &(nd_exit_t){ 0 }) == FLURM_OK;
    if (!have_exit && job->st.sup_pid > 0 && nd_proc_alive(job->st.sup_pid, job->st.sup_start)) {
        flurm_info("job %u: re-attached (supervisor %ld%s)", id, (long)job->st.sup_pid,
                   job->has_started ? "" : ", not started yet");
        ev_timer_start(nd->loop, &job->watch_w);
        arm_limit(job);
        apply_cause(job);
        return;
    }
    if (job->st.sup_pid <= 0 && !have_exit) {
        job_fail_early(job, "flurmnd restarted while launching the job");
        return;
    }
    job_ended(job);
}

void nd_jobs_recover(nd_t *nd)
{
    DIR *d = opendir(nd->spool);
    if (!d) {
        flurm_error("cannot read the spool directory %s: %s", nd->spool, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        if (strncmp(de->d_name, "job", 3) != 0 || !de->d_name[3])
            continue;
        unsigned long id = strtoul(de->d_name + 3, &end, 10);
        if (*end || id == 0 || id > UINT32_MAX)
            continue;
        recover_one(nd, (uint32_t)id);
    }
    closedir(d);
}
