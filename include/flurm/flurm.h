/* include/flurm/flurm.h — umbrella header: everything libflurm exports. */
#ifndef FLURM_FLURM_H
#define FLURM_FLURM_H
#include <flurm/common.h>
#include <flurm/buf.h>
#include <flurm/log.h>
#include <flurm/auth.h>
#include <flurm/chan.h>
#include <flurm/store.h>
#include <flurm/hostlist.h>
#include <flurm/conf.h>
#include <flurm/msg_info.h>
#include <flurm/codec.h>
#include <flurm/msg.h>
#include <flurm/sched.h>
#include <flurm/sched_plugin.h>
#include <flurm/raft.h>
#include <flurm/raft_store.h>
#include <flurm/raft_wire.h>
#endif
