/*
 * echo: a TCP echo server, one goroutine per connection, as a Go
 * programmer writes it:
 *
 *	ln, err := net.Listen("tcp", addr)
 *	for {
 *		c, err := ln.Accept()
 *		go echo(c)
 *	}
 *
 * Each connection's goroutine reads and writes as if it had the machine to
 * itself.  A read with nothing to read parks the goroutine, not a thread:
 * ten thousand quiet clients cost ten thousand parked goroutines and the
 * stack pages they touched, and the runtime's few threads serve whichever
 * connections have data.
 *
 *	cc echo.c $(pkg-config --cflags --libs gort) -o echo
 *	./echo [port [host]]      port 8000 on every address by default
 *	nc localhost 8000
 */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>

static const char *port = "8000", *host;

/* Sends back what the client sends, until it closes its side or fails. */
static void echo(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = gort_read(fd, buf, sizeof buf)) > 0)
		if (gort_write(fd, buf, (size_t)n) < 0)
			break;
	gort_close(fd);
}

static int run(void *arg)
{
	int ln = gort_listen_tcp(host, port, SOMAXCONN);
	if (ln < 0) {
		perror("echo: listen");
		return 1;
	}
	for (;;) {
		int fd = gort_accept(ln, NULL, NULL);
		if (fd < 0) {
			/*
			 * Out of descriptors or memory, or a client gone before
			 * it was taken: passing troubles, as net/http treats
			 * them.  Wait for connections to close, not spin.
			 */
			perror("echo: accept");
			gort_sleep(10 * 1000000); /* 10 ms */
			continue;
		}
		if (gort_go(echo, (void *)(intptr_t)fd) != 0) {
			perror("echo: go");
			gort_close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 3) {
		fprintf(stderr, "usage: echo [port [host]]\n");
		return 2;
	}
	if (argc > 1)
		port = argv[1];
	if (argc > 2)
		host = argv[2];
	return gort_main(run, NULL);
}
