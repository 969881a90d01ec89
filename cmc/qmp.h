/* SPDX-License-Identifier: MIT */
/*
 * A small QMP client (QEMU Machine Protocol, JSON over a unix socket) for the
 * hypervisors on the blades. Blocking, but every read and write is bounded by the
 * timeout given at connect: a QEMU that stops answering costs at most that long.
 *
 * Replies are returned as the raw JSON text of the "return" (or "error") object; the
 * few fields cmcd needs are read out of it with qmp_json_*(), which understand the
 * flat, well-formed JSON QEMU writes and nothing more.
 */
#ifndef CMC_QMP_H
#define CMC_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qmp;

/* Connects, reads the greeting and leaves capabilities negotiation mode. */
int qmp_connect(const char *path, unsigned timeout_ms, struct qmp **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void qmp_close(struct qmp *q);

/*
 * Runs one command. args: a JSON object ("{...}") or NULL. On success *reply (malloc'd,
 * the caller frees) holds the "return" value. A QMP error is -EREMOTEIO with its
 * description in err. Asynchronous events arriving meanwhile are skipped.
 */
int qmp_execute(struct qmp *q, const char *command, const char *args, char **reply, char *err,
		size_t errlen) __attribute__((warn_unused_result));

/* The value of "key" anywhere in json (first occurrence): a string, or a number. */
int qmp_json_str(const char *json, const char *key, char *out, size_t len);
int qmp_json_u64(const char *json, const char *key, uint64_t *out);

#endif
