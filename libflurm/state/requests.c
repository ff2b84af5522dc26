/* libflurm/state/requests.c — see requests.h. */
#include "requests.h"

#include <stdlib.h>
#include <string.h>

#include <flurm/common.h>

/* Ids are hashes: their first eight bytes are as good a slot as any. */
static size_t home(const uint8_t *id, size_t icap)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)(h ^ (h >> 29)) & (icap - 1);
}

static req_rec_t *rec(const req_table_t *t, uint64_t s)
{
    return &t->ring[s & (t->cap - 1)];
}

size_t req_table_count(const req_table_t *t)
{
    return (size_t)(t->next - t->first);
}

void req_table_free(req_table_t *t)
{
    free(t->ring);
    free(t->index);
    memset(t, 0, sizeof *t);
}

const req_rec_t *req_table_find(const req_table_t *t, const uint8_t id[FLURM_REQUEST_ID_LEN])
{
    if (!t->icap)
        return NULL;
    for (size_t i = home(id, t->icap); t->index[i]; i = (i + 1) & (t->icap - 1)) {
        const req_rec_t *r = rec(t, t->index[i] - 1);
        if (memcmp(r->id, id, FLURM_REQUEST_ID_LEN) == 0)
            return r;
    }
    return NULL;
}

static void index_put(uint64_t *index, size_t icap, const uint8_t *id, uint64_t s)
{
    size_t i = home(id, icap);
    while (index[i])
        i = (i + 1) & (icap - 1);
    index[i] = s + 1;
}

/* Room for one more record: the ring and the index (kept at most half full) grown. */
static int reserve(req_table_t *t)
{
    size_t n = req_table_count(t);
    if (n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        req_rec_t *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return FLURM_ENOMEM;
        for (uint64_t s = t->first; s < t->next; s++)
            ring[s & (cap - 1)] = *rec(t, s);
        free(t->ring);
        t->ring = ring;
        t->cap = cap;
    }
    if (2 * (n + 1) > t->icap) {
        size_t icap = t->icap ? t->icap * 2 : 128;
        uint64_t *index = calloc(icap, sizeof *index);
        if (!index)
            return FLURM_ENOMEM;
        for (uint64_t s = t->first; s < t->next; s++)
            index_put(index, icap, rec(t, s)->id, s);
        free(t->index);
        t->index = index;
        t->icap = icap;
    }
    return FLURM_OK;
}

/* Removes the oldest record from the index (backward-shift deletion: no tombstones), then
 * from the ring. */
static void drop_oldest(req_table_t *t)
{
    uint64_t s = t->first;
    size_t mask = t->icap - 1;
    size_t i = home(rec(t, s)->id, t->icap);
    while (t->index[i] != s + 1)
        i = (i + 1) & mask;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->index[j])
            break;
        size_t k = home(rec(t, t->index[j] - 1)->id, t->icap);
        /* the entry at J stays if its home lies cyclically in (i, j] */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->index[i] = t->index[j];
        i = j;
    }
    t->index[i] = 0;
    t->first++;
}

int req_table_add(req_table_t *t, const uint8_t id[FLURM_REQUEST_ID_LEN], int64_t now, uint32_t rc,
                  uint32_t job_id)
{
    if (req_table_count(t) >= FLURM_REQUESTS_MAX)
        drop_oldest(t);
    if (reserve(t) != FLURM_OK)
        return FLURM_ENOMEM;
    req_rec_t *r = rec(t, t->next);
    memcpy(r->id, id, FLURM_REQUEST_ID_LEN);
    r->now = now;
    r->rc = rc;
    r->job_id = job_id;
    index_put(t->index, t->icap, id, t->next);
    t->next++;
    return FLURM_OK;
}

void req_table_expire(req_table_t *t, int64_t now)
{
    while (t->first < t->next && rec(t, t->first)->now < now - FLURM_REQUESTS_WINDOW_S)
        drop_oldest(t);
}

void req_table_pack(const req_table_t *t, flurm_buf_t *out)
{
    flurm_pack32(out, (uint32_t)req_table_count(t));
    for (uint64_t s = t->first; s < t->next; s++) {
        const req_rec_t *r = rec(t, s);
        flurm_pack_raw(out, r->id, FLURM_REQUEST_ID_LEN);
        flurm_pack64(out, (uint64_t)r->now);
        flurm_pack32(out, r->rc);
        flurm_pack32(out, r->job_id);
    }
}

int req_table_unpack(req_table_t *t, flurm_buf_t *in)
{
    req_table_free(t);
    uint32_t n = 0;
    flurm_unpack32(in, &n);
    if (!in->err && (uint64_t)n * (FLURM_REQUEST_ID_LEN + 16) > flurm_buf_remaining(in))
        in->err = FLURM_ETRUNC;
    for (uint32_t i = 0; i < n && !in->err; i++) {
        uint8_t id[FLURM_REQUEST_ID_LEN];
        uint64_t now = 0;
        uint32_t rc = 0, job_id = 0;
        if (flurm_buf_remaining(in) < sizeof id) {
            in->err = FLURM_ETRUNC;
            break;
        }
        memcpy(id, in->data + in->pos, sizeof id);
        flurm_unpack_skip(in, sizeof id);
        flurm_unpack64(in, &now);
        flurm_unpack32(in, &rc);
        if (flurm_unpack32(in, &job_id) == FLURM_OK && req_table_add(t, id, (int64_t)now, rc, job_id) != FLURM_OK)
            in->err = FLURM_ENOMEM;
    }
    if (in->err)
        req_table_free(t);
    return in->err;
}
