/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc on bad input: malformed dump files give -EINVAL and "file:line: what",
 * never an exit or a crash; libpci's own fatal errors (a malformed pci.ids) come back
 * as -EIO through the setjmp guard; a failed rescan keeps the previous inventory; a
 * rescan into a new inventory (mp_inventory_scan_new) on another thread leaves the one
 * being read alone and takes its slot numbers as the previous picture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#define MP_GENDUMP_NO_MAIN
#include "../tools/mp-gendump.c"

#include "mp.h"
#include "tap.h"

#define DATA "t/data/mp/"

/* Scans path; returns the result and copies the error message into err. */
static int scan_file(const char *path, const char *ids, char *err, size_t errlen)
{
	struct mp_inventory *inv;
	int r = mp_inventory_open(&inv, path);

	if (r < 0)
		return r;
	if (ids && mp_inventory_set_ids_file(inv, ids) < 0) {
		mp_inventory_close(inv);
		return -ENOMEM;
	}
	r = mp_inventory_scan(inv);
	snprintf(err, errlen, "%s", mp_inventory_error(inv));
	mp_inventory_close(inv);
	return r;
}

static void bad(const char *file, int want_r, const char *prefix, const char *phrase)
{
	char path[128], err[600];
	int r;

	snprintf(path, sizeof(path), DATA "%s", file);
	r = scan_file(path, NULL, err, sizeof(err));
	tap_is_int(r, want_r, "%s: scan fails", file);
	if (!tap_ok(strncmp(err, prefix, strlen(prefix)) == 0, "%s: error names '%s'", file, prefix))
		tap_diag("  got '%s'", err);
	if (!tap_ok(strstr(err, phrase) != NULL, "%s: error says '%s'", file, phrase))
		tap_diag("  got '%s'", err);
}

static void test_bad_files(void)
{
	bad("bad-hex.dump", -EINVAL, DATA "bad-hex.dump:4: ", "bad hex byte: 'zz 00");
	bad("truncated-line.dump", -EINVAL, DATA "truncated-line.dump:5: ", "fewer than 16 bytes");
	bad("garbage.dump", -EINVAL, DATA "garbage.dump:4: ",
	    "neither a device line nor a config space line: 'this is not");
	bad("binary.dump", -EINVAL, DATA "binary.dump:1: ", "NUL byte");
	bad("empty.dump", -EINVAL, DATA "empty.dump: ", "no device in the dump");
	bad("nonexistent.dump", -ENOENT, DATA "nonexistent.dump: ", "No such file or directory");
	bad("unterminated.dump", -EINVAL, DATA "unterminated.dump:4: ", "not terminated");
	bad("missing-line.dump", -EINVAL, DATA "missing-line.dump:4: ", "expected offset 20, found 30");
	bad("short-config.dump", -EINVAL, DATA "short-config.dump:1: ",
	    "device 0000:00:00.0 has 32 bytes of config space");
	bad("duplicate.dump", -EINVAL, DATA "duplicate.dump:7: ",
	    "device 0000:00:00.0 listed twice (first at line 1)");
	bad("orphan-bytes.dump", -EINVAL, DATA "orphan-bytes.dump:1: ", "outside a device");
	bad("bad-address.dump", -EINVAL, DATA "bad-address.dump:1: ", "out of range");
	bad("long-line.dump", -EINVAL, DATA "long-line.dump:3: ", "too long");
	bad("", -EISDIR, DATA, "Is a directory");
}

static void test_good_files(void)
{
	char err[600];

	tap_is_int(scan_file(DATA "minimal.dump", NULL, err, sizeof(err)), 0, "minimal.dump scans");
	tap_is_str(err, "", "with no error");
	tap_is_int(scan_file(DATA "verbose.dump", NULL, err, sizeof(err)), 0,
		   "lspci -v detail lines are skipped");
}

/* libpci calls its error hook on a malformed pci.ids: the guard turns it into -EIO. */
static void test_libpci_fatal(void)
{
	char err[600];
	int r;

	r = scan_file(DATA "minimal.dump", DATA "bad-pci.ids", err, sizeof(err));
	tap_is_int(r, -EIO, "malformed pci.ids: -EIO, the process lives on");
	if (!tap_ok(strstr(err, "libpci: Parse error at " DATA "bad-pci.ids, line 3") != NULL,
		    "libpci's message comes back"))
		tap_diag("  got '%s'", err);
	r = scan_file(DATA "minimal.dump", DATA "bad-pci.ids", err, sizeof(err));
	tap_is_int(r, -EIO, "and again (the guard is re-armed each time)");
	r = scan_file(DATA "minimal.dump", DATA "no-such-pci.ids", err, sizeof(err));
	tap_is_int(r, 0, "a missing pci.ids is no error (names are empty)");
}

/* A hot-plug rescan that fails keeps what the last good scan found. */
static void test_rescan_keeps(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	char path[256];
	const char *why;
	FILE *f;

	gd_spec_init(&spec);
	spec.vfs = 1;
	if (gd_write_tmp(&spec, path, sizeof(path), &why) < 0 || mp_inventory_open(&inv, path) < 0) {
		tap_ok(0, "dump written and opened");
		return;
	}
	tap_is_int(mp_inventory_scan(inv), 0, "first scan");
	tap_is_int(mp_slot_count(inv), 3, "3 slots");
	/* The file is replaced by one whose only device is cut after 16 bytes. */
	f = fopen(path, "w");
	if (f) {
		fputs("00:00.0 Host bridge\n00: 86 80 c0 29 00 00 00 00 00 00 00 06 00 00 00 00\n", f);
		fclose(f);
	}
	tap_is_int(mp_inventory_scan(inv), -EINVAL, "rescan of a cut dump fails");
	tap_ok(strstr(mp_inventory_error(inv), "has 16 bytes of config space") != NULL,
	       "saying the device is cut short");
	tap_is_int(mp_slot_count(inv), 3, "the 3 slots of the last good scan remain");
	tap_ok(mp_slot_find(inv, 2) && mp_slot_find(inv, 2)->function_count == 1,
	       "with their functions");
	mp_inventory_close(inv);
	unlink(path);
}

/* A generated dump cut at every kind of place: always a clean error. */
static void test_cut_generated(void)
{
	static const long cuts[] = { 1, 30, 100, 13000, 13365, 40000, 70001 };
	struct gd_spec spec;
	char path[256], err[600];
	const char *why;
	int fails = 0;

	gd_spec_init(&spec);
	spec.vfs = 2;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int r;

		if (gd_write_tmp(&spec, path, sizeof(path), &why) < 0 || truncate(path, cuts[i]) < 0) {
			fails++;
			continue;
		}
		r = scan_file(path, NULL, err, sizeof(err));
		if (r != -EINVAL || strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':') {
			tap_diag("cut at %ld: %d '%s'", cuts[i], r, err);
			fails++;
		}
		unlink(path);
	}
	tap_is_int(fails, 0, "a dump cut at 7 places gives -EINVAL naming the file each time");
}

static int copy_file(const char *from, const char *to)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	int r = in && out ? 0 : -1;

	while (r == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			r = -1;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		r = -1;
	return r;
}

struct scan_job {
	const struct mp_inventory *prev;
	struct mp_inventory *out;
	int r;
	char err[600];
	_Atomic int done;
};

static void *scan_job_run(void *arg)
{
	struct scan_job *j = arg;

	j->r = mp_inventory_scan_new(j->prev, &j->out, j->err, sizeof(j->err));
	j->done = 1;
	return NULL;
}

/* Reads every slot of inv, as a reader on the loop does while a rescan runs. */
static size_t read_all(const struct mp_inventory *inv)
{
	size_t fns = 0;

	for (size_t i = 0; i < mp_slot_count(inv); i++)
		fns += mp_slot_at(inv, i)->function_count;
	return fns;
}

/*
 * A rescan into a new inventory, on a thread, while this one reads the current one: the
 * current one is left as it was; a port that became unreadable keeps the number it had
 * in it (a fresh scan of the same file cannot know it); a failure leaves *out NULL and
 * says why.
 */
static void test_scan_new(void)
{
	struct mp_inventory *inv, *again = (struct mp_inventory *)&again;
	struct scan_job job = { 0 };
	const struct mp_slot *s;
	char path[64], err[600];
	size_t reads = 0, wrong = 0, fns;
	pthread_t t;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mp-scan-new-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || copy_file("t/data/inventory/three.dump", path) < 0 ||
	    mp_inventory_open(&inv, path) < 0 || mp_inventory_scan(inv) < 0) {
		tap_ok(0, "three.dump copied and scanned");
		return;
	}
	close(fd);
	fns = read_all(inv);
	tap_ok(copy_file("t/data/inventory/caploop.dump", path) == 0,
	       "the file now holds caploop.dump (port 02:01.0's capabilities loop)");
	job.prev = inv;
	if (!tap_ok(pthread_create(&t, NULL, scan_job_run, &job) == 0, "a thread rescans"))
		goto out;
	while (!job.done) {
		wrong += read_all(inv) != fns;
		reads++;
	}
	pthread_join(t, NULL);
	tap_is_int(job.r, 0, "the rescan into a new inventory succeeds");
	tap_ok(reads > 0 && wrong == 0, "the current inventory read %zu times meanwhile, the same each time",
	       reads);
	s = job.out ? mp_slot_find(job.out, 2) : NULL;
	tap_ok(s && s->state == MP_SLOT_UNREADABLE && s->port.bdf.bus == 2 && s->port.bdf.dev == 1,
	       "port 02:01.0, unreadable now, is still slot 2 (its number in the current inventory)");
	tap_ok(mp_slot_find(inv, 2) && mp_slot_find(inv, 2)->state == MP_SLOT_OCCUPIED,
	       "the current inventory still shows slot 2 occupied");
	mp_inventory_close(job.out);

	tap_ok(truncate(path, 100) == 0, "the file cut short");
	tap_is_int(mp_inventory_scan_new(inv, &again, err, sizeof(err)), -EINVAL,
		   "a rescan of it into a new inventory fails");
	tap_ok(again == NULL, "with no inventory");
	if (!tap_ok(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':',
		    "the error names the file and line"))
		tap_diag("  got '%s'", err);
	tap_is_int(mp_slot_count(inv), 3, "the current inventory keeps its 3 slots");
out:
	mp_inventory_close(inv);
	unlink(path);
}

int main(void)
{
	test_bad_files();
	test_good_files();
	test_libpci_fatal();
	test_rescan_keeps();
	test_cut_generated();
	test_scan_new();
	return tap_done();
}
