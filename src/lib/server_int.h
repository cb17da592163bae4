/* Private to the server implementation (server.c, server_models.c). */
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

/* Commands the main thread posts to a thread worker. */
enum { CMD_NONE, CMD_DRAIN, CMD_ABORT };

struct ibx_worker {
    ibx_server *srv;
    ibx_loop *loop;
    ibx_io *lio;          /* one watcher per listener */
    int *lfd;             /* listener fds this worker accepts on */
    bool own_lfd;         /* reuseport: lfd[] are this worker's */
    bool listening;
    ibx_conn head;        /* circular list of conns and units */
    size_t nconns, nunits;
    size_t cap;           /* max conns on this worker, 0 = none */
    bool draining;
    bool single;          /* fork/thread child: ends with its connection */
    ibx_timer grace;
    int spare;            /* EMFILE spare fd */
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

/* server.c */
int worker_init(ibx_worker *w, ibx_server *srv, ibx_loop *loop);
void worker_fini(ibx_worker *w);
int worker_listen(ibx_worker *w);
void worker_unlisten(ibx_worker *w);
void worker_drain(ibx_worker *w);
void worker_abort(ibx_worker *w);
void server_check_done(ibx_server *srv);
int hooks_register(ibx_server *srv, ibx_loop *loop, bool forward);

/* server_models.c */
int threads_start_pool(ibx_server *srv);
/* Apply the protocol's socket options to a listening fd (best effort). */
void listener_tune(int fd, const struct ibx_proto *proto);
int thread_spawn_conn(ibx_server *srv, int fd, const struct listener *l,
                      const struct sockaddr_storage *peer, socklen_t plen);
void threads_command(ibx_server *srv, int cmd);
void threads_reap(ibx_server *srv, bool wait_all);
int fork_conn(ibx_server *srv, int fd, const struct listener *l,
              const struct sockaddr_storage *peer, socklen_t plen);
int prefork_spawn(ibx_server *srv);
void kids_signal(ibx_server *srv, int sig);
void kids_reap(ibx_server *srv);

#endif
