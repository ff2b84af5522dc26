/* bin/flurmctld/server.c — sockets, the per-connection state machine and the commit pipeline.
 * See ctl.h for the life of an RPC.
 *
 * Routing (several controllers): only the leader that is ready (commit_ready) handles
 * requests, reads included, so a client never reads older state than its own write. Any other
 * controller forwards what it authenticated to the leader over the peer link and relays the
 * reply; while no leader is known (an election) it holds the request for a bounded time instead
 * of answering a standby error (which clients do not route). REQUEST_PING is answered by every
 * live controller itself, so `scontrol ping` shows each UP. */
#include "ctl.h"
#include "commit.h"
#include "peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <flurm/log.h>
#include <flurm/msg.h>

/* Largest request we accept. Batch scripts plus environments fit easily; SLURM's own limit is
 * 1 GiB, but a controller that buffers whole frames should not let one peer pin that much. */
#define MAX_REQUEST_BYTES (64u << 20)
/* A peer has this long to deliver its request (SLURM's default MessageTimeout is 10 s). */
#define READ_TIMEOUT_S 10.0
#define WRITE_TIMEOUT_S 10.0
/* A request waits this long for a leader: below the client's MessageTimeout, so that it hears
 * an answer it can act on rather than a timeout. */
#define HOLD_S(ctl) ((ctl)->conf->message_timeout > 2 ? (double)(ctl)->conf->message_timeout - 1.5 : 1.0)
/* A leader we could not reach is asked again this often (until another is elected). */
#define RETRY_S 0.05


static void rpc_free(ctl_t *ctl, rpc_t *r)
{
    if (r->stage == RPC_HELD) {
        for (rpc_t **pp = &ctl->held; *pp; pp = &(*pp)->held_next)
            if (*pp == r) {
                *pp = r->held_next;
                break;
            }
    }
    if (r->fd >= 0) {
        ev_io_stop(ctl->loop, &r->io);
        close(r->fd);
    }
    ev_timer_stop(ctl->loop, &r->timer);
    free(r->in);
    flurm_buf_release(&r->cmd);
    flurm_buf_release(&r->reply);
    flurm_buf_release(&r->out);
    free(r);
    ctl->nconns--;
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    rpc_t *r = w->data;
    /* Only the socket stages own a timer; worker and commit stages always complete. */
    flurm_warn("connection from %s timed out %s", r->peer,
               r->stage == RPC_WRITE ? "while we were writing the reply" : "before sending a full request");
    rpc_free(r->ctl, r);
}

/* Peer address -> host name, remembered (found or not) for HOST_CACHE_TTL_S: a resolver that
 * times out must cost one worker one wait per host, not one per request. */
#define HOST_CACHE_SIZE 256
#define HOST_CACHE_TTL_S 300
static struct host_cache_entry {
    struct sockaddr_storage addr;
    socklen_t len;
    time_t when;
    char name[256];
} host_cache[HOST_CACHE_SIZE];
static pthread_mutex_t host_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void peer_host(rpc_t *r)
{
    struct sockaddr_storage a = r->addr;
    socklen_t len = r->addr_len;
    /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; look those up as IPv4 (whose
     * names /etc/hosts knows) rather than asking DNS about the mapped form. */
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&r->addr;
    if (a.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = s6->sin6_port };
        memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        memset(&a, 0, sizeof a);
        memcpy(&a, &s4, sizeof s4);
        len = sizeof s4;
    }
    time_t now = time(NULL);
    unsigned h = 0;
    for (socklen_t i = 0; i < len; i++)
        h = h * 31 + ((const uint8_t *)&a)[i];
    struct host_cache_entry *e = &host_cache[h % HOST_CACHE_SIZE];
    pthread_mutex_lock(&host_cache_lock);
    if (e->len == len && memcmp(&e->addr, &a, len) == 0 && now - e->when < HOST_CACHE_TTL_S) {
        snprintf(r->host, sizeof r->host, "%s", e->name);
        pthread_mutex_unlock(&host_cache_lock);
        return;
    }
    pthread_mutex_unlock(&host_cache_lock);
    char name[256];
    if (getnameinfo((struct sockaddr *)&a, len, name, sizeof name, NULL, 0, NI_NAMEREQD) != 0 &&
        getnameinfo((struct sockaddr *)&a, len, name, sizeof name, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(name, sizeof name, "unknown");
    pthread_mutex_lock(&host_cache_lock);
    e->addr = a;
    e->len = len;
    e->when = now;
    snprintf(e->name, sizeof e->name, "%s", name);
    pthread_mutex_unlock(&host_cache_lock);
    snprintf(r->host, sizeof r->host, "%s", name);
}

static void verify_run(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    /* slurmctld names a job's AllocNode after the requester's host; resolving may block, so it
     * happens here rather than on the loop. Only requests that create jobs need it. */
    if (r->frame.hdr.msg_type == FLURM_REQUEST_SUBMIT_BATCH_JOB)
        peer_host(r);
    if (r->frame.auth_plugin != FLURM_AUTH_PLUGIN_MUNGE || !r->frame.cred) {
        r->auth_rc = FLURM_EAUTH;
        r->auth_reason = "not a munge credential";
        return;
    }
    r->auth_rc = flurm_auth_verify(r->ctl->auth, r->frame.cred, r->frame.hdr.msg_type,
                                   r->frame.body, r->frame.hdr.body_length, &r->uid, &r->gid,
                                   &r->auth_reason);
}

static void route(ctl_t *ctl, rpc_t *r);
static void hold(ctl_t *ctl, rpc_t *r, double retry_s);

/* The RPC's command is applied (RES), could not be persisted (NULL while still the ready
 * leader), was dropped by a change of leader (NULL otherwise: routed again), or its outcome
 * is unknown (proposed again, here or at the new leader: its request id makes a second copy
 * harmless): answer it. */
static void rpc_committed(ctl_t *ctl, void *arg, const flurm_apply_result_t *res)
{
    rpc_t *r = arg;
    bool unknown = res == &commit_outcome_unknown, ready = commit_ready(ctl);
    /* Never applied and leadership moved meanwhile: the new leader takes it. Or perhaps
     * applied: whoever leads now answers it, with the first result if it was; except a request
     * another member forwarded here once we no longer lead: that member cannot tell, it gets
     * an error. */
    bool route_again = (!res && !ready) || (unknown && (ready || !r->fwd_token));
    if (route_again) {
        flurm_buf_release(&r->cmd);
        flurm_buf_init(&r->cmd);
        r->maybe_applied |= unknown;
        r->stage = RPC_VERIFY;
        route(ctl, r);
        return;
    }
    if (res && res->repeated)
        flurm_info("%s from %s was applied before (a copy routed again): answered with its first result",
                   flurm_msg_type_name(r->frame.hdr.msg_type) ? flurm_msg_type_name(r->frame.hdr.msg_type) : "?",
                   r->peer);
    if (unknown)
        rpc_reply_rc(r, 1 /* SLURM_ERROR: it may have been applied; never "try again" */);
    else if (!res)
        rpc_reply_rc(r, 2019 /* ESLURM_WRITING_TO_FILE */);
    else if (!rpc_applied(ctl, r, res))
        return;   /* answered later */
    server_send_reply(ctl, r);
}

/* ---- routing ---- */

static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

static void handle_here(ctl_t *ctl, rpc_t *r)
{
    r->stage = RPC_HANDLE;
    r->reply_uid = r->uid;
    if (rpc_handle(ctl, r) == 0) {
        server_send_reply(ctl, r);
        return;
    }
    /* A command to commit: the ev_check watcher ships the batch after this turn. */
    r->stage = RPC_COMMIT;
    commit_propose(ctl, &r->cmd, rpc_committed, r);
}

/* Writes the reply frame a leader built (length prefix included) to R's client. */
static void relay_reply(ctl_t *ctl, rpc_t *r, const void *reply, size_t len)
{
    r->out.size = 0;
    flurm_pack_raw(&r->out, reply, len);
    if (r->out.err) {
        rpc_free(ctl, r);
        return;
    }
    r->out_off = 0;
    r->stage = RPC_WRITE;
    ev_io_init(&r->io, on_writable, r->fd, EV_WRITE);
    r->io.data = r;
    ev_io_start(ctl->loop, &r->io);
    ev_timer_init(&r->timer, on_timeout, WRITE_TIMEOUT_S, 0.);
    r->timer.data = r;
    ev_timer_start(ctl->loop, &r->timer);
}

static void forward_done(ctl_t *ctl, void *arg, peers_fwd_status_t status, const void *reply, size_t len)
{
    rpc_t *r = arg;
    if (status == PEERS_FWD_ANSWERED && len) {
        relay_reply(ctl, r, reply, len);
        return;
    }
    ctl->forward_failures++;
    /* Not answered: the member we asked no longer leads, or never heard of the request (its
     * link is down: it may be dead while we still think it leads), or it got the request and
     * said nothing (LOST: it may have applied it before it died). Wait for a leader we can
     * reach and send it again: a copy of a request already in the log is not applied again
     * (its request id), the leader answers with the first result. */
    if (status == PEERS_FWD_LOST) {
        r->maybe_applied = true;
        flurm_info("%s from %s: the leader did not answer; sending it to the next leader",
                   flurm_msg_type_name(r->frame.hdr.msg_type) ? flurm_msg_type_name(r->frame.hdr.msg_type) : "?",
                   r->peer);
    }
    r->stage = RPC_VERIFY;
    hold(ctl, r, status == PEERS_FWD_ANSWERED ? 0. : RETRY_S);
}

static void on_hold_expired(struct ev_loop *loop, ev_timer *w, int revents);

/* Holds R until the leader changes (server_leader_changed), for at most HOLD_S from its first
 * hold; RETRY_S > 0: also route it again after that long (a leader we could not reach). */
static void hold(ctl_t *ctl, rpc_t *r, double retry_s)
{
    if (!r->hold_until)
        r->hold_until = ev_now(ctl->loop) + HOLD_S(ctl);
    if (r->stage != RPC_HELD) {
        r->stage = RPC_HELD;
        r->held_next = ctl->held;
        ctl->held = r;
    }
    ev_timer_stop(ctl->loop, &r->timer);
    double left = r->hold_until - ev_now(ctl->loop);
    if (left < 0)
        left = 0;
    if (retry_s > 0 && retry_s < left)
        left = retry_s;
    ev_timer_init(&r->timer, on_hold_expired, left, 0.);
    r->timer.data = r;
    ev_timer_start(ctl->loop, &r->timer);
}

static void on_hold_expired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    rpc_t *r = w->data;
    ctl_t *ctl = r->ctl;
    for (rpc_t **pp = &ctl->held; *pp; pp = &(*pp)->held_next)
        if (*pp == r) {
            *pp = r->held_next;
            break;
        }
    if (ev_now(ctl->loop) < r->hold_until) {   /* a retry: route it again */
        r->stage = RPC_VERIFY;
        route(ctl, r);
        return;
    }
    if (r->maybe_applied) {   /* a leader may have applied it: "try again" could apply it twice */
        flurm_warn("no leader within %.0f s for a request from %s that may have been applied; its outcome "
                   "is unknown", HOLD_S(ctl), r->peer);
        r->stage = RPC_HANDLE;
        rpc_reply_rc(r, 1 /* SLURM_ERROR */);
        server_send_reply(ctl, r);
        return;
    }
    flurm_warn("no leader within %.0f s for a request from %s; asking it to retry", HOLD_S(ctl), r->peer);
    if (r->fwd_token) {   /* the follower routes it again */
        peers_forward_reply(ctl, r->fwd_token, "", 0);
        r->fwd_token = NULL;
        rpc_free(ctl, r);
        return;
    }
    r->stage = RPC_HANDLE;
    rpc_reply_rc(r, 11 /* EAGAIN: nothing was applied */);
    server_send_reply(ctl, r);
}

static void route(ctl_t *ctl, rpc_t *r)
{
    if (commit_ready(ctl) || r->frame.hdr.msg_type == FLURM_REQUEST_PING) {
        handle_here(ctl, r);
        return;
    }
    if (r->fwd_token && r->frame.hdr.msg_type == FLURM_REQUEST_SHUTDOWN) {
        handle_here(ctl, r);   /* the leader passes scontrol shutdown on to every member */
        return;
    }
    uint64_t leader = commit_leader(ctl);
    if (r->fwd_token && leader != ctl->self_id) {
        /* Forwarded to a controller that does not lead (any more): the follower routes it. */
        peers_forward_reply(ctl, r->fwd_token, "", 0);
        r->fwd_token = NULL;
        rpc_free(ctl, r);
        return;
    }
    if (leader && leader != ctl->self_id) {
        r->stage = RPC_FORWARDED;
        r->fwd_id = ++ctl->next_fwd_id;
        ctl->forwarded_out++;
        ctl->forwarding_to = leader;
        peers_forward(ctl, leader, r->fwd_id, r->uid, r->gid, r->peer, r->in, r->need, forward_done, r);
        return;
    }
    /* An election runs (or we lead and are catching up): hold it. */
    hold(ctl, r, 0.);
}

void server_leader_changed(ctl_t *ctl)
{
    /* The member we forwarded to no longer leads as far as we know: it may be hung (a stopped
     * process, a host gone silent without closing its connections), so its answers may never
     * come. Its forwards are routed again (their request ids make a second copy harmless). */
    if (ctl->forwarding_to && ctl->forwarding_to != commit_leader(ctl)) {
        uint64_t old = ctl->forwarding_to;
        ctl->forwarding_to = 0;
        peers_forward_abandon(ctl, old);
    }
    rpc_t *list = ctl->held;
    ctl->held = NULL;
    while (list) {
        rpc_t *r = list;
        list = r->held_next;
        r->held_next = NULL;
        if (commit_ready(ctl) || (commit_leader(ctl) && commit_leader(ctl) != ctl->self_id)) {
            ev_timer_stop(ctl->loop, &r->timer);
            r->stage = RPC_VERIFY;
            route(ctl, r);
        } else {
            r->held_next = ctl->held;   /* still no leader */
            ctl->held = r;
        }
    }
}

/* The leader's side of a forward: the request as the follower's client sent it. */
static void forwarded_host_run(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    if (r->frame.hdr.msg_type == FLURM_REQUEST_SUBMIT_BATCH_JOB)
        peer_host(r);
}

static void forwarded_host_done(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    route(r->ctl, r);
}

void rpc_forwarded(ctl_t *ctl, void *token, uint64_t from, uid_t uid, gid_t gid, const char *addr, const void *frame,
                   size_t len)
{
    rpc_t *r = calloc(1, sizeof *r);
    if (!r || !len || !(r->in = malloc(len))) {
        free(r);
        peers_forward_reply(ctl, token, NULL, 0);
        return;
    }
    memcpy(r->in, frame, len);
    r->need = (uint32_t)len;
    r->ctl = ctl;
    r->fd = -1;
    r->fwd_token = token;
    r->fwd_from = from;
    r->uid = uid;
    r->gid = gid;
    r->t_start = ev_time();
    flurm_buf_init(&r->cmd);
    flurm_buf_init(&r->reply);
    flurm_buf_init(&r->out);
    ev_timer_init(&r->timer, on_timeout, READ_TIMEOUT_S, 0.);
    r->timer.data = r;
    snprintf(r->peer, sizeof r->peer, "%s", addr ? addr : "?");
    /* "ip:port" or "[ip6]:port" -> the address AllocNode is named after */
    char host[64];
    snprintf(host, sizeof host, "%s", r->peer);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    char *h = host;
    if (*h == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&r->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&r->addr;
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        r->addr_len = sizeof *a4;
    } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        r->addr_len = sizeof *a6;
    }
    ctl->nconns++;
    ctl->forwarded_in++;
    if (flurm_frame_decode(r->in, r->need, &r->frame) != FLURM_OK) {
        ctl->malformed_frames++;
        flurm_error("malformed frame (%zu bytes) forwarded for %s", len, r->peer);
        peers_forward_reply(ctl, token, NULL, 0);
        r->fwd_token = NULL;
        rpc_free(ctl, r);
        return;
    }
    r->stage = RPC_VERIFY;
    r->task.run = forwarded_host_run;
    r->task.done = forwarded_host_done;
    pool_submit(ctl->workers, &r->task);
}

static void verify_done(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    ctl_t *ctl = r->ctl;
    if (r->auth_rc != FLURM_OK) {
        ctl->auth_failures++;
        flurm_error("authentication failure for %s from %s: %s",
                    flurm_msg_type_name(r->frame.hdr.msg_type) ? flurm_msg_type_name(r->frame.hdr.msg_type) : "unknown RPC",
                    r->peer, r->auth_reason ? r->auth_reason : flurm_strerror(r->auth_rc));
        r->uid = FLURM_AUTH_UID_ANY;
        rpc_reply_rc(r, r->auth_rc == FLURM_EIO ? 6002 /* ESLURM_AUTH_NET_ERROR */
                                                 : 6000 /* ESLURM_AUTH_CRED_INVALID */);
        server_send_reply(ctl, r);
        return;
    }
    route(ctl, r);
}

static void frame_complete(ctl_t *ctl, rpc_t *r)
{
    ev_io_stop(ctl->loop, &r->io);
    ev_timer_stop(ctl->loop, &r->timer);
    int rc = flurm_frame_decode(r->in, r->need, &r->frame);
    if (rc != FLURM_OK) {
        ctl->malformed_frames++;
        flurm_error("malformed frame (%u bytes) from %s: %s; closing connection", r->need, r->peer,
                    flurm_strerror(rc));
        rpc_free(ctl, r);
        return;
    }
    r->stage = RPC_VERIFY;
    r->task.run = verify_run;
    r->task.done = verify_done;
    pool_submit(ctl->workers, &r->task);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    rpc_t *r = w->data;
    ctl_t *ctl = r->ctl;
    for (;;) {
        uint8_t *dst;
        size_t want;
        if (r->stage == RPC_READ_LEN) {
            dst = r->lenbuf + r->got;
            want = 4 - r->got;
        } else {
            dst = r->in + r->got;
            want = r->need - r->got;
        }
        ssize_t n = read(r->fd, dst, want);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (r->stage != RPC_READ_LEN || r->got)
                flurm_warn("connection from %s closed after %zu of %u bytes of a request", r->peer,
                           r->got, r->stage == RPC_READ_LEN ? 4u : r->need);
            else
                flurm_debug("connection from %s closed without a request", r->peer);
            rpc_free(ctl, r);
            return;
        }
        r->got += (size_t)n;
        if (r->stage == RPC_READ_LEN && r->got == 4) {
            uint32_t len = flurm_frame_length(r->lenbuf);
            if (len == 0 || len > MAX_REQUEST_BYTES) {
                ctl->malformed_frames++;
                flurm_error("insane message length %u from %s; closing connection",
                            (unsigned)(((uint32_t)r->lenbuf[0] << 24) | ((uint32_t)r->lenbuf[1] << 16) |
                                       ((uint32_t)r->lenbuf[2] << 8) | r->lenbuf[3]),
                            r->peer);
                rpc_free(ctl, r);
                return;
            }
            r->in = malloc(len);
            if (!r->in) {
                flurm_error("out of memory for a %u-byte request from %s", len, r->peer);
                rpc_free(ctl, r);
                return;
            }
            r->need = len;
            r->got = 0;
            r->stage = RPC_READ_FRAME;
        } else if (r->stage == RPC_READ_FRAME && r->got == r->need) {
            frame_complete(ctl, r);
            return;
        }
    }
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    rpc_t *r = w->data;
    ctl_t *ctl = r->ctl;
    while (r->out_off < r->out.size) {
        ssize_t n = write(r->fd, r->out.data + r->out_off, r->out.size - r->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            flurm_warn("writing reply to %s: %s", r->peer, strerror(errno));
            rpc_free(ctl, r);
            return;
        }
        r->out_off += (size_t)n;
    }
    uint16_t type = r->frame.hdr.msg_type;
    double usec = (ev_time() - r->t_start) * 1e6;
    ctl->rpc_by_type[type].count++;
    ctl->rpc_by_type[type].total_usec += (uint64_t)usec;
    ctl->rpcs_total++;
    rpc_free(ctl, r);
}

static void sign_run(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    char *cred = NULL;
    r->sign_rc = r->reply_digest_valid
                     ? flurm_auth_sign_digest(r->ctl->auth, r->reply_digest, r->reply_uid, &cred)
                     : flurm_auth_sign(r->ctl->auth, r->reply_type, r->reply.data, r->reply.size,
                                       r->reply_uid, &cred);
    if (r->sign_rc == FLURM_OK) {
        uint16_t version = r->frame.hdr.version ? r->frame.hdr.version : FLURM_PROTOCOL_VERSION;
        if (flurm_frame_encode(&r->out, version, r->frame.hdr.flags, r->reply_type, cred,
                               r->reply.data, r->reply.size) != FLURM_OK)
            r->sign_rc = FLURM_ENOMEM;
    }
    free(cred);
}

static void sign_done(pool_task_t *t)
{
    rpc_t *r = (rpc_t *)t;
    ctl_t *ctl = r->ctl;
    if (r->sign_rc != FLURM_OK) {
        flurm_error("cannot sign reply to %s: %s; closing connection", r->peer,
                    flurm_strerror(r->sign_rc));
        rpc_free(ctl, r);
        return;
    }
    if (r->fwd_token) {
        bool drop = ctl->fault_drop_forward_replies && r->frame.hdr.msg_type == FLURM_REQUEST_SUBMIT_BATCH_JOB;
        if (drop)
            flurm_warn("FLURMCTLD_FAULT: the reply to a forwarded %s from %s dropped",
                       flurm_msg_type_name(r->frame.hdr.msg_type), r->peer);
        peers_forward_reply(ctl, r->fwd_token, drop ? NULL : r->out.data, drop ? 0 : r->out.size);
        r->fwd_token = NULL;
        uint16_t type = r->frame.hdr.msg_type;
        ctl->rpc_by_type[type].count++;
        ctl->rpc_by_type[type].total_usec += (uint64_t)((ev_time() - r->t_start) * 1e6);
        ctl->rpcs_total++;
        rpc_free(ctl, r);
        return;
    }
    r->stage = RPC_WRITE;
    ev_io_init(&r->io, on_writable, r->fd, EV_WRITE);
    r->io.data = r;
    ev_io_start(ctl->loop, &r->io);
    ev_timer_init(&r->timer, on_timeout, WRITE_TIMEOUT_S, 0.);
    r->timer.data = r;
    ev_timer_start(ctl->loop, &r->timer);
}

void server_send_reply(ctl_t *ctl, rpc_t *r)
{
    r->stage = RPC_SIGN;
    r->task.run = sign_run;
    r->task.done = sign_done;
    if (r->reply.err) {
        flurm_error("cannot build reply to %s: %s", r->peer, flurm_strerror(r->reply.err));
        rpc_reply_rc(r, 5003 /* ESLURM_PROTOCOL_INCOMPLETE_PACKET: nearest "could not pack" */);
    }
    pool_submit(ctl->workers, &r->task);
}

static void on_check(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)revents;
    commit_flush(w->data);
}

/* ---- listeners ---- */

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    ctl_t *ctl = w->data;
    for (int burst = 0; burst < 64; burst++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(w->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                flurm_error("accept: %s", strerror(errno));
            return;
        }
        rpc_t *r = calloc(1, sizeof *r);
        if (!r) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        r->ctl = ctl;
        r->fd = fd;
        r->stage = RPC_READ_LEN;
        r->t_start = ev_time();
        memcpy(&r->addr, &ss, sl);
        r->addr_len = sl;
        flurm_buf_init(&r->cmd);
        flurm_buf_init(&r->reply);
        flurm_buf_init(&r->out);
        char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(r->peer, sizeof r->peer, "%s:%s", host, port);
        ev_io_init(&r->io, on_readable, fd, EV_READ);
        r->io.data = r;
        ev_timer_init(&r->timer, on_timeout, READ_TIMEOUT_S, 0.);
        r->timer.data = r;
        ev_io_start(loop, &r->io);
        ev_timer_start(loop, &r->timer);
        ctl->nconns++;
    }
}

/* Several controllers may share a machine: each listens on its own SlurmctldHost address. */
static int listen_addr(ctl_t *ctl, uint16_t port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int rc = getaddrinfo(ctl->bind_addr, ps, &hints, &ai);
    if (rc != 0 || !ai) {
        flurm_error("cannot resolve this controller's address %s: %s", ctl->bind_addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        flurm_error("cannot listen on %s port %u: %s", ctl->bind_addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    ev_io *w = &ctl->listeners[ctl->nlisteners++];
    ev_io_init(w, on_accept, fd, EV_READ);
    w->data = ctl;
    ev_io_start(ctl->loop, w);
    return 0;
}

static int listen_port(ctl_t *ctl, uint16_t port)
{
    if (ctl->bind_addr)
        return listen_addr(ctl, port);
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool v6 = fd >= 0;
    if (!v6)
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (v6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (rc < 0 || listen(fd, 1024) < 0) {
        flurm_error("cannot listen on port %u: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    ev_io *w = &ctl->listeners[ctl->nlisteners++];
    ev_io_init(w, on_accept, fd, EV_READ);
    w->data = ctl;
    ev_io_start(ctl->loop, w);
    return 0;
}

int server_listen(ctl_t *ctl)
{
    uint32_t count = ctl->conf->slurmctld_port_count ? ctl->conf->slurmctld_port_count : 1;
    if (count > CTL_MAX_LISTENERS) {
        flurm_error("SlurmctldPort range of %u ports exceeds the %d supported", count, CTL_MAX_LISTENERS);
        return -1;
    }
    for (uint32_t i = 0; i < count; i++)
        if (listen_port(ctl, (uint16_t)(ctl->conf->slurmctld_port + i)) < 0)
            return -1;
    ev_check_init(&ctl->flush, on_check);
    ctl->flush.data = ctl;
    ev_check_start(ctl->loop, &ctl->flush);
    flurm_info("listening for SLURM clients on port %u%s", ctl->conf->slurmctld_port,
               count > 1 ? " (and the rest of its range)" : "");
    return 0;
}

void server_close_listeners(ctl_t *ctl)
{
    for (int i = 0; i < ctl->nlisteners; i++) {
        ev_io_stop(ctl->loop, &ctl->listeners[i]);
        close(ctl->listeners[i].fd);
    }
    ctl->nlisteners = 0;
}
