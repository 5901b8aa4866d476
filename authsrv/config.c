// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-authsrv's configuration (authsrv/README.md), read with the policy's
 * YAML reader (policy/yreader.h): the same file:line:col errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "authsrv_config.h"
#include "yreader.h"

#define A(c) ((struct authsrv_config *)(c)->model)

static int id_value(struct pctx *c, node_t *n, const char *what, char *buf)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (!*s || strlen(s) > AUTHSRV_ID_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-_") != strlen(s))
		return yerr(c, n, "%s: expected a domain name (letters, digits, "
				  "'.', '-', '_'; at most %d), found '%s'",
			    what, AUTHSRV_ID_MAX, s);
	strcpy(buf, s);
	return 0;
}

static int hostport(struct pctx *c, node_t *n, const char *what, char *buf,
		    size_t len)
{
	const char *colon;
	int r = ystr_copy(c, n, what, buf, len);
	unsigned long port;
	char *end;

	if (r)
		return r;
	colon = strrchr(buf, ':');
	if (!colon || colon == buf)
		return yerr(c, n, "%s: expected HOST:PORT, found '%s'", what,
			    buf);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return yerr(c, n, "%s: the port must be 1..65535, found '%s'",
			    what, colon + 1);
	return 0;
}

static int au_domain(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "authsrv.domain",
			((struct authsrv_config *)o)->domain);
}

static int au_listen(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_config *a = o;

	return hostport(c, v, "authsrv.listen", a->listen, sizeof(a->listen));
}

/* Every key is read at start (the server restarts to change it). */
#define T struct authsrv_config
#define S_(k, m, req)                                                          \
	{ .key = k, .type = Y_STR, .required = req,                            \
	  .reload = POLICY_RELOAD_RESTART, .off = offsetof(T, m),              \
	  .size = sizeof(((T *)0)->m) }
#define D_(k, m, d)                                                            \
	{ .key = k, .type = Y_DURATION, .min = 1000000000ull,                  \
	  .unit = "at least 1s", .def = d, .reload = POLICY_RELOAD_RESTART,    \
	  .off = offsetof(T, m), .size = sizeof(((T *)0)->m) }
static const struct field authsrv_fields[] = {
	Y_FNK("domain", au_domain, true, POLICY_RELOAD_RESTART),
	Y_FNK("listen", au_listen, true, POLICY_RELOAD_RESTART),
	S_("certificate", certificate, true),
	S_("private_key", private_key, true),
	S_("database", database, true),
	S_("as_ca", as_ca, true),
	S_("user_ca", user_ca, false),
	S_("as_crl", as_crl, false),
	S_("key_encryption_key", key_encryption_key, false),
	D_("session_lifetime", session_lifetime_ns, "12h"),
	D_("challenge_lifetime", challenge_lifetime_ns, "1m"),
	D_("assertion_lifetime", assertion_lifetime_ns, "5m"),
	/* re-authentication (xcrs's extension for X.1124 8.3) */
	D_("reauth_lifetime", reauth_lifetime_ns, "24h"),
	Y_UINTK("reauth_max_chain", T, reauth_max_chain, 0, 1000, "8", false,
		POLICY_RELOAD_RESTART),
};
#undef S_
#undef D_
#undef T

static int sec_authsrv(struct pctx *c, node_t *n)
{
	return ywalk(c, n, "authsrv", authsrv_fields, Y_N(authsrv_fields),
		     A(c));
}

static int as_id(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "application_servers.id",
			((struct authsrv_as *)o)->id);
}

static int as_release(struct pctx *c, node_t *v, void *o)
{
	return ybool(c, v, "application_servers.release_identity",
		       &((struct authsrv_as *)o)->release_identity);
}

static int as_realms(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_as *as = o;
	node_t **it;
	size_t n;
	int r = yitems(c, v, &it, &n);

	if (r)
		return r;
	if (n > AUTHSRV_REALMS_MAX) {
		r = yerr(c, v, "application_servers.realms: at most %d",
			 AUTHSRV_REALMS_MAX);
		n = 0;
	}
	for (size_t i = 0; !r && i < n; i++)
		r = id_value(c, it[i], "application_servers.realms",
			     as->realms[as->nrealms++]);
	yitems_free(it);
	return r;
}

static int as_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "id", as_id, true },
		{ "release_identity", as_release, false },
		{ "realms", as_realms, false },
	};
	struct authsrv_config *a = ctx;
	struct authsrv_as *as;
	int r;

	if (a->n_as >= AUTHSRV_AS_MAX)
		return yerr(c, it, "application_servers: at most %d",
			    AUTHSRV_AS_MAX);
	as = &a->as[a->n_as++];
	r = ywalk(c, it, "application_servers", f, sizeof(f) / sizeof(f[0]),
		 as);
	if (r)
		return r;
	if (!as->nrealms)
		strcpy(as->realms[as->nrealms++], a->domain);
	return yunique_name(c, it, "application server", a->as, sizeof(a->as[0]),
			   a->n_as);
}

static int sec_as(struct pctx *c, node_t *n)
{
	return yeach(c, n, "application_servers", as_one, A(c));
}

static int pe_realm(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "peers.realm", ((struct authsrv_peer *)o)->realm);
}

static int pe_addr(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_peer *p = o;

	return hostport(c, v, "peers.address", p->address, sizeof(p->address));
}

static int pe_ca(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_peer *p = o;

	return ystr_copy(c, v, "peers.ca", p->ca, sizeof(p->ca));
}

static int peer_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "realm", pe_realm, true },
		{ "address", pe_addr, true },
		{ "ca", pe_ca, true },
	};
	struct authsrv_config *a = ctx;
	int r;

	if (a->n_peers >= AUTHSRV_PEERS_MAX)
		return yerr(c, it, "peers: at most %d", AUTHSRV_PEERS_MAX);
	r = ywalk(c, it, "peers", f, sizeof(f) / sizeof(f[0]),
		 &a->peers[a->n_peers++]);
	if (r)
		return r;
	if (!strcmp(a->peers[a->n_peers - 1].realm, a->domain))
		return yerr(c, it, "peers: realm %s is this server's own domain",
			    a->domain);
	return yunique_name(c, it, "peer realm", a->peers, sizeof(a->peers[0]),
			   a->n_peers);
}

static int sec_peers(struct pctx *c, node_t *n)
{
	return yeach(c, n, "peers", peer_one, A(c));
}

static int load_authsrv_doc(struct pctx *c)
{
	node_t *root = yaml_document_get_root_node(&c->doc);
	node_t *sec[4] = { NULL };
	static const char *const names[4] = { "version", "authsrv",
					      "application_servers", "peers" };
	static int (*const fn[4])(struct pctx *, node_t *) = {
		NULL, sec_authsrv, sec_as, sec_peers
	};
	unsigned long long ver;
	int r;

	if (!root)
		return yerr(c, NULL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return yerr(c, root, "expected a mapping of sections at the top, "
				     "found %s", ykind(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		node_t *k = yget(c, p->key);
		const char *ks = NULL;
		int i;

		r = ystr(c, k, "top level", &ks);
		if (r)
			return r;
		for (i = 0; i < 4 && strcmp(names[i], ks); i++)
			;
		if (i == 4)
			return yerr(c, k, "unknown section '%s' (expected "
					  "version, authsrv, "
					  "application_servers, peers)", ks);
		if (sec[i])
			return yerr(c, k, "section '%s' given twice", ks);
		sec[i] = yget(c, p->value);
	}
	if (!sec[0])
		return yerr(c, root, "missing 'version: 1'");
	r = yuint(c, sec[0], "version", 1, 1, &ver);
	if (r)
		return r;
	if (!sec[1])
		return yerr(c, root, "missing section 'authsrv'");
	for (int i = 1; i < 4; i++)
		if (sec[i] && (r = fn[i](c, sec[i])))
			return r;
	return 0;
}

int authsrv_config_load_string(const char *text, size_t len,
			       const char *fname, struct authsrv_config **ret,
			       struct policy_error *err)
{
	struct pctx c = { .err = err };
	struct authsrv_config *a;
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", fname);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	c.model = a;
	snprintf(a->file, sizeof(a->file), "%s", fname);
	ydefaults(authsrv_fields, Y_N(authsrv_fields), a);
	r = yload_text(text, len, fname, &c, load_authsrv_doc);
	if (r) {
		free(a);
		return r;
	}
	*ret = a;
	return 0;
}

int authsrv_config_load(const char *path, struct authsrv_config **ret,
			struct policy_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = yread_file(path, &buf, &len, err);

	if (r)
		return r;
	r = authsrv_config_load_string(buf ? buf : "", len, path, ret, err);
	free(buf);
	return r;
}

void authsrv_config_free(struct authsrv_config *c)
{
	free(c);
}

const struct authsrv_as *authsrv_config_as(const struct authsrv_config *c,
					   const char *id)
{
	for (size_t i = 0; i < c->n_as; i++)
		if (!strcmp(c->as[i].id, id))
			return &c->as[i];
	return NULL;
}
