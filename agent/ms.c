// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MS lifecycle of the SCS (X.1125 11.1, 11.6): an MS connects (the
 * dataplane saw its first traffic, the operator's session feed says so,
 * or its SCA reports) and leaves (idle past the policy's timeout, or the
 * feed says so). From connect to leave the agent keeps its state; at
 * leave its state and its control are released.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "log.h"

static void audit_ms(struct agent *ag, const char *event,
		     const struct xcrs_addr *a, const char *why)
{
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	json_object_object_add(rec, "event", json_object_new_string(event));
	json_object_object_add(rec, "terminal", json_object_new_string(buf));
	json_object_object_add(rec, "cause", json_object_new_string(why));
	agent_audit(ag, rec);
}

void ms_connect(struct agent *ag, const struct xcrs_addr *a,
		const char *source)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];
	bool created;

	addr_format(a, buf, sizeof(buf));
	if (!agent_is_subscriber(ag, a)) {
		log_debug("connect of %s (%s) ignored: not a subscriber of the "
			  "policy", buf, source);
		return;
	}
	e = mstab_add(&ag->ms, a, &created);
	if (!e) {
		log_error("MS %s: out of memory", buf);
		return;
	}
	if (!created)
		return;
	e->since_ms = now_real_ms();
	snprintf(e->source, sizeof(e->source), "%s", source);
	ag->counters[C_MS_CONNECTS]++;
	log_info("MS %s connected (%s)", buf, source);
	audit_ms(ag, "ms-connect", a, source);
}

void ms_leave(struct agent *ag, const struct xcrs_addr *a, const char *cause)
{
	char buf[ADDR_STRLEN];
	int r;

	addr_format(a, buf, sizeof(buf));
	if (mstab_del(&ag->ms, a))
		log_debug("leave of %s (%s): it was not connected", buf, cause);
	/* Its next packet is a new connect. */
	if (ag->dp)
		dp_seen_del(ag->dp, a);
	ag->counters[C_MS_LEAVES]++;
	log_info("MS %s left (%s): its state and control are released", buf,
		 cause);
	audit_ms(ag, "ms-leave", a, cause);
	r = corr_release(ag->corr, a, now_mono());
	if (r < 0 && r != -ENOENT)
		log_warn("MS %s: releasing its control: %s", buf, strerror(-r));
	agent_after_change(ag);
}

struct expired {
	struct agent *ag;
	struct xcrs_addr a[256];
	size_t n;
};

static void on_idle(void *ctx, const struct xcrs_addr *a,
		    const struct xcrs_seen *s)
{
	struct expired *x = ctx;

	if (x->n < sizeof(x->a) / sizeof(x->a[0]))
		x->a[x->n++] = *a;
	else /* more than one batch: the rest leave without the release */
		ms_leave(x->ag, a, "idle");
}

void ms_housekeeping(struct agent *ag)
{
	struct expired x = { .ag = ag };
	int r;

	if (!ag->policy->ms_detect || !ag->dp)
		return;
	r = dp_seen_expire(ag->dp, ag->policy->ms_idle_ns, on_idle, &x);
	if (r < 0)
		log_warn("MS idle scan: %s", dp_errmsg(ag->dp));
	for (size_t i = 0; i < x.n; i++)
		ms_leave(ag, &x.a[i], "idle");
}

void ms_feed_line(struct agent *ag, const char *src, char *line, size_t len)
{
	json_object *o, *ev, *ms;
	struct xcrs_addr a;
	const char *e, *m;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	if (!len)
		return;
	ag->counters[C_SESSIONS_LINES]++;
	o = json_tokener_parse(line);
	if (!o || !json_object_object_get_ex(o, "event", &ev) ||
	    !json_object_object_get_ex(o, "ms", &ms) ||
	    !(e = json_object_get_string(ev)) ||
	    !(m = json_object_get_string(ms)) || addr_parse(m, &a) ||
	    (strcmp(e, "connect") && strcmp(e, "leave"))) {
		ag->counters[C_INPUT_MALFORMED]++;
		log_warn("%s: malformed session line dropped (expected "
			 "{\"event\": \"connect\"|\"leave\", \"ms\": ADDRESS})",
			 src);
		json_object_put(o);
		return;
	}
	if (!strcmp(e, "connect"))
		ms_connect(ag, &a, "feed");
	else
		ms_leave(ag, &a, "feed");
	json_object_put(o);
}

static void ms_one(struct ms_entry *e, void *ctx)
{
	json_object *arr = ctx, *o = json_object_new_object();
	char buf[ADDR_STRLEN], ts[40];

	addr_format(&e->addr, buf, sizeof(buf));
	fmt_time_ms(e->since_ms, ts, sizeof(ts));
	json_object_object_add(o, "terminal", json_object_new_string(buf));
	json_object_object_add(o, "since", json_object_new_string(ts));
	json_object_object_add(o, "source", json_object_new_string(e->source));
	json_object_object_add(o, "sca", json_object_new_boolean(e->sca));
	json_object_object_add(o, "probes", json_object_new_int((int)e->probes));
	json_object_object_add(o, "redirected",
			       json_object_new_boolean(e->redirected));
	json_object_array_add(arr, o);
}

json_object *ms_json(struct agent *ag)
{
	json_object *arr = json_object_new_array();

	mstab_each(&ag->ms, ms_one, arr);
	return arr;
}
