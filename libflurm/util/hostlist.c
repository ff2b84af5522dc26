/* libflurm/util/hostlist.c — see include/flurm/hostlist.h. */
#include <flurm/hostlist.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A run of hosts PREFIX + lo..hi, each number printed "%0*llu" with WIDTH. WIDTH is normalised
 * to 0 unless it actually pads LO (then every number in the run prints identically with any
 * width <= digits(lo), so one canonical value suffices). A SINGLE range is the one host PREFIX
 * (a name without a numeric suffix; lo = hi = 0). */
typedef struct hl_range {
    char *prefix;
    unsigned long long lo, hi;
    int width;
    bool single;
} hl_range_t;

struct flurm_hostlist {
    hl_range_t *r;
    size_t *first;   /* first[k]: list index of r[k]'s first host */
    size_t nr, cap;
    size_t count;
    char *scratch;   /* flurm_hostlist_get's result */
    size_t scratch_cap;
};

#define MAX_DIGITS 18   /* longer numeric suffixes are treated as plain text */

static int ndigits(unsigned long long v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int norm_width(unsigned long long lo, int width) { return width > ndigits(lo) ? width : 0; }

static size_t range_count(const hl_range_t *r) { return r->single ? 1 : (size_t)(r->hi - r->lo + 1); }

/* Width usable for both A (ending at A->hi) followed by B, or -1 if their padding differs
 * (SLURM's _width_equiv in hostlist.c). */
static int width_join(const hl_range_t *a, const hl_range_t *b)
{
    if (a->width == b->width)
        return a->width;
    if (a->width == 0)   /* A unpadded: any width <= digits(a->lo) prints A unchanged */
        return b->width <= ndigits(a->lo) ? b->width : -1;
    return a->width <= ndigits(b->lo) ? a->width : -1;
}

static int reserve(flurm_hostlist_t *hl, size_t extra)
{
    if (hl->nr + extra <= hl->cap)
        return FLURM_OK;
    size_t cap = hl->cap ? hl->cap : 4;
    while (cap < hl->nr + extra)
        cap *= 2;
    hl_range_t *r = realloc(hl->r, cap * sizeof *r);
    if (!r)
        return FLURM_ENOMEM;
    hl->r = r;
    size_t *f = realloc(hl->first, cap * sizeof *f);
    if (!f)
        return FLURM_ENOMEM;
    hl->first = f;
    hl->cap = cap;
    return FLURM_OK;
}

/* Appends R (taking ownership of its prefix) after reserve() made room; joins it to the tail
 * when it continues the tail's run (SLURM's hostlist_push_range). */
static void append_reserved(flurm_hostlist_t *hl, hl_range_t r)
{
    if (hl->nr > 0) {
        hl_range_t *t = &hl->r[hl->nr - 1];
        int w;
        if (!t->single && !r.single && t->hi + 1 == r.lo && strcmp(t->prefix, r.prefix) == 0 &&
            (w = width_join(t, &r)) >= 0) {
            t->hi = r.hi;
            t->width = norm_width(t->lo, w);
            hl->count += range_count(&r);
            free(r.prefix);
            return;
        }
    }
    hl->first[hl->nr] = hl->count;
    hl->r[hl->nr++] = r;
    hl->count += range_count(&r);
}

static int append(flurm_hostlist_t *hl, const char *prefix, size_t plen, unsigned long long lo,
                  unsigned long long hi, int width, bool single)
{
    if (reserve(hl, 1) != FLURM_OK)
        return FLURM_ENOMEM;
    char *p = strndup(prefix, plen);
    if (!p)
        return FLURM_ENOMEM;
    append_reserved(hl, (hl_range_t){ .prefix = p, .lo = lo, .hi = hi,
                                      .width = single ? 0 : norm_width(lo, width), .single = single });
    return FLURM_OK;
}

/* A host name split like SLURM's hostname_create: trailing decimal digits are the number. */
static int append_name(flurm_hostlist_t *hl, const char *name, size_t len)
{
    size_t d = len;
    while (d > 0 && isdigit((unsigned char)name[d - 1]))
        d--;
    size_t nd = len - d;
    if (nd == 0 || nd > MAX_DIGITS)
        return append(hl, name, len, 0, 0, 0, true);
    unsigned long long v = strtoull(name + d, NULL, 10);
    return append(hl, name, d, v, v, (int)nd, false);
}

flurm_hostlist_t *flurm_hostlist_new(void)
{
    return calloc(1, sizeof(flurm_hostlist_t));
}

void flurm_hostlist_free(flurm_hostlist_t *hl)
{
    if (!hl)
        return;
    for (size_t i = 0; i < hl->nr; i++)
        free(hl->r[i].prefix);
    free(hl->r);
    free(hl->first);
    free(hl->scratch);
    free(hl);
}

/* ---- parsing ---- */

typedef struct {
    unsigned long long lo, hi;
    int width;
} num_range_t;

typedef struct {
    const char *lit;   /* literal text before this group */
    size_t lit_len;
    num_range_t *rng;
    size_t nrng;
    unsigned long long total;
} group_t;

static int parse_num(const char *s, size_t n, unsigned long long *v)
{
    if (n == 0 || n > MAX_DIGITS)
        return FLURM_EINVAL;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return FLURM_EINVAL;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return FLURM_OK;
}

/* Parses the inside of one bracket, S[0..N), into G. */
static int parse_group(const char *s, size_t n, group_t *g)
{
    size_t cap = 0;
    g->rng = NULL;
    g->nrng = 0;
    g->total = 0;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *dash = memchr(s + i, '-', j - i);
        num_range_t r;
        size_t lo_len = dash ? (size_t)(dash - (s + i)) : j - i;
        if (parse_num(s + i, lo_len, &r.lo) != FLURM_OK)
            return FLURM_EINVAL;
        r.hi = r.lo;
        if (dash && parse_num(dash + 1, (size_t)(s + j - dash - 1), &r.hi) != FLURM_OK)
            return FLURM_EINVAL;
        if (r.hi < r.lo || r.hi - r.lo >= FLURM_HOSTLIST_MAX_RANGE)
            return FLURM_EINVAL;
        r.width = (int)lo_len;
        g->total += r.hi - r.lo + 1;
        if (g->total > FLURM_HOSTLIST_MAX_RANGE)
            return FLURM_EINVAL;
        if (g->nrng == cap) {
            cap = cap ? cap * 2 : 4;
            num_range_t *nr = realloc(g->rng, cap * sizeof *nr);
            if (!nr)
                return FLURM_ENOMEM;
            g->rng = nr;
        }
        g->rng[g->nrng++] = r;
        if (j == n)
            return FLURM_OK;
        i = j + 1;
    }
}

/* Expands one item S[0..N) (no top-level separators) onto HL. */
static int parse_item(flurm_hostlist_t *hl, const char *s, size_t n)
{
    group_t groups[16];
    size_t ng = 0;
    size_t pos = 0, lit = 0;
    int rc = FLURM_OK;
    while (pos < n) {
        if (s[pos] == ']') {
            rc = FLURM_EINVAL;
            goto out;
        }
        if (s[pos] != '[') {
            pos++;
            continue;
        }
        size_t close = pos + 1;
        while (close < n && s[close] != ']' && s[close] != '[')
            close++;
        if (close == n || s[close] != ']' || ng == sizeof groups / sizeof groups[0]) {
            rc = FLURM_EINVAL;
            goto out;
        }
        groups[ng] = (group_t){ .lit = s + lit, .lit_len = pos - lit };
        rc = parse_group(s + pos + 1, close - pos - 1, &groups[ng]);
        ng++;
        if (rc != FLURM_OK)
            goto out;
        pos = lit = close + 1;
    }
    if (ng == 0)
        return append_name(hl, s, n);
    if (lit != n) {   /* text after the last ']' (rejected by SLURM's _hostlist_create_bracketed) */
        rc = FLURM_EINVAL;
        goto out;
    }
    unsigned long long combos = 1;
    for (size_t g = 0; g + 1 < ng; g++) {
        combos *= groups[g].total;
        if (combos * groups[ng - 1].total > FLURM_HOSTLIST_MAX_RANGE) {
            rc = FLURM_EINVAL;
            goto out;
        }
    }
    /* Odometer over the prefix groups (all but the last), leftmost slowest. */
    size_t ri[16] = { 0 };
    unsigned long long cur[16];
    for (size_t g = 0; g + 1 < ng; g++)
        cur[g] = groups[g].rng[0].lo;
    size_t plen_max = 1;
    for (size_t g = 0; g < ng; g++)
        plen_max += groups[g].lit_len + 24;
    char *prefix = malloc(plen_max);
    if (!prefix) {
        rc = FLURM_ENOMEM;
        goto out;
    }
    for (;;) {
        size_t pl = 0;
        for (size_t g = 0; g + 1 < ng; g++) {
            memcpy(prefix + pl, groups[g].lit, groups[g].lit_len);
            pl += groups[g].lit_len;
            pl += (size_t)sprintf(prefix + pl, "%0*llu", groups[g].rng[ri[g]].width, cur[g]);
        }
        memcpy(prefix + pl, groups[ng - 1].lit, groups[ng - 1].lit_len);
        pl += groups[ng - 1].lit_len;
        const group_t *last = &groups[ng - 1];
        for (size_t k = 0; k < last->nrng && rc == FLURM_OK; k++)
            rc = append(hl, prefix, pl, last->rng[k].lo, last->rng[k].hi, last->rng[k].width, false);
        if (rc != FLURM_OK)
            break;
        size_t g = ng - 1;
        while (g > 0) {
            g--;
            if (cur[g] < groups[g].rng[ri[g]].hi) {
                cur[g]++;
                break;
            }
            if (ri[g] + 1 < groups[g].nrng) {
                ri[g]++;
                cur[g] = groups[g].rng[ri[g]].lo;
                break;
            }
            ri[g] = 0;
            cur[g] = groups[g].rng[0].lo;
            if (g == 0)
                goto done;
        }
        if (ng == 1)
            break;
    }
done:
    free(prefix);
out:
    for (size_t g = 0; g < ng; g++)
        free(groups[g].rng);
    return rc;
}

static bool is_sep(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n'; }

static int parse_into(flurm_hostlist_t *hl, const char *expr)
{
    if (!expr)
        return FLURM_OK;
    const char *p = expr;
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        int depth = 0;
        while (*p && (depth > 0 || !is_sep(*p))) {
            if (*p == '[')
                depth++;
            else if (*p == ']')
                depth--;
            if (depth < 0 || depth > 1)
                return FLURM_EINVAL;
            p++;
        }
        if (depth != 0)
            return FLURM_EINVAL;
        int rc = parse_item(hl, start, (size_t)(p - start));
        if (rc != FLURM_OK)
            return rc;
    }
    return FLURM_OK;
}

flurm_hostlist_t *flurm_hostlist_parse(const char *expr, flurm_err_t *err)
{
    flurm_hostlist_t *hl = flurm_hostlist_new();
    int rc = hl ? parse_into(hl, expr) : FLURM_ENOMEM;
    if (rc != FLURM_OK) {
        flurm_hostlist_free(hl);
        if (err)
            *err = (flurm_err_t)rc;
        return NULL;
    }
    if (err)
        *err = FLURM_OK;
    return hl;
}

int flurm_hostlist_push(flurm_hostlist_t *hl, const char *expr)
{
    if (!hl)
        return FLURM_EINVAL;
    flurm_err_t err;
    flurm_hostlist_t *tmp = flurm_hostlist_parse(expr, &err);
    if (!tmp)
        return err;
    if (reserve(hl, tmp->nr) != FLURM_OK) {
        flurm_hostlist_free(tmp);
        return FLURM_ENOMEM;
    }
    for (size_t i = 0; i < tmp->nr; i++)
        append_reserved(hl, tmp->r[i]);
    tmp->nr = 0;
    flurm_hostlist_free(tmp);
    return FLURM_OK;
}

int flurm_hostlist_push_host(flurm_hostlist_t *hl, const char *name)
{
    if (!hl || !name || !*name)
        return FLURM_EINVAL;
    return append_name(hl, name, strlen(name));
}

size_t flurm_hostlist_count(const flurm_hostlist_t *hl) { return hl ? hl->count : 0; }

/* Range holding host I (I < count). */
static size_t find_range(const flurm_hostlist_t *hl, size_t i)
{
    size_t lo = 0, hi = hl->nr;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (hl->first[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int format_host(const hl_range_t *r, unsigned long long num, char *buf, size_t size)
{
    int n = r->single ? snprintf(buf, size, "%s", r->prefix)
                      : snprintf(buf, size, "%s%0*llu", r->prefix, r->width, num);
    return n;
}

int flurm_hostlist_nth(const flurm_hostlist_t *hl, size_t i, char *buf, size_t size)
{
    if (!hl || i >= hl->count)
        return FLURM_ERANGE;
    const hl_range_t *r = &hl->r[find_range(hl, i)];
    unsigned long long num = r->lo + (i - hl->first[r - hl->r]);
    int n = format_host(r, num, NULL, 0);
    if (!buf || (size_t)n >= size)
        return FLURM_ENOSPC;
    format_host(r, num, buf, size);
    return FLURM_OK;
}

const char *flurm_hostlist_get(const flurm_hostlist_t *chl, size_t i)
{
    /* The list object itself is never const (it comes from malloc), so caching is fine. */
    flurm_hostlist_t *hl = (flurm_hostlist_t *)chl;
    if (!hl || i >= hl->count)
        return NULL;
    const hl_range_t *r = &hl->r[find_range(hl, i)];
    size_t need = strlen(r->prefix) + 24;
    if (hl->scratch_cap < need) {
        char *s = realloc(hl->scratch, need);
        if (!s)
            return NULL;
        hl->scratch = s;
        hl->scratch_cap = need;
    }
    format_host(r, r->lo + (i - hl->first[r - hl->r]), hl->scratch, hl->scratch_cap);
    return hl->scratch;
}

ptrdiff_t flurm_hostlist_find(const flurm_hostlist_t *hl, const char *name)
{
    if (!hl || !name)
        return -1;
    size_t len = strlen(name), d = len;
    while (d > 0 && isdigit((unsigned char)name[d - 1]))
        d--;
    for (size_t k = 0; k < hl->nr; k++) {
        const hl_range_t *r = &hl->r[k];
        if (r->single) {
            if (strcmp(r->prefix, name) == 0)
                return (ptrdiff_t)hl->first[k];
            continue;
        }
        size_t pl = strlen(r->prefix);
        if (pl >= len || strncmp(r->prefix, name, pl) != 0 || pl < d)
            continue;
        /* The rest must be digits that this range prints exactly. */
        unsigned long long v;
        if (parse_num(name + pl, len - pl, &v) != FLURM_OK || v < r->lo || v > r->hi)
            continue;
        int w = ndigits(v);
        int printed = r->width > w ? r->width : w;
        if ((size_t)printed == len - pl)
            return (ptrdiff_t)(hl->first[k] + (v - r->lo));
    }
    return -1;
}

/* ---- compress ---- */

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...) FLURM_PRINTF(2, 3);
static void sb_add(sbuf_t *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Same bracket in SLURM's ranged string (hostrange_within_range): same prefix, both numbered. */
static bool within(const hl_range_t *a, const hl_range_t *b)
{
    return !a->single && !b->single && strcmp(a->prefix, b->prefix) == 0;
}

char *flurm_hostlist_compress(const flurm_hostlist_t *hl)
{
    sbuf_t b = { .s = malloc(64), .cap = 64 };
    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    size_t i = 0;
    while (hl && i < hl->nr) {
        const hl_range_t *r = &hl->r[i];
        if (i > 0)
            sb_add(&b, ",");
        bool bracket = range_count(r) > 1 || (i + 1 < hl->nr && within(r, &hl->r[i + 1]));
        sb_add(&b, "%s%s", r->prefix, bracket ? "[" : "");
        size_t j = i;
        do {
            const hl_range_t *q = &hl->r[j];
            if (j > i)
                sb_add(&b, ",");
            if (!q->single) {
                sb_add(&b, "%0*llu", q->width, q->lo);
                if (q->hi != q->lo)
                    sb_add(&b, "-%0*llu", q->width, q->hi);
            }
            j++;
        } while (j < hl->nr && within(&hl->r[j], &hl->r[j - 1]));
        if (bracket)
            sb_add(&b, "]");
        i = j;
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- sort / uniq ---- */

/* Natural order: digit runs compare by value, then by length (more leading zeros first). */
static int natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *ea = a, *eb = b;
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            const char *da = a, *db = b;
            while (isdigit((unsigned char)*a))
                a++;
            while (isdigit((unsigned char)*b))
                b++;
            if (a - da != b - db)
                return a - da < b - db ? -1 : 1;
            int c = strncmp(da, db, (size_t)(a - da));
            if (c)
                return c;
            if ((a - ea) != (b - eb))
                return (a - ea) > (b - eb) ? -1 : 1;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

typedef struct {
    const hl_range_t *r;
    unsigned long long num;
} host_key_t;

static int pad_of(const hl_range_t *r, unsigned long long num)
{
    int d = ndigits(num);
    return r->width > d ? r->width - d : 0;
}

static int key_cmp(const void *pa, const void *pb)
{
    const host_key_t *a = pa, *b = pb;
    int c = a->r == b->r ? 0 : natcmp(a->r->prefix, b->r->prefix);
    if (c)
        return c;
    if (a->r->single != b->r->single)
        return a->r->single ? -1 : 1;
    if (a->num != b->num)
        return a->num < b->num ? -1 : 1;
    int pa_ = pad_of(a->r, a->num), pb_ = pad_of(b->r, b->num);
    if (pa_ != pb_)
        return pa_ > pb_ ? -1 : 1;
    return 0;   /* same name: which duplicate comes first is invisible */
}

static bool key_same_name(const host_key_t *a, const host_key_t *b)
{
    return strcmp(a->r->prefix, b->r->prefix) == 0 && a->r->single == b->r->single &&
           a->num == b->num && pad_of(a->r, a->num) == pad_of(b->r, b->num);
}

static int rebuild_sorted(flurm_hostlist_t *hl, bool uniq)
{
    if (hl->count < 2)
        return FLURM_OK;
    host_key_t *keys = malloc(hl->count * sizeof *keys);
    flurm_hostlist_t *out = flurm_hostlist_new();
    if (!keys || !out)
        goto oom;
    size_t n = 0;
    for (size_t k = 0; k < hl->nr; k++) {
        const hl_range_t *r = &hl->r[k];
        for (unsigned long long v = r->lo; v <= r->hi; v++)
            keys[n++] = (host_key_t){ r, v };
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < n; i++) {
        if (uniq && i > 0 && key_same_name(&keys[i], &keys[i - 1]))
            continue;
        const hl_range_t *r = keys[i].r;
        if (append(out, r->prefix, strlen(r->prefix), keys[i].num, keys[i].num, r->width,
                   r->single) != FLURM_OK)
            goto oom;
    }
    free(keys);
    for (size_t k = 0; k < hl->nr; k++)
        free(hl->r[k].prefix);
    free(hl->r);
    free(hl->first);
    hl->r = out->r;
    hl->first = out->first;
    hl->nr = out->nr;
    hl->cap = out->cap;
    hl->count = out->count;
    free(out);
    return FLURM_OK;
oom:
    free(keys);
    flurm_hostlist_free(out);
    return FLURM_ENOMEM;
}

int flurm_hostlist_sort(flurm_hostlist_t *hl) { return hl ? rebuild_sorted(hl, false) : FLURM_EINVAL; }
int flurm_hostlist_uniq(flurm_hostlist_t *hl) { return hl ? rebuild_sorted(hl, true) : FLURM_EINVAL; }
