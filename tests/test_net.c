/*
 * The netpoller and system calls.  gort_read, gort_write, gort_accept,
 * gort_connect, gort_recvfrom and gort_sendto park only the calling
 * goroutine, on sockets, pipes and UDP alike, and fall back to plain
 * calls on regular files.  Deadlines fail calls with ETIMEDOUT, never
 * early, and a deadline moved under a blocked call applies to it;
 * gort_close wakes every call blocked on the descriptor with EBADF and
 * closes it once they are out; a goroutine in a long system call
 * (gort_syscall_enter) loses its processor to the others.  Waiting on the
 * network is never a deadlock, but sockets nobody waits on do not hide
 * one.  Stress runs count what went in and what came out: 1,000 echo
 * connections at once with every byte checked both ways, an 8 MB write to
 * a slow reader, descriptors open before and after a workload.
 *
 * The calls below may move a goroutine to another thread: errno is read
 * in a function of its own, right after the call (README, "Threads").
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "runtime.h"
#include "testutil.h"

#define MS 1000000LL
#define SEC 1000000000LL

/* ------------------------------------------------------------ helpers */

static __attribute__((noinline)) ssize_t read_e(int fd, void *buf, size_t n, int *err)
{
	ssize_t r = gort_read(fd, buf, n);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) ssize_t write_e(int fd, const void *buf, size_t n, int *err)
{
	ssize_t r = gort_write(fd, buf, n);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int accept_e(int fd, struct sockaddr *sa, socklen_t *len, int *err)
{
	int r = gort_accept(fd, sa, len);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int connect_e(int fd, const struct sockaddr *sa, socklen_t len, int *err)
{
	int r = gort_connect(fd, sa, len);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) ssize_t recvfrom_e(int fd, void *buf, size_t n, struct sockaddr *sa,
						    socklen_t *len, int *err)
{
	ssize_t r = gort_recvfrom(fd, buf, n, 0, sa, len);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) ssize_t sendto_e(int fd, const void *buf, size_t n, const struct sockaddr *sa,
						  socklen_t len, int *err)
{
	ssize_t r = gort_sendto(fd, buf, n, 0, sa, len);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int poll_e(int fd, int events, int64_t deadline, int *err)
{
	int r = gort_poll_fd(fd, events, deadline);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int close_e(int fd, int *err)
{
	int r = gort_close(fd);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int dial_e(const char *host, const char *port, int64_t deadline, int *err)
{
	int r = gort_dial_tcp(host, port, deadline);
	*err = r < 0 ? errno : 0;
	return r;
}

static __attribute__((noinline)) int listen_e(const char *host, const char *port, int backlog, int *err)
{
	int r = gort_listen_tcp(host, port, backlog);
	*err = r < 0 ? errno : 0;
	return r;
}

#define assert_fails_with(r, err, want)                                                         \
	do {                                                                                    \
		cr_assert_eq((long)(r), -1L, "%s returned %ld, not -1", #r, (long)(r));          \
		cr_assert_eq((err), (want), "%s: errno %d (%s), not %s", #r, (err), strerror(err), \
			     #want);                                                            \
	} while (0)

static void mustclose(int fd)
{
	int err;
	int r = close_e(fd, &err);
	cr_assert_eq(r, 0, "gort_close(%d): %s", fd, strerror(err));
}

/* A connected pair of Unix stream sockets, not yet used by gort. */
static void mustpair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0, "socketpair: %s",
		     strerror(errno));
}

/* A socket's own port. */
static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A listener on 127.0.0.1 at a free port, which *port receives as a string. */
static int listen_local(char port[16], int backlog)
{
	int err;
	int fd = listen_e("127.0.0.1", "0", backlog, &err);
	cr_assert_geq(fd, 0, "gort_listen_tcp: %s", strerror(err));
	snprintf(port, 16, "%d", local_port(fd));
	return fd;
}

static int dial_local(const char *port)
{
	int err;
	int fd = dial_e("127.0.0.1", port, 0, &err);
	cr_assert_geq(fd, 0, "gort_dial_tcp 127.0.0.1:%s: %s", port, strerror(err));
	return fd;
}

/* Reads until n bytes or end of file; the count, or -1 with *err. */
static ssize_t read_full(int fd, void *buf, size_t n, int *err)
{
	size_t got = 0;
	*err = 0;
	while (got < n) {
		ssize_t r = read_e(fd, (char *)buf + got, n - got, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The byte at offset off of stream s: streams differ, so crossed data shows. */
static uint8_t pattern(uint64_t s, uint64_t off)
{
	uint64_t x = s * 0x9E3779B97F4A7C15ULL + off;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 32;
	return (uint8_t)x;
}

static void fill(uint8_t *buf, size_t n, uint64_t s, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(s, off + i);
}

/* The first offset at which buf differs from stream s, or -1. */
static long mismatch(const uint8_t *buf, size_t n, uint64_t s, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(s, off + i))
			return (long)i;
	return -1;
}

/*
 * Errors seen by goroutines of a stress test: counted, the first kept for
 * the report, and asserted on by main once everybody is joined.
 */
static struct {
	_Atomic long n;
	char first[256];
} errs;

static __attribute__((format(printf, 1, 2))) void complain(const char *fmt, ...)
{
	if (atomic_fetch_add(&errs.n, 1) != 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errs.first, sizeof errs.first, fmt, ap);
	va_end(ap);
}

#define assert_no_errors() \
	cr_assert_eq(atomic_load(&errs.n), 0, "%ld errors, the first: %s", atomic_load(&errs.n), errs.first)

/* Waits until the goroutine published in *slot has parked. */
static void wait_parked(struct g *_Atomic *slot)
{
	struct g *gp;
	while ((gp = atomic_load(slot)) == NULL || atomic_load(&gp->atomicstatus) != Gwaiting)
		gort_yield();
}

/* Descriptors open in this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d, "/proc/self/fd: %s", strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
	return t;
}

/* ------------------------------------------------ 1,000 echo connections */

/*
 * A server goroutine per connection echoes what it reads until end of
 * file.  All clients connect first and wait at a gate, so that every
 * connection is open at once; then each writes its own stream of several
 * KB, half-closes, and reads the echo back to end of file.  Every byte is
 * checked on arrival; the bytes served, the bytes echoed and the
 * connections completed are counted.
 */
static struct {
	int lfd;
	long n;
	char port[16];
	struct testgate gate;
	struct testwg connected, clients, servers;
	_Atomic long accepted, completed;
	_Atomic long long served, echoed;
} echo;

static size_t echo_size(long i)
{
	return 4096 + (size_t)(i % 8) * 512 + (size_t)i % 61;
}

static void echo_server(void *arg)
{
	int fd = (int)(long)arg, err;
	char buf[4096];
	for (;;) {
		ssize_t r = read_e(fd, buf, sizeof buf, &err);
		if (r == 0)
			break;
		if (r < 0) {
			complain("server read: %s", strerror(err));
			break;
		}
		atomic_fetch_add(&echo.served, r);
		ssize_t w = write_e(fd, buf, (size_t)r, &err);
		if (w != r) {
			complain("server write returned %zd of %zd: %s", w, r, strerror(err));
			break;
		}
	}
	if (close_e(fd, &err) != 0)
		complain("server close: %s", strerror(err));
	testwg_done(&echo.servers);
}

static void echo_acceptor(void *arg)
{
	for (long i = 0; i < echo.n; i++) {
		int err;
		int fd = accept_e(echo.lfd, NULL, NULL, &err);
		if (fd < 0) {
			complain("accept: %s", strerror(err));
			return;
		}
		atomic_fetch_add(&echo.accepted, 1);
		if (gort_go(echo_server, (void *)(long)fd) != 0) {
			complain("gort_go failed after %ld connections", i);
			return;
		}
	}
}

static void echo_client(void *arg)
{
	long i = (long)arg;
	size_t size = echo_size(i);
	uint8_t *out = malloc(size), *in = malloc(size + 1);
	int err, fd = dial_e("127.0.0.1", echo.port, 0, &err);
	testwg_done(&echo.connected);
	if (fd < 0) {
		complain("client %ld: dial: %s", i, strerror(err));
		goto out;
	}
	fill(out, size, (uint64_t)i, 0);
	testgate_wait(&echo.gate);
	ssize_t w = write_e(fd, out, size, &err);
	if (w != (ssize_t)size) {
		complain("client %ld: write returned %zd of %zu: %s", i, w, size, strerror(err));
		goto closefd;
	}
	if (shutdown(fd, SHUT_WR) != 0) {
		complain("client %ld: shutdown: %s", i, strerror(errno));
		goto closefd;
	}
	ssize_t got = read_full(fd, in, size + 1, &err);
	if (got < 0) {
		complain("client %ld: read: %s", i, strerror(err));
		goto closefd;
	}
	atomic_fetch_add(&echo.echoed, got);
	long bad = mismatch(in, (size_t)got, (uint64_t)i, 0);
	if (got != (ssize_t)size)
		complain("client %ld: %zd bytes echoed of %zu", i, got, size);
	else if (bad >= 0)
		complain("client %ld: echoed byte %ld is 0x%02x, sent 0x%02x", i, bad, in[bad], out[bad]);
	else
		atomic_fetch_add(&echo.completed, 1);
closefd:
	if (close_e(fd, &err) != 0)
		complain("client %ld: close: %s", i, strerror(err));
out:
	free(out);
	free(in);
	testwg_done(&echo.clients);
}

static int main_echo(void *arg)
{
	long n = echo.n;
	echo.lfd = listen_local(echo.port, 4096);
	testwg_add(&echo.connected, n);
	testwg_add(&echo.clients, n);
	testwg_add(&echo.servers, n);
	cr_assert_eq(gort_go(echo_acceptor, NULL), 0);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(echo_client, (void *)i), 0);
	testwg_wait(&echo.connected);
	int64_t t0 = gort_now();
	testgate_open(&echo.gate);
	testwg_wait(&echo.clients);
	assert_no_errors();
	testwg_wait(&echo.servers);
	assert_no_errors();
	long long total = 0;
	for (long i = 0; i < n; i++)
		total += (long long)echo_size(i);
	cr_assert_eq(atomic_load(&echo.accepted), n);
	cr_assert_eq(atomic_load(&echo.completed), n, "%ld of %ld connections completed",
		     atomic_load(&echo.completed), n);
	cr_assert_eq(atomic_load(&echo.served), total, "server read %lld bytes of %lld",
		     atomic_load(&echo.served), total);
	cr_assert_eq(atomic_load(&echo.echoed), total, "clients read %lld bytes of %lld",
		     atomic_load(&echo.echoed), total);
	cr_log_info("%ld connections, %lld bytes each way, in %lld ms", n, total,
		    (long long)((gort_now() - t0) / MS));
	mustclose(echo.lfd);
	return 0;
}

/* Room for both ends of every connection, if the hard limit allows it. */
static void need_fds(rlim_t n)
{
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < n && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < n)
		cr_skip_test("needs %lu descriptors, RLIMIT_NOFILE allows %lu", (unsigned long)n,
			     (unsigned long)rl.rlim_cur);
}

Test(net, echo_thousand_connections, .timeout = 120)
{
	echo.n = 1000;
	need_fds(2 * (rlim_t)echo.n + 64);
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_echo, NULL);
}

Test(net, echo_thousand_connections_one_proc, .timeout = 120)
{
	echo.n = 1000;
	need_fds(2 * (rlim_t)echo.n + 64);
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_echo, NULL);
}

/* ------------------------------------------------------------ deadlines */

/*
 * A read with a 10 ms deadline fails with ETIMEDOUT, not before the
 * deadline; a passed deadline fails later calls at once, even with data
 * waiting (as Go's); it leaves the write side alone; cleared, reads wait
 * for data again.
 */
static int main_read_deadline(void *arg)
{
	int sv[2], err;
	char b[16];
	mustpair(sv);
	int64_t set = gort_now();
	cr_assert_eq(gort_set_deadline(sv[0], set + 10 * MS, 0), 0);
	ssize_t r = read_e(sv[0], b, sizeof b, &err);
	int64_t el = gort_now() - set;
	assert_fails_with(r, err, ETIMEDOUT);
	cr_assert_geq(el, 10 * MS, "a 10 ms deadline failed the read after %lld us", (long long)(el / 1000));
	cr_assert_lt(el, 5 * SEC, "a 10 ms deadline failed the read after %lld ms", (long long)(el / MS));

	cr_assert_eq(write(sv[1], "hello", 5), 5);
	int64_t t0 = gort_now();
	r = read_e(sv[0], b, sizeof b, &err);
	assert_fails_with(r, err, ETIMEDOUT);
	cr_assert_lt(gort_now() - t0, 1 * SEC, "a read past its deadline waited");

	/* the write deadline is another */
	r = write_e(sv[0], "x", 1, &err);
	cr_assert_eq(r, 1, "write with only a read deadline passed: %s", strerror(err));

	cr_assert_eq(gort_set_deadline(sv[0], 0, 0), 0);
	r = read_e(sv[0], b, sizeof b, &err);
	cr_assert_eq(r, 5, "read after clearing the deadline: %zd, %s", r, strerror(err));
	cr_assert_eq(memcmp(b, "hello", 5), 0);
	mustclose(sv[0]);
	mustclose(sv[1]);
	return 0;
}

Test(net, read_deadline, .timeout = 30) { run_main(main_read_deadline, NULL); }

/* A deadline in the past fails a read, a write, an accept and a connect at once. */
static int main_past_deadline(void *arg)
{
	int sv[2], err;
	char b[16];
	mustpair(sv);
	int64_t t0 = gort_now();
	cr_assert_eq(gort_set_deadline(sv[0], t0 - 1, t0 - 1), 0);
	assert_fails_with(read_e(sv[0], b, sizeof b, &err), err, ETIMEDOUT);
	assert_fails_with(write_e(sv[0], "x", 1, &err), err, ETIMEDOUT);

	char port[16];
	int lfd = listen_local(port, 16);
	cr_assert_eq(gort_set_deadline(lfd, 1, 0), 0);
	assert_fails_with(accept_e(lfd, NULL, NULL, &err), err, ETIMEDOUT);
	cr_assert_lt(gort_now() - t0, 1 * SEC, "calls past their deadline waited");

	/* and nothing was read, written or accepted */
	cr_assert_eq(recv(sv[1], b, sizeof b, MSG_DONTWAIT), -1, "a write past its deadline wrote");
	cr_assert_eq(gort_set_deadline(lfd, 0, 0), 0);
	mustclose(lfd);
	mustclose(sv[0]);
	mustclose(sv[1]);
	return 0;
}

Test(net, deadline_in_the_past_fails_at_once, .timeout = 30) { run_main(main_past_deadline, NULL); }

/*
 * Deadlines moved while a read waits: brought forward, the read fails at
 * the new one; pushed back, it does not fail at the old one; cleared, the
 * read waits for the data that comes.  The mover acts once the reader has
 * parked.  A loaded machine (a sanitizer, a parallel test) may still
 * delay the mover past the old deadline: the read then ended before the
 * move, which proves nothing either way, and the round is run again.
 */
static struct {
	int fd, peer;
	int64_t delay, deadline, set_at, write_after;
	struct g *_Atomic reader;
	struct testwg wg;
} mv;

static void mv_mover(void *arg)
{
	wait_parked(&mv.reader);
	if (mv.delay > 0)
		gort_sleep(mv.delay);
	mv.set_at = gort_now();
	int64_t d = mv.deadline == 0 ? 0 : mv.set_at + mv.deadline;
	if (gort_set_deadline(mv.fd, d, 0) != 0)
		complain("gort_set_deadline failed");
	if (mv.write_after > 0) {
		gort_sleep(mv.write_after);
		if (write(mv.peer, "late", 4) != 4)
			complain("write to the peer failed");
	}
	testwg_done(&mv.wg);
}

/*
 * A read with deadline first, moved to moved after the mover set it (0:
 * cleared), delay after the reader parked; with write_after, data comes
 * that long after the move.  Returns how long after the move the read
 * ended.
 */
static int64_t mv_read(int64_t first, int64_t delay, int64_t moved, int64_t write_after, ssize_t want)
{
	for (int round = 0;; round++) {
		char b[16];
		int err;
		mv.delay = delay;
		mv.deadline = moved;
		mv.write_after = write_after;
		atomic_store(&mv.reader, getg());
		int64_t t0 = gort_now();
		cr_assert_eq(gort_set_deadline(mv.fd, first == 0 ? 0 : t0 + first, 0), 0);
		testwg_add(&mv.wg, 1);
		cr_assert_eq(gort_go(mv_mover, NULL), 0);
		ssize_t r = read_e(mv.fd, b, sizeof b, &err);
		int64_t end = gort_now();
		testwg_wait(&mv.wg);
		assert_no_errors();
		if (end < mv.set_at && round < 5) {
			/* the read ended before the move: at its first deadline, not before */
			assert_fails_with(r, err, ETIMEDOUT);
			cr_assert_geq(end - t0, first, "the read failed %lld us into a %lld ms deadline",
				      (long long)((end - t0) / 1000), (long long)(first / MS));
			cr_log_info("the mover came late, round %d run again", round);
			continue;
		}
		if (want < 0)
			assert_fails_with(r, err, ETIMEDOUT);
		else
			cr_assert_eq(r, want, "read returned %zd (%s)", r, strerror(err));
		return end - mv.set_at;
	}
}

static int main_moved_deadline(void *arg)
{
	int sv[2];
	mustpair(sv);
	mv.fd = sv[0];
	mv.peer = sv[1];

	/* 10 s brought forward to 20 ms, 20 ms into the wait */
	int64_t after = mv_read(10 * SEC, 20 * MS, 20 * MS, 0, -1);
	cr_assert_geq(after, 20 * MS, "failed %lld us after the deadline was set 20 ms ahead",
		      (long long)(after / 1000));
	cr_assert_lt(after, 5 * SEC, "the deadline brought forward did not apply");

	/* 100 ms pushed back to 300 ms */
	after = mv_read(100 * MS, 0, 300 * MS, 0, -1);
	cr_assert_geq(after, 300 * MS, "failed %lld ms after the deadline was pushed 300 ms ahead",
		      (long long)(after / MS));

	/* 100 ms cleared; data comes 150 ms later, past the old deadline */
	after = mv_read(100 * MS, 0, 0, 150 * MS, 4);
	cr_assert_geq(after, 150 * MS, "the read returned before the data was written");
	mustclose(sv[0]);
	mustclose(sv[1]);
	return 0;
}

Test(net, deadline_moved_while_blocked, .timeout = 30) { run_main(main_moved_deadline, NULL); }

/*
 * A write that waits for room in a full socket buffer fails at its
 * deadline, not before; what reached the buffer is the stream's start;
 * reading on the same descriptor is not affected.  The buffer is filled
 * first, so that the write must wait whatever the machine's speed.
 */
static int main_write_deadline(void *arg)
{
	int sv[2], err;
	mustpair(sv);
	int small = 4096;
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	size_t big = 4 << 20, pre = 0;
	uint8_t *buf = malloc(big), *in = malloc(big);
	fill(buf, big, 1, 0);
	ssize_t k;
	while ((k = send(sv[0], buf + pre, 4096, MSG_DONTWAIT)) > 0)
		pre += (size_t)k;
	cr_assert(k == -1 && errno == EAGAIN && pre > 0, "filling the buffer: %s", strerror(errno));

	int64_t set = gort_now();
	cr_assert_eq(gort_set_deadline(sv[0], 0, set + 20 * MS), 0);
	ssize_t r = write_e(sv[0], buf + pre, big - pre, &err);
	int64_t el = gort_now() - set;
	assert_fails_with(r, err, ETIMEDOUT);
	cr_assert_geq(el, 20 * MS, "a 20 ms write deadline failed after %lld us", (long long)(el / 1000));
	cr_assert_lt(el, 5 * SEC);

	size_t got = 0;
	while ((k = recv(sv[1], in + got, big - got, MSG_DONTWAIT)) > 0)
		got += (size_t)k;
	cr_assert_geq(got, pre);
	cr_assert_lt(got, big, "the write went through, its deadline notwithstanding");
	cr_assert_eq(mismatch(in, got, 1, 0), -1, "the bytes in the socket are not the stream's start");

	/* reads still work */
	cr_assert_eq(write(sv[1], "ok", 2), 2);
	char b[4];
	r = read_e(sv[0], b, sizeof b, &err);
	cr_assert_eq(r, 2, "read after a write deadline passed: %zd, %s", r, strerror(err));
	free(buf);
	free(in);
	mustclose(sv[0]);
	mustclose(sv[1]);
	return 0;
}

Test(net, write_deadline_on_full_buffer, .timeout = 30) { run_main(main_write_deadline, NULL); }

/*
 * gort_poll_fd: 0 at its deadline, not before; at once for a deadline in
 * the past; the ready events otherwise, at once or when they come.
 */
static struct {
	int peer;
	struct testwg wg;
} pw;

static void pw_writer(void *arg)
{
	gort_sleep(20 * MS);
	if (write(pw.peer, "p", 1) != 1)
		complain("write to the peer failed");
	testwg_done(&pw.wg);
}

static int main_poll_fd(void *arg)
{
	int sv[2], err;
	mustpair(sv);
	int64_t set = gort_now();
	int r = poll_e(sv[0], POLLIN, set + 10 * MS, &err);
	int64_t el = gort_now() - set;
	cr_assert_eq(r, 0, "poll at its deadline returned %d (%s)", r, strerror(err));
	cr_assert_geq(el, 10 * MS, "a 10 ms poll returned after %lld us", (long long)(el / 1000));
	cr_assert_lt(el, 5 * SEC);

	set = gort_now();
	r = poll_e(sv[0], POLLIN, set - MS, &err);
	cr_assert_eq(r, 0, "poll past its deadline returned %d (%s)", r, strerror(err));
	cr_assert_lt(gort_now() - set, 1 * SEC);

	/* writable at once, and only what was asked for is reported */
	r = poll_e(sv[0], POLLOUT, 0, &err);
	cr_assert_eq(r, POLLOUT, "poll for POLLOUT returned %d (%s)", r, strerror(err));

	/* readable when the data comes */
	pw.peer = sv[1];
	testwg_add(&pw.wg, 1);
	set = gort_now();
	cr_assert_eq(gort_go(pw_writer, NULL), 0);
	r = poll_e(sv[0], POLLIN, set + 10 * SEC, &err);
	el = gort_now() - set;
	testwg_wait(&pw.wg);
	assert_no_errors();
	cr_assert_eq(r, POLLIN, "poll for POLLIN returned %d (%s)", r, strerror(err));
	cr_assert_geq(el, 20 * MS, "poll returned before the data was written");
	/* the data is there, and a non-blocking read gets it */
	char b;
	cr_assert_eq(read(sv[0], &b, 1), 1);
	cr_assert_eq(b, 'p');

	/* both asked, both ready */
	cr_assert_eq(write(sv[1], "q", 1), 1);
	r = poll_e(sv[0], POLLIN | POLLOUT, 0, &err);
	cr_assert_eq(r, POLLIN | POLLOUT, "poll returned %d (%s)", r, strerror(err));

	/* the peer gone: readable, end of file */
	cr_assert_eq(read(sv[0], &b, 1), 1);
	mustclose(sv[1]);
	r = poll_e(sv[0], POLLIN, gort_now() + 10 * SEC, &err);
	cr_assert(r > 0 && (r & (POLLIN | POLLHUP)) != 0, "poll after the peer closed returned %d (%s)", r,
		  strerror(err));
	mustclose(sv[0]);
	return 0;
}

Test(net, poll_fd_and_its_deadline, .timeout = 30) { run_main(main_poll_fd, NULL); }

/* ------------------------------------------------------------ close */

/*
 * gort_close while calls wait on the descriptor: each wakes with EBADF,
 * the descriptor is closed once they are out, and later calls fail with
 * EBADF.  First a reader and a writer (on a full buffer), one call each
 * way; then two readers and a poller, all waiting for input at once.
 */
enum { CL_READ, CL_WRITE, CL_POLL, CL_MAX = 4, CL_BIG = 8 << 20 };

static struct {
	int fd;
	struct cl_call {
		int kind, err;
		long r;
		struct g *_Atomic g;
		_Atomic bool returned;
	} calls[CL_MAX];
	uint8_t *big;
	struct testwg wg;
} cl;

static void cl_caller(void *arg)
{
	struct cl_call *c = arg;
	char b[16];
	atomic_store(&c->g, getg());
	switch (c->kind) {
	case CL_READ:
		c->r = read_e(cl.fd, b, sizeof b, &c->err);
		break;
	case CL_WRITE:
		c->r = write_e(cl.fd, cl.big, CL_BIG, &c->err);
		break;
	case CL_POLL:
		c->r = poll_e(cl.fd, POLLIN, 0, &c->err);
		break;
	}
	atomic_store(&c->returned, true);
	testwg_done(&cl.wg);
}

static const char *const cl_names[] = {"read", "write", "poll"};

static int main_close_wakes(void *arg)
{
	const int *kinds = arg;
	int sv[2], err, n = 0;
	mustpair(sv);
	int small = 4096;
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	cl.fd = sv[0];
	cl.big = calloc(1, CL_BIG);
	while (kinds[n] >= 0)
		n++;
	testwg_add(&cl.wg, n);
	for (int i = 0; i < n; i++) {
		cl.calls[i].kind = kinds[i];
		cr_assert_eq(gort_go(cl_caller, &cl.calls[i]), 0);
	}
	for (int i = 0; i < n; i++)
		wait_parked(&cl.calls[i].g);
	gort_sleep(10 * MS); /* and stay parked */
	for (int i = 0; i < n; i++)
		cr_assert(!atomic_load(&cl.calls[i].returned), "%s returned %ld (%s) before the close",
			  cl_names[cl.calls[i].kind], cl.calls[i].r, strerror(cl.calls[i].err));
	cr_assert_eq(close_e(cl.fd, &err), 0, "gort_close with calls blocked: %s", strerror(err));
	testwg_wait(&cl.wg);
	for (int i = 0; i < n; i++) {
		struct cl_call *c = &cl.calls[i];
		cr_assert(c->r == -1 && c->err == EBADF, "blocked %s woke with %ld, errno %d (%s), not EBADF",
			  cl_names[c->kind], c->r, c->err, strerror(c->err));
	}
	cr_assert(!fd_is_open(cl.fd), "the descriptor is still open once its calls returned");

	char b[4];
	assert_fails_with(read_e(cl.fd, b, sizeof b, &err), err, EBADF);
	assert_fails_with(write_e(cl.fd, "x", 1, &err), err, EBADF);
	assert_fails_with(close_e(cl.fd, &err), err, EBADF);
	free(cl.big);
	mustclose(sv[1]);
	return 0;
}

Test(net, close_wakes_blocked_reader_and_writer, .timeout = 30)
{
	static const int kinds[] = {CL_READ, CL_WRITE, -1};
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_close_wakes, (void *)kinds);
}

Test(net, close_wakes_every_waiter, .timeout = 30)
{
	static const int kinds[] = {CL_READ, CL_READ, CL_POLL, -1};
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_close_wakes, (void *)kinds);
}

/* The same for an accept on a listener. */
static struct {
	int lfd, r, err;
	struct g *_Atomic g;
	struct testwg wg;
} ca;

static void ca_acceptor(void *arg)
{
	atomic_store(&ca.g, getg());
	ca.r = accept_e(ca.lfd, NULL, NULL, &ca.err);
	testwg_done(&ca.wg);
}

static int main_close_wakes_accept(void *arg)
{
	char port[16];
	ca.lfd = listen_local(port, 16);
	testwg_add(&ca.wg, 1);
	cr_assert_eq(gort_go(ca_acceptor, NULL), 0);
	wait_parked(&ca.g);
	gort_sleep(10 * MS);
	mustclose(ca.lfd);
	testwg_wait(&ca.wg);
	assert_fails_with(ca.r, ca.err, EBADF);
	cr_assert(!fd_is_open(ca.lfd), "the listener is still open");
	/* nobody listens there any more */
	int err, fd = dial_e("127.0.0.1", port, 0, &err);
	assert_fails_with(fd, err, ECONNREFUSED);
	return 0;
}

Test(net, close_wakes_blocked_accept, .timeout = 30) { run_main(main_close_wakes_accept, NULL); }

/* ------------------------------------------------------------ system calls */

/*
 * With one processor, a goroutine sleeps for a second in the C library's
 * sleep(), inside gort_syscall_enter/exit.  The monitor hands its
 * processor on: main gets to run again and 1,000 goroutines start, do a
 * little work each and finish, all while the sleeper is still inside
 * sleep().  Without the handoff, nothing would run before it returned.
 * Under a sanitizer the sleep is longer; under ThreadSanitizer, where a
 * goroutine costs milliseconds to create (1,000 take over 3 s with
 * nothing else running), there are also fewer goroutines.
 */
#define SC_SLEEP (UNDER_TSAN ? 5 : UNDER_SANITIZER ? 3 : 1)

static struct {
	_Atomic int stage; /* 1: inside sleep(), 2: out of it */
	_Atomic long finished;
	struct testwg workers, sleeper;
} sc;

static void sc_sleeper(void *arg)
{
	gort_syscall_enter();
	atomic_store(&sc.stage, 1);
	sleep(SC_SLEEP);
	atomic_store(&sc.stage, 2);
	gort_syscall_exit();
	testwg_done(&sc.sleeper);
}

static void sc_worker(void *arg)
{
	for (int i = 0; i < 5; i++)
		gort_yield();
	atomic_fetch_add(&sc.finished, 1);
	testwg_done(&sc.workers);
}

static int main_syscall_handoff(void *arg)
{
	cr_assert_eq(gort_maxprocs(0), 1);
	testwg_add(&sc.sleeper, 1);
	cr_assert_eq(gort_go(sc_sleeper, NULL), 0);
	while (atomic_load(&sc.stage) == 0)
		gort_yield();
	int64_t t0 = gort_now();
	cr_assert_eq(atomic_load(&sc.stage), 1, "main ran again only once the sleep had returned");
	long n = UNDER_TSAN ? 250 : 1000;
	testwg_add(&sc.workers, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(sc_worker, NULL), 0);
	testwg_wait(&sc.workers);
	int stage = atomic_load(&sc.stage);
	int64_t el = gort_now() - t0;
	cr_assert_eq(atomic_load(&sc.finished), n);
	cr_assert_eq(stage, 1, "%ld goroutines finished only after the sleep had returned (%lld ms)", n,
		     (long long)(el / MS));
	cr_log_info("%ld goroutines ran in %lld ms beside a blocked system call", n, (long long)(el / MS));
	testwg_wait(&sc.sleeper);
	cr_assert_eq(atomic_load(&sc.stage), 2);
	return 0;
}

Test(net, long_syscall_hands_off_its_processor, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_syscall_handoff, NULL);
}

/*
 * Short system calls, many of them, from goroutines on two processors and
 * from a plain thread (where the brackets do nothing): every call is
 * made and counted, and the goroutines keep running normally after them.
 */
static struct {
	_Atomic long calls;
	struct testwg wg;
} shortsys;

enum { SS_GOROUTINES = 8, SS_CALLS = 20000 };

static void ss_caller(void *arg)
{
	for (int i = 0; i < SS_CALLS; i++) {
		gort_syscall_enter();
		if (getppid() > 0)
			atomic_fetch_add(&shortsys.calls, 1);
		gort_syscall_exit();
		if (i % 1000 == 0)
			gort_yield();
	}
	testwg_done(&shortsys.wg);
}

static void *ss_thread(void *arg)
{
	for (int i = 0; i < SS_CALLS; i++) {
		gort_syscall_enter();
		if (getppid() > 0)
			atomic_fetch_add(&shortsys.calls, 1);
		gort_syscall_exit();
	}
	return NULL;
}

static int main_short_syscalls(void *arg)
{
	pthread_t t = spawn(ss_thread, NULL);
	testwg_add(&shortsys.wg, SS_GOROUTINES);
	for (int i = 0; i < SS_GOROUTINES; i++)
		cr_assert_eq(gort_go(ss_caller, NULL), 0);
	testwg_wait(&shortsys.wg);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&shortsys.calls), (long)(SS_GOROUTINES + 1) * SS_CALLS);
	return 0;
}

Test(net, short_syscalls, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_short_syscalls, NULL);
}

/* ------------------------------------------------------------ deadlock */

/*
 * Waiting on the network is never a deadlock (as in Go): testprog's main
 * reads a socket a sleeping goroutine writes to, then, alone, with no
 * timer pending, reads and accepts what another process sends it 200 ms
 * later.  A false report would end it with status 2.  It runs in a child
 * process because in this one the deadlock detector is silent: Criterion
 * keeps a thread of its own, and a thread the runtime does not own could
 * always wake a goroutine.  ThreadSanitizer's thread silences it there
 * too.
 */
Test(net, waiting_on_the_network_is_not_a_deadlock, .timeout = 30, .disabled = UNDER_TSAN)
{
	static struct progresult r;
	const char *env[] = {"GORT_MAXPROCS=1", NULL};
	run_prog(&r, "net-wait", env);
	cr_assert_eq(r.status, 0, "exit status %d, output:\n%s", r.status, r.out);
	assert_output_has(&r, "network waits are not deadlocks\n");
}

/*
 * Descriptors known to the netpoller, none waited on, and a read whose
 * deadline passed do not hide a channel deadlock: Go's report, status 2.
 * ThreadSanitizer's own thread keeps deadlocks from being reported
 * (tests/test_crash.c).
 */
Test(net, channel_deadlock_with_idle_sockets_is_reported, .timeout = 30, .disabled = UNDER_TSAN)
{
	static struct progresult r;
	const char *env[] = {"ASAN_OPTIONS=detect_stack_use_after_return=0:halt_on_error=1", NULL};
	run_prog(&r, "net-chan-deadlock", env);
	cr_assert_eq(r.status, 2, "exit status %d, output:\n%s", r.status, r.out);
	assert_output_has(&r, "registered, now deadlocking\n");
	assert_output_has(&r, "fatal error: all goroutines are asleep - deadlock!\n");
	assert_output_has(&r, "\ngoroutine 1 [chan receive]:\n");
	assert_output_has(&r, "\nmain_net_chan_deadlock(");
}

/* ------------------------------------------------------------ UDP */

/*
 * Datagrams between two sockets on loopback: a recvfrom that waits for a
 * sendto from another goroutine, the sender's address returned and
 * answered; then a burst, every datagram counted and checked.
 */
static struct {
	int a, b;
	struct sockaddr_in a_addr;
	ssize_t r;
	int err;
	char buf[64];
	struct sockaddr_in from;
	socklen_t fromlen;
	struct g *_Atomic g;
	struct testwg wg;
} ud;

static void ud_receiver(void *arg)
{
	atomic_store(&ud.g, getg());
	ud.fromlen = sizeof ud.from;
	ud.r = recvfrom_e(ud.a, ud.buf, sizeof ud.buf, (struct sockaddr *)&ud.from, &ud.fromlen, &ud.err);
	testwg_done(&ud.wg);
}

static int udp_socket(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	*addr = (struct sockaddr_in){.sin_family = AF_INET};
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
	socklen_t len = sizeof *addr;
	cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

enum { UD_BURST = 200 };

static int main_udp(void *arg)
{
	struct sockaddr_in b_addr;
	int err;
	ud.a = udp_socket(&ud.a_addr);
	ud.b = udp_socket(&b_addr);

	testwg_add(&ud.wg, 1);
	cr_assert_eq(gort_go(ud_receiver, NULL), 0);
	wait_parked(&ud.g);
	gort_sleep(10 * MS);
	ssize_t r = sendto_e(ud.b, "ping", 4, (struct sockaddr *)&ud.a_addr, sizeof ud.a_addr, &err);
	cr_assert_eq(r, 4, "sendto: %zd, %s", r, strerror(err));
	testwg_wait(&ud.wg);
	cr_assert_eq(ud.r, 4, "recvfrom: %zd, %s", ud.r, strerror(ud.err));
	cr_assert_eq(memcmp(ud.buf, "ping", 4), 0);
	cr_assert_eq(ud.fromlen, sizeof(struct sockaddr_in));
	cr_assert_eq(ud.from.sin_family, AF_INET);
	cr_assert_eq(ud.from.sin_port, b_addr.sin_port, "source port %d, the sender's is %d", ntohs(ud.from.sin_port),
		     ntohs(b_addr.sin_port));
	cr_assert_eq(ud.from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

	/* answered at the address it came from */
	r = sendto_e(ud.a, "pong", 4, (struct sockaddr *)&ud.from, ud.fromlen, &err);
	cr_assert_eq(r, 4, "sendto: %zd, %s", r, strerror(err));
	char buf[64];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof from;
	r = recvfrom_e(ud.b, buf, sizeof buf, (struct sockaddr *)&from, &fromlen, &err);
	cr_assert_eq(r, 4, "recvfrom: %zd, %s", r, strerror(err));
	cr_assert_eq(memcmp(buf, "pong", 4), 0);
	cr_assert_eq(from.sin_port, ud.a_addr.sin_port);

	/* a burst: each datagram whole, in order (loopback neither drops nor reorders this few) */
	for (int i = 0; i < UD_BURST; i++) {
		uint8_t d[32];
		fill(d, sizeof d, (uint64_t)i, 0);
		r = sendto_e(ud.b, d, sizeof d, (struct sockaddr *)&ud.a_addr, sizeof ud.a_addr, &err);
		cr_assert_eq(r, (ssize_t)sizeof d, "sendto %d: %zd, %s", i, r, strerror(err));
	}
	for (int i = 0; i < UD_BURST; i++) {
		uint8_t d[64];
		r = recvfrom_e(ud.a, d, sizeof d, NULL, NULL, &err);
		cr_assert_eq(r, 32, "datagram %d: %zd, %s", i, r, strerror(err));
		cr_assert_eq(mismatch(d, 32, (uint64_t)i, 0), -1, "datagram %d is not the one sent", i);
	}
	/* nothing more came */
	cr_assert_eq(poll_e(ud.a, POLLIN, gort_now() + 10 * MS, &err), 0);
	mustclose(ud.a);
	mustclose(ud.b);
	return 0;
}

Test(net, udp_recvfrom_sendto, .timeout = 30) { run_main(main_udp, NULL); }

/* ------------------------------------------------------------ descriptor leaks */

/*
 * Descriptors open before and after a workload are the same: a listener,
 * 100 connections each way, a byte exchanged on each, and all closed with
 * gort_close, half of the server ends while a goroutine is blocked
 * reading them (the descriptor is then closed by whoever leaves last).
 */
enum { LK_CONNS = 100 };

static struct {
	int s[LK_CONNS];
	struct g *_Atomic g[LK_CONNS];
	_Atomic long ebadf;
	struct testwg wg;
} lk;

static void lk_reader(void *arg)
{
	long i = (long)arg;
	char b;
	int err;
	atomic_store(&lk.g[i], getg());
	ssize_t r = read_e(lk.s[i], &b, 1, &err);
	if (r == -1 && err == EBADF)
		atomic_fetch_add(&lk.ebadf, 1);
	else
		complain("blocked read on closed descriptor: %zd, %s", r, strerror(err));
	testwg_done(&lk.wg);
}

static void lk_round(void)
{
	char port[16];
	int c[LK_CONNS], err;
	int lfd = listen_local(port, LK_CONNS);
	for (int i = 0; i < LK_CONNS; i++) {
		c[i] = dial_local(port);
		lk.s[i] = accept_e(lfd, NULL, NULL, &err);
		cr_assert_geq(lk.s[i], 0, "accept: %s", strerror(err));
		char b = (char)i;
		cr_assert_eq(write_e(c[i], &b, 1, &err), 1);
		cr_assert_eq(read_e(lk.s[i], &b, 1, &err), 1);
		cr_assert_eq(b, (char)i);
		cr_assert_eq(write_e(lk.s[i], &b, 1, &err), 1);
		cr_assert_eq(read_e(c[i], &b, 1, &err), 1);
	}
	testwg_add(&lk.wg, LK_CONNS / 2);
	for (long i = 0; i < LK_CONNS / 2; i++) {
		atomic_store(&lk.g[i], NULL);
		cr_assert_eq(gort_go(lk_reader, (void *)i), 0);
	}
	for (long i = 0; i < LK_CONNS / 2; i++)
		wait_parked(&lk.g[i]);
	for (int i = 0; i < LK_CONNS; i++)
		mustclose(lk.s[i]);
	testwg_wait(&lk.wg);
	for (int i = 0; i < LK_CONNS; i++)
		mustclose(c[i]);
	mustclose(lfd);
}

static int main_fd_leaks(void *arg)
{
	/* a first round brings up what the netpoller keeps for good (epoll) */
	lk_round();
	int before = count_fds();
	lk_round();
	lk_round();
	int after = count_fds();
	assert_no_errors();
	cr_assert_eq(atomic_load(&lk.ebadf), 3 * LK_CONNS / 2);
	cr_assert_eq(after, before, "%d descriptors open before two rounds of %d connections, %d after", before,
		     LK_CONNS, after);
	return 0;
}

Test(net, no_descriptor_leaks, .timeout = 60) { run_main(main_fd_leaks, NULL); }

/* ------------------------------------------------------------ files and pipes */

/*
 * Regular files cannot be polled: reads and writes fall back to plain
 * calls.  A megabyte written and read back, in uneven pieces.
 */
static int main_regular_file(void *arg)
{
	char path[] = "/tmp/gort-net-XXXXXX";
	int fd = mkstemp(path), err;
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	unlink(path);
	size_t n = 1 << 20;
	uint8_t *out = malloc(n), *in = malloc(n + 1);
	fill(out, n, 7, 0);
	ssize_t r = write_e(fd, out, n, &err);
	cr_assert_eq(r, (ssize_t)n, "write to a file: %zd, %s", r, strerror(err));
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	size_t got = 0;
	for (size_t piece = 1000; (r = read_e(fd, in + got, piece, &err)) > 0; piece = piece * 3 % 65536 + 1)
		got += (size_t)r;
	cr_assert_eq(r, 0, "read from a file: %s", strerror(err));
	cr_assert_eq(got, n);
	cr_assert_eq(mismatch(in, n, 7, 0), -1, "the file reads back wrong");
	mustclose(fd);
	free(out);
	free(in);
	return 0;
}

Test(net, regular_file, .timeout = 30) { run_main(main_regular_file, NULL); }

/*
 * Pipes are polled: with one processor, a writer pushes 4 MB through a
 * 64 KB pipe and a reader takes it out, each parking for the other, and
 * every byte arrives in order; the writer's gort_close is the reader's
 * end of file.
 */
static struct {
	int w;
	size_t n;
	ssize_t r;
	int err;
	uint8_t *out;
	struct testwg wg;
} pp;

static void pp_writer(void *arg)
{
	pp.r = write_e(pp.w, pp.out, pp.n, &pp.err);
	int err;
	if (close_e(pp.w, &err) != 0)
		complain("close: %s", strerror(err));
	testwg_done(&pp.wg);
}

static int main_pipe(void *arg)
{
	int p[2], err;
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pp.w = p[1];
	pp.n = 4 << 20;
	pp.out = malloc(pp.n);
	fill(pp.out, pp.n, 9, 0);
	uint8_t *in = malloc(pp.n + 1);
	testwg_add(&pp.wg, 1);
	cr_assert_eq(gort_go(pp_writer, NULL), 0);
	size_t got = 0;
	ssize_t r;
	while ((r = read_e(p[0], in + got, pp.n + 1 - got, &err)) > 0)
		got += (size_t)r;
	cr_assert_eq(r, 0, "read from a pipe: %s", strerror(err));
	testwg_wait(&pp.wg);
	assert_no_errors();
	cr_assert_eq(pp.r, (ssize_t)pp.n, "write to a pipe: %zd, %s", pp.r, strerror(pp.err));
	cr_assert_eq(got, pp.n);
	cr_assert_eq(mismatch(in, got, 9, 0), -1, "the pipe's bytes came out wrong");
	mustclose(p[0]);
	free(pp.out);
	free(in);
	return 0;
}

Test(net, pipe, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_pipe, NULL);
}

/* ------------------------------------------------------------ large writes */

/*
 * An 8 MB gort_write to a connection whose peer reads slowly, in small
 * pieces with pauses: the write returns 8 MB, and every byte arrives, in
 * order.
 */
static struct {
	int fd;
	size_t n;
	ssize_t r;
	int err;
	uint8_t *out;
	struct testwg wg;
} lw;

static void lw_writer(void *arg)
{
	lw.r = write_e(lw.fd, lw.out, lw.n, &lw.err);
	testwg_done(&lw.wg);
}

static int main_large_write(void *arg)
{
	char port[16];
	int err;
	int lfd = listen_local(port, 4);
	lw.fd = dial_local(port);
	int s = accept_e(lfd, NULL, NULL, &err);
	cr_assert_geq(s, 0, "accept: %s", strerror(err));
	lw.n = 8 << 20;
	lw.out = malloc(lw.n);
	fill(lw.out, lw.n, 11, 0);
	testwg_add(&lw.wg, 1);
	cr_assert_eq(gort_go(lw_writer, NULL), 0);
	uint8_t buf[32768];
	size_t got = 0;
	long reads = 0;
	while (got < lw.n) {
		size_t want = 1024 + (size_t)(reads * 7919 % 31) * 1024;
		ssize_t r = read_e(s, buf, want, &err);
		cr_assert_gt(r, 0, "read at %zu of %zu: %zd, %s", got, lw.n, r, strerror(err));
		long bad = mismatch(buf, (size_t)r, 11, got);
		cr_assert_eq(bad, -1, "byte %zu arrived wrong", got + (size_t)bad);
		got += (size_t)r;
		if (++reads % 16 == 0)
			gort_sleep(1 * MS);
	}
	testwg_wait(&lw.wg);
	cr_assert_eq(lw.r, (ssize_t)lw.n, "gort_write returned %zd (%s)", lw.r, strerror(lw.err));
	mustclose(lw.fd);
	char b;
	ssize_t r = read_e(s, &b, 1, &err);
	cr_assert_eq(r, 0, "more than was written arrived");
	mustclose(s);
	mustclose(lfd);
	free(lw.out);
	cr_log_info("8 MB in %ld reads", reads);
	return 0;
}

Test(net, large_write_to_slow_reader, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_large_write, NULL);
}

/* ------------------------------------------------------------ accept, connect, dial */

/* gort_accept's descriptors are non-blocking and close-on-exec, and the peer's address is filled in. */
static int main_accept_flags(void *arg)
{
	char port[16];
	int err;
	int lfd = listen_local(port, 4);
	int c = dial_local(port);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int s = accept_e(lfd, (struct sockaddr *)&ss, &len, &err);
	cr_assert_geq(s, 0, "accept: %s", strerror(err));
	int fl = fcntl(s, F_GETFL), fd = fcntl(s, F_GETFD);
	cr_assert(fl != -1 && (fl & O_NONBLOCK), "accepted descriptor is blocking (flags 0x%x)", fl);
	cr_assert(fd != -1 && (fd & FD_CLOEXEC), "accepted descriptor is not close-on-exec");
	cr_assert_eq(len, sizeof(struct sockaddr_in));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert_eq(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_eq(ntohs(sin->sin_port), local_port(c), "accept gave port %d, the client's is %d",
		     ntohs(sin->sin_port), local_port(c));

	/* and without an address */
	int c2 = dial_local(port);
	int s2 = accept_e(lfd, NULL, NULL, &err);
	cr_assert_geq(s2, 0, "accept: %s", strerror(err));
	fl = fcntl(s2, F_GETFL);
	fd = fcntl(s2, F_GETFD);
	cr_assert(fl != -1 && (fl & O_NONBLOCK) && (fd & FD_CLOEXEC), "flags 0x%x, fd flags 0x%x", fl, fd);
	mustclose(s);
	mustclose(s2);
	mustclose(c);
	mustclose(c2);
	mustclose(lfd);
	return 0;
}

Test(net, accept_gives_nonblocking_cloexec_descriptors, .timeout = 30) { run_main(main_accept_flags, NULL); }

/* A port on 127.0.0.1 nobody listens on: bound to find it, then closed. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	int port = local_port(fd);
	close(fd);
	return port;
}

static int main_connect(void *arg)
{
	int err;
	char port[16];
	snprintf(port, sizeof port, "%d", free_port());

	/* refused, by gort_connect and by gort_dial_tcp */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_fails_with(connect_e(fd, (struct sockaddr *)&sa, sizeof sa, &err), err, ECONNREFUSED);
	mustclose(fd);
	assert_fails_with(dial_e("127.0.0.1", port, 0, &err), err, ECONNREFUSED);

	/* a name that does not resolve */
	assert_fails_with(dial_e("no-such-host.invalid", port, 0, &err), err, EHOSTUNREACH);
	assert_fails_with(listen_e("no-such-host.invalid", "0", 4, &err), err, EADDRNOTAVAIL);

	/* gort_connect that succeeds, and the bytes cross */
	int lfd = listen_local(port, 4);
	sa.sin_port = htons((uint16_t)atoi(port));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect_e(fd, (struct sockaddr *)&sa, sizeof sa, &err), 0, "connect: %s", strerror(err));
	int s = accept_e(lfd, NULL, NULL, &err);
	cr_assert_geq(s, 0, "accept: %s", strerror(err));
	cr_assert_eq(write_e(fd, "hi", 2, &err), 2);
	char b[4];
	cr_assert_eq(read_full(s, b, 2, &err), 2);
	cr_assert_eq(memcmp(b, "hi", 2), 0);
	mustclose(s);
	mustclose(fd);
	mustclose(lfd);

	/* localhost, to a listener on every address */
	lfd = listen_e(NULL, "0", 4, &err);
	cr_assert_geq(lfd, 0, "gort_listen_tcp(NULL): %s", strerror(err));
	snprintf(port, sizeof port, "%d", local_port(lfd));
	fd = dial_e("localhost", port, 0, &err);
	cr_assert_geq(fd, 0, "gort_dial_tcp localhost:%s: %s", port, strerror(err));
	s = accept_e(lfd, NULL, NULL, &err);
	cr_assert_geq(s, 0, "accept: %s", strerror(err));
	cr_assert_eq(write_e(s, "yo", 2, &err), 2);
	cr_assert_eq(read_full(fd, b, 2, &err), 2);
	cr_assert_eq(memcmp(b, "yo", 2), 0);
	mustclose(s);
	mustclose(fd);
	mustclose(lfd);
	return 0;
}

Test(net, connect_refused_and_dial, .timeout = 60) { run_main(main_connect, NULL); }

/* ------------------------------------------------------------ misuse */

/*
 * Bad descriptors are errors, not crashes: -1 with EBADF.  A descriptor
 * gort never used closes normally with gort_close; closing it again is
 * EBADF.
 */
static int main_misuse(void *arg)
{
	int err;
	char b[4];
	assert_fails_with(read_e(-1, b, sizeof b, &err), err, EBADF);
	assert_fails_with(write_e(-1, "x", 1, &err), err, EBADF);
	assert_fails_with(accept_e(-1, NULL, NULL, &err), err, EBADF);
	assert_fails_with(close_e(-1, &err), err, EBADF);
	assert_fails_with(poll_e(-1, POLLIN, 0, &err), err, EBADF);

	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(close_e(p[0], &err), 0, "gort_close of a descriptor gort never used: %s", strerror(err));
	cr_assert(!fd_is_open(p[0]), "gort_close left it open");
	assert_fails_with(close_e(p[0], &err), err, EBADF);
	assert_fails_with(read_e(p[0], b, sizeof b, &err), err, EBADF);

	/* the same for one that gort did use */
	cr_assert_eq(write_e(p[1], "x", 1, &err), -1, "write to a pipe with no reader succeeded");
	cr_assert_eq(err, EPIPE, "errno %d (%s)", err, strerror(err));
	cr_assert_eq(close_e(p[1], &err), 0, "gort_close: %s", strerror(err));
	assert_fails_with(close_e(p[1], &err), err, EBADF);
	return 0;
}

Test(net, misuse_gives_ebadf, .timeout = 30)
{
	signal(SIGPIPE, SIG_IGN);
	run_main(main_misuse, NULL);
}

/* ------------------------------------------------------------ plain threads */

/*
 * On a thread that is not a goroutine the calls block the thread: a plain
 * thread reads what a goroutine writes 20 ms later, and writes back.
 */
static struct {
	int fd;
	ssize_t r, w;
	int err;
	char buf[8];
} pt;

static void *pt_thread(void *arg)
{
	pt.r = read_e(pt.fd, pt.buf, sizeof pt.buf, &pt.err);
	if (pt.r > 0)
		pt.w = write_e(pt.fd, pt.buf, (size_t)pt.r, &pt.err);
	return NULL;
}

static int main_plain_thread(void *arg)
{
	int sv[2], err;
	mustpair(sv);
	pt.fd = sv[0];
	pthread_t t = spawn(pt_thread, NULL);
	gort_sleep(20 * MS);
	cr_assert_eq(write_e(sv[1], "thread", 6, &err), 6, "write: %s", strerror(err));
	char b[8];
	cr_assert_eq(read_full(sv[1], b, 6, &err), 6, "read: %s", strerror(err));
	pthread_join(t, NULL);
	cr_assert_eq(pt.r, 6, "the thread's read: %zd, %s", pt.r, strerror(pt.err));
	cr_assert_eq(pt.w, 6, "the thread's write: %zd, %s", pt.w, strerror(pt.err));
	cr_assert_eq(memcmp(b, "thread", 6), 0);
	mustclose(sv[0]);
	mustclose(sv[1]);
	return 0;
}

Test(net, plain_thread_blocks, .timeout = 30) { run_main(main_plain_thread, NULL); }
