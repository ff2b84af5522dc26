/* tests/unit/fixtures.h — helpers shared by the codec tests: walk FIXTURES_DIR, read the
 * captured .bin files and what summary.txt says about them. Header-only (static functions). */
#ifndef FLURM_TEST_FIXTURES_H
#define FLURM_TEST_FIXTURES_H

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char *path;          /* absolute path of the .bin file */
    uint8_t *data;       /* its bytes (malloc'd exactly size bytes; NULL when empty) */
    size_t size;
    bool is_request;     /* *request.bin, else *response.bin */
    bool is_stream;      /* summary.txt says it is the srun I/O stream, not RPC frames */
    int expect_type;     /* msg_type from summary.txt, -1 when none */
} fixture_t;

typedef struct fixture_set {
    fixture_t *v;
    size_t n, cap;
} fixture_set_t;

static fixture_set_t *fixture_walk_target_;

static uint8_t *fixture_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (n > 0 && (!p || fread(p, 1, (size_t)n, f) != (size_t)n)) {
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* Text of the whole file, NUL-terminated (NULL if unreadable). */
static char *fixture_read_text(const char *path)
{
    if (access(path, R_OK) != 0)
        return NULL;
    size_t n = 0;
    uint8_t *p = fixture_read(path, &n);
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    free(p);
    return s;
}

/* summary.txt has one line per connection: "NN- ... req=NB [NAME(type)] resp=NB [NAME(type)]"
 * ("-- ..." for single-connection cases); "[srun-I/O-stream(3 frames)]" marks the I/O stream
 * and "[-]" an empty file. */
static void fixture_describe(fixture_t *fx)
{
    char dir[4096], prefix[8] = "--";
    const char *base = strrchr(fx->path, '/') + 1;
    snprintf(dir, sizeof dir, "%.*s/summary.txt", (int)(base - 1 - fx->path), fx->path);
    if (base[0] >= '0' && base[0] <= '9' && base[2] == '-')
        snprintf(prefix, sizeof prefix, "%.2s-", base);
    fx->expect_type = -1;
    char *text = fixture_read_text(dir);
    if (!text)
        return;
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        char *field = strstr(line, fx->is_request ? " req=" : " resp=");
        char *open = field ? strchr(field, '[') : NULL;
        if (open) {
            if (strncmp(open, "[srun-I/O-stream", 16) == 0)
                fx->is_stream = true;
            char *paren = strchr(open, '(');
            char *close = strchr(open, ']');
            if (paren && close && paren < close && !fx->is_stream)
                fx->expect_type = atoi(paren + 1);
        }
        break;
    }
    free(text);
}

static int fixture_visit_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t len = strlen(path);
    bool req = len >= 11 && strcmp(path + len - 11, "request.bin") == 0;
    bool resp = len >= 12 && strcmp(path + len - 12, "response.bin") == 0;
    if (flag != FTW_F || (!req && !resp))
        return 0;
    fixture_set_t *s = fixture_walk_target_;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    fixture_t *fx = &s->v[s->n++];
    memset(fx, 0, sizeof *fx);
    fx->path = strdup(path);
    fx->is_request = req;
    fx->data = fixture_read(path, &fx->size);
    fixture_describe(fx);
    return 0;
}

static int fixture_cmp_(const void *a, const void *b)
{
    return strcmp(((const fixture_t *)a)->path, ((const fixture_t *)b)->path);
}

/* Every *request.bin and *response.bin under FIXTURES_DIR, sorted by path. */
static void fixtures_load(fixture_set_t *s)
{
    memset(s, 0, sizeof *s);
    fixture_walk_target_ = s;
    nftw(FIXTURES_DIR, fixture_visit_, 16, FTW_PHYS);
    qsort(s->v, s->n, sizeof *s->v, fixture_cmp_);
}

static void fixtures_free(fixture_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].path);
        free(s->v[i].data);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* The one set a test file shares, for files that run their tests as one cmocka group:
 * fixtures_group_setup() loads it (failing the group when FIXTURES_DIR holds none) and
 * fixtures_group_teardown() frees it. (Marked unused: not every includer shares one.) */
__attribute__((unused)) static fixture_set_t fixtures_all;

__attribute__((unused)) static int fixtures_group_setup(void **state)
{
    (void)state;
    fixtures_load(&fixtures_all);
    return fixtures_all.n > 0 ? 0 : -1;
}

__attribute__((unused)) static int fixtures_group_teardown(void **state)
{
    (void)state;
    fixtures_free(&fixtures_all);
    return 0;
}

/* The fixture whose path ends with SUFFIX ("sbatch/request.bin"), or NULL. (Marked unused:
 * not every includer looks one up.) */
__attribute__((unused)) static const fixture_t *fixture_find(const fixture_set_t *s, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < s->n; i++) {
        size_t pl = strlen(s->v[i].path);
        if (pl > sl && s->v[i].path[pl - sl - 1] == '/' && strcmp(s->v[i].path + pl - sl, suffix) == 0)
            return &s->v[i];
    }
    return NULL;
}

/* A fixture holding exactly one RPC frame (not the I/O stream, not empty). */
static bool fixture_is_rpc(const fixture_t *fx)
{
    return !fx->is_stream && fx->size >= 4;
}

#endif
