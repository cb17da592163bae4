/* Unit tests for src/lib/addr.c and the parse side of ipcbox/net.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/net.h"

static const char *fmt(const ibx_addr *a)
{
    static char buf[IBX_ADDRSTRLEN];
    return ibx_addr_format((const struct sockaddr *)&a->ss, a->len, buf, sizeof buf);
}

static void test_forms(void **state)
{
    ibx_addr a;
    assert_int_equal(ibx_addr_parse("10.1.2.3:80", "127.0.0.1", 7, &a), 0);
    assert_string_equal(fmt(&a), "10.1.2.3:80");
    assert_int_equal(ibx_addr_parse("8080", "127.0.0.1", 7, &a), 0);
    assert_string_equal(fmt(&a), "127.0.0.1:8080");
    assert_int_equal(ibx_addr_parse("", "127.0.0.1", 7007, &a), 0);
    assert_string_equal(fmt(&a), "127.0.0.1:7007");
    assert_int_equal(ibx_addr_parse("[::1]:99", "127.0.0.1", 7, &a), 0);
    assert_string_equal(fmt(&a), "[::1]:99");
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(ibx_addr_parse("[::]", "127.0.0.1", 5, &a), 0);
    assert_string_equal(fmt(&a), "[::]:5");
    assert_int_equal(ibx_addr_parse("*:1", NULL, 0, &a), 0);
    assert_string_equal(fmt(&a), "0.0.0.0:1");
    assert_int_equal(ibx_addr_parse("192.168.0.1", NULL, 6969, &a), 0);
    assert_string_equal(fmt(&a), "192.168.0.1:6969");
    assert_int_equal(ibx_addr_port((struct sockaddr *)&a.ss), 6969);
    ibx_addr_set_port((struct sockaddr *)&a.ss, 1);
    assert_string_equal(fmt(&a), "192.168.0.1:1");
}

static void test_rejects(void **state)
{
    ibx_addr a;
    const char *bad[] = {
        "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:80x", "::1:80",
        "[::1", "[::1]x", "[::1]:", "999.1.1.1:80", "host name:1", ":80:",
        "[1.2.3.4]:80x", "99999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ibx_addr_parse(bad[i], "127.0.0.1", 1, &a), -EINVAL);
    /* names need ibx_addr_resolve */
    assert_int_equal(ibx_addr_parse("localhost:80", NULL, 0, &a), -EINVAL);
    assert_int_equal(ibx_addr_parse("", NULL, 80, &a), -EINVAL);
}

static void test_resolve(void **state)
{
    ibx_addr a;
    assert_int_equal(ibx_addr_resolve("localhost:80", NULL, 0, SOCK_STREAM, &a), 0);
    assert_int_equal(ibx_addr_port((struct sockaddr *)&a.ss), 80);
    assert_int_equal(ibx_addr_resolve("127.0.0.1", NULL, 9, SOCK_DGRAM, &a), 0);
    assert_string_equal(fmt(&a), "127.0.0.1:9");
    assert_int_equal(ibx_addr_resolve("no-such-host.invalid:1", NULL, 0, SOCK_STREAM, &a),
                     -EHOSTUNREACH);
}

static void test_v4_mapped_prints_as_v4(void **state)
{
    ibx_addr a;
    assert_int_equal(ibx_addr_parse("[::ffff:10.0.0.1]:5", NULL, 0, &a), 0);
    assert_string_equal(fmt(&a), "10.0.0.1:5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_v4_mapped_prints_as_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
