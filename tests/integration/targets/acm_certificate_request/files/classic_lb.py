"""Test set-up: create or delete a classic load balancer with an HTTPS listener.

amazon.aws.elb_classic_lb cannot be used against the emulator (moto answers its
DescribeLoadBalancerAttributes on a missing load balancer with a 500), and moto's
ELBv2 listeners do not mark the certificate as used; its classic ELB does.
Usage: classic_lb.py create|delete NAME REGION [CERTIFICATE_ARN]
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

action, name, region = sys.argv[1:4]
elb = boto3.client("elb", region_name=region)
changed = False
if action == "create":
    try:
        elb.describe_load_balancers(LoadBalancerNames=[name])
    except ClientError:
        elb.create_load_balancer(
            LoadBalancerName=name,
            AvailabilityZones=[region + "a"],
            Listeners=[
                {
                    "Protocol": "HTTPS",
                    "LoadBalancerPort": 443,
                    "InstanceProtocol": "HTTP",
                    "InstancePort": 80,
                    "SSLCertificateId": sys.argv[4],
                }
            ],
        )
        changed = True
else:
    try:
        elb.describe_load_balancers(LoadBalancerNames=[name])
        elb.delete_load_balancer(LoadBalancerName=name)
        changed = True
    except ClientError:
        pass
print(json.dumps({"changed": changed}))
