/* echo --udp's guard (src/apps/echo_guard.c): our own port and ports below
 * 1024 are never answered, whatever the address; each source address has
 * a token bucket (rate per second, burst) that refills with the caller's
 * clock; sources are independent, IPv4 and v4-mapped IPv6 are one source,
 * and the table stays bounded while many sources come and go. */
//unit-sources: src/apps/echo_guard.c
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "echo_guard.h"

#define OWN 7007

static struct sockaddr_in v4(const char *a, uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

#define CHECK(g, s, now) echo_guard_check(g, (const struct sockaddr *)&(s), now)

static void ports(void **state)
{
    struct echo_guard *g;
    assert_int_equal(echo_guard_new(&g, OWN, 0, 0), 0);
    struct sockaddr_in self = v4("127.0.0.1", OWN), other = v4("192.0.2.9", OWN);
    struct sockaddr_in6 self6 = v6("::1", OWN), mapped = v6("::ffff:127.0.0.1", OWN);
    assert_int_equal(CHECK(g, self, 0), ECHO_DROP_OWN_PORT);
    assert_int_equal(CHECK(g, other, 0), ECHO_DROP_OWN_PORT);
    assert_int_equal(CHECK(g, self6, 0), ECHO_DROP_OWN_PORT);
    assert_int_equal(CHECK(g, mapped, 0), ECHO_DROP_OWN_PORT);
    uint16_t priv[] = {0, 7, 19, 13, 1023};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        struct sockaddr_in s = v4("127.0.0.1", priv[i]);
        assert_int_equal(CHECK(g, s, 0), ECHO_DROP_PRIV_PORT);
    }
    struct sockaddr_in ok = v4("127.0.0.1", 1024);
    assert_int_equal(CHECK(g, ok, 0), ECHO_PASS);
    struct sockaddr unix_sa = {.sa_family = AF_UNIX};
    assert_int_equal(echo_guard_check(g, &unix_sa, 0), ECHO_DROP_PRIV_PORT);
    /* rate 0: no limit */
    for (int i = 0; i < 100000; i++)
        assert_int_equal(CHECK(g, ok, 0), ECHO_PASS);
    assert_string_equal(echo_verdict_text(ECHO_DROP_OWN_PORT), "from our own port");
    echo_guard_free(g);
}

static void bucket(void **state)
{
    struct echo_guard *g;
    assert_int_equal(echo_guard_new(&g, OWN, 10, 20), 0);
    struct sockaddr_in a = v4("127.0.0.2", 40000), b = v4("127.0.0.3", 40000);
    struct sockaddr_in6 a6 = v6("::ffff:127.0.0.2", 50000);
    for (int i = 0; i < 20; i++)
        assert_int_equal(CHECK(g, a, 1000), ECHO_PASS);
    assert_int_equal(CHECK(g, a, 1000), ECHO_DROP_RATE);
    /* the same address over IPv6 (v4-mapped), another port: one source */
    assert_int_equal(CHECK(g, a6, 1000), ECHO_DROP_RATE);
    /* another source has its own bucket */
    assert_int_equal(CHECK(g, b, 1000), ECHO_PASS);
    /* 10/s: one more after 100 ms, not before */
    assert_int_equal(CHECK(g, a, 1099), ECHO_DROP_RATE);
    assert_int_equal(CHECK(g, a, 1199), ECHO_PASS);
    assert_int_equal(CHECK(g, a, 1199), ECHO_DROP_RATE);
    /* a long pause refills to the burst, no more */
    int passed = 0;
    for (int i = 0; i < 100; i++)
        passed += CHECK(g, a, 1000000) == ECHO_PASS;
    assert_int_equal(passed, 20);
    /* a clock going backwards refills nothing */
    assert_int_equal(CHECK(g, a, 5), ECHO_DROP_RATE);
    echo_guard_free(g);
}

static void default_burst_and_many_sources(void **state)
{
    struct echo_guard *g;
    assert_int_equal(echo_guard_new(&g, OWN, 3, 0), 0);
    struct sockaddr_in a = v4("10.0.0.1", 40000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(CHECK(g, a, 0), ECHO_PASS);
    assert_int_equal(CHECK(g, a, 0), ECHO_DROP_RATE);
    /* 100000 other sources: the table stays bounded (ASan would see an
     * overflow) and every new source starts with a full bucket */
    for (uint32_t i = 0; i < 100000; i++) {
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(40000)};
        s.sin_addr.s_addr = htonl(0x0b000000u + i);
        assert_int_equal(CHECK(g, s, 1), ECHO_PASS);
    }
    echo_guard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports),
        cmocka_unit_test(bucket),
        cmocka_unit_test(default_burst_and_many_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
