/* libflurm/sched/expr.c — --constraint expressions: NAME, A&B, A|B, (A), '&' binding tighter
 * than '|' (SLURM's node_features evaluation in src/slurmctld/node_scheduler.c treats a flat
 * list left to right; with mixed operators and no parentheses we follow C precedence, which
 * is what every example in the sbatch man page means). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_internal.h"

typedef struct parser {
    const char *p;
    int err;
} parser_t;

static void skip_ws(parser_t *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static flurm_sched_expr_t *node_new(expr_kind_t k, flurm_sched_expr_t *l, flurm_sched_expr_t *r)
{
    flurm_sched_expr_t *e = calloc(1, sizeof *e);
    if (!e) {
        flurm_sched_expr_free(l);
        flurm_sched_expr_free(r);
        return NULL;
    }
    e->kind = k;
    e->l = l;
    e->r = r;
    return e;
}

static flurm_sched_expr_t *parse_or(parser_t *ps);

static flurm_sched_expr_t *parse_atom(parser_t *ps)
{
    skip_ws(ps);
    if (*ps->p == '(') {
        ps->p++;
        flurm_sched_expr_t *e = parse_or(ps);
        if (!e)
            return NULL;
        skip_ws(ps);
        if (*ps->p != ')') {
            flurm_sched_expr_free(e);
            ps->err = FLURM_EINVAL;
            return NULL;
        }
        ps->p++;
        return e;
    }
    size_t n = 0;
    while (ps->p[n] && (isalnum((unsigned char)ps->p[n]) || strchr("_-.:+/", ps->p[n])))
        n++;
    if (!n) {
        ps->err = FLURM_EINVAL;
        return NULL;
    }
    flurm_sched_expr_t *e = calloc(1, sizeof *e);
    if (!e || !(e->name = strndup(ps->p, n))) {
        free(e);
        ps->err = FLURM_ENOMEM;
        return NULL;
    }
    e->kind = EXPR_LEAF;
    ps->p += n;
    return e;
}

static flurm_sched_expr_t *parse_and(parser_t *ps)
{
    flurm_sched_expr_t *l = parse_atom(ps);
    while (l) {
        skip_ws(ps);
        if (*ps->p != '&')
            break;
        ps->p++;
        flurm_sched_expr_t *r = parse_atom(ps);
        if (!r) {
            flurm_sched_expr_free(l);
            return NULL;
        }
        if (!(l = node_new(EXPR_AND, l, r)))
            ps->err = FLURM_ENOMEM;
    }
    return l;
}

static flurm_sched_expr_t *parse_or(parser_t *ps)
{
    flurm_sched_expr_t *l = parse_and(ps);
    while (l) {
        skip_ws(ps);
        if (*ps->p != '|')
            break;
        ps->p++;
        flurm_sched_expr_t *r = parse_and(ps);
        if (!r) {
            flurm_sched_expr_free(l);
            return NULL;
        }
        if (!(l = node_new(EXPR_OR, l, r)))
            ps->err = FLURM_ENOMEM;
    }
    return l;
}

int flurm_sched_expr_parse(const char *s, flurm_sched_expr_t **out)
{
    if (!s || !out)
        return FLURM_EINVAL;
    parser_t ps = { .p = s, .err = FLURM_OK };
    flurm_sched_expr_t *e = parse_or(&ps);
    if (e) {
        skip_ws(&ps);
        if (*ps.p) {
            flurm_sched_expr_free(e);
            return FLURM_EINVAL;
        }
        *out = e;
        return FLURM_OK;
    }
    return ps.err ? ps.err : FLURM_EINVAL;
}

bool flurm_sched_expr_match(const flurm_sched_expr_t *e, const char *const *feat, uint32_t nfeat)
{
    if (!e)
        return true;
    switch (e->kind) {
    case EXPR_AND: return flurm_sched_expr_match(e->l, feat, nfeat) && flurm_sched_expr_match(e->r, feat, nfeat);
    case EXPR_OR: return flurm_sched_expr_match(e->l, feat, nfeat) || flurm_sched_expr_match(e->r, feat, nfeat);
    case EXPR_LEAF:
        for (uint32_t i = 0; i < nfeat; i++)
            if (feat[i] && !strcmp(feat[i], e->name))
                return true;
        return false;
    }
    return false;
}

static size_t expr_len(const flurm_sched_expr_t *e)
{
    return e->kind == EXPR_LEAF ? strlen(e->name) : 3 + expr_len(e->l) + expr_len(e->r);
}

static char *expr_put(const flurm_sched_expr_t *e, char *p)
{
    if (e->kind == EXPR_LEAF) {
        size_t n = strlen(e->name);
        memcpy(p, e->name, n);
        return p + n;
    }
    *p++ = '(';
    p = expr_put(e->l, p);
    *p++ = e->kind == EXPR_AND ? '&' : '|';
    p = expr_put(e->r, p);
    *p++ = ')';
    return p;
}

char *flurm_sched_expr_str(const flurm_sched_expr_t *e)
{
    if (!e)
        return strdup("");
    char *s = malloc(expr_len(e) + 1);
    if (s)
        *expr_put(e, s) = '\0';
    return s;
}

void flurm_sched_expr_free(flurm_sched_expr_t *e)
{
    if (!e)
        return;
    flurm_sched_expr_free(e->l);
    flurm_sched_expr_free(e->r);
    free(e->name);
    free(e);
}
