/* bin/flurmnd/pattern.c — output-path patterns and the batch environment (no I/O). */
#include "nd.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_num(sbuf_t *b, unsigned long v, int width)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%0*lu", width > 20 ? 20 : width, v);
    sb_add(b, tmp, (size_t)n);
}

static char *sb_finish(sbuf_t *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (!b->s)
        return strdup("");
    return b->s;
}

bool nd_is_array_task(const Flurm__Node__LaunchJob *l)
{
    return l->array_task_id != FLURM_NO_VAL && l->array_job_id != 0;
}

const char *nd_stdout_pattern(const Flurm__Node__LaunchJob *l)
{
    if (l->std_out && l->std_out[0])
        return l->std_out;
    return nd_is_array_task(l) ? "slurm-%A_%a.out" : "slurm-%j.out";
}

char *nd_pattern_expand(const char *pattern, const Flurm__Node__LaunchJob *l, const nd_job_ctx_t *ctx)
{
    sbuf_t b = { 0 };
    if (strchr(pattern, '\\')) {
        for (const char *p = pattern; *p; p++)
            if (*p != '\\')
                sb_add(&b, p, 1);
        return sb_finish(&b);
    }
    for (const char *p = pattern; *p; p++) {
        if (*p != '%') {
            sb_add(&b, p, 1);
            continue;
        }
        const char *spec = p + 1;
        int width = 0;
        while (isdigit((unsigned char)*spec))
            width = width * 10 + (*spec++ - '0');
        const char *str = NULL;
        bool numeric = true;
        unsigned long num = 0;
        switch (*spec) {
        case '%':
            if (spec != p + 1) {   /* "%3%" is not a specifier: keep it */
                sb_add(&b, p, (size_t)(spec - p + 1));
            } else {
                sb_add(&b, "%", 1);
            }
            p = spec;
            continue;
        case 'j': num = l->job_id; break;
        case 'A': num = nd_is_array_task(l) ? l->array_job_id : l->job_id; break;
        case 'a': num = nd_is_array_task(l) ? l->array_task_id : FLURM_NO_VAL; break;
        case 'x': numeric = false; str = l->job_name; break;
        case 'u': numeric = false; str = l->user_name; break;
        case 'N': numeric = false; str = ctx->node_name; break;
        default:
            if (*spec == '\0') {   /* trailing '%' (or "%12"): literal */
                sb_add(&b, p, (size_t)(spec - p));
                p = spec - 1;
            } else {
                sb_add(&b, p, (size_t)(spec - p + 1));
                p = spec;
            }
            continue;
        }
        if (numeric)
            sb_num(&b, num, width);
        else if (str)
            sb_add(&b, str, strlen(str));
        p = spec;
    }
    return sb_finish(&b);
}

/* ------------------------------------------------------------------ environment */

typedef struct envb {
    char **v;
    size_t n, cap;
    bool oom;
} envb_t;

static size_t name_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Add or replace NAME=... (KV is taken over). */
static void env_put(envb_t *e, char *kv)
{
    if (!kv) {
        e->oom = true;
        return;
    }
    size_t nl = name_len(kv);
    for (size_t i = 0; i < e->n; i++) {
        if (name_len(e->v[i]) == nl && strncmp(e->v[i], kv, nl) == 0) {
            free(e->v[i]);
            e->v[i] = kv;
            return;
        }
    }
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **v = realloc(e->v, cap * sizeof *v);
        if (!v) {
            free(kv);
            e->oom = true;
            return;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = kv;
    e->v[e->n] = NULL;
}

static void env_set(envb_t *e, const char *name, const char *fmt, ...) FLURM_PRINTF(3, 4);
static void env_set(envb_t *e, const char *name, const char *fmt, ...)
{
    char *val = NULL, *kv = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (n < 0) {
        e->oom = true;
        return;
    }
    if (asprintf(&kv, "%s=%s", name, val) < 0)
        kv = NULL;
    free(val);
    env_put(e, kv);
}

void nd_env_free(char **env)
{
    if (!env)
        return;
    for (char **p = env; *p; p++)
        free(*p);
    free(env);
}

const char *nd_env_get(char *const *env, const char *name)
{
    size_t nl = strlen(name);
    for (char *const *p = env; p && *p; p++)
        if (strncmp(*p, name, nl) == 0 && (*p)[nl] == '=')
            return *p + nl + 1;
    return NULL;
}

/* Variables as slurmd sets them for a batch step (src/slurmd/slurmd/req.c
 * _set_batch_job_limits/_build_env, src/common/env.c setup_env and env_array_for_batch_job). */
char **nd_env_build(const Flurm__Node__LaunchJob *l, const nd_job_ctx_t *ctx)
{
    envb_t e = { 0 };
    for (size_t i = 0; i < l->n_env; i++)
        if (l->env[i] && strchr(l->env[i], '='))
            env_put(&e, strdup(l->env[i]));
    uint32_t nnodes = l->num_nodes ? l->num_nodes : 1;
    uint32_t ntasks = l->ntasks ? l->ntasks : 1;
    uint32_t cpus = l->cpus_on_node ? l->cpus_on_node : 1;
    const char *nodelist = l->nodelist && l->nodelist[0] ? l->nodelist : ctx->node_name;
    env_set(&e, "ENVIRONMENT", "BATCH");
    env_set(&e, "SLURM_JOB_ID", "%u", l->job_id);
    env_set(&e, "SLURM_JOBID", "%u", l->job_id);
    env_set(&e, "SLURM_JOB_NAME", "%s", l->job_name);
    env_set(&e, "SLURM_JOB_NODELIST", "%s", nodelist);
    env_set(&e, "SLURM_NODELIST", "%s", nodelist);
    env_set(&e, "SLURM_JOB_NUM_NODES", "%u", nnodes);
    env_set(&e, "SLURM_NNODES", "%u", nnodes);
    env_set(&e, "SLURM_NTASKS", "%u", ntasks);
    env_set(&e, "SLURM_NPROCS", "%u", ntasks);
    env_set(&e, "SLURM_CPUS_ON_NODE", "%u", cpus);
    env_set(&e, "SLURM_JOB_CPUS_PER_NODE", "%u", cpus);
    env_set(&e, "SLURM_JOB_PARTITION", "%s", l->partition);
    env_set(&e, "SLURM_SUBMIT_DIR", "%s", l->submit_dir[0] ? l->submit_dir : l->work_dir);
    env_set(&e, "SLURM_SUBMIT_HOST", "%s", l->submit_host);
    if (nd_is_array_task(l)) {
        env_set(&e, "SLURM_ARRAY_JOB_ID", "%u", l->array_job_id);
        env_set(&e, "SLURM_ARRAY_TASK_ID", "%u", l->array_task_id);
    }
    env_set(&e, "SLURM_CLUSTER_NAME", "%s", l->cluster_name);
    env_set(&e, "SLURM_JOB_UID", "%u", l->uid);
    env_set(&e, "SLURM_JOB_GID", "%u", l->gid);
    env_set(&e, "SLURM_JOB_USER", "%s", l->user_name);
    env_set(&e, "SLURMD_NODENAME", "%s", ctx->node_name);
    env_set(&e, "SLURM_NODEID", "0");
    env_set(&e, "SLURM_PROCID", "0");
    env_set(&e, "SLURM_LOCALID", "0");
    env_set(&e, "SLURM_GTIDS", "0");
    if (l->mem_mb)
        env_set(&e, "SLURM_MEM_PER_NODE", "%u", l->mem_mb);
    if (ctx->task_pid > 0)
        env_set(&e, "SLURM_TASK_PID", "%ld", (long)ctx->task_pid);
    if (e.oom) {
        nd_env_free(e.v);
        return NULL;
    }
    return e.v;
}
