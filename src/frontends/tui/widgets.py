"""The chat screen's parts: transcript, participant list, input line, transfers."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, OptionList, ProgressBar, RichLog, TextArea
from textual.widgets.option_list import Option

from chatproto import ParticipantState

from .i18n import _, participants_text
from .render import DEACTIVATED_STYLE, OWN_STYLE, name


class Transcript(RichLog):
    """The transcript: keeps its last entries and lays them out again when
    its width changes, so a resized terminal re-wraps every line."""

    MAX_ENTRIES = 2000

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, min_width=1, id=id)
        self.entries: deque[RenderableType] = deque(maxlen=self.MAX_ENTRIES)
        self._laid_out_width = 0

    def add(self, entry: RenderableType) -> None:
        self.entries.append(entry)
        # Follow new lines only when the reader is at the end, not reading back.
        following = self.scroll_offset.y >= self.max_scroll_y
        self.write(entry, expand=True, shrink=True, scroll_end=following)

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if self._laid_out_width and width and width != self._laid_out_width:
            self.clear()
            for entry in self.entries:
                self.write(entry, expand=True, shrink=True, scroll_end=True)
        if width:
            self._laid_out_width = width

    def plain_lines(self) -> list[str]:
        """The text on screen, line by line (for tests and screen readers)."""
        return [strip.text.rstrip() for strip in self.lines]


def state_label(state: ParticipantState) -> str:
    if state == ParticipantState.DEACTIVATED:
        return _("deactivated")
    return _("active")


#: Names are padded to this many cells at most, so the states line up.
NAME_CELLS = 10


class ParticipantList(Vertical):
    """Every counted user with their state (names padded by terminal cells,
    so Korean and Latin names line up), and the count; Enter or a click on a
    name addresses the next message to that user."""

    class Picked(Message):
        def __init__(self, user: str) -> None:
            super().__init__()
            self.user = user

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.me = ""
        self.states: dict[str, ParticipantState] = {}
        self.names: list[str] = []

    def compose(self):  # type: ignore[no-untyped-def]
        yield Label(Text(participants_text(0)), id="count")
        yield OptionList(id="names")

    def show(self, me: str, states: Mapping[str, ParticipantState], count: int) -> None:
        self.me = me
        self.states = dict(states)
        self.names = sorted(self.states, key=lambda n: (n != me, n.casefold()))
        self.query_one("#count", Label).update(Text(participants_text(count), style="bold"))
        # Padded to the widest name, up to a point: one long name must not
        # push every state onto a line of its own.
        width = min(max((cell_len(name(n)) for n in self.names), default=0), NAME_CELLS)
        options = []
        for user in self.names:
            state = self.states[user]
            shown = name(user)
            row = Text(shown + " " * (max(width - cell_len(shown), 0) + 1))
            if user == me:
                row.stylize(OWN_STYLE)
            row.append(state_label(state),
                       DEACTIVATED_STYLE if state == ParticipantState.DEACTIVATED else "dim")
            options.append(Option(row))
        names = self.query_one("#names", OptionList)
        highlighted = names.highlighted
        names.clear_options()
        names.add_options(options)
        if highlighted is not None and options:
            names.highlighted = min(highlighted, len(options) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.names):
            self.post_message(self.Picked(self.names[event.option_index]))

    def rows(self) -> list[tuple[str, str]]:
        """(name, state) as shown, for tests."""
        return [(n, str(self.states[n])) for n in self.names]


class Composer(TextArea):
    """The input: Enter sends, Ctrl+J (or Shift+Enter where the terminal
    tells it apart) starts a new line, Up on the first line recalls what
    was sent before and Down comes back."""

    #: Keys that start a new line instead of sending (Ctrl+J is a newline
    #: byte in every terminal; Shift+Enter only where the terminal tells it).
    NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter"})
    #: How many sent lines Up can bring back.
    MAX_RECALLED = 500

    class Submitted(Message):
        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", show_line_numbers=False,
                         id=id)
        self.sent: list[str] = []
        self._recalled = 0  # how far back Up went; 0: the draft
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if event.key in self.NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def remember(self, text: str) -> None:
        """``text`` was sent: keep it for Up, and empty the input."""
        if text and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
            del self.sent[:-self.MAX_RECALLED]
        self._recalled = 0
        self._draft = ""
        self.load_text("")

    def _recall(self, step: int) -> bool:
        target = self._recalled + step
        if not 0 <= target <= len(self.sent):
            return False
        if self._recalled == 0:
            self._draft = self.text
        self._recalled = target
        self.load_text(self._draft if target == 0 else self.sent[-target])
        self.move_cursor(self.document.end)
        return True

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0 and self._recall(+1):
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        last_row = self.document.line_count - 1
        if not select and self.cursor_location[0] == last_row and self._recall(-1):
            return
        super().action_cursor_down(select)


class TransferPanel(Vertical):
    """One progress bar per upload and download under way; hidden when none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bars: dict[str, ProgressBar] = {}
        self.display = False

    def start(self, key: str, label: str, total: int) -> None:
        bar = ProgressBar(total=total or None, show_eta=False)
        row = Horizontal(Label(Text(name(label)), classes="transfer-name"), bar,
                         classes="transfer")
        self.bars[key] = bar
        self.mount(row)
        self.display = True

    def progress(self, key: str, done: int, total: int) -> None:
        bar = self.bars.get(key)
        if bar is not None:
            bar.update(total=total or None, progress=done)

    def finish(self, key: str) -> None:
        bar = self.bars.pop(key, None)
        row = bar.parent if bar is not None else None
        if isinstance(row, Horizontal):
            row.remove()
        self.display = bool(self.bars)


__all__ = ["Composer", "ParticipantList", "TransferPanel", "Transcript", "state_label"]
