#!/usr/bin/env python3
"""PreemptType=preempt/partition_prio end to end: flurmctld + flurmnd + the real SLURM clients.

Two partitions over the same node n1 (2 CPUs), PriorityTier 1 (low) and 2 (high). A low job
holding the node is preempted by a high one. What the clients show was recorded against the
real slurmctld/slurmd 22.05.8 (slurm-peer, one node):

* REQUEUE: the victim shows CG while its processes are killed, then PD with reason BeginTime,
  Restarts=1, SubmitTime = the requeue, EligibleTime 121 s later, an empty NodeList; the
  preemptor shows PD (Resources) meanwhile and starts once the node is free.
* CANCEL: the victim shows CG (scontrol JobState=COMPLETING, PreemptTime = EndTime = the
  preemption), then ends PREEMPTED with ExitCode 0:15.
* SUSPEND,GANG (SUSPEND alone stops slurmctld: "PreemptMode=SUSPEND requires GANG too"): the
  preemptor starts at once; the victim shows S, Reason=None, SuspendTime = the suspension,
  SecsPreSuspend = what it ran, its RunTime frozen; when the preemptor ends it resumes (R),
  SuspendTime = the resume, EndTime pushed back by the time it was suspended.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_nodes import TIME_SCALE, NodeTestCase, parse_kv  # noqa: E402

PARTS = ("PartitionName=low Nodes=n1 PriorityTier=1 MaxTime=INFINITE State=UP",
         "PartitionName=high Nodes=n1 PriorityTier=2 MaxTime=INFINITE State=UP")


class PreemptCase(NodeTestCase):
    NODES = ("n1",)

    def squeue(self, jid):
        _, out, _ = self.cl("squeue", "-h", "-t", "all", "-j", str(jid), "-o", "%t %r", check=False)
        return out.strip()

    def counter_job(self, name):
        """A low-tier job that appends a line every 0.2 s to a file: it advances only when it runs."""
        path = self.work(name + ".count")
        script = self.cluster.write_file(name + ".sh", "#!/bin/sh\nwhile :; do echo x >> %s; sleep 0.2; done\n" % path)
        jid = self.submit("-p", "low", "-n", "2", "-t", "10", "-J", name, script=script)
        self.wait_state(jid, "RUNNING")
        return jid, path

    def high_job(self, secs):
        return self.submit("-p", "high", "-n", "2", "-J", "hi", "--wrap", "sleep %d" % secs)

    @staticmethod
    def lines(path):
        try:
            with open(path) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0


class PreemptRequeueTest(PreemptCase):
    EXTRA = ("KillWait=2", "PreemptType=preempt/partition_prio", "PreemptMode=REQUEUE") + PARTS

    def test_low_job_is_requeued_with_begin_time_and_runs_again(self):
        lo, _ = self.counter_job("rq")
        hi = self.high_job(3)
        rec = self.cluster.wait_for("job %s requeued" % lo,
                                    lambda: (lambda r: r.get("JobState") == "PENDING" and r)(self.job(lo)))
        self.assertEqual(rec["Reason"], "BeginTime")
        self.assertEqual(rec["Restarts"], "1")
        self.assertEqual(rec["NodeList"], "")
        self.assertEqual(self.squeue(lo), "PD BeginTime")
        t = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))
        self.assertEqual(t(rec["EligibleTime"]) - t(rec["SubmitTime"]), 121)
        self.assertEqual(self.wait_state(hi, "RUNNING")["NodeList"], "n1")
        self.wait_state(hi, "COMPLETED")
        # the credential wait is 2 minutes: let it run at once
        self.cl("scontrol", "update", "jobid=%s" % lo, "starttime=now")
        rec = self.wait_state(lo, "RUNNING")
        self.assertEqual(rec["Restarts"], "1")
        self.assertEqual(self.squeue(lo), "R None")
        self.cl("scancel", str(lo))
        self.wait_state(lo, "CANCELLED")


class PreemptCancelTest(PreemptCase):
    EXTRA = ("KillWait=2", "PreemptType=preempt/partition_prio", "PreemptMode=REQUEUE",
             "PartitionName=low Nodes=n1 PriorityTier=1 PreemptMode=CANCEL MaxTime=INFINITE State=UP",
             PARTS[1])

    def test_partition_and_config_show_the_preempt_modes(self):
        low = parse_kv(self.cl("scontrol", "show", "partition", "low")[1])
        high = parse_kv(self.cl("scontrol", "show", "partition", "high")[1])
        self.assertEqual(low["PreemptMode"], "CANCEL")
        self.assertEqual(high["PreemptMode"], "REQUEUE")   # the global one
        _, out, _ = self.cl("scontrol", "show", "config")
        conf = {l.split("=", 1)[0].strip(): l.split("=", 1)[1].strip() for l in out.splitlines() if " = " in l}
        self.assertEqual(conf["PreemptMode"], "REQUEUE")
        self.assertEqual(conf["PreemptType"], "preempt/partition_prio")

    def test_low_job_ends_preempted(self):
        lo, _ = self.counter_job("cx")
        hi = self.high_job(2)
        rec = self.wait_state(lo, "PREEMPTED")
        self.assertEqual(rec["ExitCode"], "0:15")
        self.assertEqual(rec["Restarts"], "0")
        self.assertEqual(rec["PreemptTime"], rec["EndTime"])
        self.assertEqual(self.squeue(lo), "PR None")
        self.assertEqual(self.wait_state(hi, "RUNNING")["NodeList"], "n1")
        self.wait_state(hi, "COMPLETED")


class PreemptSuspendTest(PreemptCase):
    EXTRA = ("KillWait=2", "PreemptType=preempt/partition_prio", "PreemptMode=SUSPEND,GANG") + PARTS

    def test_low_job_is_suspended_then_resumes_with_its_end_time_pushed_back(self):
        lo, path = self.counter_job("sus")
        before = self.job(lo)
        time.sleep(1.5)   # so that it has run a while (SecsPreSuspend)
        hi = self.high_job(4)
        rec = self.wait_state(lo, "SUSPENDED")
        self.assertEqual(rec["Reason"], "None")
        self.assertNotEqual(rec["SuspendTime"], "None")
        self.assertGreater(int(rec["SecsPreSuspend"]), 0)
        self.assertEqual(rec["PreemptTime"], "None")
        self.assertEqual(self.squeue(lo), "S None")
        self.assertEqual(self.wait_state(hi, "RUNNING")["NodeList"], "n1")
        # the processes are stopped: the counter stands still
        time.sleep(0.6)
        n = self.lines(path)
        time.sleep(1.0)
        if self.job(lo).get("JobState") == "SUSPENDED":
            self.assertEqual(self.lines(path), n)
        self.wait_state(hi, "COMPLETED")
        rec = self.wait_state(lo, "RUNNING")
        self.assertEqual(self.squeue(lo), "R None")
        t = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))
        self.assertGreater(t(rec["EndTime"]), t(before["EndTime"]))
        self.assertGreater(int(rec["SecsPreSuspend"]), 0)
        n = self.lines(path)
        self.cluster.wait_for("counter advancing again", lambda: self.lines(path) > n + 2, timeout=10)
        self.cl("scancel", str(lo))
        self.wait_state(lo, "CANCELLED")



class PreemptBackfillTest(PreemptCase):
    """The backfill pass preempts too (backfill.c _try_sched with the preemptable jobs). With
    default_queue_depth=1 the main pass looks only at the first high job, which waits for n2
    behind a job of its own tier; the second high job starts on n1 in the backfill pass by
    suspending the low job there."""
    NODES = ("n1", "n2")
    EXTRA = ("KillWait=2", "PreemptType=preempt/partition_prio", "PreemptMode=SUSPEND,GANG",
             "SchedulerParameters=default_queue_depth=1",
             "PartitionName=low Nodes=n1 PriorityTier=1 MaxTime=INFINITE State=UP",
             "PartitionName=high Nodes=n[1-2] PriorityTier=2 MaxTime=INFINITE State=UP")

    def test_second_high_job_preempts_in_the_backfill_pass(self):
        lo, _ = self.counter_job("bf")
        holder = self.submit("-p", "high", "-w", "n2", "-n", "2", "-J", "hold", "--wrap", "sleep 300")
        self.assertEqual(self.wait_state(holder, "RUNNING")["NodeList"], "n2")
        first = self.submit("-p", "high", "-w", "n2", "-n", "2", "-J", "first", "--wrap", "sleep 1")
        second = self.submit("-p", "high", "-n", "2", "-t", "5", "-J", "second", "--wrap", "sleep 300")
        # suspended well before its 10-minute limit (20 s here) could free n1 by itself
        self.assertEqual(self.wait_state(lo, "SUSPENDED", timeout=15)["Reason"], "None")
        self.assertEqual(self.wait_state(second, "RUNNING")["NodeList"], "n1")
        self.assertEqual(self.job(first)["JobState"], "PENDING")
        for j in (second, first, holder, lo):
            self.cl("scancel", str(j), check=False)


class JobOpsTest(PreemptCase):
    """scontrol suspend / resume / requeue, answers as the real slurmctld 22.05.8 gave them."""
    EXTRA = ("KillWait=2",) + PARTS

    def scontrol(self, *argv):
        rc, out, err = self.cl("scontrol", *argv, check=False)
        return rc, (out + err).strip()

    def test_suspend_resume_requeue(self):
        lo, path = self.counter_job("ops")
        pend = self.submit("-p", "low", "-n", "2", "--wrap", "sleep 60")
        time.sleep(1.2)
        self.assertEqual(self.scontrol("suspend", str(lo)), (0, ""))
        rec = self.wait_state(lo, "SUSPENDED")
        self.assertEqual(self.squeue(lo), "S None")
        self.assertGreater(int(rec["SecsPreSuspend"]), 0)
        self.assertEqual(self.scontrol("suspend", str(lo)), (0, ""))   # already: fine
        self.assertEqual(self.scontrol("suspend", str(pend)),
                         (1, "Job is pending execution for job %s" % pend))
        self.assertEqual(self.scontrol("resume", str(pend)),
                         (1, "Job is pending execution for job %s" % pend))
        time.sleep(0.6)
        n = self.lines(path)
        time.sleep(1.0)
        self.assertEqual(self.lines(path), n)   # stopped
        self.assertEqual(self.squeue(pend), "PD Resources")   # its resources stay booked
        self.assertEqual(self.scontrol("resume", str(lo)), (0, ""))
        rec = self.wait_state(lo, "RUNNING")
        t = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))
        self.assertGreater(t(rec["EndTime"]) - t(rec["StartTime"]), 600)   # pushed back
        self.assertEqual(self.scontrol("resume", str(lo)), (1, "Job is not suspended for job %s" % lo))
        self.cluster.wait_for("counter advancing again", lambda: self.lines(path) > n + 2, timeout=10)
        self.assertEqual(self.scontrol("suspend", "99999"), (1, "Unexpected message received for job 99999"))
        self.assertEqual(self.scontrol("requeue", "99999"), (1, "Invalid job id specified for job 99999"))
        self.assertEqual(self.scontrol("requeue", str(pend)),
                         (1, "Job is pending execution for job %s" % pend))
        self.assertEqual(self.scontrol("requeue", str(lo)), (0, ""))
        rec = self.cluster.wait_for("job %s requeued" % lo,
                                    lambda: (lambda r: r.get("JobState") == "PENDING" and r)(self.job(lo)))
        self.assertEqual(rec["Restarts"], "1")
        self.assertEqual(self.squeue(lo), "PD BeginTime")
        self.assertEqual(self.wait_state(pend, "RUNNING")["NodeList"], "n1")
        self.cl("scancel", str(lo), str(pend))
        self.wait_state(pend, "CANCELLED")


class SuspendRestartTest(PreemptCase):
    """A suspension outlives a flurmnd restart: the restarted daemon does not time the stopped
    job out, and after the resume the job still gets the rest of its limit (2 minutes = 4 s
    here) before TIMEOUT."""
    EXTRA = ("KillWait=2",) + PARTS

    def test_suspended_job_survives_a_flurmnd_restart_and_keeps_its_remaining_time(self):
        path = self.work("sr.count")
        script = self.cluster.write_file("sr.sh", "#!/bin/sh\nwhile :; do echo x >> %s; sleep 0.2; done\n" % path)
        jid = self.submit("-p", "low", "-n", "2", "-t", "2", "-J", "sr", script=script)
        self.wait_state(jid, "RUNNING")
        time.sleep(1.0)
        self.cl("scontrol", "suspend", str(jid))
        self.wait_state(jid, "SUSPENDED")
        suspended_at = time.time()
        self.cluster.kill9_node("n1")
        self.cluster.start_node("n1", env=TIME_SCALE)
        # well past the 4 s limit counted from the start: still suspended, not timed out
        time.sleep(max(0.0, suspended_at + 5.0 - time.time()))
        self.assertEqual(self.job(jid).get("JobState"), "SUSPENDED")
        n = self.lines(path)
        self.cl("scontrol", "resume", str(jid))
        self.wait_state(jid, "RUNNING")
        self.cluster.wait_for("counter advancing again", lambda: self.lines(path) > n + 3, timeout=10)
        rec = self.wait_state(jid, "TIMEOUT", timeout=30)
        self.assertEqual(rec["JobState"], "TIMEOUT")

if __name__ == "__main__":
    unittest.main(verbosity=2)
