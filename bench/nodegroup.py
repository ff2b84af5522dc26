#!/usr/bin/env python3
"""bench/nodegroup.py DIR CMDFILE — start the node daemons of bench/nodes.sh and own everything
they spawn.

Each line of CMDFILE is `NAME ARGV...` (shell words); the process is started in its own
session, its pid written to DIR/NAME.pid. This process is a child subreaper
(prctl PR_SET_CHILD_SUBREAPER): what the daemons detach (slurmstepd, flurmnd's job supervisors,
the jobs) is reparented here instead of to init, so

* on SIGTERM/SIGINT it stops the daemons (SIGTERM, SIGKILL after 10 s), then SIGKILLs whatever
  is left of its descendants (job leftovers) — only processes it started, transitively;
* the CPU of everything it reaped ends up in its RUSAGE_CHILDREN, written on exit to
  DIR/rusage as `cpu_s=<user+system seconds> user_s= sys_s=`.

DIR/ready appears once every daemon is started. A daemon that exits on its own is logged to
stderr with its status.
"""
import ctypes
import os
import resource
import shlex
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


def descendants(root):
    """Pids whose parent chain reaches ROOT (from /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        parent[int(d)] = int(st[st.rindex(")") + 2:].split()[1])
    out = []
    for pid in parent:
        p, hops = parent.get(pid), 0
        while p and p != root and hops < 64:
            p, hops = parent.get(p), hops + 1
        if p == root:
            out.append(pid)
    return out


def reap_nohang(names):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        if pid in names:
            sys.stderr.write("[nodegroup] %s (pid %d) exited: status %d\n"
                             % (names.pop(pid), pid, status))


def main():
    d, cmdfile = sys.argv[1], sys.argv[2]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("nodegroup: prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    names = {}
    daemons = []
    try:
        with open(cmdfile) as f:
            for line in f:
                words = shlex.split(line)
                if not words:
                    continue
                name, argv = words[0], words[1:]
                log = os.open(os.path.join(d, name + ".stdout"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                pid = os.fork()
                if pid == 0:
                    os.setsid()
                    null = os.open("/dev/null", os.O_RDONLY)
                    os.dup2(null, 0)
                    os.dup2(log, 1)
                    os.dup2(log, 2)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    try:
                        os.execv(argv[0], argv)
                    finally:
                        os._exit(127)
                os.close(log)
                names[pid] = name
                daemons.append(pid)
                with open(os.path.join(d, name + ".pid"), "w") as pf:
                    pf.write("%d\n" % pid)
        open(os.path.join(d, "ready"), "w").close()
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.5)   # nothing left to wait for; still answer SIGTERM
                continue
            if pid in names:
                sys.stderr.write("[nodegroup] %s (pid %d) exited: status %d\n"
                                 % (names.pop(pid), pid, status))
    except Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for pid in daemons:
        if pid in names:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    while any(p in names for p in daemons) and time.monotonic() < deadline:
        reap_nohang(names)
        time.sleep(0.05)
    me = os.getpid()
    for _ in range(50):
        left = descendants(me)
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        reap_nohang(names)
    deadline = time.monotonic() + 5
    while reap_nohang(names) and time.monotonic() < deadline:
        time.sleep(0.05)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.path.join(d, "rusage"), "w") as f:
        f.write("cpu_s=%.3f user_s=%.3f sys_s=%.3f\n"
                % (ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime))


if __name__ == "__main__":
    main()
