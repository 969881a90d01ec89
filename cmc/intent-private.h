/* SPDX-License-Identifier: MIT */
/*
 * Between intent.c and intent-store.c only: a stored record goes in under the same
 * rules as the change that made it, except that its port need not be driven yet (a card
 * absent at start keeps its intent, applied when the card comes).
 */
#ifndef CMC_INTENT_PRIVATE_H
#define CMC_INTENT_PRIVATE_H

#include "intent.h"

int cmc_intent__load_assignment(struct cmc_intent *in, const struct cmc_assignment *a, char *err,
				size_t errlen);
int cmc_intent__load_lane(struct cmc_intent *in, const struct cmc_lane *l, char *err, size_t errlen);
int cmc_intent__load_domain(struct cmc_intent *in, const struct cmc_domain *d, char *err, size_t errlen);
int cmc_intent__load_role(struct cmc_intent *in, unsigned slot, unsigned pf, enum cmc_port_role role,
			  char *err, size_t errlen);
void cmc_intent__foreach_role(const struct cmc_intent *in, void (*fn)(void *arg, unsigned slot, unsigned pf,
								    enum cmc_port_role role), void *arg);
int cmc_intent__load_template(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen);
/* The templates the administrator made or changed (what the store keeps). */
void cmc_intent__foreach_stored_template(const struct cmc_intent *in,
					 void (*fn)(void *arg, const struct cmc_template *t), void *arg);
int cmc_intent__load_fdb(struct cmc_intent *in, const struct cmc_fdb *f, char *err, size_t errlen);

/* The server profiles' table (sprofile.c), part of the intent so that a change to it is
 * copied, checked and restored with everything else. */
struct cmc_sprofile;
struct cmc_sprofile *cmc_intent__sprofiles(struct cmc_intent *in, unsigned **count);
const struct cmc_sprofile *cmc_intent__sprofiles_c(const struct cmc_intent *in, unsigned *count);
uint32_t cmc_intent__chassis_id(const struct cmc_intent *in);
const struct cmc_config *cmc_intent__config(const struct cmc_intent *in);

#endif
