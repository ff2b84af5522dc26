/* bin/flurmctld/pool.h — worker threads for blocking work (munge), completions back on the loop.
 *
 * A task's RUN executes on a worker thread; its DONE then executes on the event-loop thread
 * (delivered through one ev_async). Tasks complete in any order. The loop thread is the only
 * one that touches controller state, so DONE may; RUN must not. */
#ifndef FLURMCTLD_POOL_H
#define FLURMCTLD_POOL_H

#include <ev.h>

typedef struct pool_task {
    void (*run)(struct pool_task *t);    /* worker thread */
    void (*done)(struct pool_task *t);   /* loop thread   */
    struct pool_task *next;
} pool_task_t;

typedef struct pool pool_t;

/* Starts NTHREADS workers delivering completions on LOOP. NULL on failure. */
pool_t *pool_start(struct ev_loop *loop, int nthreads);
/* Queues T (thread-safe). */
void pool_submit(pool_t *p, pool_task_t *t);
/* Drains the queue, joins the workers. Completions not yet delivered are delivered first. */
void pool_stop(pool_t *p);

#endif
