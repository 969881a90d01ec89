/* SPDX-License-Identifier: MIT */
/*
 * mp-show: the chassis inventory of the live system or of a libpci dump, as a table or
 * as JSON (-j). All formatting lives here, not in the library.
 *
 *   mp-show [--dump FILE] [--sysfs DIR] [--ids FILE] [-j]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mp.h"

static const char *speed_str(unsigned s)
{
	static const char *const names[] = { "?", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s",
					     "32GT/s", "64GT/s" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *kind_str(enum mp_port_kind k)
{
	return k == MP_PORT_ROOT ? "root" : "downstream";
}

/* --- table --------------------------------------------------------------------- */

static void link_text(const struct mp_link *l, char *buf, size_t len)
{
	if (!l->valid)
		snprintf(buf, len, "-");
	else if (!l->dll_active && l->width == 0)
		snprintf(buf, len, "down (max %s x%u)", speed_str(l->max_speed), l->max_width);
	else
		snprintf(buf, len, "%s x%u (max %s x%u)", speed_str(l->speed), l->width,
			 speed_str(l->max_speed), l->max_width);
}

static void os_text(const struct mp_os *os, char *buf, size_t len)
{
	char group[16] = "-";

	if (os->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", os->iommu_group);
	snprintf(buf, len, "drv=%s grp=%s net=%s%s%s", os->driver[0] ? os->driver : "-", group,
		 os->netdev[0] ? os->netdev : "-", os->driver_override[0] ? " override=" : "",
		 os->driver_override);
}

static void table_vf(const struct mp_vf *vf)
{
	char b[MP_BDF_STRLEN], os[256];

	os_text(&vf->os, os, sizeof(os));
	printf("      vf%-3u %s  %04x:%04x  %s%s\n", vf->index, mp_bdf_str(&vf->bdf, b),
	       vf->id.vendor_id, vf->id.device_id, vf->present ? "" : "(absent) ", os);
}

static void table_function(const struct mp_function *f)
{
	char b[MP_BDF_STRLEN], os[256], link[64];
	const struct mp_sriov *s = &f->sriov;

	os_text(&f->os, os, sizeof(os));
	link_text(&f->link, link, sizeof(link));
	printf("    pf%-3u %s  %04x:%04x  %s %s\n", f->index, mp_bdf_str(&f->bdf, b),
	       f->id.vendor_id, f->id.device_id, f->id.vendor, f->id.device);
	printf("          link %s  ARI%c ACS%c  %s\n", link, f->ari ? '+' : '-',
	       f->acs.present ? '+' : '-', os);
	if (s->present)
		printf("          SR-IOV%s: VFs %u/%u (initial %u) %s, offset %u stride %u, VF device %04x\n",
		       s->valid ? "" : " (broken)", s->num_vfs, s->total_vfs, s->initial_vfs,
		       s->vf_enable ? "enabled" : "disabled", s->vf_offset, s->vf_stride,
		       s->vf_device_id);
	if (f->caps_unreadable)
		printf("          capabilities: unreadable past a break (see the problems)\n");
	for (size_t v = 0; v < f->vf_count; v++)
		table_vf(&f->vfs[v]);
}

static const char *slot_number_text(const struct mp_slot *s)
{
	static char buf[16];

	if (s->number == MP_SLOT_NUMBER_UNKNOWN)
		return "?";
	snprintf(buf, sizeof(buf), "%u", s->number);
	return buf;
}

static void table(const struct mp_inventory *inv)
{
	char b[MP_BDF_STRLEN], p[MP_BDF_STRLEN], link[64];

	for (size_t i = 0; i < mp_switch_count(inv); i++) {
		const struct mp_switch *sw = mp_switch_at(inv, i);

		link_text(&sw->link, link, sizeof(link));
		printf("switch %s  %04x:%04x  %s %s  link %s  above: %s  slots: %zu\n",
		       mp_bdf_str(&sw->bdf, b), sw->id.vendor_id, sw->id.device_id, sw->id.vendor,
		       sw->id.device, link, sw->has_parent ? mp_bdf_str(&sw->parent, p) : "-",
		       sw->slot_count);
	}
	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		const struct mp_slot *s = mp_slot_at(inv, i);

		link_text(&s->port.link, link, sizeof(link));
		printf("slot %-4s port %s (%s)  presence %s  link %s  ACS%c  %s\n",
		       slot_number_text(s), mp_bdf_str(&s->port.bdf, b), kind_str(s->port.kind),
		       !s->port.link.valid ? "?" : s->presence ? "yes" : "no", link,
		       s->port.acs.present ? '+' : '-', mp_slot_state_str(s->state));
		for (size_t f = 0; f < s->function_count; f++)
			table_function(&s->functions[f]);
		for (size_t k = 0; k < s->problem_count; k++)
			printf("    problem: %s\n", s->problems[k].text);
	}
}

/* --- JSON ---------------------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_bdf(const char *key, const struct mp_bdf *bdf)
{
	char b[MP_BDF_STRLEN];

	printf("\"%s\":\"%s\"", key, mp_bdf_str(bdf, b));
}

static void json_ident(const struct mp_ident *id)
{
	printf("\"vendor_id\":\"%04x\",\"device_id\":\"%04x\",\"class\":\"%06x\",\"vendor\":",
	       id->vendor_id, id->device_id, (unsigned)id->class_code);
	json_str(id->vendor);
	printf(",\"device\":");
	json_str(id->device);
	printf(",\"class_name\":");
	json_str(id->class_name);
}

static void json_link(const struct mp_link *l)
{
	if (!l->valid) {
		printf("\"link\":null");
		return;
	}
	printf("\"link\":{\"speed\":\"%s\",\"width\":%u,\"max_speed\":\"%s\",\"max_width\":%u,"
	       "\"active\":%s}", speed_str(l->speed), l->width, speed_str(l->max_speed),
	       l->max_width, l->dll_active ? "true" : "false");
}

static void json_acs(const struct mp_acs *a)
{
	if (a->present)
		printf("\"acs\":{\"cap\":\"%04x\",\"ctrl\":\"%04x\"}", a->cap, a->ctrl);
	else
		printf("\"acs\":null");
}

static void json_os(const struct mp_os *os)
{
	printf("\"iommu_group\":");
	if (os->iommu_group >= 0)
		printf("%d", os->iommu_group);
	else
		printf("null");
	printf(",\"driver\":");
	json_str(os->driver);
	printf(",\"netdev\":");
	json_str(os->netdev);
	printf(",\"driver_override\":");
	json_str(os->driver_override);
}

static void json_sriov(const struct mp_sriov *s)
{
	if (!s->present) {
		printf("\"sriov\":null");
		return;
	}
	printf("\"sriov\":{\"valid\":%s,\"total_vfs\":%u,\"initial_vfs\":%u,\"num_vfs\":%u,\"vf_enable\":%s,"
	       "\"vf_offset\":%u,\"vf_stride\":%u,\"vf_device_id\":\"%04x\"}", s->valid ? "true" : "false", s->total_vfs,
	       s->initial_vfs, s->num_vfs, s->vf_enable ? "true" : "false", s->vf_offset,
	       s->vf_stride, s->vf_device_id);
}

static void json_function(const struct mp_function *f)
{
	printf("{\"pf\":%u,", f->index);
	json_bdf("bdf", &f->bdf);
	putchar(',');
	json_ident(&f->id);
	putchar(',');
	json_link(&f->link);
	printf(",\"ari\":%s,\"caps_unreadable\":%s,", f->ari ? "true" : "false",
	       f->caps_unreadable ? "true" : "false");
	json_acs(&f->acs);
	putchar(',');
	json_sriov(&f->sriov);
	putchar(',');
	json_os(&f->os);
	printf(",\"vfs\":[");
	for (size_t v = 0; v < f->vf_count; v++) {
		const struct mp_vf *vf = &f->vfs[v];

		printf("%s{\"vf\":%u,", v ? "," : "", vf->index);
		json_bdf("bdf", &vf->bdf);
		printf(",\"present\":%s,", vf->present ? "true" : "false");
		json_ident(&vf->id);
		putchar(',');
		json_os(&vf->os);
		putchar('}');
	}
	printf("]}");
}

static void json_slot(const struct mp_slot *s)
{
	char b[MP_BDF_STRLEN];

	printf("{\"slot\":%s,\"state\":\"%s\",\"port\":{",
	       s->number == MP_SLOT_NUMBER_UNKNOWN ? "null" : slot_number_text(s),
	       mp_slot_state_str(s->state));
	json_bdf("bdf", &s->port.bdf);
	printf(",\"kind\":\"%s\",", kind_str(s->port.kind));
	json_link(&s->port.link);
	putchar(',');
	json_acs(&s->port.acs);
	printf("},\"switch\":");
	if (s->sw)
		printf("\"%s\"", mp_bdf_str(&s->sw->bdf, b));
	else
		printf("null");
	printf(",\"presence\":%s,\"occupied\":%s,\"hotplug\":%s,\"functions\":[",
	       s->presence ? "true" : "false", s->occupied ? "true" : "false",
	       s->hotplug_capable ? "true" : "false");
	for (size_t f = 0; f < s->function_count; f++) {
		if (f)
			putchar(',');
		json_function(&s->functions[f]);
	}
	printf("],\"problems\":[");
	for (size_t p = 0; p < s->problem_count; p++) {
		if (p)
			putchar(',');
		json_str(s->problems[p].text);
	}
	printf("]}");
}

static void json(const struct mp_inventory *inv)
{
	printf("{\"switches\":[");
	for (size_t i = 0; i < mp_switch_count(inv); i++) {
		const struct mp_switch *sw = mp_switch_at(inv, i);

		printf("%s{", i ? "," : "");
		json_bdf("bdf", &sw->bdf);
		putchar(',');
		json_ident(&sw->id);
		putchar(',');
		json_link(&sw->link);
		printf(",\"parent\":");
		if (sw->has_parent) {
			char b[MP_BDF_STRLEN];

			printf("\"%s\"", mp_bdf_str(&sw->parent, b));
		} else {
			printf("null");
		}
		printf(",\"slots\":%zu}", sw->slot_count);
	}
	printf("],\"slots\":[");
	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		if (i)
			putchar(',');
		json_slot(mp_slot_at(inv, i));
	}
	printf("],\"problems\":[");
	for (size_t i = 0; i < mp_problem_count(inv); i++) {
		if (i)
			putchar(',');
		json_str(mp_problem_at(inv, i)->text);
	}
	printf("]}\n");
}

/* --- main ---------------------------------------------------------------------- */

struct show_opts {
	const char *dump, *sysfs, *ids;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mp-show [--dump FILE] [--sysfs DIR] [--ids FILE] [-j]\n");
}

static int parse_args(int argc, char **argv, struct show_opts *o)
{
	static const struct option opts[] = {
		{ "dump", required_argument, NULL, 'd' }, { "sysfs", required_argument, NULL, 's' },
		{ "ids", required_argument, NULL, 'i' },  { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:s:i:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dump = optarg; break;
		case 's': o->sysfs = optarg; break;
		case 'i': o->ids = optarg; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct show_opts o = { 0 };
	struct mp_inventory *inv;
	int r;

	log_init("mp-show", false, LOG_LVL_WARN);
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	r = mp_inventory_open(&inv, o.dump);
	if (r < 0)
		fatal(r, "inventory");
	if ((o.sysfs && mp_inventory_set_sysfs(inv, o.sysfs) < 0) ||
	    (o.ids && mp_inventory_set_ids_file(inv, o.ids) < 0))
		fatal(ENOMEM, "inventory");
	r = mp_inventory_scan(inv);
	if (r < 0) {
		log_warnx("%s", mp_inventory_error(inv));
		mp_inventory_close(inv);
		return 1;
	}
	if (o.json)
		json(inv);
	else
		table(inv);
	mp_inventory_close(inv);
	return fflush(stdout) == 0 ? 0 : 1;
}
