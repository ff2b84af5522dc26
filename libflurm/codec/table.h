/* libflurm/codec/table.h — declarative wire layouts.
 *
 * A SLURM message body is an ordered list of primitive fields. Each body struct in
 * include/flurm/msg.h has one table here naming its members in wire order; one engine packs,
 * unpacks and frees every message from its table, so encode and decode cannot drift apart.
 * The FLD_* macros check at compile time that each member has the C type its wire type needs.
 *
 * Ownership: a struct filled by flurm_table_unpack owns every pointer in it (release with
 * flurm_table_free). flurm_table_pack only reads, so callers may pack structs of borrowed
 * pointers. */
#ifndef FLURM_CODEC_TABLE_H
#define FLURM_CODEC_TABLE_H

#include <stddef.h>
#include <flurm/buf.h>

typedef enum flurm_ftype {
    FLURM_FT_U8, FLURM_FT_U16, FLURM_FT_U32, FLURM_FT_U64, FLURM_FT_BOOL, FLURM_FT_TIME,
    FLURM_FT_DOUBLE,
    FLURM_FT_STR,        /* char *                                                   */
    FLURM_FT_MEM,        /* void * + uint32_t length member (aux)                    */
    FLURM_FT_STR_ARRAY,  /* char ** + uint32_t count member (aux)                    */
    FLURM_FT_U16_ARRAY,  /* uint16_t * + uint32_t count member (aux)                 */
    FLURM_FT_U32_ARRAY,  /* uint32_t * + uint32_t count member (aux)                 */
    FLURM_FT_U64_ARRAY,  /* uint64_t * + uint32_t count member (aux)                 */
    FLURM_FT_BITMAP,     /* uint64_t * words + uint32_t nbits member (aux)           */
    FLURM_FT_DOUBLE_ARRAY, /* double * + uint32_t count member (aux); wire: u32 count
                            (0 when NULL, as packdouble_array), each as FLURM_FT_DOUBLE */
    FLURM_FT_CONST8,     /* no member: packs ARG; unpack reads and ignores it        */
    FLURM_FT_CONST16,
    FLURM_FT_CONST32,
    FLURM_FT_NULLSTR,    /* no member: packs a NULL string; unpack skips any string  */
    FLURM_FT_STRUCT,     /* embedded struct laid out by SUB                          */
    FLURM_FT_LIST,       /* pointer to SUB-sized array + uint32_t count member (aux);
                            wire: u32 count (NO_VAL when the pointer is NULL), records */
    FLURM_FT_RECORDS,    /* pointer to SUB-sized array + uint32_t count member (aux)
                            that an EARLIER field already sent: only the records go on
                            the wire (SLURM's header-counted record arrays)             */
    FLURM_FT_CUSTOM      /* PACK/UNPACK/FREE callbacks receive the whole struct      */
} flurm_ftype_t;

struct flurm_table;

typedef struct flurm_field {
    flurm_ftype_t type;
    size_t off;                        /* member offset (unused for CONST/NULLSTR)      */
    size_t aux;                        /* offset of the count/length member            */
    uint64_t arg;                      /* CONST value                                   */
    const struct flurm_table *sub;     /* STRUCT / LIST element layout                  */
    int (*pack)(flurm_buf_t *b, const void *obj);
    int (*unpack)(flurm_buf_t *b, void *obj);
    void (*free)(void *obj);
    const char *name;                  /* member name, for diagnostics                  */
} flurm_field_t;

typedef struct flurm_table {
    const char *name;
    size_t size;                       /* sizeof the struct                             */
    const flurm_field_t *fields;
    size_t nfields;
} flurm_table_t;

/* Appends OBJ laid out by T. Returns buf->err. */
int flurm_table_pack(const flurm_table_t *t, const void *obj, flurm_buf_t *b);
/* Zeroes OBJ, then fills it from B. On failure OBJ is freed again (all zero) and the sticky
 * error is returned: nothing leaks. */
int flurm_table_unpack(const flurm_table_t *t, void *obj, flurm_buf_t *b);
/* Frees what OBJ owns (not OBJ itself) and zeroes it. */
void flurm_table_free(const flurm_table_t *t, void *obj);

/* Compile-time member type check: evaluates to the member's offset, or fails to compile. */
#define FLURM_MEMBER_OF_TYPE(T, m, ctype) \
    (offsetof(T, m) + 0 * sizeof(char[_Generic(((T *)0)->m, ctype: 1, default: -1)]))

#define FLD_(ft, T, m, ctype) { .type = ft, .off = FLURM_MEMBER_OF_TYPE(T, m, ctype), .name = #m }
#define FLD_U8(T, m) FLD_(FLURM_FT_U8, T, m, uint8_t)
#define FLD_U16(T, m) FLD_(FLURM_FT_U16, T, m, uint16_t)
#define FLD_U32(T, m) FLD_(FLURM_FT_U32, T, m, uint32_t)
#define FLD_U64(T, m) FLD_(FLURM_FT_U64, T, m, uint64_t)
#define FLD_BOOL(T, m) FLD_(FLURM_FT_BOOL, T, m, bool)
#define FLD_TIME(T, m) FLD_(FLURM_FT_TIME, T, m, time_t)
#define FLD_DOUBLE(T, m) FLD_(FLURM_FT_DOUBLE, T, m, double)
#define FLD_STR(T, m) FLD_(FLURM_FT_STR, T, m, char *)
#define FLD_COUNTED_(ft, T, m, ctype, cnt)                                           \
    { .type = ft, .off = FLURM_MEMBER_OF_TYPE(T, m, ctype),                          \
      .aux = FLURM_MEMBER_OF_TYPE(T, cnt, uint32_t), .name = #m }
#define FLD_MEM(T, m, len) FLD_COUNTED_(FLURM_FT_MEM, T, m, void *, len)
#define FLD_STR_ARRAY(T, m, cnt) FLD_COUNTED_(FLURM_FT_STR_ARRAY, T, m, char **, cnt)
#define FLD_U16_ARRAY(T, m, cnt) FLD_COUNTED_(FLURM_FT_U16_ARRAY, T, m, uint16_t *, cnt)
#define FLD_U32_ARRAY(T, m, cnt) FLD_COUNTED_(FLURM_FT_U32_ARRAY, T, m, uint32_t *, cnt)
#define FLD_U64_ARRAY(T, m, cnt) FLD_COUNTED_(FLURM_FT_U64_ARRAY, T, m, uint64_t *, cnt)
#define FLD_DOUBLE_ARRAY(T, m, cnt) FLD_COUNTED_(FLURM_FT_DOUBLE_ARRAY, T, m, double *, cnt)
#define FLD_BITMAP(T, m, nbits) FLD_COUNTED_(FLURM_FT_BITMAP, T, m, uint64_t *, nbits)
#define FLD_CONST8(v, label) { .type = FLURM_FT_CONST8, .arg = (v), .name = label }
#define FLD_CONST16(v, label) { .type = FLURM_FT_CONST16, .arg = (v), .name = label }
#define FLD_CONST32(v, label) { .type = FLURM_FT_CONST32, .arg = (v), .name = label }
#define FLD_NULLSTR(label) { .type = FLURM_FT_NULLSTR, .name = label }
#define FLD_STRUCT(T, m, subtab) { .type = FLURM_FT_STRUCT, .off = offsetof(T, m), .sub = &(subtab), .name = #m }
#define FLD_LIST(T, m, cnt, subtab)                                                   \
    { .type = FLURM_FT_LIST, .off = offsetof(T, m),                                   \
      .aux = FLURM_MEMBER_OF_TYPE(T, cnt, uint32_t), .sub = &(subtab), .name = #m }
#define FLD_RECORDS(T, m, cnt, subtab)                                                \
    { .type = FLURM_FT_RECORDS, .off = offsetof(T, m),                                \
      .aux = FLURM_MEMBER_OF_TYPE(T, cnt, uint32_t), .sub = &(subtab), .name = #m }
#define FLD_CUSTOM(p, u, f, label) { .type = FLURM_FT_CUSTOM, .pack = (p), .unpack = (u), .free = (f), .name = label }

#define FLURM_TABLE(var, T, arr) \
    const flurm_table_t var = { #T, sizeof(T), arr, sizeof(arr) / sizeof((arr)[0]) }

#endif
