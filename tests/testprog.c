/*
 * Programs that are meant to die, run by the tests in a child process (as
 * Go's crash tests run testdata/testprog).  argv[1] names the scenario.
 */
#include <alloca.h>
#include <arpa/inet.h>
#include <errno.h>
#include <gort.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

static volatile char sink;

/* Recursion that never ends: each frame keeps 1 KiB live. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int depth)
{
	volatile char buf[1024];
	buf[0] = (char)depth;
	buf[1023] = (char)depth;
	return recurse(depth + 1) + buf[0] + buf[1023];
}

static void overflow(void *arg)
{
	sink = (char)recurse(0);
}

static int main_overflow(void *arg)
{
	gort_go(overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/* A stack of its own mapping: nothing in use lies just below it. */
static int main_overflow_mapped(void *arg)
{
	gort_attr attr = {.stack_size = 128 << 10};
	gort_go_attr(&attr, overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static int main_overflow_named(void *arg)
{
	gort_attr attr = {.name = "recurser"};
	gort_go_attr(&attr, overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/*
 * A frame far larger than the guard, live across a switch: the stack
 * pointer itself is below the stack when the goroutine yields.
 */
static void bigframe(void *arg)
{
	volatile char *p = alloca(stack_default + 4 * stack_guard);
	p[0] = 1;
	gort_yield();
	sink = p[0];
}

static int main_bigframe(void *arg)
{
	gort_go(bigframe, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/*
 * On a soft stack (GORT_DEBUG=stackguard=soft), writes into the red zone
 * below the stack and returns as if nothing happened: found at exit.
 */
static void redzone(void *arg)
{
	char *lo = (char *)getg()->stack.lo;
	lo[-100] = 1;
}

static int main_redzone(void *arg)
{
	gort_go(redzone, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static int main_nop(void *arg)
{
	return 0;
}

static int main_twice(void *arg)
{
	return 0;
}

static void worker(void *arg)
{
}

static int main_in_goroutine(void *arg)
{
	return gort_main(main_nop, NULL);
}

static int main_go_nil(void *arg)
{
	gort_go(NULL, NULL);
	return 0;
}

static void sleeper(void *arg)
{
	for (int i = 0; i < 1000; i++)
		gort_yield();
}

static int main_goexit(void *arg)
{
	gort_go(sleeper, NULL);
	gort_goexit();
	return 0;
}

static int main_deadlock(void *arg)
{
	gopark(NULL, NULL, waitReasonZero);
	return 0;
}

/* Stops under a debugger, inside a goroutine (tests/test_abi.c). */
static __attribute__((noinline)) void trapper(void *arg)
{
	raise(SIGTRAP);
	sink = 1;
}

static int main_trap(void *arg)
{
	gort_go(trapper, NULL);
	while (sink == 0)
		gort_yield();
	return 0;
}

/* ------------------------------------------------------------ panics */

static __attribute__((noinline)) void panicker(const char *msg)
{
	gort_panic(msg);
}

static void print_deferred(void *arg)
{
	fputs(arg, stderr);
}

static int main_panic(void *arg)
{
	gort_defer(print_deferred, "deferred call ran\n");
	panicker("boom");
	return 0;
}

static void panicking_goroutine(void *arg)
{
	panicker("in a goroutine");
}

static int main_panic_goroutine(void *arg)
{
	gort_go(panicking_goroutine, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static __attribute__((noinline)) void second_panicker(void *arg)
{
	gort_panic("second");
}

static int main_panic_nested(void *arg)
{
	gort_defer(second_panicker, NULL);
	panicker("first");
	return 0;
}

static void recover_and_repanic(void *arg)
{
	gort_recover(NULL);
	gort_panic("again");
}

static int main_panic_repanic(void *arg)
{
	gort_defer(recover_and_repanic, NULL);
	panicker("first");
	return 0;
}

static int main_panic_value(void *arg)
{
	gort_panic_value((void *)0x1234, NULL);
}

static int main_panicf(void *arg)
{
	gort_panicf("bad %s %d", "thing", 42);
}

/* Real faults: UBSan, when on, must not catch them first. */
#define FAULTS __attribute__((noinline, no_sanitize_undefined))

static FAULTS void nil_deref(void *arg)
{
	*(volatile int *)arg = 1;
}

static int main_segv(void *arg)
{
	gort_go(nil_deref, (void *)16);
	for (;;)
		gort_yield();
	return 0;
}

static volatile int zero;

static FAULTS void divide(void *arg)
{
	sink = (char)(7 / zero);
}

static int main_sigfpe(void *arg)
{
	divide(NULL);
	return 0;
}

/*
 * Other goroutines in a report (GORT_TRACEBACK=all): one parked, made to
 * look parked for three minutes, one runnable, and one created just
 * before the panic (with GORT_MAXPROCS=1, it never ran).
 */
static struct g *_Atomic parked;

static __attribute__((noinline)) void parked_fn(void *arg)
{
	atomic_store(&parked, getg());
	gopark(NULL, NULL, waitReasonZero);
	sink = 1; /* not a tail call: the frame stays on the stack */
}

static __attribute__((noinline)) void yielder_fn(void *arg)
{
	for (;;)
		gort_yield();
}

static __attribute__((noinline)) void late_fn(void *arg)
{
	sink = 2;
}

static int main_traceback_all(void *arg)
{
	gort_go(parked_fn, NULL);
	gort_go(yielder_fn, NULL);
	struct g *gp;
	while ((gp = atomic_load(&parked)) == NULL || atomic_load(&gp->atomicstatus) != Gwaiting)
		gort_yield();
	gp->waitsince = nanotime_coarse() - 3 * 60000000000LL - 1000000000LL;
	gort_go(late_fn, NULL);
	panicker("with others");
	return 0;
}

/* A panic 150 frames deep: the report shows 100. */
static __attribute__((noinline)) void deep(int n)
{
	if (n == 0)
		gort_panic("deep");
	deep(n - 1);
	sink = (char)n;
}

static int main_panic_deep(void *arg)
{
	deep(150);
	return 0;
}

static void defers(void *arg)
{
	gort_defer(print_deferred, "");
}

static void defers_scope(void *arg)
{
	GORT_DEFER(print_deferred, "");
}

static int main_defer_system_stack(void *arg)
{
	systemstack(defers, NULL);
	return 0;
}

static int main_defer_scope_system_stack(void *arg)
{
	systemstack(defers_scope, NULL);
	return 0;
}

/* Go's crash tests TestGoexitInPanic, TestPanicAfterGoexit, TestRecoveredPanicAfterGoexit. */
static void goexits(void *arg)
{
	gort_goexit();
}

static int main_goexit_in_panic(void *arg)
{
	gort_defer(goexits, NULL);
	gort_panic("hello");
}

static void panics_hello(void *arg)
{
	gort_panic("hello");
}

static int main_panic_after_goexit(void *arg)
{
	gort_defer(panics_hello, NULL);
	gort_goexit();
}

static void must_recover(void *arg)
{
	if (!gort_recover(NULL))
		gort_panic("bad recover");
}

static int main_recovered_panic_after_goexit(void *arg)
{
	gort_defer(must_recover, NULL);
	gort_defer(panics_hello, NULL);
	gort_goexit();
}

/* ------------------------------------------------------------ channels, select, sync, timers */


static volatile int chan_sink;

/* ------------------------------------------------ deadlocks */

/* Goroutine 1 waits on a channel nobody else can send on. */
static int main_chan_deadlock(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	int v = 0;
	gort_chan_recv(c, &v);
	chan_sink = v;
	return 0;
}

static int main_chan_send_deadlock(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	int v = 1;
	gort_chan_send(c, &v); /* fills the buffer */
	gort_chan_send(c, &v);
	chan_sink = v;
	return 0;
}

static int main_nilchan_deadlock(void *arg)
{
	int v = 0;
	gort_chan_recv(NULL, &v);
	chan_sink = v;
	return 0;
}

static int main_select_deadlock(void *arg)
{
	gort_chan *a = gort_chan_make(sizeof(int), 0), *b = gort_chan_make(sizeof(int), 0);
	int v = 0, x = 1;
	gort_case cs[3] = {{.chan = a, .dir = GORT_RECV, .elem = &v},
			   {.chan = b, .dir = GORT_SEND, .elem = &x},
			   {.chan = NULL, .dir = GORT_RECV, .elem = &v}};
	chan_sink = gort_select(cs, 3, true);
	return 0;
}

static int main_select_nocases_deadlock(void *arg)
{
	chan_sink = gort_select(NULL, 0, true);
	return 0;
}

static int main_mutex_deadlock(void *arg)
{
	static gort_mutex mu;
	gort_mutex_lock(&mu);
	gort_mutex_lock(&mu);
	chan_sink = 1;
	return 0;
}

static int main_rwmutex_deadlock(void *arg)
{
	static gort_rwmutex rw;
	gort_rwmutex_rlock(&rw);
	gort_rwmutex_lock(&rw);
	chan_sink = 1;
	return 0;
}

static int main_cond_deadlock(void *arg)
{
	static gort_mutex mu;
	static gort_cond cond;
	gort_mutex_lock(&mu);
	gort_cond_wait(&cond, &mu);
	chan_sink = 1;
	return 0;
}

static int main_waitgroup_deadlock(void *arg)
{
	static gort_waitgroup wg;
	gort_waitgroup_add(&wg, 1);
	gort_waitgroup_wait(&wg);
	chan_sink = 1;
	return 0;
}

/* Every goroutine blocked, each on something else: all of them are reported. */
static gort_chan *dl_c, *dl_d;
static gort_mutex dl_mu;
static gort_cond dl_cond;

static __attribute__((noinline)) void dl_receiver(void *arg)
{
	int v = 0;
	gort_chan_recv(dl_c, &v);
	chan_sink = v;
}

static __attribute__((noinline)) void dl_sender(void *arg)
{
	int v = 1;
	gort_chan_send(dl_d, &v);
	chan_sink = v;
}

static __attribute__((noinline)) void dl_cond_waiter(void *arg)
{
	gort_mutex_lock(&dl_mu);
	gort_cond_wait(&dl_cond, &dl_mu);
	chan_sink = 1;
}

static int main_deadlock_many(void *arg)
{
	static gort_waitgroup wg;
	dl_c = gort_chan_make(sizeof(int), 0);
	dl_d = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(dl_receiver, NULL);
	gort_go(dl_sender, NULL);
	gort_go(dl_cond_waiter, NULL);
	gort_waitgroup_wait(&wg);
	chan_sink = 1;
	return 0;
}

/* Timers that ran out do not hide a deadlock that follows them. */
static gort_chan *dt_c;

static void dt_sleeper(void *arg)
{
	gort_sleep(20 * 1000000LL);
	int v = 0;
	gort_chan_recv(dt_c, &v); /* nobody sends */
	chan_sink = v;
}

/* Main alone, waiting only on time: asleep, on a timer, on a select's timeout, on a sleeper. */
static gort_chan *lone_c;

static void lone_sender(void *arg)
{
	gort_sleep(30 * 1000000LL);
	int v = 5;
	gort_chan_send(lone_c, &v);
}

static int main_time_alone(void *arg)
{
	gort_sleep(30 * 1000000LL);
	gort_timer *t = gort_timer_make(30 * 1000000LL);
	int64_t when;
	if (t == NULL || !gort_chan_recv(gort_timer_chan(t), &when))
		return 3;
	gort_timer_free(t);
	lone_c = gort_chan_make(sizeof(int), 0);
	int x = 0;
	gort_case cs = {.chan = lone_c, .dir = GORT_RECV, .elem = &x};
	if (gort_select_timeout(&cs, 1, 30 * 1000000LL) != -1)
		return 4;
	gort_go(lone_sender, NULL);
	if (!gort_chan_recv(lone_c, &x) || x != 5)
		return 5;
	puts("waited on time alone");
	return 0;
}

static int main_deadlock_after_timers(void *arg)
{
	gort_sleep(10 * 1000000LL);
	gort_timer *t = gort_timer_make(5 * 1000000LL);
	int64_t when;
	gort_chan_recv(gort_timer_chan(t), &when);
	gort_timer_free(t);
	dt_c = gort_chan_make(sizeof(int), 0);
	gort_go(dt_sleeper, NULL);
	int v = 0;
	gort_chan_recv(dt_c, &v); /* deadlock once the sleeper blocks too */
	chan_sink = v;
	return 0;
}

/*
 * Descriptors known to the netpoller, a listener among them, and a read
 * that timed out on its deadline; then nobody waits on any of them and
 * goroutine 1 blocks on a channel: a deadlock all the same.
 */
static int main_net_chan_deadlock(void *arg)
{
	int sv[2];
	char b[4];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 3;
	if (gort_write(sv[0], "x", 1) != 1 || gort_read(sv[1], b, 1) != 1)
		return 4;
	gort_set_deadline(sv[1], gort_now() + 5 * 1000000LL, 0);
	if (gort_read(sv[1], b, 1) != -1)
		return 5;
	int lfd = gort_listen_tcp("127.0.0.1", "0", 4);
	if (lfd < 0 || gort_poll_fd(lfd, POLLIN, gort_now() + 1000000LL) != 0)
		return 6;
	fputs("registered, now deadlocking\n", stderr);
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	int v = 0;
	gort_chan_recv(c, &v);
	chan_sink = v;
	return 0;
}

/*
 * Waiting on the network is never a deadlock, as in Go.  Goroutine 1
 * reads a socket that a goroutine writes to after a sleep; then, alone,
 * with no timer pending and no thread but the runtime's, it reads a
 * socket and accepts on a listener that only another process (forked
 * before gort_main) writes to and connects to.
 */
static int nw_sock = -1, nw_listener = -1, nw_peer = -1;

static void nw_writer(void *arg)
{
	gort_sleep(50 * 1000000LL);
	gort_write(nw_peer, "abc", 3);
}

static int main_net_wait(void *arg)
{
	int sv[2];
	char b[8];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 3;
	nw_peer = sv[1];
	gort_go(nw_writer, NULL);
	if (gort_read(sv[0], b, sizeof b) != 3 || memcmp(b, "abc", 3) != 0)
		return 4;
	while (gort_num_goroutine() > 1)
		gort_yield();
	if (gort_read(nw_sock, b, sizeof b) != 3 || memcmp(b, "def", 3) != 0)
		return 5;
	int fd = gort_accept(nw_listener, NULL, NULL);
	if (fd < 0 || gort_read(fd, b, sizeof b) != 3 || memcmp(b, "ghi", 3) != 0)
		return 6;
	fputs("network waits are not deadlocks\n", stderr);
	gort_close(fd);
	return 0;
}

/* The other process of net-wait: writes after 200 ms, connects and writes after 200 more. */
static void nw_child(int sock, int port)
{
	struct timespec ts = {0, 200 * 1000000L};
	nanosleep(&ts, NULL);
	if (write(sock, "def", 3) != 3)
		_exit(1);
	nanosleep(&ts, NULL);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || write(fd, "ghi", 3) != 3)
		_exit(1);
	nanosleep(&ts, NULL);
	_exit(0);
}

/* Sets up net-wait's sockets and its other process; returns gort_main's result. */
static int run_net_wait(void)
{
	int sv[2];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	nw_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || nw_listener < 0 ||
	    bind(nw_listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(nw_listener, 4) != 0 ||
	    getsockname(nw_listener, (struct sockaddr *)&sa, &len) != 0)
		return 7;
	pid_t pid = fork();
	if (pid < 0)
		return 8;
	if (pid == 0)
		nw_child(sv[1], ntohs(sa.sin_port));
	close(sv[1]);
	nw_sock = sv[0];
	int r = gort_main(main_net_wait, NULL);
	int st;
	waitpid(pid, &st, 0);
	return r != 0 ? r : WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 9;
}

/* ------------------------------------------------ fatal misuse */

static void chan_print_recovered(void *arg)
{
	if (gort_recover(NULL))
		fputs("recovered\n", stderr);
}

static void unlock_unlocked(void *arg)
{
	static gort_mutex mu;
	gort_defer(chan_print_recovered, NULL); /* a fatal error runs no deferred call */
	gort_mutex_unlock(&mu);
}

static int main_mutex_unlock_unlocked(void *arg)
{
	gort_call(unlock_unlocked, NULL);
	return 0;
}

static int main_rwmutex_unlock_unlocked(void *arg)
{
	static gort_rwmutex rw;
	gort_rwmutex_unlock(&rw);
	return 0;
}

static int main_rwmutex_runlock_unlocked(void *arg)
{
	static gort_rwmutex rw;
	gort_rwmutex_runlock(&rw);
	return 0;
}

/* Freeing a channel a goroutine is blocked on. */
static void chan_free_receiver(void *arg)
{
	int v = 0;
	gort_chan_recv(arg, &v);
	chan_sink = v;
}

static int main_chan_free_blocked(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_go(chan_free_receiver, c);
	gort_sleep(20 * 1000000LL); /* it blocks */
	gort_chan_free(c);
	fputs("freed\n", stderr);
	return 0;
}

/* ------------------------------------------------ panics nobody recovers */

static int main_send_closed(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	gort_chan_close(c);
	int v = 1;
	gort_chan_send(c, &v);
	return 0;
}

static int main_close_closed(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_chan_close(c);
	gort_chan_close(c);
	return 0;
}

static int main_close_nil(void *arg)
{
	gort_chan_close(NULL);
	return 0;
}

static int main_waitgroup_negative(void *arg)
{
	static gort_waitgroup wg;
	gort_waitgroup_done(&wg);
	return 0;
}

/* A blocked sender panics when its channel is closed. */
static gort_chan *bsc;

static __attribute__((noinline)) void blocked_sender(void *arg)
{
	int v = 1;
	gort_chan_send(bsc, &v);
	chan_sink = v;
}

static int main_blocked_send_closed(void *arg)
{
	bsc = gort_chan_make(sizeof(int), 0);
	gort_go(blocked_sender, NULL);
	gort_sleep(20 * 1000000LL);
	gort_chan_close(bsc);
	for (;;)
		gort_sleep(1000000LL);
	return 0;
}

static void timer_panics(void *arg)
{
	gort_panic("in a timer");
}

static int main_after_func_panic(void *arg)
{
	gort_after_func(5 * 1000000LL, timer_panics, NULL);
	for (;;)
		gort_sleep(1000000LL);
	return 0;
}

/*
 * Something for schedtrace to watch for a while: goroutines passing
 * values, and one parked for good on a channel nobody sends on.
 */
static gort_chan *relay, *never;

static void relayer(void *arg)
{
	long v;
	while (gort_chan_recv(relay, &v))
		;
}

static void waiter(void *arg)
{
	gort_chan_recv(never, NULL);
}

static int main_busy(void *arg)
{
	relay = gort_chan_make(sizeof(long), 0);
	never = gort_chan_make(0, 0);
	gort_go(waiter, NULL);
	for (int i = 0; i < 3; i++)
		gort_go(relayer, NULL);
	int64_t end = gort_now() + 300 * 1000000LL;
	for (long i = 0; gort_now() < end; i++) {
		gort_chan_send(relay, &i);
		if (i % 1000 == 0)
			gort_sleep(1000000);
	}
	return 0;
}

/*
 * For dumps: a goroutine blocked on a channel, made to look blocked for
 * three minutes.
 */
static gort_chan *quitchan;

static __attribute__((noinline)) void chanwaiter_fn(void *arg)
{
	atomic_store(&parked, getg());
	gort_chan_recv(quitchan, NULL);
	sink = 3;
}

static __attribute__((noinline)) void parkforminutes(void)
{
	quitchan = gort_chan_make(0, 0);
	gort_go(chanwaiter_fn, NULL);
	struct g *gp;
	while ((gp = atomic_load(&parked)) == NULL || atomic_load(&gp->atomicstatus) != Gwaiting)
		gort_yield();
	gp->waitsince = nanotime_coarse() - 3 * 60000000000LL - 1000000000LL;
}

static int main_sigquit(void *arg)
{
	parkforminutes();
	kill(getpid(), SIGQUIT);
	for (;;)
		gort_sleep(1000000000);
	return 0;
}

static int main_dump(void *arg)
{
	parkforminutes();
	if (gort_dump(-1) != -1 || errno != EBADF)
		return 3;
	if (gort_dump(1) != 0)
		return 4;
	printf("dumped, and going on\n");
	return 0;
}

/* Stops under a debugger with a goroutine blocked (tests/test_debug.c). */
static int main_gdb_goroutines(void *arg)
{
	parkforminutes();
	raise(SIGTRAP);
	return 0;
}

static int main_stats_nil(void *arg)
{
	gort_read_stats(NULL);
	return 0;
}

/*
 * For the tracer: a program that does a bit of everything the trace
 * shows.  Workers take jobs from a channel, count them under a mutex, and
 * pass results on through a select; now and then one sleeps, or waits on
 * a condition; short-lived goroutines come and go.  It prints how many
 * goroutines it created, goroutine 1 included, for the test to find in
 * the trace.  TRACED_END=panic|exit ends it in the middle instead.
 */
enum { TRACED_WORKERS = 8, TRACED_JOBS = 3000, TRACED_SHORT = 200 };

static gort_chan *tjobs, *tresults, *tticks;
static gort_mutex tmu;
static gort_cond tcond;
static long tcount;
static gort_waitgroup twg;
static uint64_t ttask;

static __attribute__((noinline)) void traced_worker(void *arg)
{
	long v;
	const char *end = getenv("TRACED_END");
	while (gort_chan_recv(tjobs, &v)) {
		gort_mutex_lock(&tmu);
		if (++tcount % 500 == 0)
			gort_cond_broadcast(&tcond);
		gort_mutex_unlock(&tmu);
		if (v % 64 == 0)
			gort_sleep(50000);
		if (v == TRACED_JOBS / 2 && end != NULL && strcmp(end, "panic") == 0)
			gort_panic("traced program panics");
		if (v == TRACED_JOBS / 2 && end != NULL && strcmp(end, "exit") == 0)
			exit(3);
		gort_case cs[2] = {{tresults, GORT_SEND, &v, false}, {tticks, GORT_RECV, NULL, false}};
		while (gort_select(cs, 2, true) != 0)
			;
	}
	gort_trace_task_log(ttask, "worker", "no more jobs");
	gort_waitgroup_done(&twg);
}

static void traced_collector(void *arg)
{
	long v;
	for (long i = 0; i < TRACED_JOBS; i++)
		gort_chan_recv(tresults, &v);
	gort_waitgroup_done(&twg);
}

static void traced_watcher(void *arg)
{
	gort_mutex_lock(&tmu);
	while (tcount < TRACED_JOBS)
		gort_cond_wait(&tcond, &tmu);
	gort_mutex_unlock(&tmu);
	gort_waitgroup_done(&twg);
}

static void traced_short(void *arg)
{
	gort_trace_region_start(ttask, "short");
	gort_yield();
	gort_trace_region_end(ttask, "short");
	gort_waitgroup_done(&twg);
}

static int main_traced(void *arg)
{
	int created = 1;
	tjobs = gort_chan_make(sizeof(long), 16);
	tresults = gort_chan_make(sizeof(long), 0);
	tticks = gort_chan_make(0, 0);
	ttask = gort_trace_task_start(0, "traced");
	gort_trace_region_start(ttask, "spawn");
	gort_waitgroup_add(&twg, TRACED_WORKERS + 2);
	for (int i = 0; i < TRACED_WORKERS; i++, created++)
		gort_go(traced_worker, NULL);
	gort_go(traced_collector, NULL);
	gort_go(traced_watcher, NULL);
	created += 2;
	gort_trace_region_end(ttask, "spawn");
	for (long i = 0; i < TRACED_JOBS; i++) {
		gort_chan_send(tjobs, &i);
		if (i % (TRACED_JOBS / TRACED_SHORT) == 0) {
			gort_waitgroup_add(&twg, 1);
			gort_go(traced_short, NULL);
			created++;
		}
	}
	gort_chan_close(tjobs);
	gort_trace_log("main", "all jobs sent");
	gort_waitgroup_wait(&twg);
	gort_trace_task_end(ttask);
	printf("created %d\n", created);
	return 0;
}

/*
 * One call site of gort_yield reached from two callers whose frames are
 * the same size, so that both stacks have the same depth, then from a
 * frame of changing size: the trace must tell the stacks apart
 * (trace.c's tracestack knows stacks by their shape).
 */
enum { TSTK_CALLS = 100 };
static volatile int tstk_a, tstk_b; /* the two callers differ, or the compiler makes them one */

static __attribute__((noinline)) void tstk_yield(void)
{
	gort_yield();
	__asm__ volatile(""); /* no tail call: every frame stays */
}

static __attribute__((noinline)) void tstk_via_a(void)
{
	tstk_yield();
	tstk_a++;
}

static __attribute__((noinline)) void tstk_via_b(void)
{
	tstk_yield();
	tstk_b++;
}

static __attribute__((noinline)) void tstk_via_vla(size_t n)
{
	volatile char buf[n];
	buf[0] = 0;
	tstk_yield();
	__asm__ volatile("" ::"r"(buf) : "memory");
}

static int main_traced_stacks(void *arg)
{
	for (int i = 0; i < TSTK_CALLS; i++) {
		tstk_via_a();
		tstk_via_b();
		tstk_via_vla(i % 2 ? 16 : 4096);
	}
	printf("calls %d\n", TSTK_CALLS);
	return 0;
}

/*
 * System calls, some long enough for sysmon to take their P, and a read
 * that waits on a pipe nobody writes to, until its deadline: the trace
 * shows GoSysCall, GoSysBlock, GoSysExit and GoBlockNet.
 */
enum { TSYS_SLEEPERS = 4, TSYS_CALLS = 5 };
static gort_waitgroup twg2;

static void tsys_sleeper(void *arg)
{
	for (int i = 0; i < TSYS_CALLS; i++) {
		gort_syscall_enter();
		usleep((useconds_t)(intptr_t)arg);
		gort_syscall_exit();
	}
	gort_waitgroup_done(&twg2);
}

static void tsys_reader(void *arg)
{
	char b;
	int fd = *(int *)arg;
	gort_set_deadline(fd, gort_now() + 100 * 1000000LL, 0); /* the read must start first, even under a sanitizer */
	if (gort_read(fd, &b, 1) != -1)
		abort();
	gort_waitgroup_done(&twg2);
}

static int main_traced_syscalls(void *arg)
{
	int fds[2];
	if (pipe(fds) != 0)
		return 3;
	gort_waitgroup_add(&twg2, TSYS_SLEEPERS + 1);
	gort_go(tsys_reader, fds);
	for (int i = 0; i < TSYS_SLEEPERS; i++)
		gort_go(tsys_sleeper, (void *)(intptr_t)(i % 2 ? 1 : 30000));
	gort_waitgroup_wait(&twg2);
	printf("syscalls %d\n", TSYS_SLEEPERS * TSYS_CALLS);
	return 0;
}

/*
 * A goroutine that runs 60 ms calling nothing but a channel operation
 * that never blocks: with one P, another goroutine runs meanwhile only
 * because sysmon flags the hog and that call yields.
 */
static _Atomic int longrun_other;

static void __attribute__((noinline)) longrun_hog(void *arg)
{
	gort_chan *c = gort_chan_make(0, 0);
	int64_t t0 = gort_now();
	while (gort_now() - t0 < 60 * 1000000)
		gort_chan_tryrecv(c, NULL);
	gort_chan_free(c);
	printf("other ran during the hog: %d\n", atomic_load(&longrun_other));
	gort_waitgroup_done(&twg2);
}

static void longrun_othergo(void *arg)
{
	atomic_store(&longrun_other, 1);
	gort_waitgroup_done(&twg2);
}

static int main_longrun(void *arg)
{
	gort_waitgroup_add(&twg2, 2);
	gort_go(longrun_hog, NULL);
	gort_go(longrun_othergo, NULL);
	gort_waitgroup_wait(&twg2);
	return 0;
}

static int main_trace_log_nil(void *arg)
{
	gort_trace_log("category", NULL);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void *);
} scenarios[] = {
	{"overflow", main_overflow},
	{"overflow-named", main_overflow_named},
	{"overflow-mapped", main_overflow_mapped},
	{"overflow-bigframe", main_bigframe},
	{"overflow-redzone", main_redzone},
	{"main-in-goroutine", main_in_goroutine},
	{"go-nil", main_go_nil},
	{"goexit-main", main_goexit},
	{"deadlock", main_deadlock},
	{"env", main_nop},
	{"busy", main_busy},
	{"stats-nil", main_stats_nil},
	{"sigquit", main_sigquit},
	{"dump", main_dump},
	{"gdb-goroutines", main_gdb_goroutines},
	{"gdb-trap", main_trap},
	{"panic", main_panic},
	{"panic-goroutine", main_panic_goroutine},
	{"panic-nested", main_panic_nested},
	{"panic-repanic", main_panic_repanic},
	{"panic-value", main_panic_value},
	{"panic-deep", main_panic_deep},
	{"panicf", main_panicf},
	{"segv", main_segv},
	{"sigfpe", main_sigfpe},
	{"traceback-all", main_traceback_all},
	{"defer-system-stack", main_defer_system_stack},
	{"defer-scope-system-stack", main_defer_scope_system_stack},
	{"goexit-in-panic", main_goexit_in_panic},
	{"panic-after-goexit", main_panic_after_goexit},
	{"recovered-panic-after-goexit", main_recovered_panic_after_goexit},
	{"chan-deadlock", main_chan_deadlock},
	{"chan-send-deadlock", main_chan_send_deadlock},
	{"nilchan-deadlock", main_nilchan_deadlock},
	{"select-deadlock", main_select_deadlock},
	{"select-nocases-deadlock", main_select_nocases_deadlock},
	{"mutex-deadlock", main_mutex_deadlock},
	{"rwmutex-deadlock", main_rwmutex_deadlock},
	{"cond-deadlock", main_cond_deadlock},
	{"waitgroup-deadlock", main_waitgroup_deadlock},
	{"deadlock-many", main_deadlock_many},
	{"deadlock-after-timers", main_deadlock_after_timers},
	{"net-chan-deadlock", main_net_chan_deadlock},
	{"mutex-unlock-unlocked", main_mutex_unlock_unlocked},
	{"rwmutex-unlock-unlocked", main_rwmutex_unlock_unlocked},
	{"rwmutex-runlock-unlocked", main_rwmutex_runlock_unlocked},
	{"chan-free-blocked", main_chan_free_blocked},
	{"send-closed", main_send_closed},
	{"close-closed", main_close_closed},
	{"close-nil", main_close_nil},
	{"waitgroup-negative", main_waitgroup_negative},
	{"blocked-send-closed", main_blocked_send_closed},
	{"after-func-panic", main_after_func_panic},
	{"traced", main_traced},
	{"time-alone", main_time_alone},
	{"traced-syscalls", main_traced_syscalls},
	{"traced-stacks", main_traced_stacks},
	{"longrun", main_longrun},
	{"trace-log-nil", main_trace_log_nil},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: testprog scenario\n");
		return 1;
	}
	if (strcmp(argv[1], "go-outside") == 0)
		return gort_go(worker, NULL);
	if (strcmp(argv[1], "defer-outside") == 0) {
		gort_defer(print_deferred, "");
		return 0;
	}
	if (strcmp(argv[1], "defer-scope-outside") == 0) {
		GORT_DEFER(print_deferred, "");
		return 0;
	}
	if (strcmp(argv[1], "yield-outside") == 0) {
		gort_yield();
		return 0;
	}
	if (strcmp(argv[1], "net-wait") == 0)
		return run_net_wait();
	if (strcmp(argv[1], "main-twice") == 0) {
		gort_main(main_twice, NULL);
		return gort_main(main_twice, NULL);
	}
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			return gort_main(scenarios[i].fn, NULL);
	fprintf(stderr, "testprog: unknown scenario %s\n", argv[1]);
	return 1;
}
