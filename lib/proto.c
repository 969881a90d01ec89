/* SPDX-License-Identifier: MIT */
#include "proto.h"

#include "hex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmc_buf_free(struct cmc_buf *b)
{
	free(b->data);
	*b = (struct cmc_buf){ 0 };
}

static bool buf_reserve(struct cmc_buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void cmc_buf_add(struct cmc_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cmc_buf_printf(struct cmc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void cmc_buf_consume(struct cmc_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static bool plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+,-", c) != NULL;
}

void cmc_rec_begin(struct cmc_buf *b, const char *type)
{
	cmc_buf_printf(b, "R %s", type);
}

void cmc_rec_str(struct cmc_buf *b, const char *key, const char *value)
{
	cmc_buf_printf(b, " %s=", key);
	for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
		if (plain_char(*p))
			cmc_buf_add(b, (const char *)p, 1);
		else
			cmc_buf_printf(b, "%%%02X", *p);
	}
}

void cmc_rec_int(struct cmc_buf *b, const char *key, long long value)
{
	cmc_buf_printf(b, " %s:=%lld", key, value);
}

void cmc_rec_bool(struct cmc_buf *b, const char *key, bool value)
{
	cmc_buf_printf(b, " %s:=%s", key, value ? "true" : "false");
}

void cmc_rec_end(struct cmc_buf *b)
{
	cmc_buf_add(b, "\n", 1);
}

/* Percent-decoding in place; a decoded value is never longer than its encoding. */
static int decode_value(char *s)
{
	char *out = s;

	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*out++ = *p;
			continue;
		}
		int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		*out++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*out = '\0';
	return 0;
}

static int parse_field(char *word, struct cmc_field *f)
{
	char *eq = strchr(word, '=');

	if (!eq || eq == word)
		return -EINVAL;
	f->literal = eq[-1] == ':';
	if (f->literal) {
		if (eq - 1 == word)
			return -EINVAL;
		eq[-1] = '\0';
	}
	*eq = '\0';
	for (const char *k = word; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return -EINVAL;
	f->key = word;
	f->value = eq + 1;
	return f->literal ? 0 : decode_value(eq + 1);
}

int cmc_rec_parse(char *line, struct cmc_record *rec)
{
	char *save = NULL;
	char *word = strtok_r(line, " \n", &save);

	if (!word || strcmp(word, "R") != 0)
		return -EINVAL;
	rec->type = strtok_r(NULL, " \n", &save);
	if (!rec->type)
		return -EINVAL;
	rec->nfields = 0;
	while ((word = strtok_r(NULL, " \n", &save))) {
		if (rec->nfields == CMC_PROTO_MAX_FIELDS)
			return -E2BIG;
		int err = parse_field(word, &rec->fields[rec->nfields]);
		if (err)
			return err;
		rec->nfields++;
	}
	return 0;
}

const char *cmc_rec_get(const struct cmc_record *rec, const char *key)
{
	for (int i = 0; i < rec->nfields; i++)
		if (strcmp(rec->fields[i].key, key) == 0)
			return rec->fields[i].value;
	return NULL;
}

int cmc_proto_split(char *line, char **argv, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -E2BIG;
		for (const unsigned char *p = (unsigned char *)w; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				return -EINVAL;
		argv[n++] = w;
	}
	return n;
}

void cmc_out_printf(struct cmc_out *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(o->used < o->len ? o->buf + o->used : NULL, o->used < o->len ? o->len - o->used : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		o->used += (size_t)w;
}
