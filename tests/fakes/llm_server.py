"""A local HTTP server speaking the OpenAI (`POST /v1/chat/completions`) and Anthropic (`POST /v1/messages`) wire
formats, so tests run the real SDKs against it.

Tests script its replies (a queue; the last one repeats) and read the requests it received. A reply is written
provider-neutrally — an answer object, a text, a status, a raw body — and rendered in the format of the path asked.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import BaseModel, Field

PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
ERROR_TYPES = {
    "openai": {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded", 500: "server_error"},
    "anthropic": {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
                  500: "api_error"},
}
KEY_PLACEHOLDER = "{key}"
"""Written in an error message, replaced by the credential the request carried (as some providers echo it)."""


class Reply(BaseModel):
    status: int = 200
    answer: dict | None = Field(None, description="The structured answer: JSON message content, or a tool call")
    text: str | None = Field(None, description="Plain text content instead of the answer")
    body: bytes | None = Field(None, description="The raw response body instead of a rendered one")
    message: str = "scripted error"
    headers: dict[str, str] = Field(default_factory=dict)
    delay: float = Field(0.0, description="Seconds to wait before replying")


def answer(data: dict, delay: float = 0.0) -> Reply:
    return Reply(answer=data, delay=delay)


def text(content: str) -> Reply:
    return Reply(text=content)


def status(code: int, retry_after: float | None = None, message: str = "scripted error") -> Reply:
    headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
    return Reply(status=code, headers=headers, message=message)


def raw(body: bytes) -> Reply:
    return Reply(body=body, headers={"content-type": "application/json"})


class Received(BaseModel):
    path: str
    headers: dict[str, str]
    body: dict | None
    at: float

    @property
    def credential(self) -> str:
        return self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix("Bearer ")


class FakeLlmServer:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._replies: deque[Reply] = deque([Reply(status=500, message="no reply scripted")])
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, provider: str) -> str:
        """The base_url each SDK takes: OpenAI's includes the /v1, Anthropic's does not."""
        return f"{self.url}/v1" if provider == "openai" else self.url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = deque(replies)

    def start(self) -> FakeLlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if len(self._replies) > 1 else self._replies[0]


def render(provider: str, reply: Reply, request: Received) -> tuple[bytes, dict[str, str]]:
    """The reply's body and headers in the provider's wire format."""
    headers = {"content-type": "application/json", **reply.headers}
    if reply.body is not None:
        return reply.body, headers
    if reply.status >= 400:
        message = reply.message.replace(KEY_PLACEHOLDER, request.credential)
        kind = ERROR_TYPES[provider].get(reply.status, "api_error")
        error = ({"error": {"message": message, "type": kind, "param": None, "code": kind}} if provider == "openai"
                 else {"type": "error", "error": {"type": kind, "message": message}})
        return json.dumps(error).encode(), headers
    model = (request.body or {}).get("model", "")
    serial = uuid.uuid4().hex
    if provider == "openai":
        content = json.dumps(reply.answer) if reply.answer is not None else reply.text
        body = {"id": f"chatcmpl-fake{serial}", "object": "chat.completion", "created": int(request.at),
                "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                                     "refusal": None},
                                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
    else:
        tool = (request.body or {}).get("tool_choice", {}).get("name", "answer")
        content = ([{"type": "tool_use", "id": f"toolu_fake{serial}", "name": tool, "input": reply.answer}]
                   if reply.answer is not None else [{"type": "text", "text": reply.text}])
        body = {"id": f"msg_fake{serial}", "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": "tool_use" if reply.answer is not None else "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 10}}
    return json.dumps(body).encode(), headers


def _handler(server: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                body = json.loads(data)
            except ValueError:
                body = None
            request = Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                               at=time.time())
            server.requests.append(request)
            provider = PATHS.get(self.path)
            if provider is None:
                self._send(404, b'{"error": {"message": "no such path"}}', {"content-type": "application/json"})
                return
            reply = server.next_reply()
            time.sleep(reply.delay)
            self._send(reply.status, *render(provider, reply, request))

        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def llm_server():
    server = FakeLlmServer().start()
    yield server
    server.stop()
