"""complete_json through the real OpenAI and Anthropic SDKs, against our local server speaking their wire formats."""
import logging

import pytest
from pydantic import SecretStr

from blocks.settings import LlmProviderSettings
from tasks.errors import BadInput, Category, EngineError, NetworkError, RateLimited
from tasks.llm.client import MissingApiKey, complete_json
from tests.fakes.llm_server import KEY_PLACEHOLDER, answer, raw, status, text

KEY = "sk-test-do-not-leak-4f9c2a"
SCHEMA = {"type": "object", "properties": {"total": {"type": ["number", "null"]}}, "required": ["total"],
          "additionalProperties": False}
PROVIDERS = ["openai", "anthropic"]


def settings(server, provider: str, **fields) -> LlmProviderSettings:
    return LlmProviderSettings(provider=provider, base_url=server.base_url(provider), model="test-model",
                               **({"api_key": SecretStr(KEY)} | fields))


def ask(server, provider: str, **options) -> dict:
    return complete_json(settings(server, provider), system="Read the total.", prompt="Total: 12.50",
                         schema=SCHEMA, name="invoice_total", **({"timeout": 2.0, "backoff": 0.01} | options))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_returns_the_object_and_sends_the_schema_model_and_key(llm_server, provider):
    llm_server.script(answer({"total": 12.5}))
    assert ask(llm_server, provider) == {"total": 12.5}
    [request] = llm_server.requests
    assert request.body["model"] == "test-model" and request.credential == KEY
    if provider == "openai":
        assert request.path == "/v1/chat/completions"
        assert request.body["response_format"] == {
            "type": "json_schema", "json_schema": {"name": "invoice_total", "schema": SCHEMA, "strict": True}}
        assert [m["role"] for m in request.body["messages"]] == ["system", "user"]
    else:
        assert request.path == "/v1/messages"
        [tool] = request.body["tools"]
        assert tool["name"] == "invoice_total" and tool["input_schema"] == SCHEMA
        assert request.body["tool_choice"] == {"type": "tool", "name": "invoice_total"}
        assert request.body["system"] == "Read the total."


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rate_limit_is_retried_after_the_time_the_server_asks(llm_server, provider):
    llm_server.script(status(429, retry_after=1), answer({"total": 3}))
    assert ask(llm_server, provider) == {"total": 3}
    first, second = llm_server.requests
    assert second.at - first.at >= 0.95  # the SDK's own backoff would be at most 0.5 s


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rate_limit_that_lasts_is_a_retryable_rate_limit_error(llm_server, provider):
    llm_server.script(status(429, retry_after=0))
    with pytest.raises(RateLimited) as caught:
        ask(llm_server, provider, attempts=2)
    assert caught.value.retryable and caught.value.category == Category.rate_limit
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_server_errors_are_retried_then_a_retryable_network_error(llm_server, provider):
    llm_server.script(status(500))
    with pytest.raises(NetworkError, match="HTTP 500") as caught:
        ask(llm_server, provider, attempts=2)
    assert caught.value.retryable
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reply_slower_than_the_timeout_is_a_network_error(llm_server, provider):
    llm_server.script(answer({"total": 1}, delay=1.5))
    with pytest.raises(NetworkError, match="did not answer within 0.2s") as caught:
        ask(llm_server, provider, timeout=0.2, attempts=2)
    assert caught.value.retryable
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("bad", [raw(b'{"id": "x", "choices": [{'), text("The total is 12.50"),
                                 answer({"total": "twelve"}), answer({"sum": 12.5})],
                         ids=["body-not-json", "content-not-json", "wrong-type", "wrong-keys"])
def test_a_malformed_reply_is_asked_again_then_a_retryable_engine_error(llm_server, provider, bad):
    llm_server.script(bad)
    with pytest.raises(EngineError) as caught:
        ask(llm_server, provider, attempts=3)
    assert caught.value.retryable
    assert len(llm_server.requests) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_malformed_reply_then_a_good_one_succeeds(llm_server, provider):
    llm_server.script(raw(b"{not json"), answer({"total": 7}))
    assert ask(llm_server, provider) == {"total": 7}
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rejected_key_is_not_retried_and_never_quoted(llm_server, provider):
    llm_server.script(status(401, message=f"Incorrect API key provided: {KEY_PLACEHOLDER}"))
    with pytest.raises(BadInput, match="rejected the API key") as caught:
        ask(llm_server, provider)
    assert not caught.value.retryable
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refused_request_is_not_retried(llm_server, provider):
    llm_server.script(status(400, message="response_format is invalid"))
    with pytest.raises(EngineError, match="HTTP 400") as caught:
        ask(llm_server, provider)
    assert not caught.value.retryable
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("provider, variable", [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_without_a_key_the_error_names_the_variable_to_set(llm_server, monkeypatch, provider, variable):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(MissingApiKey, match=variable):
        complete_json(settings(llm_server, provider, api_key=None), system="", prompt="", schema=SCHEMA, name="x")
    with pytest.raises(MissingApiKey, match="DOCUFORGE_TEST_LLM_KEY"):
        complete_json(settings(llm_server, provider, api_key=None, api_key_env="DOCUFORGE_TEST_LLM_KEY"),
                      system="", prompt="", schema=SCHEMA, name="x")
    assert llm_server.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_key_comes_from_the_named_environment_variable(llm_server, monkeypatch, provider):
    monkeypatch.setenv("DOCUFORGE_TEST_LLM_KEY", "sk-from-the-environment")
    llm_server.script(answer({"total": None}))
    found = complete_json(settings(llm_server, provider, api_key=None, api_key_env="DOCUFORGE_TEST_LLM_KEY"),
                          system="", prompt="", schema=SCHEMA, name="x")
    assert found == {"total": None}
    assert llm_server.requests[0].credential == "sk-from-the-environment"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_key_never_reaches_the_logs(llm_server, caplog, provider):
    llm_server.script(status(429, retry_after=0), raw(b"{not json"), answer({"total": 1}))
    with caplog.at_level(logging.DEBUG):
        ask(llm_server, provider)
    assert len(llm_server.requests) == 3 and caplog.records
    assert KEY not in caplog.text
