/* libflurm/sched/plugin.c — loading scheduler plugins (include/flurm/sched_plugin.h) and running
 * a scheduling cycle through one. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/sched_plugin.h>

#ifndef FLURM_PLUGIN_DIR
#define FLURM_PLUGIN_DIR "/usr/local/lib/flurm"
#endif

typedef enum host_kind {
    HOST_BACKFILL = 0,
    HOST_BUILTIN,
    HOST_PLUGIN,
} host_kind_t;

struct flurm_sched_host {
    host_kind_t kind;
    void *dl;
    char *path;
    char *name;
    flurm_sched_plugin_t ops;   /* the plugin's table, slots past its size NULL */
    void *ctx;
    bool failing;               /* the last cycle failed and was logged */
};

static void set_err(char **errmsg, const char *fmt, ...) FLURM_PRINTF(2, 3);
static void set_err(char **errmsg, const char *fmt, ...)
{
    if (!errmsg)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    *errmsg = s;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

/* The first DIR/sched_NAME.so of the ':'-separated DIRS that exists, malloc'd; NULL with
 * *TRIED = the last candidate (malloc'd) when none does. */
static char *find_file(const char *dirs, const char *name, char **tried, int *rc)
{
    *rc = FLURM_ENOMEM;
    *tried = NULL;
    const char *p = dirs;
    for (;;) {
        size_t len = strcspn(p, ":");
        if (len) {
            char *path = NULL;
            if (asprintf(&path, "%.*s/sched_%s.so", (int)len, p, name) < 0)
                return NULL;
            if (access(path, F_OK) == 0) {
                free(*tried);
                *tried = NULL;
                return path;
            }
            free(*tried);
            *tried = path;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    *rc = FLURM_ENOENT;
    return NULL;
}

int flurm_sched_plugin_load_params(const char *plugin_dir, const char *sched_type, const char *params,
                                   flurm_sched_host_t **out, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!out || !sched_type) {
        set_err(errmsg, "no SchedulerType given");
        return FLURM_EINVAL;
    }
    if (strncmp(sched_type, "sched/", 6) || !valid_name(sched_type + 6)) {
        set_err(errmsg, "SchedulerType '%s': expected sched/NAME (NAME of letters, digits, '_', '-')", sched_type);
        return FLURM_EINVAL;
    }
    const char *name = sched_type + 6;
    flurm_sched_host_t *h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        set_err(errmsg, "out of memory");
        return FLURM_ENOMEM;
    }
    if (!strcmp(name, "backfill") || !strcmp(name, "builtin")) {
        h->kind = !strcmp(name, "backfill") ? HOST_BACKFILL : HOST_BUILTIN;
        *out = h;
        return FLURM_OK;
    }
    h->kind = HOST_PLUGIN;

    int rc;
    char *tried = NULL;
    const char *dirs = plugin_dir && *plugin_dir ? plugin_dir : FLURM_PLUGIN_DIR;
    if (!(h->path = find_file(dirs, name, &tried, &rc))) {
        if (rc == FLURM_ENOENT)
            set_err(errmsg, "%s: no such scheduler plugin file (SchedulerType=%s, PluginDir=%s)",
                    tried ? tried : dirs, sched_type, dirs);
        else
            set_err(errmsg, "out of memory");
        free(tried);
        goto fail;
    }
    rc = FLURM_EINVAL;
    dlerror();
    if (!(h->dl = dlopen(h->path, RTLD_NOW | RTLD_LOCAL))) {
        const char *e = dlerror();
        set_err(errmsg, "%s: cannot load: %s", h->path, e ? e : "unknown dlopen error");
        goto fail;
    }
    /* POSIX: a function pointer travels through dlsym's void *. */
    flurm_sched_plugin_entry_fn entry;
    void *sym = dlsym(h->dl, FLURM_SCHED_PLUGIN_ENTRY);
    if (!sym) {
        set_err(errmsg, "%s: not a FLURM scheduler plugin: no symbol %s", h->path, FLURM_SCHED_PLUGIN_ENTRY);
        goto fail;
    }
    memcpy(&entry, &sym, sizeof entry);
    const flurm_sched_plugin_t *t = entry();
    if (!t) {
        set_err(errmsg, "%s: %s() returned NULL", h->path, FLURM_SCHED_PLUGIN_ENTRY);
        goto fail;
    }
    if (t->abi_version != FLURM_SCHED_PLUGIN_ABI) {
        set_err(errmsg, "%s: scheduler plugin ABI version %u, but this libflurm %s supports version %u only",
                h->path, (unsigned)t->abi_version, flurm_version(), (unsigned)FLURM_SCHED_PLUGIN_ABI);
        goto fail;
    }
    if (t->size < FLURM_SCHED_PLUGIN_SIZE_V1) {
        set_err(errmsg, "%s: scheduler plugin table of %zu bytes, ABI version %u needs at least %zu", h->path,
                t->size, (unsigned)FLURM_SCHED_PLUGIN_ABI, (size_t)FLURM_SCHED_PLUGIN_SIZE_V1);
        goto fail;
    }
    memcpy(&h->ops, t, t->size < sizeof h->ops ? t->size : sizeof h->ops);
    if (h->ops.name) {
        char *n = strdup(h->ops.name);
        if (!n) {
            rc = FLURM_ENOMEM;
            set_err(errmsg, "out of memory");
            goto fail;
        }
        free(h->name);
        h->name = n;
    }
    if (h->ops.init) {
        int irc = h->ops.init(&h->ctx, params);
        if (irc) {
            const char *what = irc > 0 && irc < FLURM_ERR_MAX_ ? flurm_strerror((flurm_err_t)irc) : "unknown error";
            set_err(errmsg, "%s: scheduler plugin '%s' init failed: %s (%d)", h->path, h->name, what, irc);
            goto fail;
        }
    }
    *out = h;
    return FLURM_OK;
fail:
    if (h->dl)
        dlclose(h->dl);
    free(h->path);
    free(h->name);
    free(h);
    return rc;
}

int flurm_sched_plugin_load(const char *plugin_dir, const char *sched_type, flurm_sched_host_t **out, char **errmsg)
{
    return flurm_sched_plugin_load_params(plugin_dir, sched_type, NULL, out, errmsg);
}

const char *flurm_sched_host_name(const flurm_sched_host_t *h)
{
    return h && h->name ? h->name : "";
}

/* A plugin's output must satisfy what callers of flurm_sched_run rely on. */
static bool output_ok(const flurm_sched_input_t *in, const flurm_sched_output_t *o)
{
    if (o->njobs != in->njobs || (o->njobs && !o->jobs) || (o->nstarts && !o->starts))
        return false;
    for (uint32_t i = 0; i < o->nstarts; i++) {
        const flurm_sched_start_t *s = &o->starts[i];
        if (s->job_index >= in->njobs || (s->nnodes && !s->nodes))
            return false;
        for (uint32_t k = 0; k < s->nnodes; k++)
            if (s->nodes[k] >= in->nnodes)
                return false;
    }
    if ((o->npreempts && !o->preempts) || o->npreempts > in->njobs)
        return false;
    for (uint32_t i = 0; i < o->npreempts; i++) {
        const flurm_sched_preempt_t *pr = &o->preempts[i];
        if (pr->job_index >= in->njobs || pr->job_id != in->jobs[pr->job_index].job_id ||
            in->jobs[pr->job_index].state !=
                (pr->mode == FLURM_SCHED_PREEMPT_RESUME ? FLURM_SCHED_JOB_SUSPENDED : FLURM_SCHED_JOB_RUNNING))
            return false;
    }
    for (uint32_t i = 0; i < o->njobs; i++) {
        const flurm_sched_job_result_t *r = &o->jobs[i];
        if (r->nplanned_nodes && !r->planned_nodes)
            return false;
        for (uint32_t k = 0; k < r->nplanned_nodes; k++)
            if (r->planned_nodes[k] >= in->nnodes)
                return false;
    }
    return true;
}

static int slot_rc(int rc)
{
    return rc > 0 && rc < FLURM_ERR_MAX_ ? rc : FLURM_EINVAL;
}

static int fail_once(flurm_sched_host_t *h, const char *slot, int rc, int raw)
{
    if (!h->failing)
        flurm_error("scheduler plugin '%s' (%s): %s failed: %s (%d)", h->name, h->path, slot,
                    flurm_strerror((flurm_err_t)rc), raw);
    h->failing = true;
    return rc;
}

int flurm_sched_host_run(flurm_sched_host_t *h, const flurm_sched_input_t *in, flurm_sched_output_t *out)
{
    if (!h || !in || !out)
        return FLURM_EINVAL;
    flurm_sched_input_t view = *in;
    if (h->kind != HOST_PLUGIN) {
        view.params.backfill = h->kind == HOST_BACKFILL;
        return flurm_sched_run(&view, out);
    }
    flurm_sched_job_t *jobs = NULL;
    uint32_t *prio = NULL;
    int rc;
    if (h->ops.prioritize && in->njobs) {
        if (!in->jobs)
            return FLURM_EINVAL;
        jobs = malloc(in->njobs * sizeof *jobs);
        prio = malloc(in->njobs * sizeof *prio);
        if (!jobs || !prio) {
            free(jobs);
            free(prio);
            return FLURM_ENOMEM;
        }
        for (uint32_t i = 0; i < in->njobs; i++)
            prio[i] = in->jobs[i].priority;
        int raw = h->ops.prioritize(h->ctx, in, prio);
        if (raw) {
            free(jobs);
            free(prio);
            return fail_once(h, "prioritize", slot_rc(raw), raw);
        }
        memcpy(jobs, in->jobs, in->njobs * sizeof *jobs);
        for (uint32_t i = 0; i < in->njobs; i++)
            if (jobs[i].priority)
                jobs[i].priority = prio[i] ? prio[i] : 1;
        free(prio);
        view.jobs = jobs;
        view.params.priority_type = FLURM_SCHED_PRIORITY_BASIC;
    }
    if (h->ops.schedule) {
        flurm_sched_output_t o = { 0 };
        int raw = h->ops.schedule(h->ctx, &view, &o);
        if (raw) {
            flurm_sched_output_free(&o);
            free(jobs);
            return fail_once(h, "schedule", slot_rc(raw), raw);
        }
        if (!output_ok(&view, &o)) {
            flurm_sched_output_free(&o);
            free(jobs);
            return fail_once(h, "schedule output (job count or index out of range)", FLURM_EPROTO, FLURM_EPROTO);
        }
        *out = o;
        rc = FLURM_OK;
    } else {
        rc = flurm_sched_run(&view, out);
    }
    free(jobs);
    if (!rc)
        h->failing = false;
    return rc;
}

void flurm_sched_host_free(flurm_sched_host_t *h)
{
    if (!h)
        return;
    if (h->kind == HOST_PLUGIN && h->ops.fini)
        h->ops.fini(h->ctx);
    if (h->dl)
        dlclose(h->dl);
    free(h->path);
    free(h->name);
    free(h);
}
