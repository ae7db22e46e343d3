"""Verdict evidence into the Allure report: one place that decides how evidence looks.

Every attachment is redacted first (docs/architecture.md rule 6). allure-python-commons is used
directly (not pytest): outside an Allure run its calls do nothing.
"""

from __future__ import annotations

from typing import Any

import allure
from allure_commons.types import AttachmentType

from shiftgate.redact import redact
from shiftgate.verdict import Attachment, Verdict

_TYPES: dict[str, Any] = {
    "text": AttachmentType.TEXT,
    "json": AttachmentType.JSON,
    "sql": AttachmentType.TEXT,
    "yaml": AttachmentType.YAML,
    "csv": AttachmentType.CSV,
    "png": AttachmentType.PNG,
    "html": AttachmentType.HTML,
}


def attach(attachment: Attachment) -> None:
    body = attachment.body
    if isinstance(body, str):
        body = redact(body)
    allure.attach(body, name=attachment.name, attachment_type=_TYPES[attachment.kind])


def attach_evidence(verdict: Verdict) -> None:
    summary = verdict.message()
    allure.attach(summary, name="verdict", attachment_type=AttachmentType.TEXT)
    for attachment in verdict.attachments:
        attach(attachment)
