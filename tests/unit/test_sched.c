/* tests/unit/test_sched.c — the scheduler (libflurm/sched): golden files, feature expressions,
 * timelines.
 *
 * Golden files: tests/sched/NAME.sched, one cmocka test each. A file is a scenario, a line
 * "---", then the expected output. '#' starts a comment; blank lines are ignored. Times are
 * seconds; "+S"/"-S" are relative to `now`.
 *
 *   now 1000000                              clock (default 1000000)
 *   param KEY VALUE                          bf_window (min), bf_resolution (s), bf_max_job_test,
 *                                            queue_depth, backfill 0|1 (default 1),
 *                                            priority basic|multifactor, weight_age, weight_jobsize,
 *                                            weight_partition, weight_fairshare, max_age (s),
 *                                            favor_small 0|1, preempt 0|1 (partition_prio),
 *                                            preempt_mode OFF|CANCEL|REQUEUE|SUSPEND,
 *                                            youngest_first 0|1
 *   usage UID USAGE SHARES                   decayed fair-share usage of a user
 *   node HOSTLIST [cpus=4] [mem=8000] [weight=1] [features=a,b] [gres=gpu:a100:4,gpu:2]
 *        [state=up|down]                     (allocations come from the run lines)
 *   part NAME nodes=HOSTLIST [maxtime=MIN|UNLIMITED] [default=MIN] [maxnodes=N] [tier=N]
 *        [factor=N] [state=UP|DOWN|DRAIN|INACTIVE] [share=NO|EXCLUSIVE] [groups=G,G]
 *        [preempt=OFF|CANCEL|REQUEUE|SUSPEND]
 *   job ID PART [prio=N] [held=user|admin] [nice=N] [user=UID] [gid=GID] [submit=-S] [begin=+S]
 *        [N=A|A-B] [n=TASKS] [c=CPT] [ntpn=N] [mem=MIB] [mempercpu=MIB] [t=MIN] [excl]
 *        [features=EXPR] [gres=gpu[:type]:N,...] [w=HOSTLIST] [x=HOSTLIST] [dep=wait]
 *        [array=ID:LIMIT:RUNNING]            a pending job (prio default 100, submit default -0)
 *   run ID PART on HOSTLIST [cpus=N] [mem=MIB] [gres=...] end=+S [start=-S] [preempting]
 *                                            a running job (preempting: already being preempted)
 *   susp ID PART on HOSTLIST [cpus=N] [mem=MIB] end=+S   a suspended job (end: if resumed now)
 *
 * Expected output, in this order:
 *   preempt ID MODE for ID / resume ID       preemptions and resumes in decision order
 *   start ID on HOSTLIST [backfill]          starts in decision order
 *   plan ID at +S on HOSTLIST                reservations (squeue --start), in input order
 *   reason ID NAME                           every pending job not started, in input order
 *   prio ID PRIORITY age=F size=F part=F fs=F   (multifactor only) pending jobs, input order
 *
 * Each file is scheduled twice and both outputs must be identical (determinism), and once more
 * with the reference search (SCHED_MODE_REFERENCE), which must agree too. On a mismatch
 * the test prints a line diff ("-" expected, "+" actual). Run with REGEN=1 in the environment
 * to rewrite every file's expected part from the actual output instead
 * (REGEN=1 meson test -C build sched), then review the change with git diff. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <flurm/hostlist.h>
#include <flurm/sched.h>
#include "sched/sched_internal.h"

#define GOLDEN_DIR SOURCE_ROOT "/tests/sched"
#define MAXN 256
#define MAXJ 256

/* ------------------------------------------------------------------ scenario model */

typedef struct scen {
    flurm_sched_node_t nodes[MAXN];
    char *feat_store[MAXN][8];
    flurm_sched_gres_t gres_store[MAXN][FLURM_SCHED_GRES_MAX];
    uint32_t nn;
    flurm_sched_part_t parts[16];
    uint32_t part_nodes[16][MAXN];
    uint32_t part_groups[16][8];
    uint32_t part_uids[16][8];
    uint32_t np;
    flurm_sched_job_t jobs[MAXJ];
    flurm_sched_gres_t job_gres[MAXJ][4];
    uint32_t job_req[MAXJ][16], job_exc[MAXJ][16], job_alloc[MAXJ][MAXN];
    uint32_t nj;
    flurm_sched_usage_t usage[16];
    flurm_sched_params_t params;
    char *strings[4096];
    uint32_t nstrings;
} scen_t;

static char *keep(scen_t *s, const char *str)
{
    char *d = strdup(str);
    assert_non_null(d);
    assert_true(s->nstrings < 4096);
    s->strings[s->nstrings++] = d;
    return d;
}

static void scen_free(scen_t *s)
{
    for (uint32_t i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s);
}

static int node_index(const scen_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->nn; i++)
        if (!strcmp(s->nodes[i].name, name))
            return (int)i;
    return -1;
}

/* Expands HOSTLIST into node indexes; fails the test on an unknown node. */
static uint32_t node_list(const scen_t *s, const char *expr, uint32_t *out, uint32_t max)
{
    flurm_hostlist_t *hl = flurm_hostlist_parse(expr, NULL);
    assert_non_null(hl);
    uint32_t n = 0;
    for (size_t i = 0; i < flurm_hostlist_count(hl); i++) {
        int k = node_index(s, flurm_hostlist_get(hl, i));
        if (k < 0)
            fail_msg("unknown node %s", flurm_hostlist_get(hl, i));
        assert_true(n < max);
        out[n++] = (uint32_t)k;
    }
    flurm_hostlist_free(hl);
    return n;
}

static uint32_t parse_gres(scen_t *s, char *v, flurm_sched_gres_t *g, uint32_t max)
{
    uint32_t n = 0;
    for (char *sv, *tok = strtok_r(v, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
        assert_true(n < max);
        char *a = strtok(tok, ":"), *b = strtok(NULL, ":"), *c = strtok(NULL, ":");
        g[n] = (flurm_sched_gres_t){ .name = keep(s, a) };
        if (c) {
            g[n].type = keep(s, b);
            g[n].count = (uint32_t)strtoul(c, NULL, 10);
        } else
            g[n].count = b ? (uint32_t)strtoul(b, NULL, 10) : 1;
        n++;
    }
    return n;
}

static flurm_sched_preempt_mode_t preempt_mode(const char *v)
{
    if (!strcmp(v, "OFF")) return FLURM_SCHED_PREEMPT_OFF;
    if (!strcmp(v, "CANCEL")) return FLURM_SCHED_PREEMPT_CANCEL;
    if (!strcmp(v, "REQUEUE")) return FLURM_SCHED_PREEMPT_REQUEUE;
    if (!strcmp(v, "SUSPEND")) return FLURM_SCHED_PREEMPT_SUSPEND;
    fail_msg("unknown preempt mode %s", v);
    return FLURM_SCHED_PREEMPT_INHERIT;
}

static int64_t rel(const scen_t *s, const char *v)
{
    return s->params.now + strtoll(v, NULL, 10);
}

static uint32_t minutes(const char *v)
{
    return !strcmp(v, "UNLIMITED") ? FLURM_SCHED_INFINITE : (uint32_t)strtoul(v, NULL, 10);
}

/* Parses the scenario part of TEXT (up to "---"); *EXPECT points after the separator line. */
static scen_t *scen_parse(const char *text, const char **expect)
{
    scen_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->params.now = 1000000;
    s->params.backfill = true;
    *expect = NULL;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        char line[1024];
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (p[len] == '\n');
        if (!strcmp(line, "---")) {
            *expect = p;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *sv, *kw = strtok_r(line, " \t", &sv);
        if (!kw)
            continue;
        if (!strcmp(kw, "now")) {
            s->params.now = strtoll(strtok_r(NULL, " \t", &sv), NULL, 10);
        } else if (!strcmp(kw, "param")) {
            char *k = strtok_r(NULL, " \t", &sv), *v = strtok_r(NULL, " \t", &sv);
            uint32_t u = (uint32_t)strtoul(v, NULL, 10);
            flurm_sched_params_t *pa = &s->params;
            if (!strcmp(k, "bf_window")) pa->bf_window = u;
            else if (!strcmp(k, "bf_resolution")) pa->bf_resolution = u;
            else if (!strcmp(k, "bf_max_job_test")) pa->bf_max_job_test = u;
            else if (!strcmp(k, "queue_depth")) pa->default_queue_depth = u;
            else if (!strcmp(k, "backfill")) pa->backfill = u;
            else if (!strcmp(k, "priority")) pa->priority_type = !strcmp(v, "multifactor") ? FLURM_SCHED_PRIORITY_MULTIFACTOR : FLURM_SCHED_PRIORITY_BASIC;
            else if (!strcmp(k, "weight_age")) pa->weight_age = u;
            else if (!strcmp(k, "weight_jobsize")) pa->weight_jobsize = u;
            else if (!strcmp(k, "weight_partition")) pa->weight_partition = u;
            else if (!strcmp(k, "weight_fairshare")) pa->weight_fairshare = u;
            else if (!strcmp(k, "max_age")) pa->priority_max_age = u;
            else if (!strcmp(k, "favor_small")) pa->priority_favor_small = u;
            else if (!strcmp(k, "preempt")) pa->preempt = u;
            else if (!strcmp(k, "preempt_mode")) pa->preempt_mode = preempt_mode(v);
            else if (!strcmp(k, "youngest_first")) pa->preempt_youngest_first = u;
            else fail_msg("unknown param %s", k);
        } else if (!strcmp(kw, "usage")) {
            uint32_t u = s->params.nusage++;
            s->usage[u].uid = (uint32_t)strtoul(strtok_r(NULL, " \t", &sv), NULL, 10);
            s->usage[u].usage = strtod(strtok_r(NULL, " \t", &sv), NULL);
            s->usage[u].shares = strtod(strtok_r(NULL, " \t", &sv), NULL);
            s->params.usage = s->usage;
        } else if (!strcmp(kw, "node")) {
            flurm_hostlist_t *hl = flurm_hostlist_parse(strtok_r(NULL, " \t", &sv), NULL);
            assert_non_null(hl);
            flurm_sched_node_t proto = { .cpus = 4, .real_memory = 8000, .weight = 1, .usable = true };
            char *feats = NULL, *gres = NULL;
            for (char *kv; (kv = strtok_r(NULL, " \t", &sv));) {
                char *v = strchr(kv, '=');
                assert_non_null(v);
                *v++ = '\0';
                if (!strcmp(kv, "cpus")) proto.cpus = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "mem")) proto.real_memory = strtoull(v, NULL, 10);
                else if (!strcmp(kv, "weight")) proto.weight = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "features")) feats = v;
                else if (!strcmp(kv, "gres")) gres = v;
                else if (!strcmp(kv, "state")) proto.usable = !strcmp(v, "up");
                else fail_msg("unknown node key %s", kv);
            }
            for (size_t i = 0; i < flurm_hostlist_count(hl); i++) {
                assert_true(s->nn < MAXN);
                uint32_t k = s->nn++;
                s->nodes[k] = proto;
                s->nodes[k].name = keep(s, flurm_hostlist_get(hl, i));
                if (feats) {
                    char *fc = keep(s, feats), *fs;
                    for (char *f = strtok_r(fc, ",", &fs); f; f = strtok_r(NULL, ",", &fs))
                        s->feat_store[k][s->nodes[k].nfeatures++] = f;
                    s->nodes[k].features = (const char *const *)s->feat_store[k];
                }
                if (gres) {
                    s->nodes[k].ngres = parse_gres(s, keep(s, gres), s->gres_store[k], FLURM_SCHED_GRES_MAX);
                    s->nodes[k].gres = s->gres_store[k];
                }
            }
            flurm_hostlist_free(hl);
        } else if (!strcmp(kw, "part")) {
            uint32_t q = s->np++;
            flurm_sched_part_t *pt = &s->parts[q];
            *pt = (flurm_sched_part_t){ .name = keep(s, strtok_r(NULL, " \t", &sv)),
                                        .max_time = FLURM_SCHED_INFINITE, .default_time = FLURM_SCHED_INFINITE,
                                        .max_nodes = FLURM_SCHED_INFINITE, .max_share = 1,
                                        .priority_job_factor = 1 };
            for (char *kv; (kv = strtok_r(NULL, " \t", &sv));) {
                char *v = strchr(kv, '=');
                assert_non_null(v);
                *v++ = '\0';
                if (!strcmp(kv, "nodes")) {
                    pt->nnodes = node_list(s, v, s->part_nodes[q], MAXN);
                    pt->nodes = s->part_nodes[q];
                } else if (!strcmp(kv, "maxtime")) pt->max_time = minutes(v);
                else if (!strcmp(kv, "default")) pt->default_time = minutes(v);
                else if (!strcmp(kv, "maxnodes")) pt->max_nodes = minutes(v);
                else if (!strcmp(kv, "tier")) pt->priority_tier = (uint16_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "factor")) pt->priority_job_factor = (uint16_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "preempt")) pt->preempt_mode = preempt_mode(v);
                else if (!strcmp(kv, "share")) pt->max_share = !strcmp(v, "EXCLUSIVE") ? 0 : 1;
                else if (!strcmp(kv, "state"))
                    pt->state = !strcmp(v, "DOWN") ? FLURM_SCHED_PART_DOWN : !strcmp(v, "DRAIN") ? FLURM_SCHED_PART_DRAIN
                              : !strcmp(v, "INACTIVE") ? FLURM_SCHED_PART_INACTIVE : FLURM_SCHED_PART_UP;
                else if (!strcmp(kv, "groups")) {
                    char *gs;
                    for (char *g = strtok_r(v, ",", &gs); g; g = strtok_r(NULL, ",", &gs))
                        s->part_groups[q][pt->nallow_gids++] = (uint32_t)strtoul(g, NULL, 10);
                    pt->allow_gids = s->part_groups[q];
                } else if (!strcmp(kv, "uids")) {   /* ascending, as the caller sorts them */
                    char *us;
                    for (char *u = strtok_r(v, ",", &us); u; u = strtok_r(NULL, ",", &us))
                        s->part_uids[q][pt->nallow_uids++] = (uint32_t)strtoul(u, NULL, 10);
                    pt->allow_uids = s->part_uids[q];
                } else fail_msg("unknown part key %s", kv);
            }
        } else if (!strcmp(kw, "job") || !strcmp(kw, "run") || !strcmp(kw, "susp")) {
            assert_true(s->nj < MAXJ);
            uint32_t k = s->nj++;
            flurm_sched_job_t *j = &s->jobs[k];
            *j = (flurm_sched_job_t){ .priority = 100, .submit_time = s->params.now, .dependency_ok = true,
                                      .uid = 1000, .gid = 1000 };
            j->job_id = (uint32_t)strtoul(strtok_r(NULL, " \t", &sv), NULL, 10);
            char *pn = strtok_r(NULL, " \t", &sv);
            uint32_t q = 0;
            while (q < s->np && strcmp(s->parts[q].name, pn))
                q++;
            if (q == s->np)
                fail_msg("unknown partition %s", pn);
            j->partition = q;
            bool run = !strcmp(kw, "run"), susp = !strcmp(kw, "susp");
            j->state = run ? FLURM_SCHED_JOB_RUNNING : susp ? FLURM_SCHED_JOB_SUSPENDED : FLURM_SCHED_JOB_PENDING;
            for (char *kv; (kv = strtok_r(NULL, " \t", &sv));) {
                if (!strcmp(kv, "excl")) { j->exclusive = true; continue; }
                if (!strcmp(kv, "preempting")) { j->preempting = true; continue; }
                if (!strcmp(kv, "on")) {
                    j->nalloc_nodes = node_list(s, strtok_r(NULL, " \t", &sv), s->job_alloc[k], MAXN);
                    j->alloc_nodes = s->job_alloc[k];
                    continue;
                }
                char *v = strchr(kv, '=');
                if (!v)
                    fail_msg("bad job token %s", kv);
                *v++ = '\0';
                if (!strcmp(kv, "prio")) j->priority = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "held")) {
                    j->priority = 0;
                    j->hold_reason = !strcmp(v, "user") ? FLURM_SCHED_WAIT_HELD_USER : FLURM_SCHED_WAIT_HELD;
                } else if (!strcmp(kv, "nice")) j->nice = (int32_t)strtol(v, NULL, 10);
                else if (!strcmp(kv, "user")) j->uid = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "gid")) j->gid = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "submit")) j->submit_time = rel(s, v);
                else if (!strcmp(kv, "begin")) j->begin_time = rel(s, v);
                else if (!strcmp(kv, "end")) j->end_time = rel(s, v);
                else if (!strcmp(kv, "start")) j->start_time = rel(s, v);
                else if (!strcmp(kv, "N")) {
                    char *dash;
                    j->min_nodes = (uint32_t)strtoul(v, &dash, 10);
                    j->max_nodes = *dash == '-' ? (uint32_t)strtoul(dash + 1, NULL, 10) : j->min_nodes;
                } else if (!strcmp(kv, "n")) j->ntasks = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "c")) j->cpus_per_task = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "ntpn")) j->ntasks_per_node = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "mem")) j->mem = strtoull(v, NULL, 10);
                else if (!strcmp(kv, "mempercpu")) { j->mem = strtoull(v, NULL, 10); j->mem_per_cpu = true; }
                else if (!strcmp(kv, "t")) j->time_limit = minutes(v);
                else if (!strcmp(kv, "features")) j->features = keep(s, v);
                else if (!strcmp(kv, "gres")) { j->ngres = parse_gres(s, keep(s, v), s->job_gres[k], 4); j->gres = s->job_gres[k]; }
                else if (!strcmp(kv, "w")) { j->nreq_nodes = node_list(s, v, s->job_req[k], 16); j->req_nodes = s->job_req[k]; }
                else if (!strcmp(kv, "x")) { j->nexc_nodes = node_list(s, v, s->job_exc[k], 16); j->exc_nodes = s->job_exc[k]; }
                else if (!strcmp(kv, "dep")) j->dependency_ok = strcmp(v, "wait") != 0;
                else if (!strcmp(kv, "cpus")) j->alloc_cpus_per_node = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(kv, "array")) {
                    j->array_job_id = (uint32_t)strtoul(strtok(v, ":"), NULL, 10);
                    j->array_task_limit = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
                    j->array_running = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
                } else fail_msg("unknown job key %s", kv);
            }
            if (susp) {
                j->alloc_mem_per_node = j->mem;
                if (!j->alloc_cpus_per_node && j->nalloc_nodes)
                    j->alloc_cpus_per_node = s->nodes[j->alloc_nodes[0]].cpus;
            }
            if (run) {
                j->alloc_mem_per_node = j->mem;
                for (uint32_t a = 0; a < j->nalloc_nodes; a++) {
                    flurm_sched_node_t *n = &s->nodes[j->alloc_nodes[a]];
                    uint32_t cpus = j->alloc_cpus_per_node ? j->alloc_cpus_per_node : n->cpus;
                    n->alloc_cpus += cpus;
                    n->alloc_mem += j->mem;
                    for (uint32_t g = 0; g < j->ngres; g++)
                        for (uint32_t e = 0; e < n->ngres; e++)
                            if (!strcmp(n->gres[e].name, j->gres[g].name) &&
                                (!j->gres[g].type || (n->gres[e].type && !strcmp(n->gres[e].type, j->gres[g].type)))) {
                                s->gres_store[j->alloc_nodes[a]][e].alloc += j->gres[g].count;
                                break;
                            }
                }
                if (!j->alloc_cpus_per_node && j->nalloc_nodes)
                    j->alloc_cpus_per_node = s->nodes[j->alloc_nodes[0]].cpus;
            }
        } else {
            fail_msg("unknown directive %s", kw);
        }
    }
    return s;
}

/* ------------------------------------------------------------------ output text */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *names(const scen_t *s, const uint32_t *idx, uint32_t n)
{
    flurm_hostlist_t *hl = flurm_hostlist_new();
    for (uint32_t i = 0; i < n; i++)
        flurm_hostlist_push_host(hl, s->nodes[idx[i]].name);
    char *c = flurm_hostlist_compress(hl);
    flurm_hostlist_free(hl);
    return c;
}

static char *render_mode(const scen_t *s, sched_mode_t mode)
{
    flurm_sched_input_t in = { .nodes = s->nodes, .nnodes = s->nn, .parts = s->parts, .nparts = s->np,
                               .jobs = s->jobs, .njobs = s->nj, .params = s->params };
    flurm_sched_output_t out;
    if (mode == SCHED_MODE_INDEXED)
        assert_int_equal(flurm_sched_run(&in, &out), FLURM_OK);
    else
        assert_int_equal(flurm_sched_run_mode(&in, &out, mode), FLURM_OK);
    sbuf_t b = { 0 };
    sb_printf(&b, "%s", "");
    static const char *const mode_names[] = { "INHERIT", "OFF", "CANCEL", "REQUEUE", "SUSPEND", "RESUME" };
    for (uint32_t i = 0; i < out.npreempts; i++) {
        const flurm_sched_preempt_t *pr = &out.preempts[i];
        assert_int_equal(s->jobs[pr->job_index].job_id, pr->job_id);
        if (pr->mode == FLURM_SCHED_PREEMPT_RESUME)
            sb_printf(&b, "resume %u\n", pr->job_id);
        else
            sb_printf(&b, "preempt %u %s for %u\n", pr->job_id, mode_names[pr->mode], pr->preemptor_id);
    }
    for (uint32_t i = 0; i < out.nstarts; i++) {
        char *h = names(s, out.starts[i].nodes, out.starts[i].nnodes);
        sb_printf(&b, "start %u on %s%s\n", out.starts[i].job_id, h, out.starts[i].backfill ? " backfill" : "");
        free(h);
    }
    for (uint32_t i = 0; i < out.njobs; i++)
        if (out.jobs[i].planned_start) {
            char *h = names(s, out.jobs[i].planned_nodes, out.jobs[i].nplanned_nodes);
            sb_printf(&b, "plan %u at +%lld on %s\n", out.jobs[i].job_id,
                      (long long)(out.jobs[i].planned_start - s->params.now), h);
            free(h);
        }
    for (uint32_t i = 0; i < out.njobs; i++)
        if (s->jobs[i].state == FLURM_SCHED_JOB_PENDING && out.jobs[i].reason)
            sb_printf(&b, "reason %u %s\n", out.jobs[i].job_id, flurm_sched_reason_str(out.jobs[i].reason));
    if (s->params.priority_type == FLURM_SCHED_PRIORITY_MULTIFACTOR)
        for (uint32_t i = 0; i < out.njobs; i++)
            if (s->jobs[i].state == FLURM_SCHED_JOB_PENDING)
                sb_printf(&b, "prio %u %u age=%.4f size=%.4f part=%.4f fs=%.4f\n", out.jobs[i].job_id,
                          out.jobs[i].priority, out.jobs[i].f_age, out.jobs[i].f_jobsize,
                          out.jobs[i].f_partition, out.jobs[i].f_fairshare);
    flurm_sched_output_free(&out);
    return b.p;
}

static char *render(const scen_t *s)
{
    return render_mode(s, SCHED_MODE_INDEXED);
}

/* ------------------------------------------------------------------ diff */

static uint32_t split_lines(char *text, char **lines, uint32_t max)
{
    uint32_t n = 0;
    for (char *sv, *l = strtok_r(text, "\n", &sv); l && n < max; l = strtok_r(NULL, "\n", &sv))
        if (*l && *l != '#')
            lines[n++] = l;
    return n;
}

/* Line diff by longest common subsequence; the files are small. */
static void print_diff(const char *path, char *want, char *got)
{
    static char *a[512], *b[512];
    static uint16_t L[513][513];
    uint32_t na = split_lines(want, a, 512), nb = split_lines(got, b, 512);
    for (int i = (int)na; i >= 0; i--)
        for (int j = (int)nb; j >= 0; j--)
            L[i][j] = (i == (int)na || j == (int)nb) ? 0
                    : !strcmp(a[i], b[j]) ? L[i + 1][j + 1] + 1
                    : L[i + 1][j] > L[i][j + 1] ? L[i + 1][j] : L[i][j + 1];
    print_message("%s: expected (-) vs actual (+):\n", path);
    uint32_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && !strcmp(a[i], b[j])) {
            print_message("  %s\n", a[i]);
            i++, j++;
        } else if (j < nb && (i == na || L[i][j + 1] >= L[i + 1][j])) {
            print_message("+ %s\n", b[j++]);
        } else {
            print_message("- %s\n", a[i++]);
        }
    }
}

/* Expected lines without comments and blank lines, joined. */
static char *normalise(const char *text)
{
    sbuf_t b = { 0 };
    sb_printf(&b, "%s", "");
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        if (len && *p != '#')
            sb_printf(&b, "%.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    return b.p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    assert_non_null(t);
    assert_int_equal(fread(t, 1, (size_t)n, f), (size_t)n);
    t[n] = '\0';
    fclose(f);
    return t;
}

static void test_sched_golden(void **state)
{
    const char *path = *state;
    char *text = slurp(path);
    const char *expect;
    scen_t *s = scen_parse(text, &expect);
    if (!expect)
        fail_msg("%s: no '---' line", path);
    char *got = render(s), *again = render(s), *ref = render_mode(s, SCHED_MODE_REFERENCE);
    assert_string_equal(got, again);   /* deterministic */
    assert_string_equal(got, ref);     /* the node index decides as the plain scan does */
    free(ref);
    const char *regen = getenv("REGEN");
    if (regen && !strcmp(regen, "1")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, (size_t)(expect - text), f);
        fputs(got, f);
        fclose(f);
    } else {
        char *want = normalise(expect);
        if (strcmp(want, got)) {
            print_diff(path, want, got);
            fail_msg("%s: output differs (REGEN=1 rewrites the expected part)", path);
        }
        free(want);
    }
    free(got);
    free(again);
    free(text);
    scen_free(s);
}

/* ------------------------------------------------------------------ expressions */

static void expect_expr(const char *in, const char *canon)
{
    flurm_sched_expr_t *e = NULL;
    assert_int_equal(flurm_sched_expr_parse(in, &e), FLURM_OK);
    char *s = flurm_sched_expr_str(e);
    assert_string_equal(s, canon);
    free(s);
    flurm_sched_expr_free(e);
}

static void test_sched_expr_parse_precedence_and_parentheses(void **state)
{
    (void)state;
    expect_expr("a", "a");
    expect_expr("a&b", "(a&b)");
    expect_expr("a|b&c", "(a|(b&c))");
    expect_expr("(a|b)&c", "((a|b)&c)");
    expect_expr(" a & b | c ", "((a&b)|c)");
    expect_expr("intel&(ib|opa)&big_mem", "((intel&(ib|opa))&big_mem)");
}

static void test_sched_expr_parse_rejects_malformed(void **state)
{
    (void)state;
    const char *bad[] = { "", "a&", "|a", "(a", "a)", "a&&b", "a*2", "[a|b]" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        flurm_sched_expr_t *e = (flurm_sched_expr_t *)1;
        assert_int_equal(flurm_sched_expr_parse(bad[i], &e), FLURM_EINVAL);
        assert_ptr_equal(e, (flurm_sched_expr_t *)1);   /* untouched */
    }
}

static void test_sched_expr_match_and_or(void **state)
{
    (void)state;
    const char *n1[] = { "intel", "ib" }, *n2[] = { "amd", "opa" };
    flurm_sched_expr_t *e;
    assert_int_equal(flurm_sched_expr_parse("(intel|amd)&ib", &e), FLURM_OK);
    assert_true(flurm_sched_expr_match(e, n1, 2));
    assert_false(flurm_sched_expr_match(e, n2, 2));
    assert_false(flurm_sched_expr_match(e, n1, 1));
    flurm_sched_expr_free(e);
    assert_true(flurm_sched_expr_match(NULL, NULL, 0));
    flurm_sched_expr_free(NULL);
}

/* ------------------------------------------------------------------ timelines */

static void test_sched_timeline_take_release_and_fit(void **state)
{
    (void)state;
    tl_t tl;
    tl_res_t now = { .cpus = 2, .mem = 100 }, r4 = { .cpus = 2, .mem = 50 };
    assert_int_equal(tl_init(&tl, &now), FLURM_OK);
    assert_int_equal(tl_release(&tl, 600, &r4, 0), FLURM_OK);   /* a job ends at +600 */
    assert_int_equal(tl.n, 2u);
    tl_res_t need = { .cpus = 4, .mem = 10 };
    int64_t next = 0;
    assert_false(tl_fits(&tl, 0, 60, &need, 0, &next));
    assert_int_equal(next, 600);                                /* retry when it ends */
    assert_true(tl_fits(&tl, 600, INT64_MAX, &need, 0, NULL));
    /* reserve [1200, 1800): a start at 600 for 900 s now collides, one at 1800 does not */
    assert_int_equal(tl_take(&tl, 1200, 1800, &need, 0), FLURM_OK);
    assert_int_equal(tl.n, 4u);
    assert_false(tl_fits(&tl, 600, 1500, &need, 0, &next));
    assert_int_equal(next, 1800);
    assert_true(tl_fits(&tl, 600, 1200, &need, 0, NULL));
    assert_true(tl_fits(&tl, 1800, 2400, &need, 0, NULL));
    tl_res_t min;
    tl_min(&tl, 0, INT64_MAX, 0, &min);
    assert_int_equal(min.cpus, 0);
    assert_int_equal(min.mem, 100);
    tl_min(&tl, 600, 1200, 0, &min);
    assert_int_equal(min.cpus, 4);
    assert_int_equal(min.mem, 150);
    /* taking at an existing breakpoint adds no new one */
    assert_int_equal(tl_take(&tl, 600, 1200, &(tl_res_t){ .cpus = 1 }, 0), FLURM_OK);
    assert_int_equal(tl.n, 4u);
    assert_int_equal(tl.free[1].cpus, 3);
    tl_destroy(&tl);
}

static void test_sched_timeline_block_holds_the_whole_node(void **state)
{
    (void)state;
    /* 8 CPUs, 2 gres: 4 CPUs free until 600, all after */
    tl_t tl;
    assert_int_equal(tl_init(&tl, &(tl_res_t){ .cpus = 4, .mem = 100, .gres = { 2 } }), FLURM_OK);
    assert_int_equal(tl_release(&tl, 600, &(tl_res_t){ .cpus = 4, .mem = 100 }, 1), FLURM_OK);
    /* a reservation over [300, 1200) empties both stretches it covers, gres included */
    assert_int_equal(tl_block(&tl, 300, 1200, 1), FLURM_OK);
    assert_int_equal(tl.n, 3u);
    assert_int_equal(tl.t[1], 300);
    assert_int_equal(tl.t[2], 1200);
    assert_true(tl.free[1].cpus == 0 && tl.free[1].mem == 0 && tl.free[1].gres[0] == 0);
    assert_int_equal(tl.free[2].cpus, 8);
    assert_int_equal(tl.free[2].gres[0], 2);
    int64_t next;
    assert_false(tl_fits(&tl, 0, 400, &(tl_res_t){ .cpus = 1 }, 1, &next));
    assert_int_equal(next, 1200);
    assert_true(tl_fits(&tl, 0, 300, &(tl_res_t){ .cpus = 4 }, 1, NULL));
    /* blocks next to it become one empty stretch: after [1200, 1500) and [0, 300) nothing is
     * free until 1500, in one stretch */
    assert_int_equal(tl_block(&tl, 1200, 1500, 1), FLURM_OK);
    assert_int_equal(tl.n, 3u);
    assert_int_equal(tl.t[2], 1500);
    assert_int_equal(tl_block(&tl, 0, 300, 1), FLURM_OK);
    assert_int_equal(tl.n, 2u);
    assert_int_equal(tl.t[1], 1500);
    assert_int_equal(tl.free[0].cpus, 0);
    assert_int_equal(tl.free[1].cpus, 8);
    /* to the end of time */
    assert_int_equal(tl_block(&tl, 3000, INT64_MAX, 1), FLURM_OK);
    assert_int_equal(tl.n, 3u);
    assert_int_equal(tl.free[2].cpus, 0);
    tl_destroy(&tl);
}

static void test_sched_timeline_gres_slots(void **state)
{
    (void)state;
    tl_t tl;
    tl_res_t now = { .cpus = 8, .mem = 0, .gres = { 2, 4 } };
    assert_int_equal(tl_init(&tl, &now), FLURM_OK);
    tl_res_t need = { .cpus = 1, .gres = { 0, 4 } };
    assert_true(tl_fits(&tl, 0, 60, &need, 2, NULL));
    assert_int_equal(tl_take(&tl, 0, 60, &need, 2), FLURM_OK);
    int64_t next;
    assert_false(tl_fits(&tl, 30, 90, &(tl_res_t){ .gres = { 0, 1 } }, 2, &next));
    assert_int_equal(next, 60);
    assert_true(tl_fits(&tl, 30, 90, &(tl_res_t){ .gres = { 2, 0 } }, 2, NULL));
    tl_destroy(&tl);
}

static void test_sched_timeline_run_starts_per_length(void **state)
{
    (void)state;
    /* 4 CPUs, 100 MiB: 2 CPUs free until 150, 4 from 150, none over [250, 300), 4 after */
    tl_t tl;
    assert_int_equal(tl_init(&tl, &(tl_res_t){ .cpus = 2, .mem = 100 }), FLURM_OK);
    assert_int_equal(tl_release(&tl, 150, &(tl_res_t){ .cpus = 2 }, 0), FLURM_OK);
    assert_int_equal(tl_take(&tl, 250, 300, &(tl_res_t){ .cpus = 4 }, 0), FLURM_OK);
    assert_int_equal(tl_find(&tl, 0), 0);
    assert_int_equal(tl_find(&tl, 149), 0);
    assert_int_equal(tl_find(&tl, 150), 1);
    assert_int_equal(tl_find(&tl, 1000), 3);
    const int64_t lens[] = { 50, 100, 101, INT64_MAX };
    int64_t out[4];
    /* 2 CPUs: [0, 250) then [300, end) */
    tl_run_starts(&tl, &(tl_res_t){ .cpus = 2, .mem = 10 }, 0, 1000, lens, 4, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 300);
    /* 3 CPUs: [150, 250) then [300, end) */
    tl_run_starts(&tl, &(tl_res_t){ .cpus = 3 }, 0, 1000, lens, 4, out);
    assert_int_equal(out[0], 150);
    assert_int_equal(out[1], 150);
    assert_int_equal(out[2], 300);
    assert_int_equal(out[3], 300);
    /* a stretch must begin before the limit */
    tl_run_starts(&tl, &(tl_res_t){ .cpus = 3 }, 0, 300, lens, 4, out);
    assert_int_equal(out[1], 150);
    assert_true(out[2] == INT64_MAX && out[3] == INT64_MAX);
    /* more memory than there is: never */
    tl_run_starts(&tl, &(tl_res_t){ .cpus = 1, .mem = 101 }, 0, 1000, lens, 4, out);
    assert_true(out[0] == INT64_MAX);
    tl_destroy(&tl);
}

static void test_sched_timeline_run_keys_nested_matches_one_by_one(void **state)
{
    (void)state;
    /* random timelines with a gres: every need's starts and the whole node's, found in one
     * walk, are what tl_run_starts gives one by one, as keys */
    uint64_t x = 12345;
    const uint32_t cpus[] = { 1, 2, 3, 5, 8 };
    const uint64_t mem[] = { 0, 10, 10, 40, 40 };
    const int64_t lens[] = { 60, 120, 120, 300, 900, INT64_MAX };
    const tl_res_t whole = { .cpus = 8, .mem = 64, .gres = { 2 } };
    const int64_t res = 30;
    uint32_t seen_whole = 0, seen_none = 0;
    for (int round = 0; round < 500; round++) {
        tl_t tl;
        assert_int_equal(tl_init(&tl, &whole), FLURM_OK);
        for (int k = 0; k < 6; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int64_t t0 = (int64_t)(x >> 33) % 20 * 60, t1 = t0 + 60 + (int64_t)(x >> 13) % 10 * 60;
            tl_res_t take = { .cpus = (uint32_t)(x >> 40) % 5, .mem = (x >> 50) % 30, .gres = { (x >> 20) % 2 } };
            if (k % 3 == 0)
                take = (tl_res_t){ .gres = { 1 } };   /* breaks only the whole-node need */
            if (k == 4 && round % 5 < 2)
                assert_int_equal(tl_block(&tl, t0, t1, 1), FLURM_OK);   /* a reservation */
            else if (tl_fits(&tl, t0, t1, &take, 1, NULL))
                assert_int_equal(tl_take(&tl, t0, t1, &take, 1), FLURM_OK);
        }
        int64_t lim = round % 3 ? 100000 : 600, one[6];
        uint16_t all[6 * 6], none = round % 2 ? 0xffff : 0xfffe;
        bool with_whole = round % 4 != 1;
        tl_run_keys_nested(&tl, cpus, mem, 5, with_whole ? &whole : NULL, 1, lim, res, none, lens, 6, all);
        for (uint32_t r = 0; r < 5u + with_whole; r++) {
            tl_res_t need = r < 5 ? (tl_res_t){ .cpus = cpus[r], .mem = mem[r] } : whole;
            tl_run_starts(&tl, &need, r < 5 ? 0 : 1, lim, lens, 6, one);
            for (uint32_t k = 0; k < 6; k++) {
                assert_int_equal(all[r * 6 + k], one[k] == INT64_MAX ? none : one[k] / res);
                seen_whole += r == 5 && one[k] != INT64_MAX;
                seen_none += one[k] == INT64_MAX;
            }
        }
        tl_destroy(&tl);
    }
    assert_true(seen_whole > 100 && seen_none > 100);   /* both kinds of answer were checked */
}

/* ------------------------------------------------------------------ API edges */

static void test_sched_run_rejects_bad_indexes(void **state)
{
    (void)state;
    flurm_sched_node_t n = { .name = "n1", .cpus = 1, .usable = true };
    uint32_t bad = 5;
    flurm_sched_part_t p = { .name = "p", .nodes = &bad, .nnodes = 1, .max_time = FLURM_SCHED_INFINITE };
    flurm_sched_input_t in = { .nodes = &n, .nnodes = 1, .parts = &p, .nparts = 1 };
    flurm_sched_output_t out = { .nstarts = 7 };
    assert_int_equal(flurm_sched_run(&in, &out), FLURM_EINVAL);
    assert_int_equal(out.nstarts, 7u);   /* untouched */
    uint32_t ok = 0;
    p.nodes = &ok;
    flurm_sched_job_t j = { .job_id = 1, .priority = 1, .partition = 0, .features = "a&", .dependency_ok = true };
    in.jobs = &j;
    in.njobs = 1;
    assert_int_equal(flurm_sched_run(&in, &out), FLURM_EINVAL);
    j.features = NULL;
    assert_int_equal(flurm_sched_run(&in, &out), FLURM_OK);
    assert_int_equal(out.nstarts, 1u);
    flurm_sched_output_free(&out);
    flurm_sched_output_free(NULL);
}

static void test_sched_reason_names_round_trip(void **state)
{
    (void)state;
    flurm_sched_reason_t r;
    assert_string_equal(flurm_sched_reason_str(FLURM_SCHED_WAIT_HELD_USER), "JobHeldUser");
    assert_int_equal(FLURM_SCHED_WAIT_TIME, 9);
    assert_int_equal(flurm_sched_reason_parse("ReqNodeNotAvail", &r), FLURM_OK);
    assert_int_equal(r, 15);
    assert_int_equal(flurm_sched_reason_parse("Nope", &r), FLURM_ENOENT);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    static char *paths[256];
    static struct CMUnitTest tests[300];
    size_t np = 0, nt = 0;
    DIR *d = opendir(GOLDEN_DIR);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", GOLDEN_DIR);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d)) && np < 256;) {
        size_t l = strlen(e->d_name);
        if (l > 6 && !strcmp(e->d_name + l - 6, ".sched") &&
            asprintf(&paths[np], "%s/%s", GOLDEN_DIR, e->d_name) > 0)
            np++;
    }
    closedir(d);
    qsort(paths, np, sizeof *paths, cmp_str);
    for (size_t i = 0; i < np; i++)
        tests[nt++] = (struct CMUnitTest){ .name = strrchr(paths[i], '/') + 1,
                                           .test_func = test_sched_golden, .initial_state = paths[i] };
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_expr_parse_precedence_and_parentheses);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_expr_parse_rejects_malformed);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_expr_match_and_or);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_timeline_take_release_and_fit);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_timeline_block_holds_the_whole_node);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_timeline_gres_slots);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_timeline_run_starts_per_length);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_timeline_run_keys_nested_matches_one_by_one);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_run_rejects_bad_indexes);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_sched_reason_names_round_trip);
    int rc = _cmocka_run_group_tests("sched", tests, nt, NULL, NULL);
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    return rc;
}
