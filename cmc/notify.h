/* SPDX-License-Identifier: MIT */
/* systemd's readiness protocol (sd_notify) without libsystemd: one datagram to
 * $NOTIFY_SOCKET. Does nothing when not started by systemd. */
#ifndef CMC_NOTIFY_H
#define CMC_NOTIFY_H

#include <stdbool.h>

bool cmc_notify_wanted(void);
/* state: "READY=1", "STOPPING=1", "STATUS=..."; returns 0, or -errno. */
int cmc_notify(const char *state);

#endif
