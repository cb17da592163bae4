/* chatd nodes over Redis, the pure parts: the RESP codec (resp.c: every
 * reply type, replies cut anywhere, the bounds a server must not pass,
 * commands out, Redis URLs) and the formats nodes keep in Redis
 * (node_wire.c: events, members, history lines and topics, and what is
 * refused: bad ids, nicks, rooms, kinds, CR/LF/NUL, lengths). */
//unit-sources: src/apps/chatd/resp.c src/apps/chatd/node_wire.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatd/node.h"

static ssize_t parse(const char *s, struct resp **r) { return resp_parse(s, strlen(s), r); }

static void test_resp_types(void **state)
{
    struct resp *r;
    assert_int_equal(parse("+OK\r\n", &r), 5);
    assert_int_equal(r->type, RESP_STATUS);
    assert_string_equal(r->s, "OK");
    free(r);
    assert_int_equal(parse("-ERR no\r\n", &r), 9);
    assert_int_equal(r->type, RESP_ERROR);
    assert_string_equal(r->s, "ERR no");
    free(r);
    assert_int_equal(parse(":-42\r\n", &r), 6);
    assert_int_equal(r->type, RESP_INT);
    assert_int_equal(r->i, -42);
    free(r);
    assert_int_equal(parse("$-1\r\n", &r), 5);
    assert_int_equal(r->type, RESP_NIL);
    free(r);
    assert_int_equal(resp_parse("$3\r\na\0b\r\n", 9, &r), 9);
    assert_int_equal(r->type, RESP_STR);
    assert_int_equal(r->n, 3);
    assert_memory_equal(r->s, "a\0b", 3);
    free(r);
    const char *msg = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*2\r\n:1\r\n$0\r\n\r\n+rest";
    ssize_t k = parse(msg, &r);
    assert_int_equal(k, (ssize_t)strlen(msg) - 5);
    assert_int_equal(r->type, RESP_ARRAY);
    assert_int_equal(r->n, 3);
    assert_true(resp_is(&r->e[0], "message"));
    assert_true(resp_is(&r->e[1], "ch"));
    assert_int_equal(r->e[2].type, RESP_ARRAY);
    assert_int_equal(r->e[2].e[0].i, 1);
    assert_int_equal(r->e[2].e[1].n, 0);
    free(r);
}

static void test_resp_cut(void **state)
{
    const char *msg = "*2\r\n$5\r\nhello\r\n*1\r\n:12\r\n";
    for (size_t i = 0; i < strlen(msg); i++) {
        struct resp *r = NULL;
        assert_int_equal(resp_parse(msg, i, &r), 0);
        assert_null(r);
    }
}

static void test_resp_bounds(void **state)
{
    struct resp *r = NULL;
    assert_int_equal(parse("?x\r\n", &r), -EPROTO);
    assert_int_equal(parse(":12a\r\n", &r), -EPROTO);
    assert_int_equal(parse("$2\r\nabc\r\n", &r), -EPROTO);
    assert_int_equal(parse("$99999999999\r\n", &r), -EPROTO);
    assert_int_equal(parse("$2000000\r\n", &r), -EPROTO);       /* > RESP_BULK_MAX */
    assert_int_equal(parse("*2000000000\r\n", &r), -EPROTO);    /* > RESP_ELEMS_MAX */
    assert_int_equal(parse("*-2\r\n", &r), -EPROTO);
    assert_int_equal(parse("+a\rb\r\n", &r), -EPROTO);
    assert_int_equal(parse("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", &r), -EPROTO);   /* depth */
    /* a huge count costs nothing until the elements come */
    assert_int_equal(parse("*200000\r\n:1\r\n", &r), 0);
    assert_null(r);
    /* a line without its end is refused past 64 KiB */
    size_t n = 70000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    big[0] = '+';
    assert_int_equal(resp_parse(big, n, &r), -EPROTO);
    free(big);
}

static void test_resp_cmd(void **state)
{
    ibx_buf b = {0};
    const char *argv[] = {"SET", "k", "v v"};
    assert_int_equal(resp_cmd(&b, 3, argv, NULL), 0);
    const char *want = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv v\r\n";
    assert_int_equal(ibx_buf_used(&b), strlen(want));
    assert_memory_equal(ibx_buf_head(&b), want, strlen(want));
    ibx_buf_free(&b);
}

static void test_resp_url(void **state)
{
    char hp[320];
    unsigned db;
    assert_int_equal(resp_url("redis://127.0.0.1:7000/3", hp, sizeof hp, &db), 0);
    assert_string_equal(hp, "127.0.0.1:7000");
    assert_int_equal(db, 3);
    assert_int_equal(resp_url("redis://localhost", hp, sizeof hp, &db), 0);
    assert_string_equal(hp, "localhost:6379");
    assert_int_equal(db, 0);
    assert_int_equal(resp_url("redis://[::1]:6380/", hp, sizeof hp, &db), 0);
    assert_string_equal(hp, "[::1]:6380");
    assert_int_equal(resp_url("redis://[::1]", hp, sizeof hp, &db), 0);
    assert_string_equal(hp, "[::1]:6379");
    const char *bad[] = {"http://x", "redis://", "redis://h:p", "redis://h:1/16",
                         "redis://u:pw@h:1", "redis://h:123456", "redis://[::1]x",
                         "redis://h/-1", "redis://h:1/1x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(resp_url(bad[i], hp, sizeof hp, &db), -EINVAL);
}

static void test_wire_event(void **state)
{
    struct wire_ev w = {.origin = 0x0123456789abcdefull, .seq = 7, .kind = EV_MSG,
                        .has_text = true};
    strcpy(w.nick, "alice");
    strcpy(w.user, "~alice");
    strcpy(w.host, "127.0.0.1");
    strcpy(w.target, "#room");
    strcpy(w.text, "hello :) world");
    char buf[WIRE_EVENT_MAX + 1];
    int n = wire_event_encode(buf, sizeof buf, &w);
    assert_true(n > 0);
    assert_string_equal(buf, "ibx1 0123456789abcdef 7 MSG alice ~alice 127.0.0.1 #room * "
                             ":hello :) world");
    struct wire_ev d;
    assert_int_equal(wire_event_decode(buf, (size_t)n, &d), 0);
    assert_int_equal(d.origin, w.origin);
    assert_int_equal(d.seq, 7);
    assert_int_equal(d.kind, EV_MSG);
    assert_string_equal(d.text, "hello :) world");
    assert_string_equal(d.arg, "");
    const char *good[] = {
        "ibx1 0123456789abcdef 1 QUIT bob plain ::1 * *",
        "ibx1 0123456789abcdef 1 NICK bob plain ::1 * bobby",
        "ibx1 0123456789abcdef 1 KICK bob plain ::1 #r eve :bye",
        "ibx1 0123456789abcdef 1 PART bob plain ::1 #r *",
        "ibx1 0123456789abcdef 1 MSG bob plain ::1 carol * :psst",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(wire_event_decode(good[i], strlen(good[i]), &d), 0);
    const char *bad[] = {
        "ibx2 0123456789abcdef 1 QUIT bob plain ::1 * *",
        "ibx1 0123456789ABCDEF 1 QUIT bob plain ::1 * *",   /* upper-case id */
        "ibx1 0000000000000000 1 QUIT bob plain ::1 * *",   /* zero id */
        "ibx1 0123456789abcdef x QUIT bob plain ::1 * *",
        "ibx1 0123456789abcdef 1 SHOUT bob plain ::1 * *",
        "ibx1 0123456789abcdef 1 QUIT 9bob plain ::1 * *",  /* bad nick */
        "ibx1 0123456789abcdef 1 QUIT bob pl@in ::1 * *",
        "ibx1 0123456789abcdef 1 QUIT bob plain h/st * *",
        "ibx1 0123456789abcdef 1 MSG bob plain ::1 #r *",   /* no text */
        "ibx1 0123456789abcdef 1 MSG bob plain ::1 #r * :a\rb",
        "ibx1 0123456789abcdef 1 MSG bob plain ::1 #r * :a\nb",
        "ibx1 0123456789abcdef 1 JOIN bob plain ::1 bob *",  /* JOIN wants a room */
        "ibx1 0123456789abcdef 1 NICK bob plain ::1 * *",    /* NICK wants the new one */
        "ibx1 0123456789abcdef 1 QUIT bob plain ::1 * * ",   /* trailing space */
        "ibx1 0123456789abcdef 1 QUIT bob  plain ::1 * *",
        "ibx1 0123456789abcdef 1 QUIT bob plain ::1 *",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(wire_event_decode(bad[i], strlen(bad[i]), &d), -EPROTO);
    assert_int_equal(wire_event_decode("ibx1 0123456789abcdef 1 QUIT bob plain ::1 * *", 46,
                                       &d), 0);
    const char nul[] = "ibx1 0123456789abcdef 1 MSG bob plain ::1 #r * :a\0b";
    assert_int_equal(wire_event_decode(nul, sizeof nul - 1, &d), -EPROTO);
    /* text past the IRC line */
    char longer[1200];
    int k = snprintf(longer, sizeof longer, "ibx1 0123456789abcdef 1 MSG b p ::1 #r * :");
    memset(longer + k, 'x', 600);
    assert_int_equal(wire_event_decode(longer, (size_t)k + 600, &d), -EPROTO);
}

static void test_wire_member_line(void **state)
{
    char buf[256];
    int n = wire_member_encode(buf, sizeof buf, 0xfull, "bob", "plain", "10.0.0.1");
    assert_true(n > 0);
    struct wire_member m;
    assert_int_equal(wire_member_decode(buf, (size_t)n, &m), 0);
    assert_int_equal(m.origin, 0xf);
    assert_string_equal(m.nick, "bob");
    assert_int_equal(wire_member_decode("000000000000000f bob plain", 26, &m), -EPROTO);
    assert_int_equal(wire_member_decode("000000000000000f bob plain h x", 30, &m), -EPROTO);

    char line[WIRE_EVENT_MAX + 1];
    struct wire_line l;
    n = wire_line_encode(line, sizeof line, 1700000000, 'A', "bob", "waves :)");
    assert_int_equal(wire_line_decode(line, (size_t)n, true, &l), 0);
    assert_true(l.action);
    assert_int_equal(l.t, 1700000000);
    assert_string_equal(l.text, "waves :)");
    n = wire_line_encode(line, sizeof line, 5, 0, "bob", "a topic");
    assert_int_equal(wire_line_decode(line, (size_t)n, false, &l), 0);
    assert_string_equal(l.who, "bob");
    assert_string_equal(l.text, "a topic");
    assert_int_equal(wire_line_decode(line, (size_t)n, true, &l), -EPROTO);
    assert_int_equal(wire_line_decode("5 X bob :t", 10, true, &l), -EPROTO);
    assert_int_equal(wire_line_decode("5 bob t", 7, false, &l), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resp_types),    cmocka_unit_test(test_resp_cut),
        cmocka_unit_test(test_resp_bounds),   cmocka_unit_test(test_resp_cmd),
        cmocka_unit_test(test_resp_url),      cmocka_unit_test(test_wire_event),
        cmocka_unit_test(test_wire_member_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
