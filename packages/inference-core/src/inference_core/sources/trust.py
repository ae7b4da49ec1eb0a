"""What the fetcher trusts a model registry's answers with.

A registry names the files of a model; a broken or hostile one could name a server file, a
`file://` URL or an internal address. So artifacts are only fetched over http(s), from the
registry's own hosts (API_BASE_URL's, MODEL_SOURCE_URL's) or those in MODEL_ARTIFACT_HOSTS; hosts
other than the registry's own must resolve to public addresses, as image URLs must. Every
redirect is checked the same way, and every connection is made to the address that was checked
(:meth:`ArtifactPolicy.connect_address`), so a second DNS answer cannot swap in an internal one. Local paths are only read for a source configured as a local
folder by whoever runs the server. Class names must be plain one-line text.
"""

from __future__ import annotations

import unicodedata
import urllib.parse
from collections.abc import Iterable

from inference_core import addresses
from inference_core.errors import RegistryError
from inference_core.settings import RegistrySettings

#: Longest class name accepted from a registry, and most classes.
MAX_CLASS_NAME_CHARS = 256
MAX_CLASSES = 100_000


def host_of(url: str | None) -> str | None:
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    try:
        host = urllib.parse.urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


class RegistryUnreachable(OSError):
    """A registry or artifact host that cannot be reached; the client reports it as a network failure."""


class ArtifactPolicy:
    """Decides which artifact locations a registry may send the fetcher to."""

    def __init__(self, settings: RegistrySettings, local_paths: bool = False) -> None:
        self.own_hosts = {host for host in (host_of(settings.api_base_url), host_of(settings.source_url)) if host}
        self.allowed_hosts = {entry.strip().lower() for entry in settings.artifact_hosts if entry.strip()}
        self.local_paths = local_paths

    def check(self, location: str, what: str) -> str | None:
        """Raise RegistryError (502) unless the fetcher may fetch `location`; the address checked
        (None for the registry's own hosts and local paths)."""
        if not location.lower().startswith(("http://", "https://")):
            if self.local_paths and not location.lower().startswith(("file:", "ftp:", "data:")):
                return None
            raise RegistryError(
                f"The model registry named a location for {what} that is not an http(s) URL; refused. "
                "(A model source plugin that reads files named by the server's own settings declares "
                "`locations_from_registry = False`.)"
            )
        host = host_of(location)
        if host is None:
            raise RegistryError(f"The model registry named a malformed URL for {what}; refused.")
        if host in self.own_hosts:
            return None
        if not self._listed(host):
            raise RegistryError(
                f"The model registry sent {what} to host {host!r}, which is neither the registry's own "
                "nor in MODEL_ARTIFACT_HOSTS; refused."
            )
        try:
            return self._public_address(host, location, what)
        except RegistryUnreachable:
            return None  # the download itself reports the unreachable host

    def connect_address(self, url: str, what: str) -> str | None:
        """The address to connect to for the http(s) `url`: checked now, at connection time
        (None for the registry's own hosts, which are reached as configured)."""
        host = host_of(url)
        if host is None:
            raise RegistryError(f"The model registry named a malformed URL for {what}; refused.")
        if host in self.own_hosts:
            return None
        return self._public_address(host, url, what)

    def _listed(self, host: str) -> bool:
        return host in self.allowed_hosts or any(
            entry.startswith("*.") and host.endswith(entry[1:]) for entry in self.allowed_hosts
        )

    def _public_address(self, host: str, location: str, what: str) -> str:
        port = urllib.parse.urlsplit(location).port or (443 if location.lower().startswith("https") else 80)
        try:
            resolved = addresses.resolve(host, port)
        except (OSError, UnicodeError):
            resolved = []
        if not resolved:
            raise RegistryUnreachable(f"the host {host!r} does not resolve to an address")
        for address in resolved:
            if not addresses.is_public(address):
                raise RegistryError(
                    f"The model registry sent {what} to host {host!r}, which resolves to a non-public "
                    "address; refused."
                )
        return str(resolved[0])


def check_class_names(names: Iterable[object], what: str) -> list[str]:
    """The class names, each plain one-line text; RegistryError (502) otherwise."""
    checked = []
    for name in names:
        if not isinstance(name, str) or not name or len(name) > MAX_CLASS_NAME_CHARS:
            raise RegistryError(f"{what}: a class name is not text of 1 to {MAX_CLASS_NAME_CHARS} characters.")
        if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs") for char in name):
            raise RegistryError(f"{what}: a class name holds a line break or control character; refused.")
        checked.append(name)
        if len(checked) > MAX_CLASSES:
            raise RegistryError(f"{what}: more than {MAX_CLASSES} classes; refused.")
    return checked
