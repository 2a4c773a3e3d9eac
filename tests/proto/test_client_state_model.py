"""Model-based test of ClientState: sends, answers and presence in any order.

A few dicts and sets are the model: what we sent and still wait for, which
uploads are open and accepted, which fetches are open, who is here, the
highest seq. Rules register requests and feed server events in arbitrary
order: answers for ids we never used, for ids that are over, and replays
that carry one of our pending ids (an earlier session's) with other content.
Each event's outcomes must be exactly what the model predicts. Ids are small
and texts, sizes and names few, so that coincidences happen often.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chatproto import (
    ChatDelivered,
    ChatMessage,
    ChatRefused,
    ChatRejected,
    ClientState,
    Event,
    FetchData,
    FetchEnded,
    FetchRefused,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileRejected,
    HandOn,
    LoginAccepted,
    LoginComplete,
    Outcome,
    Participant,
    ParticipantList,
    ParticipantState,
    Presence,
    PresenceState,
    UploadAccepted,
    UploadCompleted,
    UploadRefused,
)

ME = "frog"
FIRST_ID = 1
ids = st.integers(0, 8)  # 0 is never ours; the rest collide with what we send
file_ids = st.integers(1, 4)
users = st.sampled_from([ME, "toad", "newt"])
texts = st.sampled_from(["hi", "yo"])
recipients = st.sampled_from([None, "toad"])
sizes = st.sampled_from([1, 2])
digests = st.sampled_from([b"\x01" * 32, b"\x02" * 32])
seqs = st.integers(0, 30)
reasons = st.sampled_from(["unknown-user", "too-large", "not-found"])
details = st.sampled_from(["", "why"])

ACTIVE, DEACTIVATED = ParticipantState.ACTIVE, ParticipantState.DEACTIVATED


class ClientStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.client = ClientState(first_client_id=FIRST_ID, first_upload_id=FIRST_ID)
        self.next_client_id = self.next_upload_id = FIRST_ID
        self.chats: dict[int, tuple[str, str | None]] = {}
        # upload id -> (size, sha256, recipient), and which were accepted
        self.uploads: dict[int, tuple[int, bytes, str | None]] = {}
        self.accepted: set[int] = set()
        self.fetches: set[int] = set()
        self.participants: dict[str, ParticipantState] = {}
        self.last_seq = 0

    def expect(self, event: Event, outcomes: list[Outcome]) -> None:
        assert list(self.client.receive(event)) == outcomes, event

    # -- the login -------------------------------------------------------------

    @initialize(
        others=st.dictionaries(st.sampled_from(["toad", "newt", "eft", "olm"]),
                               st.sampled_from([ACTIVE, DEACTIVATED])),
        first_page=st.integers(0, 5),
        page_size=st.integers(1, 3),
        last_seen_seq=seqs,
        history_end=seqs,
        reset=st.booleans(),
        transient=st.booleans(),
    )
    def log_in(self, others: dict[str, ParticipantState], first_page: int, page_size: int,
               last_seen_seq: int, history_end: int, reset: bool, transient: bool) -> None:
        """After a TransientLogin we are not in the list (docs/protocol.md 7.9): our own
        sends must be recognised all the same."""
        self.client = ClientState(last_seen_seq=last_seen_seq, first_client_id=FIRST_ID,
                                  first_upload_id=FIRST_ID)
        me = () if transient else (Participant(ME),)
        everyone = (*me, *(Participant(n, s) for n, s in others.items()))
        accepted = LoginAccepted(ME, False, False, history_end, everyone[:first_page],
                                 history_reset=reset, participant_count=len(everyone))
        pages = [everyone[i:i + page_size] for i in range(first_page, len(everyone), page_size)]
        complete = LoginAccepted(ME, False, False, history_end, everyone,
                                 history_reset=reset, participant_count=len(everyone))
        self.expect(accepted, [] if pages else [LoginComplete(complete)])
        for index, page in enumerate(pages):
            assert self.client.login is None
            last = index == len(pages) - 1
            self.expect(ParticipantList(page), [LoginComplete(complete)] if last else [])
        self.participants = {p.name: p.state for p in everyone}
        self.last_seq = 0 if reset else min(last_seen_seq, history_end)

    # -- chat --------------------------------------------------------------------

    @rule(text=texts, to=recipients)
    def send_chat(self, text: str, to: str | None) -> None:
        chat = self.client.start_chat(text, to)
        assert (chat.client_id, chat.text, chat.recipient) == (self.next_client_id, text, to)
        self.chats[chat.client_id] = (text, to)
        self.next_client_id += 1

    @rule(client_id=ids)
    def forget_chat(self, client_id: int) -> None:
        self.client.forget_chat(client_id)
        self.chats.pop(client_id, None)

    @rule(client_id=ids, sender=users, text=texts, to=recipients, seq=seqs)
    def chat_message(self, client_id: int, sender: str, text: str, to: str | None,
                     seq: int) -> None:
        event = ChatMessage(seq, 0, client_id, sender, to, text)
        self.last_seq = max(self.last_seq, seq)
        ours = sender == ME and self.chats.get(client_id) == (text, to)
        if ours:
            del self.chats[client_id]
        delivered: list[Outcome] = [ChatDelivered(client_id, event)] if ours else []
        self.expect(event, [*delivered, HandOn(event)])

    @rule(client_id=ids, reason=reasons, detail=details)
    def chat_rejected(self, client_id: int, reason: str, detail: str) -> None:
        pending = self.chats.pop(client_id, None) is not None
        self.expect(ChatRejected(client_id, reason, detail),
                    [ChatRefused(client_id, reason, detail)] if pending else [])

    # -- uploads -----------------------------------------------------------------

    @rule(size=sizes, digest=digests, to=recipients)
    def offer(self, size: int, digest: bytes, to: str | None) -> None:
        offer = self.client.start_upload("f.bin", size, digest, to)
        assert (offer.upload_id, offer.size, offer.sha256, offer.recipient) == (
            self.next_upload_id, size, digest, to)
        self.uploads[offer.upload_id] = (size, digest, to)
        self.next_upload_id += 1

    @rule(upload_id=ids)
    def forget_upload(self, upload_id: int) -> None:
        self.client.forget_upload(upload_id)
        self.uploads.pop(upload_id, None)
        self.accepted.discard(upload_id)

    @rule(upload_id=ids)
    def file_accepted(self, upload_id: int) -> None:
        fresh = upload_id in self.uploads and upload_id not in self.accepted
        if fresh:
            self.accepted.add(upload_id)
        self.expect(FileAccepted(upload_id), [UploadAccepted(upload_id)] if fresh else [])

    @rule(upload_id=ids, reason=reasons, detail=details)
    def file_rejected(self, upload_id: int, reason: str, detail: str) -> None:
        open_ = self.uploads.pop(upload_id, None) is not None
        self.accepted.discard(upload_id)
        self.expect(FileRejected(upload_id, reason, detail),
                    [UploadRefused(upload_id, reason, detail)] if open_ else [])

    @rule(upload_id=ids, sender=users, size=sizes, digest=digests, to=recipients, seq=seqs,
          name=st.sampled_from(["f.bin", "f_1.bin"]))
    def file_available(self, upload_id: int, sender: str, size: int, digest: bytes,
                       to: str | None, seq: int, name: str) -> None:
        event = FileAvailable(seq, 0, 3, sender, to, name, size, digest, upload_id)
        self.last_seq = max(self.last_seq, seq)
        ours = sender == ME and self.uploads.get(upload_id) == (size, digest, to)
        if ours:
            del self.uploads[upload_id]
            self.accepted.discard(upload_id)
        completed: list[Outcome] = [UploadCompleted(upload_id, event)] if ours else []
        self.expect(event, [*completed, HandOn(event)])

    # -- fetches -----------------------------------------------------------------

    @rule(file_id=file_ids, offset=st.integers(0, 3))
    def start_fetch(self, file_id: int, offset: int) -> None:
        if file_id in self.fetches:
            try:
                self.client.start_fetch(file_id, offset)
            except ValueError:
                return
            raise AssertionError("a second fetch of one file was allowed")
        fetch = self.client.start_fetch(file_id, offset)
        assert (fetch.file_id, fetch.offset) == (file_id, offset)
        self.fetches.add(file_id)

    @rule(file_id=file_ids)
    def forget_fetch(self, file_id: int) -> None:
        self.client.forget_fetch(file_id)
        self.fetches.discard(file_id)

    @rule(file_id=file_ids, offset=st.integers(0, 3), data=st.sampled_from([b"a", b"bc"]))
    def chunk(self, file_id: int, offset: int, data: bytes) -> None:
        routed = file_id in self.fetches
        self.expect(FileChunk(file_id, offset, data),
                    [FetchData(file_id, offset, data)] if routed else [])

    @rule(file_id=file_ids)
    def end(self, file_id: int) -> None:
        open_ = file_id in self.fetches
        self.fetches.discard(file_id)
        self.expect(FileEnd(file_id), [FetchEnded(file_id)] if open_ else [])

    @rule(file_id=file_ids, reason=reasons, detail=details)
    def fetch_rejected(self, file_id: int, reason: str, detail: str) -> None:
        open_ = file_id in self.fetches
        self.fetches.discard(file_id)
        self.expect(FetchRejected(file_id, reason, detail),
                    [FetchRefused(file_id, reason, detail)] if open_ else [])

    # -- presence ----------------------------------------------------------------

    @rule(user=users, state=st.sampled_from(PresenceState), count=st.integers(0, 9))
    def presence(self, user: str, state: PresenceState, count: int) -> None:
        before = self.client.participants
        snapshot = dict(before)
        event = Presence(user, state, count)
        self.expect(event, [HandOn(event)])
        assert before == snapshot, "the old table was changed in place"
        # The model's own reading of presence, not PARTICIPANT_STATE_OF.
        if state is PresenceState.LEFT:
            self.participants.pop(user, None)
        else:
            self.participants[user] = DEACTIVATED if state is PresenceState.DEACTIVATED else ACTIVE

    # -- what must always hold ---------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        assert self.client.pending_chat_ids == set(self.chats)
        assert self.client.open_upload_ids == set(self.uploads)
        assert self.client.open_fetch_ids == self.fetches
        assert self.client.participants == self.participants
        assert self.client.last_seq == self.last_seq
        assert self.client.username == ME


ClientStateMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClientState = ClientStateMachine.TestCase
