"""Flyte 2 keyword arguments flyte-core accepts without acting on them, per public function.

Flyte 2's ``flyte.init``, ``flyte.init_from_config`` and ``flyte.with_runcontext`` take many
settings that belong to its control plane (endpoints, auth, projects, queues, ...). flyte-core
accepts each of them, so Flyte 2 programs run unchanged, and says once, in a notice, that a given
value has no effect here; any other name is a TypeError naming it, as Flyte 2 raises (typos are
caught instead of silently ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Name -> Flyte 2's default: a value equal to the default is no request, so gets no notice.
INIT: dict[str, Any] = {
    "org": None, "project": None, "domain": None, "log_format": None, "reset_root_logger": False,
    "user_log_level": None, "endpoint": None, "headless": False, "insecure": False,
    "insecure_skip_verify": False, "ca_cert_file_path": None, "auth_type": "Pkce", "command": None,
    "proxy_command": None, "api_key": None, "client_id": None, "client_credentials_secret": None,
    "auth_client_config": None, "rpc_retries": 3, "http_proxy_url": None, "disable_keyring": False,
    "batch_size": 1000, "image_builder": "local", "images": None, "image_registry": None,
    "source_config_path": None, "sync_local_sys_paths": True, "load_plugin_type_transformers": True,
    "local_persistence": False, "local_tracked": False, "local_tracked_strict": False, "scopes": None,
}

#: ``flyte.init_from_config`` takes a subset of ``flyte.init``'s settings.
INIT_FROM_CONFIG: dict[str, Any] = {
    k: INIT[k] for k in ("log_format", "user_log_level", "org", "project", "domain", "batch_size", "images",
                         "sync_local_sys_paths")
} | {"image_builder": None, "log_format": "console"}

WITH_RUNCONTEXT: dict[str, Any] = {
    "service_account": None, "copy_style": "loaded_modules", "dry_run": False, "copy_bundle_to": None,
    "interactive_mode": None, "run_base_dir": None, "project": None, "domain": None, "annotations": None,
    "interruptible": None, "log_level": None, "log_format": "console", "user_log_level": None,
    "reset_root_logger": False, "queue": None, "notifications": None, "cache_lookup_scope": "global",
    "preserve_original_types": False, "debug": False, "tracked": False, "tracked_strict": False,
    "_tracker": None,
}


#: Why a setting has no effect, where the reason is not "it configures the control plane".
_REASONS = {
    "local_persistence": "every run is recorded in the run store here",
    "local_tracked": "every run is recorded in the run store here",
    "sync_local_sys_paths": "workers always get the caller's import paths here",
    "load_plugin_type_transformers": "type plugins load through entry points; set FLYTE_DISABLE_PLUGIN_AUTOLOAD "
                                     "to turn them off",
    "image_builder": "images are built by the backend that runs the task",
    "images": "images are built by the backend that runs the task",
    "image_registry": "images are built by the backend that runs the task",
    "log_format": "flyte-core logs through the standard logging module; configure its handlers",
    "user_log_level": "set the level of the 'flyte' logger, or pass log_level to flyte.init",
    "log_level": "pass log_level to flyte.init",
    "interactive_mode": "task code runs where the backend runs it",
    "run_base_dir": "a run's folder is chosen by the session's data store",
    "copy_style": "code reaches workers as the backend's own code bundle",
}


def check(function: str, given: Mapping[str, Any], accepted: Mapping[str, Any]) -> list[str]:
    """Refuse names ``function`` does not take (TypeError naming the first, as Python would);
    return a notice for each accepted one given a non-default value, and log it."""
    for name in given:
        if name not in accepted:
            raise TypeError(f"{function}() got an unexpected keyword argument '{name}'")
    notices = []
    for name, value in given.items():
        if not _is_default(value, accepted[name]):
            why = _REASONS.get(name, "it configures Flyte's control plane, which flyte-core does not use")
            note = f"{function}({name}=...) is accepted for Flyte 2 compatibility and not acted on here ({why})."
            import logging  # here: most programs pass no such option, and logging costs ~2 ms to import

            logging.getLogger("flyte").info(note)
            notices.append(note)
    return notices


def _is_default(value: Any, default: Any) -> bool:
    try:
        return bool(value == default)
    except Exception:  # an object with an odd __eq__: treat as given
        return False
