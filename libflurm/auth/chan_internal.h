/* libflurm/auth/chan_internal.h — test hooks of the channel layer (fuzzing without munged). */
#ifndef FLURM_CHAN_INTERNAL_H
#define FLURM_CHAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flurm/chan.h>

/* A channel whose keys are given, as a handshake would have derived them. */
flurm_chan_t *chan_from_keys(const uint8_t rx[32], const uint8_t tx[32]);

/* True if IN parses as a HELLO (TAG 'H') or WELCOME ('W') credential payload. */
bool chan_payload_parses(const uint8_t *in, size_t len, char tag);

#endif
