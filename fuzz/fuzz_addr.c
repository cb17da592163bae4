/* libFuzzer harness for ibx_addr_parse: any text either parses to an
 * address that formats and parses back to itself, or is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 300)
        return 0;
    char text[301];
    memcpy(text, data, size);
    text[size] = 0;
    ibx_addr a, b;
    if (ibx_addr_parse(text, "127.0.0.1", 7007, &a) != 0)
        return 0;
    char f1[IBX_ADDRSTRLEN], f2[IBX_ADDRSTRLEN];
    ibx_addr_format((struct sockaddr *)&a.ss, a.len, f1, sizeof f1);
    if (ibx_addr_parse(f1, NULL, 0, &b) != 0)
        abort();
    ibx_addr_format((struct sockaddr *)&b.ss, b.len, f2, sizeof f2);
    if (strcmp(f1, f2) != 0)
        abort();
    return 0;
}
