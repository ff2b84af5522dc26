/* bin/flurm/cluster.h — `flurm cluster ...`: the controllers' Raft cluster over the admin port. */
#ifndef FLURM_CLI_CLUSTER_H
#define FLURM_CLI_CLUSTER_H

/* ARGV[0] is "cluster". Returns the exit status. */
int cluster_main(int argc, char **argv);

#endif
