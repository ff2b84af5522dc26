# bench/conf.sh — sourced by run.sh and nodes.sh: what both write into every slurm.conf.

# The plugin lines slurmctld needs to run on one machine without cgroups, accounting or mail
# (FLURM reads them and ignores what it does not use), so both controllers get the same file.
bench_conf_plugins() {
    cat <<'PLUGINS'
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
PLUGINS
}
