/* chatd's Redis client: RESP2, the protocol of Redis, as a pure codec
 * (resp.c: commands out, replies in, with bounds on everything a server
 * sends) and a connection on the project's event loop (rconn.c: a
 * non-blocking socket, a queue of commands waiting for their replies, and
 * the push messages of SUBSCRIBE). Why not hiredis (Debian's 0.14): its
 * asynchronous subscribe path asserts on the shape of what the server
 * sends (a hostile or broken Redis aborts the process), its reader sets
 * no bound on the elements of an array, and re-subscribing to a channel
 * while its unsubscription is in flight loses the channel's callback. A
 * small client of our own has none of that, and its parser is fuzzed
 * (fuzz/fuzz_chat_node.c) and unit-tested (tests/unit/test_chat_node.c,
 * test_resp.c). Replies are framed incrementally (struct resp_scan): a
 * server that trickles a big reply costs work linear in its bytes. */
#ifndef IPCBOX_APPS_CHATD_RESP_H
#define IPCBOX_APPS_CHATD_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcbox/buf.h"
#include "ipcbox/loop.h"
#include "ipcbox/net.h"

/* Bounds on a reply (a server that passes one is disconnected). */
#define RESP_DEPTH_MAX 4             /* arrays in arrays */
#define RESP_ELEMS_MAX (1u << 18)    /* elements of one array */
#define RESP_NODES_MAX (1u << 18)    /* values in one reply, nested ones too */
#define RESP_BULK_MAX (1u << 20)     /* bytes of one string */
#define RESP_REPLY_MAX ((size_t)16 << 20)   /* bytes of one reply */

enum resp_type {
    RESP_NIL = 0, RESP_STATUS = '+', RESP_ERROR = '-', RESP_INT = ':', RESP_STR = '$',
    RESP_ARRAY = '*',
};

/* One reply: a tree in one allocation (free the root with free()). */
struct resp {
    enum resp_type type;
    long long i;             /* RESP_INT */
    size_t n;                /* string bytes, or array elements */
    char *s;                 /* strings: NUL-terminated (may hold NULs) */
    struct resp *e;          /* RESP_ARRAY: n elements */
};

#define RESP_LINE_MAX ((size_t)64 << 10)   /* bytes of one line (+, -, headers) */

/* Where the framing of a reply stopped: resp_scan resumes there when more
 * bytes come, so every byte of a reply is looked at once in total, however
 * it is cut. Zero it before the first byte of each reply. */
struct resp_scan {
    size_t off;                 /* bytes framed: the value in progress starts here */
    size_t seen;                /* its header line: bytes after the type byte seen */
    size_t body;                /* > 0: a bulk string's bytes and CR LF, from off */
    long long num;              /* a numeric header: its value so far */
    bool neg;                   /* ... and its sign */
    unsigned depth;             /* arrays open */
    uint32_t left[RESP_DEPTH_MAX];   /* their elements still to come */
    size_t nodes, bytes;        /* values and string bytes (with NULs) so far */
    size_t examined;            /* bytes looked at, all calls together (a work count) */
};

/* Frame the reply that starts at p[0], of which n bytes have arrived: the
 * same reply each call (it may have moved), n never less than before. Every
 * bound above is enforced as soon as the bytes that pass it arrive (a bulk
 * header past RESP_BULK_MAX is refused before its body comes). Returns the
 * reply's bytes once it is complete (s then holds what resp_tree needs), 0
 * when more are needed, or -EPROTO (s is then spent). */
ssize_t resp_scan(struct resp_scan *s, const char *p, size_t n);

/* Build the tree of the reply resp_scan just framed (k bytes at p, s its
 * state). Returns 0 (*out set, one malloc) or -ENOMEM. */
int resp_tree(const struct resp_scan *s, const char *p, size_t k, struct resp **out);

/* Parse one reply from p[0..n) (resp_scan from zero, then resp_tree).
 * Returns the bytes it took (*out set, one malloc), 0 when more bytes are
 * needed, -EPROTO (not RESP, or past a bound above) or -ENOMEM. */
ssize_t resp_parse(const char *p, size_t n, struct resp **out);

/* Append the command argv[0..argc) (lens: byte counts, or NULL for C
 * strings) to out. Returns 0 or -ENOMEM. */
int resp_cmd(ibx_buf *out, int argc, const char *const *argv, const size_t *lens);

/* Is r a string (bulk or status) equal to s? */
bool resp_is(const struct resp *r, const char *s);

/* A Redis URL: redis://HOST[:PORT][/DB] (HOST a name, an IPv4 address or
 * [IPv6]; port 6379 by default; DB 0..15, 0 by default). Returns 0 or
 * -EINVAL. hostport gets "HOST:PORT" (cap bytes, at least 300). */
int resp_url(const char *url, char *hostport, size_t cap, unsigned *db);

/* ---- a connection (rconn.c) ------------------------------------------- */

struct rconn;
/* A command's reply (NULL: the connection closed before it came); r is
 * freed after the call. */
typedef void (*rconn_reply_cb)(struct rconn *rc, struct resp *r, void *arg);
/* A push message of a subscribed connection ("message", channel, data). */
typedef void (*rconn_push_cb)(struct rconn *rc, const struct resp *r, void *arg);
/* The connection is up (err = 0) or down (err: -errno, or -EPROTO). */
typedef void (*rconn_state_cb)(struct rconn *rc, int err, void *arg);

/* Bytes waiting to be written before commands are refused (-ENOBUFS). */
#define RCONN_OUT_MAX ((size_t)8 << 20)
/* Connect timeout, ms. */
#define RCONN_CONNECT_MS 5000

struct rconn_pend {
    rconn_reply_cb cb;
    void *arg;
};

struct rconn {
    ibx_loop *loop;
    ibx_io io;
    ibx_timer connect_t;
    ibx_buf in, out;
    struct resp_scan scan;      /* the reply at the head of in, framed so far */
    struct rconn_pend *pend;    /* ring of commands waiting for replies */
    size_t phead, pn, pcap;
    bool up;                    /* connected */
    bool subscribed;            /* pushes may come (after SUBSCRIBE) */
    bool forked;                /* in a fork child: fd closed, loop not ours */
    rconn_state_cb on_state;
    rconn_push_cb on_push;
    void *arg;
};

/* In a fork child: close rc's socket (the parent's conversation) without
 * touching the loop; rconn_close later frees the rest. */
void rconn_forked(struct rconn *rc);
/* Start connecting rc (zeroed, loop/on_state/on_push/arg set) to addr.
 * on_state reports the outcome. Returns 0 or -errno. */
int rconn_open(struct rconn *rc, const ibx_addr *addr);
/* Queue a command (reply to cb, which may be NULL). Returns 0, -ENOTCONN,
 * -ENOBUFS (past RCONN_OUT_MAX) or -ENOMEM. */
int rconn_cmd(struct rconn *rc, rconn_reply_cb cb, void *arg, int argc,
              const char *const *argv, const size_t *lens);
/* Close: every waiting command's callback gets NULL; on_state is not
 * called. Safe on a closed connection. */
void rconn_close(struct rconn *rc);

#endif
