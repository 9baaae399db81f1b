/*
 * sg: a job's security group (see sg.h).
 */
#include "backend/aws/sg.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void error_clear(struct error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

/* The first item's field of a <set> answer, or NULL. Caller frees. */
static char *first_field(const struct http_response *rs, const char *set, const char *field)
{
	struct ec2_items items = { 0 };
	const char *v;
	char *out = NULL;

	if (ec2_parse_items(rs->body.buf, rs->body.len, set, &items, NULL) == 0 && items.n &&
	    (v = kvlist_get(&items.items[0], field)) && *v)
		out = xstrdup(v);
	ec2_items_release(&items);
	return out;
}

int aws_sg_vpc(struct ec2 *e, const char *subnet, char **ret_vpc, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	int r;

	*ret_vpc = NULL;
	if (subnet) {
		kvlist_append(&q, "SubnetId.1", subnet);
		r = ec2_call(e, "DescribeSubnets", &q, &rs, NULL, 0, err);
		if (r == 0)
			*ret_vpc = first_field(&rs, "subnetSet", "vpcId");
	} else {
		kvlist_append(&q, "Filter.1.Name", "isDefault");
		kvlist_append(&q, "Filter.1.Value.1", "true");
		r = ec2_call(e, "DescribeVpcs", &q, &rs, NULL, 0, err);
		if (r == 0)
			*ret_vpc = first_field(&rs, "vpcSet", "vpcId");
	}
	kvlist_release(&q);
	http_response_release(&rs);
	if (r == 0 && !*ret_vpc)
		r = error_set(err, FRUGAL_EINVAL, "ec2 in %s: %s, so no security group can open "
			      "resources.ports; set backends.aws.subnet_id", ec2_region(e),
			      subnet ? "the subnet has no VPC" : "the region has no default VPC");
	return r;
}

int aws_sg_find(struct ec2 *e, const char *name, const char *vpc, char **ret_id,
		struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	int r;

	*ret_id = NULL;
	kvlist_append(&q, "Filter.1.Name", "group-name");
	kvlist_append(&q, "Filter.1.Value.1", name);
	if (vpc) {
		kvlist_append(&q, "Filter.2.Name", "vpc-id");
		kvlist_append(&q, "Filter.2.Value.1", vpc);
	}
	r = ec2_call(e, "DescribeSecurityGroups", &q, &rs, NULL, 0, err);
	if (r == 0)
		*ret_id = first_field(&rs, "securityGroupInfo", "groupId");
	kvlist_release(&q);
	http_response_release(&rs);
	return r;
}

int aws_sg_ensure(struct ec2 *e, const char *name, const char *vpc, const struct kvlist *tags,
		  const struct port_range *ports, size_t n_ports, char **ret_id,
		  struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	char key[64], val[16], code[128] = "", *id = NULL;
	size_t i;
	int r;

	if ((r = aws_sg_find(e, name, vpc, &id, err)) < 0)
		return r;
	if (!id) {
		kvlist_append(&q, "GroupName", name);
		kvlist_append(&q, "GroupDescription", "frugal: resources.ports of one job attempt");
		kvlist_append(&q, "VpcId", vpc);
		kvlist_append(&q, "TagSpecification.1.ResourceType", "security-group");
		for (i = 0; i < tags->n; i++) {
			snprintf(key, sizeof(key), "TagSpecification.1.Tag.%zu.Key", i + 1);
			kvlist_append(&q, key, tags->items[i].key);
			snprintf(key, sizeof(key), "TagSpecification.1.Tag.%zu.Value", i + 1);
			kvlist_append(&q, key, tags->items[i].value);
		}
		r = ec2_call(e, "CreateSecurityGroup", &q, &rs, code, sizeof(code), err);
		kvlist_release(&q);
		if (r < 0 && !strcmp(code, "InvalidGroup.Duplicate"))
			/* Made by a call whose answer was lost. */
			r = aws_sg_find(e, name, vpc, &id, err);
		else if (r == 0) {
			/* CreateSecurityGroupResponse holds groupId at the top. */
			const char *s = rs.body.buf ? strstr(rs.body.buf, "<groupId>") : NULL;
			const char *end = s ? strstr(s, "</groupId>") : NULL;

			if (s && end)
				id = xstrndup(s + 9, (size_t)(end - s - 9));
		}
		http_response_release(&rs);
		if (r < 0)
			return r;
		if (!id)
			return error_set(err, FRUGAL_EPROVIDER, "ec2 CreateSecurityGroup in %s: no "
					 "group id in the answer", ec2_region(e));
	}
	/* Every rule; one already there is fine (idempotent). */
	for (i = 0; i < n_ports; i++) {
		kvlist_append(&q, "GroupId", id);
		kvlist_append(&q, "IpPermissions.1.IpProtocol", "tcp");
		snprintf(val, sizeof(val), "%d", ports[i].from);
		kvlist_append(&q, "IpPermissions.1.FromPort", val);
		snprintf(val, sizeof(val), "%d", ports[i].to);
		kvlist_append(&q, "IpPermissions.1.ToPort", val);
		kvlist_append(&q, "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0");
		kvlist_append(&q, "IpPermissions.1.IpRanges.1.Description", "frugal resources.ports");
		code[0] = '\0';
		r = ec2_call(e, "AuthorizeSecurityGroupIngress", &q, &rs, code, sizeof(code), err);
		kvlist_release(&q);
		http_response_release(&rs);
		if (r < 0 && !strcmp(code, "InvalidPermission.Duplicate")) {
			error_clear(err);
			r = 0;
		}
		if (r < 0) {
			free(id);
			return r;
		}
	}
	*ret_id = id;
	return 0;
}

int aws_sg_delete(struct ec2 *e, const char *name, const char *id, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	char code[128] = "", *found = NULL;
	int r;

	if (!id) {
		if ((r = aws_sg_find(e, name, NULL, &found, err)) < 0)
			return r;
		if (!found)
			return 0;	/* never made, or gone */
		id = found;
	}
	kvlist_append(&q, "GroupId", id);
	r = ec2_call(e, "DeleteSecurityGroup", &q, &rs, code, sizeof(code), err);
	if (r < 0 && !strcmp(code, "InvalidGroup.NotFound")) {
		error_clear(err);
		r = 0;
	} else if (r < 0 && !strcmp(code, "DependencyViolation")) {
		/* The instance still holds it (shutting down): next pass. */
		r = error_set(err, FRUGAL_EBUSY, "security group %s: still in use by the "
			      "instance (shutting down)", id);
	}
	kvlist_release(&q);
	http_response_release(&rs);
	free(found);
	return r;
}

int aws_instance_address(struct ec2 *e, const char *iid, char **ret, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	int r;

	*ret = NULL;
	kvlist_append(&q, "InstanceId.1", iid);
	if ((r = ec2_call(e, "DescribeInstances", &q, &rs, NULL, 0, err)) == 0) {
		*ret = first_field(&rs, "instancesSet", "ipAddress");
		if (!*ret)
			*ret = first_field(&rs, "instancesSet", "privateIpAddress");
	}
	kvlist_release(&q);
	http_response_release(&rs);
	return r;
}
