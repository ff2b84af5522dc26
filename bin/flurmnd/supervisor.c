/* bin/flurmnd/supervisor.c — the per-job supervisor process.
 *
 * flurmnd forks one supervisor per job. The supervisor leaves flurmnd's session, runs the
 * Prolog, forks the batch script into a new session (so the script's pid is also its process
 * group: everything it starts can be signalled as one), waits for it, kills what is left of the
 * group, runs the Epilog and records the outcome in spool/job<N>/exit before exiting. It never
 * talks to the controller and survives flurmnd: a flurmnd killed with SIGKILL and restarted
 * finds the `exit` file (or a live supervisor) and reports the true exit status.
 *
 * The supervisor is a fork of a multi-threaded process (nng keeps threads): it only uses
 * what is safe there in glibc (fork handlers keep malloc usable) and never touches nng or the
 * event loop. */
#include "nd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Close every descriptor >= 3 except KEEP. */
static void close_fds_except(int keep)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != keep)
                close(fd);
        return;
    }
    int dfd = dirfd(d);
    int fds[1024];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < sizeof fds / sizeof fds[0]) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd >= 3 && fd != keep && fd != dfd)
            fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

static void reset_signals(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    sigemptyset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* In the script's child: report "what: strerror" on ERR_FD and exit 127. */
static _Noreturn void child_fail(int err_fd, const char *what, const char *arg)
{
    char msg[512];
    int e = errno;
    int n = snprintf(msg, sizeof msg, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", strerror(e));
    write_all(err_fd, msg, n < (int)sizeof msg ? (size_t)n : sizeof msg - 1);
    _exit(127);
}

static int open_std(const char *path, int flags, int target)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (fd != target) {
        if (dup2(fd, target) < 0) {
            close(fd);
            return -1;
        }
        close(fd);
    } else {
        fcntl(fd, F_SETFD, 0);
    }
    return 0;
}

/* The batch script's process: new session, identity, working directory, stdio, exec. */
static _Noreturn void run_script(const nd_sup_args_t *a, int err_fd)
{
    const Flurm__Node__LaunchJob *l = a->launch;
    if (setsid() < 0)
        child_fail(err_fd, "setsid", NULL);
    reset_signals();
    if (geteuid() == 0) {
        if (initgroups(l->user_name, l->gid) != 0) {
            gid_t g = l->gid;
            if (setgroups(1, &g) != 0)
                child_fail(err_fd, "setgroups for", l->user_name);
        }
        if (setgid(l->gid) != 0)
            child_fail(err_fd, "setgid for", l->user_name);
        if (setuid(l->uid) != 0)
            child_fail(err_fd, "setuid for", l->user_name);
    }
    const char *wd = l->work_dir[0] ? l->work_dir : "/tmp";
    if (chdir(wd) != 0)
        child_fail(err_fd, "could not chdir to", wd);

    nd_job_ctx_t ctx = { .node_name = a->node_name, .task_pid = getpid() };
    char *in = nd_pattern_expand(l->std_in[0] ? l->std_in : "/dev/null", l, &ctx);
    char *out = nd_pattern_expand(nd_stdout_pattern(l), l, &ctx);
    char *err = l->std_err[0] ? nd_pattern_expand(l->std_err, l, &ctx) : NULL;
    char **env = nd_env_build(l, &ctx);
    if (!in || !out || (l->std_err[0] && !err) || !env) {
        errno = ENOMEM;
        child_fail(err_fd, "out of memory", NULL);
    }
    /* sbatch exports the submitter's umask as SLURM_UMASK; slurmstepd applies it (SLURM
     * src/slurmd/slurmstepd/mgr.c); output files are created under it. */
    const char *um = nd_env_get(env, "SLURM_UMASK");
    if (um && um[0]) {
        char *end;
        unsigned long m = strtoul(um, &end, 8);
        if (!*end && m <= 0777)
            umask((mode_t)m);
    }
    int wflags = O_WRONLY | O_CREAT | (l->open_append ? O_APPEND : O_TRUNC);
    if (open_std(in, O_RDONLY, 0) != 0)
        child_fail(err_fd, "could not open stdin", in);
    if (open_std(out, wflags, 1) != 0)
        child_fail(err_fd, "could not open stdout", out);
    if (!err || strcmp(err, out) == 0) {
        if (dup2(1, 2) < 0)
            child_fail(err_fd, "dup2", NULL);
    } else if (open_std(err, wflags, 2) != 0) {
        child_fail(err_fd, "could not open stderr", err);
    }

    char script[4096];
    snprintf(script, sizeof script, "%s/script", a->job_dir);
    char **argv = calloc(l->n_argv + 3, sizeof *argv);
    if (!argv) {
        errno = ENOMEM;
        child_fail(err_fd, "out of memory", NULL);
    }
    argv[0] = script;
    for (size_t i = 0; i < l->n_argv; i++)
        argv[i + 1] = l->argv[i];
    execve(script, argv, env);
    if (errno == ENOEXEC) {   /* no "#!": SLURM's sbatch refuses those; run with sh like a shell would */
        memmove(argv + 1, argv, (l->n_argv + 1) * sizeof *argv);
        argv[0] = "/bin/sh";
        execve("/bin/sh", argv, env);
    }
    child_fail(err_fd, "could not execute", script);
}

/* Prolog/Epilog: as the supervisor's user (root), stdio on /dev/null; returns the wait status
 * (or -1 if it could not be run). */
static int run_hook(const nd_sup_args_t *a, const char *path)
{
    const Flurm__Node__LaunchJob *l = a->launch;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        reset_signals();
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2)
                close(fd);
        }
        char *env[10];
        int n = 0;
        if (asprintf(&env[n], "SLURM_JOB_ID=%u", l->job_id) > 0) n++;
        if (asprintf(&env[n], "SLURM_JOB_USER=%s", l->user_name) > 0) n++;
        if (asprintf(&env[n], "SLURM_JOB_UID=%u", l->uid) > 0) n++;
        if (asprintf(&env[n], "SLURM_JOB_GID=%u", l->gid) > 0) n++;
        if (asprintf(&env[n], "SLURMD_NODENAME=%s", a->node_name) > 0) n++;
        if (asprintf(&env[n], "SLURM_CLUSTER_NAME=%s", l->cluster_name) > 0) n++;
        if (asprintf(&env[n], "SLURM_JOB_PARTITION=%s", l->partition) > 0) n++;
        env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        env[n] = NULL;
        char *argv[] = { (char *)path, NULL };
        if (chdir("/") != 0)
            _exit(126);
        execve(path, argv, env);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Reap what the job left (killed above, or escaped into its own group); give up after ~1 s on
 * those still running: they are no longer the job's. */
static void reap_orphans(void)
{
    for (int i = 0; i < 100; i++) {
        pid_t r;
        while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (r < 0 && errno == ECHILD)
            return;
        usleep(10 * 1000);
    }
}

static _Noreturn void finish(const nd_sup_args_t *a, nd_exit_t *ex)
{
    if (a->epilog)
        run_hook(a, a->epilog);
    /* Nothing else can report this: retry a failing disk rather than lose the outcome. */
    for (int i = 0; nd_spool_write_exit(a->job_dir, ex) != FLURM_OK && i < 50; i++)
        usleep(100 * 1000);
    write_all(a->ctl_fd, "E", 1);
    _exit(0);
}

_Noreturn void nd_supervisor_main(const nd_sup_args_t *a)
{
    setsid();
    reset_signals();
    /* The job's orphans become our children, so they are reaped here and never linger as
     * zombies in the job's session (an init may be slow to reap). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Only SIGKILL ends the supervisor: the job's outcome must reach the exit file. */
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    /* No inherited descriptor may outlive flurmnd (a test harness reading flurmnd's stderr
     * would otherwise wait for the supervisor). */
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
    close_fds_except(a->ctl_fd);

    nd_exit_t ex = { 0 };
    char go = 0;
    ssize_t n;
    while ((n = read(a->ctl_fd, &go, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1 || go != 'g') {
        ex.end_time = time(NULL);
        snprintf(ex.reason, sizeof ex.reason, "flurmnd stopped before the job could start");
        nd_spool_write_exit(a->job_dir, &ex);
        _exit(0);
    }
    if (a->prolog) {
        int st = run_hook(a, a->prolog);
        if (st != 0) {
            ex.end_time = time(NULL);
            snprintf(ex.reason, sizeof ex.reason, "prolog failed");
            finish(a, &ex);
        }
    }

    int errp[2];
    if (pipe2(errp, O_CLOEXEC) != 0) {
        ex.end_time = time(NULL);
        snprintf(ex.reason, sizeof ex.reason, "pipe: %s", strerror(errno));
        finish(a, &ex);
    }
    time_t start = time(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        ex.end_time = time(NULL);
        snprintf(ex.reason, sizeof ex.reason, "fork: %s", strerror(errno));
        finish(a, &ex);
    }
    if (pid == 0) {
        close(errp[0]);
        close(a->ctl_fd);
        run_script(a, errp[1]);
    }
    close(errp[1]);
    char msg[sizeof ex.reason];
    size_t got = 0;
    while (got < sizeof msg - 1) {
        n = read(errp[0], msg + got, sizeof msg - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(errp[0]);
    msg[got] = '\0';

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (got > 0) {   /* the script never ran */
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
            ;
        ex.end_time = time(NULL);
        snprintf(ex.reason, sizeof ex.reason, "%s", msg);
        finish(a, &ex);
    }

    nd_started_t s = { .pid = pid, .pid_start = nd_proc_start_time(pid), .start_time = start };
    nd_spool_write_started(a->job_dir, &s);
    write_all(a->ctl_fd, "S", 1);

    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            status = 0;
            break;
        }
    }
    kill(-pid, SIGKILL);   /* what the script left behind in its process group */
    reap_orphans();
    ex.wait_status = status;
    ex.end_time = time(NULL);
    ex.max_rss_kb = (uint64_t)ru.ru_maxrss;
    finish(a, &ex);
}
