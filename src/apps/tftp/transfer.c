/* The TFTP data phase shared by client and server (see transfer.h). */
#include "transfer.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Smallest adaptive retransmit timeout, µs. Loopback round trips are tens
 * of microseconds; this keeps a loss from stalling a fast transfer (at 1%
 * loss a window's last packet or its ACK goes missing every 50 windows or
 * so, and each costs this much) while a spurious retransmission costs
 * only duplicate packets. */
#define RTO_FLOOR 500
/* Least time between two ACKs sent in answer to duplicate DATA, µs. */
#define DUP_ACK_GAP 500
/* A receiver holding blocks it has not acknowledged yet (the rest of the
 * window was lost) acknowledges them after this quiet time, µs: the ACK
 * is new information, so it cannot feed a Sorcerer's Apprentice. Longer
 * than the pause between paced bursts on a timer (1 ms, tftpd in
 * `serve`), which a receiver cannot tell from a loss; the sender's own
 * timer (RTO_FLOOR) usually repairs a lost tail first. */
#define PARTIAL_ACK 2000
/* Error allowed in comparing an arrival time with a send time, µs (two
 * clocks read one after the other; a blind ACK sent with the request
 * arrives tens of microseconds before the answer to the request goes
 * out, a real one after it). */
#define AMP_SLACK_US 5
/* Retransmit timeout before any round trip was measured, µs. */
#define RTO_INITIAL 1000000
/* A receiver that knows the round trip (x->rtt_hint) resends ACK 0 after
 * four of them, but never sooner than this, µs: the sender may have to
 * open a cold file before its first block, and a server with the
 * Sorcerer's Apprentice bug answers an early duplicate ACK 0 with every
 * block twice, so a merely late DATA 1 must rarely trigger it. */
#define CTL_RTO_MIN 200000

/* The configured timeout ceiling (ms) in µs. */
static uint32_t rto_ceiling(const struct tftp_tx *x)
{
    uint64_t us = (uint64_t)x->rto_max * 1000;
    return us < UINT32_MAX / 4 ? (uint32_t)us : UINT32_MAX / 4;
}

uint64_t tftp_tx_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void failf(struct tftp_tx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void failf(struct tftp_tx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    x->state = TFTP_TX_FAILED;
}

static const struct sockaddr *peer_sa(const struct tftp_tx *x)
{
    return (const struct sockaddr *)&x->peer.ss;
}

void tftp_tx_send_to(int sock, const void *pkt, size_t len,
                     const struct sockaddr *addr, socklen_t addrlen)
{
    /* a full socket drops it, as the network could have: the peer's
     * retransmission or our timer repairs it */
    (void)sendto(sock, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addrlen);
}

void tftp_tx_send_error_fit(int sock, const struct sockaddr *addr, socklen_t addrlen,
                            uint16_t code, const char *msg, size_t room)
{
    if (room < IBX_TFTP_HDR)
        return;   /* not even a TFTP packet */
    tftp_tx_send_error(sock, addr, addrlen, code,
                       IBX_TFTP_HDR + strlen(msg) + 1 <= room ? msg : "");
}

void tftp_tx_send_error(int sock, const struct sockaddr *addr, socklen_t addrlen,
                        uint16_t code, const char *msg)
{
    uint8_t pkt[256];
    int n = ibx_tftp_build_error(pkt, sizeof pkt, code, msg);
    if (n > 0)
        tftp_tx_send_to(sock, pkt, (size_t)n, addr, addrlen);
}

bool tftp_tx_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port &&
               x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

/* ---- anti-amplification (see transfer.h) ----------------------------------- */

/* IP and UDP header bytes of one datagram to or from the peer. */
static uint32_t wire_hdr(const struct tftp_tx *x)
{
    return x->peer.ss.ss_family == AF_INET6 ? 48 : 28;
}

/* The peer has not proved yet that it receives what we send. */
static bool unverified(const struct tftp_tx *x) { return x->amp_limit && !x->verified; }

/* A packet of len bytes fits the budget of an unverified peer. */
static bool amp_fits(const struct tftp_tx *x, size_t len)
{
    return !unverified(x) ||
           x->tx_wire + len + wire_hdr(x) <= (uint64_t)TFTP_TX_AMP_FACTOR * x->rx_wire;
}

/* Count a packet of len bytes sent to the peer. */
static void amp_sent(struct tftp_tx *x, size_t len)
{
    if (unverified(x)) {
        x->tx_wire += len + wire_hdr(x);
        x->peer_spoke = false;
    }
}

/* When the datagram being handled arrived (see x->arrived), give or take
 * AMP_SLACK_US: the kernel's stamp is on the real-time clock, converted. */
static uint64_t arrival(const struct tftp_tx *x, uint64_t now)
{
    return (x->arrived ? x->arrived : now) + AMP_SLACK_US;
}

/* An ACK that no receiver could have sent: of a block never sent, or
 * arrived before what it acknowledges went out. Only a blind sender
 * forging the peer's address does that: end without a word. */
static void blind(struct tftp_tx *x, const char *what)
{
    x->state = TFTP_TX_FAILED;
    snprintf(x->why, sizeof x->why, "%s: a blind or spoofed peer", what);
}

void tftp_tx_abort(struct tftp_tx *x, uint16_t code, const char *msg)
{
    if (x->state == TFTP_TX_RUNNING && amp_fits(x, IBX_TFTP_HDR + strlen(msg) + 1))
        tftp_tx_send_error(x->sock, peer_sa(x), x->peer.len, code, msg);
    failf(x, "%s", msg);
}

int tftp_tx_scratch_init(struct tftp_tx_scratch *s)
{
    s->tx_slot = (IBX_TFTP_PKT_MAX + 63) & ~(size_t)63;
    s->tx = malloc(TFTP_TX_BATCH * s->tx_slot);
    s->na = malloc(2 * IBX_TFTP_PKT_MAX);
    if (!s->tx || !s->na) {
        tftp_tx_scratch_free(s);
        return -ENOMEM;
    }
    return 0;
}

void tftp_tx_scratch_free(struct tftp_tx_scratch *s)
{
    free(s->tx);
    free(s->na);
    s->tx = s->na = NULL;
}

void tftp_tx_sock_buffers(int sock, int bytes)
{
    if (setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
        (void)setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
        (void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

/* ---- timing ------------------------------------------------------------ */

static void arm(struct tftp_tx *x, uint64_t now) { x->deadline = now + x->rto; }

/* Fold a round-trip sample into the estimate (RFC 6298 arithmetic). */
static void rtt_sample(struct tftp_tx *x, uint64_t us)
{
    if (x->rto_fixed || !x->sending)
        return;   /* a receiver re-ACKs only after the full timeout */
    uint32_t m = us > 60000000 ? 60000000 : (uint32_t)us;
    if (x->rtt_provisional) {
        x->rtt_provisional = false;
        x->srtt8 = 0;   /* start over from this, a data window's, sample */
    }
    if (!x->srtt8) {
        x->srtt8 = m * 8;
        x->rttvar4 = m * 2;
    } else {
        int32_t err = (int32_t)m - (int32_t)(x->srtt8 >> 3);
        x->srtt8 = (uint32_t)((int32_t)x->srtt8 + err);
        if (err < 0)
            err = -err;
        x->rttvar4 = (uint32_t)((int32_t)x->rttvar4 + err -
                                (int32_t)(x->rttvar4 >> 2));
    }
    uint32_t rto = (x->srtt8 >> 3) + x->rttvar4;
    if (rto < RTO_FLOOR)
        rto = RTO_FLOOR;
    x->rto = x->rto_base = rto < rto_ceiling(x) ? rto : rto_ceiling(x);
}

/* Double the timeout after a loss, up to four times the ceiling: a
 * silence longer than the peer's own timeout lets a peer that stopped
 * answering our retransmissions speak first. A new sample resets it. */
static uint32_t doubled(const struct tftp_tx *x, uint32_t t)
{
    uint64_t r = (uint64_t)t * 2, cap = (uint64_t)rto_ceiling(x) * 4;
    return (uint32_t)(r < cap ? r : cap);
}

static void backoff(struct tftp_tx *x) { x->rto = doubled(x, x->rto); }

/* ---- sender ------------------------------------------------------------ */

static uint8_t *slot(const struct tftp_tx *x, unsigned i)
{
    return x->scratch->tx + (size_t)i * x->scratch->tx_slot;
}

/* Read `count` octet blocks starting at block `first` into the tx slots
 * with one preadv. Returns how many packets to send (fewer when the file
 * ends inside the batch: that block is the last) or -errno. */
static int fill_octet(struct tftp_tx *x, uint64_t first, unsigned count,
                      size_t *lens)
{
    struct iovec iov[TFTP_TX_BATCH];
    for (unsigned i = 0; i < count; i++) {
        ibx_tftp_put_data_hdr(slot(x, i), (uint16_t)(first + i));
        iov[i].iov_base = slot(x, i) + IBX_TFTP_HDR;
        iov[i].iov_len = x->blksize;
    }
    ssize_t n = preadv(x->file, iov, (int)count, (off_t)((first - 1) * x->blksize));
    if (n < 0)
        return -errno;
    size_t left = (size_t)n;
    for (unsigned i = 0; i < count; i++) {
        lens[i] = left < x->blksize ? left : x->blksize;
        left -= lens[i];
        if (lens[i] < x->blksize) {
            x->last = first + i;
            x->last_len = lens[i];
            return (int)i + 1;
        }
    }
    return (int)count;
}

/* Encode netascii block idx into s starting from where the block begins
 * (kept in marks, so a restart can re-encode any block of the window).
 * Returns 0 or -errno. */
static int fill_netascii(struct tftp_tx *x, uint64_t idx, uint8_t *s, size_t *len)
{
    const struct na_mark *m = &x->marks[idx % (x->window + 1)];
    uint64_t off = m->off;
    struct ibx_netascii st = m->st;
    uint8_t *out = s + IBX_TFTP_HDR, *in = x->scratch->na;
    size_t o = 0;
    ibx_tftp_put_data_hdr(s, (uint16_t)idx);
    while (o < x->blksize) {
        size_t used;
        ssize_t n = pread(x->file, in, x->blksize - o, (off_t)off);
        if (n < 0)
            return -errno;
        o += ibx_netascii_encode(&st, in, (size_t)n, &used, out + o, x->blksize - o);
        off += used;
        if (n == 0)
            break;   /* end of file; a pending CR pair was flushed above */
    }
    struct na_mark *nx = &x->marks[(idx + 1) % (x->window + 1)];
    nx->off = off;
    nx->st = st;
    *len = o;
    if (o < x->blksize) {
        x->last = idx;
        x->last_len = o;
    }
    return 0;
}

/* Errors that retransmitting cannot cure. */
static bool send_fatal(int err)
{
    return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EINVAL ||
           err == EMSGSIZE || err == EAFNOSUPPORT || err == EDESTADDRREQ;
}

static void pump(struct tftp_tx *x, uint64_t now);

/* The gap probe: an empty DATA 0, which an RFC 7440 receiver answers at
 * once with an ACK of the last block it holds (a block out of order),
 * where a window cut short by the anti-amplification budget would
 * otherwise wait for the receiver's timeout (atftp: 5 s). */
static void gap_probe(struct tftp_tx *x)
{
    uint8_t pkt[IBX_TFTP_HDR];
    ibx_tftp_put_data_hdr(pkt, 0);
    tftp_tx_send_to(x->sock, pkt, sizeof pkt, peer_sa(x), x->peer.len);
    amp_sent(x, sizeof pkt);
}

static void pump(struct tftp_tx *x, uint64_t now)
{
    struct mmsghdr msgs[TFTP_TX_BATCH];
    struct iovec iov[TFTP_TX_BATCH];
    size_t lens[TFTP_TX_BATCH];
    bool sent = false, amp_short = false;

    unsigned inburst = 0;
    if (x->state != TFTP_TX_RUNNING || x->want_write || x->ctl_wait || x->pace_wait)
        return;
    while (x->next <= x->acked + x->window && x->next <= x->last) {
        if (x->burst && inburst >= x->burst) {
            x->pace_wait = true;   /* the rest after a pause */
            break;
        }
        if (x->next == x->acked + 1 && !sent) {
            x->win_t0 = now;
            x->win_retx = false;
        }
        uint64_t room = x->acked + x->window - x->next + 1;
        if (x->last != UINT64_MAX && x->last - x->next + 1 < room)
            room = x->last - x->next + 1;
        if (x->burst && room > x->burst - inburst)
            room = x->burst - inburst;
        unsigned count = room < TFTP_TX_BATCH ? (unsigned)room : TFTP_TX_BATCH;
        if (unverified(x)) {
            /* no more than the budget allows, but for the first block
             * (or the one a timeout owes the peer: x->owed was cleared
             * by the caller, which set amp_pass) */
            uint64_t per = (uint64_t)x->blksize + IBX_TFTP_HDR + wire_hdr(x);
            uint64_t cap = (uint64_t)TFTP_TX_AMP_FACTOR * x->rx_wire;
            uint64_t fit = cap > x->tx_wire ? (cap - x->tx_wire) / per : 0;
            if (!fit && (x->high == 0 || x->amp_pass))
                fit = 1;
            x->amp_pass = false;
            if (!fit) {
                amp_short = true;
                break;
            }
            if (count > fit)
                count = (unsigned)fit;
        }
        int r = 0;
        if (x->mode == IBX_TFTP_OCTET) {
            r = fill_octet(x, x->next, count, lens);
            if (r > 0)
                count = (unsigned)r;
        } else {
            for (unsigned i = 0; i < count && r == 0; i++) {
                r = fill_netascii(x, x->next + i, slot(x, i), &lens[i]);
                if (r == 0 && x->last == x->next + i)
                    count = i + 1;
            }
        }
        if (r < 0) {
            tftp_tx_abort(x, IBX_TFTP_EUNDEF, "read error");
            snprintf(x->why, sizeof x->why, "read: %s", strerror(-r));
            return;
        }
        memset(msgs, 0, sizeof msgs[0] * count);
        for (unsigned i = 0; i < count; i++) {
            iov[i].iov_base = slot(x, i);
            iov[i].iov_len = IBX_TFTP_HDR + lens[i];
            msgs[i].msg_hdr.msg_name = &x->peer.ss;
            msgs[i].msg_hdr.msg_namelen = x->peer.len;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        uint64_t sent_t = unverified(x) ? tftp_tx_clock() : 0;   /* before, as above */
        int n = sendmmsg(x->sock, msgs, count, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                x->want_write = true;
                break;
            }
            if (send_fatal(errno)) {
                failf(x, "send: %s", strerror(errno));
                return;
            }
            /* a firewall (EPERM), a full queue (ENOBUFS), an ICMP error:
             * the packet is lost like on the wire; the timer repairs it */
            n = 1;
        }
        for (int i = 0; i < n; i++) {
            if (x->next + (uint64_t)i <= x->high) {
                x->retransmits++;
                x->win_retx = true;
            }
            amp_sent(x, IBX_TFTP_HDR + lens[i]);
        }
        x->next += (uint64_t)n;
        inburst += (unsigned)n;
        if (x->next - 1 > x->high) {
            x->high = x->next - 1;
            if (unverified(x)) {
                x->high_t = sent_t;
                if (!x->first_t)
                    x->first_t = sent_t;
            }
        }
        sent = true;
        if ((unsigned)n < count) {
            x->want_write = true;
            break;
        }
    }
    if (amp_short && sent && x->window > 1 && x->next <= x->last)
        gap_probe(x);
    if (sent)
        arm(x, now);
}

/* An ACK for idx inside the window (a loss) arrived. A receiver whose
 * buffer is smaller than a burst keeps its first packets and drops the
 * rest: after a timeout that resent a whole-window burst, the packets
 * it got in order are what it holds; once bursts are limited, the packets
 * of the broken burst it got before the loss. Burst that many from then
 * on, once two cuts in a row agree; grow by one after TFTP_TX_BURST_GROW
 * whole windows. */
static void learn_burst(struct tftp_tx *x, uint64_t idx)
{
    uint64_t got = idx - x->acked;   /* in order since the window began */
    if (idx < x->high && x->window > 1) {
        uint64_t q = x->burst ? got % x->burst : x->timed_out ? got : 0;
        if (q && q == x->burst_cand) {
            /* the same cut twice in a row: a receiver's buffer, not
             * chance (random loss would shrink the burst for nothing,
             * and under steady loss it would never grow back) */
            x->burst = (uint32_t)q;
            x->clean = 0;
            x->burst_cand = 0;
        } else if (q) {
            x->burst_cand = (uint32_t)q;
        }
    } else if (x->burst && idx == x->acked + x->window && ++x->clean >= TFTP_TX_BURST_GROW) {
        x->clean = 0;
        x->burst = x->burst + 1 >= x->window ? 0 : x->burst + 1;
    }
    x->timed_out = false;
}

/* Send again from the first unacknowledged block. */
static void restart(struct tftp_tx *x)
{
    x->rs_any = true;
    x->rs_high = x->high;
    x->next = x->acked + 1;
    x->want_write = false;
    x->pace_wait = false;
}

static uint64_t sent_bytes(const struct tftp_tx *x)
{
    if (!x->acked)
        return 0;
    return (x->acked - 1) * x->blksize + (x->acked == x->last ? x->last_len : x->blksize);
}

static void resend_owed(struct tftp_tx *x, uint64_t now);

/* An unverified peer sent something: a packet a timeout owes it goes now. */
static void amp_peer_spoke(struct tftp_tx *x, uint64_t now)
{
    x->peer_spoke = true;
    if (x->owed)
        resend_owed(x, now);
}

static void on_ack(struct tftp_tx *x, uint16_t b, uint64_t now)
{
    if (x->ctl_wait) {
        if (b != 0) {
            if (unverified(x))
                blind(x, "an ACK of a block never sent");
            return;
        }
        if (unverified(x) && arrival(x, now) < x->first_t) {
            blind(x, "ACK 0 arrived before the OACK was sent");
            return;
        }
        x->ctl_wait = false;
        x->owed = false;
        x->progress = now;
        if (!x->retransmits) {
            rtt_sample(x, now - x->win_t0);   /* Karn: not after a resend */
            x->rtt_provisional = true;
        }
        pump(x, now);
        return;
    }
    /* valid ACKs lie in [acked, high]: map the wire number near the middle */
    uint64_t idx = ibx_tftp_block_index(x->acked + (x->high - x->acked) / 2, b);
    if (unverified(x)) {
        if (idx > x->high) {
            blind(x, "an ACK of a block never sent");
            return;
        }
        uint64_t at = arrival(x, now);
        if (idx > x->acked && (at < x->first_t || (idx == x->high && at < x->high_t))) {
            blind(x, "an ACK arrived before its block was sent");
            return;
        }
        if (idx <= x->acked) {
            amp_peer_spoke(x, now);   /* its own retransmission */
            return;
        }
        x->verified = true;   /* it received block idx: full speed from here */
        x->owed = false;
    }
    if (idx == x->acked && x->window > 1 && x->next > x->acked + 1 &&
        (!x->rs_any || x->acked > x->rs_high)) {
        /* a gap at the window's first block: restart it now rather than
         * at the timeout (once per episode, see transfer.h) */
        restart(x);
        x->deadline = now + x->rto;
        pump(x, now);
        return;
    }
    if (idx <= x->acked || idx > x->high)
        return;   /* duplicate or not yet sent: never answer it */
    if (!x->win_retx || (x->rs_any && idx > x->rs_high))
        /* Karn: only a block that was never sent twice gives a sample;
         * one past the last restart was sent once (timed from the start
         * of the window, which errs long) */
        rtt_sample(x, now - x->win_t0);
    else   /* progress ends the backoff, even before any sample */
        x->rto = x->rto_base ? x->rto_base
                             : rto_ceiling(x) < RTO_INITIAL ? rto_ceiling(x) : RTO_INITIAL;
    learn_burst(x, idx);
    x->acked = idx;
    x->progress = now;
    if (x->acked == x->last) {
        x->bytes = sent_bytes(x);
        x->state = TFTP_TX_DONE;
        return;
    }
    x->bytes = sent_bytes(x);
    if (idx < x->high)
        restart(x);      /* a loss inside the window: go on from here */
    else
        x->next = idx + 1;
    pump(x, now);
}

/* ---- receiver ---------------------------------------------------------- */

static void send_ack(struct tftp_tx *x, uint64_t idx, uint64_t now)
{
    uint8_t pkt[IBX_TFTP_HDR];
    ibx_tftp_build_ack(pkt, sizeof pkt, (uint16_t)idx);
    tftp_tx_send_to(x->sock, pkt, sizeof pkt, peer_sa(x), x->peer.len);
    x->ack_sent = idx;
    x->ack_t = now;
}

static int write_all(int fd, struct iovec *iov, unsigned n)
{
    while (n) {
        ssize_t w = writev(fd, iov, (int)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        size_t left = (size_t)w;
        while (n && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static void write_failed(struct tftp_tx *x, int err)
{
    tftp_tx_abort(x, err == -ENOSPC || err == -EDQUOT || err == -EFBIG
                      ? IBX_TFTP_ENOSPACE : IBX_TFTP_EUNDEF,
               "write error");
    snprintf(x->why, sizeof x->why, "write: %s", strerror(-err));
}

void tftp_tx_flush(struct tftp_tx *x, uint64_t now)
{
    if (!x->npend)
        return;
    int r = write_all(x->file, x->pend, x->npend);
    x->npend = 0;
    if (r < 0)
        write_failed(x, r);
}

/* Accept the payload of the next in-order block. Returns 0 or -errno. */
static int take(struct tftp_tx *x, const uint8_t *data, size_t len, bool final,
                uint64_t now)
{
    if (x->mode == IBX_TFTP_OCTET) {
        if (len) {
            x->pend[x->npend].iov_base = (void *)data;
            x->pend[x->npend].iov_len = len;
            x->npend++;
        }
        if (x->npend == TFTP_TX_BATCH || final)
            tftp_tx_flush(x, now);
        return x->state == TFTP_TX_RUNNING ? 0 : -EIO;
    }
    uint8_t *out = x->scratch->na;
    size_t n = ibx_netascii_decode(&x->na, data, len, out);
    if (final)
        n += ibx_netascii_decode_end(&x->na, out + n);
    struct iovec v = {out, n};
    int r = n ? write_all(x->file, &v, 1) : 0;
    if (r < 0)
        write_failed(x, r);
    return r;
}

static void on_data(struct tftp_tx *x, uint16_t b, const uint8_t *data, size_t len,
                    uint64_t now)
{
    if (x->state == TFTP_TX_DONE) {
        /* dallying: the final ACK may have been lost (but with
         * hold_final, not before the owner has sent it) */
        if (ibx_tftp_block_index(x->got, b) == x->got &&
            (!x->hold_final || x->final_acked))
            send_ack(x, x->got, now);
        return;
    }
    if (len > x->blksize) {
        tftp_tx_abort(x, IBX_TFTP_EBADOP, "block larger than the negotiated blksize");
        return;
    }
    uint64_t idx = ibx_tftp_block_index(x->got + 1, b);
    if (idx == x->got + 1) {
        bool final = len < x->blksize;
        if (x->max_bytes && x->bytes + len > x->max_bytes) {
            tftp_tx_abort(x, IBX_TFTP_ENOSPACE, "file too large");
            return;
        }
        x->ctl_len = 0;   /* the OACK / ACK 0 was answered */
        x->verified = true;   /* a receiver never amplifies: ACKs only */
        if (take(x, data, len, final, now) < 0)
            return;
        x->got++;
        x->bytes += len;
        x->progress = now;
        x->gap_acked = false;
        if (final) {
            if (!x->hold_final)
                send_ack(x, x->got, now);
            x->state = TFTP_TX_DONE;
            return;
        }
        if (x->got - x->ack_sent >= x->window)
            send_ack(x, x->got, now);
    } else if (idx <= x->got) {
        /* a retransmission: our ACK was lost or is late. Answer at most
         * one duplicate per DUP_ACK_GAP µs: a sender that answers every
         * duplicate ACK (Sorcerer's Apprentice) cannot start a storm. */
        if (now - x->ack_t >= DUP_ACK_GAP || (b == 0 && len == 0 && x->got > x->ack_sent))
            send_ack(x, x->got, now);   /* or a gap probe (transfer.h) asking
                                           for news: never a storm */
    } else if (!x->gap_acked) {
        send_ack(x, x->got, now);   /* report the gap once */
        x->gap_acked = true;
    }
    arm(x, now);
    if (x->got > x->ack_sent && x->window > 1)
        x->deadline = now + PARTIAL_ACK;
}

/* ---- common ------------------------------------------------------------ */

static void send_ctl(struct tftp_tx *x, uint64_t now)
{
    if (x->amp_limit && !x->first_t)
        x->first_t = tftp_tx_clock();   /* before: a reply may beat the return */
    tftp_tx_send_to(x->sock, x->ctl, x->ctl_len, peer_sa(x), x->peer.len);
    amp_sent(x, x->ctl_len);
    x->ctl_t = now;
    arm(x, now);
}

/* The control packet still waits for its answer. */
static bool ctl_pending(const struct tftp_tx *x)
{
    return x->ctl_len && (x->ctl_wait || (!x->sending && x->got == 0));
}

int tftp_tx_begin(struct tftp_tx *x, uint64_t now)
{
    x->state = TFTP_TX_RUNNING;
    x->start = x->progress = now;
    /* A sender adapts its timeout to the measured round trip; a receiver
     * waits the full timeout before it repeats an ACK, since the sender's
     * own timer repairs losses and early ACKs feed careless senders. */
    x->rto = x->rto_fixed || !x->sending || rto_ceiling(x) < RTO_INITIAL ? rto_ceiling(x)
                                                                         : RTO_INITIAL;
    x->acked = x->got = x->ack_sent = 0;
    x->next = 1;
    x->high = 0;
    x->last = UINT64_MAX;
    if (x->sending && x->mode == IBX_TFTP_NETASCII) {
        x->marks = calloc((size_t)x->window + 1, sizeof *x->marks);
        if (!x->marks)
            return -ENOMEM;
    }
    x->win_t0 = x->ack_t = now;
    x->ctl_rto = x->rto;
    x->verified = !x->amp_limit;
    x->rx_wire = x->amp_limit ? (uint64_t)x->req_bytes + wire_hdr(x) : 0;
    x->tx_wire = x->first_t = x->high_t = 0;
    x->owed = x->peer_spoke = x->amp_pass = false;
    x->amp_resends = 0;
    if (x->rtt_hint_set && !x->rto_fixed) {
        if (x->sending) {
            /* one small packet's round trip says how long one block
             * takes to be acknowledged, not a window of them: a larger
             * window starts at the initial timeout and samples itself */
            if (x->window == 1) {
                rtt_sample(x, x->rtt_hint);
                x->rtt_provisional = true;
            }
        } else {
            uint64_t r = (uint64_t)x->rtt_hint * 4;
            r = r < CTL_RTO_MIN ? CTL_RTO_MIN : r;
            x->ctl_rto = r < x->rto ? (uint32_t)r : x->rto;
        }
    }
    if (x->ctl_len) {
        send_ctl(x, now);
        x->ctl_wait = x->sending;
    }
    if (x->sending)
        pump(x, now);
    else
        x->deadline = now + (x->ctl_len ? x->ctl_rto : x->rto);
    return 0;
}

void tftp_tx_input(struct tftp_tx *x, const uint8_t *pkt, size_t len,
                   const struct sockaddr *from, socklen_t fromlen, uint64_t now)
{
    struct ibx_tftp_pkt p;
    if (!tftp_tx_same_addr(from, peer_sa(x))) {
        /* never larger than what it answers: no amplification */
        tftp_tx_send_error_fit(x->sock, from, fromlen, IBX_TFTP_EBADID,
                               "unknown transfer ID", len);
        return;
    }
    if (ibx_tftp_parse(pkt, len, &p) < 0)
        return;   /* garbage from the peer's port: ignore it */
    if (x->state == TFTP_TX_FAILED)
        return;
    if (unverified(x))
        x->rx_wire += len + wire_hdr(x);
    switch (p.op) {
    case IBX_TFTP_ACK:
        if (x->sending && x->state == TFTP_TX_RUNNING)
            on_ack(x, p.u.ack.block, now);
        break;
    case IBX_TFTP_DATA:
        if (!x->sending)
            on_data(x, p.u.data.block, p.u.data.data, p.u.data.len, now);
        break;
    case IBX_TFTP_ERROR:
        if (x->state == TFTP_TX_RUNNING)
            failf(x, "peer error %u: %.100s", p.u.error.code, p.u.error.msg);
        break;
    case IBX_TFTP_OACK:
        /* our ACK 0 to the server's OACK was lost */
        if (!x->sending && x->got == 0 && x->state == TFTP_TX_RUNNING)
            send_ack(x, 0, now);
        break;
    default:
        break;
    }
}

void tftp_tx_timeout(struct tftp_tx *x, uint64_t now)
{
    if (x->state != TFTP_TX_RUNNING)
        return;
    if (x->sending && x->pace_wait) {
        /* the window is still going out, burst by burst: nothing is late
         * yet, the owner's pause simply ended after the deadline */
        tftp_tx_pace(x, now);
        return;
    }
    if (!x->sending && x->got > x->ack_sent) {
        send_ack(x, x->got, now);   /* the tail of the window went missing */
        arm(x, now);
        return;
    }
    if (now - x->progress >= (uint64_t)x->giveup * 1000) {
        tftp_tx_abort(x, IBX_TFTP_EUNDEF, "timed out");
        snprintf(x->why, sizeof x->why, "timed out after %llu ms without progress",
                 (unsigned long long)(now - x->progress) / 1000);
        return;
    }
    x->retransmits++;
    if (unverified(x)) {
        /* resend only the first packet, and beyond the budget only when
         * the peer has spoken since our last packet (else when it does) */
        bool ctl = ctl_pending(x);
        if (ctl && !x->sending)
            x->ctl_rto = doubled(x, x->ctl_rto);
        else
            backoff(x);
        x->owed = true;
        if (x->peer_spoke ||
            amp_fits(x, ctl ? x->ctl_len : (size_t)x->blksize + IBX_TFTP_HDR)) {
            resend_owed(x, now);
        } else if (!ctl && x->sending && x->blksize <= TFTP_TX_AMP_RESEND_BLK &&
                   x->amp_resends < TFTP_TX_AMP_RESENDS) {
            x->amp_resends++;   /* a lost block 1 to a peer that stays quiet */
            resend_owed(x, now);
        } else {
            x->retransmits--;
            x->deadline = now + (x->sending ? x->rto : x->ctl_rto);
        }
        return;
    }
    if (ctl_pending(x) && !x->sending) {
        /* a receiver's timer runs at the full timeout; its ACK 0 may go
         * sooner (ctl_rto), backing off to the same ceiling */
        send_ctl(x, now);
        x->ctl_rto = doubled(x, x->ctl_rto);
        x->deadline = now + x->ctl_rto;
        return;
    }
    backoff(x);
    if (ctl_pending(x)) {
        send_ctl(x, now);
        return;
    }
    if (x->sending) {
        x->retransmits--;   /* pump counts each packet sent again */
        x->timed_out = true;
        restart(x);
        x->deadline = now + x->rto;
        pump(x, now);
        return;
    }
    send_ack(x, x->got, now);
    x->gap_acked = false;
    arm(x, now);
}

/* Send what a timeout owes an unverified peer: the control packet, or
 * the first unacknowledged block alone (never the whole window). */
static void resend_owed(struct tftp_tx *x, uint64_t now)
{
    x->owed = false;
    if (ctl_pending(x)) {
        send_ctl(x, now);
    } else if (x->sending) {
        restart(x);
        x->amp_pass = true;
        pump(x, now);
        x->amp_pass = false;
    }
    x->deadline = now + (x->sending ? x->rto : x->ctl_rto);
}

void tftp_tx_ack_final(struct tftp_tx *x, uint64_t now)
{
    x->final_acked = true;
    send_ack(x, x->got, now);
}

void tftp_tx_request_again(struct tftp_tx *x, size_t len, uint64_t now)
{
    if (x->state != TFTP_TX_RUNNING)
        return;
    if (unverified(x)) {
        x->rx_wire += len + wire_hdr(x);
        if (x->owed) {
            resend_owed(x, now);
            return;
        }
        x->peer_spoke = true;
        if (!ctl_pending(x) || !amp_fits(x, x->ctl_len))
            return;   /* DATA 1 again only when a timeout owes it */
    }
    if (now - x->ctl_t < DUP_ACK_GAP)
        return;
    uint64_t due = x->deadline;
    if (ctl_pending(x)) {
        x->retransmits++;
        send_ctl(x, now);
    } else if (x->sending && !x->ctl_len && x->acked == 0 && x->high > 0) {
        /* a request without options is answered by DATA 1 itself */
        x->ctl_t = now;
        restart(x);
        pump(x, now);
    } else {
        return;
    }
    x->deadline = due;   /* the timer's own schedule and backoff stand */
}

void tftp_tx_pace(struct tftp_tx *x, uint64_t now)
{
    x->pace_wait = false;
    pump(x, now);
}

void tftp_tx_writable(struct tftp_tx *x, uint64_t now)
{
    x->want_write = false;
    pump(x, now);
}

void tftp_tx_release(struct tftp_tx *x)
{
    free(x->marks);
    x->marks = NULL;
}
