/* tests/fuzz/fuzz_chan.c — libFuzzer target: the bytes a peer can put on a FLURM channel.
 *
 * The first input byte picks what the rest is:
 *   0  a frame from someone without the keys: header, HELLO name, REFUSE, DATA open (must fail
 *      unless it is a frame this channel sealed; it never is)
 *   1  what a peer holding the keys can send: the rest is sealed, opened (must round-trip) and
 *      decoded as a NodeRequest, re-packed
 *   2  a NodeReply as flurmnd decodes it once opened
 *   3  a credential payload as munged hands it back (HELLO and WELCOME parsers)
 * No crash, no leak, no read past the input (ASan), no UB (UBSan), whatever the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/chan.h>

#include "auth/chan_internal.h"
#include "node.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t K1[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t K2[32] = { 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static void node_request(const uint8_t *p, size_t n)
{
    Flurm__Node__NodeRequest *r = flurm__node__node_request__unpack(NULL, n, p);
    if (!r)
        return;
    size_t len = flurm__node__node_request__get_packed_size(r);
    uint8_t *out = malloc(len ? len : 1);
    if (out)
        flurm__node__node_request__pack(r, out);
    free(out);
    flurm__node__node_request__free_unpacked(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    flurm_buf_t out;
    flurm_buf_init(&out);
    switch (data[0] & 3) {
    case 0: {
        char name[FLURM_CHAN_NAME_MAX + 1];
        char text[256];
        flurm_chan_refuse_code_t code;
        flurm_chan_frame_type(p, n);
        flurm_chan_hello_name(p, n, name);
        flurm_chan_refusal(p, n, &code, text, sizeof text);
        flurm_chan_t *listener = chan_from_keys(K1, K2);
        if (listener && flurm_chan_open(listener, p, n, &out, NULL) == FLURM_OK)
            abort();   /* a forged frame opened */
        flurm_chan_free(listener);
        break;
    }
    case 1: {
        flurm_chan_t *dialer = chan_from_keys(K2, K1), *listener = chan_from_keys(K1, K2);
        flurm_buf_t sealed;
        flurm_buf_init(&sealed);
        if (dialer && listener && flurm_chan_seal(dialer, p, n, &sealed) == FLURM_OK) {
            if (flurm_chan_open(listener, sealed.data, sealed.size, &out, NULL) != FLURM_OK ||
                out.size != n || (n && memcmp(out.data, p, n) != 0))
                abort();   /* a sealed frame must open to what was sealed */
            node_request(out.data, out.size);
            if (flurm_chan_open(listener, sealed.data, sealed.size, &out, NULL) == FLURM_OK)
                abort();   /* and only once */
        }
        flurm_buf_release(&sealed);
        flurm_chan_free(dialer);
        flurm_chan_free(listener);
        break;
    }
    case 2: {
        Flurm__Node__NodeReply *r = flurm__node__node_reply__unpack(NULL, n, p);
        if (r)
            flurm__node__node_reply__free_unpacked(r, NULL);
        break;
    }
    default:
        chan_payload_parses(p, n, 'H');
        chan_payload_parses(p, n, 'W');
        break;
    }
    flurm_buf_release(&out);
    return 0;
}
