"""Replying to the customer from the work-order page (issue #12): the reply form's target and
click-to-call. The page itself is the work-order page (`kit.detail_page`, template detail.html)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kefu.services import replies
from kefu.services.channels import cti
from kefu.web.kit import form_version, locale_of, page_user, run_work_order_action

router = APIRouter(include_in_schema=False)


@router.post("/ui/work-orders/{number}/replies")
def reply(
    request: Request,
    number: str,
    channel: str = Form(""),
    canned: str = Form(""),
    body: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Reply to the customer (issue #12): queued now, delivered by the worker after commit."""
    user = page_user(request)
    return run_work_order_action(
        request,
        user,
        number,
        csrf,
        lambda ctx: replies.send_reply(
            ctx,
            user,
            number,
            channel=channel or None,
            body=body,
            canned=canned or None,
            locale=locale_of(request),
            expected_version=form_version(version),
        ),
        anchor="#reply",
    )


@router.post("/ui/work-orders/{number}/call")
def call(request: Request, number: str, csrf: str = Form("")) -> Response:
    """Click-to-call: the call-centre platform dials the customer; kefu records the outbound call."""
    user = page_user(request)
    return run_work_order_action(
        request, user, number, csrf, lambda ctx: cti.call_customer(ctx, user, number), anchor="#timeline"
    )
