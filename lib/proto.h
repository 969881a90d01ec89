/* SPDX-License-Identifier: MIT */
/*
 * The wire format between cmcctl and cmcd, on a unix stream socket.
 *
 * Request: one line, words separated by single spaces:  "slot 3\n"
 * Reply:   "OK\n" or "ERR <code> <message>\n", then zero or more records, then ".\n".
 *          A record is "R <type> key=value key:=literal ...\n": `=` carries a string,
 *          `:=` a JSON literal (number, true, false, null). Keys are [a-z0-9_]; values
 *          are percent-encoded outside [A-Za-z0-9._:/@+,-].
 *          `events follow` keeps streaming records after the reply until the client leaves.
 *
 * Flat records keep both ends simple: cmcctl makes tables and `-j` JSON from the same
 * records, and any script can read them with a line reader.
 */
#ifndef CMC_PROTO_H
#define CMC_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CMC_PROTO_MAX_LINE 4096
#define CMC_PROTO_MAX_FIELDS 64

/* Reply codes: 0 ok; refused (1) and usage (2) map to cmcctl's exit codes. */
enum cmc_status { CMC_OK = 0, CMC_REFUSED = 1, CMC_USAGE = 2 };

/* A growable byte buffer; any failed append sets `failed` and later appends do nothing. */
struct cmc_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void cmc_buf_free(struct cmc_buf *b);

/* Text into a caller's fixed buffer, snprintf-style: used counts what was asked for even
 * past len, so used >= len after the last write says it did not fit (and buf then holds
 * a NUL-terminated prefix if len > 0). */
struct cmc_out {
	char *buf;
	size_t len, used;
};
void cmc_out_printf(struct cmc_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmc_buf_add(struct cmc_buf *b, const char *s, size_t n);
void cmc_buf_printf(struct cmc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (what was written to a socket). */
void cmc_buf_consume(struct cmc_buf *b, size_t n);

/* Writing records. */
void cmc_rec_begin(struct cmc_buf *b, const char *type);
void cmc_rec_str(struct cmc_buf *b, const char *key, const char *value);
void cmc_rec_int(struct cmc_buf *b, const char *key, long long value);
void cmc_rec_bool(struct cmc_buf *b, const char *key, bool value);
void cmc_rec_end(struct cmc_buf *b);

/* Reading records: parses one line in place (the line is modified). */
struct cmc_field {
	const char *key;
	const char *value;	/* decoded */
	bool literal;		/* a JSON literal rather than a string */
};

struct cmc_record {
	const char *type;
	int nfields;
	struct cmc_field fields[CMC_PROTO_MAX_FIELDS];
};

int cmc_rec_parse(char *line, struct cmc_record *rec) __attribute__((warn_unused_result));
const char *cmc_rec_get(const struct cmc_record *rec, const char *key);

/* Split a request line into words in place; returns the count or -E2BIG / -EINVAL. */
int cmc_proto_split(char *line, char **argv, int max) __attribute__((warn_unused_result));

#endif
