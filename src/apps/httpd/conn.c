/* The httpd connection state machine.
 *
 * Reading: with nothing buffered, a read goes into the worker's scratch
 * buffer and requests are parsed straight from it; only an incomplete tail
 * (or requests pipelined behind a blocked response) is copied into the
 * connection's own buffer, so an idle keep-alive connection holds no
 * buffers at all. Writing: the responses to one read are assembled in the
 * worker's output buffer and sent with one write (pipelined responses stay
 * in order); file bodies follow (body.c); only what the socket does
 * not take is kept per connection, and then IBX_EV_WRITE is armed and reading
 * pauses. One timer per connection enforces, by state, the whole-header
 * deadline (408), the keep-alive idle timeout and a send timeout; it is
 * re-armed lazily (a deadline moved later costs nothing until it fires).
 *
 * Output a client does not read is bounded: every response, whatever made
 * it (cached file, multipart ranges, listing, error page), is counted
 * while it waits, in the scratch of the pass or in the connection's own
 * buffer, and parsing pauses when they reach --max-output; it resumes
 * when the client has taken it all. A pass also ends after PASS_REQUESTS
 * requests or one costly response (a listing), so one client pipelining
 * thousands of requests cannot hold the loop; the rest of its input is
 * taken on a later turn (IBX_EV_WRITE, armed in place of IBX_EV_READ). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

/* A closing connection reads and discards after an error until the peer
 * is quiet for LINGER_MS, for at most LINGER_MAX_MS. */
#define LINGER_MS 2000
#define LINGER_MAX_MS 30000
/* Requests answered in one pass before the connection yields the loop
 * to the others (it resumes on the next turn, through IBX_EV_WRITE). */
#define PASS_REQUESTS 256

static void conn_free(ibx_loop *loop, ibx_defer *d)
{
    struct hconn *c = d->data;
    ibx_buf_free(&c->in);
    ibx_buf_free(&c->out);
    ibx_conn_done(&c->base);
    free(c);
}

/* Empty the scratch of c's worker, and forget it after a large use, so
 * that one big response (a listing) does not pin its memory in the
 * worker. In the thread and fork models the worker is the connection's
 * own: nothing is kept between its responses. */
static void scratch_done(struct hconn *c)
{
    ibx_buf *scratch = &c->hw->out;
    if (scratch->cap > (c->cfg->per_conn_worker ? 0 : HTTPD_SCRATCH_KEEP))
        ibx_buf_free(scratch);
    else
        ibx_buf_reset(scratch);
}

void conn_close(struct hconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    if (ibx_log_enabled(c->cfg->log, IBX_LOG_DEBUG)) {
        char host[IBX_ADDRSTRLEN];
        ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
        ibx_debug(c->cfg->log, "msg=\"connection closed\" peer=%s requests=%u "
                  "duration_ms=%llu", host, c->requests,
                  (unsigned long long)(ibx_loop_now(loop) - c->opened_ms));
    }
    if (c->cgi)
        cgi_abort(c);
    range_free(c);
    scratch_done(c);   /* nothing of ours may reach another peer */
    body_end(c);
    int fd = c->io.fd;
    ibx_io_stop(loop, &c->io);
    ibx_timer_stop(loop, &c->timer);
    /* Push a response held by MSG_MORE out with the FIN now: close()
     * with unread input would reset the connection and drop it unsent. */
    if (c->held)
        shutdown(fd, SHUT_WR);
    close(fd);
    ibx_loop_defer(loop, &c->free_later, conn_free, c);
}

static bool busy(const struct hconn *c)
{
    return ibx_buf_used(&c->out) || c->send.fd >= 0 || c->multi || cgi_active(c);
}

/* While a script answers (or its stdin is full) the socket's read side is
 * left alone: pipelined requests wait, and a half-close (the client's FIN)
 * is not an abort while a response is owed. A client that has gone for
 * good is noticed when a write fails (IBX_EV_ERROR/IBX_EV_HUP), or by the CGI
 * timeout. */
static bool read_paused(const struct hconn *c)
{
    return cgi_active(c) && !(c->reading_body && cgi_wants_body(c));
}

/* Response bytes of c not yet sent: its own buffer, and the worker's
 * scratch, which holds only c's responses while c is being served. */
static size_t out_pending(const struct hconn *c)
{
    return ibx_buf_used(&c->out) + ibx_buf_used(&c->hw->out);
}

/* Parsing paused at --max-output: say so, once per connection and at
 * most once a second (loggate.c). */
static void out_limit_hit(struct hconn *c)
{
    unsigned long held;
    if (c->out_logged || !ibx_log_enabled(c->cfg->log, IBX_LOG_INFO))
        return;
    c->out_logged = true;
    if (!hlog_due(c->cfg, HLOG_OUTPUT, &held))
        return;
    char host[IBX_ADDRSTRLEN];
    ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
    ibx_info(c->cfg->log, "msg=\"max-output reached, pipelined requests wait for the "
             "client to read\" peer=%s pending=%zu max_output=%zu suppressed=%lu", host,
             out_pending(c), c->cfg->max_output, held);
}

/* Send buffered bytes, then the file segment, then further multipart
 * parts. */
static int conn_flush(struct hconn *c)
{
    ibx_buf *scratch = &c->hw->out;
    for (;;) {
        if (c->send.fd >= 0)
            body_coalesce(c);   /* a short head goes out with the body */
        if (ibx_buf_used(scratch)) {
            if (!ibx_buf_used(&c->out)) {
                /* The last bytes before a close: MSG_MORE holds them for
                 * the close, whose FIN then rides in the same segment
                 * (one packet for the client to take instead of two). */
                bool last = c->close_after && c->send.fd < 0 && !c->multi &&
                            !cgi_active(c);
                ssize_t n = send(c->io.fd, ibx_buf_head(scratch), ibx_buf_used(scratch),
                                 MSG_NOSIGNAL | (last ? MSG_MORE : 0));
                c->held |= last && n > 0;
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    scratch_done(c);
                    return FLUSH_ERROR;
                }
                if (n > 0)
                    ibx_buf_consume(scratch, (size_t)n);
            }
            if (ibx_buf_used(scratch) &&
                ibx_buf_append(&c->out, ibx_buf_head(scratch), ibx_buf_used(scratch)) < 0) {
                scratch_done(c);
                return FLUSH_ERROR;
            }
            scratch_done(c);
        }
        while (ibx_buf_used(&c->out)) {
            ssize_t n = ibx_buf_write_fd(&c->out, c->io.fd);
            if (n == -EAGAIN || n == -EINTR)
                return FLUSH_AGAIN;
            if (n < 0)
                return FLUSH_ERROR;
        }
        ibx_buf_free(&c->out);
        int r = body_send(c);
        if (r != FLUSH_DONE)
            return r;
        if (!c->multi || !range_next_part(c))
            return FLUSH_DONE;
    }
}

static void on_timer(ibx_loop *loop, ibx_timer *t);
static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events);

/* Choose the deadline for the connection's state and make sure the timer
 * fires no later than it. */
static void conn_arm(struct hconn *c)
{
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    uint64_t now = ibx_loop_now(loop);
    const struct httpd_cfg *cfg = c->cfg;
    if (cgi_active(c) || c->lingering)
        ;   /* the CGI code (or the linger) keeps c->deadline */
    else if (busy(c) || c->resume)
        c->deadline = now + cfg->send_timeout_ms;
    else if (c->head_started)
        c->deadline = c->head_started + cfg->header_timeout_ms;
    else
        c->deadline = now + cfg->idle_timeout_ms;
    if (!ibx_timer_active(&c->timer) || c->timer.due > c->deadline) {
        uint64_t ms = c->deadline > now ? c->deadline - now : 0;
        ibx_timer_start(loop, &c->timer, ms, on_timer, c);
    }
}

/* Dispatch one parsed request. Returns the body bytes it took from rest. */
static size_t handle(struct hconn *c, const char *rest, size_t restlen)
{
    struct ibx_http_request *req = &c->hw->req;
    const struct httpd_cfg *cfg = c->cfg;
    c->minor = (uint8_t)req->minor;
    c->head_req = req->meth == IBX_HTTP_HEAD;
    if (!ibx_http_keep_alive(req))
        c->close_after = true;
    bool has_body = (req->flags & IBX_HTTP_F_CHUNKED) ||
                    ((req->flags & IBX_HTTP_F_LENGTH) && req->content_length);
    if (req->meth == IBX_HTTP_UNKNOWN) {
        c->linger |= has_body;   /* 501 closes; its body stays unread */
        resp_error(c, 501);
        return 0;
    }
    char path[HTTPD_PATH_MAX];
    struct ibx_http_str query;
    if (req->meth == IBX_HTTP_OPTIONS && req->target.n == 1 && req->target.p[0] == '*') {
        path[0] = '\0';
    } else {
        int n = ibx_http_path_normalize(req->target.p, req->target.n, path,
                                        sizeof path, &query);
        if (n < 0) {
            c->close_after |= has_body;
            c->linger |= has_body;
            resp_error(c, n == -ENAMETOOLONG ? 414 : 400);
            return 0;
        }
    }
    if (path[0] && req->meth != IBX_HTTP_OPTIONS && cgi_match(cfg, path)) {
        size_t used = restlen;
        cgi_start(c, path, query, rest, &used);
        return used;
    }
    if (has_body) {
        c->close_after = true;   /* we do not read bodies we do not want */
        c->linger = true;
    }
    switch (req->meth) {
    case IBX_HTTP_GET:
    case IBX_HTTP_HEAD:
        static_serve(c, path, query);
        break;
    case IBX_HTTP_OPTIONS: {
        struct hresp r = {.status = 200, .body_len = 0};
        resp_start(c, &r);
        resp_field(c, "Allow", cfg->cgi_prefix ? "GET, HEAD, OPTIONS, POST"
                                               : "GET, HEAD, OPTIONS");
        resp_end(c, &r);
        resp_log(c, 200, 0);
        break;
    }
    default:
        resp_error(c, 405);
        break;
    }
    return 0;
}

/* Parse and answer requests in buf[0..len). Returns bytes consumed. */
static size_t conn_process(struct hconn *c, const char *buf, size_t len)
{
    size_t off = 0;
    struct hworker *hw = c->hw;
    unsigned handled = 0;
    bool later = false;   /* stopped by the bound or the pass budget */
    c->resume = false;
    while (!c->closing && off < len) {
        if (c->reading_body) {
            off += cgi_feed(c, buf + off, len - off);
            if (c->reading_body)
                break;
            continue;
        }
        if (cgi_active(c) || c->send.fd >= 0 || c->multi)
            break;   /* responses stay in order: wait for this one */
        if (c->close_after || c->draining) {
            off = len;   /* no request follows: nothing here is parsed */
            break;
        }
        if (out_pending(c) >= c->cfg->max_output) {
            out_limit_hit(c);
            later = true;
            break;   /* the client must read before we answer more */
        }
        if (handled == PASS_REQUESTS || c->yield) {
            later = true;
            break;   /* let the other connections run */
        }
        if (!c->req_t0_us)
            c->req_t0_us = resp_clock_us();
        ssize_t r = ibx_http_parse_request(buf + off, len - off, 0, &hw->req);
        if (r == IBX_HTTP_INCOMPLETE) {
            if (!c->head_started)
                c->head_started = ibx_loop_now(ibx_worker_loop(c->base.worker));
            break;
        }
        c->head_started = 0;
        if (r == IBX_HTTP_ERROR) {
            c->linger = true;
            c->minor = 1;
            c->head_req = false;
            resp_error(c, hw->req.status);
            c->close_after = true;
            off = len;
            break;
        }
        off += (size_t)r;
        handled++;
        c->requests++;
        off += handle(c, buf + off, len - off);
        if (c->send.fd >= 0 || c->multi) {
            conn_nodelay(c);
            int f = conn_flush(c);
            if (f == FLUSH_ERROR) {
                conn_close(c);
                return len;
            }
        }
    }
    c->yield = false;
    c->resume = later && off < len && !c->closing;
    return off;
}

/* Read once and process; keep unprocessed bytes. */
static void conn_read(struct hconn *c)
{
    struct hworker *hw = c->hw;
    ssize_t n;
    if (ibx_buf_used(&c->in)) {
        n = ibx_buf_read_fd(&c->in, c->io.fd, 65536);
        if (n == -EAGAIN || n == -EINTR)
            return;
        if (n <= 0) {
            c->eof = true;
            return;
        }
        size_t used = conn_process(c, ibx_buf_head(&c->in), ibx_buf_used(&c->in));
        if (!c->closing)
            ibx_buf_consume(&c->in, used);
        if (!c->closing && !ibx_buf_used(&c->in))
            ibx_buf_free(&c->in);
        return;
    }
    n = recv(c->io.fd, hw->rin, hw->rin_cap, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            c->eof = true;
        return;
    }
    if (n == 0) {
        c->eof = true;
        return;
    }
    size_t used = conn_process(c, hw->rin, (size_t)n);
    if (!c->closing && used < (size_t)n &&
        ibx_buf_append(&c->in, hw->rin + used, (size_t)n - used) < 0)
        conn_close(c);
}

/* Decide what to wait for next, or close. */
/* Watch the socket for ev, registering it on first use (a connection
 * answered straight from accept never touches epoll). */
static int conn_watch(struct hconn *c, uint32_t ev)
{
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    if (!c->io.active)
        return ibx_io_start(loop, &c->io, c->io.fd, ev, on_io, c);
    return ibx_io_modify(loop, &c->io, ev);
}

void conn_nodelay(struct hconn *c)
{
    if (!c->nodelay) {
        ibx_tcp_nodelay(c->io.fd, true);
        c->nodelay = true;
    }
}

/* Close after an error with input possibly still arriving: send FIN,
 * then read and discard for a moment so the kernel does not answer the
 * unread bytes with an RST that could destroy our response in flight. */
static void conn_linger(struct hconn *c)
{
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    shutdown(c->io.fd, SHUT_WR);
    c->lingering = true;
    ibx_buf_free(&c->in);
    if (conn_watch(c, IBX_EV_READ | IBX_EV_RDHUP) < 0) {
        conn_close(c);
        return;
    }
    c->head_started = ibx_loop_now(loop);   /* when the linger began */
    c->deadline = c->head_started + LINGER_MS;
    ibx_timer_start(loop, &c->timer, LINGER_MS, on_timer, c);
}

/* Decide what to wait for next, or close. */
static void conn_update(struct hconn *c)
{
    if (c->closing || c->lingering)
        return;
    if (ibx_buf_used(&c->hw->out) || (c->send.fd >= 0 && !ibx_buf_used(&c->out))) {
        if (conn_flush(c) == FLUSH_ERROR) {
            conn_close(c);
            return;
        }
    }
    if (c->eof && c->reading_body && !ibx_buf_used(&c->in)) {
        conn_close(c);   /* the client left mid-body: no request to answer */
        return;
    }
    bool pending = busy(c) || c->resume;
    if (!pending && (c->close_after || c->eof || c->draining)) {
        if (c->linger && !c->eof)
            conn_linger(c);
        else
            conn_close(c);
        return;
    }
    if (pending || !c->close_after)
        conn_nodelay(c);   /* more responses may follow on this connection */
    bool paused = read_paused(c);
    uint32_t ev = paused ? 0 : IBX_EV_RDHUP;
    bool out_blocked = ibx_buf_used(&c->out) || c->send.fd >= 0;
    if (out_blocked || c->resume)
        ev |= IBX_EV_WRITE;   /* resume: the rest of the input on a later turn */
    else if (!paused)
        ev |= IBX_EV_READ;
    if (c->eof)
        ev &= ~(uint32_t)(IBX_EV_RDHUP | IBX_EV_READ);
    if (conn_watch(c, ev) < 0) {
        conn_close(c);
        return;
    }
    conn_arm(c);
}

void conn_kick(struct hconn *c)
{
    if (c->closing)
        return;
    if (busy(c) || ibx_buf_used(&c->hw->out)) {
        int f = conn_flush(c);
        if (f == FLUSH_ERROR) {
            conn_close(c);
            return;
        }
    }
    /* pipelined requests waiting behind the finished response, or the
     * rest of a body the script can take now */
    if (ibx_buf_used(&c->in) &&
        ((c->reading_body && cgi_wants_body(c)) || (!busy(c) && !c->close_after))) {
        size_t used = conn_process(c, ibx_buf_head(&c->in), ibx_buf_used(&c->in));
        if (c->closing)
            return;
        ibx_buf_consume(&c->in, used);
        if (!ibx_buf_used(&c->in))
            ibx_buf_free(&c->in);
    }
    conn_update(c);
}

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct hconn *c = io->data;
    if (c->lingering) {
        /* discard what the peer still sends; close at EOF, after
         * LINGER_MS of quiet (the timer), or at LINGER_MAX_MS */
        uint64_t now = ibx_loop_now(loop);
        uint64_t cap = c->head_started + LINGER_MAX_MS;
        for (int i = 0; i < 16; i++) {
            ssize_t n = recv(c->io.fd, c->hw->rin, c->hw->rin_cap, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0) {
                conn_close(c);
                return;
            }
        }
        if (now >= cap) {
            conn_close(c);
            return;
        }
        c->deadline = now + LINGER_MS < cap ? now + LINGER_MS : cap;
        return;
    }
    if (events & IBX_EV_ERROR) {
        conn_close(c);
        return;
    }
    if (events & IBX_EV_WRITE) {
        int f = conn_flush(c);
        if (f == FLUSH_ERROR) {
            conn_close(c);
            return;
        }
        if (f == FLUSH_DONE && c->cgi)
            cgi_resume(c);
        if (f == FLUSH_DONE) {
            conn_kick(c);
            return;
        }
    }
    if (events & (IBX_EV_READ | IBX_EV_HUP | IBX_EV_RDHUP)) {
        if (read_paused(c)) {
            /* only a hang-up (a reset) matters while a script answers */
            if (events & IBX_EV_HUP) {
                conn_close(c);
                return;
            }
        } else if (events & IBX_EV_READ) {
            conn_read(c);
            if (c->closing)
                return;
        } else {
            c->eof = true;
        }
    }
    conn_update(c);
}

static void on_timer(ibx_loop *loop, ibx_timer *t)
{
    struct hconn *c = t->data;
    uint64_t now = ibx_loop_now(loop);
    if (now < c->deadline) {
        ibx_timer_start(loop, &c->timer, c->deadline - now, on_timer, c);
        return;
    }
    if (c->lingering) {
        conn_close(c);
        return;
    }
    if (cgi_active(c)) {
        cgi_abort(c);   /* timeout: answers 504 if nothing was sent yet */
        conn_kick(c);
        return;
    }
    if (c->head_started && !busy(c)) {
        memset(&c->hw->req, 0, offsetof(struct ibx_http_request, headers));
        c->minor = 1;
        c->head_req = false;
        c->close_after = true;
        resp_error(c, 408);
        c->head_started = 0;
        (void)conn_flush(c);
    }
    conn_close(c);
}

static void conn_drain(ibx_conn *base)
{
    struct hconn *c = (struct hconn *)base;
    if (c->closing)
        return;
    c->draining = true;
    if (c->lingering || (!busy(c) && !c->reading_body))
        conn_close(c);   /* idle or mid-head: nothing in flight to finish */
}

static void conn_abort(ibx_conn *base)
{
    conn_close((struct hconn *)base);
}

static const struct ibx_conn_ops conn_ops = {.drain = conn_drain, .abort = conn_abort};

static int httpd_open(ibx_worker *w, int fd, const struct sockaddr *peer,
                      socklen_t peerlen, void *ctx)
{
    struct httpd_cfg *cfg = ctx;
    struct hconn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->cfg = cfg;
    c->send.fd = -1;
    c->hw = hworker_get(cfg, w);
    if (!c->hw) {
        free(c);
        close(fd);
        return -ENOMEM;
    }
    if (peerlen > sizeof c->peer)
        peerlen = sizeof c->peer;
    memcpy(&c->peer, peer, peerlen);
    c->peerlen = peerlen;
    ibx_loop *loop = ibx_worker_loop(w);
    c->io.fd = fd;   /* not on epoll yet: see conn_watch */
    c->head_started = ibx_loop_now(loop);
    c->opened_ms = c->head_started;
    if (ibx_log_enabled(cfg->log, IBX_LOG_DEBUG)) {
        char host[IBX_ADDRSTRLEN];
        ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
        ibx_debug(cfg->log, "msg=\"connection opened\" peer=%s", host);
    }
    ibx_conn_add(w, &c->base, &conn_ops, false);
    /* Optimistic read: the request usually arrived with the handshake
     * (it is there when accept returns), so answer it now and register
     * with epoll only if the connection lives on. */
    conn_read(c);
    if (!c->closing)
        conn_update(c);
    return 0;
}

/* A client speaks first: let the kernel hand us connections with their
 * request already readable (up to the default header deadline). */
const struct ibx_proto httpd_proto = {
    .name = "httpd", .open = httpd_open, .defer_accept_s = 10,
};
