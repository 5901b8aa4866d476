// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state file: every decision the agent holds, so that a restarted agent
 * (also after kill -9) neither forgets nor fails open.
 *
 * {"version": 1, "saved": "...", "reactions": [{"terminal", "rule",
 *  "level", "until_ms" (Unix ms, 0 = until released), "release_on_clean",
 *  "why"}], "scopes": [{"scope", "rule", "mode", "until_ms"}]}
 * Written to a temporary file, fsync'd and renamed over the old one, so a
 * crash leaves the old state or the new, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abinames.h"
#include "addr.h"
#include "clock.h"
#include "decide-internal.h"
#include "log.h"

struct save_ctx {
	const struct decide *d;
	json_object *arr;
};

static void save_reaction(void *ctx, const struct corr_saved *s)
{
	struct save_ctx *sc = ctx;
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(&s->terminal, buf, sizeof(buf));
	json_object_object_add(o, "terminal", json_object_new_string(buf));
	json_object_object_add(o, "rule", json_object_new_string(s->rule));
	json_object_object_add(
		o, "level",
		json_object_new_string(sc->d->p->levels[s->level].name));
	json_object_object_add(
		o, "until_ms",
		json_object_new_int64(
			s->until_ns ? (int64_t)mono_to_real_ms(s->until_ns) : 0));
	json_object_object_add(o, "release_on_clean",
			       json_object_new_boolean(s->release_on_clean));
	json_object_object_add(o, "why", json_object_new_string(s->why));
	json_object_array_add(sc->arr, o);
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int decide_save(struct decide *d)
{
	const char *path = d->p->agent.state_file;
	json_object *root = json_object_new_object(), *scopes;
	struct save_ctx sc = {d, json_object_new_array()};
	char tmp[300], ts[40], *dir, dbuf[256];
	const char *text;
	int fd, r = 0;

	fmt_time_ms(now_real_ms(), ts, sizeof(ts));
	json_object_object_add(root, "version",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "saved", json_object_new_string(ts));
	corr_each_reaction(d->corr, save_reaction, &sc);
	json_object_object_add(root, "reactions", sc.arr);
	scopes = json_object_new_array();
	for (size_t i = 0; i < d->p->nscopes; i++) {
		uint64_t until;
		const char *rule;
		json_object *o;

		if (corr_scope_state(d->corr, (int)i, &until, &rule) != 1)
			continue;
		o = json_object_new_object();
		json_object_object_add(
			o, "scope",
			json_object_new_string(d->p->scopes[i].name));
		json_object_object_add(o, "rule", json_object_new_string(rule));
		json_object_object_add(
			o, "mode",
			json_object_new_string(abi_contain_name(
				decide_scope_mode(d, (int)i))));
		json_object_object_add(
			o, "until_ms",
			json_object_new_int64(
				until ? (int64_t)mono_to_real_ms(until) : 0));
		json_object_array_add(scopes, o);
	}
	json_object_object_add(root, "scopes", scopes);
	json_object_object_add(root, "prefixes", decide_prefixes_json(d, true));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
	} else {
		r = write_all(fd, text, strlen(text));
		if (!r)
			r = write_all(fd, "\n", 1);
		if (!r && fsync(fd))
			r = -errno;
		close(fd);
		if (!r && rename(tmp, path))
			r = -errno;
	}
	json_object_put(root);
	if (r) {
		log_error("state file %s: %s (decisions stay in force)", path,
			  strerror(-r));
		unlink(tmp);
		return r;
	}
	snprintf(dbuf, sizeof(dbuf), "%s", path);
	dir = dirname(dbuf);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	d->dirty = false;
	return 0;
}

static int jget(json_object *o, const char *k, enum json_type t,
		json_object **v)
{
	return json_object_object_get_ex(o, k, v) && json_object_is_type(*v, t) ?
		       0 :
		       -1;
}

/* Restores what the state file holds. A file that cannot be read or
 * understood stops the start: starting without it would fail open. */
int decide_load(struct decide *d, char *err, size_t errlen)
{
	const char *path = d->p->agent.state_file;
	json_object *root, *arr, *v;
	int ver, restored = 0, dropped = 0;

	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	root = json_object_from_file(path);
	if (!root || !json_object_is_type(root, json_type_object) ||
	    jget(root, "version", json_type_int, &v) ||
	    (ver = json_object_get_int(v)) != STATE_VERSION ||
	    jget(root, "reactions", json_type_array, &arr)) {
		snprintf(err, errlen,
			 "state file %s: unreadable or not an xcrs state file "
			 "(version %d); move it away to start without the "
			 "saved decisions", path, STATE_VERSION);
		json_object_put(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *t, *ru,
			    *lv, *un, *roc, *why;
		struct xcrs_addr a;
		int level;
		int64_t until;

		if (jget(o, "terminal", json_type_string, &t) ||
		    jget(o, "rule", json_type_string, &ru) ||
		    jget(o, "level", json_type_string, &lv) ||
		    jget(o, "until_ms", json_type_int, &un) ||
		    jget(o, "release_on_clean", json_type_boolean, &roc) ||
		    jget(o, "why", json_type_string, &why) ||
		    addr_parse(json_object_get_string(t), &a)) {
			snprintf(err, errlen,
				 "state file %s: reaction %zu is malformed",
				 path, i);
			json_object_put(root);
			return -EINVAL;
		}
		level = policy_level_index(d->p,
					   json_object_get_string(lv));
		if (level < 0) {
			log_warn("state file: level \"%s\" of %s is not in "
				 "the policy any more: reaction dropped",
				 json_object_get_string(lv),
				 json_object_get_string(t));
			dropped++;
			continue;
		}
		until = json_object_get_int64(un);
		if (corr_restore(d->corr, &a, json_object_get_string(ru),
				 (unsigned)level,
				 until > 0 ? real_ms_to_mono((uint64_t)until) :
					     0,
				 json_object_get_boolean(roc),
				 json_object_get_string(why))) {
			snprintf(err, errlen, "state file %s: out of memory",
				 path);
			json_object_put(root);
			return -ENOMEM;
		}
		restored++;
	}
	if (!jget(root, "scopes", json_type_array, &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *sn,
				    *ru, *un, *md;
			int s;
			int64_t until;

			if (jget(o, "scope", json_type_string, &sn) ||
			    jget(o, "rule", json_type_string, &ru) ||
			    jget(o, "until_ms", json_type_int, &un)) {
				snprintf(err, errlen,
					 "state file %s: scope %zu is "
					 "malformed", path, i);
				json_object_put(root);
				return -EINVAL;
			}
			s = policy_scope_index(d->p,
					       json_object_get_string(sn));
			if (s < 0) {
				log_warn("state file: scope \"%s\" is not in "
					 "the policy any more",
					 json_object_get_string(sn));
				continue;
			}
			if (!jget(o, "mode", json_type_string, &md)) {
				const char *m = json_object_get_string(md);

				d->scope_mode[s] = !strcmp(m, "isolate") ?
							XCRS_CONTAIN_ISOLATE :
						!strcmp(m, "no-lateral") ?
							XCRS_CONTAIN_NO_LATERAL :
							XCRS_CONTAIN_NONE;
			}
			until = json_object_get_int64(un);
			corr_restore_scope(d->corr, s,
					   json_object_get_string(ru),
					   until > 0 ?
						   real_ms_to_mono(
							   (uint64_t)until) :
						   0);
			restored++;
		}
	if (!jget(root, "prefixes", json_type_array, &arr)) {
		int r = pdec_restore(d, arr, err, errlen);

		if (r) {
			char e2[300];

			snprintf(e2, sizeof(e2), "%s", err);
			snprintf(err, errlen, "state file %s: %s", path, e2);
			json_object_put(root);
			return r;
		}
		restored += (int)d->npdecs;
	}
	json_object_put(root);
	log_info("state file %s: %d decisions restored%s", path, restored,
		 dropped ? " (some dropped, see above)" : "");
	return 0;
}
