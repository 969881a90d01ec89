/* SPDX-License-Identifier: MIT */
#include "nic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct nic_ops igb_vfio_ops;
extern const struct nic_ops kernel_nl_ops;

static const struct nic_ops *const backends[] = {
	&igb_vfio_ops,
	&kernel_nl_ops,
};

const struct nic_ops *nic_backend(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

void nic_report(const struct nic_params *p, enum nic_event ev, int vf, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!p->on_event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->on_event(p->ctx, ev, vf, msg);
}
