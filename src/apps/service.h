/* Services that `ipcbox serve` hosts on one loop.
 *
 * An applet that is also a service adds a line
 *     //service: NAME
 * and defines  const struct ibx_service_def NAME_service.  serve gives
 * every service the same directory and turns one off with --no-NAME. */
#ifndef IPCBOX_APPS_SERVICE_H
#define IPCBOX_APPS_SERVICE_H

#include "ipcbox/log.h"
#include "ipcbox/server.h"

/* A flag of one service that serve offers as --NAME-FLAG. */
struct ibx_service_flag {
    const char *name;            /* "token-file": serve takes --recv-token-file */
    const char *arg;             /* argument name for the help ("FILE"), or NULL
                                  * for a flag without argument */
    const char *help;            /* one line for serve --help */
};

/* Most flags one service may add to serve. */
#define IBX_SERVICE_FLAGS_MAX 8

/* One service. */
struct ibx_service_def {
    const char *name;            /* "echo" */
    const char *default_listen;  /* "127.0.0.1:7007" */
    const char *summary;         /* "RFC 862 echo, TCP and UDP" */
    /* Add listeners (ibx_server_listen) and units to srv for directory dir
     * (listen is the address text, never NULL). Store what fini must free
     * in *state (which set_flag may already have filled). Returns 0 or
     * -errno after logging why; -EPERM means the configuration is refused
     * (serve exits 2, bad usage). */
    int (*init)(ibx_server *srv, const char *dir, const char *listen,
                const ibx_log *log, void **state);
    /* Optional: the service's own flags (ending with a {NULL} entry, at
     * most IBX_SERVICE_FLAGS_MAX) and their setter, called while serve
     * parses its command line, before init, with the same state pointer
     * init then gets (the service may allocate *state here). arg is NULL
     * for a flag without argument. Returns 0, or -1 after printing a
     * usage error. */
    const struct ibx_service_flag *flags;
    int (*set_flag)(void **state, int index, const char *arg);
    /* Free *state (may be NULL). */
    void (*fini)(void *state);
};

/* Every service definition (generated from the //service: lines). */
#define IBX_SERVICE(name) extern const struct ibx_service_def name##_service;
#include "services.gen.h"
#undef IBX_SERVICE

#endif
