/* libflurm/store/store.c — see include/flurm/store.h.
 *
 * Layout: one RocksDB column family (the default), keys distinguished by a one-byte prefix:
 *   'L' + big-endian u64 index   log entry (bytewise key order == index order)
 *   's'                          big-endian u64 snapshot index
 *   'S'                          snapshot bytes
 *   'M' + name                   metadata record
 * The snapshot index and bytes live under two keys written in the same batch, so the index can be
 * read at open without loading the snapshot. Invariant: first_index == snapshot index + 1. */
#include <flurm/store.h>
#include <flurm/log.h>
#include "util/endian.h"

#include <errno.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

enum { LOG_KEY_LEN = 9 };

/* RocksDB's WALRecoveryMode::kPointInTimeRecovery (rocksdb/options.h): replay the WAL up to the
 * first torn or corrupt record — a crash mid-write loses only the unacknowledged tail. */
enum { ROCKSDB_WAL_POINT_IN_TIME = 2 };

/* InfoLogLevel::HEADER_LEVEL (rocksdb/env.h): RocksDB's own LOG file gets only the lines written
 * at open. Debian's librocksdb 7.8 is built with assertions, and EnvLogger aborts the process on
 * the next LOG line after a failed LOG write (WritableFileWriter::
 * AssertFalseAndGetStatusForPrevError) — with a full disk, the error handler's own LOG lines
 * would kill the daemon. Failures are reported through flurm_error instead. */
enum { ROCKSDB_LOG_HEADER_ONLY = 5 };

/* Free space wanted beyond the memtables before reopening after a failed write: the reopen
 * flushes the recovered memtables to an SST and writes a new MANIFEST, WAL and LOG. */
enum { REOPEN_SPARE_BYTES = 4 << 20 };

struct flurm_store {
    char *dir;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wsync;
    rocksdb_readoptions_t *ropts;
    rocksdb_t *db;                /* never NULL while the store is open */
    bool read_only;               /* db was opened read-only after a failed reopen */
    bool reopen_needed;           /* a write failed: RocksDB refuses writes until reopened */
    pthread_rwlock_t db_lock;     /* read: any use of db; write: replacing db */
    pthread_mutex_t write_lock;   /* serialises writing calls and index bookkeeping */
    _Atomic uint64_t first_index; /* snapshot index + 1 */
    _Atomic uint64_t last_index;
    pthread_mutex_t err_lock;
    char *last_err;               /* message of the last logged failure, NULL after a success */
};

static void log_key(unsigned char key[LOG_KEY_LEN], uint64_t index)
{
    key[0] = 'L';
    be_put64(key + 1, index);
}

static const char snap_index_key[] = { 's' };
static const char snap_data_key[] = { 'S' };

/* Log a failure unless it repeats the previous one; returns FLURM_EIO. */
static int store_fail_msg(flurm_store_t *s, const char *what, const char *msg)
{
    pthread_mutex_lock(&s->err_lock);
    if (!s->last_err || strcmp(s->last_err, msg) != 0) {
        flurm_error("store %s: %s: %s", s->dir, what, msg);
        free(s->last_err);
        s->last_err = strdup(msg);
    }
    pthread_mutex_unlock(&s->err_lock);
    return FLURM_EIO;
}

/* store_fail_msg for a RocksDB error string; frees ERRPTR. */
static int store_fail(flurm_store_t *s, const char *what, char *errptr)
{
    int rc = store_fail_msg(s, what, errptr ? errptr : "unknown error");
    rocksdb_free(errptr);
    return rc;
}

static void store_succeeded(flurm_store_t *s)
{
    pthread_mutex_lock(&s->err_lock);
    free(s->last_err);
    s->last_err = NULL;
    pthread_mutex_unlock(&s->err_lock);
}

static int mkdir_p(const char *dir)
{
    char *path = strdup(dir);
    if (!path)
        return FLURM_ENOMEM;
    int rc = FLURM_OK;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            flurm_error("store: mkdir %s: %s", path, strerror(errno));
            rc = FLURM_EIO;
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (rc == FLURM_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        flurm_error("store: %s is not a directory", dir);
        rc = FLURM_EIO;
    }
    free(path);
    return rc;
}

/* Read the snapshot index and the last log index from DB. */
static int scan_indexes(flurm_store_t *s, rocksdb_t *db, uint64_t *snap, uint64_t *last)
{
    char *err = NULL;
    size_t vlen = 0;
    char *v = rocksdb_get(db, s->ropts, snap_index_key, sizeof snap_index_key, &vlen, &err);
    if (err)
        return store_fail(s, "reading the snapshot index", err);
    *snap = 0;
    if (v) {
        if (vlen != 8) {
            rocksdb_free(v);
            flurm_error("store %s: snapshot index record has %zu bytes", s->dir, vlen);
            return FLURM_EIO;
        }
        *snap = be_get64((const unsigned char *)v);
        rocksdb_free(v);
    }

    rocksdb_iterator_t *it = rocksdb_create_iterator(db, s->ropts);
    unsigned char key[LOG_KEY_LEN];
    log_key(key, 0);
    rocksdb_iter_seek(it, (const char *)key, sizeof key);
    uint64_t first = 0;
    *last = *snap;
    if (rocksdb_iter_valid(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen == LOG_KEY_LEN && k[0] == 'L') {
            first = be_get64((const unsigned char *)k + 1);
            log_key(key, UINT64_MAX);
            rocksdb_iter_seek_for_prev(it, (const char *)key, sizeof key);
            k = rocksdb_iter_key(it, &klen);
            *last = be_get64((const unsigned char *)k + 1);
        }
    }
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err)
        return store_fail(s, "scanning the log", err);
    if (first != 0 && first != *snap + 1) {
        flurm_error("store %s: log starts at %llu but the snapshot index is %llu", s->dir,
                    (unsigned long long)first, (unsigned long long)*snap);
        return FLURM_EIO;
    }
    return FLURM_OK;
}

int flurm_store_destroy(const char *dir)
{
    if (!dir || !*dir)
        return FLURM_EINVAL;
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return errno == ENOENT ? FLURM_OK : FLURM_EIO;
    rocksdb_options_t *opts = rocksdb_options_create();
    if (!opts)
        return FLURM_ENOMEM;
    char *err = NULL;
    rocksdb_destroy_db(opts, dir, &err);
    rocksdb_options_destroy(opts);
    if (err) {
        flurm_error("store %s: cannot destroy: %s", dir, err);
        rocksdb_free(err);
        return FLURM_EIO;
    }
    return FLURM_OK;
}

int flurm_store_open(const char *dir, flurm_store_t **out)
{
    if (!dir || !*dir || !out)
        return FLURM_EINVAL;
    int rc = mkdir_p(dir);
    if (rc != FLURM_OK)
        return rc;
    /* The log holds every job's script and environment: DIR is its owner's alone, whatever
     * mode an existing one had (RocksDB creates its files under the process umask). */
    if (chmod(dir, 0700) != 0) {
        flurm_error("store: cannot make %s private (chmod 0700): %s", dir, strerror(errno));
        return FLURM_EIO;
    }
    flurm_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return FLURM_ENOMEM;
    }
    pthread_rwlock_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_mutex_init(&s->err_lock, NULL);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_wal_recovery_mode(s->opts, ROCKSDB_WAL_POINT_IN_TIME);
    rocksdb_options_set_keep_log_file_num(s->opts, 4);
    rocksdb_options_set_max_log_file_size(s->opts, 4 << 20);
    rocksdb_options_set_info_log_level(s->opts, ROCKSDB_LOG_HEADER_ONLY);
    /* The log is write-mostly and read back only at recovery: a small memtable keeps the
     * controller's memory bounded instead of holding up to 64 MiB of recent commands. */
    rocksdb_options_set_write_buffer_size(s->opts, 8 << 20);
    rocksdb_options_set_max_write_buffer_number(s->opts, 2);
    s->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wsync, 1);
    s->ropts = rocksdb_readoptions_create();

    char *err = NULL;
    s->db = rocksdb_open(s->opts, dir, &err);
    uint64_t snap = 0, last = 0;
    if (err)
        rc = store_fail(s, "open", err);
    else
        rc = scan_indexes(s, s->db, &snap, &last);
    if (rc != FLURM_OK) {
        flurm_store_close(s);
        return rc;
    }
    atomic_store(&s->first_index, snap + 1);
    atomic_store(&s->last_index, last);
    *out = s;
    return FLURM_OK;
}

void flurm_store_close(flurm_store_t *s)
{
    if (!s)
        return;
    if (s->db)
        rocksdb_close(s->db);
    rocksdb_readoptions_destroy(s->ropts);
    rocksdb_writeoptions_destroy(s->wsync);
    rocksdb_options_destroy(s->opts);
    pthread_rwlock_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->write_lock);
    pthread_mutex_destroy(&s->err_lock);
    free(s->last_err);
    free(s->dir);
    free(s);
}

uint64_t flurm_store_first_index(const flurm_store_t *s)
{
    return atomic_load(&s->first_index);
}

uint64_t flurm_store_last_index(const flurm_store_t *s)
{
    return atomic_load(&s->last_index);
}

/* Called with write_lock held before any write. After a failed write RocksDB stays in a
 * background-error state that refuses writes until the DB is reopened (the C API has no
 * DB::Resume). Reopening replays the WAL, dropping a torn tail record; log entries beyond our
 * last_index (a write whose bytes reached the WAL although the call failed) are deleted so a
 * failed append stays invisible. If the read-write open fails, the DB is opened read-only so
 * reads keep working, and the next write tries again. */
static int ensure_writable(flurm_store_t *s)
{
    if (!s->reopen_needed)
        return FLURM_OK;
    /* On a disk that is still full the reopen would fail after closing the readable handle. */
    uint64_t need = REOPEN_SPARE_BYTES;
    if (s->db) {
        char *mem = rocksdb_property_value(s->db, "rocksdb.cur-size-all-mem-tables");
        if (mem)
            need += strtoull(mem, NULL, 10);
        rocksdb_free(mem);
    }
    struct statvfs vfs;
    if (statvfs(s->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
        char msg[128];
        snprintf(msg, sizeof msg, "%llu bytes free, %llu needed",
                 (unsigned long long)vfs.f_bavail * vfs.f_frsize, (unsigned long long)need);
        return store_fail_msg(s, "not reopening after a failed write", msg);
    }
    pthread_rwlock_wrlock(&s->db_lock);
    if (s->db)
        rocksdb_close(s->db);
    char *err = NULL;
    s->db = rocksdb_open(s->opts, s->dir, &err);
    int rc = FLURM_OK;
    if (err) {
        rc = store_fail(s, "reopen after a failed write", err);
        s->db = rocksdb_open_for_read_only(s->opts, s->dir, 0, &err);
        if (err) {
            /* Nothing left to read from either; keep trying on every call. */
            store_fail(s, "read-only reopen", err);
            s->db = NULL;
        }
        s->read_only = true;
        pthread_rwlock_unlock(&s->db_lock);
        return rc;
    }
    s->read_only = false;
    uint64_t snap, last;
    rc = scan_indexes(s, s->db, &snap, &last);
    uint64_t want_last = atomic_load(&s->last_index);
    if (rc == FLURM_OK && last > want_last) {
        unsigned char from[LOG_KEY_LEN], to[LOG_KEY_LEN];
        log_key(from, want_last + 1);
        log_key(to, UINT64_MAX);
        rocksdb_writebatch_t *b = rocksdb_writebatch_create();
        rocksdb_writebatch_delete_range(b, (const char *)from, sizeof from, (const char *)to,
                                        sizeof to);
        rocksdb_writebatch_delete(b, (const char *)to, sizeof to);
        rocksdb_write(s->db, s->wsync, b, &err);
        rocksdb_writebatch_destroy(b);
        if (err)
            rc = store_fail(s, "removing a failed append after reopen", err);
    } else if (rc == FLURM_OK && last < want_last) {
        flurm_error("store %s: reopen found the log ending at %llu, expected %llu", s->dir,
                    (unsigned long long)last, (unsigned long long)want_last);
        atomic_store(&s->last_index, last);
    }
    if (rc == FLURM_OK) {
        atomic_store(&s->first_index, snap + 1);
        s->reopen_needed = false;
    }
    pthread_rwlock_unlock(&s->db_lock);
    return rc;
}

/* Commit B synced. Called with write_lock held. */
static int commit(flurm_store_t *s, rocksdb_writebatch_t *b, const char *what)
{
    int rc = ensure_writable(s);
    if (rc != FLURM_OK)
        return rc;
    char *err = NULL;
    pthread_rwlock_rdlock(&s->db_lock);
    rocksdb_write(s->db, s->wsync, b, &err);
    pthread_rwlock_unlock(&s->db_lock);
    if (err) {
        s->reopen_needed = true;
        return store_fail(s, what, err);
    }
    store_succeeded(s);
    return FLURM_OK;
}

static char *meta_key(const char *key, size_t *klen);

/* Every write of the log and of metadata (and a follower's snapshot install; a snapshot the
 * host takes keeps the entries after it: flurm_store_save_snapshot): U in one synced batch.
 * WHAT names it in the log line of a failure. A write with nothing to do commits nothing. */
static int store_write(flurm_store_t *s, const flurm_store_update_t *u, const char *what)
{
    if (!s || !u || u->size != sizeof *u || (u->n > 0 && !u->entries) ||
        (u->meta_key && (!*u->meta_key || (!u->meta && u->meta_len > 0))) ||
        u->snapshot_index == UINT64_MAX || (!u->snapshot_data && u->snapshot_len > 0))
        return FLURM_EINVAL;
    for (size_t i = 0; i < u->n; i++)
        if (!u->entries[i].data && u->entries[i].len > 0)
            return FLURM_EINVAL;
    size_t klen = 0;
    char *k = u->meta_key ? meta_key(u->meta_key, &klen) : NULL;
    if (u->meta_key && !k)
        return FLURM_ENOMEM;
    pthread_mutex_lock(&s->write_lock);
    uint64_t first = atomic_load(&s->first_index), last = atomic_load(&s->last_index);
    int rc = FLURM_OK;
    bool installing = u->snapshot_index != 0;
    uint64_t old_last = last;
    if (installing && u->snapshot_index + 1 < first)
        rc = FLURM_EINVAL;   /* older than the snapshot we hold */
    if (installing) {        /* what follows sees the emptied log */
        first = u->snapshot_index + 1;
        last = u->snapshot_index;
    }
    bool truncating = u->truncate_after != UINT64_MAX && u->truncate_after < last;
    uint64_t new_last = truncating ? u->truncate_after : last;
    if (rc == FLURM_OK && truncating && u->truncate_after + 1 < first)
        rc = FLURM_ERANGE;
    else if (u->n > 0 && (u->first_index != new_last + 1 || u->first_index + u->n < u->first_index))
        rc = FLURM_EINVAL;
    if (rc != FLURM_OK) {
        pthread_mutex_unlock(&s->write_lock);
        free(k);
        return rc;
    }
    if (!installing && !truncating && u->n == 0 && !k) {
        pthread_mutex_unlock(&s->write_lock);
        return FLURM_OK;
    }
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    unsigned char key[LOG_KEY_LEN], to[LOG_KEY_LEN];
    if (installing) {
        unsigned char idx[8];
        log_key(key, 0);
        log_key(to, (old_last > u->snapshot_index ? old_last : u->snapshot_index) + 1);
        rocksdb_writebatch_delete_range(b, (const char *)key, sizeof key, (const char *)to, sizeof to);
        be_put64(idx, u->snapshot_index);
        rocksdb_writebatch_put(b, snap_index_key, sizeof snap_index_key, (const char *)idx, sizeof idx);
        rocksdb_writebatch_put(b, snap_data_key, sizeof snap_data_key,
                               u->snapshot_len ? u->snapshot_data : "", u->snapshot_len);
    }
    if (truncating) {
        log_key(key, u->truncate_after + 1);
        log_key(to, last + 1);
        rocksdb_writebatch_delete_range(b, (const char *)key, sizeof key, (const char *)to, sizeof to);
    }
    for (size_t i = 0; i < u->n; i++) {
        log_key(key, u->first_index + i);
        rocksdb_writebatch_put(b, (const char *)key, sizeof key, u->entries[i].len ? u->entries[i].data : "",
                               u->entries[i].len);
    }
    if (k)
        rocksdb_writebatch_put(b, k, klen, u->meta_len ? u->meta : "", u->meta_len);
    rc = commit(s, b, what);
    rocksdb_writebatch_destroy(b);
    if (rc == FLURM_OK) {
        /* Readers compare against first_index; publish it before last_index can move. */
        if (installing)
            atomic_store(&s->first_index, first);
        atomic_store(&s->last_index, u->n > 0 ? u->first_index + u->n - 1 : new_last);
    }
    pthread_mutex_unlock(&s->write_lock);
    free(k);
    return rc;
}

int flurm_store_update(flurm_store_t *s, const flurm_store_update_t *u)
{
    return store_write(s, u, "update");
}

int flurm_store_append(flurm_store_t *s, uint64_t first_index, const flurm_iov_t *entries,
                       size_t n)
{
    if (!s || first_index != flurm_store_last_index(s) + 1)
        return FLURM_EINVAL;
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = UINT64_MAX, .first_index = first_index,
                               .entries = entries, .n = n };
    return store_write(s, &u, "append");
}

int flurm_store_read(flurm_store_t *s, uint64_t from, flurm_store_entry_fn fn, void *arg)
{
    if (!s || !fn)
        return FLURM_EINVAL;
    pthread_rwlock_rdlock(&s->db_lock);
    if (!s->db) {
        pthread_rwlock_unlock(&s->db_lock);
        return FLURM_EIO;
    }
    /* The iterator pins one point in time; the index bounds read before it may only have grown
     * (an append) or had their start moved up (a snapshot), which the loop detects below. */
    uint64_t first = atomic_load(&s->first_index);
    if (from < first) {
        pthread_rwlock_unlock(&s->db_lock);
        return FLURM_ERANGE;
    }
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
    unsigned char key[LOG_KEY_LEN];
    log_key(key, from);
    int rc = FLURM_OK;
    uint64_t want = from;
    for (rocksdb_iter_seek(it, (const char *)key, sizeof key); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen != LOG_KEY_LEN || k[0] != 'L')
            break;
        uint64_t index = be_get64((const unsigned char *)k + 1);
        if (index != want) {
            if (want == from && atomic_load(&s->first_index) > from) {
                rc = FLURM_ERANGE;
            } else {
                flurm_error("store %s: log entry %llu missing (next stored is %llu)", s->dir,
                            (unsigned long long)want, (unsigned long long)index);
                rc = FLURM_EIO;
            }
            break;
        }
        const char *v = rocksdb_iter_value(it, &vlen);
        rc = fn(index, v, vlen, arg);
        if (rc != 0)
            break;
        want++;
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    pthread_rwlock_unlock(&s->db_lock);
    if (err) {
        int e = store_fail(s, "reading the log", err);
        if (rc == FLURM_OK)
            rc = e;
    }
    return rc;
}

int flurm_store_truncate_after(flurm_store_t *s, uint64_t index)
{
    if (!s)
        return FLURM_EINVAL;
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = index };
    return store_write(s, &u, "truncate");
}


int flurm_store_save_snapshot(flurm_store_t *s, uint64_t index, const void *data, size_t len)
{
    if (!s || index == 0 || index == UINT64_MAX || (!data && len > 0))
        return FLURM_EINVAL;
    pthread_mutex_lock(&s->write_lock);
    uint64_t first = atomic_load(&s->first_index), last = atomic_load(&s->last_index);
    int rc = FLURM_OK;
    if (index + 1 < first) {
        rc = FLURM_EINVAL;
    } else {
        unsigned char from[LOG_KEY_LEN], to[LOG_KEY_LEN], idx[8];
        log_key(from, 0);
        log_key(to, index + 1);
        be_put64(idx, index);
        rocksdb_writebatch_t *b = rocksdb_writebatch_create();
        rocksdb_writebatch_delete_range(b, (const char *)from, sizeof from, (const char *)to,
                                        sizeof to);
        rocksdb_writebatch_put(b, snap_index_key, sizeof snap_index_key, (const char *)idx,
                               sizeof idx);
        rocksdb_writebatch_put(b, snap_data_key, sizeof snap_data_key, len ? data : "", len);
        rc = commit(s, b, "saving a snapshot");
        rocksdb_writebatch_destroy(b);
        if (rc == FLURM_OK) {
            /* Readers compare against first_index; publish it before last_index can move. */
            atomic_store(&s->first_index, index + 1);
            if (index > last)
                atomic_store(&s->last_index, index);
        }
    }
    pthread_mutex_unlock(&s->write_lock);
    return rc;
}

/* A malloc'd copy of V (LEN bytes), never NULL unless out of memory. */
static void *copy_out(const char *v, size_t len)
{
    void *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, v, len);
    return p;
}

int flurm_store_load_snapshot(flurm_store_t *s, uint64_t *index, void **data, size_t *len)
{
    if (!s || !index || !data || !len)
        return FLURM_EINVAL;
    pthread_rwlock_rdlock(&s->db_lock);
    if (!s->db) {
        pthread_rwlock_unlock(&s->db_lock);
        return FLURM_EIO;
    }
    /* Both keys from one RocksDB snapshot: a concurrent save replaces them together. */
    const rocksdb_snapshot_t *snap = rocksdb_create_snapshot(s->db);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(ro, snap);
    char *err = NULL;
    size_t ilen = 0, dlen = 0;
    char *iv = rocksdb_get(s->db, ro, snap_index_key, sizeof snap_index_key, &ilen, &err);
    char *dv = NULL;
    if (!err && iv)
        dv = rocksdb_get(s->db, ro, snap_data_key, sizeof snap_data_key, &dlen, &err);
    rocksdb_readoptions_destroy(ro);
    rocksdb_release_snapshot(s->db, snap);
    pthread_rwlock_unlock(&s->db_lock);
    int rc = FLURM_OK;
    if (err) {
        rc = store_fail(s, "loading the snapshot", err);
    } else if (!iv) {
        rc = FLURM_ENOENT;
    } else if (ilen != 8 || !dv) {
        flurm_error("store %s: snapshot records are inconsistent", s->dir);
        rc = FLURM_EIO;
    } else {
        void *p = copy_out(dv, dlen);
        if (!p) {
            rc = FLURM_ENOMEM;
        } else {
            *index = be_get64((const unsigned char *)iv);
            *data = p;
            *len = dlen;
        }
    }
    rocksdb_free(iv);
    rocksdb_free(dv);
    return rc;
}

/* 'M' + KEY into a malloc'd buffer of *KLEN bytes. */
static char *meta_key(const char *key, size_t *klen)
{
    size_t n = strlen(key);
    char *k = malloc(n + 1);
    if (k) {
        k[0] = 'M';
        memcpy(k + 1, key, n);
        *klen = n + 1;
    }
    return k;
}

int flurm_store_put_meta(flurm_store_t *s, const char *key, const void *data, size_t len)
{
    if (!s || !key)
        return FLURM_EINVAL;
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = UINT64_MAX, .meta_key = key, .meta = data,
                               .meta_len = len };
    return store_write(s, &u, "writing metadata");
}

int flurm_store_get_meta(flurm_store_t *s, const char *key, void **data, size_t *len)
{
    if (!s || !key || !*key || !data || !len)
        return FLURM_EINVAL;
    size_t klen;
    char *k = meta_key(key, &klen);
    if (!k)
        return FLURM_ENOMEM;
    char *err = NULL;
    size_t vlen = 0;
    char *v = NULL;
    pthread_rwlock_rdlock(&s->db_lock);
    if (s->db)
        v = rocksdb_get(s->db, s->ropts, k, klen, &vlen, &err);
    bool have_db = s->db != NULL;
    pthread_rwlock_unlock(&s->db_lock);
    free(k);
    int rc = FLURM_OK;
    if (!have_db) {
        rc = FLURM_EIO;
    } else if (err) {
        rc = store_fail(s, "reading metadata", err);
    } else if (!v) {
        rc = FLURM_ENOENT;
    } else {
        void *p = copy_out(v, vlen);
        if (!p) {
            rc = FLURM_ENOMEM;
        } else {
            *data = p;
            *len = vlen;
        }
    }
    rocksdb_free(v);
    return rc;
}
