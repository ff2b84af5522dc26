#!/usr/bin/python3
"""Integration suite: the real Debian SLURM 22.05 clients against a controller.

    FLURM_TEST_CONTROLLER=flurm FLURMCTLD=build/bin/flurmctld/flurmctld python3 test_clients.py -v
    FLURM_TEST_CONTROLLER=slurm python3 test_clients.py -v        # the reference (real slurmctld)

Every expectation below was recorded against the REAL slurmctld 22.05.8 (Debian bookworm,
standalone, no slurmd running, nodes n[1-4] configured with State=UNKNOWN); that output is
the spec flurmctld must reproduce.  Behaviour of the real slurmctld pinned here:

* Pending reason, no compute nodes: right after submission the job's Reason is
  "ReqNodeNotAvail, UnavailableNodes:<the partition's nodes>" (scontrol prints the same with
  spaces as '_').  When the main scheduler has run (~3 s after start-up, then after events /
  every 60 s) it becomes "Nodes required for job are DOWN, DRAINED or reserved for jobs in
  higher priority partitions", and a job with an unmet dependency shows "Dependency".
  Tests accept either of the first two (timing), test_pending_reason_settles pins the final one.
* Nodes show "unk" and get the not-responding flag ("unk*" / "UNKNOWN+NOT_RESPONDING") once the
  controller's first ping of the (absent) slurmds fails, ~10 s after start-up: tests accept both.
* sbatch -p nosuch: rc 1, stderr "sbatch: error: invalid partition specified: nosuch" (the
  controller's RESPONSE_SLURM_RC_MSG text) then "sbatch: error: Batch job submission failed:
  Invalid partition name specified".
* sbatch --test-only: rc 1, stderr "allocation failure: Requested node configuration is not
  available" (no node is usable).
* scontrol show job 99999: rc 1, "slurm_load_jobs error: Invalid job id specified".
* scancel 99999: rc 0 and SILENT (scancel ignores ESLURM_INVALID_JOB_ID for SIGKILL unless -v);
  with -v: "scancel: error: Kill job error on job id 99999: Invalid job id specified", still rc 0.
* scancel -s USR1 of a PENDING job: the controller answers ESLURM_TRANSITION_STATE_NO_UPDATE
  ("Job can not be altered now, try again later") and scancel retries 10 times sleeping 5+i s
  (~95 s); the test watches the first retry (-v: "Job is in transitional state, retrying").
* scontrol hold N by root: Priority=0, Reason=JobHeldAdmin; sbatch --hold: Reason=JobHeldUser;
  after release: Reason=None until the scheduler runs again; Priority recomputed (>0).
* scontrol update NodeName=... State=RESUME on UNKNOWN+DRAIN nodes: the DRAIN flag IS cleared
  (and NOT_RESPONDING set to force re-registration) but the command fails: rc 1,
  "slurm_update error: Invalid node state specified" (node_mgr.c update_node(): base state
  UNKNOWN is not handled after the RESUME branch).
* squeue -j N of a cancelled job prints only the header; scontrol show job N still shows
  JobState=CANCELLED (MinJobAge=300).
* sbatch into a DOWN partition is accepted; Reason "ReqNodeNotAvail, ..." at submission, then
  "PartitionDown" once the scheduler ran.  sinfo %a of an INACTIVE partition: "inactive"
  (the default format's 5-wide column shows "inact").
* Durability (DIFFERS): the real slurmctld saves state asynchronously (state-save thread); a
  kill -9 right after 20 sbatch calls lost 19 of them and job id 2 was handed out again.
  Under `slurm` the test therefore waits 5 s before kill -9; flurmctld must be durable at
  acknowledgement, so there is no wait under `flurm`.
* scontrol show node|partition|job <unknown>: "Node nosuch not found" etc. on STDOUT, rc 1;
  scontrol update JobId=99999: "Invalid job id specified for job 99999" (stderr), rc 1.
* Cancelling one task of a fully pending array (scancel N_2) leaves no record of that task at
  all (squeue -t all, scontrol show job N_2 -> "Job N_2 not found"); the meta record's
  ArrayTaskId becomes 1,3-5.  The meta record's StdOut uses %a = 4294967294 (NO_VAL-1).
* sinfo -N -l: rows sorted by node name, but the order of one node's partitions varies.
* Raw-socket robustness: NOT different - the real slurmctld is driven with the same frames.
  It closes the connection WITHOUT any reply for every malformed frame (garbage, huge length,
  truncated, bad munge credential, unknown auth plugin id, bad version, unknown message type,
  body_length past the end); flurmctld may instead answer an error RC (the test accepts both).
  A hand-made REQUEST_PING whose munge credential has an EMPTY payload (`munge -n`) is accepted.
"""

import os
import re
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, build_frame, parse_response  # noqa: E402

USER = harness.current_user()
IS_ROOT = os.getuid() == 0

REASON_AT_SUBMIT = "ReqNodeNotAvail, UnavailableNodes:%s"
REASON_SCHEDULED = ("Nodes required for job are DOWN, DRAINED or reserved for jobs in higher "
                    "priority partitions")

SQUEUE_HEADER = ("             JOBID PARTITION     NAME     USER ST       TIME  NODES "
                 "NODELIST(REASON)")
SINFO_HEADER = "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST"
SINFO_R_HEADER = "REASON               USER      TIMESTAMP           NODELIST"


def no_node_reasons(nodes):
    """The two reasons a job gets while no node of its partition is usable."""
    return (REASON_AT_SUBMIT % nodes, REASON_SCHEDULED)


def scontrol_form(reason):
    return reason.replace(" ", "_")


def squeue_row(jobid, part, name, user, st, time_, nodes, reason):
    """One row of squeue's default format "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"."""
    return "%18s %9s %8s %8s %2s %10s %6s %s" % (
        jobid[:18], part[:9], name[:8], user[:8], st[:2], time_[:10], nodes[:6], reason)


def parse_show(text):
    """Records of `scontrol show job|node|partition` (blank-line separated) as dicts."""
    records = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.strip():
            records.append(harness.parse_kv(block))
    return records


OTHER_USER = "nobody"   # an unprivileged account every Debian system has


class ClusterTestCase(unittest.TestCase):
    """One cluster per TestCase class; kept (with its log path printed) if a test failed."""

    cluster = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        cls.cluster.start()
        cls._any_failed = False

    @classmethod
    def tearDownClass(cls):
        if cls.cluster is not None:
            cls.cluster.failed = cls.cluster.failed or cls._any_failed
            cls.cluster.stop()
            cls.cluster = None

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        res = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            type(self)._any_failed = True
        return res

    # helpers
    def cl(self, *argv, **kw):
        return self.cluster.run(*argv, **kw)

    def show_job(self, jobid):
        rc, out, err = self.cl("scontrol", "show", "job", str(jobid))
        recs = parse_show(out)
        self.assertTrue(recs, out)
        return recs[0]

    def squeue_ids(self, *args):
        _, out, _ = self.cl("squeue", "-h", "-o", "%i", *args)
        return out.split()

    def assertNoNodeReason(self, reason, nodes="n[1-4]", scontrol=False):
        ok = no_node_reasons(nodes)
        if scontrol:
            ok = tuple(scontrol_form(r) for r in ok)
        self.assertIn(reason, ok)


# ====================================================================== info commands
class InfoTest(ClusterTestCase):
    """ping, sinfo, scontrol show node/partition/config, sdiag, reconfigure (no jobs)."""

    def test_scontrol_ping_reports_primary_up(self):
        rc, out, err = self.cl("scontrol", "ping")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "Slurmctld(primary) at %s is UP\n" % self.cluster.host)
        self.assertEqual(err, "")

    def test_sinfo_default_lists_both_partitions(self):
        _, out, err = self.cl("sinfo")
        lines = out.splitlines()
        self.assertEqual(err, "")
        self.assertEqual(lines[0], SINFO_HEADER)
        self.assertEqual(len(lines), 3, out)
        self.assertRegex(lines[1], r"^debug\*       up   infinite      4 +unk\*? n\[1-4\]$")
        self.assertRegex(lines[2], r"^long         up 2-00:00:00      2 +unk\*? n\[3-4\]$")

    def test_sinfo_node_long_lists_one_row_per_node_and_partition(self):
        _, out, _ = self.cl("sinfo", "-N", "-l")
        lines = out.splitlines()
        # first line is the date, e.g. "Sun Nov 22 03:07:58 2026"
        self.assertRegex(lines[0], r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        self.assertEqual(lines[1], "NODELIST   NODES PARTITION       STATE CPUS    S:C:T MEMORY "
                                   "TMP_DISK WEIGHT AVAIL_FE REASON              ")
        rows = [l.split() for l in lines[2:]]
        # sorted by node name; the order of one node's partitions varies between runs
        self.assertEqual([r[0] for r in rows], ["n1", "n2", "n3", "n3", "n4", "n4"])
        self.assertEqual(sorted((r[0], r[2]) for r in rows),
                         [("n1", "debug*"), ("n2", "debug*"), ("n3", "debug*"), ("n3", "long"),
                          ("n4", "debug*"), ("n4", "long")])
        for r in rows:
            self.assertEqual(r[1], "1")
            self.assertRegex(r[3], r"^unknown\*?$")
            self.assertEqual(r[4:], ["2", "2:1:1", "1000", "0", "1", "(null)", "none"])

    def test_sinfo_partition_filter(self):
        _, out, _ = self.cl("sinfo", "-p", "debug")
        lines = out.splitlines()
        self.assertEqual(lines[0], SINFO_HEADER)
        self.assertEqual(len(lines), 2, out)
        self.assertRegex(lines[1], r"^debug\*       up   infinite      4 +unk\*? n\[1-4\]$")
        _, out, _ = self.cl("sinfo", "-h", "-p", "long")
        self.assertRegex(out, r"^long         up 2-00:00:00      2 +unk\*? n\[3-4\]\n$")

    def test_sinfo_reasons_empty_without_drained_nodes(self):
        _, out, _ = self.cl("sinfo", "-R")
        self.assertEqual(out, SINFO_R_HEADER + "\n")

    def test_scontrol_show_node(self):
        _, out, _ = self.cl("scontrol", "show", "node", "n1")
        self.assertTrue(out.startswith("NodeName=n1 "), out)
        n = parse_show(out)[0]
        self.assertEqual(n["NodeName"], "n1")
        self.assertEqual(n["CPUTot"], "2")
        self.assertEqual(n["CPUAlloc"], "0")
        self.assertEqual(n["RealMemory"], "1000")
        self.assertEqual(n["NodeAddr"], "127.0.0.1")
        self.assertEqual(n["Partitions"], "debug")
        self.assertIn(n["State"], ("UNKNOWN", "UNKNOWN+NOT_RESPONDING"))
        _, out, _ = self.cl("scontrol", "show", "node", "n3")
        self.assertEqual(parse_show(out)[0]["Partitions"], "debug,long")

    def test_scontrol_show_node_unknown_name(self):
        # the "not found" text goes to STDOUT, with rc 1
        rc, out, err = self.cl("scontrol", "show", "node", "nosuch", check=False)
        self.assertEqual((rc, out, err), (1, "Node nosuch not found\n", ""))

    def test_scontrol_show_partition(self):
        _, out, _ = self.cl("scontrol", "show", "partition", "debug")
        self.assertTrue(out.startswith("PartitionName=debug\n"), out)
        p = parse_show(out)[0]
        self.assertEqual(p["Nodes"], "n[1-4]")
        self.assertEqual(p["Default"], "YES")
        self.assertEqual(p["MaxTime"], "UNLIMITED")
        self.assertEqual(p["State"], "UP")
        self.assertEqual(p["TotalCPUs"], "8")
        self.assertEqual(p["TotalNodes"], "4")
        _, out, _ = self.cl("scontrol", "show", "partition", "long")
        p = parse_show(out)[0]
        self.assertEqual(p["PartitionName"], "long")
        self.assertEqual(p["Nodes"], "n[3-4]")
        self.assertEqual(p["Default"], "NO")
        self.assertEqual(p["MaxTime"], "2-00:00:00")
        self.assertEqual(p["TotalNodes"], "2")
        _, out, _ = self.cl("scontrol", "show", "partition")
        self.assertEqual([r["PartitionName"] for r in parse_show(out)], ["debug", "long"])

    def test_scontrol_show_partition_unknown_name(self):
        rc, out, err = self.cl("scontrol", "show", "partition", "nosuch", check=False)
        self.assertEqual((rc, out, err), (1, "Partition nosuch not found\n", ""))

    def test_scontrol_show_config(self):
        _, out, _ = self.cl("scontrol", "show", "config")
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^Configuration data as of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        self.assertIn("ClusterName             = itest", lines)
        self.assertIn("SlurmctldPort           = %d" % self.cluster.port, lines)
        self.assertIn("AuthType                = auth/munge", lines)
        self.assertIn("MinJobAge               = 300 sec", lines)
        self.assertIn("ReturnToService         = 2", lines)
        self.assertIn("SlurmctldHost[0]        = %s(127.0.0.1)" % self.cluster.host, lines)
        self.assertEqual(lines[-1], "Slurmctld(primary) at %s is UP" % self.cluster.host)

    def test_sdiag_counts_submitted_jobs(self):
        def submitted():
            _, out, _ = self.cl("sdiag")
            self.assertIn("Server thread count:", out)
            m = re.search(r"^Jobs submitted: (\d+)$", out, re.M)
            self.assertIsNotNone(m, out)
            return int(m.group(1))
        before = submitted()
        self.cluster.sbatch()
        self.assertEqual(submitted(), before + 1)

    def test_scontrol_reconfigure_keeps_controller_up(self):
        rc, out, err = self.cl("scontrol", "reconfigure")
        self.assertEqual((rc, out, err), (0, "", ""))
        self.assertTrue(self.cluster.ping_up())
        _, out, _ = self.cl("sinfo", "-h", "-o", "%P %l %D")
        self.assertEqual(out, "debug* infinite 4\nlong 2-00:00:00 2\n")


# ====================================================================== sbatch
class SubmitTest(ClusterTestCase):

    def test_sbatch_script_file(self):
        script = self.cluster.write_file("job.sh", "#!/bin/sh\n#SBATCH -J scripted\nsleep 100\n",
                                         0o755)
        rc, out, err = self.cl("sbatch", script)
        self.assertEqual(err, "")
        m = re.fullmatch(r"Submitted batch job (\d+)\n", out)
        self.assertIsNotNone(m, out)
        job = self.show_job(m.group(1))
        self.assertEqual(job["JobId"], m.group(1))
        self.assertEqual(job["JobName"], "scripted")
        self.assertEqual(job["Command"], script)
        self.assertEqual(job["UserId"], "%s(%d)" % (USER, os.getuid()))
        self.assertEqual(job["JobState"], "PENDING")
        self.assertNoNodeReason(job["Reason"], scontrol=True)
        self.assertEqual(job["Partition"], "debug")
        self.assertEqual(job["NumNodes"], "1")
        self.assertEqual(job["NumCPUs"], "1")
        self.assertEqual(job["TimeLimit"], "UNLIMITED")
        workdir = os.path.join(self.cluster.dir, "work")
        self.assertEqual(job["WorkDir"], workdir)
        self.assertEqual(job["StdOut"], "%s/slurm-%s.out" % (workdir, m.group(1)))
        self.assertEqual(job["StdErr"], job["StdOut"])
        self.assertEqual(job["BatchFlag"], "1")
        self.assertEqual(job["Dependency"], "(null)")

    def test_sbatch_wrap(self):
        rc, out, err = self.cl("sbatch", "--wrap", "sleep 100")
        m = re.fullmatch(r"Submitted batch job (\d+)\n", out)
        self.assertIsNotNone(m, out)
        job = self.show_job(m.group(1))
        self.assertEqual(job["JobName"], "wrap")
        self.assertEqual(job["Command"], "(null)")
        self.assertEqual(job["JobState"], "PENDING")

    def test_sbatch_parsable_prints_only_the_id(self):
        rc, out, err = self.cl("sbatch", "--parsable", "--wrap", "true")
        self.assertRegex(out, r"^\d+\n$")
        self.assertEqual(err, "")
        ids = [int(out), int(self.cluster.sbatch())]
        self.assertEqual(ids[1], ids[0] + 1)

    def test_sbatch_all_common_options(self):
        os.makedirs(os.path.join(self.cluster.dir, "work", "sub"), exist_ok=True)
        jid = self.cluster.sbatch("-J", "myname", "-p", "long", "-N", "2", "-n", "4", "-c", "1",
                                  "--mem=100", "-t", "10", "-o", "out.%j", "-e", "err.%j",
                                  "-D", "sub", "--hold", "--export=ALL,FOO=bar",
                                  "--wrap", "sleep 1")
        job = self.show_job(jid)
        sub = os.path.join(self.cluster.dir, "work", "sub")
        expect = {
            "JobName": "myname", "Partition": "long", "JobState": "PENDING",
            "Reason": "JobHeldUser", "Priority": "0", "NumNodes": "2-2", "NumCPUs": "4",
            "NumTasks": "4", "CPUs/Task": "1", "MinMemoryNode": "100M",
            "TimeLimit": "00:10:00", "WorkDir": sub, "StdOut": "%s/out.%s" % (sub, jid),
            "StdErr": "%s/err.%s" % (sub, jid), "TRES": "cpu=4,mem=200M,node=2,billing=4",
        }
        self.assertEqual({k: job.get(k) for k in expect}, expect)
        _, out, _ = self.cl("squeue", "-h", "-j", jid)
        self.assertEqual(out, squeue_row(jid, "long", "myname", USER, "PD", "0:00", "2",
                                         "(JobHeldUser)") + "\n")

    def test_sbatch_array(self):
        jid = self.cluster.sbatch("--array=1-5", "--wrap", "sleep 1")
        _, out, _ = self.cl("squeue", "-h", "-j", jid, "-o", "%i %T")
        self.assertEqual(out, "%s_[1-5] PENDING\n" % jid)
        _, out, _ = self.cl("squeue", "-h", "-r", "-j", jid, "-o", "%i")
        self.assertEqual(out.split(), ["%s_%d" % (jid, i) for i in range(1, 6)])
        _, out, _ = self.cl("scontrol", "show", "job", jid)
        self.assertTrue(out.startswith("JobId=%s ArrayJobId=%s ArrayTaskId=1-5 JobName=wrap\n"
                                       % (jid, jid)), out)
        job = parse_show(out)[0]
        self.assertEqual(len(parse_show(out)), 1)  # one meta record while all tasks pend
        # %a of the not-yet-split meta record is NO_VAL-1
        self.assertEqual(job["StdOut"], "%s/work/slurm-%s_4294967294.out"
                         % (self.cluster.dir, jid))

    def test_sbatch_dependency(self):
        first = self.cluster.sbatch()
        second = self.cluster.sbatch("--dependency=afterok:%s" % first)
        job = self.show_job(second)
        self.assertEqual(job["Dependency"], "afterok:%s(unfulfilled)" % first)
        self.assertEqual(job["JobState"], "PENDING")
        reasons = tuple(scontrol_form(r) for r in no_node_reasons("n[1-4]")) + ("Dependency",)
        self.assertIn(job["Reason"], reasons)

    def test_sbatch_test_only_without_usable_nodes(self):
        rc, out, err = self.cl("sbatch", "--test-only", "--wrap", "true", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertEqual(err, "allocation failure: Requested node configuration is not "
                              "available\n")

    def test_sbatch_invalid_partition(self):
        rc, out, err = self.cl("sbatch", "-p", "nosuch", "--wrap", "true", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertEqual(err, "sbatch: error: invalid partition specified: nosuch\n"
                              "sbatch: error: Batch job submission failed: Invalid partition "
                              "name specified\n")

    def test_scontrol_show_job_invalid_id(self):
        rc, out, err = self.cl("scontrol", "show", "job", "99999", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertEqual(err, "slurm_load_jobs error: Invalid job id specified\n")

    def test_pending_reason_settles(self):
        """After the scheduler ran, a job waiting for nodes shows REASON_SCHEDULED."""
        jid = self.cluster.sbatch("-p", "long")
        deadline = time.monotonic() + 75
        while True:
            _, out, _ = self.cl("squeue", "-h", "-j", jid, "-o", "%r")
            reason = out.strip()
            self.assertIn(reason, no_node_reasons("n[3-4]"))
            if reason == REASON_SCHEDULED or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.assertEqual(reason, REASON_SCHEDULED)
        self.assertEqual(self.show_job(jid)["Reason"], scontrol_form(REASON_SCHEDULED))


# ====================================================================== squeue
class QueueTest(ClusterTestCase):
    """squeue formats and filters over a fixed set of jobs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.cluster
        script = c.write_file("job.sh", "#!/bin/sh\n#SBATCH -J scripted\nsleep 100\n", 0o755)
        cls.j_script = c.sbatch(script=script)
        cls.j_long = c.sbatch("-p", "long", "-J", "longjob", "-N", "2", "--hold")
        cls.j_array = c.sbatch("--array=1-3")

    def rows(self, out):
        """squeue default rows with the time-dependent no-node reason normalised."""
        lines = out.splitlines()
        for r in no_node_reasons("n[1-4]") + no_node_reasons("n[3-4]"):
            lines = [l.replace("(%s)" % r, "(NONODES)") for l in lines]
        return lines

    def expected_rows(self):
        return [
            squeue_row(self.j_script, "debug", "scripted", USER, "PD", "0:00", "1", "(NONODES)"),
            squeue_row(self.j_array + "_[1-3]", "debug", "wrap", USER, "PD", "0:00", "1",
                       "(NONODES)"),
            squeue_row(self.j_long, "long", "longjob", USER, "PD", "0:00", "2", "(JobHeldUser)"),
        ]

    def test_squeue_default(self):
        rc, out, err = self.cl("squeue")
        self.assertEqual(err, "")
        self.assertEqual(self.rows(out), [SQUEUE_HEADER] + self.expected_rows())

    def test_squeue_no_header(self):
        _, out, _ = self.cl("squeue", "-h")
        self.assertEqual(self.rows(out), self.expected_rows())

    def test_squeue_job_filter(self):
        _, out, _ = self.cl("squeue", "-j", self.j_long)
        self.assertEqual(self.rows(out), [SQUEUE_HEADER, self.expected_rows()[2]])
        _, out, _ = self.cl("squeue", "-h", "-j", "%s,%s" % (self.j_script, self.j_long))
        self.assertEqual(self.rows(out), [self.expected_rows()[0], self.expected_rows()[2]])

    def test_squeue_user_filters(self):
        _, out, _ = self.cl("squeue", "-u", USER)
        self.assertEqual(self.rows(out), [SQUEUE_HEADER] + self.expected_rows())
        _, out, _ = self.cl("squeue", "--me")
        self.assertEqual(self.rows(out), [SQUEUE_HEADER] + self.expected_rows())

    def test_squeue_user_filter_other_user_empty(self):
        other = "nobody" if USER != "nobody" else "root"
        _, out, _ = self.cl("squeue", "-u", other)
        self.assertEqual(out, SQUEUE_HEADER + "\n")

    def test_squeue_state_filter(self):
        _, out, _ = self.cl("squeue", "-h", "-t", "PD")
        self.assertEqual(self.rows(out), self.expected_rows())
        _, out, _ = self.cl("squeue", "-h", "-t", "R")
        self.assertEqual(out, "")

    def test_squeue_partition_filter(self):
        _, out, _ = self.cl("squeue", "-h", "-p", "long")
        self.assertEqual(self.rows(out), [self.expected_rows()[2]])
        _, out, _ = self.cl("squeue", "-h", "-p", "debug")
        self.assertEqual(self.rows(out), self.expected_rows()[:2])

    def test_squeue_format_o(self):
        _, out, _ = self.cl("squeue", "-o", "%i %j %T %r")
        lines = out.splitlines()
        self.assertEqual(lines[0], "JOBID NAME STATE REASON")
        self.assertEqual(len(lines), 4, out)
        self.assertTrue(lines[1].startswith("%s scripted PENDING " % self.j_script), lines[1])
        self.assertNoNodeReason(lines[1].split(" ", 3)[3])
        self.assertTrue(lines[2].startswith("%s_[1-3] wrap PENDING " % self.j_array), lines[2])
        self.assertEqual(lines[3], "%s longjob PENDING JobHeldUser" % self.j_long)

    def test_squeue_format_O(self):
        _, out, _ = self.cl("squeue", "-O", "JobID,Name,State")
        f = "%-20s%-20s%-20s"
        # the array's meta record prints its plain job id in the JobID column
        self.assertEqual(out.splitlines(), [
            f % ("JOBID", "NAME", "STATE"),
            f % (self.j_script, "scripted", "PENDING"),
            f % (self.j_array, "wrap", "PENDING"),
            f % (self.j_long, "longjob", "PENDING"),
        ])

    def test_squeue_start(self):
        _, out, _ = self.cl("squeue", "--start")
        lines = out.splitlines()
        self.assertEqual(lines[0], "             JOBID PARTITION     NAME     USER ST          "
                                   "START_TIME  NODES SCHEDNODES           NODELIST(REASON)")
        # pending jobs that cannot start: START_TIME N/A, SCHEDNODES (null); held job listed too
        self.assertEqual(len(lines), 4, out)
        ids = [l.split()[0] for l in lines[1:]]
        self.assertEqual(sorted(ids), sorted([self.j_script, self.j_array + "_[1-3]",
                                              self.j_long]))
        for l in lines[1:]:
            f = l.split()
            self.assertEqual(f[4:7][0], "PD")
            self.assertEqual(f[5], "N/A")
            self.assertEqual(f[7], "(null)")

    def test_squeue_array_expanded(self):
        _, out, _ = self.cl("squeue", "-h", "-r", "-o", "%i")
        self.assertEqual(out.split(), [self.j_script] +
                         ["%s_%d" % (self.j_array, i) for i in (1, 2, 3)] + [self.j_long])


# ====================================================================== scontrol update / scancel
class ControlTest(ClusterTestCase):

    def test_update_job_time_limit_and_priority(self):
        jid = self.cluster.sbatch()
        rc, out, err = self.cl("scontrol", "update", "JobId=%s" % jid, "TimeLimit=20")
        self.assertEqual((rc, out, err), (0, "", ""))
        self.assertEqual(self.show_job(jid)["TimeLimit"], "00:20:00")
        self.cl("scontrol", "update", "JobId=%s" % jid, "Priority=10")
        self.assertEqual(self.show_job(jid)["Priority"], "10")
        _, out, _ = self.cl("squeue", "-h", "-j", jid, "-o", "%l %Q")
        self.assertEqual(out, "20:00 10\n")

    def test_update_job_invalid_id(self):
        rc, out, err = self.cl("scontrol", "update", "JobId=99999", "TimeLimit=20", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(err, "Invalid job id specified for job 99999\n")

    def test_hold_and_release(self):
        jid = self.cluster.sbatch()
        rc, out, err = self.cl("scontrol", "hold", jid)
        self.assertEqual((rc, out, err), (0, "", ""))
        job = self.show_job(jid)
        self.assertEqual(job["Priority"], "0")
        self.assertEqual(job["Reason"], "JobHeldAdmin" if IS_ROOT else "JobHeldUser")
        self.assertEqual(job["JobState"], "PENDING")
        _, out, _ = self.cl("squeue", "-h", "-j", jid, "-o", "%r")
        self.assertEqual(out, "%s\n" % job["Reason"])
        rc, out, err = self.cl("scontrol", "release", jid)
        self.assertEqual((rc, out, err), (0, "", ""))
        job = self.show_job(jid)
        self.assertGreater(int(job["Priority"]), 0)
        self.assertIn(job["Reason"], ("None",) + tuple(
            scontrol_form(r) for r in no_node_reasons("n[1-4]")))

    def test_submit_held_then_release(self):
        jid = self.cluster.sbatch("--hold")
        job = self.show_job(jid)
        self.assertEqual((job["Priority"], job["Reason"]), ("0", "JobHeldUser"))
        self.cl("scontrol", "release", jid)
        self.assertGreater(int(self.show_job(jid)["Priority"]), 0)

    def test_scancel_pending_job(self):
        jid = self.cluster.sbatch()
        rc, out, err = self.cl("scancel", jid)
        self.assertEqual((rc, out, err), (0, "", ""))
        _, out, _ = self.cl("squeue", "-j", jid)
        self.assertEqual(out, SQUEUE_HEADER + "\n")
        job = self.show_job(jid)
        self.assertEqual(job["JobState"], "CANCELLED")
        self.assertNoNodeReason(job["Reason"], scontrol=True)  # the last reason is kept
        _, out, _ = self.cl("squeue", "-h", "-t", "all", "-j", jid, "-o", "%i %T")
        self.assertEqual(out, "%s CANCELLED\n" % jid)

    def test_scancel_invalid_id_is_silent(self):
        rc, out, err = self.cl("scancel", "99999", check=False)
        self.assertEqual((rc, out, err), (0, "", ""))
        rc, out, err = self.cl("scancel", "-v", "99999", check=False)
        self.assertEqual(rc, 0)
        self.assertIn("scancel: error: Kill job error on job id 99999: Invalid job id "
                      "specified\n", err)

    def test_scancel_array_task(self):
        jid = self.cluster.sbatch("--array=1-5")
        rc, out, err = self.cl("scancel", "%s_2" % jid)
        self.assertEqual((rc, out, err), (0, "", ""))
        _, out, _ = self.cl("squeue", "-h", "-j", jid, "-o", "%i")
        self.assertEqual(out, "%s_[1,3-5]\n" % jid)
        # a cancelled task of a pending array leaves no job record at all
        _, out, _ = self.cl("squeue", "-h", "-r", "-t", "all", "-j", jid, "-o", "%i")
        self.assertEqual(out.split(), ["%s_%d" % (jid, i) for i in (1, 3, 4, 5)])
        rc, out, err = self.cl("scontrol", "show", "job", "%s_2" % jid, check=False)
        self.assertEqual((rc, out, err), (1, "Job %s_2 not found\n" % jid, ""))
        self.assertEqual(parse_show(self.cl("scontrol", "show", "job", jid)[1])[0]
                         ["ArrayTaskId"], "1,3-5")

    def test_scancel_signal_pending_job_is_retried(self):
        """A non-KILL signal to a pending job: the controller says 'try again later'."""
        jid = self.cluster.sbatch()
        p = subprocess.Popen(["scancel", "-v", "-s", "USR1", jid], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.cluster.env())
        try:
            out, err = p.communicate(timeout=3)
            self.fail("scancel -s USR1 of a pending job returned early: rc %s %s %s"
                      % (p.returncode, out, err))
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        self.assertIn("scancel: Signal 10 to job %s\n" % jid, err)
        # (22.05 fixed the "transistional" typo of older releases)
        self.assertIn("scancel: Job is in transitional state, retrying\n", err)
        self.assertEqual(self.show_job(jid)["JobState"], "PENDING")


class CancelFilterTest(ClusterTestCase):

    def test_scancel_filters(self):
        c = self.cluster
        a = c.sbatch("-J", "alpha")
        b = c.sbatch("-J", "beta")
        l1 = c.sbatch("-J", "gamma", "-p", "long")
        held = c.sbatch("-J", "delta", "--hold")
        d = c.sbatch("-J", "alpha")

        def pending():
            return sorted(self.squeue_ids("-t", "PD"), key=int)

        rc, out, err = self.cl("scancel", "-n", "alpha")
        self.assertEqual((rc, out, err), (0, "", ""))
        self.assertEqual(pending(), [b, l1, held])
        self.assertEqual(self.show_job(a)["JobState"], "CANCELLED")
        self.assertEqual(self.show_job(d)["JobState"], "CANCELLED")

        self.cl("scancel", "-p", "long")
        self.assertEqual(pending(), [b, held])

        self.cl("scancel", "-t", "PENDING", "-n", "beta")
        self.assertEqual(pending(), [held])

        e = c.sbatch("-J", "eps")
        self.cl("scancel", "-u", USER)
        self.assertEqual(pending(), [])
        for j in (held, e):
            self.assertEqual(self.show_job(j)["JobState"], "CANCELLED")

        # -t PENDING alone cancels every pending job
        f, g = c.sbatch(), c.sbatch()
        self.cl("scancel", "-t", "PENDING")
        self.assertEqual(pending(), [])
        self.assertEqual(self.show_job(g)["JobState"], "CANCELLED")
        self.assertEqual(self.show_job(f)["JobState"], "CANCELLED")


# ====================================================================== nodes / partitions
class NodePartitionTest(ClusterTestCase):

    def test_drain_and_resume_nodes(self):
        rc, out, err = self.cl("scontrol", "update", "NodeName=n[1-2]", "State=DRAIN",
                               "Reason=maint")
        self.assertEqual((rc, out, err), (0, "", ""))
        _, out, _ = self.cl("sinfo", "-h", "-p", "debug")
        lines = out.splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertRegex(lines[0], r"^debug\*       up   infinite      2 +drain\*? n\[1-2\]$")
        self.assertRegex(lines[1], r"^debug\*       up   infinite      2 +unk\*? n\[3-4\]$")
        _, out, _ = self.cl("sinfo", "-R")
        lines = out.splitlines()
        self.assertEqual(lines[0], SINFO_R_HEADER)
        self.assertEqual(len(lines), 2, out)
        self.assertRegex(lines[1], r"^maint +%s +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d n\[1-2\]$"
                         % re.escape(USER[:9]))
        node = parse_show(self.cl("scontrol", "show", "node", "n1")[1])[0]
        self.assertIn(node["State"], ("UNKNOWN+DRAIN", "UNKNOWN+DRAIN+NOT_RESPONDING"))
        _, out, _ = self.cl("scontrol", "show", "node", "n1")
        self.assertRegex(out, r"\n   Reason=maint \[%s@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\]\n"
                         % re.escape(USER))
        _, out, _ = self.cl("sinfo", "-h", "-N", "-o", "%N %T")
        states = dict(l.split() for l in out.splitlines())
        self.assertRegex(states["n1"], r"^drained\*?$")
        self.assertRegex(states["n3"], r"^unknown\*?$")

        # RESUME of UNKNOWN+DRAIN: the flag is cleared, but the update reports an error
        rc, out, err = self.cl("scontrol", "update", "NodeName=n[1-2]", "State=RESUME",
                               check=False)
        self.assertEqual((rc, out, err),
                         (1, "", "slurm_update error: Invalid node state specified\n"))
        _, out, _ = self.cl("sinfo", "-h", "-p", "debug", "-o", "%t %N")
        self.assertNotIn("drain", out)
        _, out, _ = self.cl("sinfo", "-h", "-N", "-o", "%N %t", "-n", "n1")
        self.assertEqual(out, "n1 unk*\n")

    def test_update_unknown_node(self):
        rc, out, err = self.cl("scontrol", "update", "NodeName=nosuch", "State=DRAIN",
                               "Reason=x", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(err, "slurm_update error: Invalid node name specified\n")

    def test_partition_states(self):
        def avail():
            _, out, _ = self.cl("sinfo", "-h", "-p", "long", "-o", "%a")
            return out.strip()
        for state, shown, show in (("DRAIN", "drain", "DRAIN"), ("DOWN", "down", "DOWN"),
                                   ("INACTIVE", "inactive", "INACTIVE"), ("UP", "up", "UP")):
            rc, out, err = self.cl("scontrol", "update", "PartitionName=long",
                                   "State=%s" % state)
            self.assertEqual((rc, out, err), (0, "", ""), state)
            self.assertEqual(avail(), shown)
            part = parse_show(self.cl("scontrol", "show", "partition", "long")[1])[0]
            self.assertEqual(part["State"], show)

    def test_submit_to_down_partition_is_accepted(self):
        self.cl("scontrol", "update", "PartitionName=long", "State=DOWN")
        try:
            jid = self.cluster.sbatch("-p", "long")
            job = self.show_job(jid)
            self.assertEqual(job["JobState"], "PENDING")
            # at submission the node reason, PartitionDown once the scheduler ran
            self.assertIn(job["Reason"], (scontrol_form(REASON_AT_SUBMIT % "n[3-4]"),
                                          "PartitionDown"))
            deadline = time.monotonic() + 75
            while job["Reason"] != "PartitionDown" and time.monotonic() < deadline:
                time.sleep(1)
                job = self.show_job(jid)
            self.assertEqual(job["Reason"], "PartitionDown")
        finally:
            self.cl("scontrol", "update", "PartitionName=long", "State=UP")

    def test_update_unknown_partition(self):
        rc, out, err = self.cl("scontrol", "update", "PartitionName=nosuch", "State=UP",
                               check=False)
        self.assertEqual(rc, 1)
        self.assertEqual(err, "slurm_update error: Invalid partition name specified\n")


# ====================================================================== durability
class DurabilityTest(ClusterTestCase):

    def test_jobs_survive_kill9(self):
        c = self.cluster
        ids = [int(c.sbatch("-J", "dur%d" % i)) for i in range(20)]
        self.assertEqual(len(set(ids)), 20)
        if harness.CONTROLLER == "slurm":
            # slurmctld writes job_state from its state-save thread, not before answering
            time.sleep(5)
        c.kill9()
        c.restart()
        _, out, _ = self.cl("squeue", "-h", "-o", "%i %j")
        mine = dict((int(i), n) for i, n in (l.split() for l in out.splitlines())
                    if n.startswith("dur"))
        self.assertEqual(sorted(mine), sorted(ids))
        self.assertEqual(sorted(mine.values()), sorted("dur%d" % i for i in range(20)))
        self.assertEqual(self.show_job(ids[7])["JobName"], "dur7")
        new = int(c.sbatch())
        self.assertGreater(new, max(ids))


    @unittest.skipIf(harness.CONTROLLER == "slurm",
                     "slurmctld saves state asynchronously: acknowledged jobs die with it")
    def test_kill9_during_concurrent_submits_loses_no_acknowledged_job(self):
        """Eight sbatch loops run while the controller is SIGKILLed: every job id any of them
        printed ("Submitted batch job N" came back) must exist after the restart."""
        c = self.cluster
        loops = []
        for k in range(8):
            script = ("for i in $(seq 1 40); do sbatch --parsable -J conc%d --hold --wrap true "
                      "2>/dev/null || true; done" % k)
            loops.append(subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE,
                                          text=True, env=c.env(), cwd=os.path.join(c.dir, "work")))
        # let submissions flow, then kill mid-stream
        deadline = time.time() + 20
        while time.time() < deadline:
            _, out, _ = self.cl("squeue", "-h", "-o", "%i", check=False)
            if len(out.split()) >= 60:
                break
            time.sleep(0.05)
        c.kill9()
        before_restart = time.time()
        c.restart()      # the loops keep going: sbatch retries its connection meanwhile
        acked = []
        for p in loops:
            out, _ = p.communicate(timeout=300)
            acked += [int(x.split(";")[0]) for x in out.split() if x.strip()]
        self.assertLess(before_restart, time.time())
        self.assertGreaterEqual(len(acked), 60, "too few submissions were acknowledged")
        self.assertEqual(len(acked), len(set(acked)), "a job id was handed out twice")
        _, out, _ = self.cl("squeue", "-h", "-o", "%i", "-t", "all")
        listed = set(int(x) for x in out.split())
        self.assertEqual(set(acked) - listed, set(), "acknowledged jobs lost by kill -9")
        new = int(c.sbatch())
        self.assertGreater(new, max(listed))


    @unittest.skipIf(harness.CONTROLLER == "slurm", "FLURM's storage error path")
    def test_full_disk_refuses_submissions_and_recovers(self):
        """A write the kernel refuses (RLIMIT_FSIZE on the controller: EFBIG, the same RocksDB
        error path as ENOSPC) fails that submission with SLURM's storage error; reads go on,
        and once writes succeed again nothing acknowledged is missing."""
        c = self.cluster
        before = int(c.sbatch("-J", "before"))
        pid = str(c.proc.pid)
        subprocess.run(["prlimit", "--pid", pid, "--fsize=1:unlimited"], check=True)
        try:
            rc, out, err = self.cl("sbatch", "--wrap", "true", check=False)
            self.assertEqual(rc, 1)
            self.assertIn("Batch job submission failed: I/O error writing script/environment to file",
                          err)
            self.assertIn(str(before), self.squeue_ids())          # reads still answered
        finally:
            subprocess.run(["prlimit", "--pid", pid, "--fsize=unlimited:unlimited"], check=True)
        after = int(c.sbatch("-J", "after"))
        self.assertGreater(after, before)
        c.kill9()
        c.restart()
        ids = self.squeue_ids()
        self.assertIn(str(before), ids)
        self.assertIn(str(after), ids)


# ====================================================================== robustness (raw frames)
REQUEST_PING = 1008
RESPONSE_SLURM_RC = 8001


@unittest.skipUnless(os.geteuid() == 0, "needs root to run clients as another user")
class PermissionTest(ClusterTestCase):
    """The munge uid decides: users act on their own jobs only; SlurmUser/root on everything."""

    def as_user(self, *argv, check=False):
        return self.cluster.run("runuser", "-u", OTHER_USER, "--", *argv, check=check, cwd="/tmp")

    def test_user_cannot_cancel_someone_elses_job(self):
        job = self.cluster.sbatch("--hold", "--wrap", "true")
        rc, out, err = self.as_user("scancel", "-v", job)
        self.assertIn("Access/permission denied", err)
        self.assertEqual(self.show_job(job)["JobState"], "PENDING")

    def test_user_cannot_drain_a_node(self):
        rc, out, err = self.as_user("scontrol", "update", "NodeName=n1", "State=DRAIN", "Reason=nope")
        self.assertEqual(rc, 1)
        self.assertIn("Invalid user id", err)
        self.assertNotIn("drain", self.cluster.run("sinfo", "-h", "-N", "-n", "n1", "-o", "%T")[1])

    def test_user_manages_own_job_but_not_its_priority(self):
        rc, out, err = self.as_user("sbatch", "--parsable", "--hold", "--wrap", "true")
        self.assertEqual(rc, 0, err)
        job = out.strip()
        self.assertEqual(self.show_job(job)["UserId"].split("(")[0], OTHER_USER)
        rc, out, err = self.as_user("squeue", "--me", "-h", "-o", "%i")
        self.assertEqual(out.split(), [job])
        # a held job reports its hold first (ESLURM_JOB_HELD) ...
        rc, out, err = self.as_user("scontrol", "update", "JobId=" + job, "Priority=100")
        self.assertNotEqual(rc, 0)
        self.assertIn("Job is in held state, pending scheduler release", err)
        # ... a released one says only an operator's priority sticks (ESLURM_PRIO_RESET_FAIL)
        rc, out, err = self.as_user("scontrol", "release", job)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.as_user("scontrol", "update", "JobId=" + job, "Priority=100")
        self.assertNotEqual(rc, 0)
        self.assertIn("Changes to job priority are not persistent, change nice instead", err)
        rc, out, err = self.as_user("scancel", job)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.show_job(job)["JobState"], "CANCELLED")


class RobustnessTest(ClusterTestCase):
    """Hand-made frames (protocol doc section 1); the controller must survive all of them."""

    def exchange(self, data, **kw):
        reply = self.cluster.raw_exchange(data, **kw)
        self.assertIsNotNone(reply, "controller neither answered nor closed the connection")
        return reply

    def assertErrorOrClosed(self, reply):
        if reply == b"":
            return
        parsed = parse_response(reply)
        self.assertIsNotNone(parsed, "reply is not a frame: %r" % reply[:64])
        msg_type, body = parsed
        self.assertEqual(msg_type, RESPONSE_SLURM_RC, reply[:64])
        (rc,) = harness.struct.unpack(">i", body[:4])
        self.assertNotEqual(rc, 0)

    def assertStillUp(self):
        self.assertTrue(self.cluster.ping_up(), "scontrol ping failed after the bad frame")

    def test_handmade_ping_with_valid_credential(self):
        """Positive control for the frame builder: a valid REQUEST_PING gets rc 0."""
        reply = self.exchange(build_frame(REQUEST_PING, cred=self.cluster.munge_cred()))
        parsed = parse_response(reply)
        self.assertIsNotNone(parsed, reply[:64])
        self.assertEqual(parsed, (RESPONSE_SLURM_RC, b"\0\0\0\0"))

    def test_replayed_credential_is_rejected(self):
        """The same frame twice: munged reports the second decode as a replay."""
        frame = build_frame(REQUEST_PING, cred=self.cluster.munge_cred())
        self.assertEqual(parse_response(self.exchange(frame)), (RESPONSE_SLURM_RC, b"\0\0\0\0"))
        second = self.exchange(frame)
        if harness.CONTROLLER == "slurm":
            # Real slurmctld 22.05.8 answers a replayed credential like a fresh one; FLURM
            # rejects it, as its issue requires (real clients always send fresh credentials).
            self.assertEqual(parse_response(second), (RESPONSE_SLURM_RC, b"\0\0\0\0"))
        else:
            self.assertErrorOrClosed(second)
        self.assertStillUp()

    def test_body_hash_mismatch_is_rejected(self):
        """A 22.05 K12 payload (0x02 + 32 bytes) that is not the digest of this body."""
        cred = self.cluster.munge_cred(payload=b"\x02" + b"\x11" * 32)
        self.assertErrorOrClosed(self.exchange(build_frame(REQUEST_PING, cred=cred)))
        self.assertStillUp()

    def test_garbage_bytes(self):
        self.assertErrorOrClosed(self.exchange(b"\x00\x00\x00\x10" + b"\xde\xad\xbe\xef" * 4))
        self.assertStillUp()
        self.assertErrorOrClosed(self.exchange(b"GET / HTTP/1.0\r\n\r\n", close_write=True))
        self.assertStillUp()

    def test_huge_length_prefix(self):
        self.assertErrorOrClosed(self.exchange(b"\xff\xff\xff\xf0" + b"\0" * 64))
        self.assertStillUp()

    def test_truncated_frame_then_close(self):
        frame = build_frame(REQUEST_PING, cred=self.cluster.munge_cred())
        self.assertErrorOrClosed(self.exchange(frame[:len(frame) // 2], close_write=True))
        self.assertStillUp()

    def test_bad_munge_credential(self):
        self.assertErrorOrClosed(self.exchange(build_frame(REQUEST_PING,
                                                           cred="MUNGE:garbage:")))
        self.assertStillUp()

    def test_unknown_auth_plugin(self):
        frame = build_frame(REQUEST_PING, cred=self.cluster.munge_cred(), plugin_id=4242)
        self.assertErrorOrClosed(self.exchange(frame))
        self.assertStillUp()

    def test_bad_protocol_version(self):
        frame = build_frame(REQUEST_PING, cred=self.cluster.munge_cred(), version=0x1234)
        self.assertErrorOrClosed(self.exchange(frame))
        self.assertStillUp()

    def test_unknown_message_type_with_valid_credential(self):
        frame = build_frame(65000, body=b"\0\0\0\0", cred=self.cluster.munge_cred())
        self.assertErrorOrClosed(self.exchange(frame))
        self.assertStillUp()

    def test_body_length_beyond_frame(self):
        cred = self.cluster.munge_cred()
        frame = bytearray(build_frame(REQUEST_PING, cred=cred))
        frame[10:14] = harness.struct.pack(">I", 1000)  # header body_length
        self.assertErrorOrClosed(self.exchange(bytes(frame)))
        self.assertStillUp()

    def test_many_idle_connections_do_not_block(self):
        import socket
        socks = [socket.create_connection(("127.0.0.1", self.cluster.port), timeout=5)
                 for _ in range(20)]
        try:
            self.assertStillUp()
        finally:
            for s in socks:
                s.close()
        self.assertStillUp()


if __name__ == "__main__":
    unittest.main()
