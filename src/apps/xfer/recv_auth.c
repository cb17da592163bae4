/* recv's side of the handshake: HELLO, and with a token the
 * challenge-response of protocol version 2 (ipcbox/frame_auth.h). No
 * OFFER, GET or LIST is looked at before it is over, so an
 * unauthenticated peer can make recv create, write, read or list
 * nothing. */
#include <errno.h>
#include <string.h>

#include "recv_conn.h"

/* Refuse the session: one log line with the peer, ERROR auth, close. */
static void refuse(struct recv_conn *c, const char *log_why, const char *text)
{
    if (recv_log_due(c))
        ibx_warn(recv_log(c), "msg=\"authentication refused: %s\" peer=%s", log_why, c->peer);
    recv_worse(c, XFER_EXIT_AUTH);
    recv_queue_status(c, IBX_FT_ERROR, IBX_XC_AUTH, text);
    c->close_when_flushed = true;
}

void recv_on_hello(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_hello h;
    uint8_t b[IBX_FRAME_HDR + 64];
    if (ibx_msg_hello_decode(p, n, &h) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed HELLO (bad magic or "
                           "flags, or DATA maximum below 4096)");
        return;
    }
    if (h.version != IBX_FRAME_VERSION && h.version != IBX_FRAME_VERSION_AUTH) {
        recv_session_error(c, IBX_XC_VERSION, "unsupported protocol version");
        return;
    }
    c->peer_data_max = h.data_max;
    const struct xfer_token *tok = c->cfg->token;
    if (!tok) {
        /* anonymous: answer in the client's version, never asking */
        struct ibx_msg_hello me = {h.version, XFER_DATA_MAX, 0};
        recv_queue(c, b, ibx_msg_hello_encode(b, sizeof b, &me));
        c->st = RS_IDLE;
        return;
    }
    if (!(h.flags & IBX_HELLO_AUTH)) {
        refuse(c, "the client has no token",
               "authentication required: this receiver needs a token (--token-file)");
        return;
    }
    uint8_t nonce[IBX_AUTH_NONCE];
    int r = xfer_random(nonce, sizeof nonce);
    if (r < 0) {
        ibx_err(recv_log(c), "msg=\"getrandom: %s\" peer=%s", strerror(-r), c->peer);
        recv_session_error(c, IBX_XC_IO, "server cannot draw a nonce");
        return;
    }
    ibx_auth_init(&c->auth, IBX_AUTH_SERVER, tok->key, tok->len, nonce);
    struct ibx_msg_hello me = {IBX_FRAME_VERSION_AUTH, XFER_DATA_MAX, IBX_HELLO_AUTH};
    recv_queue(c, b, ibx_msg_hello_encode(b, sizeof b, &me));
    recv_queue(c, b, ibx_auth_challenge(&c->auth, b, sizeof b));
    c->st = RS_AUTH;
}

/* The delay after a failed proof is over: say so and close. */
static void on_auth_delay(ibx_loop *loop, ibx_timer *t)
{
    struct recv_conn *c = t->data;
    (void)loop;
    recv_auth_fail_now(c);
}

void recv_auth_fail_now(struct recv_conn *c)
{
    if (c->st != RS_AUTH_FAILED || c->close_when_flushed)
        return;
    ibx_timer_stop(ibx_worker_loop(c->base.worker), &c->auth_delay);
    recv_queue_status(c, IBX_FT_ERROR, IBX_XC_AUTH, "authentication failed");
    c->close_when_flushed = true;
    recv_update(c);
}

void recv_on_proof(struct recv_conn *c, const uint8_t *p, size_t n)
{
    uint8_t b[IBX_FRAME_HDR + IBX_AUTH_PROOF_LEN];
    ssize_t r = ibx_auth_verify_client(&c->auth, p, n, b, sizeof b);
    if (r == -EACCES) {
        unsigned long k = atomic_fetch_add(&c->cfg->auth_failures, 1) + 1;
        if (recv_log_due(c))
            ibx_warn(recv_log(c), "msg=\"authentication failed: wrong token, or a replayed "
                     "proof (%lu failure%s since start); closing in %u ms\" peer=%s", k,
                     k == 1 ? "" : "s", RECV_AUTH_FAIL_DELAY_MS, c->peer);
        recv_worse(c, XFER_EXIT_AUTH);
        c->st = RS_AUTH_FAILED;   /* input stops (recv_busy) */
        ibx_timer_start(ibx_worker_loop(c->base.worker), &c->auth_delay,
                        RECV_AUTH_FAIL_DELAY_MS, on_auth_delay, c);
        return;
    }
    if (r < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed PROOF");
        return;
    }
    recv_queue(c, b, r);
    ibx_info(recv_log(c), "msg=\"authenticated\" peer=%s", c->peer);
    c->st = RS_IDLE;
}
