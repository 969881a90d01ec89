/* SPDX-License-Identifier: MIT */
/*
 * The VF token: UUID text <-> bytes (what vfio-pci and the token file hold), random
 * version-4 tokens, and the token file: written 0600 into a 0700 directory, atomically,
 * read back, removed; a BDF that is not one never becomes a path.
 */
#include "tap.h"
#include "vf_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t known[16] = { 0x63, 0x6d, 0x63, 0x64, 0x00, 0x00, 0x40, 0x00,
				   0x80, 0x00, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45 };
#define KNOWN_TEXT "636d6364-0000-4000-8000-abcdef012345"

static void test_format_parse(void)
{
	char text[VF_TOKEN_STRLEN];
	uint8_t u[16];

	vf_token_format(known, text);
	tap_is_str(text, KNOWN_TEXT, "format: lower-case 8-4-4-4-12");
	tap_ok(vf_token_parse(KNOWN_TEXT, u) == 0 && memcmp(u, known, 16) == 0, "parse gives the bytes back");
	tap_ok(vf_token_parse("636D6364-0000-4000-8000-ABCDEF012345", u) == 0 && memcmp(u, known, 16) == 0,
	       "upper case is the same UUID");
	tap_ok(vf_token_parse(KNOWN_TEXT "\n", u) == 0 && memcmp(u, known, 16) == 0,
	       "one trailing newline (a file's line) is allowed");
}

static void test_parse_refuses(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty" },
		{ KNOWN_TEXT "\n\n", "two newlines" },
		{ KNOWN_TEXT " ", "trailing space" },
		{ " " KNOWN_TEXT, "leading space" },
		{ "636d6364-0000-4000-8000-abcdef01234", "one digit short" },
		{ "636d6364-0000-4000-8000-abcdef0123456", "one digit more" },
		{ "636d63640-000-4000-8000-abcdef012345", "a dash misplaced" },
		{ "636d6364x0000-4000-8000-abcdef012345", "no dash" },
		{ "636d6364-0000-4000-8000-abcdefg12345", "not hex" },
		{ "636d6364000040008000abcdef012345", "no dashes at all" },
		{ "{636d6364-0000-4000-8000-abcdef0123}", "braces" },
	};
	uint8_t u[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(u, 0x5a, sizeof(u));
		int rc = vf_token_parse(bad[i].text, u);
		tap_ok(rc == -EINVAL && u[0] == 0x5a && u[15] == 0x5a, "refused, output untouched: %s",
		       bad[i].why);
	}
}

static void test_generate(void)
{
	uint8_t a[16], b[16];
	char text[VF_TOKEN_STRLEN];

	tap_ok(vf_token_generate(a) == 0 && vf_token_generate(b) == 0, "two random tokens");
	tap_ok(memcmp(a, b, 16) != 0, "they differ");
	vf_token_format(a, text);
	tap_ok(text[14] == '4' && strchr("89ab", text[19]), "version 4, variant 10: %s", text);
}

static void test_path(void)
{
	char p[64];

	tap_ok(vf_token_path("/run/cmc/vf-token", "0000:02:00.0", p, sizeof(p)) == 0, "a BDF's path");
	tap_is_str(p, "/run/cmc/vf-token/0000:02:00.0", "DIR/BDF");
	tap_is_int(vf_token_path("/d", "../etc/passwd", p, sizeof(p)), -EINVAL, "no .. or /");
	tap_is_int(vf_token_path("/d", "0000:02:00.0/x", p, sizeof(p)), -EINVAL, "no / inside");
	tap_is_int(vf_token_path("/d", "", p, sizeof(p)), -EINVAL, "not empty");
	tap_is_int(vf_token_path("/d", ".0", p, sizeof(p)), -EINVAL, "no hidden file");
	tap_is_int(vf_token_path("/a/long/directory/name/that/does/not/fit", "0000:02:00.0", p, 32),
		   -ENAMETOOLONG, "too long for the buffer");
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_file(const char *top)
{
	char dir[128], path[160], tmp[170], link[160];
	uint8_t a[16], b[16], got[16];
	int fd;

	snprintf(dir, sizeof(dir), "%s/vf-token", top);
	snprintf(path, sizeof(path), "%s/0000:02:00.0", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (vf_token_generate(a) || vf_token_generate(b))
		return;
	umask(0);	/* the modes must not depend on it */
	tap_is_int(vf_token_write(dir, "0000:02:00.0", a), 0, "write creates the directory and the file");
	tap_is_int(mode_of(dir), 0700, "the directory is 0700");
	tap_is_int(mode_of(path), 0600, "the file is 0600");
	tap_ok(vf_token_read(path, got) == 0 && memcmp(got, a, 16) == 0, "read gives the token back");
	tap_is_int(vf_token_write(dir, "0000:02:00.0", b), 0, "a new token replaces the old");
	tap_ok(vf_token_read(path, got) == 0 && memcmp(got, b, 16) == 0, "read gives the new one");
	tap_ok(access(tmp, F_OK) < 0 && errno == ENOENT, "no temporary file left");
	tap_is_int(vf_token_write(dir, "../escape", a), -EINVAL, "a bad BDF writes nothing");

	chmod(dir, 0755);
	tap_is_int(vf_token_write(dir, "0000:03:00.0", a), 0, "write into an existing directory");
	tap_is_int(mode_of(dir), 0700, "made 0700 again");

	tap_is_int(vf_token_remove(dir, "0000:02:00.0"), 0, "remove");
	tap_ok(access(path, F_OK) < 0 && errno == ENOENT, "the file is gone");
	tap_is_int(vf_token_remove(dir, "0000:02:00.0"), 0, "removing a missing file is no error");
	tap_is_int(vf_token_read(path, got), -ENOENT, "reading a missing file: -ENOENT");

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	tap_ok(fd >= 0 && write(fd, "not a token\n", 12) == 12, "a file with junk");
	if (fd >= 0)
		close(fd);
	tap_is_int(vf_token_read(path, got), -EINVAL, "reading junk: -EINVAL");

	snprintf(link, sizeof(link), "%s/link", top);
	tap_ok(symlink(dir, link) == 0, "a symlink to the directory");
	tap_ok(vf_token_write(link, "0000:04:00.0", a) < 0, "is not followed");
	unlink(link);
	unlink(path);
	vf_token_remove(dir, "0000:03:00.0");
	rmdir(dir);
}

int main(void)
{
	char top[] = "/tmp/cmc-vf-token-XXXXXX";

	test_format_parse();
	test_parse_refuses();
	test_generate();
	test_path();
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	test_file(top);
	rmdir(top);
	return tap_done();
}
