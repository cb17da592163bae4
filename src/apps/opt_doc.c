/* Documentation from the option rows: --help text and the man page. */
#include "opt.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#define HELP_WIDTH 80
#define HELP_LEFT 24   /* column where the help text starts */

/* The left column of o: "  --httpd-cgi PREFIX". */
static void left_col(const struct opt_group *g, const struct opt *o, char *buf,
                     size_t n)
{
    char shortf[8] = "";
    if (o->short_name && !g->prefix)
        snprintf(shortf, sizeof shortf, "-%c, ", o->short_name);
    snprintf(buf, n, "  %s--%s%s%s%s", shortf, g->prefix ? g->prefix : "", o->name,
             o->arg && o->type != OPT_T_BOOL ? " " : "",
             o->arg && o->type != OPT_T_BOOL ? o->arg : "");
}

/* Write text wrapped to HELP_WIDTH, continuation lines indented to col,
 * the first line starting at column `at`. */
static void wrap(FILE *f, const char *text, size_t at, size_t col)
{
    size_t x = at;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (!w)
            break;
        if (x > col && x + 1 + w > HELP_WIDTH) {
            fprintf(f, "\n%*s", (int)col, "");
            x = col;
        } else if (x > col) {
            fputc(' ', f);
            x++;
        }
        fwrite(p, 1, w, f);
        x += w;
        p += w;
    }
    fputc('\n', f);
}

/* The help sentence of o with its default appended. */
static void help_text(const struct opt *o, char *buf, size_t n)
{
    const char *h = o->help ? o->help : "";
    if (o->def && o->type != OPT_T_BOOL)
        snprintf(buf, n, "%s (default: %s)", h, o->def);
    else
        snprintf(buf, n, "%s", h);
}

void opt_help(const struct opt_cmd *cmd, FILE *f)
{
    fprintf(f, "usage: ipcbox %s %s\n", cmd->applet, cmd->synopsis ? cmd->synopsis : "");
    if (cmd->about) {
        fputc('\n', f);
        /* paragraphs: the text's own newlines are kept */
        const char *p = cmd->about;
        while (*p) {
            size_t len = strcspn(p, "\n");
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)len, p);
            wrap(f, line, 0, 0);
            p += len + (p[len] == '\n');
        }
    }
    const char *last_title = NULL;
    for (size_t g = 0; g < cmd->ngroups; g++) {
        const struct opt_group *grp = &cmd->groups[g];
        bool any = false;
        for (const struct opt *o = grp->opts; o && o->type; o++)
            any |= !(o->flags & OPT_F_HIDDEN);
        if (!any)
            continue;
        if (grp->title && (!last_title || strcmp(last_title, grp->title))) {
            fprintf(f, "\n%s:\n", grp->title);
            last_title = grp->title;
        }
        for (const struct opt *o = grp->opts; o && o->type; o++) {
            if (o->flags & OPT_F_HIDDEN)
                continue;
            char left[128], text[1024];
            left_col(grp, o, left, sizeof left);
            help_text(o, text, sizeof text);
            size_t l = strlen(left);
            fputs(left, f);
            if (l + 2 > HELP_LEFT) {
                fprintf(f, "\n%*s", HELP_LEFT, "");
                l = HELP_LEFT;
            } else {
                fprintf(f, "%*s", (int)(HELP_LEFT - l), "");
                l = HELP_LEFT;
            }
            wrap(f, text, l, HELP_LEFT);
        }
    }
    fprintf(f, "\ngeneral:\n");
    if (cmd->config_file)
        fprintf(f, "  --config FILE         read options from an INI file first (one\n"
                   "                        [section] per service, keys as the flags)\n");
    fprintf(f, "  -h, --help            this help\n"
               "  --version             print the version\n");
    if (cmd->footer) {
        fputc('\n', f);
        fputs(cmd->footer, f);
    }
}

/* Write s as roff text: backslashes and leading dots escaped, '-' as \-. */
static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else if (*s == '\n') {
            fputc('\n', f);
            if (s[1] == '.' || s[1] == '\'')
                fputs("\\&", f);
        } else
            fputc(*s, f);
    }
}

void opt_man(const struct opt_cmd *cmd, FILE *f)
{
    char upper[64];
    size_t u = 0;
    for (; cmd->applet[u] && u + 1 < sizeof upper; u++)
        upper[u] = (char)toupper((unsigned char)cmd->applet[u]);
    upper[u] = '\0';
    fprintf(f, ".TH IPCBOX\\-%s 1 \"\" \"ipcbox %s\" \"User Commands\"\n", upper,
            IPCBOX_VERSION);
    fprintf(f, ".SH NAME\nipcbox\\-");
    roff(f, cmd->applet);
    fputs(" \\- ", f);
    /* the first sentence of the description */
    const char *about = cmd->about ? cmd->about : "";
    size_t n = 0;   /* up to ". " (not the dot of "HTTP/1.1") or the line's end */
    while (about[n] && about[n] != '\n' && !(about[n] == '.' && (about[n + 1] == ' ' ||
                                                                 !about[n + 1])))
        n++;
    char first[256];
    snprintf(first, sizeof first, "%.*s", (int)n, about);
    roff(f, first);
    fprintf(f, "\n.SH SYNOPSIS\n.B ipcbox %s\n", cmd->applet);
    roff(f, cmd->synopsis ? cmd->synopsis : "");
    fputs("\n.SH DESCRIPTION\n", f);
    for (const char *p = about; *p;) {
        size_t len = strcspn(p, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        roff(f, line);
        fputs("\n.PP\n", f);
        p += len + (p[len] == '\n');
    }
    const char *last_title = NULL;
    fputs(".SH OPTIONS\n", f);
    for (size_t g = 0; g < cmd->ngroups; g++) {
        const struct opt_group *grp = &cmd->groups[g];
        if (grp->title && (!last_title || strcmp(last_title, grp->title))) {
            fputs(".SS ", f);
            roff(f, grp->title);
            fputc('\n', f);
            last_title = grp->title;
        }
        for (const struct opt *o = grp->opts; o && o->type; o++) {
            if (o->flags & OPT_F_HIDDEN)
                continue;
            char name[128], text[1024];
            snprintf(name, sizeof name, "--%s%s", grp->prefix ? grp->prefix : "", o->name);
            fputs(".TP\n.B ", f);
            if (o->short_name && !grp->prefix)
                fprintf(f, "\\-%c, ", o->short_name);
            roff(f, name);
            if (o->arg && o->type != OPT_T_BOOL) {
                fputs(" \\fI", f);
                roff(f, o->arg);
                fputs("\\fR", f);
            }
            fputc('\n', f);
            help_text(o, text, sizeof text);
            roff(f, text);
            fputc('\n', f);
        }
    }
    fputs(".TP\n.B \\-h, \\-\\-help\nPrint the options and exit.\n"
          ".TP\n.B \\-\\-version\nPrint the version and exit.\n", f);
    if (cmd->config_file)
        fputs(".TP\n.B \\-\\-config \\fIFILE\\fR\nRead options from an INI file "
              "first; the command line wins. See ipcbox.ini.\n", f);
    fputs(".SH EXIT STATUS\n0 success, 1 runtime failure, 2 bad usage (one line on "
          "standard error), 127 unknown applet.\n"
          ".SH SEE ALSO\n.BR ipcbox (1)\n", f);
}

/* Read a field of 1, 2, 4 or 8 bytes. */
static uint64_t load_uint(const void *field, size_t size)
{
    switch (size) {
    case 1: return *(const uint8_t *)field;
    case 2: return *(const uint16_t *)field;
    case 4: return *(const uint32_t *)field;
    default: return *(const uint64_t *)field;
    }
}

/* Print one row's value(s) as `name = value` lines. */
static void print_row(FILE *f, const struct opt_group *g, const struct opt *o)
{
    const void *field = (const char *)g->cfg + o->off;
    switch (o->type) {
    case OPT_T_BOOL: {
        bool v = *(const bool *)field;
        if (o->flags & OPT_F_INVERT)
            v = !v;
        fprintf(f, "%s = %s\n", o->name, v ? "yes" : "no");
        return;
    }
    case OPT_T_UINT: {
        uint64_t v = load_uint(field, o->size);
        if (o->scale)
            v /= o->scale;
        if (v < o->min)   /* 0 below the range: computed at run time */
            fprintf(f, "; %s (default)\n", o->name);
        else
            fprintf(f, "%s = %llu\n", o->name, (unsigned long long)v);
        return;
    }
    case OPT_T_SIZE: {
        uint64_t v = load_uint(field, o->size);
        if (v < o->min)
            fprintf(f, "; %s (default)\n", o->name);
        else
            fprintf(f, "%s = %llu\n", o->name, (unsigned long long)v);
        return;
    }
    case OPT_T_STR: {
        const char *v = *(const char *const *)field;
        if (v)
            fprintf(f, "%s = %s\n", o->name, v);
        else
            fprintf(f, "; %s (unset)\n", o->name);
        return;
    }
    case OPT_T_LIST: {
        const struct opt_strv *l = field;
        for (size_t i = 0; i < l->n; i++)
            fprintf(f, "%s = %s\n", o->name, l->v[i]);
        if (!l->n)
            fprintf(f, "; %s (default)\n", o->name);
        return;
    }
    case OPT_T_CALL: {
        const char *v = g->given ? g->given[o - g->opts] : NULL;
        if (v || o->def)
            fprintf(f, "%s = %s\n", o->name, v ? v : o->def);
        else
            fprintf(f, "; %s (unset)\n", o->name);
        return;
    }
    case OPT_T_END:
        break;
    }
}

void opt_print_config(const struct opt_cmd *cmd, FILE *f)
{
    const char *last = NULL;
    for (size_t g = 0; g < cmd->ngroups; g++) {
        const struct opt_group *grp = &cmd->groups[g];
        const char *sec = grp->section ? grp->section : cmd->applet;
        bool any = false;
        for (const struct opt *o = grp->opts; o && o->type; o++)
            any |= !(o->flags & OPT_F_CLI);
        if (!any)
            continue;
        if (!last || strcmp(last, sec) != 0)
            fprintf(f, "%s[%s]\n", last ? "\n" : "", sec);
        last = sec;
        for (const struct opt *o = grp->opts; o && o->type; o++)
            if (!(o->flags & OPT_F_CLI))
                print_row(f, grp, o);
    }
}
