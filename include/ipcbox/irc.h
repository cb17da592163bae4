/* ipcbox IRC line codec: one message of the IRC client protocol (RFC 1459,
 * RFC 2812, as modern clients use them), the 512-byte line limit, the
 * nickname and channel-name rules, and RFC 1459 casemapping.
 *
 * Everything here is pure: no I/O, no allocation. The parser works in
 * place on the caller's line (it writes NULs and upper-cases the command),
 * and the parsed fields point into it. */
#ifndef IPCBOX_IRC_H
#define IPCBOX_IRC_H

#include <stdbool.h>
#include <stddef.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Longest line, CR LF included (RFC 1459 2.3). */
#define IBX_IRC_LINE_MAX 512
/* Longest line without its CR LF. */
#define IBX_IRC_TEXT_MAX (IBX_IRC_LINE_MAX - 2)
/* Most parameters of one message (RFC 2812 2.3.1). */
#define IBX_IRC_PARAMS_MAX 15

/* One parsed message. Every pointer points into the parsed line. */
struct ibx_irc_msg {
    const char *prefix;      /* after ':' and before the first space, or NULL */
    const char *command;     /* letters (upper-cased) or three digits */
    const char *params[IBX_IRC_PARAMS_MAX];
    size_t nparams;
    bool trailing;           /* the last parameter came after " :" (it may
                              * be empty or hold spaces) */
};

/* Parse one line of len bytes at line (a trailing "\r\n", "\n" or "\r" is
 * ignored; no other CR, LF or NUL may appear). line must have room for a
 * NUL at line[len] (the parser writes it there and inside the line).
 * Message: [":" prefix SPACE] command *(SPACE param) [SPACE ":" trailing];
 * several spaces count as one; past 14 middle parameters the rest of the
 * line is the 15th. Returns 0, -EMSGSIZE when the line without its line
 * end is longer than IBX_IRC_TEXT_MAX, or -EINVAL (empty, a bad prefix or
 * command, a NUL/CR/LF inside). */
int ibx_irc_parse(char *line, size_t len, struct ibx_irc_msg *out);

/* RFC 1459 casemapping of one byte: A-Z to a-z, and []\^ to {}|~. */
static inline int ibx_irc_tolower(int c)
{
    c &= 0xff;
    if ((c >= 'A' && c <= 'Z') || (c >= '[' && c <= '^'))
        return c + 32;
    return c;
}

/* Fold the NUL-terminated s in place with ibx_irc_tolower. */
void ibx_irc_fold(char *s);
/* Compare a and b under RFC 1459 casemapping, like strcmp (<0, 0, >0). */
int ibx_irc_casecmp(const char *a, const char *b);

/* True when s is a valid nickname of at most maxlen bytes: a letter or
 * one of []\`_^{|} first, then letters, digits, those and '-'. */
bool ibx_irc_nick_valid(const char *s, size_t maxlen);
/* True when s is a valid channel name of at most maxlen bytes: '#' then at
 * least one byte, none of them a control byte (below 0x20, or 0x7f),
 * space, ',' or ':'. */
bool ibx_irc_channel_valid(const char *s, size_t maxlen);
/* True when s may be sent as a middle (not last) parameter: not empty,
 * not starting with ':', no space, CR, LF or NUL. */
bool ibx_irc_middle_valid(const char *s);

#pragma GCC visibility pop

#endif
