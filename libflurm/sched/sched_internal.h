/* libflurm/sched/sched_internal.h — pieces of the scheduler shared with its unit tests:
 * the feature-expression tree and per-node resource timelines. */
#ifndef FLURM_SCHED_INTERNAL_H
#define FLURM_SCHED_INTERNAL_H

#include <flurm/sched.h>

typedef enum expr_kind { EXPR_LEAF, EXPR_AND, EXPR_OR } expr_kind_t;

struct flurm_sched_expr {
    expr_kind_t kind;
    char *name;                          /* EXPR_LEAF */
    struct flurm_sched_expr *l, *r;      /* EXPR_AND / EXPR_OR */
};

/* Free resources of a node over a stretch of time. */
typedef struct tl_res {
    uint32_t cpus;
    uint32_t gres[FLURM_SCHED_GRES_MAX];
    uint64_t mem;
} tl_res_t;

/* A node's timeline: breakpoints t[0..n) ascending, the first at 0, no two equal; from t[i]
 * until t[i + 1] (the last: forever), free[i] is available. The times are an array of their
 * own so a search over them touches few cache lines. */
typedef struct tl {
    int64_t *t;
    tl_res_t *free;
    uint32_t n, cap;
} tl_t;

int tl_init(tl_t *tl, const tl_res_t *now);
void tl_destroy(tl_t *tl);
/* Index of the last breakpoint at or before T (T >= 0). */
uint32_t tl_find(const tl_t *tl, int64_t t);
/* Adds R to everything from T on (a running job ends at T). */
int tl_release(tl_t *tl, int64_t t, const tl_res_t *r, uint32_t ngres);
/* Minimum free over [T0, T1) into *MIN. */
void tl_min(const tl_t *tl, int64_t t0, int64_t t1, uint32_t ngres, tl_res_t *min);
/* True when NEED fits over [T0, T1); else *NEXT = the earliest start worth trying after T0. */
bool tl_fits(const tl_t *tl, int64_t t0, int64_t t1, const tl_res_t *need, uint32_t ngres, int64_t *next);
/* Subtracts R over [T0, T1) (the caller checked it fits). */
int tl_take(tl_t *tl, int64_t t0, int64_t t1, const tl_res_t *r, uint32_t ngres);
/* Nothing free over [T0, T1): a backfill reservation holds the whole node (slurmctld's
 * backfill.c _add_reservation takes the job's nodes out of the map for its span); an empty
 * stretch next to it is merged into it. */
int tl_block(tl_t *tl, int64_t t0, int64_t t1, uint32_t ngres);
/* Adds R to *A: CPUs, memory and the first NGRES gres entries. */
void tl_res_add(tl_res_t *a, const tl_res_t *r, uint32_t ngres);
/* *M becomes the least of itself and F, entry by entry (CPUs, memory, the first NGRES gres). */
void tl_res_min(tl_res_t *m, const tl_res_t *f, uint32_t ngres);
/* Whether A holds NEED: CPUs, memory and the first NGRES gres entries. */
bool tl_res_ge(const tl_res_t *a, const tl_res_t *need, uint32_t ngres);
/* Per length LENS[k] (ascending; INT64_MAX: unlimited), the start of the first stretch that
 * begins before LIM during which the free resources hold NEED (tl_res_ge over NGRES gres) for
 * at least that long, into OUT[k]; INT64_MAX when there is none. One need, the plain way: the
 * reference tl_run_keys_nested is tested against. */
void tl_run_starts(const tl_t *tl, const tl_res_t *need, uint32_t ngres, int64_t lim, const int64_t *lens,
                   uint32_t nlen, int64_t *out);

/* tl_run_starts for NR nested needs at once, in one walk, as 16-bit keys: need r asks for
 * CPUS[r] CPUs and MEM[r] memory (no gres), both nondecreasing in r, so a stretch holding need
 * r holds every need before it. WHOLE, when not NULL, is one more need after them (row NR:
 * CPUs, memory and the first NGRES gres; nested or not). Per need r and length LENS[k], the
 * start as START / RES into OUT[r * NLEN + k], NONE where there is none (START / RES must fit
 * in 16 bits for every start before LIM). NR <= TL_NESTED_MAX. */
#define TL_NESTED_MAX 64
void tl_run_keys_nested(const tl_t *tl, const uint32_t *cpus, const uint64_t *mem, uint32_t nr,
                        const tl_res_t *whole, uint32_t ngres, int64_t lim, int64_t res, uint16_t none,
                        const int64_t *lens, uint32_t nlen, uint16_t *out);

/* How flurm_sched_run_mode decides (the results are the same; only the work differs). */
typedef enum sched_mode {
    SCHED_MODE_INDEXED = 0,   /* what flurm_sched_run does: the node index with start keys */
    SCHED_MODE_REFERENCE,     /* the straightforward scan over every node at every breakpoint */
} sched_mode_t;
int flurm_sched_run_mode(const flurm_sched_input_t *in, flurm_sched_output_t *out, sched_mode_t mode);

#endif
