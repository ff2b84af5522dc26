/* libflurm/state/depend.c — see depend.h. */
#include "state/depend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { flurm_dep_kind_t kind; const char *name; } kinds[] = {
    /* longest first: "after" is a prefix of the others */
    { FLURM_DEP_BURST_BUFFER, "afterburstbuffer" },
    { FLURM_DEP_AFTER_NOT_OK, "afternotok" },
    { FLURM_DEP_AFTER_CORR, "aftercorr" },
    { FLURM_DEP_AFTER_ANY, "afterany" },
    { FLURM_DEP_AFTER_OK, "afterok" },
    { FLURM_DEP_AFTER, "after" },
    { FLURM_DEP_SINGLETON, "singleton" },
};

const char *flurm_dep_kind_name(flurm_dep_kind_t kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "unknown";
}

void flurm_dep_list_free(flurm_dep_list_t *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->any = false;
}

static int add_item(flurm_dep_list_t *l, uint32_t *cap, const flurm_dep_item_t *it)
{
    /* slurmctld keeps one item per (kind, job, task) (_add_dependency_to_list). */
    for (uint32_t i = 0; i < l->n; i++)
        if (l->items[i].kind == it->kind && l->items[i].job_id == it->job_id &&
            l->items[i].task_id == it->task_id)
            return FLURM_OK;
    if (l->n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        flurm_dep_item_t *p = realloc(l->items, nc * sizeof *p);
        if (!p)
            return FLURM_ENOMEM;
        l->items = p;
        *cap = nc;
    }
    l->items[l->n++] = *it;
    return FLURM_OK;
}

/* A decimal number in [MIN, MAX] at *S; advances *S past it. */
static int number(const char **s, uint32_t min, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return FLURM_EINVAL;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p++ - '0');
        if (v > max)
            return FLURM_EINVAL;
    }
    if (v < min)
        return FLURM_EINVAL;
    *s = p;
    *out = (uint32_t)v;
    return FLURM_OK;
}

/* Optional "(word)" at *S: FAILED for "failed" (any case), else UNFULFILLED. */
static int state_suffix(const char **s, flurm_dep_state_t *st)
{
    *st = FLURM_DEP_UNFULFILLED;
    if (**s != '(')
        return FLURM_OK;
    const char *close = strchr(*s, ')');
    if (!close)
        return FLURM_EINVAL;
    size_t n = (size_t)(close - (*s + 1));
    if (n == 6 && strncasecmp(*s + 1, "failed", 6) == 0)
        *st = FLURM_DEP_FAILED;
    *s = close + 1;
    return FLURM_OK;
}

static bool at_sep(char c) { return c == '\0' || c == ',' || c == '?'; }

/* One "jobid[_task|_*|_[ranges]][+min][(state)]" of KIND at *S, appended to L. *MINUTES is
 * carried from the previous id of the same kind: slurmctld's parser never resets it, so
 * "after:1+2:3" waits 2 minutes after both (_parse_dependency_jobid_new). */
static int parse_ref(const char **s, flurm_dep_kind_t kind, uint32_t *minutes, flurm_dep_list_t *l,
                     uint32_t *cap)
{
    const char *p = *s;
    flurm_dep_item_t it = { .kind = kind, .task_id = FLURM_DEP_TASK_NONE, .minutes = *minutes };
    const char *ranges = NULL;
    if (number(&p, 1, 0xFFFFFFF0u, &it.job_id))
        return FLURM_EINVAL;
    if (*p == '_') {
        p++;
        if (*p == '*') {
            it.task_id = FLURM_DEP_TASK_ALL;
            p++;
        } else if (*p == '[') {
            /* "123_[1-3,5]": one item per task (slurmctld's _xlate_array_dep) */
            ranges = ++p;
            p = strchr(p, ']');
            if (!p || p == ranges)
                return FLURM_EINVAL;
            p++;
        } else if (number(&p, 0, 3999999, &it.task_id)) {
            return FLURM_EINVAL;
        }
    }
    if (*p == '+') {
        p++;
        if (number(&p, 1, 0xFFFFFFFFu / 60, &it.minutes))
            return FLURM_EINVAL;   /* slurmctld: "+0" and "+x" are ESLURM_DEPENDENCY */
        *minutes = it.minutes;
    }
    if (state_suffix(&p, &it.state))
        return FLURM_EINVAL;
    if (*p != ':' && !at_sep(*p))
        return FLURM_EINVAL;
    if (ranges) {
        const char *r = ranges;
        while (*r != ']') {
            uint32_t a, b, step = 1;
            if (number(&r, 0, 3999999, &a))
                return FLURM_EINVAL;
            b = a;
            if (*r == '-') {
                r++;
                if (number(&r, a, 3999999, &b))
                    return FLURM_EINVAL;
                if (*r == ':') {
                    r++;
                    if (number(&r, 1, 3999999, &step))
                        return FLURM_EINVAL;
                }
            }
            if (*r == ',')
                r++;
            else if (*r != ']')
                return FLURM_EINVAL;
            if ((b - a) / step >= 100000)
                return FLURM_EINVAL;   /* not a list anyone writes by hand */
            for (uint64_t t = a; t <= b; t += step) {
                it.task_id = (uint32_t)t;
                if (add_item(l, cap, &it))
                    return FLURM_ENOMEM;
            }
        }
    } else if (add_item(l, cap, &it)) {
        return FLURM_ENOMEM;
    }
    *s = p;
    return FLURM_OK;
}

static int parse(const char *text, flurm_dep_list_t *l)
{
    uint32_t cap = 0;
    const char *p = text;
    for (;;) {
        if (strncasecmp(p, "singleton", 9) == 0 && (at_sep(p[9]) || p[9] == '(')) {
            flurm_dep_item_t it = { .kind = FLURM_DEP_SINGLETON, .task_id = 0 };
            p += 9;
            if (state_suffix(&p, &it.state) || !at_sep(*p))
                return FLURM_EINVAL;
            if (add_item(l, &cap, &it))
                return FLURM_ENOMEM;
        } else if (*p >= '0' && *p <= '9' && !memchr(p, ':', strcspn(p, ",?"))) {
            /* old form: a bare job id means afterany; only ',' may follow (slurmctld's
             * _parse_dependency_jobid_old) */
            const char *q = p;
            flurm_dep_item_t it = { .kind = FLURM_DEP_AFTER_ANY, .task_id = FLURM_DEP_TASK_NONE };
            if (number(&q, 1, 0xFFFFFFF0u, &it.job_id))
                return FLURM_EINVAL;
            if (*q == '_') {
                q++;
                if (*q == '*') {
                    it.task_id = FLURM_DEP_TASK_ALL;
                    q++;
                } else if (number(&q, 0, 3999999, &it.task_id)) {
                    return FLURM_EINVAL;
                }
            }
            if (*q != '\0' && *q != ',')
                return FLURM_EINVAL;
            if (add_item(l, &cap, &it))
                return FLURM_ENOMEM;
            p = q;
        } else {
            size_t i, klen = 0;
            for (i = 0; i < sizeof kinds / sizeof *kinds; i++) {
                klen = strlen(kinds[i].name);
                if (kinds[i].kind != FLURM_DEP_SINGLETON && strncasecmp(p, kinds[i].name, klen) == 0 &&
                    p[klen] == ':')
                    break;
            }
            if (i == sizeof kinds / sizeof *kinds)
                return strncasecmp(p, "expand:", 7) == 0 ? FLURM_ENOTSUP : FLURM_EINVAL;
            p += klen + 1;
            uint32_t minutes = 0;
            for (;;) {
                int rc = parse_ref(&p, kinds[i].kind, &minutes, l, &cap);
                if (rc)
                    return rc;
                if (*p != ':')
                    break;
                p++;
            }
        }
        if (*p == '\0')
            return FLURM_OK;
        if (*p == '?')
            l->any = true;
        p++;   /* ',' or '?' */
        if (*p == '\0')
            return FLURM_EINVAL;   /* a separator must be followed by an item */
    }
}

int flurm_dep_parse(const char *text, flurm_dep_list_t *out)
{
    *out = (flurm_dep_list_t){ 0 };
    if (!text || !*text || strcmp(text, "0") == 0)
        return FLURM_OK;
    int rc = parse(text, out);
    if (rc)
        flurm_dep_list_free(out);
    return rc;
}

int flurm_dep_render(const flurm_dep_list_t *l, char **out)
{
    *out = NULL;
    size_t cap = 1, len = 0;
    for (uint32_t i = 0; i < l->n; i++)
        cap += 64;
    char *s = malloc(cap);
    if (!s)
        return FLURM_ENOMEM;
    s[0] = '\0';
    for (uint32_t i = 0; i < l->n; i++) {
        const flurm_dep_item_t *it = &l->items[i];
        if (it->state == FLURM_DEP_FULFILLED)
            continue;   /* slurmctld shows what is still owed, and what failed */
        const char *sep = len ? (l->any ? "?" : ",") : "";
        const char *st = it->state == FLURM_DEP_FAILED ? "failed" : "unfulfilled";
        if (it->kind == FLURM_DEP_SINGLETON) {
            len += (size_t)snprintf(s + len, cap - len, "%ssingleton(%s)", sep, st);
            continue;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s%s:%u", sep, flurm_dep_kind_name(it->kind),
                                it->job_id);
        if (it->task_id == FLURM_DEP_TASK_ALL)
            len += (size_t)snprintf(s + len, cap - len, "_*");
        else if (it->task_id != FLURM_DEP_TASK_NONE)
            len += (size_t)snprintf(s + len, cap - len, "_%u", it->task_id);
        if (it->minutes)
            len += (size_t)snprintf(s + len, cap - len, "+%u", it->minutes);
        len += (size_t)snprintf(s + len, cap - len, "(%s)", st);
    }
    if (!len) {
        free(s);
        return FLURM_OK;
    }
    *out = s;
    return FLURM_OK;
}
