/* SPDX-License-Identifier: MIT */
/*
 * cmcd's read-only Redfish service (DMTF DSP0266 1.22, schemas of release 2025.4):
 * libmicrohttpd driven from cmcd's own epoll loop (its epoll fd is one of the loop's fds,
 * its timeout one of the loop's timers), HTTPS through GnuTLS, JSON through jansson.
 * Every resource is built from cmcd's live state on each request (rf-tree.c); accounts
 * are in the store (accounts.h), sessions in memory (rf-auth.c). doc/redfish.md maps the
 * resources.
 */
#ifndef CMC_REDFISH_H
#define CMC_REDFISH_H

struct cmcd;
struct cmc_redfish;

/*
 * Starts the service the configuration's `redfish` group describes (nothing, *out NULL,
 * when there is none or it is disabled): loads the certificate and key, or makes and
 * keeps a self-signed pair in the store's directory; starts the password checker thread;
 * listens. 0, or -errno with the reason logged (an address in use, a bad certificate).
 */
int cmc_redfish_start(struct cmcd *d, struct cmc_redfish **out) __attribute__((warn_unused_result));
/* Stops listening, ends every connection and session. NULL is a no-op. */
void cmc_redfish_stop(struct cmc_redfish *rf);

#endif
