/* SPDX-License-Identifier: MIT */
/*
 * The VF token of a PF held through VFIO: a UUID that vfio-pci asks of whoever opens one
 * of the PF's VFs through VFIO ("BDF vf_token=UUID"). It is a secret: a random one per
 * PF and per start of its owner, handed over in a file only root can read,
 *
 *   DIR/BDF      "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx\n", 0600, in DIR 0700
 *
 * where DIR is VF_TOKEN_DIR under the daemon's run directory (/run/cmc/vf-token). The file
 * is written atomically (a temporary file renamed over it) and removed when the PF is
 * released. Functions return 0 or a negative errno.
 */
#ifndef CMC_VF_TOKEN_H
#define CMC_VF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define VF_TOKEN_STRLEN 37		/* 36 characters and the NUL */
#define VF_TOKEN_DIR "vf-token"		/* under the daemon's run directory */
#define VF_TOKEN_DEFAULT_DIR "/run/cmc/" VF_TOKEN_DIR

/* A random (version 4) UUID from getrandom(). */
int vf_token_generate(uint8_t uuid[16]) __attribute__((warn_unused_result));

/* Lower-case text, as in /proc/sys/kernel/random/uuid and VFIO's messages. */
void vf_token_format(const uint8_t uuid[16], char out[VF_TOKEN_STRLEN]);

/* The 8-4-4-4-12 hex form (either case); one trailing newline is allowed. -EINVAL
 * for anything else. */
int vf_token_parse(const char *text, uint8_t uuid[16]) __attribute__((warn_unused_result));

/* DIR/BDF; -EINVAL for a BDF that is not one (it becomes a file name), -ENAMETOOLONG. */
int vf_token_path(const char *dir, const char *pf_bdf, char *out, size_t len)
	__attribute__((warn_unused_result));

/* Creates dir (0700; an existing one must be a directory of ours, and is made 0700) and
 * writes the token of pf_bdf to it, atomically and 0600. */
int vf_token_write(const char *dir, const char *pf_bdf, const uint8_t uuid[16])
	__attribute__((warn_unused_result));

/* Reads a token file. -EINVAL if it holds no token. */
int vf_token_read(const char *path, uint8_t uuid[16]) __attribute__((warn_unused_result));

/* Removes pf_bdf's token file; 0 if there was none. */
int vf_token_remove(const char *dir, const char *pf_bdf);

#endif
