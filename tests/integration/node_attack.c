/* tests/integration/node_attack.c — what an unprivileged local user can try against the node
 * channel (test_security.py runs it as such a user, and as root for the replay cases).
 *
 *   node_attack [-m MUNGE_SOCKET] [-t TIMEOUT_MS] URL MODE NODE [ARG]
 *
 * MODE:
 *   plain-register NODE        the attack of the security issue: plain protobuf, no channel
 *   plain-end NODE JOB         JobEnd FAILED exit 99 for JOB, no channel
 *   plain-poll NODE            a Poll, no channel
 *   register NODE              HELLO with the caller's own credential, then Register
 *   end NODE JOB               HELLO, Register, then JobEnd FAILED exit 99 for JOB
 *   poll NODE                  HELLO, Register, then a Poll (commands it gets are printed)
 *   as-other NODE OTHER        HELLO for NODE, then a Register naming OTHER
 *   replay NODE                HELLO, a JobStarted (answered), then the same frame again
 *   tamper NODE                HELLO, a JobStarted with one ciphertext bit flipped, then an
 *                              intact one (the session must survive the dropped frame)
 *   garbage NODE               HELLO, then a DATA frame of random bytes
 *
 * Prints one line per exchange: "ACK", "ERROR code=N text=...", "REFUSED code=N text=...",
 * "COMMANDS n=N [launch=JOB ...]", "TIMEOUT" (nothing came back: dropped), or "NOHELLO why"
 * when the handshake failed. Exit status 0 unless the tool itself failed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <flurm/chan.h>

#include "node.pb-c.h"

static nng_socket g_sock;
static flurm_auth_t *g_auth;
static flurm_chan_t *g_chan;
static uint64_t g_boot = 0x5eed5eed5eed5eedull;

/* Sends BODY and prints what came back. Returns the reply (caller frees) or NULL. */
static nng_msg *exchange(const void *body, size_t len)
{
    nng_msg *m, *r = NULL;
    if (nng_msg_alloc(&m, len) != 0)
        exit(3);
    memcpy(nng_msg_body(m), body, len);
    if (nng_sendmsg(g_sock, m, 0) != 0) {
        nng_msg_free(m);
        puts("TIMEOUT");
        return NULL;
    }
    int rv = nng_recvmsg(g_sock, &r, 0);
    if (rv != 0) {
        puts("TIMEOUT");
        return NULL;
    }
    return r;
}

static void print_reply(const void *body, size_t len, bool sealed)
{
    if (flurm_chan_frame_type(body, len) == FLURM_CHAN_FRAME_REFUSE) {
        flurm_chan_refuse_code_t code;
        char text[256];
        flurm_chan_refusal(body, len, &code, text, sizeof text);
        printf("REFUSED code=%d text=%s\n", (int)code, text);
        return;
    }
    flurm_buf_t plain;
    flurm_buf_init(&plain);
    const void *p = body;
    size_t n = len;
    if (sealed) {
        if (!g_chan || flurm_chan_open(g_chan, body, len, &plain, NULL) != FLURM_OK) {
            puts("UNOPENABLE");
            return;
        }
        p = plain.data;
        n = plain.size;
    }
    Flurm__Node__NodeReply *r = flurm__node__node_reply__unpack(NULL, n, p);
    flurm_buf_release(&plain);
    if (!r) {
        puts("UNDECODABLE");
        return;
    }
    if (r->error) {
        printf("ERROR code=%d text=%s\n", (int)r->error, r->error_text);
    } else if (r->ack) {
        puts("ACK");
    } else {
        printf("COMMANDS n=%zu", r->n_commands);
        for (size_t i = 0; i < r->n_commands; i++)
            if (r->commands[i]->cmd_case == FLURM__NODE__COMMAND__CMD_LAUNCH)
                printf(" launch=%u", r->commands[i]->launch->job_id);
        putchar('\n');
    }
    flurm__node__node_reply__free_unpacked(r, NULL);
}

/* REQ packed into OUT, sealed when a channel is up. */
static void pack_request(Flurm__Node__NodeRequest *req, const char *node, flurm_buf_t *out)
{
    req->version = FLURM__NODE__VERSION__PROTOCOL_VERSION;
    req->node_name = (char *)node;
    req->boot_id = g_boot;
    size_t len = flurm__node__node_request__get_packed_size(req);
    uint8_t *raw = malloc(len ? len : 1);
    if (!raw)
        exit(3);
    flurm__node__node_request__pack(req, raw);
    out->size = 0;
    if (g_chan)
        flurm_chan_seal(g_chan, raw, len, out);
    else
        flurm_pack_raw(out, raw, len);
    free(raw);
}

static void send_request(Flurm__Node__NodeRequest *req, const char *node)
{
    flurm_buf_t b;
    flurm_buf_init(&b);
    pack_request(req, node, &b);
    nng_msg *r = exchange(b.data, b.size);
    if (r) {
        print_reply(nng_msg_body(r), nng_msg_len(r), g_chan != NULL);
        nng_msg_free(r);
    }
    flurm_buf_release(&b);
}

static void req_register(const char *node)
{
    Flurm__Node__Register g = FLURM__NODE__REGISTER__INIT;
    g.cpus = 64;   /* fake hardware */
    g.real_memory_mb = 1 << 20;
    g.hostname = (char *)"impostor";
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_REGISTER;
    req.register_ = &g;
    send_request(&req, node);
}

static void fill_end(Flurm__Node__NodeRequest *req, Flurm__Node__JobEvent *ev, Flurm__Node__JobEnd *e,
                     uint32_t job)
{
    e->job_id = job;
    e->state = FLURM__NODE__JOB_END_STATE__JOB_END_FAILED;
    e->wait_status = 99 << 8;
    e->start_time = 1;
    e->end_time = 2;
    ev->event_case = FLURM__NODE__JOB_EVENT__EVENT_ENDED;
    ev->ended = e;
    req->body_case = FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT;
    req->job_event = ev;
}

static void req_end(const char *node, uint32_t job)
{
    Flurm__Node__JobEnd e = FLURM__NODE__JOB_END__INIT;
    Flurm__Node__JobEvent ev = FLURM__NODE__JOB_EVENT__INIT;
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    fill_end(&req, &ev, &e, job);
    send_request(&req, node);
}

static void req_poll(const char *node)
{
    Flurm__Node__Poll p = FLURM__NODE__POLL__INIT;
    p.wait_ms = 200;
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_POLL;
    req.poll = &p;
    send_request(&req, node);
}

/* A JobStarted: answered (ERROR_NOT_REGISTERED for our boot id, or ACK) without changing state. */
static void started_frame(const char *node, flurm_buf_t *out)
{
    Flurm__Node__JobStarted js = FLURM__NODE__JOB_STARTED__INIT;
    js.job_id = 999999;
    Flurm__Node__JobEvent ev = FLURM__NODE__JOB_EVENT__INIT;
    ev.event_case = FLURM__NODE__JOB_EVENT__EVENT_STARTED;
    ev.started = &js;
    Flurm__Node__NodeRequest req = FLURM__NODE__NODE_REQUEST__INIT;
    req.body_case = FLURM__NODE__NODE_REQUEST__BODY_JOB_EVENT;
    req.job_event = &ev;
    pack_request(&req, node, out);
}

static void send_frame(const flurm_buf_t *b)
{
    nng_msg *r = exchange(b->data, b->size);
    if (r) {
        print_reply(nng_msg_body(r), nng_msg_len(r), true);
        nng_msg_free(r);
    }
}

static bool hello(const char *node)
{
    flurm_chan_hs_t *hs = NULL;
    flurm_buf_t h;
    flurm_buf_init(&h);
    const char *why = "?";
    if (flurm_chan_hello(g_auth, FLURM_CHAN_NODE, node, &hs, &h, &why) != FLURM_OK) {
        printf("NOHELLO %s\n", why);
        return false;
    }
    nng_msg *r = exchange(h.data, h.size);
    flurm_buf_release(&h);
    if (!r) {
        flurm_chan_hs_free(hs);
        return false;
    }
    flurm_chan_peer_t peer;
    const void *body = nng_msg_body(r);
    size_t len = nng_msg_len(r);
    if (flurm_chan_frame_type(body, len) == FLURM_CHAN_FRAME_REFUSE) {
        print_reply(body, len, false);
        flurm_chan_hs_free(hs);
        nng_msg_free(r);
        return false;
    }
    int rc = flurm_chan_finish(g_auth, hs, body, len, &peer, &g_chan, &why);
    nng_msg_free(r);
    if (rc != FLURM_OK) {
        printf("NOHELLO %s\n", why);
        return false;
    }
    printf("WELCOME from=%s uid=%u\n", peer.name, (unsigned)peer.uid);
    return true;
}

int main(int argc, char **argv)
{
    const char *msock = NULL;
    int timeout_ms = 3000, opt;
    while ((opt = getopt(argc, argv, "m:t:")) != -1) {
        if (opt == 'm')
            msock = optarg;
        else if (opt == 't')
            timeout_ms = atoi(optarg);
        else
            return 2;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "usage: node_attack [-m SOCKET] [-t MS] URL MODE NODE [ARG]\n");
        return 2;
    }
    const char *url = argv[optind], *mode = argv[optind + 1], *node = argv[optind + 2];
    const char *arg = argc - optind > 3 ? argv[optind + 3] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_auth = flurm_auth_new(msock, 0);
    if (!g_auth || nng_req0_open(&g_sock) != 0 || nng_dial(g_sock, url, NULL, 0) != 0) {
        fprintf(stderr, "node_attack: cannot dial %s\n", url);
        return 3;
    }
    nng_setopt_ms(g_sock, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_setopt_ms(g_sock, NNG_OPT_SENDTIMEO, timeout_ms);
    nng_setopt_ms(g_sock, NNG_OPT_REQ_RESENDTIME, 600000);   /* no silent resends of our own */
    uint32_t job = arg ? (uint32_t)strtoul(arg, NULL, 10) : 0;

    if (!strcmp(mode, "plain-register")) {
        req_register(node);
    } else if (!strcmp(mode, "plain-end")) {
        req_end(node, job);
    } else if (!strcmp(mode, "plain-poll")) {
        req_poll(node);
    } else if (!hello(node)) {
        /* printed */
    } else if (!strcmp(mode, "register")) {
        req_register(node);
    } else if (!strcmp(mode, "end")) {
        req_register(node);
        req_end(node, job);
    } else if (!strcmp(mode, "poll")) {
        req_register(node);
        req_poll(node);
    } else if (!strcmp(mode, "as-other")) {
        req_register(arg ? arg : "n2");
    } else if (!strcmp(mode, "replay") || !strcmp(mode, "tamper")) {
        flurm_buf_t f;
        flurm_buf_init(&f);
        started_frame(node, &f);
        if (!strcmp(mode, "replay")) {
            send_frame(&f);
            send_frame(&f);   /* the same bytes again */
        } else {
            f.data[f.size - 20] ^= 0x04;
            send_frame(&f);
            f.size = 0;
            started_frame(node, &f);
            send_frame(&f);
        }
        flurm_buf_release(&f);
    } else if (!strcmp(mode, "garbage")) {
        uint8_t junk[64] = { 'F', 'C', 1, FLURM_CHAN_FRAME_DATA };
        for (size_t i = 4; i < sizeof junk; i++)
            junk[i] = (uint8_t)(i * 37 + 11);
        nng_msg *r = exchange(junk, sizeof junk);
        if (r) {
            print_reply(nng_msg_body(r), nng_msg_len(r), true);
            nng_msg_free(r);
        }
    } else {
        fprintf(stderr, "node_attack: unknown mode %s\n", mode);
        return 2;
    }
    flurm_chan_free(g_chan);
    flurm_auth_free(g_auth);
    nng_close(g_sock);
    return 0;
}
