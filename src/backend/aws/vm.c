/*
 * aws_vm: the EC2 notice source and the EC2 way to end the machine (see
 * aws_vm.h).
 */
#include "backend/aws/vm.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "backend/aws/creds.h"
#include "backend/aws/imds.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMDS_TIMEOUT_MS 2000L

struct aws_notice {
	uv_timer_t poll;
	struct notice_source *s;	/* NULL once stopped */
	char *token;
	int fired;
	int rebalance_seen;
};

/* Parse an instance-action document (see aws_vm.h). */
int aws_vm_parse_instance_action(const char *text, size_t len, struct notice *ret)
{
	json_t *o = json_loadb(text, len, 0, NULL), *t;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->source, sizeof(ret->source), "spot/instance-action");
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "action"))) {
		r = FRUGAL_EINVAL;
		goto out;
	}
	t = json_object_get(o, "time");
	if (json_is_string(t) && aws_parse_time(json_string_value(t), &ret->deadline_ms) < 0)
		ret->deadline_ms = 0;
out:
	json_decref(o);
	return r;
}

/* GET one metadata item; 1 when it exists (body in out), 0 when not
 * (404), negative when the service did not answer. */
static int imds_item(struct aws_notice *n, const char *path, struct strbuf *out)
{
	long status = 0;
	int tries, r;

	for (tries = 0; tries < 2; tries++) {
		if (!n->token && imds_token(IMDS_TIMEOUT_MS, &n->token, NULL) < 0)
			return FRUGAL_ENET;
		strbuf_reset(out);
		if ((r = imds_get(n->token, path, IMDS_TIMEOUT_MS, out, &status, NULL)) < 0)
			return r;
		if (status != 401)
			return status == 200;
		/* The token expired: a new one. */
		free(n->token);
		n->token = NULL;
	}
	return 0;
}

static void on_aws_poll(uv_timer_t *t)
{
	struct aws_notice *n = t->data;
	struct strbuf body = STRBUF_INIT;
	struct notice nt;

	if (n->fired || !n->s)
		goto out;
	if (imds_item(n, "meta-data/spot/instance-action", &body) == 1) {
		if (aws_vm_parse_instance_action(body.buf, body.len, &nt) < 0) {
			/* Not the documented form: still EC2 taking the machine. */
			memset(&nt, 0, sizeof(nt));
			snprintf(nt.source, sizeof(nt.source), "spot/instance-action");
		}
		n->fired = 1;
		uv_timer_stop(&n->poll);
		n->s->fn(n->s->arg, &nt);
		goto out;
	}
	if (!n->rebalance_seen &&
	    imds_item(n, "meta-data/events/recommendations/rebalance", &body) == 1) {
		n->rebalance_seen = 1;
		log_warn("EC2 rebalance recommendation (%.*s): a spot interruption notice may "
			 "follow", (int)(body.len > 200 ? 200 : body.len), body.buf);
	}
out:
	strbuf_release(&body);
}

static int aws_notice_start(struct notice_source *s, struct error *err)
{
	struct aws_notice *n = xcalloc(1, sizeof(*n));

	n->s = s;
	uv_timer_init(s->loop, &n->poll);
	n->poll.data = n;
	s->priv = n;
	/* The first look at once: a notice may be waiting already. */
	uv_timer_start(&n->poll, on_aws_poll, 0, AWS_NOTICE_POLL_MS);
	return 0;
}

static void on_aws_closed(uv_handle_t *h)
{
	struct aws_notice *n = h->data;

	secure_free(n->token);
	free(n);
}

static void aws_notice_stop(struct notice_source *s)
{
	struct aws_notice *n = s->priv;

	if (!n)
		return;
	n->s = NULL;
	s->priv = NULL;
	uv_close((uv_handle_t *)&n->poll, on_aws_closed);
}

const struct notice_source_ops notice_aws_ops = {
	.name = "aws",
	.start = aws_notice_start,
	.stop = aws_notice_stop,
};

/* shutdown -h now (see aws_vm.h). */
int machine_aws_end(const struct machine_self *self, struct error *err)
{
	const char *argv[] = { "shutdown", "-h", "now", "frugal: the job is over", NULL };
	struct proc pr = PROC_INIT;
	int status = 0, r;

	(void)self;
	if (chdir("/") < 0)
		return error_errno(err, "cannot leave the instance directory");
	pr.argv = argv;
	if ((r = proc_run(&pr, &status, err)) < 0)
		return r;
	if (status != 0)
		return error_set(err, FRUGAL_EIO, "shutdown -h now failed (status %d); the boot "
				 "script powers the machine off when the agent exits", status);
	return 0;
}
