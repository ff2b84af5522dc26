/* include/flurm/log.h — leveled logging to stderr (or a caller-supplied sink). Thread-safe. */
#ifndef FLURM_LOG_H
#define FLURM_LOG_H

#include <stdarg.h>
#include <flurm/common.h>

typedef enum flurm_log_level {
    FLURM_LOG_ERROR = 0,
    FLURM_LOG_WARN = 1,
    FLURM_LOG_INFO = 2,
    FLURM_LOG_VERBOSE = 3,
    FLURM_LOG_DEBUG = 4,
    FLURM_LOG_TRACE = 5
} flurm_log_level_t;

/* Messages above LEVEL are dropped. Default FLURM_LOG_INFO. */
FLURM_API void flurm_log_set_level(flurm_log_level_t level);
FLURM_API flurm_log_level_t flurm_log_get_level(void);
/* A tag printed after the timestamp ("flurmctld"); NULL for none. The string is not copied. */
FLURM_API void flurm_log_set_ident(const char *ident);

/* Replaces the stderr sink; FN receives one formatted line without a trailing newline.
 * NULL restores stderr. */
typedef void (*flurm_log_sink_fn)(flurm_log_level_t level, const char *line, void *arg);
FLURM_API void flurm_log_set_sink(flurm_log_sink_fn fn, void *arg);

FLURM_API void flurm_log(flurm_log_level_t level, const char *fmt, ...) FLURM_PRINTF(2, 3);
FLURM_API void flurm_vlog(flurm_log_level_t level, const char *fmt, va_list ap);

#define flurm_error(...) flurm_log(FLURM_LOG_ERROR, __VA_ARGS__)
#define flurm_warn(...) flurm_log(FLURM_LOG_WARN, __VA_ARGS__)
#define flurm_info(...) flurm_log(FLURM_LOG_INFO, __VA_ARGS__)
#define flurm_verbose(...) flurm_log(FLURM_LOG_VERBOSE, __VA_ARGS__)
#define flurm_debug(...) flurm_log(FLURM_LOG_DEBUG, __VA_ARGS__)

#endif
