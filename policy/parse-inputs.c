// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's inputs, fanout, ms, evaluation and scs sections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bytes.h"
#include "policy-internal.h"

/* ---- inputs ---- */

static int in_reports(struct pctx *c, node_t *v, void *o);
static int in_eve(struct pctx *c, node_t *v, void *o);
static int in_events(struct pctx *c, node_t *v, void *o);
static int in_sessions(struct pctx *c, node_t *v, void *o);
static int in_radius(struct pctx *c, node_t *v, void *o);

int sec_inputs(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "reports", in_reports },
		{ "eve", in_eve },
		{ "events", in_events },
		{ "sessions", in_sessions },
		{ "radius", in_radius },
	};

	return ywalk(c, n, "inputs", f, Y_N(f), P(c));
}

struct path_build {
	node_t *file, *socket;
};

KEEP(pb_file, struct path_build, file)
KEEP(pb_socket, struct path_build, socket)

static int eve_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "file", pb_file },
		{ "socket", pb_socket },
	};
	struct path_build b = { 0 };
	struct policy_input *in;
	int r = ywalk(c, it, "eve", f, 2, &b);

	if (r)
		return r;
	if (!!b.file == !!b.socket)
		return yerr(c, it, "eve: give either 'file' or 'socket'");
	in = GROW(P(c)->inputs, P(c)->ninputs);
	if (!in)
		return -ENOMEM;
	in->kind = b.file ? POLICY_IN_EVE_FILE : POLICY_IN_EVE_SOCKET;
	return ystr_copy(c, b.file ? b.file : b.socket,
			b.file ? "file" : "socket", in->path,
			sizeof(in->path));
}

static int in_eve(struct pctx *c, node_t *v, void *o)
{
	return yeach(c, v, "eve", eve_one, NULL);
}


/* One {socket: PATH} item of a socket input list. */
static int socket_input(struct pctx *c, node_t *it, const char *what,
			enum policy_input_kind kind)
{
	static const struct field f[] = { { "socket", pb_socket, true } };
	struct path_build b = { 0 };
	struct policy_input *in;
	int r = ywalk(c, it, what, f, 1, &b);

	if (r)
		return r;
	in = GROW(P(c)->inputs, P(c)->ninputs);
	if (!in)
		return -ENOMEM;
	in->kind = kind;
	return ystr_copy(c, b.socket, "socket", in->path, sizeof(in->path));
}

static int events_one(struct pctx *c, node_t *it, void *ctx)
{
	return socket_input(c, it, "events", POLICY_IN_EVENT_SOCKET);
}

static int in_events(struct pctx *c, node_t *v, void *o)
{
	return yeach(c, v, "events", events_one, NULL);
}

static int sessions_one(struct pctx *c, node_t *it, void *ctx)
{
	return socket_input(c, it, "sessions", POLICY_IN_SESSION_SOCKET);
}

static int in_sessions(struct pctx *c, node_t *v, void *o)
{
	return yeach(c, v, "sessions", sessions_one, NULL);
}

/* ---- inputs.radius ---- */

struct radius_client_build {
	node_t *address, *secret, *secret_file;
};

KEEP(rc_address, struct radius_client_build, address)
KEEP(rc_secret, struct radius_client_build, secret)
KEEP(rc_secret_file, struct radius_client_build, secret_file)

/* A secret file: its first line, without the newline; 1..128 octets. */
static int read_secret_file(struct pctx *c, node_t *v,
			    struct policy_radius_client *cl)
{
	char buf[POLICY_RADIUS_SECRET_MAX + 3];
	size_t n;
	FILE *f;
	int r = ystr_copy(c, v, "secret_file", cl->secret_file,
			  sizeof(cl->secret_file));

	if (r)
		return r;
	f = fopen(cl->secret_file, "r");
	if (!f)
		return yerr(c, v, "secret_file %s: %s", cl->secret_file,
			    strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	r = 0;
	if (!n)
		r = yerr(c, v, "secret_file %s: empty (the secret is its "
			       "first line)",
			 cl->secret_file);
	else if (n > POLICY_RADIUS_SECRET_MAX)
		r = yerr(c, v, "secret_file %s: the secret is longer than %d "
			       "octets",
			 cl->secret_file, POLICY_RADIUS_SECRET_MAX);
	if (!r) {
		memcpy(cl->secret, buf, n);
		cl->secret[n] = '\0';
		cl->secret_len = n;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int radius_client_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "address", rc_address, true },
		{ "secret", rc_secret },
		{ "secret_file", rc_secret_file },
	};
	struct policy_radius *rd = ctx;
	struct radius_client_build b = { 0 };
	struct policy_radius_client *cl;
	int r = ywalk(c, it, "radius client", f, Y_N(f), &b);

	if (r)
		return r;
	if (!!b.secret == !!b.secret_file)
		return yerr(c, it, "radius client: give either 'secret' or "
				   "'secret_file'");
	cl = GROW(rd->clients, rd->nclients);
	if (!cl)
		return -ENOMEM;
	r = yprefix(c, b.address, "radius client address", &cl->prefix);
	if (!r && b.secret) {
		r = ystr_copy(c, b.secret, "radius client secret", cl->secret,
			      sizeof(cl->secret));
		cl->secret_len = strlen(cl->secret);
	}
	if (!r && b.secret_file)
		r = read_secret_file(c, b.secret_file, cl);
	for (size_t i = 0; !r && i + 1 < rd->nclients; i++)
		if (rd->clients[i].prefix.plen == cl->prefix.plen &&
		    !memcmp(&rd->clients[i].prefix.addr, &cl->prefix.addr,
			    sizeof(cl->prefix.addr)))
			r = yerr(c, b.address, "radius client address given "
					       "twice");
	return r;
}

static int rd_clients(struct pctx *c, node_t *v, void *o)
{
	return yeach(c, v, "radius clients", radius_client_one, o);
}

/* The socket opens at start; the clients and their secrets are taken on
 * reload. */
#define T struct policy_radius
const struct field policy_radius_fields[] = {
	Y_STRK("listen", T, listen, true, POLICY_RELOAD_AT_RESTART),
	Y_FNK("clients", rd_clients, true, POLICY_RELOAD_LIVE),
};
#undef T
const size_t policy_radius_nfields = Y_N(policy_radius_fields);

static int in_radius(struct pctx *c, node_t *v, void *o)
{
	struct policy_radius *rd = &P(c)->radius;
	struct sockaddr_storage ss;
	socklen_t sl;
	int r;

	r = ywalk(c, v, "radius", policy_radius_fields, policy_radius_nfields,
		  rd);
	rd->enabled = !r;
	if (!r && addr_listen_parse(rd->listen, &ss, &sl))
		r = yerr(c, v, "radius.listen: expected address:port, found "
			       "'%s'",
			 rd->listen);
	return r;
}

/* The listener and its keys are opened at start: taken on reload, in
 * force after a restart. */
#define T struct policy_authsrv
const struct field policy_authsrv_fields[] = {
	Y_STRK("server", T, server, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("ca", T, ca, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("cert", T, cert, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("key", T, key, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("as_id", T, as_id, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("name", T, name, false, POLICY_RELOAD_AT_RESTART),
};
#undef T
const size_t policy_authsrv_nfields = Y_N(policy_authsrv_fields);

static int rp_authsrv(struct pctx *c, node_t *v, void *o)
{
	struct policy_authsrv *a = &((struct policy_reports *)o)->authsrv;
	int r = ywalk(c, v, "reports.authsrv", policy_authsrv_fields,
		      policy_authsrv_nfields, a);

	a->enabled = !r;
	if (!r && !strrchr(a->server, ':'))
		r = yerr(c, v, "reports.authsrv.server: expected host:port, "
			       "found '%s'", a->server);
	return r;
}

#define T struct policy_reports
const struct field policy_reports_fields[] = {
	Y_STRK("listen", T, listen, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("cert", T, cert, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("key", T, key, true, POLICY_RELOAD_AT_RESTART),
	Y_STRK("keys", T, keys_file, false, POLICY_RELOAD_LIVE),
	Y_DURK("max_skew", T, max_skew_ns, 0, NULL, "5m", false,
	       POLICY_RELOAD_LIVE),
	Y_FNM("authsrv", rp_authsrv, T, authsrv, false,
	      POLICY_RELOAD_AT_RESTART),
};
#undef T
const size_t policy_reports_nfields = Y_N(policy_reports_fields);

static int in_reports(struct pctx *c, node_t *v, void *o)
{
	struct policy_reports *rp = &P(c)->reports;
	int r;

	ydefaults(policy_reports_fields, policy_reports_nfields, rp);
	r = ywalk(c, v, "reports", policy_reports_fields,
		  policy_reports_nfields, rp);
	rp->enabled = !r;
	if (!r) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (addr_listen_parse(rp->listen, &ss, &sl))
			r = yerr(c, v, "reports.listen: expected address:port "
				 "(an IPv4 address, [IPv6] or *, and a port "
				 "1-65535; no host names), found '%s'",
				 rp->listen);
	}
	if (!r && !rp->keys_file[0] && !rp->authsrv.enabled)
		r = yerr(c, v, "reports: needs 'keys' (a key file), "
			       "'authsrv' (keys from xcrs-authsrv), or both");
	return r;
}

/* ---- fan-out and the MS lifecycle ---- */

static int fo_threshold(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = yuint(c, v, "fanout.threshold", 1, XCRS_FANOUT_THRESHOLD_MAX,
		      &x);

	((struct policy *)o)->fanout_threshold = (uint32_t)x;
	return r;
}

#define T struct policy
const struct field policy_fanout_fields[] = {
	Y_FNM("threshold", fo_threshold, T, fanout_threshold, true,
	      POLICY_RELOAD_LIVE),
	Y_DURK("window", T, fanout_window_ns, 1, "must be longer than 0s", NULL,
	       true,
	       POLICY_RELOAD_LIVE),
};
const size_t policy_fanout_nfields = Y_N(policy_fanout_fields);

static int pr_redirect(struct pctx *c, node_t *v, void *o)
{
	return level_ref(c, v, "ms.probe.redirect", &P(c)->probe_redirect);
}

/* Probing itself starts with the agent (ms.probe present or not). */
const struct field policy_probe_fields[] = {
	Y_UINTK("port", T, probe_port, 1, 65535, NULL, true,
		POLICY_RELOAD_LIVE),
	Y_FNM("redirect", pr_redirect, T, probe_redirect, true,
	      POLICY_RELOAD_LIVE),
	Y_DURK("interval", T, probe_interval_ns, 100000000ULL, "at least 100ms",
	       "2s",
	       false, POLICY_RELOAD_LIVE),
	Y_UINTK("attempts", T, probe_attempts, 1, 100, "3", false,
		POLICY_RELOAD_LIVE),
};
const size_t policy_probe_nfields = Y_N(policy_probe_fields);

static int ms_probe(struct pctx *c, node_t *v, void *o)
{
	int r = ywalk(c, v, "ms.probe", policy_probe_fields,
		      policy_probe_nfields, P(c));

	P(c)->probe = !r;
	return r;
}

const struct field policy_ms_fields[] = {
	Y_BOOLK("detect", T, ms_detect, POLICY_RELOAD_LIVE),
	Y_DURK("idle_timeout", T, ms_idle_ns, 1000000000ULL, "at least 1s",
	       "10m",
	       false, POLICY_RELOAD_LIVE),
	Y_FNM("probe", ms_probe, T, probe, false, POLICY_RELOAD_AT_RESTART),
};
#undef T
const size_t policy_ms_nfields = Y_N(policy_ms_fields);

int sec_ms(struct pctx *c, node_t *n)
{
	return ywalk(c, n, "ms", policy_ms_fields, policy_ms_nfields, P(c));
}

struct eval_build {
	struct policy_eval *e;
	node_t *when;
};

static int ev_name(struct pctx *c, node_t *v, void *o)
{
	return yname(c, v, "evaluation.name", ((struct eval_build *)o)->e->name);
}

static int ev_result(struct pctx *c, node_t *v, void *o)
{
	static const char *const r[] = { "clean", "outdated", "infected",
					 NULL };
	int i = 0;
	int x = ychoice(c, v, "evaluation.result", r, &i);

	((struct eval_build *)o)->e->result = (enum crsap_status)i;
	return x;
}

KEEP(ev_when, struct eval_build, when)

static int ew_sev(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = yuint(c, v, "when.threat_severity_at_most", 1, 255, &x);

	((struct policy_eval *)o)->threat_severity_max = (unsigned)x;
	return r;
}

static int ew_sigs(struct pctx *c, node_t *v, void *o)
{
	return ydur(c, v, "when.signatures_older_than",
			&((struct policy_eval *)o)->signatures_older_ns);
}

static int ew_patch(struct pctx *c, node_t *v, void *o)
{
	return ydur(c, v, "when.patch_older_than",
			&((struct policy_eval *)o)->patch_older_ns);
}

static int eval_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", ev_name, true },
		{ "result", ev_result, true },
		{ "when", ev_when, true },
	};
	static const struct field w[] = {
		{ "threat_severity_at_most", ew_sev },
		{ "signatures_older_than", ew_sigs },
		{ "patch_older_than", ew_patch },
	};
	struct eval_build b = { 0 };
	int r;

	b.e = GROW(P(c)->evals, P(c)->nevals);
	if (!b.e)
		return -ENOMEM;
	r = ywalk(c, it, "evaluation", f, 3, &b);
	if (!r)
		r = ywalk(c, b.when, "evaluation.when", w, 3, b.e);
	if (r)
		return r;
	if (!b.e->threat_severity_max && !b.e->signatures_older_ns &&
	    !b.e->patch_older_ns)
		return yerr(c, b.when, "evaluation.when: give at least one of "
				       "threat_severity_at_most, "
				       "signatures_older_than, "
				       "patch_older_than");
	return yunique_name(c, it, "evaluation entry", P(c)->evals,
			   sizeof(P(c)->evals[0]), P(c)->nevals);
}

int sec_evaluation(struct pctx *c, node_t *n)
{
	return yeach(c, n, "evaluation", eval_one, NULL);
}


static int pe_key(struct pctx *c, node_t *v, void *o)
{
	struct policy_peer *pe = o;
	const char *s = NULL;
	size_t n;
	int r = ystr(c, v, "scs.peers.key", &s);

	if (r)
		return r;
	n = strlen(s);
	if (n % 2 || n < 32 || n > 128 ||
	    hex_decode(s, n, pe->key, n / 2))
		return yerr(c, v, "scs.peers.key: expected 32..128 hex digits");
	pe->keylen = n / 2;
	return 0;
}

static int scs_peer_one(struct pctx *c, node_t *it, void *ctx)
{
#define T struct policy_peer
	static const struct field f[] = {
		{ .key = "id", .type = Y_NAME, .required = true,
		  .off = offsetof(T, id), .size = sizeof(((T *)0)->id) },
		Y_STRK("address", T, address, true, POLICY_RELOAD_LIVE),
		Y_FNK("key", pe_key, true, POLICY_RELOAD_LIVE),
		Y_STRK("name", T, name, false, POLICY_RELOAD_LIVE),
	};
#undef T
	struct policy_peer *pe = GROW(P(c)->peers, P(c)->npeers);
	int r;

	if (!pe)
		return -ENOMEM;
	r = ywalk(c, it, "scs.peers", f, 4, pe);
	if (!r && !strrchr(pe->address, ':'))
		r = yerr(c, it, "scs.peers.address: expected host:port");
	if (!r && !strcmp(pe->id, P(c)->scs_id))
		r = yerr(c, it, "scs.peers: %s is this SCS's own id", pe->id);
	return r ? r : UNIQUE(c, it, "peer", P(c)->peers, P(c)->npeers);
}

static int scs_peers(struct pctx *c, node_t *v, void *o)
{
	return yeach(c, v, "scs.peers", scs_peer_one, NULL);
}

#define T struct policy
const struct field policy_scs_fields[] = {
	Y_NAMEK("id", T, scs_id, "xcrs-scs", POLICY_RELOAD_LIVE),
	Y_STRK("ca", T, peer_ca, false, POLICY_RELOAD_LIVE),
	Y_FNK("peers", scs_peers, false, POLICY_RELOAD_LIVE),
};
#undef T
const size_t policy_scs_nfields = Y_N(policy_scs_fields);

int sec_scs(struct pctx *c, node_t *n)
{
	int r = ywalk(c, n, "scs", policy_scs_fields, policy_scs_nfields, P(c));

	if (!r && P(c)->npeers && !P(c)->peer_ca[0])
		return yerr(c, n, "scs: peers need 'ca' (their certificates' "
				  "CA)");
	return r;
}

int sec_fanout(struct pctx *c, node_t *n)
{
	return ywalk(c, n, "fanout", policy_fanout_fields,
		     policy_fanout_nfields, P(c));
}
