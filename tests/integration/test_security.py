#!/usr/bin/env python3
"""The node channel against the attacks of the security issue, with flurmctld, two flurmnd and
the real SLURM clients.

An unprivileged local user (flurmtest_bob, created here when run as root) runs node_attack.c:
the plain protobuf program of the issue, then the same with a proper handshake on his own munge
credential, then a fake controller on the node port while flurmctld is down. Root (a trusted
identity) checks what authentication alone must still catch: a channel speaking for another
node, a replayed frame, a tampered frame, garbage. The victim is flurmtest_alice's running job:
it must stay RUNNING on its real node and end with its true exit status.

FLURM's own channel: skipped under FLURM_TEST_CONTROLLER=slurm. Needs root for the users.
"""
import os
import pwd
import re
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster  # noqa: E402

ATTACK = os.environ.get("NODE_ATTACK", "")
FAKE_CTLD = os.environ.get("FAKE_CTLD", "")
ALICE, BOB = "flurmtest_alice", "flurmtest_bob"


def ensure_user(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        return pwd.getpwnam(name).pw_uid


def kv(text):
    return dict(t.split("=", 1) for t in text.split() if "=" in t)


class NodeChannelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if harness.CONTROLLER != "flurm":
            raise unittest.SkipTest("FLURM's own node channel")
        if os.geteuid() != 0:
            raise unittest.SkipTest("creates unprivileged users and runs as them: needs root")
        if not (ATTACK and os.access(ATTACK, os.X_OK)):
            raise RuntimeError("NODE_ATTACK (path of the built node_attack) is not set")
        ensure_user(ALICE)
        ensure_user(BOB)
        # "far" is configured at an address this host does not have (n3 runs no daemon): nothing here may speak for it
        cls.cluster = Cluster(nodes=3, extra_conf=("KillWait=2",
                                                   "NodeName=far NodeAddr=192.0.2.1 CPUs=1 State=UNKNOWN"))
        cls.cluster.start()
        try:
            os.chmod(os.path.join(cls.cluster.dir, "work"), 0o1777)
            for n in ("n1", "n2"):
                cls.cluster.start_node(n)
            cls.cluster.wait_for("n1 and n2 idle", lambda: cls.idle() >= 2, timeout=30)
        except Exception:
            cls.cluster.failed = True
            cls.cluster.stop()
            raise
        cls.url = "tcp://127.0.0.1:%d" % cls.cluster.node_port

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    @classmethod
    def idle(cls):
        _, out, _ = cls.cluster.run("sinfo", "-h", "-N", "-n", "n[1-2]", "-o", "%N %t", check=False)
        return sum(1 for line in out.splitlines() if line.split()[1:] == ["idle"])

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        res = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            self.cluster.failed = True
        return res

    # ------------------------------------------------------------ helpers
    def as_user(self, user, *argv, timeout=30):
        env = self.cluster.env()
        p = subprocess.run(["runuser", "-u", user, "--"] + list(argv), capture_output=True, text=True,
                           env=env, timeout=timeout, cwd=os.path.join(self.cluster.dir, "work"))
        return p.returncode, p.stdout, p.stderr

    def attack(self, mode, node, arg=None, user=BOB):
        argv = [ATTACK, "-m", self.cluster.munge_sock, "-t", "1500", self.url, mode, node]
        if arg is not None:
            argv.append(str(arg))
        if user == "root":
            p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            rc, out, err = p.returncode, p.stdout, p.stderr
        else:
            rc, out, err = self.as_user(user, *argv)
        self.assertEqual(rc, 0, "node_attack %s failed: %s" % (mode, err))
        return out.strip().splitlines()

    def job(self, jid):
        _, out, _ = self.cluster.run("scontrol", "show", "job", str(jid), check=False)
        return kv(out)

    def alice_job(self, seconds=40, exit_code=0):
        rc, out, err = self.as_user(ALICE, "sbatch", "--parsable", "-w", "n1", "-o", "/dev/null",
                                    "--wrap", "sleep %d; exit %d" % (seconds, exit_code))
        self.assertEqual(rc, 0, err)
        jid = out.strip().split(";")[0]
        self.cluster.wait_for("job %s running" % jid, lambda: self.job(jid).get("JobState") == "RUNNING",
                              timeout=20)
        return jid

    def ctld_log(self):
        with open(self.cluster.stdout_path, errors="replace") as f:   # flurmctld -D logs there
            return f.read()

    def assert_untouched(self, jid):
        j = self.job(jid)
        self.assertEqual(j.get("JobState"), "RUNNING", j)
        self.assertEqual(j.get("NodeList"), "n1", j)
        self.assertEqual(j.get("ExitCode"), "0:0", j)

    # ------------------------------------------------------------ an unprivileged user
    def test_the_plain_protobuf_attack_is_refused_at_each_step(self):
        jid = self.alice_job()
        for mode, arg in (("plain-register", None), ("plain-end", jid), ("plain-poll", None)):
            out = self.attack(mode, "n1", arg)
            self.assertEqual(len(out), 1, out)
            self.assertTrue(out[0].startswith("REFUSED code=4 "), (mode, out))   # MALFORMED
        self.assert_untouched(jid)
        self.cluster.run("scancel", jid)

    def test_an_ordinary_users_credential_is_refused_for_any_node(self):
        jid = self.alice_job()
        uid = pwd.getpwnam(BOB).pw_uid
        for mode, arg in (("register", None), ("end", jid), ("poll", None)):
            out = self.attack(mode, "n1", arg)
            self.assertEqual(out, ["REFUSED code=3 text=uid %d may not speak for node n1 "
                                   "(root or SlurmUser only)" % uid], mode)
        out = self.attack("register", "nosuch")
        self.assertEqual(out, ["REFUSED code=3 text=node is not in slurm.conf"])
        self.assert_untouched(jid)
        # n1's own daemon was not evicted: the job ends through it with its true status
        self.cluster.run("scancel", jid)
        self.cluster.wait_for("job %s cancelled" % jid, lambda: self.job(jid).get("JobState") == "CANCELLED",
                              timeout=20)

    def test_refusals_are_logged_once_per_peer_and_reason(self):
        for _ in range(3):
            self.assertTrue(self.attack("register", "n2")[0].startswith("REFUSED code=3 "))
        log = self.ctld_log()
        since_start = log[log.rindex("flurmctld info: recovered"):]   # this controller's lines
        lines = re.findall(r"node channel: dropped unauthorized from 127\.0\.0\.1:\d+.*", since_start)
        self.assertEqual(len(lines), 1, since_start[-3000:])
        self.assertIn("further ones from this address counted, not logged", lines[0])

    def test_a_fake_controller_on_the_node_port_cannot_command_the_nodes(self):
        jid = self.alice_job(seconds=6, exit_code=3)
        self.cluster.terminate()   # flurmctld down: the node port is free for anyone to take
        # its last words count what the channel saw (one handshake per node daemon at least)
        self.assertRegex(self.ctld_log(), r"node channel: [1-9]\d* handshake\(s\), [1-9]\d* session\(s\); "
                                          r"dropped: \d+ unauthenticated, \d+ malformed, \d+ bad credential, "
                                          r"\d+ unauthorized, \d+ tampered, \d+ replayed")
        fake = subprocess.Popen(["runuser", "-u", BOB, "--", FAKE_CTLD, "-m", self.cluster.munge_sock,
                                 "-u", self.url, "-n", self.cluster.host],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)
        try:
            self.assertIn("LISTENING", fake.stdout.readline())
            flag = os.path.join(self.cluster.dir, "work", "pwned")
            deadline = time.time() + 8
            script = urllib.parse.quote("#!/bin/sh\ntouch %s\n" % flag, safe="")
            while time.time() < deadline:   # the nodes redial within a few seconds
                fake.stdin.write("launch node=n1 job=4242 uid=0 gid=0 user=root workdir=/tmp script=%s\n"
                                 % script)
                fake.stdin.flush()
                time.sleep(0.5)
            fake.stdin.write("quit\n")
            fake.stdin.flush()
            out, _ = fake.communicate(timeout=10)
        finally:
            if fake.poll() is None:
                fake.kill()
                fake.wait()
        self.assertIn("HELLO node=n1", out)        # the node did try: the impostor answered it
        self.assertNotIn("REGISTER", out)          # and heard nothing after
        self.assertFalse(os.path.exists(flag))
        with open(os.path.join(self.cluster.dir, "log", "flurmnd-n1.log"), errors="replace") as f:
            nlog = f.read()
        self.assertIn("not trusted as a controller: its credential is uid %d's, not root's or SlurmUser"
                      % pwd.getpwnam(BOB).pw_uid, nlog)
        self.cluster.restart()
        # the real controller is back: the job ran through all this and ends with its true status
        self.cluster.wait_for("job %s done" % jid, lambda: self.job(jid).get("JobState") == "FAILED", timeout=40)
        self.assertEqual(self.job(jid).get("ExitCode"), "3:0")
        self.cluster.wait_for("n1 and n2 idle", lambda: self.idle() >= 2, timeout=30)

    # ------------------------------------------------------------ what authentication must still catch
    def test_a_channel_speaks_for_its_own_node_only(self):
        out = self.attack("as-other", "n2", "n1", user="root")
        self.assertEqual(out[0].split()[0], "WELCOME")
        self.assertEqual(out[1], "ERROR code=5 text=this connection is authenticated for node n2, not n1")

    def test_a_node_at_another_address_is_refused_even_for_root(self):
        out = self.attack("register", "far", user="root")
        self.assertEqual(len(out), 1, out)
        self.assertRegex(out[0], r"^REFUSED code=3 text=credential from [0-9.]+, not from node far's address "
                                 r"192\.0\.2\.1$")

    def test_a_replayed_frame_is_dropped(self):
        out = self.attack("replay", "n1", user="root")
        self.assertEqual(out[0].split()[0], "WELCOME")
        self.assertEqual(out[1:], ["ERROR code=3 text=register first", "TIMEOUT"])
        self.assertRegex(self.ctld_log(), r"dropped replayed message from 127\.0\.0\.1:\d+: n1")

    def test_a_tampered_frame_is_dropped_and_the_channel_survives(self):
        out = self.attack("tamper", "n1", user="root")
        self.assertEqual(out[1:], ["TIMEOUT", "ERROR code=3 text=register first"])
        self.assertRegex(self.ctld_log(), r"dropped tampered or forged message from 127\.0\.0\.1:\d+: n1")

    def test_garbage_on_an_authenticated_channel_is_dropped(self):
        out = self.attack("garbage", "n1", user="root")
        self.assertEqual(out[1:], ["TIMEOUT"])

    def test_the_nodes_still_run_jobs(self):
        jid = self.cluster.sbatch("-w", "n2", "-o", "/dev/null", "--wrap", "exit 7")
        self.cluster.wait_for("job %s done" % jid, lambda: self.job(jid).get("JobState") == "FAILED", timeout=30)
        self.assertEqual(self.job(jid).get("ExitCode"), "7:0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
