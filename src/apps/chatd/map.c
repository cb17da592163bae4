/* chatd's name tables: chained hash tables keyed by folded names (nicks,
 * rooms) or address text; they double as they fill. */
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
