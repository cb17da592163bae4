/* uring_probe: exit 0 if this process may create an io_uring event loop
 * (ibx_loop_new_backend "io_uring"); otherwise print why on stdout, one
 * line, and exit 1. The tests use it to skip the io_uring model visibly
 * where the kernel or its sandbox refuses io_uring. */
#include <stdio.h>
#include <string.h>

#include "ipcbox/loop.h"

int main(void)
{
    ibx_loop *l;
    int r = ibx_loop_new_backend(&l, "io_uring");
    if (r < 0) {
        printf("io_uring refused by this kernel or its sandbox: %s\n", strerror(-r));
        return 1;
    }
    ibx_loop_free(l);
    return 0;
}
