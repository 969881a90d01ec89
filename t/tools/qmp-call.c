/* SPDX-License-Identifier: MIT */
/*
 * qmp-call: one QMP command to a QEMU over its unix socket, for shells that have no
 * socat or nc (the chassis' busybox). Connects (retrying while the socket is not there
 * yet or refuses), sends the command and prints the reply; events that arrive meanwhile
 * are skipped. The QMP is cmcd's own client (cmc/qmp.c). Every step is bounded by one
 * overall timeout.
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
 * For timing a migration by hand (bench/migration.pl), as cmcd times its own:
 *   -w EVENT[=S1,S2...]  after the reply, wait for that event (with data.status one of
 *                        S1, S2... if given) and print it, QEMU's timestamp included
 *   -T                   print when the reply arrived (wall clock, as QEMU stamps events):
 *                        {"answered": {"seconds": S, "microseconds": U}}
 *   qmp-call -w MIGRATION=completed,failed,cancelled /run/vmA.qmp migrate '{"uri": ...}'
 *   qmp-call -T /run/vmB.qmp cont
 *
 * Exit: 0 the command returned, 1 QEMU answered with an error (the reply on stdout, its
 * description on stderr), 2 usage (ARGUMENTS-JSON must be an object), 3 no connection,
 * timeout or a broken reply.
 * The default timeout is 10 s.
 */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What is left of the overall timeout, in ms (at least 1: the client wants a bound). */
static unsigned left_ms(void)
{
	double l = deadline - now();

	return l <= 0 ? 1 : (unsigned)(l * 1000) + 1;
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

/* Connects, retrying while the socket is not there yet or refuses (QEMU starting). */
static struct qmp *connect_to(const char *path)
{
	char err[256];

	for (;;) {
		struct qmp *q;
		int rc = qmp_connect(path, left_ms(), &q, err, sizeof(err));

		if (!rc)
			return q;
		if (rc == -ENAMETOOLONG)
			die(2, "socket path too long: %s", path);
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EAGAIN) || now() >= deadline)
			die(3, "cannot connect: %s", err);
		usleep(50000);
	}
}

/* Prints {"KEY": value} on one line, as QEMU writes it. */
static void print_member(const char *key, json_t *value)
{
	json_t *msg = json_pack("{s:O}", key, value);
	char *text = msg ? json_dumps(msg, JSON_ENCODE_ANY) : NULL;

	if (!text)
		die(3, "out of memory");
	puts(text);
	free(text);
	json_decref(msg);
}

/* The monitor's text, without the CRs HMP ends its lines with. */
static void print_hmp(json_t *reply)
{
	const char *s = json_string_value(reply);

	if (!s)
		die(3, "the monitor's answer is not a string");
	for (; *s; s++)
		if (*s != '\r')
			putchar(*s);
}

/* Whether ev is the event asked for with -w: NAME, or NAME=STATUS,STATUS... */
static int event_matches(json_t *ev, const char *want)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	const char *eq = strchr(want, '='), *status;
	size_t n = eq ? (size_t)(eq - want) : strlen(want);
	char list[256], *save = NULL;

	if (!name || strlen(name) != n || strncmp(name, want, n) != 0)
		return 0;
	if (!eq)
		return 1;
	status = json_string_value(json_object_get(json_object_get(ev, "data"), "status"));
	snprintf(list, sizeof(list), "%s", eq + 1);
	for (char *t = strtok_r(list, ",", &save); status && t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, status) == 0)
			return 1;
	return 0;
}

/* -w: waits (within the overall timeout) for the event and prints it. */
static void wait_event(struct qmp *q, const char *want)
{
	char err[256];

	for (;;) {
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };
		json_t *ev;

		while (qmp_event_next(q, &ev) == 0) {
			if (event_matches(ev, want)) {
				char *text = json_dumps(ev, JSON_COMPACT);

				puts(text ? text : "{}");
				free(text);
				json_decref(ev);
				return;
			}
			json_decref(ev);
		}
		if (now() >= deadline)
			die(3, "no %s event in time", want);
		(void)poll(&p, 1, (int)left_ms());
		if (qmp_poll(q, err, sizeof(err)) < 0)
			die(3, "%s", err);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: qmp-call [-t SECONDS] [-w EVENT[=STATUS,...]] [-T] SOCKET COMMAND [ARGUMENTS-JSON]\n"
			"       qmp-call [-t SECONDS] -H SOCKET 'HMP COMMAND LINE'\n");
	exit(2);
}

/* The command's arguments: a JSON object, or the HMP command line wrapped in one. */
static json_t *arguments(int hmp, const char *cmd, const char *text)
{
	json_error_t jerr;
	json_t *args;

	if (hmp)
		return json_pack("{s:s}", "command-line", cmd);
	if (!text)
		return NULL;
	args = json_loads(text, 0, &jerr);
	if (!json_is_object(args))
		die(2, "arguments: not a JSON object: %s", args ? text : jerr.text);
	return args;
}

int main(int argc, char **argv)
{
	double timeout = 10;
	int hmp = 0, stamp = 0, opt, rc;
	const char *want_event = NULL;
	char err[512];

	while ((opt = getopt(argc, argv, "+t:Hw:T")) != -1) {
		char *end;

		switch (opt) {
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || !(timeout > 0) || timeout > 86400)
				usage();
			break;
		case 'H': hmp = 1; break;
		case 'w': want_event = optarg; break;
		case 'T': stamp = 1; break;
		default: usage();
		}
	}
	int nargs = argc - optind;

	if (hmp ? nargs != 2 : (nargs < 2 || nargs > 3))
		usage();
	const char *path = argv[optind], *cmd = argv[optind + 1];
	json_t *args = arguments(hmp, cmd, !hmp && nargs == 3 ? argv[optind + 2] : NULL), *reply = NULL;

	deadline = now() + timeout;
	struct qmp *q = connect_to(path);

	if (qmp_set_timeout(q, left_ms()) < 0)
		die(3, "timed out");
	rc = qmp_execute(q, hmp ? "human-monitor-command" : cmd, args, &reply, err, sizeof(err));
	if (stamp) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		printf("{\"answered\": {\"seconds\": %lld, \"microseconds\": %ld}}\n", (long long)ts.tv_sec,
		       ts.tv_nsec / 1000);
	}
	if (rc == -EREMOTEIO) {
		print_member("error", reply);
		fprintf(stderr, "qmp-call: %s: %s\n", cmd, err);
		return 1;
	}
	if (rc)
		die(3, "%s", err);
	if (hmp)
		print_hmp(reply);
	else
		print_member("return", reply);
	if (want_event)
		wait_event(q, want_event);
	json_decref(reply);
	json_decref(args);
	qmp_close(q);
	return 0;
}
