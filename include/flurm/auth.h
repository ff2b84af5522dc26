/* include/flurm/auth.h — MUNGE credentials carrying SLURM 22.05's body hash.
 *
 * A 22.05 peer puts 33 bytes in the munge payload: 0x02 then the 32-byte KangarooTwelve digest
 * of the message body, customization string = msg_type as big-endian u16. A 3-byte payload
 * {0x01, type_hi, type_lo} (hash "none") and an empty payload are also accepted, as SLURM does
 * with default CommunicationParameters. Uses libmunge directly; every call blocks on munged,
 * so call it off any event loop. A context is safe to share between threads. */
#ifndef FLURM_AUTH_H
#define FLURM_AUTH_H

#include <stdint.h>
#include <sys/types.h>
#include <flurm/common.h>

#define FLURM_AUTH_UID_ANY ((uid_t)-1)

typedef struct flurm_auth flurm_auth_t;

/* A context talking to munged at SOCKET_PATH (NULL = munged's default socket). TTL_S > 0 sets the
 * credential time-to-live (AuthInfo=ttl=), 0 keeps munged's default. NULL on allocation failure. */
FLURM_API flurm_auth_t *flurm_auth_new(const char *socket_path, int ttl_s);
FLURM_API void flurm_auth_free(flurm_auth_t *a);   /* NULL is fine */

/* A fresh credential for a message of MSG_TYPE with BODY, decodable only by RESTRICT_UID
 * (FLURM_AUTH_UID_ANY = anyone). *CRED is malloc'd ("MUNGE:...:"). FLURM_EAUTH with a logged
 * reason when munged refuses, FLURM_EIO when munged is unreachable, FLURM_ENOMEM; *CRED is
 * untouched on failure. */
FLURM_API int flurm_auth_sign(flurm_auth_t *a, uint16_t msg_type, const void *body, size_t body_len,
                              uid_t restrict_uid, char **cred);

/* Decodes CRED and checks its payload against MSG_TYPE and BODY. On success fills *UID and *GID.
 * Errors: FLURM_EAUTH (invalid, expired, rewound, replayed, wrong hash, unknown hash type;
 * *REASON, when not NULL, points to static text naming which), FLURM_EIO (munged unreachable;
 * *REASON is set too), FLURM_EINVAL (CRED NULL, or BODY NULL with BODY_LEN > 0). On failure
 * *UID and *GID are untouched; on success *REASON is. UID and GID may be NULL. */
FLURM_API int flurm_auth_verify(flurm_auth_t *a, const char *cred, uint16_t msg_type,
                                const void *body, size_t body_len, uid_t *uid, gid_t *gid,
                                const char **reason);

/* The 32-byte body digest a credential for MSG_TYPE + BODY carries (K12, customization =
 * msg_type big-endian). With flurm_auth_sign_digest() a body signed many times (a cached reply)
 * is hashed once: flurm_auth_sign() == flurm_auth_sign_digest(flurm_auth_digest(...)). */
FLURM_API void flurm_auth_digest(uint16_t msg_type, const void *body, size_t body_len, uint8_t digest[32]);
FLURM_API int flurm_auth_sign_digest(flurm_auth_t *a, const uint8_t digest[32], uid_t restrict_uid,
                                     char **cred);

/* KangarooTwelve (RFC 9861) of IN with customization CUSTOM, OUT_LEN bytes into OUT. */
FLURM_API void flurm_k12(const void *in, size_t in_len, const void *custom, size_t custom_len,
                         uint8_t *out, size_t out_len);

#endif
