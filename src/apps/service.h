/* Services: a server written once, run standalone or under `serve`.
 *
 * A service is one configuration struct, one option table (opt.h) and a
 * start function. The applet (`ipcbox httpd ...`), `serve` (as
 * --httpd-OPTION) and serve's configuration file ([httpd] section) all
 * fill the same struct through the same table and call the same start, so
 * an option means the same thing in all three.
 *
 * An applet that is a service has the lines
 *     //applet: NAME description
 *     //service: NAME
 * defines  const struct service NAME_service  and its main is
 *     int NAME_main(int argc, char **argv)
 *     { return service_main(&NAME_service, argc, argv); } */
#ifndef IPCBOX_APPS_SERVICE_H
#define IPCBOX_APPS_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/log.h"
#include "ipcbox/net.h"
#include "ipcbox/server.h"
#include "opt.h"

/* What a service's start gets: the server to add listeners and units to,
 * and where to listen. */
struct svc_env {
    ibx_server *srv;
    const ibx_log *log;
    const struct ibx_server_config *server;  /* the model, workers ... */
    const struct opt_strv *listen;   /* addresses asked for (n = 0: default) */
    const char *host;                /* host of the default address */
    const char *listen_flag;         /* "--listen" or "--httpd-listen" */
    const int *fds;                  /* socket-activated listeners */
    size_t nfds;
    bool quiet;                      /* --quiet: errors only */
    bool daemon;                     /* --daemon: stdout is /dev/null */
    bool shared_loop;                /* under serve: the loop is shared */
};

/* One service. */
struct service {
    const char *name;        /* "httpd" */
    const char *summary;     /* one line for serve --help */
    const char *synopsis;    /* "[options] [ROOT]" */
    const char *about;       /* the applet's --help paragraph */
    uint16_t port;           /* default port */
    size_t cfg_size;         /* size of the configuration struct */
    const struct opt *opts;  /* its rows (ending with OPT_TABLE_END) */
    /* Optional: the service's directory field (a `const char *` in the
     * struct, with a "dir" row): the applet's positional argument and
     * serve's DIR fill it when no option did. has_dir says it exists. */
    bool has_dir;
    size_t dir_off;
    /* Optional: defaults the table cannot express (descriptors = -1),
     * applied before the table's. */
    void (*defaults)(void *cfg);
    /* Open what the configuration names, listen, add units. Returns 0,
     * -EINVAL when the configuration is refused (exit 2; the reason was
     * logged), -EOPNOTSUPP when it cannot run under the server model
     * (exit 2 standalone; serve goes on without it), -EADDRINUSE when its
     * first address is busy and nothing was registered (serve goes on
     * without it), or another -errno after logging why (exit 1). */
    int (*start)(void *cfg, const struct svc_env *env);
    /* Free what start made (also after a failed or skipped start). */
    void (*stop)(void *cfg);
    /* Optional, standalone only: server defaults of the applet (recv's
     * connection cap), applied before the options. */
    void (*server_defaults)(struct ibx_server_config *srv);
    /* Optional, standalone only: the exit status after a clean run
     * (recv --once reports how its one transfer went). */
    int (*exit_status)(const void *cfg);
};

/* Every service (generated from the //service: lines). */
#define SERVICE(name) extern const struct service name##_service;
#include "services.gen.h"
#undef SERVICE

/* Options serve and the applet add to each service: where it listens. */
struct svc_where {
    struct opt_strv listen;
    bool enabled;            /* serve: --no-NAME / enabled = no */
};
/* The rows of struct svc_where ("listen" and, for serve, "enabled"). */
extern const struct opt svc_where_opts[];
extern const struct opt svc_where_serve_opts[];

/* Make a zeroed configuration of s with its defaults. Returns NULL on
 * ENOMEM. Free with service_cfg_free (which calls stop). */
void *service_cfg_new(const struct service *s);
/* Run s->stop and free cfg. */
void service_cfg_free(const struct service *s, void *cfg);

/* Resolve where a service listens: every address of every --listen (a
 * host name may give several), or HOST:PORT by default. socktype is
 * SOCK_STREAM or SOCK_DGRAM. Fills out[max]. Returns the count, or
 * -EINVAL (bad text, logged as a usage error), -EHOSTUNREACH (a name did
 * not resolve, logged) or -ENOSPC. */
int svc_addrs(const struct service *s, const struct svc_env *env, int socktype,
              ibx_addr *out, size_t max);
/* Can the server model run proto (a state machine, a coroutine handler)?
 * Returns 0, or -EOPNOTSUPP after one line naming --model (an error; a
 * warning under serve, which goes on without the service). svc_listen_tcp
 * checks it first; a service that registers anything before listening
 * calls it before. */
int svc_model_check(const struct service *s, const struct svc_env *env,
                    const struct ibx_proto *proto);
/* Give env->srv a TCP listener for proto at every address of the service
 * (or adopt the socket-activated ones). A busy port is logged with the
 * service name and the flag that moves it. Returns 0 or -errno. */
int svc_listen_tcp(const struct service *s, const struct svc_env *env,
                   const struct ibx_proto *proto, void *ctx);
/* The socket-activated descriptors of env of socktype (SOCK_STREAM:
 * listening ones), at most max, into out. Returns the count. */
size_t svc_fds(const struct svc_env *env, int socktype, int *out, size_t max);
/* How many TCP listeners env->srv has so far (the index the next one
 * gets in ibx_server_listener_addr). */
size_t svc_listener_count(const struct svc_env *env);
/* Most addresses one service listens on. */
#define SVC_ADDRS_MAX 16

/* Run one service as an applet (parse, start, run). Returns the exit
 * status. */
int service_main(const struct service *s, int argc, char **argv);

#endif
