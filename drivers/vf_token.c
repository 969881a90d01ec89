/* SPDX-License-Identifier: MIT */
#include "vf_token.h"

#include "hex.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define BDF_MAX 31

int vf_token_generate(uint8_t uuid[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(uuid + got, 16 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	/* RFC 9562 5.4: version 4 (random), variant 10. */
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

void vf_token_format(const uint8_t u[16], char out[VF_TOKEN_STRLEN])
{
	snprintf(out, VF_TOKEN_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

int vf_token_parse(const char *text, uint8_t uuid[16])
{
	uint8_t u[16];
	size_t len = strlen(text), i = 0, b = 0;

	if (len == VF_TOKEN_STRLEN && text[len - 1] == '\n')
		len--;
	if (len != VF_TOKEN_STRLEN - 1)
		return -EINVAL;
	while (i < len) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i++] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		u[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(uuid, u, sizeof(u));
	return 0;
}

/* The BDF becomes a file name: hex digits, ':' and '.' only, a digit first (no "..",
 * no "/"). */
static int check_bdf(const char *bdf)
{
	size_t len = strlen(bdf);

	if (len == 0 || len > BDF_MAX || !isxdigit((unsigned char)bdf[0]))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)bdf[i]) && bdf[i] != ':' && bdf[i] != '.')
			return -EINVAL;
	return 0;
}

int vf_token_path(const char *dir, const char *pf_bdf, char *out, size_t len)
{
	int n;

	if (check_bdf(pf_bdf))
		return -EINVAL;
	n = snprintf(out, len, "%s/%s", dir, pf_bdf);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The token directory, made if missing; one that exists must be a directory of ours
 * (no symlink), and is brought back to 0700. */
static int open_dir(const char *dir)
{
	struct stat st;
	int fd, rc = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (st.st_uid != geteuid())
		rc = -EPERM;
	else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static int write_tmp(int dfd, const char *tmp, const uint8_t uuid[16])
{
	char text[VF_TOKEN_STRLEN];
	ssize_t n;
	int fd, rc = 0;

	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	vf_token_format(uuid, text);
	text[VF_TOKEN_STRLEN - 1] = '\n';
	/* 0600 whatever the umask, before the first byte. */
	if (fchmod(fd, 0600) < 0)
		rc = -errno;
	else if ((n = write(fd, text, sizeof(text))) < 0)
		rc = -errno;
	else if (n != (ssize_t)sizeof(text))
		rc = -EIO;
	else if (fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

int vf_token_write(const char *dir, const char *pf_bdf, const uint8_t uuid[16])
{
	char tmp[BDF_MAX + 8];
	int dfd, rc;

	if (check_bdf(pf_bdf))
		return -EINVAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", pf_bdf);
	dfd = open_dir(dir);
	if (dfd < 0)
		return dfd;
	rc = write_tmp(dfd, tmp, uuid);
	if (rc)
		goto err_unlink;
	if (renameat(dfd, tmp, dfd, pf_bdf) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	/* /run is a tmpfs, but the directory may be elsewhere. */
	rc = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	return rc;
err_unlink:
	(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	return rc;
}

int vf_token_read(const char *path, uint8_t uuid[16])
{
	char text[2 * VF_TOKEN_STRLEN];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	close(fd);
	text[n] = '\0';
	return vf_token_parse(text, uuid);
}

int vf_token_remove(const char *dir, const char *pf_bdf)
{
	char path[PATH_MAX];
	int rc = vf_token_path(dir, pf_bdf, path, sizeof(path));

	if (rc)
		return rc;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
