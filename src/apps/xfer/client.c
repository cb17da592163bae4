/* What the two clients, send and get, share (see struct xfer_client),
 * and the options they take alike. */
#include <stdio.h>

#include "xfer.h"

static int set_hash(void *cfg, const char *text, char *err, size_t errlen)
{
    struct xfer_client_cfg *c = cfg;
    int algo = ibx_hash_algo_parse(text);
    if (algo < 0) {
        snprintf(err, errlen, "wants xxh3 or sha256");
        return -1;
    }
    c->algo = algo;
    return 0;
}

const struct opt xfer_client_opts[] = {
    OPT_C(struct xfer_client_cfg, algo, "hash", "ALGO", "xxh3", set_hash,
          "xxh3 (XXH3-128) or sha256"),
    OPT_U(struct xfer_client_cfg, timeout, "timeout", "SECONDS", "30", 1, 86400,
          "give up on a peer silent this long"),
    OPT_S(struct xfer_client_cfg, token_file, "token-file", "FILE",
          "authenticate with the shared token in FILE (the peer's --token-file; make "
          "one with head -c 32 /dev/urandom | base64 > FILE; chmod 600); the peer "
          "must prove it knows it too"),
    OPT_B(struct xfer_client_cfg, allow_anonymous, "allow-anonymous",
          "with --token-file: go on even if the peer has no token and so cannot "
          "prove it knows it"),
    OPT_B(struct xfer_client_cfg, no_progress, "no-progress",
          "no progress display, only the summary line (--quiet: neither)"),
    OPT_TABLE_END,
};

const char xfer_client_progress_help[] =
    "Progress (stderr): on a terminal one line for the whole run (files\n"
    "done/total, files skipped as unchanged, bytes, rate, ETA, the current\n"
    "file) redrawn in place and fitted to the width; otherwise a plain line\n"
    "every few seconds. Then one summary line.\n";

void xfer_client_worse(struct xfer_client *c, int code)
{
    if (code > c->exit_code)
        c->exit_code = code;
}

void xfer_client_fail_file(struct xfer_client *c, const char *name,
                           int exit_code, const char *what)
{
    progress_clear(&c->prog);
    fprintf(stderr, "%s: %s: %s\n", c->who, name, what);
    progress_fail(&c->prog);
    xfer_client_worse(c, exit_code);
}

void xfer_client_unexpected(struct xfer_client *c, const char *name,
                            const struct ibx_frame_ev *ev)
{
    struct ibx_msg_status st;
    if ((ev->type == IBX_FT_ACK || ev->type == IBX_FT_ERROR) &&
        ibx_msg_status_decode(ev->data, ev->len, &st) == 0) {
        char msg[IBX_FRAME_TEXT_MAX + 64];
        snprintf(msg, sizeof msg, "refused by %s: %s (%.*s)", c->peer,
                 ibx_frame_code_name(st.code), (int)st.text_len, st.text);
        int ec = xfer_exit_for_code(st.code);
        xfer_client_fail_file(c, name, ec ? ec : XFER_EXIT_PROTOCOL, msg);
        if (ev->type == IBX_FT_ERROR)
            c->fatal = true;
        return;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "unexpected frame from %s", c->peer);
    xfer_client_fail_file(c, name, XFER_EXIT_PROTOCOL, msg);
    c->fatal = true;
}

void xfer_client_file_end(struct xfer_client *c, int code, uint64_t resumed_from)
{
    progress_file_end(&c->prog, code == IBX_XC_OK          ? PROGRESS_OK
                                : code == IBX_XC_UNCHANGED ? PROGRESS_UNCHANGED
                                                           : PROGRESS_NOT_OK,
                      resumed_from);
}

enum progress_mode xfer_progress_mode(bool quiet, bool no_progress)
{
    return quiet ? PROGRESS_QUIET : no_progress ? PROGRESS_SUMMARY : PROGRESS_ON;
}

int xfer_client_send(struct xfer_client *c, const uint8_t *b, ssize_t n)
{
    return n < 0 ? (int)n : xfer_wire_send(&c->wire, b, (size_t)n);
}
