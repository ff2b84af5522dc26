#!/usr/bin/env python3
"""flurmctld as a 3- or 5-member Raft cluster, driven by the real SLURM 22.05 clients.

Every test starts its own cluster (harness.HACluster): SlurmctldHost=c1(127.0.0.1),
c2(127.0.0.2), c3(127.0.0.3) [, c4, c5], one SlurmctldPort, SlurmctldParameters=
flurm_node_port=N,flurm_peer_port=M, members started as `flurmctld -D -f slurm.conf -n cK`.
The leader is read from the members' logs ("raft: leading term T" / "raft: following NAME
(term T)" / "raft: no longer leading": the last such line of each living process).

The clients try c1, then c2, ... (a refused connection moves on at once); any member serves
them (followers forward to the leader). Where a test needs one member only it runs the client
with a conf that names that member alone (HACluster.run_via).

What is checked:
* one leader, `scontrol ping` UP for every member, sbatch through each member, and through the
  default conf with c1 dead (the client reaches c2);
* SIGKILL of the leader while 4 shells submit: every "Submitted batch job N" exists afterwards,
  exactly once (each submission has its own job name), no id handed out twice, no job that no
  one submitted, and submissions started after the kill are acknowledged;
* a job running on flurmnd through the failover ends with its own exit status (3 -> FAILED,
  ExitCode=3:0) and ran once;
* the killed leader restarts, follows, replicates (a commit that needs it succeeds) and, once it
  is the only member with the newest entries, is the one elected, with every job; a follower
  killed and restarted rejoins the same way;
* 5 members survive two leader kills;
* `scontrol takeover INDEX` moves leadership to that member;
* `flurm cluster status` (every member's view over the admin port) lists the three members, one
  leader (the logs' one), in sync after a submit; `flurm cluster transfer c3` makes c3 the leader
  and the cluster serves; members down show as such (no majority: exit 1); a user other than
  root or SlurmUser is refused;
* membership (`flurm cluster remove|add`): a follower removed shows "removed", two voters commit,
  removing it again is refused; killed, its state deleted and restarted, it is added back (a
  wrong HOST is refused), caught up as a learner, promoted to voter, and leads with every job
  (including those submitted while it was out); the leader removed hands over to another
  member, which serves; the last voter cannot be removed.

Which member wins an election is never assumed, except where Raft's election restriction
decides it: when only one living member holds the newest committed entries, only it can win.
Flurm only: skipped under FLURM_TEST_CONTROLLER=slurm (slurmctld 22.05 has a primary and
backups taking over after SlurmctldTimeout, not a consensus cluster).
"""
import os
import pwd
import re
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HACluster, Submitters, parse_kv  # noqa: E402

SKIP_REASON = ("several flurmctld as one Raft cluster: FLURM only (the real slurmctld 22.05 has "
               "primary/backup controllers, not consensus)")


class HACase(unittest.TestCase):
    MEMBERS = 3

    def setUp(self):
        if harness.CONTROLLER != "flurm":
            self.skipTest(SKIP_REASON)
        self.c = HACluster(controllers=self.MEMBERS)
        self.c.start()

    def run(self, result=None):
        # the cluster is stopped once the outcome is known: a failed test keeps its temp dir
        count = lambda: (len(result.failures), len(result.errors)) if result is not None else None
        before = count()
        try:
            return super().run(result)
        finally:
            c, self.c = getattr(self, "c", None), None
            if c is not None:
                if count() != before:
                    c.failed = True
                try:
                    c.stop()
                except Exception:
                    if result is None:
                        raise
                    result.addError(self, sys.exc_info())

    # helpers
    def submit(self, name, via=None, extra=()):
        """A held job named NAME (pending forever); its id. VIA: the one member to talk to."""
        argv = ["sbatch", "--parsable", "--hold", "-J", name, "-o", "/dev/null"] + list(extra) + \
               ["--wrap", "true"]
        if via:
            _, out, _ = self.c.run_via(via, *argv)
        else:
            _, out, _ = self.c.run(*argv)
        jid = out.strip().split(";")[0]
        self.assertRegex(jid, r"^\d+$", out)
        return jid

    def job(self, jid, via=None):
        argv = ("scontrol", "show", "job", str(jid))
        rc, out, _ = (self.c.run_via(via, *argv, check=False) if via
                      else self.c.run(*argv, check=False))
        return parse_kv(out) if rc == 0 else {}

    def assert_jobs_present(self, want):
        """WANT: {job id: job name}; each listed once with its name."""
        jobs = self.c.jobs()
        for jid, name in want.items():
            self.assertEqual(jobs.get(jid), name, "job %s (%s) missing or renamed; squeue: %s"
                             % (jid, name, jobs))
        names = list(jobs.values())
        for name in want.values():
            self.assertEqual(names.count(name), 1, "job name %s listed %d times"
                             % (name, names.count(name)))
        return jobs


class ThreeMembersTest(HACase):

    def test_one_leader_all_up_submit_through_each_member(self):
        lead = self.c.settled()
        self.assertIn(lead, self.c.members)
        self.assertEqual(self.c.ping(), {m: "UP" for m in self.c.members})
        for m in self.c.members:
            if m != lead:
                self.assertEqual(self.c.raft_state(m)[0], "following")
        ids = {}
        for m in self.c.members:
            ids[self.submit("via-" + m, via=m)] = "via-" + m
        self.assertEqual(len(ids), 3, "a job id was handed out twice: %s" % ids)
        self.assert_jobs_present(ids)
        # a read through each member (followers forward) sees the same job
        jid = sorted(ids, key=int)[0]
        for m in self.c.members:
            rec = self.job(jid, via=m)
            self.assertEqual((rec.get("JobId"), rec.get("JobName"), rec.get("JobState")),
                             (jid, ids[jid], "PENDING"), "as seen through %s" % m)

    def test_c1_dead_clients_reach_c2(self):
        self.c.settled()
        before = {self.submit("before"): "before"}
        self.c.kill9_controller("c1")
        lead = self.c.settled(exclude=("c1",))
        self.assertNotEqual(lead, "c1")
        self.assertEqual(self.c.ping(), {"c1": "DOWN", "c2": "UP", "c3": "UP"})
        # default conf: c1 refuses, the client moves on to c2 (leader or follower)
        rc, out, err = self.c.run("sbatch", "--hold", "-J", "after", "-o", "/dev/null",
                                  "--wrap", "true", check=False)
        self.assertEqual(rc, 0, err)
        m = re.match(r"Submitted batch job (\d+)$", out.strip())
        self.assertTrue(m, out)
        self.assertNotIn(m.group(1), before)
        before[m.group(1)] = "after"
        self.assert_jobs_present(before)
        _, q, _ = self.c.run("squeue", "-h", "-j", m.group(1), "-o", "%i %j %T")
        self.assertEqual(q.split(), [m.group(1), "after", "PENDING"])

    def test_leader_killed_during_concurrent_submits(self):
        old = self.c.settled()
        subs = Submitters(self.c, workers=4, tag="s").start()
        try:
            t_start = time.monotonic()
            # ~1 s of submissions (at least one acknowledged) before the kill
            while time.monotonic() - t_start < 1.0 or not subs.acked():
                if time.monotonic() - t_start > 30:
                    self.fail("no submission acknowledged in 30 s: %s" % subs.records[-4:])
                time.sleep(0.05)
            t_kill = self.c.kill9_controller(old)
            # keep submitting until the survivors acknowledged submissions started after the
            # kill (or give up after 40 s)
            while True:
                after = [r for r in list(subs.records) if r[1] > t_kill and r[3] == 0]
                if len(after) >= 8 and time.monotonic() - t_kill > 2.0:
                    break
                if time.monotonic() - t_kill > 40:
                    break
                time.sleep(0.05)
        finally:
            subs.stop()
        new = self.c.settled()
        self.assertNotEqual(new, old)
        records = list(subs.records)
        for name, _, _, rc, out, err in records:
            if rc == 0:
                self.assertRegex(out, r"Submitted batch job \d+", "%s: rc 0 but %r %r" % (name, out, err))
        acked = subs.acked()
        after = [r for r in records if r[1] > t_kill and r[3] == 0]
        self.assertTrue(after, "no submission started after the kill was acknowledged: %s"
                        % [(r[0], r[3], r[5].strip()) for r in records if r[1] > t_kill][:8])
        self.assertTrue([r for r in records if r[2] < t_kill and r[3] == 0],
                        "no submission acknowledged before the kill")
        ids = list(acked.values())
        self.assertEqual(len(ids), len(set(ids)), "a job id was acknowledged twice: %s" % acked)
        jobs = self.assert_jobs_present({jid: name for name, jid in acked.items()})
        tried = {r[0] for r in records}
        phantom = {j: n for j, n in jobs.items() if n not in tried}
        self.assertEqual(phantom, {}, "jobs no one submitted")
        sys.stderr.write("\n[ha] %d submissions, %d acknowledged (%d started after the kill of %s), "
                         "%d jobs listed; new leader %s\n"
                         % (len(records), len(acked), len(after), old, len(jobs), new))

    def test_running_job_survives_failover_with_its_exit_status(self):
        self.c.start_node("n1")
        self.c.wait_for("n1 idle", lambda: self.c.run("sinfo", "-h", "-N", "-n", "n1", "-o", "%t",
                                                      check=False)[1].strip() == "idle", timeout=30)
        runs = os.path.join(self.c.dir, "work", "runs.txt")
        _, out, _ = self.c.run("sbatch", "--parsable", "-w", "n1", "-o", "/dev/null",
                               "--wrap", "echo started >> %s; sleep 4; exit 3" % runs)
        jid = out.strip().split(";")[0]
        self.c.wait_for("job %s RUNNING" % jid,
                        lambda: self.job(jid).get("JobState") == "RUNNING", timeout=30)
        self.c.wait_for("the job's first line", lambda: os.path.exists(runs), timeout=10)
        old = self.c.settled()
        self.c.kill9_controller(old)
        self.assertNotEqual(self.c.settled(), old)
        terminal = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL",
                    "OUT_OF_MEMORY", "DEADLINE", "PREEMPTED")
        rec = self.c.wait_for("job %s ended" % jid,
                              lambda: (lambda r: r if r.get("JobState") in terminal else None)(
                                  self.job(jid)), timeout=60)
        self.assertEqual((rec["JobState"], rec["ExitCode"], rec["NodeList"]), ("FAILED", "3:0", "n1"))
        with open(runs) as f:
            self.assertEqual(f.read(), "started\n", "the job ran more than once")

    def test_forward_to_a_hung_leader_goes_to_the_next(self):
        """The leader hangs (SIGSTOP) with its connections open, so a follower's forward gets no
        answer. As soon as the others elect a new leader the follower sends it there (not only
        once the link to the hung one is declared dead), and sbatch through that follower
        succeeds. The job exists once after the old leader resumes."""
        c = self.c
        lead = c.settled()
        via = [m for m in c.members if m != lead][0]
        os.killpg(c.procs[lead].pid, signal.SIGSTOP)
        try:
            jid = self.submit("hung-leader", via=via)
        finally:
            os.killpg(c.procs[lead].pid, signal.SIGCONT)
        self.assertNotEqual(c.settled(), None)
        self.assert_jobs_present({jid: "hung-leader"})
        with open(c.stdout_of(via)) as f:
            self.assertIn("forwarded request(s) routed again", f.read())

    def test_launch_lost_with_its_leader_is_sent_by_the_next(self):
        """The leader committed a job's start and died before its launch left: the next leader
        sends it when the node registers (the node neither runs it nor reported its end). The
        job runs once, with its exit status."""
        c = self.c
        c.settled()
        c.terminate_controller("c2")
        c.start_controller("c2", extra_env={"FLURMCTLD_FAULT": "drop-launches"})
        c.settled()
        rc, out, err = c.takeover("c2")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(c.settled(exclude=("c1", "c3")), "c2")
        c.start_node("n1")
        c.wait_for("n1 idle", lambda: c.run("sinfo", "-h", "-N", "-n", "n1", "-o", "%t",
                                            check=False)[1].strip() == "idle", timeout=30)
        runs = os.path.join(c.dir, "work", "runs-lost.txt")
        _, out, _ = c.run("sbatch", "--parsable", "-w", "n1", "-o", "/dev/null",
                          "--wrap", "echo started >> %s; exit 3" % runs)
        jid = out.strip().split(";")[0]

        def dropped():
            with open(c.stdout_of("c2")) as f:
                return "the launch of job %s dropped" % jid in f.read()
        c.wait_for("c2 dropping job %s's launch" % jid, dropped, timeout=30)
        self.assertFalse(os.path.exists(runs))
        c.kill9_controller("c2")
        lead = c.settled(exclude=("c2",))
        rec = c.wait_for("job %s ended" % jid,
                         lambda: (lambda r: r if r.get("JobState") in ("COMPLETED", "FAILED") else None)(
                             self.job(jid)), timeout=60)
        self.assertEqual((rec["JobState"], rec["ExitCode"], rec["NodeList"]), ("FAILED", "3:0", "n1"))
        with open(runs) as f:
            self.assertEqual(f.read(), "started\n", "the job ran more than once")
        with open(c.stdout_of(lead)) as f:
            self.assertIn("does not know job %s: sending its launch again" % jid, f.read())

    def test_old_leader_restarts_catches_up_and_leads_with_every_job(self):
        c = self.c
        want = {}
        a = c.settled()
        for i in range(3):
            want[self.submit("j1-%d" % i)] = "j1-%d" % i
        c.kill9_controller(a)
        b = c.settled()
        for i in range(3):
            want[self.submit("j2-%d" % i)] = "j2-%d" % i
        # the old leader comes back as a follower
        c.start_controller(a)
        m = c.wait_log(a, r"raft: following (\S+) \(term (\d+)\)")
        self.assertNotEqual(m.group(1), a)
        lead = c.settled()
        # y: the leader unless a leads again (legal: a rejoin may start an election a can win
        # once it caught up); z: the third member, a follower
        y = lead if lead != a else b
        z = [x for x in c.members if x not in (a, y)][0]
        # with z dead a commit needs a's acknowledgement: a replicates
        c.kill9_controller(z)
        for i in range(3):
            want[self.submit("j3-%d" % i)] = "j3-%d" % i
        # y dies, z restarts without j3: only a holds every committed entry, so only a can win
        c.kill9_controller(y)
        c.start_controller(z)
        self.assertEqual(c.settled(), a)
        self.assert_jobs_present(want)
        # the restarted follower z rejoins: with y dead a commit needs z
        self.assertEqual(c.raft_state(z)[0::2], ("following", a))
        for i in range(3):
            want[self.submit("j4-%d" % i)] = "j4-%d" % i
        # y restarts without j4; a dies: only z holds every committed entry
        c.start_controller(y)
        c.kill9_controller(a)
        self.assertEqual(c.settled(), z)
        self.assert_jobs_present(want)
        self.assertEqual(c.ping(), {a: "DOWN", y: "UP", z: "UP"})
        # and the next id is past every one handed out
        nxt = self.submit("next")
        self.assertGreater(int(nxt), max(int(j) for j in want))

    def test_scontrol_takeover_moves_leadership(self):
        lead = self.c.settled()
        target = "c3" if lead == "c2" else "c2"
        rc, out, err = self.c.takeover(target)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.c.settled(exclude=(lead,)), target)
        self.assertEqual(sorted(self.c.live()), self.c.members)
        jid = self.submit("after-takeover")
        self.assert_jobs_present({jid: "after-takeover"})

    def test_forward_lost_with_its_leader_is_answered_once_by_the_next(self):
        """A follower forwarded sbatch to a leader that applied it and died before answering: the
        follower sends it to the next leader, which finds its request id in the log and answers
        with the job the first leader made. Exactly one job, the id sbatch printed."""
        self.c.settled()
        self.c.terminate_controller("c2")
        self.c.start_controller("c2", extra_env={"FLURMCTLD_FAULT": "drop-forward-replies"})
        self.c.settled()
        rc, out, err = self.c.takeover("c2")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.c.settled(exclude=("c1", "c3")), "c2")
        conf = os.path.join(self.c.dir, "client-c3.conf")
        p = subprocess.Popen(["sbatch", "--parsable", "--hold", "-J", "lost-reply", "-o", "/dev/null",
                              "--wrap", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.c.env(conf), cwd=os.path.join(self.c.dir, "work"))
        log = self.c.stdout_of("c2")
        deadline = time.monotonic() + 10
        def dropped():
            with open(log) as f:
                return "the reply to a forwarded" in f.read()
        while not dropped():
            if p.poll() is not None:
                self.fail("sbatch ended before the fault: %s" % (p.communicate(),))
            self.assertLess(time.monotonic(), deadline, "c2 never dropped a reply")
            time.sleep(0.02)
        self.c.kill9_controller("c2")
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, out + err)
        jid = out.strip().split(";")[0]
        self.assertRegex(jid, r"^\d+$", out + err)
        lead = self.c.settled(exclude=("c2",))
        self.assert_jobs_present({jid: "lost-reply"})
        with open(self.c.stdout_of(lead)) as f:
            self.assertIn("was applied before", f.read())

    def test_reconfigure_reaches_every_member(self):
        """scontrol reconfigure goes through the log: every member switches to the new slurm.conf
        at the same index, so a member that leads later serves the new configuration."""
        lead = self.c.settled()
        with open(self.c.conf, "a") as f:
            f.write("PartitionName=extra Nodes=n1 MaxTime=10 State=UP\n")
        rc, out, err = self.c.run("scontrol", "reconfigure", check=False)
        self.assertEqual(rc, 0, out + err)
        def reread(m):
            with open(self.c.stdout_of(m)) as f:
                return "reconfigured from" in f.read()
        for m in self.c.members:
            self.c.wait_for("%s to re-read slurm.conf" % m, lambda m=m: reread(m), timeout=10)
        # scontrol takeover cannot address the first SlurmctldHost
        target = [m for m in self.c.members if m not in (lead, self.c.members[0])][0]
        rc, out, err = self.c.takeover(target)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.c.settled(exclude=(lead,)), target)
        _, out, _ = self.c.run("sinfo", "-h", "-o", "%P")
        self.assertIn("extra", out.split())
        jid = self.submit("extra-part", extra=("-p", "extra"))
        self.assert_jobs_present({jid: "extra-part"})

    def test_scontrol_shutdown_stops_every_member(self):
        """As SLURM's primary stops its backups: sent to any member (here a follower, which
        forwards it), every controller exits cleanly; none is left to elect itself."""
        lead = self.c.settled()
        follower = [m for m in self.c.members if m != lead][0]
        rc, out, err = self.c.run_via(follower, "scontrol", "shutdown", check=False)
        self.assertEqual(rc, 0, out + err)
        self.c.wait_for("every member to exit",
                        lambda: all(p.poll() is not None for p in self.c.procs.values()), timeout=15)
        self.assertEqual({m: p.returncode for m, p in self.c.procs.items()}, {m: 0 for m in self.c.members})


FLURM = os.environ.get("FLURM")
ALICE = "flurmtest_alice"
STATUS_HEADER = re.compile(r"^cluster (\S+): leader (\S+), term (\d+)$")


class AdminCase(HACase):
    """Runs the flurm tool (`flurm cluster ...`) over the admin port (proto/admin.proto)."""

    def setUp(self):
        if not FLURM:
            self.skipTest("FLURM (the flurm tool) not set")
        super().setUp()

    def flurm(self, *argv, user=None, timeout=30):
        """$FLURM ARGV with the cluster's conf (as USER via runuser); (rc, stdout, stderr)."""
        cmd = [FLURM] + list(argv)
        if user:
            cmd = ["runuser", "-u", user, "--"] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.c.env(), timeout=timeout,
                           cwd=os.path.join(self.c.dir, "work"))
        return p.returncode, p.stdout, p.stderr

    def status(self, expect_rc=0):
        """`flurm cluster status`: (leader, term, {name: row}); row = {column: value}."""
        rc, out, err = self.flurm("cluster", "status")
        self.assertEqual(rc, expect_rc, out + err)
        lines = out.splitlines()
        m = STATUS_HEADER.match(lines[0]) if lines else None
        leader, term = (m.group(2), int(m.group(3))) if m else (None, None)
        if m:
            self.assertEqual(m.group(1), self.c.name, lines[0])
        cols = lines[1].split()
        self.assertEqual(cols, ["NAME", "ADDR", "ROLE", "TERM", "COMMIT", "APPLIED", "LAST", "MATCH",
                                "LAST_CONTACT"], out)
        rows = {}
        for line in lines[2:]:
            f = line.split()
            self.assertEqual(len(f), len(cols), line)
            rows[f[0]] = dict(zip(cols, f))
        return leader, term, rows

    def wait_in_sync(self, timeout=10):
        """Until every member's COMMIT and APPLIED (and the leader's MATCH of it) equal the
        leader's LAST; the last status."""
        deadline = time.monotonic() + timeout
        while True:
            leader, term, rows = self.status()
            last = rows[leader]["LAST"]
            if all(r["COMMIT"] == last and r["APPLIED"] == last and r["MATCH"] == last
                   for r in rows.values()):
                return leader, term, rows
            if time.monotonic() >= deadline:
                self.fail("members not in sync after %ss: %s" % (timeout, rows))
            time.sleep(0.2)



class AdminTest(AdminCase):
    """`flurm cluster status|transfer` over the admin port (proto/admin.proto)."""

    def test_status_and_transfer(self):
        lead = self.c.settled()
        jid = self.submit("admin-before")
        leader, term, rows = self.wait_in_sync()
        self.assertEqual(leader, lead)
        self.assertEqual(sorted(rows), self.c.members)
        self.assertEqual([m for m, r in rows.items() if r["ROLE"] == "leader"], [lead])
        for m, r in rows.items():
            self.assertEqual(r["ADDR"], self.c.addrs[m])
            self.assertEqual(int(r["TERM"]), term)
            if m != lead:
                self.assertEqual(r["ROLE"], "follower")
                self.assertRegex(r["LAST_CONTACT"], r"^\d+\.\d\ds$")   # heard from lately
        self.assertGreaterEqual(int(rows[lead]["COMMIT"]), 2)   # at least the submit and the leader's entry

        # hand over to c3 (from c3 to c1 should c3 lead already)
        target = "c3" if lead != "c3" else "c1"
        rc, out, err = self.flurm("cluster", "transfer", target)
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out.strip(), r"^leadership moved from %s to %s \(term \d+\)$" % (lead, target),
                         out + err)
        self.assertEqual(self.c.settled(exclude=(lead,)), target)
        jid2 = self.submit("admin-after")
        self.assert_jobs_present({jid: "admin-before", jid2: "admin-after"})
        leader, term2, rows = self.wait_in_sync()
        self.assertEqual(leader, target)
        self.assertGreater(term2, term)
        self.assertEqual(rows[lead]["ROLE"], "follower")

        # the leader already; no such member; membership changes name SlurmctldHost lines only
        rc, out, err = self.flurm("cluster", "transfer", target)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("%s is already the leader" % target, out)
        rc, out, err = self.flurm("cluster", "transfer", "c9")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("c9 is no SlurmctldHost", err)
        for argv in (("add", "c4", "127.0.0.4"), ("remove", "c4")):
            rc, out, err = self.flurm("cluster", *argv)
            self.assertEqual(rc, 1, out + err)
            self.assertIn("c4 is no SlurmctldHost", err)
            self.assertIn("restart them one at a time", err)
        rc, out, err = self.flurm("cluster", "add", "c4")   # no HOST
        self.assertEqual(rc, 2, out + err)

        # a member down shows as such; a majority still answers
        down = [m for m in self.c.members if m != target][0]
        self.c.kill9_controller(down)
        leader, _, rows = self.status()
        self.assertEqual(leader, target)
        self.assertEqual(rows[down]["ROLE"], "down")
        self.assertEqual(rows[down]["TERM"], "-")
        # two down: no majority answers
        other = [m for m in self.c.members if m not in (target, down)][0]
        self.c.kill9_controller(other)
        rc, out, err = self.flurm("cluster", "status")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no majority", err)

    def test_non_admin_refused(self):
        if os.getuid() != 0:
            self.skipTest("needs root (to run the tool as another user than SlurmUser)")
        try:
            pwd.getpwnam(ALICE)
        except KeyError:
            self.skipTest("user %s does not exist (test_security.py creates it)" % ALICE)
        self.c.settled()
        rc, out, err = self.flurm("cluster", "status", user=ALICE)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("root or SlurmUser only", err)
        self.assertEqual(out, "")
        rc, out, err = self.flurm("cluster", "transfer", "c3", user=ALICE)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("root or SlurmUser only", err)
        # each member logged the refusal (once per address), and nothing was transferred
        for m in self.c.members:
            self.c.wait_log(m, r"admin channel: dropped unauthorized from", timeout=5)
        lead, _, rows = self.status()
        self.assertEqual(lead, self.c.current_leader())


class MembershipTest(AdminCase):
    """`flurm cluster remove|add` (single-server changes: a learner promoted once caught up)."""

    def config_line(self, name, pattern):
        """Waits for NAME's log to say "raft: configuration now voters ..." matching PATTERN."""
        return self.c.wait_log(name, r"raft: configuration now voters " + pattern, timeout=10)

    def test_remove_follower_then_add_it_back_empty(self):
        c = self.c
        lead = c.settled()
        f, other = [m for m in c.members if m != lead]
        want = {self.submit("m-before"): "m-before"}
        rc, out, err = self.flurm("cluster", "remove", f)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("%s is no longer a member (leader %s" % (f, lead), out)
        c.non_members.add(f)
        voters = ",".join(sorted((lead, other)))
        self.config_line(lead, re.escape(voters) + r" \(")
        leader, _, rows = self.status()
        self.assertEqual(leader, lead)
        self.assertEqual(rows[f]["ROLE"], "removed")
        self.assertEqual(rows[other]["ROLE"], "follower")
        # two voters commit
        jid = self.submit("m-two-voters", via=lead)
        want[jid] = "m-two-voters"
        # not a member any more; the last voter cannot go
        rc, out, err = self.flurm("cluster", "remove", f)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("not a member", err)

        # f dies, loses its disk and comes back empty: still a non-member until added
        c.kill9_controller(f)
        self.assertTrue(os.path.exists(c.state_db(f)), c.state_db(f))
        c.wipe_state(f)
        c.start_controller(f)
        c.wait_log(f, r"listening for admin tools")
        want[self.submit("m-meanwhile", via=lead)] = "m-meanwhile"
        rc, out, err = self.flurm("cluster", "add", f, "127.0.0.99")   # not its address
        self.assertEqual(rc, 1, out + err)
        self.assertIn("slurm.conf on every controller", err)
        rc, out, err = self.flurm("cluster", "add", f, c.addrs[f])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("%s is a voter" % f, out)
        c.wait_log(lead, r"raft: %s caught up: promoting to voter" % f, timeout=5)
        self.config_line(lead, re.escape(",".join(c.members)) + r" \(")
        c.non_members.discard(f)
        rc, out, err = self.flurm("cluster", "add", f, c.addrs[f])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("already a member", err)
        self.assertEqual(c.settled(), lead)
        leader, _, rows = self.status()
        self.assertEqual(rows[f]["ROLE"], "follower")
        # it holds everything: it leads with every job
        rc, out, err = self.flurm("cluster", "transfer", f)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(c.settled(exclude=(lead,)), f)
        self.assert_jobs_present(want)
        want[self.submit("m-after", via=f)] = "m-after"
        self.assert_jobs_present(want)

    def test_remove_the_leader(self):
        c = self.c
        lead = c.settled()
        want = {self.submit("l-before"): "l-before"}
        rc, out, err = self.flurm("cluster", "remove", lead)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("%s is no longer a member" % lead, out)
        c.non_members.add(lead)
        new = c.settled(exclude=(lead,))
        self.assertNotEqual(new, lead)
        leader, _, rows = self.status()
        self.assertEqual(leader, new)
        self.assertEqual(rows[lead]["ROLE"], "removed")
        want[self.submit("l-after", via=new)] = "l-after"
        _, out, _ = c.run_via(new, "squeue", "-h", "-a", "-t", "all", "-o", "%i %j")
        for jid, name in want.items():
            self.assertIn("%s %s" % (jid, name), out)
        # down to one voter, which cannot be removed
        third = [m for m in c.members if m not in (lead, new)][0]
        rc, out, err = self.flurm("cluster", "remove", third)
        self.assertEqual(rc, 0, out + err)
        c.non_members.add(third)
        rc, out, err = self.flurm("cluster", "remove", new)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("last voter", err)
        jid = self.submit("l-alone", via=new)
        _, out, _ = c.run_via(new, "squeue", "-h", "-a", "-t", "all", "-o", "%i %j")
        self.assertIn("%s l-alone" % jid, out)


class FiveMembersTest(HACase):
    MEMBERS = 5

    def test_survives_two_leader_kills(self):
        c = self.c
        self.assertEqual(c.ping(), {m: "UP" for m in c.members})
        want = {}
        killed = []
        for rnd in range(3):
            lead = c.settled()
            self.assertNotIn(lead, killed)
            for i in range(3):
                want[self.submit("r%d-%d" % (rnd, i))] = "r%d-%d" % (rnd, i)
            self.assert_jobs_present(want)
            if rnd < 2:
                c.kill9_controller(lead)
                killed.append(lead)
        self.assertEqual(c.ping(), {m: ("DOWN" if m in killed else "UP") for m in c.members})
        self.assertEqual(len(set(want)), 9)


if __name__ == "__main__":
    unittest.main()
