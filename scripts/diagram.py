#!/usr/bin/env python3
"""Render a stack's diagram (PNG and SVG, AWS icons) from the model playbooks/diagram.yml wrote.

    scripts/diagram.py MODEL.json OUTDIR        # writes OUTDIR/diagram.png and OUTDIR/diagram.svg
    scripts/diagram.py --check - OUTDIR < M     # writes nothing: says whether it would (check mode)

The model (playbooks/templates/diagram-model.json.j2) is what the playbook read from the AWS API:
VPC, subnets by AZ and tier, gateways, endpoints, instances, load balancers with their listeners,
rules and target groups, databases, caches, buckets, CloudFront distributions, ECS services, ...
Each list may be empty; a kind draws what its stack has.

Two steps, so the logic is testable without graphviz: plan(model) is a pure function from the model
to a Plan (nested clusters of nodes, and edges), draw(plan, base) turns a Plan into the `diagrams`
package's calls and renders them with graphviz (`dot`, Debian's graphviz package). Node ids are the
resources' own ids, so the same model gives the same graph.

Idempotent: the SVG carries the sha256 of the model (and of this renderer's version); when both
files exist and the SVG's digest is the model's, nothing is rendered. It prints one line of JSON,
{"changed": bool, "png": ..., "svg": ..., "digest": ...}, which the playbook's changed_when reads.
The SVG is self-contained: graphviz refers to the icons by their path in the installed package,
which is replaced by the icon itself (a data: URI), so the file can be opened anywhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# Bumped whenever a change here changes what is drawn from the same model (so the files are redrawn)
RENDERER_VERSION = "1"
DIGEST_MARK = "kumo.webstack diagram model sha256:"

# Icon keys -> the `diagrams` node classes (module, class name): looked up only by draw()
ICONS: dict[str, tuple[str, str]] = {
    "users": ("diagrams.aws.general", "Users"),
    "route53": ("diagrams.aws.network", "Route53HostedZone"),
    "acm": ("diagrams.aws.security", "CertificateManager"),
    "cloudfront": ("diagrams.aws.network", "CloudFront"),
    "s3": ("diagrams.aws.storage", "SimpleStorageServiceS3Bucket"),
    "vpc": ("diagrams.aws.network", "VPC"),
    "igw": ("diagrams.aws.network", "InternetGateway"),
    "public_subnet": ("diagrams.aws.network", "PublicSubnet"),
    "private_subnet": ("diagrams.aws.network", "PrivateSubnet"),
    "nat": ("diagrams.aws.network", "NATGateway"),
    "endpoint": ("diagrams.aws.network", "Endpoint"),
    "alb": ("diagrams.aws.network", "ElbApplicationLoadBalancer"),
    "ec2": ("diagrams.aws.compute", "EC2"),
    "rds": ("diagrams.aws.database", "RDS"),
    "elasticache": ("diagrams.aws.database", "ElasticacheForRedis"),
    "ecs": ("diagrams.aws.compute", "ElasticContainerServiceService"),
    "fargate": ("diagrams.aws.compute", "Fargate"),
    "ecr": ("diagrams.aws.compute", "EC2ContainerRegistry"),
    "ssm": ("diagrams.aws.management", "SystemsManagerParameterStore"),
    "scheduler": ("diagrams.aws.integration", "EventbridgeScheduler"),
}


@dataclass
class NodeSpec:
    id: str
    icon: str
    label: str


@dataclass
class ClusterSpec:
    label: str
    nodes: list[NodeSpec] = field(default_factory=list)
    clusters: list[ClusterSpec] = field(default_factory=list)


@dataclass
class EdgeSpec:
    src: str
    dst: str
    label: str = ""
    style: str = ""  # "" (solid) or "dashed"


@dataclass
class Plan:
    title: str
    root: ClusterSpec  # the diagram itself: its nodes are drawn outside any cluster
    edges: list[EdgeSpec] = field(default_factory=list)

    def nodes(self) -> list[NodeSpec]:
        out: list[NodeSpec] = []

        def walk(cluster: ClusterSpec) -> None:
            out.extend(cluster.nodes)
            for child in cluster.clusters:
                walk(child)

        walk(self.root)
        return out

    def labels(self) -> list[str]:
        """Every label drawn: clusters', nodes' and edges'."""
        out: list[str] = []

        def walk(cluster: ClusterSpec) -> None:
            out.append(cluster.label)
            out.extend(n.label for n in cluster.nodes)
            for child in cluster.clusters:
                walk(child)

        walk(self.root)
        out.extend(e.label for e in self.edges if e.label)
        return out


def _action(action: dict) -> str:
    """One listener or rule action, in words: 'forward demo-web', 'redirect HTTPS:443 (301)', ..."""
    kind = action.get("type", "")
    if kind == "forward":
        return "forward " + ", ".join(action.get("target_groups") or ["?"])
    if kind == "redirect":
        return f"redirect {action.get('protocol', '')}:{action.get('port', '')} ({action.get('status', '')})".strip()
    if kind == "fixed-response":
        return f"fixed {action.get('status', '')}"
    return kind


def _listener_lines(lb: dict) -> list[str]:
    lines = []
    for listener in sorted(lb.get("listeners", []), key=lambda x: int(x.get("port", 0))):
        lines.append(
            f"{listener.get('protocol', '')}:{listener.get('port', '')} → {_action(listener.get('default', {}))}"
        )
        for rule in sorted(listener.get("rules", []), key=lambda r: int(r.get("priority", 0))):
            lines.append(f"  rule {rule.get('priority')}: {rule.get('when', '')} → {_action(rule.get('action', {}))}")
    return lines


def _subnet_node_id(subnet: dict) -> str:
    return f"{subnet['id']}-label"


def plan(model: dict) -> Plan:
    """The model as clusters, nodes and edges: pure, no graphviz, no `diagrams`."""
    stack = model.get("stack", "")
    kind = model.get("kind", "")
    region = model.get("region", "")
    root = ClusterSpec(label="")
    edges: list[EdgeSpec] = []
    known: set[str] = set()

    def add(cluster: ClusterSpec, node_id: str, icon: str, label: str) -> str:
        cluster.nodes.append(NodeSpec(node_id, icon, label))
        known.add(node_id)
        return node_id

    def edge(src: str, dst: str, label: str = "", style: str = "") -> None:
        if src in known and dst in known:
            edges.append(EdgeSpec(src, dst, label, style))

    users = add(root, "users", "users", "Users")
    domain = model.get("domain") or {}
    zone = cert = ""
    if domain.get("zone"):
        zone = add(root, "zone", "route53", f"Route 53\n{domain['zone']}")
    if domain.get("certificate"):
        cert = add(root, "certificate", "acm", f"ACM\n{domain['certificate']}")

    region_cluster = ClusterSpec(label=f"Region {region}")
    root.clusters.append(region_cluster)

    vpc = model.get("vpc") or {}
    vpc_cluster = region_cluster
    igw = ""
    if vpc:
        vpc_cluster = ClusterSpec(label=f"VPC {vpc.get('name') or vpc['id']}  {vpc.get('cidr', '')}")
        region_cluster.clusters.append(vpc_cluster)
        if model.get("internet_gateway"):
            igw = add(vpc_cluster, model["internet_gateway"], "igw", f"Internet gateway\n{model['internet_gateway']}")
            edge(users, igw)

    # AZ -> tier -> subnet cluster; every subnet gets a node of its own (a cluster with no node is not drawn)
    subnet_cluster: dict[str, ClusterSpec] = {}
    subnet_az: dict[str, str] = {}
    azs = sorted({s.get("az", "") for s in model.get("subnets", [])})
    for az in azs:
        az_cluster = ClusterSpec(label=f"AZ {az}")
        vpc_cluster.clusters.append(az_cluster)
        for tier in ("public", "private"):
            for subnet in sorted(
                (s for s in model["subnets"] if s.get("az") == az and s.get("tier", "private") == tier),
                key=lambda s: s.get("cidr", ""),
            ):
                cluster = ClusterSpec(label=f"{tier} subnet {subnet.get('name') or subnet['id']}")
                az_cluster.clusters.append(cluster)
                add(cluster, _subnet_node_id(subnet), f"{tier}_subnet", f"{subnet.get('cidr', '')}\n{tier} · {az}")
                subnet_cluster[subnet["id"]] = cluster
                subnet_az[subnet["id"]] = az

    def home(subnet_id: str) -> ClusterSpec:
        return subnet_cluster.get(subnet_id, vpc_cluster)

    nats: dict[str, str] = {}
    for nat in sorted(model.get("nat_gateways", []), key=lambda n: n["id"]):
        label = f"NAT gateway\n{nat['id']}" + (f"\n{nat['public_ip']}" if nat.get("public_ip") else "")
        nats[subnet_az.get(nat.get("subnet_id", ""), "")] = add(home(nat.get("subnet_id", "")), nat["id"], "nat", label)
        edge(nat["id"], igw, "egress")

    instances = sorted(model.get("instances", []), key=lambda i: (i.get("role", ""), i.get("name", ""), i["id"]))
    by_role: dict[str, list[str]] = {}
    for inst in instances:
        label = f"{inst.get('name') or inst['id']}\n{inst['id']}\n{inst.get('private_ip', '')}"
        if inst.get("state") and inst["state"] != "running":
            label += f"\n({inst['state']})"
        node = add(home(inst.get("subnet_id", "")), inst["id"], "ec2", label)
        by_role.setdefault(inst.get("role", ""), []).append(node)
        az = subnet_az.get(inst.get("subnet_id", ""), "")
        tier = next((s.get("tier") for s in model.get("subnets", []) if s["id"] == inst.get("subnet_id")), "")
        if tier == "private":
            nat = nats.get(az) or next(iter(nats.values()), "")
            if nat:
                edge(node, nat, style="dashed")
    for bastion in by_role.get("bastion", []):
        edge(users, bastion, "SSH")
        for role, nodes in sorted(by_role.items()):
            if role != "bastion":
                for node in nodes:
                    edge(bastion, node, "SSH", "dashed")

    for endpoint in sorted(model.get("endpoints", []), key=lambda e: e["id"]):
        add(vpc_cluster, endpoint["id"], "endpoint", f"{endpoint.get('service', '')} endpoint\n{endpoint['id']}")

    for lb in sorted(model.get("load_balancers", []), key=lambda x: x["name"]):
        label = "\n".join([f"ALB {lb['name']}", *_listener_lines(lb)])
        node = add(vpc_cluster, f"alb-{lb['name']}", "alb", label)
        edge(zone or users, node, "alias" if zone else "HTTPS")
        if zone:
            edge(users, zone, "DNS")
        edge(cert, node, "certificate", "dashed")
        for tg in sorted(lb.get("target_groups", []), key=lambda t: t["name"]):
            for target in tg.get("targets", []):
                edge(node, target, f"{tg['name']}:{tg.get('port', '')}")

    for db in sorted(model.get("databases", []), key=lambda d: d["id"]):
        label = f"RDS {db['id']}\n{db.get('engine', '')} {db.get('class', '')}\n{db.get('az', '')}"
        if db.get("multi_az"):
            label += " (Multi-AZ)"
        add(vpc_cluster, f"rds-{db['id']}", "rds", label)
        for role in ("web", "chat"):
            for node in by_role.get(role, []):
                edge(node, f"rds-{db['id']}", str(db.get("port", "")))

    for cache in sorted(model.get("caches", []), key=lambda c: c["id"]):
        label = f"ElastiCache {cache['id']}\n{cache.get('engine', '')} · {cache.get('nodes', '')} nodes"
        add(vpc_cluster, f"cache-{cache['id']}", "elasticache", label)
        for node in by_role.get("chat", []) + by_role.get("web", []):
            edge(node, f"cache-{cache['id']}", "pub/sub")

    services = []
    for svc in sorted(model.get("services", []), key=lambda s: s["name"]):
        label = f"ECS {svc['cluster']}/{svc['name']}\n{svc.get('launch', '')}\n{svc.get('desired', 0)} tasks desired"
        services.append(add(vpc_cluster, f"ecs-{svc['name']}", "fargate", label))
    for lb in model.get("load_balancers", []):
        for tg in lb.get("target_groups", []):
            if tg.get("target_type") == "ip":
                for svc in services:
                    edge(f"alb-{lb['name']}", svc, f"{tg['name']}:{tg.get('port', '')}")

    for bucket in sorted(model.get("buckets", []), key=lambda b: b["name"]):
        # a bucket's name is long: it labels a cluster of its own, which is sized to it (a node's box is not)
        box = ClusterSpec(label=f"S3 {bucket['name']}")
        region_cluster.clusters.append(box)
        node = add(box, f"s3-{bucket['name']}", "s3", bucket.get("purpose", "") or "bucket")
        if bucket.get("purpose") == "uploads":
            endpoint = next((e["id"] for e in model.get("endpoints", []) if e.get("service") == "s3"), "")
            for web in by_role.get("web", []):
                edge(web, endpoint or node, "uploads")
            edge(endpoint, node)
        for svc in services:
            edge(svc, node)

    for dist in sorted(model.get("distributions", []), key=lambda d: d["id"]):
        aliases = "\n".join(dist.get("aliases", []))
        node = add(
            root, f"cf-{dist['id']}", "cloudfront", f"CloudFront {dist['id']}\n{dist.get('domain_name', '')}\n{aliases}"
        )
        origin = next(
            (b["name"] for b in model.get("buckets", []) if dist.get("origin", "").startswith(b["name"] + ".")), ""
        )
        edge(node, f"s3-{origin}", "origin")
        for sorry in by_role.get("sorry", []):
            edge(sorry, node, "proxy")

    for repo in sorted(model.get("repositories", []), key=lambda r: r["name"]):
        node = add(region_cluster, f"ecr-{repo['name']}", "ecr", f"ECR {repo['name']}")
        for svc in services:
            edge(svc, node, "image")
    if model.get("parameters"):
        node = add(region_cluster, "ssm", "ssm", "SSM parameters\n" + "\n".join(sorted(model["parameters"])))
        for svc in services:
            edge(svc, node, "secrets")
    if model.get("schedules"):
        lines = [f"{s['name']}: {s.get('expression', '')}" for s in sorted(model["schedules"], key=lambda s: s["name"])]
        node = add(region_cluster, "scheduler", "scheduler", "Scheduler\n" + "\n".join(lines))
        for svc in services:
            edge(node, svc, "desired count")

    return Plan(title=f"{stack} ({kind})", root=root, edges=edges)


def _import_icon(key: str):
    module, name = ICONS[key]
    return getattr(__import__(module, fromlist=[name]), name)


def draw(spec: Plan, base: Path, formats: tuple[str, ...] = ("png", "svg")) -> None:
    """Render a Plan with the `diagrams` package: base.png, base.svg (graphviz's dot does the layout)."""
    from diagrams import Cluster, Diagram, Edge

    def emit(cluster: ClusterSpec, nodes: dict) -> None:
        for node in cluster.nodes:
            nodes[node.id] = _import_icon(node.icon)(node.label, nodeid=node.id)
        for child in cluster.clusters:
            with Cluster(child.label):
                emit(child, nodes)

    # the nodes' boxes are of a fixed size and their labels overflow them: room between the columns
    graph_attr = {"pad": "1.0", "splines": "spline", "ranksep": "1.6", "fontsize": "20", "labelloc": "t"}
    with Diagram(
        spec.title, filename=str(base), outformat=list(formats), show=False, direction="LR", graph_attr=graph_attr
    ):
        nodes: dict = {}
        emit(spec.root, nodes)
        for e in spec.edges:
            nodes[e.src] >> Edge(label=e.label, style=e.style) >> nodes[e.dst]


def model_digest(model: dict) -> str:
    canonical = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{RENDERER_VERSION}\n{canonical}".encode()).hexdigest()


_HREF = re.compile(r'xlink:href="([^"]+\.png)"')


def finish_svg(svg: str, digest: str) -> str:
    """The icons inlined as data: URIs (graphviz names them by path), and the model's digest."""

    def inline(match: re.Match) -> str:
        path = Path(html.unescape(match.group(1)))
        if not path.is_file():
            return match.group(0)
        return 'xlink:href="data:image/png;base64,' + base64.b64encode(path.read_bytes()).decode() + '"'

    svg = _HREF.sub(inline, svg)
    return svg.replace("<svg ", f"<!-- {DIGEST_MARK} {digest} -->\n<svg ", 1)


def rendered_digest(svg_path: Path) -> str:
    try:
        head = svg_path.read_text(errors="replace")[:4000]
    except OSError:
        return ""
    match = re.search(re.escape(DIGEST_MARK) + r" ([0-9a-f]{64})", head)
    return match.group(1) if match else ""


def render(model: dict, outdir: Path, name: str = "diagram", force: bool = False, check: bool = False) -> dict:
    """Write outdir/name.png and .svg unless they already show this model. Returns what it did
    (with check, what it would do: it writes nothing)."""
    outdir = outdir.resolve()
    png, svg = outdir / f"{name}.png", outdir / f"{name}.svg"
    digest = model_digest(model)
    result = {"changed": False, "png": str(png), "svg": str(svg), "digest": digest}
    if not force and png.is_file() and rendered_digest(svg) == digest:
        return result
    if check:
        return {**result, "changed": True}
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=outdir, prefix=f".{name}-") as tmp:
        base = Path(tmp) / name
        draw(plan(model), base)
        Path(f"{base}.svg").write_text(finish_svg(Path(f"{base}.svg").read_text(), digest))
        for ext, dest in (("png", png), ("svg", svg)):
            os.chmod(f"{base}.{ext}", 0o644)
            os.replace(f"{base}.{ext}", dest)
    result["changed"] = True
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the model JSON playbooks/diagram.yml wrote (-: read it from standard input)")
    parser.add_argument("outdir", type=Path, help="where diagram.png and diagram.svg go")
    parser.add_argument("--name", default="diagram", help="the files' name, without extension (diagram)")
    parser.add_argument("--force", action="store_true", help="render even when the files show this model")
    parser.add_argument("--check", action="store_true", help="write nothing: only say whether it would render")
    args = parser.parse_args(argv)
    model = json.loads(sys.stdin.read() if args.model == "-" else Path(args.model).read_text())
    if args.check:
        print(json.dumps(render(model, args.outdir, args.name, args.force, check=True)))
        return 0
    if shutil.which("dot") is None:
        print("diagram: graphviz's `dot` is not installed (Debian: apt-get install graphviz)", file=sys.stderr)
        return 2
    try:
        import diagrams  # noqa: F401
    except ImportError:
        print("diagram: the `diagrams` package is missing (requirements-dev.txt; make venv)", file=sys.stderr)
        return 2
    print(json.dumps(render(model, args.outdir, args.name, args.force)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
