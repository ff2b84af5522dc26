/* libflurm/state/state.c — see state.h. Pure: no clock, no I/O; time comes in with commands. */
#include "state/state.h"
#include "state/depend.h"
#include "state/requests.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include <flurm/hostlist.h>
#include <flurm/sched.h>
#include <flurm/log.h>
#include <flurm/sched_plugin.h>

#include "codec/msg_registry.h"
#include "codec/table.h"

#define TOP_PRIORITY 0xFFFF0000u      /* priority/basic: first job gets TOP_PRIORITY - 1 */
#define ALLOC_SID_ADMIN_HOLD 0x00000001u
#define ALLOC_SID_USER_HOLD 0x00000002u

/* SLURM return codes used here (slurm_errno.h). */
enum {
    RC_OK = 0, RC_ERROR = 1, RC_INVALID_PARTITION = 2000, RC_ACCESS_DENIED = 2002,
    RC_INVALID_NODE_NAME = 2018, RC_TRANSITION_STATE_NO_UPDATE = 2020, RC_ALREADY_DONE = 2021,
    RC_INVALID_JOB_ID = 2017, RC_JOB_PENDING = 2024, RC_INVALID_NODE_STATE = 2028,
    RC_DISABLED = 2037, RC_INVALID_TIME_LIMIT = 2051, RC_JOB_NOT_PENDING = 2073,
    RC_INVALID_NICE = 2123, RC_JOB_HELD = 2042, RC_JOB_FINISHED = 2084, RC_PRIO_RESET_FAIL = 2095,
    RC_UNEXPECTED_MSG = 1000, RC_JOB_NOT_SUSPENDED = 2087,
    RC_NOT_SUPPORTED = 2036, RC_DEPENDENCY = 2038, RC_CIRCULAR_DEPENDENCY = 2071,
};

typedef struct usage_rec {
    uint32_t uid;
    double usage;
} usage_rec_t;

struct flurm_state {
    const flurm_conf_t *conf;
    flurm_effect_t *effects;      /* of the command being applied (flurm_apply_result_t) */
    size_t neffects, effects_cap;
    flurm_sched_host_t *sched_host;   /* borrowed; NULL = the built-in scheduler */
    flurm_job_t **jobs;           /* id order; purged entries are NULL until compaction */
    size_t njobs, cap, live;
    uint32_t *hash;               /* open addressing: slot+1 of jobs[], 0 = empty */
    size_t hcap;
    uint32_t next_job_id;
    uint32_t lowest_prio;
    flurm_node_rt_t *nodes;
    flurm_part_rt_t *parts;
    time_t jobs_changed, nodes_changed, parts_changed;   /* by commands (replicated) */
    time_t jobs_seen, nodes_seen;  /* by the scheduler's derived fields (flurm_job_t.shown_reason,
                                    * factors, planned nodes): readers' update times count both */
    bool any_shown;                /* some job's shown_reason is set */
    uint64_t jobs_gen;            /* bumped by every change to any job record */
    flurm_state_stats_t stats;
    struct flurm_env_blob **envs; /* interned job environments, chained by hash */
    size_t nenv_slots;
    uint32_t dirty[4096];         /* ids of jobs changed since the last schedule pass */
    size_t ndirty, ndirty_cap;
    flurm_state_sched_stats_t sched;
    usage_rec_t *usage;           /* fair share: decayed CPU-seconds per user (sorted by uid), as
                                   * of usage_time */
    size_t nusage, usage_cap;
    time_t usage_time;            /* 0 = no command applied yet */
    bool deps_pending;            /* some job may hold a dependency text (deps_settle looks) */
    req_table_t reqs;             /* client requests applied recently (requests.h) */
};

/* Defined further down, used by the appliers above them. */
static bool job_on_node(const flurm_job_t *j, uint32_t node);
static void job_lost(flurm_state_t *st, flurm_job_t *j, time_t now);
static void down_node_jobs(flurm_state_t *st, uint32_t node, time_t now);
static void job_hold_for_kill(flurm_state_t *st, flurm_job_t *j, time_t now);
static bool usage_accrues(const flurm_job_t *j);
static void usage_advance(flurm_state_t *st, time_t now);
static bool node_usable(const flurm_node_rt_t *n);
static void node_settle(flurm_node_rt_t *n, time_t now);
static void job_hold_nodes(flurm_state_t *st, flurm_job_t *j, time_t now);
static void env_intern(flurm_state_t *st, flurm_job_t *j);
typedef enum dep_result { DEP_MET = 0, DEP_WAIT, DEP_NEVER } dep_result_t;
static dep_result_t dep_test(flurm_state_t *st, flurm_job_t *j, time_t now, bool keep, uint32_t *task);
static void deps_settle(flurm_state_t *st, time_t now, flurm_job_t *only);
static int dep_store(flurm_state_t *st, flurm_job_t *j, const char *text);

/* ---------------------------------------------------------------- job table */

static inline size_t hslot(uint32_t id, size_t cap) { return (id * 2654435761u) & (cap - 1); }

static int hash_rebuild(flurm_state_t *st, size_t cap)
{
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h)
        return FLURM_ENOMEM;
    for (size_t i = 0; i < st->njobs; i++) {
        if (!st->jobs[i])
            continue;
        size_t s = hslot(st->jobs[i]->job_id, cap);
        while (h[s])
            s = (s + 1) & (cap - 1);
        h[s] = (uint32_t)i + 1;
    }
    free(st->hash);
    st->hash = h;
    st->hcap = cap;
    return FLURM_OK;
}

static void compact(flurm_state_t *st)
{
    size_t w = 0;
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i])
            st->jobs[w++] = st->jobs[i];
    st->njobs = w;
    hash_rebuild(st, st->hcap);
}

flurm_job_t *flurm_state_find_job(const flurm_state_t *st, uint32_t id)
{
    if (!st->hcap)
        return NULL;
    for (size_t s = hslot(id, st->hcap); st->hash[s]; s = (s + 1) & (st->hcap - 1)) {
        flurm_job_t *j = st->jobs[st->hash[s] - 1];
        if (j && j->job_id == id)
            return j;
    }
    return NULL;
}

static int job_insert(flurm_state_t *st, flurm_job_t *j)
{
    if (st->njobs == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 1024;
        flurm_job_t **p = realloc(st->jobs, cap * sizeof *p);
        if (!p)
            return FLURM_ENOMEM;
        st->jobs = p;
        st->cap = cap;
    }
    if ((st->njobs + 1) * 2 > st->hcap) {
        st->jobs[st->njobs] = NULL;
        if (hash_rebuild(st, st->hcap ? st->hcap * 2 : 2048))
            return FLURM_ENOMEM;
    }
    st->jobs[st->njobs] = j;
    size_t s = hslot(j->job_id, st->hcap);
    while (st->hash[s])
        s = (s + 1) & (st->hcap - 1);
    st->hash[s] = (uint32_t)st->njobs + 1;
    st->njobs++;
    st->live++;
    env_intern(st, j);
    return FLURM_OK;
}

/* Jobs submitted from one shell carry the same environment (often 2-3 KB of small strings):
 * the table keeps one copy per distinct environment, shared read-only by the job_descs that
 * point at it. A desc whose environment is interned must drop the pointer before it is freed. */
typedef struct flurm_env_blob {
    uint64_t hash;
    uint32_t refs;
    uint32_t n;
    char **env;
    struct flurm_env_blob *next;
} env_blob_t;

static uint64_t env_hash(char *const *env, uint32_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (uint32_t i = 0; i < n; i++)
        for (const unsigned char *c = (const unsigned char *)(env[i] ? env[i] : ""); ; c++) {
            h = (h ^ *c) * 1099511628211ull;
            if (!*c)
                break;
        }
    return h;
}

static bool env_equal(char *const *a, char *const *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if ((a[i] == NULL) != (b[i] == NULL) || (a[i] && strcmp(a[i], b[i]) != 0))
            return false;
    return true;
}

/* Shares J's environment with earlier jobs that have the same one. Best effort: on failure
 * the desc keeps its own copy. */
static void env_intern(flurm_state_t *st, flurm_job_t *j)
{
    flurm_job_desc_msg_t *d = j->desc;
    if (!d || !d->environment || !d->env_size || j->env)
        return;
    if (!st->envs) {
        st->envs = calloc(4096, sizeof *st->envs);
        if (!st->envs)
            return;
        st->nenv_slots = 4096;
    }
    uint64_t h = env_hash(d->environment, d->env_size);
    env_blob_t **slot = &st->envs[h % st->nenv_slots];
    for (env_blob_t *b = *slot; b; b = b->next) {
        if (b->hash == h && b->n == d->env_size && env_equal(b->env, d->environment, b->n)) {
            flurm_str_array_free(d->environment, d->env_size);
            d->environment = b->env;
            b->refs++;
            j->env = b;
            return;
        }
    }
    env_blob_t *b = malloc(sizeof *b);
    if (!b)
        return;
    *b = (env_blob_t){ .hash = h, .refs = 1, .n = d->env_size, .env = d->environment, .next = *slot };
    *slot = b;
    j->env = b;
}

static void env_release(flurm_state_t *st, env_blob_t *b)
{
    if (--b->refs)
        return;
    for (env_blob_t **pp = &st->envs[b->hash % st->nenv_slots]; *pp; pp = &(*pp)->next) {
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    }
    flurm_str_array_free(b->env, b->n);
    free(b);
}

static void job_free(flurm_state_t *st, flurm_job_t *j)
{
    if (!j)
        return;
    if (j->env && j->desc) {
        j->desc->environment = NULL;   /* the table's, not the desc's */
        j->desc->env_size = 0;
        env_release(st, j->env);
    }
    if (j->desc) {
        flurm_msg_free(FLURM_REQUEST_SUBMIT_BATCH_JOB, j->desc);
    }
    free(j->array_pending);
    free(j->alloc_node);
    free(j->nodes);
    free(j->ran_on);
    free(j->planned_nodes);
    free(j);
}

/* Removes J from the table (purge). Tombstones keep slot numbers stable until compaction. */
static void job_remove(flurm_state_t *st, flurm_job_t *j)
{
    for (size_t s = hslot(j->job_id, st->hcap); st->hash[s]; s = (s + 1) & (st->hcap - 1)) {
        if (st->jobs[st->hash[s] - 1] == j) {
            st->jobs[st->hash[s] - 1] = NULL;
            break;
        }
    }
    st->live--;
    job_free(st, j);
    if (st->njobs > 1024 && st->live < st->njobs / 2)
        compact(st);
}

size_t flurm_state_job_count(const flurm_state_t *st) { return st->live; }
size_t flurm_state_job_slots(const flurm_state_t *st) { return st->njobs; }
flurm_job_t *flurm_state_job_at(const flurm_state_t *st, size_t i) { return i < st->njobs ? st->jobs[i] : NULL; }
uint32_t flurm_state_next_job_id(const flurm_state_t *st) { return st->next_job_id; }
const flurm_conf_t *flurm_state_conf(const flurm_state_t *st) { return st->conf; }
void flurm_state_set_scheduler(flurm_state_t *st, flurm_sched_host_t *h) { st->sched_host = h; }
flurm_node_rt_t *flurm_state_node(const flurm_state_t *st, size_t i) { return i < st->conf->node_count ? &st->nodes[i] : NULL; }
flurm_part_rt_t *flurm_state_part(const flurm_state_t *st, size_t i) { return i < st->conf->partition_count ? &st->parts[i] : NULL; }
time_t flurm_state_jobs_changed(const flurm_state_t *st)
{
    return st->jobs_changed > st->jobs_seen ? st->jobs_changed : st->jobs_seen;
}
uint64_t flurm_state_jobs_gen(const flurm_state_t *st) { return st->jobs_gen; }
time_t flurm_state_nodes_changed(const flurm_state_t *st)
{
    return st->nodes_changed > st->nodes_seen ? st->nodes_changed : st->nodes_seen;
}
time_t flurm_state_parts_changed(const flurm_state_t *st) { return st->parts_changed; }

void flurm_state_stats(const flurm_state_t *st, flurm_state_stats_t *out)
{
    *out = st->stats;
    out->jobs_pending = out->jobs_running = 0;
    for (size_t i = 0; i < st->njobs; i++) {
        const flurm_job_t *j = st->jobs[i];
        if (!j)
            continue;
        if ((j->job_state & 0xFF) == FLURM_JOB_PENDING)
            out->jobs_pending++;
        else if ((j->job_state & 0xFF) == FLURM_JOB_RUNNING)
            out->jobs_running++;
    }
}

/* ---------------------------------------------------------------- construction */

/* slurm.conf State= to SLURM's node_state (NODE_STATE_* | flags). */
static uint32_t node_state_from_conf(flurm_conf_node_state_t s)
{
    switch (s) {
    case FLURM_CONF_NODE_DOWN: return FLURM_NODE_STATE_DOWN;
    case FLURM_CONF_NODE_IDLE: return FLURM_NODE_STATE_IDLE;
    case FLURM_CONF_NODE_FUTURE: return FLURM_NODE_STATE_FUTURE;
    case FLURM_CONF_NODE_DRAIN: return FLURM_NODE_STATE_UNKNOWN | FLURM_NODE_STATE_DRAIN;
    case FLURM_CONF_NODE_FAIL: return FLURM_NODE_STATE_UNKNOWN | FLURM_NODE_STATE_FAIL;
    case FLURM_CONF_NODE_CLOUD: return FLURM_NODE_STATE_UNKNOWN | FLURM_NODE_STATE_CLOUD;
    default: return FLURM_NODE_STATE_UNKNOWN;
    }
}

static uint16_t part_state_from_conf(flurm_conf_part_state_t s)
{
    switch (s) {
    case FLURM_CONF_PART_DOWN: return FLURM_PARTITION_DOWN;
    case FLURM_CONF_PART_DRAIN: return FLURM_PARTITION_DRAIN;
    case FLURM_CONF_PART_INACTIVE: return FLURM_PARTITION_INACTIVE;
    default: return FLURM_PARTITION_UP;
    }
}

static void init_runtime(flurm_state_t *st)
{
    const flurm_conf_t *c = st->conf;
    for (size_t i = 0; i < c->node_count; i++) {
        /* Never heard from yet: not responding until its node daemon registers. */
        st->nodes[i] = (flurm_node_rt_t){ .state = node_state_from_conf(c->nodes[i].state) |
                                                   FLURM_NODE_STATE_NO_RESPOND,
                                          .reason_uid = FLURM_NO_VAL };
    }
    for (size_t i = 0; i < c->partition_count; i++) {
        st->parts[i] = (flurm_part_rt_t){ .state_up = part_state_from_conf(c->partitions[i].state),
                                          .max_time = c->partitions[i].max_time,
                                          .default_time = c->partitions[i].default_time };
    }
}

flurm_state_t *flurm_state_new(const flurm_conf_t *conf)
{
    flurm_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->conf = conf;
    st->nodes = calloc(conf->node_count ? conf->node_count : 1, sizeof *st->nodes);
    st->parts = calloc(conf->partition_count ? conf->partition_count : 1, sizeof *st->parts);
    if (!st->nodes || !st->parts) {
        flurm_state_free(st);
        return NULL;
    }
    init_runtime(st);
    st->next_job_id = conf->first_job_id ? conf->first_job_id : 1;
    st->ndirty_cap = sizeof st->dirty / sizeof st->dirty[0];
    st->lowest_prio = TOP_PRIORITY;
    return st;
}

static void clear_jobs(flurm_state_t *st)
{
    for (size_t i = 0; i < st->njobs; i++)
        job_free(st, st->jobs[i]);
    free(st->jobs);
    free(st->hash);
    free(st->envs);   /* empty now: every blob went with its last job */
    st->envs = NULL;
    st->nenv_slots = 0;
    st->jobs = NULL;
    st->hash = NULL;
    st->njobs = st->cap = st->hcap = st->live = 0;
}

void flurm_state_free(flurm_state_t *st)
{
    if (!st)
        return;
    clear_jobs(st);
    if (st->nodes)
        for (size_t i = 0; i < st->conf->node_count; i++) {
            free(st->nodes[i].reason);
            free(st->nodes[i].version);
            free(st->nodes[i].arch);
            free(st->nodes[i].os);
        }
    free(st->nodes);
    free(st->parts);
    free(st->usage);
    free(st->effects);
    req_table_free(&st->reqs);
    free(st);
}

/* ---------------------------------------------------------------- helpers */

/* Records that the command being applied asks for KIND on job JOB_ID. Out of memory, the effect
 * is lost and logged: the state stays exact, and a node that misses a launch or a kill is
 * reconciled when it registers again (the controller resends launches; a node's unknown jobs
 * are killed). */
static void effect(flurm_state_t *st, flurm_effect_kind_t kind, uint32_t job_id)
{
    if (st->neffects == st->effects_cap) {
        size_t cap = st->effects_cap ? st->effects_cap * 2 : 16;
        flurm_effect_t *e = realloc(st->effects, cap * sizeof *e);
        if (!e) {
            flurm_error("state: out of memory recording an effect on job %u", job_id);
            return;
        }
        st->effects = e;
        st->effects_cap = cap;
    }
    st->effects[st->neffects++] = (flurm_effect_t){ .kind = kind, .job_id = job_id };
}

static bool privileged(const flurm_state_t *st, uint32_t uid)
{
    return uid == 0 || uid == st->conf->slurm_user_id;
}

static bool multifactor(const flurm_conf_t *c)
{
    return c->priority_type && strcmp(c->priority_type, "priority/multifactor") == 0;
}

/* priority_basic.c priority_p_set: the next priority down, lowered by a positive nice unless that
 * would leave it below 1, raised by a negative one; at least 1. */
static uint32_t basic_nice(uint32_t prio, uint32_t nice)
{
    if (nice == FLURM_NO_VAL)
        return prio;
    int64_t off = (int64_t)nice - FLURM_NICE_OFFSET, p = prio;
    if (off <= 0 || p > off + 1)
        p -= off;
    return p < 1 ? 1 : p > TOP_PRIORITY ? TOP_PRIORITY : (uint32_t)p;
}

static int32_t part_by_name(const flurm_conf_t *c, const char *name)
{
    for (size_t i = 0; i < c->partition_count; i++)
        if (strcmp(c->partitions[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static int32_t default_part(const flurm_conf_t *c)
{
    for (size_t i = 0; i < c->partition_count; i++)
        if (c->partitions[i].is_default)
            return (int32_t)i;
    return c->partition_count ? 0 : -1;
}

int32_t flurm_state_resolve_partition(const flurm_conf_t *c, const char *req)
{
    if (!req || !*req)
        return default_part(c);
    char buf[256];
    const char *p = req;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n < sizeof buf) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            int32_t i = part_by_name(c, buf);
            if (i >= 0)
                return i;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return -1;
}

static uint32_t effective_time_limit(const flurm_state_t *st, const flurm_job_t *j)
{
    uint32_t req = j->desc ? j->desc->time_limit : FLURM_NO_VAL;
    if (req != FLURM_NO_VAL)
        return req;
    if (j->part_index < 0)
        return FLURM_INFINITE;
    const flurm_part_rt_t *p = &st->parts[j->part_index];
    return p->default_time != FLURM_NO_VAL ? p->default_time : p->max_time;
}

static inline bool job_finished(const flurm_job_t *j)
{
    uint32_t b = j->job_state & 0xFF;
    return b >= FLURM_JOB_COMPLETE;
}

/* ---------------------------------------------------------------- id/array expressions */

static int set_bit(uint64_t **bits, uint32_t *nbits, uint32_t i)
{
    if (i >= *nbits) {
        uint32_t n = i + 1;
        size_t oldw = ((size_t)*nbits + 63) / 64, neww = ((size_t)n + 63) / 64;
        if (neww != oldw || !*bits) {
            uint64_t *p = realloc(*bits, neww * sizeof *p);
            if (!p)
                return FLURM_ENOMEM;
            memset(p + oldw, 0, (neww - oldw) * sizeof *p);
            *bits = p;
        }
        *nbits = n;
    }
    (*bits)[i / 64] |= 1ull << (i % 64);
    return FLURM_OK;
}

static bool test_bit(const uint64_t *bits, uint32_t nbits, uint32_t i)
{
    return bits && i < nbits && (bits[i / 64] >> (i % 64) & 1);
}

static uint32_t count_bits(const uint64_t *bits, uint32_t nbits)
{
    uint32_t n = 0;
    for (size_t w = 0; bits && w < ((size_t)nbits + 63) / 64; w++)
        n += (uint32_t)__builtin_popcountll(bits[w]);
    return n;
}

/* "a-b:s,c" ranges into BITS; MAX_TASKS from "%n". */
static int parse_ranges(const char *s, uint64_t **bits, uint32_t *nbits, uint32_t *max_tasks)
{
    const uint32_t limit = 4000000;   /* SLURM's MaxArraySize ceiling */
    while (*s) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b, step = 1;
        if (end == s)
            return FLURM_EINVAL;
        b = a;
        s = end;
        if (*s == '-') {
            b = strtoul(++s, &end, 10);
            if (end == s)
                return FLURM_EINVAL;
            s = end;
            if (*s == ':') {
                step = strtoul(++s, &end, 10);
                if (end == s || step == 0)
                    return FLURM_EINVAL;
                s = end;
            }
        }
        if (b < a || b >= limit)
            return FLURM_EINVAL;
        for (unsigned long i = a; i <= b; i += step)
            if (set_bit(bits, nbits, (uint32_t)i))
                return FLURM_ENOMEM;
        if (*s == '%' && max_tasks) {
            unsigned long m = strtoul(++s, &end, 10);
            if (end == s)
                return FLURM_EINVAL;
            *max_tasks = (uint32_t)m;
            s = end;
        }
        if (*s == ',')
            s++;
        else if (*s)
            return FLURM_EINVAL;
    }
    return FLURM_OK;
}

int flurm_parse_array_spec(const char *s, uint64_t **bits, uint32_t *nbits, uint32_t *max_tasks)
{
    *bits = NULL;
    *nbits = 0;
    *max_tasks = 0;
    int rc = s && *s ? parse_ranges(s, bits, nbits, max_tasks) : FLURM_EINVAL;
    if (rc || !*nbits) {
        free(*bits);
        *bits = NULL;
        *nbits = 0;
        return rc ? rc : FLURM_EINVAL;
    }
    return FLURM_OK;
}

int flurm_parse_job_id_str(const char *s, uint32_t *job_id, uint64_t **tasks, uint32_t *ntasks,
                           bool *all_tasks)
{
    char *end;
    *tasks = NULL;
    *ntasks = 0;
    *all_tasks = false;
    if (!s || *s < '0' || *s > '9')
        return FLURM_EINVAL;
    unsigned long id = strtoul(s, &end, 10);
    if (id == 0 || id > 0xFFFFFFF0ul)
        return FLURM_EINVAL;
    *job_id = (uint32_t)id;
    if (*end == '\0')
        return FLURM_OK;
    if (*end != '_')
        return FLURM_EINVAL;
    s = end + 1;
    if (strcmp(s, "*") == 0) {
        *all_tasks = true;
        return FLURM_OK;
    }
    char buf[4096];
    size_t n = strlen(s);
    if (*s == '[') {
        if (n < 2 || s[n - 1] != ']' || n - 2 >= sizeof buf)
            return FLURM_EINVAL;
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        if (n >= sizeof buf)
            return FLURM_EINVAL;
        memcpy(buf, s, n + 1);
    }
    int rc = parse_ranges(buf, tasks, ntasks, NULL);
    /* "123_" and "123_[]" name no task: slurmctld (job_mgr.c job_str_signal) answers
     * ESLURM_INVALID_JOB_ID for an empty task set; they never mean the whole job. */
    if (!rc && !*ntasks)
        rc = FLURM_EINVAL;
    if (rc) {
        free(*tasks);
        *tasks = NULL;
        *ntasks = 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- commands */

int flurm_cmd_build(flurm_buf_t *out, uint16_t kind, time_t now, uint32_t uid, uint32_t gid,
                    uint32_t job_id, const char *host, const void *body, size_t body_len)
{
    return flurm_cmd_build_request(out, kind, now, uid, gid, job_id, host, NULL, body, body_len);
}

int flurm_cmd_build_request(flurm_buf_t *out, uint16_t kind, time_t now, uint32_t uid, uint32_t gid,
                            uint32_t job_id, const char *host, const uint8_t *request_id, const void *body,
                            size_t body_len)
{
    static const uint8_t none[FLURM_REQUEST_ID_LEN];
    flurm_pack8(out, FLURM_CMD_VERSION);
    flurm_pack16(out, kind);
    flurm_pack_time(out, now);
    flurm_pack32(out, uid);
    flurm_pack32(out, gid);
    flurm_pack32(out, job_id);
    flurm_packstr(out, host);
    flurm_pack_raw(out, request_id ? request_id : none, FLURM_REQUEST_ID_LEN);
    if (body_len > FLURM_MAX_PACK_LEN)
        return out->err ? out->err : (out->err = FLURM_ERANGE);
    flurm_packmem(out, body, (uint32_t)body_len);
    return out->err;
}

typedef struct cmd {
    uint16_t kind;
    time_t now;
    uint32_t uid, gid, job_id;
    char host[256];
    uint8_t req_id[FLURM_REQUEST_ID_LEN];
    bool has_req;                 /* REQ_ID is not all zero */
    const uint8_t *body;
    uint32_t body_len;
} cmd_t;

uint16_t flurm_cmd_kind(const void *cmd, size_t len)
{
    const uint8_t *p = cmd;
    if (!cmd || len < 3 || (p[0] != FLURM_CMD_VERSION && p[0] != 1))
        return 0;
    return (uint16_t)((p[1] << 8) | p[2]);
}

static int cmd_parse(const void *data, size_t len, cmd_t *c)
{
    flurm_buf_t b;
    uint8_t ver;
    flurm_buf_view(&b, data, len);
    flurm_unpack8(&b, &ver);
    flurm_unpack16(&b, &c->kind);
    flurm_unpack_time(&b, &c->now);
    flurm_unpack32(&b, &c->uid);
    flurm_unpack32(&b, &c->gid);
    flurm_unpack32(&b, &c->job_id);
    uint32_t hlen = 0;
    flurm_unpack32(&b, &hlen);
    c->host[0] = '\0';
    if (!b.err && hlen) {
        if (hlen > flurm_buf_remaining(&b))
            return FLURM_ETRUNC;
        size_t n = hlen < sizeof c->host ? hlen : sizeof c->host;
        memcpy(c->host, b.data + b.pos, n);
        c->host[n - 1] = '\0';
        flurm_unpack_skip(&b, hlen);
    }
    if (ver != FLURM_CMD_VERSION && ver != 1)   /* 1: no request id */
        return FLURM_EPROTO;
    memset(c->req_id, 0, sizeof c->req_id);
    c->has_req = false;
    if (ver >= 2 && !b.err) {
        if (flurm_buf_remaining(&b) < FLURM_REQUEST_ID_LEN)
            return FLURM_ETRUNC;
        memcpy(c->req_id, b.data + b.pos, FLURM_REQUEST_ID_LEN);
        flurm_unpack_skip(&b, FLURM_REQUEST_ID_LEN);
        for (size_t i = 0; i < FLURM_REQUEST_ID_LEN; i++)
            c->has_req |= c->req_id[i] != 0;
    }
    flurm_unpack32(&b, &c->body_len);
    if (b.err)
        return b.err;
    if (c->body_len > flurm_buf_remaining(&b))
        return FLURM_ETRUNC;
    c->body = b.data + b.pos;
    return FLURM_OK;
}

int flurm_cmd_body(const void *cmd, size_t len, const void **body, uint32_t *body_len)
{
    cmd_t c;
    int rc = cmd_parse(cmd, len, &c);
    if (rc != FLURM_OK)
        return rc;
    *body = c.body;
    *body_len = c.body_len;
    return FLURM_OK;
}

/* Remembers that job ID changed, so flurm_state_schedule_changed() looks at it. More changes
 * than fit mean "everything": the next pass is a full one. */
static void mark_dirty(flurm_state_t *st, uint32_t id)
{
    if (st->ndirty < st->ndirty_cap)
        st->dirty[st->ndirty] = id;
    if (st->ndirty <= st->ndirty_cap)
        st->ndirty++;
}

/* A change that can move any job's reason (node, partition, a job others may depend on). */
/* Every job may have changed: the next pass looks at all of them, and until it has, readers
 * see the reasons the commands left (a job requeued, held or released shows its own). */
static void mark_all(flurm_state_t *st)
{
    st->ndirty = st->ndirty_cap + 1;
    if (!st->any_shown)
        return;   /* always so on a follower: it runs no scheduler */
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i])
            st->jobs[i]->shown = false;
    st->any_shown = false;
}

static void touch_jobs(flurm_state_t *st, time_t now)
{
    st->jobs_gen++;
    if (now > st->jobs_changed)
        st->jobs_changed = now;
}

/* A derived field of a job changed (the scheduler's): readers must see it, the replicated
 * state has not changed. */
static void touch_shown(flurm_state_t *st, time_t now)
{
    st->jobs_gen++;
    if (now > st->jobs_seen)
        st->jobs_seen = now;
}

static uint32_t apply_submit(flurm_state_t *st, const cmd_t *c, flurm_apply_result_t *res)
{
    flurm_job_desc_msg_t *d = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_SUBMIT_BATCH_JOB, c->body, c->body_len, (void **)&d))
        return RC_ERROR;
    flurm_job_t *j = calloc(1, sizeof *j);
    if (!j) {
        flurm_msg_free(FLURM_REQUEST_SUBMIT_BATCH_JOB, d);
        return RC_ERROR;
    }
    j->desc = d;
    j->job_id = c->job_id;
    /* The proposer reserves the id from next_job_id before the command is applied; an array
     * task split off by a JOB_START applied in between may have taken it. The submit then gets
     * the next free id (res->job_id tells the requester), never a second record with the same
     * id. next_job_id is above every id in use. */
    if (flurm_state_find_job(st, j->job_id))
        j->job_id = st->next_job_id;
    j->user_id = c->uid;
    j->group_id = c->gid;
    /* root and SlurmUser may submit on behalf of another user (SLURM's _valid_id()). */
    if (privileged(st, c->uid) && d->user_id != FLURM_NO_VAL)
        j->user_id = d->user_id;
    if (privileged(st, c->uid) && d->group_id != FLURM_NO_VAL)
        j->group_id = d->group_id;
    j->job_state = FLURM_JOB_PENDING;
    j->submit_time = c->now;
    j->eligible_time = d->begin_time > c->now ? d->begin_time : 0;
    j->part_index = flurm_state_resolve_partition(st->conf, d->partition);
    j->array_task_id = FLURM_NO_VAL;
    j->alloc_node = strdup(c->host[0] ? c->host : (d->alloc_node ? d->alloc_node : "localhost"));
    j->last_sched_eval = c->now;
    if (d->array_inx && *d->array_inx) {
        if (flurm_parse_array_spec(d->array_inx, &j->array_pending, &j->array_nbits,
                                   &j->array_max_tasks) == FLURM_OK)
            j->array_job_id = j->job_id;
    }
    if (d->priority == 0) {
        j->priority = 0;
        j->state_reason = FLURM_WAIT_HELD_USER;
    } else if (d->priority != FLURM_NO_VAL && d->priority != FLURM_INFINITE &&
               privileged(st, c->uid)) {
        j->priority = d->priority;
    } else {
        j->priority = --st->lowest_prio;
        if (!multifactor(st->conf))
            j->priority = basic_nice(j->priority, d->nice);
    }
    j->time_limit = effective_time_limit(st, j);
    if (d->dependency && dep_store(st, j, d->dependency)) {
        job_free(st, j);
        return RC_DEPENDENCY;   /* the proposer checked it: only a corrupt log gets here */
    }
    if (job_insert(st, j)) {
        job_free(st, j);
        return RC_ERROR;
    }
    if (j->job_id >= st->next_job_id)
        st->next_job_id = j->job_id + 1;
    mark_dirty(st, j->job_id);
    st->stats.jobs_submitted++;
    touch_jobs(st, c->now);
    res->job_id = j->job_id;
    return RC_OK;
}

static void finish_job(flurm_state_t *st, flurm_job_t *j, uint32_t base, time_t now)
{
    j->job_state = base;
    j->end_time = now;
    if (!j->start_time)
        j->start_time = now;
    /* A cancelled job keeps the reason it last waited for (slurmctld does). */
    if (base != FLURM_JOB_CANCELLED)
        j->state_reason = FLURM_WAIT_NO_REASON;
    if (base == FLURM_JOB_CANCELLED)
        st->stats.jobs_canceled++;
    else if (base == FLURM_JOB_COMPLETE)
        st->stats.jobs_completed++;
    else if (base != FLURM_JOB_PREEMPTED)   /* sdiag counts a preempted job nowhere (22.05.8) */
        st->stats.jobs_failed++;
}

static void end_job(flurm_state_t *st, const flurm_cmd_end_t *e, time_t now);

/* Interactive allocation J ends as STATE (enum flurm_job_end_state) with WAIT_STATUS: its nodes
 * are free at once (nothing of it runs there), as a node's report frees a batch job's. */
static void end_allocation(flurm_state_t *st, flurm_job_t *j, uint8_t state, uint32_t wait_status, time_t now)
{
    if (!j->nodes)
        return;
    flurm_cmd_end_t e = { .job_id = j->job_id, .node = j->nodes[0], .state = state,
                          .wait_status = wait_status, .end_time = now };
    end_job(st, &e, now);
}

/* REQUEST_COMPLETE_JOB_ALLOCATION (salloc's command or srun ended; slurmctld job_complete()):
 * JOB_RC is a wait status (salloc: its command's; srun: its tasks' worst), NO_VAL: cancelled. A pending allocation is
 * cancelled. */
static uint32_t apply_complete_allocation(flurm_state_t *st, const cmd_t *c)
{
    flurm_complete_job_allocation_msg_t *m = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_COMPLETE_JOB_ALLOCATION, c->body, c->body_len, (void **)&m))
        return RC_ERROR;
    uint32_t rc = RC_OK, job_rc = m->job_rc;
    flurm_job_t *j = flurm_state_find_job(st, m->job_id);
    flurm_msg_free(FLURM_REQUEST_COMPLETE_JOB_ALLOCATION, m);
    if (!j)
        return RC_INVALID_JOB_ID;
    if (j->user_id != c->uid && !privileged(st, c->uid))
        return RC_ACCESS_DENIED;
    if (job_finished(j) || (j->job_state & FLURM_JOB_COMPLETING))
        return RC_ALREADY_DONE;
    if (flurm_job_is_batch(j))
        return RC_ERROR;   /* a batch job ends when its script does */
    if (!j->nodes) {
        finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
    } else if (job_rc == FLURM_NO_VAL) {
        finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
        end_allocation(st, j, FLURM_END_CANCELLED, 0, c->now);
    } else {
        /* JOB_RC is the command's wait status: FAILED when it exited nonzero or was killed */
        bool failed = WIFSIGNALED(job_rc) || (WIFEXITED(job_rc) && WEXITSTATUS(job_rc));
        end_allocation(st, j, failed ? FLURM_END_FAILED : FLURM_END_COMPLETED, job_rc, c->now);
    }
    touch_jobs(st, c->now);
    return rc;
}

static uint32_t apply_kill(flurm_state_t *st, const cmd_t *c)
{
    flurm_job_step_kill_msg_t *k = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_KILL_JOB, c->body, c->body_len, (void **)&k))
        return RC_ERROR;
    uint32_t rc = RC_OK, job_id = k->step_id.job_id;
    uint64_t *tasks = NULL;
    uint32_t ntasks = 0;
    bool all_tasks = false;
    if (k->sjob_id && flurm_parse_job_id_str(k->sjob_id, &job_id, &tasks, &ntasks, &all_tasks)) {
        rc = RC_INVALID_JOB_ID;
        goto out;
    }
    flurm_job_t *j = flurm_state_find_job(st, job_id);
    if (!j) {
        rc = RC_INVALID_JOB_ID;
        goto out;
    }
    if (j->user_id != c->uid && !privileged(st, c->uid)) {
        rc = RC_ACCESS_DENIED;
        goto out;
    }
    if (job_finished(j)) {
        rc = RC_ALREADY_DONE;
        goto out;
    }
    if ((j->job_state & 0xFF) == FLURM_JOB_PENDING && k->signal != SIGKILL) {
        /* slurmctld (job_mgr.c job_signal()) answers "try again later" to any other signal for
         * a pending job; scancel then retries with back-off. */
        rc = RC_TRANSITION_STATE_NO_UPDATE;
        goto out;
    }
    if (tasks) {
        /* Cancel some tasks of a pending array: they leave the pending set. */
        bool any = false;
        for (uint32_t t = 0; t < ntasks; t++) {
            if (test_bit(tasks, ntasks, t) && test_bit(j->array_pending, j->array_nbits, t)) {
                j->array_pending[t / 64] &= ~(1ull << (t % 64));
                any = true;
            }
        }
        if (!any) {
            rc = j->array_job_id ? RC_ALREADY_DONE : RC_INVALID_JOB_ID;
            goto out;
        }
        st->stats.jobs_canceled++;
        if (count_bits(j->array_pending, j->array_nbits) == 0)
            finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
    } else if (j->nodes && k->signal != SIGKILL) {
        /* A signal for a running job: the node delivers it; no job record changes, so neither
         * does the time clients compare their last_update with. */
        goto out;
    } else if (j->nodes && !flurm_job_is_batch(j)) {
        /* An interactive allocation: nothing of it runs on the nodes, they are free at once. */
        finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
        end_allocation(st, j, FLURM_END_CANCELLED, 0, c->now);
        effect(st, FLURM_EFFECT_REVOKED, j->job_id);
    } else if (j->nodes) {
        /* Running: CANCELLED at once, COMPLETING (holding its nodes) until the node reports
         * that the processes are gone. */
        job_hold_for_kill(st, j, c->now);
        finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
        j->job_state |= FLURM_JOB_COMPLETING;
        effect(st, FLURM_EFFECT_KILL, j->job_id);
    } else {
        finish_job(st, j, FLURM_JOB_CANCELLED, c->now);
        if (!flurm_job_is_batch(j))
            effect(st, FLURM_EFFECT_REVOKED, j->job_id);   /* its client still waits */
    }
    touch_jobs(st, c->now);
out:
    free(tasks);
    flurm_msg_free(FLURM_REQUEST_KILL_JOB, k);
    return rc;
}

static int replace_str(char **dst, const char *src)
{
    char *s = src ? strdup(src) : NULL;
    if (src && !s)
        return FLURM_ENOMEM;
    free(*dst);
    *dst = s;
    return FLURM_OK;
}

static uint32_t apply_update_job(flurm_state_t *st, const cmd_t *c)
{
    flurm_job_desc_msg_t *u = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_UPDATE_JOB, c->body, c->body_len, (void **)&u))
        return RC_ERROR;
    uint32_t rc = RC_OK, job_id = u->job_id;
    uint64_t *tasks = NULL;
    uint32_t ntasks = 0;
    bool all = false;
    if (u->job_id_str && flurm_parse_job_id_str(u->job_id_str, &job_id, &tasks, &ntasks, &all)) {
        rc = RC_INVALID_JOB_ID;
        goto out;
    }
    free(tasks);
    flurm_job_t *j = flurm_state_find_job(st, job_id);
    if (!j || !j->desc) {
        rc = RC_INVALID_JOB_ID;
        goto out;
    }
    /* slurmctld (job_mgr.c _update_job) refuses any update of a finished job with
     * ESLURM_JOB_FINISHED, before it looks at who asks. */
    if (job_finished(j)) {
        rc = RC_JOB_FINISHED;
        goto out;
    }
    bool admin = privileged(st, c->uid);
    if (j->user_id != c->uid && !admin) {
        rc = RC_ACCESS_DENIED;
        goto out;
    }
    bool pending = (j->job_state & 0xFF) == FLURM_JOB_PENDING;
    /* Check everything first, then change: a rejected update changes nothing. */
    if (u->time_limit != FLURM_NO_VAL && !admin && u->time_limit > j->time_limit) {
        rc = RC_ACCESS_DENIED;   /* users may only lower their time limit */
        goto out;
    }
    if (u->priority != FLURM_NO_VAL) {
        if (u->priority == 0 || u->priority == FLURM_INFINITE) {
            if (!pending) {
                rc = RC_JOB_NOT_PENDING;
                goto out;
            }
            if (u->priority == FLURM_INFINITE && j->priority == 0 &&
                j->state_reason == FLURM_WAIT_HELD && !admin) {
                rc = RC_ACCESS_DENIED;   /* only an admin releases an admin hold */
                goto out;
            }
        } else if (!admin) {
            /* slurmctld (job_mgr.c _update_job): a user's explicit priority is refused, with the
             * hold reported first when the job is held. */
            rc = j->priority == 0 ? RC_JOB_HELD : RC_PRIO_RESET_FAIL;
            goto out;
        }
    }
    int32_t new_part = j->part_index;
    if (u->partition) {
        if (!pending) {
            rc = RC_JOB_NOT_PENDING;
            goto out;
        }
        new_part = flurm_state_resolve_partition(st->conf, u->partition);
        if (new_part < 0) {
            rc = RC_INVALID_PARTITION;
            goto out;
        }
    }
    /* job_mgr.c _update_job: a negative nice needs an operator, refused with
     * ESLURM_ACCESS_DENIED (at submit it is ESLURM_INVALID_NICE, validate_job_create_req) */
    if (u->nice != FLURM_NO_VAL && u->nice < FLURM_NICE_OFFSET && !admin) {
        rc = RC_ACCESS_DENIED;
        goto out;
    }
    if (u->begin_time && !pending) {
        rc = RC_JOB_NOT_PENDING;   /* StartTime= of a started job (job_mgr.c _update_job) */
        goto out;
    }
    if (u->dependency) {
        /* slurmctld (job_mgr.c _update_job): only a pending job's dependency changes */
        rc = pending ? flurm_state_dep_check(st, j->job_id, u->dependency) : RC_JOB_NOT_PENDING;
        if (rc)
            goto out;
    }

    flurm_job_desc_msg_t *d = j->desc;
    if (u->time_limit != FLURM_NO_VAL)
        d->time_limit = u->time_limit;
    if (u->priority == 0) {
        /* slurmctld (job_mgr.c _update_job): an operator's hold is an admin hold unless
         * alloc_sid is exactly ALLOC_SID_USER_HOLD (scontrol uhold; scontrol hold sends
         * ALLOC_SID_ADMIN_HOLD and "update priority=0" leaves NO_VAL, whose bits include the
         * user-hold bit). Holding an already held job only lets an operator switch the kind:
         * a user's hold must not turn an admin hold into one the user may release. */
        if (j->priority != 0 || admin) {
            j->priority = 0;
            j->state_reason = admin && u->alloc_sid != ALLOC_SID_USER_HOLD ? FLURM_WAIT_HELD
                                                                           : FLURM_WAIT_HELD_USER;
        }
    } else if (u->priority == FLURM_INFINITE) {
        if (j->priority == 0) {
            j->priority = --st->lowest_prio;
            if (!multifactor(st->conf))
                j->priority = basic_nice(j->priority, d->nice);   /* a new nice moves it below */
            j->state_reason = FLURM_WAIT_NO_REASON;
        }
    } else if (u->priority != FLURM_NO_VAL) {
        j->priority = u->priority;
        if (j->state_reason == FLURM_WAIT_HELD || j->state_reason == FLURM_WAIT_HELD_USER)
            j->state_reason = FLURM_WAIT_NO_REASON;
    }
    if (u->nice != FLURM_NO_VAL) {
        uint32_t was = d->nice == FLURM_NO_VAL ? FLURM_NICE_OFFSET : d->nice;
        /* priority/basic (job_mgr.c _update_job): the priority moves by the change of nice,
         * to at least 2. A held job stays held (slurmctld would release it: 0 + delta). */
        if (j->priority && was != u->nice && !multifactor(st->conf)) {
            int64_t p = (int64_t)j->priority + was - u->nice;
            j->priority = p < 2 ? 2 : p > TOP_PRIORITY ? TOP_PRIORITY : (uint32_t)p;
        }
        d->nice = u->nice;
    }
    if (u->begin_time) {
        /* scontrol update StartTime=: the job is eligible from then (BeginTime until) */
        j->eligible_time = u->begin_time > c->now ? u->begin_time : c->now;
        if (j->state_reason == 9 /* BeginTime */ && j->eligible_time <= c->now)
            j->state_reason = FLURM_WAIT_NO_REASON;
    }
    if (u->name)
        replace_str(&d->name, u->name);
    if (u->comment)
        replace_str(&d->comment, u->comment);
    if (u->dependency) {
        dep_store(st, j, u->dependency);
        if (j->state_reason == FLURM_WAIT_DEP_INVALID)
            j->state_reason = FLURM_WAIT_NO_REASON;   /* tested afresh */
    }
    if (u->partition) {
        replace_str(&d->partition, u->partition);
        j->part_index = new_part;
    }
    j->time_limit = effective_time_limit(st, j);
    touch_jobs(st, c->now);
out:
    flurm_msg_free(FLURM_REQUEST_UPDATE_JOB, u);
    return rc;
}

static uint32_t apply_update_node(flurm_state_t *st, const cmd_t *c)
{
    flurm_update_node_msg_t *u = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_UPDATE_NODE, c->body, c->body_len, (void **)&u))
        return RC_ERROR;
    uint32_t rc = RC_OK;
    flurm_err_t err = FLURM_OK;
    flurm_hostlist_t *hl = u->node_names ? flurm_hostlist_parse(u->node_names, &err) : NULL;
    size_t n = hl ? flurm_hostlist_count(hl) : 0;
    ssize_t *idx = calloc(n ? n : 1, sizeof *idx);
    if (!hl || !idx) {
        rc = RC_INVALID_NODE_NAME;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = flurm_conf_node_index(st->conf, flurm_hostlist_get(hl, i));
        if (idx[i] < 0) {
            rc = RC_INVALID_NODE_NAME;
            goto out;
        }
    }
    uint32_t want = u->node_state;
    if (want != FLURM_NO_VAL && want != FLURM_NODE_STATE_DRAIN && want != FLURM_NODE_RESUME &&
        want != FLURM_NODE_STATE_UNDRAIN && want != FLURM_NODE_STATE_DOWN &&
        want != FLURM_NODE_STATE_IDLE && want != FLURM_NODE_STATE_FAIL) {
        rc = RC_INVALID_NODE_STATE;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        flurm_node_rt_t *nd = &st->nodes[idx[i]];
        /* slurmctld (node_mgr.c update_node()) clears the drain of a node in state UNKNOWN but
         * still answers "Invalid node state specified": mirror both halves. */
        if (want == FLURM_NODE_RESUME && (nd->state & 0xF) == FLURM_NODE_STATE_UNKNOWN)
            rc = RC_INVALID_NODE_STATE;
        switch (want) {
        case FLURM_NODE_STATE_DRAIN:
        case FLURM_NODE_STATE_FAIL:
            nd->state |= want;
            break;
        case FLURM_NODE_STATE_DOWN:
            nd->state = (nd->state & ~0xFu) | FLURM_NODE_STATE_DOWN;
            nd->state &= ~(uint32_t)FLURM_NODE_STATE_DRAIN;
            down_node_jobs(st, (uint32_t)idx[i], c->now);
            break;
        case FLURM_NODE_RESUME:
        case FLURM_NODE_STATE_IDLE:
        case FLURM_NODE_STATE_UNDRAIN:
            nd->state &= ~(uint32_t)(FLURM_NODE_STATE_DRAIN | FLURM_NODE_STATE_FAIL);
            /* A DOWN node resumes to IDLE; one that never registered stays UNKNOWN. */
            if (want != FLURM_NODE_STATE_UNDRAIN && (nd->state & 0xF) == FLURM_NODE_STATE_DOWN)
                nd->state = (nd->state & ~0xFu) |
                            ((nd->state & FLURM_NODE_STATE_NO_RESPOND) ? FLURM_NODE_STATE_UNKNOWN
                                                                       : FLURM_NODE_STATE_IDLE);
            /* back up: ALLOCATED while jobs still hold it (an admin DOWN's kills, until the
             * node reports them done) */
            node_settle(nd, c->now);
            free(nd->reason);
            nd->reason = NULL;
            nd->reason_time = 0;
            nd->reason_uid = FLURM_NO_VAL;
            break;
        default:
            break;
        }
        if (u->reason && want != FLURM_NODE_RESUME && want != FLURM_NODE_STATE_IDLE &&
            want != FLURM_NODE_STATE_UNDRAIN) {
            replace_str(&nd->reason, u->reason);
            nd->reason_time = c->now;
            nd->reason_uid = c->uid;
        }
    }
    if (c->now > st->nodes_changed)
        st->nodes_changed = c->now;
out:
    free(idx);
    flurm_hostlist_free(hl);
    flurm_msg_free(FLURM_REQUEST_UPDATE_NODE, u);
    return rc;
}

static uint32_t apply_update_part(flurm_state_t *st, const cmd_t *c)
{
    flurm_update_part_msg_t *u = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_UPDATE_PARTITION, c->body, c->body_len, (void **)&u))
        return RC_ERROR;
    uint32_t rc = RC_OK;
    int32_t pi = u->name ? part_by_name(st->conf, u->name) : -1;
    if (pi < 0) {
        rc = RC_INVALID_PARTITION;
        goto out;
    }
    flurm_part_rt_t *p = &st->parts[pi];
    if (u->state_up != FLURM_NO_VAL16)
        p->state_up = u->state_up;
    if (u->max_time != FLURM_NO_VAL)
        p->max_time = u->max_time;
    if (u->default_time != FLURM_NO_VAL)
        p->default_time = u->default_time;
    for (size_t i = 0; i < st->njobs; i++) {
        flurm_job_t *j = st->jobs[i];
        if (j && j->part_index == pi && (j->job_state & 0xFF) == FLURM_JOB_PENDING)
            j->time_limit = effective_time_limit(st, j);
    }
    if (c->now > st->parts_changed)
        st->parts_changed = c->now;
    touch_jobs(st, c->now);
out:
    flurm_msg_free(FLURM_REQUEST_UPDATE_PARTITION, u);
    return rc;
}

static uint32_t apply_id_list(flurm_state_t *st, const cmd_t *c)
{
    flurm_buf_t b;
    uint32_t n, *ids = NULL;
    flurm_buf_view(&b, c->body, c->body_len);
    if (flurm_unpack32_array(&b, &ids, &n))
        return RC_ERROR;
    for (uint32_t i = 0; i < n; i++) {
        if (c->kind == FLURM_CMD_PURGE_JOBS) {
            flurm_job_t *j = flurm_state_find_job(st, ids[i]);
            if (j && job_finished(j) && !j->nodes)
                job_remove(st, j);
        } else if (ids[i] < st->conf->node_count) {
            for (size_t k = 0; k < st->njobs; k++) {
                flurm_job_t *j = st->jobs[k];
                if (j && j->nodes && job_on_node(j, ids[i]))
                    job_lost(st, j, c->now);
            }
            flurm_node_rt_t *nd = &st->nodes[ids[i]];
            nd->state = (nd->state & ~0xFu) | FLURM_NODE_STATE_DOWN | FLURM_NODE_STATE_NO_RESPOND;
            if (!nd->reason) {
                nd->reason = strdup("Not responding");
                nd->reason_time = c->now;
                nd->reason_uid = st->conf->slurm_user_id;
            }
        }
    }
    free(ids);
    touch_jobs(st, c->now);   /* purged records, or jobs requeued/failed with their nodes */
    if (c->kind != FLURM_CMD_PURGE_JOBS && c->now > st->nodes_changed)
        st->nodes_changed = c->now;
    return RC_OK;
}


/* ---------------------------------------------------------------- node and job lifecycle */

static const flurm_field_t end_fields[] = {
    FLD_U32(flurm_cmd_end_t, job_id), FLD_U32(flurm_cmd_end_t, node), FLD_U8(flurm_cmd_end_t, state),
    FLD_U32(flurm_cmd_end_t, wait_status), FLD_TIME(flurm_cmd_end_t, start_time),
    FLD_TIME(flurm_cmd_end_t, end_time), FLD_U64(flurm_cmd_end_t, max_rss_kb),
};
static FLURM_TABLE(end_table, flurm_cmd_end_t, end_fields);

static const flurm_field_t register_fields[] = {
    FLD_U32(flurm_cmd_register_t, node), FLD_U64(flurm_cmd_register_t, boot_id),
    FLD_TIME(flurm_cmd_register_t, boot_time), FLD_TIME(flurm_cmd_register_t, start_time),
    FLD_STR(flurm_cmd_register_t, version), FLD_STR(flurm_cmd_register_t, arch),
    FLD_STR(flurm_cmd_register_t, os),
    FLD_U32_ARRAY(flurm_cmd_register_t, running, nrunning),
    FLD_LIST(flurm_cmd_register_t, ended, nended, end_table),
};
static FLURM_TABLE(register_table, flurm_cmd_register_t, register_fields);

static const flurm_field_t start_fields[] = {
    FLD_U32(flurm_cmd_start_t, job_id), FLD_U32(flurm_cmd_start_t, array_task_id),
    FLD_U32(flurm_cmd_start_t, cpus_per_node), FLD_U64(flurm_cmd_start_t, mem_per_node),
    FLD_U32_ARRAY(flurm_cmd_start_t, nodes, nnodes),
};
static FLURM_TABLE(start_table, flurm_cmd_start_t, start_fields);

static const flurm_field_t preempt_fields[] = {
    FLD_U32(flurm_cmd_preempt_t, job_id), FLD_U8(flurm_cmd_preempt_t, action),
    FLD_U32(flurm_cmd_preempt_t, preemptor_id),
};
static FLURM_TABLE(preempt_table, flurm_cmd_preempt_t, preempt_fields);

int flurm_cmd_preempt_pack(const flurm_cmd_preempt_t *m, flurm_buf_t *out) { return flurm_table_pack(&preempt_table, m, out); }
int flurm_cmd_register_pack(const flurm_cmd_register_t *m, flurm_buf_t *out) { return flurm_table_pack(&register_table, m, out); }
int flurm_cmd_start_pack(const flurm_cmd_start_t *m, flurm_buf_t *out) { return flurm_table_pack(&start_table, m, out); }
int flurm_cmd_end_pack(const flurm_cmd_end_t *m, flurm_buf_t *out) { return flurm_table_pack(&end_table, m, out); }

static int unpack_body(const flurm_table_t *t, const cmd_t *c, void *out)
{
    flurm_buf_t b;
    flurm_buf_view(&b, c->body, c->body_len);
    return flurm_table_unpack(t, out, &b);
}

/* A node's base state follows from what it holds: ALLOCATED with jobs, IDLE without (clients
 * derive "mixed" from alloc_cpus, "draining"/"drained" from the DRAIN flag on top). */
static void node_settle(flurm_node_rt_t *n, time_t now)
{
    uint32_t base = n->state & 0xF;
    if (base != FLURM_NODE_STATE_IDLE && base != FLURM_NODE_STATE_ALLOCATED &&
        base != FLURM_NODE_STATE_MIXED)
        return;
    n->state = (n->state & ~0xFu) | (n->njobs ? FLURM_NODE_STATE_ALLOCATED : FLURM_NODE_STATE_IDLE);
    if (!n->njobs)
        n->last_busy = now;
}

static void job_release(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    if (usage_accrues(j))
        usage_advance(st, now);
    for (uint32_t i = 0; j->nodes && i < j->nnodes; i++) {
        flurm_node_rt_t *n = &st->nodes[j->nodes[i]];
        n->alloc_cpus -= j->cpus_per_node <= n->alloc_cpus ? j->cpus_per_node : n->alloc_cpus;
        n->alloc_mem -= j->mem_per_node <= n->alloc_mem ? j->mem_per_node : n->alloc_mem;
        if (n->njobs)
            n->njobs--;
        node_settle(n, now);
    }
    j->job_state &= ~(uint32_t)FLURM_JOB_COMPLETING;
    if (j->nodes && now > st->nodes_changed)
        st->nodes_changed = now;
}

static void job_hold_nodes(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    for (uint32_t i = 0; i < j->nnodes; i++) {
        flurm_node_rt_t *n = &st->nodes[j->nodes[i]];
        n->alloc_cpus += j->cpus_per_node;
        n->alloc_mem += j->mem_per_node;
        n->njobs++;
        node_settle(n, now);
    }
    if (now > st->nodes_changed)
        st->nodes_changed = now;
}

static bool job_on_node(const flurm_job_t *j, uint32_t node)
{
    for (uint32_t i = 0; j->nodes && i < j->nnodes; i++)
        if (j->nodes[i] == node)
            return true;
    return false;
}

/* The job's --requeue, else JobRequeue (default 1). */
static bool job_requeueable(const flurm_state_t *st, const flurm_job_t *j)
{
    uint16_t rq = j->desc ? j->desc->requeue : FLURM_NO_VAL16;
    if (rq != FLURM_NO_VAL16)
        return rq != 0;
    const char *v = flurm_conf_get(st->conf, "JobRequeue");
    return !v || strtoul(v, NULL, 10) != 0;
}

/* A requeued job's processes are gone (slurmctld batch_requeue_fini()): it pends again as if
 * submitted now, held back until the job credential has expired (begin = now + 121 s, shown
 * as reason BeginTime; checked against 22.05.8). */
static void requeue_done(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    j->job_state = FLURM_JOB_PENDING;
    j->submit_time = now;
    j->eligible_time = now + 121;
    j->start_time = j->end_time = 0;
    if (j->priority)
        j->state_reason = 9;   /* WAIT_TIME: BeginTime (a held job keeps its hold reason) */
    j->exit_code = 0;
    j->suspend_time = 0;
    j->pre_sus_time = j->tot_sus_time = 0;
    touch_jobs(st, now);
}

/* J is about to be killed on its nodes. A job suspended by preemption holds nothing there: it
 * takes its share back for that while (the node may be briefly overbooked), which the
 * reported end releases. */
static void job_hold_for_kill(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    if (j->sus_released) {
        job_hold_nodes(st, j, now);
        j->sus_released = false;
    }
}

/* J, holding its nodes, is killed to pend again (slurmctld job_requeue()): PENDING|COMPLETING
 * (squeue CG) with the restart counted at once; requeue_done() once the node reports the
 * processes gone. */
static void job_requeue_running(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    job_hold_for_kill(st, j, now);
    j->job_state = FLURM_JOB_PENDING | FLURM_JOB_COMPLETING;
    j->restart_cnt++;
    j->preempt_time = 0;
    j->state_reason = FLURM_WAIT_NO_REASON;
}

/* An operator set node NODE DOWN (slurmctld update_node() -> kill_running_job_by_node_name()):
 * each job running or suspended on it is killed on all of its nodes. A requeueable one pends
 * again once its processes are gone (PENDING|COMPLETING, as after scontrol requeue); another
 * ends NODE_FAIL with reason NodeDown (NODE_FAIL|COMPLETING until then). Both keep their
 * nodes until the kill is reported (or the node is lost). */
static void down_node_jobs(flurm_state_t *st, uint32_t node, time_t now)
{
    bool any = false;
    for (size_t k = 0; k < st->njobs; k++) {
        flurm_job_t *j = st->jobs[k];
        uint32_t base = j ? j->job_state & FLURM_JOB_STATE_BASE : 0;
        if (!j || !j->nodes || (j->job_state & FLURM_JOB_COMPLETING) || !job_on_node(j, node) ||
            (base != FLURM_JOB_RUNNING && base != FLURM_JOB_SUSPENDED))
            continue;
        if (job_requeueable(st, j)) {
            job_requeue_running(st, j, now);
        } else {
            job_hold_for_kill(st, j, now);
            finish_job(st, j, FLURM_JOB_NODE_FAIL, now);
            j->state_reason = 20; /* FAIL_DOWN_NODE */
            j->job_state |= FLURM_JOB_COMPLETING;
        }
        effect(st, FLURM_EFFECT_KILL, j->job_id);
        any = true;
    }
    if (any)
        touch_jobs(st, now);
}

/* Requeue (back to PENDING, restart count up) or NODE_FAIL a job whose node died, as
 * slurmctld does per the job's --requeue (JobRequeue default 1). */
static void job_lost(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
    /* on its way out already (a NODE_FAIL one: its node was set DOWN before it died) */
    bool cancelled = base == FLURM_JOB_CANCELLED || base == FLURM_JOB_PREEMPTED || base == FLURM_JOB_NODE_FAIL;
    if (!(base == FLURM_JOB_SUSPENDED && j->sus_released))
        job_release(st, j, now);
    j->sus_released = false;
    free(j->nodes);
    j->nodes = NULL;
    j->nnodes = 0;
    if (base == FLURM_JOB_PENDING) {
        requeue_done(st, j, now);   /* a preemption's requeue: its kill is as good as done */
        return;
    }
    if (cancelled)
        return;   /* it was already on its way out */
    if (job_requeueable(st, j)) {
        j->job_state = FLURM_JOB_PENDING;
        j->restart_cnt++;
        j->start_time = j->end_time = 0;
        j->state_reason = FLURM_WAIT_NO_REASON;
    } else {
        finish_job(st, j, FLURM_JOB_NODE_FAIL, now);
        j->state_reason = 20; /* FAIL_DOWN_NODE */
    }
}

static void end_job(flurm_state_t *st, const flurm_cmd_end_t *e, time_t now)
{
    flurm_job_t *j = flurm_state_find_job(st, e->job_id);
    if (!j || !j->nodes || !job_on_node(j, e->node))
        return;   /* a late or duplicate report: the first one counted */
    uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
    j->exit_code = e->wait_status;
    j->max_rss_kb = e->max_rss_kb;
    time_t end = e->end_time ? e->end_time : now;
    /* An ended job holds nothing: j->nodes is the allocation (running or completing), so it
     * goes with the end. Kept, a repeated report would release the nodes twice (another job's
     * share), purge would skip the record forever, array throttles would count it as running
     * and restore would hold its nodes again. */
    if (!(base == FLURM_JOB_SUSPENDED && j->sus_released))
        job_release(st, j, now);
    j->sus_released = false;
    if (base == FLURM_JOB_PENDING) {
        /* a preemption's requeue has finished: no NodeList while it pends again */
        free(j->nodes);
        j->nodes = NULL;
        j->nnodes = 0;
        requeue_done(st, j, now);
        return;
    }
    free(j->ran_on);
    j->ran_on = j->nodes;          /* shown as NodeList until the record is purged */
    j->nran_on = j->nnodes;
    j->nodes = NULL;
    j->nnodes = 0;
    if (base == FLURM_JOB_CANCELLED || base == FLURM_JOB_PREEMPTED || base == FLURM_JOB_NODE_FAIL) {
        if (base == FLURM_JOB_CANCELLED)
            j->end_time = end;   /* a preempted job keeps its preemption time, a NODE_FAIL one
                                  * the time its node went DOWN (slurmctld) */
    } else {
        uint32_t fin = e->state == FLURM_END_COMPLETED ? FLURM_JOB_COMPLETE
                     : e->state == FLURM_END_CANCELLED ? FLURM_JOB_CANCELLED
                     : e->state == FLURM_END_TIMEOUT ? FLURM_JOB_TIMEOUT
                     : e->state == FLURM_END_NODE_FAIL ? FLURM_JOB_NODE_FAIL : FLURM_JOB_FAILED;
        finish_job(st, j, fin, end);
        if (fin == FLURM_JOB_TIMEOUT)
            j->state_reason = 25; /* FAIL_TIMEOUT */
        else if (fin == FLURM_JOB_FAILED)
            j->state_reason = 24; /* FAIL_EXIT_CODE */
    }
    touch_jobs(st, now);
}

static uint32_t apply_job_end(flurm_state_t *st, const cmd_t *c)
{
    flurm_cmd_end_t e;
    if (unpack_body(&end_table, c, &e))
        return RC_ERROR;
    flurm_job_t *j = flurm_state_find_job(st, e.job_id);
    bool revoke = j && j->nodes && !flurm_job_is_batch(j);   /* an allocation's time limit */
    end_job(st, &e, c->now);
    if (revoke && !j->nodes)
        effect(st, FLURM_EFFECT_REVOKED, j->job_id);
    return RC_OK;
}

/* Seconds a job has run before NOW, its suspensions left out (scontrol's RunTime). */
static uint32_t run_secs(const flurm_job_t *j, time_t now)
{
    time_t from = j->suspend_time ? j->suspend_time : j->start_time;
    return j->pre_sus_time + (uint32_t)(now > from && from ? now - from : 0);
}

/* Stops running job J at NOW (SUSPENDED): what it ran so far is kept (SecsPreSuspend) and its
 * fair-share usage stops accruing. Its resources stay booked (the caller releases them). */
static void job_suspend(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    j->pre_sus_time = run_secs(j, now);
    j->suspend_time = now;
    usage_advance(st, now);
    j->job_state = FLURM_JOB_SUSPENDED;
}

/* Runs suspended job J again at NOW: the clock of its time limit stood still while it was
 * stopped (EndTime moves back by that much) and its usage accrues again. */
static void job_resume(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    if (now > j->suspend_time) {
        j->tot_sus_time += (uint32_t)(now - j->suspend_time);
        if (j->end_time)
            j->end_time += now - j->suspend_time;
    }
    j->suspend_time = now;
    usage_advance(st, now);
    j->job_state = FLURM_JOB_RUNNING;
}

static uint32_t apply_preempt(flurm_state_t *st, const cmd_t *c)
{
    flurm_cmd_preempt_t m;
    if (unpack_body(&preempt_table, c, &m))
        return RC_ERROR;
    flurm_job_t *j = flurm_state_find_job(st, m.job_id);
    uint32_t base = j ? j->job_state & FLURM_JOB_STATE_BASE : 0;
    bool running = j && j->nodes && base == FLURM_JOB_RUNNING && !(j->job_state & FLURM_JOB_COMPLETING);
    if (!j || (m.action == FLURM_PREEMPT_RESUME ? !(base == FLURM_JOB_SUSPENDED && j->sus_released && j->nodes)
                                                : !running))
        return RC_TRANSITION_STATE_NO_UPDATE;   /* changed since the decision */
    uint8_t action = m.action;
    if (action == FLURM_PREEMPT_REQUEUE && !job_requeueable(st, j))
        action = FLURM_PREEMPT_CANCEL;   /* slurm_job_preempt(): a job that may not requeue is killed */
    switch (action) {
    case FLURM_PREEMPT_CANCEL:
        /* job_signal(preempt=true): PREEMPTED|COMPLETING (scontrol: COMPLETING, then
         * PREEMPTED), EndTime = PreemptTime = now */
        finish_job(st, j, FLURM_JOB_PREEMPTED, c->now);
        j->job_state |= FLURM_JOB_COMPLETING;
        j->preempt_time = c->now;
        effect(st, FLURM_EFFECT_KILL, j->job_id);
        break;
    case FLURM_PREEMPT_REQUEUE:
        job_requeue_running(st, j, c->now);   /* job_requeue(preempt=true) */
        effect(st, FLURM_EFFECT_KILL, j->job_id);
        break;
    case FLURM_PREEMPT_SUSPEND:
        /* gang suspend: the preemptor takes its resources; it keeps where to resume */
        job_suspend(st, j, c->now);
        job_release(st, j, c->now);
        j->sus_released = true;
        effect(st, FLURM_EFFECT_SUSPEND, j->job_id);
        break;
    case FLURM_PREEMPT_RESUME:
        job_resume(st, j, c->now);
        j->sus_released = false;
        job_hold_nodes(st, j, c->now);
        effect(st, FLURM_EFFECT_RESUME, j->job_id);
        break;
    default:
        return RC_ERROR;
    }
    touch_jobs(st, c->now);
    return RC_OK;
}

/* The job a suspend/requeue request names (its job_id_str, else job_id); NULL if none. */
static flurm_job_t *named_job(const flurm_state_t *st, uint32_t job_id, const char *job_id_str)
{
    if (job_id_str && *job_id_str) {
        uint64_t *tasks = NULL;
        uint32_t ntasks = 0;
        bool all = false;
        if (flurm_parse_job_id_str(job_id_str, &job_id, &tasks, &ntasks, &all))
            return NULL;
        free(tasks);
    }
    return flurm_state_find_job(st, job_id);
}

/* scontrol suspend / resume (REQUEST_SUSPEND). Operators only. Answers as slurmctld 22.05.8
 * does: an unknown job is SLURM_UNEXPECTED_MSG_ERROR, a pending one ESLURM_JOB_PENDING,
 * suspending a suspended job succeeds, resuming a running one is ESLURM_JOB_NOT_SUSPENDED.
 * Unlike a preemption's, this suspension keeps the job's resources booked (slurmctld shows the
 * node idle yet starts nothing there). A job suspended by preemption resumes only when the
 * scheduler says so (ESLURM_DISABLED here). */
static uint32_t apply_suspend_req(flurm_state_t *st, const cmd_t *c)
{
    flurm_suspend_msg_t *m = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_SUSPEND, c->body, c->body_len, (void **)&m))
        return RC_ERROR;
    uint32_t rc = RC_OK;
    flurm_job_t *j = named_job(st, m->job_id, m->job_id_str);
    uint32_t base = j ? j->job_state & FLURM_JOB_STATE_BASE : 0;
    bool resume = m->op == FLURM_RESUME_JOB;
    if (!j)
        rc = RC_UNEXPECTED_MSG;
    else if (!privileged(st, c->uid))
        rc = RC_ACCESS_DENIED;
    else if (base == FLURM_JOB_PENDING)
        rc = RC_JOB_PENDING;
    else if (job_finished(j) || (j->job_state & FLURM_JOB_COMPLETING) || !j->nodes)
        rc = RC_ALREADY_DONE;
    else if (!resume && base == FLURM_JOB_SUSPENDED)
        rc = RC_OK;   /* already so */
    else if (resume && base != FLURM_JOB_SUSPENDED)
        rc = RC_JOB_NOT_SUSPENDED;
    else if (resume && j->sus_released)
        rc = RC_DISABLED;
    else if (!resume) {
        job_suspend(st, j, c->now);
        effect(st, FLURM_EFFECT_SUSPEND, j->job_id);
        touch_jobs(st, c->now);
    } else {
        job_resume(st, j, c->now);
        effect(st, FLURM_EFFECT_RESUME, j->job_id);
        touch_jobs(st, c->now);
    }
    flurm_msg_free(FLURM_REQUEST_SUSPEND, m);
    return rc;
}

/* scontrol requeue / requeuehold (REQUEST_JOB_REQUEUE): the owner or an operator. A running
 * job is killed and pends again as after a preemption's requeue; a finished one pends again at
 * once (slurmctld accepts both); a pending one is ESLURM_JOB_PENDING, a --no-requeue one
 * ESLURM_DISABLED. JOB_REQUEUE_HOLD in flags holds it (an operator's hold is an admin hold). */
static uint32_t apply_requeue_req(flurm_state_t *st, const cmd_t *c)
{
    flurm_requeue_msg_t *m = NULL;
    if (flurm_msg_unpack(FLURM_REQUEST_JOB_REQUEUE, c->body, c->body_len, (void **)&m))
        return RC_ERROR;
    uint32_t rc = RC_OK;
    flurm_job_t *j = named_job(st, m->job_id, m->job_id_str);
    uint32_t base = j ? j->job_state & FLURM_JOB_STATE_BASE : 0;
    if (!j || !j->desc)
        rc = RC_INVALID_JOB_ID;
    else if (j->user_id != c->uid && !privileged(st, c->uid))
        rc = RC_ACCESS_DENIED;
    else if (base == FLURM_JOB_PENDING)
        rc = RC_JOB_PENDING;
    else if (j->job_state & FLURM_JOB_COMPLETING)
        rc = RC_TRANSITION_STATE_NO_UPDATE;
    else if (!job_requeueable(st, j))
        rc = RC_DISABLED;
    if (rc)
        goto out;
    if (j->nodes) {
        job_requeue_running(st, j, c->now);
        effect(st, FLURM_EFFECT_KILL, j->job_id);
    } else {
        j->restart_cnt++;
        j->preempt_time = 0;
        free(j->ran_on);
        j->ran_on = NULL;
        j->nran_on = 0;
        requeue_done(st, j, c->now);
    }
    if (m->flags & FLURM_JOB_REQUEUE_HOLD) {
        j->priority = 0;
        j->state_reason = privileged(st, c->uid) ? FLURM_WAIT_HELD : FLURM_WAIT_HELD_USER;
    }
    touch_jobs(st, c->now);
out:
    flurm_msg_free(FLURM_REQUEST_JOB_REQUEUE, m);
    return rc;
}

static int replace_str(char **dst, const char *src);

static uint32_t apply_register(flurm_state_t *st, const cmd_t *c)
{
    flurm_cmd_register_t m;
    if (unpack_body(&register_table, c, &m))
        return RC_ERROR;
    if (m.node >= st->conf->node_count) {
        flurm_table_free(&register_table, &m);
        return RC_INVALID_NODE_NAME;
    }
    flurm_node_rt_t *n = &st->nodes[m.node];
    uint32_t base = n->state & 0xF;
    bool was_not_responding = n->reason && strcmp(n->reason, "Not responding") == 0;
    n->state &= ~(uint32_t)FLURM_NODE_STATE_NO_RESPOND;
    /* ReturnToService: 0 = a DOWN node stays down; 1 = back if it was down only for not
     * responding; 2 = back whatever made it DOWN. UNKNOWN (first contact) always comes up. */
    uint16_t rts = st->conf->return_to_service;
    if (base == FLURM_NODE_STATE_UNKNOWN ||
        (base == FLURM_NODE_STATE_DOWN && (rts == 2 || (rts == 1 && was_not_responding)))) {
        n->state = (n->state & ~0xFu) | FLURM_NODE_STATE_IDLE;
        if (base == FLURM_NODE_STATE_DOWN || was_not_responding) {
            free(n->reason);
            n->reason = NULL;
            n->reason_time = 0;
            n->reason_uid = FLURM_NO_VAL;
        }
    }
    node_settle(n, c->now);
    n->boot_id = m.boot_id;
    n->boot_time = m.boot_time;
    n->slurmd_start_time = m.start_time;
    replace_str(&n->version, m.version);
    replace_str(&n->arch, m.arch);
    replace_str(&n->os, m.os);
    for (uint32_t i = 0; i < m.nended; i++) {
        m.ended[i].node = m.node;
        end_job(st, &m.ended[i], c->now);
    }
    if (c->now > st->nodes_changed)
        st->nodes_changed = c->now;
    flurm_table_free(&register_table, &m);
    return RC_OK;
}

/* A copy of array meta job M as task T with id ID (SLURM splits tasks off as they start). */
static flurm_job_t *split_task(flurm_state_t *st, flurm_job_t *m, uint32_t t, uint32_t id)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    flurm_job_t *j = calloc(1, sizeof *j);
    if (!j || flurm_msg_pack(FLURM_REQUEST_SUBMIT_BATCH_JOB, m->desc, &b) ||
        flurm_msg_unpack(FLURM_REQUEST_SUBMIT_BATCH_JOB, b.data, b.size, (void **)&j->desc)) {
        flurm_buf_release(&b);
        free(j);
        return NULL;
    }
    flurm_buf_release(&b);
    j->job_id = id;
    j->user_id = m->user_id;
    j->group_id = m->group_id;
    j->job_state = FLURM_JOB_PENDING;
    j->priority = m->priority;
    j->submit_time = m->submit_time;
    j->eligible_time = m->eligible_time;
    j->part_index = m->part_index;
    j->time_limit = m->time_limit;
    j->array_job_id = m->array_job_id;
    j->array_task_id = t;
    j->alloc_node = m->alloc_node ? strdup(m->alloc_node) : NULL;
    if (job_insert(st, j)) {
        job_free(st, j);
        return NULL;
    }
    if (id >= st->next_job_id)
        st->next_job_id = id + 1;
    return j;
}

static uint32_t apply_job_start(flurm_state_t *st, const cmd_t *c)
{
    flurm_cmd_start_t m;
    if (unpack_body(&start_table, c, &m))
        return RC_ERROR;
    uint32_t rc = RC_OK;
    flurm_job_t *j = flurm_state_find_job(st, m.job_id);
    bool ok = j && (j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_PENDING &&
              !(j->job_state & FLURM_JOB_COMPLETING) && j->priority &&
              m.nnodes && m.nnodes <= FLURM_START_MAX_NODES;
    for (uint32_t i = 0; ok && i < m.nnodes; i++)
        ok = m.nodes[i] < st->conf->node_count;
    /* The nodes must still be usable and have the room the decision counted on: a start
     * decided before another command took it (a stale plan, a leader change) does nothing,
     * and the job waits for the next cycle. */
    for (uint32_t i = 0; ok && i < m.nnodes; i++) {
        const flurm_node_rt_t *n = &st->nodes[m.nodes[i]];
        const flurm_conf_node_t *cn = &st->conf->nodes[m.nodes[i]];
        ok = node_usable(n) && n->alloc_cpus + (uint64_t)m.cpus_per_node <= cn->cpus &&
             (!m.mem_per_node || n->alloc_mem + m.mem_per_node <= cn->real_memory);
    }
    if (!ok) {
        rc = RC_TRANSITION_STATE_NO_UPDATE;   /* changed since the decision: nothing to do */
        goto out;
    }
    if (m.array_task_id != FLURM_NO_VAL) {
        if (!test_bit(j->array_pending, j->array_nbits, m.array_task_id)) {
            rc = RC_TRANSITION_STATE_NO_UPDATE;
            goto out;
        }
        j->array_pending[m.array_task_id / 64] &= ~(1ull << (m.array_task_id % 64));
        if (count_bits(j->array_pending, j->array_nbits) == 0) {
            /* the last task keeps the array's own id, as in SLURM */
            free(j->array_pending);
            j->array_pending = NULL;
            j->array_nbits = 0;
            j->array_task_id = m.array_task_id;
        } else {
            j = split_task(st, j, m.array_task_id, st->next_job_id);
            if (!j) {
                rc = RC_ERROR;
                goto out;
            }
        }
    }
    usage_advance(st, c->now);   /* the running set changes now */
    j->job_state = FLURM_JOB_RUNNING;
    j->state_reason = FLURM_WAIT_NO_REASON;
    j->state_desc = NULL;
    if (j->desc) {
        free(j->desc->dependency);   /* a started job's dependency was met: (null) */
        j->desc->dependency = NULL;
    }
    j->sched_reason = 0;
    j->sched_desc = NULL;
    j->planned_start = 0;
    free(j->planned_nodes);
    j->planned_nodes = NULL;
    j->nplanned_nodes = 0;
    j->start_time = c->now;
    j->end_time = j->time_limit == FLURM_INFINITE ? 0 : c->now + (time_t)j->time_limit * 60;
    j->nodes = m.nodes;
    m.nodes = NULL;
    j->nnodes = m.nnodes;
    j->cpus_per_node = m.cpus_per_node;
    j->mem_per_node = m.mem_per_node;
    job_hold_nodes(st, j, c->now);
    st->stats.jobs_started++;
    /* an array task: the split-off task's id */
    effect(st, flurm_job_is_batch(j) ? FLURM_EFFECT_LAUNCH : FLURM_EFFECT_ALLOCATED, j->job_id);
    touch_jobs(st, c->now);
out:
    flurm_table_free(&start_table, &m);
    return rc;
}

/* ---------------------------------------------------------------- the planner
 *
 * Each cycle builds a view of the state for the scheduler module (flurm/sched.h) and turns its
 * decisions into start commands, reasons and reservations. */

/* Allocations made for one view; freed together. */
typedef struct arena { void **p; size_t n, cap; } arena_t;

static void *arena_alloc(arena_t *a, size_t size)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **p = realloc(a->p, cap * sizeof *p);
        if (!p)
            return NULL;
        a->p = p;
        a->cap = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (m)
        a->p[a->n++] = m;
    return m;
}

static char *arena_strdup(arena_t *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void arena_free(arena_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    free(a->p);
}

/* Parses a gres list into OUT (at most FLURM_SCHED_GRES_MAX): "gpu:a100:4,gpu:2,mps:100(S:0)"
 * on nodes (conf Gres=), "gres:gpu:2" / "gres/gpu:2" in a request (tres_per_node; a missing
 * count is 1). Entries that are not gres (other TRES) are skipped. */
static uint32_t parse_gres(arena_t *a, const char *s, bool request, flurm_sched_gres_t *out)
{
    uint32_t n = 0;
    while (s && *s && n < FLURM_SCHED_GRES_MAX) {
        size_t len = strcspn(s, ",");
        char item[256];
        if (len < sizeof item) {
            memcpy(item, s, len);
            item[len] = '\0';
            char *paren = strchr(item, '(');
            if (paren)
                *paren = '\0';
            char *p = item;
            bool ok = true;
            if (request) {
                if (!strncmp(p, "gres:", 5) || !strncmp(p, "gres/", 5))
                    p += 5;
                else
                    ok = false;
            }
            char *f[3] = { 0 };
            int nf = 0;
            for (char *tok = p; ok && tok && nf < 3;) {
                char *c = strchr(tok, ':');
                if (c)
                    *c++ = '\0';
                f[nf++] = tok;
                tok = c;
            }
            if (ok && nf && *f[0]) {
                uint32_t count = 1;
                const char *type = NULL;
                char *end;
                if (nf >= 2) {
                    const char *last = f[nf - 1];
                    unsigned long v = strtoul(last, &end, 10);
                    if (end != last && !*end) {
                        count = (uint32_t)v;
                        type = nf == 3 ? f[1] : NULL;
                    } else {
                        type = f[1];
                    }
                }
                out[n].name = arena_strdup(a, f[0], strlen(f[0]));
                out[n].type = type ? arena_strdup(a, type, strlen(type)) : NULL;
                out[n].count = count;
                if (out[n].name && (!type || out[n].type))
                    n++;
            }
        }
        s += len + (s[len] ? 1 : 0);
    }
    return n;
}

/* Node indexes of hostlist EXPR into *OUT (arena); unknown names are skipped. */
static uint32_t hostlist_nodes(const flurm_state_t *st, arena_t *a, const char *expr, const uint32_t **out)
{
    *out = NULL;
    if (!expr || !*expr)
        return 0;
    flurm_err_t err;
    flurm_hostlist_t *hl = flurm_hostlist_parse(expr, &err);
    if (!hl)
        return 0;
    size_t n = flurm_hostlist_count(hl);
    uint32_t *v = arena_alloc(a, (n + 1) * sizeof *v), k = 0;
    for (size_t i = 0; v && i < n; i++) {
        ssize_t ni = flurm_conf_node_index(st->conf, flurm_hostlist_get(hl, i));
        if (ni >= 0)
            v[k++] = (uint32_t)ni;
    }
    flurm_hostlist_free(hl);
    *out = v;
    return k;
}

/* The request of a job described by D in partition PART with limit TIME_LIMIT (minutes). */
static void view_request(const flurm_state_t *st, arena_t *a, const flurm_job_desc_msg_t *d,
                         flurm_sched_job_t *sj)
{
    sj->min_nodes = d->min_nodes != FLURM_NO_VAL ? d->min_nodes : 0;
    sj->max_nodes = d->max_nodes != FLURM_NO_VAL ? d->max_nodes : 0;
    sj->ntasks = d->num_tasks != FLURM_NO_VAL ? d->num_tasks : 0;
    sj->cpus_per_task = d->cpus_per_task != FLURM_NO_VAL16 ? d->cpus_per_task : 0;
    sj->ntasks_per_node = d->ntasks_per_node != FLURM_NO_VAL16 ? d->ntasks_per_node : 0;
    uint64_t m = d->pn_min_memory;
    if (m == FLURM_NO_VAL64 || m == 0)
        m = st->conf->def_mem_per_cpu ? (st->conf->def_mem_per_cpu | FLURM_MEM_PER_CPU)
                                       : st->conf->def_mem_per_node;
    sj->mem_per_cpu = (m & FLURM_MEM_PER_CPU) != 0;
    sj->mem = m & ~FLURM_MEM_PER_CPU;
    sj->exclusive = d->shared == 0;
    sj->features = d->features && *d->features ? d->features : NULL;
    if (d->tres_per_node && *d->tres_per_node) {
        flurm_sched_gres_t *g = arena_alloc(a, FLURM_SCHED_GRES_MAX * sizeof *g);
        if (g) {
            sj->gres = g;
            sj->ngres = parse_gres(a, d->tres_per_node, true, g);
        }
    }
    sj->nreq_nodes = hostlist_nodes(st, a, d->req_nodes, &sj->req_nodes);
    sj->nexc_nodes = hostlist_nodes(st, a, d->exc_nodes, &sj->exc_nodes);
}

/* SchedulerParameters value of KEY ("bf_window=60"), or flag presence (VAL NULL). */
static bool sched_param(const char *params, const char *key, uint32_t *val)
{
    size_t kl = strlen(key);
    for (const char *p = params; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n >= kl && !strncmp(p, key, kl) && (n == kl || p[kl] == '=')) {
            if (val && p[kl] == '=')
                *val = (uint32_t)strtoul(p + kl + 1, NULL, 10);
            return true;
        }
        p += n + (p[n] ? 1 : 0);
    }
    return false;
}

static uint32_t conf_u32(const flurm_conf_t *c, const char *key)
{
    const char *v = flurm_conf_get(c, key);
    return v ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

/* ---------------------------------------------------------------- fair-share usage
 *
 * Each user's decayed CPU-seconds, replicated: usage moves forward only inside apply(), to the
 * command's time, and only where the set of jobs holding nodes changes (JOB_START, and every
 * path that releases an allocation: JOB_END, a lost node, ...); flurm_state_plan reads it as
 * of the plan time without changing it.
 * Between two instants every running job adds its allocated CPUs times the decay-weighted
 * length of the interval, exactly: with half-life H the usage u(t) obeys du/dt = cpus -
 * u ln2 / H, so advancing by dt multiplies u by d = 2^(-dt/H) and adds cpus * H/ln2 * (1 - d);
 * how the time is cut into intervals does not change the result. H = 0 (PriorityDecayHalfLife=0)
 * means no decay: cpus * dt. PriorityUsageResetPeriod (DAILY/WEEKLY/MONTHLY/QUARTERLY/YEARLY,
 * at UTC boundaries; slurmctld uses local time) zeroes every user's usage when crossed.
 *
 * slurmctld 22.05 keeps this per association and only with slurmdbd; without it
 * (priority_multifactor.c init()) it logs "PriorityWeightFairshare can only be used with
 * SlurmDBD, ignoring" and uses fair-share weight 0. FLURM instead treats every user as an
 * association with equal shares under root (classic fair share: F = 2^(-U/S), U = the user's
 * share of all usage, S = 1 / number of users with usage or a pending job). */

static int64_t halflife_secs(const flurm_conf_t *c)
{
    const char *v = flurm_conf_get(c, "PriorityDecayHalfLife");
    uint32_t mins;
    if (!v)
        return 7 * 86400;
    if (flurm_time_str2mins(v, &mins) != FLURM_OK || mins == FLURM_INFINITE)
        return 7 * 86400;
    return (int64_t)mins * 60;
}

/* The last PriorityUsageResetPeriod boundary at or before T; 0 = no reset configured. */
static time_t usage_reset_boundary(const flurm_conf_t *c, time_t t)
{
    const char *v = flurm_conf_get(c, "PriorityUsageResetPeriod");
    if (!v || t <= 0)
        return 0;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
    if (!strcasecmp(v, "DAILY")) {
    } else if (!strcasecmp(v, "WEEKLY")) {
        tm.tm_mday -= tm.tm_wday;   /* Sunday 00:00, as slurmctld */
    } else if (!strcasecmp(v, "MONTHLY")) {
        tm.tm_mday = 1;
    } else if (!strcasecmp(v, "QUARTERLY")) {
        tm.tm_mday = 1;
        tm.tm_mon -= tm.tm_mon % 3;
    } else if (!strcasecmp(v, "YEARLY")) {
        tm.tm_mday = 1;
        tm.tm_mon = 0;
    } else {
        return 0;   /* NONE; NOW (reset at slurmctld start) cannot be replicated */
    }
    return timegm(&tm);
}

/* A job uses its allocation while it holds it (running, or completing until its end report;
 * slurmctld counts up to the end time). Usage is brought forward exactly where this changes:
 * apply_job_start before a job takes nodes, job_release before one gives them back. */
static bool usage_accrues(const flurm_job_t *j)
{
    return j->nodes && ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING ||
                        (j->job_state & FLURM_JOB_COMPLETING));
}

static int usage_cmp(const void *a, const void *b)
{
    uint32_t x = ((const usage_rec_t *)a)->uid, y = ((const usage_rec_t *)b)->uid;
    return x < y ? -1 : x > y;
}

/* UID's record in V[0..N), sorted by uid, or NULL. */
static usage_rec_t *usage_find(usage_rec_t *v, size_t n, uint32_t uid)
{
    usage_rec_t key = { .uid = uid };
    return n ? bsearch(&key, v, n, sizeof *v, usage_cmp) : NULL;
}

/* Gives UID a zero record in V (sorted, *N records, room for one more) unless it has one; the
 * records appended since SORTED are unsorted until usage_sort. */
static void usage_add_user(usage_rec_t *v, size_t sorted, size_t *n, uint32_t uid)
{
    if (usage_find(v, sorted, uid))
        return;
    for (size_t i = sorted; i < *n; i++)
        if (v[i].uid == uid)
            return;
    v[(*n)++] = (usage_rec_t){ .uid = uid };
}

static void usage_sort(usage_rec_t *v, size_t sorted, size_t n)
{
    if (n > sorted)
        qsort(v, n, sizeof *v, usage_cmp);
}

/* Moves V (N records sorted by uid, as of FROM) forward to TO in place; every user of a job
 * holding nodes gets a record (the caller leaves room for one per such job). */
static void usage_forward(const flurm_state_t *st, usage_rec_t *v, size_t *n, time_t from, time_t to)
{
    if (to <= from)
        return;
    time_t reset = usage_reset_boundary(st->conf, to);
    if (reset > from) {
        for (size_t i = 0; i < *n; i++)
            v[i].usage = 0;
        from = reset;
    }
    double dt = (double)(to - from);
    int64_t hl = halflife_secs(st->conf);
    double d = hl > 0 ? exp2(-dt / (double)hl) : 1.0;
    double w = hl > 0 ? (double)hl / M_LN2 * (1.0 - d) : dt;
    for (size_t i = 0; i < *n; i++)
        v[i].usage *= d;
    size_t sorted = *n;
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i] && usage_accrues(st->jobs[i]))
            usage_add_user(v, sorted, n, st->jobs[i]->user_id);
    usage_sort(v, sorted, *n);
    for (size_t i = 0; i < st->njobs; i++) {
        const flurm_job_t *j = st->jobs[i];
        if (j && usage_accrues(j))
            usage_find(v, *n, j->user_id)->usage += (double)j->cpus_per_node * j->nnodes * w;
    }
}

/* Running jobs whose user has no usage record yet (upper bound: running jobs). */
static size_t usage_new_users_max(const flurm_state_t *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->njobs; i++) {
        const flurm_job_t *j = st->jobs[i];
        if (j && usage_accrues(j))
            n++;
    }
    return n;
}

/* Brings the replicated usage forward to command time NOW (apply() only). On allocation
 * failure usage stays where it was and is brought forward by a later command instead. */
static void usage_advance(flurm_state_t *st, time_t now)
{
    if (!st->usage_time) {
        st->usage_time = now;   /* the first job starts: nothing accrued before */
        return;
    }
    if (now <= st->usage_time)
        return;   /* same second, or a command stamped earlier (leader change): nothing to add */
    size_t need = st->nusage + usage_new_users_max(st);
    if (need > st->usage_cap) {
        usage_rec_t *p = realloc(st->usage, need * sizeof *p);
        if (!p)
            return;
        st->usage = p;
        st->usage_cap = need;
    }
    usage_forward(st, st->usage, &st->nusage, st->usage_time, now);
    st->usage_time = now;
}

int flurm_state_user_usage(const flurm_state_t *st, uint32_t uid, time_t now, double *usage)
{
    size_t n = st->nusage, cap = n + usage_new_users_max(st);
    usage_rec_t *v = malloc((cap ? cap : 1) * sizeof *v);
    if (!v)
        return FLURM_ENOMEM;
    if (n)
        memcpy(v, st->usage, n * sizeof *v);
    if (st->usage_time)
        usage_forward(st, v, &n, st->usage_time, now);
    const usage_rec_t *r = usage_find(v, n, uid);
    *usage = r ? r->usage : 0;
    free(v);
    return FLURM_OK;
}

/* The scheduler's fair-share input as of NOW: every user with usage or a job in the view
 * (ascending uid), equal shares, usage as a fraction of the total. */
static int view_usage(const flurm_state_t *st, time_t now, arena_t *a, flurm_sched_input_t *in)
{
    if (in->params.priority_type != FLURM_SCHED_PRIORITY_MULTIFACTOR || !in->params.weight_fairshare)
        return FLURM_OK;
    size_t n = st->nusage, cap = n + usage_new_users_max(st) + in->njobs;
    usage_rec_t *v = arena_alloc(a, (cap ? cap : 1) * sizeof *v);
    flurm_sched_usage_t *u = arena_alloc(a, (cap ? cap : 1) * sizeof *u);
    if (!v || !u)
        return FLURM_ENOMEM;
    if (n)
        memcpy(v, st->usage, n * sizeof *v);
    if (st->usage_time)
        usage_forward(st, v, &n, st->usage_time, now);
    size_t sorted = n;
    for (uint32_t i = 0; i < in->njobs; i++)
        usage_add_user(v, sorted, &n, in->jobs[i].uid);
    usage_sort(v, sorted, n);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].usage;
    for (size_t i = 0; i < n; i++)
        u[i] = (flurm_sched_usage_t){ .uid = v[i].uid, .usage = total > 0 ? v[i].usage / total : 0,
                                      .shares = 1.0 / (double)n };
    in->params.usage = u;
    in->params.nusage = (uint32_t)n;
    return FLURM_OK;
}

static flurm_sched_preempt_mode_t sched_preempt_mode(uint16_t m)
{
    switch (m & ~(FLURM_PREEMPT_MODE_GANG | FLURM_PREEMPT_MODE_WITHIN)) {
    case FLURM_PREEMPT_MODE_SUSPEND: return FLURM_SCHED_PREEMPT_SUSPEND;
    case FLURM_PREEMPT_MODE_REQUEUE: return FLURM_SCHED_PREEMPT_REQUEUE;
    case FLURM_PREEMPT_MODE_CANCEL: return FLURM_SCHED_PREEMPT_CANCEL;
    default: return FLURM_SCHED_PREEMPT_OFF;
    }
}

/* Only preempt/partition_prio is implemented; preempt/qos (and none) never preempt. */
bool flurm_state_preempt_enabled(const flurm_state_t *st)
{
    const char *t = flurm_conf_get(st->conf, "PreemptType");
    return t && !strcmp(t, "preempt/partition_prio") &&
           sched_preempt_mode(st->conf->preempt_mode) != FLURM_SCHED_PREEMPT_OFF;
}

static void view_params(const flurm_state_t *st, time_t now, flurm_sched_params_t *pa)
{
    const flurm_conf_t *c = st->conf;
    const char *sp = c->scheduler_parameters;
    pa->now = now;
    sched_param(sp, "bf_window", &pa->bf_window);
    sched_param(sp, "bf_resolution", &pa->bf_resolution);
    sched_param(sp, "bf_max_job_test", &pa->bf_max_job_test);
    sched_param(sp, "default_queue_depth", &pa->default_queue_depth);
    pa->bf_continue = sched_param(sp, "bf_continue", NULL);
    pa->backfill = !(c->scheduler_type && strcmp(c->scheduler_type, "sched/builtin") == 0);
    pa->priority_type = c->priority_type && strcmp(c->priority_type, "priority/multifactor") == 0
                        ? FLURM_SCHED_PRIORITY_MULTIFACTOR : FLURM_SCHED_PRIORITY_BASIC;
    pa->weight_age = conf_u32(c, "PriorityWeightAge");
    pa->weight_jobsize = conf_u32(c, "PriorityWeightJobSize");
    pa->weight_partition = conf_u32(c, "PriorityWeightPartition");
    pa->weight_qos = conf_u32(c, "PriorityWeightQOS");
    pa->weight_fairshare = conf_u32(c, "PriorityWeightFairshare");
    const char *ma = flurm_conf_get(c, "PriorityMaxAge");
    uint32_t mins;
    if (ma && flurm_time_str2mins(ma, &mins) == FLURM_OK && mins != FLURM_INFINITE)
        pa->priority_max_age = mins * 60;
    const char *fs = flurm_conf_get(c, "PriorityFavorSmall");
    pa->priority_favor_small = fs && (!strcasecmp(fs, "yes") || !strcasecmp(fs, "true") || !strcmp(fs, "1"));
    pa->preempt = flurm_state_preempt_enabled(st);
    pa->preempt_mode = sched_preempt_mode(c->preempt_mode);
    const char *pp = flurm_conf_get(c, "PreemptParameters");
    pa->preempt_youngest_first = pp && strstr(pp, "youngest_first");
}

/* Nodes and partitions of the view. */
static int view_cluster(const flurm_state_t *st, arena_t *a, flurm_sched_input_t *in)
{
    const flurm_conf_t *c = st->conf;
    flurm_sched_node_t *nodes = arena_alloc(a, c->node_count * sizeof *nodes);
    flurm_sched_part_t *parts = arena_alloc(a, c->partition_count * sizeof *parts);
    if (!nodes || !parts)
        return FLURM_ENOMEM;
    for (size_t i = 0; i < c->node_count; i++) {
        const flurm_conf_node_t *cn = &c->nodes[i];
        const flurm_node_rt_t *n = &st->nodes[i];
        flurm_sched_node_t *sn = &nodes[i];
        sn->name = cn->name;
        sn->cpus = cn->cpus;
        sn->alloc_cpus = n->alloc_cpus;
        sn->real_memory = cn->real_memory;
        sn->alloc_mem = n->alloc_mem;
        sn->weight = cn->weight;
        sn->usable = node_usable(n);
        if (cn->features && *cn->features) {
            size_t nf = 1;
            for (const char *p = cn->features; *p; p++)
                nf += *p == ',';
            const char **fv = arena_alloc(a, nf * sizeof *fv);
            if (!fv)
                return FLURM_ENOMEM;
            for (const char *p = cn->features; *p;) {
                size_t len = strcspn(p, ",");
                if (len && !(fv[sn->nfeatures++] = arena_strdup(a, p, len)))
                    return FLURM_ENOMEM;
                p += len + (p[len] ? 1 : 0);
            }
            sn->features = fv;
        }
        if (cn->gres && *cn->gres) {
            flurm_sched_gres_t *g = arena_alloc(a, FLURM_SCHED_GRES_MAX * sizeof *g);
            if (!g)
                return FLURM_ENOMEM;
            sn->gres = g;
            sn->ngres = parse_gres(a, cn->gres, false, g);
        }
    }
    for (size_t i = 0; i < c->partition_count; i++) {
        const flurm_conf_partition_t *cp = &c->partitions[i];
        const flurm_part_rt_t *prt = &st->parts[i];
        flurm_sched_part_t *sp = &parts[i];
        sp->name = cp->name;
        sp->nodes = cp->node_idx;
        sp->nnodes = (uint32_t)cp->node_count;
        sp->max_time = prt->max_time;
        sp->default_time = prt->default_time == FLURM_NO_VAL ? 0 : prt->default_time;
        sp->max_nodes = cp->max_nodes;
        sp->priority_tier = cp->priority_tier;
        sp->priority_job_factor = cp->priority_job_factor;
        sp->state = prt->state_up == FLURM_PARTITION_DOWN ? FLURM_SCHED_PART_DOWN
                  : prt->state_up == FLURM_PARTITION_INACTIVE ? FLURM_SCHED_PART_INACTIVE
                  : prt->state_up == FLURM_PARTITION_DRAIN ? FLURM_SCHED_PART_DRAIN
                  : FLURM_SCHED_PART_UP;
        sp->max_share = cp->max_share & ~FLURM_CONF_SHARED_FORCE;
        sp->preempt_mode = cp->preempt_mode == FLURM_NO_VAL16 ? FLURM_SCHED_PREEMPT_INHERIT
                                                               : sched_preempt_mode(cp->preempt_mode);
        /* AllowGroups, resolved to uids when the configuration was loaded: a job whose user
         * it no longer admits (reconfigured) waits with PartitionConfig, as in slurmctld */
        sp->allow_uids = cp->allow_uids;
        sp->nallow_uids = (uint32_t)cp->nallow_uids;
    }
    in->nodes = nodes;
    in->nnodes = (uint32_t)c->node_count;
    in->parts = parts;
    in->nparts = (uint32_t)c->partition_count;
    return FLURM_OK;
}

static uint32_t first_task(const flurm_job_t *j)
{
    for (uint32_t w = 0; w < (j->array_nbits + 63) / 64; w++)
        if (j->array_pending[w])
            return w * 64 + (uint32_t)__builtin_ctzll(j->array_pending[w]);
    return FLURM_NO_VAL;
}

static uint32_t running_tasks(const flurm_state_t *st, uint32_t array_id)
{
    uint32_t n = 0;
    for (size_t i = 0; i < st->njobs; i++) {
        const flurm_job_t *j = st->jobs[i];
        if (j && j->array_job_id == array_id && j->nodes &&
            ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING || (j->job_state & FLURM_JOB_COMPLETING)))
            n++;
    }
    return n;
}

static bool job_holds_nodes(const flurm_job_t *j)
{
    return j->nodes && ((j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_RUNNING ||
                        (j->job_state & FLURM_JOB_COMPLETING));
}

/* Pending jobs the scheduler may consider: described, in a partition, with a feature
 * expression it understands. */
static bool job_schedulable(const flurm_job_t *j)
{
    /* a requeued job still completing (PENDING|COMPLETING) holds its nodes until they report
     * its processes gone: it is not a candidate before then */
    if (!j->desc || (j->job_state & FLURM_JOB_STATE_BASE) != FLURM_JOB_PENDING ||
        (j->job_state & FLURM_JOB_COMPLETING) || j->part_index < 0)
        return false;
    if (j->desc->features && *j->desc->features) {
        flurm_sched_expr_t *e;
        if (flurm_sched_expr_parse(j->desc->features, &e))
            return false;
        flurm_sched_expr_free(e);
    }
    return true;
}

/* The whole view; JOBS[k] is the state's job of IN->jobs[k]. */
static int view_build(flurm_state_t *st, time_t now, arena_t *a, flurm_sched_input_t *in,
                      flurm_job_t ***jobs)
{
    memset(in, 0, sizeof *in);
    int rc = view_cluster(st, a, in);
    if (rc)
        return rc;
    view_params(st, now, &in->params);
    flurm_sched_job_t *sj = arena_alloc(a, (st->njobs + 1) * sizeof *sj);
    flurm_job_t **map = arena_alloc(a, (st->njobs + 1) * sizeof *map);
    if (!sj || !map)
        return FLURM_ENOMEM;
    uint32_t n = 0;
    for (size_t i = 0; i < st->njobs; i++) {
        flurm_job_t *j = st->jobs[i];
        if (!j || !st->conf->partition_count)
            continue;
        flurm_sched_job_t *s = &sj[n];
        bool run = job_holds_nodes(j);
        bool susp = !run && j->sus_released && j->nodes &&
                    (j->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_SUSPENDED;
        if (!run && !susp && !job_schedulable(j))
            continue;
        s->job_id = j->job_id;
        s->uid = j->user_id;
        s->gid = j->group_id;
        s->account = j->desc ? j->desc->account : NULL;
        s->priority = j->priority;
        s->hold_reason = j->state_reason == FLURM_WAIT_HELD_USER ? FLURM_SCHED_WAIT_HELD_USER
                                                                  : FLURM_SCHED_WAIT_HELD;
        s->nice = j->desc && j->desc->nice != FLURM_NO_VAL ? (int32_t)(j->desc->nice - FLURM_NICE_OFFSET) : 0;
        s->submit_time = j->submit_time;
        s->begin_time = j->eligible_time > now ? j->eligible_time : 0;
        s->partition = j->part_index >= 0 ? (uint32_t)j->part_index : 0;
        s->time_limit = j->time_limit ? j->time_limit : FLURM_SCHED_INFINITE;
        if (run || susp) {
            if ((size_t)j->part_index >= st->conf->partition_count)
                s->partition = 0;
            uint32_t base = j->job_state & FLURM_JOB_STATE_BASE;
            s->state = run ? FLURM_SCHED_JOB_RUNNING : FLURM_SCHED_JOB_SUSPENDED;
            s->preempting = run && (base == FLURM_JOB_PENDING || base == FLURM_JOB_PREEMPTED);
            s->start_time = j->start_time;
            s->alloc_nodes = j->nodes;
            s->nalloc_nodes = j->nnodes;
            s->alloc_cpus_per_node = j->cpus_per_node;
            s->alloc_mem_per_node = j->mem_per_node;
            s->end_time = j->end_time ? j->end_time : INT64_MAX;
            if (susp && j->end_time)   /* when it would end if resumed now */
                s->end_time = now + (j->end_time > j->suspend_time ? j->end_time - j->suspend_time : 0);
            if (j->desc && j->desc->tres_per_node && *j->desc->tres_per_node) {
                flurm_sched_gres_t *g = arena_alloc(a, FLURM_SCHED_GRES_MAX * sizeof *g);
                if (!g)
                    return FLURM_ENOMEM;
                s->gres = g;
                s->ngres = parse_gres(a, j->desc->tres_per_node, true, g);
            }
        } else if (!j->priority) {
            /* held: the scheduler looks no further than that (its reason is the hold's), so
             * neither its request nor its dependency is worked out for it */
            s->state = FLURM_SCHED_JOB_PENDING;
        } else {
            s->state = FLURM_SCHED_JOB_PENDING;
            view_request(st, a, j->desc, s);
            s->dependency_ok = dep_test(st, j, now, false, NULL) == DEP_MET;
            s->array_job_id = j->array_job_id;
            if (j->array_job_id && j->array_max_tasks) {
                s->array_task_limit = j->array_max_tasks;
                s->array_running = running_tasks(st, j->array_job_id);
            }
        }
        map[n++] = j;
    }
    in->jobs = sj;
    in->njobs = n;
    *jobs = map;
    return view_usage(st, now, a, in);
}

/* Records what the scheduler found for pending job J (not replicated, like state_desc): a
 * change is a change to the job record, which readers caching the job list
 * (flurm_state_jobs_gen) must see. */
static void plan_result(flurm_state_t *st, flurm_job_t *j, const flurm_sched_job_result_t *r, time_t now)
{
    uint16_t reason = (uint16_t)r->reason;
    const char *desc = NULL;
    bool changed = false;
    switch (r->reason) {
    case FLURM_SCHED_WAIT_HELD:
    case FLURM_SCHED_WAIT_HELD_USER:
    case FLURM_SCHED_WAIT_DEPENDENCY:
    case FLURM_SCHED_WAIT_DEP_INVALID:
    case FLURM_SCHED_WAIT_PART_DOWN:
    case FLURM_SCHED_WAIT_PART_INACTIVE:
    case FLURM_SCHED_WAIT_NO_REASON:
        reason = 0;   /* flurm_state_schedule's reasons stand (they tell DependencyNeverSatisfied) */
        break;
    case FLURM_SCHED_WAIT_NODE_NOT_AVAIL:
        if (!j->desc->req_nodes || !*j->desc->req_nodes) {
            /* As slurmctld's scheduler words it when the partition lacks usable nodes. */
            reason = FLURM_WAIT_RESOURCES;
            desc = "Nodes required for job are DOWN, DRAINED or reserved for jobs in "
                   "higher priority partitions";
        }
        break;
    default:
        break;
    }
    j->sched_reason = reason;
    j->sched_desc = desc;
    if (reason && (flurm_job_reason(j) != reason || j->state_desc != desc)) {
        j->shown_reason = reason;
        j->shown = st->any_shown = true;
        j->state_desc = desc;
        changed = true;
    }
    if (j->planned_start != r->planned_start || j->nplanned_nodes != r->nplanned_nodes ||
        (r->nplanned_nodes &&
         memcmp(j->planned_nodes, r->planned_nodes, r->nplanned_nodes * sizeof *r->planned_nodes))) {
        uint32_t *pn = NULL;
        if (r->nplanned_nodes && (pn = malloc(r->nplanned_nodes * sizeof *pn)))
            memcpy(pn, r->planned_nodes, r->nplanned_nodes * sizeof *pn);
        free(j->planned_nodes);
        j->planned_nodes = pn;
        j->nplanned_nodes = pn ? r->nplanned_nodes : 0;
        j->planned_start = r->planned_start;
        changed = true;
    }
    if (changed)
        touch_shown(st, now);
}

/* Keeps each pending job's multifactor priority and factors of this cycle (sprio, and the
 * Priority= that squeue / scontrol show); a changed priority is a change to the job record. */
static void plan_factors(flurm_state_t *st, const flurm_sched_input_t *in,
                         const flurm_sched_output_t *out, flurm_job_t **map, time_t now)
{
    for (uint32_t k = 0; k < out->njobs && k < in->njobs; k++) {
        if (in->jobs[k].state != FLURM_SCHED_JOB_PENDING)
            continue;
        flurm_job_t *j = map[k];
        uint32_t before = j->factors.priority;
        flurm_sched_job_factors(in, out, k, &j->factors);
        if (j->factors.priority != before)
            touch_shown(st, now);
    }
}

/* Marks the nodes the cycle's reservations hold (backfill.c planned_bitmap, set at the end of
 * each backfill cycle); a change is a change to the node records. */
static void plan_nodes(flurm_state_t *st, const flurm_sched_input_t *in, const flurm_sched_output_t *out, time_t now)
{
    size_t nn = st->conf->node_count;
    bool *planned = calloc(nn + 1, sizeof *planned);   /* + 1: never calloc(0) */
    if (!planned)
        return;   /* the flags of the last cycle stay: they are only shown */
    for (uint32_t k = 0; k < out->njobs && k < in->njobs; k++) {
        const flurm_sched_job_result_t *r = &out->jobs[k];
        if (in->jobs[k].state != FLURM_SCHED_JOB_PENDING)
            continue;
        for (uint32_t i = 0; i < r->nplanned_nodes; i++)
            if (r->planned_nodes[i] < nn)
                planned[r->planned_nodes[i]] = true;
    }
    bool changed = false;
    for (size_t i = 0; i < nn; i++) {
        changed = changed || st->nodes[i].planned != planned[i];
        st->nodes[i].planned = planned[i];
    }
    free(planned);
    if (changed && now > st->nodes_seen)
        st->nodes_seen = now;
}

int flurm_state_job_factors(const flurm_state_t *st, uint32_t job_id, flurm_sched_factors_t *out)
{
    const flurm_job_t *j = flurm_state_find_job(st, job_id);
    if (!j || j->purged || (j->job_state & FLURM_JOB_STATE_BASE) != FLURM_JOB_PENDING ||
        !j->factors.job_id)
        return FLURM_ENOENT;
    *out = j->factors;
    return FLURM_OK;
}

static void sched_stats_add(flurm_state_t *st, const flurm_sched_stats_t *s, time_t now, bool backfill)
{
    flurm_state_sched_stats_t *t = &st->sched;
    t->main_cycles++;
    t->main_last_usec = s->main_usec;
    t->main_sum_usec += s->main_usec;
    if (s->main_usec > t->main_max_usec)
        t->main_max_usec = s->main_usec;
    t->main_last_depth = s->main_depth;
    t->main_depth_sum += s->main_depth;
    t->queue_length = s->queue_length;
    if (!backfill)
        return;
    t->bf_cycles++;
    t->bf_last_usec = s->backfill_usec;
    t->bf_sum_usec += s->backfill_usec;
    if (s->backfill_usec > t->bf_max_usec)
        t->bf_max_usec = s->backfill_usec;
    t->bf_last_depth = s->backfill_depth;
    t->bf_depth_sum += s->backfill_depth;
    t->bf_queue_len = s->queue_length;
    t->bf_queue_len_sum += s->queue_length;
    t->bf_last_backfilled = s->started_backfill;
    t->bf_backfilled += s->started_backfill;
    t->bf_when_last = now;
}

void flurm_state_sched_stats(const flurm_state_t *st, flurm_state_sched_stats_t *out)
{
    *out = st->sched;
}

int flurm_state_fit_now(const flurm_state_t *st, const flurm_job_desc_msg_t *d, int32_t part,
                        uint32_t **nodes, uint32_t *nnodes, uint32_t *cpus_per_node)
{
    const flurm_conf_t *c = st->conf;
    if (part < 0 || (size_t)part >= c->partition_count)
        return FLURM_EINVAL;
    const flurm_conf_partition_t *p = &c->partitions[part];
    uint32_t want = d->min_nodes != FLURM_NO_VAL && d->min_nodes ? d->min_nodes : 1;
    if (want > p->node_count)
        return FLURM_ENOENT;
    if (d->features && *d->features) {
        flurm_sched_expr_t *e;
        if (flurm_sched_expr_parse(d->features, &e))
            return FLURM_EINVAL;
        flurm_sched_expr_free(e);
    }
    /* The job alone against what is free now: no queue, no reservations (--test-only). */
    arena_t a = { 0 };
    flurm_sched_input_t in = { 0 };
    flurm_sched_job_t sj = { 0 };
    flurm_sched_output_t out = { 0 };
    int rc = view_cluster(st, &a, &in);
    if (rc == FLURM_OK) {
        sj.job_id = 1;
        sj.priority = 1;
        sj.partition = (uint32_t)part;
        sj.dependency_ok = true;
        sj.time_limit = d->time_limit != FLURM_NO_VAL && d->time_limit ? d->time_limit : 0;
        view_request(st, &a, d, &sj);
        in.jobs = &sj;
        in.njobs = 1;
        in.params.backfill = false;
        rc = flurm_sched_run(&in, &out);
    }
    if (rc == FLURM_OK) {
        if (out.nstarts) {
            *nodes = out.starts[0].nodes;
            out.starts[0].nodes = NULL;
            *nnodes = out.starts[0].nnodes;
            *cpus_per_node = out.starts[0].cpus_per_node;
        } else {
            rc = out.jobs[0].reason == FLURM_SCHED_WAIT_RESOURCES ? FLURM_EAGAIN : FLURM_ENOENT;
        }
    }
    flurm_sched_output_free(&out);
    arena_free(&a);
    return rc;
}

size_t flurm_state_plan(flurm_state_t *st, time_t now, flurm_cmd_start_t *starts, size_t max)
{
    size_t np;
    return flurm_state_plan_preempt(st, now, starts, max, NULL, 0, &np);
}

size_t flurm_state_plan_preempt(flurm_state_t *st, time_t now, flurm_cmd_start_t *starts, size_t max,
                                flurm_cmd_preempt_t *preempts, size_t maxp, size_t *npreempts)
{
    arena_t a = { 0 };
    *npreempts = 0;
    flurm_sched_input_t in;
    flurm_sched_output_t out = { 0 };
    flurm_job_t **map = NULL;
    size_t nstart = 0;
    if (view_build(st, now, &a, &in, &map) ||
        (st->sched_host ? flurm_sched_host_run(st->sched_host, &in, &out) : flurm_sched_run(&in, &out)))
        goto done;
    sched_stats_add(st, &out.stats, now, in.params.backfill);
    /* all of a cycle's preemptions or none: a start may rely on a suspension before it */
    if (out.npreempts > maxp)
        out.nstarts = 0;
    for (uint32_t i = 0; i < out.npreempts && i < maxp; i++) {
        const flurm_sched_preempt_t *pr = &out.preempts[i];
        preempts[i] = (flurm_cmd_preempt_t){
            .job_id = map[pr->job_index]->job_id, .preemptor_id = pr->preemptor_id,
            .action = pr->mode == FLURM_SCHED_PREEMPT_CANCEL ? FLURM_PREEMPT_CANCEL
                    : pr->mode == FLURM_SCHED_PREEMPT_REQUEUE ? FLURM_PREEMPT_REQUEUE
                    : pr->mode == FLURM_SCHED_PREEMPT_SUSPEND ? FLURM_PREEMPT_SUSPEND : FLURM_PREEMPT_RESUME,
        };
        (*npreempts)++;
    }
    for (uint32_t k = 0; k < out.njobs; k++)
        if (in.jobs[k].state == FLURM_SCHED_JOB_PENDING)
            plan_result(st, map[k], &out.jobs[k], now);
    plan_factors(st, &in, &out, map, now);
    plan_nodes(st, &in, &out, now);
    for (uint32_t i = 0; i < out.nstarts && nstart < max; i++) {
        const flurm_sched_start_t *ss = &out.starts[i];
        flurm_job_t *j = map[ss->job_index];
        if (ss->nnodes > FLURM_START_MAX_NODES)
            continue;
        flurm_cmd_start_t *s = &starts[nstart];
        s->job_id = j->job_id;
        /* Only the meta record (pending tasks left) splits; a task already split off, or the
         * last one holding the array's id, is a job of its own (pending again after a
         * requeue) and starts whole. One task of an array per pass; the next pass starts the
         * next one. */
        s->array_task_id = j->array_pending ? first_task(j) : FLURM_NO_VAL;
        uint32_t ready;
        if (j->array_pending && j->desc->dependency && dep_test(st, j, now, false, &ready) == DEP_MET &&
            ready != FLURM_NO_VAL)
            s->array_task_id = ready;   /* aftercorr: a task whose counterpart is done */
        s->nodes = malloc(ss->nnodes * sizeof *s->nodes);
        if (!s->nodes)
            break;
        memcpy(s->nodes, ss->nodes, ss->nnodes * sizeof *s->nodes);
        s->nnodes = ss->nnodes;
        s->cpus_per_node = ss->cpus_per_node;
        /* no memory asked for and no default: memory is not tracked (an exclusive job's
         * whole node is not booked against it) */
        s->mem_per_node = in.jobs[ss->job_index].mem ? ss->mem_per_node : 0;
        nstart++;
    }
done:
    flurm_sched_output_free(&out);
    arena_free(&a);
    return nstart;
}

void flurm_state_starts_free(flurm_cmd_start_t *starts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(starts[i].nodes);
}

int flurm_state_apply(flurm_state_t *st, const void *data, size_t len, flurm_apply_result_t *res)
{
    cmd_t c;
    *res = (flurm_apply_result_t){ .rc = RC_ERROR };
    st->neffects = 0;
    if (cmd_parse(data, len, &c) != FLURM_OK)
        return FLURM_EPROTO;
    req_table_expire(&st->reqs, (int64_t)c.now);
    const req_rec_t *seen = c.has_req ? req_table_find(&st->reqs, c.req_id) : NULL;
    if (seen) {   /* the same client request again: it was applied once, its result stands */
        res->rc = seen->rc;
        res->job_id = seen->job_id;
        res->repeated = true;
        res->effects = st->effects;
        return FLURM_OK;
    }
    if (c.kind == FLURM_CMD_PURGE_JOBS)
        deps_settle(st, c.now, NULL);   /* dependents keep the verdict on a job before it goes */
    switch (c.kind) {
    case FLURM_REQUEST_SUBMIT_BATCH_JOB:
    case FLURM_REQUEST_RESOURCE_ALLOCATION: res->rc = apply_submit(st, &c, res); break;
    case FLURM_REQUEST_COMPLETE_JOB_ALLOCATION: res->rc = apply_complete_allocation(st, &c); mark_all(st); break;
    /* These can change other jobs' reasons (dependents, whole partitions): full pass next. */
    case FLURM_REQUEST_KILL_JOB: res->rc = apply_kill(st, &c); mark_all(st); break;
    case FLURM_REQUEST_UPDATE_JOB: res->rc = apply_update_job(st, &c); mark_all(st); break;
    case FLURM_REQUEST_UPDATE_NODE: res->rc = apply_update_node(st, &c); mark_all(st); break;
    case FLURM_REQUEST_UPDATE_PARTITION: res->rc = apply_update_part(st, &c); mark_all(st); break;
    case FLURM_CMD_PURGE_JOBS:
    case FLURM_CMD_NODES_NOT_RESPONDING: res->rc = apply_id_list(st, &c); mark_all(st); break;
    case FLURM_CMD_NODE_REGISTER: res->rc = apply_register(st, &c); mark_all(st); break;
    case FLURM_CMD_JOB_START: res->rc = apply_job_start(st, &c); mark_all(st); break;
    case FLURM_CMD_JOB_END: res->rc = apply_job_end(st, &c); mark_all(st); break;
    case FLURM_CMD_JOB_PREEMPT: res->rc = apply_preempt(st, &c); mark_all(st); break;
    case FLURM_REQUEST_SUSPEND: res->rc = apply_suspend_req(st, &c); mark_all(st); break;
    case FLURM_REQUEST_JOB_REQUEUE: res->rc = apply_requeue_req(st, &c); mark_all(st); break;
    default:
        return FLURM_EPROTO;
    }
    if (c.kind == FLURM_REQUEST_SUBMIT_BATCH_JOB || c.kind == FLURM_REQUEST_RESOURCE_ALLOCATION) {
        flurm_job_t *j = res->rc == RC_OK ? flurm_state_find_job(st, res->job_id) : NULL;
        if (j)
            deps_settle(st, c.now, j);
    } else if (c.kind != FLURM_REQUEST_UPDATE_NODE && c.kind != FLURM_REQUEST_UPDATE_PARTITION) {
        deps_settle(st, c.now, NULL);
    }
    res->effects = st->effects;
    res->neffects = st->neffects;
    /* Out of memory, the request is not remembered: a second copy would apply again (logged). */
    if (c.has_req && req_table_add(&st->reqs, c.req_id, (int64_t)c.now, res->rc, res->job_id) != FLURM_OK)
        flurm_error("no memory to remember a request's id: a copy of it routed again would apply twice");
    return FLURM_OK;
}

/* ---------------------------------------------------------------- dependencies
 *
 * A job's dependency lives in desc->dependency in the form slurmctld stores and shows
 * (libflurm/state/depend.h: "afterok:5(unfulfilled)"), so it is replicated and snapshotted with
 * the description. Item states only move forward, as in slurmctld's test_job_dependency
 * (src/slurmctld/job_scheduler.c): deps_settle() re-tests the unfulfilled items of every pending
 * job after each command that can change a job, keeps what it found (a job that is purged
 * later keeps the verdict it earned), and clears the text once the list is satisfied. The
 * scheduler passes test the same way without keeping anything (after:id+minutes depends on the
 * clock). */

/* What a dependency item names, summed over an array's records where it names all tasks. */
typedef struct dep_target {
    bool found, complete, completed, pending;
    time_t start;
} dep_target_t;

static bool job_complete_ok(const flurm_job_t *o)
{
    return (o->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_COMPLETE && o->exit_code == 0;
}

static void target_add(dep_target_t *t, const flurm_job_t *o)
{
    bool pend = (o->job_state & FLURM_JOB_STATE_BASE) == FLURM_JOB_PENDING ||
                (o->array_pending && count_bits(o->array_pending, o->array_nbits));
    if (!t->found)
        t->complete = t->completed = true;
    t->found = true;
    t->complete = t->complete && !pend && job_complete_ok(o);
    t->completed = t->completed && !pend && job_finished(o);
    t->pending = t->pending || pend;
    if (o->start_time > t->start)
        t->start = o->start_time;
}

/* slurmctld's find_job_array_rec / test_job_array_* over JOB_ID and TASK. */
static void dep_target(const flurm_state_t *st, uint32_t job_id, uint32_t task, dep_target_t *t)
{
    *t = (dep_target_t){ 0 };
    const flurm_job_t *o = flurm_state_find_job(st, job_id);
    if (task == FLURM_DEP_TASK_NONE) {
        if (o)
            target_add(t, o);
        return;
    }
    if (task != FLURM_DEP_TASK_ALL && o && o->array_job_id == job_id &&
        test_bit(o->array_pending, o->array_nbits, task)) {
        t->found = t->pending = true;   /* still inside the pending meta record */
        return;
    }
    for (size_t i = 0; i < st->njobs; i++) {
        const flurm_job_t *r = st->jobs[i];
        if (!r || r->array_job_id != job_id)
            continue;
        if (task == FLURM_DEP_TASK_ALL || r->array_task_id == task)
            target_add(t, r);
    }
}

/* The state item IT of job J (as array task TASK, for aftercorr) has at NOW. */
static flurm_dep_state_t dep_item_test(const flurm_state_t *st, const flurm_job_t *j, uint32_t task,
                                       const flurm_dep_item_t *it, time_t now)
{
    if (it->kind == FLURM_DEP_SINGLETON) {
        /* Only one job of this name and user runs; earlier submitted ones go first
         * (slurmctld's _find_singleton_job: names compare only when both are set). */
        const char *name = j->desc ? j->desc->name : NULL;
        if (!name)
            return FLURM_DEP_FULFILLED;
        for (size_t i = 0; i < st->njobs; i++) {
            const flurm_job_t *o = st->jobs[i];
            if (!o || o == j || o->user_id != j->user_id)
                continue;
            const char *on = o->desc ? o->desc->name : NULL;
            if (on && strcmp(on, name) != 0)
                continue;
            uint32_t b = o->job_state & FLURM_JOB_STATE_BASE;
            if (b == FLURM_JOB_RUNNING || b == FLURM_JOB_SUSPENDED ||
                (b == FLURM_JOB_PENDING && o->job_id < j->job_id))
                return FLURM_DEP_UNFULFILLED;
        }
        return FLURM_DEP_FULFILLED;
    }
    dep_target_t t;
    if (it->kind == FLURM_DEP_AFTER_CORR && task != FLURM_NO_VAL) {
        dep_target(st, it->job_id, task, &t);
        if (t.found)
            return !t.completed ? FLURM_DEP_UNFULFILLED
                 : t.complete ? FLURM_DEP_FULFILLED : FLURM_DEP_FAILED;
    }
    dep_target(st, it->job_id, it->task_id, &t);
    if (!t.found)
        return FLURM_DEP_FULFILLED;   /* the job is gone: slurmctld lifts the dependency */
    switch (it->kind) {
    case FLURM_DEP_AFTER:
        if (t.pending)
            return FLURM_DEP_UNFULFILLED;
        return !it->minutes || (t.start && now - t.start >= (time_t)it->minutes * 60)
               ? FLURM_DEP_FULFILLED : FLURM_DEP_UNFULFILLED;
    case FLURM_DEP_AFTER_ANY:
    case FLURM_DEP_BURST_BUFFER:
        return t.completed ? FLURM_DEP_FULFILLED : FLURM_DEP_UNFULFILLED;
    case FLURM_DEP_AFTER_NOT_OK:
        return !t.completed ? FLURM_DEP_UNFULFILLED
             : !t.complete ? FLURM_DEP_FULFILLED : FLURM_DEP_FAILED;
    case FLURM_DEP_AFTER_OK:
        return !t.completed ? FLURM_DEP_UNFULFILLED
             : t.complete ? FLURM_DEP_FULFILLED : FLURM_DEP_FAILED;
    case FLURM_DEP_AFTER_CORR:
        if (!t.completed)
            return FLURM_DEP_UNFULFILLED;
        if (t.complete)
            return FLURM_DEP_FULFILLED;
        /* the meta record of a pending array waits for its tasks' own tests */
        return j->array_pending && task == FLURM_NO_VAL ? FLURM_DEP_UNFULFILLED : FLURM_DEP_FAILED;
    default:
        return FLURM_DEP_FAILED;
    }
}

/* Tests the unfulfilled items of L for J as TASK and combines them (all of an AND list, one of
 * an OR list; one failure fails an AND list, all failures an OR list). *CHANGED when an item's
 * state moved. */
static dep_result_t dep_list_test(const flurm_state_t *st, const flurm_job_t *j, uint32_t task,
                                  flurm_dep_list_t *l, time_t now, bool *changed)
{
    bool any_ok = false, any_failed = false, any_waiting = false;
    for (uint32_t i = 0; i < l->n; i++) {
        flurm_dep_item_t *it = &l->items[i];
        if (it->state == FLURM_DEP_UNFULFILLED) {
            flurm_dep_state_t ns = dep_item_test(st, j, task, it, now);
            if (ns != it->state) {
                it->state = ns;
                *changed = true;
            }
        }
        any_ok |= it->state == FLURM_DEP_FULFILLED;
        any_failed |= it->state == FLURM_DEP_FAILED;
        any_waiting |= it->state == FLURM_DEP_UNFULFILLED;
    }
    if (!l->n)
        return DEP_MET;
    if (l->any)
        return any_ok ? DEP_MET : any_waiting ? DEP_WAIT : DEP_NEVER;
    return any_failed ? DEP_NEVER : any_waiting ? DEP_WAIT : DEP_MET;
}

static bool has_corr(const flurm_dep_list_t *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->items[i].kind == FLURM_DEP_AFTER_CORR)
            return true;
    return false;
}

/* Tests J's dependency at NOW. A pending array with aftercorr items is tested task by task
 * (slurmctld splits such tasks into records of their own): met when some pending task may
 * start (*TASK = the first), never when none ever can. With KEEP, J's stored text takes the
 * new item states (cleared when met). */
static dep_result_t dep_test(flurm_state_t *st, flurm_job_t *j, time_t now, bool keep, uint32_t *task)
{
    if (task)
        *task = FLURM_NO_VAL;
    flurm_dep_list_t l;
    if (!j->desc || !j->desc->dependency || flurm_dep_parse(j->desc->dependency, &l) != FLURM_OK)
        return DEP_MET;
    bool changed = false;
    dep_result_t r;
    if (j->array_pending && has_corr(&l)) {
        dep_result_t best = DEP_NEVER;
        flurm_dep_list_t first = { 0 };
        uint32_t tried = 0;
        for (uint32_t t = 0; t < j->array_nbits && best != DEP_MET && tried < 1000; t++) {
            if (!test_bit(j->array_pending, j->array_nbits, t))
                continue;
            flurm_dep_list_t c = { .items = malloc(l.n * sizeof *l.items), .n = l.n, .any = l.any };
            if (!c.items)
                break;
            memcpy(c.items, l.items, l.n * sizeof *l.items);
            bool ch = false;
            dep_result_t rt = dep_list_test(st, j, t, &c, now, &ch);
            if (rt < best) {
                best = rt;
                if (task && rt == DEP_MET)
                    *task = t;
            }
            if (tried++ == 0)
                first = c;
            else
                flurm_dep_list_free(&c);
        }
        r = best;
        if (r == DEP_NEVER && first.n) {
            /* no task can ever start: the text shows the first one's verdict */
            flurm_dep_list_free(&l);
            l = first;
            changed = true;
        } else {
            flurm_dep_list_free(&first);
            keep = false;   /* tasks differ; each started task leaves with its own */
        }
    } else {
        r = dep_list_test(st, j, j->array_task_id, &l, now, &changed);
    }
    if (keep && (changed || r == DEP_MET)) {
        char *text = NULL;
        if (r == DEP_MET || flurm_dep_render(&l, &text) == FLURM_OK) {
            if (text && strcmp(text, j->desc->dependency) == 0) {
                free(text);   /* same text: nothing changed for readers */
            } else {
                free(j->desc->dependency);
                j->desc->dependency = text;   /* NULL once met: slurmctld flushes the list */
                touch_jobs(st, now);
            }
        }
    }
    flurm_dep_list_free(&l);
    return r;
}

/* DependencyParameters=kill_invalid_depend, or the job's --kill-on-invalid-dep (which wins). */
static bool kill_invalid_dep(const flurm_state_t *st, const flurm_job_t *j)
{
    uint64_t f = j->desc ? j->desc->bitflags : 0;
    if (f & FLURM_KILL_INV_DEP)
        return true;
    if (f & FLURM_NO_KILL_INV_DEP)
        return false;
    const char *p = flurm_conf_get(st->conf, "DependencyParameters");
    for (; p && *p; p += strcspn(p, ","), p += *p == ',')
        if (strncasecmp(p, "kill_invalid_depend", 19) == 0 && (p[19] == ',' || !p[19]))
            return true;
    return false;
}

/* Re-tests pending job J (see above). A dependency that can never be met leaves the job
 * pending with DependencyNeverSatisfied, or cancels it when asked to (slurmctld's
 * handle_invalid_dependency/_kill_dependent). True while J still holds a dependency text. */
static bool dep_settle_job(flurm_state_t *st, flurm_job_t *j, time_t now)
{
    if (!j->desc || !j->desc->dependency || (j->job_state & FLURM_JOB_STATE_BASE) != FLURM_JOB_PENDING)
        return false;
    if (!j->priority || j->state_reason == FLURM_WAIT_DEP_INVALID)
        return true;   /* slurmctld's scheduler leaves a held job untested (job_independent), and
                        * one that can never run: the text stays as it was (an item still owed
                        * stays "unfulfilled") until it is released or given a new dependency */
    dep_result_t r = dep_test(st, j, now, true, NULL);
    if (r == DEP_NEVER && kill_invalid_dep(st, j)) {
        if (j->array_pending)
            st->stats.jobs_canceled += count_bits(j->array_pending, j->array_nbits) - 1;
        finish_job(st, j, FLURM_JOB_CANCELLED, now);
        free(j->array_pending);
        j->array_pending = NULL;
        j->array_nbits = 0;
        j->state_reason = FLURM_WAIT_DEP_INVALID;
        touch_jobs(st, now);
    } else if (r == DEP_NEVER && j->state_reason != FLURM_WAIT_DEP_INVALID) {
        j->state_reason = FLURM_WAIT_DEP_INVALID;
        touch_jobs(st, now);
    }
    return j->desc->dependency != NULL;
}

/* Re-tests every pending dependent job after a command, or only ONLY (a job just submitted):
 * a new job changes no other job's dependency (it has ended nothing, and singleton waits only
 * for jobs submitted earlier). */
static void deps_settle(flurm_state_t *st, time_t now, flurm_job_t *only)
{
    if (only) {
        if (dep_settle_job(st, only, now))
            st->deps_pending = true;
        return;
    }
    if (!st->deps_pending)
        return;
    bool any = false;
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i] && dep_settle_job(st, st->jobs[i], now))
            any = true;
    st->deps_pending = any;
}

/* Resolves "afterok:ID" naming an array to all of its tasks ("ID_*"), as slurmctld does when it
 * takes the dependency (_find_dependent_job_ptr). */
static void dep_resolve_arrays(const flurm_state_t *st, flurm_dep_list_t *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        flurm_dep_item_t *it = &l->items[i];
        if (it->kind == FLURM_DEP_SINGLETON || it->task_id != FLURM_DEP_TASK_NONE)
            continue;
        const flurm_job_t *o = flurm_state_find_job(st, it->job_id);
        if (o && o->array_job_id == it->job_id)
            it->task_id = FLURM_DEP_TASK_ALL;
    }
}

/* Does a chain of pending jobs' dependencies lead from L back to SELF? slurmctld follows at
 * most max_depend_depth (10) records (_scan_depend). */
static bool dep_reaches(const flurm_state_t *st, const flurm_dep_list_t *l, uint32_t self, int *budget)
{
    for (uint32_t i = 0; i < l->n; i++) {
        const flurm_dep_item_t *it = &l->items[i];
        if (it->kind == FLURM_DEP_SINGLETON || (*budget)-- <= 0)
            continue;
        const flurm_job_t *o = flurm_state_find_job(st, it->job_id);
        if (!o)
            continue;
        if (o->job_id == self)
            return true;
        if (job_finished(o) || !o->desc || !o->desc->dependency)
            continue;
        flurm_dep_list_t ol;
        if (flurm_dep_parse(o->desc->dependency, &ol) != FLURM_OK)
            continue;
        bool hit = dep_reaches(st, &ol, self, budget);
        flurm_dep_list_free(&ol);
        if (hit)
            return true;
    }
    return false;
}

uint32_t flurm_state_dep_check(const flurm_state_t *st, uint32_t self, const char *text)
{
    flurm_dep_list_t l;
    int rc = flurm_dep_parse(text, &l);
    if (rc)
        return rc == FLURM_ENOTSUP ? RC_NOT_SUPPORTED : RC_DEPENDENCY;
    uint32_t out = RC_OK;
    const flurm_job_t *me = self ? flurm_state_find_job(st, self) : NULL;
    dep_resolve_arrays(st, &l);
    for (uint32_t i = 0; i < l.n && !out; i++) {
        const flurm_dep_item_t *it = &l.items[i];
        if (it->kind == FLURM_DEP_SINGLETON)
            continue;
        /* a job may not wait for itself, nor a task for its whole array (slurmctld's
         * _depends_on_same_job) */
        if (me && (it->task_id == FLURM_DEP_TASK_ALL
                        ? me->array_job_id == it->job_id || it->job_id == self
                        : it->task_id == FLURM_DEP_TASK_NONE
                        ? it->job_id == self
                        : me->array_job_id == it->job_id && me->array_task_id == it->task_id))
            out = RC_DEPENDENCY;
    }
    int budget = 10;
    if (!out && self && dep_reaches(st, &l, self, &budget))
        out = RC_CIRCULAR_DEPENDENCY;
    flurm_dep_list_free(&l);
    return out;
}

/* TEXT as J's stored dependency (slurmctld's form, arrays resolved); FLURM_EINVAL leaves J. */
static int dep_store(flurm_state_t *st, flurm_job_t *j, const char *text)
{
    flurm_dep_list_t l;
    if (flurm_dep_parse(text, &l) != FLURM_OK)
        return FLURM_EINVAL;
    dep_resolve_arrays(st, &l);
    char *s = NULL;
    int rc = flurm_dep_render(&l, &s);
    flurm_dep_list_free(&l);
    if (rc)
        return rc;
    free(j->desc->dependency);
    j->desc->dependency = s;
    if (s)
        st->deps_pending = true;
    return FLURM_OK;
}

/* ---------------------------------------------------------------- scheduling (reasons only) */

static bool node_usable(const flurm_node_rt_t *n)
{
    uint32_t base = n->state & 0xF;
    if (n->state & (FLURM_NODE_STATE_DRAIN | FLURM_NODE_STATE_FAIL | FLURM_NODE_STATE_NO_RESPOND))
        return false;
    return base == FLURM_NODE_STATE_IDLE || base == FLURM_NODE_STATE_MIXED ||
           base == FLURM_NODE_STATE_ALLOCATED;
}

/* Usable node count of every partition: computed once per pass, not once per job. */
static uint32_t *usable_per_partition(const flurm_state_t *st)
{
    const flurm_conf_t *c = st->conf;
    uint32_t *u = calloc(c->partition_count ? c->partition_count : 1, sizeof *u);
    for (size_t i = 0; u && i < c->partition_count; i++)
        for (size_t k = 0; k < c->partitions[i].node_count; k++)
            u[i] += node_usable(&st->nodes[c->partitions[i].node_idx[k]]);
    return u;
}

static void schedule_job(flurm_state_t *st, flurm_job_t *j, const uint32_t *usable, time_t now)
{
    if ((j->job_state & 0xFF) != FLURM_JOB_PENDING || (j->job_state & FLURM_JOB_COMPLETING)) {
        j->shown = false;   /* (a requeue still completing shows no reason, as in slurmctld) */
        return;
    }
    uint16_t old = flurm_job_reason(j), reason;
    const char *old_desc = j->state_desc;
    j->last_sched_eval = now;
    j->state_desc = NULL;
    if (j->priority == 0) {
        j->shown = false;   /* held: the reason says who held it */
        if (old != j->state_reason || old_desc)
            touch_shown(st, now);
        return;
    }
    dep_result_t dep = dep_test(st, j, now, false, NULL);
    if (j->eligible_time > now) {
        /* job_independent(): a begin time in the future comes first (BeginTime), also for a
         * requeued job held back 121 s */
        reason = FLURM_WAIT_TIME;
    } else if (dep != DEP_MET) {
        reason = dep == DEP_NEVER ? FLURM_WAIT_DEP_INVALID : FLURM_WAIT_DEPENDENCY;
    } else if (j->part_index < 0) {
        reason = FLURM_FAIL_DOWN_PARTITION;
    } else if (st->parts[j->part_index].state_up == FLURM_PARTITION_DOWN) {
        reason = FLURM_WAIT_PART_DOWN;
    } else if (st->parts[j->part_index].state_up == FLURM_PARTITION_INACTIVE) {
        reason = FLURM_WAIT_PART_INACTIVE;
    } else {
        uint32_t need = j->desc && j->desc->min_nodes != FLURM_NO_VAL ? j->desc->min_nodes : 1;
        /* What the last scheduler cycle found (flurm_state_plan) stands until the next. */
        reason = j->sched_reason ? j->sched_reason : FLURM_WAIT_RESOURCES;
        j->state_desc = j->sched_reason ? j->sched_desc : NULL;
        /* As slurmctld's scheduler words it when the partition lacks usable nodes. */
        if (!usable || usable[j->part_index] < need) {
            reason = FLURM_WAIT_RESOURCES;
            j->state_desc = "Nodes required for job are DOWN, DRAINED or reserved for jobs in "
                            "higher priority partitions";
        }
    }
    j->shown_reason = reason;
    j->shown = st->any_shown = true;
    if (reason != old || j->state_desc != old_desc)
        touch_shown(st, now);
}

void flurm_state_schedule(flurm_state_t *st, time_t now)
{
    uint32_t *usable = usable_per_partition(st);
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i])
            schedule_job(st, st->jobs[i], usable, now);
    free(usable);
    st->ndirty = 0;
}

void flurm_state_schedule_changed(flurm_state_t *st, time_t now)
{
    if (st->ndirty == 0)
        return;
    if (st->ndirty >= st->ndirty_cap) {   /* overflowed: everything may have changed */
        flurm_state_schedule(st, now);
        return;
    }
    uint32_t *usable = usable_per_partition(st);
    for (size_t i = 0; i < st->ndirty; i++) {
        flurm_job_t *j = flurm_state_find_job(st, st->dirty[i]);
        if (j)
            schedule_job(st, j, usable, now);
    }
    free(usable);
    st->ndirty = 0;
}

/* ---------------------------------------------------------------- snapshot */

/* 3: per job preempt_time, suspend_time, pre_sus_time, tot_sus_time, sus_released after
 * ran_on, and the fair-share usage after the partitions. 4: the recent request ids after the
 * usage (requests.h). Versions 2 and 3 are still read (missing fields zero or empty). */
#define SNAP_VERSION 4

int flurm_state_snapshot(const flurm_state_t *st, flurm_buf_t *out)
{
    const flurm_conf_t *c = st->conf;
    flurm_pack8(out, SNAP_VERSION);
    flurm_pack32(out, st->next_job_id);
    flurm_pack32(out, st->lowest_prio);
    flurm_pack_time(out, st->jobs_changed);
    flurm_pack_time(out, st->nodes_changed);
    flurm_pack_time(out, st->parts_changed);
    flurm_pack32(out, st->stats.jobs_submitted);
    flurm_pack32(out, st->stats.jobs_started);
    flurm_pack32(out, st->stats.jobs_completed);
    flurm_pack32(out, st->stats.jobs_canceled);
    flurm_pack32(out, st->stats.jobs_failed);
    flurm_pack32(out, (uint32_t)st->live);
    flurm_buf_t desc;
    flurm_buf_init(&desc);
    for (size_t i = 0; i < st->njobs && !out->err; i++) {
        const flurm_job_t *j = st->jobs[i];
        if (!j)
            continue;
        flurm_pack32(out, j->job_id);
        flurm_pack32(out, j->user_id);
        flurm_pack32(out, j->group_id);
        flurm_pack32(out, j->job_state);
        flurm_pack16(out, j->state_reason);
        flurm_pack32(out, j->priority);
        flurm_pack_time(out, j->submit_time);
        flurm_pack_time(out, j->eligible_time);
        flurm_pack_time(out, j->start_time);
        flurm_pack_time(out, j->end_time);
        flurm_pack32(out, j->exit_code);
        flurm_packstr(out, j->part_index >= 0 ? c->partitions[j->part_index].name : NULL);
        flurm_pack32(out, j->array_job_id);
        flurm_pack32(out, j->array_task_id);
        flurm_pack32(out, j->array_max_tasks);
        flurm_pack_bitmap(out, j->array_pending, j->array_nbits);
        flurm_packstr(out, j->alloc_node);
        flurm_pack32_array(out, j->nodes, j->nodes ? j->nnodes : 0);
        flurm_pack32(out, j->cpus_per_node);
        flurm_pack64(out, j->mem_per_node);
        flurm_pack16(out, j->restart_cnt);
        flurm_pack64(out, j->max_rss_kb);
        flurm_pack32_array(out, j->ran_on, j->ran_on ? j->nran_on : 0);
        flurm_pack_time(out, j->preempt_time);
        flurm_pack_time(out, j->suspend_time);
        flurm_pack32(out, j->pre_sus_time);
        flurm_pack32(out, j->tot_sus_time);
        flurm_pack8(out, j->sus_released);
        desc.size = 0;
        if (j->desc)
            flurm_msg_pack(FLURM_REQUEST_SUBMIT_BATCH_JOB, j->desc, &desc);
        if (desc.err) {
            out->err = desc.err;
            break;
        }
        flurm_packmem(out, desc.data, (uint32_t)desc.size);
    }
    flurm_buf_release(&desc);
    flurm_pack32(out, (uint32_t)c->node_count);
    for (size_t i = 0; i < c->node_count; i++) {
        const flurm_node_rt_t *n = &st->nodes[i];
        flurm_packstr(out, c->nodes[i].name);
        flurm_pack32(out, n->state);
        flurm_packstr(out, n->reason);
        flurm_pack32(out, n->reason_uid);
        flurm_pack_time(out, n->reason_time);
        flurm_pack64(out, n->boot_id);
        flurm_pack_time(out, n->boot_time);
        flurm_pack_time(out, n->slurmd_start_time);
        flurm_pack_time(out, n->last_busy);
        flurm_packstr(out, n->version);
        flurm_packstr(out, n->arch);
        flurm_packstr(out, n->os);
    }
    flurm_pack32(out, (uint32_t)c->partition_count);
    for (size_t i = 0; i < c->partition_count; i++) {
        flurm_packstr(out, c->partitions[i].name);
        flurm_pack16(out, st->parts[i].state_up);
        flurm_pack32(out, st->parts[i].max_time);
        flurm_pack32(out, st->parts[i].default_time);
    }
    /* doubles as their IEEE bits: a restored controller must compute exactly what one that
     * replayed the log computes */
    flurm_pack_time(out, st->usage_time);
    flurm_pack32(out, (uint32_t)st->nusage);
    for (size_t i = 0; i < st->nusage; i++) {
        uint64_t bits;
        memcpy(&bits, &st->usage[i].usage, sizeof bits);
        flurm_pack32(out, st->usage[i].uid);
        flurm_pack64(out, bits);
    }
    req_table_pack(&st->reqs, out);
    return out->err;
}

int flurm_state_restore(flurm_state_t *st, const void *data, size_t len)
{
    const flurm_conf_t *c = st->conf;
    flurm_buf_t b;
    uint8_t ver;
    uint32_t njobs;
    flurm_buf_view(&b, data, len);
    flurm_unpack8(&b, &ver);
    if (!b.err && (ver < 2 || ver > SNAP_VERSION))
        return FLURM_EPROTO;
    /* Build into a fresh state and swap, so a bad snapshot leaves ST untouched. */
    flurm_state_t *ns = flurm_state_new(c);
    if (!ns)
        return FLURM_ENOMEM;
    flurm_unpack32(&b, &ns->next_job_id);
    flurm_unpack32(&b, &ns->lowest_prio);
    flurm_unpack_time(&b, &ns->jobs_changed);
    flurm_unpack_time(&b, &ns->nodes_changed);
    flurm_unpack_time(&b, &ns->parts_changed);
    flurm_unpack32(&b, &ns->stats.jobs_submitted);
    flurm_unpack32(&b, &ns->stats.jobs_started);
    flurm_unpack32(&b, &ns->stats.jobs_completed);
    flurm_unpack32(&b, &ns->stats.jobs_canceled);
    flurm_unpack32(&b, &ns->stats.jobs_failed);
    flurm_unpack32(&b, &njobs);
    for (uint32_t i = 0; i < njobs && !b.err; i++) {
        flurm_job_t *j = calloc(1, sizeof *j);
        char *part = NULL;
        void *desc = NULL;
        uint32_t dlen = 0;
        if (!j) {
            b.err = FLURM_ENOMEM;
            break;
        }
        flurm_unpack32(&b, &j->job_id);
        flurm_unpack32(&b, &j->user_id);
        flurm_unpack32(&b, &j->group_id);
        flurm_unpack32(&b, &j->job_state);
        flurm_unpack16(&b, &j->state_reason);
        flurm_unpack32(&b, &j->priority);
        flurm_unpack_time(&b, &j->submit_time);
        flurm_unpack_time(&b, &j->eligible_time);
        flurm_unpack_time(&b, &j->start_time);
        flurm_unpack_time(&b, &j->end_time);
        flurm_unpack32(&b, &j->exit_code);
        flurm_unpackstr(&b, &part);
        flurm_unpack32(&b, &j->array_job_id);
        flurm_unpack32(&b, &j->array_task_id);
        flurm_unpack32(&b, &j->array_max_tasks);
        flurm_unpack_bitmap(&b, &j->array_pending, &j->array_nbits);
        flurm_unpackstr(&b, &j->alloc_node);
        flurm_unpack32_array(&b, &j->nodes, &j->nnodes);
        flurm_unpack32(&b, &j->cpus_per_node);
        flurm_unpack64(&b, &j->mem_per_node);
        flurm_unpack16(&b, &j->restart_cnt);
        flurm_unpack64(&b, &j->max_rss_kb);
        flurm_unpack32_array(&b, &j->ran_on, &j->nran_on);
        if (ver >= 3) {
            uint8_t rel = 0;
            flurm_unpack_time(&b, &j->preempt_time);
            flurm_unpack_time(&b, &j->suspend_time);
            flurm_unpack32(&b, &j->pre_sus_time);
            flurm_unpack32(&b, &j->tot_sus_time);
            flurm_unpack8(&b, &rel);
            j->sus_released = rel != 0;
        }
        for (uint32_t k = 0; !b.err && k < j->nran_on; k++)
            if (j->ran_on[k] >= c->node_count)
                b.err = FLURM_EPROTO;
        for (uint32_t k = 0; !b.err && k < j->nnodes; k++)
            if (j->nodes[k] >= c->node_count)
                b.err = FLURM_EPROTO;   /* the configuration lost a node this job runs on */
        flurm_unpackmem(&b, &desc, &dlen);
        if (!b.err && dlen &&
            flurm_msg_unpack(FLURM_REQUEST_SUBMIT_BATCH_JOB, desc, dlen, (void **)&j->desc))
            b.err = FLURM_EPROTO;
        j->part_index = part ? flurm_state_resolve_partition(c, part) : -1;
        free(part);
        free(desc);
        if (b.err || job_insert(ns, j)) {
            job_free(ns, j);
            if (!b.err)
                b.err = FLURM_ENOMEM;
            break;
        }
    }
    uint32_t nn = 0, np = 0;
    flurm_unpack32(&b, &nn);
    for (uint32_t i = 0; i < nn && !b.err; i++) {
        char *name = NULL, *reason = NULL;
        flurm_node_rt_t rt = {0};
        flurm_unpackstr(&b, &name);
        flurm_unpack32(&b, &rt.state);
        flurm_unpackstr(&b, &reason);
        flurm_unpack32(&b, &rt.reason_uid);
        flurm_unpack_time(&b, &rt.reason_time);
        flurm_unpack64(&b, &rt.boot_id);
        flurm_unpack_time(&b, &rt.boot_time);
        flurm_unpack_time(&b, &rt.slurmd_start_time);
        flurm_unpack_time(&b, &rt.last_busy);
        flurm_unpackstr(&b, &rt.version);
        flurm_unpackstr(&b, &rt.arch);
        flurm_unpackstr(&b, &rt.os);
        ssize_t idx = name ? flurm_conf_node_index(c, name) : -1;
        if (!b.err && idx >= 0) {
            flurm_node_rt_t *dst = &ns->nodes[idx];
            rt.reason = reason;
            reason = NULL;
            free(dst->reason);
            free(dst->version);
            free(dst->arch);
            free(dst->os);
            *dst = rt;
        } else {
            free(rt.version);
            free(rt.arch);
            free(rt.os);
        }
        free(name);
        free(reason);
    }
    flurm_unpack32(&b, &np);
    for (uint32_t i = 0; i < np && !b.err; i++) {
        char *name = NULL;
        flurm_part_rt_t rt;
        flurm_unpackstr(&b, &name);
        flurm_unpack16(&b, &rt.state_up);
        flurm_unpack32(&b, &rt.max_time);
        flurm_unpack32(&b, &rt.default_time);
        int32_t pi = name ? part_by_name(c, name) : -1;
        if (!b.err && pi >= 0)
            ns->parts[pi] = rt;
        free(name);
    }
    if (ver >= 3) {
        uint32_t nu = 0;
        flurm_unpack_time(&b, &ns->usage_time);
        flurm_unpack32(&b, &nu);
        if (!b.err && nu > flurm_buf_remaining(&b) / 12)
            b.err = FLURM_ETRUNC;
        if (!b.err && nu && !(ns->usage = calloc(nu, sizeof *ns->usage)))
            b.err = FLURM_ENOMEM;
        for (uint32_t i = 0; i < nu && !b.err; i++) {
            uint64_t bits = 0;
            flurm_unpack32(&b, &ns->usage[i].uid);
            flurm_unpack64(&b, &bits);
            memcpy(&ns->usage[i].usage, &bits, sizeof bits);
            ns->nusage = i + 1;
        }
        ns->usage_cap = ns->nusage;
        usage_sort(ns->usage, 0, ns->nusage);
    }
    if (ver >= 4 && !b.err)
        req_table_unpack(&ns->reqs, &b);
    if (b.err) {
        int err = b.err;
        flurm_state_free(ns);
        return err;
    }
    /* Node allocations are derived from the jobs holding them, never stored twice. */
    for (size_t i = 0; i < ns->conf->node_count; i++) {
        ns->nodes[i].alloc_cpus = 0;
        ns->nodes[i].alloc_mem = 0;
        ns->nodes[i].njobs = 0;
    }
    for (size_t i = 0; i < ns->njobs; i++)
        if (ns->jobs[i] && ns->jobs[i]->nodes && !ns->jobs[i]->sus_released)
            job_hold_nodes(ns, ns->jobs[i], ns->nodes_changed);
    /* Effective time limits depend on the partitions' runtime limits (scontrol update
     * MaxTime=...), which come after the jobs in the snapshot: derive them only now. */
    for (size_t i = 0; i < ns->njobs; i++)
        ns->jobs[i]->time_limit = effective_time_limit(ns, ns->jobs[i]);
    /* Swap contents; the scheduler host belongs to the caller, not to the contents. */
    uint64_t gen = st->jobs_gen;
    flurm_sched_host_t *host = st->sched_host;
    flurm_state_t tmp = *st;
    *st = *ns;
    *ns = tmp;
    st->jobs_gen = gen + 1;
    st->sched_host = host;
    st->deps_pending = true;   /* the next command's settle finds out */
    flurm_state_free(ns);
    return FLURM_OK;
}

int flurm_state_reconfigure(flurm_state_t *st, const flurm_conf_t *conf)
{
    flurm_buf_t snap;
    flurm_buf_init(&snap);
    int rc = flurm_state_snapshot(st, &snap);
    if (rc == FLURM_OK) {
        const flurm_conf_t *old = st->conf;
        flurm_state_t *ns = flurm_state_new(conf);
        if (!ns) {
            rc = FLURM_ENOMEM;
        } else if ((rc = flurm_state_restore(ns, snap.data, snap.size)) == FLURM_OK) {
            /* Partition limits come from the new file; runtime state (UP/DOWN) is kept. */
            for (size_t i = 0; i < conf->partition_count; i++) {
                ns->parts[i].max_time = conf->partitions[i].max_time;
                ns->parts[i].default_time = conf->partitions[i].default_time;
            }
            for (size_t i = 0; i < ns->njobs; i++)
                ns->jobs[i]->time_limit = effective_time_limit(ns, ns->jobs[i]);
            uint64_t gen = st->jobs_gen;
            flurm_sched_host_t *host = st->sched_host;
            flurm_state_t tmp = *st;
            *st = *ns;
            *ns = tmp;
            st->jobs_gen = gen + 1;
            st->sched_host = host;
            st->sched = ns->sched;   /* sdiag counts since the daemon started */
            mark_all(st);            /* the next pass derives every reason afresh */
            (void)old;
        }
        flurm_state_free(ns);
    }
    flurm_buf_release(&snap);
    return rc;
}
