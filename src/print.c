/*
 * Low-level printing for crash reports (Go's print.go).
 *
 * Printing is write(2) on stderr: no stdio and no allocation, so it works
 * on any stack, in a signal handler, and with the C library's locks held
 * by some other thread.  A print lock, recursive per thread, keeps the
 * lines of two threads dying at once from interleaving; what its holder
 * prints gathers in one buffer and goes out in one write when it lets go.
 *
 * Before exiting, the program's own buffered stdout is flushed when its
 * lock is free: a C program's printf output would otherwise be lost in a
 * pipe, where Go's (unbuffered) output never is.  If another thread holds
 * the lock, flushing could deadlock, so it is skipped.
 */
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic pid_t printowner;
static int printdepth;
static int printfd = 2;     /* where the print lock's holder prints: stderr but for gort_dump */
static char printbuf[4096]; /* what the print lock's holder has to say */
static size_t printlen;

void printlock(void)
{
	pid_t me = gettid_();
	if (load_relaxed(&printowner) == me) {
		printdepth++;
		return;
	}
	pid_t free_ = 0;
	while (!atomic_compare_exchange_weak(&printowner, &free_, me)) {
		free_ = 0;
		__builtin_ia32_pause();
	}
	printdepth = 1;
}

static void writeall(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(printfd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* printlock, with what is printed going to fd until the matching printunlock. */
void printlockfd(int fd)
{
	printlock();
	if (printdepth == 1)
		printfd = fd;
}

void printunlock(void)
{
	if (--printdepth == 0) {
		writeall(printbuf, printlen);
		printlen = 0;
		printfd = 2;
		atomic_store(&printowner, 0);
	}
}

/*
 * Output gathers in printbuf until the print lock is released, and goes
 * out in one write: a report then reaches a pipe whole, not interleaved
 * with what other threads (a sanitizer's, say) write at the same moment.
 */
static void printbytes(const char *p, size_t n)
{
	if (printdepth == 0) {
		writeall(p, n);
		return;
	}
	while (n > 0) {
		if (printlen == sizeof printbuf) {
			writeall(printbuf, printlen);
			printlen = 0;
		}
		size_t k = sizeof printbuf - printlen < n ? sizeof printbuf - printlen : n;
		memcpy(printbuf + printlen, p, k);
		printlen += k;
		p += k;
		n -= k;
	}
}

void printstr(const char *s)
{
	printbytes(s, strlen(s));
}

void printint(int64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	printbytes(p, (size_t)(buf + sizeof buf - p));
}

void printhex(uint64_t v)
{
	char buf[20], *p = buf + sizeof buf;
	do
		*--p = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	*--p = 'x';
	*--p = '0';
	printbytes(p, (size_t)(buf + sizeof buf - p));
}

/*
 * Exits with status 2, after what this thread has to print (a crash inside
 * a crash report exits with the print lock held twice) and the program's
 * stdout if flushing it cannot deadlock.
 */
_Noreturn void dieexit(void)
{
	if (load_relaxed(&printowner) == gettid_()) {
		writeall(printbuf, printlen);
		printlen = 0;
	}
	if (ftrylockfile(stdout) == 0) {
		fflush_unlocked(stdout);
		funlockfile(stdout);
	}
	_exit(2);
}
