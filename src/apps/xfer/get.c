/* get: fetch files from an `ipcbox recv` server into a local directory
 * (same temporary-file, resume and verify-before-commit rules as the
 * server applies to uploads), or list what it offers. */
//applet: get fetch files from (or list) an ipcbox recv server, verified and resumable
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "xfer.h"

struct get_ctx {
    struct xfer_client c;   /* connection, progress, outcome */
    struct xfer_rx_opts opts;
    int rootfd;
    int algo;
    uint8_t flags;
};

static void fail_session(struct get_ctx *g, const char *name, int err)
{
    if (err == -EPROTO || err == -EMSGSIZE) {
        xfer_client_fail_file(&g->c, name, XFER_EXIT_PROTOCOL, "protocol error from server");
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "connection lost: %s",
                 err == -ECONNRESET ? "server closed the connection" : strerror(-err));
        xfer_client_fail_file(&g->c, name, XFER_EXIT_IO, msg);
    }
    g->c.fatal = true;
}

/* Receive DATA frames and END into rx; returns the result code to ACK
 * (0 = ok) or -errno when the session broke. */
static int get_body(struct get_ctx *g, struct xfer_rx *rx, char *why)
{
    struct ibx_frame_ev ev;
    for (;;) {
        int r = xfer_wire_next(&g->c.wire, &ev);
        if (r < 0)
            return r;
        if (ev.kind == IBX_FEV_DATA_END)
            continue;   /* empty DATA frame */
        if (ev.kind == IBX_FEV_DATA) {
            if (ev.len > xfer_rx_left(rx)) {
                xfer_whyf(why, "server sent more data than offered");
                return IBX_XC_PROTOCOL;
            }
            for (size_t left = ev.len; left > 0;) {
                ssize_t n = xfer_rx_pump(rx, g->c.wire.fd, left);
                if (n == 0)
                    return -ECONNRESET;
                if (n < 0)
                    return n == -EAGAIN ? -ETIMEDOUT : (int)n;
                ibx_frame_dec_skip(&g->c.wire.dec, (uint32_t)n);
                progress_add(&g->c.prog, (uint64_t)n);
                /* read back what was just written (see xfer_rx_verify_step) */
                if (xfer_rx_lease_check(rx) &&
                    xfer_rx_verify_step(rx, 2 * (uint64_t)n) < 0)
                    rx->leased = false;
                left -= (size_t)n;
            }
            continue;
        }
        struct ibx_msg_end end;
        if (ev.type == IBX_FT_END && ibx_msg_end_decode(ev.data, ev.len, &end) == 0)
            return xfer_rx_end(rx, &end, why);
        if (ev.type == IBX_FT_ERROR || ev.type == IBX_FT_ACK) {
            xfer_client_unexpected(&g->c, rx->path, &ev);
            return -ECANCELED;
        }
        xfer_whyf(why, "unexpected frame %u during data", ev.type);
        return IBX_XC_PROTOCOL;
    }
}

static void get_one(struct get_ctx *g, const char *name)
{
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    char why[XFER_WHY];
    struct ibx_frame_ev ev;
    size_t len = strlen(name);
    if (ibx_frame_path_check(name, len) < 0) {
        xfer_client_fail_file(&g->c, name, XFER_EXIT_REFUSED, "unsafe name refused");
        return;
    }
    struct ibx_msg_get req = {g->flags, (uint8_t)g->algo, name, (uint16_t)len};
    int r = xfer_client_send(&g->c, b, ibx_msg_get_encode(b, sizeof b, &req));
    if (!r)
        r = xfer_wire_next(&g->c.wire, &ev);
    if (r < 0) {
        fail_session(g, name, r);
        return;
    }
    struct ibx_msg_offer o;
    if (ev.type != IBX_FT_OFFER) {
        xfer_client_unexpected(&g->c, name, &ev);
        return;
    }
    if (ibx_msg_offer_decode(ev.data, ev.len, &o) < 0 || o.algo != g->algo) {
        xfer_client_fail_file(&g->c, name, XFER_EXIT_PROTOCOL, "malformed OFFER from server");
        g->c.fatal = true;
        return;
    }
    /* store under the name we asked for, whatever the server calls it */
    o.path = name;
    o.path_len = (uint16_t)len;
    o.flags = g->flags;

    struct xfer_rx rx;
    struct ibx_msg_resume rs;
    xfer_rx_init(&rx);
    int code = xfer_rx_offer(&rx, g->rootfd, &o, &g->opts, &rs, why);
    if (code) {
        xfer_client_fail_file(&g->c, name, xfer_exit_for_code(code), why);
        /* skip: an ACK in place of our RESUME */
        if (xfer_client_send(&g->c, b, ibx_msg_status_encode(b, sizeof b, IBX_FT_ACK,
                                                   (uint16_t)code, why)) < 0)
            g->c.fatal = true;
        goto out;
    }
    r = xfer_client_send(&g->c, b, ibx_msg_resume_encode(b, sizeof b, &rs));
    if (!r)   /* the server hashes its prefix of rs.offset bytes first */
        r = xfer_wire_next_after_hash(&g->c.wire, &ev, rs.offset);
    if (r < 0) {
        fail_session(g, name, r);
        goto out;
    }
    struct ibx_msg_resume confirm;
    if (ev.type != IBX_FT_RESUME) {
        xfer_client_unexpected(&g->c, name, &ev);   /* e.g. the server's EXISTS */
        goto out;
    }
    if (ibx_msg_resume_decode(ev.data, ev.len, &confirm) < 0) {
        xfer_client_fail_file(&g->c, name, XFER_EXIT_PROTOCOL, "malformed RESUME from server");
        g->c.fatal = true;
        goto out;
    }
    code = xfer_rx_confirm(&rx, &confirm, why);
    if (!code) {
        progress_file_begin(&g->c.prog, name, rx.size, true, rx.pos);
        r = get_body(g, &rx, why);
        if (r == -ECANCELED)
            goto out;
        if (r < 0) {
            fail_session(g, name, r);
            goto out;
        }
        code = r;
    }
    xfer_client_file_end(&g->c, code, rx.resumed_from);
    if (code > IBX_XC_UNCHANGED)
        xfer_client_fail_file(&g->c, name, xfer_exit_for_code(code), why);
    if (xfer_client_send(&g->c, b, ibx_msg_status_encode(b, sizeof b, IBX_FT_ACK,
                                               (uint16_t)code, why)) < 0)
        g->c.fatal = true;
    if (code == IBX_XC_PROTOCOL)
        g->c.fatal = true;
out:
    xfer_rx_close(&rx);
}

static int get_list(struct get_ctx *g)
{
    uint8_t b[64];
    struct ibx_frame_ev ev;
    int r = xfer_client_send(&g->c, b, ibx_msg_list_req_encode(b, sizeof b));
    for (unsigned long n = 0; !r; n++) {
        r = xfer_wire_next(&g->c.wire, &ev);
        if (r < 0)
            break;
        struct ibx_msg_offer e;
        if (ev.type == IBX_FT_LIST && ibx_msg_offer_decode(ev.data, ev.len, &e) == 0) {
            char when[32];
            time_t t = (time_t)e.mtime_sec;
            struct tm tm;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", gmtime_r(&t, &tm));
            /* names from a server are shown, never trusted: mask controls */
            char path[IBX_FRAME_PATH_MAX + 1];
            for (size_t i = 0; i < e.path_len; i++) {
                unsigned char ch = (unsigned char)e.path[i];
                path[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
            }
            path[e.path_len] = '\0';
            printf("%12" PRIu64 "  %04o  %s  %s\n", e.size, e.mode, when, path);
            continue;
        }
        struct ibx_msg_status st;
        if (ev.type == IBX_FT_ACK && ibx_msg_status_decode(ev.data, ev.len, &st) == 0 &&
            st.code == IBX_XC_OK)
            return fflush(stdout) == 0 ? 0 : XFER_EXIT_IO;
        xfer_client_unexpected(&g->c, "--list", &ev);
        return g->c.exit_code;
    }
    fail_session(g, "--list", r);
    return g->c.exit_code;
}

/* get's own options (the common ones are struct xfer_client_cfg). */
struct get_cfg {
    const char *output;
    bool list;
    bool overwrite;
};

static int set_mode(void *cfg, const char *text, char *err, size_t errlen)
{
    struct xfer_rx_opts *o = cfg;
    if (xfer_parse_mode(text, &o->mode) < 0) {
        snprintf(err, errlen, "wants octal permissions up to 0777");
        return -1;
    }
    o->force_mode = true;
    return 0;
}

static const struct opt get_opts[] = {
    {.name = "output", .type = OPT_T_STR, OPT_FIELD_(struct get_cfg, output),
     .arg = "DIR", .def = ".", .help = "store files under DIR", .short_name = 'o'},
    OPT_B(struct get_cfg, list, "list",
          "list the server's files (size, mode, mtime, name) instead"),
    OPT_B(struct get_cfg, overwrite, "overwrite", "replace local files that differ"),
    OPT_TABLE_END,
};

/* Rows filling the receiving side's policy (struct xfer_rx_opts). */
static const struct opt get_rx_opts[] = {
    {.name = "max-size", .type = OPT_T_SIZE, OPT_FIELD_(struct xfer_rx_opts, max_size),
     .arg = "BYTES", .min = 1, .max = 1ull << 60,
     .help = "refuse a file the server announces larger than this, before writing "
             "anything (suffix k, m, g)"},
    OPT_C(struct xfer_rx_opts, mode, "mode", "OCTAL", NULL, set_mode,
          "give every fetched file this mode (e.g. 600)"),
    OPT_TABLE_END,
};

static const char get_about[] =
    "Fetch files by their relative NAME from an 'ipcbox recv' server (default "
    "port 7070) into DIR, or list the files it serves (--list, no NAME). Data "
    "goes to a hidden temporary file that is verified, fsynced and renamed into "
    "place; an interrupted fetch resumes when run again. A file gets the "
    "server's permission bits less the umask (never setuid, setgid or sticky), "
    "or the --mode given.";

static const char get_footer[] =
    "\nExit: 0 all fetched (or already identical), 1 connection or I/O\n"
    "error, 2 usage, 3 a file was refused or not found, 4 hash mismatch,\n"
    "5 protocol error, 6 authentication required or failed.\n";

int get_main(int argc, char **argv)
{
    struct get_ctx g;
    memset(&g, 0, sizeof g);
    g.c.who = "get";
    g.c.peer = "server";
    g.opts.umask = xfer_process_umask();
    struct xfer_client_cfg cc = {0};
    struct get_cfg gc = {0};
    struct cli cli;
    cli_init(&cli, "get");
    opt_defaults(xfer_client_opts, &cc);
    opt_defaults(get_opts, &gc);
    opt_defaults(cli_log_opts, &cli);
    char footer[sizeof get_footer + 512];
    snprintf(footer, sizeof footer, "%s%s", xfer_client_progress_help, get_footer);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "get", "[options] HOST[:PORT] NAME... | --list", get_about);
    cmd.footer = footer;
    cmd.min_args = 1;
    cmd.max_args = UINT_MAX;
    opt_cmd_add(&cmd, "options", NULL, NULL, get_opts, &gc);
    opt_cmd_add(&cmd, "options", NULL, NULL, get_rx_opts, &g.opts);
    opt_cmd_add(&cmd, "options", NULL, NULL, xfer_client_opts, &cc);
    opt_cmd_add(&cmd, "options", NULL, NULL, cli_log_opts, &cli);
    int r = opt_parse(&cmd, argc, argv);
    if (r < 0 && !gc.list && cmd.nargs < 2)
        r = opt_usage("get", "need NAME... (or --list)");
    if (r < 0 && gc.list && cmd.nargs > 1)
        r = opt_usage("get", "--list takes no NAME");
    if (r >= 0) {
        opt_cmd_free(&cmd);
        return r;
    }
    cli_finish(&cli);
    g.algo = cc.algo;
    if (gc.overwrite) {
        g.flags |= IBX_OFFER_OVERWRITE;
        g.opts.allow_overwrite = true;
    }
    const char *host = cmd.args[0], *outdir = gc.output;
    struct xfer_auth auth = {NULL, cc.allow_anonymous};
    static struct xfer_token token;
    if (cc.token_file && xfer_token_load_cli("get", cc.token_file, &token) < 0) {
        opt_cmd_free(&cmd);
        return EXIT_USAGE;
    }
    if (cc.token_file)
        auth.token = &token;

    /* connect (and authenticate) before creating anything locally */
    g.rootfd = -1;
    r = xfer_wire_connect(&g.c.wire, host, (int)cc.timeout * 1000, &auth);
    xfer_token_wipe(&token);
    if (!r && !gc.list) {
        if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "get: %s: %s\n", outdir, strerror(errno));
            r = XFER_EXIT_IO;
        } else if ((g.rootfd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            fprintf(stderr, "get: %s: %s\n", outdir, strerror(errno));
            r = XFER_EXIT_IO;
        }
        if (r)
            xfer_wire_error(&g.c.wire, IBX_XC_IO, "client cannot store files");
    } else if (r) {
        fprintf(stderr, "get: %s\n", g.c.wire.err);
    }
    if (!r && gc.list) {
        r = get_list(&g);
    } else if (!r) {
        bool quiet = !ibx_log_enabled(&cli.log, IBX_LOG_INFO);
        progress_init(&g.c.prog, "get", true, xfer_progress_mode(quiet, cc.no_progress));
        progress_expect(&g.c.prog, (unsigned)(cmd.nargs - 1), 0, false);
        for (size_t i = 1; i < cmd.nargs && !g.c.fatal; i++)
            get_one(&g, cmd.args[i]);
        progress_finish(&g.c.prog);
        r = g.c.exit_code;
    }
    xfer_wire_close(&g.c.wire);
    if (g.rootfd >= 0)
        close(g.rootfd);
    opt_cmd_free(&cmd);
    return r;
}
