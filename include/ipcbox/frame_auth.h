/* Authentication of the frame protocol (version 2): a shared secret (the
 * token) proved by HMAC-SHA256 challenge-response, in both directions,
 * without the token ever crossing the wire. See docs/frame-protocol.md,
 * "Authentication".
 *
 *     client                                  server
 *     HELLO v2, flags AUTH   ───────────────►
 *                            ◄───────────────  HELLO v2, flags AUTH
 *                            ◄───────────────  CHALLENGE(algo, Ns)
 *     PROOF(algo, Nc, MAC_C) ───────────────►  checks MAC_C
 *                            ◄───────────────  PROOF(algo, Ns, MAC_S)
 *     checks MAC_S; only then OFFER / GET / LIST
 *
 *     MAC_R = HMAC-SHA256(token, "IBXF-AUTH" | u16 version | u8 R | Ns | Nc)
 *
 * with R = 'C' (0x43) for the client's proof and 'S' (0x53) for the
 * server's. Both nonces are 32 fresh random bytes per connection, so a
 * recorded proof is useless on another connection (the other side's
 * nonce differs), and the role byte keeps a proof from being reflected
 * back as the other side's. The server proves itself only after the
 * client did, so a peer without the token learns no MAC from a server.
 *
 * Everything here is pure (the caller supplies the random nonces) except
 * that the MAC is computed with OpenSSL's libcrypto. Functions return 0
 * (or a length) or -errno: -EPROTO malformed input or a call out of
 * order, -EACCES a proof that does not verify, -ENOBUFS no room,
 * -EINVAL a bad argument. */
#ifndef IPCBOX_FRAME_AUTH_H
#define IPCBOX_FRAME_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcbox/frame.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Bytes of each side's nonce. */
#define IBX_AUTH_NONCE 32
/* Bytes of a MAC (HMAC-SHA256). */
#define IBX_AUTH_MAC 32
/* The only MAC algorithm of version 2: HMAC-SHA256. */
#define IBX_AUTH_HMAC_SHA256 1
/* Longest token (key) accepted, in bytes. */
#define IBX_AUTH_TOKEN_MAX 1024
/* Label at the start of the MAC input (9 bytes, no NUL). */
#define IBX_AUTH_LABEL "IBXF-AUTH"
/* Bytes of the MAC input: label, version, role, Ns, Nc. */
#define IBX_AUTH_INPUT_LEN (9 + 2 + 1 + 2 * IBX_AUTH_NONCE)
/* Payload sizes of CHALLENGE (algo, nonce) and PROOF (algo, nonce, MAC). */
#define IBX_AUTH_CHALLENGE_LEN (1 + IBX_AUTH_NONCE)
#define IBX_AUTH_PROOF_LEN (1 + IBX_AUTH_NONCE + IBX_AUTH_MAC)

/* Role bytes in the MAC input. */
enum ibx_auth_role {
    IBX_AUTH_CLIENT = 'C',
    IBX_AUTH_SERVER = 'S',
};

/* CHALLENGE payload (server to client). */
struct ibx_msg_challenge {
    uint8_t algo;                   /* IBX_AUTH_HMAC_SHA256 */
    uint8_t nonce[IBX_AUTH_NONCE];  /* the server's nonce Ns */
};

/* PROOF payload (client to server, then server to client). */
struct ibx_msg_proof {
    uint8_t algo;                   /* IBX_AUTH_HMAC_SHA256 */
    uint8_t nonce[IBX_AUTH_NONCE];  /* the sender's own nonce */
    uint8_t mac[IBX_AUTH_MAC];
};

/* CHALLENGE frame (header + payload) into out[0..cap). Returns its
 * length, -ENOBUFS or -EINVAL (unknown algo). */
ssize_t ibx_msg_challenge_encode(void *out, size_t cap,
                                 const struct ibx_msg_challenge *m);
/* Parse a CHALLENGE payload. Returns 0 or -EPROTO (length, algo). */
int ibx_msg_challenge_decode(const uint8_t *p, size_t n,
                             struct ibx_msg_challenge *m);
/* PROOF frame into out[0..cap). Returns its length, -ENOBUFS, -EINVAL. */
ssize_t ibx_msg_proof_encode(void *out, size_t cap,
                             const struct ibx_msg_proof *m);
/* Parse a PROOF payload. Returns 0 or -EPROTO (length, algo). */
int ibx_msg_proof_decode(const uint8_t *p, size_t n, struct ibx_msg_proof *m);

/* HMAC-SHA256 of msg[0..n) under key[0..klen) into out. Returns 0 or
 * -EIO (libcrypto failed). */
int ibx_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                    uint8_t out[IBX_AUTH_MAC]);
/* Write the MAC input for role into out (IBX_AUTH_INPUT_LEN bytes):
 * "IBXF-AUTH" | u16 version (big-endian) | u8 role | ns | nc. */
void ibx_auth_mac_input(uint8_t out[IBX_AUTH_INPUT_LEN], uint16_t version,
                        uint8_t role, const uint8_t ns[IBX_AUTH_NONCE],
                        const uint8_t nc[IBX_AUTH_NONCE]);
/* The MAC of role over the input above, keyed with the token. Returns 0,
 * -EINVAL (empty or too long key) or -EIO. */
int ibx_auth_mac(const void *key, size_t klen, uint16_t version, uint8_t role,
                 const uint8_t ns[IBX_AUTH_NONCE],
                 const uint8_t nc[IBX_AUTH_NONCE], uint8_t mac[IBX_AUTH_MAC]);

/* Cut a token file's content to the token: one trailing "\n" (or
 * "\r\n") is dropped. Returns the token's length, or -EINVAL when it is
 * empty, longer than IBX_AUTH_TOKEN_MAX, or holds a NUL, CR or LF (a
 * second line is a mistake, not key material). */
ssize_t ibx_auth_token_trim(const uint8_t *p, size_t n);

/* One side of the handshake. The key is not copied: it must outlive
 * the handshake. */
struct ibx_auth {
    const uint8_t *key;
    size_t klen;
    uint16_t version;
    uint8_t role;                       /* our role */
    uint8_t step;                       /* private: what comes next */
    uint8_t ns[IBX_AUTH_NONCE];         /* server's nonce */
    uint8_t nc[IBX_AUTH_NONCE];         /* client's nonce */
};

/* Start a handshake as role (IBX_AUTH_CLIENT or IBX_AUTH_SERVER) with
 * our fresh random nonce (getrandom: the caller's business). Returns 0
 * or -EINVAL (bad role, empty or too long key). */
int ibx_auth_init(struct ibx_auth *a, uint8_t role, const void *key,
                  size_t klen, const uint8_t nonce[IBX_AUTH_NONCE]);
/* Server: the CHALLENGE frame to send after our HELLO. */
ssize_t ibx_auth_challenge(struct ibx_auth *a, void *out, size_t cap);
/* Client: take the server's CHALLENGE payload, produce our PROOF frame.
 * -EPROTO for a malformed challenge or a call out of order. */
ssize_t ibx_auth_answer(struct ibx_auth *a, const uint8_t *p, size_t n,
                        void *out, size_t cap);
/* Server: check the client's PROOF payload (constant-time compare); if
 * it verifies, produce our own PROOF frame. -EACCES when it does not
 * (wrong token, replayed or reflected proof), -EPROTO malformed. */
ssize_t ibx_auth_verify_client(struct ibx_auth *a, const uint8_t *p, size_t n,
                               void *out, size_t cap);
/* Client: check the server's PROOF payload: it must echo the server's
 * nonce and carry the server-role MAC. 0 when the server knows the
 * token (the handshake is then complete), -EACCES, -EPROTO. */
int ibx_auth_verify_server(struct ibx_auth *a, const uint8_t *p, size_t n);
/* True once the peer has proved it knows the token. */
bool ibx_auth_done(const struct ibx_auth *a);

#pragma GCC visibility pop

#endif
