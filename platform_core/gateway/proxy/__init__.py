"""Reverse proxies: HTTP (``http``), websockets (``websocket``), what both
forward and rewrite (``forwarding``) and a gateway's upstreams (``upstreams``)."""
