"""A kind's manifest (playbooks/<kind>/vars/kind.yml) rendered as the playbooks see it: loaded
and templated by Ansible itself, with the role knobs it refers to at their role defaults."""

from __future__ import annotations

from pathlib import Path

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = Path(__file__).resolve().parents[2]

# the role defaults the manifests refer to (the roles' defaults/main.yml)
KNOBS = {
    "compute_bastion_instance_type": "t3.micro",
    "compute_web_instance_type": "t3.small",
    "compute_web_count": 2,
    "security_groups_alb_ingress_cidrs": ["0.0.0.0/0"],
    "security_groups_alb_ingress_ipv6_cidrs": ["::/0"],
    "security_groups_web_app_port": 80,
    "security_groups_db_port": 3306,
    "loadbalancer_target_port": 80,
    "loadbalancer_health_check_path": "/up",
}


def render_manifest(kind: str, key: str, **variables):
    """The manifest's `key`, templated with the manifest, KNOBS and `variables` (e.g. -e values)."""
    loader = DataLoader()
    data = loader.load_from_file(str(ROOT / "playbooks" / kind / "vars" / "kind.yml"), trusted_as_template=True)
    templar = Templar(loader=loader, variables={**data, **KNOBS, **variables})
    return templar.template(data[key])
