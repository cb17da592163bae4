/* ipcbox chat: a terminal IRC client (RFC 1459/2812 as modern clients
 * speak it), for `ipcbox chatd` and any IRC server.
 *
 * Files (one concept each):
 *   ircmsg.c   a server's line as the library's IRC message (pure)
 *   safe.c     neutralise control characters and escapes in peers' text (pure)
 *   format.c   an IRC message as the line a user sees (pure)
 *   command.c  a typed line (text or /command) as IRC lines (pure)
 *   conn.c     the TCP connection: connect, line reader, output queue
 *   session.c  registration, PING, own nick and room; glue of the above
 *   tty.c      the terminal: libedit input line, output above it
 *   main.c     options, the poll loop, exit status */
#ifndef IPCBOX_APPS_CHAT_H
#define IPCBOX_APPS_CHAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "ipcbox/irc.h"

/* Default server port (IRC). */
#define CHAT_PORT 6667
/* An IRC line: 512 bytes with CR LF (RFC 1459 2.3). */
#define CHAT_LINE_MAX 512
/* Longest line accepted from a server (IRCv3 tags may come before the
 * 512 bytes); a longer one is cut there. */
#define CHAT_IN_MAX 8192
/* Longest nick or room name kept. */
#define CHAT_NAME_MAX 64
/* Longest line shown to the user (formatted, neutralised, with colours). */
#define CHAT_SHOW_MAX 2048

/* ---- ircmsg.c ------------------------------------------------------------ */

/* Parse a server's line (NUL-terminated, no CR LF; modified in place)
 * into m with the library's codec (ibx_irc_parse: prefix, command
 * upper-cased, runs of spaces, up to 15 parameters, the last possibly
 * trailing), after what only a client meets: a leading "@tags " (IRCv3
 * message tags) is skipped, and the rest, if longer than an IRC line
 * allows (IBX_IRC_TEXT_MAX), is cut there. Returns 0, or -EINVAL for a
 * line that is no message (no command, a bad prefix or command). */
int chat_irc_read(char *line, struct ibx_irc_msg *m);

/* The nick of a prefix ("nick!user@host" -> "nick") into buf (size
 * bytes); the whole prefix if it has no '!'. Empty for NULL. */
void chat_irc_nick(const char *prefix, char *buf, size_t size);

/* RFC 1459 case-insensitive comparison ({}|^ are the lower case of []\~).
 * Returns true when a and b name the same nick or room. */
bool chat_irc_same(const char *a, const char *b);

/* True for a room name (starts with #, &, + or !). */
bool chat_irc_is_room(const char *name);

/* ---- safe.c -------------------------------------------------------------- */

/* Copy src into dst (size bytes, always NUL-terminated) fit for a
 * terminal: IRC formatting codes (bold, colour with its digits, italic,
 * underline, reverse, reset ...) are dropped; every other control
 * character, ESC and with it any escape sequence, DEL, C1 controls,
 * bidirectional overrides and bytes that are not well-formed UTF-8
 * become '?' (the rules of termtext.h). Returns the length of dst. */
size_t chat_safe(char *dst, size_t size, const char *src);

/* ---- format.c ------------------------------------------------------------ */

/* What the display of a message depends on. */
struct chat_view {
    const char *me;          /* our nick */
    bool color;              /* colour nicks (ANSI SGR) */
    bool quiet;              /* only messages and errors */
};

/* The colour (an SGR parameter such as "32") that nick is shown in:
 * one of a few, chosen by a hash of its case-folded name. */
const char *chat_nick_color(const char *nick);

/* Write the line the user sees for message m into out (size bytes):
 *   [#room] nick: text         a message to a room
 *   [#room] * nick text        an action (/me, CTCP ACTION)
 *   [nick] nick: text          a private message (to us, or ours to nick)
 *   *** ...                    joins, parts, nick changes, topics, server
 *                              notices and replies, errors
 * Everything that came from the peer is neutralised (chat_safe). Returns
 * the length, or 0 when the message is not shown (PING, end of lists, and
 * server chatter under quiet). */
size_t chat_format(const struct chat_view *v, const struct ibx_irc_msg *m,
                   char *out, size_t size);

/* Our own message as we show it (servers do not echo PRIVMSG): target,
 * text and whether it is an action. Same forms as chat_format. */
size_t chat_format_own(const struct chat_view *v, const char *target,
                       const char *text, bool action, char *out, size_t size);

/* ---- command.c ----------------------------------------------------------- */

/* What a typed line asks for. */
enum chat_cmd_kind {
    CHAT_CMD_SEND,           /* send the IRC lines in out */
    CHAT_CMD_SAY,            /* send out, and show our own message (echo) */
    CHAT_CMD_QUIT,           /* send out (a QUIT), then wait for the close */
    CHAT_CMD_LOCAL,          /* show out (help, an error): nothing sent */
    CHAT_CMD_NONE,           /* an empty line: nothing */
};

/* The translation of one typed line. */
struct chat_cmd {
    enum chat_cmd_kind kind;
    char out[4 * CHAT_LINE_MAX];  /* IRC lines with CR LF, or local text */
    size_t len;
    /* CHAT_CMD_SAY: what to echo (target and text point into out) */
    char target[CHAT_NAME_MAX];
    const char *texts[4];    /* the message, in pieces of one IRC line each */
    size_t text_lens[4];
    int ntexts;
    bool action;
};

/* Translate the typed line (no newline) for the current room (may be "")
 * into c: text is a message to room ("//x" sends "/x"); /nick /join /part
 * /msg /me /who /list /topic /quit /help become IRC commands; /quote sends
 * a raw line. A message too long for one IRC line is split (at UTF-8
 * boundaries) into at most 4. Bad usage yields CHAT_CMD_LOCAL with the
 * reason. CR, LF and NUL never reach out. */
void chat_command(const char *line, const char *room, struct chat_cmd *c);

/* The /help text (lines separated by '\n'). */
extern const char chat_help_text[];

/* ---- conn.c -------------------------------------------------------------- */

/* A connection to the server. */
struct chat_conn {
    int fd;
    char in[CHAT_IN_MAX];    /* bytes read, not yet a whole line */
    size_t inlen;
    bool skipping;           /* discarding the rest of an over-long line */
    char *out;               /* queued output */
    size_t outlen, outcap;
    bool eof;                /* the server closed */
};

/* Resolve text ("HOST[:PORT]", default port CHAT_PORT) and connect within
 * timeout_ms. Returns 0, or -errno after writing the reason to err. */
int chat_conn_open(struct chat_conn *c, const char *text, int timeout_ms,
                   char *err, size_t errlen);
/* Queue bytes for the server. Returns 0 or -ENOBUFS past 1 MiB queued. */
int chat_conn_queue(struct chat_conn *c, const char *data, size_t len);
/* printf-like: queue one line; CR LF is appended. */
int chat_conn_printf(struct chat_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write what is queued without blocking. Returns 0 or -errno. */
int chat_conn_flush(struct chat_conn *c);
/* Read what the socket has (non-blocking). Returns 0 (sets eof when the
 * server closed) or -errno. */
int chat_conn_read(struct chat_conn *c);
/* The next whole line (CR LF stripped, NUL-terminated, valid until the
 * next call), or NULL. Lines longer than CHAT_IN_MAX are cut there; NUL
 * bytes inside a line end it. */
char *chat_conn_line(struct chat_conn *c);
/* Close and free. */
void chat_conn_close(struct chat_conn *c);

/* ---- session.c ----------------------------------------------------------- */

/* Where lines for the user go. */
typedef void (*chat_show_fn)(void *ctx, const char *line);

/* Client state. */
struct chat_session {
    struct chat_conn conn;
    char nick[CHAT_NAME_MAX];     /* ours, as the server knows it */
    char room[CHAT_NAME_MAX];     /* current room, or "" */
    const char *want_room;        /* joined once registered (or NULL) */
    bool registered;              /* 001 received */
    bool ready;                   /* registered and the first room joined (or
                                   * refused): input may flow */
    bool quitting;                /* QUIT sent */
    int nick_tries;               /* 433 before registration: nick_, nick__ */
    struct chat_view view;
    chat_show_fn show;
    void *show_ctx;
};

/* Start: queue PASS (if password), NICK and USER. */
void chat_session_start(struct chat_session *s, const char *nick,
                        const char *password, const char *room);
/* Handle one line from the server. */
void chat_session_line(struct chat_session *s, char *line);
/* Handle one typed line. */
void chat_session_input(struct chat_session *s, const char *line);
/* Send QUIT (once). */
void chat_session_quit(struct chat_session *s, const char *reason);

#endif
