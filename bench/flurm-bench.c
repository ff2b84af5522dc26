/* bench/flurm-bench.c — RPC load generator for a SLURM 22.05 controller (flurmctld or slurmctld).
 *
 * Every request is a whole client RPC as the real 22.05 clients do it (src/common/
 * slurm_protocol_api.c, slurm_send_recv_controller_msg()): one TCP connection per request, a
 * fresh munge credential carrying 0x02 || K12(body) restricted to ANY (REQUEST_PING: SlurmUser's
 * uid, as src/api/reconfigure.c does), send, read the whole reply frame, verify the reply's
 * credential against its body, check the reply type and return code, close. The latency of a
 * request covers all of that, including the two munged round trips on the client side.
 *
 * Output: one "key=value" line per figure (see bench/README.md); nothing here asserts timing.
 * Only --smoke has an exit status that depends on the controller: non-zero on any protocol error. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <flurm/auth.h>
#include <flurm/buf.h>
#include <flurm/codec.h>
#include <flurm/conf.h>
#include <flurm/msg_types.h>

#ifndef SOURCE_ROOT
#define SOURCE_ROOT "."
#endif
#define WARMUP_RPCS 50
#define DEFAULT_SUBMIT_FIXTURE SOURCE_ROOT "/tests/fixtures/slurm-22.05/sbatch/request.bin"

enum {
    MSG_REQUEST_PING = 1008,
    MSG_REQUEST_JOB_INFO = 2003,
    MSG_RESPONSE_JOB_INFO = 2004,
    MSG_REQUEST_SUBMIT_BATCH_JOB = 4003,
    MSG_RESPONSE_SUBMIT_BATCH_JOB = 4004,
    MSG_RESPONSE_SLURM_RC = 8001,
    MSG_RESPONSE_SLURM_RC_MSG = 8002,
};

typedef enum rpc_kind { RPC_PING, RPC_JOBINFO, RPC_SUBMIT, RPC_KIND_COUNT } rpc_kind_t;

static const char *const kind_names[RPC_KIND_COUNT] = {"ping", "jobinfo", "submit"};

typedef struct rpc_spec {
    uint16_t req_type;
    uint16_t resp_type;
    uid_t restrict_uid;
    flurm_buf_t body;
} rpc_spec_t;

/* What one successful RPC reported beyond "ok". */
typedef struct rpc_result {
    uint32_t reply_bytes;   /* whole reply frame, prefix included */
    uint32_t record_count;  /* RESPONSE_JOB_INFO only */
    uint32_t job_id;        /* RESPONSE_SUBMIT_BATCH_JOB only */
} rpc_result_t;

typedef struct bench {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[256];
    unsigned port;
    char munge_socket[1024];
    int munge_ttl;
    uid_t slurm_uid;
    flurm_auth_t *auth;
    rpc_spec_t spec[RPC_KIND_COUNT];
    const char *label;
} bench_t;

/* ---------------------------------------------------------------- small utilities */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct lat_vec {
    uint64_t *v;    /* nanoseconds */
    size_t n, cap;
} lat_vec_t;

static int lat_push(lat_vec_t *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint64_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ns;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted vector, in microseconds. */
static double pct_us(const lat_vec_t *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t rank = (size_t)(p * (double)l->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > l->n)
        rank = l->n;
    return (double)l->v[rank - 1] / 1000.0;
}

/* Distinct error texts and their counts for the cell being measured. */
#define MAX_ERR_KINDS 32
static struct {
    pthread_mutex_t mu;
    char what[MAX_ERR_KINDS][160];
    unsigned long count[MAX_ERR_KINDS];
    unsigned kinds;
    unsigned long other;
} errtab = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void err_reset(void)
{
    pthread_mutex_lock(&errtab.mu);
    errtab.kinds = 0;
    errtab.other = 0;
    pthread_mutex_unlock(&errtab.mu);
}

static void err_note(const char *what)
{
    pthread_mutex_lock(&errtab.mu);
    unsigned i;
    for (i = 0; i < errtab.kinds; i++)
        if (strcmp(errtab.what[i], what) == 0)
            break;
    if (i < errtab.kinds) {
        errtab.count[i]++;
    } else if (errtab.kinds < MAX_ERR_KINDS) {
        snprintf(errtab.what[i], sizeof(errtab.what[i]), "%s", what);
        errtab.count[i] = 1;
        errtab.kinds++;
    } else {
        errtab.other++;
    }
    pthread_mutex_unlock(&errtab.mu);
}

static void err_print(const bench_t *b, const char *figure)
{
    pthread_mutex_lock(&errtab.mu);
    for (unsigned i = 0; i < errtab.kinds; i++)
        printf("error label=%s figure=%s count=%lu what=\"%s\"\n", b->label, figure,
               errtab.count[i], errtab.what[i]);
    if (errtab.other)
        printf("error label=%s figure=%s count=%lu what=\"(other kinds)\"\n", b->label, figure,
               errtab.other);
    pthread_mutex_unlock(&errtab.mu);
    fflush(stdout);
}

/* ---------------------------------------------------------------- slurm.conf */

/* Takes the primary controller's address, SlurmctldPort (the first of a range), AuthInfo
 * socket=/ttl= and SlurmUser's uid from the slurm.conf at PATH. */
static int conf_read(bench_t *b, const char *path)
{
    flurm_conf_t *conf = NULL;
    char *why = NULL;
    int e = flurm_conf_load(path, &conf, &why);
    if (e != FLURM_OK) {
        fprintf(stderr, "flurm-bench: %s\n", why ? why : flurm_strerror(e));
        free(why);
        return -1;
    }
    snprintf(b->host, sizeof(b->host), "%s", conf->controllers[0].addr);
    b->port = conf->slurmctld_port;
    snprintf(b->munge_socket, sizeof(b->munge_socket), "%s", conf->auth_socket ? conf->auth_socket : "");
    b->munge_ttl = (int)conf->auth_ttl;
    b->slurm_uid = conf->slurm_user_id;
    flurm_conf_free(conf);

    char port[16];
    snprintf(port, sizeof(port), "%u", b->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(b->host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "flurm-bench: %s: %s\n", b->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
    b->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* ---------------------------------------------------------------- request bodies */

static int load_submit_body(flurm_buf_t *body, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "flurm-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            uint8_t *d = realloc(data, cap);
            if (!d) {
                free(data);
                fclose(f);
                return -1;
            }
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    flurm_frame_t fr;
    int rc = -1;
    uint32_t flen = len >= 4 ? flurm_frame_length(data) : 0;
    if (flen == 0 || flen > len - 4 || flurm_frame_decode(data + 4, flen, &fr) != FLURM_OK) {
        fprintf(stderr, "flurm-bench: %s: not a SLURM 22.05 frame\n", path);
    } else if (fr.hdr.msg_type != MSG_REQUEST_SUBMIT_BATCH_JOB) {
        fprintf(stderr, "flurm-bench: %s: message type %u, not REQUEST_SUBMIT_BATCH_JOB\n", path,
                fr.hdr.msg_type);
    } else if (flurm_pack_raw(body, fr.body, fr.hdr.body_length) == FLURM_OK) {
        rc = 0;
    }
    free(data);
    return rc;
}

static int build_specs(bench_t *b, const char *submit_fixture, bool need_submit)
{
    rpc_spec_t *s = b->spec;
    for (int k = 0; k < RPC_KIND_COUNT; k++)
        flurm_buf_init(&s[k].body);
    /* scontrol ping: empty body, credential restricted to SlurmUser (src/api/reconfigure.c). */
    s[RPC_PING].req_type = MSG_REQUEST_PING;
    s[RPC_PING].resp_type = MSG_RESPONSE_SLURM_RC;
    s[RPC_PING].restrict_uid = b->slurm_uid;
    /* squeue: job_info_request_msg {last_update 0, show_flags SHOW_LOCAL, job_ids count NO_VAL}. */
    s[RPC_JOBINFO].req_type = MSG_REQUEST_JOB_INFO;
    s[RPC_JOBINFO].resp_type = MSG_RESPONSE_JOB_INFO;
    s[RPC_JOBINFO].restrict_uid = FLURM_AUTH_UID_ANY;
    flurm_pack_time(&s[RPC_JOBINFO].body, 0);
    flurm_pack16(&s[RPC_JOBINFO].body, 0x0010);
    if (flurm_pack32(&s[RPC_JOBINFO].body, FLURM_NO_VAL) != FLURM_OK)
        return -1;
    s[RPC_SUBMIT].req_type = MSG_REQUEST_SUBMIT_BATCH_JOB;
    s[RPC_SUBMIT].resp_type = MSG_RESPONSE_SUBMIT_BATCH_JOB;
    s[RPC_SUBMIT].restrict_uid = FLURM_AUTH_UID_ANY;
    if (need_submit && load_submit_body(&s[RPC_SUBMIT].body, submit_fixture) != 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- one RPC */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0 on success, -1 with errno on failure, 1 when the peer closed before N bytes. */
static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return 1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *type_name(uint16_t t)
{
    const char *n = flurm_msg_type_name(t);
    return n ? n : "unknown message type";
}

/* Performs one complete client RPC of KIND. On failure writes a short description to ERR. */
static int rpc_once(bench_t *b, rpc_kind_t kind, rpc_result_t *res, char *err, size_t errlen)
{
    const rpc_spec_t *s = &b->spec[kind];
    char *cred = NULL;
    flurm_buf_t out;
    uint8_t *reply = NULL;
    int fd = -1, rc = -1;
    flurm_buf_init(&out);

    int e = flurm_auth_sign(b->auth, s->req_type, s->body.data, s->body.size, s->restrict_uid, &cred);
    if (e != FLURM_OK) {
        snprintf(err, errlen, "munge sign: %s", flurm_strerror(e));
        goto done;
    }
    if (flurm_frame_encode(&out, FLURM_PROTOCOL_VERSION, 0, s->req_type, cred, s->body.data,
                           s->body.size) != FLURM_OK) {
        snprintf(err, errlen, "frame encode: %s", flurm_strerror(out.err));
        goto done;
    }
    fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        goto done;
    }
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&b->addr, b->addr_len) != 0) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        goto done;
    }
    if (write_all(fd, out.data, out.size) != 0) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        goto done;
    }
    uint8_t pfx[4];
    int r = read_all(fd, pfx, 4);
    if (r != 0) {
        snprintf(err, errlen, "recv length: %s", r > 0 ? "connection closed" : strerror(errno));
        goto done;
    }
    uint32_t len = flurm_frame_length(pfx);
    if (len == 0) {
        snprintf(err, errlen, "reply length prefix %u is insane", get_u32(pfx));
        goto done;
    }
    reply = malloc(len);
    if (!reply) {
        snprintf(err, errlen, "out of memory for a %u-byte reply", len);
        goto done;
    }
    r = read_all(fd, reply, len);
    if (r != 0) {
        snprintf(err, errlen, "recv reply: %s", r > 0 ? "connection closed" : strerror(errno));
        goto done;
    }
    flurm_frame_t fr;
    e = flurm_frame_decode(reply, len, &fr);
    if (e != FLURM_OK) {
        snprintf(err, errlen, "reply decode: %s", flurm_strerror(e));
        goto done;
    }
    if (!fr.cred) {
        snprintf(err, errlen, "reply type %u carries no credential", fr.hdr.msg_type);
        goto done;
    }
    const char *why = NULL;
    e = flurm_auth_verify(b->auth, fr.cred, fr.hdr.msg_type, fr.body, fr.hdr.body_length, NULL,
                          NULL, &why);
    if (e != FLURM_OK) {
        snprintf(err, errlen, "reply credential: %s", why ? why : flurm_strerror(e));
        goto done;
    }
    if ((fr.hdr.msg_type == MSG_RESPONSE_SLURM_RC || fr.hdr.msg_type == MSG_RESPONSE_SLURM_RC_MSG) &&
        fr.hdr.body_length >= 4) {
        uint32_t src = get_u32(fr.body);
        if (s->resp_type != MSG_RESPONSE_SLURM_RC || src != 0) {
            const char *rcname = flurm_slurm_rc_name((int)src);
            snprintf(err, errlen, "reply %s rc=%u %s (wanted %s)", type_name(fr.hdr.msg_type), src,
                     rcname ? rcname : "?", type_name(s->resp_type));
            goto done;
        }
    } else if (fr.hdr.msg_type != s->resp_type) {
        snprintf(err, errlen, "reply %s (wanted %s)", type_name(fr.hdr.msg_type),
                 type_name(s->resp_type));
        goto done;
    }
    res->reply_bytes = len + 4;
    if (fr.hdr.msg_type == MSG_RESPONSE_JOB_INFO || fr.hdr.msg_type == MSG_RESPONSE_SUBMIT_BATCH_JOB) {
        if (fr.hdr.body_length < 4) {
            snprintf(err, errlen, "reply type %u body too short", fr.hdr.msg_type);
            goto done;
        }
        if (fr.hdr.msg_type == MSG_RESPONSE_JOB_INFO)
            res->record_count = get_u32(fr.body);
        else
            res->job_id = get_u32(fr.body);
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(reply);
    free(cred);
    flurm_buf_release(&out);
    return rc;
}

/* Fresh credential then its verification: two munged round trips, half a client RPC's share. */
static int munge_pair_once(bench_t *b, char *err, size_t errlen)
{
    static const uint8_t body[14] = {0};
    char *cred = NULL;
    int e = flurm_auth_sign(b->auth, MSG_REQUEST_JOB_INFO, body, sizeof(body), FLURM_AUTH_UID_ANY, &cred);
    if (e != FLURM_OK) {
        snprintf(err, errlen, "munge sign: %s", flurm_strerror(e));
        return -1;
    }
    const char *why = NULL;
    e = flurm_auth_verify(b->auth, cred, MSG_REQUEST_JOB_INFO, body, sizeof(body), NULL, NULL, &why);
    free(cred);
    if (e != FLURM_OK) {
        snprintf(err, errlen, "munge verify: %s", why ? why : flurm_strerror(e));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- cells (N threads, one kind) */

typedef struct cell {
    bench_t *b;
    rpc_kind_t kind;
    bool munge_only;
    uint64_t deadline_ns;        /* no new request after this (0 = no time limit) */
    bool counted;                /* stop after REMAINING requests as well */
    atomic_long remaining;
    pthread_barrier_t start;
    atomic_ulong errors;
    atomic_uint last_record_count;
    atomic_uint last_reply_bytes;
} cell_t;

typedef struct worker {
    pthread_t tid;
    cell_t *cell;
    lat_vec_t lat;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    cell_t *c = w->cell;
    char err[200];
    pthread_barrier_wait(&c->start);
    for (;;) {
        if (c->deadline_ns && now_ns() >= c->deadline_ns)
            break;
        if (c->counted && atomic_fetch_sub(&c->remaining, 1) <= 0)
            break;
        rpc_result_t res = {0};
        uint64_t t0 = now_ns();
        int rc = c->munge_only ? munge_pair_once(c->b, err, sizeof(err))
                               : rpc_once(c->b, c->kind, &res, err, sizeof(err));
        uint64_t t1 = now_ns();
        if (rc != 0) {
            atomic_fetch_add(&c->errors, 1);
            err_note(err);
            continue;
        }
        if (lat_push(&w->lat, t1 - t0) != 0) {
            atomic_fetch_add(&c->errors, 1);
            err_note("out of memory for latencies");
        }
        atomic_store(&c->last_record_count, res.record_count);
        atomic_store(&c->last_reply_bytes, res.reply_bytes);
    }
    return NULL;
}

typedef struct cell_stats {
    size_t n;
    unsigned long errors;
    double secs, rps, p50, p99, max;
    uint32_t record_count, reply_bytes;
} cell_stats_t;

/* Runs CONC workers of KIND until SECS seconds have passed (SECS == 0: no time limit) or COUNT
 * requests were made in total (COUNT == 0: no count limit); one of the two must be set. */
static int run_cell(bench_t *b, rpc_kind_t kind, bool munge_only, unsigned conc, double secs,
                    long count, cell_stats_t *st)
{
    cell_t c = {.b = b, .kind = kind, .munge_only = munge_only, .counted = count > 0};
    atomic_init(&c.remaining, count);
    atomic_init(&c.errors, 0);
    atomic_init(&c.last_record_count, 0);
    atomic_init(&c.last_reply_bytes, 0);
    worker_t *w = calloc(conc, sizeof(*w));
    if (!w || pthread_barrier_init(&c.start, NULL, conc + 1) != 0) {
        free(w);
        return -1;
    }
    err_reset();
    unsigned started = 0;
    for (; started < conc; started++) {
        w[started].cell = &c;
        if (pthread_create(&w[started].tid, NULL, worker_main, &w[started]) != 0)
            break;
    }
    if (started < conc) {
        /* cannot release the barrier with fewer threads: fail loudly instead */
        fprintf(stderr, "flurm-bench: could not start %u threads\n", conc);
        exit(1);
    }
    uint64_t t0 = now_ns();
    if (secs > 0)
        c.deadline_ns = t0 + (uint64_t)(secs * 1e9);
    pthread_barrier_wait(&c.start);
    for (unsigned i = 0; i < conc; i++)
        pthread_join(w[i].tid, NULL);
    uint64_t t1 = now_ns();
    pthread_barrier_destroy(&c.start);

    lat_vec_t all = {0};
    for (unsigned i = 0; i < conc; i++) {
        for (size_t j = 0; j < w[i].lat.n; j++)
            lat_push(&all, w[i].lat.v[j]);
        free(w[i].lat.v);
    }
    free(w);
    qsort(all.v, all.n, sizeof(*all.v), cmp_u64);
    memset(st, 0, sizeof(*st));
    st->n = all.n;
    st->errors = atomic_load(&c.errors);
    st->secs = (double)(t1 - t0) / 1e9;
    st->rps = st->secs > 0 ? (double)all.n / st->secs : 0;
    st->p50 = pct_us(&all, 0.50);
    st->p99 = pct_us(&all, 0.99);
    st->max = all.n ? (double)all.v[all.n - 1] / 1000.0 : 0;
    st->record_count = atomic_load(&c.last_record_count);
    st->reply_bytes = atomic_load(&c.last_reply_bytes);
    free(all.v);
    return 0;
}

/* ---------------------------------------------------------------- controller RSS */

/* The pid listening on PORT, from `ss -ltnpH 'sport = :PORT'`; 0 when not found. */
static long pid_by_port(unsigned port)
{
    char cmd[128], line[1024];
    snprintf(cmd, sizeof(cmd), "ss -ltnpH 'sport = :%u' 2>/dev/null", port);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    long pid = 0;
    while (!pid && fgets(line, sizeof(line), p)) {
        char *at = strstr(line, "pid=");
        if (at)
            pid = strtol(at + 4, NULL, 10);
    }
    pclose(p);
    return pid;
}

/* VmRSS of PID in KiB, or -1. */
static long rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* ---------------------------------------------------------------- modes */

static int parse_list(const char *s, unsigned *out, int max)
{
    int n = 0;
    char *dup = strdup(s), *save = NULL;
    for (char *p = strtok_r(dup, ",", &save); p && n < max; p = strtok_r(NULL, ",", &save)) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (*end || v == 0 || v > 100000) {
            free(dup);
            return -1;
        }
        out[n++] = (unsigned)v;
    }
    free(dup);
    return n;
}

static void print_cell(const bench_t *b, const char *what, unsigned conc, const cell_stats_t *st)
{
    printf("rpc label=%s kind=%s conc=%u n=%zu secs=%.2f rps=%.1f p50_us=%.0f p99_us=%.0f "
           "max_us=%.0f errors=%lu\n",
           b->label, what, conc, st->n, st->secs, st->rps, st->p50, st->p99, st->max, st->errors);
    fflush(stdout);
}

/* Queue depth now (RESPONSE_JOB_INFO record_count), or -1 with the error printed. */
static long queue_depth(bench_t *b, uint32_t *reply_bytes)
{
    rpc_result_t res = {0};
    char err[200];
    if (rpc_once(b, RPC_JOBINFO, &res, err, sizeof(err)) != 0) {
        fprintf(stderr, "flurm-bench: job info: %s\n", err);
        return -1;
    }
    if (reply_bytes)
        *reply_bytes = res.reply_bytes;
    return res.record_count;
}

static int run_deep(bench_t *b, const unsigned *depths, int ndepths, unsigned samples, long pid,
                    unsigned fill_conc, double fill_max_s)
{
    if (pid <= 0)
        pid = pid_by_port(b->port);
    long depth0 = queue_depth(b, NULL);
    if (depth0 < 0)
        return 1;
    long rss0 = pid > 0 ? rss_kb(pid) : -1;
    printf("deep label=%s jobs=%ld pid=%ld rss_kb=%ld (baseline)\n", b->label, depth0, pid, rss0);
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < ndepths; i++) {
        long depth = queue_depth(b, NULL);
        if (depth < 0)
            return 1;
        long need = (long)depths[i] - depth;
        cell_stats_t fill = {0};
        if (need > 0) {
            run_cell(b, RPC_SUBMIT, false, fill_conc, fill_max_s, need, &fill);
            if (fill.errors) {
                err_print(b, "deep_fill");
                failed = 1;
            }
        }
        uint32_t reply_bytes = 0;
        depth = queue_depth(b, &reply_bytes);
        if (depth < 0)
            return 1;
        if (depth < (long)depths[i])
            printf("deep label=%s target=%u reached=%ld note=\"fill stopped after %.0f s\"\n",
                   b->label, depths[i], depth, fill_max_s);
        long rss_fill = pid > 0 ? rss_kb(pid) : -1;
        cell_stats_t st;
        run_cell(b, RPC_JOBINFO, false, 1, fill_max_s, samples, &st);
        if (st.errors) {
            err_print(b, "deep_jobinfo");
            failed = 1;
        }
        long rss_q = pid > 0 ? rss_kb(pid) : -1;
        double per_job = (rss0 >= 0 && rss_fill >= 0 && depth > depth0)
                             ? (double)(rss_fill - rss0) * 1024.0 / (double)(depth - depth0)
                             : 0;
        printf("deep label=%s jobs=%ld submitted=%zu fill_s=%.2f fill_rps=%.1f jobinfo_n=%zu "
               "jobinfo_p50_us=%.0f jobinfo_p99_us=%.0f reply_bytes=%u rss_kb=%ld "
               "rss_after_query_kb=%ld rss_per_job_b=%.0f errors=%lu\n",
               b->label, depth, fill.n, fill.secs, fill.rps, st.n, st.p50, st.p99, reply_bytes,
               rss_fill, rss_q, per_job, fill.errors + st.errors);
        fflush(stdout);
    }
    return failed;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flurm-bench -f slurm.conf [-t seconds] [-c 1,4,16] [--rpc ping,jobinfo,submit]\n"
            "                   [--label NAME] [--submit-fixture request.bin]\n"
            "       flurm-bench -f slurm.conf --munge-only [-t seconds] [-c 1,4,16]\n"
            "       flurm-bench -f slurm.conf --deep 1000,10000 [--samples 50] [--pid PID]\n"
            "                   [--fill-max SECONDS]\n"
            "       flurm-bench -f slurm.conf --smoke\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"conf", required_argument, NULL, 'f'},
        {"time", required_argument, NULL, 't'},
        {"conc", required_argument, NULL, 'c'},
        {"rpc", required_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'l'},
        {"munge-only", no_argument, NULL, 'm'},
        {"deep", required_argument, NULL, 'd'},
        {"samples", required_argument, NULL, 's'},
        {"pid", required_argument, NULL, 'p'},
        {"fill-max", required_argument, NULL, 'F'},
        {"smoke", no_argument, NULL, 'S'},
        {"submit-fixture", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *conf = NULL, *rpcs = "ping,jobinfo,submit", *conc_s = "1,4,16", *deep_s = NULL;
    const char *fixture = DEFAULT_SUBMIT_FIXTURE;
    double secs = 5, fill_max_s = 120;
    unsigned samples = 50;
    long pid = 0;
    bool munge_only = false, smoke = false;
    bench_t b = {.label = "controller"};
    int o;
    while ((o = getopt_long(argc, argv, "f:t:c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'f': conf = optarg; break;
        case 't': secs = atof(optarg); break;
        case 'c': conc_s = optarg; break;
        case 'r': rpcs = optarg; break;
        case 'l': b.label = optarg; break;
        case 'm': munge_only = true; break;
        case 'd': deep_s = optarg; break;
        case 's': samples = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'p': pid = strtol(optarg, NULL, 10); break;
        case 'F': fill_max_s = atof(optarg); break;
        case 'S': smoke = true; break;
        case 'x': fixture = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!conf || optind != argc || secs <= 0 || samples == 0 || fill_max_s <= 0) {
        usage(stderr);
        return 2;
    }
    unsigned conc[16];
    int nconc = parse_list(conc_s, conc, 16);
    if (nconc <= 0) {
        fprintf(stderr, "flurm-bench: bad -c list %s\n", conc_s);
        return 2;
    }
    bool want[RPC_KIND_COUNT] = {false};
    {
        char *dup = strdup(rpcs), *save = NULL;
        for (char *p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            int k;
            for (k = 0; k < RPC_KIND_COUNT && strcmp(p, kind_names[k]); k++)
                ;
            if (k == RPC_KIND_COUNT) {
                fprintf(stderr, "flurm-bench: unknown rpc kind %s (ping, jobinfo, submit)\n", p);
                free(dup);
                return 2;
            }
            want[k] = true;
        }
        free(dup);
    }
    if (conf_read(&b, conf) != 0)
        return 2;
    b.auth = flurm_auth_new(b.munge_socket[0] ? b.munge_socket : NULL, b.munge_ttl);
    if (!b.auth)
        return 2;
    bool need_submit = !munge_only && (smoke || deep_s || want[RPC_SUBMIT]);
    if (build_specs(&b, fixture, need_submit) != 0)
        return 2;
    printf("# flurm-bench label=%s target=%s:%u munge_socket=%s slurm_uid=%u\n", b.label, b.host,
           b.port, b.munge_socket[0] ? b.munge_socket : "(default)", (unsigned)b.slurm_uid);
    fflush(stdout);

    int status = 0;
    cell_stats_t st;
    if (smoke) {
        for (int k = 0; k < RPC_KIND_COUNT; k++) {
            run_cell(&b, (rpc_kind_t)k, false, 1, 0, 10, &st);
            print_cell(&b, kind_names[k], 1, &st);
            if (st.errors || st.n != 10) {
                err_print(&b, kind_names[k]);
                status = 1;
            }
        }
    } else if (munge_only) {
        for (int i = 0; i < nconc; i++) {
            run_cell(&b, RPC_PING, true, conc[i], secs, 0, &st);
            printf("munge label=%s conc=%u n=%zu secs=%.2f pairs_per_s=%.1f p50_us=%.0f "
                   "p99_us=%.0f rpc_ceiling_per_s=%.1f errors=%lu\n",
                   b.label, conc[i], st.n, st.secs, st.rps, st.p50, st.p99, st.rps / 2, st.errors);
            fflush(stdout);
            if (st.errors)
                err_print(&b, "munge");
        }
    } else if (deep_s) {
        unsigned depths[16];
        int nd = parse_list(deep_s, depths, 16);
        if (nd <= 0) {
            fprintf(stderr, "flurm-bench: bad --deep list %s\n", deep_s);
            return 2;
        }
        status = run_deep(&b, depths, nd, samples, pid, 4, fill_max_s);
    } else {
        for (int k = 0; k < RPC_KIND_COUNT; k++) {
            if (!want[k])
                continue;
            /* warm-up, not reported: connection paths, caches and the controller's startup work */
            run_cell(&b, (rpc_kind_t)k, false, 1, 0, WARMUP_RPCS, &st);
            for (int i = 0; i < nconc; i++) {
                run_cell(&b, (rpc_kind_t)k, false, conc[i], secs, 0, &st);
                print_cell(&b, kind_names[k], conc[i], &st);
                if (st.errors) {
                    char fig[64];
                    snprintf(fig, sizeof(fig), "%s_c%u", kind_names[k], conc[i]);
                    err_print(&b, fig);
                }
            }
        }
    }
    for (int k = 0; k < RPC_KIND_COUNT; k++)
        flurm_buf_release(&b.spec[k].body);
    flurm_auth_free(b.auth);
    return status;
}
