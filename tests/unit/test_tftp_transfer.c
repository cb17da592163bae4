/* The TFTP data engine (src/apps/tftp/transfer.c), driven packet by packet
 * over real UDP sockets: as a sender against a scripted receiver whose
 * receive buffer holds fewer packets than a window, as atftp's client
 * has with 16 blocks of 8 KiB; and in the control phase (OACK, ACK 0) of
 * both sides, with and without the request's round trip. Time is the
 * test's own (the engine takes "now" as an argument), so timeouts cost
 * nothing and nothing depends on the machine's speed. */
//unit-sources: src/apps/tftp/transfer.c
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tftp/transfer.h"

#define BLK 8192
#define WIN 16

static int udp_socket(int rcvbuf, struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof *addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    return fd;
}

/* The receiver, scripted like atftp's client: ACK every WIN blocks; on
 * any other block than the next (past a gap, or a repeat), ACK the last
 * block in order, once until the next one arrives ("extra ACK"). */
struct rx {
    int fd;
    struct sockaddr_in srv;
    uint8_t *out;
    size_t got_bytes;
    uint64_t got, last_ack;
    bool gap, done;
    unsigned gaps;            /* gap reports sent */
    uint64_t drop;            /* a block to lose once (0 = none) */
};

static void rx_ack(struct rx *r, uint64_t b)
{
    uint8_t ack[4];
    ibx_tftp_build_ack(ack, sizeof ack, (uint16_t)b);
    assert_int_equal(sendto(r->fd, ack, 4, 0, (struct sockaddr *)&r->srv, sizeof r->srv), 4);
    r->last_ack = b;
}

/* Read everything queued. Returns the number of packets read. */
static unsigned rx_drain(struct rx *r)
{
    uint8_t pkt[BLK + 64];
    unsigned n = 0;
    for (;;) {
        ssize_t len = recv(r->fd, pkt, sizeof pkt, 0);
        if (len < 0) {
            assert_int_equal(errno, EAGAIN);
            return n;
        }
        n++;
        assert_true(len >= 4 && pkt[1] == 3);
        uint16_t b = (uint16_t)(pkt[2] << 8 | pkt[3]);
        if (r->drop && b == (uint16_t)r->drop) {
            r->drop = 0;   /* lost on the way, once */
            continue;
        }
        if (b == (uint16_t)(r->got + 1)) {
            memcpy(r->out + r->got_bytes, pkt + 4, (size_t)len - 4);
            r->got_bytes += (size_t)len - 4;
            r->got++;
            r->gap = false;
            if (len - 4 < BLK) {
                rx_ack(r, r->got);
                r->done = true;
            } else if (r->got - r->last_ack >= WIN) {
                rx_ack(r, r->got);
            }
        } else if (!r->gap) {
            rx_ack(r, r->got);   /* a wrong block */
            r->gap = true;
            r->gaps++;
        }
    }
}

/* Hand every ACK the receiver sent to the engine. Returns how many. */
static unsigned tx_input(struct tftp_tx *x, uint64_t now)
{
    uint8_t pkt[64];
    unsigned n = 0;
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t len = recvfrom(x->sock, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
        if (len < 0)
            return n;
        n++;
        tftp_tx_input(x, pkt, (size_t)len, (struct sockaddr *)&from, fl, now);
    }
}

/* A sender of size bytes of data (in a memfd) to a receiver socket with
 * SO_RCVBUF rcvbuf. */
struct setup {
    struct rx r;
    struct tftp_tx_scratch sc;
    struct tftp_tx x;
    int mfd;
};

static void setup_sender(struct setup *t, const uint8_t *data, size_t size,
                         int rcvbuf, uint32_t blksize, uint32_t window)
{
    memset(t, 0, sizeof *t);
    t->mfd = memfd_create("tftp-transfer-test", MFD_CLOEXEC);
    assert_true(t->mfd >= 0);
    assert_int_equal(write(t->mfd, data, size), (ssize_t)size);
    struct sockaddr_in cli;
    t->r.fd = udp_socket(rcvbuf, &cli);
    t->r.out = calloc(1, size + 1);
    assert_non_null(t->r.out);
    assert_int_equal(tftp_tx_scratch_init(&t->sc), 0);
    struct tftp_tx *x = &t->x;
    x->sock = udp_socket(0, &t->r.srv);
    memcpy(&x->peer.ss, &cli, sizeof cli);
    x->peer.len = sizeof cli;
    x->file = t->mfd;
    x->sending = true;
    x->mode = IBX_TFTP_OCTET;
    x->blksize = blksize;
    x->window = window;
    x->rto_max = 1000;
    x->giveup = 60000;
    x->scratch = &t->sc;
}

static void setup_free(struct setup *t)
{
    tftp_tx_release(&t->x);
    tftp_tx_scratch_free(&t->sc);
    close(t->x.sock);
    close(t->r.fd);
    close(t->mfd);
    free(t->r.out);
}

static void test_burst_learned_from_small_receiver(void **state)
{
    (void)state;
    const size_t size = (size_t)BLK * WIN * 48 + 1000;   /* 48 windows and a bit */
    uint8_t *data = malloc(size);
    assert_non_null(data);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    struct setup t;
    /* the kernel doubles SO_RCVBUF: a few 8 KiB packets */
    setup_sender(&t, data, size, 48 * 1024, BLK, WIN);
    uint64_t now = 1000;
    unsigned timeouts = 0, gaps_first_half = 0;
    bool half_seen = false;
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    for (int step = 0; step < 100000 && t.x.state == TFTP_TX_RUNNING; step++) {
        unsigned got = rx_drain(&t.r);
        if (!half_seen && t.r.got_bytes >= size / 2) {
            half_seen = true;
            gaps_first_half = t.r.gaps;
        }
        unsigned acks = tx_input(&t.x, now);
        if (t.x.state != TFTP_TX_RUNNING)
            break;
        if (got || acks)
            continue;   /* let each side take what the other just sent */
        if (t.x.pace_wait) {
            now += TFTP_TX_PACE_US;   /* the pause: the receiver has drained */
            tftp_tx_pace(&t.x, now);
        } else {
            now = t.x.deadline;   /* nothing in flight answered: the timer */
            tftp_tx_timeout(&t.x, now);
            timeouts++;
        }
    }
    assert_int_equal(t.x.state, TFTP_TX_DONE);
    assert_true(t.r.done);
    assert_int_equal(t.r.got_bytes, size);
    assert_memory_equal(t.r.out, data, size);
    /* the receiver dropped the tail of the first burst: the engine timed
     * out once, learned, and bursts no more than the receiver holds */
    assert_true(timeouts >= 1);
    assert_true(t.x.burst > 0 && t.x.burst < WIN);
    /* from then on windows arrive whole, but for one probe (a burst one
     * larger) per TFTP_TX_BURST_GROW clean windows */
    unsigned later = t.r.gaps - gaps_first_half;
    print_message("timeouts %u gaps %u (first half %u) burst %u retransmits %llu\n", timeouts, t.r.gaps, gaps_first_half, t.x.burst, (unsigned long long)t.x.retransmits);
    assert_true(later <= 24 / TFTP_TX_BURST_GROW + 2);
    assert_true(timeouts <= 2);

    setup_free(&t);
    free(data);
}

/* A receiver that keeps up: whole windows in one burst, never paced. */
static void test_no_pacing_when_receiver_keeps_up(void **state)
{
    (void)state;
    const size_t size = (size_t)512 * 8 * 20;   /* a 0-byte final block */
    uint8_t *data = malloc(size);
    assert_non_null(data);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 7);
    struct setup t;
    setup_sender(&t, data, size, 1 << 20, 512, 8);
    uint64_t now = 1;
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    /* rx_drain's window is WIN (16): ACK every 16 blocks is wrong for 8,
     * so ACK by hand here */
    for (int step = 0; step < 10000 && t.x.state == TFTP_TX_RUNNING; step++) {
        uint8_t pkt[600];
        ssize_t len;
        while ((len = recv(t.r.fd, pkt, sizeof pkt, 0)) > 0) {
            uint16_t b = (uint16_t)(pkt[2] << 8 | pkt[3]);
            assert_int_equal(b, (uint16_t)(t.r.got + 1));   /* nothing lost */
            memcpy(t.r.out + t.r.got_bytes, pkt + 4, (size_t)len - 4);
            t.r.got_bytes += (size_t)len - 4;
            t.r.got++;
            if (len - 4 < 512 || t.r.got % 8 == 0)
                rx_ack(&t.r, t.r.got);
        }
        tx_input(&t.x, now);
        assert_false(t.x.pace_wait);
        now++;
    }
    assert_int_equal(t.x.state, TFTP_TX_DONE);
    assert_int_equal(t.x.burst, 0);
    assert_int_equal(t.x.retransmits, 0);
    assert_memory_equal(t.r.out, data, size);
    setup_free(&t);
    free(data);
}


/* Read everything queued at the peer's socket; returns how many of the
 * packets had opcode op. */
static unsigned peer_count(int fd, uint16_t op)
{
    uint8_t pkt[BLK + 64];
    unsigned n = 0;
    ssize_t len;
    while ((len = recv(fd, pkt, sizeof pkt, 0)) >= 0)
        if (len >= 2 && (pkt[0] << 8 | pkt[1]) == op)
            n++;
    return n;
}

/* A receiver (the client of a get) that sent ACK 0 to the server's OACK.
 * Run its timer alone in test time (µs) from 0 to until; return the times
 * at which ACK 0 reached the peer (at most 16). */
static unsigned ack0_schedule(bool hint, uint32_t hint_ms, uint64_t until, uint64_t *at)
{
    struct setup t;
    static const uint8_t none[1];
    setup_sender(&t, none, 0, 0, 1468, 16);
    t.x.sending = false;
    t.x.ctl_len = (size_t)ibx_tftp_build_ack(t.x.ctl, sizeof t.x.ctl, 0);
    t.x.rtt_hint_set = hint;
    t.x.rtt_hint = hint_ms;
    unsigned n = 0;
    uint64_t now = 0;
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    for (;;) {
        for (unsigned k = peer_count(t.r.fd, IBX_TFTP_ACK); k && n < 16; k--)
            at[n++] = now;
        if (t.x.deadline > until)
            break;
        now = t.x.deadline;
        tftp_tx_timeout(&t.x, now);
        assert_int_equal(t.x.state, TFTP_TX_RUNNING);
    }
    setup_free(&t);
    return n;
}

/* A client that timed its request resends a lost ACK 0 after a few round
 * trips (never sooner than 50 ms), backing off; without that round trip
 * it waits the full timeout, as before. */
static void test_receiver_ack0_follows_request_rtt(void **state)
{
    (void)state;
    uint64_t at[16];
    unsigned n = ack0_schedule(true, 30, 1999999, at);
    assert_true(n >= 3);
    assert_int_equal(at[0], 0);
    assert_int_equal(at[1], 200000);
    for (unsigned i = 2; i < n; i++)   /* exponential backoff, no storm */
        assert_int_equal(at[i] - at[i - 1], 2 * (at[i - 1] - at[i - 2]));
    /* a slow path: four round trips */
    n = ack0_schedule(true, 60000, 999999, at);
    assert_true(n >= 2);
    assert_int_equal(at[1], 240000);
    /* unknown round trip (the request went out twice): the full timeout */
    n = ack0_schedule(false, 0, 1999999, at);
    assert_int_equal(n, 2);
    assert_int_equal(at[1], 1000000);
}

/* A lock-step sender (the client of a put, windowsize 1) starts its
 * estimate from the request's round trip: a lost first block is sent
 * again after the retransmit floor, not after the 1 s initial timeout. A
 * window of 16 is not seeded (one small packet's round trip says nothing
 * of how long a window takes to be acknowledged) and waits the initial
 * timeout, as without a hint. */
static void test_sender_seeded_by_request_rtt(void **state)
{
    (void)state;
    static uint8_t data[1468 * 20];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    static const struct { bool hint; uint32_t window; uint64_t resend; } cases[] = {
        {true, 1, 500}, {false, 1, 1000000}, {true, 16, 1000000}, {false, 16, 1000000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct setup t;
        setup_sender(&t, data, sizeof data, 1 << 20, 1468, cases[i].window);
        t.x.rtt_hint_set = cases[i].hint;
        t.x.rtt_hint = 40;   /* µs: loopback */
        assert_int_equal(tftp_tx_begin(&t.x, 0), 0);
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), cases[i].window);   /* "lost" */
        uint64_t resent_at = t.x.deadline;
        tftp_tx_timeout(&t.x, resent_at);
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), cases[i].window);
        assert_int_equal(resent_at, cases[i].resend);   /* 500: the floor */
        setup_free(&t);
    }
}

/* A request without options repeated before DATA 1 was acknowledged:
 * DATA 1 (the answer to it) goes out again at once, rate-limited, and
 * not once the client has acknowledged it. */
static void test_request_again_resends_data1(void **state)
{
    (void)state;
    static const uint8_t data[1000] = {3};
    struct setup t;
    setup_sender(&t, data, sizeof data, 0, 512, 1);
    assert_int_equal(tftp_tx_begin(&t.x, 1000), 0);
    uint64_t due = t.x.deadline;
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 1);
    tftp_tx_request_again(&t.x, 20, 2000);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 1);
    assert_int_equal(t.x.deadline, due);
    tftp_tx_request_again(&t.x, 20, 2100);   /* within the rate limit */
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 0);
    uint8_t ack[4];
    ibx_tftp_build_ack(ack, sizeof ack, 1);
    tftp_tx_input(&t.x, ack, sizeof ack, (struct sockaddr *)&t.x.peer.ss, t.x.peer.len, 3000);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 1);   /* DATA 2 */
    tftp_tx_request_again(&t.x, 20, 4000);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 0);
    setup_free(&t);
}

/* A repeated request while the OACK awaits its answer brings the OACK
 * again at once, at most once per half millisecond, and nothing once the
 * transfer has been answered. Sender (RRQ) and receiver (WRQ) alike. */
static void test_request_again_resends_oack(void **state)
{
    (void)state;
    static const uint8_t data[100] = {1};
    for (int sending = 0; sending < 2; sending++) {
        struct setup t;
        setup_sender(&t, data, sizeof data, 0, 512, 4);
        t.x.sending = sending;
        struct ibx_tftp_opts o = {.have = IBX_TFTP_OPT_WINDOWSIZE, .windowsize = 4};
        int n = ibx_tftp_build_oack(t.x.ctl, sizeof t.x.ctl, &o);
        assert_true(n > 0);
        t.x.ctl_len = (size_t)n;
        if (!sending)
            assert_int_equal(ftruncate(t.mfd, 0), 0);
        assert_int_equal(tftp_tx_begin(&t.x, 100000), 0);
        uint64_t due = t.x.deadline;
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_OACK), 1);
        tftp_tx_request_again(&t.x, 20, 110000);
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_OACK), 1);
        assert_int_equal(t.x.deadline, due);   /* the timer's schedule stands */
        tftp_tx_request_again(&t.x, 20, 110100);      /* a flood is not amplified */
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_OACK), 0);
        /* the peer answers: ACK 0 (to a sender) or DATA 1 (to a receiver) */
        uint8_t pkt[516], block[512] = {7};   /* a full block: not the last */
        size_t len = sending ? (size_t)ibx_tftp_build_ack(pkt, sizeof pkt, 0)
                             : (size_t)ibx_tftp_build_data(pkt, sizeof pkt, 1, block, sizeof block);
        assert_true(len > 0);
        tftp_tx_input(&t.x, pkt, len, (struct sockaddr *)&t.x.peer.ss, t.x.peer.len, 120000);
        tftp_tx_flush(&t.x, 120000);
        assert_int_equal(t.x.state, TFTP_TX_RUNNING);
        tftp_tx_request_again(&t.x, 20, 130000);
        assert_int_equal(peer_count(t.r.fd, IBX_TFTP_OACK), 0);
        setup_free(&t);
    }
}

/* The OACK -> ACK 0 round trip is one small packet's, and a client that
 * resent a lost ACK 0 stretches it (here 200 ms) without the server
 * knowing. The first window's own sample replaces it, so a later loss
 * is repaired after the retransmit floor, not after a timeout derived
 * from 200 ms. */
static void test_control_sample_replaced_by_first_window(void **state)
{
    (void)state;
    static uint8_t data[1468 * 40];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 5);
    struct setup t;
    setup_sender(&t, data, sizeof data, 1 << 20, 1468, 16);
    struct ibx_tftp_opts o = {.have = IBX_TFTP_OPT_WINDOWSIZE, .windowsize = 16};
    int n = ibx_tftp_build_oack(t.x.ctl, sizeof t.x.ctl, &o);
    assert_true(n > 0);
    t.x.ctl_len = (size_t)n;
    assert_int_equal(tftp_tx_begin(&t.x, 0), 0);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_OACK), 1);
    uint8_t ack[4];
    const struct sockaddr *peer = (const struct sockaddr *)&t.x.peer.ss;
    ibx_tftp_build_ack(ack, sizeof ack, 0);
    tftp_tx_input(&t.x, ack, sizeof ack, peer, t.x.peer.len, 200000);   /* late ACK 0 */
    assert_true(t.x.rto >= 200000);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 16);
    ibx_tftp_build_ack(ack, sizeof ack, 16);                         /* 100 µs later */
    tftp_tx_input(&t.x, ack, sizeof ack, peer, t.x.peer.len, 200100);
    assert_int_equal(peer_count(t.r.fd, IBX_TFTP_DATA), 16);         /* window 2: "lost" */
    assert_true(t.x.deadline - 200100 <= 1000);
    setup_free(&t);
}

/* One random loss is not a small buffer: the last block of one window
 * lost once (a timeout answered by an ACK inside the window, the very
 * sign a small buffer gives) must not limit the bursts; only two cuts in
 * a row at the same place do (test_burst_learned_from_small_receiver). */
static void test_one_loss_does_not_limit_bursts(void **state)
{
    (void)state;
    const size_t size = (size_t)BLK * WIN * 20 + 7;
    uint8_t *data = malloc(size);
    assert_non_null(data);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 11);
    struct setup t;
    setup_sender(&t, data, size, 4 << 20, BLK, WIN);
    t.r.drop = 3 * WIN;   /* the last block of the third window */
    uint64_t now = 1000;
    unsigned timeouts = 0;
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    for (int step = 0; step < 100000 && t.x.state == TFTP_TX_RUNNING; step++) {
        unsigned got = rx_drain(&t.r);
        unsigned acks = tx_input(&t.x, now);
        if (t.x.state != TFTP_TX_RUNNING || got || acks)
            continue;
        if (t.x.pace_wait) {
            now += TFTP_TX_PACE_US;
            tftp_tx_pace(&t.x, now);
        } else {
            now = t.x.deadline;
            tftp_tx_timeout(&t.x, now);
            timeouts++;
        }
    }
    assert_int_equal(t.x.state, TFTP_TX_DONE);
    assert_memory_equal(t.r.out, data, size);
    assert_int_equal(timeouts, 1);      /* the lost tail, repaired by the timer */
    assert_int_equal(t.x.burst, 0);     /* and no burst limit from it */
    setup_free(&t);
    free(data);
}

/* Bytes of every packet queued at fd (read and dropped); *pkts counts them
 * and *data the DATA packets with a payload. */
static size_t peer_bytes(int fd, unsigned *pkts, unsigned *data)
{
    uint8_t pkt[BLK + 64];
    size_t total = 0;
    ssize_t len;
    while ((len = recv(fd, pkt, sizeof pkt, 0)) >= 0) {
        total += (size_t)len;
        (*pkts)++;
        if (len > 4 && (pkt[0] << 8 | pkt[1]) == IBX_TFTP_DATA)
            (*data)++;
    }
    return total;
}

/* A server-side sender (amp_limit) with an OACK for windowsize 16 to a
 * peer whose request was req bytes. */
static void setup_amp(struct setup *t, const uint8_t *data, size_t size, uint32_t req)
{
    setup_sender(t, data, size, 1 << 20, 512, 16);
    struct ibx_tftp_opts o = {.have = IBX_TFTP_OPT_WINDOWSIZE, .windowsize = 16};
    int n = ibx_tftp_build_oack(t->x.ctl, sizeof t->x.ctl, &o);
    assert_true(n > 0);
    t->x.ctl_len = (size_t)n;
    t->x.amp_limit = true;
    t->x.req_bytes = req;
}

static void feed_ack(struct tftp_tx *x, uint16_t b, uint64_t arrived, uint64_t now)
{
    uint8_t ack[4];
    ibx_tftp_build_ack(ack, sizeof ack, b);
    x->arrived = arrived;
    tftp_tx_input(x, ack, sizeof ack, (struct sockaddr *)&x->peer.ss, x->peer.len, now);
    x->arrived = 0;
}

/* Anti-amplification: until the peer acknowledges DATA, an OACK + ACK 0
 * unlock block 1 alone and a 4-byte gap probe (not a window of 16); the
 * timer resends a small block 1 TFTP_TX_AMP_RESENDS times and then nothing
 * more to a peer that stays silent, whatever the time (the giveup ends
 * it); a peer that speaks again (its own resent ACK 0) gets block 1
 * again, once; its ACK 1 unlocks whole windows. What reached the peer
 * before that stays within 3x its bytes (with IP and UDP headers) beyond
 * three blocks. */
static void test_unverified_peer_gets_one_block(void **state)
{
    (void)state;
    static uint8_t data[512 * 100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 3);
    struct setup t;
    const uint32_t req = 40;
    setup_amp(&t, data, sizeof data, req);
    t.x.giveup = 10000;
    uint64_t now = tftp_tx_clock();
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    unsigned pkts = 0, dat = 0;
    size_t got = peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(pkts, 1);   /* the OACK */
    now = tftp_tx_clock();
    feed_ack(&t.x, 0, now, now);
    got += peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(dat, 1);    /* block 1 */
    assert_int_equal(pkts, 3);   /* and the gap probe */
    /* silent peer: timeouts until the giveup send nothing */
    unsigned expiries = 0;
    while (t.x.state == TFTP_TX_RUNNING && expiries < 100) {
        now = t.x.deadline;
        tftp_tx_timeout(&t.x, now);
        expiries++;
    }
    assert_int_equal(t.x.state, TFTP_TX_FAILED);
    got += peer_bytes(t.r.fd, &pkts, &dat);
    /* a small block 1 is resent TFTP_TX_AMP_RESENDS times on the timer alone
     * (for receivers that never repeat their ACK); never a window */
    assert_int_equal(dat, 1 + TFTP_TX_AMP_RESENDS);
    size_t sent = req + 4;
    assert_true(got <= 3 * (sent + 2 * 28) + (1 + TFTP_TX_AMP_RESENDS) * 516);
    setup_free(&t);

    /* a peer that lost block 1 and resends ACK 0 after our timer */
    setup_amp(&t, data, sizeof data, req);
    now = tftp_tx_clock();
    assert_int_equal(tftp_tx_begin(&t.x, now), 0);
    now = tftp_tx_clock();
    feed_ack(&t.x, 0, now, now);
    pkts = dat = 0;
    peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(dat, 1);
    now = t.x.deadline;
    for (unsigned i = 0; i < TFTP_TX_AMP_RESENDS; i++) {
        tftp_tx_timeout(&t.x, now);         /* the timer alone: block 1 again */
        dat = 0;
        peer_bytes(t.r.fd, &pkts, &dat);
        assert_int_equal(dat, 1);
        now = t.x.deadline;
    }
    tftp_tx_timeout(&t.x, now);             /* owed, not sent: it was silent */
    assert_int_equal(peer_bytes(t.r.fd, &pkts, &dat), 0);
    feed_ack(&t.x, 0, now + 10, now + 10);   /* it speaks: block 1 again */
    dat = 0;
    peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(dat, 1);
    feed_ack(&t.x, 0, now + 20, now + 20);   /* again at once: nothing owed */
    dat = 0;
    peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(dat, 0);
    now = tftp_tx_clock();
    feed_ack(&t.x, 1, now, now);          /* proof: a whole window */
    assert_true(t.x.verified);
    dat = 0;
    peer_bytes(t.r.fd, &pkts, &dat);
    assert_int_equal(dat, 16);
    setup_free(&t);
}

/* ACKs no receiver could send end an unverified transfer without a word:
 * ACK 0 that arrived before the OACK went out (sent with the request),
 * an ACK of a block never sent, an ACK 1 that arrived before block 1
 * went out. */
static void test_blind_acks_end_transfer(void **state)
{
    (void)state;
    static uint8_t data[512 * 40];
    for (int c = 0; c < 3; c++) {
        struct setup t;
        setup_amp(&t, data, sizeof data, 40);
        uint64_t before = tftp_tx_clock() - 100;   /* arrived 100 µs before */
        assert_int_equal(tftp_tx_begin(&t.x, tftp_tx_clock()), 0);
        if (c == 0) {
            feed_ack(&t.x, 0, before, tftp_tx_clock());
        } else {
            uint64_t now = tftp_tx_clock();
            feed_ack(&t.x, 0, now, now);
            before = tftp_tx_clock() - 100;
            feed_ack(&t.x, c == 1 ? 7 : 1, c == 1 ? tftp_tx_clock() : before, tftp_tx_clock());
        }
        assert_int_equal(t.x.state, TFTP_TX_FAILED);
        assert_non_null(strstr(t.x.why, "blind"));
        unsigned pkts = 0, dat = 0;
        peer_bytes(t.r.fd, &pkts, &dat);
        assert_true(dat <= 1);   /* no ERROR, no window */
        setup_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_learned_from_small_receiver),
        cmocka_unit_test(test_no_pacing_when_receiver_keeps_up),
        cmocka_unit_test(test_receiver_ack0_follows_request_rtt),
        cmocka_unit_test(test_sender_seeded_by_request_rtt),
        cmocka_unit_test(test_request_again_resends_oack),
        cmocka_unit_test(test_request_again_resends_data1),
        cmocka_unit_test(test_control_sample_replaced_by_first_window),
        cmocka_unit_test(test_one_loss_does_not_limit_bursts),
        cmocka_unit_test(test_unverified_peer_gets_one_block),
        cmocka_unit_test(test_blind_acks_end_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
