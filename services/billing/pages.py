"""The pages Stripe Checkout sends people back to, and the web routes of billing."""

from __future__ import annotations

from aiohttp import web

from services.billing.webhook import StripeWebhook

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Marquee: {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>
</head><body><h1>{title}</h1><p>{text}</p><p>You can close this tab and go back to Discord.</p></body></html>
"""


def _page(title: str, text: str) -> web.Response:
    return web.Response(
        text=_PAGE.format(title=title, text=text),
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"},
    )


async def success(request: web.Request) -> web.Response:
    # Nothing is granted here: Pro comes from Stripe's signed webhook, so this page can't be faked into it.
    return _page("Thank you!", "Your payment went through. Marquee will DM you as soon as Pro is on (usually seconds).")


async def cancel(request: web.Request) -> web.Response:
    return _page(
        "No charge made", "You left the checkout, so nothing was charged. Run /upgrade again whenever you like."
    )


def add_billing_routes(app: web.Application, webhook: StripeWebhook | None) -> None:
    app.router.add_get("/billing/success", success)
    app.router.add_get("/billing/cancel", cancel)
    if webhook is not None:
        app.router.add_post("/webhooks/stripe", webhook.handle)
        app.on_shutdown.append(webhook.drain)
