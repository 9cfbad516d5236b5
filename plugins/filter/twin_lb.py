# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local twin's stand-in for an Application Load Balancer: HAProxy configuration lines
rendered from what the emulator says the ALB is (listeners, their rules, the target groups
and their registered targets).

Pure functions on the snake_case answers of amazon.aws.elb_application_lb_info and
community.aws.elb_target_group_info and on the twin's container list, so the role's template
only prints what they return.

- twin_lb_target_group_arns: every target group a listener forwards to (default actions and rules).
- twin_lb_backends: one HAProxy backend per target group: health check lines and one server per
  registered target that a container of the twin stands in for (instance targets by instance id,
  IP targets by the address the emulator gave the container's instance or task).
- twin_lb_frontends: one HAProxy frontend per listener: the rules in priority order (host-header,
  path-pattern, http-header, http-request-method, query-string and source-ip conditions), each
  rule's action (forward, redirect, fixed-response), then the default action.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

# HAProxy's view of the Host header: the name without the port the client connected to.
_HOST = "req.hdr(host),field(1,:)"
_RESPONSES_DIR = "/usr/local/etc/haproxy/responses"


def _fail(name, message):
    raise AnsibleFilterError(f"{name}: {message}")


def _list(name, where, value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        _fail(name, f"{where} must be a list; got {type(value).__name__}")
    return list(value)


def _quote(text):
    """One HAProxy configuration word in strong (single) quotes: nothing inside is expanded."""
    return "'" + str(text).replace("'", "'\\''") + "'"


def _wildcard(pattern):
    """An ALB wildcard pattern (* any characters, ? one character) as an anchored regex."""
    out = []
    for char in str(pattern):
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char in ".^$|()[]{}+\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "^" + "".join(out) + "$"


def _actions(name, where, actions):
    """The action that decides (the last by order; authenticate-* actions come before it)."""
    actions = sorted(_list(name, where, actions), key=lambda a: int(a.get("order") or 0))
    final = [a for a in actions if not str(a.get("type", "")).startswith("authenticate")]
    if not final:
        _fail(name, f"{where} has no forward, redirect or fixed-response action")
    return final[-1]


def _forward_arn(action):
    """The target group a forward action sends to (the heaviest one of a weighted forward)."""
    if action.get("target_group_arn"):
        return action["target_group_arn"]
    groups = (action.get("forward_config") or {}).get("target_groups") or []
    if not groups:
        return ""
    return max(groups, key=lambda g: int(g.get("weight") if g.get("weight") is not None else 1))["target_group_arn"]


def _rules(listener):
    """(priority, conditions, action) of every rule but the default, in priority order."""
    rules = []
    for rule in listener.get("rules") or []:
        if rule.get("is_default") or str(rule.get("priority")) == "default":
            continue
        rules.append(rule)
    return sorted(rules, key=lambda r: int(r["priority"]))


def _default_action(name, listener):
    for rule in listener.get("rules") or []:
        if rule.get("is_default") or str(rule.get("priority")) == "default":
            return _actions(name, f"listener {listener.get('port')}: default rule", rule.get("actions"))
    return _actions(name, f"listener {listener.get('port')}: default actions", listener.get("default_actions"))


def twin_lb_target_group_arns(listeners):
    """The ARNs of every target group the listeners forward to, in order of first mention."""
    name = "twin_lb_target_group_arns"
    arns = []
    for listener in _list(name, "the listeners", listeners):
        actions = list(listener.get("default_actions") or [])
        for rule in listener.get("rules") or []:
            actions.extend(rule.get("actions") or [])
        for action in actions:
            if action.get("type") != "forward":
                continue
            found = [action.get("target_group_arn")] + [
                g.get("target_group_arn") for g in (action.get("forward_config") or {}).get("target_groups") or []
            ]
            for arn in found:
                if arn and arn not in arns:
                    arns.append(arn)
    return arns


def _matcher(code):
    """HAProxy's http-check expect for an ALB matcher ("200", "200,302", "200-299")."""
    code = str(code or "200").replace(" ", "")
    if re.fullmatch(r"[0-9]{3}", code):
        return f"http-check expect status {code}"
    parts = []
    for part in code.split(","):
        if re.fullmatch(r"[0-9]{3}", part):
            parts.append(part)
        elif re.fullmatch(r"[0-9]{3}-[0-9]{3}", part):
            low, high = (int(p) for p in part.split("-"))
            parts.extend(str(c) for c in range(low, high + 1))
        else:
            _fail("twin_lb_backends", f"health check matcher {code!r} is not a code, a list or a range of codes")
    return "http-check expect rstatus ^(" + "|".join(parts) + ")$"


def twin_lb_backends(target_groups, containers):
    """One backend per target group: ``{name, arn, port, target_type, health_check_port, servers, unmapped, lines}``.

    ``target_groups``: community.aws.elb_target_group_info's target_groups (with
    targets_health_description). ``containers``: the twin's containers, each ``{name}`` with
    ``instance_id`` (the EC2 instance it stands in for) and/or ``aws_ip`` (the private address
    the emulator gave that instance or task). A draining target is left out, as the ALB stops
    sending it new requests; a target no container stands in for is listed in ``unmapped``."""
    name = "twin_lb_backends"
    by_id = {}
    by_ip = {}
    for container in _list(name, "the containers", containers):
        if not isinstance(container, Mapping) or not container.get("name"):
            _fail(name, f"each container must be a dict with a name; got {container!r}")
        if container.get("instance_id"):
            by_id[container["instance_id"]] = container["name"]
        if container.get("aws_ip"):
            by_ip[container["aws_ip"]] = container["name"]
    out = []
    for tg in _list(name, "the target groups", target_groups):
        target_type = tg.get("target_type") or "instance"
        lookup = by_ip if target_type == "ip" else by_id
        port = int(tg.get("port") or 80)
        targets = []
        unmapped = []
        for t in sorted(
            tg.get("targets_health_description") or [],
            key=lambda t: (t["target"]["id"], t["target"].get("port") or port),
        ):
            if (t.get("target_health") or {}).get("state") == "draining":
                continue
            tid = t["target"]["id"]
            if tid not in lookup:
                unmapped.append(tid)
                continue
            targets.append((tid, lookup[tid], int(t["target"].get("port") or port)))
        ids = [target[0] for target in targets]
        servers = [
            {"name": tid if ids.count(tid) == 1 else f"{tid}-{tport}", "target": tid, "address": address, "port": tport}
            for tid, address, tport in targets
        ]
        lines = ["balance roundrobin"]
        server_options = " ssl verify none" if str(tg.get("protocol", "")).upper() == "HTTPS" else ""
        dns = " resolvers docker init-addr last,libc,none"
        hc_port = str(tg.get("health_check_port") or "traffic-port")
        if tg.get("health_check_enabled", True):
            interval = int(tg.get("health_check_interval_seconds") or 30)
            timeout = int(tg.get("health_check_timeout_seconds") or 5)
            rise = int(tg.get("healthy_threshold_count") or 5)
            fall = int(tg.get("unhealthy_threshold_count") or 2)
            check_ssl = " check-ssl" if str(tg.get("health_check_protocol", "")).upper() == "HTTPS" else ""
            lines += [
                f"# health check every {interval}s, timeout {timeout}s, healthy after {rise}, unhealthy after {fall}",
                f"option httpchk GET {tg.get('health_check_path') or '/'}",
                _matcher((tg.get("matcher") or {}).get("http_code")),
                f"timeout check {timeout}s",
                f"default-server check inter {interval}s rise {rise} fall {fall}"
                + ("" if hc_port == "traffic-port" else f" port {hc_port}")
                + check_ssl
                + server_options
                + dns,
            ]
        else:
            lines.append("default-server" + server_options + dns)
        sticky = (
            str(tg.get("stickiness_enabled", "false")).lower() == "true"
            and (tg.get("stickiness_type") or "lb_cookie") == "lb_cookie"
        )
        if sticky:
            duration = int(tg.get("stickiness_lb_cookie_duration_seconds") or 86400)
            lines += [
                f"# load balancer cookie stickiness, as the ALB's AWSALB cookie ({duration} s)",
                f'cookie AWSALB insert indirect nocache httponly attr "Max-Age={duration}"',
            ]
        if not servers:
            lines.append("# no target of this group is a container of the twin: the lb answers 503")
        cookie = " cookie {name}" if sticky else ""
        lines += [f"server {s['name']} {s['address']}:{s['port']}" + cookie.format(name=s["name"]) for s in servers]
        out.append(
            {
                "name": tg["target_group_name"],
                "arn": tg["target_group_arn"],
                "port": port,
                "target_type": target_type,
                "health_check_port": int(hc_port)
                if tg.get("health_check_enabled", True) and hc_port.isdigit()
                else None,
                "servers": servers,
                "unmapped": unmapped,
                "lines": lines,
            }
        )
    return out


def _condition(name, where, condition):
    """HAProxy ACL bodies (fetch, flags, patterns) for one ALB condition: any of them matches."""
    field = condition.get("field")

    def values(key):
        return list((condition.get(key) or {}).get("values") or condition.get("values") or [])

    if field == "host-header":
        return [f"{_HOST} -m reg -i {_quote(_wildcard(v))}" for v in values("host_header_config")]
    if field == "path-pattern":
        return [f"path -m reg {_quote(_wildcard(v))}" for v in values("path_pattern_config")]
    if field == "http-request-method":
        return [f"method -m str {_quote(v)}" for v in values("http_request_method_config")]
    if field == "source-ip":
        return [f"src {_quote(v)}" for v in values("source_ip_config")]
    if field == "http-header":
        config = condition.get("http_header_config") or {}
        header = config.get("http_header_name")
        if not header:
            _fail(name, f"{where}: http-header condition without http_header_name")
        return [f"req.hdr({header}) -m reg -i {_quote(_wildcard(v))}" for v in config.get("values") or []]
    if field == "query-string":
        out = []
        for pair in (condition.get("query_string_config") or {}).get("values") or []:
            value = _quote(_wildcard(pair.get("value", "")))
            if pair.get("key"):
                out.append(f"url_param({pair['key']}) -m reg -i {value}")
            else:
                out.append(
                    f"query -m reg -i {_quote('(^|&)[^=&]*=' + _wildcard(pair.get('value', ''))[1:-1] + '(&|$)')}"
                )
        return out
    _fail(name, f"{where}: condition field {field!r} is not one the twin renders")
    return []


def _location(listener_port, scheme, published, config):
    """HAProxy log-format location (without and with the query) for an ALB redirect."""
    protocol = config.get("protocol") or "#{protocol}"
    target_scheme = scheme if protocol == "#{protocol}" else protocol.lower()
    host = config.get("host") or "#{host}"
    port = str(config.get("port") or "#{port}")
    path = config.get("path") or "/#{path}"
    query = config.get("query")
    query = "#{query}" if query is None else query
    own_port = published.get(listener_port, listener_port)
    if port == "#{port}":
        shown = own_port
    elif "#{host}" in host:  # the same load balancer: its listener's published port
        shown = published.get(int(port), int(port))
    else:
        shown = int(port)

    def expand(text, keep_query=True):
        text = str(text).replace("%", "%%")
        text = text.replace("#{host}", f"%[{_HOST}]").replace("#{port}", str(own_port))
        text = text.replace("#{protocol}", scheme)
        if keep_query:
            text = text.replace("#{query}", "%[query]")
        return text

    default_port = {"http": 80, "https": 443}.get(target_scheme)
    base = f"{target_scheme}://{expand(host)}" + ("" if shown == default_port else f":{shown}")
    base += "%[path]" if path == "/#{path}" else expand(path).replace("#{path}", "%[path,regsub(^/,)]")
    if query == "#{query}":
        return base, base + "?%[query]"
    if query:
        return base + "?" + expand(query), None
    return base, None


def _action_lines(name, where, action, condition, listener_port, scheme, published, backends, responses_dir):
    """(lines, responses) carrying out one action under a condition ('' = always)."""
    kind = action.get("type")
    suffix = f" if {condition}" if condition else ""
    if kind == "forward":
        arn = _forward_arn(action)
        backend = backends.get(arn)
        if backend is None:
            _fail(name, f"{where} forwards to {arn!r}, which is not among the target groups given")
        if condition:
            return [f"use_backend {backend}{suffix}"], {}
        return [f"default_backend {backend}"], {}
    if kind == "redirect":
        config = action.get("redirect_config") or {}
        code = str(config.get("status_code") or "HTTP_302").replace("HTTP_", "")
        plain, with_query = _location(listener_port, scheme, published, config)
        lines = []
        if with_query:
            query_found = "{ query -m found }"
            lines.append(
                f"http-request redirect code {code} location {_quote(with_query)} if "
                + (f"{condition} " if condition else "")
                + query_found
            )
        lines.append(f"http-request redirect code {code} location {_quote(plain)}{suffix}")
        return lines, {}
    if kind == "fixed-response":
        config = action.get("fixed_response_config") or {}
        status = str(config.get("status_code") or "200")
        body = config.get("message_body") or ""
        line = f"http-request return status {status}"
        responses = {}
        if body:
            file = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12] + ".txt"
            responses[file] = body
            content_type = config.get("content_type") or "text/plain"
            line += f" content-type {_quote(content_type)} file {_quote(responses_dir + '/' + file)}"
        return [line + suffix], responses
    _fail(name, f"{where}: action {kind!r} is not one the twin renders (forward, redirect, fixed-response)")
    return [], {}


def twin_lb_frontends(listeners, backends, published, responses_dir=_RESPONSES_DIR):
    """One frontend per listener: ``{name, port, protocol, ssl_policy, published, lines, responses}``.

    ``listeners``: amazon.aws.elb_application_lb_info's listeners (with rules). ``backends``:
    twin_lb_backends' answer (target group ARN -> backend name). ``published``: listener port ->
    host port the twin publishes it on. ``responses``: file name -> body of each fixed response
    (HAProxy serves them from ``responses_dir``)."""
    name = "twin_lb_frontends"
    if not isinstance(published, Mapping):
        _fail(name, f"published must be a dict of listener port -> host port; got {type(published).__name__}")
    published = {int(k): int(v) for k, v in published.items()}
    by_arn = {b["arn"]: b["name"] for b in _list(name, "the backends", backends)}
    out = []
    for listener in sorted(_list(name, "the listeners", listeners), key=lambda x: int(x["port"])):
        port = int(listener["port"])
        scheme = str(listener.get("protocol") or "HTTP").lower()
        where = f"listener {port}"
        lines = [
            f"http-request set-header X-Forwarded-Proto {scheme}",
            "# the port the client connected to (the published one)",
            f"http-request set-header X-Forwarded-Port {published.get(port, port)}",
            "option forwardfor",
        ]
        rules = _rules(listener)
        responses = {}
        actions = []
        routes = []
        for rule in rules:
            priority = int(rule["priority"])
            at = f"{where}: rule {priority}"
            acls = []
            summary = []
            for index, condition in enumerate(rule.get("conditions") or []):
                acl = f"rule{priority}_{index + 1}"
                bodies = _condition(name, at, condition)
                if not bodies:
                    _fail(name, f"{at}: condition {condition.get('field')} has no values")
                lines += [f"acl {acl} {body}" for body in bodies]
                acls.append(acl)
                summary.append(str(condition.get("field")))
            lines.append(
                f"http-request set-var(txn.rule) int({priority}) if !{{ var(txn.rule) -m found }}"
                + "".join(f" {a}" for a in acls)
            )
            action = _actions(name, at, rule.get("actions"))
            comment = f"# rule {priority} ({', '.join(summary) or 'always'}): {action.get('type')}"
            more, files = _action_lines(
                name,
                at,
                action,
                f"{{ var(txn.rule) -m int {priority} }}",
                port,
                scheme,
                published,
                by_arn,
                responses_dir,
            )
            (routes if action.get("type") == "forward" else actions).extend([comment, *more])
            responses.update(files)
        default = _default_action(name, listener)
        comment = f"# default action: {default.get('type')}"
        more, files = _action_lines(
            name,
            f"{where}: default action",
            default,
            "!{ var(txn.rule) -m found }" if rules and default.get("type") != "forward" else "",
            port,
            scheme,
            published,
            by_arn,
            responses_dir,
        )
        (routes if default.get("type") == "forward" else actions).extend([comment, *more])
        responses.update(files)
        out.append(
            {
                "name": f"listener_{port}",
                "port": port,
                "protocol": listener.get("protocol") or "HTTP",
                "ssl_policy": listener.get("ssl_policy") or "",
                "published": published.get(port, port),
                # HAProxy runs every http-request rule before choosing a backend: routes go last
                "lines": lines + actions + routes,
                "responses": responses,
            }
        )
    return out


class FilterModule:
    """Local twin load balancer filters."""

    def filters(self):
        return {
            "twin_lb_target_group_arns": twin_lb_target_group_arns,
            "twin_lb_backends": twin_lb_backends,
            "twin_lb_frontends": twin_lb_frontends,
        }
