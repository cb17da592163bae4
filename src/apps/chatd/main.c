/* ipcbox chatd: the applet, its options, and its registration as a
 * `serve` service. See chatd.h for the parts. */
//applet: chatd chat server for plain-line (nc) users and IRC clients in the same rooms
//service: chatd
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatd.h"
#include "cli.h"
#include "service.h"

struct chatd_svc {
    struct chat_cfg cfg;
    struct chat_srv *srv;
    struct chat_trim trim;
};

static const struct opt chatd_opts[] = {
    OPT_S(struct chatd_svc, cfg.password, "password", "TEXT",
          "clients must give this password to register: IRC clients with PASS, plain users when asked \"password? \" after their nickname"),
    OPT_S(struct chatd_svc, cfg.motd_path, "motd", "FILE", "message of the day, shown after registration"),
    {.name = "room", .type = OPT_T_STR, OPT_FIELD_(struct chatd_svc, cfg.default_room),
     .arg = "ROOM", .def = "#lobby",
     .help = "the room plain users join first (empty: none)"},
    OPT_U(struct chatd_svc, cfg.history, "history", "N", "50", 0, 10000,
          "lines of each room replayed, with their times, to whoever joins (0: none)"),
    OPT_U(struct chatd_svc, cfg.flood_burst, "flood-burst", "N", "20", 0, 100000,
          "lines a client may send at once before flood control delays it (0: no flood "
          "control)"),
    OPT_U(struct chatd_svc, cfg.flood_rate, "flood-rate", "N", "5", 0, 100000,
          "lines a second a client may send after its burst (0: no flood control); a "
          "client whose delayed input passes 8 KiB is disconnected"),
    OPT_Z(struct chatd_svc, cfg.sendq, "sendq", "256k", 1024, (uint64_t)1 << 30,
          "bytes queued for a client that does not read before it is disconnected "
          "(ERROR :SendQ exceeded)"),
    OPT_Z(struct chatd_svc, cfg.sendq_bulk, "sendq-bulk", "4m", 64 * 1024, (uint64_t)1 << 30,
          "the same bound for bulk replies (a room's member list, WHO, LIST), counted "
          "apart so that asking about a big room does not cost a client its connection"),
    OPT_U(struct chatd_svc, cfg.nick_len, "nick-len", "N", "30", 1, CHATD_NICK_MAX, "longest nickname"),
    OPT_U(struct chatd_svc, cfg.room_len, "room-len", "N", "50", 2, 200, "longest room name, '#' included"),
    OPT_U(struct chatd_svc, cfg.topic_len, "topic-len", "N", "300", 0, 390, "longest topic (longer ones are cut)"),
    OPT_U(struct chatd_svc, cfg.max_rooms, "max-rooms", "N", "20", 1, 10000, "rooms one client may be in"),
    OPT_U(struct chatd_svc, cfg.max_rooms_total, "max-rooms-total", "N", "10000", 0, 10000000,
          "rooms on the server (0: no limit); joining a new room past it is refused"),
    OPT_Z(struct chatd_svc, cfg.history_bytes, "history-bytes", "16m", 0, (uint64_t)1 << 40,
          "text of the history of all rooms together (0: no limit); past it the "
          "server's oldest lines go"),
    OPT_U(struct chatd_svc, cfg.max_per_addr, "max-per-addr", "N", "64", 0, 1000000,
          "connections from one address (0: no limit)"),
    OPT_U(struct chatd_svc, cfg.max_clients, "max-clients", "N", "10000", 0, 10000000,
          "connections in all (0: no limit but the server's connection cap)"),
    OPT_SEC(struct chatd_svc, cfg.reg_timeout_ms, "reg-timeout", "30", 1, 3600,
            "close connections that have not registered (IRC) or given a nickname "
            "(plain) this long"),
    OPT_SEC(struct chatd_svc, cfg.ping_ms, "ping", "120", 0, 86400,
            "PING IRC clients silent this long; close them after as long again without an "
            "answer (0: never)"),
    OPT_SEC(struct chatd_svc, cfg.idle_ms, "idle", "0", 0, 864000,
            "close any client silent this long (0: never)"),
    OPT_S(struct chatd_svc, cfg.redis, "redis", "URL",
          "run as one node of several that share their rooms, nicks, topics and history "
          "over Redis at redis://HOST[:PORT][/DB] (default: a server on its own)"),
    OPT_SEC(struct chatd_svc, cfg.redis_ttl_ms, "redis-ttl", "15", 1, 3600,
            "a node that has not refreshed its keys in Redis this long is taken for "
            "dead: its members quit on the other nodes, its nicks are free"),
    OPT_U(struct chatd_svc, cfg.redis_queue, "redis-queue", "N", "1000", 0, 1000000,
          "cross-node lines kept while Redis is away; past it they are dropped "
          "(counted and logged)"),
    OPT_TABLE_END,
};

static void free_room(void *val, void *arg)
{
    room_free(val);
}

static void chatd_stop(void *p)
{
    struct chatd_svc *cs = p;
    if (cs->srv) {
        node_free(cs->srv);
        hub_free(cs->srv->hub);
        map_each(&cs->srv->rooms, free_room, NULL);
        map_free(&cs->srv->rooms);
        map_free(&cs->srv->nicks);
        map_free(&cs->srv->addrs);
        free(cs->srv);
        cs->srv = NULL;
    }
    free(cs->cfg.motd);
    cs->cfg.motd = NULL;
}

/* Read the MOTD file (at most 16 KiB). Returns 0 or -errno after logging. */
static int load_motd(struct chat_cfg *cfg, const ibx_log *log)
{
    FILE *f = fopen(cfg->motd_path, "r");
    if (!f) {
        int e = errno;
        ibx_err(log, "msg=\"cannot read the MOTD\" path=%s reason=%s", cfg->motd_path,
                strerror(e));
        return -EINVAL;
    }
    char *m = malloc(16385);
    size_t n = m ? fread(m, 1, 16384, f) : 0;
    fclose(f);
    if (!m)
        return -ENOMEM;
    m[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (m[i] == '\r' || m[i] == '\t')
            m[i] = ' ';
    cfg->motd = m;
    return 0;
}

static int chatd_start(void *p, const struct svc_env *env)
{
    struct chatd_svc *cs = p;
    struct chat_cfg *cfg = &cs->cfg;
    const ibx_model *model = env->server->model;
    unsigned traits = ibx_model_traits(model);
    if (traits & IBX_MODEL_SERIAL) {
        ibx_log_write(env->log, env->shared_loop ? IBX_LOG_WARN : IBX_LOG_ERROR,
                      "msg=\"chatd cannot run under the %s model: it serves one client at "
                      "a time, and a chat room needs several%s\" flag=--model",
                      ibx_model_name(model), env->shared_loop ? "; serve goes on without it"
                                                              : "");
        return -EOPNOTSUPP;
    }
    int mr = svc_model_check(&chatd_service, env, &chatd_proto);   /* coroutine */
    if (mr < 0)
        return mr;
    if (cfg->default_room && *cfg->default_room &&
        !ibx_irc_channel_valid(cfg->default_room, cfg->room_len)) {
        ibx_err(env->log, "msg=\"--room wants a room name like #lobby of at most %u bytes\" "
                "room=%s", cfg->room_len, cfg->default_room);
        return -EINVAL;
    }
    if (cfg->password && (!*cfg->password || !ibx_irc_middle_valid(cfg->password))) {
        ibx_err(env->log, "msg=\"--password wants one word\"");
        return -EINVAL;
    }
    if (cfg->motd_path) {
        int r = load_motd(cfg, env->log);
        if (r < 0)
            return r;
    }
    cs->srv = calloc(1, sizeof *cs->srv);
    if (!cs->srv)
        return -ENOMEM;
    cs->srv->cfg = cfg;
    cs->srv->log = ibx_log_as(env->log, "chatd", &cs->srv->log_as);
    cs->srv->started = time(NULL);
    ibx_log_gate_init(&cs->srv->refuse_gate, 5, 1000);
    ibx_log_gate_init(&cs->srv->quit_gate, 50, 1000);
    ibx_log_gate_init(&cs->srv->rooms_gate, 1, 1000);
    ibx_log_gate_init(&cs->srv->hist_gate, 1, 60000);
    if (!(traits & IBX_MODEL_ONE_LOOP)) {   /* the core and its edges: hub.c */
        int r = hub_new(cs->srv, traits, &cs->srv->hub);
        if (!r)
            r = hub_add_unit(cs->srv->hub, env->srv);
        if (r < 0) {
            ibx_err(env->log, "msg=\"cannot set up the chat hub\" reason=%s", strerror(-r));
            return r;
        }
    }
    int tr = trim_add_unit(&cs->trim, env->srv);
    if (tr < 0)
        return tr;
    if (cfg->redis) {
        int r = node_start(cs->srv, env->srv);
        if (r < 0)
            return r;
    }
    return svc_listen_tcp(&chatd_service, env, &chatd_proto, cs->srv);
}

const struct service chatd_service = {
    .name = "chatd",
    .summary = "chat rooms for plain-line users (nc) and IRC clients",
    .synopsis = "[options]",
    .about = "Chat server (default 127.0.0.1:6667). Plain-line users (nc, telnet) and IRC "
             "clients share its rooms; the first line a client sends decides its dialect "
             "(NICK, USER, PASS or CAP: IRC). A client silent for half a second gets the "
             "plain prompt \"nickname? \". Plain users then type lines to their room, and "
             "/help lists their commands. Runs under every model but iterative: under the "
             "threaded and process models the workers do the sockets and one core on the "
             "main loop the chat.",
    .port = CHATD_PORT,
    .cfg_size = sizeof(struct chatd_svc),
    .opts = chatd_opts,
    .start = chatd_start,
    .stop = chatd_stop,
};

int chatd_main(int argc, char **argv)
{
    return service_main(&chatd_service, argc, argv);
}
