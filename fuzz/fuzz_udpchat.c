/* libFuzzer harness for the udpchat datagram codec: decode any datagram;
 * what decodes is checked (fields inside the buffer, the limits, the nick
 * and text rules), encoded again, and must come out byte for byte the
 * same (the format has one encoding per datagram) and decode back to the
 * same fields. The UTF-8 span and the nick rule run on the input too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/udpchat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Like assert(), but also active in release builds. */
#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "check failed: %s\n", #x), abort()))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * IBX_UDPCHAT_MAX)
        return 0;
    struct ibx_udpchat_pkt p, q;
    if (ibx_udpchat_decode(data, size, &p) == 0) {
        const char *end = (const char *)data + size;
        CHECK(size <= IBX_UDPCHAT_MAX && p.sender != 0);
        CHECK(p.nick >= (const char *)data && p.nick + p.nick_len <= end);
        CHECK(ibx_udpchat_nick_valid(p.nick, p.nick_len));
        CHECK(memchr(p.nick, '@', p.nick_len) == NULL && memchr(p.nick, ' ', p.nick_len) == NULL);
        if (p.type == IBX_UDPCHAT_MESSAGE) {
            CHECK(p.text >= (const char *)data && p.text + p.text_len == end);
            CHECK(p.text_len >= 1 && p.text_len <= IBX_UDPCHAT_TEXT_MAX);
            CHECK(ibx_udpchat_utf8_span(p.text, p.text_len) == p.text_len);
            CHECK(memchr(p.text, 0, p.text_len) == NULL);
        } else {
            CHECK(p.text == NULL);
        }
        if (p.type == IBX_UDPCHAT_PRESENCE)
            CHECK(p.interval_ms >= IBX_UDPCHAT_INTERVAL_MIN &&
                  p.interval_ms <= IBX_UDPCHAT_INTERVAL_MAX);
        static uint8_t buf[IBX_UDPCHAT_MAX];
        int n = ibx_udpchat_encode(buf, sizeof buf, &p);
        CHECK(n == (int)size && memcmp(buf, data, size) == 0);
        CHECK(ibx_udpchat_encode(buf, size - 1, &p) < 0);
        CHECK(ibx_udpchat_decode(buf, (size_t)n, &q) == 0);
        CHECK(q.type == p.type && q.sender == p.sender && q.seq == p.seq);
        CHECK(q.nick_len == p.nick_len && memcmp(q.nick, p.nick, p.nick_len) == 0);
        CHECK(q.text_len == p.text_len && q.interval_ms == p.interval_ms);
    }
    size_t span = ibx_udpchat_utf8_span(data, size);
    CHECK(span <= size && memchr(data, 0, span) == NULL);
    CHECK(ibx_udpchat_utf8_span(data, span) == span);
    if (ibx_udpchat_nick_valid((const char *)data, size))
        CHECK(span == size && size <= IBX_UDPCHAT_NICK_MAX);
    return 0;
}
