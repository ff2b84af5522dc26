#!/usr/bin/env python3
"""flurmnd (the compute-node daemon) against fake_ctld, a scriptable controller stand-in.

Each test gets a fresh directory with a slurm.conf (nodes n1 with CPUs=7 RealMemory=1234
Feature=fast, and n2 with CPUs=3; Prolog/Epilog scripts that log to the directory), a fresh
fake_ctld on a free port and flurmnd -N n1 dialing it (FLURMND_CONTROLLER). fake_ctld prints
what flurmnd sends (REGISTER/STARTED/ENDED lines) and takes launch/kill/signal commands on
stdin; see fake_ctld.c. FLURMND_TIME_SCALE=2 makes a minute of time limit last 2 s.

flurmnd and fake_ctld authenticate each other through a private munged (tests/lib/munged.sh)
started once for the module.

Environment: FLURMND and FAKE_CTLD name the binaries (meson sets both); FLURMND_TEST_KEEP=1
keeps each test's directory (logs, spool). Python 3 stdlib only.
Jobs as `nobody` need root; those tests are skipped otherwise.
"""

import ctypes
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
MUNGED_SH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "lib", "munged.sh")
MUNGE = {}   # "dir", "sock" while the module runs

FLURMND = os.environ.get("FLURMND", "")
FAKE_CTLD = os.environ.get("FAKE_CTLD", "")
TIME_SCALE = "2"
IS_ROOT = os.geteuid() == 0
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Job supervisors orphaned by `kill -9 flurmnd` come to us instead of an init that may never
    reap them; tearDown reaps them, so no zombie outlives the suite."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def parse_line(line):
    """'VERB k=v k=v' -> (VERB, {k: unquoted v})."""
    parts = line.split()
    fields = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        fields[k] = urllib.parse.unquote(v)
    return parts[0], fields


def setUpModule():
    MUNGE["dir"] = tempfile.mkdtemp(prefix="flurmnd-test-munge.")
    out = subprocess.run(["bash", MUNGED_SH, "start", MUNGE["dir"]], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise RuntimeError("munged.sh start failed: %s%s" % (out.stdout, out.stderr))
    MUNGE["sock"] = out.stdout.strip().splitlines()[-1]


def tearDownModule():
    subprocess.run(["bash", MUNGED_SH, "stop", MUNGE["dir"]], capture_output=True, timeout=30)
    shutil.rmtree(MUNGE["dir"], ignore_errors=True)


class FakeCtld:
    def __init__(self, workdir, *args, tag=""):
        self.log = open(os.path.join(workdir, "fake_ctld%s.stderr" % tag), "w")
        argv = [FAKE_CTLD, "-m", MUNGE["sock"]] + list(args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        verb, f = self.expect("LISTENING", timeout=10)
        self.port = int(f["port"])
        self.url = "tcp://127.0.0.1:%d" % self.port

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()

    def send(self, verb, **kv):
        words = [verb]
        for k, v in kv.items():
            for one in (v if isinstance(v, list) else [v]):
                words.append("%s=%s" % (k, urllib.parse.quote(str(one), safe="")))
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()

    def launch(self, node="n1", **kv):
        kv.setdefault("script", "#!/bin/sh\ntrue\n")
        self.send("launch", node=node, **kv)

    def expect(self, verb, timeout=20, **want):
        """Wait for (and consume) the first line VERB whose fields include WANT."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, line in enumerate(self.lines):
                    v, f = parse_line(line)
                    if v == verb and all(f.get(k) == str(x) for k, x in want.items()):
                        del self.lines[i]
                        return v, f
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s %r within %ss; unconsumed lines: %r" % (verb, want, timeout,
                                                                                       self.lines))
                self.cv.wait(left)

    def seen(self, verb, **want):
        with self.cv:
            for line in self.lines:
                v, f = parse_line(line)
                if v == verb and all(f.get(k) == str(x) for k, x in want.items()):
                    return True
        return False

    def close(self):
        try:
            self.send("quit")
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout, self.log):
            try:
                f.close()
            except OSError:
                pass


class Node:
    def __init__(self, workdir, conf, name, url):
        self.workdir, self.conf, self.name, self.url = workdir, conf, name, url
        self.proc = None
        self.logpath = os.path.join(workdir, "flurmnd-%s.log" % name)

    def start(self):
        env = dict(os.environ, FLURMND_TIME_SCALE=TIME_SCALE)
        if self.url:   # else SlurmctldHost (+ flurm_node_port)
            env["FLURMND_CONTROLLER"] = self.url
        else:
            env.pop("FLURMND_CONTROLLER", None)
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen([FLURMND, "-D", "-f", self.conf, "-N", self.name, "-v"],
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=env)
        return self

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()
        self.proc = None

    def log(self):
        with open(self.logpath) as f:
            return f.read()


def proc_start(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rindex(")") + 2:].split()[19])


def read_kv(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                out[k] = v
    except OSError:
        pass
    return out


def session_alive(sid):
    """True if any process is in session SID (pgrep -s)."""
    return subprocess.run(["pgrep", "-s", str(sid)], stdout=subprocess.DEVNULL).returncode == 0


def kill_leftover_jobs(spool):
    """Jobs outlive flurmnd by design: end what a test left behind (checking start times so a
    recycled pid is never hit)."""
    for root, dirs, files in os.walk(spool):
        st = read_kv(os.path.join(root, "state"))
        started = read_kv(os.path.join(root, "started"))
        if started.get("pid") and proc_start(int(started["pid"])) == int(started["pid_start"]):
            os.killpg(int(started["pid"]), signal.SIGKILL)
        if st.get("sup_pid") and int(st["sup_pid"]) > 0 and \
                proc_start(int(st["sup_pid"])) == int(st["sup_start"]):
            os.kill(int(st["sup_pid"]), signal.SIGKILL)


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class FlurmndTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flurmnd-test.")
        os.chmod(self.dir, 0o755)
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)
        os.chmod(self.work, 0o1777)
        self.spool = os.path.join(self.dir, "spool")
        for hook in ("prolog", "epilog"):
            path = os.path.join(self.dir, hook + ".sh")
            with open(path, "w") as f:
                f.write("#!/bin/sh\necho \"$SLURM_JOB_ID $SLURM_JOB_USER $SLURM_JOB_UID\" >> %s/%s.log\n"
                        % (self.dir, hook))
                if hook == "prolog":
                    f.write("[ \"$SLURM_JOB_ID\" != 66 ]\n")
            os.chmod(path, 0o755)
        self.conf = os.path.join(self.dir, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write("ClusterName=t\nSlurmctldHost=localhost\nSlurmdSpoolDir=%s/%%n\n"
                    "AuthType=auth/munge\nAuthInfo=socket=%s\n"
                    "Prolog=%s/prolog.sh\nEpilog=%s/epilog.sh\n"
                    "NodeName=n1 CPUs=7 RealMemory=1234 Feature=fast\nNodeName=n2 CPUs=3\n"
                    "PartitionName=debug Nodes=n1,n2 Default=YES\n"
                    % (self.spool, MUNGE["sock"], self.dir, self.dir))
        self.ctld = FakeCtld(self.dir)
        self.nodes = []
        self.n1 = self.node("n1")
        self.register = self.ctld.expect("REGISTER", node="n1")[1]

    def node(self, name):
        n = Node(self.dir, self.conf, name, self.ctld.url).start()
        self.nodes.append(n)
        return n

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        kill_leftover_jobs(self.spool)
        self.ctld.close()
        time.sleep(0.2)
        reap_orphans()
        for n in self.nodes:   # a sanitizer build reports into the daemon's log
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                self.assertNotIn(bad, n.log(), "sanitizer report in %s" % n.logpath)
        if not os.environ.get("FLURMND_TEST_KEEP"):   # set it to keep logs and spools
            shutil.rmtree(self.dir, ignore_errors=True)

    def out(self, name):
        with open(os.path.join(self.work, name)) as f:
            return f.read()

    # ------------------------------------------------------------------ registration

    def test_register_reports_conf_overrides_and_machine_facts(self):
        r = self.register
        self.assertEqual(r["cpus"], "7")
        self.assertEqual(r["mem"], "1234")
        self.assertEqual(r["features"], "fast")
        self.assertEqual(r["running"], "")
        self.assertEqual(r["ended"], "")
        self.assertEqual(r["arch"], os.uname().machine)
        self.assertTrue(r["hostname"])
        self.assertTrue(os.path.isdir(os.path.join(self.spool, "n1")))

    def test_unknown_node_name_exits_1(self):
        r = subprocess.run([FLURMND, "-D", "-f", self.conf, "-N", "nosuch"], capture_output=True, text=True,
                           timeout=10, env=dict(os.environ, FLURMND_CONTROLLER=self.ctld.url))
        self.assertEqual(r.returncode, 1)
        self.assertIn("'nosuch' is not a NodeName", r.stderr)

    def test_version_mismatch_logs_and_exits_1(self):
        other = FakeCtld(self.dir, "-V", "2")
        try:
            env = dict(os.environ, FLURMND_CONTROLLER=other.url)
            r = subprocess.run([FLURMND, "-D", "-f", self.conf, "-N", "n2"], capture_output=True, text=True,
                               timeout=20, env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("node protocol version 2", r.stderr)
            self.assertEqual(r.stderr.count("protocol version"), 1)   # logged once
            other.expect("BADVERSION", node="n2", version=1)
        finally:
            other.close()

    def test_two_nodes_run_side_by_side(self):
        self.node("n2")
        r = self.ctld.expect("REGISTER", node="n2")[1]
        self.assertEqual(r["cpus"], "3")
        self.ctld.launch(node="n1", job=21, script="#!/bin/sh\necho one $SLURMD_NODENAME\n", workdir=self.work)
        self.ctld.launch(node="n2", job=22, script="#!/bin/sh\necho two $SLURMD_NODENAME\n", workdir=self.work)
        self.ctld.expect("ENDED", node="n1", job=21, state="COMPLETED")
        self.ctld.expect("ENDED", node="n2", job=22, state="COMPLETED")
        self.assertEqual(self.out("slurm-21.out"), "one n1\n")
        self.assertEqual(self.out("slurm-22.out"), "two n2\n")
        self.assertTrue(os.path.isdir(os.path.join(self.spool, "n2")))

    def test_same_node_twice_is_refused(self):
        r = subprocess.run([FLURMND, "-D", "-f", self.conf, "-N", "n1"], capture_output=True, text=True,
                           timeout=10, env=dict(os.environ, FLURMND_CONTROLLER=self.ctld.url))
        self.assertEqual(r.returncode, 1)
        self.assertIn("another flurmnd", r.stderr)

    # ------------------------------------------------------------------ launch

    def test_root_job_output_env_and_args(self):
        script = ("#!/bin/sh\necho args=$1,$2\nenv | grep -E '^SLURM|^SLURMD|^ENVIRONMENT|^MYVAR' | sort\n"
                  "echo to-stderr >&2\n")
        self.ctld.launch(job=11, script=script, workdir=self.work, name="myname", arg=["a b", "c"],
                         env=["MYVAR=x", "PATH=/usr/bin:/bin"], cpus=2, partition="debug")
        _, s = self.ctld.expect("STARTED", job=11)
        _, e = self.ctld.expect("ENDED", job=11)
        self.assertEqual(e["state"], "COMPLETED")
        self.assertEqual(e["status"], "0")
        self.assertEqual(e["reason"], "")
        self.assertGreater(int(e["rss"]), 0)
        self.assertGreaterEqual(int(e["end"]), int(e["start"]))
        out = self.out("slurm-11.out")
        self.assertIn("args=a b,c\n", out)
        self.assertIn("to-stderr\n", out)   # no std_err: stderr joins stdout
        for want in ("SLURM_JOB_ID=11", "SLURM_JOBID=11", "SLURM_JOB_NAME=myname", "SLURMD_NODENAME=n1",
                     "SLURM_CPUS_ON_NODE=2", "SLURM_JOB_CPUS_PER_NODE=2", "SLURM_JOB_UID=0", "SLURM_JOB_USER=root",
                     "SLURM_NODEID=0", "SLURM_PROCID=0", "SLURM_JOB_PARTITION=debug", "SLURM_CLUSTER_NAME=test",
                     "SLURM_TASK_PID=%s" % s["pid"], "MYVAR=x", "ENVIRONMENT=BATCH", "SLURM_NNODES=1",
                     "SLURM_SUBMIT_DIR=%s" % self.work, "SLURM_SUBMIT_HOST=submithost"):
            self.assertIn(want + "\n", out)
        self.assertNotIn("SLURM_ARRAY_TASK_ID", out)
        # uid 0 as root; not root, flurmnd runs every job as itself
        self.assertEqual(os.stat(os.path.join(self.work, "slurm-11.out")).st_uid, os.geteuid())
        if not IS_ROOT:
            self.assertEqual(self.n1.log().count("not running as root"), 1)
        # acknowledged: the job's spool directory is gone
        wait_for(lambda: not os.path.exists(os.path.join(self.spool, "n1", "job11")), 5, "spool cleanup")

    @unittest.skipUnless(IS_ROOT, "needs root to run a job as nobody")
    def test_job_runs_as_nobody(self):
        nobody = pwd.getpwnam("nobody")
        self.ctld.launch(job=12, uid=nobody.pw_uid, gid=nobody.pw_gid, user="nobody", workdir=self.work,
                         script="#!/bin/sh\necho uid=$(id -u) gid=$(id -g) user=$SLURM_JOB_USER\n",
                         out="%x-%j-%u-%N.out", name="nb")
        _, e = self.ctld.expect("ENDED", job=12)
        self.assertEqual(e["state"], "COMPLETED")
        path = os.path.join(self.work, "nb-12-nobody-n1.out")
        self.assertEqual(self.out("nb-12-nobody-n1.out"),
                         "uid=%d gid=%d user=nobody\n" % (nobody.pw_uid, nobody.pw_gid))
        self.assertEqual(os.stat(path).st_uid, nobody.pw_uid)

    @unittest.skipUnless(IS_ROOT, "needs root to run a job as nobody")
    def test_spool_is_private_to_root_and_the_job(self):
        """The job directory is root's, 0710 with the job's group: the job (as nobody) reaches
        and runs its script (nobody's, 0700) but cannot list the directory, read flurmnd's
        records (root's, 0600) or add files there."""
        nobody = pwd.getpwnam("nobody")
        go = os.path.join(self.work, "go-13")
        script = ("#!/bin/sh\nd=$(dirname \"$0\")\n"
                  "ls \"$d\" >/dev/null 2>&1 && echo list=yes || echo list=no\n"
                  "cat \"$d/state\" >/dev/null 2>&1 && echo state=yes || echo state=no\n"
                  "touch \"$d/x\" 2>/dev/null && echo write=yes || echo write=no\n"
                  "head -1 \"$0\"\n"
                  "i=0; while [ ! -e %s ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n" % go)
        self.ctld.launch(job=13, uid=nobody.pw_uid, gid=nobody.pw_gid, user="nobody", workdir=self.work,
                         script=script)
        self.ctld.expect("STARTED", job=13)
        jobdir = os.path.join(self.spool, "n1", "job13")
        try:
            st = os.stat(jobdir)
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (0, nobody.pw_gid, 0o710))
            st = os.stat(os.path.join(jobdir, "script"))
            self.assertEqual((st.st_uid, st.st_mode & 0o7777), (nobody.pw_uid, 0o700))
            names = sorted(n for n in os.listdir(jobdir) if not n.startswith("."))
            self.assertEqual(names, ["script", "started", "state"])
            for name in ("state", "started"):
                st = os.stat(os.path.join(jobdir, name))
                self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o600), name)
        finally:
            open(go, "w").close()
        _, e = self.ctld.expect("ENDED", job=13)
        self.assertEqual(e["state"], "COMPLETED")
        self.assertEqual(self.out("slurm-13.out"), "list=no\nstate=no\nwrite=no\n#!/bin/sh\n")

    def test_array_task_output_name_and_env(self):
        self.ctld.launch(job=31, arrayjob=30, arraytask=4, workdir=self.work,
                         script="#!/bin/sh\necho $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID\n")
        self.ctld.expect("ENDED", job=31, state="COMPLETED")
        self.assertEqual(self.out("slurm-30_4.out"), "30 4\n")

    def test_stdin_stderr_file_and_append_mode(self):
        with open(os.path.join(self.work, "in.txt"), "w") as f:
            f.write("from-stdin\n")
        for job in (41, 42):
            self.ctld.launch(job=job, workdir=self.work, out="app.out", err="err-%j.txt", append=1, **{"in": "in.txt"},
                             script="#!/bin/sh\ncat\necho oops >&2\n")
            self.ctld.expect("ENDED", job=job, state="COMPLETED")
        self.assertEqual(self.out("app.out"), "from-stdin\nfrom-stdin\n")
        self.assertEqual(self.out("err-41.txt"), "oops\n")
        self.assertEqual(self.out("err-42.txt"), "oops\n")
        self.ctld.launch(job=43, workdir=self.work, out="app.out", script="#!/bin/sh\necho fresh\n")
        self.ctld.expect("ENDED", job=43, state="COMPLETED")
        self.assertEqual(self.out("app.out"), "fresh\n")   # truncated without open_append
        self.ctld.launch(job=44, workdir=self.work, env="SLURM_UMASK=0077", script="#!/bin/sh\ntrue\n")
        self.ctld.expect("ENDED", job=44, state="COMPLETED")
        self.assertEqual(os.stat(os.path.join(self.work, "slurm-44.out")).st_mode & 0o777, 0o600)

    def test_exit_code_3_is_failed_status_768(self):
        self.ctld.launch(job=13, workdir=self.work, script="#!/bin/sh\nexit 3\n")
        _, e = self.ctld.expect("ENDED", job=13)
        self.assertEqual((e["state"], e["status"]), ("FAILED", "768"))

    def test_segv_is_failed_with_the_signal(self):
        self.ctld.launch(job=14, workdir=self.work, script="#!/bin/sh\nkill -SEGV $$\n")
        _, e = self.ctld.expect("ENDED", job=14)
        self.assertEqual(e["state"], "FAILED")
        self.assertEqual(int(e["status"]) & 0x7f, signal.SIGSEGV)

    def test_bad_work_dir_fails_with_reason(self):
        self.ctld.launch(job=15, workdir="/nonexistent/dir", script="#!/bin/sh\ntrue\n")
        _, e = self.ctld.expect("ENDED", job=15)
        self.assertEqual(e["state"], "FAILED")
        self.assertIn("could not chdir to /nonexistent/dir", e["reason"])
        self.assertFalse(self.ctld.seen("STARTED", job=15))

    def test_prolog_and_epilog_run_as_root_with_job_env(self):
        self.ctld.launch(job=65, workdir=self.work, script="#!/bin/sh\ntrue\n")
        self.ctld.expect("ENDED", job=65, state="COMPLETED")
        with open(os.path.join(self.dir, "prolog.log")) as f:
            self.assertIn("65 root 0\n", f.read())
        with open(os.path.join(self.dir, "epilog.log")) as f:
            self.assertIn("65 root 0\n", f.read())

    def test_failing_prolog_fails_the_job(self):
        self.ctld.launch(job=66, workdir=self.work, script="#!/bin/sh\necho ran > ran66\n")
        _, e = self.ctld.expect("ENDED", job=66)
        self.assertEqual((e["state"], e["reason"]), ("FAILED", "prolog failed"))
        self.assertFalse(os.path.exists(os.path.join(self.work, "ran66")))

    # ------------------------------------------------------------------ limits, kill, signal

    def test_time_limit_ends_timeout(self):
        # a minute lasts TIME_SCALE=2 s; the script ignores SIGTERM, so SIGKILL after KillWait ends it
        t0 = time.monotonic()
        self.ctld.launch(job=16, workdir=self.work, time=1, killwait=1,
                         script="#!/bin/sh\ntrap '' TERM\nsleep 60\n")
        _, s = self.ctld.expect("STARTED", job=16)
        _, e = self.ctld.expect("ENDED", job=16, timeout=30)
        self.assertEqual(e["state"], "TIMEOUT")
        self.assertEqual(int(e["status"]) & 0x7f, signal.SIGKILL)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertFalse(session_alive(int(s["pid"])))

    def test_kill_job_kills_script_and_children(self):
        self.ctld.launch(job=17, workdir=self.work, killwait=5,
                         script="#!/bin/bash\nsleep 300 &\necho $! > bg17\nwait\n")
        _, s = self.ctld.expect("STARTED", job=17)
        wait_for(lambda: os.path.exists(os.path.join(self.work, "bg17")) and self.out("bg17").strip(), 10, "bg17")
        bg = int(self.out("bg17"))
        self.assertTrue(session_alive(int(s["pid"])))
        self.ctld.send("kill", node="n1", job=17, wait=5)
        _, e = self.ctld.expect("ENDED", job=17)
        self.assertEqual(e["state"], "CANCELLED")
        wait_for(lambda: proc_start(bg) is None, 5, "background sleep to go")
        self.assertFalse(session_alive(int(s["pid"])))

    def test_signal_usr1_reaches_the_script_trap(self):
        script = ("#!/bin/bash\ntrap 'echo got-usr1 > sig18; exit 0' USR1\necho ready > ready18\n"
                  "for i in $(seq 1 300); do sleep 0.1; done\nexit 9\n")
        self.ctld.launch(job=18, workdir=self.work, script=script)
        self.ctld.expect("STARTED", job=18)
        wait_for(lambda: os.path.exists(os.path.join(self.work, "ready18")), 10, "ready18")
        self.ctld.send("signal", node="n1", job=18, sig=int(signal.SIGUSR1))
        _, e = self.ctld.expect("ENDED", job=18)
        self.assertEqual((e["state"], e["status"]), ("COMPLETED", "0"))
        self.assertEqual(self.out("sig18"), "got-usr1\n")

    def test_signal_kill_ends_cancelled(self):
        self.ctld.launch(job=19, workdir=self.work, script="#!/bin/sh\nsleep 300\n")
        self.ctld.expect("STARTED", job=19)
        self.ctld.send("signal", node="n1", job=19, sig=int(signal.SIGKILL))
        _, e = self.ctld.expect("ENDED", job=19)
        self.assertEqual(e["state"], "CANCELLED")
        self.assertEqual(int(e["status"]) & 0x7f, signal.SIGKILL)

    # ------------------------------------------------------------------ restarts

    def test_kill9_restart_reattaches_and_reports_true_exit_status(self):
        self.ctld.launch(job=51, workdir=self.work, script="#!/bin/sh\nsleep 3\nexit 5\n")
        _, s = self.ctld.expect("STARTED", job=51)
        self.n1.kill9()
        self.n1.start()
        _, r = self.ctld.expect("REGISTER", node="n1")
        self.assertEqual(r["running"], "51")
        self.assertEqual(r["ended"], "")
        _, e = self.ctld.expect("ENDED", job=51, timeout=20)
        self.assertEqual((e["state"], e["status"], e["via"]), ("FAILED", "1280", "event"))
        self.assertEqual(e["start"], s["start"])
        self.assertIn("re-attached", self.n1.log())

    def test_job_that_ends_while_down_is_reported_in_register(self):
        self.ctld.launch(job=52, workdir=self.work, script="#!/bin/sh\nsleep 1\nexit 2\n")
        self.ctld.expect("STARTED", job=52)
        self.n1.kill9()
        wait_for(lambda: os.path.exists(os.path.join(self.spool, "n1", "job52", "exit")), 15, "exit file")
        self.n1.start()
        _, r = self.ctld.expect("REGISTER", node="n1")
        self.assertEqual((r["running"], r["ended"]), ("", "52"))
        _, e = self.ctld.expect("ENDED", job=52, via="register")
        self.assertEqual((e["state"], e["status"]), ("FAILED", "512"))
        wait_for(lambda: not os.path.exists(os.path.join(self.spool, "n1", "job52")), 5, "spool cleanup")
        self.assertFalse(self.ctld.seen("ENDED", job=52))   # reported once

    def test_timeout_survives_restart(self):
        self.ctld.launch(job=53, workdir=self.work, time=1, killwait=1, script="#!/bin/sh\nsleep 60\n")
        self.ctld.expect("STARTED", job=53)
        self.n1.kill9()
        self.n1.start()
        self.ctld.expect("REGISTER", node="n1")
        _, e = self.ctld.expect("ENDED", job=53, timeout=20)
        self.assertEqual(e["state"], "TIMEOUT")

    def test_controller_forgetting_node_gets_register_and_unknown_jobs_killed(self):
        self.ctld.launch(job=54, workdir=self.work, script="#!/bin/sh\nsleep 300\n")
        _, s = self.ctld.expect("STARTED", job=54)
        self.ctld.send("unknown", node="n1", job=54)
        self.ctld.send("notreg", node="n1")   # as after a controller restart
        _, r = self.ctld.expect("REGISTER", node="n1")
        self.assertEqual(r["running"], "54")
        wait_for(lambda: not session_alive(int(s["pid"])), 10, "unknown job to be killed")
        wait_for(lambda: not os.path.exists(os.path.join(self.spool, "n1", "job54")), 5, "spool cleanup")
        time.sleep(0.5)
        self.assertFalse(self.ctld.seen("ENDED", job=54))   # the controller does not know it: no report

    def test_controller_down_then_up_register_again(self):
        self.ctld.launch(job=55, workdir=self.work, script="#!/bin/sh\nsleep 1\nexit 1\n")
        self.ctld.expect("STARTED", job=55)
        port = self.ctld.port
        self.ctld.close()
        time.sleep(2.5)   # the job ends while nobody listens
        self.ctld = FakeCtld(self.dir, "-u", "tcp://127.0.0.1:%d" % port)
        _, r = self.ctld.expect("REGISTER", node="n1", timeout=40)
        self.assertEqual(r["ended"], "55")
        _, e = self.ctld.expect("ENDED", job=55, via="register")
        self.assertEqual((e["state"], e["status"]), ("FAILED", "256"))


class FollowLeaderTest(unittest.TestCase):
    """Several SlurmctldHosts (c1 at 127.0.0.2, c2 at 127.0.0.3, the same node port): flurmnd
    registers with the leader only, follows the leader a follower names (ERROR_NOT_LEADER), and
    leaves a dead leader at once, carrying its running jobs and unacknowledged job ends to the
    new one. fake_ctld -F / `follower` / `lead` plays the Raft roles."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flurmnd-follow.")
        os.chmod(self.dir, 0o755)
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)
        os.chmod(self.work, 0o1777)
        self.spool = os.path.join(self.dir, "spool")
        self.ctlds = []
        self.n1 = None

    def start(self, c1_args, c2_args, node=True):
        self.c1 = FakeCtld(self.dir, "-u", "tcp://127.0.0.2:0", "-n", "c1", *c1_args, tag="-c1")
        self.ctlds.append(self.c1)
        self.c2 = FakeCtld(self.dir, "-u", "tcp://127.0.0.3:%d" % self.c1.port, "-n", "c2", *c2_args, tag="-c2")
        self.ctlds.append(self.c2)
        self.conf = os.path.join(self.dir, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write("ClusterName=t\nSlurmctldHost=c1(127.0.0.2)\nSlurmctldHost=c2(127.0.0.3)\n"
                    "SlurmctldParameters=flurm_node_port=%d\nSlurmdSpoolDir=%s/%%n\n"
                    "AuthType=auth/munge\nAuthInfo=socket=%s\n"
                    "NodeName=n1 CPUs=7 RealMemory=1234\nPartitionName=debug Nodes=n1 Default=YES\n"
                    % (self.c1.port, self.spool, MUNGE["sock"]))
        self.n1 = Node(self.dir, self.conf, "n1", None)
        if node:
            self.n1.start()

    def tearDown(self):
        if self.n1:
            self.n1.stop()
        kill_leftover_jobs(self.spool)
        for c in self.ctlds:
            c.close()
        time.sleep(0.2)
        reap_orphans()
        if self.n1:
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                self.assertNotIn(bad, self.n1.log(), "sanitizer report in %s" % self.n1.logpath)
        if not os.environ.get("FLURMND_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def test_follows_the_leader_a_follower_names(self):
        self.start(["-F", "c2"], [])
        self.c1.expect("NOTLEADER", node="n1", kind="register")
        _, r = self.c2.expect("REGISTER", node="n1")
        self.assertEqual(r["cpus"], "7")
        self.c2.launch(job=61, workdir=self.work, script="#!/bin/sh\necho hi\n")
        self.c2.expect("ENDED", job=61, state="COMPLETED", via="event")
        self.assertFalse(self.c1.seen("REGISTER"))
        self.assertEqual(self.n1.log().count("following leader c2"), 1)

    def test_waits_out_an_election_then_registers_with_the_winner(self):
        self.start(["-F", ""], ["-F", ""])
        time.sleep(2)   # nobody leads: flurmnd asks again and again, registering nowhere
        self.assertFalse(self.c1.seen("REGISTER") or self.c2.seen("REGISTER"))
        self.assertTrue(self.c1.seen("NOTLEADER") or self.c2.seen("NOTLEADER"))
        self.c1.send("follower", leader="c2")
        self.c2.send("lead")
        self.c2.expect("REGISTER", node="n1", timeout=3)
        self.assertFalse(self.c1.seen("REGISTER"))

    def test_dead_leader_left_within_a_second_jobs_keep_running(self):
        self.start([], ["-F", "c1"])
        self.c1.expect("REGISTER", node="n1")
        self.c1.launch(job=62, workdir=self.work, script="#!/bin/sh\nsleep 60\n")
        _, s = self.c1.expect("STARTED", job=62)
        t0 = time.monotonic()
        self.c1.proc.kill()   # the leader dies; c2 wins the election at once
        self.c2.send("lead")
        _, r = self.c2.expect("REGISTER", node="n1", timeout=5)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, 1.0, "re-registered %.2f s after the leader died" % elapsed)
        self.assertEqual(r["running"], "62")
        self.assertTrue(session_alive(int(s["pid"])))
        self.assertIn("controller c1 lost", self.n1.log())
        self.c2.send("kill", node="n1", job=62, wait=1)
        self.c2.expect("ENDED", job=62, state="CANCELLED", via="event")

    def test_job_end_unacknowledged_at_failover_reaches_the_new_leader_once(self):
        self.start([], ["-F", "c1"])
        self.c1.expect("REGISTER", node="n1")
        self.c1.launch(job=63, workdir=self.work, script="#!/bin/sh\nsleep 1\nexit 4\n")
        self.c1.expect("STARTED", job=63)
        self.c1.proc.kill()
        self.c2.expect("NOTLEADER", node="n1", kind="register", timeout=2)   # names the dead c1 still
        self.c2.send("follower", leader="")   # the election runs while the job ends
        wait_for(lambda: os.path.exists(os.path.join(self.spool, "n1", "job63", "exit")), 15, "exit file")
        time.sleep(0.5)
        self.assertFalse(self.c2.seen("ENDED"))
        self.c2.send("lead")
        _, r = self.c2.expect("REGISTER", node="n1", timeout=3)
        self.assertEqual((r["running"], r["ended"]), ("", "63"))
        _, e = self.c2.expect("ENDED", job=63, via="register")
        self.assertEqual((e["state"], e["status"]), ("FAILED", "1024"))
        wait_for(lambda: not os.path.exists(os.path.join(self.spool, "n1", "job63")), 5, "spool cleanup")
        time.sleep(0.5)
        self.assertFalse(self.c2.seen("ENDED", job=63))   # reported once

    def test_first_controller_down_at_start_the_next_one_is_found(self):
        self.start([], [], node=False)
        self.c1.close()   # nothing listens at c1's address: its dial is refused
        t0 = time.monotonic()
        self.n1.start()
        self.c2.expect("REGISTER", node="n1", timeout=5)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertIn("controller c1 lost", self.n1.log())

    def test_leader_stepping_down_sends_the_node_to_the_new_one(self):
        self.start([], ["-F", "c1"])
        self.c1.expect("REGISTER", node="n1")
        self.c1.launch(job=64, workdir=self.work, script="#!/bin/sh\nsleep 60\n")
        self.c1.expect("STARTED", job=64)
        self.c2.send("lead")
        self.c1.send("follower", leader="c2")   # the parked poll is answered NOT_LEADER
        _, r = self.c2.expect("REGISTER", node="n1", timeout=2)
        self.assertEqual(r["running"], "64")
        self.assertIn("following leader c2", self.n1.log())


if __name__ == "__main__":
    if not FLURMND or not FAKE_CTLD:
        sys.exit("FLURMND and FAKE_CTLD must name the flurmnd and fake_ctld binaries")
    become_subreaper()
    unittest.main()
