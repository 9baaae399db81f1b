/*
 * volume: what frugal does with the volumes of `volumes:` outside a job.
 *
 *   frugal volume copy SOURCE --to REGION
 *
 * A copy of a regional volume source (an EBS snapshot: ebs://snap-ID, or
 * just snap-ID) in REGION, so that plans may go there (a job's volume is
 * made only where its source or a copy of it is). The backend whose
 * volume kind it is makes the copy (provider.h volume_copy); a copy that
 * exists already is printed, not made again.
 */
#include "cli/cli.h"
#include "backend/registry.h"
#include "base/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backend that copies sources of kind (NULL: any that copies), and
 * its kind in *ret_kind. */
static const struct backend *copier(const char *kind, const char **ret_kind)
{
	size_t i, k;

	for (i = 0; registry_at(i); i++) {
		const struct backend *b = registry_at(i);

		if (!b->provider || !b->provider->volume_copy || !b->volume_kinds)
			continue;
		for (k = 0; b->volume_kinds[k].kind; k++)
			if (b->volume_kinds[k].made &&
			    (!kind || !strcmp(kind, b->volume_kinds[k].kind))) {
				*ret_kind = b->volume_kinds[k].kind;
				return b;
			}
	}
	return NULL;
}

static int volume_copy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct provider *p = NULL;
	const struct backend *b;
	const char *to = NULL, *src, *sep, *kind = NULL;
	char *scheme = NULL, *id = NULL;
	int opt, made = 0, r = 1;
	struct cli c;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 't')
			to = optarg;
		else
			return 2;
	}
	if (optind != argc - 1 || !to || !*to) {
		cli_error("usage: frugal volume copy SOURCE --to REGION (SOURCE: ebs://snap-ID "
			  "or snap-ID)");
		return 2;
	}
	src = argv[optind];
	if ((sep = strstr(src, "://"))) {
		scheme = xstrndup(src, (size_t)(sep - src));
		src = sep + 3;
	}
	if (!(b = copier(scheme, &kind))) {
		cli_error("no backend copies volumes%s%s%s: only regional kinds that frugal "
			  "makes a volume of per machine can be copied", scheme ? " of kind '" : "",
			  scheme ? scheme : "", scheme ? "'" : "");
		free(scheme);
		return 2;
	}
	free(scheme);
	if (!*src || strchr(src, '/')) {
		cli_error("'%s' names no volume source: give %s://ID", argv[optind], kind);
		return 2;
	}
	if (cli_open(&c) < 0)
		return 1;
	if (provider_open(b->name, &c.cfg, c.home.dir, &p, &err) < 0 ||
	    p->ops->volume_copy(p, src, to, &id, &made, &err) < 0) {
		cli_error("cannot copy %s://%s to %s: %s", kind, src, to, error_msg(&err));
		goto out;
	}
	printf("%s\n", id);
	fprintf(stderr, made ? "%s://%s: copy %s being made in %s; jobs may plan there now\n"
			     : "%s://%s: %s is already in %s; nothing copied\n",
		kind, src, id, to);
	r = 0;
out:
	free(id);
	provider_free(p);
	cli_close(&c);
	return r;
}

int cmd_volume(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "copy")) {
		cli_error("usage: frugal volume copy SOURCE --to REGION");
		return 2;
	}
	return volume_copy(argc - 1, argv + 1);
}
