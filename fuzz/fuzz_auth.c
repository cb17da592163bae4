/* libFuzzer harness for the authenticated handshake (frame_auth.h).
 *
 * The input drives every parser and both sides of the handshake:
 *   - CHALLENGE, PROOF and HELLO decoders on the raw input: whatever
 *     decodes re-encodes to the same bytes;
 *   - the token trimmer: what it accepts is the input less at most one
 *     "\n" or "\r\n", without NUL, CR or LF;
 *   - a server (fixed token and nonce) verifying the input as a client
 *     PROOF, and a client answering the input as a CHALLENGE and then
 *     verifying the rest as a server PROOF: a proof may only be accepted
 *     if it carries exactly the MAC computed here independently (the
 *     fuzzer must never find another way in);
 *   - an honest handshake with a token and nonces taken from the input
 *     must succeed, and the same with the client's token changed in one
 *     byte must fail on both sides. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/frame.h"
#include "ipcbox/frame_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char KEY[] = "fuzz-token-0123456789abcdef";

static void check_codecs(const uint8_t *p, size_t n)
{
    uint8_t out[IBX_FRAME_HDR + 128];
    struct ibx_msg_challenge c;
    if (ibx_msg_challenge_decode(p, n, &c) == 0) {
        ssize_t r = ibx_msg_challenge_encode(out, sizeof out, &c);
        if (r != (ssize_t)(IBX_FRAME_HDR + n) || memcmp(out + IBX_FRAME_HDR, p, n))
            abort();
    }
    struct ibx_msg_proof pr;
    if (ibx_msg_proof_decode(p, n, &pr) == 0) {
        ssize_t r = ibx_msg_proof_encode(out, sizeof out, &pr);
        if (r != (ssize_t)(IBX_FRAME_HDR + n) || memcmp(out + IBX_FRAME_HDR, p, n))
            abort();
    }
    struct ibx_msg_hello h;
    if (ibx_msg_hello_decode(p, n, &h) == 0) {
        ssize_t r = ibx_msg_hello_encode(out, sizeof out, &h);
        if (r != (ssize_t)(IBX_FRAME_HDR + n) || memcmp(out + IBX_FRAME_HDR, p, n))
            abort();
        if ((h.flags && h.version < IBX_FRAME_VERSION_AUTH) ||
            h.data_max < IBX_FRAME_DATA_MIN)
            abort();
    }
}

static void check_trim(const uint8_t *p, size_t n)
{
    ssize_t k = ibx_auth_token_trim(p, n);
    if (k < 0)
        return;
    if ((size_t)k > n || n - (size_t)k > 2 || k == 0 || k > IBX_AUTH_TOKEN_MAX)
        abort();
    for (ssize_t i = 0; i < k; i++)
        if (p[i] == 0 || p[i] == '\n' || p[i] == '\r')
            abort();
}

/* A server with a fixed nonce takes the input as the client's PROOF. */
static void check_server(const uint8_t *p, size_t n)
{
    struct ibx_auth a;
    uint8_t ns[IBX_AUTH_NONCE], b[IBX_FRAME_HDR + 128];
    memset(ns, 0x5a, sizeof ns);
    ibx_auth_init(&a, IBX_AUTH_SERVER, KEY, strlen(KEY), ns);
    if (ibx_auth_challenge(&a, b, sizeof b) <= 0)
        abort();
    ssize_t r = ibx_auth_verify_client(&a, p, n, b, sizeof b);
    if (r < 0) {
        if (ibx_auth_done(&a))
            abort();
        return;
    }
    /* accepted: it must be exactly the client MAC over (Ns, its Nc) */
    uint8_t want[IBX_AUTH_MAC];
    if (n != IBX_AUTH_PROOF_LEN ||
        ibx_auth_mac(KEY, strlen(KEY), IBX_FRAME_VERSION_AUTH, IBX_AUTH_CLIENT, ns,
                     p + 1, want) < 0 ||
        memcmp(want, p + 1 + IBX_AUTH_NONCE, IBX_AUTH_MAC) != 0 || !ibx_auth_done(&a))
        abort();
}

/* A client takes the input as CHALLENGE (first 33 bytes) and the rest
 * as the server's PROOF. */
static void check_client(const uint8_t *p, size_t n)
{
    struct ibx_auth a;
    uint8_t nc[IBX_AUTH_NONCE], b[IBX_FRAME_HDR + 128];
    memset(nc, 0xa5, sizeof nc);
    ibx_auth_init(&a, IBX_AUTH_CLIENT, KEY, strlen(KEY), nc);
    size_t cn = n < IBX_AUTH_CHALLENGE_LEN ? n : IBX_AUTH_CHALLENGE_LEN;
    if (ibx_auth_answer(&a, p, cn, b, sizeof b) < 0)
        return;
    const uint8_t *q = p + cn;
    size_t qn = n - cn;
    if (ibx_auth_verify_server(&a, q, qn) != 0) {
        if (ibx_auth_done(&a))
            abort();
        return;
    }
    uint8_t want[IBX_AUTH_MAC];
    if (qn != IBX_AUTH_PROOF_LEN || memcmp(q + 1, p + 1, IBX_AUTH_NONCE) != 0 ||
        ibx_auth_mac(KEY, strlen(KEY), IBX_FRAME_VERSION_AUTH, IBX_AUTH_SERVER, p + 1,
                     nc, want) < 0 ||
        memcmp(want, q + 1 + IBX_AUTH_NONCE, IBX_AUTH_MAC) != 0)
        abort();
}

/* An honest handshake keyed and seeded by the input. */
static void check_honest(const uint8_t *p, size_t n)
{
    if (n < 2 * IBX_AUTH_NONCE + 1)
        return;
    const uint8_t *ns = p, *nc = p + IBX_AUTH_NONCE;
    const uint8_t *key = p + 2 * IBX_AUTH_NONCE;
    size_t klen = n - 2 * IBX_AUTH_NONCE;
    if (klen > IBX_AUTH_TOKEN_MAX)
        klen = IBX_AUTH_TOKEN_MAX;
    static uint8_t other[IBX_AUTH_TOKEN_MAX];
    memcpy(other, key, klen);
    other[klen - 1] ^= 1;
    for (int wrong = 0; wrong < 2; wrong++) {
        struct ibx_auth s, c;
        uint8_t chal[128], cp[128], sp[128];
        ibx_auth_init(&s, IBX_AUTH_SERVER, key, klen, ns);
        ibx_auth_init(&c, IBX_AUTH_CLIENT, wrong ? other : key, klen, nc);
        ssize_t k1 = ibx_auth_challenge(&s, chal, sizeof chal);
        ssize_t k2 = ibx_auth_answer(&c, chal + IBX_FRAME_HDR, (size_t)k1 - IBX_FRAME_HDR,
                                     cp, sizeof cp);
        if (k1 <= 0 || k2 <= 0)
            abort();
        ssize_t k3 = ibx_auth_verify_client(&s, cp + IBX_FRAME_HDR,
                                            (size_t)k2 - IBX_FRAME_HDR, sp, sizeof sp);
        if (wrong) {
            if (k3 != -EACCES || ibx_auth_done(&s))
                abort();
            continue;
        }
        if (k3 <= 0 || !ibx_auth_done(&s) ||
            ibx_auth_verify_server(&c, sp + IBX_FRAME_HDR, (size_t)k3 - IBX_FRAME_HDR) != 0 ||
            !ibx_auth_done(&c))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_codecs(data, size);
    check_trim(data, size);
    check_server(data, size);
    check_client(data, size);
    check_honest(data, size);
    return 0;
}
