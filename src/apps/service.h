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

/* One service. */
struct ibx_service_def {
    const char *name;            /* "echo" */
    const char *default_listen;  /* "127.0.0.1:7007" */
    const char *summary;         /* "RFC 862 echo, TCP and UDP" */
    /* Add listeners (ibx_server_listen) and units to srv for directory dir
     * (listen is the address text, never NULL). Store what fini must free
     * in *state. Returns 0 or -errno after logging why. */
    int (*init)(ibx_server *srv, const char *dir, const char *listen,
                const ibx_log *log, void **state);
    /* Free *state (may be NULL). */
    void (*fini)(void *state);
};

/* Every service definition (generated from the //service: lines). */
#define IBX_SERVICE(name) extern const struct ibx_service_def name##_service;
#include "services.gen.h"
#undef IBX_SERVICE

#endif
