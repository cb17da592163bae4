/* Private to the server implementation: the shared part (server.c), the
 * thread and process helpers (server_thread.c, server_proc.c) and the
 * models (model_*.c, listed in model_list.h). */
#ifndef IPCBOX_SERVER_INT_H
#define IPCBOX_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "ipcbox/server.h"

struct listener {
    int fd;
    const struct ibx_proto *proto;
    void *ctx;
    ibx_addr addr;       /* bound address (reuseport workers bind it again) */
};

struct sig_hook {
    int signo;
    ibx_signal_cb cb;
    void *data;
};

struct unit_start {
    ibx_unit_start_fn fn;
    void *arg;
};

/* A server model: one file each, model_NAME.c, defining
 * `const struct ibx_model ibx__model_NAME` and listed by one line in
 * model_list.h. The shared code in server.c asks the model through these
 * fields and its traits only, never by its name. */
struct ibx_model {
    const char *name;
    const char *help;        /* one line for --help and docs */
    unsigned traits;         /* IBX_MODEL_* bits (ipcbox/server.h) */
    int listen_flags;        /* extra ibx_tcp_listen() flags for listeners */
    const char *backend;     /* the main loop's readiness backend ("poll"),
                              * NULL: the best (loop_backend.h) */
    /* The default connection cap (ibx_server_default_max_conns) is the
     * soft RLIMIT_NOFILE divided by nofile_share, at least 8, and at most
     * max_conns_ceiling if that is not 0. */
    unsigned nofile_share;
    unsigned max_conns_ceiling;
    /* More connections than this cannot work at all (0: no such bound):
     * ibx_server_new() refuses a larger cfg.max_conns. */
    unsigned max_conns_limit;
    /* Start serving, once the main loop is set up and the units started:
     * spawn the workers that accept, or NULL to accept on the main loop.
     * Returns 0 or -errno. A forked child that has done its work returns
     * 0 with srv->is_child set. */
    int (*start)(ibx_server *srv);
    /* Serve connected socket fd, accepted from listener l by worker w:
     * hand it to another thread or process (fd is always consumed), or
     * NULL to open it on w itself. Returns 0 or -errno; a forked child
     * that has done its work returns 0 with srv->is_child set. */
    int (*accept)(ibx_server *srv, ibx_worker *w, int fd,
                  const struct listener *l,
                  const struct sockaddr_storage *peer, socklen_t plen);
    /* Children were reaped while the server is not stopping: replace them
     * (a pool), or NULL. Returns as start. */
    int (*child_exited)(ibx_server *srv);
};

/* Commands the main thread posts to a thread worker. */
enum { CMD_NONE, CMD_DRAIN, CMD_ABORT };

struct ibx_worker {
    ibx_server *srv;
    ibx_loop *loop;
    ibx_io *lio;          /* one watcher per listener */
    int *lfd;             /* listener fds this worker accepts on */
    bool own_lfd;         /* reuseport: lfd[] are this worker's */
    bool shared_lfd;      /* other loops accept on lfd[] too */
    bool listening;
    ibx_conn head;        /* circular list of conns and units */
    size_t nconns, nunits;
    size_t cap;           /* max conns on this worker, 0 = none */
    bool draining;
    bool single;          /* fork/thread child: ends with its connection */
    ibx_timer grace;
    int spare;            /* EMFILE spare fd, -errno when none */
    ibx_timer accept_pause;    /* out of descriptors: accepting resumes */
    uint64_t cap_logged_ms;    /* last "connection limit" log line */
    uint64_t accept_logged_ms; /* last accept error log line */
    uint64_t serve_logged_ms;  /* last "cannot serve a connection" line */
    /* thread workers */
    pthread_t tid;
    bool is_thread;
    atomic_int cmd;
    atomic_bool finished;
    int conn_fd;          /* thread model: the connection to open */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    const struct listener *from;
    ibx_worker *next;     /* server's thread list */
    struct wslot {        /* ibx_worker_set_data */
        const void *key;
        void *data;
        void (*fini)(void *data);
    } *slots;
    size_t nslots;
};

struct ibx_server {
    struct ibx_server_config cfg;
    struct listener *ls;
    size_t nls;
    struct unit_start *units;
    size_t nunits;
    struct sig_hook hooks[4];
    size_t nhooks;
    ibx_worker main;
    bool stopping;        /* first signal seen */
    bool aborting;        /* second signal / grace over */
    bool done;            /* the main loop may end */
    ibx_timer kill_timer; /* process models: SIGKILL backstop */
    /* process models */
    pid_t *kids;
    size_t nkids, capkids;
    bool is_child;
    /* thread models */
    ibx_worker *threads;
    size_t nthreads;
};

/* server_model.c: the model of a configuration (never NULL). */
const struct ibx_model *ibx__model_of(const ibx_model *m);

/* server.c */
/* Set up w (zeroed) on loop for srv: accepting on the server's listeners
 * by default. Returns 0 or -errno (w is then finalised). */
int ibx__worker_init(ibx_worker *w, ibx_server *srv, ibx_loop *loop);
/* Run the per-worker data finalisers, close what w owns, free its arrays. */
void ibx__worker_fini(ibx_worker *w);
/* Start accepting on w's listeners (no-op while listening or draining).
 * Returns 0 or -errno. */
int ibx__worker_listen(ibx_worker *w);
/* Ask every connection of w to finish, then abort after the grace. */
void ibx__worker_drain(ibx_worker *w);
/* Abort every connection of w now. */
void ibx__worker_abort(ibx_worker *w);
/* Deliver the registered signal hooks on loop; with forward, pass them on
 * to the children too. Returns 0 or -errno. */
int ibx__hooks_register(ibx_server *srv, ibx_loop *loop, bool forward);
/* Apply the protocol's socket options to a listening fd (best effort). */
void ibx__listener_tune(int fd, const struct ibx_proto *proto);

/* server_thread.c: workers on threads of their own. */
/* Serve fd on a new thread with a loop of its own, which ends with the
 * connection (the thread model). fd is consumed. Returns 0 or -errno. */
int ibx__thread_spawn_conn(ibx_server *srv, int fd, const struct listener *l,
                           const struct sockaddr_storage *peer, socklen_t plen);
/* Start srv->cfg.workers threads, each a loop accepting on the server's
 * listeners (shared_lfd) unless prepare(srv, w, i), if not NULL, arranges
 * otherwise for the i-th one. Returns 0 or -errno. */
int ibx__threads_start_pool(ibx_server *srv,
                            int (*prepare)(ibx_server *srv, ibx_worker *w,
                                           unsigned i));
/* Post CMD_DRAIN or CMD_ABORT to every thread worker (never downgrades). */
void ibx__threads_command(ibx_server *srv, int cmd);
/* Join and free the finished thread workers (all of them with wait_all). */
void ibx__threads_reap(ibx_server *srv, bool wait_all);

/* server_proc.c: workers in child processes. */
/* Fork a child that serves on a fresh loop until done: connection fd
 * alone when fd >= 0 (consumed in both processes), else the shared
 * listeners. In the parent returns 0 or -errno; in the child, once done,
 * returns 0 with srv->is_child set. */
int ibx__kid_fork(ibx_server *srv, int fd, const struct listener *l,
                  const struct sockaddr_storage *peer, socklen_t plen);
/* Send sig to every child. */
void ibx__kids_signal(ibx_server *srv, int sig);
/* Reap the children that ended, logging abnormal ends. */
void ibx__kids_reap(ibx_server *srv);

#endif
