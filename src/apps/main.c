/* The multi-call entry point: `ipcbox APPLET ARGS` or a symlink named
 * APPLET both dispatch through the generated registration table. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct applet {
    const char *name;
    const char *desc;
    int (*main)(int argc, char **argv);
};

static const struct applet applets[] = {
#define APPLET(name, desc) {#name, desc, name##_main},
#include "applets.gen.h"
#undef APPLET
};

static const struct applet *find_applet(const char *name)
{
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
        if (strcmp(applets[i].name, name) == 0)
            return &applets[i];
    return NULL;
}

static int usage(FILE *f)
{
    fprintf(f,
            "usage: ipcbox APPLET [ARGS...]   (or a symlink named APPLET)\n"
            "       ipcbox --help | --version | --list | --list-models\n\n"
            "Every way two processes talk, in one binary.\n\napplets:\n");
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
        fprintf(f, "  %-10s %s\n", applets[i].name, applets[i].desc);
    fprintf(f, "\nRun 'ipcbox APPLET --help' for the flags of one applet.\n");
    return f == stdout ? 0 : EXIT_USAGE;
}

/* ipcbox(1): the applets, each with its own page ipcbox-APPLET(1). */
static int man_page(void)
{
    printf(".TH IPCBOX 1 \"\" \"ipcbox %s\" \"User Commands\"\n"
           ".SH NAME\nipcbox \\- every way two processes talk, in one binary\n"
           ".SH SYNOPSIS\n.B ipcbox\n\\fIAPPLET\\fR [\\fIOPTIONS\\fR]\n.br\n"
           ".B ipcbox\n\\-\\-help | \\-\\-version | \\-\\-list | \\-\\-list\\-models\n"
           ".SH DESCRIPTION\nA multi-call binary: the first argument (or the name of a "
           "symbolic link to it) chooses the applet. Servers listen on 127.0.0.1 unless "
           "told otherwise; every applet takes \\-\\-help and \\-\\-version.\n"
           ".SH APPLETS\n", IPCBOX_VERSION);
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
        printf(".TP\n.BR ipcbox\\-%s (1)\n%s\n", applets[i].name, applets[i].desc);
    printf(".SH EXIT STATUS\n0 success, 1 runtime failure, 2 bad usage, 127 unknown "
           "applet.\n.SH FILES\n.TP\n.I ipcbox.ini\nan example configuration for "
           "\\fBipcbox serve \\-\\-config\\fR.\n.SH SEE ALSO\n");
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
        printf(".BR ipcbox\\-%s (1)%s\n", applets[i].name,
               i + 1 < sizeof applets / sizeof applets[0] ? "," : "");
    return 0;
}

int main(int argc, char **argv)
{
    char *base = basename(argv[0]);
    if (strcmp(base, "ipcbox") != 0) {
        const struct applet *a = find_applet(base);
        if (a)
            return a->main(argc, argv);
    }
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
        return usage(stdout);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("ipcbox %s\n", IPCBOX_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "--help-man"))
        return man_page();
    if (!strcmp(cmd, "--list")) {
        for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
            printf("%s\n", applets[i].name);
        return 0;
    }
    if (!strcmp(cmd, "--list-models")) {
        const char *name;
        for (size_t i = 0; (name = ibx_model_at(i)); i++)
            printf("%s\n", name);
        return 0;
    }
    const struct applet *a = find_applet(cmd);
    if (!a) {
        fprintf(stderr, "ipcbox: %s: no such applet (see 'ipcbox --help')\n", cmd);
        return 127;
    }
    return a->main(argc - 1, argv + 1);
}
