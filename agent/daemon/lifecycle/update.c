// SPDX-License-Identifier: GPL-2.0-only
/*
 * Large-scale updating (X.1125 12.1): when a rule with `update` contains a
 * scope (an outbreak), the SCS sends a compulsory update instruction to
 * every connected MS of that scope whose SCA it knows, each with its own
 * execution delay spread evenly over the rule's window, so that update
 * servers and the radio network are not overwhelmed; a later report of
 * the MS with remediation "update: done" counts as compliance.
 *
 * Instructions travel like probes: one CRSAP frame per UDP datagram to the
 * MS's probe port (ms.probe.port), MAC'd with the MS's own key; an SCA
 * accepts them only under its own key.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "sci.h"
#include "update.h"

struct upd_ms {
	struct xcrs_addr a;
	uint64_t delay_ms;
	bool sent, complied;
};

struct campaign {
	char id[64];
	char rule[POLICY_NAME_MAX];
	char scope[POLICY_NAME_MAX]; /* by name: a reload renumbers scopes */
	char what[32];
	uint64_t started_ms, deadline_ms;
	size_t n, nsent, ncomplied;
	struct upd_ms *ms;
	struct campaign *next;
};

#define CAMPAIGNS_MAX 32

struct updates {
	const struct policy *p;
	const struct decide *dec;
	struct ms *ms;
	struct keys *keys;
	struct audit *au;
	struct campaign *campaigns; /* newest first */
	unsigned seq;
};

struct collect {
	const struct policy *p;
	const struct decide *dec;
	int scope;
	struct campaign *c;
	size_t cap;
};

static void collect_one(struct ms_entry *e, void *ctx)
{
	struct collect *k = ctx;
	struct upd_ms *m;

	if (corr_scope_of(decide_engine(k->dec), &e->addr) != k->scope ||
	    !e->sca_id[0])
		return;
	if (k->c->n == k->cap) {
		size_t nc = k->cap ? 2 * k->cap : 64;

		m = realloc(k->c->ms, nc * sizeof(*m));
		if (!m)
			return;
		k->c->ms = m;
		k->cap = nc;
	}
	memset(&k->c->ms[k->c->n], 0, sizeof(k->c->ms[0]));
	k->c->ms[k->c->n++].a = e->addr;
}

static int send_instruction(struct updates *up, const struct campaign *c,
			    const struct policy_rule *ru, struct upd_ms *um)
{
	const struct ms_entry *e = ms_get(up->ms, &um->a);
	const struct crsap_key *k = e ? keys_find(up->keys, e->sca_id) : NULL;
	struct crsap_update u = { 0 };
	uint8_t *frame = NULL;
	char *xml = NULL;
	size_t xlen, flen;
	int r = -EINVAL;

	if (!k)
		return -ENOKEY;
	snprintf(u.ms, sizeof(u.ms), "%s", e->sca_id);
	u.time_ms = now_real_ms();
	if (crsap_nonce(u.nonce))
		return -EIO;
	snprintf(u.campaign, sizeof(u.campaign), "%s", c->id);
	snprintf(u.what, sizeof(u.what), "%s", c->what);
	u.delay_ms = um->delay_ms;
	u.deadline_ms = c->deadline_ms;
	if (ru->update_source >= 0 &&
	    up->p->services[ru->update_source].nrules)
		sci_service_rule(&up->p->services[ru->update_source], 0,
				 &u.source);
	snprintf(u.reason, sizeof(u.reason), "outbreak in %s (rule %s)",
		 c->scope, c->rule);
	if (!crsap_update_build(&u, &xml, &xlen) &&
	    !crsap_frame_build(e->sca_id, k->key, k->keylen, xml, xlen, &frame,
			       &flen))
		r = ms_send_sca(up->ms, &um->a, frame + 4, flen - 4);
	free(xml);
	free(frame);
	return r;
}

void update_start(struct updates *up, const char *rule, int scope)
{
	const struct policy *p = up->p;
	const struct policy_rule *ru = NULL;
	struct collect k = { .p = p, .dec = up->dec, .scope = scope };
	struct campaign *c, **pp;
	size_t live = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (!strcmp(p->rules[i].name, rule))
			ru = &p->rules[i];
	if (!ru || !ru->update || scope < 0)
		return;
	if (!p->probe) {
		log_warn("rule %s asks for updates but ms.probe is not set: "
			 "no way to reach the SCAs", rule);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	snprintf(c->id, sizeof(c->id), "%.40s-%u", p->scopes[scope].name,
		 ++up->seq);
	snprintf(c->scope, sizeof(c->scope), "%s", p->scopes[scope].name);
	snprintf(c->rule, sizeof(c->rule), "%s", rule);
	snprintf(c->what, sizeof(c->what), "%s", ru->update_what);
	c->started_ms = now_real_ms();
	c->deadline_ms = c->started_ms + ru->update_deadline_ns / 1000000;
	k.c = c;
	ms_each(up->ms, collect_one, &k);
	/* Spread evenly: the i-th of n runs i/n of the window in. */
	for (size_t i = 0; i < c->n; i++) {
		char buf[ADDR_STRLEN];
		int r;

		c->ms[i].delay_ms =
			ru->update_window_ns / 1000000 * i / (c->n ? c->n : 1);
		r = send_instruction(up, c, ru, &c->ms[i]);
		addr_format(&c->ms[i].a, buf, sizeof(buf));
		if (r) {
			log_warn("update %s: %s not instructed: %s", c->id, buf,
				 strerror(-r));
			continue;
		}
		c->ms[i].sent = true;
		c->nsent++;
		log_info("update %s: %s instructed to update %s in %" PRIu64
			 " ms", c->id, buf, c->what, c->ms[i].delay_ms);
	}
	log_info("update campaign %s (rule %s): %zu of %zu MSs of %s "
		 "instructed over %" PRIu64 " ms",
		 c->id, rule, c->nsent, c->n, c->scope,
		 ru->update_window_ns / 1000000);
	{
		json_object *rec = json_object_new_object();

		json_object_object_add(rec, "event",
				       json_object_new_string("update-campaign"));
		json_object_object_add(rec, "campaign",
				       json_object_new_string(c->id));
		json_object_object_add(rec, "scope",
				       json_object_new_string(c->scope));
		json_object_object_add(rec, "rule", json_object_new_string(rule));
		json_object_object_add(rec, "instructed",
				       json_object_new_int64((int64_t)c->nsent));
		audit_write(up->au, rec);
	}
	c->next = up->campaigns;
	up->campaigns = c;
	/* Keep the newest few. */
	for (pp = &up->campaigns; *pp; pp = &(*pp)->next)
		if (++live == CAMPAIGNS_MAX) {
			struct campaign *old = (*pp)->next;

			(*pp)->next = NULL;
			while (old) {
				struct campaign *n = old->next;

				free(old->ms);
				free(old);
				old = n;
			}
			break;
		}
}

void updates_scope_contained(void *ctx, const char *rule, int scope)
{
	update_start(ctx, rule, scope);
}

void update_report(struct updates *up, const struct xcrs_addr *a,
		   const struct crsap_report *r)
{
	bool done = false;

	for (size_t i = 0; i < r->nremedies; i++)
		done |= !strcmp(r->remedies[i].action, "update") &&
			!strcmp(r->remedies[i].result, "done");
	if (!done)
		return;
	for (struct campaign *c = up->campaigns; c; c = c->next)
		for (size_t i = 0; i < c->n; i++) {
			char buf[ADDR_STRLEN];

			if (c->ms[i].complied || !c->ms[i].sent ||
			    memcmp(&c->ms[i].a, a, sizeof(*a)))
				continue;
			c->ms[i].complied = true;
			c->ncomplied++;
			addr_format(a, buf, sizeof(buf));
			log_info("update %s: %s complied (%zu of %zu)", c->id,
				 buf, c->ncomplied, c->nsent);
		}
}

json_object *updates_json(const struct updates *up)
{
	json_object *arr = json_object_new_array();
	uint64_t now = now_real_ms();

	for (struct campaign *c = up->campaigns; c; c = c->next) {
		json_object *o = json_object_new_object(),
			    *pend = json_object_new_array();
		char ts[40];

		for (size_t i = 0; i < c->n; i++) {
			char buf[ADDR_STRLEN];

			if (c->ms[i].complied)
				continue;
			addr_format(&c->ms[i].a, buf, sizeof(buf));
			json_object_array_add(pend, json_object_new_string(buf));
		}
		json_object_object_add(o, "campaign", json_object_new_string(c->id));
		json_object_object_add(o, "rule", json_object_new_string(c->rule));
		json_object_object_add(o, "scope",
				       json_object_new_string(c->scope));
		json_object_object_add(o, "what", json_object_new_string(c->what));
		fmt_time_ms(c->started_ms, ts, sizeof(ts));
		json_object_object_add(o, "started", json_object_new_string(ts));
		fmt_time_ms(c->deadline_ms, ts, sizeof(ts));
		json_object_object_add(o, "deadline", json_object_new_string(ts));
		json_object_object_add(o, "overdue",
				       json_object_new_boolean(
					       now > c->deadline_ms &&
					       c->ncomplied < c->nsent));
		json_object_object_add(o, "ms", json_object_new_int64((int64_t)c->n));
		json_object_object_add(o, "instructed",
				       json_object_new_int64((int64_t)c->nsent));
		json_object_object_add(o, "complied",
				       json_object_new_int64((int64_t)c->ncomplied));
		json_object_object_add(o, "pending", pend);
		json_object_array_add(arr, o);
	}
	return arr;
}

int updates_new(const struct policy *p, const struct decide *dec,
		struct ms *m, struct keys *keys, struct audit *au,
		struct updates **ret_updates)
{
	struct updates *up = calloc(1, sizeof(*up));

	if (!up)
		return -ENOMEM;
	*up = (struct updates){
		.p = p, .dec = dec, .ms = m, .keys = keys, .au = au
	};
	*ret_updates = up;
	return 0;
}

void updates_set_policy(struct updates *up, const struct policy *p)
{
	up->p = p;
}

void updates_free(struct updates *up)
{
	if (!up)
		return;
	while (up->campaigns) {
		struct campaign *n = up->campaigns->next;

		free(up->campaigns->ms);
		free(up->campaigns);
		up->campaigns = n;
	}
	free(up);
}
