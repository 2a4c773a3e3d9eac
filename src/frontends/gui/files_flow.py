"""Files: sending one, saving every one that arrives, the download folder.

Moved out of ``app.py``; each notice lands in the transcript of the
conversation the file belongs to."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from tkinter import filedialog
from typing import Any

from chatproto import FileAvailable

from . import errors_text, opener
from .conversations import Conversation, conversation_of
from .host import Host
from .i18n import _
from .lines import notice_line, shown_path
from .link import Link
from .safetext import clean
from .settings import save_settings


class FileFlow:
    def __init__(self, host: Host) -> None:
        self.host = host

    def send_file(self, where: Conversation) -> None:
        link, view = self.host.link, self.host.chat_view
        if link is None or view is None:
            return
        # Parented to our window: no stray default root ("tk") window, ever.
        path = filedialog.askopenfilename(parent=self.host.root, title=_("Send a file"))
        if not path or self.host.link is not link:
            return
        key = str(Path(path))
        view.transfers.start("upload", key, Path(path).name, 0)
        self.host.later(link.send_file(key, where), lambda f: self._upload_done(f, key, where))

    def _upload_done(self, future: Future[Any], key: str, where: Conversation) -> None:
        view = self.host.chat_view
        if view is None:
            return
        error = future.exception()
        view.transfers.finish("upload", key, Path(key).name, ok=error is None)
        if error is not None:
            view.append(where, notice_line(
                _("File not sent: {reason}").format(reason=errors_text.describe(error))))

    def download(self, link: Link, file: FileAvailable) -> None:
        view = self.host.chat_view
        assert view is not None
        folder = self.host.settings.download_folder()
        view.transfers.start("download", str(file.file_id), file.name, file.size)
        self.host.later(link.download(file, folder),
                        lambda f: self._download_done(f, file, conversation_of(file,
                                                                               link.username)))

    def _download_done(self, future: Future[Any], file: FileAvailable,
                       where: Conversation) -> None:
        view = self.host.chat_view
        if view is None:
            return
        error = future.exception()
        view.transfers.finish("download", str(file.file_id), file.name, ok=error is None)
        name = clean(file.name, single_line=True)
        if error is None:
            text = _("{name} saved as {path}").format(name=name, path=shown_path(future.result()))
            view.append(where, notice_line(text, "saved"))
        else:
            view.append(where, notice_line(_("{name} not saved: {reason}").format(
                name=name, reason=errors_text.describe(error))))

    # -- download folder ----------------------------------------------------------

    def open_folder(self) -> None:
        folder = self.host.settings.download_folder()
        problem = opener.open_folder(folder)
        if problem:
            self.host.dialog(_("Downloads"), _("Could not open {folder}: {reason}").format(
                folder=folder, reason=problem))

    def choose_folder(self) -> None:
        chosen = filedialog.askdirectory(
            parent=self.host.root, title=_("Download folder"),
            initialdir=str(self.host.settings.download_folder()), mustexist=True)
        if not chosen or self.host.chat_view is None:
            return
        self.host.settings.download_dir = chosen
        save_settings(self.host.settings, self.host.config_folder)
        self.host.chat_view.set_folder(Path(chosen))
