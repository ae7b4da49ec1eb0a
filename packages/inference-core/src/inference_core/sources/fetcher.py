"""Fetching a missing model into the cache: once, safely, and never when offline.

Files are downloaded into a staging directory under `{cache}/.staging/`, checked, and only then
renamed into `{cache}/{project}/{version}` in one step, so a failure or a kill leaves no
half-written model (leftovers are removed on the next start). A file lock per model makes many
threads and worker processes share one download: whoever gets the lock second finds the model
already there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from inference_core.errors import ModelNotFoundError, RegistryUnavailableError
from inference_core.model_ids import ModelId, parse_model_id
from inference_core.settings import RegistrySettings
from inference_core.sources import cache
from inference_core.sources.base import ModelPackage, ModelSource, ProgressCallback
from inference_core.sources.checks import check_artifact
from inference_core.sources.locks import forget_lock, model_lock
from inference_core.sources.trust import ArtifactPolicy, check_class_names
from inference_core.store import ModelStore

logger = logging.getLogger("inference_core.sources")


class ModelFetcher:
    def __init__(
        self,
        store: ModelStore,
        settings: RegistrySettings,
        source: ModelSource | None,
        source_problem: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.source = source
        #: why no source is usable (unknown MODEL_SOURCE name), said when a download is needed.
        self.source_problem = source_problem
        self.policy = ArtifactPolicy(settings)
        if not settings.offline:
            cache.clean_staging(store.cache_dir)

    def ensure(
        self,
        model_id: str,
        api_key: str | None = None,
        keep: Iterable[str] = (),
        progress: ProgressCallback | None = None,
    ) -> bool:
        """Make sure the model is in the cache; True when this call downloaded it.

        `keep` names models in use (loaded), which the size cap must not evict.
        """
        parsed = parse_model_id(model_id)
        if self.store.has(str(parsed)):
            cache.touch(self.store.model_dir(str(parsed)))
            return False
        source = self._usable_source(parsed)
        try:
            with model_lock(self.store.cache_dir, parsed):
                if self.store.has(str(parsed)):  # another thread or process fetched it meanwhile
                    return False
                try:
                    self._fetch(source, parsed, source.describe(parsed, api_key), progress)
                except ModelNotFoundError:
                    # A model the registry does not know leaves no lock file behind. Waiters that
                    # opened it still queue on it; a newcomer gets a fresh one, and at worst asks
                    # the registry once more.
                    forget_lock(self.store.cache_dir, parsed)
                    raise
        except ModelNotFoundError as error:  # the registry has no such model: say where to file one
            raise ModelNotFoundError(f"{error.message} {self.store.import_hint(str(parsed))}") from error
        cache.enforce_cap(self.store, self.settings.cache_max_bytes, [*keep, str(parsed)])
        return True

    def _usable_source(self, model_id: ModelId) -> ModelSource:
        if self.settings.offline:
            raise ModelNotFoundError(
                f"Model '{model_id}' is not in the model cache and offline mode is on (OFFLINE_MODE=true), "
                f"so it cannot be downloaded. Pull it while online (`inference models pull {model_id}`) "
                f"or import it. {self.store.import_hint(str(model_id))}"
            )
        if self.source is None:
            if self.source_problem:
                raise RegistryUnavailableError(self.source_problem)
            raise ModelNotFoundError(
                f"Model '{model_id}' is not in the model cache, and no model source is configured "
                f"(MODEL_SOURCE=none). {self.store.import_hint(str(model_id))}"
            )
        return self.source

    def _fetch(self, source: ModelSource, model_id: ModelId, package: ModelPackage,
               progress: ProgressCallback | None) -> None:
        staging = cache.staging_dir(self.store.cache_dir, model_id)
        try:
            self._fill(source, staging, model_id, package, progress)
            cache.write_marker(staging, model_id, source.name)
            self._install(staging, self.store.model_dir(str(model_id)))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        logger.info("Downloaded model %s from the %s source.", model_id, source.name)

    def _fill(self, source: ModelSource, staging: Path, model_id: ModelId, package: ModelPackage,
              progress: ProgressCallback | None) -> None:
        for artifact in package.artifacts:
            what = f"{artifact.name} of model '{model_id}'"
            destination = staging / artifact.name
            if source.locations_from_registry:
                self.policy.check(artifact.location, what)
            try:
                source.client.download(artifact.location, destination, what, progress)
            except ModelNotFoundError:
                destination.unlink(missing_ok=True)
                if artifact.required:
                    raise
                continue
            check_artifact(destination, artifact.kind, what)
            if artifact.name == "class_names.txt":
                check_class_names(destination.read_text(encoding="utf-8").splitlines(), what)
        for name, text in package.files.items():
            if not (staging / name).exists():  # a downloaded file wins over one made up from metadata
                (staging / name).write_text(text, encoding="utf-8")
        _add_environment_defaults(staging / "environment.json", package.environment_defaults)

    def _install(self, staging: Path, directory: Path) -> None:
        """Swap the finished staging directory in; a leftover without weights is replaced."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            shutil.rmtree(directory)
        _fsync_tree(staging)
        os.replace(staging, directory)


def _add_environment_defaults(path: Path, defaults: dict) -> None:
    if not defaults:
        return
    environment = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = {key: value for key, value in defaults.items() if key not in environment}
    if missing or not path.exists():
        path.write_text(json.dumps({**environment, **missing}), encoding="utf-8")


def _fsync_tree(directory: Path) -> None:
    """Flush the files before the rename, so a power cut cannot leave a renamed but empty model."""
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())

