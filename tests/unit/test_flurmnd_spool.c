/* tests/unit/test_flurmnd_spool.c — flurmnd's per-job spool files: round trips, atomic
 * replacement, rejection of damaged files, /proc start times, hardware overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nd.h"

static int setup_dir(void **state)
{
    char *tmpl = strdup("/tmp/test_flurmnd_spool.XXXXXX");
    if (!tmpl || !mkdtemp(tmpl))
        return -1;
    *state = tmpl;
    return 0;
}

static int teardown_dir(void **state)
{
    nd_spool_remove_tree(*state);
    free(*state);
    return 0;
}

static void write_raw(const char *dir, const char *name, const char *text)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_flurmnd_spool_state_round_trips(void **state)
{
    const char *dir = *state;
    nd_state_t st = { .job_id = 7, .uid = 65534, .gid = 65534, .sup_pid = 12345, .sup_start = 987654321ULL,
                      .time_limit_min = FLURM_INFINITE, .kill_wait_s = 30, .ctld_start_time = 1700000000,
                      .cause = ND_CAUSE_TIMEOUT, .cause_time = 1700000100, .cause_kill_wait_s = 5,
                      .last_signal = 10, .suspended = true, .suspended_at = 1700000200,
                      .suspended_secs = 42 };
    assert_int_equal(nd_spool_write_state(dir, &st), FLURM_OK);
    nd_state_t got;
    memset(&got, 0xAB, sizeof got);
    assert_int_equal(nd_spool_read_state(dir, &got), FLURM_OK);
    assert_int_equal(got.job_id, 7);
    assert_int_equal(got.uid, 65534);
    assert_int_equal(got.gid, 65534);
    assert_int_equal(got.sup_pid, 12345);
    assert_true(got.sup_start == 987654321ULL);
    assert_int_equal(got.time_limit_min, FLURM_INFINITE);
    assert_int_equal(got.kill_wait_s, 30);
    assert_int_equal(got.ctld_start_time, 1700000000);
    assert_int_equal(got.cause, ND_CAUSE_TIMEOUT);
    assert_int_equal(got.cause_time, 1700000100);
    assert_int_equal(got.cause_kill_wait_s, 5);
    assert_int_equal(got.last_signal, 10);
    assert_true(got.suspended);
    assert_int_equal(got.suspended_at, 1700000200);
    assert_int_equal(got.suspended_secs, 42);
}

/* A state file from before suspensions were kept reads as never suspended; a half-written
 * suspension is refused like any damaged file. */
static void test_flurmnd_spool_state_without_suspension_keys(void **state)
{
    const char *dir = *state;
    static const char *base = "job_id=7\nuid=0\ngid=0\nsup_pid=1\nsup_start=2\ntime_limit_min=5\n"
                              "kill_wait_s=30\nctld_start_time=3\ncause=0\ncause_time=0\n"
                              "cause_kill_wait_s=0\nlast_signal=0\n";
    write_raw(dir, "state", base);
    nd_state_t got;
    memset(&got, 0xAB, sizeof got);
    assert_int_equal(nd_spool_read_state(dir, &got), FLURM_OK);
    assert_false(got.suspended);
    assert_int_equal(got.suspended_at, 0);
    assert_int_equal(got.suspended_secs, 0);
    char half[512];
    snprintf(half, sizeof half, "%ssuspended=1\n", base);
    write_raw(dir, "state", half);
    assert_int_equal(nd_spool_read_state(dir, &got), FLURM_EINVAL);
}

static void test_flurmnd_spool_started_and_exit_round_trip(void **state)
{
    const char *dir = *state;
    nd_started_t s = { .pid = 4242, .pid_start = 55, .start_time = 1700000001 }, gs;
    assert_int_equal(nd_spool_write_started(dir, &s), FLURM_OK);
    assert_int_equal(nd_spool_read_started(dir, &gs), FLURM_OK);
    assert_int_equal(gs.pid, 4242);
    assert_true(gs.pid_start == 55);
    assert_int_equal(gs.start_time, 1700000001);

    nd_exit_t e = { .wait_status = 768, .end_time = 1700000002, .max_rss_kb = 123456 }, ge;
    snprintf(e.reason, sizeof e.reason, "could not chdir to /x: No such\nfile");
    assert_int_equal(nd_spool_write_exit(dir, &e), FLURM_OK);
    assert_int_equal(nd_spool_read_exit(dir, &ge), FLURM_OK);
    assert_int_equal(ge.wait_status, 768);
    assert_int_equal(ge.end_time, 1700000002);
    assert_true(ge.max_rss_kb == 123456);
    assert_string_equal(ge.reason, "could not chdir to /x: No such file");   /* one line */
}

static void test_flurmnd_spool_missing_files_are_enoent(void **state)
{
    const char *dir = *state;
    nd_state_t st;
    nd_started_t s;
    nd_exit_t e;
    assert_int_equal(nd_spool_read_state(dir, &st), FLURM_ENOENT);
    assert_int_equal(nd_spool_read_started(dir, &s), FLURM_ENOENT);
    assert_int_equal(nd_spool_read_exit(dir, &e), FLURM_ENOENT);
}

static void test_flurmnd_spool_damaged_files_rejected_output_untouched(void **state)
{
    const char *dir = *state;
    write_raw(dir, "state", "job_id=7\nuid=0\n");   /* truncated */
    nd_state_t st = { .job_id = 99 };
    assert_int_equal(nd_spool_read_state(dir, &st), FLURM_EINVAL);
    assert_int_equal(st.job_id, 99);
    write_raw(dir, "exit", "wait_status=abc\nend_time=1\nmax_rss_kb=0\nreason=\n");
    nd_exit_t e = { .wait_status = 5 };
    assert_int_equal(nd_spool_read_exit(dir, &e), FLURM_EINVAL);
    assert_int_equal(e.wait_status, 5);
    write_raw(dir, "started", "pid=-3\npid_start=1\nstart_time=1\n");
    nd_started_t s = { .pid = 8 };
    assert_int_equal(nd_spool_read_started(dir, &s), FLURM_EINVAL);
    assert_int_equal(s.pid, 8);
}

/* A crash between writing the temp file and the rename leaves the temp file behind: readers
 * must still see the previous complete version, and the next write must succeed. */
static void test_flurmnd_spool_stale_temp_file_does_not_replace_old_version(void **state)
{
    const char *dir = *state;
    nd_exit_t e = { .wait_status = 256, .end_time = 10 }, got;
    assert_int_equal(nd_spool_write_exit(dir, &e), FLURM_OK);
    write_raw(dir, ".exit.tmp", "wait_status=9");   /* half-written newer version */
    assert_int_equal(nd_spool_read_exit(dir, &got), FLURM_OK);
    assert_int_equal(got.wait_status, 256);
    e.wait_status = 512;
    assert_int_equal(nd_spool_write_exit(dir, &e), FLURM_OK);
    assert_int_equal(nd_spool_read_exit(dir, &got), FLURM_OK);
    assert_int_equal(got.wait_status, 512);
    char path[512];
    snprintf(path, sizeof path, "%s/.exit.tmp", dir);
    assert_int_equal(access(path, F_OK), -1);   /* renamed away */
}

static void test_flurmnd_spool_failed_write_keeps_old_file(void **state)
{
    const char *dir = *state;
    assert_int_equal(nd_spool_write_file(dir, "f", "old", 3, 0600), FLURM_OK);
    /* the temp name is a directory: the write fails before the rename */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/.f.tmp", dir);
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(nd_spool_write_file(dir, "f", "new", 3, 0600), FLURM_EIO);
    rmdir(tmp);
    char path[512], buf[8] = "";
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "old");
}

static void test_flurmnd_spool_write_file_sets_mode(void **state)
{
    const char *dir = *state;
    assert_int_equal(nd_spool_write_file(dir, "script", "#!/bin/sh\n", 10, 0700), FLURM_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/script", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    assert_int_equal(sb.st_size, 10);
}

/* The records are flurmnd's alone (0600), and a planted link at the temp name is not followed. */
static void test_flurmnd_spool_records_private_and_no_symlink(void **state)
{
    const char *dir = *state;
    nd_state_t st = { .job_id = 3, .uid = 1000, .gid = 1000 };
    nd_exit_t ex = { .wait_status = 0, .end_time = 5 };
    nd_started_t sd = { .pid = 1, .pid_start = 1, .start_time = 5 };
    assert_int_equal(nd_spool_write_state(dir, &st), FLURM_OK);
    assert_int_equal(nd_spool_write_exit(dir, &ex), FLURM_OK);
    assert_int_equal(nd_spool_write_started(dir, &sd), FLURM_OK);
    static const char *const names[] = { "state", "exit", "started" };
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0600);
    }
    char victim[512], link[512];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/.exit.tmp", dir);
    write_raw(dir, "victim", "keep");
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(nd_spool_write_exit(dir, &ex), FLURM_EIO);
    FILE *f = fopen(victim, "r");
    char buf[16] = "";
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "keep");
}

static void test_flurmnd_spool_mkdirs_and_remove_tree(void **state)
{
    const char *dir = *state;
    char deep[512], file[600];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    assert_int_equal(nd_spool_mkdirs(deep), FLURM_OK);
    assert_int_equal(nd_spool_mkdirs(deep), FLURM_OK);   /* existing is fine */
    snprintf(file, sizeof file, "%s/x", deep);
    write_raw(deep, "x", "1");
    char top[512];
    snprintf(top, sizeof top, "%s/a", dir);
    assert_int_equal(nd_spool_remove_tree(top), FLURM_OK);
    assert_int_equal(access(top, F_OK), -1);
    assert_int_equal(nd_spool_remove_tree(top), FLURM_OK);   /* absent is fine */
}

static void test_flurmnd_proc_start_time_identifies_a_process(void **state)
{
    (void)state;
    unsigned long long me = nd_proc_start_time(getpid());
    assert_true(me > 0);
    assert_true(nd_proc_alive(getpid(), me));
    assert_false(nd_proc_alive(getpid(), me + 1));   /* a recycled pid has another start time */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    unsigned long long cs = nd_proc_start_time(child);
    assert_true(cs >= me);
    assert_true(nd_proc_alive(child, cs));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_false(nd_proc_alive(child, cs));
    assert_int_equal(nd_proc_start_time(child), 0);
    assert_false(nd_proc_alive(0, 0));
}

static void test_flurmnd_hw_conf_values_win(void **state)
{
    (void)state;
    nd_hw_t hw;
    nd_hw_detect(&hw, "/tmp");
    assert_true(hw.cpus >= 1);
    assert_true(hw.real_memory_mb > 0);
    assert_true(hw.boot_time > 0);
    assert_true(hw.hostname[0] != '\0');
    assert_true(hw.arch[0] != '\0');
    flurm_conf_node_t n = { .name = "n1", .cpus = 16, .boards = 1, .sockets = 2, .cores_per_socket = 4,
                            .threads_per_core = 2, .real_memory = 64000, .tmp_disk = 100, .gres = "gpu:2",
                            .features = "fast,big" };
    nd_hw_apply_conf(&hw, &n);
    assert_int_equal(hw.cpus, 16);
    assert_int_equal(hw.sockets, 2);
    assert_int_equal(hw.cores_per_socket, 4);
    assert_int_equal(hw.threads_per_core, 2);
    assert_true(hw.real_memory_mb == 64000);
    assert_int_equal(hw.tmp_disk_mb, 100);
    assert_string_equal(hw.gres, "gpu:2");
    assert_string_equal(hw.features, "fast,big");
    uint32_t load;
    uint64_t free_mb;
    nd_hw_load(&load, &free_mb);
    assert_true(free_mb > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_state_round_trips, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_state_without_suspension_keys, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_started_and_exit_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_missing_files_are_enoent, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_damaged_files_rejected_output_untouched, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_stale_temp_file_does_not_replace_old_version,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_failed_write_keeps_old_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_write_file_sets_mode, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_records_private_and_no_symlink, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_flurmnd_spool_mkdirs_and_remove_tree, setup_dir, teardown_dir),
        cmocka_unit_test(test_flurmnd_proc_start_time_identifies_a_process),
        cmocka_unit_test(test_flurmnd_hw_conf_values_win),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
