/* libflurm/store/writer.c — group-commit writer (see flurm_store_writer_start in store.h).
 *
 * Producers queue copies under a mutex; one thread swaps the whole queue out, appends it as one
 * synced batch (one fsync for everything that arrived while the previous fsync ran) and reports
 * the batch's last index. The queue is a plain array of separately allocated entries so that the
 * swap is O(1) and producers never wait for the disk. */
#include <flurm/store.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    size_t len;
    unsigned char data[];
};

struct queue {
    struct entry **v;
    size_t n, cap;
    uint64_t first;   /* index of v[0] */
};

struct flurm_store_writer {
    flurm_store_t *store;
    flurm_store_done_fn done;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct queue q;          /* under lock */
    uint64_t next;           /* index the next submit must carry; under lock */
    bool stopping;           /* under lock */
};

static void queue_release(struct queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->v[i]);
    q->n = 0;
}

static void *writer_main(void *p)
{
    flurm_store_writer_t *w = p;
    struct queue batch = { 0 };
    flurm_iov_t *iov = NULL;
    size_t iov_cap = 0;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->q.n == 0 && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (w->q.n == 0)
            break;
        struct queue t = w->q;   /* swap: the (empty) batch array becomes the new queue */
        w->q = batch;
        w->q.first = w->next;
        batch = t;
        pthread_mutex_unlock(&w->lock);

        int rc = FLURM_OK;
        if (iov_cap < batch.n) {
            flurm_iov_t *niov = realloc(iov, batch.n * sizeof *iov);
            if (niov) {
                iov = niov;
                iov_cap = batch.n;
            } else {
                rc = FLURM_ENOMEM;
            }
        }
        if (rc == FLURM_OK) {
            for (size_t i = 0; i < batch.n; i++)
                iov[i] = (flurm_iov_t){ batch.v[i]->data, batch.v[i]->len };
            rc = flurm_store_append(w->store, batch.first, iov, batch.n);
        }
        uint64_t reported = batch.first + batch.n - 1;
        queue_release(&batch);

        pthread_mutex_lock(&w->lock);
        if (rc != FLURM_OK) {
            /* Everything queued meanwhile follows the failed batch and can no longer be
             * appended: drop it and restart the index sequence at the durable end. */
            if (w->q.n > 0)
                reported = w->q.first + w->q.n - 1;
            queue_release(&w->q);
            w->next = flurm_store_last_index(w->store) + 1;
            w->q.first = w->next;
        }
        pthread_mutex_unlock(&w->lock);
        if (w->done)
            w->done(reported, rc, w->arg);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    free(batch.v);
    free(iov);
    return NULL;
}

int flurm_store_writer_start(flurm_store_t *store, flurm_store_done_fn done, void *arg,
                             flurm_store_writer_t **out)
{
    if (!store || !out)
        return FLURM_EINVAL;
    flurm_store_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return FLURM_ENOMEM;
    w->store = store;
    w->done = done;
    w->arg = arg;
    w->next = flurm_store_last_index(store) + 1;
    w->q.first = w->next;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return FLURM_EAGAIN;
    }
    *out = w;
    return FLURM_OK;
}

int flurm_store_writer_submit(flurm_store_writer_t *w, uint64_t index, const void *data,
                              size_t len)
{
    if (!w || (!data && len > 0))
        return FLURM_EINVAL;
    struct entry *e = malloc(sizeof *e + len);
    if (!e)
        return FLURM_ENOMEM;
    e->len = len;
    if (len)
        memcpy(e->data, data, len);
    pthread_mutex_lock(&w->lock);
    int rc = FLURM_OK;
    if (w->stopping || index != w->next) {
        rc = FLURM_EINVAL;
    } else if (w->q.n == w->q.cap) {
        size_t cap = w->q.cap ? 2 * w->q.cap : 256;
        struct entry **v = realloc(w->q.v, cap * sizeof *v);
        if (v) {
            w->q.v = v;
            w->q.cap = cap;
        } else {
            rc = FLURM_ENOMEM;
        }
    }
    if (rc == FLURM_OK) {
        w->q.v[w->q.n++] = e;
        w->next++;
        if (w->q.n == 1)
            pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    if (rc != FLURM_OK)
        free(e);
    return rc;
}

void flurm_store_writer_stop(flurm_store_writer_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    queue_release(&w->q);
    free(w->q.v);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
