/* SPDX-License-Identifier: MIT */
/*
 * The Redfish service's certificate: the configured PEM files, or a self-signed pair made
 * at the first start and kept beside the store, as BMCs do (the admin may replace it with
 * a CA-signed one through the configuration). GnuTLS (RFC 5280 profile): ECDSA P-256,
 * serial of 16 random bytes, valid from a day ago for 10 years, CN and a DNS SAN of the
 * chassis name, key usage digitalSignature, extended key usage serverAuth.
 */
#include "rf-priv.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RF_PEM_MAX (64u << 10)

/* The whole file, NUL-terminated. */
static int read_pem(const char *path, char **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	char *buf = NULL;
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > RF_PEM_MAX) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: empty or larger than %u bytes", path, RF_PEM_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		rc = -EIO;
		snprintf(err, errlen, "%s: short read", path);
		free(buf);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
out:
	close(fd);
	return rc;
}

/* Written to PATH.tmp (mode given), fsynced, renamed over PATH. */
static int write_file(const char *path, const gnutls_datum_t *data, mode_t mode)
{
	char tmp[CMC_CONFIG_PATH_MAX + 8];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, data->data, data->size) != (ssize_t)data->size || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static int fill_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn)
{
	unsigned char serial[16];
	time_t now = time(NULL);
	int rc;

	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial))
		return GNUTLS_E_RANDOM_FAILED;
	serial[0] &= 0x7f;	/* a positive INTEGER (RFC 5280 §4.1.2.2) */
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 10 * 365 * 86400L)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						  (unsigned)strlen(cn))) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn,
							 (unsigned)strlen(cn), GNUTLS_FSAN_SET)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		return rc;
	return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

/* Makes the pair and writes it: the key first (0600), then the certificate (0644). */
static int make_self_signed(const char *cn, const char *cert_path, const char *key_path,
			    char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { 0 }, cpem = { 0 };
	int rc;

	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = fill_cert(crt, key, cn)) < 0 ||
	    (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0 ||
	    (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0) {
		snprintf(err, errlen, "making a self-signed certificate: %s", gnutls_strerror(rc));
		rc = -EINVAL;
		goto out;
	}
	rc = write_file(key_path, &kpem, 0600);
	if (!rc)
		rc = write_file(cert_path, &cpem, 0644);
	if (rc)
		snprintf(err, errlen, "keeping the self-signed certificate in %s: %s", cert_path,
			 strerror(-rc));
out:
	if (kpem.data) {
		explicit_bzero(kpem.data, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

int rf_cert_load(const struct cmc_config *cfg, const char *dir, char **cert, char **key,
		 char *err, size_t errlen)
{
	char cpath[CMC_CONFIG_PATH_MAX + 32], kpath[CMC_CONFIG_PATH_MAX + 32];
	int rc;

	if (*cfg->redfish.certificate) {
		snprintf(cpath, sizeof(cpath), "%s", cfg->redfish.certificate);
		snprintf(kpath, sizeof(kpath), "%s", cfg->redfish.key);
	} else {
		snprintf(cpath, sizeof(cpath), "%s/redfish-cert.pem", dir);
		snprintf(kpath, sizeof(kpath), "%s/redfish-key.pem", dir);
		if (access(cpath, F_OK) < 0 || access(kpath, F_OK) < 0) {
			rc = make_self_signed(cfg->chassis_name, cpath, kpath, err, errlen);
			if (rc)
				return rc;
		}
	}
	rc = read_pem(cpath, cert, err, errlen);
	if (rc)
		return rc;
	rc = read_pem(kpath, key, err, errlen);
	if (rc) {
		free(*cert);
		*cert = NULL;
	}
	return rc;
}
