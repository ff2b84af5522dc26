/* libflurm/util/log.c — see include/flurm/log.h. */
#include <flurm/log.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static _Atomic int log_level = FLURM_LOG_INFO;
static const char *log_ident;
static flurm_log_sink_fn log_sink;
static void *log_sink_arg;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void flurm_log_set_level(flurm_log_level_t level) { atomic_store(&log_level, (int)level); }
flurm_log_level_t flurm_log_get_level(void) { return (flurm_log_level_t)atomic_load(&log_level); }
void flurm_log_set_ident(const char *ident) { log_ident = ident; }

void flurm_log_set_sink(flurm_log_sink_fn fn, void *arg)
{
    pthread_mutex_lock(&log_lock);
    log_sink = fn;
    log_sink_arg = arg;
    pthread_mutex_unlock(&log_lock);
}

static const char *const level_names[] = { "error", "warning", "info", "verbose", "debug", "trace" };

void flurm_vlog(flurm_log_level_t level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "[%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ld] %s%s%s: ", (long)tv.tv_usec / 1000,
                  log_ident ? log_ident : "", log_ident ? " " : "",
                  level_names[level <= FLURM_LOG_TRACE ? level : FLURM_LOG_TRACE]);
    if (n < (int)sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    pthread_mutex_lock(&log_lock);
    if (log_sink)
        log_sink(level, line, log_sink_arg);
    else
        fprintf(stderr, "%s\n", line);
    pthread_mutex_unlock(&log_lock);
}

void flurm_log(flurm_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flurm_vlog(level, fmt, ap);
    va_end(ap);
}
