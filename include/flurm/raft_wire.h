/* include/flurm/raft_wire.h — Raft peer messages (flurm_raft_msg_t) as bytes: proto/raft.proto.
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
 *   SNAPSHOT        term, snapshot (index, term, voters), data/len
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
 *     terms never decrease, start >= log_term, end <= term; type COMMAND or NOOP; data != NULL
 *     when len != 0 (encode);
 *   - APPEND_REPLY, SNAPSHOT_REPLY: success carries no reject fields; conflict_index <=
 *     reject_index; conflict_term and conflict_index are both zero or both nonzero;
 *   - SNAPSHOT: 1 <= n_voters <= FLURM_RAFT_MAX_MEMBERS, voters nonzero and distinct;
 *     snapshot.index >= 1; 1 <= snapshot.term <= term; data != NULL when len != 0 (encode).
 * The recipient id is not checked against the host's own (the decoder does not know it).
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

/* A decoded message. MSG is the view to hand to flurm_raft_step() (FLURM_RAFT_RECEIVE); its
 * pointers (entries, each entry's data, data) point into memory this object owns, valid until
 * flurm_raft_wire_msg_free(). Read-only for the caller. */
typedef struct flurm_raft_wire_msg {
    flurm_raft_msg_t msg;
    void *priv_;                               /* the library's */
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
 *   FLURM_ENOTSUP  a message of the protocol that this library does not handle yet (Forward,
 *                  ForwardReply);
 *   FLURM_EINVAL   not a PeerMessage (garbled, truncated), no body, or a rule above broken;
 *                  also a NULL argument;
 *   FLURM_ENOMEM.
 * The version is checked before the cluster, the cluster before the body. */
FLURM_API int flurm_raft_msg_decode(const void *data, size_t len, const char *cluster,
                                    flurm_raft_wire_msg_t **out);

FLURM_API void flurm_raft_wire_msg_free(flurm_raft_wire_msg_t *w);   /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
