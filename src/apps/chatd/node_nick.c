/* chatd nodes over Redis: nicks across nodes and private messages.
 *
 * A private message to a nick of another node goes to that node's
 * channel (P node:NODE): the node is known when the nick shares a room
 * with someone here, and read from the nick's key otherwise. */
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

/* Send a private message of c to nick on node. */
static void pm_to(struct node *n, const struct conn *c, uint64_t node, const char *nick,
                  const char *text, enum ev_kind kind)
{
    struct wire_ev w = {.kind = kind, .has_text = true};
    node_sender(&w, c, NULL);
    snprintf(w.target, sizeof w.target, "%s", nick);
    snprintf(w.text, sizeof w.text, "%.*s", (int)utf8_cut(text, IBX_IRC_TEXT_MAX - 64), text);
    char ch[64], hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, node);
    node_publish_ev(n, node_key(ch, sizeof ch, "node", hex), &w);
}

bool node_pm(struct conn *c, const char *target, const char *text, enum ev_kind kind)
{
    struct node *n = c->srv->node;
    if (!n || !ibx_irc_nick_valid(target, CHATD_NICK_MAX))
        return false;
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, target);
    struct rnick *rn = map_get(&n->remote, key);
    if (!rn)
        return false;
    pm_to(n, c, rn->node, rn->nick, text, kind);
    return true;
}

void node_conn_gone(struct conn *c)
{
    (void)c;
}
