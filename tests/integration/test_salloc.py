#!/usr/bin/env python3
"""Interactive allocations with the real salloc 22.05.8: flurmctld + flurmnd on loopback.

What salloc prints, its exit code and what the job shows afterwards, as recorded by hand against
the real slurmctld + slurmd 22.05.8 (../shared/tools/slurm-peer, two nodes of 2 CPUs). This file
runs against flurmctld and flurmnd only (the harness starts no slurmd):

* granted at once: "salloc: Granted job allocation N", the command runs with SLURM_JOB_ID=N and
  SLURM_JOB_NODELIST set, then "salloc: Relinquishing job allocation N"; the job ends COMPLETED
  with ExitCode 0:0 (or FAILED with the command's exit code), BatchFlag=0;
* resources busy: "salloc: Pending job allocation N", "salloc: job N queued and waiting for
  resources", later "salloc: job N has been allocated resources" and "Granted job allocation N";
* scancel of a pending allocation ends it CANCELLED; salloc, told on the port it waits for its
  grant on and on its message port (SRUN_JOB_COMPLETE), prints "Job has been cancelled", "Job
  allocation N has been revoked." and "error: Job submit/allocate failed: Job/step already
  completing or completed", exit code 1;
* scancel of a running one: "Job allocation N has been revoked.", and with -K salloc ends its
  command; exit code 1.
"""
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_nodes import NodeTestCase  # noqa: E402


class SallocTest(NodeTestCase):
    NODES = ("n1", "n2")

    def salloc(self, *args, timeout=60):
        """Runs salloc ARGS to its end; (rc, stdout, stderr)."""
        return self.cl("salloc", *args, check=False, timeout=timeout)

    def job_id_from(self, err):
        for line in err.splitlines():
            if "Granted job allocation" in line:
                return line.rsplit(" ", 1)[1].strip()
        self.fail("no grant in salloc's output: %r" % err)

    def test_granted_at_once_runs_the_command_with_the_allocation(self):
        out_file = self.work("salloc-env.txt")
        rc, out, err = self.salloc("-N", "2", "-J", "alloc-now", "sh", "-c",
                                   "echo $SLURM_JOB_ID $SLURM_JOB_NODELIST $SLURM_NNODES > %s" % out_file)
        self.assertEqual(rc, 0, err)
        jid = self.job_id_from(err)
        self.assertNotIn("queued and waiting", err)
        self.assertIn("Relinquishing job allocation %s" % jid, err)
        with open(out_file) as f:
            self.assertEqual(f.read().split(), [jid, "n[1-2]", "2"])
        rec = self.wait_state(jid, "COMPLETED")
        self.assertEqual((rec["ExitCode"], rec["BatchFlag"], rec["NodeList"]), ("0:0", "0", "n[1-2]"))
        self.assertEqual(self.idle_count(), 2)

    def test_command_exit_code_fails_the_job(self):
        rc, out, err = self.salloc("-N", "1", "-J", "alloc-fail", "sh", "-c", "exit 3")
        self.assertEqual(rc, 3, err)
        jid = self.job_id_from(err)
        rec = self.wait_state(jid, "FAILED")
        self.assertEqual(rec["ExitCode"], "3:0")

    def test_queued_until_resources_free_then_pushed(self):
        # a batch job holds both nodes; the allocation waits for them
        busy = self.submit("-N", "2", "--exclusive", "-J", "busy", "--wrap", "sleep 3")
        self.wait_state(busy, "RUNNING")
        rc, out, err = self.salloc("-N", "2", "-J", "alloc-later", "true")
        self.assertEqual(rc, 0, err)
        jid = self.job_id_from(err)
        self.assertIn("Pending job allocation %s" % jid, err)
        self.assertIn("job %s queued and waiting for resources" % jid, err)
        self.assertIn("job %s has been allocated resources" % jid, err)
        self.assertEqual(self.job(busy).get("JobState"), "COMPLETED")
        self.wait_state(jid, "COMPLETED")

    def test_scancel_of_a_pending_allocation(self):
        busy = self.submit("-N", "2", "--exclusive", "-J", "busy2", "--wrap", "sleep 30")
        self.wait_state(busy, "RUNNING")
        p = subprocess.Popen(["salloc", "-N", "2", "-J", "alloc-cancel", "true"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.cluster.env(),
                             cwd=os.path.join(self.cluster.dir, "work"))
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
        reader.start()
        self.cluster.wait_for("salloc waiting", lambda: any("queued and waiting" in l for l in lines), timeout=30)
        jid = self.cl("squeue", "-h", "-n", "alloc-cancel", "-o", "%i")[1].strip()
        self.assertEqual(self.job(jid).get("JobState"), "PENDING")
        self.cl("scancel", jid)
        self.wait_state(jid, "CANCELLED")
        p.wait(timeout=30)   # told on the port it waits for its grant on, salloc gives up
        reader.join(timeout=10)
        err = "".join(lines)
        self.assertIn("Job has been cancelled", err)
        self.assertIn("Job allocation %s has been revoked." % jid, err)
        self.assertIn("Job/step already completing or completed", err)
        self.assertEqual(p.returncode, 1)
        self.cl("scancel", busy)

    def test_scancel_of_a_running_allocation_ends_its_command(self):
        # -K: salloc ends its command when the allocation is revoked (Debian's salloc does not
        # by default: built without SALLOC_KILL_CMD)
        p = subprocess.Popen(["salloc", "-K", "-N", "1", "-J", "alloc-revoke", "sleep", "60"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.cluster.env(),
                             cwd=os.path.join(self.cluster.dir, "work"))
        jid = self.cluster.wait_for(
            "the running allocation",
            lambda: (lambda o: o.split()[0] if o.strip() else None)(
                self.cl("squeue", "-h", "-n", "alloc-revoke", "-t", "R", "-o", "%i", check=False)[1]), timeout=30)
        self.cl("scancel", jid)
        out, err = p.communicate(timeout=30)
        self.assertIn("Job allocation %s has been revoked." % jid, err)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.wait_state(jid, "CANCELLED")["NodeList"], "n1")
        self.assertEqual(self.idle_count(), 2)


class SrunNotYetTest(NodeTestCase):
    NODES = ("n1",)

    def test_srun_inside_an_allocation_says_steps_are_not_supported(self):
        # srun confirms the allocation (REQUEST_HET_JOB_ALLOC_INFO), then asks for a step
        rc, out, err = self.cl("salloc", "-N", "1", "srun", "hostname", check=False, timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertIn("job steps (srun) are not supported by this controller yet", err)
        self.assertNotIn("Unable to confirm allocation", err)


if __name__ == "__main__":
    unittest.main()
