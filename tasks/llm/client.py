"""Structured completions: a prompt and a JSON schema in, an object matching the schema out, from OpenAI (strict
JSON-schema response format) or Anthropic (one forced tool) through their official SDKs — or a typed error.

The SDKs retry what fails in transit (429 honouring Retry-After, 5xx, timeouts, lost connections); this module
re-asks, with backoff, when a reply arrives but is not an object matching the schema. Errors are told apart by
exception class and HTTP status, and their messages never carry the API key.
"""
from __future__ import annotations

import json
import logging
import time

import anthropic
import jsonschema
import openai

from blocks.settings import PROVIDER_DEFAULTS, LlmProviderSettings
from tasks.errors import BadInput, DocuforgeError, EngineError, NetworkError, NotFound, RateLimited, seconds

TIMEOUT = 60.0
"""Seconds one request may take."""
ATTEMPTS = 3
"""Tries per call, for failures in transit (the SDK's retries) and for malformed replies (ours), each."""
BACKOFF = 1.0
"""Seconds before re-asking after the first malformed reply; doubled each time."""
MAX_TOKENS = 4096
DETAIL_CHARS = 300
log = logging.getLogger(__name__)


class MissingApiKey(BadInput):
    """No API key is configured for the provider."""


class MalformedReply(EngineError):
    """The provider answered, but not with an object matching the schema."""

    retryable = True


def complete_json(settings: LlmProviderSettings, *, system: str, prompt: str, schema: dict, name: str,
                  timeout: float = TIMEOUT, attempts: int = ATTEMPTS, backoff: float = BACKOFF) -> dict:
    """The provider's answer to the prompt as an object matching `schema` (`name` names the schema or tool:
    letters, digits, '_' and '-')."""
    key = api_key(settings)
    ask = _ask_openai if settings.provider == "openai" else _ask_anthropic
    for attempt in range(1, attempts + 1):
        try:
            reply = ask(settings, key, system=system, prompt=prompt, schema=schema, name=name, timeout=timeout,
                        retries=attempts - 1)
            return _matching(reply, schema)
        except MalformedReply as exc:
            if attempt == attempts:
                raise
            log.warning("%s gave a malformed reply (%s); asking again (%d of %d)", settings.provider, exc,
                        attempt + 1, attempts)
            time.sleep(backoff * 2 ** (attempt - 1))
        except (openai.OpenAIError, anthropic.AnthropicError) as exc:
            raise provider_error(settings.provider, exc, key, timeout) from None  # the SDK's error may quote the key
    raise ValueError(f"attempts must be at least 1, not {attempts}")


def api_key(settings: LlmProviderSettings) -> str:
    """The provider's API key, or MissingApiKey saying which setting to fill."""
    try:
        key = settings.resolve_api_key()
    except ValueError as exc:
        raise NotFound(f"the Prefect Secret block {settings.api_key_secret!r} holding the {settings.provider} API "
                       f"key was not found") from exc
    if key is None or not key.get_secret_value():
        env = settings.api_key_env or PROVIDER_DEFAULTS[settings.provider][1]
        raise MissingApiKey(f"no {settings.provider} API key: set the {env} environment variable, or name a Prefect "
                            f"Secret block in the LLM provider block's api_key_secret")
    return key.get_secret_value()


def _ask_openai(settings: LlmProviderSettings, key: str, *, system: str, prompt: str, schema: dict, name: str,
                timeout: float, retries: int) -> object:
    with openai.OpenAI(api_key=key, base_url=settings.base_url, timeout=timeout, max_retries=retries) as client:
        completion = _sdk_reply(lambda: client.chat.completions.create(
            model=settings.model_name,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            response_format={"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}},
        ))
    choices = getattr(completion, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    if getattr(message, "refusal", None):
        raise EngineError(f"openai refused: {message.refusal[:DETAIL_CHARS]}")
    content = getattr(message, "content", None)
    if not isinstance(content, str):
        raise MalformedReply("the reply has no message content")
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"the message content is not JSON ({exc})") from None


def _ask_anthropic(settings: LlmProviderSettings, key: str, *, system: str, prompt: str, schema: dict, name: str,
                   timeout: float, retries: int) -> object:
    with anthropic.Anthropic(api_key=key, base_url=settings.base_url, timeout=timeout, max_retries=retries) as client:
        message = _sdk_reply(lambda: client.messages.create(
            model=settings.model_name,
            max_tokens=MAX_TOKENS,
            system=system,
            messages=[{"role": "user", "content": prompt}],
            tools=[{"name": name, "description": "Record the answer.", "input_schema": schema}],
            tool_choice={"type": "tool", "name": name},
        ))
    for block in getattr(message, "content", None) or []:
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == name:
            return block.input
    raise MalformedReply(f"the reply has no {name} tool call")


def _sdk_reply(call):
    """The SDK's parsed reply; a body that is not JSON at all is a malformed reply."""
    try:
        return call()
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"the response body is not JSON ({exc})") from None


def _matching(reply: object, schema: dict) -> dict:
    if not isinstance(reply, dict):
        raise MalformedReply(f"the reply is a {type(reply).__name__}, not an object")
    try:
        jsonschema.validate(reply, schema)
    except jsonschema.ValidationError as exc:
        raise MalformedReply(f"the reply does not match the schema: {exc.message[:DETAIL_CHARS]}") from None
    return reply


def provider_error(provider: str, exc: Exception, key: str, timeout: float) -> DocuforgeError:
    """The typed error for an SDK exception, chosen by its class and HTTP status. A rejected key, permission or
    unknown model is bad input (the settings must change; retrying cannot help)."""
    sdk = openai if provider == "openai" else anthropic
    detail = _without(key, getattr(exc, "message", None) or str(exc))[:DETAIL_CHARS]
    if isinstance(exc, sdk.APITimeoutError):
        return NetworkError(f"{provider} did not answer within {timeout:g}s")
    if isinstance(exc, sdk.APIConnectionError):
        return NetworkError(f"could not reach {provider}: {detail}")
    if isinstance(exc, sdk.APIResponseValidationError):
        return MalformedReply(f"{provider} sent a malformed response: {detail}")
    if not isinstance(exc, sdk.APIStatusError):
        return EngineError(f"{provider} client error: {type(exc).__name__}: {detail}")
    status = exc.status_code
    if status == 429:
        wait = exc.response.headers.get("retry-after")
        return RateLimited(f"{provider} rate limit (HTTP 429{f', retry after {wait}s' if wait else ''}): {detail}",
                           retry_after_s=seconds(wait))
    if status in (401, 403):
        return BadInput(f"{provider} rejected the API key (HTTP {status}): {detail}")
    if status == 404:
        return BadInput(f"{provider} has no such model or endpoint (HTTP 404): {detail}")
    if status >= 500:
        return NetworkError(f"{provider} service error (HTTP {status}): {detail}")
    return EngineError(f"{provider} refused the request (HTTP {status}): {detail}", retryable=status in (408, 409))


def _without(key: str, text: str) -> str:
    return text.replace(key, "***") if key else text
