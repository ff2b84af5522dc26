/* bin/flurmctld/nodesrv.h — what the commit pipeline tells the node service (nodesrv.c) about
 * leadership. The rest of nodesrv.c's interface is in ctl.h.
 *
 * Only a ready leader (commit_ready()) serves nodes: every other controller answers each node
 * request with ERROR_NOT_LEADER naming the leader it knows (proto/node.proto), records nothing
 * and takes no silent node for DOWN. Loop thread only. */
#ifndef FLURMCTLD_NODESRV_H
#define FLURMCTLD_NODESRV_H

#include <stdbool.h>

typedef struct ctl ctl_t;

/* This controller's leadership changed. READY true: it leads and commit_ready() has just turned
 * true; every node must register again (links forgotten, their commands dropped: registering
 * resends what a node misses), and each gets SlurmdTimeout from now to do so. READY false: it
 * no longer leads (or is not ready); parked polls are answered ERROR_NOT_LEADER and queued
 * commands dropped. Calls that change nothing are harmless; NULL-safe before nodesrv_start(). */
void nodesrv_leader_changed(ctl_t *ctl, bool ready);

#endif
