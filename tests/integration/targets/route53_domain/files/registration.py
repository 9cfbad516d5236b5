"""Test set-up: register (or delete) a domain in the emulator's Route 53 Domains.

route53_domain does not register domains (that is buying one), so the target registers
its domain here, through boto3, as fixture set-up. Usage: registration.py register|delete DOMAIN
Prints {"changed": bool} for changed_when.
"""

import json
import sys

import boto3

CONTACT = {
    "FirstName": "Kumo",
    "LastName": "Webstack",
    "ContactType": "PERSON",
    "Email": "hostmaster@example.com",
    "PhoneNumber": "+81.312345678",
    "AddressLine1": "1-1 Chiyoda",
    "City": "Tokyo",
    "CountryCode": "JP",
    "ZipCode": "100-0001",
}

action, domain = sys.argv[1:3]
client = boto3.client("route53domains", region_name="us-east-1")
held = {d["DomainName"] for d in client.list_domains()["Domains"]}
changed = False
if action == "register" and domain not in held:
    client.register_domain(
        DomainName=domain, DurationInYears=2, AdminContact=CONTACT, RegistrantContact=CONTACT, TechContact=CONTACT
    )
    changed = True
elif action == "delete" and domain in held:
    client.delete_domain(DomainName=domain)
    changed = True
print(json.dumps({"changed": changed}))
