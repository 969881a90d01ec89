/* SPDX-License-Identifier: MIT */
/* rtnetlink through libnl-3's core (rtnl.h). */
#include "rtnl.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

/* libnl folds errnos into NLE_* (nl_syserr2nlerr); this goes back the most likely way. */
static const int nle_errno[] = {
	[NLE_FAILURE] = EIO,
	[NLE_INTR] = EINTR,
	[NLE_BAD_SOCK] = EBADF,
	/* A blocking socket reports EAGAIN only when SO_RCVTIMEO expires. */
	[NLE_AGAIN] = ETIMEDOUT,
	[NLE_NOMEM] = ENOMEM,
	[NLE_EXIST] = EEXIST,
	[NLE_INVAL] = EINVAL,
	[NLE_RANGE] = ERANGE,
	[NLE_MSGSIZE] = EMSGSIZE,
	[NLE_OPNOTSUPP] = EOPNOTSUPP,
	[NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND] = ENOENT,
	[NLE_NOATTR] = ENODATA,
	[NLE_MISSING_ATTR] = EINVAL,
	[NLE_AF_MISMATCH] = EINVAL,
	[NLE_SEQ_MISMATCH] = EPROTO,
	[NLE_MSG_OVERFLOW] = EOVERFLOW,
	[NLE_MSG_TRUNC] = EMSGSIZE,
	[NLE_NOADDR] = EADDRNOTAVAIL,
	[NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
	[NLE_MSG_TOOSHORT] = EPROTO,
	[NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
	[NLE_OBJ_MISMATCH] = EINVAL,
	[NLE_BUSY] = EBUSY,
	[NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
	[NLE_NOACCESS] = EACCES,
	[NLE_PERM] = EPERM,
	[NLE_PARSE_ERR] = EINVAL,
	[NLE_NODEV] = ENODEV,
	[NLE_IMMUTABLE] = EPERM,
	[NLE_DUMP_INTR] = EINTR,
};

int cmc_rtnl_errno(int nle)
{
	unsigned i = (unsigned)(nle < 0 ? -nle : nle);

	if (i == NLE_SUCCESS)
		return 0;
	if (i >= sizeof(nle_errno) / sizeof(nle_errno[0]) || !nle_errno[i])
		return -EIO;
	return -nle_errno[i];
}

int cmc_rtnl_open(unsigned timeout_ms, struct nl_sock **out)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	*out = NULL;
	if (!sk)
		return -ENOMEM;
	rc = cmc_rtnl_errno(nl_connect(sk, NETLINK_ROUTE));
	if (rc)
		goto err_free;
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		goto err_free;
	}
	*out = sk;
	return 0;
err_free:
	nl_socket_free(sk);	/* closes the fd nl_connect opened */
	return rc;
}
