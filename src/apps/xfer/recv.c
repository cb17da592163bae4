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

#include "recv_conn.h"

/* Bytes moved per readiness event before yielding to other clients. */
#define RECV_BUDGET (4u << 20)
/* Frames produced per connection per pass: bytes alone would let one pass
 * walk ~100k directory entries for a LIST (a stall of the whole loop). */
#define RECV_PRODUCE_MAX 1024u
/* Output kept queued while serving a file or a listing. */
#define RECV_OUT_HIGH (256u * 1024)
/* Input waits while more than this is queued for a peer that does not
 * read its answers (pipelined GETs or OFFERs that are refused): at most
 * what serving a file leaves queued, so a GET never pauses input. */
#define RECV_OUT_MAX (RECV_OUT_HIGH + RECV_CHUNK + IBX_FRAME_HDR)

const ibx_log *recv_log(const struct recv_conn *c) { return c->cfg->log; }

static void recv_free(ibx_loop *loop, ibx_defer *d)
{
    struct recv_conn *c = d->data;
    struct recv_cfg *cfg = c->cfg;
    ibx_job_fini(&c->commit, loop);
    recv_unpromise(c, UINT64_MAX);
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
    ibx_timer_stop(loop, &c->lease_watch);
    ibx_timer_stop(loop, &c->auth_delay);
    if (fd >= 0)
        close(fd);
    ibx_debug(recv_log(c), "msg=\"connection closed\" peer=%s duration_ms=%llu", c->peer,
              (unsigned long long)(ibx_loop_now(loop) - c->opened_at));
    unsigned long held = ibx_log_gate_take(&c->refusals);
    if (held)
        ibx_warn(recv_log(c), "msg=\"%lu more refused or skipped files on this connection "
                 "not logged (the first %d were)\" peer=%s", held, RECV_REFUSAL_LOG_MAX,
                 c->peer);
    if (c->st == RS_RX_DATA || c->st == RS_RX_CONFIRM || c->st == RS_HASH_END) {
        ibx_warn(recv_log(c), "msg=\"%s interrupted at %llu of %llu bytes; partial file "
                 "kept for resume\" peer=%s", c->rx.path, (unsigned long long)c->rx.pos,
                 (unsigned long long)c->rx.size, c->peer);
        recv_worse(c, XFER_EXIT_IO);
    }
    if (ibx_job_running(&c->commit)) {
        /* the file is verified: its commit goes on, and frees us */
        ibx_info(recv_log(c), "msg=\"connection closed while %s is committed; finishing "
                 "the commit\" peer=%s", c->rx.path, c->peer);
        return;
    }
    recv_free_later(c);
}

bool recv_log_due(const struct recv_conn *c)
{
    bool pre = c->st == RS_HELLO || c->st == RS_AUTH || c->st == RS_AUTH_FAILED;
    if (!pre || !c->cfg->preauth_log)
        return true;
    return ibx_log_gate_pass(c->cfg->preauth_log,
                             ibx_loop_now(ibx_worker_loop(c->base.worker)), NULL);
}

bool recv_refusal_due(struct recv_conn *c)
{
    return ibx_log_gate_pass(&c->refusals, 0, NULL);
}

void recv_free_later(struct recv_conn *c)
{
    ibx_loop_defer(ibx_worker_loop(c->base.worker), &c->free_later, recv_free, c);
}

void recv_worse(struct recv_conn *c, int exit_code)
{
    /* only --once reads it, and --once is single-threaded: other models
     * share cfg between threads and must not write to it */
    if (c->cfg->once && exit_code > c->cfg->status)
        c->cfg->status = exit_code;
}

/* Queue a control frame produced by an encoder. */
void recv_queue(struct recv_conn *c, const uint8_t *b, ssize_t n)
{
    if (n < 0 || ibx_buf_append(&c->out, b, (size_t)n) < 0) {
        ibx_err(recv_log(c), "msg=\"cannot queue a frame: %s\" peer=%s",
                strerror(n < 0 ? (int)-n : ENOMEM), c->peer);
        c->close_when_flushed = true;
    }
}

void recv_queue_status(struct recv_conn *c, uint8_t type, int code,
                         const char *text)
{
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_TEXT_MAX + 8];
    recv_queue(c, b, ibx_msg_status_encode(b, sizeof b, type, (uint16_t)code, text));
}

/* Fatal for the session: ERROR frame, then close once it is written. */
void recv_session_error(struct recv_conn *c, int code, const char *text)
{
    if (recv_log_due(c))
        ibx_warn(recv_log(c), "msg=\"%s: %s\" peer=%s", ibx_frame_code_name(code), text,
                 c->peer);
    recv_worse(c, xfer_exit_for_code(code) ? xfer_exit_for_code(code) : XFER_EXIT_PROTOCOL);
    recv_queue_status(c, IBX_FT_ERROR, code, text);
    c->close_when_flushed = true;
}

/* One file is over: back to idle (or close when draining). */
void recv_file_over(struct recv_conn *c)
{
    recv_unpromise(c, UINT64_MAX);
    xfer_rx_close(&c->rx);
    if (c->tx_open)
        xfer_tx_close(&c->tx);
    c->tx_open = false;
    c->st = RS_IDLE;
    if (c->draining) {
        recv_queue_status(c, IBX_FT_ERROR, IBX_XC_SHUTDOWN, "server shutting down");
        c->close_when_flushed = true;
    }
}

double recv_rate_mbs(uint64_t bytes, uint64_t ms)
{
    return ms ? (double)bytes / 1e3 / (double)ms : 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static void on_frame(struct recv_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
    if (type == IBX_FT_ERROR) {
        struct ibx_msg_status st;
        if (ibx_msg_status_decode(p, n, &st) == 0 && recv_log_due(c))
            ibx_warn(recv_log(c), "msg=\"peer error: %s (%.*s)\" peer=%s",
                     ibx_frame_code_name(st.code), (int)st.text_len, st.text, c->peer);
        recv_worse(c, st.code == IBX_XC_EXISTS ? XFER_EXIT_REFUSED : XFER_EXIT_IO);
        recv_close(c);
        return;
    }
    if (type == IBX_FT_ACK && (c->st == RS_RX_CONFIRM || c->st == RS_TX_RESUME)) {
        /* the peer skips this file (its own check refused it) */
        struct ibx_msg_status st;
        if (ibx_msg_status_decode(p, n, &st) == 0 && recv_refusal_due(c))
            ibx_info(recv_log(c), "msg=\"%s skipped by peer: %s (%.*s)\" peer=%s",
                     c->st == RS_RX_CONFIRM ? c->rx.path : c->tx.path,
                     ibx_frame_code_name(st.code), (int)st.text_len, st.text, c->peer);
        if (c->st == RS_RX_CONFIRM)
            recv_worse(c, xfer_exit_for_code(st.code));
        recv_file_over(c);
        return;
    }
    switch (c->st) {
    case RS_HELLO:
        if (type == IBX_FT_HELLO)
            recv_on_hello(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected HELLO");
        return;
    case RS_AUTH:
        if (type == IBX_FT_PROOF)
            recv_on_proof(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected PROOF");
        return;
    case RS_IDLE:
        if (c->draining) {
            recv_file_over(c);   /* says shutdown and closes */
        } else if (type == IBX_FT_OFFER) {
            recv_on_offer(c, p, n);
        } else if (type == IBX_FT_GET) {
            recv_on_get(c, p, n);
        } else if (type == IBX_FT_LIST && n == 0) {
            int r = xfer_list_open(&c->list, c->cfg->rootfd, c->cfg->opts.max_depth);
            if (r < 0)
                recv_queue_status(c, IBX_FT_ACK, IBX_XC_IO, strerror(-r));
            else
                c->st = RS_LIST;
        } else {
            recv_session_error(c, IBX_XC_PROTOCOL, "unexpected frame");
        }
        return;
    case RS_RX_CONFIRM:
        if (type == IBX_FT_RESUME)
            recv_on_rx_confirm(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected RESUME");
        return;
    case RS_RX_DATA:
        if (type == IBX_FT_END)
            recv_on_rx_end(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected DATA or END");
        return;
    case RS_TX_RESUME:
        if (type == IBX_FT_RESUME)
            recv_on_tx_resume(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected RESUME");
        return;
    case RS_TX_ACK:
        if (type == IBX_FT_ACK)
            recv_on_tx_ack(c, p, n);
        else
            recv_session_error(c, IBX_XC_PROTOCOL, "expected ACK");
        return;
    case RS_TX_DATA:
    case RS_LIST:
        recv_session_error(c, IBX_XC_PROTOCOL, "unexpected frame while sending");
        return;
    case RS_HASH_OFFER:
    case RS_HASH_END:
    case RS_HASH_TX:
    case RS_COMMIT:
    case RS_AUTH_FAILED:
        recv_session_error(c, IBX_XC_PROTOCOL, "frame before our answer");
        return;
    }
}

/* The peer made progress: a whole frame or header arrived, DATA moved or
 * our output was taken. A byte here and there of a frame is not progress:
 * otherwise a peer trickling a header defeats the idle timeout. */
static void recv_active(struct recv_conn *c)
{
    c->last_active = ibx_loop_now(ibx_worker_loop(c->base.worker));
}

/* Read and handle input. Returns false when the connection must close. */
static bool recv_input(struct recv_conn *c)
{
    uint8_t tmp[IBX_FRAME_CTRL_MAX];
    size_t budget = RECV_BUDGET;
    while (budget > 0 && !c->closing && !c->close_when_flushed && !recv_busy(c->st) &&
           ibx_buf_used(&c->out) <= RECV_OUT_MAX) {
        uint32_t left = ibx_frame_dec_data_left(&c->dec);
        if (left > 0) {
            ssize_t n = xfer_rx_pump(&c->rx, c->io.fd, left < budget ? left : budget);
            if (n == -EAGAIN)
                return true;
            if (n == 0)
                return false;   /* EOF inside DATA: partial file kept */
            if (n < 0) {
                recv_rx_failed(c, (int)-n);
                return true;
            }
            ibx_frame_dec_skip(&c->dec, (uint32_t)n);
            recv_unpromise(c, (uint64_t)n);
            recv_active(c);
            budget -= (size_t)n < budget ? (size_t)n : budget;
            /* read back what was just written, while it is in the cache */
            if (xfer_rx_lease_check(&c->rx) &&
                xfer_rx_verify_step(&c->rx, 2 * (uint64_t)n) < 0)
                c->rx.leased = false;   /* END re-reads the whole file */
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
            recv_session_error(c, used == -EMSGSIZE ? IBX_XC_FRAME_SIZE : IBX_XC_PROTOCOL,
                          used == -EMSGSIZE ? "frame above the maximum size"
                                            : "malformed frame header");
            return true;
        }
        if (ev.kind != IBX_FEV_NONE || ibx_frame_dec_data_left(&c->dec) > 0)
            recv_active(c);
        if (ev.kind == IBX_FEV_FRAME) {
            on_frame(c, ev.type, ev.data, ev.len);
        } else if (ibx_frame_dec_data_left(&c->dec) > 0 || ev.kind == IBX_FEV_DATA_END) {
            /* a DATA header: only while receiving, never past the size */
            if (c->st != RS_RX_DATA)
                recv_session_error(c, IBX_XC_PROTOCOL, "DATA outside a transfer");
            else if (ibx_frame_dec_data_left(&c->dec) > xfer_rx_left(&c->rx))
                recv_session_error(c, IBX_XC_PROTOCOL, "more DATA than offered");
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
    unsigned produced = 0;
    for (size_t budget = RECV_BUDGET; budget > 0;) {
        while (ibx_buf_used(&c->out)) {
            ssize_t n = ibx_buf_write_fd(&c->out, c->io.fd);
            if (n == -EAGAIN)
                return true;
            if (n < 0)
                return false;
            if (n > 0)
                recv_active(c);
            budget -= (size_t)n < budget ? (size_t)n : budget;
        }
        if (c->close_when_flushed)
            return false;
        if (c->st != RS_TX_DATA && c->st != RS_LIST)
            return true;
        while ((c->st == RS_TX_DATA || c->st == RS_LIST) &&
               ibx_buf_used(&c->out) < RECV_OUT_HIGH) {
            if (produced++ == RECV_PRODUCE_MAX) {
                *more = true;   /* a long listing: let the others run */
                return true;
            }
            int r = recv_produce(c);
            if (r < 0) {
                ibx_err(recv_log(c), "msg=\"get %s: %s\" peer=%s", c->tx.path, strerror(-r),
                        c->peer);
                return false;   /* the client sees a cut and can resume */
            }
        }
    }
    *more = true;   /* budget used up: come back on the next pass */
    return true;
}

void recv_update(struct recv_conn *c)
{
    bool more;
    if (c->closing)
        return;
    if (!recv_output(c, &more)) {
        recv_close(c);
        return;
    }
    bool paused = recv_busy(c->st) || ibx_buf_used(&c->out) > RECV_OUT_MAX;
    uint32_t ev = paused ? 0 : IBX_EV_READ | IBX_EV_RDHUP;
    if (ibx_buf_used(&c->out) || more)
        ev |= IBX_EV_WRITE;
    if (ibx_io_modify(ibx_worker_loop(c->base.worker), &c->io, ev) < 0)
        recv_close(c);
}

static void on_recv_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct recv_conn *c = io->data;
    (void)loop;
    if (events & IBX_EV_ERROR) {
        recv_close(c);
        return;
    }
    if (events & (IBX_EV_READ | IBX_EV_RDHUP | IBX_EV_HUP)) {
        if (!recv_input(c)) {
            recv_close(c);
            return;
        }
    }
    recv_update(c);
}

/* Silence allowed: --idle, plus the time the peer may need to hash a
 * file before it answers (the protocol has no keepalive). */
static uint64_t recv_patience(const struct recv_conn *c)
{
    uint64_t bytes = 0;
    if (c->st == RS_RX_CONFIRM)
        bytes = c->rx.proposed;     /* sender checks its prefix */
    else if (c->st == RS_TX_RESUME || c->st == RS_TX_ACK)
        bytes = c->tx.size;         /* get hashes its copy, or verifies */
    return c->cfg->idle_ms + bytes / XFER_SLOW_HASH_RATE;
}

static void on_idle(ibx_loop *loop, ibx_timer *t)
{
    struct recv_conn *c = t->data;
    uint64_t quiet = ibx_loop_now(loop) - c->last_active;
    uint64_t patience = recv_patience(c);
    if (ibx_job_running(&c->commit)) {
        /* the peer waits for us: never close on our own slow disk */
        c->last_active = ibx_loop_now(loop);
        quiet = 0;
    }
    /* HELLO and authentication must be over --handshake-timeout after
     * the connection opened, however the peer paces its frames */
    bool hs = (c->st == RS_HELLO || c->st == RS_AUTH) && c->cfg->handshake_ms;
    uint64_t age = ibx_loop_now(loop) - c->opened_at;
    if (hs && age >= c->cfg->handshake_ms) {
        if (recv_log_due(c))
            ibx_info(recv_log(c), "msg=\"handshake not finished in %llu ms (--handshake-timeout), "
                     "closing\" peer=%s", (unsigned long long)age, c->peer);
        recv_close(c);
        return;
    }
    if (quiet >= patience) {
        if (recv_log_due(c))
            ibx_info(recv_log(c), "msg=\"idle for %llu ms, closing\" peer=%s",
                     (unsigned long long)quiet, c->peer);
        recv_close(c);
        return;
    }
    uint64_t next = patience - quiet;
    if (hs && c->cfg->handshake_ms - age < next)
        next = c->cfg->handshake_ms - age;
    ibx_timer_start(loop, t, next, on_idle, c);
}

static void recv_drain(ibx_conn *base)
{
    struct recv_conn *c = (struct recv_conn *)base;
    c->draining = true;
    if (c->st == RS_AUTH_FAILED) {
        recv_auth_fail_now(c);
    } else if (c->st == RS_IDLE || c->st == RS_HELLO || c->st == RS_AUTH ||
               c->st == RS_LIST) {
        recv_queue_status(c, IBX_FT_ERROR, IBX_XC_SHUTDOWN, "server shutting down");
        c->close_when_flushed = true;
        recv_update(c);
    }
}

static void recv_abort(ibx_conn *base)
{
    struct recv_conn *c = (struct recv_conn *)base;
    /* tell the peer why, if a whole frame fits in the socket right now
     * (never after a partly written frame) */
    uint8_t b[64];
    ssize_t n = ibx_msg_status_encode(b, sizeof b, IBX_FT_ERROR, IBX_XC_SHUTDOWN,
                                      "server shutting down");
    if (!c->closing && n > 0 && !ibx_buf_used(&c->out))
        (void)send(c->io.fd, b, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    recv_close(c);
}

static const struct ibx_conn_ops recv_ops = {.drain = recv_drain, .abort = recv_abort};

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
    ibx_log_gate_init(&c->refusals, RECV_REFUSAL_LOG_MAX, 0);
    xfer_rx_init(&c->rx);
    ibx_job_init(&c->commit);
    ibx_tcp_nodelay(fd, true);   /* whole frames only: no Nagle stalls */
    ibx_loop *loop = ibx_worker_loop(w);
    /* our HELLO answers the client's: its version and flags decide ours */
    int r = ibx_io_start(loop, &c->io, fd, IBX_EV_READ | IBX_EV_RDHUP, on_recv_io, c);
    if (r < 0) {
        close(fd);
        ibx_buf_free(&c->out);
        free(c);
        return r;
    }
    c->last_active = c->opened_at = ibx_loop_now(loop);
    uint64_t first = c->cfg->idle_ms;
    if (c->cfg->handshake_ms && c->cfg->handshake_ms < first)
        first = c->cfg->handshake_ms;
    if (c->cfg->idle_ms)
        ibx_timer_start(loop, &c->idle, first, on_idle, c);
    ibx_conn_add(w, &c->base, &recv_ops, false);
    ibx_debug(recv_log(c), "msg=\"connection opened\" peer=%s", c->peer);
    return 0;
}

const struct ibx_proto xfer_recv_proto = {.name = "recv", .open = recv_open};
