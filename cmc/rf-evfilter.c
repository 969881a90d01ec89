/* SPDX-License-Identifier: MIT */
/*
 * The $filter of an SSE stream (rf-events.h): a small recursive-descent parser into a
 * fixed array of nodes (bounded: RF_FILTER_MAX characters, RF_FILTER_NODES nodes, so a
 * client cannot make cmcd recurse or allocate without end), and its evaluation against
 * one event. The grammar is OData's $filter (DSP0266 §7.3.4) cut to what DSP0266
 * §13.5.4 asks of an SSE stream:
 *
 *   expr  := and ('or' and)*        and := unary ('and' unary)*
 *   unary := 'not' unary | '(' expr ')' | PROP ('eq' | 'ne') VALUE
 */
#include "rf-events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum prop { P_MESSAGE_ID, P_REGISTRY_PREFIX, P_ORIGIN, P_RESOURCE_TYPE, P_EVENT_TYPE,
	    P_FORMAT, P_SUBORDINATE };
static const char *const prop_names[] = { "MessageId", "RegistryPrefix", "OriginResource",
					  "ResourceType", "EventType", "EventFormatType",
					  "SubordinateResources" };

struct node {
	enum { N_OR, N_AND, N_NOT, N_CMP } op;
	int a, b;		/* operands (node indices) */
	enum prop prop;
	bool ne;
	char value[RF_EV_ORIGIN_MAX];
};

struct rf_filter {
	int n, root;
	bool subordinate;	/* SubordinateResources eq true */
	struct node nodes[RF_FILTER_NODES];
};

struct parser {
	const char *s, *start;
	struct rf_filter *f;
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s at character %d", what, (int)(p->s - p->start) + 1);
	return -EINVAL;
}

static void skip(struct parser *p)
{
	while (*p->s == ' ')
		p->s++;
}

/* The keyword kw as a whole word next. */
static bool keyword(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	skip(p);
	if (strncmp(p->s, kw, n) != 0 || (p->s[n] && p->s[n] != ' ' && p->s[n] != '('))
		return false;
	p->s += n;
	return true;
}

static int node(struct parser *p)
{
	if (p->f->n == RF_FILTER_NODES)
		return -E2BIG;
	p->f->nodes[p->f->n] = (struct node){ 0 };
	return p->f->n++;
}

static int expr(struct parser *p);

/* A quoted ('it''s') or bare value. */
static int value(struct parser *p, char *out, size_t len)
{
	size_t w = 0;

	skip(p);
	if (*p->s == '\'') {
		for (p->s++; *p->s; p->s++) {
			if (*p->s == '\'' && p->s[1] != '\'')
				break;
			if (*p->s == '\'')
				p->s++;
			if (w + 1 >= len)
				return fail(p, "value too long");
			out[w++] = *p->s;
		}
		if (*p->s != '\'')
			return fail(p, "unterminated quote");
		p->s++;
	} else {
		while (*p->s && *p->s != ' ' && *p->s != ')' && *p->s != '(') {
			if (w + 1 >= len)
				return fail(p, "value too long");
			out[w++] = *p->s++;
		}
	}
	out[w] = '\0';
	return w ? 0 : fail(p, "a value expected");
}

static int comparison(struct parser *p)
{
	size_t n = strspn(p->s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	int i = node(p), rc;
	struct node *nd;

	if (i < 0)
		return i;
	nd = &p->f->nodes[i];
	nd->op = N_CMP;
	for (nd->prop = 0; nd->prop < sizeof(prop_names) / sizeof(prop_names[0]); nd->prop++)
		if (n == strlen(prop_names[nd->prop]) && strncmp(p->s, prop_names[nd->prop], n) == 0)
			break;
	if (nd->prop == sizeof(prop_names) / sizeof(prop_names[0]))
		return fail(p, "a property (MessageId, RegistryPrefix, OriginResource, ResourceType, "
			    "EventType, EventFormatType, SubordinateResources) expected");
	p->s += n;
	if (keyword(p, "ne"))
		nd->ne = true;
	else if (!keyword(p, "eq"))
		return fail(p, "'eq' or 'ne' expected");
	if ((rc = value(p, nd->value, sizeof(nd->value))) < 0)
		return rc;
	if (nd->prop == P_SUBORDINATE) {
		if (strcmp(nd->value, "true") != 0 && strcmp(nd->value, "false") != 0)
			return fail(p, "SubordinateResources takes true or false");
		p->f->subordinate = (strcmp(nd->value, "true") == 0) != nd->ne;
	}
	return i;
}

static int unary(struct parser *p)
{
	int i, a;

	if (++p->depth > 16)
		return fail(p, "nested too deep");
	skip(p);
	if (keyword(p, "not")) {
		if ((a = unary(p)) < 0 || (i = node(p)) < 0)
			return a < 0 ? a : i;
		p->f->nodes[i].op = N_NOT;
		p->f->nodes[i].a = a;
	} else if (*p->s == '(') {
		p->s++;
		if ((i = expr(p)) < 0)
			return i;
		skip(p);
		if (*p->s != ')')
			return fail(p, "')' expected");
		p->s++;
	} else {
		i = comparison(p);
	}
	p->depth--;
	return i;
}

/* One level: operands of op joined by kw. */
static int chain(struct parser *p, int op, const char *kw, int (*sub)(struct parser *))
{
	int a = sub(p), b, i;

	while (a >= 0 && keyword(p, kw)) {
		if ((b = sub(p)) < 0)
			return b;
		if ((i = node(p)) < 0)
			return i;
		p->f->nodes[i].op = op;
		p->f->nodes[i].a = a;
		p->f->nodes[i].b = b;
		a = i;
	}
	return a;
}

static int and_expr(struct parser *p)
{
	return chain(p, N_AND, "and", unary);
}

static int expr(struct parser *p)
{
	return chain(p, N_OR, "or", and_expr);
}

int rf_filter_parse(const char *text, struct rf_filter **out, char *err, size_t errlen)
{
	struct parser p = { .s = text, .start = text, .err = err, .errlen = errlen };
	int rc;

	*out = NULL;
	if (!text || !*text)
		return 0;
	if (strlen(text) > RF_FILTER_MAX) {
		snprintf(err, errlen, "longer than %d characters", RF_FILTER_MAX);
		return -E2BIG;
	}
	p.f = calloc(1, sizeof(*p.f));
	if (!p.f)
		return -ENOMEM;
	rc = expr(&p);
	skip(&p);
	if (rc >= 0 && *p.s)
		rc = fail(&p, "'and', 'or' or the end expected");
	if (rc == -E2BIG)
		snprintf(err, errlen, "more than %d terms", RF_FILTER_NODES / 2);
	if (rc < 0) {
		free(p.f);
		return rc;
	}
	p.f->root = rc;
	*out = p.f;
	return 0;
}

void rf_filter_free(struct rf_filter *f)
{
	free(f);
}

bool rf_msgid_match(const char *pattern, const char *id)
{
	const char *pl = strrchr(pattern, '.'), *il = strrchr(id, '.');
	size_t pp = strcspn(pattern, "."), ip = strcspn(id, ".");

	if (!pl || !il || strcmp(pl, il) != 0 || pp != ip || strncmp(pattern, id, pp) != 0)
		return false;
	/* The version the pattern gives (none, major, major.minor, all three) must agree. */
	const char *pv = pattern + pp, *iv = id + ip;
	size_t plen = (size_t)(pl - pv);
	return plen == 0 || (strncmp(pv, iv, plen) == 0 && (iv[plen] == '.'));
}

bool rf_origin_match(const char *pattern, const char *origin, bool subordinate)
{
	size_t n = strlen(pattern);

	while (n > 1 && pattern[n - 1] == '/')
		n--;
	if (strncmp(pattern, origin, n) != 0)
		return false;
	return origin[n] == '\0' || (subordinate && origin[n] == '/');
}

static bool cmp(const struct rf_filter *f, const struct node *nd, const struct rf_event *ev)
{
	bool r;

	switch (nd->prop) {
	case P_MESSAGE_ID:
		r = rf_msgid_match(nd->value, ev->message_id);
		break;
	case P_REGISTRY_PREFIX:
		r = strcmp(nd->value, ev->prefix) == 0;
		break;
	case P_ORIGIN:
		r = rf_origin_match(nd->value, ev->origin, f->subordinate);
		break;
	case P_RESOURCE_TYPE:
		r = strcmp(nd->value, ev->resource_type) == 0;
		break;
	case P_EVENT_TYPE:
		r = strcmp(nd->value, ev->event_type) == 0;
		break;
	case P_FORMAT:
		r = strcmp(nd->value, "Event") == 0;
		break;
	default:	/* SubordinateResources qualifies OriginResource; it selects nothing */
		return true;
	}
	return r != nd->ne;
}

static bool eval(const struct rf_filter *f, int i, const struct rf_event *ev)
{
	const struct node *nd = &f->nodes[i];

	switch (nd->op) {
	case N_OR:
		return eval(f, nd->a, ev) || eval(f, nd->b, ev);
	case N_AND:
		return eval(f, nd->a, ev) && eval(f, nd->b, ev);
	case N_NOT:
		return !eval(f, nd->a, ev);
	default:
		return cmp(f, nd, ev);
	}
}

bool rf_filter_match(const struct rf_filter *f, const struct rf_event *ev)
{
	return !f || eval(f, f->root, ev);
}
