/* libflurm/raft/raft_store.c — see include/flurm/raft_store.h. */
#include <stdlib.h>
#include <string.h>

#include <flurm/log.h>
#include <flurm/raft_store.h>
#include "util/endian.h"

#define HARD_KEY "raft.hard"
#define ENTRY_HDR 12                   /* u64 term | u32 type */
#define SNAP_MAGIC "FRS1"             /* no learners: n_voters | voters */
#define SNAP_MAGIC2 "FRS2"            /* n_voters | voters | n_learners | learners */
#define SNAP_HDR_MIN (4 + 8 + 8 + 4)

static bool meta_ok(const flurm_raft_snapshot_meta_t *m)
{
    return m->n_voters <= FLURM_RAFT_MAX_MEMBERS && m->n_learners <= FLURM_RAFT_MAX_MEMBERS - m->n_voters;
}

/* The snapshot record: header + the state machine's bytes, malloc'd. Without learners it is
 * the FRS1 record earlier versions read. */
static uint8_t *pack_snapshot(const flurm_raft_snapshot_meta_t *m, const void *data, size_t len, size_t *out_len)
{
    if (!meta_ok(m))
        return NULL;
    bool v2 = m->n_learners != 0;
    size_t hdr = SNAP_HDR_MIN + 8 * (size_t)m->n_voters + (v2 ? 4 + 8 * (size_t)m->n_learners : 0);
    uint8_t *p = malloc(hdr + len + 1);
    if (!p)
        return NULL;
    memcpy(p, v2 ? SNAP_MAGIC2 : SNAP_MAGIC, 4);
    be_put64(p + 4, m->index);
    be_put64(p + 12, m->term);
    be_put32(p + 20, m->n_voters);
    for (uint32_t i = 0; i < m->n_voters; i++)
        be_put64(p + SNAP_HDR_MIN + 8 * i, m->voters[i]);
    if (v2) {
        uint8_t *q = p + SNAP_HDR_MIN + 8 * (size_t)m->n_voters;
        be_put32(q, m->n_learners);
        for (uint32_t i = 0; i < m->n_learners; i++)
            be_put64(q + 4 + 8 * i, m->voters[m->n_voters + i]);
    }
    if (len)
        memcpy(p + hdr, data, len);
    *out_len = hdr + len;
    return p;
}

int flurm_raft_store_write(flurm_store_t *s, const flurm_raft_update_t *u)
{
    if (!s || !u)
        return FLURM_EINVAL;
    /* Each entry is stored as one value, its header before its bytes: one block holds them all. */
    size_t total = 0;
    for (size_t i = 0; i < u->n_entries; i++)
        total += ENTRY_HDR + u->entries[i].len;
    flurm_iov_t *iov = u->n_entries ? calloc(u->n_entries, sizeof *iov) : NULL;
    uint8_t *block = total ? malloc(total) : NULL;
    uint8_t *snap = NULL;
    size_t snap_len = 0;
    int rc = FLURM_ENOMEM;
    if (u->n_entries && (!iov || !block))
        goto out;
    uint8_t *p = block;
    for (size_t i = 0; i < u->n_entries; i++) {
        const flurm_raft_entry_t *e = &u->entries[i];
        be_put64(p, e->term);
        be_put32(p + 8, e->type);
        if (e->len)
            memcpy(p + ENTRY_HDR, e->data, e->len);
        iov[i] = (flurm_iov_t){ p, ENTRY_HDR + e->len };
        p += ENTRY_HDR + e->len;
    }
    if (u->snapshot && !(snap = pack_snapshot(u->snapshot, u->snapshot_data, u->snapshot_len, &snap_len))) {
        rc = !meta_ok(u->snapshot) ? FLURM_EINVAL : FLURM_ENOMEM;
        goto out;
    }
    uint8_t hard[16];
    be_put64(hard, u->term);
    be_put64(hard + 8, u->voted_for);
    flurm_store_update_t su = {
        .size = sizeof su,
        .truncate_after = u->truncate_from ? u->truncate_from - 1 : UINT64_MAX,
        .first_index = u->n_entries ? u->entries[0].index : 0,
        .entries = iov,
        .n = u->n_entries,
        .meta_key = u->hard_state_changed ? HARD_KEY : NULL,
        .meta = hard,
        .meta_len = sizeof hard,
        .snapshot_index = u->snapshot ? u->snapshot->index : 0,
        .snapshot_data = snap,
        .snapshot_len = snap_len,
    };
    rc = flurm_store_update(s, &su);
out:
    free(block);
    free(iov);
    free(snap);
    return rc;
}

int flurm_raft_store_snapshot(flurm_store_t *s, const flurm_raft_snapshot_meta_t *meta, const void *data,
                              size_t len)
{
    if (!s || !meta || !meta->index || (!data && len))
        return FLURM_EINVAL;
    size_t n = 0;
    uint8_t *p = pack_snapshot(meta, data, len, &n);
    if (!p)
        return !meta_ok(meta) ? FLURM_EINVAL : FLURM_ENOMEM;
    int rc = flurm_store_save_snapshot(s, meta->index, p, n);
    free(p);
    return rc;
}

/* ------------------------------------------------------------------ load */

struct flurm_raft_store_loaded {
    void *snapshot;                 /* the record as stored */
    flurm_raft_entry_t *entries;
    size_t n, cap;
    uint8_t **values;               /* each entry's stored value (its data points inside) */
    int rc;                         /* of the read callback */
};

void flurm_raft_store_loaded_free(flurm_raft_store_loaded_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->values[i]);
    free(h->values);
    free(h->entries);
    free(h->snapshot);
    free(h);
}

static int load_entry(uint64_t index, const void *data, size_t len, void *arg)
{
    flurm_raft_store_loaded_t *h = arg;
    if (len < ENTRY_HDR) {
        flurm_error("raft store: log entry %llu is %zu bytes, shorter than its header",
                    (unsigned long long)index, len);
        h->rc = FLURM_EPROTO;
        return 1;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        flurm_raft_entry_t *e = realloc(h->entries, cap * sizeof *e);
        uint8_t **v = e ? realloc(h->values, cap * sizeof *v) : NULL;
        if (e)
            h->entries = e;
        if (!e || !v) {
            h->rc = FLURM_ENOMEM;
            return 1;
        }
        h->values = v;
        h->cap = cap;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        h->rc = FLURM_ENOMEM;
        return 1;
    }
    memcpy(copy, data, len);
    h->values[h->n] = copy;
    h->entries[h->n] = (flurm_raft_entry_t){ .index = index, .term = be_get64(copy), .type = be_get32(copy + 8),
                                             .len = (uint32_t)(len - ENTRY_HDR),
                                             .data = len > ENTRY_HDR ? copy + ENTRY_HDR : NULL };
    h->n++;
    return 0;
}

int flurm_raft_store_load(flurm_store_t *s, flurm_raft_persisted_t *p, const void **data, size_t *len,
                          flurm_raft_store_loaded_t **held)
{
    if (!s || !p || !data || !len || !held)
        return FLURM_EINVAL;
    flurm_raft_store_loaded_t *h = calloc(1, sizeof *h);
    if (!h)
        return FLURM_ENOMEM;
    memset(p, 0, sizeof *p);
    p->size = sizeof *p;
    *data = NULL;
    *len = 0;
    void *hard = NULL;
    size_t hard_len = 0;
    int rc = flurm_store_get_meta(s, HARD_KEY, &hard, &hard_len);
    if (rc == FLURM_OK && hard_len == 16) {
        p->term = be_get64(hard);
        p->voted_for = be_get64((uint8_t *)hard + 8);
    } else if (rc == FLURM_OK) {
        flurm_error("raft store: hard state record of %zu bytes (want 16)", hard_len);
        rc = FLURM_EPROTO;
    } else if (rc == FLURM_ENOENT) {
        rc = FLURM_OK;   /* a new member */
    }
    free(hard);
    uint64_t snap_index = 0;
    size_t snap_len = 0;
    int src = rc == FLURM_OK ? flurm_store_load_snapshot(s, &snap_index, &h->snapshot, &snap_len) : rc;
    if (src == FLURM_OK) {
        const uint8_t *b = h->snapshot;
        uint32_t nv = snap_len >= SNAP_HDR_MIN ? be_get32(b + 20) : 0, nl = 0;
        bool v2 = snap_len >= 4 && !memcmp(b, SNAP_MAGIC2, 4);
        size_t hdr = SNAP_HDR_MIN + 8 * (size_t)nv;
        if (v2 && nv <= FLURM_RAFT_MAX_MEMBERS && snap_len >= hdr + 4) {
            nl = be_get32(b + hdr);
            hdr += 4 + 8 * (size_t)(nl <= FLURM_RAFT_MAX_MEMBERS ? nl : 0);
        }
        if (snap_len < SNAP_HDR_MIN || (memcmp(b, SNAP_MAGIC, 4) && !v2) || nv > FLURM_RAFT_MAX_MEMBERS ||
            nl > FLURM_RAFT_MAX_MEMBERS - nv || (v2 && snap_len < SNAP_HDR_MIN + 8 * (size_t)nv + 4) ||
            snap_len < hdr || be_get64(b + 4) != snap_index) {
            flurm_error("raft store: the snapshot at index %llu is not a Raft snapshot record",
                        (unsigned long long)snap_index);
            rc = FLURM_EPROTO;
        } else {
            p->snapshot.index = snap_index;
            p->snapshot.term = be_get64(b + 12);
            p->snapshot.n_voters = nv;
            p->snapshot.n_learners = nl;
            for (uint32_t i = 0; i < nv; i++)
                p->snapshot.voters[i] = be_get64(b + SNAP_HDR_MIN + 8 * i);
            for (uint32_t i = 0; i < nl; i++)
                p->snapshot.voters[nv + i] = be_get64(b + SNAP_HDR_MIN + 8 * (size_t)nv + 4 + 8 * i);
            *data = snap_len > hdr ? b + hdr : NULL;
            *len = snap_len - hdr;
        }
    } else if (src != FLURM_ENOENT) {
        rc = src;
    }
    if (rc == FLURM_OK) {
        int rrc = flurm_store_read(s, flurm_store_first_index(s), load_entry, h);
        rc = rrc == FLURM_OK ? FLURM_OK : h->rc ? h->rc : rrc;
    }
    /* Every entry was written under a hard state at least its term, terms never decrease along
     * the log, types are known (a CONFIG entry's data a configuration): anything else is not a
     * Raft log (e.g. the plain command log of a flurmctld before Raft), and reading it as one
     * would invent terms. */
    uint64_t prev = p->snapshot.term;
    for (size_t i = 0; rc == FLURM_OK && i < h->n; i++) {
        const flurm_raft_entry_t *e = &h->entries[i];
        flurm_raft_snapshot_meta_t conf;
        if (e->term < prev || e->term > p->term || e->type > FLURM_RAFT_ENTRY_CONFIG || e->term == 0 ||
            (e->type == FLURM_RAFT_ENTRY_CONFIG && flurm_raft_config_decode(e->data, e->len, &conf) != FLURM_OK)) {
            flurm_error("raft store: log entry %llu (term %llu, type %u) does not belong to a Raft log "
                        "of term %llu", (unsigned long long)e->index, (unsigned long long)e->term, e->type,
                        (unsigned long long)p->term);
            rc = FLURM_EPROTO;
        }
        prev = e->term;
    }
    if (rc != FLURM_OK) {
        flurm_raft_store_loaded_free(h);
        *data = NULL;
        *len = 0;
        return rc;
    }
    p->entries = h->entries;
    p->n_entries = h->n;
    *held = h;
    return FLURM_OK;
}
