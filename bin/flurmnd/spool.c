/* bin/flurmnd/spool.c — per-job state files in SlurmdSpoolDir/job<N>/.
 *
 * Files are small "key=value\n" texts so an operator can read them; every write goes through
 * nd_spool_write_file (temp file + fsync + rename + directory fsync), so a crash at any moment
 * leaves either the previous version or the new one. */
#include "nd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nd_spool_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
    char tmp[4096], dst[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst) {
        errno = ENAMETOOLONG;
        return FLURM_EIO;
    }
    /* never through a symbolic link: the name is flurmnd's own, in a directory only it writes */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return FLURM_EIO;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, dst) != 0)
        goto fail;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return FLURM_OK;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return FLURM_EIO;
}

static int write_text(const char *dir, const char *name, const char *fmt, ...) FLURM_PRINTF(3, 4);
static int write_text(const char *dir, const char *name, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof buf)
        return FLURM_EINVAL;
    return nd_spool_write_file(dir, name, buf, (size_t)n, 0600);
}

/* Reads DIR/NAME into a NUL-terminated buffer. */
static int read_text(const char *dir, const char *name, char *buf, size_t size)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return FLURM_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FLURM_ENOENT : FLURM_EIO;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return FLURM_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == size - 1) {
            close(fd);
            return FLURM_EINVAL;
        }
    }
    close(fd);
    buf[len] = '\0';
    return FLURM_OK;
}

/* Value of KEY in TEXT ("key=value" lines) copied to OUT; false if absent. */
static bool kv_get(const char *text, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = ll - kl - 1;
            if (vl >= size)
                vl = size - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static bool kv_ll(const char *text, const char *key, long long *v)
{
    char buf[64], *end;
    if (!kv_get(text, key, buf, sizeof buf) || !buf[0])
        return false;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

static bool kv_ull(const char *text, const char *key, unsigned long long *v)
{
    char buf[64], *end;
    if (!kv_get(text, key, buf, sizeof buf) || !buf[0] || buf[0] == '-')
        return false;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

int nd_spool_write_state(const char *dir, const nd_state_t *st)
{
    return write_text(dir, "state",
                      "job_id=%u\nuid=%u\ngid=%u\nsup_pid=%ld\nsup_start=%llu\ntime_limit_min=%u\n"
                      "kill_wait_s=%u\nctld_start_time=%" PRId64 "\ncause=%d\ncause_time=%" PRId64 "\n"
                      "cause_kill_wait_s=%u\nlast_signal=%d\nsuspended=%d\nsuspended_at=%" PRId64 "\n"
                      "suspended_secs=%" PRId64 "\n",
                      st->job_id, st->uid, st->gid, (long)st->sup_pid, st->sup_start, st->time_limit_min,
                      st->kill_wait_s, st->ctld_start_time, (int)st->cause, st->cause_time,
                      st->cause_kill_wait_s, st->last_signal, st->suspended ? 1 : 0, st->suspended_at,
                      st->suspended_secs);
}

int nd_spool_read_state(const char *dir, nd_state_t *out)
{
    char text[2048];
    int rc = read_text(dir, "state", text, sizeof text);
    if (rc != FLURM_OK)
        return rc;
    nd_state_t st = { 0 };
    long long v[11];
    unsigned long long sup_start;
    static const char *const keys[11] = { "job_id", "uid", "gid", "sup_pid", "time_limit_min", "kill_wait_s",
                                          "ctld_start_time", "cause", "cause_time", "cause_kill_wait_s",
                                          "last_signal" };
    for (int i = 0; i < 11; i++)
        if (!kv_ll(text, keys[i], &v[i]))
            return FLURM_EINVAL;
    if (!kv_ull(text, "sup_start", &sup_start) || v[7] < ND_CAUSE_NONE || v[7] > ND_CAUSE_ORPHAN)
        return FLURM_EINVAL;
    st.job_id = (uint32_t)v[0];
    st.uid = (uint32_t)v[1];
    st.gid = (uint32_t)v[2];
    st.sup_pid = (pid_t)v[3];
    st.sup_start = sup_start;
    st.time_limit_min = (uint32_t)v[4];
    st.kill_wait_s = (uint32_t)v[5];
    st.ctld_start_time = v[6];
    st.cause = (nd_cause_t)v[7];
    st.cause_time = v[8];
    st.cause_kill_wait_s = (uint32_t)v[9];
    st.last_signal = (int)v[10];
    long long sus[3];
    if (kv_ll(text, "suspended", &sus[0])) {   /* written since suspension: all three or none */
        if (!kv_ll(text, "suspended_at", &sus[1]) || !kv_ll(text, "suspended_secs", &sus[2]) ||
            sus[0] < 0 || sus[0] > 1 || sus[2] < 0)
            return FLURM_EINVAL;
        st.suspended = sus[0] == 1;
        st.suspended_at = sus[1];
        st.suspended_secs = sus[2];
    }
    *out = st;
    return FLURM_OK;
}

int nd_spool_write_started(const char *dir, const nd_started_t *s)
{
    return write_text(dir, "started", "pid=%ld\npid_start=%llu\nstart_time=%" PRId64 "\n", (long)s->pid,
                      s->pid_start, s->start_time);
}

int nd_spool_read_started(const char *dir, nd_started_t *out)
{
    char text[512];
    int rc = read_text(dir, "started", text, sizeof text);
    if (rc != FLURM_OK)
        return rc;
    long long pid, t;
    unsigned long long ps;
    if (!kv_ll(text, "pid", &pid) || !kv_ull(text, "pid_start", &ps) || !kv_ll(text, "start_time", &t) ||
        pid <= 0)
        return FLURM_EINVAL;
    out->pid = (pid_t)pid;
    out->pid_start = ps;
    out->start_time = t;
    return FLURM_OK;
}

int nd_spool_write_exit(const char *dir, const nd_exit_t *e)
{
    char reason[sizeof e->reason];
    snprintf(reason, sizeof reason, "%s", e->reason);
    for (char *p = reason; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return write_text(dir, "exit", "wait_status=%d\nend_time=%" PRId64 "\nmax_rss_kb=%" PRIu64 "\nreason=%s\n",
                      e->wait_status, e->end_time, e->max_rss_kb, reason);
}

int nd_spool_read_exit(const char *dir, nd_exit_t *out)
{
    char text[1024];
    int rc = read_text(dir, "exit", text, sizeof text);
    if (rc != FLURM_OK)
        return rc;
    nd_exit_t e = { 0 };
    long long st, t;
    unsigned long long rss;
    if (!kv_ll(text, "wait_status", &st) || !kv_ll(text, "end_time", &t) || !kv_ull(text, "max_rss_kb", &rss) ||
        !kv_get(text, "reason", e.reason, sizeof e.reason))
        return FLURM_EINVAL;
    e.wait_status = (int)st;
    e.end_time = t;
    e.max_rss_kb = rss;
    *out = e;
    return FLURM_OK;
}

int nd_spool_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return FLURM_EINVAL;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return FLURM_EIO;
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? FLURM_OK : FLURM_EIO;
}

int nd_spool_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? FLURM_OK : (unlink(path) == 0 ? FLURM_OK : FLURM_EIO);
    struct dirent *de;
    int rc = FLURM_OK;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub) {
            rc = FLURM_EINVAL;
            continue;
        }
        struct stat sb;
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (nd_spool_remove_tree(sub) != FLURM_OK)
                rc = FLURM_EIO;
        } else if (unlink(sub) != 0 && errno != ENOENT) {
            rc = FLURM_EIO;
        }
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = FLURM_EIO;
    return rc;
}

/* Start time (field 22) and state letter (field 3) of PID; false if it does not exist. */
static bool proc_stat(pid_t pid, unsigned long long *start, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return false;
    *state = p[2];
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return false;
    }
    *start = strtoull(p + 1, NULL, 10);
    return true;
}

unsigned long long nd_proc_start_time(pid_t pid)
{
    unsigned long long start;
    char state;
    return pid > 0 && proc_stat(pid, &start, &state) ? start : 0;
}

bool nd_proc_alive(pid_t pid, unsigned long long start)
{
    unsigned long long s;
    char state;
    if (pid <= 0 || !proc_stat(pid, &s, &state))
        return false;
    return s == start && state != 'Z' && state != 'X';
}
