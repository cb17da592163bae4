/* recv: the frame-protocol server. Receives files offered by `send` into
 * its directory and answers `get` and `list` from it, for many clients on
 * one event loop (or any server model).
 *
 * A connection reads exactly what the decoder needs (a header, a control
 * payload), so DATA payload stays in the socket and moves to the
 * temporary file with splice; files it serves are read, hashed and
 * written in chunks when the socket has room. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ipcbox/buf.h"
#include "service.h"
#include "xfer.h"
#include "xfer_list.h"
#include "xfer_recv.h"

/* Bytes moved per readiness event before yielding to other clients. */
#define RECV_BUDGET (4u << 20)
/* Output kept queued while serving a file or a listing. */
#define RECV_OUT_HIGH (256u * 1024)
/* DATA payload per frame when serving a GET (bounds per-client memory). */
#define RECV_CHUNK (256u * 1024)

enum recv_state {
    RS_HELLO,       /* waiting for the client's HELLO */
    RS_IDLE,        /* between files: OFFER, GET or LIST */
    RS_RX_CONFIRM,  /* sent RESUME for an OFFER, waiting for the confirm */
    RS_RX_DATA,     /* receiving DATA until END */
    RS_TX_RESUME,   /* sent OFFER for a GET, waiting for RESUME */
    RS_TX_DATA,     /* sending DATA and END */
    RS_TX_ACK,      /* waiting for the client's ACK */
    RS_LIST,        /* sending LIST entries */
};

struct recv_conn {
    ibx_conn base;          /* first: ibx_conn* <-> recv_conn* */
    ibx_io io;
    ibx_timer idle;
    ibx_defer free_later;
    struct recv_cfg *cfg;
    enum recv_state st;
    bool closing, draining, close_when_flushed;
    uint64_t last_active;
    uint64_t file_t0;
    uint32_t peer_data_max;
    char peer[IBX_ADDRSTRLEN];
    ibx_buf out;
    struct xfer_rx rx;
    struct xfer_tx tx;
    bool tx_open;
    struct xfer_list *list;
    struct ibx_frame_dec dec;
};

static const ibx_log *conn_log(const struct recv_conn *c) { return c->cfg->log; }

static void recv_free(ibx_loop *loop, ibx_defer *d)
{
    struct recv_conn *c = d->data;
    struct recv_cfg *cfg = c->cfg;
    ibx_buf_free(&c->out);
    xfer_rx_close(&c->rx);
    if (c->tx_open)
        xfer_tx_close(&c->tx);
    xfer_list_close(c->list);
    ibx_conn_done(&c->base);
    free(c);
    if (cfg->once)
        ibx_server_shutdown(cfg->srv);
}

static void recv_close(struct recv_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    int fd = c->io.fd;
    ibx_io_stop(loop, &c->io);
    ibx_timer_stop(loop, &c->idle);
    if (fd >= 0)
        close(fd);
    if (c->st == RS_RX_DATA || c->st == RS_RX_CONFIRM) {
        ibx_warn(conn_log(c), "recv: %s: %s interrupted at %llu of %llu bytes; "
                 "partial file kept for resume", c->peer, c->rx.path,
                 (unsigned long long)c->rx.pos, (unsigned long long)c->rx.size);
        if (c->cfg->status < XFER_EXIT_IO)
            c->cfg->status = XFER_EXIT_IO;
    }
    ibx_loop_defer(loop, &c->free_later, recv_free, c);
}

static void worse(struct recv_conn *c, int exit_code)
{
    if (exit_code > c->cfg->status)
        c->cfg->status = exit_code;
}

/* Queue a control frame produced by an encoder. */
static void queue(struct recv_conn *c, const uint8_t *b, ssize_t n)
{
    if (n < 0 || ibx_buf_append(&c->out, b, (size_t)n) < 0)
        c->close_when_flushed = true;
}

static void queue_status(struct recv_conn *c, uint8_t type, int code,
                         const char *text)
{
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_TEXT_MAX + 8];
    queue(c, b, ibx_msg_status_encode(b, sizeof b, type, (uint16_t)code, text));
}

/* Fatal for the session: ERROR frame, then close once it is written. */
static void session_error(struct recv_conn *c, int code, const char *text)
{
    ibx_warn(conn_log(c), "recv: %s: %s: %s", c->peer, ibx_xfer_code_name(code), text);
    worse(c, xfer_exit_for_code(code) ? xfer_exit_for_code(code) : XFER_EXIT_PROTOCOL);
    queue_status(c, IBX_FT_ERROR, code, text);
    c->close_when_flushed = true;
}

/* One file is over: back to idle (or close when draining). */
static void file_over(struct recv_conn *c)
{
    xfer_rx_close(&c->rx);
    if (c->tx_open)
        xfer_tx_close(&c->tx);
    c->tx_open = false;
    c->st = RS_IDLE;
    if (c->draining) {
        queue_status(c, IBX_FT_ERROR, IBX_XC_SHUTDOWN, "server shutting down");
        c->close_when_flushed = true;
    }
}

static double rate_mbs(uint64_t bytes, uint64_t ms)
{
    return ms ? (double)bytes / 1e3 / (double)ms : 0;
}

/* ---- receiving (OFFER from send) ------------------------------------- */

static void on_offer(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_offer o;
    struct ibx_msg_resume rs;
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + 64];
    if (ibx_msg_offer_decode(p, n, &o) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed OFFER");
        return;
    }
    int code = xfer_rx_offer(&c->rx, c->cfg->rootfd, &o, &c->cfg->opts, &rs, why);
    if (code) {
        ibx_warn(conn_log(c), "recv: %s: refused: %s: %s", c->peer,
                 ibx_xfer_code_name(code), why);
        worse(c, xfer_exit_for_code(code));
        queue_status(c, IBX_FT_ACK, code, why);
        file_over(c);
        return;
    }
    queue(c, b, ibx_msg_resume_encode(b, sizeof b, &rs));
    c->st = RS_RX_CONFIRM;
}

static void on_rx_confirm(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_resume cf;
    char why[XFER_WHY];
    if (ibx_msg_resume_decode(p, n, &cf) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed RESUME");
        return;
    }
    int code = xfer_rx_confirm(&c->rx, &cf, why);
    if (code) {
        ibx_warn(conn_log(c), "recv: %s: %s", c->peer, why);
        worse(c, xfer_exit_for_code(code));
        queue_status(c, IBX_FT_ACK, code, why);
        file_over(c);
        return;
    }
    c->file_t0 = ibx_loop_now(ibx_worker_loop(c->base.worker));
    ibx_debug(conn_log(c), "recv: %s: receiving %s (%llu bytes, from %llu)", c->peer,
              c->rx.path, (unsigned long long)c->rx.size,
              (unsigned long long)c->rx.pos);
    c->st = RS_RX_DATA;
}

static void on_rx_end(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_end e;
    char why[XFER_WHY];
    if (ibx_msg_end_decode(p, n, &e) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed END");
        return;
    }
    int code = xfer_rx_end(&c->rx, &e, why);
    uint64_t ms = ibx_loop_now(ibx_worker_loop(c->base.worker)) - c->file_t0;
    uint64_t moved = c->rx.size - c->rx.resumed_from;
    if (code == IBX_XC_OK) {
        ibx_info(conn_log(c), "recv: %s: stored %s (%llu bytes, %llu received in "
                 "%llu ms, %.1f MB/s, %s verified%s)", c->peer, c->rx.path,
                 (unsigned long long)c->rx.size, (unsigned long long)moved,
                 (unsigned long long)ms, rate_mbs(moved, ms),
                 ibx_hash_algo_name(c->rx.algo),
                 c->rx.resumed_from ? ", resumed" : "");
    } else if (code == IBX_XC_UNCHANGED) {
        ibx_info(conn_log(c), "recv: %s: %s", c->peer, why);
    } else {
        ibx_err(conn_log(c), "recv: %s: %s", c->peer, why);
        worse(c, xfer_exit_for_code(code));
    }
    queue_status(c, IBX_FT_ACK, code, why);
    if (code == IBX_XC_PROTOCOL)
        c->close_when_flushed = true;
    file_over(c);
}

/* ---- serving (GET and LIST) ------------------------------------------ */

static void on_get(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_get g;
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    if (ibx_msg_get_decode(p, n, &g) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed GET");
        return;
    }
    int code = 0;
    int fd = -1;
    if (!ibx_hash_algo_len(g.algo)) {
        code = IBX_XC_HASH_ALGO;
        xfer_whyf(why, "unsupported hash algorithm %u", g.algo);
    } else {
        fd = xfer_open_beneath(c->cfg->rootfd, g.path, g.path_len, why);
        if (fd < 0)
            code = -fd;
    }
    char path[IBX_FRAME_PATH_MAX + 1];
    if (!code) {
        memcpy(path, g.path, g.path_len);
        path[g.path_len] = '\0';
        int r = xfer_tx_open(&c->tx, fd, path, g.algo, g.flags & IBX_OFFER_OVERWRITE);
        if (r < 0) {
            code = IBX_XC_IO;
            xfer_whyf(why, "%.200s: %s", path, strerror(-r));
        }
    }
    if (code) {
        ibx_warn(conn_log(c), "recv: %s: get refused: %s: %s", c->peer,
                 ibx_xfer_code_name(code), why);
        queue_status(c, IBX_FT_ACK, code, why);
        return;
    }
    c->tx_open = true;
    queue(c, b, ibx_msg_offer_encode(b, sizeof b, IBX_FT_OFFER, &c->tx.offer));
    c->st = RS_TX_RESUME;
}

static void on_tx_resume(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_resume rs, cf;
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + 64];
    if (ibx_msg_resume_decode(p, n, &rs) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed RESUME");
        return;
    }
    int code = xfer_tx_resume(&c->tx, &rs, &cf, why);
    if (code) {
        ibx_warn(conn_log(c), "recv: %s: get %s: %s", c->peer, c->tx.path, why);
        queue_status(c, IBX_FT_ACK, code, why);
        file_over(c);
        return;
    }
    queue(c, b, ibx_msg_resume_encode(b, sizeof b, &cf));
    c->file_t0 = ibx_loop_now(ibx_worker_loop(c->base.worker));
    c->st = RS_TX_DATA;
}

static void on_tx_ack(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_status st;
    if (ibx_msg_status_decode(p, n, &st) < 0) {
        session_error(c, IBX_XC_PROTOCOL, "malformed ACK");
        return;
    }
    uint64_t ms = ibx_loop_now(ibx_worker_loop(c->base.worker)) - c->file_t0;
    uint64_t moved = c->tx.size - c->tx.resumed_from;
    if (st.code <= IBX_XC_UNCHANGED)
        ibx_info(conn_log(c), "recv: %s: sent %s (%llu bytes%s, %llu ms, %.1f MB/s): %s",
                 c->peer, c->tx.path, (unsigned long long)c->tx.size,
                 c->tx.resumed_from && st.code == IBX_XC_OK ? ", resumed" : "",
                 (unsigned long long)ms,
                 rate_mbs(moved, ms), ibx_xfer_code_name(st.code));
    else
        ibx_warn(conn_log(c), "recv: %s: get %s failed at the client: %s (%.*s)",
                 c->peer, c->tx.path, ibx_xfer_code_name(st.code),
                 (int)st.text_len, st.text);
    file_over(c);
}

/* Produce DATA/END for a GET, or listing entries, while there is room. */
static int produce(struct recv_conn *c)
{
    if (c->st == RS_TX_DATA) {
        size_t chunk = RECV_CHUNK < c->peer_data_max ? RECV_CHUNK : c->peer_data_max;
        if (c->tx.skip_data || c->tx.pos == c->tx.size) {
            struct ibx_msg_end e;
            uint8_t b[IBX_FRAME_HDR + 64];
            if (xfer_tx_end(&c->tx, &e) < 0)
                return -EIO;
            queue(c, b, ibx_msg_end_encode(b, sizeof b, &e));
            c->st = RS_TX_ACK;
            return 0;
        }
        if (ibx_buf_reserve(&c->out, IBX_FRAME_HDR + chunk) < 0)
            return -ENOMEM;
        uint8_t *t = (uint8_t *)ibx_buf_tail(&c->out);
        ssize_t n = xfer_tx_read(&c->tx, t + IBX_FRAME_HDR, chunk);
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        ibx_frame_hdr_encode(t, IBX_FT_DATA, (uint32_t)n);
        ibx_buf_commit(&c->out, IBX_FRAME_HDR + (size_t)n);
        return 0;
    }
    if (c->st == RS_LIST) {
        struct ibx_msg_offer e;
        uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
        int r = xfer_list_next(c->list, &e);
        if (r > 0) {
            queue(c, b, ibx_msg_offer_encode(b, sizeof b, IBX_FT_LIST, &e));
            return 0;
        }
        xfer_list_close(c->list);
        c->list = NULL;
        queue_status(c, IBX_FT_ACK, IBX_XC_OK, "end of list");
        file_over(c);
    }
    return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static void on_frame(struct recv_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
    if (type == IBX_FT_ERROR) {
        struct ibx_msg_status st;
        if (ibx_msg_status_decode(p, n, &st) == 0)
            ibx_warn(conn_log(c), "recv: %s: peer error: %s (%.*s)", c->peer,
                     ibx_xfer_code_name(st.code), (int)st.text_len, st.text);
        worse(c, st.code == IBX_XC_EXISTS ? XFER_EXIT_REFUSED : XFER_EXIT_IO);
        recv_close(c);
        return;
    }
    if (type == IBX_FT_ACK && (c->st == RS_RX_CONFIRM || c->st == RS_TX_RESUME)) {
        /* the peer skips this file (its own check refused it) */
        struct ibx_msg_status st;
        if (ibx_msg_status_decode(p, n, &st) == 0)
            ibx_info(conn_log(c), "recv: %s: %s skipped by peer: %s (%.*s)", c->peer,
                     c->st == RS_RX_CONFIRM ? c->rx.path : c->tx.path,
                     ibx_xfer_code_name(st.code), (int)st.text_len, st.text);
        if (c->st == RS_RX_CONFIRM)
            worse(c, xfer_exit_for_code(st.code));
        file_over(c);
        return;
    }
    switch (c->st) {
    case RS_HELLO: {
        struct ibx_msg_hello h;
        if (type != IBX_FT_HELLO || ibx_msg_hello_decode(p, n, &h) < 0) {
            session_error(c, IBX_XC_PROTOCOL, "expected HELLO");
        } else if (h.version != IBX_FRAME_VERSION) {
            session_error(c, IBX_XC_VERSION, "unsupported protocol version");
        } else {
            c->peer_data_max = h.data_max;
            c->st = RS_IDLE;
        }
        return;
    }
    case RS_IDLE:
        if (c->draining) {
            file_over(c);   /* says shutdown and closes */
        } else if (type == IBX_FT_OFFER) {
            on_offer(c, p, n);
        } else if (type == IBX_FT_GET) {
            on_get(c, p, n);
        } else if (type == IBX_FT_LIST && n == 0) {
            int r = xfer_list_open(&c->list, c->cfg->rootfd);
            if (r < 0)
                queue_status(c, IBX_FT_ACK, IBX_XC_IO, strerror(-r));
            else
                c->st = RS_LIST;
        } else {
            session_error(c, IBX_XC_PROTOCOL, "unexpected frame");
        }
        return;
    case RS_RX_CONFIRM:
        if (type == IBX_FT_RESUME)
            on_rx_confirm(c, p, n);
        else
            session_error(c, IBX_XC_PROTOCOL, "expected RESUME");
        return;
    case RS_RX_DATA:
        if (type == IBX_FT_END)
            on_rx_end(c, p, n);
        else
            session_error(c, IBX_XC_PROTOCOL, "expected DATA or END");
        return;
    case RS_TX_RESUME:
        if (type == IBX_FT_RESUME)
            on_tx_resume(c, p, n);
        else
            session_error(c, IBX_XC_PROTOCOL, "expected RESUME");
        return;
    case RS_TX_ACK:
        if (type == IBX_FT_ACK)
            on_tx_ack(c, p, n);
        else
            session_error(c, IBX_XC_PROTOCOL, "expected ACK");
        return;
    case RS_TX_DATA:
    case RS_LIST:
        session_error(c, IBX_XC_PROTOCOL, "unexpected frame while sending");
        return;
    }
}

/* Read and handle input. Returns false when the connection must close. */
static bool recv_input(struct recv_conn *c)
{
    uint8_t tmp[IBX_FRAME_CTRL_MAX];
    size_t budget = RECV_BUDGET;
    while (budget > 0 && !c->closing && !c->close_when_flushed) {
        uint32_t left = ibx_frame_dec_data_left(&c->dec);
        if (left > 0) {
            ssize_t n = xfer_rx_pump(&c->rx, c->io.fd, left < budget ? left : budget);
            if (n == -EAGAIN)
                return true;
            if (n == 0)
                return false;   /* EOF inside DATA: partial file kept */
            if (n < 0) {
                char why[XFER_WHY];
                xfer_whyf(why, "%.200s: %s", c->rx.path, strerror((int)-n));
                ibx_err(conn_log(c), "recv: %s: %s", c->peer, why);
                worse(c, XFER_EXIT_IO);
                queue_status(c, IBX_FT_ERROR, IBX_XC_IO, why);
                c->close_when_flushed = true;
                return true;
            }
            ibx_frame_dec_skip(&c->dec, (uint32_t)n);
            budget -= (size_t)n < budget ? (size_t)n : budget;
            continue;
        }
        /* exactly the rest of a header or of a control payload */
        size_t want = c->dec.in_payload ? (size_t)(c->dec.cur.len - c->dec.have)
                                        : (size_t)(IBX_FRAME_HDR - c->dec.hdr_have);
        ssize_t got = recv(c->io.fd, tmp, want, 0);
        if (got < 0)
            return errno == EAGAIN || errno == EINTR;
        if (got == 0)
            return false;
        struct ibx_frame_ev ev;
        ssize_t used = ibx_frame_decode(&c->dec, tmp, (size_t)got, &ev);
        if (used < 0) {
            session_error(c, used == -EMSGSIZE ? IBX_XC_FRAME_SIZE : IBX_XC_PROTOCOL,
                          used == -EMSGSIZE ? "frame above the maximum size"
                                            : "malformed frame header");
            return true;
        }
        if (ev.kind == IBX_FEV_FRAME) {
            on_frame(c, ev.type, ev.data, ev.len);
        } else if (ibx_frame_dec_data_left(&c->dec) > 0 || ev.kind == IBX_FEV_DATA_END) {
            /* a DATA header: only while receiving, never past the size */
            if (c->st != RS_RX_DATA)
                session_error(c, IBX_XC_PROTOCOL, "DATA outside a transfer");
            else if (ibx_frame_dec_data_left(&c->dec) > xfer_rx_left(&c->rx))
                session_error(c, IBX_XC_PROTOCOL, "more DATA than offered");
        }
        budget -= budget > 64 ? 64 : budget;
    }
    return true;
}

/* Write queued output, producing more while there is room. Returns false
 * when the connection must close. */
static bool recv_output(struct recv_conn *c, bool *more)
{
    *more = false;
    for (size_t budget = RECV_BUDGET; budget > 0;) {
        while (ibx_buf_used(&c->out)) {
            ssize_t n = ibx_buf_write_fd(&c->out, c->io.fd);
            if (n == -EAGAIN)
                return true;
            if (n < 0)
                return false;
            budget -= (size_t)n < budget ? (size_t)n : budget;
        }
        if (c->close_when_flushed)
            return false;
        if (c->st != RS_TX_DATA && c->st != RS_LIST)
            return true;
        while ((c->st == RS_TX_DATA || c->st == RS_LIST) &&
               ibx_buf_used(&c->out) < RECV_OUT_HIGH) {
            int r = produce(c);
            if (r < 0) {
                ibx_err(conn_log(c), "recv: %s: get %s: %s", c->peer, c->tx.path,
                        strerror(-r));
                return false;   /* the client sees a cut and can resume */
            }
        }
    }
    *more = true;   /* budget used up: come back on the next pass */
    return true;
}

static void recv_update(struct recv_conn *c)
{
    bool more;
    if (c->closing)
        return;
    if (!recv_output(c, &more)) {
        recv_close(c);
        return;
    }
    uint32_t ev = EPOLLIN | EPOLLRDHUP;
    if (ibx_buf_used(&c->out) || more)
        ev |= EPOLLOUT;
    if (ibx_io_modify(ibx_worker_loop(c->base.worker), &c->io, ev) < 0)
        recv_close(c);
}

static void on_recv_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct recv_conn *c = io->data;
    c->last_active = ibx_loop_now(loop);
    if (events & EPOLLERR) {
        recv_close(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        if (!recv_input(c)) {
            recv_close(c);
            return;
        }
    }
    recv_update(c);
}

static void on_idle(ibx_loop *loop, ibx_timer *t)
{
    struct recv_conn *c = t->data;
    uint64_t quiet = ibx_loop_now(loop) - c->last_active;
    if (quiet >= c->cfg->idle_ms) {
        ibx_info(conn_log(c), "recv: %s: idle for %llu ms, closing", c->peer,
                 (unsigned long long)quiet);
        recv_close(c);
        return;
    }
    ibx_timer_start(loop, t, c->cfg->idle_ms - quiet, on_idle, c);
}

static void recv_drain(ibx_conn *base)
{
    struct recv_conn *c = (struct recv_conn *)base;
    c->draining = true;
    if (c->st == RS_IDLE || c->st == RS_HELLO || c->st == RS_LIST) {
        queue_status(c, IBX_FT_ERROR, IBX_XC_SHUTDOWN, "server shutting down");
        c->close_when_flushed = true;
        recv_update(c);
    }
}

static void recv_abort(ibx_conn *base)
{
    recv_close((struct recv_conn *)base);
}

static const struct ibx_conn_ops recv_ops = {recv_drain, recv_abort};

static int recv_open(ibx_worker *w, int fd, const struct sockaddr *peer,
                     socklen_t peerlen, void *ctx)
{
    struct recv_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->cfg = ctx;
    ibx_addr_format(peer, peerlen, c->peer, sizeof c->peer);
    ibx_frame_dec_init(&c->dec, XFER_DATA_MAX);
    xfer_rx_init(&c->rx);
    ibx_tcp_nodelay(fd, true);   /* whole frames only: no Nagle stalls */
    ibx_loop *loop = ibx_worker_loop(w);
    uint8_t b[64];
    struct ibx_msg_hello h = {IBX_FRAME_VERSION, XFER_DATA_MAX};
    queue(c, b, ibx_msg_hello_encode(b, sizeof b, &h));
    int r = ibx_io_start(loop, &c->io, fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT,
                         on_recv_io, c);
    if (r < 0) {
        close(fd);
        ibx_buf_free(&c->out);
        free(c);
        return r;
    }
    c->last_active = ibx_loop_now(loop);
    if (c->cfg->idle_ms)
        ibx_timer_start(loop, &c->idle, c->cfg->idle_ms, on_idle, c);
    ibx_conn_add(w, &c->base, &recv_ops, false);
    ibx_debug(conn_log(c), "recv: %s: connected", c->peer);
    return 0;
}

const struct ibx_proto xfer_recv_proto = {"recv", recv_open};
