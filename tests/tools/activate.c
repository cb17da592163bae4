/* Test tool: systemd-style socket activation for one TCP listener.
 *   activate PORTFILE COMMAND [ARGS...]
 * binds 127.0.0.1:0, writes the port to PORTFILE, puts the listener on fd 3,
 * sets LISTEN_FDS=1 and LISTEN_PID to its own pid, and execs COMMAND (exec
 * keeps the pid, as systemd's protocol expects). With ACTIVATE_UDP=1 in the
 * environment the socket is a bound UDP socket instead (as systemd's
 * ListenDatagram=). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipcbox/net.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: activate PORTFILE COMMAND [ARGS...]\n");
        return 2;
    }
    ibx_addr a, bound;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &a);
    const char *udp = getenv("ACTIVATE_UDP");
    int fd = udp && *udp == '1' ? ibx_udp_bind(&a, 0) : ibx_tcp_listen(&a, 128, 0);
    if (fd < 0 || ibx_sock_local(fd, &bound) < 0) {
        perror("listen");
        return 1;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 1;
    fprintf(f, "%u\n", ibx_addr_port((struct sockaddr *)&bound.ss));
    fclose(f);
    if (fd != 3) {
        dup2(fd, 3);   /* dup2 clears close-on-exec on the new fd */
        close(fd);
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    execvp(argv[2], argv + 2);
    perror("exec");
    return 127;
}
