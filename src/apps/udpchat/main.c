/* udpchat: serverless chat over UDP on the library's event loop. */
//applet: udpchat serverless LAN chat over UDP: one peer, broadcast or multicast, with presence
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chat/tty.h"
#include "cli.h"
#include "udpchat.h"

/* Datagrams read per readiness event, before the loop looks elsewhere. */
#define READ_BATCH 64

static const struct opt uc_opts[] = {
    {.name = "nick", .type = OPT_T_STR, OPT_FIELD_(struct uc_cfg, nick), .arg = "NICK",
     .help = "nickname (default: $USER); 1 to 32 bytes of UTF-8, no space, '@' or "
             "control character", .short_name = 'n'},
    {.name = "port", .type = OPT_T_UINT, OPT_FIELD_(struct uc_cfg, port), .arg = "PORT",
     .def = "6767", .min = 0, .max = 65535, .short_name = 'p',
     .help = "UDP port of the chat: bound here, and where datagrams go (--to may name "
             "another); 0 (any free port) only with --to HOST:PORT"},
    {.name = "to", .type = OPT_T_LIST, OPT_FIELD_(struct uc_cfg, to), .arg = "HOST:PORT",
     .short_name = 't', .help = "send to this peer only, and hear only the --to peers "
                                "(repeatable; IPv6 as [ADDR]:PORT)"},
    {.name = "broadcast", .type = OPT_T_BOOL, OPT_FIELD_(struct uc_cfg, broadcast),
     .short_name = 'b',
     .help = "send to every host of the segment: the broadcast address of each interface "
             "that is up (IPv4)"},
    OPT_B(struct uc_cfg, limited, "limited",
          "with --broadcast, send to 255.255.255.255 out of each interface instead of "
          "its subnet's broadcast address"),
    {.name = "multicast", .type = OPT_T_STR, OPT_FIELD_(struct uc_cfg, group),
     .arg = "GROUP", .short_name = 'm',
     .help = "send to and listen on this multicast group (GROUP[:PORT]); without --to "
             "or --broadcast the default is " IBX_UDPCHAT_GROUP4 "; IPv6 "
             IBX_UDPCHAT_GROUP6 " is the link-local one"},
    OPT_S(struct uc_cfg, iface, "interface", "IFACE",
          "the interface to multicast or broadcast on (default: the route's, every one "
          "for --broadcast)"),
    OPT_S(struct uc_cfg, bind, "bind", "HOST[:PORT]",
          "local address to bind with --to or --broadcast (default: every address, "
          "127.0.0.1 when every --to is on the loopback; a multicast peer is bound to "
          "its group)"),
    OPT_U(struct uc_cfg, ttl, "ttl", "N", "1", 1, 255,
          "multicast TTL (hop limit); 1 keeps datagrams on the segment"),
    {.name = "presence", .type = OPT_T_UINT, OPT_FIELD_(struct uc_cfg, presence_ms),
     .arg = "SECONDS", .def = "5", .min = 1, .max = 3600, .scale = 1000,
     .help = "announce ourselves every SECONDS (jittered down by up to 20%); a peer "
             "silent for 3 of its intervals has timed out"},
    OPT_U(struct uc_cfg, rate, "rate", "N", "20", 1, 100000,
          "datagrams per second accepted from one sender, in bursts of up to 2N (the "
          "rest dropped and counted); one source address gets twice as much, all "
          "senders together 8 times as much"),
    OPT_U(struct uc_cfg, send_rate, "send-rate", "N", "16", 1, 100000,
          "datagrams per second sent at most, in bursts of up to 2N: input waits "
          "(under the default --rate of the other peers)"),
    OPT_U(struct uc_cfg, max_peers, "max-peers", "N", "256", 1, 65536,
          "peers tracked at once; the one heard least recently is forgotten first"),
    {.name = "verbose", .type = OPT_T_BOOL, OPT_FIELD_(struct uc_cfg, verbose),
     .short_name = 'v', .help = "log the counters at exit (stderr) even when nothing "
                                "was dropped"},
    OPT_B(struct uc_cfg, no_color, "no-color", "never colour nicks (also: NO_COLOR set)"),
    OPT_TABLE_END,
};

static const char uc_about[] =
    "Chat without a server over UDP: every line typed goes to one peer (--to), to "
    "every host of the segment (--broadcast) or to a multicast group (--multicast; "
    "the default, on " IBX_UDPCHAT_GROUP4 " port 6767, TTL 1). Peers announce "
    "themselves every few seconds: /who lists who is around; arrivals, leaves and "
    "time-outs are notices. Messages show as 'nick@host: text', notices start "
    "with '***'. On a terminal, messages appear above an input line edited with "
    "libedit; type /help. Without a terminal each line of stdin is sent (or is a "
    "/command) and each message is one line of stdout; at the end of stdin the "
    "peer says goodbye and exits. Datagrams are checked (size, format, UTF-8), "
    "duplicates and our own copies dropped, senders rate-limited; nothing is ever "
    "sent in answer to a datagram.";

static const char uc_footer[] =
    "\nThe datagram format is in the header ipcbox/udpchat.h.\n"
    "Exit: 0 after /quit, the end of stdin or SIGINT/SIGTERM, 1 when the socket\n"
    "cannot be set up, 2 usage.\n";

/* The application: loop, socket, input, session. */
struct uc_app {
    ibx_loop *loop;
    struct uc_net net;
    struct uc_chat chat;
    const struct uc_cfg *cfg;
    ibx_log log;
    ibx_io sock_io, in_io;
    ibx_timer presence, sweep, pace;
    struct chat_tty *tty;            /* NULL without a terminal */
    bool in_pollable;                /* stdin can be watched (not a regular file) */
    bool in_watching, in_eof;
    char in[UC_LINE_MAX + 1];        /* stdin without a terminal: a partial line */
    size_t inlen;
    char prompt[IBX_UDPCHAT_NICK_MAX + 4];
};

static void show(void *ctx, const char *line)
{
    struct uc_app *a = ctx;
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
    struct uc_app *a = ctx;
    snprintf(a->prompt, sizeof a->prompt, "%s> ", a->chat.nick);
    return a->prompt;
}

static void finish(struct uc_app *a)
{
    uc_chat_leave(&a->chat, ibx_loop_now(a->loop));
    ibx_loop_stop(a->loop);
}

static void on_input(ibx_loop *loop, ibx_io *io, uint32_t events);
static void input(struct uc_app *a);

static void watch_input(struct uc_app *a, bool on)
{
    if (on == a->in_watching || !a->in_pollable)
        return;
    if (on)
        ibx_io_start(a->loop, &a->in_io, STDIN_FILENO, IBX_EV_READ, on_input, a);
    else
        ibx_io_stop(a->loop, &a->in_io);
    a->in_watching = on;
}

static void on_pace(ibx_loop *loop, ibx_timer *t)
{
    struct uc_app *a = t->data;
    if (a->tty)
        watch_input(a, true);         /* the next key is read when it comes */
    else
        input(a);
}

/* May a line be sent now? If not, input waits for the pace timer. */
static bool paced(struct uc_app *a)
{
    uint64_t now = ibx_loop_now(a->loop);
    uint64_t wait = uc_bucket_wait(&a->chat.pace, a->cfg->send_rate, a->cfg->send_rate * 2, now);
    if (!wait)
        return true;
    watch_input(a, false);
    ibx_timer_start(a->loop, &a->pace, wait, on_pace, a);
    return false;
}

static void line_in(struct uc_app *a, char *line)
{
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    uc_chat_input(&a->chat, line, ibx_loop_now(a->loop));
    if (a->chat.quitting)
        ibx_loop_stop(a->loop);
}

/* Without a terminal: handle the whole lines buffered while the pace
 * allows; then read more, from a regular file at once, from anything else
 * when the loop says it is readable (on_input). */
static void input(struct uc_app *a)
{
    while (!a->chat.quitting) {
        char *nl = memchr(a->in, '\n', a->inlen);
        if (nl || (a->in_eof && a->inlen) || a->inlen == UC_LINE_MAX) {
            if (!paced(a))
                return;
            size_t len = nl ? (size_t)(nl - a->in) : a->inlen;
            char line[UC_LINE_MAX + 1];
            memcpy(line, a->in, len);
            line[len] = '\0';
            size_t used = nl ? len + 1 : len;
            a->inlen -= used;
            memmove(a->in, a->in + used, a->inlen);
            line_in(a, line);
            continue;
        }
        if (a->in_eof) {
            finish(a);
            return;
        }
        if (a->in_pollable) {
            watch_input(a, true);
            return;
        }
        ssize_t n = read(STDIN_FILENO, a->in + a->inlen, UC_LINE_MAX - a->inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            a->in_eof = true;
        else
            a->inlen += (size_t)n;
    }
}

static void on_input(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct uc_app *a = io->data;
    if (a->tty) {
        if (!paced(a))
            return;
        char line[UC_LINE_MAX + 1];
        int k = chat_tty_read(a->tty, line, sizeof line);
        if (k > 0)
            line_in(a, line);
        else if (k < 0)
            finish(a);
        return;
    }
    if (!memchr(a->in, '\n', a->inlen) && a->inlen < UC_LINE_MAX) {
        /* readable: one read (a second one could block) */
        ssize_t n = read(STDIN_FILENO, a->in + a->inlen, UC_LINE_MAX - a->inlen);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        if (n <= 0)
            a->in_eof = true;
        else
            a->inlen += (size_t)n;
    }
    input(a);
}

static void on_socket(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct uc_app *a = io->data;
    unsigned char buf[IBX_UDPCHAT_MAX + 1];
    for (int i = 0; i < READ_BATCH; i++) {
        struct sockaddr_storage src;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr mh = {.msg_name = &src, .msg_namelen = sizeof src,
                            .msg_iov = &iov, .msg_iovlen = 1};
        /* MSG_TRUNC: the datagram's real length, however much was kept */
        ssize_t n = recvmsg(a->net.fd, &mh, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0)
            return;                   /* EAGAIN, or an ICMP error: nothing to read */
        size_t kept = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
        uc_chat_datagram(&a->chat, buf, (size_t)n, kept, (struct sockaddr *)&src,
                         mh.msg_namelen, ibx_loop_now(loop));
    }
}

static void on_presence(ibx_loop *loop, ibx_timer *t)
{
    struct uc_app *a = t->data;
    uc_chat_presence(&a->chat, ibx_loop_now(loop));
    ibx_timer_start(loop, t, uc_chat_presence_delay(&a->chat), on_presence, a);
}

static void on_sweep(ibx_loop *loop, ibx_timer *t)
{
    struct uc_app *a = t->data;
    ibx_timer_start(loop, t, uc_chat_sweep(&a->chat, ibx_loop_now(loop)), on_sweep, a);
}

static void on_signal(ibx_loop *loop, int signo, void *data)
{
    finish(data);
}

/* Parse and check the options. Returns -1 to go on or an exit status. */
static int parse(struct uc_cfg *cfg, struct cli *cli, struct opt_cmd *cmd, int argc,
                 char **argv, const char **nick)
{
    opt_defaults(uc_opts, cfg);
    opt_defaults(cli_log_opts, cli);
    opt_cmd_init(cmd, "udpchat", "[options]", uc_about);
    cmd->footer = uc_footer;
    opt_cmd_add(cmd, "options", NULL, NULL, uc_opts, cfg);
    opt_cmd_add(cmd, "logging", NULL, NULL, cli_log_opts, cli);
    int r = opt_parse(cmd, argc, argv);
    if (r >= 0)
        return r;
    cli_finish(cli);
    *nick = cfg->nick && *cfg->nick ? cfg->nick : getenv("USER");
    if (!*nick || !**nick)
        *nick = "guest";
    if (!ibx_udpchat_nick_valid(*nick, strlen(*nick)))
        return opt_usage("udpchat", "not a nick: '%s' (1 to %d bytes of UTF-8, no space, "
                         "'@' or control character)", *nick, IBX_UDPCHAT_NICK_MAX);
    if ((cfg->to.n != 0) + cfg->broadcast + (cfg->group != NULL) > 1)
        return opt_usage("udpchat", "--to, --broadcast and --multicast exclude each other");
    if (cfg->iface && cfg->to.n)
        return opt_usage("udpchat", "--interface goes with --broadcast or --multicast");
    if (cfg->limited && !cfg->broadcast)
        return opt_usage("udpchat", "--limited goes with --broadcast");
    return -1;
}

static int run(struct uc_app *a)
{
    uint64_t now = ibx_loop_now(a->loop);
    a->chat.log = &a->log;
    ibx_loop_signal(a->loop, SIGINT, on_signal, a);
    ibx_loop_signal(a->loop, SIGTERM, on_signal, a);
    ibx_loop_signal(a->loop, SIGHUP, on_signal, a);
    int r = ibx_io_start(a->loop, &a->sock_io, a->net.fd, IBX_EV_READ, on_socket, a);
    if (r < 0)
        return r;
    struct stat st;
    a->in_pollable = fstat(STDIN_FILENO, &st) == 0 && !S_ISREG(st.st_mode) &&
                     !S_ISDIR(st.st_mode);
    if (a->in_pollable) {
        /* probe: /dev/null and the like cannot be watched either */
        r = ibx_io_start(a->loop, &a->in_io, STDIN_FILENO, IBX_EV_READ, on_input, a);
        if (r < 0)
            a->in_pollable = false;
        else
            a->in_watching = true;
    }
    uc_chat_presence(&a->chat, now);
    ibx_timer_start(a->loop, &a->presence, uc_chat_presence_delay(&a->chat), on_presence, a);
    ibx_timer_start(a->loop, &a->sweep, 1000, on_sweep, a);
    if (!a->in_pollable)
        input(a);
    if (a->chat.quitting)
        return 0;
    return ibx_loop_run(a->loop);
}

int udpchat_main(int argc, char **argv)
{
    static struct uc_cfg cfg;
    struct cli cli;
    struct opt_cmd cmd;
    const char *nick = NULL;
    cli_init(&cli, "udpchat");
    int r = parse(&cfg, &cli, &cmd, argc, argv, &nick);
    if (r >= 0) {
        opt_cmd_free(&cmd);
        return r;
    }
    static struct uc_app a;
    a.cfg = &cfg;
    a.log = cli.log;
    char err[512];
    if ((r = uc_net_open(&a.net, &cfg, err, sizeof err)) < 0) {
        uc_net_close(&a.net);
        opt_cmd_free(&cmd);
        if (a.net.usage)
            return opt_usage("udpchat", "%s", err);
        ibx_err(&a.log, "%s", err);
        return 1;
    }
    int status = 1;
    if (ibx_signals_block() < 0 || ibx_loop_new(&a.loop) < 0 ||
        uc_chat_init(&a.chat, &cfg, &a.net, nick, ibx_loop_now(a.loop)) < 0) {
        ibx_err(&a.log, "cannot set up the event loop");
        goto out;
    }
    char what[512];
    uc_net_describe(&a.net, what, sizeof what);
    ibx_info(&a.log, "msg=\"%s\" nick=%s id=%016llx", what, nick,
             (unsigned long long)a.chat.id);
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    const char *term = getenv("TERM");
    a.chat.color = tty && !cfg.no_color && !getenv("NO_COLOR") && term && *term &&
                   strcmp(term, "dumb") != 0;
    a.chat.echo = tty;
    a.chat.show = show;
    a.chat.show_ctx = &a;
    if (tty && !(a.tty = chat_tty_open(prompt, &a))) {
        ibx_err(&a.log, "cannot set up the terminal");
        goto out;
    }
    r = run(&a);
    chat_tty_close(a.tty);
    a.tty = NULL;
    status = r < 0 ? 1 : 0;
    const struct uc_stats *s = &a.chat.st;
    if (cfg.verbose || s->malformed || s->oversized || s->version || s->rate || s->evicted ||
        s->foreign || s->spoofed || s->jump)
        ibx_info(&a.log,
                 "msg=stats received=%" PRIu64 " shown=%" PRIu64 " own=%" PRIu64
                 " duplicate=%" PRIu64 " old=%" PRIu64 " jump=%" PRIu64 " malformed=%" PRIu64
                 " oversized=%" PRIu64 " version=%" PRIu64 " foreign=%" PRIu64
                 " spoofed=%" PRIu64 " rate=%" PRIu64 " evicted=%" PRIu64 " expired=%" PRIu64
                 " sent=%" PRIu64 " send_errors=%" PRIu64,
                 s->received, s->shown, s->own, s->dup, s->old, s->jump, s->malformed,
                 s->oversized, s->version, s->foreign, s->spoofed, s->rate, s->evicted,
                 s->expired, s->sent, s->send_errors);
out:
    chat_tty_close(a.tty);
    uc_chat_free(&a.chat);
    if (a.loop)
        ibx_loop_free(a.loop);
    uc_net_close(&a.net);
    opt_cmd_free(&cmd);
    return status;
}
