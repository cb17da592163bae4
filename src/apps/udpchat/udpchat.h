/* ipcbox udpchat: serverless chat over UDP (one peer, the broadcast
 * addresses of the segment, or a multicast group), wire format in
 * ipcbox/udpchat.h.
 *
 * Files (one concept each):
 *   peers.c    the peer table, sequence windows, token buckets (pure)
 *   format.c   what the user sees of a peer's message or a notice (pure)
 *   net.c      the socket: bind, broadcast addresses, multicast groups, send
 *   chat.c     datagrams in, typed lines and presence out, /commands
 *   main.c     options, the event loop, input pacing, exit */
#ifndef IPCBOX_APPS_UDPCHAT_H
#define IPCBOX_APPS_UDPCHAT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcbox/loop.h"
#include "ipcbox/log.h"
#include "ipcbox/net.h"
#include "ipcbox/udpchat.h"
#include "opt.h"
#include "peers.h"

/* Most destinations (--to addresses, or interfaces under --broadcast). */
#define UC_DEST_MAX 32
/* Longest line shown (a 1024-byte text, nick, host, colours). */
#define UC_SHOW_MAX 2048
/* Longest typed line kept; a longer one is cut there. */
#define UC_LINE_MAX 4096

/* Where lines go. */
enum uc_mode {
    UC_UNICAST,      /* --to HOST:PORT (repeatable) */
    UC_BROADCAST,    /* --broadcast */
    UC_MULTICAST,    /* --multicast GROUP (the default, on IBX_UDPCHAT_GROUP4) */
};

/* The options. */
struct uc_cfg {
    const char *nick;
    unsigned port;
    struct opt_strv to;
    bool broadcast;
    bool limited;            /* --broadcast to 255.255.255.255 per interface */
    const char *group;
    const char *iface;
    const char *bind;
    unsigned ttl;
    unsigned presence_ms;
    unsigned rate;           /* datagrams/s accepted from one sender */
    unsigned send_rate;      /* datagrams/s we send at most */
    unsigned max_peers;
    bool verbose;
    bool no_color;
};

/* ---- format.c ------------------------------------------------------------ */

/* Copy the n bytes of a peer's text at src into dst (size bytes, always
 * NUL-terminated) fit for a terminal: what termtext.h masks (controls,
 * escapes, bidirectional overrides, malformed UTF-8, and NUL) becomes
 * '?'. Returns the length of dst. */
size_t uc_clean(char *dst, size_t size, const char *src, size_t n);

/* "nick@host" (both cleaned), the nick in colour when color (an SGR
 * parameter such as "32") is not NULL. Returns the length. */
size_t uc_format_who(char *out, size_t size, const char *nick, const char *host,
                     const char *color);

/* "nick@host: text", the line a peer's message shows as (text: n bytes,
 * cleaned). Returns the length. */
size_t uc_format_message(char *out, size_t size, const char *nick, const char *host,
                         const char *text, size_t n, const char *color);

/* ---- net.c --------------------------------------------------------------- */

/* One place datagrams go. */
struct uc_dest {
    ibx_addr addr;
    int ifindex;             /* sent out of this interface (0: routing decides) */
    char label[IBX_ADDRSTRLEN + IF_NAMESIZE + 4];
    int last_err;            /* last send's -errno (0 ok), for notices on change */
};

/* The socket and its destinations. */
struct uc_net {
    int fd;
    enum uc_mode mode;
    int family;
    uint16_t port;           /* destinations' port */
    ibx_addr local;          /* bound */
    ibx_addr group;          /* multicast */
    int ifindex;             /* --interface, or the one picked (0: none) */
    char ifname[IF_NAMESIZE];
    bool limited;
    struct uc_dest dest[UC_DEST_MAX];
    size_t ndest;
    bool usage;              /* uc_net_open failed on a usage mistake */
};

/* Open the socket for cfg's mode: bind, join the group, set the options,
 * compute the destinations. Returns 0, or -errno after writing the reason
 * to err (one line); a usage mistake (-EINVAL) also sets n->usage. */
int uc_net_open(struct uc_net *n, const struct uc_cfg *cfg, char *err, size_t errlen);
/* Broadcast: list the interfaces' broadcast addresses again (they come
 * and go). Returns how many there are. */
size_t uc_net_refresh(struct uc_net *n);
/* Send len bytes to every destination. The result of each send is left in
 * its last_err; returns how many sends failed. */
size_t uc_net_send(struct uc_net *n, const void *buf, size_t len);
/* May a datagram from ep be heard? In --to mode only from a --to
 * address and port; else from anywhere (a multicast socket is bound to
 * its group, so only the group's datagrams reach it). */
bool uc_net_accepts(const struct uc_net *n, const struct uc_ep *ep);
/* "multicast 239.255.67.67:6767 on eth0" and the like. */
void uc_net_describe(const struct uc_net *n, char *out, size_t size);
/* Close. */
void uc_net_close(struct uc_net *n);

/* ---- chat.c -------------------------------------------------------------- */

/* Counters (/stats, and the log line at exit). */
struct uc_stats {
    uint64_t received;       /* datagrams read */
    uint64_t shown;          /* messages shown */
    uint64_t own;            /* our own, looped back */
    uint64_t dup;            /* a sequence number already seen */
    uint64_t old;            /* older than the window, or after a leave */
    uint64_t jump;           /* more than UC_JUMP_MAX ahead of the window */
    uint64_t malformed;      /* refused by the decoder */
    uint64_t oversized;      /* over IBX_UDPCHAT_MAX bytes */
    uint64_t version;        /* another version */
    uint64_t foreign;        /* --to mode: from an address:port not on the list */
    uint64_t spoofed;        /* a sender id also heard from another address:port */
    uint64_t rate;           /* over a sender's rate, or the total rate */
    uint64_t evicted;        /* peers evicted by --max-peers */
    uint64_t expired;        /* peers that went silent */
    uint64_t sent;           /* datagrams sent (per destination) */
    uint64_t send_errors;
};

/* Where the chat's lines for the user go. */
typedef void (*uc_show_fn)(void *ctx, const char *line);

/* One chat session. */
struct uc_chat {
    const struct uc_cfg *cfg;
    struct uc_net *net;
    char nick[IBX_UDPCHAT_NICK_MAX + 1];
    uint64_t id;             /* our sender id */
    uint32_t seq;            /* last sequence number sent */
    uint64_t rng;            /* jitter of the presence schedule */
    struct uc_peers peers;
    struct uc_bucket all;    /* every sender together: 8 x --rate */
    struct uc_bucket pace;   /* our sending: --send-rate */
    struct uc_stats st;
    bool color;
    bool echo;               /* show our own messages (a terminal) */
    bool quitting;
    uc_show_fn show;
    void *show_ctx;
    const ibx_log *log;
    ibx_log_gate gate;       /* log lines about dropped datagrams */
};

/* Start: a random id, the peer table. Returns 0 or -errno. */
int uc_chat_init(struct uc_chat *c, const struct uc_cfg *cfg, struct uc_net *net,
                 const char *nick, uint64_t now_ms);
/* Free. */
void uc_chat_free(struct uc_chat *c);
/* A datagram of len bytes (the length it had, maybe more than was kept)
 * from src. */
void uc_chat_datagram(struct uc_chat *c, const void *buf, size_t len, size_t kept,
                      const struct sockaddr *src, socklen_t srclen, uint64_t now_ms);
/* A typed line (no newline): a message, or a /command. */
void uc_chat_input(struct uc_chat *c, const char *line, uint64_t now_ms);
/* Announce ourselves (the presence timer, and /nick). */
void uc_chat_presence(struct uc_chat *c, uint64_t now_ms);
/* Milliseconds until the next presence announcement (jittered). */
uint64_t uc_chat_presence_delay(struct uc_chat *c);
/* Say goodbye (leave, sent twice) once; sets quitting. */
void uc_chat_leave(struct uc_chat *c, uint64_t now_ms);
/* Expire silent peers (notices); returns ms until the next check. */
uint64_t uc_chat_sweep(struct uc_chat *c, uint64_t now_ms);
/* The counters as one line of logfmt fields ("received=3 shown=1 ..."). */
void uc_chat_stats_fields(const struct uc_chat *c, char *out, size_t size);

#endif
