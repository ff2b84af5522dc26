/* libflurm/auth/k12.c — KT128 (KangarooTwelve, RFC 9861) over TurboSHAKE128.
 *
 * Written from RFC 9861 sections 2-3: Keccak-p[1600, n_r = 12] (the last 12 rounds of
 * Keccak-f[1600]), TurboSHAKE128 = sponge with rate 168 bytes and domain byte D, and KT128 =
 * tree hash over S = M || C || length_encode(|C|) cut into 8192-byte chunks. SLURM 22.05 hashes
 * message bodies with it (src/plugins/hash/k12, XKCP's KangarooTwelve). Lanes are read and
 * written little-endian with shifts, so the code is endian-neutral. */
#include <stdint.h>
#include <string.h>

#include <flurm/auth.h>

#define TS128_RATE 168u          /* bytes: (1600 - 2 * 128) / 8 */
#define KT_CHUNK 8192u
#define KT_CV_LEN 32u            /* chaining value of a leaf: 256 bits for KT128 */
#define D_SINGLE 0x07u           /* whole input in one node */
#define D_LEAF 0x0Bu             /* leaf node producing a chaining value */
#define D_FINAL 0x06u            /* final node of a tree */

#define ROL64(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

/* Round constants of Keccak-f[1600] rounds 12..23: Keccak-p[1600, 12] runs those. */
static const uint64_t k12_rc[12] = {
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* Keccak-p[1600, 12] on ST (lane (x, y) at index x + 5y). Each round is written out lane by lane
 * (theta, rho + pi into b, chi, iota); sXY is lane (x, y). */
static void keccak_p1600_12(uint64_t st[25])
{
    uint64_t s00 = st[0], s10 = st[1], s20 = st[2], s30 = st[3], s40 = st[4];
    uint64_t s01 = st[5], s11 = st[6], s21 = st[7], s31 = st[8], s41 = st[9];
    uint64_t s02 = st[10], s12 = st[11], s22 = st[12], s32 = st[13], s42 = st[14];
    uint64_t s03 = st[15], s13 = st[16], s23 = st[17], s33 = st[18], s43 = st[19];
    uint64_t s04 = st[20], s14 = st[21], s24 = st[22], s34 = st[23], s44 = st[24];
    uint64_t b00, b10, b20, b30, b40;
    uint64_t b01, b11, b21, b31, b41;
    uint64_t b02, b12, b22, b32, b42;
    uint64_t b03, b13, b23, b33, b43;
    uint64_t b04, b14, b24, b34, b44;
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    for (unsigned i = 0; i < 12; i++) {
        const uint64_t rc = k12_rc[i];
        c0 = s00 ^ s01 ^ s02 ^ s03 ^ s04; c1 = s10 ^ s11 ^ s12 ^ s13 ^ s14;
        c2 = s20 ^ s21 ^ s22 ^ s23 ^ s24; c3 = s30 ^ s31 ^ s32 ^ s33 ^ s34;
        c4 = s40 ^ s41 ^ s42 ^ s43 ^ s44; d0 = c4 ^ ROL64(c1, 1); d1 = c0 ^ ROL64(c2, 1);
        d2 = c1 ^ ROL64(c3, 1); d3 = c2 ^ ROL64(c4, 1); d4 = c3 ^ ROL64(c0, 1); b00 = s00 ^ d0;
        b13 = ROL64(s01 ^ d0, 36); b21 = ROL64(s02 ^ d0, 3); b34 = ROL64(s03 ^ d0, 41);
        b42 = ROL64(s04 ^ d0, 18); b02 = ROL64(s10 ^ d1, 1); b10 = ROL64(s11 ^ d1, 44);
        b23 = ROL64(s12 ^ d1, 10); b31 = ROL64(s13 ^ d1, 45); b44 = ROL64(s14 ^ d1, 2);
        b04 = ROL64(s20 ^ d2, 62); b12 = ROL64(s21 ^ d2, 6); b20 = ROL64(s22 ^ d2, 43);
        b33 = ROL64(s23 ^ d2, 15); b41 = ROL64(s24 ^ d2, 61); b01 = ROL64(s30 ^ d3, 28);
        b14 = ROL64(s31 ^ d3, 55); b22 = ROL64(s32 ^ d3, 25); b30 = ROL64(s33 ^ d3, 21);
        b43 = ROL64(s34 ^ d3, 56); b03 = ROL64(s40 ^ d4, 27); b11 = ROL64(s41 ^ d4, 20);
        b24 = ROL64(s42 ^ d4, 39); b32 = ROL64(s43 ^ d4, 8); b40 = ROL64(s44 ^ d4, 14);
        s00 = b00 ^ (~b10 & b20); s10 = b10 ^ (~b20 & b30); s20 = b20 ^ (~b30 & b40);
        s30 = b30 ^ (~b40 & b00); s40 = b40 ^ (~b00 & b10); s01 = b01 ^ (~b11 & b21);
        s11 = b11 ^ (~b21 & b31); s21 = b21 ^ (~b31 & b41); s31 = b31 ^ (~b41 & b01);
        s41 = b41 ^ (~b01 & b11); s02 = b02 ^ (~b12 & b22); s12 = b12 ^ (~b22 & b32);
        s22 = b22 ^ (~b32 & b42); s32 = b32 ^ (~b42 & b02); s42 = b42 ^ (~b02 & b12);
        s03 = b03 ^ (~b13 & b23); s13 = b13 ^ (~b23 & b33); s23 = b23 ^ (~b33 & b43);
        s33 = b33 ^ (~b43 & b03); s43 = b43 ^ (~b03 & b13); s04 = b04 ^ (~b14 & b24);
        s14 = b14 ^ (~b24 & b34); s24 = b24 ^ (~b34 & b44); s34 = b34 ^ (~b44 & b04);
        s44 = b44 ^ (~b04 & b14); s00 ^= rc;
    }
    st[0] = s00; st[1] = s10; st[2] = s20; st[3] = s30; st[4] = s40;
    st[5] = s01; st[6] = s11; st[7] = s21; st[8] = s31; st[9] = s41;
    st[10] = s02; st[11] = s12; st[12] = s22; st[13] = s32; st[14] = s42;
    st[15] = s03; st[16] = s13; st[17] = s23; st[18] = s33; st[19] = s43;
    st[20] = s04; st[21] = s14; st[22] = s24; st[23] = s34; st[24] = s44;
}

static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* A TurboSHAKE128 sponge: POS bytes of the current block absorbed (or squeezed). */
typedef struct ts128 {
    uint64_t st[25];
    unsigned pos;
} ts128_t;

static void ts128_init(ts128_t *t)
{
    memset(t, 0, sizeof *t);
}

static inline void ts128_xor_byte(ts128_t *t, unsigned i, uint8_t b)
{
    t->st[i >> 3] ^= (uint64_t)b << (8 * (i & 7));
}

static void ts128_absorb(ts128_t *t, const uint8_t *in, size_t len)
{
    while (len > 0) {
        if (t->pos == 0 && len >= TS128_RATE) {
            for (unsigned i = 0; i < TS128_RATE / 8; i++)
                t->st[i] ^= load64_le(in + 8 * i);
            keccak_p1600_12(t->st);
            in += TS128_RATE;
            len -= TS128_RATE;
            continue;
        }
        if ((t->pos & 7) == 0 && len >= 8 && t->pos + 8 <= TS128_RATE) {
            t->st[t->pos >> 3] ^= load64_le(in);
            t->pos += 8;
            in += 8;
            len -= 8;
        } else {
            ts128_xor_byte(t, t->pos++, *in++);
            len--;
        }
        if (t->pos == TS128_RATE) {
            keccak_p1600_12(t->st);
            t->pos = 0;
        }
    }
}

/* Pads with domain byte D (0x01..0x7F) and switches to squeezing. */
static void ts128_finish(ts128_t *t, uint8_t d)
{
    ts128_xor_byte(t, t->pos, d);
    ts128_xor_byte(t, TS128_RATE - 1, 0x80);
    keccak_p1600_12(t->st);
    t->pos = 0;
}

static void ts128_squeeze(ts128_t *t, uint8_t *out, size_t len)
{
    while (len > 0) {
        if (t->pos == TS128_RATE) {
            keccak_p1600_12(t->st);
            t->pos = 0;
        }
        *out++ = (uint8_t)(t->st[t->pos >> 3] >> (8 * (t->pos & 7)));
        t->pos++;
        len--;
    }
}

/* length_encode(x) of RFC 9861 section 3.3: big-endian bytes of X without leading zeros, then
 * their count (0 encodes as the single byte 0x00). Writes at most 9 bytes; returns the length. */
static size_t length_encode(uint64_t x, uint8_t out[9])
{
    size_t n = 0;
    for (uint64_t v = x; v > 0; v >>= 8)
        n++;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(x >> (8 * (n - 1 - i)));
    out[n] = (uint8_t)n;
    return n + 1;
}

/* Incremental KT128 over the virtual string S. The first chunk goes straight into FINAL; once
 * more than one chunk exists, FINAL has absorbed S_0 || 0x03 || 0x00^7 and each later chunk is
 * hashed in LEAF (D = 0x0B) into a 32-byte chaining value that FINAL absorbs. A chunk boundary is
 * crossed only when a byte beyond it arrives, so |S| = 8192 stays a single node. */
typedef struct kt128 {
    ts128_t final;
    ts128_t leaf;
    uint64_t leaves;     /* chunks after S_0 started so far */
    size_t chunk_used;   /* bytes of S in the current chunk */
} kt128_t;

static void kt128_init(kt128_t *k)
{
    ts128_init(&k->final);
    k->leaves = 0;
    k->chunk_used = 0;
}

static void kt128_close_leaf(kt128_t *k)
{
    uint8_t cv[KT_CV_LEN];
    ts128_finish(&k->leaf, D_LEAF);
    ts128_squeeze(&k->leaf, cv, sizeof cv);
    ts128_absorb(&k->final, cv, sizeof cv);
}

static void kt128_update(kt128_t *k, const uint8_t *in, size_t len)
{
    while (len > 0) {
        if (k->chunk_used == KT_CHUNK) {
            if (k->leaves == 0) {
                static const uint8_t marker[8] = { 0x03, 0, 0, 0, 0, 0, 0, 0 };
                ts128_absorb(&k->final, marker, sizeof marker);
            } else {
                kt128_close_leaf(k);
            }
            ts128_init(&k->leaf);
            k->leaves++;
            k->chunk_used = 0;
        }
        size_t n = KT_CHUNK - k->chunk_used;
        if (n > len)
            n = len;
        ts128_absorb(k->leaves == 0 ? &k->final : &k->leaf, in, n);
        k->chunk_used += n;
        in += n;
        len -= n;
    }
}

static void kt128_finish(kt128_t *k)
{
    if (k->leaves == 0) {
        ts128_finish(&k->final, D_SINGLE);
        return;
    }
    kt128_close_leaf(k);
    uint8_t enc[9 + 2];
    size_t n = length_encode(k->leaves, enc);
    enc[n++] = 0xFF;
    enc[n++] = 0xFF;
    ts128_absorb(&k->final, enc, n);
    ts128_finish(&k->final, D_FINAL);
}

void flurm_k12(const void *in, size_t in_len, const void *custom, size_t custom_len,
               uint8_t *out, size_t out_len)
{
    kt128_t k;
    uint8_t enc[9];
    kt128_init(&k);
    if (in_len > 0)
        kt128_update(&k, in, in_len);
    if (custom_len > 0)
        kt128_update(&k, custom, custom_len);
    kt128_update(&k, enc, length_encode(custom_len, enc));
    kt128_finish(&k);
    ts128_squeeze(&k.final, out, out_len);
}
