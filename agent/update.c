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
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "agent.h"
#include "log.h"

struct upd_ms {
	struct xcrs_addr a;
	uint64_t delay_ms;
	bool sent, complied;
};

struct campaign {
	char id[64];
	char rule[POLICY_NAME_MAX];
	int scope;
	char what[32];
	uint64_t started_ms, deadline_ms;
	size_t n, nsent, ncomplied;
	struct upd_ms *ms;
	struct campaign *next;
};

#define CAMPAIGNS_MAX 32

struct collect {
	struct agent *ag;
	int scope;
	struct campaign *c;
	size_t cap;
};

static void collect_one(struct ms_entry *e, void *ctx)
{
	struct collect *k = ctx;
	struct upd_ms *m;

	if (corr_scope_of(decide_engine(k->ag->dec), &e->addr) != k->scope || !e->sca_id[0])
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

static int send_instruction(struct agent *ag, const struct campaign *c,
			    const struct policy_rule *ru, struct upd_ms *um)
{
	const struct ms_entry *e = mstab_get(&ag->ms, &um->a);
	const struct crsap_key *k = e ? agent_report_key(ag, e->sca_id) : NULL;
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
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
	    ag->policy->services[ru->update_source].nrules)
		agent_service_rule(&ag->policy->services[ru->update_source], 0,
				   &u.source);
	snprintf(u.reason, sizeof(u.reason), "outbreak in %s (rule %s)",
		 ag->policy->scopes[c->scope].name, c->rule);
	if (!crsap_update_build(&u, &xml, &xlen) &&
	    !crsap_frame_build(e->sca_id, k->key, k->keylen, xml, xlen, &frame,
			       &flen)) {
		memcpy(&sa.sin6_addr, um->a.a, 16);
		sa.sin6_port = htons(ag->policy->probe_port);
		r = sendto(ag->probe_fd, frame + 4, flen - 4, MSG_DONTWAIT,
			   (struct sockaddr *)&sa, sizeof(sa)) < 0
			    ? -errno
			    : 0;
	}
	free(xml);
	free(frame);
	return r;
}

void update_start(struct agent *ag, const char *rule, int scope)
{
	const struct policy_rule *ru = NULL;
	struct collect k = { .ag = ag, .scope = scope };
	struct campaign *c, **pp;
	size_t live = 0;

	for (size_t i = 0; i < ag->policy->nrules; i++)
		if (!strcmp(ag->policy->rules[i].name, rule))
			ru = &ag->policy->rules[i];
	if (!ru || !ru->update || scope < 0)
		return;
	if (!ag->policy->probe || ag->probe_fd < 0) {
		log_warn("rule %s asks for updates but ms.probe is not set: "
			 "no way to reach the SCAs", rule);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	snprintf(c->id, sizeof(c->id), "%.40s-%u",
		 ag->policy->scopes[scope].name, ++ag->campaign_seq);
	snprintf(c->rule, sizeof(c->rule), "%s", rule);
	snprintf(c->what, sizeof(c->what), "%s", ru->update_what);
	c->scope = scope;
	c->started_ms = now_real_ms();
	c->deadline_ms = c->started_ms + ru->update_deadline_ns / 1000000;
	k.c = c;
	mstab_each(&ag->ms, collect_one, &k);
	/* Spread evenly: the i-th of n runs i/n of the window in. */
	for (size_t i = 0; i < c->n; i++) {
		char buf[ADDR_STRLEN];
		int r;

		c->ms[i].delay_ms =
			ru->update_window_ns / 1000000 * i / (c->n ? c->n : 1);
		r = send_instruction(ag, c, ru, &c->ms[i]);
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
		 c->id, rule, c->nsent, c->n, ag->policy->scopes[scope].name,
		 ru->update_window_ns / 1000000);
	{
		json_object *rec = json_object_new_object();

		json_object_object_add(rec, "event",
				       json_object_new_string("update-campaign"));
		json_object_object_add(rec, "campaign",
				       json_object_new_string(c->id));
		json_object_object_add(rec, "scope",
				       json_object_new_string(
					       ag->policy->scopes[scope].name));
		json_object_object_add(rec, "rule", json_object_new_string(rule));
		json_object_object_add(rec, "instructed",
				       json_object_new_int64((int64_t)c->nsent));
		audit_write(ag->audit, rec);
	}
	c->next = ag->campaigns;
	ag->campaigns = c;
	/* Keep the newest few. */
	for (pp = &ag->campaigns; *pp; pp = &(*pp)->next)
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

void update_report(struct agent *ag, const struct xcrs_addr *a,
		   const struct crsap_report *r)
{
	bool done = false;

	for (size_t i = 0; i < r->nremedies; i++)
		done |= !strcmp(r->remedies[i].action, "update") &&
			!strcmp(r->remedies[i].result, "done");
	if (!done)
		return;
	for (struct campaign *c = ag->campaigns; c; c = c->next)
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

json_object *updates_json(struct agent *ag)
{
	json_object *arr = json_object_new_array();
	uint64_t now = now_real_ms();

	for (struct campaign *c = ag->campaigns; c; c = c->next) {
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
		json_object_object_add(o, "scope", json_object_new_string(
				       ag->policy->scopes[c->scope].name));
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

void updates_free(struct agent *ag)
{
	while (ag->campaigns) {
		struct campaign *n = ag->campaigns->next;

		free(ag->campaigns->ms);
		free(ag->campaigns);
		ag->campaigns = n;
	}
}
