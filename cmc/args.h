/* SPDX-License-Identifier: MIT */
/*
 * The keyword grammar of cmcd's commands (args.c): "assign slot N [pf P] vf V blade B
 * [mac M] [vlan X] [rate MBPS] [trusted]". Each keyword at most once (a repeated one is
 * refused, as iproute2's duparg does), every value checked, unknown words refused with
 * the command's usage.
 */
#ifndef CMC_ARGS_H
#define CMC_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"

enum cmc_arg_type {
	CMC_ARG_FLAG,		/* a keyword alone: out is a bool */
	CMC_ARG_UINT,		/* decimal min..max: out is an unsigned */
	CMC_ARG_WORD,		/* 1..max characters: out is a char[max + 1] */
	CMC_ARG_MAC,		/* a unicast MAC address: out is a uint8_t[6] */
	CMC_ARG_IPV4,		/* a unicast IPv4 address, dotted quad: out is a char[16] */
};

struct cmc_arg {
	const char *keyword;
	enum cmc_arg_type type;
	unsigned min, max;
	bool required;
	void *out;
	/* A value that is not one: "'VALUE' is not WHAT"; NULL: the usage. */
	const char *what;
	bool seen;		/* set by cmc_args_parse */
};

/*
 * Parses req->argv[from..] against args[0..n). CMC_OK, or CMC_USAGE (cmcctl exits 2)
 * with the reason: an unknown or repeated keyword, a value missing, a required keyword
 * absent, a value that is not one of its kind or out of range ("'VALUE' is not WHAT", or
 * the usage when the argument has no `what`). Whether a well-formed value is allowed
 * (a VLAN taken, a MAC owned) is the command's to say, as CMC_REFUSED (exit 1).
 */
enum cmc_status cmc_args_parse(struct cmc_api_request *req, int from, struct cmc_arg *args, size_t n,
			       const char *usage);

#endif
