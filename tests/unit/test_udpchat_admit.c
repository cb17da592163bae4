/* udpchat's admission of datagrams (src/apps/udpchat/chat.c), driven with
 * hand-made datagrams and source addresses, no socket: a datagram from
 * another source address never changes what a peer's own datagrams do
 * (its window, interval, leave or nick: review finding 2); a sequence
 * number may not jump too far ahead; one source address cannot bring a
 * fresh bucket per sender id or evict the peers of other addresses
 * (finding 9); in --to mode only the --to peers are heard. */
//unit-sources: src/apps/udpchat/chat.c src/apps/udpchat/net.c src/apps/udpchat/peers.c src/apps/udpchat/format.c src/apps/termtext.c src/apps/chat/format.c src/apps/chat/safe.c src/apps/chat/ircmsg.c src/apps/chat/command.c
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "udpchat/udpchat.h"

/* What the chat showed, one line after another. */
struct screen {
    char text[1 << 16];
    size_t len;
};

static void capture(void *ctx, const char *line)
{
    struct screen *s = ctx;
    int n = snprintf(s->text + s->len, sizeof s->text - s->len, "%s\n", line);
    if (n > 0 && s->len + (size_t)n < sizeof s->text)
        s->len += (size_t)n;
}

/* A line of the screen that is exactly line. */
static bool shown(const struct screen *s, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = s->text; (p = strstr(p, line)) != NULL; p++)
        if ((p == s->text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static size_t count(const struct screen *s, const char *part)
{
    size_t k = 0;
    for (const char *p = s->text; (p = strstr(p, part)) != NULL; p++)
        k++;
    return k;
}

struct fixture {
    struct uc_cfg cfg;
    struct uc_net net;
    struct uc_chat chat;
    struct screen screen;
};

static struct fixture *setup(unsigned max_peers)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->cfg.rate = 20;
    f->cfg.send_rate = 16;
    f->cfg.max_peers = max_peers;
    f->cfg.presence_ms = 5000;
    f->cfg.port = 6767;
    f->net.fd = -1;
    f->net.mode = UC_MULTICAST;      /* every source may send */
    f->net.family = AF_INET;
    assert_int_equal(uc_chat_init(&f->chat, &f->cfg, &f->net, "me", 1000), 0);
    f->chat.show = capture;
    f->chat.show_ctx = &f->screen;
    return f;
}

static void teardown(struct fixture *f)
{
    uc_chat_free(&f->chat);
    free(f);
}

static struct sockaddr_in from(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

/* Deliver one datagram of type t from ip:port. */
static void deliver(struct fixture *f, const char *ip, uint16_t port, uint64_t now,
                    enum ibx_udpchat_type t, uint64_t id, uint32_t seq, const char *nick,
                    const char *text, uint32_t interval)
{
    struct ibx_udpchat_pkt p = {.type = t, .sender = id, .seq = seq, .nick = nick,
                                .nick_len = strlen(nick), .text = text,
                                .text_len = text ? strlen(text) : 0,
                                .interval_ms = interval};
    unsigned char b[IBX_UDPCHAT_MAX];
    int n = ibx_udpchat_encode(b, sizeof b, &p);
    assert_true(n > 0);
    struct sockaddr_in a = from(ip, port);
    uc_chat_datagram(&f->chat, b, (size_t)n, (size_t)n, (const struct sockaddr *)&a,
                     sizeof a, now);
}

#define ALICE 0xa11ce000a11ceull

/* Finding 2: one forged datagram with alice's id from another address
 * (a jump of 2^31 - 1, the longest interval), a forged leave and a forged
 * nick change: alice's own next lines still show, she is not "left", not
 * renamed, and she times out on her own interval. */
static void forged_source(void **state)
{
    struct fixture *f = setup(256);
    deliver(f, "10.0.0.1", 6767, 1000, IBX_UDPCHAT_PRESENCE, ALICE, 100, "alice", NULL, 5000);
    deliver(f, "10.0.0.1", 6767, 1100, IBX_UDPCHAT_MESSAGE, ALICE, 101, "alice", "one", 0);
    assert_true(shown(&f->screen, "alice@10.0.0.1: one"));
    deliver(f, "10.0.0.66", 6767, 1200, IBX_UDPCHAT_PRESENCE, ALICE, 101 + 0x7fffffffu,
            "alice", NULL, IBX_UDPCHAT_INTERVAL_MAX);
    deliver(f, "10.0.0.1", 40000, 1250, IBX_UDPCHAT_PRESENCE, ALICE, 102 + 0x7fffffffu,
            "alice", NULL, IBX_UDPCHAT_INTERVAL_MAX);    /* same host, another port */
    deliver(f, "10.0.0.66", 6767, 1300, IBX_UDPCHAT_MESSAGE, ALICE, 105, "mallory", "x", 0);
    deliver(f, "10.0.0.66", 6767, 1400, IBX_UDPCHAT_LEAVE, ALICE, 106, "alice", NULL, 0);
    deliver(f, "10.0.0.1", 6767, 1500, IBX_UDPCHAT_MESSAGE, ALICE, 102, "alice", "two", 0);
    assert_true(shown(&f->screen, "alice@10.0.0.1: two"));
    assert_false(shown(&f->screen, "*** alice@10.0.0.1 left"));
    assert_int_equal(count(&f->screen, "alice@10.0.0.1 is now known as"), 0);
    assert_true(f->chat.st.spoofed >= 4);
    /* the datagrams from elsewhere were a peer of their own, shown as such */
    assert_true(shown(&f->screen, "*** alice@10.0.0.66 is here (with the sender id of a "
                                  "peer at another address)"));
    /* alice's interval is still hers: she times out 3 x 5 s after her last line */
    uc_chat_sweep(&f->chat, 1500 + 3 * 5000 - 1);
    assert_int_equal(count(&f->screen, "alice@10.0.0.1 timed out"), 0);
    uc_chat_sweep(&f->chat, 1500 + 3 * 5000);
    assert_int_equal(count(&f->screen, "alice@10.0.0.1 timed out"), 1);
    teardown(f);
}

/* A sequence number may not jump more than UC_JUMP_MAX ahead, even from
 * the sender's own address; the sender is heard afresh after it expires. */
static void jump(void **state)
{
    struct fixture *f = setup(256);
    deliver(f, "10.0.0.1", 6767, 1000, IBX_UDPCHAT_MESSAGE, ALICE, 7, "alice", "a", 0);
    deliver(f, "10.0.0.1", 6767, 1100, IBX_UDPCHAT_PRESENCE, ALICE, 7 + 0x7fffffffu, "alice",
            NULL, IBX_UDPCHAT_INTERVAL_MAX);
    deliver(f, "10.0.0.1", 6767, 1200, IBX_UDPCHAT_MESSAGE, ALICE, 8 + UC_JUMP_MAX, "alice",
            "far", 0);
    assert_int_equal(f->chat.st.jump, 2);
    assert_false(shown(&f->screen, "alice@10.0.0.1: far"));
    deliver(f, "10.0.0.1", 6767, 1300, IBX_UDPCHAT_MESSAGE, ALICE, 7 + UC_JUMP_MAX, "alice",
            "near", 0);
    assert_true(shown(&f->screen, "alice@10.0.0.1: near"));
    /* a sender that really jumped (a long outage): refused until its entry
     * expires (refusals do not refresh it), then heard again */
    uc_chat_sweep(&f->chat, 1300 + 3 * 5000);
    assert_int_equal(count(&f->screen, "alice@10.0.0.1 timed out"), 1);
    deliver(f, "10.0.0.1", 6767, 20000, IBX_UDPCHAT_MESSAGE, ALICE, 900000, "alice", "back", 0);
    assert_true(shown(&f->screen, "alice@10.0.0.1: back"));
    teardown(f);
}

/* Finding 9: new ids from one address share that address's bucket and
 * hold at most UC_ADDR_PEERS entries; they never evict the peers of other
 * addresses, even with a small table. */
static void one_address(void **state)
{
    struct fixture *f = setup(4);
    deliver(f, "10.0.0.1", 6767, 1000, IBX_UDPCHAT_PRESENCE, ALICE, 1, "alice", NULL, 5000);
    deliver(f, "10.0.0.2", 6767, 1000, IBX_UDPCHAT_PRESENCE, ALICE + 1, 1, "bob", NULL, 5000);
    char text[32];
    for (uint64_t id = 1; id <= 200; id++) {       /* 200 ids, one message each */
        snprintf(text, sizeof text, "flood %u", (unsigned)id);
        deliver(f, "10.0.0.9", (uint16_t)(1000 + id % 7), 1001, IBX_UDPCHAT_MESSAGE,
                0xf100d000ull + id, 1, "flood", text, 0);
    }
    /* one address, one bucket: 2 x --rate x 2 in a burst, not 200 */
    size_t n = count(&f->screen, "flood@10.0.0.9: flood");
    assert_true(n >= 1 && n <= 20 * 2 * 2);
    assert_true(count(&f->screen, "flood@10.0.0.9 is here") <= 20 * 2 * 2);
    assert_true(f->chat.st.rate >= 200 - 20 * 2 * 2);
    deliver(f, "10.0.0.1", 6767, 1002, IBX_UDPCHAT_MESSAGE, ALICE, 2, "alice", "still", 0);
    deliver(f, "10.0.0.2", 6767, 1002, IBX_UDPCHAT_MESSAGE, ALICE + 1, 2, "bob", "here", 0);
    assert_true(shown(&f->screen, "alice@10.0.0.1: still"));
    assert_true(shown(&f->screen, "bob@10.0.0.2: here"));
    assert_int_equal(count(&f->screen, "alice@10.0.0.1 is here"), 1);
    teardown(f);

    /* a large table: one address holds at most UC_ADDR_PEERS of it */
    f = setup(256);
    for (uint64_t id = 1; id <= 100; id++)
        deliver(f, "10.0.0.9", 1000, 1000 + id * 1000, IBX_UDPCHAT_PRESENCE, 0xf100d000ull + id,
                1, "flood", NULL, 5000);
    assert_int_equal(f->chat.peers.n, UC_ADDR_PEERS);
    assert_int_equal(count(&f->screen, "flood@10.0.0.9 is here"), UC_ADDR_PEERS);
    teardown(f);
}

/* --to mode: only the --to peers (address and port) are heard. */
static void to_peers_only(void **state)
{
    struct fixture *f = setup(256);
    f->net.mode = UC_UNICAST;
    struct sockaddr_in to = from("127.0.0.1", 5000);
    memcpy(&f->net.dest[0].addr.ss, &to, sizeof to);
    f->net.dest[0].addr.len = sizeof to;
    f->net.ndest = 1;
    deliver(f, "127.0.0.1", 5001, 1000, IBX_UDPCHAT_MESSAGE, ALICE, 1, "alice", "other port", 0);
    deliver(f, "127.0.0.2", 5000, 1000, IBX_UDPCHAT_MESSAGE, ALICE, 2, "alice", "other ip", 0);
    deliver(f, "127.0.0.1", 5000, 1000, IBX_UDPCHAT_MESSAGE, ALICE, 3, "alice", "the peer", 0);
    assert_int_equal(f->chat.st.foreign, 2);
    assert_false(shown(&f->screen, "alice@127.0.0.1: other port"));
    assert_false(shown(&f->screen, "alice@127.0.0.2: other ip"));
    assert_true(shown(&f->screen, "alice@127.0.0.1: the peer"));
    assert_int_equal(f->chat.peers.n, 1);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forged_source),
        cmocka_unit_test(jump),
        cmocka_unit_test(one_address),
        cmocka_unit_test(to_peers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
