/* Server policy of tftpd: configuration defaults and set-up, the options
 * granted to a request, and small helpers for the log and the peer table. */
#ifndef IPCBOX_APPS_TFTP_POLICY_H
#define IPCBOX_APPS_TFTP_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipcbox/tftp.h"
#include "tftp/server.h"
#include "tftp/transfer.h"

/* Decide the options to grant request p (file size `size`) under cfg:
 * fill g (what goes in the OACK) and x->blksize, window, rto_max. Options
 * not granted are left out, as RFC 2347 asks. Returns 0, or -EFBIG when
 * the request must be refused (a declared tsize over --max-size): then
 * *code is the TFTP error code to send and *msg its text. */
int tftpd_negotiate(const struct tftpd_cfg *cfg, const struct ibx_tftp_pkt *p,
                    uint64_t size, struct ibx_tftp_opts *g, struct tftp_tx *x,
                    uint16_t *code, const char **msg);
/* A printable, quote-free copy of a requested name for the log. */
void log_name(char *dst, size_t cap, const char *src);
/* A hash of a peer's address and port (FNV-1a). */
unsigned peer_hash(const struct sockaddr *sa);

#endif
