/* libflurm/auth/auth.c — MUNGE credentials with SLURM 22.05's message-hash payload.
 *
 * Every call builds its own munge_ctx_t: a libmunge context is not thread-safe, and
 * munge_decode() overwrites a context's options with those of the decoded credential, so a
 * shared or pooled context would leak one call's TTL/UID restriction into the next. A context is
 * a small malloc next to the munged round trip, and it leaves flurm_auth_t immutable after
 * flurm_auth_new(), hence shareable between threads without a lock. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <munge.h>

#include <flurm/auth.h>
#include <flurm/log.h>

#include "auth_internal.h"

/* Hash plugin ids from slurm.h (22.05): the first payload byte. */
enum auth_hash_type {
    AUTH_HASH_DEFAULT = 0,   /* hash_g_compute() maps it to the first plugin, K12 */
    AUTH_HASH_NONE = 1,
    AUTH_HASH_K12 = 2,
};

#define AUTH_DIGEST_LEN 32

struct flurm_auth {
    char *socket_path;   /* NULL = munged's default socket */
    int ttl_s;           /* 0 = munged's default */
};

flurm_auth_t *flurm_auth_new(const char *socket_path, int ttl_s)
{
    flurm_auth_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (socket_path && !(a->socket_path = strdup(socket_path))) {
        free(a);
        return NULL;
    }
    /* SLURM's slurm_get_auth_ttl() treats a negative ttl= as 0 (munged's default). */
    a->ttl_s = ttl_s > 0 ? ttl_s : 0;
    return a;
}

void flurm_auth_free(flurm_auth_t *a)
{
    if (!a)
        return;
    free(a->socket_path);
    free(a);
}

/* munged errors that mean "could not talk to munged" rather than "credential refused". */
static bool munge_err_is_io(munge_err_t e)
{
    return e == EMUNGE_SNAFU || e == EMUNGE_NO_MEMORY || e == EMUNGE_SOCKET ||
           e == EMUNGE_TIMEOUT;
}

static const char *munge_err_reason(munge_err_t e)
{
    switch (e) {
    case EMUNGE_CRED_EXPIRED: return "credential expired";
    case EMUNGE_CRED_REWOUND: return "credential rewound (encoded in the future)";
    case EMUNGE_CRED_REPLAYED: return "credential replayed";
    case EMUNGE_CRED_UNAUTHORIZED: return "credential not decodable by this user";
    case EMUNGE_CRED_INVALID: return "credential invalid";
    case EMUNGE_BAD_CRED: return "malformed credential";
    case EMUNGE_BAD_VERSION: return "unsupported credential version";
    case EMUNGE_BAD_CIPHER: return "unsupported credential cipher";
    case EMUNGE_BAD_MAC: return "unsupported credential MAC";
    case EMUNGE_BAD_ZIP: return "unsupported credential compression";
    case EMUNGE_BAD_REALM: return "unrecognized credential realm";
    case EMUNGE_BAD_LENGTH: return "credential too long";
    case EMUNGE_BAD_ARG: return "bad credential argument";
    case EMUNGE_OVERFLOW: return "credential overflow";
    case EMUNGE_SOCKET:
    case EMUNGE_TIMEOUT: return "cannot reach munged";
    case EMUNGE_NO_MEMORY: return "munge out of memory";
    default: return "munge internal error";
    }
}

/* A fresh context carrying A's socket (and TTL when ENCODING). NULL on allocation failure. */
static munge_ctx_t auth_ctx(const flurm_auth_t *a, bool encoding)
{
    munge_ctx_t ctx = munge_ctx_create();
    if (!ctx)
        return NULL;
    munge_err_t e = EMUNGE_SUCCESS;
    if (a->socket_path)
        e = munge_ctx_set(ctx, MUNGE_OPT_SOCKET, a->socket_path);
    if (e == EMUNGE_SUCCESS && encoding && a->ttl_s > 0)
        e = munge_ctx_set(ctx, MUNGE_OPT_TTL, a->ttl_s);
    if (e != EMUNGE_SUCCESS) {
        munge_ctx_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* Customization string of SLURM's body hash: msg_type in network order (_compute_hash() in
 * src/common/slurm_protocol_api.c). */
static void auth_digest(uint16_t msg_type, const void *body, size_t body_len,
                        uint8_t out[AUTH_DIGEST_LEN])
{
    const uint8_t custom[2] = { (uint8_t)(msg_type >> 8), (uint8_t)msg_type };
    flurm_k12(body_len ? body : NULL, body_len, custom, sizeof custom, out, AUTH_DIGEST_LEN);
}

void flurm_auth_digest(uint16_t msg_type, const void *body, size_t body_len, uint8_t digest[32])
{
    auth_digest(msg_type, body, body_len, digest);
}

int flurm_auth_sign(flurm_auth_t *a, uint16_t msg_type, const void *body, size_t body_len,
                    uid_t restrict_uid, char **cred)
{
    if (!a || !cred || (body_len && !body))
        return FLURM_EINVAL;
    uint8_t digest[AUTH_DIGEST_LEN];
    auth_digest(msg_type, body, body_len, digest);
    return flurm_auth_sign_digest(a, digest, restrict_uid, cred);
}

int flurm_auth_sign_digest(flurm_auth_t *a, const uint8_t digest[32], uid_t restrict_uid, char **cred)
{
    if (!a || !cred || !digest)
        return FLURM_EINVAL;
    uint8_t payload[1 + AUTH_DIGEST_LEN];
    payload[0] = AUTH_HASH_K12;
    memcpy(payload + 1, digest, AUTH_DIGEST_LEN);

    munge_ctx_t ctx = auth_ctx(a, true);
    if (!ctx)
        return FLURM_ENOMEM;
    munge_err_t e = EMUNGE_SUCCESS;
    if (restrict_uid != FLURM_AUTH_UID_ANY)
        e = munge_ctx_set(ctx, MUNGE_OPT_UID_RESTRICTION, restrict_uid);
    char *out = NULL;
    if (e == EMUNGE_SUCCESS)
        e = munge_encode(&out, ctx, payload, (int)sizeof payload);
    if (e != EMUNGE_SUCCESS) {
        const char *msg = munge_ctx_strerror(ctx);
        flurm_error("auth: munge_encode failed: %s", msg ? msg : munge_strerror(e));
        munge_ctx_destroy(ctx);
        free(out);
        return munge_err_is_io(e) ? FLURM_EIO : FLURM_EAUTH;
    }
    munge_ctx_destroy(ctx);
    *cred = out;
    return FLURM_OK;
}

/* The payload rules of _check_hash() in SLURM 22.05 src/common/slurm_protocol_api.c with the
 * default CommunicationParameters (neither block_null_hash nor block_zero_hash):
 *  - empty payload: accepted;
 *  - byte0 = NONE: exactly 3 bytes, bytes 1-2 = msg_type big-endian, or host order as 21.08
 *    peers sent it (SLURM allows the latter only for protocol <= 21.08; the protocol version is
 *    not known here, so both are accepted);
 *  - otherwise byte0 names the hash plugin and the digest must be 32 bytes and match. 22.05's
 *    hash_g_compute() maps DEFAULT (0) to K12 as well, so 0 is accepted like 2; every other id
 *    has no plugin and is refused. */
static const char *auth_check_payload(const uint8_t *p, size_t len, uint16_t msg_type,
                                      const void *body, size_t body_len)
{
    if (len == 0)
        return NULL;
    if (p[0] == AUTH_HASH_NONE) {
        uint8_t host[2];
        memcpy(host, &msg_type, sizeof host);
        if (len != 3)
            return "message hash mismatch";
        if (p[1] == (uint8_t)(msg_type >> 8) && p[2] == (uint8_t)msg_type)
            return NULL;
        if (p[1] == host[0] && p[2] == host[1])
            return NULL;
        return "message hash mismatch";
    }
    if (p[0] != AUTH_HASH_K12 && p[0] != AUTH_HASH_DEFAULT)
        return "unknown hash type";
    uint8_t digest[AUTH_DIGEST_LEN];
    auth_digest(msg_type, body, body_len, digest);
    if (len != 1 + AUTH_DIGEST_LEN || memcmp(p + 1, digest, AUTH_DIGEST_LEN) != 0)
        return "message hash mismatch";
    return NULL;
}

int flurm_auth_verify(flurm_auth_t *a, const char *cred, uint16_t msg_type,
                      const void *body, size_t body_len, uid_t *uid, gid_t *gid,
                      const char **reason)
{
    if (!a || !cred || (body_len && !body))
        return FLURM_EINVAL;
    munge_ctx_t ctx = auth_ctx(a, false);
    if (!ctx)
        return FLURM_ENOMEM;
    void *payload = NULL;
    int payload_len = 0;
    uid_t u = (uid_t)-1;
    gid_t g = (gid_t)-1;
    munge_err_t e = munge_decode(cred, ctx, &payload, &payload_len, &u, &g);
    munge_ctx_destroy(ctx);

    const char *why = NULL;
    int rc = FLURM_OK;
    if (e != EMUNGE_SUCCESS) {
        why = munge_err_reason(e);
        rc = munge_err_is_io(e) ? FLURM_EIO : FLURM_EAUTH;
    } else {
        why = auth_check_payload(payload, payload_len > 0 ? (size_t)payload_len : 0, msg_type,
                                 body, body_len);
        if (why)
            rc = FLURM_EAUTH;
    }
    /* munge_decode() returns the payload even for expired/rewound/replayed credentials. */
    free(payload);
    if (rc != FLURM_OK) {
        flurm_debug("auth: credential rejected: %s", why);
        if (reason)
            *reason = why;
        return rc;
    }
    if (uid)
        *uid = u;
    if (gid)
        *gid = g;
    return FLURM_OK;
}

int auth_raw_encode(flurm_auth_t *a, const void *payload, size_t len, char **cred, const char **reason)
{
    if (!a || !cred || (len && !payload) || len > INT32_MAX)
        return FLURM_EINVAL;
    munge_ctx_t ctx = auth_ctx(a, true);
    if (!ctx)
        return FLURM_ENOMEM;
    char *out = NULL;
    munge_err_t e = munge_encode(&out, ctx, payload, (int)len);
    munge_ctx_destroy(ctx);
    if (e != EMUNGE_SUCCESS) {
        free(out);
        if (reason)
            *reason = munge_err_reason(e);
        return munge_err_is_io(e) ? FLURM_EIO : FLURM_EAUTH;
    }
    *cred = out;
    return FLURM_OK;
}

int auth_raw_decode(flurm_auth_t *a, const char *cred, void **payload, size_t *len, uid_t *uid,
                    gid_t *gid, uint32_t *addr, const char **reason)
{
    if (!a || !cred || !payload || !len)
        return FLURM_EINVAL;
    munge_ctx_t ctx = auth_ctx(a, false);
    if (!ctx)
        return FLURM_ENOMEM;
    void *p = NULL;
    int n = 0;
    uid_t u = (uid_t)-1;
    gid_t g = (gid_t)-1;
    munge_err_t e = munge_decode(cred, ctx, &p, &n, &u, &g);
    struct in_addr in = { 0 };
    if (e == EMUNGE_SUCCESS && munge_ctx_get(ctx, MUNGE_OPT_ADDR4, &in) != EMUNGE_SUCCESS)
        in.s_addr = 0;
    munge_ctx_destroy(ctx);
    if (e != EMUNGE_SUCCESS) {
        free(p);
        if (reason)
            *reason = munge_err_reason(e);
        return munge_err_is_io(e) ? FLURM_EIO : FLURM_EAUTH;
    }
    *payload = p;
    *len = n > 0 ? (size_t)n : 0;
    if (uid)
        *uid = u;
    if (gid)
        *gid = g;
    if (addr)
        *addr = in.s_addr;
    return FLURM_OK;
}
