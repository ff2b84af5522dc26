/* libflurm/sched/timeline.c — per-node free resources over time as sorted breakpoints
 * (sched/backfill's node_space map, src/plugins/sched/backfill/backfill.c, kept per node so a
 * reservation touches only the nodes it uses). Times are seconds after "now". */
#include <stdlib.h>
#include <string.h>

#include "sched/sched_internal.h"

int tl_init(tl_t *tl, const tl_res_t *now)
{
    tl->t = malloc(4 * sizeof *tl->t);
    tl->free = malloc(4 * sizeof *tl->free);
    if (!tl->t || !tl->free) {
        free(tl->t);
        free(tl->free);
        return FLURM_ENOMEM;
    }
    tl->cap = 4;
    tl->n = 1;
    tl->t[0] = 0;
    tl->free[0] = *now;
    return FLURM_OK;
}

void tl_destroy(tl_t *tl)
{
    free(tl->t);
    free(tl->free);
    *tl = (tl_t){ 0 };
}

uint32_t tl_find(const tl_t *tl, int64_t t)
{
    /* branch-free: the range [base, base + n) holds the answer, halved by a select */
    const int64_t *base = tl->t;
    for (uint32_t n = tl->n; n > 1;) {
        uint32_t half = n / 2;
        base = base[half] <= t ? base + half : base;
        n -= half;
    }
    return (uint32_t)(base - tl->t);
}

/* Makes T a breakpoint; returns its index or UINT32_MAX on ENOMEM. */
static uint32_t tl_split(tl_t *tl, int64_t t)
{
    uint32_t i = tl_find(tl, t);
    if (tl->t[i] == t)
        return i;
    if (tl->n == tl->cap) {
        int64_t *nt = realloc(tl->t, 2 * tl->cap * sizeof *nt);
        if (!nt)
            return UINT32_MAX;
        tl->t = nt;
        tl_res_t *nf = realloc(tl->free, 2 * tl->cap * sizeof *nf);
        if (!nf)
            return UINT32_MAX;
        tl->free = nf;
        tl->cap *= 2;
    }
    memmove(&tl->t[i + 2], &tl->t[i + 1], (tl->n - i - 1) * sizeof *tl->t);
    memmove(&tl->free[i + 2], &tl->free[i + 1], (tl->n - i - 1) * sizeof *tl->free);
    tl->t[i + 1] = t;
    tl->free[i + 1] = tl->free[i];
    tl->n++;
    return i + 1;
}

void tl_res_add(tl_res_t *a, const tl_res_t *r, uint32_t ngres)
{
    a->cpus += r->cpus;
    a->mem += r->mem;
    for (uint32_t g = 0; g < ngres; g++)
        a->gres[g] += r->gres[g];
}

static void res_sub(tl_res_t *a, const tl_res_t *r, uint32_t ngres)
{
    a->cpus = a->cpus > r->cpus ? a->cpus - r->cpus : 0;
    a->mem = a->mem > r->mem ? a->mem - r->mem : 0;
    for (uint32_t g = 0; g < ngres; g++)
        a->gres[g] = a->gres[g] > r->gres[g] ? a->gres[g] - r->gres[g] : 0;
}

void tl_res_min(tl_res_t *m, const tl_res_t *f, uint32_t ngres)
{
    if (f->cpus < m->cpus)
        m->cpus = f->cpus;
    if (f->mem < m->mem)
        m->mem = f->mem;
    for (uint32_t g = 0; g < ngres; g++)
        if (f->gres[g] < m->gres[g])
            m->gres[g] = f->gres[g];
}

bool tl_res_ge(const tl_res_t *a, const tl_res_t *need, uint32_t ngres)
{
    if (a->cpus < need->cpus || a->mem < need->mem)
        return false;
    for (uint32_t g = 0; g < ngres; g++)
        if (a->gres[g] < need->gres[g])
            return false;
    return true;
}

int tl_release(tl_t *tl, int64_t t, const tl_res_t *r, uint32_t ngres)
{
    uint32_t i = tl_split(tl, t);
    if (i == UINT32_MAX)
        return FLURM_ENOMEM;
    for (; i < tl->n; i++)
        tl_res_add(&tl->free[i], r, ngres);
    return FLURM_OK;
}

void tl_min(const tl_t *tl, int64_t t0, int64_t t1, uint32_t ngres, tl_res_t *min)
{
    uint32_t i = tl_find(tl, t0);
    *min = tl->free[i];
    for (i++; i < tl->n && tl->t[i] < t1; i++)
        tl_res_min(min, &tl->free[i], ngres);
}

bool tl_fits(const tl_t *tl, int64_t t0, int64_t t1, const tl_res_t *need, uint32_t ngres, int64_t *next)
{
    for (uint32_t i = tl_find(tl, t0); i < tl->n && tl->t[i] < t1; i++)
        if (!tl_res_ge(&tl->free[i], need, ngres)) {
            if (next)
                *next = i + 1 < tl->n ? tl->t[i + 1] : INT64_MAX;
            return false;
        }
    return true;
}

/* Splits at T0 and T1 (T1 = INT64_MAX: to the end) so that rows [*I0, *I1) are exactly [T0, T1). */
static int tl_span(tl_t *tl, int64_t t0, int64_t t1, uint32_t *i0, uint32_t *i1)
{
    if ((*i0 = tl_split(tl, t0)) == UINT32_MAX)
        return FLURM_ENOMEM;
    *i1 = tl->n;
    if (t1 != INT64_MAX && (*i1 = tl_split(tl, t1)) == UINT32_MAX)
        return FLURM_ENOMEM;
    return FLURM_OK;
}

int tl_take(tl_t *tl, int64_t t0, int64_t t1, const tl_res_t *r, uint32_t ngres)
{
    uint32_t i0, i1;
    if (tl_span(tl, t0, t1, &i0, &i1) != FLURM_OK)
        return FLURM_ENOMEM;
    for (uint32_t i = i0; i < i1; i++)
        res_sub(&tl->free[i], r, ngres);
    return FLURM_OK;
}

static bool res_empty(const tl_res_t *a, uint32_t ngres)
{
    bool empty = !a->cpus && !a->mem;
    for (uint32_t g = 0; g < ngres; g++)
        empty = empty && !a->gres[g];
    return empty;
}

/* Drops the N breakpoints from I on (0 < I, I + N <= n). */
static void tl_drop(tl_t *tl, uint32_t i, uint32_t n)
{
    memmove(&tl->t[i], &tl->t[i + n], (tl->n - i - n) * sizeof *tl->t);
    memmove(&tl->free[i], &tl->free[i + n], (tl->n - i - n) * sizeof *tl->free);
    tl->n -= n;
}

int tl_block(tl_t *tl, int64_t t0, int64_t t1, uint32_t ngres)
{
    uint32_t i0, i1;
    if (tl_span(tl, t0, t1, &i0, &i1) != FLURM_OK)
        return FLURM_ENOMEM;
    /* one empty stretch over [t0, t1), merged with empty neighbours */
    tl->free[i0] = (tl_res_t){ 0 };
    tl_drop(tl, i0 + 1, i1 - i0 - 1);
    if (i0 + 1 < tl->n && res_empty(&tl->free[i0 + 1], ngres))
        tl_drop(tl, i0 + 1, 1);
    if (i0 && res_empty(&tl->free[i0 - 1], ngres))
        tl_drop(tl, i0, 1);
    return FLURM_OK;
}

void tl_run_starts(const tl_t *tl, const tl_res_t *need, uint32_t ngres, int64_t lim, const int64_t *lens,
                   uint32_t nlen, int64_t *out)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < tl->n && tl->t[i] < lim && k < nlen;) {
        if (!tl_res_ge(&tl->free[i], need, ngres)) {
            i++;
            continue;
        }
        int64_t a = tl->t[i];
        while (++i < tl->n && tl_res_ge(&tl->free[i], need, ngres))
            ;
        int64_t e = i < tl->n ? tl->t[i] : INT64_MAX;
        while (k < nlen && (e == INT64_MAX || (lens[k] != INT64_MAX && e - a >= lens[k])))
            out[k++] = a;
    }
    while (k < nlen)
        out[k++] = INT64_MAX;
}

/* A stretch that began at A (key KA) ends at E: every length from *DONE on that fits in it
 * gets KA (lengths ascend, so they are given in order). */
static void keys_close(uint32_t *done, int64_t a, uint16_t ka, int64_t e, const int64_t *lens, uint32_t nlen,
                       uint16_t *out)
{
    while (*done < nlen && (e == INT64_MAX || (lens[*done] != INT64_MAX && e - a >= lens[*done])))
        out[(*done)++] = ka;
}

void tl_run_keys_nested(const tl_t *tl, const uint32_t *cpus, const uint64_t *mem, uint32_t nr,
                        const tl_res_t *whole, uint32_t ngres, int64_t lim, int64_t res, uint16_t none,
                        const int64_t *lens, uint32_t nlen, uint16_t *out)
{
    int64_t start[TL_NESTED_MAX + 1];
    uint16_t key[TL_NESTED_MAX + 1];
    uint32_t done[TL_NESTED_MAX + 1] = { 0 };
    uint16_t *wout = &out[(size_t)nr * nlen];
    uint32_t h = 0;       /* needs [0, h) are within a stretch that holds them */
    uint32_t full = 0;    /* needs [0, full) have a start for every length */
    bool in_w = false;    /* within a stretch that holds WHOLE */
    bool w_full = !whole;
    for (uint32_t i = 0; i < tl->n && (full < nr || !w_full); i++) {
        const tl_res_t *f = &tl->free[i];
        int64_t t = tl->t[i];
        uint32_t hn = h;   /* nested: the needs held are a prefix, found from the last one */
        while (hn && (cpus[hn - 1] > f->cpus || mem[hn - 1] > f->mem))
            hn--;
        while (hn < nr && cpus[hn] <= f->cpus && mem[hn] <= f->mem)
            hn++;
        bool wn = whole && tl_res_ge(f, whole, ngres);
        if (t >= lim) {   /* a stretch must begin before the limit */
            hn = hn > h ? h : hn;
            wn = wn && in_w;
        }
        for (uint32_t r = hn; r < h; r++)
            keys_close(&done[r], start[r], key[r], t, lens, nlen, &out[(size_t)r * nlen]);
        if (in_w && !wn)
            keys_close(&done[nr], start[nr], key[nr], t, lens, nlen, wout);
        if (hn > h || (wn && !in_w)) {
            uint16_t k = (uint16_t)(t / res);   /* one division for every need opening here */
            for (uint32_t r = h; r < hn; r++) {
                start[r] = t;
                key[r] = k;
            }
            if (wn && !in_w) {
                start[nr] = t;
                key[nr] = k;
            }
        }
        h = hn;
        in_w = wn;
        while (full < nr && done[full] == nlen)
            full++;
        w_full = w_full || done[nr] == nlen;
        if (t >= lim && !h && !in_w)
            break;
    }
    for (uint32_t r = 0; r < h; r++)
        keys_close(&done[r], start[r], key[r], INT64_MAX, lens, nlen, &out[(size_t)r * nlen]);
    if (in_w)
        keys_close(&done[nr], start[nr], key[nr], INT64_MAX, lens, nlen, wout);
    for (uint32_t r = 0; r < nr + (whole != NULL); r++)
        for (uint32_t k = done[r]; k < nlen; k++)
            out[(size_t)r * nlen + k] = none;
}
