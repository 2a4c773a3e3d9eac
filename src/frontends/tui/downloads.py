"""Files: every announced file downloaded into a folder, uploads for ``/send``.

Each transfer is an asyncio task on the app's loop with a progress bar
(``TransferView``, the app's panel). A download cut by a lost connection
is kept and started again after the comeback: the session resumes it from
its ``.part`` file, so nothing is fetched twice and no file is lost because
its announcement is not replayed (it was shown already).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from chatproto import FileAvailable
from chatproto.session import ChatError, ConnectionLost, FileRefused

from ..gui.settings import default_download_dir
from .link import ChatLink


class TransferView(Protocol):
    def transfer_started(self, key: str, label: str, total: int) -> None: ...
    def transfer_progress(self, key: str, done: int, total: int) -> None: ...
    def transfer_finished(self, key: str) -> None: ...


#: (announcement, saved path or None, the error or None)
DownloadDone = Callable[[FileAvailable, Path | None, ChatError | None], None]
#: (path, announcement or None, the error or None)
UploadDone = Callable[[Path, FileAvailable | None, ChatError | None], None]


def download_folder(chosen: Path | None) -> Path:
    """``--download-dir``, else the GUI's default: ``~/Downloads``, or home."""
    return chosen.expanduser() if chosen is not None else default_download_dir()


class Transfers:
    def __init__(self, link: ChatLink, folder: Path, view: TransferView,
                 downloaded: DownloadDone, uploaded: UploadDone) -> None:
        self.link = link
        self.folder = folder
        self.view = view
        self._downloaded = downloaded
        self._uploaded = uploaded
        #: Downloads cut by a lost connection, by file id, started again by ``resume``.
        self.interrupted: dict[int, FileAvailable] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._keys = 0

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _progress(self, key: str) -> Callable[[int, int], None]:
        shown = -1

        def progress(done: int, total: int) -> None:
            nonlocal shown
            # One update per percent: a large file has thousands of chunks.
            percent = done * 100 // total if total else 100
            if percent != shown:
                shown = percent
                self.view.transfer_progress(key, done, total)

        return progress

    def download(self, file: FileAvailable) -> None:
        self._spawn(self._download(file))

    async def _download(self, file: FileAvailable) -> None:
        key = f"download-{file.file_id}"
        self.view.transfer_started(key, f"\u2193 {file.name}", file.size)
        try:
            path = await self.link.download(file, self.folder, self._progress(key))
        except ConnectionLost:
            self.interrupted[file.file_id] = file
            return
        except ChatError as error:
            self._downloaded(file, None, error)
            return
        finally:
            self.view.transfer_finished(key)
        self._downloaded(file, path, None)

    def resume(self) -> None:
        """After a comeback: start the downloads the loss cut again."""
        pending, self.interrupted = self.interrupted, {}
        for file in pending.values():
            self.download(file)

    def upload(self, path: Path, to: str | None) -> None:
        self._keys += 1
        self._spawn(self._upload(path, to, f"upload-{self._keys}"))

    async def _upload(self, path: Path, to: str | None, key: str) -> None:
        try:
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            size = 0
        self.view.transfer_started(key, f"\u2191 {path.name}", size)
        try:
            announced = await self.link.send_file(path, to, self._progress(key))
        except ChatError as error:
            self._uploaded(path, None, error)
            return
        except OSError as error:  # a file that vanished between the checks
            self._uploaded(path, None, FileRefused(f"cannot read {path}: {error}", "unreadable"))
            return
        finally:
            self.view.transfer_finished(key)
        self._uploaded(path, announced, None)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


__all__ = ["DownloadDone", "TransferView", "Transfers", "UploadDone", "download_folder"]
