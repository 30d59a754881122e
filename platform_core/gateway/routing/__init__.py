"""Routing by prefix: the ASGI router (``router``), each service's URLconf
(``urlconfs``), the in-process transport (``inprocess``), WSGI mounts
(``wsgi_mount``) and the application that joins them (``asgi``)."""
