/* The chat client's session (src/apps/chat/session.c) fed server lines
 * without a socket: what it queues for the server (registration, JOIN of
 * the room asked for, PONG, another nick when ours is taken) and when
 * input may flow (the room joined, or refused with any error numeric
 * that names it); server lines with IRCv3 tags are read like others. */
//unit-sources: src/apps/chat/session.c src/apps/chat/conn.c src/apps/chat/ircmsg.c src/apps/chat/format.c src/apps/chat/safe.c src/apps/chat/command.c src/apps/termtext.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat/chat.h"

/* What the session showed, lines joined by '\n'. */
static char shown[8192];

static void show(void *ctx, const char *line)
{
    (void)ctx;
    size_t n = strlen(shown);
    snprintf(shown + n, sizeof shown - n, "%s\n", line);
}

static struct chat_session s;

/* A fresh session of nick me that asked for room (or NULL). */
static void start(const char *room)
{
    chat_conn_close(&s.conn);
    memset(&s, 0, sizeof s);
    s.conn.fd = -1;
    s.show = show;
    shown[0] = '\0';
    chat_session_start(&s, "me", NULL, room);
}

/* What the session queued for the server since the last call. */
static const char *sent(void)
{
    static char out[8192];
    snprintf(out, sizeof out, "%.*s", (int)s.conn.outlen, s.conn.out ? s.conn.out : "");
    s.conn.outlen = 0;
    return out;
}

static void line(const char *l)
{
    char copy[CHAT_IN_MAX + 1];
    snprintf(copy, sizeof copy, "%s", l);
    chat_session_line(&s, copy);
}

static void test_register_join(void **state)
{
    (void)state;
    start("#lobby");
    assert_string_equal(sent(), "NICK me\r\nUSER me 0 * :ipcbox chat\r\n");
    line(":srv 433 * me :Nickname is already in use");
    assert_string_equal(sent(), "NICK me_\r\n");
    line("@time=2026-12-07T00:00:00.000Z :srv 001 me_ :Welcome");
    assert_true(s.registered);
    assert_string_equal(s.nick, "me_");
    assert_string_equal(sent(), "JOIN #lobby\r\n");
    assert_false(s.ready);
    line("PING :srv");
    assert_string_equal(sent(), "PONG :srv\r\n");
    line(":me_!u@h JOIN :#lobby");
    assert_true(s.ready);
    assert_string_equal(s.room, "#lobby");
    assert_non_null(strstr(shown, "*** me_ joined #lobby\n"));
    line(":me_!u@h NICK :again");
    assert_string_equal(s.nick, "again");
    assert_non_null(strstr(shown, "*** you are now known as again\n"));
}

/* The room asked for is refused: input flows anyway (whatever the error
 * numeric: 479 is chatd's and ngircd's "Illegal channel name"). */
static void test_join_refused(void **state)
{
    (void)state;
    static const char *const refusals[] = {
        ":srv 479 me #lobby :Illegal channel name",
        ":srv 405 me #LOBBY :You have joined too many channels",
        ":srv 474 me #lobby :Cannot join channel (+b)",
        ":srv 403 me #lobby :No such channel",
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        start("#lobby");
        line(":srv 001 me :Welcome");
        assert_false(s.ready);
        line(refusals[i]);
        assert_true(s.ready);
        assert_string_equal(s.room, "");
        assert_non_null(strstr(shown, "*** error: "));
    }
    /* an error about something else is no answer to our JOIN */
    start("#lobby");
    line(":srv 001 me :Welcome");
    line(":srv 401 me bob :No such nick/channel");
    assert_false(s.ready);
}

static void test_no_room(void **state)
{
    (void)state;
    start(NULL);
    sent();
    line(":srv 001 me :Welcome");
    assert_true(s.ready);
    assert_string_equal(sent(), "");
    chat_session_input(&s, "hello");
    assert_string_equal(sent(), "");
    assert_non_null(strstr(shown, "*** no room"));
    chat_conn_close(&s.conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_join),
        cmocka_unit_test(test_join_refused),
        cmocka_unit_test(test_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
