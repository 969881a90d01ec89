/* SPDX-License-Identifier: MIT */
/* The keyword grammar of cmcd's commands (args.h). */
#include "args.h"

#include "vbridge.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static struct cmc_arg *find(struct cmc_arg *args, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(args[i].keyword, k) == 0)
			return &args[i];
	return NULL;
}

/* A host's IPv4 address (not 0/8, loopback, multicast or above), canonical into out[16]. */
static bool ipv4_unicast(const char *arg, char *out)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, arg, &a) != 1)
		return false;
	h = ntohl(a.s_addr);
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 24) >= 224)
		return false;
	return inet_ntop(AF_INET, &a, out, 16) != NULL;
}

/* 0, or -1 if arg is not a value of a's type. */
static int take(struct cmc_arg *a, const char *arg)
{
	unsigned v;

	switch (a->type) {
	case CMC_ARG_UINT:
		if (cmc_api_parse_uint(arg, a->max, &v) < 0 || v < a->min)
			return -1;
		*(unsigned *)a->out = v;
		return 0;
	case CMC_ARG_WORD:
		if (!*arg || strlen(arg) > a->max)
			return -1;
		snprintf(a->out, a->max + 1, "%s", arg);
		return 0;
	case CMC_ARG_MAC:
		return vb_mac_parse(arg, a->out) < 0 || !vb_mac_is_unicast(a->out) ? -1 : 0;
	case CMC_ARG_IPV4:
		return ipv4_unicast(arg, a->out) ? 0 : -1;
	case CMC_ARG_FLAG:
		break;
	}
	return -1;
}

enum cmc_status cmc_args_parse(struct cmc_api_request *req, int from, struct cmc_arg *args, size_t n,
			       const char *usage)
{
	for (size_t i = 0; i < n; i++)
		args[i].seen = false;
	for (int i = from; i < req->argc; i++) {
		const char *k = req->argv[i];
		struct cmc_arg *a = find(args, n, k);

		if (!a)
			return cmc_api_refuse(req, CMC_USAGE, "%s (unknown '%.32s')", usage, k);
		if (a->seen)
			return cmc_api_refuse(req, CMC_USAGE, "%s ('%.32s' given twice)", usage, k);
		a->seen = true;
		if (a->type == CMC_ARG_FLAG) {
			*(bool *)a->out = true;
			continue;
		}
		if (i + 1 >= req->argc)
			return cmc_api_refuse(req, CMC_USAGE, "%s: '%.32s' needs a value", usage, k);
		if (take(a, req->argv[++i]) < 0) {
			if (a->what)
				return cmc_api_refuse(req, CMC_USAGE, "'%.32s' is not %s", req->argv[i], a->what);
			return cmc_api_refuse(req, CMC_USAGE, "%s (bad '%.32s %.32s')", usage, k, req->argv[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (args[i].required && !args[i].seen)
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	return CMC_OK;
}
