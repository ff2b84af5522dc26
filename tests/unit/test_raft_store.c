/* tests/unit/test_raft_store.c — a Raft member's durable half on a real RocksDB store: what a
 * core asks to persist comes back at restart as exactly what the core needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <flurm/raft.h>
#include <flurm/raft_store.h>
#include <flurm/store.h>

static int setup_dir(void **state)
{
    char *d = strdup("/tmp/flurm-raftstore-XXXXXX");
    if (!d || !mkdtemp(d))
        return -1;
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

static flurm_store_t *open_store(const char *dir)
{
    flurm_store_t *s = NULL;
    assert_int_equal(flurm_store_open(dir, &s), FLURM_OK);
    return s;
}

static const uint64_t VOTERS[1] = { 1 };

static flurm_raft_t *new_core(const flurm_raft_persisted_t *restored)
{
    flurm_raft_config_t cfg = { .size = sizeof cfg, .id = 1, .n_voters = 1, .voters = VOTERS, .pre_vote = 1,
                                .seed = 7 };
    flurm_err_t err = FLURM_OK;
    flurm_raft_t *r = flurm_raft_new(&cfg, restored, &err);
    assert_non_null(r);
    return r;
}

/* Carries out U as a host must: persist, then report it durable (which may commit). */
static void host(flurm_raft_t *r, flurm_store_t *s, uint64_t now, flurm_raft_update_t *u, int depth)
{
    assert_int_equal(flurm_raft_store_write(s, u), FLURM_OK);
    if (u->n_entries && depth < 4) {
        flurm_raft_event_t ev = { .kind = FLURM_RAFT_PERSISTED, .now_ms = now,
                                  .index = u->entries[u->n_entries - 1].index,
                                  .term = u->entries[u->n_entries - 1].term };
        flurm_raft_update_t next;
        assert_int_equal(flurm_raft_step(r, &ev, &next), FLURM_OK);
        host(r, s, now, &next, depth + 1);
    }
}

static uint64_t elect(flurm_raft_t *r, flurm_store_t *s)
{
    uint64_t now = 0;
    for (; now < 10000 && flurm_raft_role(r) != FLURM_RAFT_LEADER; now += 50) {
        flurm_raft_event_t ev = { .kind = FLURM_RAFT_TICK, .now_ms = now };
        flurm_raft_update_t u;
        assert_int_equal(flurm_raft_step(r, &ev, &u), FLURM_OK);
        host(r, s, now, &u, 0);
    }
    assert_int_equal(flurm_raft_role(r), FLURM_RAFT_LEADER);
    return now;
}

static void propose(flurm_raft_t *r, flurm_store_t *s, uint64_t now, const char *cmd)
{
    const void *cmds[1] = { cmd };
    uint32_t lens[1] = { (uint32_t)strlen(cmd) };
    flurm_raft_event_t ev = { .kind = FLURM_RAFT_PROPOSE, .now_ms = now, .commands = cmds, .lens = lens,
                              .n_commands = 1 };
    flurm_raft_update_t u;
    assert_int_equal(flurm_raft_step(r, &ev, &u), FLURM_OK);
    host(r, s, now, &u, 0);
}

static void test_raft_store_a_restarted_member_resumes_its_log_and_hard_state(void **state)
{
    flurm_store_t *s = open_store(*state);
    flurm_raft_t *r = new_core(NULL);
    uint64_t now = elect(r, s);
    propose(r, s, now, "submit a");
    propose(r, s, now, "submit b");
    uint64_t term = flurm_raft_term(r), last = flurm_raft_last_index(r);
    assert_true(last >= 3);   /* the election's no-op and the two commands */
    assert_true(flurm_raft_commit_index(r) == last);
    flurm_raft_free(r);
    flurm_store_close(s);

    s = open_store(*state);
    flurm_raft_persisted_t p;
    const void *data;
    size_t len;
    flurm_raft_store_loaded_t *held = NULL;
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_true(p.term == term);
    assert_true(p.voted_for == 1);
    assert_null(data);
    assert_true(p.snapshot.index == 0);
    assert_int_equal(p.n_entries, last);
    assert_true(p.entries[last - 1].index == last);
    assert_int_equal(p.entries[last - 1].len, 8);
    assert_memory_equal(p.entries[last - 1].data, "submit b", 8);
    assert_int_equal(p.entries[last - 1].type, FLURM_RAFT_ENTRY_COMMAND);
    r = new_core(&p);
    flurm_raft_store_loaded_free(held);
    assert_true(flurm_raft_last_index(r) == last);
    assert_true(flurm_raft_term(r) == term);
    /* it leads again in a later term, and its log continues */
    now = elect(r, s);
    assert_true(flurm_raft_term(r) > term);
    propose(r, s, now, "submit c");
    assert_true(flurm_raft_commit_index(r) == flurm_raft_last_index(r));
    flurm_raft_free(r);
    flurm_store_close(s);
}

static void test_raft_store_snapshot_keeps_its_metadata_and_what_follows(void **state)
{
    flurm_store_t *s = open_store(*state);
    flurm_raft_t *r = new_core(NULL);
    uint64_t now = elect(r, s);
    for (int i = 0; i < 5; i++)
        propose(r, s, now, "cmd");
    uint64_t last = flurm_raft_last_index(r), term = flurm_raft_term(r);
    flurm_raft_snapshot_meta_t meta = { .index = last - 2, .term = term, .n_voters = 1, .voters = { 1 } };
    assert_int_equal(flurm_raft_store_snapshot(s, &meta, "STATE", 5), FLURM_OK);
    flurm_raft_free(r);
    flurm_store_close(s);

    s = open_store(*state);
    flurm_raft_persisted_t p;
    const void *data;
    size_t len;
    flurm_raft_store_loaded_t *held = NULL;
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_true(p.snapshot.index == last - 2);
    assert_true(p.snapshot.term == term);
    assert_int_equal(p.snapshot.n_voters, 1);
    assert_true(p.snapshot.voters[0] == 1);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "STATE", 5);
    assert_int_equal(p.n_entries, 2);
    assert_true(p.entries[0].index == last - 1);
    r = new_core(&p);
    flurm_raft_store_loaded_free(held);
    assert_true(flurm_raft_snapshot_index(r) == last - 2);
    assert_true(flurm_raft_last_index(r) == last);
    flurm_raft_free(r);
    flurm_store_close(s);
}

/* A follower's write: a snapshot from its leader replaces its log, entries follow, and the hard
 * state moves with them. */
static void test_raft_store_write_installs_a_leaders_snapshot(void **state)
{
    flurm_store_t *s = open_store(*state);
    flurm_raft_entry_t old[3] = { { .index = 1, .term = 1, .len = 1, .data = "a" },
                                  { .index = 2, .term = 1, .len = 1, .data = "b" },
                                  { .index = 3, .term = 2, .len = 1, .data = "c" } };
    flurm_raft_update_t u = { .hard_state_changed = true, .term = 2, .voted_for = 2, .entries = old, .n_entries = 3 };
    assert_int_equal(flurm_raft_store_write(s, &u), FLURM_OK);
    flurm_raft_snapshot_meta_t meta = { .index = 10, .term = 4, .n_voters = 3, .voters = { 1, 2, 3 } };
    flurm_raft_entry_t next[1] = { { .index = 11, .term = 4, .len = 2, .data = "xy" } };
    flurm_raft_update_t v = { .hard_state_changed = true, .term = 4, .voted_for = 0, .snapshot = &meta,
                              .snapshot_data = "S10", .snapshot_len = 3, .entries = next, .n_entries = 1 };
    assert_int_equal(flurm_raft_store_write(s, &v), FLURM_OK);
    flurm_store_close(s);

    s = open_store(*state);
    flurm_raft_persisted_t p;
    const void *data;
    size_t len;
    flurm_raft_store_loaded_t *held = NULL;
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_true(p.term == 4 && p.voted_for == 0);
    assert_true(p.snapshot.index == 10 && p.snapshot.term == 4 && p.snapshot.n_voters == 3);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "S10", 3);
    assert_int_equal(p.n_entries, 1);
    assert_true(p.entries[0].index == 11 && p.entries[0].term == 4);
    assert_memory_equal(p.entries[0].data, "xy", 2);
    flurm_raft_store_loaded_free(held);

    /* a truncation of the contradicted suffix, with a new entry, in one write */
    flurm_raft_entry_t more[2] = { { .index = 12, .term = 4, .len = 1, .data = "p" },
                                   { .index = 13, .term = 4, .len = 1, .data = "q" } };
    flurm_raft_update_t w = { .entries = more, .n_entries = 2 };
    assert_int_equal(flurm_raft_store_write(s, &w), FLURM_OK);
    flurm_raft_entry_t repl[1] = { { .index = 12, .term = 5, .len = 1, .data = "r" } };
    flurm_raft_update_t x = { .hard_state_changed = true, .term = 5, .voted_for = 3, .truncate_from = 12,
                              .entries = repl, .n_entries = 1 };
    assert_int_equal(flurm_raft_store_write(s, &x), FLURM_OK);
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_int_equal(p.n_entries, 2);
    assert_true(p.entries[1].index == 12 && p.entries[1].term == 5);
    assert_true(p.term == 5 && p.voted_for == 3);
    flurm_raft_store_loaded_free(held);
    flurm_store_close(s);
}

/* Bytes this version cannot read stop the start (nothing is guessed). */
static void test_raft_store_refuses_records_it_cannot_read(void **state)
{
    flurm_store_t *s = open_store(*state);
    flurm_iov_t e = { "abc", 3 };   /* shorter than an entry header */
    assert_int_equal(flurm_store_append(s, 1, &e, 1), FLURM_OK);
    flurm_raft_persisted_t p;
    const void *data;
    size_t len;
    flurm_raft_store_loaded_t *held = NULL;
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_EPROTO);
    assert_null(held);
    assert_int_equal(flurm_store_save_snapshot(s, 1, "not raft", 8), FLURM_OK);   /* drops entry 1 */
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_EPROTO);
    assert_int_equal(flurm_store_put_meta(s, "raft.hard", "short", 5), FLURM_OK);
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_EPROTO);
    flurm_store_close(s);
}

/* A membership change goes through the store: the CONFIG entry is read back (and decides the
 * configuration on restart), a snapshot keeps its learners (FRS2) and one without learners is the
 * FRS1 record earlier versions read; a CONFIG entry that is no configuration stops the start. */
static void test_raft_store_keeps_configurations(void **state)
{
    flurm_store_t *s = open_store(*state);
    flurm_raft_t *r = new_core(NULL);
    uint64_t now = elect(r, s);
    propose(r, s, now, "cmd");
    flurm_raft_event_t ev = { .kind = FLURM_RAFT_CHANGE, .now_ms = now, .change = FLURM_RAFT_ADD_LEARNER, .target = 7 };
    flurm_raft_update_t u;
    assert_int_equal(flurm_raft_step(r, &ev, &u), FLURM_OK);
    uint64_t at = u.first_index;
    host(r, s, now, &u, 0);
    assert_true(flurm_raft_commit_index(r) >= at);
    flurm_raft_snapshot_meta_t meta;
    assert_int_equal(flurm_raft_config_at(r, at, &meta), FLURM_OK);
    assert_true(meta.n_voters == 1 && meta.n_learners == 1 && meta.voters[1] == 7);
    flurm_raft_free(r);

    flurm_raft_persisted_t p;
    const void *data;
    size_t len;
    flurm_raft_store_loaded_t *held = NULL;
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_int_equal(p.entries[at - 1].type, FLURM_RAFT_ENTRY_CONFIG);
    r = new_core(&p);
    flurm_raft_store_loaded_free(held);
    flurm_raft_member_status_t ms[FLURM_RAFT_MAX_MEMBERS];
    assert_int_equal(flurm_raft_members(r, ms, FLURM_RAFT_MAX_MEMBERS), 2);
    assert_true(ms[1].id == 7 && !(ms[1].flags & FLURM_RAFT_MEMBER_VOTER));
    flurm_raft_free(r);

    /* snapshots: with learners FRS2, without FRS1 */
    assert_int_equal(flurm_raft_store_snapshot(s, &meta, "S", 1), FLURM_OK);
    uint64_t idx;
    void *raw = NULL;
    size_t raw_len;
    assert_int_equal(flurm_store_load_snapshot(s, &idx, &raw, &raw_len), FLURM_OK);
    assert_memory_equal(raw, "FRS2", 4);
    free(raw);
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_true(p.snapshot.index == at && p.snapshot.n_voters == 1 && p.snapshot.n_learners == 1);
    assert_true(p.snapshot.voters[0] == 1 && p.snapshot.voters[1] == 7);
    assert_int_equal(len, 1);
    assert_memory_equal(data, "S", 1);
    r = new_core(&p);
    flurm_raft_store_loaded_free(held);
    assert_int_equal(flurm_raft_members(r, ms, FLURM_RAFT_MAX_MEMBERS), 2);
    flurm_raft_free(r);
    flurm_raft_snapshot_meta_t plain = { .index = at, .term = meta.term, .n_voters = 1, .voters = { 1 } };
    assert_int_equal(flurm_raft_store_snapshot(s, &plain, "T", 1), FLURM_OK);
    assert_int_equal(flurm_store_load_snapshot(s, &idx, &raw, &raw_len), FLURM_OK);
    assert_memory_equal(raw, "FRS1", 4);
    free(raw);
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_OK);
    assert_true(p.snapshot.n_voters == 1 && p.snapshot.n_learners == 0);
    flurm_raft_store_loaded_free(held);
    meta.n_learners = FLURM_RAFT_MAX_MEMBERS;   /* 17 members */
    assert_int_equal(flurm_raft_store_snapshot(s, &meta, "S", 1), FLURM_EINVAL);

    /* a CONFIG entry whose bytes are no configuration */
    flurm_raft_entry_t bad[1] = { { .index = at + 1, .term = meta.term, .type = FLURM_RAFT_ENTRY_CONFIG, .len = 3,
                                    .data = "xyz" } };
    flurm_raft_update_t w = { .entries = bad, .n_entries = 1 };
    assert_int_equal(flurm_raft_store_write(s, &w), FLURM_OK);
    assert_int_equal(flurm_raft_store_load(s, &p, &data, &len, &held), FLURM_EPROTO);
    flurm_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raft_store_a_restarted_member_resumes_its_log_and_hard_state, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_raft_store_snapshot_keeps_its_metadata_and_what_follows, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_raft_store_write_installs_a_leaders_snapshot, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_raft_store_refuses_records_it_cannot_read, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_raft_store_keeps_configurations, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
