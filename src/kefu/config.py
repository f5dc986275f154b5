"""Settings: one typed class, the only reader of the environment (prefix KEFU_)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.domain.org import Role

DEV_SECRET = "development-only-secret-change-me-0123456789"  # noqa: S105 - refused in production
#: The data key used when KEFU_DATA_KEYS is empty outside production (refused in production).
DEV_DATA_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"kefu development data key").digest()).decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/kefu.db"
    secret_key: str = DEV_SECRET
    #: The keys that encrypt ID numbers and one-time codes at rest (AES-256-GCM): base64 of 32 random
    #: bytes each, comma-separated, newest first; older keys still decrypt what they encrypted until
    #: `kefu keys rotate` re-encrypts it with the newest. `kefu keys new` prints a fresh key.
    #: Empty: a development key, refused in production.
    data_keys: str = ""
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    reopen_window_days: int = Field(default=30, ge=0, le=3650)
    #: Demo mode (`make run`): the login page lists the demo people and their password. Never in production.
    demo: bool = False
    #: How long before the booked slot an engineer may check in on site (earlier is refused).
    checkin_early_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    # --- accounts (R32) ---
    #: A page session ends this long after logging in (absolute) ...
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    #: ... or after this long without a request (idle).
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: API tokens live this long unless their creator asks for less, and never longer than the maximum.
    token_days: int = Field(default=90, ge=1, le=3650)
    token_max_days: int = Field(default=365, ge=1, le=3650)
    #: Roles that must use a second factor (TOTP) to log in to the pages, comma-separated ("" for none).
    require_2fa_roles: str = "admin,supervisor"
    password_min_length: int = Field(default=12, ge=8, le=64)
    #: How long a password-reset code an administrator hands out stays valid.
    password_reset_hours: int = Field(default=24, ge=1, le=24 * 7)
    cache_seconds: int = Field(default=30, ge=0, le=600)
    #: Local hours in which notifications that are not urgent wait ("" for none); a P1 breach always goes out.
    quiet_hours: str = Field(default="22:00-08:00", pattern=r"^$|^\d{2}:\d{2}-\d{2}:\d{2}$")
    #: Run the SLA timers and the outbox inside `kefu serve` (the default for the embedded SQLite set-up).
    embedded_worker: bool = True
    worker_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    host: str = "127.0.0.1"
    port: int = 8000
    # --- channels ---
    #: Shared secret of the SMS gateway's webhook (HMAC-SHA256 of the body); empty: the webhook refuses all.
    sms_secret: str = ""
    #: Where SMS go out: http(s)://… (an HTTP gateway, signed with sms_secret) or smpp://id:password@host:port.
    sms_gateway: str = ""
    sms_sender_id: str = "10086"
    #: The token set in the WeChat official account's server configuration; empty: the endpoint refuses all.
    wechat_token: str = ""
    #: Outgoing mail: smtp://host:25 or smtps://user:password@host:465; empty: no e-mail goes out.
    smtp_url: str = ""
    mail_from: str = "kefu@localhost"
    #: Where `kefu mail-receiver` listens for the centre's inbound mail (host:port).
    mail_receiver: str = "127.0.0.1:2525"
    mail_max_attachment_mb: int = Field(default=10, ge=1, le=100)
    #: `kefu mail-poller`: the IMAP mailbox the centre's mail arrives in (empty host: no polling).
    imap_host: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    #: "ssl" (IMAPS, port 993), "starttls" (port 143, upgraded) or "none" (only on a trusted loopback).
    imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    #: Where taken mail is moved (e.g. "kefu-done"); empty: it stays and is marked seen.
    imap_done_folder: str = ""
    #: Without IDLE, how often the mailbox is looked at; with IDLE, how long one IDLE lasts at most.
    imap_poll_seconds: int = Field(default=60, ge=1, le=1740)
    #: The self-service portal's public address, for links in messages to customers.
    portal_url: str = "http://127.0.0.1:8000/portal"
    #: WeChat's message security mode: "plain" (明文) or "safe" (安全模式: AES-encrypted messages
    #: signed over the body with msg_signature; needs wechat_aes_key and wechat_app_id).
    wechat_mode: Literal["plain", "safe"] = "plain"
    #: The EncodingAESKey (43 characters) of the official account's server configuration.
    wechat_aes_key: str = Field(default="", pattern=r"^$|^[A-Za-z0-9+/]{43}$")
    wechat_app_id: str = ""
    #: The official account's AppSecret: with wechat_app_id, messages to WeChat customers go out
    #: through the customer-service API at wechat_api_url (else they cannot be sent).
    wechat_app_secret: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    #: How far a push's timestamp may be from now, either way (both modes); a nonce is refused when
    #: seen again within twice this time.
    wechat_window_seconds: int = Field(default=300, ge=30, le=3600)
    # --- the edge: rate limits, login lockout, body sizes ---
    #: Redis shared by several server processes (redis://127.0.0.1:6379/0), for the rate-limit counts.
    redis_url: str = ""
    #: Where the rate-limit counts live: auto = Redis when redis_url is set, else the database on
    #: PostgreSQL (several processes), else this process's memory (SQLite: one process).
    rate_limit_storage: Literal["auto", "memory", "database", "redis"] = "auto"
    #: Limits that differ from kefu.services.ratelimits.DEFAULTS, e.g. {"login.address": "5/minute"}.
    rate_limits: dict[str, str] = Field(default_factory=dict)
    #: Failed logins on one username before it is locked, and from one address before it is.
    lockout_account_failures: int = Field(default=5, ge=1, le=1000)
    lockout_address_failures: int = Field(default=50, ge=1, le=10_000)
    #: The first lock's length; each further failure while counting doubles it, up to the maximum.
    lockout_seconds: int = Field(default=60, ge=1, le=86_400)
    lockout_max_seconds: int = Field(default=3600, ge=1, le=7 * 86_400)
    #: The largest request body any endpoint reads, and the one endpoints without an account read
    #: (login, portal, webhooks); larger ones are refused with 413 before they are read.
    max_body_kb: int = Field(default=1024, ge=1, le=1024 * 1024)
    max_public_body_kb: int = Field(default=64, ge=1, le=1024 * 1024)

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        self.two_factor_roles  # noqa: B018 - raises for an unknown role
        if self.token_days > self.token_max_days:
            raise ValueError("KEFU_TOKEN_DAYS must not exceed KEFU_TOKEN_MAX_DAYS")
        if self.wechat_mode == "safe" and not (self.wechat_aes_key and self.wechat_app_id):
            raise ValueError("KEFU_WECHAT_MODE=safe needs KEFU_WECHAT_AES_KEY (43 characters) and KEFU_WECHAT_APP_ID")
        if self.rate_limit_storage == "redis" and not self.redis_url:
            raise ValueError("KEFU_RATE_LIMIT_STORAGE=redis needs KEFU_REDIS_URL")
        if self.environment == "production":
            if self.demo:
                raise ValueError("KEFU_DEMO shows the demo people's password on the login page: not in production")
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "KEFU_SECRET_KEY must be set to a random value of at least 32 characters in production"
                )
            if self.rate_limit_storage == "memory" and not self.database_url.startswith("sqlite"):
                raise ValueError(
                    "production on PostgreSQL runs several processes: rate limits must be shared "
                    "(KEFU_RATE_LIMIT_STORAGE=auto, database or redis)"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs PostgreSQL: set KEFU_DATABASE_URL=postgresql+psycopg://...")
            if not self.data_keys.strip() or DEV_DATA_KEY in self.data_keys:
                raise ValueError(
                    "KEFU_DATA_KEYS must hold the key(s) that encrypt ID numbers in production "
                    "(make one with `kefu keys new`)"
                )
        self.data_key_list()  # raises for a key that is not 32 bytes of base64
        return self

    def data_key_list(self) -> list[bytes]:
        """The data keys, newest first (the development key when none are set outside production)."""
        given = [part.strip() for part in self.data_keys.split(",") if part.strip()]
        keys = []
        for n, text in enumerate(given or [DEV_DATA_KEY], start=1):
            try:
                key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != 32:
                raise ValueError(f"KEFU_DATA_KEYS: key {n} is not 32 bytes in base64 (make one with `kefu keys new`)")
            keys.append(key)
        return keys

    def quiet(self) -> tuple[time, time] | None:
        if not self.quiet_hours:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    @property
    def two_factor_roles(self) -> frozenset[Role]:
        names = [name.strip() for name in self.require_2fa_roles.split(",") if name.strip()]
        if unknown := [name for name in names if name not in Role.__members__.values()]:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"KEFU_REQUIRE_2FA_ROLES: unknown role {', '.join(unknown)} (roles: {known})")
        return frozenset(Role(name) for name in names)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def cookie_secure(self) -> bool:
        return self.production
