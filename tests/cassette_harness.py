"""The cassette harness: how interactions are recorded, scrubbed, stored and matched.

* Cassettes live in the top-level ``cassettes/`` folder, one YAML file per test, with a ``meta``
  block saying where they were recorded from (``emulator`` or ``live``) and when.
* Recording (``--record-mode=rewrite|all|once``) goes live for a provider whose key is set
  (``STACKIT_API_KEY`` / ``CHUTES_API_KEY``) and to the emulator in ``tests/emulator`` otherwise.
  Emulator URLs are rewritten to the real provider URLs before anything is written, so replaying
  proves the routing (the URI is matched) exactly as a live recording would.
* Every request and response header is dropped at record time except the few the client needs to
  parse a replay; the authorization header never reaches disk.
* Bodies match as parsed JSON (key order ignored; tool descriptions normalised with ``cleandoc``
  because Python 3.13 strips docstring indentation at compile time).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
from collections.abc import Mapping
from typing import Any

import yaml

ORIGIN_HEADER = "x-recorded-from"
_KEEP_REQUEST_HEADERS = {"content-type"}
_KEEP_RESPONSE_HEADERS = {
    "content-type",
    "retry-after",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
}

# emulator base URL -> real base URL; filled while recording from the emulator.
URL_REWRITES: dict[str, str] = {}


def rewrite_uri(uri: str) -> tuple[str, bool]:
    """Map an emulator URI to the provider URI it stands for; ``(uri, was_emulator)``."""
    for local, real in URL_REWRITES.items():
        if uri.startswith(local):
            return real + uri[len(local) :], True
    return uri, False


def before_record_request(request: Any) -> Any:
    """Scrub a request before it is stored (and before it is matched on replay)."""
    request.uri, from_emulator = rewrite_uri(request.uri)
    kept = {k: v for k, v in request.headers.items() if k.lower() in _KEEP_REQUEST_HEADERS}
    kept[ORIGIN_HEADER] = "emulator" if from_emulator else "live"
    request.headers = kept
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    """Drop every response header the client does not need to parse the replay."""
    response["headers"] = {
        k: v for k, v in (response.get("headers") or {}).items() if k.lower() in _KEEP_RESPONSE_HEADERS
    }
    return response


def _normalise_body(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if not body:
        return None
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return body
    if isinstance(data, dict):
        for tool in data.get("tools") or ():
            function = tool.get("function", tool) if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("description"), str):
                function["description"] = inspect.cleandoc(function["description"])
    return data


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: equal when the bodies are equal as JSON (key order ignored)."""
    left, right = _normalise_body(r1.body), _normalise_body(r2.body)
    if left != right:
        raise AssertionError(f"request bodies differ:\n  {str(left)[:600]}\n  {str(right)[:600]}")


class MetaYamlSerializer:
    """vcrpy's YAML format plus a ``meta`` block stating the cassette's origin and date."""

    @staticmethod
    def _origin(interactions: list[Mapping[str, Any]]) -> str:
        origins = set()
        for interaction in interactions:
            headers = interaction.get("request", {}).get("headers", {})
            value = headers.get(ORIGIN_HEADER)
            origins.add(value[0] if isinstance(value, list) else value)
        origins.discard(None)
        return "+".join(sorted(origins)) or "unknown"

    def serialize(self, cassette_dict: dict[str, Any]) -> str:
        interactions = cassette_dict.get("interactions", [])
        origin = self._origin(interactions)
        cassette_dict = {
            "meta": {
                "origin": origin,
                "recorded": _dt.date.today().isoformat(),
                "recorded_by": "tests/emulator (stackit-chutes provider emulator)"
                if origin == "emulator"
                else "live provider API",
                "note": "Credentials (the auth header) and other non-essential headers were removed at record time.",
            },
            **cassette_dict,
        }
        return yaml.dump(cassette_dict, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=120)

    def deserialize(self, cassette_string: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.load(cassette_string, Loader=yaml.SafeLoader)
        return data


def vcr_config() -> dict[str, Any]:
    """The pytest-recording configuration (the record mode comes from the command line)."""
    return {
        "serializer": "yaml_meta",
        "match_on": ["method", "uri", "json_body"],
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": True,
        "path_transformer": _ensure_yaml_suffix,
    }


def _ensure_yaml_suffix(path: str) -> str:
    return path if path.endswith(".yaml") else f"{path}.yaml"
