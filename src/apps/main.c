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
