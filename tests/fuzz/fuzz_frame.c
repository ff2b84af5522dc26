/* tests/fuzz/fuzz_frame.c — libFuzzer target: the bytes a peer can send us.
 *
 * Input = one frame without its u32 prefix. Decodes the frame, then the body as the message type
 * the header claims, re-packs what decoded, and frees it: no crash, no leak, no read past the
 * input (ASan), no UB (UBSan), whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <flurm/codec.h>
#include <flurm/msg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flurm_frame_t f;
    if (flurm_frame_decode(data, size, &f) != FLURM_OK)
        return 0;
    void *msg = NULL;
    if (flurm_msg_unpack(f.hdr.msg_type, f.body, f.hdr.body_length, &msg) == FLURM_OK && msg) {
        flurm_buf_t b;
        flurm_buf_init(&b);
        flurm_msg_pack(f.hdr.msg_type, msg, &b);
        flurm_buf_release(&b);
        flurm_msg_free(f.hdr.msg_type, msg);
    }
    return 0;
}
