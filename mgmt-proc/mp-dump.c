/* SPDX-License-Identifier: MIT */
/*
 * Checks a libpci dump file (the output of `lspci -xxxx`, also -x / -xxx) before libpci
 * reads it. libpci's dump reader calls its error hook, which must not return, on some
 * malformed lines and silently skips others; this check rejects both, naming the file
 * and line, so that libpci only ever sees a file it accepts.
 *
 * Accepted, one device after another:
 *   [[dddd]d:]bb:dd.f TEXT      a device (fn 0..7, dev 0..1f); TEXT is ignored
 *   ooo: xx xx ... xx           16 bytes of config space at hex offset ooo (< 0x1000),
 *                               offsets contiguous from 0; 64, 128, 256 or 4096
 *                               bytes per device (lspci -x, CardBus -x, -xxx, -xxxx)
 *   <tab or space> TEXT         detail lines of `lspci -v -xxxx`: ignored
 *   (empty line)                ends the device
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp-priv.h"

#define DUMP_LINE_MAX 253 /* libpci reads lines into a 256-byte buffer */
#define CFG_MAX 4096

struct dump_seen {
	uint64_t key;
	unsigned long line;
};

struct dump_state {
	const char *path;
	unsigned long line;
	bool in_dev;
	char dev_text[MP_BDF_STRLEN];
	unsigned long dev_line;
	unsigned next_off; /* bytes of config space seen for the current device */
	struct dump_seen *seen;
	size_t nseen, seen_alloc;
	char *err;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses n hex digits at s; -1 if one is not a hex digit. */
static long hexn(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hexval((unsigned char)s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static size_t hexrun(const char *s)
{
	size_t n = 0;

	while (hexval((unsigned char)s[n]) >= 0)
		n++;
	return n;
}

/* A printable excerpt of a bad line for the error message. */
static void excerpt(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < outlen; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = 0;
	if (s[i])
		strcpy(out + (i > 3 ? i - 3 : 0), "...");
}

static int fail(struct dump_state *st, const char *what, const char *line)
{
	char ex[48];

	if (line) {
		excerpt(line, ex, sizeof(ex));
		mp_errf(st->err, "%s:%lu: %s: '%s'", st->path, st->line, what, ex);
	} else {
		mp_errf(st->err, "%s:%lu: %s", st->path, st->line, what);
	}
	return -EINVAL;
}

static int end_device(struct dump_state *st)
{
	unsigned n = st->next_off;

	if (!st->in_dev)
		return 0;
	st->in_dev = false;
	/* lspci -x writes 64 bytes (128 for a CardBus bridge), -xxx 256, -xxxx 4096:
	 * anything else is a dump cut short. */
	if (n == 64 || n == 128 || n == 256 || n == CFG_MAX)
		return 0;
	mp_errf(st->err, "%s:%lu: device %s has %u bytes of config space, not 64, 128, 256 "
		"or 4096 (truncated?)", st->path, st->dev_line, st->dev_text, n);
	return -EINVAL;
}

static int remember(struct dump_state *st, uint64_t key)
{
	if (st->nseen == st->seen_alloc) {
		size_t n = st->seen_alloc ? st->seen_alloc * 2 : 256;
		struct dump_seen *p = realloc(st->seen, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		st->seen = p;
		st->seen_alloc = n;
	}
	st->seen[st->nseen++] = (struct dump_seen){ key, st->line };
	return 0;
}

/*
 * "bb:dd.f ", "dddd:bb:dd.f " or "ddddd:bb:dd.f " as libpci matches them.
 * Returns 1 if the line is a device line, 0 if it is not, -EINVAL if it looks like
 * one but is wrong.
 */
static int parse_device(struct dump_state *st, const char *s)
{
	size_t n = hexrun(s);
	long dom = 0, bus, dev, fn;

	if (n == 4 || n == 5) {
		if (s[n] != ':')
			return 0;
		dom = hexn(s, n);
		s += n + 1;
		n = hexrun(s);
	}
	if (n != 2 || s[2] != ':' || hexrun(s + 3) != 2 || s[5] != '.' || !isdigit((unsigned char)s[6]))
		return 0;
	bus = hexn(s, 2);
	dev = hexn(s + 3, 2);
	fn = s[6] - '0';
	if (s[7] != ' ' || !s[8])
		return fail(st, "a device line needs a description after the address", s);
	if (dev > 0x1f || fn > 7)
		return fail(st, "device or function number out of range", s);
	if (end_device(st) < 0)
		return -EINVAL;
	st->in_dev = true;
	st->dev_line = st->line;
	st->next_off = 0;
	snprintf(st->dev_text, sizeof(st->dev_text), "%04lx:%02lx:%02lx.%ld", dom, bus, dev, fn);
	if (remember(st, mp_key((uint32_t)dom, (unsigned)bus, (unsigned)(dev << 3 | fn))) < 0) {
		mp_errf(st->err, "%s: out of memory", st->path);
		return -ENOMEM;
	}
	return 1;
}

/* "ooo: xx xx ... xx": exactly 16 bytes at the next offset. */
static int parse_bytes(struct dump_state *st, const char *s)
{
	size_t n = hexrun(s);
	const char *p;
	long off;

	if (n < 2 || n > 8 || s[n] != ':' || s[n + 1] != ' ')
		return 0;
	if (!st->in_dev)
		return fail(st, "config space line outside a device", s);
	off = hexn(s, n);
	if (off >= CFG_MAX)
		return fail(st, "offset beyond the 4096 bytes of config space", s);
	if (off != (long)st->next_off) {
		char what[80];

		snprintf(what, sizeof(what), "expected offset %x, found %lx (line missing?)",
			 st->next_off, off);
		return fail(st, what, s);
	}
	p = s + n + 2;
	for (int i = 0; i < 16; i++) {
		if (hexrun(p) != 2 || (p[2] && p[2] != ' '))
			return fail(st, "bad hex byte", p);
		p += 2;
		if (i < 15) {
			if (!*p)
				return fail(st, "truncated line: fewer than 16 bytes", s);
			p++;
		}
	}
	if (*p)
		return fail(st, "more than 16 bytes on a line", s);
	st->next_off += 16;
	return 1;
}

static int check_line(struct dump_state *st, char *s, size_t len)
{
	int r;

	if (len == 0 || s[len - 1] != '\n')
		return fail(st, "line not terminated (truncated file?)", NULL);
	if (len > DUMP_LINE_MAX)
		return fail(st, "line too long", NULL);
	if (strlen(s) != len)
		return fail(st, "NUL byte in the line", NULL);
	s[--len] = 0;
	if (len && s[len - 1] == '\r')
		s[--len] = 0;
	if (len == 0)
		return end_device(st);
	if (s[0] == '\t' || s[0] == ' ')
		return 0;
	r = parse_device(st, s);
	if (r)
		return r < 0 ? r : 0;
	r = parse_bytes(st, s);
	if (r)
		return r < 0 ? r : 0;
	return fail(st, "neither a device line nor a config space line", s);
}

static int seen_cmp(const void *a, const void *b)
{
	const struct dump_seen *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int check_unique(struct dump_state *st)
{
	qsort(st->seen, st->nseen, sizeof(*st->seen), seen_cmp);
	for (size_t i = 1; i < st->nseen; i++) {
		if (st->seen[i].key == st->seen[i - 1].key) {
			struct mp_bdf b;
			char s[MP_BDF_STRLEN];

			mp_bdf_from_key(st->seen[i].key, &b);
			mp_errf(st->err, "%s:%lu: device %s listed twice (first at line %lu)",
				st->path, st->seen[i].line, mp_bdf_str(&b, s), st->seen[i - 1].line);
			return -EINVAL;
		}
	}
	return 0;
}

int mp_dump_check(const char *path, char *err)
{
	struct dump_state st = { .path = path, .err = err };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		mp_errf(err, "%s: %s", path, strerror(errno));
		return r;
	}
	errno = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		st.line++;
		r = check_line(&st, line, (size_t)len);
		if (r < 0)
			goto out_free;
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		mp_errf(err, "%s:%lu: %s", path, st.line + 1, strerror(-r));
		goto out_free;
	}
	r = end_device(&st);
	if (r < 0)
		goto out_free;
	if (st.nseen == 0) {
		r = -EINVAL;
		mp_errf(err, "%s: no device in the dump (empty file?)", path);
		goto out_free;
	}
	r = check_unique(&st);
out_free:
	free(st.seen);
	free(line);
	fclose(f);
	return r;
}
