#!/usr/bin/python3
"""Who may read what: the real SLURM 22.05 clients run as two unprivileged users against a
controller (PrivateData=, batch scripts, hidden and AllowGroups partitions, the state directory).

    FLURMCTLD=build/bin/flurmctld/flurmctld python3 test_private.py -v
    FLURM_TEST_CONTROLLER=slurm python3 test_private.py -v          # the reference

Needs root: the test creates the system users flurmtest_alice and flurmtest_bob when they are
missing (useradd -M -r, kept afterwards: test_security.py uses them too) and runs the clients as
them with runuser. The cluster's temp dir (0755), slurm.conf (0644) and munge socket are
reachable by them. Without root every class is skipped.

Every expectation was recorded against the REAL slurmctld 22.05.8 (no accounting, so the only
privileged users are root and SlurmUser). What it does for the others:

* PrivateData=jobs: squeue (all forms), scontrol show job and sprio list only the user's own jobs;
  `squeue -j N` / `scontrol show job N` of another user's job: rc 1, "slurm_load_jobs error:
  Invalid job id specified" (job_mgr.c _hide_job_user_rec; pack_one_job then finds no job).
* PrivateData=nodes: REQUEST_NODE_INFO[_SINGLE] answered ESLURM_ACCESS_DENIED: sinfo rc 1
  "slurm_load_node: Access/permission denied", scontrol show node rc 1 "slurm_load_node error:
  Access/permission denied" (proc_req.c _slurm_rpc_dump_nodes / _dump_node_single).
* PrivateData=partitions: REQUEST_PARTITION_INFO refused likewise: sinfo rc 1
  "slurm_load_partitions: Access/permission denied"; squeue still lists the jobs (rc 0) but prints
  "slurm_load_partitions: Access/permission denied" on stderr; sbatch -p works.
* PrivateData=usage,users (and accounts, events, reservations): nothing a FLURM request shows
  changes (they restrict sshare, sacctmgr and reservations); `scontrol show config` prints the
  flags as "PrivateData = accounts,cloud,events,jobs,nodes,partitions,reservations,usage,users"
  for "all" and "none" without any.
* sdiag: readable by everybody whatever PrivateData says; `sdiag -r` by a user: rc 255,
  "slurm_reset_statistics: Access/permission denied".
* scontrol write batch_script of another user's job: rc 0 (!), stderr "job script retrieval
  failed: Invalid user id" (ESLURM_USER_ID_MISSING, proc_req.c _slurm_rpc_dump_batch_script),
  with or without PrivateData; root and the owner get the script.
* Without -a (SHOW_ALL), partitions a user cannot see (Hidden=YES, or AllowGroups not admitting
  them) are left out of sinfo / scontrol show partition ("Partition grp not found", rc 1), nodes
  that are only in such partitions are left out of sinfo -N / scontrol show node ("Node n4 not
  found", rc 1) and squeue leaves out the jobs in them; `scontrol show job N` still shows such a
  job. root sees Hidden partitions without -a.
* StateSaveLocation holds every script (slurmctld: hash.N/job.N/script; FLURM: the command log
  in flurmctld.db); none of it is readable by another user.
"""

import os
import pwd
import re
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster  # noqa: E402

IS_ROOT = os.geteuid() == 0
ALICE = "flurmtest_alice"
BOB = "flurmtest_bob"

SECRET = "FLURMTEST_SECRET_OF_ALICE"
INVALID_JOB = "slurm_load_jobs error: Invalid job id specified\n"
PRIVATE_ALL = "accounts,cloud,events,jobs,nodes,partitions,reservations,usage,users"


def setUpModule():
    if not IS_ROOT:
        return
    for user in (ALICE, BOB):
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "-M", "-r", "-U", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                            user], check=True, capture_output=True)


def show_records(text):
    """Records of `scontrol show job|node|partition` (blank-line separated) as dicts."""
    return [harness.parse_kv(b) for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]


@unittest.skipUnless(IS_ROOT, "needs root to create users and run the clients as them")
class PrivateTestCase(unittest.TestCase):
    """One cluster per class with EXTRA conf lines; alice, bob and root each submit one job."""

    EXTRA = ()
    cluster = None

    @classmethod
    def make_cluster(cls):
        return Cluster(extra_conf=cls.EXTRA)

    @classmethod
    def setUpClass(cls):
        cls._any_failed = False
        cls.cluster = cls.make_cluster()
        cls.cluster.start()
        try:
            script = "#!/bin/sh\n# %s\nsleep 100\n" % SECRET
            cls.j_alice = cls.submit(ALICE, "-J", "alice", input=script)
            cls.j_bob = cls.submit(BOB, "-J", "bob", "--wrap", "sleep 100")
            cls.j_root = cls.submit("root", "-J", "root", "--wrap", "sleep 100")
        except BaseException:
            cls.cluster.failed = True
            cls.cluster.stop()
            raise

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

    @classmethod
    def as_user(cls, user, *argv, input=None):
        """(rc, stdout, stderr) of ARGV run as USER (cwd /tmp, the cluster's SLURM_CONF)."""
        return cls.cluster.run("runuser", "-u", user, "--", *argv, check=False, cwd="/tmp", input=input)

    @classmethod
    def submit(cls, user, *args, input=None):
        rc, out, err = cls.as_user(user, "sbatch", "--parsable", *args, input=input)
        if rc != 0:
            raise harness.HarnessError("sbatch as %s: rc %d: %s" % (user, rc, err))
        return out.strip().split(";")[0]

    def ids(self, user, *args):
        rc, out, err = self.as_user(user, "squeue", "-h", "-o", "%i", *args)
        self.assertEqual(rc, 0, err)
        return sorted(out.split())

    def all_ids(self):
        return sorted([self.j_alice, self.j_bob, self.j_root])

    def private_data_line(self):
        rc, out, err = self.as_user(BOB, "scontrol", "show", "config")
        self.assertEqual(rc, 0, err)
        return [l for l in out.splitlines() if l.startswith("PrivateData ")]


class NothingPrivateTest(PrivateTestCase):
    """No PrivateData: everybody reads everything but other users' batch scripts."""

    def test_everybody_lists_every_job(self):
        for user in (ALICE, BOB, "root"):
            self.assertEqual(self.ids(user), self.all_ids(), user)
        rc, out, err = self.as_user(BOB, "scontrol", "show", "job", self.j_alice)
        self.assertEqual(rc, 0, err)
        self.assertEqual(show_records(out)[0]["JobId"], self.j_alice)

    def test_batch_script_only_for_its_owner_and_root(self):
        rc, out, err = self.as_user(BOB, "scontrol", "write", "batch_script", self.j_alice, "-")
        self.assertEqual((rc, out, err), (0, "", "job script retrieval failed: Invalid user id\n"))
        for user in (ALICE, "root"):
            rc, out, err = self.as_user(user, "scontrol", "write", "batch_script", self.j_alice, "-")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "#!/bin/sh\n# %s\nsleep 100\n" % SECRET, user)
        # an unknown id is unknown to everybody
        rc, out, err = self.as_user(BOB, "scontrol", "write", "batch_script", "99999", "-")
        self.assertEqual(err, "job script retrieval failed: Invalid job id specified\n")

    def test_state_dir_keeps_scripts_from_other_users(self):
        state = os.path.join(self.cluster.dir, "state")

        def root_finds():   # the positive control (slurmctld writes the script at submission)
            return subprocess.run(["grep", "-rlF", SECRET, state], capture_output=True,
                                  text=True).stdout
        self.cluster.wait_for("the script in StateSaveLocation", root_finds, timeout=15)
        rc, out, err = self.as_user(BOB, "grep", "-rlF", SECRET, state)
        self.assertEqual(out, "")
        self.assertNotEqual(rc, 0)
        if harness.CONTROLLER == "flurm":
            st = os.stat(os.path.join(state, "flurmctld.db"))
            self.assertEqual(st.st_mode & 0o777, 0o700)

    def test_config_says_none(self):
        self.assertEqual(self.private_data_line(), ["PrivateData             = none"])

    def test_sdiag_for_everybody_reset_for_root_only(self):
        rc, out, err = self.as_user(BOB, "sdiag")
        self.assertEqual(rc, 0, err)
        self.assertIn("Jobs submitted: 3\n", out)
        rc, out, err = self.as_user(BOB, "sdiag", "-r")
        self.assertEqual((rc, out, err), (255, "", "slurm_reset_statistics: Access/permission denied\n"))
        rc, out, err = self.as_user("root", "sdiag", "-r")
        self.assertEqual((rc, out), (0, "Reset scheduling statistics\n"), err)


class PrivateJobsTest(PrivateTestCase):
    """PrivateData=jobs (with multifactor priorities, for sprio)."""

    EXTRA = ("PrivateData=jobs", "PriorityType=priority/multifactor", "PriorityWeightAge=1000")

    def test_squeue_shows_only_own_jobs(self):
        self.assertEqual(self.ids(ALICE), [self.j_alice])
        self.assertEqual(self.ids(BOB), [self.j_bob])
        self.assertEqual(self.ids("root"), self.all_ids())
        self.assertEqual(self.ids(BOB, "-u", ALICE), [])
        self.assertEqual(self.ids(BOB, "--me"), [self.j_bob])
        self.assertEqual(self.ids(BOB, "-t", "all"), [self.j_bob])
        self.assertEqual(self.ids("root", "-u", ALICE), [self.j_alice])

    def test_other_users_job_is_an_invalid_id(self):
        rc, out, err = self.as_user(BOB, "squeue", "-j", self.j_alice)
        self.assertEqual((rc, err), (1, INVALID_JOB))
        rc, out, err = self.as_user(BOB, "scontrol", "show", "job", self.j_alice)
        self.assertEqual((rc, out, err), (1, "", INVALID_JOB))
        rc, out, err = self.as_user(BOB, "scontrol", "show", "job")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["JobId"] for r in show_records(out)], [self.j_bob])
        rc, out, err = self.as_user(ALICE, "scontrol", "show", "job", self.j_alice)
        self.assertEqual(rc, 0, err)
        self.assertEqual(show_records(out)[0]["UserId"].split("(")[0], ALICE)
        rc, out, err = self.as_user("root", "scontrol", "show", "job", self.j_alice)
        self.assertEqual(rc, 0, err)

    def test_batch_script_refused(self):
        rc, out, err = self.as_user(BOB, "scontrol", "write", "batch_script", self.j_alice, "-")
        self.assertEqual((rc, out, err), (0, "", "job script retrieval failed: Invalid user id\n"))
        rc, out, err = self.as_user(ALICE, "scontrol", "write", "batch_script", self.j_alice, "-")
        self.assertIn(SECRET, out)

    def test_sprio_shows_only_own_jobs(self):
        def sprio_ids(user, *args):
            rc, out, err = self.as_user(user, "sprio", "-h", "-o", "%i", *args)
            return sorted(out.split())
        # the priorities come with the first scheduler pass
        self.cluster.wait_for("root's sprio", lambda: sprio_ids("root") == self.all_ids(), timeout=20)
        self.assertEqual(sprio_ids(BOB), [self.j_bob])
        self.assertEqual(sprio_ids(ALICE), [self.j_alice])
        self.assertEqual(sprio_ids(BOB, "-u", ALICE), [])
        rc, out, err = self.as_user(BOB, "sprio", "-j", self.j_alice)
        self.assertEqual((rc, out), (0, "Unable to find jobs matching user/id(s) specified\n"), err)

    def test_nodes_partitions_and_config_still_readable(self):
        rc, out, err = self.as_user(BOB, "sinfo", "-h", "-o", "%P")
        self.assertEqual((rc, out.split()), (0, ["debug*", "long"]), err)
        rc, out, err = self.as_user(BOB, "scontrol", "show", "node", "n1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.private_data_line(), ["PrivateData             = jobs"])


class PrivateNodesTest(PrivateTestCase):
    EXTRA = ("PrivateData=nodes",)

    def test_node_information_refused(self):
        rc, out, err = self.as_user(BOB, "sinfo")
        self.assertEqual((rc, out, err), (1, "", "slurm_load_node: Access/permission denied\n"))
        rc, out, err = self.as_user(BOB, "sinfo", "-R")
        self.assertEqual((rc, err), (1, "slurm_load_node: Access/permission denied\n"))
        for args in (("node", "n1"), ("node",)):
            rc, out, err = self.as_user(BOB, "scontrol", "show", *args)
            self.assertEqual((rc, out, err), (1, "", "slurm_load_node error: Access/permission denied\n"))

    def test_root_jobs_and_partitions_unaffected(self):
        rc, out, err = self.as_user("root", "sinfo", "-h", "-o", "%P %D")
        self.assertEqual((rc, out), (0, "debug* 4\nlong 2\n"), err)
        rc, out, err = self.as_user("root", "scontrol", "show", "node", "n1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.ids(BOB), self.all_ids())
        rc, out, err = self.as_user(BOB, "scontrol", "show", "partition", "long")
        self.assertEqual(rc, 0, err)
        self.assertEqual(show_records(out)[0]["Nodes"], "n[3-4]")
        self.assertEqual(self.private_data_line(), ["PrivateData             = nodes"])


class PrivatePartitionsTest(PrivateTestCase):
    EXTRA = ("PrivateData=partitions",)

    def test_partition_information_refused(self):
        rc, out, err = self.as_user(BOB, "sinfo")
        self.assertEqual((rc, out, err), (1, "", "slurm_load_partitions: Access/permission denied\n"))
        rc, out, err = self.as_user(BOB, "scontrol", "show", "partition", "long")
        self.assertEqual((rc, out, err), (1, "", "slurm_load_partitions error: Access/permission denied\n"))

    def test_squeue_warns_but_lists(self):
        rc, out, err = self.as_user(BOB, "squeue", "-h", "-o", "%i")
        self.assertEqual(rc, 0)
        self.assertLessEqual(set(self.all_ids()), set(out.split()))
        self.assertEqual(err, "slurm_load_partitions: Access/permission denied\n")

    def test_submission_and_root_unaffected(self):
        job = self.submit(BOB, "-p", "long", "--hold", "--wrap", "true")
        rc, out, err = self.as_user(BOB, "scontrol", "show", "job", job)
        self.assertEqual(show_records(out)[0]["Partition"], "long")
        rc, out, err = self.as_user("root", "sinfo", "-h", "-o", "%P")
        self.assertEqual((rc, out.split()), (0, ["debug*", "long"]), err)
        self.assertEqual(self.private_data_line(), ["PrivateData             = partitions"])


class PrivateEverythingTest(PrivateTestCase):
    """PrivateData=all; usage and users alone hide nothing a controller request shows."""

    EXTRA = ("PrivateData=all",)

    def test_config_lists_every_flag(self):
        self.assertEqual(self.private_data_line(), ["PrivateData             = " + PRIVATE_ALL])

    def test_only_own_jobs_no_nodes_no_partitions(self):
        rc, out, err = self.as_user(BOB, "squeue", "-h", "-o", "%i")
        self.assertEqual((rc, out.split()), (0, [self.j_bob]))
        self.assertEqual(err, "slurm_load_partitions: Access/permission denied\n")
        rc, out, err = self.as_user(BOB, "sinfo")
        self.assertEqual((rc, err), (1, "slurm_load_partitions: Access/permission denied\n"))
        rc, out, err = self.as_user(BOB, "scontrol", "show", "node", "n1")
        self.assertEqual((rc, err), (1, "slurm_load_node error: Access/permission denied\n"))
        self.assertEqual(self.ids("root"), self.all_ids())

    def test_sdiag_still_readable(self):
        rc, out, err = self.as_user(BOB, "sdiag")
        self.assertEqual(rc, 0, err)
        self.assertIn("Jobs submitted: 3\n", out)


class PrivateUsageUsersTest(PrivateTestCase):
    EXTRA = ("PrivateData=Usage,users",)

    def test_nothing_hidden_and_config_line(self):
        self.assertEqual(self.ids(BOB), self.all_ids())
        rc, out, err = self.as_user(BOB, "sinfo", "-h", "-o", "%P")
        self.assertEqual((rc, out.split()), (0, ["debug*", "long"]), err)
        self.assertEqual(self.private_data_line(), ["PrivateData             = usage,users"])


class VisibleCluster(Cluster):
    """debug = n[1-3], long = n3: n4 is only in the partitions EXTRA adds (secret, grp)."""

    def _write_conf(self):
        super()._write_conf()
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("PartitionName=debug Nodes=ALL", "PartitionName=debug Nodes=n[1-3]")
        text = text.replace("PartitionName=long Nodes=n[3-4]", "PartitionName=long Nodes=n3")
        with open(self.conf, "w") as f:
            f.write(text)


class PartitionVisibilityTest(PrivateTestCase):
    """A Hidden partition and one whose AllowGroups (root) does not admit the users."""

    EXTRA = ("PartitionName=secret Nodes=n4 Hidden=YES", "PartitionName=grp Nodes=n4 AllowGroups=root")

    @classmethod
    def make_cluster(cls):
        return VisibleCluster(extra_conf=cls.EXTRA)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.j_grp = cls.submit("root", "-p", "grp", "--wrap", "sleep 100")
        cls.j_secret = cls.submit("root", "-p", "secret", "--wrap", "sleep 100")

    def parts(self, user, *args):
        rc, out, err = self.as_user(user, "sinfo", "-h", "-o", "%P", *args)
        self.assertEqual(rc, 0, err)
        return out.split()

    def test_sinfo_partitions(self):
        self.assertEqual(self.parts("root"), ["secret", "grp", "debug*", "long"])
        self.assertEqual(self.parts(BOB), ["debug*", "long"])
        self.assertEqual(self.parts(BOB, "-a"), ["secret", "grp", "debug*", "long"])

    def test_scontrol_show_partition(self):
        rc, out, err = self.as_user(BOB, "scontrol", "show", "partition")
        self.assertEqual([r["PartitionName"] for r in show_records(out)], ["debug", "long"])
        for name in ("grp", "secret"):
            rc, out, err = self.as_user(BOB, "scontrol", "show", "partition", name)
            self.assertEqual((rc, out), (1, "Partition %s not found\n" % name))
            rc, out, err = self.as_user("root", "scontrol", "show", "partition", name)
            self.assertEqual(rc, 0, err)

    def test_nodes_only_in_invisible_partitions(self):
        rc, out, err = self.as_user(BOB, "sinfo", "-h", "-N", "-o", "%N")
        self.assertEqual(sorted(set(out.split())), ["n1", "n2", "n3"])
        rc, out, err = self.as_user(BOB, "sinfo", "-h", "-N", "-a", "-o", "%N")
        self.assertEqual(sorted(set(out.split())), ["n1", "n2", "n3", "n4"])
        rc, out, err = self.as_user(BOB, "scontrol", "show", "node", "n4")
        self.assertEqual((rc, out), (1, "Node n4 not found\n"))
        rc, out, err = self.as_user(BOB, "scontrol", "show", "node")
        self.assertEqual([r["NodeName"] for r in show_records(out)], ["n1", "n2", "n3"])
        rc, out, err = self.as_user(BOB, "scontrol", "-a", "show", "node", "n4")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.as_user("root", "scontrol", "show", "node", "n4")
        self.assertEqual(rc, 0, err)

    def test_jobs_in_invisible_partitions(self):
        everything = sorted(self.all_ids() + [self.j_grp, self.j_secret])
        self.assertEqual(self.ids(BOB), self.all_ids())
        self.assertEqual(self.ids(BOB, "-a"), everything)
        self.assertEqual(self.ids(BOB, "-u", "root"), [self.j_root])
        self.assertEqual(self.ids("root"), everything)
        rc, out, err = self.as_user(BOB, "scontrol", "show", "job")
        self.assertEqual(sorted(r["JobId"] for r in show_records(out)), self.all_ids())
        for job in (self.j_grp, self.j_secret):   # asked for by id: shown
            rc, out, err = self.as_user(BOB, "scontrol", "show", "job", job)
            self.assertEqual(rc, 0, err)
            self.assertEqual(show_records(out)[0]["JobId"], job)


if __name__ == "__main__":
    unittest.main()
