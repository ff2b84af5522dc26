/* libflurm/codec/table.c — the one engine behind every message layout (see table.h). */
#include "codec/table.h"

#include <stdlib.h>
#include <string.h>

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))
#define CAT(obj, off, type) ((type const *)((const char *)(obj) + (off)))

static int pack_double_array(const double *a, uint32_t n, flurm_buf_t *b)
{
    if (!a)
        n = 0;
    flurm_pack32(b, n);
    for (uint32_t i = 0; i < n && !b->err; i++)
        flurm_pack_double(b, a[i]);
    return b->err;
}

static int unpack_double_array(double **out, uint32_t *count, flurm_buf_t *b)
{
    uint32_t n;
    if (flurm_unpack32(b, &n) || n == 0)
        return b->err;
    if (n > flurm_buf_remaining(b) / 8) {
        b->err = FLURM_ETRUNC;
        return b->err;
    }
    double *a = malloc((size_t)n * sizeof *a);
    if (!a) {
        b->err = FLURM_ENOMEM;
        return b->err;
    }
    for (uint32_t i = 0; i < n; i++)
        flurm_unpack_double(b, &a[i]);
    *out = a;
    *count = n;
    return b->err;
}

static int pack_list(const flurm_field_t *f, const void *obj, flurm_buf_t *b)
{
    const char *elems = *CAT(obj, f->off, char *);
    uint32_t n = *CAT(obj, f->aux, uint32_t);
    if (!elems)
        return flurm_pack32(b, FLURM_NO_VAL);
    flurm_pack32(b, n);
    for (uint32_t i = 0; i < n && !b->err; i++)
        flurm_table_pack(f->sub, elems + (size_t)i * f->sub->size, b);
    return b->err;
}

/* The records of an array whose count an earlier field sent. */
static int pack_records(const flurm_field_t *f, const void *obj, flurm_buf_t *b)
{
    const char *elems = *CAT(obj, f->off, char *);
    uint32_t n = *CAT(obj, f->aux, uint32_t);
    if (n && !elems) {
        b->err = FLURM_EINVAL;
        return b->err;
    }
    for (uint32_t i = 0; i < n && !b->err; i++)
        flurm_table_pack(f->sub, elems + (size_t)i * f->sub->size, b);
    return b->err;
}

int flurm_table_pack(const flurm_table_t *t, const void *obj, flurm_buf_t *b)
{
    for (size_t i = 0; i < t->nfields && !b->err; i++) {
        const flurm_field_t *f = &t->fields[i];
        switch (f->type) {
        case FLURM_FT_U8: flurm_pack8(b, *CAT(obj, f->off, uint8_t)); break;
        case FLURM_FT_U16: flurm_pack16(b, *CAT(obj, f->off, uint16_t)); break;
        case FLURM_FT_U32: flurm_pack32(b, *CAT(obj, f->off, uint32_t)); break;
        case FLURM_FT_U64: flurm_pack64(b, *CAT(obj, f->off, uint64_t)); break;
        case FLURM_FT_BOOL: flurm_pack_bool(b, *CAT(obj, f->off, bool)); break;
        case FLURM_FT_TIME: flurm_pack_time(b, *CAT(obj, f->off, time_t)); break;
        case FLURM_FT_DOUBLE: flurm_pack_double(b, *CAT(obj, f->off, double)); break;
        case FLURM_FT_STR: flurm_packstr(b, *CAT(obj, f->off, char *)); break;
        case FLURM_FT_MEM:
            flurm_packmem(b, *CAT(obj, f->off, void *), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_STR_ARRAY:
            flurm_pack_str_array(b, *CAT(obj, f->off, char **), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U16_ARRAY:
            flurm_pack16_array(b, *CAT(obj, f->off, uint16_t *), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U32_ARRAY:
            flurm_pack32_array(b, *CAT(obj, f->off, uint32_t *), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U64_ARRAY:
            flurm_pack64_array(b, *CAT(obj, f->off, uint64_t *), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_BITMAP:
            flurm_pack_bitmap(b, *CAT(obj, f->off, uint64_t *), *CAT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_DOUBLE_ARRAY:
            pack_double_array(*CAT(obj, f->off, double *), *CAT(obj, f->aux, uint32_t), b);
            break;
        case FLURM_FT_CONST8: flurm_pack8(b, (uint8_t)f->arg); break;
        case FLURM_FT_CONST16: flurm_pack16(b, (uint16_t)f->arg); break;
        case FLURM_FT_CONST32: flurm_pack32(b, (uint32_t)f->arg); break;
        case FLURM_FT_NULLSTR: flurm_packstr(b, NULL); break;
        case FLURM_FT_STRUCT: flurm_table_pack(f->sub, (const char *)obj + f->off, b); break;
        case FLURM_FT_LIST: pack_list(f, obj, b); break;
        case FLURM_FT_RECORDS: pack_records(f, obj, b); break;
        case FLURM_FT_CUSTOM: f->pack(b, obj); break;
        }
    }
    return b->err;
}

static int unpack_list(const flurm_field_t *f, void *obj, flurm_buf_t *b)
{
    uint32_t n;
    if (flurm_unpack32(b, &n) || n == FLURM_NO_VAL)
        return b->err;
    /* Every record takes at least one byte, so a count beyond the remaining bytes is a lie. */
    if (n > flurm_buf_remaining(b)) {
        b->err = FLURM_ETRUNC;
        return b->err;
    }
    char *elems = calloc(n ? n : 1, f->sub->size);
    if (!elems) {
        b->err = FLURM_ENOMEM;
        return b->err;
    }
    *AT(obj, f->off, char *) = elems;
    for (uint32_t i = 0; i < n; i++) {
        /* Count only complete records, so that free() never sees a half-built one twice. */
        if (flurm_table_unpack(f->sub, elems + (size_t)i * f->sub->size, b))
            return b->err;
        *AT(obj, f->aux, uint32_t) = i + 1;
    }
    return b->err;
}

static void free_elems(const flurm_table_t *sub, char *elems, uint32_t n)
{
    for (uint32_t k = 0; elems && k < n; k++)
        flurm_table_free(sub, elems + (size_t)k * sub->size);
    free(elems);
}

/* The count member was filled by an earlier field. On failure the pointer stays NULL, so the
 * caller's free never meets a half-built array (the count member still says N). */
static int unpack_records(const flurm_field_t *f, void *obj, flurm_buf_t *b)
{
    uint32_t n = *AT(obj, f->aux, uint32_t);
    if (n == 0)
        return FLURM_OK;
    /* Every record takes at least one byte, so a count beyond the remaining bytes is a lie. */
    if (n > flurm_buf_remaining(b)) {
        b->err = FLURM_ETRUNC;
        return b->err;
    }
    char *elems = calloc(n, f->sub->size);
    if (!elems) {
        b->err = FLURM_ENOMEM;
        return b->err;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (flurm_table_unpack(f->sub, elems + (size_t)i * f->sub->size, b)) {
            free_elems(f->sub, elems, i);
            return b->err;
        }
    }
    *AT(obj, f->off, char *) = elems;
    return FLURM_OK;
}

int flurm_table_unpack(const flurm_table_t *t, void *obj, flurm_buf_t *b)
{
    memset(obj, 0, t->size);
    for (size_t i = 0; i < t->nfields && !b->err; i++) {
        const flurm_field_t *f = &t->fields[i];
        switch (f->type) {
        case FLURM_FT_U8: flurm_unpack8(b, AT(obj, f->off, uint8_t)); break;
        case FLURM_FT_U16: flurm_unpack16(b, AT(obj, f->off, uint16_t)); break;
        case FLURM_FT_U32: flurm_unpack32(b, AT(obj, f->off, uint32_t)); break;
        case FLURM_FT_U64: flurm_unpack64(b, AT(obj, f->off, uint64_t)); break;
        case FLURM_FT_BOOL: flurm_unpack_bool(b, AT(obj, f->off, bool)); break;
        case FLURM_FT_TIME: flurm_unpack_time(b, AT(obj, f->off, time_t)); break;
        case FLURM_FT_DOUBLE: flurm_unpack_double(b, AT(obj, f->off, double)); break;
        case FLURM_FT_STR: flurm_unpackstr(b, AT(obj, f->off, char *)); break;
        case FLURM_FT_MEM:
            flurm_unpackmem(b, AT(obj, f->off, void *), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_STR_ARRAY:
            flurm_unpack_str_array(b, AT(obj, f->off, char **), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U16_ARRAY:
            flurm_unpack16_array(b, AT(obj, f->off, uint16_t *), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U32_ARRAY:
            flurm_unpack32_array(b, AT(obj, f->off, uint32_t *), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_U64_ARRAY:
            flurm_unpack64_array(b, AT(obj, f->off, uint64_t *), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_BITMAP:
            flurm_unpack_bitmap(b, AT(obj, f->off, uint64_t *), AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_DOUBLE_ARRAY:
            unpack_double_array(AT(obj, f->off, double *), AT(obj, f->aux, uint32_t), b);
            break;
        case FLURM_FT_CONST8: flurm_unpack_skip(b, 1); break;
        case FLURM_FT_CONST16: flurm_unpack_skip(b, 2); break;
        case FLURM_FT_CONST32: flurm_unpack_skip(b, 4); break;
        case FLURM_FT_NULLSTR: {
            char *s = NULL;
            flurm_unpackstr(b, &s);
            free(s);
            break;
        }
        case FLURM_FT_STRUCT: flurm_table_unpack(f->sub, (char *)obj + f->off, b); break;
        case FLURM_FT_LIST: unpack_list(f, obj, b); break;
        case FLURM_FT_RECORDS: unpack_records(f, obj, b); break;
        case FLURM_FT_CUSTOM: f->unpack(b, obj); break;
        }
    }
    if (b->err) {
        int err = b->err;
        flurm_table_free(t, obj);
        return err;
    }
    return FLURM_OK;
}

void flurm_table_free(const flurm_table_t *t, void *obj)
{
    if (!obj)
        return;
    for (size_t i = 0; i < t->nfields; i++) {
        const flurm_field_t *f = &t->fields[i];
        switch (f->type) {
        case FLURM_FT_STR:
        case FLURM_FT_MEM:
        case FLURM_FT_U16_ARRAY:
        case FLURM_FT_U32_ARRAY:
        case FLURM_FT_U64_ARRAY:
        case FLURM_FT_BITMAP:
        case FLURM_FT_DOUBLE_ARRAY:
            free(*AT(obj, f->off, void *));
            break;
        case FLURM_FT_STR_ARRAY:
            flurm_str_array_free(*AT(obj, f->off, char **), *AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_STRUCT:
            flurm_table_free(f->sub, (char *)obj + f->off);
            break;
        case FLURM_FT_LIST:
        case FLURM_FT_RECORDS:
            free_elems(f->sub, *AT(obj, f->off, char *), *AT(obj, f->aux, uint32_t));
            break;
        case FLURM_FT_CUSTOM:
            if (f->free)
                f->free(obj);
            break;
        default:
            break;
        }
    }
    memset(obj, 0, t->size);
}
