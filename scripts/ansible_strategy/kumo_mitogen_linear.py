# kumo.webstack: Mitogen's linear strategy, with the collection directories listed once per run.
#
# Mitogen (0.3.54) lists every installed collection directory (ansible.collections.list.
# list_collection_dirs) the first time a worker process runs a given collection module, and Ansible
# forks a new worker for each task: so it does it for nearly every task. With the ~90 collections of
# the `ansible` package that is 0.1-0.2 s of CPU a task, a third of what the workers spend. This
# strategy lists them once, in the controller, before any worker is forked; the workers inherit the
# list (collections are not installed or removed during a run).
#
# For the Makefile (WITH_MITOGEN: integration tests, Molecule, demos); not part of the collection.
# Needs the mitogen package (requirements.txt); ANSIBLE_STRATEGY=kumo_mitogen_linear with this
# directory on ANSIBLE_STRATEGY_PLUGINS.
from __future__ import annotations

import ansible.collections.list
import ansible_mitogen.loaders
import ansible_mitogen.planner
import ansible_mitogen.strategy

_collection_dirs: tuple[str, ...] | None = None


def _load_collections(invocation) -> None:
    """ansible_mitogen.planner._load_collections, from the list made once in the controller."""
    for path in _collection_dirs or ():
        invocation._extra_sys_paths.add(path)


class StrategyModule(
    ansible_mitogen.strategy.StrategyMixin, ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)
):
    def __init__(self, *args, **kwargs) -> None:
        global _collection_dirs
        super().__init__(*args, **kwargs)
        if _collection_dirs is None:
            _collection_dirs = tuple(p.decode("utf-8") for p in ansible.collections.list.list_collection_dirs())
            ansible_mitogen.planner._load_collections = _load_collections
