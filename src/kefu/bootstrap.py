"""Builds the engine, the unit of work, the clock and the service context once per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import Engine

from kefu import i18n
from kefu.adapters.data_protection import DataKeys, hash_key
from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.uow import UnitOfWorkFactory
from kefu.adapters.holidays import ChineseWorkdays
from kefu.adapters.passwords import Argon2PasswordHasher
from kefu.adapters.ratelimits import build_limiter
from kefu.adapters.sealing import AesGcmSealer
from kefu.config import Settings
from kefu.domain.clock import Clock, SystemClock
from kefu.domain.notifications import QuietHours
from kefu.services.access.lockout import LockoutPolicy
from kefu.services.context import AccountRules, Context
from kefu.services.ports import PasswordHasher, Sender
from kefu.services.ratelimits import RateLimits, rates


@dataclass
class Kefu:
    settings: Settings
    engine: Engine
    ctx: Context
    keys: DataKeys  # what encrypts personal data at rest (the bulk loader needs it too)


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    hasher: PasswordHasher | None = None,
) -> Kefu:
    """`hasher` defaults to argon2; the tests pass a cheap one, as argon2's cost is meant to be felt."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.db_pool_size)
    keys = DataKeys(settings.data_key_list(), hash_key=hash_key(settings.secret_key))
    ctx = Context(
        uow=UnitOfWorkFactory(engine, keys),
        clock=clock or SystemClock(),
        hasher=hasher or Argon2PasswordHasher(),
        codes=keys,
        sealer=AesGcmSealer(settings.secret_key),
        timezone=settings.tz,
        reopen_window=timedelta(days=settings.reopen_window_days),
        checkin_early=timedelta(minutes=settings.checkin_early_minutes),
        accounts=AccountRules(
            session_lifetime=timedelta(hours=settings.session_hours),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            token_lifetime=timedelta(days=settings.token_days),
            token_max_lifetime=timedelta(days=settings.token_max_days),
            password_min_length=settings.password_min_length,
            password_reset_lifetime=timedelta(hours=settings.password_reset_hours),
            two_factor_roles=settings.two_factor_roles,
        ),
        cache_ttl=timedelta(seconds=settings.cache_seconds),
        day_types=ChineseWorkdays(),
        quiet_hours=QuietHours(*quiet, settings.tz) if (quiet := settings.quiet()) else None,
        senders=senders(settings),
        gettext=partial(i18n.gettext, i18n.DEFAULT_LOCALE),
        portal_url=settings.portal_url.rstrip("/"),
        max_attachment_bytes=settings.mail_max_attachment_mb * 2**20,
        rate_limits=RateLimits(
            limiter=build_limiter(settings.rate_limit_storage, redis_url=settings.redis_url, engine=engine),
            rates=rates(settings.rate_limits),
        ),
        lockout=LockoutPolicy(
            account_failures=settings.lockout_account_failures,
            address_failures=settings.lockout_address_failures,
            first_lock=timedelta(seconds=settings.lockout_seconds),
            longest_lock=timedelta(seconds=max(settings.lockout_seconds, settings.lockout_max_seconds)),
        ),
    )
    return Kefu(settings=settings, engine=engine, ctx=ctx, keys=keys)


def senders(settings: Settings) -> dict[str, Sender]:
    """The channel adapters for messages to customers that the settings configure."""
    from kefu.adapters.channels.mail import SmtpSender
    from kefu.adapters.channels.sms import HttpSmsGateway, SmppGateway
    from kefu.adapters.channels.wechat import WechatSender

    found: dict[str, Sender] = {}
    if settings.sms_gateway.startswith(("http://", "https://")):
        found["sms"] = HttpSmsGateway(settings.sms_gateway, settings.sms_secret, sender_id=settings.sms_sender_id)
    elif settings.sms_gateway.startswith("smpp://"):
        found["sms"] = SmppGateway(settings.sms_gateway, sender_id=settings.sms_sender_id)
    if settings.smtp_url:
        found["email"] = SmtpSender(settings.smtp_url, sender=settings.mail_from)
    if settings.wechat_app_id and settings.wechat_app_secret:
        found["wechat"] = WechatSender(settings.wechat_api_url, settings.wechat_app_id, settings.wechat_app_secret)
    return found
