/* SPDX-License-Identifier: MIT */
/* The 82576's transmit rate factor: see igb_rate.h and doc/rate-limiter.md. */
#include "igb_rate.h"

#include "igb_regs.h"

uint32_t igb_rate_rttbcnrc(unsigned rate_mbps, unsigned link_mbps)
{
	uint32_t rf_int, rf_dec;

	if (rate_mbps == 0 || link_mbps == 0 || rate_mbps >= link_mbps)
		return 0;
	rf_int = link_mbps / rate_mbps;
	/* The remainder is below rate_mbps, so the fraction stays below 1 << 14. */
	rf_dec = (uint32_t)(((uint64_t)(link_mbps % rate_mbps) << IGB_RTTBCNRC_RF_INT_SHIFT) / rate_mbps);
	if (rf_int > IGB_RTTBCNRC_RF_INT_MASK >> IGB_RTTBCNRC_RF_INT_SHIFT) {
		rf_int = IGB_RTTBCNRC_RF_INT_MASK >> IGB_RTTBCNRC_RF_INT_SHIFT;
		rf_dec = IGB_RTTBCNRC_RF_DEC_MASK;
	}
	return IGB_RTTBCNRC_RS_ENA | rf_int << IGB_RTTBCNRC_RF_INT_SHIFT | rf_dec;
}

unsigned igb_rate_link_mbps(uint32_t status)
{
	if (!(status & IGB_STATUS_LU))
		return 0;
	switch (status & IGB_STATUS_SPEED_MASK) {
	case IGB_STATUS_SPEED_10: return 10;
	case IGB_STATUS_SPEED_100: return 100;
	default: return 1000;	/* 10b and 11b both mean 1000 Mbit/s */
	}
}
