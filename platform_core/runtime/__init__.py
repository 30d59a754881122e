"""The runtime: what runs beside the request path (Node frontends, servers).

Imports every earlier stage; nothing imports it, except the kinds and
commands that hand their work to it at call time::

    from platform_core.runtime.frontends import frontends
    frontends.start(spec)
"""
