/* Names of uploads in progress (see partial.h). */
#include "partial.h"

#include <string.h>

bool partial_name(const char *name, size_t len)
{
    size_t ks = sizeof PART_SUFFIX - 1, kp = sizeof TFTP_TMP_PREFIX - 1;
    if (len > ks + 1 && name[0] == '.' &&
        memcmp(name + len - ks, PART_SUFFIX, ks) == 0)
        return true;
    return len >= kp && memcmp(name, TFTP_TMP_PREFIX, kp) == 0;
}

bool partial_path(const char *path)
{
    while (*path) {
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n && partial_name(path, n))
            return true;
        if (!end)
            break;
        path = end + 1;
    }
    return false;
}
