/* Unit tests for the IRC line codec: parsing (prefix, command, middle and
 * trailing parameters, the 15-parameter rule, the 512-byte limit, bad
 * lines), nickname and channel rules, RFC 1459 casemapping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/irc.h"

static char line[IBX_IRC_LINE_MAX * 2 + 1];

static int parse(const char *s, struct ibx_irc_msg *m)
{
    size_t n = strlen(s);
    memcpy(line, s, n + 1);
    return ibx_irc_parse(line, n, m);
}

static void test_basic(void **state)
{
    struct ibx_irc_msg m;
    assert_int_equal(parse("NICK alice\r\n", &m), 0);
    assert_null(m.prefix);
    assert_string_equal(m.command, "NICK");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "alice");
    assert_false(m.trailing);

    assert_int_equal(parse(":nick!u@h privmsg #room :hello  world \n", &m), 0);
    assert_string_equal(m.prefix, "nick!u@h");
    assert_string_equal(m.command, "PRIVMSG");   /* upper-cased */
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "#room");
    assert_string_equal(m.params[1], "hello  world ");
    assert_true(m.trailing);

    assert_int_equal(parse("USER a 0 * :Real Name", &m), 0);
    assert_int_equal(m.nparams, 4);
    assert_string_equal(m.params[3], "Real Name");

    /* an empty trailing parameter is a parameter */
    assert_int_equal(parse("TOPIC #a :", &m), 0);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[1], "");
    assert_true(m.trailing);

    /* several spaces, trailing spaces, no parameters */
    assert_int_equal(parse("  JOIN   #a   #b  ", &m), 0);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[1], "#b");
    assert_int_equal(parse("QUIT", &m), 0);
    assert_int_equal(m.nparams, 0);

    /* numerics */
    assert_int_equal(parse(":srv 001 alice :Welcome", &m), 0);
    assert_string_equal(m.command, "001");
    assert_int_equal(parse(":srv 01 alice", &m), -EINVAL);
    assert_int_equal(parse(":srv 0012 alice", &m), -EINVAL);
}

static void test_fifteen(void **state)
{
    struct ibx_irc_msg m;
    /* 14 middles, then the rest is the 15th even without ':' */
    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", &m), 0);
    assert_int_equal(m.nparams, 15);
    assert_string_equal(m.params[13], "14");
    assert_string_equal(m.params[14], "15 16 17");
    assert_true(m.trailing);
    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :x y", &m), 0);
    assert_int_equal(m.nparams, 15);
    assert_string_equal(m.params[14], "x y");
}

static void test_bad(void **state)
{
    struct ibx_irc_msg m;
    assert_int_equal(parse("", &m), -EINVAL);
    assert_int_equal(parse("\r\n", &m), -EINVAL);
    assert_int_equal(parse("   ", &m), -EINVAL);
    assert_int_equal(parse(":prefixonly", &m), -EINVAL);
    assert_int_equal(parse(": NICK a", &m), -EINVAL);
    assert_int_equal(parse(":p ", &m), -EINVAL);
    assert_int_equal(parse("N1CK a", &m), -EINVAL);
    assert_int_equal(parse("-x", &m), -EINVAL);
    assert_int_equal(parse("PRIVMSG a :b\rc", &m), -EINVAL);
    assert_int_equal(parse("PRIVMSG a :b\nc\n", &m), -EINVAL);
    memcpy(line, "NICK a\0b", 9);
    assert_int_equal(ibx_irc_parse(line, 8, &m), -EINVAL);
}

static void test_limit(void **state)
{
    struct ibx_irc_msg m;
    char buf[IBX_IRC_LINE_MAX + 8];
    /* exactly 510 bytes + CRLF: accepted */
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "PRIVMSG #a :", 12);
    memcpy(buf + IBX_IRC_TEXT_MAX, "\r\n", 2);
    assert_int_equal(ibx_irc_parse(buf, IBX_IRC_LINE_MAX, &m), 0);
    assert_int_equal(strlen(m.params[1]), IBX_IRC_TEXT_MAX - 12);
    /* one more byte: refused, with or without a line end */
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "PRIVMSG #a :", 12);
    memcpy(buf + IBX_IRC_TEXT_MAX + 1, "\r\n", 2);
    assert_int_equal(ibx_irc_parse(buf, IBX_IRC_LINE_MAX + 1, &m), -EMSGSIZE);
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "PRIVMSG #a :", 12);
    assert_int_equal(ibx_irc_parse(buf, IBX_IRC_TEXT_MAX + 1, &m), -EMSGSIZE);
}

static void test_nick(void **state)
{
    assert_true(ibx_irc_nick_valid("alice", 9));
    assert_true(ibx_irc_nick_valid("[bot]", 9));
    assert_true(ibx_irc_nick_valid("a-1_{|}^`", 9));
    assert_true(ibx_irc_nick_valid("\\o/", 9) == false);   /* '/' */
    assert_false(ibx_irc_nick_valid("", 9));
    assert_false(ibx_irc_nick_valid("1abc", 9));
    assert_false(ibx_irc_nick_valid("-abc", 9));
    assert_false(ibx_irc_nick_valid("a b", 9));
    assert_false(ibx_irc_nick_valid("a,b", 9));
    assert_false(ibx_irc_nick_valid("a\x1b", 9));
    assert_false(ibx_irc_nick_valid("abcdefghij", 9));
    assert_true(ibx_irc_nick_valid("abcdefghi", 9));
}

static void test_channel(void **state)
{
    assert_true(ibx_irc_channel_valid("#lobby", 50));
    assert_true(ibx_irc_channel_valid("#été", 50));   /* UTF-8 is fine */
    assert_false(ibx_irc_channel_valid("#", 50));
    assert_false(ibx_irc_channel_valid("lobby", 50));
    assert_false(ibx_irc_channel_valid("&lobby", 50));
    assert_false(ibx_irc_channel_valid("#a b", 50));
    assert_false(ibx_irc_channel_valid("#a,b", 50));
    assert_false(ibx_irc_channel_valid("#a:b", 50));
    assert_false(ibx_irc_channel_valid("#a\x07", 50));
    assert_false(ibx_irc_channel_valid("#a\x7f", 50));
    assert_true(ibx_irc_channel_valid("#abc", 4));
    assert_false(ibx_irc_channel_valid("#abcd", 4));
    assert_true(ibx_irc_middle_valid("#a"));
    assert_false(ibx_irc_middle_valid(""));
    assert_false(ibx_irc_middle_valid(":a"));
    assert_false(ibx_irc_middle_valid("a b"));
}

static void test_casemap(void **state)
{
    assert_int_equal(ibx_irc_casecmp("Alice", "aLICE"), 0);
    assert_int_equal(ibx_irc_casecmp("[x]\\^", "{x}|~"), 0);
    assert_true(ibx_irc_casecmp("a", "b") < 0);
    assert_true(ibx_irc_casecmp("ab", "a") > 0);
    assert_true(ibx_irc_casecmp("_", "`") != 0);   /* not a pair */
    char s[] = "#Room[1]^\\";
    ibx_irc_fold(s);
    assert_string_equal(s, "#room{1}~|");
    assert_int_equal(ibx_irc_tolower('@'), '@');
    assert_int_equal(ibx_irc_tolower('_'), '_');
    assert_int_equal(ibx_irc_tolower(0xC9), 0xC9);   /* bytes above ASCII stay */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_fifteen),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_nick),
        cmocka_unit_test(test_channel),
        cmocka_unit_test(test_casemap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
