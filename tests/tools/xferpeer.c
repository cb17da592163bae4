/* Test tool: a scripted peer of the frame protocol, for what the real
 * send and get cannot be made to do.
 *
 *   xferpeer upload HOST:PORT PATH FILE [PAUSE]
 *       upload FILE as PATH (from offset 0). PAUSE "confirm" stops after
 *       the receiver's RESUME, before our confirm; "end" stops after the
 *       last DATA, before END. At a pause it prints "paused" on stdout and
 *       waits for a line on stdin. Prints "ack CODE TEXT"; exits 0 if the
 *       receiver answered ok, 1 otherwise.
 *   xferpeer liar PORTFILE ANNOUNCED ACTUAL
 *       a server for one `get`: listens on 127.0.0.1:0 (port written to
 *       PORTFILE), offers the asked file with size ANNOUNCED, then sends
 *       ACTUAL random bytes and an END over them. Exits 0 once the client
 *       is gone.
 *   xferpeer record HOST:PORT TOKENFILE PROOFFILE
 *       authenticate with the token (protocol version 2) and save our
 *       PROOF frame, as an eavesdropper would record it, to PROOFFILE.
 *       Prints "authenticated" (exit 0) or the server's refusal (exit 1).
 *   xferpeer replay HOST:PORT PROOFFILE PATH
 *       HELLO v2, then the recorded PROOF whatever the CHALLENGE says,
 *       then at once an OFFER of PATH (1 byte). Prints the server's answer
 *       ("error CODE TEXT" or "proof" if it accepted); exits 0 when it was
 *       refused with the authentication error, 1 otherwise.
 *   xferpeer impostor PORTFILE
 *       a server for one client that claims to hold a token: HELLO v2,
 *       CHALLENGE, then a PROOF with a MAC made without the token. Prints
 *       what the client answered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/frame.h"
#include "ipcbox/frame_auth.h"
#include "ipcbox/hash.h"
#include "ipcbox/net.h"

static uint8_t buf[IBX_FRAME_HDR + (1u << 20)];

static void die(const char *what)
{
    fprintf(stderr, "xferpeer: %s\n", what);
    exit(2);
}

static void put(int fd, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("send failed");
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static void put_frame(int fd, ssize_t n)
{
    if (n < 0)
        die("encode failed");
    put(fd, buf, (size_t)n);
}

static int get_exact(int fd, void *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read one control frame into buf; returns its type and sets *len. */
static int get_frame(int fd, size_t *len)
{
    uint8_t h[IBX_FRAME_HDR];
    struct ibx_frame_hdr hd;
    if (get_exact(fd, h, sizeof h) < 0 || ibx_frame_hdr_decode(h, 1u << 20, &hd) < 0 ||
        hd.type == IBX_FT_DATA || get_exact(fd, buf, hd.len) < 0)
        return -1;
    *len = hd.len;
    return hd.type;
}

static void hello(int fd, uint32_t *peer_max)
{
    struct ibx_msg_hello h = {IBX_FRAME_VERSION, 1u << 20, 0};
    size_t n;
    put_frame(fd, ibx_msg_hello_encode(buf, sizeof buf, &h));
    if (get_frame(fd, &n) != IBX_FT_HELLO || ibx_msg_hello_decode(buf, n, &h) < 0)
        die("no HELLO from the peer");
    *peer_max = h.data_max;
}

static void pause_here(void)
{
    char line[64];
    printf("paused\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        die("stdin closed at a pause");
}

/* Print an ACK or ERROR in buf[0..n); returns its code. */
static int show_status(int type, size_t n)
{
    struct ibx_msg_status st;
    if ((type != IBX_FT_ACK && type != IBX_FT_ERROR) ||
        ibx_msg_status_decode(buf, n, &st) < 0)
        die("expected ACK or ERROR");
    printf("%s %u %.*s\n", type == IBX_FT_ACK ? "ack" : "error", st.code,
           (int)st.text_len, st.text);
    fflush(stdout);
    return st.code;
}

static int upload(const char *addr_text, const char *path, const char *file,
                  const char *pause_at)
{
    ibx_addr a;
    uint32_t peer_max;
    size_t n;
    FILE *f = fopen(file, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0)
        die("cannot open FILE");
    if (ibx_addr_parse(addr_text, "127.0.0.1", 7070, &a) < 0)
        die("bad address");
    int fd = ibx_tcp_connect_wait(&a, 5000);
    if (fd < 0)
        die("cannot connect");
    hello(fd, &peer_max);
    struct ibx_msg_offer o = {
        .size = (uint64_t)st.st_size, .mode = st.st_mode & 07777,
        .mtime_sec = st.st_mtim.tv_sec, .mtime_nsec = (uint32_t)st.st_mtim.tv_nsec,
        .algo = IBX_HASH_XXH3, .path = path, .path_len = (uint16_t)strlen(path),
    };
    put_frame(fd, ibx_msg_offer_encode(buf, sizeof buf, IBX_FT_OFFER, &o));
    int t = get_frame(fd, &n);
    if (t != IBX_FT_RESUME)
        return show_status(t, n) == IBX_XC_OK ? 0 : 1;
    if (!strcmp(pause_at, "confirm"))
        pause_here();
    struct ibx_msg_resume cf = {.offset = 0, .algo = IBX_HASH_XXH3};
    put_frame(fd, ibx_msg_resume_encode(buf, sizeof buf, &cf));
    ibx_hash *h;
    if (ibx_hash_new(&h, IBX_HASH_XXH3) < 0)
        die("hash");
    size_t chunk = peer_max < (1u << 20) ? peer_max : (1u << 20);
    for (;;) {
        size_t got = fread(buf + IBX_FRAME_HDR, 1, chunk, f);
        if (got == 0)
            break;
        ibx_hash_update(h, buf + IBX_FRAME_HDR, got);
        ibx_frame_hdr_encode(buf, IBX_FT_DATA, (uint32_t)got);
        put(fd, buf, IBX_FRAME_HDR + got);
    }
    fclose(f);
    if (!strcmp(pause_at, "end"))
        pause_here();
    struct ibx_msg_end e = {.algo = IBX_HASH_XXH3};
    int hl = ibx_hash_digest(h, e.hash);
    ibx_hash_free(h);
    if (hl < 0)
        die("digest");
    e.hash_len = (uint8_t)hl;
    put_frame(fd, ibx_msg_end_encode(buf, sizeof buf, &e));
    t = get_frame(fd, &n);
    if (t < 0)
        die("no answer to END");
    int code = show_status(t, n);
    close(fd);
    return code == IBX_XC_OK ? 0 : 1;
}

/* Listen on an ephemeral loopback port, write the port to portfile, and
 * return the first connection (blocking). */
static int accept_one(const char *portfile)
{
    ibx_addr a, bound;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &a);
    int lfd = ibx_tcp_listen(&a, 4, 0);
    if (lfd < 0 || ibx_sock_local(lfd, &bound) < 0)
        die("listen");
    ibx_fd_nonblock(lfd, false);
    FILE *pf = fopen(portfile, "w");
    if (!pf)
        die("PORTFILE");
    fprintf(pf, "%u\n", ibx_addr_port((struct sockaddr *)&bound.ss));
    fclose(pf);
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        die("accept");
    ibx_fd_nonblock(fd, false);
    close(lfd);
    return fd;
}

static int liar(const char *portfile, uint64_t announced, uint64_t actual)
{
    uint32_t peer_max;
    size_t n;
    int fd = accept_one(portfile);
    hello(fd, &peer_max);
    struct ibx_msg_get g;
    if (get_frame(fd, &n) != IBX_FT_GET || ibx_msg_get_decode(buf, n, &g) < 0)
        die("expected GET");
    char path[IBX_FRAME_PATH_MAX + 1];
    memcpy(path, g.path, g.path_len);
    path[g.path_len] = '\0';
    struct ibx_msg_offer o = {
        .size = announced, .mode = 0644, .mtime_sec = time(NULL), .algo = g.algo,
        .path = path, .path_len = (uint16_t)strlen(path),
    };
    put_frame(fd, ibx_msg_offer_encode(buf, sizeof buf, IBX_FT_OFFER, &o));
    int t = get_frame(fd, &n);
    if (t != IBX_FT_RESUME) {
        show_status(t, n);   /* the client refused: that is all */
        return 0;
    }
    struct ibx_msg_resume cf = {.offset = 0, .algo = g.algo};
    put_frame(fd, ibx_msg_resume_encode(buf, sizeof buf, &cf));
    ibx_hash *h;
    if (ibx_hash_new(&h, g.algo) < 0)
        die("hash");
    size_t chunk = peer_max < (64u << 10) ? peer_max : (64u << 10);
    for (uint64_t sent = 0; sent < actual;) {
        size_t k = actual - sent < chunk ? (size_t)(actual - sent) : chunk;
        for (size_t i = 0; i < k; i++)
            buf[IBX_FRAME_HDR + i] = (uint8_t)rand();
        ibx_hash_update(h, buf + IBX_FRAME_HDR, k);
        ibx_frame_hdr_encode(buf, IBX_FT_DATA, (uint32_t)k);
        ssize_t w = send(fd, buf, IBX_FRAME_HDR + k, MSG_NOSIGNAL);
        if (w != (ssize_t)(IBX_FRAME_HDR + k))
            return 0;   /* the client hung up on us */
        sent += k;
    }
    struct ibx_msg_end e = {.algo = g.algo};
    int hl = ibx_hash_digest(h, e.hash);
    ibx_hash_free(h);
    e.hash_len = (uint8_t)(hl < 0 ? 0 : hl);
    ssize_t en = ibx_msg_end_encode(buf, sizeof buf, &e);
    if (en > 0)
        (void)send(fd, buf, (size_t)en, MSG_NOSIGNAL);
    t = get_frame(fd, &n);
    if (t > 0)
        show_status(t, n);
    return 0;
}

static int connect_to(const char *addr_text)
{
    ibx_addr a;
    if (ibx_addr_parse(addr_text, "127.0.0.1", 7070, &a) < 0)
        die("bad address");
    int fd = ibx_tcp_connect_wait(&a, 5000);
    if (fd < 0)
        die("cannot connect");
    return fd;
}

/* HELLO v2 with AUTH; expect HELLO v2 AUTH and the CHALLENGE payload in
 * buf (length in *n). Returns the frame type that came instead, or 0. */
static int hello_v2(int fd, size_t *n)
{
    struct ibx_msg_hello h = {IBX_FRAME_VERSION_AUTH, 1u << 20, IBX_HELLO_AUTH};
    put_frame(fd, ibx_msg_hello_encode(buf, sizeof buf, &h));
    int t = get_frame(fd, n);
    if (t != IBX_FT_HELLO)
        return t;
    if (ibx_msg_hello_decode(buf, *n, &h) < 0 || !(h.flags & IBX_HELLO_AUTH))
        die("server HELLO without AUTH");
    t = get_frame(fd, n);
    return t == IBX_FT_CHALLENGE ? 0 : t;
}

static int record(const char *addr_text, const char *tokfile, const char *out)
{
    static uint8_t tok[IBX_AUTH_TOKEN_MAX + 8];
    FILE *f = fopen(tokfile, "rb");
    if (!f)
        die("TOKENFILE");
    size_t tn = fread(tok, 1, sizeof tok, f);
    fclose(f);
    ssize_t klen = ibx_auth_token_trim(tok, tn);
    if (klen < 0)
        die("bad token");
    int fd = connect_to(addr_text);
    size_t n;
    int t = hello_v2(fd, &n);
    if (t != 0)
        return show_status(t, n) == IBX_XC_OK ? 0 : 1;
    struct ibx_auth au;
    uint8_t nonce[IBX_AUTH_NONCE], proof[IBX_FRAME_HDR + IBX_AUTH_PROOF_LEN];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)rand();
    ibx_auth_init(&au, IBX_AUTH_CLIENT, tok, (size_t)klen, nonce);
    ssize_t pn = ibx_auth_answer(&au, buf, n, proof, sizeof proof);
    if (pn < 0)
        die("bad CHALLENGE");
    put(fd, proof, (size_t)pn);
    FILE *o = fopen(out, "wb");
    if (!o || fwrite(proof, 1, (size_t)pn, o) != (size_t)pn || fclose(o) != 0)
        die("PROOFFILE");
    t = get_frame(fd, &n);
    if (t != IBX_FT_PROOF)
        return show_status(t, n) == IBX_XC_OK ? 0 : 1;
    if (ibx_auth_verify_server(&au, buf, n) < 0)
        die("server proof did not verify");
    printf("authenticated\n");
    close(fd);
    return 0;
}

static int replay(const char *addr_text, const char *prooffile, const char *path)
{
    uint8_t proof[256];
    FILE *f = fopen(prooffile, "rb");
    if (!f)
        die("PROOFFILE");
    size_t pn = fread(proof, 1, sizeof proof, f);
    fclose(f);
    int fd = connect_to(addr_text);
    size_t n;
    int t = hello_v2(fd, &n);
    if (t != 0)
        return show_status(t, n) == IBX_XC_AUTH ? 0 : 1;
    /* the recorded proof, and an upload right behind it */
    put(fd, proof, pn);
    struct ibx_msg_offer o = {
        .size = 1, .mode = 0644, .mtime_sec = time(NULL), .algo = IBX_HASH_XXH3,
        .path = path, .path_len = (uint16_t)strlen(path),
    };
    put_frame(fd, ibx_msg_offer_encode(buf, sizeof buf, IBX_FT_OFFER, &o));
    t = get_frame(fd, &n);
    if (t == IBX_FT_PROOF) {
        printf("proof\n");
        return 1;
    }
    if (t < 0)
        die("no answer to the replayed proof");
    return show_status(t, n) == IBX_XC_AUTH && t == IBX_FT_ERROR ? 0 : 1;
}

static int impostor(const char *portfile)
{
    size_t n;
    int fd = accept_one(portfile);
    struct ibx_msg_hello h;
    if (get_frame(fd, &n) != IBX_FT_HELLO || ibx_msg_hello_decode(buf, n, &h) < 0)
        die("expected HELLO");
    h = (struct ibx_msg_hello){IBX_FRAME_VERSION_AUTH, 1u << 20, IBX_HELLO_AUTH};
    put_frame(fd, ibx_msg_hello_encode(buf, sizeof buf, &h));
    struct ibx_msg_challenge c = {.algo = IBX_AUTH_HMAC_SHA256};
    for (size_t i = 0; i < sizeof c.nonce; i++)
        c.nonce[i] = (uint8_t)rand();
    put_frame(fd, ibx_msg_challenge_encode(buf, sizeof buf, &c));
    if (get_frame(fd, &n) != IBX_FT_PROOF)
        die("expected PROOF");
    /* a proof made with a guessed key */
    struct ibx_msg_proof p = {.algo = IBX_AUTH_HMAC_SHA256};
    memcpy(p.nonce, c.nonce, sizeof p.nonce);
    struct ibx_msg_proof cp;
    if (ibx_msg_proof_decode(buf, n, &cp) < 0)
        die("bad PROOF");
    ibx_auth_mac("guessed-token-guessed", 21, IBX_FRAME_VERSION_AUTH, IBX_AUTH_SERVER,
                 c.nonce, cp.nonce, p.mac);
    put_frame(fd, ibx_msg_proof_encode(buf, sizeof buf, &p));
    int t = get_frame(fd, &n);
    if (t > 0)
        show_status(t, n);
    else
        printf("closed\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "record"))
        return record(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "replay"))
        return replay(argv[2], argv[3], argv[4]);
    if (argc == 3 && !strcmp(argv[1], "impostor"))
        return impostor(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "upload"))
        return upload(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : "none");
    if (argc == 5 && !strcmp(argv[1], "liar"))
        return liar(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    fprintf(stderr, "usage: xferpeer upload HOST:PORT PATH FILE [confirm|end]\n"
                    "       xferpeer liar PORTFILE ANNOUNCED ACTUAL\n"
                    "       xferpeer record HOST:PORT TOKENFILE PROOFFILE\n"
                    "       xferpeer replay HOST:PORT PROOFFILE PATH\n"
                    "       xferpeer impostor PORTFILE\n");
    return 2;
}
