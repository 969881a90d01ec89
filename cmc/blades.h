/* SPDX-License-Identifier: MIT */
/*
 * Blades and what joins them (blades.c): VFs assigned to blades, domains (a VLAN inside
 * the chassis per group of blades), lanes (a private domain between two blades on a
 * midplane port, for their hypervisors) and port roles (uplink or midplane).
 */
#ifndef CMC_BLADES_H
#define CMC_BLADES_H

#include "api.h"

struct cmcd;
struct cmc_blades;

/* Loads the intent from the store, makes the blades exist and applies everything.
 * Call after the cards are open. */
int cmc_blades_start(struct cmcd *d, struct cmc_blades **out) __attribute__((warn_unused_result));
void cmc_blades_stop(struct cmcd *d, struct cmc_blades *b);
/* The topology or the network devices changed: place VFs into their blades again. */
void cmc_blades_kick(struct cmc_blades *b);

enum cmc_status cmc_cmd_assign(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_unassign(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_assignments(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_domain(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_domains(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_lane(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_lanes(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_port(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_ports(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_vbridge(void *ctx, struct cmc_api_request *req);

#endif
