/* chatd nodes over Redis: the connections (see node.h for the keys).
 *
 * Two connections, one for commands and one subscribed to the channels.
 * Both up is "up"; when either fails both are closed and the node tries
 * again after a backoff (NODE_RETRY_MS doubling to NODE_RETRY_MAX_MS).
 * Local rooms never wait for Redis: what a member says reaches the
 * node's own members at once, and the publication for the others waits
 * in a bounded queue (--redis-queue) while Redis is away; past the bound
 * new ones are dropped, counted and logged once per outage.
 *
 * Nothing twice: every publication carries the node id and a number that
 * grows by one; a node skips its own, and any number it has seen from
 * that node already. A publication stays queued until Redis acknowledges
 * it, so one sent when the connection broke is sent again after the
 * reconnect, and the numbers drop it if it had arrived after all.
 *
 * Members hear of an outage once ("cross-node delivery paused") and of
 * the return once ("... is back"), whatever the reconnect attempts in
 * between. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "node.h"

static void connect_now(struct node *n);
static void on_retry(ibx_loop *loop, ibx_timer *t);

const char *node_key(char *buf, size_t cap, const char *kind, const char *name)
{
    snprintf(buf, cap, NODE_PREFIX "%s:%s", kind, name);
    return buf;
}

static uint64_t now_ms(const struct node *n) { return ibx_loop_now(n->loop); }

/* ---- notices to every local member ------------------------------------ */

static void tell_one(void *val, void *arg)
{
    struct conn *c = val;
    if (c->registered && !c->dead)
        conn_notice(c, "%s", (const char *)arg);
}

static void tell_all(struct node *n, const char *text)
{
    map_each(&n->s->nicks, tell_one, (void *)text);
}

/* ---- publications ------------------------------------------------------ */

static void on_published(struct rconn *rc, struct resp *r, void *arg)
{
    struct node *n = arg;
    if (!r || !n->inflight || !n->qhead)
        return;   /* the connection broke: it stays queued, sent again */
    struct npub *p = n->qhead;
    n->qhead = p->next;
    if (!n->qhead)
        n->qtail = NULL;
    n->qn--;
    n->inflight--;
    free(p);
}

static int send_pub(struct node *n, struct npub *p)
{
    const char *argv[] = {"PUBLISH", p->data, p->data + p->clen};
    size_t lens[] = {7, p->clen, p->plen};
    return rconn_cmd(&n->cmd, on_published, n, 3, argv, lens);
}

void node_publish(struct node *n, const char *channel, const char *payload, size_t len)
{
    if (n->qn >= n->s->cfg->redis_queue) {
        n->dropped++;
        if (!n->drop_logged) {
            n->drop_logged = true;
            ibx_warn(n->s->log, "msg=\"redis publication queue full: cross-node lines "
                     "dropped until Redis is back\" queue=%zu flag=--redis-queue", n->qn);
        }
        return;
    }
    size_t cl = strlen(channel);
    struct npub *p = malloc(sizeof *p + cl + len);
    if (!p)
        return;
    p->next = NULL;
    p->clen = cl;
    p->plen = len;
    memcpy(p->data, channel, cl);
    memcpy(p->data + cl, payload, len);
    if (n->qtail)
        n->qtail->next = p;
    else
        n->qhead = p;
    n->qtail = p;
    n->qn++;
    if (n->state == NODE_UP && n->settled && n->inflight == n->qn - 1 && send_pub(n, p) == 0)
        n->inflight++;
}

void node_sender(struct wire_ev *w, const struct conn *c, const char *nick)
{
    snprintf(w->nick, sizeof w->nick, "%s", nick ? nick : c->nick);
    snprintf(w->user, sizeof w->user, "%s", c->user);
    snprintf(w->host, sizeof w->host, "%s", c->host);
}

void node_publish_ev(struct node *n, const char *channel, struct wire_ev *w)
{
    char buf[WIRE_EVENT_MAX + 1];
    w->origin = n->id;
    w->seq = ++n->seq;
    int len = wire_event_encode(buf, sizeof buf, w);
    if (len > 0)
        node_publish(n, channel, buf, (size_t)len);
}

int node_cmd(struct node *n, rconn_reply_cb cb, void *arg, int argc, const char *const *argv,
             const size_t *lens)
{
    if (n->state != NODE_UP)
        return -ENOTCONN;
    return rconn_cmd(&n->cmd, cb, arg, argc, argv, lens);
}

/* Send what waits (after a reconnect: the unacknowledged ones first). */
static void send_queue(struct node *n)
{
    struct npub *p = n->qhead;
    for (size_t i = 0; i < n->inflight && p; i++)
        p = p->next;
    for (; p; p = p->next) {
        if (send_pub(n, p) < 0)
            break;
        n->inflight++;
    }
}

/* ---- messages ----------------------------------------------------------- */

static void on_push(struct rconn *rc, const struct resp *r, void *arg)
{
    struct node *n = arg;
    if (r->n == 3 && resp_is(&r->e[0], "message") && r->e[1].type == RESP_STR &&
        r->e[2].type == RESP_STR)
        node_on_message(n, r->e[1].s, r->e[1].n, r->e[2].s, r->e[2].n);
    else if (r->n == 3 && resp_is(&r->e[0], "subscribe") && r->e[1].type == RESP_STR)
        node_on_message(n, r->e[1].s, r->e[1].n, NULL, 0);   /* subscribed: sync */
}

/* ---- the alive key ------------------------------------------------------- */

static void on_settle(ibx_loop *loop, ibx_timer *t);

static void on_alive(ibx_loop *loop, ibx_timer *t)
{
    struct node *n = t->data;
    unsigned ttl = n->s->cfg->redis_ttl_ms;
    if (n->state == NODE_UP) {
        char key[64], px[24];
        snprintf(px, sizeof px, "%u", ttl);
        const char *argv[] = {"SET", node_key(key, sizeof key, "alive", n->hex), "1", "PX", px};
        node_cmd(n, NULL, NULL, 5, argv, NULL);
        node_nicks_renew(n);
        /* a node that just came back waits until the others had time to
         * come back too before it judges them */
        if (now_ms(n) - n->up_since >= (uint64_t)ttl + 2 * NODE_RETRY_MAX_MS)
            node_check_nodes(n);
    }
    ibx_timer_start(loop, t, ttl / 3 ? ttl / 3 : 1, on_alive, n);
}

/* ---- connecting --------------------------------------------------------- */

static void go_down(struct node *n, int err)
{
    bool was_up = n->state == NODE_UP;
    n->state = NODE_DOWN;
    n->settled = false;
    n->inflight = 0;
    ibx_timer_stop(n->loop, &n->settle_t);
    rconn_close(&n->cmd);
    rconn_close(&n->sub);
    ibx_timer_stop(n->loop, &n->resync_t);
    if (n->stopping)
        return;
    if (was_up) {
        ibx_warn(n->s->log, "msg=\"redis connection lost: cross-node delivery paused, "
                 "reconnecting\" url=%s reason=\"%s\"", n->s->cfg->redis, strerror(-err));
        if (!n->paused) {
            n->paused = true;
            tell_all(n, "cross-node delivery paused (the Redis backplane is unreachable); "
                        "this server's rooms keep working");
        }
        n->retry_ms = NODE_RETRY_MS;
    } else if (!n->fail_logged) {
        n->fail_logged = true;
        ibx_warn(n->s->log, "msg=\"cannot connect to redis, retrying\" url=%s reason=\"%s\"",
                 n->s->cfg->redis, strerror(-err));
    }
    ibx_timer_start(n->loop, &n->retry_t, n->retry_ms, on_retry, n);
    n->retry_ms = n->retry_ms * 2 > NODE_RETRY_MAX_MS ? NODE_RETRY_MAX_MS : n->retry_ms * 2;
}

static void on_resync(ibx_loop *loop, ibx_timer *t) { node_rooms_resync(t->data); }

static void on_selected(struct rconn *rc, struct resp *r, void *arg)
{
    struct node *n = arg;
    if (r && r->type == RESP_ERROR)
        ibx_warn(n->s->log, "msg=\"redis refused SELECT\" url=%s reply=\"%.100s\"",
                 n->s->cfg->redis, r->s);
}

/* Publications flow again. */
static void on_settle(ibx_loop *loop, ibx_timer *t)
{
    struct node *n = t->data;
    n->settled = true;
    send_queue(n);
    /* one "queue full" line per outage: the queue stays full until here
     * (the presence published on the reconnect may find it full too) */
    n->drop_logged = false;
    if (n->dropped) {
        ibx_warn(n->s->log, "msg=\"cross-node lines dropped while redis was away\" "
                 "dropped=%lu flag=--redis-queue", n->dropped);
        n->dropped = 0;
    }
    if (n->paused) {
        n->paused = false;
        tell_all(n, "cross-node delivery is back");
    }
}

/* Both connections are up: subscribe, announce, sync, send the queue. */
static void came_up(struct node *n)
{
    n->state = NODE_UP;
    n->up_since = now_ms(n);
    n->fail_logged = false;
    n->retry_ms = NODE_RETRY_MS;
    ibx_info(n->s->log, "msg=\"redis %s\" url=%s node=%s", n->ever_up ? "reconnected"
             : "connected", n->s->cfg->redis, n->hex);
    n->ever_up = true;
    if (n->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", n->db);
        const char *argv[] = {"SELECT", db};
        rconn_cmd(&n->cmd, on_selected, n, 2, argv, NULL);
    }
    char ch[64];
    const char *argv[] = {"SUBSCRIBE", node_key(ch, sizeof ch, "node", n->hex)};
    rconn_cmd(&n->sub, NULL, NULL, 2, argv, NULL);
    on_alive(n->loop, &n->alive_t);   /* the alive key at once */
    node_rooms_up(n);
    /* after an outage the other nodes need time to subscribe again, or
     * what waited for Redis would reach nobody: the queue waits that long */
    if (n->paused)
        ibx_timer_start(n->loop, &n->settle_t, NODE_SETTLE_MS, on_settle, n);
    else
        on_settle(n->loop, &n->settle_t);
    ibx_timer_start(n->loop, &n->resync_t,
                    (uint64_t)n->s->cfg->redis_ttl_ms + 2 * NODE_RETRY_MAX_MS, on_resync, n);
}

static void on_state(struct rconn *rc, int err, void *arg)
{
    struct node *n = arg;
    if (err < 0) {
        go_down(n, err);
        return;
    }
    if (n->state == NODE_CONNECTING && n->cmd.up && n->sub.up)
        came_up(n);
}

static void connect_now(struct node *n)
{
    if (n->stopping)
        return;
    n->state = NODE_CONNECTING;
    n->cmd = (struct rconn){.loop = n->loop, .on_state = on_state, .arg = n};
    n->sub = (struct rconn){.loop = n->loop, .on_state = on_state, .on_push = on_push, .arg = n};
    int r = rconn_open(&n->cmd, &n->addr);
    if (r == 0)
        r = rconn_open(&n->sub, &n->addr);
    if (r < 0)
        go_down(n, r);
}

static void on_retry(ibx_loop *loop, ibx_timer *t) { connect_now(t->data); }

/* ---- the unit ---------------------------------------------------------- */

static void stop_now(struct node *n)
{
    ibx_timer_stop(n->loop, &n->retry_t);
    ibx_timer_stop(n->loop, &n->alive_t);
    ibx_timer_stop(n->loop, &n->resync_t);
    ibx_timer_stop(n->loop, &n->stop_t);
    ibx_timer_stop(n->loop, &n->settle_t);
    n->stopping = true;
    go_down(n, 0);
    ibx_conn_done(&n->base);
}

static void on_stop(ibx_loop *loop, ibx_timer *t) { stop_now(t->data); }

/* Draining: the members' QUITs go out first, then the alive key. */
static void node_drain(ibx_conn *c)
{
    struct node *n = (struct node *)c;
    if (n->stopping || ibx_timer_active(&n->stop_t))
        return;
    if (n->state == NODE_UP) {
        char key[64];
        const char *argv[] = {"DEL", node_key(key, sizeof key, "alive", n->hex)};
        node_cmd(n, NULL, NULL, 2, argv, NULL);
    }
    ibx_timer_start(n->loop, &n->stop_t, 300, on_stop, n);
}

static void node_abort(ibx_conn *c) { stop_now((struct node *)c); }

/* A fork child must not keep the parent's Redis connections open (Redis
 * would go on feeding a subscriber nobody reads), nor touch them later:
 * their sockets are closed now, and node_free then skips the loop. */
static void node_forked(ibx_conn *c)
{
    struct node *n = (struct node *)c;
    rconn_forked(&n->cmd);
    rconn_forked(&n->sub);
    n->forked = true;
}

static const struct ibx_conn_ops node_ops = {
    .drain = node_drain, .abort = node_abort, .release = node_forked, .forked = node_forked,
};

static int unit_start(ibx_worker *w, void *arg)
{
    struct node *n = arg;
    n->loop = ibx_worker_loop(w);
    ibx_conn_add(w, &n->base, &node_ops, true);
    n->alive_t.data = n->settle_t.data = n;   /* also called directly */
    n->retry_ms = NODE_RETRY_MS;
    connect_now(n);
    return 0;
}

int node_start(struct chat_srv *s, ibx_server *srv)
{
    const struct chat_cfg *cfg = s->cfg;
    char hostport[320];
    struct node *n = calloc(1, sizeof *n);
    if (!n || !(n->scratch = calloc(1, sizeof *n->scratch))) {
        free(n);
        return -ENOMEM;
    }
    int r = resp_url(cfg->redis, hostport, sizeof hostport, &n->db);
    if (r == 0)
        r = ibx_addr_resolve(hostport, NULL, 6379, SOCK_STREAM, &n->addr);
    if (r < 0) {
        ibx_err(s->log, "msg=\"--redis wants redis://HOST[:PORT][/DB] (DB 0-15) with a "
                "host that resolves\" url=%s", cfg->redis);
        free(n->scratch);
        free(n);
        return -EINVAL;
    }
    while (!n->id)
        if (getrandom(&n->id, sizeof n->id, 0) != sizeof n->id)
            n->id = 0;
    snprintf(n->hex, sizeof n->hex, "%016" PRIx64, n->id);
    n->s = s;
    n->scratch->srv = s;
    s->node = n;
    r = ibx_server_add_unit(srv, unit_start, n);
    if (r < 0) {
        s->node = NULL;
        free(n->scratch);
        free(n);
        return r;
    }
    ibx_info(s->log, "msg=\"chat node over redis\" url=%s node=%s", cfg->redis, n->hex);
    return 0;
}

void node_free(struct chat_srv *s)
{
    struct node *n = s->node;
    if (!n)
        return;
    n->stopping = true;
    node_claims_forget(n);
    node_waits_forget(n, NULL);
    node_pms_forget(n, NULL);
    rconn_close(&n->cmd);
    rconn_close(&n->sub);
    node_rooms_free(n);
    map_free(&n->origins);
    map_free(&n->claims);   /* their callbacks ran (and freed them) on close */
    while (n->qhead) {
        struct npub *p = n->qhead;
        n->qhead = p->next;
        free(p);
    }
    free(n->waits);
    free(n->scratch);
    free(n);
    s->node = NULL;
}
