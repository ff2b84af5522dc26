/* include/flurm/buf.h — growable byte buffer with SLURM 22.05 pack/unpack primitives.
 *
 * The wire rules (src/common/pack.c in SLURM): integers are big-endian; time is a signed 64-bit;
 * a double is sent as the IEEE-754 bits of (value * 1e6); a string is u32 length INCLUDING its NUL,
 * then the bytes (NULL = u32 0); a string array is u32 count + count strings; a bitmap is u32 nbits
 * (NO_VAL = none) + the packstr of "0x" + upper-case hex, most significant digit first.
 *
 * Errors are sticky: the first failure (allocation, truncated input, limit exceeded) is recorded in
 * buf->err and every later call on that buffer does nothing and returns the same error; unpack
 * outputs are then zero/NULL. Decoders therefore read a whole structure and check once at the end.
 * Nothing allocated by a failed unpack call is left to the caller.
 *
 * flurm_buf_t is a value type (callers may keep it on the stack). Not thread-safe. */
#ifndef FLURM_BUF_H
#define FLURM_BUF_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <flurm/common.h>

#define FLURM_NO_VAL8 0xFEu
#define FLURM_INFINITE8 0xFFu
#define FLURM_NO_VAL16 0xFFFEu
#define FLURM_INFINITE16 0xFFFFu
#define FLURM_NO_VAL 0xFFFFFFFEu
#define FLURM_INFINITE 0xFFFFFFFFu
#define FLURM_NO_VAL64 0xFFFFFFFFFFFFFFFEull
#define FLURM_INFINITE64 0xFFFFFFFFFFFFFFFFull

/* Largest string, blob or array element count accepted from the wire (SLURM: MAX_PACK_MEM_LEN). */
#define FLURM_MAX_PACK_LEN (1u << 30)

typedef struct flurm_buf {
    uint8_t *data;  /* bytes; owned unless cap == 0 (a borrowed read-only view) */
    size_t size;    /* bytes written / bytes available to read */
    size_t cap;     /* allocated size; 0 for a view */
    size_t pos;     /* read cursor */
    int err;        /* sticky flurm_err_t; FLURM_OK while healthy */
} flurm_buf_t;

/* An empty, owned, growable buffer (no allocation until the first write). */
FLURM_API void flurm_buf_init(flurm_buf_t *b);
/* A read-only view of LEN bytes at DATA (not copied; DATA must outlive the view). */
FLURM_API void flurm_buf_view(flurm_buf_t *b, const void *data, size_t len);
/* Frees an owned buffer's bytes and resets it to empty; a view is only reset. */
FLURM_API void flurm_buf_release(flurm_buf_t *b);
/* Ensures room for N more bytes; FLURM_ENOMEM (sticky) on failure. */
FLURM_API int flurm_buf_reserve(flurm_buf_t *b, size_t n);
/* Bytes not yet read. */
static inline size_t flurm_buf_remaining(const flurm_buf_t *b) { return b->size - b->pos; }

/* ---- packing (append at the end) ---- */
FLURM_API int flurm_pack8(flurm_buf_t *b, uint8_t v);
FLURM_API int flurm_pack16(flurm_buf_t *b, uint16_t v);
FLURM_API int flurm_pack32(flurm_buf_t *b, uint32_t v);
FLURM_API int flurm_pack64(flurm_buf_t *b, uint64_t v);
FLURM_API int flurm_pack_bool(flurm_buf_t *b, bool v);
FLURM_API int flurm_pack_time(flurm_buf_t *b, time_t v);
FLURM_API int flurm_pack_double(flurm_buf_t *b, double v);
FLURM_API int flurm_pack_raw(flurm_buf_t *b, const void *p, size_t n);           /* no prefix */
FLURM_API int flurm_packstr(flurm_buf_t *b, const char *s);                     /* NULL ok */
FLURM_API int flurm_packmem(flurm_buf_t *b, const void *p, uint32_t n);
FLURM_API int flurm_pack_str_array(flurm_buf_t *b, char *const *a, uint32_t n);
FLURM_API int flurm_pack16_array(flurm_buf_t *b, const uint16_t *a, uint32_t n);
FLURM_API int flurm_pack32_array(flurm_buf_t *b, const uint32_t *a, uint32_t n);
FLURM_API int flurm_pack64_array(flurm_buf_t *b, const uint64_t *a, uint32_t n);
/* Bitmap of NBITS bits stored as 64-bit words, bit i = words[i/64] >> (i%64) & 1.
 * WORDS == NULL packs "no bitmap" (u32 NO_VAL). */
FLURM_API int flurm_pack_bitmap(flurm_buf_t *b, const uint64_t *words, uint32_t nbits);
/* The text flurm_pack_bitmap() sends for WORDS ("0x" + hex, most significant digit first),
 * malloc'd; NULL when WORDS is NULL or out of memory. */
FLURM_API char *flurm_bitmap_hex(const uint64_t *words, uint32_t nbits);
/* Overwrites 4 bytes at offset OFF (already written) with V; for counts known only later. */
FLURM_API int flurm_pack32_at(flurm_buf_t *b, size_t off, uint32_t v);

/* ---- unpacking (from the read cursor) ---- */
FLURM_API int flurm_unpack8(flurm_buf_t *b, uint8_t *v);
FLURM_API int flurm_unpack16(flurm_buf_t *b, uint16_t *v);
FLURM_API int flurm_unpack32(flurm_buf_t *b, uint32_t *v);
FLURM_API int flurm_unpack64(flurm_buf_t *b, uint64_t *v);
FLURM_API int flurm_unpack_bool(flurm_buf_t *b, bool *v);
FLURM_API int flurm_unpack_time(flurm_buf_t *b, time_t *v);
FLURM_API int flurm_unpack_double(flurm_buf_t *b, double *v);
FLURM_API int flurm_unpack_skip(flurm_buf_t *b, size_t n);
/* *S = malloc'd NUL-terminated copy, or NULL for a packed NULL. A string whose bytes lack the
 * trailing NUL is accepted and terminated; one with an embedded NUL keeps only the prefix. */
FLURM_API int flurm_unpackstr(flurm_buf_t *b, char **s);
/* *P = malloc'd copy (NULL when N is 0). */
FLURM_API int flurm_unpackmem(flurm_buf_t *b, void **p, uint32_t *n);
/* *A = malloc'd array of N malloc'd strings (NULL when N is 0); elements may be NULL. */
FLURM_API int flurm_unpack_str_array(flurm_buf_t *b, char ***a, uint32_t *n);
FLURM_API int flurm_unpack16_array(flurm_buf_t *b, uint16_t **a, uint32_t *n);
FLURM_API int flurm_unpack32_array(flurm_buf_t *b, uint32_t **a, uint32_t *n);
FLURM_API int flurm_unpack64_array(flurm_buf_t *b, uint64_t **a, uint32_t *n);
/* *WORDS = malloc'd words (see flurm_pack_bitmap), NULL for "no bitmap" (NO_VAL or 0 bits). */
FLURM_API int flurm_unpack_bitmap(flurm_buf_t *b, uint64_t **words, uint32_t *nbits);

/* Frees an array from flurm_unpack_str_array (NULL fine). */
FLURM_API void flurm_str_array_free(char **a, uint32_t n);

#endif
