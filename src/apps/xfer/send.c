/* send: offer files and directories to an `ipcbox recv` server, resume
 * what an interrupted run left, verify every file end to end. */
//applet: send send files and directories to an ipcbox recv server (framed, verified, resumable)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "xfer.h"

/* Deepest directory nesting followed. */
#define SEND_DEPTH 64

struct send_ctx {
    struct xfer_client c;   /* connection, progress, outcome */
    int algo;
    uint8_t flags;
    uint64_t limit_rate;    /* bytes per second, 0 = unlimited */
    uint8_t *buf;           /* header + one DATA chunk */
    size_t chunk;
};

/* The session broke: report once, stop. */
static void fail_session(struct send_ctx *s, const char *path, int err)
{
    char msg[IBX_FRAME_TEXT_MAX + 128], reason[IBX_FRAME_TEXT_MAX + 32];
    int code, ec;
    if ((err == -EPIPE || err == -ECONNRESET) &&
        (code = xfer_wire_reason(&s->c.wire, reason, sizeof reason)) >= 0) {
        snprintf(msg, sizeof msg, "receiver stopped the transfer: %s", reason);
        ec = xfer_exit_for_code(code) ? xfer_exit_for_code(code) : XFER_EXIT_IO;
    } else if (err == -EPROTO || err == -EMSGSIZE) {
        snprintf(msg, sizeof msg, "protocol error from receiver (%s)", strerror(-err));
        ec = XFER_EXIT_PROTOCOL;
    } else {
        snprintf(msg, sizeof msg, "connection lost: %s",
                 err == -ECONNRESET ? "receiver closed the connection" : strerror(-err));
        ec = XFER_EXIT_IO;
    }
    xfer_client_fail_file(&s->c, path, ec, msg);
    s->c.fatal = true;
}

/* Sleep as needed so that bytes sent since t0 stay under the rate. */
static void throttle(const struct send_ctx *s, const struct timespec *t0,
                     uint64_t bytes)
{
    if (!s->limit_rate)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - t0->tv_sec) +
                     (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
    double due = (double)bytes / (double)s->limit_rate;
    if (due > elapsed) {
        double d = due - elapsed;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* The whole exchange for one open file. */
static void send_one(struct send_ctx *s, int fd, const char *relpath)
{
    struct xfer_tx tx;
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    char why[XFER_WHY];
    struct ibx_frame_ev ev;
    int r = xfer_tx_open(&tx, fd, relpath, s->algo, s->flags);
    if (r < 0) {
        xfer_client_fail_file(&s->c, relpath, XFER_EXIT_IO, strerror(-r));
        return;
    }
    r = xfer_client_send(&s->c, b, ibx_msg_offer_encode(b, sizeof b, IBX_FT_OFFER, &tx.offer));
    if (!r)   /* it may hash its partial or existing copy first */
        r = xfer_wire_next_after_hash(&s->c.wire, &ev, tx.size);
    if (r < 0) {
        fail_session(s, relpath, r);
        goto out;
    }
    struct ibx_msg_resume rs, confirm;
    if (ev.type != IBX_FT_RESUME) {
        xfer_client_unexpected(&s->c, relpath, &ev);
        goto out;
    }
    if (ibx_msg_resume_decode(ev.data, ev.len, &rs) < 0) {
        xfer_client_fail_file(&s->c, relpath, XFER_EXIT_PROTOCOL, "malformed RESUME from receiver");
        s->c.fatal = true;
        goto out;
    }
    int code = xfer_tx_resume(&tx, &rs, &confirm, why);
    if (code) {
        /* skip this file: an ACK in place of the confirming RESUME */
        xfer_client_fail_file(&s->c, relpath, xfer_exit_for_code(code), why);
        if (xfer_client_send(&s->c, b, ibx_msg_status_encode(b, sizeof b, IBX_FT_ACK,
                                                   (uint16_t)code, why)) < 0)
            s->c.fatal = true;
        goto out;
    }
    r = xfer_client_send(&s->c, b, ibx_msg_resume_encode(b, sizeof b, &confirm));
    progress_file_begin(&s->c.prog, relpath, tx.size, true, tx.pos);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sent = 0;
    while (!r && !tx.skip_data) {
        ssize_t n = xfer_tx_read(&tx, s->buf + IBX_FRAME_HDR, s->chunk);
        if (n == 0)
            break;
        if (n < 0) {
            xfer_client_fail_file(&s->c, relpath, XFER_EXIT_IO, strerror((int)-n));
            s->c.fatal = true;   /* the receiver waits for bytes we lack */
            goto out;
        }
        ibx_frame_hdr_encode(s->buf, IBX_FT_DATA, (uint32_t)n);
        r = xfer_wire_send(&s->c.wire, s->buf, IBX_FRAME_HDR + (size_t)n);
        progress_add(&s->c.prog, (uint64_t)n);
        sent += (uint64_t)n;
        throttle(s, &t0, sent);
    }
    struct ibx_msg_end end;
    if (!r && xfer_tx_end(&tx, &end) < 0)
        r = -EIO;
    if (!r)
        r = xfer_client_send(&s->c, b, ibx_msg_end_encode(b, sizeof b, &end));
    if (!r)   /* fsync, and maybe a full re-read, before the verdict */
        r = xfer_wire_next_after_hash(&s->c.wire, &ev, tx.size);
    if (r < 0) {
        fail_session(s, relpath, r);
        xfer_client_file_end(&s->c, IBX_XC_IO, 0);
        goto out;
    }
    struct ibx_msg_status st;
    if (ev.type != IBX_FT_ACK || ibx_msg_status_decode(ev.data, ev.len, &st) < 0) {
        xfer_client_file_end(&s->c, IBX_XC_PROTOCOL, 0);
        xfer_client_unexpected(&s->c, relpath, &ev);
        goto out;
    }
    xfer_client_file_end(&s->c, st.code, tx.resumed_from);
    if (st.code > IBX_XC_UNCHANGED) {
        char msg[IBX_FRAME_TEXT_MAX + 64];
        snprintf(msg, sizeof msg, "%s: %.*s", ibx_frame_code_name(st.code),
                 (int)st.text_len, st.text);
        xfer_client_fail_file(&s->c, relpath, xfer_exit_for_code(st.code), msg);
    }
out:
    xfer_tx_close(&tx);
}

/* Send directory dirfd recursively as prefix/... */
static void send_dir(struct send_ctx *s, int dfd, const char *prefix, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        xfer_client_fail_file(&s->c, prefix, XFER_EXIT_IO, strerror(errno));
        close(dfd);
        return;
    }
    struct dirent *de;
    while (!s->c.fatal && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char rel[IBX_FRAME_PATH_MAX + 2];
        int n = snprintf(rel, sizeof rel, "%s%s%s", prefix, *prefix ? "/" : "",
                         de->d_name);
        if (n < 0 || (size_t)n > IBX_FRAME_PATH_MAX) {
            xfer_client_fail_file(&s->c, de->d_name, XFER_EXIT_REFUSED, "path too long");
            continue;
        }
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                        O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 && errno == ELOOP) {
            progress_clear(&s->c.prog);
            fprintf(stderr, "send: %s: symlink, skipped\n", rel);
            continue;
        }
        if (fd < 0 || fstat(fd, &st) < 0) {
            xfer_client_fail_file(&s->c, rel, XFER_EXIT_IO, strerror(errno));
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth >= SEND_DEPTH) {
                xfer_client_fail_file(&s->c, rel, XFER_EXIT_REFUSED, "directory nesting too deep");
                close(fd);
            } else {
                send_dir(s, fd, rel, depth + 1);
            }
        } else if (S_ISREG(st.st_mode)) {
            if (ibx_frame_path_check(rel, (size_t)n) < 0) {
                xfer_client_fail_file(&s->c, rel, XFER_EXIT_REFUSED, "name cannot be sent safely");
                close(fd);
                continue;
            }
            send_one(s, fd, rel);
        } else {
            progress_clear(&s->c.prog);
            fprintf(stderr, "send: %s: not a regular file, skipped\n", rel);
            close(fd);
        }
    }
    closedir(d);
}

/* Count what send_dir would offer under directory dfd (closed) at depth:
 * regular files and their bytes, symlinks not followed, SEND_DEPTH kept.
 * For the progress display only: errors are reported when sending. */
static void count_dir(int dfd, int depth, unsigned *files, uint64_t *bytes)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            (*files)++;
            *bytes += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < SEND_DEPTH) {
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                            O_CLOEXEC);
            if (fd >= 0)
                count_dir(fd, depth + 1, files, bytes);
        }
    }
    closedir(d);
}

/* Count what send_arg(arg) would offer (see count_dir). */
static void count_arg(const char *arg, unsigned *files, uint64_t *bytes)
{
    struct stat st;
    if (stat(arg, &st) < 0)
        return;
    if (S_ISREG(st.st_mode)) {
        (*files)++;
        *bytes += (uint64_t)st.st_size;
    } else if (S_ISDIR(st.st_mode)) {
        int fd = open(arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
            count_dir(fd, 1, files, bytes);
    }
}

/* One command-line argument. */
static void send_arg(struct send_ctx *s, const char *arg)
{
    int fd = open(arg, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        xfer_client_fail_file(&s->c, arg, XFER_EXIT_IO, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", arg);
    size_t len = strlen(copy);
    bool contents = len > 0 && copy[len - 1] == '/';
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *base = basename(copy);
    if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/"))
        contents = true;
    if (S_ISDIR(st.st_mode)) {
        send_dir(s, fd, contents ? "" : base, 1);
    } else if (S_ISREG(st.st_mode)) {
        if (ibx_frame_path_check(base, strlen(base)) < 0) {
            xfer_client_fail_file(&s->c, arg, XFER_EXIT_REFUSED, "name cannot be sent safely");
            close(fd);
            return;
        }
        send_one(s, fd, base);
    } else {
        xfer_client_fail_file(&s->c, arg, XFER_EXIT_REFUSED, "not a regular file or directory");
        close(fd);
    }
}

/* send's own options (the common ones are struct xfer_client_cfg). */
struct send_cfg {
    bool overwrite;
    uint64_t limit_rate;
};

static const struct opt send_opts[] = {
    OPT_B(struct send_cfg, overwrite, "overwrite",
          "replace files that exist with other content"),
    {.name = "limit-rate", .type = OPT_T_SIZE, OPT_FIELD_(struct send_cfg, limit_rate),
     .arg = "BYTES", .min = 1, .max = 1ull << 40,
     .help = "at most BYTES per second (suffix k, m, g)"},
    OPT_TABLE_END,
};

static const char send_about[] =
    "Send files and directories (recursively, relative paths kept) to an "
    "'ipcbox recv' server (default port 7070). A directory DIR arrives as "
    "DIR/...; write DIR/ to send its contents only. Every file is hashed while "
    "it is sent and verified by the receiver before it is committed; an "
    "interrupted transfer resumes where it stopped when the same command runs "
    "again. Symlinks inside directories are not followed.";

static const char send_footer[] =
    "\nExit: 0 all sent (or already identical), 1 connection or I/O error,\n"
    "2 usage, 3 a file was refused, 4 hash mismatch, 5 protocol error,\n"
    "6 authentication required or failed.\n";

int send_main(int argc, char **argv)
{
    struct send_ctx s;
    memset(&s, 0, sizeof s);
    s.c.who = "send";
    s.c.peer = "receiver";
    struct xfer_client_cfg cc = {0};
    struct send_cfg sc = {0};
    struct cli cli;
    cli_init(&cli, "send");
    opt_defaults(xfer_client_opts, &cc);
    opt_defaults(send_opts, &sc);
    opt_defaults(cli_log_opts, &cli);
    char footer[sizeof send_footer + 512];
    snprintf(footer, sizeof footer, "%s%s", xfer_client_progress_help, send_footer);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "send", "[options] PATH... HOST[:PORT]", send_about);
    cmd.footer = footer;
    cmd.min_args = 2;
    cmd.max_args = UINT_MAX;
    opt_cmd_add(&cmd, "options", NULL, NULL, send_opts, &sc);
    opt_cmd_add(&cmd, "options", NULL, NULL, xfer_client_opts, &cc);
    opt_cmd_add(&cmd, "options", NULL, NULL, cli_log_opts, &cli);
    int r = opt_parse(&cmd, argc, argv);
    if (r >= 0) {
        opt_cmd_free(&cmd);
        return r;
    }
    cli_finish(&cli);
    s.algo = cc.algo;
    s.limit_rate = sc.limit_rate;
    if (sc.overwrite)
        s.flags |= IBX_OFFER_OVERWRITE;
    const char *dest = cmd.args[cmd.nargs - 1];
    struct xfer_auth auth = {NULL, cc.allow_anonymous};
    static struct xfer_token token;
    if (cc.token_file && xfer_token_load_cli("send", cc.token_file, &token) < 0) {
        opt_cmd_free(&cmd);
        return EXIT_USAGE;
    }
    if (cc.token_file)
        auth.token = &token;

    r = xfer_wire_connect(&s.c.wire, dest, (int)cc.timeout * 1000, &auth);
    xfer_token_wipe(&token);
    if (r) {
        fprintf(stderr, "send: %s\n", s.c.wire.err);
        xfer_wire_close(&s.c.wire);
        opt_cmd_free(&cmd);
        return r;
    }
    s.chunk = XFER_CHUNK < s.c.wire.peer_data_max ? XFER_CHUNK : s.c.wire.peer_data_max;
    s.buf = malloc(IBX_FRAME_HDR + s.chunk);
    if (!s.buf) {
        xfer_wire_close(&s.c.wire);
        opt_cmd_free(&cmd);
        return XFER_EXIT_IO;
    }
    bool quiet = !ibx_log_enabled(&cli.log, IBX_LOG_INFO);
    progress_init(&s.c.prog, "send", true, xfer_progress_mode(quiet, cc.no_progress));
    size_t npaths = cmd.nargs - 1;
    if (s.c.prog.mode == PROGRESS_ON) {
        unsigned files = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < npaths; i++)
            count_arg(cmd.args[i], &files, &bytes);
        progress_expect(&s.c.prog, files, bytes, true);
    }
    for (size_t i = 0; i < npaths && !s.c.fatal; i++)
        send_arg(&s, cmd.args[i]);
    progress_finish(&s.c.prog);
    xfer_wire_close(&s.c.wire);
    free(s.buf);
    opt_cmd_free(&cmd);
    return s.c.exit_code;
}
