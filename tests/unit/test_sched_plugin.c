/* tests/unit/test_sched_plugin.c — scheduler plugins (libflurm/sched/plugin.c): built-in names,
 * a good plugin's slots, NULL-slot fallbacks and every way a plugin is refused. The plugins are
 * shared modules meson builds from tests/unit/plugins/sched_test_plugin.c into PLUGIN_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <flurm/log.h>
#include <flurm/sched_plugin.h>

/* Two 1-CPU nodes, one partition, pending jobs 1..3 of equal priority (plus job 4, held):
 * the built-in scheduler starts 1 and 2 (ties by job id); reversed priorities start 3 and 2. */
typedef struct world {
    flurm_sched_node_t nodes[2];
    uint32_t part_nodes[2];
    flurm_sched_part_t part;
    flurm_sched_job_t jobs[4];
    flurm_sched_input_t in;
} world_t;

static void world_init(world_t *w, uint32_t njobs)
{
    memset(w, 0, sizeof *w);
    for (uint32_t i = 0; i < 2; i++) {
        w->nodes[i] = (flurm_sched_node_t){ .name = i ? "n2" : "n1", .cpus = 1, .real_memory = 1000,
                                            .weight = 1, .usable = true };
        w->part_nodes[i] = i;
    }
    w->part = (flurm_sched_part_t){ .name = "p", .nodes = w->part_nodes, .nnodes = 2, .max_share = 1,
                                    .priority_tier = 1 };
    for (uint32_t i = 0; i < njobs; i++)
        w->jobs[i] = (flurm_sched_job_t){ .job_id = i + 1, .priority = i == 3 ? 0 : 100, .submit_time = 999990,
                                          .min_nodes = 1, .time_limit = 10, .dependency_ok = true };
    w->in = (flurm_sched_input_t){ .nodes = w->nodes, .nnodes = 2, .parts = &w->part, .nparts = 1,
                                   .jobs = w->jobs, .njobs = njobs,
                                   .params = { .now = 1000000, .backfill = true } };
}

static char *started(const flurm_sched_output_t *o)
{
    static char buf[128];
    buf[0] = 0;
    for (uint32_t i = 0; i < o->nstarts; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%u@%u", i ? " " : "", o->starts[i].job_id,
                 o->starts[i].nnodes ? o->starts[i].nodes[0] : 99u);
    return buf;
}

static void test_sched_plugin_builtin_names_need_no_file(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 3);
    const char *types[] = { "sched/backfill", "sched/builtin" };
    for (int k = 0; k < 2; k++) {
        flurm_sched_host_t *h = NULL;
        char *err = (char *)"untouched";
        assert_int_equal(flurm_sched_plugin_load("/nonexistent", types[k], &h, &err), FLURM_OK);
        assert_null(err);
        assert_non_null(h);
        assert_string_equal(flurm_sched_host_name(h), types[k] + 6);
        flurm_sched_output_t o;
        assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_OK);
        assert_string_equal(started(&o), "1@0 2@1");
        assert_int_equal(o.jobs[2].reason, FLURM_SCHED_WAIT_RESOURCES);
        flurm_sched_output_free(&o);
        flurm_sched_host_free(h);
    }
    flurm_sched_host_free(NULL);
}

static void expect_refused(const char *dir, const char *type, int rc, const char *const *needles)
{
    flurm_sched_host_t *h = (flurm_sched_host_t *)0x1;
    char *err = NULL;
    assert_int_equal(flurm_sched_plugin_load(dir, type, &h, &err), rc);
    assert_ptr_equal(h, (flurm_sched_host_t *)0x1);
    assert_non_null(err);
    for (; *needles; needles++)
        if (!strstr(err, *needles))
            fail_msg("error '%s' lacks '%s'", err, *needles);
    free(err);
}

static void test_sched_plugin_bad_type_and_missing_file_are_refused(void **state)
{
    (void)state;
    expect_refused(PLUGIN_DIR, "backfill", FLURM_EINVAL, (const char *[]){ "'backfill'", "sched/NAME", NULL });
    expect_refused(PLUGIN_DIR, "sched/../good", FLURM_EINVAL, (const char *[]){ "sched/NAME", NULL });
    expect_refused(PLUGIN_DIR, "sched/", FLURM_EINVAL, (const char *[]){ "sched/NAME", NULL });
    expect_refused(PLUGIN_DIR, "sched/nosuch", FLURM_ENOENT,
                   (const char *[]){ PLUGIN_DIR "/sched_nosuch.so", "no such scheduler plugin", NULL });
    assert_int_equal(flurm_sched_plugin_load(PLUGIN_DIR, NULL, &(flurm_sched_host_t *){ NULL }, NULL), FLURM_EINVAL);
}

static void test_sched_plugin_bad_plugins_are_refused_with_reason(void **state)
{
    (void)state;
    expect_refused(PLUGIN_DIR, "sched/badabi", FLURM_EINVAL,
                   (const char *[]){ PLUGIN_DIR "/sched_badabi.so", "ABI version 2", "supports version 1", NULL });
    expect_refused(PLUGIN_DIR, "sched/badsize", FLURM_EINVAL,
                   (const char *[]){ PLUGIN_DIR "/sched_badsize.so", "table of 8 bytes", NULL });
    expect_refused(PLUGIN_DIR, "sched/noentry", FLURM_EINVAL,
                   (const char *[]){ PLUGIN_DIR "/sched_noentry.so", "no symbol flurm_sched_plugin_entry", NULL });

    char fini_file[] = "/tmp/test_sched_plugin_XXXXXX";
    int fd = mkstemp(fini_file);
    assert_true(fd >= 0);
    close(fd);
    unlink(fini_file);
    setenv("SCHED_TEST_FINI_FILE", fini_file, 1);
    expect_refused(PLUGIN_DIR, "sched/badinit", FLURM_EINVAL,
                   (const char *[]){ PLUGIN_DIR "/sched_badinit.so", "init failed", "permission denied", NULL });
    assert_int_equal(access(fini_file, F_OK), -1);   /* fini is not called after a failed init */
    unsetenv("SCHED_TEST_FINI_FILE");

    /* a file that is no shared object */
    char dir[] = "/tmp/test_sched_plugin_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/sched_junk.so", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    expect_refused(dir, "sched/junk", FLURM_EINVAL, (const char *[]){ path, "cannot load", NULL });
    unlink(path);
    rmdir(dir);
}

static void test_sched_plugin_good_plugin_slots_are_called(void **state)
{
    (void)state;
    char fini_file[] = "/tmp/test_sched_plugin_XXXXXX";
    int fd = mkstemp(fini_file);
    assert_true(fd >= 0);
    close(fd);
    setenv("SCHED_TEST_FINI_FILE", fini_file, 1);

    world_t w;
    world_init(&w, 3);
    flurm_sched_host_t *h = NULL;
    char *err = NULL;
    /* PluginDir is a ':' list: the first directory holding the file wins */
    assert_int_equal(flurm_sched_plugin_load_params("/nonexistent:" PLUGIN_DIR, "sched/good", "abcd", &h, &err),
                     FLURM_OK);
    assert_null(err);
    assert_string_equal(flurm_sched_host_name(h), "test");
    flurm_sched_output_t o;
    assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_OK);
    /* prioritize reversed the order (job 3 highest), the plugin's schedule started only it */
    assert_string_equal(started(&o), "3@0");
    assert_int_equal(o.njobs, 3);
    assert_int_equal(o.jobs[0].priority, 1000);
    assert_int_equal(o.jobs[1].priority, 1001);
    assert_int_equal(o.jobs[2].priority, 1002);
    assert_int_equal(o.jobs[0].reason, FLURM_SCHED_WAIT_PRIORITY);
    assert_int_equal(o.jobs[2].reason, FLURM_SCHED_WAIT_NO_REASON);
    assert_int_equal(o.stats.queue_length, 4);   /* strlen of init's params */
    assert_int_equal(w.jobs[0].priority, 100);   /* the caller's input is untouched */
    flurm_sched_output_free(&o);
    flurm_sched_host_free(h);

    char buf[32] = { 0 };
    FILE *f = fopen(fini_file, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "abcd");   /* fini ran on init's context */
    unlink(fini_file);
    unsetenv("SCHED_TEST_FINI_FILE");
}

static void test_sched_plugin_null_schedule_falls_back_to_builtin(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 4);
    w.in.params.priority_type = FLURM_SCHED_PRIORITY_MULTIFACTOR;   /* replaced by prioritize */
    w.in.params.weight_age = 1000;
    flurm_sched_host_t *h = NULL;
    assert_int_equal(flurm_sched_plugin_load(PLUGIN_DIR, "sched/prio", &h, NULL), FLURM_OK);
    flurm_sched_output_t o;
    assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_OK);
    /* built-in placement with the plugin's priorities: highest job id first */
    assert_string_equal(started(&o), "3@0 2@1");
    assert_int_equal(o.jobs[0].reason, FLURM_SCHED_WAIT_RESOURCES);
    assert_int_equal(o.jobs[0].priority, 1000);
    assert_int_equal(o.jobs[2].priority, 1002);
    /* a held job stays held whatever prioritize wrote */
    assert_int_equal(o.jobs[3].priority, 0);
    assert_int_equal(o.jobs[3].reason, FLURM_SCHED_WAIT_HELD);
    assert_true(o.jobs[0].f_age == 0);
    flurm_sched_output_free(&o);
    flurm_sched_host_free(h);
}

static int nerrors;
static char last_error[512];
static void count_errors(flurm_log_level_t level, const char *line, void *arg)
{
    (void)arg;
    if (level == FLURM_LOG_ERROR) {
        nerrors++;
        snprintf(last_error, sizeof last_error, "%s", line);
    }
}

static void test_sched_plugin_schedule_error_is_returned_and_logged_once(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 3);
    flurm_sched_host_t *h = NULL;
    assert_int_equal(flurm_sched_plugin_load(PLUGIN_DIR, "sched/badsched", &h, NULL), FLURM_OK);
    nerrors = 0;
    flurm_log_set_sink(count_errors, NULL);
    flurm_sched_output_t o = { .nstarts = 77 };
    assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_EAGAIN);
    assert_int_equal(o.nstarts, 77);   /* untouched */
    assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_EAGAIN);
    assert_int_equal(nerrors, 1);
    assert_non_null(strstr(last_error, "sched_badsched.so"));
    assert_non_null(strstr(last_error, "schedule failed"));
    flurm_sched_host_free(h);

    nerrors = 0;
    assert_int_equal(flurm_sched_plugin_load(PLUGIN_DIR, "sched/badout", &h, NULL), FLURM_OK);
    assert_int_equal(flurm_sched_host_run(h, &w.in, &o), FLURM_EPROTO);
    assert_int_equal(o.nstarts, 77);
    assert_int_equal(nerrors, 1);
    assert_non_null(strstr(last_error, "out of range"));
    flurm_log_set_sink(NULL, NULL);
    flurm_sched_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_plugin_builtin_names_need_no_file),
        cmocka_unit_test(test_sched_plugin_bad_type_and_missing_file_are_refused),
        cmocka_unit_test(test_sched_plugin_bad_plugins_are_refused_with_reason),
        cmocka_unit_test(test_sched_plugin_good_plugin_slots_are_called),
        cmocka_unit_test(test_sched_plugin_null_schedule_falls_back_to_builtin),
        cmocka_unit_test(test_sched_plugin_schedule_error_is_returned_and_logged_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
