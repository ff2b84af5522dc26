/* tests/unit/test_store.c — the RocksDB-backed log/snapshot/metadata store and its group-commit
 * writer, against a real RocksDB in a fresh mkdtemp directory per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/store.h>

static const char *self_exe;

/* ---- helpers ------------------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int setup_dir(void **state)
{
    char *dir = strdup("/tmp/flurm-store-test-XXXXXX");
    if (!dir || !mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

/* A deterministic payload for INDEX: 1..200 bytes whose content depends on INDEX. */
static size_t payload(uint64_t index, unsigned char *buf)
{
    size_t len = 1 + (size_t)((index * 2654435761u) % 200);
    for (size_t j = 0; j < len; j++)
        buf[j] = (unsigned char)(index * 7 + j * 31);
    return len;
}

static flurm_store_t *open_store(const char *dir)
{
    flurm_store_t *s = NULL;
    assert_int_equal(flurm_store_open(dir, &s), FLURM_OK);
    assert_non_null(s);
    return s;
}

static int append_payloads(flurm_store_t *s, uint64_t first, size_t n)
{
    unsigned char (*bufs)[200] = malloc(n * sizeof *bufs);
    flurm_iov_t *iov = malloc(n * sizeof *iov);
    assert_non_null(bufs);
    assert_non_null(iov);
    for (size_t i = 0; i < n; i++)
        iov[i] = (flurm_iov_t){ bufs[i], payload(first + i, bufs[i]) };
    int rc = flurm_store_append(s, first, iov, n);
    free(iov);
    free(bufs);
    return rc;
}

struct check {
    uint64_t next;      /* expected next index */
    uint64_t count;
    uint64_t stop_at;   /* return 7 at this index (0: never) */
};

/* Asserts each entry is the next index and carries payload(index). */
static int check_entry(uint64_t index, const void *data, size_t len, void *arg)
{
    struct check *c = arg;
    unsigned char want[200];
    assert_true(index == c->next);
    size_t wlen = payload(index, want);
    assert_int_equal(len, wlen);
    assert_memory_equal(data, want, wlen);
    c->next++;
    c->count++;
    return index == c->stop_at ? 7 : 0;
}

/* Asserts the log holds exactly payload(FIRST..LAST). */
static void expect_log(flurm_store_t *s, uint64_t first, uint64_t last)
{
    assert_true(flurm_store_first_index(s) == first);
    assert_true(flurm_store_last_index(s) == last);
    struct check c = { .next = first };
    assert_int_equal(flurm_store_read(s, first, check_entry, &c), FLURM_OK);
    assert_true(c.next == last + 1);
}

/* ---- log ---------------------------------------------------------------------------------- */

static void test_store_open_creates_missing_dirs_private(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/db", (char *)*state);
    flurm_store_t *s = open_store(path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/a", (char *)*state);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_true(flurm_store_first_index(s) == 1);
    assert_true(flurm_store_last_index(s) == 0);
    flurm_store_close(s);
}

/* It holds job scripts and environments: an existing directory is made private too. */
static void test_store_open_makes_existing_dir_private(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/db", (char *)*state);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(chmod(path, 0755), 0);
    flurm_store_t *s = open_store(path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    flurm_store_close(s);
}

static void test_store_open_refuses_second_opener(void **state)
{
    flurm_store_t *s = open_store(*state), *t = NULL;
    flurm_log_level_t lvl = flurm_log_get_level();
    flurm_log_set_level(-1);   /* the expected lock error is noise here */
    assert_int_equal(flurm_store_open(*state, &t), FLURM_EIO);
    flurm_log_set_level(lvl);
    assert_null(t);
    flurm_store_close(s);
}

static void test_store_append_read_survives_reopen(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 1), FLURM_OK);
    assert_int_equal(append_payloads(s, 2, 299), FLURM_OK);
    expect_log(s, 1, 300);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 300);
    assert_int_equal(append_payloads(s, 301, 1), FLURM_OK);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 301);
    flurm_store_close(s);
}

static void test_store_destroy_leaves_an_empty_store(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/db", (const char *)*state);
    assert_int_equal(flurm_store_destroy(path), FLURM_OK);   /* nothing there yet: fine */
    flurm_store_t *s = open_store(path);
    assert_int_equal(append_payloads(s, 1, 50), FLURM_OK);
    assert_int_equal(flurm_store_put_meta(s, "term", "7", 1), FLURM_OK);
    flurm_store_close(s);
    assert_int_equal(flurm_store_destroy(path), FLURM_OK);
    s = open_store(path);
    assert_true(flurm_store_last_index(s) == 0);
    void *m = NULL;
    size_t mlen = 0;
    assert_int_equal(flurm_store_get_meta(s, "term", &m, &mlen), FLURM_ENOENT);
    assert_int_equal(append_payloads(s, 1, 1), FLURM_OK);   /* a new log starts at 1 */
    flurm_store_close(s);
}

static int expect_empty_301(uint64_t index, const void *data, size_t len, void *arg)
{
    (void)data;
    assert_true(index == 301);
    assert_int_equal(len, 0);
    ++*(int *)arg;
    return 0;
}

static void test_store_read_zero_length_entry(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 300), FLURM_OK);
    const flurm_iov_t empty = { NULL, 0 };
    assert_int_equal(flurm_store_append(s, 301, &empty, 1), FLURM_OK);
    flurm_store_close(s);
    s = open_store(*state);
    int calls = 0;
    assert_int_equal(flurm_store_read(s, 301, expect_empty_301, &calls), FLURM_OK);
    assert_int_equal(calls, 1);
    flurm_store_close(s);
}

static void test_store_append_rejects_index_gap(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 0, 1), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 2, 1), FLURM_EINVAL);
    assert_true(flurm_store_last_index(s) == 0);
    assert_int_equal(append_payloads(s, 1, 5), FLURM_OK);
    assert_int_equal(append_payloads(s, 7, 1), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 5, 1), FLURM_EINVAL);   /* overlap */
    assert_int_equal(flurm_store_append(s, 7, NULL, 0), FLURM_EINVAL);
    assert_int_equal(flurm_store_append(s, 6, NULL, 0), FLURM_OK);
    assert_int_equal(flurm_store_append(s, 6, NULL, 1), FLURM_EINVAL);
    expect_log(s, 1, 5);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 5);
    flurm_store_close(s);
}

static void test_store_read_stops_on_callback_and_checks_range(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 50), FLURM_OK);
    struct check c = { .next = 10, .stop_at = 20 };
    assert_int_equal(flurm_store_read(s, 10, check_entry, &c), 7);
    assert_true(c.count == 11);
    c = (struct check){ .next = 51 };
    assert_int_equal(flurm_store_read(s, 51, check_entry, &c), FLURM_OK);
    assert_true(c.count == 0);
    assert_int_equal(flurm_store_read(s, 0, check_entry, &c), FLURM_ERANGE);
    flurm_store_close(s);
}

/* ---- snapshot ----------------------------------------------------------------------------- */

static void test_store_snapshot_compacts_log_atomically(void **state)
{
    flurm_store_t *s = open_store(*state);
    uint64_t idx = 0;
    void *data = NULL;
    size_t len = 0;
    assert_int_equal(flurm_store_load_snapshot(s, &idx, &data, &len), FLURM_ENOENT);
    assert_int_equal(append_payloads(s, 1, 100), FLURM_OK);
    assert_int_equal(flurm_store_save_snapshot(s, 0, "x", 1), FLURM_EINVAL);
    assert_int_equal(flurm_store_save_snapshot(s, 60, "state@60", 8), FLURM_OK);
    expect_log(s, 61, 100);
    struct check c = { .next = 60 };
    assert_int_equal(flurm_store_read(s, 60, check_entry, &c), FLURM_ERANGE);
    assert_int_equal(flurm_store_save_snapshot(s, 59, "old", 3), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 101, 10), FLURM_OK);
    flurm_store_close(s);

    s = open_store(*state);
    expect_log(s, 61, 110);
    assert_int_equal(flurm_store_load_snapshot(s, &idx, &data, &len), FLURM_OK);
    assert_true(idx == 60);
    assert_int_equal(len, 8);
    assert_memory_equal(data, "state@60", 8);
    free(data);

    /* A snapshot beyond the log (installed from a leader) empties it; appends go on after it. */
    assert_int_equal(flurm_store_save_snapshot(s, 500, "", 0), FLURM_OK);
    assert_true(flurm_store_first_index(s) == 501);
    assert_true(flurm_store_last_index(s) == 500);
    assert_int_equal(append_payloads(s, 111, 1), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 501, 3), FLURM_OK);
    flurm_store_close(s);

    s = open_store(*state);
    expect_log(s, 501, 503);
    assert_int_equal(flurm_store_load_snapshot(s, &idx, &data, &len), FLURM_OK);
    assert_true(idx == 500);
    assert_int_equal(len, 0);
    assert_non_null(data);
    free(data);
    flurm_store_close(s);
}

/* ---- truncate ----------------------------------------------------------------------------- */

static void test_store_truncate_after_drops_suffix(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 40), FLURM_OK);
    assert_int_equal(flurm_store_truncate_after(s, 50), FLURM_OK);   /* beyond the end: no-op */
    expect_log(s, 1, 40);
    assert_int_equal(flurm_store_truncate_after(s, 25), FLURM_OK);
    expect_log(s, 1, 25);
    assert_int_equal(append_payloads(s, 27, 1), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 26, 5), FLURM_OK);
    assert_int_equal(flurm_store_save_snapshot(s, 10, "s", 1), FLURM_OK);
    assert_int_equal(flurm_store_truncate_after(s, 9), FLURM_ERANGE);
    expect_log(s, 11, 30);
    flurm_store_close(s);

    s = open_store(*state);
    expect_log(s, 11, 30);
    assert_int_equal(flurm_store_truncate_after(s, 10), FLURM_OK);   /* down to the snapshot */
    assert_true(flurm_store_last_index(s) == 10);
    flurm_store_close(s);
    s = open_store(*state);
    assert_true(flurm_store_first_index(s) == 11);
    assert_true(flurm_store_last_index(s) == 10);
    assert_int_equal(append_payloads(s, 11, 2), FLURM_OK);
    expect_log(s, 11, 12);
    flurm_store_close(s);
}

/* An update of FIRST..FIRST+N-1 carrying payload(index), after truncating after TRUNC, with the
 * metadata record "hard" = HARD. */
static int update_payloads(flurm_store_t *s, uint64_t trunc, uint64_t first, size_t n, const char *hard)
{
    unsigned char bufs[8][200];
    flurm_iov_t iov[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        iov[i] = (flurm_iov_t){ bufs[i], payload(first + i, bufs[i]) };
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = trunc, .first_index = first,
                               .entries = iov, .n = n, .meta_key = hard ? "hard" : NULL, .meta = hard,
                               .meta_len = hard ? strlen(hard) : 0 };
    return flurm_store_update(s, &u);
}

static void expect_meta(flurm_store_t *s, const char *key, const char *want)
{
    void *d = NULL;
    size_t l = 0;
    assert_int_equal(flurm_store_get_meta(s, key, &d, &l), FLURM_OK);
    assert_int_equal(l, strlen(want));
    assert_memory_equal(d, want, l);
    free(d);
}

/* A Raft follower's write: the contradicted suffix goes, new entries and the hard state come,
 * in one batch that survives a reopen. */
static void test_store_update_truncates_appends_and_sets_hard_state_together(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(update_payloads(s, UINT64_MAX, 1, 6, "term=1"), FLURM_OK);
    expect_log(s, 1, 6);
    expect_meta(s, "hard", "term=1");
    assert_int_equal(update_payloads(s, 3, 4, 2, "term=2"), FLURM_OK);   /* 4..6 replaced by 4..5 */
    expect_log(s, 1, 5);
    expect_meta(s, "hard", "term=2");
    assert_int_equal(update_payloads(s, UINT64_MAX, 0, 0, "term=3 vote=2"), FLURM_OK);   /* a vote alone */
    expect_log(s, 1, 5);
    assert_int_equal(update_payloads(s, 2, 0, 0, NULL), FLURM_OK);   /* a truncation alone */
    expect_log(s, 1, 2);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 2);
    expect_meta(s, "hard", "term=3 vote=2");
    flurm_store_close(s);
}

/* A follower installing its leader's snapshot: the snapshot, an emptied log (even entries beyond
 * the snapshot: the leader's log is what counts), the entries that follow and the hard state, in
 * one write. */
static void test_store_update_installs_a_snapshot_with_what_follows(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 30), FLURM_OK);
    unsigned char bufs[2][200];
    flurm_iov_t iov[2] = { { bufs[0], payload(16, bufs[0]) }, { bufs[1], payload(17, bufs[1]) } };
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = UINT64_MAX, .first_index = 16, .entries = iov,
                               .n = 2, .meta_key = "hard", .meta = "t5", .meta_len = 2, .snapshot_index = 15,
                               .snapshot_data = "SNAP", .snapshot_len = 4 };
    assert_int_equal(flurm_store_update(s, &u), FLURM_OK);
    for (int round = 0; round < 2; round++) {
        expect_log(s, 16, 17);
        expect_meta(s, "hard", "t5");
        uint64_t idx = 0;
        void *d = NULL;
        size_t l = 0;
        assert_int_equal(flurm_store_load_snapshot(s, &idx, &d, &l), FLURM_OK);
        assert_true(idx == 15);
        assert_int_equal(l, 4);
        assert_memory_equal(d, "SNAP", 4);
        free(d);
        flurm_store_close(s);
        s = open_store(*state);
    }
    /* beyond the log: the next entry follows the snapshot */
    flurm_store_update_t far = { .size = sizeof far, .truncate_after = UINT64_MAX, .snapshot_index = 100,
                                 .snapshot_data = "X", .snapshot_len = 1 };
    assert_int_equal(flurm_store_update(s, &far), FLURM_OK);
    assert_true(flurm_store_first_index(s) == 101);
    assert_true(flurm_store_last_index(s) == 100);
    flurm_store_update_t older = { .size = sizeof older, .truncate_after = UINT64_MAX, .snapshot_index = 50,
                                   .snapshot_data = "Y", .snapshot_len = 1 };
    assert_int_equal(flurm_store_update(s, &older), FLURM_EINVAL);
    assert_int_equal(append_payloads(s, 101, 3), FLURM_OK);
    expect_log(s, 101, 103);
    flurm_store_close(s);
}

static void test_store_update_refuses_gaps_sizes_and_committed_truncation(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(update_payloads(s, UINT64_MAX, 1, 8, NULL), FLURM_OK);
    assert_int_equal(update_payloads(s, 5, 7, 1, "x"), FLURM_EINVAL);   /* 6 would be missing */
    assert_int_equal(update_payloads(s, UINT64_MAX, 10, 1, "x"), FLURM_EINVAL);
    assert_int_equal(flurm_store_save_snapshot(s, 4, "s", 1), FLURM_OK);
    assert_int_equal(update_payloads(s, 2, 3, 1, "x"), FLURM_ERANGE);   /* 3 is in the snapshot */
    flurm_store_update_t old = { .size = sizeof old - 8, .truncate_after = UINT64_MAX };
    assert_int_equal(flurm_store_update(s, &old), FLURM_EINVAL);
    flurm_store_update_t nokey = { .size = sizeof nokey, .truncate_after = UINT64_MAX, .meta_key = "" };
    assert_int_equal(flurm_store_update(s, &nokey), FLURM_EINVAL);
    expect_log(s, 5, 8);   /* none of the refused updates changed anything */
    void *d;
    size_t l;
    assert_int_equal(flurm_store_get_meta(s, "hard", &d, &l), FLURM_ENOENT);
    flurm_store_close(s);
}

/* ---- metadata ----------------------------------------------------------------------------- */

static void test_store_meta_roundtrip_and_overwrite(void **state)
{
    flurm_store_t *s = open_store(*state);
    void *data = (void *)1;
    size_t len = 99;
    assert_int_equal(flurm_store_get_meta(s, "hardstate", &data, &len), FLURM_ENOENT);
    assert_true(data == (void *)1 && len == 99);
    assert_int_equal(flurm_store_put_meta(s, "", "x", 1), FLURM_EINVAL);
    assert_int_equal(flurm_store_put_meta(s, "hardstate", "term=1", 6), FLURM_OK);
    assert_int_equal(flurm_store_put_meta(s, "hardstate", "term=22", 7), FLURM_OK);
    assert_int_equal(flurm_store_put_meta(s, "config", NULL, 0), FLURM_OK);
    /* Metadata does not disturb the log. */
    assert_int_equal(append_payloads(s, 1, 3), FLURM_OK);
    flurm_store_close(s);

    s = open_store(*state);
    expect_log(s, 1, 3);
    assert_int_equal(flurm_store_get_meta(s, "hardstate", &data, &len), FLURM_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "term=22", 7);
    free(data);
    assert_int_equal(flurm_store_get_meta(s, "config", &data, &len), FLURM_OK);
    assert_int_equal(len, 0);
    assert_non_null(data);
    free(data);
    assert_int_equal(flurm_store_get_meta(s, "hard", &data, &len), FLURM_ENOENT);
    flurm_store_close(s);
}

/* ---- group-commit writer ------------------------------------------------------------------ */

enum { WRITER_ENTRIES = 10000 };

struct shared {
    pthread_mutex_t lock;
    flurm_store_writer_t *w;
    uint64_t next;
    uint64_t limit;
    /* done() side, written on the writer thread only, read after stop */
    uint64_t batches, durable, errors;
    int out_of_order;
};

static void count_done(uint64_t durable, int err, void *arg)
{
    struct shared *sh = arg;
    if (err != FLURM_OK)
        sh->errors++;
    if (durable <= sh->durable)
        sh->out_of_order = 1;
    sh->durable = durable;
    sh->batches++;
}

static void *producer(void *arg)
{
    struct shared *sh = arg;
    unsigned char buf[200];
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        if (sh->next > sh->limit) {
            pthread_mutex_unlock(&sh->lock);
            return NULL;
        }
        uint64_t i = sh->next++;
        int rc = flurm_store_writer_submit(sh->w, i, buf, payload(i, buf));
        pthread_mutex_unlock(&sh->lock);
        if (rc != FLURM_OK)
            return (void *)1;
    }
}

static void test_store_writer_groups_concurrent_submits(void **state)
{
    flurm_store_t *s = open_store(*state);
    struct shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER, .next = 1, .limit = WRITER_ENTRIES };
    assert_int_equal(flurm_store_writer_start(s, count_done, &sh, &sh.w), FLURM_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, producer, &sh), 0);
    for (int i = 0; i < 2; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    flurm_store_writer_stop(sh.w);
    assert_true(sh.durable == WRITER_ENTRIES);
    assert_int_equal(sh.errors, 0);
    assert_int_equal(sh.out_of_order, 0);
    assert_true(sh.batches >= 1 && sh.batches < WRITER_ENTRIES);
    print_message("writer: %d entries in %llu batches\n", WRITER_ENTRIES,
                  (unsigned long long)sh.batches);
    expect_log(s, 1, WRITER_ENTRIES);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, WRITER_ENTRIES);
    flurm_store_close(s);
}

static void test_store_writer_rejects_non_consecutive_submit(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 4), FLURM_OK);
    struct shared sh = { 0 };
    flurm_store_writer_t *w;
    assert_int_equal(flurm_store_writer_start(s, count_done, &sh, &w), FLURM_OK);
    assert_int_equal(flurm_store_writer_submit(w, 4, "a", 1), FLURM_EINVAL);
    assert_int_equal(flurm_store_writer_submit(w, 5, "a", 1), FLURM_OK);
    assert_int_equal(flurm_store_writer_submit(w, 7, "c", 1), FLURM_EINVAL);
    assert_int_equal(flurm_store_writer_submit(w, 6, "b", 1), FLURM_OK);
    flurm_store_writer_stop(w);
    assert_true(sh.durable == 6);
    assert_int_equal(sh.errors, 0);
    assert_true(flurm_store_last_index(s) == 6);
    flurm_store_close(s);
}

/* ---- crash durability --------------------------------------------------------------------- */

/* Acknowledged so far in the crash child (the writer's thread stores, the submitter reads). */
static _Atomic uint64_t g_child_acked;

static void ack_to_pipe(uint64_t durable, int err, void *arg)
{
    if (err != FLURM_OK)
        _exit(3);
    int fd = *(int *)arg;
    atomic_store(&g_child_acked, durable);
    if (write(fd, &durable, sizeof durable) != (ssize_t)sizeof durable)
        _exit(4);
}

/* Unacknowledged entries the crash child allows: enough for the kill to land mid-batch, few
 * enough that a slow disk (large batches) cannot grow the log to millions of entries that the
 * parent then reads back (minutes under ASan). */
#define CHILD_IN_FLIGHT 2048

/* Child side (re-executed test binary, so no RocksDB threads are inherited across fork): submit
 * payloads through the writer forever, reporting each acknowledged index on FD. */
static int crash_child(const char *dir, int fd)
{
    flurm_store_t *s;
    if (flurm_store_open(dir, &s) != FLURM_OK)
        return 2;
    flurm_store_writer_t *w;
    uint64_t first = flurm_store_last_index(s) + 1;
    atomic_store(&g_child_acked, first - 1);
    if (flurm_store_writer_start(s, ack_to_pipe, &fd, &w) != FLURM_OK)
        return 2;
    unsigned char buf[200];
    for (uint64_t i = first;; i++) {
        while (i - atomic_load(&g_child_acked) > CHILD_IN_FLIGHT)
            usleep(100);
        if (flurm_store_writer_submit(w, i, buf, payload(i, buf)) != FLURM_OK)
            return 5;
    }
}

static void test_store_acknowledged_entries_survive_sigkill(void **state)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("crash test seed %u\n", seed);
    srand(seed);
    for (int round = 0; round < 3; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", p[1]);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            execl(self_exe, self_exe, "--crash-child", (char *)*state, fdarg, (char *)NULL);
            _exit(127);
        }
        close(p[1]);
        /* Kill after a random number of acknowledgements plus a random sub-millisecond delay. */
        unsigned want_acks = 1 + (unsigned)rand() % 400;
        uint64_t ack, max_ack = 0;
        unsigned acks = 0;
        while (acks < want_acks && read(p[0], &ack, sizeof ack) == (ssize_t)sizeof ack) {
            assert_true(ack > max_ack);
            max_ack = ack;
            acks++;
        }
        assert_int_equal(acks, want_acks);
        usleep((useconds_t)(rand() % 1000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Acks written before the kill are still in the pipe. */
        while (read(p[0], &ack, sizeof ack) == (ssize_t)sizeof ack) {
            assert_true(ack > max_ack);
            max_ack = ack;
        }
        close(p[0]);

        flurm_store_t *s = open_store(*state);
        uint64_t last = flurm_store_last_index(s);
        print_message("round %d: %u+ acks, acknowledged %llu, recovered %llu\n", round, acks,
                      (unsigned long long)max_ack, (unsigned long long)last);
        assert_true(last >= max_ack);
        expect_log(s, 1, last);   /* every present entry is whole and exact */
        flurm_store_close(s);
    }
}

/* ---- storage failure ---------------------------------------------------------------------- */

/* Storage failures are produced for real: RLIMIT_FSIZE makes the kernel refuse (EFBIG) the WAL
 * write that would grow the file past the limit, which is the same RocksDB path as ENOSPC
 * (PosixWritableFile::Append failing, WAL write error, DB refusing writes until reopened). */

static off_t largest_wal(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    off_t max = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0) {
            char path[1024];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &st) == 0 && st.st_size > max)
                max = st.st_size;
        }
    }
    closedir(d);
    assert_true(max >= 0);
    return max;
}

static struct rlimit saved_fsize;

static void limit_file_size(const char *dir)
{
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit r = saved_fsize;
    r.rlim_cur = (rlim_t)largest_wal(dir) + 256;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static void unlimit_file_size(void)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
    signal(SIGXFSZ, SIG_DFL);
}

static int error_lines;
static char first_error[512];

static void count_errors(flurm_log_level_t level, const char *line, void *arg)
{
    (void)arg;
    if (level == FLURM_LOG_ERROR && error_lines++ == 0)
        snprintf(first_error, sizeof first_error, "%s", line);
}

static void test_store_failed_append_is_invisible_and_store_recovers(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 20), FLURM_OK);
    static unsigned char big[64 * 1024];
    memset(big, 0xab, sizeof big);
    const flurm_iov_t e = { big, sizeof big };

    error_lines = 0;
    flurm_log_set_sink(count_errors, NULL);
    limit_file_size(*state);
    int rc = flurm_store_append(s, 21, &e, 1);
    unlimit_file_size();
    flurm_log_set_sink(NULL, NULL);
    assert_int_equal(rc, FLURM_EIO);
    assert_int_equal(error_lines, 1);
    assert_non_null(strstr(first_error, "append"));
    assert_non_null(strstr(first_error, "File too large"));

    /* Nothing of the failed batch is visible and reads keep working. */
    expect_log(s, 1, 20);
    void *d;
    size_t l;
    assert_int_equal(flurm_store_get_meta(s, "none", &d, &l), FLURM_ENOENT);

    /* With room again, the same index is appended (after an internal reopen). */
    assert_int_equal(append_payloads(s, 21, 5), FLURM_OK);
    expect_log(s, 1, 25);

    /* An update that fails to persist leaves neither its truncation, nor its entries, nor its
     * hard state behind. */
    flurm_iov_t big_iov = { big, sizeof big };
    flurm_store_update_t u = { .size = sizeof u, .truncate_after = 22, .first_index = 23, .entries = &big_iov,
                               .n = 1, .meta_key = "hard", .meta = "term=9", .meta_len = 6 };
    flurm_log_set_sink(count_errors, NULL);
    limit_file_size(*state);
    rc = flurm_store_update(s, &u);
    unlimit_file_size();
    flurm_log_set_sink(NULL, NULL);
    assert_int_equal(rc, FLURM_EIO);
    expect_log(s, 1, 25);
    assert_int_equal(flurm_store_get_meta(s, "hard", &d, &l), FLURM_ENOENT);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 25);
    assert_int_equal(flurm_store_get_meta(s, "hard", &d, &l), FLURM_ENOENT);
    flurm_store_close(s);
}

struct fail_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    uint64_t durable[4];
    int err[4];
};

static void record_done(uint64_t durable, int err, void *arg)
{
    struct fail_state *f = arg;
    pthread_mutex_lock(&f->lock);
    if (f->calls < 4) {
        f->durable[f->calls] = durable;
        f->err[f->calls] = err;
    }
    f->calls++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void wait_calls(struct fail_state *f, int n)
{
    pthread_mutex_lock(&f->lock);
    while (f->calls < n)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void test_store_writer_reports_failed_batch_and_continues(void **state)
{
    flurm_store_t *s = open_store(*state);
    assert_int_equal(append_payloads(s, 1, 10), FLURM_OK);
    struct fail_state f = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    flurm_store_writer_t *w;
    assert_int_equal(flurm_store_writer_start(s, record_done, &f, &w), FLURM_OK);
    static unsigned char big[64 * 1024];
    memset(big, 0xcd, sizeof big);

    flurm_log_set_sink(count_errors, NULL);
    limit_file_size(*state);
    assert_int_equal(flurm_store_writer_submit(w, 11, big, sizeof big), FLURM_OK);
    wait_calls(&f, 1);
    unlimit_file_size();
    flurm_log_set_sink(NULL, NULL);
    assert_int_equal(f.err[0], FLURM_EIO);
    assert_true(f.durable[0] == 11);
    assert_true(flurm_store_last_index(s) == 10);

    /* The failed index is free again; the writer continues there. */
    assert_int_equal(flurm_store_writer_submit(w, 12, "x", 1), FLURM_EINVAL);
    unsigned char buf[200];
    assert_int_equal(flurm_store_writer_submit(w, 11, buf, payload(11, buf)), FLURM_OK);
    assert_int_equal(flurm_store_writer_submit(w, 12, buf, payload(12, buf)), FLURM_OK);
    flurm_store_writer_stop(w);
    assert_true(f.calls >= 2);
    assert_int_equal(f.err[f.calls - 1], FLURM_OK);
    assert_true(f.durable[f.calls - 1] == 12);
    flurm_store_close(s);
    s = open_store(*state);
    expect_log(s, 1, 12);
    flurm_store_close(s);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--crash-child") == 0)
        return crash_child(argv[2], atoi(argv[3]));
    self_exe = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_open_creates_missing_dirs_private, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_open_makes_existing_dir_private, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_open_refuses_second_opener, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_append_read_survives_reopen, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_destroy_leaves_an_empty_store, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_read_zero_length_entry, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_append_rejects_index_gap, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_read_stops_on_callback_and_checks_range, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_snapshot_compacts_log_atomically, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_truncate_after_drops_suffix, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_meta_roundtrip_and_overwrite, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_writer_groups_concurrent_submits, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_writer_rejects_non_consecutive_submit, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_acknowledged_entries_survive_sigkill, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_update_truncates_appends_and_sets_hard_state_together, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_update_installs_a_snapshot_with_what_follows, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_update_refuses_gaps_sizes_and_committed_truncation, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_failed_append_is_invisible_and_store_recovers, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_store_writer_reports_failed_batch_and_continues, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
