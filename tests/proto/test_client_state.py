"""ClientState, driven by hand: every outcome, with no socket and no clock."""

from __future__ import annotations

import pytest

from chatproto import (
    ChatDelivered,
    ChatMessage,
    ChatRefused,
    ChatRejected,
    ClientState,
    Event,
    FetchData,
    FetchEnded,
    FetchFile,
    FetchRefused,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    Goodbye,
    HandOn,
    LoginAccepted,
    LoginComplete,
    Participant,
    ParticipantList,
    ParticipantState,
    Ping,
    Presence,
    PresenceState,
    RejectReason,
    SendChat,
    UploadAccepted,
    UploadCompleted,
    UploadRefused,
    UploadTicket,
    UploadTicketed,
)

ME = "frog"
DIGEST = bytes(range(32))
ACTIVE, DEACTIVATED = ParticipantState.ACTIVE, ParticipantState.DEACTIVATED


def logged_in(last_seen_seq: int = 0, history_end: int = 10) -> ClientState:
    client = ClientState(last_seen_seq=last_seen_seq, first_client_id=100, first_upload_id=500)
    accepted = LoginAccepted(ME, False, True, history_end, (Participant(ME),))
    assert client.receive(accepted) == (LoginComplete(accepted),)
    return client


def delivery(chat: SendChat, seq: int = 11, sender: str = ME) -> ChatMessage:
    return ChatMessage(seq, 0, chat.client_id, sender, chat.recipient, chat.text)


def announcement(offer: FileOffer, seq: int = 12, sender: str = ME, file_id: int = 7,
                 upload_id: int | None = None) -> FileAvailable:
    echoed = offer.upload_id if upload_id is None else upload_id
    return FileAvailable(seq, 0, file_id, sender, offer.recipient, offer.name, offer.size,
                         offer.sha256, echoed)


# -- the login -----------------------------------------------------------------


def test_a_login_in_one_frame_completes_at_once() -> None:
    client = ClientState(last_seen_seq=4)
    everyone = (Participant(ME), Participant("toad", DEACTIVATED))
    accepted = LoginAccepted(ME, True, False, 9, everyone, epoch=3)
    assert client.receive(accepted) == (LoginComplete(accepted),)
    assert client.login == accepted and client.username == ME
    assert client.participants == {ME: ACTIVE, "toad": DEACTIVATED}
    assert client.last_seq == 4, "resumes from what was seen, not from the server's end"


def test_the_login_waits_for_every_page_of_the_participant_list() -> None:
    client = ClientState()
    everyone = tuple(Participant(f"user{i}") for i in range(5))
    accepted = LoginAccepted(ME, True, False, 0, everyone[:2], participant_count=5)
    assert client.receive(accepted) == ()
    assert client.login is None and client.participants == {}
    assert client.receive(ParticipantList(everyone[2:4])) == ()
    (done,) = client.receive(ParticipantList(everyone[4:]))
    assert done == LoginComplete(LoginAccepted(ME, True, False, 0, everyone, participant_count=5))
    assert client.login == done.accepted
    assert client.participants == {p.name: ACTIVE for p in everyone}


def test_resuming_takes_the_lower_of_ours_and_the_servers_and_a_reset_starts_over() -> None:
    assert logged_in(last_seen_seq=50, history_end=10).last_seq == 10
    client = ClientState(last_seen_seq=50)
    client.receive(LoginAccepted(ME, False, True, 80, (Participant(ME),), history_reset=True))
    assert client.last_seq == 0


def test_pages_without_a_login_and_a_second_login_mean_nothing() -> None:
    client = ClientState()
    assert client.receive(ParticipantList((Participant("toad"),))) == ()
    assert client.login is None
    client = logged_in()
    assert client.receive(LoginAccepted("other", False, False, 0)) == ()
    assert client.receive(ParticipantList((Participant("toad"),))) == ()
    assert client.username == ME and client.participants == {ME: ACTIVE}


# -- chat ----------------------------------------------------------------------


def test_our_delivered_message_completes_the_send_then_is_handed_on() -> None:
    client = logged_in()
    chat = client.start_chat("hello", "toad")
    assert chat == SendChat("hello", "toad", 100)
    assert client.start_chat("again").client_id == 101, "ids count up from the first"
    message = delivery(chat)
    assert client.receive(message) == (ChatDelivered(100, message), HandOn(message))
    assert 100 not in client.pending_chat_ids
    assert client.receive(message) == (HandOn(message),), "a repeat completes nothing"
    assert client.last_seq == 11


def test_a_replayed_message_with_our_id_but_other_text_leaves_the_send_pending() -> None:
    client = logged_in()
    chat = client.start_chat("hello")
    for replay in (
        ChatMessage(3, 0, chat.client_id, ME, None, "from an earlier session"),
        ChatMessage(4, 0, chat.client_id, ME, "toad", "hello"),
        ChatMessage(5, 0, chat.client_id, "toad", None, "hello"),
    ):
        assert client.receive(replay) == (HandOn(replay),)
    assert client.pending_chat_ids == {chat.client_id}


def test_a_refused_send_is_refused_once() -> None:
    client = logged_in()
    chat = client.start_chat("hi", "nobody")
    rejection = ChatRejected(chat.client_id, RejectReason.UNKNOWN_USER, "no such user")
    (refused,) = client.receive(rejection)
    assert refused == ChatRefused(chat.client_id, "unknown-user", "no such user")
    assert refused.describe() == "unknown-user (no such user)"
    assert ChatRefused(1, "rate-limited").describe() == "rate-limited"
    assert client.receive(rejection) == ()
    assert client.receive(delivery(chat)) == (HandOn(delivery(chat)),)


def test_a_forgotten_send_is_not_completed_and_unknown_ids_are_ignored() -> None:
    client = logged_in()
    chat = client.start_chat("hi")
    client.forget_chat(chat.client_id)
    client.forget_chat(999)  # harmless
    assert client.receive(delivery(chat)) == (HandOn(delivery(chat)),)
    assert client.receive(ChatRejected(12345, "rate-limited")) == ()


# -- uploads -------------------------------------------------------------------


def test_an_upload_is_accepted_then_completed_by_our_own_announcement() -> None:
    client = logged_in()
    offer = client.start_upload("notes.txt", 3, DIGEST, "toad")
    assert offer == FileOffer(500, "notes.txt", 3, DIGEST, "toad")
    assert client.receive(FileAccepted(500)) == (UploadAccepted(500),)
    assert client.receive(FileAccepted(500)) == (), "accepted once"
    # The server may clean the name up: it is not part of the match.
    available = announcement(offer)
    renamed = FileAvailable(12, 0, 7, ME, "toad", "notes_1.txt", 3, DIGEST, 500)
    assert client.receive(renamed) == (UploadCompleted(500, renamed), HandOn(renamed))
    assert client.open_upload_ids == frozenset()
    assert client.receive(available) == (HandOn(available),)
    assert client.receive(FileRejected(500, "server-error")) == (), "over: not ours any more"
    assert client.last_seq == 12


def test_announcements_that_are_not_our_upload_are_only_handed_on() -> None:
    client = logged_in()
    offer = client.start_upload("a.bin", 10, DIGEST)
    others = [
        announcement(offer, sender="toad"),
        announcement(offer, upload_id=0),  # a replay: the echo is 0
        FileAvailable(12, 0, 7, ME, None, "a.bin", 11, DIGEST, offer.upload_id),
        FileAvailable(12, 0, 7, ME, None, "a.bin", 10, bytes(32), offer.upload_id),
        FileAvailable(12, 0, 7, ME, "toad", "a.bin", 10, DIGEST, offer.upload_id),
    ]
    for other in others:
        assert client.receive(other) == (HandOn(other),)
    assert client.open_upload_ids == {offer.upload_id}


def test_a_refused_upload_is_over_before_or_after_acceptance() -> None:
    client = logged_in()
    early = client.start_upload("big.iso", 10, DIGEST)
    (refused,) = client.receive(FileRejected(early.upload_id, RejectReason.TOO_LARGE))
    assert refused == UploadRefused(early.upload_id, "too-large")
    assert refused.describe() == "too-large"
    assert client.receive(FileAccepted(early.upload_id)) == ()
    late = client.start_upload("b.bin", 10, DIGEST)
    client.receive(FileAccepted(late.upload_id))
    assert client.receive(FileRejected(late.upload_id, "storage-full", "disk full")) == (
        UploadRefused(late.upload_id, "storage-full", "disk full"),
    )
    assert client.open_upload_ids == frozenset()
    assert client.receive(FileRejected(4242, "too-large")) == ()


def test_the_ticket_of_an_accepted_upload_is_handed_on_with_its_token() -> None:
    client = logged_in()
    offer = client.start_upload("d.bin", 10, DIGEST)
    token = bytes(range(100, 132))
    assert client.receive(UploadTicket(offer.upload_id, token, 60_000)) == (), "not accepted yet"
    client.receive(FileAccepted(offer.upload_id))
    (ticketed,) = client.receive(UploadTicket(offer.upload_id, token, 2**32 - 1))
    assert ticketed == UploadTicketed(offer.upload_id, token, 2**32 - 1)
    assert token.hex() not in repr(ticketed), "a token is kept out of logs"
    assert client.open_upload_ids == {offer.upload_id}, "the ticket closes nothing"
    assert client.receive(UploadTicket(4242, token, 1)) == (), "not our upload"
    client.receive(FileRejected(offer.upload_id, "checksum-mismatch"))
    assert client.receive(UploadTicket(offer.upload_id, token, 1)) == (), "over"


def test_a_forgotten_upload_gets_no_more_answers() -> None:
    client = logged_in()
    offer = client.start_upload("c.bin", 10, DIGEST)
    client.forget_upload(offer.upload_id)
    assert client.receive(FileAccepted(offer.upload_id)) == ()
    assert client.receive(announcement(offer)) == (HandOn(announcement(offer)),)


# -- fetches -------------------------------------------------------------------


def test_a_fetch_routes_its_chunks_until_its_end() -> None:
    client = logged_in()
    assert client.start_fetch(7, 4) == FetchFile(7, 4)
    assert client.receive(FileChunk(7, 4, b"abcd")) == (FetchData(7, 4, b"abcd"),)
    assert client.receive(FileChunk(8, 0, b"x")) == (), "a file we did not ask for"
    assert client.receive(FileEnd(7)) == (FetchEnded(7),)
    assert client.open_fetch_ids == frozenset()
    assert client.receive(FileChunk(7, 8, b"late")) == ()
    assert client.receive(FileEnd(7)) == ()


def test_a_refused_fetch_is_over() -> None:
    client = logged_in()
    client.start_fetch(9)
    (refused,) = client.receive(FetchRejected(9, RejectReason.NOT_FOUND, "gone"))
    assert refused == FetchRefused(9, "not-found", "gone")
    assert refused.describe() == "not-found (gone)"
    assert client.receive(FetchRejected(9, "not-found")) == ()
    assert client.start_fetch(9) == FetchFile(9), "the file may be fetched again"


def test_one_fetch_per_file_at_a_time_and_a_forgotten_one_is_closed() -> None:
    client = logged_in()
    client.start_fetch(7)
    with pytest.raises(ValueError, match="already being fetched"):
        client.start_fetch(7)
    client.forget_fetch(7)
    client.forget_fetch(7)
    assert client.receive(FileChunk(7, 0, b"x")) == ()
    assert client.start_fetch(7) == FetchFile(7)


# -- presence and the rest -----------------------------------------------------


def test_presence_updates_a_new_table_and_is_handed_on() -> None:
    client = logged_in()
    before = client.participants
    joined = Presence("toad", PresenceState.JOINED, 2)
    assert client.receive(joined) == (HandOn(joined),)
    assert client.participants == {ME: ACTIVE, "toad": ACTIVE}
    assert before == {ME: ACTIVE}, "the table is replaced, never changed in place"
    client.receive(Presence("toad", PresenceState.DEACTIVATED, 2))
    assert client.participants["toad"] is DEACTIVATED
    client.receive(Presence("toad", PresenceState.REJOINED, 2))
    assert client.participants["toad"] is ACTIVE
    client.receive(Presence("toad", PresenceState.LEFT, 1))
    client.receive(Presence("ghost", PresenceState.LEFT, 1))
    assert client.participants == {ME: ACTIVE}


@pytest.mark.parametrize("event", [Ping(3), Goodbye("bye"), FileOffer(1, "x", 1, DIGEST)])
def test_events_that_are_the_adapters_business_give_no_outcome(event: Event) -> None:
    assert logged_in().receive(event) == ()


def test_the_first_ids_are_random_unless_given() -> None:
    firsts = {ClientState().start_chat("x").client_id for _ in range(20)}
    assert len(firsts) > 1 and all(0 < first <= 2**31 for first in firsts)
    uploads = {ClientState().start_upload("x", 1, DIGEST).upload_id for _ in range(20)}
    assert len(uploads) > 1
