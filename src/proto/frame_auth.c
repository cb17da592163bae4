/* The authenticated handshake of the frame protocol, version 2 (see
 * include/ipcbox/frame_auth.h and docs/frame-protocol.md): CHALLENGE and
 * PROOF codecs, the MAC input, and both sides' steps. Pure except for
 * libcrypto's HMAC; the nonces come from the caller. */
#include "ipcbox/frame_auth.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Handshake steps (struct ibx_auth.step). */
enum {
    STEP_CHALLENGE = 1, /* server: send CHALLENGE */
    STEP_ANSWER,        /* client: expect CHALLENGE */
    STEP_CLIENT_PROOF,  /* server: expect the client's PROOF */
    STEP_SERVER_PROOF,  /* client: expect the server's PROOF */
    STEP_DONE,          /* the peer proved the token */
    STEP_FAILED,        /* a proof failed: nothing more */
};

/* ---- codecs ------------------------------------------------------------ */

ssize_t ibx_msg_challenge_encode(void *out, size_t cap,
                                 const struct ibx_msg_challenge *m)
{
    if (m->algo != IBX_AUTH_HMAC_SHA256)
        return -EINVAL;
    if (cap < IBX_FRAME_HDR + IBX_AUTH_CHALLENGE_LEN)
        return -ENOBUFS;
    uint8_t *b = out;
    ibx_frame_hdr_encode(b, IBX_FT_CHALLENGE, IBX_AUTH_CHALLENGE_LEN);
    b[IBX_FRAME_HDR] = m->algo;
    memcpy(b + IBX_FRAME_HDR + 1, m->nonce, IBX_AUTH_NONCE);
    return IBX_FRAME_HDR + IBX_AUTH_CHALLENGE_LEN;
}

int ibx_msg_challenge_decode(const uint8_t *p, size_t n,
                             struct ibx_msg_challenge *m)
{
    if (n != IBX_AUTH_CHALLENGE_LEN || p[0] != IBX_AUTH_HMAC_SHA256)
        return -EPROTO;
    m->algo = p[0];
    memcpy(m->nonce, p + 1, IBX_AUTH_NONCE);
    return 0;
}

ssize_t ibx_msg_proof_encode(void *out, size_t cap,
                             const struct ibx_msg_proof *m)
{
    if (m->algo != IBX_AUTH_HMAC_SHA256)
        return -EINVAL;
    if (cap < IBX_FRAME_HDR + IBX_AUTH_PROOF_LEN)
        return -ENOBUFS;
    uint8_t *b = out;
    ibx_frame_hdr_encode(b, IBX_FT_PROOF, IBX_AUTH_PROOF_LEN);
    b[IBX_FRAME_HDR] = m->algo;
    memcpy(b + IBX_FRAME_HDR + 1, m->nonce, IBX_AUTH_NONCE);
    memcpy(b + IBX_FRAME_HDR + 1 + IBX_AUTH_NONCE, m->mac, IBX_AUTH_MAC);
    return IBX_FRAME_HDR + IBX_AUTH_PROOF_LEN;
}

int ibx_msg_proof_decode(const uint8_t *p, size_t n, struct ibx_msg_proof *m)
{
    if (n != IBX_AUTH_PROOF_LEN || p[0] != IBX_AUTH_HMAC_SHA256)
        return -EPROTO;
    m->algo = p[0];
    memcpy(m->nonce, p + 1, IBX_AUTH_NONCE);
    memcpy(m->mac, p + 1 + IBX_AUTH_NONCE, IBX_AUTH_MAC);
    return 0;
}

/* ---- MAC --------------------------------------------------------------- */

int ibx_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                    uint8_t out[IBX_AUTH_MAC])
{
    unsigned int len = 0;
    if (klen > IBX_AUTH_TOKEN_MAX)
        return -EINVAL;
    /* HMAC() refuses a NULL key: an empty key is spelled "" */
    if (!HMAC(EVP_sha256(), klen ? key : "", (int)klen, msg, n, out, &len) ||
        len != IBX_AUTH_MAC)
        return -EIO;
    return 0;
}

void ibx_auth_mac_input(uint8_t out[IBX_AUTH_INPUT_LEN], uint16_t version,
                        uint8_t role, const uint8_t ns[IBX_AUTH_NONCE],
                        const uint8_t nc[IBX_AUTH_NONCE])
{
    memcpy(out, IBX_AUTH_LABEL, 9);
    out[9] = (uint8_t)(version >> 8);
    out[10] = (uint8_t)version;
    out[11] = role;
    memcpy(out + 12, ns, IBX_AUTH_NONCE);
    memcpy(out + 12 + IBX_AUTH_NONCE, nc, IBX_AUTH_NONCE);
}

int ibx_auth_mac(const void *key, size_t klen, uint16_t version, uint8_t role,
                 const uint8_t ns[IBX_AUTH_NONCE],
                 const uint8_t nc[IBX_AUTH_NONCE], uint8_t mac[IBX_AUTH_MAC])
{
    if (!key || klen == 0 || klen > IBX_AUTH_TOKEN_MAX)
        return -EINVAL;
    uint8_t in[IBX_AUTH_INPUT_LEN];
    ibx_auth_mac_input(in, version, role, ns, nc);
    return ibx_hmac_sha256(key, klen, in, sizeof in, mac);
}

ssize_t ibx_auth_token_trim(const uint8_t *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\n') {
        n--;
        if (n > 0 && p[n - 1] == '\r')
            n--;
    }
    if (n == 0 || n > IBX_AUTH_TOKEN_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
            return -EINVAL;
    return (ssize_t)n;
}

/* ---- the two sides ----------------------------------------------------- */

int ibx_auth_init(struct ibx_auth *a, uint8_t role, const void *key,
                  size_t klen, const uint8_t nonce[IBX_AUTH_NONCE])
{
    memset(a, 0, sizeof *a);
    if ((role != IBX_AUTH_CLIENT && role != IBX_AUTH_SERVER) || !key ||
        klen == 0 || klen > IBX_AUTH_TOKEN_MAX)
        return -EINVAL;
    a->key = key;
    a->klen = klen;
    a->version = IBX_FRAME_VERSION_AUTH;
    a->role = role;
    if (role == IBX_AUTH_SERVER) {
        memcpy(a->ns, nonce, IBX_AUTH_NONCE);
        a->step = STEP_CHALLENGE;
    } else {
        memcpy(a->nc, nonce, IBX_AUTH_NONCE);
        a->step = STEP_ANSWER;
    }
    return 0;
}

ssize_t ibx_auth_challenge(struct ibx_auth *a, void *out, size_t cap)
{
    if (a->step != STEP_CHALLENGE)
        return -EPROTO;
    struct ibx_msg_challenge m = {.algo = IBX_AUTH_HMAC_SHA256};
    memcpy(m.nonce, a->ns, IBX_AUTH_NONCE);
    ssize_t n = ibx_msg_challenge_encode(out, cap, &m);
    if (n > 0)
        a->step = STEP_CLIENT_PROOF;
    return n;
}

/* Our PROOF frame (our nonce, our role's MAC). */
static ssize_t own_proof(const struct ibx_auth *a, void *out, size_t cap)
{
    struct ibx_msg_proof m = {.algo = IBX_AUTH_HMAC_SHA256};
    memcpy(m.nonce, a->role == IBX_AUTH_SERVER ? a->ns : a->nc, IBX_AUTH_NONCE);
    int r = ibx_auth_mac(a->key, a->klen, a->version, a->role, a->ns, a->nc, m.mac);
    if (r < 0)
        return r;
    return ibx_msg_proof_encode(out, cap, &m);
}

/* Whether mac is the peer role's MAC over this session's nonces. */
static int check_peer_mac(const struct ibx_auth *a, const uint8_t *mac)
{
    uint8_t want[IBX_AUTH_MAC];
    uint8_t peer = a->role == IBX_AUTH_SERVER ? IBX_AUTH_CLIENT : IBX_AUTH_SERVER;
    int r = ibx_auth_mac(a->key, a->klen, a->version, peer, a->ns, a->nc, want);
    if (r < 0)
        return r;
    r = CRYPTO_memcmp(want, mac, IBX_AUTH_MAC) == 0 ? 0 : -EACCES;
    OPENSSL_cleanse(want, sizeof want);
    return r;
}

ssize_t ibx_auth_answer(struct ibx_auth *a, const uint8_t *p, size_t n,
                        void *out, size_t cap)
{
    struct ibx_msg_challenge m;
    if (a->step != STEP_ANSWER || ibx_msg_challenge_decode(p, n, &m) < 0)
        return -EPROTO;
    memcpy(a->ns, m.nonce, IBX_AUTH_NONCE);
    ssize_t r = own_proof(a, out, cap);
    if (r > 0)
        a->step = STEP_SERVER_PROOF;
    return r;
}

ssize_t ibx_auth_verify_client(struct ibx_auth *a, const uint8_t *p, size_t n,
                               void *out, size_t cap)
{
    struct ibx_msg_proof m;
    if (a->step != STEP_CLIENT_PROOF || ibx_msg_proof_decode(p, n, &m) < 0)
        return -EPROTO;
    memcpy(a->nc, m.nonce, IBX_AUTH_NONCE);
    int r = check_peer_mac(a, m.mac);
    if (r < 0) {
        a->step = STEP_FAILED;
        return r;
    }
    ssize_t k = own_proof(a, out, cap);
    a->step = k > 0 ? STEP_DONE : STEP_FAILED;
    return k;
}

int ibx_auth_verify_server(struct ibx_auth *a, const uint8_t *p, size_t n)
{
    struct ibx_msg_proof m;
    if (a->step != STEP_SERVER_PROOF || ibx_msg_proof_decode(p, n, &m) < 0)
        return -EPROTO;
    /* the echoed nonce must be the one we answered (no secret, but a
     * mismatch means a confused or meddling peer) */
    int r = CRYPTO_memcmp(m.nonce, a->ns, IBX_AUTH_NONCE) ? -EACCES
                                                          : check_peer_mac(a, m.mac);
    a->step = r == 0 ? STEP_DONE : STEP_FAILED;
    return r;
}

bool ibx_auth_done(const struct ibx_auth *a)
{
    return a->step == STEP_DONE;
}
