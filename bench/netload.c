/*
 * netload: the client of the network benchmarks, one program for gort's
 * servers and their Go twins alike, so it uses no gort: plain threads and
 * epoll.  It prints the result lines bench/run.sh reads.
 *
 *   netload echo [-c conns] [-t threads] [-d secs] [-s size] host port
 *	conns connections (64), spread over threads (2) with an epoll set
 *	each; on every connection a size-byte message (64) goes out and
 *	must come back whole, and checked, before the next is sent, for
 *	secs seconds (3).  The connections are made before the clock
 *	starts.  Reports "echo <n> rt/s": round trips per second, all
 *	connections together.
 *
 *   netload idle [-c conns] [-H] -p pid host port
 *	Opens conns connections (10000) one after another, each doing one
 *	round trip (a 64-byte echo, or with -H a keep-alive GET /) and
 *	staying open, idle.  Then reports the resident memory of process
 *	pid, the server (VmRSS in /proc/<pid>/status): in all, and what it
 *	grew by per connection since before the first one was opened
 *	("idle_echo" or "idle_httpd", "..._conn").  The connections close
 *	when netload exits.
 *
 * One round trip at a time per connection, as wrk loads the HTTP servers:
 * the rate measures the server's latency per request under load, which is
 * where a scheduler and a netpoller show.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static const char *host, *port;
static int nconns = -1, nthreads = 2, size = 64, http;
static double secs = 3;
static long long deadline;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * A blocking TCP connection to host:port, with Nagle off.  Every call on
 * it gives up after ten seconds: a server that hangs fails the benchmark
 * instead of stalling it.
 */
static int dial(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	int err = getaddrinfo(host, port, &hints, &ai);
	if (err != 0) {
		fprintf(stderr, "netload: %s:%s: %s\n", host, port, gai_strerror(err));
		exit(1);
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		die("netload: socket");
	struct timeval limit = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("netload: connect");
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void send_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("netload: write");
		buf += w;
		n -= (size_t)w;
	}
}

/* ------------------------------------------------------------------ echo */

struct conn {
	int fd;
	int got;           /* bytes of the current echo received */
};

struct worker {
	pthread_t thread;
	struct conn *conns;
	int n;
	long long trips;
};

static char *msg;

static void *echo_worker(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[64];
	char *buf = malloc((size_t)size);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || buf == NULL)
		die("netload: epoll");
	for (int i = 0; i < w->n; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &w->conns[i]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, w->conns[i].fd, &e) < 0)
			die("netload: epoll_ctl");
		send_all(w->conns[i].fd, msg, (size_t)size);
	}
	while (bench_now() < deadline) {
		int n = epoll_wait(ep, ev, 64, 10);
		if (n < 0 && errno != EINTR)
			die("netload: epoll_wait");
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			ssize_t r = read(c->fd, buf, (size_t)(size - c->got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fprintf(stderr, "netload: the server closed a connection\n");
				exit(1);
			}
			if (memcmp(buf, msg + c->got, (size_t)r) != 0) {
				fprintf(stderr, "netload: the echo differs from the message\n");
				exit(1);
			}
			c->got += (int)r;
			if (c->got < size)
				continue;
			w->trips++;
			c->got = 0;
			send_all(c->fd, msg, (size_t)size);
		}
	}
	free(buf);
	close(ep);
	return NULL;
}

static void echo(void)
{
	if (nconns < 0)
		nconns = 64;
	if (nthreads > nconns)
		nthreads = nconns;
	msg = malloc((size_t)size);
	struct conn *conns = calloc((size_t)nconns, sizeof *conns);
	struct worker *w = calloc((size_t)nthreads, sizeof *w);
	if (msg == NULL || conns == NULL || w == NULL)
		die("netload");
	for (int i = 0; i < size; i++)
		msg[i] = (char)('a' + i % 26);
	for (int i = 0; i < nconns; i++)
		conns[i].fd = dial();

	long long t0 = bench_now();
	deadline = t0 + (long long)(secs * 1e9);
	for (int t = 0, first = 0; t < nthreads; t++) {
		w[t].n = nconns / nthreads + (t < nconns % nthreads);
		w[t].conns = conns + first;
		first += w[t].n;
		if ((errno = pthread_create(&w[t].thread, NULL, echo_worker, &w[t])) != 0)
			die("netload: pthread_create");
	}
	long long trips = 0;
	for (int t = 0; t < nthreads; t++) {
		pthread_join(w[t].thread, NULL);
		trips += w[t].trips;
	}
	bench_report("echo", (double)trips * 1e9 / (double)(bench_now() - t0), "rt/s");
}

/* ------------------------------------------------------------------ idle */

/* The resident memory of process pid, in bytes. */
static long long rss(long pid)
{
	char path[64], line[256];
	long long kb = -1;
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0) {
		fprintf(stderr, "netload: no VmRSS in %s\n", path);
		exit(1);
	}
	return kb * 1024;
}

/* Reads one whole HTTP response: its headers, then Content-Length bytes. */
static void read_response(int fd)
{
	char buf[4096];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r < 0)
			die("netload: read");
		if (r == 0) {
			fprintf(stderr, "netload: the server closed a connection\n");
			exit(1);
		}
		got += (size_t)r;
		buf[got] = '\0';
		char *end = strstr(buf, "\r\n\r\n"), *len = strcasestr(buf, "\r\nContent-Length:");
		if (end == NULL || len == NULL || len > end)
			continue;
		if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
			fprintf(stderr, "netload: the server answered %.*s\n", (int)strcspn(buf, "\r"), buf);
			exit(1);
		}
		if (got >= (size_t)(end + 4 - buf) + strtoul(len + 17, NULL, 10))
			return;
	}
}

static void idle(long pid)
{
	if (nconns < 0)
		nconns = 10000;
	char req[256], buf[64];
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s:%s\r\n\r\n", host, port);
	memset(buf, 'x', sizeof buf);

	long long before = rss(pid);
	for (int i = 0; i < nconns; i++) {
		int fd = dial();
		if (http) {
			send_all(fd, req, strlen(req));
			read_response(fd);
		} else {
			char back[sizeof buf];
			send_all(fd, buf, sizeof buf);
			for (size_t got = 0; got < sizeof back;) {
				ssize_t r = read(fd, back + got, sizeof back - got);
				if (r <= 0)
					die("netload: read");
				got += (size_t)r;
			}
		}
	}
	/* Every connection's last answer is written; let its goroutine park. */
	usleep(500000);
	long long after = rss(pid);
	const char *name = http ? "idle_httpd" : "idle_echo";
	char conn_name[32];
	snprintf(conn_name, sizeof conn_name, "%s_conn", name);
	bench_report(name, (double)after / (1 << 20), "MiB");
	bench_report(conn_name, (double)(after - before) / nconns, "B/conn");
}

static void usage(void)
{
	fprintf(stderr, "usage: netload echo [-c conns] [-t threads] [-d secs] [-s size] host port\n"
			"       netload idle [-c conns] [-H] -p pid host port\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long pid = 0;
	int opt;

	if (argc < 2)
		usage();
	const char *mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "c:t:d:s:Hp:")) != -1) {
		switch (opt) {
		case 'c': nconns = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'H': http = 1; break;
		case 'p': pid = atol(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || nconns == 0 || nthreads < 1 || size < 1 || secs <= 0)
		usage();
	host = argv[optind];
	port = argv[optind + 1];

	/* Ten thousand connections need more descriptors than the usual soft limit. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (strcmp(mode, "echo") == 0)
		echo();
	else if (strcmp(mode, "idle") == 0 && pid > 0)
		idle(pid);
	else
		usage();
	return 0;
}
