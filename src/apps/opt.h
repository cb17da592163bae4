/* Options as data (in the spirit of nginx's ngx_command_t).
 *
 * An applet describes each option once, as a row of a table: its name,
 * type, the field of a configuration struct it fills (an offset), its
 * default, its range and its help text. From the same rows come:
 *   - command-line parsing (--name VALUE, --name=VALUE, a short letter),
 *   - configuration-file keys (`name = value` in the applet's section),
 *   - --help, the man page (--help-man) and shell completion
 *     (--help-options).
 * There is one generic setter per type; an option with its own syntax
 * gives a setter function (OPT_T_CALL).
 *
 * Rows are grouped (struct opt_group): a group is one table filling one
 * struct. A command is a list of groups plus its positional arguments.
 * `serve` lists every service's group with a prefix, so --httpd-cgi sets
 * the same field as httpd's --cgi. */
#ifndef IPCBOX_APPS_OPT_H
#define IPCBOX_APPS_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What kind of value an option takes, and so which field type it fills. */
enum opt_type {
    OPT_T_END = 0,  /* ends a table */
    OPT_T_BOOL,     /* bool; a flag on the command line (--x, --x=no), yes/no
                   * (true/false, on/off, 1/0) in a file */
    OPT_T_UINT,     /* unsigned or unsigned long (by the field's size), decimal
                   * in [min, max], stored times `scale` (seconds -> ms) */
    OPT_T_SIZE,     /* a byte count with an optional k/m/g suffix in [min,max]
                   * (uint32_t, size_t or uint64_t field) */
    OPT_T_STR,      /* const char *; the text stays valid until opt_cmd_free */
    OPT_T_LIST,     /* struct opt_strv: every occurrence is kept (--listen) */
    OPT_T_CALL,     /* set() parses the text itself */
};

/* Row flags. */
enum {
    OPT_F_INVERT = 1 << 0,   /* OPT_T_BOOL: the flag stores false (--no-listing) */
    OPT_F_CLI = 1 << 1,      /* command line only, not a file key */
    OPT_F_HIDDEN = 1 << 2,   /* not in --help (still parsed) */
};

/* A repeatable string option's values. */
struct opt_strv {
    const char **v;
    size_t n;
    bool from_file;          /* set by a file: the command line replaces it */
};

/* One option. */
struct opt {
    const char *name;        /* "max-body": --max-body, key max-body */
    enum opt_type type;
    size_t off;              /* offset of the field in the group's struct */
    size_t size;             /* sizeof the field */
    const char *arg;         /* value name in the help ("BYTES"); NULL: flag */
    const char *def;         /* the default as text: applied by
                              * opt_defaults() and shown by --help; NULL:
                              * the struct's zero or its defaults() */
    uint64_t min, max;       /* OPT_T_UINT, OPT_T_SIZE: accepted range */
    unsigned scale;          /* OPT_T_UINT: multiply the text's value (0 = 1) */
    /* OPT_T_CALL: parse text into the struct at cfg. Returns 0, or -1 after
     * writing what is wanted into err ("wants a URL prefix like /cgi-bin/"). */
    int (*set)(void *cfg, const char *text, char *err, size_t errlen);
    const char *help;        /* one sentence; wrapped by --help */
    char short_name;         /* '-x' form, 0 for none */
    unsigned flags;          /* OPT_F_* */
};

/* Row builders: OPT_B(struct type, field, "name", "help") and friends. */
#define OPT_FIELD_(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define OPT_B(T, f, nm, hlp) \
    {.name = (nm), .type = OPT_T_BOOL, OPT_FIELD_(T, f), .help = (hlp)}
#define OPT_NOT(T, f, nm, hlp) \
    {.name = (nm), .type = OPT_T_BOOL, OPT_FIELD_(T, f), .help = (hlp), \
     .flags = OPT_F_INVERT}
#define OPT_U(T, f, nm, a, d, lo, hi, hlp) \
    {.name = (nm), .type = OPT_T_UINT, OPT_FIELD_(T, f), .arg = (a), .def = (d), \
     .min = (lo), .max = (hi), .help = (hlp)}
/* Seconds in the text, milliseconds in the (unsigned) field. */
#define OPT_SEC(T, f, nm, d, lo, hi, hlp) \
    {.name = (nm), .type = OPT_T_UINT, OPT_FIELD_(T, f), .arg = "SECONDS", \
     .def = (d), .min = (lo), .max = (hi), .scale = 1000, .help = (hlp)}
#define OPT_Z(T, f, nm, d, lo, hi, hlp) \
    {.name = (nm), .type = OPT_T_SIZE, OPT_FIELD_(T, f), .arg = "BYTES", \
     .def = (d), .min = (lo), .max = (hi), .help = (hlp)}
#define OPT_S(T, f, nm, a, hlp) \
    {.name = (nm), .type = OPT_T_STR, OPT_FIELD_(T, f), .arg = (a), .help = (hlp)}
#define OPT_L(T, f, nm, a, hlp) \
    {.name = (nm), .type = OPT_T_LIST, OPT_FIELD_(T, f), .arg = (a), .help = (hlp)}
#define OPT_C(T, f, nm, a, d, fn, hlp) \
    {.name = (nm), .type = OPT_T_CALL, OPT_FIELD_(T, f), .arg = (a), .def = (d), \
     .set = (fn), .help = (hlp)}
#define OPT_TABLE_END {.name = NULL, .type = OPT_T_END}

/* One table and the struct it fills. */
struct opt_group {
    const char *title;       /* heading in --help ("httpd options"), or NULL */
    const char *prefix;      /* "httpd-" when listed by serve, else NULL */
    const char *section;     /* config-file section it reads, NULL: none */
    const struct opt *opts;  /* ends with OPT_TABLE_END */
    void *cfg;
    const char **given;      /* private: the text each OPT_T_CALL row was
                              * last given (for --print-config) */
};

/* Most groups of one command. */
#define OPT_GROUPS_MAX 64

/* A command: its groups, its arguments, and what its parse left. */
struct opt_cmd {
    const char *applet;      /* "httpd": messages say "ipcbox httpd: ..." */
    const char *synopsis;    /* "[options] [ROOT]" */
    const char *about;       /* a paragraph for --help and the man page */
    const char *footer;      /* more text after the options, or NULL */
    struct opt_group groups[OPT_GROUPS_MAX];
    size_t ngroups;
    unsigned min_args, max_args;   /* positional arguments accepted */
    bool config_file;        /* offer --config FILE */
    /* results */
    const char **args;       /* positional arguments (any number: send's
                              * PATH..., get's NAME...), freed by opt_cmd_free */
    size_t nargs, capargs;
    const char *config;      /* --config FILE given, or NULL */
    /* private: text copied from a file, and list arrays, freed together */
    char **owned;
    size_t nowned, capowned;
};

/* Start a command (zeroes it). */
void opt_cmd_init(struct opt_cmd *cmd, const char *applet, const char *synopsis,
                  const char *about);
/* Add a group. Returns 0, or -ENOSPC past OPT_GROUPS_MAX. */
int opt_cmd_add(struct opt_cmd *cmd, const char *title, const char *prefix,
                const char *section, const struct opt *opts, void *cfg);
/* Free what parsing allocated (copied strings, list arrays). The strings
 * options point to stay valid until then. */
void opt_cmd_free(struct opt_cmd *cmd);

/* Fill cfg with the defaults of opts (the rows' `def` texts). Returns 0,
 * or -EINVAL if a default does not parse (a bug in the table). */
int opt_defaults(const struct opt *opts, void *cfg);

/* Parse argv[1..argc-1] (argv[0] is the applet name): options of every
 * group, --help/-h, --version, --help-man, --help-options,
 * --print-config (the configuration the other arguments make, as an INI
 * file, then exit 0) and, with
 * config_file, --config FILE (read first, so the command line wins).
 * Returns -1 to go on running, or an exit status: 0 after printing help
 * or the version, 2 after printing a one-line usage error. */
int opt_parse(struct opt_cmd *cmd, int argc, char **argv);

/* Read an INI file: for each group with a section, `name = value` lines of
 * [section] set that group's options; unknown sections and keys are
 * errors (with file:line). Returns 0 or 2 after printing the error. */
int opt_load_file(struct opt_cmd *cmd, const char *path);

/* Set one option by name within group g from text (a file's value or a
 * flag's argument). Returns 0, or -1 after writing the reason to err. */
int opt_set(struct opt_cmd *cmd, const struct opt_group *g, const struct opt *o,
            const char *text, bool from_file, char *err, size_t errlen);

/* Write --help for cmd to f. */
void opt_help(const struct opt_cmd *cmd, FILE *f);
/* Write the configuration the groups hold as an INI file to f: one
 * [section] per group section (the applet's name for groups without). */
void opt_print_config(const struct opt_cmd *cmd, FILE *f);
/* Write a man page (roff) for cmd to f. */
void opt_man(const struct opt_cmd *cmd, FILE *f);

/* Print "ipcbox APPLET: MESSAGE (see 'ipcbox APPLET --help')" on one line
 * of stderr and return the usage exit status, 2. */
int opt_usage(const char *applet, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse an unsigned decimal in [min, max]. Returns 0 or -EINVAL. */
int opt_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a byte count with an optional binary suffix ("512k", "10m", "1g")
 * in [min, max], without overflow. Returns 0 or -EINVAL. */
int opt_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
