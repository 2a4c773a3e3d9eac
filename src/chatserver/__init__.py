"""chatserver: the asyncio LAN chat server (accounts, presence, history, files)."""

from .app import ChatServer, StartupError
from .config import ServerConfig

__all__ = ["ChatServer", "ServerConfig", "StartupError"]
