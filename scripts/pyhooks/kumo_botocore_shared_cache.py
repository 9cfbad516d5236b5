# kumo.webstack: one botocore data cache per Python process, not one per botocore session.
#
# Under Mitogen (the Makefile's WITH_MITOGEN) the AWS modules of a playbook run one after another
# in one long-lived Python process, and each builds a new boto3 session. botocore caches the JSON
# files it reads (service models, endpoints, partitions) per session, so every module run parsed
# them again: py-spy on a sorry stack's site.yml and teardown found half of that process's CPU in
# json.loads of botocore's data files. This hook gives every botocore Loader with the same search
# paths, extras and file loader one shared cache, so each file is parsed once per process: the
# same data and the same sharing botocore already does between the clients of one session.
#
# Loaded at start-up by a .pth file that `make venv` writes into .venv (not part of the collection)
# and active only with WEBSTACK_BOTOCORE_SHARED_CACHE=1 (WITH_MITOGEN sets it): without it this
# module does nothing, and botocore is untouched until something imports it.
from __future__ import annotations

import os
import sys

_ENV = "WEBSTACK_BOTOCORE_SHARED_CACHE"
_TARGET = "botocore.loaders"
_shared: dict = {}


class _SharedCache:
    """A Loader's `_cache` (used only by botocore's instance_cache: `in`, get, set), keyed into one
    process-wide dict by what decides the loaded data: the search paths (boto3 appends its own after
    the Loader is made, so they are read at each use), the extras types and the file loader's type."""

    __slots__ = ("_loader",)

    def __init__(self, loader) -> None:
        self._loader = loader

    def _key(self, key):
        loader = self._loader
        return (tuple(loader.search_paths), tuple(loader.extras_types), type(loader.file_loader), key)

    def __contains__(self, key) -> bool:
        return self._key(key) in _shared

    def __getitem__(self, key):
        return _shared[self._key(key)]

    def __setitem__(self, key, value) -> None:
        _shared[self._key(key)] = value


def _patch(loaders) -> None:
    original_init = loaders.Loader.__init__

    def __init__(self, *args, **kwargs) -> None:
        original_init(self, *args, **kwargs)
        self._cache = _SharedCache(self)

    loaders.Loader.__init__ = __init__


class _Finder:
    """A meta path finder that lets botocore.loaders load as usual, then patches it."""

    @staticmethod
    def find_spec(fullname, path, target=None):
        if fullname != _TARGET:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module) -> None:
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


def install() -> None:
    if os.environ.get(_ENV) != "1" or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    if _TARGET in sys.modules:
        _patch(sys.modules[_TARGET])
    else:
        sys.meta_path.insert(0, _Finder())


install()
