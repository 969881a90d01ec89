/* SPDX-License-Identifier: MIT */
/*
 * The 82576 transmit rate factor (igb_rate.c) against the datasheet's definition: the
 * queue is limited to link / RF, RF written as a 10.14 fixed-point number, truncated,
 * with RS_ENA (bit 31) to turn the limiter on. The expected register values below were
 * worked out by hand from that definition (doc/rate-limiter.md shows the working), and
 * every whole rate on every 82576 link speed is checked against the same definition
 * computed another way (the whole fixed-point value at once, 64-bit).
 */
#include "igb_rate.h"
#include "igb_regs.h"
#include "tap.h"

#include <stdint.h>

/* RF in 10.14 fixed point straight from link / rate, then the enable bit. */
static uint32_t reference(unsigned rate, unsigned link)
{
	uint64_t rf = ((uint64_t)link << 14) / rate;

	return IGB_RTTBCNRC_RS_ENA | (uint32_t)rf;
}

static void test_registers(void)
{
	tap_is_int(IGB_RTTDQSEL, 0x3604, "RTTDQSEL at 0x3604");
	tap_is_int(IGB_RTTBCNRM, 0x3690, "RTTBCNRM at 0x3690");
	tap_is_int(IGB_RTTBCNRC, 0x36B0, "RTTBCNRC at 0x36B0");
	tap_is_int(IGB_RTTBCNRC_RF_INT_MASK | IGB_RTTBCNRC_RF_DEC_MASK, 0x00FFFFFF,
		   "RF: integer bits 23:14, fraction bits 13:0");
	tap_is_int(IGB_RTTBCNRC_RS_ENA, 0x80000000u, "RS_ENA is bit 31");
	tap_is_int(igb_vf_tx_queue(0, 0), 0, "VF 0 owns queue 0 ...");
	tap_is_int(igb_vf_tx_queue(0, 1), 8, "... and queue 8");
	tap_is_int(igb_vf_tx_queue(6, 1), 14, "VF 6 owns queue 14");
	tap_ok(igb_vf_tx_queue(IGB_MAX_VFS - 1, 1) < IGB_TX_QUEUES, "the last VF's queues exist");
}

static void test_hand_worked(void)
{
	tap_is_int(igb_rate_rttbcnrc(100, 1000), 0x80028000u, "100 of 1000: RF 10.0");
	tap_is_int(igb_rate_rttbcnrc(400, 1000), 0x8000A000u, "400 of 1000: RF 2.5");
	tap_is_int(igb_rate_rttbcnrc(300, 1000), 0x8000D555u, "300 of 1000: RF 3 + 5461/16384 (non-integer, truncated)");
	tap_is_int(igb_rate_rttbcnrc(7, 1000), 0x8023B6DBu, "7 of 1000: RF 142 + 14043/16384");
	tap_is_int(igb_rate_rttbcnrc(999, 1000), 0x80004010u, "999 of 1000: RF 1 + 16/16384");
	tap_is_int(igb_rate_rttbcnrc(1, 1000), 0x80FA0000u, "1 Mbit/s of 1000: RF 1000, the slowest whole rate");
	tap_is_int(igb_rate_rttbcnrc(1, 10), 0x80028000u, "1 of 10: RF 10");
	tap_is_int(igb_rate_rttbcnrc(3, 10), 0x8000D555u, "3 of 10: the same factor as 300 of 1000");
}

static void test_off(void)
{
	tap_is_int(igb_rate_rttbcnrc(0, 1000), 0, "rate 0: limiter off");
	tap_is_int(igb_rate_rttbcnrc(1000, 1000), 0, "rate = link speed: off (RF 1 limits nothing)");
	tap_is_int(igb_rate_rttbcnrc(1001, 1000), 0, "rate above the link speed: off");
	tap_is_int(igb_rate_rttbcnrc(300, 100), 0, "300 on a 100 Mbit/s link: off");
	tap_is_int(igb_rate_rttbcnrc(100, 0), 0, "link speed unknown: off");
	tap_is_int(igb_rate_rttbcnrc(1, 10000), 0x80FFFFFFu,
		   "a factor beyond 10 bits (1 of 10000) is held at the slowest the field takes");
}

/* The same intent (Mbit/s) on another link speed needs another factor. */
static void test_link_speed_change(void)
{
	tap_is_int(igb_rate_rttbcnrc(50, 1000), 0x80050000u, "50 at 1000 Mbit/s: RF 20");
	tap_is_int(igb_rate_rttbcnrc(50, 100), 0x80008000u, "50 at 100 Mbit/s: RF 2");
	tap_is_int(igb_rate_rttbcnrc(50, 10), 0, "50 at 10 Mbit/s: off");
	tap_is_int(igb_rate_link_mbps(IGB_STATUS_LU | IGB_STATUS_SPEED_1000), 1000, "STATUS 1000 Mbit/s");
	tap_is_int(igb_rate_link_mbps(IGB_STATUS_LU | IGB_STATUS_SPEED_MASK), 1000, "STATUS speed 11b is 1000 too");
	tap_is_int(igb_rate_link_mbps(IGB_STATUS_LU | IGB_STATUS_SPEED_100), 100, "STATUS 100 Mbit/s");
	tap_is_int(igb_rate_link_mbps(IGB_STATUS_LU | IGB_STATUS_SPEED_10), 10, "STATUS 10 Mbit/s");
	tap_is_int(igb_rate_link_mbps(IGB_STATUS_SPEED_1000), 0, "link down: no speed");
}

/* Every whole rate below each 82576 link speed, against the reference definition. */
static void test_every_rate(void)
{
	static const unsigned links[] = { 10, 100, 1000 };

	for (unsigned l = 0; l < 3; l++) {
		unsigned link = links[l], bad = 0, slow = 0;

		for (unsigned rate = 1; rate < link; rate++) {
			uint32_t v = igb_rate_rttbcnrc(rate, link);
			uint64_t rf = v & (IGB_RTTBCNRC_RF_INT_MASK | IGB_RTTBCNRC_RF_DEC_MASK);

			if (v != reference(rate, link))
				bad++;
			/* Truncation may only let the queue a hair faster, never slower than asked:
			 * link / RF >= rate, i.e. RF * rate <= link (both in 1/16384). */
			if (rf * rate > (uint64_t)link << 14)
				slow++;
		}
		tap_is_int(bad, 0, "%u Mbit/s link: every rate 1..%u matches the definition", link, link - 1);
		tap_is_int(slow, 0, "%u Mbit/s link: no factor limits below the rate asked", link);
	}
}

int main(void)
{
	tap_plan(9 + 8 + 6 + 8 + 6);
	test_registers();
	test_hand_worked();
	test_off();
	test_link_speed_change();
	test_every_rate();
	return tap_done();
}
