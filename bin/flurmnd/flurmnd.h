/* bin/flurmnd/flurmnd.h — the running daemon: its context, job table and controller link.
 * Everything here runs on the libev loop thread (see nd.h for the module map). */
#ifndef FLURMND_FLURMND_H
#define FLURMND_FLURMND_H

#include <ev.h>

#include "nd.h"

typedef struct nd_client nd_client_t;
typedef struct nd_job nd_job_t;

typedef struct nd {
    struct ev_loop *loop;
    flurm_conf_t *conf;
    const flurm_conf_node_t *node;
    const char *node_name;
    char spool[4096];        /* SlurmdSpoolDir with %n/%h expanded */
    char url[512];           /* the controller dialed, tcp://host:port */
    char node_port[16];      /* the controllers' node port (the same on every SlurmctldHost) */
    bool fixed_url;          /* FLURMND_CONTROLLER: only that one, whichever SlurmctldHost answers */
    const char *prolog, *epilog;   /* slurm.conf Prolog/Epilog, NULL = none */
    double secs_per_min;     /* 60; FLURMND_TIME_SCALE overrides it (test knob) */
    uint16_t kill_wait;      /* slurm.conf KillWait, for jobs killed on the node's own account */
    uint64_t boot_id;
    int64_t start_time;
    nd_hw_t hw;
    nd_job_t *jobs;          /* singly linked, newest first */
    nd_client_t *client;
    /* a job started or ended: what is due goes to the controller (set by the controller
     * link, so the job table calls nobody) */
    void (*job_changed)(struct nd *nd);
} nd_t;

typedef enum nd_phase {
    ND_JOB_LAUNCHING = 0,    /* supervisor forked, script not yet running */
    ND_JOB_RUNNING,          /* `started` exists */
    ND_JOB_ENDED             /* outcome known; JobEnd not yet acknowledged */
} nd_phase_t;

struct nd_job {
    nd_job_t *next;
    nd_t *nd;
    uint32_t id;
    char dir[4200];
    nd_phase_t phase;
    nd_state_t st;
    nd_started_t started;
    bool has_started;
    bool is_child;           /* the supervisor is our child (else re-attached: polled) */
    int ctl_fd;              /* socketpair to the supervisor, -1 when closed */
    ev_io ctl_w;
    ev_child child_w;
    ev_timer watch_w;        /* re-attached job: liveness check */
    ev_timer limit_w;        /* time limit */
    ev_timer kill_w;         /* SIGKILL after KillWait */
    bool start_reported;     /* the controller has this job's start (JobStarted or Register) */
    bool in_register;        /* included in the Register in flight */
    Flurm__Node__JobEndState end_state;
    int end_status;
    int64_t end_start_time, end_time;
    uint64_t end_rss_kb;
    char end_reason[256];
};

/* jobs.c */
void nd_jobs_recover(nd_t *nd);   /* scan the spool at start */
void nd_jobs_launch(nd_t *nd, const Flurm__Node__LaunchJob *l);
void nd_jobs_signal(nd_t *nd, uint32_t job_id, int sig);
/* SIGCONT+SIGTERM to the job's group now, SIGKILL KILL_WAIT_S later; the job ends with the
 * state CAUSE gives (the first cause wins). ND_CAUSE_ORPHAN jobs are never reported. */
void nd_jobs_terminate(nd_t *nd, uint32_t job_id, nd_cause_t cause, uint32_t kill_wait_s);
/* SuspendJob / ResumeJob: SIGSTOP / SIGCONT to the job's process group, the time limit paused
 * meanwhile. Repeats and unknown jobs are ignored. */
void nd_jobs_suspend(nd_t *nd, uint32_t job_id, bool suspend);
nd_job_t *nd_jobs_find(nd_t *nd, uint32_t job_id);
/* The controller acknowledged JOB's JobEnd: forget it and delete its spool directory. */
void nd_jobs_forget(nd_t *nd, nd_job_t *job);
void nd_jobs_free_all(nd_t *nd);   /* memory only; supervisors and spool stay */

/* client.c */
int nd_client_start(nd_t *nd);
/* Something changed (a job started or ended): send what is due. */
void nd_client_kick(nd_t *nd);
void nd_client_stop(nd_t *nd);

#endif
