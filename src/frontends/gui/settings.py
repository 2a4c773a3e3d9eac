"""The desktop client's small settings file: last server, port, ID, download
folder, whether new messages ask for attention.

It lives in the user's config folder, the one the session keeps its pins in
(``chatproto.session.pins.config_dir``: ``$CHAT_CONFIG_DIR`` when set, tests
point it at a temporary folder, else ``$XDG_CONFIG_HOME/lanchat``, else
``~/.config/lanchat``).
A missing or damaged file gives the defaults: settings are a convenience,
never a reason not to start.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from chatproto.session.localfiles import write_atomically
from chatproto.session.pins import CONFIG_DIR_ENV, config_dir

__all__ = ["CONFIG_DIR_ENV", "Settings", "config_dir", "load_settings", "save_settings"]

SETTINGS_FILE = "gui-settings.json"
DEFAULT_SERVER = "localhost"
DEFAULT_PORT = 9000
# Bounds on what we accept back from the file: it may have been edited by hand.
_MAX_FIELD_CHARS = 4096


@dataclasses.dataclass
class Settings:
    server: str = DEFAULT_SERVER
    port: int = DEFAULT_PORT
    username: str = ""
    #: Empty means "the default": the user's Downloads folder, or home.
    download_dir: str = ""
    #: Off only for servers started with --no-tls.
    tls: bool = True
    #: Ring the bell and set the window's urgency when a message arrives
    #: unseen (the unread count in the title is always shown).
    attention: bool = True
    #: system (follows the desktop), light, dark or classic (Tk's own): theme.py.
    theme: str = "system"

    def download_folder(self) -> Path:
        if self.download_dir:
            return Path(self.download_dir).expanduser()
        return default_download_dir()


def default_download_dir() -> Path:
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


def load_settings(folder: Path | None = None) -> Settings:
    path = (folder or config_dir()) / SETTINGS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        print(f"chat-gui: ignoring unreadable settings file {path}: {exc}", file=sys.stderr)
        return Settings()
    return _from_mapping(raw) if isinstance(raw, dict) else Settings()


def _from_mapping(raw: dict[str, object]) -> Settings:
    settings = Settings()
    for field in ("server", "username", "download_dir", "theme"):
        value = raw.get(field)
        if isinstance(value, str) and len(value) <= _MAX_FIELD_CHARS:
            setattr(settings, field, value)
    for flag in ("tls", "attention"):
        if isinstance(raw.get(flag), bool):
            setattr(settings, flag, bool(raw[flag]))
    port = raw.get("port")
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        settings.port = port
    return settings


def save_settings(settings: Settings, folder: Path | None = None) -> None:
    """Write atomically (a crash leaves the old file, never half a file);
    a failure is reported on stderr and otherwise ignored."""
    folder = folder or config_dir()
    path = folder / SETTINGS_FILE
    try:
        text = json.dumps(dataclasses.asdict(settings), ensure_ascii=False, indent=2) + "\n"
        write_atomically(path, text)
    except OSError as exc:
        print(f"chat-gui: could not save settings to {path}: {exc}", file=sys.stderr)
