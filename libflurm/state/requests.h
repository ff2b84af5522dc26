/* libflurm/state/requests.h — the client requests a state applied recently, by request id:
 * at-most-once for a request that reaches the log twice.
 *
 * A follower that forwarded a request to a leader that died (or stopped answering) sends it to
 * the next leader; a leader whose proposal's fate it cannot know proposes it again. Either way
 * the command may already be in the log. Its request id (K12 of the request frame as the client
 * sent it: the munge credential in it makes it unique, and credentials are single-use) is kept
 * here with the result it got; a command whose id is here is not applied again, and its
 * proposer hears the first result (the same job id for a submission).
 *
 * Records are forgotten FLURM_REQUESTS_WINDOW_S seconds after their command's time stamp, as
 * later commands apply (their stamps: the same at every replica), and beyond
 * FLURM_REQUESTS_MAX, oldest first. The table is part of the state's snapshot. */
#ifndef FLURM_STATE_REQUESTS_H
#define FLURM_STATE_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <flurm/buf.h>

#include "state/state.h"   /* FLURM_REQUEST_ID_LEN */

#define FLURM_REQUESTS_WINDOW_S 120
#define FLURM_REQUESTS_MAX (1u << 20)

typedef struct req_rec {
    uint8_t id[FLURM_REQUEST_ID_LEN];
    int64_t now;                  /* the command's time stamp */
    uint32_t rc, job_id;          /* its result */
} req_rec_t;

/* Records in apply order in a ring (record number s at ring[s & (cap - 1)]), and an open
 * addressing index (linear probing) of record number + 1, 0 = empty. Zeroed = empty table. */
typedef struct req_table {
    req_rec_t *ring;
    size_t cap;                   /* a power of two, or 0 */
    uint64_t first, next;         /* the records held are numbers [first, next) */
    uint64_t *index;
    size_t icap;                  /* a power of two, at least twice the records held, or 0 */
} req_table_t;

void req_table_free(req_table_t *t);

/* The record of ID, or NULL. */
const req_rec_t *req_table_find(const req_table_t *t, const uint8_t id[FLURM_REQUEST_ID_LEN]);

/* Records ID's result. FLURM_OK or FLURM_ENOMEM (the table unchanged). */
int req_table_add(req_table_t *t, const uint8_t id[FLURM_REQUEST_ID_LEN], int64_t now, uint32_t rc,
                  uint32_t job_id);

/* Forgets the records stamped before NOW - FLURM_REQUESTS_WINDOW_S (oldest first: it stops at
 * the first younger one). */
void req_table_expire(req_table_t *t, int64_t now);

size_t req_table_count(const req_table_t *t);

/* u32 count, then per record (oldest first): id, i64 stamp, u32 rc, u32 job id. */
void req_table_pack(const req_table_t *t, flurm_buf_t *out);
/* Replaces T's records with those packed in IN. FLURM_OK, FLURM_ENOMEM or IN's error (T
 * empty then). */
int req_table_unpack(req_table_t *t, flurm_buf_t *in);

#endif
