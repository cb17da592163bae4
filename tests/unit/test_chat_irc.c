/* The chat client's reading of server lines (src/apps/chat/ircmsg.c, on
 * the library's ibx_irc_parse): tags skipped, prefix, command, middle and
 * trailing parameters, runs of spaces, the 15-parameter cap, an over-long
 * line cut, lines without a command refused; nicks of prefixes; RFC 1459
 * case mapping. */
//unit-sources: src/apps/chat/ircmsg.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chat/chat.h"

static void test_parse(void **state)
{
    (void)state;
    struct ibx_irc_msg m;
    char l1[] = ":alice!a@host PRIVMSG #lobby :hello  there :)";
    assert_int_equal(chat_irc_read(l1, &m), 0);
    assert_string_equal(m.prefix, "alice!a@host");
    assert_string_equal(m.command, "PRIVMSG");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "#lobby");
    assert_string_equal(m.params[1], "hello  there :)");
    assert_true(m.trailing);

    char l2[] = "@time=2026-12-07T00:00:00Z;x=y :irc.test 353 me = #lobby :@a b";
    assert_int_equal(chat_irc_read(l2, &m), 0);
    assert_string_equal(m.prefix, "irc.test");
    assert_string_equal(m.command, "353");
    assert_int_equal(m.nparams, 4);
    assert_string_equal(m.params[3], "@a b");

    char l3[] = "PING irc.test";
    assert_int_equal(chat_irc_read(l3, &m), 0);
    assert_null(m.prefix);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "irc.test");

    char l4[] = "  JOIN   #a   ";          /* runs of spaces */
    assert_int_equal(chat_irc_read(l4, &m), 0);
    assert_string_equal(m.command, "JOIN");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "#a");

    char l5[] = "CMD :";                     /* an empty trailing parameter */
    assert_int_equal(chat_irc_read(l5, &m), 0);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "");

    /* a lower-case command, tags after spaces, runs of spaces everywhere */
    char l6[] = "  @a=b   :bob!b@h   privmsg   me   :hi";
    assert_int_equal(chat_irc_read(l6, &m), 0);
    assert_string_equal(m.prefix, "bob!b@h");
    assert_string_equal(m.command, "PRIVMSG");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "me");
    assert_string_equal(m.params[1], "hi");
}

/* Tags may take 8 KiB before the 512 bytes of the message; a message
 * longer than an IRC line is cut to IBX_IRC_TEXT_MAX, not refused. */
static void test_long(void **state)
{
    (void)state;
    static char l[CHAT_IN_MAX + 1];
    struct ibx_irc_msg m;
    size_t tags = 4000, n = 0;
    l[n++] = '@';
    memset(l + n, 't', tags);
    n += tags;
    n += (size_t)snprintf(l + n, sizeof l - n, " :a!b@c PRIVMSG #r :");
    size_t head = n - tags - 2;              /* the message before its text */
    memset(l + n, 'x', 1000);
    l[n + 1000] = '\0';
    assert_int_equal(chat_irc_read(l, &m), 0);
    assert_string_equal(m.command, "PRIVMSG");
    assert_int_equal(m.nparams, 2);
    assert_int_equal(strlen(m.params[1]), IBX_IRC_TEXT_MAX - head);
}

static void test_refused(void **state)
{
    (void)state;
    struct ibx_irc_msg m;
    char a[] = "", b[] = ":prefix.only", c[] = "   ", d[] = "@tags=only";
    char e[] = "@t ", f[] = ": PING x", g[] = "PR1V x";
    assert_int_equal(chat_irc_read(a, &m), -EINVAL);
    assert_int_equal(chat_irc_read(b, &m), -EINVAL);
    assert_int_equal(chat_irc_read(c, &m), -EINVAL);
    assert_int_equal(chat_irc_read(d, &m), -EINVAL);
    assert_int_equal(chat_irc_read(e, &m), -EINVAL);
    assert_int_equal(chat_irc_read(f, &m), -EINVAL);
    assert_int_equal(chat_irc_read(g, &m), -EINVAL);
}

static void test_param_cap(void **state)
{
    (void)state;
    struct ibx_irc_msg m;
    char l[] = "X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17";
    assert_int_equal(chat_irc_read(l, &m), 0);
    assert_int_equal(m.nparams, IBX_IRC_PARAMS_MAX);
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
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_param_cap),
        cmocka_unit_test(test_nick_and_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
