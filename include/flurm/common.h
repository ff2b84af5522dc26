/* include/flurm/common.h — export macro, error codes and version query shared by every module. */
#ifndef FLURM_COMMON_H
#define FLURM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <flurm/version.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#define FLURM_API __attribute__((visibility("default")))
#else
#define FLURM_API
#endif

#if defined(__GNUC__)
#define FLURM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FLURM_PRINTF(f, a)
#endif

/* Every libflurm function that can fail returns one of these (0 = success).
 * SLURM's own error numbers never cross the API; the codec maps them at the edge. */
typedef enum flurm_err {
    FLURM_OK = 0,
    FLURM_EINVAL,     /* malformed input: bad expression, bad field, bad config line */
    FLURM_ENOMEM,     /* allocation failed */
    FLURM_ERANGE,     /* index or value out of range */
    FLURM_ENOSPC,     /* caller's buffer too small */
    FLURM_ETRUNC,     /* input ended before the structure did (truncated frame/body) */
    FLURM_EPROTO,     /* well-formed bytes that violate the protocol (bad version, type, limits) */
    FLURM_EAUTH,      /* credential rejected (invalid, expired, replayed, wrong hash) */
    FLURM_EIO,        /* operating-system or storage I/O failure */
    FLURM_ENOENT,     /* no such file, job, node or partition */
    FLURM_EEXIST,     /* already exists */
    FLURM_EPERM,      /* requester may not do this */
    FLURM_EAGAIN,     /* try again later (busy, not ready) */
    FLURM_ENOTSUP,    /* recognised but not supported */
    FLURM_ERR_MAX_
} flurm_err_t;

/* Static English text for ERR; never NULL (unknown codes give "unknown error"). */
FLURM_API const char *flurm_strerror(flurm_err_t err);

/* Version of the library actually loaded, e.g. "0.1.0" (compare with FLURM_VERSION_STRING). */
FLURM_API const char *flurm_version(void);
/* FLURM_VERSION_NUMBER of the loaded library. */
FLURM_API unsigned flurm_version_number(void);

#endif
