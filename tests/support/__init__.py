"""Helpers shared by the tests and their conftests: databases, building kefu, factories for users,
customers and work orders, the pages' forms, and real protocol peers. No fixtures and no tests here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
