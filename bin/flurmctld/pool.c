/* bin/flurmctld/pool.c — see pool.h. */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool {
    struct ev_loop *loop;
    ev_async wake;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pool_task_t *head, *tail;   /* pending, FIFO */
    pool_task_t *done;          /* completed, LIFO (order is irrelevant) */
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        pool_task_t *t = p->head;
        if (!t) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);

        t->run(t);

        pthread_mutex_lock(&p->lock);
        t->next = p->done;
        p->done = t;
        pthread_mutex_unlock(&p->lock);
        ev_async_send(p->loop, &p->wake);
    }
}

static void deliver(pool_t *p)
{
    pthread_mutex_lock(&p->lock);
    pool_task_t *t = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->lock);
    while (t) {
        pool_task_t *next = t->next;
        t->done(t);
        t = next;
    }
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    deliver(w->data);
}

pool_t *pool_start(struct ev_loop *loop, int nthreads)
{
    pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    p->loop = loop;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    ev_async_init(&p->wake, on_wake);
    p->wake.data = p;
    ev_async_start(loop, &p->wake);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        pool_stop(p);
        return NULL;
    }
    return p;
}

void pool_submit(pool_t *p, pool_task_t *t)
{
    t->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void pool_stop(pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    deliver(p);
    ev_async_stop(p->loop, &p->wake);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
