/* tests/unit/test_flurmnd_pattern.c — flurmnd's output-path patterns and batch environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nd.h"

static Flurm__Node__LaunchJob job(void)
{
    Flurm__Node__LaunchJob l = FLURM__NODE__LAUNCH_JOB__INIT;
    l.job_id = 42;
    l.job_name = "build";
    l.user_name = "alice";
    l.uid = 1000;
    l.gid = 100;
    l.array_task_id = FLURM_NO_VAL;
    l.work_dir = "/home/alice";
    l.partition = "debug";
    l.nodelist = "n[1-2]";
    l.num_nodes = 2;
    l.ntasks = 4;
    l.cpus_on_node = 2;
    l.cluster_name = "c1";
    l.submit_dir = "/home/alice/src";
    l.submit_host = "login1";
    return l;
}

static const nd_job_ctx_t ctx = { .node_name = "n1", .task_pid = 0 };

static void expect_expand(const Flurm__Node__LaunchJob *l, const char *pattern, const char *want)
{
    char *s = nd_pattern_expand(pattern, l, &ctx);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_flurmnd_pattern_expands_every_specifier(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    expect_expand(&l, "%x-%j.%u@%N", "build-42.alice@n1");
    expect_expand(&l, "100%%", "100%");
    expect_expand(&l, "plain.out", "plain.out");
    expect_expand(&l, "", "");
}

static void test_flurmnd_pattern_non_array_job_has_jobid_for_A_and_no_val_for_a(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    expect_expand(&l, "%A_%a", "42_4294967294");
}

static void test_flurmnd_pattern_array_task_uses_array_ids(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    l.array_job_id = 40;
    l.array_task_id = 7;
    expect_expand(&l, "%A_%a-%j", "40_7-42");
    assert_string_equal(nd_stdout_pattern(&l), "slurm-%A_%a.out");
    expect_expand(&l, nd_stdout_pattern(&l), "slurm-40_7.out");
}

static void test_flurmnd_pattern_width_zero_pads_numbers(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    expect_expand(&l, "%5j", "00042");
    expect_expand(&l, "%1j", "42");
}

static void test_flurmnd_pattern_keeps_unknown_and_trailing_percent(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    expect_expand(&l, "a%qb", "a%qb");
    expect_expand(&l, "end%", "end%");
    expect_expand(&l, "end%12", "end%12");
}

static void test_flurmnd_pattern_backslash_disables_expansion(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    expect_expand(&l, "\\%j.out", "%j.out");
}

static void test_flurmnd_stdout_default_is_slurm_jobid_out(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    assert_string_equal(nd_stdout_pattern(&l), "slurm-%j.out");
    l.std_out = "/tmp/o-%j";
    assert_string_equal(nd_stdout_pattern(&l), "/tmp/o-%j");
}

static void test_flurmnd_env_has_slurm_variables(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    nd_job_ctx_t c = { .node_name = "n1", .task_pid = 777 };
    char **env = nd_env_build(&l, &c);
    assert_non_null(env);
    static const char *const want[][2] = {
        { "SLURM_JOB_ID", "42" }, { "SLURM_JOBID", "42" }, { "SLURM_JOB_NAME", "build" },
        { "SLURM_JOB_NODELIST", "n[1-2]" }, { "SLURM_NODELIST", "n[1-2]" }, { "SLURM_JOB_NUM_NODES", "2" },
        { "SLURM_NNODES", "2" }, { "SLURM_NTASKS", "4" }, { "SLURM_NPROCS", "4" },
        { "SLURM_CPUS_ON_NODE", "2" }, { "SLURM_JOB_CPUS_PER_NODE", "2" }, { "SLURM_JOB_PARTITION", "debug" },
        { "SLURM_SUBMIT_DIR", "/home/alice/src" }, { "SLURM_SUBMIT_HOST", "login1" },
        { "SLURM_CLUSTER_NAME", "c1" }, { "SLURM_JOB_UID", "1000" }, { "SLURM_JOB_USER", "alice" },
        { "SLURMD_NODENAME", "n1" }, { "SLURM_NODEID", "0" }, { "SLURM_PROCID", "0" },
        { "SLURM_TASK_PID", "777" }, { "ENVIRONMENT", "BATCH" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = nd_env_get(env, want[i][0]);
        if (!v)
            fail_msg("%s missing", want[i][0]);
        assert_string_equal(v, want[i][1]);
    }
    assert_null(nd_env_get(env, "SLURM_ARRAY_JOB_ID"));
    assert_null(nd_env_get(env, "SLURM_ARRAY_TASK_ID"));
    nd_env_free(env);
}

static void test_flurmnd_env_array_task_variables(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    l.array_job_id = 40;
    l.array_task_id = 3;
    char **env = nd_env_build(&l, &ctx);
    assert_non_null(env);
    assert_string_equal(nd_env_get(env, "SLURM_ARRAY_JOB_ID"), "40");
    assert_string_equal(nd_env_get(env, "SLURM_ARRAY_TASK_ID"), "3");
    assert_null(nd_env_get(env, "SLURM_TASK_PID"));   /* task_pid 0: not set */
    nd_env_free(env);
}

static void test_flurmnd_env_keeps_job_env_and_slurm_values_win(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    char *e[] = { "PATH=/usr/bin", "HOME=/home/alice", "SLURM_JOB_ID=999", "NOEQUALS" };
    l.env = e;
    l.n_env = 4;
    char **env = nd_env_build(&l, &ctx);
    assert_non_null(env);
    assert_string_equal(nd_env_get(env, "PATH"), "/usr/bin");
    assert_string_equal(nd_env_get(env, "HOME"), "/home/alice");
    assert_string_equal(nd_env_get(env, "SLURM_JOB_ID"), "42");
    size_t n = 0, ids = 0;
    for (char **p = env; *p; p++) {
        n++;
        assert_non_null(strchr(*p, '='));
        ids += strncmp(*p, "SLURM_JOB_ID=", 13) == 0;
    }
    assert_int_equal(ids, 1);
    assert_true(n > 20);
    /* PATH first, as the job gave it: the job's order is kept */
    assert_string_equal(env[0], "PATH=/usr/bin");
    nd_env_free(env);
}

static void test_flurmnd_env_defaults_for_zero_counts(void **state)
{
    (void)state;
    Flurm__Node__LaunchJob l = job();
    l.num_nodes = l.ntasks = l.cpus_on_node = 0;
    l.nodelist = "";
    l.submit_dir = "";
    char **env = nd_env_build(&l, &ctx);
    assert_non_null(env);
    assert_string_equal(nd_env_get(env, "SLURM_NNODES"), "1");
    assert_string_equal(nd_env_get(env, "SLURM_NTASKS"), "1");
    assert_string_equal(nd_env_get(env, "SLURM_CPUS_ON_NODE"), "1");
    assert_string_equal(nd_env_get(env, "SLURM_JOB_NODELIST"), "n1");
    assert_string_equal(nd_env_get(env, "SLURM_SUBMIT_DIR"), "/home/alice");
    nd_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flurmnd_pattern_expands_every_specifier),
        cmocka_unit_test(test_flurmnd_pattern_non_array_job_has_jobid_for_A_and_no_val_for_a),
        cmocka_unit_test(test_flurmnd_pattern_array_task_uses_array_ids),
        cmocka_unit_test(test_flurmnd_pattern_width_zero_pads_numbers),
        cmocka_unit_test(test_flurmnd_pattern_keeps_unknown_and_trailing_percent),
        cmocka_unit_test(test_flurmnd_pattern_backslash_disables_expansion),
        cmocka_unit_test(test_flurmnd_stdout_default_is_slurm_jobid_out),
        cmocka_unit_test(test_flurmnd_env_has_slurm_variables),
        cmocka_unit_test(test_flurmnd_env_array_task_variables),
        cmocka_unit_test(test_flurmnd_env_keeps_job_env_and_slurm_values_win),
        cmocka_unit_test(test_flurmnd_env_defaults_for_zero_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
