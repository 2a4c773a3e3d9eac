"""Files: uploads received and stored (``uploads``), stored files streamed to
fetchers (``fetches``), and one connection's transfers of both (``transfers``)."""
