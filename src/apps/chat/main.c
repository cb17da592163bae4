/* chat: the terminal client of chatd, and of any IRC server. */
//applet: chat chat client: IRC rooms on a terminal, or lines from stdin for scripts
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "cli.h"
#include "tty.h"

/* After QUIT (stdin ended, /quit), how long the server has to close. */
#define QUIT_WAIT_MS 5000

struct chat_cfg {
    const char *nick;
    const char *room;
    const char *password;
    bool quiet;
    bool no_color;
    unsigned timeout_ms;
};

static const struct opt chat_opts[] = {
    {.name = "nick", .type = OPT_T_STR, OPT_FIELD_(struct chat_cfg, nick), .arg = "NICK",
     .help = "nickname (default: $USER)", .short_name = 'n'},
    {.name = "room", .type = OPT_T_STR, OPT_FIELD_(struct chat_cfg, room), .arg = "ROOM",
     .def = "#lobby", .help = "room joined once connected ('' for none)", .short_name = 'r'},
    OPT_S(struct chat_cfg, password, "password", "PASS",
          "server password (sent as PASS)"),
    {.name = "quiet", .type = OPT_T_BOOL, OPT_FIELD_(struct chat_cfg, quiet),
     .help = "no server notices (welcome, MOTD): messages, room events and errors only",
     .short_name = 'q'},
    OPT_B(struct chat_cfg, no_color, "no-color", "never colour nicks (also: NO_COLOR set)"),
    OPT_SEC(struct chat_cfg, timeout_ms, "timeout", "10", 1, 3600,
            "seconds to connect and to be welcomed by the server"),
    OPT_TABLE_END,
};

static const char chat_about[] =
    "Chat in IRC rooms on HOST (default port 6667): 'ipcbox chatd' or any IRC "
    "server. On a terminal, messages appear above an input line edited with "
    "libedit (emacs keys, history); type /help for the commands (/join /part "
    "/msg /me /nick /who /list /topic /quit). Without a terminal, each line "
    "of stdin is a message to the current room (or a /command) and each "
    "message is one line of stdout, '[#room] nick: text' ('*** ...' for "
    "notices); at the end of stdin the client quits.";

static const char chat_footer[] =
    "\nExit: 0 after /quit or the end of stdin, 1 when the connection fails\n"
    "or the server closes it, 2 usage.\n";

/* The client. */
struct chat_app {
    struct chat_session s;
    struct chat_tty *tty;        /* NULL without a terminal */
    char prompt[CHAT_NAME_MAX + 4];
    char in[CHAT_LINE_MAX * 4];  /* stdin without a terminal: partial line */
    size_t inlen;
    bool stdin_eof;
};

static void show(void *ctx, const char *line)
{
    struct chat_app *a = ctx;
    if (a->tty) {
        chat_tty_show(a->tty, line);
    } else {
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
}

static const char *prompt(void *ctx)
{
    struct chat_app *a = ctx;
    char room[CHAT_NAME_MAX];   /* the server's text: masked like any other */
    chat_safe(room, sizeof room, a->s.room);
    snprintf(a->prompt, sizeof a->prompt, "%s> ", room);
    return a->prompt;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stdin without a terminal: every whole line is input; the end quits. */
static void read_plain(struct chat_app *a)
{
    ssize_t n = read(STDIN_FILENO, a->in + a->inlen, sizeof a->in - a->inlen - 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        a->stdin_eof = true;
        if (a->inlen) {                         /* a last line without newline */
            a->in[a->inlen] = '\0';
            a->inlen = 0;
            chat_session_input(&a->s, a->in);
        }
        return;
    }
    a->inlen += (size_t)n;
    char *nl;
    while (!a->s.quitting && (nl = memchr(a->in, '\n', a->inlen)) != NULL) {
        *nl = '\0';
        size_t len = (size_t)(nl - a->in);
        if (len && a->in[len - 1] == '\r')
            a->in[len - 1] = '\0';
        chat_session_input(&a->s, a->in);
        a->inlen -= len + 1;
        memmove(a->in, nl + 1, a->inlen);
    }
    if (a->inlen == sizeof a->in - 1) {         /* too long: sent as it is */
        a->in[a->inlen] = '\0';
        a->inlen = 0;
        chat_session_input(&a->s, a->in);
    }
}

/* The loop: until the server closes (0 after our QUIT, else 1). */
static int run(struct chat_app *a, const struct chat_cfg *cfg)
{
    struct chat_session *s = &a->s;
    long long welcome_by = now_ms() + cfg->timeout_ms, quit_by = 0;
    for (;;) {
        if (chat_conn_flush(&s->conn) < 0) {
            show(a, "*** connection lost");
            return 1;
        }
        if (s->quitting && !quit_by)
            quit_by = now_ms() + QUIT_WAIT_MS;
        struct pollfd p[2] = {{s->conn.fd, POLLIN, 0}, {STDIN_FILENO, 0, 0}};
        if (s->conn.outlen)
            p[0].events |= POLLOUT;
        if (s->ready && !s->quitting && !a->stdin_eof)
            p[1].events = POLLIN;
        else
            p[1].fd = -1;                        /* (a closed pipe still says POLLHUP) */
        long long due = quit_by ? quit_by : s->ready ? 0 : welcome_by;
        int wait = -1;
        if (due)
            wait = due > now_ms() ? (int)(due - now_ms()) : 0;
        int r = poll(p, 2, wait);
        if (r < 0 && errno != EINTR) {
            show(a, "*** poll failed");
            return 1;
        }
        if (r == 0 && quit_by && now_ms() >= quit_by)
            return 0;                            /* QUIT sent; it did not close */
        if (r == 0 && !s->ready && now_ms() >= welcome_by) {
            show(a, s->registered ? "*** no answer to JOIN from the server"
                                  : "*** no welcome from the server (is it IRC?)");
            return 1;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int e = chat_conn_read(&s->conn);
            char *line;
            while ((line = chat_conn_line(&s->conn)) != NULL)
                chat_session_line(s, line);
            if (e < 0 || s->conn.eof) {
                if (s->quitting)
                    return 0;
                show(a, "*** the server closed the connection");
                return 1;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (a->tty) {
                char line[CHAT_LINE_MAX * 4];
                int k = chat_tty_read(a->tty, line, sizeof line);
                if (k > 0)
                    chat_session_input(s, line);
                else if (k < 0)
                    a->stdin_eof = true;
            } else {
                read_plain(a);
            }
            if (a->stdin_eof)
                chat_session_quit(s, "bye");
        }
    }
}

int chat_main(int argc, char **argv)
{
    struct chat_cfg cfg = {0};
    opt_defaults(chat_opts, &cfg);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "chat", "[options] HOST[:PORT]", chat_about);
    cmd.footer = chat_footer;
    cmd.min_args = 1;
    cmd.max_args = 1;
    opt_cmd_add(&cmd, "options", NULL, NULL, chat_opts, &cfg);
    int r = opt_parse(&cmd, argc, argv);
    if (r >= 0) {
        opt_cmd_free(&cmd);
        return r;
    }
    const char *nick = cfg.nick;
    if (!nick || !*nick)
        nick = getenv("USER");
    if (!nick || !*nick)
        nick = "guest";
    if (strlen(nick) >= CHAT_NAME_MAX || strcspn(nick, " ,:!@*?\r\n") != strlen(nick) ||
        *nick == '#' || *nick == '$') {
        r = opt_usage("chat", "not a nick: '%s'", nick);
        opt_cmd_free(&cmd);
        return r;
    }
    if (cfg.room && *cfg.room && (!chat_irc_is_room(cfg.room) ||
        strlen(cfg.room) >= CHAT_NAME_MAX || strcspn(cfg.room, " ,\a\r\n") != strlen(cfg.room))) {
        r = opt_usage("chat", "not a room: '%s' (rooms start with #)", cfg.room);
        opt_cmd_free(&cmd);
        return r;
    }

    static struct chat_app a;
    char err[256];
    if (chat_conn_open(&a.s.conn, cmd.args[0], (int)cfg.timeout_ms, err, sizeof err) < 0) {
        fprintf(stderr, "chat: %s\n", err);
        chat_conn_close(&a.s.conn);
        opt_cmd_free(&cmd);
        return 1;
    }
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    const char *term = getenv("TERM");
    a.s.view.color = tty && !cfg.no_color && !getenv("NO_COLOR") && term && *term &&
                     strcmp(term, "dumb") != 0;
    a.s.view.quiet = cfg.quiet;
    a.s.show = show;
    a.s.show_ctx = &a;
    if (tty && !(a.tty = chat_tty_open(prompt, &a))) {
        fprintf(stderr, "chat: cannot set up the terminal\n");
        chat_conn_close(&a.s.conn);
        opt_cmd_free(&cmd);
        return 1;
    }
    chat_session_start(&a.s, nick, cfg.password, cfg.room);
    r = run(&a, &cfg);
    chat_conn_flush(&a.s.conn);
    chat_tty_close(a.tty);
    chat_conn_close(&a.s.conn);
    opt_cmd_free(&cmd);
    return r;
}
