/* include/flurm/sched_plugin.h — scheduler plugins: shared objects that replace the built-in
 * priority computation and/or the scheduling pass of flurm_sched_run (include/flurm/sched.h).
 *
 * A plugin named NAME is the file <PluginDir>/sched_NAME.so, selected with
 * SchedulerType=sched/NAME (SchedulerType=sched/backfill and sched/builtin are the built-in
 * scheduler and need no file). It exports exactly one symbol, FLURM_SCHED_PLUGIN_ENTRY:
 *
 *     #include <flurm/sched_plugin.h>
 *     static const flurm_sched_plugin_t ops = {
 *         .abi_version = FLURM_SCHED_PLUGIN_ABI,
 *         .size = sizeof(flurm_sched_plugin_t),
 *         .name = "NAME",
 *         .prioritize = my_prioritize,       // any slot may be NULL
 *     };
 *     FLURM_SCHED_PLUGIN_EXPORT const flurm_sched_plugin_t *flurm_sched_plugin_entry(void) { return &ops; }
 *
 * Versioning: ABI_VERSION is the major version; a host refuses any other. Within one major
 * version the table only grows at its end: SIZE tells the host how much of it the plugin knows;
 * slots past SIZE count as NULL, and a table shorter than the slots of version 1 is refused.
 *
 * Calls: the host calls init once after loading, then prioritize and schedule once per
 * scheduling cycle from one thread at a time, then fini once before unloading. The input is
 * read-only and valid only during the call. */
#ifndef FLURM_SCHED_PLUGIN_H
#define FLURM_SCHED_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <flurm/common.h>
#include <flurm/sched.h>

#define FLURM_SCHED_PLUGIN_ABI 1u
#define FLURM_SCHED_PLUGIN_ENTRY "flurm_sched_plugin_entry"

#if defined(__GNUC__) && __GNUC__ >= 4
#define FLURM_SCHED_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FLURM_SCHED_PLUGIN_EXPORT
#endif

typedef struct flurm_sched_plugin {
    uint32_t abi_version;   /* FLURM_SCHED_PLUGIN_ABI */
    size_t size;            /* sizeof(flurm_sched_plugin_t) as the plugin was compiled */
    const char *name;       /* for messages, e.g. "fifo_small" */

    /* Called once with the scheduler parameters string (NULL when none). Stores the plugin's
     * state in *CTX (it starts NULL). Nonzero (a flurm_err_t) refuses the load; fini is not
     * called then. NULL slot: no state. */
    int (*init)(void **ctx, const char *params);
    /* Releases CTX. NULL slot: nothing to release. */
    void (*fini)(void *ctx);
    /* Writes one priority per input job into PRIORITIES[0..in->njobs), which the host pre-fills
     * with each job's given priority (in->jobs[i].priority). The host then schedules with these
     * values as SchedulerType=priority/basic would: held jobs (given priority 0) stay held
     * whatever is written, a 0 written for any other job becomes 1, and the multifactor
     * factors of the output are 0. Nonzero (a flurm_err_t) fails the cycle.
     * NULL slot: the built-in priorities (params.priority_type). */
    int (*prioritize)(void *ctx, const flurm_sched_input_t *in, uint32_t *priorities);
    /* One scheduling cycle, with the contract of flurm_sched_run: *OUT arrives zeroed and is
     * filled with malloc'd arrays that the caller releases with flurm_sched_output_free
     * (out->jobs has one entry per input job, in input order; every index in range). On error
     * return a flurm_err_t and leave *OUT empty. IN carries the priorities of prioritize.
     * NULL slot: the built-in scheduler (flurm_sched_run). */
    int (*schedule)(void *ctx, const flurm_sched_input_t *in, flurm_sched_output_t *out);
} flurm_sched_plugin_t;

/* The table size of ABI version 1: everything up to and including the schedule slot. */
#define FLURM_SCHED_PLUGIN_SIZE_V1 (offsetof(flurm_sched_plugin_t, schedule) + sizeof(void (*)(void)))

/* The one symbol a plugin exports. The table must stay valid until the plugin is unloaded. */
typedef const flurm_sched_plugin_t *(*flurm_sched_plugin_entry_fn)(void);
FLURM_SCHED_PLUGIN_EXPORT const flurm_sched_plugin_t *flurm_sched_plugin_entry(void);

/* ------------------------------------------------------------------ host side (libflurm) */

/* A loaded scheduler: the built-in one or a plugin with its state. */
typedef struct flurm_sched_host flurm_sched_host_t;

/* Loads the scheduler named by SCHED_TYPE (SchedulerType, "sched/NAME"). "sched/backfill" and
 * "sched/builtin" are the built-in scheduler (no file; flurm_sched_host_run forces
 * params.backfill to true and false respectively). Any other NAME ([A-Za-z0-9_-]+) is
 * dlopen'ed (RTLD_NOW | RTLD_LOCAL) from the first directory of PLUGIN_DIR (a ':'-separated
 * list as SLURM's PluginDir; NULL = the install's libdir/flurm) holding sched_NAME.so; its
 * entry is checked (ABI version, table size) and init is called with PARAMS (may be NULL).
 * On success *OUT is a new host (flurm_sched_host_free it). On error *OUT is untouched,
 * nothing stays loaded and, if ERRMSG is not NULL, *ERRMSG is a malloc'd message naming the
 * file and the problem: FLURM_ENOENT (no such file), FLURM_EINVAL (bad SCHED_TYPE, dlopen
 * failure, missing entry symbol, NULL table, other ABI version, table too small, init failed
 * — init's own code is not kept), FLURM_ENOMEM. */
FLURM_API int flurm_sched_plugin_load_params(const char *plugin_dir, const char *sched_type, const char *params,
                                             flurm_sched_host_t **out, char **errmsg);
/* flurm_sched_plugin_load_params with PARAMS NULL. */
FLURM_API int flurm_sched_plugin_load(const char *plugin_dir, const char *sched_type, flurm_sched_host_t **out,
                                      char **errmsg);

/* The plugin's name ("backfill" / "builtin" for the built-in). Never NULL. */
FLURM_API const char *flurm_sched_host_name(const flurm_sched_host_t *h);

/* One scheduling cycle through H, with flurm_sched_run's contract (*OUT overwritten; release
 * with flurm_sched_output_free): the plugin's prioritize (if any), then its schedule or the
 * built-in. An error of a slot is returned (FLURM_EINVAL for a code that is no flurm_err_t) and
 * logged with flurm_error once per run of consecutive failures; output that breaks the
 * contract (wrong job count, index out of range) is discarded with FLURM_EPROTO. */
FLURM_API int flurm_sched_host_run(flurm_sched_host_t *h, const flurm_sched_input_t *in, flurm_sched_output_t *out);

/* Calls fini and unloads the plugin. NULL is fine. */
FLURM_API void flurm_sched_host_free(flurm_sched_host_t *h);

#endif
