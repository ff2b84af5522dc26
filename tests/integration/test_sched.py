#!/usr/bin/env python3
"""Issue 4 end to end: what the scheduler decides, seen through the real clients while jobs
really run on flurmnd nodes (4 nodes x 2 CPUs): array throttles, holds and priorities.
Dependencies, preemption and backfill (squeue --start) have their own classes."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_nodes import NodeTestCase  # noqa: E402


class ArrayTest(NodeTestCase):
    def test_throttle_bounds_running_tasks_and_every_task_runs(self):
        out = self.work("arr-%A_%a.out")
        jid = self.submit("--array=1-6%2", "-n1", "-t", "5", "-o", out,
                          "--wrap", "echo $SLURM_ARRAY_TASK_ID; sleep 1")
        seen_pending_row = None
        most = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            _, q, _ = self.cl("squeue", "-h", "-r", "-j", jid, "-o", "%i %T")
            rows = [l.split() for l in q.splitlines()]
            running = [r for r in rows if r[1] == "RUNNING"]
            most = max(most, len(running))
            if not seen_pending_row:
                _, agg, _ = self.cl("squeue", "-h", "-j", jid, "-t", "PD", "-o", "%i %r")
                for line in agg.splitlines():
                    if "_[" in line and running:
                        seen_pending_row = line
            if not rows:
                break
            time.sleep(0.2)
        self.assertEqual(rows, [], "array did not finish")
        self.assertLessEqual(most, 2, "more tasks ran at once than the %2 throttle allows")
        self.assertEqual(most, 2, "the throttle should still let two tasks run together")
        # the pending remainder is one row, "<id>_[a-6%2]", waiting for the throttle
        self.assertIsNotNone(seen_pending_row)
        ids, reason = seen_pending_row.split()
        self.assertRegex(ids, r"^%s_\[\d-6%%2\]$" % jid)
        self.assertEqual(reason, "JobArrayTaskLimit")
        for t in range(1, 7):
            with open(self.work("arr-%s_%d.out" % (jid, t))) as f:
                self.assertEqual(f.read().strip(), str(t))
            rec = self.job("%s_%d" % (jid, t))
            self.assertEqual((rec.get("JobState"), rec.get("ExitCode")), ("COMPLETED", "0:0"))


class HoldTest(NodeTestCase):
    def test_held_job_waits_on_idle_nodes_until_released(self):
        held = self.submit("--hold", "-n1", "-t", "5", "--wrap", "true")
        free = self.submit("-n1", "-t", "5", "--wrap", "true")
        self.wait_state(free, "COMPLETED")
        # the cluster is idle and the free job has run: only the hold keeps this one waiting
        rec = self.job(held)
        self.assertEqual((rec["JobState"], rec["Reason"], rec["Priority"]),
                         ("PENDING", "JobHeldUser", "0"))
        self.cl("scontrol", "release", held)
        self.wait_state(held, "COMPLETED")

    def test_admin_hold_of_a_pending_job_and_priority_order(self):
        # fill every CPU so new jobs queue, then order them by priority
        fill = [self.submit("-w", n, "-n2", "-t", "5", "--wrap", "sleep 30") for n in self.NODES]
        for jid in fill:
            self.wait_state(jid, "RUNNING")
        # each needs a whole node (2 CPUs), so a freed node fits exactly one of them
        low = self.submit("-n2", "-t", "5", "-o", self.work("order-low.out"),
                          "--wrap", "date +%s.%N; sleep 1")
        high = self.submit("-n2", "-t", "5", "-o", self.work("order-high.out"),
                           "--wrap", "date +%s.%N; sleep 1")
        held = self.submit("-n2", "-t", "5", "--wrap", "true")
        try:
            self.cl("scontrol", "hold", held)
            self.cl("scontrol", "update", "JobId=%s" % low, "Priority=10")
            self.cl("scontrol", "update", "JobId=%s" % high, "Priority=1000")
            self.assertEqual(self.job(held)["Reason"],
                             "JobHeldAdmin" if os.geteuid() == 0 else "JobHeldUser")
            _, q, _ = self.cl("squeue", "-h", "-t", "PD", "-o", "%i %Q")
            prio = dict(l.split() for l in q.splitlines())
            self.assertEqual((prio[low], prio[high], prio[held]), ("10", "1000", "0"))
            # one node frees: the higher priority job (submitted later) takes it
            self.cl("scancel", fill[0])
            self.wait_state(high, ("RUNNING", "COMPLETED"))
            self.assertEqual(self.job(low)["JobState"], "PENDING")
            self.cl("scancel", fill[1])
            self.wait_state(low, ("RUNNING", "COMPLETED"))
            self.wait_state(high, "COMPLETED")
            self.wait_state(low, "COMPLETED")
            with open(self.work("order-high.out")) as f:
                t_high = float(f.read())
            with open(self.work("order-low.out")) as f:
                t_low = float(f.read())
            self.assertLess(t_high, t_low)
            self.assertEqual(self.job(held)["JobState"], "PENDING")
        finally:
            for jid in fill + [low, high, held]:
                self.cl("scancel", jid, check=False)


class AllowGroupsTest(NodeTestCase):
    """AllowGroups is checked again when jobs are scheduled: after a reconfigure that no longer
    admits a pending job's user, the job waits with PartitionConfig (job_mgr.c
    job_limits_check), and runs once the partition admits the user again."""
    NODES = ("n1",)

    def set_allow_groups(self, groups):
        with open(self.cluster.conf) as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            if line.startswith("PartitionName=debug "):
                line = " ".join(w for w in line.split() if not w.startswith("AllowGroups="))
                if groups:
                    line += " AllowGroups=" + groups
            out.append(line)
        with open(self.cluster.conf, "w") as f:
            f.write("\n".join(out) + "\n")
        self.cl("scontrol", "reconfigure")

    def test_pending_job_of_a_user_no_longer_admitted_waits_with_partition_config(self):
        # root may use every partition: as root the job is someone else's (nobody)
        if os.geteuid() == 0:
            import pwd
            submit = ["runuser", "-u", "nobody", "--", "sbatch", "--parsable"]
            user_group = grp_name(pwd.getpwnam("nobody").pw_gid)
        else:
            submit = ["sbatch", "--parsable"]
            user_group = grp_name(os.getgid())
        rc, out, err = self.cl(*submit, "--hold", "-n1", "-t", "5", "-o", "/dev/null",
                               "--wrap", "true", check=False, cwd="/tmp")
        self.assertEqual(rc, 0, err)
        jid = out.strip()
        try:
            self.set_allow_groups("root" if user_group != "root" else "daemon")
            # a new submission is refused outright ...
            rc, _, err = self.cl(*submit, "-n1", "--wrap", "true", check=False, cwd="/tmp")
            self.assertEqual(rc, 1)
            self.assertIn("Batch job submission failed: User's group not permitted to use this partition", err)
            # ... the accepted one waits
            self.cl("scontrol", "release", jid)
            self.cluster.wait_for("reason PartitionConfig", lambda: self.job(jid).get("Reason") == "PartitionConfig")
            time.sleep(2)   # a few scheduler cycles with the node idle
            self.assertEqual(self.job(jid)["JobState"], "PENDING")
            self.set_allow_groups(user_group)
            self.wait_state(jid, "COMPLETED")
        finally:
            self.set_allow_groups(None)
            self.cl("scancel", jid, check=False)


def grp_name(gid):
    import grp
    return grp.getgrgid(gid).gr_name

if __name__ == "__main__":
    unittest.main(verbosity=2)
