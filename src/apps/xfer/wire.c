/* Blocking frame I/O for the send and get clients: connect with a
 * timeout, exchange HELLO, read frames exactly (header, then a control
 * payload; DATA payload is left in the socket for splice), write whole
 * buffers. Socket timeouts turn a stalled peer into an error. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/frame_auth.h"
#include "ipcbox/net.h"
#include "xfer.h"

static int recv_exact(int fd, void *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        if (r == 0)
            return -ECONNRESET;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

int xfer_wire_send(struct xfer_wire *w, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t r = send(w->fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int xfer_wire_next(struct xfer_wire *w, struct ibx_frame_ev *ev)
{
    uint8_t hdr[IBX_FRAME_HDR];
    int r = recv_exact(w->fd, hdr, sizeof hdr);
    if (r < 0)
        return r;
    ssize_t used = ibx_frame_decode(&w->dec, hdr, sizeof hdr, ev);
    if (used < 0)
        return (int)used;
    if (ev->kind == IBX_FEV_FRAME || ev->kind == IBX_FEV_DATA_END)
        return 0;   /* empty payload */
    uint32_t left = ibx_frame_dec_data_left(&w->dec);
    if (left > 0) {
        ev->kind = IBX_FEV_DATA;
        ev->type = IBX_FT_DATA;
        ev->data = NULL;
        ev->len = left;
        return 0;
    }
    /* a control payload: read exactly its length */
    uint8_t buf[IBX_FRAME_CTRL_MAX];
    size_t len = w->dec.cur.len - w->dec.have;
    r = recv_exact(w->fd, buf, len);
    if (r < 0)
        return r;
    used = ibx_frame_decode(&w->dec, buf, len, ev);
    if (used < 0)
        return (int)used;
    return ev->kind == IBX_FEV_FRAME ? 0 : -EPROTO;
}

int xfer_wire_next_after_hash(struct xfer_wire *w, struct ibx_frame_ev *ev,
                              uint64_t bytes)
{
    if (ibx_frame_dec_idle(&w->dec)) {
        /* wait for the first byte of the answer here, with the longer
         * limit; the socket timeout covers the rest of the frame */
        uint64_t ms = (uint64_t)w->timeout_ms + bytes / XFER_SLOW_HASH_RATE;
        uint64_t deadline = now_ms() + ms;
        for (;;) {
            uint64_t now = now_ms();
            if (now >= deadline)
                return -ETIMEDOUT;
            uint64_t left = deadline - now;
            struct pollfd p = {w->fd, POLLIN, 0};
            int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
            if (r > 0)
                break;
            if (r < 0 && errno != EINTR)
                return -errno;
        }
    }
    return xfer_wire_next(w, ev);
}

void xfer_wire_error(struct xfer_wire *w, int code, const char *text)
{
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    ssize_t n = ibx_msg_status_encode(b, sizeof b, IBX_FT_ERROR, (uint16_t)code, text);
    if (n > 0)
        (void)xfer_wire_send(w, b, (size_t)n);
}

int xfer_wire_reason(struct xfer_wire *w, char *out, size_t size)
{
    struct ibx_frame_ev ev;
    struct ibx_msg_status st;
    /* only whole frames: the decoder must sit between frames */
    if (!ibx_frame_dec_idle(&w->dec) || xfer_wire_next(w, &ev) < 0 ||
        (ev.type != IBX_FT_ERROR && ev.type != IBX_FT_ACK) ||
        ibx_msg_status_decode(ev.data, ev.len, &st) < 0)
        return -1;
    snprintf(out, size, "%s: %.*s", ibx_frame_code_name(st.code),
             (int)st.text_len, st.text);
    return st.code;
}

void xfer_wire_close(struct xfer_wire *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

/* The server asked for authentication (HELLO v2, AUTH): CHALLENGE, our
 * PROOF, its PROOF. Returns 0 or an exit code (err set). */
static int wire_auth(struct xfer_wire *w, const char *a, const struct xfer_token *tok)
{
    struct ibx_frame_ev ev;
    struct ibx_auth au;
    uint8_t nonce[IBX_AUTH_NONCE], b[IBX_FRAME_HDR + IBX_AUTH_PROOF_LEN];
    struct ibx_msg_status st;
    int r = xfer_random(nonce, sizeof nonce);
    if (r < 0) {
        snprintf(w->err, sizeof w->err, "getrandom: %s", strerror(-r));
        return XFER_EXIT_IO;
    }
    ibx_auth_init(&au, IBX_AUTH_CLIENT, tok->key, tok->len, nonce);
    r = xfer_wire_next(w, &ev);
    ssize_t n = -EPROTO;
    if (!r && ev.type == IBX_FT_CHALLENGE)
        n = ibx_auth_answer(&au, ev.data, ev.len, b, sizeof b);
    if (!r && n > 0)
        r = xfer_wire_send(w, b, (size_t)n);
    if (!r && n > 0)
        r = xfer_wire_next(w, &ev);
    if (r < 0) {
        snprintf(w->err, sizeof w->err, "%s: during authentication: %s", a,
                 r == -ECONNRESET ? "connection closed" : strerror(-r));
        return r == -EPROTO || r == -EMSGSIZE ? XFER_EXIT_PROTOCOL : XFER_EXIT_IO;
    }
    if (n < 0) {
        snprintf(w->err, sizeof w->err, "%s: malformed authentication challenge", a);
        return XFER_EXIT_PROTOCOL;
    }
    if (ev.type == IBX_FT_ERROR && ibx_msg_status_decode(ev.data, ev.len, &st) == 0) {
        if (st.code == IBX_XC_AUTH) {
            snprintf(w->err, sizeof w->err, "%s refused our token: authentication "
                     "failed (not the token it holds?)", a);
            return XFER_EXIT_AUTH;
        }
        snprintf(w->err, sizeof w->err, "%s refused: %.*s", a, (int)st.text_len, st.text);
        return xfer_exit_for_code(st.code) ? xfer_exit_for_code(st.code) : XFER_EXIT_IO;
    }
    r = ev.type == IBX_FT_PROOF ? ibx_auth_verify_server(&au, ev.data, ev.len) : -EPROTO;
    if (r == -EACCES) {
        snprintf(w->err, sizeof w->err, "%s failed to prove that it knows the token "
                 "(an impostor, or another token): nothing sent", a);
        xfer_wire_error(w, IBX_XC_AUTH, "server proof did not verify");
        return XFER_EXIT_AUTH;
    }
    if (r < 0) {
        snprintf(w->err, sizeof w->err, "%s: malformed authentication proof", a);
        return XFER_EXIT_PROTOCOL;
    }
    return 0;
}

int xfer_wire_connect(struct xfer_wire *w, const char *text, int timeout_ms,
                      const struct xfer_auth *auth)
{
    ibx_addr addr;
    const struct xfer_token *tok = auth ? auth->token : NULL;
    w->fd = -1;
    w->timeout_ms = timeout_ms;
    w->err[0] = '\0';
    ibx_frame_dec_init(&w->dec, XFER_DATA_MAX);
    int r = ibx_addr_resolve(text, "127.0.0.1", XFER_PORT, SOCK_STREAM, &addr);
    if (r < 0) {
        snprintf(w->err, sizeof w->err, "cannot resolve '%s'", text);
        return XFER_EXIT_USAGE;
    }
    char a[IBX_ADDRSTRLEN];
    ibx_addr_format((struct sockaddr *)&addr.ss, addr.len, a, sizeof a);
    w->fd = ibx_tcp_connect_wait(&addr, timeout_ms);
    if (w->fd < 0) {
        snprintf(w->err, sizeof w->err, "connect %s: %s", a, strerror(-w->fd));
        return XFER_EXIT_IO;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ibx_tcp_nodelay(w->fd, true);

    /* without a token we speak version 1, byte for byte what older
     * peers speak; with one, version 2 and "I hold a token" */
    uint8_t b[64];
    struct ibx_msg_hello h = {tok ? IBX_FRAME_VERSION_AUTH : IBX_FRAME_VERSION,
                              XFER_DATA_MAX, tok ? IBX_HELLO_AUTH : 0};
    ssize_t n = ibx_msg_hello_encode(b, sizeof b, &h);
    r = xfer_wire_send(w, b, (size_t)n);
    struct ibx_frame_ev ev;
    if (!r)
        r = xfer_wire_next(w, &ev);
    if (r < 0) {
        snprintf(w->err, sizeof w->err, "%s: %s", a,
                 r == -EPROTO || r == -EMSGSIZE ? "not an ipcbox recv server"
                                                : strerror(-r));
        return r == -EPROTO || r == -EMSGSIZE ? XFER_EXIT_PROTOCOL : XFER_EXIT_IO;
    }
    struct ibx_msg_status st;
    if (ev.type == IBX_FT_ERROR && ibx_msg_status_decode(ev.data, ev.len, &st) == 0) {
        if (st.code == IBX_XC_AUTH && !tok) {
            snprintf(w->err, sizeof w->err, "%s refused: authentication required "
                     "(give --token-file FILE with the server's token)", a);
            return XFER_EXIT_AUTH;
        }
        snprintf(w->err, sizeof w->err, "%s refused: %.*s", a, (int)st.text_len,
                 st.text);
        return xfer_exit_for_code(st.code) ? xfer_exit_for_code(st.code) : XFER_EXIT_IO;
    }
    uint16_t sent_version = h.version;
    if (ev.type != IBX_FT_HELLO || ibx_msg_hello_decode(ev.data, ev.len, &h) < 0) {
        snprintf(w->err, sizeof w->err, "%s: not an ipcbox recv server", a);
        return XFER_EXIT_PROTOCOL;
    }
    if (tok && !(h.flags & IBX_HELLO_AUTH) &&
        (!auth->allow_anonymous || h.version != IBX_FRAME_VERSION_AUTH)) {
        /* fail closed: it cannot prove it knows the token */
        snprintf(w->err, sizeof w->err, "%s does not authenticate (%s); refusing "
                 "to go on with a server that cannot prove it knows the token%s", a,
                 h.version < IBX_FRAME_VERSION_AUTH ? "an older version without "
                 "authentication" : "it has no token", h.version < IBX_FRAME_VERSION_AUTH
                 ? "" : " (--allow-anonymous to go on anyway)");
        xfer_wire_error(w, IBX_XC_AUTH, "client requires an authenticated server");
        return XFER_EXIT_AUTH;
    }
    if (h.version != sent_version) {
        snprintf(w->err, sizeof w->err, "%s speaks protocol version %u, not %u",
                 a, h.version, sent_version);
        xfer_wire_error(w, IBX_XC_VERSION, "unsupported protocol version");
        return XFER_EXIT_PROTOCOL;
    }
    if (tok && (h.flags & IBX_HELLO_AUTH)) {
        r = wire_auth(w, a, tok);
        if (r)
            return r;
    }
    w->peer_data_max = h.data_max;
    return 0;
}
