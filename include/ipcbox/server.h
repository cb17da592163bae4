/* ipcbox server models, written once.
 *
 * A TCP protocol is a non-blocking state machine (struct ibx_proto) that is
 * handed each accepted connection on some worker's loop. The model decides
 * only which loop, in which process or thread, owns a connection. The
 * models are listed by ibx_model_at() (`ipcbox --list-models`), each with a
 * line of help (ibx_model_help) and its traits (ibx_model_traits); each is
 * one file of the library, src/lib/model_NAME.c. The default, "epoll", is
 * one loop for every listener and connection.
 *
 * Shutdown: SIGINT or SIGTERM stops accepting and asks every connection to
 * drain (finish in-flight work, then close); connections still open after
 * the grace period are aborted; ibx_server_run() then returns 0. A second
 * signal aborts everything at once. Children are reaped and threads joined
 * before ibx_server_run() returns.
 *
 * A connection embeds a struct ibx_conn and registers it with its worker;
 * it must call ibx_conn_done() once closed (usually from a deferred free).
 * Units (ibx_server_add_unit) let non-TCP services such as UDP servers run
 * on the main loop and be drained alongside. */
#ifndef IPCBOX_SERVER_H
#define IPCBOX_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "ipcbox/coro.h"
#include "ipcbox/log.h"
#include "ipcbox/loop.h"
#include "ipcbox/net.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* A server model: which loop owns each connection (see above). NULL
 * stands for the default model wherever a model is taken. */
typedef struct ibx_model ibx_model;

/* Traits of a model (ibx_model_traits), for callers that depend on how
 * connections are spread rather than on a model's name. */
enum {
    /* Every connection runs on the main loop of the calling process. */
    IBX_MODEL_ONE_LOOP = 1u << 0,
    /* One connection at a time: the next is accepted after it closes. */
    IBX_MODEL_SERIAL = 1u << 1,
    /* Connections are served on other threads of this process. */
    IBX_MODEL_THREADS = 1u << 2,
    /* Connections are served in child processes. */
    IBX_MODEL_PROCESSES = 1u << 3,
    /* A fresh thread or process, with a worker of its own, per connection. */
    IBX_MODEL_PER_CONN = 1u << 4,
    /* A fixed pool of `workers` loops, each accepting connections. */
    IBX_MODEL_POOL = 1u << 5,
    /* Each connection runs as a coroutine (struct ibx_proto.serve). */
    IBX_MODEL_COROUTINES = 1u << 6,
};

/* Find a model by name ("epoll" ...). Returns 0 or -EINVAL. */
int ibx_model_parse(const char *s, const ibx_model **out);
/* Name of a model (NULL: the default model's). */
const char *ibx_model_name(const ibx_model *m);
/* One line of help about a model (NULL: the default model). */
const char *ibx_model_help(const ibx_model *m);
/* IBX_MODEL_* trait bits of a model (NULL: the default model). */
unsigned ibx_model_traits(const ibx_model *m);
/* Name of the i-th model (i from 0), or NULL past the last one. */
const char *ibx_model_at(size_t i);
/* The most connections a model can hold at all, whatever the descriptor
 * limit (select: its fd_set stops at FD_SETSIZE), or 0 when only resources
 * bound it. ibx_server_new() refuses a max_conns above it with -ERANGE. */
unsigned ibx_model_max_conns(const ibx_model *m);

typedef struct ibx_server ibx_server;
typedef struct ibx_worker ibx_worker;
typedef struct ibx_conn ibx_conn;

/* How a worker asks a connection to finish. */
struct ibx_conn_ops {
    /* Graceful: stop taking new work, finish what is in flight, close. */
    void (*drain)(ibx_conn *c);
    /* Now: close at once (still via the usual deferred free). */
    void (*abort)(ibx_conn *c);
    /* Optional: in a fork/prefork child whose work is done, free what the
     * connection or unit holds without touching the loop (the loop and
     * its watchers are the parent's): close its descriptors (the parent
     * keeps its own), free its memory. Units of the main loop that a
     * child inherits need it, or the child leaks them at exit. */
    void (*release)(ibx_conn *c);
    /* Optional: in a fork/prefork child just forked, before it serves:
     * close the descriptors of conversations that are the parent's alone
     * (a unit's connection to another server, say), so the child does not
     * keep them open for its whole life; without touching the loop. */
    void (*forked)(ibx_conn *c);
};

/* Embedded in each protocol connection or unit; owned by its worker. */
struct ibx_conn {
    ibx_conn *prev, *next;
    const struct ibx_conn_ops *ops;
    ibx_worker *worker;
    bool is_unit;
};

/* A TCP protocol: a state machine (open), blocking-style code on a
 * coroutine (serve), or both. The coroutine model runs serve; every other
 * model runs open. */
struct ibx_proto {
    const char *name;
    /* The state machine (NULL if the protocol has none). Take ownership of connected non-blocking socket fd on worker w: set
     * up watchers on ibx_worker_loop(w) and ibx_conn_add() the connection.
     * On failure close fd and return -errno. ctx is the pointer given to
     * ibx_server_listen (shared by every worker: treat it as read-only, or
     * synchronise). */
    int (*open)(ibx_worker *w, int fd, const struct sockaddr *peer,
                socklen_t peerlen, void *ctx);
    /* For protocols whose client speaks first (HTTP): seconds the kernel
     * holds a new connection before handing it to accept() without data
     * (TCP_DEFER_ACCEPT). A connection then arrives with its request
     * already readable, saving a wake-up and a poll per connection. 0 =
     * accept at the handshake. */
    unsigned defer_accept_s;
    /* The coroutine handler (NULL if the protocol has none): serve the
     * connected non-blocking socket fd with blocking-style calls on co
     * (ibx_co_read, ibx_co_write ...: ipcbox/coro.h), then return. The fd
     * is the server's: it is closed after serve returns (use shutdown()
     * to end early, never close()). On shutdown co is cancelled: waits for
     * input end with -ECANCELED when the server drains, every wait once
     * it aborts; serve should then return. ctx is as for open. */
    void (*serve)(ibx_co *co, int fd, const struct sockaddr *peer,
                  socklen_t peerlen, void *ctx);
    /* Coroutine stack size for serve (0: IBX_CO_STACK_DEFAULT). */
    size_t stack_size;
};

/* True if the model m (NULL: the default) can run proto: the coroutine
 * model needs its serve handler, the others its open handler.
 * ibx_server_listen and ibx_server_adopt refuse the others (-EOPNOTSUPP). */
bool ibx_model_runs(const ibx_model *m, const struct ibx_proto *proto);

/* Server configuration. */
struct ibx_server_config {
    const ibx_model *model;  /* NULL = the default model (epoll) */
    unsigned workers;     /* prefork/threadpool/reuseport; 0 = CPU count */
    unsigned grace_ms;    /* drain time before aborting; 0 = abort at once */
    unsigned max_conns;   /* 0 = ibx_server_default_max_conns(model), taken
                           * when the server starts running; at the cap
                           * accepting pauses (logged, at most every 10 s) */
    int backlog;          /* listen backlog; 0 = 1024 */
    const ibx_log *log;   /* may be NULL */
    const char *ident;    /* name for log lines, e.g. "echo" */
};

/* The connection cap used when max_conns is 0: half the soft
 * RLIMIT_NOFILE (a quarter for the thread model, whose per-connection
 * loop holds two more descriptors), at least 8, and at most 256 for the
 * fork and thread models, where each connection costs a process or a
 * thread. */
unsigned ibx_server_default_max_conns(const ibx_model *model);

/* Create a server (no sockets yet). Returns 0 or -errno. */
int ibx_server_new(ibx_server **out, const struct ibx_server_config *cfg);
/* Free the server, closing its listeners. */
void ibx_server_free(ibx_server *srv);

/* Bind a TCP listener at addr for proto (ctx passed to proto->open).
 * Port 0 binds an ephemeral port (shared by every reuseport listener).
 * Logs "NAME: listening on ADDR (tcp, model M)". Returns 0, -EOPNOTSUPP
 * when the model cannot run proto (ibx_model_runs), or -errno. */
int ibx_server_listen(ibx_server *srv, const ibx_addr *addr,
                      const struct ibx_proto *proto, void *ctx);
/* Like ibx_server_listen for an already listening fd (socket activation).
 * The server takes ownership of fd (not on -EOPNOTSUPP). Returns 0 or
 * -errno. */
int ibx_server_adopt(ibx_server *srv, int fd, const struct ibx_proto *proto,
                     void *ctx);
/* Local address of the i-th listener (for port 0). Returns 0 or -ENOENT. */
int ibx_server_listener_addr(const ibx_server *srv, size_t i, ibx_addr *out);

/* A non-TCP service started on the main loop just before it runs (a UDP
 * server, say). start() sets up watchers and may ibx_conn_add() units that
 * are drained at shutdown like connections. Returns 0 or -errno. */
typedef int (*ibx_unit_start_fn)(ibx_worker *w, void *arg);
/* Register a unit starter. Returns 0 or -errno. */
int ibx_server_add_unit(ibx_server *srv, ibx_unit_start_fn start, void *arg);

/* Run cb on every loop that owns connections' process when signo (SIGHUP,
 * SIGUSR1, SIGUSR2) arrives: on the main loop, and in each fork/prefork
 * child (the parent forwards the signal). In thread models cb runs on the
 * main thread while workers run: make it thread-safe (to reopen a log,
 * open the new file and dup2() it over the old fd, which is atomic).
 * Register before ibx_server_run(). Returns 0 or -errno. */
int ibx_server_on_signal(ibx_server *srv, int signo, ibx_signal_cb cb,
                         void *data);

/* Run until shut down. Returns 0 after a clean shutdown, or -errno. It
 * also returns 0 in a fork/prefork child whose work is done: then
 * ibx_server_is_child() is true, and the caller frees what it owns and
 * exits 0 without further output. */
int ibx_server_run(ibx_server *srv);
/* True in a child process forked by the server (after ibx_server_run()
 * returned there). */
bool ibx_server_is_child(const ibx_server *srv);

/* Ask a running server to shut down, as SIGTERM would (from its own loop's
 * thread, or any thread: it only wakes the main loop). */
void ibx_server_shutdown(ibx_server *srv);

/* The loop of worker w. */
ibx_loop *ibx_worker_loop(ibx_worker *w);
/* The server's logger (may be NULL). */
const ibx_log *ibx_worker_log(const ibx_worker *w);
/* Per-worker data of a protocol (scratch buffers, caches): what
 * ibx_worker_set_data() stored under key on w, or NULL. Only w's own loop
 * thread may call it, so no lock is needed. In the thread and fork models
 * each connection has a worker of its own. */
void *ibx_worker_data(const ibx_worker *w, const void *key);
/* Store data under key on w, replacing an earlier value (whose fini is not
 * run). fini(data), if not NULL, runs when the worker ends: its thread or
 * process finishes, or the server is freed; by then every connection of
 * the worker is gone. Returns 0 or -ENOMEM. */
int ibx_worker_set_data(ibx_worker *w, const void *key, void *data,
                        void (*fini)(void *data));
/* True once the worker drains (new work should be refused politely). */
bool ibx_worker_draining(const ibx_worker *w);
/* Register a connection (or, with is_unit, a unit) with its worker. */
void ibx_conn_add(ibx_worker *w, ibx_conn *c, const struct ibx_conn_ops *ops,
                  bool is_unit);
/* Unregister a closed connection; may end the worker (fork/thread child,
 * shutdown) or resume accepting (iterative, max_conns). */
void ibx_conn_done(ibx_conn *c);

#pragma GCC visibility pop

#endif
