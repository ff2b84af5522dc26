/* include/flurm/chan.h — FLURM's authenticated channels: flurmnd <-> flurmctld now, controller
 * <-> controller (Raft) and admin tools on the same mechanism.
 *
 * A connection (one nng pipe) starts with a handshake: the dialer sends HELLO, a munge
 * credential whose payload carries its purpose, the name it speaks for and a fresh X25519
 * public key; the listener answers WELCOME, a munge credential carrying its own name, a fresh
 * X25519 public key and the BLAKE2b digest of the HELLO payload it answers. Each side decodes the
 * other's credential once (munged says who made it: uid, gid, origin address) and both derive
 * one key per direction from the two key pairs (libsodium crypto_kx). Every later message is a
 * DATA frame sealed with ChaCha20-Poly1305 under its direction's key, its nonce a sequence
 * number: a tampered, forged, reflected or replayed frame fails to open. A replayed HELLO is
 * refused by munged (replay cache) and, decoded elsewhere, yields nothing: its secret key never
 * left the dialer. One munge encode and one decode per side per connection, none per message.
 *
 * Who may speak for what (uid, name, address) is the caller's policy: accept/finish report what
 * the credential proved in flurm_chan_peer_t; flurm_chan_addr_matches() is the address rule.
 *
 * Frames (integers big-endian), all starting with the 4-byte header "FC" 0x01 TYPE:
 *   HELLO    u16 name_len, name (as in the credential, so a listener can pick its policy before
 *            decoding), then the munge credential text
 *   WELCOME  the munge credential text
 *   DATA     u64 seq, ciphertext, 16-byte tag; additional data = the first 12 bytes
 *   REFUSE   u16 code (FLURM_CHAN_REFUSE_*), then text: unauthenticated, a hint only (a
 *            listener's answer to a frame it could not accept; the dialer may handshake again)
 *
 * flurm_chan_t is not thread-safe: seal and open of one channel must not run concurrently.
 * Handshake functions block on munged: call them off any event loop. */
#ifndef FLURM_CHAN_H
#define FLURM_CHAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <flurm/auth.h>
#include <flurm/buf.h>
#include <flurm/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLURM_CHAN_NAME_MAX 63      /* longest name a peer may claim */
#define FLURM_CHAN_OVERHEAD 28      /* DATA bytes beyond the plaintext: header, seq, tag */
#define FLURM_CHAN_WINDOW 64        /* DATA may arrive this far out of order (REQ contexts) */

/* What a connection is for; a credential made for one is refused for another. */
typedef enum flurm_chan_purpose {
    FLURM_CHAN_NODE = 1,            /* flurmnd -> flurmctld node port */
    FLURM_CHAN_PEER = 2,            /* flurmctld -> flurmctld */
    FLURM_CHAN_ADMIN = 3,           /* an admin tool -> flurmctld */
} flurm_chan_purpose_t;

typedef enum flurm_chan_frame {
    FLURM_CHAN_FRAME_BAD = 0,       /* not a channel frame (wrong magic, version or type) */
    FLURM_CHAN_FRAME_HELLO = 1,
    FLURM_CHAN_FRAME_WELCOME = 2,
    FLURM_CHAN_FRAME_DATA = 3,
    FLURM_CHAN_FRAME_REFUSE = 4,
} flurm_chan_frame_t;

/* REFUSE codes. Numbers are never reused. */
typedef enum flurm_chan_refuse_code {
    FLURM_CHAN_REFUSE_UNAUTHENTICATED = 1,   /* no session on this connection: send HELLO */
    FLURM_CHAN_REFUSE_CREDENTIAL = 2,        /* the HELLO's credential did not verify */
    FLURM_CHAN_REFUSE_UNAUTHORIZED = 3,      /* verified, but that uid/name/address may not */
    FLURM_CHAN_REFUSE_MALFORMED = 4,         /* not a frame this listener accepts */
    FLURM_CHAN_REFUSE_UNAVAILABLE = 5,       /* munged unreachable or out of memory: retry */
} flurm_chan_refuse_code_t;

/* What the other end's credential proved. */
typedef struct flurm_chan_peer {
    uid_t uid;                      /* the credential's uid and gid (munged vouches) */
    gid_t gid;
    uint32_t addr;                  /* munged's origin IPv4 address, network order; 0 unknown */
    flurm_chan_purpose_t purpose;
    char name[FLURM_CHAN_NAME_MAX + 1];   /* the node or controller it speaks for */
    uint8_t reserved_[32];
} flurm_chan_peer_t;

typedef struct flurm_chan_hs flurm_chan_hs_t;   /* a dialer's handshake in progress */
typedef struct flurm_chan flurm_chan_t;         /* an established channel's keys and counters */

/* Dialer: a HELLO for PURPOSE speaking for NAME (at most FLURM_CHAN_NAME_MAX bytes) into OUT
 * (appended), and *HS to finish with. Blocks on munged. FLURM_EINVAL (bad name), FLURM_EIO /
 * FLURM_EAUTH (munged unreachable / refused), FLURM_ENOMEM; *REASON (may be NULL) then points
 * to static text. */
FLURM_API int flurm_chan_hello(flurm_auth_t *a, flurm_chan_purpose_t purpose, const char *name,
                               flurm_chan_hs_t **hs, flurm_buf_t *out, const char **reason);

/* The name a HELLO frame claims, into NAME (FLURM_CHAN_NAME_MAX + 1 bytes); no credential check
 * (flurm_chan_accept() checks it equals the credential's). FLURM_EINVAL if FRAME is no HELLO. */
FLURM_API int flurm_chan_hello_name(const void *frame, size_t len, char *name);

/* The listener's policy: NULL if PEER (what its credential proved) may hold the channel, else
 * why not (text that lives at least until the accept call returns). ARG is the caller's. */
typedef const char *(*flurm_chan_authorize_fn)(void *arg, const flurm_chan_peer_t *peer);

/* Listener: verifies the HELLO FRAME for PURPOSE, asks AUTHORIZE (NULL: anyone munge vouches
 * for) and, on success, fills *PEER, makes *CHAN and appends a WELCOME naming MY_NAME to OUT.
 * Blocks on munged: one decode, and one encode for an authorized peer only. FLURM_EAUTH: the
 * credential is invalid, expired, replayed, or its payload malformed, of another purpose, or
 * naming another name than the frame; FLURM_EPERM: AUTHORIZE refused (*PEER is filled);
 * FLURM_EIO: munged unreachable; FLURM_EINVAL: FRAME is no HELLO. *REASON (may be NULL) says
 * why. Nothing is sent: the caller answers OUT, or a REFUSE. */
FLURM_API int flurm_chan_accept(flurm_auth_t *a, flurm_chan_purpose_t purpose, const char *my_name,
                                const void *frame, size_t len, flurm_chan_authorize_fn authorize,
                                void *arg, flurm_chan_peer_t *peer, flurm_chan_t **chan,
                                flurm_buf_t *out, const char **reason);

/* Dialer: verifies the WELCOME FRAME answering HS; on success fills *PEER (the listener) and
 * makes *CHAN. HS is consumed either way. Errors as flurm_chan_accept(); a WELCOME answering
 * another HELLO is FLURM_EAUTH. */
FLURM_API int flurm_chan_finish(flurm_auth_t *a, flurm_chan_hs_t *hs, const void *frame, size_t len,
                                flurm_chan_peer_t *peer, flurm_chan_t **chan, const char **reason);

FLURM_API void flurm_chan_hs_free(flurm_chan_hs_t *hs);   /* NULL is fine */
FLURM_API void flurm_chan_free(flurm_chan_t *c);          /* NULL is fine; wipes the keys */

/* The type of FRAME from its header alone. */
FLURM_API flurm_chan_frame_t flurm_chan_frame_type(const void *frame, size_t len);

/* Appends to OUT a DATA frame carrying PLAIN under C's send key and the next sequence number.
 * FLURM_ENOMEM; FLURM_ERANGE once 2^64 - 1 frames were sent (open a new channel). */
FLURM_API int flurm_chan_seal(flurm_chan_t *c, const void *plain, size_t len, flurm_buf_t *out);

/* Opens the DATA FRAME into PLAIN (replaced). FLURM_EAUTH with *REASON "bad tag" (tampered,
 * forged, another channel's or this side's own frame) or "replayed" (a sequence number already
 * seen, or older than the window); FLURM_EINVAL: not a DATA frame; FLURM_ENOMEM. A frame that
 * fails leaves C as it was. */
FLURM_API int flurm_chan_open(flurm_chan_t *c, const void *frame, size_t len, flurm_buf_t *plain,
                              const char **reason);

/* Appends a REFUSE frame with CODE and TEXT (truncated to 200 bytes) to OUT. */
FLURM_API int flurm_chan_refuse(flurm_chan_refuse_code_t code, const char *text, flurm_buf_t *out);
/* Reads a REFUSE frame: *CODE and TEXT (TEXT_SIZE bytes, NUL-terminated). FLURM_EINVAL if FRAME
 * is none. */
FLURM_API int flurm_chan_refusal(const void *frame, size_t len, flurm_chan_refuse_code_t *code,
                                 char *text, size_t text_size);

/* The origin address munged puts in this host's credentials (network order), learned by one
 * encode + decode. Blocks on munged. */
FLURM_API int flurm_chan_local_origin(flurm_auth_t *a, uint32_t *addr, const char **reason);

/* The address rule: true if ORIGIN (a credential's origin, network order) is an IPv4 address
 * HOST (a name or a dotted quad) resolves to, or if HOST resolves to a loopback address and
 * ORIGIN is LOCAL_ORIGIN (a peer configured on this very host must hold a credential of this
 * host's munged). Resolves HOST: may block on the resolver. */
FLURM_API bool flurm_chan_addr_matches(const char *host, uint32_t origin, uint32_t local_origin);

#ifdef __cplusplus
}
#endif
#endif
