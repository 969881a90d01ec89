/* SPDX-License-Identifier: MIT */
/*
 * The 82576's per-queue transmit rate limiter, as arithmetic: no I/O. igb-vfio writes
 * what these functions compute (doc/rate-limiter.md has the facts and where they come
 * from; the registers are in igb_regs.h).
 *
 * The card limits a transmit queue to link_speed / RF, where the rate factor RF is
 * written to RTTBCNRC as a fixed-point number: a 10-bit integer part (bits 23:14) and a
 * 14-bit fraction (bits 13:0), with the scheduler enable RS_ENA in bit 31. A VF owns
 * two transmit queues in VMDq mode (n and n + 8); each is limited on its own.
 */
#ifndef CMC_IGB_RATE_H
#define CMC_IGB_RATE_H

#include "igb_regs.h"

#include <stdint.h>

/* The transmit queues VF vf owns, i = 0 or 1 (82576 VMDq: VF n has queues n and n + 8). */
#define IGB_RATE_QUEUES_PER_VF	2
static inline unsigned igb_vf_tx_queue(unsigned vf, unsigned i) { return vf + IGB_MAX_VFS * i; }

/*
 * The RTTBCNRC value that limits a queue to rate_mbps (Mbit/s) on a link of link_mbps
 * (Mbit/s, from STATUS.SPEED: 10, 100 or 1000).
 *
 * RF = link_mbps / rate_mbps, truncated to 14 fractional bits: integer part
 * link / rate, fraction ((link mod rate) << 14) / rate (82576 datasheet, the Tx
 * rate-scheduler registers; the same arithmetic as Linux igb and DPDK ixgbe).
 *
 * Returns 0 (scheduler off: the queue is not limited) when rate_mbps is 0 (no limit
 * asked), when link_mbps is 0 (speed unknown) and when rate_mbps >= link_mbps (a factor
 * of 1 or less limits nothing). A factor above the 10-bit integer field (a rate below
 * link/1023; not reachable with whole Mbit/s at 1 Gbit/s) is held at the largest the
 * field takes, the slowest the card can go. Never fails.
 */
uint32_t igb_rate_rttbcnrc(unsigned rate_mbps, unsigned link_mbps);

/* The link speed in Mbit/s that STATUS says (10, 100, 1000), 0 when the link is down. */
unsigned igb_rate_link_mbps(uint32_t status);

#endif
