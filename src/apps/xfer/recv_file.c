/* recv, one file at a time: receiving an OFFER (propose a resume, take
 * the confirm, verify and commit at END), serving a GET (offer, check the
 * client's prefix, produce DATA and END) and the hash jobs both need,
 * run a slice per loop pass. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recv_conn.h"

/* ---- receiving (OFFER from send) ------------------------------------- */

/* While a file is being received, a process opening it must not wait
 * for our next event: look at the lease now and then. */
static void on_lease_watch(ibx_loop *loop, ibx_timer *t)
{
    struct recv_conn *c = t->data;
    if (c->closing || (c->st != RS_HASH_OFFER && c->st != RS_RX_CONFIRM &&
                       c->st != RS_RX_DATA && c->st != RS_HASH_END))
        return;
    if (xfer_rx_lease_check(&c->rx))
        ibx_timer_start(loop, t, RECV_LEASE_WATCH_MS, on_lease_watch, c);
    else
        ibx_debug(recv_log(c), "msg=\"%s was opened by another process; it will be re-read "
                  "before commit\" peer=%s", c->rx.path, c->peer);
}

void recv_promise(struct recv_conn *c, uint64_t n)
{
    c->promised += n;
    atomic_fetch_add(c->cfg->promised, n);
}

void recv_unpromise(struct recv_conn *c, uint64_t n)
{
    if (n > c->promised)
        n = c->promised;
    c->promised -= n;
    atomic_fetch_sub(c->cfg->promised, n);
}

void recv_rx_failed(struct recv_conn *c, int err)
{
    char why[XFER_WHY];
    if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
        /* a partial file must not keep the disk full until it expires */
        xfer_rx_drop_partial(&c->rx);
        xfer_whyf(why, "%.200s: %s; the partial file was removed", c->rx.path,
                  strerror(err));
        c->st = RS_IDLE;   /* nothing is kept for a resume */
    } else {
        xfer_whyf(why, "%.200s: %s", c->rx.path, strerror(err));
    }
    ibx_err(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
    recv_worse(c, XFER_EXIT_IO);
    recv_queue_status(c, IBX_FT_ERROR, IBX_XC_IO, why);
    c->close_when_flushed = true;
}

void recv_on_offer(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_offer o;
    struct ibx_msg_resume rs;
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + 64];
    if (ibx_msg_offer_decode(p, n, &o) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed OFFER");
        return;
    }
    int code = xfer_rx_offer_start(&c->rx, c->cfg->rootfd, &o, &c->cfg->opts, &rs, why);
    if (code == 0 || code == XFER_PENDING) {
        /* before a byte is written: will it fit, with what other
         * uploads in progress may still write, and the reserve? */
        uint64_t need;
        int sc = xfer_rx_space_check(&c->rx, atomic_load(c->cfg->promised),
                                     c->cfg->min_free, c->cfg->min_free_pct, &need, why);
        if (sc)
            code = sc;
        else
            recv_promise(c, need);
    }
    if ((code == 0 || code == XFER_PENDING) && c->rx.leased)
        ibx_timer_start(ibx_worker_loop(c->base.worker), &c->lease_watch,
                        RECV_LEASE_WATCH_MS, on_lease_watch, c);
    if (code == XFER_PENDING) {
        c->reply = rs;
        c->st = RS_HASH_OFFER;
        recv_start_work(c);
        return;
    }
    if (code) {
        if (recv_refusal_due(c))
            ibx_warn(recv_log(c), "msg=\"refused: %s: %s\" peer=%s",
                     ibx_frame_code_name(code), why, c->peer);
        recv_worse(c, xfer_exit_for_code(code));
        recv_queue_status(c, IBX_FT_ACK, code, why);
        recv_file_over(c);
        return;
    }
    recv_queue(c, b, ibx_msg_resume_encode(b, sizeof b, &rs));
    c->st = RS_RX_CONFIRM;
}

void recv_on_rx_confirm(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_resume cf;
    char why[XFER_WHY];
    if (ibx_msg_resume_decode(p, n, &cf) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed RESUME");
        return;
    }
    int code = xfer_rx_confirm(&c->rx, &cf, why);
    if (!code && c->rx.existing && !c->rx.unchanged) {
        /* the existing file is replaced: its new copy needs room (the
         * offer promised nothing for it) */
        uint64_t need;
        code = xfer_rx_space_check(&c->rx, atomic_load(c->cfg->promised),
                                   c->cfg->min_free, c->cfg->min_free_pct, &need, why);
        if (!code)
            recv_promise(c, need);
    }
    if (code) {
        if (recv_refusal_due(c))
            ibx_warn(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
        recv_worse(c, xfer_exit_for_code(code));
        recv_queue_status(c, IBX_FT_ACK, code, why);
        recv_file_over(c);
        return;
    }
    c->file_t0 = ibx_loop_now(ibx_worker_loop(c->base.worker));
    ibx_debug(recv_log(c), "msg=\"receiving %s (%llu bytes, from %llu)\" peer=%s",
              c->rx.path, (unsigned long long)c->rx.size, (unsigned long long)c->rx.pos,
              c->peer);
    c->st = RS_RX_DATA;
}

static void rx_ended(struct recv_conn *c, int code, const char *why);

void recv_on_rx_end(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_end e;
    char why[XFER_WHY];
    if (ibx_msg_end_decode(p, n, &e) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed END");
        return;
    }
    int code = xfer_rx_end_start(&c->rx, &e, why);
    if (code == XFER_PENDING) {
        c->st = RS_HASH_END;
        recv_start_work(c);
        return;
    }
    rx_ended(c, code, why);
}

/* The verdict on a received file: log, ACK, next file. */
static void rx_ended(struct recv_conn *c, int code, const char *why)
{
    uint64_t ms = ibx_loop_now(ibx_worker_loop(c->base.worker)) - c->file_t0;
    uint64_t moved = c->rx.size - c->rx.resumed_from;
    if (code == IBX_XC_OK) {
        ibx_info(recv_log(c), "msg=\"stored %s\" op=put peer=%s file=\"%s\" bytes=%llu "
                 "received=%llu duration_ms=%llu rate=%.1fMB/s hash=%s verified=%s "
                 "resumed=%s result=ok", c->rx.path, c->peer, c->rx.path,
                 (unsigned long long)c->rx.size, (unsigned long long)moved,
                 (unsigned long long)ms, recv_rate_mbs(moved, ms),
                 ibx_hash_algo_name(c->rx.algo),
                 c->rx.verified_while_writing ? "as-written" : "re-read",
                 c->rx.resumed_from ? "yes" : "no");
    } else if (code == IBX_XC_UNCHANGED) {
        ibx_info(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
    } else {
        ibx_err(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
        recv_worse(c, xfer_exit_for_code(code));
    }
    recv_queue_status(c, IBX_FT_ACK, code, why);
    if (code == IBX_XC_PROTOCOL)
        c->close_when_flushed = true;
    recv_file_over(c);
}

/* ---- serving (GET and LIST) ------------------------------------------ */

void recv_on_get(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_get g;
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    if (ibx_msg_get_decode(p, n, &g) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed GET");
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
        if (recv_refusal_due(c))
            ibx_warn(recv_log(c), "msg=\"get refused: %s: %s\" peer=%s",
                     ibx_frame_code_name(code), why, c->peer);
        recv_queue_status(c, IBX_FT_ACK, code, why);
        return;
    }
    c->tx_open = true;
    recv_queue(c, b, ibx_msg_offer_encode(b, sizeof b, IBX_FT_OFFER, &c->tx.offer));
    c->st = RS_TX_RESUME;
}

static void tx_resumed(struct recv_conn *c, int code,
                       const struct ibx_msg_resume *cf, const char *why);

void recv_on_tx_resume(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_resume rs, cf;
    char why[XFER_WHY];
    if (ibx_msg_resume_decode(p, n, &rs) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed RESUME");
        return;
    }
    int code = xfer_tx_resume_start(&c->tx, &rs, &cf, why);
    if (code == XFER_PENDING) {
        c->st = RS_HASH_TX;
        recv_start_work(c);
        return;
    }
    tx_resumed(c, code, &cf, why);
}

/* Answer the client's RESUME: confirm and start sending, or skip. */
static void tx_resumed(struct recv_conn *c, int code,
                       const struct ibx_msg_resume *cf, const char *why)
{
    uint8_t b[IBX_FRAME_HDR + 64];
    if (code) {
        if (recv_refusal_due(c))
            ibx_warn(recv_log(c), "msg=\"get %s: %s\" peer=%s", c->tx.path, why, c->peer);
        recv_queue_status(c, IBX_FT_ACK, code, why);
        recv_file_over(c);
        return;
    }
    recv_queue(c, b, ibx_msg_resume_encode(b, sizeof b, cf));
    c->file_t0 = ibx_loop_now(ibx_worker_loop(c->base.worker));
    c->st = RS_TX_DATA;
}

void recv_on_tx_ack(struct recv_conn *c, const uint8_t *p, size_t n)
{
    struct ibx_msg_status st;
    if (ibx_msg_status_decode(p, n, &st) < 0) {
        recv_session_error(c, IBX_XC_PROTOCOL, "malformed ACK");
        return;
    }
    uint64_t ms = ibx_loop_now(ibx_worker_loop(c->base.worker)) - c->file_t0;
    uint64_t moved = c->tx.size - c->tx.resumed_from;
    if (st.code <= IBX_XC_UNCHANGED)
        ibx_info(recv_log(c), "msg=\"sent %s\" op=get peer=%s file=\"%s\" bytes=%llu "
                 "sent=%llu duration_ms=%llu rate=%.1fMB/s resumed=%s result=%s",
                 c->tx.path, c->peer, c->tx.path, (unsigned long long)c->tx.size,
                 (unsigned long long)moved, (unsigned long long)ms, recv_rate_mbs(moved, ms),
                 c->tx.resumed_from && st.code == IBX_XC_OK ? "yes" : "no",
                 ibx_frame_code_name(st.code));
    else
        ibx_warn(recv_log(c), "msg=\"get %s failed at the client: %s (%.*s)\" peer=%s",
                 c->tx.path, ibx_frame_code_name(st.code), (int)st.text_len, st.text, c->peer);
    recv_file_over(c);
}

/* Produce DATA/END for a GET, or listing entries, while there is room. */
int recv_produce(struct recv_conn *c)
{
    if (c->st == RS_TX_DATA) {
        size_t chunk = RECV_CHUNK < c->peer_data_max ? RECV_CHUNK : c->peer_data_max;
        if (c->tx.skip_data || c->tx.pos == c->tx.size) {
            struct ibx_msg_end e;
            uint8_t b[IBX_FRAME_HDR + 64];
            if (xfer_tx_end(&c->tx, &e) < 0)
                return -EIO;
            recv_queue(c, b, ibx_msg_end_encode(b, sizeof b, &e));
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
            recv_queue(c, b, ibx_msg_offer_encode(b, sizeof b, IBX_FT_LIST, &e));
            return 0;
        }
        /* a listing that left anything out is an error, never a short ok */
        char why[XFER_WHY];
        unsigned missed = xfer_list_missed(c->list, why, sizeof why);
        xfer_list_close(c->list);
        c->list = NULL;
        if (missed) {
            ibx_warn(recv_log(c), "msg=\"listing incomplete: %s\" peer=%s", why, c->peer);
            char text[XFER_WHY + 32];
            snprintf(text, sizeof text, "listing incomplete: %s", why);
            recv_queue_status(c, IBX_FT_ACK, IBX_XC_IO, text);
        } else {
            recv_queue_status(c, IBX_FT_ACK, IBX_XC_OK, "end of list");
        }
        recv_file_over(c);
    }
    return 0;
}

/* ---- committing, off the loop ------------------------------------------ */

/* On the commit thread: the connection's loop leaves c->rx alone. */
static void commit_work(struct ibx_job *j)
{
    struct recv_conn *c = j->data;
    c->commit_code = xfer_rx_commit(&c->rx, c->commit_why);
}

/* Back on the loop: answer the peer, or finish closing. */
static void commit_done(ibx_loop *loop, struct ibx_job *j)
{
    struct recv_conn *c = j->data;
    (void)loop;
    if (c->closing) {
        if (c->commit_code == IBX_XC_OK)
            ibx_info(recv_log(c), "msg=\"stored %s (the client left before the answer)\" "
                     "peer=%s", c->rx.path, c->peer);
        else
            ibx_err(recv_log(c), "msg=\"%s\" peer=%s", c->commit_why, c->peer);
        recv_worse(c, xfer_exit_for_code(c->commit_code));
        recv_free_later(c);
        return;
    }
    rx_ended(c, c->commit_code, c->commit_why);
    recv_update(c);
}

/* The file is verified: fsync and rename it on a thread of its own, so
 * that a slow disk never stalls the other clients of this loop. The
 * answer (ACK) follows the commit. */
static void commit_start(struct recv_conn *c)
{
    ibx_debug(recv_log(c), "msg=\"%s verified; committing (fsync, rename) off the loop\" "
              "peer=%s", c->rx.path, c->peer);
    c->st = RS_COMMIT;
    c->commit_code = IBX_XC_IO;
    c->commit_why[0] = '\0';
    ibx_job_start(&c->commit, ibx_worker_loop(c->base.worker), commit_work,
                  commit_done, c);
}

/* ---- hash jobs, a slice per loop pass ------------------------------------ */

/* The offered file's prefix (or the existing file) is hashed: propose. */
static void offer_hashed(struct recv_conn *c)
{
    char why[XFER_WHY];
    uint8_t b[IBX_FRAME_HDR + 64];
    int code = xfer_rx_offer_finish(&c->rx, &c->reply, why);
    if (code) {
        ibx_err(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
        recv_worse(c, xfer_exit_for_code(code));
        recv_queue_status(c, IBX_FT_ACK, code, why);
        recv_file_over(c);
        return;
    }
    recv_queue(c, b, ibx_msg_resume_encode(b, sizeof b, &c->reply));
    c->st = RS_RX_CONFIRM;
}

static void on_work(ibx_loop *loop, ibx_defer *d)
{
    struct recv_conn *c = d->data;
    if (c->closing || !recv_hashing(c->st))
        return;
    int r = c->st == RS_HASH_TX ? xfer_tx_step(&c->tx, RECV_HASH_SLICE)
                                : xfer_rx_step(&c->rx, RECV_HASH_SLICE);
    c->last_active = ibx_loop_now(loop);
    if (r == 0) {
        ibx_loop_defer(loop, &c->work, on_work, c);
        return;
    }
    char why[XFER_WHY];
    if (r < 0) {
        xfer_whyf(why, "%.200s: %s", c->st == RS_HASH_TX ? c->tx.path : c->rx.path,
                  strerror(-r));
        ibx_err(recv_log(c), "msg=\"%s\" peer=%s", why, c->peer);
        recv_worse(c, XFER_EXIT_IO);
        recv_queue_status(c, IBX_FT_ACK, IBX_XC_IO, why);
        if (c->st == RS_HASH_END)
            c->st = RS_RX_DATA;   /* keep the partial file, say so at close */
        c->close_when_flushed = true;
    } else if (c->st == RS_HASH_OFFER) {
        offer_hashed(c);
    } else if (c->st == RS_HASH_END) {
        int code = xfer_rx_end_finish(&c->rx, why);
        if (code == XFER_PENDING) {   /* lease broke: a full re-read */
            ibx_loop_defer(loop, &c->work, on_work, c);
            return;
        }
        if (code == XFER_COMMIT)
            commit_start(c);
        else
            rx_ended(c, code, why);
    } else {
        struct ibx_msg_resume cf;
        int code = xfer_tx_resume_finish(&c->tx, &cf, why);
        tx_resumed(c, code, &cf, why);
    }
    recv_update(c);
}

void recv_start_work(struct recv_conn *c)
{
    ibx_loop_defer(ibx_worker_loop(c->base.worker), &c->work, on_work, c);
}

