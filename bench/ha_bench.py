#!/usr/bin/python3
"""bench/ha_bench.py — the figures of bench/ha-bench.sh (run that; it builds and checks first).

Parts (BENCH_PARTS, comma list; default all):
  failover    3 members; TRIALS times: SIGKILL the leader, then start a real `sbatch --hold` every
              0.1 s through the default conf (c1 first; refused -> next) until one is
              acknowledged. Figures: kill -> first acknowledged sbatch (median, worst), kill ->
              "raft: leading" of the new leader in its log, and what a single client started at
              the kill saw. The killed member is restarted and the cluster settled between trials.
  throughput  flurm-bench submit cells (REQUEST_SUBMIT_BATCH_JOB of a held job, one connection per
              RPC, reply credential verified) at CONC concurrent clients for SECS each, against:
              3 members through the leader, 3 members through a follower (forwarded), one
              flurmctld, the real slurmctld 22.05 — each on a fresh state. Figures: submits/s and
              client-side p50/p99 latency (for HA: the commit latency seen by a client), plus
              real `sbatch` from 4 shells for SECS.
  catchup     3 members: stop follower F, submit CATCHUP held jobs (rpcbench.py of the SLURM
              reference peer: exact count, fresh munge credential each) through the leader, note
              the leader's LAST index (`flurm cluster status`), stop followers until leader + F
              are just a majority, restart F. Figures from F's restart: answers `scontrol ping`,
              logs "raft: following", logs "raft: installed the leader's snapshot", logs
              "raft: caught up" (if it ever does), its APPLIED index in `flurm cluster status`
              reaches that LAST (the catch-up time proper), and the first acknowledged sbatch
              (every commit then needs F: the client-side view).
Figures, never assertions. Environment: FLURMCTLD, FLURM_BENCH, RPCBENCH, BENCH_* (see
ha-bench.sh).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from harness import Cluster, HACluster, Submitters  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
TRIALS = int(os.environ.get("BENCH_TRIALS", "3" if QUICK else "10"))
SECS = float(os.environ.get("BENCH_SECS", "2" if QUICK else "5"))
CONC = os.environ.get("BENCH_CONC", "1,16" if QUICK else "1,4,16,64")
CATCHUP = int(os.environ.get("BENCH_CATCHUP", "10000" if QUICK else "100000"))
PARTS = os.environ.get("BENCH_PARTS", "failover,throughput,catchup").split(",")
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "3"))
SIDES = os.environ.get("BENCH_SIDES", "ha-leader,ha-follower,flurm1,slurm").split(",")
FLURM_BENCH = os.environ.get("FLURM_BENCH", os.path.join(ROOT, "build", "bench", "flurm-bench"))
FLURM_TOOL = os.environ.get("FLURM_TOOL", os.path.join(ROOT, "build", "bin", "flurm", "flurm"))
RPCBENCH = os.environ.get("RPCBENCH", os.path.join(os.path.dirname(ROOT), "shared", "tools",
                                                   "slurm-peer", "rpcbench.py"))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "slurm-22.05", "sbatch", "request.bin")
EXTRA = ["MaxJobCount=500000"]
RAW = []          # every figure line, also printed to stderr as it comes


def log(msg):
    sys.stderr.write("[ha-bench] %s\n" % msg)
    sys.stderr.flush()


def figure(line):
    RAW.append(line)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("%.3f" % v if v < 10 else "%.2f" % v if v < 100 else "%.0f" % v) + unit
    return str(v) + unit


class Side:
    """A cluster that is stopped (kept when it failed) whatever happens."""

    def __init__(self, cluster, controller="flurm"):
        self.c = cluster
        self.controller = controller

    def __enter__(self):
        harness.CONTROLLER = self.controller
        try:
            self.c.start()
        finally:
            harness.CONTROLLER = "flurm"
        return self.c

    def __exit__(self, et, e, tb):
        if et is not None:
            self.c.failed = True
        if os.environ.get("BENCH_KEEP") == "1":
            self.c.failed = True
        harness.CONTROLLER = self.controller
        try:
            self.c.stop()
        finally:
            harness.CONTROLLER = "flurm"
        return False


# ---------------------------------------------------------------- (a) failover
def sbatch_popen(c):
    return subprocess.Popen(["sbatch", "--hold", "-J", "fo", "-o", "/dev/null", "--wrap", "true"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=c.env(), cwd=os.path.join(c.dir, "work"))


def failover_trial(c, limit=60.0, every=0.1):
    old = c.settled()
    t_kill = c.kill9_controller(old)
    probes = []          # [t_start, Popen, t_end, rc]
    t_lead = None
    first_ack = None
    last_spawn = -1.0
    while True:
        now = time.monotonic()
        if t_lead is None and c.current_leader():
            t_lead = now - t_kill
        if now - last_spawn >= every and sum(1 for p in probes if p[2] is None) < 64:
            probes.append([now, sbatch_popen(c), None, None])
            last_spawn = now
        for p in probes:
            if p[2] is None and p[1].poll() is not None:
                p[2], p[3] = time.monotonic(), p[1].returncode
                out = p[1].stdout.read()
                if p[3] == 0 and "Submitted batch job" in out and (first_ack is None or p[2] < first_ack):
                    first_ack = p[2]
        if first_ack is not None or now - t_kill > limit:
            break
        time.sleep(0.01)
    # the first client (started at the kill) is let finish: what one user retrying nothing saw
    first = probes[0]
    try:
        first[1].wait(timeout=60)
        if first[2] is None:
            first[2], first[3] = time.monotonic(), first[1].returncode
    except subprocess.TimeoutExpired:
        pass
    for p in probes[1:]:
        if p[2] is None:
            p[1].kill()
        p[1].wait()
    first_err = ""
    if first[3] not in (0, None):
        first_err = (first[1].stderr.read().strip().splitlines() or [""])[-1]
    for p in probes:
        p[1].stdout.close()
        p[1].stderr.close()
    while t_lead is None and time.monotonic() - t_kill < limit:
        if c.current_leader():
            t_lead = time.monotonic() - t_kill
        time.sleep(0.01)
    c.start_controller(old)
    new = c.settled()
    c.wait_up()
    return {
        "killed": old, "new": new,
        "ack_s": None if first_ack is None else first_ack - t_kill,
        "lead_s": t_lead,
        "first_client_s": None if first[2] is None else first[2] - t_kill,
        "first_client_rc": first[3], "first_client_err": first_err,
        "probes": len(probes),
    }


def part_failover():
    res = []
    with Side(HACluster(controllers=MEMBERS, extra_conf=EXTRA)) as c:
        c.settled()
        for i in range(TRIALS):
            r = failover_trial(c)
            res.append(r)
            figure("failover trial=%d killed=%s new_leader=%s kill_to_first_ack_s=%s "
                   "kill_to_leading_log_s=%s first_client_s=%s first_client_rc=%s probes=%d%s"
                   % (i + 1, r["killed"], r["new"], fmt(r["ack_s"]), fmt(r["lead_s"]),
                      fmt(r["first_client_s"]), r["first_client_rc"], r["probes"],
                      ' first_client_err="%s"' % r["first_client_err"] if r["first_client_err"] else ""))
    acks = [r["ack_s"] for r in res if r["ack_s"] is not None]
    leads = [r["lead_s"] for r in res if r["lead_s"] is not None]
    firsts = [r["first_client_s"] for r in res if r["first_client_s"] is not None]
    return {
        "trials": len(res),
        "no_ack": len(res) - len(acks),
        "ack_med": statistics.median(acks) if acks else None, "ack_max": max(acks) if acks else None,
        "lead_med": statistics.median(leads) if leads else None, "lead_max": max(leads) if leads else None,
        "first_med": statistics.median(firsts) if firsts else None,
        "first_max": max(firsts) if firsts else None,
        "first_failed": sum(1 for r in res if r["first_client_rc"] not in (0, None)),
        "first_errs": sorted({r["first_client_err"] for r in res if r["first_client_err"]}),
    }


# ---------------------------------------------------------------- (b)+(c) throughput, latency
RPC_LINE = re.compile(r"^rpc label=(\S+) kind=submit conc=(\d+) n=(\d+) secs=(\S+) rps=(\S+) "
                      r"p50_us=(\S+) p99_us=(\S+) max_us=(\S+) errors=(\d+)")


def flurm_bench(conf, label):
    """{conc: {rps, p50, p99, errors}} of flurm-bench submit cells against CONF's first host."""
    p = subprocess.run([FLURM_BENCH, "-f", conf, "-t", str(SECS), "-c", CONC, "--rpc", "submit",
                        "--label", label], capture_output=True, text=True,
                       timeout=120 + 4 * SECS * len(CONC.split(",")))
    cells = {}
    for line in p.stdout.splitlines():
        m = RPC_LINE.match(line)
        if m:
            figure(line)
            cells[int(m.group(2))] = {"rps": float(m.group(5)), "p50": float(m.group(6)),
                                      "p99": float(m.group(7)), "errors": int(m.group(9)),
                                      "n": int(m.group(3))}
        elif line.startswith("error"):
            figure(line)
    if p.returncode != 0 or not cells:
        log("flurm-bench %s: rc %d: %s" % (label, p.returncode, p.stderr.strip()[-2000:]))
    return cells


def cpu_s(pid):
    """User + system CPU seconds PID has used so far (/proc/PID/stat utime, stime)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def bench_with_cpu(conf, label, pids):
    """flurm_bench(CONF, LABEL) and the CPU microseconds per acknowledged submit that each of
    PIDS ({name: pid}) spent over all its cells."""
    before = {n: cpu_s(p) for n, p in pids.items()}
    cells = flurm_bench(conf, label)
    total = sum(c["n"] for c in cells.values())
    cpu = {}
    for n, p in pids.items():
        after = cpu_s(p)
        if before[n] is not None and after is not None and total:
            cpu[n] = (after - before[n]) * 1e6 / total
            figure("cpu label=%s process=%s submits=%d cpu_us_per_submit=%.1f" % (label, n, total, cpu[n]))
    return cells, cpu


def sbatch_rate(c, label):
    """Real `sbatch --hold` from 4 shells for SECS: acknowledged submissions per second."""
    s = Submitters(c, workers=4, tag="tp").start()
    t0 = time.monotonic()
    time.sleep(SECS)
    s.stop()
    wall = time.monotonic() - t0
    n = len(s.acked())
    failed = sum(1 for r in s.records if r[3] != 0)
    figure("sbatch label=%s shells=4 acked=%d failed=%d secs=%.2f per_s=%.1f"
           % (label, n, failed, wall, n / wall))
    return n / wall


def part_throughput():
    sides = {}
    for label in ("ha%d-leader" % MEMBERS, "ha%d-follower" % MEMBERS):
        if label.replace("%d" % MEMBERS, "", 1) not in SIDES:
            continue
        with Side(HACluster(controllers=MEMBERS, extra_conf=EXTRA)) as c:
            lead = c.settled()
            target = lead if label.endswith("leader") else [m for m in c.members if m != lead][0]
            log("%s: flurm-bench through %s (leader %s)" % (label, target, lead))
            pids = {m: c.procs[m].pid for m in c.members if m in c.procs and c.procs[m].poll() is None}
            pids = {("leader" if m == lead else "follower " + m): p for m, p in pids.items()}
            cells, cpu = bench_with_cpu(os.path.join(c.dir, "client-%s.conf" % target), label, pids)
            sides[label] = {"cells": cells, "cpu": cpu, "sbatch": sbatch_rate(c, label)}
    if "flurm1" in SIDES:
        with Side(Cluster(extra_conf=EXTRA)) as c:
            log("flurm1: one flurmctld")
            cells, cpu = bench_with_cpu(c.conf, "flurm1", {"leader": c.proc.pid})
            sides["flurm1"] = {"cells": cells, "cpu": cpu, "sbatch": sbatch_rate(c, "flurm1")}
    slurmctld = shutil.which("slurmctld") or "/usr/sbin/slurmctld"
    if "slurm" not in SIDES:
        pass
    elif os.access(slurmctld, os.X_OK) and os.environ.get("BENCH_NO_SLURM") != "1":
        with Side(Cluster(extra_conf=EXTRA), controller="slurm") as c:
            log("slurm: the real slurmctld 22.05")
            cells, cpu = bench_with_cpu(c.conf, "slurm", {"leader": c.proc.pid})
            sides["slurm"] = {"cells": cells, "cpu": cpu, "sbatch": sbatch_rate(c, "slurm")}
    else:
        log("slurmctld not installed (or BENCH_NO_SLURM=1): its column is n/a")
    return sides


# ---------------------------------------------------------------- (d) catch-up
def rpcbench_fill(conf, n):
    """N held-job submissions through CONF's first host with rpcbench.py; (per_s, errors)."""
    par = 8
    e = dict(os.environ, SLURM_CONF=conf)
    p = subprocess.run(["/usr/bin/python3", RPCBENCH, "--ops", "", "--fixture", FIXTURE, "--n", str(n),
                        "--par", str(par), "--repeats", "1", "--max-s", "3600"],
                       capture_output=True, text=True, env=e, timeout=4000)
    per_s, errors, count = None, None, None
    for line in p.stdout.splitlines():
        m = re.match(r"^rpc_\S+ n=(\d+) per_s=(\d+) .*errors=(\d+)", line)
        if m:
            figure("fill " + line)
            count, per_s, errors = int(m.group(1)), float(m.group(2)), int(m.group(3))
    if p.returncode != 0 or per_s is None:
        log("rpcbench.py: rc %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[-2000:]))
    return count, per_s, errors


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


STATUS_HEADER = re.compile(r"^cluster (\S+): leader (\S+), term (\d+)$")


def cluster_status(c):
    """`flurm cluster status`: (leader, {member: {column: value}}), or None (no tool, no
    majority, unreadable)."""
    if not os.access(FLURM_TOOL, os.X_OK):
        return None
    try:
        p = subprocess.run([FLURM_TOOL, "cluster", "status"], capture_output=True, text=True,
                           env=c.env(), timeout=10)
    except subprocess.TimeoutExpired:
        return None
    lines = p.stdout.splitlines()
    if p.returncode != 0 or len(lines) < 2:
        return None
    m = STATUS_HEADER.match(lines[0])
    cols = lines[1].split()
    rows = {}
    for line in lines[2:]:
        f = line.split()
        if len(f) == len(cols):
            rows[f[0]] = dict(zip(cols, f))
    return (m.group(2) if m else None), rows


def part_catchup():
    with Side(HACluster(controllers=MEMBERS, extra_conf=EXTRA)) as c:
        lead = c.settled()
        f = [m for m in c.members if m != lead][0]
        c.kill9_controller(f)
        log("catch-up: %s stopped; %d submissions through the leader %s" % (f, CATCHUP, lead))
        count, per_s, errors = rpcbench_fill(os.path.join(c.dir, "client-%s.conf" % lead), CATCHUP)
        db = os.path.join(c.dir, "state", "flurmctld-%s.db")
        lead_db, f_db = du(db % lead), du(db % f)
        st = cluster_status(c)
        target = int(st[1][lead]["LAST"]) if st and lead in st[1] else None
                # stop followers until leader + f are exactly a majority: every commit then needs f
        majority = MEMBERS // 2 + 1
        others = [m for m in c.live() if m not in (lead, f)]
        for m in others[majority - 2:]:
            c.kill9_controller(m)
        t0 = time.monotonic()
        c.start_controller(f)
        seen = {}
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                now = time.monotonic() - t0
                text = c.log_of(f)
                if "follow" not in seen and re.search(r"raft: following \S+ \(term \d+\)", text):
                    seen["follow"] = now
                if "caught" not in seen and re.search(r"raft: caught up", text):
                    seen["caught"] = now
                if "snapshot" not in seen and re.search(r"raft: installed the leader's snapshot", text):
                    seen["snapshot"] = now
                if "up" not in seen and c.run_via(f, "scontrol", "ping", check=False,
                                                  timeout=10)[1].find(" is UP") >= 0:
                    seen["up"] = now
                time.sleep(0.02)

        def watch_status():   # its own thread: one status call takes a while
            polls = []
            while not stop.is_set() and target is not None and "applied" not in seen:
                t1 = time.monotonic()
                st = cluster_status(c)
                polls.append(time.monotonic() - t1)
                row = st[1].get(f) if st else None
                if row and row.get("APPLIED", "-").isdigit():
                    seen.setdefault("applied0", int(row["APPLIED"]))
                    if int(row["APPLIED"]) >= target:
                        # the instant is somewhere in the call: take its middle
                        seen["applied"] = (t1 + time.monotonic()) / 2 - t0
                time.sleep(0.02)
            if polls:
                seen["status_call_s"] = statistics.median(polls)

        w = threading.Thread(target=watch, daemon=True)
        w.start()
        w2 = threading.Thread(target=watch_status, daemon=True)
        w2.start()
        t_ack, tries, sb_errors = None, 0, {}
        deadline = t0 + 1800
        while time.monotonic() < deadline:
            tries += 1
            rc, out, err = c.run("sbatch", "--hold", "-J", "cu", "-o", "/dev/null", "--wrap", "true",
                                 check=False, timeout=120)
            if rc == 0 and "Submitted batch job" in out:
                t_ack = time.monotonic() - t0
                break
            what = (err.strip().splitlines() or ["rc %d" % rc])[-1]
            sb_errors[what] = sb_errors.get(what, 0) + 1
        end = time.monotonic() + 10
        while (("caught" not in seen) or (target is not None and "applied" not in seen)) \
                and time.monotonic() < end and c.pid_of(f):
            time.sleep(0.05)
        stop.set()
        w.join(timeout=15)
        w2.join(timeout=15)
        r = {"member": f, "submitted": count, "fill_per_s": per_s, "fill_errors": errors,
             "leader_db_bytes": lead_db, "member_db_bytes_before": f_db,
             "up_s": seen.get("up"), "follow_s": seen.get("follow"), "caught_s": seen.get("caught"),
             "snapshot_s": seen.get("snapshot"), "leader_last_index": target,
             "member_applied_first_seen": seen.get("applied0"), "applied_s": seen.get("applied"),
             "status_call_s": seen.get("status_call_s"),
             "first_ack_s": t_ack, "sbatch_tries": tries}
        figure("catchup " + " ".join("%s=%s" % (k, fmt(v)) for k, v in r.items()))
        for e, n in sorted(sb_errors.items(), key=lambda x: -x[1]):
            figure('catchup_sbatch_error count=%d what="%s"' % (n, e))
        r["errors"] = sb_errors
        return r


# ---------------------------------------------------------------- the report
def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def report(fo, tp, cu):
    print()
    print("HA flurmctld: %d members on 127.0.0.1..%d (one machine, %d CPUs)"
          % (MEMBERS, MEMBERS, os.cpu_count() or 0))
    if fo:
        print()
        print("(a) failover: SIGKILL of the leader -> first acknowledged sbatch (%d trials; a new "
              "sbatch every 0.1 s through the default conf)" % fo["trials"])
        print("%-52s | %8s | %8s" % ("figure", "median", "worst"))
        print("-" * 52 + "-+----------+---------")
        print("%-52s | %8s | %8s" % ("kill -> first acknowledged sbatch (s)", fmt(fo["ack_med"]), fmt(fo["ack_max"])))
        print("%-52s | %8s | %8s" % ("kill -> new leader logs 'raft: leading' (s)", fmt(fo["lead_med"]), fmt(fo["lead_max"])))
        print("%-52s | %8s | %8s" % ("one sbatch started at the kill: its duration (s)", fmt(fo["first_med"]), fmt(fo["first_max"])))
        print("trials without an acknowledged sbatch within 60 s: %d; sbatch started at the kill that "
              "failed: %d%s" % (fo["no_ack"], fo["first_failed"],
                                ("; its errors: " + " | ".join(fo["first_errs"])) if fo["first_errs"] else ""))
    if tp:
        print()
        print("(b) submit throughput and (c) client-side submit latency (flurm-bench: held-job "
              "REQUEST_SUBMIT_BATCH_JOB, %s s per cell, fresh state per column)" % fmt(SECS))
        cols = [k for k in ("ha%d-leader" % MEMBERS, "ha%d-follower" % MEMBERS, "flurm1", "slurm")]
        head = "%-30s" % "figure" + "".join(" | %13s" % k for k in cols) + " | %9s | %9s" % ("HA/flurm1", "HA/slurm")
        print(head)
        print("-" * len(head))
        lead_label = cols[0]

        def cell(side, conc, key):
            s = tp.get(side)
            if not s or conc not in s["cells"]:
                return None
            return s["cells"][conc][key]
        for conc in [int(x) for x in CONC.split(",")]:
            for key, name, better in (("rps", "submits/s", "hi"), ("p50", "p50 us", "lo"), ("p99", "p99 us", "lo")):
                vals = [cell(s, conc, key) for s in cols]
                ha, one, sl = vals[0], vals[2], vals[3]
                r1 = ratio(ha, one) if better == "hi" else ratio(one, ha)
                r2 = ratio(ha, sl) if better == "hi" else ratio(sl, ha)
                print("%-30s" % ("%s conc=%d" % (name, conc)) + "".join(" | %13s" % fmt(v) for v in vals)
                      + " | %9s | %9s" % (r1, r2))
            errs = [cell(s, conc, "errors") for s in cols]
            if any(errs):
                print("%-30s" % ("errors conc=%d" % conc) + "".join(" | %13s" % fmt(v) for v in errs))
        vals = [tp[s]["cpu"].get("leader") if s in tp and tp[s].get("cpu") else None for s in cols]
        print("%-30s" % "leader CPU us/submit (all cells)" + "".join(" | %13s" % fmt(v) for v in vals)
              + " | %9s | %9s" % (ratio(vals[0], vals[2]), ratio(vals[0], vals[3])))
        for s in cols:
            for n, v in sorted((tp.get(s) or {}).get("cpu", {}).items()):
                if n != "leader":
                    print("%-30s   %s: %s us/submit" % ("", s + " " + n, fmt(v)))
        vals = [tp[s]["sbatch"] if s in tp else None for s in cols]
        print("%-30s" % "real sbatch/s (4 shells)" + "".join(" | %13s" % fmt(v) for v in vals)
              + " | %9s | %9s" % (ratio(vals[0], vals[2]), ratio(vals[0], vals[3])))
        print("ratios: > 1 = the %s column is better (throughput: HA/other; latency: other/HA)" % lead_label)
    if cu:
        print()
        print("(d) catch-up of %s after %s submissions while it was down (fill: %s/s through the leader, "
              "errors %s; leader's store %s MB, %s's before %s MB)"
              % (cu["member"], fmt(cu["submitted"]), fmt(cu["fill_per_s"]), fmt(cu["fill_errors"]),
                 "%.1f" % (cu["leader_db_bytes"] / 1e6), cu["member"], "%.1f" % (cu["member_db_bytes_before"] / 1e6)))
        print("%-60s | %8s" % ("from the restart of %s" % cu["member"], "s"))
        print("-" * 60 + "-+---------")
        print("%-60s | %8s" % ("answers scontrol ping", fmt(cu["up_s"])))
        print("%-60s | %8s" % ("logs 'raft: following'", fmt(cu["follow_s"])))
        print("%-60s | %8s" % ("logs 'raft: installed the leader's snapshot'", fmt(cu["snapshot_s"])))
        print("%-60s | %8s" % ("logs 'raft: caught up'", fmt(cu["caught_s"])))
        print("%-60s | %8s" % ("its APPLIED >= the leader's LAST before (%s)" % fmt(cu["leader_last_index"]),
                               fmt(cu["applied_s"])))
        print("%-60s | %8s" % ("first acknowledged sbatch (other follower down: needs it)", fmt(cu["first_ack_s"])))
        if cu["errors"]:
            print("sbatch attempts before it: %d failed (%s)" % (
                sum(cu["errors"].values()), "; ".join("%dx %s" % (n, e) for e, n in cu["errors"].items())))
        if cu["applied_s"] is not None:
            print("APPLIED from `flurm cluster status` polled back to back (one call: %s s median): "
                  "the state caught up; the first acknowledged sbatch shows when its log did (a "
                  "commit needs its log, not its state)" % fmt(cu["status_call_s"]))
        if cu["caught_s"] is None and cu["applied_s"] is None:
            print("no 'raft: caught up' line: the sbatch figure is an upper bound (it includes an "
                  "election if the lone leader stepped down). A direct figure needs the member to log "
                  "'raft: caught up (index I)' or to expose its applied index next to the leader's "
                  "(e.g. in sdiag).")


def main():
    if os.getuid() != 0:
        raise SystemExit("run as root (SlurmUser=root; the benchmark's submitted job is root's)")
    fo = tp = cu = None
    if "failover" in PARTS:
        fo = part_failover()
    if "throughput" in PARTS:
        tp = part_throughput()
    if "catchup" in PARTS:
        cu = part_catchup()
    report(fo, tp, cu)
    out = os.environ.get("BENCH_OUT")
    if out:
        with open(out, "w") as f:
            f.write("\n".join(RAW) + "\n")


if __name__ == "__main__":
    main()
