/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SSE $filter parser (cmc/rf-evfilter.c), which reads what any
 * logged-in client sends: arbitrary text is parsed, and when it parses it is matched
 * against an event. Invariants (__builtin_trap() on a violation): a refusal leaves no
 * filter and says why; an accepted filter evaluates without fault (bounded recursion,
 * nodes within the array) and `not (F)` gives the opposite answer to F.
 */
#include "fuzz.h"
#include "rf-events.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rf_event ev = {
		.id = 9, .message_id = "ResourceEvent.1.4.ResourceRemoved", .prefix = "ResourceEvent",
		.event_type = "ResourceRemoved", .severity = "OK", .resource_type = "PCIeDevice",
		.origin = "/redfish/v1/Chassis/enc1/PCIeDevices/slot2",
	};
	char text[RF_FILTER_MAX + 64], neg[RF_FILTER_MAX + 80], err[160] = "";
	struct rf_filter *f = NULL, *g = NULL;
	int rc;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = rf_filter_parse(text, &f, err, sizeof(err));
	if (rc < 0) {
		CHECK(!f && *err);
		return 0;
	}
	if (!f)
		return 0;	/* empty: everything passes */
	bool m = rf_filter_match(f, &ev);
	snprintf(neg, sizeof(neg), "not (%s)", text);
	if (rf_filter_parse(neg, &g, err, sizeof(err)) == 0 && g)
		CHECK(rf_filter_match(g, &ev) == !m);
	rf_filter_free(g);
	rf_filter_free(f);
	return 0;
}
