/* SPDX-License-Identifier: MIT */
/*
 * qmp-call: one QMP command to a QEMU over its unix socket, for shells that have no
 * socat or nc (the chassis' busybox). Connects (retrying while the socket is not there
 * yet or refuses), reads the greeting, negotiates capabilities, sends the command and
 * prints the reply; events that arrive meanwhile are skipped. Every step is bounded by
 * one overall timeout.
 *
 *   qmp-call [-t SECONDS] SOCKET COMMAND [ARGUMENTS-JSON]
 *       prints the reply line, e.g. {"return": {"status": "running", ...}}
 *   qmp-call [-t SECONDS] -H SOCKET 'HMP COMMAND LINE'
 *       human-monitor-command; prints the monitor's text output, decoded
 *
 *   qmp-call /run/vmA.qmp query-migrate
 *   qmp-call /run/vmA.qmp migrate '{"uri": "tcp:10.88.0.2:4444"}'
 *   qmp-call -H /run/vmA.qmp 'xp /2gx 0x200000'
 *
 * Exit: 0 the command returned, 1 QEMU answered with an error (the reply on stdout, its
 * description on stderr), 2 usage, 3 no connection, timeout or a broken reply.
 * The default timeout is 10 s.
 */
#include "hex.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (1 << 20)

struct conn {
	int fd;
	double deadline;
	char *buf;
	size_t len, cap;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int left_ms(const struct conn *c)
{
	double l = c->deadline - now();

	return l <= 0 ? 0 : (int)(l * 1000) + 1;
}

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qmp-call: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int connect_to(const char *path, double deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		die(2, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die(3, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		int e = errno;

		close(fd);
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) || now() >= deadline)
			die(3, "cannot connect to %s: %s", path, strerror(e));
		usleep(50000);
	}
}

/* The next line from QEMU (without its CR LF), or exit 3. Valid until the next call. */
static char *read_line(struct conn *c, const char *waiting_for)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - c->buf) + 1;
			static char *line;

			free(line);
			line = malloc(n);
			if (!line)
				die(3, "out of memory");
			memcpy(line, c->buf, n - 1);
			line[n - 1] = '\0';
			if (n >= 2 && line[n - 2] == '\r')
				line[n - 2] = '\0';
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			return line;
		}
		if (c->len + 4096 > c->cap) {
			if (c->cap >= MAX_LINE)
				die(3, "reply line longer than 1 MiB while waiting for %s", waiting_for);
			c->cap = c->cap ? c->cap * 2 : 8192;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die(3, "out of memory");
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int ms = left_ms(c);
		int r = ms ? poll(&p, 1, ms) : 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(3, "timed out waiting for %s", waiting_for);
		ssize_t got = read(c->fd, c->buf + c->len, c->cap - c->len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die(3, "QEMU closed the connection while waiting for %s", waiting_for);
		c->len += (size_t)got;
	}
}

static void send_all(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		int ms = left_ms(c);

		if (!ms || poll(&p, 1, ms) <= 0)
			die(3, "timed out sending %s", s);
		ssize_t w = write(c->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(3, "write: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

/* The reply to the command just sent: skips events; returns the line. */
static char *reply(struct conn *c, const char *cmd)
{
	for (;;) {
		char *l = read_line(c, cmd);

		if (strncmp(l, "{\"return\"", 9) == 0 || strncmp(l, "{\"error\"", 8) == 0)
			return l;
		if (strncmp(l, "{\"event\"", 8) == 0 || strncmp(l, "{\"timestamp\"", 12) == 0 || !*l)
			continue;
		die(3, "unexpected line from QEMU: %s", l);
	}
}

/* Append s to out as the body of a JSON string. */
static void json_escape(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n + 8 >= cap)
			die(2, "command too long");
		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	out[n] = '\0';
}

/* Print the JSON string value of "return" in line, decoded (HMP output). */
static int print_return_string(const char *line)
{
	const char *p = line + 9;	/* after {"return" */

	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return -1;
	for (p++; *p && *p != '"'; p++) {
		if (*p != '\\') {
			putchar(*p);
			continue;
		}
		switch (*++p) {
		case 'n': putchar('\n'); break;
		case 'r': break;	/* HMP ends its lines with CR LF */
		case 't': putchar('\t'); break;
		case 'b': putchar('\b'); break;
		case 'f': putchar('\f'); break;
		case 'u': {
			int v = 0;

			for (int i = 1; i <= 4; i++) {
				int h = hex_digit(p[i]);

				if (h < 0)
					return -1;
				v = v * 16 + h;
			}
			p += 4;
			if (v < 0x80) {
				putchar(v);
			} else if (v < 0x800) {
				putchar(0xc0 | (v >> 6));
				putchar(0x80 | (v & 0x3f));
			} else {
				putchar(0xe0 | (v >> 12));
				putchar(0x80 | ((v >> 6) & 0x3f));
				putchar(0x80 | (v & 0x3f));
			}
			break;
		}
		case '\0': return -1;
		default: putchar(*p); break;	/* \" \\ \/ */
		}
	}
	return *p == '"' ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: qmp-call [-t SECONDS] SOCKET COMMAND [ARGUMENTS-JSON]\n"
			"       qmp-call [-t SECONDS] -H SOCKET 'HMP COMMAND LINE'\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double timeout = 10;
	int hmp = 0, opt;

	while ((opt = getopt(argc, argv, "+t:H")) != -1) {
		char *end;

		switch (opt) {
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || !(timeout > 0) || timeout > 86400)
				usage();
			break;
		case 'H': hmp = 1; break;
		default: usage();
		}
	}
	int nargs = argc - optind;

	if (hmp ? nargs != 2 : (nargs < 2 || nargs > 3))
		usage();
	const char *path = argv[optind], *cmd = argv[optind + 1];
	const char *args = !hmp && nargs == 3 ? argv[optind + 2] : NULL;
	static char msg[65536];

	if (hmp) {
		snprintf(msg, sizeof(msg), "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"");
		json_escape(msg, sizeof(msg), cmd);
		strcat(msg, "\"}}\n");
	} else {
		if (strlen(cmd) + (args ? strlen(args) : 0) + 64 > sizeof(msg) || strpbrk(cmd, "\"\\\n"))
			usage();
		if (args)
			snprintf(msg, sizeof(msg), "{\"execute\": \"%s\", \"arguments\": %s}\n", cmd, args);
		else
			snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"}\n", cmd);
	}

	struct conn c = { .deadline = now() + timeout };

	c.fd = connect_to(path, c.deadline);
	if (strncmp(read_line(&c, "the QMP greeting"), "{\"QMP\"", 6) != 0)
		die(3, "%s does not greet like QMP", path);
	send_all(&c, "{\"execute\": \"qmp_capabilities\"}\n");
	if (strncmp(reply(&c, "qmp_capabilities"), "{\"return\"", 9) != 0)
		die(3, "qmp_capabilities refused");
	send_all(&c, msg);

	const char *r = reply(&c, hmp ? "human-monitor-command" : cmd);

	if (strncmp(r, "{\"error\"", 8) == 0) {
		const char *d = strstr(r, "\"desc\": \"");
		int n = 0;

		puts(r);
		if (d)
			for (d += 9; d[n] && !(d[n] == '"' && (n == 0 || d[n - 1] != '\\')); n++)
				;
		fprintf(stderr, "qmp-call: %s: %.*s\n", cmd, d ? n : (int)strlen(r), d ? d : r);
		return 1;
	}
	if (hmp) {
		if (print_return_string(r) < 0)
			die(3, "cannot decode the monitor's answer: %s", r);
	} else {
		puts(r);
	}
	close(c.fd);
	return 0;
}
