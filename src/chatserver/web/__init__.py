"""The browser client's listener: the page, its files, and its WebSocket.

One port serves HTTP(S) for the page (``http_app``, on h11) and the
WebSocket that carries chatproto's frames (``websocket``), one frame per
binary message. A WebSocket connection is a ``ClientProtocol`` like a TCP one,
in the same hub under the same rules; only its framing differs. ``front``
takes each new connection, terminates TLS as the TCP listener does, and hands
it to one or the other. Files go over plain HTTP requests, authorised by the
page's session cookie (``sessions``).
"""

from .listener import WebListener

__all__ = ["WebListener"]
