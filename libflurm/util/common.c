/* libflurm/util/common.c — error strings and the runtime version. */
#include <flurm/common.h>

static const char *const err_text[FLURM_ERR_MAX_] = {
    [FLURM_OK] = "success",
    [FLURM_EINVAL] = "invalid argument or malformed input",
    [FLURM_ENOMEM] = "out of memory",
    [FLURM_ERANGE] = "value out of range",
    [FLURM_ENOSPC] = "buffer too small",
    [FLURM_ETRUNC] = "input truncated",
    [FLURM_EPROTO] = "protocol error",
    [FLURM_EAUTH] = "authentication failed",
    [FLURM_EIO] = "I/O error",
    [FLURM_ENOENT] = "no such entry",
    [FLURM_EEXIST] = "already exists",
    [FLURM_EPERM] = "permission denied",
    [FLURM_EAGAIN] = "resource temporarily unavailable",
    [FLURM_ENOTSUP] = "not supported",
};

const char *flurm_strerror(flurm_err_t err)
{
    if ((unsigned)err < FLURM_ERR_MAX_ && err_text[err])
        return err_text[err];
    return "unknown error";
}

const char *flurm_version(void) { return FLURM_VERSION_STRING; }
unsigned flurm_version_number(void) { return FLURM_VERSION_NUMBER; }
