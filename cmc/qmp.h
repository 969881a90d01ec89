/* SPDX-License-Identifier: MIT */
/*
 * A QMP client (QEMU Machine Protocol, JSON over a unix socket) for the hypervisors on
 * the blades and for t/tools/qmp-call. Messages are parsed with jansson.
 *
 * Every command carries an "id" and only the reply with that id is its answer: a reply
 * that comes after its command gave up (late), or with another id, or with none, is
 * discarded. Events ({"event": ...}) are never taken for a reply; they are kept, in
 * order, for qmp_event_next(). A stream that cannot be trusted any more (end of file,
 * a line that is not a JSON object, a line longer than QMP_LINE_MAX) is closed, the
 * command that saw it fails, and the next command first connects again (greeting,
 * qmp_capabilities: QEMU serves one client at a time). A command that merely timed out
 * leaves the stream alone.
 *
 * Every wait is bounded by the client's timeout. qmp_execute() waits; qmp_send() and
 * qmp_receive() never wait for an answer, for callers that watch qmp_fd() themselves.
 */
#ifndef CMC_QMP_H
#define CMC_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_LINE_MAX (1024 * 1024)	/* bytes of one message, CR LF included */
#define QMP_EVENTS_MAX 64		/* events kept; the oldest go first */

struct qmp;

/*
 * Connects to the QMP socket at path, reads the greeting and leaves capabilities
 * negotiation mode. timeout_ms (1..600000) bounds each step here and each later
 * command. Errors: -ENOENT/-ECONNREFUSED (no QEMU there yet), -ETIMEDOUT, -EPROTO (not
 * QMP), -ENAMETOOLONG, -ENOMEM; err says which.
 */
int qmp_connect(const char *path, unsigned timeout_ms, struct qmp **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void qmp_close(struct qmp *q);

/* The timeout of the next steps, in ms (1..600000); -EINVAL out of range. */
int qmp_set_timeout(struct qmp *q, unsigned timeout_ms) __attribute__((warn_unused_result));

/*
 * Runs one command and waits (at most the timeout) for its reply. args: a JSON object
 * or NULL, borrowed. On return *reply (if reply is not NULL) holds a new reference the
 * caller drops with json_decref(), or NULL: the "return" value on success, the "error"
 * object ({"class", "desc"}) on -EREMOTEIO. Errors: -EREMOTEIO (QEMU refused; its desc
 * in err), -ETIMEDOUT (no reply in time; a later one is discarded), -ECONNRESET,
 * -EPROTO, -EMSGSIZE (the stream broke and is closed: the next command reconnects),
 * -ECONNREFUSED/-ENOENT and the like (reconnecting failed), -ENOMEM.
 */
int qmp_execute(struct qmp *q, const char *command, json_t *args, json_t **reply, char *err,
		size_t errlen) __attribute__((warn_unused_result));

/*
 * The same in two halves. qmp_send() writes the command (connecting again first if the
 * stream had broken; the write is bounded by the timeout) and gives its id; any command
 * still pending is abandoned (its reply will be discarded). qmp_receive() reads what has
 * arrived without waiting: -EAGAIN while the reply to id is not there, else as
 * qmp_execute(). qmp_fd() is the socket to poll for input, -1 while disconnected.
 */
int qmp_send(struct qmp *q, const char *command, json_t *args, uint64_t *id, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int qmp_receive(struct qmp *q, uint64_t id, json_t **reply, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int qmp_fd(const struct qmp *q);

/*
 * Without waiting at all, for an event loop (cmcd's): qmp_open() makes a client that is
 * not connected; qmp_start() connects (a unix stream connect does not wait: QEMU listens
 * there or not: -ENOENT, -ECONNREFUSED, -EAGAIN when its backlog is full) and returns;
 * from then on the caller polls qmp_fd() for input (and for output while qmp_want_write())
 * and calls qmp_poll(), which writes what is queued, reads what has arrived and takes the
 * greeting and the qmp_capabilities exchange one step at a time. qmp_ready(): commands
 * may be sent. On such a client qmp_send() neither connects nor waits (-ENOTCONN before
 * qmp_ready(); a command the socket does not take at once stays queued), qmp_receive()
 * and qmp_event_next() work as above, qmp_execute() is refused (-EINVAL), and a broken
 * stream is not reconnected: qmp_poll() returns its -errno (-ECONNRESET, -EPROTO,
 * -EMSGSIZE; the reason in err), qmp_fd() turns -1 and only a new qmp_start() connects
 * again. The timeout of such a client is the caller's to keep. qmp_open: 0 or -ENOMEM.
 * qmp_poll() also serves a client from qmp_connect() that only listens for events (it
 * reads what has arrived and never waits).
 */
int qmp_open(const char *path, struct qmp **out) __attribute__((warn_unused_result));
int qmp_start(struct qmp *q, char *err, size_t errlen) __attribute__((warn_unused_result));
int qmp_poll(struct qmp *q, char *err, size_t errlen) __attribute__((warn_unused_result));
bool qmp_ready(const struct qmp *q);
bool qmp_want_write(const struct qmp *q);

/*
 * The oldest event not yet taken: the whole message ({"event": NAME, "data": {...},
 * "timestamp": {...}}), a new reference. -EAGAIN when none is kept. Events are read
 * while commands wait for replies and by qmp_receive(); at most QMP_EVENTS_MAX are kept.
 */
int qmp_event_next(struct qmp *q, json_t **event) __attribute__((warn_unused_result));

/* How many replies were discarded (late, another id, no id) and events dropped. */
unsigned long qmp_discarded(const struct qmp *q);
unsigned long qmp_events_dropped(const struct qmp *q);

/*
 * Reading a reply by path: members named from the top, separated by dots
 * ("ram.transferred" is reply["ram"]["transferred"]). qmp_get_u64: an integer >= 0, or
 * a real >= 0 truncated (QEMU's "mbps"). qmp_get_str: a string, copied (truncated to
 * len - 1 bytes: -ERANGE). Errors: -ENOENT (no such member), -EINVAL (another type).
 */
json_t *qmp_get(const json_t *v, const char *path);
int qmp_get_u64(const json_t *v, const char *path, uint64_t *out);
int qmp_get_str(const json_t *v, const char *path, char *out, size_t len);

#endif
