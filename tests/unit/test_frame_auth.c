/* Unit tests for the authenticated handshake (ipcbox/frame_auth.h):
 * HMAC-SHA256 against RFC 4231, the exact MAC input, CHALLENGE/PROOF
 * codecs, a whole handshake, and the attacks it must stop: a wrong
 * token, a replayed proof, a reflected proof, calls out of order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/frame.h"
#include "ipcbox/frame_auth.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void fill(uint8_t *p, size_t n, uint8_t v)
{
    memset(p, v, n);
}

/* ---- HMAC-SHA256: RFC 4231 --------------------------------------------- */

static void test_rfc4231(void **state)
{
    (void)state;
    uint8_t mac[32], want[32];
    /* test case 2: key "Jefe" */
    const char *d2 = "what do ya want for nothing?";
    assert_int_equal(ibx_hmac_sha256("Jefe", 4, d2, strlen(d2), mac), 0);
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
    assert_memory_equal(mac, want, 32);
    /* test case 1: 20 bytes 0x0b, "Hi There" */
    uint8_t k1[20];
    fill(k1, sizeof k1, 0x0b);
    assert_int_equal(ibx_hmac_sha256(k1, sizeof k1, "Hi There", 8, mac), 0);
    unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want, 32);
    assert_memory_equal(mac, want, 32);
    /* test case 6: a key longer than the block (131 bytes 0xaa) */
    uint8_t k6[131];
    fill(k6, sizeof k6, 0xaa);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(ibx_hmac_sha256(k6, sizeof k6, d6, strlen(d6), mac), 0);
    unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", want, 32);
    assert_memory_equal(mac, want, 32);
}

/* ---- the MAC input, byte for byte (as docs/frame-protocol.md shows) ---- */

static void test_mac_input(void **state)
{
    (void)state;
    uint8_t ns[32], nc[32], in[IBX_AUTH_INPUT_LEN];
    fill(ns, 32, 0x11);
    fill(nc, 32, 0x22);
    assert_int_equal(IBX_AUTH_INPUT_LEN, 76);
    ibx_auth_mac_input(in, 2, IBX_AUTH_CLIENT, ns, nc);
    assert_memory_equal(in, "IBXF-AUTH\x00\x02" "C", 12);
    assert_memory_equal(in + 12, ns, 32);
    assert_memory_equal(in + 44, nc, 32);
    ibx_auth_mac_input(in, 2, IBX_AUTH_SERVER, ns, nc);
    assert_int_equal(in[11], 'S');

    /* the MAC is HMAC over exactly that input */
    uint8_t m1[32], m2[32];
    const char *key = "0123456789abcdef0123";
    assert_int_equal(ibx_auth_mac(key, strlen(key), 2, IBX_AUTH_SERVER, ns, nc, m1), 0);
    assert_int_equal(ibx_hmac_sha256(key, strlen(key), in, sizeof in, m2), 0);
    assert_memory_equal(m1, m2, 32);
    /* each field matters: version, role, and the order of the nonces */
    uint8_t m3[32];
    assert_int_equal(ibx_auth_mac(key, strlen(key), 3, IBX_AUTH_SERVER, ns, nc, m3), 0);
    assert_memory_not_equal(m1, m3, 32);
    assert_int_equal(ibx_auth_mac(key, strlen(key), 2, IBX_AUTH_CLIENT, ns, nc, m3), 0);
    assert_memory_not_equal(m1, m3, 32);
    assert_int_equal(ibx_auth_mac(key, strlen(key), 2, IBX_AUTH_SERVER, nc, ns, m3), 0);
    assert_memory_not_equal(m1, m3, 32);
    assert_int_equal(ibx_auth_mac(key, 0, 2, IBX_AUTH_SERVER, ns, nc, m3), -EINVAL);
}

/* The example of docs/frame-protocol.md, byte for byte. */
static void test_doc_example(void **state)
{
    (void)state;
    const char *tok = "q3Jm1bG0V9n8cYtXk2ZpQeW4sR7uLhA0dF5gJ6iK8oM=";
    uint8_t ns[32], nc[32], mac[32], want[32], b[128];
    for (int i = 0; i < 32; i++) {
        ns[i] = (uint8_t)i;
        nc[i] = (uint8_t)(0x20 + i);
    }
    assert_int_equal(ibx_auth_mac(tok, strlen(tok), 2, 'C', ns, nc, mac), 0);
    unhex("040e92080ae25044679da92c7d90590157bc2a3bc3f1f4998e2a4d93e7d13e11", want, 32);
    assert_memory_equal(mac, want, 32);
    assert_int_equal(ibx_auth_mac(tok, strlen(tok), 2, 'S', ns, nc, mac), 0);
    unhex("c86e9b7abb669cb432a1e52d597f079992192ac8c8da80af5c00038016a7065c", want, 32);
    assert_memory_equal(mac, want, 32);
    /* the server's HELLO + CHALLENGE as the hexdump shows them */
    struct ibx_msg_hello h = {IBX_FRAME_VERSION_AUTH, 1u << 20, IBX_HELLO_AUTH};
    assert_int_equal(ibx_msg_hello_encode(b, sizeof b, &h), 20);
    struct ibx_auth a;
    assert_int_equal(ibx_auth_init(&a, IBX_AUTH_SERVER, tok, strlen(tok), ns), 0);
    assert_int_equal(ibx_auth_challenge(&a, b + 20, sizeof b - 20), 41);
    uint8_t dump[61];
    unhex("010000000000000c" "494258460002000100100000"
          "0a00000000000021" "01" "000102030405060708090a0b0c0d0e0f"
          "101112131415161718191a1b1c1d1e1f", dump, 61);
    assert_memory_equal(b, dump, 61);
}

/* ---- codecs ------------------------------------------------------------ */

static void test_codecs(void **state)
{
    (void)state;
    uint8_t b[256];
    struct ibx_msg_challenge c = {.algo = IBX_AUTH_HMAC_SHA256}, c2;
    fill(c.nonce, 32, 0x5a);
    ssize_t n = ibx_msg_challenge_encode(b, sizeof b, &c);
    assert_int_equal(n, 8 + 33);
    assert_memory_equal(b, "\x0a\x00\x00\x00\x00\x00\x00\x21\x01", 9);
    assert_int_equal(ibx_msg_challenge_decode(b + 8, 33, &c2), 0);
    assert_memory_equal(c2.nonce, c.nonce, 32);
    assert_int_equal(ibx_msg_challenge_decode(b + 8, 32, &c2), -EPROTO);
    assert_int_equal(ibx_msg_challenge_encode(b, 40, &c), -ENOBUFS);
    b[8] = 2;
    assert_int_equal(ibx_msg_challenge_decode(b + 8, 33, &c2), -EPROTO);

    struct ibx_msg_proof p = {.algo = IBX_AUTH_HMAC_SHA256}, p2;
    fill(p.nonce, 32, 0x01);
    fill(p.mac, 32, 0x02);
    n = ibx_msg_proof_encode(b, sizeof b, &p);
    assert_int_equal(n, 8 + 65);
    assert_memory_equal(b, "\x0b\x00\x00\x00\x00\x00\x00\x41\x01", 9);
    assert_int_equal(ibx_msg_proof_decode(b + 8, 65, &p2), 0);
    assert_memory_equal(&p2, &p, sizeof p);
    assert_int_equal(ibx_msg_proof_decode(b + 8, 66, &p2), -EPROTO);
    p.algo = 0;
    assert_int_equal(ibx_msg_proof_encode(b, sizeof b, &p), -EINVAL);

    /* the new types pass the header check; HELLO flags are v2 only */
    struct ibx_frame_hdr h;
    uint8_t hdr[8] = {IBX_FT_PROOF, 0, 0, 0, 0, 0, 0, 65};
    assert_int_equal(ibx_frame_hdr_decode(hdr, 1024, &h), 0);
    hdr[0] = IBX_FT_PROOF + 1;
    assert_int_equal(ibx_frame_hdr_decode(hdr, 1024, &h), -EPROTO);
    struct ibx_msg_hello hl = {IBX_FRAME_VERSION_AUTH, 4096, IBX_HELLO_AUTH}, hl2;
    n = ibx_msg_hello_encode(b, sizeof b, &hl);
    assert_int_equal(n, 20);
    assert_int_equal(ibx_msg_hello_decode(b + 8, 12, &hl2), 0);
    assert_int_equal(hl2.flags, IBX_HELLO_AUTH);
    assert_int_equal(hl2.version, 2);
    b[8 + 4 + 1] = 1;   /* version 1 with the AUTH flag */
    assert_int_equal(ibx_msg_hello_decode(b + 8, 12, &hl2), -EPROTO);
    b[8 + 4 + 1] = 2;
    b[8 + 6] = 0x80;    /* an unknown flag */
    assert_int_equal(ibx_msg_hello_decode(b + 8, 12, &hl2), -EPROTO);
    hl.version = 1;
    assert_int_equal(ibx_msg_hello_encode(b, sizeof b, &hl), -EINVAL);
}

/* ---- token files ------------------------------------------------------- */

static void test_token_trim(void **state)
{
    (void)state;
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"secret\n", 7), 6);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"secret\r\n", 8), 6);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"secret", 6), 6);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"", 0), -EINVAL);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"\n", 1), -EINVAL);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"\r\n", 2), -EINVAL);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"a\n\n", 3), -EINVAL);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"a\nb\n", 4), -EINVAL);
    assert_int_equal(ibx_auth_token_trim((const uint8_t *)"a\0b", 3), -EINVAL);
    static uint8_t big[IBX_AUTH_TOKEN_MAX + 2];
    fill(big, sizeof big, 'x');
    assert_int_equal(ibx_auth_token_trim(big, IBX_AUTH_TOKEN_MAX), IBX_AUTH_TOKEN_MAX);
    assert_int_equal(ibx_auth_token_trim(big, IBX_AUTH_TOKEN_MAX + 1), -EINVAL);
}

/* ---- handshakes -------------------------------------------------------- */

static const char TOKEN[] = "c2VjcmV0IHRva2VuIGZvciB0ZXN0cyBvbmx5IQ==";
static const char OTHER[] = "c2VjcmV0IHRva2VuIGZvciB0ZXN0cyBvbmx5IR==";

/* The wire bytes of one handshake, to replay or reflect. */
struct session {
    struct ibx_auth srv, cli;
    uint8_t challenge[128], cproof[128], sproof[128];
    ssize_t nchal, ncp, nsp;
    int srv_verdict, cli_verdict;
};

/* Run a handshake: server key sk and nonce byte ns, client key ck and
 * nonce byte nc. */
static void handshake(struct session *s, const char *sk, uint8_t ns,
                      const char *ck, uint8_t nc)
{
    uint8_t n1[32], n2[32];
    fill(n1, 32, ns);
    fill(n2, 32, nc);
    memset(s, 0, sizeof *s);
    assert_int_equal(ibx_auth_init(&s->srv, IBX_AUTH_SERVER, sk, strlen(sk), n1), 0);
    assert_int_equal(ibx_auth_init(&s->cli, IBX_AUTH_CLIENT, ck, strlen(ck), n2), 0);
    s->nchal = ibx_auth_challenge(&s->srv, s->challenge, sizeof s->challenge);
    assert_int_equal(s->nchal, 8 + IBX_AUTH_CHALLENGE_LEN);
    s->ncp = ibx_auth_answer(&s->cli, s->challenge + 8, (size_t)s->nchal - 8,
                             s->cproof, sizeof s->cproof);
    assert_int_equal(s->ncp, 8 + IBX_AUTH_PROOF_LEN);
    s->nsp = ibx_auth_verify_client(&s->srv, s->cproof + 8, (size_t)s->ncp - 8,
                                    s->sproof, sizeof s->sproof);
    s->srv_verdict = s->nsp < 0 ? (int)s->nsp : 0;
    s->cli_verdict = -1;
    if (s->nsp > 0)
        s->cli_verdict = ibx_auth_verify_server(&s->cli, s->sproof + 8,
                                                (size_t)s->nsp - 8);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct session s;
    handshake(&s, TOKEN, 0x11, TOKEN, 0x22);
    assert_int_equal(s.srv_verdict, 0);
    assert_int_equal(s.nsp, 8 + IBX_AUTH_PROOF_LEN);
    assert_int_equal(s.cli_verdict, 0);
    assert_true(ibx_auth_done(&s.srv));
    assert_true(ibx_auth_done(&s.cli));
    /* the token is not on the wire */
    assert_null(memmem(s.cproof, (size_t)s.ncp, TOKEN, 8));
    assert_null(memmem(s.sproof, (size_t)s.nsp, TOKEN, 8));
    /* the client's proof carries its nonce, the server's echoes Ns */
    uint8_t n[32];
    fill(n, 32, 0x22);
    assert_memory_equal(s.cproof + 9, n, 32);
    fill(n, 32, 0x11);
    assert_memory_equal(s.sproof + 9, n, 32);
    /* and the MACs are the documented ones */
    uint8_t nc[32], mac[32];
    fill(nc, 32, 0x22);
    assert_int_equal(ibx_auth_mac(TOKEN, strlen(TOKEN), 2, 'C', n, nc, mac), 0);
    assert_memory_equal(s.cproof + 41, mac, 32);
    assert_int_equal(ibx_auth_mac(TOKEN, strlen(TOKEN), 2, 'S', n, nc, mac), 0);
    assert_memory_equal(s.sproof + 41, mac, 32);
}

static void test_wrong_token(void **state)
{
    (void)state;
    struct session s;
    handshake(&s, TOKEN, 0x11, OTHER, 0x22);
    assert_int_equal(s.srv_verdict, -EACCES);
    assert_false(ibx_auth_done(&s.srv));
    /* a failed server stays failed: a second try on it is refused */
    assert_int_equal(ibx_auth_verify_client(&s.srv, s.cproof + 8, (size_t)s.ncp - 8,
                                            s.sproof, sizeof s.sproof), -EPROTO);
    /* an impostor server (other token) cannot prove itself to the client */
    struct ibx_auth srv, cli;
    uint8_t ns[32], nc[32], chal[128], cp[128], sp[128];
    fill(ns, 32, 3);
    fill(nc, 32, 4);
    ibx_auth_init(&srv, IBX_AUTH_SERVER, OTHER, strlen(OTHER), ns);
    ibx_auth_init(&cli, IBX_AUTH_CLIENT, TOKEN, strlen(TOKEN), nc);
    ssize_t n = ibx_auth_challenge(&srv, chal, sizeof chal);
    n = ibx_auth_answer(&cli, chal + 8, (size_t)n - 8, cp, sizeof cp);
    assert_true(n > 0);
    /* the impostor answers with a proof made with its own token */
    struct ibx_msg_proof fake = {.algo = IBX_AUTH_HMAC_SHA256};
    memcpy(fake.nonce, ns, 32);
    assert_int_equal(ibx_auth_mac(OTHER, strlen(OTHER), 2, 'S', ns, nc, fake.mac), 0);
    n = ibx_msg_proof_encode(sp, sizeof sp, &fake);
    assert_int_equal(ibx_auth_verify_server(&cli, sp + 8, (size_t)n - 8), -EACCES);
    assert_false(ibx_auth_done(&cli));
}

static void test_replayed_proof(void **state)
{
    (void)state;
    struct session rec, s;
    handshake(&rec, TOKEN, 0x11, TOKEN, 0x22);
    assert_int_equal(rec.srv_verdict, 0);
    /* a new connection: the server draws a new Ns; the recorded client
     * proof (for the old Ns) is refused */
    uint8_t ns[32], chal[128], out[128];
    fill(ns, 32, 0x33);
    struct ibx_auth srv;
    ibx_auth_init(&srv, IBX_AUTH_SERVER, TOKEN, strlen(TOKEN), ns);
    assert_true(ibx_auth_challenge(&srv, chal, sizeof chal) > 0);
    assert_int_equal(ibx_auth_verify_client(&srv, rec.cproof + 8, (size_t)rec.ncp - 8,
                                            out, sizeof out), -EACCES);
    /* the same holds the other way: a recorded server proof does not
     * convince a client that drew a new Nc, even answering the same Ns */
    handshake(&s, TOKEN, 0x11, TOKEN, 0x44);
    struct ibx_auth cli;
    uint8_t nc[32], cp[128];
    fill(nc, 32, 0x55);
    ibx_auth_init(&cli, IBX_AUTH_CLIENT, TOKEN, strlen(TOKEN), nc);
    assert_true(ibx_auth_answer(&cli, rec.challenge + 8, (size_t)rec.nchal - 8,
                                cp, sizeof cp) > 0);
    assert_int_equal(ibx_auth_verify_server(&cli, rec.sproof + 8,
                                            (size_t)rec.nsp - 8), -EACCES);
}

static void test_reflected_proof(void **state)
{
    (void)state;
    /* A peer without the token connects as a client and sends the
     * server's CHALLENGE nonce back as its own; it would need MAC_C over
     * (Ns, Nc). The only MAC the server ever emits is MAC_S, after the
     * client proved itself; reflected as a client proof it fails. */
    struct session rec;
    handshake(&rec, TOKEN, 0x11, TOKEN, 0x22);
    uint8_t ns[32], chal[128], out[128];
    fill(ns, 32, 0x11);   /* even if the server drew the same Ns */
    struct ibx_auth srv;
    ibx_auth_init(&srv, IBX_AUTH_SERVER, TOKEN, strlen(TOKEN), ns);
    assert_true(ibx_auth_challenge(&srv, chal, sizeof chal) > 0);
    /* the server's own proof, re-labelled with Nc as a client proof */
    struct ibx_msg_proof m;
    assert_int_equal(ibx_msg_proof_decode(rec.sproof + 8, (size_t)rec.nsp - 8, &m), 0);
    fill(m.nonce, 32, 0x22);
    uint8_t b[128];
    ssize_t n = ibx_msg_proof_encode(b, sizeof b, &m);
    assert_int_equal(ibx_auth_verify_client(&srv, b + 8, (size_t)n - 8, out, sizeof out),
                     -EACCES);
    /* and a client's proof reflected back to that client as the
     * server's (echoing Ns so that only the role differs) fails too */
    struct ibx_auth cli;
    uint8_t nc[32], cp[128];
    fill(nc, 32, 0x22);
    ibx_auth_init(&cli, IBX_AUTH_CLIENT, TOKEN, strlen(TOKEN), nc);
    n = ibx_auth_answer(&cli, rec.challenge + 8, (size_t)rec.nchal - 8, cp, sizeof cp);
    assert_int_equal(ibx_msg_proof_decode(cp + 8, (size_t)n - 8, &m), 0);
    memcpy(m.nonce, ns, 32);
    n = ibx_msg_proof_encode(b, sizeof b, &m);
    assert_int_equal(ibx_auth_verify_server(&cli, b + 8, (size_t)n - 8), -EACCES);
}

static void test_out_of_order(void **state)
{
    (void)state;
    uint8_t n[32], b[128];
    fill(n, 32, 9);
    struct ibx_auth a;
    assert_int_equal(ibx_auth_init(&a, 'X', TOKEN, strlen(TOKEN), n), -EINVAL);
    assert_int_equal(ibx_auth_init(&a, IBX_AUTH_SERVER, TOKEN, 0, n), -EINVAL);
    assert_int_equal(ibx_auth_init(&a, IBX_AUTH_SERVER, TOKEN, strlen(TOKEN), n), 0);
    /* a server never verifies before it challenged, nor answers one */
    uint8_t proof[IBX_AUTH_PROOF_LEN] = {IBX_AUTH_HMAC_SHA256};
    assert_int_equal(ibx_auth_verify_client(&a, proof, sizeof proof, b, sizeof b), -EPROTO);
    assert_int_equal(ibx_auth_answer(&a, proof, IBX_AUTH_CHALLENGE_LEN, b, sizeof b), -EPROTO);
    assert_int_equal(ibx_auth_verify_server(&a, proof, sizeof proof), -EPROTO);
    assert_false(ibx_auth_done(&a));
    /* a client does not accept a server proof before answering */
    assert_int_equal(ibx_auth_init(&a, IBX_AUTH_CLIENT, TOKEN, strlen(TOKEN), n), 0);
    assert_int_equal(ibx_auth_verify_server(&a, proof, sizeof proof), -EPROTO);
    assert_int_equal(ibx_auth_challenge(&a, b, sizeof b), -EPROTO);
    assert_false(ibx_auth_done(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_mac_input),
        cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_token_trim),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_wrong_token),
        cmocka_unit_test(test_replayed_proof),
        cmocka_unit_test(test_reflected_proof),
        cmocka_unit_test(test_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
