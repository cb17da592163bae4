/* The chat client's IRC line splitting (src/apps/chat/ircmsg.c): tags
 * skipped, prefix, command, middle and trailing parameters, runs of
 * spaces, the 15-parameter cap, lines without a command refused; nicks of
 * prefixes; RFC 1459 case mapping. */
//unit-sources: src/apps/chat/ircmsg.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chat/chat.h"

static void test_parse(void **state)
{
    (void)state;
    struct chat_irc_msg m;
    char l1[] = ":alice!a@host PRIVMSG #lobby :hello  there :)";
    assert_int_equal(chat_irc_parse(l1, &m), 0);
    assert_string_equal(m.prefix, "alice!a@host");
    assert_string_equal(m.command, "PRIVMSG");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "#lobby");
    assert_string_equal(m.params[1], "hello  there :)");

    char l2[] = "@time=2026-12-07T00:00:00Z;x=y :irc.test 353 me = #lobby :@a b";
    assert_int_equal(chat_irc_parse(l2, &m), 0);
    assert_string_equal(m.prefix, "irc.test");
    assert_string_equal(m.command, "353");
    assert_int_equal(m.nparams, 4);
    assert_string_equal(m.params[3], "@a b");

    char l3[] = "PING irc.test";
    assert_int_equal(chat_irc_parse(l3, &m), 0);
    assert_null(m.prefix);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "irc.test");

    char l4[] = "  JOIN   #a   ";          /* runs of spaces */
    assert_int_equal(chat_irc_parse(l4, &m), 0);
    assert_string_equal(m.command, "JOIN");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "#a");

    char l5[] = "CMD :";                     /* an empty trailing parameter */
    assert_int_equal(chat_irc_parse(l5, &m), 0);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "");
}

static void test_refused(void **state)
{
    (void)state;
    struct chat_irc_msg m;
    char a[] = "", b[] = ":prefix.only", c[] = "   ", d[] = "@tags=only";
    assert_int_equal(chat_irc_parse(a, &m), -1);
    assert_int_equal(chat_irc_parse(b, &m), -1);
    assert_int_equal(chat_irc_parse(c, &m), -1);
    assert_int_equal(chat_irc_parse(d, &m), -1);
}

static void test_param_cap(void **state)
{
    (void)state;
    struct chat_irc_msg m;
    char l[] = "X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17";
    assert_int_equal(chat_irc_parse(l, &m), 0);
    assert_int_equal(m.nparams, CHAT_PARAMS_MAX);
    assert_string_equal(m.params[13], "14");
    assert_string_equal(m.params[14], "15 16 17");   /* the rest is one */
}

static void test_nick_and_case(void **state)
{
    (void)state;
    char b[8];
    chat_irc_nick("alice!a@h", b, sizeof b);
    assert_string_equal(b, "alice");
    chat_irc_nick("irc.test", b, sizeof b);
    assert_string_equal(b, "irc.tes");              /* cut to the buffer */
    chat_irc_nick(NULL, b, sizeof b);
    assert_string_equal(b, "");
    assert_true(chat_irc_same("Alice[]\\^", "alice{}|~"));
    assert_false(chat_irc_same("alice", "alice_"));
    assert_false(chat_irc_same(NULL, "x"));
    assert_true(chat_irc_is_room("#lobby"));
    assert_true(chat_irc_is_room("&local"));
    assert_false(chat_irc_is_room("alice"));
    assert_false(chat_irc_is_room(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_param_cap),
        cmocka_unit_test(test_nick_and_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
