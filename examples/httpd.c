/*
 * httpd: an HTTP/1.1 server answering every request with "Hello, world",
 * one goroutine per connection, as Go's net/http serves
 *
 *	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
 *		w.Write([]byte("Hello, world"))
 *	})
 *	http.ListenAndServe(":8080", nil)
 *
 * Requests are parsed by libhttp-parser, fed whatever each read returns:
 * a request split across reads resumes where it stopped, and the requests
 * of a pipelined batch are answered in order, with one write for the lot.
 * A connection stays open, as HTTP/1.1 wants, until the client asks to
 * close (Connection: close, or HTTP/1.0 without keep-alive), sends what
 * does not parse (400, then close, as Go does) or goes away.  Responses
 * carry what Go's do: Date, Content-Length and the Content-Type Go sniffs
 * for this body.
 *
 *	cc httpd.c $(pkg-config --cflags --libs gort) -lhttp_parser -o httpd
 *	./httpd [port [host]]      port 8080 on every address by default
 *	curl -v localhost:8080/
 */
#include <gort.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *port = "8080", *host;

static const char hello[] = "Hello, world";

struct conn {
	int fd;
	bool closing;      /* answer what was parsed, then close */
	time_t now;        /* the second that date shows */
	char date[32];
	size_t outlen;
	char out[4096];    /* responses not yet written */
};

/* Writes the responses held, as one write. */
static int flush(struct conn *c)
{
	ssize_t n = c->outlen > 0 ? gort_write(c->fd, c->out, c->outlen) : 0;
	c->outlen = 0;
	return n < 0 ? -1 : 0;
}

/* Called by the parser at the end of each request, body included. */
static int respond(http_parser *p)
{
	struct conn *c = p->data;
	/* Upgrade and CONNECT switch to a protocol not spoken here. */
	bool keep = http_should_keep_alive(p) && !p->upgrade;
	bool http10 = p->http_major == 1 && p->http_minor == 0;
	/* Named, as Go does, when it is not the version's default. */
	const char *connection = "";
	if (!keep && !http10)
		connection = "Connection: close\r\n";
	else if (keep && http10)
		connection = "Connection: keep-alive\r\n";

	/* A pipelined batch may hold more answers than out: write what fills it. */
	if (c->outlen + 256 > sizeof c->out && flush(c) < 0) {
		c->closing = true;
		return -1;
	}
	time_t now = time(NULL);
	if (now != c->now) {
		struct tm tm;
		strftime(c->date, sizeof c->date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
		c->now = now;
	}
	c->outlen += (size_t)snprintf(c->out + c->outlen, sizeof c->out - c->outlen,
				      "HTTP/1.%d 200 OK\r\n"
				      "Date: %s\r\n"
				      "Content-Length: %zu\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n"
				      "%s\r\n%s",
				      http10 ? 0 : 1, c->date, strlen(hello), connection, hello);
	if (!keep) {
		/* Whatever the client sent after this request goes unanswered. */
		c->closing = true;
		http_parser_pause(p, 1);
	}
	return 0;
}

static const http_parser_settings settings = {.on_message_complete = respond};

static void serve(void *arg)
{
	struct conn c;
	http_parser parser;
	char buf[4096];
	ssize_t n;

	/*
	 * Field by field, the buffers left as they are: a connection costs
	 * the stack pages it touches, and an idle one touches few.
	 */
	c.fd = (int)(intptr_t)arg;
	c.closing = false;
	c.now = 0;
	c.outlen = 0;
	http_parser_init(&parser, HTTP_REQUEST);
	parser.data = &c;
	while (!c.closing && (n = gort_read(c.fd, buf, sizeof buf)) > 0) {
		size_t parsed = http_parser_execute(&parser, &settings, buf, (size_t)n);
		if (!c.closing && (HTTP_PARSER_ERRNO(&parser) != HPE_OK || parsed != (size_t)n)) {
			static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
						  "Content-Type: text/plain; charset=utf-8\r\n"
						  "Connection: close\r\n\r\n"
						  "400 Bad Request";
			if (flush(&c) == 0)
				gort_write(c.fd, bad, sizeof bad - 1);
			break;
		}
		if (flush(&c) < 0)
			break;
	}
	gort_close(c.fd);
}

static int run(void *arg)
{
	int ln = gort_listen_tcp(host, port, SOMAXCONN);
	if (ln < 0) {
		perror("httpd: listen");
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
			perror("httpd: accept");
			gort_sleep(10 * 1000000); /* 10 ms */
			continue;
		}
		if (gort_go(serve, (void *)(intptr_t)fd) != 0) {
			perror("httpd: go");
			gort_close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 3) {
		fprintf(stderr, "usage: httpd [port [host]]\n");
		return 2;
	}
	if (argc > 1)
		port = argv[1];
	if (argc > 2)
		host = argv[2];
	return gort_main(run, NULL);
}
