/* SPDX-License-Identifier: MIT */
/* The audit log (audit.h): JSON lines in DIR/audit.log and DIR/audit.log.1. */
#include "audit.h"

#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AUDIT_FIELD_MAX 400	/* bytes of one field */

struct cmc_audit {
	char path[4096], old[4096];	/* audit.log, audit.log.1 */
	int fd;
	size_t size;			/* of audit.log */
	size_t half;			/* audit.log rotates past this */
	unsigned long long next_id;
};

/* Each whole line of path, parsed; fn(line, arg) for each that is a JSON object. */
static int each_line(const char *path, int (*fn)(json_t *j, void *arg), void *arg)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);	/* a torn or damaged line: skipped */
		if (json_is_object(j))
			rc = fn(j, arg);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return rc;
}

static int last_id(json_t *j, void *arg)
{
	unsigned long long *id = arg;
	json_int_t v = json_integer_value(json_object_get(j, "id"));

	if (v > 0 && (unsigned long long)v > *id)
		*id = (unsigned long long)v;
	return 0;
}

int cmc_audit_open(const char *dir, size_t cap, struct cmc_audit **out)
{
	struct cmc_audit *a;
	unsigned long long id = 0;
	struct stat st;
	int rc;

	*out = NULL;
	if (cap == 0)
		cap = CMC_AUDIT_CAP_DEFAULT;
	if (cap < CMC_AUDIT_CAP_MIN)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->half = cap / 2;
	if (snprintf(a->path, sizeof(a->path), "%s/audit.log", dir) >= (int)sizeof(a->path) ||
	    snprintf(a->old, sizeof(a->old), "%s/audit.log.1", dir) >= (int)sizeof(a->old)) {
		free(a);
		return -ENAMETOOLONG;
	}
	if ((rc = each_line(a->old, last_id, &id)) < 0 || (rc = each_line(a->path, last_id, &id)) < 0) {
		free(a);
		return rc;
	}
	a->next_id = id + 1;
	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0 || fstat(a->fd, &st) < 0) {
		rc = -errno;
		if (a->fd >= 0)
			close(a->fd);
		free(a);
		return rc;
	}
	a->size = (size_t)st.st_size;
	/* A line torn by a crash is ended, so the next entry starts a line of its own. */
	char last = '\n';
	if (a->size && pread(a->fd, &last, 1, (off_t)a->size - 1) == 1 && last != '\n' &&
	    write(a->fd, "\n", 1) == 1)
		a->size++;
	*out = a;
	return 0;
}

void cmc_audit_close(struct cmc_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}

/* audit.log becomes audit.log.1 (the one before goes) and a new audit.log starts. */
static int rotate(struct cmc_audit *a)
{
	int fd;

	if (rename(a->path, a->old) < 0)
		return -errno;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(a->fd);
	a->fd = fd;
	a->size = 0;
	return 0;
}

static json_t *field(const char *s)
{
	char cut[AUDIT_FIELD_MAX + 1];

	snprintf(cut, sizeof(cut), "%s", s ? s : "");
	return json_stringn_nocheck(cut, strlen(cut));
}

int cmc_audit_add(struct cmc_audit *a, const char *who, const char *from, const char *what, bool ok,
		  const char *outcome)
{
	time_t now = time(NULL);
	char when[32], *text;
	struct tm tm;
	json_t *j;
	size_t len;
	int rc = 0;

	if (!a)
		return 0;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:I, s:s, s:o, s:o, s:o, s:b, s:o}", "id", (json_int_t)a->next_id, "time", when,
		      "who", field(who), "from", field(from), "what", field(what), "ok", ok,
		      "outcome", field(outcome));
	/* JSON_ENSURE_ASCII: a line never holds a raw newline or invalid UTF-8. */
	text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';	/* json_dumps' NUL becomes the newline */
	if (a->size + len > a->half && a->size > 0)
		rc = rotate(a);
	if (!rc && write(a->fd, text, len) != (ssize_t)len)
		rc = -EIO;
	if (!rc && fdatasync(a->fd) < 0)
		rc = -errno;
	if (!rc) {
		a->size += len;
		a->next_id++;
	}
	free(text);
	return rc;
}

struct walk {
	cmc_audit_fn fn;
	void *arg;
};

static int walk_one(json_t *j, void *arg)
{
	struct walk *w = arg;
	const char *s[5] = { "time", "who", "from", "what", "outcome" };
	const char *v[5];
	struct cmc_audit_entry e;

	for (int i = 0; i < 5; i++) {
		v[i] = json_string_value(json_object_get(j, s[i]));
		if (!v[i])
			return 0;
	}
	e = (struct cmc_audit_entry){ .id = (unsigned long long)json_integer_value(json_object_get(j, "id")),
				      .time = v[0], .who = v[1], .from = v[2], .what = v[3],
				      .ok = json_is_true(json_object_get(j, "ok")), .outcome = v[4] };
	return w->fn(&e, w->arg);
}

int cmc_audit_foreach(const struct cmc_audit *a, cmc_audit_fn fn, void *arg)
{
	struct walk w = { fn, arg };
	int rc;

	if (!a)
		return 0;
	rc = each_line(a->old, walk_one, &w);
	return rc ? rc : each_line(a->path, walk_one, &w);
}

/* --- the control socket ------------------------------------------------------------------- */

void cmc_audit_api(void *ctx, uid_t uid, const char *line, enum cmc_status st, const char *message)
{
	char who[96], buf[1024];
	struct passwd pw, *res = NULL;

	if (uid == (uid_t)-1)
		snprintf(who, sizeof(who), "uid unknown");
	else if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(who, sizeof(who), "uid %u (%.64s)", (unsigned)uid, pw.pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)uid);
	(void)!cmc_audit_add(ctx, who, "unix socket", line, st == CMC_OK,
			     st == CMC_OK ? "done" : message && *message ? message : "refused");
}

static int entry_record(const struct cmc_audit_entry *e, void *arg)
{
	struct cmc_buf *b = arg;

	cmc_rec_begin(b, "audit");
	cmc_rec_int(b, "id", (long long)e->id);
	cmc_rec_str(b, "time", e->time);
	cmc_rec_str(b, "who", e->who);
	cmc_rec_str(b, "from", e->from);
	cmc_rec_bool(b, "ok", e->ok);
	cmc_rec_str(b, "what", e->what);
	cmc_rec_str(b, "outcome", e->outcome);
	cmc_rec_end(b);
	return 0;
}

enum cmc_status cmc_cmd_audit(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	int rc;

	if (!d->audit)
		return cmc_api_refuse(req, CMC_REFUSED, "the audit log is not open");
	rc = cmc_audit_foreach(d->audit, entry_record, req->body);
	if (rc < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "cannot read the audit log: %s", strerror(-rc));
	return CMC_OK;
}
