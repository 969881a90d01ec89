/* SPDX-License-Identifier: MIT */
/*
 * Files the Redfish service serves as they are, built into cmcd (so an installed cmcd
 * needs no data directory): the CSDL of $metadata and of the Oem.Cmc extension, and the
 * DMTF message registries it answers with (cmc/rf-data/, BSD-3, see LICENSE.md there).
 * Each is NUL-terminated after its bytes. The paths are relative to the top of the tree,
 * where make runs the compiler.
 */
#include "rf-priv.h"

#include <string.h>

#define RF_EMBED(sym, file)                                                          \
	__asm__(".section .rodata\n"                                                 \
		".global " #sym "\n"                                                 \
		".type " #sym ", @object\n"                                          \
		".balign 16\n" #sym ":\n"                                            \
		".incbin \"" file "\"\n"                                             \
		".byte 0\n"                                                          \
		".size " #sym ", . - " #sym "\n"                                     \
		".previous\n")

RF_EMBED(rf_metadata_xml, "cmc/rf-data/metadata.xml");
RF_EMBED(rf_oem_csdl, "cmc/rf-data/CmcOem_v1.xml");
RF_EMBED(rf_reg_base, "cmc/rf-data/Base.1.22.1.json");
RF_EMBED(rf_reg_resource, "cmc/rf-data/ResourceEvent.1.4.3.json");
RF_EMBED(rf_reg_task, "cmc/rf-data/TaskEvent.1.0.5.json");

extern const char rf_reg_base[], rf_reg_resource[], rf_reg_task[];

static const struct {
	const char *id, *prefix, *text;
} registries[] = {
	{ "Base.1.22.1", "Base", rf_reg_base },
	{ "ResourceEvent.1.4.3", "ResourceEvent", rf_reg_resource },
	{ "TaskEvent.1.0.5", "TaskEvent", rf_reg_task },
};

size_t rf_registry_count(void)
{
	return sizeof(registries) / sizeof(registries[0]);
}

void rf_registry_at(size_t i, const char **id, const char **prefix, const char **text, size_t *len)
{
	*id = registries[i].id;
	*prefix = registries[i].prefix;
	*text = registries[i].text;
	*len = strlen(registries[i].text);
}
