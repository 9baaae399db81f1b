#!/usr/bin/env python3
"""Look at (and poke) the EC2 state of moto for the AWS end-to-end tests.

Uses boto3 against AWS_ENDPOINT_URL (moto), with the test's credentials.

  awstool.py instances            JSON list of every instance: id, state, type,
                                  zone, lifecycle, tags, client_token
  awstool.py userdata ID          the instance's UserData, decoded
  awstool.py attr ID NAME         DescribeInstanceAttribute NAME (value)
  awstool.py volumes ID           root volume mappings: device, delete_on_termination
  awstool.py terminate ID         TerminateInstances (what a power-off does)
  awstool.py orphan HOME TOKEN    a tagged instance no job owns (for gc)
  awstool.py image                id of the image the tests launch
"""
import base64
import json
import os
import sys

import boto3


def ec2():
    return boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def instances():
    out = []
    for page in ec2().get_paginator("describe_instances").paginate():
        for res in page["Reservations"]:
            for i in res["Instances"]:
                out.append({
                    "id": i["InstanceId"],
                    "state": i["State"]["Name"],
                    "type": i["InstanceType"],
                    "zone": i["Placement"]["AvailabilityZone"],
                    "lifecycle": i.get("InstanceLifecycle", ""),
                    "client_token": i.get("ClientToken", ""),
                    "image": i.get("ImageId", ""),
                    "profile": i.get("IamInstanceProfile", {}).get("Arn", ""),
                    "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])},
                })
    print(json.dumps(out))


def main(argv):
    cmd = argv[1]
    if cmd == "instances":
        instances()
    elif cmd == "userdata":
        r = ec2().describe_instance_attribute(InstanceId=argv[2], Attribute="userData")
        sys.stdout.write(base64.b64decode(r["UserData"]["Value"]).decode())
    elif cmd == "attr":
        r = ec2().describe_instance_attribute(InstanceId=argv[2], Attribute=argv[3])
        key = argv[3][0].upper() + argv[3][1:]
        print(r[key]["Value"])
    elif cmd == "volumes":
        r = ec2().describe_instances(InstanceIds=[argv[2]])
        i = r["Reservations"][0]["Instances"][0]
        for m in i.get("BlockDeviceMappings", []):
            print(m["DeviceName"], m["Ebs"]["DeleteOnTermination"])
    elif cmd == "terminate":
        ec2().terminate_instances(InstanceIds=[argv[2]])
    elif cmd == "orphan":
        image = ec2().describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        r = ec2().run_instances(
            ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "frugal-home", "Value": argv[2]},
                {"Key": "frugal-token", "Value": argv[3]},
                {"Key": "frugal-job", "Value": argv[3].rsplit("-", 1)[0]},
            ]}])
        print(r["Instances"][0]["InstanceId"])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
