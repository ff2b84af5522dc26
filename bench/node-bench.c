/* bench/node-bench.c — the node channel under load: C simulated node daemons against flurmctld's
 * node port, each on its own connection (not a test; bench/nodechan.sh runs it).
 *
 *   node-bench -u URL [-m MUNGE_SOCKET] [-c CONNS] [-d SECONDS] [-k heartbeat|event|munge|seal] [-p]
 *
 * Each connection speaks for node n<i> (i = 1..CONNS): handshake (unless -p), Register, then
 * for SECONDS one request after another:
 *   heartbeat  JobStarted: read, authenticated and acknowledged at once, no log write (what
 *              every node request costs the controller before its own work)
 *   event      JobEnd of a job the controller does not know: a command committed to the log
 *              (group commit, fsync'd) before the Ack, like every real job end
 * -p speaks the pre-authentication protocol (plain protobuf, no handshake) for a controller
 * built before it. -k munge times one munge encode + decode pair on this host (the per-message
 * cost of SLURM's node RPCs, which carry a credential each way); -k seal times sealing and
 * opening one 80-byte message on an established channel (the per-message cost of FLURM's).
 * Prints one line: "kind=.. conns=.. ops=.. ops_per_s=.. p50_us=.. p99_us=.. handshake_us=..". */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <flurm/chan.h>

#include "auth/auth_internal.h"
#include "auth/chan_internal.h"
#include "node.pb-c.h"

#define MAX_SAMPLES 200000

static const char *g_url;
static flurm_auth_t *g_auth;
static bool g_plain;
static int g_seconds = 5;
static bool g_event;

typedef struct conn {
    pthread_t th;
    int index;
    uint64_t ops;
    double hs_us;
    uint32_t *lat_us;          /* per request */
    size_t nlat;
    bool failed;
} conn_t;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static nng_msg *exchange(nng_socket s, const flurm_buf_t *b)
{
    nng_msg *m, *r = NULL;
    if (nng_msg_alloc(&m, b->size) != 0)
        return NULL;
    memcpy(nng_msg_body(m), b->data, b->size);
    if (nng_sendmsg(s, m, 0) != 0) {
        nng_msg_free(m);
        return NULL;
    }
    return nng_recvmsg(s, &r, 0) == 0 ? r : NULL;
}

static bool request(nng_socket s, flurm_chan_t *chan, Flurm__Node__NodeRequest *req)
{
    size_t len = flurm__node__node_request__get_packed_size(req);
    uint8_t raw[512];
    if (len > sizeof raw)
        return false;
    flurm__node__node_request__pack(req, raw);
    flurm_buf_t b, plain;
    flurm_buf_init(&b);
    flurm_buf_init(&plain);
    if (chan)
        flurm_chan_seal(chan, raw, len, &b);
    else
        flurm_pack_raw(&b, raw, len);
    nng_msg *r = exchange(s, &b);
    flurm_buf_release(&b);
    if (!r)
        return false;
    bool ok = false;
    const void *p = nng_msg_body(r);
    size_t n = nng_msg_len(r);
    if (chan) {
        ok = flurm_chan_open(chan, p, n, &plain, NULL) == FLURM_OK;
        p = plain.data;
        n = plain.size;
    } else {
        ok = true;
    }
    Flurm__Node__NodeReply *rep = ok ? flurm__node__node_reply__unpack(NULL, n, p) : NULL;
    ok = rep && rep->error == 0;
    if (rep)
        flurm__node__node_reply__free_unpacked(rep, NULL);
    flurm_buf_release(&plain);
    nng_msg_free(r);
    return ok;
}

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    char node[32];
    snprintf(node, sizeof node, "n%d", c->index + 1);
    nng_socket s;
    flurm_chan_t *chan = NULL;
    c->failed = true;
    if (nng_req0_open(&s) != 0 || nng_dial(s, g_url, NULL, 0) != 0)
        return NULL;
    nng_setopt_ms(s, NNG_OPT_RECVTIMEO, 10000);
    if (!g_plain) {
        double t0 = now_us();
        flurm_chan_hs_t *hs = NULL;
        flurm_buf_t h;
        flurm_buf_init(&h);
        if (flurm_chan_hello(g_auth, FLURM_CHAN_NODE, node, &hs, &h, NULL) != FLURM_OK)
            goto out;
        nng_msg *r = exchange(s, &h);
        flurm_buf_release(&h);
        flurm_chan_peer_t peer;
        if (!r || flurm_chan_finish(g_auth, hs, nng_msg_body(r), nng_msg_len(r), &peer, &chan, NULL) != FLURM_OK) {
            if (r)
                nng_msg_free(r);
            else
                flurm_chan_hs_free(hs);
            goto out;
        }
        nng_msg_free(r);
        c->hs_us = now_us() - t0;
    }
    uint64_t boot = ((uint64_t)getpid() << 20) ^ (uint64_t)c->index ^ (uint64_t)now_us();
    Flurm__Node__Register g = FLURM__NODE__REGISTER__INIT;
    g.cpus = 2;
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.version = FLURM__NODE__VERSION__PROTOCOL_VERSION;
    req.node_name = node;
    req.boot_id = boot;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_REGISTER;
    req.register_ = &g;
    if (!request(s, chan, &req))
        goto out;
    Flurm__Node__JobStarted js = FLURM__NODE__JOB_STARTED__INIT;
    Flurm__Node__JobEnd je = FLURM__NODE__JOB_END__INIT;
    Flurm__Node__JobEvent ev = FLURM__NODE__JOB_EVENT__INIT;
    js.job_id = 4000000000u;
    je.job_id = 4000000000u;
    je.state = FLURM__NODE__JOB_END_STATE__JOB_END_COMPLETED;
    if (g_event) {
        ev.event_case = FLURM__NODE__JOB_EVENT__EVENT_ENDED;
        ev.ended = &je;
    } else {
        ev.event_case = FLURM__NODE__JOB_EVENT__EVENT_STARTED;
        ev.started = &js;
    }
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT;
    req.job_event = &ev;
    double end = now_us() + g_seconds * 1e6;
    for (double t = now_us(); t < end;) {
        if (!request(s, chan, &req))
            goto out;
        double t2 = now_us();
        if (c->nlat < MAX_SAMPLES)
            c->lat_us[c->nlat++] = (uint32_t)(t2 - t);
        c->ops++;
        t = t2;
    }
    c->failed = false;
out:
    flurm_chan_free(chan);
    nng_close(s);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int munge_floor(void)
{
    enum { N = 2000 };
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        char *cred = NULL;
        void *p = NULL;
        size_t n;
        if (auth_raw_encode(g_auth, "x", 1, &cred, NULL) != FLURM_OK ||
            auth_raw_decode(g_auth, cred, &p, &n, NULL, NULL, NULL, NULL) != FLURM_OK) {
            fprintf(stderr, "node-bench: munged refused\n");
            return 1;
        }
        free(cred);
        free(p);
    }
    printf("kind=munge pairs=%d us_per_encode_decode_pair=%.1f\n", N, (now_us() - t0) / N);
    return 0;
}

static int seal_cost(void)
{
    enum { N = 1000000 };
    const uint8_t k1[32] = { 1 }, k2[32] = { 2 };
    flurm_chan_t *a = chan_from_keys(k1, k2), *b = chan_from_keys(k2, k1);
    uint8_t msg[80] = { 0 };
    flurm_buf_t sealed, plain;
    flurm_buf_init(&sealed);
    flurm_buf_init(&plain);
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        sealed.size = 0;
        if (flurm_chan_seal(a, msg, sizeof msg, &sealed) != FLURM_OK ||
            flurm_chan_open(b, sealed.data, sealed.size, &plain, NULL) != FLURM_OK) {
            fprintf(stderr, "node-bench: seal/open failed\n");
            return 1;
        }
    }
    printf("kind=seal messages=%d bytes=80 us_per_seal_and_open=%.2f\n", N, (now_us() - t0) / N);
    flurm_buf_release(&sealed);
    flurm_buf_release(&plain);
    flurm_chan_free(a);
    flurm_chan_free(b);
    return 0;
}

int main(int argc, char **argv)
{
    const char *msock = NULL, *kind = "heartbeat";
    int conns = 4, opt;
    while ((opt = getopt(argc, argv, "u:m:c:d:k:p")) != -1) {
        switch (opt) {
        case 'u': g_url = optarg; break;
        case 'm': msock = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'd': g_seconds = atoi(optarg); break;
        case 'k': kind = optarg; break;
        case 'p': g_plain = true; break;
        default: return 2;
        }
    }
    g_auth = flurm_auth_new(msock, 0);
    if (!g_auth)
        return 3;
    if (!strcmp(kind, "munge"))
        return munge_floor();
    if (!strcmp(kind, "seal"))
        return seal_cost();
    g_event = !strcmp(kind, "event");
    if (!g_url || conns < 1 || (!g_event && strcmp(kind, "heartbeat"))) {
        fprintf(stderr, "usage: node-bench -u URL [-m SOCKET] [-c CONNS] [-d S] [-k heartbeat|event|munge] [-p]\n");
        return 2;
    }
    conn_t *c = calloc((size_t)conns, sizeof *c);
    for (int i = 0; i < conns; i++) {
        c[i].index = i;
        c[i].lat_us = malloc(MAX_SAMPLES * sizeof *c[i].lat_us);
        pthread_create(&c[i].th, NULL, conn_main, &c[i]);
    }
    uint64_t ops = 0;
    double hs = 0;
    size_t nall = 0;
    int failed = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(c[i].th, NULL);
        ops += c[i].ops;
        hs += c[i].hs_us;
        nall += c[i].nlat;
        failed += c[i].failed;
    }
    uint32_t *all = malloc((nall ? nall : 1) * sizeof *all);
    for (int i = 0, k = 0; i < conns; i++) {
        memcpy(all + k, c[i].lat_us, c[i].nlat * sizeof *all);
        k += (int)c[i].nlat;
        free(c[i].lat_us);
    }
    qsort(all, nall, sizeof *all, cmp_u32);
    printf("kind=%s%s conns=%d ops=%" PRIu64 " ops_per_s=%.0f p50_us=%u p99_us=%u handshake_us=%.0f failed=%d\n",
           kind, g_plain ? "-plain" : "", conns, ops, ops / (double)g_seconds, nall ? all[nall / 2] : 0,
           nall ? all[nall * 99 / 100] : 0, g_plain ? 0.0 : hs / conns, failed);
    free(all);
    free(c);
    flurm_auth_free(g_auth);
    return failed ? 1 : 0;
}
