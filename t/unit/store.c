/* SPDX-License-Identifier: MIT */
/*
 * The crash-safe state store: round trips, generations, rollback, validation, prefix
 * walks, and above all that a damaged file is refused and left exactly as it was, that a
 * leftover PATH.tmp is ignored, and that a failed commit leaves the previous state both
 * on disk and in memory. Each test works in its own mkdtemp directory under /tmp.
 */
#include "store.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64], path[128], tmp_path[160], lock_path[160];

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cmc-store-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", path);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
}

static void remove_dir(void)
{
	unlink(path);
	unlink(tmp_path);
	rmdir(tmp_path);
	unlink(lock_path);
	rmdir(dir);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

static void spit(const char *p, const void *buf, size_t len)
{
	FILE *f = fopen(p, "wb");

	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(p);
		exit(1);
	}
	fclose(f);
}

static bool exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

static struct cmc_store *open_ok(const char *what)
{
	struct cmc_store *st = NULL;
	char err[512] = "";
	int rc = cmc_store_open(path, &st, err, sizeof(err));

	if (!tap_ok(rc == 0 && st, "%s: open", what))
		tap_diag("  rc %d: %s", rc, err);
	if (!st)
		exit(tap_done() | 1);
	return st;
}

static int must(int rc)
{
	if (rc < 0)
		tap_diag("unexpected %d (%s)", rc, strerror(-rc));
	return rc;
}

/* A store with three records, committed once (generation 1). */
static struct cmc_store *make_three(void)
{
	struct cmc_store *st = open_ok("three records");

	must(cmc_store_set(st, "assign/slot3/pf0/vf2", "blade=blade1 mac=02:00:00:03:00:02"));
	must(cmc_store_set(st, "slot/3", "card=8086:10c9 pfs=1 vfs=2"));
	must(cmc_store_set(st, "empty", ""));
	must(cmc_store_commit(st));
	return st;
}

static void test_first_commit(void)
{
	struct cmc_store *st;

	fresh_dir();
	st = open_ok("empty dir");
	tap_ok(cmc_store_open_info(st) == CMC_STORE_INFO_CREATED, "a missing file: an empty store,"
	       " reported as created");
	tap_ok(cmc_store_generation(st) == 0 && cmc_store_count(st, "") == 0 && !cmc_store_dirty(st),
	       "generation 0, no records, nothing to commit");
	tap_is_int(cmc_store_commit(st), 0, "committing nothing succeeds");
	tap_ok(!exists(path) && cmc_store_generation(st) == 0, "and writes nothing");
	tap_ok(exists(lock_path), "the lock file is there");

	tap_is_int(cmc_store_set(st, "assign/slot3/pf0/vf2", "blade=blade1 mac=02:00:00:03:00:02"),
		   0, "set a record");
	tap_is_str(cmc_store_get(st, "assign/slot3/pf0/vf2"), "blade=blade1 mac=02:00:00:03:00:02",
		   "get it back before commit");
	tap_ok(cmc_store_dirty(st), "the store is dirty");
	tap_is_int(cmc_store_set(st, "empty", ""), 0, "an empty value is allowed");
	tap_is_int(cmc_store_commit(st), 0, "commit");
	tap_ok(cmc_store_generation(st) == 1 && !cmc_store_dirty(st), "generation 1, clean");
	tap_ok(exists(path) && !exists(tmp_path), "the file is there, no .tmp left behind");
	tap_is_int(cmc_store_set(st, "empty", ""), 0, "setting the same value again...");
	tap_ok(!cmc_store_dirty(st), "...is not a change");
	cmc_store_close(st);
}

/* Continues in test_first_commit's directory. */
static void test_reopen(void)
{
	struct cmc_store *st = open_ok("reopen");

	tap_is_int(cmc_store_open_info(st), 0, "an existing store: no info flags");
	tap_is_int(cmc_store_generation(st), 1, "generation 1 on disk");
	tap_is_str(cmc_store_get(st, "assign/slot3/pf0/vf2"), "blade=blade1 mac=02:00:00:03:00:02",
		   "the record survived");
	tap_is_str(cmc_store_get(st, "empty"), "", "the empty value survived");
	tap_ok(!cmc_store_get(st, "nope") && !cmc_store_get(st, NULL), "an absent key is NULL");

	must(cmc_store_set(st, "assign/slot3/pf0/vf2", "blade=blade2 mac=02:00:00:03:00:02"));
	tap_is_int(cmc_store_del(st, "empty"), 0, "delete a record");
	tap_is_int(cmc_store_del(st, "empty"), -ENOENT, "deleting it again: -ENOENT");
	tap_is_int(cmc_store_commit(st), 0, "commit the change and the delete");
	tap_is_int(cmc_store_generation(st), 2, "generation 2");
	tap_is_int(cmc_store_commit(st), 0, "commit with no change");
	tap_is_int(cmc_store_generation(st), 2, "generation stays 2");
	cmc_store_close(st);

	st = open_ok("reopen after the second commit");
	tap_ok(cmc_store_generation(st) == 2 && !cmc_store_get(st, "empty") &&
	       strcmp(cmc_store_get(st, "assign/slot3/pf0/vf2"), "blade=blade2 mac=02:00:00:03:00:02")
	       == 0, "generation 2, the new value, the deleted key gone");
	must(cmc_store_set(st, "uncommitted", "x"));
	cmc_store_close(st);
	st = open_ok("reopen after closing with a change pending");
	tap_ok(!cmc_store_get(st, "uncommitted") && cmc_store_generation(st) == 2,
	       "close without commit drops the change");
	cmc_store_close(st);
	remove_dir();
}

/* Changes since the last commit are undone, in any combination, exactly. */
static void test_rollback(void)
{
	struct cmc_store *st;

	fresh_dir();
	st = make_three();
	must(cmc_store_set(st, "slot/3", "card=8086:10c9 pfs=1 vfs=7"));
	must(cmc_store_set(st, "slot/3", "empty"));
	must(cmc_store_del(st, "empty"));
	must(cmc_store_set(st, "new", "1"));
	must(cmc_store_set(st, "new", "2"));
	must(cmc_store_del(st, "new"));
	must(cmc_store_set(st, "new", "3"));
	must(cmc_store_set(st, "empty", "back"));
	tap_is_int(cmc_store_del_prefix(st, "assign/"), 1, "del_prefix removes one record");
	cmc_store_rollback(st);
	tap_ok(!cmc_store_dirty(st), "rollback: clean");
	tap_is_str(cmc_store_get(st, "slot/3"), "card=8086:10c9 pfs=1 vfs=2", "rollback: replaced value restored");
	tap_is_str(cmc_store_get(st, "empty"), "", "rollback: deleted then re-set key restored");
	tap_ok(!cmc_store_get(st, "new"), "rollback: a key created, deleted, re-created is gone");
	tap_is_str(cmc_store_get(st, "assign/slot3/pf0/vf2"), "blade=blade1 mac=02:00:00:03:00:02",
		   "rollback: prefix-deleted record restored");
	tap_is_int(cmc_store_count(st, ""), 3, "rollback: three records, as committed");
	cmc_store_close(st);
	remove_dir();
}

static void test_validation(void)
{
	char long_key[CMC_STORE_KEY_MAX + 2], long_value[CMC_STORE_VALUE_MAX + 2];
	struct cmc_store *st;

	fresh_dir();
	st = open_ok("validation");
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';

	tap_is_int(cmc_store_set(st, "", "v"), -EINVAL, "empty key: -EINVAL");
	tap_is_int(cmc_store_set(st, NULL, "v"), -EINVAL, "NULL key: -EINVAL");
	tap_is_int(cmc_store_set(st, "a b", "v"), -EINVAL, "key with a space: -EINVAL");
	tap_is_int(cmc_store_set(st, "a\nb", "v"), -EINVAL, "key with a newline: -EINVAL");
	tap_is_int(cmc_store_set(st, "caf\xc3\xa9", "v"), -EINVAL, "non-ASCII key: -EINVAL");
	tap_is_int(cmc_store_set(st, long_key, "v"), -EINVAL, "256-character key: -EINVAL");
	tap_is_int(cmc_store_set(st, "k", "a\nb"), -EINVAL, "value with a newline: -EINVAL");
	tap_is_int(cmc_store_set(st, "k", "a\tb"), -EINVAL, "value with a tab: -EINVAL");
	tap_is_int(cmc_store_set(st, "k", "\x7f"), -EINVAL, "value with DEL: -EINVAL");
	tap_is_int(cmc_store_set(st, "k", NULL), -EINVAL, "NULL value: -EINVAL");
	tap_is_int(cmc_store_set(st, "k", long_value), -EINVAL, "4096-character value: -EINVAL");
	tap_is_int(cmc_store_del(st, "a b"), -EINVAL, "delete with an invalid key: -EINVAL");
	tap_ok(!cmc_store_dirty(st) && cmc_store_count(st, "") == 0, "nothing was stored");

	long_key[CMC_STORE_KEY_MAX] = '\0';
	long_value[CMC_STORE_VALUE_MAX] = '\0';
	tap_is_int(cmc_store_set(st, long_key, long_value), 0, "255-character key, 4095-character value");
	tap_is_int(cmc_store_set(st, "!~", " ~"), 0, "the edges of printable ASCII");
	must(cmc_store_commit(st));
	cmc_store_close(st);
	st = open_ok("reopen the longest record");
	tap_is_str(cmc_store_get(st, long_key), long_value, "the longest record round-trips");
	tap_is_str(cmc_store_get(st, "!~"), " ~", "and so do the edge characters");
	cmc_store_close(st);
	remove_dir();
}

struct walk {
	char keys[512];
	int seen, stop_at;
};

static int collect(const char *key, const char *value, void *arg)
{
	struct walk *w = arg;
	size_t used = strlen(w->keys);

	snprintf(w->keys + used, sizeof(w->keys) - used, "%s%s=%s", used ? " " : "", key, value);
	return ++w->seen == w->stop_at ? 42 : 0;
}

static void test_prefix(void)
{
	static const char *const keys[] = { "slot/1", "assign/slot10/pf0/vf0", "assign/slot1/pf0/vf1",
					    "assign/slot1/pf0/vf0", "assign/slot2/pf0/vf0", "assign",
					    "pending/7" };
	struct walk w = { "", 0, 0 };
	struct cmc_store *st;

	fresh_dir();
	st = open_ok("prefix");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		must(cmc_store_set(st, keys[i], i % 2 ? "odd" : "even"));
	tap_is_int(cmc_store_foreach(st, "assign/slot1/", collect, &w), 0, "walk assign/slot1/");
	tap_is_str(w.keys, "assign/slot1/pf0/vf0=odd assign/slot1/pf0/vf1=even",
		   "exactly slot1's records, in key order (not slot10's)");
	memset(&w, 0, sizeof(w));
	cmc_store_foreach(st, "", collect, &w);
	tap_is_int(w.seen, 7, "an empty prefix walks all records");
	tap_is_str(w.keys, "assign=odd assign/slot1/pf0/vf0=odd assign/slot1/pf0/vf1=even"
		   " assign/slot10/pf0/vf0=odd assign/slot2/pf0/vf0=even pending/7=even slot/1=even",
		   "in key order");
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	tap_is_int(cmc_store_foreach(st, "assign/", collect, &w), 42, "a nonzero return stops the walk");
	tap_is_int(w.seen, 2, "after two records");
	tap_is_int(cmc_store_count(st, "assign/"), 4, "count by prefix");
	tap_is_int(cmc_store_count(st, "zzz"), 0, "count of an absent prefix");
	tap_is_int(cmc_store_del_prefix(st, "assign/slot1/"), 2, "delete by prefix");
	tap_ok(cmc_store_count(st, "assign/") == 2 && cmc_store_get(st, "assign/slot10/pf0/vf0"),
	       "slot10 and slot2 remain");
	tap_is_int(cmc_store_del_prefix(st, "nothing/"), 0, "delete an absent prefix: 0");
	cmc_store_close(st);
	remove_dir();
}

/* Open must fail with -EBADMSG and a detail containing `want`, touching nothing. */
static void expect_refused(const char *what, const char *want)
{
	struct cmc_store *st = (struct cmc_store *)1;
	size_t len_before, len_after;
	uint8_t *before = slurp(path, &len_before), *after;
	char err[512] = "";
	int rc = cmc_store_open(path, &st, err, sizeof(err));

	if (!tap_ok(rc == -EBADMSG && !st, "%s: -EBADMSG", what))
		tap_diag("  rc %d: %s", rc, err);
	if (!tap_ok(strstr(err, want) && strstr(err, path), "%s: the detail names the file and"
		    " says '%s'", what, want))
		tap_diag("  got '%s'", err);
	after = slurp(path, &len_after);
	tap_ok(len_before == len_after && memcmp(before, after, len_before) == 0,
	       "%s: the file is left untouched", what);
	free(before);
	free(after);
}

static void test_damaged(void)
{
	uint8_t *good;
	size_t len;

	fresh_dir();
	cmc_store_close(make_three());
	good = slurp(path, &len);
	tap_ok(good && len > 40, "a good file of %zu bytes", len);

	uint8_t *bad = malloc(len + 8);
	memcpy(bad, good, len);
	bad[len - 5] ^= 0x01;
	spit(path, bad, len);
	spit(tmp_path, "half", 4);
	expect_refused("one bit flipped in the payload", "checksum mismatch");
	tap_ok(exists(tmp_path), "a refused store keeps its leftover .tmp too");
	unlink(tmp_path);

	memcpy(bad, good, len);
	bad[16] ^= 0x01;	/* generation: the CRC covers the header too */
	spit(path, bad, len);
	expect_refused("one bit flipped in the header", "checksum mismatch");

	spit(path, good, len - 3);
	expect_refused("truncated payload", "truncated");
	spit(path, good, 20);
	expect_refused("truncated header", "truncated: 20 bytes");
	spit(path, good, 0);
	expect_refused("an empty file", "truncated: 0 bytes");

	memcpy(bad, good, len);
	memcpy(bad + len, "garbage!", 8);
	spit(path, bad, len + 8);
	expect_refused("trailing bytes", "8 unexpected bytes");

	memcpy(bad, good, len);
	memcpy(bad, "CMCSTATX", 8);
	spit(path, bad, len);
	expect_refused("bad magic", "bad magic");

	memcpy(bad, good, len);
	bad[8] = 2;
	spit(path, bad, len);
	expect_refused("a future version", "format version 2");
	free(bad);
	free(good);
	remove_dir();
}

/* --- An independent writer of the documented format (store.h), for crafted files --- */

static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* records: "key=value" strings; count_adjust lies about the count. */
static size_t craft(uint8_t *buf, const char *const *records, int n, int count_adjust)
{
	size_t pos = 36;

	for (int i = 0; i < n; i++) {
		const char *eq = strchr(records[i], '=');
		size_t klen = (size_t)(eq - records[i]), vlen = strlen(eq + 1);
		le(buf + pos, klen, 2);
		le(buf + pos + 2, vlen, 2);
		memcpy(buf + pos + 4, records[i], klen);
		memcpy(buf + pos + 4 + klen, eq + 1, vlen);
		pos += 4 + klen + vlen;
	}
	memcpy(buf, "CMCSTATE", 8);
	le(buf + 8, 1, 4);
	le(buf + 12, 0, 4);
	le(buf + 16, 77, 8);
	le(buf + 24, (uint64_t)(n + count_adjust), 4);
	le(buf + 28, pos - 36, 4);
	le(buf + 32, crc32_bitwise(crc32_bitwise(0, buf, 32), buf + 36, pos - 36), 4);
	return pos;
}

static void test_crafted(void)
{
	static const char *const sorted[] = { "a=1", "b/c=two words", "z=" };
	static const char *const unsorted[] = { "b=1", "a=2" };
	static const char *const repeated[] = { "a=1", "a=2" };
	static const char *const bad_key[] = { "a b=1" };
	static const char *const bad_value[] = { "a=line\n" };
	uint8_t buf[256];
	struct cmc_store *st;
	size_t len;

	tap_is_int(crc32_bitwise(0, (const uint8_t *)"123456789", 9), 0xcbf43926,
		   "the test's CRC32 is the standard one");
	fresh_dir();
	len = craft(buf, sorted, 3, 0);
	spit(path, buf, len);
	st = open_ok("a file written by the format in store.h");
	tap_ok(cmc_store_generation(st) == 77 && cmc_store_count(st, "") == 3 &&
	       strcmp(cmc_store_get(st, "b/c"), "two words") == 0 && strcmp(cmc_store_get(st, "z"), "")
	       == 0, "reads generation 77 and the three records");
	must(cmc_store_set(st, "b/c", "changed"));
	must(cmc_store_commit(st));
	tap_is_int(cmc_store_generation(st), 78, "the next commit is generation 78");
	cmc_store_close(st);

	uint8_t *written = slurp(path, &len);
	static const char *const after[] = { "a=1", "b/c=changed", "z=" };
	uint8_t expect[256];
	size_t elen = craft(expect, after, 3, 0);
	le(expect + 16, 78, 8);
	le(expect + 32, crc32_bitwise(crc32_bitwise(0, expect, 32), expect + 36, elen - 36), 4);
	tap_ok(written && len == elen && memcmp(written, expect, len) == 0,
	       "and writes byte for byte the documented format");
	free(written);

	spit(path, buf, craft(buf, unsorted, 2, 0));
	expect_refused("records out of order (valid CRC)", "out of order");
	spit(path, buf, craft(buf, repeated, 2, 0));
	expect_refused("a repeated key (valid CRC)", "out of order or repeated");
	spit(path, buf, craft(buf, bad_key, 1, 0));
	expect_refused("a key with a space (valid CRC)", "invalid key");
	spit(path, buf, craft(buf, bad_value, 1, 0));
	expect_refused("a value with a newline (valid CRC)", "invalid value");
	spit(path, buf, craft(buf, sorted, 3, +1));
	expect_refused("a count larger than the records", "record 3");
	spit(path, buf, craft(buf, sorted, 3, -1));
	expect_refused("a count smaller than the records", "payload bytes after");
	spit(path, buf, craft(buf, sorted, 3, 1000000));
	expect_refused("an absurd count", "cannot fit");
	remove_dir();
}

static void test_leftover_tmp(void)
{
	struct cmc_store *st;

	fresh_dir();
	cmc_store_close(make_three());
	spit(tmp_path, "CMCSTATE half-written", 21);
	st = open_ok("with a leftover .tmp");
	tap_ok(cmc_store_open_info(st) & CMC_STORE_INFO_LEFTOVER_TMP, "the leftover is reported");
	tap_ok(!exists(tmp_path), "and removed");
	tap_ok(cmc_store_generation(st) == 1 && cmc_store_count(st, "") == 3,
	       "the state is the one before the interrupted commit");
	cmc_store_close(st);
	st = open_ok("the next open");
	tap_is_int(cmc_store_open_info(st), 0, "reports nothing");
	cmc_store_close(st);

	unlink(path);
	spit(tmp_path, "x", 1);
	st = open_ok("a .tmp and no store (crash during the first commit)");
	tap_is_int(cmc_store_open_info(st), CMC_STORE_INFO_CREATED | CMC_STORE_INFO_LEFTOVER_TMP,
		   "an empty store, leftover reported");
	cmc_store_close(st);
	remove_dir();
}

static void test_commit_failure(void)
{
	struct cmc_store *st;
	size_t len_before, len_after;
	uint8_t *before, *after;

	fresh_dir();
	st = make_three();
	before = slurp(path, &len_before);
	/* Root ignores permissions, so block the commit with a directory where PATH.tmp goes. */
	mkdir(tmp_path, 0700);
	must(cmc_store_set(st, "slot/3", "empty"));
	must(cmc_store_set(st, "new", "1"));
	tap_is_int(cmc_store_commit(st), -EISDIR, "commit with PATH.tmp blocked: -EISDIR");
	if (!tap_ok(strstr(cmc_store_error(st), "state.tmp: cannot create") != NULL,
		    "the error says which step failed"))
		tap_diag("  got '%s'", cmc_store_error(st));
	after = slurp(path, &len_after);
	tap_ok(len_before == len_after && memcmp(before, after, len_before) == 0,
	       "the previous state is on disk, byte for byte");
	tap_ok(cmc_store_generation(st) == 1 && !cmc_store_dirty(st) && !cmc_store_get(st, "new") &&
	       strcmp(cmc_store_get(st, "slot/3"), "card=8086:10c9 pfs=1 vfs=2") == 0,
	       "memory is rolled back to it: generation 1, old value, no new key");
	rmdir(tmp_path);
	must(cmc_store_set(st, "new", "1"));
	tap_is_int(cmc_store_commit(st), 0, "once unblocked, the next commit works");
	tap_is_int(cmc_store_generation(st), 2, "as generation 2");
	free(after);
	free(before);
	cmc_store_close(st);
	remove_dir();
}

/* The rename fails after PATH.tmp was written: the leftover must not stay. */
static void test_rename_failure(void)
{
	struct cmc_store *st;
	char blocker[200];

	fresh_dir();
	st = make_three();
	snprintf(blocker, sizeof(blocker), "%s/file", path);
	unlink(path);
	mkdir(path, 0700);
	spit(blocker, "x", 1);
	must(cmc_store_set(st, "k", "v"));
	tap_ok(cmc_store_commit(st) < 0 && strstr(cmc_store_error(st), "cannot rename") != NULL,
	       "a directory in the way of the rename: commit fails (%s)", cmc_store_error(st));
	tap_ok(!exists(tmp_path), "the written PATH.tmp is removed");
	tap_ok(!cmc_store_get(st, "k") && cmc_store_generation(st) == 1, "and memory is rolled back");
	unlink(blocker);
	rmdir(path);

	/* The directory disappears under the daemon. */
	unlink(lock_path);
	rmdir(dir);
	must(cmc_store_set(st, "k", "v"));
	tap_is_int(cmc_store_commit(st), -ENOENT, "directory removed: commit fails with -ENOENT");
	tap_ok(!cmc_store_get(st, "k") && cmc_store_generation(st) == 1, "and rolls back");
	cmc_store_close(st);
}

static void test_bad_paths(void)
{
	struct cmc_store *st = (struct cmc_store *)1;
	char err[512] = "";

	tap_is_int(cmc_store_open("/tmp/cmc-no-such-dir/x/state", &st, err, sizeof(err)), -ENOENT,
		   "a path in a nonexistent directory: -ENOENT at open");
	tap_ok(!st && strstr(err, "cannot open directory /tmp/cmc-no-such-dir/x") != NULL, "naming the"
	       " directory (%s)", err);
	tap_is_int(cmc_store_open("/tmp/", &st, err, sizeof(err)), -EINVAL, "a directory path: -EINVAL");
	tap_is_int(cmc_store_open("", &st, NULL, 0), -EINVAL, "an empty path: -EINVAL, no error buffer");
}

static void test_lock(void)
{
	struct cmc_store *a, *b = (struct cmc_store *)1;
	char err[512] = "";

	fresh_dir();
	a = open_ok("first user");
	tap_is_int(cmc_store_open(path, &b, err, sizeof(err)), -EBUSY, "a second open: -EBUSY");
	tap_ok(!b && strstr(err, "in use by another process"), "saying why (%s)", err);
	cmc_store_close(a);
	b = open_ok("after the first closed");
	cmc_store_close(b);
	remove_dir();
}

/* Record j of the large store: keys unlike insertion order, values of varied lengths. */
static void large_record(int j, char *key, size_t klen, char *value, size_t vlen)
{
	static const char dots[] = "................................................................"
				   "..................................................................."
				   "...................";

	snprintf(key, klen, "assign/slot%d/pf%d/vf%d", j / 56, j / 7 % 8, j % 7);
	snprintf(value, vlen, "blade=blade%d mac=02:00:00:%02x:%02x:%02x %.*s", j % 64,
		 j >> 16 & 0xff, j >> 8 & 0xff, j & 0xff, j % 150, dots);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void test_large(void)
{
	enum { N = 5000 };
	char key[64], value[256];
	struct timespec t0, t1, t2;
	struct cmc_store *st;
	int mismatches = 0;

	fresh_dir();
	st = open_ok("large");
	for (int i = 0; i < N; i++) {
		large_record((i * 7919) % N, key, sizeof(key), value, sizeof(value));
		if (cmc_store_set(st, key, value))
			mismatches++;
	}
	tap_is_int(cmc_store_count(st, ""), N, "%d records set", N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tap_is_int(cmc_store_commit(st), 0, "commit them");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cmc_store_close(st);
	st = open_ok("reopen the large store");
	clock_gettime(CLOCK_MONOTONIC, &t2);
	tap_diag("commit %.1f ms, open %.1f ms", ms_between(&t0, &t1), ms_between(&t1, &t2));
	for (int j = 0; j < N; j++) {
		large_record(j, key, sizeof(key), value, sizeof(value));
		const char *v = cmc_store_get(st, key);
		if (!v || strcmp(v, value) != 0)
			mismatches++;
	}
	tap_is_int(mismatches, 0, "all %d records read back", N);
	tap_is_int(cmc_store_count(st, "assign/slot1/"), 56, "slot1 holds 56 records (not slot1x's)");
	tap_is_int(cmc_store_del_prefix(st, "assign/slot1"), 56 * 11, "delete slot1 and slot10..19");
	must(cmc_store_commit(st));
	cmc_store_close(st);
	st = open_ok("reopen after a large delete");
	tap_is_int(cmc_store_count(st, ""), N - 56 * 11, "the rest is there");
	cmc_store_close(st);
	remove_dir();
}

/* Fields of the "k1=v1 k2=v2" values cmcd writes. */
static void test_fields(void)
{
	const char *v = "blade=blade1 mac=02:cc:00:01:00:00 vlan=10 total=5 to=blade2 lane=-";
	char out[32];

	tap_is_int(cmc_store_field(v, "blade", out, sizeof(out)), 0, "field: first");
	tap_is_str(out, "blade1", "field: its value");
	tap_is_int(cmc_store_field(v, "lane", out, sizeof(out)), 0, "field: last");
	tap_is_str(out, "-", "field: the last value");
	tap_is_int(cmc_store_field(v, "to", out, sizeof(out)), 0, "field: 'to' is not 'total'");
	tap_is_str(out, "blade2", "field: 'to' has its own value");
	tap_is_int(cmc_store_field(v, "vl", out, sizeof(out)), -ENOENT, "field: a prefix of a key is absent");
	tap_is_int(cmc_store_field(v, "rate", out, sizeof(out)), -ENOENT, "field: absent");
	tap_is_int(cmc_store_field(v, "mac", out, 8), -ERANGE, "field: too long for the buffer");
	tap_is_int(cmc_store_field("", "mac", out, sizeof(out)), -ENOENT, "field: empty value");
}

int main(void)
{
	test_fields();
	test_first_commit();
	test_reopen();
	test_rollback();
	test_validation();
	test_prefix();
	test_damaged();
	test_crafted();
	test_leftover_tmp();
	test_commit_failure();
	test_rename_failure();
	test_bad_paths();
	test_lock();
	test_large();
	return tap_done();
}
