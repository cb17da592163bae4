/* The chat client's view of server lines: read (chat_irc_read: tags
 * skipped and the rest cut, on the library's ibx_irc_parse, which
 * fuzz_irc.c fuzzes on its own), then shown (chat_format, with and without colour and quiet) -- the output
 * must never hold a control character other than the SGR colour codes;
 * and the same bytes as a typed line (chat_command): what goes out holds
 * CR LF only as line ends and no line passes 512 bytes. The client's
 * files are compiled in (they live beside the applet, not in the library). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/apps/chat/command.c"
#include "../src/apps/chat/format.c"
#include "../src/apps/chat/ircmsg.c"
#include "../src/apps/chat/safe.c"
#include "../src/apps/termtext.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_shown(const char *s, bool color)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\033' && color) {          /* only ESC [ digits m */
            if (p[1] != '[')
                abort();
            p += 2;
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p != 'm')
                abort();
            continue;
        }
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CHAT_IN_MAX)
        return 0;
    char line[CHAT_IN_MAX + 1], copy[CHAT_IN_MAX + 1];
    memcpy(line, data, size);
    line[size] = '\0';
    memcpy(copy, line, size + 1);
    struct ibx_irc_msg m;
    if (chat_irc_read(line, &m) == 0) {
        if (!m.command || m.nparams > IBX_IRC_PARAMS_MAX)
            abort();
        for (size_t i = 0; i < m.nparams; i++)      /* inside the line */
            if (m.params[i] < line || m.params[i] > line + size)
                abort();
        char out[CHAT_SHOW_MAX];
        for (int k = 0; k < 4; k++) {
            struct chat_view v = {"me", k & 1, k & 2};
            size_t n = chat_format(&v, &m, out, sizeof out);
            if (n != strlen(out))
                abort();
            check_shown(out, v.color);
        }
    }
    static struct chat_cmd c;
    chat_command(copy, "#room", &c);
    if (c.kind == CHAT_CMD_SEND || c.kind == CHAT_CMD_SAY || c.kind == CHAT_CMD_QUIT) {
        const char *p = c.out, *end = c.out + c.len;
        while (p < end) {
            const char *e = memchr(p, '\r', (size_t)(end - p));
            if (!e || e + 1 >= end || e[1] != '\n' || e - p + 2 > CHAT_LINE_MAX ||
                memchr(p, '\n', (size_t)(e - p)) || memchr(p, '\0', (size_t)(e - p)))
                abort();
            p = e + 2;
        }
    }
    return 0;
}
