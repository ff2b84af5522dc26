/* libflurm/sched/sched.c — one scheduling cycle: priorities, the main pass (job_scheduler.c
 * schedule(): priority order, a partition stops at its first job that does not fit) and the
 * backfill pass (sched/backfill backfill.c: reservations for blocked jobs at their earliest start
 * on per-node timelines, each holding its nodes whole for its span; a lower job starts only if it
 * fits now for its whole time limit without touching a reservation). Node positions: nodes
 * sorted by (weight, index); every bitset is over positions so iterating set bits visits nodes
 * in selection order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/sched_internal.h"

#define MEMO_SLOTS 16
#define BOUND_SLOTS 1024

typedef struct memo_rec {
    uint32_t nodes, cpus;
    uint64_t mem;
    int64_t len;
    int64_t t;       /* lower bound of the earliest start (lb records) */
    bool excl;
} memo_rec_t;

/* Facts that hold for every job at least as large (nodes, cpus, mem, length) as a record in
 * the same (partition, feature expression, exclusive) class, because a cycle only ever takes
 * resources away: fails now; has no start within the window; cannot start before t.
 * fail and nowin (16 records, the oldest replaced) are kept in both modes: a job they cover
 * is not placed now, or not searched, and is told what the try would have found (it still
 * counts against bf_max_job_test, as a job slurmctld tests). lb and win (SCHED_MODE_INDEXED
 * only) only save work: lb raises where the reservation search starts, win answers "no start
 * within the window" for a job the search would have looked at anyway. Both keep up to
 * BOUND_SLOTS records by t descending (when full, the least t goes), none of which makes
 * another useless (a record whose facts another one already implies is dropped), and hold as
 * well for a class whose candidate nodes are all the class's own (memo_within). */
typedef struct memo {
    memo_rec_t fail[MEMO_SLOTS], nowin[MEMO_SLOTS];
    memo_rec_t lb[BOUND_SLOTS], win[BOUND_SLOTS];
    uint32_t nfail, nnowin, nlb, nwin;
} memo_t;

typedef struct fexpr {
    const char *text;
    flurm_sched_expr_t *e;
    uint64_t *bits;
} fexpr_t;

typedef struct jprep {
    uint32_t idx;            /* input job */
    uint32_t feat;           /* 0 = none, else fexpr index + 1 */
    uint32_t want_min, want_max, cpn;
    uint64_t mem;            /* per node */
    int64_t len;             /* seconds, rounded up to the resolution; INT64_MAX = unlimited */
    bool excl, memoable, started;
    bool claimed;            /* preempted for: it starts on its claimed nodes in a later cycle */
} jprep_t;

typedef struct arr {
    uint32_t id, running;
} arr_t;

/* The node index: a tree of fan-out ENV_FAN over the nodes ("leaves") ordered by candidate
 * class (usable, partitions, features) then position. Each tree node keeps start keys: per
 * shape (r, k), the earliest start of that shape on any of its nodes, where shape (r, k) asks
 * per node for at least thr_c[r] free CPUs and thr_m[r] free memory (r < nthr; r = nthr: the
 * whole node free) for at least thr_len[k] seconds. A job at least as large as a shape starts
 * no earlier than its key on any node below, so a subtree whose key is later than the best
 * start found is skipped. Because a key comes from one node's timeline (not from the largest
 * free amounts of different nodes), the bound stays tight however fragmented the timelines
 * get. The shapes are picked from the pending jobs when the index is built; only leaves
 * decide. A key counts whole resolutions (starts are multiples of one); KEY_NONE: no start of
 * the shape before the horizon. */
#define ENV_FAN 8
#define ENV_MAXLEV 12
#define KEY_THR 8            /* CPU + memory thresholds at most: more rows tighten the bounds, but
                              * a take rewrites more of them (100k x 10k unlimited, 2 / 4 / 6 / 8 /
                              * 12 / 16 / 24 rows: 0.52 / 0.40 / 0.37 / 0.37 / 0.39 / 0.42 / 0.49 s) */
#define KEY_LEN 32           /* lengths per row: a row of keys is 64 bytes (16: as fast; 64: slower) */
#define KEY_LANES 8          /* keys per 16-byte vector */
#define KEY_VEC (KEY_LEN / KEY_LANES)
#define KEY_NONE 0xffff      /* no start of the shape before the horizon */
#define KEY_CAP 0xfffe       /* keys count resolutions: from this many on, a key says "not before" */
#define KEY_SAMPLE 8192      /* jobs the shapes are picked from at most */
#define QUEUE_AHEAD 8        /* queue entries whose job records the backfill pass fetches ahead */
#define PLACE_SCAN_MAX 64    /* failed nodes after which placing now turns to the index */
#define PLACE_BUILD_AFTER 16 /* failed nodes per node, over all scans, that pay for building it
                              * (about what building costs per node) */

typedef uint16_t skey_t;
typedef uint16_t kvec_t __attribute__((vector_size(KEY_LANES * sizeof(skey_t))));
_Static_assert(KEY_LEN * sizeof(skey_t) % 64 == 0, "a row of keys fills whole cache lines");
_Static_assert(KEY_THR + 1 <= 32, "a tree node's dirty rows are bits of a uint32_t");

typedef struct envlev {
    uint32_t n;
    skey_t *key;             /* (nthr + 1) rows of KEY_LEN keys per tree node: row r of node idx
                              * at (idx * (nthr + 1) + r) * KEY_LEN, a node's rows together (a
                              * take rewrites many rows of one leaf) */
    uint32_t *minpos;        /* n: the lowest position of its nodes */
    uint32_t *dirty;         /* n (inner levels): rows a child's rise may have raised, bit r */
    uint32_t *dlist, ndirty; /* the tree nodes with dirty rows, each once */
} envlev_t;

typedef struct hent {
    int64_t b;
    uint32_t lev, idx;
} hent_t;

typedef struct ival {
    int64_t t;
    int32_t d;               /* +1 a node becomes usable for the job, -1 it stops */
} ival_t;

typedef struct ctx {
    const flurm_sched_input_t *in;
    flurm_sched_output_t *out;
    uint32_t nn, words;
    uint32_t *pos2node, *node2pos;
    tl_t *tl;
    tl_res_t *cap;           /* per position: configured totals */
    uint64_t *usable, *free_now, *idle_now, *scratch, *excl_bits;
    uint64_t **part_bits;
    fexpr_t *fx;
    uint32_t nfx, fx_cap, fx_last;
    char **fnames;           /* distinct node feature names */
    uint64_t **fbits;
    uint32_t nfnames;
    memo_t **memo;           /* nparts * (nfx + 1), lazily */
    uint8_t *memo_sub;       /* (nparts * (nfx + 1))^2: 0 not known, 1 candidates of A within B's, 2 not */
    int64_t *times;          /* sorted distinct breakpoint times > 0 */
    uint32_t ntimes, times_cap;
    int64_t res, horizon;
    uint32_t *pick;
    uint32_t *stamp;
    int64_t *skip;
    uint32_t cur_stamp;
    arr_t *arrs;
    uint32_t narrs;
    double part_factor_max;
    uint32_t min_cpus;       /* the least any node has configured */
    uint64_t min_mem;
    /* preemption (see flurm_sched_preempt_t) */
    uint64_t *claimed;       /* positions a waiting preemptor gets next: no start here this cycle */
    bool any_claimed;        /* some bit of claimed is set (the index does not know them) */
    bool *gone;              /* per input job: preempted (or resumed) this cycle */
    tl_t *saved;             /* timelines before a preemption attempt */
    uint32_t *sus;           /* suspended jobs in resume order */
    uint32_t nsus, sus_next;
    sched_mode_t mode;
    /* node index (SCHED_MODE_INDEXED): built at its first use, dropped once the pass has no
     * reservation search left (or if it cannot be built: the plain scan decides the same) */
    enum { INDEX_NONE, INDEX_LIVE, INDEX_OFF } index_state;
    uint32_t *leaf2pos, *pos2leaf, *leaf_cls, *cls_lo;   /* cls_lo: ncls + 1 leaf starts */
    uint32_t ncls, nlev;
    envlev_t lev[ENV_MAXLEV];
    uint32_t *cls_pre;       /* per job: candidate classes, prefix counts (ncls + 1) */
    hent_t *heap;
    uint32_t nheap, heap_cap;
    ival_t *iv, *iv_tmp;     /* iv[0..niv_sorted) in sweep order, the rest pushed since */
    uint32_t niv, niv_sorted, iv_cap;
    uint32_t *cand;          /* pick candidates, per class */
    uint32_t nthr;           /* start key shapes: (nthr + 1) rows by KEY_LEN lengths */
    uint32_t thr_c[KEY_THR];
    uint64_t thr_m[KEY_THR];
    int64_t thr_len[KEY_LEN];
    int32_t jrow, jlen;      /* the searching job's start key shape (jrow -1: none) */
    uint64_t scan_failed;    /* nodes place_now has tried in vain (without the index), in all */
} ctx_t;

/* ------------------------------------------------------------------ reason names */

static const struct { flurm_sched_reason_t r; const char *s; } reason_names[] = {
    { FLURM_SCHED_WAIT_NO_REASON, "None" },
    { FLURM_SCHED_WAIT_PRIORITY, "Priority" },
    { FLURM_SCHED_WAIT_DEPENDENCY, "Dependency" },
    { FLURM_SCHED_WAIT_RESOURCES, "Resources" },
    { FLURM_SCHED_WAIT_PART_NODE_LIMIT, "PartitionNodeLimit" },
    { FLURM_SCHED_WAIT_PART_TIME_LIMIT, "PartitionTimeLimit" },
    { FLURM_SCHED_WAIT_PART_DOWN, "PartitionDown" },
    { FLURM_SCHED_WAIT_PART_INACTIVE, "PartitionInactive" },
    { FLURM_SCHED_WAIT_HELD, "JobHeldAdmin" },
    { FLURM_SCHED_WAIT_TIME, "BeginTime" },
    { FLURM_SCHED_WAIT_NODE_NOT_AVAIL, "ReqNodeNotAvail" },
    { FLURM_SCHED_WAIT_HELD_USER, "JobHeldUser" },
    { FLURM_SCHED_WAIT_DEP_INVALID, "DependencyNeverSatisfied" },
    { FLURM_SCHED_WAIT_ARRAY_TASK_LIMIT, "JobArrayTaskLimit" },
    { FLURM_SCHED_WAIT_PART_CONFIG, "PartitionConfig" },
};

const char *flurm_sched_reason_str(flurm_sched_reason_t r)
{
    for (size_t i = 0; i < sizeof reason_names / sizeof *reason_names; i++)
        if (reason_names[i].r == r)
            return reason_names[i].s;
    return "Unknown";
}

int flurm_sched_reason_parse(const char *name, flurm_sched_reason_t *out)
{
    for (size_t i = 0; i < sizeof reason_names / sizeof *reason_names; i++)
        if (!strcmp(reason_names[i].s, name)) {
            *out = reason_names[i].r;
            return FLURM_OK;
        }
    return FLURM_ENOENT;
}

/* ------------------------------------------------------------------ helpers */

static uint64_t usec_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void bset(uint64_t *b, uint32_t i) { b[i >> 6] |= 1ull << (i & 63); }
static inline void bclr(uint64_t *b, uint32_t i) { b[i >> 6] &= ~(1ull << (i & 63)); }
static inline bool btest(const uint64_t *b, uint32_t i) { return b[i >> 6] >> (i & 63) & 1; }

static int64_t round_up(int64_t v, int64_t res)
{
    if (v >= INT64_MAX - res)
        return INT64_MAX;
    return (v + res - 1) / res * res;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    return b >= INT64_MAX - a ? INT64_MAX : a + b;
}

static int times_insert(ctx_t *c, int64_t t)
{
    if (t <= 0 || t == INT64_MAX)
        return FLURM_OK;
    uint32_t lo = 0, hi = c->ntimes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->ntimes && c->times[lo] == t)
        return FLURM_OK;
    if (c->ntimes == c->times_cap) {
        uint32_t nc = c->times_cap ? 2 * c->times_cap : 64;
        int64_t *nt = realloc(c->times, nc * sizeof *nt);
        if (!nt)
            return FLURM_ENOMEM;
        c->times = nt;
        c->times_cap = nc;
    }
    memmove(&c->times[lo + 1], &c->times[lo], (c->ntimes - lo) * sizeof *c->times);
    c->times[lo] = t;
    c->ntimes++;
    return FLURM_OK;
}

/* Spreads the per-node request of job J over node N's entries given what is free (AVAIL) into
 * NEED->gres; false when it cannot be met. Typed requests take their entry, untyped ones take
 * from the entries of that name in their order. */
static bool gres_need(const flurm_sched_node_t *n, const flurm_sched_job_t *j, const tl_res_t *avail, tl_res_t *need)
{
    memset(need->gres, 0, sizeof need->gres);
    for (uint32_t k = 0; k < j->ngres; k++) {
        uint32_t left = j->gres[k].count;
        for (uint32_t g = 0; g < n->ngres && left; g++) {
            if (strcmp(n->gres[g].name, j->gres[k].name) ||
                (j->gres[k].type && (!n->gres[g].type || strcmp(n->gres[g].type, j->gres[k].type))))
                continue;
            uint32_t have = avail->gres[g] - need->gres[g];
            uint32_t take = have < left ? have : left;
            need->gres[g] += take;
            left -= take;
        }
        if (left)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ setup */

static int feature_bits(ctx_t *c, const flurm_sched_expr_t *e, uint64_t *dst)
{
    if (e->kind == EXPR_LEAF) {
        memset(dst, 0, c->words * sizeof *dst);
        for (uint32_t f = 0; f < c->nfnames; f++)
            if (!strcmp(c->fnames[f], e->name)) {
                memcpy(dst, c->fbits[f], c->words * sizeof *dst);
                break;
            }
        return FLURM_OK;
    }
    uint64_t *tmp = malloc(c->words * sizeof *tmp);
    if (!tmp)
        return FLURM_ENOMEM;
    int rc = feature_bits(c, e->l, dst);
    if (!rc)
        rc = feature_bits(c, e->r, tmp);
    for (uint32_t w = 0; !rc && w < c->words; w++)
        dst[w] = e->kind == EXPR_AND ? dst[w] & tmp[w] : dst[w] | tmp[w];
    free(tmp);
    return rc;
}

/* Interns job feature expression TEXT; *ID = index + 1. Linear over distinct expressions
 * with a one-entry cache: queues hold few distinct constraints. */
static int fexpr_intern(ctx_t *c, const char *text, uint32_t *id)
{
    uint32_t last = c->fx_last;
    if (last < c->nfx && !strcmp(c->fx[last].text, text)) {
        *id = last + 1;
        return FLURM_OK;
    }
    for (uint32_t i = 0; i < c->nfx; i++)
        if (!strcmp(c->fx[i].text, text)) {
            c->fx_last = i;
            *id = i + 1;
            return FLURM_OK;
        }
    if (c->nfx == c->fx_cap) {
        uint32_t nc = c->fx_cap ? 2 * c->fx_cap : 8;
        fexpr_t *nf = realloc(c->fx, nc * sizeof *nf);
        if (!nf)
            return FLURM_ENOMEM;
        c->fx = nf;
        c->fx_cap = nc;
    }
    fexpr_t *f = &c->fx[c->nfx];
    *f = (fexpr_t){ .text = text };
    int rc = flurm_sched_expr_parse(text, &f->e);
    if (rc)
        return rc;
    if (!(f->bits = malloc(c->words * sizeof *f->bits)) || feature_bits(c, f->e, f->bits)) {
        flurm_sched_expr_free(f->e);
        free(f->bits);
        return FLURM_ENOMEM;
    }
    c->fx_last = c->nfx;
    *id = ++c->nfx;
    return FLURM_OK;
}

static int cmp_pos(const void *a, const void *b, void *arg)
{
    const flurm_sched_input_t *sort_in = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint32_t wx = sort_in->nodes[x].weight, wy = sort_in->nodes[y].weight;
    if (wx != wy)
        return wx < wy ? -1 : 1;
    return x < y ? -1 : x > y;
}

static bool validate(const flurm_sched_input_t *in)
{
    for (uint32_t i = 0; i < in->nnodes; i++)
        if (in->nodes[i].ngres > FLURM_SCHED_GRES_MAX)
            return false;
    for (uint32_t p = 0; p < in->nparts; p++)
        for (uint32_t k = 0; k < in->parts[p].nnodes; k++)
            if (in->parts[p].nodes[k] >= in->nnodes)
                return false;
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *j = &in->jobs[i];
        if (j->partition >= in->nparts)
            return false;
        for (uint32_t k = 0; k < j->nreq_nodes; k++)
            if (j->req_nodes[k] >= in->nnodes)
                return false;
        for (uint32_t k = 0; k < j->nexc_nodes; k++)
            if (j->exc_nodes[k] >= in->nnodes)
                return false;
        for (uint32_t k = 0; j->state != FLURM_SCHED_JOB_PENDING && k < j->nalloc_nodes; k++)
            if (j->alloc_nodes[k] >= in->nnodes)
                return false;
    }
    return true;
}

/* Frees the node index: the next index_ready builds it again from the timelines. */
static void index_drop(ctx_t *c)
{
    free(c->leaf2pos);
    free(c->pos2leaf);
    free(c->leaf_cls);
    free(c->cls_lo);
    for (uint32_t l = 0; l < c->nlev; l++) {
        free(c->lev[l].key);
        free(c->lev[l].minpos);
        free(c->lev[l].dirty);
        free(c->lev[l].dlist);
    }
    free(c->cls_pre);
    free(c->heap);
    free(c->cand);
    c->leaf2pos = c->pos2leaf = c->leaf_cls = c->cls_lo = c->cls_pre = c->cand = NULL;
    c->heap = NULL;
    c->nheap = c->heap_cap = 0;
    c->nlev = c->ncls = 0;
    if (c->index_state == INDEX_LIVE)
        c->index_state = INDEX_NONE;
}

static void ctx_free(ctx_t *c)
{
    for (uint32_t i = 0; c->tl && i < c->nn; i++)
        tl_destroy(&c->tl[i]);
    free(c->tl);
    free(c->cap);
    free(c->pos2node);
    free(c->node2pos);
    free(c->usable);
    free(c->free_now);
    free(c->idle_now);
    free(c->scratch);
    free(c->excl_bits);
    for (uint32_t p = 0; c->part_bits && p < c->in->nparts; p++)
        free(c->part_bits[p]);
    free(c->part_bits);
    for (uint32_t i = 0; i < c->nfx; i++) {
        flurm_sched_expr_free(c->fx[i].e);
        free(c->fx[i].bits);
    }
    free(c->fx);
    for (uint32_t f = 0; f < c->nfnames; f++) {
        free(c->fnames[f]);
        free(c->fbits[f]);
    }
    free(c->fnames);
    free(c->fbits);
    if (c->memo)
        for (size_t m = 0; m < (size_t)c->in->nparts * (c->nfx + 1); m++)
            free(c->memo[m]);
    free(c->memo);
    free(c->memo_sub);
    free(c->times);
    free(c->pick);
    free(c->stamp);
    free(c->skip);
    free(c->arrs);
    free(c->claimed);
    free(c->gone);
    for (uint32_t i = 0; c->saved && i < c->nn; i++)
        tl_destroy(&c->saved[i]);
    free(c->saved);
    free(c->sus);
    index_drop(c);
    free(c->iv);
    free(c->iv_tmp);
}

static void node_idle_bits(ctx_t *c, uint32_t pos)
{
    const tl_res_t *f = &c->tl[pos].free[0], *cap = &c->cap[pos];
    if (f->cpus)
        bset(c->free_now, pos);
    else
        bclr(c->free_now, pos);
    bool idle = f->cpus == cap->cpus && f->mem == cap->mem &&
                !memcmp(f->gres, cap->gres, sizeof f->gres);
    if (idle)
        bset(c->idle_now, pos);
    else
        bclr(c->idle_now, pos);
}

static int ctx_setup(ctx_t *c)
{
    const flurm_sched_input_t *in = c->in;
    uint32_t nn = c->nn = in->nnodes;
    c->words = (nn + 63) / 64 + 1;
    size_t bs = c->words * sizeof(uint64_t);
    c->res = in->params.bf_resolution ? in->params.bf_resolution : 60;
    c->horizon = (int64_t)(in->params.bf_window ? in->params.bf_window : 1440) * 60;
    c->pos2node = malloc((nn + 1) * sizeof *c->pos2node);
    c->node2pos = malloc((nn + 1) * sizeof *c->node2pos);
    c->tl = calloc(nn + 1, sizeof *c->tl);
    c->cap = calloc(nn + 1, sizeof *c->cap);
    c->usable = calloc(1, bs);
    c->free_now = calloc(1, bs);
    c->idle_now = calloc(1, bs);
    c->scratch = calloc(1, bs);
    c->excl_bits = calloc(1, bs);
    c->part_bits = calloc(in->nparts + 1, sizeof *c->part_bits);
    c->pick = malloc((nn + 1) * sizeof *c->pick);
    c->stamp = calloc(nn + 1, sizeof *c->stamp);
    c->skip = calloc(nn + 1, sizeof *c->skip);
    c->claimed = calloc(1, bs);
    c->gone = calloc(in->njobs + 1, sizeof *c->gone);
    if (!c->pos2node || !c->node2pos || !c->tl || !c->cap || !c->usable || !c->free_now ||
        !c->idle_now || !c->scratch || !c->excl_bits || !c->part_bits || !c->pick || !c->stamp || !c->skip ||
        !c->claimed || !c->gone)
        return FLURM_ENOMEM;
    for (uint32_t i = 0; i < nn; i++)
        c->pos2node[i] = i;
    qsort_r(c->pos2node, nn, sizeof *c->pos2node, cmp_pos, (void *)in);
    for (uint32_t p = 0; p < nn; p++)
        c->node2pos[c->pos2node[p]] = p;
    /* node features, interned */
    for (uint32_t p = 0; p < nn; p++) {
        const flurm_sched_node_t *n = &in->nodes[c->pos2node[p]];
        for (uint32_t k = 0; k < n->nfeatures; k++) {
            uint32_t f = 0;
            while (f < c->nfnames && strcmp(c->fnames[f], n->features[k]))
                f++;
            if (f == c->nfnames) {
                char **nn2 = realloc(c->fnames, (f + 1) * sizeof *nn2);
                if (!nn2)
                    return FLURM_ENOMEM;
                c->fnames = nn2;
                uint64_t **nb = realloc(c->fbits, (f + 1) * sizeof *nb);
                if (!nb)
                    return FLURM_ENOMEM;
                c->fbits = nb;
                c->fnames[f] = strdup(n->features[k]);
                c->fbits[f] = calloc(1, bs);
                c->nfnames++;
                if (!c->fnames[f] || !c->fbits[f])
                    return FLURM_ENOMEM;
            }
            bset(c->fbits[f], p);
        }
    }
    for (uint32_t q = 0; q < in->nparts; q++) {
        if (!(c->part_bits[q] = calloc(1, bs)))
            return FLURM_ENOMEM;
        for (uint32_t k = 0; k < in->parts[q].nnodes; k++)
            bset(c->part_bits[q], c->node2pos[in->parts[q].nodes[k]]);
        if (in->parts[q].priority_job_factor > c->part_factor_max)
            c->part_factor_max = in->parts[q].priority_job_factor;
    }
    /* timelines: free now, plus what each running job gives back at its end */
    for (uint32_t p = 0; p < nn; p++) {
        const flurm_sched_node_t *n = &in->nodes[c->pos2node[p]];
        tl_res_t cap = { .cpus = n->cpus, .mem = n->real_memory }, now = { 0 };
        for (uint32_t g = 0; g < n->ngres; g++)
            cap.gres[g] = n->gres[g].count;
        c->cap[p] = cap;
        if (!p || cap.cpus < c->min_cpus)
            c->min_cpus = cap.cpus;
        if (!p || cap.mem < c->min_mem)
            c->min_mem = cap.mem;
        if (n->usable) {
            bset(c->usable, p);
            now.cpus = n->cpus > n->alloc_cpus ? n->cpus - n->alloc_cpus : 0;
            now.mem = n->real_memory > n->alloc_mem ? n->real_memory - n->alloc_mem : 0;
            for (uint32_t g = 0; g < n->ngres; g++)
                now.gres[g] = n->gres[g].count > n->gres[g].alloc ? n->gres[g].count - n->gres[g].alloc : 0;
        }
        if (tl_init(&c->tl[p], &now))
            return FLURM_ENOMEM;
    }
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *j = &in->jobs[i];
        if (j->state != FLURM_SCHED_JOB_RUNNING)
            continue;
        int64_t end = round_up(j->end_time > in->params.now ? j->end_time - in->params.now : c->res, c->res);
        if (j->preempting)
            end = c->res;   /* killed by a preemption: its resources come back shortly */
        if (times_insert(c, end))
            return FLURM_ENOMEM;
        for (uint32_t k = 0; k < j->nalloc_nodes; k++) {
            uint32_t p = c->node2pos[j->alloc_nodes[k]];
            const flurm_sched_node_t *n = &in->nodes[j->alloc_nodes[k]];
            if (!n->usable)
                continue;
            tl_res_t r = { .cpus = j->alloc_cpus_per_node, .mem = j->alloc_mem_per_node };
            tl_res_t held;
            for (uint32_t g = 0; g < n->ngres; g++)
                held.gres[g] = n->gres[g].alloc;
            held.cpus = 0;
            held.mem = 0;
            gres_need(n, j, &held, &r);   /* what it holds, out of what is allocated */
            /* never give back more than the node's capacity */
            const tl_res_t *last = &c->tl[p].free[c->tl[p].n - 1];
            if (last->cpus + r.cpus > c->cap[p].cpus)
                r.cpus = c->cap[p].cpus - last->cpus;
            if (last->mem + r.mem > c->cap[p].mem)
                r.mem = c->cap[p].mem - last->mem;
            for (uint32_t g = 0; g < n->ngres; g++)
                if (last->gres[g] + r.gres[g] > c->cap[p].gres[g])
                    r.gres[g] = c->cap[p].gres[g] - last->gres[g];
            if (tl_release(&c->tl[p], end, &r, n->ngres))
                return FLURM_ENOMEM;
        }
    }
    for (uint32_t p = 0; p < nn; p++)
        node_idle_bits(c, p);
    return FLURM_OK;
}

/* ------------------------------------------------------------------ priorities */

typedef struct fs_ent {
    uint32_t uid, order;     /* order: position in params.usage (the first entry of a uid wins) */
    double factor;           /* 2^(-usage/shares) */
} fs_ent_t;

static int cmp_fs(const void *a, const void *b)
{
    const fs_ent_t *x = a, *y = b;
    if (x->uid != y->uid)
        return x->uid < y->uid ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_fs_uid(const void *key, const void *e)
{
    uint32_t k = *(const uint32_t *)key, u = ((const fs_ent_t *)e)->uid;
    return k < u ? -1 : k > u;
}

/* The user's fair-share factor: from its first usage entry, 1.0 without one. FS holds the
 * entries sorted by (uid, order). */
static double fs_factor(const fs_ent_t *fs, uint32_t n, uint32_t uid)
{
    const fs_ent_t *e = n ? bsearch(&uid, fs, n, sizeof *fs, cmp_fs_uid) : NULL;
    if (!e)
        return 1.0;
    while (e > fs && e[-1].uid == uid)
        e--;
    return e->factor;
}

/* FLURM_ENOMEM only. */
static int priorities(ctx_t *c)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_params_t *pa = &in->params;
    /* the usage list once, sorted, with its factors: a pass costs O(jobs log users) */
    fs_ent_t *fs = NULL;
    if (pa->priority_type == FLURM_SCHED_PRIORITY_MULTIFACTOR && pa->nusage) {
        if (!(fs = malloc(pa->nusage * sizeof *fs)))
            return FLURM_ENOMEM;
        for (uint32_t u = 0; u < pa->nusage; u++)
            fs[u] = (fs_ent_t){ .uid = pa->usage[u].uid, .order = u,
                                .factor = pa->usage[u].shares > 0 ? pow(2.0, -pa->usage[u].usage / pa->usage[u].shares) : 0 };
        qsort(fs, pa->nusage, sizeof *fs, cmp_fs);
    }
    double cluster_cpus = 0;
    for (uint32_t i = 0; i < in->nnodes; i++)
        cluster_cpus += in->nodes[i].cpus;
    double max_age = pa->priority_max_age ? pa->priority_max_age : 7 * 86400;
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *j = &in->jobs[i];
        flurm_sched_job_result_t *r = &c->out->jobs[i];
        r->job_id = j->job_id;
        r->priority = j->priority;
        if (pa->priority_type != FLURM_SCHED_PRIORITY_MULTIFACTOR || j->state != FLURM_SCHED_JOB_PENDING)
            continue;
        /* priority_multifactor.c _get_priority_internal(): age from the eligible (accrue) time */
        int64_t use = j->begin_time > j->submit_time ? j->begin_time : j->submit_time;
        double diff = pa->now > use ? (double)(pa->now - use) : 0;
        r->f_age = diff < max_age ? diff / max_age : 1.0;
        double min_nodes = j->min_nodes ? j->min_nodes : 1;
        double cpt = j->cpus_per_task ? j->cpus_per_task : 1;
        double cpus = j->ntasks_per_node ? j->ntasks_per_node * min_nodes * cpt
                                         : (j->ntasks ? j->ntasks : min_nodes) * cpt;
        double nodes = in->nnodes ? in->nnodes : 1;
        cluster_cpus = cluster_cpus ? cluster_cpus : 1;
        double js = pa->priority_favor_small
                        ? ((nodes - min_nodes) / nodes + (cluster_cpus - cpus) / cluster_cpus) / 2
                        : (min_nodes / nodes + cpus / cluster_cpus) / 2;
        r->f_jobsize = js < 0 ? 0 : js > 1 ? 1 : js;
        r->f_partition = c->part_factor_max > 0
                             ? in->parts[j->partition].priority_job_factor / c->part_factor_max : 0;
        r->f_qos = 0;
        r->f_fairshare = fs_factor(fs, fs ? pa->nusage : 0, j->uid);
        if (!j->priority)
            continue;   /* held: stays 0 */
        double prio = r->f_age * pa->weight_age + r->f_jobsize * pa->weight_jobsize +
                      r->f_partition * pa->weight_partition + r->f_qos * pa->weight_qos +
                      r->f_fairshare * pa->weight_fairshare;
        prio -= j->nice;
        if (prio < 1)
            prio = 1;
        if (prio > 4294967294.0)
            prio = 4294967294.0;
        r->priority = (uint32_t)prio;
    }
    free(fs);
    return FLURM_OK;
}

/* ------------------------------------------------------------------ placement */

/* Free-resource need of job JP on node at position P for [T0, T1) given its timeline;
 * false when the node cannot hold it then (*NEXT = the earliest start worth trying). */
static bool node_fits(ctx_t *c, const jprep_t *jp, uint32_t p, int64_t t0, int64_t t1, tl_res_t *need, int64_t *next)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    const flurm_sched_node_t *n = &c->in->nodes[c->pos2node[p]];
    uint32_t ng = n->ngres;
    if (jp->excl) {
        *need = c->cap[p];
    } else {
        need->cpus = jp->cpn;
        need->mem = jp->mem;
        memset(need->gres, 0, sizeof need->gres);
        if (j->ngres) {
            tl_res_t avail;
            tl_min(&c->tl[p], t0, t1, ng, &avail);
            if (!gres_need(n, j, &avail, need)) {
                /* a gres shortage somewhere in the interval: retry after the next breakpoint */
                uint32_t i = tl_find(&c->tl[p], t0);
                *next = i + 1 < c->tl[p].n ? c->tl[p].t[i + 1] : INT64_MAX;
                return false;
            }
        }
    }
    return tl_fits(&c->tl[p], t0, t1, need, ng, next);
}

/* Static feasibility: the node could ever hold the job (capacity, features, lists). */
static bool node_capable(ctx_t *c, const jprep_t *jp, uint32_t p)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    const flurm_sched_node_t *n = &c->in->nodes[c->pos2node[p]];
    if (n->cpus < jp->cpn || n->real_memory < jp->mem)
        return false;
    if (!j->ngres)
        return true;
    tl_res_t need;
    return gres_need(n, j, &c->cap[p], &need);
}

/* Candidate positions for JP into c->scratch: partition & usable & features & not excluded. */
static void base_set(ctx_t *c, const jprep_t *jp)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    const uint64_t *pb = c->part_bits[j->partition];
    const uint64_t *fb = jp->feat ? c->fx[jp->feat - 1].bits : NULL;
    for (uint32_t w = 0; w < c->words; w++)
        c->scratch[w] = pb[w] & c->usable[w] & (fb ? fb[w] : ~0ull);
    for (uint32_t k = 0; k < j->nexc_nodes; k++)
        bclr(c->scratch, c->node2pos[j->exc_nodes[k]]);
    if (jp->excl && (jp->cpn > c->min_cpus || jp->mem > c->min_mem))
        /* a whole node, but one large enough: placement then only asks that it be idle */
        for (uint32_t p = 0; p < c->nn; p++)
            if (btest(c->scratch, p) && (c->cap[p].cpus < jp->cpn || c->cap[p].mem < jp->mem))
                bclr(c->scratch, p);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ node index */

static int cmp_leaf(const void *a, const void *b, void *arg)
{
    const ctx_t *c = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    bool ux = btest(c->usable, x), uy = btest(c->usable, y);
    if (ux != uy)
        return ux ? -1 : 1;
    for (uint32_t q = 0; q < c->in->nparts; q++) {
        bool px = btest(c->part_bits[q], x), py = btest(c->part_bits[q], y);
        if (px != py)
            return px ? -1 : 1;
    }
    for (uint32_t f = 0; f < c->nfnames; f++) {
        bool fx = btest(c->fbits[f], x), fy = btest(c->fbits[f], y);
        if (fx != fy)
            return fx ? -1 : 1;
    }
    return x < y ? -1 : x > y;
}

static bool same_class(const ctx_t *c, uint32_t x, uint32_t y)
{
    if (btest(c->usable, x) != btest(c->usable, y))
        return false;
    for (uint32_t q = 0; q < c->in->nparts; q++)
        if (btest(c->part_bits[q], x) != btest(c->part_bits[q], y))
            return false;
    for (uint32_t f = 0; f < c->nfnames; f++)
        if (btest(c->fbits[f], x) != btest(c->fbits[f], y))
            return false;
    return true;
}

/* Leaves [*A, *B) under tree node IDX of level L (level 0: the leaves themselves). */
static void env_range(const ctx_t *c, uint32_t l, uint32_t idx, uint32_t *a, uint32_t *b)
{
    uint64_t span = 1;
    for (uint32_t k = 0; k < l; k++)
        span *= ENV_FAN;
    uint64_t lo = idx * span, hi = lo + span;
    *a = (uint32_t)lo;
    *b = hi < c->nn ? (uint32_t)hi : c->nn;
}

/* The children of tree node IDX of level L > 0: indexes [*CH0, *CH1) of level L - 1. */
static inline void env_children(const ctx_t *c, uint32_t l, uint32_t idx, uint32_t *ch0, uint32_t *ch1)
{
    *ch0 = idx * ENV_FAN;
    *ch1 = *ch0 + ENV_FAN < c->lev[l - 1].n ? *ch0 + ENV_FAN : c->lev[l - 1].n;
}

static inline skey_t *key_row(const ctx_t *c, uint32_t l, uint32_t idx, uint32_t r)
{
    return &c->lev[l].key[((size_t)idx * (c->nthr + 1) + r) * KEY_LEN];
}

static inline kvec_t kvec_min(kvec_t a, kvec_t b)
{
    kvec_t lt = (kvec_t)(a < b);
    return (a & lt) | (b & ~lt);
}

static inline bool kvec_any(kvec_t v)
{
    bool any = false;
    for (uint32_t x = 0; x < KEY_LANES; x++)
        any |= v[x] != 0;
    return any;
}

/* Row R of inner tree node (L, IDX) as the minimum of its children's; whether it changed. */
static bool key_inner(ctx_t *c, uint32_t l, uint32_t idx, uint32_t r)
{
    uint32_t a, b;
    env_children(c, l, idx, &a, &b);
    const kvec_t *src = (const kvec_t *)key_row(c, l - 1, a, r);
    kvec_t m[KEY_VEC], diff = { 0 };
    for (uint32_t v = 0; v < KEY_VEC; v++)
        m[v] = src[v];
    for (uint32_t ch = a + 1; ch < b; ch++) {
        src = (const kvec_t *)key_row(c, l - 1, ch, r);
        for (uint32_t v = 0; v < KEY_VEC; v++)
            m[v] = kvec_min(m[v], src[v]);
    }
    kvec_t *dst = (kvec_t *)key_row(c, l, idx, r);
    for (uint32_t v = 0; v < KEY_VEC; v++)
        diff |= m[v] ^ dst[v];
    if (!kvec_any(diff))
        return false;
    for (uint32_t v = 0; v < KEY_VEC; v++)
        dst[v] = m[v];
    return true;
}

/* Row R of tree node (L, IDX) changed from OLD: its parent's row R is marked dirty if the node
 * held the parent's minimum at some length where it rose (elsewhere the parent's minimum
 * cannot move). key_flush recomputes the marked rows. */
static void key_mark(ctx_t *c, uint32_t l, uint32_t idx, uint32_t r, const kvec_t *old)
{
    if (l + 1 >= c->nlev)
        return;
    const kvec_t *now = (const kvec_t *)key_row(c, l, idx, r);
    const kvec_t *par = (const kvec_t *)key_row(c, l + 1, idx / ENV_FAN, r);
    kvec_t hit = { 0 };
    for (uint32_t v = 0; v < KEY_VEC; v++)
        hit |= (kvec_t)(now[v] != old[v]) & (kvec_t)(old[v] == par[v]);
    if (!kvec_any(hit))
        return;
    envlev_t *up = &c->lev[l + 1];
    uint32_t pi = idx / ENV_FAN;
    if (!up->dirty[pi])
        up->dlist[up->ndirty++] = pi;
    up->dirty[pi] |= 1u << r;
}

/* Recomputes the dirty rows level by level from the bottom, marking the next level's in turn:
 * a take that changed many leaves under one parent recomputes that parent once. */
static void key_flush(ctx_t *c)
{
    for (uint32_t l = 1; l < c->nlev; l++) {
        envlev_t *lv = &c->lev[l];
        for (uint32_t k = 0; k < lv->ndirty; k++) {
            uint32_t idx = lv->dlist[k], rows = lv->dirty[idx];
            lv->dirty[idx] = 0;
            for (; rows; rows &= rows - 1) {
                uint32_t r = (uint32_t)__builtin_ctz(rows);
                kvec_t old[KEY_VEC];
                memcpy(old, key_row(c, l, idx, r), sizeof old);
                if (key_inner(c, l, idx, r))
                    key_mark(c, l, idx, r, old);
            }
        }
        lv->ndirty = 0;
    }
}

/* Row R of leaf LEAF set to KEYS[KEY_LEN]; with MARK, its parent is marked if it rose. */
static void key_store(ctx_t *c, uint32_t leaf, uint32_t r, const skey_t *keys, bool mark)
{
    kvec_t *row = (kvec_t *)key_row(c, 0, leaf, r), old[KEY_VEC], diff = { 0 };
    for (uint32_t v = 0; v < KEY_VEC; v++) {
        kvec_t nv;
        memcpy(&nv, &keys[v * KEY_LANES], sizeof nv);
        old[v] = row[v];
        diff |= old[v] ^ nv;
        row[v] = nv;
    }
    if (mark && kvec_any(diff))
        key_mark(c, 0, leaf, r, old);
}

/* Rows [R0, R1) of the threshold rows of leaf LEAF, and the whole-node row with IDLE_TOO,
 * recomputed from its node's timeline in one walk; with CARRY, a row that rose is marked for
 * key_flush to carry up. A key counts whole resolutions of the start (rounded down: a key
 * bounds from below); none before the horizon is KEY_NONE, none before KEY_CAP resolutions
 * (when the horizon is further) KEY_CAP, "not before". */
static void key_leaf(ctx_t *c, uint32_t leaf, uint32_t r0, uint32_t r1, bool idle_too, bool carry)
{
    uint32_t p = c->leaf2pos[leaf];
    int64_t cap = (int64_t)KEY_CAP * c->res, lim = c->horizon < cap ? c->horizon : cap;
    skey_t keys[(KEY_THR + 1) * KEY_LEN];
    if (r1 <= r0 && !idle_too)
        return;
    r1 = r1 > r0 ? r1 : r0;
    tl_run_keys_nested(&c->tl[p], &c->thr_c[r0], &c->thr_m[r0], r1 - r0, idle_too ? &c->cap[p] : NULL,
                       c->in->nodes[c->pos2node[p]].ngres, lim, c->res, lim == c->horizon ? KEY_NONE : KEY_CAP,
                       c->thr_len, KEY_LEN, keys);
    for (uint32_t r = r0; r < r1; r++)
        key_store(c, leaf, r, &keys[(r - r0) * KEY_LEN], carry);
    if (idle_too)
        key_store(c, leaf, c->nthr, &keys[(r1 - r0) * KEY_LEN], carry);
}

static int cmp_thr(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] < y[1] ? -1 : x[1] > y[1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Picks the start key shapes from the jobs Q[0..NQ) still to be looked at (every one, or an
 * evenly strided sample of KEY_SAMPLE of them): the CPU counts of the shared ones (every
 * distinct count when there are at most KEY_THR, else counts at evenly spaced ranks), each
 * with the least memory of those asking for at least as many CPUs (so each such job is at
 * least as large as the largest threshold it reaches, and the thresholds are nested), and
 * KEY_LEN lengths of all at evenly spaced ranks. Any nested shapes give correct bounds (a job
 * takes the largest shape it holds); these make them tight for most jobs. */
static int key_choose(ctx_t *c, const jprep_t *q, uint32_t nq)
{
    uint32_t step = (nq + KEY_SAMPLE - 1) / KEY_SAMPLE, ns = step ? (nq + step - 1) / step : 0;
    uint64_t (*v)[2] = malloc((ns + 1) * sizeof *v);
    int64_t *len = malloc((ns + 1) * sizeof *len);
    if (!v || !len) {
        free(v);
        free(len);
        return FLURM_ENOMEM;
    }
    uint32_t n = 0, nl = 0;
    for (uint32_t k = 0; k < nq; k += step) {
        if (q[k].started)
            continue;
        len[nl++] = q[k].len;
        if (!q[k].excl) {
            v[n][0] = q[k].cpn;
            v[n][1] = q[k].mem;
            n++;
        }
    }
    qsort(v, n, sizeof *v, cmp_thr);
    uint32_t distinct = 0;
    for (uint32_t k = n; k-- > 0;) {
        if (k + 1 < n && v[k + 1][1] < v[k][1])
            v[k][1] = v[k + 1][1];   /* suffix minimum of memory */
        distinct += !k || v[k - 1][0] != v[k][0];
    }
    c->nthr = 0;
    for (uint32_t i = 0; i < (distinct <= KEY_THR ? n : KEY_THR); i++) {
        if (distinct <= KEY_THR && i && v[i - 1][0] == v[i][0])
            continue;
        uint32_t k = distinct <= KEY_THR ? i : (uint32_t)((uint64_t)i * n / KEY_THR);
        while (k && v[k - 1][0] == v[k][0])
            k--;   /* the first job of that CPU count: its memory is the least */
        if (c->nthr && c->thr_c[c->nthr - 1] == v[k][0])
            continue;
        c->thr_c[c->nthr] = (uint32_t)v[k][0];
        c->thr_m[c->nthr] = v[k][1];
        c->nthr++;
    }
    qsort(len, nl, sizeof *len, cmp_i64);
    uint32_t k = 0;
    for (uint32_t i = 0; i < KEY_LEN && nl; i++) {
        int64_t x = len[(uint64_t)i * nl / KEY_LEN];
        if (!k || c->thr_len[k - 1] != x)
            c->thr_len[k++] = x;
    }
    if (!k)
        c->thr_len[k++] = 1;
    for (; k < KEY_LEN; k++)
        c->thr_len[k] = c->thr_len[k - 1];   /* a repeated length repeats its keys */
    free(v);
    free(len);
    return FLURM_OK;
}

/* The start key shape of JP into c->jrow, c->jlen (jrow -1: none fits it). */
static void key_job(ctx_t *c, const jprep_t *jp)
{
    int32_t r = -1, k = -1;
    if (jp->excl)
        r = (int32_t)c->nthr;
    else
        for (uint32_t x = c->nthr; x-- > 0 && r < 0;)
            if (c->thr_c[x] <= jp->cpn && c->thr_m[x] <= jp->mem)
                r = (int32_t)x;
    for (uint32_t x = KEY_LEN; x-- > 0 && k < 0;)
        if (c->thr_len[x] <= jp->len)
            k = (int32_t)x;
    c->jrow = k < 0 ? -1 : r;
    c->jlen = k;
}

static int index_build(ctx_t *c)
{
    uint32_t nn = c->nn;
    c->leaf2pos = malloc((nn + 1) * sizeof *c->leaf2pos);
    c->pos2leaf = malloc((nn + 1) * sizeof *c->pos2leaf);
    c->leaf_cls = malloc((nn + 1) * sizeof *c->leaf_cls);
    c->cls_lo = malloc((nn + 2) * sizeof *c->cls_lo);
    c->cls_pre = malloc((nn + 2) * sizeof *c->cls_pre);
    c->cand = malloc((nn + 1) * sizeof *c->cand);
    if (!c->leaf2pos || !c->pos2leaf || !c->leaf_cls || !c->cls_lo || !c->cls_pre || !c->cand)
        return FLURM_ENOMEM;
    for (uint32_t p = 0; p < nn; p++)
        c->leaf2pos[p] = p;
    qsort_r(c->leaf2pos, nn, sizeof *c->leaf2pos, cmp_leaf, c);
    for (uint32_t leaf = 0; leaf < nn; leaf++) {
        uint32_t p = c->leaf2pos[leaf];
        c->pos2leaf[p] = leaf;
        if (!leaf || !same_class(c, c->leaf2pos[leaf - 1], p))
            c->cls_lo[c->ncls++] = leaf;
        c->leaf_cls[leaf] = c->ncls - 1;
    }
    c->cls_lo[c->ncls] = nn;
    if (!nn)
        return FLURM_OK;
    uint32_t n = nn, nrows = c->nthr + 1;
    for (;;) {
        envlev_t *lv = &c->lev[c->nlev++];
        lv->n = n;
        /* rows of 64 bytes, each in one cache line */
        lv->key = aligned_alloc(64, (size_t)nrows * n * KEY_LEN * sizeof *lv->key);
        lv->minpos = malloc(n * sizeof *lv->minpos);
        lv->dirty = calloc(n, sizeof *lv->dirty);
        lv->dlist = malloc(n * sizeof *lv->dlist);
        lv->ndirty = 0;
        if (!lv->key || !lv->minpos || !lv->dirty || !lv->dlist)
            return FLURM_ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            if (c->nlev == 1) {
                lv->minpos[i] = c->leaf2pos[i];
                continue;
            }
            const envlev_t *below = &c->lev[c->nlev - 2];
            lv->minpos[i] = UINT32_MAX;
            for (uint32_t k = i * ENV_FAN; k < below->n && k < (i + 1) * ENV_FAN; k++)
                if (below->minpos[k] < lv->minpos[i])
                    lv->minpos[i] = below->minpos[k];
        }
        if (c->nlev == 1)
            memset(lv->key, 0, (size_t)nrows * n * KEY_LEN * sizeof *lv->key);
        for (uint32_t i = 0; i < n; i++) {
            if (c->nlev == 1)
                key_leaf(c, i, 0, c->nthr, true, false);
            else
                for (uint32_t r = 0; r < nrows; r++)
                    key_inner(c, c->nlev - 1, i, r);
        }
        if (n == 1 || c->nlev == ENV_MAXLEV)
            break;
        n = (n + ENV_FAN - 1) / ENV_FAN;
    }
    c->heap_cap = 64;
    if (!(c->heap = malloc(c->heap_cap * sizeof *c->heap)))
        return FLURM_ENOMEM;
    return FLURM_OK;
}

/* How many threshold rows free resources F hold (a prefix: the thresholds are nested). */
static uint32_t rows_held(const ctx_t *c, const tl_res_t *f)
{
    uint32_t lo = 0, hi = c->nthr;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->thr_c[mid] <= f->cpus && c->thr_m[mid] <= f->mem)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool index_live(const ctx_t *c)
{
    return c->index_state == INDEX_LIVE && c->nlev;
}

/* Takes NEED from the timeline of the node at position P over [T0, T1) (tl_take: a start's
 * share) with its keys: the rows it may have broken somewhere there (held before, not after)
 * are recomputed and carried up. */
static int index_take(ctx_t *c, uint32_t p, int64_t t0, int64_t t1, const tl_res_t *need)
{
    tl_t *tl = &c->tl[p];
    uint32_t ng = c->in->nodes[c->pos2node[p]].ngres, r0 = c->nthr, r1 = 0;
    if (tl_take(tl, t0, t1, need, ng))
        return FLURM_ENOMEM;
    if (!index_live(c))
        return FLURM_OK;
    bool idle = false;
    for (uint32_t i = tl_find(tl, t0); i < tl->n && tl->t[i] < t1; i++) {
        tl_res_t was = tl->free[i];
        tl_res_add(&was, need, ng);
        idle = idle || tl_res_ge(&was, &c->cap[p], ng);
        uint32_t h_now = rows_held(c, &tl->free[i]), h_was = rows_held(c, &was);
        if (h_now < h_was) {
            r0 = h_now < r0 ? h_now : r0;
            r1 = h_was > r1 ? h_was : r1;
        }
    }
    key_leaf(c, c->pos2leaf[p], r0, r1, idle, true);
    return FLURM_OK;
}

/* Blocks the node at position P over [T0, T1) (tl_block: a reservation holds the whole
 * node) with its keys: the rows held somewhere there before, and the whole-node row if it
 * was, are recomputed and carried up. */
static int index_block(ctx_t *c, uint32_t p, int64_t t0, int64_t t1)
{
    tl_t *tl = &c->tl[p];
    uint32_t ng = c->in->nodes[c->pos2node[p]].ngres, r1 = 0;
    bool live = index_live(c), idle = false;
    for (uint32_t i = live ? tl_find(tl, t0) : tl->n; i < tl->n && tl->t[i] < t1; i++) {
        uint32_t h = rows_held(c, &tl->free[i]);
        r1 = h > r1 ? h : r1;
        idle = idle || tl_res_ge(&tl->free[i], &c->cap[p], ng);
    }
    if (tl_block(tl, t0, t1, ng))
        return FLURM_ENOMEM;
    if (live)
        key_leaf(c, c->pos2leaf[p], 0, r1, idle, true);
    return FLURM_OK;
}

/* Which classes hold candidates of JP (usable, in its partition, matching its features) into
 * c->cls_pre as prefix counts; its start key shape into c->jrow, c->jlen. */
static void index_classes(ctx_t *c, const jprep_t *jp)
{
    key_job(c, jp);
    const uint64_t *pb = c->part_bits[c->in->jobs[jp->idx].partition];
    const uint64_t *fb = jp->feat ? c->fx[jp->feat - 1].bits : NULL;
    c->cls_pre[0] = 0;
    for (uint32_t x = 0; x < c->ncls; x++) {
        uint32_t p = c->leaf2pos[c->cls_lo[x]];
        bool ok = btest(c->usable, p) && btest(pb, p) && (!fb || btest(fb, p));
        c->cls_pre[x + 1] = c->cls_pre[x] + ok;
    }
}

static bool env_has_class(const ctx_t *c, uint32_t a, uint32_t b)
{
    return c->cls_pre[c->leaf_cls[b - 1] + 1] > c->cls_pre[c->leaf_cls[a]];
}

/* Lower bound of the earliest start at or after T_LO of JP on any node under tree node
 * (L, IDX): its start key; INT64_MAX when none can hold it before the horizon. */
static int64_t env_bound(const ctx_t *c, uint32_t l, uint32_t idx, int64_t t_lo)
{
    if (c->jrow < 0)
        return t_lo;   /* smaller than every shape: no bound known */
    skey_t k = key_row(c, l, idx, (uint32_t)c->jrow)[c->jlen];
    if (k == KEY_NONE)
        return INT64_MAX;
    int64_t b = (int64_t)k * c->res;
    return b > t_lo ? b : t_lo;
}

/* Whether some node under tree node (L, IDX) may hold JP from T on: none can start it before
 * its start key. */
static bool env_at(const ctx_t *c, uint32_t l, uint32_t idx, int64_t t)
{
    return env_bound(c, l, idx, t) == t;
}

/* Whole-node jobs take whatever the node has (node_fits), so only shared jobs are held to
 * the node's capacity up front. */
static bool leaf_candidate(ctx_t *c, const jprep_t *jp, uint32_t p)
{
    return btest(c->scratch, p) && (jp->excl || node_capable(c, jp, p));
}

/* Whether tree node IDX of level L, a child being expanded, may hold a candidate of JP: a leaf
 * must be one, an inner node must cover a candidate class. */
static bool child_candidate(ctx_t *c, const jprep_t *jp, uint32_t l, uint32_t idx)
{
    if (l == 0)
        return leaf_candidate(c, jp, c->leaf2pos[idx]);
    uint32_t a, b;
    env_range(c, l, idx, &a, &b);
    return env_has_class(c, a, b);
}

static int iv_push(ctx_t *c, int64_t t, int32_t d)
{
    if (c->niv == c->iv_cap) {
        uint32_t nc = c->iv_cap ? 2 * c->iv_cap : 256;
        ival_t *ni = realloc(c->iv, nc * sizeof *ni);
        if (!ni)
            return FLURM_ENOMEM;
        c->iv = ni;
        if (!(ni = realloc(c->iv_tmp, nc * sizeof *ni)))
            return FLURM_ENOMEM;
        c->iv_tmp = ni;
        c->iv_cap = nc;
    }
    c->iv[c->niv++] = (ival_t){ t, d };
    return FLURM_OK;
}

/* Whether JP holds on node P for a window whose least free resources are M: node_fits as one
 * predicate of the window's minimum (whole-node: everything free; gres: spread over M). */
static bool window_ok(ctx_t *c, const jprep_t *jp, uint32_t p, const tl_res_t *m)
{
    const flurm_sched_node_t *n = &c->in->nodes[c->pos2node[p]];
    if (jp->excl) {
        const tl_res_t *cap = &c->cap[p];
        if (m->cpus < cap->cpus || m->mem < cap->mem)
            return false;
        for (uint32_t g = 0; g < n->ngres; g++)
            if (m->gres[g] < cap->gres[g])
                return false;
        return true;
    }
    if (m->cpus < jp->cpn || m->mem < jp->mem)
        return false;
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    tl_res_t need;
    return !j->ngres || gres_need(n, j, m, &need);
}

/* The starts >= T_LO and < UNTIL at which node P holds JP, walking its breakpoints once per
 * stretch: starts within stretch i are feasible from max(t[i], T_LO) while the window reaches
 * no stretch that breaks it. EARLIEST: the first such start into *FIRST (INT64_MAX: none);
 * else every interval is pushed as +1/-1 events. */
static int node_starts(ctx_t *c, const jprep_t *jp, uint32_t p, int64_t t_lo, int64_t until, int64_t *first)
{
    const tl_t *tl = &c->tl[p];
    uint32_t ng = c->in->nodes[c->pos2node[p]].ngres;
    /* without gres spreading, a window holds iff each stretch in it does */
    bool decomposable = jp->excl || !c->in->jobs[jp->idx].ngres;
    uint32_t lo = tl_find(tl, t_lo);
    int64_t last_end = INT64_MIN;
    if (first)
        *first = INT64_MAX;
    for (uint32_t i = lo; i < tl->n; i++) {
        int64_t s = tl->t[i] > t_lo ? tl->t[i] : t_lo;
        if (s >= until)
            break;
        int64_t wend = add_sat(s, jp->len);
        tl_res_t m = tl->free[i];
        uint32_t k = i + 1;
        bool ok = window_ok(c, jp, p, &m);
        if (!ok)
            continue;
        for (; k < tl->n && tl->t[k] < wend; k++) {
            if (decomposable && !window_ok(c, jp, p, &tl->free[k])) {
                ok = false;
                break;
            }
            tl_res_min(&m, &tl->free[k], ng);
        }
        if (ok && !decomposable)
            ok = window_ok(c, jp, p, &m);
        if (!ok) {
            if (decomposable)
                i = k;   /* no start before stretch k ends can avoid it */
            continue;
        }
        if (first) {
            *first = s;
            return FLURM_OK;
        }
        int64_t end;
        if (decomposable) {
            /* every start holds until the window would reach the next stretch that breaks it:
             * one interval for the whole run, which then resumes after that stretch */
            while (k < tl->n && window_ok(c, jp, p, &tl->free[k]))
                k++;
            end = k < tl->n && jp->len != INT64_MAX ? tl->t[k] - jp->len + 1 : INT64_MAX;
            i = k;
        } else {
            /* the window may slide on while the stretches it takes in keep it whole */
            for (; k < tl->n; k++) {
                tl_res_t m2 = m;
                tl_res_min(&m2, &tl->free[k], ng);
                if (!window_ok(c, jp, p, &m2))
                    break;
                m = m2;
            }
            end = i + 1 < tl->n ? tl->t[i + 1] : INT64_MAX;
            if (k < tl->n && jp->len != INT64_MAX && tl->t[k] - jp->len + 1 < end)
                end = tl->t[k] - jp->len + 1;
        }
        if (end > until)
            end = until;
        if (end <= s)
            continue;
        if (s == last_end) {
            c->iv[c->niv - 1].t = end;   /* continues the previous interval */
        } else {
            if (iv_push(c, s, 1) || iv_push(c, end, -1))
                return FLURM_ENOMEM;
        }
        last_end = end;
    }
    return FLURM_OK;
}

/* Earliest start in [FROM, UNTIL) of JP on node P; INT64_MAX if none. */
static int64_t node_earliest(ctx_t *c, const jprep_t *jp, uint32_t p, int64_t from, int64_t until)
{
    int64_t t;
    node_starts(c, jp, p, from, until, &t);
    return t;
}

static int heap_push(ctx_t *c, int64_t b, uint32_t l, uint32_t idx)
{
    if (c->nheap == c->heap_cap) {
        hent_t *nh = realloc(c->heap, 2 * c->heap_cap * sizeof *nh);
        if (!nh)
            return FLURM_ENOMEM;
        c->heap = nh;
        c->heap_cap *= 2;
    }
    uint32_t i = c->nheap++;
    hent_t e = { b, l, idx };
    while (i) {
        uint32_t up = (i - 1) / 2;
        if (c->heap[up].b <= b)
            break;
        c->heap[i] = c->heap[up];
        i = up;
    }
    c->heap[i] = e;
    return FLURM_OK;
}

static hent_t heap_pop(ctx_t *c)
{
    hent_t top = c->heap[0], last = c->heap[--c->nheap];
    uint32_t i = 0;
    for (;;) {
        uint32_t k = 2 * i + 1;
        if (k >= c->nheap)
            break;
        if (k + 1 < c->nheap && c->heap[k + 1].b < c->heap[k].b)
            k++;
        if (c->heap[k].b >= last.b)
            break;
        c->heap[i] = c->heap[k];
        i = k;
    }
    if (c->nheap)
        c->heap[i] = last;
    return top;
}

/* Earliest start >= T_LO and < horizon at which one candidate node holds JP (best-first over
 * the index) into *WHEN (INT64_MAX if none), and into *POS the first position holding it then
 * (what place() would pick first). */
static int index_earliest_one(ctx_t *c, const jprep_t *jp, int64_t t_lo, int64_t *when, uint32_t *pos)
{
    int64_t best = c->horizon;
    uint32_t best_pos = UINT32_MAX;
    c->nheap = 0;
    uint32_t top = c->nlev - 1;
    uint32_t a, b;
    env_range(c, top, 0, &a, &b);
    if (env_has_class(c, a, b)) {
        int64_t bd = env_bound(c, top, 0, t_lo);
        if (bd < best && heap_push(c, bd, top, 0))
            return FLURM_ENOMEM;
    }
    while (c->nheap) {
        hent_t e = heap_pop(c);
        if (e.b > best || (e.b == best && best == c->horizon))
            break;
        if (best_pos != UINT32_MAX && e.b == best && c->lev[e.lev].minpos[e.idx] > best_pos)
            continue;   /* none of its nodes can start earlier, and all lose the tie */
        if (e.lev == 0) {
            uint32_t p = c->leaf2pos[e.idx];
            int64_t t = node_earliest(c, jp, p, e.b, best == c->horizon ? best : best + 1);
            if (t < best || (t == best && p < best_pos)) {
                best = t;
                best_pos = p;
            }
            continue;
        }
        uint32_t ch0, ch1;
        env_children(c, e.lev, e.idx, &ch0, &ch1);
        for (uint32_t ch = ch0; ch < ch1; ch++) {
            if (!child_candidate(c, jp, e.lev - 1, ch))
                continue;
            int64_t bd = env_bound(c, e.lev - 1, ch, t_lo);
            if ((bd < best || (bd == best && best < c->horizon && c->lev[e.lev - 1].minpos[ch] < best_pos)) &&
                heap_push(c, bd, e.lev - 1, ch))
                return FLURM_ENOMEM;
        }
    }
    *when = best < c->horizon ? best : INT64_MAX;
    *pos = best_pos;
    return FLURM_OK;
}

static int cmp_ival(const void *a, const void *b)
{
    const ival_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->d - y->d;   /* ends before starts */
}

/* Earliest start over the events pushed so far: the first start at which want_min of those
 * nodes hold JP together; INT64_MAX if none. */
static int64_t sweep(ctx_t *c, const jprep_t *jp)
{
    /* the events pushed since the last sweep are sorted and merged into the sorted ones */
    uint32_t a = 0, b = c->niv_sorted, n = 0;
    /* one node's events come in order: an insertion sort merges the few nodes pushed since
     * (many at once are sorted first, so that pass stays linear) */
    if (c->niv - b > 64)
        qsort(&c->iv[b], c->niv - b, sizeof *c->iv, cmp_ival);
    for (uint32_t i = b + 1; i < c->niv; i++) {
        ival_t x = c->iv[i];
        uint32_t j = i;
        for (; j > b && cmp_ival(&c->iv[j - 1], &x) > 0; j--)
            c->iv[j] = c->iv[j - 1];
        c->iv[j] = x;
    }
    if (b && b < c->niv) {
        while (a < c->niv_sorted || b < c->niv)
            c->iv_tmp[n++] = b == c->niv || (a < c->niv_sorted && cmp_ival(&c->iv[a], &c->iv[b]) <= 0) ? c->iv[a++]
                                                                                                     : c->iv[b++];
        ival_t *x = c->iv;
        c->iv = c->iv_tmp;
        c->iv_tmp = x;
    }
    c->niv_sorted = c->niv;
    uint32_t cover = 0;
    for (uint32_t k = 0; k < c->niv; k++) {
        cover += (uint32_t)c->iv[k].d;
        if (c->iv[k].d > 0 && cover >= jp->want_min)
            return c->iv[k].t < c->horizon ? c->iv[k].t : INT64_MAX;
    }
    return INT64_MAX;
}

/* The sweep's answer when the events may end early at a time no earlier than CAND (which
 * want_min nodes are known to hold): coverage before CAND is exact, so an earlier answer is
 * found, and none means CAND stands. */
static int64_t sweep_min(ctx_t *c, const jprep_t *jp, int64_t cand)
{
    int64_t t = sweep(c, jp);
    return t < cand ? t : cand;
}

/* Earliest start >= T_LO and < horizon at which want_min candidate nodes hold JP together.
 * Nodes are taken best-first by bound with their intervals of feasible starts; once every node
 * not yet taken has a bound above the sweep's answer over those taken, no other node can be
 * among the ones holding it then, and the answer is final. */
static int index_earliest_many(ctx_t *c, const jprep_t *jp, int64_t t_lo, int64_t *when)
{
    c->niv = c->niv_sorted = 0;
    c->nheap = 0;
    *when = INT64_MAX;
    int64_t cand = INT64_MAX;   /* sweep over the nodes taken so far */
    bool fresh = true;          /* cand reflects every event pushed */
    uint32_t unswept = 0;       /* nodes whose events are not in cand yet */
    uint32_t top = c->nlev - 1, a, b;
    env_range(c, top, 0, &a, &b);
    if (env_has_class(c, a, b)) {
        int64_t bd = env_bound(c, top, 0, t_lo);
        if (bd < c->horizon && heap_push(c, bd, top, 0))
            return FLURM_ENOMEM;
    }
    for (;;) {
        /* nodes whose starts are all at or after cand cannot move it earlier */
        if (!c->nheap || c->heap[0].b >= cand) {
            if (!fresh) {
                cand = sweep_min(c, jp, cand);
                fresh = true;
                unswept = 0;
                continue;
            }
            break;
        }
        hent_t e = heap_pop(c);
        if (e.lev == 0) {
            uint32_t before = c->niv;
            /* starts at or after cand cannot make an earlier answer: its intervals end there */
            int rc = node_starts(c, jp, c->leaf2pos[e.idx], e.b, cand < c->horizon ? cand : c->horizon, NULL);
            if (rc)
                return rc;
            fresh = fresh && c->niv == before;
            unswept += c->niv != before;
            /* the next node may have the same bound: take it too before sweeping, unless the
             * nodes taken since the last sweep may be enough already */
            if (c->nheap && c->heap[0].b == e.b && unswept < jp->want_min)
                continue;
            if (!fresh) {
                cand = sweep_min(c, jp, cand);
                fresh = true;
                unswept = 0;
            }
            continue;
        }
        uint32_t ch0, ch1;
        env_children(c, e.lev, e.idx, &ch0, &ch1);
        for (uint32_t ch = ch0; ch < ch1; ch++) {
            if (!child_candidate(c, jp, e.lev - 1, ch))
                continue;
            int64_t bd = env_bound(c, e.lev - 1, ch, t_lo);
            if (bd < c->horizon && bd < cand && heap_push(c, bd, e.lev - 1, ch))
                return FLURM_ENOMEM;
        }
    }
    *when = cand;
    return FLURM_OK;
}

/* First up to WANT candidates of class range leaves [LO, HI) under (L, IDX) that hold JP at T,
 * in leaf order, appended to c->cand[*N]. */
static void index_first_fit(ctx_t *c, const jprep_t *jp, uint32_t l, uint32_t idx, uint32_t lo, uint32_t hi,
                            int64_t t, uint32_t want, uint32_t base, uint32_t *n)
{
    uint32_t a, b;
    env_range(c, l, idx, &a, &b);
    if (b <= lo || a >= hi || *n - base >= want || !env_at(c, l, idx, t))
        return;
    if (l == 0) {
        int64_t t1 = add_sat(t, jp->len), next;
        tl_res_t need;
        for (uint32_t leaf = a > lo ? a : lo; leaf < b && leaf < hi && *n - base < want; leaf++) {
            uint32_t p = c->leaf2pos[leaf];
            if (leaf_candidate(c, jp, p) && node_fits(c, jp, p, t, t1, &need, &next))
                c->cand[(*n)++] = p;
        }
        return;
    }
    uint32_t ch0, ch1;
    env_children(c, l, idx, &ch0, &ch1);
    for (uint32_t ch = ch0; ch < ch1 && *n - base < want; ch++)
        index_first_fit(c, jp, l - 1, ch, lo, hi, t, want, base, n);
}

/* place() through the index for a job without required nodes: the first want_max candidate
 * positions that hold JP over [T, T + len) into c->pick; 0 when fewer than want_min do. */
static uint32_t index_place(ctx_t *c, const jprep_t *jp, int64_t t)
{
    if (!c->nlev)
        return 0;
    uint32_t n = 0;
    for (uint32_t x = 0; x < c->ncls; x++) {
        if (c->cls_pre[x + 1] == c->cls_pre[x])
            continue;
        index_first_fit(c, jp, c->nlev - 1, 0, c->cls_lo[x], c->cls_lo[x + 1], t, jp->want_max, n, &n);
    }
    if (n < jp->want_min)
        return 0;
    qsort(c->cand, n, sizeof *c->cand, cmp_u32);
    uint32_t got = n < jp->want_max ? n : jp->want_max;
    memcpy(c->pick, c->cand, got * sizeof *c->pick);
    return got;
}

/* Picks nodes for JP over [T, T + len) into c->pick (positions); returns how many (0 = does
 * not fit). Required nodes come first and all must fit; then candidates in position order up
 * to want_max. When T == 0 only nodes with free CPUs (idle nodes for whole-node jobs) are
 * visited. Nodes that fail remember when to be tried again (c->skip, this job's stamp). */
static uint32_t place(ctx_t *c, const jprep_t *jp, int64_t t, int64_t *min_next)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    int64_t t1 = add_sat(t, jp->len);
    uint32_t got = 0;
    tl_res_t need;
    int64_t next;
    for (uint32_t k = 0; k < j->nreq_nodes; k++) {
        uint32_t p = c->node2pos[j->req_nodes[k]];
        if (!btest(c->scratch, p) || (t == 0 && btest(c->claimed, p)) ||
            !node_fits(c, jp, p, t, t1, &need, &next)) {
            *min_next = t + 1;   /* no bound known */
            return 0;
        }
        c->pick[got++] = p;
    }
    const uint64_t *filter = t ? NULL : jp->excl ? c->idle_now : c->free_now;
    for (uint32_t w = 0; w < c->words && got < jp->want_max; w++) {
        uint64_t bits = c->scratch[w] & (filter ? filter[w] & ~c->claimed[w] : ~0ull);
        while (bits && got < jp->want_max) {
            uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (c->stamp[p] == c->cur_stamp && c->skip[p] > t) {
                if (c->skip[p] < *min_next)
                    *min_next = c->skip[p];
                continue;
            }
            bool req = false;
            for (uint32_t k = 0; k < j->nreq_nodes && !req; k++)
                req = c->node2pos[j->req_nodes[k]] == p;
            if (req)
                continue;
            if (node_fits(c, jp, p, t, t1, &need, &next))
                c->pick[got++] = p;
            else {
                c->stamp[p] = c->cur_stamp;
                c->skip[p] = next;
                if (next < *min_next)
                    *min_next = next;
            }
        }
    }
    return got >= jp->want_min ? got : 0;
}

/* Takes JP's resources on the GOT picked nodes over [T, T + len): a start (T = 0) its share of
 * each node, a reservation (T > 0) the whole nodes, as slurmctld's backfill does (a later job
 * may share a node with a running job, never with a planned one). Fills NODES (ascending
 * input indexes, allocated) and the per-node amounts. */
static int commit(ctx_t *c, const jprep_t *jp, int64_t t, uint32_t got, uint32_t **nodes,
                  uint32_t *cpn, uint64_t *mem)
{
    int64_t t1 = add_sat(t, jp->len);
    uint32_t *out = malloc(got * sizeof *out);
    if (!out)
        return FLURM_ENOMEM;
    for (uint32_t k = 0; k < got; k++) {
        uint32_t p = c->pick[k];
        tl_res_t need;
        int64_t next;
        node_fits(c, jp, p, t, t1, &need, &next);
        if (t ? index_block(c, p, t, t1) : index_take(c, p, t, t1, &need)) {
            free(out);
            return FLURM_ENOMEM;
        }
        if (k == 0) {
            *cpn = need.cpus;
            *mem = need.mem;
        }
        if (t == 0)
            node_idle_bits(c, p);
        out[k] = c->pos2node[p];
    }
    key_flush(c);
    if (times_insert(c, t) || times_insert(c, t1)) {
        free(out);
        return FLURM_ENOMEM;
    }
    qsort(out, got, sizeof *out, cmp_u32);
    *nodes = out;
    return FLURM_OK;
}

/* ------------------------------------------------------------------ memo */

static memo_t *memo_get(ctx_t *c, const jprep_t *jp, bool create)
{
    if (!jp->memoable)
        return NULL;
    size_t k = (size_t)c->in->jobs[jp->idx].partition * (c->nfx + 1) + jp->feat;
    if (!c->memo[k] && create)
        c->memo[k] = calloc(1, sizeof **c->memo);
    return c->memo[k];
}

static bool dominates(const jprep_t *jp, const memo_rec_t *r)
{
    return jp->excl == r->excl && jp->want_min >= r->nodes && jp->cpn >= r->cpus &&
           jp->mem >= r->mem && jp->len >= r->len;
}

static const memo_rec_t *memo_find(const memo_rec_t *recs, uint32_t n, const jprep_t *jp)
{
    for (uint32_t i = 0; i < n && i < MEMO_SLOTS; i++)
        if (dominates(jp, &recs[i]))
            return &recs[i];
    return NULL;
}

static void memo_add(memo_rec_t *recs, uint32_t *n, const jprep_t *jp, int64_t t)
{
    recs[*n % MEMO_SLOTS] = (memo_rec_t){ .nodes = jp->want_min, .cpus = jp->cpn, .mem = jp->mem,
                                          .len = jp->len, .t = t, .excl = jp->excl };
    (*n)++;
}

/* Whether record A's shape is at least record B's (A is then covered wherever B is). */
static bool rec_ge(const memo_rec_t *a, const memo_rec_t *b)
{
    return a->excl == b->excl && a->nodes >= b->nodes && a->cpus >= b->cpus && a->mem >= b->mem &&
           a->len >= b->len;
}

/* Adds JP with T to the bounded records RECS (*N of them, by t descending, the newest first
 * among equal t): records larger than JP whose t is at most T say nothing JP's does not, and
 * go; when all BOUND_SLOTS are taken, the last record (the least t, the oldest) goes. */
static void bound_add(memo_rec_t *recs, uint32_t *n, const jprep_t *jp, int64_t t)
{
    memo_rec_t r = { .nodes = jp->want_min, .cpus = jp->cpn, .mem = jp->mem, .len = jp->len, .t = t,
                     .excl = jp->excl };
    /* the records with a larger t stay: only those from AT on are looked at */
    uint32_t at = 0, hi = *n;
    while (at < hi) {
        uint32_t mid = (at + hi) / 2;
        if (recs[mid].t > t)
            at = mid + 1;
        else
            hi = mid;
    }
    uint32_t k = at;
    for (uint32_t i = at; i < *n; i++)
        if (!rec_ge(&recs[i], &r))
            recs[k++] = recs[i];
    if (k == BOUND_SLOTS) {
        if (at == k)
            at--;
        k--;
    }
    memmove(&recs[at + 1], &recs[at], (k - at) * sizeof *recs);
    recs[at] = r;
    *n = k + 1;
}

/* The largest t of the bounded records JP is at least as large as; FLOOR if none is larger.
 * The records are by t descending: the first one JP covers answers. */
static int64_t bound_find(const memo_rec_t *recs, uint32_t n, const jprep_t *jp, int64_t floor)
{
    for (uint32_t i = 0; i < n && recs[i].t > floor; i++)
        if (dominates(jp, &recs[i]))
            return recs[i].t;
    return floor;
}

/* Whether every candidate node of class A (partition, feature expression) is one of class
 * B's: B's facts then hold in A too (fewer nodes never start a job earlier). */
static bool memo_within(ctx_t *c, size_t a, size_t b)
{
    size_t nk = (size_t)c->in->nparts * (c->nfx + 1);
    uint8_t *v = &c->memo_sub[a * nk + b];
    if (!*v) {
        uint32_t fa = (uint32_t)(a % (c->nfx + 1)), fb = (uint32_t)(b % (c->nfx + 1));
        const uint64_t *pa = c->part_bits[a / (c->nfx + 1)], *pb = c->part_bits[b / (c->nfx + 1)];
        bool in = true;
        for (uint32_t w = 0; w < c->words && in; w++) {
            uint64_t ca = pa[w] & c->usable[w] & (fa ? c->fx[fa - 1].bits[w] : ~0ull);
            uint64_t cb = pb[w] & c->usable[w] & (fb ? c->fx[fb - 1].bits[w] : ~0ull);
            in = !(ca & ~cb);
        }
        *v = in ? 1 : 2;
    }
    return *v == 1;
}

/* bound_find over the lb (WIN: win) records of JP's class and of every class whose candidate
 * nodes include all of its own. */
static int64_t bounds_find(ctx_t *c, const jprep_t *jp, bool win, int64_t floor)
{
    size_t nk = (size_t)c->in->nparts * (c->nfx + 1);
    size_t own = (size_t)c->in->jobs[jp->idx].partition * (c->nfx + 1) + jp->feat;
    for (size_t k = 0; k < nk; k++) {
        const memo_t *m = c->memo[k];
        if (!m || (k != own && !memo_within(c, own, k)))
            continue;
        floor = win ? bound_find(m->win, m->nwin, jp, floor) : bound_find(m->lb, m->nlb, jp, floor);
    }
    return floor;
}

/* ------------------------------------------------------------------ the cycle */

/* A pending job's place in the queue: partition tier, then priority, both highest first, then
 * job id, lowest first; K orders the first two ascending. */
typedef struct okey {
    uint64_t k;
    uint32_t job_id, q;
} okey_t;

/* Byte D (0: the lowest) of A's sort key, K then job id, job id least significant. */
static inline uint32_t okey_byte(const okey_t *a, uint32_t d)
{
    return (uint32_t)((d < 4 ? a->job_id >> (8 * d) : a->k >> (8 * (d - 4))) & 0xff);
}

/* A[0..N) by (k, job_id) ascending: a stable counting pass per key byte, least significant
 * first, skipping the bytes every key shares (TMP: N records of scratch). */
static void okey_sort(okey_t *a, okey_t *tmp, uint32_t n)
{
    enum { NBYTES = 12 };
    uint32_t cnt[NBYTES][256];
    memset(cnt, 0, sizeof cnt);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t d = 0; d < NBYTES; d++)
            cnt[d][okey_byte(&a[i], d)]++;
    okey_t *src = a, *dst = tmp;
    for (uint32_t d = 0; d < NBYTES && n; d++) {
        if (cnt[d][okey_byte(&src[0], d)] == n)
            continue;
        for (uint32_t b = 0, pos = 0; b < 256; b++) {
            uint32_t c = cnt[d][b];
            cnt[d][b] = pos;
            pos += c;
        }
        for (uint32_t i = 0; i < n; i++)
            dst[cnt[d][okey_byte(&src[i], d)]++] = src[i];
        okey_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Q[0..NQ) into queue order (the order keys are built once: a comparison then reads no job). */
static int queue_sort(ctx_t *c, jprep_t **q, uint32_t nq)
{
    okey_t *ok = malloc((nq + 1) * sizeof *ok), *tmp = malloc((nq + 1) * sizeof *tmp);
    jprep_t *sorted = malloc((nq + 1) * sizeof *sorted);
    if (!ok || !tmp || !sorted) {
        free(ok);
        free(tmp);
        free(sorted);
        return FLURM_ENOMEM;
    }
    for (uint32_t k = 0; k < nq; k++) {
        const flurm_sched_job_t *j = &c->in->jobs[(*q)[k].idx];
        uint16_t tier = c->in->parts[j->partition].priority_tier;
        ok[k] = (okey_t){ .k = (uint64_t)(UINT16_MAX - tier) << 32 | (UINT32_MAX - c->out->jobs[(*q)[k].idx].priority),
                          .job_id = j->job_id, .q = k };
    }
    okey_sort(ok, tmp, nq);
    for (uint32_t k = 0; k < nq; k++)
        sorted[k] = (*q)[ok[k].q];
    free(ok);
    free(tmp);
    free(*q);
    *q = sorted;
    return FLURM_OK;
}

static int cmp_arr(const void *a, const void *b)
{
    const arr_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static arr_t *arr_find(ctx_t *c, uint32_t id)
{
    arr_t key = { .id = id };
    return bsearch(&key, c->arrs, c->narrs, sizeof key, cmp_arr);
}

/* Reason a pending job cannot be considered at all, or NO_REASON; fills JP's shape. */
static flurm_sched_reason_t prepare(ctx_t *c, uint32_t i, jprep_t *jp)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_job_t *j = &in->jobs[i];
    const flurm_sched_part_t *p = &in->parts[j->partition];
    if (!j->priority)
        return j->hold_reason ? j->hold_reason : FLURM_SCHED_WAIT_HELD;
    if (!j->dependency_ok)
        return FLURM_SCHED_WAIT_DEPENDENCY;
    if (j->begin_time > in->params.now)
        return FLURM_SCHED_WAIT_TIME;
    if (p->state == FLURM_SCHED_PART_DOWN)
        return FLURM_SCHED_WAIT_PART_DOWN;
    if (p->state == FLURM_SCHED_PART_INACTIVE)
        return FLURM_SCHED_WAIT_PART_INACTIVE;
    uint32_t max_time = p->max_time ? p->max_time : FLURM_SCHED_INFINITE;
    uint32_t max_nodes = p->max_nodes ? p->max_nodes : FLURM_SCHED_INFINITE;
    uint32_t limit = j->time_limit;
    if (!limit)
        limit = p->default_time != FLURM_SCHED_INFINITE && p->default_time ? p->default_time : max_time;
    if (limit != FLURM_SCHED_INFINITE && max_time != FLURM_SCHED_INFINITE && limit > max_time)
        return FLURM_SCHED_WAIT_PART_TIME_LIMIT;
    *jp = (jprep_t){ .idx = i };
    jp->want_min = j->min_nodes ? j->min_nodes : 1;
    if (j->nreq_nodes > jp->want_min)
        jp->want_min = j->nreq_nodes;
    jp->want_max = j->max_nodes > jp->want_min ? j->max_nodes : jp->want_min;
    if (jp->want_max > max_nodes)
        jp->want_max = max_nodes > jp->want_min ? max_nodes : jp->want_min;
    if (jp->want_min > max_nodes || jp->want_min > p->nnodes)
        return FLURM_SCHED_WAIT_PART_NODE_LIMIT;
    if (p->allow_gids) {
        bool ok = false;
        for (uint32_t g = 0; g < p->nallow_gids && !ok; g++)
            ok = p->allow_gids[g] == j->gid;
        if (!ok)
            return FLURM_SCHED_WAIT_PART_CONFIG;
    }
    if (p->allow_uids && !bsearch(&j->uid, p->allow_uids, p->nallow_uids, sizeof *p->allow_uids, cmp_u32))
        return FLURM_SCHED_WAIT_PART_CONFIG;
    if (j->array_job_id && j->array_task_limit) {
        arr_t *a = arr_find(c, j->array_job_id);
        if (a && a->running >= j->array_task_limit)
            return FLURM_SCHED_WAIT_ARRAY_TASK_LIMIT;
    }
    uint32_t cpt = j->cpus_per_task ? j->cpus_per_task : 1;
    uint32_t tasks = j->ntasks_per_node ? j->ntasks_per_node
                                        : j->ntasks ? (j->ntasks + jp->want_min - 1) / jp->want_min : 1;
    jp->cpn = tasks * cpt;
    jp->mem = j->mem_per_cpu ? j->mem * jp->cpn : j->mem;
    jp->excl = j->exclusive || p->max_share == 0;
    jp->len = limit == FLURM_SCHED_INFINITE ? INT64_MAX : round_up((int64_t)limit * 60, c->res);
    jp->memoable = !j->ngres && !j->nreq_nodes && !j->nexc_nodes;
    return FLURM_SCHED_WAIT_NO_REASON;
}

/* Why a job that did not start waits when it could never run on the usable nodes (it blocks
 * no one then, as in slurmctld), or NO_REASON when it only waits for resources. */
static flurm_sched_reason_t never_reason(ctx_t *c, const jprep_t *jp)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    for (uint32_t k = 0; k < j->nreq_nodes; k++) {
        uint32_t p = c->node2pos[j->req_nodes[k]];
        if (!btest(c->scratch, p) || !node_capable(c, jp, p))
            return FLURM_SCHED_WAIT_NODE_NOT_AVAIL;
    }
    uint32_t n = 0;
    for (uint32_t w = 0; w < c->words && n < jp->want_min; w++) {
        uint64_t bits = c->scratch[w];
        while (bits && n < jp->want_min) {
            uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            n += node_capable(c, jp, p);
        }
    }
    return n >= jp->want_min ? FLURM_SCHED_WAIT_NO_REASON : FLURM_SCHED_WAIT_NODE_NOT_AVAIL;
}

static int start_job(ctx_t *c, jprep_t *jp, uint32_t got, bool backfill)
{
    flurm_sched_output_t *o = c->out;
    flurm_sched_start_t *s = &o->starts[o->nstarts];
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    *s = (flurm_sched_start_t){ .job_id = j->job_id, .job_index = jp->idx, .nnodes = got, .backfill = backfill };
    int rc = commit(c, jp, 0, got, &s->nodes, &s->cpus_per_node, &s->mem_per_node);
    if (rc)
        return rc;
    o->nstarts++;
    jp->started = true;
    o->jobs[jp->idx].reason = FLURM_SCHED_WAIT_NO_REASON;
    if (j->array_job_id) {
        arr_t *a = arr_find(c, j->array_job_id);
        if (a)
            a->running++;
    }
    return FLURM_OK;
}

/* ------------------------------------------------------------------ preemption
 *
 * preempt/partition_prio over select/cons_tres (see flurm_sched_preempt_t in flurm/sched.h).
 * A preemption attempt works on the live timelines and puts them back from c->saved. */

static flurm_sched_preempt_mode_t part_mode(const ctx_t *c, uint32_t part)
{
    flurm_sched_preempt_mode_t m = c->in->parts[part].preempt_mode;
    if (m == FLURM_SCHED_PREEMPT_INHERIT)
        m = c->in->params.preempt_mode;
    return m == FLURM_SCHED_PREEMPT_INHERIT || m == FLURM_SCHED_PREEMPT_RESUME ? FLURM_SCHED_PREEMPT_OFF : m;
}

/* slurmctld enables preemption when the global PreemptMode is not OFF (PREEMPT_DATA_ENABLED). */
static bool preempt_enabled(const ctx_t *c)
{
    const flurm_sched_params_t *pa = &c->in->params;
    return pa->preempt && pa->preempt_mode != FLURM_SCHED_PREEMPT_INHERIT &&
           pa->preempt_mode != FLURM_SCHED_PREEMPT_OFF && pa->preempt_mode != FLURM_SCHED_PREEMPT_RESUME;
}

static int preempt_emit(ctx_t *c, uint32_t i, flurm_sched_preempt_mode_t mode, uint32_t preemptor)
{
    flurm_sched_output_t *o = c->out;
    if (!o->preempts && !(o->preempts = calloc(c->in->njobs + 1, sizeof *o->preempts)))
        return FLURM_ENOMEM;
    o->preempts[o->npreempts++] = (flurm_sched_preempt_t){ .job_id = c->in->jobs[i].job_id, .job_index = i,
                                                           .mode = mode, .preemptor_id = preemptor };
    c->gone[i] = true;
    return FLURM_OK;
}

/* Gives running job I's resources back on every usable node over [0, its end). */
static int unhold(ctx_t *c, uint32_t i)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_job_t *j = &in->jobs[i];
    int64_t end = j->preempting ? c->res
                : round_up(j->end_time > in->params.now ? j->end_time - in->params.now : c->res, c->res);
    for (uint32_t k = 0; k < j->nalloc_nodes; k++) {
        const flurm_sched_node_t *n = &in->nodes[j->alloc_nodes[k]];
        uint32_t p = c->node2pos[j->alloc_nodes[k]];
        if (!btest(c->usable, p))
            continue;
        tl_res_t have = { 0 }, r = { .cpus = j->alloc_cpus_per_node, .mem = j->alloc_mem_per_node };
        for (uint32_t g = 0; g < n->ngres; g++)
            have.gres[g] = n->gres[g].alloc;
        gres_need(n, j, &have, &r);
        /* never more than the node's capacity now */
        const tl_res_t *f = &c->tl[p].free[0], *cap = &c->cap[p];
        r.cpus = f->cpus + r.cpus > cap->cpus ? cap->cpus - f->cpus : r.cpus;
        r.mem = f->mem + r.mem > cap->mem ? cap->mem - f->mem : r.mem;
        for (uint32_t g = 0; g < n->ngres; g++)
            if (f->gres[g] + r.gres[g] > cap->gres[g])
                r.gres[g] = cap->gres[g] - f->gres[g];
        if (tl_release(&c->tl[p], 0, &r, n->ngres) ||
            (end != INT64_MAX && tl_take(&c->tl[p], end, INT64_MAX, &r, n->ngres)))
            return FLURM_ENOMEM;
        node_idle_bits(c, p);
    }
    return FLURM_OK;
}

static int tl_copy(tl_t *dst, const tl_t *src)
{
    if (dst->cap < src->n) {
        int64_t *nt = realloc(dst->t, src->n * sizeof *nt);
        if (!nt)
            return FLURM_ENOMEM;
        dst->t = nt;
        tl_res_t *nf = realloc(dst->free, src->n * sizeof *nf);
        if (!nf)
            return FLURM_ENOMEM;
        dst->free = nf;
        dst->cap = src->n;
    }
    memcpy(dst->t, src->t, src->n * sizeof *src->t);
    memcpy(dst->free, src->free, src->n * sizeof *src->free);
    dst->n = src->n;
    return FLURM_OK;
}

/* Timelines of every node in BITS saved (TO_SAVED) or put back. */
static int tl_keep(ctx_t *c, const uint64_t *bits, bool to_saved)
{
    if (!c->saved && !(c->saved = calloc(c->nn + 1, sizeof *c->saved)))
        return FLURM_ENOMEM;
    for (uint32_t p = 0; p < c->nn; p++) {
        if (!btest(bits, p))
            continue;
        if (to_saved ? tl_copy(&c->saved[p], &c->tl[p]) : tl_copy(&c->tl[p], &c->saved[p]))
            return FLURM_ENOMEM;
        if (!to_saved)
            node_idle_bits(c, p);
    }
    return FLURM_OK;
}

typedef struct cand {
    uint32_t idx;
    bool free;           /* already preempting: its resources are coming back anyway */
    bool victim;
} cand_t;

static int cmp_cand(const void *a, const void *b, void *arg)
{
    const ctx_t *c = arg;
    const cand_t *x = a, *y = b;
    const flurm_sched_job_t *jx = &c->in->jobs[x->idx], *jy = &c->in->jobs[y->idx];
    if (x->free != y->free)
        return x->free ? -1 : 1;
    if (!c->in->params.preempt_youngest_first) {
        /* preempt/partition_prio _gen_job_prio(): tier << 16 + node count, lowest first */
        uint32_t nx = jx->nalloc_nodes < 0xffff ? jx->nalloc_nodes : 0xffff;
        uint32_t ny = jy->nalloc_nodes < 0xffff ? jy->nalloc_nodes : 0xffff;
        uint32_t px = ((uint32_t)c->in->parts[jx->partition].priority_tier << 16) + nx;
        uint32_t py = ((uint32_t)c->in->parts[jy->partition].priority_tier << 16) + ny;
        if (px != py)
            return px < py ? -1 : 1;
    }
    if (jx->start_time != jy->start_time)
        return jx->start_time > jy->start_time ? -1 : 1;
    return jx->job_id > jy->job_id ? -1 : jx->job_id < jy->job_id;
}

/* Places JP at t = 0 with the candidates of CV marked IN_SET given back (after restoring the
 * saved timelines of the nodes in TOUCH). Returns how many nodes (0 = no fit). */
static int place_without(ctx_t *c, jprep_t *jp, const uint64_t *touch, const cand_t *cv, uint32_t n,
                         const bool *in_set, uint32_t *got)
{
    int rc = tl_keep(c, touch, false);
    for (uint32_t k = 0; !rc && k < n; k++)
        if (in_set[k])
            rc = unhold(c, cv[k].idx);
    if (rc)
        return rc;
    c->cur_stamp++;
    int64_t mn = INT64_MAX;
    *got = place(c, jp, 0, &mn);
    return FLURM_OK;
}

static bool job_on_picked(const ctx_t *c, const flurm_sched_job_t *j, const uint64_t *picked)
{
    for (uint32_t k = 0; k < j->nalloc_nodes; k++)
        if (btest(picked, c->node2pos[j->alloc_nodes[k]]))
            return true;
    return false;
}

static void memo_reset(ctx_t *c)
{
    for (size_t m = 0; c->memo && m < (size_t)c->in->nparts * (c->nfx + 1); m++)
        if (c->memo[m])
            memset(c->memo[m], 0, sizeof *c->memo[m]);
}

/* Pending JP did not fit now (c->scratch is its base set): preempts what it needs, if it
 * can. *STARTED: it started now (SUSPEND victims only); otherwise, with victims chosen or
 * already on their way out, its nodes are claimed for this cycle. */
static int try_preempt(ctx_t *c, jprep_t *jp, bool backfill, bool *started)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_job_t *j = &in->jobs[jp->idx];
    uint16_t tier = in->parts[j->partition].priority_tier;
    const uint64_t *pb = c->part_bits[j->partition];
    size_t bs = c->words * sizeof(uint64_t);
    cand_t *cv = malloc((in->njobs + 1) * sizeof *cv);
    bool *set = calloc(in->njobs + 1, sizeof *set);
    uint64_t *touch = calloc(1, bs), *picked = calloc(1, bs);
    int rc = FLURM_ENOMEM;
    if (!cv || !set || !touch || !picked)
        goto out;
    uint32_t nc = 0, nreal = 0;
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *s = &in->jobs[i];
        if (s->state != FLURM_SCHED_JOB_RUNNING || c->gone[i])
            continue;
        if (!s->preempting && (in->parts[s->partition].priority_tier >= tier ||
                               part_mode(c, s->partition) == FLURM_SCHED_PREEMPT_OFF))
            continue;
        bool overlap = false;
        for (uint32_t k = 0; k < s->nalloc_nodes; k++) {
            uint32_t p = c->node2pos[s->alloc_nodes[k]];
            overlap |= btest(pb, p) && btest(c->usable, p);
        }
        if (!overlap)
            continue;
        for (uint32_t k = 0; k < s->nalloc_nodes; k++)
            bset(touch, c->node2pos[s->alloc_nodes[k]]);
        cv[nc++] = (cand_t){ .idx = i, .free = s->preempting };
        nreal += !s->preempting;
    }
    rc = FLURM_OK;
    if (!nreal)
        goto out;
    qsort_r(cv, nc, sizeof *cv, cmp_cand, c);
    /* the reservations a start here could collide with are only made later, but a start
     * commits on picked nodes outside TOUCH too: those are taken for real, never restored */
    if ((rc = tl_keep(c, touch, true)))
        goto out;
    /* slurmctld: give back candidates one at a time, in order, until the job fits */
    uint32_t got = 0, k;
    for (k = 0; k < nc && !got; k++) {
        if ((rc = unhold(c, cv[k].idx)))
            goto out;
        set[k] = true;
        c->cur_stamp++;
        int64_t mn = INT64_MAX;
        got = place(c, jp, 0, &mn);
    }
    if (!got) {
        rc = tl_keep(c, touch, false);
        goto out;
    }
    /* victims: the candidates given back that hold something on the nodes it got */
    for (uint32_t g = 0; g < got; g++)
        bset(picked, c->pick[g]);
    uint32_t nv = 0;
    for (uint32_t x = 0; x < k; x++) {
        cv[x].victim = !cv[x].free && job_on_picked(c, &in->jobs[cv[x].idx], picked);
        set[x] = cv[x].free || cv[x].victim;
        nv += cv[x].victim;
    }
    /* a minimal set: spare each victim (latest in the order first) it fits without */
    for (uint32_t x = k; x-- > 0;) {
        if (!cv[x].victim)
            continue;
        set[x] = false;
        if ((rc = place_without(c, jp, touch, cv, k, set, &got)))
            goto out;
        if (got) {
            cv[x].victim = false;
            nv--;
        } else {
            set[x] = true;
        }
    }
    bool suspend_only = nv > 0;
    for (uint32_t x = 0; x < k; x++)
        if (cv[x].victim && part_mode(c, in->jobs[cv[x].idx].partition) != FLURM_SCHED_PREEMPT_SUSPEND)
            suspend_only = false;
    if (suspend_only) {
        /* suspended victims hold nothing: the job starts now on their resources alone */
        bool *only = calloc(k + 1, sizeof *only);
        if (!only) {
            rc = FLURM_ENOMEM;
            goto out;
        }
        for (uint32_t x = 0; x < k; x++)
            only[x] = cv[x].victim;
        rc = place_without(c, jp, touch, cv, k, only, &got);
        free(only);
        if (rc)
            goto out;
        if (!got)
            suspend_only = false;   /* it needs what the preempting jobs still hold too */
    }
    if (!suspend_only) {
        /* it starts once the victims have ended: which nodes it gets then, kept from others */
        if ((rc = place_without(c, jp, touch, cv, k, set, &got)))
            goto out;
        memset(picked, 0, bs);
        for (uint32_t g = 0; g < got; g++)
            bset(picked, c->pick[g]);
        if ((rc = tl_keep(c, touch, false)))
            goto out;
    }
    for (uint32_t x = 0; x < k; x++)
        if (cv[x].victim && (rc = preempt_emit(c, cv[x].idx, part_mode(c, in->jobs[cv[x].idx].partition), j->job_id)))
            goto out;
    if (suspend_only) {
        if ((rc = start_job(c, jp, got, backfill)))
            goto out;
        /* resources came back: what failed before may fit now, and start keys may be later
         * than the starts there are now */
        memo_reset(c);
        index_drop(c);
        *started = true;
    } else {
        for (uint32_t w = 0; w < c->words; w++)
            c->claimed[w] |= picked[w];
        c->any_claimed = true;
        jp->claimed = true;
    }
out:
    free(cv);
    free(set);
    free(touch);
    free(picked);
    return rc;
}

static int cmp_sus(const void *a, const void *b, void *arg)
{
    const ctx_t *c = arg;
    const flurm_sched_job_t *x = &c->in->jobs[*(const uint32_t *)a], *y = &c->in->jobs[*(const uint32_t *)b];
    uint16_t tx = c->in->parts[x->partition].priority_tier, ty = c->in->parts[y->partition].priority_tier;
    if (tx != ty)
        return tx > ty ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

/* Resumes suspended job I if everything it held is free on its nodes for its remaining time. */
static int try_resume(ctx_t *c, uint32_t i)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_job_t *j = &in->jobs[i];
    int64_t end = round_up(j->end_time > in->params.now ? j->end_time - in->params.now : c->res, c->res);
    if (!j->nalloc_nodes)
        return FLURM_OK;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t k = 0; k < j->nalloc_nodes; k++) {
            const flurm_sched_node_t *n = &in->nodes[j->alloc_nodes[k]];
            uint32_t p = c->node2pos[j->alloc_nodes[k]];
            tl_res_t need = { .cpus = j->alloc_cpus_per_node, .mem = j->alloc_mem_per_node };
            gres_need(n, j, &c->cap[p], &need);
            if (pass == 0 && (!btest(c->usable, p) || btest(c->claimed, p) ||
                              !tl_fits(&c->tl[p], 0, end, &need, n->ngres, NULL)))
                return FLURM_OK;
            if (pass == 1) {
                if (tl_take(&c->tl[p], 0, end, &need, n->ngres))
                    return FLURM_ENOMEM;
                node_idle_bits(c, p);
            }
        }
    if (times_insert(c, end))
        return FLURM_ENOMEM;
    return preempt_emit(c, i, FLURM_SCHED_PREEMPT_RESUME, 0);
}

/* Resumes, in order, the suspended jobs of tier MIN_TIER and above not yet looked at. */
static int resume_upto(ctx_t *c, uint32_t min_tier)
{
    for (; c->sus_next < c->nsus; c->sus_next++) {
        uint32_t i = c->sus[c->sus_next];
        if (c->in->parts[c->in->jobs[i].partition].priority_tier < min_tier)
            break;
        int rc = try_resume(c, i);
        if (rc)
            return rc;
    }
    return FLURM_OK;
}

/* Whether the node index can be used, building it on first use. */
static bool index_ready(ctx_t *c)
{
    if (c->mode != SCHED_MODE_INDEXED || c->index_state == INDEX_OFF)
        return false;
    if (c->index_state == INDEX_NONE)
        c->index_state = index_build(c) ? INDEX_OFF : INDEX_LIVE;
    return c->index_state == INDEX_LIVE;
}

/* Nodes for JP now (c->scratch holds its candidates): how many were picked into c->pick.
 * USE_INDEX: many failing nodes may turn the scan to the node index (not worth building for
 * the main pass alone). */
static uint32_t place_now(ctx_t *c, jprep_t *jp, bool use_index)
{
    if (c->mode == SCHED_MODE_INDEXED && !c->in->jobs[jp->idx].nreq_nodes && !c->any_claimed) {
        /* Scan the nodes with room now in position order (place() at 0) while few of them
         * fail; past PLACE_SCAN_MAX failures the index finds the rest faster, once there is
         * one or scans have failed often enough to pay for building it. */
        const uint64_t *filter = jp->excl ? c->idle_now : c->free_now;
        int64_t t1 = add_sat(0, jp->len), next;
        tl_res_t need;
        uint32_t got = 0, failed = 0;
        for (uint32_t w = 0; w < c->words && got < jp->want_max; w++) {
            uint64_t bits = c->scratch[w] & filter[w];
            while (bits && got < jp->want_max) {
                uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                if (node_fits(c, jp, p, 0, t1, &need, &next))
                    c->pick[got++] = p;
                else if (++failed == PLACE_SCAN_MAX + 1 && use_index &&
                         (c->index_state == INDEX_LIVE || c->scan_failed >= PLACE_BUILD_AFTER * c->nn) &&
                         index_ready(c)) {
                    index_classes(c, jp);
                    return index_place(c, jp, 0);
                }
            }
        }
        c->scan_failed += failed;
        return got >= jp->want_min ? got : 0;
    }
    c->cur_stamp++;
    int64_t mn = INT64_MAX;
    return place(c, jp, 0, &mn);
}

/* The reservation search: the first breakpoint time >= LB (and > 0) before the horizon at
 * which JP fits, into *WHEN (-1: none) with the nodes in c->pick (*GOT). */
static int earliest(ctx_t *c, jprep_t *jp, int64_t lb, int64_t *when, uint32_t *got)
{
    const flurm_sched_job_t *j = &c->in->jobs[jp->idx];
    uint32_t lo = 0, hi = c->ntimes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->times[mid] < lb)
            lo = mid + 1;
        else
            hi = mid;
    }
    *when = -1;
    *got = 0;
    if (!j->nreq_nodes && index_ready(c)) {
        if (lo == c->ntimes || c->times[lo] >= c->horizon || !c->nlev)
            return FLURM_OK;
        index_classes(c, jp);
        int64_t t;
        uint32_t pos = 0;
        int rc = jp->want_min == 1 ? index_earliest_one(c, jp, c->times[lo], &t, &pos)
                                   : index_earliest_many(c, jp, c->times[lo], &t);
        if (rc)
            return rc;
        if (t == INT64_MAX)
            return FLURM_OK;
        if (jp->want_max == 1) {
            c->pick[0] = pos;
            *got = 1;
        } else {
            *got = index_place(c, jp, t);
        }
        if (*got)
            *when = t;
        return FLURM_OK;
    }
    c->cur_stamp++;
    /* Between a failed try at t and the earliest time a failed node could fit again no
     * node can join the set, so the search jumps there. */
    for (uint32_t ti = lo; ti < c->ntimes && c->times[ti] < c->horizon;) {
        int64_t t = c->times[ti], mn = INT64_MAX;
        if ((*got = place(c, jp, t, &mn))) {
            *when = t;
            break;
        }
        if (mn == INT64_MAX || mn >= c->horizon)
            break;
        uint32_t a = ti + 1, b = c->ntimes;
        while (a < b) {
            uint32_t mid = a + (b - a) / 2;
            if (c->times[mid] < mn)
                a = mid + 1;
            else
                b = mid;
        }
        ti = a;
    }
    return FLURM_OK;
}

static int run(ctx_t *c)
{
    const flurm_sched_input_t *in = c->in;
    const flurm_sched_params_t *pa = &in->params;
    flurm_sched_output_t *o = c->out;
    uint32_t npend = 0;
    for (uint32_t i = 0; i < in->njobs; i++)
        npend += in->jobs[i].state == FLURM_SCHED_JOB_PENDING;
    o->stats.queue_length = npend;
    jprep_t *q = malloc((npend + 1) * sizeof *q);
    bool *blocked = calloc(in->nparts + 1, sizeof *blocked);
    c->arrs = malloc((npend + 1) * sizeof *c->arrs);
    o->starts = calloc(npend + 1, sizeof *o->starts);
    int rc = FLURM_ENOMEM;
    if (!q || !blocked || !c->arrs || !o->starts)
        goto out;
    /* array throttles: running counts per array, as the caller gave them */
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *j = &in->jobs[i];
        if (j->state == FLURM_SCHED_JOB_PENDING && j->array_job_id && j->array_task_limit)
            c->arrs[c->narrs++] = (arr_t){ j->array_job_id, j->array_running };
    }
    qsort(c->arrs, c->narrs, sizeof *c->arrs, cmp_arr);
    uint32_t na = 0;
    for (uint32_t k = 0; k < c->narrs; k++)
        if (!na || c->arrs[na - 1].id != c->arrs[k].id)
            c->arrs[na++] = c->arrs[k];
        else if (c->arrs[k].running > c->arrs[na - 1].running)
            c->arrs[na - 1].running = c->arrs[k].running;
    c->narrs = na;

    uint32_t nq = 0;
    for (uint32_t i = 0; i < in->njobs; i++) {
        const flurm_sched_job_t *j = &in->jobs[i];
        if (j->state != FLURM_SCHED_JOB_PENDING)
            continue;
        jprep_t jp;
        flurm_sched_reason_t r = prepare(c, i, &jp);
        o->jobs[i].reason = r;
        if (r != FLURM_SCHED_WAIT_NO_REASON)
            continue;
        if (j->features && *j->features && (rc = fexpr_intern(c, j->features, &jp.feat)))
            goto out;
        q[nq++] = jp;
    }
    rc = FLURM_ENOMEM;
    if (!(c->memo = calloc((size_t)in->nparts * (c->nfx + 1) + 1, sizeof *c->memo)) ||
        !(c->memo_sub = calloc((size_t)in->nparts * (c->nfx + 1) * in->nparts * (c->nfx + 1) + 1, 1)))
        goto out;
    if (queue_sort(c, &q, nq))
        goto out;
    if (!(c->sus = malloc((in->njobs + 1) * sizeof *c->sus)))
        goto out;
    for (uint32_t i = 0; i < in->njobs; i++)
        if (in->jobs[i].state == FLURM_SCHED_JOB_SUSPENDED)
            c->sus[c->nsus++] = i;
    qsort_r(c->sus, c->nsus, sizeof *c->sus, cmp_sus, c);
    bool preempt = preempt_enabled(c);

    /* main pass */
    uint64_t t0 = usec_now();
    uint32_t depth = pa->default_queue_depth ? pa->default_queue_depth : 100;
    for (uint32_t k = 0; k < nq && o->stats.main_depth < depth; k++) {
        jprep_t *jp = &q[k];
        const flurm_sched_job_t *j = &in->jobs[jp->idx];
        /* suspended jobs go before the pending jobs of their tier and below */
        if ((rc = resume_upto(c, in->parts[j->partition].priority_tier)))
            goto out;
        rc = FLURM_ENOMEM;
        if (blocked[j->partition]) {
            o->jobs[jp->idx].reason = FLURM_SCHED_WAIT_PRIORITY;
            continue;
        }
        o->stats.main_depth++;
        if (j->array_job_id && j->array_task_limit) {
            arr_t *a = arr_find(c, j->array_job_id);
            if (a && a->running >= j->array_task_limit) {
                o->jobs[jp->idx].reason = FLURM_SCHED_WAIT_ARRAY_TASK_LIMIT;
                continue;
            }
        }
        base_set(c, jp);
        memo_t *m = memo_get(c, jp, false);
        uint32_t got = 0;
        if (!(m && memo_find(m->fail, m->nfail, jp)))
            got = place_now(c, jp, false);
        if (got) {
            if ((rc = start_job(c, jp, got, false)))
                goto out;
            o->stats.started_main++;
            continue;
        }
        flurm_sched_reason_t never = never_reason(c, jp);
        if (never) {
            o->jobs[jp->idx].reason = never;
            continue;
        }
        if (preempt) {
            bool started = false;
            if ((rc = try_preempt(c, jp, false, &started)))
                goto out;
            rc = FLURM_ENOMEM;
            if (started) {
                o->stats.started_main++;
                continue;
            }
        }
        if ((m = memo_get(c, jp, true)))
            memo_add(m->fail, &m->nfail, jp, 0);
        o->jobs[jp->idx].reason = FLURM_SCHED_WAIT_RESOURCES;
        blocked[j->partition] = true;
    }
    if ((rc = resume_upto(c, 0)))
        goto out;
    rc = FLURM_ENOMEM;
    o->stats.main_usec = usec_now() - t0;
    if (!pa->backfill) {
        rc = FLURM_OK;
        goto unseen;
    }

    /* backfill pass */
    t0 = usec_now();
    if (c->mode == SCHED_MODE_INDEXED && (rc = key_choose(c, q, nq)))
        goto out;
    rc = FLURM_ENOMEM;
    memset(blocked, 0, (in->nparts + 1) * sizeof *blocked);
    /* bf_max_job_test counts the jobs given a full test (backfill.c bf_last_depth_try): each
     * one that starts now or is searched for a reservation; the pass ends at the limit */
    uint32_t max_test = pa->bf_max_job_test ? pa->bf_max_job_test : 500, tested = 0;
    for (uint32_t k = 0; k < nq && tested < max_test; k++) {
        jprep_t *jp = &q[k];
        const flurm_sched_job_t *j = &in->jobs[jp->idx];
        flurm_sched_job_result_t *r = &o->jobs[jp->idx];
        if (k + QUEUE_AHEAD < nq) {
            /* the queue is in priority order, the jobs in input order: fetch ahead */
            __builtin_prefetch(&in->jobs[q[k + QUEUE_AHEAD].idx]);
            __builtin_prefetch(&o->jobs[q[k + QUEUE_AHEAD].idx], 1);
        }
        if (jp->started || r->reason == FLURM_SCHED_WAIT_NODE_NOT_AVAIL)
            continue;
        o->stats.backfill_depth++;
        if (j->array_job_id && j->array_task_limit) {
            arr_t *a = arr_find(c, j->array_job_id);
            if (a && a->running >= j->array_task_limit) {
                r->reason = FLURM_SCHED_WAIT_ARRAY_TASK_LIMIT;
                continue;
            }
        }
        memo_t *m = memo_get(c, jp, false);
        bool based = false;
        uint32_t got = 0;
        if (!(m && memo_find(m->fail, m->nfail, jp))) {
            base_set(c, jp);
            based = true;
            got = place_now(c, jp, true);
        }
        if (got) {
            tested++;
            if ((rc = start_job(c, jp, got, true)))
                goto out;
            o->stats.started_backfill++;
            continue;
        }
        if (r->reason == FLURM_SCHED_WAIT_NO_REASON || r->reason == FLURM_SCHED_WAIT_PRIORITY ||
            r->reason == FLURM_SCHED_WAIT_RESOURCES) {
            if (!based) {
                base_set(c, jp);
                based = true;
            }
            /* a "fails now" record says nothing of whether it could ever run: ask always */
            flurm_sched_reason_t never = never_reason(c, jp);
            if (never) {
                r->reason = never;
                continue;
            }
            /* slurmctld's backfill tests a job with its preemptable jobs given back too
             * (backfill.c _try_sched): one that can start now by preempting does */
            if (preempt && !jp->claimed) {
                bool started = false;
                if ((rc = try_preempt(c, jp, true, &started)))
                    goto out;
                rc = FLURM_ENOMEM;
                if (started) {
                    tested++;
                    o->stats.started_backfill++;
                    continue;
                }
            }
            if (!(m && memo_find(m->fail, m->nfail, jp)) && (m = memo_get(c, jp, true)))
                memo_add(m->fail, &m->nfail, jp, 0);
            r->reason = blocked[j->partition] ? FLURM_SCHED_WAIT_PRIORITY : FLURM_SCHED_WAIT_RESOURCES;
            blocked[j->partition] = true;
        }
        tested++;
        if (m && memo_find(m->nowin, m->nnowin, jp))
            continue;
        /* earliest start: the first breakpoint time at which enough nodes hold the job for its
         * whole limit; a dominated earlier search bounds it from below (indexed mode only: the
         * reference search starts from the beginning, which checks that the bounds hold) */
        bool bounds = c->mode == SCHED_MODE_INDEXED && jp->memoable;
        if (bounds && bounds_find(c, jp, true, 0)) {
            /* what the search would have found: no start, noted as it would have been */
            if ((m = memo_get(c, jp, true)))
                memo_add(m->nowin, &m->nnowin, jp, 0);
            continue;
        }
        int64_t lb = bounds ? bounds_find(c, jp, false, 1) : 1;
        int64_t when;
        if ((rc = earliest(c, jp, lb, &when, &got)))
            goto out;
        if (when < 0) {
            if ((m = memo_get(c, jp, true))) {
                memo_add(m->nowin, &m->nnowin, jp, 0);
                bound_add(m->win, &m->nwin, jp, 1);
            }
            continue;
        }
        uint32_t cpn;
        uint64_t mem;
        if ((rc = commit(c, jp, when, got, &r->planned_nodes, &cpn, &mem)))
            goto out;
        r->nplanned_nodes = got;
        r->planned_start = pa->now + when;
        o->stats.reservations++;
        if ((m = memo_get(c, jp, true)))
            bound_add(m->lb, &m->nlb, jp, when);
    }
    o->stats.backfill_usec = usec_now() - t0;
    rc = FLURM_OK;
unseen:
    /* jobs no pass looked at (beyond the queue depth, or the backfill pass's bf_max_job_test)
     * wait behind higher ones */
    for (uint32_t k = 0; k < nq; k++)
        if (!q[k].started && o->jobs[q[k].idx].reason == FLURM_SCHED_WAIT_NO_REASON)
            o->jobs[q[k].idx].reason = FLURM_SCHED_WAIT_PRIORITY;
out:
    free(q);
    free(blocked);
    return rc;
}

int flurm_sched_run(const flurm_sched_input_t *in, flurm_sched_output_t *out)
{
    return flurm_sched_run_mode(in, out, SCHED_MODE_INDEXED);
}

int flurm_sched_run_mode(const flurm_sched_input_t *in, flurm_sched_output_t *out, sched_mode_t mode)
{
    if (!in || !out || !validate(in))
        return FLURM_EINVAL;
    flurm_sched_output_t o = { 0 };
    ctx_t c = { .in = in, .out = &o, .mode = mode };
    o.njobs = in->njobs;
    int rc = FLURM_ENOMEM;
    if (!(o.jobs = calloc(in->njobs + 1, sizeof *o.jobs)))
        goto fail;
    if ((rc = ctx_setup(&c)))
        goto fail;

    if ((rc = priorities(&c)) || (rc = run(&c)))
        goto fail;
    ctx_free(&c);
    *out = o;
    return FLURM_OK;
fail:
    ctx_free(&c);
    flurm_sched_output_free(&o);
    return rc;
}

void flurm_sched_output_free(flurm_sched_output_t *out)
{
    if (!out)
        return;
    for (uint32_t i = 0; i < out->nstarts; i++)
        free(out->starts[i].nodes);
    free(out->starts);
    for (uint32_t i = 0; out->jobs && i < out->njobs; i++)
        free(out->jobs[i].planned_nodes);
    free(out->jobs);
    free(out->preempts);
    *out = (flurm_sched_output_t){ 0 };
}
