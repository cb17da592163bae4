/* chatd nodes over Redis: nicks across nodes and private messages.
 *
 * A nick is a node's while its key (P nick:NICK = NODE) is there: NICK and
 * registration ask Redis first (a script: taken by a live node other than
 * this one, or now ours with --redis-ttl to live) and complete on the
 * answer; while the question is out no other client here may ask for the
 * same nick. Each node renews its nicks' keys with its alive key, by the
 * same script: a nick found taken then (Redis came back empty and another
 * node claimed it first) is renamed here to a guest nick, with a notice.
 * With Redis away, nicks are checked against this node and the members of
 * other nodes it knows, and claimed when Redis is back.
 *
 * A private message to a nick of another node goes to that node's
 * channel (P node:NODE): the node is known when the nick shares a room
 * with someone here, and read from the nick's key otherwise (if the node
 * holding it is alive; if not, or nobody holds it, the sender gets 401). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static void fold(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
    ibx_irc_fold(dst);
}

/* A private message of c to nick, its text and sender filled in w. */
static void pm_fill(struct wire_ev *w, const struct conn *c, const char *nick, const char *text,
                    enum ev_kind kind)
{
    *w = (struct wire_ev){.kind = kind, .has_text = true};
    node_sender(w, c, NULL);
    snprintf(w->target, sizeof w->target, "%s", nick);
    snprintf(w->text, sizeof w->text, "%.*s", (int)utf8_cut(text, IBX_IRC_TEXT_MAX - 64), text);
}

/* Publish the private message w on the channel of node. */
static void pm_send(struct node *n, uint64_t node, struct wire_ev *w)
{
    char ch[64], hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, node);
    node_publish_ev(n, node_key(ch, sizeof ch, "node", hex), w);
}

/* The node of a nick key if that node is alive, else nil. KEYS: the nick
 * key; ARGV: the alive prefix. */
static const char owner_lua[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and redis.call('EXISTS', ARGV[1] .. v) == 1 then return v end return false";

/* A private message waiting for the node of its target (the nick key). */
struct pm_wait {
    struct pm_wait *next;
    struct node *n;
    struct conn *c;          /* the sender; NULL once gone */
    struct wire_ev w;        /* what it said, as it was said */
};

static void pm_unlink(struct node *n, struct pm_wait *q)
{
    for (struct pm_wait **pp = &n->pms; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            return;
        }
}

static void on_owner(struct rconn *rc, struct resp *r, void *arg)
{
    struct pm_wait *q = arg;
    struct node *n = q->n;
    uint64_t id = 0;
    pm_unlink(n, q);
    if (r && r->type == RESP_STR && wire_id_parse(r->s, &id) == 0 && id != n->id)
        pm_send(n, id, &q->w);
    /* nobody has it (or Redis went away): 401, but never to a NOTICE */
    else if (q->c && !q->c->dead && q->w.kind != EV_NOTICE)
        chat_err(q->c, "401", q->w.target, "No such nick/channel");
    free(q);
}

bool node_pm(struct conn *c, const char *target, const char *text, enum ev_kind kind)
{
    struct node *n = c->srv->node;
    if (!n || !ibx_irc_nick_valid(target, CHATD_NICK_MAX))
        return false;
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, target);
    struct rnick *rn = map_get(&n->remote, key);
    /* shares a room with someone here: its node is known (unless lookups
     * are out: then this one goes behind them, in the order it was said) */
    struct wire_ev w;
    if (rn && !n->pms) {
        pm_fill(&w, c, rn->nick, text, kind);
        pm_send(n, rn->node, &w);
        return true;
    }
    /* no room shared: the nick key says whose it is */
    struct pm_wait *q = malloc(sizeof *q);
    char nk[64 + CHATD_NICK_MAX], alive[64];
    snprintf(alive, sizeof alive, NODE_PREFIX "alive:");
    const char *argv[] = {"EVAL", owner_lua, "1", node_key(nk, sizeof nk, "nick", key), alive};
    if (q) {
        q->n = n;
        q->c = c;
        pm_fill(&q->w, c, target, text, kind);
    }
    if (!q || node_cmd(n, on_owner, q, 5, argv, NULL) < 0) {
        free(q);
        if (!rn)
            return false;
        pm_fill(&w, c, rn->nick, text, kind);
        pm_send(n, rn->node, &w);
        return true;
    }
    q->next = n->pms;   /* replies come in order: the list order does not matter */
    n->pms = q;
    return true;
}

/* GET; if held by another node that is alive: its id; else SET with a
 * lifetime: "OK". KEYS: the nick key; ARGV: node id, ms, alive prefix. */
static const char claim_lua[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and v ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. v) == 1 then return v end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'OK'";
/* DEL if it is ours. */
static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

struct claim {
    struct node *n;
    struct conn *c;          /* NULL once the client is gone */
    bool renew;              /* a renewal, not a NICK */
    char key[CHATD_NICK_MAX + 1];
    char nick[CHATD_NICK_MAX + 1];
};

static bool taken_reply(const struct resp *r)
{
    return r && r->type == RESP_STR && r->n == 16;   /* another node's id */
}

/* A renewal found the nick taken: c becomes a guest. */
static void to_guest(struct node *n, struct conn *c)
{
    char guest[16], old[CHATD_NICK_MAX + 1];
    for (int tries = 0; tries < 20; tries++) {
        uint32_t x = (uint32_t)(n->seq * 2654435761u + (uint32_t)tries * 40503u +
                                (uint32_t)ibx_loop_now(n->loop));
        snprintf(guest, sizeof guest, "Guest%05u", x % 100000);
        char key[CHATD_NICK_MAX + 1];
        fold(key, sizeof key, guest);
        if (!conn_by_nick(n->s, guest) && !map_get(&n->remote, key) && !map_get(&n->claims, key))
            break;
    }
    memcpy(old, c->nick, sizeof old);
    if (conn_set_nick(c, guest) < 0)
        return;
    conn_notice(c, "your nick %s is taken on another node; you are now %s", old, guest);
    ibx_info(n->s->log, "msg=\"nick taken on another node: renamed\" nick=%s guest=%s", old,
             guest);
    node_nick(c, old);
    node_claim(c, guest);   /* asked for; a second clash renames again */
}

static void on_claim(struct rconn *rc, struct resp *r, void *arg)
{
    struct claim *q = arg;
    struct node *n = q->n;
    if (map_get(&n->claims, q->key) == q)
        map_del(&n->claims, q->key);
    struct conn *c = q->c;
    /* Redis away or refusing the script: the nick is taken locally, and
     * claimed again when Redis is back */
    bool taken = taken_reply(r);
    if (c && !q->renew) {
        int res = chat_nick_claimed(c, q->nick, !taken);
        if (res == 0 && !c->registered && !c->dead)
            c->dialect == D_IRC ? irc_nick_set(c) : plain_nick_set(c);
    } else if (c && taken && c->has_nick && !ibx_irc_casecmp(c->nick, q->nick)) {
        to_guest(n, c);
    }
    free(q);
}

static void send_claim(struct node *n, struct claim *q)
{
    char key[64 + CHATD_NICK_MAX], px[24], alive[64];
    snprintf(px, sizeof px, "%u", n->s->cfg->redis_ttl_ms);
    snprintf(alive, sizeof alive, NODE_PREFIX "alive:");
    const char *argv[] = {"EVAL", claim_lua, "1", node_key(key, sizeof key, "nick", q->key),
                          n->hex, px, alive};
    if (node_cmd(n, on_claim, q, 7, argv, NULL) < 0)
        on_claim(NULL, NULL, q);
}

int node_claim(struct conn *c, const char *nick)
{
    struct node *n = c->srv->node;
    if (!n || (c->has_nick && !ibx_irc_casecmp(c->nick, nick)))
        return 0;
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, nick);
    struct claim *o = map_get(&n->claims, key);
    if (map_get(&n->remote, key) || (o && o->c != c))
        return 433;
    if (o)   /* its own claim of this nick is on its way: that answer decides */
        return CHAT_NICK_PENDING;
    if (n->state != NODE_UP)
        return 0;
    struct claim *q = calloc(1, sizeof *q);
    if (!q || map_put(&n->claims, key, q) < 0) {
        free(q);
        return 0;
    }
    q->n = n;
    q->c = c;
    memcpy(q->key, key, sizeof q->key);
    snprintf(q->nick, sizeof q->nick, "%s", nick);
    send_claim(n, q);
    return map_get(&n->claims, key) == q ? CHAT_NICK_PENDING : 0;
}

static void renew_one(void *val, void *arg)
{
    struct conn *c = val;
    struct node *n = arg;
    if (c->dead || !c->has_nick || c == n->scratch)
        return;
    struct claim *q = calloc(1, sizeof *q);
    if (!q)
        return;
    *q = (struct claim){.n = n, .c = c, .renew = true};
    fold(q->key, sizeof q->key, c->nick);
    snprintf(q->nick, sizeof q->nick, "%s", c->nick);
    if (!map_get(&n->claims, q->key) && map_put(&n->claims, q->key, q) == 0)
        send_claim(n, q);
    else
        free(q);
}

void node_nicks_renew(struct node *n) { map_each(&n->s->nicks, renew_one, n); }

/* Release the key of nick (if it is ours). */
static void release(struct node *n, const char *nick)
{
    char key[64 + CHATD_NICK_MAX], f[CHATD_NICK_MAX + 1];
    fold(f, sizeof f, nick);
    const char *argv[] = {"EVAL", release_lua, "1", node_key(key, sizeof key, "nick", f), n->hex};
    node_cmd(n, NULL, NULL, 5, argv, NULL);
}

void node_nick_released(struct node *n, const char *old) { release(n, old); }

static void forget_conn(void *val, void *arg)
{
    struct claim *q = val;
    if (q->c == arg)
        q->c = NULL;
}

static void forget_any(void *val, void *arg)
{
    ((struct claim *)val)->c = NULL;
}

void node_claims_forget(struct node *n) { map_each(&n->claims, forget_any, NULL); }

void node_pms_forget(struct node *n, const struct conn *c)
{
    for (struct pm_wait *q = n->pms; q; q = q->next)
        if (!c || q->c == c)
            q->c = NULL;
}

void node_conn_gone(struct conn *c)
{
    struct node *n = c->srv->node;
    if (!n)
        return;
    map_each(&n->claims, forget_conn, c);
    node_pms_forget(n, c);
    node_waits_forget(n, c);
    if (c->has_nick)
        release(n, c->nick);
}
