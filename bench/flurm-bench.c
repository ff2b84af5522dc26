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
#include <flurm/msg.h>
#include <flurm/msg_info.h>
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


/* ---------------------------------------------------------------- --submit-wrap: real jobs */

/* The job submitted by --submit-wrap: the captured sbatch job description with priority NO_VAL
 * (not held), script = what `sbatch --wrap 'date +%s.%N'` writes, the job's output in
 * OUT_DIR/%j.out and OUT_DIR as its working directory. The job's only output line is the
 * wall-clock instant it started running. */
static int build_wrap_body(flurm_buf_t *body, const char *fixture, const char *out_dir)
{
    flurm_buf_t raw;
    flurm_buf_init(&raw);
    if (load_submit_body(&raw, fixture) != 0)
        return -1;
    flurm_job_desc_msg_t *desc = NULL;
    int e = flurm_msg_unpack(MSG_REQUEST_SUBMIT_BATCH_JOB, raw.data, raw.size, (void **)&desc);
    flurm_buf_release(&raw);
    if (e != FLURM_OK || !desc) {
        fprintf(stderr, "flurm-bench: %s: job description: %s\n", fixture, flurm_strerror(e));
        return -1;
    }
    char out[4200];
    snprintf(out, sizeof(out), "%s/%%j.out", out_dir);
    char *name = strdup("bench-wrap");
    char *script = strdup("#!/bin/sh\n# This script was created by sbatch --wrap.\n\ndate +%s.%N\n");
    char *std_out = strdup(out), *work_dir = strdup(out_dir);
    int rc = -1;
    if (name && script && std_out && work_dir) {
        free(desc->name);
        free(desc->script);
        free(desc->std_out);
        free(desc->work_dir);
        desc->name = name;
        desc->script = script;
        desc->std_out = std_out;
        desc->work_dir = work_dir;
        name = script = std_out = work_dir = NULL;
        desc->priority = FLURM_NO_VAL;   /* the capture is --hold (priority 0) */
        rc = flurm_msg_pack(MSG_REQUEST_SUBMIT_BATCH_JOB, desc, body) == FLURM_OK ? 0 : -1;
    }
    free(name);
    free(script);
    free(std_out);
    free(work_dir);
    flurm_msg_free(MSG_REQUEST_SUBMIT_BATCH_JOB, desc);
    return rc;
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One submitted job, in submit order. Times are CLOCK_REALTIME seconds (comparable with the
 * job's `date +%s.%N`), 0 = unknown. */
typedef struct wrap_job {
    uint32_t id;                 /* 0: the submit failed */
    double t_send;               /* just before the credential is made: the user's submit instant */
    double t_reply;              /* the job id is known */
    double t_start;              /* first line of the job's output */
} wrap_job_t;

/* What the poller saw of one job id (open addressing on job id; id 0 = empty slot). */
typedef struct wrap_seen {
    uint32_t id;
    uint32_t state;              /* last job_state polled */
    uint16_t reason;             /* last state_reason polled */
    double t_end;                /* send instant of the first poll that saw it finished */
} wrap_seen_t;

typedef struct wrap_run {
    bench_t *b;
    unsigned n;
    wrap_job_t *jobs;
    atomic_uint next;
    atomic_ulong errors;
    atomic_bool submit_done;
    wrap_seen_t *seen;
    size_t seen_cap;             /* power of two, >= 4 n */
    double poll_s, wait_max_s;
    unsigned polls, poll_errors;
} wrap_run_t;

static wrap_seen_t *seen_slot(wrap_run_t *w, uint32_t id)
{
    size_t i = (size_t)id * 2654435761u & (w->seen_cap - 1);
    while (w->seen[i].id && w->seen[i].id != id)
        i = (i + 1) & (w->seen_cap - 1);
    return &w->seen[i];
}

static bool state_finished(uint32_t st)
{
    return (st & FLURM_JOB_STATE_BASE) >= FLURM_JOB_COMPLETE && !(st & FLURM_JOB_COMPLETING);
}

typedef struct wrap_worker {
    pthread_t tid;
    wrap_run_t *w;
    lat_vec_t lat;
} wrap_worker_t;

static void *wrap_submit_main(void *arg)
{
    wrap_worker_t *ww = arg;
    wrap_run_t *w = ww->w;
    char err[200];
    for (;;) {
        unsigned slot = atomic_fetch_add(&w->next, 1);
        if (slot >= w->n)
            break;
        rpc_result_t res = {0};
        wrap_job_t *j = &w->jobs[slot];
        uint64_t t0 = now_ns();
        j->t_send = now_wall();
        if (rpc_once(w->b, RPC_SUBMIT, &res, err, sizeof(err)) != 0) {
            atomic_fetch_add(&w->errors, 1);
            err_note(err);
            continue;
        }
        j->t_reply = now_wall();
        j->id = res.job_id;
        lat_push(&ww->lat, now_ns() - t0);
    }
    return NULL;
}

/* One REQUEST_JOB_INFO; records every job's state into w->seen. Returns the number of
 * submitted jobs not yet finished (only meaningful once submitting is over), -1 on error. */
static long wrap_poll(wrap_run_t *w, unsigned counts[FLURM_JOB_END + 1])
{
    /* rpc_once without the reply credential check, keeping the reply to decode its records */
    double t = now_wall();
    flurm_buf_t *body = &w->b->spec[RPC_JOBINFO].body;
    char *cred = NULL;
    flurm_buf_t out;
    flurm_buf_init(&out);
    long rc = -1;
    uint8_t *reply = NULL;
    int fd = -1;
    if (flurm_auth_sign(w->b->auth, MSG_REQUEST_JOB_INFO, body->data, body->size,
                        FLURM_AUTH_UID_ANY, &cred) != FLURM_OK ||
        flurm_frame_encode(&out, FLURM_PROTOCOL_VERSION, 0, MSG_REQUEST_JOB_INFO, cred, body->data,
                           body->size) != FLURM_OK)
        goto done;
    fd = socket(w->b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 30};
    if (fd < 0)
        goto done;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t pfx[4];
    if (connect(fd, (struct sockaddr *)&w->b->addr, w->b->addr_len) != 0 ||
        write_all(fd, out.data, out.size) != 0 || read_all(fd, pfx, 4) != 0)
        goto done;
    uint32_t len = flurm_frame_length(pfx);
    if (len == 0 || !(reply = malloc(len)) || read_all(fd, reply, len) != 0)
        goto done;
    flurm_frame_t fr;
    if (flurm_frame_decode(reply, len, &fr) != FLURM_OK || fr.hdr.msg_type != MSG_RESPONSE_JOB_INFO)
        goto done;
    flurm_job_info_msg_t *m = NULL;
    if (flurm_msg_unpack(MSG_RESPONSE_JOB_INFO, fr.body, fr.hdr.body_length, (void **)&m) != FLURM_OK ||
        !m)
        goto done;
    memset(counts, 0, sizeof(unsigned) * (FLURM_JOB_END + 1));
    for (uint32_t i = 0; i < m->record_count; i++) {
        const flurm_job_info_t *ji = &m->job_array[i];
        if (!ji->job_id)
            continue;
        wrap_seen_t *s = seen_slot(w, ji->job_id);
        s->id = ji->job_id;
        s->state = ji->job_state;
        s->reason = ji->state_reason;
        bool fin = state_finished(ji->job_state);
        if (fin && s->t_end == 0)
            s->t_end = t;
        unsigned base = ji->job_state & FLURM_JOB_STATE_BASE;
        counts[(ji->job_state & FLURM_JOB_COMPLETING) ? FLURM_JOB_END
                                                      : (base < FLURM_JOB_END ? base : FLURM_JOB_FAILED)]++;
    }
    flurm_msg_free(MSG_RESPONSE_JOB_INFO, m);
    rc = 0;
    if (atomic_load(&w->submit_done)) {
        for (unsigned i = 0; i < w->n; i++)
            if (w->jobs[i].id && seen_slot(w, w->jobs[i].id)->t_end == 0)
                rc++;
    }
done:
    if (fd >= 0)
        close(fd);
    free(reply);
    free(cred);
    flurm_buf_release(&out);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of N sorted values. */
static double pct_d(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p * (double)n + 0.999999);
    rank = rank < 1 ? 1 : rank > n ? n : rank;
    return v[rank - 1];
}

static const char *const state_names[FLURM_JOB_END + 1] = {
    "pending", "running", "suspended", "completed", "cancelled", "failed", "timeout",
    "node_fail", "preempted", "boot_fail", "deadline", "oom", "completing"};

static int run_submit_wrap(bench_t *b, unsigned n, unsigned conc, const char *out_dir, double poll_s,
                           double wait_max_s, const char *raw_path)
{
    wrap_run_t w = {.b = b, .n = n, .poll_s = poll_s, .wait_max_s = wait_max_s};
    w.jobs = calloc(n, sizeof(*w.jobs));
    w.seen_cap = 1024;
    while (w.seen_cap < 4 * (size_t)n + 1024)
        w.seen_cap *= 2;
    w.seen = calloc(w.seen_cap, sizeof(*w.seen));
    wrap_worker_t *ww = calloc(conc, sizeof(*ww));
    if (!w.jobs || !w.seen || !ww) {
        fprintf(stderr, "flurm-bench: out of memory\n");
        return 1;
    }
    atomic_init(&w.next, 0);
    atomic_init(&w.errors, 0);
    atomic_init(&w.submit_done, false);
    err_reset();
    unsigned counts[FLURM_JOB_END + 1] = {0};

    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < conc; i++) {
        ww[i].w = &w;
        if (pthread_create(&ww[i].tid, NULL, wrap_submit_main, &ww[i]) != 0) {
            fprintf(stderr, "flurm-bench: could not start %u threads\n", conc);
            exit(1);
        }
    }
    /* poll while submitting too: jobs start and end during the submit phase */
    unsigned joined = 0;
    double last_progress = now_wall(), deadline = 0;
    long left = -1;
    for (;;) {
        uint64_t tp = now_ns();
        left = wrap_poll(&w, counts);
        w.polls++;
        if (left < 0)
            w.poll_errors++;
        if (joined < conc && atomic_load(&w.next) >= n) {
            for (; joined < conc; joined++)
                pthread_join(ww[joined].tid, NULL);
            atomic_store(&w.submit_done, true);
            deadline = now_wall() + wait_max_s;
            continue;   /* poll again now that completion can be judged */
        }
        if (joined == conc && left == 0)
            break;
        if (joined == conc && now_wall() >= deadline)
            break;
        if (now_wall() - last_progress >= 2) {
            last_progress = now_wall();
            fprintf(stderr, "[flurm-bench %s] t=%.0fs submitted=%u pending=%u running=%u completing=%u done=%u\n",
                    b->label, (double)(now_ns() - t0) / 1e9, atomic_load(&w.next) < n ? atomic_load(&w.next) : n,
                    counts[FLURM_JOB_PENDING], counts[FLURM_JOB_RUNNING], counts[FLURM_JOB_END],
                    counts[FLURM_JOB_COMPLETE] + counts[FLURM_JOB_FAILED] + counts[FLURM_JOB_CANCELLED]);
        }
        uint64_t spent = now_ns() - tp, want = (uint64_t)(poll_s * 1e9);
        if (spent < want) {
            struct timespec ts = {.tv_sec = (time_t)((want - spent) / 1000000000u),
                                  .tv_nsec = (long)((want - spent) % 1000000000u)};
            nanosleep(&ts, NULL);
        }
    }

    /* submit figures */
    lat_vec_t all = {0};
    for (unsigned i = 0; i < conc; i++) {
        for (size_t k = 0; k < ww[i].lat.n; k++)
            lat_push(&all, ww[i].lat.v[k]);
        free(ww[i].lat.v);
    }
    free(ww);
    qsort(all.v, all.n, sizeof(*all.v), cmp_u64);
    double first_send = 0, last_reply = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!w.jobs[i].id)
            continue;
        if (first_send == 0 || w.jobs[i].t_send < first_send)
            first_send = w.jobs[i].t_send;
        if (w.jobs[i].t_reply > last_reply)
            last_reply = w.jobs[i].t_reply;
    }
    unsigned long errors = atomic_load(&w.errors);
    double submit_s = last_reply > first_send ? last_reply - first_send : 0;
    printf("wrap label=%s what=submit jobs=%u conc=%u submitted=%zu submit_s=%.3f submit_rps=%.1f "
           "rpc_p50_us=%.0f rpc_p99_us=%.0f rpc_max_us=%.0f errors=%lu\n",
           b->label, n, conc, all.n, submit_s, submit_s > 0 ? (double)all.n / submit_s : 0,
           pct_us(&all, 0.50), pct_us(&all, 0.99), all.n ? (double)all.v[all.n - 1] / 1000.0 : 0,
           errors);
    free(all.v);
    if (errors)
        err_print(b, "submit_wrap");

    /* start instants from the jobs' output, end instants from the polls */
    double *lat_start = calloc(n, sizeof(double)), *lat_end = calloc(n, sizeof(double));
    size_t ns = 0, ne = 0;
    unsigned missing_out = 0, not_finished = 0, not_completed = 0;
    double first_start = 0, last_start = 0, last_end = 0;
    FILE *raw = raw_path ? fopen(raw_path, "w") : NULL;
    if (raw)
        fprintf(raw, "# job_id t_send t_reply t_start t_end state reason\n");
    for (unsigned i = 0; i < n; i++) {
        wrap_job_t *j = &w.jobs[i];
        if (!j->id)
            continue;
        char path[4200], line[128];
        snprintf(path, sizeof(path), "%s/%u.out", out_dir, j->id);
        FILE *f = fopen(path, "r");
        if (f && fgets(line, sizeof(line), f)) {
            char *end;
            double t = strtod(line, &end);
            if (end != line && t > 0)
                j->t_start = t;
        }
        if (f)
            fclose(f);
        const wrap_seen_t *s = seen_slot(&w, j->id);
        if (j->t_start > 0) {
            lat_start[ns++] = j->t_start - j->t_send;
            if (first_start == 0 || j->t_start < first_start)
                first_start = j->t_start;
            if (j->t_start > last_start)
                last_start = j->t_start;
        } else {
            missing_out++;
        }
        if (s->id && s->t_end > 0) {
            lat_end[ne++] = s->t_end - j->t_send;
            if (s->t_end > last_end)
                last_end = s->t_end;
            if ((s->state & FLURM_JOB_STATE_BASE) != FLURM_JOB_COMPLETE)
                not_completed++;
        } else {
            not_finished++;
        }
        if (raw)
            fprintf(raw, "%u %.6f %.6f %.6f %.6f %u %u\n", j->id, j->t_send, j->t_reply, j->t_start,
                    s->id ? s->t_end : 0.0, s->id ? s->state : FLURM_NO_VAL, s->id ? s->reason : 0);
    }
    if (raw)
        fclose(raw);
    qsort(lat_start, ns, sizeof(double), cmp_double);
    qsort(lat_end, ne, sizeof(double), cmp_double);
    double run_span = last_end > first_start && first_start > 0 ? last_end - first_start : 0;
    double start_span = last_start > first_start ? last_start - first_start : 0;
    printf("wrap label=%s what=run jobs=%u finished=%zu not_finished=%u not_completed=%u "
           "missing_out=%u makespan_s=%.3f run_span_s=%.3f completions_per_s=%.1f "
           "start_span_s=%.3f starts_per_s=%.1f "
           "start_p50_ms=%.0f start_p90_ms=%.0f start_p99_ms=%.0f start_max_ms=%.0f "
           "end_p50_ms=%.0f end_p90_ms=%.0f end_p99_ms=%.0f end_max_ms=%.0f polls=%u poll_errors=%u "
           "poll_s=%.3f\n",
           b->label, n, ne, not_finished, not_completed, missing_out,
           last_end > first_send && first_send > 0 ? last_end - first_send : 0, run_span,
           run_span > 0 ? (double)ne / run_span : 0, start_span,
           start_span > 0 ? (double)ns / start_span : 0, pct_d(lat_start, ns, 0.50) * 1e3,
           pct_d(lat_start, ns, 0.90) * 1e3, pct_d(lat_start, ns, 0.99) * 1e3,
           ns ? lat_start[ns - 1] * 1e3 : 0, pct_d(lat_end, ne, 0.50) * 1e3,
           pct_d(lat_end, ne, 0.90) * 1e3, pct_d(lat_end, ne, 0.99) * 1e3,
           ne ? lat_end[ne - 1] * 1e3 : 0, w.polls, w.poll_errors, poll_s);
    if (not_finished) {
        /* what the unfinished jobs were doing at the last poll, and a few of them */
        printf("wrap label=%s what=stuck", b->label);
        for (int k = 0; k <= FLURM_JOB_END; k++)
            if (counts[k])
                printf(" %s=%u", state_names[k], counts[k]);
        printf(" examples=\"");
        unsigned shown = 0;
        for (unsigned i = 0; i < n && shown < 8; i++) {
            const wrap_seen_t *s = w.jobs[i].id ? seen_slot(&w, w.jobs[i].id) : NULL;
            if (s && s->t_end == 0) {
                printf("%s%u:state=0x%x,reason=%u", shown ? " " : "", w.jobs[i].id,
                       s->id ? s->state : FLURM_NO_VAL, s->id ? s->reason : 0);
                shown++;
            }
        }
        printf("\"\n");
    }
    fflush(stdout);
    free(lat_start);
    free(lat_end);
    free(w.jobs);
    free(w.seen);
    return errors || not_finished ? 1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flurm-bench -f slurm.conf [-t seconds] [-c 1,4,16] [--rpc ping,jobinfo,submit]\n"
            "                   [--label NAME] [--submit-fixture request.bin]\n"
            "       flurm-bench -f slurm.conf --munge-only [-t seconds] [-c 1,4,16]\n"
            "       flurm-bench -f slurm.conf --deep 1000,10000 [--samples 50] [--pid PID]\n"
            "                   [--fill-max SECONDS]\n"
            "       flurm-bench -f slurm.conf --smoke\n"
            "       flurm-bench -f slurm.conf --submit-wrap N --out-dir DIR [-c 8] [--poll SECONDS]\n"
            "                   [--wait-max SECONDS] [--raw FILE]\n");
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
        {"submit-wrap", required_argument, NULL, 'W'},
        {"out-dir", required_argument, NULL, 'o'},
        {"poll", required_argument, NULL, 'P'},
        {"wait-max", required_argument, NULL, 'M'},
        {"raw", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *conf = NULL, *rpcs = "ping,jobinfo,submit", *conc_s = "1,4,16", *deep_s = NULL;
    const char *fixture = DEFAULT_SUBMIT_FIXTURE;
    double secs = 5, fill_max_s = 120;
    unsigned samples = 50;
    long pid = 0;
    bool munge_only = false, smoke = false, conc_given = false;
    unsigned wrap_n = 0;
    const char *out_dir = NULL, *raw_path = NULL;
    double poll_s = 0.2, wait_max_s = 600;
    bench_t b = {.label = "controller"};
    int o;
    while ((o = getopt_long(argc, argv, "f:t:c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'f': conf = optarg; break;
        case 't': secs = atof(optarg); break;
        case 'c': conc_s = optarg; conc_given = true; break;
        case 'r': rpcs = optarg; break;
        case 'l': b.label = optarg; break;
        case 'm': munge_only = true; break;
        case 'd': deep_s = optarg; break;
        case 's': samples = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'p': pid = strtol(optarg, NULL, 10); break;
        case 'F': fill_max_s = atof(optarg); break;
        case 'S': smoke = true; break;
        case 'x': fixture = optarg; break;
        case 'W': wrap_n = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'o': out_dir = optarg; break;
        case 'P': poll_s = atof(optarg); break;
        case 'M': wait_max_s = atof(optarg); break;
        case 'R': raw_path = optarg; break;
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
    if (wrap_n) {
        if (!out_dir || poll_s <= 0 || wait_max_s <= 0) {
            usage(stderr);
            return 2;
        }
        if (!conc_given)
            conc[0] = 8;
    }
    bool need_submit = !munge_only && !wrap_n && (smoke || deep_s || want[RPC_SUBMIT]);
    if (build_specs(&b, fixture, need_submit) != 0 ||
        (wrap_n && build_wrap_body(&b.spec[RPC_SUBMIT].body, fixture, out_dir) != 0))
        return 2;
    printf("# flurm-bench label=%s target=%s:%u munge_socket=%s slurm_uid=%u\n", b.label, b.host,
           b.port, b.munge_socket[0] ? b.munge_socket : "(default)", (unsigned)b.slurm_uid);
    fflush(stdout);

    int status = 0;
    cell_stats_t st;
    if (wrap_n) {
        status = run_submit_wrap(&b, wrap_n, conc[0], out_dir, poll_s, wait_max_s, raw_path);
    } else if (smoke) {
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
