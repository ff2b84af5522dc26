/* include/flurm/raft_wire.h — Raft peer messages (flurm_raft_msg_t) and forwarded client
 * requests as bytes: proto/raft.proto.
 *
 * Plain bytes in, plain bytes out: the host seals them in its authenticated channel
 * (include/flurm/chan.h) and sends one encoding per nng message.
 *
 * Each message type carries exactly the fields raft.h lists for it:
 *   VOTE            term, log_index, log_term, flags PRE_VOTE | TRANSFER
 *   VOTE_REPLY      term, flags PRE_VOTE | GRANTED
 *   APPEND          term, log_index, log_term, commit, entries
 *   APPEND_REPLY,
 *   SNAPSHOT_REPLY  term, flags SUCCESS, match, reject_index, conflict_term, conflict_index
 *   SNAPSHOT        term, snapshot (index, term, voters, learners), data/len
 *   TIMEOUT_NOW     term
 * plus type, from and to. Other members (other flags, reserved*) are not sent; decoding yields
 * them zero. So decode(encode(m)) equals m wherever the type uses a member, and re-encoding a
 * decoded message gives the same bytes.
 *
 * Both directions enforce the same rules (FLURM_EINVAL), so whatever encodes also decodes, and a
 * decoded message passes flurm_raft_step()'s own checks:
 *   - type is one of FLURM_RAFT_MSG_*; from and to are nonzero;
 *   - VOTE, APPEND: log_term <= term;
 *   - APPEND: at most FLURM_RAFT_WIRE_MAX_ENTRIES entries; entry i has index log_index + 1 + i,
 *     terms never decrease, start >= log_term, end <= term; type COMMAND, NOOP or CONFIG; data
 *     != NULL when len != 0 (encode); a CONFIG entry's data is a canonical configuration
 *     (flurm_raft_config_decode());
 *   - APPEND_REPLY, SNAPSHOT_REPLY: success carries no reject fields; conflict_index <=
 *     reject_index; conflict_term and conflict_index are both zero or both nonzero;
 *   - SNAPSHOT: 1 <= n_voters, n_voters + n_learners <= FLURM_RAFT_MAX_MEMBERS, voters and
 *     learners (voters[n_voters ..]) nonzero and all distinct;
 *     snapshot.index >= 1; 1 <= snapshot.term <= term; data != NULL when len != 0 (encode).
 * The recipient id is not checked against the host's own (the decoder does not know it).
 *
 * Beside Raft messages a PeerMessage may carry a client request a follower forwards to the
 * leader (Forward) and the leader's answer (ForwardReply); flurm_raft_peer_decode() takes all
 * three, flurm_raft_msg_decode() Raft messages only. Their rules (FLURM_EINVAL both ways):
 *   - from and to are nonzero; no term is sent (decoding yields the reserved members zero);
 *   - FORWARD: client_addr at most FLURM_RAFT_WIRE_MAX_ADDR bytes (NULL is "");
 *     request not empty, request != NULL;
 *   - FORWARD_REPLY: reply != NULL when len != 0 (an empty reply: the leader handled nothing;
 *     it decodes as reply NULL, len 0).
 *
 * Thread-safe (no shared state). */
#ifndef FLURM_RAFT_WIRE_H
#define FLURM_RAFT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <flurm/common.h>
#include <flurm/buf.h>
#include <flurm/raft.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLURM_RAFT_WIRE_VERSION 1              /* proto/raft.proto PROTOCOL_VERSION */
#define FLURM_RAFT_WIRE_MAX_ENTRIES 65536u     /* entries in one APPEND (config max_entries_per_msg) */
#define FLURM_RAFT_WIRE_MAX_ADDR 255u          /* bytes of a Forward's client_addr */

/* A client request forwarded from member FROM (a follower) to member TO (the leader it
 * believes in): proto/raft.proto Forward. */
typedef struct flurm_raft_forward {
    uint64_t from, to;
    uint64_t request_id;          /* the follower's, unique among its forwards in flight */
    uint32_t uid, gid;            /* what munge authenticated at the follower */
    const char *client_addr;      /* the client's "ip:port" (NUL-terminated; NULL: "") */
    const void *request;          /* the SLURM frame as received, without the length prefix */
    size_t len;
    uint64_t reserved[2];
} flurm_raft_forward_t;

/* The leader's answer to a Forward: proto/raft.proto ForwardReply. */
typedef struct flurm_raft_forward_reply {
    uint64_t from, to;
    uint64_t request_id;          /* the Forward's */
    const void *reply;            /* the SLURM reply frame for the client; len 0: handled nothing */
    size_t len;
    uint64_t reserved[2];
} flurm_raft_forward_reply_t;

/* What a PeerMessage carries. */
typedef enum flurm_raft_wire_kind {
    FLURM_RAFT_WIRE_RAFT = 0,              /* a Raft message: MSG */
    FLURM_RAFT_WIRE_FORWARD = 1,           /* FORWARD */
    FLURM_RAFT_WIRE_FORWARD_REPLY = 2,     /* FORWARD_REPLY */
} flurm_raft_wire_kind_t;

/* A decoded message. KIND says which member holds it; the others are zero. MSG is the view to
 * hand to flurm_raft_step() (FLURM_RAFT_RECEIVE). Every pointer (MSG's entries, each entry's
 * data, data; FORWARD's client_addr and request; FORWARD_REPLY's reply) points into memory this
 * object owns, valid until flurm_raft_wire_msg_free(). Read-only for the caller; the library
 * allocates it, so members may be added at the end. */
typedef struct flurm_raft_wire_msg {
    flurm_raft_msg_t msg;
    void *priv_;                               /* the library's */
    flurm_raft_wire_kind_t kind;
    flurm_raft_forward_t forward;
    flurm_raft_forward_reply_t forward_reply;
} flurm_raft_wire_msg_t;

/* Appends the encoding of M, sent by a member of cluster CLUSTER (slurm.conf ClusterName,
 * NUL-terminated), to OUT (an owned buffer; flurm_buf_init). Returns FLURM_OK, FLURM_EINVAL (M
 * breaks a rule above, or a NULL argument), FLURM_ENOMEM; or OUT's sticky error if it already
 * has one. On FLURM_EINVAL OUT is unchanged; on FLURM_ENOMEM OUT keeps its bytes and records the
 * error (flurm_buf_t semantics). */
FLURM_API int flurm_raft_msg_encode(const flurm_raft_msg_t *m, const char *cluster, flurm_buf_t *out);

/* Decodes LEN bytes at DATA, expected from a member of cluster CLUSTER, into a new *OUT (free it
 * with flurm_raft_wire_msg_free). The bytes are not referenced afterwards. Errors (*OUT = NULL,
 * nothing allocated):
 *   FLURM_EPROTO   another PROTOCOL_VERSION (or none);
 *   FLURM_EPERM    the sender names another cluster;
 *   FLURM_ENOTSUP  a Forward or ForwardReply (flurm_raft_peer_decode() takes those);
 *   FLURM_EINVAL   not a PeerMessage (garbled, truncated), no body, or a rule above broken;
 *                  also a NULL argument;
 *   FLURM_ENOMEM.
 * The version is checked before the cluster, the cluster before the body. */
FLURM_API int flurm_raft_msg_decode(const void *data, size_t len, const char *cluster,
                                    flurm_raft_wire_msg_t **out);

/* Any PeerMessage: as flurm_raft_msg_decode(), but a Forward or ForwardReply decodes too
 * ((*OUT)->kind says which; the rules above, FLURM_EINVAL) instead of being FLURM_ENOTSUP. The
 * version is checked before the cluster, the cluster before the body. */
FLURM_API int flurm_raft_peer_decode(const void *data, size_t len, const char *cluster,
                                     flurm_raft_wire_msg_t **out);

/* Appends the encoding of F (sent by a member of CLUSTER) to OUT. Returns and buffer semantics
 * as flurm_raft_msg_encode(): FLURM_EINVAL (a rule above, a NULL argument: OUT unchanged),
 * FLURM_ENOMEM, or OUT's sticky error. */
FLURM_API int flurm_raft_forward_encode(const flurm_raft_forward_t *f, const char *cluster, flurm_buf_t *out);

/* Appends the encoding of R (sent by a member of CLUSTER) to OUT; as flurm_raft_forward_encode(). */
FLURM_API int flurm_raft_forward_reply_encode(const flurm_raft_forward_reply_t *r, const char *cluster,
                                              flurm_buf_t *out);

FLURM_API void flurm_raft_wire_msg_free(flurm_raft_wire_msg_t *w);   /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
