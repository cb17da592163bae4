/* chatd's name tables: chained hash tables keyed by folded names (nicks,
 * rooms) or address text; they double as they fill. And id tables: the
 * hub's connection ids, open addressing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatd.h"

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

void **map_slot(const struct map *m, const char *key)
{
    if (!m->nb)
        return NULL;
    for (struct map_ent *e = m->b[hash(key) & (m->nb - 1)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return &e->val;
    return NULL;
}

void *map_get(const struct map *m, const char *key)
{
    void **v = map_slot(m, key);
    return v ? *v : NULL;
}

static int grow(struct map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    struct map_ent **b = calloc(nb, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < m->nb; i++)
        for (struct map_ent *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            size_t k = hash(e->key) & (nb - 1);
            e->next = b[k];
            b[k] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int map_put(struct map *m, const char *key, void *val)
{
    if (m->n >= m->nb && grow(m) < 0)
        return -ENOMEM;
    size_t len = strlen(key);
    struct map_ent *e = malloc(sizeof *e + len + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, len + 1);
    e->val = val;
    size_t k = hash(key) & (m->nb - 1);
    e->next = m->b[k];
    m->b[k] = e;
    m->n++;
    return 0;
}

void *map_del(struct map *m, const char *key)
{
    if (!m->nb)
        return NULL;
    for (struct map_ent **p = &m->b[hash(key) & (m->nb - 1)]; *p; p = &(*p)->next)
        if (strcmp((*p)->key, key) == 0) {
            struct map_ent *e = *p;
            void *v = e->val;
            *p = e->next;
            free(e);
            m->n--;
            return v;
        }
    return NULL;
}

void map_each(const struct map *m, void (*fn)(void *val, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct map_ent *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            fn(e->val, arg);
        }
}

void map_free(struct map *m)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct map_ent *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(m->b);
    memset(m, 0, sizeof *m);
}

/* ---- id tables: open addressing, linear probing ----------------------- */

static size_t islot(const struct imap *m, uint64_t k)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
}

void *imap_get(const struct imap *m, uint64_t k)
{
    if (!m->cap || !k)
        return NULL;
    for (size_t i = islot(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->t[i].k == k)
            return m->t[i].v;
        if (!m->t[i].k)
            return NULL;
    }
}

int imap_put(struct imap *m, uint64_t k, void *v)
{
    if (!k)
        return -EINVAL;
    if ((m->n + 1) * 4 > m->cap * 3) {   /* at most 3/4 full */
        struct imap big = {.cap = m->cap ? m->cap * 2 : 16};
        big.t = calloc(big.cap, sizeof *big.t);
        if (!big.t)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->t[i].k)
                imap_put(&big, m->t[i].k, m->t[i].v);
        free(m->t);
        *m = big;
    }
    size_t i = islot(m, k);
    while (m->t[i].k)
        i = (i + 1) & (m->cap - 1);
    m->t[i] = (struct imap_ent){k, v};
    m->n++;
    return 0;
}

void *imap_del(struct imap *m, uint64_t k)
{
    if (!m->cap || !k)
        return NULL;
    size_t i = islot(m, k);
    while (m->t[i].k != k) {
        if (!m->t[i].k)
            return NULL;
        i = (i + 1) & (m->cap - 1);
    }
    void *v = m->t[i].v;
    m->n--;
    /* backward shift: move up the entries whose probe passed the hole */
    for (size_t j = i;;) {
        m->t[i].k = 0;
        for (;;) {
            j = (j + 1) & (m->cap - 1);
            if (!m->t[j].k)
                return v;
            size_t home = islot(m, m->t[j].k);
            /* j may move to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        m->t[i] = m->t[j];
        i = j;
    }
}

void imap_free(struct imap *m)
{
    free(m->t);
    *m = (struct imap){0};
}
