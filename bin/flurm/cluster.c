/* bin/flurm/cluster.c — `flurm cluster status|transfer|add|remove` (see cluster.h).
 *
 * Talks proto/admin.proto to every SlurmctldHost of slurm.conf at its admin port
 * (SlurmctldParameters=flurm_admin_port=N, default 6821): one nng REQ socket per member, all
 * dialed at once (non-blocking), each opened with a FLURM_CHAN_ADMIN handshake (our munge HELLO
 * naming the local user; the member's WELCOME must be root's or SlurmUser's and speak for the
 * SlurmctldHost dialed), then sealed requests. Members are asked in parallel (a thread each), so
 * a member that is down costs one timeout, not one per member. */
#include "cluster.h"

#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <flurm/auth.h>
#include <flurm/buf.h>
#include <flurm/chan.h>
#include <flurm/conf.h>
#include <flurm/log.h>

#include "admin.pb-c.h"

#define DEFAULT_ADMIN_PORT 6821
#define DEFAULT_TIMEOUT_MS 1000
#define TRANSFER_WAIT_MS 5000
#define CHANGE_WAIT_MS 30000
#define POLL_MS 100
#define MAX_REPLY_BYTES (1u << 20)

typedef Flurm__Admin__AdminRequest admin_req_t;
typedef Flurm__Admin__AdminReply admin_reply_t;
typedef Flurm__Admin__StatusReply status_t;

typedef struct member {
    struct cli *cli;
    const char *name, *addr;
    uint64_t id;                   /* SlurmctldHost line, 1-based */
    char url[300];
    nng_socket sock;
    bool open;
    flurm_chan_t *chan;
    admin_reply_t *status_reply;   /* the last StatusRequest's answer (NULL: none) */
    char err[512];                 /* why there is none */
    bool refused;                  /* it refused our credential (not root or SlurmUser?) */
} member_t;

typedef struct cli {
    const char *conf_path;
    flurm_conf_t *conf;
    flurm_auth_t *auth;
    member_t *m;
    size_t n;
    unsigned port;
    int timeout_ms;
    char me[FLURM_CHAN_NAME_MAX + 1];   /* the name our HELLO speaks for */
} cli_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: flurm cluster status [-f slurm.conf] [-t MS]\n"
               "       flurm cluster transfer NAME [-f slurm.conf] [-t MS]\n"
               "       flurm cluster add NAME HOST [-f slurm.conf] [-t MS]\n"
               "       flurm cluster remove NAME [-f slurm.conf] [-t MS]\n"
               "  status     every SlurmctldHost's view of the controllers' Raft cluster\n"
               "  transfer   hand leadership over to member NAME (waits up to %d s for it to lead)\n"
               "  add        make SlurmctldHost NAME (at HOST) a member again: it joins as a learner\n"
               "             and becomes a voter once it caught up (waits up to %d s for that)\n"
               "  remove     take member NAME out of the cluster (the leader too); it keeps running as\n"
               "             a non-member (waits up to %d s for the change to commit)\n"
               "  The members a cluster can have are its SlurmctldHost lines: to add a new controller,\n"
               "  list it in slurm.conf on every controller and restart them one at a time.\n"
               "  -f         configuration file (default: $SLURM_CONF, else /etc/slurm/slurm.conf)\n"
               "  -t         timeout of one exchange with a member, ms (default %d)\n"
               "Needs root or SlurmUser (munge proves who you are to the controllers).\n",
            TRANSFER_WAIT_MS / 1000, CHANGE_WAIT_MS / 1000, CHANGE_WAIT_MS / 1000, DEFAULT_TIMEOUT_MS);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------ one member */

/* Sends FRAME and waits for the answer: 0 and *REPLY, or an nng error (M->err set). */
static int exchange(member_t *m, const flurm_buf_t *frame, nng_msg **reply)
{
    nng_msg *msg;
    *reply = NULL;
    int rv = nng_msg_alloc(&msg, frame->size);
    if (rv != 0) {
        snprintf(m->err, sizeof m->err, "out of memory");
        return rv;
    }
    memcpy(nng_msg_body(msg), frame->data, frame->size);
    if ((rv = nng_sendmsg(m->sock, msg, 0)) != 0)
        nng_msg_free(msg);   /* no connection within the timeout */
    else
        rv = nng_recvmsg(m->sock, reply, 0);
    if (rv != 0) {
        if (rv == NNG_ETIMEDOUT)
            snprintf(m->err, sizeof m->err, "no answer within %d ms (down, or not listening at %s)",
                     m->cli->timeout_ms, m->url);
        else
            snprintf(m->err, sizeof m->err, "no answer: %s", nng_strerror(rv));
    }
    return rv;
}

/* A REFUSE frame's text into M->err; true if REPLY is one (*CODE its code). */
static bool refused(member_t *m, nng_msg *reply, flurm_chan_refuse_code_t *code)
{
    const void *body = nng_msg_body(reply);
    size_t len = nng_msg_len(reply);
    if (flurm_chan_frame_type(body, len) != FLURM_CHAN_FRAME_REFUSE)
        return false;
    char text[256] = "";
    flurm_chan_refuse_code_t c = 0;
    flurm_chan_refusal(body, len, &c, text, sizeof text);
    snprintf(m->err, sizeof m->err, "refused: %s", text);
    m->refused = c == FLURM_CHAN_REFUSE_UNAUTHORIZED || c == FLURM_CHAN_REFUSE_CREDENTIAL;
    if (code)
        *code = c;
    return true;
}

/* Opens a channel on M's connection. */
static bool handshake(member_t *m)
{
    cli_t *c = m->cli;
    flurm_chan_free(m->chan);
    m->chan = NULL;
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t hello;
    flurm_buf_init(&hello);
    const char *why = NULL;
    if (flurm_chan_hello(c->auth, FLURM_CHAN_ADMIN, c->me, &hs, &hello, &why) != FLURM_OK) {
        snprintf(m->err, sizeof m->err, "cannot make a munge credential: %s", why ? why : "?");
        flurm_buf_release(&hello);
        return false;
    }
    nng_msg *reply = NULL;
    int rv = exchange(m, &hello, &reply);
    flurm_buf_release(&hello);
    if (rv != 0) {
        flurm_chan_hs_free(hs);
        return false;
    }
    const void *body = nng_msg_body(reply);
    size_t len = nng_msg_len(reply);
    if (refused(m, reply, NULL) || flurm_chan_frame_type(body, len) != FLURM_CHAN_FRAME_WELCOME) {
        if (flurm_chan_frame_type(body, len) != FLURM_CHAN_FRAME_REFUSE)
            snprintf(m->err, sizeof m->err, "answered with no WELCOME (not a FLURM admin port?)");
        flurm_chan_hs_free(hs);
        nng_msg_free(reply);
        return false;
    }
    flurm_chan_peer_t peer;
    flurm_chan_t *chan = NULL;
    rv = flurm_chan_finish(c->auth, hs, body, len, &peer, &chan, &why);   /* consumes HS */
    nng_msg_free(reply);
    if (rv != FLURM_OK) {
        snprintf(m->err, sizeof m->err, "its WELCOME does not verify: %s", why ? why : "?");
        return false;
    }
    if (peer.uid != 0 && peer.uid != c->conf->slurm_user_id) {
        snprintf(m->err, sizeof m->err, "not trusted: its credential is uid %u's, not root's or SlurmUser's",
                 (unsigned)peer.uid);
        flurm_chan_free(chan);
        return false;
    }
    if (strcmp(peer.name, m->name) != 0) {
        snprintf(m->err, sizeof m->err, "not trusted: it speaks for %s, not for %s", peer.name, m->name);
        flurm_chan_free(chan);
        return false;
    }
    m->chan = chan;
    return true;
}

/* REQ to M, sealed; its answer (free_unpacked it) or NULL (M->err says why). A member that
 * lost our session (it restarted, or the connection was re-made) refuses the request: one new
 * handshake and one more try. */
static admin_reply_t *request(member_t *m, admin_req_t *req)
{
    req->version = FLURM__ADMIN__VERSION__PROTOCOL_VERSION;
    size_t len = flurm__admin__admin_request__get_packed_size(req);
    uint8_t *raw = malloc(len ? len : 1);
    if (!raw) {
        snprintf(m->err, sizeof m->err, "out of memory");
        return NULL;
    }
    flurm__admin__admin_request__pack(req, raw);
    admin_reply_t *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!m->chan && !handshake(m))
            break;
        bool again = false;
        flurm_buf_t sealed, plain;
        flurm_buf_init(&sealed);
        flurm_buf_init(&plain);
        nng_msg *reply = NULL;
        flurm_chan_refuse_code_t code = 0;
        const char *why = NULL;
        if (flurm_chan_seal(m->chan, raw, len, &sealed) != FLURM_OK) {
            snprintf(m->err, sizeof m->err, "cannot seal a request");
        } else if (exchange(m, &sealed, &reply) != 0) {
            /* m->err set; a late answer is dropped by REQ, the channel stays good */
        } else if (refused(m, reply, &code)) {
            flurm_chan_free(m->chan);
            m->chan = NULL;
            again = code == FLURM_CHAN_REFUSE_UNAUTHENTICATED;
        } else if (flurm_chan_open(m->chan, nng_msg_body(reply), nng_msg_len(reply), &plain, &why) != FLURM_OK) {
            snprintf(m->err, sizeof m->err, "an answer that does not open under our channel (%s)",
                     why ? why : "not DATA");
        } else if (!(r = flurm__admin__admin_reply__unpack(NULL, plain.size, plain.data))) {
            snprintf(m->err, sizeof m->err, "an undecodable answer");
        } else if (r->version != FLURM__ADMIN__VERSION__PROTOCOL_VERSION) {
            snprintf(m->err, sizeof m->err, "admin protocol version %u, not this tool's %u", r->version,
                     FLURM__ADMIN__VERSION__PROTOCOL_VERSION);
            flurm__admin__admin_reply__free_unpacked(r, NULL);
            r = NULL;
        }
        if (reply)
            nng_msg_free(reply);
        flurm_buf_release(&sealed);
        flurm_buf_release(&plain);
        if (r || !again)
            break;
    }
    free(raw);
    return r;
}

/* Asks M for its status into M->status_reply (NULL and M->err when it did not answer). */
static void query_status(member_t *m)
{
    if (m->status_reply)
        flurm__admin__admin_reply__free_unpacked(m->status_reply, NULL);
    m->status_reply = NULL;
    m->err[0] = '\0';
    m->refused = false;
    Flurm__Admin__StatusRequest sreq = FLURM__ADMIN__STATUS_REQUEST__INIT;
    admin_req_t req = FLURM__ADMIN__ADMIN_REQUEST__INIT;
    req.body_case = FLURM__ADMIN__ADMIN_REQUEST__BODY_STATUS;
    req.status = &sreq;
    admin_reply_t *r = request(m, &req);
    if (r && (r->error != FLURM__ADMIN__ERROR_CODE__OK || !r->status)) {
        snprintf(m->err, sizeof m->err, "error %d: %s", (int)r->error, r->error_text ? r->error_text : "");
        flurm__admin__admin_reply__free_unpacked(r, NULL);
        r = NULL;
    }
    m->status_reply = r;
}

static const status_t *status_of(const member_t *m)
{
    return m->status_reply ? m->status_reply->status : NULL;
}

static void *query_thread(void *arg)
{
    query_status(arg);
    return NULL;
}

/* Every member's status, in parallel. */
static void query_all(cli_t *c)
{
    pthread_t *t = calloc(c->n, sizeof *t);
    bool *started = calloc(c->n, sizeof *started);
    for (size_t i = 0; i < c->n; i++)
        if (t && started && pthread_create(&t[i], NULL, query_thread, &c->m[i]) == 0)
            started[i] = true;
        else
            query_status(&c->m[i]);
    for (size_t i = 0; i < c->n; i++)
        if (started && started[i])
            pthread_join(t[i], NULL);
    free(t);
    free(started);
}

/* ------------------------------------------------------------------ the cluster */

static member_t *member_named(cli_t *c, const char *name)
{
    for (size_t i = 0; name && i < c->n; i++)
        if (strcmp(c->m[i].name, name) == 0)
            return &c->m[i];
    return NULL;
}

/* The member that answered as leader, with the highest term; NULL if none did. */
static member_t *answering_leader(cli_t *c)
{
    member_t *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const status_t *s = status_of(&c->m[i]);
        if (s && s->role && strcmp(s->role, "leader") == 0 && (!best || s->term > status_of(best)->term))
            best = &c->m[i];
    }
    return best;
}

/* The leader named by the answers of the highest term ("" none); *TERM that term. */
static const char *named_leader(cli_t *c, uint64_t *term)
{
    *term = 0;
    for (size_t i = 0; i < c->n; i++) {
        const status_t *s = status_of(&c->m[i]);
        if (s && s->term > *term)
            *term = s->term;
    }
    for (size_t i = 0; i < c->n; i++) {
        const status_t *s = status_of(&c->m[i]);
        if (s && s->term == *term && s->leader && *s->leader)
            return s->leader;
    }
    return "";
}

static size_t answered(cli_t *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        k += status_of(&c->m[i]) != NULL;
    return k;
}

static void fmt_u64(char *buf, size_t size, bool have, uint64_t v)
{
    if (have)
        snprintf(buf, size, "%" PRIu64, v);
    else
        snprintf(buf, size, "-");
}

static void fmt_ago_ms(char *buf, size_t size, int64_t ms)
{
    if (ms < 0)
        snprintf(buf, size, "never");
    else if (ms < 10000)
        snprintf(buf, size, "%.2fs", ms / 1000.0);
    else
        snprintf(buf, size, "%" PRId64 "s", ms / 1000);
}

#define NCOLS 9
static void print_table(cli_t *c)
{
    static const char *const head[NCOLS] = { "NAME", "ADDR", "ROLE", "TERM", "COMMIT", "APPLIED", "LAST", "MATCH",
                                             "LAST_CONTACT" };
    member_t *lead = answering_leader(c);
    const status_t *ls = lead ? status_of(lead) : NULL;
    char (*cell)[NCOLS][96] = calloc(c->n + 1, sizeof *cell);
    if (!cell)
        return;
    size_t w[NCOLS];
    for (int k = 0; k < NCOLS; k++) {
        snprintf(cell[0][k], sizeof cell[0][k], "%s", head[k]);
        w[k] = strlen(head[k]);
    }
    for (size_t i = 0; i < c->n; i++) {
        member_t *m = &c->m[i];
        const status_t *s = status_of(m);
        char (*row)[96] = cell[i + 1];
        snprintf(row[0], 96, "%s", m->name);
        snprintf(row[1], 96, "%s", m->addr);
        snprintf(row[2], 96, "%s", s ? (s->role ? s->role : "?") : "down");
        /* membership as the leader knows it (else as the member itself does) */
        const status_t *view = ls ? ls : s;
        const Flurm__Admin__MemberStatus *in = NULL;
        for (size_t k = 0; view && k < view->n_members; k++)
            if (view->members[k]->id == m->id)
                in = view->members[k];
        if (s && view && !in)
            snprintf(row[2], 96, "removed");
        else if (s && in && !in->voter)
            snprintf(row[2], 96, "learner");
        fmt_u64(row[3], 96, s, s ? s->term : 0);
        fmt_u64(row[4], 96, s, s ? s->commit : 0);
        fmt_u64(row[5], 96, s, s ? s->applied : 0);
        fmt_u64(row[6], 96, s, s ? s->last : 0);
        const Flurm__Admin__MemberStatus *v = NULL;
        for (size_t k = 0; ls && k < ls->n_members; k++)
            if (ls->members[k]->id == m->id)
                v = ls->members[k];
        fmt_u64(row[7], 96, v, v ? v->match_index : 0);
        if (!v || v->self)
            snprintf(row[8], 96, "-");
        else
            fmt_ago_ms(row[8], 96, v->last_contact_ms_ago);
        for (int k = 0; k < NCOLS; k++)
            if (strlen(row[k]) > w[k])
                w[k] = strlen(row[k]);
    }
    for (size_t i = 0; i <= c->n; i++) {
        for (int k = 0; k < NCOLS - 1; k++)
            printf("%-*s  ", (int)w[k], cell[i][k]);
        printf("%s\n", cell[i][NCOLS - 1]);
    }
    free(cell);
}

static int cmd_status(cli_t *c)
{
    query_all(c);
    member_t *lead = answering_leader(c);
    uint64_t term = 0;
    const char *named = named_leader(c, &term);
    if (lead)
        term = status_of(lead)->term;
    const char *cluster = c->conf->cluster_name ? c->conf->cluster_name : "?";
    size_t k = answered(c), nrefused = 0;
    for (size_t i = 0; i < c->n; i++)
        nrefused += c->m[i].refused;
    if (!k && nrefused) {   /* no table of "down" members for a user they all refused */
        for (size_t i = 0; i < c->n; i++)
            fprintf(stderr, "flurm: %s (%s): %s\n", c->m[i].name, c->m[i].url, c->m[i].err);
        fprintf(stderr, "flurm: no controller accepted us (the admin port takes root and SlurmUser only)\n");
        return 1;
    }
    if (lead)
        printf("cluster %s: leader %s, term %" PRIu64 "%s\n", cluster, lead->name, term,
               status_of(lead)->ready ? "" : " (not serving yet: applying its predecessors' log)");
    else if (*named)
        printf("cluster %s: no leader answered (%s was last known to lead), term %" PRIu64 "\n", cluster, named,
               term);
    else
        printf("cluster %s: no leader known%s\n", cluster, k ? " (an election is running?)" : "");
    print_table(c);
    for (size_t i = 0; i < c->n; i++) {
        member_t *m = &c->m[i];
        const status_t *s = status_of(m);
        if (!s)
            fprintf(stderr, "flurm: %s (%s): %s\n", m->name, m->url, m->err[0] ? m->err : "no answer");
        else if (s->cluster && c->conf->cluster_name && strcmp(s->cluster, c->conf->cluster_name) != 0)
            fprintf(stderr, "flurm: %s answers for cluster %s, not %s\n", m->name, s->cluster,
                    c->conf->cluster_name);
    }
    if (k * 2 <= c->n) {
        fprintf(stderr, "flurm: only %zu of %zu members answered: no majority\n", k, c->n);
        return 1;
    }
    return lead ? 0 : 1;
}

/* Sends a TransferRequest for TARGET to M: true if it was accepted, else ERR says why and
 * *REDIRECT is the member M named as the leader (ERROR_NOT_LEADER; NULL: none). */
static bool send_transfer(cli_t *c, member_t *m, const char *target, member_t **redirect, char *err, size_t size)
{
    *redirect = NULL;
    Flurm__Admin__TransferRequest treq = FLURM__ADMIN__TRANSFER_REQUEST__INIT;
    treq.target = (char *)target;
    admin_req_t req = FLURM__ADMIN__ADMIN_REQUEST__INIT;
    req.body_case = FLURM__ADMIN__ADMIN_REQUEST__BODY_TRANSFER;
    req.transfer = &treq;
    admin_reply_t *r = request(m, &req);
    if (!r) {
        snprintf(err, size, "%s (%.300s): %.400s", m->name, m->url, m->err);
        return false;
    }
    bool ok = r->error == FLURM__ADMIN__ERROR_CODE__OK;
    if (r->error == FLURM__ADMIN__ERROR_CODE__ERROR_NOT_LEADER)
        *redirect = member_named(c, r->leader);
    if (!ok)
        snprintf(err, size, "%s: %s", m->name, r->error_text && *r->error_text ? r->error_text : "refused");
    flurm__admin__admin_reply__free_unpacked(r, NULL);
    return ok;
}

static int cmd_transfer(cli_t *c, const char *name)
{
    member_t *target = member_named(c, name);
    if (!target) {
        fprintf(stderr, "flurm: %s is no SlurmctldHost of %s\n", name, c->conf_path);
        return 1;
    }
    query_all(c);
    member_t *lead = answering_leader(c);
    if (!lead) {
        for (size_t i = 0; i < c->n; i++)
            if (!status_of(&c->m[i]))
                fprintf(stderr, "flurm: %s (%s): %s\n", c->m[i].name, c->m[i].url, c->m[i].err);
        fprintf(stderr, "flurm: no leader answered: nothing to transfer from\n");
        return 1;
    }
    if (lead == target) {
        printf("%s is already the leader (term %" PRIu64 ")\n", name, status_of(lead)->term);
        return 0;
    }
    if (!status_of(target)) {
        fprintf(stderr, "flurm: %s does not answer (%s): it cannot take over\n", name, target->err);
        return 1;
    }
    char err[1024];
    member_t *redirect = NULL;
    if (!send_transfer(c, lead, name, &redirect, err, sizeof err)) {
        /* leadership moved since we asked: once more, of the leader it names */
        if (!redirect || redirect == lead || redirect == target ||
            !send_transfer(c, (lead = redirect), name, &redirect, err, sizeof err)) {
            if (redirect == target)
                printf("%s is already the leader\n", name);
            else
                fprintf(stderr, "flurm: %s\n", err);
            return redirect == target ? 0 : 1;
        }
    }
    const member_t *from = lead;
    uint64_t start = mono_ms(), last_ask = start;
    while (mono_ms() - start < TRANSFER_WAIT_MS) {
        usleep(POLL_MS * 1000);
        query_status(target);
        const status_t *s = status_of(target);
        bool leads = s && s->role && strcmp(s->role, "leader") == 0;
        if (leads && s->ready) {
            printf("leadership moved from %s to %s (term %" PRIu64 ")\n", from->name, name, s->term);
            return 0;
        }
        /* The leader gives a transfer up when the target does not take over within an election
         * timeout: ask again, every second, of whoever leads as the target knows it. */
        if (!leads && s && mono_ms() - last_ask >= 1000) {
            member_t *now = member_named(c, s->leader);
            last_ask = mono_ms();
            if (now && now != target)
                send_transfer(c, now, name, &redirect, err, sizeof err);
        }
    }
    query_all(c);
    member_t *now = answering_leader(c);
    fprintf(stderr, "flurm: %s did not take over within %d s; the leader is %s\n", name, TRANSFER_WAIT_MS / 1000,
            now ? now->name : "unknown");
    return 1;
}

/* ------------------------------------------------------------------ membership */

/* The entry of member ID in a status' configuration, NULL if it is not in it. */
static const Flurm__Admin__MemberStatus *in_config(const status_t *s, uint64_t id)
{
    for (size_t k = 0; s && k < s->n_members; k++)
        if (s->members[k]->id == id)
            return s->members[k];
    return NULL;
}

/* Sends an Add (HOST given) or RemoveRequest for NAME to M: its error code (OK = 0), -1 if M
 * did not answer; ERR says why. */
static int send_change(member_t *m, const char *name, const char *host, char *err, size_t size)
{
    Flurm__Admin__AddRequest areq = FLURM__ADMIN__ADD_REQUEST__INIT;
    Flurm__Admin__RemoveRequest rreq = FLURM__ADMIN__REMOVE_REQUEST__INIT;
    admin_req_t req = FLURM__ADMIN__ADMIN_REQUEST__INIT;
    if (host) {
        areq.name = (char *)name;
        areq.host = (char *)host;
        req.body_case = FLURM__ADMIN__ADMIN_REQUEST__BODY_ADD;
        req.add = &areq;
    } else {
        rreq.name = (char *)name;
        req.body_case = FLURM__ADMIN__ADMIN_REQUEST__BODY_REMOVE;
        req.remove = &rreq;
    }
    admin_reply_t *r = request(m, &req);
    if (!r) {
        snprintf(err, size, "%s (%.300s): %.400s", m->name, m->url, m->err);
        return -1;
    }
    int code = (int)r->error;
    if (code != FLURM__ADMIN__ERROR_CODE__OK)
        snprintf(err, size, "%s", r->error_text && *r->error_text ? r->error_text : "refused");
    flurm__admin__admin_reply__free_unpacked(r, NULL);
    return code;
}

/* `add NAME HOST` (HOST non-NULL) or `remove NAME`: the leader proposes the change (asked again
 * while it is busy or leadership moves), then we wait until the leader's committed configuration
 * has NAME as a voter (add) or without NAME (remove). */
static int cmd_change(cli_t *c, const char *name, const char *host)
{
    const char *verb = host ? "add" : "remove";
    member_t *target = member_named(c, name);
    if (!target) {
        fprintf(stderr,
                "flurm: %s is no SlurmctldHost of %s: a controller can only be a member if it is listed there;\n"
                "list it (in the same order) in slurm.conf on every controller and restart them one at a time\n",
                name, c->conf_path);
        return 1;
    }
    uint64_t start = mono_ms();
    char err[1024] = "no leader answered";
    bool proposed = false;
    while (!proposed) {
        if (mono_ms() - start >= CHANGE_WAIT_MS) {
            fprintf(stderr, "flurm: cannot %s %s within %d s: %s\n", verb, name, CHANGE_WAIT_MS / 1000, err);
            return 1;
        }
        query_all(c);
        member_t *lead = answering_leader(c);
        if (!lead) {
            snprintf(err, sizeof err, "no leader answered");
            usleep(200 * 1000);
            continue;
        }
        int code = send_change(lead, name, host, err, sizeof err);
        if (code == FLURM__ADMIN__ERROR_CODE__OK) {
            proposed = true;
        } else if (code == -1 || code == FLURM__ADMIN__ERROR_CODE__ERROR_NOT_LEADER ||
                   code == FLURM__ADMIN__ERROR_CODE__ERROR_BUSY) {
            usleep(200 * 1000);   /* leadership moved, or an earlier change commits first */
        } else {
            fprintf(stderr, "flurm: cannot %s %s: %s\n", verb, name, err);
            return 1;
        }
    }
    const char *last = "";
    while (mono_ms() - start < CHANGE_WAIT_MS) {
        usleep(POLL_MS * 1000);
        query_all(c);
        member_t *lead = answering_leader(c);
        const status_t *ls = lead ? status_of(lead) : NULL;
        if (!ls || !ls->ready || ls->config_index > ls->commit) {
            last = ls ? "the change is not committed yet" : "no leader answered";
            continue;
        }
        const Flurm__Admin__MemberStatus *in = in_config(ls, target->id);
        if (host && in && in->voter) {
            printf("%s is a voter (leader %s, term %" PRIu64 ")\n", name, lead->name, ls->term);
            return 0;
        }
        if (!host && !in) {
            printf("%s is no longer a member (leader %s, term %" PRIu64 ")\n", name, lead->name, ls->term);
            return 0;
        }
        last = host ? (in ? "it is a learner: it has not caught up yet" : "it is not a member (the change was undone?)")
                    : "it is still a member";
    }
    fprintf(stderr, "flurm: %s: not done within %d s: %s\n", verb, CHANGE_WAIT_MS / 1000, last);
    return 1;
}

/* ------------------------------------------------------------------ set-up */

static int cli_open(cli_t *c)
{
    char *err = NULL;
    if (flurm_conf_load(c->conf_path, &c->conf, &err) != FLURM_OK) {
        fprintf(stderr, "flurm: %s\n", err ? err : "cannot load the configuration");
        free(err);
        return -1;
    }
    char v[16];
    c->port = DEFAULT_ADMIN_PORT;
    if (flurm_conf_ctld_param(c->conf, "flurm_admin_port", v, sizeof v) == FLURM_OK) {
        char *end;
        unsigned long p = strtoul(v, &end, 10);
        if (*end || p == 0 || p > 65535) {
            fprintf(stderr, "flurm: SlurmctldParameters flurm_admin_port=%s is no port\n", v);
            return -1;
        }
        c->port = (unsigned)p;
    }
    c->auth = flurm_auth_new(c->conf->auth_socket, (int)c->conf->auth_ttl);
    if (!c->auth) {
        fprintf(stderr, "flurm: out of memory\n");
        return -1;
    }
    const struct passwd *pw = getpwuid(getuid());
    snprintf(c->me, sizeof c->me, "%s", pw && pw->pw_name && *pw->pw_name ? pw->pw_name : "flurm");
    c->n = c->conf->controller_count;
    c->m = calloc(c->n ? c->n : 1, sizeof *c->m);
    if (!c->m)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        member_t *m = &c->m[i];
        const flurm_conf_controller_t *h = &c->conf->controllers[i];
        m->cli = c;
        m->id = i + 1;
        m->name = h->name ? h->name : "";
        m->addr = h->addr ? h->addr : m->name;
        snprintf(m->url, sizeof m->url, strchr(m->addr, ':') ? "tcp://[%s]:%u" : "tcp://%s:%u", m->addr, c->port);
        int rv = nng_req0_open(&m->sock);
        if (rv == 0) {
            m->open = true;
            nng_socket_set_ms(m->sock, NNG_OPT_SENDTIMEO, c->timeout_ms);
            nng_socket_set_ms(m->sock, NNG_OPT_RECVTIMEO, c->timeout_ms);
            nng_socket_set_ms(m->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
            nng_socket_set_size(m->sock, NNG_OPT_RECVMAXSZ, MAX_REPLY_BYTES);
            /* non-blocking: every member connects at once, in the background */
            rv = nng_dial(m->sock, m->url, NULL, NNG_FLAG_NONBLOCK);
        }
        if (rv != 0) {
            fprintf(stderr, "flurm: cannot dial %s at %s: %s\n", m->name, m->url, nng_strerror(rv));
            return -1;
        }
    }
    return 0;
}

static void cli_close(cli_t *c)
{
    for (size_t i = 0; c->m && i < c->n; i++) {
        member_t *m = &c->m[i];
        if (m->status_reply)
            flurm__admin__admin_reply__free_unpacked(m->status_reply, NULL);
        flurm_chan_free(m->chan);
        if (m->open)
            nng_close(m->sock);
    }
    free(c->m);
    flurm_auth_free(c->auth);
    flurm_conf_free(c->conf);
}

int cluster_main(int argc, char **argv)
{
    cli_t c = { .conf_path = getenv("SLURM_CONF"), .timeout_ms = DEFAULT_TIMEOUT_MS };
    const char *pos[3] = { NULL, NULL, NULL };
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            c.conf_path = argv[++i];
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            c.timeout_ms = atoi(argv[++i]);
            if (c.timeout_ms <= 0) {
                usage(stderr);
                return 2;
            }
        } else if (argv[i][0] == '-' || npos == 3) {
            usage(stderr);
            return 2;
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (!c.conf_path)
        c.conf_path = "/etc/slurm/slurm.conf";
    const char *cmd = pos[0];
    bool status = cmd && strcmp(cmd, "status") == 0 && npos == 1;
    bool transfer = cmd && strcmp(cmd, "transfer") == 0 && npos == 2;
    bool add = cmd && strcmp(cmd, "add") == 0 && npos == 3;
    bool remove = cmd && strcmp(cmd, "remove") == 0 && npos == 2;
    if (!status && !transfer && !add && !remove) {
        usage(stderr);
        return 2;
    }
    flurm_log_set_ident("flurm");
    flurm_log_set_level(FLURM_LOG_WARN);
    int rc = 1;
    if (cli_open(&c) == 0)
        rc = status     ? cmd_status(&c)
             : transfer ? cmd_transfer(&c, pos[1])
                        : cmd_change(&c, pos[1], add ? pos[2] : NULL);
    cli_close(&c);
    return rc;
}
