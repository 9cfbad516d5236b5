"""RDS (MySQL): parameter groups and their parameters, engine versions, gp3 storage, subnet groups."""

from __future__ import annotations

import copy
import re

from moto.core.responses import ActionResult
from moto.rds.exceptions import DBParameterGroupNotFoundError
from moto.rds.models import DBInstance, RDSBackend
from moto.rds.responses import RDSResponse

from emulator_fixes import Patch, fix

# RDS completes a major version given alone ("8.4") with its current default minor version.
# Which one that is changes as RDS adds releases; these are versions RDS has offered.
MYSQL_DEFAULT_MINOR = {"5.7": "5.7.44", "8.0": "8.0.42", "8.4": "8.4.5"}

# DescribeDBParameters on a new MySQL parameter group lists every parameter of the family
# with its metadata (about 500 of them); "engine-default" entries carry no value when RDS
# leaves the value to MySQL. The emulator knows the parameters below: the ones this
# collection sets and the ones most often tuned. (name, data type, allowed values, apply type)
MYSQL_PARAMETERS = [
    ("binlog_format", "string", "ROW,STATEMENT,MIXED", "dynamic"),
    ("character_set_client", "string", "big5,latin1,ascii,ujis,sjis,euckr,gbk,utf8,utf8mb4,cp932,eucjpms", "dynamic"),
    (
        "character_set_connection",
        "string",
        "big5,latin1,ascii,ujis,sjis,euckr,gbk,utf8,utf8mb4,cp932,eucjpms",
        "dynamic",
    ),
    ("character_set_database", "string", "big5,latin1,ascii,ujis,sjis,euckr,gbk,utf8,utf8mb4,cp932,eucjpms", "dynamic"),
    ("character_set_results", "string", "big5,latin1,ascii,ujis,sjis,euckr,gbk,utf8,utf8mb4,cp932,eucjpms", "dynamic"),
    ("character_set_server", "string", "big5,latin1,ascii,ujis,sjis,euckr,gbk,utf8,utf8mb4,cp932,eucjpms", "dynamic"),
    ("collation_connection", "string", None, "dynamic"),
    ("collation_server", "string", None, "dynamic"),
    ("general_log", "boolean", "0,1", "dynamic"),
    ("innodb_lock_wait_timeout", "integer", "1-1073741824", "dynamic"),
    ("innodb_print_all_deadlocks", "boolean", "0,1", "dynamic"),
    ("log_output", "string", "TABLE,FILE,NONE", "dynamic"),
    ("long_query_time", "float", "0-31536000", "dynamic"),
    ("lower_case_table_names", "integer", "0,1", "static"),
    ("max_allowed_packet", "integer", "1024-1073741824", "dynamic"),
    ("max_connections", "integer", "1-100000", "dynamic"),
    ("performance_schema", "boolean", "0,1", "static"),
    ("require_secure_transport", "boolean", "0,1", "dynamic"),
    ("slow_query_log", "boolean", "0,1", "dynamic"),
    ("sql_mode", "list", None, "dynamic"),
    ("time_zone", "string", None, "dynamic"),
    ("tls_version", "string", "TLSv1.2,TLSv1.3", "static"),
    ("wait_timeout", "integer", "1-31536000", "dynamic"),
]


def _engine_defaults(family: str | None) -> dict[str, dict]:
    if not family or not re.fullmatch(r"mysql\d+\.\d+", family):
        return {}
    defaults = {}
    for name, data_type, allowed, apply_type in MYSQL_PARAMETERS:
        parameter = {
            "ParameterName": name,
            "Description": name.replace("_", " "),
            "Source": "engine-default",
            "ApplyType": apply_type,
            "DataType": data_type,
            "IsModifiable": True,
            "ApplyMethod": "pending-reboot",
        }
        if allowed:
            parameter["AllowedValues"] = allowed
        defaults[name] = parameter
    return defaults


@fix
def describe_missing_parameter_group(patch: Patch) -> None:
    """DescribeDBParameterGroups with a DBParameterGroupName that does not exist: AWS fails with
    DBParameterGroupNotFound; moto answers an empty list, so amazon.aws.rds_instance_param_group
    (which creates the group on that error) takes the group for existing and fails with "list
    index out of range" instead of creating it."""
    original_describe_groups = RDSBackend.describe_db_parameter_groups

    def describe_db_parameter_groups(self, db_parameter_group_kwargs):
        groups = original_describe_groups(self, db_parameter_group_kwargs)
        name = db_parameter_group_kwargs.get("db_parameter_group_name")
        if name and not groups:
            raise DBParameterGroupNotFoundError(name)
        return groups

    patch.setattr(RDSBackend, "describe_db_parameter_groups", describe_db_parameter_groups)


@fix
def describe_parameters_lists_family(patch: Patch) -> None:
    """DescribeDBParameters: AWS lists every parameter of the group's family, engine defaults
    included, each with its data type, allowed values and whether it may be modified (and Source
    "user" once set); moto lists only the parameters set so far, bare. A module that checks a
    name against that list before setting it (rds_instance_param_group) finds none, reports every
    parameter as "not an available parameter" and sets nothing."""

    def describe_db_parameters(self):
        name = self.params.get("DBParameterGroupName")
        (group,) = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
        parameters = _engine_defaults(group.family)
        for parameter_name, stored in group.parameters.items():
            merged = copy.deepcopy(parameters.get(parameter_name, {"ParameterName": parameter_name}))
            merged.update(stored)
            merged["Source"] = "user"
            parameters[parameter_name] = merged
        source = self.params.get("Source")
        listed = [p for p in parameters.values() if not source or p.get("Source") == source]
        return ActionResult({"Parameters": sorted(listed, key=lambda p: p["ParameterName"])})

    patch.setattr(RDSResponse, "describe_db_parameters", describe_db_parameters)


@fix
def mysql_major_version_completed(patch: Patch) -> None:
    """CreateDBInstance with a MySQL major version alone (EngineVersion "8.4"): AWS creates the
    instance with that major's default minor version and reports it ("8.4.5"); moto keeps and
    reports "8.4", which no real instance ever shows, so the comparison a playbook must make
    between a major version and the running full version is never exercised."""
    original_create = RDSBackend.create_db_instance

    def create_db_instance(self, db_kwargs):
        engine = (db_kwargs.get("engine") or "").lower()
        version = db_kwargs.get("engine_version")
        if engine == "mysql" and version in MYSQL_DEFAULT_MINOR:
            db_kwargs["engine_version"] = MYSQL_DEFAULT_MINOR[version]
        return original_create(self, db_kwargs)

    patch.setattr(RDSBackend, "create_db_instance", create_db_instance)


@fix
def gp3_baseline_performance(patch: Patch) -> None:
    """DescribeDBInstances of a gp3 instance created without Iops or StorageThroughput: AWS
    reports the gp3 baseline it provisions (for MySQL 3000 IOPS and 125 MiB/s below 400 GiB,
    12000 IOPS and 500 MiB/s from 400 GiB); moto reports neither field, and
    amazon.aws.rds_instance, which reads both of a gp3 instance, fails on every run after the
    first with KeyError 'StorageThroughput'."""

    def gp3_baseline(self):
        if getattr(self, "_storage_type", None) != "gp3":
            return None
        return (12000, 500) if (self.allocated_storage or 0) >= 400 else (3000, 125)

    original_throughput = DBInstance.storage_throughput

    def get_iops(self):
        value = self.__dict__.get("_webstack_iops")
        if value is None and gp3_baseline(self):
            return gp3_baseline(self)[0]
        return value

    def set_iops(self, value):
        self.__dict__["_webstack_iops"] = value

    def get_throughput(self):
        value = original_throughput.fget(self)
        if value is None and gp3_baseline(self):
            return gp3_baseline(self)[1]
        return value

    patch.setattr(DBInstance, "iops", property(get_iops, set_iops))
    patch.setattr(DBInstance, "storage_throughput", property(get_throughput, original_throughput.fset))


@fix
def modify_subnet_group_keeps_it(patch: Patch) -> None:
    """ModifyDBSubnetGroup: AWS changes the group in place; moto takes the group out of its table
    to change it and never puts it back, so the group (still used by its instance) is gone after
    the call and amazon.aws.rds_subnet_group fails reading it back."""
    original_modify_subnet_group = RDSBackend.modify_db_subnet_group

    def modify_db_subnet_group(self, subnet_name, description, subnets):
        subnet_group = original_modify_subnet_group(self, subnet_name, description, subnets)
        self.subnet_groups[subnet_group.name] = subnet_group
        return subnet_group

    patch.setattr(RDSBackend, "modify_db_subnet_group", modify_db_subnet_group)
