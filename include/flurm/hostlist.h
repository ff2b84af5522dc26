/* include/flurm/hostlist.h — SLURM hostlist expressions ("rack[1-2]-n[001-004,010]").
 *
 * A hostlist is an ordered list of host names (duplicates allowed) stored as ranges
 * (prefix + numeric range + zero-pad width), so "n[1-100000]" costs one node, not 100000
 * strings. Semantics follow SLURM 22.05 src/common/hostlist.c where noted. */
#ifndef FLURM_HOSTLIST_H
#define FLURM_HOSTLIST_H

#include <flurm/common.h>

typedef struct flurm_hostlist flurm_hostlist_t;   /* opaque; not thread-safe */

/* Largest number of hosts one bracket range ("n[a-b]") or one expression item may expand to.
 * (SLURM 22.05 itself caps a single range at 64K hosts, MAX_RANGE in hostlist.c.) */
#define FLURM_HOSTLIST_MAX_RANGE (1u << 20)

/* Parse EXPR into a new list. Grammar (SLURM's): items separated by ',' or whitespace at top
 * level (commas inside brackets belong to the bracket); an item is literal text with zero or
 * more bracket groups "[r,r,...]", r = N or N-M (decimal digits only, N <= M); several groups form
 * a cartesian product, the leftmost group varying slowest; the zero-pad width of a range is the
 * length of its start ("n[008-010]" -> n008 n009 n010). As in SLURM, nothing may follow the last
 * ']' of an item. NULL or "" gives an empty list.
 * On error returns NULL and, if ERR is not NULL, sets *ERR: FLURM_EINVAL for a malformed
 * expression (unbalanced or nested brackets, empty or non-numeric range, N > M, a range or item
 * of more than FLURM_HOSTLIST_MAX_RANGE hosts, text after the last ']'), FLURM_ENOMEM. */
FLURM_API flurm_hostlist_t *flurm_hostlist_parse(const char *expr, flurm_err_t *err);

/* A new empty list, or NULL when out of memory. */
FLURM_API flurm_hostlist_t *flurm_hostlist_new(void);

/* Append every host of EXPR (same grammar as flurm_hostlist_parse) at the end of HL.
 * FLURM_EINVAL / FLURM_ENOMEM leave HL unchanged. */
FLURM_API int flurm_hostlist_push(flurm_hostlist_t *hl, const char *expr);

/* Append NAME verbatim as one host (no bracket parsing). FLURM_EINVAL for NULL or "". */
FLURM_API int flurm_hostlist_push_host(flurm_hostlist_t *hl, const char *name);

/* Number of hosts (duplicates counted). */
FLURM_API size_t flurm_hostlist_count(const flurm_hostlist_t *hl);

/* Host I (0-based) into BUF of SIZE bytes, NUL-terminated; FLURM_ERANGE if I >= count,
 * FLURM_ENOSPC if BUF is too small (nothing written then). O(log ranges). */
FLURM_API int flurm_hostlist_nth(const flurm_hostlist_t *hl, size_t i, char *buf, size_t size);

/* Host I as a string owned by HL, valid until the next flurm_hostlist_get, modification or free
 * of HL; NULL if I is out of range (or out of memory). */
FLURM_API const char *flurm_hostlist_get(const flurm_hostlist_t *hl, size_t i);

/* Index of the first host equal to NAME, or -1. O(ranges). */
FLURM_API ptrdiff_t flurm_hostlist_find(const flurm_hostlist_t *hl, const char *name);

/* SLURM's ranged string (hostlist_ranged_string), hosts in list order: adjacent hosts with the
 * same prefix and compatible zero-padding merge into "a-b"; consecutive ranges with the same
 * prefix share one bracket ("n[1-3,5]"); a lone host stays bare ("n1"); names without a numeric
 * suffix are never bracketed. "" for an empty list. Caller frees with free(); NULL when out of
 * memory. */
FLURM_API char *flurm_hostlist_compress(const flurm_hostlist_t *hl);

/* Sort hosts: prefix in natural order (digit runs compare as numbers), then a name without a
 * numeric suffix first, then by number. Duplicates are kept. FLURM_ENOMEM leaves HL unchanged. */
FLURM_API int flurm_hostlist_sort(flurm_hostlist_t *hl);

/* Sort (as flurm_hostlist_sort) and drop duplicate names, like SLURM's hostlist_uniq. */
FLURM_API int flurm_hostlist_uniq(flurm_hostlist_t *hl);

FLURM_API void flurm_hostlist_free(flurm_hostlist_t *hl);   /* NULL is fine */

#endif
