#include "spec/sweep.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_MAX_TRIALS 10000

void trial_list_release(struct trial_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		kvlist_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

double sweep_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;	/* 2^53 */
}

static char *fmt_number(double v)
{
	return xasprintf("%.6g", v);
}

/* One value drawn from a range "fn(a,b)" (already checked by the parser). */
static char *draw_range(const char *range, uint64_t *state)
{
	char fn[16] = "";
	double a = 0, b = 0, u = sweep_random(state);

	if (sscanf(range, "%15[a-z](%lf,%lf)", fn, &a, &b) != 3)
		return xstrdup(range);
	if (!strcmp(fn, "int")) {
		long long lo = llround(a), hi = llround(b);
		long long v = lo + (long long)floor(u * (double)(hi - lo + 1));
		if (v > hi)
			v = hi;
		return xasprintf("%lld", v);
	}
	if (!strcmp(fn, "loguniform"))
		return fmt_number(exp(log(a) + u * (log(b) - log(a))));
	return fmt_number(a + u * (b - a));
}

static void expand_grid(const struct sweep_spec *s, size_t depth, struct kvlist *cur,
			struct trial_list *out)
{
	size_t i, k;

	if (depth == s->n_params) {
		struct kvlist copy = { 0 };
		for (k = 0; k < cur->n; k++)
			kvlist_set(&copy, cur->items[k].key, cur->items[k].value);
		XGROW(out->items, out->n + 1, out->alloc);
		out->items[out->n++] = copy;
		return;
	}
	for (i = 0; i < s->params[depth].n_values; i++) {
		kvlist_set(cur, s->params[depth].name, s->params[depth].values[i]);
		expand_grid(s, depth + 1, cur, out);
	}
}

int sweep_expand(const struct sweep_spec *s, int64_t seed, struct trial_list *ret,
		 struct error *err)
{
	struct trial_list out = { 0 };
	size_t i, p;

	if (!s->n_params)
		return error_set(err, FRUGAL_EINVAL, "the sweep has no parameters");
	if (s->method == SWEEP_RANDOM) {
		uint64_t state = (uint64_t)seed;

		if (s->trials < 1 || s->trials > SWEEP_MAX_TRIALS)
			return error_set(err, FRUGAL_EINVAL, "a random sweep needs 1 to %d trials",
					 SWEEP_MAX_TRIALS);
		for (i = 0; i < (size_t)s->trials; i++) {
			struct kvlist t = { 0 };
			for (p = 0; p < s->n_params; p++) {
				const struct sweep_param *sp = &s->params[p];
				char *v;
				if (sp->range) {
					v = draw_range(sp->range, &state);
				} else {
					size_t k = (size_t)floor(sweep_random(&state) *
								 (double)sp->n_values);
					v = xstrdup(sp->values[k < sp->n_values ? k : 0]);
				}
				kvlist_set(&t, sp->name, v);
				free(v);
			}
			XGROW(out.items, out.n + 1, out.alloc);
			out.items[out.n++] = t;
		}
	} else {
		struct kvlist cur = { 0 };
		double total = 1;

		for (p = 0; p < s->n_params; p++) {
			if (s->params[p].range)
				return error_set(err, FRUGAL_EINVAL, "parameter '%s' is a range, which"
						 " needs --method random", s->params[p].name);
			total *= (double)s->params[p].n_values;
		}
		if (total > SWEEP_MAX_TRIALS)
			return error_set(err, FRUGAL_EINVAL, "the grid has %.0f combinations, more"
					 " than %d; use --method random", total, SWEEP_MAX_TRIALS);
		expand_grid(s, 0, &cur, &out);
		kvlist_release(&cur);
	}
	*ret = out;
	return 0;
}

int sweep_add_param(struct sweep_spec *s, const char *arg, struct error *err)
{
	const char *eq = strchr(arg, '=');
	struct sweep_param sp = { 0 };
	const char *why = NULL;
	size_t i;

	if (!eq || !env_name_valid(arg, (size_t)(eq - arg)) || !eq[1])
		return error_set(err, FRUGAL_EINVAL, "--param wants NAME=v1,v2,... or"
				 " NAME=uniform(a,b), got '%s'", arg);
	if (env_name_reserved(arg, (size_t)(eq - arg)))
		return error_set(err, FRUGAL_EINVAL, "--param %.*s: " ENV_RESERVED_PREFIX "* names are"
				 " frugal's own variables; pick another name", (int)(eq - arg), arg);
	sp.name = xstrndup(arg, (size_t)(eq - arg));
	if (strchr(eq + 1, '(')) {
		sp.range = task_sweep_range(eq + 1, &why);
		if (!sp.range) {
			int r = error_set(err, FRUGAL_EINVAL, "--param %s: %s", sp.name, why);
			free(sp.name);
			return r;
		}
	} else {
		const char *v = eq + 1;
		while (*v) {
			const char *c = strchr(v, ',');
			size_t len = c ? (size_t)(c - v) : strlen(v);
			if (!len) {
				free(sp.name);
				for (i = 0; i < sp.n_values; i++)
					free(sp.values[i]);
				free(sp.values);
				return error_set(err, FRUGAL_EINVAL, "--param %.*s has an empty value",
						 (int)(eq - arg), arg);
			}
			sp.values = xrealloc(sp.values, (sp.n_values + 1) * sizeof(char *));
			sp.values[sp.n_values++] = xstrndup(v, len);
			v += len + (c ? 1 : 0);
		}
	}
	for (i = 0; i < s->n_params; i++) {
		if (!strcmp(s->params[i].name, sp.name)) {
			size_t k;
			free(s->params[i].name);
			for (k = 0; k < s->params[i].n_values; k++)
				free(s->params[i].values[k]);
			free(s->params[i].values);
			free(s->params[i].range);
			s->params[i] = sp;
			return 0;
		}
	}
	s->params = xrealloc(s->params, (s->n_params + 1) * sizeof(*s->params));
	s->params[s->n_params++] = sp;
	return 0;
}
