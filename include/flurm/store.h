/* include/flurm/store.h — durable storage of the controller's replicated command log, its snapshot
 * and small metadata records (Raft hard state, configuration), kept in RocksDB.
 *
 * The store is byte-oriented: it never interprets entries, snapshots or metadata values.
 *
 * Log model (the shape a Raft log needs): entries carry consecutive u64 indexes. The log holds
 * entries first_index..last_index; entries below first_index were folded into the snapshot, whose
 * index is always first_index - 1 (0 when there is no snapshot). An empty store has
 * first_index 1 and last_index 0.
 *
 * Durability: every writing call commits one RocksDB WriteBatch with sync=true (fsync'd WAL), so
 * it is all-or-nothing and durable when the call returns FLURM_OK.
 *
 * Errors: any RocksDB failure (including a full disk) returns FLURM_EIO; the RocksDB message is
 * logged with flurm_error once per distinct failure (a failure repeating the previous message is
 * not logged again until a write succeeds). After a failed write nothing of it is visible, reads
 * keep working, and the next writing call first reopens the database (RocksDB refuses writes after
 * a WAL failure until it is reopened); if that reopen fails the call returns FLURM_EIO and the
 * store stays readable. One caveat RocksDB cannot rule out: when the WAL bytes reached the disk
 * but the fsync itself failed, a failed write may reappear after a crash (never while this
 * process keeps the store open: log entries beyond last_index found on reopen are removed).
 *
 * Thread safety: all functions may be called from any thread. Writing calls are serialised;
 * reads run concurrently with them and see a consistent point in time. */
#ifndef FLURM_STORE_H
#define FLURM_STORE_H

#include <flurm/common.h>   /* FLURM_API, flurm_err_t */

typedef struct flurm_store flurm_store_t;                 /* opaque; thread-safe */
typedef struct flurm_store_writer flurm_store_writer_t;   /* opaque; see flurm_store_writer_start */

/* One log entry to append: LEN bytes at DATA (DATA may be NULL when LEN is 0). */
typedef struct flurm_iov {
    const void *data;
    size_t len;
} flurm_iov_t;

/* Open the store in directory DIR, creating DIR (and missing parents, each with mode 0700) and the
 * database if needed; an existing DIR is made 0700 (existing parents keep their mode). On success
 * *OUT is the store. Errors: FLURM_EINVAL (NULL argument), FLURM_EIO (mkdir or chmod failed,
 * RocksDB could not open — e.g. another process holds the store — or the stored log is
 * inconsistent), FLURM_ENOMEM. *OUT is untouched on failure. */
FLURM_API int flurm_store_open(const char *dir, flurm_store_t **out);

/* Close the store (no writer may be running on it). NULL is fine. */
FLURM_API void flurm_store_close(flurm_store_t *store);
/* Deletes the store in DIR and everything in it (its log, snapshots, metadata). A missing DIR is
 * fine. The store must not be open. FLURM_EIO with the reason logged when RocksDB refuses. */
FLURM_API int flurm_store_destroy(const char *dir);

/* ---- Log ---------------------------------------------------------------------------------- */

/* Index of the first entry still in the log (snapshot index + 1). */
FLURM_API uint64_t flurm_store_first_index(const flurm_store_t *store);

/* Index of the last entry (the snapshot index when the log is empty; 0 for a new store). */
FLURM_API uint64_t flurm_store_last_index(const flurm_store_t *store);

/* Append N entries with indexes FIRST_INDEX..FIRST_INDEX+N-1 in one synced batch: durable when
 * FLURM_OK is returned, absent otherwise. FIRST_INDEX must be last_index + 1, else FLURM_EINVAL
 * (also for N > 0 with ENTRIES NULL, or an index overflow). N = 0 with a valid FIRST_INDEX does
 * nothing. FLURM_EIO on a storage failure (last_index unchanged). While a writer runs on STORE,
 * append only through the writer. */
FLURM_API int flurm_store_append(flurm_store_t *store, uint64_t first_index,
                                 const flurm_iov_t *entries, size_t n);

/* Entry callback for flurm_store_read: DATA/LEN are valid only during the call. Return 0 to go on,
 * non-zero to stop. */
typedef int (*flurm_store_entry_fn)(uint64_t index, const void *data, size_t len, void *arg);

/* Call FN for entries FROM, FROM+1, ... up to last_index, in index order, as of one point in time.
 * Returns FLURM_OK after the last entry (FROM > last_index calls FN never), or FN's non-zero value
 * if FN stopped the iteration. FLURM_ERANGE if FROM < first_index (that entry is in the snapshot,
 * or FROM is 0). FLURM_EIO on a storage failure or a gap in the stored indexes. FN may call the
 * reading functions of the store but not the writing ones. */
FLURM_API int flurm_store_read(flurm_store_t *store, uint64_t from, flurm_store_entry_fn fn,
                               void *arg);

/* Delete every entry after INDEX in one synced batch (a Raft follower discarding a conflicting
 * suffix); afterwards last_index = min(INDEX, previous last_index). FLURM_ERANGE if INDEX is below
 * the snapshot index (those entries are committed). FLURM_EIO on a storage failure (nothing
 * deleted). */
FLURM_API int flurm_store_truncate_after(flurm_store_t *store, uint64_t index);

/* One write of a Raft member's persistent state: the suffix a leader's log contradicts goes, the
 * new entries and the hard state (term and vote, as one metadata record) arrive, atomically. */
typedef struct flurm_store_update {
    uint32_t size;                 /* sizeof(flurm_store_update_t): the struct may grow at the end */
    uint32_t reserved_;
    uint64_t truncate_after;       /* delete every entry after this index first; UINT64_MAX: none */
    uint64_t first_index;          /* index of ENTRIES[0]: the log's last index (after the
                                    * truncation) + 1 */
    const flurm_iov_t *entries;
    size_t n;
    const char *meta_key;          /* NULL: no metadata record in this write */
    const void *meta;
    size_t meta_len;
    /* Before everything else, install a snapshot (a follower catching up from its leader): the
     * snapshot becomes SNAPSHOT_LEN bytes at SNAPSHOT_DATA, the state after entry SNAPSHOT_INDEX,
     * and the whole log is emptied, so the next entry is SNAPSHOT_INDEX + 1. 0: none. */
    uint64_t snapshot_index;
    const void *snapshot_data;
    size_t snapshot_len;
} flurm_store_update_t;

/* Carries out U in one synced batch: all of it is durable when FLURM_OK is returned, none of it
 * otherwise (FLURM_EIO, the store's indexes unchanged). FLURM_EINVAL for a size this library does
 * not know, an entry NULL with a length, a FIRST_INDEX that does not follow the (truncated) log
 * when N > 0, an empty META_KEY, or a snapshot older than the current one (or NULL data with a
 * length); FLURM_ERANGE for a truncation below the snapshot (those entries are committed). While
 * a writer runs on STORE, write only through the writer. */
FLURM_API int flurm_store_update(flurm_store_t *store, const flurm_store_update_t *u);

/* ---- Snapshot ----------------------------------------------------------------------------- */

/* In one synced batch, replace the snapshot with LEN bytes at DATA, the state after applying entry
 * INDEX, and delete every log entry <= INDEX. Afterwards first_index = INDEX + 1 and last_index =
 * max(INDEX, previous last_index): a snapshot beyond the log (one installed from a Raft leader)
 * empties the log and the next append is INDEX + 1. FLURM_EINVAL if INDEX is 0, below the current
 * snapshot index, or DATA is NULL with LEN > 0. FLURM_EIO on a storage failure (old snapshot and
 * log unchanged). */
FLURM_API int flurm_store_save_snapshot(flurm_store_t *store, uint64_t index, const void *data,
                                        size_t len);

/* The current snapshot: *INDEX, and a malloc'd copy of its bytes in *DATA (never NULL on success,
 * even for 0 bytes; caller frees) of *LEN bytes. FLURM_ENOENT if there is none, FLURM_ENOMEM,
 * FLURM_EIO; the outputs are untouched on failure. */
FLURM_API int flurm_store_load_snapshot(flurm_store_t *store, uint64_t *index, void **data,
                                        size_t *len);

/* ---- Metadata ----------------------------------------------------------------------------- */

/* Durably (synced) set metadata record KEY (a non-empty NUL-terminated name) to LEN bytes at DATA.
 * FLURM_EINVAL for a NULL/empty KEY or NULL DATA with LEN > 0; FLURM_EIO. */
FLURM_API int flurm_store_put_meta(flurm_store_t *store, const char *key, const void *data,
                                   size_t len);

/* Metadata record KEY as a malloc'd copy in *DATA (never NULL on success; caller frees) of *LEN
 * bytes. FLURM_ENOENT if KEY was never put, FLURM_EINVAL, FLURM_ENOMEM, FLURM_EIO; the outputs
 * are untouched on failure. */
FLURM_API int flurm_store_get_meta(flurm_store_t *store, const char *key, void **data,
                                   size_t *len);

/* ---- Group-commit writer ------------------------------------------------------------------ */

/* Completion callback, called on the writer thread after each batch (never concurrently with
 * itself). ERR FLURM_OK: every entry up to DURABLE_INDEX is durable. ERR != FLURM_OK (FLURM_EIO
 * for a storage failure, FLURM_ENOMEM, FLURM_EINVAL if STORE was appended to behind the writer's
 * back): the batch failed and the writer dropped it together with every entry queued behind it, up to
 * DURABLE_INDEX (here the highest index submitted so far); none of them is in the log, and the
 * next submit must carry flurm_store_last_index(store) + 1. DONE may call
 * flurm_store_writer_submit. */
typedef void (*flurm_store_done_fn)(uint64_t durable_index, int err, void *arg);

/* Start one writer thread appending to STORE. DONE may be NULL. The first submit must carry
 * last_index + 1. FLURM_EINVAL, FLURM_ENOMEM, FLURM_EAGAIN (thread creation failed). */
FLURM_API int flurm_store_writer_start(flurm_store_t *store, flurm_store_done_fn done, void *arg,
                                       flurm_store_writer_t **out);

/* Queue a copy of LEN bytes at DATA as entry INDEX. Thread-safe; INDEX must be the previous
 * submit's index + 1 (callers sharing the writer serialise index choice and submit under one
 * lock), else FLURM_EINVAL. The writer thread takes every entry queued since its last write as one
 * batch, appends it with one fsync and then calls DONE with the batch's last index.
 * FLURM_EINVAL also for DATA NULL with LEN > 0 or a writer being stopped; FLURM_ENOMEM. */
FLURM_API int flurm_store_writer_submit(flurm_store_writer_t *w, uint64_t index, const void *data,
                                        size_t len);

/* Write everything already queued (DONE is called for it), join the thread and free W. No submit
 * may race with or follow this call. NULL is fine. */
FLURM_API void flurm_store_writer_stop(flurm_store_writer_t *w);

#endif
