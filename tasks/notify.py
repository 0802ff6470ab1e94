"""Telling a person when Docuforge gives up on a job (seed §7: notify on failure), through the Prefect notification
block `docuforge init --notify-url` saves: a Custom Webhook whose URL is kept among the block's secrets (Slack,
Teams or e-mail webhooks work the same way)."""
from __future__ import annotations

from urllib.parse import urlsplit

from prefect.blocks.notifications import CustomWebhookNotificationBlock

from blocks.loading import load_block
from blocks.settings import NOTIFY_BLOCK


def webhook_block(url: str) -> CustomWebhookNotificationBlock:
    """A Custom Webhook that POSTs {"subject", "text"} as JSON to `url`; the URL (often a token) is a secret."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("the notification URL must be an http(s) URL")
    return CustomWebhookNotificationBlock(name=NOTIFY_BLOCK, url="{{webhook_url}}", secrets={"webhook_url": url},
                                          json_data={"subject": "{{subject}}", "text": "{{body}}"})


def notify(subject: str, body: str) -> str:
    """Send through the saved notification block; what happened, in words (never the URL)."""
    block = load_block(CustomWebhookNotificationBlock, NOTIFY_BLOCK)
    if block is None:
        return f"no notification sent: no {NOTIFY_BLOCK} block (docuforge init --notify-url URL saves one)"
    try:
        block.notify(body, subject)
    except Exception as exc:  # a failed notification must not fail the recovery run that reports the failure
        return f"the notification could not be sent ({type(exc).__name__})"
    return f"notification sent through the {NOTIFY_BLOCK} block"
