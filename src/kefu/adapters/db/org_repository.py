"""Storage of organisations and their teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from kefu.adapters.db.tables import organisations, teams
from kefu.domain.org import Organisation, OrganisationKind, Team, TeamFunction


def _organisation(r: Any) -> Organisation:
    return Organisation(id=r.id, name=r.name, kind=OrganisationKind(r.kind), parent_id=r.parent_id, region=r.region)


class SqlOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_organisation(self, org: Organisation) -> Organisation:
        org.id = self.conn.execute(
            insert(organisations)
            .values(name=org.name, kind=org.kind.value, parent_id=org.parent_id, region=org.region)
            .returning(organisations.c.id)
        ).scalar_one()
        return org

    def add_team(self, team: Team) -> Team:
        team.id = self.conn.execute(
            insert(teams)
            .values(organisation_id=team.organisation_id, name=team.name, function=team.function.value)
            .returning(teams.c.id)
        ).scalar_one()
        return team

    def organisations(self) -> list[Organisation]:
        return [_organisation(r) for r in self.conn.execute(select(organisations).order_by(organisations.c.id))]

    @staticmethod
    def _team(r: Any) -> Team:
        return Team(id=r.id, organisation_id=r.organisation_id, name=r.name, function=TeamFunction(r.function))

    def teams(self) -> list[Team]:
        return [self._team(r) for r in self.conn.execute(select(teams).order_by(teams.c.id))]

    def get_team(self, team_id: int) -> Team | None:
        row = self.conn.execute(select(teams).where(teams.c.id == team_id)).first()
        return self._team(row) if row else None

    def get_organisation(self, organisation_id: int) -> Organisation | None:
        row = self.conn.execute(select(organisations).where(organisations.c.id == organisation_id)).first()
        return _organisation(row) if row else None
