/*
 * forward: bring one of a job's ports to this machine.
 *
 *   frugal forward JOB PORT [LOCAL]
 *
 * listens on 127.0.0.1:LOCAL (default PORT) and forwards it to the job's
 * PORT, the way the job's backend allows (provider.h endpoints):
 *   - a command the backend gives (ssh -L to a machine with SSH,
 *     a cluster's port-forward): it is run in the foreground;
 *   - a host this machine reaches directly (an opened port, or this
 *     machine): a plain TCP relay here, until Ctrl-C;
 *   - only a URL (a provider's proxy): there is nothing to forward; the
 *     URL is printed.
 */
#include "cli/cli.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_MAX 64		/* connections at once */
#define RELAY_BUF 65536

struct pipe_end {
	int fd;
	char buf[RELAY_BUF];
	size_t len;		/* bytes read from fd, not yet written to the peer */
	int eof;
};

struct conn {
	struct pipe_end a, b;	/* a: the local client; b: the job's port */
};

static int parse_port(const char *s, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -1;
	*ret = (int)v;
	return 0;
}

static int listen_local(int port, struct error *err)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return error_set(err, FRUGAL_EIO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		close(fd);
		return error_set(err, FRUGAL_EIO, "cannot listen on 127.0.0.1:%d: %s%s", port,
				 strerror(e), e == EADDRINUSE ? " (give another LOCAL port)" : "");
	}
	return fd;
}

static int connect_to(const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16];
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void conn_close(struct conn *c)
{
	if (c->a.fd >= 0)
		close(c->a.fd);
	if (c->b.fd >= 0)
		close(c->b.fd);
	c->a.fd = c->b.fd = -1;
}

/* Move what one end read to the other; 0, or -1 when the pair is done. */
static int pump(struct pipe_end *from, struct pipe_end *to, short rev_from, short rev_to)
{
	ssize_t n;

	if ((rev_from & (POLLIN | POLLHUP)) && from->len == 0 && !from->eof) {
		n = read(from->fd, from->buf, sizeof(from->buf));
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n == 0) {
			from->eof = 1;
			shutdown(to->fd, SHUT_WR);
		}
		if (n > 0)
			from->len = (size_t)n;
	}
	if (from->len && (rev_to & POLLOUT)) {
		n = write(to->fd, from->buf, from->len);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0) {
			memmove(from->buf, from->buf + n, from->len - (size_t)n);
			from->len -= (size_t)n;
		}
	}
	if ((rev_from | rev_to) & (POLLERR | POLLNVAL))
		return -1;
	return 0;
}

/* Accept on lfd and relay each connection to host:port, until a signal. */
static int relay(int lfd, const char *host, int port)
{
	static struct conn conns[RELAY_MAX];
	struct pollfd pf[1 + 2 * RELAY_MAX];
	size_t i, n;

	for (i = 0; i < RELAY_MAX; i++)
		conns[i].a.fd = conns[i].b.fd = -1;
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		n = 1;
		for (i = 0; i < RELAY_MAX; i++) {
			struct conn *c = &conns[i];

			pf[1 + 2 * i].fd = c->a.fd;
			pf[1 + 2 * i].events = (short)((c->a.len || c->a.eof ? 0 : POLLIN) |
						       (c->b.len ? POLLOUT : 0));
			pf[2 + 2 * i].fd = c->b.fd;
			pf[2 + 2 * i].events = (short)((c->b.len || c->b.eof ? 0 : POLLIN) |
						       (c->a.len ? POLLOUT : 0));
			pf[1 + 2 * i].revents = pf[2 + 2 * i].revents = 0;
			n += 2;
		}
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < RELAY_MAX; i++) {
			struct conn *c = &conns[i];
			short ra = pf[1 + 2 * i].revents, rb = pf[2 + 2 * i].revents;

			if (c->a.fd < 0)
				continue;
			if (pump(&c->a, &c->b, ra, rb) < 0 || pump(&c->b, &c->a, rb, ra) < 0 ||
			    (c->a.eof && c->b.eof && !c->a.len && !c->b.len))
				conn_close(c);
		}
		if (pf[0].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), ufd;

			if (cfd < 0)
				continue;
			for (i = 0; i < RELAY_MAX && conns[i].a.fd >= 0; i++)
				;
			if (i == RELAY_MAX || (ufd = connect_to(host, port)) < 0) {
				if (i < RELAY_MAX)
					fprintf(stderr, "frugal: cannot connect to %s:%d: %s\n",
						host, port, strerror(errno));
				close(cfd);
				continue;
			}
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].a.fd = cfd;
			conns[i].b.fd = ufd;
		}
	}
}

/* argv with %L and %P replaced by the ports. */
static char **fill_argv(char *const *tmpl, int local, int port)
{
	size_t n, i;
	char **v;

	for (n = 0; tmpl[n]; n++)
		;
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = endpoint_fill(tmpl[i], local, port);
	return v;
}

int cmd_forward(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct job_endpoints je;
	const struct endpoint *e = NULL;
	struct cli c;
	int port, local, r = 1, lfd;
	size_t i;

	optind = 1;
	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--")) {
		cli_error("frugal forward takes no options: frugal forward JOB PORT [LOCAL]");
		return 2;
	}
	if (argc < 3 || argc > 4) {
		cli_error("usage: frugal forward JOB PORT [LOCAL]");
		return 2;
	}
	if (parse_port(argv[2], &port) < 0 || (argc == 4 && parse_port(argv[3], &local) < 0)) {
		cli_error("ports are numbers in 1..65535, got '%s'", argc == 4 ? argv[3] : argv[2]);
		return 2;
	}
	if (argc == 3)
		local = port;
	if (cli_open(&c) < 0)
		return 1;
	if (!cli_store(&c) || cli_job_endpoints(&c, argv[1], &je) < 0)
		goto out;
	for (i = 0; i < je.list.n; i++)
		if (port >= je.list.items[i].from && port <= je.list.items[i].to)
			e = &je.list.items[i];
	if (!e) {
		struct strbuf sb = STRBUF_INIT;

		for (i = 0; i < je.list.n; i++)
			strbuf_addf(&sb, "%s%d%s", i ? ", " : "", je.list.items[i].from,
				    je.list.items[i].from == je.list.items[i].to ? "" : "-...");
		cli_error("port %d is not one of job %s's resources.ports (%s)", port, je.job.id,
			  sb.buf);
		strbuf_release(&sb);
		goto done;
	}
	if (e->forward_argv) {
		char **v = fill_argv(e->forward_argv, local, port);

		printf("forwarding 127.0.0.1:%d to port %d of job %s (%s); Ctrl-C stops\n", local,
		       port, je.job.id, v[0]);
		fflush(stdout);
		execvp(v[0], v);
		cli_error("cannot run %s: %s", v[0], strerror(errno));
		goto done;
	}
	if (!e->host) {
		char *addr = endpoint_address(e, port);

		if (addr)
			printf("port %d of job %s is reachable at %s (%s): nothing to forward\n",
			       port, je.job.id, addr, e->note ? e->note : "the provider's proxy");
		else
			cli_error("port %d of job %s cannot be forwarded: %s", port, je.job.id,
				  e->note ? e->note : "its backend gives no way");
		r = addr ? 0 : 1;
		free(addr);
		goto done;
	}
	if (local == port && (!strcmp(e->host, "127.0.0.1") || !strcmp(e->host, "localhost"))) {
		printf("port %d of job %s is on this machine already: 127.0.0.1:%d (nothing to "
		       "forward; give LOCAL for another port)\n", port, je.job.id, port);
		r = 0;
		goto done;
	}
	if ((lfd = listen_local(local, &err)) < 0) {
		cli_error_e(&err);
		goto done;
	}
	printf("forwarding 127.0.0.1:%d to %s:%d (port %d of job %s); Ctrl-C stops\n", local,
	       e->host, port, port, je.job.id);
	fflush(stdout);
	relay(lfd, e->host, port);
	close(lfd);
done:
	job_endpoints_release(&je);
out:
	cli_close(&c);
	return r;
}
