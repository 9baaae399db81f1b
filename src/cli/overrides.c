/*
 * overrides: `frugal launch` options that replace what the task file asks
 * for (--gpus, --cpus, --memory, --spot/--on-demand, --infra, --cloud,
 * --region, --zone, --max-price), the way `sky launch` takes them.
 */
#include "cli/cli.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "8", "8+" into *ret and *at_least; -1 when it is not such a number. */
static int parse_amount(const char *s, const char *unit, double *ret, int *at_least)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v > 0))
		return -1;
	if (unit && !strncasecmp(end, unit, strlen(unit)))
		end += strlen(unit);
	*at_least = *end == '+';
	if (*at_least)
		end++;
	if (*end)
		return -1;
	*ret = v;
	return 0;
}

/* "A100", "A100:8": one accelerator, SkyPilot's spelling. */
static int parse_gpus(const char *s, struct resources *r)
{
	const char *colon = strrchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	long n = 1;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return -1;
	if (colon) {
		char *end;
		n = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || n < 1 || n > 1024)
			return -1;
	}
	for (i = 0; i < r->n_accels; i++)
		free(r->accels[i].name);
	free(r->accels);
	r->accels = xcalloc(1, sizeof(*r->accels));
	r->accels[0].name = xstrndup(s, len);
	r->accels[0].count = (int)n;
	r->n_accels = 1;
	r->accel_mode = ACCEL_ONE;
	return 0;
}

static void replace(char **dst, const char *v)
{
	free(*dst);
	*dst = v && *v ? xstrdup(v) : NULL;
}

int cli_apply_overrides(struct task *t, const struct launch_overrides *o)
{
	struct resources *r = &t->res;

	if (o->gpus) {
		if (!strcasecmp(o->gpus, "none") || !strcmp(o->gpus, "0")) {
			size_t i;
			for (i = 0; i < r->n_accels; i++)
				free(r->accels[i].name);
			free(r->accels);
			r->accels = NULL;
			r->n_accels = 0;
			r->accel_mode = ACCEL_NONE;
		} else if (parse_gpus(o->gpus, r) < 0) {
			cli_error("--gpus wants NAME or NAME:COUNT (A100:8, H100), got '%s'", o->gpus);
			return -1;
		}
	}
	if (o->cpus && parse_amount(o->cpus, NULL, &r->cpus, &r->cpus_at_least) < 0) {
		cli_error("--cpus wants a number, or a minimum such as 8+, got '%s'", o->cpus);
		return -1;
	}
	if (o->memory && parse_amount(o->memory, "GB", &r->memory, &r->memory_at_least) < 0) {
		cli_error("--memory wants GiB as a number, or a minimum such as 32+, got '%s'",
			  o->memory);
		return -1;
	}
	if (o->spot >= 0)
		r->spot = o->spot ? SPOT_SPOT : SPOT_ON_DEMAND;
	if (o->infra) {
		/* CLOUD[/REGION[/ZONE]]; '*' is "any". */
		char *copy = xstrdup(o->infra), *region = strchr(copy, '/'), *zone = NULL;
		if (region) {
			*region++ = '\0';
			zone = strchr(region, '/');
			if (zone)
				*zone++ = '\0';
		}
		if (!*copy || (zone && strchr(zone, '/'))) {
			cli_error("--infra wants CLOUD, CLOUD/REGION or CLOUD/REGION/ZONE, got '%s'",
				  o->infra);
			free(copy);
			return -1;
		}
		replace(&r->cloud, strcmp(copy, "*") ? copy : NULL);
		replace(&r->region, region && strcmp(region, "*") ? region : NULL);
		replace(&r->zone, zone && strcmp(zone, "*") ? zone : NULL);
		free(copy);
	}
	if (o->cloud) {
		replace(&r->cloud, o->cloud);
		free(t->backend);
		t->backend = NULL;
	}
	if (o->region)
		replace(&r->region, o->region);
	if (o->zone)
		replace(&r->zone, o->zone);
	if (o->max_price) {
		char *end;
		double v = strtod(o->max_price, &end);
		if (end == o->max_price || *end || !(v > 0)) {
			cli_error("--max-price wants USD per hour, got '%s'", o->max_price);
			return -1;
		}
		r->max_price = v;
	}
	return 0;
}
