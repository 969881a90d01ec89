/* SPDX-License-Identifier: MIT */
/*
 * The audit log (audit.h): entries read back in order with every field; ids go on after
 * a reopen (a restart); the two files never exceed the cap however many entries are
 * added, and the newest always survive; a torn or damaged line costs that line only; a
 * newline or a quote in a field cannot forge a second entry. Works in a mkdtemp directory.
 */
#include "audit.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], cur[128], old[128];

struct seen {
	unsigned n;
	unsigned long long first, last;
	char who[64], what[512], outcome[128], from[64];
	bool ok;
};

static int collect(const struct cmc_audit_entry *e, void *arg)
{
	struct seen *s = arg;

	if (!s->n++)
		s->first = e->id;
	s->last = e->id;
	snprintf(s->who, sizeof(s->who), "%s", e->who);
	snprintf(s->from, sizeof(s->from), "%s", e->from);
	snprintf(s->what, sizeof(s->what), "%s", e->what);
	snprintf(s->outcome, sizeof(s->outcome), "%s", e->outcome);
	s->ok = e->ok;
	return 0;
}

static long long size_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static void round_trip(void)
{
	struct cmc_audit *a;
	struct seen s = { 0 };

	tap_is_int(cmc_audit_open(dir, 0, &a), 0, "open in an empty directory");
	tap_is_int(cmc_audit_add(a, "admin", "redfish 127.0.0.1", "assign slot 1 pf 0 vf 1 to blade1", true, "done"),
		   0, "an entry is added");
	tap_is_int(cmc_audit_add(a, "uid 1000 (alice)", "unix socket", "unassign slot 1 vf 1", false,
				 "slot 1 pf 0 vf 1 is not assigned"), 0, "a refusal is added");
	cmc_audit_foreach(a, collect, &s);
	tap_is_int(s.n, 2, "both read back");
	tap_is_int(s.first, 1, "ids start at 1");
	tap_is_str(s.who, "uid 1000 (alice)", "who");
	tap_is_str(s.from, "unix socket", "from where");
	tap_is_str(s.outcome, "slot 1 pf 0 vf 1 is not assigned", "the outcome");
	tap_ok(!s.ok, "a refusal reads back as not made");
	cmc_audit_close(a);

	tap_is_int(cmc_audit_open(dir, 0, &a), 0, "reopened (a restart)");
	tap_is_int(cmc_audit_add(a, "admin", "redfish ::1", "a \"quoted\"\nsecond line", true, "done"), 0,
		   "a field with a newline and quotes");
	memset(&s, 0, sizeof(s));
	cmc_audit_foreach(a, collect, &s);
	tap_is_int(s.n, 3, "the entries of before the restart are still there");
	tap_is_int(s.last, 3, "and ids go on after them");
	tap_is_str(s.what, "a \"quoted\"\nsecond line", "the field reads back as written, one entry");
	cmc_audit_close(a);
}

static void bounded(void)
{
	const size_t cap = CMC_AUDIT_CAP_MIN;
	struct cmc_audit *a;
	struct seen s = { 0 };
	long long most = 0;
	char what[64];

	unlink(cur);
	unlink(old);
	tap_is_int(cmc_audit_open(dir, cap, &a), 0, "open with the smallest cap (%zu bytes)", cap);
	for (int i = 1; i <= 3000; i++) {
		snprintf(what, sizeof(what), "change %d", i);
		if (cmc_audit_add(a, "admin", "redfish 10.0.2.2", what, true, "done") < 0)
			break;
		long long both = size_of(cur) + size_of(old);
		most = both > most ? both : most;
	}
	tap_ok(most <= (long long)cap, "3000 entries never take the files past the cap (most %lld)", most);
	cmc_audit_foreach(a, collect, &s);
	tap_is_int(s.last, 3000, "the newest entry survives");
	tap_is_str(s.what, "change 3000", "... with its text");
	tap_ok(s.n > 10 && s.last - s.first + 1 == s.n, "the oldest went, the rest are whole and in order (%u)", s.n);
	cmc_audit_close(a);
	tap_ok(cmc_audit_open(dir, 100, &a) == -EINVAL, "a cap under the minimum is refused");
}

static void damaged(void)
{
	struct cmc_audit *a;
	struct seen s = { 0 };
	FILE *f;

	unlink(cur);
	unlink(old);
	f = fopen(cur, "w");
	fputs("{\"id\":7,\"time\":\"2026-11-30T10:00:00Z\",\"who\":\"a\",\"from\":\"b\",\"what\":\"c\",\"ok\":true,"
	      "\"outcome\":\"done\"}\n{\"id\":8,\"time\":\"2026-11-30T10:0", f);	/* torn by a crash */
	fclose(f);
	tap_is_int(cmc_audit_open(dir, 0, &a), 0, "opens over a torn last line");
	tap_is_int(cmc_audit_add(a, "admin", "unix socket", "after", true, "done"), 0, "adds after it");
	cmc_audit_foreach(a, collect, &s);
	tap_ok(s.n >= 1 && s.first == 7, "the whole line before the tear reads back");
	tap_is_int(s.last, 8, "the next id follows the last whole entry");
	cmc_audit_close(a);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cmc-audit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(cur, sizeof(cur), "%s/audit.log", dir);
	snprintf(old, sizeof(old), "%s/audit.log.1", dir);
	round_trip();
	bounded();
	damaged();
	unlink(cur);
	unlink(old);
	rmdir(dir);
	return tap_done();
}
