/* libflurm/auth/chan.c — authenticated channels (include/flurm/chan.h): munge at the start of a
 * connection, libsodium for the rest.
 *
 * Credential payloads (inside munge: integrity and origin vouched for by munged):
 *   HELLO    "FH" 0x01 purpose | u16 name_len | name | X25519 public key (32)
 *   WELCOME  "FW" 0x01 purpose | u16 name_len | name | X25519 public key (32)
 *            | BLAKE2b-256 of the HELLO payload it answers
 * The distinct tags keep a HELLO credential from passing for a WELCOME (reflection). Keys are
 * crypto_kx's: BLAKE2b-512(X25519 shared point | client pk | server pk) split into one key per
 * direction, so a frame sealed by one side cannot be opened as if the other side had sent it. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include <flurm/chan.h>

#include "auth_internal.h"
#include "util/endian.h"
#include "chan_internal.h"

#define HDR_LEN 4
#define SEQ_LEN 8
#define TAG_LEN crypto_aead_chacha20poly1305_ietf_ABYTES
#define PK_LEN crypto_kx_PUBLICKEYBYTES
#define KEY_LEN crypto_kx_SESSIONKEYBYTES
#define DIGEST_LEN 32
#define REFUSE_TEXT_MAX 200
#define VERSION 1

_Static_assert(HDR_LEN + SEQ_LEN + TAG_LEN == FLURM_CHAN_OVERHEAD, "FLURM_CHAN_OVERHEAD");
_Static_assert(KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "kx key is an AEAD key");

struct flurm_chan_hs {
    flurm_chan_purpose_t purpose;
    uint8_t pk[PK_LEN];
    uint8_t sk[crypto_kx_SECRETKEYBYTES];
    uint8_t hello_digest[DIGEST_LEN];
};

struct flurm_chan {
    uint8_t rx[KEY_LEN];
    uint8_t tx[KEY_LEN];
    uint64_t send_seq;          /* last sequence number sealed */
    uint64_t recv_top;          /* highest sequence number opened */
    uint64_t recv_seen;         /* bit i: recv_top - i was opened */
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc;

static void sodium_setup(void) { sodium_rc = sodium_init() < 0 ? -1 : 0; }

static int crypto_ready(const char **reason)
{
    pthread_once(&sodium_once, sodium_setup);
    if (sodium_rc != 0 && reason)
        *reason = "libsodium failed to initialise";
    return sodium_rc == 0 ? FLURM_OK : FLURM_EIO;
}

static void set_reason(const char **reason, const char *why)
{
    if (reason)
        *reason = why;
}

static int put_header(flurm_buf_t *out, flurm_chan_frame_t type)
{
    const uint8_t h[HDR_LEN] = { 'F', 'C', VERSION, (uint8_t)type };
    return flurm_pack_raw(out, h, sizeof h);
}

flurm_chan_frame_t flurm_chan_frame_type(const void *frame, size_t len)
{
    const uint8_t *p = frame;
    if (!p || len < HDR_LEN || p[0] != 'F' || p[1] != 'C' || p[2] != VERSION)
        return FLURM_CHAN_FRAME_BAD;
    switch (p[3]) {
    case FLURM_CHAN_FRAME_HELLO:
    case FLURM_CHAN_FRAME_WELCOME:
    case FLURM_CHAN_FRAME_DATA:
    case FLURM_CHAN_FRAME_REFUSE:
        return (flurm_chan_frame_t)p[3];
    default:
        return FLURM_CHAN_FRAME_BAD;
    }
}

/* ------------------------------------------------------------------ credential payloads */

typedef struct payload {
    char tag;                   /* 'H' or 'W' */
    flurm_chan_purpose_t purpose;
    char name[FLURM_CHAN_NAME_MAX + 1];
    uint8_t pk[PK_LEN];
    uint8_t digest[DIGEST_LEN];  /* WELCOME only */
} payload_t;

static bool valid_name(const char *name, size_t n)
{
    if (n == 0 || n > FLURM_CHAN_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
            return false;
    return true;
}

static size_t payload_len(const payload_t *p)
{
    return 4 + 2 + strlen(p->name) + PK_LEN + (p->tag == 'W' ? DIGEST_LEN : 0);
}

static void payload_pack(const payload_t *p, uint8_t *out)
{
    size_t n = strlen(p->name);
    out[0] = 'F';
    out[1] = (uint8_t)p->tag;
    out[2] = VERSION;
    out[3] = (uint8_t)p->purpose;
    be_put16(out + 4, (uint16_t)n);
    memcpy(out + 6, p->name, n);
    memcpy(out + 6 + n, p->pk, PK_LEN);
    if (p->tag == 'W')
        memcpy(out + 6 + n + PK_LEN, p->digest, DIGEST_LEN);
}

static bool payload_unpack(const uint8_t *in, size_t len, char tag, payload_t *p)
{
    if (len < 6 || in[0] != 'F' || in[1] != (uint8_t)tag || in[2] != VERSION)
        return false;
    size_t n = be_get16(in + 4);
    size_t want = 6 + n + PK_LEN + (tag == 'W' ? DIGEST_LEN : 0);
    if (len != want || !valid_name((const char *)in + 6, n))
        return false;
    p->tag = tag;
    p->purpose = (flurm_chan_purpose_t)in[3];
    memcpy(p->name, in + 6, n);
    p->name[n] = '\0';
    memcpy(p->pk, in + 6 + n, PK_LEN);
    if (tag == 'W')
        memcpy(p->digest, in + 6 + n + PK_LEN, DIGEST_LEN);
    return true;
}

/* Makes the credential for P and appends it to OUT. */
static int encode_payload(flurm_auth_t *a, const payload_t *p, uint8_t *digest, flurm_buf_t *out,
                          const char **reason)
{
    uint8_t raw[6 + FLURM_CHAN_NAME_MAX + PK_LEN + DIGEST_LEN];
    size_t len = payload_len(p);
    payload_pack(p, raw);
    if (digest)
        crypto_generichash(digest, DIGEST_LEN, raw, len, NULL, 0);
    char *cred = NULL;
    int rc = auth_raw_encode(a, raw, len, &cred, reason);
    if (rc != FLURM_OK)
        return rc;
    rc = flurm_pack_raw(out, cred, strlen(cred));
    free(cred);
    if (rc != FLURM_OK)
        set_reason(reason, "out of memory");
    return rc;
}

/* Decodes the credential text CRED (LEN bytes, not NUL-terminated) into P; DIGEST (may be NULL)
 * gets the BLAKE2b of its payload. */
static int decode_payload(flurm_auth_t *a, const uint8_t *cred, size_t len, char tag, payload_t *p,
                          uint8_t *digest, flurm_chan_peer_t *peer, const char **reason)
{
    if (len == 0 || len > 64 * 1024 || memchr(cred, '\0', len)) {
        set_reason(reason, "malformed credential");
        return FLURM_EAUTH;
    }
    char *text = malloc(len + 1);
    if (!text) {
        set_reason(reason, "out of memory");
        return FLURM_ENOMEM;
    }
    memcpy(text, cred, len);
    text[len] = '\0';
    void *raw = NULL;
    size_t rlen = 0;
    uid_t uid;
    gid_t gid;
    uint32_t addr;
    int rc = auth_raw_decode(a, text, &raw, &rlen, &uid, &gid, &addr, reason);
    free(text);
    if (rc != FLURM_OK)
        return rc;
    if (!payload_unpack(raw, rlen, tag, p)) {
        free(raw);
        set_reason(reason, tag == 'H' ? "credential is no channel HELLO" : "credential is no channel WELCOME");
        return FLURM_EAUTH;
    }
    if (digest)
        crypto_generichash(digest, DIGEST_LEN, raw, rlen, NULL, 0);
    free(raw);
    memset(peer, 0, sizeof *peer);
    peer->uid = uid;
    peer->gid = gid;
    peer->addr = addr;
    peer->purpose = p->purpose;
    memcpy(peer->name, p->name, sizeof peer->name);
    return FLURM_OK;
}

/* ------------------------------------------------------------------ handshake */

int flurm_chan_hello(flurm_auth_t *a, flurm_chan_purpose_t purpose, const char *name,
                     flurm_chan_hs_t **hs, flurm_buf_t *out, const char **reason)
{
    if (!a || !hs || !out || !name || !valid_name(name, strlen(name))) {
        set_reason(reason, "invalid channel name");
        return FLURM_EINVAL;
    }
    int rc = crypto_ready(reason);
    if (rc != FLURM_OK)
        return rc;
    flurm_chan_hs_t *h = malloc(sizeof *h);
    if (!h) {
        set_reason(reason, "out of memory");
        return FLURM_ENOMEM;
    }
    h->purpose = purpose;
    crypto_kx_keypair(h->pk, h->sk);
    payload_t p = { .tag = 'H', .purpose = purpose };
    snprintf(p.name, sizeof p.name, "%s", name);
    memcpy(p.pk, h->pk, PK_LEN);

    size_t mark = out->size;
    uint8_t len16[2];
    be_put16(len16, (uint16_t)strlen(name));
    rc = put_header(out, FLURM_CHAN_FRAME_HELLO);
    if (rc == FLURM_OK)
        rc = flurm_pack_raw(out, len16, sizeof len16);
    if (rc == FLURM_OK)
        rc = flurm_pack_raw(out, name, strlen(name));
    if (rc != FLURM_OK)
        set_reason(reason, "out of memory");
    else
        rc = encode_payload(a, &p, h->hello_digest, out, reason);
    if (rc != FLURM_OK) {
        out->size = mark;
        flurm_chan_hs_free(h);
        return rc;
    }
    *hs = h;
    return FLURM_OK;
}

/* The HELLO frame's clear name and where its credential starts. */
static int hello_split(const void *frame, size_t len, char *name, const uint8_t **cred, size_t *cred_len)
{
    const uint8_t *p = frame;
    if (flurm_chan_frame_type(frame, len) != FLURM_CHAN_FRAME_HELLO || len < HDR_LEN + 2)
        return FLURM_EINVAL;
    size_t n = be_get16(p + HDR_LEN);
    if (len < HDR_LEN + 2 + n || !valid_name((const char *)p + HDR_LEN + 2, n))
        return FLURM_EINVAL;
    memcpy(name, p + HDR_LEN + 2, n);
    name[n] = '\0';
    *cred = p + HDR_LEN + 2 + n;
    *cred_len = len - (HDR_LEN + 2 + n);
    return FLURM_OK;
}

int flurm_chan_hello_name(const void *frame, size_t len, char *name)
{
    const uint8_t *cred;
    size_t cred_len;
    return name ? hello_split(frame, len, name, &cred, &cred_len) : FLURM_EINVAL;
}

static flurm_chan_t *chan_new(void)
{
    return calloc(1, sizeof(flurm_chan_t));
}

int flurm_chan_accept(flurm_auth_t *a, flurm_chan_purpose_t purpose, const char *my_name,
                      const void *frame, size_t len, flurm_chan_authorize_fn authorize, void *arg,
                      flurm_chan_peer_t *peer, flurm_chan_t **chan, flurm_buf_t *out,
                      const char **reason)
{
    char clear_name[FLURM_CHAN_NAME_MAX + 1];
    const uint8_t *cred;
    size_t cred_len;
    if (!a || !peer || !chan || !out || !my_name || !valid_name(my_name, strlen(my_name))) {
        set_reason(reason, "invalid argument");
        return FLURM_EINVAL;
    }
    if (hello_split(frame, len, clear_name, &cred, &cred_len) != FLURM_OK) {
        set_reason(reason, "not a HELLO frame");
        return FLURM_EINVAL;
    }
    int rc = crypto_ready(reason);
    if (rc != FLURM_OK)
        return rc;
    payload_t hello;
    flurm_chan_peer_t who;
    uint8_t digest[DIGEST_LEN];
    rc = decode_payload(a, cred, cred_len, 'H', &hello, digest, &who, reason);
    if (rc != FLURM_OK)
        return rc;
    if (hello.purpose != purpose) {
        set_reason(reason, "credential made for another channel");
        return FLURM_EAUTH;
    }
    if (strcmp(hello.name, clear_name) != 0) {
        set_reason(reason, "HELLO names another peer than its credential");
        return FLURM_EAUTH;
    }
    const char *no = authorize ? authorize(arg, &who) : NULL;
    if (no) {
        *peer = who;
        set_reason(reason, no);
        return FLURM_EPERM;
    }
    flurm_chan_t *c = chan_new();
    uint8_t sk[crypto_kx_SECRETKEYBYTES];
    payload_t welcome = { .tag = 'W', .purpose = purpose };
    if (!c) {
        set_reason(reason, "out of memory");
        return FLURM_ENOMEM;
    }
    crypto_kx_keypair(welcome.pk, sk);
    if (crypto_kx_server_session_keys(c->rx, c->tx, welcome.pk, sk, hello.pk) != 0) {
        sodium_memzero(sk, sizeof sk);
        flurm_chan_free(c);
        set_reason(reason, "unusable public key");
        return FLURM_EAUTH;
    }
    sodium_memzero(sk, sizeof sk);
    snprintf(welcome.name, sizeof welcome.name, "%s", my_name);
    memcpy(welcome.digest, digest, DIGEST_LEN);
    size_t mark = out->size;
    rc = put_header(out, FLURM_CHAN_FRAME_WELCOME);
    if (rc == FLURM_OK)
        rc = encode_payload(a, &welcome, NULL, out, reason);
    else
        set_reason(reason, "out of memory");
    if (rc != FLURM_OK) {
        out->size = mark;
        flurm_chan_free(c);
        return rc;
    }
    *peer = who;
    *chan = c;
    return FLURM_OK;
}

int flurm_chan_finish(flurm_auth_t *a, flurm_chan_hs_t *hs, const void *frame, size_t len,
                      flurm_chan_peer_t *peer, flurm_chan_t **chan, const char **reason)
{
    int rc = FLURM_EINVAL;
    if (!a || !hs || !peer || !chan) {
        set_reason(reason, "invalid argument");
        goto out;
    }
    if (flurm_chan_frame_type(frame, len) != FLURM_CHAN_FRAME_WELCOME) {
        set_reason(reason, "not a WELCOME frame");
        goto out;
    }
    payload_t w;
    flurm_chan_peer_t who;
    rc = decode_payload(a, (const uint8_t *)frame + HDR_LEN, len - HDR_LEN, 'W', &w, NULL, &who, reason);
    if (rc != FLURM_OK)
        goto out;
    rc = FLURM_EAUTH;
    if (w.purpose != hs->purpose) {
        set_reason(reason, "credential made for another channel");
        goto out;
    }
    if (sodium_memcmp(w.digest, hs->hello_digest, DIGEST_LEN) != 0) {
        set_reason(reason, "WELCOME answers another HELLO");
        goto out;
    }
    flurm_chan_t *c = chan_new();
    if (!c) {
        rc = FLURM_ENOMEM;
        set_reason(reason, "out of memory");
        goto out;
    }
    if (crypto_kx_client_session_keys(c->rx, c->tx, hs->pk, hs->sk, w.pk) != 0) {
        flurm_chan_free(c);
        set_reason(reason, "unusable public key");
        goto out;
    }
    *peer = who;
    *chan = c;
    rc = FLURM_OK;
out:
    flurm_chan_hs_free(hs);
    return rc;
}

/* Plain malloc, wiped before free: sodium_malloc's guard pages and mlock would cost three pages
 * of locked memory per connection, and RLIMIT_MEMLOCK would cap the node count. */
void flurm_chan_hs_free(flurm_chan_hs_t *hs)
{
    if (hs) {
        sodium_memzero(hs, sizeof *hs);
        free(hs);
    }
}

void flurm_chan_free(flurm_chan_t *c)
{
    if (c) {
        sodium_memzero(c, sizeof *c);
        free(c);
    }
}

/* ------------------------------------------------------------------ DATA */

static void nonce_of(uint64_t seq, uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES])
{
    memset(nonce, 0, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
    be_put64(nonce + 4, seq);
}

int flurm_chan_seal(flurm_chan_t *c, const void *plain, size_t len, flurm_buf_t *out)
{
    if (!c || !out || (len && !plain))
        return FLURM_EINVAL;
    if (c->send_seq == UINT64_MAX)
        return FLURM_ERANGE;
    if (flurm_buf_reserve(out, FLURM_CHAN_OVERHEAD + len) != FLURM_OK)
        return FLURM_ENOMEM;
    uint64_t seq = c->send_seq + 1;
    uint8_t *h = out->data + out->size;
    h[0] = 'F';
    h[1] = 'C';
    h[2] = VERSION;
    h[3] = FLURM_CHAN_FRAME_DATA;
    be_put64(h + HDR_LEN, seq);
    uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
    nonce_of(seq, nonce);
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(h + HDR_LEN + SEQ_LEN, &clen, plain, len, h,
                                              HDR_LEN + SEQ_LEN, NULL, nonce, c->tx);
    out->size += HDR_LEN + SEQ_LEN + (size_t)clen;
    c->send_seq = seq;
    return FLURM_OK;
}

/* The replay window: 0 if SEQ may be accepted. */
static bool seen(const flurm_chan_t *c, uint64_t seq)
{
    if (seq == 0)
        return true;
    if (seq > c->recv_top)
        return false;
    uint64_t d = c->recv_top - seq;
    return d >= FLURM_CHAN_WINDOW || (c->recv_seen >> d & 1);
}

static void mark_seen(flurm_chan_t *c, uint64_t seq)
{
    if (seq > c->recv_top) {
        uint64_t shift = seq - c->recv_top;
        c->recv_seen = shift >= 64 ? 0 : c->recv_seen << shift;
        c->recv_seen |= 1;
        c->recv_top = seq;
    } else {
        c->recv_seen |= (uint64_t)1 << (c->recv_top - seq);
    }
}

int flurm_chan_open(flurm_chan_t *c, const void *frame, size_t len, flurm_buf_t *plain,
                    const char **reason)
{
    if (!c || !plain || flurm_chan_frame_type(frame, len) != FLURM_CHAN_FRAME_DATA ||
        len < FLURM_CHAN_OVERHEAD) {
        set_reason(reason, "not a DATA frame");
        return FLURM_EINVAL;
    }
    const uint8_t *h = frame;
    uint64_t seq = be_get64(h + HDR_LEN);
    if (seen(c, seq)) {
        set_reason(reason, "replayed");
        return FLURM_EAUTH;
    }
    size_t clen = len - HDR_LEN - SEQ_LEN;
    plain->size = 0;
    plain->pos = 0;
    if (flurm_buf_reserve(plain, clen - TAG_LEN + 1) != FLURM_OK) {
        set_reason(reason, "out of memory");
        return FLURM_ENOMEM;
    }
    uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
    nonce_of(seq, nonce);
    unsigned long long mlen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(plain->data, &mlen, NULL, h + HDR_LEN + SEQ_LEN, clen,
                                                  h, HDR_LEN + SEQ_LEN, nonce, c->rx) != 0) {
        set_reason(reason, "bad tag");
        return FLURM_EAUTH;
    }
    plain->size = (size_t)mlen;
    mark_seen(c, seq);
    return FLURM_OK;
}

/* ------------------------------------------------------------------ REFUSE */

int flurm_chan_refuse(flurm_chan_refuse_code_t code, const char *text, flurm_buf_t *out)
{
    if (!out)
        return FLURM_EINVAL;
    size_t n = text ? strnlen(text, REFUSE_TEXT_MAX) : 0;
    uint8_t c16[2];
    be_put16(c16, (uint16_t)code);
    size_t mark = out->size;
    int rc = put_header(out, FLURM_CHAN_FRAME_REFUSE);
    if (rc == FLURM_OK)
        rc = flurm_pack_raw(out, c16, sizeof c16);
    if (rc == FLURM_OK && n)
        rc = flurm_pack_raw(out, text, n);
    if (rc != FLURM_OK)
        out->size = mark;
    return rc;
}

int flurm_chan_refusal(const void *frame, size_t len, flurm_chan_refuse_code_t *code, char *text,
                       size_t text_size)
{
    if (flurm_chan_frame_type(frame, len) != FLURM_CHAN_FRAME_REFUSE || len < HDR_LEN + 2)
        return FLURM_EINVAL;
    const uint8_t *p = frame;
    if (code)
        *code = (flurm_chan_refuse_code_t)be_get16(p + HDR_LEN);
    if (text && text_size) {
        size_t n = len - HDR_LEN - 2;
        if (n > REFUSE_TEXT_MAX)
            n = REFUSE_TEXT_MAX;
        if (n >= text_size)
            n = text_size - 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = p[HDR_LEN + 2 + i];
            text[i] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';   /* unauthenticated: printable only */
        }
        text[n] = '\0';
    }
    return FLURM_OK;
}

/* ------------------------------------------------------------------ addresses */

int flurm_chan_local_origin(flurm_auth_t *a, uint32_t *addr, const char **reason)
{
    char *cred = NULL;
    int rc = auth_raw_encode(a, NULL, 0, &cred, reason);
    if (rc != FLURM_OK)
        return rc;
    void *p = NULL;
    size_t n = 0;
    rc = auth_raw_decode(a, cred, &p, &n, NULL, NULL, addr, reason);
    free(cred);
    free(p);
    return rc;
}

bool flurm_chan_addr_matches(const char *host, uint32_t origin, uint32_t local_origin)
{
    if (!host || !*host)
        return false;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    bool ok = false;
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        uint32_t a = ((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr.s_addr;
        bool loopback = (ntohl(a) >> 24) == 127;
        ok = (origin != 0 && a == origin) || (loopback && local_origin != 0 && origin == local_origin);
    }
    freeaddrinfo(res);
    return ok;
}

/* ------------------------------------------------------------------ test hooks */

flurm_chan_t *chan_from_keys(const uint8_t rx[32], const uint8_t tx[32])
{
    flurm_chan_t *c = chan_new();
    if (c) {
        memcpy(c->rx, rx, KEY_LEN);
        memcpy(c->tx, tx, KEY_LEN);
    }
    return c;
}

bool chan_payload_parses(const uint8_t *in, size_t len, char tag)
{
    payload_t p;
    return payload_unpack(in, len, tag, &p);
}
