#!/usr/bin/env python3
"""Issue 3 end to end: flurmctld + several flurmnd + the real SLURM clients.

Jobs really run: their output files, environment, exit codes, signals, time limits, cancellation
of whole process groups, node failure, daemon restarts on both sides.

FLURMND_TIME_SCALE (a flurmnd test knob) makes one minute of time limit last 2 s, so the
TIMEOUT case takes seconds, not minutes.
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, HarnessError  # noqa: E402

TIME_SCALE = {"FLURMND_TIME_SCALE": "2"}


def parse_kv(text):
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out.setdefault(k, v)
    return out


class NodeTestCase(unittest.TestCase):
    NODES = ("n1", "n2", "n3", "n4")
    EXTRA = ("KillWait=2",)

    @classmethod
    def setUpClass(cls):
        if harness.CONTROLLER != "flurm":
            raise unittest.SkipTest("runs FLURM's own node daemon")
        cls.cluster = Cluster(nodes=4, extra_conf=cls.EXTRA)
        cls.cluster.start()
        try:
            for n in cls.NODES:
                cls.cluster.start_node(n, env=TIME_SCALE)
            cls.cluster.wait_for("%d idle nodes" % len(cls.NODES),
                                 lambda: cls.idle_count() >= len(cls.NODES), timeout=30)
        except Exception:
            cls.cluster.failed = True
            cls.cluster.stop()
            raise

    @classmethod
    def idle_count(cls):
        _, out, _ = cls.cluster.run("sinfo", "-h", "-N", "-p", "debug", "-o", "%N %t", check=False)
        return sum(1 for l in out.splitlines() if l.split()[1:] == ["idle"])

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        res = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            self.cluster.failed = True
        return res

    # helpers
    def cl(self, *argv, **kw):
        return self.cluster.run(*argv, **kw)

    def work(self, name):
        return os.path.join(self.cluster.dir, "work", name)

    def job(self, jid):
        rc, out, _ = self.cl("scontrol", "show", "job", str(jid), check=False)
        return parse_kv(out) if rc == 0 else {}

    def wait_state(self, jid, states, timeout=30):
        states = (states,) if isinstance(states, str) else states
        return self.cluster.wait_for("job %s in %s" % (jid, states),
                                     lambda: self.job(jid).get("JobState") in states and self.job(jid),
                                     timeout=timeout)

    def submit(self, *args, script=None):
        return self.cluster.sbatch(*args, script=script)

    def node_of(self, jid):
        return self.wait_state(jid, "RUNNING")["NodeList"]


class JobRunTest(NodeTestCase):

    def test_nodes_register_and_are_idle(self):
        _, out, _ = self.cl("sinfo", "-h", "-p", "debug", "-o", "%D %t")
        self.assertEqual(out.split(), ["4", "idle"])
        rec = parse_kv(self.cl("scontrol", "show", "node", "n1")[1])
        self.assertEqual(rec["State"], "IDLE")
        self.assertEqual(rec["CPUTot"], "2")

    def test_job_runs_writes_output_and_environment(self):
        script = self.cluster.write_file("envjob.sh", "#!/bin/sh\necho hello from $(hostname)\n"
                                         "env | grep '^SLURM' | sort\n")
        jid = self.submit("-J", "envjob", script=script)
        rec = self.wait_state(jid, "COMPLETED")
        self.assertEqual(rec["ExitCode"], "0:0")
        with open(self.work("slurm-%s.out" % jid)) as f:
            out = f.read()
        self.assertIn("hello from", out)
        node = rec["NodeList"]
        for want in ("SLURM_JOB_ID=%s" % jid, "SLURM_JOB_NAME=envjob", "SLURM_JOB_NODELIST=%s" % node,
                     "SLURM_JOB_NUM_NODES=1", "SLURM_NTASKS=1", "SLURM_CPUS_ON_NODE=1",
                     "SLURM_JOB_PARTITION=debug", "SLURM_CLUSTER_NAME=itest",
                     "SLURM_SUBMIT_DIR=%s" % self.work("").rstrip("/")):
            self.assertIn(want + "\n", out)

    def test_test_only_names_nodes_that_could_run_the_job_now(self):
        rc, out, err = self.cl("sbatch", "--test-only", "-N", "2", "--wrap", "true")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"sbatch: Job \d+ to start at \S+ using 2 processors on nodes "
                              r"(n\[\d+-\d+\]|n\d+,n\d+) in partition debug")
        rc, out, err = self.cl("sbatch", "--test-only", "-N", "5", "--wrap", "true", check=False)
        self.assertEqual(rc, 1)
        self.assertIn("Requested node configuration is not available", err)

    def test_exit_code_3_fails(self):
        jid = self.submit("--wrap", "exit 3")
        rec = self.wait_state(jid, "FAILED")
        self.assertEqual(rec["ExitCode"], "3:0")
        self.assertEqual(rec["Reason"], "NonZeroExitCode")

    def test_signal_death_fails_with_the_signal(self):
        jid = self.submit("--wrap", "kill -SEGV $$")
        rec = self.wait_state(jid, "FAILED")
        self.assertEqual(rec["ExitCode"], "0:11")

    def test_time_limit_ends_in_timeout(self):
        jid = self.submit("-t", "1", "--wrap", "sleep 100")
        rec = self.wait_state(jid, "TIMEOUT", timeout=40)
        self.assertEqual(rec["Reason"], "TimeLimit")

    def test_output_patterns_and_array_tasks(self):
        jid = self.submit("-J", "pat", "-o", "out.%x.%j", "--wrap", "echo patterned")
        self.wait_state(jid, "COMPLETED")
        with open(self.work("out.pat.%s" % jid)) as f:
            self.assertEqual(f.read(), "patterned\n")
        aid = self.submit("--array=1-3", "--wrap", "echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID")
        for t in (1, 2, 3):
            path = self.work("slurm-%s_%d.out" % (aid, t))
            self.cluster.wait_for("array task %d output" % t,
                                  lambda: os.path.exists(path) and open(path).read(), timeout=30)
            with open(path) as f:
                self.assertEqual(f.read(), "task %d of %s\n" % (t, aid))

    def test_scancel_running_job_kills_its_children(self):
        pidfile = self.work("child.pid")
        jid = self.submit("--wrap", "sleep 1000 & echo $! > %s; wait" % pidfile)
        self.wait_state(jid, "RUNNING")
        pid = int(self.cluster.wait_for("child pid", lambda: os.path.exists(pidfile) and
                                        open(pidfile).read().strip()))
        self.assertTrue(os.path.exists("/proc/%d" % pid))
        self.cl("scancel", jid)
        rec = self.wait_state(jid, "CANCELLED")
        self.cluster.wait_for("the job's background child to die",
                              lambda: not os.path.exists("/proc/%d" % pid), timeout=15)
        self.assertNotIn("COMPLETING", rec.get("JobState", ""))

    def test_scancel_signal_reaches_the_job(self):
        marker = self.work("got-usr1")
        jid = self.submit("--wrap", "trap 'touch %s; exit 0' USR1; while :; do sleep 0.2; done" % marker)
        self.wait_state(jid, "RUNNING")
        time.sleep(0.5)   # let the trap be installed
        self.cl("scancel", "-s", "USR1", jid)
        self.wait_state(jid, "COMPLETED")
        self.assertTrue(os.path.exists(marker))

    def test_drain_busy_node_drains_after_its_job(self):
        jid = self.submit("--wrap", "sleep 3")
        node = self.node_of(jid)
        self.cl("scontrol", "update", "NodeName=" + node, "State=DRAIN", "Reason=maint")
        _, out, _ = self.cl("sinfo", "-h", "-n", node, "-o", "%t")
        self.assertEqual(out.split()[0], "drng")
        self.wait_state(jid, "COMPLETED")
        self.cluster.wait_for("node %s drained" % node, lambda: self.cl(
            "sinfo", "-h", "-n", node, "-o", "%t")[1].split()[0] == "drain")
        self.cl("scontrol", "update", "NodeName=" + node, "State=RESUME")
        self.cluster.wait_for("node %s idle again" % node, lambda: self.cl(
            "sinfo", "-h", "-n", node, "-o", "%t")[1].split()[0] == "idle")

    def test_admin_down_kills_its_jobs_requeued_or_node_fail(self):
        # slurmctld kill_running_job_by_node_name: the jobs on a node an operator sets DOWN are
        # killed, a requeueable one pends again (Restarts=1), a --no-requeue one is NODE_FAIL
        pidfile = self.work("down-child.pid")
        requeued = self.submit("-w", "n4", "--wrap", "sleep 1000 & echo $! > %s; wait" % pidfile)
        self.wait_state(requeued, "RUNNING")
        pid = int(self.cluster.wait_for("child pid", lambda: os.path.exists(pidfile) and
                                        open(pidfile).read().strip()))
        doomed = self.submit("-w", "n4", "--no-requeue", "--wrap", "sleep 1000")
        self.wait_state(doomed, "RUNNING")
        self.cl("scontrol", "update", "NodeName=n4", "State=DOWN", "Reason=maint")
        rec = self.wait_state(doomed, "NODE_FAIL")
        self.assertEqual(rec["Reason"], "NodeDown")
        r = self.cluster.wait_for("job %s requeued" % requeued, lambda: (
            self.job(requeued).get("JobState") == "PENDING" and self.job(requeued)), timeout=30)
        self.assertEqual(r["Restarts"], "1")
        self.cluster.wait_for("the requeued job's child to die",
                              lambda: not os.path.exists("/proc/%d" % pid), timeout=15)
        _, out, _ = self.cl("sinfo", "-h", "-n", "n4", "-o", "%t")
        self.assertEqual(out.split()[0], "down")
        self.cl("scancel", requeued)
        self.cl("scontrol", "update", "NodeName=n4", "State=RESUME")
        self.cluster.wait_for("node n4 idle again", lambda: self.cl(
            "sinfo", "-h", "-n", "n4", "-o", "%t")[1].split()[0] == "idle")


class FailureTest(NodeTestCase):
    EXTRA = ("KillWait=2", "SlurmdTimeout=4")

    def test_flurmnd_restart_reattaches_to_a_running_job(self):
        jid = self.submit("--wrap", "echo started; sleep 4; echo survived")
        node = self.node_of(jid)
        out = self.work("slurm-%s.out" % jid)
        self.cluster.wait_for("job %s running on its node" % jid,
                              lambda: os.path.exists(out) and open(out).read().startswith("started"))
        self.cluster.kill9_node(node)
        time.sleep(1)
        self.cluster.start_node(node, env=TIME_SCALE)
        rec = self.wait_state(jid, "COMPLETED", timeout=30)
        self.assertEqual(rec["NodeList"], node)
        with open(self.work("slurm-%s.out" % jid)) as f:
            self.assertEqual(f.read(), "started\nsurvived\n")

    def test_job_ending_while_flurmnd_is_down_is_reported(self):
        jid = self.submit("--wrap", "echo started; sleep 1; exit 7")
        node = self.node_of(jid)
        # RUNNING is the controller's decision; kill flurmnd only once the script really runs
        # (a kill inside the launch handshake fails the launch instead)
        out = self.work("slurm-%s.out" % jid)
        self.cluster.wait_for("job %s running on its node" % jid,
                              lambda: os.path.exists(out) and open(out).read().startswith("started"))
        self.cluster.kill9_node(node)
        time.sleep(2.5)   # the job ends meanwhile; less than SlurmdTimeout
        self.cluster.start_node(node, env=TIME_SCALE)
        rec = self.wait_state(jid, "FAILED", timeout=30)
        self.assertEqual(rec["ExitCode"], "7:0")

    def test_flurmctld_kill9_while_jobs_run(self):
        jid = self.submit("--wrap", "sleep 5; echo finished")
        self.node_of(jid)
        self.cluster.kill9()
        self.cluster.restart()
        self.assertEqual(self.job(jid)["JobState"], "RUNNING")
        rec = self.wait_state(jid, "COMPLETED", timeout=30)
        self.assertEqual(rec["ExitCode"], "0:0")
        with open(self.work("slurm-%s.out" % jid)) as f:
            self.assertEqual(f.read(), "finished\n")

    def test_z_dead_node_goes_down_and_its_jobs_are_requeued_or_failed(self):
        requeued = self.submit("--wrap", "sleep 300")
        node = self.node_of(requeued)
        # a second job on the same node that must not come back
        doomed = self.submit("--no-requeue", "--wrap", "sleep 300")
        self.cluster.kill9_node(node)
        self.cluster.wait_for("node %s down" % node, lambda: self.cl(
            "sinfo", "-h", "-n", node, "-o", "%t")[1].split()[0] == "down*", timeout=30)
        rec = parse_kv(self.cl("scontrol", "show", "node", node)[1])
        self.assertEqual(rec.get("Reason"), "Not")   # "Not responding" cut at the space
        r = self.cluster.wait_for("job %s requeued" % requeued,
                                  lambda: self.job(requeued).get("Restarts") == "1" and self.job(requeued))
        self.assertIn(r["JobState"], ("PENDING", "RUNNING"))
        self.assertNotEqual(r.get("NodeList"), node)
        if self.job(doomed)["NodeList"] == node:
            self.assertEqual(self.wait_state(doomed, "NODE_FAIL")["JobState"], "NODE_FAIL")
        # the node comes back: its orphaned job processes are killed, the node returns
        self.cluster.start_node(node, env=TIME_SCALE)
        self.cluster.wait_for("node %s back" % node, lambda: self.cl(
            "sinfo", "-h", "-n", node, "-o", "%t")[1].split()[0] in ("idle", "mix", "alloc"))
        for j in (requeued, doomed):
            self.cl("scancel", j, check=False)


class BackfillTest(NodeTestCase):
    """sched/backfill through the real clients: a big job waiting for the whole cluster gets a
    reservation (squeue --start) and a short job that ends before it starts at once."""

    def planned(self, jid):
        """The planned start (epoch) and pending reason squeue shows for JID once a
        backfill pass has given it a start (the job must still be pending then)."""
        rec = self.cluster.wait_for("job %s has a planned start" % jid, lambda: (
            lambda o: o if o and (o[0] != "N/A" or o[1] != "PENDING") else None)(
            self.cl("squeue", "-h", "-j", jid, "-o", "%S %T %r")[1].split()))
        self.assertEqual(rec[1], "PENDING", "job %s" % jid)
        return time.mktime(time.strptime(rec[0], "%Y-%m-%dT%H:%M:%S")), rec[2]

    def test_short_job_is_backfilled_before_the_reserved_big_job(self):
        # one CPU of each 2-CPU node busy for 100 minutes (limits are what the scheduler plans by)
        fill = [self.submit("-w", n, "-n1", "-t", "100", "--wrap", "sleep 600") for n in self.NODES]
        for jid in fill:
            self.wait_state(jid, "RUNNING")
        big = self.submit("-N4", "--exclusive", "-t", "10", "--wrap", "sleep 600")
        small = self.submit("-n1", "-t", "5", "--wrap", "sleep 600")
        try:
            self.wait_state(small, "RUNNING")
            planned, reason = self.planned(big)
            self.assertEqual(reason, "Resources")
            started = time.mktime(time.strptime(self.job(small)["StartTime"], "%Y-%m-%dT%H:%M:%S"))
            self.assertLess(started, planned)
            # the reservation is when the fill jobs' limits run out (100 minutes from now)
            self.assertGreater(planned, time.time() + 90 * 60)
            _, out, _ = self.cl("sdiag")
            bf = out[out.index("Backfilling stats"):]
            stats = {}
            for line in bf.splitlines():
                if ":" in line:
                    k, v = line.split(":", 1)
                    stats.setdefault(k.strip(), v.strip())
            self.assertGreater(int(stats["Total cycles"]), 0)
            self.assertGreaterEqual(int(stats["Total backfilled jobs (since last slurm start)"]), 1)
        finally:
            for jid in fill + [big, small]:
                self.cl("scancel", jid, check=False)


    def test_a_reservation_holds_its_nodes_whole(self):
        # n1 full for 100 minutes; the big job (one CPU on each node) is planned for then
        fill = self.submit("-w", "n1", "-n2", "-t", "100", "--wrap", "sleep 600")
        self.wait_state(fill, "RUNNING")
        big = self.submit("-N4", "--ntasks-per-node=1", "-t", "10", "--wrap", "sleep 600")
        # a long one-CPU job would fit beside the big job's one CPU on n2-n4, but slurmctld's
        # backfill holds a planned job's nodes whole: it waits until the big job ends
        long_ = self.submit("-n1", "-t", "200", "--wrap", "sleep 600")
        short = self.submit("-n1", "-t", "5", "--wrap", "sleep 600")
        try:
            self.wait_state(short, "RUNNING")
            big_at, long_at = self.planned(big)[0], self.planned(long_)[0]
            self.assertGreater(big_at, time.time() + 90 * 60)
            self.assertGreaterEqual(long_at, big_at + 10 * 60)
            self.assertEqual(self.job(long_)["JobState"], "PENDING")
            # an idle node a reservation holds is PLANNED (slurmctld's backfill marks it); a
            # busy one keeps its state
            idle = [n for n in self.NODES if n not in (self.job(fill)["NodeList"], self.job(short)["NodeList"])]
            self.assertEqual(len(idle), 2)
            states = self.cluster.wait_for("the idle nodes planned", lambda: (
                lambda o: o if all(o.get(n) == "plnd" for n in idle) else None)(
                dict(l.split() for l in self.cl("sinfo", "-h", "-N", "-o", "%N %t")[1].splitlines())))
            self.assertEqual(states["n1"], "alloc")
            self.assertEqual(parse_kv(self.cl("scontrol", "show", "node", idle[0])[1])["State"], "IDLE+PLANNED")
        finally:
            for jid in (fill, big, long_, short):
                self.cl("scancel", jid, check=False)


def slurm_plugin_dir():
    """Where the Debian SLURM clients find their own plugins (PluginDir must keep it)."""
    import glob
    hits = glob.glob("/usr/lib/*/slurm-wlm/auth_munge.so")
    return os.path.dirname(hits[0]) if hits else "/usr/lib/slurm-wlm"


class SchedulerTypeTest(NodeTestCase):
    """SchedulerType=sched/<name> loads PluginDir/sched_<name>.so; a test plugin (built with the
    unit tests) ranks higher job ids first, so the start order shows whose priorities won."""
    NODES = ("n1",)

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = ("KillWait=2", "SchedulerType=sched/prio",
                     "PluginDir=%s:%s" % (slurm_plugin_dir(), os.environ.get("FLURM_TEST_PLUGIN_DIR", "")))
        super().setUpClass()

    @classmethod
    def idle_count(cls):
        _, out, _ = cls.cluster.run("sinfo", "-h", "-N", "-n", "n1", "-o", "%N %t", check=False)
        return sum(1 for l in out.splitlines() if l.split()[1:] == ["idle"])

    def test_plugin_priorities_decide_the_start_order(self):
        blocker = self.submit("-n", "2", "--wrap", "sleep 2")
        self.wait_state(blocker, "RUNNING")
        a, b, c = (self.submit("-n", "2", "--wrap", "sleep 1") for _ in range(3))
        starts = {}
        for j in (a, b, c):
            starts[j] = self.wait_state(j, "COMPLETED", timeout=60)["StartTime"]
        self.assertLess(starts[c], starts[b])
        self.assertLess(starts[b], starts[a])

    def test_unloadable_scheduler_type_stops_the_controller_at_start(self):
        import re
        import tempfile
        with open(self.cluster.conf) as f:
            conf = f.read()
        state = tempfile.mkdtemp(prefix="flurm-itest-sched-")
        try:
            conf = re.sub(r"(?m)^SchedulerType=.*$", "SchedulerType=sched/nosuch", conf)
            conf = re.sub(r"(?m)^StateSaveLocation=.*$", "StateSaveLocation=" + state, conf)
            path = os.path.join(state, "slurm.conf")
            with open(path, "w") as f:
                f.write(conf)
            p = subprocess.run([os.environ["FLURMCTLD"], "-D", "-f", path], capture_output=True,
                               text=True, timeout=20)
            self.assertEqual(p.returncode, 1)
            self.assertIn("SchedulerType=sched/nosuch", p.stderr)
            self.assertIn("sched_nosuch.so", p.stderr)
        finally:
            import shutil
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
