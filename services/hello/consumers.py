"""An echo websocket, served at /hello/ws/echo."""

from channels.generic.websocket import JsonWebsocketConsumer


class EchoConsumer(JsonWebsocketConsumer):
    """Answer every JSON message with {"echo": message}."""

    def receive_json(self, content, **kwargs):
        self.send_json({"echo": content})
