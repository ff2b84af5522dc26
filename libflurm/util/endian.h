/* libflurm/util/endian.h — big-endian integers in byte arrays (internal: the formats libflurm
 * writes to disk and to the wire outside flurm_buf_t). */
#ifndef FLURM_UTIL_ENDIAN_H
#define FLURM_UTIL_ENDIAN_H

#include <stdint.h>

static inline void be_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline uint16_t be_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void be_put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint32_t be_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void be_put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t be_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
