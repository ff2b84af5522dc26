"""Integration-test harness: a private munged + one controller + the real SLURM clients.

A Cluster lives in a fresh temporary directory:

    DIR/munge/          private munged (tests/lib/munged.sh), socket DIR/munge/munge.socket
    DIR/slurm.conf      generated config (free TCP port picked at runtime, never 6817)
    DIR/state/          StateSaveLocation (kept across kill9()/restart())
    DIR/log/ctld.log    controller log (SlurmctldLogFile); DIR/log/ctld.stdout its stdout/stderr

The controller is chosen by the environment:

    FLURM_TEST_CONTROLLER=flurm (default)  $FLURMCTLD -D -f DIR/slurm.conf
    FLURM_TEST_CONTROLLER=slurm            slurmctld -D -i -f DIR/slurm.conf  (the reference)

Clients run with SLURM_CONF=DIR/slurm.conf.  Python 3 stdlib only.

HACluster (at the end) runs several flurmctld as one Raft cluster (c1..cN on 127.0.0.1..N) with
the same munged, conf writer, node daemons and clients; Submitters is a pool of sbatch loops.
"""

import os
import shutil
import signal
import errno
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
MUNGED_SH = os.path.join(SOURCE_ROOT, "tests", "lib", "munged.sh")

CONTROLLER = os.environ.get("FLURM_TEST_CONTROLLER", "flurm")
if CONTROLLER not in ("flurm", "slurm"):
    raise SystemExit("FLURM_TEST_CONTROLLER must be 'flurm' or 'slurm', not %r" % CONTROLLER)

CLIENT_TIMEOUT = 30  # seconds for any one client command
PING_TIMEOUT = 20    # seconds for the controller to answer `scontrol ping`


class HarnessError(Exception):
    pass


def free_port():
    """A TCP port that is free on 127.0.0.1 right now (never 6817)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in (6817, 6818):
            return port


def current_user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def controller_command(conf):
    """argv of the selected controller; raises HarnessError (a test FAILURE) if it is missing."""
    if CONTROLLER == "slurm":
        exe = shutil.which("slurmctld") or "/usr/sbin/slurmctld"
        if not os.access(exe, os.X_OK):
            raise HarnessError("FLURM_TEST_CONTROLLER=slurm but slurmctld is not installed")
        # -i: ignore unreadable state files (first start has none)
        return [exe, "-D", "-i", "-f", conf]
    exe = os.environ.get("FLURMCTLD", "")
    if not exe:
        raise HarnessError("FLURM_TEST_CONTROLLER=flurm but FLURMCTLD (path of the built "
                           "flurmctld) is not set")
    if not os.access(exe, os.X_OK):
        raise HarnessError("flurmctld binary not found or not executable: %s" % exe)
    return [exe, "-D", "-f", conf]


class Cluster:
    """One controller + munged in a temp dir.  Use start()/stop() (or `with Cluster() as c`)."""

    def __init__(self, name="itest", nodes=4, extra_conf=()):
        self.name = name
        self.nodes = nodes
        self.extra_conf = list(extra_conf)
        self.node_procs = {}   # node name -> Popen of its flurmnd
        self.dir = None
        self.conf = None
        self.port = None
        self.munge_sock = None
        self.proc = None
        self.failed = False  # set by the test case: keeps DIR and prints the log path
        self.user = current_user()
        self.host = socket.gethostname().split(".")[0]

    # ------------------------------------------------------------ lifecycle
    def start(self):
        controller_command("/dev/null")  # fail before creating anything if it is missing
        self.dir = tempfile.mkdtemp(prefix="flurm-itest-")
        # munged runs as the 'munge' user when we are root: it must traverse DIR
        os.chmod(self.dir, 0o755)
        for sub in ("state", "spool", "log", "run", "work"):
            os.makedirs(os.path.join(self.dir, sub))
        try:
            out = subprocess.run(["bash", MUNGED_SH, "start", os.path.join(self.dir, "munge")],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                raise HarnessError("munged.sh start failed: %s%s" % (out.stdout, out.stderr))
            self.munge_sock = out.stdout.strip().splitlines()[-1]
            self.port = free_port()
            self.conf = os.path.join(self.dir, "slurm.conf")
            self._write_conf()
            self._spawn()
            self.wait_up()
        except BaseException:
            self.failed = True
            self.stop()
            raise
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.failed = True
        self.stop()

    def _write_conf(self):
        d = self.dir
        slurm_user = "root" if os.getuid() == 0 else self.user
        lines = [
            "# generated by tests/integration/harness.py",
            "ClusterName=%s" % self.name,
            "SlurmctldHost=%s(127.0.0.1)" % self.host,
            "SlurmctldPort=%d" % self.port,
            "SlurmdPort=%d" % free_port(),
            "AuthType=auth/munge",
            "AuthInfo=socket=%s" % self.munge_sock,
            "CredType=cred/munge",
            "SlurmUser=%s" % slurm_user,
            "SlurmdUser=root",
            "StateSaveLocation=%s/state" % d,
            "SlurmdSpoolDir=%s/spool/%%n" % d,
            "SlurmctldPidFile=%s/run/slurmctld.pid" % d,
            "SlurmdPidFile=%s/run/slurmd-%%n.pid" % d,
            "SlurmctldLogFile=%s/log/ctld.log" % d,
            "SlurmctldDebug=info",
            "ProctrackType=proctrack/pgid",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "MailProg=/bin/true",
            "ReturnToService=2",
            "MinJobAge=300",
            "MessageTimeout=5",
        ]
        if CONTROLLER == "flurm":
            # FLURM's own options ride in SlurmctldParameters (clients reject unknown keys)
            self.node_port = free_port()
            self.admin_port = free_port()   # `flurm cluster` (never the default 6821: parallel runs)
            while self.admin_port == self.node_port:
                self.admin_port = free_port()
            lines.append("SlurmctldParameters=flurm_node_port=%d,flurm_admin_port=%d"
                         % (self.node_port, self.admin_port))
        lines += self.extra_conf
        lines += [
            "NodeName=n[1-%d] NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN" % self.nodes,
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            "PartitionName=long Nodes=n[3-%d] MaxTime=2-00:00:00 State=UP" % self.nodes,
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self):
        argv = controller_command(self.conf)
        self.stdout_path = os.path.join(self.dir, "log", "ctld.stdout")
        with open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=self.env(),
                                         start_new_session=True)

    def env(self):
        e = dict(os.environ)
        e["SLURM_CONF"] = self.conf
        # keep user/site settings out of the clients
        for k in list(e):
            if k.startswith(("SBATCH_", "SQUEUE_", "SINFO_", "SLURM_")) and k != "SLURM_CONF":
                del e[k]
        e["LC_ALL"] = "C"
        e["TZ"] = "UTC"
        return e

    def ping_up(self):
        rc, out, _ = self.run("scontrol", "ping", check=False, timeout=10)
        return rc == 0 and "is UP" in out

    def wait_up(self, timeout=PING_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise HarnessError("controller exited with %s during start-up; log: %s"
                                   % (self.proc.returncode, self.log_paths()))
            if self.ping_up():
                return
            time.sleep(0.2)
        raise HarnessError("controller not UP after %ss; log: %s" % (timeout, self.log_paths()))

    def kill9(self):
        """SIGKILL the controller (whole process group) and reap it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.proc = None
        # the pid file of a killed slurmctld is stale; a new one is written on restart

    def terminate(self):
        """SIGTERM (graceful shutdown, state saved) then SIGKILL after 10 s."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self):
        """Start the controller again on the same config and state dir; wait until UP."""
        if self.proc is not None:
            self.terminate()
        self._spawn()
        self.wait_up()

    # ------------------------------------------------------------ node daemons (flurmnd)
    def start_node(self, name, env=None):
        """Start flurmnd -N NAME (FLURMND = path of the built binary)."""
        exe = os.environ.get("FLURMND", "")
        if not exe or not os.access(exe, os.X_OK):
            raise HarnessError("flurmnd binary not found (FLURMND=%r)" % exe)
        e = self.env()
        e.update(env or {})
        log = open(os.path.join(self.dir, "log", "flurmnd-%s.log" % name), "ab")
        with log:
            self.node_procs[name] = subprocess.Popen(
                [exe, "-D", "-f", self.conf, "-N", name], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=e, start_new_session=True)

    def kill9_node(self, name):
        """SIGKILL flurmnd NAME only (its jobs' supervisors live in their own sessions)."""
        p = self.node_procs.pop(name, None)
        if p is not None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            p.wait(timeout=10)

    def stop_nodes(self):
        for name, p in list(self.node_procs.items()):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.node_procs.clear()
        self.kill_leftover_jobs()

    def kill_leftover_jobs(self):
        """Job supervisors outlive their flurmnd by design (a restarted flurmnd re-attaches), and
        a suspended job would wait forever: end this cluster's supervisors and everything in their
        sessions, so that no test leaves processes behind."""
        if not self.conf:
            return
        mine = os.getsid(0)
        sids = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
                if os.path.basename(argv[0]).startswith(b"flurmnd") and self.conf.encode() in argv:
                    sids.add(os.getsid(int(pid)))
            except OSError:
                continue
        sids.discard(mine)
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.getsid(int(pid)) in sids:
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                continue

    def wait_for(self, what, fn, timeout=30, interval=0.2):
        """Poll FN until it returns a true value; return it, or raise naming WHAT."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(interval)
        raise HarnessError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))

    def stop(self):
        if self.dir is None:
            return
        self.stop_nodes()
        if self.proc is not None:
            # SIGTERM first: flurmctld shuts down cleanly, which is also when LeakSanitizer
            # reports (sanitizer builds); SIGKILL whatever is still there after 10 s.
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    pass
            self.proc = None
        sanitizer = self.sanitizer_report()
        if sanitizer:
            self.failed = True
        if os.path.isdir(os.path.join(self.dir, "munge")):
            subprocess.run(["bash", MUNGED_SH, "stop", os.path.join(self.dir, "munge")],
                           capture_output=True, timeout=30)
        if self.failed or os.environ.get("FLURM_TEST_KEEP"):
            sys.stderr.write("\n[harness] kept %s; controller log: %s\n"
                             % (self.dir, self.log_paths()))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        if sanitizer:
            raise HarnessError("sanitizer report in the controller's output:\n" + sanitizer)

    def sanitizer_report(self):
        """The first AddressSanitizer/LeakSanitizer/UBSan report in the controller's output."""
        for name in ("ctld.stdout", "ctld.log"):
            path = os.path.join(self.dir, "log", name)
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                i = text.find(marker)
                if i >= 0:
                    return text[max(0, i - 200):i + 3000]
        return None

    def log_paths(self):
        return "%s/log/ctld.log (stdout: %s/log/ctld.stdout)" % (self.dir, self.dir)

    # ------------------------------------------------------------ clients
    def run(self, *argv, check=True, timeout=CLIENT_TIMEOUT, cwd=None, input=None):
        """Run a client command with SLURM_CONF set; return (rc, stdout, stderr)."""
        try:
            p = subprocess.run(list(argv), capture_output=True, text=True, env=self.env(),
                               timeout=timeout, cwd=cwd or os.path.join(self.dir, "work"),
                               input=input)
        except subprocess.TimeoutExpired as e:
            raise HarnessError("timeout after %ss: %s" % (timeout, " ".join(argv))) from e
        if check and p.returncode != 0:
            raise HarnessError("%s -> rc %d\nstdout: %s\nstderr: %s"
                               % (" ".join(argv), p.returncode, p.stdout, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def sbatch(self, *args, script=None):
        """sbatch --parsable ARGS (default: --wrap 'sleep 100'); returns the job id string."""
        argv = ["sbatch", "--parsable"] + list(args)
        if script is None and not any(a.startswith("--wrap") for a in args):
            argv += ["--wrap", "sleep 100"]
        if script is not None:
            argv.append(script)
        _, out, _ = self.run(*argv)
        return out.strip().split(";")[0]

    def write_file(self, name, text, mode=0o644):
        path = os.path.join(self.dir, "work", name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # ------------------------------------------------------------ raw protocol
    def munge_cred(self, payload=None):
        """A fresh munge credential from our munged (empty payload unless given)."""
        argv = ["munge", "-S", self.munge_sock]
        if payload is None:
            argv.append("-n")
            p = subprocess.run(argv, capture_output=True, timeout=10)
        else:
            p = subprocess.run(argv, capture_output=True, timeout=10, input=payload)
        if p.returncode != 0:
            raise HarnessError("munge failed: %s" % p.stderr.decode(errors="replace"))
        return p.stdout.strip().decode()

    def raw_exchange(self, data, timeout=5.0, close_write=False):
        """Send raw bytes to the controller; return everything it answers before closing
        (b'' if it closes silently).  Returns None if it neither answered nor closed in time."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(data)
                if close_write:
                    s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                return b""
            except OSError as e:
                # the controller may close before our shutdown(): ENOTCONN means it already did
                if e.errno != errno.ENOTCONN:
                    raise
                return b""
            chunks = []
            s.settimeout(timeout)
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    return None if not chunks else b"".join(chunks)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)


# ------------------------------------------------------------ helpers
def parse_kv(text):
    """Parse scontrol's 'Key=Value Key2=Value2' output into a dict (first occurrence wins).
    Values containing spaces (e.g. a node Reason) are cut at the first space."""
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out.setdefault(k, v)
    return out


PROTOCOL_VERSION = 0x2600
AUTH_PLUGIN_MUNGE = 101
REQUEST_PING = 1008
RESPONSE_SLURM_RC = 8001


def packstr(s):
    """SLURM packstr: u32 length including NUL, bytes, NUL."""
    if s is None:
        return struct.pack(">I", 0)
    b = s.encode() + b"\0"
    return struct.pack(">I", len(b)) + b


def build_frame(msg_type, body=b"", cred="MUNGE:garbage:", plugin_id=AUTH_PLUGIN_MUNGE,
                version=PROTOCOL_VERSION, flags=0):
    """A whole request frame incl. the 4-byte length prefix (protocol doc section 1.2/1.3)."""
    header = struct.pack(">HHHIHHH", version, flags, msg_type, len(body), 0, 0, 0)
    auth = struct.pack(">I", plugin_id) + packstr(cred)
    payload = header + auth + body
    return struct.pack(">I", len(payload)) + payload


def parse_response(data):
    """(msg_type, body) of one response frame, or None if data is not a whole frame."""
    if data is None or len(data) < 4 + 16:
        return None
    (n,) = struct.unpack(">I", data[:4])
    if len(data) < 4 + n:
        return None
    frame = data[4:4 + n]
    version, flags, msg_type, body_len, fwd, ret = struct.unpack(">HHHIHH", frame[:14])
    off = 14
    (family,) = struct.unpack(">H", frame[off:off + 2])
    off += 2
    if family != 0:
        return None  # controllers answer with AF_UNSPEC; not expected
    off += 4  # plugin id
    (clen,) = struct.unpack(">I", frame[off:off + 4])
    off += 4 + clen
    return msg_type, frame[off:off + body_len]


# ------------------------------------------------------------ several controllers (Raft)
import re  # noqa: E402
import threading  # noqa: E402

RAFT_LEADING = re.compile(r"raft: leading term (\d+)")
RAFT_FOLLOWING = re.compile(r"raft: following (\S+) \(term (\d+)\)")
RAFT_NOT_LEADING = re.compile(r"raft: no longer leading")
PING_LINE = re.compile(r"^Slurmctld\((\w+)\) at (\S+) is (UP|DOWN)\s*$")
HA_UP_TIMEOUT = 30   # seconds for N members to start and elect a leader


def free_port_on(addrs):
    """A TCP port free right now on every address in ADDRS (never 6817/6818)."""
    for _ in range(200):
        port = free_port()
        socks = []
        try:
            for a in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((a, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise HarnessError("no port free on all of %s" % (addrs,))


def loopback_usable(addrs):
    """None if a listener can be bound and reached on every address of ADDRS (127.0.0.N: the
    whole 127/8 is loopback on Linux), else why not."""
    for a in addrs:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((a, 0))
                s.listen(1)
                with socket.create_connection(s.getsockname(), timeout=2):
                    pass
        except OSError as e:
            return "%s: %s" % (a, e)
    return None


class HACluster(Cluster):
    """N flurmctld members of one Raft cluster (FLURM only) + munged, in a temp dir.

    slurm.conf lists SlurmctldHost=c1(127.0.0.1) ... cN(127.0.0.N), one SlurmctldPort for all (each
    member binds its own address) and SlurmctldParameters=flurm_node_port=P,flurm_peer_port=Q,
    flurm_admin_port=A.
    Member K runs `$FLURMCTLD -D -f DIR/slurm.conf -n cK`, stdout+stderr appended to
    DIR/log/ctld-cK.stdout; its state is DIR/state/flurmctld-cK.db.

    The leader is read from the logs of the living members: the last "raft: ..." line each
    process wrote since it was started; the leader is a process whose last such line is
    "raft: leading term T" with T >= every term the other living processes last reported.

    Clients run with DIR/slurm.conf (they try c1, then c2, ...: a refused connection moves on at
    once); run_via(NAME, ...) runs them with a conf naming NAME only (DIR/client-NAME.conf)."""

    def __init__(self, controllers=3, name="itest", nodes=4, extra_conf=()):
        super().__init__(name=name, nodes=nodes, extra_conf=extra_conf)
        if controllers < 2:
            raise ValueError("HACluster needs at least 2 controllers")
        self.members = ["c%d" % (i + 1) for i in range(controllers)]
        self.addrs = {m: "127.0.0.%d" % (i + 1) for i, m in enumerate(self.members)}
        self.procs = {}        # member name -> Popen (living or not yet reaped)
        self.log_start = {}    # member name -> offset of its log where the current process began
        self.peer_port = None
        self.node_port = None
        self.admin_port = None
        # members taken out of the Raft configuration (`flurm cluster remove`) that still run: the
        # leader functions below ignore their logs (nobody tells them who leads any more)
        self.non_members = set()

    # ------------------------------------------------------------ lifecycle
    def start(self):
        if CONTROLLER != "flurm":
            raise HarnessError("HACluster runs flurmctld only (FLURM_TEST_CONTROLLER=%s)" % CONTROLLER)
        why = loopback_usable(self.addrs.values())
        if why:
            raise HarnessError("loopback addresses not usable: %s" % why)
        controller_command("/dev/null")  # fail before creating anything if it is missing
        self.dir = tempfile.mkdtemp(prefix="flurm-itest-ha-")
        os.chmod(self.dir, 0o755)
        for sub in ("state", "spool", "log", "run", "work"):
            os.makedirs(os.path.join(self.dir, sub))
        try:
            out = subprocess.run(["bash", MUNGED_SH, "start", os.path.join(self.dir, "munge")],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                raise HarnessError("munged.sh start failed: %s%s" % (out.stdout, out.stderr))
            self.munge_sock = out.stdout.strip().splitlines()[-1]
            addrs = list(self.addrs.values())
            self.port = free_port_on(addrs)
            self.conf = os.path.join(self.dir, "slurm.conf")
            self._write_conf()
            for m in self.members:
                self.start_controller(m)
            self.wait_up(timeout=HA_UP_TIMEOUT)
        except BaseException:
            self.failed = True
            self.stop()
            raise
        return self

    def _write_conf(self):
        """The single-controller conf of Cluster, with the member lines and the peer port."""
        super()._write_conf()
        addrs = list(self.addrs.values())
        self.node_port = free_port_on(addrs)
        self.peer_port = free_port_on(addrs)
        while self.peer_port in (self.node_port, self.port):
            self.peer_port = free_port_on(addrs)
        while self.node_port == self.port:
            self.node_port = free_port_on(addrs)
        self.admin_port = free_port_on(addrs)
        while self.admin_port in (self.node_port, self.peer_port, self.port):
            self.admin_port = free_port_on(addrs)
        out = []
        with open(self.conf) as f:
            for line in f.read().splitlines():
                if line.startswith("SlurmctldHost="):
                    out += ["SlurmctldHost=%s(%s)" % (m, self.addrs[m]) for m in self.members]
                elif line.startswith("SlurmctldParameters="):
                    out.append("SlurmctldParameters=flurm_node_port=%d,flurm_peer_port=%d,"
                               "flurm_admin_port=%d" % (self.node_port, self.peer_port, self.admin_port))
                else:
                    out.append(line)
        with open(self.conf, "w") as f:
            f.write("\n".join(out) + "\n")
        for m in self.members:
            self.client_conf(m)

    def client_conf(self, name):
        """DIR/client-NAME.conf: DIR/slurm.conf with NAME as the only SlurmctldHost (for the
        clients only: they then talk to that member and no other)."""
        path = os.path.join(self.dir, "client-%s.conf" % name)
        with open(self.conf) as f:
            lines = f.read().splitlines()
        out, done = [], False
        for line in lines:
            if line.startswith("SlurmctldHost="):
                if not done:
                    out.append("SlurmctldHost=%s(%s)" % (name, self.addrs[name]))
                    done = True
            else:
                out.append(line)
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        return path

    def stdout_of(self, name):
        return os.path.join(self.dir, "log", "ctld-%s.stdout" % name)

    def start_controller(self, name, extra_args=(), extra_env=None):
        """Start member NAME (it must not be running) on the shared conf and its own state, with
        EXTRA_ENV ({var: value}) added to its environment."""
        p = self.procs.get(name)
        if p is not None and p.poll() is None:
            raise HarnessError("controller %s is already running (pid %d)" % (name, p.pid))
        argv = controller_command(self.conf) + ["-n", name] + list(extra_args)
        path = self.stdout_of(name)
        with open(path, "ab") as out:
            out.write(("---- [harness] start %s at %.3f: %s\n"
                       % (name, time.time(), " ".join(argv))).encode())
            out.flush()
            self.log_start[name] = out.tell()
            env = self.env()
            env.update(extra_env or {})
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                                stderr=subprocess.STDOUT, env=env,
                                                start_new_session=True)
        return self.procs[name]

    def state_db(self, name):
        """Member NAME's state store (DIR/state/flurmctld-NAME.db)."""
        return os.path.join(self.dir, "state", "flurmctld-%s.db" % name)

    def wipe_state(self, name):
        """Delete member NAME's state store (it must not be running): it restarts empty."""
        p = self.procs.get(name)
        if p is not None and p.poll() is None:
            raise HarnessError("controller %s is running: cannot wipe its state" % name)
        path = self.state_db(name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    def pid_of(self, name):
        p = self.procs.get(name)
        return p.pid if p is not None and p.poll() is None else None

    def kill9_controller(self, name):
        """SIGKILL member NAME (its whole process group) and reap it; returns the instant
        (time.monotonic()) just before the signal."""
        p = self.procs.pop(name, None)
        t = time.monotonic()
        if p is None:
            return t
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=10)
        return t

    def terminate_controller(self, name, grace=10):
        """SIGTERM member NAME, SIGKILL after GRACE seconds; reaped."""
        p = self.procs.pop(name, None)
        if p is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                break
            try:
                p.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                pass

    def restart_controller(self, name):
        self.terminate_controller(name)
        self.start_controller(name)

    def live(self):
        """Members whose process runs (an unexpected exit is kept for check_alive())."""
        return [m for m in self.members
                if m in self.procs and self.procs[m].poll() is None]

    def check_alive(self):
        """Raise if a member we started (and did not kill) has exited."""
        for m, p in self.procs.items():
            if p.poll() is not None:
                raise HarnessError("controller %s exited with %s; log: %s\n%s"
                                   % (m, p.returncode, self.stdout_of(m), self.log_tail(m)))

    # ------------------------------------------------------------ logs, leader
    def log_of(self, name, whole=False):
        """What the current process of NAME wrote (WHOLE: every process of NAME so far)."""
        try:
            with open(self.stdout_of(name), "rb") as f:
                if not whole:
                    f.seek(self.log_start.get(name, 0))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, name, lines=30):
        return "\n".join(self.log_of(name, whole=True).splitlines()[-lines:])

    def raft_state(self, name):
        """The last raft line of NAME's current process: ("leading", T), ("following", T, LEADER),
        ("not-leading",) or None."""
        last = None
        for line in self.log_of(name).splitlines():
            m = RAFT_LEADING.search(line)
            if m:
                last = ("leading", int(m.group(1)))
                continue
            m = RAFT_FOLLOWING.search(line)
            if m:
                last = ("following", int(m.group(2)), m.group(1))
                continue
            if RAFT_NOT_LEADING.search(line):
                last = ("not-leading",)
        return last

    def current_leader(self):
        """The leader now according to the logs of the living members, or None."""
        states = {m: self.raft_state(m) for m in self.live() if m not in self.non_members}
        terms = [s[1] for s in states.values() if s and len(s) > 1]
        if not terms:
            return None
        top = max(terms)
        leaders = [m for m, s in states.items() if s and s[0] == "leading" and s[1] == top]
        if len(leaders) > 1:
            raise HarnessError("two leaders in term %d: %s" % (top, leaders))
        return leaders[0] if leaders else None

    def leader(self, timeout=HA_UP_TIMEOUT, exclude=()):
        """Wait until the living members have a leader (not one of EXCLUDE); return its name."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            name = self.current_leader()
            if name and name not in exclude:
                return name
            if time.monotonic() >= deadline:
                raise HarnessError("no leader among %s after %ss (last raft lines: %s)"
                                   % (self.live(), timeout,
                                      {m: self.raft_state(m) for m in self.live()}))
            time.sleep(0.05)

    def followers(self):
        lead = self.current_leader()
        return [m for m in self.live() if m != lead]

    def settled(self, timeout=HA_UP_TIMEOUT, exclude=()):
        """Wait until there is a leader (not in EXCLUDE) and every other living member's last
        raft line is "following <leader> (term T)", T <= the leader's term (a member logs
        "following" when the leader it knows changes, so T may predate a re-election of the same
        leader); return the leader's name."""
        deadline = time.monotonic() + timeout
        while True:
            lead = self.leader(timeout=max(0.1, deadline - time.monotonic()), exclude=exclude)
            st = self.raft_state(lead)
            others = {m: self.raft_state(m) for m in self.live()
                      if m != lead and m not in self.non_members}
            if st and st[0] == "leading" and all(
                    s and s[0] == "following" and s[2] == lead and s[1] <= st[1]
                    for s in others.values()):
                return lead
            if time.monotonic() >= deadline:
                raise HarnessError("members do not all follow %s (%s) after %ss: %s"
                                   % (lead, st, timeout, others))
            time.sleep(0.05)

    def wait_log(self, name, pattern, timeout=HA_UP_TIMEOUT):
        """Wait until the current process of NAME logged a line matching PATTERN (a regex);
        return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_of(name))
            if m:
                return m
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                raise HarnessError("controller %s is not running while waiting for /%s/"
                                   % (name, pattern))
            if time.monotonic() >= deadline:
                raise HarnessError("%s did not log /%s/ within %ss; tail:\n%s"
                                   % (name, pattern, timeout, self.log_tail(name)))
            time.sleep(0.05)

    # ------------------------------------------------------------ scontrol ping
    def ping(self, timeout=15):
        """{member: "UP"|"DOWN"} as `scontrol ping` prints it (one line per SlurmctldHost)."""
        rc, out, err = self.run("scontrol", "ping", check=False, timeout=timeout)
        res = {}
        for line in out.splitlines():
            m = PING_LINE.match(line.strip())
            if m:
                res[m.group(2)] = m.group(3)
        return res

    def ping_up(self):
        live = self.live()
        st = self.ping()
        return bool(live) and all(st.get(m) == "UP" for m in live)

    def wait_up(self, timeout=HA_UP_TIMEOUT):
        """Every living member answers UP in `scontrol ping` and there is a leader."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            self.check_alive()
            last = self.ping()
            if all(last.get(m) == "UP" for m in self.live()) and self.current_leader():
                return self.current_leader()
            if time.monotonic() >= deadline:
                raise HarnessError("cluster not up after %ss: ping %s, raft %s; logs: %s"
                                   % (timeout, last, {m: self.raft_state(m) for m in self.live()},
                                      self.log_paths()))
            time.sleep(0.2)

    def takeover(self, name):
        """`scontrol takeover INDEX` (22.05: REQUEST_TAKEOVER to the INDEX-th SlurmctldHost,
        1 <= INDEX < count): NAME must not be c1. Returns (rc, stdout, stderr)."""
        idx = self.members.index(name)
        if idx == 0:
            raise HarnessError("scontrol takeover cannot address the first SlurmctldHost")
        return self.run("scontrol", "takeover", str(idx), check=False)

    # ------------------------------------------------------------ clients
    def env(self, conf=None):
        e = super().env()
        if conf:
            e["SLURM_CONF"] = conf
        return e

    def run_via(self, name, *argv, check=True, timeout=CLIENT_TIMEOUT, input=None):
        """A client command that can reach member NAME only."""
        conf = os.path.join(self.dir, "client-%s.conf" % name)
        try:
            p = subprocess.run(list(argv), capture_output=True, text=True, env=self.env(conf),
                               timeout=timeout, cwd=os.path.join(self.dir, "work"), input=input)
        except subprocess.TimeoutExpired as e:
            raise HarnessError("timeout after %ss: %s (via %s)" % (timeout, " ".join(argv), name)) from e
        if check and p.returncode != 0:
            raise HarnessError("%s (via %s) -> rc %d\nstdout: %s\nstderr: %s"
                               % (" ".join(argv), name, p.returncode, p.stdout, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def jobs(self):
        """{job id: job name} of every job the cluster lists (all states)."""
        _, out, _ = self.run("squeue", "-h", "-a", "-t", "all", "-o", "%i %j")
        res = {}
        for line in out.splitlines():
            f = line.split(None, 1)
            if f:
                jid = f[0]
                if jid in res:
                    raise HarnessError("squeue lists job %s twice:\n%s" % (jid, out))
                res[jid] = f[1].strip() if len(f) > 1 else ""
        return res

    # ------------------------------------------------------------ teardown, diagnostics
    def stop(self):
        if self.dir is None:
            return
        self.stop_nodes()
        # all members at once: none waits for an election after another one left
        procs = list(self.procs.values())
        self.procs = {}
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            alive = []
            for p in procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, sig)
                        alive.append(p)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + wait
            for p in alive:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            procs = [p for p in alive if p.poll() is None]
            if not procs:
                break
        super().stop()

    def sanitizer_report(self):
        for m in self.members:
            try:
                with open(self.stdout_of(m), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                i = text.find(marker)
                if i >= 0:
                    return "[%s] %s" % (m, text[max(0, i - 200):i + 3000])
        return None

    def log_paths(self):
        return " ".join(self.stdout_of(m) for m in self.members) if self.dir else "(removed)"

    # Cluster's single-controller calls make no sense here
    def kill9(self):
        raise HarnessError("HACluster: use kill9_controller(name)")

    def terminate(self):
        raise HarnessError("HACluster: use terminate_controller(name)")

    def restart(self):
        raise HarnessError("HACluster: use restart_controller(name)")


class Submitters:
    """W threads submitting `sbatch ARGS -J <tag>-<w>-<i>` in a loop (real sbatch, default conf)
    until stop() — each records (name, started, ended, rc, stdout, stderr); acked() gives
    {name: job id} of those that printed "Submitted batch job N"."""

    def __init__(self, cluster, workers=4, args=("--hold", "-o", "/dev/null", "--wrap", "true"),
                 tag="s", timeout=CLIENT_TIMEOUT):
        self.cluster = cluster
        self.args = list(args)
        self.tag = tag
        self.timeout = timeout
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(w,), daemon=True)
                        for w in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _loop(self, w):
        i = 0
        while not self.stopping.is_set():
            name = "%s-%d-%d" % (self.tag, w, i)
            i += 1
            t0 = time.monotonic()
            try:
                p = subprocess.run(["sbatch", "-J", name] + self.args, capture_output=True,
                                   text=True, env=self.cluster.env(), timeout=self.timeout,
                                   cwd=os.path.join(self.cluster.dir, "work"))
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired:
                rc, out, err = -1, "", "timeout after %ss" % self.timeout
            with self.lock:
                self.records.append((name, t0, time.monotonic(), rc, out, err))

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 10)

    def acked(self):
        """{job name: job id} of the submissions sbatch acknowledged."""
        res = {}
        with self.lock:
            for name, _, _, rc, out, _ in self.records:
                m = re.search(r"Submitted batch job (\d+)", out)
                if m:
                    res[name] = m.group(1)
        return res
