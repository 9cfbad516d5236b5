# kumo.webstack: Mitogen's linear strategy, with the collection directories listed once per run
# and each module_utils file's imports read once per run.
#
# Mitogen (0.3.54) lists every installed collection directory (ansible.collections.list.
# list_collection_dirs) the first time a worker process runs a given collection module, and Ansible
# forks a new worker for each task: so it does it for nearly every task. With the ~90 collections of
# the `ansible` package that is 0.1-0.2 s of CPU a task, a third of what the workers spend. This
# strategy lists them once, in the controller, before any worker is forked; the workers inherit the
# list (collections are not installed or removed during a run).
#
# Mitogen also finds the ansible.module_utils files a module needs by compiling the module and,
# one by one, every module_utils file it reaches (ansible_mitogen.module_finder), once per module
# name and run: so each module of a run compiled basic.py and the forty files behind it again
# (py-spy: 6 % of a rails provision's CPU). Here the names a file imports are kept per file (its
# path, size and modification time) for the run, and each module's walk reuses them.
#
# CPU pinning: Mitogen's own policy (ansible_mitogen.affinity) puts, on 2 CPUs, the multiplexer on
# CPU 0 and the controller, every task's worker and every process they start on CPU 1; so make
# test's parallel playbook runs all shared CPU 1 (99 % busy through the integration stage of a
# clean clone of 4abd62f) while CPU 0, left to the emulators, Docker and the containers, stood
# about 30 % idle. Unpinned (tried at 59df0c3) the stage took longer: a run's threads and
# processes then crossed CPUs, and each test's CPU seconds rose by about half. With
# WEBSTACK_MITOGEN_CPU=<n> the whole run keeps to CPU n instead (the Makefile gives each
# integration worker and each Molecule job one, round robin): nothing of a run crosses CPUs, and
# the runs of the stage use both. Two CPU-bound processes here, one per CPU, each ran about as
# fast as alone; two on one CPU, each took twice as long.
#
# For the Makefile (WITH_MITOGEN: integration tests, Molecule, demos); not part of the collection.
# Needs the mitogen package (requirements-dev.txt); ANSIBLE_STRATEGY=kumo_mitogen_linear with this
# directory on ANSIBLE_STRATEGY_PLUGINS.
from __future__ import annotations

import collections
import importlib.machinery
import importlib.util
import os

import ansible.collections.list
import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.module_finder
import ansible_mitogen.planner
import ansible_mitogen.strategy

_collection_dirs: tuple[str, ...] | None = None


def _load_collections(invocation) -> None:
    """ansible_mitogen.planner._load_collections, from the list made once in the controller."""
    for path in _collection_dirs or ():
        invocation._extra_sys_paths.add(path)


_imports: dict[tuple, tuple[str, ...]] = {}


def _imported_names(path: str, name: str, prefix: str) -> tuple[str, ...]:
    """The names under `prefix` that the file at `path` imports, read once per version of the file."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns, prefix)
    names = _imports.get(key)
    if names is None:
        with open(path, "rb") as source:
            code = compile(source.read(), name, "exec")
        names = tuple(dict.fromkeys(ansible_mitogen.module_finder.walk_imports(code, prefix)))
        _imports[key] = names
    return names


def _scan(module_name: str, module_path: str, search_path) -> list[tuple[str, str, bool]]:
    """ansible_mitogen.module_finder._scan_importlib_find_spec's answer: (name, path, is_package) of
    every module_utils file the module reaches, with each file's imports from _imported_names."""
    root = ansible_mitogen.module_finder.PREFIX.rstrip(".")
    root_spec = importlib.machinery.ModuleSpec(root, loader=None)
    root_spec.submodule_search_locations = list(search_path)
    found: dict[str, importlib.machinery.ModuleSpec | None] = {root: root_spec}
    todo = collections.deque([importlib.machinery.ModuleSpec(module_name, loader=None, origin=module_path)])
    while todo:
        spec = todo.popleft()
        if spec.origin is None:
            continue
        try:
            names = _imported_names(spec.origin, spec.name, root)
        except Exception as exc:  # as Mitogen does: the module cannot be run
            raise ValueError((exc, module_name, spec)) from exc
        for name in names:
            if name in found:
                continue
            parent = found[name.rpartition(".")[0]]
            child = None
            if parent is not None and parent.submodule_search_locations:
                child = importlib.util._find_spec(name, parent.submodule_search_locations)
            found[name] = child if child is not None and child.origin is not None else None
            if found[name] is not None:
                todo.append(child)
    del found[root]
    return sorted((s.name, s.origin, s.submodule_search_locations is not None) for s in found.values() if s)


def _one_cpu(cpu: int) -> None:
    """WEBSTACK_MITOGEN_CPU=<n>: the whole run on CPU n (this process's threads now; the mux, the
    workers and every process they start inherit it), and Mitogen's own pinning off. A CPU this
    process may not use (a cpuset that does not start at 0) counts round its allowed ones."""
    allowed = sorted(os.sched_getaffinity(0))
    if cpu not in allowed:
        cpu = allowed[cpu % len(allowed)]
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), {cpu})
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()


if os.environ.get("WEBSTACK_MITOGEN_CPU", "").isdigit() and hasattr(os, "sched_setaffinity"):
    _one_cpu(int(os.environ["WEBSTACK_MITOGEN_CPU"]))


class StrategyModule(
    ansible_mitogen.strategy.StrategyMixin, ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)
):
    def __init__(self, *args, **kwargs) -> None:
        global _collection_dirs
        super().__init__(*args, **kwargs)
        if _collection_dirs is None:
            _collection_dirs = tuple(p.decode("utf-8") for p in ansible.collections.list.list_collection_dirs())
            ansible_mitogen.planner._load_collections = _load_collections
            ansible_mitogen.module_finder._scan_importlib_find_spec = _scan
