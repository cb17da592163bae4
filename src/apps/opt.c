/* Options as data: one generic setter per type, and the parser, help and
 * file reader built on the rows (see opt.h). */
#include "opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

void opt_cmd_init(struct opt_cmd *cmd, const char *applet, const char *synopsis,
                  const char *about)
{
    memset(cmd, 0, sizeof *cmd);
    cmd->applet = applet;
    cmd->synopsis = synopsis;
    cmd->about = about;
}

int opt_cmd_add(struct opt_cmd *cmd, const char *title, const char *prefix,
                const char *section, const struct opt *opts, void *cfg)
{
    if (cmd->ngroups == OPT_GROUPS_MAX)
        return -ENOSPC;
    cmd->groups[cmd->ngroups++] = (struct opt_group){
        .title = title, .prefix = prefix, .section = section, .opts = opts, .cfg = cfg};
    return 0;
}

void opt_cmd_free(struct opt_cmd *cmd)
{
    for (size_t g = 0; g < cmd->ngroups; g++) {
        free(cmd->groups[g].given);
        cmd->groups[g].given = NULL;
    }
    for (size_t g = 0; g < cmd->ngroups; g++)
        for (const struct opt *o = cmd->groups[g].opts; o && o->type; o++)
            if (o->type == OPT_T_LIST) {
                struct opt_strv *l = (void *)((char *)cmd->groups[g].cfg + o->off);
                free(l->v);
                *l = (struct opt_strv){0};
            }
    for (size_t i = 0; i < cmd->nowned; i++)
        free(cmd->owned[i]);
    free(cmd->owned);
    cmd->owned = NULL;
    cmd->nowned = cmd->capowned = 0;
    free(cmd->args);
    cmd->args = NULL;
    cmd->nargs = cmd->capargs = 0;
}

/* Keep a positional argument. Returns 0 or -ENOMEM. */
static int add_arg(struct opt_cmd *cmd, const char *a)
{
    if (cmd->nargs == cmd->capargs) {
        size_t cap = cmd->capargs ? 2 * cmd->capargs : 8;
        const char **p = realloc(cmd->args, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        cmd->args = p;
        cmd->capargs = cap;
    }
    cmd->args[cmd->nargs++] = a;
    return 0;
}

/* Keep a copy of text until opt_cmd_free. */
static const char *own(struct opt_cmd *cmd, const char *text)
{
    if (cmd->nowned == cmd->capowned) {
        size_t cap = cmd->capowned ? 2 * cmd->capowned : 16;
        char **p = realloc(cmd->owned, cap * sizeof *p);
        if (!p)
            return NULL;
        cmd->owned = p;
        cmd->capowned = cap;
    }
    char *s = strdup(text);
    if (s)
        cmd->owned[cmd->nowned++] = s;
    return s;
}

int opt_usage(const char *applet, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ipcbox %s: %s (see 'ipcbox %s --help')\n", applet, msg, applet);
    return 2;
}

/* The decimal digits s starts with (no sign, no blanks); *end after them.
 * Returns 0 or -EINVAL (none, or too large). */
static int leading_uint(const char *s, unsigned long long *v, char **end)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *v = strtoull(s, end, 10);
    return errno ? -EINVAL : 0;
}

int opt_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;
    if (leading_uint(s, &v, &end) < 0 || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int opt_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;
    if (leading_uint(s, &v, &end) < 0)
        return -EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (shift && (*end == 'i' || *end == 'b' || *end == 'B'))
        end += *end == 'i' && (end[1] == 'B' || end[1] == 'b') ? 2 : 1;
    /* the range is checked before shifting, so nothing can wrap */
    if (*end || v > (max >> shift) || ((uint64_t)v << shift) < min)
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Store v in a field of 1, 2, 4 or 8 bytes (refusing what does not fit). */
static int store_uint(void *field, size_t size, uint64_t v)
{
    switch (size) {
    case 1: if (v > UINT8_MAX) return -ERANGE; *(uint8_t *)field = (uint8_t)v; return 0;
    case 2: if (v > UINT16_MAX) return -ERANGE; *(uint16_t *)field = (uint16_t)v; return 0;
    case 4: if (v > UINT32_MAX) return -ERANGE; *(uint32_t *)field = (uint32_t)v; return 0;
    case 8: *(uint64_t *)field = v; return 0;
    default: return -EINVAL;
    }
}

/* Human form of a size bound: 1073741824 -> "1g". */
static const char *size_text(uint64_t v, char *buf, size_t n)
{
    if (v && !(v & ((1u << 30) - 1)))
        snprintf(buf, n, "%llug", (unsigned long long)(v >> 30));
    else if (v && !(v & ((1u << 20) - 1)))
        snprintf(buf, n, "%llum", (unsigned long long)(v >> 20));
    else if (v && !(v & ((1u << 10) - 1)))
        snprintf(buf, n, "%lluk", (unsigned long long)(v >> 10));
    else
        snprintf(buf, n, "%llu", (unsigned long long)v);
    return buf;
}

/* Remember the text an OPT_T_CALL row of g was given. */
static void remember(struct opt_group *g, const struct opt *o, const char *text)
{
    if (!g)
        return;
    if (!g->given) {
        size_t n = 0;
        while (g->opts[n].type)
            n++;
        g->given = calloc(n, sizeof *g->given);
        if (!g->given)
            return;
    }
    g->given[o - g->opts] = text;
}

/* Set the field of o in cfg from text (NULL: a flag without value). */
static int set_value(struct opt_cmd *cmd, struct opt_group *grp, void *cfg,
                     const struct opt *o, const char *text, bool from_file,
                     char *err, size_t errlen)
{
    void *field = (char *)cfg + o->off;
    uint64_t v;
    char a[32], b[32];
    switch (o->type) {
    case OPT_T_BOOL: {
        bool on = true;
        if (text && parse_bool(text, &on) < 0) {
            snprintf(err, errlen, "wants yes or no");
            return -1;
        }
        *(bool *)field = (o->flags & OPT_F_INVERT) ? !on : on;
        return 0;
    }
    case OPT_T_UINT:
        if (!text || opt_parse_uint(text, o->min, o->max, &v) < 0) {
            snprintf(err, errlen, "wants a whole number in %llu..%llu",
                     (unsigned long long)o->min, (unsigned long long)o->max);
            return -1;
        }
        if (o->scale)
            v *= o->scale;   /* tables keep max * scale within the field */
        goto store;
    case OPT_T_SIZE:
        if (!text || opt_parse_size(text, o->min, o->max, &v) < 0) {
            snprintf(err, errlen, "wants a byte count (k, m, g suffixes) in %s..%s",
                     size_text(o->min, a, sizeof a), size_text(o->max, b, sizeof b));
            return -1;
        }
    store:
        if (store_uint(field, o->size, v) < 0) {
            snprintf(err, errlen, "is too large");
            return -1;
        }
        return 0;
    case OPT_T_STR:
        if (!text) {
            snprintf(err, errlen, "wants a value");
            return -1;
        }
        if (from_file && !(text = own(cmd, text))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *(const char **)field = text;
        return 0;
    case OPT_T_LIST: {
        struct opt_strv *l = field;
        if (!text || !*text) {
            snprintf(err, errlen, "wants a value");
            return -1;
        }
        if (l->from_file && !from_file)
            l->n = 0;   /* the command line replaces the file's list */
        l->from_file = from_file;
        if (from_file && !(text = own(cmd, text))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        const char **p = realloc(l->v, (l->n + 1) * sizeof *p);
        if (!p) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p[l->n++] = text;
        l->v = p;
        return 0;
    }
    case OPT_T_CALL:
        if (!text) {
            snprintf(err, errlen, "wants a value");
            return -1;
        }
        if (from_file && !(text = own(cmd, text))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (o->set(cfg, text, err, errlen) < 0)
            return -1;
        remember(grp, o, text);
        return 0;
    case OPT_T_END:
        break;
    }
    snprintf(err, errlen, "has an unknown type");
    return -1;
}

int opt_set(struct opt_cmd *cmd, const struct opt_group *g, const struct opt *o,
            const char *text, bool from_file, char *err, size_t errlen)
{
    return set_value(cmd, (struct opt_group *)g, g->cfg, o, text, from_file, err,
                     errlen);
}

int opt_defaults(const struct opt *opts, void *cfg)
{
    struct opt_cmd scratch;
    memset(&scratch, 0, sizeof scratch);
    char err[128];
    for (const struct opt *o = opts; o && o->type; o++)
        if (o->def && o->type != OPT_T_STR && o->type != OPT_T_LIST &&
            set_value(&scratch, NULL, cfg, o, o->def, false, err, sizeof err) < 0)
            return -EINVAL;
        else if (o->def && o->type == OPT_T_STR)
            *(const char **)((char *)cfg + o->off) = o->def;
    return 0;
}

/* ---- the command line ----------------------------------------------------- */

/* The row named name (with the group's prefix) in cmd, or NULL. */
static const struct opt *find_long(const struct opt_cmd *cmd, const char *name,
                                   size_t len, const struct opt_group **gout)
{
    for (size_t g = 0; g < cmd->ngroups; g++) {
        const struct opt_group *grp = &cmd->groups[g];
        size_t pl = grp->prefix ? strlen(grp->prefix) : 0;
        if (len <= pl || (pl && strncmp(name, grp->prefix, pl) != 0))
            continue;
        for (const struct opt *o = grp->opts; o && o->type; o++)
            if (strlen(o->name) == len - pl && !strncmp(o->name, name + pl, len - pl)) {
                *gout = grp;
                return o;
            }
    }
    return NULL;
}

static const struct opt *find_short(const struct opt_cmd *cmd, char c,
                                    const struct opt_group **gout)
{
    for (size_t g = 0; g < cmd->ngroups; g++)
        for (const struct opt *o = cmd->groups[g].opts; o && o->type; o++)
            if (o->short_name == c && !cmd->groups[g].prefix) {
                *gout = &cmd->groups[g];
                return o;
            }
    return NULL;
}

/* The displayed name of o in g: "--httpd-cgi". */
static void flag_name(const struct opt_group *g, const struct opt *o, char *buf,
                      size_t n)
{
    snprintf(buf, n, "--%s%s", g->prefix ? g->prefix : "", o->name);
}

/* Print every flag name (for shell completion). */
static void list_options(const struct opt_cmd *cmd)
{
    puts("--help\n--version");
    if (cmd->config_file)
        puts("--config");
    for (size_t g = 0; g < cmd->ngroups; g++)
        for (const struct opt *o = cmd->groups[g].opts; o && o->type; o++) {
            if (o->flags & OPT_F_HIDDEN)
                continue;
            char name[96];
            flag_name(&cmd->groups[g], o, name, sizeof name);
            puts(name);
        }
}

/* The --config value of argv, if any (read before everything else). */
static const char *find_config(int argc, char **argv, bool *missing, bool *twice)
{
    const char *found = NULL;
    *missing = *twice = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], "--config=", 9)) {
            v = argv[i] + 9;
        } else if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                *missing = true;
                return NULL;
            }
            v = argv[++i];
        }
        if (v && found)
            *twice = true;
        if (v)
            found = v;
    }
    return found;
}

/* Whether argv asks for help (which no other error should hide). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

int opt_parse(struct opt_cmd *cmd, int argc, char **argv)
{
    char err[256], name[128];
    const char *app = cmd->applet;
    if (wants_help(argc, argv)) {
        opt_help(cmd, stdout);
        return 0;
    }
    if (cmd->config_file) {
        bool missing, twice;
        cmd->config = find_config(argc, argv, &missing, &twice);
        if (missing)
            return opt_usage(app, "option '--config' needs a value (FILE)");
        if (twice)
            return opt_usage(app, "--config is given twice (one file holds it all)");
        if (cmd->config) {
            int r = opt_load_file(cmd, cmd->config);
            if (r)
                return r;
        }
    }
    bool options = true, print = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options || a[0] != '-' || !a[1]) {
            if (cmd->nargs >= cmd->max_args)
                return opt_usage(app, "unexpected argument '%s'", a);
            if (add_arg(cmd, a) < 0)
                return opt_usage(app, "out of memory");
            continue;
        }
        if (!strcmp(a, "--")) {
            options = false;
            continue;
        }
        const struct opt_group *g = NULL;
        const struct opt *o = NULL;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *n = a + 2, *eq = strchr(n, '=');
            size_t len = eq ? (size_t)(eq - n) : strlen(n);
            val = eq ? eq + 1 : NULL;
            if (!eq && !strcmp(n, "help")) {
                opt_help(cmd, stdout);
                return 0;
            }
            if (!eq && !strcmp(n, "version")) {
                printf("ipcbox %s %s\n", app, IPCBOX_VERSION);
                return 0;
            }
            if (!eq && !strcmp(n, "help-man")) {
                opt_man(cmd, stdout);
                return 0;
            }
            if (!eq && !strcmp(n, "help-options")) {
                list_options(cmd);
                return 0;
            }
            if (!eq && !strcmp(n, "print-config")) {
                print = true;
                continue;
            }
            if (cmd->config_file && len == 6 && !strncmp(n, "config", 6)) {
                if (!eq)
                    i++;   /* read by find_config */
                continue;
            }
            o = find_long(cmd, n, len, &g);
            if (!o)
                return opt_usage(app, "unknown option '--%.*s'", (int)len, n);
            if (o->type == OPT_T_BOOL) {
                /* --flag or --flag=yes|no */
            } else if (!val) {
                if (i + 1 >= argc) {
                    flag_name(g, o, name, sizeof name);
                    return opt_usage(app, "option '%s' needs a value (%s)", name,
                                     o->arg ? o->arg : "VALUE");
                }
                val = argv[++i];
            }
        } else {
            if (a[1] == 'h' && !a[2]) {
                opt_help(cmd, stdout);
                return 0;
            }
            o = find_short(cmd, a[1], &g);
            if (!o)
                return opt_usage(app, "unknown option '-%c'", a[1]);
            if (o->type == OPT_T_BOOL) {
                if (a[2])
                    return opt_usage(app, "option '-%c' takes no value", a[1]);
            } else if (a[2]) {
                val = a + 2;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                return opt_usage(app, "option '-%c' needs a value (%s)", a[1],
                                 o->arg ? o->arg : "VALUE");
            }
        }
        if (set_value(cmd, (struct opt_group *)g, g->cfg, o, val, false, err,
                      sizeof err) < 0) {
            flag_name(g, o, name, sizeof name);
            if (val)
                return opt_usage(app, "%s %s, not '%s'", name, err, val);
            return opt_usage(app, "%s %s", name, err);
        }
    }
    if (print) {
        opt_print_config(cmd, stdout);
        return 0;
    }
    if (cmd->nargs < cmd->min_args)
        return opt_usage(app, "missing argument (usage: ipcbox %s %s)", app,
                         cmd->synopsis ? cmd->synopsis : "");
    return -1;
}

/* ---- the configuration file ----------------------------------------------- */

struct file_ctx {
    struct opt_cmd *cmd;
    char err[320];
    bool failed;
    /* the reader's state */
    FILE *f;
    char *line;
    size_t cap;
    int lineno;
    int too_long;            /* number of a line too long for inih, or 0 */
    /* single-valued keys already set by this file: group << 16 | row */
    uint32_t seen[256];
    size_t nseen;
};

/* Longest line inih takes (its buffer holds the newline and the NUL). */
#define INI_LINE_MAX (INI_MAX_LINE - 2)

/* inih's line reader. Whole lines only: a line longer than inih's buffer
 * stops the parse (it would otherwise be cut in two, and its tail read
 * as a line of its own), and leading blanks are dropped (inih would read
 * an indented line as the continuation of the previous value). */
static char *read_line(char *str, int num, void *stream)
{
    struct file_ctx *fc = stream;
    ssize_t n = getline(&fc->line, &fc->cap, fc->f);
    if (n < 0)
        return NULL;
    fc->lineno++;
    const char *p = fc->line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strlen(p);
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len > INI_LINE_MAX || len + 2 > (size_t)num) {
        fc->too_long = fc->lineno;
        return NULL;
    }
    memcpy(str, p, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

/* One `key = value` of [section]. Returns 1, or 0 for an error (inih then
 * reports the first failing line's number). */
static int on_ini(void *user, const char *section, const char *key,
                  const char *value)
{
    struct file_ctx *fc = user;
    if (fc->failed)
        return 0;
    struct opt_cmd *cmd = fc->cmd;
    bool known_section = false;
    for (size_t g = 0; g < cmd->ngroups; g++) {
        const struct opt_group *grp = &cmd->groups[g];
        if (!grp->section || strcmp(grp->section, section) != 0)
            continue;
        known_section = true;
        for (const struct opt *o = grp->opts; o && o->type; o++) {
            if ((o->flags & OPT_F_CLI) || strcmp(o->name, key) != 0)
                continue;
            if (o->type != OPT_T_LIST) {
                uint32_t id = (uint32_t)g << 16 | (uint32_t)(o - grp->opts);
                for (size_t i = 0; i < fc->nseen; i++)
                    if (fc->seen[i] == id) {
                        snprintf(fc->err, sizeof fc->err, "[%s] %s is given twice",
                                 section, key);
                        fc->failed = true;
                        return 0;
                    }
                if (fc->nseen < sizeof fc->seen / sizeof fc->seen[0])
                    fc->seen[fc->nseen++] = id;
            }
            char err[256];
            if (set_value(cmd, (struct opt_group *)grp, grp->cfg, o, value, true, err,
                          sizeof err) < 0) {
                snprintf(fc->err, sizeof fc->err, "[%s] %s %s, not '%s'", section,
                         key, err, value);
                fc->failed = true;
                return 0;
            }
            return 1;
        }
    }
    if (!*section)
        snprintf(fc->err, sizeof fc->err, "'%s' is outside a [section]", key);
    else if (!known_section)
        snprintf(fc->err, sizeof fc->err, "unknown section [%s]", section);
    else
        snprintf(fc->err, sizeof fc->err, "[%s] has no key '%s'", section, key);
    fc->failed = true;
    return 0;
}

int opt_load_file(struct opt_cmd *cmd, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "ipcbox %s: %s: %s\n", cmd->applet, path, strerror(errno));
        return 2;
    }
    struct file_ctx fc = {.cmd = cmd, .f = f};
    int r = ini_parse_stream(read_line, &fc, on_ini, &fc);
    bool rerr = ferror(f);
    fclose(f);
    free(fc.line);
    if (fc.too_long) {
        fprintf(stderr, "ipcbox %s: %s:%d: line longer than %d bytes\n", cmd->applet,
                path, fc.too_long, INI_LINE_MAX);
        return 2;
    }
    if (rerr) {
        fprintf(stderr, "ipcbox %s: %s: %s\n", cmd->applet, path, strerror(errno));
        return 2;
    }
    if (fc.failed) {
        fprintf(stderr, "ipcbox %s: %s:%d: %s\n", cmd->applet, path, r, fc.err);
        return 2;
    }
    if (r < 0) {
        fprintf(stderr, "ipcbox %s: %s: cannot read it\n", cmd->applet, path);
        return 2;
    }
    if (r) {
        fprintf(stderr, "ipcbox %s: %s:%d: not an INI line (key = value, "
                "[section] or a ; or # comment; at most %d bytes)\n",
                cmd->applet, path, r, INI_LINE_MAX);
        return 2;
    }
    return 0;
}
