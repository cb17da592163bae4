/* What the chat client shows and sends (src/apps/chat/format.c, safe.c,
 * command.c): IRC messages as '[#room] nick: text', actions, private
 * messages, '*** ' notices and errors, quiet mode; peers' escape
 * sequences, controls and IRC formatting neutralised; colours only when
 * asked; typed lines and /commands as IRC lines that never carry CR/LF of
 * their own nor pass 512 bytes. */
//unit-sources: src/apps/chat/ircmsg.c src/apps/chat/format.c src/apps/chat/safe.c src/apps/chat/command.c src/apps/termtext.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chat/chat.h"

static const char *show(const char *line, bool quiet)
{
    static char out[CHAT_SHOW_MAX];
    char copy[CHAT_IN_MAX];
    snprintf(copy, sizeof copy, "%s", line);
    struct ibx_irc_msg m;
    struct chat_view v = {"me", false, quiet};
    if (chat_irc_read(copy, &m) < 0)
        return "(refused)";
    if (!chat_format(&v, &m, out, sizeof out))
        return "(hidden)";
    return out;
}

static void test_messages(void **state)
{
    (void)state;
    assert_string_equal(show(":al!a@h PRIVMSG #lobby :hi all", false), "[#lobby] al: hi all");
    assert_string_equal(show(":al!a@h PRIVMSG #lobby :\001ACTION waves\001", false),
                        "[#lobby] * al waves");
    assert_string_equal(show(":al!a@h PRIVMSG me :psst", false), "[al] al: psst");
    assert_string_equal(show(":al!a@h NOTICE #lobby :note", false), "[#lobby] -al- note");
    assert_string_equal(show(":irc.test NOTICE * :Looking up", false), "*** Looking up");
    assert_string_equal(show(":al!a@h PRIVMSG me :\001VERSION\001", false), "*** CTCP VERSION from al");
}

static void test_events(void **state)
{
    (void)state;
    assert_string_equal(show(":bob!b@h JOIN :#lobby", false), "*** bob joined #lobby");
    assert_string_equal(show(":bob!b@h PART #lobby :later", false), "*** bob left #lobby (later)");
    assert_string_equal(show(":bob!b@h PART #lobby", false), "*** bob left #lobby");
    assert_string_equal(show(":bob!b@h QUIT :gone", false), "*** bob quit (gone)");
    assert_string_equal(show(":bob!b@h NICK :bobby", false), "*** bob is now known as bobby");
    assert_string_equal(show(":me!m@h NICK :me2", false), "*** you are now known as me2");
    assert_string_equal(show(":op!o@h KICK #lobby bob :out", false),
                        "*** bob was kicked from #lobby by op (out)");
    assert_string_equal(show(":op!o@h TOPIC #lobby :news", false),
                        "*** op set the topic of #lobby: news");
    assert_string_equal(show("ERROR :Closing link", true), "*** error: Closing link");
    assert_string_equal(show("PING :x", false), "(hidden)");
}

static void test_numerics(void **state)
{
    (void)state;
    assert_string_equal(show(":s 001 me :Welcome home", false), "*** Welcome home");
    assert_string_equal(show(":s 001 me :Welcome home", true), "(hidden)");
    assert_string_equal(show(":s 005 me CHANTYPES=# :are supported", false), "(hidden)");
    assert_string_equal(show(":s 353 me = #lobby :@a b", true), "*** members of #lobby: @a b");
    assert_string_equal(show(":s 366 me #lobby :End", false), "(hidden)");
    assert_string_equal(show(":s 332 me #lobby :the topic", false), "*** topic of #lobby: the topic");
    assert_string_equal(show(":s 322 me #lobby 3 :chat", false), "*** #lobby (3): chat");
    assert_string_equal(show(":s 352 me #lobby u h s al H :0 Real", false),
                        "*** #lobby al (u@h) Real");
    assert_string_equal(show(":s 433 * al :Nickname is already in use", true),
                        "*** error: al: Nickname is already in use");
    assert_string_equal(show(":s 421 me FOO :Unknown command", false),
                        "*** error: FOO: Unknown command");
    /* no MOTD is server chatter like the MOTD, not an error */
    assert_string_equal(show(":s 422 me :MOTD File is missing", false),
                        "*** MOTD File is missing");
    assert_string_equal(show(":s 422 me :MOTD File is missing", true), "(hidden)");
}

static void test_neutralised(void **state)
{
    (void)state;
    assert_string_equal(show(":al!a@h PRIVMSG #lobby :x\033[2Jy\033]0;t\007z", false),
                        "[#lobby] al: x?[2Jy?]0;t?z");
    /* IRC formatting dropped: bold, colour with arguments, reset */
    assert_string_equal(show(":al!a@h PRIVMSG #lobby :\002b\002 \00304,12red\017 \0033x", false),
                        "[#lobby] al: b red x");
    /* C1 controls (U+009B is CSI), bidi override, invalid UTF-8 */
    assert_string_equal(show(":al!a@h PRIVMSG #lobby :a\xc2\x9b" "31mb\xe2\x80\xae" "c\xff", false),
                        "[#lobby] al: a?31mb?c?");
    /* in a nick and a room name too */
    assert_string_equal(show(":\033[31m!a@h PRIVMSG #l\033b :t", false), "[#l?b] ?[31m: t");
    char out[64];
    chat_safe(out, sizeof out, "caf\xc3\xa9 \xe6\x97\xa5");    /* UTF-8 kept */
    assert_string_equal(out, "caf\xc3\xa9 \xe6\x97\xa5");
    chat_safe(out, 4, "abcdef");                                 /* bounded */
    assert_string_equal(out, "abc");
}

static void test_color(void **state)
{
    (void)state;
    char out[256];
    char l[] = ":al!a@h PRIVMSG #lobby :hi";
    struct ibx_irc_msg m;
    chat_irc_read(l, &m);
    struct chat_view v = {"me", true, false};
    chat_format(&v, &m, out, sizeof out);
    char want[128];
    snprintf(want, sizeof want, "[#lobby] \033[%smal\033[39m: hi", chat_nick_color("al"));
    assert_string_equal(out, want);
    /* one colour per nick, whatever its case */
    assert_string_equal(chat_nick_color("Alice"), chat_nick_color("alice"));
    chat_format_own(&v, "#lobby", "x", false, out, sizeof out);
    assert_non_null(strstr(out, "\033["));
    v.color = false;
    chat_format_own(&v, "bob", "x", true, out, sizeof out);
    assert_string_equal(out, "[bob] * me x");
}

/* c's IRC lines, checked: CR LF ends each, none longer than 512. */
static int lines_of(const struct chat_cmd *c)
{
    int n = 0;
    const char *p = c->out, *end = c->out + c->len;
    while (p < end) {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e);
        assert_true(e - p + 2 <= CHAT_LINE_MAX);
        assert_null(memchr(p, '\n', (size_t)(e - p)));
        p = e + 2;
        n++;
    }
    return n;
}

static void test_commands(void **state)
{
    (void)state;
    static struct chat_cmd c;
#define OUT(line, want) do { chat_command(line, "#lobby", &c); \
        assert_string_equal(c.out, want); } while (0)
    OUT("hello", "PRIVMSG #lobby :hello\r\n");
    assert_int_equal(c.kind, CHAT_CMD_SAY);
    assert_string_equal(c.target, "#lobby");
    assert_int_equal(c.ntexts, 1);
    OUT("//etc/passwd is a path", "PRIVMSG #lobby :/etc/passwd is a path\r\n");
    OUT("/me waves", "PRIVMSG #lobby :\001ACTION waves\001\r\n");
    assert_true(c.action);
    assert_int_equal((int)c.text_lens[0], 5);
    OUT("/msg bob psst there", "PRIVMSG bob :psst there\r\n");
    assert_string_equal(c.target, "bob");
    OUT("/nick bobby", "NICK bobby\r\n");
    OUT("/join #dev", "JOIN #dev\r\n");
    OUT("/part", "PART #lobby\r\n");
    OUT("/part #dev bye now", "PART #dev :bye now\r\n");
    OUT("/part bye now", "PART #lobby :bye now\r\n");
    OUT("/who", "WHO #lobby\r\n");
    OUT("/list", "LIST\r\n");
    OUT("/topic", "TOPIC #lobby\r\n");
    OUT("/topic new one", "TOPIC #lobby :new one\r\n");
    OUT("/QUIT done", "QUIT :done\r\n");
    assert_int_equal(c.kind, CHAT_CMD_QUIT);
    OUT("/quit", "QUIT :bye\r\n");
    chat_command("", "#lobby", &c);
    assert_int_equal(c.kind, CHAT_CMD_NONE);
    chat_command("/help", "#lobby", &c);
    assert_int_equal(c.kind, CHAT_CMD_LOCAL);
    assert_non_null(strstr(c.out, "/join"));
    /* refused locally */
    const char *bad[] = {"/nick", "/nick a b", "/join lobby", "/msg bob", "/frob",
                         "/nick a,b", "/quote"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        chat_command(bad[i], "#lobby", &c);
        assert_int_equal(c.kind, CHAT_CMD_LOCAL);
    }
    chat_command("hi", "", &c);                     /* no room yet */
    assert_int_equal(c.kind, CHAT_CMD_LOCAL);
#undef OUT
}

static void test_no_injection(void **state)
{
    (void)state;
    static struct chat_cmd c;
    chat_command("hi\r\nQUIT :pwned", "#lobby", &c);
    assert_int_equal(lines_of(&c), 1);
    assert_string_equal(c.out, "PRIVMSG #lobby :hi  QUIT :pwned\r\n");
    chat_command("/nick a\nb", "#lobby", &c);
    assert_int_equal(c.kind, CHAT_CMD_LOCAL);
}

static void test_long_split(void **state)
{
    (void)state;
    static struct chat_cmd c;
    char line[1200];
    /* 1000 bytes of two-byte characters: split, never inside one */
    for (int i = 0; i < 500; i++)
        memcpy(line + 2 * i, "\xc3\xa9", 2);
    line[1000] = '\0';
    chat_command(line, "#lobby", &c);
    assert_int_equal(c.kind, CHAT_CMD_SAY);
    assert_int_equal(lines_of(&c), c.ntexts);
    assert_true(c.ntexts >= 3);
    size_t total = 0;
    for (int i = 0; i < c.ntexts; i++) {
        assert_int_equal((int)(c.text_lens[i] % 2), 0);
        assert_int_equal((unsigned char)c.texts[i][0], 0xc3);
        total += c.text_lens[i];
    }
    assert_int_equal((int)total, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_numerics),
        cmocka_unit_test(test_neutralised),
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_no_injection),
        cmocka_unit_test(test_long_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
