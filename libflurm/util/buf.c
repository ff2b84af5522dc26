/* libflurm/util/buf.c — see include/flurm/buf.h for the wire rules and the sticky-error contract. */
#include <flurm/buf.h>

#include <stdlib.h>
#include <string.h>

void flurm_buf_init(flurm_buf_t *b) { *b = (flurm_buf_t){0}; }

void flurm_buf_view(flurm_buf_t *b, const void *data, size_t len)
{
    /* The cast drops const; cap == 0 marks the bytes as never written or freed. */
    *b = (flurm_buf_t){ .data = (uint8_t *)(uintptr_t)data, .size = len };
}

void flurm_buf_release(flurm_buf_t *b)
{
    if (b->cap)
        free(b->data);
    *b = (flurm_buf_t){0};
}

static int fail(flurm_buf_t *b, int err)
{
    if (!b->err)
        b->err = err;
    return b->err;
}

int flurm_buf_reserve(flurm_buf_t *b, size_t n)
{
    if (b->err)
        return b->err;
    if (b->cap == 0 && b->data)
        return fail(b, FLURM_EINVAL);   /* a view is read-only */
    if (n <= b->cap - b->size)
        return FLURM_OK;
    if (n > SIZE_MAX / 2 - b->size)
        return fail(b, FLURM_ENOMEM);
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->size < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return fail(b, FLURM_ENOMEM);
    b->data = p;
    b->cap = cap;
    return FLURM_OK;
}

static inline uint8_t *grow(flurm_buf_t *b, size_t n)
{
    if (b->err || (n > b->cap - b->size && flurm_buf_reserve(b, n)))
        return NULL;
    uint8_t *p = b->data + b->size;
    b->size += n;
    return p;
}

static inline void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static inline int pack_n(flurm_buf_t *b, uint64_t v, int n)
{
    uint8_t *p = grow(b, (size_t)n);
    if (!p)
        return b->err;
    put_be(p, v, n);
    return FLURM_OK;
}

int flurm_pack8(flurm_buf_t *b, uint8_t v) { return pack_n(b, v, 1); }
int flurm_pack16(flurm_buf_t *b, uint16_t v) { return pack_n(b, v, 2); }
int flurm_pack32(flurm_buf_t *b, uint32_t v) { return pack_n(b, v, 4); }
int flurm_pack64(flurm_buf_t *b, uint64_t v) { return pack_n(b, v, 8); }
int flurm_pack_bool(flurm_buf_t *b, bool v) { return pack_n(b, v ? 1 : 0, 1); }
int flurm_pack_time(flurm_buf_t *b, time_t v) { return pack_n(b, (uint64_t)(int64_t)v, 8); }

int flurm_pack_double(flurm_buf_t *b, double v)
{
    double d = v * 1000000.0;   /* SLURM's FLOAT_MULT */
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return pack_n(b, bits, 8);
}

int flurm_pack_raw(flurm_buf_t *b, const void *src, size_t n)
{
    uint8_t *p = grow(b, n);
    if (!p)
        return b->err;
    if (n)
        memcpy(p, src, n);
    return FLURM_OK;
}

int flurm_packstr(flurm_buf_t *b, const char *s)
{
    if (!s)
        return flurm_pack32(b, 0);
    size_t n = strlen(s) + 1;
    if (n > FLURM_MAX_PACK_LEN)
        return fail(b, FLURM_ERANGE);
    uint8_t *p = grow(b, 4 + n);
    if (!p)
        return b->err;
    put_be(p, n, 4);
    memcpy(p + 4, s, n);
    return FLURM_OK;
}

int flurm_packmem(flurm_buf_t *b, const void *src, uint32_t n)
{
    if (n > FLURM_MAX_PACK_LEN)
        return fail(b, FLURM_ERANGE);
    if (flurm_pack32(b, n))
        return b->err;
    return flurm_pack_raw(b, src, n);
}

int flurm_pack_str_array(flurm_buf_t *b, char *const *a, uint32_t n)
{
    flurm_pack32(b, a ? n : 0);
    for (uint32_t i = 0; a && i < n; i++)
        flurm_packstr(b, a[i]);
    return b->err;
}

#define PACK_ARRAY(name, type, width)                                   \
    int name(flurm_buf_t *b, const type *a, uint32_t n)                \
    {                                                                   \
        if (!a)                                                         \
            n = 0;                                                      \
        uint8_t *p = grow(b, 4 + (size_t)n * width);                    \
        if (!p)                                                         \
            return b->err;                                              \
        put_be(p, n, 4);                                                \
        for (uint32_t i = 0; i < n; i++)                                \
            put_be(p + 4 + (size_t)i * width, a[i], width);             \
        return FLURM_OK;                                                \
    }
PACK_ARRAY(flurm_pack16_array, uint16_t, 2)
PACK_ARRAY(flurm_pack32_array, uint32_t, 4)
PACK_ARRAY(flurm_pack64_array, uint64_t, 8)

/* "0x" + ceil(NBITS/4) upper-case hex digits, most significant first (digit k from the right
 * holds bits 4k..4k+3), NUL-terminated: S must hold NBITS/4 + 4 bytes. */
static void bitmap_hex_fill(char *s, const uint64_t *words, uint32_t nbits)
{
    static const char hex[] = "0123456789ABCDEF";
    uint32_t ndig = (nbits + 3) / 4;
    s[0] = '0';
    s[1] = 'x';
    for (uint32_t k = 0; k < ndig; k++) {
        uint32_t bit = 4 * k;
        s[2 + ndig - 1 - k] = hex[(words[bit / 64] >> (bit % 64)) & 0xF];
    }
    s[2 + ndig] = '\0';
}

char *flurm_bitmap_hex(const uint64_t *words, uint32_t nbits)
{
    char *s = words ? malloc((size_t)(nbits + 3) / 4 + 3) : NULL;
    if (s)
        bitmap_hex_fill(s, words, nbits);
    return s;
}

int flurm_pack_bitmap(flurm_buf_t *b, const uint64_t *words, uint32_t nbits)
{
    if (!words)
        return flurm_pack32(b, FLURM_NO_VAL);
    uint32_t ndig = (nbits + 3) / 4;
    size_t slen = 2 + (size_t)ndig + 1;
    uint8_t *p = grow(b, 8 + slen);
    if (!p)
        return b->err;
    put_be(p, nbits, 4);
    put_be(p + 4, slen, 4);
    bitmap_hex_fill((char *)p + 8, words, nbits);
    return FLURM_OK;
}

int flurm_pack32_at(flurm_buf_t *b, size_t off, uint32_t v)
{
    if (b->err)
        return b->err;
    if (off > b->size || b->size - off < 4)
        return fail(b, FLURM_ERANGE);
    put_be(b->data + off, v, 4);
    return FLURM_OK;
}

/* ---- unpacking ---- */

static inline const uint8_t *take(flurm_buf_t *b, size_t n)
{
    if (b->err)
        return NULL;
    if (n > b->size - b->pos) {
        fail(b, FLURM_ETRUNC);
        return NULL;
    }
    const uint8_t *p = b->data + b->pos;
    b->pos += n;
    return p;
}

#define UNPACK_INT(name, type, n)                 \
    int name(flurm_buf_t *b, type *v)             \
    {                                             \
        const uint8_t *p = take(b, n);            \
        *v = p ? (type)get_be(p, n) : 0;          \
        return b->err;                            \
    }
UNPACK_INT(flurm_unpack8, uint8_t, 1)
UNPACK_INT(flurm_unpack16, uint16_t, 2)
UNPACK_INT(flurm_unpack32, uint32_t, 4)
UNPACK_INT(flurm_unpack64, uint64_t, 8)

int flurm_unpack_bool(flurm_buf_t *b, bool *v)
{
    uint8_t x;
    flurm_unpack8(b, &x);
    *v = x != 0;
    return b->err;
}

int flurm_unpack_time(flurm_buf_t *b, time_t *v)
{
    uint64_t x;
    flurm_unpack64(b, &x);
    *v = (time_t)(int64_t)x;
    return b->err;
}

int flurm_unpack_double(flurm_buf_t *b, double *v)
{
    uint64_t bits;
    double d;
    flurm_unpack64(b, &bits);
    memcpy(&d, &bits, sizeof d);
    *v = b->err ? 0.0 : d / 1000000.0;
    return b->err;
}

int flurm_unpack_skip(flurm_buf_t *b, size_t n)
{
    take(b, n);
    return b->err;
}

/* Reads a u32 length/count and checks that COUNT * MIN_ELEM bytes could still follow,
 * so a hostile count can neither trigger a huge allocation nor an overflow. */
static int unpack_count(flurm_buf_t *b, uint32_t *n, size_t min_elem)
{
    if (flurm_unpack32(b, n))
        return b->err;
    if (*n > FLURM_MAX_PACK_LEN)
        return fail(b, FLURM_EPROTO);
    if ((size_t)*n * min_elem > flurm_buf_remaining(b))
        return fail(b, FLURM_ETRUNC);
    return FLURM_OK;
}

int flurm_unpackstr(flurm_buf_t *b, char **s)
{
    uint32_t n;
    *s = NULL;
    if (unpack_count(b, &n, 1) || n == 0)
        return b->err;
    const uint8_t *p = take(b, n);
    char *out = malloc((size_t)n + 1);
    if (!out)
        return fail(b, FLURM_ENOMEM);
    memcpy(out, p, n);
    out[n] = '\0';
    *s = out;
    return FLURM_OK;
}

int flurm_unpackmem(flurm_buf_t *b, void **out, uint32_t *n)
{
    *out = NULL;
    if (unpack_count(b, n, 1) || *n == 0) {
        if (b->err)
            *n = 0;
        return b->err;
    }
    const uint8_t *p = take(b, *n);
    void *m = malloc(*n);
    if (!m) {
        *n = 0;
        return fail(b, FLURM_ENOMEM);
    }
    memcpy(m, p, *n);
    *out = m;
    return FLURM_OK;
}

void flurm_str_array_free(char **a, uint32_t n)
{
    if (!a)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

int flurm_unpack_str_array(flurm_buf_t *b, char ***out, uint32_t *n)
{
    *out = NULL;
    if (unpack_count(b, n, 4) || *n == 0) {
        if (b->err)
            *n = 0;
        return b->err;
    }
    char **a = calloc(*n, sizeof *a);
    if (!a) {
        *n = 0;
        return fail(b, FLURM_ENOMEM);
    }
    for (uint32_t i = 0; i < *n; i++) {
        if (flurm_unpackstr(b, &a[i])) {
            flurm_str_array_free(a, i);
            *n = 0;
            return b->err;
        }
    }
    *out = a;
    return FLURM_OK;
}

#define UNPACK_ARRAY(name, type, width)                                  \
    int name(flurm_buf_t *b, type **out, uint32_t *n)                    \
    {                                                                    \
        *out = NULL;                                                     \
        if (unpack_count(b, n, width) || *n == 0) {                      \
            if (b->err)                                                  \
                *n = 0;                                                  \
            return b->err;                                               \
        }                                                                \
        type *a = malloc((size_t)*n * sizeof *a);                        \
        if (!a) {                                                        \
            *n = 0;                                                      \
            return fail(b, FLURM_ENOMEM);                                \
        }                                                                \
        const uint8_t *p = take(b, (size_t)*n * width);                  \
        for (uint32_t i = 0; i < *n; i++)                                \
            a[i] = (type)get_be(p + (size_t)i * width, width);           \
        *out = a;                                                        \
        return FLURM_OK;                                                 \
    }
UNPACK_ARRAY(flurm_unpack16_array, uint16_t, 2)
UNPACK_ARRAY(flurm_unpack32_array, uint32_t, 4)
UNPACK_ARRAY(flurm_unpack64_array, uint64_t, 8)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int flurm_unpack_bitmap(flurm_buf_t *b, uint64_t **out, uint32_t *nbits)
{
    uint32_t n;
    char *s = NULL;
    *out = NULL;
    *nbits = 0;
    if (flurm_unpack32(b, &n) || n == FLURM_NO_VAL)
        return b->err;
    if (flurm_unpackstr(b, &s))
        return b->err;
    if (n == 0 || !s) {
        free(s);
        return FLURM_OK;
    }
    if (n > FLURM_MAX_PACK_LEN) {
        free(s);
        return fail(b, FLURM_EPROTO);
    }
    size_t len = strlen(s);
    /* SLURM always sends ceil(nbits/4) digits. Demanding at least that many bounds the
     * allocation below by the input's size: a 4-byte count cannot make us allocate 128 MiB. */
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || (len - 2) < ((size_t)n + 3) / 4) {
        free(s);
        return fail(b, FLURM_EPROTO);
    }
    uint64_t *w = calloc(((size_t)n + 63) / 64, sizeof *w);
    if (!w) {
        free(s);
        return fail(b, FLURM_ENOMEM);
    }
    /* Digits from the right; a set bit at or beyond NBITS is a protocol error. */
    size_t ndig = len - 2;
    for (size_t k = 0; k < ndig; k++) {
        int v = hexval(s[len - 1 - k]);
        if (v < 0)
            goto bad;
        for (int j = 0; j < 4; j++) {
            if (!(v >> j & 1))
                continue;
            uint64_t bit = 4 * (uint64_t)k + (uint64_t)j;
            if (bit >= n)
                goto bad;
            w[bit / 64] |= 1ull << (bit % 64);
        }
    }
    free(s);
    *out = w;
    *nbits = n;
    return FLURM_OK;
bad:
    free(s);
    free(w);
    return fail(b, FLURM_EPROTO);
}
