/* The arguments of `ipcbox pool`: input sources (`::: a b`, `:::: FILE`,
 * -a FILE, standard input), one value per line (or per NUL-terminated
 * record with -0), combined as a cross product in GNU parallel's order:
 * the first source varies slowest. The first source is read as jobs need
 * it (stdin may be endless); the others are read whole at the start. */
#ifndef IPCBOX_APPS_POOL_INPUT_H
#define IPCBOX_APPS_POOL_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One source. */
struct pool_source {
    const char *path;         /* a file ("-" = stdin), or NULL for a list */
    FILE *f;                  /* while a file is read */
    char **v;                 /* its values (a list's point into argv) */
    size_t *vlen;
    size_t n, cap;
    bool owned;               /* v[i] are allocated */
    bool done;                /* read whole */
};

/* Every source and the position of the product. */
struct pool_input {
    struct pool_source *src;
    size_t nsrc;
    char sep;                 /* '\n', or '\0' with -0 */
    size_t *idx;              /* per source: the current value */
    bool started, ended;
    /* the current combination (valid until the next pool_input_next) */
    const char **cur;
    size_t *curlen;
    char *first;              /* the first source's current value when streamed */
    size_t firstlen, firstcap;
    bool stream;              /* the first source is read as needed */
};

/* Add a source: values (argv strings, not copied) or a file path. */
int pool_input_add_list(struct pool_input *in, char **v, size_t n);
/* Add a file source ("-" = standard input). */
int pool_input_add_file(struct pool_input *in, const char *path);
/* Open the files and read every source but the first (all of them when
 * whole is set: --bar and percentage halts need the count). Returns 0, or
 * -errno with *bad naming the path that failed. */
int pool_input_open(struct pool_input *in, bool whole, const char **bad);
/* The number of combinations, when every source is read whole. */
uint64_t pool_input_total(const struct pool_input *in);
/* The next combination into in->cur / in->curlen. Returns 1, 0 at the end,
 * or -errno (a read error). */
int pool_input_next(struct pool_input *in);
/* Close files and free memory. */
void pool_input_free(struct pool_input *in);

#endif
