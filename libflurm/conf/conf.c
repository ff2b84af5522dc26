/* libflurm/conf/conf.c — see include/flurm/conf.h. */
#include <flurm/conf.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <flurm/hostlist.h>
#include <flurm/log.h>

#include "conf_internal.h"

#define MAX_INCLUDE_DEPTH 16

/* ---- node name hash (open addressing, indices + 1, 0 = empty) ---- */

struct flurm_conf_index {
    uint32_t *slot;
    size_t cap;   /* power of two */
};

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static ssize_t index_lookup(const flurm_conf_t *c, const char *name)
{
    const struct flurm_conf_index *ix = c->index_;
    if (!ix || !ix->cap)
        return -1;
    for (size_t i = hash_name(name) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        uint32_t v = ix->slot[i];
        if (!v)
            return -1;
        if (strcmp(c->nodes[v - 1].name, name) == 0)
            return (ssize_t)(v - 1);
    }
}

static void index_put(flurm_conf_t *c, struct flurm_conf_index *ix, uint32_t idx)
{
    size_t i = hash_name(c->nodes[idx].name) & (ix->cap - 1);
    while (ix->slot[i])
        i = (i + 1) & (ix->cap - 1);
    ix->slot[i] = idx + 1;
}

/* Makes room for N nodes at load <= 1/2. */
static int index_reserve(flurm_conf_t *c, size_t n)
{
    struct flurm_conf_index *ix = c->index_;
    if (ix->cap >= 2 * n)
        return FLURM_OK;
    size_t cap = ix->cap ? ix->cap : 64;
    while (cap < 2 * n)
        cap *= 2;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return FLURM_ENOMEM;
    free(ix->slot);
    ix->slot = slot;
    ix->cap = cap;
    for (size_t k = 0; k < c->node_count; k++)
        index_put(c, ix, (uint32_t)k);
    return FLURM_OK;
}

/* ---- parser state ---- */

/* NodeName= fields; -1 / NULL = not given (the DEFAULT template and each line). */
typedef struct node_spec {
    long long cpus, boards, sockets, sockets_per_board, cores, threads;
    long long real_memory, tmp_disk, weight, port, state;
    char *gres, *features;
} node_spec_t;

typedef struct parser {
    flurm_conf_t *c;
    int rc;
    char *err;
    const char *stack[MAX_INCLUDE_DEPTH + 1];   /* realpaths of files being read */
    size_t depth;
    node_spec_t node_dflt;
    flurm_conf_partition_t part_dflt;
    char **warned;   /* lower-case unknown keys already reported */
    size_t nwarned;
    /* Legacy ControlMachine/ControlAddr/BackupController/BackupAddr. */
    char *legacy[4];
    const char *legacy_file;
    unsigned legacy_line;
    size_t node_cap, part_cap, kv_cap;
} parser_t;

static int fail(parser_t *p, int rc, const char *file, unsigned line, const char *fmt, ...)
    FLURM_PRINTF(5, 6);

static int fail(parser_t *p, int rc, const char *file, unsigned line, const char *fmt, ...)
{
    if (p->rc != FLURM_OK)
        return p->rc;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = !*file ? asprintf(&p->err, "%s", msg)
            : line ? asprintf(&p->err, "%s:%u: %s", file, line, msg)
                   : asprintf(&p->err, "%s: %s", file, msg);
    if (n < 0)
        p->err = NULL;
    p->rc = rc;
    return rc;
}

#define OOM(p) fail((p), FLURM_ENOMEM, "", 0, "out of memory")

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return FLURM_OK;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *a = realloc(*arr, n * elem);
    if (!a)
        return FLURM_ENOMEM;
    memset((char *)a + *cap * elem, 0, (n - *cap) * elem);
    *arr = a;
    *cap = n;
    return FLURM_OK;
}

static int set_str(parser_t *p, char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return OOM(p);
    free(*dst);
    *dst = s;
    return FLURM_OK;
}

/* Decimal without sign, at most MAX. */
static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    if (!*v)
        return FLURM_EINVAL;
    unsigned long long x = 0;
    for (const char *s = v; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return FLURM_EINVAL;
        if (x > (ULLONG_MAX - 9) / 10)
            return FLURM_EINVAL;
        x = x * 10 + (unsigned)(*s - '0');
    }
    if (x > max)
        return FLURM_EINVAL;
    *out = x;
    return FLURM_OK;
}

static int num(parser_t *p, const char *file, unsigned line, const char *key, const char *v,
               unsigned long long max, unsigned long long *out)
{
    if (parse_uint(v, max, out) != FLURM_OK)
        return fail(p, FLURM_EINVAL, file, line, "invalid number '%s' for %s (0..%llu)", v, key, max);
    return FLURM_OK;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "YES") || !strcasecmp(v, "TRUE") || !strcasecmp(v, "UP") || !strcmp(v, "1"))
        *out = true;
    else if (!strcasecmp(v, "NO") || !strcasecmp(v, "FALSE") || !strcasecmp(v, "DOWN") || !strcmp(v, "0"))
        *out = false;
    else
        return FLURM_EINVAL;
    return FLURM_OK;
}

/* ---- time strings (SLURM src/common/parse_time.c time_str2secs/time_str2mins) ---- */

int flurm_time_str2mins(const char *s, uint32_t *mins)
{
    if (!s || !*s)
        return FLURM_EINVAL;
    if (!strcmp(s, "-1") || !strcasecmp(s, "INFINITE") || !strcasecmp(s, "UNLIMITED")) {
        *mins = FLURM_INFINITE;
        return FLURM_OK;
    }
    /* Fields are digit runs separated by at most one '-' (first) and two ':'. */
    unsigned long long f[4] = { 0 };
    int nf = 0, dash = 0, colon = 0;
    const char *q = s;
    for (;;) {
        if (!isdigit((unsigned char)*q))
            return FLURM_EINVAL;
        unsigned long long x = 0;
        int nd = 0;
        while (isdigit((unsigned char)*q)) {
            if (++nd > 9)
                return FLURM_EINVAL;
            x = x * 10 + (unsigned)(*q++ - '0');
        }
        f[nf++] = x;
        if (!*q)
            break;
        if (*q == '-' && nf == 1 && !dash)
            dash = 1;
        else if (*q == ':' && colon < 2 && (nf > 1 || !dash) && nf < 4)
            colon++;
        else
            return FLURM_EINVAL;
        q++;
    }
    if (dash && nf == 1)
        return FLURM_EINVAL;   /* "5-" */
    unsigned long long secs;
    if (dash) {   /* D-H, D-H:M, D-H:M:S */
        secs = f[0] * 86400 + f[1] * 3600 + (nf > 2 ? f[2] * 60 : 0) + (nf > 3 ? f[3] : 0);
    } else if (nf == 3) {   /* H:M:S */
        secs = f[0] * 3600 + f[1] * 60 + f[2];
    } else {   /* M or M:S */
        secs = f[0] * 60 + (nf > 1 ? f[1] : 0);
    }
    unsigned long long m = (secs + 59) / 60;
    if (m >= FLURM_NO_VAL)
        return FLURM_EINVAL;
    *mins = (uint32_t)m;
    return FLURM_OK;
}

/* ---- global keys ---- */

typedef enum key_type { K_STR, K_U16, K_U32, K_U64, K_SPECIAL } key_type_t;

typedef struct key_def {
    const char *name;
    key_type_t type;
    size_t off;
} key_def_t;

#define F(field) offsetof(flurm_conf_t, field)
static const key_def_t global_defs[] = {
    { "AuthInfo", K_SPECIAL, 0 },
    { "AuthType", K_STR, F(auth_type) },
    { "BackupAddr", K_SPECIAL, 0 },
    { "BackupController", K_SPECIAL, 0 },
    { "ClusterName", K_STR, F(cluster_name) },
    { "ControlAddr", K_SPECIAL, 0 },
    { "ControlMachine", K_SPECIAL, 0 },
    { "DefMemPerCPU", K_SPECIAL, 0 },
    { "DefMemPerNode", K_SPECIAL, 0 },
    { "FirstJobId", K_U32, F(first_job_id) },
    { "GresTypes", K_STR, F(gres_types) },
    { "KillWait", K_U16, F(kill_wait) },
    { "MaxJobCount", K_U32, F(max_job_count) },
    { "MessageTimeout", K_U16, F(message_timeout) },
    { "MinJobAge", K_U32, F(min_job_age) },
    { "PluginDir", K_STR, F(plugin_dir) },
    { "PreemptMode", K_SPECIAL, 0 },
    { "PriorityType", K_STR, F(priority_type) },
    { "PrivateData", K_SPECIAL, 0 },
    { "ReturnToService", K_U16, F(return_to_service) },
    { "SchedulerParameters", K_STR, F(scheduler_parameters) },
    { "SchedulerType", K_STR, F(scheduler_type) },
    { "SelectType", K_STR, F(select_type) },
    { "SelectTypeParameters", K_STR, F(select_type_parameters) },
    { "SlurmctldDebug", K_STR, F(slurmctld_debug) },
    { "SlurmctldHost", K_SPECIAL, 0 },
    { "SlurmctldLogFile", K_STR, F(slurmctld_logfile) },
    { "SlurmctldPidFile", K_STR, F(slurmctld_pidfile) },
    { "SlurmctldPort", K_SPECIAL, 0 },
    { "SlurmctldTimeout", K_U16, F(slurmctld_timeout) },
    { "SlurmdPort", K_U16, F(slurmd_port) },
    { "SlurmdSpoolDir", K_STR, F(slurmd_spool_dir) },
    { "SlurmdTimeout", K_U16, F(slurmd_timeout) },
    { "SlurmdUser", K_SPECIAL, 0 },
    { "SlurmUser", K_SPECIAL, 0 },
    { "StateSaveLocation", K_STR, F(state_save_location) },
};
#undef F

static int add_controller(parser_t *p, const char *name, size_t nlen, const char *addr, size_t alen)
{
    flurm_conf_t *c = p->c;
    flurm_conf_controller_t *a = realloc(c->controllers, (c->controller_count + 1) * sizeof *a);
    if (!a)
        return OOM(p);
    c->controllers = a;
    char *n = strndup(name, nlen), *ad = addr ? strndup(addr, alen) : strndup(name, nlen);
    if (!n || !ad) {
        free(n);
        free(ad);
        return OOM(p);
    }
    a[c->controller_count++] = (flurm_conf_controller_t){ n, ad };
    return FLURM_OK;
}

static int set_user(parser_t *p, const char *file, unsigned line, const char *v, char **name, uid_t *uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(v, &pw, buf, sizeof buf, &res) != 0 || !res)
        return fail(p, FLURM_EINVAL, file, line, "unknown user '%s'", v);
    *uid = res->pw_uid;
    return set_str(p, name, v);
}

static int special_key(parser_t *p, const char *key, const char *v, const char *file, unsigned line)
{
    flurm_conf_t *c = p->c;
    unsigned long long x = 0;
    if (!strcasecmp(key, "PreemptMode")) {
        if (flurm_conf_preempt_mode_parse(v, &c->preempt_mode) != FLURM_OK)
            return fail(p, FLURM_EINVAL, file, line, "PreemptMode=%s invalid", v);
        return FLURM_OK;
    }
    if (!strcasecmp(key, "PrivateData")) {
        if (flurm_conf_private_data_parse(v, &c->private_data) != FLURM_OK)
            return fail(p, FLURM_EINVAL, file, line,
                        "invalid PrivateData '%s' (want a comma list of accounts, cloud, events, "
                        "jobs, nodes, partitions, reservations, usage, users; or all, none)", v);
        return FLURM_OK;
    }
    if (!strcasecmp(key, "SlurmctldHost")) {
        /* "name" or "name(addr)" (read_config.c _parse_slurmctld_host) */
        const char *lp = strchr(v, '(');
        size_t len = strlen(v);
        if (!*v || (lp && (lp == v || len < 3 || v[len - 1] != ')' || lp + 1 == v + len - 1)))
            return fail(p, FLURM_EINVAL, file, line, "invalid SlurmctldHost '%s' (want NAME or NAME(ADDR))", v);
        return lp ? add_controller(p, v, (size_t)(lp - v), lp + 1, (size_t)(v + len - 1 - lp - 1))
                  : add_controller(p, v, len, NULL, 0);
    }
    static const char *const legacy[] = { "ControlMachine", "ControlAddr", "BackupController", "BackupAddr" };
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(key, legacy[i])) {
            if (!p->legacy_file) {
                p->legacy_file = file;
                p->legacy_line = line;
            }
            return set_str(p, &p->legacy[i], v);
        }
    }
    if (!strcasecmp(key, "SlurmctldPort")) {
        const char *dash = strchr(v, '-');
        unsigned long long lo, hi;
        char first[16];
        size_t fl = dash ? (size_t)(dash - v) : strlen(v);
        if (fl >= sizeof first)
            return fail(p, FLURM_EINVAL, file, line, "invalid SlurmctldPort '%s'", v);
        memcpy(first, v, fl);
        first[fl] = '\0';
        if (parse_uint(first, 65535, &lo) != FLURM_OK || lo == 0 ||
            (dash && (parse_uint(dash + 1, 65535, &hi) != FLURM_OK || hi < lo)))
            return fail(p, FLURM_EINVAL, file, line, "invalid SlurmctldPort '%s'", v);
        c->slurmctld_port = (uint16_t)lo;
        c->slurmctld_port_count = dash ? (uint16_t)(hi - lo + 1) : 1;
        return FLURM_OK;
    }
    if (!strcasecmp(key, "SlurmUser"))
        return set_user(p, file, line, v, &c->slurm_user, &c->slurm_user_id);
    if (!strcasecmp(key, "SlurmdUser"))
        return set_user(p, file, line, v, &c->slurmd_user, &c->slurmd_user_id);
    if (!strcasecmp(key, "DefMemPerCPU") || !strcasecmp(key, "DefMemPerNode")) {
        if (num(p, file, line, key, v, UINT64_MAX >> 1, &x) != FLURM_OK)
            return p->rc;
        bool cpu = !strcasecmp(key, "DefMemPerCPU");
        c->def_mem_per_cpu = cpu ? x : 0;
        c->def_mem_per_node = cpu ? 0 : x;
        return FLURM_OK;
    }
    if (!strcasecmp(key, "AuthInfo")) {
        char *sock = NULL;
        uint32_t ttl = 0;
        const char *s = v;
        while (*s) {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n > 7 && !strncasecmp(s, "socket=", 7)) {
                free(sock);
                if (!(sock = strndup(s + 7, n - 7)))
                    return OOM(p);
            } else if (n > 4 && !strncasecmp(s, "ttl=", 4)) {
                char t[16];
                if (n - 4 >= sizeof t || (memcpy(t, s + 4, n - 4), t[n - 4] = '\0',
                                          parse_uint(t, UINT32_MAX, &x) != FLURM_OK)) {
                    free(sock);
                    return fail(p, FLURM_EINVAL, file, line, "invalid ttl in AuthInfo '%s'", v);
                }
                ttl = (uint32_t)x;
            }
            s += n;
            if (*s == ',')
                s++;
        }
        if (set_str(p, &c->auth_info, v) != FLURM_OK) {
            free(sock);
            return p->rc;
        }
        free(c->auth_socket);
        c->auth_socket = sock;
        c->auth_ttl = ttl;
        return FLURM_OK;
    }
    return FLURM_OK;
}

static int cmp_def(const void *k, const void *e) { return strcasecmp(k, ((const key_def_t *)e)->name); }

static void warn_unknown(parser_t *p, const char *key, const char *file, unsigned line)
{
    for (size_t i = 0; i < p->nwarned; i++)
        if (!strcasecmp(p->warned[i], key))
            return;
    char **w = realloc(p->warned, (p->nwarned + 1) * sizeof *w);
    if (w) {
        p->warned = w;
        if ((w[p->nwarned] = strdup(key)))
            p->nwarned++;
    }
    flurm_warn("%s:%u: unknown configuration key '%s'", file, line, key);
}

static int global_key(parser_t *p, const char *key, const char *v, const char *file, unsigned line)
{
    const key_def_t *d = bsearch(key, global_defs, sizeof global_defs / sizeof global_defs[0],
                                 sizeof global_defs[0], cmp_def);
    if (!d) {
        if (!conf_key_known(CONF_REC_GLOBAL, key))
            warn_unknown(p, key, file, line);
        return FLURM_OK;
    }
    char *base = (char *)p->c + d->off;
    unsigned long long x = 0;
    switch (d->type) {
    case K_STR:
        return set_str(p, (char **)base, v);
    case K_U16:
        if (num(p, file, line, key, v, UINT16_MAX, &x) == FLURM_OK)
            *(uint16_t *)base = (uint16_t)x;
        return p->rc;
    case K_U32:
        if (num(p, file, line, key, v, UINT32_MAX, &x) == FLURM_OK)
            *(uint32_t *)base = (uint32_t)x;
        return p->rc;
    case K_U64:
        if (num(p, file, line, key, v, UINT64_MAX, &x) == FLURM_OK)
            *(uint64_t *)base = x;
        return p->rc;
    case K_SPECIAL:
    default:
        return special_key(p, key, v, file, line);
    }
}

/* ---- NodeName= ---- */

typedef struct pair {
    char *key, *value;
} pair_t;

static int node_state(const char *v, long long *out)
{
    static const struct { const char *name; size_t prefix; flurm_conf_node_state_t st; } tab[] = {
        { "UNKNOWN", 0, FLURM_CONF_NODE_UNKNOWN }, { "IDLE", 0, FLURM_CONF_NODE_IDLE },
        { "DOWN", 0, FLURM_CONF_NODE_DOWN },       { "FUTURE", 0, FLURM_CONF_NODE_FUTURE },
        { "DRAIN", 5, FLURM_CONF_NODE_DRAIN },     { "FAIL", 4, FLURM_CONF_NODE_FAIL },
        { "CLOUD", 5, FLURM_CONF_NODE_CLOUD },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (tab[i].prefix ? !strncasecmp(v, tab[i].name, tab[i].prefix) : !strcasecmp(v, tab[i].name)) {
            *out = tab[i].st;
            return FLURM_OK;
        }
    }
    return FLURM_EINVAL;
}

/* Applies pairs[1..n) to SPEC; NodeAddr/NodeHostname are returned, not stored. */
static int node_fields(parser_t *p, node_spec_t *spec, const pair_t *pairs, size_t n, const char **addr,
                       const char **hostname, const char *file, unsigned line)
{
    static const struct { const char *key; size_t off; unsigned long long max; } nums[] = {
        { "CPUs", offsetof(node_spec_t, cpus), UINT16_MAX },
        { "Procs", offsetof(node_spec_t, cpus), UINT16_MAX },
        { "Boards", offsetof(node_spec_t, boards), UINT16_MAX },
        { "SocketsPerBoard", offsetof(node_spec_t, sockets_per_board), UINT16_MAX },
        { "Sockets", offsetof(node_spec_t, sockets), UINT16_MAX },
        { "CoresPerSocket", offsetof(node_spec_t, cores), UINT16_MAX },
        { "ThreadsPerCore", offsetof(node_spec_t, threads), UINT16_MAX },
        { "RealMemory", offsetof(node_spec_t, real_memory), INT64_MAX },
        { "TmpDisk", offsetof(node_spec_t, tmp_disk), UINT32_MAX },
        { "Weight", offsetof(node_spec_t, weight), UINT32_MAX },
        { "Port", offsetof(node_spec_t, port), UINT16_MAX },
    };
    for (size_t i = 1; i < n; i++) {
        const char *k = pairs[i].key, *v = pairs[i].value;
        size_t j;
        for (j = 0; j < sizeof nums / sizeof nums[0]; j++) {
            if (!strcasecmp(k, nums[j].key)) {
                unsigned long long x = 0;
                if (num(p, file, line, k, v, nums[j].max, &x) != FLURM_OK)
                    return p->rc;
                *(long long *)((char *)spec + nums[j].off) = (long long)x;
                break;
            }
        }
        if (j < sizeof nums / sizeof nums[0])
            continue;
        if (!strcasecmp(k, "State")) {
            if (node_state(v, &spec->state) != FLURM_OK)
                return fail(p, FLURM_EINVAL, file, line, "invalid node State '%s'", v);
        } else if (!strcasecmp(k, "Gres")) {
            if (set_str(p, &spec->gres, v) != FLURM_OK)
                return p->rc;
        } else if (!strcasecmp(k, "Feature") || !strcasecmp(k, "Features")) {
            if (set_str(p, &spec->features, v) != FLURM_OK)
                return p->rc;
        } else if (!strcasecmp(k, "NodeAddr")) {
            *addr = v;
        } else if (!strcasecmp(k, "NodeHostname")) {
            *hostname = v;
        } else if (!conf_key_known(CONF_REC_NODE, k)) {
            warn_unknown(p, k, file, line);
        }
    }
    return FLURM_OK;
}

#define PICK(field, dflt) (line_spec.field >= 0 ? line_spec.field : p->node_dflt.field >= 0 ? p->node_dflt.field : (dflt))

static void spec_release(node_spec_t *s)
{
    free(s->gres);
    free(s->features);
}

static void spec_init(node_spec_t *s)
{
    *s = (node_spec_t){ -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, NULL, NULL };
}

static void node_release(flurm_conf_node_t *n)
{
    free(n->name);
    free(n->addr);
    free(n->hostname);
    free(n->gres);
    free(n->features);
}

static int node_line(parser_t *p, const pair_t *pairs, size_t n, const char *file, unsigned line)
{
    flurm_conf_t *c = p->c;
    const char *addr_expr = NULL, *host_expr = NULL;
    if (!strcasecmp(pairs[0].value, "DEFAULT")) {
        if (node_fields(p, &p->node_dflt, pairs, n, &addr_expr, &host_expr, file, line) != FLURM_OK)
            return p->rc;
        if (addr_expr || host_expr)
            return fail(p, FLURM_EINVAL, file, line, "NodeAddr/NodeHostname not allowed with NodeName=DEFAULT");
        return FLURM_OK;
    }
    node_spec_t line_spec;
    spec_init(&line_spec);
    flurm_hostlist_t *names = NULL, *addrs = NULL, *hosts = NULL;
    flurm_err_t e = FLURM_OK;
    if (node_fields(p, &line_spec, pairs, n, &addr_expr, &host_expr, file, line) != FLURM_OK)
        goto out;
    if (!(names = flurm_hostlist_parse(pairs[0].value, &e)) || flurm_hostlist_count(names) == 0) {
        fail(p, e == FLURM_ENOMEM ? FLURM_ENOMEM : FLURM_EINVAL, file, line, "invalid NodeName '%s'", pairs[0].value);
        goto out;
    }
    size_t cnt = flurm_hostlist_count(names);
    /* As read_config.c: one address (or host name) may serve every node of the line; otherwise
     * there must be exactly one per node. */
    if (addr_expr && (!(addrs = flurm_hostlist_parse(addr_expr, &e)) ||
                      (flurm_hostlist_count(addrs) != cnt && flurm_hostlist_count(addrs) != 1))) {
        fail(p, FLURM_EINVAL, file, line, "NodeAddr '%s' does not give one address per node of '%s'", addr_expr,
             pairs[0].value);
        goto out;
    }
    if (host_expr && (!(hosts = flurm_hostlist_parse(host_expr, &e)) ||
                      (flurm_hostlist_count(hosts) != cnt && flurm_hostlist_count(hosts) != 1))) {
        fail(p, FLURM_EINVAL, file, line, "NodeHostname '%s' does not give one name per node of '%s'", host_expr,
             pairs[0].value);
        goto out;
    }

    /* Topology, as read_config.c _parse_nodename resolves it. */
    long long cpus = PICK(cpus, -1), boards = PICK(boards, 1), sockets = PICK(sockets, -1);
    long long spb = PICK(sockets_per_board, -1), cores = PICK(cores, 1), threads = PICK(threads, 1);
    if (cpus == 0)
        cpus = 1;
    if (boards == 0)
        boards = 1;
    if (cores == 0)
        cores = 1;
    if (threads == 0)
        threads = 1;
    if (spb == 0)
        spb = 1;
    if (sockets == 0)
        sockets = 1;
    if (spb > 0)
        sockets = boards * spb;
    else if (sockets < 0) {
        if (cpus > 0 && cpus / (cores * threads) && !(cpus % (cores * threads)))
            sockets = cpus / (cores * threads);
        else
            sockets = boards;
    }
    if (cpus < 0)
        cpus = sockets * cores * threads;
    if (sockets < boards)
        boards = 1;
    if (cpus != sockets && cpus != sockets * cores && cpus != sockets * cores * threads)
        cpus = sockets * cores * threads;
    if (cpus > UINT16_MAX || sockets > UINT16_MAX) {
        fail(p, FLURM_EINVAL, file, line, "node '%s' has too many CPUs", pairs[0].value);
        goto out;
    }
    long long weight = PICK(weight, 1);
    if (weight == (long long)FLURM_INFINITE)
        weight--;

    if (grow((void **)&c->nodes, &p->node_cap, c->node_count + cnt, sizeof *c->nodes) != FLURM_OK ||
        index_reserve(c, c->node_count + cnt) != FLURM_OK) {
        OOM(p);
        goto out;
    }
    size_t first = c->node_count;
    for (size_t i = 0; i < cnt; i++) {
        const char *name = flurm_hostlist_get(names, i);
        ssize_t dup = name ? index_lookup(c, name) : -1;
        if (dup >= 0) {
            fail(p, FLURM_EINVAL, file, line, "duplicate node '%s' (first defined at %s:%u)", name,
                 c->nodes[dup].file, c->nodes[dup].line);
            goto undo;
        }
        flurm_conf_node_t *nd = &c->nodes[c->node_count];
        *nd = (flurm_conf_node_t){
            .name = name ? strdup(name) : NULL,
            .port = (uint16_t)PICK(port, 0),   /* 0: SlurmdPort, filled in by finish() */
            .cpus = (uint16_t)cpus, .boards = (uint16_t)boards, .sockets = (uint16_t)sockets,
            .cores_per_socket = (uint16_t)cores, .threads_per_core = (uint16_t)threads,
            .real_memory = (uint64_t)PICK(real_memory, 1), .tmp_disk = (uint32_t)PICK(tmp_disk, 0),
            .weight = (uint32_t)weight, .state = (flurm_conf_node_state_t)PICK(state, FLURM_CONF_NODE_UNKNOWN),
            .line = line, .file = file,
        };
        const char *g = line_spec.gres ? line_spec.gres : p->node_dflt.gres;
        const char *f = line_spec.features ? line_spec.features : p->node_dflt.features;
        const char *a = addrs ? flurm_hostlist_get(addrs, flurm_hostlist_count(addrs) == 1 ? 0 : i) : nd->name;
        nd->addr = a ? strdup(a) : NULL;
        const char *h = hosts ? flurm_hostlist_get(hosts, flurm_hostlist_count(hosts) == 1 ? 0 : i) : nd->name;
        nd->hostname = h ? strdup(h) : NULL;
        nd->gres = g ? strdup(g) : NULL;
        nd->features = f ? strdup(f) : NULL;
        if (!nd->name || !nd->addr || !nd->hostname || (g && !nd->gres) || (f && !nd->features)) {
            node_release(nd);
            OOM(p);
            goto undo;
        }
        index_put(c, c->index_, (uint32_t)c->node_count);
        c->node_count++;
    }
    goto out;
undo:
    /* Drop this line's nodes so the index never points past node_count. */
    while (c->node_count > first)
        node_release(&c->nodes[--c->node_count]);
    memset(c->index_->slot, 0, c->index_->cap * sizeof *c->index_->slot);
    for (size_t k = 0; k < c->node_count; k++)
        index_put(c, c->index_, (uint32_t)k);
out:
    spec_release(&line_spec);
    flurm_hostlist_free(names);
    flurm_hostlist_free(addrs);
    flurm_hostlist_free(hosts);
    return p->rc;
}

/* ---- PartitionName= ---- */

static void part_release(flurm_conf_partition_t *pt)
{
    free(pt->name);
    free(pt->nodes);
    free(pt->node_idx);
    free(pt->allow_groups);
    free(pt->allow_uids);
}

static int part_fields(parser_t *p, flurm_conf_partition_t *pt, const pair_t *pairs, size_t n, const char *file,
                       unsigned line)
{
    for (size_t i = 1; i < n; i++) {
        const char *k = pairs[i].key, *v = pairs[i].value;
        unsigned long long x = 0;
        bool b;
        if (!strcasecmp(k, "Nodes")) {
            if (set_str(p, &pt->nodes, v) != FLURM_OK)
                return p->rc;
        } else if (!strcasecmp(k, "Default") || !strcasecmp(k, "Hidden")) {
            if (parse_bool(v, &b) != FLURM_OK)
                return fail(p, FLURM_EINVAL, file, line, "invalid %s '%s' (want YES or NO)", k, v);
            *(tolower((unsigned char)k[0]) == 'd' ? &pt->is_default : &pt->hidden) = b;
        } else if (!strcasecmp(k, "MaxTime") || !strcasecmp(k, "DefaultTime")) {
            uint32_t m;
            if (flurm_time_str2mins(v, &m) != FLURM_OK)
                return fail(p, FLURM_EINVAL, file, line, "invalid time '%s' for %s", v, k);
            *(tolower((unsigned char)k[0]) == 'm' ? &pt->max_time : &pt->default_time) = m;
        } else if (!strcasecmp(k, "State")) {
            static const char *const st[] = { "UP", "DOWN", "DRAIN", "INACTIVE" };
            size_t j;
            for (j = 0; j < 4 && strcasecmp(v, st[j]); j++)
                ;
            if (j == 4)
                return fail(p, FLURM_EINVAL, file, line, "invalid partition State '%s'", v);
            pt->state = (flurm_conf_part_state_t)j;
        } else if (!strcasecmp(k, "PriorityJobFactor")) {
            if (num(p, file, line, k, v, UINT16_MAX, &x) != FLURM_OK)
                return p->rc;
            pt->priority_job_factor = (uint16_t)x;
        } else if (!strcasecmp(k, "PreemptMode")) {
            uint16_t m;
            if (flurm_conf_preempt_mode_parse(v, &m) != FLURM_OK)
                return fail(p, FLURM_EINVAL, file, line, "invalid PreemptMode '%s'", v);
            pt->preempt_mode = m;
        } else if (!strcasecmp(k, "PriorityTier")) {
            if (num(p, file, line, k, v, UINT16_MAX, &x) != FLURM_OK)
                return p->rc;
            pt->priority_tier = (uint16_t)x;
        } else if (!strcasecmp(k, "MaxNodes")) {
            if (!strcasecmp(v, "UNLIMITED") || !strcasecmp(v, "INFINITE"))
                pt->max_nodes = FLURM_INFINITE;
            else if (num(p, file, line, k, v, UINT32_MAX, &x) != FLURM_OK)
                return p->rc;
            else
                pt->max_nodes = (uint32_t)x;
        } else if (!strcasecmp(k, "AllowGroups")) {
            if (!strcasecmp(v, "ALL")) {
                free(pt->allow_groups);
                pt->allow_groups = NULL;
            } else if (set_str(p, &pt->allow_groups, v) != FLURM_OK)
                return p->rc;
        } else if (!strcasecmp(k, "OverSubscribe") || !strcasecmp(k, "Shared")) {
            /* read_config.c _parse_partitionname: max_share values */
            long sh = -1;
            if (!strcasecmp(v, "NO"))
                sh = 1;
            else if (!strcasecmp(v, "EXCLUSIVE"))
                sh = 0;
            else if (!strcasecmp(v, "YES"))
                sh = 4;
            else if (!strcasecmp(v, "FORCE"))
                sh = 4 | FLURM_CONF_SHARED_FORCE;
            else if (!strncasecmp(v, "YES:", 4) && parse_uint(v + 4, 0x7fff, &x) == FLURM_OK && x > 1)
                sh = (long)x;
            else if (!strncasecmp(v, "FORCE:", 6) && parse_uint(v + 6, 0x7fff, &x) == FLURM_OK && x >= 1)
                sh = (long)x | FLURM_CONF_SHARED_FORCE;
            if (sh < 0)
                return fail(p, FLURM_EINVAL, file, line, "invalid %s '%s'", k, v);
            pt->max_share = (uint16_t)sh;
        } else if (!conf_key_known(CONF_REC_PARTITION, k)) {
            warn_unknown(p, k, file, line);
        }
    }
    return FLURM_OK;
}

int flurm_conf_preempt_mode_parse(const char *s, uint16_t *out)
{
    static const struct { const char *name; uint16_t bit; } words[] = {
        { "off", FLURM_PREEMPT_MODE_OFF }, { "suspend", FLURM_PREEMPT_MODE_SUSPEND },
        { "requeue", FLURM_PREEMPT_MODE_REQUEUE }, { "cancel", FLURM_PREEMPT_MODE_CANCEL },
        { "gang", FLURM_PREEMPT_MODE_GANG }, { "within", FLURM_PREEMPT_MODE_WITHIN },
    };
    uint16_t m = 0;
    int base = 0;
    if (!s || !*s)
        return FLURM_EINVAL;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ",");
        size_t w = 0;
        while (w < sizeof words / sizeof *words &&
               (strlen(words[w].name) != len || strncasecmp(p, words[w].name, len)))
            w++;
        if (w == sizeof words / sizeof *words)
            return FLURM_EINVAL;
        m |= words[w].bit;
        base += w >= 1 && w <= 3;
        p += len + (p[len] == ',');
    }
    if (base > 1)
        return FLURM_EINVAL;
    *out = m;
    return FLURM_OK;
}

int flurm_conf_private_data_parse(const char *s, uint16_t *out)
{
    static const struct { const char *name; uint16_t bits; } words[] = {
        { "accounts", FLURM_PRIVATE_DATA_ACCOUNTS }, { "cloud", FLURM_PRIVATE_CLOUD_NODES },
        { "events", FLURM_PRIVATE_DATA_EVENTS }, { "jobs", FLURM_PRIVATE_DATA_JOBS },
        { "nodes", FLURM_PRIVATE_DATA_NODES }, { "partitions", FLURM_PRIVATE_DATA_PARTITIONS },
        { "reservations", FLURM_PRIVATE_DATA_RESERVATIONS }, { "usage", FLURM_PRIVATE_DATA_USAGE },
        { "users", FLURM_PRIVATE_DATA_USERS }, { "all", FLURM_PRIVATE_DATA_ALL }, { "none", 0 },
    };
    uint16_t bits = 0;
    if (!s || !*s)
        return FLURM_EINVAL;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        size_t w = 0;
        for (; w < sizeof words / sizeof *words; w++) {
            size_t wl = strlen(words[w].name);
            /* the plural or, but for cloud/usage/all/none, the singular ("job", "node") */
            if (len && !strncasecmp(p, words[w].name, len) &&
                (len == wl || (len == wl - 1 && words[w].name[wl - 1] == 's')))
                break;
        }
        if (w == sizeof words / sizeof *words)
            return FLURM_EINVAL;
        bits |= words[w].bits;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = bits;
    return FLURM_OK;
}

static int part_copy(flurm_conf_partition_t *dst, const flurm_conf_partition_t *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->node_idx = NULL;
    dst->nodes = src->nodes ? strdup(src->nodes) : NULL;
    dst->allow_groups = src->allow_groups ? strdup(src->allow_groups) : NULL;
    if ((src->nodes && !dst->nodes) || (src->allow_groups && !dst->allow_groups)) {
        part_release(dst);
        return FLURM_ENOMEM;
    }
    return FLURM_OK;
}

static int part_line(parser_t *p, const pair_t *pairs, size_t n, const char *file, unsigned line)
{
    flurm_conf_t *c = p->c;
    if (!strcasecmp(pairs[0].value, "DEFAULT"))
        return part_fields(p, &p->part_dflt, pairs, n, file, line);
    if (!*pairs[0].value)
        return fail(p, FLURM_EINVAL, file, line, "empty PartitionName");
    for (size_t i = 0; i < c->partition_count; i++)
        if (!strcmp(c->partitions[i].name, pairs[0].value))
            return fail(p, FLURM_EINVAL, file, line, "duplicate partition '%s'", pairs[0].value);
    flurm_conf_partition_t pt;
    if (part_copy(&pt, &p->part_dflt) != FLURM_OK)
        return OOM(p);
    pt.line = line;
    pt.file = file;
    if (!(pt.name = strdup(pairs[0].value))) {
        part_release(&pt);
        return OOM(p);
    }
    if (part_fields(p, &pt, pairs, n, file, line) != FLURM_OK ||
        grow((void **)&c->partitions, &p->part_cap, c->partition_count + 1, sizeof pt) != FLURM_OK) {
        part_release(&pt);
        return p->rc ? p->rc : OOM(p);
    }
    c->partitions[c->partition_count++] = pt;
    return FLURM_OK;
}

static int cmp_uid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool uid_push(uint32_t **v, size_t *n, size_t *cap, uint32_t uid)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        uint32_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = uid;
    return true;
}

/* AllowGroups= as the uids it admits, as slurmctld's groups.c get_groups_members() and
 * validate_group(): every member of each group, every user whose primary group it is, and
 * root and SlurmUser, who may use any partition. Reads the user and group databases (once per
 * load, as slurmctld caches them). */
static int resolve_allow_uids(flurm_conf_partition_t *pt, uid_t slurm_uid)
{
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;
    char *list = strdup(pt->allow_groups), *save = NULL;
    char buf[16384];
    bool ok = list && uid_push(&v, &n, &cap, 0) && uid_push(&v, &n, &cap, (uint32_t)slurm_uid);
    gid_t gids[64];
    size_t ngids = 0;
    for (char *g = ok ? strtok_r(list, ",", &save) : NULL; g && ok; g = strtok_r(NULL, ",", &save)) {
        struct group grp, *gr = NULL;
        if (getgrnam_r(g, &grp, buf, sizeof buf, &gr) || !gr)
            continue;
        if (ngids < sizeof gids / sizeof *gids)
            gids[ngids++] = gr->gr_gid;
        for (char **m = gr->gr_mem; ok && m && *m; m++) {
            struct passwd pwd, *pw = NULL;
            char pbuf[4096];
            if (!getpwnam_r(*m, &pwd, pbuf, sizeof pbuf, &pw) && pw)
                ok = uid_push(&v, &n, &cap, (uint32_t)pw->pw_uid);
        }
    }
    if (ok && ngids) {
        struct passwd pwd, *pw = NULL;
        setpwent();
        while (ok && !getpwent_r(&pwd, buf, sizeof buf, &pw) && pw)
            for (size_t k = 0; k < ngids; k++)
                if (pw->pw_gid == gids[k]) {
                    ok = uid_push(&v, &n, &cap, (uint32_t)pw->pw_uid);
                    break;
                }
        endpwent();
    }
    free(list);
    if (!ok) {
        free(v);
        return FLURM_ENOMEM;
    }
    qsort(v, n, sizeof *v, cmp_uid);
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
        if (!u || v[u - 1] != v[k])
            v[u++] = v[k];
    pt->allow_uids = v;
    pt->nallow_uids = u;
    return FLURM_OK;
}

bool flurm_conf_partition_admits(const flurm_conf_partition_t *pt, uint32_t uid)
{
    return !pt->allow_uids || bsearch(&uid, pt->allow_uids, pt->nallow_uids, sizeof uid, cmp_uid);
}

/* Nodes= to indices, once every NodeName line is known (SLURM allows either order); AllowGroups=
 * to uids once SlurmUser is known. */
static int resolve_partitions(parser_t *p)
{
    flurm_conf_t *c = p->c;
    for (size_t i = 0; i < c->partition_count; i++) {
        flurm_conf_partition_t *pt = &c->partitions[i];
        if (pt->allow_groups && !pt->allow_uids && resolve_allow_uids(pt, c->slurm_user_id) != FLURM_OK)
            return OOM(p);
        if (pt->is_default) {
            for (size_t j = 0; j < i; j++)
                if (c->partitions[j].is_default)
                    return fail(p, FLURM_EINVAL, pt->file, pt->line,
                                "partition '%s' has Default=YES but '%s' already has it", pt->name,
                                c->partitions[j].name);
        }
        if (!pt->nodes || !*pt->nodes)
            continue;
        if (!strcasecmp(pt->nodes, "ALL")) {
            if (c->node_count && !(pt->node_idx = malloc(c->node_count * sizeof *pt->node_idx)))
                return OOM(p);
            for (size_t k = 0; k < c->node_count; k++)
                pt->node_idx[k] = (uint32_t)k;
            pt->node_count = c->node_count;
            continue;
        }
        flurm_err_t e;
        flurm_hostlist_t *hl = flurm_hostlist_parse(pt->nodes, &e);
        if (!hl)
            return fail(p, e, pt->file, pt->line, "invalid Nodes '%s' for partition '%s'", pt->nodes, pt->name);
        size_t cnt = flurm_hostlist_count(hl);
        if (cnt && !(pt->node_idx = malloc(cnt * sizeof *pt->node_idx))) {
            flurm_hostlist_free(hl);
            return OOM(p);
        }
        for (size_t k = 0; k < cnt; k++) {
            const char *nm = flurm_hostlist_get(hl, k);
            ssize_t ix = nm ? index_lookup(c, nm) : -1;
            if (ix < 0) {
                fail(p, nm ? FLURM_EINVAL : FLURM_ENOMEM, pt->file, pt->line,
                     "partition '%s': unknown node '%s' in Nodes=", pt->name, nm ? nm : "");
                flurm_hostlist_free(hl);
                return p->rc;
            }
            pt->node_idx[k] = (uint32_t)ix;
        }
        pt->node_count = cnt;
        flurm_hostlist_free(hl);
    }
    return FLURM_OK;
}

/* ---- lines and files ---- */

static int process_text(parser_t *p, const char *text, const char *file, const char *dir);

static int add_file(parser_t *p, const char *path, const char **stored)
{
    flurm_conf_t *c = p->c;
    char **f = realloc(c->files, (c->file_count + 1) * sizeof *f);
    if (!f)
        return OOM(p);
    c->files = f;
    if (!(f[c->file_count] = strdup(path)))
        return OOM(p);
    *stored = f[c->file_count++];
    return FLURM_OK;
}

static int read_whole(const char *path, char **out, int *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = errno;
        return errno == ENOENT ? FLURM_ENOENT : FLURM_EIO;
    }
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        size_t n = fread(s + len, 1, cap - len - 1, f);
        len += n;
        if (len < cap - 1)
            break;
        cap *= 2;
        char *t = realloc(s, cap);
        if (!t) {
            free(s);
            s = NULL;
        } else
            s = t;
    }
    int failed = ferror(f);
    *err = failed ? errno : 0;
    fclose(f);
    if (!s)
        return FLURM_ENOMEM;
    if (failed) {
        free(s);
        return FLURM_EIO;
    }
    s[len] = '\0';
    if (memchr(s, '\0', len)) {
        free(s);
        *err = EINVAL;
        return FLURM_EIO;
    }
    *out = s;
    return FLURM_OK;
}

/* Reads and processes PATH (already resolved), included from FROM:LINE (FROM NULL at top). */
static int process_file(parser_t *p, const char *path, const char *from, unsigned line)
{
    char real[PATH_MAX];
    if (realpath(path, real)) {
        for (size_t i = 0; i < p->depth; i++)
            if (!strcmp(p->stack[i], real))
                return fail(p, FLURM_EINVAL, from, line, "Include loop: '%s' is already being read", path);
    }
    if (p->depth >= MAX_INCLUDE_DEPTH)
        return fail(p, FLURM_EINVAL, from, line, "Include nested deeper than %d", MAX_INCLUDE_DEPTH);
    char *text = NULL;
    int e = 0;
    int rc = read_whole(path, &text, &e);
    if (rc != FLURM_OK) {
        if (from)
            return fail(p, rc, from, line, "Include %s: %s", path, strerror(e));
        return fail(p, rc, path, 0, "%s", strerror(e));
    }
    const char *stored = NULL;
    if (add_file(p, path, &stored) != FLURM_OK) {
        free(text);
        return p->rc;
    }
    char *dir = strdup(path);
    if (!dir) {
        free(text);
        return OOM(p);
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
    else
        strcpy(dir, ".");
    char *realcopy = strdup(real);
    p->stack[p->depth++] = realcopy ? realcopy : "";
    process_text(p, text, stored, dir);
    p->depth--;
    free(realcopy);
    free(dir);
    free(text);
    return p->rc;
}

static int do_include(parser_t *p, const char *arg, const char *file, unsigned line, const char *dir)
{
    if (!*arg)
        return fail(p, FLURM_EINVAL, file, line, "Include needs a file name");
    char *path;
    if (arg[0] == '/' ? !(path = strdup(arg)) : asprintf(&path, "%s/%s", dir, arg) < 0)
        return OOM(p);
    if (!strpbrk(path, "*?[")) {
        process_file(p, path, file, line);
        free(path);
        return p->rc;
    }
    glob_t g;
    int grc = glob(path, 0, NULL, &g);
    if (grc != 0) {
        fail(p, grc == GLOB_NOMATCH ? FLURM_ENOENT : FLURM_EIO, file, line, "Include %s: no matching file", path);
        free(path);
        return p->rc;
    }
    for (size_t i = 0; i < g.gl_pathc && p->rc == FLURM_OK; i++)
        process_file(p, g.gl_pathv[i], file, line);
    globfree(&g);
    free(path);
    return p->rc;
}

static int add_kv(parser_t *p, const pair_t *pr, const char *file, unsigned line)
{
    flurm_conf_t *c = p->c;
    if (grow((void **)&c->kv, &p->kv_cap, c->kv_count + 1, sizeof *c->kv) != FLURM_OK)
        return OOM(p);
    flurm_conf_kv_t *kv = &c->kv[c->kv_count];
    kv->key = strdup(pr->key);
    kv->value = strdup(pr->value);
    kv->file = file;
    kv->line = line;
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return OOM(p);
    }
    c->kv_count++;
    return FLURM_OK;
}

/* One logical line, comments already removed. */
static int process_line(parser_t *p, char *s, const char *file, unsigned line, const char *dir)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return FLURM_OK;
    if (!strncasecmp(s, "Include", 7) && isspace((unsigned char)s[7])) {
        char *arg = s + 8;
        while (isspace((unsigned char)*arg))
            arg++;
        char *end = arg + strlen(arg);
        while (end > arg && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (end - arg >= 2 && arg[0] == '"' && end[-1] == '"') {
            end[-1] = '\0';
            arg++;
        }
        return do_include(p, arg, file, line, dir);
    }
    pair_t pairs[256];
    size_t n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        char *key = s;
        while (*s && *s != '=' && !isspace((unsigned char)*s))
            s++;
        if (*s != '=' || s == key) {
            char *e = key;
            while (*e && !isspace((unsigned char)*e))
                e++;
            *e = '\0';
            return fail(p, FLURM_EINVAL, file, line, "expected Key=Value, found '%s'", key);
        }
        *s++ = '\0';
        char *val = s;
        if (*s == '"') {
            val = ++s;
            while (*s && *s != '"')
                s++;
            if (!*s)
                return fail(p, FLURM_EINVAL, file, line, "unterminated quote in value of %s", key);
            *s++ = '\0';
            if (*s && !isspace((unsigned char)*s))
                return fail(p, FLURM_EINVAL, file, line, "text after closing quote in value of %s", key);
        } else {
            while (*s && !isspace((unsigned char)*s))
                s++;
        }
        if (*s)
            *s++ = '\0';
        if (n == sizeof pairs / sizeof pairs[0])
            return fail(p, FLURM_EINVAL, file, line, "too many Key=Value pairs on one line");
        pairs[n++] = (pair_t){ key, val };
    }
    for (size_t i = 0; i < n; i++)
        if (add_kv(p, &pairs[i], file, line) != FLURM_OK)
            return p->rc;
    const char *k0 = pairs[0].key;
    if (!strcasecmp(k0, "NodeName"))
        return node_line(p, pairs, n, file, line);
    if (!strcasecmp(k0, "PartitionName"))
        return part_line(p, pairs, n, file, line);
    if (!strcasecmp(k0, "DownNodes") || !strcasecmp(k0, "NodeSet") || !strcasecmp(k0, "FrontendName"))
        return FLURM_OK;
    for (size_t i = 0; i < n; i++)
        if (global_key(p, pairs[i].key, pairs[i].value, file, line) != FLURM_OK)
            return p->rc;
    return FLURM_OK;
}

static int process_text(parser_t *p, const char *text, const char *file, const char *dir)
{
    size_t cap = 256;
    char *buf = malloc(cap);
    if (!buf)
        return OOM(p);
    unsigned lineno = 0;
    const char *s = text;
    while (*s && p->rc == FLURM_OK) {
        unsigned start = ++lineno;
        size_t len = 0;
        bool comment = false;
        /* Gather one logical line: "\<newline>" continues, '#' starts a comment, "\#" is '#'. */
        for (;;) {
            if (len + 2 > cap) {
                char *b = realloc(buf, cap *= 2);
                if (!b) {
                    free(buf);
                    return OOM(p);
                }
                buf = b;
            }
            char ch = *s;
            if (!ch)
                break;
            s++;
            if (ch == '\n')
                break;
            if (ch == '\r' && *s == '\n')
                continue;
            if (ch == '\\' && (*s == '\n' || (*s == '\r' && s[1] == '\n'))) {
                s += *s == '\r' ? 2 : 1;
                lineno++;
                if (!comment)
                    buf[len++] = ' ';
                continue;
            }
            if (comment)
                continue;
            if (ch == '\\' && *s == '#') {
                buf[len++] = '#';
                s++;
                continue;
            }
            if (ch == '#') {
                comment = true;
                continue;
            }
            buf[len++] = ch;
        }
        buf[len] = '\0';
        process_line(p, buf, file, start, dir);
    }
    free(buf);
    return p->rc;
}

/* ---- top level ---- */

static void conf_init_defaults(flurm_conf_t *c)
{
    c->slurmctld_port = 6817;
    c->slurmctld_port_count = 1;
    c->slurmd_port = 6818;
    c->max_job_count = 10000;
    c->first_job_id = 1;
    c->kill_wait = 30;
    c->slurmd_timeout = 300;
    c->slurmctld_timeout = 120;
    c->message_timeout = 10;
    c->min_job_age = 300;
}

/* Defaults for string fields still unset after parsing (read_config.c / slurm.conf(5)). */
static int fill_defaults(parser_t *p)
{
    flurm_conf_t *c = p->c;
    const struct { char **field; const char *v; } d[] = {
        { &c->cluster_name, "cluster" },
        { &c->auth_type, "auth/munge" },
        { &c->state_save_location, "/var/spool/slurmctld" },
        { &c->slurmd_spool_dir, "/var/spool/slurmd" },
        { &c->scheduler_type, "sched/backfill" },
        { &c->select_type, "select/cons_tres" },
        { &c->priority_type, "priority/basic" },
        { &c->slurmctld_debug, "info" },
        { &c->slurm_user, "root" },
        { &c->slurmd_user, "root" },
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (!*d[i].field && set_str(p, d[i].field, d[i].v) != FLURM_OK)
            return p->rc;
    return FLURM_OK;
}

static int finish(parser_t *p)
{
    flurm_conf_t *c = p->c;
    if (p->legacy_file) {
        if (c->controller_count)
            return fail(p, FLURM_EINVAL, p->legacy_file, p->legacy_line,
                        "SlurmctldHost and ControlMachine/BackupController are mutually exclusive");
        if (!p->legacy[0])
            return fail(p, FLURM_EINVAL, p->legacy_file, p->legacy_line,
                        "ControlAddr/BackupController without ControlMachine");
        if (add_controller(p, p->legacy[0], strlen(p->legacy[0]), p->legacy[1],
                           p->legacy[1] ? strlen(p->legacy[1]) : 0) != FLURM_OK)
            return p->rc;
        if (p->legacy[2] && add_controller(p, p->legacy[2], strlen(p->legacy[2]), p->legacy[3],
                                           p->legacy[3] ? strlen(p->legacy[3]) : 0) != FLURM_OK)
            return p->rc;
    }
    if (!c->controller_count)
        return fail(p, FLURM_EINVAL, c->path, 0, "no SlurmctldHost configured");
    if (fill_defaults(p) != FLURM_OK)
        return p->rc;
    /* read_config.c: slurmctld refuses to start with it (checked against 22.05.8) */
    if ((c->preempt_mode & FLURM_PREEMPT_MODE_SUSPEND) && !(c->preempt_mode & FLURM_PREEMPT_MODE_GANG))
        return fail(p, FLURM_EINVAL, c->path, 0, "PreemptMode=SUSPEND requires GANG too");
    for (size_t i = 0; i < c->node_count; i++)
        if (!c->nodes[i].port)
            c->nodes[i].port = c->slurmd_port;
    return resolve_partitions(p);
}

static int run(const char *text, const char *path, flurm_conf_t **out, char **errmsg)
{
    parser_t p = { .rc = FLURM_OK };
    flurm_conf_t *c = calloc(1, sizeof *c);
    struct flurm_conf_index *ix = calloc(1, sizeof *ix);
    if (!c || !ix || !(c->path = strdup(path))) {
        free(ix);
        free(c);
        if (errmsg)
            *errmsg = strdup("out of memory");
        return FLURM_ENOMEM;
    }
    c->index_ = ix;
    p.c = c;
    conf_init_defaults(c);
    spec_init(&p.node_dflt);
    p.part_dflt = (flurm_conf_partition_t){ .max_time = FLURM_INFINITE, .default_time = FLURM_NO_VAL,
                                           .priority_tier = 1, .max_nodes = FLURM_INFINITE, .max_share = 1,
                                           .priority_job_factor = 1,
                                           .preempt_mode = 0xFFFEu /* NO_VAL16 */ };
    if (text) {
        const char *stored = NULL;
        if (add_file(&p, path, &stored) == FLURM_OK) {
            char *dir = strdup(path), *slash;
            if (!dir)
                OOM(&p);
            else {
                if ((slash = strrchr(dir, '/')))
                    slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
                else
                    strcpy(dir, ".");
                process_text(&p, text, stored, dir);
                free(dir);
            }
        }
    } else {
        process_file(&p, path, NULL, 0);
    }
    if (p.rc == FLURM_OK)
        finish(&p);
    spec_release(&p.node_dflt);
    part_release(&p.part_dflt);
    for (size_t i = 0; i < p.nwarned; i++)
        free(p.warned[i]);
    free(p.warned);
    for (int i = 0; i < 4; i++)
        free(p.legacy[i]);
    if (p.rc != FLURM_OK) {
        flurm_conf_free(c);
        if (errmsg)
            *errmsg = p.err ? p.err : strdup(flurm_strerror((flurm_err_t)p.rc));
        else
            free(p.err);
        return p.rc;
    }
    *out = c;
    return FLURM_OK;
}

int flurm_conf_load(const char *path, flurm_conf_t **out, char **errmsg)
{
    if (!path || !out)
        return FLURM_EINVAL;
    return run(NULL, path, out, errmsg);
}

int flurm_conf_parse_string(const char *text, const char *name_for_errors, flurm_conf_t **out, char **errmsg)
{
    if (!text || !out)
        return FLURM_EINVAL;
    return run(text, name_for_errors ? name_for_errors : "(string)", out, errmsg);
}

void flurm_conf_free(flurm_conf_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->controller_count; i++) {
        free(c->controllers[i].name);
        free(c->controllers[i].addr);
    }
    free(c->controllers);
    for (size_t i = 0; i < c->node_count; i++)
        node_release(&c->nodes[i]);
    free(c->nodes);
    for (size_t i = 0; i < c->partition_count; i++)
        part_release(&c->partitions[i]);
    free(c->partitions);
    for (size_t i = 0; i < c->kv_count; i++) {
        free(c->kv[i].key);
        free(c->kv[i].value);
    }
    free(c->kv);
    char **strs[] = { &c->path, &c->cluster_name, &c->slurm_user, &c->slurmd_user, &c->auth_type,
                      &c->auth_info, &c->auth_socket, &c->state_save_location, &c->slurmd_spool_dir,
                      &c->scheduler_type, &c->scheduler_parameters, &c->select_type,
                      &c->select_type_parameters, &c->priority_type, &c->gres_types, &c->plugin_dir,
                      &c->slurmctld_logfile, &c->slurmctld_pidfile, &c->slurmctld_debug };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->file_count; i++)
        free(c->files[i]);
    free(c->files);
    if (c->index_)
        free(c->index_->slot);
    free(c->index_);
    free(c);
}

ssize_t flurm_conf_node_index(const flurm_conf_t *c, const char *name)
{
    return c && name ? index_lookup(c, name) : -1;
}

const flurm_conf_partition_t *flurm_conf_partition(const flurm_conf_t *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->partition_count; i++)
        if (!strcmp(c->partitions[i].name, name))
            return &c->partitions[i];
    return NULL;
}

const char *flurm_conf_get(const flurm_conf_t *c, const char *key)
{
    for (size_t i = c && key ? c->kv_count : 0; i > 0; i--)
        if (!strcasecmp(c->kv[i - 1].key, key))
            return c->kv[i - 1].value;
    return NULL;
}

int flurm_conf_ctld_param(const flurm_conf_t *conf, const char *name, char *buf, size_t size)
{
    const char *list = flurm_conf_get(conf, "SlurmctldParameters");
    size_t nlen = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len >= nlen && strncasecmp(p, name, nlen) == 0 && (len == nlen || p[nlen] == '=')) {
            const char *v = len == nlen ? p + len : p + nlen + 1;
            size_t vlen = (size_t)(p + len - v);
            if (vlen + 1 > size)
                return FLURM_ENOSPC;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return FLURM_OK;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return FLURM_ENOENT;
}
