/* chatd's hub pieces that need no loop: the id table (map.c), records
 * into a ring that fills up and wait in order (hubio.c), a ring whose
 * reader is gone, and the output queue's accounting (outq.c): partial
 * writes, keep-head, the --sendq and bulk bounds. */
//unit-sources: src/apps/chatd/map.c src/apps/chatd/hubio.c src/apps/chatd/outq.c src/apps/chatd/msg.c src/apps/termtext.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatd/chatd.h"

static void test_imap(void **state)
{
    (void)state;
    enum { N = 5000 };
    static bool in[N + 1];
    struct imap m = {0};
    unsigned seed = 7;
    for (uint64_t k = 1; k <= N; k++) {
        assert_int_equal(imap_put(&m, k * 64, (void *)(uintptr_t)k), 0);
        in[k] = true;
    }
    for (int round = 0; round < 20000; round++) {   /* random deletes and re-adds */
        seed = seed * 1103515245u + 12345u;
        uint64_t k = 1 + (seed >> 8) % N;
        if (in[k]) {
            assert_ptr_equal(imap_del(&m, k * 64), (void *)(uintptr_t)k);
            in[k] = false;
        } else {
            assert_int_equal(imap_put(&m, k * 64, (void *)(uintptr_t)k), 0);
            in[k] = true;
        }
    }
    size_t n = 0;
    for (uint64_t k = 1; k <= N; k++) {
        assert_ptr_equal(imap_get(&m, k * 64), in[k] ? (void *)(uintptr_t)k : NULL);
        n += in[k];
    }
    assert_int_equal(m.n, n);
    assert_null(imap_get(&m, 0));
    assert_null(imap_del(&m, 12345));
    imap_free(&m);
}

/* Records fill the smallest ring, the rest wait; the reader gets them
 * all, in order, once it makes room. */
static void test_ring_full(void **state)
{
    (void)state;
    ibx_shmq *q;
    assert_int_equal(ibx_shmq_create(NULL, IBX_SHMQ_MIN_CAPACITY, 0, 0600, &q), 0);
    ibx_shmq *rq;
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(q), &rq), 0);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(rq, IBX_SHMQ_CONSUMER), 0);
    struct hub_tx t = {.q = q};
    char text[300];
    memset(text, 'x', sizeof text);
    for (uint64_t i = 1; i <= 100; i++) {
        struct hub_rec r = {.type = HUB_DATA, .id = i};
        assert_int_equal(hubtx_put(&t, &r, text, 100 + i, NULL, 0), 0);
    }
    assert_true(t.committed);
    assert_true(ibx_buf_used(&t.pend) > 0);   /* 4 KiB cannot hold 20 KiB */
    const struct hub_rec *h;
    const void *p;
    size_t n;
    assert_int_equal(hubrx_next(rq, &h, &p, &n), 1);
    assert_int_equal(h->id, 1);
    ibx_shmq_release(rq);
    /* there is room now, yet a new record goes behind those that wait */
    struct hub_rec late = {.type = HUB_DATA, .id = 101};
    assert_int_equal(hubtx_put(&t, &late, text, 10, NULL, 0), 0);
    uint64_t next = 2;
    for (int pass = 0; pass < 100 && next <= 101; pass++) {
        while (hubrx_next(rq, &h, &p, &n) == 1) {
            assert_int_equal(h->type, HUB_DATA);
            assert_int_equal(h->id, next);
            assert_int_equal(n, next == 101 ? 10 : 100 + next);
            next++;
            ibx_shmq_release(rq);
        }
        assert_int_equal(hubtx_flush(&t), 0);
    }
    assert_int_equal(next, 102);
    assert_int_equal(ibx_buf_used(&t.pend), 0);
    /* too big for the ring: refused, not queued */
    struct hub_rec r = {.type = HUB_DATA, .id = 1};
    assert_int_equal(hubtx_put(&t, &r, text, ibx_shmq_max_msg(q), NULL, 0), -EMSGSIZE);
    /* the reader gone: the writer hears it */
    ibx_shmq_close(rq);
    assert_int_equal(hubtx_put(&t, &r, text, 10, NULL, 0), -EPIPE);
    ibx_shmq_close(q);
    ibx_buf_free(&t.pend);
}

/* The writer gone: the reader gets what was committed, then -EPIPE. */
static void test_writer_gone(void **state)
{
    (void)state;
    ibx_shmq *q, *rq;
    assert_int_equal(ibx_shmq_create(NULL, IBX_SHMQ_MIN_CAPACITY, 0, 0600, &q), 0);
    assert_int_equal(ibx_shmq_from_fd(ibx_shmq_fd(q), &rq), 0);
    assert_int_equal(ibx_shmq_attach(q, IBX_SHMQ_PRODUCER), 0);
    assert_int_equal(ibx_shmq_attach(rq, IBX_SHMQ_CONSUMER), 0);
    struct hub_tx t = {.q = q};
    struct hub_rec r = {.type = HUB_CLOSED, .id = 9};
    assert_int_equal(hubtx_put(&t, &r, "bye", 3, NULL, 0), 0);
    ibx_shmq_close(q);
    const struct hub_rec *h;
    const void *p;
    size_t n;
    assert_int_equal(hubrx_next(rq, &h, &p, &n), 1);
    assert_int_equal(h->id, 9);
    assert_memory_equal(p, "bye", 3);
    ibx_shmq_release(rq);
    assert_int_equal(hubrx_next(rq, &h, &p, &n), -EPIPE);
    ibx_shmq_close(rq);
}

static struct chat_msg *msg(const char *s)
{
    struct chat_msg *m = msg_new(strlen(s));
    memcpy(m->data, s, strlen(s));
    return m;
}

static void test_outq(void **state)
{
    (void)state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    struct outq q = {0};
    struct chat_msg *a = msg("hello\n"), *b = msg("names list\n");
    assert_int_equal(outq_push(&q, a, false), 0);
    assert_int_equal(outq_push(&q, b, true), 0);
    assert_int_equal(a->refs, 2);
    assert_int_equal(q.queued, 17);
    assert_int_equal(q.bulk_queued, 11);
    struct chat_cfg cfg = {.sendq = 16, .sendq_bulk = 111};
    assert_false(outq_over(&q, false, 10, &cfg));
    assert_true(outq_over(&q, false, 11, &cfg));
    assert_false(outq_over(&q, true, 100, &cfg));   /* bulk: --sendq-bulk */
    assert_true(outq_over(&q, true, 101, &cfg));
    assert_int_equal(outq_write(&q, sp[0]), 0);
    assert_int_equal(q.n, 0);
    assert_int_equal(q.queued + q.bulk_queued, 0);
    assert_int_equal(a->refs, 1);
    char buf[64];
    assert_int_equal(read(sp[1], buf, sizeof buf), 17);
    assert_memory_equal(buf, "hello\nnames list\n", 17);
    /* a socket that fills: the head is partly written; keep-head keeps it */
    char big[4096];
    memset(big, 'z', sizeof big);
    struct chat_msg *z = msg_new(sizeof big);
    memcpy(z->data, big, sizeof big);
    while (q.queued < (1u << 21))
        assert_int_equal(outq_push(&q, z, false), 0);
    assert_int_equal(outq_write(&q, sp[0]), 0);
    assert_true(q.n > 0);
    if (q.off) {
        size_t left = z->len - q.off;
        outq_keep_head(&q);
        assert_int_equal(q.n, 1);
        assert_int_equal(q.queued, left);
    }
    outq_drop(&q);
    assert_int_equal(z->refs, 1);
    msg_unref(z);
    msg_unref(a);
    msg_unref(b);
    close(sp[0]);
    close(sp[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap),
        cmocka_unit_test(test_ring_full),
        cmocka_unit_test(test_writer_gone),
        cmocka_unit_test(test_outq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
