// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's cluster section (policy/README.md): the fleet of edge nodes
 * on NATS JetStream. Every key is opened at start: a change needs a
 * restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

/* "nats://host:port" or "tls://host:port" (a host name, an IPv4 address
 * or a [bracketed] IPv6 address; the port 1-65535). */
static bool server_ok(const char *u)
{
	const char *h, *colon;
	char *end;
	unsigned long port;

	if (!strncmp(u, "nats://", 7))
		h = u + 7;
	else if (!strncmp(u, "tls://", 6))
		h = u + 6;
	else
		return false;
	if (*h == '[') {
		const char *rb = strchr(h, ']');

		if (!rb || rb == h + 1 || rb[1] != ':')
			return false;
		colon = rb + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon || colon == h)
			return false;
		for (const char *q = h; q < colon; q++)
			if (!((*q >= 'a' && *q <= 'z') ||
			      (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '-' ||
			      *q == '.'))
				return false;
	}
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	port = strtoul(colon + 1, &end, 10);
	return port >= 1 && port <= 65535;
}

static int cl_servers(struct pctx *c, node_t *v, void *o)
{
	struct policy_cluster *cl = o;
	node_t **it;
	size_t n;
	int r = 0, how = yitems(c, v, &it, &n);

	if (how < 0)
		return how;
	if (!n)
		r = yerr(c, v, "cluster.servers: give at least one server");
	if (n > POLICY_CLUSTER_SERVERS_MAX)
		r = yerr(c, v, "cluster.servers: at most %d servers",
			 POLICY_CLUSTER_SERVERS_MAX);
	for (size_t k = 0; !r && k < n; k++) {
		char *dst = cl->servers[cl->nservers];

		r = ystr_copy(c, it[k], "cluster.servers", dst,
			      sizeof(cl->servers[0]));
		if (!r && !server_ok(dst))
			r = yerr(c, it[k], "cluster.servers: expected "
				 "nats://host:port or tls://host:port, found "
				 "'%s'", dst);
		for (size_t j = 0; !r && j < cl->nservers; j++)
			if (!strcmp(cl->servers[j], dst))
				r = yerr(c, it[k], "cluster.servers: %s is "
					 "listed twice", dst);
		if (!r)
			cl->nservers++;
	}
	yitems_free(it);
	return r;
}

static int cl_node(struct pctx *c, node_t *v, void *o)
{
	struct policy_cluster *cl = o;
	int r = ystr_copy(c, v, "cluster.node", cl->node, sizeof(cl->node));

	/* it is a token of NATS subjects and keys */
	if (!r && strspn(cl->node, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
				   "OPQRSTUVWXYZ0123456789-_") !=
			  strlen(cl->node))
		r = yerr(c, v, "cluster.node: letters, digits, '-' and '_' "
			 "only (at most 32), found '%s'", cl->node);
	return r;
}

#define T struct policy_cluster
const struct field policy_cluster_fields[] = {
	Y_FNM("node", cl_node, T, node, true, POLICY_RELOAD_RESTART),
	Y_FNM("servers", cl_servers, T, servers, true, POLICY_RELOAD_RESTART),
	Y_STRK("ca", T, ca, false, POLICY_RELOAD_RESTART),
	Y_STRK("cert", T, cert, false, POLICY_RELOAD_RESTART),
	Y_STRK("key", T, key, false, POLICY_RELOAD_RESTART),
	Y_STRK("credentials", T, credentials, false, POLICY_RELOAD_RESTART),
	Y_UINTK("replicas", T, replicas, 1, 5, "3", false,
		POLICY_RELOAD_RESTART),
	Y_DURK("sync_timeout", T, sync_timeout_ns, 1000000000ULL,
	       "at least 1s", "60s", false, POLICY_RELOAD_RESTART),
	Y_DURK("events_keep", T, events_keep_ns, 60000000000ULL,
	       "at least 1m", "1h", false, POLICY_RELOAD_RESTART),
};
#undef T
const size_t policy_cluster_nfields = Y_N(policy_cluster_fields);

int sec_cluster(struct pctx *c, node_t *n)
{
	struct policy_cluster *cl = &P(c)->cluster;
	int r = ywalk(c, n, "cluster", policy_cluster_fields,
		      policy_cluster_nfields, cl);

	if (r)
		return r;
	if (!cl->cert[0] != !cl->key[0])
		return yerr(c, n, "cluster: cert and key go together");
	for (size_t i = 0; i < cl->nservers; i++)
		if ((cl->ca[0] || cl->cert[0]) &&
		    strncmp(cl->servers[i], "tls://", 6))
			return yerr(c, n, "cluster: with ca or cert, every "
				    "server is tls:// (%s is not)",
				    cl->servers[i]);
	cl->enabled = true;
	return 0;
}
