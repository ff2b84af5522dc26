/* include/flurm/raft_store.h — the durable half of a Raft member (include/flurm/raft.h) on
 * libflurm's store (include/flurm/store.h).
 *
 * Layout in the store (the host's business, fixed here so every member reads the same):
 *   log entry I   u64 term | u32 type (flurm_raft_entry_type_t) | the command's bytes
 *   "raft.hard"   u64 term | u64 voted_for                     (big-endian)
 *   snapshot      "FRS1" | u64 index | u64 term | u32 n_voters | u64 voters[n] | the state
 *                 machine's bytes (the store's snapshot index is the Raft index); with learners
 *                 (meta n_learners != 0) "FRS2" | ... | u64 voters[n] | u32 n_learners |
 *                 u64 learners[n_learners] | the state machine's bytes. Both are read.
 * flurm_raft_store_write() makes one update of the core durable in one synced batch (host
 * contract 1a + 1b); flurm_raft_store_load() gives back what flurm_raft_new() needs at start.
 * Blocking disk I/O: call them off the event loop (the commit thread). */
#ifndef FLURM_RAFT_STORE_H
#define FLURM_RAFT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <flurm/common.h>
#include <flurm/raft.h>
#include <flurm/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Persists what U asks (an installed snapshot, a truncation, entries, the hard state) in one
 * synced batch: all or nothing. FLURM_EIO (nothing written), FLURM_ENOMEM, FLURM_EINVAL (entries
 * that do not follow the log, as flurm_store_update()). */
FLURM_API int flurm_raft_store_write(flurm_store_t *s, const flurm_raft_update_t *u);

/* Saves a snapshot the host took of its applied state: META (index, term, configuration) and
 * the state machine's DATA. Log entries up to META->index are dropped with it. Report it to the
 * core with FLURM_RAFT_SNAPSHOT_TAKEN once this returns FLURM_OK. */
FLURM_API int flurm_raft_store_snapshot(flurm_store_t *s, const flurm_raft_snapshot_meta_t *meta,
                                        const void *data, size_t len);

typedef struct flurm_raft_store_loaded flurm_raft_store_loaded_t;   /* owns what load returns */

/* Reads what the disk holds into *P (size set here) for flurm_raft_new(), and the state
 * machine's snapshot bytes into *DATA and *LEN (NULL and 0 without a snapshot) to restore before the
 * entries are applied. Everything points into *HELD (free it after flurm_raft_new() copied
 * what it needs). FLURM_EPROTO for a record this version cannot read, or entries that cannot be a Raft
 * log (a term above the hard state's, decreasing terms, an unknown type, a CONFIG entry whose data
 * is not a configuration) (refusing to start loses nothing), FLURM_EIO, FLURM_ENOMEM. */
FLURM_API int flurm_raft_store_load(flurm_store_t *s, flurm_raft_persisted_t *p, const void **data,
                                    size_t *len, flurm_raft_store_loaded_t **held);
FLURM_API void flurm_raft_store_loaded_free(flurm_raft_store_loaded_t *h);   /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
