/* udpchat's peer table and per-sender checks (src/apps/udpchat/peers.c):
 * the sequence window accepts each number once, in any order within the
 * window, refuses what is older, survives wrap-around; the token bucket
 * gives a burst then the rate; the table finds peers by id through adds
 * and removes (index integrity under collisions), stays bounded by
 * evicting the least recently seen, and reports expiry after UC_MISSES
 * intervals; a peer is an id at one endpoint, each source address counts
 * its peers, and a full table makes an address evict its own first. And what a peer's text and nick look like on a terminal. */
//unit-sources: src/apps/udpchat/peers.c src/apps/udpchat/format.c src/apps/termtext.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "udpchat/peers.h"
#include "udpchat/udpchat.h"

/* The endpoint 10.0.0.a:port. */
static struct uc_ep ep(unsigned a, uint16_t port)
{
    struct uc_ep e = {.family = AF_INET, .port = port};
    e.addr[0] = 10;
    e.addr[3] = (unsigned char)a;
    return e;
}

static const struct uc_ep *E1(void)
{
    static struct uc_ep e;
    e = ep(1, 6767);
    return &e;
}

static void window(void **state)
{
    struct uc_window w = {0};
    assert_int_equal(uc_window_check(&w, 100), UC_SEQ_NEW);
    uc_window_mark(&w, 100);
    assert_int_equal(uc_window_check(&w, 100), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&w, 101), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&w, 99), UC_SEQ_NEW);     /* late, not seen */
    uc_window_mark(&w, 103);                                    /* 101, 102 lost */
    assert_int_equal(uc_window_check(&w, 103), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&w, 100), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&w, 102), UC_SEQ_NEW);
    uc_window_mark(&w, 102);                                    /* reordered */
    assert_int_equal(uc_window_check(&w, 102), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&w, 101), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&w, 103 - UC_WINDOW + 1), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&w, 103 - UC_WINDOW), UC_SEQ_OLD);
    /* a jump past the window forgets everything behind it */
    uc_window_mark(&w, 103 + 1000);
    assert_int_equal(uc_window_check(&w, 103), UC_SEQ_OLD);
    assert_int_equal(uc_window_check(&w, 103 + 999), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&w, 103 + 1000), UC_SEQ_DUP);

    /* a jump ahead is capped: a forged number cannot push the window so far
     * that the sender's own next numbers all look old */
    assert_int_equal(uc_window_check(&w, 103 + 1000 + UC_JUMP_MAX), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&w, 103 + 1000 + UC_JUMP_MAX + 1), UC_SEQ_JUMP);
    assert_int_equal(uc_window_check(&w, 103 + 1000 + 0x7fffffffu), UC_SEQ_JUMP);
    assert_int_equal(uc_window_check(&w, 103 + 1000 + 0x80000000u), UC_SEQ_OLD);
    struct uc_window fresh = {0};                 /* a new sender: any start */
    assert_int_equal(uc_window_check(&fresh, 0x7fffffffu), UC_SEQ_NEW);

    /* wrap-around: 0xffffffff then 0, 1 */
    struct uc_window v = {0};
    uc_window_mark(&v, 0xfffffffeu);
    assert_int_equal(uc_window_check(&v, 0xffffffffu), UC_SEQ_NEW);
    uc_window_mark(&v, 0xffffffffu);
    assert_int_equal(uc_window_check(&v, 0), UC_SEQ_NEW);
    uc_window_mark(&v, 0);
    uc_window_mark(&v, 1);
    assert_int_equal(uc_window_check(&v, 0xffffffffu), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&v, 0xfffffffeu), UC_SEQ_DUP);
    assert_int_equal(uc_window_check(&v, 0xfffffffdu), UC_SEQ_NEW);
    assert_int_equal(uc_window_check(&v, 1u - UC_WINDOW), UC_SEQ_OLD);

    /* every number once, whatever the order, inside the window */
    struct uc_window x = {0};
    unsigned order[40];
    for (unsigned i = 0; i < 40; i++)
        order[i] = (i * 17) % 40;                           /* a permutation */
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(uc_window_check(&x, 5000 + order[i]), UC_SEQ_NEW);
        uc_window_mark(&x, 5000 + order[i]);
    }
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(uc_window_check(&x, 5000 + i), UC_SEQ_DUP);
}

static void bucket(void **state)
{
    struct uc_bucket b;
    uc_bucket_init(&b, 4, 1000);
    for (int i = 0; i < 4; i++)
        assert_true(uc_bucket_take(&b, 2, 4, 1000));
    assert_false(uc_bucket_take(&b, 2, 4, 1000));
    assert_int_equal(uc_bucket_wait(&b, 2, 4, 1000), 501);
    assert_false(uc_bucket_take(&b, 2, 4, 1250));
    assert_true(uc_bucket_take(&b, 2, 4, 1500));             /* 2 per second */
    assert_false(uc_bucket_take(&b, 2, 4, 1500));
    assert_true(uc_bucket_take(&b, 2, 4, 100000));           /* refilled ... */
    for (int i = 0; i < 3; i++)
        assert_true(uc_bucket_take(&b, 2, 4, 100000));
    assert_false(uc_bucket_take(&b, 2, 4, 100000));          /* ... to the burst only */
    assert_true(uc_bucket_take(&b, 0, 0, 100000));           /* rate 0: no limit */
    /* charging goes into debt and the wait grows with it */
    uc_bucket_init(&b, 1, 0);
    uc_bucket_charge(&b, 10, 1, 0);
    uc_bucket_charge(&b, 10, 1, 0);
    uc_bucket_charge(&b, 10, 1, 0);
    assert_int_equal(uc_bucket_wait(&b, 10, 1, 0), 301);
    assert_int_equal(uc_bucket_wait(&b, 10, 1, 301), 0);
}

static void table(void **state)
{
    struct uc_peers t;
    assert_int_equal(uc_peers_init(&t, 100, 4, 8, 0x1234), 0);
    /* ids chosen so that many share index slots: the index must still
     * find every one after removals shift clusters around */
    for (uint64_t i = 1; i <= 100; i++) {
        struct uc_peer *p = uc_peers_add(&t, i << 40, E1(), i, 5000, NULL, NULL);
        assert_non_null(p);
        assert_true(p->id == i << 40);
        assert_int_equal(p->interval_ms, 5000);
    }
    assert_int_equal(t.n, 100);
    for (uint64_t i = 1; i <= 100; i += 3)
        uc_peers_remove(&t, uc_peers_find(&t, i << 40, E1(), NULL));
    for (uint64_t i = 1; i <= 100; i++) {
        struct uc_peer *p = uc_peers_find(&t, i << 40, E1(), NULL);
        if ((i - 1) % 3 == 0) {
            assert_null(p);
        } else {
            assert_non_null(p);
            assert_true(p->id == i << 40);
            assert_true(p->last_ms == i);
        }
    }
    assert_null(uc_peers_find(&t, 12345, E1(), NULL));
    uc_peers_free(&t);

    /* random ids, many adds and removes: the index and the array agree */
    assert_int_equal(uc_peers_init(&t, 64, 4, 8, 99), 0);
    uint64_t live[64];
    size_t nlive = 0;
    srand(7);
    for (int round = 0; round < 20000; round++) {
        if (nlive < 64 && (rand() & 1)) {
            uint64_t id = ((uint64_t)rand() << 33) ^ (uint64_t)rand() ^ 1;
            if (uc_peers_find(&t, id, E1(), NULL))
                continue;
            uc_peers_add(&t, id, E1(), (uint64_t)round, 1000, NULL, NULL);
            live[nlive++] = id;
        } else if (nlive) {
            size_t k = (size_t)rand() % nlive;
            uc_peers_remove(&t, uc_peers_find(&t, live[k], E1(), NULL));
            live[k] = live[--nlive];
        }
        assert_int_equal(t.n, nlive);
    }
    for (size_t k = 0; k < nlive; k++)
        assert_true(uc_peers_find(&t, live[k], E1(), NULL)->id == live[k]);
    uc_peers_free(&t);
}

static void bounded(void **state)
{
    struct uc_peers t;
    assert_int_equal(uc_peers_init(&t, 3, 4, 8, 1), 0);
    uc_peers_add(&t, 1, E1(), 100, 1000, NULL, NULL);
    uc_peers_add(&t, 2, E1(), 200, 1000, NULL, NULL);
    uc_peers_add(&t, 3, E1(), 300, 1000, NULL, NULL);
    uc_peers_find(&t, 1, E1(), NULL)->last_ms = 400;                     /* 1 heard again */
    struct uc_peer ev;
    bool was;
    uc_peers_add(&t, 4, E1(), 500, 1000, &ev, &was);
    assert_true(was);
    assert_true(ev.id == 2);                                  /* least recently seen */
    assert_int_equal(t.n, 3);
    assert_null(uc_peers_find(&t, 2, E1(), NULL));
    assert_non_null(uc_peers_find(&t, 1, E1(), NULL));
    assert_non_null(uc_peers_find(&t, 4, E1(), NULL));
    uc_peers_add(&t, 5, E1(), 600, 1000, &ev, &was);
    assert_true(ev.id == 3);

    /* expiry: UC_MISSES intervals after the last datagram */
    struct uc_peer *p = uc_peers_find(&t, 5, E1(), NULL);
    p->interval_ms = 2000;
    assert_true(uc_peer_expiry(p) == 600 + UC_MISSES * 2000);
    assert_null(uc_peers_expired(&t, 1000));
    assert_true(uc_peers_expired(&t, 400 + UC_MISSES * 1000)->id == 1);
    uc_peers_remove(&t, uc_peers_find(&t, 1, E1(), NULL));
    assert_true(uc_peers_expired(&t, 500 + UC_MISSES * 1000)->id == 4);
    uc_peers_remove(&t, uc_peers_find(&t, 4, E1(), NULL));
    assert_null(uc_peers_expired(&t, 600 + UC_MISSES * 2000 - 1));
    assert_true(uc_peers_expired(&t, 600 + UC_MISSES * 2000)->id == 5);
    uc_peers_free(&t);
}

/* A peer is an id at one endpoint: the same id elsewhere is another
 * entry (and reported); each source address counts its peers, goes with
 * its last one; a full table evicts the oldest of the newcomer's own
 * address when it has peers, so one address cannot push out others. */
static void endpoints(void **state)
{
    struct uc_peers t;
    assert_int_equal(uc_peers_init(&t, 4, 4, 8, 5), 0);
    struct uc_ep a = ep(1, 6767), a2 = ep(1, 40000), b = ep(2, 6767), x = ep(9, 1);
    bool other;
    uc_peers_source(&t, &a, 100);
    struct uc_peer *p = uc_peers_add(&t, 7, &a, 100, 1000, NULL, NULL);
    p->interval_ms = 4000;
    assert_null(uc_peers_find(&t, 7, &b, &other));
    assert_true(other);
    assert_null(uc_peers_find(&t, 7, &a2, &other));   /* same host, other port */
    assert_true(other);
    assert_non_null(uc_peers_find(&t, 7, &a, &other));
    assert_false(other);
    assert_null(uc_peers_find(&t, 8, &a, &other));
    assert_false(other);
    uc_peers_source(&t, &b, 200);
    struct uc_peer *q = uc_peers_add(&t, 7, &b, 200, 1000, NULL, NULL);
    assert_int_equal(q->interval_ms, 1000);
    assert_int_equal(uc_peers_find(&t, 7, &a, NULL)->interval_ms, 4000);
    assert_int_equal(t.nsrc, 2);
    assert_int_equal(uc_peers_source(&t, &a2, 300)->npeers, 1);   /* port ignored */
    assert_int_equal(t.nsrc, 2);
    /* x fills the table, then each new id of x evicts one of x's own */
    struct uc_source *sx = uc_peers_source(&t, &x, 300);
    assert_int_equal(sx->npeers, 0);
    struct uc_peer ev;
    bool was;
    uc_peers_add(&t, 100, &x, 300, 1000, &ev, &was);
    uc_peers_add(&t, 101, &x, 301, 1000, &ev, &was);
    assert_false(was);
    for (uint64_t id = 102; id < 120; id++) {
        uc_peers_source(&t, &x, 300 + id);
        uc_peers_add(&t, id, &x, 300 + id, 1000, &ev, &was);
        assert_true(was);
        assert_true(uc_ep_equal(&ev.ep, &x, false));
    }
    assert_non_null(uc_peers_find(&t, 7, &a, NULL));
    assert_non_null(uc_peers_find(&t, 7, &b, NULL));
    assert_int_equal(uc_peers_source(&t, &x, 500)->npeers, 2);
    /* a new address, the table full: the least recently seen of all goes */
    struct uc_ep y = ep(10, 1);
    uc_peers_source(&t, &y, 600);
    uc_peers_add(&t, 200, &y, 600, 1000, &ev, &was);
    assert_true(was);
    assert_true(ev.id == 7 && uc_ep_equal(&ev.ep, &a, true));
    /* a's last peer gone: a's entry too */
    assert_int_equal(t.nsrc, 3);
    uc_peers_remove(&t, uc_peers_find(&t, 7, &b, NULL));
    assert_int_equal(t.nsrc, 2);
    uc_peers_free(&t);

    /* random endpoints, adds and removes: peers and sources agree */
    assert_int_equal(uc_peers_init(&t, 32, 4, 8, 77), 0);
    srand(11);
    for (int round = 0; round < 20000; round++) {
        uint64_t id = (uint64_t)(rand() % 40) + 1;      /* ids repeat across hosts */
        struct uc_ep e = ep((unsigned)(rand() % 6), (uint16_t)(rand() % 3));
        struct uc_peer *f = uc_peers_find(&t, id, &e, NULL);
        if (f) {
            uc_peers_remove(&t, f);
        } else {
            uc_peers_source(&t, &e, (uint64_t)round);
            uc_peers_add(&t, id, &e, (uint64_t)round, 1000, NULL, NULL);
            assert_non_null(uc_peers_find(&t, id, &e, NULL));
        }
        size_t sum = 0;
        for (size_t i = 0; i < t.nsrc; i++) {
            assert_true(t.src[i].npeers > 0);
            sum += t.src[i].npeers;
        }
        assert_int_equal(sum, t.n);
        for (size_t i = 0; i < t.n; i++)
            assert_true(uc_peers_find(&t, t.v[i].id, &t.v[i].ep, NULL) == &t.v[i]);
    }
    uc_peers_free(&t);
}

static void shown(void **state)
{
    char out[UC_SHOW_MAX];
    const char *evil = "hi \x1b]0;pwned\x07 \x1b[2J\r\nfake\xe2\x80\xae" "txt\xff";
    uc_format_message(out, sizeof out, "bob", "10.0.0.2", evil, strlen(evil), NULL);
    assert_string_equal(out, "bob@10.0.0.2: hi ?]0;pwned? ?[2J??fake?txt?");
    assert_null(strchr(out, '\x1b'));
    uc_format_message(out, sizeof out, "zoë", "fe80::1%eth0", "caf\xc3\xa9", 5, NULL);
    assert_string_equal(out, "zoë@fe80::1%eth0: café");
    uc_format_message(out, sizeof out, "al", "h", "x", 1, "32");
    assert_string_equal(out, "\033[32mal\033[39m@h: x");
    /* a NUL inside is masked too, not an end */
    uc_format_message(out, sizeof out, "al", "h", "a\0b", 3, NULL);
    assert_string_equal(out, "al@h: a?b");
    uc_format_who(out, 8, "abcdef", "host", NULL);           /* cut, terminated */
    assert_string_equal(out, "abcdef@");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window),
        cmocka_unit_test(bucket),
        cmocka_unit_test(table),
        cmocka_unit_test(bounded),
        cmocka_unit_test(endpoints),
        cmocka_unit_test(shown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
