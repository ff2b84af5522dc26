#!/usr/bin/env python3
"""Job dependencies end to end: flurmctld + flurmnd + the real SLURM 22.05 clients.

Jobs really run and really exit 0 or 1. The expected Dependency texts and reasons are what the
real slurmctld 22.05.8 + slurmd show for the same submissions (recorded on a loopback peer):
"afterok:5(unfulfilled)" while waiting, "afterok:5(failed)" once it can never be met (reason
DependencyNeverSatisfied), "(null)" once met; a whole array is shown as "ID_*".
A dependency on a job that does not exist is taken at submit and lifted at once, as
slurmctld 22.05 does (sbatch --dependency=afterok:99999 runs).
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_nodes import NodeTestCase, parse_kv  # noqa: E402


def ts(text):
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


class DependCase(NodeTestCase):

    def squeue(self, jid):
        """squeue's STATE REASON DEPENDENCY columns of JID (as `squeue -o "%T %r %E"` prints)."""
        _, out, _ = self.cl("squeue", "-h", "-j", str(jid), "-o", "%T %r %E")
        return out.strip()

    def wait_squeue(self, jid, want, timeout=30):
        return self.cluster.wait_for("squeue of %s = %r" % (jid, want),
                                     lambda: self.squeue(jid) == want, timeout=timeout)

    def dep_of(self, jid):
        rec = self.job(jid)
        return rec.get("JobState"), rec.get("Reason"), rec.get("Dependency")


class DependencyTest(DependCase):

    def test_afterok_afternotok_afterany_or_and_kill(self):
        # ok ends well before bad: the texts below depend on the order the two end in
        ok = self.submit("--wrap", "sleep 1; exit 0")
        bad = self.submit("--wrap", "sleep 4; exit 1")
        c = self.submit("--dependency=afterok:%s" % ok, "--wrap", "exit 0")
        d = self.submit("--dependency=afterok:%s" % bad, "--wrap", "exit 0")
        e = self.submit("--dependency=afternotok:%s:%s" % (ok, bad), "--wrap", "exit 0")
        f = self.submit("--dependency=afterok:%s?afterok:%s" % (ok, bad), "--wrap", "exit 0")
        g = self.submit("--dependency=afterany:%s" % bad, "--wrap", "exit 0")
        h = self.submit("--dependency=afterok:%s,afterok:%s" % (ok, bad), "--kill-on-invalid-dep=yes",
                        "--wrap", "exit 0")
        old = self.submit("--dependency=%s" % ok, "--wrap", "exit 0")
        want = {
            c: "PENDING Dependency afterok:%s(unfulfilled)" % ok,
            d: "PENDING Dependency afterok:%s(unfulfilled)" % bad,
            e: "PENDING Dependency afternotok:%s(unfulfilled),afternotok:%s(unfulfilled)" % (ok, bad),
            f: "PENDING Dependency afterok:%s(unfulfilled)?afterok:%s(unfulfilled)" % (ok, bad),
            g: "PENDING Dependency afterany:%s(unfulfilled)" % bad,
            h: "PENDING Dependency afterok:%s(unfulfilled),afterok:%s(unfulfilled)" % (ok, bad),
            old: "PENDING Dependency afterany:%s(unfulfilled)" % ok,
        }
        for jid, line in want.items():
            self.assertEqual(self.squeue(jid), line)
        self.assertEqual(self.dep_of(c), ("PENDING", "Dependency", "afterok:%s(unfulfilled)" % ok))
        for jid in (c, f, g, old):
            rec = self.wait_state(jid, "COMPLETED")
            self.assertEqual(rec["Dependency"], "(null)")
        ends = {j: ts(self.job(j)["EndTime"]) for j in (ok, bad)}
        self.assertGreaterEqual(ts(self.job(c)["StartTime"]), ends[ok])
        self.assertGreaterEqual(ts(self.job(g)["StartTime"]), ends[bad])
        self.assertGreaterEqual(ts(self.job(f)["StartTime"]), ends[ok])
        self.wait_squeue(d, "PENDING DependencyNeverSatisfied afterok:%s(failed)" % bad)
        self.assertEqual(self.dep_of(d), ("PENDING", "DependencyNeverSatisfied", "afterok:%s(failed)" % bad))
        # ok's item failed first; a job that can never run is not tested again, so bad's item
        # stays "unfulfilled" after bad failed (as the real slurmctld shows it)
        self.wait_squeue(e, "PENDING DependencyNeverSatisfied afternotok:%s(failed),"
                            "afternotok:%s(unfulfilled)" % (ok, bad))
        self.wait_state(bad, "FAILED")
        self.assertEqual(self.squeue(e), "PENDING DependencyNeverSatisfied afternotok:%s(failed),"
                                         "afternotok:%s(unfulfilled)" % (ok, bad))
        # --kill-on-invalid-dep=yes: cancelled, as slurmctld's _kill_dependent does
        rec = self.wait_state(h, "CANCELLED")
        self.assertEqual(rec["Reason"], "DependencyNeverSatisfied")
        self.assertEqual(rec["Dependency"], "afterok:%s(failed)" % bad)
        self.cl("scancel", d, e)

    def test_after_starts_once_the_job_started(self):
        a = self.submit("--wrap", "sleep 30")
        b = self.submit("--dependency=after:%s" % a, "--wrap", "exit 0")
        later = self.submit("--dependency=after:%s+5" % a, "--wrap", "exit 0")
        rec = self.wait_state(b, "COMPLETED")
        self.assertEqual(rec["Dependency"], "(null)")
        self.assertGreaterEqual(ts(rec["StartTime"]), ts(self.job(a)["StartTime"]))
        self.assertEqual(self.job(a)["JobState"], "RUNNING")
        # five minutes after a's start have not passed
        self.assertEqual(self.squeue(later), "PENDING Dependency after:%s+5(unfulfilled)" % a)
        self.cl("scancel", a, later)

    def test_singleton_runs_one_job_of_a_name_at_a_time(self):
        s1 = self.submit("-J", "single", "--wrap", "sleep 2")
        self.wait_state(s1, "RUNNING")
        s2 = self.submit("-J", "single", "--dependency=singleton", "--wrap", "sleep 1")
        s3 = self.submit("-J", "single", "--dependency=singleton", "--wrap", "sleep 1")
        other = self.submit("-J", "other", "--dependency=singleton", "--wrap", "exit 0")
        self.assertEqual(self.squeue(s2), "PENDING Dependency singleton(unfulfilled)")
        self.assertEqual(self.squeue(s3), "PENDING Dependency singleton(unfulfilled)")
        self.wait_state(other, "COMPLETED")
        recs = [self.wait_state(j, "COMPLETED") for j in (s1, s2, s3)]
        for prev, nxt in zip(recs, recs[1:]):
            self.assertGreaterEqual(ts(nxt["StartTime"]), ts(prev["EndTime"]))
            self.assertEqual(nxt["Dependency"], "(null)")

    def test_arrays_whole_one_task_and_aftercorr(self):
        arr = self.submit("--array=1-3", "--wrap", "sleep 2; exit $((SLURM_ARRAY_TASK_ID==2))")
        whole = self.submit("--dependency=afterok:%s" % arr, "--wrap", "exit 0")
        one = self.submit("--dependency=afterok:%s_1" % arr, "--wrap", "exit 0")
        any_ = self.submit("--dependency=afterany:%s_*" % arr, "--wrap", "exit 0")
        corr = self.submit("--array=1-3", "--dependency=aftercorr:%s" % arr, "--wrap", "exit 0")
        self.assertEqual(self.squeue(whole), "PENDING Dependency afterok:%s_*(unfulfilled)" % arr)
        self.assertEqual(self.squeue(one), "PENDING Dependency afterok:%s_1(unfulfilled)" % arr)
        self.assertEqual(self.squeue(any_), "PENDING Dependency afterany:%s_*(unfulfilled)" % arr)
        self.assertEqual(self.dep_of(corr)[2], "aftercorr:%s_*(unfulfilled)" % arr)
        self.assertEqual(self.wait_state(one, "COMPLETED")["Dependency"], "(null)")
        self.assertEqual(self.wait_state(any_, "COMPLETED")["Dependency"], "(null)")
        # task 2 failed: the array as a whole never completes
        self.wait_squeue(whole, "PENDING DependencyNeverSatisfied afterok:%s_*(failed)" % arr)
        # aftercorr: tasks 1 and 3 ran after their counterparts; task 2 never will
        self.wait_squeue(corr, "PENDING DependencyNeverSatisfied aftercorr:%s_*(failed)" % arr)
        _, out, _ = self.cl("scontrol", "show", "job", corr)
        recs = [parse_kv(r) for r in out.strip().split("\n\n")]
        done = sorted(r["ArrayTaskId"] for r in recs if r.get("JobState") == "COMPLETED")
        self.assertEqual(done, ["1", "3"])
        self.cl("scancel", whole, corr)

    def test_scontrol_update_dependency_goes_through_the_parser(self):
        a = self.submit("--wrap", "sleep 30")
        b = self.submit("--hold", "--wrap", "exit 0")
        self.cl("scontrol", "update", "JobId=%s" % b, "Dependency=afterok:%s" % a)
        self.assertEqual(self.job(b)["Dependency"], "afterok:%s(unfulfilled)" % a)
        for bad in ("foo:1", "afterok:", "afterok:%s" % b):
            rc, _, err = self.cl("scontrol", "update", "JobId=%s" % b, "Dependency=" + bad, check=False)
            self.assertEqual(rc, 1, bad)
            self.assertIn("Job dependency problem", err)
        self.assertEqual(self.job(b)["Dependency"], "afterok:%s(unfulfilled)" % a)
        self.cl("scontrol", "update", "JobId=%s" % b, "Dependency=")
        self.assertEqual(self.job(b)["Dependency"], "(null)")
        self.cl("scancel", a, b)

    def test_submit_refuses_malformed_dependencies(self):
        for bad in ("foo:1", "afterok", "afterok:1+0", "singletonx", "afterok:1,,afterok:1"):
            rc, _, err = self.cl("sbatch", "--dependency=" + bad, "--wrap", "true", check=False)
            self.assertEqual(rc, 1, bad)
            self.assertIn("Batch job submission failed: Job dependency problem", err)

    def test_dependency_on_an_unknown_job_is_lifted_and_the_job_runs(self):
        jid = self.submit("--dependency=afterok:999999", "--wrap", "exit 0")
        rec = self.wait_state(jid, "COMPLETED")
        self.assertEqual(rec["Dependency"], "(null)")


class KillInvalidDependTest(DependCase):
    """DependencyParameters=kill_invalid_depend cancels jobs whose dependency can never be met,
    unless the job asked --kill-on-invalid-dep=no."""
    NODES = ("n1",)
    EXTRA = ("KillWait=2", "DependencyParameters=kill_invalid_depend")

    @classmethod
    def idle_count(cls):
        _, out, _ = cls.cluster.run("sinfo", "-h", "-N", "-n", "n1", "-o", "%N %t", check=False)
        return sum(1 for l in out.splitlines() if l.split()[1:] == ["idle"])

    def test_never_satisfied_dependency_cancels_the_job(self):
        bad = self.submit("--wrap", "exit 1")
        killed = self.submit("--dependency=afterok:%s" % bad, "--wrap", "exit 0")
        kept = self.submit("--dependency=afterok:%s" % bad, "--kill-on-invalid-dep=no", "--wrap", "exit 0")
        rec = self.wait_state(killed, "CANCELLED")
        self.assertEqual(rec["Reason"], "DependencyNeverSatisfied")
        self.assertEqual(rec["Dependency"], "afterok:%s(failed)" % bad)
        self.wait_squeue(kept, "PENDING DependencyNeverSatisfied afterok:%s(failed)" % bad)
        self.cl("scancel", kept)


if __name__ == "__main__":
    unittest.main(verbosity=2)
