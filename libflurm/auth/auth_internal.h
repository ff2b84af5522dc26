/* libflurm/auth/auth_internal.h — raw munge credentials for the channel layer (chan.c). */
#ifndef FLURM_AUTH_INTERNAL_H
#define FLURM_AUTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <flurm/auth.h>

/* A credential carrying PAYLOAD as-is (no SLURM body hash), decodable by anyone. Errors as
 * flurm_auth_sign(); *REASON (may be NULL) points to static text on failure. */
int auth_raw_encode(flurm_auth_t *a, const void *payload, size_t len, char **cred, const char **reason);

/* Decodes CRED: *PAYLOAD (malloc'd, may be NULL when empty) and *LEN, the uid, gid and origin
 * IPv4 address (network order, 0 when munged reports none). Expired, rewound and replayed
 * credentials are FLURM_EAUTH; nothing is returned then. */
int auth_raw_decode(flurm_auth_t *a, const char *cred, void **payload, size_t *len, uid_t *uid,
                    gid_t *gid, uint32_t *addr, const char **reason);

#endif
